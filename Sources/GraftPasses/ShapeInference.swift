import GraftIR

/// Shape inference with shape-arithmetic folding.
///
/// Contract:
/// - Binds `context.bindings` first: each named graph input is removed from `graph.inputs` and
///   becomes an initializer (converted to the input's declared dtype when that is a scalar
///   int/float conversion). A binding naming no graph input is an error. Applied bindings are
///   consumed (removed from `context.bindings`), so later runs do not trip over a bound input
///   that dead-code elimination has since removed.
/// - Binds `context.inputShapes` onto graph inputs: symbolic dims are replaced; a known dim
///   that contradicts the bound size is an error naming the input and the dim. A declared dim of
///   0 counts as unknown (some exporters write 0 for "dynamic").
/// - Fills `graph.valueInfo[name]` for every value whose type it can infer, in every subgraph,
///   with ONNX semantics, and sets `graph.outputs[i].type` to the inferred types.
/// - Folds `Constant` nodes into initializers, and folds shape-class nodes (see
///   `ShapeFolding.foldableOps`) whose inputs are all constant and small (every input and output
///   at most `ShapeInference.foldLimit` elements) into initializers. Arithmetic is folded only on
///   integer/bool tensors; data movement (Gather, Concat, Slice, ...) on any numeric dtype.
///   `Shape`/`Size` of a value with a fully known shape fold even when the value is not constant.
///   Float compute and large fills are left to the back end's constant folding (C runtime).
/// - Never reorders nodes; removes folded nodes; removes initializers it created that end up
///   unused. Returns true if anything changed (bindings applied, nodes folded, types changed).
/// - Bad input (rank or size mismatch for a supported op) throws a one-line `GraftError` naming
///   the node and the value. Unknown ops get no inferred type (`unsupportedOps` lists them).
public struct ShapeInference: Pass {
  public let name = "shape-inference"
  /// Largest constant (in elements) that shape folding reads or writes.
  public static let foldLimit = 4096

  public init() {}

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var changed = try applyBindings(&graph, &context)
    changed = try applyInputShapes(&graph, context) || changed
    var engine = InferenceEngine(context: context)
    let before = graph.valueInfo
    try engine.infer(&graph, outer: Scope())
    changed = changed || engine.changed || before != graph.valueInfo
    return changed
  }
}

/// Types and constants visible at a point of a graph (outer scopes included).
struct Scope {
  var types: [String: TensorType] = [:]
  var consts: [String: Tensor] = [:]
}

// MARK: - Bindings

extension ShapeInference {
  /// Replaces bound graph inputs by initializers. Already-bound names (initializers) are skipped,
  /// so the pass can run repeatedly.
  func applyBindings(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var changed = false
    for name in context.bindings.keys.sorted() {
      guard let value = context.bindings[name] else { continue }
      guard let idx = graph.inputs.firstIndex(where: { $0.name == name }) else {
        if graph.initializer(name) != nil { context.bindings[name] = nil; continue }
        let names = graph.runtimeInputs.map { "'\($0.name)'" }.joined(separator: ", ")
        throw GraftError(.invalid, at: Location(file: context.file, tensor: name),
                         "--bind names no graph input (inputs: \(names))")
      }
      let declared = graph.inputs[idx].type
      var tensor = value
      if let want = declared?.dtype, want != value.dtype, want != .undefined {
        guard let c = ConstArray(value), let t = c.cast(to: want).tensor() else {
          throw GraftError(.invalid, at: Location(file: context.file, tensor: name),
                           "bound value has dtype \(value.dtype); input needs \(want)")
        }
        tensor = t
      }
      if let shape = declared?.shape, shape.count != tensor.dims.count {
        // A scalar binding for a [1] input (or the reverse) is accepted by reshaping.
        if elementCount(tensor.dims) == 1, shape.allSatisfy({ $0.value == nil || $0.value == 1 }) {
          tensor.dims = Array(repeating: 1, count: shape.count)
        } else {
          throw GraftError(.invalid, at: Location(file: context.file, tensor: name),
                           "bound value has shape \(Shape(tensor.dims).text); input is declared \(shape.text)")
        }
      }
      graph.inputs.remove(at: idx)
      graph.setInitializer(name, tensor)
      graph.valueInfo[name] = tensor.type
      context.bindings[name] = nil
      changed = true
    }
    return changed
  }

  /// Applies `--input-shape` bindings to graph inputs.
  func applyInputShapes(_ graph: inout Graph, _ context: PassContext) throws -> Bool {
    var changed = false
    let inits = Set(graph.initializers.map(\.name))
    for name in context.inputShapes.keys.sorted() {
      guard let dims = context.inputShapes[name] else { continue }
      guard let idx = graph.inputs.firstIndex(where: { $0.name == name }), !inits.contains(name) else {
        if inits.contains(name) { continue }
        let names = graph.runtimeInputs.map { "'\($0.name)'" }.joined(separator: ", ")
        throw GraftError(.invalid, at: Location(file: context.file, tensor: name),
                         "--input-shape names no graph input (inputs: \(names))")
      }
      let old = graph.inputs[idx].type
      if let shape = old?.shape {
        guard shape.count == dims.count else {
          throw GraftError(.invalid, at: Location(file: context.file, tensor: name),
                           "input is declared \(shape.text) (rank \(shape.count)); --input-shape gives rank \(dims.count)")
        }
        for (i, (d, b)) in zip(shape, dims).enumerated() {
          if let v = d.value, v != 0, v != b {
            throw GraftError(.invalid, at: Location(file: context.file, tensor: name),
                             "dim \(i) is \(v) in the model; --input-shape gives \(b)")
          }
        }
      }
      let newType = TensorType(old?.dtype ?? .float32, Shape(dims))
      if old != newType {
        graph.inputs[idx].type = newType
        changed = true
      }
      graph.valueInfo[name] = newType
    }
    return changed
  }
}

// MARK: - Concrete shape requirement

/// Throws unless every graph input and every inferred value has a concrete shape.
/// `model.onnx: input 'x' has unbound dim 'N'; bind it with --input-shape x=...`
public func requireConcreteShapes(_ graph: Graph, _ context: PassContext) throws {
  for input in graph.runtimeInputs {
    guard let shape = input.type?.shape else {
      throw GraftError(.invalid, at: Location(file: context.file),
                       "input '\(input.name)' has unknown rank; bind it with --input-shape \(input.name)=...")
    }
    for d in shape {
      if case .symbol(let s) = d {
        throw GraftError(.invalid, at: Location(file: context.file),
                         "input '\(input.name)' has unbound dim '\(s.isEmpty ? "?" : s)'; bind it with --input-shape \(input.name)=...")
      }
    }
  }
  func check(_ g: Graph) throws {
    for node in g.nodes {
      for sub in node.subgraphs { try check(sub) }
      for o in node.outputs where !o.isEmpty {
        guard let t = g.valueInfo[o] ?? g.type(of: o), let shape = t.shape else {
          throw GraftError(.invalid, at: context.at(node, tensor: o), "shape could not be inferred")
        }
        if let d = shape.first(where: { $0.value == nil }) {
          throw GraftError(.invalid, at: context.at(node, tensor: o),
                           "shape \(shape.text) has unknown dim '\(d)'; bind the inputs with --input-shape")
        }
      }
    }
  }
  try check(graph)
}
