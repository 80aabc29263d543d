import COnnxProto
import CProtobufC
import GraftIR

/// A model-local ONNX function (FunctionProto), read into IR nodes.
struct LocalFunction {
  var domain: String
  var name: String
  var overload: String
  var inputs: [String]
  var outputs: [String]
  /// Attribute defaults from `attribute_proto` (names in `attribute` have no default).
  var defaults: [String: Attribute]
  var nodes: [Node]
  var opsetImports: [OpsetImport]
  var key: FunctionKey { FunctionKey(domain: domain, name: name, overload: overload) }
}

struct FunctionKey: Hashable {
  var domain: String
  var name: String
  var overload: String
}

extension ModelReader {
  func function(_ fp: UnsafeMutablePointer<Onnx__FunctionProto>) throws -> LocalFunction {
    let f = fp.pointee
    let name = str(f.name)
    let loc = Location(file: file, node: "function \(str(f.domain)).\(name)")
    var defaults: [String: Attribute] = [:]
    for a in list(f.n_attribute_proto, f.attribute_proto) {
      let attr = try attribute(a, at: loc)
      defaults[attr.name] = attr
    }
    var opsets: [OpsetImport] = []
    for o in list(f.n_opset_import, f.opset_import) {
      opsets.append(OpsetImport(domain: str(o.pointee.domain), version: o.pointee.has_version != 0 ? o.pointee.version : 0))
    }
    return LocalFunction(domain: str(f.domain), name: name, overload: str(f.overload),
                         inputs: strings(f.n_input, f.input), outputs: strings(f.n_output, f.output),
                         defaults: defaults, nodes: try list(f.n_node, f.node).map { try node($0) },
                         opsetImports: opsets)
  }
}

/// Replaces every call of a local function by the function's body.
///
/// Contract: formal inputs and outputs become the call's actual names (a missing optional
/// input becomes ""); every other name in the body, subgraphs included, gets a prefix unique
/// in the model; `ref_attr_name` attributes take the call's attribute of that name, else the
/// function's default, else are dropped. Calls inside bodies are inlined too, up to
/// `maxFunctionDepth` (a recursive function is an error naming the call). Opset imports the
/// functions need are added to the model; imports of function-only domains are removed.
struct FunctionInliner {
  let file: String
  let functions: [FunctionKey: LocalFunction]
  let limits: ImportLimits
  private var used: Set<String> = []
  private var counter = 0

  init(file: String, functions: [FunctionKey: LocalFunction], limits: ImportLimits) {
    self.file = file
    self.functions = functions
    self.limits = limits
  }

  mutating func inline(_ model: inout Model) throws {
    collectNames(model.graph)
    var inlinedAny = false
    model.graph = try inline(model.graph, depth: 0, caller: nil, inlined: &inlinedAny)
    guard inlinedAny else { return }
    // Domains the bodies need.
    var have = Set(model.opsetImports.map { $0.domain == "ai.onnx" ? "" : $0.domain })
    for f in functions.values {
      for o in f.opsetImports where !have.contains(o.domain == "ai.onnx" ? "" : o.domain) {
        model.opsetImports.append(o)
        have.insert(o.domain == "ai.onnx" ? "" : o.domain)
      }
    }
    // Function-only domains nothing uses any more.
    var usedDomains = Set<String>()
    collectDomains(model.graph, into: &usedDomains)
    let functionDomains = Set(functions.keys.map(\.domain))
    model.opsetImports.removeAll { o in
      !o.domain.isEmpty && o.domain != "ai.onnx" && functionDomains.contains(o.domain) && !usedDomains.contains(o.domain)
    }
  }

  private func collectDomains(_ g: Graph, into set: inout Set<String>) {
    for n in g.nodes {
      set.insert(n.domain == "ai.onnx" ? "" : n.domain)
      for s in n.subgraphs { collectDomains(s, into: &set) }
    }
  }

  private mutating func collectNames(_ g: Graph) {
    for i in g.inputs { used.insert(i.name) }
    for o in g.outputs { used.insert(o.name) }
    for (n, _) in g.initializers { used.insert(n) }
    for n in g.nodes {
      used.insert(n.name)
      for v in n.inputs { used.insert(v) }
      for v in n.outputs { used.insert(v) }
      for s in n.subgraphs { collectNames(s) }
    }
  }

  private mutating func fresh(_ base: String) -> String {
    var name = base
    while used.contains(name) {
      counter += 1
      name = "\(base)__\(counter)"
    }
    used.insert(name)
    return name
  }

  /// Internal attribute carrying a node's `overload` from the reader to the inliner (the IR has
  /// no overload field). Never leaves the importer: `removeOverloads` strips it.
  static let overloadKey = "\u{0}overload"

  private func lookup(_ node: Node) -> LocalFunction? {
    var overload = ""
    if case .string(let b)? = node[attribute: Self.overloadKey] { overload = String(decoding: b, as: UTF8.self) }
    return functions[FunctionKey(domain: node.domain, name: node.opType, overload: overload)]
  }

  static func removeOverloads(_ g: inout Graph) {
    for i in g.nodes.indices {
      g.nodes[i].attributes.removeAll { $0.name == overloadKey }
      for k in g.nodes[i].attributes.indices {
        switch g.nodes[i].attributes[k].value {
        case .graph(var sub):
          removeOverloads(&sub)
          g.nodes[i].attributes[k].value = .graph(sub)
        case .graphs(var subs):
          for j in subs.indices { removeOverloads(&subs[j]) }
          g.nodes[i].attributes[k].value = .graphs(subs)
        default: break
        }
      }
    }
  }

  /// `caller` is the outermost call being expanded (named in errors), nil at the top.
  private mutating func inline(_ g: Graph, depth: Int, caller: Location?, inlined: inout Bool) throws -> Graph {
    var out = g
    out.nodes = []
    out.nodes.reserveCapacity(g.nodes.count)
    for var node in g.nodes {
      // Subgraphs first (If/Loop bodies may call functions).
      for i in node.attributes.indices {
        switch node.attributes[i].value {
        case .graph(let sub): node.attributes[i].value = .graph(try inline(sub, depth: depth, caller: caller, inlined: &inlined))
        case .graphs(let subs): node.attributes[i].value = .graphs(try subs.map { try inline($0, depth: depth, caller: caller, inlined: &inlined) })
        default: break
        }
      }
      guard let f = lookup(node) else {
        out.nodes.append(node)
        continue
      }
      let loc = caller ?? Location(file: file, node: node.displayName, opType: node.opType)
      guard depth < limits.maxFunctionDepth else {
        throw GraftError(.invalid, at: loc,
                         "local function '\(f.name)' calls nest deeper than \(limits.maxFunctionDepth) levels (recursive function?)")
      }
      guard node.inputs.count <= f.inputs.count, node.outputs.count <= f.outputs.count else {
        throw GraftError(.invalid, at: loc,
                         "call has \(node.inputs.count) inputs and \(node.outputs.count) outputs; function '\(f.name)' takes \(f.inputs.count) and \(f.outputs.count)")
      }
      inlined = true
      let prefix = (node.name.isEmpty ? "\(f.name)_\(counter)" : node.name) + "/"
      var rename: [String: String] = ["": ""]
      for (i, formal) in f.inputs.enumerated() { rename[formal] = i < node.inputs.count ? node.inputs[i] : "" }
      for (i, formal) in f.outputs.enumerated() {
        rename[formal] = i < node.outputs.count && !node.outputs[i].isEmpty ? node.outputs[i] : fresh(prefix + formal)
      }
      var attrs: [String: Attribute] = f.defaults
      for a in node.attributes where a.name != Self.overloadKey { attrs[a.name] = a }
      var body = Graph(name: f.name, nodes: f.nodes)
      body = try substitute(body, rename: &rename, prefix: prefix, attrs: attrs, loc: loc)
      body = try inline(body, depth: depth + 1, caller: loc, inlined: &inlined)
      out.nodes.append(contentsOf: body.nodes)
    }
    return out
  }

  /// Renames the body's values and node names and resolves `ref_attr_name`.
  private mutating func substitute(_ g: Graph, rename: inout [String: String], prefix: String,
                                   attrs: [String: Attribute], loc: Location) throws -> Graph {
    func map(_ v: String, _ rename: inout [String: String], _ me: inout FunctionInliner) -> String {
      if let r = rename[v] { return r }
      let r = me.fresh(prefix + v)
      rename[v] = r
      return r
    }
    var out = g
    out.inputs = g.inputs.map { var vi = $0; vi.name = map(vi.name, &rename, &self); return vi }
    out.initializers = g.initializers.map { (name: map($0.name, &rename, &self), tensor: $0.tensor) }
    var vi: [String: TensorType] = [:]
    for (k, t) in g.valueInfo { vi[map(k, &rename, &self)] = t }
    out.valueInfo = vi
    out.valueInfoOrder = g.valueInfoOrder.map { map($0, &rename, &self) }
    out.nodes = []
    for var node in g.nodes {
      node.inputs = node.inputs.map { map($0, &rename, &self) }
      node.outputs = node.outputs.map { map($0, &rename, &self) }
      node.name = fresh(prefix + (node.name.isEmpty ? node.opType : node.name))
      var resolved: [Attribute] = []
      for var a in node.attributes {
        if let ref = a.refAttrName {
          guard let actual = attrs[ref] else { continue }
          a.value = actual.value
          a.refAttrName = nil
        }
        switch a.value {
        case .graph(let sub): a.value = .graph(try substitute(sub, rename: &rename, prefix: prefix, attrs: attrs, loc: loc))
        case .graphs(let subs):
          var done: [Graph] = []
          for s in subs { done.append(try substitute(s, rename: &rename, prefix: prefix, attrs: attrs, loc: loc)) }
          a.value = .graphs(done)
        default: break
        }
        resolved.append(a)
      }
      node.attributes = resolved
      out.nodes.append(node)
    }
    out.outputs = g.outputs.map { var vi = $0; vi.name = map(vi.name, &rename, &self); return vi }
    return out
  }
}
