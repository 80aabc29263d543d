import Foundation
import GraftIR
import GraftRuntime

/// Runs a `.graft` archive through the C runtime (`graft_model_open` → `graft_session_run`).
///
/// Contract
/// - Owns 64-byte-aligned copies of the archive, the inflated-weights buffer (compressed
///   archives only) and one arena; frees them on deinit. Not thread-safe: one run at a time.
/// - `run` takes inputs by name, checks dtype and shape against the archive, writes them into
///   the arena, runs, and returns copies of the outputs in the archive's output order.
/// - Every runtime failure becomes a one-line `GraftError` naming the file, the status
///   (`graft_status_name`) and, for node-level failures, the node.
public final class ArchiveRunner {
  public let file: String
  private let archive: UnsafeMutableRawPointer
  private let archiveBytes: Int
  private var weights: UnsafeMutableRawPointer?
  private let model: UnsafeMutablePointer<graft_model>
  private let session: UnsafeMutablePointer<graft_session>
  private var arena: UnsafeMutableRawPointer?
  public let arenaBytes: Int

  public struct IOInfo: Sendable {
    public var name: String
    public var type: TensorType
  }

  public private(set) var inputs: [IOInfo] = []
  public private(set) var outputs: [IOInfo] = []

  public convenience init(path: String, limits: ArchiveLimits = .init()) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw GraftError(.io, at: Location(file: path), "cannot read archive")
    }
    try self.init(bytes: [UInt8](data), file: path, limits: limits)
  }

  public init(bytes: [UInt8], file: String = "", limits: ArchiveLimits = .init()) throws {
    self.file = file
    archiveBytes = bytes.count
    let copy = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
    bytes.withUnsafeBytes { b in
      if let base = b.baseAddress, b.count > 0 { copy.copyMemory(from: base, byteCount: b.count) }
    }
    archive = copy
    model = .allocate(capacity: 1)
    model.initialize(to: graft_model())
    session = .allocate(capacity: 1)
    session.initialize(to: graft_session())
    var sizes = graft_model_sizes()
    var st = graft_model_probe(archive, archiveBytes, &sizes)
    if st != GRAFT_OK {
      arenaBytes = 0
      throw Self.error(st, "cannot open archive", file: file)
    }
    // The archive is untrusted: sizes within `limits` (zlib bomb guard included) and within
    // this machine's memory, checked before allocating.
    do {
      try limits.check(sizes, archive: UnsafeRawBufferPointer(start: archive, count: archiveBytes), file: file)
    } catch {
      arenaBytes = 0
      throw error
    }
    let limit = ProcessInfo.processInfo.physicalMemory
    guard sizes.arena_bytes <= limit, sizes.weights_bytes <= limit else {
      arenaBytes = 0
      throw GraftError(.invalid, at: Location(file: file),
                       "archive needs \(sizes.arena_bytes) arena bytes and \(sizes.weights_bytes) weight bytes; this machine has \(limit)")
    }
    if sizes.weights_bytes > 0 {
      let w = UnsafeMutableRawPointer.allocate(byteCount: Int(sizes.weights_bytes), alignment: 64)
      weights = w
    }
    st = graft_model_open(model, archive, archiveBytes, weights, Int(sizes.weights_bytes))
    if st != GRAFT_OK {
      arenaBytes = 0
      let node = graft_model_failed_node(model)
      throw Self.error(st, "cannot open archive" + Self.nodeText(model, node), file: file)
    }
    arenaBytes = Int(graft_model_arena_bytes(model))
    arena = arenaBytes > 0 ? .allocate(byteCount: arenaBytes, alignment: 64) : nil
    st = graft_session_init(session, model, arena, arenaBytes)
    if st != GRAFT_OK { throw Self.error(st, "cannot start a session", file: file) }
    for i in 0..<graft_model_input_count(model) {
      var v = graft_tensor()
      _ = graft_model_input(model, i, &v)
      let name = graft_model_input_name(model, i).map { String(cString: $0) } ?? "input_\(i)"
      inputs.append(IOInfo(name: name, type: Self.type(of: v)))
    }
    for i in 0..<graft_model_output_count(model) {
      var v = graft_tensor()
      _ = graft_model_output(model, i, &v)
      let name = graft_model_output_name(model, i).map { String(cString: $0) } ?? "output_\(i)"
      outputs.append(IOInfo(name: name, type: Self.type(of: v)))
    }
  }

  deinit {
    archive.deallocate()
    weights?.deallocate()
    arena?.deallocate()
    model.deallocate()
    session.deallocate()
  }

  /// Runs the model on `values` (one per model input, by name).
  public func run(_ values: [String: Tensor]) throws -> [(name: String, tensor: Tensor)] {
    for name in values.keys where !inputs.contains(where: { $0.name == name }) {
      throw GraftError(.invalid, at: Location(file: file, tensor: name),
                       "the model has no input with this name; inputs are: \(inputs.map(\.name).joined(separator: ", "))")
    }
    for (i, info) in inputs.enumerated() {
      guard let t = values[info.name] else {
        throw GraftError(.invalid, at: Location(file: file, tensor: info.name), "no value given for model input")
      }
      let want = info.type.shape?.concrete ?? []
      guard t.dtype == info.type.dtype, t.dims == want else {
        throw GraftError(.invalid, at: Location(file: file, tensor: info.name),
                         "input is \(t.type); the model needs \(info.type)")
      }
      guard let dst = graft_session_input_data(session, Int32(i)) else {
        throw GraftError(.invalid, at: Location(file: file, tensor: info.name), "runtime has no buffer for input \(i)")
      }
      let n = KernelRunner_storageBytes(t.dtype, t.dims)
      if n > 0 { dst.copyMemory(from: t.storage.pointer, byteCount: min(n, t.byteCount)) }
    }
    let st = graft_session_run(session)
    if st != GRAFT_OK {
      let node = graft_session_failed_node(session)
      throw Self.error(st, "run failed" + Self.nodeText(model, node), file: file)
    }
    var out: [(String, Tensor)] = []
    for (i, info) in outputs.enumerated() {
      let dims = info.type.shape?.concrete ?? []
      let n = KernelRunner_storageBytes(info.type.dtype, dims)
      guard let src = graft_session_output_data(session, Int32(i)) else {
        throw GraftError(.invalid, at: Location(file: file, tensor: info.name), "runtime has no buffer for output \(i)")
      }
      let storage = TensorStorage(copying: UnsafeRawBufferPointer(start: src, count: n))
      out.append((info.name, Tensor(dtype: info.type.dtype, dims: dims, storage: storage)))
    }
    return out
  }

  static func type(of v: graft_tensor) -> TensorType {
    var dims: [Int] = []
    var t = v
    withUnsafeBytes(of: &t.dims) { raw in
      let p = raw.bindMemory(to: Int64.self)
      for i in 0..<Int(v.rank) { dims.append(Int(p[i])) }
    }
    return TensorType(DType(rawValue: v.dtype) ?? .undefined, Shape(dims))
  }

  static func nodeText(_ m: UnsafePointer<graft_model>, _ node: Int32) -> String {
    guard node >= 0 else { return "" }
    let name = graft_model_node_name(m, node).map { String(cString: $0) } ?? "#\(node)"
    let kernel = graft_model_node_kernel(m, node)
    let kname = kernel >= 0 ? (graft_kernel_get(UInt32(kernel))?.pointee.name.map { String(cString: $0) } ?? "?") : "?"
    return " at node '\(name)' (\(kname))"
  }

  static func error(_ st: graft_status, _ what: String, file: String) -> GraftError {
    let name = graft_status_name(st).map { String(cString: $0) } ?? "GRAFT_E_UNKNOWN"
    let kind: FailureKind = st == GRAFT_E_UNSUPPORTED || st == GRAFT_E_KERNEL ? .unsupported : .invalid
    return GraftError(kind, at: Location(file: file), "\(what): \(name)")
  }
}

/// Dense storage bytes (0 for unsupported types).
func KernelRunner_storageBytes(_ dtype: DType, _ dims: [Int]) -> Int {
  dtype.storageBytes(count: elementCount(dims)) ?? 0
}
