import Foundation
import GraftIR
import GraftONNX
import Testing
@testable import GraftTransplant

// MARK: crop / paste (vectors from the DPIAT notes, §1.4)

@Test func transplantCropShrinksToCentre() {
  var dst = [Float](repeating: -1, count: 4)
  let n = centredCopy(source: [0, 1, 2, 3, 4, 5], sourceShape: [6], into: &dst, targetShape: [4])
  #expect(n == 4)
  #expect(dst == [1, 2, 3, 4])
}

@Test func transplantPasteGrowsIntoCentre() {
  var dst = [Float](repeating: -1, count: 7)
  var mask = [Bool](repeating: false, count: 7)
  mask.withUnsafeMutableBufferPointer { m in
    _ = centredCopy(source: [10, 11, 12, 13], sourceShape: [4], into: &dst, targetShape: [7], covered: m)
  }
  #expect(dst == [-1, 10, 11, 12, 13, -1, -1])
  #expect(mask == [false, true, true, true, true, false, false])
}

@Test func transplantKernelCropAndPaste() {
  let k5 = (0..<25).map { Float($0) }
  var k3 = [Float](repeating: 0, count: 9)
  centredCopy(source: k5, sourceShape: [5, 5], into: &k3, targetShape: [3, 3])
  #expect(k3 == [6, 7, 8, 11, 12, 13, 16, 17, 18])
  // 3×3 → 5×5: the centre gets the source, the 16-cell ring keeps its values.
  var big = [Float](repeating: -7, count: 25)
  let n = centredCopy(source: (1...9).map { Float($0) }, sourceShape: [3, 3], into: &big, targetShape: [5, 5])
  #expect(n == 9)
  #expect(big.filter { $0 == -7 }.count == 16)
  #expect(big[6] == 1 && big[12] == 5 && big[18] == 9)
  // Mixed: (out 4→2, in 1→3, 3×3 → 1×1) picks out channels 1…2 into in-channel 1, centre tap.
  let w = (0..<36).map { Float($0) }   // (4, 1, 3, 3)
  var t = [Float](repeating: 0, count: 6)   // (2, 3, 1, 1)
  centredCopy(source: w, sourceShape: [4, 1, 3, 3], into: &t, targetShape: [2, 3, 1, 1])
  #expect(t == [0, 13, 0, 0, 22, 0])
}

// MARK: score and DP

func layer(_ kind: LayerKind, _ shape: [Int], grouped: Bool = false) -> Layer {
  Layer(nodeIndex: 0, name: "l", opType: kind.rawValue,
        cls: LayerClass(kind: kind, spatialRank: kind == .conv ? shape.count - 2 : 0, grouped: grouped),
        shape: shape, groups: grouped ? 2 : 1, params: [], parentScope: [])
}

@Test func transplantShapeScore() {
  #expect(abs(shapeScore(layer(.conv, [64, 32, 3, 3]), layer(.conv, [48, 16, 5, 5])) - 0.135) < 1e-12)
  #expect(abs(shapeScore(layer(.batchNorm, [40]), layer(.batchNorm, [48])) - 40.0 / 48) < 1e-12)
  #expect(shapeScore(layer(.conv, [32, 1, 3, 3], grouped: true), layer(.conv, [32, 32, 3, 3])) == 0)
  #expect(shapeScore(layer(.linear, [10, 64]), layer(.conv, [10, 64, 1, 1])) == 0)
  #expect(shapeScore(layer(.conv, [8, 8, 3]), layer(.conv, [8, 8, 3, 3])) == 0)
}

/// Exhaustive optimum: every assignment of targets to a source or none where each source's
/// targets are contiguous and sources keep their order.
func bruteForce(_ sigma: [[Double]], n: Int, m: Int) -> Double {
  var best = 0.0
  var a = [Int](repeating: -1, count: n)
  func score() -> Double? {
    var last = -1
    var runs: [Int: (first: Int, last: Int, sum: Double)] = [:]
    for t in 0..<n where a[t] >= 0 {
      if a[t] < last { return nil }
      if let r = runs[a[t]] {
        if r.last != t - 1 { return nil }
        runs[a[t]] = (r.first, t, r.sum + sigma[t][a[t]])
      } else {
        runs[a[t]] = (t, t, sigma[t][a[t]])
      }
      last = a[t]
    }
    return runs.values.reduce(0) { $0 + $1.sum / Double($1.last - $1.first + 1).squareRoot() }
  }
  func rec(_ t: Int) {
    if t == n { if let s = score() { best = max(best, s) }; return }
    for s in -1..<m { a[t] = s; rec(t + 1) }
  }
  rec(0)
  return best
}

@Test func transplantDPMatchesBruteForce() {
  var rng = SplitMix64(seed: 42)
  for trial in 0..<300 {
    let n = 1 + Int(rng.next() % 5), m = 1 + Int(rng.next() % 4)
    let sigma = (0..<n).map { _ in (0..<m).map { _ in rng.uniform() < 0.3 ? 0 : rng.uniform() } }
    let a = alignSequences(targets: n, sources: m) { sigma[$0][$1] }
    let want = bruteForce(sigma, n: n, m: m)
    #expect(abs(a.value - want) < 1e-9, "trial \(trial): dp \(a.value) brute \(want)")
    // The runs reproduce the value.
    let got = a.runs.reduce(0.0) { acc, r in
      acc + r.targets.reduce(0.0) { $0 + sigma[$1][r.source] } / Double(r.targets.count).squareRoot()
    }
    #expect(abs(got - a.value) < 1e-9)
  }
}

@Test func transplantOneSourceFillsTwoTargets() {
  // Source {conv, bn} onto target {conv, conv, bn}: 1 + 2/√2.
  let a = alignSequences(targets: 3, sources: 2) { t, s in
    [[1.0, 0], [1.0, 0], [0, 1.0]][t][s]
  }
  #expect(abs(a.value - (1 + 2 / 2.0.squareRoot())) < 1e-12)
  #expect(a.runs == [Run(source: 0, targets: 0...1), Run(source: 1, targets: 2...2)])
}

// MARK: architectures

@Test func transplantBlocksFromResidualJoins() {
  let m = TransplantNetBuilder.resnet(blocks: [2, 2, 2], widths: [8, 16, 32])
  let a = Architecture(graph: m.graph)
  // stem conv, stem bn, 6 blocks, fc.
  #expect(a.items.count == 9)
  #expect(a.blockCount == 6)
  #expect(a.layers.count == 2 + 6 * 4 + 2 * 2 + 1)
  // A stage's first block holds its downsample after the main path.
  if case .block(let b) = a.items[4] {
    #expect(b.map { a.layers[$0].name }.last == "/layer2/layer2.0/downsample/downsample.1/BatchNormalization")
    #expect(b.count == 6)
  } else {
    Issue.record("item 4 is not a block")
  }
  // Without name scopes the blocks come from the joins alone.
  var g = m.graph
  for i in g.nodes.indices { g.nodes[i].name = "" }
  #expect(Architecture(graph: g).items.map(\.layerIndices) == a.items.map(\.layerIndices))
}

@Test func transplantDeeperTargetReusesFirstBlock() {
  let s = Architecture(graph: TransplantNetBuilder.resnet(blocks: [2, 2, 2], widths: [8, 16, 32]).graph)
  let t = Architecture(graph: TransplantNetBuilder.resnet(blocks: [3, 3, 3], widths: [8, 16, 32]).graph)
  let m = match(source: s, target: t)
  for stage in 1...3 {
    let pairs = Set(m.pairs.compactMap { p -> String? in
      let tn = t.layers[p.target].name.split(separator: "/"), sn = s.layers[p.source].name.split(separator: "/")
      guard tn.count > 3, tn[0] == "layer\(stage)" else { return nil }
      return "\(tn[1])<-\(sn[1])"
    })
    // Every target block of the stage is filled from a block of the same stage, both source
    // blocks are used and one of them fills two target blocks (one-to-many, order kept).
    // Which one depends on the shapes: here the stage's first blocks carry a downsample, so
    // the optimum reuses the second source block (for stage 1 the two options tie).
    #expect(pairs.count == 3)
    #expect(Set(pairs.map { $0.split(separator: "<").first.map(String.init) ?? "" })
            == ["layer\(stage).0", "layer\(stage).1", "layer\(stage).2"])
    #expect(Set(pairs.map { $0.split(separator: "-").last.map(String.init) ?? "" })
            == ["layer\(stage).0", "layer\(stage).1"])
    #expect(pairs.contains("layer\(stage).0<-layer\(stage).0"))
  }
  // Reverse: (3,3,3) → (2,2,2) keeps the first two blocks of each stage.
  let r = match(source: t, target: s)
  for stage in 1...3 {
    let pairs = Set(r.pairs.compactMap { p -> String? in
      let tn = s.layers[p.target].name.split(separator: "/"), sn = t.layers[p.source].name.split(separator: "/")
      guard tn.count > 3, tn[0] == "layer\(stage)" else { return nil }
      return "\(tn[1])<-\(sn[1])"
    })
    #expect(pairs == ["layer\(stage).0<-layer\(stage).0", "layer\(stage).1<-layer\(stage).1"])
  }
}

@Test func transplantSimilarity() {
  let nets = [
    TransplantNetBuilder.resnet(blocks: [2, 2, 2], widths: [8, 16, 32]),
    TransplantNetBuilder.resnet(blocks: [3, 3, 3], widths: [8, 16, 32]),
    TransplantNetBuilder.resnet(blocks: [1, 1], widths: [16, 32], kernel: 5),
    TransplantNetBuilder.plain(widths: [8, 16, 32], kernels: [3, 3, 3]),
  ].map { Architecture(graph: $0.graph) }
  for (i, a) in nets.enumerated() {
    let s = similarity(a, a)
    #expect(abs(s.value - 1) < 1e-12)
    #expect(abs(s.selfA - Double(a.layers.count)) < 1e-9, "D(X->X) is the layer count")
    for b in nets[(i + 1)...] {
      let ab = similarity(a, b), ba = similarity(b, a)
      #expect(abs(ab.value - ba.value) < 1e-12)
      #expect(ab.value > 0 && ab.value < 1)
      #expect(ab.forward <= ab.selfB + 1e-9 && ab.backward <= ab.selfA + 1e-9)
    }
  }
  // Closer in depth is more similar than a wider-kernel, shallower net.
  #expect(similarity(nets[0], nets[1]).value > similarity(nets[0], nets[2]).value)
}

// MARK: transplant

@Test func transplantSelfIsIdentity() throws {
  let m = TransplantNetBuilder.resnet(blocks: [2, 1], widths: [8, 16])
  for mode in InitMode.allCases {
    let r = try Transplant.run(source: m, target: m, options: TransplantOptions(initMode: mode))
    let before = m.graph.initializerMap
    for (name, t) in r.model.graph.initializers {
      let b = try #require(before[name])
      #expect(t.dims == b.dims && t.dtype == b.dtype)
      #expect(t.values(as: UInt32.self) == b.values(as: UInt32.self), "\(name) changed under \(mode)")
    }
    #expect(r.report.copiedParameters == r.report.targetParameters)
    #expect(abs(r.report.similarity.value - 1) < 1e-12)
  }
}

@Test func transplantCopiesNormalizationStatistics() throws {
  let s = TransplantNetBuilder.plain(widths: [8, 16], kernels: [3, 3], seed: 5)
  let t = TransplantNetBuilder.plain(widths: [8, 12], kernels: [5, 3], seed: 6)
  let r = try Transplant.run(source: s, target: t, options: TransplantOptions(initMode: .keep))
  let si = s.graph.initializerMap, ti = r.model.graph.initializerMap
  for role in ["weight", "bias", "running_mean", "running_var"] {
    #expect(ti["bn0.\(role)"]?.floats() == si["bn0.\(role)"]?.floats(), "bn0.\(role)")
    // 16 → 12 channels: the central 12 (offset 2).
    #expect(ti["bn1.\(role)"]?.floats() == Array(si["bn1.\(role)"]?.floats()?[2..<14] ?? []), "bn1.\(role)")
  }
  // conv0 3×3 → 5×5: the source kernel sits in the centre of each target kernel.
  let w = try #require(ti["conv0.weight"]?.floats()), sw = try #require(si["conv0.weight"]?.floats())
  #expect(w[6] == sw[0] && w[12] == sw[4] && w[18] == sw[8])
  let conv0 = try #require(r.report.layers.first { $0.target == "/conv0/Conv" })
  #expect(conv0.copied == 8 * 9 && conv0.elements == 8 * 25)
  #expect(r.report.copiedParameters < r.report.targetParameters)
}

@Test func transplantAnalyticInitIsDeterministicAndFinite() throws {
  let s = TransplantNetBuilder.plain(widths: [4, 8], kernels: [3, 3], seed: 7)
  let t = TransplantNetBuilder.resnet(blocks: [2, 2], widths: [8, 16], seed: 8)
  let a = try Transplant.run(source: s, target: t, options: TransplantOptions(seed: 3))
  let b = try Transplant.run(source: s, target: t, options: TransplantOptions(seed: 3))
  let c = try Transplant.run(source: s, target: t, options: TransplantOptions(seed: 4))
  let am = a.model.graph.initializerMap, bm = b.model.graph.initializerMap, cm = c.model.graph.initializerMap
  var differs = false
  for (name, x) in am {
    #expect(x.values(as: UInt32.self) == bm[name]?.values(as: UInt32.self))
    #expect(x.floats()?.allSatisfy(\.isFinite) == true)
    if x.values(as: UInt32.self) != cm[name]?.values(as: UInt32.self) { differs = true }
  }
  #expect(differs, "another seed gives other draws")
  // Unmatched BN layers get running statistics equal to the propagated input moments.
  let v = try #require(am["layer2.layer2.1.bn2.running_var"]?.floats())
  #expect(v.allSatisfy { $0 > 0 })
}

// MARK: moments (AutoInit test vectors, notes §2.4)

@Test(arguments: [
  (Activation.relu, 0.3989, 0.3408, 0.8491, 0.9799),
  (.gelu, 0.2821, 0.3456, 0.7487, 1.0373),
  (.sigmoid, 0.5000, 0.0434, 0.5900, 0.0653),
  (.tanh, 0.0000, 0.3943, 0.2364, 0.4857),
  (.silu, 0.2066, 0.3131, 0.6481, 0.9717),
  (.clip(lo: 0, hi: 6), 0.3989, 0.3408, 0.8491, 0.9797),
  (.hardSwish, 0.1662, 0.3039, 0.6084, 0.9970),
  (.hardSigmoid(alpha: 1.0 / 6, beta: 0.5), 0.5000, 0.0276, 0.5802, 0.0512),
  (.leakyRelu(0.01), 0.3950, 0.3441, 0.8456, 0.9859),
  (.elu(1), 0.1605, 0.6192, 0.6600, 1.3901),
])
func transplantActivationMoments(_ f: Activation, m0: Double, v0: Double, m1: Double, v1: Double) {
  let a = f.moments(.standard), b = f.moments(Moments(mean: 0.5, variance: 2))
  #expect(abs(a.mean - m0) < 6e-4 && abs(a.variance - v0) < 6e-4, "\(f) N(0,1): \(a)")
  #expect(abs(b.mean - m1) < 6e-4 && abs(b.variance - v1) < 6e-4, "\(f) N(0.5,2): \(b)")
  // The quadrature agrees with ReLU's closed form.
  if case .relu = f {
    let q = gaussianMoments(of: Moments(mean: 0.5, variance: 2)) { max($0, 0) }
    #expect(abs(q.mean - b.mean) < 1e-6 && abs(q.variance - b.variance) < 1e-6)
  }
}

@Test func transplantMaxPoolOrderStatistics() {
  let k4 = maxOfNormals(4), k9 = maxOfNormals(9)
  #expect(abs(k4.mean - 1.029) < 2e-3 && abs(k4.variance - 0.492) < 2e-3)
  #expect(abs(k9.mean - 1.485) < 2e-3 && abs(k9.variance - 0.357) < 2e-3)
}

// MARK: bad input

@Test func transplantRejectsNoParametricLayers() throws {
  var b = TransplantNetBuilder(seed: 1)
  let y = b.op("Relu", ["x"], name: "/relu/Relu")
  let empty = b.model(inputShape: [1, 1, 8, 8], output: y, outputDims: [1, 1, 8, 8])
  let t = TransplantNetBuilder.plain(widths: [4], kernels: [3])
  let e = #expect(throws: GraftError.self) {
    try Transplant.run(source: empty, target: t, options: TransplantOptions(sourceFile: "src.onnx", targetFile: "tgt.onnx"))
  }
  #expect(e?.description == "src.onnx: no parametric layers (Conv, ConvTranspose, Gemm or MatMul with a float32 weight initializer, or a normalization with float32 parameters); nothing to match")
}

@Test func transplantRejectsMismatchedInputRank() throws {
  let s = TransplantNetBuilder.plain(widths: [4, 8], kernels: [3, 3], rank: 1)
  let t = TransplantNetBuilder.plain(widths: [4, 8], kernels: [3, 3])
  let e = #expect(throws: GraftError.self) {
    try Transplant.run(source: s, target: t, options: TransplantOptions(sourceFile: "src.onnx", targetFile: "tgt.onnx"))
  }
  #expect(e?.description == "tgt.onnx: tensor 'x': input has rank 4 but source src.onnx input 'x' has rank 3; transplant needs the same input rank")
  #expect(e?.description.contains("\n") == false)
}

// MARK: through onnxruntime

/// Python with onnx and onnxruntime: $GRAFT_PYTHON, the repository's `.venv`, or the
/// transfer benchmark's `bench/transfer/.venv-torch`; nil when none exists.
func transplantPython() -> String? {
  if let p = ProcessInfo.processInfo.environment["GRAFT_PYTHON"], FileManager.default.isExecutableFile(atPath: p) {
    return p
  }
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  for rel in [".venv/bin/python", "bench/transfer/.venv-torch/bin/python"] {
    let p = root.appendingPathComponent(rel).path
    if FileManager.default.isExecutableFile(atPath: p) { return p }
  }
  return nil
}

@Test func transplantOutputRunsInOnnxruntime() throws {
  let py = try #require(transplantPython(), "needs .venv/bin/python with onnx and onnxruntime")
  let s = TransplantNetBuilder.resnet(blocks: [1, 1], widths: [8, 16], kernel: 5, seed: 11)
  let t = TransplantNetBuilder.resnet(blocks: [2, 2, 1], widths: [6, 12, 24], seed: 12)
  let r = try Transplant.run(source: s, target: t, options: TransplantOptions(seed: 1))
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("graft-transplant-test-\(getpid())")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let path = dir.appendingPathComponent("out.onnx").path
  try ONNXExporter.write(r.model, to: path)
  // The checker with full shape inference passes, and the output of a random normal input
  // is finite with a variance of order 1 (the analytic init preserves the signal).
  let script = """
    import sys, onnx, numpy as np, onnxruntime as ort
    m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True)
    s = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((64, 1, 16, 16)).astype(np.float32)
    y = np.concatenate([s.run(None, {"x": x[i:i+1]})[0] for i in range(64)])
    print(int(np.isfinite(y).all()), float(y.var()))
    """
  let p = Process()
  p.executableURL = URL(fileURLWithPath: py)
  p.arguments = ["-c", script, path]
  let pipe = Pipe()
  p.standardOutput = pipe
  try p.run()
  let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  p.waitUntilExit()
  #expect(p.terminationStatus == 0)
  let parts = out.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
  #expect(parts.first == "1", "outputs finite: \(out)")
  let variance = Double(parts.last ?? "") ?? -1
  #expect(variance > 0.05 && variance < 20, "output variance \(variance)")
}

// MARK: speed

@Test func transplantMatchingSpeedResNet50EfficientNetB0() throws {
  let r50 = TransplantNetBuilder.resnet50(), b0 = TransplantNetBuilder.efficientnetB0()
  let clock = ContinuousClock()
  var a = Architecture(layers: [], items: [], nodeCount: 0), b = a
  var sim = Similarity(value: 0, forward: 0, backward: 0, selfA: 0, selfB: 0)
  let t = clock.measure {
    a = Architecture(graph: r50.graph)
    b = Architecture(graph: b0.graph)
    sim = similarity(a, b)   // four two-level DPs: A→B, B→A, A→A, B→B
  }
  #expect(a.layers.count == 53 + 53 + 1 && a.blockCount == 16)
  #expect(b.layers.count > 100 && b.blockCount >= 9)
  #expect(sim.value > 0 && sim.value < 1)
  print("transplant speed: ResNet-50 (\(a.layers.count) layers, \(a.blockCount) blocks) vs EfficientNet-B0 (\(b.layers.count) layers, \(b.blockCount) blocks): standardize both + 4 DPs in \(t); similarity \(sim.value)")
  #expect(t < .seconds(1))
}


@Test func transplantBlocksFromScopesWithoutResiduals() {
  // EfficientNet-B0: every MBConv is one block (squeeze-excitation inside), residual or not;
  // the stem and head conv/BN pairs stay single layers.
  let b = Architecture(graph: TransplantNetBuilder.efficientnetB0().graph)
  #expect(b.blockCount == 16)
  #expect(b.items.count == 16 + 5)
  if case .block(let first) = b.items[2] {
    #expect(first.count == 6 && b.layers[first[2]].name.hasSuffix("/block.2/fc1/Conv"))
  } else {
    Issue.record("item 2 is not a block")
  }
}

@Test func transplantUnsharesDeduplicatedParameters() throws {
  // PyTorch's exporter stores equal fresh BatchNorm parameters once and reads them through
  // Identity nodes named after each parameter; each must become its own tensor.
  var t = TransplantNetBuilder.plain(widths: [4, 4], kernels: [3, 3], seed: 31)
  let shared = try #require(t.graph.initializer("bn0.running_var"))
  t.graph.removeInitializers(["bn1.running_var"])
  t.graph.nodes.insert(Node(name: "Identity_0", opType: "Identity", inputs: ["bn0.running_var"],
                            outputs: ["bn1.running_var"]), at: 0)
  #expect(Architecture(graph: t.graph).layers.count == 4, "bn1 is not a layer while its statistics are computed")
  let s = TransplantNetBuilder.plain(widths: [4, 4], kernels: [3, 3], seed: 32)
  let r = try Transplant.run(source: s, target: t, options: TransplantOptions(initMode: .keep))
  #expect(r.model.graph.nodes.allSatisfy { $0.opType != "Identity" })
  #expect(r.report.targetLayers == 5)
  let out = r.model.graph.initializerMap
  #expect(out["bn1.running_var"]?.floats() == s.graph.initializer("bn1.running_var")?.floats())
  #expect(out["bn0.running_var"]?.floats() == s.graph.initializer("bn0.running_var")?.floats())
  #expect(shared.floats() != out["bn0.running_var"]?.floats())
  try r.model.graph.checkInvariants()
}

@Test func transplantLayerNormalization() throws {
  // Linear → LayerNorm → Linear; LayerNorm (16) → (24): central 16 copied, the rest γ=1, β=0.
  func mlp(_ hidden: Int, seed: UInt64) -> Model {
    var b = TransplantNetBuilder(seed: seed)
    var x = b.linear("x", scope: "fc1", cin: 8, cout: hidden)
    b.inits.append(("ln.weight", b.random([hidden], scale: 1)))
    b.inits.append(("ln.bias", b.random([hidden], scale: 1)))
    x = b.op("LayerNormalization", [x, "ln.weight", "ln.bias"], name: "/ln/LayerNormalization",
             attributes: [Attribute("axis", .int(-1))])
    let y = b.linear(x, scope: "fc2", cin: hidden, cout: 4)
    return b.model(inputShape: [1, 8], output: y, outputDims: [1, 4])
  }
  let s = mlp(16, seed: 41), t = mlp(24, seed: 42)
  let r = try Transplant.run(source: s, target: t)
  let g = try #require(r.model.graph.initializer("ln.weight")?.floats())
  let sg = try #require(s.graph.initializer("ln.weight")?.floats())
  #expect(Array(g[4..<20]) == sg)
  #expect(g[0..<4].allSatisfy { $0 == 1 } && g[20...].allSatisfy { $0 == 1 })
  let b = try #require(r.model.graph.initializer("ln.bias")?.floats())
  #expect(b[0..<4].allSatisfy { $0 == 0 })
  #expect(r.report.layers.map(\.targetClass) == ["Linear", "LayerNorm", "Linear"])
}
