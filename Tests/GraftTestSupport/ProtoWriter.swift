/// A minimal protobuf wire-format writer for building ONNX test files by hand, independent of
/// the exporter under test (so bad-input tests can write what no exporter would: negative
/// dims, short data, cycles, wrong attribute kinds). Field numbers are ONNX's.
public struct ProtoWriter: Sendable {
  public private(set) var bytes: [UInt8] = []

  public init() {}

  public mutating func rawVarint(_ v: UInt64) {
    var v = v
    while v >= 0x80 {
      bytes.append(UInt8(v & 0x7f) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  public mutating func tag(_ field: Int, _ wire: Int) { rawVarint(UInt64(field << 3 | wire)) }

  public mutating func int(_ field: Int, _ v: Int64) {
    tag(field, 0)
    rawVarint(UInt64(bitPattern: v))
  }

  public mutating func float(_ field: Int, _ v: Float) {
    tag(field, 5)
    withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
  }

  public mutating func data(_ field: Int, _ d: [UInt8]) {
    tag(field, 2)
    rawVarint(UInt64(d.count))
    bytes.append(contentsOf: d)
  }

  public mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }

  public mutating func message(_ field: Int, _ m: ProtoWriter) { data(field, m.bytes) }

  public mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
    var m = ProtoWriter()
    build(&m)
    message(field, m)
  }
}

/// Builders for the ONNX messages the tests need (ModelProto and what it holds).
public enum OnnxWire {
  /// TensorProto with raw_data (or no data when `raw` is nil).
  public static func tensor(_ name: String, dtype: Int32, dims: [Int64], raw: [UInt8]?,
                            extra: (inout ProtoWriter) -> Void = { _ in }) -> ProtoWriter {
    var t = ProtoWriter()
    for d in dims { t.int(1, d) }
    t.int(2, Int64(dtype))
    t.string(8, name)
    if let raw { t.data(9, raw) }
    extra(&t)
    return t
  }

  public static func floats(_ v: [Float]) -> [UInt8] {
    v.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }
  }

  /// ValueInfoProto of a tensor type.
  public static func value(_ name: String, elem: Int32 = 1, dims: [Int64]) -> ProtoWriter {
    var v = ProtoWriter()
    v.string(1, name)
    v.message(2) { tp in
      tp.message(1) { tt in
        tt.int(1, Int64(elem))
        tt.message(2) { sh in for d in dims { sh.message(1) { $0.int(1, d) } } }
      }
    }
    return v
  }

  /// NodeProto; attributes are prebuilt AttributeProtos.
  public static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String,
                          attributes: [ProtoWriter] = [], domain: String = "") -> ProtoWriter {
    var n = ProtoWriter()
    for i in inputs { n.string(1, i) }
    for o in outputs { n.string(2, o) }
    n.string(3, name)
    n.string(4, op)
    for a in attributes { n.message(5, a) }
    if !domain.isEmpty { n.string(7, domain) }
    return n
  }

  /// AttributeProto; `type` is ONNX's AttributeType number, `fill` writes the value field.
  public static func attribute(_ name: String, type: Int, _ fill: (inout ProtoWriter) -> Void) -> ProtoWriter {
    var a = ProtoWriter()
    a.string(1, name)
    a.int(20, Int64(type))
    fill(&a)
    return a
  }

  public static func graph(nodes: [ProtoWriter], inputs: [ProtoWriter], outputs: [ProtoWriter],
                           initializers: [ProtoWriter] = [], name: String = "g") -> ProtoWriter {
    var g = ProtoWriter()
    for n in nodes { g.message(1, n) }
    g.string(2, name)
    for t in initializers { g.message(5, t) }
    for i in inputs { g.message(11, i) }
    for o in outputs { g.message(12, o) }
    return g
  }

  public static func model(_ graph: ProtoWriter, irVersion: Int64 = 8, opset: Int64 = 17) -> [UInt8] {
    var m = ProtoWriter()
    m.int(1, irVersion)
    m.string(2, "graft-tests")
    m.message(7, graph)
    m.message(8) { o in
      o.string(1, "")
      o.int(2, opset)
    }
    return m.bytes
  }
}
