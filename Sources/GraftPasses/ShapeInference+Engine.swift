import GraftIR

/// What a type rule sees of one node: its input types and constant inputs.
struct NodeIO {
  let node: Node
  let types: [TensorType?]
  let consts: [Tensor?]
  let context: PassContext

  var op: String { node.opType }
  var opset: Int64 { context.onnxOpset }
  var inputCount: Int { node.inputs.count }

  /// True if input `i` is present (not omitted with "").
  func has(_ i: Int) -> Bool { i < node.inputs.count && !node.inputs[i].isEmpty }
  func type(_ i: Int) -> TensorType? { i < types.count ? types[i] : nil }
  func shape(_ i: Int) -> Shape? { type(i)?.shape }
  func dtype(_ i: Int) -> DType? { type(i)?.dtype }
  func const(_ i: Int) -> Tensor? { i < consts.count ? consts[i] : nil }
  /// Integer values of a constant input.
  func ints(_ i: Int) -> [Int64]? { const(i)?.integers() }
  /// Float values of a constant input (float or integer tensors).
  func reals(_ i: Int) -> [Double]? {
    guard let t = const(i) else { return nil }
    if let f = t.floats() { return f.map(Double.init) }
    return t.integers()?.map(Double.init)
  }
  func inputName(_ i: Int) -> String { i < node.inputs.count ? node.inputs[i] : "" }

  /// A one-line error about this node.
  func fail(_ message: String, tensor: String? = nil) -> GraftError {
    GraftError(.invalid, at: context.at(node, tensor: tensor), message)
  }

  /// Normalises an axis in [-rank, rank) to [0, rank); throws naming the node otherwise.
  func axis(_ a: Int64, rank: Int, what: String = "axis") throws -> Int {
    let r = Int64(rank)
    guard a >= -r && a < r else { throw fail("\(what) \(a) is out of range for rank \(rank)") }
    return Int(a < 0 ? a + r : a)
  }
}

/// An unknown dim (no name): printed as `?`.
let unknownDim = Dim.symbol("")

extension Dim {
  /// Applies `f` when known; unknown otherwise.
  func map(_ f: (Int) -> Int) -> Dim {
    if let v = value { return .known(f(v)) }
    return unknownDim
  }
}

/// Product of dims: known if all are known.
func dimProduct(_ dims: ArraySlice<Dim>) -> Dim {
  var p = 1
  for d in dims {
    guard let v = d.value else { return unknownDim }
    p = satMul(p, v)
  }
  return .known(p)
}

/// Numpy broadcasting of two shapes; throws naming the node when sizes disagree.
func broadcastShapes(_ a: Shape, _ b: Shape, _ io: NodeIO) throws -> Shape {
  let r = max(a.count, b.count)
  var out: Shape = []
  out.reserveCapacity(r)
  for i in 0..<r {
    let da = i < r - a.count ? Dim.known(1) : a[i - (r - a.count)]
    let db = i < r - b.count ? Dim.known(1) : b[i - (r - b.count)]
    switch (da.value, db.value) {
    case (1?, _): out.append(db)
    case (_, 1?): out.append(da)
    case (let x?, let y?):
      guard x == y else {
        throw io.fail("shapes \(a.text) and \(b.text) do not broadcast (dim \(i): \(x) vs \(y))")
      }
      out.append(da)
    case (_?, nil): out.append(da)
    case (nil, _?): out.append(db)
    case (nil, nil): out.append(da == db ? da : unknownDim)
    }
  }
  return out
}

/// Walks a graph in order, inferring types and folding shape arithmetic.
struct InferenceEngine {
  let context: PassContext
  var changed = false

  init(context: PassContext) { self.context = context }

  mutating func infer(_ g: inout Graph, outer: Scope) throws {
    var scope = outer
    for (n, t) in g.initializers {
      scope.consts[n] = t
      scope.types[n] = t.type
    }
    for i in g.inputs where scope.consts[i.name] == nil {
      if var t = i.type ?? g.valueInfo[i.name] {
        // Negative or absurd declared dims are treated as unknown.
        t.shape = t.shape?.map { d in
          if let v = d.value, v < 0 || v > maxDimSize { return unknownDim }
          return d
        }
        scope.types[i.name] = t
        g.valueInfo[i.name] = t
      }
    }
    var created = Set<String>()
    var kept: [Node] = []
    kept.reserveCapacity(g.nodes.count)
    for var node in g.nodes {
      let isONNX = node.domain.isEmpty || node.domain == "ai.onnx"
      if isONNX, node.opType == "Constant", node.outputs.count == 1, let t = try constantNodeValue(node, context) {
        let o = node.outputs[0]
        g.initializers.append((o, t))
        scope.consts[o] = t
        scope.types[o] = t.type
        g.valueInfo[o] = t.type
        changed = true
        continue
      }
      if !node.subgraphs.isEmpty {
        // An If with a constant condition: only the taken branch is inferred (the other one
        // may not even be valid at these shapes). Otherwise a subgraph that fails to infer is
        // left untyped: errors surface once FoldIf has spliced the branch that runs.
        var skip: String?
        if isONNX, node.opType == "If", let c = node.inputs.first.flatMap({ scope.consts[$0] })?.integers()?.first {
          skip = c != 0 ? "else_branch" : "then_branch"
        }
        // Loop/Scan bodies are not compiled (unsupportedOps lists them): never fatal either.
        for k in node.attributes.indices where node.attributes[k].name != skip {
          switch node.attributes[k].value {
          case .graph(var sub):
            let saved = changed
            do {
              try infer(&sub, outer: scope)
              node.attributes[k].value = .graph(sub)
            } catch {
              changed = saved  // the subgraph is left as it was
            }
          case .graphs(var subs):
            for j in subs.indices {
              let (saved, original) = (changed, subs[j])
              do { try infer(&subs[j], outer: scope) } catch { changed = saved; subs[j] = original }
            }
            node.attributes[k].value = .graphs(subs)
          default: break
          }
        }
      }
      let io = NodeIO(
        node: node,
        types: node.inputs.map { $0.isEmpty ? nil : scope.types[$0] },
        consts: node.inputs.map { $0.isEmpty ? nil : scope.consts[$0] },
        context: context)
      var outTypes: [TensorType?] = isONNX ? try inferTypes(io) : []
      while outTypes.count < node.outputs.count { outTypes.append(nil) }
      for (k, t) in outTypes.enumerated() {
        guard let shape = t?.shape, k < node.outputs.count else { continue }
        if let bad = shape.first(where: { ($0.value ?? 0) < 0 || ($0.value ?? 0) > maxDimSize }) {
          throw io.fail("output shape \(shape.text) has dim \(bad) out of range 0...\(maxDimSize)", tensor: node.outputs[k])
        }
      }
      if isONNX, let folded = try foldNode(io, outTypes) {
        for (o, t) in zip(node.outputs, folded) where !o.isEmpty {
          g.initializers.append((o, t))
          created.insert(o)
          scope.consts[o] = t
          scope.types[o] = t.type
          g.valueInfo[o] = t.type
        }
        changed = true
        continue
      }
      for (o, t) in zip(node.outputs, outTypes) where !o.isEmpty {
        if let t {
          g.valueInfo[o] = t
          scope.types[o] = t
        } else if let t = g.valueInfo[o] {
          scope.types[o] = t
        }
      }
      kept.append(node)
    }
    g.nodes = kept
    for i in g.outputs.indices {
      if let t = scope.types[g.outputs[i].name] { g.outputs[i].type = t }
    }
    // Drop initializers made by folding that nothing reads any more.
    if !created.isEmpty {
      var used = Set(g.outputs.map(\.name))
      for n in g.nodes {
        for v in n.inputs where !v.isEmpty { used.insert(v) }
        for s in n.subgraphs { used.formUnion(s.capturedNames) }
      }
      let dead = created.subtracting(used)
      if !dead.isEmpty {
        g.removeInitializers(dead)
        for d in dead { g.valueInfo[d] = nil }
      }
    }
  }
}

/// The tensor of a `Constant` node (value, value_float(s), value_int(s)); nil for forms Graft
/// does not fold (sparse, strings).
func constantNodeValue(_ node: Node, _ context: PassContext) throws -> Tensor? {
  for a in node.attributes {
    switch (a.name, a.value) {
    case ("value", .tensor(let t)): return t.dtype == .string ? nil : t
    case ("value_float", .float(let f)): return Tensor.float32([], [f])
    case ("value_floats", .floats(let f)): return Tensor.float32([f.count], f)
    case ("value_int", .int(let i)): return Tensor.int64([], [i])
    case ("value_ints", .ints(let i)): return Tensor.int64([i.count], i)
    default: continue
    }
  }
  return nil
}
