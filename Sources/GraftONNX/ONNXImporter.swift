import COnnxProto
import CProtobufC
import Foundation
import GraftIR

/// Reads ONNX models into the Graft IR.
///
/// Contract: every node is kept whatever its op type or domain (support is decided later,
/// against the runtime's op list); local functions are inlined; nodes are sorted
/// topologically and `checkInvariants()` holds on the result. Bad input of any kind ends in a
/// one-line `GraftError` naming the file and the node or tensor, never a crash: sizes are
/// checked against `ImportLimits` before anything is allocated for them.
///
/// Memory: the file is mapped, unpacked by protobuf-c and unmapped; each `raw_data` buffer
/// protobuf-c allocated is then adopted by a `TensorStorage` (not copied), so peak memory is
/// about twice the file size.
public enum ONNXImporter {
  /// Loads `path`; external tensor data is resolved relative to the model's folder.
  public static func load(path: String, limits: ImportLimits = .init()) throws -> Model {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      let e = errno
      throw GraftError(.io, at: Location(file: path), e == ENOENT ? "file not found" : "cannot open: \(String(cString: strerror(e)))")
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      throw GraftError(.io, at: Location(file: path), "cannot read: \(String(cString: strerror(errno)))")
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      throw GraftError(.io, at: Location(file: path), "not a regular file")
    }
    let size = Int(st.st_size)
    guard size > 0 else { throw GraftError(.invalid, at: Location(file: path), "file is empty; not an ONNX model") }
    guard size <= limits.maxFileBytes else {
      throw GraftError(.invalid, at: Location(file: path),
                       "file has \(size) bytes; the limit is \(limits.maxFileBytes) (models over 2 GiB need external data)")
    }
    guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
      throw GraftError(.io, at: Location(file: path), "cannot map: \(String(cString: strerror(errno)))")
    }
    _ = madvise(map, size, MADV_SEQUENTIAL)
    let message: UnsafeMutablePointer<Onnx__ModelProto>
    do {
      message = try unpack(UnsafeRawBufferPointer(start: map, count: size), path: path, limits: limits)
    } catch {
      munmap(map, size)
      throw error
    }
    // Everything protobuf-c keeps is its own copy: the mapping can go before conversion.
    munmap(map, size)
    defer { onnx__model_proto__free_unpacked(message, nil) }
    let dir = (path as NSString).deletingLastPathComponent
    var reader = ModelReader(file: path, folder: dir.isEmpty ? "." : dir, limits: limits)
    return try reader.model(message)
  }

  /// Decodes an in-memory model. `path` is used for messages and, if non-empty, its folder
  /// for external data; with an empty path, external data is refused.
  public static func decode(bytes: UnsafeRawBufferPointer, path: String = "", limits: ImportLimits = .init()) throws -> Model {
    guard bytes.count > 0 else { throw GraftError(.invalid, at: Location(file: path), "file is empty; not an ONNX model") }
    guard bytes.count <= limits.maxFileBytes else {
      throw GraftError(.invalid, at: Location(file: path), "model has \(bytes.count) bytes; the limit is \(limits.maxFileBytes)")
    }
    let message = try unpack(bytes, path: path, limits: limits)
    defer { onnx__model_proto__free_unpacked(message, nil) }
    let dir = path.isEmpty ? "" : (path as NSString).deletingLastPathComponent
    var reader = ModelReader(file: path, folder: path.isEmpty ? nil : (dir.isEmpty ? "." : dir), limits: limits)
    return try reader.model(message)
  }

  public static func decode(bytes: [UInt8], path: String = "", limits: ImportLimits = .init()) throws -> Model {
    try bytes.withUnsafeBytes { try decode(bytes: $0, path: path, limits: limits) }
  }

  static func unpack(_ bytes: UnsafeRawBufferPointer, path: String, limits: ImportLimits) throws -> UnsafeMutablePointer<Onnx__ModelProto> {
    guard let base = bytes.baseAddress else {
      throw GraftError(.invalid, at: Location(file: path), "file is empty; not an ONNX model")
    }
    let budget = bytes.count.multipliedReportingOverflow(by: limits.maxUnpackedRatio).partialValue + limits.maxUnpackedExtra
    var check = WireCheck(bytes: bytes, file: path, maxNesting: limits.maxNesting, maxUnpackedBytes: budget)
    try withUnsafePointer(to: onnx__model_proto__descriptor) { d in try check.run(d) }
    guard let m = onnx__model_proto__unpack(nil, bytes.count, base.assumingMemoryBound(to: UInt8.self)) else {
      throw GraftError(.invalid, at: Location(file: path), "not an ONNX model: protobuf decoding failed (a field has the wrong type for ModelProto)")
    }
    guard m.pointee.graph != nil else {
      onnx__model_proto__free_unpacked(m, nil)
      throw GraftError(.invalid, at: Location(file: path), "not an ONNX model: the message has no graph")
    }
    do {
      var limitCheck = LimitCheck(file: path, limits: limits)
      try limitCheck.run(m)
    } catch {
      onnx__model_proto__free_unpacked(m, nil)
      throw error
    }
    return m
  }
}

// MARK: - C helpers

@inline(__always) func str(_ p: UnsafeMutablePointer<CChar>?) -> String {
  guard let p else { return "" }
  return String(cString: p)
}

@inline(__always) func optStr(_ p: UnsafeMutablePointer<CChar>?) -> String? {
  guard let p else { return nil }
  let s = String(cString: p)
  return s.isEmpty ? nil : s
}

/// The non-null elements of a protobuf-c repeated message field.
@inline(__always) func list<T>(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?) -> [UnsafeMutablePointer<T>] {
  guard let p, n > 0 else { return [] }
  var out: [UnsafeMutablePointer<T>] = []
  out.reserveCapacity(n)
  for i in 0..<n { if let e = p[i] { out.append(e) } }
  return out
}

@inline(__always) func strings(_ n: Int, _ p: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> [String] {
  guard let p, n > 0 else { return [] }
  return (0..<n).map { str(p[$0]) }
}

@inline(__always) func bytesOf(_ b: ProtobufCBinaryData) -> [UInt8] {
  guard let d = b.data, b.len > 0 else { return [] }
  return Array(UnsafeBufferPointer(start: d, count: b.len))
}

@inline(__always) func array<T>(_ n: Int, _ p: UnsafeMutablePointer<T>?) -> [T] {
  guard let p, n > 0 else { return [] }
  return Array(UnsafeBufferPointer(start: p, count: n))
}

// MARK: - Conversion

/// Converts one unpacked ModelProto. Holds the file name for messages and the folder that
/// external data must stay inside (nil: external data refused).
struct ModelReader {
  let file: String
  let folder: String?
  let limits: ImportLimits

  mutating func model(_ m: UnsafeMutablePointer<Onnx__ModelProto>) throws -> Model {
    let mp = m.pointee
    var opsets: [OpsetImport] = []
    for o in list(mp.n_opset_import, mp.opset_import) {
      opsets.append(OpsetImport(domain: str(o.pointee.domain), version: o.pointee.has_version != 0 ? o.pointee.version : 0))
    }
    guard let gp = mp.graph else { throw GraftError(.invalid, at: Location(file: file), "not an ONNX model: the message has no graph") }
    let graph = try self.graph(gp)
    var functions: [FunctionKey: LocalFunction] = [:]
    for f in list(mp.n_functions, mp.functions) {
      let fn = try function(f)
      functions[fn.key] = fn
    }
    var model = Model(graph: graph, irVersion: mp.has_ir_version != 0 ? mp.ir_version : 0, opsetImports: opsets,
                      producerName: str(mp.producer_name), producerVersion: str(mp.producer_version), path: file)
    model.domain = str(mp.domain)
    model.modelVersion = mp.has_model_version != 0 ? mp.model_version : 0
    model.docString = str(mp.doc_string)
    for e in list(mp.n_metadata_props, mp.metadata_props) {
      model.metadata.append((key: str(e.pointee.key), value: str(e.pointee.value)))
    }
    if !functions.isEmpty {
      var inliner = FunctionInliner(file: file, functions: functions, limits: limits)
      try inliner.inline(&model)
    }
    FunctionInliner.removeOverloads(&model.graph)
    try checkDuplicates(model.graph)
    try model.graph.sortTopologically(file: file)
    try model.graph.checkInvariants(file: file)
    return model
  }

  /// Rejects a value defined twice in one graph (two producers, or a node producing a graph
  /// input or initializer) with a message naming the second definition; sorting would
  /// otherwise pick one. Like `checkInvariants`, a subgraph may reuse an enclosing scope's name.
  func checkDuplicates(_ g: Graph) throws {
    var defined = Set<String>()
    for i in g.inputs { defined.insert(i.name) }
    for (n, _) in g.initializers { defined.insert(n) }
    for node in g.nodes {
      for o in node.outputs where !o.isEmpty {
        if !defined.insert(o).inserted {
          throw GraftError(.invalid, at: Location(file: file, node: node.displayName, opType: node.opType),
                           "output '\(o)' is already defined (duplicate value name)")
        }
      }
      for sub in node.subgraphs { try checkDuplicates(sub) }
    }
  }

  func graph(_ gp: UnsafeMutablePointer<Onnx__GraphProto>) throws -> Graph {
    let g = gp.pointee
    var graph = Graph(name: str(g.name))
    graph.docString = optStr(g.doc_string)
    graph.initializers.reserveCapacity(g.n_initializer)
    for t in list(g.n_initializer, g.initializer) {
      let name = str(t.pointee.name)
      try checkName(name)
      graph.initializers.append((name: name, tensor: try tensor(t, name: name)))
    }
    for s in list(g.n_sparse_initializer, g.sparse_initializer) {
      let name = s.pointee.values.map { str($0.pointee.name) } ?? ""
      graph.initializers.append((name: name, tensor: try sparseTensor(s, name: name)))
    }
    graph.inputs = try list(g.n_input, g.input).map { try valueInfo($0) }
    graph.outputs = try list(g.n_output, g.output).map { try valueInfo($0) }
    var order: [String] = []
    for v in list(g.n_value_info, g.value_info) {
      let vi = try valueInfo(v)
      guard let t = vi.type else { continue }
      if graph.valueInfo.updateValue(t, forKey: vi.name) == nil { order.append(vi.name) }
    }
    graph.valueInfoOrder = order
    graph.nodes.reserveCapacity(g.n_node)
    for n in list(g.n_node, g.node) { graph.nodes.append(try node(n)) }
    return graph
  }

  func node(_ np: UnsafeMutablePointer<Onnx__NodeProto>) throws -> Node {
    let n = np.pointee
    var node = Node(name: str(n.name), opType: str(n.op_type), domain: str(n.domain),
                    inputs: strings(n.n_input, n.input), outputs: strings(n.n_output, n.output))
    node.docString = optStr(n.doc_string)
    for s in [node.name, node.opType, node.domain] + node.inputs + node.outputs { try checkName(s) }
    if let overload = optStr(n.overload) {
      // Only function calls use overloads; carried to the inliner, which removes it.
      node.attributes.append(Attribute(FunctionInliner.overloadKey, .string(Array(overload.utf8))))
    }
    let loc = Location(file: file, node: node.displayName, opType: node.opType)
    for a in list(n.n_attribute, n.attribute) {
      node.attributes.append(try attribute(a, at: loc))
    }
    try AttributeKinds.check(node, at: loc)
    return node
  }

  func valueInfo(_ vp: UnsafeMutablePointer<Onnx__ValueInfoProto>) throws -> ValueInfo {
    let name = str(vp.pointee.name)
    try checkName(name)
    var vi = ValueInfo(name: name, type: try vp.pointee.type.flatMap { try type($0, name: name) })
    vi.docString = optStr(vp.pointee.doc_string)
    return vi
  }

  /// Names (values, nodes, op types) must not hold control characters: every message names
  /// them on one line. The error shows the name with such characters escaped.
  func checkName(_ s: String) throws {
    guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { return }
    let shown = s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    throw GraftError(.invalid, at: Location(file: file), "name '\(shown)' contains a control character")
  }

  /// The tensor type of a TypeProto; nil for sequence, map, optional and opaque types
  /// (Graft's IR types tensors only).
  func type(_ tp: UnsafeMutablePointer<Onnx__TypeProto>, name: String) throws -> TensorType? {
    guard tp.pointee.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, let tt = tp.pointee.tensor_type else { return nil }
    let loc = Location(file: file, tensor: name)
    let code = tt.pointee.has_elem_type != 0 ? tt.pointee.elem_type : 0
    guard let dtype = DType(rawValue: code) else {
      throw GraftError(.unsupported, at: loc, "element type \(code) is not supported")
    }
    guard let sp = tt.pointee.shape else { return TensorType(dtype, nil) }
    var shape: Shape = []
    for d in list(sp.pointee.n_dim, sp.pointee.dim) {
      switch d.pointee.value_case {
      case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE:
        let v = d.pointee.dim_value
        if v == -1 {
          // Some exporters write -1 for "unknown"; it means the same as no value.
          shape.append(.symbol(""))
        } else if v < 0 {
          throw GraftError(.invalid, at: loc, "dim \(v) is negative")
        } else if v > limits.maxDimension {
          throw GraftError(.invalid, at: loc, "dim \(v) is larger than the limit \(limits.maxDimension)")
        } else {
          shape.append(.known(Int(v)))
        }
      case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
        shape.append(.symbol(str(d.pointee.dim_param)))
      default:
        shape.append(.symbol(""))
      }
    }
    return TensorType(dtype, shape)
  }
}
