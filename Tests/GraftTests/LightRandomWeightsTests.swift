import Foundation
import Testing
import GraftBackend
import GraftIR
import GraftONNX

/// The `light_*` models with seeded random weights. Their shipped weights are all 0.02, so
/// every output element is equal and a wrong weight layout cannot show; here every
/// ConstantOfShape weight is replaced by seeded random values of its shape
/// (`scripts/randomize_light.py`), the logits before the final Softmax are exposed as an extra
/// output, and onnxruntime's outputs for the stored reference input are the reference.
/// Pass rule (as for the corpus): max abs error ≤ 1e-4 × max |reference| per output.
@Suite(.serialized) struct LightRandomWeightsTests {
  static let models = [
    "light_bvlc_alexnet", "light_densenet121", "light_inception_v1", "light_inception_v2", "light_resnet50",
    "light_shufflenet", "light_squeezenet", "light_zfnet512", "light_vgg19",
  ]

  /// Generates every randomized model and its references once, in one Python process.
  static let generated: Result<String, GraftError> = {
    guard let dir = BackendSupport.modelsDir else { return .failure(GraftError(.io, "models folder not found")) }
    do {
      let (python, ortScript) = try OnnxRuntimeReference.locate()
      let script = URL(fileURLWithPath: ortScript).deletingLastPathComponent().appendingPathComponent("randomize_light.py").path
      let out = FileManager.default.temporaryDirectory.appendingPathComponent("graft-light-random-\(getpid())").path
      let p = Process()
      p.executableURL = URL(fileURLWithPath: python)
      p.arguments = [script, dir, out] + models + ["--seed", "7"]
      let pipe = Pipe()
      p.standardError = pipe
      p.standardOutput = FileHandle.nullDevice
      try p.run()
      let err = pipe.fileHandleForReading.readDataToEndOfFile()
      p.waitUntilExit()
      guard p.terminationStatus == 0 else {
        return .failure(GraftError(.io, "randomize_light.py failed: \(String(decoding: err, as: UTF8.self))"))
      }
      return .success(out)
    } catch let e as GraftError {
      return .failure(e)
    } catch {
      return .failure(GraftError(.io, "\(error)"))
    }
  }()

  @Test(arguments: models)
  func randomWeightsMatchOnnxRuntime(name: String) throws {
    guard let dir = BackendSupport.modelsDir else { Issue.record("models folder not found"); return }
    let out: String
    switch Self.generated {
    case .success(let d): out = d
    case .failure(let e): Issue.record("\(e)"); return
    }
    let start = Date()
    let model = try ONNXImporter.load(path: "\(out)/\(name).onnx")
    var feeds: [String: Tensor] = [:]
    var options = CompileOptions()
    for (k, input) in model.graph.runtimeInputs.enumerated() {
      let t = try Npy.read(path: "\(dir)/\(name).input_\(k).npy")
      feeds[input.name] = t
      options.inputShapes[input.name] = t.dims
    }
    let c = try Driver.compile(model, options: options).compiled
    let runner = try ArchiveRunner(bytes: try ArchiveWriter.encode(c), file: name + ".graft")
    let outs = try runner.run(feeds)
    #expect(outs.count == model.graph.outputs.count)
    var lines: [String] = []
    for (k, o) in outs.enumerated() {
      let ref = try Npy.read(path: "\(out)/\(name).output_\(k).npy")
      let a = Agreement.measure(o.tensor, ref)
      let tol = 1e-4 * a.maxRef
      lines.append("\(o.name): \(a)")
      #expect(a.mismatch == nil && a.maxAbs <= tol, "\(name) \(o.name): \(a), tolerance \(tol)")
    }
    print("random-weights \(name): \(String(format: "%.1f", Date().timeIntervalSince(start))) s, " + lines.joined(separator: "; "))
  }
}
