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

  /// Tensor-level brute-force check of a compiled plan: two arena tensors (or scratch buffers)
  /// live at the same time never share bytes, except a `copy_any` output placed exactly on an
  /// input that dies at that copy (a no-op copy). Returns the violations.
  static func tensorOverlaps(_ c: CompiledModel) -> [String] {
    let n = c.nodes.count
    var first = [Int](repeating: Int.max, count: c.tensors.count)
    var last = [Int](repeating: -1, count: c.tensors.count)
    for i in c.inputs { first[i] = 0; last[i] = 0 }
    for (t, node) in c.nodes.enumerated() {
      for o in node.outputs { first[Int(o)] = min(first[Int(o)], t); last[Int(o)] = max(last[Int(o)], t) }
      for i in node.inputs where i >= 0 { last[Int(i)] = max(last[Int(i)], t) }
    }
    for o in c.outputs {
      last[o] = max(n - 1, 0)
      if first[o] == Int.max { first[o] = 0 }
    }
    // (offset, bytes, first, last, label); copies that alias are joined into one interval.
    var items: [(Int, Int, Int, Int, String)] = []
    var aliasOf = [Int](repeating: -1, count: c.tensors.count)
    for (t, node) in c.nodes.enumerated() where node.lowered.isCopy {
      let u = Int(node.inputs[0]), v = Int(node.outputs[0])
      if !c.tensors[u].isWeight, c.tensors[u].offset == c.tensors[v].offset, last[u] == t { aliasOf[v] = u }
    }
    func root(_ t: Int) -> Int { var r = t; while aliasOf[r] >= 0 { r = aliasOf[r] }; return r }
    var span: [Int: (Int, Int)] = [:]
    for (t, tensor) in c.tensors.enumerated() where !tensor.isWeight && first[t] != Int.max {
      let r = root(t)
      let s = span[r] ?? (Int.max, -1)
      span[r] = (min(s.0, first[t]), max(s.1, last[t]))
    }
    for (r, s) in span { items.append((c.tensors[r].offset, c.tensors[r].bytes, s.0, s.1, "tensor '\(c.tensors[r].name)'")) }
    for (t, node) in c.nodes.enumerated() where node.scratchBytes > 0 {
      items.append((node.scratchOffset, node.scratchBytes, t, t, "scratch of node \(t)"))
    }
    var bad: [String] = []
    for i in items.indices {
      let a = items[i]
      if a.0 % 64 != 0 || a.0 + a.1 > c.arenaBytes { bad.append("\(a.4) misplaced") }
      for j in items.indices where j > i {
        let b = items[j]
        guard a.1 > 0, b.1 > 0, a.2 <= b.3, b.2 <= a.3 else { continue }
        if a.0 < b.0 + b.1 && b.0 < a.0 + a.1 { bad.append("\(a.4) and \(b.4) overlap") }
      }
    }
    return bad
  }
}
