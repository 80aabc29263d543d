extension Graph {
  /// Structural invariants every pass must keep:
  /// - every node input is defined before use (graph input, initializer, earlier node output,
  ///   or, for subgraphs, a name from an enclosing scope listed in `outerScope`);
  /// - no value is defined twice; every graph output is defined;
  /// - nodes are in topological order (which implies the graph is acyclic).
  /// Throws a `GraftError` naming the first offending node and value.
  public func checkInvariants(file: String = "", outerScope: Set<String> = []) throws {
    var defined = outerScope
    for i in inputs {
      if defined.contains(i.name) && !outerScope.contains(i.name) {
        throw GraftError(.invalid, at: Location(file: file, tensor: i.name), "graph input is declared twice")
      }
      defined.insert(i.name)
    }
    var initNames = Set<String>()
    for (n, t) in initializers {
      if !initNames.insert(n).inserted {
        throw GraftError(.invalid, at: Location(file: file, tensor: n), "initializer is declared twice")
      }
      defined.insert(n)
      if let need = t.dtype.storageBytes(count: t.count), t.dtype != .string, t.byteCount != need {
        throw GraftError(.invalid, at: Location(file: file, tensor: n),
                         "tensor data has \(t.byteCount) bytes; shape \(Shape(t.dims).text) of \(t.dtype) needs \(need)")
      }
    }
    for node in nodes {
      let loc = Location(file: file, node: node.displayName, opType: node.opType)
      for v in node.inputs where !v.isEmpty {
        if !defined.contains(v) {
          throw GraftError(.invalid, at: loc, "input '\(v)' is not defined before this node (undefined name or cycle)")
        }
      }
      for sub in node.subgraphs {
        try sub.checkInvariants(file: file, outerScope: defined)
      }
      for o in node.outputs where !o.isEmpty {
        if defined.contains(o) && !outerScope.contains(o) {
          throw GraftError(.invalid, at: loc, "output '\(o)' is already defined (duplicate value name)")
        }
        defined.insert(o)
      }
    }
    for o in outputs where !defined.contains(o.name) {
      throw GraftError(.invalid, at: Location(file: file, tensor: o.name), "graph output is never computed")
    }
  }

  /// Reorders nodes topologically (stable: keeps file order where possible). Throws naming a
  /// node on a cycle, or a node reading an undefined value.
  public mutating func sortTopologically(file: String = "", outerScope: Set<String> = []) throws {
    var available = outerScope
    for i in inputs { available.insert(i.name) }
    for (n, _) in initializers { available.insert(n) }
    let producers = self.producers
    var needs: [[String]] = nodes.map { node in
      var deps = node.inputs.filter { !$0.isEmpty }
      for sub in node.subgraphs { deps.append(contentsOf: sub.capturedNames) }
      return deps
    }
    // Values no node produces and no scope defines are an error (undefined), named here.
    for (i, node) in nodes.enumerated() {
      for v in needs[i] where !available.contains(v) && producers[v] == nil {
        throw GraftError(.invalid, at: Location(file: file, node: node.displayName, opType: node.opType),
                         "input '\(v)' is not defined (no graph input, initializer or node output has this name)")
      }
      needs[i] = needs[i].filter { !available.contains($0) }
    }
    var waiting: [String: [Int]] = [:]
    var missing = [Int](repeating: 0, count: nodes.count)
    for (i, deps) in needs.enumerated() {
      let uniq = Set(deps)
      missing[i] = uniq.count
      for d in uniq { waiting[d, default: []].append(i) }
    }
    // Kahn's algorithm with a min-heap on the original index keeps file order stable.
    var ready = MinHeap()
    for i in nodes.indices where missing[i] == 0 { ready.push(i) }
    var order: [Int] = []
    order.reserveCapacity(nodes.count)
    while let i = ready.pop() {
      order.append(i)
      for o in nodes[i].outputs where !o.isEmpty {
        for j in waiting[o] ?? [] {
          missing[j] -= 1
          if missing[j] == 0 { ready.push(j) }
        }
        waiting[o] = nil
      }
    }
    if order.count != nodes.count {
      let placed = Set(order)
      let stuck = nodes.indices.first(where: { !placed.contains($0) })!
      let node = nodes[stuck]
      throw GraftError(.invalid, at: Location(file: file, node: node.displayName, opType: node.opType),
                       "graph has a cycle through this node")
    }
    nodes = order.map { nodes[$0] }
  }
}

/// A small binary min-heap of Ints (no outside packages).
struct MinHeap {
  private var a: [Int] = []
  mutating func push(_ x: Int) {
    a.append(x)
    var i = a.count - 1
    while i > 0 {
      let p = (i - 1) / 2
      if a[p] <= a[i] { break }
      a.swapAt(p, i)
      i = p
    }
  }
  mutating func pop() -> Int? {
    guard let top = a.first else { return nil }
    let last = a.removeLast()
    if !a.isEmpty {
      a[0] = last
      var i = 0
      while true {
        let l = 2 * i + 1, r = l + 1
        var m = i
        if l < a.count && a[l] < a[m] { m = l }
        if r < a.count && a[r] < a[m] { m = r }
        if m == i { break }
        a.swapAt(i, m)
        i = m
      }
    }
    return top
  }
}
