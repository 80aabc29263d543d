import GraftIR

/// Shape-class ops the shape inference folds when all inputs are constant and small.
/// Arithmetic and comparisons fold on integer/bool tensors only; data movement on any
/// numeric dtype. Everything else (float compute, big fills) is left to the back end.
public let shapeFoldableOps: Set<String> = [
  "Shape", "Size", "Identity", "Cast", "Gather", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Flatten",
  "Slice", "Transpose", "Expand", "Tile", "Split", "ConstantOfShape", "Range", "Where", "Not", "And", "Or", "Xor",
  "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Neg", "Abs", "Sum", "Equal", "Less", "Greater",
  "LessOrEqual", "GreaterOrEqual", "ReduceProd", "ReduceSum", "ReduceMax", "ReduceMin", "Dropout",
]

private let intArithmetic: Set<String> = ["Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Sum"]
private let intCompare: Set<String> = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"]

extension InferenceEngine {
  /// The folded outputs of `io.node`, or nil if it does not fold.
  func foldNode(_ io: NodeIO, _ outTypes: [TensorType?]) throws -> [Tensor]? {
    let op = io.op
    guard shapeFoldableOps.contains(op) else { return nil }
    // Shape and Size need only a known input shape.
    if op == "Shape" || op == "Size" {
      guard let s = io.shape(0)?.concrete else { return nil }
      if op == "Size" {
        let n = saturatingCount(s)
        return n == Int.max ? nil : [Tensor.int64([], [Int64(n)])]
      }
      let (a, b) = shapeRange(io.node, rank: s.count)
      let v = a < b ? s[a..<b].map { Int64($0) } : []
      return [Tensor.int64([v.count], v)]
    }
    var args: [ConstArray?] = []
    for i in 0..<io.inputCount {
      guard io.has(i) else { args.append(nil); continue }
      guard let t = io.const(i), boundedForFolding(t.dims), let c = ConstArray(t) else { return nil }
      args.append(c)
    }
    // Every output must be small and of known concrete shape (when inferable).
    for (k, o) in io.node.outputs.enumerated() where !o.isEmpty {
      if k < outTypes.count, let dims = outTypes[k]?.shape?.concrete, !boundedForFolding(dims) { return nil }
    }
    let outShape = outTypes.first??.shape?.concrete
    guard let result = try fold(op, io, args, outShape) else { return nil }
    var tensors: [Tensor] = []
    for r in result {
      guard boundedForFolding(r.dims), r.count == saturatingCount(r.dims), let t = r.tensor() else { return nil }
      tensors.append(t)
    }
    guard tensors.count == io.node.outputs.count else { return nil }
    return tensors
  }

  private func fold(_ op: String, _ io: NodeIO, _ args: [ConstArray?], _ outShape: [Int]?) throws -> [ConstArray]? {
    let node = io.node
    guard let x = args.first ?? nil else { return nil }
    let allInt = args.allSatisfy { $0 == nil || !$0!.isReal }
    switch op {
    case "Identity", "Dropout":
      if op == "Dropout" { return nil }
      return [x]
    case "Cast":
      guard let to = node.int("to"), let dt = DType(rawValue: Int32(to)), dt.isFloat || dt.isInteger || dt == .bool else { return nil }
      return [x.cast(to: dt)]
    case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
      guard let outShape else { return nil }
      return [x.reshaped(outShape)]
    case "Gather":
      guard let ind = arg(args, 1), let outShape else { return nil }
      let a = try io.axis(node.int("axis") ?? 0, rank: x.dims.count)
      let outer = elementCount(Array(x.dims[..<a])), n = x.dims[a], inner = elementCount(Array(x.dims[(a + 1)...]))
      var idx: [Int] = []
      idx.reserveCapacity(elementCount(outShape))
      for o in 0..<outer {
        for k in 0..<ind.count {
          var j = ind.int(k)
          if j < 0 { j += Int64(n) }
          guard j >= 0 && j < Int64(n) else { throw io.fail("index \(ind.int(k)) is out of range for dim \(a) of size \(n)") }
          for i in 0..<inner { idx.append((o * n + Int(j)) * inner + i) }
        }
      }
      return [x.gathered(idx, dims: outShape)]
    case "Concat":
      guard let outShape else { return nil }
      let parts = args.compactMap { $0 }
      let a = try io.axis(node.int("axis") ?? (io.opset < 4 ? 1 : 0), rank: outShape.count)
      let outer = elementCount(Array(outShape[..<a]))
      var out = ConstArray(dtype: x.dtype, dims: outShape, ints: [])
      for o in 0..<outer {
        for p in parts {
          guard p.dtype == x.dtype || (p.isReal == x.isReal) else { return nil }
          let block = elementCount(Array(p.dims[a...]))
          if x.isReal { out.reals += p.reals[(o * block)..<((o + 1) * block)] } else { out.ints += p.ints[(o * block)..<((o + 1) * block)] }
        }
      }
      return [out]
    case "Slice":
      guard let outShape, let p = try sliceParams(io, rank: x.dims.count) else { return nil }
      var ranges: [[Int]] = x.dims.map { Array(0..<$0) }
      for k in 0..<p.axes.count {
        ranges[p.axes[k]] = Array(sliceRange(dim: x.dims[p.axes[k]], start: p.starts[k], end: p.ends[k], step: p.steps[k]))
      }
      return [x.gathered(cartesianIndices(ranges, strides: strides(x.dims)), dims: outShape)]
    case "Split":
      let types = try splitTypes(io)
      let a = try io.axis(node.int("axis") ?? 0, rank: x.dims.count)
      var out: [ConstArray] = []
      var offset = 0
      for t in types {
        guard let dims = t?.shape?.concrete else { return nil }
        var ranges: [[Int]] = x.dims.map { Array(0..<$0) }
        ranges[a] = Array(offset..<(offset + dims[a]))
        offset += dims[a]
        out.append(x.gathered(cartesianIndices(ranges, strides: strides(x.dims)), dims: dims))
      }
      return out
    case "Transpose":
      guard let outShape else { return nil }
      let perm = node.ints("perm")?.map(Int.init) ?? Array((0..<x.dims.count).reversed())
      return [x.gathered(transposeIndices(x.dims, perm: perm), dims: outShape)]
    case "Expand":
      guard let outShape else { return nil }
      return [x.gathered(broadcastIndices(out: outShape, in: x.dims), dims: outShape)]
    case "Tile":
      guard let outShape else { return nil }
      let ranges = zip(outShape, x.dims).map { o, d in (0..<o).map { $0 % max(d, 1) } }
      return [x.gathered(cartesianIndices(ranges, strides: strides(x.dims)), dims: outShape)]
    case "ConstantOfShape":
      guard allInt else { return nil }
      let dims = x.ints.map { Int($0) }
      guard dims.allSatisfy({ $0 >= 0 }) else { throw io.fail("shape \(x.ints) has a negative dim") }
      guard boundedForFolding(dims) else { return nil }
      let n = saturatingCount(dims)
      var fill = ConstArray(dtype: .float32, dims: [1], reals: [0])
      if case .tensor(let v)? = node[attribute: "value"] {
        guard v.count == 1, let c = ConstArray(v) else { return nil }
        fill = c
      }
      return [fill.gathered(Array(repeating: 0, count: n), dims: dims)]
    case "Range":
      guard let l = arg(args, 1), let d = arg(args, 2), x.count == 1, l.count == 1, d.count == 1 else { return nil }
      let n = rangeCount(x.real(0), l.real(0), d.real(0))
      guard n <= ShapeInference.foldLimit else { return nil }
      if x.isReal {
        return [ConstArray(dtype: x.dtype, dims: [n], reals: (0..<n).map { x.reals[0] + Double($0) * d.real(0) })]
      }
      return [ConstArray(dtype: x.dtype, dims: [n], ints: (0..<n).map { x.ints[0] + Int64($0) * d.int(0) })]
    case "Not":
      guard x.dtype == .bool else { return nil }
      return [ConstArray(dtype: .bool, dims: x.dims, ints: x.ints.map { $0 == 0 ? 1 : 0 })]
    case "Neg", "Abs":
      guard allInt else { return nil }
      return [ConstArray(dtype: x.dtype, dims: x.dims, ints: x.ints.map { op == "Neg" ? 0 &- $0 : ($0 < 0 ? 0 &- $0 : $0) })]
    case "Where":
      guard let outShape, let a = arg(args, 1), let b = arg(args, 2), a.isReal == b.isReal else { return nil }
      let ci = broadcastIndices(out: outShape, in: x.dims)
      let ai = broadcastIndices(out: outShape, in: a.dims)
      let bi = broadcastIndices(out: outShape, in: b.dims)
      let n = elementCount(outShape)
      if a.isReal {
        return [ConstArray(dtype: a.dtype, dims: outShape, reals: (0..<n).map { x.int(ci[$0]) != 0 ? a.reals[ai[$0]] : b.reals[bi[$0]] })]
      }
      return [ConstArray(dtype: a.dtype, dims: outShape, ints: (0..<n).map { x.int(ci[$0]) != 0 ? a.ints[ai[$0]] : b.ints[bi[$0]] })]
    case "ReduceProd", "ReduceSum", "ReduceMax", "ReduceMin":
      guard allInt, let outShape, let t = try reduceType(io), let s = t.shape?.concrete, s == outShape else { return nil }
      return reduceInts(op, x, io, outShape)
    default:
      break
    }
    // Element-wise binary/variadic integer ops with broadcasting.
    guard intArithmetic.contains(op) || intCompare.contains(op) || ["And", "Or", "Xor"].contains(op) else { return nil }
    guard allInt, let outShape, node.int("broadcast") == nil else { return nil }
    let present = args.compactMap { $0 }
    let n = elementCount(outShape)
    var acc = present[0].gathered(broadcastIndices(out: outShape, in: present[0].dims), dims: outShape).ints
    for p in present.dropFirst() {
      let bi = broadcastIndices(out: outShape, in: p.dims)
      for k in 0..<n {
        let a = acc[k], b = p.ints[bi[k]]
        switch op {
        case "Add", "Sum": acc[k] = a &+ b
        case "Sub": acc[k] = a &- b
        case "Mul": acc[k] = a &* b
        case "Div":
          guard b != 0 else { return nil }
          acc[k] = a / b
        case "Mod":
          guard b != 0 else { return nil }
          let r = a % b
          acc[k] = ((node.int("fmod") ?? 0) != 0 || r == 0 || (r < 0) == (b < 0)) ? r : r + b
        case "Max": acc[k] = max(a, b)
        case "Min": acc[k] = min(a, b)
        case "Equal": acc[k] = a == b ? 1 : 0
        case "Less": acc[k] = a < b ? 1 : 0
        case "Greater": acc[k] = a > b ? 1 : 0
        case "LessOrEqual": acc[k] = a <= b ? 1 : 0
        case "GreaterOrEqual": acc[k] = a >= b ? 1 : 0
        case "And": acc[k] = (a != 0 && b != 0) ? 1 : 0
        case "Or": acc[k] = (a != 0 || b != 0) ? 1 : 0
        case "Xor": acc[k] = ((a != 0) != (b != 0)) ? 1 : 0
        default: return nil
        }
      }
    }
    let dt = intCompare.contains(op) || ["And", "Or", "Xor"].contains(op) ? DType.bool : x.dtype
    return [ConstArray(dtype: dt, dims: outShape, ints: acc.map { ConstArray.wrap($0, dt) })]
  }

  private func arg(_ args: [ConstArray?], _ i: Int) -> ConstArray? { i < args.count ? args[i] : nil }

  private func reduceInts(_ op: String, _ x: ConstArray, _ io: NodeIO, _ outShape: [Int]) -> [ConstArray]? {
    var axesVals: [Int64]? = io.has(1) ? io.ints(1) : io.node.ints("axes")
    if axesVals?.isEmpty == true { axesVals = nil }
    if axesVals == nil && (io.node.int("noop_with_empty_axes") ?? 0) != 0 { return [x.reshaped(outShape)] }
    let r = x.dims.count
    let axes = Set((axesVals ?? (0..<Int64(r)).map { $0 }).map { Int($0 < 0 ? $0 + Int64(r) : $0) })
    let keptDims = x.dims.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    let m = elementCount(keptDims)
    var acc = [Int64?](repeating: nil, count: m)
    let st = strides(keptDims)
    var counter = [Int](repeating: 0, count: r)
    for k in 0..<x.count {
      var o = 0
      for d in 0..<r where !axes.contains(d) { o += counter[d] * st[d] }
      let v = x.ints[k]
      if let a = acc[o] {
        switch op {
        case "ReduceProd": acc[o] = a &* v
        case "ReduceSum": acc[o] = a &+ v
        case "ReduceMax": acc[o] = max(a, v)
        default: acc[o] = min(a, v)
        }
      } else {
        acc[o] = v
      }
      var d = r - 1
      while d >= 0 {
        counter[d] += 1
        if counter[d] < x.dims[d] { break }
        counter[d] = 0
        d -= 1
      }
    }
    let empty: Int64 = op == "ReduceProd" ? 1 : 0
    guard op == "ReduceProd" || op == "ReduceSum" || acc.allSatisfy({ $0 != nil }) else { return nil }
    return [ConstArray(dtype: x.dtype, dims: outShape, ints: acc.map { $0 ?? empty })]
  }
}

/// True when a tensor of `dims` is small enough to fold: the product of its dims, with 0 dims
/// counted as 1, is at most `ShapeInference.foldLimit`. This bounds every partial product the
/// folding loops compute (an empty tensor with huge other dims is not folded).
func boundedForFolding(_ dims: [Int]) -> Bool {
  var p = 1
  for d in dims {
    guard d >= 0 else { return false }
    p *= max(d, 1)
    if p > ShapeInference.foldLimit { return false }
  }
  return true
}

/// Flat source indices for the cartesian product of per-axis index lists (row-major).
func cartesianIndices(_ ranges: [[Int]], strides st: [Int]) -> [Int] {
  var out: [Int] = [0]
  for (d, r) in ranges.enumerated() {
    var next: [Int] = []
    next.reserveCapacity(out.count * r.count)
    for base in out { for i in r { next.append(base + i * st[d]) } }
    out = next
  }
  return out
}
