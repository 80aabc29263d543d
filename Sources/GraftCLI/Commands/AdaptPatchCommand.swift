import Foundation
import GraftBackend
import GraftIR
import GraftONNX
import GraftPasses

/// `graft adapt-patch vit.onnx --patch P [--image HxW] -o out.onnx|--archive out.graft`:
/// FlexiViT-style patch-size adaptation (`PatchAdapt`), written as ONNX or compiled.
enum AdaptPatchCommand: Command {
  static let name = "adapt-patch"
  static let summary = "change a ViT's patch size (PI-resize of the patch embedding, resized position embedding)"
  static let help = """
    usage: graft adapt-patch <vit.onnx> --patch P [--image HxW] [--method pi|bilinear|bilinear-area]
                             (-o out.onnx | --archive out.graft [--compress])

    Finds the patch embedding (a Conv on the image with kernel = stride and no padding),
    resizes its kernel to P x P with the pseudo-inverse resize (FlexiViT; defined against
    bilinear resizing with half-pixel centres and no antialias; exact when the patch grows,
    least squares when it shrinks), resizes the position-embedding grid bilinearly (prefix
    tokens such as the class token untouched), rewrites the token counts in Reshape/Expand
    shape constants, and checks the result by shape inference. Prints the old and new token
    counts and MACs. Always adapt from the original model: resizes do not chain losslessly.

    options:
      --patch P          the new patch size (square)
      --image HxW        the new input size (default: the model's)
      --method M         pi (default); bilinear (the kernel resized like an image: FlexiViT's
                         vanilla baseline) or bilinear-area (that, scaled by the area ratio);
                         the two bilinear methods are baselines for comparisons
      -o, --output FILE  write the adapted ONNX model
      --archive FILE     compile the adapted model and write a .graft archive instead
      --compress         with --archive: store the weights zlib-compressed

    exit codes: 0 written, 1 invalid input (no patch embedding, patch does not divide the
    image, position embedding not a grid plus prefix tokens) or I/O error, 2 usage error
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let output = try args.option("-o", "--output")
    let archive = try args.option("--archive")
    let compress = args.flag("--compress")
    guard let patch = try args.intOption("--patch") else { throw UsageError("missing --patch P") }
    guard patch >= 1 else { throw UsageError("--patch needs a positive size, got \(patch)") }
    var image: (h: Int, w: Int)?
    if let text = try args.option("--image") {
      let parts = text.split(separator: "x").compactMap { Int($0) }
      guard parts.count == 2, parts.allSatisfy({ $0 > 0 }) else { throw UsageError("--image needs HxW, e.g. 224x224, got '\(text)'") }
      image = (parts[0], parts[1])
    }
    let methodText = try args.option("--method") ?? "pi"
    guard let method = KernelResize(rawValue: methodText) else {
      throw UsageError("--method must be one of \(KernelResize.allCases.map(\.rawValue).joined(separator: ", ")), got '\(methodText)'")
    }
    let input = try args.positionals(exactly: 1, "input model")[0]
    guard (output == nil) != (archive == nil) else { throw UsageError("give exactly one of -o out.onnx and --archive out.graft") }

    var model = try ONNXImporter.load(path: input)
    let original = model
    let report = try PatchAdapt.adapt(&model.graph, file: input, opsets: model.opsetImports,
                                      patch: patch, image: image, method: method)
    let before = try macs(original, file: input)
    let after = try macs(model, file: input)
    for w in report.warnings { out.error("\(input): warning: \(w)") }
    out.print("patch embedding: '\(report.convNode)' \(report.oldPatch.h)x\(report.oldPatch.w) -> \(patch)x\(patch) (\(method == .piResize ? "PI-resize" : method.rawValue))")
    out.print("image: \(report.oldImage.h)x\(report.oldImage.w) -> \(report.newImage.h)x\(report.newImage.w)")
    out.print("grid: \(report.oldGrid.h)x\(report.oldGrid.w) -> \(report.newGrid.h)x\(report.newGrid.w), prefix tokens \(report.prefixTokens)")
    out.print("tokens: \(report.oldTokens) -> \(report.newTokens)")
    out.print("MACs: \(before) -> \(after)")
    if let p = report.posEmbedding { out.print("position embedding: '\(p)' resized") }
    if !report.rewrittenConstants.isEmpty {
      out.print("shape constants rewritten: " + report.rewrittenConstants.joined(separator: ", "))
    }
    if let output {
      try ONNXExporter.write(model, to: output)
      out.print("wrote \(output)")
    } else if let archive {
      let result = try Driver.compile(model)
      try ArchiveWriter.write(result.compiled, to: archive, compress: compress)
      CompileFlags.summary(result.compiled, &out)
      out.print("wrote \(archive)")
    }
  }

  /// Multiply-accumulates at the model's input shapes (batch 1 where symbolic).
  static func macs(_ model: Model, file: String) throws -> Int {
    var graph = model.graph
    var shapes: [String: [Int]] = [:]
    for i in graph.runtimeInputs {
      if let s = i.type?.shape, s.concrete == nil, s.dropFirst().allSatisfy({ $0.value != nil }) {
        shapes[i.name] = [1] + s.dropFirst().compactMap(\.value)
      }
    }
    var context = PassContext(file: file, opsets: model.opsetImports, inputShapes: shapes)
    _ = try Canonicalize().run(&graph, &context)
    _ = try inferShapesAndFoldIfs(&graph, &context)
    var stats = ModelStatistics()
    stats.countMACs(graph)
    return stats.macs
  }
}
