/// The ONNX operators (domain ai.onnx) Graft claims: every op `Lowering` maps to a runtime
/// kernel, plus the ops the portable pipeline always folds away at compile time (shape
/// arithmetic, constants, identities, `If` on a constant condition). `graft ops` prints this
/// list and the conformance runner (`scripts/conformance.py`) holds Graft to it: every ONNX
/// backend test whose ops are all claimed must pass.
/// Claimed means: supported for float32 tensors (the i64/bool variants listed in
/// `graft_kernels.h` where the op has them); other dtypes are refused at compile time by name.
public enum SupportedOps {
  /// Ops lowered to a runtime kernel.
  public static let lowered: [String] = [
    "Abs", "Add", "And", "ArgMax", "ArgMin", "AveragePool", "BatchNormalization", "Cast", "Ceil",
    "Clip", "Concat", "Conv", "ConvTranspose", "Cos", "DepthToSpace", "Div", "Elu", "Equal", "Erf",
    "Exp", "Expand", "Flatten", "Floor", "GRU", "Gather", "GatherElements", "Gelu", "Gemm",
    "GlobalAveragePool", "GlobalMaxPool", "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish",
    "InstanceNormalization", "LRN", "LSTM", "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual",
    "Log", "LogSoftmax", "LpPool", "MatMul", "Max", "MaxPool", "Mean", "Min", "Mod", "Mul", "Neg",
    "Not", "Or", "PRelu", "Pad", "Pow", "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSumExp",
    "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu",
    "Reshape", "Resize", "Round", "Selu", "Sigmoid", "Sign", "Sin", "Slice", "Softmax", "Softplus",
    "Softsign", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tanh", "Tile", "Transpose",
    "Unsqueeze", "Upsample", "Where", "Xor",
  ]

  /// Ops the pipeline always removes or folds before lowering once shapes are static.
  public static let folded: [String] = ["Constant", "Dropout", "Identity", "Shape", "Size"]

  /// Ops folded only when their inputs are constant (a `--bind` may make them so); otherwise
  /// refused by name. Not claimed: they need data-dependent shapes or control flow otherwise.
  public static let foldedWhenConstant: [String] = ["ConstantOfShape", "If", "Range"]

  /// The claimed ops.
  public static var all: [String] { (lowered + folded).sorted() }

  /// Element types (ONNX names) an op is claimed for, judged by its data input (input 0;
  /// `Where`: input 1; `Cast`: input and `to`). "any" = every fixed-size type.
  public static func dtypes(_ op: String) -> [String] {
    switch op {
    case "Add", "Sub", "Mul", "Div", "Equal", "Less", "Greater", "Max", "Min": return ["float", "int64"]
    case "And", "Or", "Xor", "Not": return ["bool"]
    case "Concat", "Split", "Slice", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose",
         "Gather", "GatherElements", "Tile", "Expand", "Where", "Cast", "DepthToSpace", "SpaceToDepth",
         "Identity", "Dropout", "Shape", "Size", "Constant":
      return ["any"]
    default: return ["float"]
    }
  }
}
