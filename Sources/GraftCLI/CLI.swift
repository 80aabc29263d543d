import GraftIR

/// The `graft` command line: the list of commands is here, in one place.
public enum CLI {
  public static let commands: [any Command.Type] = [
    InspectCommand.self,
    ConvertCommand.self,
    CompileCommand.self,
    RunCommand.self,
    CheckCommand.self,
    TransplantCommand.self,
    SimilarityCommand.self,
    OpsCommand.self,
    BuildCommand.self,
    TargetsCommand.self,
    BenchCommand.self,
    EmitCCommand.self,
  ]

  static let exitCodesHelp = """
    exit codes:
      0  success
      1  failure (invalid input, I/O error, result over tolerance)
      2  usage error
      3  the model uses something Graft does not support
    """

  static var mainHelp: String {
    var lines = [
      "graft: ONNX model conversion and edge deployment",
      "",
      "usage: graft <command> [options]",
      "",
      "commands:",
    ]
    let width = commands.map { $0.name.count }.max() ?? 0
    for c in commands {
      lines.append("  " + c.name + String(repeating: " ", count: width - c.name.count + 2) + c.summary)
    }
    lines.append("")
    lines.append("Run 'graft <command> --help' for a command's options.")
    lines.append("")
    lines.append(exitCodesHelp)
    return lines.joined(separator: "\n")
  }

  /// Runs the command line `argv` (without the program name); returns the exit code.
  public static func run(_ argv: [String], console: Console = .standard) -> Int32 {
    var out = console
    guard let first = argv.first else {
      out.error(mainHelp)
      return ExitCode.usage.rawValue
    }
    if first == "--help" || first == "-h" || first == "help" {
      out.print(mainHelp)
      return ExitCode.ok.rawValue
    }
    guard let command = commands.first(where: { $0.name == first }) else {
      out.error("graft: unknown command '\(first)'; see 'graft --help'")
      return ExitCode.usage.rawValue
    }
    let rest = Array(argv.dropFirst())
    if rest.contains("--help") || rest.contains("-h") {
      out.print(command.help)
      return ExitCode.ok.rawValue
    }
    var args = Arguments(rest, command: command.name)
    do {
      try command.run(&args, &out)
      return ExitCode.ok.rawValue
    } catch let e as UsageError {
      out.error("graft \(command.name): \(e.message); see 'graft \(command.name) --help'")
      return ExitCode.usage.rawValue
    } catch let e as ExitRequest {
      return e.code.rawValue
    } catch let e as GraftError {
      out.error(e.description)
      switch e.kind {
      case .unsupported: return ExitCode.unsupported.rawValue
      case .invalid, .io: return ExitCode.failure.rawValue
      }
    } catch {
      out.error("graft \(command.name): \(error)")
      return ExitCode.failure.rawValue
    }
  }
}
