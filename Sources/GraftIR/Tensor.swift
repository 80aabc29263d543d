import Foundation

/// Immutable bytes owned by one allocation. Tensor data is shared, never mutated in place:
/// a transformation builds a new `TensorStorage`.
public final class TensorStorage: @unchecked Sendable {
  /// Start of the bytes (64-byte aligned when allocated here); valid for `count` bytes.
  public let pointer: UnsafeRawPointer
  public let count: Int
  private let release: (@Sendable (UnsafeMutableRawPointer) -> Void)?

  /// Takes ownership of `pointer`; `release` frees it when the storage dies.
  public init(owning pointer: UnsafeMutableRawPointer, count: Int,
              release: @escaping @Sendable (UnsafeMutableRawPointer) -> Void) {
    self.pointer = UnsafeRawPointer(pointer)
    self.count = count
    self.release = release
  }

  /// Copies `bytes` into a fresh aligned allocation.
  public convenience init(copying bytes: UnsafeRawBufferPointer) {
    let n = bytes.count
    let p = UnsafeMutableRawPointer.allocate(byteCount: max(n, 1), alignment: 64)
    if n > 0, let base = bytes.baseAddress { p.copyMemory(from: base, byteCount: n) }
    self.init(owning: p, count: n, release: { $0.deallocate() })
  }

  /// A zero-filled allocation of `count` bytes, initialised by `fill` before it is shared.
  public convenience init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
    let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
    p.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
    do {
      try fill(UnsafeMutableRawBufferPointer(start: p, count: count))
    } catch {
      p.deallocate()
      throw error
    }
    self.init(owning: p, count: count, release: { $0.deallocate() })
  }

  deinit {
    if let release { release(UnsafeMutableRawPointer(mutating: pointer)) }
  }

  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: count) }
}

/// A constant tensor: dtype, concrete dims and little-endian bytes in ONNX raw_data layout.
/// Strings are kept as a separate list (`strings`), with empty `storage`.
public struct Tensor: Sendable {
  public var dtype: DType
  public var dims: [Int]
  public var storage: TensorStorage
  public var strings: [[UInt8]]

  public init(dtype: DType, dims: [Int], storage: TensorStorage, strings: [[UInt8]] = []) {
    self.dtype = dtype
    self.dims = dims
    self.storage = storage
    self.strings = strings
  }

  public var count: Int { elementCount(dims) }
  public var byteCount: Int { storage.count }
  public var type: TensorType { TensorType(dtype, Shape(dims)) }

  /// Builds a tensor from typed values (copying them).
  public init<T>(dtype: DType, dims: [Int], values: [T]) {
    precondition(MemoryLayout<T>.stride == (dtype.byteSize ?? -1), "element size mismatch")
    precondition(values.count == elementCount(dims), "value count mismatch")
    let storage = values.withUnsafeBytes { TensorStorage(copying: $0) }
    self.init(dtype: dtype, dims: dims, storage: storage)
  }

  public static func float32(_ dims: [Int], _ values: [Float]) -> Tensor {
    Tensor(dtype: .float32, dims: dims, values: values)
  }

  public static func int64(_ dims: [Int], _ values: [Int64]) -> Tensor {
    Tensor(dtype: .int64, dims: dims, values: values)
  }

  /// Typed copy of the elements; `T` must match the element size.
  public func values<T>(as _: T.Type) -> [T] {
    precondition(MemoryLayout<T>.stride == (dtype.byteSize ?? -1), "element size mismatch")
    let n = count
    return [T](unsafeUninitializedCapacity: n) { buf, initialized in
      if n > 0 {
        UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: storage.pointer, byteCount: n * MemoryLayout<T>.stride)
      }
      initialized = n
    }
  }

  /// Elements as Int64 for integer and bool tensors (shape arithmetic); nil for others.
  public func integers() -> [Int64]? {
    let n = count
    guard storage.count >= (dtype.storageBytes(count: n) ?? Int.max) else { return nil }
    let p = storage.pointer
    switch dtype {
    case .int64: return (0..<n).map { p.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
    case .int32: return (0..<n).map { Int64(p.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
    case .int16: return (0..<n).map { Int64(p.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)) }
    case .uint16: return (0..<n).map { Int64(p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
    case .int8: return (0..<n).map { Int64(p.load(fromByteOffset: $0, as: Int8.self)) }
    case .uint8, .bool: return (0..<n).map { Int64(p.load(fromByteOffset: $0, as: UInt8.self)) }
    case .uint32: return (0..<n).map { Int64(p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
    case .uint64: return (0..<n).map { Int64(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
    default: return nil
    }
  }

  /// Elements as Float for float tensors (float16/bfloat16/double converted); nil for others.
  public func floats() -> [Float]? {
    let n = count
    guard storage.count >= (dtype.storageBytes(count: n) ?? Int.max) else { return nil }
    let p = storage.pointer
    switch dtype {
    case .float32: return (0..<n).map { p.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
    case .float64: return (0..<n).map { Float(p.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
    case .float16:
      return (0..<n).map { Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
    case .bfloat16:
      return (0..<n).map {
        Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) << 16)
      }
    default: return nil
    }
  }
}
