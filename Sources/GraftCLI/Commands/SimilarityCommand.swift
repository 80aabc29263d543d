import Foundation
import GraftIR
import GraftONNX
import GraftTransplant

/// `graft similarity target.onnx src1.onnx …`: ranks candidate sources by architecture
/// similarity sim(A,B) = sqrt(D(A→B)·D(B→A) / (D(A→A)·D(B→B))).
enum SimilarityCommand: Command {
  static let name = "similarity"
  static let summary = "rank candidate source models by architecture similarity to a target"
  static let help = """
    usage: graft similarity <target.onnx> <source.onnx>... [--json]

    Prints the candidates ranked by sim(A,B) = sqrt(D(A->B)·D(B->A) / (D(A->A)·D(B->B))),
    where D is the optimum of the DPIAT layer/block matching. 1 means the same layer shapes
    in the same order; 0 means nothing in common. Needs no data and no training.

    options:
      --json    print the table as JSON

    exit codes: 0 printed, 1 invalid input or I/O error, 2 usage error
    """

  struct Entry {
    var path: String
    var layers: Int
    var similarity: Similarity
  }

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let json = args.flag("--json")
    let files = try args.positionals()
    guard files.count >= 2 else { throw UsageError(files.isEmpty ? "missing target model" : "missing source models") }
    let target = try ONNXImporter.load(path: files[0])
    let ranked = try rank(target: target, targetPath: files[0], candidates: Array(files.dropFirst()), strict: true)
    if json {
      let rows: [[String: Any]] = ranked.enumerated().map { i, e in
        ["rank": i + 1, "source": e.path, "similarity": e.similarity.value, "layers": e.layers,
         "d_source_target": e.similarity.forward, "d_target_source": e.similarity.backward]
      }
      let data = try JSONSerialization.data(withJSONObject: ["target": files[0], "ranking": rows],
                                            options: [.prettyPrinted, .sortedKeys])
      out.print(String(decoding: data, as: UTF8.self))
      return
    }
    out.print("target: \(files[0])")
    out.print("rank  similarity  D(src->tgt)  D(tgt->src)  layers  source")
    for (i, e) in ranked.enumerated() {
      out.print(String(format: "%4d  %10.4f  %11.3f  %11.3f  %6d  %@", i + 1, e.similarity.value,
                       e.similarity.forward, e.similarity.backward, e.layers, e.path))
    }
  }

  /// Candidates ranked by similarity (highest first, ties by path). With `strict`, a candidate
  /// that fails to load is an error; otherwise it is skipped (for `--from-best` folders).
  static func rank(target: Model, targetPath: String, candidates: [String], strict: Bool = false) throws -> [Entry] {
    let ta = try Transplant.architecture(target, file: targetPath)
    let targetURL = URL(fileURLWithPath: targetPath).standardizedFileURL
    var entries: [Entry] = []
    for path in candidates {
      if !strict && URL(fileURLWithPath: path).standardizedFileURL == targetURL { continue }
      do {
        let m = try ONNXImporter.load(path: path)
        let a = try Transplant.architecture(m, file: path)
        entries.append(Entry(path: path, layers: a.layers.count, similarity: similarity(a, ta)))
      } catch {
        if strict { throw error }
      }
    }
    return entries.sorted { $0.similarity.value != $1.similarity.value ? $0.similarity.value > $1.similarity.value : $0.path < $1.path }
  }
}
