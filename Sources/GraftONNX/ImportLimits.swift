import GraftIR

/// Bounds the importer enforces before it allocates, so a hostile or broken file ends in a
/// one-line error instead of a crash, a hang or a huge allocation.
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

  public init() {}
}
