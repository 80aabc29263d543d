import Foundation
import Testing
import GraftBackend
import GraftCLI
import GraftIR
import GraftONNX

/// `graft convert --passes all` writes a smaller graph that is still valid ONNX: onnxruntime
/// runs it and gives the stored reference output (within the corpus rule, 1e-4 × max|ref|).
@Suite struct ConvertPassesTests {
  @Test func convertWithPassesStillRunsInOnnxRuntime() throws {
    guard let dir = BackendSupport.modelsDir else { Issue.record("models folder not found"); return }
    let name = "ppocr_mobile_v2_cls"
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("graft-convert-\(getpid()).onnx").path
    defer { try? FileManager.default.removeItem(atPath: out) }
    var printed: [String] = []
    let code = CLI.run(["convert", "\(dir)/\(name).onnx", "-o", out, "--passes", "all", "--input-shape", "x=1x3x48x192"],
                       console: Console(stdout: { printed.append($0) }, stderr: { printed.append($0) }))
    #expect(code == 0, "\(printed)")
    let before = try ONNXImporter.load(path: "\(dir)/\(name).onnx")
    let after = try ONNXImporter.load(path: out)
    #expect(after.graph.nodes.count < before.graph.nodes.count / 2, "\(before.graph.nodes.count) -> \(after.graph.nodes.count)")
    let input = try Npy.read(path: "\(dir)/\(name).input_0.npy")
    let outs = try OnnxRuntimeReference.run(modelPath: out, inputs: ["x": input])
    let ref = try Npy.read(path: "\(dir)/\(name).output_0.npy")
    let a = Agreement.measure(outs[0].tensor, ref)
    #expect(a.mismatch == nil && a.maxAbs <= 1e-4 * a.maxRef, "\(a)")
  }

  @Test func convertRefusesPassesThatLeaveOnnx() {
    var printed: [String] = []
    let code = CLI.run(["convert", "in.onnx", "-o", "out.onnx", "--passes", "fuse-activation"],
                       console: Console(stdout: { printed.append($0) }, stderr: { printed.append($0) }))
    #expect(code == 2)
    #expect(printed.first?.hasPrefix("graft convert: unknown pass 'fuse-activation'; passes that keep valid ONNX: shape-inference") == true, "\(printed)")
  }
}
