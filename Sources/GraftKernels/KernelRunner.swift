import GraftIR
import GraftRuntime

/// Runs single kernels of the C runtime on Swift-owned buffers: constant folding, tests, and the
/// compiler's `check` / `scratch` queries. Swift never computes a kernel's result itself.
///
/// Contract
/// - `evaluate` lowers an ONNX node whose inputs are all given, runs the kernel's check →
///   scratch → eval, and returns freshly allocated output tensors (64-byte aligned).
/// - Output types must be concrete (shape inference ran); the kernel's `check` validates them
///   against the inputs and attributes.
/// - Failures are one-line `GraftError`s at the node: `.unsupported` when the kernel is not
///   built into this runtime or reports GRAFT_E_UNSUPPORTED, `.invalid` otherwise.
public enum KernelRunner {
  /// Evaluates `node` on constant `inputs` (one per non-empty node input, in order) producing
  /// outputs of `outputTypes` (one per non-empty node output, in order).
  public static func evaluate(node: Node, inputs: [Tensor], outputTypes: [TensorType],
                              opset: Int64 = 17, file: String = "") throws -> [Tensor] {
    let present = node.inputs.filter { !$0.isEmpty }
    let outs = node.outputs.filter { !$0.isEmpty }
    let loc = Location(file: file, node: node.displayName, opType: node.opType)
    guard present.count == inputs.count else {
      throw GraftError(.invalid, at: loc, "\(inputs.count) input tensors given for \(present.count) inputs")
    }
    guard outs.count == outputTypes.count else {
      throw GraftError(.invalid, at: loc, "\(outputTypes.count) output types given for \(outs.count) outputs")
    }
    var g = Graph(nodes: [node])
    var values: [String: Tensor] = [:]
    for (name, t) in zip(present, inputs) where values[name] == nil {
      g.initializers.append((name, t))
      values[name] = t
    }
    var types: [String: TensorType] = [:]
    for (name, t) in zip(outs, outputTypes) {
      g.valueInfo[name] = t
      types[name] = t
    }
    let lowered = try Lowering(graph: g, file: file, opset: opset).lower(node)
    let results = try run(lowered, values: values, types: types, file: file)
    return try outs.map { name in
      guard let t = results[name] else { throw GraftError(.invalid, at: loc, "kernel produced no '\(name)'") }
      return t
    }
  }

  /// Runs a lowered node: every input must be in `values`, every output's type in `types` (or
  /// the node's synthetic types). Returns the outputs by name.
  public static func run(_ node: LoweredNode, values: [String: Tensor], types: [String: TensorType],
                         file: String = "") throws -> [String: Tensor] {
    let loc = Location(file: file, node: node.name.isEmpty ? "\(node.opType)->\(node.outputs.first ?? "")" : node.name,
                       opType: node.opType)
    let kernel = try lookup(node, loc)
    var inViews: [graft_tensor?] = []
    for v in node.inputs {
      if v.isEmpty { inViews.append(nil); continue }
      guard let t = values[v] else { throw GraftError(.invalid, at: loc, "input '\(v)' has no value") }
      inViews.append(try view(dtype: t.dtype, dims: t.dims, data: UnsafeMutableRawPointer(mutating: t.storage.pointer), loc))
    }
    var outBufs: [(UnsafeMutableRawPointer, Int, TensorType, [Int])] = []
    defer { for b in outBufs { b.0.deallocate() } }
    var outViews: [graft_tensor] = []
    for o in node.outputs {
      guard let ty = types[o] ?? node.syntheticTypes[o], let d = ty.shape?.concrete else {
        throw GraftError(.invalid, at: loc, "output '\(o)' has no concrete type")
      }
      guard let bytes = storageBytes(ty.dtype, d) else {
        throw GraftError(.unsupported, at: loc, "output '\(o)' has unsupported type \(ty)")
      }
      let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
      p.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 1))
      outBufs.append((p, bytes, ty, d))
      outViews.append(try view(dtype: ty.dtype, dims: d, data: p, loc))
    }
    let frame = CallFrame(node: node, inputs: inViews, outputs: outViews)
    try status(kernel.pointee.check?(frame.call) ?? GRAFT_E_KERNEL, node, "check", loc)
    let scratch = kernel.pointee.scratch?(frame.call) ?? 0
    let sp = UnsafeMutableRawPointer.allocate(byteCount: max(Int(scratch), 1), alignment: 64)
    defer { sp.deallocate() }
    frame.call.pointee.scratch = scratch > 0 ? sp : nil
    frame.call.pointee.scratch_bytes = scratch
    try status(kernel.pointee.eval?(frame.call) ?? GRAFT_E_KERNEL, node, "eval", loc)
    var out: [String: Tensor] = [:]
    for (i, o) in node.outputs.enumerated() {
      let (p, bytes, ty, d) = outBufs[i]
      out[o] = Tensor(dtype: ty.dtype, dims: d,
                      storage: TensorStorage(copying: UnsafeRawBufferPointer(start: p, count: bytes)))
    }
    return out
  }

  /// Runs the kernel's `check` on shape-only views (no data). `types` gives every input's and
  /// output's type.
  public static func check(_ node: LoweredNode, types: [String: TensorType], file: String = "") throws {
    let loc = Location(file: file, node: node.name, opType: node.opType)
    let kernel = try lookup(node, loc)
    let frame = try shapeFrame(node, types: types, loc)
    try status(kernel.pointee.check?(frame.call) ?? GRAFT_E_KERNEL, node, "check", loc)
  }

  /// Bytes of scratch the kernel needs (its `_scratch` function on shape-only views). Runs
  /// `check` first: scratch functions trust their inputs.
  public static func scratchBytes(_ node: LoweredNode, types: [String: TensorType], file: String = "") throws -> Int {
    let loc = Location(file: file, node: node.name, opType: node.opType)
    let kernel = try lookup(node, loc)
    let frame = try shapeFrame(node, types: types, loc)
    try status(kernel.pointee.check?(frame.call) ?? GRAFT_E_KERNEL, node, "check", loc)
    return Int(kernel.pointee.scratch?(frame.call) ?? 0)
  }

  // MARK: - Helpers

  static func lookup(_ node: LoweredNode, _ loc: Location) throws -> UnsafePointer<graft_kernel> {
    guard let k = graft_kernel_get(node.kernel) else {
      throw GraftError(.unsupported, at: loc, "kernel \(node.kernelName) is not built into this runtime")
    }
    let p = k.pointee
    guard node.inputs.count >= Int(p.min_inputs), node.inputs.count <= Int(p.max_inputs),
          node.outputs.count >= Int(p.min_outputs), node.outputs.count <= Int(p.max_outputs) else {
      throw GraftError(.invalid, at: loc,
                       "kernel \(node.kernelName) takes \(p.min_inputs)...\(p.max_inputs) inputs and \(p.min_outputs)...\(p.max_outputs) outputs; got \(node.inputs.count) and \(node.outputs.count)")
    }
    return k
  }

  static func shapeFrame(_ node: LoweredNode, types: [String: TensorType], _ loc: Location) throws -> CallFrame {
    func v(_ name: String) throws -> graft_tensor {
      guard let ty = types[name] ?? node.syntheticTypes[name], let d = ty.shape?.concrete else {
        throw GraftError(.invalid, at: loc, "'\(name)' has no concrete type")
      }
      return try view(dtype: ty.dtype, dims: d, data: nil, loc)
    }
    let ins = try node.inputs.map { $0.isEmpty ? nil : try v($0) }
    let outs = try node.outputs.map { try v($0) }
    return CallFrame(node: node, inputs: ins, outputs: outs)
  }

  static func status(_ s: graft_status, _ node: LoweredNode, _ phase: String, _ loc: Location) throws {
    guard s != GRAFT_OK else { return }
    let kind: FailureKind = (s == GRAFT_E_UNSUPPORTED || s == GRAFT_E_KERNEL) ? .unsupported : .invalid
    throw GraftError(kind, at: loc, "kernel \(node.kernelName) \(phase) failed with \(Kernels.statusName(s))")
  }

  /// Storage bytes of a dense tensor, nil for unsupported dtypes or overflow.
  public static func storageBytes(_ dtype: DType, _ dims: [Int]) -> Int? {
    var n = 1
    for d in dims {
      guard d >= 0 else { return nil }
      let (m, o) = n.multipliedReportingOverflow(by: d)
      if o { return nil }
      n = m
    }
    return dtype.storageBytes(count: n)
  }

  /// A tensor view (no quantization).
  public static func view(dtype: DType, dims: [Int], data: UnsafeMutableRawPointer?, _ loc: Location) throws -> graft_tensor {
    guard dims.count <= Int(GRAFT_MAX_RANK) else {
      throw GraftError(.unsupported, at: loc, "rank \(dims.count) is over the runtime's limit of \(GRAFT_MAX_RANK)")
    }
    var t = graft_tensor()
    t.data = data
    t.dtype = dtype.rawValue
    t.rank = Int32(dims.count)
    withUnsafeMutableBytes(of: &t.dims) { raw in
      let p = raw.bindMemory(to: Int64.self)
      for (i, d) in dims.enumerated() { p[i] = Int64(d) }
    }
    return t
  }
}

/// A `graft_call` and everything it points to, in memory owned by this object (freed on deinit).
final class CallFrame {
  let call: UnsafeMutablePointer<graft_call>
  private let views: UnsafeMutablePointer<graft_tensor>
  private let inPtrs: UnsafeMutablePointer<UnsafePointer<graft_tensor>?>
  private let outPtrs: UnsafeMutablePointer<UnsafeMutablePointer<graft_tensor>?>
  private let attrs: UnsafeMutablePointer<graft_attr>
  private var arrays: [UnsafeMutableRawPointer] = []

  init(node: LoweredNode, inputs: [graft_tensor?], outputs: [graft_tensor]) {
    let nIn = inputs.count, nOut = outputs.count, nAttr = node.attrs.count
    views = .allocate(capacity: max(nIn + nOut, 1))
    inPtrs = .allocate(capacity: max(nIn, 1))
    outPtrs = .allocate(capacity: max(nOut, 1))
    attrs = .allocate(capacity: max(nAttr, 1))
    call = .allocate(capacity: 1)
    for (i, v) in inputs.enumerated() {
      if let v {
        (views + i).initialize(to: v)
        inPtrs[i] = UnsafePointer(views + i)
      } else {
        (views + i).initialize(to: graft_tensor())
        inPtrs[i] = nil
      }
    }
    for (j, v) in outputs.enumerated() {
      (views + nIn + j).initialize(to: v)
      outPtrs[j] = views + nIn + j
    }
    for (i, a) in node.attrs.enumerated() {
      var r = graft_attr()
      r.key = a.key
      switch a.value {
      case .int(let v):
        r.type = Int32(GRAFT_ATTR_T_INT.rawValue)
        r.count = 1
        r.ints = UnsafePointer(store([v]))
      case .ints(let v):
        r.type = Int32(GRAFT_ATTR_T_INTS.rawValue)
        r.count = Int32(v.count)
        r.ints = UnsafePointer(store(v))
      case .float(let v):
        r.type = Int32(GRAFT_ATTR_T_FLOAT.rawValue)
        r.count = 1
        r.floats = UnsafePointer(store([v]))
      case .floats(let v):
        r.type = Int32(GRAFT_ATTR_T_FLOATS.rawValue)
        r.count = Int32(v.count)
        r.floats = UnsafePointer(store(v))
      }
      (attrs + i).initialize(to: r)
    }
    var c = graft_call()
    c.inputs = UnsafePointer(inPtrs)
    c.outputs = UnsafePointer(outPtrs)
    c.n_inputs = Int32(nIn)
    c.n_outputs = Int32(nOut)
    c.attrs = UnsafePointer(attrs)
    c.n_attrs = Int32(nAttr)
    c.scratch = nil
    c.scratch_bytes = 0
    call.initialize(to: c)
  }

  private func store<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
    let p = UnsafeMutablePointer<T>.allocate(capacity: max(values.count, 1))
    p.initialize(from: values, count: values.count)
    arrays.append(UnsafeMutableRawPointer(p))
    return p
  }

  deinit {
    views.deallocate()
    inPtrs.deallocate()
    outPtrs.deallocate()
    attrs.deallocate()
    call.deallocate()
    for a in arrays { a.deallocate() }
  }
}

extension KernelRunner {
  /// The constant-folding evaluator's shape (GraftPasses' `ConstantFolding.Evaluator`):
  /// `inputs` lines up with `node.inputs` (nil = omitted), `outputTypes` with `node.outputs`
  /// (nil = omitted output). Returns one tensor per node output; an omitted output's entry is an
  /// empty float tensor of shape [0].
  public static func evaluate(node: Node, inputs: [Tensor?], outputTypes: [TensorType?],
                              opset: Int64 = 17, file: String = "") throws -> [Tensor] {
    let loc = Location(file: file, node: node.displayName, opType: node.opType)
    guard inputs.count == node.inputs.count, outputTypes.count == node.outputs.count else {
      throw GraftError(.invalid, at: loc, "inputs/output types do not line up with the node's inputs/outputs")
    }
    var present: [Tensor] = []
    for (name, t) in zip(node.inputs, inputs) where !name.isEmpty {
      guard let t else { throw GraftError(.invalid, at: loc, "input '\(name)' has no value") }
      present.append(t)
    }
    var types: [TensorType] = []
    for (name, t) in zip(node.outputs, outputTypes) where !name.isEmpty {
      guard let t else { throw GraftError(.invalid, at: loc, "output '\(name)' has no type") }
      types.append(t)
    }
    let results = try evaluate(node: node, inputs: present, outputTypes: types, opset: opset, file: file)
    var k = 0
    return node.outputs.map { name in
      if name.isEmpty { return Tensor.float32([0], []) }
      defer { k += 1 }
      return results[k]
    }
  }
}
