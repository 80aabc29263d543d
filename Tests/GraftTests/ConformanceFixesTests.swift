import Foundation
import Testing
import GraftBackend
import GraftIR

/// The ONNX forms the conformance fixes added (scripts/conformance.py runs ONNX's own cases for
/// them): each graph is compiled by Graft and run by the C runtime, then compared with
/// onnxruntime on the same exported graph. Tolerance: the conformance runner's rtol 1e-3 with a
/// small atol; exact equality for bool outputs.
@Suite(.serialized) struct ConformanceFixesTests {
  typealias S = BackendSupport

  static func expectMatch(_ g: Graph, _ inputs: [String: Tensor], opset: Int64,
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
    let mine = try S.runGraft(g, inputs, opset: opset)
    let ref = try S.runReference(g, inputs, opset: opset)
    #expect(mine.map(\.name) == g.outputs.map(\.name), sourceLocation: sourceLocation)
    #expect(mine.count == ref.count, sourceLocation: sourceLocation)
    for (m, r) in zip(mine, ref) {
      if r.tensor.dtype == .bool {
        #expect(m.tensor.dims == r.tensor.dims && Array(m.tensor.storage.bytes) == Array(r.tensor.storage.bytes),
                "\(m.name): bool output differs", sourceLocation: sourceLocation)
      } else {
        #expect(Agreement.within(m.tensor, r.tensor, rtol: 1e-3, atol: 1e-5),
                "\(m.name): \(Agreement.measure(m.tensor, r.tensor))", sourceLocation: sourceLocation)
      }
    }
  }

  /// LayerNormalization with its optional Mean and InvStdDev outputs (shape dims[:axis] + 1s).
  @Test(arguments: [1, -1]) func layerNormStatistics(axis: Int) throws {
    var g = Graph(name: "ln")
    g.inputs = [S.input("x", .float32, [2, 3, 4])]
    g.outputs = [S.output("y"), S.output("mean"), S.output("inv_std")]
    let normDims = axis == 1 ? [3, 4] : [4]
    g.initializers = [("scale", S.random(normDims, seed: 2)), ("bias", S.random(normDims, seed: 3))]
    g.nodes = [Node(name: "ln", opType: "LayerNormalization", inputs: ["x", "scale", "bias"],
                    outputs: ["y", "mean", "inv_std"],
                    attributes: [Attribute("axis", .int(Int64(axis))), Attribute("epsilon", .float(1e-3))])]
    try Self.expectMatch(g, ["x": S.random([2, 3, 4], seed: 1)], opset: 17)
  }

  /// Resize with `sizes` and keep_aspect_ratio_policy: one common scale on the resized axes.
  @Test(arguments: ["not_larger", "not_smaller"]) func resizeKeepAspectRatio(policy: String) throws {
    var g = Graph(name: "resize")
    g.inputs = [S.input("x", .float32, [1, 1, 4, 6])]
    g.outputs = [S.output("y")]
    g.initializers = [("sizes", .int64([2], [7, 8]))]
    g.nodes = [Node(name: "rs", opType: "Resize", inputs: ["x", "", "", "sizes"], outputs: ["y"],
                    attributes: [Attribute("axes", .ints([2, 3])),
                                 Attribute("keep_aspect_ratio_policy", .string(Array(policy.utf8))),
                                 Attribute("mode", .string(Array("nearest".utf8)))])]
    try Self.expectMatch(g, ["x": S.random([1, 1, 4, 6], seed: 4)], opset: 18)
  }

  /// ConvTranspose whose output_shape is larger than the unpadded result (negative total pad).
  @Test func convTransposeOutputShape() throws {
    var g = Graph(name: "ct")
    g.inputs = [S.input("x", .float32, [1, 1, 3, 3])]
    g.outputs = [S.output("y")]
    g.initializers = [("w", S.random([1, 2, 3, 3], seed: 6))]
    g.nodes = [Node(name: "ct", opType: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"],
                    attributes: [Attribute("strides", .ints([3, 2])), Attribute("output_shape", .ints([10, 8]))])]
    try Self.expectMatch(g, ["x": S.random([1, 1, 3, 3], seed: 5)], opset: 17)
  }

  /// Pow with an int64 exponent fed at run time (cast to the float base's type).
  @Test func powIntegerExponent() throws {
    var g = Graph(name: "pow")
    g.inputs = [S.input("x", .float32, [6]), S.input("e", .int64, [6])]
    g.outputs = [S.output("p")]
    g.nodes = [Node(name: "pow", opType: "Pow", inputs: ["x", "e"], outputs: ["p"])]
    try Self.expectMatch(g, ["x": .float32([6], [-4.3, 7.2, 5, 4.3, -7.2, 8]), "e": .int64([6], [2, 3, 0, -1, 1, 2])],
                         opset: 17)
  }

  /// Float Mod with fmod=0 takes the divisor's sign. onnxruntime refuses this form, so the
  /// expected values are ONNX's own (node test test_mod_float32_mixed_sign_fmod_0).
  @Test func floatModTakesDivisorSign() throws {
    var g = Graph(name: "mod")
    g.inputs = [S.input("x", .float32, [6]), S.input("d", .float32, [6])]
    g.outputs = [S.output("m")]
    g.nodes = [Node(name: "mod", opType: "Mod", inputs: ["x", "d"], outputs: ["m"])]
    let mine = try S.runGraft(g, ["x": .float32([6], [-4.3, 7.2, 5, 4.3, -7.2, 8]),
                                  "d": .float32([6], [2.1, -3.4, 8, -2.1, 3.4, 5])], opset: 17)
    let expected = Tensor.float32([6], [1.9999995, -3.0000005, 5, -1.9999995, 3.0000005, 3])
    #expect(mine.count == 1)
    #expect(Agreement.within(mine[0].tensor, expected, rtol: 1e-3, atol: 1e-7), "\(Agreement.measure(mine[0].tensor, expected))")
  }

  /// Dropout in inference with its mask output used: y = x, mask all true.
  @Test func dropoutMask() throws {
    var g = Graph(name: "drop")
    g.inputs = [S.input("x", .float32, [2, 5])]
    g.outputs = [S.output("y"), S.output("mask", .bool)]
    g.nodes = [Node(name: "drop", opType: "Dropout", inputs: ["x"], outputs: ["y", "mask"])]
    try Self.expectMatch(g, ["x": S.random([2, 5], seed: 7)], opset: 13)
  }

  /// Training-mode BatchNormalization: batch statistics for y, updated running mean/var.
  @Test func trainingBatchNorm() throws {
    var g = Graph(name: "bn")
    g.inputs = [S.input("x", .float32, [2, 3, 4, 5])]
    g.outputs = [S.output("y"), S.output("running_mean"), S.output("running_var")]
    g.initializers = [("s", S.random([3], seed: 13)), ("b", S.random([3], seed: 14)),
                      ("m", S.random([3], seed: 15)), ("v", .float32([3], [0.5, 1, 2]))]
    g.nodes = [Node(name: "bn", opType: "BatchNormalization", inputs: ["x", "s", "b", "m", "v"],
                    outputs: ["y", "running_mean", "running_var"],
                    attributes: [Attribute("training_mode", .int(1)), Attribute("momentum", .float(0.8)),
                                 Attribute("epsilon", .float(1e-2))])]
    try Self.expectMatch(g, ["x": S.random([2, 3, 4, 5], seed: 16)], opset: 15)
  }

  /// LSTM and GRU with layout=1 (batch-major X, states and outputs). onnxruntime refuses
  /// layout=1, so its reference is the layout=0 op between explicit Transposes (ONNX's
  /// definition of the batch-major layout).
  @Test(arguments: ["LSTM", "GRU"]) func batchMajorRecurrent(op: String) throws {
    let (batch, seq, inSize, hidden) = (3, 4, 2, 5)
    let gates = op == "LSTM" ? 4 : 3
    var g = Graph(name: "rnn")
    g.inputs = [S.input("x", .float32, [batch, seq, inSize]), S.input("h0", .float32, [batch, 1, hidden])]
    g.outputs = [S.output("y"), S.output("yh")]
    g.initializers = [("w", S.random([1, gates * hidden, inSize], seed: 8)),
                      ("r", S.random([1, gates * hidden, hidden], seed: 9)),
                      ("b", S.random([1, 2 * gates * hidden], seed: 10))]
    let hs = Attribute("hidden_size", .int(Int64(hidden)))
    g.nodes = [Node(name: "rnn", opType: op, inputs: ["x", "w", "r", "b", "", "h0"], outputs: ["y", "yh"],
                    attributes: [hs, Attribute("layout", .int(1))])]
    var ref = g
    func t(_ i: String, _ o: String, _ perm: [Int64]) -> Node {
      Node(name: "t_" + o, opType: "Transpose", inputs: [i], outputs: [o], attributes: [Attribute("perm", .ints(perm))])
    }
    ref.nodes = [t("x", "xs", [1, 0, 2]), t("h0", "h0s", [1, 0, 2]),
                 Node(name: "rnn", opType: op, inputs: ["xs", "w", "r", "b", "", "h0s"], outputs: ["ys", "yhs"], attributes: [hs]),
                 t("ys", "y", [2, 0, 1, 3]), t("yhs", "yh", [1, 0, 2])]
    let ins = ["x": S.random([batch, seq, inSize], seed: 11), "h0": S.random([batch, 1, hidden], seed: 12)]
    let mine = try S.runGraft(g, ins, opset: 14)
    let expected = try S.runReference(ref, ins, opset: 14)
    #expect(mine.map(\.name) == ["y", "yh"] && expected.count == 2)
    for (m, e) in zip(mine, expected) {
      #expect(Agreement.within(m.tensor, e.tensor, rtol: 1e-3, atol: 1e-5), "\(m.name): \(Agreement.measure(m.tensor, e.tensor))")
    }
  }
}
