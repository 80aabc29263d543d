/* resize_f32: ONNX Resize (nearest / linear / cubic) on any axes, fp32.
   Attributes: mode (0 nearest), coordinate_transformation_mode (GRAFT_COORD_*, half_pixel),
   nearest_mode (GRAFT_NEAREST_*, round_prefer_floor), cubic_coeff_a (-0.75), exclude_outside
   (0), extrapolation_value (0, tf_crop_and_resize only; ROI is the full input), scales (one
   per axis; absent = out/in). The output size comes from the output view.
   Contract: an axis is resized when its size changes or its scale is not 1; other axes are
   copied straight through. Linear is separable multi-linear (2 taps per resized axis), cubic
   uses 4 taps per axis (Keys kernel with coefficient a), taps are clamped to the edge; all
   coordinate arithmetic is in float, as onnxruntime does it. Check rejects antialias and more
   than 64 tap combinations over the non-innermost resized axes (GRAFT_E_UNSUPPORTED).
   Scratch: per axis, out_dim * taps int64 source offsets + the same count of float weights. */
#include "gk_vectorize.h"
#include <math.h>
#include "kcommon.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define RS_MAX_COMBOS 64

typedef struct rs_params {
  int32_t mode, coord, nearest, exclude;
  float a, extrap;
  float scale[GRAFT_MAX_RANK];
  int32_t nt[GRAFT_MAX_RANK]; /* taps per axis: 1 for pass-through axes */
} rs_params;

static int rs_params_of(const graft_call *c, rs_params *p) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!gk_is(x, GRAFT_DTYPE_FLOAT32) || !gk_is(y, GRAFT_DTYPE_FLOAT32) || x->rank != y->rank || x->rank < 1) return 0;
  p->mode = (int32_t)graft_attr_int(c, GRAFT_ATTR_MODE, 0);
  p->coord = (int32_t)graft_attr_int(c, GRAFT_ATTR_COORD_MODE, GRAFT_COORD_HALF_PIXEL);
  p->nearest = (int32_t)graft_attr_int(c, GRAFT_ATTR_NEAREST_MODE, GRAFT_NEAREST_ROUND_PREFER_FLOOR);
  p->exclude = graft_attr_int(c, GRAFT_ATTR_EXCLUDE_OUTSIDE, 0) != 0;
  p->a = graft_attr_float(c, GRAFT_ATTR_CUBIC_COEFF_A, -0.75f);
  p->extrap = graft_attr_float(c, GRAFT_ATTR_EXTRAPOLATION_VALUE, 0.0f);
  if (p->mode < 0 || p->mode > 2 || p->coord < 0 || p->coord > GRAFT_COORD_TF_CROP_AND_RESIZE || p->nearest < 0 ||
      p->nearest > GRAFT_NEAREST_CEIL)
    return 0;
  const float *sc;
  int32_t ns = graft_attr_floats(c, GRAFT_ATTR_SCALES, &sc);
  if (ns && ns != x->rank) return 0;
  int32_t taps = p->mode == 0 ? 1 : (p->mode == 1 ? 2 : 4);
  for (int32_t i = 0; i < x->rank; ++i) {
    if (x->dims[i] == 0 && y->dims[i] != 0) return 0;
    float s = ns ? sc[i] : (x->dims[i] ? (float)y->dims[i] / (float)x->dims[i] : 1.0f);
    if (!(s > 0.0f) || isinf(s)) return 0;
    p->scale[i] = s;
    p->nt[i] = (x->dims[i] == y->dims[i] && s == 1.0f) ? 1 : taps;
  }
  return 1;
}

/* Scratch layout: for each axis, out*nt int64 offsets then out*nt floats (padded to 8). */
static size_t rs_scratch_bytes(const graft_tensor *y, const rs_params *p) {
  size_t total = 0;
  for (int32_t i = 0; i < y->rank; ++i) {
    size_t n = (size_t)y->dims[i] * (size_t)p->nt[i];
    total += n * 8 + ((n * 4 + 7) & ~(size_t)7);
  }
  return total;
}

graft_status graft_resize_f32_check(const graft_call *c) {
  rs_params p;
  if (graft_attr_int(c, GRAFT_ATTR_ANTIALIAS, 0) != 0) return GRAFT_E_UNSUPPORTED;
  if (!rs_params_of(c, &p)) return GRAFT_E_SHAPE;
  const graft_tensor *y = gk_out(c, 0);
  int64_t combos = 1;
  for (int32_t i = 0; i + 1 < y->rank; ++i) combos *= p.nt[i];
  return combos > RS_MAX_COMBOS ? GRAFT_E_UNSUPPORTED : GRAFT_OK;
}

size_t graft_resize_f32_scratch(const graft_call *c) {
  rs_params p;
  if (!rs_params_of(c, &p)) return 0;
  return rs_scratch_bytes(gk_out(c, 0), &p);
}

/* Source coordinate of output index o along an axis (float, as onnxruntime computes it). */
static float rs_coord(int32_t mode, float o, float s, int64_t lin, int64_t lout) {
  switch (mode) {
  case GRAFT_COORD_ASYMMETRIC: return o / s;
  case GRAFT_COORD_ALIGN_CORNERS: return lout == 1 ? 0.0f : o * (float)(lin - 1) / (float)(lout - 1);
  case GRAFT_COORD_PYTORCH_HALF_PIXEL: return lout > 1 ? (o + 0.5f) / s - 0.5f : 0.0f;
  case GRAFT_COORD_TF_HALF_PIXEL_FOR_NN: return (o + 0.5f) / s;
  case GRAFT_COORD_HALF_PIXEL_SYMMETRIC: {
    float adj = (float)lout / (s * (float)lin), center = (float)lin / 2.0f, off = center * (1.0f - adj);
    return off + (o + 0.5f) / s - 0.5f;
  }
  case GRAFT_COORD_TF_CROP_AND_RESIZE:
    return lout > 1 ? o * (float)(lin - 1) / (float)(lout - 1) : 0.5f * (float)(lin - 1);
  default: return (o + 0.5f) / s - 0.5f;
  }
}

static int64_t rs_nearest(int32_t mode, float x) {
  float f = floorf(x);
  switch (mode) {
  case GRAFT_NEAREST_ROUND_PREFER_CEIL: return (int64_t)(x == f + 0.5f ? ceilf(x) : roundf(x));
  case GRAFT_NEAREST_FLOOR: return (int64_t)f;
  case GRAFT_NEAREST_CEIL: return (int64_t)ceilf(x);
  default: return (int64_t)(x == f + 0.5f ? f : roundf(x));
  }
}

/* Fills the taps of one axis: idx[o*nt + t] = source index * stride (or -1 at t = 0 when the
   output takes the extrapolation value), w[o*nt + t] = weight. */
static void rs_axis_table(const rs_params *p, int32_t ax, int64_t lin, int64_t lout, int64_t stride, int64_t *idx, float *w) {
  int32_t nt = p->nt[ax];
  float s = p->scale[ax];
  for (int64_t o = 0; o < lout; ++o) {
    int64_t *ip = idx + o * nt;
    float *wp = w + o * nt;
    if (nt == 1 && (p->mode != 0 || (lin == lout && s == 1.0f))) {
      ip[0] = o * stride;
      wp[0] = 1.0f;
      continue;
    }
    float x = rs_coord(p->coord, (float)o, s, lin, lout);
    x = x < -1e12f ? -1e12f : (x > 1e12f ? 1e12f : x); /* tiny scales: keep int conversions defined */
    if (p->coord == GRAFT_COORD_TF_CROP_AND_RESIZE && (x < 0.0f || x > (float)(lin - 1))) {
      for (int32_t t = 0; t < nt; ++t) { ip[t] = t == 0 ? -1 : 0; wp[t] = 0.0f; }
      continue;
    }
    if (p->mode == 0) {
      int64_t k = rs_nearest(p->nearest, x);
      k = k < 0 ? 0 : (k > lin - 1 ? lin - 1 : k);
      ip[0] = k * stride;
      wp[0] = 1.0f;
    } else if (p->mode == 1) {
      float xc = x < 0.0f ? 0.0f : (x > (float)(lin - 1) ? (float)(lin - 1) : x);
      int64_t x1 = (int64_t)xc < lin - 1 ? (int64_t)xc : lin - 1, x2 = x1 + 1 < lin - 1 ? x1 + 1 : lin - 1;
      float d1 = fabsf(xc - (float)x1), d2 = fabsf(xc - (float)x2);
      if (x1 == x2) d1 = d2 = 0.5f;
      ip[0] = x1 * stride; wp[0] = d2;
      ip[1] = x2 * stride; wp[1] = d1;
    } else {
      float f = floorf(x), t = x - f, a = p->a, sum = 0.0f;
      float cw[4];
      cw[0] = ((a * (t + 1.0f) - 5.0f * a) * (t + 1.0f) + 8.0f * a) * (t + 1.0f) - 4.0f * a;
      cw[1] = ((a + 2.0f) * t - (a + 3.0f)) * t * t + 1.0f;
      cw[2] = ((a + 2.0f) * (1.0f - t) - (a + 3.0f)) * (1.0f - t) * (1.0f - t) + 1.0f;
      cw[3] = ((a * (2.0f - t) - 5.0f * a) * (2.0f - t) + 8.0f * a) * (2.0f - t) - 4.0f * a;
      for (int32_t k = 0; k < 4; ++k) {
        int64_t j = (int64_t)f - 1 + k;
        if (p->exclude && (j < 0 || j > lin - 1)) cw[k] = 0.0f;
        sum += cw[k];
        ip[k] = (j < 0 ? 0 : (j > lin - 1 ? lin - 1 : j)) * stride;
      }
      for (int32_t k = 0; k < 4; ++k) wp[k] = p->exclude && sum != 0.0f ? cw[k] / sum : cw[k];
    }
  }
}

graft_status graft_resize_f32_eval(const graft_call *c) {
  const graft_tensor *xt = gk_in(c, 0);
  graft_tensor *yt = gk_out(c, 0);
  rs_params p;
  if (!rs_params_of(c, &p)) return GRAFT_E_SHAPE;
  size_t need = rs_scratch_bytes(yt, &p);
  if (need && (!c->scratch || c->scratch_bytes < need)) return GRAFT_E_ARG;
  int32_t r = yt->rank;
  if (gk_count(yt) == 0) return GRAFT_OK;
  int64_t xs[GRAFT_MAX_RANK], *idx[GRAFT_MAX_RANK];
  float *w[GRAFT_MAX_RANK];
  gk_strides(xt, xs);
  char *sp = (char *)c->scratch;
  for (int32_t i = 0; i < r; ++i) {
    size_t n = (size_t)yt->dims[i] * (size_t)p.nt[i];
    idx[i] = (int64_t *)(void *)sp;
    w[i] = (float *)(void *)(sp + n * 8);
    sp += n * 8 + ((n * 4 + 7) & ~(size_t)7);
    rs_axis_table(&p, i, xt->dims[i], yt->dims[i], xs[i], idx[i], w[i]);
  }
  const float *x = (const float *)xt->data;
  float *y = (float *)yt->data;
  int64_t n = yt->dims[r - 1], o_idx[GRAFT_MAX_RANK] = {0};
  int32_t nl = p.nt[r - 1];
  const int64_t *li = idx[r - 1];
  const float *lw = w[r - 1];
  int64_t prev_off[RS_MAX_COMBOS];
  float prev_w[RS_MAX_COMBOS];
  int32_t prev_nc = 0, have_prev = 0, prev_extrap = 0;
  int has_extrap = 0; /* any innermost output taking the extrapolation value */
  for (int64_t o = 0; o < n; ++o)
    if (li[o * nl] < 0) has_extrap = 1;
  /* rep > 1: the innermost nearest table is exactly "source j for outputs [j*rep, (j+1)*rep)" */
  int64_t rep = 0, in_last = xt->dims[r - 1];
  if (nl == 1 && !has_extrap && in_last > 0 && n % in_last == 0 && n / in_last > 1) {
    rep = n / in_last;
    for (int64_t o = 0; o < n && rep; ++o)
      if (li[o] != (o / rep) * xs[r - 1] || lw[o] != 1.0f) rep = 0;
  }
  /* Whole-tensor 2x nearest upsample of the last two axes (outer axes identity): each source
     row expands once into two identical output rows. */
  if (rep == 2 && r >= 2 && p.nt[r - 2] == 1 && yt->dims[r - 2] == 2 * xt->dims[r - 2]) {
    int ok = 1;
    for (int64_t o = 0; o < yt->dims[r - 2] && ok; ++o)
      if (idx[r - 2][o] != (o / 2) * xs[r - 2] || w[r - 2][o] != 1.0f) ok = 0;
    for (int32_t a = 0; a < r - 2 && ok; ++a) {
      if (p.nt[a] != 1 || yt->dims[a] != xt->dims[a]) ok = 0;
      for (int64_t o = 0; o < yt->dims[a] && ok; ++o)
        if (idx[a][o] != o * xs[a] || w[a][o] != 1.0f) ok = 0;
    }
    if (ok) {
      int64_t rows = gk_prod(xt, 0, r - 1), m = in_last;
      for (int64_t h = 0; h < rows; ++h, x += m, y += 2 * n) {
        int64_t j = 0;
#if defined(__SSE2__)
        for (; j + 4 <= m; j += 4) {
          __m128 v = _mm_loadu_ps(x + j), lo = _mm_unpacklo_ps(v, v), hi = _mm_unpackhi_ps(v, v);
          _mm_storeu_ps(y + 2 * j, lo);
          _mm_storeu_ps(y + 2 * j + 4, hi);
          _mm_storeu_ps(y + n + 2 * j, lo);
          _mm_storeu_ps(y + n + 2 * j + 4, hi);
        }
#elif defined(__ARM_NEON)
        for (; j + 4 <= m; j += 4) {
          float32x4_t v = vld1q_f32(x + j);
          float32x4x2_t z = vzipq_f32(v, v);
          vst1q_f32(y + 2 * j, z.val[0]);
          vst1q_f32(y + 2 * j + 4, z.val[1]);
          vst1q_f32(y + n + 2 * j, z.val[0]);
          vst1q_f32(y + n + 2 * j + 4, z.val[1]);
        }
#endif
        for (; j < m; ++j) y[2 * j] = y[2 * j + 1] = y[n + 2 * j] = y[n + 2 * j + 1] = x[j];
      }
      return GRAFT_OK;
    }
  }
  for (;;) {
    /* tap combinations of the outer axes for this output row */
    int64_t coff[RS_MAX_COMBOS];
    float cw[RS_MAX_COMBOS];
    int32_t nc = 1, extrap = 0;
    coff[0] = 0;
    cw[0] = 1.0f;
    for (int32_t a = 0; a < r - 1 && !extrap; ++a) {
      const int64_t *ai = idx[a] + o_idx[a] * p.nt[a];
      const float *aw = w[a] + o_idx[a] * p.nt[a];
      if (ai[0] < 0) { extrap = 1; break; }
      if (p.nt[a] == 1) {
        for (int32_t k = 0; k < nc; ++k) coff[k] += ai[0];
        continue;
      }
      int32_t m = 0;
      int64_t noff[RS_MAX_COMBOS];
      float nw[RS_MAX_COMBOS];
      for (int32_t k = 0; k < nc; ++k)
        for (int32_t t = 0; t < p.nt[a]; ++t) {
          noff[m] = coff[k] + ai[t];
          nw[m] = cw[k] * aw[t];
          ++m;
        }
      nc = m;
      memcpy(coff, noff, (size_t)m * sizeof coff[0]);
      memcpy(cw, nw, (size_t)m * sizeof cw[0]);
    }
    int same = have_prev && !extrap && !prev_extrap && nc == prev_nc;
    for (int32_t k = 0; k < nc && same; ++k)
      if (coff[k] != prev_off[k] || cw[k] != prev_w[k]) same = 0;
    if (same) {
      /* same source rows and weights as the previous output row (nearest/align upsampling) */
      memcpy(y, y - n, (size_t)n * sizeof(float));
    } else if (extrap) {
      for (int64_t o = 0; o < n; ++o) y[o] = p.extrap;
    } else if (nc == 1 && nl == 1 && cw[0] == 1.0f && rep > 1) {
      /* innermost axis is an integer-factor nearest upsample: each source element repeats */
      const float *xr = x + coff[0];
      int64_t m = n / rep;
      if (rep == 2) {
        int64_t j = 0;
#if defined(__SSE2__)
        for (; j + 4 <= m; j += 4) {
          __m128 v = _mm_loadu_ps(xr + j);
          _mm_storeu_ps(y + 2 * j, _mm_unpacklo_ps(v, v));
          _mm_storeu_ps(y + 2 * j + 4, _mm_unpackhi_ps(v, v));
        }
#elif defined(__ARM_NEON)
        for (; j + 4 <= m; j += 4) {
          float32x4_t v = vld1q_f32(xr + j);
          float32x4x2_t z = vzipq_f32(v, v);
          vst1q_f32(y + 2 * j, z.val[0]);
          vst1q_f32(y + 2 * j + 4, z.val[1]);
        }
#endif
        for (; j < m; ++j) { y[2 * j] = xr[j]; y[2 * j + 1] = xr[j]; }
      }
      else
        for (int64_t j = 0; j < m; ++j)
          for (int64_t t = 0; t < rep; ++t) y[j * rep + t] = xr[j];
    } else if (nc == 1 && nl == 1 && cw[0] == 1.0f) {
      const float *xr = x + coff[0];
      for (int64_t o = 0; o < n; ++o) y[o] = li[o] < 0 ? p.extrap : xr[li[o]];
    } else if (nl == 2 && nc == 2 && !has_extrap) {
      /* bilinear: two source rows, two taps each */
      const float *r0 = x + coff[0], *r1 = x + coff[1];
      float c0 = cw[0], c1 = cw[1];
      for (int64_t o = 0; o < n; ++o) {
        int64_t i0 = li[2 * o], i1 = li[2 * o + 1];
        float w0 = lw[2 * o], w1 = lw[2 * o + 1];
        y[o] = c0 * (w0 * r0[i0] + w1 * r0[i1]) + c1 * (w0 * r1[i0] + w1 * r1[i1]);
      }
    } else {
      for (int64_t o = 0; o < n; ++o) {
        const int64_t *ti = li + o * nl;
        const float *tw = lw + o * nl;
        if (ti[0] < 0) { y[o] = p.extrap; continue; }
        float acc = 0.0f;
        for (int32_t k = 0; k < nc; ++k) {
          const float *xr = x + coff[k];
          float part = 0.0f;
          for (int32_t t = 0; t < nl; ++t) part += tw[t] * xr[ti[t]];
          acc += cw[k] * part;
        }
        y[o] = acc;
      }
    }
    have_prev = 1;
    prev_extrap = extrap;
    prev_nc = nc;
    memcpy(prev_off, coff, (size_t)nc * sizeof coff[0]);
    memcpy(prev_w, cw, (size_t)nc * sizeof cw[0]);
    y += n;
    int32_t i = r - 2;
    for (; i >= 0; --i) {
      if (++o_idx[i] < yt->dims[i]) break;
      o_idx[i] = 0;
    }
    if (i < 0) return GRAFT_OK;
  }
}
