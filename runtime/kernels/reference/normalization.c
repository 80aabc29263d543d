/* Normalization kernels, fp32: BatchNorm (inference), InstanceNorm, LayerNorm, LRN.
   Contract: X is [N, C, ...] (LayerNorm: any rank, normalized over dims[axis:]). Statistics are
   accumulated in double (two passes: mean, then centred variance), so results do not depend on
   summation order beyond float rounding of the output. No scratch. */
#include "gk_vectorize.h"
#include <math.h>
#include "kcommon.h"

static int f32_same(const graft_tensor *x, const graft_tensor *y) {
  return gk_is(x, GRAFT_DTYPE_FLOAT32) && gk_is(y, GRAFT_DTYPE_FLOAT32) && gk_same_dims(x, y);
}

/* ---- batchnorm_f32: y = (x - mean) / sqrt(var + eps) * scale + B, per channel ---------- */

graft_status graft_batchnorm_f32_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!f32_same(x, y) || x->rank < 2) return GRAFT_E_SHAPE;
  for (int i = 1; i <= 4; ++i)
    if (!gk_vec(gk_in(c, i), GRAFT_DTYPE_FLOAT32, x->dims[1])) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}
size_t graft_batchnorm_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_batchnorm_f32_eval(const graft_call *c) {
  const graft_tensor *xt = gk_in(c, 0);
  graft_tensor *yt = gk_out(c, 0);
  const float *sc = (const float *)gk_in(c, 1)->data, *bi = (const float *)gk_in(c, 2)->data;
  const float *mu = (const float *)gk_in(c, 3)->data, *va = (const float *)gk_in(c, 4)->data;
  float eps = graft_attr_float(c, GRAFT_ATTR_EPSILON, 1e-5f);
  int64_t N = xt->dims[0], C = xt->dims[1], S = gk_prod(xt, 2, xt->rank);
  const float *x = (const float *)xt->data;
  float *y = (float *)yt->data;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ch = 0; ch < C; ++ch) {
      float a = sc[ch] / sqrtf(va[ch] + eps), b = bi[ch] - mu[ch] * a;
      const float *xp = x + (n * C + ch) * S;
      float *yp = y + (n * C + ch) * S;
      for (int64_t i = 0; i < S; ++i) yp[i] = xp[i] * a + b;
    }
  return GRAFT_OK;
}

/* Mean and 1/sqrt(var + eps) of x[0..n). */
static void moments(const float *x, int64_t n, float eps, float *mean, float *inv_std) {
  double s = 0.0, q = 0.0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  double m = n ? s / (double)n : 0.0;
  for (int64_t i = 0; i < n; ++i) { double d = x[i] - m; q += d * d; }
  double v = n ? q / (double)n : 0.0;
  *mean = (float)m;
  *inv_std = (float)(1.0 / sqrt(v + (double)eps));
}

/* ---- instancenorm_f32: per (n, c) over spatial dims ------------------------------------- */

graft_status graft_instancenorm_f32_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!f32_same(x, y) || x->rank < 2) return GRAFT_E_SHAPE;
  if (!gk_vec(gk_in(c, 1), GRAFT_DTYPE_FLOAT32, x->dims[1]) || !gk_vec(gk_in(c, 2), GRAFT_DTYPE_FLOAT32, x->dims[1]))
    return GRAFT_E_SHAPE;
  return GRAFT_OK;
}
size_t graft_instancenorm_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_instancenorm_f32_eval(const graft_call *c) {
  const graft_tensor *xt = gk_in(c, 0);
  graft_tensor *yt = gk_out(c, 0);
  const float *sc = (const float *)gk_in(c, 1)->data, *bi = (const float *)gk_in(c, 2)->data;
  float eps = graft_attr_float(c, GRAFT_ATTR_EPSILON, 1e-5f);
  int64_t N = xt->dims[0], C = xt->dims[1], S = gk_prod(xt, 2, xt->rank);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ch = 0; ch < C; ++ch) {
      const float *xp = (const float *)xt->data + (n * C + ch) * S;
      float *yp = (float *)yt->data + (n * C + ch) * S, m, r;
      moments(xp, S, eps, &m, &r);
      float a = r * sc[ch], b = bi[ch] - m * a;
      for (int64_t i = 0; i < S; ++i) yp[i] = xp[i] * a + b;
    }
  return GRAFT_OK;
}

/* ---- layernorm_f32: normalize over dims[axis:] (axis default -1); scale and optional bias
   hold exactly prod(dims[axis:]) elements (any shape with that count). Optional outputs 1 and
   2 (Mean, InvStdDev, float32) have shape dims[:axis] + [1] * (rank - axis). -------------- */

/* True when t is an fp32 statistics output of x: dims[:axis] then 1s, same rank. */
static int ln_stat_ok(const graft_tensor *t, const graft_tensor *x, int32_t ax) {
  if (!gk_is(t, GRAFT_DTYPE_FLOAT32) || t->rank != x->rank) return 0;
  for (int32_t i = 0; i < x->rank; ++i)
    if (t->dims[i] != (i < ax ? x->dims[i] : 1)) return 0;
  return 1;
}

graft_status graft_layernorm_f32_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0), *b = gk_in(c, 2);
  if (!f32_same(x, y) || x->rank < 1) return GRAFT_E_SHAPE;
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, -1), x->rank);
  if (ax < 0) return GRAFT_E_SHAPE;
  int64_t m = gk_prod(x, ax, x->rank);
  if (!gk_vec(gk_in(c, 1), GRAFT_DTYPE_FLOAT32, m) || (b && !gk_vec(b, GRAFT_DTYPE_FLOAT32, m))) return GRAFT_E_SHAPE;
  for (int i = 1; i < c->n_outputs && i < 3; ++i)
    if (!ln_stat_ok(gk_out(c, i), x, ax)) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}
size_t graft_layernorm_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_layernorm_f32_eval(const graft_call *c) {
  const graft_tensor *xt = gk_in(c, 0), *bt = gk_in(c, 2);
  graft_tensor *yt = gk_out(c, 0), *mt = gk_out(c, 1), *rt = gk_out(c, 2);
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, -1), xt->rank);
  float eps = graft_attr_float(c, GRAFT_ATTR_EPSILON, 1e-5f);
  int64_t outer = gk_prod(xt, 0, ax), m = gk_prod(xt, ax, xt->rank);
  const float *sc = (const float *)gk_in(c, 1)->data, *bi = bt ? (const float *)bt->data : 0;
  for (int64_t o = 0; o < outer; ++o) {
    const float *xp = (const float *)xt->data + o * m;
    float *yp = (float *)yt->data + o * m, mean, r;
    moments(xp, m, eps, &mean, &r);
    if (mt) ((float *)mt->data)[o] = mean;
    if (rt) ((float *)rt->data)[o] = r;
    if (bi)
      for (int64_t i = 0; i < m; ++i) yp[i] = (xp[i] - mean) * r * sc[i] + bi[i];
    else
      for (int64_t i = 0; i < m; ++i) yp[i] = (xp[i] - mean) * r * sc[i];
  }
  return GRAFT_OK;
}

/* ---- lrn_f32: y = x / (bias + alpha/size * sum over nearby channels of x^2)^beta --------- */

graft_status graft_lrn_f32_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  int64_t size = graft_attr_int(c, GRAFT_ATTR_SIZE, 0);
  if (!f32_same(x, y) || x->rank < 2 || size < 1) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}
size_t graft_lrn_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_lrn_f32_eval(const graft_call *c) {
  const graft_tensor *xt = gk_in(c, 0);
  graft_tensor *yt = gk_out(c, 0);
  int64_t size = graft_attr_int(c, GRAFT_ATTR_SIZE, 1);
  float alpha = graft_attr_float(c, GRAFT_ATTR_ALPHA, 1e-4f), beta = graft_attr_float(c, GRAFT_ATTR_BETA, 0.75f);
  float bias = graft_attr_float(c, GRAFT_ATTR_BIAS, 1.0f), k = alpha / (float)size;
  int64_t N = xt->dims[0], C = xt->dims[1], S = gk_prod(xt, 2, xt->rank);
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo; /* channels [c - lo, c + hi] */
  const float *x = (const float *)xt->data;
  float *y = (float *)yt->data;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t ch = 0; ch < C; ++ch) {
      int64_t c0 = ch - lo < 0 ? 0 : ch - lo, c1 = ch + hi > C - 1 ? C - 1 : ch + hi;
      float *yp = y + (n * C + ch) * S;
      for (int64_t i = 0; i < S; ++i) yp[i] = 0.0f;
      for (int64_t j = c0; j <= c1; ++j) {
        const float *xp = x + (n * C + j) * S;
        for (int64_t i = 0; i < S; ++i) yp[i] += xp[i] * xp[i];
      }
      const float *xp = x + (n * C + ch) * S;
      for (int64_t i = 0; i < S; ++i) yp[i] = xp[i] / powf(bias + k * yp[i], beta);
    }
  return GRAFT_OK;
}
