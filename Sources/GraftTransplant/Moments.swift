import Foundation

/// Scalar statistics of a signal: every element is modelled as i.i.d. with this mean and
/// variance (AutoInit's assumption).
public struct Moments: Sendable, Equatable, CustomStringConvertible {
  public var mean: Double
  public var variance: Double

  public init(mean: Double, variance: Double) {
    self.mean = mean
    self.variance = variance
  }

  public static let standard = Moments(mean: 0, variance: 1)

  /// E[x²] = v + μ².
  public var secondMoment: Double { variance + mean * mean }

  public var description: String { "(μ \(mean), v \(variance))" }
}

/// E[f(X)] and Var[f(X)] for X ~ N(μ, v), by composite Simpson integration over ±12σ in
/// 4 800 intervals (about 1e-7 relative error for the piecewise-smooth activations used here).
public func gaussianMoments(of x: Moments, _ f: (Double) -> Double) -> Moments {
  let sigma = max(x.variance, 0).squareRoot()
  if sigma < 1e-12 {
    let y = f(x.mean)
    return Moments(mean: y, variance: 0)
  }
  let intervals = 4800
  let lo = -12.0, hi = 12.0
  let h = (hi - lo) / Double(intervals)
  var m1 = 0.0, m2 = 0.0
  for k in 0...intervals {
    let z = lo + Double(k) * h
    let w = (k == 0 || k == intervals) ? 1.0 : (k % 2 == 1 ? 4.0 : 2.0)
    let pdf = exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
    let y = f(x.mean + sigma * z)
    m1 += w * pdf * y
    m2 += w * pdf * y * y
  }
  m1 *= h / 3
  m2 *= h / 3
  return Moments(mean: m1, variance: max(0, m2 - m1 * m1))
}

/// Moments of ReLU(X), X ~ N(μ, σ²), in closed form: with z = μ/σ,
/// E = μΦ(z) + σφ(z) and E[·²] = (μ² + σ²)Φ(z) + μσφ(z).
public func reluMoments(_ x: Moments) -> Moments {
  let sigma = max(x.variance, 0).squareRoot()
  if sigma < 1e-12 { return Moments(mean: max(x.mean, 0), variance: 0) }
  let z = x.mean / sigma
  let phi = exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
  let cdf = 0.5 * erfc(-z / 2.0.squareRoot())
  let e1 = x.mean * cdf + sigma * phi
  let e2 = (x.mean * x.mean + sigma * sigma) * cdf + x.mean * sigma * phi
  return Moments(mean: e1, variance: max(0, e2 - e1 * e1))
}

/// Mean and variance of the maximum of k i.i.d. N(0, 1) values, by integrating the density
/// k·φ(z)·Φ(z)^(k−1). Max pooling over k values of N(μ, v) gives (μ + √v·m, v·s).
public func maxOfNormals(_ k: Int) -> Moments {
  guard k > 1 else { return .standard }
  let intervals = 4800
  let lo = -12.0, hi = 12.0
  let h = (hi - lo) / Double(intervals)
  var m1 = 0.0, m2 = 0.0
  for i in 0...intervals {
    let z = lo + Double(i) * h
    let w = (i == 0 || i == intervals) ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0)
    let pdf = exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
    let cdf = 0.5 * erfc(-z / 2.0.squareRoot())
    let dens = Double(k) * pdf * pow(cdf, Double(k - 1))
    m1 += w * dens * z
    m2 += w * dens * z * z
  }
  m1 *= h / 3
  m2 *= h / 3
  return Moments(mean: m1, variance: max(0, m2 - m1 * m1))
}

/// Elementwise activations the propagation knows, as scalar functions.
public enum Activation: Sendable {
  case relu, leakyRelu(Double), sigmoid, tanh, gelu, silu, hardSwish, hardSigmoid(alpha: Double, beta: Double)
  case elu(Double), selu, softplus, softsign, clip(lo: Double, hi: Double), identity

  public func apply(_ x: Double) -> Double {
    switch self {
    case .relu: return max(x, 0)
    case .leakyRelu(let a): return x >= 0 ? x : a * x
    case .sigmoid: return 1 / (1 + exp(-x))
    case .tanh: return Foundation.tanh(x)
    case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
    case .silu: return x / (1 + exp(-x))
    case .hardSwish: return x * min(max(x / 6 + 0.5, 0), 1)
    case .hardSigmoid(let a, let b): return min(max(a * x + b, 0), 1)
    case .elu(let a): return x >= 0 ? x : a * (exp(x) - 1)
    case .selu:
      let a = 1.6732632423543772, l = 1.0507009873554805
      return l * (x >= 0 ? x : a * (exp(x) - 1))
    case .softplus: return x > 30 ? x : log1p(exp(x))
    case .softsign: return x / (1 + abs(x))
    case .clip(let lo, let hi): return min(max(x, lo), hi)
    case .identity: return x
    }
  }

  public func moments(_ x: Moments) -> Moments {
    switch self {
    case .relu: return reluMoments(x)
    case .identity: return x
    default: return gaussianMoments(of: x, apply)
    }
  }
}
