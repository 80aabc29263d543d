// Malformed or unusual graphs: the portable passes leave what they cannot handle alone (or
// fail with a one-line message); they never crash, hang or allocate without bound.
import GraftIR
import Testing
@testable import GraftPasses

/// One odd graph: a node list over input x [1, 4, 4, 4] (values named by the rows themselves).
struct OddGraph: Sendable, CustomTestStringConvertible {
  var label: String
  var build: @Sendable (inout GraphBuilder) -> Void
  var testDescription: String { label }
}

private let myPasses: [any Pass] = [
  RemoveIdentity(),
  ConstantFolding(evaluator: { _, _, _ in throw GraftError(.unsupported, "no kernel in this test") }),
  DeadCode(), FoldBatchNorm(), FuseActivation(), FuseOther(), DeadCode(),
]

private func bn(_ b: inout GraphBuilder, _ x: String, params: [[Int]]) {
  for (k, d) in params.enumerated() { b.random("p\(k)", d, 0.5, 1.5) }
  b.node("BatchNormalization", [x] + params.indices.map { "p\($0)" }, ["y"], name: "bn", dims: [nil])
}

@Suite struct PassBadInputTests {
  static let cases: [OddGraph] = [
    OddGraph(label: "identity without input") { b in
      b.node("Identity", [], ["y"], name: "id")
    },
    OddGraph(label: "dropout without outputs") { b in
      b.node("Dropout", ["x"], [], name: "drop")
      b.node("Relu", ["x"], ["y"], name: "relu")
    },
    OddGraph(label: "batchnorm with 3 inputs after conv") { b in
      b.random("w", [4, 4, 1, 1])
      b.node("Conv", ["x", "w"], ["c"], name: "conv", dims: [[1, 4, 4, 4]])
      bn(&b, "c", params: [[4], [4]])
    },
    OddGraph(label: "batchnorm parameters of different sizes") { b in
      b.random("w", [4, 4, 1, 1])
      b.node("Conv", ["x", "w"], ["c"], name: "conv", dims: [[1, 4, 4, 4]])
      bn(&b, "c", params: [[4], [4], [3], [4]])
    },
    OddGraph(label: "batchnorm channels differ from conv outputs") { b in
      b.random("w", [4, 4, 1, 1])
      b.node("Conv", ["x", "w"], ["c"], name: "conv", dims: [[1, 4, 4, 4]])
      bn(&b, "c", params: [[3], [3], [3], [3]])
    },
    OddGraph(label: "conv weight of rank 2 before batchnorm") { b in
      b.random("w", [4, 4])
      b.node("Conv", ["x", "w"], ["c"], name: "conv", dims: [nil])
      bn(&b, "c", params: [[4], [4], [4], [4]])
    },
    OddGraph(label: "conv weight of int64 before batchnorm") { b in
      b.constant("w", .int64([4, 4, 1, 1], [Int64](repeating: 1, count: 16)))
      b.node("Conv", ["x", "w"], ["c"], name: "conv", dims: [nil])
      bn(&b, "c", params: [[4], [4], [4], [4]])
    },
    OddGraph(label: "conv transpose with group 0 before batchnorm") { b in
      b.random("w", [4, 1, 1, 1])
      b.node("ConvTranspose", ["x", "w"], ["c"], [attr("group", Int64(0))], name: "deconv", dims: [nil])
      bn(&b, "c", params: [[4], [4], [4], [4]])
    },
    OddGraph(label: "gemm weight of rank 3 before batchnorm") { b in
      b.random("w", [4, 4, 4])
      b.node("Gemm", ["x", "w"], ["c"], name: "gemm", dims: [nil])
      bn(&b, "c", params: [[4], [4], [4], [4]])
    },
    OddGraph(label: "batchnorm with zero variance and zero epsilon") { b in
      b.random("w", [4, 4, 1, 1])
      b.node("Conv", ["x", "w"], ["c"], name: "conv", dims: [[1, 4, 4, 4]])
      b.constant("s", .float32([4], [1, 1, 1, 1]))
      b.constant("z", .float32([4], [0, 0, 0, 0]))
      b.node("BatchNormalization", ["c", "s", "z", "z", "z"], ["y"], [attr("epsilon", Float(0))], name: "bn")
    },
    OddGraph(label: "transposes without perm") { b in
      b.node("Transpose", ["x"], ["t"], name: "t1")
      b.node("Transpose", ["t"], ["y"], name: "t2")
    },
    OddGraph(label: "transposes with a perm that is not a permutation") { b in
      b.node("Transpose", ["x"], ["t"], [attr("perm", [0, 0, 1, 2])], name: "t1")
      b.node("Transpose", ["t"], ["y"], [attr("perm", [0, 1, 2, 3])], name: "t2")
    },
    OddGraph(label: "reshape with a computed shape") { b in
      b.node("Shape", ["x"], ["s"], name: "shape")
      b.node("Reshape", ["x", "s"], ["r"], name: "r1")
      b.node("Reshape", ["r", "s"], ["y"], name: "r2")
    },
    OddGraph(label: "clip with a computed bound") { b in
      b.random("w", [4, 4, 1, 1])
      b.node("Conv", ["x", "w"], ["c"], name: "conv", dims: [[1, 4, 4, 4]])
      b.node("ReduceMax", ["x"], ["m"], name: "max")
      b.node("Clip", ["c", "", "m"], ["y"], name: "clip")
    },
    OddGraph(label: "clip with a NaN bound") { b in
      b.random("w", [4, 4, 1, 1])
      b.node("Conv", ["x", "w"], ["c"], name: "conv", dims: [[1, 4, 4, 4]])
      b.constant("nan", .float32([], [.nan]))
      b.node("Clip", ["c", "nan"], ["y"], name: "clip")
    },
    OddGraph(label: "gated mul whose gate reads another value") { b in
      b.random("w", [4, 4, 1, 1])
      b.node("Conv", ["x", "w"], ["c"], name: "conv", dims: [[1, 4, 4, 4]])
      b.node("Sigmoid", ["x"], ["g"], name: "sig", dims: [[1, 4, 4, 4]])
      b.node("Mul", ["c", "g"], ["y"], name: "mul", dims: [[1, 4, 4, 4]])
    },
    OddGraph(label: "mul of a value by itself") { b in
      b.node("Mul", ["x", "x"], ["y"], name: "sq", dims: [[1, 4, 4, 4]])
    },
    OddGraph(label: "activation already fused on the producer") { b in
      b.random("w", [4, 4, 1, 1])
      b.node("Conv", ["x", "w"], ["c"], [attr("graft.act", Int64(1))], name: "conv", dims: [[1, 4, 4, 4]])
      b.node("Relu", ["c"], ["y"], name: "relu", dims: [[1, 4, 4, 4]])
    },
    OddGraph(label: "constant of shape far too large to fill") { b in
      b.constant("s", .int64([2], [1_000_000, 1_000_000]))
      b.node("ConstantOfShape", ["s"], ["k"], name: "cos")
      b.node("Add", ["x", "k"], ["y"], name: "add")
    },
    OddGraph(label: "constant of shape with a string value") { b in
      b.constant("s", .int64([1], [4]))
      var t = Tensor.float32([1], [0])
      t.dtype = .string
      b.node("ConstantOfShape", ["s"], ["k"], [Attribute("value", .tensor(t))], name: "cos")
      b.node("Add", ["x", "k"], ["y"], name: "add")
    },
  ]

  @Test(arguments: cases)
  func passesLeaveOddGraphsValid(_ c: OddGraph) throws {
    var b = GraphBuilder()
    b.input("x", [1, 4, 4, 4])
    c.build(&b)
    b.output("y")
    do {
      _ = try runPasses(myPasses, b.graph)
    } catch let e as GraftError {
      // A refusal is fine when it is one line that names the pass.
      #expect(!e.description.contains("\n") && e.description.contains("pass '"), "\(e)")
    }
  }

  @Test func constantOfShapeErrorsAreOneLine() throws {
    var b = GraphBuilder()
    b.constant("s", .int64([3], [10_000_000, 10_000_000, 10_000]))
    b.node("ConstantOfShape", ["s"], ["y"], name: "cos")
    b.output("y")
    #expect {
      _ = try runPasses([ConstantFolding()], b.graph)
    } throws: { e in
      (e as? GraftError)?.description
        == "test.onnx: node 'cos' (ConstantOfShape): tensor 's': pass 'constant-folding': shape [10000000, 10000000, 10000] is too large"
    }
  }
}
