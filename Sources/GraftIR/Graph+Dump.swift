/// The IR as text, one line per value or node, for `--dump-after` and structural golden tests.
///
/// Contract: deterministic (the same graph always prints the same text; attributes are sorted by
/// name), never prints tensor contents (initializers and tensor attributes show dtype and shape
/// only), and ends with a newline. The layout is
///
///     graph 'main'
///       input %x: f32[1x3x8x8]
///       init %w: f32[4x3x3x3]
///       %c: f32[1x4x6x6] = Conv[group=1, pads=[1, 1, 1, 1]](%x, %w)  # conv1
///       output %c: f32[1x4x6x6]
///
/// An omitted optional input or output prints as `_`; a value without a known type prints its
/// name only. Subgraphs (If/Loop/Scan bodies) print indented under their node, headed by the
/// attribute name. Cost: linear in the graph size.
extension Graph {
  public func dumpText() -> String {
    var out = ""
    dump(into: &out, indent: "")
    return out
  }

  private func dump(into out: inout String, indent: String) {
    out += "\(indent)graph '\(name)'\n"
    let inner = indent + "  "
    let initNames = Set(initializers.map(\.name))
    for i in inputs where !initNames.contains(i.name) {
      out += "\(inner)input \(typed(i.name, i.type))\n"
    }
    for (n, t) in initializers {
      out += "\(inner)init \(typed(n, t.type))\n"
    }
    for node in nodes {
      let outs = node.outputs.map { $0.isEmpty ? "_" : typed($0, type(of: $0)) }.joined(separator: ", ")
      let ins = node.inputs.map { $0.isEmpty ? "_" : "%\($0)" }.joined(separator: ", ")
      let op = node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)"
      let attrs = node.attributes.sorted { $0.name < $1.name }
      let attrText = attrs.isEmpty ? "" : "[" + attrs.map { "\($0.name)=\(Graph.dumpValue($0.value))" }.joined(separator: ", ") + "]"
      var line = "\(inner)\(outs) = \(op)\(attrText)(\(ins))"
      if !node.name.isEmpty { line += "  # \(node.name)" }
      out += line + "\n"
      for a in attrs {
        switch a.value {
        case .graph(let g):
          out += "\(inner)  \(a.name):\n"
          g.dump(into: &out, indent: inner + "    ")
        case .graphs(let gs):
          for (k, g) in gs.enumerated() {
            out += "\(inner)  \(a.name)[\(k)]:\n"
            g.dump(into: &out, indent: inner + "    ")
          }
        default: break
        }
      }
    }
    for o in outputs {
      out += "\(inner)output \(typed(o.name, o.type ?? type(of: o.name)))\n"
    }
  }

  private func typed(_ name: String, _ type: TensorType?) -> String {
    guard let type else { return "%\(name)" }
    return "%\(name): \(type.dumpText)"
  }

  static func dumpValue(_ v: AttributeValue) -> String {
    switch v {
    case .float(let f): return f.description
    case .int(let i): return String(i)
    case .string(let s): return dumpString(s)
    case .tensor(let t): return "tensor<\(t.type.dumpText)>"
    case .graph(let g): return "graph<'\(g.name)'>"
    case .floats(let fs): return "[" + fs.map(\.description).joined(separator: ", ") + "]"
    case .ints(let xs): return "[" + xs.map { String($0) }.joined(separator: ", ") + "]"
    case .strings(let ss): return "[" + ss.map(dumpString).joined(separator: ", ") + "]"
    case .tensors(let ts): return "[" + ts.map { "tensor<\($0.type.dumpText)>" }.joined(separator: ", ") + "]"
    case .graphs(let gs): return "[" + gs.map { "graph<'\($0.name)'>" }.joined(separator: ", ") + "]"
    case .opaque(let kind, let encoded): return "opaque<kind \(kind), \(encoded.count) bytes>"
    }
  }

  private static func dumpString(_ bytes: [UInt8]) -> String {
    var s = "\""
    for c in String(decoding: bytes, as: UTF8.self).unicodeScalars {
      switch c {
      case "\"": s += "\\\""
      case "\\": s += "\\\\"
      case "\n": s += "\\n"
      default:
        if c.value < 0x20 { s += "\\u{\(String(c.value, radix: 16))}" } else { s.unicodeScalars.append(c) }
      }
    }
    return s + "\""
  }
}

extension DType {
  /// Short name used in dumps: `f32`, `i64`, `bool`.
  public var shortName: String {
    switch self {
    case .undefined: return "undef"
    case .float32: return "f32"
    case .uint8: return "u8"
    case .int8: return "i8"
    case .uint16: return "u16"
    case .int16: return "i16"
    case .int32: return "i32"
    case .int64: return "i64"
    case .string: return "str"
    case .bool: return "bool"
    case .float16: return "f16"
    case .float64: return "f64"
    case .uint32: return "u32"
    case .uint64: return "u64"
    case .complex64: return "c64"
    case .complex128: return "c128"
    case .bfloat16: return "bf16"
    case .float8e4m3fn: return "f8e4m3fn"
    case .float8e4m3fnuz: return "f8e4m3fnuz"
    case .float8e5m2: return "f8e5m2"
    case .float8e5m2fnuz: return "f8e5m2fnuz"
    case .uint4: return "u4"
    case .int4: return "i4"
    }
  }
}

extension TensorType {
  /// `f32[1x3x224x224]`; a scalar prints `f32[]`, an unknown rank `f32[?]`, a symbolic dim by
  /// its name (`f32[Nx3x?x?]`).
  public var dumpText: String {
    guard let shape else { return "\(dtype.shortName)[?]" }
    return "\(dtype.shortName)[\(shape.map(\.description).joined(separator: "x"))]"
  }
}
