/* Activations (act_f32, prelu_f32) and softmax/log_softmax, fp32.
   Contract: `graft_act_apply_f32` is also the fused-activation hook of conv/gemm/matmul/add/mul;
   it works in place, never allocates, and its loops are branch-free so that clang/gcc vectorize
   them at -O2 (exp/tanh/sigmoid use the polynomial gk_expf, ~2 ulp). */
#include "gk_vectorize.h"
#include <math.h>
#include "act.h"
#include "kcommon.h"

/* tanh with Cephes' odd polynomial below 0.625 and the exp form above (~2 ulp, no branches). */
static inline float gk_tanhf(float x) {
  float ax = fabsf(x);
  float z = x * x;
  float p = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
              1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
  float e = gk_expf(2.0f * ax);
  float q = 1.0f - 2.0f / (e + 1.0f);
  q = x < 0.0f ? -q : q;
  return ax < 0.625f ? p : q;
}

static inline float gk_sigmoidf(float x) { return 1.0f / (1.0f + gk_expf(-x)); }

/* Exact-form GELU, 0.5 x (1 + erf(x / sqrt 2)), through erfc(|z|) = t exp(-z^2 + P(t)),
   t = 1 / (1 + |z|/2) (Chebyshev fit, relative error < 1.2e-7): for x < 0 the result is
   0.5 x erfc(|z|) with no cancellation, for x >= 0 it is x (1 - erfc(z) / 2). Branch-free. */
static inline float gk_gelu(float x) {
  float z = fabsf(x) * 0.70710678118654752f, t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  float erfc = t * gk_expf(p - z * z);
  return x >= 0.0f ? x * (1.0f - 0.5f * erfc) : 0.5f * x * erfc;
}

/* The activation loops, written once: SRC/DST name the arrays (the same one in place).
   Every loop is branch-free so the compiler vectorizes it. */
#define GK_ACT_LOOPS(SRC, DST)                                                                \
  switch (p.kind) {                                                                          \
  case GRAFT_ACT_RELU: for (i = 0; i < n; ++i) DST[i] = SRC[i] > 0.0f ? SRC[i] : 0.0f; return; \
  case GRAFT_ACT_CLIP:                                                                       \
    for (i = 0; i < n; ++i) { float v = SRC[i] < p.a ? p.a : SRC[i]; DST[i] = v > p.b ? p.b : v; } \
    return;                                                                                  \
  case GRAFT_ACT_LEAKY_RELU: for (i = 0; i < n; ++i) DST[i] = SRC[i] >= 0.0f ? SRC[i] : p.a * SRC[i]; return; \
  case GRAFT_ACT_HARD_SIGMOID:                                                               \
    for (i = 0; i < n; ++i) {                                                                \
      float v = p.a * SRC[i] + p.b;                                                          \
      v = v < 0.0f ? 0.0f : v;                                                               \
      DST[i] = v > 1.0f ? 1.0f : v;                                                          \
    }                                                                                        \
    return;                                                                                  \
  case GRAFT_ACT_HARD_SWISH:                                                                 \
    for (i = 0; i < n; ++i) {                                                                \
      float v = SRC[i] * (1.0f / 6.0f) + 0.5f;                                               \
      v = v < 0.0f ? 0.0f : v;                                                               \
      v = v > 1.0f ? 1.0f : v;                                                               \
      DST[i] = SRC[i] * v;                                                                   \
    }                                                                                        \
    return;                                                                                  \
  case GRAFT_ACT_SIGMOID: for (i = 0; i < n; ++i) DST[i] = gk_sigmoidf(SRC[i]); return;      \
  case GRAFT_ACT_SILU: for (i = 0; i < n; ++i) DST[i] = SRC[i] * gk_sigmoidf(SRC[i]); return; \
  case GRAFT_ACT_TANH: for (i = 0; i < n; ++i) DST[i] = gk_tanhf(SRC[i]); return;            \
  case GRAFT_ACT_GELU: for (i = 0; i < n; ++i) DST[i] = gk_gelu(SRC[i]); return;             \
  case GRAFT_ACT_GELU_TANH:                                                                  \
    for (i = 0; i < n; ++i) {                                                                \
      float v = SRC[i];                                                                      \
      DST[i] = 0.5f * v * (1.0f + gk_tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v))); \
    }                                                                                        \
    return;                                                                                  \
  case GRAFT_ACT_ELU:                                                                        \
    for (i = 0; i < n; ++i) { float e = gk_expf(SRC[i]) - 1.0f; DST[i] = SRC[i] >= 0.0f ? SRC[i] : p.a * e; } \
    return;                                                                                  \
  case GRAFT_ACT_SELU:                                                                       \
    for (i = 0; i < n; ++i) {                                                                \
      float e = p.a * (gk_expf(SRC[i]) - 1.0f);                                              \
      DST[i] = p.b * (SRC[i] > 0.0f ? SRC[i] : e);                                           \
    }                                                                                        \
    return;                                                                                  \
  case GRAFT_ACT_SOFTPLUS: /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow */       \
    for (i = 0; i < n; ++i) { float v = SRC[i]; DST[i] = (v > 0.0f ? v : 0.0f) + log1pf(expf(-fabsf(v))); } \
    return;                                                                                  \
  case GRAFT_ACT_SOFTSIGN: for (i = 0; i < n; ++i) DST[i] = SRC[i] / (1.0f + fabsf(SRC[i])); return; \
  case GRAFT_ACT_AFFINE: for (i = 0; i < n; ++i) DST[i] = p.a * SRC[i] + p.b; return;        \
  default: break;                                                                            \
  }

/* The same loops compiled for the base ISA and, on x86-64 with GCC/clang, for AVX2+FMA and
   AVX-512 (picked at run time by graft_cpu_level_get, as sgemm does). Results may differ in the
   last bit between levels (FMA contraction), never more than the polynomials' error. */
#define GK_ACT_VARIANT(suffix, ATTR)                                                          \
  static ATTR void act_inplace##suffix(float *y, size_t n, graft_act_params p) {             \
    size_t i;                                                                                \
    GK_ACT_LOOPS(y, y)                                                                       \
  }                                                                                          \
  static ATTR void act_outplace##suffix(const float *restrict x, float *restrict y, size_t n, \
                                        graft_act_params p) {                                \
    size_t i;                                                                                \
    GK_ACT_LOOPS(x, y)                                                                       \
    memmove(y, x, n * sizeof(float)); /* NONE and unknown kinds copy */                      \
  }

GK_ACT_VARIANT(_base, )

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GK_ACT_X86 1
#include "../../src/cpu.h"
GK_ACT_VARIANT(_avx2, __attribute__((target("avx2,fma,avx"))))
GK_ACT_VARIANT(_avx512, __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,avx"))))
#endif

#if defined(__ARM_NEON)
/* NEON paths of the exp-based activations (armv7 GCC never auto-vectorizes fp32, NEON not being
   IEEE there). Handles y[0..n) for SIGMOID/SILU/TANH/ELU and returns 1, else returns 0;
   x and y may be the same array. Same polynomials as the scalar forms. */
static float32x4_t gk_tanhq_f32(float32x4_t x) {
  float32x4_t ax = vabsq_f32(x), z = vmulq_f32(x, x);
  float32x4_t p = vdupq_n_f32(-5.70498872745e-3f);
  p = gk_fmaq(vdupq_n_f32(2.06390887954e-2f), p, z);
  p = gk_fmaq(vdupq_n_f32(-5.37397155531e-2f), p, z);
  p = gk_fmaq(vdupq_n_f32(1.33314422036e-1f), p, z);
  p = gk_fmaq(vdupq_n_f32(-3.33332819422e-1f), p, z);
  p = gk_fmaq(x, vmulq_f32(p, z), x);
  float32x4_t e = gk_expq_f32(vaddq_f32(ax, ax));
  float32x4_t q = vsubq_f32(vdupq_n_f32(1.0f), gk_divq_f32(vdupq_n_f32(2.0f), vaddq_f32(e, vdupq_n_f32(1.0f))));
  q = vbslq_f32(vcltq_f32(x, vdupq_n_f32(0.0f)), vnegq_f32(q), q);
  return vbslq_f32(vcltq_f32(ax, vdupq_n_f32(0.625f)), p, q);
}
static int act_neon(const float *x, float *y, size_t n, graft_act_params p) {
  size_t i = 0;
  float32x4_t one = vdupq_n_f32(1.0f), zero = vdupq_n_f32(0.0f), a = vdupq_n_f32(p.a);
  switch (p.kind) {
  case GRAFT_ACT_SIGMOID:
    for (; i + 4 <= n; i += 4) {
      float32x4_t v = vld1q_f32(x + i);
      vst1q_f32(y + i, gk_divq_f32(one, vaddq_f32(one, gk_expq_f32(vnegq_f32(v)))));
    }
    for (; i < n; ++i) y[i] = gk_sigmoidf(x[i]);
    return 1;
  case GRAFT_ACT_SILU:
    for (; i + 4 <= n; i += 4) {
      float32x4_t v = vld1q_f32(x + i);
      vst1q_f32(y + i, gk_divq_f32(v, vaddq_f32(one, gk_expq_f32(vnegq_f32(v)))));
    }
    for (; i < n; ++i) y[i] = x[i] * gk_sigmoidf(x[i]);
    return 1;
  case GRAFT_ACT_TANH:
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, gk_tanhq_f32(vld1q_f32(x + i)));
    for (; i < n; ++i) y[i] = gk_tanhf(x[i]);
    return 1;
  case GRAFT_ACT_ELU:
    for (; i + 4 <= n; i += 4) {
      float32x4_t v = vld1q_f32(x + i);
      float32x4_t e = vmulq_f32(a, vsubq_f32(gk_expq_f32(v), one));
      vst1q_f32(y + i, vbslq_f32(vcgeq_f32(v, zero), v, e));
    }
    for (; i < n; ++i) { float e = gk_expf(x[i]) - 1.0f; y[i] = x[i] >= 0.0f ? x[i] : p.a * e; }
    return 1;
  default: return 0;
  }
}
#endif

/* y[j] = exp(x[j] - m), the softmax pass, in the same ISA variants; returns the sum of y
   (16 independent partial sums, so it vectorizes without reassociation flags). */
#define GK_EXP_SHIFT_VARIANT(suffix, ATTR)                                                    \
  static ATTR float exp_shift##suffix(const float *restrict x, float m, float *restrict y, int64_t n) { \
    float acc[16] = {0};                                                                     \
    int64_t j = 0;                                                                           \
    for (; j + 16 <= n; j += 16)                                                             \
      for (int k = 0; k < 16; ++k) { float e = gk_expf(x[j + k] - m); y[j + k] = e; acc[k] += e; } \
    float r = 0.0f;                                                                          \
    for (int k = 0; k < 16; ++k) r += acc[k];                                                \
    for (; j < n; ++j) { float e = gk_expf(x[j] - m); y[j] = e; r += e; }                   \
    return r;                                                                                \
  }
GK_EXP_SHIFT_VARIANT(_base, )
#ifdef GK_ACT_X86
GK_EXP_SHIFT_VARIANT(_avx2, __attribute__((target("avx2,fma,avx"))))
GK_EXP_SHIFT_VARIANT(_avx512, __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,avx"))))
#endif

static float exp_shift(const float *x, float m, float *y, int64_t n) {
#if defined(__ARM_NEON)
  int64_t j = 0;
  float32x4_t mv = vdupq_n_f32(m), acc = vdupq_n_f32(0.0f);
  for (; j + 4 <= n; j += 4) {
    float32x4_t e = gk_expq_f32(vsubq_f32(vld1q_f32(x + j), mv));
    vst1q_f32(y + j, e);
    acc = vaddq_f32(acc, e);
  }
  float r = (vgetq_lane_f32(acc, 0) + vgetq_lane_f32(acc, 1)) + (vgetq_lane_f32(acc, 2) + vgetq_lane_f32(acc, 3));
  for (; j < n; ++j) { float e = gk_expf(x[j] - m); y[j] = e; r += e; }
  return r;
#else
#ifdef GK_ACT_X86
  if (n >= 64) {
    graft_cpu_level lv = graft_cpu_level_get();
    if (lv == GRAFT_CPU_AVX512) return exp_shift_avx512(x, m, y, n);
    if (lv == GRAFT_CPU_AVX2) return exp_shift_avx2(x, m, y, n);
  }
#endif
  return exp_shift_base(x, m, y, n);
#endif
}

/* In place. */
static void act_inplace(float *y, size_t n, graft_act_params p) {
#if defined(__ARM_NEON)
  if (act_neon(y, y, n, p)) return;
#endif
#ifdef GK_ACT_X86
  if (n >= 64) {
    graft_cpu_level lv = graft_cpu_level_get();
    if (lv == GRAFT_CPU_AVX512) { act_inplace_avx512(y, n, p); return; }
    if (lv == GRAFT_CPU_AVX2) { act_inplace_avx2(y, n, p); return; }
  }
#endif
  act_inplace_base(y, n, p);
}

/* y[i] = act(x[i]); x and y may be the same array (never partially overlapping). */
static void act_f32(const float *x, float *y, size_t n, graft_act_params p) {
  if (x == y) {
    act_inplace(y, n, p);
    return;
  }
#if defined(__ARM_NEON)
  if (act_neon(x, y, n, p)) return;
#endif
#ifdef GK_ACT_X86
  if (n >= 64) {
    graft_cpu_level lv = graft_cpu_level_get();
    if (lv == GRAFT_CPU_AVX512) { act_outplace_avx512(x, y, n, p); return; }
    if (lv == GRAFT_CPU_AVX2) { act_outplace_avx2(x, y, n, p); return; }
  }
#endif
  act_outplace_base(x, y, n, p);
}

void graft_act_apply_f32(float *x, size_t n, graft_act_params p) { act_inplace(x, n, p); }

/* ---- act_f32 ------------------------------------------------------------------------------ */

/* Same-shape f32 -> f32. */
static graft_status unary_f32_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  const graft_tensor *y = gk_out(c, 0);
  if (!gk_is(x, GRAFT_DTYPE_FLOAT32) || !gk_is(y, GRAFT_DTYPE_FLOAT32)) return GRAFT_E_SHAPE;
  return gk_same_dims(x, y) ? GRAFT_OK : GRAFT_E_SHAPE;
}

graft_status graft_act_f32_check(const graft_call *c) {
  int64_t kind = graft_attr_int(c, GRAFT_ATTR_ACT, GRAFT_ACT_NONE);
  if (kind < GRAFT_ACT_NONE || kind > GRAFT_ACT_AFFINE) return GRAFT_E_SHAPE;
  return unary_f32_check(c);
}
size_t graft_act_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_act_f32_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  graft_tensor *y = gk_out(c, 0);
  act_f32((const float *)x->data, (float *)y->data, (size_t)gk_count(y), graft_act_of(c));
  return GRAFT_OK;
}

/* ---- prelu_f32: y = x >= 0 ? x : slope * x, slope broadcast to x ------------------------- */

graft_status graft_prelu_f32_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *s = gk_in(c, 1);
  if (unary_f32_check(c) != GRAFT_OK || !gk_is(s, GRAFT_DTYPE_FLOAT32)) return GRAFT_E_SHAPE;
  gk_bcast b;
  return gk_bcast_init(&b, x, &s, 1) ? GRAFT_OK : GRAFT_E_SHAPE;
}
size_t graft_prelu_f32_scratch(const graft_call *c) { (void)c; return 0; }

typedef struct prelu_ctx { float *y; const float *x, *s; } prelu_ctx;
static void prelu_row(void *ctx, const int64_t *off, const int64_t *in, int64_t n) {
  prelu_ctx *k = (prelu_ctx *)ctx;
  float *y = k->y + off[0];
  const float *x = k->x + off[0], *s = k->s + off[1];
  if (in[1]) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] >= 0.0f ? x[i] : s[i] * x[i];
  } else {
    float sv = s[0];
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] >= 0.0f ? x[i] : sv * x[i];
  }
}
graft_status graft_prelu_f32_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *s = gk_in(c, 1);
  graft_tensor *y = gk_out(c, 0);
  gk_bcast b;
  if (!gk_bcast_init(&b, x, &s, 1)) return GRAFT_E_SHAPE;
  prelu_ctx k = {(float *)y->data, (const float *)x->data, (const float *)s->data};
  gk_bcast_rows(&b, prelu_row, &k);
  return GRAFT_OK;
}

/* ---- softmax / log_softmax along `axis` (default -1), numerically stable ------------------
   Scratch: 2 * inner floats when the axis is not the innermost dim (running max and sum). */

static graft_status softmax_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  if (unary_f32_check(c) != GRAFT_OK) return GRAFT_E_SHAPE;
  if (x->rank == 0) return GRAFT_E_SHAPE;
  return gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, -1), x->rank) < 0 ? GRAFT_E_SHAPE : GRAFT_OK;
}

static size_t softmax_scratch(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  if (!x || !gk_valid(x) || x->rank == 0) return 0;
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, -1), x->rank);
  if (ax < 0) return 0;
  int64_t inner = gk_prod(x, ax + 1, x->rank);
  return inner > 1 ? (size_t)inner * 2 * sizeof(float) : 0;
}

/* Max and sum of a row with eight independent lanes, so the loops vectorize without
   reassociation flags (the result does not depend on the vector width). */
static float row_max(const float *x, int64_t n) {
  float m[8];
  int64_t j = 0;
  for (int k = 0; k < 8; ++k) m[k] = -INFINITY;
  for (; j + 8 <= n; j += 8)
    for (int k = 0; k < 8; ++k) m[k] = x[j + k] > m[k] ? x[j + k] : m[k];
  float r = m[0];
  for (int k = 1; k < 8; ++k) r = m[k] > r ? m[k] : r;
  for (; j < n; ++j) r = x[j] > r ? x[j] : r;
  return r;
}

static graft_status softmax_eval(const graft_call *c, int log_form) {
  const graft_tensor *xt = gk_in(c, 0);
  graft_tensor *yt = gk_out(c, 0);
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, -1), xt->rank);
  int64_t outer = gk_prod(xt, 0, ax), n = xt->dims[ax], inner = gk_prod(xt, ax + 1, xt->rank);
  const float *x = (const float *)xt->data;
  float *y = (float *)yt->data;
  if (n == 0 || outer == 0 || inner == 0) return GRAFT_OK;
  if (inner == 1) {
    for (int64_t o = 0; o < outer; ++o, x += n, y += n) {
      float m = row_max(x, n);
      float s = exp_shift(x, m, y, n);
      if (log_form) {
        float l = logf(s);
        for (int64_t j = 0; j < n; ++j) y[j] = (x[j] - m) - l;
      } else {
        float r = 1.0f / s;
        for (int64_t j = 0; j < n; ++j) y[j] *= r;
      }
    }
    return GRAFT_OK;
  }
  if (!c->scratch || c->scratch_bytes < (size_t)inner * 2 * sizeof(float)) return GRAFT_E_ARG;
  float *mx = (float *)c->scratch, *sm = mx + inner;
  for (int64_t o = 0; o < outer; ++o, x += n * inner, y += n * inner) {
    memcpy(mx, x, (size_t)inner * sizeof(float));
    for (int64_t j = 1; j < n; ++j) {
      const float *xr = x + j * inner;
      for (int64_t i = 0; i < inner; ++i) mx[i] = xr[i] > mx[i] ? xr[i] : mx[i];
    }
    for (int64_t i = 0; i < inner; ++i) sm[i] = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      const float *xr = x + j * inner;
      float *yr = y + j * inner;
      for (int64_t i = 0; i < inner; ++i) { float e = gk_expf(xr[i] - mx[i]); yr[i] = e; sm[i] += e; }
    }
    if (log_form) {
      for (int64_t i = 0; i < inner; ++i) sm[i] = logf(sm[i]);
      for (int64_t j = 0; j < n; ++j) {
        const float *xr = x + j * inner;
        float *yr = y + j * inner;
        for (int64_t i = 0; i < inner; ++i) yr[i] = (xr[i] - mx[i]) - sm[i];
      }
    } else {
      for (int64_t i = 0; i < inner; ++i) sm[i] = 1.0f / sm[i];
      for (int64_t j = 0; j < n; ++j) {
        float *yr = y + j * inner;
        for (int64_t i = 0; i < inner; ++i) yr[i] *= sm[i];
      }
    }
  }
  return GRAFT_OK;
}

graft_status graft_softmax_f32_check(const graft_call *c) { return softmax_check(c); }
size_t graft_softmax_f32_scratch(const graft_call *c) { return softmax_scratch(c); }
graft_status graft_softmax_f32_eval(const graft_call *c) { return softmax_eval(c, 0); }

graft_status graft_log_softmax_f32_check(const graft_call *c) { return softmax_check(c); }
size_t graft_log_softmax_f32_scratch(const graft_call *c) { return softmax_scratch(c); }
graft_status graft_log_softmax_f32_eval(const graft_call *c) { return softmax_eval(c, 1); }
