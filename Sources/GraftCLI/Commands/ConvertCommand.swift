import Foundation
import GraftIR
import GraftONNX

/// `graft convert in.onnx -o out.onnx`: imports an ONNX model and writes it back as ONNX.
/// Without `--passes` this is a pure round trip (same ops, names, weights and results).
enum ConvertCommand: Command {
  static let name = "convert"
  static let summary = "re-emit an ONNX model (round trip; later: with passes)"
  static let help = """
    usage: graft convert <in.onnx> -o <out.onnx> [--passes P,...]
           graft convert <in.onnx> --check-only

    Imports the model (local functions inlined, nodes sorted topologically, structure
    checked) and writes it back as ONNX. Every node is kept, whatever its op type.

    options:
      -o, --output FILE   where to write the ONNX model (written atomically)
      --passes P,...      graph passes to run before writing; no passes are available yet,
                          so any name is refused (the pass pipeline lands separately)
      --check-only        import and check only; print a one-line summary, write nothing

    exit codes: 0 written (or checked), 1 invalid input or I/O error, 2 usage error,
    3 the model uses something graft cannot represent (e.g. an unknown element type)
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let output = try args.option("-o", "--output")
    let passes = try args.option("--passes")
    let checkOnly = args.flag("--check-only")
    let input = try args.positionals(exactly: 1, "input model")[0]
    if checkOnly && output != nil { throw UsageError("--check-only writes nothing; drop -o") }
    guard checkOnly || output != nil else { throw UsageError("missing output file (-o out.onnx)") }
    if let passes {
      let names = passes.split(separator: ",").map { String($0) }.filter { !$0.isEmpty }
      if let first = names.first {
        throw UsageError("unknown pass '\(first)'; no passes are available yet")
      }
    }
    let model = try ONNXImporter.load(path: input)
    if checkOnly {
      let weights = model.graph.initializers.reduce(0) { $0 + $1.tensor.byteCount }
      out.print("\(input): ok: \(model.graph.nodes.count) nodes, \(model.graph.initializers.count) initializers, \(weights) bytes of weights")
      return
    }
    guard let output else { return }
    try ONNXExporter.write(model, to: output)
  }
}
