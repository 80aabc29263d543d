import GraftIR

/// What kind of parametric layer a node is. Layers of different classes never match.
public enum LayerKind: String, Sendable, Hashable {
  case conv = "Conv"
  case convTranspose = "ConvTranspose"
  case linear = "Linear"
  case batchNorm = "BatchNorm"
  /// LayerNormalization (scale and bias of the normalized shape).
  case layerNorm = "LayerNorm"
  /// InstanceNormalization and GroupNormalization (per-channel scale and bias).
  case instanceNorm = "InstanceNorm"
  case groupNorm = "GroupNorm"

  /// Conv, ConvTranspose and Linear: layers with a fan-in (DPIAT's "dimensional layers").
  public var isDimensional: Bool { self == .conv || self == .convTranspose || self == .linear }

  /// Normalization layers: their parameters are per-channel (or per-feature) vectors.
  public var isNormalization: Bool { !isDimensional }
}

/// The matching class of a layer: kind, number of spatial axes (Conv1d vs Conv2d) and whether
/// the convolution is grouped (depthwise/grouped convs do not match dense ones).
public struct LayerClass: Sendable, Hashable, CustomStringConvertible {
  public var kind: LayerKind
  public var spatialRank: Int
  public var grouped: Bool

  public var description: String {
    switch kind {
    case .conv, .convTranspose: return "\(kind.rawValue)\(spatialRank)d\(grouped ? "-grouped" : "")"
    default: return kind.rawValue
    }
  }
}

/// The role of one parameter tensor of a layer.
public enum ParamRole: String, Sendable, Hashable, CaseIterable {
  case weight, bias, scale, shift, mean, variance
}

/// One parameter tensor of a layer: its initializer and how it is laid out.
public struct LayerParam: Sendable {
  public var role: ParamRole
  /// Initializer name (the key used to put weights back into a framework).
  public var name: String
  /// Shape in canonical (PyTorch) layout: weights (out, in/groups, k…) or (out, in); vectors (C).
  public var canonicalShape: [Int]
  /// Stored as (in, out) and transposed to canonical (MatMul weights, Gemm with transB = 0).
  public var transposed: Bool
}

/// A parametric layer of a graph: Conv, ConvTranspose, Gemm / MatMul with a weight
/// initializer (Linear), or a normalization (BatchNormalization with its running statistics,
/// LayerNormalization, InstanceNormalization, GroupNormalization). All its parameters are
/// float32 initializers.
public struct Layer: Sendable {
  /// Index of the node in the graph's (topological) node list.
  public var nodeIndex: Int
  public var name: String
  public var opType: String
  public var cls: LayerClass
  /// Canonical weight shape; for BatchNorm, (C).
  public var shape: [Int]
  public var groups: Int
  public var params: [LayerParam]
  /// Module scope of the layer's parent from an exporter name such as
  /// `/layer1/layer1.0/conv1/Conv` → `["layer1", "layer1.0"]`; empty when absent.
  public var parentScope: [String]

  public func param(_ role: ParamRole) -> LayerParam? { params.first { $0.role == role } }

  /// Number of parameter elements (running statistics included).
  public var parameterCount: Int { params.reduce(0) { $0 + elementCount($1.canonicalShape) } }
}

extension Layer {
  /// The parametric layers of `graph`, in node order. A node whose weight is not a float32
  /// initializer (computed, quantized, shared with a non-layer use) is not a layer.
  public static func collect(from graph: Graph) -> [Layer] {
    let inits = graph.initializerMap
    let consumers = graph.consumers
    func f32(_ name: String) -> Tensor? {
      guard !name.isEmpty, let t = inits[name], t.dtype == .float32,
            t.byteCount == 4 * t.count, t.count > 0 else { return nil }
      return t
    }
    var out: [Layer] = []
    var claimed = Set<String>()
    for (index, node) in graph.nodes.enumerated() where node.domain.isEmpty || node.domain == "ai.onnx" {
      var layer: Layer?
      switch node.opType {
      case "Conv", "ConvTranspose":
        guard node.inputs.count >= 2, let w = f32(node.inputs[1]), w.dims.count >= 3 else { break }
        let groups = Int(node.int("group") ?? 1)
        guard groups >= 1 else { break }
        var params = [LayerParam(role: .weight, name: node.inputs[1], canonicalShape: w.dims, transposed: false)]
        let outChannels = node.opType == "Conv" ? w.dims[0] : w.dims[1] * groups
        if node.inputs.count >= 3, let b = f32(node.inputs[2]), b.count == outChannels {
          params.append(LayerParam(role: .bias, name: node.inputs[2], canonicalShape: [b.count], transposed: false))
        }
        let kind: LayerKind = node.opType == "Conv" ? .conv : .convTranspose
        layer = Layer(nodeIndex: index, name: node.displayName, opType: node.opType,
                      cls: LayerClass(kind: kind, spatialRank: w.dims.count - 2, grouped: groups > 1),
                      shape: w.dims, groups: groups, params: params, parentScope: [])
      case "Gemm":
        guard node.inputs.count >= 2, (node.int("transA") ?? 0) == 0,
              let w = f32(node.inputs[1]), w.dims.count == 2 else { break }
        let transB = (node.int("transB") ?? 0) != 0
        let shape = transB ? w.dims : [w.dims[1], w.dims[0]]
        var params = [LayerParam(role: .weight, name: node.inputs[1], canonicalShape: shape, transposed: !transB)]
        if node.inputs.count >= 3, let b = f32(node.inputs[2]), b.count == shape[0],
           b.dims.last == shape[0] {
          params.append(LayerParam(role: .bias, name: node.inputs[2], canonicalShape: [b.count], transposed: false))
        }
        layer = Layer(nodeIndex: index, name: node.displayName, opType: node.opType,
                      cls: LayerClass(kind: .linear, spatialRank: 0, grouped: false),
                      shape: shape, groups: 1, params: params, parentScope: [])
      case "MatMul":
        guard node.inputs.count == 2, inits[node.inputs[0]] == nil,
              let w = f32(node.inputs[1]), w.dims.count == 2 else { break }
        let shape = [w.dims[1], w.dims[0]]
        var params = [LayerParam(role: .weight, name: node.inputs[1], canonicalShape: shape, transposed: true)]
        // A following Add with a (N) initializer is the layer's bias.
        if let out0 = node.outputs.first, let users = consumers[out0], users.count == 1 {
          let add = graph.nodes[users[0]]
          if add.opType == "Add", add.inputs.count == 2 {
            let other = add.inputs[0] == out0 ? add.inputs[1] : add.inputs[0]
            if let b = f32(other), b.count == shape[0], b.dims.last == shape[0] {
              params.append(LayerParam(role: .bias, name: other, canonicalShape: [b.count], transposed: false))
            }
          }
        }
        layer = Layer(nodeIndex: index, name: node.displayName, opType: node.opType,
                      cls: LayerClass(kind: .linear, spatialRank: 0, grouped: false),
                      shape: shape, groups: 1, params: params, parentScope: [])
      case "BatchNormalization":
        guard node.inputs.count >= 5 else { break }
        let roles: [ParamRole] = [.scale, .shift, .mean, .variance]
        var params: [LayerParam] = []
        var channels = -1
        for (k, role) in roles.enumerated() {
          guard let t = f32(node.inputs[k + 1]), t.dims.count == 1 else { params = []; break }
          if channels < 0 { channels = t.count }
          guard t.count == channels else { params = []; break }
          params.append(LayerParam(role: role, name: node.inputs[k + 1], canonicalShape: [t.count], transposed: false))
        }
        guard params.count == 4 else { break }
        layer = Layer(nodeIndex: index, name: node.displayName, opType: node.opType,
                      cls: LayerClass(kind: .batchNorm, spatialRank: 0, grouped: false),
                      shape: [channels], groups: 1, params: params, parentScope: [])
      case "LayerNormalization", "InstanceNormalization", "GroupNormalization":
        guard node.inputs.count >= 2, let g = f32(node.inputs[1]) else { break }
        var params = [LayerParam(role: .scale, name: node.inputs[1], canonicalShape: g.dims, transposed: false)]
        if node.inputs.count >= 3, let b = f32(node.inputs[2]), b.dims == g.dims {
          params.append(LayerParam(role: .shift, name: node.inputs[2], canonicalShape: b.dims, transposed: false))
        }
        let kind: LayerKind = node.opType == "LayerNormalization" ? .layerNorm
          : node.opType == "InstanceNormalization" ? .instanceNorm : .groupNorm
        layer = Layer(nodeIndex: index, name: node.displayName, opType: node.opType,
                      cls: LayerClass(kind: kind, spatialRank: 0, grouped: false),
                      shape: g.dims, groups: 1, params: params, parentScope: [])
      default:
        break
      }
      guard var l = layer else { continue }
      // A parameter shared with another layer (weight tying) is transferred once: first use wins.
      if l.params.contains(where: { claimed.contains($0.name) }) { continue }
      for p in l.params { claimed.insert(p.name) }
      l.parentScope = Layer.parentScope(of: node.name)
      out.append(l)
    }
    return out
  }

  /// `/layer1/layer1.0/conv1/Conv` → `["layer1", "layer1.0"]`: the path without the op name
  /// and without the layer's own module. Names without `/` give no scope.
  static func parentScope(of nodeName: String) -> [String] {
    guard nodeName.hasPrefix("/") else { return [] }
    let parts = nodeName.split(separator: "/").map(String.init)
    guard parts.count >= 3 else { return [] }
    return Array(parts.dropLast(2))
  }
}
