// ONNX import → export round trips, checked against onnxruntime and the onnx package (numbers
// always come from onnxruntime; Graft's exporter output is only ever compared with the original).
import Foundation
import GraftCLI
import GraftIR
import GraftONNX
import Testing

private enum ONNXTestEnv {
  /// The package root (Tests/GraftTests/ThisFile.swift is three levels down).
  static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  /// The reference Python (onnx, onnxruntime, numpy): `$GRAFT_PYTHON`, else `.venv/bin/python`.
  static let python = ProcessInfo.processInfo.environment["GRAFT_PYTHON"] ?? (root + "/.venv/bin/python")
  /// The shared model corpus: `$GRAFT_MODELS`, else `../shared/models` beside the package.
  static let models = ProcessInfo.processInfo.environment["GRAFT_MODELS"] ?? (root + "/../shared/models")
  static let fixtures = root + "/Tests/Fixtures/onnx"

  /// Fails the test (never skips) when the reference tools are missing.
  static func requirePython() throws {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      Issue.record("\(python) is missing: run scripts/setup.sh or set GRAFT_PYTHON (onnx and onnxruntime are needed for reference checks)")
      throw CancellationError()
    }
  }

  /// Runs a command; returns its exit status and combined output.
  static func run(_ argv: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    p.currentDirectoryURL = URL(fileURLWithPath: root)
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  static func onnxFiles(in dir: String, recursive: Bool) -> [String] {
    let fm = FileManager.default
    let names = (recursive ? fm.subpaths(atPath: dir) : try? fm.contentsOfDirectory(atPath: dir)) ?? []
    return names.filter { $0.hasSuffix(".onnx") }.sorted().map { dir + "/" + $0 }
  }

  /// Every model the round trip covers: the shared corpus, ONNX's node tests, our fixtures.
  static var allModels: [String] {
    onnxFiles(in: models, recursive: false) + onnxFiles(in: models + "/onnx_node_tests", recursive: false)
      + onnxFiles(in: fixtures, recursive: true)
  }

  static func inputs(of model: String) -> [String] {
    let base = String(model.dropLast(5))
    var out: [String] = []
    while FileManager.default.fileExists(atPath: "\(base).input_\(out.count).npy") { out.append("\(base).input_\(out.count).npy") }
    return out
  }

  static func tempDir(_ tag: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.path + "/graft-\(tag)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }
}

/// Import → export every model, then let onnxruntime run original and export on the stored
/// inputs: outputs must be bit-identical, and the ModelProtos structurally equal.
@Test func onnxRoundTripIsBitExactInOnnxRuntime() throws {
  try ONNXTestEnv.requirePython()
  let models = ONNXTestEnv.allModels
  #expect(models.count > 100, "expected the shared corpus at \(ONNXTestEnv.models) (set GRAFT_MODELS to its folder)")
  let dir = try ONNXTestEnv.tempDir("onnx-roundtrip")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  var manifest: [[String: Any]] = []
  for (k, path) in models.enumerated() {
    let model = try ONNXImporter.load(path: path)
    let out = "\(dir)/\(k)_\(URL(fileURLWithPath: path).lastPathComponent)"
    try ONNXExporter.write(model, to: out)
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    // Inlined functions and densified sparse initializers change the structure on purpose.
    let structural = !(path.hasPrefix(ONNXTestEnv.fixtures) && ["functions", "sparse"].contains(name))
    manifest.append(["name": path.replacingOccurrences(of: ONNXTestEnv.root + "/", with: ""), "original": path,
                     "exported": out, "inputs": ONNXTestEnv.inputs(of: path), "structure": structural])
  }
  let manifestPath = dir + "/manifest.json"
  try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
  let (status, output) = try ONNXTestEnv.run([ONNXTestEnv.python, ONNXTestEnv.root + "/scripts/ort_run.py", "compare", manifestPath])
  let failures = output.split(separator: "\n").filter { !$0.hasPrefix("ok ") }
  #expect(status == 0, "\(failures.joined(separator: "\n"))")
  #expect(output.contains("summary: \(models.count) models"), "\(output.suffix(2000))")
}

/// Export is a fixpoint: exporting the re-imported export gives the same bytes.
@Test func onnxExportIsStable() throws {
  for path in ONNXTestEnv.allModels {
    let first = try ONNXExporter.encode(try ONNXImporter.load(path: path))
    let second = try ONNXExporter.encode(try ONNXImporter.decode(bytes: first, path: path))
    #expect(first == second, "\(path)")
  }
}

/// Typed fields (float_data, int32_data, int64_data, double_data, uint64_data) decode to the
/// same bytes the onnx package writes as raw_data for the same values.
@Test func onnxTypedFieldsMatchRawData() throws {
  let typed = try ONNXImporter.load(path: ONNXTestEnv.fixtures + "/dtypes_typed.onnx").graph
  let raw = try ONNXImporter.load(path: ONNXTestEnv.fixtures + "/dtypes_raw.onnx").graph
  #expect(typed.initializers.count == 13)
  let rawMap = raw.initializerMap
  for (name, t) in typed.initializers {
    guard let r = rawMap[name] else {
      Issue.record("\(name) missing in dtypes_raw.onnx")
      continue
    }
    #expect(t.dtype == r.dtype && t.dims == r.dims && t.dims == [2, 3], "\(name)")
    #expect(Array(t.storage.bytes) == Array(r.storage.bytes), "\(name): \(t.dtype)")
  }
  let dtypes = Set(typed.initializers.map(\.tensor.dtype))
  #expect(dtypes == [.float32, .float16, .bfloat16, .float64, .int8, .uint8, .int16, .uint16, .int32, .int64, .uint32, .uint64, .bool])
}

/// Unknown ops are kept whatever their domain, with every attribute kind intact.
@Test func onnxUnknownOpKeepsEveryAttributeKind() throws {
  let model = try ONNXImporter.load(path: ONNXTestEnv.fixtures + "/attributes.onnx")
  let node = try #require(model.graph.nodes.first { $0.opType == "AllKinds" })
  #expect(node.domain == "com.example.graft")
  #expect(node.attributes.map(\.value.kindName) == [
    "float", "int", "string", "tensor", "graph", "floats", "ints", "strings", "tensors", "graphs",
    "opaque", "opaque", "opaque", "opaque", "ints",
  ])
  #expect(node.float("f") == 0.25)
  #expect(node.int("i") == -7)
  #expect(node[attribute: "s"].map { if case .string(let b) = $0 { return b } else { return [] } } == Array("bytes\u{0}".utf8) + [0xff])
  #expect(node.ints("ints") == [3, -4, 5])
  #expect(node.floats("floats") == [1.0, -2.5])
  #expect(node.ints("empty_ints") == [])
  if case .tensor(let t)? = node[attribute: "t"] {
    #expect(t.dtype == .int64 && t.dims == [2, 3] && t.integers() == [0, 1, 2, 3, 4, 5])
  } else {
    Issue.record("attribute t is not a tensor")
  }
  #expect(model.metadata.map(\.key) == ["author"])
  #expect(model.opset("com.example.graft") == 1)
}

/// Local functions are inlined: no call remains, attribute references resolve (call value or
/// default), and onnxruntime's results match (checked in the round-trip test).
@Test func onnxLocalFunctionsAreInlined() throws {
  let model = try ONNXImporter.load(path: ONNXTestEnv.fixtures + "/functions.onnx")
  #expect(!model.graph.nodes.contains { $0.domain == "graft.test" })
  #expect(model.opset("graft.test") == nil)
  // sr, sr2 (ScaledRelu), at (AddTwice calling ScaledRelu), shift (ScaledRelu overload "shift").
  #expect(model.graph.nodes.map(\.opType) == ["Relu", "Constant", "Mul", "Relu", "Constant", "Mul", "Add", "Relu", "Constant", "Mul",
                                               "Add", "Relu", "Constant", "Add"])
  let constants = model.graph.nodes.filter { $0.opType == "Constant" }.map { $0.float("value_float") }
  #expect(constants == [0.5, 3.0, 2.0, 1.0])
  #expect(model.graph.nodes.allSatisfy { $0.attributes.allSatisfy { $0.refAttrName == nil && !$0.name.hasPrefix("\u{0}") } })
  #expect(Set(model.graph.nodes.map(\.name)).count == model.graph.nodes.count)
}

/// IR 3 models list initializers among the graph inputs; export keeps that order.
@Test func onnxIR3InputsKeepInitializers() throws {
  let model = try ONNXImporter.load(path: ONNXTestEnv.fixtures + "/ir3.onnx")
  #expect(model.irVersion == 3)
  #expect(model.graph.inputs.map(\.name) == ["x", "w"])
  #expect(model.graph.runtimeInputs.map(\.name) == ["x"])
  let again = try ONNXImporter.decode(bytes: try ONNXExporter.encode(model))
  #expect(again.graph.inputs.map(\.name) == ["x", "w"])
  #expect(again.irVersion == 3)
}

/// External data is read from beside the model (location, offset, length).
@Test func onnxExternalDataIsRead() throws {
  let model = try ONNXImporter.load(path: ONNXTestEnv.fixtures + "/external/model.onnx")
  let w = try #require(model.graph.initializer("w"))
  let b = try #require(model.graph.initializer("b"))
  #expect(w.dims == [4, 3, 3, 3] && w.byteCount == 4 * 27 * 4)
  #expect(b.dims == [4] && b.byteCount == 16)
  // The generator saved w with numpy too (.npy v1: 10-byte preamble + header, then data).
  let npy = try Data(contentsOf: URL(fileURLWithPath: ONNXTestEnv.fixtures + "/external/expected_w.npy"))
  let headerLength = Int(npy[8]) | Int(npy[9]) << 8
  #expect(Array(w.storage.bytes) == Array(npy.dropFirst(10 + headerLength)))
}

/// Our proto's field numbers, types and labels equal the onnx package's descriptors.
@Test func onnxProtoMatchesOnnxPackage() throws {
  try ONNXTestEnv.requirePython()
  let (status, output) = try ONNXTestEnv.run([ONNXTestEnv.python, ONNXTestEnv.root + "/scripts/check_proto.py"])
  #expect(status == 0, "\(output)")
}

/// The committed protobuf-c code is what protoc-c generates from formats/onnx.proto now.
@Test func onnxGeneratedCodeIsCurrent() throws {
  let (status, output) = try ONNXTestEnv.run(["/bin/sh", ONNXTestEnv.root + "/scripts/regen-proto.sh", "--check"])
  #expect(status == 0, "\(output)")
}

/// A tensor whose bytes do not match its shape (a bug upstream) is refused at export, named.
@Test func onnxExportRefusesInconsistentTensor() throws {
  var g = Graph(name: "g", nodes: [Node(name: "add", opType: "Add", inputs: ["x", "w"], outputs: ["y"])],
                inputs: [ValueInfo(name: "x", type: TensorType(.float32, Shape([2])))],
                outputs: [ValueInfo(name: "y", type: TensorType(.float32, Shape([2])))])
  g.initializers = [(name: "w", tensor: Tensor(dtype: .float32, dims: [2], storage: TensorStorage(copying: UnsafeRawBufferPointer(start: nil, count: 0))))]
  #expect {
    try ONNXExporter.write(Model(graph: g), to: FileManager.default.temporaryDirectory.path + "/graft-never-written.onnx")
  } throws: { error in
    (error as? GraftError)?.description
      == FileManager.default.temporaryDirectory.path + "/graft-never-written.onnx: tensor 'w': cannot export: tensor data has 0 bytes; shape 2 of float needs 8"
  }
  #expect(!FileManager.default.fileExists(atPath: FileManager.default.temporaryDirectory.path + "/graft-never-written.onnx"))
}

/// `graft convert` writes what ONNXExporter encodes; usage mistakes exit 2.
@Test func onnxConvertCommand() throws {
  let dir = try ONNXTestEnv.tempDir("onnx-convert")
  defer { try? FileManager.default.removeItem(atPath: dir) }
  let input = ONNXTestEnv.fixtures + "/control_flow.onnx"
  final class Lines: @unchecked Sendable { var err: [String] = [] }
  let lines = Lines()
  let console = Console(stdout: { _ in }, stderr: { lines.err.append($0) })
  #expect(CLI.run(["convert", input, "-o", dir + "/out.onnx"], console: console) == 0)
  let written = Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/out.onnx")))
  #expect(written == (try ONNXExporter.encode(try ONNXImporter.load(path: input))))
  #expect(CLI.run(["convert", input], console: console) == 2)
  #expect(CLI.run(["convert", input, "-o", dir + "/x.onnx", "--passes", "fold"], console: console) == 2)
  #expect(lines.err == [
    "graft convert: missing output file (-o out.onnx); see 'graft convert --help'",
    "graft convert: unknown pass 'fold'; passes that keep valid ONNX: shape-inference, fold-if, remove-identity, constant-folding, dead-code, fold-batchnorm; see 'graft convert --help'",
  ])
}
