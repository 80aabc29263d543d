import GraftIR
import GraftKernels
import GraftPasses

/// Options of one compilation (the CLI's flags).
public struct CompileOptions: Sendable {
  /// `--input-shape NAME=DIMS`.
  public var inputShapes: [String: [Int]] = [:]
  /// `--bind NAME=VALUE`: inputs fixed to constants.
  public var bindings: [String: Tensor] = [:]
  /// `--dump-after PASS`.
  public var dumpAfter: String?
  /// Run `checkInvariants()` after every pass (tests).
  public var checkInvariants = false

  public init(inputShapes: [String: [Int]] = [:], bindings: [String: Tensor] = [:], dumpAfter: String? = nil,
              checkInvariants: Bool = false) {
    self.inputShapes = inputShapes
    self.bindings = bindings
    self.dumpAfter = dumpAfter
    self.checkInvariants = checkInvariants
  }
}

/// The whole compiler: imported model → portable pipeline (constant folding through the C
/// runtime) → lowering, kernel checks, memory plan. Shared by `graft compile`, `graft check`
/// and the tests.
public enum Driver {
  public struct Output: Sendable {
    public var compiled: CompiledModel
    /// One line per pass run.
    public var log: [String]
    /// The portable graph that was lowered.
    public var graph: Graph
  }

  /// The constant-folding evaluator: one node through the C runtime.
  public static func evaluator(opset: Int64, file: String) -> ConstantFolding.Evaluator {
    { node, inputs, types in
      try KernelRunner.evaluate(node: node, inputs: inputs, outputTypes: types, opset: opset, file: file)
    }
  }

  /// The pass pipeline used by the back end: the portable pipeline, with canonicalization, shape
  /// inference and If folding before it (and shape inference after it) when the portable list
  /// does not include them yet.
  public static func pipeline(opset: Int64, file: String) -> Pipeline {
    let portable = Pipeline.portable(evaluator: evaluator(opset: opset, file: file))
    if portable.passNames.contains("shape-inference") { return portable }
    let front: [any Pass] = portable.passNames.contains("canonicalize")
      ? [ShapeInference()] : [Canonicalize(), ShapeInference(), FoldIf()]
    return Pipeline(passes: front + portable.passes + [ShapeInference()])
  }

  public static func compile(_ model: Model, options: CompileOptions = .init(),
                             dump: ((String) -> Void)? = nil) throws -> Output {
    let file = model.path
    let opset = model.opset("") ?? 17
    var context = PassContext(file: file, opsets: model.opsetImports, inputShapes: options.inputShapes,
                              bindings: options.bindings, checkInvariants: options.checkInvariants)
    var graph = model.graph
    // Bindings are applied once, up front: later passes may fold the bound constant away, and a
    // binding re-applied then would name an input that no longer exists.
    if !options.bindings.isEmpty {
      do {
        _ = try ShapeInference().run(&graph, &context)
      } catch let e as GraftError {
        var wrapped = e
        wrapped.message = "pass 'shape-inference': \(e.message)"
        throw wrapped
      }
      context.bindings = [:]
    }
    let log = try pipeline(opset: opset, file: file).run(&graph, &context, dumpAfter: options.dumpAfter, dump: dump)
    for input in graph.runtimeInputs {
      let shape = graph.valueInfo[input.name]?.shape ?? input.type?.shape
      guard let shape else {
        throw GraftError(.invalid, at: Location(file: file),
                         "input '\(input.name)' has unknown rank; bind it with --input-shape \(input.name)=...")
      }
      if let d = shape.first(where: { $0.value == nil }) {
        throw GraftError(.invalid, at: Location(file: file),
                         "input '\(input.name)' has unbound dim '\(d)'; bind it with --input-shape \(input.name)=...")
      }
    }
    let compiled = try Compiler.compile(graph, file: file, opset: opset)
    return Output(compiled: compiled, log: log, graph: graph)
  }
}
