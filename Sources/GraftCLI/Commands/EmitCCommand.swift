import Foundation
import GraftBackend
import GraftIR

/// `graft emit-c model.graft -o model.c`: the model as straight-line C plus a weights blob.
enum EmitCCommand: Command {
  static let name = "emit-c"
  static let summary = "write a .graft archive as one C file (straight-line kernel calls) and a weights blob"
  static let help = """
    usage: graft emit-c <model.graft> -o <NAME.c>

    Validates the archive with the C runtime, then writes next to NAME.c:
      NAME.c            graft_NAME_run(arena, weights): one graft_<kernel>_eval call per node
      NAME.h            GRAFT_NAME_ARENA_BYTES, GRAFT_NAME_WEIGHTS_BYTES, input/output arena
                        offsets and sizes, the declarations
      NAME.weights.bin  the raw weights (never decimal text)
      NAME.weights.S    the blob graft_NAME_weights via .incbin (assemble with -I to the folder)
    NAME is the file name made a C identifier. Build: cc -c NAME.c NAME.weights.S with
    -I runtime/include, link with libgraft.a and -Wl,--gc-sections (only the called kernels stay).

    exit codes: 0 written, 1 invalid archive or I/O error, 2 usage error,
    3 the archive uses something emit-c does not support (quantized tensors)
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    guard let output = try args.option("-o", "--output") else { throw UsageError("missing output file (-o model.c)") }
    let input = try args.positionals(exactly: 1, "archive")[0]
    guard output.hasSuffix(".c") else { throw UsageError("output must end in .c, got '\(output)'") }
    let archive = try DeployArchive(path: input)
    let base = ((output as NSString).lastPathComponent as NSString).deletingPathExtension
    let emitted = try CEmitter.emit(archive, identifier: CEmitter.identifier(base))
    let paths = try CEmitter.write(emitted, cPath: output)
    out.print("nodes: \(archive.nodes.count); arena: \(archive.arenaBytes) bytes; weights: \(archive.weights.count) bytes")
    for p in paths { out.print("wrote \(p)") }
  }
}
