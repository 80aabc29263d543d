import GraftIR

/// Fuses an elementwise activation into the node that produces its input.
///
/// Contract: an activation node (Relu, Clip with constant bounds, LeakyRelu, HardSigmoid,
/// HardSwish, Sigmoid, Tanh, Gelu, Elu, Selu, Softplus, Softsign) whose input is written by a
/// Conv, ConvTranspose, Gemm, MatMul, Add or Mul (the kernels that apply `graft.act`)
/// disappears; the producer gets the attributes `graft.act` (int, GRAFT_ACT_* code),
/// `graft.act_alpha` and `graft.act_beta` (floats, only for activations with parameters) and
/// writes the activation's output name. A two-input `Sum` producer becomes that `Add` (same
/// semantics, and Add is the kernel that takes the activation). Decomposed forms fuse the same
/// way:
/// - SiLU `Mul(x, Sigmoid(x))` (either operand order) → GRAFT_ACT_SILU on x's producer;
/// - HardSwish `Mul(x, HardSigmoid(x; alpha = 1/6, beta = 0.5))` → GRAFT_ACT_HARD_SWISH on x's
///   producer, or, when that producer cannot take it and the opset is ≥ 14, one `HardSwish`
///   node instead of the two.
/// - HardSwish as arithmetic `Mul(x, Clip(Add(x, 3), 0, 6)) / 6` (Paddle's `hard_swish`; the
///   `/ 6` may be `* (1/6)`, the Clip may already be fused into the Add as GRAFT_ACT_CLIP
///   0..6, operands of Add/Mul in either order) → GRAFT_ACT_HARD_SWISH on x's producer, or one
///   `HardSwish` node when the producer cannot take it and the opset is ≥ 14.
/// Conditions: the producer is an ai.onnx node with one output, of type float32 (Add and Mul
/// (and Sum) must have that type in `valueInfo`; the others only have float kernels), without a
/// fused activation already, and every intermediate value is read only inside the pattern and
/// is not a graph output. Anything else is left alone. Cost: linear per fused node.
public struct FuseActivation: Pass {
  public let name = "fuse-activation"

  public init() {}

  /// GRAFT_ACT_* codes (graft_kernels.h).
  public enum Code: Int64, Sendable {
    case relu = 1, clip, leakyRelu, hardSigmoid, hardSwish, sigmoid, silu, tanh, gelu, geluTanh,
         elu, selu, softplus, softsign
  }

  static let producerOps: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul"]

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var changed = false
    var i = 0
    while i < graph.nodes.count {
      let node = graph.nodes[i]
      if node.domain.isEmpty || node.domain == "ai.onnx" {
        if let act = activation(node, graph), let x = node.inputs.first, !x.isEmpty,
           let p = fusableProducer(of: x, readers: 1, graph) {
          fuse(act, into: p, output: node.outputs[0], &graph)
          graph.nodes.remove(at: i)
          changed = true
          continue
        }
        if node.opType == "Mul", try fuseGatedPattern(at: i, &graph, context) {
          changed = true
          continue
        }
        if node.opType == "Div" || node.opType == "Mul", fuseHardSwishArithmetic(at: i, &graph, context) {
          changed = true
          continue
        }
      }
      i += 1
    }
    return changed
  }

  /// The fused form of an activation node: (code, alpha, beta), or nil if it is not one.
  func activation(_ node: Node, _ graph: Graph) -> (Code, Float?, Float?)? {
    guard node.inputs.count >= 1, node.outputs.count == 1, !node.outputs[0].isEmpty else { return nil }
    switch node.opType {
    case "Relu": return (.relu, nil, nil)
    case "LeakyRelu": return (.leakyRelu, node.float("alpha") ?? 0.01, nil)
    case "HardSigmoid": return (.hardSigmoid, node.float("alpha") ?? 0.2, node.float("beta") ?? 0.5)
    case "HardSwish": return (.hardSwish, nil, nil)
    case "Sigmoid": return (.sigmoid, nil, nil)
    case "Tanh": return (.tanh, nil, nil)
    case "Elu": return (.elu, node.float("alpha") ?? 1, nil)
    case "Selu":
      return (.selu, node.float("alpha") ?? 1.67326319217681884765625, node.float("gamma") ?? 1.05070102214813232421875)
    case "Softplus": return (.softplus, nil, nil)
    case "Softsign": return (.softsign, nil, nil)
    case "Gelu":
      switch node.string("approximate") ?? "none" {
      case "none": return (.gelu, nil, nil)
      case "tanh": return (.geluTanh, nil, nil)
      default: return nil
      }
    case "Clip":
      var lo = -Float.infinity, hi = Float.infinity
      if node.inputs.count > 1 {
        // opset ≥ 11: bounds are optional scalar inputs that must be constant here.
        for (k, slot) in [1, 2].enumerated() where node.inputs.count > slot && !node.inputs[slot].isEmpty {
          guard let t = graph.initializer(node.inputs[slot]), let v = t.scalarFloat else { return nil }
          if k == 0 { lo = v } else { hi = v }
        }
      } else {
        lo = node.float("min") ?? lo
        hi = node.float("max") ?? hi
      }
      guard !lo.isNaN, !hi.isNaN else { return nil }
      if lo == 0 && hi == .infinity { return (.relu, nil, nil) }
      return (.clip, lo, hi)
    default:
      return nil
    }
  }

  /// Index of the node writing `x` if it can take a fused activation and `x` has exactly
  /// `readers` reads (the pattern's own) and is not a graph output.
  func fusableProducer(of x: String, readers: Int, _ graph: Graph) -> Int? {
    guard !graph.isGraphOutput(x), graph.useCount(x) == readers, let p = graph.producers[x] else { return nil }
    let node = graph.nodes[p]
    let twoInputSum = node.opType == "Sum" && node.inputs.count == 2 && !node.inputs.contains("")
    guard FuseActivation.producerOps.contains(node.opType) || twoInputSum, node.domain.isEmpty || node.domain == "ai.onnx",
          node.outputs.count == 1, node.outputs[0] == x, node[attribute: "graft.act"] == nil else { return nil }
    if let t = graph.type(of: x) {
      guard t.dtype == .float32 else { return nil }
    } else if node.opType == "Add" || node.opType == "Mul" || node.opType == "Sum" {
      return nil
    }
    return p
  }

  private func fuse(_ act: (Code, Float?, Float?), into p: Int, output: String, _ graph: inout Graph) {
    var node = graph.nodes[p]
    let old = node.outputs[0]
    if node.opType == "Sum" { node.opType = "Add" }  // a two-input Sum is an Add (ResNet's residuals)
    node[attribute: "graft.act"] = .int(act.0.rawValue)
    if let a = act.1 { node[attribute: "graft.act_alpha"] = .float(a) }
    if let b = act.2 { node[attribute: "graft.act_beta"] = .float(b) }
    node.outputs[0] = output
    graph.nodes[p] = node
    if graph.valueInfo[output] == nil, let t = graph.valueInfo[old] { graph.valueInfo[output] = t }
    graph.valueInfo[old] = nil
    graph.valueInfoOrder.removeAll { $0 == old }
  }

  /// The value of a one-element float initializer.
  private func scalar(_ name: String, _ graph: Graph) -> Float? {
    name.isEmpty ? nil : graph.initializer(name)?.scalarFloat
  }

  /// `Mul(x, Clip(Add(x, 3), 0, 6)) / 6` → HARD_SWISH (see the contract above). `d` is the
  /// final Div (or Mul by 1/6).
  private func fuseHardSwishArithmetic(at d: Int, _ graph: inout Graph, _ context: PassContext) -> Bool {
    let last = graph.nodes[d]
    guard last.inputs.count == 2, last.outputs.count == 1, !last.outputs[0].isEmpty,
          last[attribute: "graft.act"] == nil else { return false }
    var m = ""
    if last.opType == "Div" {
      guard scalar(last.inputs[1], graph) == 6 else { return false }
      m = last.inputs[0]
    } else {
      for side in 0..<2 {
        if let k = scalar(last.inputs[side], graph), abs(Double(k) - 1.0 / 6.0) <= 1e-7 { m = last.inputs[1 - side] }
      }
    }
    let producers = graph.producers
    guard !m.isEmpty, !graph.isGraphOutput(m), graph.useCount(m) == 1, let mi = producers[m] else { return false }
    let mul = graph.nodes[mi]
    guard mul.opType == "Mul", mul.domain.isEmpty || mul.domain == "ai.onnx", mul.inputs.count == 2,
          mul.outputs == [m], mul[attribute: "graft.act"] == nil else { return false }
    for side in 0..<2 {
      let x = mul.inputs[side], gate = mul.inputs[1 - side]
      guard !x.isEmpty, gate != x, !graph.isGraphOutput(gate), graph.useCount(gate) == 1,
            let gi = producers[gate] else { continue }
      var remove = [d, mi, gi]
      var addIndex = gi
      let gateNode = graph.nodes[gi]
      if gateNode.opType == "Clip" {
        guard let act = activation(gateNode, graph), act.0 == .clip, act.1 == 0, act.2 == 6,
              let t = gateNode.inputs.first, !t.isEmpty, !graph.isGraphOutput(t), graph.useCount(t) == 1,
              let ai = producers[t], graph.nodes[ai][attribute: "graft.act"] == nil else { continue }
        addIndex = ai
        remove.append(ai)
      } else {
        guard gateNode.int("graft.act") == Code.clip.rawValue, gateNode.float("graft.act_alpha") == 0,
              gateNode.float("graft.act_beta") == 6 else { continue }
      }
      let add = graph.nodes[addIndex]
      guard add.opType == "Add", add.domain.isEmpty || add.domain == "ai.onnx", add.inputs.count == 2,
            (add.inputs[0] == x && scalar(add.inputs[1], graph) == 3) || (add.inputs[1] == x && scalar(add.inputs[0], graph) == 3)
      else { continue }
      if let p = fusableProducer(of: x, readers: 2, graph) {
        fuse((.hardSwish, nil, nil), into: p, output: last.outputs[0], &graph)
        // fuse() edits node p in place, so the indices in `remove` still hold.
        for k in remove.sorted(by: >) { graph.nodes.remove(at: k) }
        return true
      }
      if context.onnxOpset >= 14 {
        graph.nodes[d] = Node(name: last.name, opType: "HardSwish", inputs: [x], outputs: last.outputs)
        for k in remove.filter({ $0 != d }).sorted(by: >) { graph.nodes.remove(at: k) }
        return true
      }
    }
    return false
  }

  /// `Mul(x, Sigmoid(x))` → SILU and `Mul(x, HardSigmoid(x; 1/6, 0.5))` → HARD_SWISH.
  private func fuseGatedPattern(at m: Int, _ graph: inout Graph, _ context: PassContext) throws -> Bool {
    let mul = graph.nodes[m]
    guard mul.inputs.count == 2, mul.outputs.count == 1, !mul.outputs[0].isEmpty else { return false }
    let producers = graph.producers
    for side in 0..<2 {
      let gate = mul.inputs[side], x = mul.inputs[1 - side]
      guard !gate.isEmpty, !x.isEmpty, gate != x, let g = producers[gate] else { continue }
      let gateNode = graph.nodes[g]
      guard gateNode.domain.isEmpty || gateNode.domain == "ai.onnx", gateNode.inputs.first == x,
            gateNode.outputs.count == 1, !graph.isGraphOutput(gate), graph.useCount(gate) == 1 else { continue }
      let code: Code
      switch gateNode.opType {
      case "Sigmoid":
        code = .silu
      case "HardSigmoid":
        let alpha = gateNode.float("alpha") ?? 0.2, beta = gateNode.float("beta") ?? 0.5
        guard abs(Double(alpha) - 1.0 / 6.0) <= 1e-6, beta == 0.5 else { continue }
        code = .hardSwish
      default:
        continue
      }
      if let p = fusableProducer(of: x, readers: 2, graph) {
        fuse((code, nil, nil), into: p, output: mul.outputs[0], &graph)
        // fuse() edits node p in place, so g and m still index the gate and the Mul.
        graph.nodes.remove(at: max(g, m))
        graph.nodes.remove(at: min(g, m))
        return true
      }
      if code == .hardSwish, context.onnxOpset >= 14 {
        graph.nodes[m] = Node(name: mul.name, opType: "HardSwish", inputs: [x], outputs: mul.outputs)
        graph.nodes.remove(at: g)
        return true
      }
    }
    return false
  }
}
