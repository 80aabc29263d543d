import GraftIR

/// The ai.onnx ops the C runtime executes (fp32), as the runtime issue lists them.
public let runtimeSupportedOps: Set<String> = [
  "Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "InstanceNormalization",
  "LayerNormalization", "Relu", "LeakyRelu", "PRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
  "Elu", "Selu", "Gelu", "Erf", "Exp", "Log", "Sqrt", "Pow", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round",
  "Sin", "Cos", "Sign", "Softplus", "Softsign", "Softmax", "LogSoftmax", "MaxPool", "AveragePool",
  "GlobalAveragePool", "GlobalMaxPool", "LpPool", "LRN", "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Sum",
  "Mean", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not", "Concat",
  "Split", "Slice", "Pad", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Gather",
  "GatherElements", "Tile", "Expand", "Where", "Cast", "Identity", "Dropout", "Resize", "Upsample",
  "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceL1", "ReduceProd", "ReduceSumSquare",
  "ReduceLogSumExp", "ArgMax", "ArgMin", "DepthToSpace", "SpaceToDepth", "LSTM", "GRU",
]

/// Shape ops that are supported only when they fold away (or, for fills with constant inputs,
/// when the back end's constant folding can evaluate them).
public let foldOnlyOps: Set<String> = ["Shape", "Size", "ConstantOfShape", "Constant", "Range", "If"]

/// One line per node Graft cannot compile, over all scopes (not inside a listed node), in graph order:
/// `node 'NAME' (OP, domain 'D', opset N): REASON`. Empty when everything is supported.
/// Run it after canonicalization, shape inference and If folding: fold-only ops still present
/// are listed with the reason they did not fold.
public func unsupportedOps(_ graph: Graph, _ context: PassContext) -> [String] {
  var lines: [String] = []
  func opset(_ domain: String) -> Int64 {
    let d = domain == "ai.onnx" ? "" : domain
    return context.opsets.first(where: { ($0.domain == "ai.onnx" ? "" : $0.domain) == d })?.version ?? 0
  }
  func walk(_ g: Graph, consts: Set<String>) {
    var consts = consts
    for (n, _) in g.initializers { consts.insert(n) }
    for node in g.nodes {
      let domain = node.domain.isEmpty ? "ai.onnx" : node.domain
      let head = "node '\(node.displayName)' (\(node.opType), domain '\(domain)', opset \(opset(node.domain)))"
      var reason: String?
      if domain != "ai.onnx" {
        reason = "op is not supported"
      } else if foldOnlyOps.contains(node.opType) {
        switch node.opType {
        case "Shape", "Size":
          reason = "input shape is not static; bind the inputs with --input-shape"
        case "ConstantOfShape", "Range":
          if !node.inputs.allSatisfy({ $0.isEmpty || consts.contains($0) }) {
            reason = "inputs are not constant after binding; \(node.opType) must fold away"
          }
        case "If":
          let deps = inputsFeeding(node.inputs.first ?? "", g)
          if deps.isEmpty {
            reason = "condition is not constant; bind the inputs it depends on with --bind"
          } else {
            reason = "condition is not constant; it depends on " + deps.map { "'\($0)'" }.joined(separator: ", ")
              + ": bind with --bind \(deps[0])=VALUE"
          }
        default:
          reason = "could not be folded to an initializer"
        }
      } else if !runtimeSupportedOps.contains(node.opType) {
        reason = "op is not supported"
      } else if let legacy = legacyForm(node) {
        reason = legacy
      }
      // A listed node's subgraphs are not compiled, so their contents are not listed.
      if let reason { lines.append("\(head): \(reason)"); continue }
      for sub in node.subgraphs { walk(sub, consts: consts) }
    }
  }
  walk(graph, consts: [])
  return lines
}

/// The graph inputs of `g` that `value` depends on (through the nodes of `g`), sorted.
func inputsFeeding(_ value: String, _ g: Graph) -> [String] {
  let inputs = Set(g.runtimeInputs.map(\.name))
  let producers = g.producers
  var seen = Set<String>()
  var stack = [value]
  var found = Set<String>()
  while let v = stack.popLast() {
    guard !v.isEmpty, seen.insert(v).inserted else { continue }
    if inputs.contains(v) { found.insert(v); continue }
    if let p = producers[v] { stack.append(contentsOf: g.nodes[p].inputs) }
  }
  return found.sorted()
}

/// Old-opset forms that canonicalization could not rewrite (nil when the node is canonical).
func legacyForm(_ node: Node) -> String? {
  if node.int("broadcast") != nil && node.opType != "Gemm" {
    return "legacy 'broadcast' attribute could not be rewritten (second input is not constant)"
  }
  if node.opType == "BatchNormalization", let s = node.int("spatial"), s == 0 {
    return "spatial=0 is not supported"
  }
  if node.opType == "Upsample" { return "Upsample form could not be rewritten to Resize" }
  return nil
}

/// Runs shape inference and If folding to a fixpoint (at most `maxRounds` rounds), as the
/// pipeline does for these two passes. Returns the number of rounds that changed the graph.
@discardableResult
public func inferShapesAndFoldIfs(_ graph: inout Graph, _ context: inout PassContext, maxRounds: Int = 16) throws -> Int {
  var rounds = 0
  let infer = ShapeInference(), foldIf = FoldIf()
  for _ in 0..<maxRounds {
    let a = try infer.run(&graph, &context)
    let b = try foldIf.run(&graph, &context)
    if context.checkInvariants { try graph.checkInvariants(file: context.file) }
    if !a && !b { break }
    rounds += 1
  }
  return rounds
}
