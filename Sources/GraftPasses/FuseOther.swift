import GraftIR

/// Small local fusions that pay off on the corpus.
///
/// Contract:
/// - `Conv → Mul(., c)` with a constant per-output-channel (or one-element) float32 `c` scales
///   the Conv's weights and bias; `Conv → Add(., c)` adds `c` to the bias. `c` must broadcast
///   as [1, M, 1, ...] against the Conv output (rank ≤ the output rank, every dim 1 except the
///   channel dim, which is 1 or M). Arithmetic in Double, rounded once to Float.
/// - `Transpose(Transpose(x, p1), p2)` → one `Transpose(x, p1∘p2)`, or an `Identity` (removed
///   by RemoveIdentity) when the composition is the identity permutation.
/// - `Reshape(Reshape(x, s1), s2)` → `Reshape(x, s2)` when `s2` is a constant without zeros (or
///   `allowzero` = 1), since a zero would copy a dim of the inner, different input.
/// Each applies only when the intermediate value has that one reader, is not a graph output and
/// the first node carries no fused activation (one on the Mul/Add moves to the Conv). The second node's output name survives.
/// Cost: one pass over each rewritten weight tensor.
public struct FuseOther: Pass {
  public let name = "fuse-other"

  public init() {}

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var changed = false
    var i = 0
    while i < graph.nodes.count {
      let node = graph.nodes[i]
      guard node.domain.isEmpty || node.domain == "ai.onnx", node.outputs.count == 1,
            let first = node.inputs.first, !first.isEmpty,
            !graph.isGraphOutput(first), graph.useCount(first) == 1,
            let p = graph.producers[first] else {
        i += 1
        continue
      }
      let producer = graph.nodes[p]
      guard producer.domain.isEmpty || producer.domain == "ai.onnx", producer.outputs == [first],
            producer[attribute: "graft.act"] == nil else {
        i += 1
        continue
      }
      var done = false
      switch (producer.opType, node.opType) {
      case ("Conv", "Mul"), ("Conv", "Add"):
        done = foldAffineIntoConv(convIndex: p, opIndex: i, &graph)
      case ("Transpose", "Transpose"):
        done = mergeTransposes(p, i, &graph)
      case ("Reshape", "Reshape"):
        done = mergeReshapes(p, i, &graph)
      default:
        break
      }
      if done {
        changed = true
        continue
      }
      i += 1
    }
    return changed
  }

  /// Makes node `p` write node `i`'s output and removes node `i` (p < i).
  private func absorb(_ p: Int, _ updated: Node, _ i: Int, _ graph: inout Graph) {
    let out = graph.nodes[i].outputs[0]
    var node = updated
    let old = node.outputs[0]
    node.outputs[0] = out
    graph.nodes[p] = node
    graph.nodes.remove(at: i)
    graph.valueInfo[old] = nil
    graph.valueInfoOrder.removeAll { $0 == old }
  }

  private func foldAffineIntoConv(convIndex p: Int, opIndex i: Int, _ graph: inout Graph) -> Bool {
    let conv = graph.nodes[p], op = graph.nodes[i]
    guard op.inputs.count == 2, op.inputs[0] == conv.outputs[0], !op.inputs[1].isEmpty,
          let c = graph.initializer(op.inputs[1]), c.dtype == .float32, c.byteCount == c.count * 4,
          conv.inputs.count >= 2, let w = graph.initializer(conv.inputs[1]), w.dtype == .float32,
          w.byteCount == w.count * 4, w.dims.count >= 3 else { return false }
    let m = w.dims[0], rank = w.dims.count
    guard c.dims.count <= rank, m > 0 else { return false }
    let padded = [Int](repeating: 1, count: rank - c.dims.count) + c.dims
    for (axis, d) in padded.enumerated() where axis != 1 && d != 1 { return false }
    guard padded[1] == 1 || padded[1] == m else { return false }
    let cv = c.values(as: Float.self)
    let perChannel = (0..<m).map { Double(cv[cv.count == 1 ? 0 : $0]) }
    var bias = [Double](repeating: 0, count: m)
    if conv.inputs.count >= 3, !conv.inputs[2].isEmpty {
      guard let b = graph.initializer(conv.inputs[2]), b.dtype == .float32, b.count == m,
            b.byteCount == m * 4 else { return false }
      bias = b.values(as: Float.self).map { Double($0) }
    }
    var names = NameAllocator(graph)
    var updated = conv
    if op.opType == "Mul" {
      let per = w.count / m
      let wf = w.values(as: Float.self)
      var wv = [Double](repeating: 0, count: w.count)
      for ch in 0..<m { for k in 0..<per { wv[ch * per + k] = Double(wf[ch * per + k]) * perChannel[ch] } }
      put(&updated, 1, Tensor.float32(dims: w.dims, rounding: wv), &graph, &names)
      if conv.inputs.count >= 3, !conv.inputs[2].isEmpty {
        put(&updated, 2, Tensor.float32(dims: [m], rounding: (0..<m).map { bias[$0] * perChannel[$0] }), &graph, &names)
      }
    } else {
      put(&updated, 2, Tensor.float32(dims: [m], rounding: (0..<m).map { bias[$0] + perChannel[$0] }), &graph, &names)
    }
    // A fused activation on the Mul/Add applies after it, so it moves to the Conv unchanged.
    for a in op.attributes where a.name.hasPrefix("graft.act") { updated[attribute: a.name] = a.value }
    absorb(p, updated, i, &graph)
    return true
  }

  private func mergeTransposes(_ p: Int, _ i: Int, _ graph: inout Graph) -> Bool {
    let a = graph.nodes[p], b = graph.nodes[i]
    guard let p1 = a.ints("perm"), let p2 = b.ints("perm"), p1.count == p2.count,
          Set(p1) == Set(0..<Int64(p1.count)), Set(p2) == Set(0..<Int64(p2.count)) else { return false }
    let composed = p2.map { p1[Int($0)] }
    var merged = a
    if composed == Array(0..<Int64(composed.count)) {
      merged = Node(name: b.name, opType: "Identity", inputs: [a.inputs[0]], outputs: a.outputs)
    } else {
      merged[attribute: "perm"] = .ints(composed)
    }
    absorb(p, merged, i, &graph)
    return true
  }

  private func mergeReshapes(_ p: Int, _ i: Int, _ graph: inout Graph) -> Bool {
    let a = graph.nodes[p], b = graph.nodes[i]
    guard a.inputs.count == 2, b.inputs.count == 2, !b.inputs[1].isEmpty,
          let shape = graph.initializer(b.inputs[1]), let s2 = shape.integers() else { return false }
    let allowZero = (b.int("allowzero") ?? 0) != 0
    guard allowZero || !s2.contains(0) else { return false }
    var merged = b
    merged.inputs[0] = a.inputs[0]
    merged.outputs = a.outputs
    absorb(p, merged, i, &graph)
    return true
  }

  /// Puts `tensor` at `node.inputs[slot]`, overwriting the initializer there when this node is
  /// its only reader, else under a fresh name.
  private func put(_ node: inout Node, _ slot: Int, _ tensor: Tensor, _ graph: inout Graph, _ names: inout NameAllocator) {
    while node.inputs.count <= slot { node.inputs.append("") }
    let old = node.inputs[slot]
    if !old.isEmpty, graph.initializer(old) != nil, graph.useCount(old) == 1, !graph.isGraphOutput(old) {
      graph.setInitializer(old, tensor)
      return
    }
    let fresh = names.fresh(old.isEmpty ? (node.name.isEmpty ? node.outputs[0] : node.name) + "_bias" : old + "_fused")
    graph.setInitializer(fresh, tensor)
    node.inputs[slot] = fresh
  }
}
