import Foundation
import Testing
import GraftBackend
@testable import GraftCLI
import GraftIR
import GraftONNX

/// Deployment: the target table, the trimmed kernel list, archive decoding, `graft build`,
/// `graft bench`, `graft emit-c`. Numbers come from independent sources: the kernel list
/// text of graft_kernels.h, the compiler's own CompiledModel (for the decoder), and the
/// corpus README's MAC counts (onnxruntime profiles). The compiled C (cross builds, emit-c
/// output against onnxruntime) is checked by scripts/cross_test.sh.
@Suite(.serialized) struct DeployTests {
  static let root: String = {
    var u = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { u.deleteLastPathComponent() }
    return u.path
  }()
  static let sample = root + "/samples/ppocr_mobile_v2_cls"

  static func compileSample() throws -> (CompiledModel, [UInt8]) {
    let model = try ONNXImporter.load(path: sample + ".onnx")
    let c = try Driver.compile(model, options: CompileOptions(inputShapes: ["x": [1, 3, 48, 192]])).compiled
    return (c, try ArchiveWriter.encode(c))
  }

  static func graft(_ argv: [String]) -> (Int32, BackendCLITests.Captured) {
    BackendCLITests.graft(argv)
  }

  @Test func targetTable() throws {
    let names = DeployTarget.all.map(\.name)
    #expect(Set(names).count == names.count)
    for n in ["x86_64", "x86_64-avx512", "aarch64", "armv7", "generic"] { #expect(names.contains(n)) }
    let arm = try #require(DeployTarget.named("armv7"))
    #expect(arm.cc == "arm-linux-gnueabihf-gcc")
    #expect(arm.cflags.contains("-mfpu=neon-vfpv4") && arm.cflags.contains("-mfloat-abi=hard"))
    #expect(DeployTarget.named("aarch64")?.emulator == "qemu-aarch64")
    #expect(DeployTarget.named("x86_64-avx512")?.vectorBits == 512)
    #expect(DeployTarget.named("mips") == nil)
    // Tiling: the packed A block (MC x KC floats) fits half of L2, MC divisible by every MR.
    for t in DeployTarget.all {
      let v = t.tilingDefines.compactMap { $0.split(separator: "=").last.flatMap { Int($0) } }
      #expect(v.count == 3 && v[0] % 24 == 0 && v[0] * v[1] * 4 <= max(t.l2Bytes / 2, 24 * v[1] * 4))
    }
    #expect(DeployTarget.named("armv7")?.tilingDefines.first == "-DGRAFT_SGEMM_MC=120")
    let (rc, c) = Self.graft(["targets"])
    #expect(rc == 0)
    for n in names { #expect(c.out.contains { $0.hasPrefix(n + " ") }) }
  }

  /// The config entries equal the X-macro lines of graft_kernels.h, read as text.
  @Test func kernelConfigEntriesMatchHeaderText() throws {
    let text = try String(contentsOfFile: Self.root + "/runtime/include/graft_kernels.h", encoding: .utf8)
    var expected: [KernelConfig.Entry] = []
    for line in text.split(separator: "\n") {
      let t = line.trimmingCharacters(in: .whitespaces)
      guard t.hasPrefix("X("), let close = t.firstIndex(of: ")") else { continue }
      let parts = t[t.index(t.startIndex, offsetBy: 2)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      guard parts.count == 6, let id = UInt32(parts[0]), !parts[1].hasPrefix("\"") else { continue }
      let n = parts[2...].compactMap { Int32($0) }
      guard n.count == 4 else { continue }
      expected.append(.init(id: id, name: parts[1], minInputs: n[0], maxInputs: n[1], minOutputs: n[2], maxOutputs: n[3]))
    }
    #expect(expected.count > 80)
    let got = try KernelConfig.entries(expected.map(\.id))
    #expect(got == expected.sorted { $0.id < $1.id })
    #expect(throws: GraftError.self) { try KernelConfig.entries([9999]) }
  }

  /// The decoder reads back exactly what the compiler planned.
  @Test func archiveDecodesToTheCompiledModel() throws {
    let (c, bytes) = try Self.compileSample()
    let a = try DeployArchive(bytes: bytes, file: "cls.graft")
    #expect(a.arenaBytes == UInt64(c.arenaBytes))
    #expect(a.tensors.count == c.tensors.count)
    for (x, y) in zip(a.tensors, c.tensors) {
      #expect(x.name == y.name && x.dims == y.dims.map(Int64.init) && x.isWeight == y.isWeight)
      #expect(x.offset == UInt64(y.offset) && x.bytes == UInt64(y.bytes) && x.dtype == y.dtype.rawValue)
      if let d = y.data, y.isWeight {
        let stored = Array(a.weights[Int(x.offset)..<(Int(x.offset) + Int(x.bytes))])
        #expect(stored == [UInt8](UnsafeRawBufferPointer(start: d.storage.pointer, count: d.byteCount)))
      }
    }
    #expect(a.nodes.map(\.kernel) == c.nodes.map(\.lowered.kernel))
    #expect(a.nodes.map(\.inputs) == c.nodes.map(\.inputs))
    #expect(a.nodes.map(\.outputs) == c.nodes.map(\.outputs))
    #expect(a.nodes.map(\.scratchBytes) == c.nodes.map { UInt64($0.scratchBytes) })
    #expect(a.nodes.map(\.attrs.count) == c.nodes.map(\.lowered.attrs.count))
    #expect(a.inputs == c.inputs && a.outputs == c.outputs)
    // Compressed weights decode to the same bytes.
    let z = try DeployArchive(bytes: try ArchiveWriter.encode(c, compress: true), file: "z.graft")
    #expect(z.weights == a.weights)
    #expect(a.kernelIds == Array(Set(c.nodes.map(\.lowered.kernel))).sorted())
  }

  /// MACs from the archive's shapes against the corpus README (onnxruntime profile), which
  /// prints millions with one decimal.
  @Test func macsMatchTheCorpusReadme() throws {
    let (_, bytes) = try Self.compileSample()
    let a = try DeployArchive(bytes: bytes, file: "cls.graft")
    let macs = a.nodes.indices.reduce(Int64(0)) { $0 + a.macs(node: $1) }
    #expect(abs(Double(macs) / 1e6 - 16.3) <= 0.05, "\(macs)")
    guard let dir = BackendSupport.modelsDir else { return }
    let model = try ONNXImporter.load(path: dir + "/light_squeezenet.onnx")
    let c = try Driver.compile(model, options: CompileOptions(inputShapes: ["data_0": [1, 3, 224, 224]])).compiled
    let s = try DeployArchive(bytes: try ArchiveWriter.encode(c), file: "squeezenet.graft")
    let m = s.nodes.indices.reduce(Int64(0)) { $0 + s.macs(node: $1) }
    #expect(abs(Double(m) / 1e6 - 349.2) <= 0.05, "\(m)")
  }

  @Test func benchMeasuresEveryRunAndNode() throws {
    let (c, bytes) = try Self.compileSample()
    let dir = try BackendCLITests.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try bytes.withUnsafeBytes { try writeFileAtomically(dir + "/m.graft", bytes: $0) }
    let b = try ArchiveBench(path: dir + "/m.graft")
    try b.setInput("x", try Npy.read(path: Self.sample + ".input_0.npy"))
    let times = try b.time(runs: 3, warmup: 1)
    #expect(times.count == 3 && times.allSatisfy { $0 > 0 })
    let per = try b.perNode(runs: 2)
    #expect(per.count == c.nodes.count && per.allSatisfy { $0 >= 0 } && per.reduce(0, +) > 0)
    #expect(ArchiveBench.median([3, 1, 2]) == 2 && ArchiveBench.median([4, 1, 2, 3]) == 2.5)
    #expect(throws: GraftError.self) { try b.setInput("x", Tensor.float32([1, 3], [0, 0, 0])) }

    let (rc, out) = Self.graft(["bench", dir + "/m.graft", "--runs", "2", "--per-layer",
                                "--input", "x=" + Self.sample + ".input_0.npy"])
    #expect(rc == 0, "\(out.err)")
    #expect(out.out.contains { $0.hasPrefix("median_ms: ") })
    #expect(out.out.contains { $0.hasPrefix("per kernel:") })
    #expect(out.out.contains { $0.hasPrefix("macs: 163") })
  }

  @Test func buildWritesABundleWithTheModelsKernels() throws {
    let dir = try BackendCLITests.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (rc, c) = Self.graft(["build", Self.sample + ".onnx", "--target", "armv7", "-o", dir + "/dist",
                              "--input-shape", "x=1x3x48x192", "--sources", Self.root])
    #expect(rc == 0, "\(c.err)")
    for f in ["model.graft", "graft_config.h", "Makefile", "README.md", "graft_run.c",
              "runtime/include/graft.h", "runtime/src/archive.c", "runtime/kernels/reference/conv.c",
              "runtime/kernels/armv7/sgemm.c", "runtime/kernels/aarch64/sgemm.c"] {
      #expect(FileManager.default.fileExists(atPath: dir + "/dist/" + f), "\(f)")
    }
    let a = try DeployArchive(path: dir + "/dist/model.graft")
    let config = try String(contentsOfFile: dir + "/dist/graft_config.h", encoding: .utf8)
    let listed = config.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("X(") }
    #expect(listed.count == a.kernelIds.count)
    for id in a.kernelIds { #expect(config.contains("X(\(id), ")) }
    let make = try String(contentsOfFile: dir + "/dist/Makefile", encoding: .utf8)
    #expect(make.contains("CC = arm-linux-gnueabihf-gcc"))
    #expect(make.contains("-mfloat-abi=hard"))
    #expect(make.contains("-Wl,--gc-sections"))
    #expect(make.contains("TGT_DIR = runtime/kernels/armv7"))
    // A .graft input is used as is.
    let (rc2, c2) = Self.graft(["build", dir + "/dist/model.graft", "--target", "generic", "-o", dir + "/g",
                                "--sources", Self.root])
    #expect(rc2 == 0, "\(c2.err)")
    #expect(FileManager.default.contents(atPath: dir + "/g/model.graft") == FileManager.default.contents(atPath: dir + "/dist/model.graft"))
  }

  @Test func emitCWritesOneCallPerNodeAndTheRawWeights() throws {
    let (c, bytes) = try Self.compileSample()
    let a = try DeployArchive(bytes: bytes, file: "cls.graft")
    let o = try CEmitter.emit(a, identifier: CEmitter.identifier("PP-OCR cls"))
    #expect(o.identifier == "pp_ocr_cls")
    #expect(o.source.components(separatedBy: "_eval(&c_)").count - 1 == c.nodes.count)
    #expect(o.header.contains("#define GRAFT_PP_OCR_CLS_ARENA_BYTES \(c.arenaBytes)u"))
    #expect(o.weights == a.weights)
    #expect(o.assembly.contains(".incbin \"pp_ocr_cls.weights.bin\""))
    #expect(CEmitter.identifier("9lives") == "m9lives")
  }

  /// Bad command lines and bad files: exit code and the one-line message.
  @Test(arguments: [
    (["build", "m.onnx", "-o", "d"], Int32(2), "graft build: missing --target"),
    (["build", "m.onnx", "--target", "mips", "-o", "d"], 2, "graft build: unknown target 'mips'"),
    (["bench", "/nonexistent/x.graft"], 1, "/nonexistent/x.graft: cannot read archive"),
    (["bench", "X.graft", "--runs", "0"], 2, "graft bench: --runs must be 1 or more"),
    (["emit-c", "X.graft", "-o", "m.txt"], 2, "graft emit-c: output must end in .c"),
    (["emit-c", "BAD", "-o", "m.c"], 1, "cannot open archive: GRAFT_E_"),
    (["targets", "extra"], 2, "graft targets: unexpected argument 'extra'"),
  ])
  func badInput(argv: [String], code: Int32, message: String) throws {
    let dir = try BackendCLITests.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Array("GRAFTARC not really an archive".utf8).withUnsafeBytes { try writeFileAtomically(dir + "/bad.graft", bytes: $0) }
    let args = argv.map { $0 == "BAD" ? dir + "/bad.graft" : $0 }
    let (rc, c) = Self.graft(args)
    #expect(rc == code, "\(c.err)")
    #expect(c.err.count == 1 && c.err.first?.contains(message) == true, "\(c.err)")
  }
}
