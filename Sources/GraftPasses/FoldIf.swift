import GraftIR

/// Replaces every `If` whose condition is a constant (an initializer of this graph or of an
/// enclosing one) by the nodes of the taken branch.
///
/// Contract:
/// - The taken branch's nodes are spliced in place of the `If`, in order; its initializers are
///   hoisted into the graph holding the `If`; its value_info is merged.
/// - Branch output k becomes the If's output k: the branch node producing it is renamed to write
///   the If's output name; an output that is an outer value or an initializer (or repeats an
///   earlier output) is copied with an `Identity` node.
/// - Names the branch defines that already exist in the model get a unique suffix, so the graph
///   stays in SSA form; nested subgraphs see the renamed names.
/// - Ifs with a non-constant condition stay (the back end refuses them by name); Ifs inside
///   their branches are still folded where their own condition is constant.
/// - Spliced nested Ifs are folded in the same run when their condition is already constant;
///   conditions that need shape folding first fold on the next pipeline round.
public struct FoldIf: Pass {
  public let name = "fold-if"
  public init() {}

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var names = Set<String>()
    collectNames(graph, into: &names)
    var defs: [String: Int] = [:]
    countDefinitions(graph, into: &defs)
    var state = State(taken: names, shared: Set(defs.filter { $0.value > 1 }.keys))
    try fold(&graph, outerConsts: [:], &state, context)
    return state.changed
  }

  struct State {
    /// Every name in the model (fresh names avoid them).
    var taken: Set<String>
    /// Names defined in more than one scope: renamed when spliced.
    var shared: Set<String>
    var changed = false
    var counter = 0

    mutating func unique(_ base: String) -> String {
      var candidate = base
      while taken.contains(candidate) {
        counter += 1
        candidate = "\(base)__if\(counter)"
      }
      taken.insert(candidate)
      return candidate
    }
  }

  private func fold(_ g: inout Graph, outerConsts: [String: Tensor], _ state: inout State, _ context: PassContext) throws {
    var consts = outerConsts
    for (n, t) in g.initializers { consts[n] = t }
    var queue = g.nodes[...]
    var out: [Node] = []
    out.reserveCapacity(g.nodes.count)
    while let node = queue.popFirst() {
      let isIf = node.opType == "If" && (node.domain.isEmpty || node.domain == "ai.onnx")
      if isIf, let condName = node.inputs.first, let cond = consts[condName],
         let value = ConstArray(cond), value.count == 1 {
        let taken = value.real(0) != 0
        let branchName = taken ? "then_branch" : "else_branch"
        guard case .graph(let branch)? = node[attribute: branchName] else {
          throw GraftError(.invalid, at: context.at(node), "If has no \(branchName) graph")
        }
        guard branch.outputs.count == node.outputs.count else {
          throw GraftError(.invalid, at: context.at(node),
                           "\(branchName) has \(branch.outputs.count) outputs; the If has \(node.outputs.count)")
        }
        let spliced = inline(branch, into: node, &g, &consts, &state)
        state.changed = true
        queue = (spliced + Array(queue))[...]
        continue
      }
      var n = node
      if !n.subgraphs.isEmpty {
        for k in n.attributes.indices {
          switch n.attributes[k].value {
          case .graph(var sub):
            try fold(&sub, outerConsts: consts, &state, context)
            n.attributes[k].value = .graph(sub)
          case .graphs(var subs):
            for j in subs.indices { try fold(&subs[j], outerConsts: consts, &state, context) }
            n.attributes[k].value = .graphs(subs)
          default: break
          }
        }
      }
      out.append(n)
    }
    g.nodes = out
  }

  /// The branch's nodes renamed for splicing; hoists its initializers into `g`.
  private func inline(_ branch: Graph, into ifNode: Node, _ g: inout Graph, _ consts: inout [String: Tensor],
                      _ state: inout State) -> [Node] {
    var rename: [String: String] = [:]
    // Branch outputs produced by a branch node take the If's output names.
    var producedBy = Set<String>()
    for n in branch.nodes { for o in n.outputs where !o.isEmpty { producedBy.insert(o) } }
    var extra: [Node] = []
    var assigned = Set<String>()
    for (k, o) in branch.outputs.enumerated() {
      let target = ifNode.outputs[k]
      if target.isEmpty { continue }
      if producedBy.contains(o.name), !assigned.contains(o.name) {
        rename[o.name] = target
        assigned.insert(o.name)
      } else {
        extra.append(Node(name: "\(ifNode.displayName)/output\(k)", opType: "Identity", inputs: [o.name], outputs: [target]))
      }
    }
    // Other names the branch defines get fresh names where they clash.
    for (n, _) in branch.initializers where rename[n] == nil && state.shared.contains(n) { rename[n] = state.unique(n) }
    for n in branch.nodes {
      for o in n.outputs where !o.isEmpty && rename[o] == nil && state.shared.contains(o) { rename[o] = state.unique(o) }
    }
    let renamed = renameValues(branch, rename)
    for (n, t) in renamed.initializers {
      g.initializers.append((n, t))
      consts[n] = t
    }
    for (k, v) in renamed.valueInfo { g.valueInfo[k] = v }
    let fixedExtra = extra.map { e -> Node in
      var e = e
      e.inputs = e.inputs.map { rename[$0] ?? $0 }
      return e
    }
    return renamed.nodes + fixedExtra
  }
}

/// Every value name defined or used anywhere in `g` and its subgraphs.
func collectNames(_ g: Graph, into names: inout Set<String>) {
  for i in g.inputs { names.insert(i.name) }
  for o in g.outputs { names.insert(o.name) }
  for (n, _) in g.initializers { names.insert(n) }
  for n in g.nodes {
    for v in n.inputs where !v.isEmpty { names.insert(v) }
    for v in n.outputs where !v.isEmpty { names.insert(v) }
    for s in n.subgraphs { collectNames(s, into: &names) }
  }
}

/// How many times each value name is defined (input, initializer, node output) in all scopes.
func countDefinitions(_ g: Graph, into defs: inout [String: Int]) {
  for i in g.inputs { defs[i.name, default: 0] += 1 }
  let inputNames = Set(g.inputs.map(\.name))
  for (n, _) in g.initializers where !inputNames.contains(n) { defs[n, default: 0] += 1 }
  for n in g.nodes {
    for v in n.outputs where !v.isEmpty { defs[v, default: 0] += 1 }
    for s in n.subgraphs { countDefinitions(s, into: &defs) }
  }
}

/// Renames values throughout `g` (nodes, outputs, initializers, value_info, nested subgraphs).
func renameValues(_ g: Graph, _ map: [String: String]) -> Graph {
  if map.isEmpty { return g }
  var g = g
  func r(_ s: String) -> String { s.isEmpty ? s : (map[s] ?? s) }
  for i in g.inputs.indices { g.inputs[i].name = r(g.inputs[i].name) }
  for i in g.outputs.indices { g.outputs[i].name = r(g.outputs[i].name) }
  g.initializers = g.initializers.map { (r($0.name), $0.tensor) }
  var vi: [String: TensorType] = [:]
  for (k, v) in g.valueInfo { vi[r(k)] = v }
  g.valueInfo = vi
  g.valueInfoOrder = g.valueInfoOrder.map(r)
  for k in g.nodes.indices {
    g.nodes[k].inputs = g.nodes[k].inputs.map(r)
    g.nodes[k].outputs = g.nodes[k].outputs.map(r)
    for a in g.nodes[k].attributes.indices {
      switch g.nodes[k].attributes[a].value {
      case .graph(let sub): g.nodes[k].attributes[a].value = .graph(renameValues(sub, map))
      case .graphs(let subs): g.nodes[k].attributes[a].value = .graphs(subs.map { renameValues($0, map) })
      default: break
      }
    }
  }
  return g
}
