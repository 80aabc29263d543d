import GraftIR

/// How the patch-embedding kernel is resized by `PatchAdapt`.
public enum KernelResize: String, Sendable, CaseIterable {
  /// FlexiViT's pseudo-inverse resize (`PIResize`): exact token equivalence when the patch grows.
  case piResize = "pi"
  /// The kernel resized like an image, bilinearly (FlexiViT's "vanilla resize" baseline).
  case bilinear
  /// The same, scaled by the area ratio `ph·pw / (ph'·pw')` so a constant patch keeps its token
  /// (a stronger baseline).
  case bilinearArea = "bilinear-area"
}

/// What `PatchAdapt.adapt` did, for the CLI and the tests.
public struct PatchAdaptReport: Sendable {
  /// The patch-embedding Conv.
  public var convNode: String
  public var oldPatch: (h: Int, w: Int)
  public var newPatch: (h: Int, w: Int)
  public var oldImage: (h: Int, w: Int)
  public var newImage: (h: Int, w: Int)
  public var oldGrid: (h: Int, w: Int)
  public var newGrid: (h: Int, w: Int)
  /// Tokens before the grid tokens in the position embedding (class, distillation, registers).
  public var prefixTokens: Int
  /// The position-embedding initializer (nil: the model has none after the patch embedding).
  public var posEmbedding: String?
  /// Tokens the transformer sees (grid + prefix tokens, wherever they are concatenated),
  /// before and after.
  public var oldTokens: Int
  public var newTokens: Int
  /// `Reshape`/`Expand` shape constants rewritten, by name.
  public var rewrittenConstants: [String]
  /// Non-fatal remarks (least-squares resize when a side shrinks).
  public var warnings: [String]
}

/// FlexiViT-style patch-size adaptation of a ViT graph (compile-time weight surgery; the result
/// is an ordinary graph with new weights and shape constants).
///
/// Contract of `adapt`:
/// - the patch embedding is the Conv (or the reshape + MatMul "patchify" form, first rewritten
///   as that Conv by `convertLinearPatchEmbedding`) whose data input is a rank-4 graph input and whose kernel
///   equals its strides, with no padding, dilation 1, group 1, and an initializer weight
///   `[D, C, ph, pw]`. Its kernel is resized to `patch × patch` (`KernelResize`), its
///   `kernel_shape`/`strides` updated; the bias is untouched;
/// - the image is the input's spatial size, or `image` (then the input's shape is rewritten);
///   the patch must divide it, and the old patch must divide the old image;
/// - the position embedding is the first `Add` reached from the Conv's output through
///   Reshape/Flatten/Transpose/Concat/Squeeze/Unsqueeze whose other operand is a float
///   initializer `[1, T, D]` or `[T, D]` (tokens first) or `[1, D, gh, gw]` (spatial). With
///   `T = prefix + gh·gw` its first `prefix` rows are kept and the grid is resized bilinearly
///   (half-pixel centres; antialiased when a side shrinks, as `jax.image.resize` does);
/// - in every Reshape/Expand shape constant (initializer or Constant node), the entries at
///   token axes (`tokenAxes`: propagated from the Conv's grid through the original graph) that
///   spell the old size get the new one (token counts shift by the grid-count change; a grid
///   written as its two sides gets the new sides); -1/0 entries and other axes are left alone,
///   so a head dim that happens to equal the token count is not touched;
/// - the result is checked by shape inference at the new input shape; a failure there is an
///   error naming the node (typically a token count hidden in a constant Graft did not find);
/// - never chain: adapt from the original model each time (PI-resize is not invertible).
/// Errors are one line naming the file and what was found; nothing is changed on error.
public enum PatchAdapt {
  /// Largest patch side and grid token count `adapt` accepts (bounds the new tables' size).
  public static let maxPatch = 1024
  public static let maxTokens = 1 << 16

  public static func adapt(_ graph: inout Graph, file: String, opsets: [OpsetImport],
                           patch: Int, image: (h: Int, w: Int)? = nil,
                           method: KernelResize = .piResize) throws -> PatchAdaptReport {
    var g = graph
    let here = Location(file: file)
    guard patch >= 1 else { throw GraftError(.invalid, at: here, "patch size \(patch) must be positive") }

    // 1. The patch embedding (the reshape + MatMul form is first rewritten as a Conv).
    _ = convertLinearPatchEmbedding(&g)
    let beforeSurgery = g
    let (ci, ph, pw) = try findPatchEmbedding(g, file: file)
    let conv = g.nodes[ci]
    let x = conv.inputs[0]
    guard let inIndex = g.inputs.firstIndex(where: { $0.name == x }),
          let inShape = g.inputs[inIndex].type?.shape, inShape.count == 4 else {
      throw GraftError(.invalid, at: here, "patch embedding '\(conv.displayName)' reads '\(x)', which is not a rank-4 graph input")
    }
    let oldH: Int, oldW: Int
    if let h = inShape[2].value, let w = inShape[3].value {
      (oldH, oldW) = (h, w)
    } else if let side = try squareGridFromPosEmbedding(g, file: file, conv: conv) {
      // A dynamic-size input: the position embedding's square grid says what it was trained at.
      (oldH, oldW) = (side * ph, side * pw)
    } else {
      throw GraftError(.invalid, at: Location(file: file, tensor: x),
                       "input '\(x)' has a symbolic spatial size \(inShape.text) and no position embedding tells the grid; give the model a fixed input size")
    }
    guard oldH % ph == 0, oldW % pw == 0 else {
      throw GraftError(.invalid, at: Location(file: file, node: conv.displayName, opType: "Conv"),
                       "patch \(ph)x\(pw) does not divide the image \(oldH)x\(oldW)")
    }
    let newImage = image ?? (oldH, oldW)
    guard newImage.h % patch == 0, newImage.w % patch == 0 else {
      throw GraftError(.invalid, at: here, "patch size \(patch) does not divide the image \(newImage.h)x\(newImage.w)")
    }
    let oldGrid = (h: oldH / ph, w: oldW / pw)
    let newGrid = (h: newImage.h / patch, w: newImage.w / patch)
    // Flags are input too: refuse sizes whose tables would be huge rather than allocate them.
    guard patch <= maxPatch, newGrid.h * newGrid.w <= maxTokens else {
      throw GraftError(.invalid, at: here, "patch \(patch) on a \(newImage.h)x\(newImage.w) image gives a \(newGrid.h)x\(newGrid.w) grid; at most patch \(maxPatch) and \(maxTokens) tokens are supported")
    }
    var warnings: [String] = []
    if method == .piResize && (patch < ph || patch < pw) {
      warnings.append("patch shrinks from \(ph)x\(pw) to \(patch)x\(patch): PI-resize is a least-squares fit, not exact")
    }

    // 2. The kernel.
    let wName = conv.inputs[1]
    guard let wT = constant(g, wName), let wv = wT.floats() else {
      throw GraftError(.invalid, at: Location(file: file, node: conv.displayName, opType: "Conv", tensor: wName),
                       "patch-embedding weight is not a float constant")
    }
    let resized: [Float]?
    switch method {
    case .piResize: resized = PIResize.resizeKernel(wv, dims: wT.dims, to: patch, patch)
    case .bilinear: resized = PIResize.bilinearKernel(wv, dims: wT.dims, to: patch, patch, scaleByArea: false)
    case .bilinearArea: resized = PIResize.bilinearKernel(wv, dims: wT.dims, to: patch, patch, scaleByArea: true)
    }
    guard let resized else {
      throw GraftError(.invalid, at: Location(file: file, node: conv.displayName, opType: "Conv", tensor: wName),
                       "cannot resize the \(ph)x\(pw) kernel to \(patch)x\(patch)")
    }
    let newW = Tensor.float32([wT.dims[0], wT.dims[1], patch, patch], resized)
    var taken = g.definedNames
    let wOut = g.useCount(wName) == 1 ? wName : fresh(wName + "_p\(patch)", &taken)
    try setConstant(&g, wOut, newW)
    var newConv = conv
    newConv.inputs[1] = wOut
    newConv[attribute: "kernel_shape"] = .ints([Int64(patch), Int64(patch)])
    newConv[attribute: "strides"] = .ints([Int64(patch), Int64(patch)])
    g.nodes[ci] = newConv

    // 3. The position embedding.
    let oldN = oldGrid.h * oldGrid.w, newN = newGrid.h * newGrid.w
    var prefix = 0
    var posName: String?
    if let (add, operand) = findPositionAdd(g, from: conv.outputs[0]) {
      let pName = g.nodes[add].inputs[operand]
      guard let pT = constant(g, pName), let pv = pT.floats(), pT.dtype == .float32 else {
        throw GraftError(.invalid, at: Location(file: file, tensor: pName), "position embedding is not a float32 constant")
      }
      let d = wT.dims[0]
      let loc = Location(file: file, node: g.nodes[add].displayName, opType: "Add", tensor: pName)
      let newP: Tensor
      if pT.dims.count == 4 {
        guard pT.dims == [1, d, oldGrid.h, oldGrid.w] else {
          throw GraftError(.invalid, at: loc, "position embedding has shape \(Shape(pT.dims).text); the \(oldGrid.h)x\(oldGrid.w) patch grid with \(d) channels needs 1x\(d)x\(oldGrid.h)x\(oldGrid.w)")
        }
        newP = Tensor.float32([1, d, newGrid.h, newGrid.w],
                              resizeGrid(pv, channelsFirst: true, d: d, from: oldGrid, to: newGrid))
      } else {
        guard (pT.dims.count == 3 && pT.dims[0] == 1) || pT.dims.count == 2, pT.dims.last == d else {
          throw GraftError(.invalid, at: loc, "position embedding has shape \(Shape(pT.dims).text); expected 1xTx\(d) or Tx\(d)")
        }
        let t = pT.dims[pT.dims.count - 2]
        prefix = t - oldN
        guard prefix >= 0, prefix <= 16 else {
          let side = Double(t).squareRoot()
          let what = side == side.rounded() ? "a \(Int(side))x\(Int(side)) grid" : "not a square grid"
          throw GraftError(.invalid, at: loc, "position embedding has \(t) tokens (\(what)); the \(oldGrid.h)x\(oldGrid.w) patch grid needs \(oldN) plus at most 16 prefix tokens")
        }
        let head = Array(pv[0..<(prefix * d)])
        let grid = Array(pv[(prefix * d)...])
        let body = resizeGrid(grid, channelsFirst: false, d: d, from: oldGrid, to: newGrid)
        var dims = pT.dims
        dims[dims.count - 2] = prefix + newN
        newP = Tensor.float32(dims, head + body)
      }
      let pOut = g.useCount(pName) == 1 ? pName : fresh(pName + "_p\(patch)", &taken)
      try setConstant(&g, pOut, newP)
      g.nodes[add].inputs[operand] = pOut
      posName = pOut
    }

    // 4. Shape constants: in every Reshape/Expand target, the entries at token axes (found by
    // following the token axes of the original graph, `tokenAxes`) that spell the old size.
    let oldT = prefix + oldN
    let (axes, dims) = tokenAxes(beforeSurgery, file: file, opsets: opsets, conv: conv)
    var finalOld = oldT
    for (v, set) in axes { if let d = dims[v] { for k in set where k < d.count { finalOld = max(finalOld, d[k]) } } }
    let finalNew = finalOld - oldN + newN
    var rewritten: [String] = []
    if oldN != newN || oldGrid != newGrid {
      for i in g.nodes.indices where ["Reshape", "Expand"].contains(g.nodes[i].opType) && g.nodes[i].inputs.count > 1 {
        let sName = g.nodes[i].inputs[1]
        let outName = beforeSurgery.nodes[i].outputs.first ?? ""
        guard let s = constant(g, sName), var v = s.integers(), s.dims.count == 1,
              let set = axes[outName], let od = dims[outName], od.count == v.count else { continue }
        var changed = false
        for k in set.sorted() where v[k] == Int64(od[k]) {
          if od[k] >= oldN {
            v[k] = Int64(od[k] - oldN + newN)
          } else if set.contains(k + 1), k + 1 < v.count, od[k] == oldGrid.h, od[k + 1] == oldGrid.w {
            v[k] = Int64(newGrid.h)
            v[k + 1] = Int64(newGrid.w)
          } else {
            continue
          }
          changed = true
        }
        guard changed else { continue }
        let t = s.dtype == .int32 ? Tensor(dtype: .int32, dims: s.dims, values: v.map { Int32(truncatingIfNeeded: $0) })
                                  : Tensor.int64(s.dims, v)
        let out = g.useCount(sName) == 1 ? sName : fresh(sName + "_p\(patch)", &taken)
        try setConstant(&g, out, t)
        g.nodes[i].inputs[1] = out
        rewritten.append(out)
      }
    }

    // 5. The input's shape, and stale inferred shapes.
    var newShape = inShape
    newShape[2] = .known(newImage.h)
    newShape[3] = .known(newImage.w)
    if image != nil || inShape[2].value == nil { g.inputs[inIndex].type?.shape = newShape }
    g.valueInfo = [:]
    g.valueInfoOrder = []
    for o in g.outputs.indices { g.outputs[o].type?.shape = nil }

    // 6. Check: shape inference at the new size must succeed.
    var check = g
    var ctx = PassContext(file: file, opsets: opsets,
                          inputShapes: inShape[0].value == nil ? [x: [1] + newShape.dropFirst().compactMap(\.value)] : [:])
    do {
      _ = try inferShapesAndFoldIfs(&check, &ctx)
    } catch let e as GraftError {
      var wrapped = e
      wrapped.message = "after adapting the patch to \(patch)x\(patch), shapes no longer agree: \(e.message)"
      throw wrapped
    }
    for o in g.outputs.indices {
      if let t = check.valueInfo[g.outputs[o].name] ?? check.type(of: g.outputs[o].name) {
        g.outputs[o].type = t
      }
    }

    graph = g
    return PatchAdaptReport(convNode: conv.displayName, oldPatch: (ph, pw), newPatch: (patch, patch),
                            oldImage: (oldH, oldW), newImage: newImage, oldGrid: oldGrid, newGrid: newGrid,
                            prefixTokens: prefix, posEmbedding: posName, oldTokens: finalOld, newTokens: finalNew,
                            rewrittenConstants: rewritten, warnings: warnings)
  }

  /// For an input of symbolic size: the side `s` of the square grid of a tokens-first position
  /// embedding with `T = k + s²` tokens, `k` in 0...8 the smallest that fits; nil without one.
  static func squareGridFromPosEmbedding(_ g: Graph, file: String, conv: Node) throws -> Int? {
    guard let (add, operand) = findPositionAdd(g, from: conv.outputs[0]) else { return nil }
    let name = g.nodes[add].inputs[operand]
    guard let t = constant(g, name), t.dims.count == 3 || t.dims.count == 2 else { return nil }
    let tokens = t.dims[t.dims.count - 2]
    for k in 0...min(8, tokens - 1) {
      let s = Int(Double(tokens - k).squareRoot().rounded())
      if s * s == tokens - k { return s }
    }
    throw GraftError(.invalid, at: Location(file: file, node: g.nodes[add].displayName, opType: "Add", tensor: name),
                     "position embedding has \(tokens) tokens, not a square grid plus at most 8 prefix tokens")
  }


  /// Rewrites the "patchify" form of a patch embedding — `Reshape(x, [B, C, gh, ph, gw, pw])`,
  /// `Transpose(perm = [0, 2, 4, a, b, c])` with `{a, b, c} = {1, 3, 5}`, `Reshape(., [B, N,
  /// C·ph·pw])`, `MatMul(., W[C·ph·pw, D])` — as `Conv(x, W'[D, C, ph, pw]; kernel = stride)`,
  /// `Reshape(., [0, D, -1])`, `Transpose(perm = [0, 2, 1])` writing the MatMul's output, so the
  /// Conv path applies. `W'` is `W` with its rows unflattened in the order the Transpose gave
  /// them. Needs the input's C, H, W known; intermediate values read only inside the pattern.
  /// Returns true if it rewrote one.
  static func convertLinearPatchEmbedding(_ g: inout Graph) -> Bool {
    let uses = g.useCounts
    let consumers = g.consumers
    func only(_ v: String) -> Node? {
      guard uses[v] == 1, !g.isGraphOutput(v), let c = consumers[v], c.count == 1 else { return nil }
      return g.nodes[c[0]]
    }
    for input in g.runtimeInputs {
      guard let dims = input.type?.shape, dims.count == 4, let c = dims[1].value, let h = dims[2].value,
            let w = dims[3].value else { continue }
      for r1i in consumers[input.name] ?? [] {
        let r1 = g.nodes[r1i]
        guard r1.opType == "Reshape", r1.inputs.count == 2, r1.inputs[0] == input.name,
              let s1 = constant(g, r1.inputs[1])?.integers(), s1.count == 6,
              s1[1] == Int64(c), s1[2] * s1[3] == Int64(h), s1[4] * s1[5] == Int64(w),
              let t = only(r1.outputs[0]), t.opType == "Transpose", let perm = t.ints("perm"), perm.count == 6,
              Array(perm[0..<3]) == [0, 2, 4], Set(perm[3..<6]) == [1, 3, 5],
              let r2 = only(t.outputs[0]), r2.opType == "Reshape", r2.inputs.count == 2,
              let s2 = constant(g, r2.inputs[1])?.integers(), s2.count == 3,
              let mm = only(r2.outputs[0]), mm.opType == "MatMul", mm.inputs.count == 2, mm.inputs[0] == r2.outputs[0],
              let wT = constant(g, mm.inputs[1]), wT.dims.count == 2, let wv = wT.floats() else { continue }
        let (ph, pw) = (Int(s1[3]), Int(s1[5]))
        let k = c * ph * pw, d = wT.dims[1]
        guard wT.dims[0] == k, s2[2] == Int64(k) || s2[2] == -1,
              let mmIndex = g.nodes.firstIndex(where: { $0.outputs == mm.outputs }) else { continue }
        // Row index of (channel, i, j) in W: row-major over the transposed axes perm[3..5].
        let size: [Int64: Int] = [1: c, 3: ph, 5: pw]
        var kernel = [Float](repeating: 0, count: d * k)
        for ch in 0..<c { for i in 0..<ph { for j in 0..<pw {
          let coord: [Int64: Int] = [1: ch, 3: i, 5: j]
          var row = 0
          for a in perm[3..<6] { row = row * (size[a] ?? 1) + (coord[a] ?? 0) }
          for o in 0..<d { kernel[((o * c + ch) * ph + i) * pw + j] = wv[row * d + o] }
        } } }
        var taken = g.definedNames
        let wName = fresh(mm.inputs[1] + "_conv", &taken)
        let convOut = fresh(mm.outputs[0] + "_conv", &taken)
        let flatShape = fresh(mm.outputs[0] + "_shape", &taken)
        let flatOut = fresh(mm.outputs[0] + "_flat", &taken)
        g.setInitializer(wName, Tensor.float32([d, c, ph, pw], kernel))
        g.setInitializer(flatShape, Tensor.int64([3], [0, Int64(d), -1]))
        var conv = Node(name: mm.name.isEmpty ? "" : mm.name + "_conv", opType: "Conv",
                        inputs: [input.name, wName], outputs: [convOut])
        conv[attribute: "kernel_shape"] = .ints([Int64(ph), Int64(pw)])
        conv[attribute: "strides"] = .ints([Int64(ph), Int64(pw)])
        let flat = Node(name: mm.name.isEmpty ? "" : mm.name + "_flatten", opType: "Reshape",
                        inputs: [convOut, flatShape], outputs: [flatOut])
        var tr = Node(name: mm.name.isEmpty ? "" : mm.name + "_tokens", opType: "Transpose",
                      inputs: [flatOut], outputs: mm.outputs)
        tr[attribute: "perm"] = .ints([0, 2, 1])
        // The MatMul's slot gets the three new nodes (its inputs are all earlier); the patchify
        // nodes before it go.
        g.nodes.replaceSubrange(mmIndex...mmIndex, with: [conv, flat, tr])
        let dead = Set([r1.outputs[0], t.outputs[0], r2.outputs[0]])
        g.nodes.removeAll { $0.outputs.contains(where: dead.contains) }
        return true
      }
    }
    return false
  }


  /// Index and patch size of the patch-embedding Conv.
  static func findPatchEmbedding(_ g: Graph, file: String) throws -> (Int, Int, Int) {
    let inputNames = Set(g.runtimeInputs.map(\.name))
    var seen: [String] = []
    for (i, n) in g.nodes.enumerated() where n.opType == "Conv" && (n.domain.isEmpty || n.domain == "ai.onnx") {
      guard n.inputs.count >= 2, inputNames.contains(n.inputs[0]), let w = constant(g, n.inputs[1]),
            w.dims.count == 4 else { continue }
      let k = n.ints("kernel_shape") ?? [Int64(w.dims[2]), Int64(w.dims[3])]
      let s = n.ints("strides") ?? [1, 1]
      let pads = n.ints("pads") ?? [0, 0, 0, 0]
      let dil = n.ints("dilations") ?? [1, 1]
      let autoPad = n.string("auto_pad") ?? "NOTSET"
      seen.append("'\(n.displayName)' kernel \(k.map(String.init).joined(separator: "x")) stride \(s.map(String.init).joined(separator: "x"))")
      guard k == s, k.count == 2, k[0] > 1 || k[1] > 1, pads.allSatisfy({ $0 == 0 }), dil.allSatisfy({ $0 == 1 }),
            (n.int("group") ?? 1) == 1, autoPad == "NOTSET" || autoPad == "VALID",
            Int64(w.dims[2]) == k[0], Int64(w.dims[3]) == k[1] else { continue }
      return (i, w.dims[2], w.dims[3])
    }
    let found = seen.isEmpty ? "no Conv reads a graph input" : "found " + seen.joined(separator: ", ")
    throw GraftError(.invalid, at: Location(file: file),
                     "no patch embedding found (a Conv on the image with kernel = stride and no padding); \(found)")
  }

  /// The Add that applies the position embedding: (node index, operand index of the constant).
  static func findPositionAdd(_ g: Graph, from start: String) -> (Int, Int)? {
    let consumers = g.consumers
    let passThrough: Set<String> = ["Reshape", "Flatten", "Transpose", "Concat", "Squeeze", "Unsqueeze"]
    var frontier = [start]
    var visited: Set<String> = []
    while let v = frontier.first {
      frontier.removeFirst()
      guard visited.insert(v).inserted, visited.count < 64 else { continue }
      for c in consumers[v] ?? [] {
        let n = g.nodes[c]
        if n.opType == "Add", n.inputs.count == 2 {
          let other = n.inputs[0] == v ? 1 : 0
          if let t = constant(g, n.inputs[other]), t.dtype.isFloat {
            if t.dims.count >= 2 { return (c, other) }
            frontier += n.outputs  // a bias [D]: not the position embedding, look further
          }
        }
        if passThrough.contains(n.opType) { frontier += n.outputs.filter { !$0.isEmpty } }
      }
    }
    return nil
  }

  /// The token axes of every value of the original graph (and the values' shapes there), by
  /// shape inference at the original sizes and forward propagation from the patch embedding's
  /// output, whose two spatial axes are the grid. Rules per node (outputs get the union over
  /// inputs): Transpose permutes; MatMul keeps A's row axis and B's column axis (and aligned
  /// batch axes) and drops the contracted one; Reshape/Flatten/Squeeze/Unsqueeze keep an axis
  /// whose leading element count and size are unchanged (a flattened grid becomes the axis of
  /// size gh·gw); Concat keeps its axes (the concatenated one grows: class token); Gather drops
  /// its axis; any other node keeps right-aligned axes whose size is
  /// unchanged (elementwise ops, norms, softmax, concat). Empty if shape inference fails.
  static func tokenAxes(_ graph: Graph, file: String, opsets: [OpsetImport], conv: Node)
    -> (axes: [String: Set<Int>], dims: [String: [Int]]) {
    var g = graph
    var shapes: [String: [Int]] = [:]
    for i in g.runtimeInputs {
      if let s = i.type?.shape, s.concrete == nil, s.dropFirst().allSatisfy({ $0.value != nil }) {
        shapes[i.name] = [1] + s.dropFirst().compactMap(\.value)
      }
    }
    var ctx = PassContext(file: file, opsets: opsets, inputShapes: shapes)
    guard (try? inferShapesAndFoldIfs(&g, &ctx)) != nil else { return ([:], [:]) }
    var dims: [String: [Int]] = [:]
    func shape(_ v: String) -> [Int]? {
      if let d = dims[v] { return d }
      let d = g.type(of: v)?.shape?.concrete
      dims[v] = d
      return d
    }
    var axes: [String: Set<Int>] = [:]
    guard let start = conv.outputs.first, let sd = shape(start), sd.count == 4 else { return ([:], [:]) }
    axes[start] = [2, 3]
    /// Axis of `out` that keeps axis `a` of `inD` through a reshape: same leading count and size.
    func regroup(_ a: Int, _ inD: [Int], _ out: [Int], grid: Set<Int>) -> Set<Int> {
      var r: Set<Int> = []
      let lead = inD[..<a].reduce(1, *)
      var p = 1
      for (k, d) in out.enumerated() {
        if p == lead && d == inD[a] { r.insert(k) }
        p *= d
      }
      // Consecutive grid axes flattened into one.
      if grid.contains(a), grid.contains(a + 1), a + 1 < inD.count {
        p = 1
        for (k, d) in out.enumerated() {
          if p == lead && d == inD[a] * inD[a + 1] { r.insert(k) }
          p *= d
        }
      }
      return r
    }
    for node in g.nodes {
      guard let out = node.outputs.first, !out.isEmpty, let od = shape(out) else { continue }
      var result: Set<Int> = []
      for (slot, input) in node.inputs.enumerated() where !input.isEmpty {
        guard let set = axes[input], !set.isEmpty, let vd = shape(input) else { continue }
        for a in set where a < vd.count {
          switch node.opType {
          case "Transpose":
            let perm = node.ints("perm") ?? (0..<vd.count).reversed().map(Int64.init)
            if let k = perm.firstIndex(of: Int64(a)) { result.insert(k) }
          case "MatMul":
            let r = vd.count
            guard r >= 2, od.count >= 2 else { continue }
            if slot == 0 && a == r - 2 { result.insert(od.count - 2) }
            else if slot == 1 && a == r - 1 { result.insert(od.count - 1) }
            else if a < r - 2 { result.insert(a + od.count - r) }
          case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
            if slot == 0 { result.formUnion(regroup(a, vd, od, grid: set)) }
          case "Concat":
            let axis = Int(node.int("axis") ?? 0)
            if od.count == vd.count, a == (axis < 0 ? axis + vd.count : axis) || od[a] == vd[a] { result.insert(a) }
          case "Gather":
            let axis = Int(node.int("axis") ?? 0)
            let ga = axis < 0 ? axis + vd.count : axis
            if slot == 0, a != ga {
              let k = a < ga ? a : a + od.count - vd.count
              if k >= 0, k < od.count, od[k] == vd[a] { result.insert(k) }
            }
          default:
            let k = a + od.count - vd.count
            if k >= 0, k < od.count, od[k] == vd[a] { result.insert(k) }
          }
        }
      }
      if !result.isEmpty { axes[out] = result }
    }
    return (axes, dims)
  }

  /// Bilinear grid resize of a `[gh·gw, d]` (tokens first) or `[d, gh, gw]` table.
  static func resizeGrid(_ v: [Float], channelsFirst: Bool, d: Int, from a: (h: Int, w: Int),
                         to b: (h: Int, w: Int)) -> [Float] {
    let rows = ResizeMatrix.bilinear(from: a.h, to: b.h, antialias: true)
    let cols = ResizeMatrix.bilinear(from: a.w, to: b.w, antialias: true)
    var out = [Float](repeating: 0, count: b.h * b.w * d)
    for c in 0..<d {
      let plane: [Double] = (0..<(a.h * a.w)).map { p in Double(channelsFirst ? v[c * a.h * a.w + p] : v[p * d + c]) }
      let r = ResizeMatrix.applySeparable(plane, h: a.h, w: a.w, rows: rows, cols: cols)
      for p in 0..<(b.h * b.w) {
        if channelsFirst { out[c * b.h * b.w + p] = Float(r[p]) } else { out[p * d + c] = Float(r[p]) }
      }
    }
    return out
  }

  /// `base`, else `base_1`, `base_2`, ...: the first not in `taken` (which then holds it).
  static func fresh(_ base: String, _ taken: inout Set<String>) -> String {
    var name = base
    var k = 0
    while taken.contains(name) {
      k += 1
      name = "\(base)_\(k)"
    }
    taken.insert(name)
    return name
  }

  /// An initializer or the `value` of the Constant node producing `name`.
  static func constant(_ g: Graph, _ name: String) -> Tensor? {
    if let t = g.initializer(name) { return t }
    if let p = g.nodes.first(where: { $0.opType == "Constant" && $0.outputs.first == name }),
       case .tensor(let t)? = p[attribute: "value"] { return t }
    return nil
  }

  /// Writes `tensor` as initializer `name` (replacing a Constant node of that name if any).
  static func setConstant(_ g: inout Graph, _ name: String, _ tensor: Tensor) throws {
    if let p = g.nodes.firstIndex(where: { $0.opType == "Constant" && $0.outputs.first == name }) {
      g.nodes[p][attribute: "value"] = .tensor(tensor)
    } else {
      g.setInitializer(name, tensor)
      if let i = g.inputs.firstIndex(where: { $0.name == name }) { g.inputs[i].type = tensor.type }
    }
  }
}
