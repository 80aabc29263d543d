import Foundation
import GraftIR

/// NumPy `.npy` files, format versions 1.0, 2.0 and 3.0 (3.0 only differs in the header's
/// encoding, which is ASCII for every dtype we accept).
///
/// Contract
/// - Accepted dtypes: f32 `<f4`, f16 `<f2`, i64 `<i8`, i32 `<i4`, i8 `|i1`, u8 `|u1`,
///   bool `|b1`; little-endian, C order only. Fortran order and big-endian data are refused with
///   a one-line error naming the file.
/// - The header is at most `maxHeaderBytes`; the data must be exactly count × element size
///   bytes (no more, no less), so a corrupt file never causes a huge allocation.
/// - `encode` writes version 1.0 (2.0 when the header does not fit 64 KiB), header padded so
///   the data starts at a multiple of 64 bytes.
public enum Npy {
  /// Largest header accepted when reading.
  public static let maxHeaderBytes = 1 << 16

  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

  /// Reads and decodes a file. Errors name `path`.
  public static func read(path: String) throws -> Tensor {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw GraftError(.io, at: Location(file: path), "cannot read file")
    }
    return try data.withUnsafeBytes { try decode($0, file: path) }
  }

  /// Encodes and writes atomically.
  public static func write(_ tensor: Tensor, path: String) throws {
    let bytes = try encode(tensor, file: path)
    try bytes.withUnsafeBytes { try writeFileAtomically(path, bytes: $0) }
  }

  /// The `descr` string for a dtype, or nil when `.npy` I/O does not support it.
  public static func descr(_ dtype: DType) -> String? {
    switch dtype {
    case .float32: return "<f4"
    case .float16: return "<f2"
    case .float64: return "<f8"
    case .int64: return "<i8"
    case .int32: return "<i4"
    case .int8: return "|i1"
    case .uint8: return "|u1"
    case .bool: return "|b1"
    default: return nil
    }
  }

  static func dtype(descr: String, file: String) throws -> DType {
    guard let order = descr.first else {
      throw GraftError(.invalid, at: Location(file: file), "npy header has an empty 'descr'")
    }
    let code = String(descr.dropFirst())
    if order == ">" && !["i1", "u1", "b1"].contains(code) {
      throw GraftError(.invalid, at: Location(file: file),
                       "npy data is big-endian ('\(descr)'); save it little-endian (e.g. arr.astype('<\(code)'))")
    }
    guard order == "<" || order == "|" || order == "=" || order == ">" else {
      throw GraftError(.invalid, at: Location(file: file), "npy dtype '\(descr)' is not supported")
    }
    switch code {
    case "f4": return .float32
    case "f2": return .float16
    case "f8": return .float64
    case "i8": return .int64
    case "i4": return .int32
    case "i1": return .int8
    case "u1": return .uint8
    case "b1": return .bool
    default:
      throw GraftError(.invalid, at: Location(file: file),
                       "npy dtype '\(descr)' is not supported; use float32, float16, int64, int32, int8, uint8 or bool")
    }
  }

  /// Decodes `.npy` bytes. Errors name `file`.
  public static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws -> Tensor {
    func fail(_ m: String) -> GraftError { GraftError(.invalid, at: Location(file: file), m) }
    guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
      throw fail("not a .npy file (bad magic)")
    }
    let major = bytes[6]
    let headerLen: Int
    let headerStart: Int
    switch major {
    case 1:
      headerLen = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw fail("npy file is truncated in its header") }
      headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      headerStart = 12
    default:
      throw fail("npy format version \(major).\(bytes[7]) is not supported (1.0, 2.0 and 3.0 are)")
    }
    guard headerLen <= maxHeaderBytes else {
      throw fail("npy header is \(headerLen) bytes; at most \(maxHeaderBytes) are accepted")
    }
    guard headerStart + headerLen <= bytes.count else { throw fail("npy file is truncated in its header") }
    let header = String(decoding: bytes[headerStart..<(headerStart + headerLen)], as: UTF8.self)
    var parser = HeaderParser(text: header, file: file)
    let dict = try parser.parseDict()
    guard case .string(let descr)? = dict["descr"] else { throw fail("npy header has no 'descr' string") }
    guard case .bool(let fortran)? = dict["fortran_order"] else {
      throw fail("npy header has no 'fortran_order' flag")
    }
    guard case .tuple(let shape)? = dict["shape"] else { throw fail("npy header has no 'shape' tuple") }
    if fortran {
      throw fail("npy array is in Fortran order; save it in C order (np.ascontiguousarray)")
    }
    let dtype = try dtype(descr: descr, file: file)
    var count = 1
    for d in shape {
      guard d >= 0 else { throw fail("npy shape has a negative dimension \(d)") }
      let (m, o) = count.multipliedReportingOverflow(by: d)
      guard !o, m <= Int(Int32.max) * 16 else { throw fail("npy shape \(shape) is too large") }
      count = m
    }
    let size = dtype.byteSize ?? 1
    let need = count * size
    let dataStart = headerStart + headerLen
    let have = bytes.count - dataStart
    guard have == need else {
      throw fail("npy data has \(have) bytes; shape \(shape) of \(dtype) needs \(need)")
    }
    let storage = TensorStorage(copying: UnsafeRawBufferPointer(rebasing: bytes[dataStart...]))
    return Tensor(dtype: dtype, dims: shape, storage: storage)
  }

  /// Encodes a tensor (see the type's contract). Throws for dtypes `.npy` I/O does not support.
  public static func encode(_ tensor: Tensor, file: String = "") throws -> [UInt8] {
    guard let descr = descr(tensor.dtype) else {
      throw GraftError(.unsupported, at: Location(file: file), "cannot write \(tensor.dtype) tensors to .npy")
    }
    let shapeText: String
    switch tensor.dims.count {
    case 0: shapeText = "()"
    case 1: shapeText = "(\(tensor.dims[0]),)"
    default: shapeText = "(" + tensor.dims.map(String.init).joined(separator: ", ") + ")"
    }
    var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    var version: UInt8 = 1
    var prefix = 10
    if dict.utf8.count + 1 + 64 > 65535 {
      version = 2
      prefix = 12
    }
    let total = prefix + dict.utf8.count + 1
    let padded = (total + 63) / 64 * 64
    dict += String(repeating: " ", count: padded - total) + "\n"
    var out = magic + [version, 0]
    let hl = dict.utf8.count
    if version == 1 {
      out += [UInt8(hl & 0xFF), UInt8(hl >> 8)]
    } else {
      out += [UInt8(hl & 0xFF), UInt8((hl >> 8) & 0xFF), UInt8((hl >> 16) & 0xFF), UInt8(hl >> 24)]
    }
    out += Array(dict.utf8)
    let n = tensor.dtype.storageBytes(count: tensor.count) ?? 0
    out += UnsafeRawBufferPointer(start: tensor.storage.pointer, count: min(n, tensor.byteCount))
    return out
  }

  /// Values of the header dict.
  enum Value {
    case string(String)
    case bool(Bool)
    case tuple([Int])
    case other
  }

  /// A parser for the small Python literal subset `.npy` headers use.
  struct HeaderParser {
    let chars: [Character]
    var i = 0
    let file: String

    init(text: String, file: String) {
      chars = Array(text)
      self.file = file
    }

    func fail(_ m: String) -> GraftError {
      GraftError(.invalid, at: Location(file: file), "npy header is malformed: \(m)")
    }

    mutating func skipSpace() {
      while i < chars.count, chars[i].isWhitespace { i += 1 }
    }

    mutating func expect(_ c: Character) throws {
      skipSpace()
      guard i < chars.count, chars[i] == c else { throw fail("expected '\(c)'") }
      i += 1
    }

    mutating func parseDict() throws -> [String: Value] {
      var out: [String: Value] = [:]
      try expect("{")
      while true {
        skipSpace()
        guard i < chars.count else { throw fail("unterminated dict") }
        if chars[i] == "}" { i += 1; break }
        let key = try parseString()
        try expect(":")
        out[key] = try parseValue()
        skipSpace()
        guard i < chars.count else { throw fail("unterminated dict") }
        if chars[i] == "," { i += 1; continue }
        if chars[i] == "}" { i += 1; break }
        throw fail("expected ',' or '}'")
      }
      return out
    }

    mutating func parseString() throws -> String {
      skipSpace()
      guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { throw fail("expected a string") }
      let q = chars[i]
      i += 1
      var s = ""
      while i < chars.count, chars[i] != q {
        s.append(chars[i])
        i += 1
      }
      guard i < chars.count else { throw fail("unterminated string") }
      i += 1
      return s
    }

    mutating func parseInt() throws -> Int {
      skipSpace()
      var s = ""
      while i < chars.count, chars[i].isNumber || chars[i] == "-" {
        s.append(chars[i])
        i += 1
      }
      // numpy may write Python 2 longs as `3L`.
      if i < chars.count, chars[i] == "L" { i += 1 }
      guard let v = Int(s) else { throw fail("expected an integer") }
      return v
    }

    mutating func parseValue() throws -> Value {
      skipSpace()
      guard i < chars.count else { throw fail("missing value") }
      switch chars[i] {
      case "'", "\"": return .string(try parseString())
      case "(":
        i += 1
        var dims: [Int] = []
        while true {
          skipSpace()
          guard i < chars.count else { throw fail("unterminated tuple") }
          if chars[i] == ")" { i += 1; break }
          dims.append(try parseInt())
          guard dims.count <= 32 else { throw fail("shape has too many dimensions") }
          skipSpace()
          guard i < chars.count else { throw fail("unterminated tuple") }
          if chars[i] == "," { i += 1; continue }
          if chars[i] == ")" { i += 1; break }
          throw fail("expected ',' or ')'")
        }
        return .tuple(dims)
      default:
        var word = ""
        while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" {
          word.append(chars[i])
          i += 1
        }
        if word == "True" { return .bool(true) }
        if word == "False" { return .bool(false) }
        throw fail("unexpected value '\(word)'")
      }
    }
  }
}
