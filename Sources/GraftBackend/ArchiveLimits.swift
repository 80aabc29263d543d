import GraftIR
import GraftRuntime

/// Bounds `ArchiveRunner` enforces on an untrusted `.graft` archive before it allocates the
/// buffers the archive asks for (the runtime itself never allocates: the caller does, from
/// the sizes `graft_model_probe` reports). Every field is an option with the documented
/// default; exceeding one is a one-line `GraftError(.invalid)` naming the file.
///
/// The zlib bomb guard: a compressed WEIGHTS section declares its inflated size (raw_bytes);
/// that size is checked against `maxWeightsBytes` and against `maxInflateRatio` × the stored
/// size before the inflate buffer is allocated, and the runtime then inflates at most that
/// many bytes (a longer stream is GRAFT_E_DECOMPRESS).
public struct ArchiveLimits: Sendable {
  /// Largest inflated WEIGHTS section (compressed archives) accepted.
  public var maxWeightsBytes: UInt64 = 1 << 33
  /// Largest inflated/stored size ratio of a compressed WEIGHTS section. DEFLATE cannot
  /// exceed about 1032:1 (a 258-byte match per 2 bits), so the default refuses only streams
  /// that could never inflate to their declared size.
  public var maxInflateRatio: UInt64 = 1032
  /// Largest arena (working memory of one session) accepted.
  public var maxArenaBytes: UInt64 = 1 << 33

  public init() {}

  /// Checks the sizes `graft_model_probe` reported for `archive` (which it validated: the
  /// section table is inside the buffer). Throws the first limit exceeded.
  func check(_ sizes: graft_model_sizes, archive: UnsafeRawBufferPointer, file: String) throws {
    let loc = Location(file: file)
    guard sizes.arena_bytes <= maxArenaBytes else {
      throw GraftError(.invalid, at: loc, "archive needs a \(sizes.arena_bytes)-byte arena; the limit is \(maxArenaBytes)")
    }
    guard sizes.weights_bytes > 0 else { return }
    guard sizes.weights_bytes <= maxWeightsBytes else {
      throw GraftError(.invalid, at: loc, "archive weights inflate to \(sizes.weights_bytes) bytes; the limit is \(maxWeightsBytes)")
    }
    // The WEIGHTS entry (kind 3) of the section table: its stored size bounds the ratio.
    func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(archive[o + $1]) << (8 * $1) } }
    func u64(_ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(archive[o + $1]) << (8 * $1) } }
    guard archive.count >= 64 else { return }
    let count = Int(min(u32(12), 64))
    for s in 0..<count {
      let e = 64 + 40 * s
      guard e + 40 <= archive.count else { break }
      guard u32(e) == 3 else { continue }
      let stored = u64(e + 16), raw = u64(e + 24)
      let (bound, overflow) = stored.multipliedReportingOverflow(by: maxInflateRatio)
      guard overflow || raw <= bound else {
        throw GraftError(.invalid, at: loc,
                         "compressed weights declare \(raw) bytes from \(stored) stored bytes, a ratio over the limit of \(maxInflateRatio):1")
      }
    }
  }
}
