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

  /// Ops the pipeline removes or folds before lowering (never reach the runtime).
  public static let folded: [String] = [
    "Constant", "ConstantOfShape", "Dropout", "Identity", "If", "Range", "Shape", "Size",
  ]

  public static var all: [String] { (lowered + folded).sorted() }
}
