import GraftIR
import GraftKernels

/// Constant folding: a node whose inputs are all initializers is computed at compile time and
/// its outputs become initializers.
///
/// Contract:
/// - only deterministic ai.onnx nodes without subgraphs fold (never the Random* family);
///   a node with no inputs at all is left to Canonicalize (Constant);
/// - computation goes through the C runtime's kernel for the node (`KernelRunner.evaluate`),
///   or through `evaluator` when one is injected (tests); Swift computes nothing itself except
///   `ConstantOfShape`, which is a fill, not a kernel;
/// - a node folds only when the types of all its outputs are known (from `valueInfo`, which
///   ShapeInference fills) and their total size is at most `maxOutputBytes` (default 64 MiB).
///   `ConstantOfShape` has its own, larger limit `maxFillBytes` (default 2 GiB per tensor): the
///   ONNX backend `light_*` models build all their weights that way (VGG19: 574 MB in all,
///   411 MB for one tensor); a larger fill stays a node;
/// - an evaluator error of kind `.unsupported` (no kernel for that op or dtype) leaves the node
///   in place; any other error is thrown (the model is inconsistent) and names the node.
/// Cost: one evaluation per folded node; output bytes are allocated once.
public struct ConstantFolding: Pass {
  /// Runs one node on constant inputs. `inputs` lines up with `node.inputs` (nil for an omitted
  /// optional input); `outputTypes` with `node.outputs` (nil for an omitted optional output).
  /// Returns one tensor per node output, in order (the entries of omitted outputs are ignored).
  public typealias Evaluator = @Sendable (_ node: Node, _ inputs: [Tensor?], _ outputTypes: [TensorType?]) throws -> [Tensor]

  public let name = "constant-folding"
  /// nil: the C runtime (`KernelRunner`).
  public var evaluator: Evaluator?
  public var maxOutputBytes: Int
  public var maxFillBytes: Int

  public init(evaluator: Evaluator? = nil, maxOutputBytes: Int = 64 << 20, maxFillBytes: Int = 2 << 30) {
    self.evaluator = evaluator
    self.maxOutputBytes = maxOutputBytes
    self.maxFillBytes = maxFillBytes
  }

  static let nondeterministic: Set<String> = [
    "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli",
  ]

  public func run(_ graph: inout Graph, _ context: inout PassContext) throws -> Bool {
    var constants = graph.initializerMap
    var folded = Set<Int>()
    var newInits: [(String, Tensor)] = []
    for (i, node) in graph.nodes.enumerated() {
      guard node.domain.isEmpty || node.domain == "ai.onnx",
            !ConstantFolding.nondeterministic.contains(node.opType),
            node.subgraphs.isEmpty,
            node.inputs.contains(where: { !$0.isEmpty }),
            node.inputs.allSatisfy({ $0.isEmpty || constants[$0] != nil }) else { continue }
      let inputs = node.inputs.map { $0.isEmpty ? nil : constants[$0] }
      guard let outputs = try evaluate(node, inputs, graph, context) else { continue }
      for (k, o) in node.outputs.enumerated() where !o.isEmpty {
        constants[o] = outputs[k]
        newInits.append((o, outputs[k]))
      }
      folded.insert(i)
    }
    if folded.isEmpty { return false }
    graph.nodes = graph.nodes.indices.filter { !folded.contains($0) }.map { graph.nodes[$0] }
    for (n, t) in newInits {
      graph.setInitializer(n, t)
      graph.valueInfo[n] = nil
    }
    graph.valueInfoOrder.removeAll { graph.valueInfo[$0] == nil }
    return true
  }

  /// The node's outputs, or nil when it does not fold.
  private func evaluate(_ node: Node, _ inputs: [Tensor?], _ graph: Graph, _ context: PassContext) throws -> [Tensor]? {
    if node.opType == "ConstantOfShape" {
      return try constantOfShape(node, inputs, context).map { [$0] }
    }
    var types: [TensorType?] = []
    var bytes = 0
    for o in node.outputs {
      if o.isEmpty {
        types.append(nil)
        continue
      }
      guard let t = graph.type(of: o), let dims = t.shape?.concrete,
            let b = t.dtype.storageBytes(count: elementCount(dims)) else { return nil }
      bytes += b
      types.append(t)
    }
    if bytes > maxOutputBytes { return nil }
    let results: [Tensor]
    do {
      if let evaluator {
        results = try evaluator(node, inputs, types)
      } else {
        results = try ConstantFolding.runtime(node, inputs, types, context)
      }
    } catch let e as GraftError where e.kind == .unsupported {
      return nil
    } catch let e as GraftError {
      var located = e
      if located.location == nil { located.location = context.at(node) }
      throw located
    } catch {
      throw GraftError(.invalid, at: context.at(node), "cannot evaluate constant node: \(error)")
    }
    guard results.count >= node.outputs.count else {
      throw GraftError(.invalid, at: context.at(node),
                       "constant evaluation returned \(results.count) outputs; the node has \(node.outputs.count)")
    }
    for (k, o) in node.outputs.enumerated() where !o.isEmpty {
      if let want = types[k], want.dtype != results[k].dtype || want.shape?.concrete != results[k].dims {
        throw GraftError(.invalid, at: context.at(node, tensor: o),
                         "constant evaluation produced \(results[k].type.dumpText); the graph says \(want.dumpText)")
      }
    }
    return Array(results.prefix(node.outputs.count))
  }

  /// Runs the node through the C runtime. `KernelRunner` takes the present inputs and outputs
  /// only; the result is spread back over the node's output slots.
  static func runtime(_ node: Node, _ inputs: [Tensor?], _ types: [TensorType?], _ context: PassContext) throws -> [Tensor] {
    let present = try KernelRunner.evaluate(node: node, inputs: inputs.compactMap { $0 },
                                            outputTypes: types.compactMap { $0 },
                                            opset: context.onnxOpset, file: context.file)
    var out: [Tensor] = []
    var k = 0
    for t in types {
      if t == nil {
        out.append(Tensor.float32([0], []))
      } else {
        guard k < present.count else { break }
        out.append(present[k])
        k += 1
      }
    }
    return out
  }

  /// ConstantOfShape: a tensor of the shape given by input 0 (int64), every element equal to
  /// the one-element `value` attribute (default float32 0). Bad shapes are one-line errors.
  private func constantOfShape(_ node: Node, _ inputs: [Tensor?], _ context: PassContext) throws -> Tensor? {
    guard let shapeTensor = inputs.first ?? nil else { return nil }
    guard shapeTensor.dims.count <= 1, let dims64 = shapeTensor.integers() else {
      throw GraftError(.invalid, at: context.at(node, tensor: node.inputs[0]),
                       "shape input must be a 1-D integer tensor; it is \(shapeTensor.type.dumpText)")
    }
    var dims: [Int] = []
    var count = 1
    for d in dims64 {
      guard d >= 0 else {
        throw GraftError(.invalid, at: context.at(node, tensor: node.inputs[0]), "shape has a negative dimension \(d)")
      }
      let (c, overflow) = count.multipliedReportingOverflow(by: Int(d))
      guard !overflow, c <= (1 << 40) else {
        throw GraftError(.invalid, at: context.at(node, tensor: node.inputs[0]), "shape \(dims64) is too large")
      }
      count = c
      dims.append(Int(d))
    }
    var dtype = DType.float32
    var element: [UInt8] = [0, 0, 0, 0]
    if case .tensor(let v)? = node[attribute: "value"] {
      guard v.count == 1, let size = v.dtype.byteSize, v.byteCount >= size else {
        throw GraftError(.invalid, at: context.at(node),
                         "attribute 'value' must be a one-element tensor of a fixed-size type; it is \(v.type.dumpText)")
      }
      dtype = v.dtype
      element = Array(UnsafeRawBufferPointer(rebasing: v.storage.bytes[0..<size]))
    }
    let size = element.count
    if count > maxFillBytes / max(size, 1) { return nil }
    let storage = TensorStorage(count: count * size) { buf in
      if element.allSatisfy({ $0 == 0 }) { return }  // already zero-filled
      guard let base = buf.baseAddress else { return }
      element.withUnsafeBytes { e in
        guard let src = e.baseAddress else { return }
        // Doubling copy: fill the first element, then copy the filled prefix onto the rest.
        base.copyMemory(from: src, byteCount: size)
        var filled = size
        let total = count * size
        while filled < total {
          let n = min(filled, total - filled)
          (base + filled).copyMemory(from: base, byteCount: n)
          filled += n
        }
      }
    }
    return Tensor(dtype: dtype, dims: dims, storage: storage)
  }
}
