import GraftIR

/// How target entries the source does not fill are initialized.
public enum InitMode: String, Sendable, CaseIterable {
  /// Keep the target model's own values (DPIAT's behaviour).
  case keep
  /// Signal-preserving init from propagated moments (see `AnalyticInit`).
  case analytic
}

public struct TransplantOptions: Sendable {
  public var initMode: InitMode
  /// Seed of every random draw (analytic init of uncovered entries).
  public var seed: UInt64
  /// Assumed moments of every graph input (normalized data: mean 0, variance 1).
  public var inputMoments: Moments
  public var match: MatchOptions
  /// When the target's last dimensional layer (the classifier) has a different number of
  /// outputs than its match, it is not filled from the source (its rows would be arbitrary).
  public var skipMismatchedHead: Bool
  /// File names for messages and the report.
  public var sourceFile: String
  public var targetFile: String

  public init(initMode: InitMode = .analytic, seed: UInt64 = 0, inputMoments: Moments = .standard,
              match: MatchOptions = MatchOptions(), skipMismatchedHead: Bool = true,
              sourceFile: String = "source.onnx", targetFile: String = "target.onnx") {
    self.initMode = initMode
    self.seed = seed
    self.inputMoments = inputMoments
    self.match = match
    self.skipMismatchedHead = skipMismatchedHead
    self.sourceFile = sourceFile
    self.targetFile = targetFile
  }
}

/// One parameter tensor of a target layer in the report.
public struct TensorReport: Sendable {
  public var name: String
  public var role: ParamRole
  public var shape: [Int]
  public var elements: Int
  /// Elements copied from the source.
  public var copied: Int
  public var sourceName: String?
  public var sourceShape: [Int]?
  public var fraction: Double { elements > 0 ? Double(copied) / Double(elements) : 0 }
}

/// One target layer in the report.
public struct LayerReport: Sendable {
  public var target: String
  public var targetClass: String
  public var source: String?
  public var score: Double
  public var tensors: [TensorReport]
  /// Why a matched layer was not filled (e.g. a classifier head of another size).
  public var note: String?
  public var elements: Int { tensors.reduce(0) { $0 + $1.elements } }
  public var copied: Int { tensors.reduce(0) { $0 + $1.copied } }
}

/// Which source layer filled which target layer and how much of the target came from it.
public struct TransplantReport: Sendable {
  public var sourceFile: String
  public var targetFile: String
  public var initMode: InitMode
  public var seed: UInt64
  public var matchValue: Double
  public var similarity: Similarity
  public var sourceLayers: Int
  public var sourceBlocks: Int
  public var targetLayers: Int
  public var targetBlocks: Int
  public var layers: [LayerReport]
  /// Float parameters of the whole target graph (all float initializers).
  public var targetParameters: Int
  public var copiedParameters: Int { layers.reduce(0) { $0 + $1.copied } }
  public var matchedLayers: Int { layers.filter { $0.copied > 0 }.count }
  public var fraction: Double { targetParameters > 0 ? Double(copiedParameters) / Double(targetParameters) : 0 }
}

public struct TransplantResult: Sendable {
  public var model: Model
  public var report: TransplantReport
}

public enum Transplant {
  /// Fills `target`'s parameters from `source`: two-level DP matching, centred crop/paste of
  /// every matched tensor (weights, biases, normalization scale/shift and running statistics)
  /// and, with `.analytic`, signal-preserving init of everything not filled. Parameter names,
  /// dtypes and shapes are unchanged and only values change; the target graph is returned
  /// sorted topologically, with weights held in Constant nodes and PyTorch's Identity-shared
  /// parameters turned into initializers of the same names (`hoistingConstants`).
  /// Throws a one-line `GraftError` for a side with no parametric layers, mismatched input
  /// ranks or conv dimensionality, or a result with a non-finite parameter.
  public static func run(source: Model, target: Model, options: TransplantOptions = TransplantOptions()) throws
    -> TransplantResult
  {
    try apply(source: source, target: target, options: options)
  }

  /// Initializes every parameter of `target`'s layers with the analytic init alone (no
  /// source): the baseline a transplant is compared with. `options.initMode` is ignored.
  public static func initialize(target: Model, options: TransplantOptions = TransplantOptions()) throws
    -> TransplantResult
  {
    var o = options
    o.initMode = .analytic
    o.sourceFile = "-"
    return try apply(source: nil, target: target, options: o)
  }

  static func apply(source: Model?, target: Model, options: TransplantOptions) throws -> TransplantResult {
    // Layer node indices refer to the sorted graph, which is also what is written out.
    var graph = target.graph.hoistingConstants()
    try graph.sortTopologically(file: options.targetFile)
    let ta = try architecture(graph, file: options.targetFile)
    var sa = Architecture(layers: [], items: [], nodeCount: 0)
    var matching = Matching(value: 0, pairs: [])
    var sim = Similarity(value: 0, forward: 0, backward: 0, selfA: 0, selfB: Double(ta.layers.count))
    if let source {
      sa = try architecture(source, file: options.sourceFile)
      try checkCompatible(source: source, sa, target: target, ta, options)
      matching = match(source: sa, target: ta, options: options.match)
      sim = similarity(sa, ta, options: options.match)
    }

    var store = ParamStore(graph: graph, layers: ta.layers)
    let sourceInits = source?.graph.hoistingConstants().initializerMap ?? [:]
    let head = ta.layers.lastIndex { $0.cls.kind.isDimensional }
    var reports: [LayerReport] = ta.layers.map { l in
      LayerReport(target: l.name, targetClass: l.cls.description, source: nil, score: 0,
                  tensors: l.params.map {
                    TensorReport(name: $0.name, role: $0.role, shape: $0.canonicalShape,
                                 elements: elementCount($0.canonicalShape), copied: 0)
                  }, note: nil)
    }
    for pair in matching.pairs {
      let s = sa.layers[pair.source], t = ta.layers[pair.target]
      reports[pair.target].source = s.name
      reports[pair.target].score = pair.score
      if options.skipMismatchedHead, pair.target == head, s.shape.first != t.shape.first {
        reports[pair.target].note = "classifier outputs differ (\(s.shape.first ?? 0) vs \(t.shape.first ?? 0)); not filled"
        continue
      }
      for (k, tp) in t.params.enumerated() {
        guard let sp = s.param(tp.role), let src = ParamStore.canonical(sp, in: sourceInits),
              var dst = store.values[tp.name], var mask = store.covered[tp.name] else { continue }
        mask.withUnsafeMutableBufferPointer { m in
          _ = centredCopy(source: src, sourceShape: sp.canonicalShape, into: &dst, targetShape: tp.canonicalShape,
                          covered: m)
        }
        store.values[tp.name] = dst
        store.covered[tp.name] = mask
        reports[pair.target].tensors[k].copied = mask.reduce(0) { $0 + ($1 ? 1 : 0) }
        reports[pair.target].tensors[k].sourceName = sp.name
        reports[pair.target].tensors[k].sourceShape = sp.canonicalShape
      }
    }
    if options.initMode == .analytic {
      var rng = SplitMix64(seed: options.seed)
      AnalyticInit(inputMoments: options.inputMoments).run(graph: graph, layers: ta.layers, store: &store, rng: &rng)
    }
    for name in store.values.keys.sorted() where !(store.values[name] ?? []).allSatisfy({ $0.isFinite }) {
      throw GraftError(.invalid, at: Location(file: options.targetFile, tensor: name),
                       "transplant produced a non-finite value; output not written")
    }
    store.write(into: &graph)
    var model = target
    model.graph = graph
    var floatParams = 0
    for (_, t) in graph.initializers where t.dtype.isFloat { floatParams += t.count }
    let report = TransplantReport(
      sourceFile: options.sourceFile, targetFile: options.targetFile, initMode: options.initMode, seed: options.seed,
      matchValue: matching.value, similarity: sim, sourceLayers: sa.layers.count, sourceBlocks: sa.blockCount,
      targetLayers: ta.layers.count, targetBlocks: ta.blockCount, layers: reports, targetParameters: floatParams)
    return TransplantResult(model: model, report: report)
  }

  /// The standardized architecture of a model; throws when it has no parametric layer.
  public static func architecture(_ model: Model, file: String) throws -> Architecture {
    var graph = model.graph.hoistingConstants()
    try graph.sortTopologically(file: file)
    return try architecture(graph, file: file)
  }

  /// The standardized architecture of a topologically sorted graph.
  static func architecture(_ graph: Graph, file: String) throws -> Architecture {
    let a = Architecture(graph: graph)
    guard !a.layers.isEmpty else {
      throw GraftError(.invalid, at: Location(file: file),
                       "no parametric layers (Conv, ConvTranspose, Gemm or MatMul with a float32 weight initializer, or a normalization with float32 parameters); nothing to match")
    }
    return a
  }

  /// Same input rank and the same convolution dimensionality on both sides.
  static func checkCompatible(source: Model, _ sa: Architecture, target: Model, _ ta: Architecture,
                              _ options: TransplantOptions) throws {
    let si = source.graph.runtimeInputs.first, ti = target.graph.runtimeInputs.first
    if let si, let ti, let sr = si.type?.shape?.count, let tr = ti.type?.shape?.count, sr != tr {
      throw GraftError(.invalid, at: Location(file: options.targetFile, tensor: ti.name),
                       "input has rank \(tr) but source \(options.sourceFile) input '\(si.name)' has rank \(sr); transplant needs the same input rank")
    }
    let sc = Set(sa.layers.filter { $0.cls.kind == .conv || $0.cls.kind == .convTranspose }.map(\.cls.spatialRank))
    let tc = Set(ta.layers.filter { $0.cls.kind == .conv || $0.cls.kind == .convTranspose }.map(\.cls.spatialRank))
    if !sc.isEmpty, !tc.isEmpty, sc.isDisjoint(with: tc) {
      let d = { (s: Set<Int>) in s.sorted().map { "\($0)-d" }.joined(separator: "/") }
      throw GraftError(.invalid, at: Location(file: options.targetFile),
                       "target has \(d(tc)) convolutions but source \(options.sourceFile) has \(d(sc)); transplant needs the same convolution rank")
    }
  }
}
