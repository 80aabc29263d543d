import GraftIR

/// Fuses the decomposed LayerNorm and exact-GELU patterns that ONNX exporters emit for
/// transformers into one `LayerNormalization` / `Gelu` node each (one runtime kernel each;
/// `Gelu` then usually folds into its producer through `FuseActivation`).
///
/// Contract:
/// - LayerNorm: `m = ReduceMean(x)`, `d = Sub(x, m)`, `p = Pow(d, 2)` (or `Mul(d, d)`),
///   `v = ReduceMean(p)`, `e = Add(v, eps)`, `s = Sqrt(e)`, `n = Div(d, s)`, then optionally
///   `Mul(n, gamma)` and `Add(., beta)` (either operand order) → `LayerNormalization(x, gamma,
///   beta; axis = -1, epsilon = eps)`. Both ReduceMeans reduce exactly the last axis (attribute
///   or constant `axes` input) with keepdims = 1; eps, the exponent, gamma and beta are
///   constants; gamma/beta hold D = last-dim values (stored as `[D]`; a one-element one is
///   broadcast when D is known). Without the Mul, gamma is ones; without the Add, no bias.
/// - GELU: `Erf(x / √2)` (`Div(x, √2)` or `Mul(x, 1/√2)`), `a = Add(erf, 1)`, then
///   `Mul(Mul(x, a), 0.5)`, `Mul(Mul(x, 0.5), a)` or `Mul(x, Mul(a, 0.5))` → `Gelu(x)`
///   (approximate = none). The tanh form, `Tanh(√(2/π)·(x + 0.044715·Pow(x, 3)))` with the same
///   `1 + t` and halving tails, → `Gelu(x; approximate = tanh)`. Constants match to 1e-4 relative.
/// - Every intermediate value has only its pattern's readers, is not a graph output, and no
///   node of the pattern carries a fused activation; the fused node takes the last node's
///   place and output name, so topological order holds. Only float32 `x` (when its type is
///   known). The fused ops are Graft-internal: `Gelu` is an opset-20 op, so this pass is in the
///   compile pipeline, not in `graft convert --passes`. Cost: linear per pattern.
public struct FuseTransformer: Pass {
  public let name = "fuse-transformer"

  public init() {}

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var changed = false
    var i = 0
    while i < graph.nodes.count {
      let op = graph.nodes[i].opType
      if op == "ReduceMean", fuseLayerNorm(at: i, &graph) { changed = true; continue }
      if op == "Erf" || op == "Tanh", fuseGelu(at: i, &graph) { changed = true; continue }
      i += 1
    }
    return changed
  }

  // MARK: - Matching helpers

  private struct View {
    let graph: Graph
    let producers: [String: Int]
    let consumers: [String: [Int]]
    let uses: [String: Int]

    init(_ g: Graph) {
      graph = g
      producers = g.producers
      consumers = g.consumers
      uses = g.useCounts
    }

    /// The only node reading `v`, if `v` has exactly one read and is not a graph output.
    func soleReader(_ v: String, readers: Int = 1) -> [Int]? {
      guard !graph.isGraphOutput(v), uses[v] == readers, let c = consumers[v], c.count == readers else { return nil }
      return c
    }

    func node(_ i: Int, _ op: String) -> Node? {
      let n = graph.nodes[i]
      guard n.opType == op, n.domain.isEmpty || n.domain == "ai.onnx", n.outputs.count == 1,
            !n.outputs[0].isEmpty, n[attribute: "graft.act"] == nil else { return nil }
      return n
    }

    func scalar(_ v: String) -> Double? {
      guard let t = PatchAdapt.constant(graph, v), t.count == 1, let f = t.floats() else { return nil }
      return Double(f[0])
    }

    /// The other operand of a two-input node whose one operand is `v`.
    func other(_ n: Node, _ v: String) -> String? {
      guard n.inputs.count == 2 else { return nil }
      if n.inputs[0] == v { return n.inputs[1] }
      if n.inputs[1] == v { return n.inputs[0] }
      return nil
    }
  }

  private static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-4 * abs(b) }

  /// Axes of a ReduceMean if it reduces only the last axis with keepdims = 1.
  private func reducesLastAxis(_ n: Node, rank: Int?, _ v: View) -> Bool {
    guard (n.int("keepdims") ?? 1) == 1 else { return false }
    var axes = n.ints("axes")
    if axes == nil, n.inputs.count > 1, !n.inputs[1].isEmpty {
      axes = PatchAdapt.constant(v.graph, n.inputs[1])?.integers()
    }
    guard let axes, axes.count == 1 else { return false }
    if axes[0] == -1 { return true }
    if let rank { return axes[0] == Int64(rank - 1) }
    return false
  }

  // MARK: - LayerNorm

  private func fuseLayerNorm(at i: Int, _ graph: inout Graph) -> Bool {
    let v = View(graph)
    guard let m1 = v.node(i, "ReduceMean"), let x = m1.inputs.first, !x.isEmpty else { return false }
    let xType = graph.type(of: x)
    if let t = xType, t.dtype != .float32 { return false }
    let rank = xType?.shape?.count
    guard reducesLastAxis(m1, rank: rank, v) else { return false }
    // Sub(x, mean)
    guard let sR = v.soleReader(m1.outputs[0]), let sub = v.node(sR[0], "Sub"),
          sub.inputs == [x, m1.outputs[0]] else { return false }
    let d = sub.outputs[0]
    guard let dR = v.soleReader(d, readers: 2) ?? (v.uses[d] == 3 ? v.consumers[d].map { Array(Set($0)) } : nil) else { return false }
    // One reader squares d (Pow(d, 2) or Mul(d, d)), the other divides it.
    var sq: Int?, div: Int?
    for r in dR {
      let n = graph.nodes[r]
      if let p = v.node(r, "Pow"), p.inputs.count == 2, p.inputs[0] == d, let e = v.scalar(p.inputs[1]), e == 2 { sq = r }
      else if let p = v.node(r, "Mul"), p.inputs == [d, d] { sq = r }
      else if v.node(r, "Div") != nil, n.inputs.count == 2, n.inputs[0] == d { div = r }
    }
    guard let sq, let div, Set(dR).count == 2 else { return false }
    // ReduceMean(sq) + eps → Sqrt → divisor
    let sqOut = graph.nodes[sq].outputs[0]
    guard let r2 = v.soleReader(sqOut), let m2 = v.node(r2[0], "ReduceMean"), reducesLastAxis(m2, rank: rank, v),
          let r3 = v.soleReader(m2.outputs[0]), let add = v.node(r3[0], "Add"),
          let epsName = v.other(add, m2.outputs[0]), let eps = v.scalar(epsName),
          let r4 = v.soleReader(add.outputs[0]), let sqrt = v.node(r4[0], "Sqrt"),
          let r5 = v.soleReader(sqrt.outputs[0]), r5[0] == div,
          graph.nodes[div].inputs[1] == sqrt.outputs[0] else { return false }
    var removed = [i, sR[0], sq, r2[0], r3[0], r4[0], div]
    var last = div
    var out = graph.nodes[div].outputs[0]
    var gamma: Tensor?, beta: Tensor?
    if let r6 = v.soleReader(out), let mul = v.node(r6[0], "Mul"), let gName = v.other(mul, out),
       let g = PatchAdapt.constant(graph, gName), g.dtype == .float32 {
      gamma = g
      removed.append(r6[0]); last = r6[0]; out = mul.outputs[0]
      if let r7 = v.soleReader(out), let badd = v.node(r7[0], "Add"), let bName = v.other(badd, out),
         let b = PatchAdapt.constant(graph, bName), b.dtype == .float32 {
        beta = b
        removed.append(r7[0]); last = r7[0]; out = badd.outputs[0]
      }
    }
    // Parameters as [D].
    let dLast = xType?.shape?.last?.value
    func vector(_ t: Tensor?, fill: Float) -> Tensor? {
      guard let t else { return dLast.map { Tensor.float32([$0], [Float](repeating: fill, count: $0)) } }
      guard let f = t.floats() else { return nil }
      if f.count == 1, let dLast { return Tensor.float32([dLast], [Float](repeating: f[0], count: dLast)) }
      guard t.dims.dropLast().allSatisfy({ $0 == 1 }), let last = t.dims.last, dLast == nil || dLast == last,
            t.dims.count <= (rank ?? Int.max) else { return nil }
      return Tensor.float32([last], f)
    }
    guard let scale = vector(gamma, fill: 1) else { return false }
    var bias: Tensor?
    if beta != nil {
      guard let b = vector(beta, fill: 0), b.dims == scale.dims else { return false }
      bias = b
    }
    var taken = graph.definedNames
    let scaleName = PatchAdapt.fresh((m1.name.isEmpty ? out : m1.name) + "_ln_scale", &taken)
    graph.setInitializer(scaleName, scale)
    var inputs = [x, scaleName]
    if let bias {
      let biasName = PatchAdapt.fresh((m1.name.isEmpty ? out : m1.name) + "_ln_bias", &taken)
      graph.setInitializer(biasName, bias)
      inputs.append(biasName)
    }
    var ln = Node(name: graph.nodes[last].name.isEmpty ? "" : graph.nodes[last].name + "_layernorm",
                  opType: "LayerNormalization", inputs: inputs, outputs: [out])
    ln[attribute: "axis"] = .int(-1)
    ln[attribute: "epsilon"] = .float(Float(eps))
    graph.nodes[last] = ln
    removed.removeAll { $0 == last }
    for r in removed.sorted(by: >) { graph.nodes.remove(at: r) }
    dropDeadConstants(&graph)
    return true
  }

  // MARK: - GELU

  private func fuseGelu(at i: Int, _ graph: inout Graph) -> Bool {
    let v = View(graph)
    let isTanh = graph.nodes[i].opType == "Tanh"
    guard let erf = v.node(i, isTanh ? "Tanh" : "Erf"), let dIn = erf.inputs.first, let dp = v.producers[dIn],
          v.soleReader(dIn) != nil else { return false }
    let pre = graph.nodes[dp]
    var x: String?
    var head = [dp]
    /// The operand of a two-input Mul (either order) whose other operand is the constant `c`.
    func mulBy(_ n: Node, _ c: Double) -> String? {
      guard n.opType == "Mul", n.inputs.count == 2 else { return nil }
      if let k = v.scalar(n.inputs[1]), Self.close(k, c) { return n.inputs[0] }
      if let k = v.scalar(n.inputs[0]), Self.close(k, c) { return n.inputs[1] }
      return nil
    }
    if isTanh {
      // tanh(√(2/π)·(x + 0.044715·x³))
      guard v.node(dp, "Mul") != nil, let sum = mulBy(pre, (2.0 / Double.pi).squareRoot()),
            let sp = v.producers[sum], let add = v.node(sp, "Add"), v.soleReader(sum) != nil, add.inputs.count == 2 else { return false }
      for side in 0..<2 {
        let cube = add.inputs[side], xs = add.inputs[1 - side]
        guard let cp = v.producers[cube], v.node(cp, "Mul") != nil, v.soleReader(cube) != nil,
              let p3 = mulBy(graph.nodes[cp], 0.044715), let pp = v.producers[p3], let pow = v.node(pp, "Pow"),
              v.soleReader(p3) != nil, pow.inputs.count == 2, pow.inputs[0] == xs, v.scalar(pow.inputs[1]) == 3 else { continue }
        x = xs
        head += [sp, cp, pp]
        break
      }
    } else if v.node(dp, "Div") != nil, pre.inputs.count == 2, let c = v.scalar(pre.inputs[1]), Self.close(c, 2.0.squareRoot()) {
      // erf(x / √2)
      x = pre.inputs[0]
    } else if v.node(dp, "Mul") != nil {
      // erf(x · 1/√2)
      x = mulBy(pre, 0.5.squareRoot())
    }
    guard let x, !x.isEmpty else { return false }
    if let t = graph.type(of: x), t.dtype != .float32 { return false }
    // 1 + erf (or tanh)
    guard let r1 = v.soleReader(erf.outputs[0]), let add = v.node(r1[0], "Add"),
          let one = v.other(add, erf.outputs[0]), v.scalar(one) == 1 else { return false }
    let a = add.outputs[0]
    guard let r2 = v.soleReader(a), let mul = v.node(r2[0], "Mul"), let aOther = v.other(mul, a) else { return false }
    var removed = head + [i, r1[0], r2[0]]
    var last = r2[0]
    if aOther == x {
      // Mul(x, a) then Mul(., 0.5)
      guard let r3 = v.soleReader(mul.outputs[0]), let half = v.node(r3[0], "Mul"),
            let h = v.other(half, mul.outputs[0]), v.scalar(h) == 0.5 else { return false }
      removed.append(r3[0]); last = r3[0]
    } else if let s = v.scalar(aOther), s == 0.5 {
      // Mul(a, 0.5) then Mul(x, .)
      guard let r3 = v.soleReader(mul.outputs[0]), let xm = v.node(r3[0], "Mul"),
            v.other(xm, mul.outputs[0]) == x else { return false }
      removed.append(r3[0]); last = r3[0]
    } else if let hp = v.producers[aOther], let hn = v.node(hp, "Mul"), v.soleReader(aOther) != nil,
              let h = v.other(hn, x), v.scalar(h) == 0.5 {
      // Mul(Mul(x, 0.5), a)
      removed.append(hp)
    } else {
      return false
    }
    let out = graph.nodes[last].outputs[0]
    var gelu = Node(name: graph.nodes[last].name.isEmpty ? "" : graph.nodes[last].name + "_gelu",
                    opType: "Gelu", inputs: [x], outputs: [out])
    gelu[attribute: "approximate"] = .string(Array((isTanh ? "tanh" : "none").utf8))
    graph.nodes[last] = gelu
    removed.removeAll { $0 == last }
    for r in Set(removed).sorted(by: >) { graph.nodes.remove(at: r) }
    dropDeadConstants(&graph)
    return true
  }

  /// Removes initializers nobody reads any more (the pattern's scalars), keeping graph inputs.
  private func dropDeadConstants(_ graph: inout Graph) {
    let uses = graph.useCounts
    let inputs = Set(graph.inputs.map(\.name))
    graph.initializers.removeAll { uses[$0.name] == nil && !inputs.contains($0.name) }
  }
}
