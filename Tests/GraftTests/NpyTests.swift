import Foundation
import Testing
import GraftBackend
import GraftIR

@Suite struct NpyTests {
  @Test(arguments: [DType.float32, .float16, .int64, .int32, .int8, .uint8, .bool])
  func roundTrip(dtype: DType) throws {
    let dims = [2, 3]
    let size = dtype.byteSize!
    let bytes = (0..<(6 * size)).map { UInt8(truncatingIfNeeded: $0 * 37 + 1) & (dtype == .bool ? 1 : 0xFF) }
    let t = Tensor(dtype: dtype, dims: dims, storage: bytes.withUnsafeBytes { TensorStorage(copying: $0) })
    let enc = try Npy.encode(t)
    #expect(enc.count % 64 == 6 * size % 64 || (enc.count - 6 * size) % 64 == 0)
    let back = try enc.withUnsafeBytes { try Npy.decode($0, file: "t.npy") }
    #expect(back.dtype == dtype)
    #expect(back.dims == dims)
    #expect(Array(back.storage.bytes) == bytes)
  }

  @Test func scalarAndEmpty() throws {
    for t in [Tensor.int64([], [16000]), Tensor.float32([0, 4], [])] {
      let back = try Npy.encode(t).withUnsafeBytes { try Npy.decode($0, file: "s.npy") }
      #expect(back.dims == t.dims)
      #expect(back.integers() == t.integers())
    }
  }

  /// A file written by numpy (the corpus' reference input) reads with the right shape.
  @Test func readsNumpyFile() throws {
    guard let dir = BackendSupport.modelsDir else { Issue.record("models folder not found"); return }
    let t = try Npy.read(path: dir + "/ppocr_mobile_v2_cls.input_0.npy")
    #expect(t.dtype == .float32)
    #expect(t.dims == [1, 3, 48, 192])
    let sr = try Npy.read(path: dir + "/silero_vad_v6.input_2.npy")
    #expect(sr.dtype == .int64 && sr.dims == [] && sr.integers() == [16000])
  }

  static func file(_ header: String, data: [UInt8] = [], major: UInt8 = 1, magic: [UInt8]? = nil) -> [UInt8] {
    var out = magic ?? [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    out += [major, 0]
    let h = Array(header.utf8)
    if major == 1 {
      out += [UInt8(h.count & 0xFF), UInt8(h.count >> 8)]
    } else {
      out += [UInt8(h.count & 0xFF), UInt8((h.count >> 8) & 0xFF), 0, 0]
    }
    return out + h + data
  }

  static let bad: [(String, [UInt8], String)] = [
    ("magic", file("{}", magic: Array("NOTNPY".utf8)), "bad.npy: not a .npy file (bad magic)"),
    ("fortran", file("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", data: [0, 0, 0, 0]),
     "bad.npy: npy array is in Fortran order; save it in C order (np.ascontiguousarray)"),
    ("big-endian", file("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]),
     "bad.npy: npy data is big-endian ('>f4'); save it little-endian (e.g. arr.astype('<f4'))"),
    ("complex", file("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data: [UInt8](repeating: 0, count: 8)),
     "bad.npy: npy dtype '<c8' is not supported; use float32, float16, int64, int32, int8, uint8 or bool"),
    ("short data", file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: [0, 0, 0, 0]),
     "bad.npy: npy data has 4 bytes; shape [2] of float needs 8"),
    ("long data", file("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", data: [0, 0]),
     "bad.npy: npy data has 2 bytes; shape [1] of uint8 needs 1"),
    ("huge shape", file("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }"),
     "bad.npy: npy shape [100000, 100000, 100000] is too large"),
    ("negative dim", file("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"),
     "bad.npy: npy shape has a negative dimension -1"),
    ("no shape", file("{'descr': '<f4', 'fortran_order': False, }"), "bad.npy: npy header has no 'shape' tuple"),
    ("garbage", file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }"),
     "bad.npy: npy header is malformed: unexpected value 'Maybe'"),
    ("version", file("{}", major: 9), "bad.npy: npy format version 9.0 is not supported (1.0, 2.0 and 3.0 are)"),
    ("truncated header", Array(file("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }").prefix(20)),
     "bad.npy: npy file is truncated in its header"),
    ("header too big", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 2, 0, 0, 0, 0, 0x10] + [UInt8](repeating: 0x20, count: 16),
     "bad.npy: npy header is 268435456 bytes; at most 65536 are accepted"),
  ]

  @Test(arguments: bad.indices)
  func badFiles(index: Int) {
    let (_, bytes, message) = Self.bad[index]
    do {
      _ = try bytes.withUnsafeBytes { try Npy.decode($0, file: "bad.npy") }
      Issue.record("expected an error: \(message)")
    } catch let e as GraftError {
      #expect(e.description == message)
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }
}
