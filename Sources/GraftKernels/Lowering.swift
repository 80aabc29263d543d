import GraftIR
import GraftRuntime

/// Lowers canonical ONNX nodes to runtime kernel calls.
///
/// Contract
/// - Input: a node of a canonical graph (see GraftPasses' Canonicalize: axes/starts/pads etc.
///   as inputs, no Constant nodes) whose value types are known from `graph.valueInfo`, the
///   initializers or the graph's inputs/outputs. Constant inputs that become attributes must be
///   initializers.
/// - Output: a `LoweredNode` with every attribute the kernel reads written out, ONNX defaults
///   filled in, `auto_pad` resolved to explicit pads, negative axes normalized, Slice bounds
///   clamped, Resize scales per axis, Reduce axes sorted.
/// - A node that cannot be lowered throws `GraftError(.unsupported)` (valid ONNX Graft does not
///   run) or `GraftError(.invalid)` (inconsistent input), located at the node. Never traps.
/// - Shapes/dtypes are finally checked by the kernel's own `check` (KernelRunner.check); this
///   type only checks what it needs to resolve attributes.
public struct Lowering {
  public let graph: Graph
  public let file: String
  /// ai.onnx opset of the model (Softmax/Resize/Slice semantics differ across versions).
  public let opset: Int64
  let inits: [String: Tensor]
  let inputTypes: [String: TensorType]

  public init(graph: Graph, file: String = "", opset: Int64 = 17) {
    self.graph = graph
    self.file = file
    self.opset = opset
    self.inits = graph.initializerMap
    var t: [String: TensorType] = [:]
    for v in graph.inputs { if let ty = v.type { t[v.name] = ty } }
    for v in graph.outputs { if let ty = v.type, t[v.name] == nil { t[v.name] = ty } }
    self.inputTypes = t
  }

  /// Lowers one node of `graph`.
  public static func lower(node: Node, graph: Graph, file: String = "", opset: Int64 = 17) throws -> LoweredNode {
    try Lowering(graph: graph, file: file, opset: opset).lower(node)
  }

  /// Lowers every node; collects all failures (one per node) instead of stopping at the first.
  public func lowerAll() -> (nodes: [LoweredNode], errors: [GraftError]) {
    var out: [LoweredNode] = []
    var errors: [GraftError] = []
    for n in graph.nodes {
      do { out.append(try lower(n)) } catch let e as GraftError { errors.append(e) } catch {
        errors.append(GraftError(.invalid, at: loc(n), "\(error)"))
      }
    }
    return (out, errors)
  }

  // MARK: - Lookups

  func loc(_ n: Node, tensor: String? = nil) -> Location {
    Location(file: file, node: n.displayName, opType: n.opType, tensor: tensor)
  }

  public func type(_ v: String) -> TensorType? {
    if let t = graph.valueInfo[v] { return t }
    if let t = inits[v] { return t.type }
    return inputTypes[v]
  }

  func dims(_ n: Node, _ v: String) throws -> [Int] {
    guard let shape = type(v)?.shape, let d = shape.concrete else {
      throw GraftError(.invalid, at: loc(n, tensor: v),
                       "shape of '\(v)' is not known; bind symbolic input dims with --input-shape")
    }
    return d
  }

  func rank(_ n: Node, _ v: String) throws -> Int {
    guard let shape = type(v)?.shape else {
      throw GraftError(.invalid, at: loc(n, tensor: v), "rank of '\(v)' is not known")
    }
    return shape.count
  }

  func dtype(_ n: Node, _ v: String) throws -> DType {
    guard let t = type(v) else {
      throw GraftError(.invalid, at: loc(n, tensor: v), "type of '\(v)' is not known")
    }
    return t.dtype
  }

  func input(_ n: Node, _ i: Int) -> String? {
    i < n.inputs.count && !n.inputs[i].isEmpty ? n.inputs[i] : nil
  }

  /// A constant integer input (initializer), or nil when the input is omitted.
  func constInts(_ n: Node, _ i: Int, _ what: String) throws -> [Int64]? {
    guard let v = input(n, i) else { return nil }
    guard let t = inits[v], let ints = t.integers() else {
      throw GraftError(.unsupported, at: loc(n, tensor: v),
                       "\(what) input '\(v)' must be a constant integer tensor; Graft resolves it at compile time")
    }
    return ints
  }

  func constFloats(_ n: Node, _ i: Int, _ what: String) throws -> [Float]? {
    guard let v = input(n, i) else { return nil }
    guard let t = inits[v] else {
      throw GraftError(.unsupported, at: loc(n, tensor: v),
                       "\(what) input '\(v)' must be a constant; Graft resolves it at compile time")
    }
    if let f = t.floats() { return f }
    if let i = t.integers() { return i.map { Float($0) } }
    throw GraftError(.unsupported, at: loc(n, tensor: v), "\(what) input '\(v)' has unsupported type \(t.dtype)")
  }

  func normAxis(_ n: Node, _ axis: Int64, rank: Int, _ what: String = "axis") throws -> Int64 {
    let a = axis < 0 ? axis + Int64(rank) : axis
    guard a >= 0, a < Int64(max(rank, 1)) || (rank == 0 && a == 0) else {
      throw GraftError(.invalid, at: loc(n), "\(what) \(axis) is out of range for rank \(rank)")
    }
    return a
  }

  func requireDType(_ n: Node, _ v: String, _ allowed: [DType], kernel: String) throws {
    let d = try dtype(n, v)
    guard allowed.contains(d) else {
      throw GraftError(.unsupported, at: loc(n, tensor: v),
                       "input '\(v)' is \(d); \(kernel) needs \(allowed.map(\.description).joined(separator: " or "))")
    }
  }

  func noExtraOutputs(_ n: Node, keep: Int) throws {
    for (i, o) in n.outputs.enumerated() where i >= keep && !o.isEmpty {
      throw GraftError(.unsupported, at: loc(n, tensor: o), "optional output \(i) ('\(o)') is not supported")
    }
  }

  func make(_ n: Node, _ kernel: Int, _ inputs: [String], attrs: [KernelAttr], outputs: [String]? = nil) -> LoweredNode {
    LoweredNode(name: n.name, opType: n.opType, kernel: UInt32(kernel), inputs: inputs,
                outputs: outputs ?? n.outputs.filter { !$0.isEmpty }, attrs: attrs)
  }

  /// The fused activation set by the passes (`graft.act`, `graft.act_alpha`, `graft.act_beta`).
  func fusedAct(_ n: Node) -> [KernelAttr] {
    guard let kind = n.int("graft.act"), kind != 0 else { return [] }
    return [KernelAttr(GRAFT_ATTR_ACT, .int(kind)),
            KernelAttr(GRAFT_ATTR_ACT_ALPHA, .float(n.float("graft.act_alpha") ?? 0)),
            KernelAttr(GRAFT_ATTR_ACT_BETA, .float(n.float("graft.act_beta") ?? 0))]
  }

  static func act(_ a: graft_act) -> Int64 { Int64(a.rawValue) }

  // MARK: - Lowering

  public func lower(_ n: Node) throws -> LoweredNode {
    guard n.domain.isEmpty || n.domain == "ai.onnx" else {
      throw GraftError(.unsupported, at: loc(n), "operator domain '\(n.domain)' is not supported")
    }
    if n.int("graft.act") != nil && !["Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul"].contains(n.opType) {
      throw GraftError(.unsupported, at: loc(n), "a fused activation on \(n.opType) is not supported")
    }
    let need = Self.minInputs[n.opType] ?? 1
    let present = n.inputs.prefix(need).filter { !$0.isEmpty }.count
    guard n.inputs.count >= need, present == need else {
      throw GraftError(.invalid, at: loc(n), "\(n.opType) needs \(need) input\(need == 1 ? "" : "s"); it has \(present)")
    }
    guard !n.outputs.isEmpty, !n.outputs[0].isEmpty || ["LSTM", "GRU"].contains(n.opType) else {
      throw GraftError(.invalid, at: loc(n), "\(n.opType) has no output")
    }
    let x = n.inputs[0]
    let f32: [DType] = [.float32]
    switch n.opType {
    case "Conv":
      try noExtraOutputs(n, keep: 1)
      try requireDType(n, x, f32, kernel: "conv_f32")
      let w = try dims(n, n.inputs[1])
      let xd = try dims(n, x)
      guard xd.count >= 3, w.count == xd.count else {
        throw GraftError(.invalid, at: loc(n, tensor: x), "input '\(x)' has rank \(xd.count); Conv needs rank \(w.count) ≥ 3")
      }
      let k = Array(w[2...]).map(Int64.init)
      let sp = k.count
      let strides = n.ints("strides") ?? Array(repeating: 1, count: sp)
      let dil = n.ints("dilations") ?? Array(repeating: 1, count: sp)
      let pads = try resolvePads(n, inDims: Array(xd[2...]), kernel: k, strides: strides, dilations: dil)
      return make(n, GRAFT_KERNEL_conv_f32, Array(n.inputs.prefix(3)), attrs: [
        KernelAttr(GRAFT_ATTR_GROUP, .int(n.int("group") ?? 1)),
        KernelAttr(GRAFT_ATTR_KERNEL_SHAPE, .ints(k)),
        KernelAttr(GRAFT_ATTR_STRIDES, .ints(strides)),
        KernelAttr(GRAFT_ATTR_PADS, .ints(pads)),
        KernelAttr(GRAFT_ATTR_DILATIONS, .ints(dil)),
      ] + fusedAct(n))

    case "ConvTranspose":
      try noExtraOutputs(n, keep: 1)
      try requireDType(n, x, f32, kernel: "conv_transpose_f32")
      let w = try dims(n, n.inputs[1])
      let xd = try dims(n, x)
      guard xd.count >= 3, w.count == xd.count else {
        throw GraftError(.invalid, at: loc(n, tensor: x), "input '\(x)' has rank \(xd.count); ConvTranspose needs rank \(w.count) ≥ 3")
      }
      let k = Array(w[2...]).map(Int64.init)
      let sp = k.count
      let strides = n.ints("strides") ?? Array(repeating: 1, count: sp)
      let dil = n.ints("dilations") ?? Array(repeating: 1, count: sp)
      var outPad = n.ints("output_padding") ?? Array(repeating: 0, count: sp)
      let autoPad = n.string("auto_pad") ?? "NOTSET"
      var pads = n.ints("pads") ?? Array(repeating: 0, count: 2 * sp)
      let outShape: [Int64]? = n.ints("output_shape").map { Array($0.suffix(sp)) }
      if outShape != nil || autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
        pads = Array(repeating: 0, count: 2 * sp)
        guard outShape.map({ $0.count == sp }) ?? true, outPad.count == sp, strides.count == sp, dil.count == sp else {
          throw GraftError(.invalid, at: loc(n), "output_shape/strides/dilations/output_padding do not match \(sp) spatial dims")
        }
        for i in 0..<sp {
          let inD = Int64(xd[2 + i])
          let target = outShape?[i] ?? inD * strides[i]
          // ONNX: total = stride * (in - 1) + output_padding + span - output_shape, split with
          // floor division (it may be negative when output_shape is larger than the full output).
          let total = strides[i] * (inD - 1) + outPad[i] + ((k[i] - 1) * dil[i] + 1) - target
          let half = total >= 0 ? total / 2 : -((-total + 1) / 2)
          if autoPad == "SAME_UPPER" {
            pads[i] = half
            pads[i + sp] = total - half
          } else {
            pads[i] = total - half
            pads[i + sp] = half
          }
          // A negative end pad extends the output past the full result: that is output_padding.
          if pads[i + sp] < 0 {
            outPad[i] -= pads[i + sp]
            pads[i + sp] = 0
          }
          guard pads[i] >= 0 else {
            throw GraftError(.unsupported, at: loc(n),
                             "output_shape \(outShape ?? []) needs a negative leading pad on spatial axis \(i); not supported")
          }
        }
      } else if autoPad == "VALID" {
        pads = Array(repeating: 0, count: 2 * sp)
      }
      guard pads.count == 2 * sp, strides.count == sp, dil.count == sp, outPad.count == sp else {
        throw GraftError(.invalid, at: loc(n), "pads/strides/dilations/output_padding do not match \(sp) spatial dims")
      }
      return make(n, GRAFT_KERNEL_conv_transpose_f32, Array(n.inputs.prefix(3)), attrs: [
        KernelAttr(GRAFT_ATTR_GROUP, .int(n.int("group") ?? 1)),
        KernelAttr(GRAFT_ATTR_KERNEL_SHAPE, .ints(k)),
        KernelAttr(GRAFT_ATTR_STRIDES, .ints(strides)),
        KernelAttr(GRAFT_ATTR_PADS, .ints(pads)),
        KernelAttr(GRAFT_ATTR_DILATIONS, .ints(dil)),
        KernelAttr(GRAFT_ATTR_OUTPUT_PADDING, .ints(outPad)),
      ] + fusedAct(n))

    case "Gemm":
      try requireDType(n, x, f32, kernel: "gemm_f32")
      return make(n, GRAFT_KERNEL_gemm_f32, Array(n.inputs.prefix(3)), attrs: [
        KernelAttr(GRAFT_ATTR_ALPHA, .float(n.float("alpha") ?? 1)),
        KernelAttr(GRAFT_ATTR_BETA, .float(n.float("beta") ?? 1)),
        KernelAttr(GRAFT_ATTR_TRANS_A, .int(n.int("transA") ?? 0)),
        KernelAttr(GRAFT_ATTR_TRANS_B, .int(n.int("transB") ?? 0)),
      ] + fusedAct(n))

    case "MatMul":
      try requireDType(n, x, f32, kernel: "matmul_f32")
      return make(n, GRAFT_KERNEL_matmul_f32, Array(n.inputs.prefix(3)), attrs: fusedAct(n))

    case "BatchNormalization":
      try noExtraOutputs(n, keep: 1)
      try requireDType(n, x, f32, kernel: "batchnorm_f32")
      if (n.int("training_mode") ?? 0) != 0 {
        throw GraftError(.unsupported, at: loc(n), "training_mode=1 is not supported")
      }
      return make(n, GRAFT_KERNEL_batchnorm_f32, Array(n.inputs.prefix(5)), attrs: [
        KernelAttr(GRAFT_ATTR_EPSILON, .float(n.float("epsilon") ?? 1e-5))])

    case "InstanceNormalization":
      try requireDType(n, x, f32, kernel: "instancenorm_f32")
      return make(n, GRAFT_KERNEL_instancenorm_f32, Array(n.inputs.prefix(3)), attrs: [
        KernelAttr(GRAFT_ATTR_EPSILON, .float(n.float("epsilon") ?? 1e-5))])

    case "LayerNormalization":
      try noExtraOutputs(n, keep: 3)
      try requireDType(n, x, f32, kernel: "layernorm_f32")
      let r = try rank(n, x)
      let axis = try normAxis(n, n.int("axis") ?? -1, rank: r)
      // Optional Mean / InvStdDev (float32, dims[:axis] + 1s) keep their positions: trailing
      // omitted ones are dropped, an omitted Mean before a used InvStdDev gets a synthetic tensor.
      var outs = n.outputs
      while let last = outs.last, last.isEmpty { outs.removeLast() }
      var synthetic: [String: TensorType] = [:]
      if outs.count > 1, outs[1].isEmpty {
        let xd = try dims(n, x)
        let name = "\(n.displayName)#unused_output_1"
        outs[1] = name
        synthetic[name] = TensorType(.float32, Shape(Array(xd.prefix(Int(axis))) + Array(repeating: 1, count: r - Int(axis))))
      }
      var lowered = make(n, GRAFT_KERNEL_layernorm_f32, Array(n.inputs.prefix(3)), attrs: [
        KernelAttr(GRAFT_ATTR_AXIS, .int(axis)),
        KernelAttr(GRAFT_ATTR_EPSILON, .float(n.float("epsilon") ?? 1e-5)),
        KernelAttr(GRAFT_ATTR_STASH_TYPE, .int(n.int("stash_type") ?? 1)),
      ], outputs: outs)
      lowered.syntheticTypes = synthetic
      return lowered

    case "LRN":
      try requireDType(n, x, f32, kernel: "lrn_f32")
      guard let size = n.int("size") else {
        throw GraftError(.invalid, at: loc(n), "LRN needs the 'size' attribute")
      }
      return make(n, GRAFT_KERNEL_lrn_f32, [x], attrs: [
        KernelAttr(GRAFT_ATTR_SIZE, .int(size)),
        KernelAttr(GRAFT_ATTR_ALPHA, .float(n.float("alpha") ?? 1e-4)),
        KernelAttr(GRAFT_ATTR_BETA, .float(n.float("beta") ?? 0.75)),
        KernelAttr(GRAFT_ATTR_BIAS, .float(n.float("bias") ?? 1)),
      ])

    case "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Gelu",
         "Softplus", "Softsign", "Clip":
      try requireDType(n, x, f32, kernel: "act_f32")
      let (kind, a, b) = try activation(n)
      return make(n, GRAFT_KERNEL_act_f32, [x], attrs: [
        KernelAttr(GRAFT_ATTR_ACT, .int(kind)),
        KernelAttr(GRAFT_ATTR_ACT_ALPHA, .float(a)),
        KernelAttr(GRAFT_ATTR_ACT_BETA, .float(b)),
      ])

    case "PRelu":
      try requireDType(n, x, f32, kernel: "prelu_f32")
      return make(n, GRAFT_KERNEL_prelu_f32, Array(n.inputs.prefix(2)), attrs: [])

    case "Softmax", "LogSoftmax":
      try requireDType(n, x, f32, kernel: "softmax_f32")
      let r = try rank(n, x)
      var axis = try normAxis(n, n.int("axis") ?? (opset >= 13 ? -1 : 1), rank: r)
      if opset < 13 && axis != Int64(r - 1) {
        // Old semantics: softmax over the flattened dims [axis, rank). Same as the new one
        // only when every dim after `axis` is 1.
        let d = try dims(n, x)
        guard d[Int(axis + 1)...].allSatisfy({ $0 == 1 }) else {
          throw GraftError(.unsupported, at: loc(n),
                           "\(n.opType) before opset 13 with axis \(axis) over rank \(r) (flattening semantics) is not supported")
        }
        axis = Int64(axis)
      }
      return make(n, n.opType == "Softmax" ? GRAFT_KERNEL_softmax_f32 : GRAFT_KERNEL_log_softmax_f32, [x],
                  attrs: [KernelAttr(GRAFT_ATTR_AXIS, .int(axis))])

    case "Erf", "Exp", "Log", "Sqrt", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Sign":
      try requireDType(n, x, f32, kernel: n.opType.lowercased() + "_f32")
      let k: Int
      switch n.opType {
      case "Erf": k = GRAFT_KERNEL_erf_f32
      case "Exp": k = GRAFT_KERNEL_exp_f32
      case "Log": k = GRAFT_KERNEL_log_f32
      case "Sqrt": k = GRAFT_KERNEL_sqrt_f32
      case "Neg": k = GRAFT_KERNEL_neg_f32
      case "Abs": k = GRAFT_KERNEL_abs_f32
      case "Reciprocal": k = GRAFT_KERNEL_reciprocal_f32
      case "Floor": k = GRAFT_KERNEL_floor_f32
      case "Ceil": k = GRAFT_KERNEL_ceil_f32
      case "Round": k = GRAFT_KERNEL_round_f32
      case "Sin": k = GRAFT_KERNEL_sin_f32
      case "Cos": k = GRAFT_KERNEL_cos_f32
      default: k = GRAFT_KERNEL_sign_f32
      }
      return make(n, k, [x], attrs: [])

    case "Not":
      try requireDType(n, x, [.bool], kernel: "not_bool")
      return make(n, GRAFT_KERNEL_not_bool, [x], attrs: [])

    case "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
         "And", "Or", "Xor", "Mod":
      return try lowerBinary(n)

    case "Max", "Min", "Sum", "Mean":
      let d = try dtype(n, x)
      let k: Int
      switch (n.opType, d) {
      case ("Max", .float32): k = GRAFT_KERNEL_max_f32
      case ("Min", .float32): k = GRAFT_KERNEL_min_f32
      case ("Sum", .float32): k = GRAFT_KERNEL_sum_f32
      case ("Mean", .float32): k = GRAFT_KERNEL_mean_f32
      case ("Max", .int64): k = GRAFT_KERNEL_max_i64
      case ("Min", .int64): k = GRAFT_KERNEL_min_i64
      default:
        throw GraftError(.unsupported, at: loc(n, tensor: x), "\(n.opType) on \(d) is not supported")
      }
      for v in n.inputs where !v.isEmpty { try requireDType(n, v, [d], kernel: Kernels.name(of: UInt32(k))) }
      guard n.inputs.count <= 16 else {
        throw GraftError(.unsupported, at: loc(n), "\(n.opType) with \(n.inputs.count) inputs is not supported (at most 16)")
      }
      return make(n, k, n.inputs, attrs: [])

    case "MaxPool", "AveragePool", "LpPool":
      try requireDType(n, x, f32, kernel: "pool_f32")
      try noExtraOutputs(n, keep: 1)
      let xd = try dims(n, x)
      guard xd.count >= 3 else {
        throw GraftError(.invalid, at: loc(n, tensor: x), "input '\(x)' has rank \(xd.count); \(n.opType) needs rank ≥ 3")
      }
      guard let k = n.ints("kernel_shape") else {
        throw GraftError(.invalid, at: loc(n), "\(n.opType) needs the 'kernel_shape' attribute")
      }
      let sp = k.count
      let strides = n.ints("strides") ?? Array(repeating: 1, count: sp)
      let dil = n.ints("dilations") ?? Array(repeating: 1, count: sp)
      let ceil = n.int("ceil_mode") ?? 0
      let pads = try resolvePads(n, inDims: Array(xd[2...]), kernel: k, strides: strides, dilations: dil)
      var attrs = [
        KernelAttr(GRAFT_ATTR_KERNEL_SHAPE, .ints(k)),
        KernelAttr(GRAFT_ATTR_STRIDES, .ints(strides)),
        KernelAttr(GRAFT_ATTR_PADS, .ints(pads)),
        KernelAttr(GRAFT_ATTR_DILATIONS, .ints(dil)),
        KernelAttr(GRAFT_ATTR_CEIL_MODE, .int(ceil)),
      ]
      let kernel: Int
      switch n.opType {
      case "MaxPool":
        kernel = GRAFT_KERNEL_maxpool_f32
        attrs.append(KernelAttr(GRAFT_ATTR_STORAGE_ORDER, .int(n.int("storage_order") ?? 0)))
      case "AveragePool":
        kernel = GRAFT_KERNEL_avgpool_f32
        attrs.append(KernelAttr(GRAFT_ATTR_COUNT_INCLUDE_PAD, .int(n.int("count_include_pad") ?? 0)))
      default:
        kernel = GRAFT_KERNEL_lppool_f32
        attrs.append(KernelAttr(GRAFT_ATTR_P, .int(n.int("p") ?? 2)))
      }
      return make(n, kernel, [x], attrs: attrs)

    case "GlobalAveragePool", "GlobalMaxPool":
      try requireDType(n, x, f32, kernel: "global_pool_f32")
      return make(n, n.opType == "GlobalAveragePool" ? GRAFT_KERNEL_global_avgpool_f32 : GRAFT_KERNEL_global_maxpool_f32,
                  [x], attrs: [])

    case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceProd", "ReduceL1",
         "ReduceSumSquare", "ReduceLogSumExp":
      return try lowerReduce(n)

    case "ArgMax", "ArgMin":
      try requireDType(n, x, f32, kernel: "argmax_f32")
      let r = try rank(n, x)
      return make(n, n.opType == "ArgMax" ? GRAFT_KERNEL_argmax_f32 : GRAFT_KERNEL_argmin_f32, [x], attrs: [
        KernelAttr(GRAFT_ATTR_AXIS, .int(try normAxis(n, n.int("axis") ?? 0, rank: r))),
        KernelAttr(GRAFT_ATTR_KEEPDIMS, .int(n.int("keepdims") ?? 1)),
        KernelAttr(GRAFT_ATTR_SELECT_LAST_INDEX, .int(n.int("select_last_index") ?? 0)),
      ])

    case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity":
      return make(n, GRAFT_KERNEL_copy_any, [x], attrs: [])

    case "Dropout":
      try noExtraOutputs(n, keep: 1)
      return make(n, GRAFT_KERNEL_copy_any, [x], attrs: [])

    case "Concat":
      guard let axis = n.int("axis") else { throw GraftError(.invalid, at: loc(n), "Concat needs the 'axis' attribute") }
      let r = try rank(n, x)
      let ins = n.inputs.filter { !$0.isEmpty }
      guard ins.count <= 64 else {
        throw GraftError(.unsupported, at: loc(n), "Concat with \(ins.count) inputs is not supported (at most 64)")
      }
      return make(n, GRAFT_KERNEL_concat_any, ins, attrs: [KernelAttr(GRAFT_ATTR_AXIS, .int(try normAxis(n, axis, rank: r)))])

    case "Split":
      let xd = try dims(n, x)
      let axis = try normAxis(n, n.int("axis") ?? 0, rank: xd.count)
      var split: [Int64]
      if let s = try constInts(n, 1, "split") {
        split = s
      } else if let s = n.ints("split") {
        split = s
      } else {
        split = try n.outputs.map { o in
          let d = try dims(n, o)
          guard d.count == xd.count else {
            throw GraftError(.invalid, at: loc(n, tensor: o), "output '\(o)' has rank \(d.count); input has rank \(xd.count)")
          }
          return Int64(d[Int(axis)])
        }
      }
      guard split.count == n.outputs.count, split.reduce(0, +) == Int64(xd[Int(axis)]) else {
        throw GraftError(.invalid, at: loc(n), "split sizes \(split) do not add up to dim \(xd[Int(axis)]) over \(n.outputs.count) outputs")
      }
      guard n.outputs.count <= 64, n.outputs.allSatisfy({ !$0.isEmpty }) else {
        throw GraftError(.unsupported, at: loc(n), "Split with omitted or more than 64 outputs is not supported")
      }
      return make(n, GRAFT_KERNEL_split_any, [x], attrs: [
        KernelAttr(GRAFT_ATTR_AXIS, .int(axis)), KernelAttr(GRAFT_ATTR_SPLIT, .ints(split))], outputs: n.outputs)

    case "Slice":
      return try lowerSlice(n)

    case "Pad":
      return try lowerPad(n)

    case "Transpose":
      let r = try rank(n, x)
      let perm = n.ints("perm") ?? (0..<Int64(r)).reversed()
      guard perm.count == r, Set(perm) == Set(0..<Int64(r)) else {
        throw GraftError(.invalid, at: loc(n), "perm \(perm) is not a permutation of rank \(r)")
      }
      return make(n, GRAFT_KERNEL_transpose_any, [x], attrs: [KernelAttr(GRAFT_ATTR_PERM, .ints(perm))])

    case "Gather", "GatherElements":
      let r = try rank(n, x)
      let axis = try normAxis(n, n.int("axis") ?? 0, rank: r)
      try requireDType(n, n.inputs[1], [.int64, .int32], kernel: "gather_any")
      return make(n, n.opType == "Gather" ? GRAFT_KERNEL_gather_any : GRAFT_KERNEL_gather_elements_any,
                  Array(n.inputs.prefix(2)), attrs: [KernelAttr(GRAFT_ATTR_AXIS, .int(axis))])

    case "Tile":
      guard let reps = try constInts(n, 1, "repeats") else {
        throw GraftError(.invalid, at: loc(n), "Tile needs the 'repeats' input")
      }
      return make(n, GRAFT_KERNEL_tile_any, [x], attrs: [KernelAttr(GRAFT_ATTR_REPEATS, .ints(reps))])

    case "Expand":
      return make(n, GRAFT_KERNEL_expand_any, [x], attrs: [])

    case "Where":
      try requireDType(n, x, [.bool], kernel: "where_any")
      return make(n, GRAFT_KERNEL_where_any, Array(n.inputs.prefix(3)), attrs: [])

    case "Cast":
      guard let to = n.int("to") else { throw GraftError(.invalid, at: loc(n), "Cast needs the 'to' attribute") }
      return make(n, GRAFT_KERNEL_cast_any, [x], attrs: [KernelAttr(GRAFT_ATTR_TO, .int(to))])

    case "DepthToSpace", "SpaceToDepth":
      guard let bs = n.int("blocksize") else {
        throw GraftError(.invalid, at: loc(n), "\(n.opType) needs the 'blocksize' attribute")
      }
      // DepthToSpace has `mode` since opset 11, SpaceToDepth since opset 28 (its CRD is the
      // inverse of DepthToSpace CRD); DCR is the default of both.
      let mode = n.string("mode") ?? "DCR"
      guard mode == "DCR" || mode == "CRD" else {
        throw GraftError(.invalid, at: loc(n), "\(n.opType) mode '\(mode)' is not DCR or CRD")
      }
      let attrs = [KernelAttr(GRAFT_ATTR_BLOCK_SIZE, .int(bs)), KernelAttr(GRAFT_ATTR_MODE, .int(mode == "DCR" ? 0 : 1))]
      return make(n, n.opType == "DepthToSpace" ? GRAFT_KERNEL_depth_to_space_any : GRAFT_KERNEL_space_to_depth_any,
                  [x], attrs: attrs)

    case "Resize":
      return try lowerResize(n)

    case "LSTM", "GRU":
      return try lowerRNN(n)

    default:
      throw GraftError(.unsupported, at: loc(n), "operator \(n.opType) is not supported")
    }
  }

  /// Required (non-omitted) leading inputs per op; 1 for ops not listed.
  static let minInputs: [String: Int] = [
    "Conv": 2, "ConvTranspose": 2, "Gemm": 2, "MatMul": 2, "BatchNormalization": 5, "InstanceNormalization": 3,
    "LayerNormalization": 2, "PRelu": 2, "Gather": 2, "GatherElements": 2, "Where": 3, "LSTM": 3, "GRU": 3,
    "Add": 2, "Sub": 2, "Mul": 2, "Div": 2, "Pow": 2, "Equal": 2, "Less": 2, "Greater": 2, "LessOrEqual": 2,
    "GreaterOrEqual": 2, "And": 2, "Or": 2, "Xor": 2, "Mod": 2,
  ]

  // MARK: - Families

  /// Explicit pads from `auto_pad`/`pads` (ONNX: SAME_UPPER puts the extra pad at the end).
  func resolvePads(_ n: Node, inDims: [Int], kernel k: [Int64], strides: [Int64], dilations: [Int64]) throws -> [Int64] {
    let sp = k.count
    guard inDims.count == sp, strides.count == sp, dilations.count == sp else {
      throw GraftError(.invalid, at: loc(n), "kernel_shape/strides/dilations do not match \(inDims.count) spatial dims")
    }
    let autoPad = n.string("auto_pad") ?? "NOTSET"
    switch autoPad {
    case "NOTSET", "":
      let p = n.ints("pads") ?? Array(repeating: 0, count: 2 * sp)
      guard p.count == 2 * sp else {
        throw GraftError(.invalid, at: loc(n), "pads has \(p.count) values; \(2 * sp) expected")
      }
      return p
    case "VALID":
      return Array(repeating: 0, count: 2 * sp)
    case "SAME_UPPER", "SAME_LOWER":
      var p = Array(repeating: Int64(0), count: 2 * sp)
      for i in 0..<sp {
        let inD = Int64(inDims[i])
        let out = (inD + strides[i] - 1) / strides[i]
        let total = max(0, (out - 1) * strides[i] + (k[i] - 1) * dilations[i] + 1 - inD)
        if autoPad == "SAME_UPPER" {
          p[i] = total / 2
          p[i + sp] = total - total / 2
        } else {
          p[i] = total - total / 2
          p[i + sp] = total / 2
        }
      }
      return p
    default:
      throw GraftError(.invalid, at: loc(n), "auto_pad '\(autoPad)' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER")
    }
  }

  /// (GRAFT_ACT kind, alpha, beta) of a standalone activation node.
  func activation(_ n: Node) throws -> (Int64, Float, Float) {
    switch n.opType {
    case "Relu": return (Self.act(GRAFT_ACT_RELU), 0, 0)
    case "LeakyRelu": return (Self.act(GRAFT_ACT_LEAKY_RELU), n.float("alpha") ?? 0.01, 0)
    case "Sigmoid": return (Self.act(GRAFT_ACT_SIGMOID), 0, 0)
    case "HardSigmoid": return (Self.act(GRAFT_ACT_HARD_SIGMOID), n.float("alpha") ?? 0.2, n.float("beta") ?? 0.5)
    case "HardSwish": return (Self.act(GRAFT_ACT_HARD_SWISH), 0, 0)
    case "Tanh": return (Self.act(GRAFT_ACT_TANH), 0, 0)
    case "Elu": return (Self.act(GRAFT_ACT_ELU), n.float("alpha") ?? 1, 0)
    case "Selu":
      return (Self.act(GRAFT_ACT_SELU), n.float("alpha") ?? 1.67326319217681884765625,
              n.float("gamma") ?? 1.05070102214813232421875)
    case "Gelu":
      let approx = n.string("approximate") ?? "none"
      guard approx == "none" || approx == "tanh" else {
        throw GraftError(.invalid, at: loc(n), "Gelu approximate '\(approx)' is not 'none' or 'tanh'")
      }
      return (Self.act(approx == "tanh" ? GRAFT_ACT_GELU_TANH : GRAFT_ACT_GELU), 0, 0)
    case "Softplus": return (Self.act(GRAFT_ACT_SOFTPLUS), 0, 0)
    case "Softsign": return (Self.act(GRAFT_ACT_SOFTSIGN), 0, 0)
    default:  // Clip
      var lo = -Float.infinity, hi = Float.infinity
      if let v = n.float("min") { lo = v }
      if let v = n.float("max") { hi = v }
      if let v = try constFloats(n, 1, "min") {
        guard v.count == 1 else { throw GraftError(.invalid, at: loc(n), "Clip min must be a scalar") }
        lo = v[0]
      }
      if let v = try constFloats(n, 2, "max") {
        guard v.count == 1 else { throw GraftError(.invalid, at: loc(n), "Clip max must be a scalar") }
        hi = v[0]
      }
      return (Self.act(GRAFT_ACT_CLIP), lo, hi)
    }
  }

  func lowerBinary(_ n: Node) throws -> LoweredNode {
    guard n.inputs.count == 2, !n.inputs[0].isEmpty, !n.inputs[1].isEmpty else {
      throw GraftError(.invalid, at: loc(n), "\(n.opType) needs exactly 2 inputs")
    }
    let a = try dtype(n, n.inputs[0]), b = try dtype(n, n.inputs[1])
    guard a == b else {
      throw GraftError(n.opType == "Pow" ? .unsupported : .invalid, at: loc(n, tensor: n.inputs[1]),
                       "input types differ (\(a) and \(b))")
    }
    let k: Int?
    switch (n.opType, a) {
    case ("Add", .float32): k = GRAFT_KERNEL_add_f32
    case ("Sub", .float32): k = GRAFT_KERNEL_sub_f32
    case ("Mul", .float32): k = GRAFT_KERNEL_mul_f32
    case ("Div", .float32): k = GRAFT_KERNEL_div_f32
    case ("Pow", .float32): k = GRAFT_KERNEL_pow_f32
    case ("Mod", .float32): k = GRAFT_KERNEL_mod_f32
    case ("Equal", .float32): k = GRAFT_KERNEL_equal_f32
    case ("Less", .float32): k = GRAFT_KERNEL_less_f32
    case ("Greater", .float32): k = GRAFT_KERNEL_greater_f32
    case ("LessOrEqual", .float32): k = GRAFT_KERNEL_less_equal_f32
    case ("GreaterOrEqual", .float32): k = GRAFT_KERNEL_greater_equal_f32
    case ("Add", .int64): k = GRAFT_KERNEL_add_i64
    case ("Sub", .int64): k = GRAFT_KERNEL_sub_i64
    case ("Mul", .int64): k = GRAFT_KERNEL_mul_i64
    case ("Div", .int64): k = GRAFT_KERNEL_div_i64
    case ("Equal", .int64): k = GRAFT_KERNEL_equal_i64
    case ("Less", .int64): k = GRAFT_KERNEL_less_i64
    case ("Greater", .int64): k = GRAFT_KERNEL_greater_i64
    case ("Equal", .bool): k = nil
    case ("And", .bool): k = GRAFT_KERNEL_and_bool
    case ("Or", .bool): k = GRAFT_KERNEL_or_bool
    case ("Xor", .bool): k = GRAFT_KERNEL_xor_bool
    default: k = nil
    }
    guard let k else {
      throw GraftError(.unsupported, at: loc(n, tensor: n.inputs[0]), "\(n.opType) on \(a) is not supported")
    }
    if n.opType == "Mod" && (n.int("fmod") ?? 0) != 1 {
      throw GraftError(.invalid, at: loc(n), "Mod on float needs fmod=1")
    }
    let act = (n.opType == "Add" || n.opType == "Mul") && a == .float32 ? fusedAct(n) : []
    if !fusedAct(n).isEmpty && act.isEmpty {
      throw GraftError(.unsupported, at: loc(n), "a fused activation on \(n.opType) of \(a) is not supported")
    }
    return make(n, k, n.inputs, attrs: act)
  }

  func lowerReduce(_ n: Node) throws -> LoweredNode {
    let x = n.inputs[0]
    try requireDType(n, x, [.float32], kernel: "reduce_f32")
    let r = try rank(n, x)
    let keep = n.int("keepdims") ?? 1
    let noop = n.int("noop_with_empty_axes") ?? 0
    var axes: [Int64] = try constInts(n, 1, "axes") ?? n.ints("axes") ?? []
    if axes.isEmpty {
      if noop != 0 { return make(n, GRAFT_KERNEL_copy_any, [x], attrs: []) }
      axes = Array(0..<Int64(r))
    }
    axes = try axes.map { try normAxis(n, $0, rank: r, "axis") }
    axes = Array(Set(axes)).sorted()
    let k: Int
    switch n.opType {
    case "ReduceMean": k = GRAFT_KERNEL_reduce_mean_f32
    case "ReduceSum": k = GRAFT_KERNEL_reduce_sum_f32
    case "ReduceMax": k = GRAFT_KERNEL_reduce_max_f32
    case "ReduceMin": k = GRAFT_KERNEL_reduce_min_f32
    case "ReduceL2": k = GRAFT_KERNEL_reduce_l2_f32
    case "ReduceProd": k = GRAFT_KERNEL_reduce_prod_f32
    case "ReduceL1": k = GRAFT_KERNEL_reduce_l1_f32
    case "ReduceSumSquare": k = GRAFT_KERNEL_reduce_sumsq_f32
    default: k = GRAFT_KERNEL_reduce_logsumexp_f32
    }
    return make(n, k, [x], attrs: [KernelAttr(GRAFT_ATTR_AXES, .ints(axes)), KernelAttr(GRAFT_ATTR_KEEPDIMS, .int(keep))])
  }

  func lowerSlice(_ n: Node) throws -> LoweredNode {
    let x = n.inputs[0]
    let d = try dims(n, x).map(Int64.init)
    let r = d.count
    let starts: [Int64], ends: [Int64]
    var axes: [Int64]?, steps: [Int64]?
    // Opset < 10 keeps starts/ends/axes as attributes; Canonicalize moves them to inputs.
    if n.ints("starts") != nil {
      guard let s = n.ints("starts"), let e = n.ints("ends") else {
        throw GraftError(.invalid, at: loc(n), "Slice needs 'starts' and 'ends'")
      }
      starts = s
      ends = e
      axes = n.ints("axes")
    } else {
      guard let s = try constInts(n, 1, "starts"), let e = try constInts(n, 2, "ends") else {
        throw GraftError(.invalid, at: loc(n), "Slice needs 'starts' and 'ends' inputs")
      }
      starts = s
      ends = e
      axes = try constInts(n, 3, "axes")
      steps = try constInts(n, 4, "steps")
    }
    let ax = axes ?? Array(0..<Int64(starts.count))
    let st = steps ?? Array(repeating: 1, count: starts.count)
    guard ends.count == starts.count, ax.count == starts.count, st.count == starts.count else {
      throw GraftError(.invalid, at: loc(n), "Slice starts/ends/axes/steps have different lengths")
    }
    var outStarts = Array(repeating: Int64(0), count: r)
    var outEnds = d
    var outSteps = Array(repeating: Int64(1), count: r)
    var seen = Set<Int64>()
    for i in 0..<starts.count {
      let a = try normAxis(n, ax[i], rank: r)
      guard seen.insert(a).inserted else { throw GraftError(.invalid, at: loc(n), "Slice axis \(a) repeats") }
      let dim = d[Int(a)]
      let step = st[i]
      guard step != 0 else { throw GraftError(.invalid, at: loc(n), "Slice step is 0") }
      var s = starts[i], e = ends[i]
      // Large sentinels (INT64_MAX) must not overflow when made non-negative.
      if s < 0 { s = s < -dim ? -dim - 1 : s + dim }
      if e < 0 { e = e < -dim ? -dim - 1 : e + dim }
      if step > 0 {
        s = min(max(s, 0), dim)
        e = min(max(e, 0), dim)
      } else {
        s = min(max(s, 0), dim - 1)
        e = min(max(e, -1), dim - 1)
      }
      outStarts[Int(a)] = s
      outEnds[Int(a)] = e
      outSteps[Int(a)] = step
    }
    return make(n, GRAFT_KERNEL_slice_any, [x], attrs: [
      KernelAttr(GRAFT_ATTR_STARTS, .ints(outStarts)),
      KernelAttr(GRAFT_ATTR_ENDS, .ints(outEnds)),
      KernelAttr(GRAFT_ATTR_AXES, .ints(Array(0..<Int64(r)))),
      KernelAttr(GRAFT_ATTR_STEPS, .ints(outSteps)),
    ])
  }

  func lowerPad(_ n: Node) throws -> LoweredNode {
    let x = n.inputs[0]
    let r = try rank(n, x)
    let modeName = n.string("mode") ?? "constant"
    let mode: Int64
    switch modeName {
    case "constant": mode = 0
    case "reflect": mode = 1
    case "edge": mode = 2
    case "wrap": mode = 3
    default: throw GraftError(.invalid, at: loc(n), "Pad mode '\(modeName)' is not supported")
    }
    var pads: [Int64]
    var value: Float = n.float("value") ?? 0
    if let p = n.ints("pads") ?? n.ints("paddings") {
      pads = p
    } else {
      guard let p = try constInts(n, 1, "pads") else { throw GraftError(.invalid, at: loc(n), "Pad needs 'pads'") }
      pads = p
      if let v = try constFloats(n, 2, "constant_value") {
        guard v.count == 1 else { throw GraftError(.invalid, at: loc(n), "Pad constant_value must be a scalar") }
        value = v[0]
      }
      if let axes = try constInts(n, 3, "axes") {
        guard pads.count == 2 * axes.count else {
          throw GraftError(.invalid, at: loc(n), "Pad has \(pads.count) pads for \(axes.count) axes")
        }
        var full = Array(repeating: Int64(0), count: 2 * r)
        for (i, a) in axes.enumerated() {
          let na = Int(try normAxis(n, a, rank: r))
          full[na] = pads[i]
          full[na + r] = pads[i + axes.count]
        }
        pads = full
      }
    }
    guard pads.count == 2 * r else {
      throw GraftError(.invalid, at: loc(n), "Pad has \(pads.count) pads; rank \(r) needs \(2 * r)")
    }
    return make(n, GRAFT_KERNEL_pad_any, [x], attrs: [
      KernelAttr(GRAFT_ATTR_PADS, .ints(pads)),
      KernelAttr(GRAFT_ATTR_MODE, .int(mode)),
      KernelAttr(GRAFT_ATTR_VALUE, .float(value)),
    ])
  }

  func lowerResize(_ n: Node) throws -> LoweredNode {
    let x = n.inputs[0]
    try requireDType(n, x, [.float32], kernel: "resize_f32")
    let xd = try dims(n, x)
    let r = xd.count
    let modeName = n.string("mode") ?? "nearest"
    let mode: Int64
    switch modeName {
    case "nearest": mode = 0
    case "linear", "bilinear", "trilinear": mode = 1
    case "cubic", "bicubic": mode = 2
    default: throw GraftError(.invalid, at: loc(n), "Resize mode '\(modeName)' is not supported")
    }
    if (n.int("antialias") ?? 0) != 0 {
      throw GraftError(.unsupported, at: loc(n), "Resize antialias=1 is not supported")
    }
    let coordName = n.string("coordinate_transformation_mode") ?? (opset < 11 ? "asymmetric" : "half_pixel")
    let coord: Int
    switch coordName {
    case "half_pixel": coord = GRAFT_COORD_HALF_PIXEL
    case "asymmetric": coord = GRAFT_COORD_ASYMMETRIC
    case "align_corners": coord = GRAFT_COORD_ALIGN_CORNERS
    case "pytorch_half_pixel": coord = GRAFT_COORD_PYTORCH_HALF_PIXEL
    case "tf_half_pixel_for_nn": coord = GRAFT_COORD_TF_HALF_PIXEL_FOR_NN
    case "half_pixel_symmetric": coord = GRAFT_COORD_HALF_PIXEL_SYMMETRIC
    case "tf_crop_and_resize":
      throw GraftError(.unsupported, at: loc(n), "Resize coordinate_transformation_mode tf_crop_and_resize is not supported")
    default: throw GraftError(.invalid, at: loc(n), "Resize coordinate_transformation_mode '\(coordName)' is unknown")
    }
    let nearestName = n.string("nearest_mode") ?? (opset < 11 ? "floor" : "round_prefer_floor")
    let nearest: Int
    switch nearestName {
    case "round_prefer_floor": nearest = GRAFT_NEAREST_ROUND_PREFER_FLOOR
    case "round_prefer_ceil": nearest = GRAFT_NEAREST_ROUND_PREFER_CEIL
    case "floor": nearest = GRAFT_NEAREST_FLOOR
    case "ceil": nearest = GRAFT_NEAREST_CEIL
    default: throw GraftError(.invalid, at: loc(n), "Resize nearest_mode '\(nearestName)' is unknown")
    }
    // Scales per axis: from `scales` if given and non-empty, else from `sizes`, else from the
    // output shape.
    // The opset-10 form (X, scales) is told apart by its input count (Canonicalize rewrites it).
    let scalesIndex = n.inputs.count == 2 ? 1 : 2
    var scales: [Float] = []
    var scalesGiven = false
    if let s = try constFloats(n, scalesIndex, "scales"), !s.isEmpty {
      scales = s
      scalesGiven = true
    } else if scalesIndex == 2, let sizes = try constInts(n, 3, "sizes"), !sizes.isEmpty {
      var full = sizes
      var sizedAxes = Array(0..<r)
      if let axes = n.ints("axes") {
        full = xd.map(Int64.init)
        sizedAxes = try axes.map { Int(try normAxis(n, $0, rank: r)) }
        for (i, a) in sizedAxes.enumerated() where i < sizes.count { full[a] = sizes[i] }
      }
      guard full.count == r else {
        throw GraftError(.invalid, at: loc(n), "Resize sizes has \(full.count) values; rank \(r) needs \(r)")
      }
      let policy = n.string("keep_aspect_ratio_policy") ?? "stretch"
      switch policy {
      case "stretch":
        scales = (0..<r).map { xd[$0] == 0 ? 1 : Float(full[$0]) / Float(xd[$0]) }
      case "not_larger", "not_smaller":
        // ONNX: one scale for every resized axis, the smallest (not_larger) or largest
        // (not_smaller) of sizes / input dims; other axes keep scale 1. Shape inference gives
        // the output dims round_half_up(scale * dim).
        let ratios = sizedAxes.map { xd[$0] == 0 ? 1.0 : Double(full[$0]) / Double(xd[$0]) }
        let common = Float((policy == "not_larger" ? ratios.min() : ratios.max()) ?? 1)
        scales = Array(repeating: 1, count: r)
        for a in sizedAxes { scales[a] = common }
      default:
        throw GraftError(.invalid, at: loc(n), "Resize keep_aspect_ratio_policy '\(policy)' is unknown")
      }
    } else if let out = n.outputs.first, let od = type(out)?.shape?.concrete, od.count == r {
      scales = (0..<r).map { xd[$0] == 0 ? 1 : Float(od[$0]) / Float(xd[$0]) }
    } else {
      throw GraftError(.invalid, at: loc(n), "Resize needs constant 'scales' or 'sizes'")
    }
    if let axes = n.ints("axes"), scales.count == axes.count, axes.count != r {
      var full = Array(repeating: Float(1), count: r)
      for (i, a) in axes.enumerated() { full[Int(try normAxis(n, a, rank: r))] = scales[i] }
      scales = full
    }
    guard scales.count == r else {
      throw GraftError(.invalid, at: loc(n), "Resize scales has \(scales.count) values; rank \(r) needs \(r)")
    }
    var coordMode = coord
    if coord == GRAFT_COORD_ALIGN_CORNERS, scalesGiven,
       (0..<r).contains(where: { (Double(xd[$0]) * Double(scales[$0])).rounded(.down) != Double(xd[$0]) * Double(scales[$0]) }) {
      // ONNX maps align_corners with `scales` through the unrounded output length
      // L = in * scale: x = o * (in - 1) / (L - 1). The kernel uses the integer output length,
      // so a fractional L is passed as asymmetric (x = o / s') with s' = (L - 1) / (in - 1);
      // s' = huge gives x = 0 where ONNX does (in == 1 or L == 1).
      coordMode = GRAFT_COORD_ASYMMETRIC
      scales = (0..<r).map { i in
        let lin = Double(xd[i]), len = lin * Double(scales[i])
        return lin > 1 && len != 1 ? Float((len - 1) / (lin - 1)) : Float.greatestFiniteMagnitude
      }
    }
    return make(n, GRAFT_KERNEL_resize_f32, [x], attrs: [
      KernelAttr(GRAFT_ATTR_MODE, .int(mode)),
      KernelAttr(GRAFT_ATTR_COORD_MODE, .int(Int64(coordMode))),
      KernelAttr(GRAFT_ATTR_NEAREST_MODE, .int(Int64(nearest))),
      KernelAttr(GRAFT_ATTR_CUBIC_COEFF_A, .float(n.float("cubic_coeff_a") ?? -0.75)),
      KernelAttr(GRAFT_ATTR_EXCLUDE_OUTSIDE, .int(n.int("exclude_outside") ?? 0)),
      KernelAttr(GRAFT_ATTR_EXTRAPOLATION_VALUE, .float(n.float("extrapolation_value") ?? 0)),
      KernelAttr(GRAFT_ATTR_SCALES, .floats(scales)),
    ])
  }

  func lowerRNN(_ n: Node) throws -> LoweredNode {
    let x = n.inputs[0]
    try requireDType(n, x, [.float32], kernel: n.opType == "LSTM" ? "lstm_f32" : "gru_f32")
    let isLSTM = n.opType == "LSTM"
    let dirName = n.string("direction") ?? "forward"
    let dir: Int64
    switch dirName {
    case "forward": dir = 0
    case "reverse": dir = 1
    case "bidirectional": dir = 2
    default: throw GraftError(.invalid, at: loc(n), "\(n.opType) direction '\(dirName)' is unknown")
    }
    let numDir = dir == 2 ? 2 : 1
    let w = try dims(n, n.inputs[1])
    guard w.count == 3 else { throw GraftError(.invalid, at: loc(n, tensor: n.inputs[1]), "W must have rank 3") }
    let gates = isLSTM ? 4 : 3
    let hidden = n.int("hidden_size") ?? Int64(w[1] / gates)
    let defaults = isLSTM ? ["Sigmoid", "Tanh", "Tanh"] : ["Sigmoid", "Tanh"]
    let perDir = defaults.count
    var names: [String] = defaults + (numDir == 2 ? defaults : [])
    if case .strings(let s)? = n[attribute: "activations"] {
      names = s.map { String(decoding: $0, as: UTF8.self) }
      if names.count == perDir && numDir == 2 { names += names }
    }
    guard names.count == perDir * numDir else {
      throw GraftError(.invalid, at: loc(n), "\(n.opType) has \(names.count) activations; \(perDir * numDir) expected")
    }
    let alphasIn = n.floats("activation_alpha") ?? []
    let betasIn = n.floats("activation_beta") ?? []
    var ai = 0, bi = 0
    var kinds: [Int64] = [], alphas: [Float] = [], betas: [Float] = []
    for name in names {
      let kind: graft_act
      var alpha: Float = 0, beta: Float = 0
      var usesAlpha = false, usesBeta = false
      switch name.lowercased() {
      case "sigmoid": kind = GRAFT_ACT_SIGMOID
      case "tanh": kind = GRAFT_ACT_TANH
      case "relu": kind = GRAFT_ACT_RELU
      case "hardsigmoid": kind = GRAFT_ACT_HARD_SIGMOID; alpha = 0.2; beta = 0.5; usesAlpha = true; usesBeta = true
      case "leakyrelu": kind = GRAFT_ACT_LEAKY_RELU; alpha = 0.01; usesAlpha = true
      case "elu": kind = GRAFT_ACT_ELU; alpha = 1; usesAlpha = true
      case "affine": kind = GRAFT_ACT_AFFINE; alpha = 1; beta = 0; usesAlpha = true; usesBeta = true
      case "softsign": kind = GRAFT_ACT_SOFTSIGN
      case "softplus": kind = GRAFT_ACT_SOFTPLUS
      default:
        throw GraftError(.unsupported, at: loc(n), "\(n.opType) activation '\(name)' is not supported")
      }
      if usesAlpha, ai < alphasIn.count { alpha = alphasIn[ai]; ai += 1 }
      if usesBeta, bi < betasIn.count { beta = betasIn[bi]; bi += 1 }
      kinds.append(Self.act(kind))
      alphas.append(alpha)
      betas.append(beta)
    }
    var attrs = [
      KernelAttr(GRAFT_ATTR_HIDDEN_SIZE, .int(hidden)),
      KernelAttr(GRAFT_ATTR_DIRECTION, .int(dir)),
      KernelAttr(GRAFT_ATTR_ACTIVATIONS, .ints(kinds)),
      KernelAttr(GRAFT_ATTR_ALPHA, .floats(alphas)),
      KernelAttr(GRAFT_ATTR_BETA, .floats(betas)),
      KernelAttr(GRAFT_ATTR_LAYOUT, .int(n.int("layout") ?? 0)),
    ]
    if let clip = n.float("clip") { attrs.append(KernelAttr(GRAFT_ATTR_CLIP, .float(clip))) }
    if isLSTM {
      attrs.append(KernelAttr(GRAFT_ATTR_INPUT_FORGET, .int(n.int("input_forget") ?? 0)))
    } else {
      attrs.append(KernelAttr(GRAFT_ATTR_LINEAR_BEFORE_RESET, .int(n.int("linear_before_reset") ?? 0)))
    }
    // Outputs keep their positions. The archive needs every output slot filled, so trailing
    // omitted outputs are dropped and middle ones get a synthetic, typed tensor of their own.
    var outs = n.outputs
    while let last = outs.last, last.isEmpty { outs.removeLast() }
    var synthetic: [String: TensorType] = [:]
    if outs.contains(where: { $0.isEmpty }) {
      let xd = try dims(n, x)
      guard xd.count == 3 else { throw GraftError(.invalid, at: loc(n, tensor: x), "X must have rank 3") }
      let layout = n.int("layout") ?? 0
      let (seq, batch) = layout == 0 ? (xd[0], xd[1]) : (xd[1], xd[0])
      let h = Int(hidden)
      for (i, o) in outs.enumerated() where o.isEmpty {
        let name = "\(n.displayName)#unused_output_\(i)"
        let shape: [Int]
        if i == 0 {
          shape = layout == 0 ? [seq, numDir, batch, h] : [batch, seq, numDir, h]
        } else {
          shape = layout == 0 ? [numDir, batch, h] : [batch, numDir, h]
        }
        outs[i] = name
        synthetic[name] = TensorType(.float32, Shape(shape))
      }
    }
    let maxIn = isLSTM ? 8 : 6
    var lowered = make(n, isLSTM ? GRAFT_KERNEL_lstm_f32 : GRAFT_KERNEL_gru_f32, Array(n.inputs.prefix(maxIn)),
                       attrs: attrs, outputs: outs)
    lowered.syntheticTypes = synthetic
    return lowered
  }
}
