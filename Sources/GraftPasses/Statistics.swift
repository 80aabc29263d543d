import GraftIR

/// One layer's parameter count, for the "largest layers" table.
public struct LayerParams: Sendable, Equatable {
  public var node: String
  public var opType: String
  public var params: Int

  public init(node: String, opType: String, params: Int) {
    self.node = node
    self.opType = opType
    self.params = params
  }
}

/// Model statistics, as `graft inspect` prints them.
///
/// Rules (they reproduce the `params` and `MACs` columns of the models README):
/// - **params** = the element count of every float initializer (float32/16/64, bfloat16) +
///   of every float `Constant` value (`value`, `value_float`, `value_floats`) + of every
///   `ConstantOfShape` output whose shape input is itself a constant (an initializer or a
///   `Constant` output, in its own or an enclosing scope), of any dtype. Counted once per
///   definition over the whole model, both branches of every `If` included. Computed on the
///   model as imported (before any pass).
/// - **MACs** = multiply-accumulates at the bound shapes, on the graph after shape inference
///   and `If` folding, so only nodes that execute count (nodes left inside an unfolded `If` are
///   not counted): Conv: prod(output dims) * (C/group) * prod(kernel);
///   ConvTranspose: prod(input dims) * (M/group) * prod(kernel); MatMul and Gemm:
///   prod(output dims) * K; LSTM/GRU/RNN: directions * seq * batch * gates * hidden *
///   (input + hidden) with 4, 3 and 1 gates. Nodes whose shapes are not known count 0 and are
///   listed in `macsUnknown`.
/// - **weight bytes by dtype** = the stored bytes of every initializer and `Constant` value,
///   per dtype (ConstantOfShape fills are not stored and not counted here).
/// - **largest layers** = nodes ranked by the params of the weights they read (inputs that are
///   initializers, Constant outputs or constant-shape ConstantOfShape outputs), top 10.
public struct ModelStatistics: Sendable {
  public var params: Int = 0
  public var macs: Int = 0
  public var macsByOp: [String: Int] = [:]
  /// Nodes whose MACs could not be computed (shapes unknown).
  public var macsUnknown: [String] = []
  public var weightBytesByDType: [DType: Int] = [:]
  public var largestLayers: [LayerParams] = []
  /// Op histogram over all scopes (`If` branches included), most frequent first.
  public var ops: [(op: String, count: Int)] = []

  public init() {}

  /// Param, weight-byte, layer and op-histogram statistics of an imported (unprocessed) graph.
  public static func structural(_ graph: Graph) -> ModelStatistics {
    var s = ModelStatistics()
    var hist: [String: Int] = [:]
    var layers: [LayerParams] = []
    walkStructure(graph, outerConsts: [:], outerWeights: [:], &s, &hist, &layers)
    s.ops = hist.map { ($0.key, $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.op < $1.op }
    s.largestLayers = Array(layers.filter { $0.params > 0 }
      .sorted { $0.params != $1.params ? $0.params > $1.params : $0.node < $1.node }.prefix(10))
    return s
  }

  private static func walkStructure(_ g: Graph, outerConsts: [String: [Int64]], outerWeights: [String: Int],
                                    _ s: inout ModelStatistics, _ hist: inout [String: Int],
                                    _ layers: inout [LayerParams]) {
    var consts = outerConsts
    var weights = outerWeights
    for (n, t) in g.initializers {
      consts[n] = t.integers() ?? []
      s.weightBytesByDType[t.dtype, default: 0] += t.byteCount
      if t.dtype.isFloat {
        s.params += t.count
        weights[n] = t.count
      }
    }
    for node in g.nodes {
      let key = node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)"
      hist[key, default: 0] += 1
      let isONNX = node.domain.isEmpty || node.domain == "ai.onnx"
      if isONNX, node.opType == "Constant", let out = node.outputs.first {
        consts[out] = []
        for a in node.attributes {
          switch (a.name, a.value) {
          case ("value", .tensor(let t)):
            consts[out] = t.integers() ?? []
            s.weightBytesByDType[t.dtype, default: 0] += t.byteCount
            if t.dtype.isFloat { s.params += t.count; weights[out] = t.count }
          case ("value_float", .float):
            s.weightBytesByDType[.float32, default: 0] += 4
            s.params += 1
            weights[out] = 1
          case ("value_floats", .floats(let f)):
            s.weightBytesByDType[.float32, default: 0] += 4 * f.count
            s.params += f.count
            weights[out] = f.count
          case ("value_int", .int(let v)):
            consts[out] = [v]
            s.weightBytesByDType[.int64, default: 0] += 8
          case ("value_ints", .ints(let v)):
            consts[out] = v
            s.weightBytesByDType[.int64, default: 0] += 8 * v.count
          default: break
          }
        }
      } else if isONNX, node.opType == "ConstantOfShape", let shapeName = node.inputs.first,
                let dims = consts[shapeName], let out = node.outputs.first {
        let n = dims.reduce(1) { $0 &* Int(max($1, 0)) }
        s.params += n
        weights[out] = n
      } else {
        var p = 0
        for v in Set(node.inputs) where !v.isEmpty { p += weights[v] ?? 0 }
        layers.append(LayerParams(node: node.displayName, opType: node.opType, params: p))
      }
      for sub in node.subgraphs {
        walkStructure(sub, outerConsts: consts, outerWeights: weights, &s, &hist, &layers)
      }
    }
  }

  /// Adds MACs of `graph` (after shape inference and If folding) to these statistics.
  public mutating func countMACs(_ graph: Graph) {
    for node in graph.nodes where node.domain.isEmpty || node.domain == "ai.onnx" {
      func shape(_ v: String) -> [Int]? {
        guard !v.isEmpty else { return nil }
        return (graph.valueInfo[v] ?? graph.type(of: v))?.shape?.concrete
      }
      func input(_ i: Int) -> [Int]? { i < node.inputs.count ? shape(node.inputs[i]) : nil }
      func output(_ i: Int) -> [Int]? { i < node.outputs.count ? shape(node.outputs[i]) : nil }
      var m: Int?
      switch node.opType {
      case "Conv":
        if let y = output(0), let w = input(1), w.count >= 2 { m = satMul(saturatingCount(y), saturatingCount(Array(w.dropFirst()))) }
      case "ConvTranspose":
        if let x = input(0), let w = input(1), w.count >= 2 { m = satMul(saturatingCount(x), saturatingCount(Array(w.dropFirst()))) }
      case "MatMul":
        if let y = output(0), let a = input(0), let k = a.last { m = satMul(saturatingCount(y), k) }
      case "Gemm":
        if let y = output(0), let a = input(0), a.count == 2 {
          m = satMul(saturatingCount(y), (node.int("transA") ?? 0) != 0 ? a[0] : a[1])
        }
      case "LSTM", "GRU", "RNN":
        let gates = node.opType == "LSTM" ? 4 : (node.opType == "GRU" ? 3 : 1)
        if let x = input(0), x.count == 3, let w = input(1), w.count == 3, let r = input(2), r.count == 3 {
          let batchFirst = (node.int("layout") ?? 0) != 0
          let seq = batchFirst ? x[1] : x[0], batch = batchFirst ? x[0] : x[1]
          let hidden = r[2], inputSize = w[2], dirs = w[0]
          m = [seq, batch, gates, hidden, inputSize + hidden].reduce(dirs, satMul)
        }
      default:
        continue
      }
      if let m {
        macs += min(m, Int.max - macs)
        let before = macsByOp[node.opType] ?? 0
        macsByOp[node.opType] = before + min(m, Int.max - before)
      } else {
        macsUnknown.append(node.displayName)
      }
    }
  }
}
