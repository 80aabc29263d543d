import Foundation
import GraftIR

/// One `graft` subcommand. `run` pulls its options from `args`, prints to `out`, and throws
/// `GraftError` (exit 1 or 3), `UsageError` (exit 2) or `ExitRequest`.
public protocol Command: Sendable {
  static var name: String { get }
  /// One line for `graft --help`.
  static var summary: String { get }
  /// The full `graft NAME --help` text (usage line, options, exit codes where special).
  static var help: String { get }
  static func run(_ args: inout Arguments, _ out: inout Console) throws
}

/// Where commands print. Tests capture it; the executable writes it to stdout/stderr.
public struct Console {
  public var stdout: (String) -> Void
  public var stderr: (String) -> Void

  public init(stdout: @escaping (String) -> Void, stderr: @escaping (String) -> Void) {
    self.stdout = stdout
    self.stderr = stderr
  }

  public static var standard: Console {
    Console(
      stdout: { s in FileHandle.standardOutput.write(Data((s + "\n").utf8)) },
      stderr: { s in FileHandle.standardError.write(Data((s + "\n").utf8)) })
  }

  public func print(_ s: String) { stdout(s) }
  public func error(_ s: String) { stderr(s) }
}
