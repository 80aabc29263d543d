import Foundation
import GraftBackend
import GraftIR
import GraftONNX
import GraftPasses

/// `graft convert in.onnx -o out.onnx`: imports an ONNX model and writes it back as ONNX.
/// Without `--passes` this is a pure round trip (same ops, names, weights and results).
enum ConvertCommand: Command {
  /// Passes whose output is valid ONNX at the model's own opset.
  static let onnxPreserving = ["shape-inference", "fold-if", "remove-identity", "constant-folding", "dead-code", "fold-batchnorm"]

  static let name = "convert"
  static let summary = "re-emit an ONNX model (round trip, or with ONNX-preserving passes)"
  static var help: String { """
    usage: graft convert <in.onnx> -o <out.onnx> [--passes P,...]
           graft convert <in.onnx> --check-only

    Imports the model (local functions inlined, nodes sorted topologically, structure
    checked) and writes it back as ONNX. Every node is kept, whatever its op type.

    options:
      -o, --output FILE   where to write the ONNX model (written atomically)
      --passes P,...      passes to run before writing, in this order; `all` = every one below.
                          Only passes whose result is still valid ONNX at the model's opset:
                          \(onnxPreserving.joined(separator: ", "))
                          (activation fusion and canonicalization produce Graft-only forms and
                          run in `graft compile`)
      --input-shape NAME=DIMS, --bind NAME=VALUE|NAME=file.npy
                          as for `graft compile` (shape inference and folding use them)
      --check-only        import and check only; print a one-line summary, write nothing

    exit codes: 0 written (or checked), 1 invalid input or I/O error, 2 usage error,
    3 the model uses something graft cannot represent (e.g. an unknown element type)
    """ }

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let output = try args.option("-o", "--output")
    let passes = try args.option("--passes")
    let checkOnly = args.flag("--check-only")
    let options = try CompileFlags.parse(&args)
    let input = try args.positionals(exactly: 1, "input model")[0]
    if checkOnly && output != nil { throw UsageError("--check-only writes nothing; drop -o") }
    guard checkOnly || output != nil else { throw UsageError("missing output file (-o out.onnx)") }
    var names: [String] = []
    if let passes {
      names = passes.split(separator: ",").map { String($0) }.filter { !$0.isEmpty }
      if names == ["all"] { names = onnxPreserving }
      if let bad = names.first(where: { !onnxPreserving.contains($0) }) {
        throw UsageError("unknown pass '\(bad)'; passes that keep valid ONNX: \(onnxPreserving.joined(separator: ", "))")
      }
    }
    var model = try ONNXImporter.load(path: input)
    if !names.isEmpty {
      let opset = model.opset() ?? 1
      let all: [any Pass] = [
        ShapeInference(), FoldIf(), RemoveIdentity(),
        ConstantFolding(evaluator: Driver.evaluator(opset: opset, file: input)), DeadCode(), FoldBatchNorm(),
      ]
      let pipeline = Pipeline(passes: names.compactMap { n in all.first(where: { $0.name == n }) })
      var context = PassContext(file: input, opsets: model.opsetImports, inputShapes: options.inputShapes,
                                bindings: options.bindings)
      for line in try pipeline.run(&model.graph, &context) { out.print(line) }
    }
    if checkOnly {
      let weights = model.graph.initializers.reduce(0) { $0 + $1.tensor.byteCount }
      out.print("\(input): ok: \(model.graph.nodes.count) nodes, \(model.graph.initializers.count) initializers, \(weights) bytes of weights")
      return
    }
    guard let output else { return }
    try ONNXExporter.write(model, to: output)
  }
}
