/* Reductions over `axes` (fp32) and ArgMax/ArgMin (-> int64).
   Contract: axes may be negative (normalized), must be distinct; an empty/absent axes list
   reduces over all axes unless noop_with_empty_axes=1 (then the input is copied). keepdims
   (default 1) decides whether reduced dims stay as 1 or disappear; check compares the result
   with the output view. Sums, products and norms accumulate in double in the scratch buffer
   (one double per output element; none for max/min); logsumexp subtracts the max first. */
#include "gk_vectorize.h"
#include <math.h>
#include "kcommon.h"

enum { R_MEAN, R_SUM, R_MAX, R_MIN, R_L2, R_PROD, R_L1, R_SUMSQ, R_LSE };

typedef struct red_plan {
  int noop;
  int32_t m;                   /* collapsed rank (>= 1) */
  int64_t dims[GRAFT_MAX_RANK];
  int64_t ost[GRAFT_MAX_RANK]; /* output strides, 0 on reduced dims */
  int red[GRAFT_MAX_RANK];     /* 1 when reduced */
  int64_t count;               /* elements folded into each output */
  int64_t outn;
} red_plan;

static int red_plan_of(const graft_call *c, red_plan *p) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!gk_is(x, GRAFT_DTYPE_FLOAT32) || !gk_is(y, GRAFT_DTYPE_FLOAT32)) return 0;
  const int64_t *axes;
  int32_t na = graft_attr_ints(c, GRAFT_ATTR_AXES, &axes), r = x->rank;
  int keep = graft_attr_int(c, GRAFT_ATTR_KEEPDIMS, 1) != 0;
  int red[GRAFT_MAX_RANK] = {0};
  p->noop = 0;
  if (na == 0) {
    if (graft_attr_int(c, GRAFT_ATTR_NOOP_WITH_EMPTY_AXES, 0)) {
      p->noop = 1;
      p->outn = gk_count(y);
      return gk_same_dims(x, y);
    }
    for (int32_t i = 0; i < r; ++i) red[i] = 1;
  } else {
    if (na > r) return 0;
    for (int32_t k = 0; k < na; ++k) {
      int32_t a = gk_axis(axes[k], r);
      if (a < 0 || red[a]) return 0;
      red[a] = 1;
    }
  }
  /* expected output dims */
  int32_t yr = 0;
  int64_t want[GRAFT_MAX_RANK];
  p->count = 1;
  for (int32_t i = 0; i < r; ++i) {
    if (red[i]) p->count *= x->dims[i];
    if (!red[i]) want[yr++] = x->dims[i];
    else if (keep) want[yr++] = 1;
  }
  if (y->rank != yr) return 0;
  for (int32_t i = 0; i < yr; ++i)
    if (y->dims[i] != want[i]) return 0;
  p->outn = gk_count(y);
  /* collapse: drop size-1 dims, merge neighbours of the same kind */
  int32_t m = 0;
  for (int32_t i = 0; i < r; ++i) {
    if (x->dims[i] == 1) continue;
    if (m > 0 && p->red[m - 1] == red[i]) { p->dims[m - 1] *= x->dims[i]; continue; }
    p->dims[m] = x->dims[i];
    p->red[m] = red[i];
    ++m;
  }
  if (m == 0) { p->dims[0] = 1; p->red[0] = 1; m = 1; }
  p->m = m;
  int64_t s = 1;
  for (int32_t i = m - 1; i >= 0; --i) {
    p->ost[i] = p->red[i] ? 0 : s;
    if (!p->red[i]) s *= p->dims[i];
  }
  return 1;
}

static int uses_acc(int kind) { return kind != R_MAX && kind != R_MIN; }

/* Sum of f(x[i]) over a row with eight float partials (vectorizable), returned in double. */
static double row_sum(const float *x, int64_t n, int kind, float shift) {
  float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  double s = 0.0;
  switch (kind) {
  case R_L1:
    for (; j + 8 <= n; j += 8) for (int k = 0; k < 8; ++k) part[k] += fabsf(x[j + k]);
    for (; j < n; ++j) s += fabsf(x[j]);
    break;
  case R_L2: case R_SUMSQ:
    for (; j + 8 <= n; j += 8) for (int k = 0; k < 8; ++k) part[k] += x[j + k] * x[j + k];
    for (; j < n; ++j) s += (double)x[j] * x[j];
    break;
  case R_LSE:
    for (; j < n; ++j) s += exp((double)x[j] - shift);
    break;
  default:
    for (; j + 8 <= n; j += 8) for (int k = 0; k < 8; ++k) part[k] += x[j + k];
    for (; j < n; ++j) s += x[j];
    break;
  }
  for (int k = 0; k < 8; ++k) s += part[k];
  return s;
}

/* One pass over the input in memory order, folding rows into out (max/min) or acc. */
static void red_walk(const red_plan *p, int kind, const float *x, float *out, double *acc) {
  int32_t m = p->m;
  int64_t n = p->dims[m - 1], idx[GRAFT_MAX_RANK] = {0}, off = 0;
  int inner_red = p->red[m - 1];
  for (int32_t i = 0; i < m; ++i)
    if (p->dims[i] == 0) return;
  for (;;) {
    if (inner_red) {
      switch (kind) {
      case R_MAX: { float v = out[off]; for (int64_t j = 0; j < n; ++j) v = x[j] > v ? x[j] : v; out[off] = v; } break;
      case R_MIN: { float v = out[off]; for (int64_t j = 0; j < n; ++j) v = x[j] < v ? x[j] : v; out[off] = v; } break;
      case R_PROD: { double v = acc[off]; for (int64_t j = 0; j < n; ++j) v *= x[j]; acc[off] = v; } break;
      default: acc[off] += row_sum(x, n, kind, out ? out[off] : 0.0f); break;
      }
    } else {
      float *o = out + off;
      double *a = acc ? acc + off : 0;
      switch (kind) {
      case R_MAX: for (int64_t j = 0; j < n; ++j) o[j] = x[j] > o[j] ? x[j] : o[j]; break;
      case R_MIN: for (int64_t j = 0; j < n; ++j) o[j] = x[j] < o[j] ? x[j] : o[j]; break;
      case R_PROD: for (int64_t j = 0; j < n; ++j) a[j] *= x[j]; break;
      case R_L1: for (int64_t j = 0; j < n; ++j) a[j] += fabsf(x[j]); break;
      case R_L2: case R_SUMSQ: for (int64_t j = 0; j < n; ++j) a[j] += (double)x[j] * x[j]; break;
      case R_LSE: for (int64_t j = 0; j < n; ++j) a[j] += exp((double)x[j] - o[j]); break;
      default: for (int64_t j = 0; j < n; ++j) a[j] += x[j]; break;
      }
    }
    x += n;
    int32_t i = m - 2;
    for (; i >= 0; --i) {
      if (++idx[i] < p->dims[i]) { off += p->ost[i]; break; }
      off -= p->ost[i] * (p->dims[i] - 1);
      idx[i] = 0;
    }
    if (i < 0) return;
  }
}

static graft_status red_check(const graft_call *c) { red_plan p; return red_plan_of(c, &p) ? GRAFT_OK : GRAFT_E_SHAPE; }

static size_t red_scratch(const graft_call *c, int kind) {
  red_plan p;
  if (!uses_acc(kind) || !red_plan_of(c, &p) || p.noop) return 0;
  return (size_t)p.outn * sizeof(double);
}

static graft_status red_eval(const graft_call *c, int kind) {
  red_plan p;
  if (!red_plan_of(c, &p)) return GRAFT_E_SHAPE;
  const float *x = (const float *)gk_in(c, 0)->data;
  float *y = (float *)gk_out(c, 0)->data;
  if (p.noop) {
    if (x != y) memmove(y, x, (size_t)p.outn * sizeof(float));
    return GRAFT_OK;
  }
  double *acc = 0;
  if (p.outn == 0) return GRAFT_OK;
  if (uses_acc(kind)) {
    if (!c->scratch || c->scratch_bytes < (size_t)p.outn * sizeof(double)) return GRAFT_E_ARG;
    acc = (double *)c->scratch;
    for (int64_t i = 0; i < p.outn; ++i) acc[i] = kind == R_PROD ? 1.0 : 0.0;
  }
  if (kind == R_MAX || kind == R_MIN || kind == R_LSE) {
    float init = kind == R_MIN ? INFINITY : -INFINITY;
    for (int64_t i = 0; i < p.outn; ++i) y[i] = init;
    red_walk(&p, kind == R_LSE ? R_MAX : kind, x, y, 0);
    if (kind != R_LSE) return GRAFT_OK;
  }
  red_walk(&p, kind, x, y, acc);
  for (int64_t i = 0; i < p.outn; ++i) {
    double a = acc[i];
    switch (kind) {
    case R_MEAN: y[i] = (float)(a / (double)p.count); break;
    case R_L2: y[i] = (float)sqrt(a); break;
    case R_LSE: y[i] = (float)((double)y[i] + log(a)); break;
    default: y[i] = (float)a; break;
    }
  }
  return GRAFT_OK;
}

#define GK_REDUCE(name, KIND)                                                                \
  graft_status graft_##name##_check(const graft_call *c) { return red_check(c); }            \
  size_t graft_##name##_scratch(const graft_call *c) { return red_scratch(c, KIND); }         \
  graft_status graft_##name##_eval(const graft_call *c) { return red_eval(c, KIND); }

GK_REDUCE(reduce_mean_f32, R_MEAN)
GK_REDUCE(reduce_sum_f32, R_SUM)
GK_REDUCE(reduce_max_f32, R_MAX)
GK_REDUCE(reduce_min_f32, R_MIN)
GK_REDUCE(reduce_l2_f32, R_L2)
GK_REDUCE(reduce_prod_f32, R_PROD)
GK_REDUCE(reduce_l1_f32, R_L1)
GK_REDUCE(reduce_sumsq_f32, R_SUMSQ)
GK_REDUCE(reduce_logsumexp_f32, R_LSE)

/* ---- argmax_f32 / argmin_f32: axis (0), keepdims (1), select_last_index (0) -> int64 --- */

static graft_status arg_check(const graft_call *c) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!gk_is(x, GRAFT_DTYPE_FLOAT32) || !gk_is(y, GRAFT_DTYPE_INT64) || x->rank < 1) return GRAFT_E_SHAPE;
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, 0), x->rank);
  int keep = graft_attr_int(c, GRAFT_ATTR_KEEPDIMS, 1) != 0;
  if (ax < 0 || x->dims[ax] == 0) return GRAFT_E_SHAPE;
  if (y->rank != (keep ? x->rank : x->rank - 1)) return GRAFT_E_SHAPE;
  for (int32_t i = 0, j = 0; i < x->rank; ++i) {
    if (i == ax && !keep) continue;
    if (y->dims[j++] != (i == ax ? 1 : x->dims[i])) return GRAFT_E_SHAPE;
  }
  return GRAFT_OK;
}

static graft_status arg_eval(const graft_call *c, int is_min) {
  const graft_tensor *xt = gk_in(c, 0);
  int32_t ax = gk_axis(graft_attr_int(c, GRAFT_ATTR_AXIS, 0), xt->rank);
  int last = graft_attr_int(c, GRAFT_ATTR_SELECT_LAST_INDEX, 0) != 0;
  int64_t outer = gk_prod(xt, 0, ax), n = xt->dims[ax], inner = gk_prod(xt, ax + 1, xt->rank);
  const float *x = (const float *)xt->data;
  int64_t *y = (int64_t *)gk_out(c, 0)->data;
  for (int64_t o = 0; o < outer; ++o, x += n * inner, y += inner)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      float bv = x[i];
      for (int64_t j = 1; j < n; ++j) {
        float v = x[j * inner + i];
        int better = is_min ? (last ? v <= bv : v < bv) : (last ? v >= bv : v > bv);
        if (better) { best = j; bv = v; }
      }
      y[i] = best;
    }
  return GRAFT_OK;
}

graft_status graft_argmax_f32_check(const graft_call *c) { return arg_check(c); }
size_t graft_argmax_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_argmax_f32_eval(const graft_call *c) { return arg_eval(c, 0); }

graft_status graft_argmin_f32_check(const graft_call *c) { return arg_check(c); }
size_t graft_argmin_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_argmin_f32_eval(const graft_call *c) { return arg_eval(c, 1); }
