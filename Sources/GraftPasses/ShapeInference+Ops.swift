import GraftIR

/// Ops whose single output has the type of input 0.
let sameTypeOps: Set<String> = [
  "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu",
  "Gelu", "Erf", "Exp", "Log", "Sqrt", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sin",
  "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Sign", "Softplus", "Softsign", "Softmax",
  "LogSoftmax", "Hardmax", "Clip", "Identity", "LRN", "InstanceNormalization", "Mish", "ThresholdedRelu",
  "CumSum", "Trilu", "MeanVarianceNormalization", "Shrink",
]
/// Element-wise ops with numpy broadcasting whose output has input 0's dtype.
let broadcastOps: Set<String> = ["Add", "Sub", "Mul", "Div", "Mod", "Pow", "Max", "Min", "Sum", "Mean",
                                 "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"]
/// Element-wise comparisons and logic with broadcasting: bool output.
let compareOps: Set<String> = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"]
let reduceOps: Set<String> = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceL1",
                              "ReduceProd", "ReduceSumSquare", "ReduceLogSumExp", "ReduceLogSum"]

extension InferenceEngine {
  /// Output types of an ai.onnx node (nil entries where unknown). Throws on inconsistent input.
  func inferTypes(_ io: NodeIO) throws -> [TensorType?] {
    let op = io.op
    let node = io.node
    let t0 = io.type(0)
    if sameTypeOps.contains(op) {
      if let a = node.int("axis"), let s = t0?.shape, op.hasSuffix("max") || op == "Softmax" || op == "LogSoftmax" {
        _ = try io.axis(a, rank: s.count)
      }
      return [t0]
    }
    if broadcastOps.contains(op) || compareOps.contains(op) {
      let dt = compareOps.contains(op) ? DType.bool : (t0?.dtype ?? .undefined)
      // Legacy (opset < 7) broadcast with an axis: the output has A's shape.
      if node.int("broadcast") != nil { return [t0.map { TensorType(dt, $0.shape) }] }
      var shape: Shape? = []
      for i in 0..<io.inputCount where io.has(i) {
        guard let s = io.shape(i), let cur = shape else { shape = nil; break }
        shape = try broadcastShapes(cur, s, io)
      }
      guard dt != .undefined else { return [nil] }
      return [TensorType(dt, shape)]
    }
    if reduceOps.contains(op) { return [try reduceType(io)] }
    switch op {
    case "Not", "IsNaN", "IsInf":
      return [t0.map { TensorType(.bool, $0.shape) }]
    case "Cast":
      guard let to = node.int("to"), let dt = DType(rawValue: Int32(to)) else { return [nil] }
      return [TensorType(dt, t0?.shape)]
    case "CastLike":
      guard let dt = io.dtype(1) else { return [nil] }
      return [TensorType(dt, t0?.shape)]
    case "Where":
      var shape: Shape? = io.shape(0)
      for i in 1..<3 {
        guard let s = io.shape(i), let cur = shape else { shape = nil; break }
        shape = try broadcastShapes(cur, s, io)
      }
      guard let dt = io.dtype(1) else { return [nil] }
      return [TensorType(dt, shape)]
    case "Dropout":
      return [t0, t0.map { TensorType(.bool, $0.shape) }]
    case "BatchNormalization":
      let c = t0?.shape.flatMap { $0.count > 1 ? [$0[1]] : nil }
      let stat = t0.map { TensorType($0.dtype, c) }
      return [t0, stat, stat, stat, stat]
    case "LayerNormalization":
      guard let t0, let s = t0.shape else { return [t0] }
      let a = try io.axis(node.int("axis") ?? -1, rank: s.count)
      let statShape = Shape(s.prefix(a)) + Array(repeating: Dim.known(1), count: s.count - a)
      let st = TensorType(.float32, statShape)
      return [t0, st, st]
    case "Conv", "ConvInteger", "QLinearConv":
      return [try convType(io)]
    case "ConvTranspose":
      return [try convTransposeType(io)]
    case "MaxPool", "AveragePool", "LpPool":
      let t = try poolType(io)
      return [t, t.map { TensorType(.int64, $0.shape) }]
    case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
      guard let t0, let s = t0.shape else { return [t0] }
      guard s.count >= 3 else { throw io.fail("input '\(io.inputName(0))' has rank \(s.count); \(op) needs rank 3 or more") }
      return [TensorType(t0.dtype, Array(s.prefix(2)) + Array(repeating: .known(1), count: s.count - 2))]
    case "Gemm":
      guard let a = io.shape(0), let b = io.shape(1), let dt = t0?.dtype else { return [nil] }
      guard a.count == 2, b.count == 2 else {
        throw io.fail("inputs have shapes \(a.text) and \(b.text); Gemm needs rank 2")
      }
      let ta = (node.int("transA") ?? 0) != 0, tb = (node.int("transB") ?? 0) != 0
      let m = ta ? a[1] : a[0], ka = ta ? a[0] : a[1]
      let kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1]
      if let x = ka.value, let y = kb.value, x != y {
        throw io.fail("inner dims disagree: A is \(a.text)\(ta ? " (transposed)" : ""), B is \(b.text)\(tb ? " (transposed)" : "")")
      }
      return [TensorType(dt, [m, n])]
    case "MatMul", "MatMulInteger", "QLinearMatMul":
      return [try matmulType(io)]
    case "Flatten":
      guard let t0, let s = t0.shape else { return [nil] }
      let axis = node.int("axis") ?? 1
      let r = Int64(s.count)
      guard axis >= -r && axis <= r else { throw io.fail("axis \(axis) is out of range for rank \(s.count)") }
      let a = Int(axis < 0 ? axis + r : axis)
      return [TensorType(t0.dtype, [dimProduct(s[0..<a]), dimProduct(s[a...])])]
    case "Reshape":
      return [try reshapeType(io)]
    case "Squeeze":
      guard let t0, let s = t0.shape else { return [nil] }
      let axesVals: [Int64]?
      if io.has(1) {
        guard let v = io.ints(1) else { return [TensorType(t0.dtype, nil)] }
        axesVals = v
      } else {
        axesVals = node.ints("axes")
      }
      if let axesVals {
        let axes = Set(try axesVals.map { try io.axis($0, rank: s.count) })
        for a in axes { if let v = s[a].value, v != 1 { throw io.fail("cannot squeeze axis \(a) of shape \(s.text) (size \(v))") } }
        return [TensorType(t0.dtype, s.enumerated().filter { !axes.contains($0.offset) }.map(\.element))]
      }
      if s.contains(where: { $0.value == nil }) { return [TensorType(t0.dtype, nil)] }
      return [TensorType(t0.dtype, s.filter { $0.value != 1 })]
    case "Unsqueeze":
      guard let t0, let s = t0.shape else { return [nil] }
      let axesVals: [Int64]
      if io.has(1) {
        guard let v = io.ints(1) else { return [TensorType(t0.dtype, nil)] }
        axesVals = v
      } else {
        axesVals = node.ints("axes") ?? []
      }
      let r = s.count + axesVals.count
      let axes = Set(try axesVals.map { try io.axis($0, rank: r) })
      guard axes.count == axesVals.count else { throw io.fail("axes \(axesVals) repeat an axis") }
      var out: Shape = []
      var it = s.makeIterator()
      for i in 0..<r { out.append(axes.contains(i) ? .known(1) : (it.next() ?? .known(1))) }
      return [TensorType(t0.dtype, out)]
    case "Transpose":
      guard let t0, let s = t0.shape else { return [t0.map { TensorType($0.dtype, nil) }] }
      let perm = node.ints("perm")?.map(Int.init) ?? Array((0..<s.count).reversed())
      guard perm.count == s.count, Set(perm) == Set(0..<s.count) else {
        throw io.fail("perm \(perm) is not a permutation of rank \(s.count)")
      }
      return [TensorType(t0.dtype, perm.map { s[$0] })]
    case "Concat":
      return [try concatType(io)]
    case "Split":
      return try splitTypes(io)
    case "Slice":
      return [try sliceType(io)]
    case "Pad":
      return [try padType(io)]
    case "Gather":
      guard let t0, let s = t0.shape, let q = io.shape(1) else { return [t0.map { TensorType($0.dtype, nil) }] }
      let a = try io.axis(node.int("axis") ?? 0, rank: s.count)
      return [TensorType(t0.dtype, Array(s[..<a]) + q + Array(s[(a + 1)...]))]
    case "GatherElements":
      guard let t0 else { return [nil] }
      return [TensorType(t0.dtype, io.shape(1))]
    case "GatherND", "ScatterND", "ScatterElements", "Scatter":
      return op.hasPrefix("Scatter") ? [t0] : [t0.map { TensorType($0.dtype, nil) }]
    case "Tile":
      guard let t0, let s = t0.shape else { return [nil] }
      guard let reps = io.ints(1) else { return [TensorType(t0.dtype, s.map { _ in unknownDim })] }
      guard reps.count == s.count else { throw io.fail("repeats has \(reps.count) entries; input has rank \(s.count)") }
      guard reps.allSatisfy({ $0 >= 0 }) else { throw io.fail("repeats \(reps) has a negative entry") }
      return [TensorType(t0.dtype, zip(s, reps).map { d, r in d.map { satMul($0, Int(r)) } })]
    case "Expand":
      guard let t0, let s = t0.shape else { return [nil] }
      guard let target = io.ints(1) else {
        if let n = io.shape(1)?.first?.value, n <= maxRank { return [TensorType(t0.dtype, Array(repeating: unknownDim, count: max(n, s.count)))] }
        return [TensorType(t0.dtype, nil)]
      }
      return [TensorType(t0.dtype, try broadcastShapes(s, Shape(target.map { Int($0) }), io))]
    case "Resize", "Upsample":
      return [try resizeType(io)]
    case "ArgMax", "ArgMin":
      guard let s = io.shape(0) else { return [TensorType(.int64, nil)] }
      let a = try io.axis(node.int("axis") ?? 0, rank: s.count)
      let keep = (node.int("keepdims") ?? 1) != 0
      var out = s
      if keep { out[a] = .known(1) } else { out.remove(at: a) }
      return [TensorType(.int64, out)]
    case "DepthToSpace", "SpaceToDepth":
      guard let t0, let s = t0.shape else { return [nil] }
      guard s.count == 4 else { throw io.fail("input '\(io.inputName(0))' has rank \(s.count); \(op) needs rank 4") }
      guard let b = node.int("blocksize"), b > 0, b <= 4096 else { throw io.fail("blocksize is missing or not in 1...4096") }
      let bb = Int(b)
      if op == "DepthToSpace" {
        return [TensorType(t0.dtype, [s[0], s[1].map { $0 / (bb * bb) }, s[2].map { $0 * bb }, s[3].map { $0 * bb }])]
      }
      return [TensorType(t0.dtype, [s[0], s[1].map { satMul($0, bb * bb) }, s[2].map { $0 / bb }, s[3].map { $0 / bb }])]
    case "LSTM", "GRU", "RNN":
      return try recurrentTypes(io)
    case "Shape":
      guard let s = io.shape(0) else { return [TensorType(.int64, [unknownDim])] }
      let (start, end) = shapeRange(io.node, rank: s.count)
      return [TensorType(.int64, [.known(max(0, end - start))])]
    case "Size":
      return [TensorType(.int64, [])]
    case "ConstantOfShape":
      var dt = DType.float32
      if case .tensor(let v)? = node[attribute: "value"] { dt = v.dtype }
      if let dims = io.ints(0) { return [TensorType(dt, Shape(dims.map { Int($0) }))] }
      if let n = io.shape(0)?.first?.value, n <= maxRank { return [TensorType(dt, Array(repeating: unknownDim, count: n))] }
      return [TensorType(dt, nil)]
    case "Range":
      guard let dt = t0?.dtype else { return [nil] }
      if let s = io.reals(0)?.first, let l = io.reals(1)?.first, let d = io.reals(2)?.first {
        guard d != 0 else { throw io.fail("delta is 0") }
        return [TensorType(dt, [.known(rangeCount(s, l, d))])]
      }
      return [TensorType(dt, [unknownDim])]
    case "If":
      return ifTypes(io)
    case "TopK":
      guard let t0, var s = t0.shape else { return [nil, nil] }
      let a = try io.axis(node.int("axis") ?? -1, rank: s.count)
      if let k = io.ints(1)?.first { s[a] = .known(Int(k)) } else if let k = node.int("k") { s[a] = .known(Int(k)) } else { s[a] = unknownDim }
      return [TensorType(t0.dtype, s), TensorType(.int64, s)]
    case "NonZero":
      return [TensorType(.int64, io.shape(0).map { [.known($0.count), unknownDim] })]
    case "EyeLike":
      return [t0.map { TensorType(node.int("dtype").flatMap { DType(rawValue: Int32($0)) } ?? $0.dtype, $0.shape) }]
    case "OneHot":
      return [TensorType(io.dtype(2) ?? .float32, nil)]
    default:
      return []
    }
  }

  /// Start/end of the `Shape` op's slice (opset 15 `start`/`end` attributes), clamped.
  func shapeRange(_ node: Node, rank: Int) -> (Int, Int) {
    func norm(_ v: Int64) -> Int {
      let x = v < 0 ? v + Int64(rank) : v
      return Int(min(max(x, 0), Int64(rank)))
    }
    return (norm(node.int("start") ?? 0), norm(node.int("end") ?? Int64(rank)))
  }

  func reduceType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0) else { return nil }
    guard let s = t0.shape else { return TensorType(t0.dtype, nil) }
    let keep = (io.node.int("keepdims") ?? 1) != 0
    var axesVals: [Int64]?
    if io.has(1) {
      guard let v = io.ints(1) else { return TensorType(t0.dtype, keep ? s.map { _ in unknownDim } : nil) }
      axesVals = v
    } else {
      axesVals = io.node.ints("axes")
    }
    var axes: Set<Int>
    if let axesVals, !axesVals.isEmpty {
      axes = Set(try axesVals.map { try io.axis($0, rank: s.count) })
    } else if (io.node.int("noop_with_empty_axes") ?? 0) != 0 {
      return t0
    } else {
      axes = Set(0..<s.count)
    }
    var out: Shape = []
    for (i, d) in s.enumerated() {
      if axes.contains(i) { if keep { out.append(.known(1)) } } else { out.append(d) }
    }
    return TensorType(t0.dtype, out)
  }

  /// Spatial output size for conv/pool windows, ONNX rules (explicit pads or auto_pad).
  func windowOutput(_ input: Dim, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int,
                    autoPad: String, ceilMode: Bool) -> Dim {
    guard let n = input.value else { return unknownDim }
    let eff = (kernel - 1) * dilation + 1
    switch autoPad {
    case "SAME_UPPER", "SAME_LOWER":
      return .known((n + stride - 1) / stride)
    case "VALID":
      return .known(max(0, (n - eff) / stride + 1))
    default:
      let span = n + padBegin + padEnd - eff
      if span < 0 { return .known(0) }
      if ceilMode {
        var out = (span + stride - 1) / stride + 1
        // The last window must start inside the input or the left padding.
        if (out - 1) * stride >= n + padBegin { out -= 1 }
        return .known(out)
      }
      return .known(span / stride + 1)
    }
  }

  /// Output dtype of Conv-family nodes.
  func outTypeFor(_ io: NodeIO) -> DType {
    let t0 = io.dtype(0) ?? .float32
    switch io.op {
    case "ConvInteger": return .int32
    case "QLinearConv": return io.dtype(7) ?? t0
    default: return t0
    }
  }

  func convType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0), let x = t0.shape else { return nil }
    let outType: DType = io.op == "ConvInteger" ? .int32 : (io.op == "QLinearConv" ? (io.dtype(7) ?? t0.dtype) : t0.dtype)
    let wIndex = io.op == "QLinearConv" ? 3 : 1
    guard let w = io.shape(wIndex) else { return TensorType(outType, nil) }
    guard x.count >= 3 else {
      throw io.fail("input '\(io.inputName(0))' has rank \(x.count); \(io.op) needs rank 3 or more")
    }
    guard w.count == x.count else {
      throw io.fail("weight '\(io.inputName(wIndex))' has rank \(w.count); input has rank \(x.count)")
    }
    let sp = x.count - 2
    let group = Int(io.node.int("group") ?? 1)
    guard group >= 1 && group <= Int(Int32.max) else { throw io.fail("group \(group) is not positive") }
    if let c = x[1].value, let wc = w[1].value, satMul(wc, group) != c {
      throw io.fail("input has \(c) channels; weight expects \(wc) x group \(group)")
    }
    // Kernel dims from the attribute, else from the weight; unknown weight dims leave the
    // spatial output dims unknown (never guessed).
    let kernelKnown = io.node.ints("kernel_shape") != nil || w[2...].allSatisfy { $0.value != nil }
    guard kernelKnown else {
      return TensorType(outTypeFor(io), Array(x.prefix(1)) + [io.op == "ConvTranspose" ? w[1].map { satMul($0, Int(io.node.int("group") ?? 1)) } : w[0]]
                        + Array(repeating: unknownDim, count: x.count - 2))
    }
    let kernel = io.node.ints("kernel_shape")?.map(Int.init) ?? w[2...].map { $0.value ?? 1 }
    let (strides, dil, pads) = try windowParams(io, spatial: sp)
    guard kernel.count == sp else { throw io.fail("kernel_shape has \(kernel.count) dims; input has \(sp) spatial dims") }
    guard kernel.allSatisfy({ $0 >= 1 && $0 <= Int(Int32.max) }) else { throw io.fail("kernel_shape \(kernel) must be positive") }
    let autoPad = io.node.string("auto_pad") ?? "NOTSET"
    var out: Shape = [x[0], w[0]]
    for i in 0..<sp {
      out.append(windowOutput(x[2 + i], kernel: kernel[i], stride: strides[i], dilation: dil[i],
                              padBegin: pads[i], padEnd: pads[sp + i], autoPad: autoPad, ceilMode: false))
    }
    return TensorType(outType, out)
  }

  /// strides, dilations, pads (begin..., end...) with defaults; throws on wrong lengths.
  func windowParams(_ io: NodeIO, spatial sp: Int) throws -> ([Int], [Int], [Int]) {
    let strides = io.node.ints("strides")?.map(Int.init) ?? Array(repeating: 1, count: sp)
    let dil = io.node.ints("dilations")?.map(Int.init) ?? Array(repeating: 1, count: sp)
    let pads = io.node.ints("pads")?.map(Int.init) ?? Array(repeating: 0, count: 2 * sp)
    guard strides.count == sp, dil.count == sp, pads.count == 2 * sp else {
      throw io.fail("strides/dilations/pads have \(strides.count)/\(dil.count)/\(pads.count) entries; input has \(sp) spatial dims")
    }
    let limit = Int(Int32.max)
    guard strides.allSatisfy({ $0 > 0 && $0 <= limit }), dil.allSatisfy({ $0 > 0 && $0 <= limit }) else {
      throw io.fail("strides and dilations must be positive")
    }
    guard pads.allSatisfy({ $0 >= 0 && $0 <= limit }) else { throw io.fail("pads \(pads) must be non-negative") }
    return (strides, dil, pads)
  }

  func convTransposeType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0), let x = t0.shape else { return nil }
    guard let w = io.shape(1) else { return TensorType(t0.dtype, nil) }
    guard x.count >= 3, w.count == x.count else {
      throw io.fail("input has rank \(x.count) and weight rank \(w.count); ConvTranspose needs equal ranks of 3 or more")
    }
    let sp = x.count - 2
    let group = Int(io.node.int("group") ?? 1)
    // Kernel dims from the attribute, else from the weight; unknown weight dims leave the
    // spatial output dims unknown (never guessed).
    let kernelKnown = io.node.ints("kernel_shape") != nil || w[2...].allSatisfy { $0.value != nil }
    guard kernelKnown else {
      return TensorType(outTypeFor(io), Array(x.prefix(1)) + [io.op == "ConvTranspose" ? w[1].map { satMul($0, Int(io.node.int("group") ?? 1)) } : w[0]]
                        + Array(repeating: unknownDim, count: x.count - 2))
    }
    let kernel = io.node.ints("kernel_shape")?.map(Int.init) ?? w[2...].map { $0.value ?? 1 }
    let (strides, dil, pads) = try windowParams(io, spatial: sp)
    let outPad = io.node.ints("output_padding")?.map(Int.init) ?? Array(repeating: 0, count: sp)
    guard kernel.count == sp, kernel.allSatisfy({ $0 >= 1 && $0 <= Int(Int32.max) }) else {
      throw io.fail("kernel_shape \(kernel) must have \(sp) positive entries")
    }
    guard group >= 1 && group <= Int(Int32.max) else { throw io.fail("group \(group) is not positive") }
    let outPadOK = outPad.allSatisfy { $0 >= 0 && $0 <= Int(Int32.max) }
    guard outPadOK else { throw io.fail("output_padding \(outPad) is out of range") }
    var out: Shape = [x[0], w[1].map { satMul($0, group) }]
    if let os = io.node.ints("output_shape") {
      let tail = os.suffix(sp)
      guard tail.count == sp else { throw io.fail("output_shape has \(os.count) entries; input has \(sp) spatial dims") }
      out += tail.map { .known(Int($0)) }
      return TensorType(t0.dtype, out)
    }
    let autoPad = io.node.string("auto_pad") ?? "NOTSET"
    for i in 0..<sp {
      guard let n = x[2 + i].value else { out.append(unknownDim); continue }
      if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
        out.append(.known(n * strides[i]))
      } else {
        let p = autoPad == "VALID" ? 0 : pads[i] + pads[sp + i]
        let op = i < outPad.count ? outPad[i] : 0
        out.append(.known(strides[i] * (n - 1) + op + (kernel[i] - 1) * dil[i] + 1 - p))
      }
    }
    return TensorType(t0.dtype, out)
  }

  func poolType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0), let x = t0.shape else { return nil }
    guard x.count >= 3 else {
      throw io.fail("input '\(io.inputName(0))' has rank \(x.count); \(io.op) needs rank 3 or more")
    }
    let sp = x.count - 2
    guard let kernel = io.node.ints("kernel_shape")?.map(Int.init), kernel.count == sp else {
      throw io.fail("kernel_shape is missing or does not have \(sp) entries")
    }
    guard kernel.allSatisfy({ $0 >= 1 && $0 <= Int(Int32.max) }) else { throw io.fail("kernel_shape \(kernel) must be positive") }
    let (strides, dil, pads) = try windowParams(io, spatial: sp)
    let autoPad = io.node.string("auto_pad") ?? "NOTSET"
    let ceil = (io.node.int("ceil_mode") ?? 0) != 0
    var out: Shape = [x[0], x[1]]
    for i in 0..<sp {
      out.append(windowOutput(x[2 + i], kernel: kernel[i], stride: strides[i], dilation: dil[i],
                              padBegin: pads[i], padEnd: pads[sp + i], autoPad: autoPad, ceilMode: ceil))
    }
    return TensorType(t0.dtype, out)
  }

  func matmulType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0) else { return nil }
    let dt: DType = io.op == "MatMulInteger" ? .int32 : (io.op == "QLinearMatMul" ? (io.dtype(7) ?? t0.dtype) : t0.dtype)
    let bIndex = io.op == "QLinearMatMul" ? 3 : 1
    guard var a = t0.shape, var b = io.shape(bIndex) else { return TensorType(dt, nil) }
    guard !a.isEmpty, !b.isEmpty else { throw io.fail("MatMul inputs must have rank 1 or more") }
    let aVec = a.count == 1, bVec = b.count == 1
    if aVec { a = [.known(1)] + a }
    if bVec { b = b + [.known(1)] }
    let k1 = a[a.count - 1], k2 = b[b.count - 2]
    if let x = k1.value, let y = k2.value, x != y {
      throw io.fail("inner dims disagree: \(io.shape(0)?.text ?? "?") times \(io.shape(bIndex)?.text ?? "?")")
    }
    let batch = try broadcastShapes(Array(a.dropLast(2)), Array(b.dropLast(2)), io)
    var out = batch
    if !aVec { out.append(a[a.count - 2]) }
    if !bVec { out.append(b[b.count - 1]) }
    return TensorType(dt, out)
  }

  func reshapeType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0) else { return nil }
    var target: [Int64]
    if io.has(1) {
      guard let v = io.ints(1) else {
        if let n = io.shape(1)?.first?.value, n <= maxRank { return TensorType(t0.dtype, Array(repeating: unknownDim, count: n)) }
        return TensorType(t0.dtype, nil)
      }
      target = v
    } else if let v = io.node.ints("shape") {
      target = v
    } else {
      return TensorType(t0.dtype, nil)
    }
    let allowZero = (io.node.int("allowzero") ?? 0) != 0
    let s = t0.shape
    var out: Shape = []
    var minusOne: Int?
    for (i, v) in target.enumerated() {
      if v == 0 && !allowZero {
        guard let s else { out.append(unknownDim); continue }
        guard i < s.count else { throw io.fail("shape entry \(i) is 0 (copy) but the input has rank \(s.count)") }
        out.append(s[i])
      } else if v == -1 {
        guard minusOne == nil else { throw io.fail("shape \(target) has more than one -1") }
        minusOne = i
        out.append(unknownDim)
      } else if v < 0 {
        throw io.fail("shape \(target) has a negative entry")
      } else {
        out.append(.known(Int(v)))
      }
    }
    if let m = minusOne, let total = s?.concrete.map(saturatingCount) {
      var rest = 1
      var known = true
      for (i, d) in out.enumerated() where i != m {
        guard let v = d.value else { known = false; break }
        rest = satMul(rest, v)
      }
      if known {
        guard rest != 0 ? total % rest == 0 : total == 0 else {
          throw io.fail("cannot reshape \(s?.text ?? "?") (\(total) elements) to \(target)")
        }
        out[m] = .known(rest == 0 ? 0 : total / rest)
      }
    } else if minusOne == nil, let total = s?.concrete.map(saturatingCount), let o = out.concrete, saturatingCount(o) != total {
      throw io.fail("cannot reshape \(s?.text ?? "?") (\(total) elements) to \(Shape(o).text)")
    }
    return TensorType(t0.dtype, out)
  }

  func concatType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0) else { return nil }
    var shapes: [Shape] = []
    for i in 0..<io.inputCount where io.has(i) {
      guard let s = io.shape(i) else { return TensorType(t0.dtype, nil) }
      shapes.append(s)
    }
    guard let first = shapes.first else { return TensorType(t0.dtype, nil) }
    let axisAttr = io.node.int("axis") ?? (io.opset < 4 ? 1 : 0)
    let a = try io.axis(axisAttr, rank: first.count)
    var out = first
    var total: Int? = 0
    for s in shapes {
      guard s.count == first.count else { throw io.fail("inputs have ranks \(first.count) and \(s.count); Concat needs equal ranks") }
      for i in 0..<s.count where i != a {
        if let x = s[i].value, let y = out[i].value, x != y {
          throw io.fail("inputs disagree in dim \(i) (\(first.text) vs \(s.text))")
        }
        if out[i].value == nil, s[i].value != nil { out[i] = s[i] }
      }
      if let t = total, let v = s[a].value { total = t + v } else { total = nil }
    }
    out[a] = total.map { .known($0) } ?? unknownDim
    return TensorType(t0.dtype, out)
  }

  func splitTypes(_ io: NodeIO) throws -> [TensorType?] {
    let n = io.node.outputs.count
    guard let t0 = io.type(0), let s = t0.shape else { return Array(repeating: nil, count: n) }
    let a = try io.axis(io.node.int("axis") ?? 0, rank: s.count)
    var sizes: [Int]?
    if io.has(1) {
      sizes = io.ints(1)?.map(Int.init)
    } else if let v = io.node.ints("split") {
      sizes = v.map(Int.init)
    } else if let total = s[a].value {
      let parts = Int(io.node.int("num_outputs") ?? Int64(n))
      guard parts > 0 else { throw io.fail("num_outputs must be positive") }
      let chunk = (total + parts - 1) / parts
      sizes = (0..<n).map { i in max(0, min(chunk, total - i * chunk)) }
    }
    guard let sizes else {
      var o = s
      o[a] = unknownDim
      return Array(repeating: TensorType(t0.dtype, o), count: n)
    }
    guard sizes.count == n else { throw io.fail("split has \(sizes.count) entries for \(n) outputs") }
    if let total = s[a].value, sizes.reduce(0, &+) != total {
      throw io.fail("split sizes \(sizes) do not add up to dim \(a) of \(s.text)")
    }
    return sizes.map { sz in
      var o = s
      o[a] = .known(sz)
      return TensorType(t0.dtype, o)
    }
  }

  /// Slice parameters: starts, ends, axes, steps (from inputs, or attributes before opset 10).
  func sliceParams(_ io: NodeIO, rank: Int) throws -> (starts: [Int64], ends: [Int64], axes: [Int], steps: [Int64])? {
    let starts: [Int64], ends: [Int64]
    var axesV: [Int64]?, steps: [Int64]?
    if io.has(1) || io.node.ints("starts") == nil {
      guard let s = io.ints(1), let e = io.ints(2) else { return nil }
      starts = s
      ends = e
      if io.has(3) { guard let v = io.ints(3) else { return nil }; axesV = v }
      if io.has(4) { guard let v = io.ints(4) else { return nil }; steps = v }
    } else {
      starts = io.node.ints("starts") ?? []
      ends = io.node.ints("ends") ?? []
      axesV = io.node.ints("axes")
    }
    let axes = try (axesV ?? (0..<Int64(starts.count)).map { $0 }).map { try io.axis($0, rank: rank) }
    let st = steps ?? Array(repeating: 1, count: starts.count)
    guard starts.count == ends.count, axes.count == starts.count, st.count == starts.count else {
      throw io.fail("starts/ends/axes/steps have different lengths")
    }
    guard st.allSatisfy({ $0 != 0 }) else { throw io.fail("slice step is 0") }
    return (starts, ends, axes, st)
  }

  func sliceType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0), let s = t0.shape else { return io.type(0).map { TensorType($0.dtype, nil) } }
    guard let p = try sliceParams(io, rank: s.count) else {
      var out = s
      if let ax = io.ints(3) { for a in ax { if let i = try? io.axis(a, rank: s.count) { out[i] = unknownDim } } }
      else { out = s.map { _ in unknownDim } }
      return TensorType(t0.dtype, out)
    }
    var out = s
    for k in 0..<p.axes.count {
      let a = p.axes[k]
      guard let n = s[a].value else { out[a] = unknownDim; continue }
      out[a] = .known(sliceCount(dim: n, start: p.starts[k], end: p.ends[k], step: p.steps[k]))
    }
    return TensorType(t0.dtype, out)
  }

  func padType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0), let s = t0.shape else { return io.type(0) }
    var pads: [Int64]
    if io.has(1) {
      guard let v = io.ints(1) else { return TensorType(t0.dtype, s.map { _ in unknownDim }) }
      pads = v
    } else if let v = io.node.ints("pads") ?? io.node.ints("paddings") {
      pads = v
    } else {
      return TensorType(t0.dtype, nil)
    }
    var axes = Array(0..<s.count)
    if io.has(3) {
      guard let v = io.ints(3) else { return TensorType(t0.dtype, s.map { _ in unknownDim }) }
      axes = try v.map { try io.axis($0, rank: s.count) }
    }
    guard pads.count == 2 * axes.count else {
      throw io.fail("pads has \(pads.count) entries; input has rank \(s.count)")
    }
    guard pads.allSatisfy({ abs($0) <= Int64(maxDimSize) }) else { throw io.fail("pads \(pads) are out of range") }
    var out = s
    for (k, a) in axes.enumerated() {
      let add = Int(pads[k] + pads[axes.count + k])
      out[a] = s[a].map { $0 + add }
      if let v = out[a].value, v < 0 { throw io.fail("pads make dim \(a) negative") }
    }
    return TensorType(t0.dtype, out)
  }

  func resizeType(_ io: NodeIO) throws -> TensorType? {
    guard let t0 = io.type(0), let s = t0.shape else { return io.type(0) }
    // Opset 10 Resize and Upsample >= 9: (X, scales). Opset 11+: (X, roi, scales, sizes).
    let legacy = io.op == "Upsample" || (io.opset < 11 && io.inputCount <= 2)
    var scales: [Double]?
    var sizes: [Int64]?
    if legacy {
      scales = io.has(1) ? io.reals(1) : io.node.floats("scales")?.map(Double.init)
    } else {
      if io.has(3) { sizes = io.ints(3); if sizes == nil { return TensorType(t0.dtype, s.map { _ in unknownDim }) } }
      if sizes == nil, io.has(2) {
        scales = io.reals(2)
        if let sc = scales, sc.isEmpty { scales = nil }
      }
    }
    var axes = Array(0..<s.count)
    if let ax = io.node.ints("axes") { axes = try ax.map { try io.axis($0, rank: s.count) } }
    var out = s
    if let sizes {
      guard sizes.count == axes.count else { throw io.fail("sizes has \(sizes.count) entries; expected \(axes.count)") }
      let policy = io.node.string("keep_aspect_ratio_policy") ?? "stretch"
      if policy != "stretch" {
        // Scale by the smaller (not_larger) or larger (not_smaller) ratio on every axis.
        var ratios: [Double] = []
        for (k, a) in axes.enumerated() {
          guard let n = s[a].value, n > 0 else { return TensorType(t0.dtype, s.map { _ in unknownDim }) }
          ratios.append(Double(sizes[k]) / Double(n))
        }
        let r = policy == "not_larger" ? (ratios.min() ?? 1) : (ratios.max() ?? 1)
        guard r.isFinite, r >= 0, r * Double(s.compactMap(\.value).max() ?? 0) <= Double(maxDimSize) else {
          throw io.fail("sizes \(sizes) are out of range")
        }
        for a in axes { out[a] = s[a].map { Int((Double($0) * r).rounded()) } }
      } else {
        for (k, a) in axes.enumerated() { out[a] = .known(Int(sizes[k])) }
      }
      return TensorType(t0.dtype, out)
    }
    guard let scales else { return TensorType(t0.dtype, s.map { _ in unknownDim }) }
    guard scales.count == axes.count else { throw io.fail("scales has \(scales.count) entries; input has rank \(s.count)") }
    guard scales.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw io.fail("scales \(scales) must be positive and finite") }
    for (k, a) in axes.enumerated() {
      let v = (Double(s[a].value ?? 0) * scales[k]).rounded(.down)
      guard v <= Double(maxDimSize) else { throw io.fail("scales \(scales) make dim \(a) larger than \(maxDimSize)") }
      out[a] = s[a].map { _ in Int(v) }
    }
    return TensorType(t0.dtype, out)
  }

  func recurrentTypes(_ io: NodeIO) throws -> [TensorType?] {
    guard let t0 = io.type(0), let x = t0.shape else { return [nil, nil, nil] }
    guard x.count == 3 else { throw io.fail("input '\(io.inputName(0))' has rank \(x.count); \(io.op) needs rank 3") }
    let dirs = io.node.string("direction") == "bidirectional" ? 2 : 1
    var hidden: Dim = unknownDim
    if let h = io.node.int("hidden_size") { hidden = .known(Int(h)) }
    else if let r = io.shape(2), r.count == 3 { hidden = r[2] }
    let batchFirst = (io.node.int("layout") ?? 0) != 0
    let seq = batchFirst ? x[1] : x[0], batch = batchFirst ? x[0] : x[1]
    let d = Dim.known(dirs)
    let y = batchFirst ? [batch, seq, d, hidden] : [seq, d, batch, hidden]
    let h = batchFirst ? [batch, d, hidden] : [d, batch, hidden]
    return [TensorType(t0.dtype, y), TensorType(t0.dtype, h), TensorType(t0.dtype, h)]
  }

  /// If: the types of the taken branch when the condition is constant, else the then-branch
  /// types with dims that disagree between the branches made unknown.
  func ifTypes(_ io: NodeIO) -> [TensorType?] {
    var thenG: Graph?, elseG: Graph?
    for a in io.node.attributes {
      if case .graph(let g) = a.value {
        if a.name == "then_branch" { thenG = g } else if a.name == "else_branch" { elseG = g }
      }
    }
    func outTypes(_ g: Graph?) -> [TensorType?] {
      guard let g else { return [] }
      return g.outputs.map { o in g.valueInfo[o.name] ?? o.type ?? g.initializer(o.name)?.type }
    }
    let tt = outTypes(thenG), et = outTypes(elseG)
    if let c = io.ints(0)?.first { return c != 0 ? tt : et }
    return tt.enumerated().map { i, t in
      guard let t, i < et.count, let e = et[i] else { return t }
      guard let a = t.shape, let b = e.shape, a.count == b.count else { return TensorType(t.dtype, nil) }
      return TensorType(t.dtype, zip(a, b).map { $0 == $1 ? $0 : unknownDim })
    }
  }
}

/// Number of elements of ONNX Range(start, limit, delta).
func rangeCount(_ start: Double, _ limit: Double, _ delta: Double) -> Int {
  let n = ((limit - start) / delta).rounded(.up)
  if !(n > 0) { return 0 }
  return n > 1e12 ? Int(1e12) : Int(n)
}

/// How many indices a Slice takes along one axis (same clamping as `sliceRange`), in O(1).
func sliceCount(dim: Int, start: Int64, end: Int64, step: Int64) -> Int {
  let n = Int64(dim)
  var s = start < 0 ? start + n : start
  var e = end < 0 ? end + n : end
  if step > 0 {
    s = min(max(s, 0), n)
    e = min(max(e, 0), n)
    return e > s ? Int((e - s - 1) / step + 1) : 0
  }
  s = min(max(s, -1), n - 1)
  e = min(max(e, -1), n - 1)
  return s > e ? Int((s - e - 1) / (0 &- step) + 1) : 0
}

/// The indices a Slice takes along one axis of size `dim` (ONNX clamping, negative steps).
func sliceRange(dim: Int, start: Int64, end: Int64, step: Int64) -> StrideTo<Int> {
  let n = Int64(dim)
  var s = start < 0 ? start + n : start
  var e = end < 0 ? end + n : end
  if step > 0 {
    s = min(max(s, 0), n)
    e = min(max(e, 0), n)
  } else {
    s = min(max(s, -1), n - 1)
    e = min(max(e, -1), n - 1)
  }
  return stride(from: Int(s), to: Int(e), by: Int(step))
}
