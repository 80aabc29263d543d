import Foundation
import GraftIR

/// How close Graft's output is to a reference: max abs error, max relative error
/// (|a-e| / max(|e|, tiny)), cosine similarity. Not a kernel: a measurement.
public struct Agreement: Sendable, CustomStringConvertible {
  public var maxAbs: Double
  public var maxRel: Double
  public var cosine: Double
  /// max |e|, for tolerance rules relative to the output's scale.
  public var maxRef: Double
  /// Shapes or dtypes differ (the numbers above are then meaningless).
  public var mismatch: String?

  public var description: String {
    if let mismatch { return mismatch }
    return String(format: "max abs %.3g, max rel %.3g, cosine %.9f", maxAbs, maxRel, cosine)
  }

  /// True if every element satisfies |a-e| ≤ atol + rtol·|e|.
  public static func within(_ actual: Tensor, _ expected: Tensor, rtol: Double, atol: Double) -> Bool {
    guard actual.dims == expected.dims, let a = values(actual), let e = values(expected) else { return false }
    for i in a.indices where !(abs(a[i] - e[i]) <= atol + rtol * abs(e[i])) {
      if a[i].isNaN && e[i].isNaN { continue }
      return false
    }
    return true
  }

  public static func measure(_ actual: Tensor, _ expected: Tensor) -> Agreement {
    guard actual.dims == expected.dims else {
      return Agreement(maxAbs: .infinity, maxRel: .infinity, cosine: 0, maxRef: 0,
                       mismatch: "shape \(Shape(actual.dims).text) differs from the reference's \(Shape(expected.dims).text)")
    }
    guard let a = values(actual), let e = values(expected) else {
      return Agreement(maxAbs: .infinity, maxRel: .infinity, cosine: 0, maxRef: 0,
                       mismatch: "cannot compare \(actual.dtype) with \(expected.dtype)")
    }
    var maxAbs = 0.0, maxRel = 0.0, dot = 0.0, na = 0.0, ne = 0.0, maxRef = 0.0
    for i in a.indices {
      let d = abs(a[i] - e[i])
      if a[i].isNaN != e[i].isNaN { maxAbs = .infinity; maxRel = .infinity; continue }
      if a[i].isNaN { continue }
      maxAbs = max(maxAbs, d)
      maxRel = max(maxRel, d / max(abs(e[i]), 1e-30))
      maxRef = max(maxRef, abs(e[i]))
      dot += a[i] * e[i]
      na += a[i] * a[i]
      ne += e[i] * e[i]
    }
    let cos = na == 0 && ne == 0 ? 1 : dot / (na.squareRoot() * ne.squareRoot())
    return Agreement(maxAbs: maxAbs, maxRel: maxRel, cosine: cos, maxRef: maxRef, mismatch: nil)
  }

  static func values(_ t: Tensor) -> [Double]? {
    if let f = t.floats() { return f.map(Double.init) }
    if let i = t.integers() { return i.map(Double.init) }
    return nil
  }
}

/// Runs onnxruntime through `.venv/bin/python scripts/ort_check.py` (reference checks only; never
/// part of the product's inference path).
///
/// Contract: a missing Python, onnxruntime or script is a loud `GraftError(.io)`, never a pass.
/// `GRAFT_PYTHON` and `GRAFT_ORT_SCRIPT` override the paths; otherwise both are looked up from
/// the current directory upwards.
public enum OnnxRuntimeReference {
  public static func locate() throws -> (python: String, script: String) {
    let env = ProcessInfo.processInfo.environment
    let fm = FileManager.default
    var python = env["GRAFT_PYTHON"]
    var script = env["GRAFT_ORT_SCRIPT"]
    var dir = URL(fileURLWithPath: fm.currentDirectoryPath)
    for _ in 0..<6 where python == nil || script == nil {
      let p = dir.appendingPathComponent(".venv/bin/python").path
      let s = dir.appendingPathComponent("scripts/ort_check.py").path
      if python == nil, fm.isExecutableFile(atPath: p) { python = p }
      if script == nil, fm.fileExists(atPath: s) { script = s }
      dir = dir.deletingLastPathComponent()
    }
    if let p = python, !fm.isExecutableFile(atPath: p) {
      throw GraftError(.io, "cannot run '\(p)' (GRAFT_PYTHON): not an executable file; onnxruntime is needed for the reference")
    }
    guard let python else {
      throw GraftError(.io, "cannot find .venv/bin/python (set GRAFT_PYTHON); onnxruntime is needed for the reference")
    }
    guard let script else {
      throw GraftError(.io, "cannot find scripts/ort_check.py (set GRAFT_ORT_SCRIPT)")
    }
    return (python, script)
  }

  /// Runs `modelPath` on `inputs`; returns the outputs in graph order with their names.
  public static func run(modelPath: String, inputs: [String: Tensor]) throws -> [(name: String, tensor: Tensor)] {
    let (python, script) = try locate()
    let fm = FileManager.default
    let tmp = fm.temporaryDirectory.appendingPathComponent("graft-ort-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: tmp) }
    var args = [script, modelPath, "--output-dir", tmp.appendingPathComponent("out").path]
    for (i, (name, t)) in inputs.sorted(by: { $0.key < $1.key }).enumerated() {
      let p = tmp.appendingPathComponent("in_\(i).npy").path
      try Npy.write(t, path: p)
      args += ["--input", "\(name)=\(p)"]
    }
    let proc = Process()
    proc.executableURL = URL(fileURLWithPath: python)
    proc.arguments = args
    let outPipe = Pipe(), errPipe = Pipe()
    proc.standardOutput = outPipe
    proc.standardError = errPipe
    do { try proc.run() } catch {
      throw GraftError(.io, at: Location(file: modelPath), "cannot run '\(python)': \(error)")
    }
    let outData = outPipe.fileHandleForReading.readDataToEndOfFile()
    let errData = errPipe.fileHandleForReading.readDataToEndOfFile()
    proc.waitUntilExit()
    guard proc.terminationStatus == 0 else {
      let msg = String(decoding: errData, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
      throw GraftError(.io, at: Location(file: modelPath), "onnxruntime reference failed: \(msg)")
    }
    var out: [(String, Tensor)] = []
    for line in String(decoding: outData, as: UTF8.self).split(separator: "\n") {
      let parts = line.split(separator: " ", maxSplits: 1)
      guard parts.count == 2, let k = Int(parts[0]) else { continue }
      let t = try Npy.read(path: tmp.appendingPathComponent("out/output_\(k).npy").path)
      out.append((String(parts[1]), t))
    }
    return out
  }
}

/// Deterministic pseudo-random inputs (SplitMix64), for `graft check` without `--input`.
public struct SeededRandom {
  var state: UInt64
  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [-1, 1).
  public mutating func unit() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }

  /// A tensor of `type` (concrete): floats uniform in [-1, 1), integers 0..<4, bools random.
  public mutating func tensor(_ type: TensorType) -> Tensor? {
    guard let dims = type.shape?.concrete else { return nil }
    let n = elementCount(dims)
    switch type.dtype {
    case .float32: return Tensor.float32(dims, (0..<n).map { _ in unit() })
    case .int64: return Tensor.int64(dims, (0..<n).map { _ in Int64(next() % 4) })
    case .int32: return Tensor(dtype: .int32, dims: dims, values: (0..<n).map { _ in Int32(next() % 4) })
    case .bool: return Tensor(dtype: .bool, dims: dims, values: (0..<n).map { _ in UInt8(next() & 1) })
    case .uint8: return Tensor(dtype: .uint8, dims: dims, values: (0..<n).map { _ in UInt8(next() & 0xFF) })
    case .int8: return Tensor(dtype: .int8, dims: dims, values: (0..<n).map { _ in Int8(truncatingIfNeeded: next()) })
    default: return nil
    }
  }
}
