import GraftIR

/// Best-effort static shapes for the analytic init (spatial sizes for global pooling, concat
/// weights). Symbolic dims of graph inputs are taken as 1 (batch). Ops it does not know give
/// no shape; callers fall back to neutral assumptions. Never throws, never allocates by a
/// size read from the model.
struct ShapeTracker {
  private(set) var shapes: [String: [Int]] = [:]
  let constants: [String: Tensor]

  init(graph: Graph, constants: [String: Tensor]) {
    self.constants = constants
    for (n, t) in constants { shapes[n] = t.dims }
    for i in graph.inputs where shapes[i.name] == nil {
      if let s = i.type?.shape { shapes[i.name] = s.map { $0.value.map { max($0, 0) } ?? 1 } }
    }
    for (n, t) in graph.valueInfo where shapes[n] == nil {
      if let s = t.shape?.concrete { shapes[n] = s }
    }
  }

  subscript(_ v: String) -> [Int]? { shapes[v] }

  mutating func visit(_ node: Node) {
    guard let out = node.outputs.first, !out.isEmpty, shapes[out] == nil else { return }
    if let s = infer(node) { shapes[out] = s }
  }

  private func infer(_ node: Node) -> [Int]? {
    let ins = node.inputs.map { $0.isEmpty ? nil : shapes[$0] }
    let x = ins.first ?? nil
    switch node.opType {
    case "Conv", "MaxPool", "AveragePool", "LpPool":
      guard let x, x.count >= 3 else { return nil }
      let spatial = x.count - 2
      var kernel: [Int]
      var channels = x[1]
      if node.opType == "Conv" {
        guard ins.count > 1, let w = ins[1], w.count == x.count else { return nil }
        kernel = Array(w[2...])
        channels = w[0]
      } else {
        guard let k = node.ints("kernel_shape"), k.count == spatial else { return nil }
        kernel = k.map { Int($0) }
      }
      let strides = node.ints("strides")?.map { Int($0) } ?? Array(repeating: 1, count: spatial)
      let dil = node.ints("dilations")?.map { Int($0) } ?? Array(repeating: 1, count: spatial)
      let pads = node.ints("pads")?.map { Int($0) } ?? Array(repeating: 0, count: 2 * spatial)
      let autoPad = node.string("auto_pad") ?? "NOTSET"
      let ceilMode = (node.int("ceil_mode") ?? 0) != 0
      guard strides.count == spatial, dil.count == spatial, pads.count == 2 * spatial else { return nil }
      var out = [x[0], channels]
      for a in 0..<spatial {
        let s = max(strides[a], 1)
        if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
          out.append((x[a + 2] + s - 1) / s)
        } else {
          let eff = dil[a] * (kernel[a] - 1) + 1
          let span = x[a + 2] + pads[a] + pads[a + spatial] - eff
          guard span >= 0 else { return nil }
          out.append((ceilMode ? (span + s - 1) / s : span / s) + 1)
        }
      }
      return out
    case "ConvTranspose":
      guard let x, x.count >= 3, ins.count > 1, let w = ins[1], w.count == x.count else { return nil }
      let spatial = x.count - 2
      let g = Int(node.int("group") ?? 1)
      if let os = node.ints("output_shape"), os.count == spatial { return [x[0], w[1] * g] + os.map { Int($0) } }
      let strides = node.ints("strides")?.map { Int($0) } ?? Array(repeating: 1, count: spatial)
      let dil = node.ints("dilations")?.map { Int($0) } ?? Array(repeating: 1, count: spatial)
      let pads = node.ints("pads")?.map { Int($0) } ?? Array(repeating: 0, count: 2 * spatial)
      let opad = node.ints("output_padding")?.map { Int($0) } ?? Array(repeating: 0, count: spatial)
      guard strides.count == spatial, dil.count == spatial, pads.count == 2 * spatial, opad.count == spatial else { return nil }
      var out = [x[0], w[1] * g]
      for a in 0..<spatial {
        out.append(strides[a] * (x[a + 2] - 1) + opad[a] + (w[a + 2] - 1) * dil[a] + 1 - pads[a] - pads[a + spatial])
      }
      return out.allSatisfy { $0 > 0 } ? out : nil
    case "GlobalAveragePool", "GlobalMaxPool":
      guard let x, x.count >= 3 else { return nil }
      return [x[0], x[1]] + Array(repeating: 1, count: x.count - 2)
    case "Gemm":
      guard let a = x, a.count == 2, ins.count > 1, let b = ins[1], b.count == 2 else { return nil }
      let m = (node.int("transA") ?? 0) != 0 ? a[1] : a[0]
      let n = (node.int("transB") ?? 0) != 0 ? b[0] : b[1]
      return [m, n]
    case "MatMul":
      guard let a = x, a.count >= 2, ins.count > 1, let b = ins[1], b.count >= 2 else { return nil }
      return Array(a.dropLast()) + [b[b.count - 1]]
    case "Flatten":
      guard let x else { return nil }
      var axis = Int(node.int("axis") ?? 1)
      if axis < 0 { axis += x.count }
      guard axis >= 0, axis <= x.count else { return nil }
      return [x[..<axis].reduce(1, *), x[axis...].reduce(1, *)]
    case "Reshape":
      guard let x, node.inputs.count > 1, let t = constants[node.inputs[1]], var dims = t.integers() else { return nil }
      let total = x.reduce(1, *)
      for i in dims.indices where dims[i] == 0 && i < x.count { dims[i] = Int64(x[i]) }
      let known = dims.filter { $0 > 0 }.reduce(Int64(1), *)
      guard known > 0 else { return nil }
      if let m = dims.firstIndex(of: -1) { dims[m] = Int64(total) / known }
      let out = dims.map { Int($0) }
      return out.allSatisfy({ $0 >= 0 }) && out.reduce(1, *) == total ? out : nil
    case "Concat":
      let parts = ins.compactMap { $0 }
      guard parts.count == ins.count, let first = parts.first else { return nil }
      var axis = Int(node.int("axis") ?? 0)
      if axis < 0 { axis += first.count }
      guard axis >= 0, axis < first.count, parts.allSatisfy({ $0.count == first.count }) else { return nil }
      var out = first
      out[axis] = parts.reduce(0) { $0 + $1[axis] }
      return out
    case "Transpose":
      guard let x else { return nil }
      let perm = node.ints("perm")?.map { Int($0) } ?? Array((0..<x.count).reversed())
      guard perm.count == x.count, perm.allSatisfy({ $0 >= 0 && $0 < x.count }) else { return nil }
      return perm.map { x[$0] }
    case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu", "Where":
      var out: [Int] = []
      for s in ins {
        guard let s else { return nil }
        out = broadcast(out, s) ?? []
        if out.isEmpty && !s.isEmpty { return nil }
      }
      return out
    case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Gelu", "Elu", "Selu", "Softplus", "Softsign", "HardSwish",
         "HardSigmoid", "Clip", "BatchNormalization", "InstanceNormalization", "LayerNormalization",
         "GroupNormalization", "Dropout", "Identity", "Softmax", "LogSoftmax", "Neg", "Abs", "Exp", "Sqrt",
         "Erf", "Cast", "LRN", "Mish", "ThresholdedRelu", "Celu":
      return x
    default:
      return nil
    }
  }

  private func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
      let x = i < r - a.count ? 1 : a[i - (r - a.count)]
      let y = i < r - b.count ? 1 : b[i - (r - b.count)]
      guard x == y || x == 1 || y == 1 else { return nil }
      out[i] = max(x, y)
    }
    return out
  }
}
