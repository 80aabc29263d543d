import GraftKernels

/// `graft ops`: the claimed ONNX operator list, one per line (the conformance runner reads it).
enum OpsCommand: Command {
  static let name = "ops"
  static let summary = "list the ONNX operators Graft supports"
  static let help = """
    usage: graft ops [--json]

    Prints every ONNX operator (domain ai.onnx) Graft claims, one per line, followed by the
    element types it is claimed for ("any" = every fixed-size type): the ops the C runtime has
    kernels for and the ops the compiler always folds away (Shape, Constant, Identity, ...).
    ConstantOfShape, Range and If are folded when their inputs are constant and are not claimed.

    options:
      --json   {"lowered": [...], "folded": [...], "folded_when_constant": [...], "dtypes": {...}}
    """
  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let json = args.flag("--json")
    _ = try args.positionals(exactly: 0, "")
    if json {
      func list(_ xs: [String]) -> String { "[" + xs.sorted().map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
      let dtypes = SupportedOps.all.map { "\"\($0)\": \(list(SupportedOps.dtypes($0)))" }.joined(separator: ", ")
      out.print("{\"lowered\": \(list(SupportedOps.lowered)), \"folded\": \(list(SupportedOps.folded)), "
        + "\"folded_when_constant\": \(list(SupportedOps.foldedWhenConstant)), \"dtypes\": {\(dtypes)}}")
    } else {
      for op in SupportedOps.all { out.print(([op] + SupportedOps.dtypes(op)).joined(separator: " ")) }
    }
  }
}
