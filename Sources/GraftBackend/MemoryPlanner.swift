/// Static arena planning: every arena buffer gets one offset for the whole run.
///
/// Contract
/// - A buffer lives over the inclusive time range `first...last` (node indices). Two buffers
///   whose ranges intersect never share a byte; buffers whose ranges are disjoint may.
/// - Sizes are rounded up to `alignment` (64) and every offset is a multiple of it.
/// - `plan` runs greedy-by-size placement (TFLM's "greedy by size": sort by size descending,
///   put each buffer at the lowest offset where it does not overlap any already placed buffer
///   that is live at the same time) and, if that is above the lower bound, a few other
///   orderings and a best-fit gap choice; it keeps the smallest arena. Cost O(n²) per try.
/// - `lowerBound` is the largest total of live bytes at any one time: no plan can be smaller.
public enum MemoryPlanner {
  public static let alignment = 64

  public struct Buffer: Sendable, Hashable {
    public var size: Int
    public var first: Int
    public var last: Int
    public init(size: Int, first: Int, last: Int) {
      self.size = size
      self.first = first
      self.last = last
    }
    func overlapsInTime(_ o: Buffer) -> Bool { first <= o.last && o.first <= last }
  }

  public struct Result: Sendable {
    /// One offset per buffer, in the input order.
    public var offsets: [Int]
    public var arenaBytes: Int
    public var lowerBound: Int
  }

  public static func alignUp(_ x: Int) -> Int { (x + alignment - 1) / alignment * alignment }

  public static func plan(_ buffers: [Buffer], perturbations: Int = 64) -> Result {
    let lb = lowerBound(buffers)
    let idx = Array(buffers.indices)
    let orders: [[Int]] = [
      // size descending (TFLM), longer lifetime first on ties
      idx.sorted { a, b in
        let x = buffers[a], y = buffers[b]
        if alignUp(x.size) != alignUp(y.size) { return x.size > y.size }
        if x.last - x.first != y.last - y.first { return x.last - x.first > y.last - y.first }
        return a < b
      },
      // area (size × lifetime) descending
      idx.sorted { a, b in
        let x = buffers[a], y = buffers[b]
        let ax = alignUp(x.size) * (x.last - x.first + 1), ay = alignUp(y.size) * (y.last - y.first + 1)
        return ax != ay ? ax > ay : a < b
      },
      // lifetime start, then size
      idx.sorted { a, b in
        let x = buffers[a], y = buffers[b]
        if x.first != y.first { return x.first < y.first }
        return x.size != y.size ? x.size > y.size : a < b
      },
      // longest lifetime first, then size
      idx.sorted { a, b in
        let x = buffers[a], y = buffers[b]
        if x.last - x.first != y.last - y.first { return x.last - x.first > y.last - y.first }
        return x.size != y.size ? x.size > y.size : a < b
      },
    ]
    var best: (offsets: [Int], arena: Int)?
    search: for bestFit in [false, true] {
      for order in orders {
        let r = place(buffers, order: order, bestFit: bestFit)
        if r.arena < (best?.arena ?? Int.max) { best = r }
        if r.arena == lb { break search }
      }
    }
    // Still above the bound: perturbed size orders (deterministic seed), a cheap local search.
    if let b = best, b.arena > lb, buffers.count > 1 {
      var state: UInt64 = 0x9E37_79B9_7F4A_7C15
      for _ in 0..<perturbations {
        var keys = [Double](repeating: 0, count: buffers.count)
        for i in buffers.indices {
          state = state &* 6364136223846793005 &+ 1442695040888963407
          let noise = Double(state >> 11) / Double(1 << 53)
          keys[i] = Double(alignUp(buffers[i].size)) * (0.7 + 0.6 * noise)
        }
        let order = idx.sorted { keys[$0] != keys[$1] ? keys[$0] > keys[$1] : $0 < $1 }
        let r = place(buffers, order: order, bestFit: state & 1 == 0)
        if r.arena < (best?.arena ?? Int.max) { best = r }
        if r.arena == lb { break }
      }
    }
    let b = best ?? ([], 0)
    return Result(offsets: b.offsets, arenaBytes: b.arena, lowerBound: lb)
  }

  /// Greedy placement in the given order: each buffer goes to the lowest gap that fits
  /// (first fit) or the smallest gap that fits, else the top (best fit).
  static func place(_ buffers: [Buffer], order: [Int], bestFit: Bool = false) -> (offsets: [Int], arena: Int) {
    var offsets = Array(repeating: 0, count: buffers.count)
    var placed: [Int] = []
    var arena = 0
    for i in order {
      let b = buffers[i]
      let size = alignUp(b.size)
      if size == 0 {
        offsets[i] = 0
        continue
      }
      let live = placed.filter { buffers[$0].overlapsInTime(b) }.sorted { offsets[$0] < offsets[$1] }
      var candidate = 0
      var chosen: (offset: Int, gap: Int)?
      for j in live {
        let o = offsets[j], s = alignUp(buffers[j].size)
        if candidate + size <= o {
          let gap = o - candidate
          if !bestFit { chosen = (candidate, gap); break }
          if gap < (chosen?.gap ?? Int.max) { chosen = (candidate, gap) }
        }
        candidate = max(candidate, o + s)
      }
      offsets[i] = chosen?.offset ?? candidate
      placed.append(i)
      arena = max(arena, candidate + size)
    }
    return (offsets, arena)
  }

  /// The largest total (aligned) size of buffers live at the same time.
  public static func lowerBound(_ buffers: [Buffer]) -> Int {
    guard let end = buffers.map(\.last).max() else { return 0 }
    let start = buffers.map(\.first).min() ?? 0
    guard end >= start else { return 0 }
    var delta = Array(repeating: 0, count: end - start + 2)
    for b in buffers where b.last >= b.first {
      delta[b.first - start] += alignUp(b.size)
      delta[b.last - start + 1] -= alignUp(b.size)
    }
    var best = 0, cur = 0
    for d in delta {
      cur += d
      best = max(best, cur)
    }
    return best
  }

  /// Brute-force check of a plan: every pair of buffers live at the same time whose byte
  /// ranges intersect, plus any misaligned offset or buffer past `arenaBytes`. Empty = valid.
  public static func violations(_ buffers: [Buffer], offsets: [Int], arenaBytes: Int) -> [String] {
    var out: [String] = []
    for i in buffers.indices {
      if offsets[i] % alignment != 0 { out.append("buffer \(i) offset \(offsets[i]) is not aligned") }
      if offsets[i] + buffers[i].size > arenaBytes { out.append("buffer \(i) ends past the arena") }
      for j in buffers.indices where j > i && buffers[i].size > 0 && buffers[j].size > 0 {
        guard buffers[i].overlapsInTime(buffers[j]) else { continue }
        let a0 = offsets[i], a1 = a0 + buffers[i].size, b0 = offsets[j], b1 = b0 + buffers[j].size
        if a0 < b1 && b0 < a1 { out.append("buffers \(i) and \(j) overlap in time and bytes") }
      }
    }
    return out
  }
}
