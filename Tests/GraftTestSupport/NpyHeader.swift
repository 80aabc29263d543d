import Foundation
import GraftIR

/// The header of a `.npy` file (format 1.0/2.0/3.0): dtype descriptor, shape, byte order.
/// Only the header is parsed; `readNpyTensor` also reads little-endian data of common dtypes.
public struct NpyHeaderInfo: Sendable, Equatable {
  /// numpy's `descr`, e.g. `<f4`, `<i8`, `|b1`.
  public var descr: String
  public var shape: [Int]
  public var fortranOrder: Bool
  /// Byte offset of the data.
  public var dataOffset: Int

  /// The IR dtype of `descr`, if it is one Graft knows.
  public var dtype: DType? {
    switch descr {
    case "<f4": return .float32
    case "<f8": return .float64
    case "<f2": return .float16
    case "<i8": return .int64
    case "<i4": return .int32
    case "<i2": return .int16
    case "|i1": return .int8
    case "|u1": return .uint8
    case "|b1": return .bool
    default: return nil
    }
  }
}

public enum NpyError: Error, CustomStringConvertible {
  case bad(String, String)
  public var description: String {
    switch self { case .bad(let p, let m): return "\(p): \(m)" }
  }
}

/// Reads the header of the `.npy` file at `path`.
public func readNpyHeader(path: String) throws -> NpyHeaderInfo {
  guard let data = FileManager.default.contents(atPath: path) else { throw NpyError.bad(path, "cannot read") }
  return try parseNpyHeader([UInt8](data.prefix(65_536 + 12)), path: path)
}

func parseNpyHeader(_ b: [UInt8], path: String) throws -> NpyHeaderInfo {
  guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else {
    throw NpyError.bad(path, "not a .npy file")
  }
  let major = b[6]
  let headerLen: Int
  let start: Int
  if major == 1 {
    headerLen = Int(b[8]) | Int(b[9]) << 8
    start = 10
  } else {
    guard b.count >= 12 else { throw NpyError.bad(path, "truncated header") }
    headerLen = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
    start = 12
  }
  guard start + headerLen <= b.count else { throw NpyError.bad(path, "truncated header") }
  let text = String(decoding: b[start..<(start + headerLen)], as: UTF8.self)
  func value(_ key: String) -> Substring? {
    guard let r = text.range(of: "'\(key)':") else { return nil }
    return text[r.upperBound...].drop(while: { $0 == " " })
  }
  guard let d = value("descr"), d.first == "'" else { throw NpyError.bad(path, "no descr") }
  let descr = String(d.dropFirst().prefix(while: { $0 != "'" }))
  let fortran = value("fortran_order")?.hasPrefix("True") ?? false
  guard let s = value("shape"), s.first == "(" else { throw NpyError.bad(path, "no shape") }
  let inner = s.dropFirst().prefix(while: { $0 != ")" })
  let shape = inner.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
  return NpyHeaderInfo(descr: descr, shape: shape, fortranOrder: fortran, dataOffset: start + headerLen)
}

/// Reads a C-order little-endian `.npy` file as an IR tensor.
public func readNpyTensor(path: String) throws -> Tensor {
  guard let data = FileManager.default.contents(atPath: path) else { throw NpyError.bad(path, "cannot read") }
  let bytes = [UInt8](data)
  let h = try parseNpyHeader(bytes, path: path)
  guard let dt = h.dtype, !h.fortranOrder, let size = dt.byteSize else {
    throw NpyError.bad(path, "unsupported npy dtype \(h.descr)")
  }
  let n = elementCount(h.shape) * size
  guard h.dataOffset + n <= bytes.count else { throw NpyError.bad(path, "truncated data") }
  let storage = bytes[h.dataOffset..<(h.dataOffset + n)].withUnsafeBytes { TensorStorage(copying: $0) }
  return Tensor(dtype: dt, dims: h.shape, storage: storage)
}
