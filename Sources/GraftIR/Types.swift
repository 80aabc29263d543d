/// Element types, numbered as ONNX's `TensorProto.DataType`.
public enum DType: Int32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  case undefined = 0
  case float32 = 1
  case uint8 = 2
  case int8 = 3
  case uint16 = 4
  case int16 = 5
  case int32 = 6
  case int64 = 7
  case string = 8
  case bool = 9
  case float16 = 10
  case float64 = 11
  case uint32 = 12
  case uint64 = 13
  case complex64 = 14
  case complex128 = 15
  case bfloat16 = 16
  case float8e4m3fn = 17
  case float8e4m3fnuz = 18
  case float8e5m2 = 19
  case float8e5m2fnuz = 20
  case uint4 = 21
  case int4 = 22

  /// Bytes per element; nil for strings and sub-byte types.
  public var byteSize: Int? {
    switch self {
    case .float32, .int32, .uint32: return 4
    case .uint8, .int8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz: return 1
    case .uint16, .int16, .float16, .bfloat16: return 2
    case .int64, .uint64, .float64, .complex64: return 8
    case .complex128: return 16
    case .string, .undefined, .uint4, .int4: return nil
    }
  }

  /// Storage bytes for `count` elements (sub-byte types pack two per byte).
  public func storageBytes(count: Int) -> Int? {
    if let size = byteSize { return size * count }
    switch self {
    case .int4, .uint4: return (count + 1) / 2
    default: return nil
    }
  }

  public var isFloat: Bool {
    switch self {
    case .float32, .float16, .bfloat16, .float64: return true
    default: return false
    }
  }

  public var isInteger: Bool {
    switch self {
    case .uint8, .int8, .uint16, .int16, .int32, .int64, .uint32, .uint64, .int4, .uint4: return true
    default: return false
    }
  }

  /// Lower-case name as ONNX's helper prints it (`float`, `int64`, `float16`).
  public var description: String {
    switch self {
    case .undefined: return "undefined"
    case .float32: return "float"
    case .uint8: return "uint8"
    case .int8: return "int8"
    case .uint16: return "uint16"
    case .int16: return "int16"
    case .int32: return "int32"
    case .int64: return "int64"
    case .string: return "string"
    case .bool: return "bool"
    case .float16: return "float16"
    case .float64: return "double"
    case .uint32: return "uint32"
    case .uint64: return "uint64"
    case .complex64: return "complex64"
    case .complex128: return "complex128"
    case .bfloat16: return "bfloat16"
    case .float8e4m3fn: return "float8e4m3fn"
    case .float8e4m3fnuz: return "float8e4m3fnuz"
    case .float8e5m2: return "float8e5m2"
    case .float8e5m2fnuz: return "float8e5m2fnuz"
    case .uint4: return "uint4"
    case .int4: return "int4"
    }
  }
}

/// One dimension of a shape: a known size or a named symbol (`batch`, `N`).
public enum Dim: Sendable, Hashable, CustomStringConvertible {
  case known(Int)
  case symbol(String)

  public var value: Int? {
    if case .known(let v) = self { return v }
    return nil
  }

  public var description: String {
    switch self {
    case .known(let v): return String(v)
    case .symbol(let s): return s.isEmpty ? "?" : s
    }
  }
}

/// A shape of dims; `Shape.text` prints `1x3x224x224` (scalars print as `scalar`).
public typealias Shape = [Dim]

extension Array where Element == Dim {
  /// All dims known: the sizes; otherwise nil.
  public var concrete: [Int]? {
    var out: [Int] = []
    out.reserveCapacity(count)
    for d in self {
      guard let v = d.value else { return nil }
      out.append(v)
    }
    return out
  }

  public var text: String {
    isEmpty ? "scalar" : map(\.description).joined(separator: "x")
  }

  public init(_ sizes: [Int]) { self = sizes.map { .known($0) } }
}

/// The type of a value: element type and shape (nil shape = rank unknown).
public struct TensorType: Sendable, Hashable, CustomStringConvertible {
  public var dtype: DType
  public var shape: Shape?

  public init(_ dtype: DType, _ shape: Shape?) {
    self.dtype = dtype
    self.shape = shape
  }

  public var description: String {
    guard let shape else { return "\(dtype)[?]" }
    return "\(dtype)[\(shape.map(\.description).joined(separator: ", "))]"
  }
}

/// Element count of a concrete shape (1 for a scalar).
public func elementCount(_ dims: [Int]) -> Int {
  dims.reduce(1, *)
}
