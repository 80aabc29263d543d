import Foundation
import Testing
import GraftIR
import GraftONNX
import GraftCLI
import GraftTestSupport

/// Captured stdout/stderr of one `graft` invocation.
final class CapturedOutput: @unchecked Sendable {
  var out: [String] = []
  var err: [String] = []
  var console: Console {
    Console(stdout: { [self] in out.append($0) }, stderr: { [self] in err.append($0) })
  }
}

private func graft(_ args: [String]) -> (Int32, String, String) {
  let c = CapturedOutput()
  let code = CLI.run(args, console: c.console)
  return (code, c.out.joined(separator: "\n"), c.err.joined(separator: "\n"))
}

@Suite struct InspectTests {
  @Test func jsonHasStableKeysAndReadmeNumbers() throws {
    let path = sharedModelsDirectory + "/ppocr_mobile_v2_cls.onnx"
    let (code, out, err) = graft(["inspect", path, "--json", "--input-shape", "x=1x3x48x192"])
    #expect(code == 0, "\(err)")
    let obj = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    #expect(Set(obj.keys) == ["producer", "ir_version", "opsets", "inputs", "outputs", "ops", "params", "macs", "macs_by_op",
                              "weight_bytes_by_dtype", "largest_layers", "unsupported"])
    let readme = try #require(readmeModelNumbers().first { $0.name == "ppocr_mobile_v2_cls" })
    #expect(obj["params"] as? Int == readme.params)
    let macs = try #require(obj["macs"] as? Int)
    #expect(abs(Double(macs) - readme.macsMillions * 1e6) <= 0.01 * readme.macsMillions * 1e6)
    #expect(obj["producer"] as? String == "PaddlePaddle")
    #expect(obj["ir_version"] as? Int == 7)
    #expect((obj["opsets"] as? [String: Int]) == ["ai.onnx": 11])
    let outputs = try #require(obj["outputs"] as? [[String: Any]])
    #expect(outputs.first?["shape"] as? [Int] == [1, 2])
    #expect(outputs.first?["dtype"] as? String == "float")
    let ops = try #require(obj["ops"] as? [String: Int])
    #expect(ops["Conv"] == 53 && ops["Constant"] == 308)
  }

  @Test func textReportForSileroWithBinding() throws {
    let path = sharedModelsDirectory + "/silero_vad_v6.onnx"
    let sr = sharedModelsDirectory + "/silero_vad_v6.input_2.npy"
    let (code, out, err) = graft(["inspect", path, "--bind", "sr=\(sr)", "--input-shape", "input=1x576",
                                  "--input-shape=state=2x1x128", "--input-shape", "sr=scalar"])
    #expect(code == 0, "\(err)")
    #expect(out.contains("producer:   spox"))
    // Numbers from the models README: params 545,290, MACs 0.7 M.
    let readme = try #require(readmeModelNumbers().first { $0.name == "silero_vad_v6" })
    #expect(readme.params == 545_290 && readme.macsMillions == 0.7)
    #expect(out.contains("params:     545,290 (0.5 M)"))
    #expect(out.split(separator: "\n").contains { $0.hasPrefix("MACs:") && $0.hasSuffix("(0.7 M)") })
    #expect(out.contains("  output  float[1, 1]"))
    #expect(out.contains("  stateN  float[2, 1, 128]"))
  }

  @Test func unboundIfIsUnsupportedWithExitCode3() throws {
    let path = sharedModelsDirectory + "/silero_vad_v6.onnx"
    let (code, _, err) = graft(["inspect", path])
    #expect(code == 3)
    let lines = err.split(separator: "\n")
    #expect(lines.first == "\(path): 1 node(s) use ops graft does not support")
    #expect(lines.dropFirst().first.map(String.init) == "node 'If_0' (If, domain 'ai.onnx', opset 16): condition is not constant; it depends on 'sr': bind with --bind sr=VALUE")
  }

  @Test func everyUnsupportedOpIsListed() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [2, 3])
    let e = b.node("Einsum", ["x"], [stringAttr("equation", "ij->ji")])
    b.graph.nodes.append(Node(name: "mystery", opType: "Mystery", domain: "com.example", inputs: [e], outputs: ["z"]))
    b.output("z")
    let model = Model(graph: b.graph, opsetImports: [OpsetImport(domain: "", version: 17), OpsetImport(domain: "com.example", version: 1)])
    let path = NSTemporaryDirectory() + "graft-inspect-\(getpid()).onnx"
    try ONNXExporter.write(model, to: path)
    defer { unlink(path) }
    let (code, out, err) = graft(["inspect", path])
    #expect(code == 3)
    #expect(out.contains("unsupported: 2 node(s)"))
    #expect(err.split(separator: "\n").map(String.init) == [
      "\(path): 2 node(s) use ops graft does not support",
      "node 'Einsum_1' (Einsum, domain 'ai.onnx', opset 17): op is not supported",
      "node 'mystery' (Mystery, domain 'com.example', opset 1): op is not supported",
    ])
  }

  @Test(arguments: [
    (["inspect", "m.onnx", "--input-shape", "x=1xAx3"], "graft inspect: --input-shape x=1xAx3: 'A' is not a dim size; use NAME=1x3x224x224; see 'graft inspect --help'"),
    (["inspect", "m.onnx", "--bind", "sr"], "graft inspect: --bind needs NAME=VALUE, e.g. sr=16000; got 'sr'; see 'graft inspect --help'"),
    (["inspect", "m.onnx", "--bind", "sr=abc"], "graft inspect: --bind sr=abc: 'abc' is not an integer, a float or a .npy file; see 'graft inspect --help'"),
    (["inspect"], "graft inspect: missing model file; see 'graft inspect --help'"),
  ])
  func usageErrors(args: [String], message: String) {
    let (code, _, err) = graft(args)
    #expect(code == 2)
    #expect(err == message)
  }

  @Test func badBindingNamesTheInput() {
    let path = sharedModelsDirectory + "/light_squeezenet.onnx"
    let (code, _, err) = graft(["inspect", path, "--input-shape", "data_0=1x3x224"])
    #expect(code == 1)
    #expect(err == "\(path): tensor 'data_0': input is declared 1x3x224x224 (rank 4); --input-shape gives rank 3")
  }
}
