import GraftIR

extension Graph {
  /// The graph with constant parameters spelled as initializers, so that they can be matched
  /// and rewritten one by one:
  /// - a `Constant` node holding a `value` tensor (Paddle's exporter stores weights this way);
  /// - an `Identity` of an initializer (PyTorch's exporter deduplicates equal parameters, e.g.
  ///   freshly initialized BatchNorm statistics, into one initializer read through Identity
  ///   nodes named after each parameter): each output gets its own initializer (shared bytes).
  /// Nodes whose output is a graph output, or would clash with an existing name, are kept.
  /// The computed function is unchanged.
  func hoistingConstants() -> Graph {
    let outputs = Set(self.outputs.map(\.name))
    var g = self
    var kept: [Node] = []
    kept.reserveCapacity(nodes.count)
    var known = initializerMap
    for node in nodes {
      let standard = node.domain.isEmpty || node.domain == "ai.onnx"
      if standard, node.outputs.count == 1, !outputs.contains(node.outputs[0]), known[node.outputs[0]] == nil {
        var value: Tensor? = nil
        if node.opType == "Constant", case .tensor(let t)? = node[attribute: "value"] { value = t }
        if node.opType == "Identity", node.inputs.count == 1, let t = known[node.inputs[0]] { value = t }
        if let value {
          g.initializers.append((node.outputs[0], value))
          known[node.outputs[0]] = value
          continue
        }
      }
      kept.append(node)
    }
    g.nodes = kept
    return g
  }
}
