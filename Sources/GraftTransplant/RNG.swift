import Foundation

/// A seeded, deterministic generator (SplitMix64) for every random choice the transplant makes,
/// so that the same inputs and seed always give the same output bytes.
public struct SplitMix64: Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in the open interval (0, 1): 53 random bits, never exactly 0.
  public mutating func uniform() -> Double {
    (Double(next() >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
  }

  /// Standard normal by Box–Muller (one value per call; the pair's second half is dropped so
  /// the sequence does not depend on call parity).
  public mutating func normal() -> Double {
    let u1 = uniform(), u2 = uniform()
    return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
  }
}
