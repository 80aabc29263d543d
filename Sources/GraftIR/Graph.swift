/// An attribute value of any ONNX kind. Order of attributes on a node is kept for export.
public indirect enum AttributeValue: Sendable {
  case float(Float)
  case int(Int64)
  case string([UInt8])
  case tensor(Tensor)
  case graph(Graph)
  case floats([Float])
  case ints([Int64])
  case strings([[UInt8]])
  case tensors([Tensor])
  case graphs([Graph])
  /// Anything Graft does not interpret (sparse tensors, type protos): kept as the encoded
  /// AttributeProto bytes of the field so export can reproduce it.
  case opaque(kind: Int32, encoded: [UInt8])

  public var kindName: String {
    switch self {
    case .float: return "float"
    case .int: return "int"
    case .string: return "string"
    case .tensor: return "tensor"
    case .graph: return "graph"
    case .floats: return "floats"
    case .ints: return "ints"
    case .strings: return "strings"
    case .tensors: return "tensors"
    case .graphs: return "graphs"
    case .opaque: return "opaque"
    }
  }
}

public struct Attribute: Sendable {
  public var name: String
  public var value: AttributeValue
  /// `ref_attr_name` inside function bodies (resolved when a function is inlined).
  public var refAttrName: String?
  public var docString: String?

  public init(_ name: String, _ value: AttributeValue, refAttrName: String? = nil) {
    self.name = name
    self.value = value
    self.refAttrName = refAttrName
  }
}

/// One operator application. Inputs and outputs are value names; "" marks an omitted optional.
public struct Node: Sendable {
  public var name: String
  public var opType: String
  public var domain: String
  public var inputs: [String]
  public var outputs: [String]
  public var attributes: [Attribute]
  public var docString: String?

  public init(name: String = "", opType: String, domain: String = "", inputs: [String],
              outputs: [String], attributes: [Attribute] = []) {
    self.name = name
    self.opType = opType
    self.domain = domain
    self.inputs = inputs
    self.outputs = outputs
    self.attributes = attributes
  }

  public subscript(attribute name: String) -> AttributeValue? {
    get { attributes.first(where: { $0.name == name })?.value }
    set {
      if let i = attributes.firstIndex(where: { $0.name == name }) {
        if let newValue { attributes[i].value = newValue } else { attributes.remove(at: i) }
      } else if let newValue {
        attributes.append(Attribute(name, newValue))
      }
    }
  }

  public func int(_ name: String) -> Int64? {
    if case .int(let v)? = self[attribute: name] { return v }
    return nil
  }

  public func float(_ name: String) -> Float? {
    if case .float(let v)? = self[attribute: name] { return v }
    return nil
  }

  public func ints(_ name: String) -> [Int64]? {
    if case .ints(let v)? = self[attribute: name] { return v }
    return nil
  }

  public func floats(_ name: String) -> [Float]? {
    if case .floats(let v)? = self[attribute: name] { return v }
    return nil
  }

  public func string(_ name: String) -> String? {
    if case .string(let v)? = self[attribute: name] { return String(decoding: v, as: UTF8.self) }
    return nil
  }

  /// `name` if set, else `opType` and the first output, for messages.
  public var displayName: String { name.isEmpty ? "\(opType)->\(outputs.first ?? "")" : name }
}

/// A named, typed value at a graph boundary (graph input/output or value_info entry).
public struct ValueInfo: Sendable {
  public var name: String
  public var type: TensorType?
  public var docString: String?

  public init(name: String, type: TensorType?) {
    self.name = name
    self.type = type
  }
}

/// A graph: nodes in a topological order (checked by `checkInvariants`), boundary values,
/// constant initializers and known intermediate types.
public struct Graph: Sendable {
  public var name: String
  public var nodes: [Node]
  public var inputs: [ValueInfo]
  public var outputs: [ValueInfo]
  /// Initializers in file order (order is kept for export).
  public var initializers: [(name: String, tensor: Tensor)]
  /// Known types of intermediate values (from value_info and shape inference).
  public var valueInfo: [String: TensorType]
  /// The order in which `valueInfo` entries were read, for export.
  public var valueInfoOrder: [String]
  public var docString: String?

  public init(name: String = "graph", nodes: [Node] = [], inputs: [ValueInfo] = [],
              outputs: [ValueInfo] = [], initializers: [(name: String, tensor: Tensor)] = [],
              valueInfo: [String: TensorType] = [:]) {
    self.name = name
    self.nodes = nodes
    self.inputs = inputs
    self.outputs = outputs
    self.initializers = initializers
    self.valueInfo = valueInfo
    self.valueInfoOrder = valueInfo.keys.sorted()
  }

  /// Initializer by name (linear scan; build `initializerMap` for many lookups).
  public func initializer(_ name: String) -> Tensor? {
    initializers.first(where: { $0.name == name })?.tensor
  }

  public var initializerMap: [String: Tensor] {
    var m: [String: Tensor] = [:]
    m.reserveCapacity(initializers.count)
    for (n, t) in initializers { m[n] = t }
    return m
  }

  /// Graph inputs that are not initializers (IR < 4 lists initializers as inputs too).
  public var runtimeInputs: [ValueInfo] {
    let inits = Set(initializers.map(\.name))
    return inputs.filter { !inits.contains($0.name) }
  }

  /// Sets or replaces an initializer.
  public mutating func setInitializer(_ name: String, _ tensor: Tensor) {
    if let i = initializers.firstIndex(where: { $0.name == name }) {
      initializers[i].tensor = tensor
    } else {
      initializers.append((name, tensor))
    }
  }

  public mutating func removeInitializers(_ names: Set<String>) {
    initializers.removeAll { names.contains($0.name) }
  }

  /// The type of any value: input, initializer, output or inferred intermediate.
  public func type(of value: String) -> TensorType? {
    if let t = valueInfo[value] { return t }
    if let t = initializer(value) { return t.type }
    if let t = inputs.first(where: { $0.name == value })?.type { return t }
    return outputs.first(where: { $0.name == value })?.type
  }

  /// Index of the node producing each value.
  public var producers: [String: Int] {
    var m: [String: Int] = [:]
    for (i, n) in nodes.enumerated() { for o in n.outputs where !o.isEmpty { m[o] = i } }
    return m
  }

  /// Indices of the nodes consuming each value (graph outputs are not counted).
  public var consumers: [String: [Int]] {
    var m: [String: [Int]] = [:]
    for (i, n) in nodes.enumerated() {
      for v in n.inputs where !v.isEmpty { m[v, default: []].append(i) }
      for sub in n.subgraphs { for v in sub.capturedNames { m[v, default: []].append(i) } }
    }
    return m
  }
}

extension Node {
  /// Subgraphs held in attributes (If/Loop/Scan bodies).
  public var subgraphs: [Graph] {
    var out: [Graph] = []
    for a in attributes {
      switch a.value {
      case .graph(let g): out.append(g)
      case .graphs(let gs): out.append(contentsOf: gs)
      default: break
      }
    }
    return out
  }
}

extension Graph {
  /// Names a subgraph reads from its enclosing scopes (not defined inside it).
  public var capturedNames: Set<String> {
    var defined = Set(inputs.map(\.name))
    for (n, _) in initializers { defined.insert(n) }
    var captured = Set<String>()
    for node in nodes {
      for v in node.inputs where !v.isEmpty && !defined.contains(v) { captured.insert(v) }
      for sub in node.subgraphs { for v in sub.capturedNames where !defined.contains(v) { captured.insert(v) } }
      for o in node.outputs where !o.isEmpty { defined.insert(o) }
    }
    for o in outputs where !defined.contains(o.name) { captured.insert(o.name) }
    return captured
  }
}

/// An operator set import: domain ("" = ai.onnx) and version.
public struct OpsetImport: Sendable, Hashable {
  public var domain: String
  public var version: Int64
  public init(domain: String, version: Int64) {
    self.domain = domain
    self.version = version
  }
}

/// A whole model: graph plus the metadata export reproduces.
public struct Model: Sendable {
  public var irVersion: Int64
  public var opsetImports: [OpsetImport]
  public var producerName: String
  public var producerVersion: String
  public var domain: String
  public var modelVersion: Int64
  public var docString: String
  public var metadata: [(key: String, value: String)]
  public var graph: Graph
  /// Where the model was read from (for messages); "" if built in memory.
  public var path: String

  public init(graph: Graph, irVersion: Int64 = 8, opsetImports: [OpsetImport] = [OpsetImport(domain: "", version: 17)],
              producerName: String = "graft", producerVersion: String = "", path: String = "") {
    self.irVersion = irVersion
    self.opsetImports = opsetImports
    self.producerName = producerName
    self.producerVersion = producerVersion
    self.domain = ""
    self.modelVersion = 0
    self.docString = ""
    self.metadata = []
    self.graph = graph
    self.path = path
  }

  /// Opset version of a domain ("" and "ai.onnx" are the same domain).
  public func opset(_ domain: String = "") -> Int64? {
    let d = domain == "ai.onnx" ? "" : domain
    return opsetImports.first(where: { ($0.domain == "ai.onnx" ? "" : $0.domain) == d })?.version
  }
}
