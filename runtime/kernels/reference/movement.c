/* Data movement kernels for any fixed-size dtype (1, 2, 4 or 8 byte elements) and cast.
   Contract: elements are moved as opaque bytes of graft_dtype_size(dtype); input and output
   dtypes must match (except cast). `check` derives every output dim from the inputs and
   attributes and rejects any mismatch with the output view, so `eval` stays in bounds.
   Only copy_any may run with output aliasing input (then it does nothing); gather and
   gather_elements return GRAFT_E_NUMERIC for an index out of range (before writing). */
#include "gk_vectorize.h"
#include <math.h>
#include "kcommon.h"

/* Runs BODY with T = an unsigned integer type of `es` bytes. */
#define GK_BY_SIZE(es, ...)                              \
  switch (es) {                                          \
  case 1: { typedef uint8_t T; __VA_ARGS__ } break;      \
  case 2: { typedef uint16_t T; __VA_ARGS__ } break;     \
  case 4: { typedef uint32_t T; __VA_ARGS__ } break;     \
  default: { typedef uint64_t T; __VA_ARGS__ } break;    \
  }

/* Same dtype, fixed element size: returns the size or 0. */
static size_t same_type(const graft_tensor *a, const graft_tensor *b) {
  size_t es = gk_esize(a);
  if (!es || !gk_valid(b) || a->dtype != b->dtype) return 0;
  return es;
}

/* Fills n elements of size es at dst with the element at val. */
static void fill(void *dst, const void *val, int64_t n, size_t es) {
  GK_BY_SIZE(es, {
    T v;
    memcpy(&v, val, sizeof v);
    T *d = (T *)dst;
    for (int64_t i = 0; i < n; ++i) d[i] = v;
  })
}

/* ---- copy_any ------------------------------------------------------------------------------ */

graft_status graft_copy_any_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!same_type(x, y) || gk_count(x) != gk_count(y)) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}
size_t graft_copy_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_copy_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  graft_tensor *y = gk_out(c, 0);
  if (x->data != y->data) memmove(y->data, x->data, (size_t)gk_count(y) * graft_dtype_size(y->dtype));
  return GRAFT_OK;
}

/* ---- concat_any / split_any (axis, default 0; negative counts from the end) ---------------- */

/* Checks that `parts` (count n) join along `axis` into `whole`. Returns the axis or -1. */
static int32_t check_join(const graft_tensor *whole, const graft_tensor *const *parts, int32_t n, int64_t axis_attr) {
  if (!gk_esize(whole) || whole->rank < 1 || n < 1) return -1;
  int32_t ax = gk_axis(axis_attr, whole->rank);
  if (ax < 0) return -1;
  int64_t sum = 0;
  for (int32_t k = 0; k < n; ++k) {
    const graft_tensor *p = parts[k];
    if (!same_type(whole, p) || p->rank != whole->rank) return -1;
    for (int32_t i = 0; i < whole->rank; ++i)
      if (i != ax && p->dims[i] != whole->dims[i]) return -1;
    sum += p->dims[ax];
  }
  return sum == whole->dims[ax] ? ax : -1;
}

graft_status graft_concat_any_check(const graft_call *c) {
  if (!c->inputs) return GRAFT_E_SHAPE;
  return check_join(gk_out(c, 0), c->inputs, c->n_inputs, graft_attr_int(c, GRAFT_ATTR_AXIS, 0)) < 0 ? GRAFT_E_SHAPE : GRAFT_OK;
}
size_t graft_concat_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_concat_any_eval(const graft_call *c) {
  graft_tensor *y = gk_out(c, 0);
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, 0), y->rank);
  size_t es = graft_dtype_size(y->dtype);
  int64_t outer = gk_prod(y, 0, ax), inner = gk_prod(y, ax + 1, y->rank) * (int64_t)es;
  char *dst = (char *)y->data;
  for (int64_t o = 0; o < outer; ++o)
    for (int32_t k = 0; k < c->n_inputs; ++k) {
      const graft_tensor *p = c->inputs[k];
      size_t nb = (size_t)(p->dims[ax] * inner);
      memcpy(dst, (const char *)p->data + (size_t)o * nb, nb);
      dst += nb;
    }
  return GRAFT_OK;
}

graft_status graft_split_any_check(const graft_call *c) {
  if (!c->outputs) return GRAFT_E_SHAPE;
  for (int32_t k = 0; k < c->n_outputs; ++k)
    if (!c->outputs[k]) return GRAFT_E_SHAPE;
  int32_t ax = check_join(gk_in(c, 0), (const graft_tensor *const *)c->outputs, c->n_outputs,
                          graft_attr_int(c, GRAFT_ATTR_AXIS, 0));
  if (ax < 0) return GRAFT_E_SHAPE;
  const int64_t *split;
  int32_t ns = graft_attr_ints(c, GRAFT_ATTR_SPLIT, &split);
  if (ns) {
    if (ns != c->n_outputs) return GRAFT_E_SHAPE;
    for (int32_t k = 0; k < ns; ++k)
      if (split[k] != c->outputs[k]->dims[ax]) return GRAFT_E_SHAPE;
  }
  return GRAFT_OK;
}
size_t graft_split_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_split_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, 0), x->rank);
  size_t es = graft_dtype_size(x->dtype);
  int64_t outer = gk_prod(x, 0, ax), inner = gk_prod(x, ax + 1, x->rank) * (int64_t)es;
  const char *src = (const char *)x->data;
  for (int64_t o = 0; o < outer; ++o)
    for (int32_t k = 0; k < c->n_outputs; ++k) {
      graft_tensor *p = c->outputs[k];
      size_t nb = (size_t)(p->dims[ax] * inner);
      memcpy((char *)p->data + (size_t)o * nb, src, nb);
      src += nb;
    }
  return GRAFT_OK;
}

/* ---- Strided walker: copies an output of `rank` dims from a source with per-dim element
   strides (may be negative) starting at element offset `base`. Rows are memcpy'd when the
   innermost source stride is 1. */
static void strided_copy(char *dst, const char *src, int64_t base, const int64_t *dims, const int64_t *st,
                         int32_t rank, size_t es) {
  int64_t idx[GRAFT_MAX_RANK], off = base;
  int64_t n = rank ? dims[rank - 1] : 1, s = rank ? st[rank - 1] : 1;
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] == 0) return;
    idx[i] = 0;
  }
  for (;;) {
    if (s == 1) {
      memcpy(dst, src + off * (int64_t)es, (size_t)n * es);
    } else {
      GK_BY_SIZE(es, {
        const T *sp = (const T *)src + off;
        T *dp = (T *)dst;
        for (int64_t i = 0; i < n; ++i) dp[i] = sp[i * s];
      })
    }
    dst += (size_t)n * es;
    int32_t i = rank - 2;
    for (; i >= 0; --i) {
      if (++idx[i] < dims[i]) { off += st[i]; break; }
      off -= st[i] * (dims[i] - 1);
      idx[i] = 0;
    }
    if (i < 0) return;
  }
}

/* ---- slice_any: ONNX Slice semantics on starts/ends/axes/steps (negative values count from
   the end, then clamped as ONNX specifies), so resolved values pass through unchanged. ---- */

typedef struct slice_plan { int64_t start[GRAFT_MAX_RANK], step[GRAFT_MAX_RANK], len[GRAFT_MAX_RANK]; } slice_plan;

static int slice_resolve(const graft_call *c, const graft_tensor *x, slice_plan *p) {
  const int64_t *starts, *ends, *axes, *steps;
  int32_t ns = graft_attr_ints(c, GRAFT_ATTR_STARTS, &starts);
  int32_t ne = graft_attr_ints(c, GRAFT_ATTR_ENDS, &ends);
  int32_t na = graft_attr_ints(c, GRAFT_ATTR_AXES, &axes);
  int32_t nk = graft_attr_ints(c, GRAFT_ATTR_STEPS, &steps);
  if (ns != ne || (na && na != ns) || (nk && nk != ns) || ns > x->rank) return 0;
  int seen[GRAFT_MAX_RANK] = {0};
  for (int32_t i = 0; i < x->rank; ++i) { p->start[i] = 0; p->step[i] = 1; p->len[i] = x->dims[i]; }
  for (int32_t k = 0; k < ns; ++k) {
    int32_t ax = na ? gk_axis(axes[k], x->rank) : k;
    if (ax < 0 || seen[ax]) return 0;
    seen[ax] = 1;
    int64_t d = x->dims[ax], s = starts[k], e = ends[k], st = nk ? steps[k] : 1;
    if (st == 0 || st == INT64_MIN) return 0;
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t len;
    if (st > 0) {
      s = s < 0 ? 0 : (s > d ? d : s);
      e = e < 0 ? 0 : (e > d ? d : e);
      len = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = s < 0 ? -1 : (s > d - 1 ? d - 1 : s);
      e = e < -1 ? -1 : (e > d - 1 ? d - 1 : e);
      len = s > e ? (s - e - 1) / (-st) + 1 : 0;
    }
    if (len == 0) s = 0;
    p->start[ax] = s;
    p->step[ax] = st;
    p->len[ax] = len;
  }
  return 1;
}

graft_status graft_slice_any_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  slice_plan p;
  if (!same_type(x, y) || x->rank != y->rank || !slice_resolve(c, x, &p)) return GRAFT_E_SHAPE;
  for (int32_t i = 0; i < x->rank; ++i)
    if (p.len[i] != y->dims[i]) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}
size_t graft_slice_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_slice_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  graft_tensor *y = gk_out(c, 0);
  slice_plan p;
  int64_t xs[GRAFT_MAX_RANK], st[GRAFT_MAX_RANK], base = 0;
  if (!slice_resolve(c, x, &p)) return GRAFT_E_SHAPE;
  if (gk_count(y) == 0) return GRAFT_OK;
  gk_strides(x, xs);
  for (int32_t i = 0; i < x->rank; ++i) {
    base += p.start[i] * xs[i];
    st[i] = p.step[i] * xs[i];
  }
  strided_copy((char *)y->data, (const char *)x->data, base, y->dims, st, y->rank, graft_dtype_size(y->dtype));
  return GRAFT_OK;
}

/* ---- float <-> f16/bf16 (round to nearest even; NaN stays NaN) ----------------------------- */

static uint16_t f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
  if (ax >= 0x47800000u) return (uint16_t)(sign | 0x7c00u);
  if (ax < 0x38800000u) { /* half subnormal: units of 2^-24 */
    float af;
    memcpy(&af, &ax, 4);
    return (uint16_t)(sign | (uint32_t)lrintf(af * 16777216.0f));
  }
  uint32_t mant = ax & 0x7fffffu, h = ((ax >> 23) - 112u) << 10 | (mant >> 13), rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;
  return (uint16_t)(sign | h);
}

static float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
  float f;
  if (e == 0) {
    f = (float)m * 5.9604644775390625e-8f;
    return sign ? -f : f;
  }
  bits = e == 31 ? (sign | 0x7f800000u | (m << 13)) : (sign | ((e + 112u) << 23) | (m << 13));
  memcpy(&f, &bits, 4);
  return f;
}

static uint16_t f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

static float bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* ---- pad_any: pads = [begin_0.., end_0..] (may be negative: crop); mode 0 constant,
   1 reflect, 2 edge, 3 wrap; value (float) converted to the dtype. -------------------------- */

/* Source index for padded position i (relative to the input), -1 for the constant. */
static int64_t pad_map(int64_t i, int64_t d, int64_t mode) {
  if (i >= 0 && i < d) return i;
  switch (mode) {
  case 2: return i < 0 ? 0 : d - 1;
  case 3: return ((i % d) + d) % d;
  case 1: {
    if (d == 1) return 0;
    int64_t p = 2 * (d - 1), m = ((i % p) + p) % p;
    return m < d ? m : p - m;
  }
  default: return -1;
  }
}

/* The pad value as one element of dtype dt, in `out` (8 bytes). */
static void pad_value(float v, int32_t dt, void *out) {
  memset(out, 0, 8);
  switch (dt) {
  case GRAFT_DTYPE_FLOAT32: memcpy(out, &v, 4); break;
  case GRAFT_DTYPE_FLOAT64: { double d = v; memcpy(out, &d, 8); } break;
  case GRAFT_DTYPE_FLOAT16: { uint16_t h = f32_to_f16(v); memcpy(out, &h, 2); } break;
  case GRAFT_DTYPE_BFLOAT16: { uint16_t h = f32_to_bf16(v); memcpy(out, &h, 2); } break;
  case GRAFT_DTYPE_BOOL: { uint8_t b = v != 0.0f; memcpy(out, &b, 1); } break;
  default: {
    int64_t i = (v != v) ? 0 : (v >= 9.2e18f ? INT64_MAX : (v <= -9.2e18f ? INT64_MIN : (int64_t)v));
    size_t es = graft_dtype_size(dt);
    /* little-endian truncation to the element size */
    uint64_t u = (uint64_t)i;
    for (size_t k = 0; k < es && k < 8; ++k) ((unsigned char *)out)[k] = (unsigned char)(u >> (8 * k));
  } break;
  }
}

graft_status graft_pad_any_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  const int64_t *pads;
  int32_t np = graft_attr_ints(c, GRAFT_ATTR_PADS, &pads);
  int64_t mode = graft_attr_int(c, GRAFT_ATTR_MODE, 0);
  if (!same_type(x, y) || x->rank != y->rank || (np != 0 && np != 2 * x->rank)) return GRAFT_E_SHAPE;
  if (mode < 0 || mode > 3) return GRAFT_E_SHAPE;
  for (int32_t i = 0; i < x->rank; ++i) {
    int64_t b = np ? pads[i] : 0, e = np ? pads[i + x->rank] : 0;
    if (b < -GK_MAX_COUNT || b > GK_MAX_COUNT || e < -GK_MAX_COUNT || e > GK_MAX_COUNT) return GRAFT_E_SHAPE;
    if (x->dims[i] + b + e != y->dims[i]) return GRAFT_E_SHAPE;
    int64_t kept = x->dims[i] + (b < 0 ? b : 0) + (e < 0 ? e : 0); /* after cropping */
    if (kept < 0 || (mode != 0 && kept == 0 && y->dims[i] > 0)) return GRAFT_E_SHAPE;
  }
  return GRAFT_OK;
}
size_t graft_pad_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_pad_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  graft_tensor *y = gk_out(c, 0);
  const int64_t *pads;
  int32_t np = graft_attr_ints(c, GRAFT_ATTR_PADS, &pads), r = y->rank;
  int64_t mode = graft_attr_int(c, GRAFT_ATTR_MODE, 0);
  size_t es = graft_dtype_size(y->dtype);
  unsigned char val[8];
  pad_value(graft_attr_float(c, GRAFT_ATTR_VALUE, 0.0f), y->dtype, val);
  if (gk_count(y) == 0) return GRAFT_OK;
  if (r == 0) { memcpy(y->data, x->data, es); return GRAFT_OK; }
  /* Negative pads crop first; the modes then pad the kept part [crop, crop + kept). */
  int64_t xs[GRAFT_MAX_RANK], idx[GRAFT_MAX_RANK] = {0}, crop[GRAFT_MAX_RANK], kept[GRAFT_MAX_RANK], bp[GRAFT_MAX_RANK];
  gk_strides(x, xs);
  for (int32_t i = 0; i < r; ++i) {
    int64_t b = np ? pads[i] : 0, e = np ? pads[i + r] : 0;
    crop[i] = b < 0 ? -b : 0;
    bp[i] = b > 0 ? b : 0;
    kept[i] = x->dims[i] - crop[i] - (e < 0 ? -e : 0);
  }
  int64_t n = y->dims[r - 1], d = kept[r - 1], b = bp[r - 1];
  int64_t lo = b, hi = b + d < n ? b + d : n; /* out [lo, hi) maps straight onto the input */
  char *dst = (char *)y->data;
  const char *src = (const char *)x->data;
  for (;;) {
    int64_t off = 0, valid = 1;
    for (int32_t i = 0; i < r - 1 && valid; ++i) {
      int64_t s = pad_map(idx[i] - bp[i], kept[i], mode);
      if (s < 0) valid = 0;
      else off += (crop[i] + s) * xs[i];
    }
    if (!valid) {
      fill(dst, val, n, es);
    } else {
      const char *row = src + (off + crop[r - 1]) * (int64_t)es;
      for (int64_t o = 0; o < lo && o < n; ++o) {
        int64_t s = pad_map(o - b, d, mode);
        memcpy(dst + o * (int64_t)es, s < 0 ? (const char *)val : row + s * (int64_t)es, es);
      }
      if (hi > lo) memcpy(dst + lo * (int64_t)es, row, (size_t)(hi - lo) * es);
      for (int64_t o = hi > lo ? hi : lo; o < n; ++o) {
        int64_t s = pad_map(o - b, d, mode);
        memcpy(dst + o * (int64_t)es, s < 0 ? (const char *)val : row + s * (int64_t)es, es);
      }
    }
    dst += n * (int64_t)es;
    int32_t i = r - 2;
    for (; i >= 0; --i) {
      if (++idx[i] < y->dims[i]) break;
      idx[i] = 0;
    }
    if (i < 0) return GRAFT_OK;
  }
}

/* ---- transpose_any: perm (default reversed dims) ------------------------------------------ */

static int transpose_perm(const graft_call *c, int32_t rank, int32_t *perm) {
  const int64_t *p;
  int32_t np = graft_attr_ints(c, GRAFT_ATTR_PERM, &p);
  int seen[GRAFT_MAX_RANK] = {0};
  if (np == 0) {
    for (int32_t i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
    return 1;
  }
  if (np != rank) return 0;
  for (int32_t i = 0; i < rank; ++i) {
    if (p[i] < 0 || p[i] >= rank || seen[p[i]]) return 0;
    seen[p[i]] = 1;
    perm[i] = (int32_t)p[i];
  }
  return 1;
}

graft_status graft_transpose_any_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  int32_t perm[GRAFT_MAX_RANK];
  if (!same_type(x, y) || x->rank != y->rank || !transpose_perm(c, x->rank, perm)) return GRAFT_E_SHAPE;
  for (int32_t i = 0; i < x->rank; ++i)
    if (y->dims[i] != x->dims[perm[i]]) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}
size_t graft_transpose_any_scratch(const graft_call *c) { (void)c; return 0; }

/* 4x4 block of 32-bit elements: d[j * dld + i] = s[i * sld + j], i, j < 4. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline void t4x4_32(uint32_t *d, int64_t dld, const uint32_t *s, int64_t sld) {
  __m128 r0 = _mm_loadu_ps((const float *)s), r1 = _mm_loadu_ps((const float *)(s + sld));
  __m128 r2 = _mm_loadu_ps((const float *)(s + 2 * sld)), r3 = _mm_loadu_ps((const float *)(s + 3 * sld));
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps((float *)d, r0);
  _mm_storeu_ps((float *)(d + dld), r1);
  _mm_storeu_ps((float *)(d + 2 * dld), r2);
  _mm_storeu_ps((float *)(d + 3 * dld), r3);
}
#define GK_T4X4 1
#elif defined(__ARM_NEON)
static inline void t4x4_32(uint32_t *d, int64_t dld, const uint32_t *s, int64_t sld) {
  uint32x4x2_t a = vtrnq_u32(vld1q_u32(s), vld1q_u32(s + sld));
  uint32x4x2_t b = vtrnq_u32(vld1q_u32(s + 2 * sld), vld1q_u32(s + 3 * sld));
  vst1q_u32(d, vcombine_u32(vget_low_u32(a.val[0]), vget_low_u32(b.val[0])));
  vst1q_u32(d + dld, vcombine_u32(vget_low_u32(a.val[1]), vget_low_u32(b.val[1])));
  vst1q_u32(d + 2 * dld, vcombine_u32(vget_high_u32(a.val[0]), vget_high_u32(b.val[0])));
  vst1q_u32(d + 3 * dld, vcombine_u32(vget_high_u32(a.val[1]), vget_high_u32(b.val[1])));
}
#define GK_T4X4 1
#endif

/* 2-D tiled transpose of a rows x cols source into cols x rows. */
static void transpose2d(char *dst, const char *src, int64_t rows, int64_t cols, size_t es) {
  const int64_t B = 32;
#ifdef GK_T4X4
  if (es == 4) { /* 32x32 tiles of 4x4 register transposes; scalar edges */
    const uint32_t *s = (const uint32_t *)src;
    uint32_t *d = (uint32_t *)dst;
    for (int64_t i0 = 0; i0 < rows; i0 += B)
      for (int64_t j0 = 0; j0 < cols; j0 += B) {
        int64_t i1 = i0 + B < rows ? i0 + B : rows, j1 = j0 + B < cols ? j0 + B : cols;
        int64_t i4 = i0 + ((i1 - i0) & ~(int64_t)3), j4 = j0 + ((j1 - j0) & ~(int64_t)3);
        for (int64_t j = j0; j < j4; j += 4)
          for (int64_t i = i0; i < i4; i += 4) t4x4_32(d + j * rows + i, rows, s + i * cols + j, cols);
        for (int64_t j = j0; j < j1; ++j)
          for (int64_t i = j < j4 ? i4 : i0; i < i1; ++i) d[j * rows + i] = s[i * cols + j];
      }
    return;
  }
#endif
  GK_BY_SIZE(es, {
    const T *s = (const T *)src;
    T *d = (T *)dst;
    for (int64_t i0 = 0; i0 < rows; i0 += B)
      for (int64_t j0 = 0; j0 < cols; j0 += B) {
        int64_t i1 = i0 + B < rows ? i0 + B : rows, j1 = j0 + B < cols ? j0 + B : cols;
        for (int64_t j = j0; j < j1; ++j)
          for (int64_t i = i0; i < i1; ++i) d[j * rows + i] = s[i * cols + j];
      }
  })
}

graft_status graft_transpose_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  graft_tensor *y = gk_out(c, 0);
  int32_t perm[GRAFT_MAX_RANK], r = x->rank;
  size_t es = graft_dtype_size(y->dtype);
  if (!transpose_perm(c, r, perm)) return GRAFT_E_SHAPE;
  if (gk_count(y) == 0) return GRAFT_OK;
  /* Collapse: drop size-1 dims, merge output dims that are consecutive input dims. */
  int64_t xs[GRAFT_MAX_RANK], od[GRAFT_MAX_RANK], os[GRAFT_MAX_RANK];
  int32_t oa[GRAFT_MAX_RANK], m = 0;
  gk_strides(x, xs);
  for (int32_t i = 0; i < r; ++i) {
    int32_t a = perm[i];
    if (x->dims[a] == 1) continue;
    if (m > 0 && oa[m - 1] + 1 == a) {
      /* merging requires a contiguous run: only size-1 input dims between (already skipped) */
      od[m - 1] *= x->dims[a];
      os[m - 1] = xs[a];
      oa[m - 1] = a;
      continue;
    }
    int32_t gap_ok = 0;
    if (m > 0 && oa[m - 1] < a) {
      gap_ok = 1;
      for (int32_t k = oa[m - 1] + 1; k < a; ++k)
        if (x->dims[k] != 1) gap_ok = 0;
    }
    if (gap_ok) {
      od[m - 1] *= x->dims[a];
      os[m - 1] = xs[a];
      oa[m - 1] = a;
      continue;
    }
    od[m] = x->dims[a];
    os[m] = xs[a];
    oa[m] = a;
    ++m;
  }
  if (m <= 1) {
    memcpy(y->data, x->data, (size_t)gk_count(y) * es);
    return GRAFT_OK;
  }
  /* Batched 2-D transpose: the last two collapsed dims swapped, earlier ones in order. */
  if (os[m - 2] == 1 && os[m - 1] == od[m - 2]) {
    int64_t rows = od[m - 1], cols = od[m - 2], plane = rows * cols, batch = 1, ok = 1;
    for (int32_t i = 0; i < m - 2; ++i) {
      batch *= od[i];
      if (os[i] != (i == m - 3 ? plane : os[i + 1] * od[i + 1])) ok = 0;
    }
    if (ok) {
      for (int64_t b = 0; b < batch; ++b)
        transpose2d((char *)y->data + (size_t)(b * plane) * es, (const char *)x->data + (size_t)(b * plane) * es,
                    rows, cols, es);
      return GRAFT_OK;
    }
  }
  strided_copy((char *)y->data, (const char *)x->data, 0, od, os, m, es);
  return GRAFT_OK;
}

/* ---- gather_any: out = data[..., indices, ...] along axis ----------------------------------- */

static int is_index_type(const graft_tensor *t) { return gk_is(t, GRAFT_DTYPE_INT64) || gk_is(t, GRAFT_DTYPE_INT32); }
static int64_t index_at(const graft_tensor *t, int64_t i) {
  return t->dtype == GRAFT_DTYPE_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

graft_status graft_gather_any_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *ind = gk_in(c, 1), *y = gk_out(c, 0);
  if (!same_type(x, y) || !is_index_type(ind) || x->rank < 1) return GRAFT_E_SHAPE;
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, 0), x->rank);
  if (ax < 0 || y->rank != x->rank - 1 + ind->rank) return GRAFT_E_SHAPE;
  for (int32_t i = 0; i < y->rank; ++i) {
    int64_t want = i < ax ? x->dims[i] : (i < ax + ind->rank ? ind->dims[i - ax] : x->dims[i - ind->rank + 1]);
    if (y->dims[i] != want) return GRAFT_E_SHAPE;
  }
  return GRAFT_OK;
}
size_t graft_gather_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_gather_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *ind = gk_in(c, 1);
  graft_tensor *y = gk_out(c, 0);
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, 0), x->rank);
  size_t es = graft_dtype_size(x->dtype);
  int64_t outer = gk_prod(x, 0, ax), d = x->dims[ax], inner = gk_prod(x, ax + 1, x->rank) * (int64_t)es;
  int64_t ni = gk_count(ind);
  if (outer == 0 || inner == 0) return GRAFT_OK;
  for (int64_t j = 0; j < ni; ++j) {
    int64_t k = index_at(ind, j);
    if (k < -d || k >= d) return GRAFT_E_NUMERIC;
  }
  char *dst = (char *)y->data;
  const char *src = (const char *)x->data;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < ni; ++j) {
      int64_t k = index_at(ind, j);
      if (k < 0) k += d;
      memcpy(dst, src + (o * d + k) * inner, (size_t)inner);
      dst += inner;
    }
  return GRAFT_OK;
}

/* ---- gather_elements_any: out[i] = data[i with i[axis] = indices[i]] ----------------------- */

graft_status graft_gather_elements_any_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *ind = gk_in(c, 1), *y = gk_out(c, 0);
  if (!same_type(x, y) || !is_index_type(ind) || x->rank < 1 || ind->rank != x->rank) return GRAFT_E_SHAPE;
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, 0), x->rank);
  if (ax < 0 || !gk_same_dims(ind, y)) return GRAFT_E_SHAPE;
  for (int32_t i = 0; i < x->rank; ++i)
    if (i != ax && ind->dims[i] > x->dims[i]) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}
size_t graft_gather_elements_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_gather_elements_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *ind = gk_in(c, 1);
  graft_tensor *y = gk_out(c, 0);
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, 0), x->rank), r = x->rank;
  size_t es = graft_dtype_size(x->dtype);
  int64_t n = gk_count(y), d = x->dims[ax], xs[GRAFT_MAX_RANK], idx[GRAFT_MAX_RANK] = {0}, off = 0;
  for (int64_t j = 0; j < n; ++j) {
    int64_t k = index_at(ind, j);
    if (k < -d || k >= d) return GRAFT_E_NUMERIC;
  }
  gk_strides(x, xs);
  for (int64_t j = 0; j < n; ++j) {
    int64_t k = index_at(ind, j);
    if (k < 0) k += d;
    memcpy((char *)y->data + j * (int64_t)es, (const char *)x->data + (off + k * xs[ax]) * (int64_t)es, es);
    for (int32_t i = r - 1; i >= 0; --i) {
      if (++idx[i] < ind->dims[i]) { if (i != ax) off += xs[i]; break; }
      if (i != ax) off -= xs[i] * (ind->dims[i] - 1);
      idx[i] = 0;
    }
  }
  return GRAFT_OK;
}

/* ---- tile_any: out dim = in dim * repeats ------------------------------------------------- */

graft_status graft_tile_any_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  const int64_t *rep;
  int32_t nr = graft_attr_ints(c, GRAFT_ATTR_REPEATS, &rep);
  if (!same_type(x, y) || x->rank != y->rank || (nr && nr != x->rank)) return GRAFT_E_SHAPE;
  for (int32_t i = 0; i < x->rank; ++i) {
    if (nr) {
      if (rep[i] < 0 || (x->dims[i] != 0 && rep[i] > GK_MAX_COUNT / x->dims[i])) return GRAFT_E_SHAPE;
      if (y->dims[i] != x->dims[i] * rep[i]) return GRAFT_E_SHAPE;
    } else if (x->dims[i] == 0 ? y->dims[i] != 0 : y->dims[i] % x->dims[i] != 0) {
      return GRAFT_E_SHAPE;
    }
  }
  return GRAFT_OK;
}
size_t graft_tile_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_tile_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  graft_tensor *y = gk_out(c, 0);
  int32_t r = y->rank;
  size_t es = graft_dtype_size(y->dtype);
  if (gk_count(y) == 0) return GRAFT_OK;
  if (r == 0) { memcpy(y->data, x->data, es); return GRAFT_OK; }
  int64_t xs[GRAFT_MAX_RANK], idx[GRAFT_MAX_RANK] = {0};
  gk_strides(x, xs);
  size_t row = (size_t)x->dims[r - 1] * es;
  int64_t reps = y->dims[r - 1] / x->dims[r - 1];
  char *dst = (char *)y->data;
  for (;;) {
    int64_t off = 0;
    for (int32_t i = 0; i < r - 1; ++i) off += (idx[i] % x->dims[i]) * xs[i];
    for (int64_t k = 0; k < reps; ++k, dst += row) memcpy(dst, (const char *)x->data + off * (int64_t)es, row);
    int32_t i = r - 2;
    for (; i >= 0; --i) {
      if (++idx[i] < y->dims[i]) break;
      idx[i] = 0;
    }
    if (i < 0) return GRAFT_OK;
  }
}

/* ---- expand_any / where_any: broadcasting copies ------------------------------------------ */

typedef struct move_ctx { char *o; const char *a, *b, *cnd; size_t es; } move_ctx;

static void expand_row(void *ctx, const int64_t *off, const int64_t *in, int64_t n) {
  move_ctx *k = (move_ctx *)ctx;
  char *o = k->o + off[0] * (int64_t)k->es;
  const char *a = k->a + off[1] * (int64_t)k->es;
  if (in[1]) memcpy(o, a, (size_t)n * k->es);
  else fill(o, a, n, k->es);
}

graft_status graft_expand_any_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  gk_bcast b;
  if (!same_type(x, y) || !gk_bcast_init(&b, y, &x, 1)) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}
size_t graft_expand_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_expand_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  graft_tensor *y = gk_out(c, 0);
  gk_bcast b;
  if (!gk_bcast_init(&b, y, &x, 1)) return GRAFT_E_SHAPE;
  move_ctx k = {(char *)y->data, (const char *)x->data, 0, 0, graft_dtype_size(y->dtype)};
  gk_bcast_rows(&b, expand_row, &k);
  return GRAFT_OK;
}

static void where_row(void *ctx, const int64_t *off, const int64_t *in, int64_t n) {
  move_ctx *k = (move_ctx *)ctx;
  const uint8_t *cd = (const uint8_t *)k->cnd + off[1];
  int64_t sc = in[1], sa = in[2], sb = in[3];
  GK_BY_SIZE(k->es, {
    T *o = (T *)k->o + off[0];
    const T *a = (const T *)k->a + off[2], *b = (const T *)k->b + off[3];
    for (int64_t i = 0; i < n; ++i) o[i] = cd[i * sc] ? a[i * sa] : b[i * sb];
  })
}

graft_status graft_where_any_check(const graft_call *c) {
  const graft_tensor *ins[3] = {gk_in(c, 0), gk_in(c, 1), gk_in(c, 2)};
  const graft_tensor *y = gk_out(c, 0);
  gk_bcast b;
  if (!gk_is(ins[0], GRAFT_DTYPE_BOOL) || !same_type(ins[1], y) || !same_type(ins[2], y)) return GRAFT_E_SHAPE;
  return gk_bcast_init(&b, y, ins, 3) ? GRAFT_OK : GRAFT_E_SHAPE;
}
size_t graft_where_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_where_any_eval(const graft_call *c) {
  const graft_tensor *ins[3] = {gk_in(c, 0), gk_in(c, 1), gk_in(c, 2)};
  graft_tensor *y = gk_out(c, 0);
  gk_bcast b;
  if (!gk_bcast_init(&b, y, ins, 3)) return GRAFT_E_SHAPE;
  move_ctx k = {(char *)y->data, (const char *)ins[1]->data, (const char *)ins[2]->data,
                (const char *)ins[0]->data, graft_dtype_size(y->dtype)};
  gk_bcast_rows(&b, where_row, &k);
  return GRAFT_OK;
}

/* ---- cast_any: between f32 f16 bf16 f64 i8 u8 i16 u16 i32 u32 i64 u64 bool. Float to int
   truncates toward zero (NaN -> 0, saturating at the int64 range, then wrapping to the
   element size); to bool is "!= 0"; to f16/bf16 rounds to nearest even. Elements go through
   a small stack buffer of doubles (float sources) or int64 (integer sources). ------------- */

static int cast_float_type(int32_t dt) {
  return dt == GRAFT_DTYPE_FLOAT32 || dt == GRAFT_DTYPE_FLOAT64 || dt == GRAFT_DTYPE_FLOAT16 || dt == GRAFT_DTYPE_BFLOAT16;
}
static int cast_supported(int32_t dt) {
  switch (dt) {
  case GRAFT_DTYPE_FLOAT32: case GRAFT_DTYPE_FLOAT64: case GRAFT_DTYPE_FLOAT16: case GRAFT_DTYPE_BFLOAT16:
  case GRAFT_DTYPE_INT8: case GRAFT_DTYPE_UINT8: case GRAFT_DTYPE_INT16: case GRAFT_DTYPE_UINT16:
  case GRAFT_DTYPE_INT32: case GRAFT_DTYPE_UINT32: case GRAFT_DTYPE_INT64: case GRAFT_DTYPE_UINT64:
  case GRAFT_DTYPE_BOOL: return 1;
  default: return 0;
  }
}

#define CAST_CHUNK 256

static void load_f(const void *src, int32_t dt, int64_t n, double *b) {
  int64_t i;
  switch (dt) {
  case GRAFT_DTYPE_FLOAT32: for (i = 0; i < n; ++i) b[i] = ((const float *)src)[i]; break;
  case GRAFT_DTYPE_FLOAT64: for (i = 0; i < n; ++i) b[i] = ((const double *)src)[i]; break;
  case GRAFT_DTYPE_FLOAT16: for (i = 0; i < n; ++i) b[i] = f16_to_f32(((const uint16_t *)src)[i]); break;
  default: for (i = 0; i < n; ++i) b[i] = bf16_to_f32(((const uint16_t *)src)[i]); break;
  }
}

static void load_i(const void *src, int32_t dt, int64_t n, int64_t *b) {
  int64_t i;
  switch (dt) {
  case GRAFT_DTYPE_INT8: for (i = 0; i < n; ++i) b[i] = ((const int8_t *)src)[i]; break;
  case GRAFT_DTYPE_UINT8: for (i = 0; i < n; ++i) b[i] = ((const uint8_t *)src)[i]; break;
  case GRAFT_DTYPE_BOOL: for (i = 0; i < n; ++i) b[i] = ((const uint8_t *)src)[i] != 0; break;
  case GRAFT_DTYPE_INT16: for (i = 0; i < n; ++i) b[i] = ((const int16_t *)src)[i]; break;
  case GRAFT_DTYPE_UINT16: for (i = 0; i < n; ++i) b[i] = ((const uint16_t *)src)[i]; break;
  case GRAFT_DTYPE_INT32: for (i = 0; i < n; ++i) b[i] = ((const int32_t *)src)[i]; break;
  case GRAFT_DTYPE_UINT32: for (i = 0; i < n; ++i) b[i] = ((const uint32_t *)src)[i]; break;
  default: for (i = 0; i < n; ++i) b[i] = ((const int64_t *)src)[i]; break;
  }
}

static int64_t f2i(double v) {
  if (v != v) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return (int64_t)v;
}

/* Stores integer values (already int64) into an integer or bool dtype. */
static void store_i(const int64_t *b, int32_t dt, int64_t n, void *dst) {
  int64_t i;
  switch (dt) {
  case GRAFT_DTYPE_INT8: case GRAFT_DTYPE_UINT8: for (i = 0; i < n; ++i) ((uint8_t *)dst)[i] = (uint8_t)(uint64_t)b[i]; break;
  case GRAFT_DTYPE_BOOL: for (i = 0; i < n; ++i) ((uint8_t *)dst)[i] = b[i] != 0; break;
  case GRAFT_DTYPE_INT16: case GRAFT_DTYPE_UINT16: for (i = 0; i < n; ++i) ((uint16_t *)dst)[i] = (uint16_t)(uint64_t)b[i]; break;
  case GRAFT_DTYPE_INT32: case GRAFT_DTYPE_UINT32: for (i = 0; i < n; ++i) ((uint32_t *)dst)[i] = (uint32_t)(uint64_t)b[i]; break;
  default: memcpy(dst, b, (size_t)n * 8); break;
  }
}

static void cast_chunk(const void *src, int32_t sdt, void *dst, int32_t ddt, int64_t n) {
  double fb[CAST_CHUNK];
  int64_t ib[CAST_CHUNK], i;
  if (cast_float_type(sdt)) {
    load_f(src, sdt, n, fb);
    switch (ddt) {
    case GRAFT_DTYPE_FLOAT32: for (i = 0; i < n; ++i) ((float *)dst)[i] = (float)fb[i]; return;
    case GRAFT_DTYPE_FLOAT64: memcpy(dst, fb, (size_t)n * 8); return;
    case GRAFT_DTYPE_FLOAT16: for (i = 0; i < n; ++i) ((uint16_t *)dst)[i] = f32_to_f16((float)fb[i]); return;
    case GRAFT_DTYPE_BFLOAT16: for (i = 0; i < n; ++i) ((uint16_t *)dst)[i] = f32_to_bf16((float)fb[i]); return;
    case GRAFT_DTYPE_BOOL: for (i = 0; i < n; ++i) ((uint8_t *)dst)[i] = fb[i] != 0.0; return;
    default:
      for (i = 0; i < n; ++i) ib[i] = f2i(fb[i]);
      store_i(ib, ddt, n, dst);
      return;
    }
  }
  load_i(src, sdt, n, ib);
  switch (ddt) {
  case GRAFT_DTYPE_FLOAT32: for (i = 0; i < n; ++i) ((float *)dst)[i] = (float)ib[i]; return;
  case GRAFT_DTYPE_FLOAT64: for (i = 0; i < n; ++i) ((double *)dst)[i] = (double)ib[i]; return;
  case GRAFT_DTYPE_FLOAT16: for (i = 0; i < n; ++i) ((uint16_t *)dst)[i] = f32_to_f16((float)ib[i]); return;
  case GRAFT_DTYPE_BFLOAT16: for (i = 0; i < n; ++i) ((uint16_t *)dst)[i] = f32_to_bf16((float)ib[i]); return;
  default: store_i(ib, ddt, n, dst); return;
  }
}

graft_status graft_cast_any_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!gk_valid(x) || !gk_valid(y) || !cast_supported(x->dtype) || !cast_supported(y->dtype)) return GRAFT_E_SHAPE;
  if (graft_attr_int(c, GRAFT_ATTR_TO, y->dtype) != y->dtype) return GRAFT_E_SHAPE;
  return gk_same_dims(x, y) ? GRAFT_OK : GRAFT_E_SHAPE;
}
size_t graft_cast_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_cast_any_eval(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0);
  graft_tensor *y = gk_out(c, 0);
  int64_t n = gk_count(y);
  size_t ses = graft_dtype_size(x->dtype), des = graft_dtype_size(y->dtype);
  if (x->dtype == y->dtype) {
    if (x->data != y->data) memmove(y->data, x->data, (size_t)n * des);
    return GRAFT_OK;
  }
  for (int64_t i = 0; i < n; i += CAST_CHUNK) {
    int64_t m = n - i < CAST_CHUNK ? n - i : CAST_CHUNK;
    cast_chunk((const char *)x->data + i * (int64_t)ses, x->dtype, (char *)y->data + i * (int64_t)des, y->dtype, m);
  }
  return GRAFT_OK;
}

/* ---- depth_to_space_any / space_to_depth_any: NCHW, block_size, mode 0 DCR / 1 CRD (CRD for
   SpaceToDepth is opset 28's inverse of DepthToSpace CRD) ---------------------------------- */

static graft_status d2s_check(const graft_call *c, int to_space) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  int64_t b = graft_attr_int(c, GRAFT_ATTR_BLOCK_SIZE, 0), mode = graft_attr_int(c, GRAFT_ATTR_MODE, 0);
  if (!same_type(x, y) || x->rank != 4 || y->rank != 4 || b < 1 || b > 65536) return GRAFT_E_SHAPE;
  if (mode != 0 && mode != 1) return GRAFT_E_SHAPE;
  const graft_tensor *big = to_space ? y : x, *deep = to_space ? x : y; /* big: spatial side */
  if (big->dims[1] > GK_MAX_COUNT / (b * b)) return GRAFT_E_SHAPE; /* keeps C*b*b in range */
  if (big->dims[0] != deep->dims[0] || deep->dims[1] != big->dims[1] * b * b || big->dims[2] != deep->dims[2] * b ||
      big->dims[3] != deep->dims[3] * b)
    return GRAFT_E_SHAPE;
  return GRAFT_OK;
}

/* Moves between deep [N, C*b*b, H, W] and big [N, C, H*b, W*b]; to_space picks direction. */
static void d2s_run(const graft_call *c, int to_space) {
  const graft_tensor *x = gk_in(c, 0);
  graft_tensor *y = gk_out(c, 0);
  const graft_tensor *big = to_space ? y : x, *deep = to_space ? x : y;
  int64_t b = graft_attr_int(c, GRAFT_ATTR_BLOCK_SIZE, 0), crd = graft_attr_int(c, GRAFT_ATTR_MODE, 0) == 1;
  int64_t N = big->dims[0], C = big->dims[1], H = deep->dims[2], W = deep->dims[3];
  size_t es = graft_dtype_size(y->dtype);
  char *bigp = (char *)big->data, *deepp = (char *)deep->data;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t i = 0; i < b; ++i)
        for (int64_t j = 0; j < b; ++j) {
          int64_t dc = crd ? ch * b * b + i * b + j : (i * b + j) * C + ch;
          for (int64_t h = 0; h < H; ++h) {
            GK_BY_SIZE(es, {
              T *dp = (T *)deepp + ((n * C * b * b + dc) * H + h) * W;
              T *bp = (T *)bigp + ((n * C + ch) * H * b + h * b + i) * W * b + j;
              if (to_space) for (int64_t w = 0; w < W; ++w) bp[w * b] = dp[w];
              else for (int64_t w = 0; w < W; ++w) dp[w] = bp[w * b];
            })
          }
        }
}

graft_status graft_depth_to_space_any_check(const graft_call *c) { return d2s_check(c, 1); }
size_t graft_depth_to_space_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_depth_to_space_any_eval(const graft_call *c) { d2s_run(c, 1); return GRAFT_OK; }

graft_status graft_space_to_depth_any_check(const graft_call *c) { return d2s_check(c, 0); }
size_t graft_space_to_depth_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_space_to_depth_any_eval(const graft_call *c) { d2s_run(c, 0); return GRAFT_OK; }
