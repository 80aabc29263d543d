import GraftIR

/// Folds an inference-form BatchNormalization into the linear operator that produces its input.
///
/// Contract: with s = scale / sqrt(var + epsilon) and t = B - mean * s per channel, the BN node
/// disappears and
/// - `Conv(X, W, b)` gets W[m, ...] * s[m] and b * s + t (b = 0 when absent);
/// - `ConvTranspose(X, W, b)` (W is [Cin, Cout/group, ...]) gets each output channel's weights
///   scaled the same way, and the same bias;
/// - `Gemm(A, B, C)` gets B's output columns (rows when transB) scaled by s and
///   C' = beta * C * s + t with beta = 1 (C must broadcast over rows: a scalar, [N] or [1, N]);
/// - `MatMul(A, W)` with A and W of rank 2 gets W's columns scaled and a following
///   `Add(., t)` in place of the BN, or, when it already feeds `Add(., bias)` with a constant
///   bias of N elements, that bias becomes bias * s + t.
/// It applies only when the BN is in inference form (no `training_mode`, one output read,
/// `spatial` absent or 1), its four parameters are float initializers of one element per
/// channel, the producer's weights are float32 initializers, the producer carries no fused
/// activation, and each intermediate value has that one reader and is not a graph output.
/// The BN's output name survives (the producer now writes it). Weight arithmetic is done in
/// Double and rounded once to Float. A weight initializer read elsewhere is left intact and a
/// new one is added under a fresh name. Cost: one pass over each folded weight tensor.
public struct FoldBatchNorm: Pass {
  public let name = "fold-batchnorm"

  public init() {}

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var changed = false
    var i = 0
    while i < graph.nodes.count {
      if try foldOne(at: i, &graph) {
        changed = true
        // The BN was removed or replaced in place; the node now at i is the next candidate.
        continue
      }
      i += 1
    }
    return changed
  }

  /// Per-channel (s, t) of the BN at `index`, or nil if it is not a foldable inference BN.
  private func affine(_ bn: Node, _ graph: Graph) -> (s: [Double], t: [Double])? {
    guard bn.opType == "BatchNormalization", bn.domain.isEmpty || bn.domain == "ai.onnx",
          bn.inputs.count == 5, bn.outputs.count >= 1, !bn.outputs[0].isEmpty,
          (bn.int("training_mode") ?? 0) == 0, (bn.int("spatial") ?? 1) == 1 else { return nil }
    for extra in bn.outputs.dropFirst() where !extra.isEmpty && graph.useCount(extra) > 0 { return nil }
    var params: [[Float]] = []
    for name in bn.inputs[1...4] {
      guard !name.isEmpty, let t = graph.initializer(name), t.dtype.isFloat, let v = t.floats() else { return nil }
      params.append(v)
    }
    let c = params[0].count
    guard c > 0, params.allSatisfy({ $0.count == c }) else { return nil }
    let eps = Double(bn.float("epsilon") ?? 1e-5)
    var s = [Double](repeating: 0, count: c)
    var t = [Double](repeating: 0, count: c)
    for k in 0..<c {
      let denom = (Double(params[3][k]) + eps).squareRoot()
      guard denom > 0, denom.isFinite else { return nil }
      s[k] = Double(params[0][k]) / denom
      t[k] = Double(params[1][k]) - Double(params[2][k]) * s[k]
    }
    return (s, t)
  }

  private func foldOne(at j: Int, _ graph: inout Graph) throws -> Bool {
    let bn = graph.nodes[j]
    guard let (s, t) = affine(bn, graph) else { return false }
    let x = bn.inputs[0]
    guard !x.isEmpty, !graph.isGraphOutput(x), graph.useCount(x) == 1,
          let p = graph.producers[x] else { return false }
    let producer = graph.nodes[p]
    guard producer.domain.isEmpty || producer.domain == "ai.onnx", producer.outputs.first == x,
          producer[attribute: "graft.act"] == nil else { return false }
    var names = NameAllocator()
    switch producer.opType {
    case "Conv":
      guard let w = floatInit(producer, 1, graph), w.dims.count >= 3, w.dims[0] == s.count,
            let b = optionalBias(producer, 2, count: s.count, graph) else { return false }
      let bv = (0..<s.count).map { Double(b[$0]) * s[$0] + t[$0] }
      var conv = producer
      setWeight(&conv, 1, w.scaledFloat32(factors: s, blockLength: w.count / s.count), &graph, &names)
      setWeight(&conv, 2, Tensor.float32(dims: [s.count], rounding: bv), &graph, &names)
      replaceBN(at: j, producerIndex: p, with: conv, &graph)
      return true

    case "ConvTranspose":
      guard let w = floatInit(producer, 1, graph), w.dims.count >= 3,
            let b = optionalBias(producer, 2, count: s.count, graph) else { return false }
      let group = Int(producer.int("group") ?? 1)
      let cin = w.dims[0], coutPerGroup = w.dims[1]
      guard group > 0, cin % group == 0, coutPerGroup * group == s.count else { return false }
      // W is [Cin, Cout/group, k...]: row (ci, j) belongs to output channel g * Cout/group + j
      // where g is ci's group.
      let spatial = w.count / max(cin * coutPerGroup, 1)
      let cinPerGroup = cin / group
      var rowFactors: [Double] = []
      rowFactors.reserveCapacity(cin * coutPerGroup)
      for ci in 0..<cin { for jj in 0..<coutPerGroup { rowFactors.append(s[(ci / cinPerGroup) * coutPerGroup + jj]) } }
      let bv = (0..<s.count).map { Double(b[$0]) * s[$0] + t[$0] }
      var conv = producer
      setWeight(&conv, 1, w.scaledFloat32(factors: rowFactors, blockLength: spatial), &graph, &names)
      setWeight(&conv, 2, Tensor.float32(dims: [s.count], rounding: bv), &graph, &names)
      replaceBN(at: j, producerIndex: p, with: conv, &graph)
      return true

    case "Gemm":
      guard let w = floatInit(producer, 1, graph), w.dims.count == 2 else { return false }
      let transB = (producer.int("transB") ?? 0) != 0
      let n = transB ? w.dims[0] : w.dims[1]
      let k = transB ? w.dims[1] : w.dims[0]
      guard n == s.count else { return false }
      let beta = Double(producer.float("beta") ?? 1)
      var c = [Double](repeating: 0, count: n)
      if producer.inputs.count >= 3, !producer.inputs[2].isEmpty {
        guard let ct = graph.initializer(producer.inputs[2]), ct.dtype == .float32,
              ct.count == 1 || (ct.count == n && (ct.dims == [n] || ct.dims == [1, n])),
              let cv = ct.floats() else { return false }
        for q in 0..<n { c[q] = Double(ct.count == 1 ? cv[0] : cv[q]) * beta }
      }
      let cv = (0..<n).map { c[$0] * s[$0] + t[$0] }
      var gemm = producer
      // transB: B is [N, K], rows scale; else [K, N], columns scale.
      setWeight(&gemm, 1, w.scaledFloat32(factors: s, blockLength: transB ? k : 1), &graph, &names)
      setWeight(&gemm, 2, Tensor.float32(dims: [n], rounding: cv), &graph, &names)
      gemm[attribute: "beta"] = .float(1)
      replaceBN(at: j, producerIndex: p, with: gemm, &graph)
      return true

    case "MatMul":
      guard let w = matmulWeight(producer, graph, n: s.count) else { return false }
      var mm = producer
      setWeight(&mm, 1, w.scaledFloat32(factors: s, blockLength: 1), &graph, &names)
      graph.nodes[p] = mm
      let biasName = names.fresh((bn.name.isEmpty ? bn.outputs[0] : bn.name) + "_bnfold_bias", in: graph)
      graph.setInitializer(biasName, Tensor.float32(dims: [s.count], rounding: t))
      graph.nodes[j] = Node(name: bn.name, opType: "Add", inputs: [x, biasName], outputs: [bn.outputs[0]])
      return true

    case "Add":
      // MatMul(A, W) -> Add(., bias) -> BN.
      guard producer.inputs.count == 2 else { return false }
      let producers = graph.producers
      for side in 0..<2 {
        let mmOut = producer.inputs[side], biasIn = producer.inputs[1 - side]
        guard let q = producers[mmOut], graph.nodes[q].opType == "MatMul",
              graph.nodes[q].domain.isEmpty || graph.nodes[q].domain == "ai.onnx",
              graph.nodes[q][attribute: "graft.act"] == nil,
              !graph.isGraphOutput(mmOut), graph.useCount(mmOut) == 1,
              let bias = graph.initializer(biasIn), bias.dtype == .float32, bias.count == s.count,
              bias.dims == [s.count] || bias.dims == [1, s.count],
              let w = matmulWeight(graph.nodes[q], graph, n: s.count) else { continue }
        var mm = graph.nodes[q]
        setWeight(&mm, 1, w.scaledFloat32(factors: s, blockLength: 1), &graph, &names)
        graph.nodes[q] = mm
        let bv = bias.values(as: Float.self)
        var add = producer
        setWeight(&add, 1 - side, Tensor.float32(dims: bias.dims, rounding: (0..<s.count).map { Double(bv[$0]) * s[$0] + t[$0] }), &graph, &names)
        replaceBN(at: j, producerIndex: p, with: add, &graph)
        return true
      }
      return false

    default:
      return false
    }
  }

  /// The float32 initializer at `node.inputs[slot]`, or nil.
  private func floatInit(_ node: Node, _ slot: Int, _ graph: Graph) -> Tensor? {
    guard node.inputs.count > slot, !node.inputs[slot].isEmpty,
          let t = graph.initializer(node.inputs[slot]), t.dtype == .float32,
          t.byteCount == t.count * 4 else { return nil }
    return t
  }

  /// The bias at `slot` as `count` floats (zeros when absent), or nil if present but not a
  /// float32 initializer of `count` elements.
  private func optionalBias(_ node: Node, _ slot: Int, count: Int, _ graph: Graph) -> [Float]? {
    guard node.inputs.count > slot, !node.inputs[slot].isEmpty else { return [Float](repeating: 0, count: count) }
    guard let b = floatInit(node, slot, graph), b.count == count else { return nil }
    return b.values(as: Float.self)
  }

  /// The [K, N] weight of a rank-2 MatMul whose left operand is known to be rank 2.
  private func matmulWeight(_ mm: Node, _ graph: Graph, n: Int) -> Tensor? {
    guard mm.inputs.count == 2, let a = graph.type(of: mm.inputs[0]), a.shape?.count == 2,
          let w = floatInit(mm, 1, graph), w.dims.count == 2, w.dims[1] == n else { return nil }
    return w
  }

  /// Puts `tensor` at `node.inputs[slot]`: overwrites the initializer there when only this node
  /// reads it, otherwise adds a new initializer under a fresh name.
  private func setWeight(_ node: inout Node, _ slot: Int, _ tensor: Tensor, _ graph: inout Graph,
                         _ names: inout NameAllocator) {
    while node.inputs.count <= slot { node.inputs.append("") }
    let old = node.inputs[slot]
    if !old.isEmpty, graph.initializer(old) != nil, graph.useCount(old) == 1, !graph.isGraphOutput(old) {
      graph.setInitializer(old, tensor)
      return
    }
    let base = old.isEmpty ? (node.name.isEmpty ? node.outputs[0] : node.name) + "_bias" : old + "_bnfold"
    let fresh = names.fresh(base, in: graph)
    graph.setInitializer(fresh, tensor)
    node.inputs[slot] = fresh
  }

  /// Removes the BN at `j` and makes the (updated) producer at `p` write the BN's output.
  private func replaceBN(at j: Int, producerIndex p: Int, with producer: Node, _ graph: inout Graph) {
    let bn = graph.nodes[j]
    var updated = producer
    let old = updated.outputs[0]
    updated.outputs[0] = bn.outputs[0]
    graph.nodes[p] = updated
    graph.nodes.remove(at: j)
    graph.valueInfo[old] = nil
    graph.valueInfoOrder.removeAll { $0 == old }
  }
}
