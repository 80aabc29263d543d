// Structure of each pass on small graphs: golden dumps plus invariants after every pass run.
import GraftIR
import Testing
@testable import GraftPasses

/// Runs `passes` to a fixpoint with invariant checks on; returns the graph.
func runPasses(_ passes: [any Pass], _ graph: Graph, opset: Int64 = 17) throws -> Graph {
  var g = graph
  var ctx = PassContext(file: "test.onnx", opsets: [OpsetImport(domain: "", version: opset)], checkInvariants: true)
  _ = try Pipeline(passes: passes).run(&g, &ctx)
  return g
}

/// Conv(1x3x8x8 -> 4 channels, 3x3, pad 1).
func convInput(_ b: inout GraphBuilder, out: String = "c", bias: Bool = true) {
  b.input("x", [1, 3, 8, 8])
  b.random("w", [4, 3, 3, 3])
  if bias { b.random("b", [4]) }
  b.node("Conv", bias ? ["x", "w", "b"] : ["x", "w"], [out],
         [attr("kernel_shape", [3, 3]), attr("pads", [1, 1, 1, 1])], name: "conv", dims: [[1, 4, 8, 8]])
}

func addBatchNorm(_ b: inout GraphBuilder, _ x: String, _ y: String, channels: Int, dims: [Int]) {
  b.random("bn_s", [channels], 0.5, 1.5)
  b.random("bn_b", [channels])
  b.random("bn_m", [channels])
  b.random("bn_v", [channels], 0.1, 2)
  b.node("BatchNormalization", [x, "bn_s", "bn_b", "bn_m", "bn_v"], [y], [attr("epsilon", Float(1e-3))],
         name: "bn", dims: [dims])
}

@Suite struct PassStructureTests {
  @Test func deadCodeRemovesUnreachableNodesInitializersAndTypes() throws {
    var b = GraphBuilder()
    b.input("x", [2, 3])
    b.random("used", [2, 3])
    b.random("unused", [5])
    b.random("dead_w", [2, 3])
    b.node("Add", ["x", "used"], ["y"], name: "live", dims: [[2, 3]])
    b.node("Mul", ["x", "dead_w"], ["d1"], name: "dead1", dims: [[2, 3]])
    b.node("Relu", ["d1"], ["d2"], name: "dead2", dims: [[2, 3]])
    b.setType("ghost", [1])
    b.output("y")
    let g = try runPasses([DeadCode()], b.graph)
    #expect(g.nodes.map(\.name) == ["live"])
    #expect(g.initializers.map(\.name) == ["used"])
    #expect(g.valueInfo["d1"] == nil && g.valueInfo["ghost"] == nil && g.valueInfo["y"] != nil)
    expectGolden("dead_code", g.dumpText())
  }

  @Test func deadCodeKeepsNodesReadBySubgraphs() throws {
    var b = GraphBuilder()
    b.input("cond", [], .bool)
    b.input("x", [2])
    b.node("Neg", ["x"], ["n"], name: "captured", dims: [[2]])
    var then = Graph(name: "then")
    then.nodes = [Node(name: "t", opType: "Identity", inputs: ["n"], outputs: ["t_out"])]
    then.outputs = [ValueInfo(name: "t_out", type: nil)]
    var other = Graph(name: "else")
    other.nodes = [Node(name: "e", opType: "Identity", inputs: ["x"], outputs: ["e_out"])]
    other.outputs = [ValueInfo(name: "e_out", type: nil)]
    b.node("If", ["cond"], ["y"], [Attribute("then_branch", .graph(then)), Attribute("else_branch", .graph(other))],
           name: "if", dims: [[2]])
    b.output("y")
    let g = try runPasses([DeadCode()], b.graph)
    #expect(g.nodes.map(\.name) == ["captured", "if"])
    expectGolden("dump_subgraph", g.dumpText())
  }

  @Test func removeIdentityRewiresConsumersAndKeepsOutputNames() throws {
    var b = GraphBuilder()
    b.input("x", [2, 3])
    b.random("k", [2, 3])
    b.node("Add", ["x", "k"], ["a"], name: "add", dims: [[2, 3]])
    b.node("Identity", ["a"], ["a_copy"], name: "id1", dims: [[2, 3]])
    b.node("Dropout", ["a_copy"], ["d", ""], name: "drop", dims: [[2, 3]])
    b.node("Relu", ["d"], ["r"], name: "relu", dims: [[2, 3]])
    b.node("Identity", ["r"], ["out"], name: "id_out", dims: [[2, 3]])
    b.node("Identity", ["x"], ["x_out"], name: "id_input", dims: [[2, 3]])
    b.output("out")
    b.output("x_out")
    let g = try runPasses([RemoveIdentity(), DeadCode()], b.graph)
    // The copy of a graph input must stay; the others go.
    #expect(g.nodes.map(\.name) == ["add", "relu", "id_input"])
    #expect(g.nodes[1].inputs == ["a"] && g.nodes[1].outputs == ["out"])
    expectGolden("remove_identity", g.dumpText())
  }

  @Test func removeIdentityKeepsDropoutWhoseMaskIsRead() throws {
    var b = GraphBuilder()
    b.input("x", [4])
    b.node("Dropout", ["x"], ["y", "mask"], name: "drop", dims: [[4], [4]])
    b.output("y")
    b.output("mask")
    let g = try runPasses([RemoveIdentity()], b.graph)
    #expect(g.nodes.map(\.opType) == ["Dropout"])
  }

  @Test func constantOfShapeFoldsToASplat() throws {
    var b = GraphBuilder()
    b.input("x", [1, 3, 8, 8])
    b.constant("w_shape", .int64([4], [4, 3, 3, 3]))
    b.node("ConstantOfShape", ["w_shape"], ["w"], [Attribute("value", .tensor(.float32([1], [0.02])))], name: "cos")
    b.node("Conv", ["x", "w"], ["y"], [attr("kernel_shape", [3, 3])], name: "conv", dims: [[1, 4, 6, 6]])
    b.output("y")
    let g = try runPasses([ConstantFolding(), DeadCode()], b.graph)
    #expect(g.nodes.map(\.opType) == ["Conv"])
    let w = try #require(g.initializer("w"))
    #expect(w.dims == [4, 3, 3, 3] && w.dtype == .float32)
    #expect(w.values(as: Float.self).allSatisfy { $0 == Float(0.02) })
    expectGolden("constant_folding", g.dumpText())
  }

  @Test func constantFoldingCallsTheEvaluatorWithTypesAndSkipsUnsupported() throws {
    var b = GraphBuilder()
    b.input("x", [3])
    b.constant("a", .float32([3], [1, 2, 3]))
    b.node("Neg", ["a"], ["na"], name: "neg", dims: [[3]])
    b.node("Erf", ["a"], ["ea"], name: "erf", dims: [[3]])
    b.node("Add", ["x", "na"], ["s"], name: "add1", dims: [[3]])
    b.node("Add", ["s", "ea"], ["y"], name: "add2", dims: [[3]])
    b.output("y")
    // A stand-in evaluator: checks what it is given and returns a marker tensor; it does not
    // claim to compute anything (the real one is the C runtime's KernelRunner).
    let evaluator: ConstantFolding.Evaluator = { node, inputs, types in
      guard node.opType == "Neg" else { throw GraftError(.unsupported, "no kernel") }
      #expect(inputs.count == 1 && inputs[0]?.dims == [3])
      #expect(types == [TensorType(.float32, Shape([3]))])
      return [.float32([3], [7, 7, 7])]
    }
    let g = try runPasses([ConstantFolding(evaluator: evaluator), DeadCode()], b.graph)
    #expect(g.nodes.map(\.name) == ["erf", "add1", "add2"])
    #expect(g.initializer("na")?.values(as: Float.self) == [7, 7, 7])
  }

  @Test func constantFoldingRespectsTheSizeLimitAndReportsBadShapes() throws {
    var b = GraphBuilder()
    b.input("x", [1024])
    b.constant("a", .float32([1024], [Float](repeating: 1, count: 1024)))
    b.node("Neg", ["a"], ["na"], name: "neg", dims: [[1024]])
    b.node("Add", ["x", "na"], ["y"], name: "add", dims: [[1024]])
    b.output("y")
    let evaluator: ConstantFolding.Evaluator = { _, _, _ in
      Issue.record("evaluator called for a node over the size limit")
      return []
    }
    let g = try runPasses([ConstantFolding(evaluator: evaluator, maxOutputBytes: 1000)], b.graph)
    #expect(g.nodes.count == 2)

    var bad = GraphBuilder()
    bad.constant("s", .int64([2], [3, -1]))
    bad.node("ConstantOfShape", ["s"], ["y"], name: "cos")
    bad.output("y")
    #expect {
      _ = try runPasses([ConstantFolding()], bad.graph)
    } throws: { e in
      (e as? GraftError)?.description
        == "test.onnx: node 'cos' (ConstantOfShape): tensor 's': pass 'constant-folding': shape has a negative dimension -1"
    }
  }

  @Test func foldBatchNormIntoConvStructure() throws {
    var b = GraphBuilder()
    convInput(&b)
    addBatchNorm(&b, "c", "y", channels: 4, dims: [1, 4, 8, 8])
    b.output("y")
    let g = try runPasses([FoldBatchNorm(), DeadCode()], b.graph)
    #expect(g.nodes.map(\.opType) == ["Conv"])
    #expect(g.nodes[0].outputs == ["y"])
    expectGolden("fold_batchnorm_conv", g.dumpText())
  }

  @Test func foldBatchNormLeavesSharedConvOutputs() throws {
    var b = GraphBuilder()
    convInput(&b)
    addBatchNorm(&b, "c", "y", channels: 4, dims: [1, 4, 8, 8])
    b.node("Relu", ["c"], ["r"], name: "other_reader", dims: [[1, 4, 8, 8]])
    b.output("y")
    b.output("r")
    let g = try runPasses([FoldBatchNorm()], b.graph)
    #expect(g.nodes.map(\.opType) == ["Conv", "BatchNormalization", "Relu"])
  }

  @Test func fuseActivationStructure() throws {
    var b = GraphBuilder()
    convInput(&b)
    b.node("Clip", ["c"], ["r6"], [attr("min", Float(0)), attr("max", Float(6))], name: "relu6", dims: [[1, 4, 8, 8]])
    // SiLU as x * sigmoid(x) after a second conv.
    b.random("w2", [4, 4, 1, 1])
    b.node("Conv", ["r6", "w2"], ["c2"], [attr("kernel_shape", [1, 1])], name: "conv2", dims: [[1, 4, 8, 8]])
    b.node("Sigmoid", ["c2"], ["sg"], name: "sig", dims: [[1, 4, 8, 8]])
    b.node("Mul", ["c2", "sg"], ["silu"], name: "silu_mul", dims: [[1, 4, 8, 8]])
    // HardSwish as x * HardSigmoid(x; 1/6, 0.5) on a graph input: no producer, so a HardSwish node.
    b.node("HardSigmoid", ["silu"], ["hs"], [attr("alpha", Float(1.0 / 6.0)), attr("beta", Float(0.5))],
           name: "hsig", dims: [[1, 4, 8, 8]])
    b.node("Mul", ["silu", "hs"], ["hswish"], name: "hswish_mul", dims: [[1, 4, 8, 8]])
    b.output("hswish")
    let g = try runPasses([FuseActivation(), DeadCode()], b.graph, opset: 17)
    expectGolden("fuse_activation", g.dumpText())
    #expect(g.nodes.map(\.opType) == ["Conv", "Conv", "HardSwish"])
    #expect(g.nodes[0].int("graft.act") == 2 && g.nodes[0].float("graft.act_beta") == 6)
    #expect(g.nodes[1].int("graft.act") == 7)
  }

  @Test func fuseActivationLeavesNonFusableProducers() throws {
    var b = GraphBuilder()
    b.input("x", [1, 4, 8, 8])
    b.node("MaxPool", ["x"], ["p"], [attr("kernel_shape", [1, 1])], name: "pool", dims: [[1, 4, 8, 8]])
    b.node("Relu", ["p"], ["r"], name: "relu", dims: [[1, 4, 8, 8]])
    b.node("Sigmoid", ["r"], ["s"], name: "sig", dims: [[1, 4, 8, 8]])
    b.node("Mul", ["r", "s"], ["y"], name: "mul", dims: [[1, 4, 8, 8]])
    b.output("y")
    let g = try runPasses([FuseActivation()], b.graph)
    #expect(g.nodes.map(\.opType) == ["MaxPool", "Relu", "Sigmoid", "Mul"])
  }

  @Test func fuseActivationNeedsFloatTypeForAddAndMul() throws {
    var b = GraphBuilder()
    b.input("x", [4], .int64)
    b.constant("one", .int64([4], [1, 1, 1, 1]))
    b.node("Add", ["x", "one"], ["a"], name: "add", dims: [nil])
    b.setType("a", [4], .int64)
    b.node("Relu", ["a"], ["y"], name: "relu")
    b.output("y")
    let g = try runPasses([FuseActivation()], b.graph)
    #expect(g.nodes.count == 2)
  }

  @Test func fuseOtherStructure() throws {
    var b = GraphBuilder()
    convInput(&b)
    b.random("scale", [1, 4, 1, 1])
    b.node("Mul", ["c", "scale"], ["m"], name: "scale", dims: [[1, 4, 8, 8]])
    b.random("shift", [4, 1, 1])
    b.node("Add", ["m", "shift"], ["a"], name: "shift", dims: [[1, 4, 8, 8]])
    b.node("Transpose", ["a"], ["t1"], [attr("perm", [0, 2, 3, 1])], name: "t1", dims: [[1, 8, 8, 4]])
    b.node("Transpose", ["t1"], ["t2"], [attr("perm", [0, 3, 1, 2])], name: "t2", dims: [[1, 4, 8, 8]])
    b.constant("s1", .int64([2], [4, 64]))
    b.constant("s2", .int64([2], [1, -1]))
    b.node("Reshape", ["t2", "s1"], ["r1"], name: "r1", dims: [[4, 64]])
    b.node("Reshape", ["r1", "s2"], ["y"], name: "r2", dims: [[1, 256]])
    b.output("y")
    let g = try runPasses([FuseOther(), RemoveIdentity(), DeadCode()], b.graph)
    expectGolden("fuse_other", g.dumpText())
    #expect(g.nodes.map(\.opType) == ["Conv", "Reshape"])
  }
}
