// Bad ONNX input: one row per case with its exact one-line message and exit code. Files are
// written by hand with ProtoWriter (not by the exporter) into a fresh temp folder.
import Foundation
import GraftCLI
import GraftIR
import GraftONNX
import GraftTestSupport
import Testing

/// One bad-input case: `build` writes files into a folder and returns the model's path;
/// `message` is the exact stderr line with `{file}` standing for that path.
struct ONNXBadCase: Sendable, CustomTestStringConvertible {
  var name: String
  var exit: Int32
  var message: String
  var build: @Sendable (String) throws -> String
  var testDescription: String { name }
}

private func write(_ dir: String, _ name: String, _ bytes: [UInt8]) throws -> String {
  let path = dir + "/" + name
  try Data(bytes).write(to: URL(fileURLWithPath: path))
  return path
}

/// x -> Relu -> y, with `extra` initializers and nodes.
private func reluModel(nodes: [ProtoWriter]? = nil, initializers: [ProtoWriter] = [],
                       inputs: [ProtoWriter] = [OnnxWire.value("x", dims: [2, 3])]) -> [UInt8] {
  let n = nodes ?? [OnnxWire.node("Relu", ["x"], ["y"], name: "relu")]
  return OnnxWire.model(OnnxWire.graph(nodes: n, inputs: inputs, outputs: [OnnxWire.value("y", dims: [2, 3])],
                                       initializers: initializers))
}

/// A model whose Add reads an initializer 'w' built by `tensor`.
private func addModel(_ tensor: ProtoWriter) -> [UInt8] {
  reluModel(nodes: [OnnxWire.node("Add", ["x", "w"], ["y"], name: "add")], initializers: [tensor])
}

private func externalTensor(location: String, offset: Int? = nil, length: Int? = nil) -> ProtoWriter {
  OnnxWire.tensor("w", dtype: 1, dims: [2, 3], raw: nil) { t in
    func entry(_ k: String, _ v: String) { t.message(13) { e in e.string(1, k); e.string(2, v) } }
    entry("location", location)
    if let offset { entry("offset", String(offset)) }
    if let length { entry("length", String(length)) }
    t.int(14, 1)
  }
}

/// Deterministic bytes that are not protobuf.
private func noise(_ n: Int) -> [UInt8] {
  var s: UInt64 = 0x9E37_79B9_7F4A_7C15
  return (0..<n).map { _ in
    s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return UInt8(truncatingIfNeeded: s >> 56)
  }
}

/// If nodes nested `depth` deep (each then_branch holds the next If).
private func nestedIf(_ depth: Int) -> ProtoWriter {
  var g = OnnxWire.graph(nodes: [OnnxWire.node("Identity", ["x"], ["y0"], name: "leaf")], inputs: [],
                         outputs: [OnnxWire.value("y0", dims: [2, 3])])
  for k in 0..<depth {
    let attr = OnnxWire.attribute("then_branch", type: 5) { $0.message(6, g) }
    g = OnnxWire.graph(nodes: [OnnxWire.node("If", ["c"], ["y\(k + 1)"], name: "if\(k)", attributes: [attr])],
                       inputs: [], outputs: [OnnxWire.value("y\(k + 1)", dims: [2, 3])])
  }
  return g
}

let onnxBadCases: [ONNXBadCase] = [
  ONNXBadCase(name: "missing file", exit: 1, message: "{file}: file not found") { dir in dir + "/absent.onnx" },
  ONNXBadCase(name: "empty file", exit: 1, message: "{file}: file is empty; not an ONNX model") { dir in
    try write(dir, "empty.onnx", [])
  },
  ONNXBadCase(name: "truncated file", exit: 1,
              message: "{file}: truncated or corrupt protobuf: a field at byte 15 runs past its end; not a complete ONNX model") { dir in
    let full = reluModel()
    return try write(dir, "truncated.onnx", Array(full.prefix(full.count / 2)))
  },
  ONNXBadCase(name: "random bytes", exit: 1,
              message: "{file}: not an ONNX model: protobuf wire type 4 at byte 0 is not valid here") { dir in
    try write(dir, "noise.onnx", noise(4096))
  },
  ONNXBadCase(name: "protobuf that is not a model (graph)", exit: 1,
              message: "{file}: not an ONNX model: protobuf decoding failed (a field has the wrong type for ModelProto)") { dir in
    let g = OnnxWire.graph(nodes: [OnnxWire.node("Relu", ["x"], ["y"], name: "relu")], inputs: [], outputs: [])
    return try write(dir, "graph.pb", g.bytes)
  },
  ONNXBadCase(name: "protobuf without a graph", exit: 1, message: "{file}: not an ONNX model: the message has no graph") { dir in
    var m = ProtoWriter()
    m.int(100, 7)
    m.string(101, "hello")
    return try write(dir, "nograph.pb", m.bytes)
  },
  ONNXBadCase(name: "negative dim", exit: 1, message: "{file}: tensor 'w': dim -3 is negative") { dir in
    try write(dir, "negdim.onnx", addModel(OnnxWire.tensor("w", dtype: 1, dims: [-3, 2], raw: [])))
  },
  ONNXBadCase(name: "absurd dim", exit: 1, message: "{file}: tensor 'w': dim 1125899906842624 is larger than the limit 1099511627776") { dir in
    try write(dir, "hugedim.onnx", addModel(OnnxWire.tensor("w", dtype: 1, dims: [1 << 50], raw: [])))
  },
  ONNXBadCase(name: "absurd element count", exit: 1,
              message: "{file}: tensor 'w': shape 1048576x1048576x1048576 has more elements than the limit 17179869184") { dir in
    try write(dir, "hugecount.onnx", addModel(OnnxWire.tensor("w", dtype: 1, dims: [1 << 20, 1 << 20, 1 << 20], raw: [])))
  },
  ONNXBadCase(name: "negative dim in a declared shape", exit: 1, message: "{file}: tensor 'x': dim -7 is negative") { dir in
    try write(dir, "negshape.onnx", reluModel(inputs: [OnnxWire.value("x", dims: [2, -7])]))
  },
  ONNXBadCase(name: "tensor data shorter than its shape", exit: 1,
              message: "{file}: tensor 'w': tensor data has 12 bytes; shape 2x3 of float needs 24") { dir in
    try write(dir, "short.onnx", addModel(OnnxWire.tensor("w", dtype: 1, dims: [2, 3], raw: OnnxWire.floats([1, 2, 3]))))
  },
  ONNXBadCase(name: "typed data shorter than its shape", exit: 1,
              message: "{file}: tensor 'w': tensor has 2 values in float_data; shape 2x3 of float needs 6") { dir in
    try write(dir, "shorttyped.onnx", addModel(OnnxWire.tensor("w", dtype: 1, dims: [2, 3], raw: nil) { t in
      t.data(4, OnnxWire.floats([1, 2]))
    }))
  },
  ONNXBadCase(name: "unknown data type", exit: 3, message: "{file}: tensor 'w': data type 99 is not supported") { dir in
    try write(dir, "dtype.onnx", addModel(OnnxWire.tensor("w", dtype: 99, dims: [1], raw: [0])))
  },
  ONNXBadCase(name: "missing external data file", exit: 1, message: "{file}: tensor 'w': external data file 'w.bin' not found") { dir in
    try write(dir, "ext_missing.onnx", addModel(externalTensor(location: "w.bin")))
  },
  ONNXBadCase(name: "external data leaving the folder", exit: 1,
              message: "{file}: tensor 'w': external data location '../../etc/passwd' leaves the model's folder") { dir in
    try write(dir, "ext_escape.onnx", addModel(externalTensor(location: "../../etc/passwd")))
  },
  ONNXBadCase(name: "absolute external data path", exit: 1,
              message: "{file}: tensor 'w': external data location '/etc/passwd' is absolute; it must be relative to the model's folder") { dir in
    try write(dir, "ext_abs.onnx", addModel(externalTensor(location: "/etc/passwd")))
  },
  ONNXBadCase(name: "external data through a symbolic link out of the folder", exit: 1,
              message: "{file}: tensor 'w': external data location 'link.bin' leaves the model's folder (through a symbolic link)") { dir in
    let outside = dir + "-outside.bin"
    try Data(OnnxWire.floats([1, 2, 3, 4, 5, 6])).write(to: URL(fileURLWithPath: outside))
    try FileManager.default.createSymbolicLink(atPath: dir + "/link.bin", withDestinationPath: outside)
    return try write(dir, "ext_link.onnx", addModel(externalTensor(location: "link.bin")))
  },
  ONNXBadCase(name: "external data range past the end", exit: 1,
              message: "{file}: tensor 'w': external data range 16+24 is past the end of 'w.bin' (24 bytes)") { dir in
    try Data(OnnxWire.floats([1, 2, 3, 4, 5, 6])).write(to: URL(fileURLWithPath: dir + "/w.bin"))
    return try write(dir, "ext_range.onnx", addModel(externalTensor(location: "w.bin", offset: 16, length: 24)))
  },
  ONNXBadCase(name: "cyclic graph", exit: 1, message: "{file}: node 'a' (Relu): graph has a cycle through this node") { dir in
    try write(dir, "cycle.onnx", reluModel(nodes: [
      OnnxWire.node("Relu", ["b_out"], ["a_out"], name: "a"),
      OnnxWire.node("Relu", ["a_out"], ["b_out"], name: "b"),
      OnnxWire.node("Relu", ["x"], ["y"], name: "relu"),
    ]))
  },
  ONNXBadCase(name: "duplicate value names", exit: 1,
              message: "{file}: node 'second' (Relu): output 'y' is already defined (duplicate value name)") { dir in
    try write(dir, "dup.onnx", reluModel(nodes: [
      OnnxWire.node("Relu", ["x"], ["y"], name: "first"),
      OnnxWire.node("Relu", ["x"], ["y"], name: "second"),
    ]))
  },
  ONNXBadCase(name: "undefined input name", exit: 1,
              message: "{file}: node 'relu' (Relu): input 'nope' is not defined (no graph input, initializer or node output has this name)") { dir in
    try write(dir, "undef.onnx", reluModel(nodes: [OnnxWire.node("Relu", ["nope"], ["y"], name: "relu")]))
  },
  ONNXBadCase(name: "attribute of the wrong kind for the op", exit: 1,
              message: "{file}: node 'conv' (Conv): attribute 'strides' is floats; Conv needs ints") { dir in
    let strides = OnnxWire.attribute("strides", type: 6) { a in a.float(7, 1); a.float(7, 1) }
    let w = OnnxWire.tensor("w", dtype: 1, dims: [1, 1, 1, 1], raw: OnnxWire.floats([1]))
    return try write(dir, "attr.onnx", OnnxWire.model(OnnxWire.graph(
      nodes: [OnnxWire.node("Conv", ["x", "w"], ["y"], name: "conv", attributes: [strides])],
      inputs: [OnnxWire.value("x", dims: [1, 1, 2, 3])], outputs: [OnnxWire.value("y", dims: [1, 1, 2, 3])],
      initializers: [w])))
  },
  ONNXBadCase(name: "attribute declared int holding floats", exit: 1,
              message: "{file}: node 'sm' (Softmax): attribute 'axis' is declared int but holds no int value") { dir in
    let axis = OnnxWire.attribute("axis", type: 2) { a in a.float(7, 1) }
    return try write(dir, "attr2.onnx", reluModel(nodes: [OnnxWire.node("Softmax", ["x"], ["y"], name: "sm", attributes: [axis])]))
  },
  ONNXBadCase(name: "control character in a value name", exit: 1,
              message: "{file}: name 'a\\u{a}b' contains a control character") { dir in
    try write(dir, "ctrl.onnx", reluModel(nodes: [
      OnnxWire.node("Relu", ["x"], ["a\nb"], name: "r1"), OnnxWire.node("Relu", ["a\nb"], ["y"], name: "r2"),
    ]))
  },
  ONNXBadCase(name: "sparse initializer too large to densify", exit: 1,
              message: "{file}: tensor 'w': sparse tensor of shape 2147483648 would densify past the limit of 1073741824 bytes") { dir in
    var sparse = ProtoWriter()
    sparse.message(1, OnnxWire.tensor("w", dtype: 1, dims: [1], raw: OnnxWire.floats([1])))
    sparse.message(2, OnnxWire.tensor("w_idx", dtype: 7, dims: [1], raw: [0, 0, 0, 0, 0, 0, 0, 0]))
    sparse.int(3, 1 << 31)
    var g = OnnxWire.graph(nodes: [OnnxWire.node("Relu", ["x"], ["y"], name: "relu")], inputs: [OnnxWire.value("x", dims: [2, 3])],
                           outputs: [OnnxWire.value("y", dims: [2, 3])])
    g.message(15, sparse)
    return try write(dir, "sparse.onnx", OnnxWire.model(g))
  },
  ONNXBadCase(name: "recursive local function", exit: 1,
              message: "{file}: node 'call' (F): local function 'F' calls nest deeper than 32 levels (recursive function?)") { dir in
    var f = ProtoWriter()
    f.string(1, "F")
    f.string(4, "X")
    f.string(5, "Y")
    f.message(7, OnnxWire.node("F", ["X"], ["Y"], name: "call", domain: "d"))
    f.message(9) { o in o.string(1, ""); o.int(2, 17) }
    f.string(10, "d")
    var m = ProtoWriter()
    m.int(1, 10)
    m.message(7, OnnxWire.graph(nodes: [OnnxWire.node("F", ["x"], ["y"], name: "call", domain: "d")],
                                inputs: [OnnxWire.value("x", dims: [2, 3])], outputs: [OnnxWire.value("y", dims: [2, 3])]))
    m.message(8) { o in o.string(1, ""); o.int(2, 17) }
    m.message(8) { o in o.string(1, "d"); o.int(2, 1) }
    m.message(25, f)
    return try write(dir, "recursive.onnx", m.bytes)
  },
  ONNXBadCase(name: "millions of empty messages (allocation bomb)", exit: 1,
              message: "{file}: decoding would allocate more than 292435484 bytes for a 6000007-byte file (at byte 3847839); refusing") { dir in
    var g = ProtoWriter()
    for _ in 0..<3_000_000 { g.message(1, ProtoWriter()) }  // 3 M empty NodeProtos, 2 bytes each
    var m = ProtoWriter()
    m.int(1, 8)
    m.message(7, g)
    return try write(dir, "bomb.onnx", m.bytes)
  },
  ONNXBadCase(name: "graphs nested too deep", exit: 1,
              message: "{file}: messages nest deeper than 96 levels at byte 1372; refusing to parse") { dir in
    try write(dir, "deep.onnx", OnnxWire.model(nestedIf(40)))
  },
]

@Test(arguments: onnxBadCases)
func onnxBadInput(_ c: ONNXBadCase) throws {
  let dir = FileManager.default.temporaryDirectory.path + "/graft-onnx-bad-\(UUID().uuidString)"
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer {
    try? FileManager.default.removeItem(atPath: dir)
    try? FileManager.default.removeItem(atPath: dir + "-outside.bin")
  }
  let path = try c.build(dir)
  final class Lines: @unchecked Sendable { var out: [String] = []; var err: [String] = [] }
  let lines = Lines()
  let console = Console(stdout: { lines.out.append($0) }, stderr: { lines.err.append($0) })
  let code = CLI.run(["convert", path, "--check-only"], console: console)
  #expect(code == c.exit)
  #expect(lines.err == [c.message.replacingOccurrences(of: "{file}", with: path)])
  #expect(lines.out.isEmpty)
}

/// Mutated copies of real files (bytes overwritten, deleted, inserted, truncated) either
/// import or fail with a one-line GraftError; a crash or hang would end the test run.
@Test func onnxMutatedFilesNeverCrash() throws {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
  let sources = ["attributes", "control_flow", "dtypes_typed", "functions", "sparse", "ir3"].map {
    root + "/Tests/Fixtures/onnx/\($0).onnx"
  }
  var rng = noise(4000)[...]
  func next(_ bound: Int) -> Int {
    if rng.count < 3 { rng = noise(4000)[...] }
    let v = Int(rng.removeFirst()) << 16 | Int(rng.removeFirst()) << 8 | Int(rng.removeFirst())
    return v % max(bound, 1)
  }
  var imported = 0, rejected = 0
  for round in 0..<600 {
    let path = sources[round % sources.count]
    var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    for _ in 0..<(1 + next(3)) where bytes.count > 4 {
      switch next(4) {
      case 0: bytes[next(bytes.count)] = UInt8(next(256))
      case 1:
        let at = next(bytes.count)
        bytes.removeSubrange(at..<min(bytes.count, at + 1 + next(16)))
      case 2: bytes.insert(contentsOf: (0..<(1 + next(8))).map { _ in UInt8(next(256)) }, at: next(bytes.count))
      default: bytes = Array(bytes.prefix(1 + next(bytes.count - 1)))
      }
    }
    do {
      _ = try ONNXImporter.decode(bytes: bytes, path: path)
      imported += 1
    } catch let e as GraftError {
      rejected += 1
      #expect(!e.description.contains("\n"), "\(e.description)")
      #expect(e.description.hasPrefix(path + ": "), "\(e.description)")
    }
  }
  #expect(imported + rejected == 600)
  #expect(rejected > 300)
}
