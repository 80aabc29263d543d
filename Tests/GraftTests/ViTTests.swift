// Vision transformers: the decomposed LayerNorm/GELU fusion, the PI-resize property, and
// `graft adapt-patch` on the small ViT fixtures (Tests/Fixtures/vit/make_vit.py), every number
// checked against onnxruntime (its Resize operator defines "bilinear, half-pixel centres").
import Foundation
import GraftBackend
@testable import GraftCLI
import GraftIR
import GraftONNX
@testable import GraftPasses
import Testing

@Suite(.serialized) struct ViTTests {
  typealias S = BackendSupport

  static let root: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  static let fixtures = root + "/Tests/Fixtures/vit"

  static func load(_ name: String) throws -> Model {
    try ONNXImporter.load(path: fixtures + "/" + name)
  }

  static func tempPath(_ ext: String) -> String {
    FileManager.default.temporaryDirectory
      .appendingPathComponent("graft-vit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).\(ext)").path
  }

  /// onnxruntime's `Resize(mode=linear, coordinate_transformation_mode=half_pixel)` of a float
  /// tensor to `sizes` (no antialias: the opset-17 operator has none).
  static func ortResize(_ x: Tensor, to sizes: [Int]) throws -> Tensor {
    var node = Node(name: "resize", opType: "Resize", inputs: ["x", "", "", "sizes"], outputs: ["y"])
    node[attribute: "mode"] = .string(Array("linear".utf8))
    node[attribute: "coordinate_transformation_mode"] = .string(Array("half_pixel".utf8))
    let g = Graph(name: "resize", nodes: [node], inputs: [S.input("x", .float32, x.dims)],
                  outputs: [S.output("y", .float32, sizes)],
                  initializers: [("sizes", Tensor.int64([sizes.count], sizes.map(Int64.init)))])
    let out = try S.runReference(g, ["x": x])
    return try #require(out.first?.tensor)
  }

  /// Runs `model` (written to a temporary file) through onnxruntime and through Graft.
  static func bothRuns(_ model: Model, _ inputs: [String: Tensor]) throws -> (graft: Tensor, ort: Tensor) {
    let path = tempPath("onnx")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try ONNXExporter.write(model, to: path)
    let reloaded = try ONNXImporter.load(path: path)
    let ort = try #require(try OnnxRuntimeReference.run(modelPath: path, inputs: inputs).first?.tensor)
    let compiled = try Driver.compile(reloaded, options: CompileOptions(checkInvariants: true)).compiled
    let graft = try #require(try ArchiveRunner(bytes: try ArchiveWriter.encode(compiled)).run(inputs).first?.tensor)
    return (graft, ort)
  }

  // MARK: - The resize operator

  /// Our bilinear matrix (per side, applied separably) is onnxruntime's Resize, up and down.
  @Test(arguments: [(8, 16), (8, 12), (4, 16), (5, 7), (16, 8), (16, 12), (12, 5)])
  func bilinearMatrixIsOnnxruntimeResize(_ from: Int, _ to: Int) throws {
    let x = S.random([1, 1, from, from], seed: UInt64(from * 100 + to))
    let ref = try #require(try Self.ortResize(x, to: [1, 1, to, to]).floats())
    let m = ResizeMatrix.bilinear(from: from, to: to)
    let mine = ResizeMatrix.applySeparable(try #require(x.floats()).map(Double.init), h: from, w: from, rows: m, cols: m)
    #expect(mine.count == ref.count)
    let err = zip(mine, ref).map { abs($0 - Double($1)) }.max() ?? .infinity
    #expect(err <= 1e-6, "max abs error \(err)")
  }

  /// PI-resize: when the patch grows, the token of the resized patch (resized by onnxruntime)
  /// under the new kernel equals the old token (to 1e-5 relative).
  @Test(arguments: [(4, 8), (8, 16), (4, 16), (8, 12), (6, 9), (7, 7)])
  func piResizeKeepsTokensWhenThePatchGrows(_ p: Int, _ q: Int) throws {
    let (outC, inC) = (3, 2)
    let w = S.random([outC, inC, p, p], seed: 7)
    let wv = try #require(w.floats())
    let resized = try #require(PIResize.resizeKernel(wv, dims: w.dims, to: q, q))
    for trial in 0..<4 {
      let x = S.random([1, inC, p, p], seed: UInt64(100 + trial))
      let xv = try #require(x.floats())
      let bx = try #require(try Self.ortResize(x, to: [1, inC, q, q]).floats())
      for d in 0..<outC {
        var old = 0.0, new = 0.0, scale = 0.0
        for i in 0..<(inC * p * p) {
          old += Double(wv[d * inC * p * p + i]) * Double(xv[i])
          scale += abs(Double(wv[d * inC * p * p + i]) * Double(xv[i]))
        }
        for i in 0..<(inC * q * q) { new += Double(resized[d * inC * q * q + i]) * Double(bx[i]) }
        #expect(abs(new - old) <= 1e-5 * max(abs(old), scale), "channel \(d): \(new) vs \(old)")
      }
    }
  }

  /// The pseudo-inverse satisfies the Moore–Penrose identities A·A⁺·A = A and A⁺·A·A⁺ = A⁺
  /// for both shapes (wide and tall).
  @Test(arguments: [(4, 8), (16, 8), (5, 7)])
  func pseudoInverseIdentities(_ a: Int, _ b: Int) throws {
    let m = ResizeMatrix.transpose(ResizeMatrix.bilinear(from: a, to: b))
    let p = try #require(ResizeMatrix.pseudoInverse(m))
    let apa = ResizeMatrix.multiply(ResizeMatrix.multiply(m, p), m)
    let pap = ResizeMatrix.multiply(ResizeMatrix.multiply(p, m), p)
    let e1 = zip(apa.joined(), m.joined()).map { abs($0 - $1) }.max() ?? .infinity
    let e2 = zip(pap.joined(), p.joined()).map { abs($0 - $1) }.max() ?? .infinity
    #expect(e1 < 1e-10 && e2 < 1e-10, "\(e1) \(e2)")
  }

  // MARK: - Fusion

  /// The exporter-style decomposed LayerNorms and Erf GELUs become one kernel each, and the
  /// fused model agrees with onnxruntime on the original graph.
  @Test func fusesDecomposedLayerNormAndGelu() throws {
    let model = try Self.load("vit_p8.onnx")
    let out = try Driver.compile(model, options: CompileOptions(checkInvariants: true))
    let ops = out.graph.nodes.map(\.opType)
    #expect(ops.filter { $0 == "LayerNormalization" }.count == 5)
    for gone in ["ReduceMean", "Pow", "Sqrt", "Erf", "Div"] { #expect(!ops.contains(gone), "\(gone) left") }
    let geluCode = FuseActivation.Code.gelu.rawValue
    let gelus = out.graph.nodes.filter {
      if case .int(let c)? = $0[attribute: "graft.act"] { return c == geluCode }
      return $0.opType == "Gelu"
    }
    #expect(gelus.count == 2)
    let x = S.random([1, 3, 32, 32], seed: 5)
    let (graft, ort) = try Self.bothRuns(model, ["image": x])
    let a = Agreement.measure(graft, ort)
    #expect(a.mismatch == nil && a.maxAbs <= 1e-4 * a.maxRef, "\(a)")
  }

  /// A decomposed LayerNorm without the affine part, squaring with `Mul(d, d)`, fuses (scale
  /// ones, no bias); the same pattern over a non-last axis does not. Both agree with
  /// onnxruntime.
  @Test(arguments: [-1, 1])
  func layerNormVariantsFuseOnlyOverTheLastAxis(_ axis: Int) throws {
    func c(_ name: String, _ v: Float) -> (String, Tensor) { (name, Tensor.float32([], [v])) }
    var nodes: [Node] = []
    func op(_ type: String, _ inputs: [String], _ out: String, axes: [Int64]? = nil) {
      var n = Node(name: out, opType: type, inputs: inputs, outputs: [out])
      if let axes { n[attribute: "axes"] = .ints(axes) }
      nodes.append(n)
    }
    op("MatMul", ["x", "w"], "h")
    op("ReduceMean", ["h"], "m", axes: [Int64(axis)])
    op("Sub", ["h", "m"], "d")
    op("Mul", ["d", "d"], "sq")
    op("ReduceMean", ["sq"], "v", axes: [Int64(axis)])
    op("Add", ["eps", "v"], "e")
    op("Sqrt", ["e"], "s")
    op("Div", ["d", "s"], "y")
    let g = Graph(name: "ln", nodes: nodes, inputs: [S.input("x", .float32, [2, 5, 6])],
                  outputs: [S.output("y", .float32, [2, 5, 6])],
                  initializers: [("w", S.random([6, 6], seed: 4)), c("eps", 1e-5)])
    let model = Model(graph: g, opsetImports: [OpsetImport(domain: "", version: 14)])
    let ops = try Driver.compile(model, options: CompileOptions(checkInvariants: true)).graph.nodes.map(\.opType)
    #expect(ops.contains("LayerNormalization") == (axis == -1), "\(ops)")
    let x = S.random([2, 5, 6], seed: 9)
    let mine = try #require(try S.runGraft(g, ["x": x], opset: 14).first?.tensor)
    let ref = try #require(try S.runReference(g, ["x": x], opset: 14).first?.tensor)
    let a = Agreement.measure(mine, ref)
    #expect(a.mismatch == nil && a.maxAbs <= 1e-4 * a.maxRef, "\(a)")
  }

  /// GELU written out as exporters do: the Erf and tanh forms, with each of the three halving
  /// tails, fuse into one activation and agree with onnxruntime.
  @Test(arguments: [false, true], [0, 1, 2])
  func geluFormsFuse(_ tanh: Bool, _ tail: Int) throws {
    var nodes: [Node] = []
    var inits: [(String, Tensor)] = [("w", S.random([8, 8], seed: 12))]
    func k(_ name: String, _ v: Float) -> String { inits.append((name, Tensor.float32([], [v]))); return name }
    func op(_ type: String, _ inputs: [String], _ out: String) {
      nodes.append(Node(name: out, opType: type, inputs: inputs, outputs: [out]))
    }
    op("MatMul", ["x", "w"], "h")
    if tanh {
      op("Pow", ["h", k("three", 3)], "cube")
      op("Mul", [k("c", 0.044715), "cube"], "cubec")
      op("Add", ["h", "cubec"], "inner")
      op("Mul", ["inner", k("s", Float((2.0 / Double.pi).squareRoot()))], "arg")
      op("Tanh", ["arg"], "core")
    } else {
      op("Div", ["h", k("sqrt2", Float(2.0.squareRoot()))], "arg")
      op("Erf", ["arg"], "core")
    }
    op("Add", [k("one", 1), "core"], "a")
    switch tail {
    case 0:
      op("Mul", ["h", "a"], "ha")
      op("Mul", ["ha", k("half", 0.5)], "y")
    case 1:
      op("Mul", ["a", k("half", 0.5)], "ah")
      op("Mul", ["h", "ah"], "y")
    default:
      op("Mul", [k("half", 0.5), "h"], "hh")
      op("Mul", ["hh", "a"], "y")
    }
    let g = Graph(name: "gelu", nodes: nodes, inputs: [S.input("x", .float32, [3, 8])],
                  outputs: [S.output("y", .float32, [3, 8])], initializers: inits)
    let model = Model(graph: g, opsetImports: [OpsetImport(domain: "", version: 14)])
    let ops = try Driver.compile(model, options: CompileOptions(checkInvariants: true)).graph.nodes.map(\.opType)
    #expect(ops == ["MatMul"], "\(ops)")
    let x = Tensor.float32([3, 8], (0..<24).map { Float($0 - 12) / 3 })
    let mine = try #require(try S.runGraft(g, ["x": x], opset: 14).first?.tensor)
    let ref = try #require(try S.runReference(g, ["x": x], opset: 14).first?.tensor)
    let a = Agreement.measure(mine, ref)
    #expect(a.mismatch == nil && a.maxAbs <= 1e-4 * a.maxRef, "\(a)")
  }

  // MARK: - adapt-patch

  /// Every patch size 4/8/16 adapted to the two others: the adapted ONNX runs in onnxruntime
  /// and in Graft with equal outputs (1e-4 × max|ref|), with the expected token count.
  @Test(arguments: [("vit_p4.onnx", 8), ("vit_p4.onnx", 16), ("vit_p8.onnx", 4), ("vit_p8.onnx", 16),
                    ("vit_p16.onnx", 4), ("vit_p16.onnx", 8), ("vit_posfirst_p8.onnx", 4),
                    ("vit_posfirst_p8.onnx", 16), ("vit_linear_p8.onnx", 4), ("vit_linear_p8.onnx", 16),
                    ("vit_hd16_p8.onnx", 4), ("vit_hd16_p8.onnx", 16)])
  func adaptedModelRunsInOnnxruntimeAndGraft(_ file: String, _ patch: Int) throws {
    var model = try Self.load(file)
    let report = try PatchAdapt.adapt(&model.graph, file: file, opsets: model.opsetImports, patch: patch)
    let grid = 32 / patch
    #expect(report.newGrid == (grid, grid))
    #expect(report.newTokens == grid * grid + 1)
    let x = S.random([1, 3, 32, 32], seed: UInt64(patch))
    let (graft, ort) = try Self.bothRuns(model, ["image": x])
    #expect(ort.dims == [1, 10])
    let a = Agreement.measure(graft, ort)
    #expect(a.mismatch == nil && a.maxAbs <= 1e-4 * a.maxRef, "\(a)")
  }

  /// End to end PI-resize: the patch-4 model adapted to patch 8 at 64x64, fed an image whose
  /// every 8x8 patch is the (onnxruntime-resized) upsampling of the 4x4 patch of a 32x32
  /// image, gives the original model's logits on that 32x32 image (same 8x8 grid, so the
  /// position embedding is unchanged), in onnxruntime and in Graft.
  @Test func adaptedModelSeesUpsampledPatchesAsTheOriginalSawTheImage() throws {
    let original = try Self.load("vit_p4.onnx")
    var adapted = original
    let report = try PatchAdapt.adapt(&adapted.graph, file: "vit_p4.onnx", opsets: original.opsetImports,
                                      patch: 8, image: (64, 64))
    #expect(report.oldGrid == (8, 8) && report.newGrid == (8, 8))
    let small = S.random([1, 3, 32, 32], seed: 11)
    let sv = try #require(small.floats())
    // Cut into 4x4 patches as a batch [64·3 planes], upsample each with onnxruntime.
    var patches = [Float](repeating: 0, count: 64 * 3 * 16)
    for gy in 0..<8 { for gx in 0..<8 { for c in 0..<3 { for y in 0..<4 { for x in 0..<4 {
      patches[((gy * 8 + gx) * 3 + c) * 16 + y * 4 + x] = sv[c * 1024 + (gy * 4 + y) * 32 + gx * 4 + x]
    } } } } }
    let up = try #require(try Self.ortResize(Tensor.float32([64, 3, 4, 4], patches), to: [64, 3, 8, 8]).floats())
    var big = [Float](repeating: 0, count: 3 * 64 * 64)
    for gy in 0..<8 { for gx in 0..<8 { for c in 0..<3 { for y in 0..<8 { for x in 0..<8 {
      big[c * 4096 + (gy * 8 + y) * 64 + gx * 8 + x] = up[((gy * 8 + gx) * 3 + c) * 64 + y * 8 + x]
    } } } } }
    let path = Self.tempPath("onnx")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try ONNXExporter.write(original, to: path)
    let ref = try #require(try OnnxRuntimeReference.run(modelPath: path, inputs: ["image": small]).first?.tensor)
    let (graft, ort) = try Self.bothRuns(adapted, ["image": Tensor.float32([1, 3, 64, 64], big)])
    let a = Agreement.measure(ort, ref)
    #expect(a.mismatch == nil && a.maxAbs <= 1e-4 * a.maxRef, "adapted (ort) vs original: \(a)")
    let b = Agreement.measure(graft, ref)
    #expect(b.mismatch == nil && b.maxAbs <= 1e-4 * b.maxRef, "adapted (graft) vs original: \(b)")
  }

  /// The reshape + MatMul ("patchify") patch embedding is rewritten as a Conv: adapted to its
  /// own patch size the model computes what the original computes (onnxruntime on both).
  @Test func patchifyFormBecomesAConvWithTheSameOutputs() throws {
    let original = try Self.load("vit_linear_p8.onnx")
    var same = original
    let report = try PatchAdapt.adapt(&same.graph, file: "vit_linear_p8.onnx", opsets: original.opsetImports, patch: 8)
    #expect(report.newTokens == 17)
    #expect(same.graph.nodes.contains { $0.opType == "Conv" })
    let x = S.random([1, 3, 32, 32], seed: 8)
    let p1 = Self.tempPath("onnx"), p2 = Self.tempPath("onnx")
    defer {
      try? FileManager.default.removeItem(atPath: p1)
      try? FileManager.default.removeItem(atPath: p2)
    }
    try ONNXExporter.write(original, to: p1)
    try ONNXExporter.write(same, to: p2)
    let a = try #require(try OnnxRuntimeReference.run(modelPath: p1, inputs: ["image": x]).first?.tensor)
    let b = try #require(try OnnxRuntimeReference.run(modelPath: p2, inputs: ["image": x]).first?.tensor)
    let agree = Agreement.measure(b, a)
    #expect(agree.mismatch == nil && agree.maxAbs <= 1e-4 * agree.maxRef, "\(agree)")
  }

  // MARK: - CLI and bad input

  final class Captured: @unchecked Sendable {
    var out: [String] = []
    var err: [String] = []
  }

  static func graft(_ argv: [String]) -> (Int32, Captured) {
    let c = Captured()
    let console = Console(stdout: { c.out.append($0) }, stderr: { c.err.append($0) })
    return (CLI.run(argv, console: console), c)
  }

  @Test func cliWritesAnArchiveThatMatchesOnnxruntime() throws {
    let onnx = Self.tempPath("onnx"), archive = Self.tempPath("graft")
    defer {
      try? FileManager.default.removeItem(atPath: onnx)
      try? FileManager.default.removeItem(atPath: archive)
    }
    let src = Self.fixtures + "/vit_p8.onnx"
    let (rc1, c1) = Self.graft(["adapt-patch", src, "--patch", "16", "-o", onnx])
    #expect(rc1 == 0, "\(c1.err)")
    #expect(c1.out.contains("tokens: 17 -> 5"))
    let macs = c1.out.first(where: { $0.hasPrefix("MACs: ") })?.dropFirst(6).split(separator: " ")
    if let macs, macs.count == 3, let a = Int(macs[0]), let b = Int(macs[2]) { #expect(b < a) } else { Issue.record("no MACs line") }
    let (rc2, c2) = Self.graft(["adapt-patch", src, "--patch", "16", "--archive", archive])
    #expect(rc2 == 0, "\(c2.err)")
    let x = S.random([1, 3, 32, 32], seed: 3)
    let ort = try #require(try OnnxRuntimeReference.run(modelPath: onnx, inputs: ["image": x]).first?.tensor)
    let mine = try #require(try ArchiveRunner(path: archive).run(["image": x]).first?.tensor)
    let a = Agreement.measure(mine, ort)
    #expect(a.mismatch == nil && a.maxAbs <= 1e-4 * a.maxRef, "\(a)")
  }

  @Test(arguments: [
    ("bad_nopatch.onnx", ["--patch", "4"],
     "no patch embedding found (a Conv on the image with kernel = stride and no padding); found '/conv_2' kernel 3x3 stride 1x1"),
    ("vit_p8.onnx", ["--patch", "5"], "patch size 5 does not divide the image 32x32"),
    ("vit_p8.onnx", ["--patch", "8", "--image", "36x36"], "patch size 8 does not divide the image 36x36"),
    ("vit_p8.onnx", ["--patch", "1", "--image", "4096x4096"],
     "patch 1 on a 4096x4096 image gives a 4096x4096 grid; at most patch 1024 and 65536 tokens are supported"),
    ("bad_posemb.onnx", ["--patch", "4"],
     "node '/add_10' (Add): tensor 'pos_embed_9': position embedding has 15 tokens (not a square grid); the 4x4 patch grid needs 16 plus at most 16 prefix tokens"),
  ])
  func badInputIsOneLine(_ file: String, _ flags: [String], _ message: String) throws {
    let path = Self.fixtures + "/" + file
    let (rc, c) = Self.graft(["adapt-patch", path] + flags + ["-o", Self.tempPath("onnx")])
    #expect(rc == 1)
    #expect(c.err == ["\(path): \(message)"])
  }
}
