import CZlib
import GraftIR
import GraftKernels

/// Serializes a `CompiledModel` as a `.graft` archive, format 1.0 (formats/ARCHIVE.md).
///
/// Contract
/// - Little-endian; header 64 bytes, section table, then TENSORS, NODES, WEIGHTS, IO, STRINGS,
///   each at an offset aligned to 64; per-section CRC32 and a header CRC32.
/// - WEIGHTS holds every weight tensor at its planned offset (aligned to 64); with
///   `compress` it is stored as one zlib stream (section flag bit 0), raw_bytes = inflated size.
/// - STRINGS holds tensor and node names (deduplicated); the empty name is written as NONE32.
/// - `write` goes through `writeFileAtomically`: a reader never sees a partial archive.
public enum ArchiveWriter {
  public static let magic: [UInt8] = Array("GRAFTARC".utf8)
  static let none32: UInt32 = 0xFFFF_FFFF

  public enum SectionKind: UInt32 {
    case tensors = 1, nodes = 2, weights = 3, io = 4, strings = 5
  }

  public static func write(_ model: CompiledModel, to path: String, compress: Bool = false) throws {
    let bytes = try encode(model, compress: compress, file: path)
    try bytes.withUnsafeBytes { try writeFileAtomically(path, bytes: $0) }
  }

  public static func encode(_ model: CompiledModel, compress: Bool = false, file: String = "") throws -> [UInt8] {
    var strings = StringTable()

    // TENSORS
    var tens = ByteWriter()
    tens.u32(UInt32(model.tensors.count))
    tens.u32(0)
    for t in model.tensors {
      tens.u32(UInt32(bitPattern: t.dtype.rawValue))
      tens.u32(UInt32(t.dims.count))
      for i in 0..<8 { tens.i64(i < t.dims.count ? Int64(t.dims[i]) : 0) }
      tens.u32(t.isWeight ? 1 : 0)
      tens.u32(strings.offset(t.name))
      tens.u64(UInt64(t.offset))
      tens.u64(UInt64(t.bytes))
      tens.u32(0)  // quant_count
      tens.i32(0)  // quant_axis
      tens.u64(0)  // quant_offset
      tens.u64(0)  // reserved
    }

    // NODES
    var nodes = ByteWriter()
    nodes.u32(UInt32(model.nodes.count))
    nodes.u32(0)
    for n in model.nodes {
      nodes.pad(to: 8)
      nodes.u32(n.lowered.kernel)
      nodes.u16(UInt16(n.inputs.count))
      nodes.u16(UInt16(n.outputs.count))
      nodes.u16(UInt16(n.lowered.attrs.count))
      nodes.u16(0)
      nodes.u32(strings.offset(n.lowered.name))
      nodes.u64(UInt64(n.scratchOffset))
      nodes.u64(UInt64(n.scratchBytes))
      for i in n.inputs { nodes.i32(i) }
      for o in n.outputs { nodes.i32(o) }
      nodes.pad(to: 8)
      for a in n.lowered.attrs {
        nodes.u16(UInt16(truncatingIfNeeded: a.key))
        switch a.value {
        case .int(let v):
          nodes.u16(1); nodes.u32(1); nodes.i64(v)
        case .ints(let v):
          nodes.u16(2); nodes.u32(UInt32(v.count)); for x in v { nodes.i64(x) }
        case .float(let v):
          nodes.u16(3); nodes.u32(1); nodes.f32(v)
        case .floats(let v):
          nodes.u16(4); nodes.u32(UInt32(v.count)); for x in v { nodes.f32(x) }
        }
        nodes.pad(to: 8)
      }
    }

    // WEIGHTS (raw)
    var rawWeightsSize = 0
    for t in model.tensors where t.isWeight { rawWeightsSize = max(rawWeightsSize, t.offset + t.bytes) }
    var weights = [UInt8](repeating: 0, count: rawWeightsSize)
    weights.withUnsafeMutableBytes { dst in
      for t in model.tensors where t.isWeight {
        guard let data = t.data, t.bytes > 0, let base = dst.baseAddress else { continue }
        (base + t.offset).copyMemory(from: data.storage.pointer, byteCount: min(t.bytes, data.byteCount))
      }
    }
    var weightsFlags: UInt32 = 0
    var storedWeights = weights
    if compress && !weights.isEmpty {
      var destLen = compressBound(uLong(weights.count))
      var dest = [UInt8](repeating: 0, count: Int(destLen))
      let rc = dest.withUnsafeMutableBufferPointer { d in
        weights.withUnsafeBufferPointer { s in
          compress2(d.baseAddress, &destLen, s.baseAddress, uLong(s.count), 6)
        }
      }
      guard rc == Z_OK else {
        throw GraftError(.io, at: Location(file: file), "zlib compress2 failed with status \(rc)")
      }
      dest.removeSubrange(Int(destLen)...)
      storedWeights = dest
      weightsFlags = 1
    }

    // IO
    var io = ByteWriter()
    io.u32(UInt32(model.inputs.count))
    io.u32(UInt32(model.outputs.count))
    for i in model.inputs { io.u32(UInt32(i)) }
    for o in model.outputs { io.u32(UInt32(o)) }

    // Layout.
    let sections: [(SectionKind, [UInt8], UInt32, Int)] = [
      (.tensors, tens.bytes, 0, tens.bytes.count),
      (.nodes, nodes.bytes, 0, nodes.bytes.count),
      (.weights, storedWeights, weightsFlags, weights.count),
      (.io, io.bytes, 0, io.bytes.count),
      (.strings, strings.bytes, 0, strings.bytes.count),
    ]
    var offset = MemoryPlanner.alignUp(64 + 40 * sections.count)
    var table = ByteWriter()
    var offsets: [Int] = []
    for (kind, data, flags, raw) in sections {
      offsets.append(offset)
      table.u32(kind.rawValue)
      table.u32(flags)
      table.u64(UInt64(offset))
      table.u64(UInt64(data.count))
      table.u64(UInt64(raw))
      table.u32(crc(data))
      table.u32(0)
      offset = MemoryPlanner.alignUp(offset + data.count)
    }
    let fileBytes = Array(zip(offsets, sections)).last.map { $0.0 + $0.1.1.count } ?? offset

    var header = ByteWriter()
    header.raw(magic)
    header.u16(1)
    header.u16(0)
    header.u32(UInt32(sections.count))
    header.u64(UInt64(fileBytes))
    header.u64(UInt64(model.arenaBytes))
    header.u32(0)
    header.raw([UInt8](repeating: 0, count: 24))
    header.u32(crc(header.bytes))

    var out = [UInt8](repeating: 0, count: fileBytes)
    out.withUnsafeMutableBytes { dst in
      guard let base = dst.baseAddress else { return }
      func put(_ bytes: [UInt8], at offset: Int) {
        bytes.withUnsafeBytes { src in
          if let p = src.baseAddress, src.count > 0 { (base + offset).copyMemory(from: p, byteCount: src.count) }
        }
      }
      put(header.bytes, at: 0)
      put(table.bytes, at: 64)
      for (i, s) in sections.enumerated() { put(s.1, at: offsets[i]) }
    }
    return out
  }

  /// zlib's CRC32 (IEEE), in chunks that fit zlib's 32-bit length.
  public static func crc(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { crc($0) }
  }

  public static func crc(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var c = crc32(0, nil, 0)
    guard let base = bytes.baseAddress else { return UInt32(truncatingIfNeeded: c) }
    var i = 0
    let chunk = 1 << 30
    while i < bytes.count {
      let n = min(chunk, bytes.count - i)
      c = crc32(c, base.advanced(by: i).assumingMemoryBound(to: Bytef.self), uInt(n))
      i += n
    }
    return UInt32(truncatingIfNeeded: c)
  }
}

/// NUL-terminated names, deduplicated.
struct StringTable {
  var bytes: [UInt8] = []
  var seen: [String: UInt32] = [:]

  mutating func offset(_ s: String) -> UInt32 {
    if s.isEmpty { return ArchiveWriter.none32 }
    if let o = seen[s] { return o }
    let o = UInt32(bytes.count)
    bytes += Array(s.utf8).map { $0 == 0 ? UInt8(ascii: "?") : $0 }
    bytes.append(0)
    seen[s] = o
    return o
  }
}

/// Little-endian byte appender.
struct ByteWriter {
  var bytes: [UInt8] = []
  mutating func raw(_ b: [UInt8]) { bytes += b }
  mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func i32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func f32(_ v: Float) { u32(v.bitPattern) }
  mutating func pad(to n: Int) { while bytes.count % n != 0 { bytes.append(0) } }
}
