// Numbers: the rewritten graph computes what the original computes, both run by onnxruntime
// (fused `graft.act` attributes are expanded into the ONNX activation graft_kernels.h defines
// them as). Tolerance 1e-5 relative (floor 1).
import GraftIR
import Testing
@testable import GraftPasses

@Suite(.enabled(if: haveOnnxRuntime, "needs .venv/bin/python (or $GRAFT_PYTHON) with onnxruntime"))
struct PassNumericTests {
  // MARK: BatchNorm folding

  @Test(arguments: [(true, 1), (false, 1), (true, 2), (false, 4)])
  func batchNormIntoConv(bias: Bool, group: Int) throws {
    var b = GraphBuilder(seed: UInt64(group * 10 + (bias ? 1 : 0)))
    b.input("x", [2, 4, 7, 7])
    b.random("w", [8, 4 / group, 3, 3])
    if bias { b.random("b", [8]) }
    b.node("Conv", bias ? ["x", "w", "b"] : ["x", "w"], ["c"],
           [attr("kernel_shape", [3, 3]), attr("strides", [2, 2]), attr("pads", [1, 0, 1, 0]), attr("group", Int64(group))],
           name: "conv", dims: [[2, 8, 4, 3]])
    addBatchNorm(&b, "c", "y", channels: 8, dims: [2, 8, 4, 3])
    b.output("y")
    let after = try runPasses([FoldBatchNorm(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Conv"])
    try expectSameOutputs(b.graph, after)
  }

  /// Two convs share W and b; only one is followed by a BN: the other keeps the originals.
  @Test func batchNormIntoConvWithSharedWeights() throws {
    var b = GraphBuilder(seed: 59)
    convInput(&b)
    b.node("Conv", ["x", "w", "b"], ["c2"], [attr("kernel_shape", [3, 3]), attr("pads", [1, 1, 1, 1])],
           name: "conv_twin", dims: [[1, 4, 8, 8]])
    addBatchNorm(&b, "c", "n", channels: 4, dims: [1, 4, 8, 8])
    b.node("Add", ["n", "c2"], ["y"], name: "sum", dims: [[1, 4, 8, 8]])
    b.output("y")
    let after = try runPasses([FoldBatchNorm(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Conv", "Conv", "Add"])
    #expect(after.nodes[1].inputs == ["x", "w", "b"])
    #expect(after.nodes[0].inputs == ["x", "w_bnfold", "b_bnfold"])
    try expectSameOutputs(b.graph, after)
  }

  @Test(arguments: [1, 2])
  func batchNormIntoConvTranspose(group: Int) throws {
    var b = GraphBuilder(seed: 3)
    b.input("x", [1, 4, 5, 5])
    b.random("w", [4, 6 / group, 3, 3])
    b.random("b", [6])
    b.node("ConvTranspose", ["x", "w", "b"], ["c"],
           [attr("kernel_shape", [3, 3]), attr("strides", [2, 2]), attr("group", Int64(group))],
           name: "deconv", dims: [[1, 6, 11, 11]])
    addBatchNorm(&b, "c", "y", channels: 6, dims: [1, 6, 11, 11])
    b.output("y")
    let after = try runPasses([FoldBatchNorm(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["ConvTranspose"])
    try expectSameOutputs(b.graph, after)
  }

  /// C: 0 absent, 1 scalar, 2 [N], 3 [1, N].
  @Test(arguments: [(false, 0), (true, 0), (false, 1), (true, 2), (false, 3)])
  func batchNormIntoGemm(transB: Bool, cKind: Int) throws {
    var b = GraphBuilder(seed: UInt64(cKind + 20))
    b.input("a", [3, 5])
    b.random("w", transB ? [6, 5] : [5, 6])
    var inputs = ["a", "w"]
    switch cKind {
    case 1: b.random("cc", [1]); inputs.append("cc")
    case 2: b.random("cc", [6]); inputs.append("cc")
    case 3: b.random("cc", [1, 6]); inputs.append("cc")
    default: break
    }
    b.node("Gemm", inputs, ["g"], [attr("transB", Int64(transB ? 1 : 0)), attr("alpha", Float(0.7)), attr("beta", Float(1.3))],
           name: "gemm", dims: [[3, 6]])
    addBatchNorm(&b, "g", "y", channels: 6, dims: [3, 6])
    b.output("y")
    let after = try runPasses([FoldBatchNorm(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Gemm"])
    try expectSameOutputs(b.graph, after)
  }

  @Test(arguments: [false, true])
  func batchNormIntoMatMul(withAdd: Bool) throws {
    var b = GraphBuilder(seed: 5)
    b.input("a", [4, 5])
    b.random("w", [5, 6])
    b.node("MatMul", ["a", "w"], ["m"], name: "mm", dims: [[4, 6]])
    var x = "m"
    if withAdd {
      b.random("bias", [6])
      b.node("Add", ["bias", "m"], ["ab"], name: "add", dims: [[4, 6]])
      x = "ab"
    }
    addBatchNorm(&b, x, "y", channels: 6, dims: [4, 6])
    b.output("y")
    let after = try runPasses([FoldBatchNorm(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["MatMul", "Add"])
    #expect(!after.nodes.contains { $0.opType == "BatchNormalization" })
    try expectSameOutputs(b.graph, after)
  }

  // MARK: Activation fusion

  static let activations: [(String, [Attribute], [String])] = [
    ("Relu", [], []),
    ("LeakyRelu", [attr("alpha", Float(0.15))], []),
    ("HardSigmoid", [attr("alpha", Float(0.3)), attr("beta", Float(0.4))], []),
    ("HardSwish", [], []),
    ("Sigmoid", [], []),
    ("Tanh", [], []),
    ("Elu", [attr("alpha", Float(0.8))], []),
    ("Selu", [], []),
    ("Softplus", [], []),
    ("Softsign", [], []),
    ("Gelu", [], []),
    ("Gelu", [attr("approximate", "tanh")], []),
    ("Clip", [], ["lo", "hi"]),
    ("Clip", [], ["", "hi"]),
    ("Clip", [], ["zero", ""]),
  ]

  /// Every activation on every producer; one onnxruntime call per producer.
  @Test(arguments: ["Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul", "Sum"])
  func activationFusesIntoProducer(producer: String) throws {
    var cases: [(String, Graph, Graph)] = []
    for activation in PassNumericTests.activations {
      let before = try activationGraph(activation, producer)
      let after = try runPasses([FuseActivation(), DeadCode()], before)
      #expect(after.nodes.map(\.opType) == [producer == "Sum" ? "Add" : producer], "\(activation.0) \(activation.2)")
      #expect(after.nodes.first?.int("graft.act") != nil)
      cases.append(("\(producer) + \(activation.0) \(activation.2)", before, after))
    }
    try expectSameOutputs(cases)
  }

  private func activationGraph(_ activation: (String, [Attribute], [String]), _ producer: String) throws -> Graph {
    var b = GraphBuilder(seed: 11)
    let dims: [Int]
    switch producer {
    case "Conv":
      b.input("x", [1, 3, 6, 6])
      b.random("w", [4, 3, 3, 3])
      b.random("b", [4])
      b.node("Conv", ["x", "w", "b"], ["p"], [attr("kernel_shape", [3, 3])], name: "conv", dims: [[1, 4, 4, 4]])
      dims = [1, 4, 4, 4]
    case "ConvTranspose":
      b.input("x", [1, 4, 3, 3])
      b.random("w", [4, 2, 2, 2])
      b.random("b", [4])
      b.node("ConvTranspose", ["x", "w", "b"], ["p"], [attr("kernel_shape", [2, 2]), attr("strides", [2, 2]), attr("group", Int64(2))],
             name: "deconv", dims: [[1, 4, 6, 6]])
      dims = [1, 4, 6, 6]
    case "Gemm":
      b.input("x", [3, 5])
      b.random("w", [5, 4])
      b.random("b", [4])
      b.node("Gemm", ["x", "w", "b"], ["p"], name: "gemm", dims: [[3, 4]])
      dims = [3, 4]
    case "MatMul":
      b.input("x", [2, 3, 5])
      b.random("w", [5, 4])
      b.node("MatMul", ["x", "w"], ["p"], name: "mm", dims: [[2, 3, 4]])
      dims = [2, 3, 4]
    default:
      b.input("x", [2, 3, 4])
      b.input("x2", [3, 1])
      b.node(producer, ["x", "x2"], ["p"], name: "bin", dims: [[2, 3, 4]])
      dims = [2, 3, 4]
    }
    b.constant("lo", .float32([], [-0.5]))
    b.constant("hi", .float32([], [0.75]))
    b.constant("zero", .float32([], [0]))
    var inputs = ["p"]
    if !activation.2.isEmpty { inputs += activation.2 }
    b.node(activation.0, inputs, ["y"], activation.1, name: "act", dims: [dims])
    b.output("y")
    return b.graph
  }

  @Test(arguments: [false, true])
  func siluAndHardSwishPatterns(hardSwish: Bool) throws {
    var b = GraphBuilder(seed: 13)
    b.input("x", [1, 3, 6, 6])
    b.random("w", [4, 3, 1, 1])
    b.node("Conv", ["x", "w"], ["c"], [attr("kernel_shape", [1, 1])], name: "conv", dims: [[1, 4, 6, 6]])
    if hardSwish {
      b.node("HardSigmoid", ["c"], ["g"], [attr("alpha", Float(1.0 / 6.0)), attr("beta", Float(0.5))], name: "gate", dims: [[1, 4, 6, 6]])
    } else {
      b.node("Sigmoid", ["c"], ["g"], name: "gate", dims: [[1, 4, 6, 6]])
    }
    b.node("Mul", ["g", "c"], ["y"], name: "mul", dims: [[1, 4, 6, 6]])
    b.output("y")
    let after = try runPasses([FuseActivation(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Conv"])
    #expect(after.nodes[0].int("graft.act") == (hardSwish ? 5 : 7))
    try expectSameOutputs(b.graph, after)
  }

  /// Paddle's hard_swish: `Mul(x, Clip(Add(x, 3), 0, 6)) / 6`, in its spellings.
  @Test(arguments: [(false, false, false), (true, false, false), (false, true, false), (false, false, true), (true, true, true)])
  func hardSwishArithmetic(mulBySixth: Bool, constantFirst: Bool, gateFirst: Bool) throws {
    var b = GraphBuilder(seed: 41)
    b.input("x", [1, 3, 6, 6])
    b.random("w", [4, 3, 1, 1])
    b.node("Conv", ["x", "w"], ["c"], [attr("kernel_shape", [1, 1])], name: "conv", dims: [[1, 4, 6, 6]])
    b.constant("three", .float32([], [3]))
    b.constant("zero", .float32([], [0]))
    b.constant("six", .float32([], [6]))
    b.constant("sixth", .float32([1], [Float(1.0 / 6.0)]))
    b.node("Add", constantFirst ? ["three", "c"] : ["c", "three"], ["t"], name: "add3", dims: [[1, 4, 6, 6]])
    b.node("Clip", ["t", "zero", "six"], ["g"], name: "clip", dims: [[1, 4, 6, 6]])
    b.node("Mul", gateFirst ? ["g", "c"] : ["c", "g"], ["m"], name: "mul", dims: [[1, 4, 6, 6]])
    if mulBySixth {
      b.node("Mul", ["m", "sixth"], ["y"], name: "scale", dims: [[1, 4, 6, 6]])
    } else {
      b.node("Div", ["m", "six"], ["y"], name: "div", dims: [[1, 4, 6, 6]])
    }
    b.output("y")
    let after = try runPasses([FuseActivation(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Conv"])
    #expect(after.nodes.first?.int("graft.act") == 5)
    try expectSameOutputs(b.graph, after)
  }

  @Test func hardSwishArithmeticOnAGraphInputBecomesHardSwish() throws {
    var b = GraphBuilder(seed: 43)
    b.input("x", [2, 8])
    b.constant("three", .float32([], [3]))
    b.constant("zero", .float32([], [0]))
    b.constant("six", .float32([], [6]))
    b.node("Add", ["x", "three"], ["t"], name: "add3", dims: [[2, 8]])
    b.node("Clip", ["t", "zero", "six"], ["g"], name: "clip", dims: [[2, 8]])
    b.node("Mul", ["x", "g"], ["m"], name: "mul", dims: [[2, 8]])
    b.node("Div", ["m", "six"], ["y"], name: "div", dims: [[2, 8]])
    b.output("y")
    let after = try runPasses([FuseActivation(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["HardSwish"])
    try expectSameOutputs(b.graph, after)
  }

  @Test func hardSwishArithmeticWithOtherConstantsStays() throws {
    var b = GraphBuilder(seed: 47)
    b.input("x", [2, 8])
    b.constant("three", .float32([], [2.5]))
    b.constant("zero", .float32([], [0]))
    b.constant("six", .float32([], [6]))
    b.node("Add", ["x", "three"], ["t"], name: "add3", dims: [[2, 8]])
    b.node("Clip", ["t", "zero", "six"], ["g"], name: "clip", dims: [[2, 8]])
    b.node("Mul", ["x", "g"], ["m"], name: "mul", dims: [[2, 8]])
    b.node("Div", ["m", "six"], ["y"], name: "div", dims: [[2, 8]])
    b.output("y")
    let after = try runPasses([FuseActivation(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Add", "Mul", "Div"])
    try expectSameOutputs(b.graph, after)
  }

  @Test func hardSwishPatternWithoutFusableProducerBecomesHardSwish() throws {
    var b = GraphBuilder(seed: 17)
    b.input("x", [2, 8])
    b.node("HardSigmoid", ["x"], ["g"], [attr("alpha", Float(1.0 / 6.0)), attr("beta", Float(0.5))], name: "gate", dims: [[2, 8]])
    b.node("Mul", ["x", "g"], ["y"], name: "mul", dims: [[2, 8]])
    b.output("y")
    let after = try runPasses([FuseActivation(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["HardSwish"])
    try expectSameOutputs(b.graph, after)
  }

  // MARK: Other fusions and folding

  /// Constant shapes: per-channel [1,M,1,1], [M,1,1], one element [1], scalar.
  @Test(arguments: ["Mul", "Add"], [[1, 4, 1, 1], [4, 1, 1], [1], []])
  func affineAfterConvFoldsIntoConv(op: String, cDims: [Int]) throws {
    var b = GraphBuilder(seed: 19)
    convInput(&b)
    b.random("k", cDims, 0.2, 2)
    b.node(op, ["c", "k"], ["y"], name: "affine", dims: [[1, 4, 8, 8]])
    b.output("y")
    let after = try runPasses([FuseOther(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Conv"])
    try expectSameOutputs(b.graph, after)
  }

  /// Paddle's ConvTranspose → Add(bias [1, C, 1, 1]) → BatchNormalization folds to one node.
  @Test(arguments: [1, 2])
  func convTransposeBiasAddThenBatchNorm(group: Int) throws {
    var b = GraphBuilder(seed: 31)
    b.input("x", [1, 4, 5, 5])
    b.random("w", [4, 6 / group, 2, 2])
    b.node("ConvTranspose", ["x", "w"], ["c"], [attr("kernel_shape", [2, 2]), attr("strides", [2, 2]), attr("group", Int64(group))],
           name: "deconv", dims: [[1, 6, 10, 10]])
    b.random("bias", [1, 6, 1, 1])
    b.node("Add", ["c", "bias"], ["a"], name: "bias_add", dims: [[1, 6, 10, 10]])
    addBatchNorm(&b, "a", "y", channels: 6, dims: [1, 6, 10, 10])
    b.output("y")
    let after = try runPasses([FoldBatchNorm(), FuseOther(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["ConvTranspose"])
    try expectSameOutputs(b.graph, after)
  }

  /// Caffe2's BatchNormalization → Mul(scale) → Add(shift) after a Concat folds into the BN.
  @Test func batchNormThenPerChannelMulAdd() throws {
    var b = GraphBuilder(seed: 37)
    b.input("x", [1, 4, 3, 3])
    addBatchNorm(&b, "x", "n", channels: 4, dims: [1, 4, 3, 3])
    b.random("k", [4, 1, 1])
    b.node("Mul", ["n", "k"], ["m"], name: "scale", dims: [[1, 4, 3, 3]])
    b.random("sh", [1, 4, 1, 1])
    b.node("Add", ["m", "sh"], ["y"], name: "shift", dims: [[1, 4, 3, 3]])
    b.output("y")
    let after = try runPasses([FuseOther(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["BatchNormalization"])
    try expectSameOutputs(b.graph, after)
  }

  @Test(arguments: ["Mul", "Add"])
  func affineWithConstantFirstFoldsIntoConv(op: String) throws {
    var b = GraphBuilder(seed: 53)
    convInput(&b)
    b.random("k", [1], 0.2, 2)
    b.node(op, ["k", "c"], ["y"], name: "affine", dims: [[1, 4, 8, 8]])
    b.output("y")
    let after = try runPasses([FuseOther(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Conv"])
    try expectSameOutputs(b.graph, after)
  }

  @Test func affineNotPerChannelStays() throws {
    var b = GraphBuilder(seed: 19)
    convInput(&b)
    b.random("k", [1, 1, 8, 1])
    b.node("Mul", ["c", "k"], ["y"], name: "affine", dims: [[1, 4, 8, 8]])
    b.output("y")
    let after = try runPasses([FuseOther()], b.graph)
    #expect(after.nodes.count == 2)
  }

  @Test(arguments: [([0, 2, 3, 1], [0, 3, 1, 2]), ([0, 2, 3, 1], [3, 2, 0, 1]), ([1, 0, 2, 3], [0, 1, 3, 2])] as [([Int64], [Int64])])
  func transposePairs(p1: [Int64], p2: [Int64]) throws {
    var b = GraphBuilder(seed: 23)
    let dims = [2, 3, 4, 5]
    b.input("x", dims)
    let d1 = p1.map { dims[Int($0)] }, d2 = p2.map { d1[Int($0)] }
    b.node("Transpose", ["x"], ["t1"], [attr("perm", p1)], name: "t1", dims: [d1])
    b.node("Transpose", ["t1"], ["y"], [attr("perm", p2)], name: "t2", dims: [d2])
    b.node("Neg", ["y"], ["z"], name: "neg", dims: [d2])
    b.output("z")
    let after = try runPasses([FuseOther(), RemoveIdentity(), DeadCode()], b.graph)
    #expect(after.nodes.count == (d2 == dims ? 1 : 2))
    try expectSameOutputs(b.graph, after)
  }

  @Test(arguments: ["Flatten", "Squeeze", "Unsqueeze"])
  func reshapeAfterAnotherReshapingOp(first: String) throws {
    var b = GraphBuilder(seed: 61)
    b.input("x", [2, 1, 3, 4])
    b.constant("axes", .int64([1], [1]))
    b.constant("s", .int64([2], [4, 6]))
    switch first {
    case "Flatten": b.node("Flatten", ["x"], ["f"], [attr("axis", Int64(2))], name: "first", dims: [[2, 12]])
    case "Squeeze": b.node("Squeeze", ["x", "axes"], ["f"], name: "first", dims: [[2, 3, 4]])
    default: b.node("Unsqueeze", ["x", "axes"], ["f"], name: "first", dims: [[2, 1, 1, 3, 4]])
    }
    b.node("Reshape", ["f", "s"], ["r"], name: "reshape", dims: [[4, 6]])
    b.node("Neg", ["r"], ["y"], name: "neg", dims: [[4, 6]])
    b.output("y")
    let after = try runPasses([FuseOther(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Reshape", "Neg"])
    try expectSameOutputs(b.graph, after)
  }

  @Test func reshapePairAndConstantOfShape() throws {
    var b = GraphBuilder(seed: 29)
    b.input("x", [2, 3, 4])
    b.constant("s1", .int64([2], [6, 4]))
    b.constant("s2", .int64([3], [4, -1, 3]))
    b.constant("ks", .int64([3], [4, 2, 3]))
    b.node("Reshape", ["x", "s1"], ["r1"], name: "r1", dims: [[6, 4]])
    b.node("Reshape", ["r1", "s2"], ["r2"], name: "r2", dims: [[4, 2, 3]])
    b.node("ConstantOfShape", ["ks"], ["k"], [Attribute("value", .tensor(.float32([1], [0.25])))], name: "cos", dims: [[4, 2, 3]])
    b.node("Add", ["r2", "k"], ["y"], name: "add", dims: [[4, 2, 3]])
    b.output("y")
    let after = try runPasses([ConstantFolding(), FuseOther(), DeadCode()], b.graph)
    #expect(after.nodes.map(\.opType) == ["Reshape", "Add"])
    try expectSameOutputs(b.graph, after)
  }
}
