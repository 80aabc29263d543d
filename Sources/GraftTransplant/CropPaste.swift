import GraftIR

/// Centred crop/paste of a row-major source tensor into a row-major target tensor of the same
/// rank, axis by axis (DPIAT's Clip rule). For an axis with source size a and target size b,
/// n = min(a, b) entries are copied; the larger side starts at ⌊|a−b|/2⌋, the smaller at 0.
/// Entries of `target` outside the copied hyper-rectangle are left as they are; when
/// `covered` is given (same count as `target`) the copied entries are set to true.
/// Returns the number of copied elements, or 0 when the ranks differ or a size is 0.
/// Examples: (6) [0…5] → (4) gives [1,2,3,4]; (4) → (7) lands at offsets 1…4; 5×5 → 3×3 keeps
/// the centre.
@discardableResult
public func centredCopy(source: [Float], sourceShape: [Int], into target: inout [Float], targetShape: [Int],
                        covered: UnsafeMutableBufferPointer<Bool>? = nil) -> Int {
  let rank = sourceShape.count
  guard rank == targetShape.count, source.count == elementCount(sourceShape),
        target.count == elementCount(targetShape), !source.isEmpty, !target.isEmpty else { return 0 }
  if rank == 0 {
    target[0] = source[0]
    covered?[0] = true
    return 1
  }
  var len = [Int](repeating: 0, count: rank)
  var srcOff = len, dstOff = len
  for ax in 0..<rank {
    let a = sourceShape[ax], b = targetShape[ax]
    len[ax] = min(a, b)
    srcOff[ax] = a > b ? (a - b) / 2 : 0
    dstOff[ax] = b > a ? (b - a) / 2 : 0
  }
  var srcStride = [Int](repeating: 1, count: rank), dstStride = srcStride
  for ax in stride(from: rank - 2, through: 0, by: -1) {
    srcStride[ax] = srcStride[ax + 1] * sourceShape[ax + 1]
    dstStride[ax] = dstStride[ax + 1] * targetShape[ax + 1]
  }
  // Odometer over all axes but the last; the last axis is one contiguous run.
  var idx = [Int](repeating: 0, count: rank)
  let inner = len[rank - 1]
  var copied = 0
  source.withUnsafeBufferPointer { src in
    target.withUnsafeMutableBufferPointer { dst in
      outer: while true {
        var s = srcOff[rank - 1], d = dstOff[rank - 1]
        for ax in 0..<(rank - 1) {
          s += (idx[ax] + srcOff[ax]) * srcStride[ax]
          d += (idx[ax] + dstOff[ax]) * dstStride[ax]
        }
        for e in 0..<inner {
          dst[d + e] = src[s + e]
          covered?[d + e] = true
        }
        copied += inner
        var ax = rank - 2
        while ax >= 0 {
          idx[ax] += 1
          if idx[ax] < len[ax] { continue outer }
          idx[ax] = 0
          ax -= 1
        }
        break
      }
    }
  }
  return copied
}

/// Transposes a row-major (r, c) matrix to (c, r).
func transpose2D(_ v: [Float], rows: Int, cols: Int) -> [Float] {
  var out = [Float](repeating: 0, count: v.count)
  for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = v[r * cols + c] } }
  return out
}
