import GraftIR

/// Removes copies: `Identity`, and `Dropout` in inference form (no `training_mode` input or a
/// constant false one, and its `mask` output absent or unread).
///
/// Contract: consumers of the copy's output read its input instead (also inside subgraphs
/// that capture it). When the output is a graph output, the graph's interface names are kept:
/// if the input is produced by a node and is not itself a graph output, that node's output is
/// renamed to the graph output name (and its readers follow); otherwise (the input is a graph
/// input, an initializer or another graph output) the copy stays. Types in `valueInfo` move
/// with the names. Cost: one scan plus a rename per removed node.
public struct RemoveIdentity: Pass {
  public let name = "remove-identity"

  public init() {}

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var changed = false
    var i = 0
    while i < graph.nodes.count {
      let node = graph.nodes[i]
      guard isCopy(node, graph), let input = node.inputs.first, !input.isEmpty,
            let output = node.outputs.first, !output.isEmpty else {
        i += 1
        continue
      }
      if !graph.isGraphOutput(output) {
        graph.nodes.remove(at: i)
        graph.replaceUses(of: output, with: input)
        graph.valueInfo[output] = nil
        changed = true
        continue
      }
      // The copy names a graph output: rename the producer's output instead, if there is one.
      let producers = graph.producers
      guard let p = producers[input], !graph.isGraphOutput(input) else {
        i += 1
        continue
      }
      let inputType = graph.valueInfo[input]
      graph.nodes.remove(at: i)
      let slot = graph.nodes[p].outputs.firstIndex(of: input) ?? 0
      graph.nodes[p].outputs[slot] = output
      graph.replaceUses(of: input, with: output)
      if graph.valueInfo[output] == nil, let inputType { graph.valueInfo[output] = inputType }
      graph.valueInfo[input] = nil
      changed = true
      // Node p comes before i, so index i now holds the node after the removed copy.
    }
    return changed
  }

  private func isCopy(_ node: Node, _ graph: Graph) -> Bool {
    guard node.domain.isEmpty || node.domain == "ai.onnx" else { return false }
    switch node.opType {
    case "Identity":
      return node.inputs.count == 1 && node.outputs.count == 1
    case "Dropout":
      if node.outputs.count > 1, !node.outputs[1].isEmpty, graph.useCount(node.outputs[1]) > 0 { return false }
      if node.inputs.count >= 3, !node.inputs[2].isEmpty {
        guard let t = graph.initializer(node.inputs[2]), let v = t.integers(), v.allSatisfy({ $0 == 0 }) else { return false }
      }
      return true
    default:
      return false
    }
  }
}
