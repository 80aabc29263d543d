import Foundation
import GraftBackend
import GraftIR
import GraftONNX
import GraftTransplant

/// `graft transplant --from source.onnx --into target.onnx -o out.onnx`: fills the target's
/// parameters from a trained source of another architecture (DPIAT-style matching, centred
/// crop/paste, analytic init of the rest). Refuses to write a model whose outputs are not all
/// finite on a random input (run with the C runtime, or onnxruntime when the back end cannot
/// compile the model; see `FiniteCheck`).
enum TransplantCommand: Command {
  static let name = "transplant"
  static let summary = "fill a target model's weights from a trained model of another architecture"
  static let help = """
    usage: graft transplant (--from SOURCE.onnx | --from-best DIR) --into TARGET.onnx -o OUT.onnx
                            [--report transfer.json] [--init keep|analytic] [--seed N] [--no-check]
           graft transplant --into TARGET.onnx -o OUT.onnx [--seed N]   (analytic init only)

    Splits both graphs into layers and blocks (blocks between residual Add/Concat joins,
    exporter name scopes as a hint), matches them with DPIAT's dynamic program, copies every
    matched tensor with a centred crop/paste per axis (weights, biases, BatchNorm scale, shift
    and running statistics) and initializes what the source cannot fill. The output has the
    target's graph, names, shapes and dtypes; only values change. Prints which source layer
    filled which target layer and the fraction of parameters copied.

    options:
      --from FILE          the trained source model
      --from-best DIR      use the *.onnx in DIR most similar to the target (see 'graft similarity');
                           without --from or --from-best, every layer gets the analytic init
      --into FILE          the target model (its own values are kept where nothing else applies)
      -o, --output FILE    where to write the ONNX model (written atomically)
      --report FILE        also write the report as JSON
      --init MODE          'analytic' (default): signal-preserving init of unfilled entries from
                           propagated mean and variance; 'keep': keep the target's own values
      --seed N             seed of the analytic init's random draws (default 0)
      --no-check           skip the NaN/Inf check of the outputs on a random normal input (run with
                           Graft's C runtime; when the back end cannot compile the model, with
                           onnxruntime through Python: $GRAFT_PYTHON, ./.venv/bin/python or python3)

    exit codes: 0 written, 1 invalid input, non-finite output or I/O error, 2 usage error
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let from = try args.option("--from")
    let fromBest = try args.option("--from-best")
    let into = try args.option("--into")
    let output = try args.option("-o", "--output")
    let reportPath = try args.option("--report")
    let initName = try args.option("--init") ?? "analytic"
    let seed = try args.option("--seed")
    let noCheck = args.flag("--no-check")
    _ = try args.positionals(exactly: 0, "nothing")
    if from != nil && fromBest != nil { throw UsageError("give either --from or --from-best, not both") }
    guard let into else { throw UsageError("missing target (--into FILE)") }
    guard let output else { throw UsageError("missing output file (-o out.onnx)") }
    guard let mode = InitMode(rawValue: initName) else {
      throw UsageError("option '--init' needs 'keep' or 'analytic', got '\(initName)'")
    }
    var seedValue: UInt64 = 0
    if let seed {
      guard let s = UInt64(seed) else { throw UsageError("option '--seed' needs a non-negative integer, got '\(seed)'") }
      seedValue = s
    }
    let target = try ONNXImporter.load(path: into)
    var sourcePath: String? = from
    if let fromBest {
      let ranked = try SimilarityCommand.rank(target: target, targetPath: into, candidates: try onnxFiles(in: fromBest))
      guard let best = ranked.first else {
        throw GraftError(.invalid, at: Location(file: fromBest), "no candidate source model (*.onnx with parametric layers) in this folder")
      }
      out.print(String(format: "best source: %@ (similarity %.4f of %d candidates)", best.path, best.similarity.value, ranked.count))
      sourcePath = best.path
    }
    let result: TransplantResult
    if let sourcePath {
      let source = try ONNXImporter.load(path: sourcePath)
      let options = TransplantOptions(initMode: mode, seed: seedValue, sourceFile: sourcePath, targetFile: into)
      result = try Transplant.run(source: source, target: target, options: options)
    } else {
      guard mode == .analytic else {
        throw UsageError("missing source (--from FILE or --from-best DIR); without one only '--init analytic' applies")
      }
      result = try Transplant.initialize(target: target, options: TransplantOptions(seed: seedValue, targetFile: into))
    }
    let bytes = try ONNXExporter.encode(result.model)
    var checkedWith: String? = nil
    if !noCheck {
      var m = result.model
      m.path = output
      checkedWith = try FiniteCheck.run(model: m, modelBytes: bytes, file: output, seed: seedValue)
    }
    try bytes.withUnsafeBytes { try writeFileAtomically(output, bytes: $0) }
    if let reportPath {
      let json = Array(result.report.json.utf8)
      try json.withUnsafeBytes { try writeFileAtomically(reportPath, bytes: $0) }
    }
    out.print(result.report.text)
    if let checkedWith { out.print("outputs finite on a random normal input (\(checkedWith))") }
  }

  /// `*.onnx` files directly in `dir`, sorted by name.
  static func onnxFiles(in dir: String) throws -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
      throw GraftError(.io, at: Location(file: dir), "cannot list folder")
    }
    return names.filter { $0.hasSuffix(".onnx") }.sorted().map { (dir as NSString).appendingPathComponent($0) }
  }
}

/// Runs a model once on a seeded random normal input and fails unless every output is finite.
/// The C runtime runs it (compiled in memory, symbolic input dims bound to 1); when the back
/// end cannot compile or run the model, onnxruntime does, through Python. Never silently skips:
/// without a usable Python in that case it fails, naming both causes.
enum FiniteCheck {
  /// Returns which engine ran the check.
  static func run(model: Model, modelBytes: [UInt8], file: String, seed: UInt64) throws -> String {
    let runtimeFailure: String
    do {
      if try runtimeOutputsFinite(model, seed: seed) { return "C runtime" }
      throw GraftError(.invalid, at: Location(file: file),
                       "transplanted model is not finite on a random input (C runtime); output not written")
    } catch let e as GraftError where e.message.hasPrefix("transplanted model is not finite") {
      throw e
    } catch {
      runtimeFailure = "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
    }
    try runOnnxruntime(modelBytes: modelBytes, file: file, seed: seed, why: runtimeFailure)
    return "onnxruntime; the C runtime could not run it: \(runtimeFailure)"
  }

  /// Compiles and runs `model` with the C runtime; true when every float output is finite.
  static func runtimeOutputsFinite(_ model: Model, seed: UInt64) throws -> Bool {
    var options = CompileOptions()
    for input in model.graph.runtimeInputs {
      if let shape = input.type?.shape, shape.concrete == nil {
        options.inputShapes[input.name] = shape.map { $0.value ?? 1 }
      }
    }
    let compiled = try Driver.compile(model, options: options).compiled
    let archive = try ArchiveWriter.encode(compiled, file: model.path)
    let runner = try ArchiveRunner(bytes: archive, file: model.path)
    var rng = SplitMix64(seed: seed)
    var feeds: [String: Tensor] = [:]
    for info in runner.inputs {
      guard let dims = info.type.shape?.concrete else {
        throw GraftError(.unsupported, at: Location(file: model.path, tensor: info.name), "input shape is not concrete")
      }
      let n = elementCount(dims)
      switch info.type.dtype {
      case .float32: feeds[info.name] = .float32(dims, (0..<n).map { _ in Float(rng.normal()) })
      case .int64: feeds[info.name] = .int64(dims, Array(repeating: 0, count: n))
      default:
        throw GraftError(.unsupported, at: Location(file: model.path, tensor: info.name),
                         "no random input of type \(info.type.dtype)")
      }
    }
    for (_, t) in try runner.run(feeds) where t.dtype.isFloat {
      guard let v = t.floats(), v.allSatisfy(\.isFinite) else { return false }
    }
    return true
  }

  static let script = """
    import sys, numpy as np, onnxruntime as ort
    sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(int(sys.argv[2]))
    types = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
             "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}
    feeds = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        dt = types.get(i.type, np.float32)
        feeds[i.name] = (rng.standard_normal(shape).astype(dt) if np.issubdtype(dt, np.floating)
                         else np.zeros(shape, dtype=dt))
    for o, v in zip(sess.get_outputs(), sess.run(None, feeds)):
        v = np.asarray(v)
        if np.issubdtype(v.dtype, np.floating) and not np.isfinite(v).all():
            print("output '%s' has %d non-finite values" % (o.name, int((~np.isfinite(v)).sum())))
            sys.exit(3)
    print("ok")
    """

  static func python() -> String? {
    let env = ProcessInfo.processInfo.environment
    var candidates: [String] = []
    if let p = env["GRAFT_PYTHON"], !p.isEmpty { candidates.append(p) }
    candidates.append(FileManager.default.currentDirectoryPath + "/.venv/bin/python")
    for dir in (env["PATH"] ?? "/usr/bin").split(separator: ":") { candidates.append("\(dir)/python3") }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  static func runOnnxruntime(modelBytes: [UInt8], file: String, seed: UInt64, why: String) throws {
    guard let py = python() else {
      throw GraftError(.io, at: Location(file: file),
                       "cannot check outputs for NaN/Inf: the C runtime cannot run the model (\(why)) and no python was found (set GRAFT_PYTHON to a python with onnxruntime, or pass --no-check)")
    }
    let tmp = NSTemporaryDirectory() + "graft-transplant-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).onnx"
    guard FileManager.default.createFile(atPath: tmp, contents: Data(modelBytes)) else {
      throw GraftError(.io, at: Location(file: tmp), "cannot write temporary model for the NaN/Inf check")
    }
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: py)
    p.arguments = ["-c", script, tmp, String(seed)]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch {
      throw GraftError(.io, at: Location(file: file), "cannot check outputs for NaN/Inf: cannot start \(py)")
    }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let last = text.split(separator: "\n").last.map(String.init) ?? ""
    switch p.terminationStatus {
    case 0: return
    case 3:
      throw GraftError(.invalid, at: Location(file: file), "transplanted model is not finite on a random input: \(last); output not written")
    default:
      throw GraftError(.io, at: Location(file: file),
                       "cannot check outputs for NaN/Inf: the C runtime cannot run the model (\(why)) and \(py) failed: \(last) (needs numpy and onnxruntime; set GRAFT_PYTHON or pass --no-check)")
    }
  }
}
