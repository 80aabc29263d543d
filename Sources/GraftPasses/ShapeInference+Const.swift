import GraftIR

/// A small constant being folded: integer/bool elements as Int64, float elements as Double.
/// Only for shape arithmetic (at most `ShapeInference.foldLimit` elements); never a kernel.
struct ConstArray {
  var dtype: DType
  var dims: [Int]
  /// Elements when `dtype` is integer or bool.
  var ints: [Int64]
  /// Elements when `dtype` is a float type.
  var reals: [Double]

  var isReal: Bool { dtype.isFloat }
  var count: Int { isReal ? reals.count : ints.count }

  init(dtype: DType, dims: [Int], ints: [Int64]) {
    self.dtype = dtype
    self.dims = dims
    self.ints = ints
    self.reals = []
  }

  init(dtype: DType, dims: [Int], reals: [Double]) {
    self.dtype = dtype
    self.dims = dims
    self.ints = []
    self.reals = reals
  }

  /// nil for strings, complex and 8-bit float types.
  init?(_ t: Tensor) {
    dtype = t.dtype
    dims = t.dims
    if t.dtype.isFloat {
      guard let f = t.floats() else { return nil }
      reals = f.map(Double.init)
      ints = []
      if t.dtype == .float64 {
        reals = t.values(as: Double.self)
      }
    } else if t.dtype.isInteger || t.dtype == .bool {
      guard t.dtype != .int4, t.dtype != .uint4, let v = t.integers() else { return nil }
      ints = v
      reals = []
    } else {
      return nil
    }
  }

  static func int64(_ dims: [Int], _ v: [Int64]) -> ConstArray { ConstArray(dtype: .int64, dims: dims, ints: v) }

  /// Element `i` as Double (either storage).
  func real(_ i: Int) -> Double { isReal ? reals[i] : Double(ints[i]) }
  /// Element `i` as Int64 (floats truncated toward zero; NaN/inf give 0 / clamp).
  func int(_ i: Int) -> Int64 {
    if !isReal { return ints[i] }
    let r = reals[i]
    if r.isNaN { return 0 }
    if r >= 9.2e18 { return Int64.max }
    if r <= -9.2e18 { return Int64.min }
    return Int64(r)
  }

  /// Elements picked by flat index into a new shape (data movement).
  func gathered(_ idx: [Int], dims newDims: [Int]) -> ConstArray {
    if isReal { return ConstArray(dtype: dtype, dims: newDims, reals: idx.map { reals[$0] }) }
    return ConstArray(dtype: dtype, dims: newDims, ints: idx.map { ints[$0] })
  }

  func reshaped(_ newDims: [Int]) -> ConstArray {
    var c = self
    c.dims = newDims
    return c
  }

  /// ONNX Cast semantics for the supported types: float→int truncates, →bool is `!= 0`.
  func cast(to: DType) -> ConstArray {
    if to == dtype { return self }
    if to.isFloat {
      var r = (0..<count).map { real($0) }
      if to == .float32 { r = r.map { Double(Float($0)) } }
      return ConstArray(dtype: to, dims: dims, reals: r)
    }
    if to == .bool {
      return ConstArray(dtype: .bool, dims: dims, ints: (0..<count).map { real($0) != 0 ? 1 : 0 })
    }
    let v = (0..<count).map { int($0) }
    return ConstArray(dtype: to, dims: dims, ints: v.map { Self.wrap($0, to) })
  }

  /// Wraps an integer to the range of `dtype` (two's complement, as C casts do).
  static func wrap(_ v: Int64, _ dtype: DType) -> Int64 {
    switch dtype {
    case .int32: return Int64(Int32(truncatingIfNeeded: v))
    case .int16: return Int64(Int16(truncatingIfNeeded: v))
    case .int8: return Int64(Int8(truncatingIfNeeded: v))
    case .uint8: return Int64(UInt8(truncatingIfNeeded: v))
    case .uint16: return Int64(UInt16(truncatingIfNeeded: v))
    case .uint32: return Int64(UInt32(truncatingIfNeeded: v))
    case .bool: return v != 0 ? 1 : 0
    default: return v
    }
  }

  /// Back to an IR tensor; nil for dtypes it does not write.
  func tensor() -> Tensor? {
    switch dtype {
    case .int64: return Tensor(dtype: .int64, dims: dims, values: ints)
    case .uint64: return Tensor(dtype: .uint64, dims: dims, values: ints.map { UInt64(bitPattern: $0) })
    case .int32: return Tensor(dtype: .int32, dims: dims, values: ints.map { Int32(truncatingIfNeeded: $0) })
    case .uint32: return Tensor(dtype: .uint32, dims: dims, values: ints.map { UInt32(truncatingIfNeeded: $0) })
    case .int16: return Tensor(dtype: .int16, dims: dims, values: ints.map { Int16(truncatingIfNeeded: $0) })
    case .uint16: return Tensor(dtype: .uint16, dims: dims, values: ints.map { UInt16(truncatingIfNeeded: $0) })
    case .int8: return Tensor(dtype: .int8, dims: dims, values: ints.map { Int8(truncatingIfNeeded: $0) })
    case .uint8: return Tensor(dtype: .uint8, dims: dims, values: ints.map { UInt8(truncatingIfNeeded: $0) })
    case .bool: return Tensor(dtype: .bool, dims: dims, values: ints.map { UInt8($0 != 0 ? 1 : 0) })
    case .float32: return Tensor(dtype: .float32, dims: dims, values: reals.map { Float($0) })
    case .float64: return Tensor(dtype: .float64, dims: dims, values: reals)
    case .float16: return Tensor(dtype: .float16, dims: dims, values: reals.map { Float16(Float($0)).bitPattern })
    default: return nil
    }
  }
}

/// Row-major strides of `dims`.
func strides(_ dims: [Int]) -> [Int] {
  var s = [Int](repeating: 1, count: dims.count)
  var acc = 1
  for i in stride(from: dims.count - 1, through: 0, by: -1) {
    s[i] = acc
    acc *= dims[i]
  }
  return s
}

/// For every element of `outDims` (row-major), the flat index of the element of an input of
/// `inDims` it reads under numpy broadcasting (`inDims` right-aligned, size-1 dims repeat).
func broadcastIndices(out outDims: [Int], in inDims: [Int]) -> [Int] {
  let n = elementCount(outDims)
  let r = outDims.count
  let pad = r - inDims.count
  let inStrides = strides(inDims)
  var eff = [Int](repeating: 0, count: r)
  for i in 0..<inDims.count where inDims[i] != 1 { eff[pad + i] = inStrides[i] }
  var result = [Int](repeating: 0, count: n)
  var counter = [Int](repeating: 0, count: r)
  var offset = 0
  for k in 0..<n {
    result[k] = offset
    var d = r - 1
    while d >= 0 {
      counter[d] += 1
      offset += eff[d]
      if counter[d] < outDims[d] { break }
      offset -= eff[d] * counter[d]
      counter[d] = 0
      d -= 1
    }
  }
  return result
}

/// For every element of the transposed tensor, its flat index in the source.
func transposeIndices(_ dims: [Int], perm: [Int]) -> [Int] {
  let outDims = perm.map { dims[$0] }
  let inStrides = strides(dims)
  let eff = perm.map { inStrides[$0] }
  let n = elementCount(outDims)
  var result = [Int](repeating: 0, count: n)
  var counter = [Int](repeating: 0, count: outDims.count)
  var offset = 0
  for k in 0..<n {
    result[k] = offset
    var d = outDims.count - 1
    while d >= 0 {
      counter[d] += 1
      offset += eff[d]
      if counter[d] < outDims[d] { break }
      offset -= eff[d] * counter[d]
      counter[d] = 0
      d -= 1
    }
  }
  return result
}

/// Largest rank shape inference builds from a value (a shape tensor's length); larger is unknown.
let maxRank = 64

/// Largest dim size shape inference accepts (2^40); anything larger is reported as bad input.
let maxDimSize = 1 << 40

/// Element count of `dims`, saturating at `Int.max` (negative dims count as 0).
func saturatingCount(_ dims: [Int]) -> Int {
  if dims.contains(where: { $0 <= 0 }) { return 0 }
  var p = 1
  for d in dims {
    let (r, o) = p.multipliedReportingOverflow(by: max(d, 0))
    if o { return Int.max }
    p = r
  }
  return p
}

/// a * b saturating at Int.max / Int.min.
func satMul(_ a: Int, _ b: Int) -> Int {
  let (r, o) = a.multipliedReportingOverflow(by: b)
  if o { return (a < 0) != (b < 0) ? Int.min : Int.max }
  return r
}
