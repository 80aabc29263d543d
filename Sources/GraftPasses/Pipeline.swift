import GraftIR

/// The portable pass pipeline: the one place where the passes that turn an imported graph into a
/// folded, fused, target-independent graph are listed, in order.
///
/// Contract of `run`:
/// - every pass runs to a fixpoint (at most `maxPassIterations` times in a row while it reports a
///   change), then the next one; the whole list repeats until a full round changes nothing (at
///   most `maxRounds` rounds). Not converging is an error naming the pass, never a hang;
/// - with `context.checkInvariants` on, `graph.checkInvariants()` runs after every pass run;
/// - any error a pass throws comes back as a `GraftError` whose message starts with
///   `pass '<name>': ` (location and kind kept);
/// - `dumpAfter` names a pass: `dump` receives `graph.dumpText()` after the first time that pass
///   finishes (its fixpoint in round 1, first occurrence in the list). An unknown name is an
///   error listing the known ones, raised before anything runs;
/// - `context.bindings` are consumed once: after every pass run, a binding whose graph input no
///   longer exists (the pass that applies bindings turned it into a constant) is dropped from
///   the context, so later runs of that pass do not apply it again;
/// - returns log lines, one per pass run: `<name>: changed|unchanged, nodes A -> B, initializers C -> D`.
public struct Pipeline: Sendable {
  public var passes: [any Pass]
  public var maxRounds = 8
  public var maxPassIterations = 16

  public init(passes: [any Pass]) {
    self.passes = passes
  }

  /// Canonicalize → ShapeInference → FoldIf → RemoveIdentity → ConstantFolding → DeadCode →
  /// FoldBatchNorm → FuseActivation → FuseOther → DeadCode → ShapeInference (refresh types).
  ///
  /// Constant folding runs nodes through the C runtime (`KernelRunner`) unless `evaluator`
  /// replaces it.
  public static func portable(evaluator: ConstantFolding.Evaluator? = nil) -> Pipeline {
    Pipeline(passes: [
      Canonicalize(),
      ShapeInference(),
      FoldIf(),
      RemoveIdentity(),
      ConstantFolding(evaluator: evaluator),
      DeadCode(),
      FoldBatchNorm(),
      FuseActivation(),
      FuseOther(),
      DeadCode(),
      ShapeInference(),
    ])
  }

  /// Names of the passes in order (duplicates kept), for `--dump-after` help and errors.
  public var passNames: [String] { passes.map(\.name) }

  /// The portable pass called `name` (`graft convert --passes a,b`), or nil. Constant folding
  /// gets the C runtime evaluator.
  public static func pass(named name: String) -> (any Pass)? {
    portable().passes.first { $0.name == name }
  }

  public func run(_ graph: inout Graph, _ context: inout PassContext, dumpAfter: String? = nil,
                  dump: ((String) -> Void)? = nil) throws -> [String] {
    if let dumpAfter, !passes.contains(where: { $0.name == dumpAfter }) {
      var known: [String] = []
      for n in passNames where !known.contains(n) { known.append(n) }
      throw GraftError(.invalid, "unknown pass '\(dumpAfter)' for --dump-after; passes are: \(known.joined(separator: ", "))")
    }
    var log: [String] = []
    var dumped = false
    let rounds = max(1, maxRounds)
    for round in 1...rounds {
      var roundChanged = false
      for pass in passes {
        let nodesBefore = graph.nodes.count
        let initsBefore = graph.initializers.count
        var changedAny = false
        var iteration = 0
        while true {
          iteration += 1
          if iteration > maxPassIterations {
            throw GraftError(.invalid, at: Location(file: context.file),
                             "pass '\(pass.name)': did not reach a fixpoint after \(maxPassIterations) runs (it reports a change every time)")
          }
          let changed: Bool
          do {
            changed = try pass.run(&graph, &context)
          } catch let e as GraftError {
            var wrapped = e
            wrapped.message = "pass '\(pass.name)': \(e.message)"
            throw wrapped
          } catch {
            throw GraftError(.invalid, at: Location(file: context.file), "pass '\(pass.name)': \(error)")
          }
          if !context.bindings.isEmpty {
            let inputNames = Set(graph.inputs.map(\.name))
            context.bindings = context.bindings.filter { inputNames.contains($0.key) }
          }
          if context.checkInvariants {
            do {
              try graph.checkInvariants(file: context.file)
            } catch let e as GraftError {
              var wrapped = e
              wrapped.message = "pass '\(pass.name)' broke a graph invariant: \(e.message)"
              throw wrapped
            }
          }
          if !changed { break }
          changedAny = true
        }
        roundChanged = roundChanged || changedAny
        log.append("\(pass.name): \(changedAny ? "changed" : "unchanged"), nodes \(nodesBefore) -> \(graph.nodes.count), initializers \(initsBefore) -> \(graph.initializers.count)")
        if !dumped, let dumpAfter, pass.name == dumpAfter {
          dumped = true
          dump?(graph.dumpText())
        }
      }
      if !roundChanged { return log }
      if round == rounds { break }
    }
    throw GraftError(.invalid, at: Location(file: context.file),
                     "pass pipeline did not converge after \(rounds) rounds (some pass keeps changing the graph)")
  }
}

// MARK: - Graph editing helpers shared by the passes

extension Graph {
  /// True if `value` is one of the graph outputs.
  func isGraphOutput(_ value: String) -> Bool {
    outputs.contains(where: { $0.name == value })
  }

  /// Every value name defined in this graph (inputs, initializers, node outputs), for picking
  /// fresh names.
  var definedNames: Set<String> {
    var s = Set(inputs.map(\.name))
    for (n, _) in initializers { s.insert(n) }
    for node in nodes { for o in node.outputs where !o.isEmpty { s.insert(o) } }
    return s
  }

  /// Replaces every read of `old` by `new`: node inputs here and in subgraphs that capture
  /// `old` (a subgraph that defines its own `old` shadows it and is left alone). Graph outputs
  /// are names of the interface and are not touched.
  mutating func replaceUses(of old: String, with new: String) {
    for i in nodes.indices {
      for k in nodes[i].inputs.indices where nodes[i].inputs[k] == old { nodes[i].inputs[k] = new }
      if !nodes[i].subgraphs.isEmpty {
        for a in nodes[i].attributes.indices {
          switch nodes[i].attributes[a].value {
          case .graph(var g):
            g.replaceCapturedUses(of: old, with: new)
            nodes[i].attributes[a].value = .graph(g)
          case .graphs(var gs):
            for j in gs.indices { gs[j].replaceCapturedUses(of: old, with: new) }
            nodes[i].attributes[a].value = .graphs(gs)
          default: break
          }
        }
      }
    }
  }

  private mutating func replaceCapturedUses(of old: String, with new: String) {
    if definedNames.contains(old) { return }
    replaceUses(of: old, with: new)
    for k in outputs.indices where outputs[k].name == old { outputs[k].name = new }
  }

  /// How many times `value` is read: node inputs (each slot counts), subgraph captures and
  /// graph outputs.
  func useCount(_ value: String) -> Int {
    var n = outputs.filter { $0.name == value }.count
    for node in nodes {
      n += node.inputs.filter { $0 == value }.count
      for sub in node.subgraphs where sub.capturedNames.contains(value) { n += 1 }
    }
    return n
  }

  /// Use counts for every value (same counting as `useCount`).
  var useCounts: [String: Int] {
    var m: [String: Int] = [:]
    for o in outputs { m[o.name, default: 0] += 1 }
    for node in nodes {
      for v in node.inputs where !v.isEmpty { m[v, default: 0] += 1 }
      for sub in node.subgraphs { for v in sub.capturedNames { m[v, default: 0] += 1 } }
    }
    return m
  }
}

/// Picks names not yet used in a graph: `base`, else `base_1`, `base_2`, ... The graph's names
/// are collected on the first call only (most rewrites never need a fresh name).
struct NameAllocator {
  private var taken: Set<String>?

  mutating func fresh(_ base: String, in graph: Graph) -> String {
    var used = taken ?? graph.definedNames
    var name = base
    var k = 0
    while used.contains(name) {
      k += 1
      name = "\(base)_\(k)"
    }
    used.insert(name)
    taken = used
    return name
  }
}

extension Tensor {
  /// A float32 tensor from Double values rounded once to Float.
  static func float32(dims: [Int], rounding values: [Double]) -> Tensor {
    Tensor.float32(dims, values.map { Float($0) })
  }

  /// A float32 copy of this float32 tensor with element k multiplied (in Double, rounded once)
  /// by `factors[(k / blockLength) % factors.count]`: per-row scaling of a row-major weight is
  /// `blockLength` = row length; per-column scaling is `blockLength` = 1. One pass, no
  /// intermediate arrays. The caller has checked dtype float32 and the byte count.
  func scaledFloat32(factors: [Double], blockLength: Int) -> Tensor {
    let n = count
    let length = max(blockLength, 1)
    let source = storage.pointer
    let result = TensorStorage(count: n * 4) { out in
      guard !factors.isEmpty, n > 0 else { return }
      let dst = out.bindMemory(to: Float.self)
      factors.withUnsafeBufferPointer { f in
        var k = 0, block = 0
        while k < n {
          let factor = f[block % f.count]
          let end = min(k + length, n)
          while k < end {
            dst[k] = Float(Double(source.loadUnaligned(fromByteOffset: k * 4, as: Float.self)) * factor)
            k += 1
          }
          block += 1
        }
      }
    }
    return Tensor(dtype: .float32, dims: dims, storage: result)
  }

  /// The single value of a one-element float tensor (any float dtype), else nil.
  var scalarFloat: Float? {
    guard count == 1, let f = floats() else { return nil }
    return f.first
  }
}
