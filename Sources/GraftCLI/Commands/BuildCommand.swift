import Foundation
import GraftBackend
import GraftIR
import GraftONNX

/// `graft build model.onnx --target T -o dist/`: a board bundle (archive, trimmed runtime
/// sources with the model's kernel list, Makefile, sample program, README).
enum BuildCommand: Command {
  static let name = "build"
  static let summary = "compile a model and write a board bundle (trimmed runtime, Makefile, sample)"
  static let help = """
    usage: graft build <model.onnx|model.graft> --target T -o DIR [--input-shape NAME=DIMS ...]
                       [--bind NAME=VALUE ...] [--compress] [--sources GRAFT_DIR]

    Compiles the model (as 'graft compile'; a .graft input is used as is), then writes DIR/:
    model.graft; graft_config.h, the GRAFT_KERNEL_KEEP list of the kernels the model uses; runtime/
    (the C runtime sources, the target's kernels laid over the reference ones); graft_run.c,
    the sample program; a Makefile that builds the trimmed libgraft.a and a static graft_run
    with the target's compiler; README.md. 'graft targets' lists the targets.

    options:
      --target T               x86_64, x86_64-avx512, aarch64, armv7 or generic
      -o, --output DIR         the bundle folder (created if missing)
      --input-shape NAME=DIMS  bind an input's shape (as for compile)
      --bind NAME=VALUE        fix an input to a constant (as for compile)
      --compress               store the weights zlib-compressed
      --sources GRAFT_DIR      the Graft source tree to copy the runtime from (default:
                               $GRAFT_HOME, else the tree graft was built from)

    exit codes: 0 written, 1 invalid input or I/O error, 2 usage error,
    3 the model uses something Graft does not support
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    guard let targetName = try args.option("--target") else {
      throw UsageError("missing --target (one of \(DeployTarget.all.map(\.name).joined(separator: ", ")))")
    }
    guard let target = DeployTarget.named(targetName) else {
      throw UsageError("unknown target '\(targetName)'; targets are \(DeployTarget.all.map(\.name).joined(separator: ", "))")
    }
    let output = try args.option("-o", "--output")
    let compress = args.flag("--compress")
    let sourcesFlag = try args.option("--sources")
    let options = try CompileFlags.parse(&args)
    let input = try args.positionals(exactly: 1, "input model")[0]
    guard let output else { throw UsageError("missing output folder (-o DIR)") }
    guard let sources = DeployBundle.locateSources(sourcesFlag) else {
      throw GraftError(.io, at: Location(file: sourcesFlag ?? "GRAFT_HOME"),
                       "no Graft source tree (runtime/include/graft.h) found; pass --sources GRAFT_DIR")
    }
    do {
      try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
    } catch {
      throw GraftError(.io, at: Location(file: output), "cannot create folder")
    }
    let archivePath = output + "/model.graft"
    if input.hasSuffix(".graft") {
      guard let data = FileManager.default.contents(atPath: input) else {
        throw GraftError(.io, at: Location(file: input), "cannot read archive")
      }
      try data.withUnsafeBytes { try writeFileAtomically(archivePath, bytes: $0) }
    } else {
      let model = try ONNXImporter.load(path: input)
      let console = out
      let result = try Driver.compile(model, options: options, dump: { console.print($0) })
      try ArchiveWriter.write(result.compiled, to: archivePath, compress: compress)
      CompileFlags.summary(result.compiled, &out)
    }
    let archive = try DeployArchive(path: archivePath)
    let kernels = try KernelConfig.entries(archive.kernelIds, file: archivePath)
    let modelName = ((input as NSString).lastPathComponent as NSString).deletingPathExtension
    let written = try DeployBundle.write(archive: archivePath, modelName: modelName, kernels: kernels,
                                         target: target, sources: sources, to: output)
    out.print("target: \(target.name) (\(target.cc) \(target.cflags.joined(separator: " ")))")
    out.print("kernels: \(kernels.count): \(kernels.map(\.name).joined(separator: ", "))")
    out.print("wrote \(output)/: \(written.count) files; build with: make -C \(output)")
  }
}
