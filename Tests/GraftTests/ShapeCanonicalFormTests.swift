import Foundation
import Testing
import GraftIR
import GraftONNX
import GraftPasses
import GraftTestSupport

/// The canonical form is a valid opset-18 graph with the original's numbers: every ONNX node
/// test (opset 6 included, whose old kernels onnxruntime no longer has) and the trained models
/// are canonicalized, shape-inferred and If-folded at their reference inputs, exported with the
/// ai.onnx opset raised to 18, run in onnxruntime, and compared with the stored references
/// (PyTorch's outputs for node tests, onnxruntime's for the models).
@Suite struct ShapeCanonicalFormTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  static let python = root + "/.venv/bin/python"

  /// Runs every manifest entry in one onnxruntime process: {model, inputs: [npy], outdir}.
  /// Writes outdir/output_K.npy, or outdir/error.txt when the model does not run.
  static let runner = """
    import json, os, sys
    import numpy as np
    import onnxruntime as ort
    for e in json.load(open(sys.argv[1])):
        os.makedirs(e["outdir"], exist_ok=True)
        try:
            so = ort.SessionOptions()
            so.intra_op_num_threads = 1
            so.log_severity_level = 3
            s = ort.InferenceSession(e["model"], so, providers=["CPUExecutionProvider"])
            feeds = {i.name: np.load(p) for i, p in zip(s.get_inputs(), e["inputs"])}
            for k, a in enumerate(s.run(None, feeds)):
                np.save(os.path.join(e["outdir"], "output_%d.npy" % k), a)
        except Exception as ex:
            open(os.path.join(e["outdir"], "error.txt"), "w").write(str(ex).splitlines()[0][:300])
    """

  struct Case {
    var name: String
    var dir: String
    /// Max abs difference allowed per element: atol + rtol * |reference|.
    var atol: Float
    var rtol: Float
  }

  /// Node tests: onnxruntime matches PyTorch within 1e-6 on the runnable ones (INDEX.md);
  /// 1e-5 relative covers the float32 rounding of different kernel orders on the others.
  /// Models: the README noise floor (onnxruntime with vs without graph optimizations).
  static var cases: [Case] {
    let models = sharedModelsDirectory
    let nodeDir = models + "/onnx_node_tests"
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: nodeDir)) ?? [])
      .filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }.sorted()
    var out = names.map { Case(name: $0, dir: nodeDir, atol: 1e-5, rtol: 1e-5) }
    out.append(Case(name: "ddddocr_det", dir: models, atol: 4.4e-6, rtol: 1e-6))
    out.append(Case(name: "ppocr_mobile_v2_cls", dir: models, atol: 1e-6, rtol: 1e-6))
    out.append(Case(name: "ppocrv4_det", dir: models, atol: 1.9e-5, rtol: 1e-6))
    out.append(Case(name: "silero_vad_v6", dir: models, atol: 2.1e-7, rtol: 1e-6))
    out.append(Case(name: "light_squeezenet", dir: models, atol: 1e-6, rtol: 1e-6))
    return out
  }

  @Test func canonicalFormRunsInOnnxruntimeAtOpset18() throws {
    guard FileManager.default.isExecutableFile(atPath: Self.python) else {
      Issue.record("\(Self.python) is missing: create the .venv with onnxruntime (reference checks need it)")
      return
    }
    let work = NSTemporaryDirectory() + "graft-canonical-\(getpid())"
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: work) }
    var manifest: [[String: Any]] = []
    var prepared: [(Case, Int)] = []
    for c in Self.cases {
      let (model, graph, _) = try preparedModel(c.dir, c.name)
      var m = model
      m.graph = graph
      m.irVersion = max(m.irVersion, 8)
      m.opsetImports = m.opsetImports.map { $0.domain.isEmpty || $0.domain == "ai.onnx" ? OpsetImport(domain: "", version: max($0.version, 18)) : $0 }
      let path = "\(work)/\(c.name).onnx"
      try ONNXExporter.write(m, to: path)
      // Inputs that are still graph inputs (bound ones became initializers), in graph order.
      let original = model.graph.runtimeInputs.map(\.name)
      let remaining = Set(graph.runtimeInputs.map(\.name))
      let inputs = original.enumerated().filter { remaining.contains($0.element) }.map { "\(c.dir)/\(c.name).input_\($0.offset).npy" }
      manifest.append(["model": path, "inputs": inputs, "outdir": "\(work)/\(c.name).out"])
      prepared.append((c, graph.outputs.count))
    }
    let manifestPath = work + "/manifest.json"
    try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: manifestPath))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Self.python)
    p.arguments = ["-c", Self.runner, manifestPath]
    try p.run()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    var worst: [(String, Float)] = []
    for (c, outputs) in prepared {
      let outdir = "\(work)/\(c.name).out"
      if let err = try? String(contentsOfFile: outdir + "/error.txt", encoding: .utf8) {
        Issue.record("\(c.name): canonical graph does not run in onnxruntime: \(err)")
        continue
      }
      var maxErr: Float = 0
      for k in 0..<outputs {
        let got = try readNpyTensor(path: "\(outdir)/output_\(k).npy")
        let ref = try readNpyTensor(path: "\(c.dir)/\(c.name).output_\(k).npy")
        #expect(got.dims == ref.dims, "\(c.name) output \(k)")
        guard got.dims == ref.dims, let a = got.floats(), let b = ref.floats() else { continue }
        for i in 0..<a.count {
          if (a[i].isNaN && b[i].isNaN) || a[i] == b[i] { continue }
          let d = abs(a[i] - b[i])
          if !(d <= c.atol + c.rtol * abs(b[i])) {
            Issue.record("\(c.name) output \(k)[\(i)]: \(a[i]) vs reference \(b[i])")
            break
          }
          maxErr = max(maxErr, d)
        }
      }
      worst.append((c.name, maxErr))
    }
    #expect(worst.count == Self.cases.count)
    if ProcessInfo.processInfo.environment["GRAFT_PRINT_ERRORS"] != nil {
      for (n, e) in worst.sorted(by: { $0.1 > $1.1 }).prefix(12) { print("canonical max abs error \(n): \(e)") }
    }
  }
}
