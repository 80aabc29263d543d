import Foundation
import Testing
import GraftBackend
@testable import GraftCLI
import GraftIR
import GraftONNX

/// `graft compile` / `run` / `check` end to end on a model exported to a temporary folder.
@Suite(.serialized) struct BackendCLITests {
  typealias S = BackendSupport

  final class Captured: @unchecked Sendable {
    var out: [String] = []
    var err: [String] = []
  }

  static func graft(_ argv: [String]) -> (Int32, Captured) {
    let c = Captured()
    let console = Console(stdout: { c.out.append($0) }, stderr: { c.err.append($0) })
    return (CLI.run(argv, console: console), c)
  }

  static func tempDir() throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("graft-cli-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d.path
  }

  @Test func compileRunCheckRoundTrip() throws {
    let dir = try Self.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let g = BackendTests.smallNet()
    try ONNXExporter.write(Model(graph: g), to: dir + "/m.onnx")
    let x = S.random([1, 3, 8, 8], seed: 21)
    try Npy.write(x, path: dir + "/x.npy")

    let (rc, c) = Self.graft(["compile", dir + "/m.onnx", "-o", dir + "/m.graft", "--compress"])
    #expect(rc == 0, "\(c.err)")
    #expect(c.out.contains(where: { $0.hasPrefix("arena: ") && $0.contains("lower bound") }))
    #expect(c.out.contains(where: { $0.hasPrefix("nodes: ") }))

    let (rc2, c2) = Self.graft(["run", dir + "/m.graft", "--input", "x=\(dir)/x.npy", "--output-dir", dir + "/out"])
    #expect(rc2 == 0, "\(c2.err)")
    let mine = try Npy.read(path: dir + "/out/prob.npy")
    let ref = try S.runReference(g, ["x": x])[0].tensor
    let a = Agreement.measure(mine, ref)
    #expect(a.mismatch == nil && a.maxAbs <= 1e-5 * a.maxRef, "\(a)")

    let (rc3, c3) = Self.graft(["check", dir + "/m.onnx", "--input", "x=\(dir)/x.npy"])
    #expect(rc3 == 0, "\(c3.out) \(c3.err)")
    #expect(c3.out.contains(where: { $0.hasPrefix("prob: max abs ") && $0.hasSuffix(" ok") }))
  }

  @Test func unsupportedModelExitsThreeWithEveryNode() throws {
    let dir = try Self.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var g = Graph(name: "bad")
    g.inputs = [S.input("x", .float32, [4])]
    g.outputs = [S.output("z", .float32, [4])]
    g.nodes = [
      Node(name: "one", opType: "Relu", inputs: ["x"], outputs: ["y"]),
      Node(name: "two", opType: "Foo", domain: "com.example", inputs: ["y"], outputs: ["w"]),
      Node(name: "three", opType: "Bar", domain: "com.example", inputs: ["w"], outputs: ["z"]),
    ]
    var m = Model(graph: g)
    m.opsetImports.append(OpsetImport(domain: "com.example", version: 1))
    try ONNXExporter.write(m, to: dir + "/bad.onnx")
    let (rc, c) = Self.graft(["compile", dir + "/bad.onnx", "-o", dir + "/bad.graft"])
    #expect(rc == 3)
    let text = c.err.joined(separator: "\n")
    #expect(text.contains("node 'two' (Foo): operator domain 'com.example' is not supported"))
    #expect(text.contains("node 'three' (Bar): operator domain 'com.example' is not supported"))
    #expect(!FileManager.default.fileExists(atPath: dir + "/bad.graft"))
  }

  @Test func runOutputNamesAreSanitized() {
    #expect(RunCommand.sanitize("save_infer_model/scale_0.tmp_1") == "save_infer_model_scale_0.tmp_1")
    #expect(RunCommand.sanitize("../x") == "_.._x")
  }

  static let usageErrors: [([String], String)] = [
    (["compile", "m.onnx"], "graft compile: missing output file (-o model.graft); see 'graft compile --help'"),
    (["compile", "m.onnx", "-o", "m.graft", "--input-shape", "x=1xAx3"],
     "graft compile: --input-shape x=1xAx3: dims must look like 1x3x224x224; see 'graft compile --help'"),
    (["compile", "m.onnx", "-o", "m.graft", "--bind", "sr"],
     "graft compile: --bind needs NAME=VALUE, got 'sr'; see 'graft compile --help'"),
    (["run", "m.graft"], "graft run: missing --output-dir DIR; see 'graft run --help'"),
    (["check", "m.onnx", "--rtol", "tight"], "graft check: --rtol needs a number, got 'tight'; see 'graft check --help'"),
  ]

  @Test(arguments: usageErrors.indices)
  func usageErrorsExitTwo(index: Int) {
    let (argv, message) = Self.usageErrors[index]
    let (rc, c) = Self.graft(argv)
    #expect(rc == 2)
    #expect(c.err == [message])
  }

  @Test func missingFilesFailWithOneLine() throws {
    let (rc, c) = Self.graft(["run", "/nonexistent/m.graft", "--output-dir", "/tmp"])
    #expect(rc == 1)
    #expect(c.err == ["/nonexistent/m.graft: cannot read archive"])
  }
}
