import Foundation
import GraftBackend
import GraftIR

/// `graft run model.graft --input NAME=x.npy --output-dir out/`: runs an archive through the C
/// runtime and writes one `.npy` per output.
enum RunCommand: Command {
  static let name = "run"
  static let summary = "run a .graft archive on .npy inputs"
  static let help = """
    usage: graft run <model.graft> --input NAME=FILE.npy ... --output-dir DIR

    Opens the archive with the C runtime (every offset, CRC and kernel check validated), runs
    it once and writes DIR/<output name>.npy for each output (characters other than letters,
    digits, '.', '-' and '_' become '_'; a name that collides gets '_K', K = output index). A model with one input also accepts --input FILE.npy.

    options:
      --input NAME=FILE.npy   a model input (repeat for each)
      --output-dir DIR        where to write the outputs (created if missing)

    exit codes: 0 ran, 1 invalid archive or inputs, run failure or I/O error, 2 usage error,
    3 the archive needs a kernel this runtime does not have
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let inputs = try args.options("--input")
    guard let outDir = try args.option("--output-dir") else { throw UsageError("missing --output-dir DIR") }
    let path = try args.positionals(exactly: 1, "archive")[0]
    let runner = try ArchiveRunner(path: path)
    var values: [String: Tensor] = [:]
    for item in inputs {
      if let eq = item.lastIndex(of: "="), eq != item.startIndex {
        values[String(item[..<eq])] = try Npy.read(path: String(item[item.index(after: eq)...]))
      } else if runner.inputs.count == 1 {
        values[runner.inputs[0].name] = try Npy.read(path: item)
      } else {
        throw UsageError("--input needs NAME=FILE.npy when the model has \(runner.inputs.count) inputs")
      }
    }
    let results = try runner.run(values)
    try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
    var used = Set<String>()
    for (k, (name, t)) in results.enumerated() {
      var base = sanitize(name)
      if !used.insert(base).inserted {
        base += "_\(k)"
        used.insert(base)
      }
      let file = (outDir as NSString).appendingPathComponent(base + ".npy")
      try Npy.write(t, path: file)
      out.print("\(name): \(t.type) -> \(file)")
    }
  }

  /// A file name for an output name: letters, digits, '.', '-', '_' kept, the rest '_'.
  static func sanitize(_ name: String) -> String {
    var s = String(name.unicodeScalars.map { c -> Character in
      (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || c == "." || c == "-" || c == "_"
        ? Character(c) : "_"
    })
    if s.isEmpty || s.hasPrefix(".") { s = "_" + s }
    return s
  }
}
