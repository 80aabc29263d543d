import GraftIR

/// Dead code elimination.
///
/// Contract: removes every node none of whose outputs reaches a graph output (through node
/// inputs or values captured by subgraphs), every initializer nothing reads (an unused
/// initializer that IR < 4 also lists as a graph input leaves the input list too), and every
/// `valueInfo` entry whose value no longer exists. Graph inputs that are not initializers are
/// the model's interface and always stay. Nodes are treated as free of side effects (ONNX
/// inference graphs have none). Subgraph bodies are not changed. Cost: linear in the graph.
public struct DeadCode: Pass {
  public let name = "dead-code"

  public init() {}

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var live = Set(graph.outputs.map(\.name))
    var keep = [Bool](repeating: false, count: graph.nodes.count)
    for i in graph.nodes.indices.reversed() {
      let node = graph.nodes[i]
      guard node.outputs.contains(where: { !$0.isEmpty && live.contains($0) }) else { continue }
      keep[i] = true
      for v in node.inputs where !v.isEmpty { live.insert(v) }
      for sub in node.subgraphs { live.formUnion(sub.capturedNames) }
    }
    var changed = false
    if keep.contains(false) {
      graph.nodes = graph.nodes.indices.filter { keep[$0] }.map { graph.nodes[$0] }
      changed = true
    }

    let deadInits = Set(graph.initializers.map(\.name).filter { !live.contains($0) })
    if !deadInits.isEmpty {
      graph.removeInitializers(deadInits)
      graph.inputs.removeAll { deadInits.contains($0.name) }
      changed = true
    }

    let defined = graph.definedNames
    let staleInfo = graph.valueInfo.keys.filter { !defined.contains($0) }
    if !staleInfo.isEmpty {
      for k in staleInfo { graph.valueInfo[k] = nil }
      changed = true
    }
    let before = graph.valueInfoOrder.count
    graph.valueInfoOrder.removeAll { graph.valueInfo[$0] == nil }
    if graph.valueInfoOrder.count != before { changed = true }
    return changed
  }
}
