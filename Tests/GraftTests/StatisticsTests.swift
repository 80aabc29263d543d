import Foundation
import Testing
import GraftIR
import GraftPasses
import GraftTestSupport

/// One model's row of `shared/models/README.md`: exact params and MACs in millions (as printed,
/// one decimal) from the per-model "- params: N; MACs at the reference shape: X M" line.
struct ReadmeModelNumbers: Sendable, CustomStringConvertible {
  var name: String
  var params: Int
  var macsMillions: Double
  var description: String { name }
}

/// Parses the README so the expected numbers come from it, not from us.
func readmeModelNumbers() -> [ReadmeModelNumbers] {
  guard let text = try? String(contentsOfFile: sharedModelsDirectory + "/README.md", encoding: .utf8) else { return [] }
  var rows: [ReadmeModelNumbers] = []
  var current: String?
  for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
    if line.hasPrefix("### ") {
      current = String(line.dropFirst(4)).trimmingCharacters(in: .whitespaces)
    } else if let name = current, line.hasPrefix("- params: ") {
      // "- params: 5,024,206; MACs at the reference shape: 3179.4 M (Conv 3179.4 M)"
      let parts = line.dropFirst("- params: ".count).split(separator: ";", maxSplits: 1)
      guard parts.count == 2, let p = Int(parts[0].replacingOccurrences(of: ",", with: "")) else { continue }
      guard let r = parts[1].range(of: "shape: ") else { continue }
      let macText = parts[1][r.upperBound...].prefix(while: { $0 != " " })
      guard let m = Double(macText) else { continue }
      rows.append(ReadmeModelNumbers(name: name, params: p, macsMillions: m))
      current = nil
    }
  }
  return rows
}

@Suite struct StatisticsTests {
  @Test func readmeHasEveryModel() {
    let rows = readmeModelNumbers()
    #expect(rows.count == 13)
    #expect(rows.contains { $0.name == "silero_vad_v6" && $0.params == 545_290 })
  }

  /// params equal the README exactly; MACs within 1 % of the README, or within the README's
  /// printing precision (0.05 M) where that is larger (silero prints 0.7 M).
  @Test(arguments: readmeModelNumbers())
  func paramsAndMACsMatchReadme(row: ReadmeModelNumbers) throws {
    let dir = sharedModelsDirectory
    let (model, graph, _) = try preparedModel(dir, row.name)
    var stats = ModelStatistics.structural(model.graph)
    stats.countMACs(graph)
    #expect(stats.params == row.params)
    let ref = row.macsMillions * 1e6
    let tolerance = max(0.01 * ref, 0.05e6)
    #expect(abs(Double(stats.macs) - ref) <= tolerance, "MACs \(stats.macs) vs README \(row.macsMillions) M")
    #expect(stats.macsUnknown.isEmpty)
  }

  @Test func macsByFormula() throws {
    // Conv 1x3x8x8 * 4x3x3x3 pad 1 -> 1x4x8x8: 256 outputs * 27 MACs.
    // ConvTranspose 1x4x8x8 * 4x2x2x2 stride 2: 256 inputs * 2 * 4 MACs.
    // Gemm 1x256 * 256x10: 2560. LSTM seq 5, batch 1, hidden 4, input 6: 5 * 4 * 4 * (6 + 4).
    var b = ShapeGraphBuilder()
    b.input("x", [1, 3, 8, 8])
    b.weight("w", [4, 3, 3, 3])
    let c = b.node("Conv", ["x", "w"], [intsAttr("pads", [1, 1, 1, 1])])
    b.weight("wt", [4, 2, 2, 2])
    let t = b.node("ConvTranspose", [c, "wt"], [intsAttr("strides", [2, 2])])
    let f = b.node("Flatten", [c])
    b.weight("g", [256, 10])
    let gm = b.node("Gemm", [f, "g"])
    b.input("s", [5, 1, 6])
    b.weight("lw", [1, 16, 6])
    b.weight("lr", [1, 16, 4])
    b.graph.nodes.append(Node(name: "lstm", opType: "LSTM", inputs: ["s", "lw", "lr"], outputs: ["y"], attributes: [intAttr("hidden_size", 4)]))
    b.output(t, gm, "y")
    let structural = ModelStatistics.structural(b.graph)
    var g = b.graph
    var ctx = PassContext(file: "m.onnx")
    try inferShapesAndFoldIfs(&g, &ctx)
    var stats = structural
    stats.countMACs(g)
    #expect(stats.macsByOp == ["Conv": 256 * 27, "ConvTranspose": 256 * 8, "Gemm": 2560, "LSTM": 5 * 4 * 4 * 10])
    #expect(stats.params == 108 + 32 + 2560 + 96 + 64)
    #expect(stats.largestLayers.first == LayerParams(node: "Gemm_4", opType: "Gemm", params: 2560))
    #expect(stats.weightBytesByDType == [.float32: 4 * (108 + 32 + 2560 + 96 + 64)])
  }
}
