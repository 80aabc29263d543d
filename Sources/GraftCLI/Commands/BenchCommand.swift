import Foundation
import GraftBackend
import GraftIR

/// `graft bench model.graft [--runs N] [--per-layer]`: in-process latency through the C runtime.
enum BenchCommand: Command {
  static let name = "bench"
  static let summary = "measure a .graft archive's latency in-process (median over runs, per layer)"
  static let help = """
    usage: graft bench <model.graft> [--runs N] [--warmup W] [--per-layer] [--input NAME=FILE.npy ...]

    Opens the archive once, then times graft_session_run alone (monotonic clock, no process
    start, no allocation) over N runs after W warm-up runs, restoring the inputs before each
    run. Prints the open time, the median, min and max, and GFLOP/s (2 x the conv/gemm/matmul
    multiply-accumulates, from the archive's shapes). Inputs default to zeros. With
    --per-layer also prints each node's median time (runtime observer; the sum exceeds the
    plain median by one clock read per node) and a total per kernel.

    options:
      --runs N                timed runs (default 10)
      --warmup W              untimed runs first (default 1)
      --per-layer             per-node and per-kernel times
      --input NAME=FILE.npy   a model input (repeat for each; FILE.npy alone for one input)

    output lines (stable, for scripts): 'median_ms: X', 'min_ms: X', 'open_ms: X', 'gflops: X'
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    let runs = try args.intOption("--runs") ?? 10
    let warmup = try args.intOption("--warmup") ?? 1
    guard runs >= 1, runs <= 1_000_000 else { throw UsageError("--runs must be 1 or more") }
    guard warmup >= 0, warmup <= 1_000_000 else { throw UsageError("--warmup must be 0 or more") }
    let perLayer = args.flag("--per-layer")
    let inputs = try args.options("--input")
    let path = try args.positionals(exactly: 1, "archive")[0]
    let bench = try ArchiveBench(path: path)
    for item in inputs {
      if let eq = item.lastIndex(of: "="), eq != item.startIndex {
        try bench.setInput(String(item[..<eq]), try Npy.read(path: String(item[item.index(after: eq)...])))
      } else if bench.inputNames.count == 1 {
        try bench.setInput(bench.inputNames[0], try Npy.read(path: item))
      } else {
        throw UsageError("--input needs NAME=FILE.npy when the model has \(bench.inputNames.count) inputs")
      }
    }
    let a = bench.archive
    let macs = a.nodes.indices.reduce(Int64(0)) { $0 + a.macs(node: $1) }
    let times = try bench.time(runs: runs, warmup: warmup)
    let med = ArchiveBench.median(times)
    out.print("model: \(path): \(a.nodes.count) nodes, arena \(a.arenaBytes) bytes, weights \(a.weightBytes) bytes")
    out.print("open_ms: " + fmt(bench.openMs))
    out.print("runs: \(runs) (after \(warmup) warm-up)")
    out.print("median_ms: " + fmt(med))
    out.print("min_ms: " + fmt(times.min() ?? 0))
    out.print("max_ms: " + fmt(times.max() ?? 0))
    out.print("macs: \(macs)")
    out.print("gflops: " + String(format: "%.2f", med > 0 ? 2 * Double(macs) / (med * 1e6) : 0))
    guard perLayer else { return }
    let per = try bench.perNode(runs: runs)
    let total = per.reduce(0, +)
    out.print("")
    out.print("per layer (median ms over \(runs) runs; sum \(fmt(total)) ms):")
    out.print("  node  kernel                ms        %   GFLOP/s  name")
    for (i, n) in a.nodes.enumerated() {
      let k = kernelName(n.kernel)
      let m = a.macs(node: i)
      let g = m > 0 && per[i] > 0 ? String(format: "%9.2f", 2 * Double(m) / (per[i] * 1e6)) : "        -"
      out.print(String(format: "  %4d  ", i) + pad(k, 18)
                + String(format: " %9.4f %6.2f ", per[i], total > 0 ? 100 * per[i] / total : 0) + g + "  " + n.name
                + shapeNote(a, i))
    }
    var byKernel: [String: (ms: Double, count: Int, macs: Int64)] = [:]
    for (i, n) in a.nodes.enumerated() {
      let k = kernelName(n.kernel)
      let cur = byKernel[k] ?? (0, 0, 0)
      byKernel[k] = (cur.ms + per[i], cur.count + 1, cur.macs + a.macs(node: i))
    }
    out.print("")
    out.print("per kernel:")
    for (k, v) in byKernel.sorted(by: { $0.value.ms > $1.value.ms }) {
      let g = v.macs > 0 && v.ms > 0 ? String(format: "  %.2f GFLOP/s", 2 * Double(v.macs) / (v.ms * 1e6)) : ""
      out.print("  " + pad(k, 18)
                + String(format: " %4d nodes %9.3f ms %6.2f%%", v.count, v.ms, total > 0 ? 100 * v.ms / total : 0) + g)
    }
  }

  /// " [out 1x64x56x56 w 64x64x3x3 s2 g1]" for contractions, "" for the rest.
  static func shapeNote(_ a: DeployArchive, _ i: Int) -> String {
    let n = a.nodes[i]
    guard a.macs(node: i) > 0, let o = n.outputs.first, o >= 0, n.inputs.count > 1, n.inputs[1] >= 0 else { return "" }
    func d(_ t: Int32) -> String { a.tensors[Int(t)].dims.map(String.init).joined(separator: "x") }
    var s = " [out \(d(o)) w \(d(n.inputs[1]))"
    if let st = n.attrs.first(where: { $0.key == 4 })?.ints, st.contains(where: { $0 != 1 }) { s += " s\(st[0])" }
    if let g = n.attrs.first(where: { $0.key == 7 })?.ints.first, g != 1 { s += " g\(g)" }
    return s + "]"
  }

  static func pad(_ s: String, _ w: Int) -> String {
    s.count >= w ? s : s + String(repeating: " ", count: w - s.count)
  }

  static func fmt(_ x: Double) -> String { String(format: "%.4f", x) }

  static func kernelName(_ id: UInt32) -> String {
    (try? KernelConfig.entries([id]).first?.name) ?? "kernel\(id)"
  }
}
