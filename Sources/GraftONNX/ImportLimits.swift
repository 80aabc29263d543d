import GraftIR

/// Bounds the importer enforces before it allocates, so a hostile or broken file ends in a
/// one-line error instead of a crash, a hang or a huge allocation. Every field is an option
/// with the documented default; exceeding one is a one-line `GraftError(.invalid)` naming the
/// file and, where there is one, the node or tensor. `maxNodes`, `maxGraphDepth` and
/// `maxTensorBytes` are checked on the unpacked message before any IR is built
/// (`ImportLimits+Check.swift`).
public struct ImportLimits: Sendable {
  /// Largest model file accepted (protobuf messages cannot exceed 2 GiB).
  public var maxFileBytes: Int = Int(Int32.max)
  /// Deepest nesting of protobuf messages (a graph inside an attribute inside a node is 3).
  public var maxNesting: Int = 96
  /// protobuf-c may allocate at most `maxUnpackedRatio` × file size + `maxUnpackedExtra`
  /// bytes while unpacking (estimated by a pre-scan before anything is allocated).
  public var maxUnpackedRatio: Int = 4
  public var maxUnpackedExtra: Int = 256 << 20
  /// Most elements one tensor may declare.
  public var maxElements: Int = 1 << 34
  /// Largest single dimension accepted in a tensor or a declared shape.
  public var maxDimension: Int64 = 1 << 40
  /// Largest dense size of a sparse initializer (densified at import).
  public var maxSparseDenseBytes: Int = 1 << 30
  /// Most nested local-function calls inlined (guards against recursive functions).
  public var maxFunctionDepth: Int = 32
  /// Most nodes in the model: the main graph, every subgraph, and what inlining local
  /// functions produces (the largest real models have about 10^5).
  public var maxNodes: Int = 1 << 22
  /// Deepest nesting of subgraphs (If/Loop/Scan bodies); the main graph is level 0.
  public var maxGraphDepth: Int = 16
  /// Largest declared size of one tensor (initializer, Constant value, external data), from
  /// its dims and element size, checked before its data is read.
  public var maxTensorBytes: Int = 1 << 32

  public init() {}
}
