import Foundation
import Testing
import GraftBackend
import GraftIR
import GraftONNX

/// ONNX's PyTorch-derived node tests (`onnx_node_tests/` in the corpus): each model compiled and
/// run from its archive, compared with the expected outputs shipped with ONNX. Pass rule:
/// max abs error ≤ max(1e-4 × max|expected|, 1e-6).
@Suite(.serialized) struct BackendNodeTests {
  static var cases: [String] {
    guard let dir = BackendSupport.modelsDir,
          let names = try? FileManager.default.contentsOfDirectory(atPath: dir + "/onnx_node_tests") else { return [] }
    return names.filter { $0.hasSuffix(".onnx") }.map { String($0.dropLast(5)) }.sorted()
  }

  /// Cases Graft reports as unsupported (exit 3), each for a stated reason.
  static let expectedUnsupported: [String: String] = [
    "test_operator_add_broadcast": "float64 arithmetic (the runtime has no f64 kernels)",
    "test_operator_add_size1_broadcast": "float64 arithmetic",
    "test_operator_add_size1_right_broadcast": "float64 arithmetic",
    "test_operator_add_size1_singleton_broadcast": "float64 arithmetic",
    "test_operator_addconstant": "float64 arithmetic",
  ]

  static func run(_ name: String) throws -> [String] {
    guard let dir = BackendSupport.modelsDir.map({ $0 + "/onnx_node_tests" }) else { return ["no models folder"] }
    let model = try ONNXImporter.load(path: "\(dir)/\(name).onnx")
    var feeds: [String: Tensor] = [:]
    var options = CompileOptions()
    for (k, input) in model.graph.runtimeInputs.enumerated() {
      let t = try Npy.read(path: "\(dir)/\(name).input_\(k).npy")
      feeds[input.name] = t
      options.inputShapes[input.name] = t.dims
    }
    let compiled = try Driver.compile(model, options: options).compiled
    let outs = try ArchiveRunner(bytes: try ArchiveWriter.encode(compiled), file: name).run(feeds)
    var problems: [String] = []
    for (k, out) in outs.enumerated() {
      let ref = try Npy.read(path: "\(dir)/\(name).output_\(k).npy")
      let a = Agreement.measure(out.tensor, ref)
      if !(a.mismatch == nil && a.maxAbs <= max(1e-4 * a.maxRef, 1e-6)) { problems.append("\(out.name): \(a)") }
    }
    return problems
  }

  @Test func nodeTestsMatchExpectedOutputs() throws {
    var failed: [String] = []
    var unsupported: [String] = []
    var passed = 0
    for name in Self.cases {
      do {
        let problems = try Self.run(name)
        if problems.isEmpty { passed += 1 } else { failed.append("\(name): " + problems.joined(separator: "; ")) }
      } catch let e as GraftError where e.kind == .unsupported {
        if Self.expectedUnsupported[name] == nil { unsupported.append("\(name): \(e.description.split(separator: "\n").last ?? "")") }
      } catch {
        failed.append("\(name): \(error)")
      }
    }
    print("node tests: \(passed) passed, \(failed.count) failed, \(unsupported.count) unexpectedly unsupported of \(Self.cases.count)")
    for f in failed { print("  FAIL " + f) }
    for u in unsupported { print("  UNSUPPORTED " + u) }
    #expect(failed.isEmpty)
    #expect(unsupported.isEmpty)
  }
}
