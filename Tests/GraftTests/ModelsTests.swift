import Foundation
import Testing
import GraftBackend
import GraftIR
import GraftONNX

/// The corpus: every model compiled by the full pipeline, run from its archive by the C
/// runtime, and compared with the stored onnxruntime reference outputs. Pass rule: max abs error
/// ≤ max(1e-4 × max|reference|, the README's noise floor for that model). Also: the arena is
/// within 1.10 × its lower bound and the plan has no overlaps.
@Suite(.serialized) struct ModelsTests {
  static let models = [
    "ppocr_mobile_v2_cls", "ddddocr_det", "ppocrv4_det", "silero_vad_v6",
    "light_bvlc_alexnet", "light_densenet121", "light_inception_v1", "light_inception_v2", "light_resnet50",
    "light_shufflenet", "light_squeezenet", "light_zfnet512", "light_vgg19",
  ]

  /// Noise floors from the corpus README ("reference noise floor ... max abs: X").
  static func noiseFloors(_ dir: String) -> [String: Double] {
    guard let text = try? String(contentsOfFile: dir + "/README.md", encoding: .utf8) else { return [:] }
    var out: [String: Double] = [:]
    var current = ""
    for line in text.split(separator: "\n") {
      if line.hasPrefix("### ") { current = String(line.dropFirst(4)) }
      if line.contains("noise floor"), let v = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
        out[current] = v
      }
    }
    return out
  }

  @Test(arguments: models)
  func modelMatchesReference(name: String) throws {
    guard let dir = BackendSupport.modelsDir else { Issue.record("models folder not found"); return }
    let start = Date()
    let model = try ONNXImporter.load(path: "\(dir)/\(name).onnx")
    let runtimeInputs = model.graph.runtimeInputs
    var feeds: [String: Tensor] = [:]
    var options = CompileOptions()
    for (k, input) in runtimeInputs.enumerated() {
      let t = try Npy.read(path: "\(dir)/\(name).input_\(k).npy")
      if name == "silero_vad_v6" && input.name == "sr" {
        options.bindings["sr"] = t
      } else {
        feeds[input.name] = t
        options.inputShapes[input.name] = t.dims
      }
    }
    let result = try Driver.compile(model, options: options)
    let c = result.compiled
    #expect(MemoryPlanner.violations(c.planBuffers, offsets: c.planOffsets, arenaBytes: c.arenaBytes).isEmpty)
    let overlaps = BackendSupport.tensorOverlaps(c)
    #expect(overlaps.isEmpty, "\(name): \(overlaps.prefix(3))")
    #expect(Double(c.arenaBytes) <= 1.10 * Double(c.lowerBound),
            "\(name): arena \(c.arenaBytes) vs lower bound \(c.lowerBound)")
    let runner = try ArchiveRunner(bytes: try ArchiveWriter.encode(c), file: name + ".graft")
    let outs = try runner.run(feeds)
    let floor = Self.noiseFloors(dir)[name] ?? 0
    var lines: [String] = []
    for (k, out) in outs.enumerated() {
      let ref = try Npy.read(path: "\(dir)/\(name).output_\(k).npy")
      let a = Agreement.measure(out.tensor, ref)
      let tol = max(1e-4 * a.maxRef, floor)
      lines.append("\(out.name): \(a), tol \(tol)")
      #expect(a.mismatch == nil && a.maxAbs <= tol, "\(name) \(out.name): \(a), tolerance \(tol)")
    }
    let secs = Date().timeIntervalSince(start)
    print("model \(name): \(String(format: "%.1f", secs)) s, arena \(c.arenaBytes) / lower bound \(c.lowerBound), " + lines.joined(separator: "; "))
  }
}
