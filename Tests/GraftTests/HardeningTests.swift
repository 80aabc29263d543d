// Hardening (issue 9): resource limits on hostile input, fuzzer fail cases, atomic outputs
// under faults (SIGKILL mid-write, full disk, read-only folder) and deterministic output.
// Hostile inputs are written by hand (ProtoWriter, byte patches of a real archive); expected
// messages are the exact one-line errors.
import Foundation
import GraftBackend
import GraftCLI
import GraftIR
import GraftONNX
import GraftPasses
import GraftTestSupport
import Testing

// MARK: - Helpers

enum Hardening {
  /// The `graft` binary the subprocess tests run: $GRAFT_BIN, else the debug build.
  static var graftBinary: String? {
    let p = ProcessInfo.processInfo.environment["GRAFT_BIN"] ?? (repoRoot + "/.build/debug/graft")
    return FileManager.default.isExecutableFile(atPath: p) ? p : nil
  }

  static func tempDir(_ tag: String) throws -> String {
    let d = FileManager.default.temporaryDirectory
      .appendingPathComponent("graft-harden-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d.path
  }

  /// The one-line error of importing `bytes` as "m.onnx", or nil when it imports.
  static func importError(_ bytes: [UInt8], limits: ImportLimits = .init()) -> String? {
    do {
      _ = try ONNXImporter.decode(bytes: bytes, path: "m.onnx", limits: limits)
      return nil
    } catch {
      return "\(error)"
    }
  }

  /// x[2,3] -> `count` Relus in a chain -> y.
  static func reluChain(_ count: Int) -> [UInt8] {
    let nodes = (0..<count).map { k in
      OnnxWire.node("Relu", [k == 0 ? "x" : "t\(k)"], [k == count - 1 ? "y" : "t\(k + 1)"], name: "relu\(k)")
    }
    return OnnxWire.model(OnnxWire.graph(nodes: nodes, inputs: [OnnxWire.value("x", dims: [2, 3])],
                                         outputs: [OnnxWire.value("y", dims: [2, 3])]))
  }

  /// If nodes nested `depth` deep (each then_branch holds the next If).
  static func nestedIf(_ depth: Int) -> [UInt8] {
    var g = OnnxWire.graph(nodes: [OnnxWire.node("Identity", ["x"], ["y0"], name: "leaf")], inputs: [],
                           outputs: [OnnxWire.value("y0", dims: [2, 3])])
    for k in 0..<depth {
      let attr = OnnxWire.attribute("then_branch", type: 5) { $0.message(6, g) }
      g = OnnxWire.graph(nodes: [OnnxWire.node("If", ["c"], ["y\(k + 1)"], name: "if\(k)", attributes: [attr])],
                         inputs: [], outputs: [OnnxWire.value("y\(k + 1)", dims: [2, 3])])
    }
    return OnnxWire.model(g)
  }

  /// Local functions f0 ... f(levels-1) in domain "local": f0 is one Relu, every other level
  /// calls the level below twice; the graph calls the top one. Inlined: 2^(levels-1) nodes
  /// from a file of a few KB.
  static func functionBomb(levels: Int) -> [UInt8] {
    var m = ProtoWriter()
    m.int(1, 8)
    m.message(7, OnnxWire.graph(nodes: [OnnxWire.node("f\(levels - 1)", ["x"], ["y"], name: "call", domain: "local")],
                                inputs: [OnnxWire.value("x", dims: [2, 3])], outputs: [OnnxWire.value("y", dims: [2, 3])]))
    m.message(8) { o in o.string(1, ""); o.int(2, 17) }
    m.message(8) { o in o.string(1, "local"); o.int(2, 1) }
    for k in 0..<levels {
      m.message(25) { f in
        f.string(1, "f\(k)")
        f.string(4, "a")
        f.string(5, "b")
        if k == 0 {
          f.message(7, OnnxWire.node("Relu", ["a"], ["b"], name: "r"))
        } else {
          f.message(7, OnnxWire.node("f\(k - 1)", ["a"], ["m"], name: "lo", domain: "local"))
          f.message(7, OnnxWire.node("f\(k - 1)", ["m"], ["b"], name: "hi", domain: "local"))
        }
        f.message(9) { o in o.string(1, ""); o.int(2, 17) }
        f.message(9) { o in o.string(1, "local"); o.int(2, 1) }
        f.string(10, "local")
      }
    }
    return m.bytes
  }

  /// A small compiled archive (conv, relu, reshape, gemm, softmax; about 9 KB of weights).
  static func smallArchive(compress: Bool) throws -> [UInt8] {
    let model = Model(graph: BackendTests.smallNet(), opsetImports: [OpsetImport(domain: "", version: 17)])
    let compiled = try Driver.compile(model, options: CompileOptions()).compiled
    return try ArchiveWriter.encode(compiled, compress: compress)
  }

  /// Byte offset of the section-table entry of `kind` (formats/ARCHIVE.md), or nil.
  static func sectionEntry(_ a: [UInt8], kind: UInt32) -> Int? {
    func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(a[o + $1]) << (8 * $1) } }
    for s in 0..<Int(u32(12)) where u32(64 + 40 * s) == kind { return 64 + 40 * s }
    return nil
  }

  static func u64(_ a: [UInt8], _ o: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(a[o + $1]) << (8 * $1) } }
  static func put64(_ a: inout [UInt8], _ o: Int, _ v: UInt64) { for k in 0..<8 { a[o + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }

  /// The one-line error of opening `bytes` as "a.graft", or nil when it opens.
  static func archiveError(_ bytes: [UInt8], limits: ArchiveLimits = .init()) -> String? {
    do {
      _ = try ArchiveRunner(bytes: bytes, file: "a.graft", limits: limits)
      return nil
    } catch {
      return "\(error)"
    }
  }

  struct Run {
    var status: Int32
    var signaled: Bool
    var stderr: String
  }

  /// Runs `/bin/sh -c script` with `args` as $1...; waits; returns exit status and stderr.
  static func sh(_ script: String, _ args: [String]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", script, "sh"] + args
    let err = Pipe()
    p.standardError = err
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let data = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal,
               stderr: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
  }

  static func bytes(_ path: String) -> [UInt8]? {
    FileManager.default.contents(atPath: path).map { [UInt8]($0) }
  }

  /// Temporary files `writeFileAtomically` leaves in `dir` (".NAME.tmp-PID-RANDOM").
  static func tempFiles(_ dir: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(".tmp-") }
  }

  /// x[1,n] MatMul W[n,n] -> y, written as ONNX: an archive with n*n*4 bytes of weights.
  static func bigMatMul(_ n: Int, path: String) throws {
    var g = Graph(name: "big")
    g.inputs = [ValueInfo(name: "x", type: TensorType(.float32, Shape([1, n])))]
    g.outputs = [ValueInfo(name: "y", type: nil)]
    var w = [Float](repeating: 0, count: n * n)
    for k in w.indices { w[k] = Float(k % 251) / 251 }
    g.initializers = [("w", .float32([n, n], w))]
    g.nodes = [Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["y"])]
    try ONNXExporter.write(Model(graph: g, opsetImports: [OpsetImport(domain: "", version: 17)]), to: path)
  }
}

// MARK: - Resource limits

@Suite struct HardeningLimitTests {
  @Test func nodeCountLimitIsAnOption() {
    #expect(Hardening.importError(Hardening.reluChain(5)) == nil)
    var l = ImportLimits()
    l.maxNodes = 4
    #expect(Hardening.importError(Hardening.reluChain(5), limits: l)
      == "m.onnx: model has more than 4 nodes, counting subgraphs and inlined local functions; the limit is 4")
  }

  /// 2^29 nodes after inlining, from a 2 KB file: refused before anything is inlined.
  @Test func functionInliningBombIsRefused() {
    let bytes = Hardening.functionBomb(levels: 30)
    #expect(bytes.count < 4096)
    let start = Date()
    #expect(Hardening.importError(bytes)
      == "m.onnx: model has more than 4194304 nodes, counting subgraphs and inlined local functions; the limit is 4194304")
    #expect(Date().timeIntervalSince(start) < 5)
    // A small one inlines: 2^3 Relus.
    var l = ImportLimits()
    l.maxNodes = 8
    #expect(Hardening.importError(Hardening.functionBomb(levels: 4), limits: l) == nil)
  }

  @Test func subgraphDepthLimit() {
    #expect(Hardening.importError(Hardening.nestedIf(20))
      == "m.onnx: node 'if3' (If): subgraph nests 17 levels deep; the limit is 16")
    var l = ImportLimits()
    l.maxGraphDepth = 2
    #expect(Hardening.importError(Hardening.nestedIf(3), limits: l)
      == "m.onnx: node 'if0' (If): subgraph nests 3 levels deep; the limit is 2")
  }

  @Test func tensorBytesLimit() {
    let huge = OnnxWire.tensor("w", dtype: 1, dims: [65536, 65536], raw: nil)
    let model = OnnxWire.model(OnnxWire.graph(
      nodes: [OnnxWire.node("Add", ["x", "w"], ["y"], name: "add")],
      inputs: [OnnxWire.value("x", dims: [2, 3])], outputs: [OnnxWire.value("y", dims: [2, 3])], initializers: [huge]))
    #expect(Hardening.importError(model)
      == "m.onnx: tensor 'w': declared shape [65536, 65536] of float needs more than the limit of 4294967296 bytes")
    let small = OnnxWire.tensor("w", dtype: 1, dims: [2, 3], raw: OnnxWire.floats([1, 2, 3, 4, 5, 6]))
    let ok = OnnxWire.model(OnnxWire.graph(
      nodes: [OnnxWire.node("Add", ["x", "w"], ["y"], name: "add")],
      inputs: [OnnxWire.value("x", dims: [2, 3])], outputs: [OnnxWire.value("y", dims: [2, 3])], initializers: [small]))
    #expect(Hardening.importError(ok) == nil)
    var l = ImportLimits()
    l.maxTensorBytes = 16
    #expect(Hardening.importError(ok, limits: l)
      == "m.onnx: tensor 'w': declared shape [2, 3] of float needs more than the limit of 16 bytes")
  }

  /// A compressed WEIGHTS section whose declared inflated size is 4000× its stored size:
  /// refused before the inflate buffer is allocated.
  @Test func zlibBombIsRefusedBeforeAllocating() throws {
    var a = try Hardening.smallArchive(compress: true)
    #expect(Hardening.archiveError(a) == nil)
    let e = try #require(Hardening.sectionEntry(a, kind: 3))
    let stored = Hardening.u64(a, e + 16)
    #expect(a[e + 4] & 1 == 1)
    Hardening.put64(&a, e + 24, stored * 4000)
    #expect(Hardening.archiveError(a)
      == "a.graft: compressed weights declare \(stored * 4000) bytes from \(stored) stored bytes, a ratio over the limit of 1032:1")
    // A declared size past the weights limit (and this machine's memory) is not allocated.
    Hardening.put64(&a, e + 24, 1 << 50)
    #expect(Hardening.archiveError(a) == "a.graft: archive weights inflate to 1125899906842624 bytes; the limit is 8589934592")
  }

  @Test func archiveSizeLimitsAreOptions() throws {
    let a = try Hardening.smallArchive(compress: true)
    var l = ArchiveLimits()
    l.maxWeightsBytes = 64
    let w = try #require(Hardening.archiveError(a, limits: l))
    #expect(w.hasPrefix("a.graft: archive weights inflate to ") && w.hasSuffix(" bytes; the limit is 64"))
    l = ArchiveLimits()
    l.maxArenaBytes = 64
    let r = try #require(Hardening.archiveError(a, limits: l))
    #expect(r.hasPrefix("a.graft: archive needs a ") && r.hasSuffix("-byte arena; the limit is 64"))
  }
}

// MARK: - Fuzzer fail cases

/// Every input a fuzzer ever crashed on (Tests/Fixtures/FailCases/<target>/, see fuzz/REPORT.md)
/// must now end in a GraftError or a clean result, never a crash.
@Suite struct HardeningFailCaseTests {
  static func cases(_ target: String) -> [String] {
    let dir = repoRoot + "/Tests/Fixtures/FailCases/" + target
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return names.filter { !$0.hasPrefix(".") }.sorted().map { dir + "/" + $0 }
  }

  @Test func onnxFailCases() throws {
    for path in Self.cases("onnx") {
      let bytes = try #require(Hardening.bytes(path))
      var limits = ImportLimits()
      limits.maxElements = 1 << 24
      limits.maxTensorBytes = 1 << 26
      if let model = try? ONNXImporter.decode(bytes: bytes, path: "case.onnx", limits: limits) {
        #expect(throws: Never.self, "\(path)") { try model.graph.checkInvariants(file: "case.onnx") }
        var g = model.graph
        var ctx = PassContext(file: "case.onnx", opsets: model.opsetImports)
        _ = try? ShapeInference().run(&g, &ctx)
      }
    }
  }

  @Test func npyFailCases() throws {
    for path in Self.cases("npy") {
      let bytes = try #require(Hardening.bytes(path))
      if let t = try? bytes.withUnsafeBytes({ try Npy.decode($0, file: "case.npy") }) {
        let again = try Npy.encode(t).withUnsafeBytes { try Npy.decode($0, file: "again.npy") }
        #expect(again.dims == t.dims && again.dtype == t.dtype, "\(path)")
      }
    }
  }

  /// What opening each archive fail case must say now (files not listed: any one-line error
  /// or a clean open).
  static let archiveMessages: [String: String] = [
    "variadic-output-overlaps-input.graft": "case.graft: cannot open archive at node '#0' (?): GRAFT_E_BOUNDS",
    "nan-float-attr-read-as-int.graft": "case.graft: cannot open archive at node '#0' (?): GRAFT_E_SHAPE",
  ]

  @Test func archiveFailCases() throws {
    let paths = Self.cases("archive")
    #expect(paths.count >= Self.archiveMessages.count)
    for path in paths {
      let bytes = try #require(Hardening.bytes(path))
      var l = ArchiveLimits()
      l.maxArenaBytes = 1 << 26
      l.maxWeightsBytes = 1 << 26
      if let want = Self.archiveMessages[(path as NSString).lastPathComponent] {
        #expect(Hardening.archiveError(bytes, limits: l)?.replacingOccurrences(of: "a.graft", with: "case.graft") == want)
      }
      if let runner = try? ArchiveRunner(bytes: bytes, file: "case.graft", limits: l) {
        var feeds: [String: Tensor] = [:]
        for i in runner.inputs {
          let dims = (i.type.shape ?? []).map { $0.value ?? 1 }
          let n = dims.reduce(1, *)
          let storage = TensorStorage(count: (i.type.dtype.storageBytes(count: n) ?? 0)) { _ in }
          feeds[i.name] = Tensor(dtype: i.type.dtype, dims: dims, storage: storage)
        }
        _ = try? runner.run(feeds)
      }
    }
  }
}

// MARK: - Atomic outputs under faults

@Suite(.serialized) struct HardeningFaultTests {
  /// A writer that fails half-way leaves the previous file and no temporary behind.
  @Test func failedWriteKeepsPreviousFile() throws {
    let dir = try Hardening.tempDir("atomic")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/out.bin"
    try [UInt8](repeating: 7, count: 100).withUnsafeBytes { try writeFileAtomically(path, bytes: $0) }
    struct Boom: Error {}
    #expect(throws: GraftError.self) {
      try writeFileAtomically(path) { h in
        try h.write(contentsOf: Data(repeating: 1, count: 10))
        throw Boom()
      }
    }
    #expect(Hardening.bytes(path) == [UInt8](repeating: 7, count: 100))
    #expect(Hardening.tempFiles(dir).isEmpty)
    // Into a folder that does not exist: a one-line error naming the file.
    let missing = dir + "/no/such/out.bin"
    #expect(throws: GraftError.self) { try [UInt8]([1]).withUnsafeBytes { try writeFileAtomically(missing, bytes: $0) } }
  }

  /// `graft compile` killed with SIGKILL while it writes: the previous output is intact.
  @Test(.enabled(if: Hardening.graftBinary != nil)) func sigkillDuringCompileKeepsPreviousOutput() throws {
    let graft = try #require(Hardening.graftBinary)
    let dir = try Hardening.tempDir("kill")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let model = dir + "/big.onnx", out = dir + "/big.graft"
    try Hardening.bigMatMul(2048, path: model)  // 16 MiB of weights
    let previous: [UInt8] = Array("previous output\n".utf8)
    var killedMidWrite = 0
    for attempt in 0..<6 {
      try Data(previous).write(to: URL(fileURLWithPath: out))
      let p = Process()
      p.executableURL = URL(fileURLWithPath: graft)
      p.arguments = ["compile", model, "-o", out]
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      try p.run()
      // Kill as soon as the temporary output exists (or, on later attempts, a bit after it
      // appears, when more of it is written).
      var sawTemp = false
      let deadline = Date().addingTimeInterval(120)
      while p.isRunning && Date() < deadline {
        if !Hardening.tempFiles(dir).isEmpty {
          sawTemp = true
          if attempt > 0 { usleep(UInt32(attempt) * 2_000) }
          break
        }
        usleep(200)
      }
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      let now = Hardening.bytes(out)
      if p.terminationReason == .uncaughtSignal && sawTemp {
        killedMidWrite += 1
        #expect(now == previous, "attempt \(attempt): output changed by a killed compile")
      } else {
        // The compile finished before the kill: the output is then the whole new archive.
        #expect(now != nil && now != previous && now.map { Array($0.prefix(8)) } == Array("GRAFTARC".utf8))
      }
    }
    #expect(killedMidWrite > 0, "no attempt was killed while writing")
  }

  /// `ulimit -f` (file size limit; SIGXFSZ ignored as a daemon would): a clean one-line error,
  /// exit 1, the previous output intact and no temporary left.
  @Test(.enabled(if: Hardening.graftBinary != nil)) func fullDiskGivesCleanError() throws {
    let graft = try #require(Hardening.graftBinary)
    let dir = try Hardening.tempDir("full")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let model = dir + "/big.onnx", out = dir + "/big.graft"
    try Hardening.bigMatMul(512, path: model)  // 1 MiB of weights
    try Data("previous".utf8).write(to: URL(fileURLWithPath: out))
    let r = try Hardening.sh("trap '' XFSZ; ulimit -f 256; exec \"$1\" compile \"$2\" -o \"$3\"", [graft, model, out])
    #expect(r.status == 1 && !r.signaled)
    #expect(r.stderr == "\(out): cannot write: File too large", "stderr: \(r.stderr)")
    #expect(Hardening.bytes(out) == Array("previous".utf8))
    #expect(Hardening.tempFiles(dir).isEmpty)
  }

  /// A read-only output folder: a clean one-line error, exit 1. As root the folder's mode does
  /// not stop writes, so the compile runs as `nobody` (setpriv).
  @Test(.enabled(if: Hardening.graftBinary != nil)) func readOnlyFolderGivesCleanError() throws {
    let graft = try #require(Hardening.graftBinary)
    let dir = try Hardening.tempDir("ro")
    defer {
      chmod(dir + "/ro", 0o755)
      try? FileManager.default.removeItem(atPath: dir)
    }
    chmod(dir, 0o755)
    let model = dir + "/m.onnx"
    try Hardening.bigMatMul(8, path: model)
    chmod(model, 0o644)
    try FileManager.default.createDirectory(atPath: dir + "/ro", withIntermediateDirectories: false)
    let out = dir + "/ro/m.graft"
    try Data("previous".utf8).write(to: URL(fileURLWithPath: out))
    chmod(out, 0o644)
    chmod(dir + "/ro", 0o555)
    let prefix = geteuid() == 0 ? "exec setpriv --reuid=65534 --regid=65534 --clear-groups " : "exec "
    let r = try Hardening.sh(prefix + "\"$1\" compile \"$2\" -o \"$3\"", [graft, model, out])
    #expect(r.status == 1 && !r.signaled)
    #expect(r.stderr == "\(out): cannot write: Permission denied", "stderr: \(r.stderr)")
    #expect(Hardening.bytes(out) == Array("previous".utf8))
  }
}

// MARK: - Determinism

@Suite struct HardeningDeterminismTests {
  /// The same model compiled in two separate processes (different hash seeds, so any
  /// dictionary-order dependence shows) gives bit-identical archives, plain and compressed;
  /// the in-process compile (under `make test-asan`: the ASan build) and any build listed in
  /// GRAFT_DET_BINARIES give the same bytes too.
  @Test(.enabled(if: Hardening.graftBinary != nil)) func compileIsBitIdenticalAcrossRuns() throws {
    let graft = try #require(Hardening.graftBinary)
    let dir = try Hardening.tempDir("det")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let model = repoRoot + "/samples/ppocr_mobile_v2_cls.onnx"
    for extra in [[], ["--compress"]] {
      var outputs: [[UInt8]] = []
      for k in 0..<2 {
        let out = dir + "/run\(k).graft"
        let r = try Hardening.sh("exec \"$@\"", [graft, "compile", model, "-o", out, "--input-shape", "x=1x3x48x192"] + extra)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        outputs.append(Hardening.bytes(out) ?? [])
      }
      let inProcess = dir + "/inproc.graft"
      let rc = CLI.run(["compile", model, "-o", inProcess, "--input-shape", "x=1x3x48x192"] + extra,
                       console: Console(stdout: { _ in }, stderr: { _ in }))
      #expect(rc == 0)
      outputs.append(Hardening.bytes(inProcess) ?? [])
      #expect(outputs[0].count > 1000)
      let twoRuns = outputs[0] == outputs[1], sameInProcess = outputs[0] == outputs[2]
      #expect(twoRuns, "two runs of graft compile \(extra) differ")
      #expect(sameInProcess, "graft compile \(extra) in and out of process differ")
      // Other builds of the same target named in GRAFT_DET_BINARIES (colon-separated), e.g. a
      // release build: same bytes. (Under `make test` the ASan subset runs this test with the
      // ASan build in process against the plain debug `graft`: that is the cross-build check.)
      let others = (ProcessInfo.processInfo.environment["GRAFT_DET_BINARIES"] ?? "").split(separator: ":").map(String.init)
      for other in others where FileManager.default.isExecutableFile(atPath: other) {
        let out = dir + "/other.graft"
        let r = try Hardening.sh("ASAN_OPTIONS=detect_leaks=0 exec \"$@\"",
                                 [other, "compile", model, "-o", out, "--input-shape", "x=1x3x48x192"] + extra)
        #expect(r.status == 0, "\(other): \(r.stderr)")
        let same = Hardening.bytes(out) == outputs[0]
        #expect(same, "\(other) compiles \(extra) differently")
      }
    }
  }
}
