import GraftIR

/// Rewrites old-opset forms into one modern form. Runs first in the pipeline.
///
/// The canonical form (what later passes and the back end's lowering may rely on, whatever
/// `context.onnxOpset` says; forms are told apart by input presence, never by opset):
/// - No `Constant` nodes: each becomes an initializer named after its output.
/// - `Dropout` is `Identity` (inference) unless its mask output is used.
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
    var copy = graph
    var engine = InferenceEngine(context: context)
    if (try? engine.infer(&copy, outer: Scope())) != nil { collectRanks(copy, into: &ranks) } else { collectRanks(graph, into: &ranks) }
    var rewriter = Rewriter(opset: context.onnxOpset, taken: names, ranks: ranks, file: context.file)
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

private let reduceOpsAll: Set<String> = ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceL1",
                                         "ReduceProd", "ReduceSumSquare", "ReduceLogSumExp", "ReduceLogSum"]
private let legacyBroadcastOps: Set<String> = ["Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal",
                                               "Greater", "Less"]

private struct Rewriter {
  let opset: Int64
  var taken: Set<String>
  let ranks: [String: Int]
  let file: String
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
