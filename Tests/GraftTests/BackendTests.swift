import Foundation
import Testing
import GraftBackend
import GraftIR
import GraftKernels
import GraftRuntime

/// Graphs built in code, compiled to an archive, opened and run by the C runtime, compared with
/// onnxruntime on the same exported graph.
@Suite(.serialized) struct BackendTests {
  typealias S = BackendSupport

  static func close(_ a: Tensor, _ e: Tensor, rtol: Double = 1e-5) -> Bool {
    let m = Agreement.measure(a, e)
    return m.mismatch == nil && m.maxAbs <= max(1e-6, rtol * m.maxRef)
  }

  /// Conv(+bias, pads) → Relu → Reshape → Gemm(transB) → Softmax; several weights and a copy.
  static func smallNet() -> Graph {
    var g = Graph(name: "small")
    g.inputs = [S.input("x", .float32, [1, 3, 8, 8])]
    g.outputs = [S.output("prob")]
    g.initializers = [
      ("w", S.random([4, 3, 3, 3], seed: 1)), ("b", S.random([4], seed: 2)),
      ("shape", .int64([2], [1, 256])), ("fc", S.random([5, 256], seed: 3)), ("fcb", S.random([5], seed: 4)),
    ]
    g.nodes = [
      Node(name: "conv", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["c"],
           attributes: [Attribute("pads", .ints([1, 1, 1, 1]))]),
      Node(name: "relu", opType: "Relu", inputs: ["c"], outputs: ["r"]),
      Node(name: "flat", opType: "Reshape", inputs: ["r", "shape"], outputs: ["f"]),
      Node(name: "fc", opType: "Gemm", inputs: ["f", "fc", "fcb"], outputs: ["logits"],
           attributes: [Attribute("transB", .int(1))]),
      Node(name: "sm", opType: "Softmax", inputs: ["logits"], outputs: ["prob"]),
    ]
    return g
  }

  @Test func smallNetMatchesOnnxRuntime() throws {
    let g = Self.smallNet()
    let x = S.random([1, 3, 8, 8], seed: 9)
    let mine = try S.runGraft(g, ["x": x])
    let ref = try S.runReference(g, ["x": x])
    #expect(mine.count == 1 && mine[0].name == "prob" && mine[0].tensor.dims == [1, 5])
    #expect(Self.close(mine[0].tensor, ref[0].tensor), "\(Agreement.measure(mine[0].tensor, ref[0].tensor))")
    // Compressed weights give the same numbers.
    let packed = try S.runGraft(g, ["x": x], compress: true)
    #expect(Array(packed[0].tensor.storage.bytes) == Array(mine[0].tensor.storage.bytes))
  }

  /// Elementwise ops with broadcasting and a second output; MatMul with a fused-free path.
  @Test func binaryAndMatMulMatchOnnxRuntime() throws {
    var g = Graph(name: "bin")
    g.inputs = [S.input("a", .float32, [2, 3, 4]), S.input("b", .float32, [4])]
    g.outputs = [S.output("y"), S.output("z")]
    g.initializers = [("m", S.random([4, 5], seed: 5))]
    g.nodes = [
      Node(opType: "Mul", inputs: ["a", "b"], outputs: ["ab"]),
      Node(opType: "Sub", inputs: ["ab", "a"], outputs: ["d"]),
      Node(opType: "Sigmoid", inputs: ["d"], outputs: ["s"]),
      Node(opType: "MatMul", inputs: ["s", "m"], outputs: ["y"]),
      Node(opType: "Div", inputs: ["a", "b"], outputs: ["z"]),
    ]
    let ins = ["a": S.random([2, 3, 4], seed: 6), "b": Tensor.float32([4], [0.5, -2, 3, 1.5])]
    let mine = try S.runGraft(g, ins)
    let ref = try S.runReference(g, ins)
    #expect(mine.map(\.name) == ["y", "z"])
    for (m, r) in zip(mine, ref) { #expect(Self.close(m.tensor, r.tensor), "\(m.name): \(Agreement.measure(m.tensor, r.tensor))") }
  }

  /// KernelRunner evaluates one ONNX node through the C kernel (what constant folding uses).
  @Test func kernelRunnerEvaluatesNode() throws {
    let node = Node(name: "g", opType: "Gemm", inputs: ["a", "b", "c"], outputs: ["y"],
                    attributes: [Attribute("alpha", .float(0.5)), Attribute("transA", .int(1))])
    let a = S.random([3, 2], seed: 11), b = S.random([3, 4], seed: 12), c = S.random([4], seed: 13)
    let out = try KernelRunner.evaluate(node: node, inputs: [a, b, c], outputTypes: [TensorType(.float32, Shape([2, 4]))])
    var g = Graph(name: "gemm", nodes: [node])
    g.inputs = [S.input("a", .float32, [3, 2]), S.input("b", .float32, [3, 4]), S.input("c", .float32, [4])]
    g.outputs = [S.output("y")]
    let ref = try S.runReference(g, ["a": a, "b": b, "c": c])
    #expect(Self.close(out[0], ref[0].tensor))
  }

  /// The archive opens in the runtime, and its header/section layout follows formats/ARCHIVE.md.
  @Test func archiveLayout() throws {
    let model = Model(graph: Self.smallNet())
    let compiled = try Driver.compile(model).compiled
    let bytes = try ArchiveWriter.encode(compiled)
    #expect(Array(bytes[0..<8]) == Array("GRAFTARC".utf8))
    func u32(_ o: Int) -> UInt32 { bytes[o..<o + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
    func u64(_ o: Int) -> UInt64 { bytes[o..<o + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
    #expect(u32(8) == 1)  // version 1.0
    #expect(u64(16) == UInt64(bytes.count))
    #expect(u64(24) == UInt64(compiled.arenaBytes))
    #expect(u32(60) == ArchiveWriter.crc(Array(bytes[0..<60])))
    let sections = Int(u32(12))
    for s in 0..<sections {
      let e = 64 + 40 * s
      let off = Int(u64(e + 8)), stored = Int(u64(e + 16))
      #expect(off % 64 == 0)
      #expect(u32(e + 32) == ArchiveWriter.crc(Array(bytes[off..<off + stored])))
    }
    var sizes = graft_model_sizes()
    let st = bytes.withUnsafeBytes { raw -> graft_status in
      let p = UnsafeMutableRawPointer.allocate(byteCount: raw.count, alignment: 64)
      defer { p.deallocate() }
      p.copyMemory(from: raw.baseAddress!, byteCount: raw.count)
      return graft_model_probe(p, raw.count, &sizes)
    }
    #expect(st == GRAFT_OK && Int(sizes.arena_bytes) == compiled.arenaBytes)
    // A flipped byte in WEIGHTS is caught by the runtime's CRC check.
    var broken = bytes
    let wEntry = 64 + 40 * 2
    broken[Int(u64(wEntry + 8)) + 5] ^= 0xFF
    #expect(throws: GraftError.self) { _ = try ArchiveRunner(bytes: broken, file: "broken.graft") }
  }

  /// A Reshape whose input dies there shares its input's bytes; the plan has no overlaps.
  @Test func copyAliasesItsInput() throws {
    let compiled = try Driver.compile(Model(graph: Self.smallNet())).compiled
    let byName = Dictionary(uniqueKeysWithValues: compiled.tensors.map { ($0.name, $0) })
    #expect(byName["r"]?.offset == byName["f"]?.offset)
    #expect(MemoryPlanner.violations(compiled.planBuffers, offsets: compiled.planOffsets,
                                     arenaBytes: compiled.arenaBytes).isEmpty)
    #expect(S.tensorOverlaps(compiled).isEmpty)
    // The checker itself finds a broken plan: the first node's output moved onto its input.
    var broken = compiled
    let first = broken.nodes[0]
    broken.tensors[Int(first.outputs[0])].offset = broken.tensors[Int(first.inputs[0])].offset
    #expect(!S.tensorOverlaps(broken).isEmpty)
  }

  /// Every unsupported node is reported, one line each, and the error is `.unsupported`.
  @Test func allUnsupportedNodesReported() throws {
    var g = Graph(name: "bad")
    g.inputs = [S.input("x", .float32, [4])]
    g.outputs = [S.output("z", .float32, [4])]
    g.nodes = [
      Node(name: "one", opType: "Foo", inputs: ["x"], outputs: ["y"]),
      Node(name: "two", opType: "Bar", inputs: ["y"], outputs: ["z"]),
    ]
    g.valueInfo = ["y": TensorType(.float32, Shape([4]))]
    do {
      _ = try Compiler.compile(g, file: "bad.onnx")
      Issue.record("expected failure")
    } catch let e as GraftError {
      #expect(e.kind == .unsupported)
      #expect(e.description == """
        bad.onnx: 2 nodes cannot be lowered
        bad.onnx: node 'one' (Foo): operator Foo is not supported
        bad.onnx: node 'two' (Bar): operator Bar is not supported
        """)
    }
  }

  /// Damaged archives fail to open with the runtime's status, named, never a crash.
  @Test func damagedArchivesAreRefused() throws {
    let bytes = try ArchiveWriter.encode(try Driver.compile(Model(graph: Self.smallNet())).compiled)
    var badMagic = bytes
    badMagic[0] = UInt8(ascii: "X")
    var badVersion = bytes
    badVersion[8] = 2
    let cases: [([UInt8], String)] = [
      (Array(bytes.prefix(bytes.count - 10)), "m.graft: cannot open archive: GRAFT_E_TRUNCATED"),
      (badMagic, "m.graft: cannot open archive: GRAFT_E_FORMAT"),
      (badVersion, "m.graft: cannot open archive: GRAFT_E_VERSION"),
    ]
    for (data, message) in cases {
      do {
        _ = try ArchiveRunner(bytes: data, file: "m.graft")
        Issue.record("expected: \(message)")
      } catch let e as GraftError {
        #expect(e.description == message)
      }
    }
  }

  /// A graph output that is a constant is copied into the arena and keeps its name.
  @Test func constantOutputKeepsItsName() throws {
    var g = Graph(name: "const")
    g.inputs = [S.input("x", .float32, [3])]
    g.outputs = [S.output("y"), S.output("c")]
    g.initializers = [("c", .float32([2], [4, 5]))]
    g.nodes = [Node(opType: "Neg", inputs: ["x"], outputs: ["y"])]
    let x = Tensor.float32([3], [1, -2, 3])
    let mine = try S.runGraft(g, ["x": x])
    let ref = try S.runReference(g, ["x": x])
    #expect(mine.map(\.name) == ["y", "c"])
    for (m, r) in zip(mine, ref) { #expect(Self.close(m.tensor, r.tensor)) }
  }

  /// Recurrent lowering (directions, activations, linear_before_reset, omitted Y output with a
  /// synthetic arena tensor) against onnxruntime.
  @Test func recurrentMatchesOnnxRuntime() throws {
    let (seq, batch, inp, hid) = (4, 2, 3, 5)
    var g = Graph(name: "rnn")
    g.inputs = [S.input("x", .float32, [seq, batch, inp]), S.input("h0", .float32, [2, batch, hid])]
    g.outputs = [S.output("lh"), S.output("lc"), S.output("gy"), S.output("gh")]
    g.initializers = [
      ("lw", S.random([2, 4 * hid, inp], seed: 31)), ("lr", S.random([2, 4 * hid, hid], seed: 32)),
      ("lb", S.random([2, 8 * hid], seed: 33)),
      ("gw", S.random([2, 3 * hid, inp], seed: 34)), ("gr", S.random([2, 3 * hid, hid], seed: 35)),
      ("gb", S.random([2, 6 * hid], seed: 36)),
    ]
    g.nodes = [
      Node(name: "lstm", opType: "LSTM", inputs: ["x", "lw", "lr", "lb", "", "h0"], outputs: ["", "lh", "lc"],
           attributes: [Attribute("hidden_size", .int(Int64(hid))),
                        Attribute("direction", .string(Array("bidirectional".utf8)))]),
      Node(name: "gru", opType: "GRU", inputs: ["x", "gw", "gr", "gb", "", "h0"], outputs: ["gy", "gh"],
           attributes: [Attribute("hidden_size", .int(Int64(hid))), Attribute("linear_before_reset", .int(1)),
                        Attribute("direction", .string(Array("bidirectional".utf8))),
                        Attribute("activations", .strings(["HardSigmoid", "Tanh", "Sigmoid", "Softsign"].map { Array($0.utf8) })),
                        Attribute("activation_alpha", .floats([0.3])), Attribute("activation_beta", .floats([0.6]))]),
    ]
    let ins = ["x": S.random([seq, batch, inp], seed: 37), "h0": S.random([2, batch, hid], seed: 38)]
    let mine = try S.runGraft(g, ins)
    let ref = try S.runReference(g, ins)
    #expect(mine.map(\.name) == ["lh", "lc", "gy", "gh"])
    for (m, r) in zip(mine, ref) {
      #expect(Self.close(m.tensor, r.tensor), "\(m.name): \(Agreement.measure(m.tensor, r.tensor))")
    }
  }

  @Test func runnerRejectsWrongInputs() throws {
    let compiled = try Driver.compile(Model(graph: Self.smallNet())).compiled
    let runner = try ArchiveRunner(bytes: try ArchiveWriter.encode(compiled), file: "m.graft")
    #expect(runner.inputs.map(\.name) == ["x"] && runner.outputs.map(\.name) == ["prob"])
    do {
      _ = try runner.run(["x": S.random([1, 3, 8, 7], seed: 1)])
      Issue.record("expected failure")
    } catch let e as GraftError {
      #expect(e.description == "m.graft: tensor 'x': input is float[1, 3, 8, 7]; the model needs float[1, 3, 8, 8]")
    }
  }
}
