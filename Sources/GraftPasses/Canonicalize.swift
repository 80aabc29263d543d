import GraftIR

/// Rewrites old-opset forms into one modern form. Runs first in the pipeline.
///
/// The canonical form (what later passes and the back end's lowering may rely on, whatever
/// `context.onnxOpset` says; forms are told apart by input presence, never by opset):
/// - No `Constant` nodes: each becomes an initializer named after its output.
/// - `Dropout` is `Identity` (inference); a used mask output becomes
///   `ConstantOfShape(Shape(x), true)`. A Dropout with a non-constant or true `training_mode`
///   and a used mask is left as it is.
/// - `Pow` with a float base and an integer exponent casts the exponent to the base's type.
/// - Float32 `Mod` with `fmod=0` is `Where(fmod(a, b) * b < 0, fmod(a, b) + b, fmod(a, b))`
///   (numpy's mod) over a `Mod(fmod=1)`.
/// - `LSTM`/`GRU`/`RNN` with `layout=1` are `layout=0` between Transposes.
/// - Float32 training-mode `BatchNormalization` is spelled out with ReduceMean (batch
///   statistics) and element-wise ops, running statistics included.
/// - `Slice(data, starts, ends[, axes[, steps]])`: starts/ends/axes are inputs.
/// - `Squeeze(x[, axes])`, `Unsqueeze(x, axes)`: axes are inputs. `Split(x, split)` with sizes
///   as an input, or `Split(x)` with `num_outputs` (equal split) always set.
/// - `Pad(x, pads[, constant_value])` with `mode` as attribute.
/// - `Clip(x[, min[, max]])`: min/max are scalar inputs ("" when absent).
/// - `ReduceX(x[, axes])` for every reduction (the opset-18 form), `keepdims` and
///   `noop_with_empty_axes` attributes as given.
/// - `Upsample` and opset-10 `Resize` become `Resize(x, "", scales)`; every `Resize` carries
///   explicit `mode`, `coordinate_transformation_mode` and `nearest_mode` attributes (the
///   defaults of the opset the node came from).
/// - `Softmax`/`LogSoftmax`/`Hardmax` from opset < 13 (flatten-to-2D semantics) always have
///   `axis == rank - 1` (written as -1), so both semantics agree: when the original axis is not
///   the last one the node becomes `Flatten(axis)` → op(axis=-1) → `Reshape(to Shape(x))`.
/// - `BatchNormalization` has no `spatial`, `is_test` or `consumed_inputs` attributes and one
///   output (inference).
/// - Opset < 7 element-wise ops have no `broadcast`/`axis` attributes: a second input aligned at
///   `axis` is unsqueezed with trailing 1s so numpy broadcasting gives the old result;
///   legacy multi-slope `PRelu` slopes get the same treatment (aligned at the channel axis).
/// - `Gemm` has no `broadcast` attribute; `Reshape` takes its shape as an input; `Concat` has
///   an explicit `axis`; `Cast.to` is an integer.
/// - `Gelu` (opset 20) is kept as `Gelu`.
/// Forms that cannot be rewritten are left as they are; `unsupportedOps` names them.
public struct Canonicalize: Pass {
  public let name = "canonicalize"
  public init() {}

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var names = Set<String>()
    collectNames(graph, into: &names)
    // Ranks of intermediate values (for the rewrites that need them), from a throwaway
    // shape inference over a copy; nothing is required to succeed.
    var ranks: [String: Int] = [:]
    var dtypes: [String: DType] = [:]
    var copy = graph
    var engine = InferenceEngine(context: context)
    let typed = (try? engine.infer(&copy, outer: Scope())) != nil ? copy : graph
    collectRanks(typed, into: &ranks)
    collectDTypes(typed, into: &dtypes)
    var rewriter = Rewriter(opset: context.onnxOpset, taken: names, ranks: ranks, file: context.file)
    rewriter.dtypes = dtypes
    try rewriter.rewrite(&graph)
    return rewriter.changed
  }
}

private func collectRanks(_ g: Graph, into ranks: inout [String: Int]) {
  for i in g.inputs { if let s = i.type?.shape { ranks[i.name] = s.count } }
  for (n, t) in g.initializers { ranks[n] = t.dims.count }
  for (n, t) in g.valueInfo { if let s = t.shape { ranks[n] = s.count } }
  for n in g.nodes { for s in n.subgraphs { collectRanks(s, into: &ranks) } }
}

/// Element types of graph inputs, initializers and typed values (subgraphs included).
private func collectDTypes(_ g: Graph, into types: inout [String: DType]) {
  for i in g.inputs { if let t = i.type { types[i.name] = t.dtype } }
  for (n, t) in g.initializers { types[n] = t.dtype }
  for (n, t) in g.valueInfo { types[n] = t.dtype }
  for n in g.nodes { for s in n.subgraphs { collectDTypes(s, into: &types) } }
}

private let reduceOpsAll: Set<String> = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceL1",
                                         "ReduceProd", "ReduceSumSquare", "ReduceLogSumExp", "ReduceLogSum"]
private let legacyBroadcastOps: Set<String> = ["Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal",
                                               "Greater", "Less"]

private struct Rewriter {
  let opset: Int64
  var taken: Set<String>
  let ranks: [String: Int]
  let file: String
  /// Element types known before the rewrite (for the rewrites that need them).
  var dtypes: [String: DType] = [:]
  var changed = false

  init(opset: Int64, taken: Set<String>, ranks: [String: Int], file: String) {
    self.opset = opset
    self.taken = taken
    self.ranks = ranks
    self.file = file
  }

  mutating func fresh(_ base: String) -> String {
    var c = base
    var i = 0
    while taken.contains(c) {
      i += 1
      c = "\(base)_\(i)"
    }
    taken.insert(c)
    return c
  }

  /// A new int64 initializer in `g`; returns its name.
  mutating func addInts(_ g: inout Graph, _ base: String, _ v: [Int64], scalar: Bool = false) -> String {
    let n = fresh(base)
    g.initializers.append((n, Tensor.int64(scalar ? [] : [v.count], v)))
    return n
  }

  mutating func addFloat(_ g: inout Graph, _ base: String, _ v: Float) -> String {
    let n = fresh(base)
    g.initializers.append((n, Tensor.float32([], [v])))
    return n
  }

  mutating func rewrite(_ g: inout Graph) throws {
    var consumers = Set<String>(g.outputs.map(\.name))
    for n in g.nodes {
      for v in n.inputs { consumers.insert(v) }
      for s in n.subgraphs { consumers.formUnion(s.capturedNames) }
    }
    let inits = Set(g.initializers.map(\.name))
    var out: [Node] = []
    out.reserveCapacity(g.nodes.count)
    for var node in g.nodes {
      // Subgraphs first.
      if !node.subgraphs.isEmpty {
        for k in node.attributes.indices {
          switch node.attributes[k].value {
          case .graph(var sub):
            try rewrite(&sub)
            node.attributes[k].value = .graph(sub)
          case .graphs(var subs):
            for j in subs.indices { try rewrite(&subs[j]) }
            node.attributes[k].value = .graphs(subs)
          default: break
          }
        }
      }
      guard node.domain.isEmpty || node.domain == "ai.onnx" else { out.append(node); continue }
      let base = node.name.isEmpty ? (node.outputs.first ?? node.opType) : node.name
      let op = node.opType
      switch op {
      case "Constant":
        let ctx = PassContext(file: file)
        if node.outputs.count == 1, let t = try constantNodeValue(node, ctx) {
          g.initializers.append((node.outputs[0], t))
          changed = true
          continue
        }
      case "Dropout":
        let maskUsed = node.outputs.count > 1 && !node.outputs[1].isEmpty && consumers.contains(node.outputs[1])
        if !maskUsed {
          node = Node(name: node.name, opType: "Identity", inputs: [node.inputs.first ?? ""], outputs: [node.outputs[0]])
          changed = true
        } else if dropoutIsInference(node, g), let x = node.inputs.first, !x.isEmpty {
          // Inference keeps every element: the mask is all true, ConstantOfShape(Shape(x)),
          // which folds to a constant once the shape of x is known.
          let shape = fresh(x + "_shape")
          out.append(Node(name: fresh(base + "/mask_shape"), opType: "Shape", inputs: [x], outputs: [shape]))
          out.append(Node(name: fresh(base + "/mask"), opType: "ConstantOfShape", inputs: [shape], outputs: [node.outputs[1]],
                          attributes: [Attribute("value", .tensor(Tensor(dtype: .bool, dims: [1], values: [UInt8(1)])))]))
          node = Node(name: node.name, opType: "Identity", inputs: [x], outputs: [node.outputs[0]])
          changed = true
        }
      case "LSTM", "GRU", "RNN":
        if node.int("layout") == 1 {
          let ended = rewriteBatchMajorRNN(node, &out, base)
          out.append(contentsOf: ended)
          changed = true
          continue
        }
      case "Mod":
        if (node.int("fmod") ?? 0) == 0, node.inputs.count == 2, node.outputs.count == 1,
           dtypes[node.inputs[0]] == .float32 {
          out.append(contentsOf: rewriteFloorMod(node, &g, base))
          changed = true
          continue
        }
      case "Pow":
        // An integer exponent on a float base (Pow-12 allows mixed types): cast the exponent to
        // the base's type so one float kernel serves; integer powers are exact in float.
        if node.inputs.count == 2, let bt = dtypes[node.inputs[0]], let et = dtypes[node.inputs[1]],
           [DType.float32, .float64, .float16].contains(bt), et != bt,
           [DType.int8, .int16, .int32, .int64, .uint8, .uint16, .uint32, .uint64].contains(et) {
          let cast = fresh(node.inputs[1] + "_as_" + bt.description)
          out.append(Node(name: fresh(base + "/cast_exponent"), opType: "Cast", inputs: [node.inputs[1]], outputs: [cast],
                          attributes: [Attribute("to", .int(Int64(bt.rawValue)))]))
          node.inputs[1] = cast
          changed = true
        }
      case "Slice":
        if node.ints("starts") != nil, node.inputs.count == 1 {
          let starts = node.ints("starts") ?? [], ends = node.ints("ends") ?? []
          var inputs = [node.inputs[0], addInts(&g, base + "_starts", starts), addInts(&g, base + "_ends", ends)]
          if let axes = node.ints("axes") { inputs.append(addInts(&g, base + "_axes", axes)) }
          node.inputs = inputs
          node.attributes.removeAll { ["starts", "ends", "axes"].contains($0.name) }
          changed = true
        }
      case "Squeeze", "Unsqueeze":
        if let axes = node.ints("axes"), node.inputs.count == 1 {
          node.inputs.append(addInts(&g, base + "_axes", axes))
          node[attribute: "axes"] = nil
          changed = true
        }
      case "Split":
        if let split = node.ints("split"), node.inputs.count == 1 {
          node.inputs.append(addInts(&g, base + "_split", split))
          node[attribute: "split"] = nil
          changed = true
        } else if node.inputs.count == 1 || node.inputs[1].isEmpty, node.int("num_outputs") == nil {
          // Equal split into the outputs: opset 18 spells it num_outputs.
          node[attribute: "num_outputs"] = .int(Int64(node.outputs.count))
          changed = true
        }
      case "Pad":
        if let pads = node.ints("pads") ?? node.ints("paddings"), node.inputs.count == 1 {
          node.inputs.append(addInts(&g, base + "_pads", pads))
          if let v = node.float("value"), v != 0 { node.inputs.append(addFloat(&g, base + "_value", v)) }
          node.attributes.removeAll { ["pads", "paddings", "value"].contains($0.name) }
          changed = true
        }
      case "Clip":
        if node.inputs.count == 1, node.float("min") != nil || node.float("max") != nil {
          let mn = node.float("min"), mx = node.float("max")
          node.inputs.append(mn.map { addFloat(&g, base + "_min", $0) } ?? "")
          if let mx { node.inputs.append(addFloat(&g, base + "_max", mx)) }
          node.attributes.removeAll { ["min", "max"].contains($0.name) }
          changed = true
        }
      case "Reshape":
        if let shape = node.ints("shape"), node.inputs.count == 1 {
          node.inputs.append(addInts(&g, base + "_shape", shape))
          node[attribute: "shape"] = nil
          changed = true
        }
      case "Concat":
        if node.int("axis") == nil, opset < 4 {
          node[attribute: "axis"] = .int(1)
          changed = true
        }
      case "Cast":
        if case .string(let s)? = node[attribute: "to"], let dt = dtypeNamed(String(decoding: s, as: UTF8.self)) {
          node[attribute: "to"] = .int(Int64(dt.rawValue))
          changed = true
        }
      case "Gemm":
        if node.int("broadcast") != nil {
          node[attribute: "broadcast"] = nil
          changed = true
        }
      case "BatchNormalization":
        if node.int("training_mode") == 1, node.inputs.count == 5, !node.inputs.contains(""),
           let r = ranks[node.inputs[0]], r >= 2, dtypes[node.inputs[0]] == .float32 {
          out.append(contentsOf: rewriteTrainingBatchNorm(node, &g, base, rank: r))
          changed = true
          continue
        }
        let spatial = node.int("spatial") ?? 1
        if spatial == 1 {
          let before = node.attributes.count
          node.attributes.removeAll { ["spatial", "is_test", "consumed_inputs"].contains($0.name) }
          if node.outputs.count > 1, node.outputs.dropFirst().allSatisfy({ $0.isEmpty || !consumers.contains($0) }) {
            node.outputs = [node.outputs[0]]
            changed = true
          }
          if node.attributes.count != before { changed = true }
        }
      case "Upsample":
        try rewriteUpsample(&node, &g, base)
      case "Resize":
        rewriteResize(&node, &g)
      case "Softmax", "LogSoftmax", "Hardmax":
        if opset < 13 {
          if let rewritten = rewriteSoftmax(node, &g, base) {
            out.append(contentsOf: rewritten)
            continue
          }
        }
      case "PRelu":
        if opset < 7, node.inputs.count == 2, let rx = ranks[node.inputs[0]], let rs = ranks[node.inputs[1]],
           rs == 1, rx >= 3 {
          // Legacy per-channel slope [C] for X [N, C, ...]: align it at axis 1.
          alignSecondInput(&node, &out, &g, base, axis: 1, rankA: rx, rankB: rs)
        }
      default:
        break
      }
      if reduceOpsAll.contains(op), let axes = node.ints("axes"), node.inputs.count == 1 {
        node.inputs.append(addInts(&g, base + "_axes", axes))
        node[attribute: "axes"] = nil
        changed = true
      }
      if legacyBroadcastOps.contains(op), let b = node.int("broadcast") {
        if b == 0 || node.int("axis") == nil {
          node[attribute: "broadcast"] = nil
          node[attribute: "axis"] = nil
          changed = true
        } else if node.inputs.count == 2, let ra = ranks[node.inputs[0]], let rb = ranks[node.inputs[1]],
                  let axis = node.int("axis") {
          let a = Int(axis < 0 ? axis + Int64(ra) : axis)
          alignSecondInput(&node, &out, &g, base, axis: a, rankA: ra, rankB: rb)
          node[attribute: "broadcast"] = nil
          node[attribute: "axis"] = nil
        }
      }
      out.append(node)
    }
    g.nodes = out
    _ = inits
  }

  /// `layout=1` (batch-major) recurrent node → the `layout=0` node between transposes:
  /// X [B, S, I] and initial_h/initial_c [B, D, H] are transposed in (appended to `out`); the
  /// returned nodes are the rewritten op followed by Y [S, D, B, H] → [B, S, D, H] and
  /// Y_h/Y_c [D, B, H] → [B, D, H] transposes under the original output names.
  mutating func rewriteBatchMajorRNN(_ node: Node, _ out: inout [Node], _ base: String) -> [Node] {
    var n = node
    n[attribute: "layout"] = .int(0)
    func transpose(_ v: String, _ perm: [Int64], _ to: String, _ tag: String) -> Node {
      Node(name: fresh(base + "/" + tag), opType: "Transpose", inputs: [v], outputs: [to],
           attributes: [Attribute("perm", .ints(perm))])
    }
    let stateInputs: Set<Int> = node.opType == "LSTM" ? [5, 6] : [5]
    for (i, v) in node.inputs.enumerated() where !v.isEmpty && (i == 0 || stateInputs.contains(i)) {
      let t = fresh(v + "_seq_major")
      out.append(transpose(v, [1, 0, 2], t, "layout_in\(i)"))
      n.inputs[i] = t
    }
    var after: [Node] = []
    for (i, v) in node.outputs.enumerated() where !v.isEmpty {
      let t = fresh(v + "_seq_major")
      n.outputs[i] = t
      after.append(transpose(t, i == 0 ? [2, 0, 1, 3] : [1, 0, 2], v, "layout_out\(i)"))
    }
    return [n] + after
  }

  /// Float `Mod` with `fmod=0` (numpy's mod: the result takes the divisor's sign) from the C
  /// fmod: r = fmod(a, b); y = r * b < 0 ? r + b : r. Exact where fmod is (r + b is the one
  /// rounding numpy's own formula also has); keeps numpy's edge cases (x mod ±inf, NaN, 0).
  mutating func rewriteFloorMod(_ node: Node, _ g: inout Graph, _ base: String) -> [Node] {
    let b = node.inputs[1]
    let r = fresh(base + "_fmod"), rb = fresh(base + "_fmod_times_b"), neg = fresh(base + "_signs_differ")
    let shifted = fresh(base + "_fmod_plus_b")
    let zero = addFloat(&g, base + "_zero", 0)
    var mod = node
    mod[attribute: "fmod"] = .int(1)
    mod.outputs = [r]
    return [
      mod,
      Node(name: fresh(base + "/times_b"), opType: "Mul", inputs: [r, b], outputs: [rb]),
      Node(name: fresh(base + "/signs_differ"), opType: "Less", inputs: [rb, zero], outputs: [neg]),
      Node(name: fresh(base + "/plus_b"), opType: "Add", inputs: [r, b], outputs: [shifted]),
      Node(name: fresh(base + "/select"), opType: "Where", inputs: [neg, shifted, r], outputs: [node.outputs[0]]),
    ]
  }

  /// Training-mode `BatchNormalization` (opset 14+) from reductions, as ONNX defines it: batch
  /// statistics over every axis but 1 (mean, population variance), y normalized with them;
  /// outputs 1 and 2 (when present) are the running statistics
  /// `input * momentum + batch * (1 - momentum)`.
  mutating func rewriteTrainingBatchNorm(_ node: Node, _ g: inout Graph, _ base: String, rank r: Int) -> [Node] {
    let x = node.inputs[0], scale = node.inputs[1], bias = node.inputs[2]
    let runMean = node.inputs[3], runVar = node.inputs[4]
    let eps = node.float("epsilon") ?? 1e-5, momentum = node.float("momentum") ?? 0.9
    let axes = addInts(&g, base + "_stat_axes", [0] + (2..<Int64(r)).map { $0 })
    var nodes: [Node] = []
    func add(_ op: String, _ inputs: [String], _ tag: String, attrs: [Attribute] = [], output: String? = nil) -> String {
      let o = output ?? fresh(base + "_" + tag)
      nodes.append(Node(name: fresh(base + "/" + tag), opType: op, inputs: inputs, outputs: [o], attributes: attrs))
      return o
    }
    let keep = [Attribute("keepdims", .int(1))], drop = [Attribute("keepdims", .int(0))]
    let mean = add("ReduceMean", [x, axes], "batch_mean", attrs: keep)
    let centred = add("Sub", [x, mean], "centred")
    let square = add("Mul", [centred, centred], "centred_sq")
    let variance = add("ReduceMean", [square, axes], "batch_var", attrs: keep)
    let std = add("Sqrt", [add("Add", [variance, addFloat(&g, base + "_eps", eps)], "var_eps")], "std")
    let normed = add("Div", [centred, std], "normed")
    // Per-channel [C] → [C, 1, ...] so it broadcasts against [N, C, ...].
    var s = scale, b = bias
    if r > 2 {
      let tail = addInts(&g, base + "_channel_axes", (1..<Int64(r - 1)).map { $0 })
      s = add("Unsqueeze", [scale, tail], "scale_c")
      b = add("Unsqueeze", [bias, tail], "bias_c")
    }
    _ = add("Add", [add("Mul", [normed, s], "scaled"), b], "y", output: node.outputs[0])
    let keepFactor = addFloat(&g, base + "_momentum", momentum)
    let newFactor = addFloat(&g, base + "_one_minus_momentum", 1 - momentum)
    for (k, (running, stat)) in [(runMean, x), (runVar, square)].enumerated() where node.outputs.count > k + 1 && !node.outputs[k + 1].isEmpty {
      let batch = add("ReduceMean", [stat, axes], k == 0 ? "mean_c" : "var_c", attrs: drop)
      let old = add("Mul", [running, keepFactor], k == 0 ? "mean_kept" : "var_kept")
      let new = add("Mul", [batch, newFactor], k == 0 ? "mean_new" : "var_new")
      _ = add("Add", [old, new], k == 0 ? "running_mean" : "running_var", output: node.outputs[k + 1])
    }
    return nodes
  }

  /// True when a Dropout runs in inference mode: no `training_mode` input, or a constant false
  /// one (an initializer of `g`), and no legacy `is_test=0`.
  func dropoutIsInference(_ node: Node, _ g: Graph) -> Bool {
    if let t = node.int("is_test"), t == 0 { return false }
    guard node.inputs.count > 2, !node.inputs[2].isEmpty else { return true }
    guard let t = g.initializers.first(where: { $0.name == node.inputs[2] })?.tensor,
          let v = t.integers(), v.count == 1 else { return false }
    return v[0] == 0
  }

  /// Makes input 1 (rank `rankB`, aligned at `axis` of input 0 of rank `rankA`) numpy-broadcastable
  /// by appending trailing 1-dims with an `Unsqueeze`.
  mutating func alignSecondInput(_ node: inout Node, _ out: inout [Node], _ g: inout Graph, _ base: String,
                                 axis: Int, rankA: Int, rankB: Int) {
    let trailing = rankA - axis - rankB
    guard trailing > 0 else { return }
    let axes = (0..<trailing).map { Int64(rankB + $0) }
    let axesName = addInts(&g, base + "_align_axes", axes)
    let aligned = fresh(node.inputs[1] + "_aligned")
    out.append(Node(name: fresh(base + "/align"), opType: "Unsqueeze", inputs: [node.inputs[1], axesName], outputs: [aligned]))
    node.inputs[1] = aligned
    changed = true
  }

  mutating func rewriteUpsample(_ node: inout Node, _ g: inout Graph, _ base: String) throws {
    var scalesName: String?
    if node.inputs.count >= 2, !node.inputs[1].isEmpty {
      scalesName = node.inputs[1]
    } else if let scales = node.floats("scales") {
      let n = fresh(base + "_scales")
      g.initializers.append((n, Tensor.float32([scales.count], scales)))
      scalesName = n
    } else if let h = node.float("height_scale"), let w = node.float("width_scale") {
      let n = fresh(base + "_scales")
      g.initializers.append((n, Tensor.float32([4], [1, 1, h, w])))
      scalesName = n
    }
    guard let scalesName else { return }
    var mode = node.string("mode") ?? "nearest"
    if mode == "bilinear" { mode = "linear" }
    node = Node(name: node.name, opType: "Resize", inputs: [node.inputs[0], "", scalesName], outputs: node.outputs,
                attributes: [Attribute("mode", .string(Array(mode.utf8))),
                             Attribute("coordinate_transformation_mode", .string(Array("asymmetric".utf8))),
                             Attribute("nearest_mode", .string(Array("floor".utf8)))])
    changed = true
  }

  mutating func rewriteResize(_ node: inout Node, _ g: inout Graph) {
    if opset < 11 {
      // Opset 10: Resize(X, scales), asymmetric coordinates, floor for nearest.
      guard node.inputs.count == 2 else { return }
      node.inputs = [node.inputs[0], "", node.inputs[1]]
      if node.string("coordinate_transformation_mode") == nil {
        node[attribute: "coordinate_transformation_mode"] = .string(Array("asymmetric".utf8))
      }
      if node.string("nearest_mode") == nil { node[attribute: "nearest_mode"] = .string(Array("floor".utf8)) }
      changed = true
    }
    if node.string("mode") == nil { node[attribute: "mode"] = .string(Array("nearest".utf8)); changed = true }
    if node.string("coordinate_transformation_mode") == nil {
      node[attribute: "coordinate_transformation_mode"] = .string(Array("half_pixel".utf8))
      changed = true
    }
    if node.string("nearest_mode") == nil {
      node[attribute: "nearest_mode"] = .string(Array("round_prefer_floor".utf8))
      changed = true
    }
  }

  /// Opset < 13 softmax family: nil when the node is already canonical (axis -1).
  mutating func rewriteSoftmax(_ node: Node, _ g: inout Graph, _ base: String) -> [Node]? {
    let axis = node.int("axis") ?? 1
    if axis == -1 { return nil }
    let x = node.inputs.first ?? ""
    if let r = ranks[x], axis == Int64(r - 1) || (axis < 0 && axis + Int64(r) == Int64(r - 1)) {
      var n = node
      n[attribute: "axis"] = .int(-1)
      changed = true
      return [n]
    }
    let flat = fresh(x + "_flat2d")
    let sm = fresh(node.outputs[0] + "_2d")
    let shape = fresh(x + "_shape")
    changed = true
    return [
      Node(name: fresh(base + "/flatten"), opType: "Flatten", inputs: [x], outputs: [flat], attributes: [Attribute("axis", .int(axis))]),
      Node(name: node.name, opType: node.opType, inputs: [flat], outputs: [sm], attributes: [Attribute("axis", .int(-1))]),
      Node(name: fresh(base + "/shape"), opType: "Shape", inputs: [x], outputs: [shape]),
      Node(name: fresh(base + "/reshape"), opType: "Reshape", inputs: [sm, shape], outputs: [node.outputs[0]]),
    ]
  }
}

/// DType from an opset-1 `Cast.to` string (`FLOAT`, `INT64`, ...).
private func dtypeNamed(_ s: String) -> DType? {
  switch s.uppercased() {
  case "FLOAT": return .float32
  case "DOUBLE": return .float64
  case "FLOAT16": return .float16
  case "INT8": return .int8
  case "UINT8": return .uint8
  case "INT16": return .int16
  case "UINT16": return .uint16
  case "INT32": return .int32
  case "UINT32": return .uint32
  case "INT64": return .int64
  case "UINT64": return .uint64
  case "BOOL": return .bool
  default: return nil
  }
}
