/* Convolution kernels: conv_f32 (ONNX Conv) and conv_transpose_f32 (ONNX ConvTranspose).

   Layout: NCHW (N, C, spatial...) with 1, 2 or 3 spatial dims; weights (M, C/group, k...) for
   Conv and (C, M/group, k...) for ConvTranspose. Pads are explicit (the compiler resolves
   auto_pad); absent attributes take their ONNX defaults.

   conv_f32 picks one of four paths (same math, different data movement):
   - depthwise (group == C, one input channel per group, 1 or 2 spatial dims): a direct kernel
     vectorized over output width (AVX-512, AVX2+FMA, NEON over a zero-padded copy of the
     input plane; portable C tap by tap with clipped ranges); scratch is one zero-padded input
     plane (none without pads).
   - pointwise (1x1 kernel, stride 1, no pads): GEMM with the input image itself as B.
   - window (1 or 2 spatial dims, stride product <= 64, not a strided 1x1): the input is copied
     once into zero-padded stride-phase planes, so every im2col row is a contiguous slice and
     packing B is a plain copy (graft_sgemm_window). Scratch: the planes, possibly an output
     grid buffer, and the GEMM packing buffers.
   - general (3-D, huge strides, strided 1x1): GEMM whose B is the implicit im2col of the
     input, built row run by row run while packing (graft_sgemm_conv); scratch is only the
     GEMM packing buffers.
   Bias and the fused activation are applied in the GEMM epilogue (see sgemm.h).

   conv_transpose_f32: per image, group and chunk of input rows (CT_CHUNK_COLS positions),
   col = W_g^T * X_chunk (GEMM, col in scratch), then col2im scatter-adds col into Y
   (initialized with the bias; vector adds on AVX-512/AVX2, stride-2 expand on AVX-512), then
   the activation. Scratch: one col chunk plus the GEMM packing buffers. */
#include "graft_kernels.h"
#include "act.h"
#include "sgemm.h"
#include "../../src/cpu.h"
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GRAFT_CONV_X86 1
#elif defined(__ARM_NEON) || defined(__ARM_NEON__)
#define GRAFT_CONV_NEON 1
#include <arm_neon.h>
#endif

/* Geometry of one convolution, spatial dims right-aligned into 3 (see graft_sgemm_conv). */
typedef struct conv_geom {
  int32_t nsp;                 /* spatial dims: 1..3 */
  int64_t batch, cin, cout, group;
  int64_t in[3], out[3], kernel[3], stride[3], dilation[3], pad_begin[3], pad_end[3];
  int64_t out_pad[3];          /* conv_transpose only */
  int64_t in_size, out_size, kvol;
} conv_geom;

static const int64_t dim_limit = (int64_t)1 << 31;

static int f32_tensor(const graft_tensor *t) {
  return t && t->dtype == GRAFT_DTYPE_FLOAT32 && t->rank >= 0 && t->rank <= GRAFT_MAX_RANK;
}

static int dims_sane(const graft_tensor *t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t->rank; ++i) {
    if (t->dims[i] < 0 || t->dims[i] > dim_limit) return 0;
    if (t->dims[i] && n > ((int64_t)1 << 62) / t->dims[i]) return 0;
    n *= t->dims[i];
  }
  return 1;
}

/* Reads an optional per-spatial-dim attribute: absent -> dflt; present -> exactly `want`
   values, each >= minv. Returns 0 on mismatch. */
static int spatial_attr(const graft_call *c, int32_t key, int32_t want, int64_t dflt,
                        int64_t minv, int64_t *out) {
  const int64_t *v;
  const int32_t n = graft_attr_ints(c, key, &v);
  for (int32_t i = 0; i < want; ++i) out[i] = dflt;
  if (n == 0) return 1;
  if (n != want) return 0;
  for (int32_t i = 0; i < want; ++i) {
    if (v[i] < minv || v[i] > dim_limit) return 0;
    out[i] = v[i];
  }
  return 1;
}

/* Parses and validates shapes/attributes. transpose: ConvTranspose weight layout and output
   size rule. Returns GRAFT_OK or GRAFT_E_SHAPE / GRAFT_E_ARITY. */
static graft_status conv_parse(const graft_call *c, int transpose, conv_geom *g) {
  if (c->n_inputs < 2 || c->n_inputs > 3 || c->n_outputs != 1) return GRAFT_E_ARITY;
  const graft_tensor *x = c->inputs[0], *w = c->inputs[1];
  const graft_tensor *b = c->n_inputs > 2 ? c->inputs[2] : 0;
  const graft_tensor *y = c->outputs[0];
  if (!f32_tensor(x) || !f32_tensor(w) || !f32_tensor(y)) return GRAFT_E_SHAPE;
  if (x->rank < 3 || x->rank > 5 || w->rank != x->rank || y->rank != x->rank) return GRAFT_E_SHAPE;
  if (!dims_sane(x) || !dims_sane(w) || !dims_sane(y)) return GRAFT_E_SHAPE;
  const int32_t s = x->rank - 2;
  g->nsp = s;
  g->batch = x->dims[0];
  g->cin = x->dims[1];
  g->group = graft_attr_int(c, GRAFT_ATTR_GROUP, 1);
  if (g->group < 1 || g->group > dim_limit || g->cin % g->group != 0) return GRAFT_E_SHAPE;
  if (transpose) {
    if (w->dims[0] != g->cin) return GRAFT_E_SHAPE;
    g->cout = w->dims[1] * g->group;
  } else {
    if (w->dims[1] * g->group != g->cin) return GRAFT_E_SHAPE;
    g->cout = w->dims[0];
    if (g->cout % g->group != 0) return GRAFT_E_SHAPE;
  }
  if (y->dims[0] != g->batch || y->dims[1] != g->cout) return GRAFT_E_SHAPE;
  if (b && (!f32_tensor(b) || b->rank != 1 || b->dims[0] != g->cout)) return GRAFT_E_SHAPE;

  int64_t st[3], dl[3], pads[6], op[3], ks[3];
  if (!spatial_attr(c, GRAFT_ATTR_STRIDES, s, 1, 1, st)) return GRAFT_E_SHAPE;
  if (!spatial_attr(c, GRAFT_ATTR_DILATIONS, s, 1, 1, dl)) return GRAFT_E_SHAPE;
  if (!spatial_attr(c, GRAFT_ATTR_PADS, 2 * s, 0, 0, pads)) return GRAFT_E_SHAPE;
  if (!spatial_attr(c, GRAFT_ATTR_OUTPUT_PADDING, s, 0, 0, op)) return GRAFT_E_SHAPE;
  if (!spatial_attr(c, GRAFT_ATTR_KERNEL_SHAPE, s, 0, 0, ks)) return GRAFT_E_SHAPE;
  if (graft_attr_ints(c, GRAFT_ATTR_KERNEL_SHAPE, 0) != 0)
    for (int32_t i = 0; i < s; ++i)
      if (ks[i] != w->dims[2 + i]) return GRAFT_E_SHAPE;
  if (!transpose)
    for (int32_t i = 0; i < s; ++i)
      if (op[i] != 0) return GRAFT_E_SHAPE;

  g->in_size = g->out_size = g->kvol = 1;
  for (int32_t i = 0; i < 3; ++i) {
    const int32_t a = i - (3 - s); /* attribute index, negative for padded leading dims */
    if (a < 0) {
      g->in[i] = g->out[i] = g->kernel[i] = g->stride[i] = g->dilation[i] = 1;
      g->pad_begin[i] = g->pad_end[i] = g->out_pad[i] = 0;
    } else {
      g->in[i] = x->dims[2 + a];
      g->out[i] = y->dims[2 + a];
      g->kernel[i] = w->dims[2 + a];
      g->stride[i] = st[a];
      g->dilation[i] = dl[a];
      g->pad_begin[i] = pads[a];
      g->pad_end[i] = pads[a + s];
      g->out_pad[i] = op[a];
      if (g->kernel[i] < 1) return GRAFT_E_SHAPE;
      const int64_t span = g->dilation[i] * (g->kernel[i] - 1) + 1;
      int64_t expect;
      if (transpose) {
        if (g->out_pad[i] >= g->stride[i] && g->out_pad[i] >= g->dilation[i]) return GRAFT_E_SHAPE;
        expect = (g->in[i] - 1) * g->stride[i] + span - g->pad_begin[i] - g->pad_end[i] + g->out_pad[i];
        if (g->in[i] < 1) expect = -1;
      } else {
        const int64_t padded = g->in[i] + g->pad_begin[i] + g->pad_end[i];
        expect = padded < span ? -1 : (padded - span) / g->stride[i] + 1;
      }
      if (expect < 0 || expect != g->out[i]) return GRAFT_E_SHAPE;
    }
    g->in_size *= g->in[i];
    g->out_size *= g->out[i];
    g->kvol *= g->kernel[i];
  }
  const graft_act_params act = graft_act_of(c);
  if (act.kind < GRAFT_ACT_NONE || act.kind > GRAFT_ACT_AFFINE) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}

/* ---- conv_f32 ------------------------------------------------------------------------------ */

typedef enum { PATH_GENERAL, PATH_POINTWISE, PATH_DEPTHWISE, PATH_WINDOW } conv_path;

/* The shifted-window path (1-D/2-D convs): the group's input is copied once into zero-padded
   stride-phase planes (skipped for unit strides without pads), every im2col row is then one
   contiguous slice of them (see graft_sgemm_window), the GEMM runs over the plane-width output
   grid, and the valid columns are copied out (skipped when the grid has no extra columns). */
#define WINDOW_MAX_PHASES 64
/* Compact columns when the plane-width grid wastes more than 1/GRAFT_CONV_COMPACT_DIV. */
#ifndef GRAFT_CONV_COMPACT_DIV
#define GRAFT_CONV_COMPACT_DIV 8
#endif

typedef struct window_plan {
  int64_t ph2, pw2, ncols;  /* phase plane height/width; GEMM columns */
  int compact;              /* GEMM over the output grid itself (see graft_sgemm_window.out_w) */
  int need_copy, need_compact;
  size_t copy_bytes, out_bytes;
} window_plan;

static window_plan window_plan_of(const conv_geom *g) {
  window_plan p;
  const int64_t cg = g->cin / g->group, mg = g->cout / g->group;
  const int64_t sh = g->stride[1], sw = g->stride[2];
  const int64_t ihp = g->in[1] + g->pad_begin[1] + g->pad_end[1];
  const int64_t iwp = g->in[2] + g->pad_begin[2] + g->pad_end[2];
  p.ph2 = (ihp + sh - 1) / sh;
  p.pw2 = (iwp + sw - 1) / sw;
  /* Plane-width grid (contiguous packing, extra columns computed then dropped) when the extra
     columns are at most 1/8 of the grid; otherwise compact columns (row-run packing). */
  p.compact = g->out[1] > 1 && GRAFT_CONV_COMPACT_DIV * (p.pw2 - g->out[2]) > p.pw2;
  p.ncols = p.compact ? g->out[1] * g->out[2] : (g->out[1] - 1) * p.pw2 + g->out[2];
  p.need_copy = sh != 1 || sw != 1 || g->pad_begin[1] || g->pad_begin[2] || g->pad_end[1] ||
                g->pad_end[2];
  p.need_compact = !p.compact && g->out[1] > 1 && g->out[2] != p.pw2;
  p.copy_bytes =
      p.need_copy ? graft_align_up((size_t)(cg * sh * sw * p.ph2 * p.pw2) * sizeof(float)) : 0;
  p.out_bytes = p.need_compact ? graft_align_up((size_t)(mg * p.ncols) * sizeof(float)) : 0;
  return p;
}

static conv_path conv_path_of(const conv_geom *g) {
  if (g->group == g->cin && g->group > 1 && g->nsp <= 2 && g->cout % g->cin == 0)
    return PATH_DEPTHWISE;
  int pointwise = 1;
  for (int i = 0; i < 3; ++i)
    if (g->kernel[i] != 1 || g->stride[i] != 1 || g->pad_begin[i] != 0 || g->pad_end[i] != 0)
      pointwise = 0;
  if (pointwise) return PATH_POINTWISE;
  /* Window: at most 2 spatial dims, few stride phases. */
  const int one_tap = g->kernel[1] == 1 && g->kernel[2] == 1; /* strided 1x1: one phase used */
  if (g->nsp <= 2 && !one_tap && g->stride[1] * g->stride[2] <= WINDOW_MAX_PHASES) {
    return PATH_WINDOW;
  }
  return PATH_GENERAL;
}

static size_t depthwise_scratch(const conv_geom *g);

graft_status graft_conv_f32_check(const graft_call *c) {
  conv_geom g;
  return conv_parse(c, 0, &g);
}

size_t graft_conv_f32_scratch(const graft_call *c) {
  conv_geom g;
  if (conv_parse(c, 0, &g) != GRAFT_OK) return 0;
  const conv_path path = conv_path_of(&g);
  if (path == PATH_DEPTHWISE) return depthwise_scratch(&g);
  const int64_t mg = g.cout / g.group, kg = (g.cin / g.group) * g.kvol;
  if (path == PATH_WINDOW) {
    const window_plan p = window_plan_of(&g);
    return p.copy_bytes + p.out_bytes + graft_sgemm_scratch(mg, p.ncols, kg);
  }
  return graft_sgemm_scratch(mg, g.out_size, kg);
}

/* First output index o with o*s + off >= lo, clamped to [0, n]. */
static int64_t first_at_least(int64_t lo, int64_t off, int64_t s, int64_t n) {
  const int64_t t = lo - off;
  int64_t o = t <= 0 ? 0 : (t + s - 1) / s;
  return o > n ? n : o;
}

/* Depthwise direct kernel for one (image, output channel): y[oh][ow] = bias +
   sum_{kh,kw} w[kh][kw] * x[oh*sh - ph + kh*dh][ow*sw - pw + kw*dw]. Accumulates tap by tap
   into the output row (in L1), vectorized over ow. Instantiated per instruction set. */
#define GRAFT_DEPTHWISE_BODY                                                                  \
  {                                                                                           \
    const int64_t IH = g->in[1], IW = g->in[2], OH = g->out[1], OW = g->out[2];               \
    const int64_t KH = g->kernel[1], KW = g->kernel[2], sh = g->stride[1], sw = g->stride[2];  \
    for (int64_t oh = 0; oh < OH; ++oh) {                                                     \
      float *yr = y + oh * OW;                                                                \
      for (int64_t o = 0; o < OW; ++o) yr[o] = bias;                                          \
      for (int64_t kh = 0; kh < KH; ++kh) {                                                   \
        const int64_t ih = oh * sh - g->pad_begin[1] + kh * g->dilation[1];                   \
        if (ih < 0 || ih >= IH) continue;                                                     \
        const float *xr = x + ih * IW;                                                        \
        for (int64_t kw = 0; kw < KW; ++kw) {                                                 \
          const float wv = w[kh * KW + kw];                                                   \
          const int64_t off = kw * g->dilation[2] - g->pad_begin[2];                          \
          const int64_t lo = first_at_least(0, off, sw, OW);                                  \
          const int64_t hi = first_at_least(IW, off, sw, OW);                                 \
          if (sw == 1) {                                                                      \
            for (int64_t o = lo; o < hi; ++o) yr[o] += wv * xr[o + off];                      \
          } else if (sw == 2) {                                                               \
            for (int64_t o = lo; o < hi; ++o) yr[o] += wv * xr[2 * o + off];                  \
          } else {                                                                            \
            for (int64_t o = lo; o < hi; ++o) yr[o] += wv * xr[o * sw + off];                 \
          }                                                                                   \
        }                                                                                     \
      }                                                                                       \
      graft_act_apply_f32(yr, (size_t)OW, act);                                               \
    }                                                                                         \
  }

static void depthwise_generic(const conv_geom *g, const float *x, const float *w, float bias,
                              float *y, graft_act_params act) GRAFT_DEPTHWISE_BODY
#define DW_MAX_KW 64 /* wider depthwise kernels take the portable path (tap offsets on the stack) */

#ifdef GRAFT_CONV_X86
#include <immintrin.h>
#define T512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,avx")))

/* AVX-512 depthwise over a padded plane (see "depthwise over a padded plane" below for the
   layout, including the column-phase split used for horizontal stride 2). 16 outputs per
   vector with a masked tail; unit plane stride loads contiguously, other strides gather
   (masked-off lanes are never read). Two accumulators alternate by tap column; KW is a
   compile-time constant for 3 and 5 (kwc); tap column offsets come from `toff`. */
static T512 inline __attribute__((always_inline)) void dw512_body(
    const int khc, const int kwc, const conv_geom *g, const float *p, int64_t pw,
    const int64_t *toff, int64_t es, const float *w, float bias, float *y, graft_act_params act,
    int64_t oh0) {
  const int64_t OH = g->out[1], OW = g->out[2];
  const int64_t KH = khc ? khc : g->kernel[1], KW = kwc ? kwc : g->kernel[2], sh = g->stride[1];
  const int64_t dh = g->dilation[1];
  const int clamp = act.kind == GRAFT_ACT_RELU ? 1 : (act.kind == GRAFT_ACT_CLIP ? 2 : 0);
  const int post = act.kind != GRAFT_ACT_NONE && !clamp;
  const __m512 vlo = _mm512_set1_ps(act.a), vhi = _mm512_set1_ps(act.b), zero = _mm512_setzero_ps();
  const __m512 vb = _mm512_set1_ps(bias);
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i gidx = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int)es));
  int64_t t[DW_MAX_KW]; /* local copy: the compiler may keep it in registers */
  for (int64_t kw = 0; kw < KW; ++kw) t[kw] = toff[kw];
  for (int64_t oh = oh0; oh < OH; ++oh) {
    float *yr = y + oh * OW;
    const float *r0 = p + oh * sh * pw;
    for (int64_t o = 0; o < OW; o += 16) {
      const int64_t cnt = OW - o < 16 ? OW - o : 16;
      const __mmask16 m = cnt == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cnt) - 1u);
      __m512 acc = vb, acc1 = zero;
#pragma GCC unroll 5
      for (int64_t kh = 0; kh < KH; ++kh) {
        const float *xr = r0 + kh * dh * pw + o * es;
        const float *wr = w + kh * KW;
        __m512 part = zero;
#pragma GCC unroll 5
        for (int64_t kw = 0; kw < KW; ++kw) {
          const float *src = xr + t[kw];
          __m512 v;
          if (es == 1) v = cnt == 16 ? _mm512_loadu_ps(src) : _mm512_maskz_loadu_ps(m, src);
          else v = _mm512_mask_i32gather_ps(zero, m, gidx, src, 4);
          part = _mm512_fmadd_ps(_mm512_set1_ps(wr[kw]), v, part);
        }
        if (kh & 1) acc1 = _mm512_add_ps(acc1, part);
        else acc = _mm512_add_ps(acc, part);
      }
      acc = _mm512_add_ps(acc, acc1);
      if (clamp == 1) acc = _mm512_max_ps(acc, zero);
      else if (clamp == 2) acc = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc));
      _mm512_mask_storeu_ps(yr + o, m, acc);
    }
    if (post) graft_act_apply_f32(yr, (size_t)OW, act);
  }
}

/* Two output rows per pass for K x K kernels with vertical stride shc (1 or 2) and no vertical
   dilation: input row r of the pass feeds kernel row r of the first output row and kernel
   row r - shc of the second, so each loaded tap vector serves up to two outputs. Returns the
   number of rows done (even); the caller finishes an odd last row. */
static T512 inline __attribute__((always_inline)) int64_t dw512_rows2(
    const int K, const int shc, const conv_geom *g, const float *p, int64_t pw,
    const int64_t *toff, int64_t es, const float *w, float bias, float *y, graft_act_params act) {
  const int64_t OH = g->out[1], OW = g->out[2];
  const int clamp = act.kind == GRAFT_ACT_RELU ? 1 : (act.kind == GRAFT_ACT_CLIP ? 2 : 0);
  const int post = act.kind != GRAFT_ACT_NONE && !clamp;
  const __m512 vlo = _mm512_set1_ps(act.a), vhi = _mm512_set1_ps(act.b), zero = _mm512_setzero_ps();
  const __m512 vb = _mm512_set1_ps(bias);
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i gidx = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int)es));
  int64_t t[5];
  for (int kw = 0; kw < K; ++kw) t[kw] = toff[kw];
  int64_t oh = 0;
  for (; oh + 2 <= OH; oh += 2) {
    float *y0 = y + oh * OW, *y1 = y0 + OW;
    const float *r0 = p + oh * shc * pw;
    for (int64_t o = 0; o < OW; o += 16) {
      const int64_t cnt = OW - o < 16 ? OW - o : 16;
      const __mmask16 m = cnt == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cnt) - 1u);
      __m512 a0 = vb, b0 = zero, a1 = vb, b1 = zero;
#pragma GCC unroll 7
      for (int r = 0; r < K + shc; ++r) {
        const float *xr = r0 + r * pw + o * es;
#pragma GCC unroll 5
        for (int kw = 0; kw < K; ++kw) {
          const float *src = xr + t[kw];
          __m512 v;
          if (es == 1) v = cnt == 16 ? _mm512_loadu_ps(src) : _mm512_maskz_loadu_ps(m, src);
          else v = _mm512_mask_i32gather_ps(zero, m, gidx, src, 4);
          if (r < K) {
            const __m512 wv = _mm512_set1_ps(w[r * K + kw]);
            if (kw & 1) b0 = _mm512_fmadd_ps(wv, v, b0);
            else a0 = _mm512_fmadd_ps(wv, v, a0);
          }
          if (r >= shc) {
            const __m512 wv = _mm512_set1_ps(w[(r - shc) * K + kw]);
            if (kw & 1) b1 = _mm512_fmadd_ps(wv, v, b1);
            else a1 = _mm512_fmadd_ps(wv, v, a1);
          }
        }
      }
      a0 = _mm512_add_ps(a0, b0);
      a1 = _mm512_add_ps(a1, b1);
      if (clamp == 1) {
        a0 = _mm512_max_ps(a0, zero);
        a1 = _mm512_max_ps(a1, zero);
      } else if (clamp == 2) {
        a0 = _mm512_min_ps(vhi, _mm512_max_ps(vlo, a0));
        a1 = _mm512_min_ps(vhi, _mm512_max_ps(vlo, a1));
      }
      _mm512_mask_storeu_ps(y0 + o, m, a0);
      _mm512_mask_storeu_ps(y1 + o, m, a1);
    }
    if (post) {
      graft_act_apply_f32(y0, (size_t)OW, act);
      graft_act_apply_f32(y1, (size_t)OW, act);
    }
  }
  return oh;
}

T512 static void depthwise_avx512(const conv_geom *g, const float *p, int64_t pw,
                                  const int64_t *toff, int64_t es, const float *w, float bias,
                                  float *y, graft_act_params act) {
  const int64_t KH = g->kernel[1], KW = g->kernel[2], sh = g->stride[1], dh = g->dilation[1];
  if (KH == KW && (KH == 3 || KH == 5) && dh == 1 && (sh == 1 || sh == 2)) {
    int64_t done;
    if (KH == 3) done = sh == 1 ? dw512_rows2(3, 1, g, p, pw, toff, es, w, bias, y, act)
                                : dw512_rows2(3, 2, g, p, pw, toff, es, w, bias, y, act);
    else done = sh == 1 ? dw512_rows2(5, 1, g, p, pw, toff, es, w, bias, y, act)
                        : dw512_rows2(5, 2, g, p, pw, toff, es, w, bias, y, act);
    if (done < g->out[1]) {
      if (KH == 3) dw512_body(3, 3, g, p, pw, toff, es, w, bias, y, act, done);
      else dw512_body(5, 5, g, p, pw, toff, es, w, bias, y, act, done);
    }
    return;
  }
  if (KW == 3) dw512_body(0, 3, g, p, pw, toff, es, w, bias, y, act, 0);
  else if (KW == 5) dw512_body(0, 5, g, p, pw, toff, es, w, bias, y, act, 0);
  else dw512_body(0, 0, g, p, pw, toff, es, w, bias, y, act, 0);
}

#endif

/* ---- depthwise over a padded plane (the vector paths) -------------------------------------
   The input channel is first copied into a zero-padded plane (pw floats per row), so every tap
   of every output is in bounds. Row oh*sh + kh*dh of the plane holds the taps of kernel row kh
   for output row oh. Within a row, output ow's tap kw is at toff[kw] + ow*es:
   - unsplit (es = sw): toff[kw] = kw*dw, the padded row as is;
   - column-phase split (x86, sw == 2): the row is stored as its even padded columns
     (ceil(pw/2) of them) followed by its odd ones, so es = 1 and every tap is a contiguous
     load: toff[kw] = (kw*dw odd ? ceil(pw/2) : 0) + floor(kw*dw/2).
   Nothing past the last tap of the last output is read. Bias is the accumulator's start
   value; Relu/Clip are applied in registers, other activations per output row (in L1). */
typedef void (*dw_plane_fn)(const conv_geom *g, const float *p, int64_t pw, const int64_t *toff,
                            int64_t es, const float *w, float bias, float *y,
                            graft_act_params act);


static int dw_clamp_of(graft_act_params act) {
  return act.kind == GRAFT_ACT_RELU ? 1 : (act.kind == GRAFT_ACT_CLIP ? 2 : 0);
}

/* d[i] = s[2*i], i < n. */
static void even_copy_generic(float *d, const float *s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = s[2 * i];
}

#ifdef GRAFT_CONV_NEON
/* Outputs [o0, o1) of one output row whose top-left tap row starts at r0, scalar. */
static void dw_plane_scalar(const conv_geom *g, const float *r0, int64_t pw, const int64_t *toff,
                            int64_t es, const float *w, float bias, float *yr, int64_t o0,
                            int64_t o1, int clamp, graft_act_params act) {
  const int64_t KH = g->kernel[1], KW = g->kernel[2], dh = g->dilation[1];
  for (int64_t o = o0; o < o1; ++o) {
    float s = bias;
    for (int64_t kh = 0; kh < KH; ++kh) {
      const float *xr = r0 + kh * dh * pw + o * es;
      for (int64_t kw = 0; kw < KW; ++kw) s += w[kh * KW + kw] * xr[toff[kw]];
    }
    if (clamp == 1) s = s > 0.0f ? s : 0.0f;
    else if (clamp == 2) s = s < act.a ? act.a : (s > act.b ? act.b : s);
    yr[o] = s;
  }
}

/* NEON (unsplit plane): 4 outputs per vector, two accumulators (alternating tap columns);
   unit stride loads contiguously, stride 2 de-interleaves with vld2q when the next vector's
   outputs exist (so its 8th float is in bounds), other strides and the last vector load lane
   by lane; columns past the last full vector are scalar. KW is a compile-time constant for 3
   and 5 (kwc). */
#ifdef __aarch64__
#define DW_FMA_N(acc, v, s) vfmaq_n_f32(acc, v, s)
#else
#define DW_FMA_N(acc, v, s) vmlaq_n_f32(acc, v, s)
#endif

static inline __attribute__((always_inline)) float32x4_t dw_load4(const float *src, int64_t sw,
                                                                   int ahead) {
  if (sw == 1) return vld1q_f32(src);
  if (sw == 2 && ahead) return vld2q_f32(src).val[0];
  float32x4_t v = vdupq_n_f32(src[0]);
  v = vsetq_lane_f32(src[sw], v, 1);
  v = vsetq_lane_f32(src[2 * sw], v, 2);
  return vsetq_lane_f32(src[3 * sw], v, 3);
}

static inline __attribute__((always_inline)) void dw_neon_body(
    const int kwc, const conv_geom *g, const float *p, int64_t pw, const int64_t *toff,
    int64_t es, const float *w, float bias, float *y, graft_act_params act, int64_t oh0) {
  const int64_t OH = g->out[1], OW = g->out[2];
  const int64_t KH = g->kernel[1], KW = kwc ? kwc : g->kernel[2];
  const int64_t sh = g->stride[1], dh = g->dilation[1];
  const int clamp = dw_clamp_of(act);
  const int post = act.kind != GRAFT_ACT_NONE && !clamp;
  const float32x4_t zero = vdupq_n_f32(0.0f), vlo = vdupq_n_f32(act.a), vhi = vdupq_n_f32(act.b);
  int64_t t[DW_MAX_KW]; /* local copy: the compiler may keep it in registers */
  for (int64_t kw = 0; kw < KW; ++kw) t[kw] = toff[kw];
  for (int64_t oh = oh0; oh < OH; ++oh) {
    float *yr = y + oh * OW;
    const float *r0 = p + oh * sh * pw;
    int64_t o = 0;
    for (; o + 4 <= OW; o += 4) {
      const int ahead = o + 4 < OW;
      float32x4_t acc = vdupq_n_f32(bias), acc1 = zero;
      for (int64_t kh = 0; kh < KH; ++kh) {
        const float *xr = r0 + kh * dh * pw + o * es;
        const float *wr = w + kh * KW;
#pragma GCC unroll 5
        for (int64_t kw = 0; kw < KW; ++kw) {
          const float32x4_t v = dw_load4(xr + t[kw], es, ahead);
          if (kw & 1) acc1 = DW_FMA_N(acc1, v, wr[kw]);
          else acc = DW_FMA_N(acc, v, wr[kw]);
        }
      }
      acc = vaddq_f32(acc, acc1);
      if (clamp == 1) acc = vmaxq_f32(acc, zero);
      else if (clamp == 2) acc = vminq_f32(vhi, vmaxq_f32(vlo, acc));
      vst1q_f32(yr + o, acc);
    }
    if (o < OW) dw_plane_scalar(g, r0, pw, toff, es, w, bias, yr, o, OW, clamp, act);
    if (post) graft_act_apply_f32(yr, (size_t)OW, act);
  }
}

/* NEON twin of dw512_rows2: two output rows per pass for K x K kernels, vertical stride shc
   (1 or 2), no vertical dilation; full 4-lane vectors, scalar column tail. Returns the rows
   done (even). */
static inline __attribute__((always_inline)) int64_t dw_neon_rows2(
    const int K, const int shc, const conv_geom *g, const float *p, int64_t pw,
    const int64_t *toff, int64_t es, const float *w, float bias, float *y, graft_act_params act) {
  const int64_t OH = g->out[1], OW = g->out[2];
  const int clamp = dw_clamp_of(act);
  const int post = act.kind != GRAFT_ACT_NONE && !clamp;
  const float32x4_t zero = vdupq_n_f32(0.0f), vlo = vdupq_n_f32(act.a), vhi = vdupq_n_f32(act.b);
  const float32x4_t vb = vdupq_n_f32(bias);
  int64_t t[5];
  for (int kw = 0; kw < K; ++kw) t[kw] = toff[kw];
  int64_t oh = 0;
  for (; oh + 2 <= OH; oh += 2) {
    float *y0 = y + oh * OW, *y1 = y0 + OW;
    const float *r0 = p + oh * shc * pw;
    int64_t o = 0;
    for (; o + 4 <= OW; o += 4) {
      const int ahead = o + 4 < OW;
      float32x4_t a0 = vb, b0 = zero, a1 = vb, b1 = zero;
#pragma GCC unroll 7
      for (int r = 0; r < K + shc; ++r) {
        const float *xr = r0 + r * pw + o * es;
#pragma GCC unroll 5
        for (int kw = 0; kw < K; ++kw) {
          const float32x4_t v = dw_load4(xr + t[kw], es, ahead);
          if (r < K) {
            if (kw & 1) b0 = DW_FMA_N(b0, v, w[r * K + kw]);
            else a0 = DW_FMA_N(a0, v, w[r * K + kw]);
          }
          if (r >= shc) {
            if (kw & 1) b1 = DW_FMA_N(b1, v, w[(r - shc) * K + kw]);
            else a1 = DW_FMA_N(a1, v, w[(r - shc) * K + kw]);
          }
        }
      }
      a0 = vaddq_f32(a0, b0);
      a1 = vaddq_f32(a1, b1);
      if (clamp == 1) {
        a0 = vmaxq_f32(a0, zero);
        a1 = vmaxq_f32(a1, zero);
      } else if (clamp == 2) {
        a0 = vminq_f32(vhi, vmaxq_f32(vlo, a0));
        a1 = vminq_f32(vhi, vmaxq_f32(vlo, a1));
      }
      vst1q_f32(y0 + o, a0);
      vst1q_f32(y1 + o, a1);
    }
    if (o < OW) {
      dw_plane_scalar(g, r0, pw, toff, es, w, bias, y0, o, OW, clamp, act);
      dw_plane_scalar(g, r0 + shc * pw, pw, toff, es, w, bias, y1, o, OW, clamp, act);
    }
    if (post) {
      graft_act_apply_f32(y0, (size_t)OW, act);
      graft_act_apply_f32(y1, (size_t)OW, act);
    }
  }
  return oh;
}

static void depthwise_neon(const conv_geom *g, const float *p, int64_t pw, const int64_t *toff,
                           int64_t es, const float *w, float bias, float *y,
                           graft_act_params act) {
  const int64_t KH = g->kernel[1], KW = g->kernel[2], sh = g->stride[1], dh = g->dilation[1];
  int64_t done = 0;
  if (KH == KW && (KH == 3 || KH == 5) && dh == 1 && (sh == 1 || sh == 2)) {
    if (KH == 3) done = sh == 1 ? dw_neon_rows2(3, 1, g, p, pw, toff, es, w, bias, y, act)
                                : dw_neon_rows2(3, 2, g, p, pw, toff, es, w, bias, y, act);
    else done = sh == 1 ? dw_neon_rows2(5, 1, g, p, pw, toff, es, w, bias, y, act)
                        : dw_neon_rows2(5, 2, g, p, pw, toff, es, w, bias, y, act);
    if (done == g->out[1]) return;
  }
  if (KW == 3) dw_neon_body(3, g, p, pw, toff, es, w, bias, y, act, done);
  else if (KW == 5) dw_neon_body(5, g, p, pw, toff, es, w, bias, y, act, done);
  else dw_neon_body(0, g, p, pw, toff, es, w, bias, y, act, done);
}
#endif /* GRAFT_CONV_NEON */

#ifdef GRAFT_CONV_X86
/* AVX2 + FMA: 8 outputs per vector, two accumulators; unit plane stride loads contiguously
   (masked tail), other strides use a masked gather (masked-off lanes are never read). KW is a
   compile-time constant for 3 and 5 (kwc). */
#define T256 __attribute__((target("avx2,fma,avx")))

static T256 inline __attribute__((always_inline)) void dw_avx2_body(
    const int kwc, const conv_geom *g, const float *p, int64_t pw, const int64_t *toff,
    int64_t es, const float *w, float bias, float *y, graft_act_params act, int64_t oh0) {
  const int64_t OH = g->out[1], OW = g->out[2];
  const int64_t KH = g->kernel[1], KW = kwc ? kwc : g->kernel[2];
  const int64_t sh = g->stride[1], dh = g->dilation[1];
  const int clamp = dw_clamp_of(act);
  const int post = act.kind != GRAFT_ACT_NONE && !clamp;
  const __m256 zero = _mm256_setzero_ps(), vlo = _mm256_set1_ps(act.a), vhi = _mm256_set1_ps(act.b);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i gidx = _mm256_mullo_epi32(lanes, _mm256_set1_epi32((int)es));
  int64_t t[DW_MAX_KW]; /* local copy: the compiler may keep it in registers */
  for (int64_t kw = 0; kw < KW; ++kw) t[kw] = toff[kw];
  for (int64_t oh = oh0; oh < OH; ++oh) {
    float *yr = y + oh * OW;
    const float *r0 = p + oh * sh * pw;
    for (int64_t o = 0; o < OW; o += 8) {
      const int64_t cnt = OW - o < 8 ? OW - o : 8;
      const int full = cnt == 8;
      const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cnt), lanes);
      __m256 acc = _mm256_set1_ps(bias), acc1 = zero;
      for (int64_t kh = 0; kh < KH; ++kh) {
        const float *xr = r0 + kh * dh * pw + o * es;
        const float *wr = w + kh * KW;
#pragma GCC unroll 5
        for (int64_t kw = 0; kw < KW; ++kw) {
          const float *src = xr + t[kw];
          __m256 v;
          if (es == 1) v = full ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, mask);
          else v = _mm256_mask_i32gather_ps(zero, src, gidx, _mm256_castsi256_ps(mask), 4);
          if (kw & 1) acc1 = _mm256_fmadd_ps(_mm256_broadcast_ss(wr + kw), v, acc1);
          else acc = _mm256_fmadd_ps(_mm256_broadcast_ss(wr + kw), v, acc);
        }
      }
      acc = _mm256_add_ps(acc, acc1);
      if (clamp == 1) acc = _mm256_max_ps(acc, zero);
      else if (clamp == 2) acc = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc));
      if (full) _mm256_storeu_ps(yr + o, acc);
      else _mm256_maskstore_ps(yr + o, mask, acc);
    }
    if (post) graft_act_apply_f32(yr, (size_t)OW, act);
  }
}

/* AVX2 twin of dw512_rows2 (two output rows per pass, 8 lanes). */
static T256 inline __attribute__((always_inline)) int64_t dw256_rows2(
    const int K, const int shc, const conv_geom *g, const float *p, int64_t pw,
    const int64_t *toff, int64_t es, const float *w, float bias, float *y, graft_act_params act) {
  const int64_t OH = g->out[1], OW = g->out[2];
  const int clamp = act.kind == GRAFT_ACT_RELU ? 1 : (act.kind == GRAFT_ACT_CLIP ? 2 : 0);
  const int post = act.kind != GRAFT_ACT_NONE && !clamp;
  const __m256 vlo = _mm256_set1_ps(act.a), vhi = _mm256_set1_ps(act.b), zero = _mm256_setzero_ps();
  const __m256 vb = _mm256_set1_ps(bias);
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i gidx = _mm256_mullo_epi32(lanes, _mm256_set1_epi32((int)es));
  int64_t t[5];
  for (int kw = 0; kw < K; ++kw) t[kw] = toff[kw];
  int64_t oh = 0;
  for (; oh + 2 <= OH; oh += 2) {
    float *y0 = y + oh * OW, *y1 = y0 + OW;
    const float *r0 = p + oh * shc * pw;
    for (int64_t o = 0; o < OW; o += 8) {
      const int64_t cnt = OW - o < 8 ? OW - o : 8;
      const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)cnt), lanes);
      __m256 a0 = vb, b0 = zero, a1 = vb, b1 = zero;
#pragma GCC unroll 7
      for (int r = 0; r < K + shc; ++r) {
        const float *xr = r0 + r * pw + o * es;
#pragma GCC unroll 5
        for (int kw = 0; kw < K; ++kw) {
          const float *src = xr + t[kw];
          __m256 v;
          if (es == 1) v = cnt == 8 ? _mm256_loadu_ps(src) : _mm256_maskload_ps(src, m);
          else v = _mm256_mask_i32gather_ps(zero, src, gidx, _mm256_castsi256_ps(m), 4);
          if (r < K) {
            const __m256 wv = _mm256_set1_ps(w[r * K + kw]);
            if (kw & 1) b0 = _mm256_fmadd_ps(wv, v, b0);
            else a0 = _mm256_fmadd_ps(wv, v, a0);
          }
          if (r >= shc) {
            const __m256 wv = _mm256_set1_ps(w[(r - shc) * K + kw]);
            if (kw & 1) b1 = _mm256_fmadd_ps(wv, v, b1);
            else a1 = _mm256_fmadd_ps(wv, v, a1);
          }
        }
      }
      a0 = _mm256_add_ps(a0, b0);
      a1 = _mm256_add_ps(a1, b1);
      if (clamp == 1) {
        a0 = _mm256_max_ps(a0, zero);
        a1 = _mm256_max_ps(a1, zero);
      } else if (clamp == 2) {
        a0 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a0));
        a1 = _mm256_min_ps(vhi, _mm256_max_ps(vlo, a1));
      }
      if (cnt == 8) {
        _mm256_storeu_ps(y0 + o, a0);
        _mm256_storeu_ps(y1 + o, a1);
      } else {
        _mm256_maskstore_ps(y0 + o, m, a0);
        _mm256_maskstore_ps(y1 + o, m, a1);
      }
    }
    if (post) {
      graft_act_apply_f32(y0, (size_t)OW, act);
      graft_act_apply_f32(y1, (size_t)OW, act);
    }
  }
  return oh;
}

static T256 void depthwise_avx2(const conv_geom *g, const float *p, int64_t pw,
                                const int64_t *toff, int64_t es, const float *w, float bias,
                                float *y, graft_act_params act) {
  const int64_t KH = g->kernel[1], KW = g->kernel[2], sh = g->stride[1], dh = g->dilation[1];
  int64_t done = 0;
  if (KH == KW && (KH == 3 || KH == 5) && dh == 1 && (sh == 1 || sh == 2)) {
    if (KH == 3) done = sh == 1 ? dw256_rows2(3, 1, g, p, pw, toff, es, w, bias, y, act)
                                : dw256_rows2(3, 2, g, p, pw, toff, es, w, bias, y, act);
    else done = sh == 1 ? dw256_rows2(5, 1, g, p, pw, toff, es, w, bias, y, act)
                        : dw256_rows2(5, 2, g, p, pw, toff, es, w, bias, y, act);
    if (done == g->out[1]) return;
  }
  if (KW == 3) dw_avx2_body(3, g, p, pw, toff, es, w, bias, y, act, done);
  else if (KW == 5) dw_avx2_body(5, g, p, pw, toff, es, w, bias, y, act, done);
  else dw_avx2_body(0, g, p, pw, toff, es, w, bias, y, act, done);
}

/* d[i] = s[2*i], i < n: two loads, an in-lane shuffle and a lane permute per 8. */
static T256 void even_copy_avx2(float *d, const float *s, int64_t n) {
  int64_t i = 0;
  for (; i + 8 < n; i += 8) { /* s[2*i + 15] is read: in bounds while i + 8 < n */
    const __m256 lo = _mm256_loadu_ps(s + 2 * i), hi = _mm256_loadu_ps(s + 2 * i + 8);
    const __m256 ev = _mm256_shuffle_ps(lo, hi, 0x88); /* lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6 */
    _mm256_storeu_ps(d + i, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), 0xD8)));
  }
  for (; i < n; ++i) d[i] = s[2 * i];
}
#endif

/* Depthwise scratch: one padded (and for horizontal stride 2 column-phase split) input plane
   for the vector paths, sized the same for every machine; 0 when neither applies. */
static int depthwise_has_pads(const conv_geom *g) {
  return g->pad_begin[1] || g->pad_begin[2] || g->pad_end[1] || g->pad_end[2];
}
static size_t depthwise_scratch(const conv_geom *g) {
  if (!depthwise_has_pads(g) && g->stride[2] != 2) return 0;
  const int64_t ihp = g->in[1] + g->pad_begin[1] + g->pad_end[1];
  const int64_t iwp = g->in[2] + g->pad_begin[2] + g->pad_end[2];
  return graft_align_up((size_t)(ihp * iwp) * sizeof(float));
}

static void conv_depthwise(const conv_geom *g, const float *x, const float *w, const float *b,
                           float *y, graft_act_params act, void *scratch) {
  typedef void (*even_copy_fn)(float *d, const float *s, int64_t n);
  const int64_t mult = g->cout / g->cin, ksz = g->kvol;
  const int64_t KW = g->kernel[2], sw = g->stride[2], dw = g->dilation[2];
  dw_plane_fn pf = 0;
  even_copy_fn ecopy = even_copy_generic;
  int split = 0;
#ifdef GRAFT_CONV_X86
  const graft_cpu_level lvl = graft_cpu_level_get();
  if (lvl == GRAFT_CPU_AVX512 && sw * 16 < ((int64_t)1 << 30)) {
    pf = depthwise_avx512;
    ecopy = even_copy_avx2; /* measured faster here than a 16-lane masked-permute copy */
    split = sw == 2;
  } else if (lvl == GRAFT_CPU_AVX2 && sw * 8 < ((int64_t)1 << 30)) {
    pf = depthwise_avx2;
    ecopy = even_copy_avx2;
    split = sw == 2;
  }
#endif
#ifdef GRAFT_CONV_NEON
  if (graft_cpu_level_get() == GRAFT_CPU_NEON) pf = depthwise_neon;
#endif
  if (KW > DW_MAX_KW) pf = 0;
  if (pf) {
    const int pads = depthwise_has_pads(g);
    const int64_t IH = g->in[1], IW = g->in[2], pt = g->pad_begin[1], pl = g->pad_begin[2];
    const int64_t ihp = IH + pt + g->pad_end[1];
    const int64_t iwp = IW + pl + g->pad_end[2];
    const int64_t he = (iwp + 1) / 2, ho = iwp / 2; /* split: even / odd column counts */
    int64_t toff[DW_MAX_KW];
    for (int64_t kw = 0; kw < KW; ++kw)
      toff[kw] = split ? ((kw * dw) & 1 ? he : 0) + (kw * dw) / 2 : kw * dw;
    const int64_t es = split ? 1 : sw;
    float *plane = (float *)scratch;
    /* The padding sits at the same places for every channel: zero the plane once, then each
       channel only overwrites the interior. */
    if (split || pads) memset(plane, 0, (size_t)(ihp * iwp) * sizeof(float));
    /* split: even half ev[e] = x[2e - pl] for e in [elo, ehi), odd half od[e] = x[2e + 1 - pl]
       for e in [olo, ohi); every other entry is padding */
    const int64_t elo = (pl + 1) / 2, ehi = (IW + pl + 1) / 2;
    const int64_t olo = pl / 2, ohi = (IW + pl) / 2 < ho ? (IW + pl) / 2 : ho;
    for (int64_t n = 0; n < g->batch; ++n)
      for (int64_t ic = 0; ic < g->cin; ++ic) {
        const float *xc = x + (n * g->cin + ic) * g->in_size;
        const float *src = xc;
        if (split) {
          for (int64_t sr = 0; sr < IH; ++sr) {
            float *ev = plane + (sr + pt) * iwp, *od = ev + he;
            const float *xr = xc + sr * IW;
            if (ehi > elo) ecopy(ev + elo, xr + 2 * elo - pl, ehi - elo);
            if (ohi > olo) ecopy(od + olo, xr + 2 * olo + 1 - pl, ohi - olo);
          }
          src = plane;
        } else if (pads) {
          for (int64_t sr = 0; sr < IH; ++sr)
            memcpy(plane + (sr + pt) * iwp + pl, xc + sr * IW, (size_t)IW * sizeof(float));
          src = plane;
        }
        for (int64_t q = 0; q < mult; ++q) {
          const int64_t oc = ic * mult + q;
          pf(g, src, (split || pads) ? iwp : IW, toff, es, w + oc * ksz, b ? b[oc] : 0.0f,
             y + (n * g->cout + oc) * g->out_size, act);
        }
      }
    return;
  }
  (void)ecopy;
  for (int64_t n = 0; n < g->batch; ++n)
    for (int64_t oc = 0; oc < g->cout; ++oc) {
      const int64_t ic = oc / mult;
      depthwise_generic(g, x + (n * g->cin + ic) * g->in_size, w + oc * ksz, b ? b[oc] : 0.0f,
                        y + (n * g->cout + oc) * g->out_size, act);
    }
}

/* Fills the used stride-phase planes of one group (see window_plan). */
static void window_fill_planes(const conv_geom *g, const window_plan *p, const float *xg,
                               float *planes) {
  const int64_t cg = g->cin / g->group, sh = g->stride[1], sw = g->stride[2];
  const int64_t IH = g->in[1], IW = g->in[2], pt = g->pad_begin[1], pl = g->pad_begin[2];
  unsigned char used_h[WINDOW_MAX_PHASES] = {0}, used_w[WINDOW_MAX_PHASES] = {0};
  for (int64_t kh = 0; kh < g->kernel[1]; ++kh) used_h[(kh * g->dilation[1]) % sh] = 1;
  for (int64_t kw = 0; kw < g->kernel[2]; ++kw) used_w[(kw * g->dilation[2]) % sw] = 1;
  for (int64_t ch = 0; ch < cg; ++ch)
    for (int64_t ph = 0; ph < sh; ++ph)
      for (int64_t pw = 0; pw < sw; ++pw) {
        if (!used_h[ph] || !used_w[pw]) continue;
        float *plane = planes + ((ch * sh + ph) * sw + pw) * p->ph2 * p->pw2;
        /* valid q: 0 <= q*sw + pw - pl < IW */
        const int64_t qlo = first_at_least(0, pw - pl, sw, p->pw2);
        const int64_t qhi = first_at_least(IW, pw - pl, sw, p->pw2);
        for (int64_t r = 0; r < p->ph2; ++r) {
          float *row = plane + r * p->pw2;
          const int64_t ih = r * sh + ph - pt;
          if (ih < 0 || ih >= IH || qhi <= qlo) {
            memset(row, 0, (size_t)p->pw2 * sizeof(float));
            continue;
          }
          const float *src = xg + (ch * IH + ih) * IW;
          memset(row, 0, (size_t)qlo * sizeof(float));
          if (sw == 1) {
            memcpy(row + qlo, src + qlo + pw - pl, (size_t)(qhi - qlo) * sizeof(float));
          } else {
            for (int64_t q = qlo; q < qhi; ++q) row[q] = src[q * sw + pw - pl];
          }
          memset(row + qhi, 0, (size_t)(p->pw2 - qhi) * sizeof(float));
        }
      }
}

static void conv_window(const conv_geom *g, const float *x, const float *w, const float *b,
                        float *y, graft_act_params act, void *scratch) {
  const window_plan p = window_plan_of(g);
  const int64_t cg = g->cin / g->group, mg = g->cout / g->group, kg = cg * g->kvol;
  const int64_t OH = g->out[1], OW = g->out[2];
  float *planes = (float *)scratch;
  float *tmp = (float *)((char *)scratch + p.copy_bytes);
  void *gemm_scratch = (char *)scratch + p.copy_bytes + p.out_bytes;
  graft_sgemm_window win;
  win.c_stride = g->stride[1] * g->stride[2] * p.ph2 * p.pw2;
  win.kh_count = g->kernel[1];
  win.kw_count = g->kernel[2];
  win.dil_h = g->dilation[1];
  win.dil_w = g->dilation[2];
  win.stride_h = g->stride[1];
  win.stride_w = g->stride[2];
  win.plane_h = p.ph2;
  win.plane_w = p.pw2;
  win.out_w = p.compact ? OW : 0;
  for (int64_t n = 0; n < g->batch; ++n)
    for (int64_t gi = 0; gi < g->group; ++gi) {
      const float *xg = x + (n * g->cin + gi * cg) * g->in_size;
      float *yg = y + (n * g->cout + gi * mg) * g->out_size;
      win.x = xg;
      if (p.need_copy) {
        window_fill_planes(g, &p, xg, planes);
        win.x = planes;
      }
      graft_sgemm_a a = {w + gi * mg * kg, kg, 1, 1.0f};
      graft_sgemm_b bm = {0, 0, 0, 0, &win};
      graft_sgemm_c cm = {p.need_compact ? tmp : yg, p.ncols, 0, b ? b + gi * mg : 0, 0, act};
      graft_sgemm(mg, p.ncols, kg, &a, &bm, &cm, gemm_scratch);
      if (p.need_compact)
        for (int64_t m = 0; m < mg; ++m)
          for (int64_t oh = 0; oh < OH; ++oh)
            memcpy(yg + m * g->out_size + oh * OW, tmp + m * p.ncols + oh * p.pw2,
                   (size_t)OW * sizeof(float));
    }
}

graft_status graft_conv_f32_eval(const graft_call *c) {
  conv_geom g;
  const graft_status st = conv_parse(c, 0, &g);
  if (st != GRAFT_OK) return st;
  const float *x = (const float *)c->inputs[0]->data;
  const float *w = (const float *)c->inputs[1]->data;
  const float *b = c->n_inputs > 2 && c->inputs[2] ? (const float *)c->inputs[2]->data : 0;
  float *y = (float *)c->outputs[0]->data;
  const graft_act_params act = graft_act_of(c);
  const conv_path path = conv_path_of(&g);
  if (g.out_size == 0 || g.batch == 0 || g.cout == 0) return GRAFT_OK;
  if (c->scratch_bytes < graft_conv_f32_scratch(c)) return GRAFT_E_ARENA_TOO_SMALL;
  if (path == PATH_DEPTHWISE) {
    conv_depthwise(&g, x, w, b, y, act, c->scratch);
    return GRAFT_OK;
  }
  const int64_t cg = g.cin / g.group, mg = g.cout / g.group, kg = cg * g.kvol;
  if (path == PATH_WINDOW) {
    conv_window(&g, x, w, b, y, act, c->scratch);
    return GRAFT_OK;
  }
  graft_sgemm_conv cv;
  for (int i = 0; i < 3; ++i) {
    cv.in[i] = g.in[i];
    cv.out[i] = g.out[i];
    cv.kernel[i] = g.kernel[i];
    cv.stride[i] = g.stride[i];
    cv.dilation[i] = g.dilation[i];
    cv.pad[i] = g.pad_begin[i];
  }
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t gi = 0; gi < g.group; ++gi) {
      const float *xg = x + (n * g.cin + gi * cg) * g.in_size;
      graft_sgemm_a a = {w + gi * mg * kg, kg, 1, 1.0f};
      graft_sgemm_b bm = {xg, g.in_size, 1, 0, 0};
      if (path == PATH_GENERAL) {
        cv.x = xg;
        bm.conv = &cv;
      }
      graft_sgemm_c cm = {y + (n * g.cout + gi * mg) * g.out_size, g.out_size, 0,
                          b ? b + gi * mg : 0, 0, act};
      graft_sgemm(mg, g.out_size, kg, &a, &bm, &cm, c->scratch);
    }
  return GRAFT_OK;
}

/* ---- conv_transpose_f32 -------------------------------------------------------------------- */

graft_status graft_conv_transpose_f32_check(const graft_call *c) {
  conv_geom g;
  return conv_parse(c, 1, &g);
}

/* Scratch: the col matrix (Mg*kvol x in_size) then the GEMM packing buffers. */
/* ConvTranspose works on chunks of whole input rows: col holds (m, kd, kh, kw) x (chunk of
   input positions), CT_CHUNK_COLS columns at most (rounded down to whole rows, at least one
   row), so the scratch no longer grows with the input image. */
#define CT_CHUNK_COLS 384

static int64_t ct_chunk_rows(const conv_geom *g) {
  const int64_t IW = g->in[2] > 0 ? g->in[2] : 1, total = g->in[0] * g->in[1];
  int64_t r = CT_CHUNK_COLS / IW;
  if (r < 1) r = 1;
  return r < total ? r : (total > 0 ? total : 1);
}

static size_t col_bytes(const conv_geom *g) {
  return graft_align_up((size_t)((g->cout / g->group) * g->kvol * ct_chunk_rows(g) * g->in[2]) *
                        sizeof(float));
}

size_t graft_conv_transpose_f32_scratch(const graft_call *c) {
  conv_geom g;
  if (conv_parse(c, 1, &g) != GRAFT_OK) return 0;
  const int64_t cg = g.cin / g.group, mg = g.cout / g.group;
  return col_bytes(&g) + graft_sgemm_scratch(mg * g.kvol, ct_chunk_rows(&g) * g.in[2], cg);
}

/* p[0 .. n) = v (n >= 1): a few values, then doubling copies (memcpy is vectorized where a
   plain store loop at -O2 may not be). */
static void fill_f32(float *p, int64_t n, float v) {
  int64_t done = n < 16 ? n : 16;
  for (int64_t i = 0; i < done; ++i) p[i] = v;
  while (done < n) {
    const int64_t c = n - done < done ? n - done : done;
    memcpy(p + done, p, (size_t)c * sizeof(float));
    done += c;
  }
}

/* d[i*s] += x[i] for i < n (s >= 1). */
typedef void (*scatter_add_fn)(float *d, const float *x, int64_t n, int64_t s);

static void scatter_add_generic(float *d, const float *x, int64_t n, int64_t s) {
  if (s == 1) {
    for (int64_t i = 0; i < n; ++i) d[i] += x[i];
  } else {
    for (int64_t i = 0; i < n; ++i) d[i * s] += x[i];
  }
}

/* d[2i] += x0[i], d[2i+1] += x1[i] for i < n: two adjacent taps of a stride-2 row in one
   pass over the output row. */
typedef void (*pair_add_fn)(float *d, const float *x0, const float *x1, int64_t n);

static void pair_add_generic(float *d, const float *x0, const float *x1, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    d[2 * i] += x0[i];
    d[2 * i + 1] += x1[i];
  }
}

#ifdef GRAFT_CONV_X86
static T512 void pair_add_512(float *d, const float *x0, const float *x1, int64_t n) {
  const __m512i inter = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int64_t i = 0; i < n; i += 8) {
    const int64_t cnt = n - i < 8 ? n - i : 8;
    const __mmask8 ms = (__mmask8)((1u << cnt) - 1u);
    const __mmask16 md = cnt == 8 ? (__mmask16)0xFFFF : (__mmask16)((1u << (2 * cnt)) - 1u);
    const __m512 v = _mm512_permutex2var_ps(_mm512_castps256_ps512(_mm256_maskz_loadu_ps(ms, x0 + i)),
                                            inter,
                                            _mm512_castps256_ps512(_mm256_maskz_loadu_ps(ms, x1 + i)));
    float *dd = d + 2 * i;
    _mm512_mask_storeu_ps(dd, md, _mm512_add_ps(_mm512_maskz_loadu_ps(md, dd), v));
  }
}

/* Stride 1: masked vector adds. Stride 2: 8 sources expanded into the even lanes of a 16-lane
   vector and added to 15 consecutive outputs (odd lanes add zero). Masked-off lanes are
   neither read nor written, so nothing outside d[0 .. (n-1)*s] is touched. */
static T512 void scatter_add_512(float *d, const float *x, int64_t n, int64_t s) {
  if (s == 1) {
    for (int64_t i = 0; i < n; i += 16) {
      const int64_t cnt = n - i < 16 ? n - i : 16;
      const __mmask16 m = cnt == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cnt) - 1u);
      _mm512_mask_storeu_ps(d + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, d + i),
                                                    _mm512_maskz_loadu_ps(m, x + i)));
    }
  } else if (s == 2) {
    for (int64_t i = 0; i < n; i += 8) {
      const int64_t cnt = n - i < 8 ? n - i : 8, need = 2 * cnt - 1;
      const __mmask8 ms = (__mmask8)((1u << cnt) - 1u);
      const __mmask16 md = need == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << need) - 1u);
      const __m512 src = _mm512_castps256_ps512(_mm256_maskz_loadu_ps(ms, x + i));
      const __m512 ex = _mm512_maskz_expand_ps((__mmask16)0x5555, src);
      float *dd = d + 2 * i;
      _mm512_mask_storeu_ps(dd, md, _mm512_add_ps(_mm512_maskz_loadu_ps(md, dd), ex));
    }
  } else {
    scatter_add_generic(d, x, n, s);
  }
}

static T256 void scatter_add_avx2(float *d, const float *x, int64_t n, int64_t s) {
  if (s != 1) {
    scatter_add_generic(d, x, n, s);
    return;
  }
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(d + i, _mm256_add_ps(_mm256_loadu_ps(d + i), _mm256_loadu_ps(x + i)));
  for (; i < n; ++i) d[i] += x[i];
}
#endif

/* Scatter-adds col ((m, kd, kh, kw) x (input positions of rows [q0, q1)), row stride ldcol)
   into y (m x (od, oh, ow)); input row q is (id, ih) = (q / IH, q % IH). */
static void col2im(const conv_geom *g, int64_t mg, const float *col, int64_t ldcol, int64_t q0,
                   int64_t q1, float *y, scatter_add_fn add, pair_add_fn add2) {
  const int64_t IH = g->in[1], IW = g->in[2];
  const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
  const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
  const int64_t sw = g->stride[2];
  for (int64_t m = 0; m < mg; ++m) {
    float *ym = y + m * g->out_size;
    for (int64_t kd = 0; kd < KD; ++kd)
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw) {
          const float *cr = col + (((m * KD + kd) * KH + kh) * KW + kw) * ldcol;
          const int64_t offw = kw * g->dilation[2] - g->pad_begin[2];
          /* valid iw: 0 <= iw*sw + offw < OW */
          const int64_t lo = first_at_least(0, offw, sw, IW), hi = first_at_least(OW, offw, sw, IW);
          if (hi <= lo) continue;
          /* stride 2, undilated: taps kw and kw+1 fill the even and odd columns of one output
             run; when both have the same valid input range, add them in one pass */
          int pair = 0;
          if (sw == 2 && g->dilation[2] == 1 && kw + 1 < KW) {
            pair = first_at_least(0, offw + 1, sw, IW) == lo && first_at_least(OW, offw + 1, sw, IW) == hi;
          }
          int64_t id = q0 / IH, ih = q0 % IH;
          for (int64_t q = q0; q < q1; ++q) {
            const int64_t od = id * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
            const int64_t oh = ih * g->stride[1] - g->pad_begin[1] + kh * g->dilation[1];
            if (od >= 0 && od < OD && oh >= 0 && oh < OH) {
              const float *src = cr + (q - q0) * IW;
              float *dst = ym + (od * OH + oh) * OW;
              if (pair) add2(dst + lo * sw + offw, src + lo, src + ldcol + lo, hi - lo);
              else add(dst + lo * sw + offw, src + lo, hi - lo, sw);
            }
            if (++ih == IH) {
              ih = 0;
              ++id;
            }
          }
          kw += pair;
        }
  }
}

graft_status graft_conv_transpose_f32_eval(const graft_call *c) {
  conv_geom g;
  const graft_status st = conv_parse(c, 1, &g);
  if (st != GRAFT_OK) return st;
  const float *x = (const float *)c->inputs[0]->data;
  const float *w = (const float *)c->inputs[1]->data;
  const float *b = c->n_inputs > 2 && c->inputs[2] ? (const float *)c->inputs[2]->data : 0;
  float *y = (float *)c->outputs[0]->data;
  const graft_act_params act = graft_act_of(c);
  const int64_t cg = g.cin / g.group, mg = g.cout / g.group, rows = mg * g.kvol;
  if (g.out_size == 0 || g.batch == 0 || g.cout == 0) return GRAFT_OK;
  const int64_t qrows = g.in[0] * g.in[1], chunk = ct_chunk_rows(&g), IW = g.in[2];
  const size_t cb = col_bytes(&g);
  if (c->scratch_bytes < cb + graft_sgemm_scratch(rows, chunk * IW, cg)) return GRAFT_E_ARENA_TOO_SMALL;
  float *col = (float *)c->scratch;
  void *gemm_scratch = (char *)c->scratch + cb;
  const graft_act_params none = {GRAFT_ACT_NONE, 0.0f, 0.0f};
  scatter_add_fn add = scatter_add_generic;
  pair_add_fn add2 = pair_add_generic;
#ifdef GRAFT_CONV_X86
  if (graft_cpu_level_get() == GRAFT_CPU_AVX512) add = scatter_add_512, add2 = pair_add_512;
  else if (graft_cpu_level_get() == GRAFT_CPU_AVX2) add = scatter_add_avx2;
#endif
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t gi = 0; gi < g.group; ++gi) {
      float *yg = y + (n * g.cout + gi * mg) * g.out_size;
      for (int64_t m = 0; m < mg; ++m) fill_f32(yg + m * g.out_size, g.out_size, b ? b[gi * mg + m] : 0.0f);
      if (g.in_size > 0 && cg > 0) {
        for (int64_t q0 = 0; q0 < qrows; q0 += chunk) {
          const int64_t q1 = q0 + chunk < qrows ? q0 + chunk : qrows, ncols = (q1 - q0) * IW;
          /* W_g is (cg, rows) row-major; A = W_g^T: element (r, c) at r + c*rows. */
          graft_sgemm_a a = {w + gi * cg * rows, 1, rows, 1.0f};
          graft_sgemm_b bm = {x + (n * g.cin + gi * cg) * g.in_size + q0 * IW, g.in_size, 1, 0, 0};
          graft_sgemm_c cm = {col, ncols, 0, 0, 0, none};
          graft_sgemm(rows, ncols, cg, &a, &bm, &cm, gemm_scratch);
          col2im(&g, mg, col, ncols, q0, q1, yg, add, add2);
        }
      }
      graft_act_apply_f32(yg, (size_t)(mg * g.out_size), act);
    }
  return GRAFT_OK;
}
