import Foundation
import GraftBackend
import GraftIR
import GraftONNX

/// Helpers shared by the back-end tests: graphs built in code, run through Graft (archive +
/// C runtime) and through onnxruntime (exported with ONNXExporter).
enum BackendSupport {
  /// Directory with the evaluation corpus (`GRAFT_MODELS` or `../shared/models` upwards).
  static var modelsDir: String? {
    if let d = ProcessInfo.processInfo.environment["GRAFT_MODELS"] { return d }
    var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    for _ in 0..<4 {
      let c = dir.appendingPathComponent("shared/models").path
      if FileManager.default.fileExists(atPath: c) { return c }
      let c2 = dir.appendingPathComponent("../shared/models").standardized.path
      if FileManager.default.fileExists(atPath: c2) { return c2 }
      dir = dir.deletingLastPathComponent()
    }
    return FileManager.default.fileExists(atPath: "/work/shared/models") ? "/work/shared/models" : nil
  }

  static func input(_ name: String, _ dtype: DType = .float32, _ dims: [Int]) -> ValueInfo {
    ValueInfo(name: name, type: TensorType(dtype, Shape(dims)))
  }

  static func output(_ name: String, _ dtype: DType = .float32, _ dims: [Int]? = nil) -> ValueInfo {
    ValueInfo(name: name, type: dims.map { TensorType(dtype, Shape($0)) })
  }

  /// Graft: compile (full pipeline), write the archive in memory, open it with the C runtime, run.
  static func runGraft(_ graph: Graph, _ inputs: [String: Tensor], opset: Int64 = 17,
                       compress: Bool = false) throws -> [(name: String, tensor: Tensor)] {
    let model = Model(graph: graph, opsetImports: [OpsetImport(domain: "", version: opset)])
    let compiled = try Driver.compile(model, options: CompileOptions(checkInvariants: true)).compiled
    let bytes = try ArchiveWriter.encode(compiled, compress: compress)
    return try ArchiveRunner(bytes: bytes).run(inputs)
  }

  /// onnxruntime on the same graph, exported to a temporary ONNX file.
  static func runReference(_ graph: Graph, _ inputs: [String: Tensor], opset: Int64 = 17) throws
    -> [(name: String, tensor: Tensor)] {
    let model = Model(graph: graph, opsetImports: [OpsetImport(domain: "", version: opset)])
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("graft-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).onnx").path
    try ONNXExporter.write(model, to: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try OnnxRuntimeReference.run(modelPath: path, inputs: inputs)
  }

  static func random(_ dims: [Int], seed: UInt64) -> Tensor {
    var r = SeededRandom(seed: seed)
    return Tensor.float32(dims, (0..<elementCount(dims)).map { _ in r.unit() })
  }
}
