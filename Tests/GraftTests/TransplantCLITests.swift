import Foundation
import GraftCLI
import GraftIR
import GraftONNX
import Testing
@testable import GraftTransplant

/// Runs `graft ARGS` in-process; returns (exit code, stdout, stderr).
func runGraft(_ args: [String]) -> (Int32, String, String) {
  final class Box: @unchecked Sendable { var out = "", err = "" }
  let box = Box()
  let console = Console(stdout: { box.out += $0 + "\n" }, stderr: { box.err += $0 + "\n" })
  let code = CLI.run(args, console: console)
  return (code, box.out, box.err)
}

/// A scratch folder with three small models written as ONNX.
func transplantFixtures() throws -> (dir: String, source: String, target: String, other: String) {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("graft-transplant-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  let source = dir + "/src.onnx", target = dir + "/tgt.onnx", other = dir + "/other.onnx"
  try ONNXExporter.write(TransplantNetBuilder.resnet(blocks: [2, 2], widths: [8, 16], seed: 21), to: source)
  try ONNXExporter.write(TransplantNetBuilder.resnet(blocks: [3, 2], widths: [8, 24], seed: 22), to: target)
  try ONNXExporter.write(TransplantNetBuilder.plain(widths: [32, 64], kernels: [7, 7], seed: 23), to: other)
  return (dir, source, target, other)
}

@Test func transplantCommandWritesModelAndReport() throws {
  let f = try transplantFixtures()
  defer { try? FileManager.default.removeItem(atPath: f.dir) }
  let (code, out, err) = runGraft(["transplant", "--from", f.source, "--into", f.target, "-o", f.dir + "/out.onnx",
                                   "--report", f.dir + "/r.json", "--seed", "5", "--no-check"])
  #expect(code == 0, "\(err)")
  #expect(out.contains("target parameters"))
  let model = try ONNXImporter.load(path: f.dir + "/out.onnx")
  let target = try ONNXImporter.load(path: f.target)
  #expect(model.graph.initializers.map(\.name) == target.graph.initializers.map(\.name))
  for ((_, a), (_, b)) in zip(model.graph.initializers, target.graph.initializers) { #expect(a.dims == b.dims) }
  let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.dir + "/r.json"))) as? [String: Any])
  let copied = try #require(json["copied_parameters"] as? Int), total = try #require(json["target_parameters"] as? Int)
  #expect(copied > 0 && copied < total)
  #expect(abs((json["fraction"] as? Double ?? -1) - Double(copied) / Double(total)) < 1e-12)
  let layers = try #require(json["layers"] as? [[String: Any]])
  #expect(layers.first?["source"] as? String == "/conv1/Conv")
  // Same seed, same bytes.
  let (code2, _, _) = runGraft(["transplant", "--from", f.source, "--into", f.target, "-o", f.dir + "/out2.onnx",
                                "--seed", "5", "--no-check"])
  #expect(code2 == 0)
  #expect(FileManager.default.contentsEqual(atPath: f.dir + "/out.onnx", andPath: f.dir + "/out2.onnx"))
}

@Test func transplantCommandChecksOutputsAreFinite() throws {
  let f = try transplantFixtures()
  defer { try? FileManager.default.removeItem(atPath: f.dir) }
  let (code, out, err) = runGraft(["transplant", "--from", f.other, "--into", f.target, "-o", f.dir + "/out.onnx"])
  #expect(code == 0, "\(err)")
  #expect(out.hasSuffix("outputs finite on a random normal input (C runtime)\n"))
  #expect(FileManager.default.fileExists(atPath: f.dir + "/out.onnx"))
  // A target whose output is infinite whatever its weights: nothing is written.
  var t = TransplantNetBuilder.plain(widths: [4], kernels: [3], seed: 24)
  t.graph.initializers.append(("zero", .float32([1], [0])))
  let logits = t.graph.outputs[0].name
  t.graph.nodes.append(Node(name: "/div/Div", opType: "Div", inputs: [logits, "zero"], outputs: ["inf"]))
  t.graph.outputs[0].name = "inf"
  try ONNXExporter.write(t, to: f.dir + "/inf.onnx")
  let (c2, _, e2) = runGraft(["transplant", "--from", f.other, "--into", f.dir + "/inf.onnx", "-o", f.dir + "/bad.onnx"])
  #expect(c2 == 1)
  #expect(e2 == "\(f.dir)/bad.onnx: transplanted model is not finite on a random input (C runtime); output not written\n")
  #expect(!FileManager.default.fileExists(atPath: f.dir + "/bad.onnx"))
}

@Test func transplantSimilarityCommandRanks() throws {
  let f = try transplantFixtures()
  defer { try? FileManager.default.removeItem(atPath: f.dir) }
  let (code, out, err) = runGraft(["similarity", f.target, f.other, f.source, f.target])
  #expect(code == 0, "\(err)")
  let rows = out.split(separator: "\n").dropFirst(2).map(String.init)
  #expect(rows.count == 3)
  #expect(rows[0].hasSuffix(f.target) && rows[0].contains("1.0000"))
  #expect(rows[1].hasSuffix(f.source))
  #expect(rows[2].hasSuffix(f.other))
  // --from-best picks the most similar model of the folder (the target itself is skipped).
  let (c2, o2, e2) = runGraft(["transplant", "--from-best", f.dir, "--into", f.target, "-o", f.dir + "/best.onnx", "--no-check"])
  #expect(c2 == 0, "\(e2)")
  #expect(o2.hasPrefix("best source: \(f.source)"))
}

@Test(arguments: [
  (["transplant", "--from", "a.onnx", "--into", "b.onnx"], Int32(2), "graft transplant: missing output file (-o out.onnx); see 'graft transplant --help'"),
  (["transplant", "--into", "b.onnx", "-o", "c.onnx", "--init", "zero"], Int32(2), "graft transplant: option '--init' needs 'keep' or 'analytic', got 'zero'; see 'graft transplant --help'"),
  (["similarity", "a.onnx"], Int32(2), "graft similarity: missing source models; see 'graft similarity --help'"),
])
func transplantCommandUsageErrors(_ args: [String], _ code: Int32, _ message: String) {
  let (c, _, err) = runGraft(args)
  #expect(c == code)
  #expect(err == message + "\n")
}

@Test func transplantCommandRejectsInvalidTarget() throws {
  let f = try transplantFixtures()
  defer { try? FileManager.default.removeItem(atPath: f.dir) }
  try Data("not a model".utf8).write(to: URL(fileURLWithPath: f.dir + "/bad.onnx"))
  let (code, _, err) = runGraft(["transplant", "--from", f.source, "--into", f.dir + "/bad.onnx", "-o", f.dir + "/o.onnx"])
  #expect(code == 1)
  #expect(err.hasPrefix(f.dir + "/bad.onnx: "))
  #expect(err.split(separator: "\n").count == 1)
  #expect(!FileManager.default.fileExists(atPath: f.dir + "/o.onnx"))
  // A 1-d conv source for a 2-d target.
  try ONNXExporter.write(TransplantNetBuilder.plain(widths: [4], kernels: [3], rank: 1), to: f.dir + "/c1.onnx")
  let (c2, _, e2) = runGraft(["transplant", "--from", f.dir + "/c1.onnx", "--into", f.target, "-o", f.dir + "/o.onnx"])
  #expect(c2 == 1)
  #expect(e2 == "\(f.target): tensor 'x': input has rank 4 but source \(f.dir)/c1.onnx input 'x' has rank 3; transplant needs the same input rank\n")
}
