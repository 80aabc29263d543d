import GraftIR

/// Small local fusions that pay off on the corpus.
///
/// Contract:
/// - `Conv → Mul(., c)` (or `Mul(c, .)`) with a constant per-output-channel (or one-element) float32 `c` scales
///   the Conv's weights and bias; `Conv → Add(., c)` adds `c` to the bias. `c` must broadcast
///   as [1, M, 1, ...] against the Conv output (rank ≤ the output rank, every dim 1 except the
///   channel dim, which is 1 or M). `ConvTranspose → Add(., c)` adds `c` to the bias too.
///   Arithmetic in Double, rounded once to Float.
/// - `BatchNormalization → Mul(., c)` / `Add(., c)` with the same kind of per-channel `c`
///   (the Caffe2 exports of the `light_*` models do this) scales the BN's scale and B, or adds
///   to B. The BN must be in inference form with float32 initializer parameters, and the
///   Mul/Add must carry no fused activation (BN kernels take none).
/// - `Transpose(Transpose(x, p1), p2)` → one `Transpose(x, p1∘p2)`, or an `Identity` (removed
///   by RemoveIdentity) when the composition is the identity permutation.
/// - `Reshape(Reshape(x, s1), s2)` → `Reshape(x, s2)` when `s2` is a constant without zeros (or
///   `allowzero` = 1), since a zero would copy a dim of the inner, different input. The inner
///   node may also be a Flatten, Squeeze or Unsqueeze (they only reshape too).
/// Each applies only when the intermediate value has that one reader, is not a graph output and
/// the first node carries no fused activation (one on the Mul/Add moves to the Conv). The second node's output name survives.
/// Cost: one pass over each rewritten weight tensor.
public struct FuseOther: Pass {
  public let name = "fuse-other"

  public init() {}

  /// Op types that end one of the patterns (checked first: it is cheap).
  static let secondOps: Set<String> = ["Mul", "Add", "Transpose", "Reshape"]

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var changed = false
    var i = 0
    while i < graph.nodes.count {
      var node = graph.nodes[i]
      guard FuseOther.secondOps.contains(node.opType) else {
        i += 1
        continue
      }
      // Mul/Add are commutative: look at the non-constant operand (`Mul(c, conv)` in Paddle's
      // exports). The swap is kept only if a fold then removes the node.
      let original = node
      if (node.opType == "Mul" || node.opType == "Add"), node.inputs.count == 2,
         graph.initializer(node.inputs[0]) != nil, graph.initializer(node.inputs[1]) == nil {
        node.inputs.swapAt(0, 1)
        graph.nodes[i] = node
      }
      guard node.domain.isEmpty || node.domain == "ai.onnx", node.outputs.count == 1,
            let first = node.inputs.first, !first.isEmpty,
            !graph.isGraphOutput(first), graph.useCount(first) == 1,
            let p = graph.producers[first] else {
        graph.nodes[i] = original
        i += 1
        continue
      }
      let producer = graph.nodes[p]
      guard producer.domain.isEmpty || producer.domain == "ai.onnx", producer.outputs == [first],
            producer[attribute: "graft.act"] == nil else {
        graph.nodes[i] = original
        i += 1
        continue
      }
      var done = false
      switch (producer.opType, node.opType) {
      case ("Conv", "Mul"), ("Conv", "Add"), ("ConvTranspose", "Add"):
        done = foldAffineIntoConv(convIndex: p, opIndex: i, &graph)
      case ("BatchNormalization", "Mul"), ("BatchNormalization", "Add"):
        done = foldAffineIntoBatchNorm(bnIndex: p, opIndex: i, &graph)
      case ("Transpose", "Transpose"):
        done = mergeTransposes(p, i, &graph)
      case ("Reshape", "Reshape"), ("Flatten", "Reshape"), ("Squeeze", "Reshape"), ("Unsqueeze", "Reshape"):
        done = mergeReshapes(p, i, &graph)
      default:
        break
      }
      if done {
        changed = true
        continue
      }
      graph.nodes[i] = original
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
          conv.inputs.count >= 2, let w = graph.initializer(conv.inputs[1]), w.dtype == .float32,
          w.byteCount == w.count * 4, w.dims.count >= 3 else { return false }
    // Output channels: Conv W is [M, C/group, ...]; ConvTranspose W is [C, M/group, ...], where
    // only the bias add is folded (a scale would need the group layout).
    let transposed = conv.opType == "ConvTranspose"
    if transposed && op.opType != "Add" { return false }
    let m = transposed ? w.dims[1] * Int(conv.int("group") ?? 1) : w.dims[0]
    guard let perChannel = perChannel(op.inputs[1], rank: w.dims.count, channels: m, graph) else { return false }
    var bias = [Double](repeating: 0, count: m)
    if conv.inputs.count >= 3, !conv.inputs[2].isEmpty {
      guard let b = graph.initializer(conv.inputs[2]), b.dtype == .float32, b.count == m,
            b.byteCount == m * 4 else { return false }
      bias = b.values(as: Float.self).map { Double($0) }
    }
    var names = NameAllocator()
    var updated = conv
    if op.opType == "Mul" {
      put(&updated, 1, w.scaledFloat32(factors: perChannel, blockLength: w.count / m), &graph, &names)
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

  /// The per-channel values of the constant `name` broadcast against an output of `rank` with
  /// `channels` channels at axis 1, or nil if it is not of that form.
  private func perChannel(_ name: String, rank: Int, channels m: Int, _ graph: Graph) -> [Double]? {
    guard let c = graph.initializer(name), c.dtype == .float32, c.byteCount == c.count * 4,
          c.dims.count <= rank, rank >= 2, m > 0 else { return nil }
    let padded = [Int](repeating: 1, count: rank - c.dims.count) + c.dims
    for (axis, d) in padded.enumerated() where axis != 1 && d != 1 { return nil }
    guard padded[1] == 1 || padded[1] == m else { return nil }
    let cv = c.values(as: Float.self)
    return (0..<m).map { Double(cv[cv.count == 1 ? 0 : $0]) }
  }

  private func foldAffineIntoBatchNorm(bnIndex p: Int, opIndex i: Int, _ graph: inout Graph) -> Bool {
    let bn = graph.nodes[p], op = graph.nodes[i]
    guard bn.inputs.count == 5, bn.outputs.count == 1, (bn.int("training_mode") ?? 0) == 0,
          op.inputs.count == 2, op.inputs[0] == bn.outputs[0], !op.inputs[1].isEmpty,
          op[attribute: "graft.act"] == nil,
          let rank = graph.type(of: bn.outputs[0])?.shape?.count,
          let scale = graph.initializer(bn.inputs[1]), scale.dtype == .float32, scale.byteCount == scale.count * 4,
          let bias = graph.initializer(bn.inputs[2]), bias.dtype == .float32, bias.count == scale.count,
          bias.byteCount == bias.count * 4,
          let c = perChannel(op.inputs[1], rank: rank, channels: scale.count, graph) else { return false }
    let sv = scale.values(as: Float.self).map { Double($0) }, bv = bias.values(as: Float.self).map { Double($0) }
    let m = scale.count
    var names = NameAllocator()
    var updated = bn
    if op.opType == "Mul" {
      put(&updated, 1, Tensor.float32(dims: scale.dims, rounding: (0..<m).map { sv[$0] * c[$0] }), &graph, &names)
      put(&updated, 2, Tensor.float32(dims: bias.dims, rounding: (0..<m).map { bv[$0] * c[$0] }), &graph, &names)
    } else {
      put(&updated, 2, Tensor.float32(dims: bias.dims, rounding: (0..<m).map { bv[$0] + c[$0] }), &graph, &names)
    }
    absorb(p, updated, i, &graph)
    return true
  }

  private func mergeTransposes(_ p: Int, _ i: Int, _ graph: inout Graph) -> Bool {
    let a = graph.nodes[p], b = graph.nodes[i]
    guard a.inputs.count == 1, let p1 = a.ints("perm"), let p2 = b.ints("perm"), p1.count == p2.count,
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
    guard !a.inputs.isEmpty, !a.inputs[0].isEmpty, b.inputs.count == 2, !b.inputs[1].isEmpty,
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
    let fresh = names.fresh(old.isEmpty ? (node.name.isEmpty ? node.outputs[0] : node.name) + "_bias" : old + "_fused", in: graph)
    graph.setInitializer(fresh, tensor)
    node.inputs[slot] = fresh
  }
}
