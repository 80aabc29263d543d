import COnnxProto
import CProtobufC
import GraftIR

/// Checks an unpacked ModelProto against the structural limits of `ImportLimits`
/// (`maxNodes`, `maxGraphDepth`, `maxTensorBytes`) before any IR is built.
///
/// Contract: walks the message once (every graph, subgraph, function body, initializer and
/// tensor attribute), allocates nothing proportional to the input, and throws the first limit
/// exceeded as a one-line `GraftError(.invalid)` naming the file and the node or tensor. Node
/// counts include what inlining local functions would produce (a function calling another
/// twice per level grows exponentially), computed per function with memoization and saturated
/// at `maxNodes + 1`, so the count itself never overflows or runs long.
struct LimitCheck {
  let file: String
  let limits: ImportLimits
  /// Expanded node count per local function, by "domain\u{0}name\u{0}overload".
  private var functionNodes: [String: Int] = [:]
  private var functions: [String: UnsafeMutablePointer<Onnx__FunctionProto>] = [:]
  private var inProgress: Set<String> = []

  init(file: String, limits: ImportLimits) {
    self.file = file
    self.limits = limits
  }

  mutating func run(_ m: UnsafeMutablePointer<Onnx__ModelProto>) throws {
    for f in list(m.pointee.n_functions, m.pointee.functions) {
      functions[key(domain: str(f.pointee.domain), name: str(f.pointee.name), overload: str(f.pointee.overload))] = f
    }
    for f in list(m.pointee.n_functions, m.pointee.functions) {
      _ = try nodes(in: list(f.pointee.n_node, f.pointee.node), depth: 0, inlineDepth: 0)
    }
    guard let g = m.pointee.graph else { return }
    let total = try graphNodes(g, depth: 0, inlineDepth: 0)
    guard total <= limits.maxNodes else {
      throw GraftError(.invalid, at: Location(file: file),
                       "model has more than \(limits.maxNodes) nodes, counting subgraphs and inlined local functions; the limit is \(limits.maxNodes)")
    }
  }

  private func key(domain: String, name: String, overload: String) -> String {
    domain + "\u{0}" + name + "\u{0}" + overload
  }

  private func saturating(_ a: Int, _ b: Int) -> Int {
    let (s, o) = a.addingReportingOverflow(b)
    return o ? limits.maxNodes + 1 : min(s, limits.maxNodes + 1)
  }

  /// Nodes of graph `g` at subgraph depth `depth` (the main graph is 0), checking its tensors.
  private mutating func graphNodes(_ g: UnsafeMutablePointer<Onnx__GraphProto>, depth: Int, inlineDepth: Int) throws -> Int {
    for t in list(g.pointee.n_initializer, g.pointee.initializer) {
      try checkTensor(t, label: str(t.pointee.name), node: nil)
    }
    for s in list(g.pointee.n_sparse_initializer, g.pointee.sparse_initializer) {
      if let v = s.pointee.values { try checkTensor(v, label: str(v.pointee.name), node: nil) }
      if let i = s.pointee.indices { try checkTensor(i, label: str(i.pointee.name), node: nil) }
    }
    return try nodes(in: list(g.pointee.n_node, g.pointee.node), depth: depth, inlineDepth: inlineDepth)
  }

  private mutating func nodes(in nodes: [UnsafeMutablePointer<Onnx__NodeProto>], depth: Int, inlineDepth: Int) throws -> Int {
    var total = 0
    for n in nodes {
      let name = str(n.pointee.name), op = str(n.pointee.op_type)
      let loc = Location(file: file, node: name.isEmpty ? "<unnamed>" : name, opType: op)
      var count = 1
      let k = key(domain: str(n.pointee.domain), name: op, overload: str(n.pointee.overload))
      if functions[k] != nil {
        count = try expandedFunction(k, inlineDepth: inlineDepth + 1)
      }
      for a in list(n.pointee.n_attribute, n.pointee.attribute) {
        if let t = a.pointee.t { try checkTensor(t, label: str(a.pointee.name), node: loc) }
        for t in list(a.pointee.n_tensors, a.pointee.tensors) { try checkTensor(t, label: str(a.pointee.name), node: loc) }
        if let s = a.pointee.sparse_tensor {
          if let v = s.pointee.values { try checkTensor(v, label: str(a.pointee.name), node: loc) }
          if let i = s.pointee.indices { try checkTensor(i, label: str(a.pointee.name), node: loc) }
        }
        var subgraphs = list(a.pointee.n_graphs, a.pointee.graphs)
        if let g = a.pointee.g { subgraphs.append(g) }
        for g in subgraphs {
          guard depth + 1 <= limits.maxGraphDepth else {
            throw GraftError(.invalid, at: loc, "subgraph nests \(depth + 1) levels deep; the limit is \(limits.maxGraphDepth)")
          }
          count = saturating(count, try graphNodes(g, depth: depth + 1, inlineDepth: inlineDepth))
        }
      }
      total = saturating(total, count)
      if total > limits.maxNodes { return total }
    }
    return total
  }

  /// Nodes one call of function `k` expands to (memoized). A recursive or too deep chain
  /// counts as 1 here: the inliner reports it with its own message.
  private mutating func expandedFunction(_ k: String, inlineDepth: Int) throws -> Int {
    if let n = functionNodes[k] { return n }
    guard let f = functions[k], !inProgress.contains(k), inlineDepth <= limits.maxFunctionDepth else { return 1 }
    inProgress.insert(k)
    defer { inProgress.remove(k) }
    let n = try nodes(in: list(f.pointee.n_node, f.pointee.node), depth: 0, inlineDepth: inlineDepth)
    functionNodes[k] = n
    return n
  }

  /// A tensor's declared size (dims × element size, overflow-checked) and, for external data,
  /// its declared length must stay within `maxTensorBytes`.
  private func checkTensor(_ tp: UnsafeMutablePointer<Onnx__TensorProto>, label: String, node: Location?) throws {
    var loc = node ?? Location(file: file)
    loc.tensor = label.isEmpty ? "<unnamed>" : label
    let t = tp.pointee
    let code = t.has_data_type != 0 ? t.data_type : 0
    let dtype = DType(rawValue: code)
    // Negative dims, dims over maxDimension and counts over maxElements are reported by the
    // importer with their own messages.
    var count = 1
    for d in array(t.n_dims, t.dims) {
      guard d >= 0, d <= limits.maxDimension else { return }
      let (p, o) = count.multipliedReportingOverflow(by: Int(d))
      guard !o, p <= limits.maxElements else { return }
      count = p
    }
    var bytes = dtype?.byteSize ?? 1
    for d in array(t.n_dims, t.dims) {
      let (p, o) = bytes.multipliedReportingOverflow(by: Int(truncatingIfNeeded: d))
      guard !o, p <= limits.maxTensorBytes else {
        let type = dtype.map { "\($0)" } ?? "data type \(code)"
        throw GraftError(.invalid, at: loc,
                         "declared shape \(array(t.n_dims, t.dims)) of \(type) needs more than the limit of \(limits.maxTensorBytes) bytes")
      }
      bytes = p
    }
    for e in list(t.n_external_data, t.external_data) where str(e.pointee.key) == "length" {
      if let len = Int(str(e.pointee.value)), len > limits.maxTensorBytes {
        throw GraftError(.invalid, at: loc, "external data length \(len) is larger than the limit of \(limits.maxTensorBytes) bytes")
      }
    }
  }
}
