import GraftIR

/// Linear resize operators as explicit matrices, and their pseudo-inverses, for compile-time
/// weight surgery (FlexiViT PI-resize, position-embedding grids). Double precision throughout;
/// never a kernel: these matrices are at most a few dozen rows (one patch side).
///
/// Conventions: a 1-D resize from `nIn` to `nOut` samples is an `nOut × nIn` row-major matrix
/// `M` with `y = M·x`. A 2-D resize of an `h × w` image to `h' × w'` (row-major flattening) is
/// `kron(M_h, M_w)`, so everything here works one side at a time.
public enum ResizeMatrix {
  /// Bilinear resize with half-pixel centres: output sample `i` sits at input coordinate
  /// `c = (i + 0.5)·nIn/nOut − 0.5` and takes the triangle weights `max(0, 1 − |j − c|·k)`
  /// over input samples `j`, renormalized to sum 1 over the samples inside `[0, nIn)` (at the
  /// borders this equals clamping `c` into range). `k = 1` (no antialias) is
  /// `tf.image.resize(bilinear, antialias=False)`, onnxruntime `Resize(linear, half_pixel)`,
  /// and `jax.image.resize(linear)` when upsampling; `antialias` with `nOut < nIn` widens the
  /// triangle to the output spacing (`k = nOut/nIn`), as `jax.image.resize(linear)` does by
  /// default when downsampling. Requires `nIn ≥ 1`, `nOut ≥ 1`.
  public static func bilinear(from nIn: Int, to nOut: Int, antialias: Bool = false) -> [[Double]] {
    let scale = Double(nOut) / Double(nIn)
    let k = antialias && scale < 1 ? scale : 1
    var m = [[Double]](repeating: [Double](repeating: 0, count: nIn), count: nOut)
    for i in 0..<nOut {
      let c = (Double(i) + 0.5) / scale - 0.5
      var total = 0.0
      for j in 0..<nIn {
        let w = max(0, 1 - abs(Double(j) - c) * k)
        m[i][j] = w
        total += w
      }
      if total > 0 {
        for j in 0..<nIn { m[i][j] /= total }
      } else {
        // Only reachable for a sample outside every triangle: take the nearest input sample.
        m[i][min(max(Int(c.rounded()), 0), nIn - 1)] = 1
      }
    }
    return m
  }

  /// The Moore–Penrose pseudo-inverse of a full-rank `r × c` matrix `a`: `aᵀ(a·aᵀ)⁻¹` when
  /// `r ≤ c` (full row rank), `(aᵀ·a)⁻¹aᵀ` otherwise (full column rank). The Gram matrix is
  /// factored by Cholesky; a pivot below `1e-12 ×` its largest diagonal entry means the matrix
  /// is (numerically) rank-deficient and returns nil — the resize matrices used here are full
  /// rank, so nil is a bug in the caller's sizes, not a numerical accident. Cost O(r·c·min(r,c)).
  public static func pseudoInverse(_ a: [[Double]]) -> [[Double]]? {
    let r = a.count
    guard r > 0, let c = a.first?.count, c > 0, a.allSatisfy({ $0.count == c }) else { return nil }
    let wide = r <= c
    let at = transpose(a)
    // Gram = a·aᵀ (r×r) if wide, aᵀ·a (c×c) otherwise.
    let gram = wide ? multiply(a, at) : multiply(at, a)
    guard let l = cholesky(gram) else { return nil }
    if wide {
      // pinv = aᵀ · G⁻¹: solve G·Xᵀ = a for each column of aᵀ … i.e. X = aᵀ G⁻¹ = (G⁻¹ a)ᵀ.
      let solved = solveColumns(l, a)  // G⁻¹ · a, r×c
      return transpose(solved)         // c×r
    } else {
      return solveColumns(l, at)       // G⁻¹ · aᵀ, c×r
    }
  }

  public static func transpose(_ a: [[Double]]) -> [[Double]] {
    guard let c = a.first?.count else { return [] }
    return (0..<c).map { j in a.map { $0[j] } }
  }

  public static func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
    let n = a.count, k = b.count, m = b.first?.count ?? 0
    var out = [[Double]](repeating: [Double](repeating: 0, count: m), count: n)
    for i in 0..<n {
      for p in 0..<k where a[i][p] != 0 {
        let s = a[i][p]
        for j in 0..<m { out[i][j] += s * b[p][j] }
      }
    }
    return out
  }

  /// Lower-triangular `l` with `l·lᵀ = g`, or nil if `g` is not numerically positive definite.
  static func cholesky(_ g: [[Double]]) -> [[Double]]? {
    let n = g.count
    let scale = (0..<n).map { g[$0][$0] }.max() ?? 0
    guard scale > 0 else { return nil }
    var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
    for i in 0..<n {
      for j in 0...i {
        var s = g[i][j]
        for k in 0..<j { s -= l[i][k] * l[j][k] }
        if i == j {
          guard s > 1e-12 * scale else { return nil }
          l[i][i] = s.squareRoot()
        } else {
          l[i][j] = s / l[j][j]
        }
      }
    }
    return l
  }

  /// `(l·lᵀ)⁻¹ · b` by forward and back substitution, column by column.
  static func solveColumns(_ l: [[Double]], _ b: [[Double]]) -> [[Double]] {
    let n = l.count, m = b.first?.count ?? 0
    var x = b
    for col in 0..<m {
      var y = [Double](repeating: 0, count: n)
      for i in 0..<n {
        var s = b[i][col]
        for k in 0..<i { s -= l[i][k] * y[k] }
        y[i] = s / l[i][i]
      }
      for i in stride(from: n - 1, through: 0, by: -1) {
        var s = y[i]
        for k in (i + 1)..<n { s -= l[k][i] * x[k][col] }
        x[i][col] = s / l[i][i]
      }
    }
    return x
  }

  /// Applies `rows` (a × h) and `cols` (b × w) to an `h × w` row-major plane:
  /// `rows · X · colsᵀ`, an `a × b` row-major plane.
  public static func applySeparable(_ plane: [Double], h: Int, w: Int,
                                    rows: [[Double]], cols: [[Double]]) -> [Double] {
    let a = rows.count, b = cols.count
    // tmp = X · colsᵀ (h × b)
    var tmp = [Double](repeating: 0, count: h * b)
    for y in 0..<h {
      for j in 0..<b {
        var s = 0.0
        for x in 0..<w { s += plane[y * w + x] * cols[j][x] }
        tmp[y * b + j] = s
      }
    }
    var out = [Double](repeating: 0, count: a * b)
    for i in 0..<a {
      for y in 0..<h where rows[i][y] != 0 {
        let r = rows[i][y]
        for j in 0..<b { out[i * b + j] += r * tmp[y * b + j] }
      }
    }
    return out
  }
}

/// FlexiViT's pseudo-inverse resize of a patch-embedding kernel.
///
/// Contract: with `B = kron(M_h, M_w)` the bilinear (half-pixel, no antialias) resize of a
/// `(ph, pw)` patch to `(ph', pw')`, every kernel slice `w` (one input channel, one output
/// channel) becomes `ŵ = pinv(Bᵀ)·w`, so that `⟨x, w⟩ = ⟨B·x, ŵ⟩` for every patch `x` when both
/// sides grow or stay (exact up to rounding), and in the least-squares sense when a side shrinks
/// (then `Bᵀ` has more rows than columns). Because `pinv(kron(A, C)) = kron(pinv A, pinv C)`, it
/// is applied per side: `ŵ = pinv(M_hᵀ) · W · pinv(M_wᵀ)ᵀ`. The bias is not touched.
public enum PIResize {
  /// The per-side operator `pinv(Mᵀ)` (`nOut × nIn`) for a side resized from `nIn` to `nOut`.
  public static func sideOperator(from nIn: Int, to nOut: Int) -> [[Double]]? {
    let m = ResizeMatrix.bilinear(from: nIn, to: nOut)
    return ResizeMatrix.pseudoInverse(ResizeMatrix.transpose(m))
  }

  /// Resizes an OIHW float kernel `[O, I, ph, pw]` to `[O, I, newH, newW]`; nil if the resize
  /// operator is rank-deficient (never for bilinear between positive sizes).
  public static func resizeKernel(_ values: [Float], dims: [Int], to newH: Int, _ newW: Int) -> [Float]? {
    guard dims.count == 4, newH > 0, newW > 0 else { return nil }
    let (o, i, ph, pw) = (dims[0], dims[1], dims[2], dims[3])
    guard values.count == o * i * ph * pw,
          let rows = sideOperator(from: ph, to: newH), let cols = sideOperator(from: pw, to: newW) else { return nil }
    var out: [Float] = []
    out.reserveCapacity(o * i * newH * newW)
    for s in 0..<(o * i) {
      let plane = values[(s * ph * pw)..<((s + 1) * ph * pw)].map(Double.init)
      out += ResizeMatrix.applySeparable(plane, h: ph, w: pw, rows: rows, cols: cols).map { Float($0) }
    }
    return out
  }

  /// The baselines the evaluation compares against: the kernel itself resized bilinearly
  /// (half-pixel, antialias when shrinking), and with `scaleByArea` multiplied by
  /// `ph·pw / (ph'·pw')` so a constant patch keeps its token. For benchmarks only.
  public static func bilinearKernel(_ values: [Float], dims: [Int], to newH: Int, _ newW: Int,
                                    scaleByArea: Bool) -> [Float]? {
    guard dims.count == 4, newH > 0, newW > 0 else { return nil }
    let (o, i, ph, pw) = (dims[0], dims[1], dims[2], dims[3])
    guard values.count == o * i * ph * pw else { return nil }
    let rows = ResizeMatrix.bilinear(from: ph, to: newH, antialias: true)
    let cols = ResizeMatrix.bilinear(from: pw, to: newW, antialias: true)
    let scale = scaleByArea ? Double(ph * pw) / Double(newH * newW) : 1
    var out: [Float] = []
    for s in 0..<(o * i) {
      let plane = values[(s * ph * pw)..<((s + 1) * ph * pw)].map(Double.init)
      out += ResizeMatrix.applySeparable(plane, h: ph, w: pw, rows: rows, cols: cols).map { Float($0 * scale) }
    }
    return out
  }
}
