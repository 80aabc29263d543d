import GraftIR

/// What every pass may read: where the model came from (for messages), its opsets, and the
/// user's bindings. Passes communicate only through the graph.
public struct PassContext: Sendable {
  /// The model file, for diagnostics.
  public var file: String
  /// Opset imports of the model (domain "" = ai.onnx).
  public var opsets: [OpsetImport]
  /// `--input-shape name=1x3x224x224`: concrete shapes for graph inputs.
  public var inputShapes: [String: [Int]]
  /// `--bind name=value`: graph inputs fixed to constant values (folded away).
  public var bindings: [String: Tensor]
  /// When true, `checkInvariants()` runs after every pass (tests turn it on).
  public var checkInvariants: Bool

  public init(file: String = "", opsets: [OpsetImport] = [OpsetImport(domain: "", version: 17)],
              inputShapes: [String: [Int]] = [:], bindings: [String: Tensor] = [:],
              checkInvariants: Bool = false) {
    self.file = file
    self.opsets = opsets
    self.inputShapes = inputShapes
    self.bindings = bindings
    self.checkInvariants = checkInvariants
  }

  /// The ai.onnx opset version.
  public var onnxOpset: Int64 {
    opsets.first(where: { $0.domain == "" || $0.domain == "ai.onnx" })?.version ?? 1
  }

  /// A location for messages about `node`.
  public func at(_ node: Node, tensor: String? = nil) -> Location {
    Location(file: file, node: node.displayName, opType: node.opType, tensor: tensor)
  }
}

/// A graph transformation with one job. `run` returns true if it changed the graph.
/// Errors it throws are wrapped with the pass name by the pipeline.
public protocol Pass: Sendable {
  var name: String { get }
  func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool
}
