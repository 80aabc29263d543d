import Foundation
import GraftIR
@testable import GraftTransplant

/// Builds small hand-made ONNX graphs for the transplant tests: plain and residual CNNs with
/// PyTorch-exporter-style node names, random weights from a seeded generator.
struct TransplantNetBuilder {
  var nodes: [Node] = []
  var inits: [(name: String, tensor: Tensor)] = []
  var rng: SplitMix64
  var counter = 0

  init(seed: UInt64) { rng = SplitMix64(seed: seed) }

  mutating func random(_ dims: [Int], scale: Double = 0.1) -> Tensor {
    let n = dims.reduce(1, *)
    return .float32(dims, (0..<n).map { _ in Float(scale * rng.normal()) })
  }

  mutating func fresh(_ base: String) -> String {
    counter += 1
    return "\(base)_\(counter)"
  }

  /// Conv (+ bias) named `/scope/conv/Conv`, parameters `scope.conv.weight`.
  mutating func conv(_ x: String, scope: String, cin: Int, cout: Int, k: Int, stride: Int = 1, groups: Int = 1,
                     rank: Int = 2, bias: Bool = false) -> String {
    let p = scope.replacingOccurrences(of: "/", with: ".")
    let w = "\(p).weight"
    inits.append((w, random([cout, cin / groups] + Array(repeating: k, count: rank))))
    var ins = [x, w]
    if bias {
      inits.append(("\(p).bias", random([cout])))
      ins.append("\(p).bias")
    }
    let y = fresh("/" + scope + "/Conv_output")
    nodes.append(Node(name: "/\(scope)/Conv", opType: "Conv", inputs: ins, outputs: [y], attributes: [
      Attribute("kernel_shape", .ints(Array(repeating: Int64(k), count: rank))),
      Attribute("pads", .ints(Array(repeating: Int64(k / 2), count: 2 * rank))),
      Attribute("strides", .ints(Array(repeating: Int64(stride), count: rank))),
      Attribute("group", .int(Int64(groups))),
    ]))
    return y
  }

  mutating func bn(_ x: String, scope: String, c: Int) -> String {
    let p = scope.replacingOccurrences(of: "/", with: ".")
    inits.append(("\(p).weight", .float32([c], (0..<c).map { _ in Float(1 + 0.1 * rng.normal()) })))
    inits.append(("\(p).bias", random([c])))
    inits.append(("\(p).running_mean", random([c])))
    inits.append(("\(p).running_var", .float32([c], (0..<c).map { _ in Float(0.5 + rng.uniform()) })))
    let y = fresh("/" + scope + "/BN_output")
    nodes.append(Node(name: "/\(scope)/BatchNormalization", opType: "BatchNormalization",
                      inputs: [x, "\(p).weight", "\(p).bias", "\(p).running_mean", "\(p).running_var"],
                      outputs: [y], attributes: [Attribute("epsilon", .float(1e-5))]))
    return y
  }

  mutating func op(_ type: String, _ ins: [String], name: String, attributes: [Attribute] = []) -> String {
    let y = fresh(name + "_output")
    nodes.append(Node(name: name, opType: type, inputs: ins, outputs: [y], attributes: attributes))
    return y
  }

  mutating func linear(_ x: String, scope: String, cin: Int, cout: Int) -> String {
    inits.append(("\(scope).weight", random([cout, cin])))
    inits.append(("\(scope).bias", random([cout])))
    let y = fresh("/\(scope)/Gemm_output")
    nodes.append(Node(name: "/\(scope)/Gemm", opType: "Gemm", inputs: [x, "\(scope).weight", "\(scope).bias"],
                      outputs: [y], attributes: [Attribute("transB", .int(1))]))
    return y
  }

  func model(input: String = "x", inputShape: [Int], output: String, outputDims: [Int]) -> Model {
    let g = Graph(name: "net", nodes: nodes,
                  inputs: [ValueInfo(name: input, type: TensorType(.float32, Shape(inputShape)))],
                  outputs: [ValueInfo(name: output, type: TensorType(.float32, Shape(outputDims)))],
                  initializers: inits)
    return Model(graph: g, opsetImports: [OpsetImport(domain: "", version: 17)])
  }

  /// A ResNet-like net: stem conv+BN, stages of basic blocks (`blocks[s]` per stage, widths
  /// `widths[s]`, stride 2 and a 1×1 downsample at each stage change), GAP, linear head.
  static func resnet(blocks: [Int], widths: [Int], kernel: Int = 3, classes: Int = 10, seed: UInt64 = 1,
                     inputChannels: Int = 1, size: Int = 16) -> Model {
    var b = TransplantNetBuilder(seed: seed)
    var x = b.conv("x", scope: "conv1", cin: inputChannels, cout: widths[0], k: kernel)
    x = b.bn(x, scope: "bn1", c: widths[0])
    x = b.op("Relu", [x], name: "/relu/Relu")
    var c = widths[0]
    for (s, n) in blocks.enumerated() {
      for i in 0..<n {
        let scope = "layer\(s + 1)/layer\(s + 1).\(i)"
        let w = widths[s]
        let stride = (i == 0 && s > 0) ? 2 : 1
        var h = b.conv(x, scope: scope + "/conv1", cin: c, cout: w, k: kernel, stride: stride)
        h = b.bn(h, scope: scope + "/bn1", c: w)
        h = b.op("Relu", [h], name: "/\(scope)/relu/Relu")
        h = b.conv(h, scope: scope + "/conv2", cin: w, cout: w, k: kernel)
        h = b.bn(h, scope: scope + "/bn2", c: w)
        var shortcut = x
        if stride != 1 || c != w {
          shortcut = b.conv(x, scope: scope + "/downsample/downsample.0", cin: c, cout: w, k: 1, stride: stride)
          shortcut = b.bn(shortcut, scope: scope + "/downsample/downsample.1", c: w)
        }
        x = b.op("Add", [h, shortcut], name: "/\(scope)/Add")
        x = b.op("Relu", [x], name: "/\(scope)/relu_1/Relu")
        c = w
      }
    }
    x = b.op("GlobalAveragePool", [x], name: "/avgpool/GlobalAveragePool")
    x = b.op("Flatten", [x], name: "/Flatten", attributes: [Attribute("axis", .int(1))])
    let y = b.linear(x, scope: "fc", cin: c, cout: classes)
    return b.model(inputShape: [1, inputChannels, size, size], output: y, outputDims: [1, classes])
  }

  /// A plain CNN: conv+BN+ReLU layers with max pooling between stages, GAP, linear head.
  static func plain(widths: [Int], kernels: [Int], classes: Int = 10, seed: UInt64 = 2, inputChannels: Int = 1,
                    size: Int = 16, rank: Int = 2, bn: Bool = true) -> Model {
    var b = TransplantNetBuilder(seed: seed)
    var x = "x"
    var c = inputChannels
    for (i, (w, k)) in zip(widths, kernels).enumerated() {
      x = b.conv(x, scope: "conv\(i)", cin: c, cout: w, k: k, rank: rank, bias: !bn)
      if bn { x = b.bn(x, scope: "bn\(i)", c: w) }
      x = b.op("Relu", [x], name: "/relu\(i)/Relu")
      c = w
    }
    x = b.op("GlobalAveragePool", [x], name: "/avgpool/GlobalAveragePool")
    x = b.op("Flatten", [x], name: "/Flatten", attributes: [Attribute("axis", .int(1))])
    let y = b.linear(x, scope: "fc", cin: c, cout: classes)
    return b.model(inputShape: [1, inputChannels] + Array(repeating: size, count: rank), output: y, outputDims: [1, classes])
  }
}
