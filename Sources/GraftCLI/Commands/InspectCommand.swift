import GraftIR

/// `graft inspect model.onnx [--json]` (implemented by the foundation work).
enum InspectCommand: Command {
  static let name = "inspect"
  static let summary = "print a model's inputs, outputs, ops, parameters and MACs"
  static let help = """
    usage: graft inspect <model.onnx> [--json] [--input-shape NAME=DIMS ...]

    Prints producer, IR and opset versions, inputs and outputs with shapes and dtypes, the op
    histogram, parameter count, MACs, weight bytes by dtype and the largest layers.

    options:
      --json                  the same as JSON
      --input-shape NAME=DIMS bind a symbolic input shape, e.g. images=1x3x224x224
    """
  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    _ = try args.positionals()
    throw GraftError(.unsupported, "inspect is not implemented yet")
  }
}
