/* Helpers shared by the reference kernels. Internal header; not part of the public API.
   Contract: every function here is pure over the views it is given, never allocates and never
   touches memory outside those views. Validation helpers return 1 for "valid", 0 otherwise. */
#ifndef GRAFT_KCOMMON_H
#define GRAFT_KCOMMON_H
#include <stdint.h>
#include <math.h>
#include <string.h>
#include "graft_kernels.h"

/* Largest element count a kernel accepts: keeps all int64 index arithmetic far from overflow. */
#define GK_MAX_COUNT ((int64_t)1 << 40)

/* Input/output i of a call, NULL when absent (omitted optional or out of range). */
static inline const graft_tensor *gk_in(const graft_call *c, int i) {
  return (c && c->inputs && i >= 0 && i < c->n_inputs) ? c->inputs[i] : 0;
}
static inline graft_tensor *gk_out(const graft_call *c, int i) {
  return (c && c->outputs && i >= 0 && i < c->n_outputs) ? c->outputs[i] : 0;
}

/* A view is valid when its rank is in range, dims are non-negative and the element count is
   at most GK_MAX_COUNT. */
static inline int gk_valid(const graft_tensor *t) {
  if (!t || t->rank < 0 || t->rank > GRAFT_MAX_RANK) return 0;
  int64_t n = 1;
  for (int32_t i = 0; i < t->rank; ++i) {
    int64_t d = t->dims[i];
    if (d < 0 || d > GK_MAX_COUNT) return 0;
    if (d != 0 && n > GK_MAX_COUNT / d) return 0;
    n *= d;
  }
  return 1;
}

/* Valid and of dtype `dt`. */
static inline int gk_is(const graft_tensor *t, int32_t dt) { return gk_valid(t) && t->dtype == dt; }

/* Valid, of a fixed-size dtype; returns the element size (0 when not). */
static inline size_t gk_esize(const graft_tensor *t) {
  if (!gk_valid(t)) return 0;
  return graft_dtype_size(t->dtype);
}

static inline int64_t gk_count(const graft_tensor *t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t->rank; ++i) n *= t->dims[i];
  return n;
}

static inline int gk_same_dims(const graft_tensor *a, const graft_tensor *b) {
  if (a->rank != b->rank) return 0;
  for (int32_t i = 0; i < a->rank; ++i)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

/* Product of dims[lo..hi). */
static inline int64_t gk_prod(const graft_tensor *t, int32_t lo, int32_t hi) {
  int64_t n = 1;
  for (int32_t i = lo; i < hi; ++i) n *= t->dims[i];
  return n;
}

/* Normalizes an ONNX axis against `rank` (negative counts from the end); -1 when out of range. */
static inline int32_t gk_axis(int64_t axis, int32_t rank) {
  if (axis < 0) axis += rank;
  return (axis < 0 || axis >= rank) ? -1 : (int32_t)axis;
}

/* A tensor of dtype `dt` holding exactly `n` elements (any shape). */
static inline int gk_vec(const graft_tensor *t, int32_t dt, int64_t n) {
  return gk_is(t, dt) && gk_count(t) == n;
}

/* ---- Multidirectional broadcasting ------------------------------------------------------
   Operand 0 is the output (dense); operands 1.. are inputs broadcast to it (numpy rules,
   right-aligned, each input dim equal to the output dim or 1). After init the loop nest is
   collapsed: size-1 output dims are dropped and adjacent dims merged where every operand is
   contiguous across them, so `dims[rank-1]` is the longest run every operand walks with a
   fixed stride (0 or 1 elements). */
#define GK_BCAST_MAX_OPS 4
typedef struct gk_bcast {
  int32_t rank; /* >= 1 after init */
  int32_t nops;
  int64_t dims[GRAFT_MAX_RANK];
  int64_t st[GK_BCAST_MAX_OPS][GRAFT_MAX_RANK]; /* element strides, 0 where broadcast */
} gk_bcast;

/* Returns 1 when every input broadcasts to `out`, 0 otherwise. */
static inline int gk_bcast_init(gk_bcast *b, const graft_tensor *out, const graft_tensor *const *ins,
                                int32_t nins) {
  int32_t r = out->rank, nops = nins + 1;
  int64_t d[GRAFT_MAX_RANK], s[GK_BCAST_MAX_OPS][GRAFT_MAX_RANK];
  if (nops > GK_BCAST_MAX_OPS) return 0;
  for (int32_t op = 0; op < nops; ++op) {
    const graft_tensor *t = op == 0 ? out : ins[op - 1];
    if (!t || t->rank > r) return 0;
    int64_t stride = 1;
    for (int32_t i = r - 1; i >= 0; --i) {
      int32_t j = i - (r - t->rank);
      int64_t td = j >= 0 ? t->dims[j] : 1;
      if (td != out->dims[i] && td != 1) return 0;
      s[op][i] = (td == 1) ? 0 : stride;
      stride *= td;
    }
  }
  /* Drop size-1 output dims, then merge from the innermost outwards. */
  int32_t n = 0;
  int64_t cd[GRAFT_MAX_RANK], cs[GK_BCAST_MAX_OPS][GRAFT_MAX_RANK];
  for (int32_t i = 0; i < r; ++i) {
    if (out->dims[i] == 1) continue;
    d[n] = out->dims[i];
    for (int32_t op = 0; op < nops; ++op) s[op][n] = s[op][i];
    ++n;
  }
  int32_t m = 0; /* merged dims are built innermost-first in cd/cs, then reversed */
  for (int32_t i = n - 1; i >= 0; --i) {
    int mergeable = m > 0;
    for (int32_t op = 0; op < nops && mergeable; ++op)
      if (s[op][i] != cs[op][m - 1] * cd[m - 1]) mergeable = 0;
    if (mergeable) {
      cd[m - 1] *= d[i];
    } else {
      cd[m] = d[i];
      for (int32_t op = 0; op < nops; ++op) cs[op][m] = s[op][i];
      ++m;
    }
  }
  if (m == 0) {
    cd[0] = 1;
    for (int32_t op = 0; op < nops; ++op) cs[op][0] = 0;
    m = 1;
  }
  b->rank = m;
  b->nops = nops;
  for (int32_t i = 0; i < m; ++i) {
    b->dims[i] = cd[m - 1 - i];
    for (int32_t op = 0; op < nops; ++op) b->st[op][i] = cs[op][m - 1 - i];
  }
  return 1;
}

/* Row callback: element offsets of each operand at the row start, the inner stride of each
   operand (0 or 1) and the row length. */
typedef void (*gk_row_fn)(void *ctx, const int64_t *off, const int64_t *inner, int64_t n);

/* Calls `row` once per innermost run, in output order. */
static inline void gk_bcast_rows(const gk_bcast *b, gk_row_fn row, void *ctx) {
  int32_t r = b->rank, nops = b->nops;
  int64_t idx[GRAFT_MAX_RANK], off[GK_BCAST_MAX_OPS], inner[GK_BCAST_MAX_OPS];
  int64_t n = b->dims[r - 1];
  if (n == 0) return;
  for (int32_t i = 0; i < r; ++i) {
    idx[i] = 0;
    if (b->dims[i] == 0) return;
  }
  for (int32_t op = 0; op < nops; ++op) {
    off[op] = 0;
    inner[op] = b->st[op][r - 1];
  }
  for (;;) {
    row(ctx, off, inner, n);
    int32_t i = r - 2;
    for (; i >= 0; --i) {
      if (++idx[i] < b->dims[i]) {
        for (int32_t op = 0; op < nops; ++op) off[op] += b->st[op][i];
        break;
      }
      for (int32_t op = 0; op < nops; ++op) off[op] -= b->st[op][i] * (b->dims[i] - 1);
      idx[i] = 0;
    }
    if (i < 0) return;
  }
}

/* Row-major strides (in elements) of a view. */
static inline void gk_strides(const graft_tensor *t, int64_t *st) {
  int64_t s = 1;
  for (int32_t i = t->rank - 1; i >= 0; --i) {
    st[i] = s;
    s *= t->dims[i];
  }
}

/* Fast exp for vectorizable loops: Cephes-style range reduction and degree-6 polynomial, about
   2 ulp over the float range; inputs are clamped to [-87.3, 88.37] (never inf, never denormal);
   NaN propagates. Branch-free, so loops over it vectorize at -O2 (clang directly, GCC through
   gk_vectorize.h). gk_expq_f32 below is the same computation on NEON vectors. */
static inline float gk_expf(float x) {
  float xc = x > -87.3365447505f ? x : -87.3365447505f; /* NaN -> lower bound, restored below */
  xc = xc < 88.3762626647949f ? xc : 88.3762626647949f;
  float t = xc * 1.44269504088896341f;
  float n = (t + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  uint32_t e = (uint32_t)((int32_t)n + 127) << 23;
  float sc;
  memcpy(&sc, &e, sizeof sc);
  return x != x ? x : y * sc;
}

#if defined(__ARM_NEON)
#include <arm_neon.h>
/* NEON twin of gk_expf (same constants and clamp; NaN propagates). armv7 NEON flushes
   denormals, so results below 2^-126 may come out as 0 there. */
static inline float32x4_t gk_fmaq(float32x4_t acc, float32x4_t a, float32x4_t b) {
#if defined(__aarch64__)
  return vfmaq_f32(acc, a, b);
#else
  return vmlaq_f32(acc, a, b);
#endif
}
static inline float32x4_t gk_expq_f32(float32x4_t x) {
  float32x4_t xc = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.3365447505f)), vdupq_n_f32(88.3762626647949f));
  float32x4_t magic = vdupq_n_f32(12582912.0f);
  float32x4_t n = vsubq_f32(gk_fmaq(magic, xc, vdupq_n_f32(1.44269504088896341f)), magic);
  float32x4_t r = gk_fmaq(xc, n, vdupq_n_f32(-0.693359375f));
  r = gk_fmaq(r, n, vdupq_n_f32(2.12194440e-4f));
  float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
  p = gk_fmaq(vdupq_n_f32(1.3981999507e-3f), p, r);
  p = gk_fmaq(vdupq_n_f32(8.3334519073e-3f), p, r);
  p = gk_fmaq(vdupq_n_f32(4.1665795894e-2f), p, r);
  p = gk_fmaq(vdupq_n_f32(1.6666665459e-1f), p, r);
  p = gk_fmaq(vdupq_n_f32(5.0000001201e-1f), p, r);
  float32x4_t y = gk_fmaq(vaddq_f32(r, vdupq_n_f32(1.0f)), vmulq_f32(p, r), r);
  int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  y = vmulq_f32(y, vreinterpretq_f32_s32(e));
  return vbslq_f32(vceqq_f32(x, x), y, x);
}
/* a / b, IEEE on aarch64; on armv7 a reciprocal estimate and two Newton steps (~1 ulp). */
static inline float32x4_t gk_divq_f32(float32x4_t a, float32x4_t b) {
#if defined(__aarch64__)
  return vdivq_f32(a, b);
#else
  float32x4_t r = vrecpeq_f32(b);
  r = vmulq_f32(r, vrecpsq_f32(b, r));
  r = vmulq_f32(r, vrecpsq_f32(b, r));
  return vmulq_f32(a, r);
#endif
}
#endif

#endif
