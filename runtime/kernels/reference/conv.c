/* Convolution kernels: conv_f32 (ONNX Conv) and conv_transpose_f32 (ONNX ConvTranspose).

   Layout: NCHW (N, C, spatial...) with 1, 2 or 3 spatial dims; weights (M, C/group, k...) for
   Conv and (C, M/group, k...) for ConvTranspose. Pads are explicit (the compiler resolves
   auto_pad); absent attributes take their ONNX defaults.

   conv_f32 picks one of four paths (same math, different data movement):
   - depthwise (group == C, one input channel per group, 1 or 2 spatial dims): a direct kernel
     vectorized over output width; scratch is one zero-padded input plane (none without pads).
   - pointwise (1x1 kernel, stride 1, no pads): GEMM with the input image itself as B.
   - window (1 or 2 spatial dims, stride product <= 64, not a strided 1x1): the input is copied
     once into zero-padded stride-phase planes, so every im2col row is a contiguous slice and
     packing B is a plain copy (graft_sgemm_window). Scratch: the planes, possibly an output
     grid buffer, and the GEMM packing buffers.
   - general (3-D, huge strides, strided 1x1): GEMM whose B is the implicit im2col of the
     input, built row run by row run while packing (graft_sgemm_conv); scratch is only the
     GEMM packing buffers.
   Bias and the fused activation are applied in the GEMM epilogue (see sgemm.h).

   conv_transpose_f32: per image and group, col = W_g^T * X_g (GEMM, col in scratch), then
   col2im scatter-adds col into Y (initialized with the bias), then the activation. */
#include "graft_kernels.h"
#include "act.h"
#include "sgemm.h"
#include "../../src/cpu.h"
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GRAFT_CONV_X86 1
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
  p.compact = g->out[1] > 1 && 8 * (p.pw2 - g->out[2]) > p.pw2;
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
#ifdef GRAFT_CONV_X86
#include <immintrin.h>
#define T512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,avx")))

/* AVX-512 depthwise over a plane that already holds the padding (so every tap of every output
   is in bounds): output (oh, ow) tap (kh, kw) reads p[(oh*sh + kh*dh)*pw + ow*sw + kw*dw].
   16 output columns per vector, masked tail; stride 1 loads contiguously, stride 2 uses two
   loads and an even/odd-lane permute, larger strides gather. 3x3 kernels with stride 1 or 2
   (dilation 1) are unrolled with the weights in registers. Relu/Clip in registers, other
   activations per output row. */
static T512 inline __m512 load_s2(const float *src, int64_t cnt, __m512i sel, int64_t extra) {
  const int64_t need = 2 * cnt - 1 + extra; /* elements src[0 .. need) are read */
  const __mmask16 mlo = need >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << need) - 1u);
  const __mmask16 mhi = need > 16 ? (__mmask16)((1u << (need - 16)) - 1u) : (__mmask16)0;
  return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(mlo, src), sel,
                                _mm512_maskz_loadu_ps(mhi, src + 16));
}

T512 static void depthwise_avx512(const conv_geom *g, const float *p, int64_t pw, const float *w,
                                  float bias, float *y, graft_act_params act) {
  const int64_t OH = g->out[1], OW = g->out[2];
  const int64_t KH = g->kernel[1], KW = g->kernel[2], sh = g->stride[1], sw = g->stride[2];
  const int64_t dh = g->dilation[1], dw = g->dilation[2];
  const int clamp = act.kind == GRAFT_ACT_RELU ? 1 : (act.kind == GRAFT_ACT_CLIP ? 2 : 0);
  const int post = act.kind != GRAFT_ACT_NONE && !clamp;
  const __m512 vlo = _mm512_set1_ps(act.a), vhi = _mm512_set1_ps(act.b), zero = _mm512_setzero_ps();
  const __m512 vb = _mm512_set1_ps(bias);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i gidx = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int)sw));
  const int k3 = KH == 3 && KW == 3 && dw == 1 && (sw == 1 || sw == 2);
  __m512 w0 = zero, w1 = zero, w2 = zero, w3 = zero, w4 = zero, w5 = zero, w6 = zero, w7 = zero,
         w8 = zero;
  if (k3) {
    w0 = _mm512_set1_ps(w[0]); w1 = _mm512_set1_ps(w[1]); w2 = _mm512_set1_ps(w[2]);
    w3 = _mm512_set1_ps(w[3]); w4 = _mm512_set1_ps(w[4]); w5 = _mm512_set1_ps(w[5]);
    w6 = _mm512_set1_ps(w[6]); w7 = _mm512_set1_ps(w[7]); w8 = _mm512_set1_ps(w[8]);
  }
  for (int64_t oh = 0; oh < OH; ++oh) {
    float *yr = y + oh * OW;
    const float *r0 = p + oh * sh * pw;
    for (int64_t o = 0; o < OW; o += 16) {
      const int64_t cnt = OW - o < 16 ? OW - o : 16;
      const __mmask16 m = cnt == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cnt) - 1u);
      __m512 acc = vb;
      if (k3) { /* one accumulator per kernel row: three short FMA chains */
        const float *a0 = r0 + sw * o, *a1 = a0 + dh * pw, *a2 = a1 + dh * pw;
        __m512 acc1, acc2;
        if (sw == 1) {
          acc = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, a0), acc);
          acc1 = _mm512_mul_ps(w3, _mm512_maskz_loadu_ps(m, a1));
          acc2 = _mm512_mul_ps(w6, _mm512_maskz_loadu_ps(m, a2));
          acc = _mm512_fmadd_ps(w1, _mm512_maskz_loadu_ps(m, a0 + 1), acc);
          acc1 = _mm512_fmadd_ps(w4, _mm512_maskz_loadu_ps(m, a1 + 1), acc1);
          acc2 = _mm512_fmadd_ps(w7, _mm512_maskz_loadu_ps(m, a2 + 1), acc2);
          acc = _mm512_fmadd_ps(w2, _mm512_maskz_loadu_ps(m, a0 + 2), acc);
          acc1 = _mm512_fmadd_ps(w5, _mm512_maskz_loadu_ps(m, a1 + 2), acc1);
          acc2 = _mm512_fmadd_ps(w8, _mm512_maskz_loadu_ps(m, a2 + 2), acc2);
        } else {
          acc = _mm512_fmadd_ps(w0, load_s2(a0, cnt, even, 0), acc);
          acc1 = _mm512_mul_ps(w3, load_s2(a1, cnt, even, 0));
          acc2 = _mm512_mul_ps(w6, load_s2(a2, cnt, even, 0));
          acc = _mm512_fmadd_ps(w1, load_s2(a0, cnt, odd, 1), acc);
          acc1 = _mm512_fmadd_ps(w4, load_s2(a1, cnt, odd, 1), acc1);
          acc2 = _mm512_fmadd_ps(w7, load_s2(a2, cnt, odd, 1), acc2);
          acc = _mm512_fmadd_ps(w2, load_s2(a0 + 2, cnt, even, 0), acc);
          acc1 = _mm512_fmadd_ps(w5, load_s2(a1 + 2, cnt, even, 0), acc1);
          acc2 = _mm512_fmadd_ps(w8, load_s2(a2 + 2, cnt, even, 0), acc2);
        }
        acc = _mm512_add_ps(acc, _mm512_add_ps(acc1, acc2));
      } else {
        __m512 acc1 = zero;
        for (int64_t kh = 0; kh < KH; ++kh) {
          const float *xr = r0 + kh * dh * pw + o * sw;
          for (int64_t kw = 0; kw < KW; ++kw) {
            const float *src = xr + kw * dw;
            __m512 v;
            if (sw == 1) v = _mm512_maskz_loadu_ps(m, src);
            else if (sw == 2) v = load_s2(src, cnt, even, 0);
            else v = _mm512_mask_i32gather_ps(zero, m, gidx, src, 4);
            if ((kh + kw) & 1) acc1 = _mm512_fmadd_ps(_mm512_set1_ps(w[kh * KW + kw]), v, acc1);
            else acc = _mm512_fmadd_ps(_mm512_set1_ps(w[kh * KW + kw]), v, acc);
          }
        }
        acc = _mm512_add_ps(acc, acc1);
      }
      if (clamp == 1) acc = _mm512_max_ps(acc, zero);
      else if (clamp == 2) acc = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc));
      _mm512_mask_storeu_ps(yr + o, m, acc);
    }
    if (post) graft_act_apply_f32(yr, (size_t)OW, act);
  }
}

__attribute__((target("avx2,fma,avx")))
static void depthwise_avx2(const conv_geom *g, const float *x, const float *w, float bias,
                           float *y, graft_act_params act) GRAFT_DEPTHWISE_BODY
#endif

/* Depthwise scratch: one zero-padded input plane (AVX-512 path only, but sized the same for
   every machine); 0 when there are no pads. */
static int depthwise_has_pads(const conv_geom *g) {
  return g->pad_begin[1] || g->pad_begin[2] || g->pad_end[1] || g->pad_end[2];
}
static size_t depthwise_scratch(const conv_geom *g) {
  if (!depthwise_has_pads(g)) return 0;
  const int64_t ihp = g->in[1] + g->pad_begin[1] + g->pad_end[1];
  const int64_t iwp = g->in[2] + g->pad_begin[2] + g->pad_end[2];
  return graft_align_up((size_t)(ihp * iwp) * sizeof(float));
}

static void conv_depthwise(const conv_geom *g, const float *x, const float *w, const float *b,
                           float *y, graft_act_params act, void *scratch) {
  typedef void (*dw_fn)(const conv_geom *, const float *, const float *, float, float *,
                        graft_act_params);
  dw_fn fn = depthwise_generic;
  const int64_t mult = g->cout / g->cin, ksz = g->kvol;
#ifdef GRAFT_CONV_X86
  const graft_cpu_level lvl = graft_cpu_level_get();
  if (lvl == GRAFT_CPU_AVX512) {
    const int pads = depthwise_has_pads(g);
    const int64_t IH = g->in[1], IW = g->in[2];
    const int64_t ihp = IH + g->pad_begin[1] + g->pad_end[1];
    const int64_t iwp = IW + g->pad_begin[2] + g->pad_end[2];
    float *plane = (float *)scratch;
    for (int64_t n = 0; n < g->batch; ++n)
      for (int64_t ic = 0; ic < g->cin; ++ic) {
        const float *xc = x + (n * g->cin + ic) * g->in_size;
        const float *src = xc;
        if (pads) {
          for (int64_t ih = 0; ih < ihp; ++ih) {
            float *row = plane + ih * iwp;
            const int64_t sh = ih - g->pad_begin[1];
            if (sh < 0 || sh >= IH) {
              memset(row, 0, (size_t)iwp * sizeof(float));
              continue;
            }
            memset(row, 0, (size_t)g->pad_begin[2] * sizeof(float));
            memcpy(row + g->pad_begin[2], xc + sh * IW, (size_t)IW * sizeof(float));
            memset(row + g->pad_begin[2] + IW, 0, (size_t)(iwp - g->pad_begin[2] - IW) * sizeof(float));
          }
          src = plane;
        }
        for (int64_t q = 0; q < mult; ++q) {
          const int64_t oc = ic * mult + q;
          depthwise_avx512(g, src, pads ? iwp : IW, w + oc * ksz, b ? b[oc] : 0.0f,
                           y + (n * g->cout + oc) * g->out_size, act);
        }
      }
    return;
  }
  if (lvl == GRAFT_CPU_AVX2) fn = depthwise_avx2;
#endif
  (void)scratch;
  for (int64_t n = 0; n < g->batch; ++n)
    for (int64_t oc = 0; oc < g->cout; ++oc) {
      const int64_t ic = oc / mult;
      fn(g, x + (n * g->cin + ic) * g->in_size, w + oc * ksz, b ? b[oc] : 0.0f,
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
static size_t col_bytes(const conv_geom *g) {
  return graft_align_up((size_t)((g->cout / g->group) * g->kvol * g->in_size) * sizeof(float));
}

size_t graft_conv_transpose_f32_scratch(const graft_call *c) {
  conv_geom g;
  if (conv_parse(c, 1, &g) != GRAFT_OK) return 0;
  const int64_t cg = g.cin / g.group, mg = g.cout / g.group;
  return col_bytes(&g) + graft_sgemm_scratch(mg * g.kvol, g.in_size, cg);
}

/* Scatter-adds col ((m, kd, kh, kw) x (id, ih, iw)) into y (m x (od, oh, ow)). */
static void col2im(const conv_geom *g, int64_t mg, const float *col, float *y) {
  const int64_t ID = g->in[0], IH = g->in[1], IW = g->in[2];
  const int64_t OD = g->out[0], OH = g->out[1], OW = g->out[2];
  const int64_t KD = g->kernel[0], KH = g->kernel[1], KW = g->kernel[2];
  const int64_t sw = g->stride[2];
  for (int64_t m = 0; m < mg; ++m) {
    float *ym = y + m * g->out_size;
    for (int64_t kd = 0; kd < KD; ++kd)
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw) {
          const float *cr = col + (((m * KD + kd) * KH + kh) * KW + kw) * g->in_size;
          const int64_t offw = kw * g->dilation[2] - g->pad_begin[2];
          /* valid iw: 0 <= iw*sw + offw < OW */
          const int64_t lo = first_at_least(0, offw, sw, IW), hi = first_at_least(OW, offw, sw, IW);
          for (int64_t id = 0; id < ID; ++id) {
            const int64_t od = id * g->stride[0] - g->pad_begin[0] + kd * g->dilation[0];
            if (od < 0 || od >= OD) continue;
            for (int64_t ih = 0; ih < IH; ++ih) {
              const int64_t oh = ih * g->stride[1] - g->pad_begin[1] + kh * g->dilation[1];
              if (oh < 0 || oh >= OH) continue;
              const float *src = cr + (id * IH + ih) * IW;
              float *dst = ym + (od * OH + oh) * OW;
              for (int64_t iw = lo; iw < hi; ++iw) dst[iw * sw + offw] += src[iw];
            }
          }
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
  const size_t cb = col_bytes(&g);
  if (c->scratch_bytes < cb + graft_sgemm_scratch(rows, g.in_size, cg)) return GRAFT_E_ARENA_TOO_SMALL;
  float *col = (float *)c->scratch;
  void *gemm_scratch = (char *)c->scratch + cb;
  const graft_act_params none = {GRAFT_ACT_NONE, 0.0f, 0.0f};
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t gi = 0; gi < g.group; ++gi) {
      float *yg = y + (n * g.cout + gi * mg) * g.out_size;
      for (int64_t m = 0; m < mg; ++m) {
        const float bv = b ? b[gi * mg + m] : 0.0f;
        float *ym = yg + m * g.out_size;
        for (int64_t o = 0; o < g.out_size; ++o) ym[o] = bv;
      }
      if (g.in_size > 0 && cg > 0) {
        /* W_g is (cg, rows) row-major; A = W_g^T: element (r, c) at r + c*rows. */
        graft_sgemm_a a = {w + gi * cg * rows, 1, rows, 1.0f};
        graft_sgemm_b bm = {x + (n * g.cin + gi * cg) * g.in_size, g.in_size, 1, 0, 0};
        graft_sgemm_c cm = {col, g.in_size, 0, 0, 0, none};
        graft_sgemm(rows, g.in_size, cg, &a, &bm, &cm, gemm_scratch);
        col2im(&g, mg, col, yg);
      }
      graft_act_apply_f32(yg, (size_t)(mg * g.out_size), act);
    }
  return GRAFT_OK;
}
