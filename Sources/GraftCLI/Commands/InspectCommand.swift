import Foundation
import GraftBackend
import GraftIR
import GraftONNX
import GraftPasses

/// `graft inspect model.onnx [--json] [--input-shape NAME=DIMS ...] [--bind NAME=VALUE ...]`
///
/// Prints producer, IR and opset versions, inputs and outputs (after binding and shape
/// inference), the op histogram, params, MACs, weight bytes by dtype and the largest layers
/// (rules in `ModelStatistics`). Params and the histogram describe the model as imported;
/// MACs are taken after canonicalization, shape inference and If folding at the bound shapes.
/// Unsupported ops: the report is printed, then one line per op on stderr and exit 3.
enum InspectCommand: Command {
  static let name = "inspect"
  static let summary = "print a model's inputs, outputs, ops, parameters and MACs"
  static let help = """
    usage: graft inspect <model.onnx> [--json] [--input-shape NAME=DIMS ...]
                         [--bind NAME=VALUE|NAME=FILE.npy ...]

    Prints producer, IR and opset versions, inputs and outputs with shapes and dtypes, the op
    histogram, parameter count, MACs, weight bytes by dtype and the largest layers.

    options:
      --json                  the same as JSON (keys: producer, ir_version, opsets, inputs,
                              outputs, ops, params, macs, macs_by_op, weight_bytes_by_dtype,
                              largest_layers, unsupported)
      --input-shape NAME=DIMS bind a symbolic input shape, e.g. images=1x3x224x224 (repeatable)
      --bind NAME=VALUE       fix a graph input to a constant: an int or float scalar
                              (sr=16000) or a .npy file (sr=sr.npy); Ifs that depend on
                              it fold away (repeatable)

    exit codes: 0 printed, 1 invalid model or bad binding, 2 usage error,
    3 the model uses ops graft does not support (listed one per line after the report)
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let json = args.flag("--json")
    let shapeArgs = try args.options("--input-shape")
    let bindArgs = try args.options("--bind")
    let path = try args.positionals(exactly: 1, "model file")[0]
    var shapes: [String: [Int]] = [:]
    for s in shapeArgs {
      let (name, dims) = try parseInputShape(s)
      shapes[name] = dims
    }
    var bindings: [String: Tensor] = [:]
    for b in bindArgs {
      let (name, t) = try parseBinding(b)
      bindings[name] = t
    }
    let model = try ONNXImporter.load(path: path)
    let report = try InspectReport.make(model: model, file: path, inputShapes: shapes, bindings: bindings)
    out.print(json ? report.json() : report.text())
    if !report.unsupported.isEmpty {
      throw GraftError(.unsupported, at: Location(file: path),
                       "\(report.unsupported.count) node(s) use ops graft does not support", notes: report.unsupported)
    }
  }

  /// `name=1x3x224x224`; `name=` or `name=scalar` for a scalar (the name may contain '=').
  static func parseInputShape(_ s: String) throws -> (String, [Int]) {
    guard let eq = s.lastIndex(of: "="), eq != s.startIndex else {
      throw UsageError("--input-shape needs NAME=DIMS, e.g. x=1x3x224x224; got '\(s)'")
    }
    let name = String(s[..<eq])
    let text = s[s.index(after: eq)...]
    if text.isEmpty || text == "scalar" { return (name, []) }
    let parts = text.split(separator: "x", omittingEmptySubsequences: false)
    var dims: [Int] = []
    for p in parts {
      guard let v = Int(p), v >= 0, v <= 1 << 40 else {
        throw UsageError("--input-shape \(s): '\(p)' is not a dim size; use NAME=1x3x224x224")
      }
      dims.append(v)
    }
    return (name, dims)
  }

  /// `name=16000` (int64 scalar), `name=0.5` (float scalar) or `name=file.npy` (any tensor).
  static func parseBinding(_ s: String) throws -> (String, Tensor) {
    guard let eq = s.lastIndex(of: "="), eq != s.startIndex else {
      throw UsageError("--bind needs NAME=VALUE, e.g. sr=16000; got '\(s)'")
    }
    let name = String(s[..<eq])
    let v = String(s[s.index(after: eq)...])
    if let i = Int64(v) { return (name, Tensor.int64([], [i])) }
    if let f = Float(v), f.isFinite { return (name, Tensor.float32([], [f])) }
    if v.hasSuffix(".npy") { return (name, try Npy.read(path: v)) }
    throw UsageError("--bind \(s): '\(v)' is not an integer, a float or a .npy file")
  }
}

/// Everything `graft inspect` reports, computed once for the text and JSON forms.
struct InspectReport {
  struct IO {
    var name: String
    var type: TensorType?
  }
  var producer: String
  var producerVersion: String
  var irVersion: Int64
  var opsets: [OpsetImport]
  var inputs: [IO]
  var outputs: [IO]
  var stats: ModelStatistics
  var unsupported: [String]

  static func make(model: Model, file: String, inputShapes: [String: [Int]], bindings: [String: Tensor]) throws -> InspectReport {
    var stats = ModelStatistics.structural(model.graph)
    var graph = model.graph
    var context = PassContext(file: file, opsets: model.opsetImports, inputShapes: inputShapes, bindings: bindings)
    _ = try Canonicalize().run(&graph, &context)
    try inferShapesAndFoldIfs(&graph, &context)
    stats.countMACs(graph)
    let unsupported = unsupportedOps(graph, context)
    return InspectReport(
      producer: model.producerName, producerVersion: model.producerVersion, irVersion: model.irVersion,
      opsets: model.opsetImports,
      inputs: graph.runtimeInputs.map { IO(name: $0.name, type: $0.type) },
      outputs: graph.outputs.map { IO(name: $0.name, type: $0.type) },
      stats: stats, unsupported: unsupported)
  }

  private static func shapeText(_ t: TensorType?) -> String {
    guard let t else { return "?" }
    guard let s = t.shape else { return "\(t.dtype)[?]" }
    return "\(t.dtype)[\(s.map(\.description).joined(separator: ", "))]"
  }

  private static func grouped(_ n: Int) -> String {
    let s = String(n)
    var out = ""
    for (i, c) in s.reversed().enumerated() {
      if i > 0 && i % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return String(out.reversed())
  }

  /// `n` in millions with one decimal (`3179.4`), as the models README prints it.
  private static func millions(_ n: Int) -> String {
    let tenths = n / 100_000 + (n % 100_000 >= 50_000 ? 1 : 0)
    return "\(tenths / 10).\(tenths % 10)"
  }

  private static func domainName(_ d: String) -> String { d.isEmpty ? "ai.onnx" : d }

  /// Human-friendly, aligned report.
  func text() -> String {
    var lines: [String] = []
    let prod = producer.isEmpty ? "-" : producer + (producerVersion.isEmpty ? "" : " " + producerVersion)
    lines.append("producer:   \(prod)")
    lines.append("ir version: \(irVersion)")
    lines.append("opsets:     " + opsets.map { "\(Self.domainName($0.domain)) \($0.version)" }.joined(separator: ", "))
    func table(_ title: String, _ rows: [IO]) {
      lines.append("")
      lines.append("\(title):")
      let w = rows.map(\.name.count).max() ?? 0
      for r in rows {
        lines.append("  " + r.name + String(repeating: " ", count: w - r.name.count + 2) + Self.shapeText(r.type))
      }
    }
    table("inputs", inputs)
    table("outputs", outputs)
    lines.append("")
    lines.append("params:     \(Self.grouped(stats.params)) (\(Self.millions(stats.params)) M)")
    let byOp = stats.macsByOp.sorted { $0.key < $1.key }.map { "\($0.key) \(Self.grouped($0.value))" }
    lines.append("MACs:       \(Self.grouped(stats.macs)) (\(Self.millions(stats.macs)) M)")
    if !byOp.isEmpty { lines.append("            " + byOp.joined(separator: ", ")) }
    if !stats.macsUnknown.isEmpty {
      let unbound = inputs.filter { $0.type?.shape?.concrete == nil }.map(\.name)
      let hint = unbound.isEmpty ? "" : "; bind " + unbound.map { "--input-shape \($0)=..." }.joined(separator: " ")
      lines.append("            not counted for \(stats.macsUnknown.count) node(s) with unknown shapes\(hint)")
    }
    lines.append("")
    lines.append("weight bytes by dtype:")
    let wb = stats.weightBytesByDType.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }
    let ww = wb.map { $0.key.description.count }.max() ?? 0
    for (d, b) in wb {
      lines.append("  " + d.description + String(repeating: " ", count: ww - d.description.count + 2) + Self.grouped(b))
    }
    lines.append("")
    lines.append("ops:")
    let ow = stats.ops.map(\.op.count).max() ?? 0
    for (op, n) in stats.ops {
      lines.append("  " + op + String(repeating: " ", count: ow - op.count + 2) + String(n))
    }
    lines.append("")
    lines.append("largest layers:")
    let lw = stats.largestLayers.map { $0.node.count + $0.opType.count + 3 }.max() ?? 0
    for l in stats.largestLayers {
      let label = "\(l.node) (\(l.opType))"
      lines.append("  " + label + String(repeating: " ", count: lw - label.count + 2) + Self.grouped(l.params))
    }
    if !unsupported.isEmpty {
      lines.append("")
      lines.append("unsupported: \(unsupported.count) node(s) (listed on stderr)")
    }
    return lines.joined(separator: "\n")
  }

  /// Stable-keyed JSON (keys sorted within each object).
  func json() -> String {
    func str(_ s: String) -> String {
      var o = "\""
      for u in s.unicodeScalars {
        switch u {
        case "\"": o += "\\\""
        case "\\": o += "\\\\"
        case "\n": o += "\\n"
        case "\r": o += "\\r"
        case "\t": o += "\\t"
        default:
          if u.value < 0x20 { o += String(format: "\\u%04x", u.value) } else { o.unicodeScalars.append(u) }
        }
      }
      return o + "\""
    }
    func io(_ r: IO) -> String {
      let shape: String
      if let s = r.type?.shape {
        shape = "[" + s.map { d -> String in
          switch d {
          case .known(let v): return String(v)
          case .symbol(let n): return str(n.isEmpty ? "?" : n)
          }
        }.joined(separator: ", ") + "]"
      } else {
        shape = "null"
      }
      return "{\"dtype\": \(str(r.type?.dtype.description ?? "unknown")), \"name\": \(str(r.name)), \"shape\": \(shape)}"
    }
    var fields: [String] = []
    fields.append("\"inputs\": [" + inputs.map(io).joined(separator: ", ") + "]")
    fields.append("\"ir_version\": \(irVersion)")
    fields.append("\"largest_layers\": [" + stats.largestLayers.map {
      "{\"name\": \(str($0.node)), \"op\": \(str($0.opType)), \"params\": \($0.params)}"
    }.joined(separator: ", ") + "]")
    fields.append("\"macs\": \(stats.macs)")
    fields.append("\"macs_by_op\": {" + stats.macsByOp.sorted { $0.key < $1.key }.map { "\(str($0.key)): \($0.value)" }.joined(separator: ", ") + "}")
    fields.append("\"ops\": {" + stats.ops.sorted { $0.op < $1.op }.map { "\(str($0.op)): \($0.count)" }.joined(separator: ", ") + "}")
    fields.append("\"opsets\": {" + opsets.map { "\(str(Self.domainName($0.domain))): \($0.version)" }.joined(separator: ", ") + "}")
    fields.append("\"outputs\": [" + outputs.map(io).joined(separator: ", ") + "]")
    fields.append("\"params\": \(stats.params)")
    fields.append("\"producer\": \(str(producer))")
    fields.append("\"unsupported\": [" + unsupported.map(str).joined(separator: ", ") + "]")
    fields.append("\"weight_bytes_by_dtype\": {" + stats.weightBytesByDType.sorted { $0.key.description < $1.key.description }
      .map { "\(str($0.key.description)): \($0.value)" }.joined(separator: ", ") + "}")
    return "{\n  " + fields.joined(separator: ",\n  ") + "\n}"
  }
}
