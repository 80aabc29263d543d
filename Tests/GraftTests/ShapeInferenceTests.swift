import Testing
import GraftIR
import GraftPasses
import GraftTestSupport

// Hand-built graphs per op family; expected shapes follow ONNX's shape rules (structural facts).

private func infer(_ b: ShapeGraphBuilder, opset: Int64 = 17, shapes: [String: [Int]] = [:],
                   bindings: [String: Tensor] = [:]) throws -> Graph {
  var g = b.graph
  var ctx = PassContext(file: "model.onnx", opsets: [OpsetImport(domain: "", version: opset)],
                        inputShapes: shapes, bindings: bindings, checkInvariants: true)
  _ = try Canonicalize().run(&g, &ctx)
  try inferShapesAndFoldIfs(&g, &ctx)
  try g.checkInvariants(file: "model.onnx")
  return g
}

private func dims(_ g: Graph, _ v: String) -> [Int]? {
  (g.valueInfo[v] ?? g.type(of: v))?.shape?.concrete
}

private func errorText(_ body: () throws -> Void) -> String? {
  do { try body() } catch { return "\(error)" }
  return nil
}

@Suite struct ShapeInferenceTests {
  @Test func broadcastingElementwise() throws {
    var b = ShapeGraphBuilder()
    b.input("a", [2, 1, 4])
    b.input("b", [3, 1])
    let y = b.node("Add", ["a", "b"])
    let z = b.node("Less", [y, "b"])
    b.output(y, z)
    let g = try infer(b)
    #expect(dims(g, y) == [2, 3, 4])
    #expect(g.type(of: z)?.dtype == .bool)
  }

  @Test func broadcastMismatchNamesTheNode() throws {
    var b = ShapeGraphBuilder()
    b.input("a", [2, 3])
    b.input("b", [4])
    b.output(b.node("Mul", ["a", "b"]))
    let msg = errorText { _ = try infer(b) }
    #expect(msg == "model.onnx: node 'Mul_1' (Mul): shapes 2x3 and 4 do not broadcast (dim 1: 3 vs 4)")
  }

  @Test func convOutputSizes() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [1, 3, 224, 224])
    b.weight("w", [64, 3, 7, 7])
    let c1 = b.node("Conv", ["x", "w"], [intsAttr("strides", [2, 2]), intsAttr("pads", [3, 3, 3, 3])])
    b.input("x2", [1, 8, 225, 225])
    b.weight("w2", [16, 4, 3, 3])
    let c2 = b.node("Conv", ["x2", "w2"], [intAttr("group", 2), intsAttr("strides", [2, 2]), stringAttr("auto_pad", "SAME_UPPER")])
    b.input("x3", [1, 2, 10])
    b.weight("w3", [4, 2, 3])
    let c3 = b.node("Conv", ["x3", "w3"], [intsAttr("dilations", [2])])
    let c4 = b.node("Conv", ["x2", "w2"], [intAttr("group", 2), stringAttr("auto_pad", "VALID"), intsAttr("strides", [3, 3])])
    b.output(c1, c2, c3, c4)
    let g = try infer(b)
    #expect(dims(g, c1) == [1, 64, 112, 112])  // floor((224 + 6 - 7) / 2) + 1
    #expect(dims(g, c2) == [1, 16, 113, 113])  // ceil(225 / 2)
    #expect(dims(g, c3) == [1, 4, 6])          // 10 - (3 - 1) * 2
    #expect(dims(g, c4) == [1, 16, 75, 75])    // floor((225 - 3) / 3) + 1
  }

  @Test func convChannelMismatchIsReported() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [1, 3, 8, 8])
    b.weight("w", [4, 2, 3, 3])
    b.output(b.node("Conv", ["x", "w"]))
    let msg = errorText { _ = try infer(b) }
    #expect(msg == "model.onnx: node 'Conv_1' (Conv): input has 3 channels; weight expects 2 x group 1")
  }

  @Test func convTransposeOutputSizes() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [1, 8, 10, 10])
    b.weight("w", [8, 4, 3, 3])
    let y1 = b.node("ConvTranspose", ["x", "w"], [intsAttr("strides", [2, 2]), intsAttr("pads", [1, 1, 1, 1]),
                                                  intsAttr("output_padding", [1, 1]), intAttr("group", 2)])
    let y2 = b.node("ConvTranspose", ["x", "w"], [intsAttr("strides", [2, 2]), intsAttr("output_shape", [21, 21]),
                                                  intAttr("group", 2)])
    let y3 = b.node("ConvTranspose", ["x", "w"], [intsAttr("strides", [2, 2]), stringAttr("auto_pad", "SAME_UPPER"), intAttr("group", 2)])
    b.output(y1, y2, y3)
    let g = try infer(b)
    #expect(dims(g, y1) == [1, 8, 20, 20])  // 2 * 9 + 1 + 3 - 2
    #expect(dims(g, y2) == [1, 8, 21, 21])
    #expect(dims(g, y3) == [1, 8, 20, 20])
  }

  @Test func poolingCeilModeAndGlobal() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [1, 2, 5, 5])
    let p1 = b.node("MaxPool", ["x"], [intsAttr("kernel_shape", [2, 2]), intsAttr("strides", [2, 2]), intAttr("ceil_mode", 1)])
    let p2 = b.node("MaxPool", ["x"], [intsAttr("kernel_shape", [2, 2]), intsAttr("strides", [2, 2])])
    let p3 = b.node("AveragePool", ["x"], [intsAttr("kernel_shape", [3, 3]), intsAttr("pads", [1, 1, 1, 1])])
    let p4 = b.node("GlobalAveragePool", ["x"])
    // ceil_mode where the last window would start in the right padding: 4 -> k2 s2 pad (1,1)
    b.input("x4", [1, 1, 4, 4])
    let p5 = b.node("MaxPool", ["x4"], [intsAttr("kernel_shape", [2, 2]), intsAttr("strides", [2, 2]),
                                        intsAttr("pads", [1, 1, 1, 1]), intAttr("ceil_mode", 1)])
    b.output(p1, p2, p3, p4, p5)
    let g = try infer(b)
    #expect(dims(g, p1) == [1, 2, 3, 3])
    #expect(dims(g, p2) == [1, 2, 2, 2])
    #expect(dims(g, p3) == [1, 2, 5, 5])
    #expect(dims(g, p4) == [1, 2, 1, 1])
    #expect(dims(g, p5) == [1, 1, 3, 3])
  }

  @Test func gemmAndMatMul() throws {
    var b = ShapeGraphBuilder()
    b.input("a", [4, 3])
    b.weight("bw", [5, 3])
    let gm = b.node("Gemm", ["a", "bw"], [intAttr("transB", 1)])
    b.input("m1", [2, 1, 4, 3])
    b.input("m2", [5, 3, 6])
    let mm = b.node("MatMul", ["m1", "m2"])
    b.input("v", [3])
    b.input("m3", [3, 6])
    let mv = b.node("MatMul", ["v", "m3"])
    b.input("t", [2, 3, 4])
    b.input("v4", [4])
    let tv = b.node("MatMul", ["t", "v4"])
    b.output(gm, mm, mv, tv)
    let g = try infer(b)
    #expect(dims(g, gm) == [4, 5])
    #expect(dims(g, mm) == [2, 5, 4, 6])
    #expect(dims(g, mv) == [6])
    #expect(dims(g, tv) == [2, 3])
  }

  @Test func reshapeFlattenSqueezeUnsqueezeTranspose() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [2, 3, 4])
    let r1 = b.node("Reshape", ["x", b.ints("s1", [0, -1])])
    let r2 = b.node("Reshape", ["x", b.ints("s2", [-1, 2, 2])])
    b.input("x4", [2, 3, 4, 5])
    let f = b.node("Flatten", ["x4"], [intAttr("axis", 2)])
    b.input("y", [1, 3, 1, 5])
    let sq = b.node("Squeeze", ["y", b.ints("ax", [0, -2])])
    let sqAll = b.node("Squeeze", ["y"])
    let us = b.node("Unsqueeze", ["x", b.ints("ax2", [0, -1])])
    let tr = b.node("Transpose", ["x4"], [intsAttr("perm", [0, 2, 3, 1])])
    b.output(r1, r2, f, sq, sqAll, us, tr)
    let g = try infer(b)
    #expect(dims(g, r1) == [2, 12])
    #expect(dims(g, r2) == [6, 2, 2])
    #expect(dims(g, f) == [6, 20])
    #expect(dims(g, sq) == [3, 5])
    #expect(dims(g, sqAll) == [3, 5])
    #expect(dims(g, us) == [1, 2, 3, 4, 1])
    #expect(dims(g, tr) == [2, 4, 5, 3])
  }

  @Test func reshapeWithWrongCountFails() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [2, 3, 4])
    b.output(b.node("Reshape", ["x", b.ints("s", [5, -1])]))
    let msg = errorText { _ = try infer(b) }
    #expect(msg == "model.onnx: node 'Reshape_1' (Reshape): cannot reshape 2x3x4 (24 elements) to [5, -1]")
  }

  @Test func concatSplitSlicePad() throws {
    var b = ShapeGraphBuilder()
    b.input("a", [2, 3, 4])
    b.input("c", [2, 5, 4])
    let cat = b.node("Concat", ["a", "c"], [intAttr("axis", 1)])
    b.graph.nodes.append(Node(name: "split", opType: "Split", inputs: ["cat_in", b.ints("sp", [2, 6])],
                              outputs: ["s0", "s1"], attributes: [intAttr("axis", 1)]))
    b.graph.nodes[b.graph.nodes.count - 1].inputs[0] = cat
    b.graph.nodes.append(Node(name: "split3", opType: "Split", inputs: ["a"], outputs: ["e0", "e1"], attributes: [intAttr("axis", 2)]))
    b.input("v", [10, 6])
    // starts -1, ends -100, steps -2 on dim 10: indices 9, 7, 5, 3, 1.
    let sl = b.node("Slice", ["v", b.ints("st", [-1, 1]), b.ints("en", [-100, Int64.max]), b.ints("axs", [0, 1]), b.ints("stp", [-2, 2])])
    let pd = b.node("Pad", ["a", b.ints("pads", [0, 1, 2, 0, 0, 3])])
    b.output(cat, "s0", "s1", "e0", "e1", sl, pd)
    let g = try infer(b)
    #expect(dims(g, cat) == [2, 8, 4])
    #expect(dims(g, "s0") == [2, 2, 4])
    #expect(dims(g, "s1") == [2, 6, 4])
    #expect(dims(g, "e0") == [2, 3, 2])
    #expect(dims(g, "e1") == [2, 3, 2])
    #expect(dims(g, sl) == [5, 3])
    #expect(dims(g, pd) == [2, 4, 9])
  }

  @Test func gatherTileExpandWhere() throws {
    var b = ShapeGraphBuilder()
    b.input("d", [5, 4, 3])
    b.input("i", [2, 2], .int64)
    let ga = b.node("Gather", ["d", "i"], [intAttr("axis", 1)])
    let ti = b.node("Tile", ["d", b.ints("reps", [1, 2, 3])])
    b.input("e", [3, 1])
    let ex = b.node("Expand", ["e", b.ints("to", [2, 1, 6])])
    b.input("cond", [1, 6], .bool)
    let wh = b.node("Where", ["cond", ex, "e"])
    b.output(ga, ti, ex, wh)
    let g = try infer(b)
    #expect(dims(g, ga) == [5, 2, 2, 3])
    #expect(dims(g, ti) == [5, 8, 9])
    #expect(dims(g, ex) == [2, 3, 6])
    #expect(dims(g, wh) == [2, 3, 6])
  }

  @Test func resizeReduceArgMaxDepthToSpace() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [1, 3, 10, 10])
    b.graph.initializers.append(("scales", Tensor.float32([4], [1, 1, 2, 1.5])))
    let r1 = b.node("Resize", ["x", "", "scales"])
    let r2 = b.node("Resize", ["x", "", "", b.ints("sizes", [1, 3, 7, 9])])
    b.input("t", [2, 3, 4])
    let rd = b.node("ReduceMean", ["t", b.ints("rax", [1])], [intAttr("keepdims", 0)])
    let rk = b.node("ReduceSum", ["t"])
    let am = b.node("ArgMax", ["t"], [intAttr("axis", -1)])
    b.input("z", [1, 8, 2, 3])
    let ds = b.node("DepthToSpace", ["z"], [intAttr("blocksize", 2)])
    let sd = b.node("SpaceToDepth", ["x"], [intAttr("blocksize", 5)])
    b.output(r1, r2, rd, rk, am, ds, sd)
    let g = try infer(b)
    #expect(dims(g, r1) == [1, 3, 20, 15])
    #expect(dims(g, r2) == [1, 3, 7, 9])
    #expect(dims(g, rd) == [2, 4])
    #expect(dims(g, rk) == [1, 1, 1])
    #expect(dims(g, am) == [2, 3, 1])
    #expect(g.type(of: am)?.dtype == .int64)
    #expect(dims(g, ds) == [1, 2, 4, 6])
    #expect(dims(g, sd) == [1, 75, 2, 2])
  }

  @Test func recurrentOutputs() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [5, 2, 8])
    b.weight("w", [2, 64, 8])
    b.weight("r", [2, 64, 16])
    b.graph.nodes.append(Node(name: "lstm", opType: "LSTM", inputs: ["x", "w", "r"], outputs: ["y", "yh", "yc"],
                              attributes: [intAttr("hidden_size", 16), stringAttr("direction", "bidirectional")]))
    b.weight("gw", [1, 48, 8])
    b.weight("gr", [1, 48, 16])
    b.graph.nodes.append(Node(name: "gru", opType: "GRU", inputs: ["x", "gw", "gr"], outputs: ["gy", "gyh"],
                              attributes: [intAttr("hidden_size", 16)]))
    b.output("y", "yh", "yc", "gy", "gyh")
    let g = try infer(b)
    #expect(dims(g, "y") == [5, 2, 2, 16])
    #expect(dims(g, "yh") == [2, 2, 16])
    #expect(dims(g, "yc") == [2, 2, 16])
    #expect(dims(g, "gy") == [5, 1, 2, 16])
    #expect(dims(g, "gyh") == [1, 2, 16])
  }

  @Test func shapeArithmeticFoldsAway() throws {
    // The exporter pattern: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])).
    var b = ShapeGraphBuilder()
    b.input("x", [Dim.symbol("N"), .known(3), .known(4)])
    let sh = b.node("Shape", ["x"])
    let g0 = b.node("Gather", [sh, b.ints("zero", [0], scalar: true)], [intAttr("axis", 0)])
    let un = b.node("Unsqueeze", [g0, b.ints("ax", [0])])
    let cat = b.node("Concat", [un, b.ints("m1", [-1])], [intAttr("axis", 0)])
    let rs = b.node("Reshape", ["x", cat])
    let n = b.node("Size", ["x"])
    let fill = b.node("ConstantOfShape", [b.ints("cs", [2, 3])], [Attribute("value", .tensor(Tensor.int64([1], [7])))])
    let rg = b.node("Range", [b.ints("r0", [1], scalar: true), b.ints("r1", [10], scalar: true), b.ints("r2", [3], scalar: true)])
    b.output(rs, n, fill, rg)
    let g = try infer(b, shapes: ["x": [2, 3, 4]])
    #expect(g.nodes.map(\.opType) == ["Reshape"])
    #expect(dims(g, rs) == [2, 12])
    #expect(g.initializer(cat)?.integers() == [2, -1])
    #expect(g.initializer(n)?.integers() == [24])
    #expect(g.initializer(fill)?.integers() == [7, 7, 7, 7, 7, 7])
    #expect(g.initializer(fill)?.dims == [2, 3])
    #expect(g.initializer(rg)?.integers() == [1, 4, 7])
  }

  @Test func symbolicDimsStayUntilBound() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [Dim.symbol("N"), .known(3)])
    b.output(b.node("Relu", ["x"]))
    let g = try infer(b)
    #expect(g.outputs[0].type?.shape == [Dim.symbol("N"), .known(3)])
    let ctx = PassContext(file: "model.onnx")
    let msg = errorText { try requireConcreteShapes(g, ctx) }
    #expect(msg == "model.onnx: input 'x' has unbound dim 'N'; bind it with --input-shape x=...")
  }

  @Test(arguments: [
    (["x": [2, 4]], "model.onnx: tensor 'x': dim 1 is 3 in the model; --input-shape gives 4"),
    (["x": [2, 3, 1]], "model.onnx: tensor 'x': input is declared Nx3 (rank 2); --input-shape gives rank 3"),
    (["y": [1]], "model.onnx: tensor 'y': --input-shape names no graph input (inputs: 'x')"),
  ])
  func badInputShapeBindings(shapes: [String: [Int]], message: String) throws {
    var b = ShapeGraphBuilder()
    b.input("x", [Dim.symbol("N"), .known(3)])
    b.output(b.node("Relu", ["x"]))
    let msg = errorText { _ = try infer(b, shapes: shapes) }
    #expect(msg == message)
  }

  @Test func foldIfTakesTheBoundBranch() throws {
    // If(sr == 16000) then x + 1 else x - 1, with sr bound.
    var thenG = Graph(name: "then")
    thenG.initializers = [("one_t", Tensor.float32([], [1]))]
    thenG.nodes = [Node(name: "t_add", opType: "Add", inputs: ["x", "one_t"], outputs: ["t_out"])]
    thenG.outputs = [ValueInfo(name: "t_out", type: nil)]
    var elseG = Graph(name: "else")
    elseG.nodes = [Node(name: "e_sub", opType: "Sub", inputs: ["x", "x"], outputs: ["e_out"])]
    elseG.outputs = [ValueInfo(name: "e_out", type: nil)]
    var b = ShapeGraphBuilder()
    b.input("x", [2, 3])
    b.input("sr", [Int](), .int64)
    let eq = b.node("Equal", ["sr", b.ints("k16", [16000], scalar: true)])
    b.graph.nodes.append(Node(name: "if", opType: "If", inputs: [eq], outputs: ["y"],
                              attributes: [Attribute("then_branch", .graph(thenG)), Attribute("else_branch", .graph(elseG))]))
    b.output("y")
    let g = try infer(b, bindings: ["sr": Tensor.int64([], [16000])])
    #expect(g.nodes.map(\.opType) == ["Add"])
    #expect(g.nodes[0].outputs == ["y"])
    #expect(dims(g, "y") == [2, 3])
    #expect(g.runtimeInputs.map(\.name) == ["x"])
    let g8 = try infer(b, bindings: ["sr": Tensor.int64([], [8000])])
    #expect(g8.nodes.map(\.opType) == ["Sub"])
    // Unbound: the If stays and is listed as unsupported.
    let gu = try infer(b)
    #expect(gu.nodes.map(\.opType) == ["Equal", "If"])
    let lines = unsupportedOps(gu, PassContext(file: "model.onnx"))
    #expect(lines == ["node 'if' (If, domain 'ai.onnx', opset 17): condition is not constant; it depends on 'sr': bind with --bind sr=VALUE"])
  }

  @Test func unsupportedOpsAreAllListed() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [2, 3])
    let a = b.node("Relu", ["x"])
    let c = b.node("Einsum", [a], [stringAttr("equation", "ij->ji")])
    b.graph.nodes.append(Node(name: "custom", opType: "FusedThing", domain: "com.example", inputs: [c], outputs: ["z"]))
    b.output("z")
    var g = b.graph
    var ctx = PassContext(file: "model.onnx", opsets: [OpsetImport(domain: "", version: 13), OpsetImport(domain: "com.example", version: 2)])
    try inferShapesAndFoldIfs(&g, &ctx)
    #expect(unsupportedOps(g, ctx) == [
      "node 'Einsum_2' (Einsum, domain 'ai.onnx', opset 13): op is not supported",
      "node 'custom' (FusedThing, domain 'com.example', opset 2): op is not supported",
    ])
  }

  @Test func canonicalizeOldForms() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [2, 3, 4])
    let sl = b.node("Slice", ["x"], [intsAttr("starts", [1]), intsAttr("ends", [3]), intsAttr("axes", [1])])
    let us = b.node("Unsqueeze", [sl], [intsAttr("axes", [0])])
    let sm = b.node("Softmax", ["x"], [intAttr("axis", 1)])
    let cl = b.node("Clip", ["x"], [floatAttr("min", 0), floatAttr("max", 6)])
    b.input("img", [1, 2, 3, 4])
    b.graph.initializers.append(("sc", Tensor.float32([4], [1, 1, 2, 2])))
    let up = b.node("Upsample", ["img", "sc"], [stringAttr("mode", "nearest")])
    let dr = b.node("Dropout", [cl], [floatAttr("ratio", 0.5)])
    let rm = b.node("ReduceMean", ["x"], [intsAttr("axes", [2])])
    b.output(us, sm, up, dr, rm)
    let g = try infer(b, opset: 9)
    let ops = g.nodes.map(\.opType)
    #expect(!ops.contains("Upsample") && !ops.contains("Dropout") && !ops.contains("Shape"))
    #expect(ops.filter { $0 == "Softmax" }.count == 1 && ops.contains("Flatten") && ops.contains("Reshape"))
    #expect(dims(g, us) == [1, 2, 2, 4])
    #expect(dims(g, sm) == [2, 3, 4])
    #expect(dims(g, up) == [1, 2, 6, 8])
    #expect(dims(g, dr) == [2, 3, 4])
    #expect(dims(g, rm) == [2, 3, 1])
    let resize = try #require(g.nodes.first { $0.opType == "Resize" })
    #expect(resize.string("coordinate_transformation_mode") == "asymmetric")
    let clip = try #require(g.nodes.first { $0.opType == "Clip" })
    #expect(clip.inputs.count == 3 && clip.attributes.isEmpty)
    #expect(unsupportedOps(g, PassContext(file: "m.onnx", opsets: [OpsetImport(domain: "", version: 9)])).isEmpty)
  }

  @Test func legacyBroadcastIsAligned() throws {
    var b = ShapeGraphBuilder()
    b.input("x", [2, 3, 4, 5])
    b.weight("bias", [3])
    let y = b.node("Add", ["x", "bias"], [intAttr("broadcast", 1), intAttr("axis", 1)])
    b.output(y)
    let g = try infer(b, opset: 6)
    #expect(dims(g, y) == [2, 3, 4, 5])
    let add = try #require(g.nodes.first { $0.opType == "Add" })
    #expect(add.int("broadcast") == nil)
    // The aligned bias is [3, 1, 1].
    #expect(dims(g, add.inputs[1]) == [3, 1, 1])
  }
}

/// One bad graph per row; built by name so the table stays readable.
private func badGraph(_ name: String) -> ShapeGraphBuilder {
  var b = ShapeGraphBuilder()
  switch name {
  case "conv-rank":
    b.input("x", [1, 3, 8]); b.weight("w", [4, 3, 3, 3]); b.output(b.node("Conv", ["x", "w"]))
  case "conv-rank2":
    b.input("x", [3, 8]); b.weight("w", [4, 3, 3]); b.output(b.node("Conv", ["x", "w"]))
  case "conv-kernel":
    b.input("x", [1, 3, 8, 8]); b.weight("w", [4, 3, 1, 1])
    b.output(b.node("Conv", ["x", "w"], [intsAttr("kernel_shape", [1 << 40, 1]), intsAttr("dilations", [1 << 30, 1])]))
  case "gemm-inner":
    b.input("a", [2, 3]); b.input("b", [4, 5]); b.output(b.node("Gemm", ["a", "b"]))
  case "tile-neg":
    b.input("x", [2, 3]); b.output(b.node("Tile", ["x", b.ints("r", [-1, 1])]))
  case "expand-huge":
    b.input("x", [1]); b.output(b.node("Expand", ["x", b.ints("s", [1 << 50])]))
  case "resize-nan":
    b.input("x", [1, 1, 4, 4]); b.graph.initializers.append(("sc", Tensor.float32([4], [1, 1, .nan, 2])))
    b.output(b.node("Resize", ["x", "", "sc"]))
  case "gather-oob":
    b.ints("d", [1, 2, 3]); b.output(b.node("Gather", ["d", b.ints("i", [5])]))
  case "concat-mismatch":
    b.input("a", [2, 3]); b.input("c", [4, 5]); b.output(b.node("Concat", ["a", "c"], [intAttr("axis", 0)]))
  case "pool-kernel":
    b.input("x", [1, 1, 4, 4]); b.output(b.node("MaxPool", ["x"]))
  case "squeeze-non1":
    b.input("x", [2, 3]); b.output(b.node("Squeeze", ["x", b.ints("a", [1])]))
  case "slice-step0":
    b.input("x", [4]); b.output(b.node("Slice", ["x", b.ints("s", [0]), b.ints("e", [4]), b.ints("a", [0]), b.ints("t", [0])]))
  case "reshape-two-minus1":
    b.input("x", [4]); b.output(b.node("Reshape", ["x", b.ints("s", [-1, -1])]))
  case "transpose-perm":
    b.input("x", [2, 3]); b.output(b.node("Transpose", ["x"], [intsAttr("perm", [0, 0])]))
  case "axis-range":
    b.input("x", [2, 3]); b.output(b.node("Softmax", ["x"], [intAttr("axis", 5)]))
  default:
    break
  }
  return b
}

extension ShapeInferenceTests {
  @Test(arguments: [
    ("conv-rank", "model.onnx: node 'Conv_1' (Conv): weight 'w' has rank 4; input has rank 3"),
    ("conv-rank2", "model.onnx: node 'Conv_1' (Conv): input 'x' has rank 2; Conv needs rank 3 or more"),
    ("conv-kernel", "model.onnx: node 'Conv_1' (Conv): kernel_shape [1099511627776, 1] must be positive"),
    ("gemm-inner", "model.onnx: node 'Gemm_1' (Gemm): inner dims disagree: A is 2x3, B is 4x5"),
    ("tile-neg", "model.onnx: node 'Tile_1' (Tile): repeats [-1, 1] has a negative entry"),
    ("expand-huge", "model.onnx: node 'Expand_1' (Expand): tensor 'expand1': output shape 1125899906842624 has dim 1125899906842624 out of range 0...1099511627776"),
    ("resize-nan", "model.onnx: node 'Resize_1' (Resize): scales [1.0, 1.0, nan, 2.0] must be positive and finite"),
    ("gather-oob", "model.onnx: node 'Gather_1' (Gather): index 5 is out of range for dim 0 of size 3"),
    ("concat-mismatch", "model.onnx: node 'Concat_1' (Concat): inputs disagree in dim 1 (2x3 vs 4x5)"),
    ("pool-kernel", "model.onnx: node 'MaxPool_1' (MaxPool): kernel_shape is missing or does not have 2 entries"),
    ("squeeze-non1", "model.onnx: node 'Squeeze_1' (Squeeze): cannot squeeze axis 1 of shape 2x3 (size 3)"),
    ("slice-step0", "model.onnx: node 'Slice_1' (Slice): slice step is 0"),
    ("reshape-two-minus1", "model.onnx: node 'Reshape_1' (Reshape): shape [-1, -1] has more than one -1"),
    ("transpose-perm", "model.onnx: node 'Transpose_1' (Transpose): perm [0, 0] is not a permutation of rank 2"),
    ("axis-range", "model.onnx: node 'Softmax_1' (Softmax): axis 5 is out of range for rank 2"),
  ])
  func badInputIsOneLineNamingTheNode(name: String, message: String) {
    let msg = errorText { _ = try infer(badGraph(name)) }
    #expect(msg == message)
  }
}

extension ShapeInferenceTests {
  /// Branch names that clash with outer names are renamed; nested Ifs see the new names and
  /// fold in the same pipeline run; branch outputs that are outer values become Identity.
  @Test func foldIfRenamesClashesAndFoldsNestedIfs() throws {
    // inner If (cond k): then -> Neg(t), else -> Abs(t), where t is defined by the outer branch.
    var innerThen = Graph(name: "inner_then")
    innerThen.nodes = [Node(name: "neg", opType: "Neg", inputs: ["t"], outputs: ["n_out"])]
    innerThen.outputs = [ValueInfo(name: "n_out", type: nil)]
    var innerElse = Graph(name: "inner_else")
    innerElse.nodes = [Node(name: "abs", opType: "Abs", inputs: ["t"], outputs: ["a_out"])]
    innerElse.outputs = [ValueInfo(name: "a_out", type: nil)]
    // outer then: t = Relu(x) (clashes with the outer 't'); inner If; outputs (inner, x).
    var thenG = Graph(name: "then")
    thenG.nodes = [
      Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["t"]),
      Node(name: "inner", opType: "If", inputs: ["k"], outputs: ["i_out"],
           attributes: [Attribute("then_branch", .graph(innerThen)), Attribute("else_branch", .graph(innerElse))]),
    ]
    thenG.outputs = [ValueInfo(name: "i_out", type: nil), ValueInfo(name: "x", type: nil)]
    var elseG = Graph(name: "else")
    elseG.nodes = [Node(name: "sig", opType: "Sigmoid", inputs: ["x"], outputs: ["s_out"])]
    elseG.outputs = [ValueInfo(name: "s_out", type: nil), ValueInfo(name: "s_out", type: nil)]
    var b = ShapeGraphBuilder()
    b.input("x", [2, 3])
    b.graph.initializers.append(("c", Tensor(dtype: .bool, dims: [], values: [UInt8(1)])))
    b.graph.initializers.append(("k", Tensor(dtype: .bool, dims: [], values: [UInt8(0)])))
    b.node("Tanh", ["x"], outputs: ["t"])
    b.graph.nodes.append(Node(name: "outer", opType: "If", inputs: ["c"], outputs: ["y", "z"],
                              attributes: [Attribute("then_branch", .graph(thenG)), Attribute("else_branch", .graph(elseG))]))
    b.output("t", "y", "z")
    let g = try infer(b)
    #expect(g.nodes.map(\.opType) == ["Tanh", "Relu", "Abs", "Identity"])
    let relu = g.nodes[1], abs = g.nodes[2], id = g.nodes[3]
    #expect(relu.outputs[0] != "t")
    #expect(abs.inputs == relu.outputs)
    #expect(abs.outputs == ["y"])
    #expect(id.inputs == ["x"] && id.outputs == ["z"])
    #expect(dims(g, "y") == [2, 3] && dims(g, "z") == [2, 3] && dims(g, "t") == [2, 3])
  }
}

extension ShapeInferenceTests {
  /// A branch that cannot be inferred (here: invalid at these shapes) leaves the If in place,
  /// typed from the other branch, and the pass still reaches its fixpoint.
  @Test func failingBranchDoesNotBreakTheFixpoint() throws {
    var thenG = Graph(name: "then")
    thenG.nodes = [Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["t_out"])]
    thenG.outputs = [ValueInfo(name: "t_out", type: nil)]
    var elseG = Graph(name: "else")
    elseG.initializers = [("bad_shape", Tensor.int64([1], [5])), ("axes", Tensor.int64([1], [0]))]
    elseG.nodes = [
      Node(name: "u", opType: "Unsqueeze", inputs: ["x", "axes"], outputs: ["folded_in_branch"]),
      Node(name: "bad", opType: "Reshape", inputs: ["x", "bad_shape"], outputs: ["e_out"]),
    ]
    elseG.outputs = [ValueInfo(name: "e_out", type: nil)]
    var b = ShapeGraphBuilder()
    b.input("x", [2, 3])
    b.input("flag", [Int](), .bool)
    b.graph.nodes.append(Node(name: "if", opType: "If", inputs: ["flag"], outputs: ["y"],
                              attributes: [Attribute("then_branch", .graph(thenG)), Attribute("else_branch", .graph(elseG))]))
    b.output("y")
    var g = b.graph
    var ctx = PassContext(file: "model.onnx")
    #expect(try ShapeInference().run(&g, &ctx) == true)
    #expect(try ShapeInference().run(&g, &ctx) == false)
    #expect(dims(g, "y") == [2, 3])
    #expect(g.nodes.map(\.opType) == ["If"])
  }
}
