import COnnxProto
import CProtobufC
import Foundation
import GraftIR

/// Writes the Graft IR back to ONNX.
///
/// Contract: what the importer read is reproduced so that onnxruntime computes bit-identical
/// results: tensor bytes are written unchanged as `raw_data` with their original dtype (strings
/// as `string_data`), attribute kinds, node and value names, graph input order (IR < 4 models
/// keep initializers listed as inputs), value_info, opset imports, IR version and metadata.
/// Local functions were inlined at import and are not re-emitted; sequence/map/optional value
/// types are not kept by the IR and are written without a type. Models whose encoding exceeds
/// 2 GiB are refused (external-data export is not implemented).
///
/// Memory: protobuf-c structs point at the tensors' own bytes (no copy); the one copy is the
/// packed output buffer.
public enum ONNXExporter {
  /// The encoded ModelProto.
  public static func encode(_ model: Model) throws -> [UInt8] {
    try withPacked(model) { buf in Array(buf) }
  }

  /// Encodes `model` and writes it to `path` atomically.
  public static func write(_ model: Model, to path: String) throws {
    try withPacked(model, file: path) { buf in try writeFileAtomically(path, bytes: UnsafeRawBufferPointer(buf)) }
  }

  /// Packs the model into a temporary buffer valid only inside `body`.
  static func withPacked<R>(_ model: Model, file: String = "", _ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
    let arena = CArena()
    return try withExtendedLifetime(model) {
      let m = try arena.model(model, file: file)
      let size = onnx__model_proto__get_packed_size(m)
      guard size <= Int(Int32.max) else {
        throw GraftError(.unsupported, at: Location(file: file.isEmpty ? model.path : file),
                         "encoded model would have \(size) bytes; ONNX files over 2 GiB need external data, which graft does not write")
      }
      let out = UnsafeMutablePointer<UInt8>.allocate(capacity: max(size, 1))
      defer { out.deallocate() }
      let written = onnx__model_proto__pack(m, out)
      guard written == size else {
        throw GraftError(.invalid, at: Location(file: file), "internal error: protobuf-c packed \(written) of \(size) bytes")
      }
      return try body(UnsafeBufferPointer(start: out, count: size))
    }
  }
}

/// Owns every C allocation made while building one ModelProto; frees them on deinit.
/// Tensor bytes are referenced, not copied: the model must outlive the arena's use.
final class CArena {
  private var blocks: [UnsafeMutableRawPointer] = []
  private var unpacked: [UnsafeMutablePointer<Onnx__AttributeProto>] = []

  deinit {
    for b in blocks { b.deallocate() }
    for a in unpacked { onnx__attribute_proto__free_unpacked(a, nil) }
  }

  func alloc<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
    let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<T>.stride, alignment: MemoryLayout<T>.alignment)
    p.initializeMemory(as: UInt8.self, repeating: 0, count: max(1, count) * MemoryLayout<T>.stride)
    blocks.append(p)
    return p.bindMemory(to: T.self, capacity: max(1, count))
  }

  func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
    let utf8 = Array(s.utf8)
    let p = alloc(CChar.self, count: utf8.count + 1)
    for (i, b) in utf8.enumerated() { p[i] = CChar(bitPattern: b) }
    p[utf8.count] = 0
    return p
  }

  /// NULL for "" (the field is then absent, which ONNX reads the same as empty).
  func optString(_ s: String?) -> UnsafeMutablePointer<CChar>? {
    guard let s, !s.isEmpty else { return nil }
    return cString(s)
  }

  func strings(_ list: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    guard !list.isEmpty else { return nil }
    let p = alloc(UnsafeMutablePointer<CChar>?.self, count: list.count)
    for (i, s) in list.enumerated() { p[i] = cString(s) }
    return p
  }

  func values<T>(_ list: [T]) -> UnsafeMutablePointer<T>? {
    guard !list.isEmpty else { return nil }
    let p = alloc(T.self, count: list.count)
    for (i, v) in list.enumerated() { p[i] = v }
    return p
  }

  func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
    guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
    let p = alloc(UInt8.self, count: bytes.count)
    p.update(from: bytes, count: bytes.count)
    return ProtobufCBinaryData(len: bytes.count, data: p)
  }

  func pointers<T>(_ list: [UnsafeMutablePointer<T>]) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?>? {
    guard !list.isEmpty else { return nil }
    let p = alloc(UnsafeMutablePointer<T>?.self, count: list.count)
    for (i, v) in list.enumerated() { p[i] = v }
    return p
  }

  // MARK: messages

  func model(_ model: Model, file: String) throws -> UnsafeMutablePointer<Onnx__ModelProto> {
    let m = alloc(Onnx__ModelProto.self)
    onnx__model_proto__init(m)
    m.pointee.has_ir_version = 1
    m.pointee.ir_version = model.irVersion
    let opsets = model.opsetImports.map { o -> UnsafeMutablePointer<Onnx__OperatorSetIdProto> in
      let p = alloc(Onnx__OperatorSetIdProto.self)
      onnx__operator_set_id_proto__init(p)
      p.pointee.domain = cString(o.domain)
      p.pointee.has_version = 1
      p.pointee.version = o.version
      return p
    }
    m.pointee.n_opset_import = opsets.count
    m.pointee.opset_import = pointers(opsets)
    m.pointee.producer_name = optString(model.producerName)
    m.pointee.producer_version = optString(model.producerVersion)
    m.pointee.domain = optString(model.domain)
    if model.modelVersion != 0 {
      m.pointee.has_model_version = 1
      m.pointee.model_version = model.modelVersion
    }
    m.pointee.doc_string = optString(model.docString)
    m.pointee.graph = try graph(model.graph, file: file)
    let meta = model.metadata.map { entry($0.key, $0.value) }
    m.pointee.n_metadata_props = meta.count
    m.pointee.metadata_props = pointers(meta)
    return m
  }

  func entry(_ key: String, _ value: String) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
    let p = alloc(Onnx__StringStringEntryProto.self)
    onnx__string_string_entry_proto__init(p)
    p.pointee.key = cString(key)
    p.pointee.value = cString(value)
    return p
  }

  func graph(_ g: Graph, file: String) throws -> UnsafeMutablePointer<Onnx__GraphProto> {
    let p = alloc(Onnx__GraphProto.self)
    onnx__graph_proto__init(p)
    p.pointee.name = cString(g.name)
    p.pointee.doc_string = optString(g.docString)
    let nodes = try g.nodes.map { try node($0, file: file) }
    p.pointee.n_node = nodes.count
    p.pointee.node = pointers(nodes)
    for (name, t) in g.initializers { try checkTensor(t, label: name, file: file) }
    let inits = g.initializers.map { tensor($0.tensor, name: $0.name) }
    p.pointee.n_initializer = inits.count
    p.pointee.initializer = pointers(inits)
    let inputs = g.inputs.map { valueInfo($0.name, $0.type, doc: $0.docString) }
    p.pointee.n_input = inputs.count
    p.pointee.input = pointers(inputs)
    let outputs = g.outputs.map { valueInfo($0.name, $0.type, doc: $0.docString) }
    p.pointee.n_output = outputs.count
    p.pointee.output = pointers(outputs)
    var order = g.valueInfoOrder.filter { g.valueInfo[$0] != nil }
    let listed = Set(order)
    order += g.valueInfo.keys.filter { !listed.contains($0) }.sorted()
    var seen = Set<String>()
    let infos = order.compactMap { name -> UnsafeMutablePointer<Onnx__ValueInfoProto>? in
      guard seen.insert(name).inserted else { return nil }
      return valueInfo(name, g.valueInfo[name], doc: nil)
    }
    p.pointee.n_value_info = infos.count
    p.pointee.value_info = pointers(infos)
    return p
  }

  func node(_ n: Node, file: String) throws -> UnsafeMutablePointer<Onnx__NodeProto> {
    let p = alloc(Onnx__NodeProto.self)
    onnx__node_proto__init(p)
    p.pointee.n_input = n.inputs.count
    p.pointee.input = strings(n.inputs)
    p.pointee.n_output = n.outputs.count
    p.pointee.output = strings(n.outputs)
    p.pointee.name = optString(n.name)
    p.pointee.op_type = cString(n.opType)
    p.pointee.domain = optString(n.domain)
    p.pointee.doc_string = optString(n.docString)
    let attrs = try n.attributes.map { try attribute($0, node: n, file: file) }
    p.pointee.n_attribute = attrs.count
    p.pointee.attribute = pointers(attrs)
    return p
  }

  func attribute(_ a: Attribute, node: Node, file: String) throws -> UnsafeMutablePointer<Onnx__AttributeProto> {
    if case .opaque(_, let encoded) = a.value {
      guard let u = encoded.withUnsafeBufferPointer({ onnx__attribute_proto__unpack(nil, $0.count, $0.baseAddress) }) else {
        throw GraftError(.invalid, at: Location(file: file, node: node.displayName, opType: node.opType),
                         "attribute '\(a.name)' holds an opaque value that does not decode")
      }
      unpacked.append(u)
      return u
    }
    let p = alloc(Onnx__AttributeProto.self)
    onnx__attribute_proto__init(p)
    p.pointee.name = cString(a.name)
    p.pointee.ref_attr_name = optString(a.refAttrName)
    p.pointee.doc_string = optString(a.docString)
    p.pointee.has_type = 1
    switch a.value {
    case .float(let v):
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
      p.pointee.has_f = 1
      p.pointee.f = v
    case .int(let v):
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
      p.pointee.has_i = 1
      p.pointee.i = v
    case .string(let v):
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
      p.pointee.has_s = 1
      p.pointee.s = binary(v)
    case .tensor(let t):
      try checkTensor(t, label: "\(node.displayName)/\(a.name)", file: file)
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
      p.pointee.t = tensor(t, name: "")
    case .graph(let g):
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH
      p.pointee.g = try graph(g, file: file)
    case .floats(let v):
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
      p.pointee.n_floats = v.count
      p.pointee.floats = values(v)
    case .ints(let v):
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
      p.pointee.n_ints = v.count
      p.pointee.ints = values(v)
    case .strings(let v):
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
      p.pointee.n_strings = v.count
      p.pointee.strings = values(v.map { binary($0) })
    case .tensors(let v):
      for t in v { try checkTensor(t, label: "\(node.displayName)/\(a.name)", file: file) }
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS
      p.pointee.n_tensors = v.count
      p.pointee.tensors = pointers(v.map { tensor($0, name: "") })
    case .graphs(let v):
      p.pointee.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS
      p.pointee.n_graphs = v.count
      p.pointee.graphs = pointers(try v.map { try graph($0, file: file) })
    case .opaque:
      break  // handled above
    }
    return p
  }

  /// A tensor built in memory must hold exactly the bytes its dims and dtype need, or the
  /// file written would not load anywhere: refuse it, naming the tensor.
  func checkTensor(_ t: Tensor, label: String, file: String) throws {
    let loc = Location(file: file, tensor: label.isEmpty ? "<unnamed>" : label)
    guard t.dims.allSatisfy({ $0 >= 0 }) else {
      throw GraftError(.invalid, at: loc, "cannot export: shape \(Shape(t.dims).text) has a negative dim")
    }
    var total = 1
    for d in t.dims {
      let (p, overflow) = total.multipliedReportingOverflow(by: d)
      guard !overflow else { throw GraftError(.invalid, at: loc, "cannot export: shape \(Shape(t.dims).text) has too many elements") }
      total = p
    }
    if t.dtype == .string {
      guard t.strings.count == t.count else {
        throw GraftError(.invalid, at: loc, "cannot export: tensor has \(t.strings.count) strings; shape \(Shape(t.dims).text) needs \(t.count)")
      }
      return
    }
    guard let need = t.dtype.storageBytes(count: t.count), t.dtype != .undefined else {
      throw GraftError(.invalid, at: loc, "cannot export: tensor has no storable element type (\(t.dtype))")
    }
    guard t.byteCount == need else {
      throw GraftError(.invalid, at: loc,
                       "cannot export: tensor data has \(t.byteCount) bytes; shape \(Shape(t.dims).text) of \(t.dtype) needs \(need)")
    }
  }

  /// Tensor bytes are referenced in place as raw_data (strings go to string_data).
  func tensor(_ t: Tensor, name: String) -> UnsafeMutablePointer<Onnx__TensorProto> {
    let p = alloc(Onnx__TensorProto.self)
    onnx__tensor_proto__init(p)
    p.pointee.name = optString(name)
    p.pointee.n_dims = t.dims.count
    p.pointee.dims = values(t.dims.map { Int64($0) })
    p.pointee.has_data_type = 1
    p.pointee.data_type = t.dtype.rawValue
    if t.dtype == .string {
      p.pointee.n_string_data = t.strings.count
      p.pointee.string_data = values(t.strings.map { binary($0) })
    } else {
      p.pointee.has_raw_data = 1
      p.pointee.raw_data = ProtobufCBinaryData(
        len: t.byteCount, data: t.byteCount > 0 ? UnsafeMutablePointer(mutating: t.storage.pointer.assumingMemoryBound(to: UInt8.self)) : nil)
    }
    return p
  }

  func valueInfo(_ name: String, _ type: TensorType?, doc: String?) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
    let p = alloc(Onnx__ValueInfoProto.self)
    onnx__value_info_proto__init(p)
    p.pointee.name = cString(name)
    p.pointee.doc_string = optString(doc)
    if let type { p.pointee.type = typeProto(type) }
    return p
  }

  func typeProto(_ t: TensorType) -> UnsafeMutablePointer<Onnx__TypeProto> {
    let p = alloc(Onnx__TypeProto.self)
    onnx__type_proto__init(p)
    let tt = alloc(Onnx__TypeProto__Tensor.self)
    onnx__type_proto__tensor__init(tt)
    if t.dtype != .undefined {
      tt.pointee.has_elem_type = 1
      tt.pointee.elem_type = t.dtype.rawValue
    }
    if let shape = t.shape {
      let sp = alloc(Onnx__TensorShapeProto.self)
      onnx__tensor_shape_proto__init(sp)
      let dims = shape.map { d -> UnsafeMutablePointer<Onnx__TensorShapeProto__Dimension> in
        let dp = alloc(Onnx__TensorShapeProto__Dimension.self)
        onnx__tensor_shape_proto__dimension__init(dp)
        switch d {
        case .known(let v):
          dp.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
          dp.pointee.dim_value = Int64(v)
        case .symbol(let s):
          if !s.isEmpty {
            dp.pointee.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
            dp.pointee.dim_param = cString(s)
          }
        }
        return dp
      }
      sp.pointee.n_dim = dims.count
      sp.pointee.dim = pointers(dims)
      tt.pointee.shape = sp
    }
    p.pointee.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
    p.pointee.tensor_type = tt
    return p
  }
}
