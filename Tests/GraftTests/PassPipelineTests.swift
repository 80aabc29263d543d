// The pipeline driver (fixpoints, error wrapping, dumps) and the portable pipeline on the real
// models of /work/shared/models, run through the C runtime and compared with the stored
// onnxruntime references.
import Foundation
import GraftBackend
import GraftIR
import GraftKernels
import GraftONNX
import Testing
@testable import GraftPasses

/// A pass that fails, for the wrapping test.
private struct FailingPass: Pass {
  let name = "always-fails"
  func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    throw GraftError(.invalid, at: Location(file: context.file, node: "n1", opType: "Conv"), "weights are missing")
  }
}

/// A pass that always claims a change, for the convergence test.
private struct RestlessPass: Pass {
  let name = "restless"
  func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool { true }
}

/// A pass that breaks the graph (reads an undefined value), for the invariant check.
private struct BreakingPass: Pass {
  let name = "breaker"
  func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    if graph.nodes.first?.inputs.first == "nowhere" { return false }
    graph.nodes[0].inputs[0] = "nowhere"
    return true
  }
}

private func smallGraph() -> Graph {
  var b = GraphBuilder()
  convInput(&b)
  addBatchNorm(&b, "c", "bn", channels: 4, dims: [1, 4, 8, 8])
  b.node("Identity", ["bn"], ["id"], name: "copy", dims: [[1, 4, 8, 8]])
  b.node("Relu", ["id"], ["y"], name: "relu", dims: [[1, 4, 8, 8]])
  b.output("y")
  return b.graph
}

@Suite struct PassPipelineTests {
  @Test func portablePipelineListsThePassesInOrder() {
    #expect(Pipeline.portable().passNames == [
      "canonicalize", "shape-inference", "fold-if", "remove-identity", "constant-folding", "dead-code",
      "fold-batchnorm", "fuse-activation", "fuse-other", "dead-code", "shape-inference",
    ])
  }

  @Test func passesAreFoundByName() {
    for name in Pipeline.portable().passNames { #expect(Pipeline.pass(named: name)?.name == name) }
    #expect(Pipeline.pass(named: "fold-bn") == nil)
  }

  @Test func portablePipelineOnASmallGraphLogsAndDumps() throws {
    var g = smallGraph()
    var ctx = PassContext(file: "small.onnx", checkInvariants: true)
    var dumps: [String] = []
    let log = try Pipeline.portable().run(&g, &ctx, dumpAfter: "fold-batchnorm") { dumps.append($0) }
    #expect(g.nodes.map(\.opType) == ["Conv"])
    #expect(g.nodes[0].int("graft.act") == 1)
    #expect(dumps.count == 1)
    expectGolden("pipeline_after_fold_batchnorm", dumps.first ?? "")
    expectGolden("pipeline_small_final", g.dumpText())
    #expect(log.contains("fold-batchnorm: changed, nodes 3 -> 2, initializers 6 -> 6"))
    #expect(log.last?.hasPrefix("shape-inference: unchanged") == true)
  }

  @Test func unknownDumpAfterNameIsAnError() throws {
    var g = smallGraph()
    var ctx = PassContext()
    #expect {
      _ = try Pipeline.portable().run(&g, &ctx, dumpAfter: "fold-bn")
    } throws: { e in
      (e as? GraftError)?.description.hasPrefix("unknown pass 'fold-bn' for --dump-after; passes are: canonicalize, shape-inference") == true
    }
  }

  @Test func errorsNameThePass() throws {
    var g = smallGraph()
    var ctx = PassContext(file: "m.onnx")
    #expect {
      _ = try Pipeline(passes: [RemoveIdentity(), FailingPass()]).run(&g, &ctx)
    } throws: { e in
      (e as? GraftError)?.description == "m.onnx: node 'n1' (Conv): pass 'always-fails': weights are missing"
    }
  }

  @Test func nonConvergenceIsAnErrorNotAHang() throws {
    var g = smallGraph()
    var ctx = PassContext(file: "m.onnx")
    #expect {
      _ = try Pipeline(passes: [RestlessPass()]).run(&g, &ctx)
    } throws: { e in
      (e as? GraftError)?.description == "m.onnx: pass 'restless': did not reach a fixpoint after 16 runs (it reports a change every time)"
    }
  }

  @Test func invariantsAreCheckedAfterEveryPassWhenAskedFor() throws {
    var g = smallGraph()
    var ctx = PassContext(file: "m.onnx", checkInvariants: true)
    #expect {
      _ = try Pipeline(passes: [BreakingPass()]).run(&g, &ctx)
    } throws: { e in
      (e as? GraftError)?.description
        == "m.onnx: node 'conv' (Conv): pass 'breaker' broke a graph invariant: input 'nowhere' is not defined before this node (undefined name or cycle)"
    }
    var g2 = smallGraph()
    var quiet = PassContext(file: "m.onnx", checkInvariants: false)
    _ = try Pipeline(passes: [BreakingPass()]).run(&g2, &quiet)
  }
}

// MARK: - Real models

/// The corpus: `$GRAFT_MODELS`, else the first `shared/models` (with its README) found walking
/// up from the repository root (CI puts shared/ beside the clone), else /work/shared/models.
let modelsDir: String = {
  if let d = ProcessInfo.processInfo.environment["GRAFT_MODELS"] { return d }
  var url = URL(fileURLWithPath: repoRoot)
  for _ in 0..<6 {
    let candidate = url.appendingPathComponent("shared/models").path
    if FileManager.default.fileExists(atPath: candidate + "/README.md") { return candidate }
    url.deleteLastPathComponent()
  }
  return "/work/shared/models"
}()

/// Runs `graph` node by node through the C runtime (KernelRunner): the numbers are the
/// runtime's, the test only moves tensors between nodes.
func runOnRuntime(_ graph: Graph, feeds: [String: Tensor], opset: Int64) throws -> [Tensor] {
  var values = graph.initializerMap
  for (k, v) in feeds { values[k] = v }
  for node in graph.nodes {
    var inputs: [Tensor] = []
    for v in node.inputs where !v.isEmpty {
      guard let t = values[v] else { throw ORTError(description: "no value for '\(v)' at \(node.displayName)") }
      inputs.append(t)
    }
    var types: [TensorType] = []
    for o in node.outputs where !o.isEmpty {
      guard let t = graph.type(of: o) else { throw ORTError(description: "no type for '\(o)' at \(node.displayName)") }
      types.append(t)
    }
    let outs = try KernelRunner.evaluate(node: node, inputs: inputs, outputTypes: types, opset: opset)
    for (name, t) in zip(node.outputs.filter { !$0.isEmpty }, outs) { values[name] = t }
  }
  return try graph.outputs.map { o in
    guard let t = values[o.name] else { throw ORTError(description: "graph output '\(o.name)' not computed") }
    return t
  }
}

/// Largest |out - ref| over all outputs (infinity on a shape mismatch) and the largest |ref|.
func maxAbsError(_ outs: [Tensor], _ refs: [Tensor]) -> (Double, Double) {
  guard outs.count == refs.count else { return (.infinity, 0) }
  var worst = 0.0, scale = 0.0
  for (o, r) in zip(outs, refs) {
    guard o.dims == r.dims, let a = o.floats(), let b = r.floats() else { return (.infinity, 0) }
    for j in b.indices {
      let d = abs(Double(a[j]) - Double(b[j]))
      worst = d.isNaN ? .infinity : max(worst, d)
      scale = max(scale, abs(Double(b[j])))
    }
  }
  return (worst, scale)
}

struct ModelCase: Sendable, CustomTestStringConvertible {
  var name: String
  /// Ops that must be gone after the pipeline.
  var gone: [String]
  /// Inputs (by position) bound to their reference values with `--bind` semantics.
  var bind: [Int] = []
  var testDescription: String { name }
}

@Suite(.serialized) struct PassRealModelTests {
  static let cases: [ModelCase] = [
    ModelCase(name: "ppocr_mobile_v2_cls", gone: ["BatchNormalization", "Identity", "Constant", "HardSigmoid", "Relu", "Clip", "Div"]),
    ModelCase(name: "ddddocr_det", gone: ["Sigmoid"]),
    ModelCase(name: "light_squeezenet", gone: ["ConstantOfShape", "Dropout", "Relu"]),
    ModelCase(name: "light_densenet121", gone: ["ConstantOfShape", "Unsqueeze", "Mul"]),
    ModelCase(name: "light_shufflenet", gone: ["ConstantOfShape", "BatchNormalization"]),
    ModelCase(name: "ppocrv4_det", gone: ["BatchNormalization", "HardSigmoid", "Constant", "Clip", "Div"]),
    // sr (input 2) bound to 16000 folds every If; the state input and LSTMs stay.
    ModelCase(name: "silero_vad_v6", gone: ["If", "Identity", "Constant", "Shape"], bind: [2]),
  ]

  @Test(arguments: cases)
  func portablePipelineKeepsTheReferenceOutput(_ c: ModelCase) throws {
    let path = "\(modelsDir)/\(c.name).onnx"
    try #require(FileManager.default.fileExists(atPath: path), "model \(path) missing")
    let model = try ONNXImporter.load(path: path)
    var graph = model.graph
    let inputs = graph.runtimeInputs
    var feeds: [String: Tensor] = [:]
    var shapes: [String: [Int]] = [:]
    var bindings: [String: Tensor] = [:]
    for (k, i) in inputs.enumerated() {
      let t = try Npy.read(path: "\(modelsDir)/\(c.name).input_\(k).npy")
      if c.bind.contains(k) {
        bindings[i.name] = t
      } else {
        feeds[i.name] = t
        shapes[i.name] = t.dims
      }
    }
    var ctx = PassContext(file: path, opsets: model.opsetImports, inputShapes: shapes, bindings: bindings,
                          checkInvariants: true)
    let before = graph.nodes.count
    let log = try Pipeline.portable().run(&graph, &ctx)
    let ops = Set(graph.nodes.map(\.opType))
    for op in c.gone { #expect(!ops.contains(op), "\(c.name): \(op) left after the pipeline") }
    let fused = graph.nodes.filter { $0.int("graft.act") != nil }.count
    var refs: [Tensor] = []
    for k in graph.outputs.indices { refs.append(try Npy.read(path: "\(modelsDir)/\(c.name).output_\(k).npy")) }
    print("real-model \(c.name): nodes \(before) -> \(graph.nodes.count), fused activations \(fused), \(log.count) pass runs")

    // Tolerance 1e-4 of the output's magnitude: folded weights are rounded once to Float, and
    // ORT's own optimized-vs-unoptimized noise floor reaches 1.9e-5 on ppocrv4_det.
    // 1. The rewritten graph run by onnxruntime (fused activations expanded as the kernel
    //    header defines them) against the stored reference.
    if haveOnnxRuntime {
      let outs = try runOnnxRuntime([graph], feeds: feeds)[0]
      let (err, scale) = maxAbsError(outs, refs)
      print("real-model \(c.name): onnxruntime on the rewritten graph: max abs error \(err) (output max abs \(scale))")
      #expect(err <= 1e-4 * scale, "\(c.name): onnxruntime on the rewritten graph, max abs error \(err)")
    }

    // 2. The rewritten graph run by the C runtime, kernel by kernel.
    do {
      let outs = try runOnRuntime(graph, feeds: feeds, opset: ctx.onnxOpset)
      let (err, scale) = maxAbsError(outs, refs)
      print("real-model \(c.name): C runtime: max abs error \(err) (output max abs \(scale))")
      #expect(err <= 1e-4 * scale, "\(c.name): C runtime, max abs error \(err)")
    } catch let e as GraftError where e.kind == .unsupported {
      print("real-model \(c.name): C runtime check skipped, a kernel is not built yet: \(e)")
    }
  }
}

/// The other models of the corpus through the portable pipeline with invariants checked after
/// every pass, then through the C runtime against the stored onnxruntime reference (too large
/// to ship to onnxruntime through the JSON bridge).
@Suite(.serialized) struct PassEveryModelTests {
  static let names: [String] = [
    "light_bvlc_alexnet", "light_inception_v1", "light_inception_v2", "light_resnet50", "light_vgg19",
    "light_zfnet512", "silero_vad_v6",  // silero without --bind: its Ifs stay
  ]

  @Test(arguments: names)
  func portablePipelineRuns(_ name: String) throws {
    let path = "\(modelsDir)/\(name).onnx"
    try #require(FileManager.default.fileExists(atPath: path), "model \(path) missing")
    let model = try ONNXImporter.load(path: path)
    var graph = model.graph
    var shapes: [String: [Int]] = [:]
    var feeds: [String: Tensor] = [:]
    for (k, i) in graph.runtimeInputs.enumerated() {
      let t = try Npy.read(path: "\(modelsDir)/\(name).input_\(k).npy")
      shapes[i.name] = t.dims
      feeds[i.name] = t
    }
    var ctx = PassContext(file: path, opsets: model.opsetImports, inputShapes: shapes, checkInvariants: true)
    let before = graph.nodes.count
    _ = try Pipeline.portable().run(&graph, &ctx)
    let ops = Dictionary(graph.nodes.map { ($0.opType, 1) }, uniquingKeysWith: +)
    print("every-model \(name): nodes \(before) -> \(graph.nodes.count), fused \(graph.nodes.filter { $0.int("graft.act") != nil }.count), ops \(ops.sorted { $0.key < $1.key })")
    for gone in ["ConstantOfShape", "Identity", "Dropout", "BatchNormalization", "Relu", "Sum"] {
      #expect(ops[gone] == nil, "\(name): \(gone) left after the pipeline")
    }
    var refs: [Tensor] = []
    for k in graph.outputs.indices { refs.append(try Npy.read(path: "\(modelsDir)/\(name).output_\(k).npy")) }
    do {
      let outs = try runOnRuntime(graph, feeds: feeds, opset: ctx.onnxOpset)
      let (err, scale) = maxAbsError(outs, refs)
      print("every-model \(name): C runtime: max abs error \(err) (output max abs \(scale))")
      #expect(err <= 1e-4 * scale, "\(name): C runtime, max abs error \(err)")
    } catch let e as GraftError where e.kind == .unsupported {
      print("every-model \(name): C runtime check skipped, a kernel is not built yet: \(e)")
    }
  }
}
