import GraftIR
import GraftKernels
import GraftRuntime

/// One entry of the archive's tensor table.
public struct CompiledTensor: Sendable {
  public var name: String
  public var dtype: DType
  public var dims: [Int]
  /// True for constants stored in WEIGHTS; false for arena tensors.
  public var isWeight: Bool
  /// Arena offset (arena tensors) or offset into the raw WEIGHTS (weights); aligned to 64.
  public var offset: Int
  public var bytes: Int
  /// The constant's data (weights only).
  public var data: Tensor?
}

/// One entry of the archive's node list.
public struct CompiledNode: Sendable {
  public var lowered: LoweredNode
  /// Tensor indices; -1 for an omitted optional input.
  public var inputs: [Int32]
  public var outputs: [Int32]
  public var scratchOffset: Int
  public var scratchBytes: Int
}

/// A graph lowered, checked and planned: everything the archive holds.
public struct CompiledModel: Sendable {
  public var tensors: [CompiledTensor]
  public var nodes: [CompiledNode]
  public var inputs: [Int]
  public var outputs: [Int]
  public var arenaBytes: Int
  /// Largest live total at any time (no plan can use less).
  public var lowerBound: Int
  /// Sum of the weight tensors' bytes (without alignment padding).
  public var weightBytes: Int
  /// The planner's buffers and offsets (tests check them for overlaps).
  public var planBuffers: [MemoryPlanner.Buffer]
  public var planOffsets: [Int]
}

/// Lowers a portable graph (canonical, shapes concrete, folded) to a `CompiledModel`.
///
/// Contract
/// - Every node is lowered; all failures are collected and thrown together as one
///   `GraftError` (kind `.unsupported` if any is unsupported) with one note per node.
/// - Every lowered node passes its kernel's `check` (Graft never writes an archive that fails
///   on the board); scratch sizes come from the kernels' `scratch` functions.
/// - Graph outputs that are constants get a `copy_any` node (IO tensors live in the arena).
/// - A `copy_any` node whose input dies at that node reuses the input's bytes (no-op copy).
public enum Compiler {
  public static func compile(_ graph: Graph, file: String = "", opset: Int64 = 17) throws -> CompiledModel {
    let lowering = Lowering(graph: graph, file: file, opset: opset)
    var (lowered, errors) = lowering.lowerAll()
    var inits = graph.initializerMap
    let runtimeInputs = graph.runtimeInputs.map(\.name)
    // Constant graph outputs: the constant is renamed `NAME#const` and copied into the arena
    // tensor NAME, so the output keeps its name.
    let outputNames = graph.outputs.map(\.name)
    var constOutputs: [String: String] = [:]
    for o in outputNames {
      guard let t = inits[o] else { continue }
      let constName = o + "#const"
      inits[constName] = t
      inits[o] = nil
      constOutputs[constName] = o
      lowered.append(LoweredNode(name: "\(o)#copy", opType: "Identity", kernel: Kernels.id(GRAFT_KERNEL_copy_any),
                                 inputs: [constName], outputs: [o], attrs: []))
    }
    if !errors.isEmpty {
      // Nodes after an unsupported one often lack types; report the root causes only.
      let unsupported = errors.filter { $0.kind == .unsupported }
      throw combine(unsupported.isEmpty ? errors : unsupported, file: file, what: "cannot be lowered")
    }

    // Types of every value.
    var types: [String: TensorType] = [:]
    func typeOf(_ v: String) -> TensorType? {
      if let t = types[v] { return t }
      if constOutputs[v] != nil, let t = inits[v] { return t.type }
      return lowering.type(v)
    }
    for n in lowered {
      for v in n.inputs + n.outputs where !v.isEmpty {
        if let t = n.syntheticTypes[v] { types[v] = t } else if let t = typeOf(v) { types[v] = t }
      }
    }
    for v in runtimeInputs + outputNames { if let t = typeOf(v) { types[v] = t } }

    // Tensor table: runtime inputs, then values in node order.
    var tensors: [CompiledTensor] = []
    var index: [String: Int] = [:]
    func addTensor(_ v: String, loc: Location) throws -> Int {
      if let i = index[v] { return i }
      guard let ty = types[v], let dims = ty.shape?.concrete else {
        throw GraftError(.invalid, at: loc, "value '\(v)' has no concrete shape; bind symbolic dims with --input-shape")
      }
      guard ty.dtype.byteSize != nil, let bytes = KernelRunner.storageBytes(ty.dtype, dims) else {
        throw GraftError(.unsupported, at: loc, "value '\(v)' has unsupported type \(ty)")
      }
      let weight = inits[v]
      tensors.append(CompiledTensor(name: v, dtype: ty.dtype, dims: dims, isWeight: weight != nil, offset: 0,
                                    bytes: bytes, data: weight))
      index[v] = tensors.count - 1
      return tensors.count - 1
    }
    for v in runtimeInputs { _ = try addTensor(v, loc: Location(file: file, tensor: v)) }
    var nodes: [CompiledNode] = []
    for n in lowered {
      let loc = Location(file: file, node: n.name.isEmpty ? n.opType : n.name, opType: n.opType)
      let ins = try n.inputs.map { $0.isEmpty ? Int32(-1) : Int32(try addTensor($0, loc: loc)) }
      let outs = try n.outputs.map { Int32(try addTensor($0, loc: loc)) }
      for o in outs where tensors[Int(o)].isWeight {
        throw GraftError(.invalid, at: loc, "output '\(tensors[Int(o)].name)' is also a constant")
      }
      nodes.append(CompiledNode(lowered: n, inputs: ins, outputs: outs, scratchOffset: 0, scratchBytes: 0))
    }
    var ioOutputs: [Int] = []
    for o in outputNames {
      guard let i = index[o] else {
        throw GraftError(.invalid, at: Location(file: file, tensor: o), "graph output is never computed")
      }
      ioOutputs.append(i)
    }
    let ioInputs = runtimeInputs.compactMap { index[$0] }
    // Constant outputs: the arena copy carries the output's name, the weight a derived one.
    for o in graph.outputs.map(\.name) where inits[o] != nil {
      if let w = index[o], let c = index[o + "#output"] {
        tensors[w].name = o + "#const"
        tensors[c].name = o
      }
    }

    // Kernel checks and scratch sizes (all failures collected).
    var checkErrors: [GraftError] = []
    for i in nodes.indices {
      do {
        nodes[i].scratchBytes = try KernelRunner.scratchBytes(nodes[i].lowered, types: types, file: file)
      } catch let e as GraftError {
        checkErrors.append(e)
      }
    }
    if !checkErrors.isEmpty { throw combine(checkErrors, file: file, what: "fail their kernel's check") }

    // Lifetimes.
    let n = nodes.count
    let end = max(n - 1, 0)
    var first = Array(repeating: Int.max, count: tensors.count)
    var last = Array(repeating: -1, count: tensors.count)
    for i in ioInputs { first[i] = 0; last[i] = 0 }
    for (t, node) in nodes.enumerated() {
      for o in node.outputs { first[Int(o)] = min(first[Int(o)], t); last[Int(o)] = max(last[Int(o)], t) }
      for i in node.inputs where i >= 0 { last[Int(i)] = max(last[Int(i)], t) }
    }
    for o in ioOutputs { last[o] = end; if first[o] == Int.max { first[o] = 0 } }

    // Buffer groups: copy_any may alias its input when the input dies there.
    var group = Array(repeating: -1, count: tensors.count)
    var buffers: [MemoryPlanner.Buffer] = []
    var members: [[Int]] = []
    for (t, tensor) in tensors.enumerated() where !tensor.isWeight && first[t] != Int.max {
      group[t] = buffers.count
      buffers.append(MemoryPlanner.Buffer(size: tensor.bytes, first: first[t], last: max(last[t], first[t])))
      members.append([t])
    }
    for (t, node) in nodes.enumerated() where node.lowered.isCopy {
      let u = Int(node.inputs[0]), v = Int(node.outputs[0])
      guard !tensors[u].isWeight, tensors[u].bytes == tensors[v].bytes else { continue }
      let gu = group[u], gv = group[v]
      guard gu >= 0, gv >= 0, gu != gv, buffers[gu].last == t, members[gv] == [v] else { continue }
      buffers[gu].last = max(buffers[gu].last, buffers[gv].last)
      buffers[gv].size = 0
      buffers[gv].last = buffers[gv].first
      members[gu].append(v)
      members[gv] = []
      group[v] = gu
    }
    // Drop emptied groups, add scratch buffers.
    var live: [MemoryPlanner.Buffer] = []
    var remap = Array(repeating: -1, count: buffers.count)
    for (g, b) in buffers.enumerated() where !members[g].isEmpty {
      remap[g] = live.count
      live.append(b)
    }
    var scratchBuffer: [Int: Int] = [:]
    for (t, node) in nodes.enumerated() where node.scratchBytes > 0 {
      scratchBuffer[t] = live.count
      live.append(MemoryPlanner.Buffer(size: node.scratchBytes, first: t, last: t))
    }
    let plan = MemoryPlanner.plan(live)
    for t in tensors.indices where !tensors[t].isWeight {
      if group[t] >= 0 { tensors[t].offset = plan.offsets[remap[group[t]]] }
    }
    for (t, b) in scratchBuffer { nodes[t].scratchOffset = plan.offsets[b] }

    // Weights layout.
    var woff = 0
    var wbytes = 0
    for t in tensors.indices where tensors[t].isWeight {
      tensors[t].offset = woff
      woff = MemoryPlanner.alignUp(woff + tensors[t].bytes)
      wbytes += tensors[t].bytes
    }
    return CompiledModel(tensors: tensors, nodes: nodes, inputs: ioInputs, outputs: ioOutputs,
                         arenaBytes: MemoryPlanner.alignUp(plan.arenaBytes), lowerBound: plan.lowerBound,
                         weightBytes: wbytes, planBuffers: live, planOffsets: plan.offsets)
  }

  /// One error for many: the first line counts them, one note per failure.
  static func combine(_ errors: [GraftError], file: String, what: String) -> GraftError {
    if errors.count == 1 { return errors[0] }
    let kind: FailureKind = errors.contains(where: { $0.kind == .unsupported }) ? .unsupported : .invalid
    return GraftError(kind, at: Location(file: file), "\(errors.count) nodes \(what)", notes: errors.map(\.description))
  }
}
