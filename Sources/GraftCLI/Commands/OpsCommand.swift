import GraftKernels

/// `graft ops`: the claimed ONNX operator list, one per line (the conformance runner reads it).
enum OpsCommand: Command {
  static let name = "ops"
  static let summary = "list the ONNX operators Graft supports"
  static let help = """
    usage: graft ops [--json]

    Prints every ONNX operator (domain ai.onnx) Graft claims, one per line: the ops the C
    runtime has kernels for (float32, plus int64/bool variants where listed) and the ops the
    compiler always folds away (Shape, Constant, If on a constant condition, ...).

    options:
      --json   {"lowered": [...], "folded": [...]}
    """
  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let json = args.flag("--json")
    _ = try args.positionals(exactly: 0, "")
    if json {
      func list(_ xs: [String]) -> String { "[" + xs.sorted().map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
      out.print("{\"lowered\": \(list(SupportedOps.lowered)), \"folded\": \(list(SupportedOps.folded))}")
    } else {
      for op in SupportedOps.all { out.print(op) }
    }
  }
}
