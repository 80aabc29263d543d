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
  /// Zero weights (large graphs for timing, where values do not matter).
  var zeros = false

  init(seed: UInt64) { rng = SplitMix64(seed: seed) }

  mutating func random(_ dims: [Int], scale: Double = 0.1) -> Tensor {
    let n = dims.reduce(1, *)
    if zeros { return Tensor(dtype: .float32, dims: dims, storage: TensorStorage(count: 4 * n) { _ in }) }
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

  /// ResNet-50's layer shapes: 7×7 stem, bottleneck stages [3, 4, 6, 3], 1000 classes.
  static func resnet50() -> Model {
    var b = TransplantNetBuilder(seed: 0)
    b.zeros = true
    var x = b.conv("x", scope: "conv1", cin: 3, cout: 64, k: 7, stride: 2)
    x = b.bn(x, scope: "bn1", c: 64)
    x = b.op("Relu", [x], name: "/relu/Relu")
    x = b.op("MaxPool", [x], name: "/maxpool/MaxPool", attributes: [Attribute("kernel_shape", .ints([3, 3]))])
    var c = 64
    for (s, (n, w)) in zip([3, 4, 6, 3], [64, 128, 256, 512]).enumerated() {
      for i in 0..<n {
        let scope = "layer\(s + 1)/layer\(s + 1).\(i)"
        let stride = (i == 0 && s > 0) ? 2 : 1
        var h = b.conv(x, scope: scope + "/conv1", cin: c, cout: w, k: 1)
        h = b.bn(h, scope: scope + "/bn1", c: w)
        h = b.op("Relu", [h], name: "/\(scope)/relu/Relu")
        h = b.conv(h, scope: scope + "/conv2", cin: w, cout: w, k: 3, stride: stride)
        h = b.bn(h, scope: scope + "/bn2", c: w)
        h = b.op("Relu", [h], name: "/\(scope)/relu_1/Relu")
        h = b.conv(h, scope: scope + "/conv3", cin: w, cout: 4 * w, k: 1)
        h = b.bn(h, scope: scope + "/bn3", c: 4 * w)
        var sc = x
        if i == 0 {
          sc = b.conv(x, scope: scope + "/downsample/downsample.0", cin: c, cout: 4 * w, k: 1, stride: stride)
          sc = b.bn(sc, scope: scope + "/downsample/downsample.1", c: 4 * w)
        }
        x = b.op("Add", [h, sc], name: "/\(scope)/Add")
        x = b.op("Relu", [x], name: "/\(scope)/relu_2/Relu")
        c = 4 * w
      }
    }
    x = b.op("GlobalAveragePool", [x], name: "/avgpool/GlobalAveragePool")
    x = b.op("Flatten", [x], name: "/Flatten")
    let y = b.linear(x, scope: "fc", cin: c, cout: 1000)
    return b.model(inputShape: [1, 3, 224, 224], output: y, outputDims: [1, 1000])
  }

  /// EfficientNet-B0's layer shapes: MBConv blocks with depthwise convs and squeeze-excitation.
  static func efficientnetB0() -> Model {
    var b = TransplantNetBuilder(seed: 0)
    b.zeros = true
    var x = b.conv("x", scope: "features/features.0/features.0.0", cin: 3, cout: 32, k: 3, stride: 2)
    x = b.bn(x, scope: "features/features.0/features.0.1", c: 32)
    x = b.op("Sigmoid", [x], name: "/features/features.0/Sigmoid")
    var c = 32
    // (expand, kernel, stride, out, repeats)
    let stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
                  (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
    for (s, (e, k, st, o, r)) in stages.enumerated() {
      for i in 0..<r {
        let scope = "features/features.\(s + 1)/features.\(s + 1).\(i)/block"
        let mid = c * e
        var h = x
        if e != 1 {
          h = b.conv(h, scope: scope + "/block.0/block.0.0", cin: c, cout: mid, k: 1)
          h = b.bn(h, scope: scope + "/block.0/block.0.1", c: mid)
          h = b.op("Sigmoid", [h], name: "/\(scope)/block.0/Sigmoid")
        }
        h = b.conv(h, scope: scope + "/block.1/block.1.0", cin: mid, cout: mid, k: k, stride: i == 0 ? st : 1, groups: mid)
        h = b.bn(h, scope: scope + "/block.1/block.1.1", c: mid)
        let sq = max(1, c / 4)
        var se = b.op("GlobalAveragePool", [h], name: "/\(scope)/block.2/avgpool/GlobalAveragePool")
        se = b.conv(se, scope: scope + "/block.2/fc1", cin: mid, cout: sq, k: 1, bias: true)
        se = b.conv(se, scope: scope + "/block.2/fc2", cin: sq, cout: mid, k: 1, bias: true)
        se = b.op("Sigmoid", [se], name: "/\(scope)/block.2/scale_activation/Sigmoid")
        h = b.op("Mul", [h, se], name: "/\(scope)/block.2/Mul")
        h = b.conv(h, scope: scope + "/block.3/block.3.0", cin: mid, cout: o, k: 1)
        h = b.bn(h, scope: scope + "/block.3/block.3.1", c: o)
        x = (i > 0 && c == o) ? b.op("Add", [h, x], name: "/\(scope)/Add") : h
        c = o
      }
    }
    x = b.conv(x, scope: "features/features.8/features.8.0", cin: c, cout: 1280, k: 1)
    x = b.bn(x, scope: "features/features.8/features.8.1", c: 1280)
    x = b.op("GlobalAveragePool", [x], name: "/avgpool/GlobalAveragePool")
    x = b.op("Flatten", [x], name: "/Flatten")
    let y = b.linear(x, scope: "classifier.1", cin: 1280, cout: 1000)
    return b.model(inputShape: [1, 3, 224, 224], output: y, outputDims: [1, 1000])
  }
}
