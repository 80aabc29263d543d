import Foundation
import GraftIR
import GraftRuntime

/// A `.graft` archive read for deployment tools (kernel list, C emission): the C runtime
/// validates it first (`graft_model_open`), then this decodes the tables (formats/ARCHIVE.md)
/// into plain values.
///
/// Contract
/// - `init` fails with a one-line `GraftError` naming the file and the runtime status for any
///   archive the runtime refuses; after that the decoding trusts the validated layout (every
///   read is still bounds-checked and throws instead of trapping).
/// - `weights` holds the raw (inflated) WEIGHTS bytes, whether or not the archive compresses
///   them (unless `keepWeights` is false).
/// - Quantization parameters are not decoded (`quantized` tells whether any tensor has them).
public struct DeployArchive: Sendable {
  public struct TensorEntry: Sendable {
    public var name: String
    public var dtype: Int32
    public var dims: [Int64]
    public var isWeight: Bool
    public var offset: UInt64
    public var bytes: UInt64
  }

  public struct AttrEntry: Sendable {
    public var key: UInt16
    /// 1 int, 2 ints, 3 float, 4 floats.
    public var type: UInt16
    public var ints: [Int64]
    public var floats: [Float]
  }

  public struct NodeEntry: Sendable {
    public var kernel: UInt32
    public var name: String
    public var scratchOffset: UInt64
    public var scratchBytes: UInt64
    public var inputs: [Int32]
    public var outputs: [Int32]
    public var attrs: [AttrEntry]
  }

  public var file: String
  public var arenaBytes: UInt64
  public var tensors: [TensorEntry] = []
  public var nodes: [NodeEntry] = []
  public var inputs: [Int] = []
  public var outputs: [Int] = []
  public var weights: [UInt8] = []
  /// Raw WEIGHTS bytes (also when `weights` was not kept).
  public var weightBytes = 0
  public var quantized = false

  /// Kernel ids the nodes use, sorted, each once.
  public var kernelIds: [UInt32] { Array(Set(nodes.map(\.kernel))).sorted() }

  public init(path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw GraftError(.io, at: Location(file: path), "cannot read archive")
    }
    try self.init(bytes: [UInt8](data), file: path)
  }

  public init(bytes: [UInt8], file: String, keepWeights: Bool = true) throws {
    let buf = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
    defer { buf.deallocate() }
    bytes.withUnsafeBytes { b in
      if let base = b.baseAddress, b.count > 0 { buf.copyMemory(from: base, byteCount: b.count) }
    }
    try self.init(archive: UnsafeRawBufferPointer(start: buf, count: bytes.count), file: file, keepWeights: keepWeights)
  }

  /// Decodes an archive in place: `archive` must be 64-byte aligned (else the runtime's
  /// GRAFT_E_ALIGN); nothing is kept pointing into it. `keepWeights: false` leaves `weights`
  /// empty (for tools that only need the tables).
  public init(archive: UnsafeRawBufferPointer, file: String, keepWeights: Bool = true) throws {
    self.file = file
    // Validation by the runtime: the one reader that decides what is a valid archive.
    guard let buf = archive.baseAddress, archive.count > 0 else {
      throw GraftError(.invalid, at: Location(file: file), "cannot open archive: empty file")
    }
    var sizes = graft_model_sizes()
    var st = graft_model_probe(buf, archive.count, &sizes)
    guard st == GRAFT_OK else { throw Self.statusError(st, file: file, nil) }
    let wbytes = Int(sizes.weights_bytes)
    let wbuf: UnsafeMutableRawPointer? = wbytes > 0 ? .allocate(byteCount: wbytes, alignment: 64) : nil
    defer { wbuf?.deallocate() }
    let model = UnsafeMutablePointer<graft_model>.allocate(capacity: 1)
    defer { model.deallocate() }
    model.initialize(to: graft_model())
    st = graft_model_open(model, buf, archive.count, wbuf, wbytes)
    guard st == GRAFT_OK else {
      throw Self.statusError(st, file: file, graft_model_failed_node(model))
    }
    arenaBytes = graft_model_arena_bytes(model)
    let bytes = archive

    let r = Reader(bytes: bytes, file: file)
    let sectionCount = Int(try r.u32(12))
    var sections: [UInt32: (offset: Int, stored: Int, raw: Int, flags: UInt32)] = [:]
    for i in 0..<sectionCount {
      let e = 64 + 40 * i
      sections[try r.u32(e)] = (Int(try r.u64(e + 8)), Int(try r.u64(e + 16)), Int(try r.u64(e + 24)),
                                try r.u32(e + 4))
    }
    guard let ts = sections[1], let ns = sections[2], let ws = sections[3], let io = sections[4] else {
      throw GraftError(.invalid, at: Location(file: file), "archive lacks a required section")
    }
    let strings = sections[5]
    func string(_ off: UInt32) throws -> String {
      guard off != 0xFFFF_FFFF, let s = strings else { return "" }
      var end = s.offset + Int(off)
      while end < s.offset + s.stored, try r.u8(end) != 0 { end += 1 }
      return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(s.offset + Int(off))..<end]), as: UTF8.self)
    }

    // Weights: raw bytes, inflated by the runtime when compressed.
    if !keepWeights {
      weightBytes = ws.raw
    } else if ws.flags & 1 != 0 {
      weightBytes = ws.raw
      if let wbuf, ws.raw > 0 {
        weights = [UInt8](UnsafeRawBufferPointer(start: wbuf, count: ws.raw))
      }
    } else {
      weightBytes = ws.raw
      if ws.stored > 0 { weights = Array(bytes[ws.offset..<(ws.offset + ws.stored)]) }
    }

    let tcount = Int(try r.u32(ts.offset))
    for i in 0..<tcount {
      let e = ts.offset + 8 + 120 * i
      let rank = Int(try r.u32(e + 4))
      var dims: [Int64] = []
      for d in 0..<rank { dims.append(try r.i64(e + 8 + 8 * d)) }
      if try r.u32(e + 96) != 0 { quantized = true }
      tensors.append(TensorEntry(name: try string(try r.u32(e + 76)), dtype: Int32(bitPattern: try r.u32(e)),
                                 dims: dims, isWeight: try r.u32(e + 72) == 1, offset: try r.u64(e + 80),
                                 bytes: try r.u64(e + 88)))
    }

    let ncount = Int(try r.u32(ns.offset))
    var p = ns.offset + 8
    for _ in 0..<ncount {
      p = ns.offset + (p - ns.offset + 7) / 8 * 8
      let kernel = try r.u32(p)
      let nin = Int(try r.u16(p + 4)), nout = Int(try r.u16(p + 6)), nattr = Int(try r.u16(p + 8))
      let name = try string(try r.u32(p + 12))
      let soff = try r.u64(p + 16), sbytes = try r.u64(p + 24)
      var q = p + 32
      var ins: [Int32] = [], outs: [Int32] = []
      for _ in 0..<nin { ins.append(Int32(bitPattern: try r.u32(q))); q += 4 }
      for _ in 0..<nout { outs.append(Int32(bitPattern: try r.u32(q))); q += 4 }
      q = ns.offset + (q - ns.offset + 7) / 8 * 8
      var attrs: [AttrEntry] = []
      for _ in 0..<nattr {
        let key = try r.u16(q), type = try r.u16(q + 2), count = Int(try r.u32(q + 4))
        q += 8
        var a = AttrEntry(key: key, type: type, ints: [], floats: [])
        if type == 1 || type == 2 {
          for k in 0..<count { a.ints.append(try r.i64(q + 8 * k)) }
          q += 8 * count
        } else {
          for k in 0..<count { a.floats.append(Float(bitPattern: try r.u32(q + 4 * k))) }
          q += (4 * count + 7) / 8 * 8
        }
        attrs.append(a)
      }
      nodes.append(NodeEntry(kernel: kernel, name: name, scratchOffset: soff, scratchBytes: sbytes,
                             inputs: ins, outputs: outs, attrs: attrs))
      p = q
    }

    let nIn = Int(try r.u32(io.offset)), nOut = Int(try r.u32(io.offset + 4))
    for i in 0..<nIn { inputs.append(Int(try r.u32(io.offset + 8 + 4 * i))) }
    for i in 0..<nOut { outputs.append(Int(try r.u32(io.offset + 8 + 4 * (nIn + i)))) }
  }

  static func statusError(_ st: graft_status, file: String, _ node: Int32?) -> GraftError {
    let name = graft_status_name(st).map { String(cString: $0) } ?? "GRAFT_E_UNKNOWN"
    let kind: FailureKind = st == GRAFT_E_KERNEL || st == GRAFT_E_UNSUPPORTED ? .unsupported : .invalid
    let at = node.map { $0 >= 0 ? " at node \($0)" : "" } ?? ""
    return GraftError(kind, at: Location(file: file), "cannot open archive\(at): \(name)")
  }

  /// Little-endian reads that throw instead of trapping past the end.
  struct Reader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    func check(_ at: Int, _ n: Int) throws {
      guard at >= 0, at + n <= bytes.count else {
        throw GraftError(.invalid, at: Location(file: file), "archive field at byte \(at) is past the end")
      }
    }
    func u8(_ at: Int) throws -> UInt8 { try check(at, 1); return bytes[at] }
    func u16(_ at: Int) throws -> UInt16 {
      try check(at, 2); return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }
    func u32(_ at: Int) throws -> UInt32 {
      try check(at, 4)
      var v: UInt32 = 0
      for k in 0..<4 { v |= UInt32(bytes[at + k]) << (8 * UInt32(k)) }
      return v
    }
    func u64(_ at: Int) throws -> UInt64 {
      try check(at, 8)
      var v: UInt64 = 0
      for k in 0..<8 { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
      return v
    }
    func i64(_ at: Int) throws -> Int64 { Int64(bitPattern: try u64(at)) }
  }
}
