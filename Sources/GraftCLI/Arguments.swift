/// Exit codes of `graft` (documented in the README and `graft --help`).
public enum ExitCode: Int32, Sendable {
  case ok = 0
  /// The command failed: bad input, I/O error, check over tolerance.
  case failure = 1
  /// The command line is wrong.
  case usage = 2
  /// The model is valid but uses something Graft does not support.
  case unsupported = 3
}

/// A command-line mistake; printed with a pointer to `--help`, exit 2.
public struct UsageError: Error, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
}

/// Thrown by a command to end with a given exit code after it printed its own output.
public struct ExitRequest: Error, Sendable {
  public var code: ExitCode
  public init(_ code: ExitCode) { self.code = code }
}

/// A small argument parser: commands pull the flags and options they know, then take the
/// positionals; anything left that looks like an option is an error. Options accept
/// `--name value` and `--name=value`.
public struct Arguments: Sendable {
  private var items: [String]
  private var consumed: [Bool]
  public let command: String

  public init(_ items: [String], command: String) {
    self.items = items
    self.consumed = Array(repeating: false, count: items.count)
    self.command = command
  }

  /// True if any of `names` is present (each occurrence is consumed).
  public mutating func flag(_ names: String...) -> Bool {
    var found = false
    for i in items.indices where !consumed[i] && names.contains(items[i]) {
      consumed[i] = true
      found = true
    }
    return found
  }

  /// All values of a repeatable option, in order.
  public mutating func options(_ names: String...) throws -> [String] {
    try values(of: names)
  }

  private mutating func values(of names: [String]) throws -> [String] {
    var values: [String] = []
    var i = 0
    while i < items.count {
      defer { i += 1 }
      if consumed[i] { continue }
      let item = items[i]
      if names.contains(item) {
        guard i + 1 < items.count, !consumed[i + 1] else {
          throw UsageError("option '\(item)' needs a value")
        }
        consumed[i] = true
        consumed[i + 1] = true
        values.append(items[i + 1])
        i += 1
      } else if let eq = item.firstIndex(of: "="), names.contains(String(item[..<eq])) {
        consumed[i] = true
        values.append(String(item[item.index(after: eq)...]))
      }
    }
    return values
  }

  /// The value of a single-valued option (the last one wins), or nil.
  public mutating func option(_ names: String...) throws -> String? {
    try values(of: names).last
  }

  /// An integer option, or nil.
  public mutating func intOption(_ names: String...) throws -> Int? {
    var v: String?
    for n in names { if let x = try option(n) { v = x } }
    guard let v else { return nil }
    guard let i = Int(v) else { throw UsageError("option '\(names[0])' needs an integer, got '\(v)'") }
    return i
  }

  /// The remaining arguments; throws on any unconsumed option-looking argument.
  public mutating func positionals() throws -> [String] {
    var out: [String] = []
    var afterDashDash = false
    for i in items.indices where !consumed[i] {
      consumed[i] = true
      let item = items[i]
      if afterDashDash { out.append(item); continue }
      if item == "--" { afterDashDash = true; continue }
      if item.hasPrefix("-") && item.count > 1 && Double(item) == nil {
        throw UsageError("unknown option '\(item)'")
      }
      out.append(item)
    }
    return out
  }

  /// Exactly `count` positionals named `what` (for the message).
  public mutating func positionals(exactly count: Int, _ what: String) throws -> [String] {
    let p = try positionals()
    guard p.count == count else {
      throw UsageError(p.count < count ? "missing \(what)" : "unexpected argument '\(p[count])'")
    }
    return p
  }
}
