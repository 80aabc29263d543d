import Testing
import GraftIR
import GraftKernels
import GraftRuntime

/// Lowering resolves ONNX semantics into explicit kernel attributes. Expected values are worked
/// out from the ONNX operator specification by hand (pads arithmetic, clamping rules).
@Suite struct LoweringTests {
  /// One-node graph with typed values.
  static func lower(_ node: Node, types: [String: TensorType], inits: [(String, Tensor)] = [],
                    opset: Int64 = 17) throws -> LoweredNode {
    var g = Graph(nodes: [node], initializers: inits, valueInfo: types)
    g.inputs = []
    return try Lowering.lower(node: node, graph: g, file: "model.onnx", opset: opset)
  }

  static func f(_ dims: [Int]) -> TensorType { TensorType(.float32, Shape(dims)) }
  static func key(_ k: graft_attr_key) -> graft_attr_key { k }

  @Test func convSameUpperPads() throws {
    for (k, upper, lower) in [(3, [Int64(1), 1, 1, 1], [Int64(1), 1, 1, 1]), (4, [1, 1, 2, 2], [2, 2, 1, 1])] {
      for mode in ["SAME_UPPER", "SAME_LOWER"] {
        let n = Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["y"],
                     attributes: [Attribute("auto_pad", .string(Array(mode.utf8))), Attribute("strides", .ints([2, 2]))])
        let l = try Self.lower(n, types: ["x": Self.f([1, 3, 7, 7]), "w": Self.f([4, 3, k, k]), "y": Self.f([1, 4, 4, 4])])
        #expect(l.kernel == UInt32(GRAFT_KERNEL_conv_f32))
        #expect(l.attr(GRAFT_ATTR_PADS) == .ints(mode == "SAME_UPPER" ? upper : lower))
        #expect(l.attr(GRAFT_ATTR_KERNEL_SHAPE) == .ints([Int64(k), Int64(k)]))
        #expect(l.attr(GRAFT_ATTR_DILATIONS) == .ints([1, 1]))
        #expect(l.attr(GRAFT_ATTR_GROUP) == .int(1))
      }
    }
  }

  @Test func fusedActivationAttributes() throws {
    let n = Node(name: "c", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"],
                 attributes: [Attribute("graft.act", .int(Int64(GRAFT_ACT_CLIP.rawValue))),
                              Attribute("graft.act_alpha", .float(0)), Attribute("graft.act_beta", .float(6))])
    let l = try Self.lower(n, types: ["x": Self.f([1, 3, 5, 5]), "w": Self.f([4, 3, 1, 1]), "b": Self.f([4]),
                                      "y": Self.f([1, 4, 5, 5])])
    #expect(l.inputs == ["x", "w", "b"])
    #expect(l.attr(GRAFT_ATTR_ACT) == .int(Int64(GRAFT_ACT_CLIP.rawValue)))
    #expect(l.attr(GRAFT_ATTR_ACT_BETA) == .float(6))
    #expect(l.attr(GRAFT_ATTR_PADS) == .ints([0, 0, 0, 0]))
  }

  @Test func gemmDefaults() throws {
    let n = Node(opType: "Gemm", inputs: ["a", "b"], outputs: ["y"], attributes: [Attribute("transB", .int(1))])
    let l = try Self.lower(n, types: ["a": Self.f([2, 3]), "b": Self.f([4, 3]), "y": Self.f([2, 4])])
    #expect(l.kernel == UInt32(GRAFT_KERNEL_gemm_f32))
    #expect(l.attr(GRAFT_ATTR_ALPHA) == .float(1) && l.attr(GRAFT_ATTR_BETA) == .float(1))
    #expect(l.attr(GRAFT_ATTR_TRANS_A) == .int(0) && l.attr(GRAFT_ATTR_TRANS_B) == .int(1))
  }

  @Test func sliceClamping() throws {
    // x[7:] and x[::-1] on a length-10 axis with INT64 sentinels; axis -1 normalized.
    let cases: [([Int64], [Int64], [Int64], Int64, Int64)] = [
      ([-3], [Int64.max], [1], 7, 10),
      ([-1], [Int64.min], [-1], 9, -1),
      ([20], [-20], [-2], 9, -1),
      ([-20], [3], [1], 0, 3),
    ]
    for (s, e, st, ws, we) in cases {
      let n = Node(name: "s", opType: "Slice", inputs: ["x", "st", "en", "ax", "sp"], outputs: ["y"])
      let l = try Self.lower(n, types: ["x": Self.f([2, 10]), "y": Self.f([2, 1])],
                             inits: [("st", .int64([1], s)), ("en", .int64([1], e)), ("ax", .int64([1], [-1])),
                                     ("sp", .int64([1], st))])
      #expect(l.inputs == ["x"])
      #expect(l.attr(GRAFT_ATTR_STARTS) == .ints([0, ws]))
      #expect(l.attr(GRAFT_ATTR_ENDS) == .ints([2, we]))
      #expect(l.attr(GRAFT_ATTR_STEPS) == .ints([1, st[0]]))
      #expect(l.attr(GRAFT_ATTR_AXES) == .ints([0, 1]))
    }
  }

  @Test func reduceAxes() throws {
    let t = ["x": Self.f([2, 3, 4]), "y": Self.f([1, 3, 1])]
    var l = try Self.lower(Node(opType: "ReduceMean", inputs: ["x", "a"], outputs: ["y"]), types: t,
                           inits: [("a", .int64([2], [-1, 0]))])
    #expect(l.kernel == UInt32(GRAFT_KERNEL_reduce_mean_f32))
    #expect(l.attr(GRAFT_ATTR_AXES) == .ints([0, 2]) && l.attr(GRAFT_ATTR_KEEPDIMS) == .int(1))
    l = try Self.lower(Node(opType: "ReduceSum", inputs: ["x"], outputs: ["y"]), types: t)
    #expect(l.attr(GRAFT_ATTR_AXES) == .ints([0, 1, 2]))
    l = try Self.lower(Node(opType: "ReduceMax", inputs: ["x"], outputs: ["y"],
                            attributes: [Attribute("noop_with_empty_axes", .int(1))]), types: t)
    #expect(l.kernel == UInt32(GRAFT_KERNEL_copy_any))
    l = try Self.lower(Node(opType: "ReduceL2", inputs: ["x"], outputs: ["y"],
                            attributes: [Attribute("axes", .ints([1])), Attribute("keepdims", .int(0))]),
                       types: t, opset: 13)
    #expect(l.attr(GRAFT_ATTR_AXES) == .ints([1]) && l.attr(GRAFT_ATTR_KEEPDIMS) == .int(0))
  }

  @Test func resizeScalesFromSizes() throws {
    let n = Node(opType: "Resize", inputs: ["x", "", "", "sz"], outputs: ["y"],
                 attributes: [Attribute("mode", .string(Array("linear".utf8))),
                              Attribute("coordinate_transformation_mode", .string(Array("align_corners".utf8)))])
    let l = try Self.lower(n, types: ["x": Self.f([1, 3, 4, 4]), "y": Self.f([1, 3, 8, 12])],
                           inits: [("sz", .int64([4], [1, 3, 8, 12]))])
    #expect(l.inputs == ["x"])
    #expect(l.attr(GRAFT_ATTR_SCALES) == .floats([1, 1, 2, 3]))
    #expect(l.attr(GRAFT_ATTR_MODE) == .int(1))
    #expect(l.attr(GRAFT_ATTR_COORD_MODE) == .int(Int64(GRAFT_COORD_ALIGN_CORNERS)))
    #expect(l.attr(GRAFT_ATTR_NEAREST_MODE) == .int(Int64(GRAFT_NEAREST_ROUND_PREFER_FLOOR)))
    #expect(l.attr(GRAFT_ATTR_CUBIC_COEFF_A) == .float(-0.75))
    // scales input wins; nearest defaults
    let n2 = Node(opType: "Resize", inputs: ["x", "", "sc"], outputs: ["y"])
    let l2 = try Self.lower(n2, types: ["x": Self.f([1, 3, 4, 4]), "y": Self.f([1, 3, 8, 8])],
                            inits: [("sc", .float32([4], [1, 1, 2, 2]))])
    #expect(l2.attr(GRAFT_ATTR_SCALES) == .floats([1, 1, 2, 2]))
    #expect(l2.attr(GRAFT_ATTR_MODE) == .int(0))
    #expect(l2.attr(GRAFT_ATTR_COORD_MODE) == .int(Int64(GRAFT_COORD_HALF_PIXEL)))
  }

  @Test func clipAndActivations() throws {
    let t = ["x": Self.f([4]), "y": Self.f([4])]
    var l = try Self.lower(Node(opType: "Clip", inputs: ["x", "lo", "hi"], outputs: ["y"]), types: t,
                           inits: [("lo", .float32([], [0])), ("hi", .float32([], [6]))])
    #expect(l.kernel == UInt32(GRAFT_KERNEL_act_f32) && l.inputs == ["x"])
    #expect(l.attr(GRAFT_ATTR_ACT) == .int(Int64(GRAFT_ACT_CLIP.rawValue)))
    #expect(l.attr(GRAFT_ATTR_ACT_ALPHA) == .float(0) && l.attr(GRAFT_ATTR_ACT_BETA) == .float(6))
    l = try Self.lower(Node(opType: "Clip", inputs: ["x", "", "hi"], outputs: ["y"]), types: t,
                       inits: [("hi", .float32([], [6]))])
    #expect(l.attr(GRAFT_ATTR_ACT_ALPHA) == .float(-.infinity))
    l = try Self.lower(Node(opType: "HardSigmoid", inputs: ["x"], outputs: ["y"]), types: t)
    #expect(l.attr(GRAFT_ATTR_ACT) == .int(Int64(GRAFT_ACT_HARD_SIGMOID.rawValue)))
    #expect(l.attr(GRAFT_ATTR_ACT_ALPHA) == .float(0.2) && l.attr(GRAFT_ATTR_ACT_BETA) == .float(0.5))
    l = try Self.lower(Node(opType: "LeakyRelu", inputs: ["x"], outputs: ["y"]), types: t)
    #expect(l.attr(GRAFT_ATTR_ACT_ALPHA) == .float(0.01))
    l = try Self.lower(Node(opType: "Gelu", inputs: ["x"], outputs: ["y"],
                            attributes: [Attribute("approximate", .string(Array("tanh".utf8)))]), types: t)
    #expect(l.attr(GRAFT_ATTR_ACT) == .int(Int64(GRAFT_ACT_GELU_TANH.rawValue)))
  }

  @Test func padFromInputsWithAxes() throws {
    let n = Node(opType: "Pad", inputs: ["x", "p", "v", "ax"], outputs: ["y"],
                 attributes: [Attribute("mode", .string(Array("reflect".utf8)))])
    let l = try Self.lower(n, types: ["x": Self.f([1, 2, 5, 5]), "y": Self.f([1, 2, 6, 8])],
                           inits: [("p", .int64([4], [0, 1, 1, 2])), ("v", .float32([], [0.5])), ("ax", .int64([2], [-2, -1]))])
    #expect(l.inputs == ["x"])
    #expect(l.attr(GRAFT_ATTR_PADS) == .ints([0, 0, 0, 1, 0, 0, 1, 2]))
    #expect(l.attr(GRAFT_ATTR_MODE) == .int(1) && l.attr(GRAFT_ATTR_VALUE) == .float(0.5))
  }

  @Test func reshapeFamilyIsCopy() throws {
    for op in ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"] {
      let l = try Self.lower(Node(opType: op, inputs: ["x", "s"], outputs: ["y"]),
                             types: ["x": Self.f([1, 4]), "y": Self.f([4])], inits: [("s", .int64([1], [4]))])
      #expect(l.kernel == UInt32(GRAFT_KERNEL_copy_any) && l.inputs == ["x"] && l.isCopy)
    }
  }

  @Test func splitConcatAxes() throws {
    var l = try Self.lower(Node(opType: "Split", inputs: ["x"], outputs: ["a", "b"], attributes: [Attribute("axis", .int(-1))]),
                           types: ["x": Self.f([2, 6]), "a": Self.f([2, 2]), "b": Self.f([2, 4])])
    #expect(l.attr(GRAFT_ATTR_AXIS) == .int(1) && l.attr(GRAFT_ATTR_SPLIT) == .ints([2, 4]))
    l = try Self.lower(Node(opType: "Concat", inputs: ["a", "b"], outputs: ["y"], attributes: [Attribute("axis", .int(-1))]),
                       types: ["a": Self.f([2, 2]), "b": Self.f([2, 4]), "y": Self.f([2, 6])])
    #expect(l.kernel == UInt32(GRAFT_KERNEL_concat_any) && l.attr(GRAFT_ATTR_AXIS) == .int(1))
  }

  @Test func dtypeVariants() throws {
    let i = TensorType(.int64, Shape([3])), b = TensorType(.bool, Shape([3]))
    var l = try Self.lower(Node(opType: "Add", inputs: ["a", "b"], outputs: ["y"]), types: ["a": i, "b": i, "y": i])
    #expect(l.kernel == UInt32(GRAFT_KERNEL_add_i64))
    l = try Self.lower(Node(opType: "And", inputs: ["a", "b"], outputs: ["y"]), types: ["a": b, "b": b, "y": b])
    #expect(l.kernel == UInt32(GRAFT_KERNEL_and_bool))
    l = try Self.lower(Node(opType: "Cast", inputs: ["a"], outputs: ["y"], attributes: [Attribute("to", .int(1))]),
                       types: ["a": i, "y": Self.f([3])])
    #expect(l.kernel == UInt32(GRAFT_KERNEL_cast_any) && l.attr(GRAFT_ATTR_TO) == .int(1))
    l = try Self.lower(Node(opType: "ArgMax", inputs: ["a"], outputs: ["y"], attributes: [Attribute("axis", .int(-1))]),
                       types: ["a": Self.f([2, 3]), "y": TensorType(.int64, Shape([2, 1]))])
    #expect(l.attr(GRAFT_ATTR_AXIS) == .int(1) && l.attr(GRAFT_ATTR_KEEPDIMS) == .int(1))
  }

  @Test func recurrentAttributes() throws {
    let n = Node(opType: "LSTM", inputs: ["x", "w", "r", "b"], outputs: ["", "yh", "yc"],
                 attributes: [Attribute("hidden_size", .int(8)), Attribute("direction", .string(Array("bidirectional".utf8)))])
    let l = try Self.lower(n, types: ["x": Self.f([5, 1, 4]), "w": Self.f([2, 32, 4]), "r": Self.f([2, 32, 8]),
                                      "b": Self.f([2, 64]), "yh": Self.f([2, 1, 8]), "yc": Self.f([2, 1, 8])])
    #expect(l.kernel == UInt32(GRAFT_KERNEL_lstm_f32))
    let s = Int64(GRAFT_ACT_SIGMOID.rawValue), t = Int64(GRAFT_ACT_TANH.rawValue)
    #expect(l.attr(GRAFT_ATTR_ACTIVATIONS) == .ints([s, t, t, s, t, t]))
    #expect(l.attr(GRAFT_ATTR_DIRECTION) == .int(2) && l.attr(GRAFT_ATTR_HIDDEN_SIZE) == .int(8))
    #expect(l.outputs.count == 3 && l.outputs[1] == "yh")
    #expect(l.syntheticTypes[l.outputs[0]] == Self.f([5, 2, 1, 8]))
    let g = Node(opType: "GRU", inputs: ["x", "w", "r"], outputs: ["y"],
                 attributes: [Attribute("hidden_size", .int(8)), Attribute("linear_before_reset", .int(1)),
                              Attribute("activations", .strings([Array("HardSigmoid".utf8), Array("Tanh".utf8)])),
                              Attribute("activation_alpha", .floats([0.3])), Attribute("activation_beta", .floats([0.4]))])
    let lg = try Self.lower(g, types: ["x": Self.f([5, 1, 4]), "w": Self.f([1, 24, 4]), "r": Self.f([1, 24, 8]),
                                       "y": Self.f([5, 1, 1, 8])])
    #expect(lg.attr(GRAFT_ATTR_ACTIVATIONS) == .ints([Int64(GRAFT_ACT_HARD_SIGMOID.rawValue), t]))
    #expect(lg.attr(GRAFT_ATTR_ALPHA) == .floats([0.3, 0]) && lg.attr(GRAFT_ATTR_BETA) == .floats([0.4, 0]))
    #expect(lg.attr(GRAFT_ATTR_LINEAR_BEFORE_RESET) == .int(1))
  }

  @Test func poolingAndTransposeFamilies() throws {
    var l = try Self.lower(Node(opType: "MaxPool", inputs: ["x"], outputs: ["y"],
                                attributes: [Attribute("kernel_shape", .ints([3, 3])), Attribute("strides", .ints([2, 2])),
                                             Attribute("auto_pad", .string(Array("SAME_UPPER".utf8)))]),
                           types: ["x": Self.f([1, 1, 8, 8]), "y": Self.f([1, 1, 4, 4])])
    // out = ceil(8/2) = 4; total = (4-1)*2 + 3 - 8 = 1 -> begin 0, end 1
    #expect(l.kernel == UInt32(GRAFT_KERNEL_maxpool_f32) && l.attr(GRAFT_ATTR_PADS) == .ints([0, 0, 1, 1]))
    #expect(l.attr(GRAFT_ATTR_CEIL_MODE) == .int(0) && l.attr(GRAFT_ATTR_DILATIONS) == .ints([1, 1]))
    l = try Self.lower(Node(opType: "AveragePool", inputs: ["x"], outputs: ["y"],
                            attributes: [Attribute("kernel_shape", .ints([2, 2])), Attribute("pads", .ints([1, 1, 1, 1]))]),
                       types: ["x": Self.f([1, 1, 8, 8]), "y": Self.f([1, 1, 9, 9])])
    #expect(l.attr(GRAFT_ATTR_COUNT_INCLUDE_PAD) == .int(0) && l.attr(GRAFT_ATTR_STRIDES) == .ints([1, 1]))
    l = try Self.lower(Node(opType: "Transpose", inputs: ["x"], outputs: ["y"]),
                       types: ["x": Self.f([2, 3, 4]), "y": Self.f([4, 3, 2])])
    #expect(l.attr(GRAFT_ATTR_PERM) == .ints([2, 1, 0]))
    l = try Self.lower(Node(opType: "Tile", inputs: ["x", "r"], outputs: ["y"]),
                       types: ["x": Self.f([2, 3]), "y": Self.f([4, 3])], inits: [("r", .int64([2], [2, 1]))])
    #expect(l.inputs == ["x"] && l.attr(GRAFT_ATTR_REPEATS) == .ints([2, 1]))
    l = try Self.lower(Node(opType: "DepthToSpace", inputs: ["x"], outputs: ["y"],
                            attributes: [Attribute("blocksize", .int(2)), Attribute("mode", .string(Array("CRD".utf8)))]),
                       types: ["x": Self.f([1, 8, 2, 2]), "y": Self.f([1, 2, 4, 4])])
    #expect(l.attr(GRAFT_ATTR_BLOCK_SIZE) == .int(2) && l.attr(GRAFT_ATTR_MODE) == .int(1))
  }

  @Test func convTransposeOutputShapePads() throws {
    // in 3, stride 2, k 3: full output 7; output_shape 6 -> total 1; default rule puts the odd
    // pixel at the start (pads begin = total - total/2), as onnxruntime 1.32 computes it.
    let n = Node(opType: "ConvTranspose", inputs: ["x", "w"], outputs: ["y"],
                 attributes: [Attribute("strides", .ints([2, 2])), Attribute("output_shape", .ints([6, 6]))])
    let l = try Self.lower(n, types: ["x": Self.f([1, 2, 3, 3]), "w": Self.f([2, 4, 3, 3]), "y": Self.f([1, 4, 6, 6])])
    #expect(l.kernel == UInt32(GRAFT_KERNEL_conv_transpose_f32))
    #expect(l.attr(GRAFT_ATTR_PADS) == .ints([1, 1, 0, 0]))
    #expect(l.attr(GRAFT_ATTR_OUTPUT_PADDING) == .ints([0, 0]))
  }

  @Test func softmaxAxisByOpset() throws {
    let t = ["x": Self.f([2, 5]), "y": Self.f([2, 5])]
    var l = try Self.lower(Node(opType: "Softmax", inputs: ["x"], outputs: ["y"]), types: t, opset: 11)
    #expect(l.attr(GRAFT_ATTR_AXIS) == .int(1))
    l = try Self.lower(Node(opType: "LogSoftmax", inputs: ["x"], outputs: ["y"]), types: t, opset: 13)
    #expect(l.kernel == UInt32(GRAFT_KERNEL_log_softmax_f32) && l.attr(GRAFT_ATTR_AXIS) == .int(1))
    #expect(throws: GraftError.self) {
      _ = try Self.lower(Node(opType: "Softmax", inputs: ["x"], outputs: ["y"], attributes: [Attribute("axis", .int(1))]),
                         types: ["x": Self.f([2, 3, 4]), "y": Self.f([2, 3, 4])], opset: 11)
    }
  }

  static let unsupported: [(Node, [String: TensorType], String)] = [
    (Node(name: "n", opType: "Foo", inputs: ["x"], outputs: ["y"]), ["x": f([1])],
     "model.onnx: node 'n' (Foo): operator Foo is not supported"),
    (Node(name: "c", opType: "Conv", inputs: ["x", "w"], outputs: ["y"]),
     ["x": TensorType(.float16, Shape([1, 1, 3, 3])), "w": TensorType(.float16, Shape([1, 1, 1, 1]))],
     "model.onnx: node 'c' (Conv): tensor 'x': input 'x' is float16; conv_f32 needs float"),
    (Node(name: "r", opType: "Resize", inputs: ["x", "", "", "sz"], outputs: ["y"]), ["x": f([1, 1, 2, 2])],
     "model.onnx: node 'r' (Resize): tensor 'sz': sizes input 'sz' must be a constant integer tensor; Graft resolves it at compile time"),
    (Node(name: "m", opType: "Mul", inputs: ["a", "b"], outputs: ["y"]),
     ["a": TensorType(.int32, Shape([2])), "b": TensorType(.int32, Shape([2]))],
     "model.onnx: node 'm' (Mul): tensor 'a': Mul on int32 is not supported"),
  ]

  @Test(arguments: unsupported.indices)
  func unsupportedNodes(index: Int) {
    let (node, types, message) = Self.unsupported[index]
    do {
      _ = try Self.lower(node, types: types)
      Issue.record("expected: \(message)")
    } catch let e as GraftError {
      #expect(e.kind == .unsupported)
      #expect(e.description == message)
    } catch {
      Issue.record("unexpected \(error)")
    }
  }
}
