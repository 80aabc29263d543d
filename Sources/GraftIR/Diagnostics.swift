/// Where a diagnostic points: the file, and within it a node and/or a tensor.
public struct Location: Sendable, Hashable {
  public var file: String
  public var node: String?
  public var opType: String?
  public var tensor: String?

  public init(file: String, node: String? = nil, opType: String? = nil, tensor: String? = nil) {
    self.file = file
    self.node = node
    self.opType = opType
    self.tensor = tensor
  }

  /// `model.onnx: node '/conv1/Conv' (Conv): tensor 'x'`
  public var text: String {
    var parts = [file.isEmpty ? "<memory>" : file]
    if let node { parts.append(opType.map { "node '\(node)' (\($0))" } ?? "node '\(node)'") }
    if let tensor { parts.append("tensor '\(tensor)'") }
    return parts.joined(separator: ": ")
  }
}

/// The kind of failure, which decides the CLI's exit code.
public enum FailureKind: Sendable {
  /// Malformed or inconsistent input (exit 1).
  case invalid
  /// Valid ONNX that Graft does not support (exit 3).
  case unsupported
  /// An I/O problem (exit 1).
  case io
}

/// A one-line error with a location: `model.onnx: node 'n' (Conv): input 'x' has rank 3; Conv needs rank 4`.
/// Messages are lower case, have no final period, name the thing and, where possible, the fix.
public struct GraftError: Error, Sendable, CustomStringConvertible {
  public var kind: FailureKind
  public var location: Location?
  public var message: String
  /// Further lines (one unsupported op each, for example).
  public var notes: [String]

  public init(_ kind: FailureKind = .invalid, at location: Location? = nil, _ message: String, notes: [String] = []) {
    self.kind = kind
    self.location = location
    self.message = message
    self.notes = notes
  }

  public var description: String {
    let head = location.map { "\($0.text): \(message)" } ?? message
    return ([head] + notes).joined(separator: "\n")
  }
}
