import Foundation
import GraftIR
import GraftRuntime

/// In-process latency measurement of a `.graft` archive through the C runtime: the figure
/// `graft bench` prints and the latency benchmark uses.
///
/// Contract
/// - Opens the archive once (the open time is measured separately: mmap-free copy excluded,
///   probe + validation + inflate included) and binds one session to a 64-byte aligned arena.
/// - Every timed run first restores the inputs (they live in the arena, which later nodes may
///   reuse), then times `graft_session_run` alone with the monotonic clock. No process start,
///   no allocation inside the timed region.
/// - Per-layer timing uses the runtime's observer: a node's time is the gap between the
///   observer call of the previous node (or the run start) and its own. The observer adds a
///   clock read per node, so per-layer totals slightly exceed the plain median.
/// - Not thread-safe.
public final class ArchiveBench {
  public let file: String
  public let archive: DeployArchive
  private let buffer: UnsafeMutableRawPointer
  private let weights: UnsafeMutableRawPointer?
  private let model: UnsafeMutablePointer<graft_model>
  private let session: UnsafeMutablePointer<graft_session>
  private let arena: UnsafeMutableRawPointer?
  /// Input bytes, restored before each run.
  private var inputData: [[UInt8]]
  /// Milliseconds `graft_model_open` took (validation, CRCs, inflate).
  public let openMs: Double

  public init(path: String) throws {
    file = path
    guard let data = FileManager.default.contents(atPath: path) else {
      throw GraftError(.io, at: Location(file: path), "cannot read archive")
    }
    let count = data.count
    let buf = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
    data.withUnsafeBytes { b in
      if let base = b.baseAddress, count > 0 { buf.copyMemory(from: base, byteCount: count) }
    }
    buffer = buf
    do {
      archive = try DeployArchive(archive: UnsafeRawBufferPointer(start: buf, count: count), file: path, keepWeights: false)
    } catch {
      buf.deallocate()
      throw error
    }
    var sizes = graft_model_sizes()
    _ = graft_model_probe(buffer, count, &sizes)
    let wbytes = Int(sizes.weights_bytes)
    weights = wbytes > 0 ? .allocate(byteCount: wbytes, alignment: 64) : nil
    model = .allocate(capacity: 1)
    model.initialize(to: graft_model())
    session = .allocate(capacity: 1)
    session.initialize(to: graft_session())
    let t0 = Self.nowNs()
    var st = graft_model_open(model, buffer, count, weights, wbytes)
    openMs = Double(Self.nowNs() - t0) / 1e6
    let arenaBytes = Int(graft_model_arena_bytes(model))
    arena = arenaBytes > 0 ? .allocate(byteCount: arenaBytes, alignment: 64) : nil
    inputData = []
    if st == GRAFT_OK { st = graft_session_init(session, model, arena, arenaBytes) }
    guard st == GRAFT_OK else {
      throw DeployArchive.statusError(st, file: path, graft_model_failed_node(model))
    }
    for i in 0..<graft_model_input_count(model) {
      inputData.append([UInt8](repeating: 0, count: Int(graft_model_input_bytes(model, i))))
    }
  }

  deinit {
    buffer.deallocate()
    weights?.deallocate()
    arena?.deallocate()
    model.deallocate()
    session.deallocate()
  }

  /// Names of the model inputs, in order.
  public var inputNames: [String] {
    (0..<graft_model_input_count(model)).map { i in
      graft_model_input_name(model, i).map { String(cString: $0) } ?? "input_\(i)"
    }
  }

  /// Sets input `name` (dtype and shape must match the archive's exactly).
  public func setInput(_ name: String, _ t: Tensor) throws {
    guard let i = inputNames.firstIndex(of: name) else {
      throw GraftError(.invalid, at: Location(file: file, tensor: name),
                       "the model has no input with this name; inputs are: \(inputNames.joined(separator: ", "))")
    }
    let e = archive.tensors[archive.inputs[i]]
    guard t.dtype.rawValue == e.dtype, t.dims.map(Int64.init) == e.dims else {
      throw GraftError(.invalid, at: Location(file: file, tensor: name),
                       "input is \(t.type); the model needs dtype \(e.dtype) dims \(e.dims)")
    }
    let n = inputData[i].count
    inputData[i].withUnsafeMutableBytes { dst in
      if let d = dst.baseAddress, n > 0 { d.copyMemory(from: t.storage.pointer, byteCount: min(n, t.byteCount)) }
    }
  }

  private func restoreInputs() {
    for i in inputData.indices {
      guard let dst = graft_session_input_data(session, Int32(i)) else { continue }
      inputData[i].withUnsafeBytes { src in
        if let s = src.baseAddress, src.count > 0 { dst.copyMemory(from: s, byteCount: src.count) }
      }
    }
  }

  private func runOnce() throws {
    let st = graft_session_run(session)
    guard st == GRAFT_OK else {
      let node = graft_session_failed_node(session)
      let name = node >= 0 && Int(node) < archive.nodes.count ? " at node '\(archive.nodes[Int(node)].name)'" : ""
      let sname = graft_status_name(st).map { String(cString: $0) } ?? "?"
      throw GraftError(.invalid, at: Location(file: file), "run failed\(name): \(sname)")
    }
  }

  /// Milliseconds of each of `runs` timed runs, after `warmup` untimed ones.
  public func time(runs: Int, warmup: Int = 1) throws -> [Double] {
    for _ in 0..<max(warmup, 0) {
      restoreInputs()
      try runOnce()
    }
    var times: [Double] = []
    for _ in 0..<max(runs, 1) {
      restoreInputs()
      let t0 = Self.nowNs()
      try runOnce()
      times.append(Double(Self.nowNs() - t0) / 1e6)
    }
    return times
  }

  /// Per-node milliseconds, the median over `runs` observed runs (after one warm-up run).
  public func perNode(runs: Int) throws -> [Double] {
    let n = archive.nodes.count
    let state = ObserverState(nodes: n)
    graft_session_set_observer(session, { user, node, _ in
      guard let user else { return }
      let s = Unmanaged<ObserverState>.fromOpaque(user).takeUnretainedValue()
      let now = ArchiveBench.nowNs()
      if node >= 0 && Int(node) < s.current.count { s.current[Int(node)] = Double(now - s.last) / 1e6 }
      s.last = now
    }, Unmanaged.passUnretained(state).toOpaque())
    defer { graft_session_set_observer(session, nil, nil) }
    restoreInputs()
    try runOnce()
    var samples = Array(repeating: [Double](), count: n)
    for _ in 0..<max(runs, 1) {
      restoreInputs()
      state.last = Self.nowNs()
      try runOnce()
      for i in 0..<n { samples[i].append(state.current[i]) }
    }
    return samples.map(Self.median)
  }

  final class ObserverState {
    var last: UInt64 = 0
    var current: [Double]
    init(nodes: Int) { current = Array(repeating: 0, count: nodes) }
  }

  public static func median(_ xs: [Double]) -> Double {
    guard !xs.isEmpty else { return 0 }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }

  static func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }
}

extension DeployArchive {
  /// Multiply-accumulates of node `i` (conv, conv-transpose, gemm, matmul; 0 for the rest),
  /// from the tensor shapes: the figure GFLOP/s are computed from (2 FLOPs per MAC).
  public func macs(node i: Int) -> Int64 {
    let n = nodes[i]
    func dims(_ k: Int) -> [Int64]? {
      guard k < n.inputs.count, n.inputs[k] >= 0, Int(n.inputs[k]) < tensors.count else { return nil }
      return tensors[Int(n.inputs[k])].dims
    }
    guard let o = n.outputs.first, o >= 0, Int(o) < tensors.count else { return 0 }
    let outCount = tensors[Int(o)].dims.reduce(1, *)
    switch n.kernel {
    case 1:  // conv_f32: W [Cout, Cin/g, k...]
      guard let w = dims(1), w.count >= 2 else { return 0 }
      return outCount * w.dropFirst().reduce(1, *)
    case 2:  // conv_transpose_f32: W [Cin, Cout/g, k...]; every input element meets one filter
      guard let x = dims(0), let w = dims(1), w.count >= 2 else { return 0 }
      return x.reduce(1, *) * w.dropFirst().reduce(1, *)
    case 3:  // gemm_f32
      guard let a = dims(0), a.count == 2 else { return 0 }
      let transA = n.attrs.first(where: { $0.key == 12 })?.ints.first ?? 0
      return outCount * (transA != 0 ? a[0] : a[1])
    case 4:  // matmul_f32
      guard let a = dims(0), let k = a.last else { return 0 }
      return outCount * k
    default:
      return 0
    }
  }
}
