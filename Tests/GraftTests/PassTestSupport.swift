// Helpers for the pass tests: a small graph builder, golden files of structure, and a bridge
// that runs graphs through onnxruntime (numbers always come from onnxruntime, never from us).
import Foundation
import GraftIR
import Testing

/// Builds small graphs in code. Every value it declares gets a type in `valueInfo`, as
/// ShapeInference would leave it.
struct GraphBuilder {
  var graph = Graph(name: "test")
  private var rng = SplitMix(seed: 1)

  init(seed: UInt64 = 1) { rng = SplitMix(seed: seed) }

  mutating func input(_ name: String, _ dims: [Int], _ dtype: DType = .float32) {
    graph.inputs.append(ValueInfo(name: name, type: TensorType(dtype, Shape(dims))))
  }

  mutating func output(_ name: String) {
    graph.outputs.append(ValueInfo(name: name, type: graph.valueInfo[name]))
  }

  mutating func constant(_ name: String, _ tensor: Tensor) {
    graph.initializers.append((name, tensor))
  }

  /// A float32 initializer of uniform random values in [lo, hi).
  mutating func random(_ name: String, _ dims: [Int], _ lo: Float = -1, _ hi: Float = 1) {
    constant(name, .float32(dims, (0..<elementCount(dims)).map { _ in rng.uniform(lo, hi) }))
  }

  /// Appends a node; `types` gives its outputs' types (float32 of these dims).
  mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], _ attrs: [Attribute] = [],
                     name: String = "", dims: [[Int]?] = []) {
    graph.nodes.append(Node(name: name, opType: op, inputs: inputs, outputs: outputs, attributes: attrs))
    for (k, d) in dims.enumerated() where k < outputs.count {
      if let d { setType(outputs[k], d) }
    }
  }

  mutating func setType(_ name: String, _ dims: [Int], _ dtype: DType = .float32) {
    graph.valueInfo[name] = TensorType(dtype, Shape(dims))
    if !graph.valueInfoOrder.contains(name) { graph.valueInfoOrder.append(name) }
  }

  mutating func randomTensor(_ dims: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
    .float32(dims, (0..<elementCount(dims)).map { _ in rng.uniform(lo, hi) })
  }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
    lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
  }
}

func attr(_ name: String, _ v: Int64) -> Attribute { Attribute(name, .int(v)) }
func attr(_ name: String, _ v: Float) -> Attribute { Attribute(name, .float(v)) }
func attr(_ name: String, _ v: [Int64]) -> Attribute { Attribute(name, .ints(v)) }
func attr(_ name: String, _ v: String) -> Attribute { Attribute(name, .string(Array(v.utf8))) }

/// Repository root (this file is Tests/GraftTests/PassTestSupport.swift).
let repoRoot: String = {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
}()

/// Compares `text` with `Tests/Fixtures/Golden/<name>.txt`. With RECORD_GOLDEN=1, or when the
/// file does not exist, writes it and fails the test (a new golden must be looked at).
func expectGolden(_ name: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
  let dir = repoRoot + "/Tests/Fixtures/Golden"
  let path = dir + "/\(name).txt"
  let record = ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1"
  if record || !FileManager.default.fileExists(atPath: path) {
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try? text.write(toFile: path, atomically: true, encoding: .utf8)
    Issue.record("recorded golden \(path); check it and run again without RECORD_GOLDEN", sourceLocation: sourceLocation)
    return
  }
  let want = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
  #expect(text == want, "golden \(name) differs:\n--- want\n\(want)--- got\n\(text)", sourceLocation: sourceLocation)
}

// MARK: - onnxruntime bridge

/// The Python with onnx + onnxruntime: `$GRAFT_PYTHON` if set, else the repository's
/// `.venv/bin/python` (scripts/setup.sh makes it).
let pythonPath: String = ProcessInfo.processInfo.environment["GRAFT_PYTHON"] ?? (repoRoot + "/.venv/bin/python")
let haveOnnxRuntime: Bool = FileManager.default.isExecutableFile(atPath: pythonPath)

/// The Python side: builds each graph as an ONNX model with onnx.helper (Graft's fused
/// activation attributes `graft.act*` are expanded into the standard ONNX node that
/// graft_kernels.h defines them as), runs it with onnxruntime (optimizations off, one thread)
/// and returns the outputs.
private let ortScript = #"""
import base64, json, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper
import onnxruntime as ort

req = json.load(open(sys.argv[1]))
NP = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64, 2: np.uint8, 3: np.int8}
ACT = {1: 'Relu', 3: 'LeakyRelu', 4: 'HardSigmoid', 5: 'HardSwish', 6: 'Sigmoid', 8: 'Tanh',
       11: 'Elu', 12: 'Selu', 13: 'Softplus', 14: 'Softsign'}

def arr(t):
    return np.frombuffer(base64.b64decode(t['data']), dtype=NP[t['dtype']]).reshape(t['dims'])

def attr_value(a):
    k, v = a['kind'], a['value']
    if k == 'string': return v.encode()
    if k == 'tensor': return numpy_helper.from_array(arr(v))
    if k == 'float': return float(v)
    if k == 'floats': return [float(x) for x in v]
    return v

def expand_act(code, alpha, beta, x, y, name, extra_inits):
    if code in (1, 5, 6, 8, 13, 14):
        return [helper.make_node(ACT[code], [x], [y], name=name)]
    if code == 2:
        lo, hi = name + '__min', name + '__max'
        extra_inits.append(numpy_helper.from_array(np.array(alpha, dtype=np.float32), lo))
        extra_inits.append(numpy_helper.from_array(np.array(beta, dtype=np.float32), hi))
        return [helper.make_node('Clip', [x, lo, hi], [y], name=name)]
    if code in (3, 11):
        return [helper.make_node(ACT[code], [x], [y], name=name, alpha=alpha)]
    if code == 4:
        return [helper.make_node('HardSigmoid', [x], [y], name=name, alpha=alpha, beta=beta)]
    if code == 12:
        return [helper.make_node('Selu', [x], [y], name=name, alpha=alpha, gamma=beta)]
    if code == 7:
        s = name + '__sig'
        return [helper.make_node('Sigmoid', [x], [s], name=name + '_s'), helper.make_node('Mul', [x, s], [y], name=name)]
    if code in (9, 10):
        return [helper.make_node('Gelu', [x], [y], name=name, approximate='tanh' if code == 10 else 'none')]
    raise SystemExit('unknown graft.act %d' % code)

def build(g, opset):
    inits = [numpy_helper.from_array(arr(t), t['name']) for t in g['initializers']]
    nodes = []
    for i, n in enumerate(g['nodes']):
        attrs = {a['name']: attr_value(a) for a in n['attrs'] if not a['name'].startswith('graft.')}
        graft = {a['name']: attr_value(a) for a in n['attrs'] if a['name'].startswith('graft.')}
        outs = list(n['outputs'])
        name = n['name'] or ('n%d' % i)
        act = graft.get('graft.act', 0)
        if act:
            y = outs[0]
            outs[0] = y + '__preact'
        nodes.append(helper.make_node(n['op'], n['inputs'], outs, name=name, domain=n['domain'], **attrs))
        if act:
            nodes += expand_act(act, graft.get('graft.act_alpha', 0.0), graft.get('graft.act_beta', 0.0),
                                outs[0], y, name + '__act', inits)
    def vi(v):
        shape = v.get('dims')
        return helper.make_tensor_value_info(v['name'], v['dtype'], shape)
    graph = helper.make_graph(nodes, 'g', [vi(v) for v in g['inputs']], [vi(v) for v in g['outputs']], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
    model.ir_version = 9
    return model

opts = ort.SessionOptions()
opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
opts.intra_op_num_threads = 1
feeds = {k: arr(v) for k, v in req['feeds'].items()}
results = []
for g in req['graphs']:
    model = build(g, req['opset'])
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=['CPUExecutionProvider'])
    names = [o.name for o in sess.get_outputs()]
    wanted = {i.name for i in sess.get_inputs()}
    outs = sess.run(names, {k: v for k, v in feeds.items() if k in wanted})
    results.append([{'dims': list(o.shape), 'dtype': 1 if o.dtype == np.float32 else 7,
                     'data': base64.b64encode(np.ascontiguousarray(o).tobytes()).decode()} for o in outs])
json.dump(results, open(sys.argv[2], 'w'))
"""#

private func tensorJSON(_ t: Tensor) -> [String: Any] {
  ["dtype": Int(t.dtype.rawValue), "dims": t.dims,
   "data": Data(bytes: t.storage.pointer, count: t.storage.count).base64EncodedString()]
}

/// JSON has no infinities: those travel as strings that Python's float() reads.
private func jsonFloat(_ v: Float) -> Any {
  v.isFinite ? Double(v) : (v > 0 ? "inf" : (v < 0 ? "-inf" : "nan"))
}

private func graphJSON(_ g: Graph) -> [String: Any] {
  let inits = Set(g.initializers.map(\.name))
  func vi(_ v: ValueInfo) -> [String: Any] {
    var d: [String: Any] = ["name": v.name, "dtype": Int((v.type?.dtype ?? .float32).rawValue)]
    if let dims = v.type?.shape?.concrete { d["dims"] = dims }
    return d
  }
  let nodes: [[String: Any]] = g.nodes.map { n in
    let attrs: [[String: Any]] = n.attributes.compactMap { a in
      switch a.value {
      case .int(let v): return ["name": a.name, "kind": "int", "value": v]
      case .float(let v): return ["name": a.name, "kind": "float", "value": jsonFloat(v)]
      case .ints(let v): return ["name": a.name, "kind": "ints", "value": v]
      case .floats(let v): return ["name": a.name, "kind": "floats", "value": v.map(jsonFloat)]
      case .string(let v): return ["name": a.name, "kind": "string", "value": String(decoding: v, as: UTF8.self)]
      case .tensor(let t): return ["name": a.name, "kind": "tensor", "value": tensorJSON(t)]
      default: return nil
      }
    }
    return ["name": n.name, "op": n.opType, "domain": n.domain, "inputs": n.inputs, "outputs": n.outputs, "attrs": attrs]
  }
  return [
    "inputs": g.inputs.filter { !inits.contains($0.name) }.map(vi),
    "outputs": g.outputs.map { vi(ValueInfo(name: $0.name, type: $0.type ?? g.type(of: $0.name))) },
    "initializers": g.initializers.map { (n, t) -> [String: Any] in var d = tensorJSON(t); d["name"] = n; return d },
    "nodes": nodes,
  ]
}

struct ORTError: Error, CustomStringConvertible { var description: String }

/// Runs every graph through onnxruntime with the same feeds; returns each graph's outputs.
func runOnnxRuntime(_ graphs: [Graph], feeds: [String: Tensor], opset: Int = 20) throws -> [[Tensor]] {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("graft-pass-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let script = dir.appendingPathComponent("run.py"), req = dir.appendingPathComponent("req.json"),
      res = dir.appendingPathComponent("res.json")
  try ortScript.write(to: script, atomically: true, encoding: .utf8)
  let body: [String: Any] = ["opset": opset, "graphs": graphs.map(graphJSON), "feeds": feeds.mapValues(tensorJSON)]
  try JSONSerialization.data(withJSONObject: body).write(to: req)
  let p = Process()
  p.executableURL = URL(fileURLWithPath: pythonPath)
  p.arguments = [script.path, req.path, res.path]
  let err = Pipe()
  p.standardError = err
  try p.run()
  let errData = err.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  guard p.terminationStatus == 0 else {
    throw ORTError(description: "onnxruntime run failed: " + String(decoding: errData, as: UTF8.self))
  }
  guard let out = try JSONSerialization.jsonObject(with: Data(contentsOf: res)) as? [[[String: Any]]] else {
    throw ORTError(description: "bad result json")
  }
  return out.map { outs in
    outs.map { o in
      let dims = o["dims"] as? [Int] ?? []
      let dtype = DType(rawValue: Int32(o["dtype"] as? Int ?? 1)) ?? .float32
      let data = Data(base64Encoded: o["data"] as? String ?? "") ?? Data()
      let storage = data.withUnsafeBytes { TensorStorage(copying: $0) }
      return Tensor(dtype: dtype, dims: dims, storage: storage)
    }
  }
}

/// Largest |a - b| / max(1, |b|) over two float tensors of the same shape (infinity if shapes differ).
func maxRelativeError(_ a: Tensor, _ b: Tensor) -> Double {
  guard a.dims == b.dims, let x = a.floats(), let y = b.floats() else { return .infinity }
  var worst = 0.0
  for k in x.indices {
    let d = abs(Double(x[k]) - Double(y[k])) / max(1, abs(Double(y[k])))
    if d.isNaN { return .infinity }
    worst = max(worst, d)
  }
  return worst
}

/// Runs `before` and `after` through onnxruntime on random feeds for `before`'s inputs and
/// expects every output to agree within `tolerance` (relative, floor 1). Returns the error.
@discardableResult
func expectSameOutputs(_ before: Graph, _ after: Graph, tolerance: Double = 1e-5, seed: UInt64 = 7,
                       runtime: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws -> Double {
  try expectSameOutputs([("", before, after)], tolerance: tolerance, seed: seed, runtime: runtime,
                        sourceLocation: sourceLocation)
}

/// The same for several (label, before, after) cases that share their inputs' names and
/// shapes, in one onnxruntime process.
///
/// When `runtime` is true, each `after` also runs through the C runtime (KernelRunner, node by
/// node) and must match onnxruntime's `before` the same way; a kernel the runtime does not
/// have yet skips that half with a note.
@discardableResult
func expectSameOutputs(_ cases: [(String, Graph, Graph)], tolerance: Double = 1e-5, seed: UInt64 = 7,
                       runtime: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws -> Double {
  guard let first = cases.first else { return 0 }
  var rng = SplitMix(seed: seed)
  var feeds: [String: Tensor] = [:]
  for i in first.1.runtimeInputs {
    guard let dims = i.type?.shape?.concrete else { continue }
    feeds[i.name] = .float32(dims, (0..<elementCount(dims)).map { _ in rng.uniform(-2, 2) })
  }
  let r = try runOnnxRuntime(cases.map(\.1) + cases.map(\.2), feeds: feeds)
  var worstAll = 0.0
  for (k, (label, _, after)) in cases.enumerated() {
    let ref = r[k], got = r[cases.count + k]
    #expect(!ref.isEmpty && ref.count == got.count, "\(label)", sourceLocation: sourceLocation)
    var worst = 0.0
    for (a, b) in zip(got, ref) { worst = max(worst, maxRelativeError(a, b)) }
    #expect(worst <= tolerance, "\(label): max relative error \(worst) > \(tolerance)", sourceLocation: sourceLocation)
    worstAll = max(worstAll, worst)
    guard runtime else { continue }
    do {
      let outs = try runOnRuntime(after, feeds: feeds, opset: 20)
      var worstRT = 0.0
      for (a, b) in zip(outs, ref) { worstRT = max(worstRT, maxRelativeError(a, b)) }
      #expect(outs.count == ref.count && worstRT <= tolerance,
              "\(label): C runtime on the rewritten graph: max relative error \(worstRT) > \(tolerance)",
              sourceLocation: sourceLocation)
    } catch let e as GraftError where e.kind == .unsupported {
      print("note: C runtime half skipped: \(e)")
    }
  }
  return worstAll
}
