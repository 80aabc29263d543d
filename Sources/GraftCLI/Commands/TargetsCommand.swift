import GraftBackend

/// `graft targets`: the board targets of `graft build`, from the one target table.
enum TargetsCommand: Command {
  static let name = "targets"
  static let summary = "list the board targets of 'graft build'"
  static let help = """
    usage: graft targets

    Lists every target: name, C compiler, flags, SIMD width, the cache sizes tiling assumes,
    and the emulator that runs its binaries on an x86-64 host.
    """

  static func run(_ args: inout Arguments, _ out: inout Console) throws {
    _ = try args.positionals(exactly: 0, "nothing")
    let w = DeployTarget.all.map(\.name.count).max() ?? 0
    for t in DeployTarget.all {
      let pad = String(repeating: " ", count: w - t.name.count + 2)
      out.print(t.name + pad + t.summary)
      out.print(String(repeating: " ", count: w + 2)
                + "compiler \(t.cc) \(t.cflags.joined(separator: " ")); simd \(t.vectorBits) bits; "
                + "L1d \(t.l1DataBytes >> 10) KB, L2 \(t.l2Bytes >> 10) KB"
                + (t.emulator.isEmpty ? "" : "; runs here under \(t.emulator)"))
    }
  }
}
