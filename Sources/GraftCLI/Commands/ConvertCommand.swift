import GraftIR

/// `graft convert in.onnx -o out.onnx` (implemented by the foundation work).
enum ConvertCommand: Command {
  static let name = "convert"
  static let summary = "re-emit an ONNX model (round trip; later: with passes)"
  static let help = """
    usage: graft convert <in.onnx> -o <out.onnx> [--passes P,...]
    """
  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    _ = try args.positionals()
    throw GraftError(.unsupported, "convert is not implemented yet")
  }
}
