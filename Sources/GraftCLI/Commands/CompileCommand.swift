import Foundation
import GraftBackend
import GraftIR
import GraftONNX

/// `graft compile model.onnx -o model.graft`: the whole compiler, ending in a `.graft` archive.
enum CompileCommand: Command {
  static let name = "compile"
  static let summary = "compile an ONNX model to a .graft archive for the C runtime"
  static let help = """
    usage: graft compile <model.onnx> -o <model.graft> [--input-shape NAME=DIMS ...]
                         [--bind NAME=VALUE|NAME=FILE.npy ...] [--compress] [--dump-after PASS]

    Imports the model, runs the portable pipeline (shape inference, constant folding through
    the C runtime, BatchNorm folding, activation fusion), lowers every node to a runtime
    kernel, checks each kernel call, plans the arena and writes the archive atomically. Prints
    the passes, node count, arena bytes against the lower bound, and weight bytes. Every node
    that cannot be lowered is reported, one line each.

    options:
      -o, --output FILE        where to write the archive
      --input-shape NAME=DIMS  bind an input's shape, e.g. images=1x3x224x224
      --bind NAME=VALUE        fix an input to a constant: a number or a .npy file
      --compress               store the weights zlib-compressed
      --dump-after PASS        print the graph after that pass

    exit codes: 0 written, 1 invalid input or I/O error, 2 usage error,
    3 the model uses ops, dtypes or attributes Graft does not support
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let output = try args.option("-o", "--output")
    let compress = args.flag("--compress")
    let options = try CompileFlags.parse(&args)
    let input = try args.positionals(exactly: 1, "input model")[0]
    guard let output else { throw UsageError("missing output file (-o model.graft)") }
    let model = try ONNXImporter.load(path: input)
    let console = out
    let result = try Driver.compile(model, options: options, dump: { console.print($0) })
    out.print("passes:")
    for line in result.log { out.print("  " + line) }
    try ArchiveWriter.write(result.compiled, to: output, compress: compress)
    let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
    CompileFlags.summary(result.compiled, &out)
    out.print("wrote \(output) (\(size) bytes\(compress ? ", weights compressed" : ""))")
  }
}

/// Flags shared by `compile` and `check`.
enum CompileFlags {
  static func parse(_ args: inout Arguments) throws -> CompileOptions {
    var options = CompileOptions()
    for item in try args.options("--input-shape") {
      let (name, value) = try split(item, "--input-shape")
      let parts = value.split(whereSeparator: { $0 == "x" || $0 == "," })
      let dims = parts.compactMap { Int($0) }
      guard !parts.isEmpty, dims.count == parts.count, dims.allSatisfy({ $0 >= 0 }) else {
        throw UsageError("--input-shape \(item): dims must look like 1x3x224x224")
      }
      options.inputShapes[name] = dims
    }
    for item in try args.options("--bind") {
      let (name, value) = try split(item, "--bind")
      if value.hasSuffix(".npy") {
        options.bindings[name] = try Npy.read(path: value)
      } else if let i = Int64(value) {
        options.bindings[name] = Tensor.int64([], [i])
      } else if let f = Float(value) {
        options.bindings[name] = Tensor.float32([], [f])
      } else {
        throw UsageError("--bind \(item): value must be a number or a .npy file")
      }
    }
    options.dumpAfter = try args.option("--dump-after")
    return options
  }

  static func split(_ item: String, _ flag: String) throws -> (String, String) {
    guard let eq = item.lastIndex(of: "="), eq != item.startIndex else {
      throw UsageError("\(flag) needs NAME=VALUE, got '\(item)'")
    }
    return (String(item[..<eq]), String(item[item.index(after: eq)...]))
  }

  static func summary(_ c: CompiledModel, _ out: inout Console) {
    let ratio = c.lowerBound > 0 ? Double(c.arenaBytes) / Double(c.lowerBound) : 1
    out.print("nodes: \(c.nodes.count)")
    out.print("arena: \(c.arenaBytes) bytes (lower bound \(c.lowerBound), \(String(format: "%.3f", ratio))x)")
    out.print("weights: \(c.weightBytes) bytes in \(c.tensors.filter(\.isWeight).count) tensors")
  }
}
