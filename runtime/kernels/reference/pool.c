/* Pooling kernels, fp32, NC + 1..3 spatial dims: max, average, Lp (windowed) and global
   average/max. Attributes: kernel_shape (required), strides (1), pads ([begins, ends], 0),
   dilations (1), ceil_mode (0), count_include_pad (0, average), p (2, Lp).
   Contract: check recomputes every output spatial dim with ONNX's formula (ceil_mode drops a
   last window that would start in the end padding) and rejects a mismatch with the output
   view. Window taps outside the input are skipped; the average divisor counts the taps inside
   the input, or (count_include_pad) the taps inside the padded input. Scratch: one input row
   (two when the innermost stride is above 1). */
#include "gk_vectorize.h"
#include <math.h>
#include "kcommon.h"

typedef struct pool_geom {
  int32_t sp; /* spatial rank as given (1..3) */
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
  int64_t N, C;
} pool_geom;

/* Reads attributes and derives output dims; returns 1 when consistent with the views. */
static int pool_geom_of(const graft_call *c, pool_geom *g) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!gk_is(x, GRAFT_DTYPE_FLOAT32) || !gk_is(y, GRAFT_DTYPE_FLOAT32)) return 0;
  if (x->rank < 3 || x->rank > 5 || y->rank != x->rank) return 0;
  int32_t sp = x->rank - 2;
  const int64_t *ks, *st, *pd, *dl;
  int32_t nk = graft_attr_ints(c, GRAFT_ATTR_KERNEL_SHAPE, &ks);
  int32_t ns = graft_attr_ints(c, GRAFT_ATTR_STRIDES, &st);
  int32_t np = graft_attr_ints(c, GRAFT_ATTR_PADS, &pd);
  int32_t nd = graft_attr_ints(c, GRAFT_ATTR_DILATIONS, &dl);
  int ceil_mode = graft_attr_int(c, GRAFT_ATTR_CEIL_MODE, 0) != 0;
  if (nk != sp || (ns && ns != sp) || (np && np != 2 * sp) || (nd && nd != sp)) return 0;
  if (y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1]) return 0;
  g->sp = sp;
  g->N = x->dims[0];
  g->C = x->dims[1];
  for (int32_t i = 0; i < 3; ++i) {
    /* unused leading axes are size-1 identity windows */
    int32_t a = i - (3 - sp);
    if (a < 0) {
      g->in[i] = g->out[i] = g->k[i] = g->s[i] = g->d[i] = 1;
      g->pb[i] = g->pe[i] = 0;
      continue;
    }
    int64_t in = x->dims[2 + a], k = ks[a], s = ns ? st[a] : 1, d = nd ? dl[a] : 1;
    int64_t pb = np ? pd[a] : 0, pe = np ? pd[a + sp] : 0;
    if (k < 1 || k > GK_MAX_COUNT || s < 1 || s > GK_MAX_COUNT || d < 1 || d > GK_MAX_COUNT) return 0;
    if (pb < 0 || pe < 0 || pb > GK_MAX_COUNT || pe > GK_MAX_COUNT) return 0;
    if ((k - 1) > GK_MAX_COUNT / d) return 0;
    int64_t eff = (k - 1) * d + 1, span = in + pb + pe - eff, out;
    if (span < 0) return 0;
    if (ceil_mode) {
      out = (span + s - 1) / s + 1;
      if ((out - 1) * s >= in + pb) --out;
    } else {
      out = span / s + 1;
    }
    if (y->dims[2 + a] != out) return 0;
    g->in[i] = in; g->out[i] = out; g->k[i] = k; g->s[i] = s; g->d[i] = d; g->pb[i] = pb; g->pe[i] = pe;
  }
  return 1;
}

/* Taps [k0, k1) of a window starting at `start` that fall in [lo, hi). */
static void tap_range(int64_t start, int64_t k, int64_t d, int64_t lo, int64_t hi, int64_t *k0, int64_t *k1) {
  int64_t a = start >= lo ? 0 : (lo - start + d - 1) / d;
  int64_t b = start >= hi ? 0 : (hi - start + d - 1) / d;
  *k0 = a;
  *k1 = b < k ? b : k;
  if (*k1 < *k0) *k1 = *k0;
}

enum { POOL_MAX, POOL_AVG, POOL_LP };

/* Output positions [lo, hi) whose tap k (input position o*s - pb + k*d) lies in [0, in). */
static void out_range(int64_t k, int64_t s, int64_t d, int64_t pb, int64_t in, int64_t out, int64_t *lo, int64_t *hi) {
  int64_t off = k * d - pb; /* input position = o*s + off */
  int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t b = in - off <= 0 ? 0 : (in - off - 1) / s + 1;
  *lo = a;
  *hi = b < out ? b : out;
  if (*hi < *lo) *hi = *lo;
}

/* Scratch: one row of in[2] floats (the window's rows folded together), plus, with an
   innermost stride s > 1, that row split into s phases of ceil(in / s) floats (phase q holds
   elements q, q + s, ...) so that every tap pass is unit-stride. */
static size_t pool_scratch_of(const pool_geom *g) {
  size_t row = (size_t)g->in[2];
  if (g->s[2] > 1) row += (size_t)(g->s[2] * ((g->in[2] + g->s[2] - 1) / g->s[2]));
  return row * sizeof(float);
}

static size_t pool_scratch(const graft_call *c) {
  pool_geom g;
  return pool_geom_of(c, &g) ? pool_scratch_of(&g) : 0;
}

/* Separable: for each output row (o0, o1), the window's input rows are folded into one row
   (max, sum, or sum of |x|^p), then each innermost tap is one unit-stride pass over the output
   row. Both passes vectorize. */
static graft_status pool_eval(const graft_call *c, int kind) {
  pool_geom g;
  if (!pool_geom_of(c, &g)) return GRAFT_E_SHAPE;
  const float *x = (const float *)gk_in(c, 0)->data;
  float *y = (float *)gk_out(c, 0)->data;
  int include_pad = graft_attr_int(c, GRAFT_ATTR_COUNT_INCLUDE_PAD, 0) != 0;
  float p = graft_attr_float(c, GRAFT_ATTR_P, 2.0f);
  int64_t plane_in = g.in[0] * g.in[1] * g.in[2], W = g.out[2], s2 = g.s[2], L = (g.in[2] + s2 - 1) / s2;
  int64_t IW = g.in[2];
  if (!c->scratch || c->scratch_bytes < pool_scratch_of(&g)) return GRAFT_E_ARG;
  float *vm = (float *)c->scratch, *ph = s2 > 1 ? vm + IW : 0;
  float init = kind == POOL_MAX ? -INFINITY : 0.0f;
  for (int64_t nc = 0; nc < g.N * g.C; ++nc) {
    const float *xp = x + nc * plane_in;
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
      int64_t s0 = o0 * g.s[0] - g.pb[0], a0, b0, pa0, pb0;
      tap_range(s0, g.k[0], g.d[0], 0, g.in[0], &a0, &b0);
      tap_range(s0, g.k[0], g.d[0], -g.pb[0], g.in[0] + g.pe[0], &pa0, &pb0);
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1, y += W) {
        int64_t s1 = o1 * g.s[1] - g.pb[1], a1, b1, pa1, pb1;
        tap_range(s1, g.k[1], g.d[1], 0, g.in[1], &a1, &b1);
        tap_range(s1, g.k[1], g.d[1], -g.pb[1], g.in[1] + g.pe[1], &pa1, &pb1);
        const float *src = vm;
        if (ph && s2 == 2 && kind != POOL_LP && a0 < b0 && a1 < b1) {
          /* Stride 2, max/avg: fold the rows straight into the two phases (even elements to
             ph[0..L), odd to ph[L..2L)), the first row initializing them; one pass per row. */
          int64_t h = IW / 2, k0 = a0, k1 = a1;
          float *pe = ph, *po = ph + L;
          const float *r = xp + ((s0 + k0 * g.d[0]) * g.in[1] + s1 + k1 * g.d[1]) * IW;
          for (int64_t j = 0; j < h; ++j) { pe[j] = r[2 * j]; po[j] = r[2 * j + 1]; }
          if (IW & 1) pe[h] = r[IW - 1];
          for (;;) {
            if (++k1 == b1) { k1 = a1; if (++k0 == b0) break; }
            r = xp + ((s0 + k0 * g.d[0]) * g.in[1] + s1 + k1 * g.d[1]) * IW;
            if (kind == POOL_MAX) {
              for (int64_t j = 0; j < h; ++j) {
                float e = r[2 * j], o = r[2 * j + 1];
                pe[j] = e > pe[j] ? e : pe[j];
                po[j] = o > po[j] ? o : po[j];
              }
              if (IW & 1) pe[h] = r[IW - 1] > pe[h] ? r[IW - 1] : pe[h];
            } else {
              for (int64_t j = 0; j < h; ++j) { pe[j] += r[2 * j]; po[j] += r[2 * j + 1]; }
              if (IW & 1) pe[h] += r[IW - 1];
            }
          }
          src = ph;
        } else {
        /* fold the window's rows */
        for (int64_t i = 0; i < IW; ++i) vm[i] = init;
        for (int64_t k0 = a0; k0 < b0; ++k0)
          for (int64_t k1 = a1; k1 < b1; ++k1) {
            const float *r = xp + ((s0 + k0 * g.d[0]) * g.in[1] + s1 + k1 * g.d[1]) * IW;
            if (kind == POOL_MAX) for (int64_t i = 0; i < IW; ++i) vm[i] = r[i] > vm[i] ? r[i] : vm[i];
            else if (kind == POOL_AVG) for (int64_t i = 0; i < IW; ++i) vm[i] += r[i];
            else if (p == 2.0f) for (int64_t i = 0; i < IW; ++i) vm[i] += r[i] * r[i];
            else for (int64_t i = 0; i < IW; ++i) vm[i] += powf(fabsf(r[i]), p);
          }
        if (ph) { /* ph[q * L + j] = vm[j * s2 + q] */
          for (int64_t q = 0; q < s2; ++q)
            for (int64_t j = 0; j * s2 + q < IW; ++j) ph[q * L + j] = vm[j * s2 + q];
          src = ph;
        }
        }
        for (int64_t ow = 0; ow < W; ++ow) y[ow] = init;
        for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
          int64_t lo, hi, off = k2 * g.d[2] - g.pb[2];
          out_range(k2, s2, g.d[2], g.pb[2], IW, W, &lo, &hi);
          if (lo >= hi) continue;
          /* element for output ow: vm[ow * s2 + off] = ph[q * L + ow + sh] */
          int64_t q = ((off % s2) + s2) % s2, sh = (off - q) / s2;
          const float *rp = ph ? src + q * L + sh : src + off;
          if (kind == POOL_MAX) for (int64_t ow = lo; ow < hi; ++ow) y[ow] = rp[ow] > y[ow] ? rp[ow] : y[ow];
          else for (int64_t ow = lo; ow < hi; ++ow) y[ow] += rp[ow];
        }
        if (kind == POOL_AVG) {
          int64_t rows = include_pad ? (pb0 - pa0) * (pb1 - pa1) : (b0 - a0) * (b1 - a1);
          for (int64_t ow = 0; ow < W; ++ow) {
            int64_t a2, b2, sw = ow * s2 - g.pb[2];
            if (include_pad) tap_range(sw, g.k[2], g.d[2], -g.pb[2], IW + g.pe[2], &a2, &b2);
            else tap_range(sw, g.k[2], g.d[2], 0, IW, &a2, &b2);
            int64_t cnt = rows * (b2 - a2);
            y[ow] = cnt > 0 ? y[ow] / (float)cnt : 0.0f;
          }
        } else if (kind == POOL_LP) {
          if (p == 2.0f) for (int64_t ow = 0; ow < W; ++ow) y[ow] = sqrtf(y[ow]);
          else for (int64_t ow = 0; ow < W; ++ow) y[ow] = powf(y[ow], 1.0f / p);
        }
      }
    }
  }
  return GRAFT_OK;
}

graft_status graft_maxpool_f32_check(const graft_call *c) { pool_geom g; return pool_geom_of(c, &g) ? GRAFT_OK : GRAFT_E_SHAPE; }
size_t graft_maxpool_f32_scratch(const graft_call *c) { return pool_scratch(c); }
graft_status graft_maxpool_f32_eval(const graft_call *c) { return pool_eval(c, POOL_MAX); }

graft_status graft_avgpool_f32_check(const graft_call *c) { pool_geom g; return pool_geom_of(c, &g) ? GRAFT_OK : GRAFT_E_SHAPE; }
size_t graft_avgpool_f32_scratch(const graft_call *c) { return pool_scratch(c); }
graft_status graft_avgpool_f32_eval(const graft_call *c) { return pool_eval(c, POOL_AVG); }

graft_status graft_lppool_f32_check(const graft_call *c) {
  pool_geom g;
  float p = graft_attr_float(c, GRAFT_ATTR_P, 2.0f);
  if (!(p > 0.0f) || isinf(p)) return GRAFT_E_SHAPE;
  return pool_geom_of(c, &g) ? GRAFT_OK : GRAFT_E_SHAPE;
}
size_t graft_lppool_f32_scratch(const graft_call *c) { return pool_scratch(c); }
graft_status graft_lppool_f32_eval(const graft_call *c) { return pool_eval(c, POOL_LP); }

/* ---- global pools: y[n, c, 1, ...] over all spatial dims --------------------------------- */

static graft_status global_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!gk_is(x, GRAFT_DTYPE_FLOAT32) || !gk_is(y, GRAFT_DTYPE_FLOAT32) || x->rank < 2 || y->rank != x->rank)
    return GRAFT_E_SHAPE;
  if (y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1]) return GRAFT_E_SHAPE;
  for (int32_t i = 2; i < y->rank; ++i)
    if (y->dims[i] != 1) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}

static graft_status global_eval(const graft_call *c, int is_max) {
  const graft_tensor *xt = gk_in(c, 0);
  int64_t nc = xt->dims[0] * xt->dims[1], S = gk_prod(xt, 2, xt->rank);
  const float *x = (const float *)xt->data;
  float *y = (float *)gk_out(c, 0)->data;
  for (int64_t i = 0; i < nc; ++i, x += S) {
    if (is_max) {
      float m = -INFINITY;
      for (int64_t j = 0; j < S; ++j) m = x[j] > m ? x[j] : m;
      y[i] = m;
    } else {
      /* eight float partial sums (vectorizable), combined in double */
      float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t j = 0;
      for (; j + 8 <= S; j += 8)
        for (int k = 0; k < 8; ++k) part[k] += x[j + k];
      double s = 0.0;
      for (int k = 0; k < 8; ++k) s += part[k];
      for (; j < S; ++j) s += x[j];
      y[i] = S ? (float)(s / (double)S) : 0.0f;
    }
  }
  return GRAFT_OK;
}

graft_status graft_global_avgpool_f32_check(const graft_call *c) { return global_check(c); }
size_t graft_global_avgpool_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_global_avgpool_f32_eval(const graft_call *c) { return global_eval(c, 0); }

graft_status graft_global_maxpool_f32_check(const graft_call *c) { return global_check(c); }
size_t graft_global_maxpool_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_global_maxpool_f32_eval(const graft_call *c) { return global_eval(c, 1); }
