import GraftIR

extension Graph {
  /// The graph with every `Constant` node that holds a `value` tensor turned into an
  /// initializer of the same name (exporters such as Paddle's store weights this way), so that
  /// those weights can be matched and rewritten. Constants that are graph outputs stay nodes.
  /// The computed function is unchanged.
  func hoistingConstants() -> Graph {
    let outputs = Set(self.outputs.map(\.name))
    var g = self
    var kept: [Node] = []
    kept.reserveCapacity(nodes.count)
    let existing = Set(initializers.map(\.name))
    for node in nodes {
      if node.opType == "Constant", node.domain.isEmpty || node.domain == "ai.onnx", node.outputs.count == 1,
         case .tensor(let t)? = node[attribute: "value"], !outputs.contains(node.outputs[0]),
         !existing.contains(node.outputs[0]) {
        g.initializers.append((node.outputs[0], t))
        continue
      }
      kept.append(node)
    }
    g.nodes = kept
    return g
  }
}
