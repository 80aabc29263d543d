import Foundation
import Testing
import GraftIR
import GraftONNX
import GraftPasses
import GraftBackend
import GraftTestSupport

/// Loads `dir/name.onnx`, binds its runtime inputs to the shapes of the stored
/// `name.input_K.npy` files (integer scalar inputs, like silero's `sr`, are bound by value),
/// then canonicalizes, infers shapes and folds Ifs. Returns the graph and the context.
func preparedModel(_ dir: String, _ name: String) throws -> (Model, Graph, PassContext) {
  let model = try ONNXImporter.load(path: "\(dir)/\(name).onnx")
  var shapes: [String: [Int]] = [:]
  var bindings: [String: Tensor] = [:]
  for (k, input) in model.graph.runtimeInputs.enumerated() {
    let path = "\(dir)/\(name).input_\(k).npy"
    guard FileManager.default.fileExists(atPath: path) else { continue }
    let h = try readNpyHeader(path: path)
    if h.shape.isEmpty, h.dtype?.isInteger == true {
      bindings[input.name] = try readNpyTensor(path: path)
    } else {
      shapes[input.name] = h.shape
    }
  }
  var graph = model.graph
  var ctx = PassContext(file: "\(name).onnx", opsets: model.opsetImports, inputShapes: shapes, bindings: bindings,
                        checkInvariants: true)
  _ = try Canonicalize().run(&graph, &ctx)
  try graph.checkInvariants(file: ctx.file)
  try inferShapesAndFoldIfs(&graph, &ctx)
  return (model, graph, ctx)
}

/// The output shapes stored beside a model (`name.output_K.npy`).
func referenceOutputShapes(_ dir: String, _ name: String, count: Int) throws -> [[Int]] {
  try (0..<count).map { try readNpyHeader(path: "\(dir)/\(name).output_\($0).npy").shape }
}

private func modelNames(_ dir: String) -> [String] {
  let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
  return files.filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }.sorted()
}

@Suite struct ShapeModelTests {
  @Test(arguments: modelNames(sharedModelsDirectory))
  func modelOutputShapesMatchReferences(name: String) throws {
    let dir = sharedModelsDirectory
    let (_, graph, ctx) = try preparedModel(dir, name)
    let expected = try referenceOutputShapes(dir, name, count: graph.outputs.count)
    #expect(graph.outputs.map { $0.type?.shape?.concrete } == expected.map { Optional($0) })
    try requireConcreteShapes(graph, ctx)
    #expect(unsupportedOps(graph, ctx) == [])
    // Every If folds at the reference binding.
    #expect(!graph.nodes.contains { $0.opType == "If" })
    // The passes are at their fixpoint: running them again changes nothing (the pipeline
    // reruns a pass while it reports a change).
    var again = graph
    var ctx2 = ctx
    #expect(try Canonicalize().run(&again, &ctx2) == false)
    #expect(try ShapeInference().run(&again, &ctx2) == false)
    #expect(try FoldIf().run(&again, &ctx2) == false)
  }

  @Test(arguments: modelNames(sharedModelsDirectory + "/onnx_node_tests"))
  func nodeTestOutputShapesMatchReferences(name: String) throws {
    let dir = sharedModelsDirectory + "/onnx_node_tests"
    let (_, graph, ctx) = try preparedModel(dir, name)
    let expected = try referenceOutputShapes(dir, name, count: graph.outputs.count)
    #expect(graph.outputs.map { $0.type?.shape?.concrete } == expected.map { Optional($0) }, "\(name)")
    try requireConcreteShapes(graph, ctx)
  }
}

/// The portable pipeline (Canonicalize → ShapeInference → FoldIf → the rest → ShapeInference)
/// on the trained models:
/// the pipeline converges, every If folds, output shapes stay those of the references and no
/// unsupported op is left. Constant folding runs through the C runtime.
@Suite struct ShapePipelineTests {
  @Test(arguments: ["ddddocr_det", "ppocr_mobile_v2_cls", "ppocrv4_det", "silero_vad_v6"])
  func shapesPassesRunInsideThePortablePipeline(name: String) throws {
    let dir = sharedModelsDirectory
    let model = try ONNXImporter.load(path: "\(dir)/\(name).onnx")
    var shapes: [String: [Int]] = [:]
    var bindings: [String: Tensor] = [:]
    for (k, input) in model.graph.runtimeInputs.enumerated() {
      let h = try readNpyHeader(path: "\(dir)/\(name).input_\(k).npy")
      if h.shape.isEmpty, h.dtype?.isInteger == true {
        bindings[input.name] = try readNpyTensor(path: "\(dir)/\(name).input_\(k).npy")
      } else {
        shapes[input.name] = h.shape
      }
    }
    let opset = model.opset("") ?? 17
    let pipeline = Pipeline.portable(evaluator: Driver.evaluator(opset: opset, file: name))
    #expect(Array(pipeline.passNames.prefix(3)) == ["canonicalize", "shape-inference", "fold-if"])
    var graph = model.graph
    var ctx = PassContext(file: "\(name).onnx", opsets: model.opsetImports, inputShapes: shapes, bindings: bindings,
                          checkInvariants: true)
    _ = try pipeline.run(&graph, &ctx)
    let expected = try referenceOutputShapes(dir, name, count: graph.outputs.count)
    #expect(graph.outputs.map { $0.type?.shape?.concrete } == expected.map { Optional($0) })
    #expect(!graph.nodes.contains { $0.opType == "If" })
    #expect(unsupportedOps(graph, ctx) == [])
    try requireConcreteShapes(graph, ctx)
  }
}

/// Hostile bindings never crash, hang or allocate hugely: every node test and trained model with
/// its inputs re-declared as all-0, all-1, mixed and 2^39-sized dims either infers or fails
/// with a one-line `GraftError`; statistics saturate instead of overflowing.
@Suite struct ShapeHostileInputTests {
  static let variants: [[Int]] = [[0], [1], [0, 1, 1 << 39, 3], [1 << 39]]

  @Test func hostileInputShapesFailCleanly() throws {
    let dir = sharedModelsDirectory
    let paths = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/onnx_node_tests")) ?? [])
      .filter { $0.hasSuffix(".onnx") }.map { dir + "/onnx_node_tests/" + $0 }
      + ["ddddocr_det", "ppocr_mobile_v2_cls", "ppocrv4_det", "silero_vad_v6"].map { "\(dir)/\($0).onnx" }
    var outcomes = [0, 0]
    for path in paths.sorted() {
      let model = try ONNXImporter.load(path: path)
      for pattern in Self.variants {
        var graph = model.graph
        let inits = Set(graph.initializers.map(\.name))
        for i in graph.inputs.indices where !inits.contains(graph.inputs[i].name) {
          guard let t = graph.inputs[i].type, let s = t.shape else { continue }
          graph.inputs[i].type = TensorType(t.dtype, Shape(s.indices.map { pattern[$0 % pattern.count] }))
        }
        var ctx = PassContext(file: "m.onnx", opsets: model.opsetImports)
        do {
          _ = try Canonicalize().run(&graph, &ctx)
          try inferShapesAndFoldIfs(&graph, &ctx)
          var stats = ModelStatistics.structural(model.graph)
          stats.countMACs(graph)
          #expect(stats.macs >= 0)
          outcomes[0] += 1
        } catch let e as GraftError {
          #expect(!e.description.contains("\n"), "\(path): \(e)")
          outcomes[1] += 1
        }
      }
    }
    #expect(outcomes[0] + outcomes[1] == paths.count * Self.variants.count)
  }
}
