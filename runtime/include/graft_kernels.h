/*
 * graft_kernels.h — the kernel ABI shared by the C runtime and the Graft compiler.
 *
 * Contract
 * - A kernel is three pure functions over tensor views: `check` (shapes, dtypes and
 *   attributes are consistent; called once when an archive is opened, and by the compiler
 *   before it writes one), `scratch` (bytes of scratch memory `eval` needs; a pure function of
 *   shapes and attributes, called by the compiler's memory planner), and `eval` (computes the
 *   outputs; trusts that `check` passed; never allocates, never does stdio, never touches
 *   memory outside the views and the scratch buffer it is given).
 * - Kernel ids are written into archives: an id never changes meaning. New kernels get new ids.
 * - Tensor data pointers are aligned to GRAFT_ALIGN bytes when they come from an archive or
 *   an arena; kernels must still be correct (if slower) for 4-byte-aligned float data.
 * - Attributes are a small typed key/value list (keys below mirror ONNX attribute names).
 *   The compiler writes every attribute a kernel reads with its ONNX default filled in, and
 *   resolves `auto_pad` into explicit `pads`; kernels still apply ONNX defaults when a key is
 *   absent so that they are correct on their own.
 *
 * C99; compiles as C++ too.
 */
#ifndef GRAFT_KERNELS_H
#define GRAFT_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRAFT_MAX_RANK 8
#define GRAFT_ALIGN 64

/* Status codes. 0 is success; every failure is negative and has a name (graft_status_name). */
typedef enum graft_status {
  GRAFT_OK = 0,
  GRAFT_E_ARG = -1,             /* API misuse: NULL pointer, bad index */
  GRAFT_E_FORMAT = -2,          /* archive malformed: bad magic, section table, counts */
  GRAFT_E_VERSION = -3,         /* archive format version not supported */
  GRAFT_E_TRUNCATED = -4,       /* archive shorter than its header/sections declare */
  GRAFT_E_CRC = -5,             /* a section's CRC32 does not match */
  GRAFT_E_BOUNDS = -6,          /* an offset/size points outside its section or the arena */
  GRAFT_E_KERNEL = -7,          /* unknown kernel id, or a kernel not built into this runtime */
  GRAFT_E_ARITY = -8,           /* wrong number of inputs/outputs for a kernel */
  GRAFT_E_SHAPE = -9,           /* shapes/dtypes/attributes inconsistent for a kernel */
  GRAFT_E_ARENA_TOO_SMALL = -10,/* caller's arena smaller than the plan needs */
  GRAFT_E_UNSUPPORTED = -11,    /* valid request this build does not implement */
  GRAFT_E_DECOMPRESS = -12,     /* compressed section does not inflate to its declared size */
  GRAFT_E_NUMERIC = -13,        /* data-dependent failure at run time (index out of range) */
  GRAFT_E_ALIGN = -14           /* a buffer is not aligned as required */
} graft_status;

/* Element types use ONNX's TensorProto.DataType numbering. */
typedef enum graft_dtype {
  GRAFT_DTYPE_UNDEFINED = 0,
  GRAFT_DTYPE_FLOAT32 = 1,
  GRAFT_DTYPE_UINT8 = 2,
  GRAFT_DTYPE_INT8 = 3,
  GRAFT_DTYPE_UINT16 = 4,
  GRAFT_DTYPE_INT16 = 5,
  GRAFT_DTYPE_INT32 = 6,
  GRAFT_DTYPE_INT64 = 7,
  GRAFT_DTYPE_BOOL = 9,
  GRAFT_DTYPE_FLOAT16 = 10,
  GRAFT_DTYPE_FLOAT64 = 11,
  GRAFT_DTYPE_UINT32 = 12,
  GRAFT_DTYPE_UINT64 = 13,
  GRAFT_DTYPE_BFLOAT16 = 16,
  GRAFT_DTYPE_INT4 = 22          /* two per byte, low nibble first (ONNX INT4 packing) */
} graft_dtype;

/* Bytes per element, 0 for unknown or sub-byte types. */
size_t graft_dtype_size(int32_t dtype);

/* A view of one tensor. Row-major (C order), dense. */
typedef struct graft_tensor {
  void *data;                    /* NULL when only shapes are known (check/scratch) */
  int32_t dtype;                 /* graft_dtype */
  int32_t rank;                  /* 0..GRAFT_MAX_RANK; rank 0 is a scalar of 1 element */
  int64_t dims[GRAFT_MAX_RANK];
  /* Quantization (dtype INT8/UINT8/INT4 weights and activations); count 0 when not quantized.
     count 1 = per tensor; count = dims[axis] = per channel along `axis`. */
  const float *scale;
  const int32_t *zero_point;
  int32_t quant_count;
  int32_t quant_axis;
} graft_tensor;

int64_t graft_tensor_count(const graft_tensor *t); /* product of dims (1 for rank 0) */

/* Attribute keys. Names mirror ONNX attribute names; GRAFT_ATTR_ACT* are Graft's fused
   activation (see graft_act). Values are stable: they are written into archives. */
#define GRAFT_ATTR_LIST(X) \
  X(1, AXIS, "axis") \
  X(2, AXES, "axes") \
  X(3, KERNEL_SHAPE, "kernel_shape") \
  X(4, STRIDES, "strides") \
  X(5, PADS, "pads") \
  X(6, DILATIONS, "dilations") \
  X(7, GROUP, "group") \
  X(8, ALPHA, "alpha") \
  X(9, BETA, "beta") \
  X(10, GAMMA, "gamma") \
  X(11, EPSILON, "epsilon") \
  X(12, TRANS_A, "transA") \
  X(13, TRANS_B, "transB") \
  X(14, PERM, "perm") \
  X(15, KEEPDIMS, "keepdims") \
  X(16, SELECT_LAST_INDEX, "select_last_index") \
  X(17, CEIL_MODE, "ceil_mode") \
  X(18, COUNT_INCLUDE_PAD, "count_include_pad") \
  X(19, STORAGE_ORDER, "storage_order") \
  X(20, SIZE, "size") \
  X(21, BIAS, "bias") \
  X(22, MODE, "mode") /* Pad: 0 constant 1 reflect 2 edge 3 wrap; Resize: 0 nearest 1 linear 2 cubic */ \
  X(23, COORD_MODE, "coordinate_transformation_mode") /* see GRAFT_COORD_* */ \
  X(24, NEAREST_MODE, "nearest_mode") /* see GRAFT_NEAREST_* */ \
  X(25, CUBIC_COEFF_A, "cubic_coeff_a") \
  X(26, EXCLUDE_OUTSIDE, "exclude_outside") \
  X(27, EXTRAPOLATION_VALUE, "extrapolation_value") \
  X(28, TO, "to") \
  X(29, STARTS, "starts") \
  X(30, ENDS, "ends") \
  X(31, STEPS, "steps") \
  X(32, SPLIT, "split") \
  X(33, VALUE, "value") /* Pad constant value (float) */ \
  X(34, HIDDEN_SIZE, "hidden_size") \
  X(35, DIRECTION, "direction") /* 0 forward 1 reverse 2 bidirectional */ \
  X(36, LINEAR_BEFORE_RESET, "linear_before_reset") \
  X(37, LAYOUT, "layout") \
  X(38, ACTIVATIONS, "activations") /* ints: GRAFT_ACT_* per gate function */ \
  X(39, CLIP, "clip") \
  X(40, INPUT_FORGET, "input_forget") \
  X(41, APPROXIMATE, "approximate") /* Gelu: 0 none 1 tanh */ \
  X(42, STASH_TYPE, "stash_type") \
  X(43, OUTPUT_PADDING, "output_padding") \
  X(44, OUTPUT_SHAPE, "output_shape") \
  X(45, SCALES, "scales") /* Resize: floats, one per axis (resolved by the compiler) */ \
  X(46, MIN, "min") \
  X(47, MAX, "max") \
  X(48, NOOP_WITH_EMPTY_AXES, "noop_with_empty_axes") \
  X(49, REPEATS, "repeats") \
  X(50, SHAPE, "shape") \
  X(51, ACT, "graft.act")             /* fused activation kind, GRAFT_ACT_* */ \
  X(52, ACT_ALPHA, "graft.act_alpha") /* its first parameter */ \
  X(53, ACT_BETA, "graft.act_beta")   /* its second parameter */ \
  X(54, BATCH_DIMS, "batch_dims") \
  X(55, REDUCE_OP, "graft.reduce_op") \
  X(56, ANTIALIAS, "antialias") \
  X(57, KEEP_ASPECT_RATIO_POLICY, "keep_aspect_ratio_policy") \
  X(58, P, "p") \
  X(59, BLOCK_SIZE, "block_size")

typedef enum graft_attr_key {
  GRAFT_ATTR_NONE = 0,
#define GRAFT__ATTR_ENUM(id, name, onnx) GRAFT_ATTR_##name = id,
  GRAFT_ATTR_LIST(GRAFT__ATTR_ENUM)
#undef GRAFT__ATTR_ENUM
  GRAFT_ATTR_END
} graft_attr_key;

typedef enum graft_attr_type {
  GRAFT_ATTR_T_INT = 1,   /* one int64 */
  GRAFT_ATTR_T_INTS = 2,  /* int64[count] */
  GRAFT_ATTR_T_FLOAT = 3, /* one float32 */
  GRAFT_ATTR_T_FLOATS = 4 /* float32[count] */
} graft_attr_type;

/* One attribute. `ints`/`floats` point into the archive (8-byte aligned) or compiler memory. */
typedef struct graft_attr {
  int32_t key;   /* graft_attr_key */
  int32_t type;  /* graft_attr_type */
  int32_t count; /* 1 for INT/FLOAT */
  const int64_t *ints;
  const float *floats;
} graft_attr;

/* Fused activations (applied by a producing kernel to its output, and by graft_act kernels). */
typedef enum graft_act {
  GRAFT_ACT_NONE = 0,
  GRAFT_ACT_RELU = 1,
  GRAFT_ACT_CLIP = 2,        /* min = ACT_ALPHA, max = ACT_BETA (Relu6 = clip 0..6) */
  GRAFT_ACT_LEAKY_RELU = 3,  /* alpha = ACT_ALPHA */
  GRAFT_ACT_HARD_SIGMOID = 4,/* max(0, min(1, alpha*x + beta)) */
  GRAFT_ACT_HARD_SWISH = 5,  /* x * max(0, min(1, x/6 + 0.5)) */
  GRAFT_ACT_SIGMOID = 6,
  GRAFT_ACT_SILU = 7,        /* x * sigmoid(x) */
  GRAFT_ACT_TANH = 8,
  GRAFT_ACT_GELU = 9,        /* exact (erf) form */
  GRAFT_ACT_GELU_TANH = 10,
  GRAFT_ACT_ELU = 11,        /* alpha */
  GRAFT_ACT_SELU = 12,       /* alpha, gamma=ACT_BETA */
  GRAFT_ACT_SOFTPLUS = 13,
  GRAFT_ACT_SOFTSIGN = 14,
  GRAFT_ACT_AFFINE = 15      /* alpha*x + beta (RNN gate functions) */
} graft_act;

/* Resize coordinate modes (GRAFT_ATTR_COORD_MODE) and nearest modes. */
enum {
  GRAFT_COORD_HALF_PIXEL = 0,
  GRAFT_COORD_ASYMMETRIC = 1,
  GRAFT_COORD_ALIGN_CORNERS = 2,
  GRAFT_COORD_PYTORCH_HALF_PIXEL = 3,
  GRAFT_COORD_TF_HALF_PIXEL_FOR_NN = 4,
  GRAFT_COORD_HALF_PIXEL_SYMMETRIC = 5,
  GRAFT_COORD_TF_CROP_AND_RESIZE = 6
};
enum {
  GRAFT_NEAREST_ROUND_PREFER_FLOOR = 0,
  GRAFT_NEAREST_ROUND_PREFER_CEIL = 1,
  GRAFT_NEAREST_FLOOR = 2,
  GRAFT_NEAREST_CEIL = 3
};

/* One kernel invocation. Optional ONNX inputs that are omitted are NULL entries. */
typedef struct graft_call {
  const graft_tensor *const *inputs;
  graft_tensor *const *outputs;
  int32_t n_inputs;
  int32_t n_outputs;
  const graft_attr *attrs;
  int32_t n_attrs;
  void *scratch;         /* GRAFT_ALIGN-aligned, `scratch_bytes` long (may be NULL if 0) */
  size_t scratch_bytes;
} graft_call;

/* Attribute accessors: absent key -> default / NULL with count 0. */
int64_t graft_attr_int(const graft_call *c, int32_t key, int64_t dflt);
float graft_attr_float(const graft_call *c, int32_t key, float dflt);
/* Returns the count (0 if absent) and sets *out to the values (NULL if absent). */
int32_t graft_attr_ints(const graft_call *c, int32_t key, const int64_t **out);
int32_t graft_attr_floats(const graft_call *c, int32_t key, const float **out);

typedef graft_status (*graft_kernel_check_fn)(const graft_call *c);
typedef size_t (*graft_kernel_scratch_fn)(const graft_call *c);
typedef graft_status (*graft_kernel_eval_fn)(const graft_call *c);

typedef struct graft_kernel {
  uint32_t id;
  const char *name;           /* "conv_f32" */
  int32_t min_inputs, max_inputs;
  int32_t min_outputs, max_outputs;
  graft_kernel_check_fn check;
  graft_kernel_scratch_fn scratch; /* NULL = needs no scratch */
  graft_kernel_eval_fn eval;
} graft_kernel;

/* The kernel with this id, or NULL if unknown or not built into this runtime
   (trimmed builds define GRAFT_USE_<NAME> for the kernels they keep). */
const graft_kernel *graft_kernel_get(uint32_t id);
/* The kernel with this name ("conv_f32"), or NULL. For tools, not for the hot path. */
const graft_kernel *graft_kernel_find(const char *name);

/*
 * The kernel list: X(id, name, min_in, max_in, min_out, max_out).
 * A kernel named `foo_f32` is implemented by graft_foo_f32_check / _scratch / _eval
 * (scratch is optional: a kernel without scratch defines GRAFT_NO_SCRATCH for it, see
 * kernels/kernel_table.c). `_any` kernels move elements of any fixed-size dtype.
 * Ids are stable; append only.
 */
#define GRAFT_KERNEL_LIST(X) \
  /* contraction and convolution */ \
  X(1, conv_f32, 2, 3, 1, 1)            /* X, W, [B]; attrs group strides pads dilations act */ \
  X(2, conv_transpose_f32, 2, 3, 1, 1)  /* X, W, [B]; pads resolved; output_padding */ \
  X(3, gemm_f32, 2, 3, 1, 1)            /* A, B, [C]; alpha beta transA transB act */ \
  X(4, matmul_f32, 2, 3, 1, 1)          /* A, B, [bias over last dim]; numpy matmul; act */ \
  /* normalization */ \
  X(10, batchnorm_f32, 5, 5, 1, 1)      /* X scale B mean var; epsilon */ \
  X(11, instancenorm_f32, 3, 3, 1, 1)   /* X scale B; epsilon */ \
  X(12, layernorm_f32, 2, 3, 1, 3)      /* X scale [B]; axis epsilon; [Mean, InvStdDev] */ \
  X(13, lrn_f32, 1, 1, 1, 1)            /* size alpha beta bias */ \
  /* activations (unary, f32) */ \
  X(20, act_f32, 1, 1, 1, 1)            /* act act_alpha act_beta: every graft_act */ \
  X(21, prelu_f32, 2, 2, 1, 1)          /* X, slope (unidirectional broadcast) */ \
  X(22, softmax_f32, 1, 1, 1, 1)        /* axis (opset>=13 semantics; compiler rewrites older) */ \
  X(23, log_softmax_f32, 1, 1, 1, 1) \
  /* elementwise unary math (f32) */ \
  X(30, erf_f32, 1, 1, 1, 1) \
  X(31, exp_f32, 1, 1, 1, 1) \
  X(32, log_f32, 1, 1, 1, 1) \
  X(33, sqrt_f32, 1, 1, 1, 1) \
  X(34, neg_f32, 1, 1, 1, 1) \
  X(35, abs_f32, 1, 1, 1, 1) \
  X(36, reciprocal_f32, 1, 1, 1, 1) \
  X(37, floor_f32, 1, 1, 1, 1) \
  X(38, ceil_f32, 1, 1, 1, 1) \
  X(39, round_f32, 1, 1, 1, 1) \
  X(40, sin_f32, 1, 1, 1, 1) \
  X(41, cos_f32, 1, 1, 1, 1) \
  X(42, sign_f32, 1, 1, 1, 1) \
  X(43, not_bool, 1, 1, 1, 1) \
  /* elementwise binary with multidirectional broadcast */ \
  X(50, add_f32, 2, 2, 1, 1)            /* act */ \
  X(51, sub_f32, 2, 2, 1, 1) \
  X(52, mul_f32, 2, 2, 1, 1)            /* act */ \
  X(53, div_f32, 2, 2, 1, 1) \
  X(54, pow_f32, 2, 2, 1, 1) \
  X(55, max_f32, 1, 16, 1, 1)           /* variadic */ \
  X(56, min_f32, 1, 16, 1, 1) \
  X(57, sum_f32, 1, 16, 1, 1) \
  X(58, mean_f32, 1, 16, 1, 1) \
  X(59, equal_f32, 2, 2, 1, 1)          /* -> bool */ \
  X(60, less_f32, 2, 2, 1, 1) \
  X(61, greater_f32, 2, 2, 1, 1) \
  X(62, less_equal_f32, 2, 2, 1, 1) \
  X(63, greater_equal_f32, 2, 2, 1, 1) \
  X(64, add_i64, 2, 2, 1, 1) \
  X(65, sub_i64, 2, 2, 1, 1) \
  X(66, mul_i64, 2, 2, 1, 1) \
  X(67, div_i64, 2, 2, 1, 1) \
  X(68, equal_i64, 2, 2, 1, 1) \
  X(69, and_bool, 2, 2, 1, 1) \
  X(70, or_bool, 2, 2, 1, 1) \
  X(71, xor_bool, 2, 2, 1, 1) \
  X(72, mod_f32, 2, 2, 1, 1) \
  X(73, less_i64, 2, 2, 1, 1) \
  X(74, greater_i64, 2, 2, 1, 1) \
  X(75, max_i64, 1, 16, 1, 1) \
  X(76, min_i64, 1, 16, 1, 1) \
  /* pooling */ \
  X(80, maxpool_f32, 1, 1, 1, 1)        /* kernel_shape strides pads dilations ceil_mode (pads resolved) */ \
  X(81, avgpool_f32, 1, 1, 1, 1)        /* + count_include_pad */ \
  X(82, global_avgpool_f32, 1, 1, 1, 1) \
  X(83, global_maxpool_f32, 1, 1, 1, 1) \
  X(84, lppool_f32, 1, 1, 1, 1) \
  /* reductions (axes resolved and sorted; keepdims) */ \
  X(90, reduce_mean_f32, 1, 1, 1, 1) \
  X(91, reduce_sum_f32, 1, 1, 1, 1) \
  X(92, reduce_max_f32, 1, 1, 1, 1) \
  X(93, reduce_min_f32, 1, 1, 1, 1) \
  X(94, reduce_l2_f32, 1, 1, 1, 1) \
  X(95, reduce_prod_f32, 1, 1, 1, 1) \
  X(96, reduce_l1_f32, 1, 1, 1, 1) \
  X(97, reduce_sumsq_f32, 1, 1, 1, 1) \
  X(98, reduce_logsumexp_f32, 1, 1, 1, 1) \
  X(99, argmax_f32, 1, 1, 1, 1)         /* axis keepdims select_last_index -> int64 */ \
  X(100, argmin_f32, 1, 1, 1, 1) \
  /* data movement, any fixed-size dtype (element size from the tensor) */ \
  X(110, copy_any, 1, 1, 1, 1)          /* Reshape/Flatten/Squeeze/Unsqueeze/Identity (may alias) */ \
  X(111, concat_any, 1, 64, 1, 1)       /* axis (non-negative) */ \
  X(112, split_any, 1, 1, 1, 64)        /* axis; output sizes from output shapes */ \
  X(113, slice_any, 1, 1, 1, 1)         /* starts ends axes steps (resolved, clamped) */ \
  X(114, pad_any, 1, 1, 1, 1)           /* pads (2*rank, may be negative) mode value */ \
  X(115, transpose_any, 1, 1, 1, 1)     /* perm */ \
  X(116, gather_any, 2, 2, 1, 1)        /* data, indices (int32/int64); axis */ \
  X(117, tile_any, 1, 1, 1, 1)          /* repeats (resolved) */ \
  X(118, expand_any, 1, 1, 1, 1)        /* output shape gives the target */ \
  X(119, where_any, 3, 3, 1, 1)         /* cond(bool), X, Y */ \
  X(120, cast_any, 1, 1, 1, 1)          /* to = output dtype (also from the output tensor) */ \
  X(121, gather_elements_any, 2, 2, 1, 1) \
  X(122, depth_to_space_any, 1, 1, 1, 1) /* blocksize, mode */ \
  X(123, space_to_depth_any, 1, 1, 1, 1) \
  /* resampling */ \
  X(130, resize_f32, 1, 1, 1, 1)        /* mode coord_mode nearest_mode cubic_coeff_a exclude_outside scales (per axis, resolved) */ \
  /* recurrent */ \
  X(140, lstm_f32, 3, 8, 0, 3)          /* X W R [B] [seq_lens] [initial_h] [initial_c] [P] -> [Y] [Y_h] [Y_c] */ \
  X(141, gru_f32, 3, 6, 0, 2)           /* X W R [B] [seq_lens] [initial_h] -> [Y] [Y_h] */

enum {
#define GRAFT__KERNEL_ENUM(id, name, mi, xi, mo, xo) GRAFT_KERNEL_##name = id,
  GRAFT_KERNEL_LIST(GRAFT__KERNEL_ENUM)
#undef GRAFT__KERNEL_ENUM
  GRAFT_KERNEL_ID_END
};

/* Declarations of every kernel function (definitions live in runtime/kernels/). */
#define GRAFT__KERNEL_DECL(id, name, mi, xi, mo, xo) \
  graft_status graft_##name##_check(const graft_call *call); \
  size_t graft_##name##_scratch(const graft_call *call); \
  graft_status graft_##name##_eval(const graft_call *call);
GRAFT_KERNEL_LIST(GRAFT__KERNEL_DECL)
#undef GRAFT__KERNEL_DECL

#ifdef __cplusplus
}
#endif
#endif /* GRAFT_KERNELS_H */
