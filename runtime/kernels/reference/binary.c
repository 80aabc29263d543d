/* Elementwise binary and variadic kernels with ONNX multidirectional broadcasting.
   Contract: the output view gives the result shape; every input must broadcast to it (each
   dim equal or 1, right-aligned). Rows come from gk_bcast (collapsed loop nest), and each row is
   one of four tight loops (both inputs streaming, either one a scalar, or both scalars) that
   the compiler vectorizes. add_f32/mul_f32 apply the fused activation (act attrs) afterwards.
   Integer division by zero is GRAFT_E_NUMERIC; outputs of comparisons are bool (0/1 bytes). */
#include "gk_vectorize.h"
#include <math.h>
#include "act.h"
#include "kcommon.h"

typedef struct bin_ctx {
  void *o;
  const void *a, *b;
} bin_ctx;

/* Defines a row function `name##_row` computing o = EXPR(x, y) with x from a, y from b. */
#define GK_BIN_ROW(name, TA, TO, EXPR)                                                        \
  static void name##_row(void *ctx, const int64_t *off, const int64_t *in, int64_t n) {      \
    bin_ctx *k = (bin_ctx *)ctx;                                                             \
    TO *o = (TO *)k->o + off[0];                                                             \
    const TA *a = (const TA *)k->a + off[1];                                                 \
    const TA *b = (const TA *)k->b + off[2];                                                 \
    int64_t i;                                                                               \
    if (in[1] && in[2]) {                                                                    \
      for (i = 0; i < n; ++i) { TA x = a[i], y = b[i]; o[i] = (TO)(EXPR); }                  \
    } else if (in[1]) {                                                                      \
      TA y = b[0];                                                                           \
      for (i = 0; i < n; ++i) { TA x = a[i]; o[i] = (TO)(EXPR); }                            \
    } else if (in[2]) {                                                                      \
      TA x = a[0];                                                                           \
      for (i = 0; i < n; ++i) { TA y = b[i]; o[i] = (TO)(EXPR); }                            \
    } else {                                                                                 \
      TA x = a[0], y = b[0];                                                                 \
      TO v = (TO)(EXPR);                                                                     \
      for (i = 0; i < n; ++i) o[i] = v;                                                      \
    }                                                                                        \
  }

/* Checks dtypes (inputs `ta`, output `to`) and broadcastability of inputs [0, nin). */
static graft_status bin_check(const graft_call *c, int32_t nin, int32_t ta, int32_t to) {
  const graft_tensor *out = gk_out(c, 0);
  if (!gk_is(out, to) || nin < 1 || c->n_inputs != nin) return GRAFT_E_SHAPE;
  for (int32_t i = 0; i < nin; ++i) {
    const graft_tensor *t = gk_in(c, i);
    gk_bcast b;
    if (!gk_is(t, ta) || !gk_bcast_init(&b, out, &t, 1)) return GRAFT_E_SHAPE;
  }
  return GRAFT_OK;
}

/* Runs `row` over out = f(a, b) with broadcasting. */
static graft_status bin_run(const graft_tensor *a, const graft_tensor *b, graft_tensor *out, gk_row_fn row) {
  const graft_tensor *ins[2] = {a, b};
  gk_bcast bc;
  if (!gk_bcast_init(&bc, out, ins, 2)) return GRAFT_E_SHAPE;
  bin_ctx k = {out->data, a->data, b->data};
  gk_bcast_rows(&bc, row, &k);
  return GRAFT_OK;
}

#define GK_BINARY(name, TA, TO, DTA, DTO, EXPR, ACT)                                          \
  GK_BIN_ROW(name, TA, TO, EXPR)                                                             \
  graft_status graft_##name##_check(const graft_call *c) { return bin_check(c, 2, DTA, DTO); } \
  size_t graft_##name##_scratch(const graft_call *c) { (void)c; return 0; }                  \
  graft_status graft_##name##_eval(const graft_call *c) {                                    \
    graft_tensor *out = gk_out(c, 0);                                                        \
    graft_status st = bin_run(gk_in(c, 0), gk_in(c, 1), out, name##_row);                    \
    if (ACT && st == GRAFT_OK) graft_act_apply_f32((float *)out->data, (size_t)gk_count(out), graft_act_of(c)); \
    return st;                                                                               \
  }

#define F32 GRAFT_DTYPE_FLOAT32
#define I64 GRAFT_DTYPE_INT64
#define BOOL GRAFT_DTYPE_BOOL

GK_BINARY(add_f32, float, float, F32, F32, x + y, 1)
GK_BINARY(sub_f32, float, float, F32, F32, x - y, 0)
GK_BINARY(mul_f32, float, float, F32, F32, x * y, 1)
GK_BINARY(div_f32, float, float, F32, F32, x / y, 0)
GK_BINARY(pow_f32, float, float, F32, F32, powf(x, y), 0)
GK_BINARY(mod_f32, float, float, F32, F32, fmodf(x, y), 0)
GK_BINARY(equal_f32, float, uint8_t, F32, BOOL, x == y, 0)
GK_BINARY(less_f32, float, uint8_t, F32, BOOL, x < y, 0)
GK_BINARY(greater_f32, float, uint8_t, F32, BOOL, x > y, 0)
GK_BINARY(less_equal_f32, float, uint8_t, F32, BOOL, x <= y, 0)
GK_BINARY(greater_equal_f32, float, uint8_t, F32, BOOL, x >= y, 0)
/* Wrapping two's-complement arithmetic (computed unsigned: no undefined behaviour). */
GK_BINARY(add_i64, int64_t, int64_t, I64, I64, (int64_t)((uint64_t)x + (uint64_t)y), 0)
GK_BINARY(sub_i64, int64_t, int64_t, I64, I64, (int64_t)((uint64_t)x - (uint64_t)y), 0)
GK_BINARY(mul_i64, int64_t, int64_t, I64, I64, (int64_t)((uint64_t)x * (uint64_t)y), 0)
GK_BINARY(equal_i64, int64_t, uint8_t, I64, BOOL, x == y, 0)
GK_BINARY(less_i64, int64_t, uint8_t, I64, BOOL, x < y, 0)
GK_BINARY(greater_i64, int64_t, uint8_t, I64, BOOL, x > y, 0)
GK_BINARY(and_bool, uint8_t, uint8_t, BOOL, BOOL, (x != 0) & (y != 0), 0)
GK_BINARY(or_bool, uint8_t, uint8_t, BOOL, BOOL, (x != 0) | (y != 0), 0)
GK_BINARY(xor_bool, uint8_t, uint8_t, BOOL, BOOL, (x != 0) ^ (y != 0), 0)

/* div_i64: truncating division (C and onnxruntime); y == 0 -> GRAFT_E_NUMERIC;
   INT64_MIN / -1 wraps to INT64_MIN. The divisor is scanned first so nothing is half-written. */
GK_BIN_ROW(div_i64, int64_t, int64_t, (y == -1 ? (int64_t)(0u - (uint64_t)x) : x / y))
graft_status graft_div_i64_check(const graft_call *c) { return bin_check(c, 2, I64, I64); }
size_t graft_div_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_div_i64_eval(const graft_call *c) {
  const graft_tensor *b = gk_in(c, 1);
  const int64_t *bd = (const int64_t *)b->data;
  for (int64_t i = 0, n = gk_count(b); i < n; ++i)
    if (bd[i] == 0) return GRAFT_E_NUMERIC;
  return bin_run(gk_in(c, 0), b, gk_out(c, 0), div_i64_row);
}

/* ---- Variadic max/min/sum/mean: out = in0 broadcast, then out = f(out, in_k) ------------- */

#define GK_COPY_ROW(name, T)                                                                 \
  static void name##_row(void *ctx, const int64_t *off, const int64_t *in, int64_t n) {      \
    bin_ctx *k = (bin_ctx *)ctx;                                                             \
    T *o = (T *)k->o + off[0];                                                               \
    const T *a = (const T *)k->a + off[1];                                                   \
    if (in[1]) memcpy(o, a, (size_t)n * sizeof(T));                                          \
    else for (int64_t i = 0; i < n; ++i) o[i] = a[0];                                        \
  }
GK_COPY_ROW(copy32, float)
GK_COPY_ROW(copy64, int64_t)

GK_BIN_ROW(vmax_f32, float, float, (x != x || y != y) ? x + y : (x > y ? x : y))
GK_BIN_ROW(vmin_f32, float, float, (x != x || y != y) ? x + y : (x < y ? x : y))
GK_BIN_ROW(vsum_f32, float, float, x + y)
GK_BIN_ROW(vmax_i64, int64_t, int64_t, x > y ? x : y)
GK_BIN_ROW(vmin_i64, int64_t, int64_t, x < y ? x : y)

static graft_status variadic_run(const graft_call *c, gk_row_fn copy, gk_row_fn step) {
  graft_tensor *out = gk_out(c, 0);
  const graft_tensor *in0 = gk_in(c, 0);
  gk_bcast bc;
  if (!gk_bcast_init(&bc, out, &in0, 1)) return GRAFT_E_SHAPE;
  bin_ctx k0 = {out->data, in0->data, 0};
  gk_bcast_rows(&bc, copy, &k0);
  for (int32_t i = 1; i < c->n_inputs; ++i) {
    graft_status st = bin_run(out, gk_in(c, i), out, step);
    if (st != GRAFT_OK) return st;
  }
  return GRAFT_OK;
}

#define GK_VARIADIC(name, DT, COPY, STEP, POST)                                              \
  graft_status graft_##name##_check(const graft_call *c) { return bin_check(c, c->n_inputs, DT, DT); } \
  size_t graft_##name##_scratch(const graft_call *c) { (void)c; return 0; }                  \
  graft_status graft_##name##_eval(const graft_call *c) {                                    \
    graft_status st = variadic_run(c, COPY, STEP);                                           \
    if (st == GRAFT_OK) POST;                                                                \
    return st;                                                                               \
  }

static void scale_out(const graft_call *c) {
  graft_tensor *out = gk_out(c, 0);
  float *o = (float *)out->data, d = (float)c->n_inputs;
  if (c->n_inputs == 1) return;
  for (int64_t i = 0, n = gk_count(out); i < n; ++i) o[i] /= d;
}

GK_VARIADIC(max_f32, F32, copy32_row, vmax_f32_row, (void)0)
GK_VARIADIC(min_f32, F32, copy32_row, vmin_f32_row, (void)0)
GK_VARIADIC(sum_f32, F32, copy32_row, vsum_f32_row, (void)0)
GK_VARIADIC(mean_f32, F32, copy32_row, vsum_f32_row, scale_out(c))
GK_VARIADIC(max_i64, I64, copy64_row, vmax_i64_row, (void)0)
GK_VARIADIC(min_i64, I64, copy64_row, vmin_i64_row, (void)0)
