import Foundation
import GraftBackend
import GraftIR
import GraftONNX

/// `graft check model.onnx`: compiles in memory, runs the archive through the C runtime and the
/// original model through onnxruntime on the same inputs, and compares.
enum CheckCommand: Command {
  static let name = "check"
  static let summary = "compare Graft's results with onnxruntime's on the same inputs"
  static let help = """
    usage: graft check <model.onnx> [--input NAME=FILE.npy ...] [--input-shape NAME=DIMS ...]
                       [--bind NAME=VALUE|NAME=FILE.npy ...] [--rtol 1e-4] [--atol 1e-6] [--seed 1]

    Compiles the model to an archive in memory, runs it with the C runtime, runs the original
    model with onnxruntime (.venv/bin/python scripts/ort_check.py) on the same inputs — random
    ones from a fixed seed for inputs not given — and prints, per output, the max abs error, the
    max elementwise relative error and the cosine similarity. An output passes when
    max|graft - ort| <= max(atol, rtol * max|ort|). The default atol covers outputs that are all
    near 0 (onnxruntime's own optimized and unoptimized runs differ by ~1e-7 there). Bound
    inputs are fed to onnxruntime too.

    exit codes: 0 every output within tolerance, 1 over tolerance, invalid input, or
    onnxruntime/Python missing (never a silent pass), 2 usage error, 3 unsupported model
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let inputItems = try args.options("--input")
    let rtolText = try args.option("--rtol") ?? "1e-4"
    let atolText = try args.option("--atol") ?? "1e-6"
    let seed = try args.intOption("--seed") ?? 1
    guard let rtol = Double(rtolText), rtol >= 0 else { throw UsageError("--rtol needs a number, got '\(rtolText)'") }
    guard let atol = Double(atolText), atol >= 0 else { throw UsageError("--atol needs a number, got '\(atolText)'") }
    var options = try CompileFlags.parse(&args)
    let path = try args.positionals(exactly: 1, "input model")[0]
    let model = try ONNXImporter.load(path: path)
    var given: [String: Tensor] = [:]
    for item in inputItems {
      let (name, file) = try CompileFlags.split(item, "--input")
      given[name] = try Npy.read(path: file)
    }
    // Given inputs fix the shapes of symbolic dims unless --input-shape says otherwise.
    for (name, t) in given where options.inputShapes[name] == nil && options.bindings[name] == nil {
      options.inputShapes[name] = t.dims
    }
    let result = try Driver.compile(model, options: options)
    let compiled = result.compiled
    CompileFlags.summary(compiled, &out)
    let archive = try ArchiveWriter.encode(compiled, file: path)
    let runner = try ArchiveRunner(bytes: archive, file: path)
    var rng = SeededRandom(seed: UInt64(seed))
    var feeds: [String: Tensor] = [:]
    for info in runner.inputs {
      if let t = given[info.name] {
        feeds[info.name] = t
      } else if let t = rng.tensor(info.type) {
        feeds[info.name] = t
      } else {
        throw GraftError(.unsupported, at: Location(file: path, tensor: info.name),
                         "cannot make a random \(info.type) input; pass --input \(info.name)=FILE.npy")
      }
    }
    let graftOut = try runner.run(feeds)
    var ortFeeds = feeds
    for (name, t) in options.bindings { ortFeeds[name] = t }
    let ortOut = try OnnxRuntimeReference.run(modelPath: path, inputs: ortFeeds)
    var failed = false
    for (name, mine) in graftOut {
      guard let ref = ortOut.first(where: { $0.name == name })?.tensor else {
        out.print("\(name): onnxruntime has no output with this name")
        failed = true
        continue
      }
      let a = Agreement.measure(mine, ref)
      let ok = a.mismatch == nil && a.maxAbs <= max(atol, rtol * a.maxRef)
      failed = failed || !ok
      out.print("\(name): \(a) \(ok ? "ok" : "OVER TOLERANCE (rtol \(rtol), atol \(atol))")")
    }
    if failed { throw ExitRequest(.failure) }
  }
}
