import Foundation

/// DPIAT's layer score: 0 for different classes, else the product over the aligned axes of
/// min(a/b, b/a) (zip-truncated to the shorter rank). Example: conv (64,32,3,3) vs
/// (48,16,5,5) scores 0.75·0.5·0.6·0.6 = 0.135.
public func shapeScore(_ a: Layer, _ b: Layer) -> Double {
  guard a.cls == b.cls else { return 0 }
  var s = 1.0
  for (x, y) in zip(a.shape, b.shape) {
    guard x > 0, y > 0 else { return 0 }
    s *= Double(min(x, y)) / Double(max(x, y))
  }
  return s
}

/// One source item assigned to a contiguous run of target items.
public struct Run: Sendable, Equatable {
  public var source: Int
  public var targets: ClosedRange<Int>
}

/// The optimum of DPIAT's alignment DP and the runs achieving it.
public struct Alignment: Sendable {
  public var value: Double
  public var runs: [Run]
}

/// DPIAT's dynamic program over a target sequence of `n` items and a source of `m` items.
/// `score(t, s)` is σ(source s, target t), both 0-based. D[i][j] is the best value using
/// targets 1…i and sources 1…j:
///
///     D[i][j] = max(D[i-1][j], D[i][j-1],
///                   max_k D[k-1][j-1] + (Σ_{t=k…i} σ(s_j, t_t)) / √(i-k+1))
///
/// Each source item fills at most one contiguous target run, each target item gets at most
/// one source item, and order is kept. Ties: skipping the source wins over skipping the
/// target; a run replaces the best only when strictly greater (as the reference code).
/// Cost O(n²·m) time, O(n·m) memory.
public func alignSequences(targets n: Int, sources m: Int, score: (Int, Int) -> Double) -> Alignment {
  guard n > 0, m > 0 else { return Alignment(value: 0, runs: []) }
  let w = m + 1
  // prefix[j][i] = Σ_{t<i} σ(s_j, t_t), laid out [j * (n+1) + i].
  var prefix = [Double](repeating: 0, count: m * (n + 1))
  for j in 0..<m {
    for i in 0..<n { prefix[j * (n + 1) + i + 1] = prefix[j * (n + 1) + i] + score(i, j) }
  }
  var d = [Double](repeating: 0, count: (n + 1) * w)
  // choice: -1 skip target, -2 skip source, k ≥ 1 run k…i.
  var choice = [Int32](repeating: 0, count: (n + 1) * w)
  var invSqrt = [Double](repeating: 0, count: n + 1)
  for len in 1...n { invSqrt[len] = 1 / Double(len).squareRoot() }
  for i in 1...n {
    for j in 1...m {
      var best = d[(i - 1) * w + j]
      var c: Int32 = -1
      let left = d[i * w + j - 1]
      if left >= best { best = left; c = -2 }
      let pj = (j - 1) * (n + 1)
      let top = prefix[pj + i]
      for k in 1...i {
        let sum = top - prefix[pj + k - 1]
        if sum <= 0 { continue }
        let v = d[(k - 1) * w + j - 1] + sum * invSqrt[i - k + 1]
        if v > best { best = v; c = Int32(k) }
      }
      d[i * w + j] = best
      choice[i * w + j] = c
    }
  }
  var runs: [Run] = []
  var i = n, j = m
  while i > 0 && j > 0 {
    let c = choice[i * w + j]
    if c == -1 { i -= 1 } else if c == -2 { j -= 1 } else {
      runs.append(Run(source: j - 1, targets: (Int(c) - 1)...(i - 1)))
      i = Int(c) - 1
      j -= 1
    }
  }
  return Alignment(value: d[n * w + m], runs: runs.reversed())
}

/// A matched pair of layers (indices into the source and target architectures).
public struct LayerPair: Sendable, Equatable {
  public var source: Int
  public var target: Int
  public var score: Double
}

/// The two-level matching of a source architecture onto a target one.
public struct Matching: Sendable {
  /// D(source → target): the top-level DP optimum.
  public var value: Double
  /// Layer pairs with σ > 0, in target order; each target layer appears at most once.
  public var pairs: [LayerPair]
}

/// Options of the matcher.
public struct MatchOptions: Sendable {
  /// DPIAT scores a block against a lone layer as 0. When true (default), a lone layer is
  /// scored as a one-layer block instead, so a plain network and a residual one can still
  /// share weights. D(X→X) is still the layer count (each target layer adds at most 1).
  public var matchLayerWithBlock: Bool

  public init(matchLayerWithBlock: Bool = true) { self.matchLayerWithBlock = matchLayerWithBlock }
}

/// Matches `source` onto `target` at both levels. Block–block scores are inner DPs, memoized.
public func match(source: Architecture, target: Architecture, options: MatchOptions = MatchOptions()) -> Matching {
  let s = source.items, t = target.items
  var inner: [Int: Alignment] = [:]
  func innerAlignment(_ ti: Int, _ si: Int) -> Alignment {
    let key = ti * s.count + si
    if let a = inner[key] { return a }
    let tl = t[ti].layerIndices, sl = s[si].layerIndices
    let a = alignSequences(targets: tl.count, sources: sl.count) { x, y in
      shapeScore(source.layers[sl[y]], target.layers[tl[x]])
    }
    inner[key] = a
    return a
  }
  func itemScore(_ ti: Int, _ si: Int) -> Double {
    switch (t[ti], s[si]) {
    case (.layer(let a), .layer(let b)):
      return shapeScore(source.layers[b], target.layers[a])
    case (.block, .block):
      return innerAlignment(ti, si).value
    default:
      return options.matchLayerWithBlock ? innerAlignment(ti, si).value : 0
    }
  }
  // Item scores are needed many times by the DP; compute each once.
  var table = [Double](repeating: 0, count: t.count * s.count)
  for ti in t.indices { for si in s.indices { table[ti * s.count + si] = itemScore(ti, si) } }
  let top = alignSequences(targets: t.count, sources: s.count) { table[$0 * s.count + $1] }
  var pairs: [LayerPair] = []
  for run in top.runs {
    for ti in run.targets where table[ti * s.count + run.source] > 0 {
      let tl = t[ti].layerIndices, sl = s[run.source].layerIndices
      if case .layer(let a) = t[ti], case .layer(let b) = s[run.source] {
        pairs.append(LayerPair(source: b, target: a, score: table[ti * s.count + run.source]))
        continue
      }
      for r in innerAlignment(ti, run.source).runs {
        for x in r.targets {
          let sc = shapeScore(source.layers[sl[r.source]], target.layers[tl[x]])
          if sc > 0 { pairs.append(LayerPair(source: sl[r.source], target: tl[x], score: sc)) }
        }
      }
    }
  }
  pairs.sort { $0.target < $1.target }
  return Matching(value: top.value, pairs: pairs)
}

/// Architecture similarity: sqrt(D(A→B)·D(B→A) / (D(A→A)·D(B→B))), in [0, 1]; 1 for a graph
/// and itself, symmetric by construction. 0 when either side has no parametric layer.
public struct Similarity: Sendable {
  public var value: Double
  public var forward: Double   // D(A→B)
  public var backward: Double  // D(B→A)
  public var selfA: Double     // D(A→A)
  public var selfB: Double     // D(B→B)
}

public func similarity(_ a: Architecture, _ b: Architecture, options: MatchOptions = MatchOptions()) -> Similarity {
  let ab = match(source: a, target: b, options: options).value
  let ba = match(source: b, target: a, options: options).value
  let aa = match(source: a, target: a, options: options).value
  let bb = match(source: b, target: b, options: options).value
  let denom = aa * bb
  let v = denom > 0 ? min(1, max(0, (ab * ba / denom).squareRoot())) : 0
  return Similarity(value: v, forward: ab, backward: ba, selfA: aa, selfB: bb)
}
