import GraftIR

/// Signal-preserving ("AutoInit"-style) initialization of what the source did not fill.
///
/// Walks the target graph once in node order with a scalar (mean, variance) per value,
/// starting from `inputMoments` at every graph input, and:
/// - Conv/ConvTranspose/Linear: uncovered weight entries ~ N(0, s/(fan_in·E[x²])) with
///   s = `signalVariance`, uncovered bias entries 0; the output moments are then computed
///   from the actual (partly transferred) weights: per output channel o,
///   mean_o = μ·Σ W_o + b_o and var_o = v·Σ W_o², pooled over channels.
/// - BatchNormalization: uncovered channels get γ = 1, β = 0 and running mean/variance equal
///   to the incoming moments (so they normalize in inference mode); output moments from the
///   actual per-channel parameters. Layer/Instance/GroupNormalization: uncovered γ = 1,
///   β = 0; output moments of γ·z + β with z ~ (0, 1).
/// - Activations by Gaussian integration (ReLU in closed form), x·sigmoid(x) as SiLU;
///   Add/Sum μ=Σμ, v=Σv; Sub; Mul μ=Πμ, v=Π(v+μ²)−Πμ²; Concat weighted by axis sizes;
///   AveragePool (μ, v/k); MaxPool by the order statistics of k normals; global pooling over
///   the spatial size when known; normalization layers without parameters (0, 1); others
///   pass through.
/// All random draws come from `rng`, in node order, so the result is deterministic.
struct AnalyticInit {
  var inputMoments: Moments = .standard
  var signalVariance: Double = 1

  func run(graph: Graph, layers: [Layer], store: inout ParamStore, rng: inout SplitMix64) {
    var constants = graph.initializerMap
    for node in graph.nodes where node.opType == "Constant" {
      if case .tensor(let t)? = node[attribute: "value"], let o = node.outputs.first { constants[o] = t }
    }
    var shapes = ShapeTracker(graph: graph, constants: constants)
    var stats: [String: Moments] = [:]
    for i in graph.runtimeInputs { stats[i.name] = inputMoments }
    let layerAt = Dictionary(layers.map { ($0.nodeIndex, $0) }, uniquingKeysWith: { a, _ in a })
    let producers = graph.producers

    func moments(_ v: String) -> Moments? {
      if let m = stats[v] { return m }
      if let w = store.values[v] { return Self.empirical(w) }
      if let t = constants[v], let f = t.floats(), !f.isEmpty { return Self.empirical(f) }
      return nil
    }

    for (index, node) in graph.nodes.enumerated() {
      shapes.visit(node)
      guard let out = node.outputs.first, !out.isEmpty else { continue }
      let x = node.inputs.first.flatMap { moments($0) } ?? inputMoments
      var y: Moments? = nil
      if let layer = layerAt[index] {
        switch layer.cls.kind {
        case .batchNorm: y = batchNorm(layer, node, x, &store)
        case .layerNorm, .instanceNorm, .groupNorm: y = affineNorm(layer, &store)
        case .conv, .convTranspose, .linear: y = dense(layer, node, x, &store, &rng)
        }
      } else {
        y = rule(node, x, moments, shapes, producers, graph)
      }
      if let y, y.mean.isFinite, y.variance.isFinite {
        for o in node.outputs where !o.isEmpty { stats[o] = y }
      }
    }
  }

  static func empirical(_ v: [Float]) -> Moments {
    guard !v.isEmpty else { return .standard }
    var s = 0.0, s2 = 0.0
    for e in v { s += Double(e); s2 += Double(e) * Double(e) }
    let m = s / Double(v.count)
    return Moments(mean: m, variance: max(0, s2 / Double(v.count) - m * m))
  }

  /// Pools per-channel means and variances into one scalar pair.
  static func pool(_ means: [Double], _ vars: [Double]) -> Moments {
    let n = Double(max(means.count, 1))
    let mu = means.reduce(0, +) / n
    let within = vars.reduce(0, +) / n
    let between = means.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / n
    return Moments(mean: mu, variance: within + between)
  }

  private func dense(_ layer: Layer, _ node: Node, _ x: Moments, _ store: inout ParamStore,
                     _ rng: inout SplitMix64) -> Moments? {
    guard let wp = layer.param(.weight), var w = store.values[wp.name], let wc = store.covered[wp.name] else { return nil }
    let shape = wp.canonicalShape
    let kernel = shape.count > 2 ? shape[2...].reduce(1, *) : 1
    var fanIn: Double
    var outChannels: Int
    var taps = 1.0
    switch layer.cls.kind {
    case .convTranspose:
      let strides = node.ints("strides")?.reduce(Int64(1), *) ?? 1
      taps = Double(max(strides, 1))
      fanIn = Double(shape[0] / max(layer.groups, 1) * kernel) / taps
      outChannels = shape[1]
    default:
      fanIn = Double(shape[1] * kernel)
      outChannels = shape[0]
    }
    fanIn = max(fanIn, 1)
    let q = max(x.secondMoment, 1e-8)
    let std = (signalVariance / (fanIn * q)).squareRoot()
    for e in w.indices where !wc[e] { w[e] = Float(std * rng.normal()) }
    store.values[wp.name] = w
    var bias: [Float]? = nil
    if let bp = layer.param(.bias), var b = store.values[bp.name], let bc = store.covered[bp.name] {
      for e in b.indices where !bc[e] { b[e] = 0 }
      store.values[bp.name] = b
      bias = b
    }
    // Output moments from the actual weights.
    var sums = [Double](repeating: 0, count: outChannels)
    var squares = sums
    let perRow = max(w.count / max(shape[0], 1), 1)
    for e in w.indices {
      let o = layer.cls.kind == .convTranspose ? (e / kernel) % outChannels : e / perRow
      guard o < outChannels else { continue }
      sums[o] += Double(w[e])
      squares[o] += Double(w[e]) * Double(w[e])
    }
    // A MatMul's bias is applied by the following Add, which the propagation visits.
    let includeBias = layer.opType != "MatMul"
    var means = [Double](repeating: 0, count: outChannels), vars = means
    for o in 0..<outChannels {
      let b = includeBias ? Double(bias.map { o < $0.count ? $0[o] : 0 } ?? 0) : 0
      means[o] = x.mean * sums[o] / taps + b
      vars[o] = x.variance * squares[o] / taps
    }
    return Self.pool(means, vars)
  }

  private func batchNorm(_ layer: Layer, _ node: Node, _ x: Moments, _ store: inout ParamStore) -> Moments? {
    let names = [ParamRole.scale, .shift, .mean, .variance].map { layer.param($0)?.name ?? "" }
    guard var g = store.values[names[0]], var b = store.values[names[1]],
          var m = store.values[names[2]], var v = store.values[names[3]] else { return nil }
    let fills: [Float] = [1, 0, Float(x.mean), Float(max(x.variance, 1e-6))]
    for (k, name) in names.enumerated() {
      guard let c = store.covered[name] else { continue }
      for e in c.indices where !c[e] {
        switch k {
        case 0: g[e] = fills[0]
        case 1: b[e] = fills[1]
        case 2: m[e] = fills[2]
        default: v[e] = fills[3]
        }
      }
    }
    store.values[names[0]] = g
    store.values[names[1]] = b
    store.values[names[2]] = m
    store.values[names[3]] = v
    let eps = Double(node.float("epsilon") ?? 1e-5)
    let n = min(g.count, b.count, m.count, v.count)
    var means = [Double](repeating: 0, count: n), vars = means
    for c in 0..<n {
      let inv = 1 / (max(Double(v[c]), 0) + eps).squareRoot()
      means[c] = Double(g[c]) * (x.mean - Double(m[c])) * inv + Double(b[c])
      vars[c] = Double(g[c]) * Double(g[c]) * x.variance * inv * inv
    }
    return Self.pool(means, vars)
  }

  /// Layer/instance/group normalization: the normalized signal is (0, 1); uncovered scale
  /// entries become 1 and shift entries 0; the output moments pool γ_c·z + β_c.
  private func affineNorm(_ layer: Layer, _ store: inout ParamStore) -> Moments? {
    guard let gp = layer.param(.scale), var g = store.values[gp.name], let gc = store.covered[gp.name] else { return nil }
    for e in g.indices where !gc[e] { g[e] = 1 }
    store.values[gp.name] = g
    var b = [Float](repeating: 0, count: g.count)
    if let bp = layer.param(.shift), var bv = store.values[bp.name], let bc = store.covered[bp.name] {
      for e in bv.indices where !bc[e] { bv[e] = 0 }
      store.values[bp.name] = bv
      if bv.count == g.count { b = bv }
    }
    return Self.pool(b.map(Double.init), g.map { Double($0) * Double($0) })
  }

  private func rule(_ node: Node, _ x: Moments, _ moments: (String) -> Moments?, _ shapes: ShapeTracker,
                    _ producers: [String: Int], _ graph: Graph) -> Moments? {
    let inputs = node.inputs.filter { !$0.isEmpty }
    func act(_ a: Activation) -> Moments { a.moments(x) }
    switch node.opType {
    case "Relu": return act(.relu)
    case "LeakyRelu": return act(.leakyRelu(Double(node.float("alpha") ?? 0.01)))
    case "Sigmoid": return act(.sigmoid)
    case "Tanh": return act(.tanh)
    case "Gelu": return act(.gelu)
    case "Elu": return act(.elu(Double(node.float("alpha") ?? 1)))
    case "Selu": return act(.selu)
    case "Softplus": return act(.softplus)
    case "Softsign": return act(.softsign)
    case "HardSwish": return act(.hardSwish)
    case "HardSigmoid":
      return act(.hardSigmoid(alpha: Double(node.float("alpha") ?? 0.2), beta: Double(node.float("beta") ?? 0.5)))
    case "Clip":
      var lo = -Double.infinity, hi = Double.infinity
      if let v = node.float("min") { lo = Double(v) }
      if let v = node.float("max") { hi = Double(v) }
      if inputs.count > 1, let m = moments(node.inputs[1]), node.inputs[1] != "" { lo = m.mean }
      if node.inputs.count > 2, node.inputs[2] != "", let m = moments(node.inputs[2]) { hi = m.mean }
      return act(.clip(lo: lo, hi: hi))
    case "PRelu":
      let slope = inputs.count > 1 ? moments(inputs[1])?.mean ?? 0.25 : 0.25
      return act(.leakyRelu(slope))
    case "Mul":
      guard inputs.count == 2 else { return x }
      // x · sigmoid(x) is SiLU, not a product of independent signals.
      for (a, b) in [(inputs[0], inputs[1]), (inputs[1], inputs[0])] {
        if let p = producers[b], graph.nodes[p].opType == "Sigmoid", graph.nodes[p].inputs.first == a,
           let m = moments(a) {
          return Activation.silu.moments(m)
        }
      }
      guard let a = moments(inputs[0]), let b = moments(inputs[1]) else { return x }
      let mu = a.mean * b.mean
      return Moments(mean: mu, variance: max(0, a.secondMoment * b.secondMoment - mu * mu))
    case "Div":
      guard inputs.count == 2, let a = moments(inputs[0]), let b = moments(inputs[1]), b.variance < 1e-12,
            abs(b.mean) > 1e-12 else { return x }
      return Moments(mean: a.mean / b.mean, variance: a.variance / (b.mean * b.mean))
    case "Add", "Sum":
      var mu = 0.0, v = 0.0
      for i in inputs { guard let m = moments(i) else { return x }; mu += m.mean; v += m.variance }
      return Moments(mean: mu, variance: v)
    case "Sub":
      guard inputs.count == 2, let a = moments(inputs[0]), let b = moments(inputs[1]) else { return x }
      return Moments(mean: a.mean - b.mean, variance: a.variance + b.variance)
    case "Mean":
      var mu = 0.0, v = 0.0
      for i in inputs { guard let m = moments(i) else { return x }; mu += m.mean; v += m.variance }
      let n = Double(max(inputs.count, 1))
      return Moments(mean: mu / n, variance: v / (n * n))
    case "Concat":
      var axis = Int(node.int("axis") ?? 1)
      var total = 0.0, m1 = 0.0, m2 = 0.0
      for i in inputs {
        guard let m = moments(i) else { return x }
        var c = 1.0
        if let s = shapes[i] {
          if axis < 0 { axis += s.count }
          if axis >= 0, axis < s.count { c = Double(s[axis]) }
        }
        total += c
        m1 += c * m.mean
        m2 += c * m.secondMoment
      }
      guard total > 0 else { return x }
      let mu = m1 / total
      return Moments(mean: mu, variance: max(0, m2 / total - mu * mu))
    case "AveragePool":
      let k = node.ints("kernel_shape")?.reduce(Int64(1), *) ?? 1
      return Moments(mean: x.mean, variance: x.variance / Double(max(k, 1)))
    case "MaxPool":
      let k = Int(node.ints("kernel_shape")?.reduce(Int64(1), *) ?? 1)
      let s = maxOfNormals(min(max(k, 1), 4096))
      let sd = x.variance.squareRoot()
      return Moments(mean: x.mean + sd * s.mean, variance: x.variance * s.variance)
    case "GlobalAveragePool", "GlobalMaxPool", "ReduceMean":
      var k = 1
      if let s = node.inputs.first.flatMap({ shapes[$0] }), s.count >= 3 { k = s[2...].reduce(1, *) }
      if node.opType == "ReduceMean" { return x }
      if node.opType == "GlobalMaxPool" {
        let s = maxOfNormals(min(max(k, 1), 4096))
        let sd = x.variance.squareRoot()
        return Moments(mean: x.mean + sd * s.mean, variance: x.variance * s.variance)
      }
      return Moments(mean: x.mean, variance: x.variance / Double(max(k, 1)))
    case "BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization":
      return .standard
    case "MatMul", "Gemm", "Conv":
      // Weights computed at run time: E[xy] rule over the reduced axis when its size is known.
      guard inputs.count >= 2, let a = moments(inputs[0]), let b = moments(inputs[1]) else { return x }
      var k = 1.0
      if let s = shapes[inputs[0]], let last = s.last { k = Double(last) }
      let mu = k * a.mean * b.mean
      return Moments(mean: mu, variance: max(0, k * (a.secondMoment * b.secondMoment - a.mean * a.mean * b.mean * b.mean)))
    default:
      return x
    }
  }
}
