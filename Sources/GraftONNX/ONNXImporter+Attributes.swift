import COnnxProto
import CProtobufC
import GraftIR

/// AttributeProto → `Attribute`. The declared `type` decides the kind; files from IR 1
/// exporters that omit it get the kind of the one value field that is set.
extension ModelReader {
  func attribute(_ ap: UnsafeMutablePointer<Onnx__AttributeProto>, at loc: Location) throws -> Attribute {
    let a = ap.pointee
    let name = str(a.name)
    var kind = a.has_type != 0 ? a.type : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED
    if kind == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED { kind = inferredKind(a) }
    let ref = optStr(a.ref_attr_name)
    func missing(_ what: String) -> GraftError {
      GraftError(.invalid, at: loc, "attribute '\(name)' is declared \(what) but holds no \(what) value")
    }
    let value: AttributeValue
    switch kind {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
      guard a.has_f != 0 || ref != nil || hasNoOtherValue(a) else { throw missing("float") }
      value = .float(a.f)
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
      guard a.has_i != 0 || ref != nil || hasNoOtherValue(a) else { throw missing("int") }
      value = .int(a.i)
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
      guard a.has_s != 0 || ref != nil || hasNoOtherValue(a) else { throw missing("string") }
      value = .string(bytesOf(a.s))
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
      if let t = a.t {
        value = .tensor(try tensor(t, name: attributeLabel(loc, name)))
      } else if ref != nil {
        value = .tensors([])
      } else {
        throw missing("tensor")
      }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
      if let g = a.g {
        value = .graph(try graph(g))
      } else if ref != nil {
        value = .graphs([])
      } else {
        throw missing("graph")
      }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
      guard a.n_floats > 0 || ref != nil || hasNoOtherValue(a) else { throw missing("floats") }
      value = .floats(array(a.n_floats, a.floats))
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
      guard a.n_ints > 0 || ref != nil || hasNoOtherValue(a) else { throw missing("ints") }
      value = .ints(array(a.n_ints, a.ints))
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
      guard a.n_strings > 0 || ref != nil || hasNoOtherValue(a) else { throw missing("strings") }
      value = .strings((0..<a.n_strings).map { bytesOf(a.strings[$0]) })
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS:
      let label = attributeLabel(loc, name)
      value = .tensors(try list(a.n_tensors, a.tensors).map { try tensor($0, name: label) })
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
      value = .graphs(try list(a.n_graphs, a.graphs).map { try graph($0) })
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS,
         ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
      // Kept as the whole encoded AttributeProto; the exporter writes it back unchanged.
      let size = onnx__attribute_proto__get_packed_size(ap)
      var buf = [UInt8](repeating: 0, count: size)
      _ = buf.withUnsafeMutableBufferPointer { onnx__attribute_proto__pack(ap, $0.baseAddress) }
      value = .opaque(kind: Int32(bitPattern: kind.rawValue), encoded: buf)
    default:
      if ref != nil {
        throw GraftError(.invalid, at: loc, "attribute '\(name)' refers to '\(ref ?? "")' but declares no type")
      }
      throw GraftError(.invalid, at: loc, "attribute '\(name)' has no value")
    }
    var attr = Attribute(name, value, refAttrName: ref)
    attr.docString = optStr(a.doc_string)
    return attr
  }

  private func attributeLabel(_ loc: Location, _ name: String) -> String {
    "\(loc.node ?? "")/\(name)"
  }

  /// True when no value field at all is set (an attribute holding the default zero value
  /// of its declared kind is written that way by some exporters).
  private func hasNoOtherValue(_ a: Onnx__AttributeProto) -> Bool {
    a.has_f == 0 && a.has_i == 0 && a.has_s == 0 && a.t == nil && a.g == nil && a.sparse_tensor == nil && a.tp == nil
      && a.n_floats == 0 && a.n_ints == 0 && a.n_strings == 0 && a.n_tensors == 0 && a.n_graphs == 0
      && a.n_sparse_tensors == 0 && a.n_type_protos == 0
  }

  private func inferredKind(_ a: Onnx__AttributeProto) -> Onnx__AttributeProto__AttributeType {
    if a.has_f != 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT }
    if a.has_i != 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT }
    if a.has_s != 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING }
    if a.t != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR }
    if a.g != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH }
    if a.sparse_tensor != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR }
    if a.tp != nil { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO }
    if a.n_floats > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS }
    if a.n_ints > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS }
    if a.n_strings > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS }
    if a.n_tensors > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS }
    if a.n_graphs > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS }
    if a.n_sparse_tensors > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS }
    if a.n_type_protos > 0 { return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS }
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED
  }
}

/// The attribute kinds ONNX prescribes for common ops of the default domain, so an attribute
/// of the wrong kind is caught at import, naming the node. Ops and attributes not listed are
/// not checked here (shape inference checks what it reads).
enum AttributeKinds {
  static let table: [String: [String: String]] = {
    let conv = ["strides": "ints", "pads": "ints", "dilations": "ints", "kernel_shape": "ints", "group": "int", "auto_pad": "string"]
    let pool = ["strides": "ints", "pads": "ints", "dilations": "ints", "kernel_shape": "ints", "auto_pad": "string",
                "ceil_mode": "int", "count_include_pad": "int", "storage_order": "int"]
    return [
      "Conv": conv,
      "ConvTranspose": conv.merging(["output_padding": "ints", "output_shape": "ints"]) { a, _ in a },
      "MaxPool": pool, "AveragePool": pool, "LpPool": pool.merging(["p": "int"]) { a, _ in a },
      "Gemm": ["alpha": "float", "beta": "float", "transA": "int", "transB": "int"],
      "Transpose": ["perm": "ints"],
      "Concat": ["axis": "int"],
      "Softmax": ["axis": "int"], "LogSoftmax": ["axis": "int"], "Hardmax": ["axis": "int"],
      "Flatten": ["axis": "int"],
      "Gather": ["axis": "int"], "GatherElements": ["axis": "int"],
      "Split": ["axis": "int", "split": "ints", "num_outputs": "int"],
      "Squeeze": ["axes": "ints"], "Unsqueeze": ["axes": "ints"],
      "Reshape": ["allowzero": "int"],
      "Cast": ["to": "int", "saturate": "int"],
      "LeakyRelu": ["alpha": "float"], "Elu": ["alpha": "float"], "Celu": ["alpha": "float"],
      "Selu": ["alpha": "float", "gamma": "float"],
      "HardSigmoid": ["alpha": "float", "beta": "float"],
      "Clip": ["min": "float", "max": "float"],
      "BatchNormalization": ["epsilon": "float", "momentum": "float", "training_mode": "int", "spatial": "int"],
      "InstanceNormalization": ["epsilon": "float"],
      "LayerNormalization": ["axis": "int", "epsilon": "float", "stash_type": "int"],
      "LRN": ["alpha": "float", "beta": "float", "bias": "float", "size": "int"],
      "Pad": ["mode": "string", "pads": "ints", "value": "float"],
      "Resize": ["mode": "string", "coordinate_transformation_mode": "string", "nearest_mode": "string",
                 "cubic_coeff_a": "float", "exclude_outside": "int", "extrapolation_value": "float", "antialias": "int",
                 "keep_aspect_ratio_policy": "string", "axes": "ints"],
      "ReduceMean": ["axes": "ints", "keepdims": "int"], "ReduceSum": ["axes": "ints", "keepdims": "int"],
      "ReduceMax": ["axes": "ints", "keepdims": "int"], "ReduceMin": ["axes": "ints", "keepdims": "int"],
      "ArgMax": ["axis": "int", "keepdims": "int", "select_last_index": "int"],
      "ArgMin": ["axis": "int", "keepdims": "int", "select_last_index": "int"],
      "DepthToSpace": ["blocksize": "int", "mode": "string"], "SpaceToDepth": ["blocksize": "int"],
      "Constant": ["value": "tensor", "value_float": "float", "value_floats": "floats", "value_int": "int",
                   "value_ints": "ints", "value_string": "string", "value_strings": "strings"],
      "ConstantOfShape": ["value": "tensor"],
      "If": ["then_branch": "graph", "else_branch": "graph"],
      "Loop": ["body": "graph"], "Scan": ["body": "graph"],
      "LSTM": ["hidden_size": "int", "direction": "string", "activations": "strings", "clip": "float", "layout": "int"],
      "GRU": ["hidden_size": "int", "direction": "string", "activations": "strings", "clip": "float",
              "linear_before_reset": "int", "layout": "int"],
    ]
  }()

  /// Throws if an attribute of a listed op has another kind than ONNX prescribes.
  static func check(_ node: Node, at loc: Location) throws {
    guard node.domain.isEmpty || node.domain == "ai.onnx", let kinds = table[node.opType] else { return }
    for a in node.attributes where a.refAttrName == nil {
      guard let want = kinds[a.name] else { continue }
      let have = a.value.kindName
      if have != want {
        throw GraftError(.invalid, at: loc, "attribute '\(a.name)' is \(have); \(node.opType) needs \(want)")
      }
    }
  }
}
