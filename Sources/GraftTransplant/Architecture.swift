import GraftIR

/// One element of the top-level sequence: a single layer or a flat block of layers
/// (indices into `Architecture.layers`, in node order).
public enum Item: Sendable, Equatable {
  case layer(Int)
  case block([Int])

  public var layerIndices: [Int] {
    switch self {
    case .layer(let i): return [i]
    case .block(let b): return b
    }
  }
}

/// A graph standardized into DPIAT's two-level form: a sequence of items, each a layer or a
/// flat block. Blocks are recovered from the dataflow: every residual join (Add/Sum/Concat
/// with two or more computed inputs) defines a region, the nodes that reach exactly some of
/// its inputs (those between the fork and the join); a layer belongs to the smallest region
/// holding it; a region with fewer than two dimensional layers (Conv/ConvTranspose/Linear) is
/// dissolved into single layers, as DPIAT does with a one-conv downsample branch. Layers in
/// no region are standardized by DPIAT's module-tree rules over their exporter name scopes
/// (`/features/features.3/…`, see `scopeItems`); without scopes they are top-level layers.
public struct Architecture: Sendable {
  public var layers: [Layer]
  public var items: [Item]
  /// Node count of the graph it came from (for reports).
  public var nodeCount: Int

  public init(layers: [Layer], items: [Item], nodeCount: Int) {
    self.layers = layers
    self.items = items
    self.nodeCount = nodeCount
  }

  /// Standardizes `graph` (nodes must be in topological order).
  public init(graph: Graph) {
    let layers = Layer.collect(from: graph)
    self.layers = layers
    self.nodeCount = graph.nodes.count
    self.items = Architecture.standardize(graph: graph, layers: layers)
  }

  public var blockCount: Int { items.filter { if case .block = $0 { return true } else { return false } }.count }

  static func standardize(graph: Graph, layers: [Layer]) -> [Item] {
    let regions = residualRegions(graph)
    // Smallest region containing each layer's node.
    var groupKey: [Int] = Array(repeating: -1, count: layers.count)
    for (li, layer) in layers.enumerated() {
      var best = -1, bestSize = Int.max
      for (ri, r) in regions.enumerated() where r.size < bestSize && r.bits.contains(layer.nodeIndex) {
        best = ri
        bestSize = r.size
      }
      groupKey[li] = best
    }
    // Layers outside every region: DPIAT's rules on the module tree read from name scopes.
    var outside: [Int] = []
    var members: [Int: [Int]] = [:]
    var order: [Int] = []
    for (i, k) in groupKey.enumerated() {
      if k < 0 {
        outside.append(i)
      } else {
        if members[k] == nil { order.append(k) }
        members[k, default: []].append(i)
      }
    }
    var items: [(first: Int, item: Item)] = scopeItems(outside, layers).map { ($0.layerIndices.first ?? 0, $0) }
    // Region groups: a block when it has two or more dimensional layers.
    for k in order {
      guard let m = members[k] else { continue }
      let dimensional = m.filter { layers[$0].cls.kind.isDimensional }.count
      if dimensional >= 2 {
        items.append((m[0], .block(m)))
      } else {
        for i in m { items.append((i, .layer(i))) }
      }
    }
    items.sort { $0.first < $1.first }
    return items.map(\.item)
  }

  /// DPIAT's standardization over the module tree that exporter scopes spell
  /// (`/layer1/layer1.0/conv1/Conv`): children of a module are visited in order; a child with
  /// fewer than two dimensional layers, or that is itself a container of blocks, is spliced
  /// into its parent, any other child becomes one block; a non-root module with more single
  /// layers than blocks is flattened into one block; a module with one item is that item.
  /// Layers without a scope are top-level layers.
  static func scopeItems(_ members: [Int], _ layers: [Layer]) -> [Item] {
    enum Slot { case leaf(Int), child(String) }
    func build(_ members: [Int], _ depth: Int, root: Bool) -> (items: [Item], flat: Bool) {
      var slots: [Slot] = []
      var children: [String: [Int]] = [:]
      for m in members {
        let scope = layers[m].parentScope
        if scope.count <= depth {
          slots.append(.leaf(m))
        } else {
          let key = scope[depth]
          if children[key] == nil { slots.append(.child(key)) }
          children[key, default: []].append(m)
        }
      }
      var items: [Item] = []
      for slot in slots {
        switch slot {
        case .leaf(let m): items.append(.layer(m))
        case .child(let key):
          let sub = children[key] ?? []
          let (inner, flat) = build(sub, depth + 1, root: false)
          let dimensional = sub.filter { layers[$0].cls.kind.isDimensional }.count
          if !flat || dimensional < 2 {
            items.append(contentsOf: inner)
          } else {
            items.append(.block(inner.flatMap(\.layerIndices)))
          }
        }
      }
      if root { return (items, false) }
      if items.count == 1 { return (items[0].layerIndices.map { .layer($0) }, true) }
      let singles = items.filter { if case .layer = $0 { return true } else { return false } }.count
      if singles > items.count - singles { return (items.flatMap(\.layerIndices).map { .layer($0) }, true) }
      return (items, false)
    }
    return build(members, 0, root: true).items
  }

  /// Graphs with more nodes than this skip the dataflow regions (their cost is quadratic).
  static let maxNodesForRegions = 16384

  /// A residual region: the nodes between a fork and a join.
  struct Region {
    var bits: BitSet
    var size: Int
  }

  /// For each join node (Add/Sum/Concat with ≥ 2 distinct non-static inputs), the set of nodes
  /// that are ancestors of some but not all of its inputs (an input's producer counts as its
  /// own ancestor). O(nodes²/64) words of work and memory.
  static func residualRegions(_ graph: Graph) -> [Region] {
    let n = graph.nodes.count
    // n² bits: 32 MiB at the cap. Larger graphs use the name scopes alone.
    guard n <= maxNodesForRegions else { return [] }
    let producers = graph.producers
    var constant = Set(graph.initializers.map(\.name))
    var ancestors: [BitSet] = []
    ancestors.reserveCapacity(n)
    var regions: [Region] = []
    for (i, node) in graph.nodes.enumerated() {
      var a = BitSet(count: n)
      for v in node.inputs where !v.isEmpty {
        if let p = producers[v], p < i {
          a.formUnion(ancestors[p])
          a.insert(p)
        }
      }
      ancestors.append(a)
      // Static values (constants, shapes and what is computed only from them) are not signals.
      let live = node.inputs.filter { !$0.isEmpty && !constant.contains($0) }
      if ["Constant", "Shape", "Size", "ConstantOfShape"].contains(node.opType) || live.isEmpty {
        for o in node.outputs { constant.insert(o) }
        continue
      }
      guard ["Add", "Sum", "Concat"].contains(node.opType) else { continue }
      var sets: [BitSet] = []
      var seen = Set<String>()
      for v in node.inputs where !v.isEmpty && !constant.contains(v) && seen.insert(v).inserted {
        var s = BitSet(count: n)
        if let p = producers[v], p < i {
          s = ancestors[p]
          s.insert(p)
        }
        sets.append(s)
      }
      guard sets.count >= 2 else { continue }
      var union = sets[0], inter = sets[0]
      for s in sets.dropFirst() {
        union.formUnion(s)
        inter.formIntersection(s)
      }
      union.subtract(inter)
      let size = union.count
      if size > 0 { regions.append(Region(bits: union, size: size)) }
    }
    return regions
  }
}

/// A fixed-size set of small integers as 64-bit words.
struct BitSet: Sendable {
  var words: [UInt64]

  init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }

  mutating func insert(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
  func contains(_ i: Int) -> Bool { i >= 0 && (i >> 6) < words.count && words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
  mutating func formUnion(_ o: BitSet) { for k in words.indices { words[k] |= o.words[k] } }
  mutating func formIntersection(_ o: BitSet) { for k in words.indices { words[k] &= o.words[k] } }
  mutating func subtract(_ o: BitSet) { for k in words.indices { words[k] &= ~o.words[k] } }
  var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
}
