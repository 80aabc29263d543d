/* Tests conv_f32, conv_transpose_f32, gemm_f32 and matmul_f32 through the kernel ABI
   (check, scratch, eval) against naive loop nests in double precision written here, on
   random shapes: odd sizes, tails, groups, depthwise, dilations, strides, asymmetric pads,
   1D/2D/3D, transposes, broadcast batches, 1-D matmul operands, every C broadcast of Gemm,
   fused activations. Also checks that inconsistent shapes are rejected with GRAFT_E_SHAPE.

   Tolerance: |got - want| <= 1e-5 * (sum of |terms| of that output) + 1e-6, the bound for
   fp32 accumulation in any order. Buffers are malloc'd at exact sizes (scratch included) with
   a canary tail so that out-of-bounds writes are caught even without AddressSanitizer.
   Run it again with GRAFT_CPU=avx2 and GRAFT_CPU=generic to test the other instruction-set
   paths. Prints one line per failure and "N passed, N failed" last. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graft_kernels.h"
#include "cpu.h"

static int passed, failed;

/* ---- deterministic random numbers ---- */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd_u32(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rng_state >> 33);
}
static int64_t rnd_int(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd_u32() % (uint32_t)(hi - lo + 1)); }
static float rnd_float(void) { return (float)((double)rnd_u32() / 2147483648.0 - 1.0); }

/* ---- buffers with canaries ---- */
#define CANARY 16
static const float canary_value = -12345.5f;

static float *buf_new(int64_t n) {
  float *p = (float *)malloc((size_t)(n + CANARY) * sizeof(float));
  for (int64_t i = 0; i < n; ++i) p[i] = rnd_float();
  for (int64_t i = 0; i < CANARY; ++i) p[n + i] = canary_value;
  return p;
}
static int canary_ok(const float *p, int64_t n) {
  for (int64_t i = 0; i < CANARY; ++i)
    if (p[n + i] != canary_value) return 0;
  return 1;
}

static graft_tensor tensor(float *data, int32_t rank, const int64_t *dims) {
  graft_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = GRAFT_DTYPE_FLOAT32;
  t.rank = rank;
  for (int32_t i = 0; i < rank; ++i) t.dims[i] = dims[i];
  return t;
}

/* ---- attributes ---- */
typedef struct attrs {
  graft_attr a[16];
  int64_t ints[16][8];
  float floats[16];
  int32_t n;
} attrs;
static void attr_ints(attrs *s, int32_t key, int32_t count, const int64_t *v) {
  graft_attr *a = &s->a[s->n];
  for (int32_t i = 0; i < count; ++i) s->ints[s->n][i] = v[i];
  a->key = key;
  a->type = GRAFT_ATTR_T_INTS;
  a->count = count;
  a->ints = s->ints[s->n];
  a->floats = 0;
  s->n++;
}
static void attr_int(attrs *s, int32_t key, int64_t v) {
  attr_ints(s, key, 1, &v);
  s->a[s->n - 1].type = GRAFT_ATTR_T_INT;
}
static void attr_float(attrs *s, int32_t key, float v) {
  graft_attr *a = &s->a[s->n];
  s->floats[s->n] = v;
  a->key = key;
  a->type = GRAFT_ATTR_T_FLOAT;
  a->count = 1;
  a->ints = 0;
  a->floats = &s->floats[s->n];
  s->n++;
}

/* ---- fused activation: random pick and double reference ---- */
typedef struct act_choice { int32_t kind; float a, b; } act_choice;
static act_choice random_act(attrs *s) {
  static const int32_t kinds[] = {GRAFT_ACT_NONE, GRAFT_ACT_NONE, GRAFT_ACT_RELU, GRAFT_ACT_CLIP,
                                  GRAFT_ACT_LEAKY_RELU, GRAFT_ACT_SIGMOID};
  act_choice c;
  c.kind = kinds[rnd_u32() % 6];
  c.a = c.kind == GRAFT_ACT_CLIP ? -0.5f : 0.1f;
  c.b = c.kind == GRAFT_ACT_CLIP ? 0.75f : 0.0f;
  if (c.kind != GRAFT_ACT_NONE) {
    attr_int(s, GRAFT_ATTR_ACT, c.kind);
    attr_float(s, GRAFT_ATTR_ACT_ALPHA, c.a);
    attr_float(s, GRAFT_ATTR_ACT_BETA, c.b);
  }
  return c;
}
static double act_ref(act_choice c, double x) {
  switch (c.kind) {
  case GRAFT_ACT_RELU: return x > 0 ? x : 0;
  case GRAFT_ACT_CLIP: return x < c.a ? c.a : (x > c.b ? c.b : x);
  case GRAFT_ACT_LEAKY_RELU: return x >= 0 ? x : c.a * x;
  case GRAFT_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
  default: return x;
  }
}

/* ---- running one call ---- */
typedef struct run_result { graft_status check, eval; size_t scratch; int scratch_canary_ok; } run_result;

static run_result run_kernel(const graft_kernel *k, const graft_tensor *const *in, int32_t n_in,
                             graft_tensor *out, const attrs *s) {
  run_result r;
  graft_tensor *outs[1] = {out};
  graft_call c;
  memset(&c, 0, sizeof c);
  c.inputs = in;
  c.n_inputs = n_in;
  c.outputs = outs;
  c.n_outputs = 1;
  c.attrs = s->a;
  c.n_attrs = s->n;
  r.check = k->check(&c);
  r.eval = GRAFT_E_SHAPE;
  r.scratch = 0;
  r.scratch_canary_ok = 1;
  if (r.check != GRAFT_OK) return r;
  r.scratch = k->scratch ? k->scratch(&c) : 0;
  void *mem = 0;
  size_t floats = (r.scratch + sizeof(float) - 1) / sizeof(float);
  if (posix_memalign(&mem, GRAFT_ALIGN, (floats + CANARY) * sizeof(float)) != 0) abort();
  float *sc = (float *)mem;
  for (size_t i = 0; i < CANARY; ++i) sc[floats + i] = canary_value;
  c.scratch = r.scratch ? mem : 0;
  c.scratch_bytes = r.scratch;
  r.eval = k->eval(&c);
  for (size_t i = 0; i < CANARY; ++i)
    if (sc[floats + i] != canary_value) r.scratch_canary_ok = 0;
  free(mem);
  return r;
}

/* Compares got[i] with want[i] within 1e-5 * mag[i] + 1e-6. Reports the first mismatch. */
static void compare(const char *what, const float *got, const double *want, const double *mag,
                    int64_t n, const float *out_buf, run_result r) {
  if (r.check != GRAFT_OK || r.eval != GRAFT_OK) {
    printf("FAIL %s: check %d eval %d\n", what, (int)r.check, (int)r.eval);
    failed++;
    return;
  }
  if (!r.scratch_canary_ok || !canary_ok(out_buf, n)) {
    printf("FAIL %s: write past the end of %s\n", what, r.scratch_canary_ok ? "output" : "scratch");
    failed++;
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const double tol = 1e-5 * mag[i] + 1e-6;
    if (!(fabs((double)got[i] - want[i]) <= tol)) {
      printf("FAIL %s: element %lld: got %.9g want %.9g (tol %.3g)\n", what, (long long)i,
             (double)got[i], want[i], tol);
      failed++;
      return;
    }
  }
  passed++;
}

static void expect_status(const char *what, graft_status got, graft_status want) {
  if (got == want) {
    passed++;
  } else {
    printf("FAIL %s: status %d, want %d\n", what, (int)got, (int)want);
    failed++;
  }
}

/* ---- conv / conv_transpose ---- */
typedef struct conv_case {
  int32_t nsp;
  int64_t batch, cin, cout, group;
  int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], op[3], out[3];
  int bias;
} conv_case;

static int64_t prod3(const int64_t *v, int32_t n) {
  int64_t p = 1;
  for (int32_t i = 0; i < n; ++i) p *= v[i];
  return p;
}

/* Runs one conv (transpose = 0) or conv_transpose (1) case against the naive reference. */
static void run_conv(const char *label, conv_case cc, int transpose) {
  char what[160];
  const int32_t s = cc.nsp, rank = s + 2;
  for (int32_t i = 0; i < s; ++i) {
    const int64_t span = cc.d[i] * (cc.k[i] - 1) + 1;
    cc.out[i] = transpose ? (cc.in[i] - 1) * cc.s[i] + span - cc.pb[i] - cc.pe[i] + cc.op[i]
                          : (cc.in[i] + cc.pb[i] + cc.pe[i] - span) / cc.s[i] + 1;
  }
  const int64_t cg = cc.cin / cc.group, mg = cc.cout / cc.group;
  const int64_t insz = prod3(cc.in, s), outsz = prod3(cc.out, s), kv = prod3(cc.k, s);
  int64_t xd[5] = {cc.batch, cc.cin}, wd[5], yd[5] = {cc.batch, cc.cout}, bd[1] = {cc.cout};
  if (transpose) { wd[0] = cc.cin; wd[1] = mg; } else { wd[0] = cc.cout; wd[1] = cg; }
  for (int32_t i = 0; i < s; ++i) {
    xd[2 + i] = cc.in[i];
    wd[2 + i] = cc.k[i];
    yd[2 + i] = cc.out[i];
  }
  const int64_t nx = cc.batch * cc.cin * insz, nw = cc.cout * cg * kv, ny = cc.batch * cc.cout * outsz;
  float *x = buf_new(nx), *w = buf_new(nw), *b = buf_new(cc.cout), *y = buf_new(ny);
  graft_tensor tx = tensor(x, rank, xd), tw = tensor(w, rank, wd), tb = tensor(b, 1, bd),
               ty = tensor(y, rank, yd);
  attrs at;
  at.n = 0;
  int64_t pads[6];
  for (int32_t i = 0; i < s; ++i) {
    pads[i] = cc.pb[i];
    pads[s + i] = cc.pe[i];
  }
  attr_ints(&at, GRAFT_ATTR_KERNEL_SHAPE, s, cc.k);
  attr_ints(&at, GRAFT_ATTR_STRIDES, s, cc.s);
  attr_ints(&at, GRAFT_ATTR_DILATIONS, s, cc.d);
  attr_ints(&at, GRAFT_ATTR_PADS, 2 * s, pads);
  attr_int(&at, GRAFT_ATTR_GROUP, cc.group);
  if (transpose) attr_ints(&at, GRAFT_ATTR_OUTPUT_PADDING, s, cc.op);
  const act_choice act = random_act(&at);
  const graft_tensor *ins[3] = {&tx, &tw, cc.bias ? &tb : 0};

  /* Reference, dims right-aligned into 3. */
  int64_t IN[3], OUT[3], K[3], S[3], D[3], P[3];
  for (int32_t i = 0; i < 3; ++i) {
    const int32_t a = i - (3 - s);
    IN[i] = a < 0 ? 1 : cc.in[a];
    OUT[i] = a < 0 ? 1 : cc.out[a];
    K[i] = a < 0 ? 1 : cc.k[a];
    S[i] = a < 0 ? 1 : cc.s[a];
    D[i] = a < 0 ? 1 : cc.d[a];
    P[i] = a < 0 ? 0 : cc.pb[a];
  }
  double *want = (double *)calloc((size_t)ny + 1, sizeof(double));
  double *mag = (double *)calloc((size_t)ny + 1, sizeof(double));
  for (int64_t n = 0; n < cc.batch; ++n)
    for (int64_t m = 0; m < cc.cout; ++m) {
      const int64_t gi = m / mg;
      double *wo = want + (n * cc.cout + m) * outsz, *mo = mag + (n * cc.cout + m) * outsz;
      for (int64_t o = 0; o < outsz; ++o) {
        wo[o] = cc.bias ? b[m] : 0.0;
        mo[o] = cc.bias ? fabs(b[m]) : 0.0;
      }
      for (int64_t c = 0; c < cg; ++c) {
        const int64_t ic = gi * cg + c;
        for (int64_t kd = 0; kd < K[0]; ++kd)
          for (int64_t kh = 0; kh < K[1]; ++kh)
            for (int64_t kw = 0; kw < K[2]; ++kw) {
              const int64_t kidx = (kd * K[1] + kh) * K[2] + kw;
              const double wv = transpose ? w[(ic * mg + (m - gi * mg)) * kv + kidx]
                                          : w[(m * cg + c) * kv + kidx];
              if (!transpose) {
                for (int64_t od = 0; od < OUT[0]; ++od)
                  for (int64_t oh = 0; oh < OUT[1]; ++oh)
                    for (int64_t ow = 0; ow < OUT[2]; ++ow) {
                      const int64_t id = od * S[0] - P[0] + kd * D[0];
                      const int64_t ih = oh * S[1] - P[1] + kh * D[1];
                      const int64_t iw = ow * S[2] - P[2] + kw * D[2];
                      if (id < 0 || id >= IN[0] || ih < 0 || ih >= IN[1] || iw < 0 || iw >= IN[2]) continue;
                      const double t = wv * x[(n * cc.cin + ic) * insz + (id * IN[1] + ih) * IN[2] + iw];
                      const int64_t o = (od * OUT[1] + oh) * OUT[2] + ow;
                      wo[o] += t;
                      mo[o] += fabs(t);
                    }
              } else {
                for (int64_t id = 0; id < IN[0]; ++id)
                  for (int64_t ih = 0; ih < IN[1]; ++ih)
                    for (int64_t iw = 0; iw < IN[2]; ++iw) {
                      const int64_t od = id * S[0] - P[0] + kd * D[0];
                      const int64_t oh = ih * S[1] - P[1] + kh * D[1];
                      const int64_t ow = iw * S[2] - P[2] + kw * D[2];
                      if (od < 0 || od >= OUT[0] || oh < 0 || oh >= OUT[1] || ow < 0 || ow >= OUT[2]) continue;
                      const double t = wv * x[(n * cc.cin + ic) * insz + (id * IN[1] + ih) * IN[2] + iw];
                      const int64_t o = (od * OUT[1] + oh) * OUT[2] + ow;
                      wo[o] += t;
                      mo[o] += fabs(t);
                    }
              }
            }
      }
      for (int64_t o = 0; o < outsz; ++o) wo[o] = act_ref(act, wo[o]);
    }
  const graft_kernel *k = graft_kernel_find(transpose ? "conv_transpose_f32" : "conv_f32");
  run_result r = run_kernel(k, ins, cc.bias ? 3 : 2, &ty, &at);
  snprintf(what, sizeof what,
           "%s %s %dD n%lld c%lld->%lld g%lld in%lldx%lldx%lld k%lldx%lldx%lld s%lld,%lld,%lld "
           "d%lld,%lld,%lld act%d",
           transpose ? "conv_transpose" : "conv", label, (int)s, (long long)cc.batch,
           (long long)cc.cin, (long long)cc.cout, (long long)cc.group, (long long)IN[0],
           (long long)IN[1], (long long)IN[2], (long long)K[0], (long long)K[1], (long long)K[2],
           (long long)S[0], (long long)S[1], (long long)S[2], (long long)D[0], (long long)D[1],
           (long long)D[2], (int)act.kind);
  compare(what, y, want, mag, ny, y, r);

  /* The same call with a wrong output dim must be rejected by check. */
  ty.dims[rank - 1] += 1;
  {
    graft_tensor *outs[1] = {&ty};
    graft_call c;
    memset(&c, 0, sizeof c);
    c.inputs = ins;
    c.n_inputs = cc.bias ? 3 : 2;
    c.outputs = outs;
    c.n_outputs = 1;
    c.attrs = at.a;
    c.n_attrs = at.n;
    char w2[200];
    snprintf(w2, sizeof w2, "%s: wrong output width rejected", what);
    expect_status(w2, k->check(&c), GRAFT_E_SHAPE);
  }
  free(x); free(w); free(b); free(y); free(want); free(mag);
}

static conv_case random_conv(int32_t nsp, int transpose) {
  conv_case c;
  memset(&c, 0, sizeof c);
  c.nsp = nsp;
  c.batch = rnd_int(1, 2);
  c.group = rnd_int(0, 3) == 0 ? rnd_int(2, 3) : 1;
  c.cin = c.group * rnd_int(1, 5);
  c.cout = c.group * rnd_int(1, 11);
  for (int32_t i = 0; i < nsp; ++i) {
    c.k[i] = rnd_int(1, nsp == 3 ? 3 : 5);
    c.s[i] = rnd_int(1, 3);
    c.d[i] = rnd_int(0, 2) == 0 ? 2 : 1;
    c.pb[i] = rnd_int(0, 2);
    c.pe[i] = rnd_int(0, 2);
    const int64_t span = c.d[i] * (c.k[i] - 1) + 1;
    c.in[i] = rnd_int(nsp == 3 ? 2 : 3, nsp == 1 ? 40 : (nsp == 2 ? 17 : 7));
    if (!transpose && c.in[i] + c.pb[i] + c.pe[i] < span) c.in[i] = span;
    if (transpose) {
      c.op[i] = rnd_int(0, 1) && c.s[i] > 1 ? rnd_int(0, c.s[i] - 1) : 0;
      /* output size must stay >= 1 */
      while ((c.in[i] - 1) * c.s[i] + span - c.pb[i] - c.pe[i] + c.op[i] < 1) c.in[i]++;
    }
  }
  c.bias = rnd_int(0, 2) != 0;
  return c;
}

static conv_case conv2d(int64_t batch, int64_t cin, int64_t cout, int64_t group, int64_t h,
                        int64_t w, int64_t k, int64_t s, int64_t d, int64_t p) {
  conv_case c;
  memset(&c, 0, sizeof c);
  c.nsp = 2;
  c.batch = batch;
  c.cin = cin;
  c.cout = cout;
  c.group = group;
  c.in[0] = h;
  c.in[1] = w;
  for (int i = 0; i < 2; ++i) {
    c.k[i] = k;
    c.s[i] = s;
    c.d[i] = d;
    c.pb[i] = c.pe[i] = p;
  }
  c.bias = 1;
  return c;
}

static void test_conv(void) {
  /* Targeted paths and blocking edges. */
  run_conv("pointwise", conv2d(2, 7, 13, 1, 5, 9, 1, 1, 1, 0), 0);
  run_conv("pointwise-big-n", conv2d(1, 8, 10, 1, 64, 65, 1, 1, 1, 0), 0);       /* N > NC */
  run_conv("pointwise-stride2", conv2d(1, 16, 24, 1, 11, 11, 1, 2, 1, 0), 0);
  run_conv("pointwise-grouped", conv2d(1, 12, 18, 3, 6, 7, 1, 1, 1, 0), 0);
  run_conv("3x3", conv2d(1, 16, 32, 1, 14, 14, 3, 1, 1, 1), 0);
  run_conv("3x3-deep-k", conv2d(1, 40, 20, 1, 9, 10, 3, 1, 1, 1), 0);             /* K > KC */
  run_conv("3x3-many-m", conv2d(1, 5, 250, 1, 7, 6, 3, 1, 1, 1), 0);              /* M > MC */
  run_conv("7x7-tail-1col", conv2d(1, 40, 20, 1, 7, 7, 3, 1, 1, 1), 0);   /* N = 49, K > KC */
  run_conv("14x14-tail-4col", conv2d(1, 30, 19, 1, 14, 14, 3, 1, 1, 1), 0); /* N = 196 */
  run_conv("7x7s2", conv2d(1, 3, 16, 1, 23, 21, 7, 2, 1, 3), 0);
  run_conv("dilated", conv2d(1, 6, 9, 1, 15, 13, 3, 1, 2, 2), 0);
  /* Stride-phase window path and its limits. */
  run_conv("3x3s2-even", conv2d(1, 8, 12, 1, 16, 16, 3, 2, 1, 1), 0);
  run_conv("3x3s2-odd", conv2d(2, 5, 9, 1, 15, 17, 3, 2, 1, 1), 0);
  run_conv("3x3s2-dil2", conv2d(1, 4, 6, 1, 19, 18, 3, 2, 2, 2), 0);
  run_conv("patchify-4x4s4", conv2d(1, 3, 10, 1, 16, 20, 4, 4, 1, 0), 0);
  run_conv("5x5s3-grouped", conv2d(1, 6, 9, 3, 20, 22, 5, 3, 1, 2), 0);
  {
    conv_case c = conv2d(1, 3, 5, 1, 30, 31, 3, 1, 1, 1);
    c.s[0] = 2; c.s[1] = 3; /* anisotropic strides */
    run_conv("s2x3", c, 0);
    c = conv2d(1, 2, 3, 1, 40, 40, 2, 9, 1, 0);
    c.s[1] = 8; /* 72 phases: general path */
    run_conv("s9x8", c, 0);
  }
  run_conv("depthwise", conv2d(2, 16, 16, 16, 13, 17, 3, 1, 1, 1), 0);
  run_conv("depthwise-s2", conv2d(1, 8, 8, 8, 15, 15, 3, 2, 1, 1), 0);
  run_conv("depthwise-s3-k5", conv2d(1, 4, 4, 4, 19, 18, 5, 3, 1, 2), 0);
  run_conv("depthwise-mult2", conv2d(1, 5, 10, 5, 9, 11, 3, 1, 2, 1), 0);
  run_conv("depthwise-dilated", conv2d(1, 6, 6, 6, 20, 21, 3, 1, 3, 3), 0);
  run_conv("depthwise-nopad", conv2d(1, 5, 5, 5, 19, 35, 3, 1, 1, 0), 0);
  run_conv("depthwise-s2-nopad", conv2d(2, 3, 3, 3, 21, 37, 3, 2, 1, 0), 0);
  run_conv("depthwise-s2-wide", conv2d(1, 2, 4, 2, 9, 67, 3, 2, 1, 1), 0);
  run_conv("depthwise-k5", conv2d(1, 4, 4, 4, 14, 29, 5, 1, 1, 2), 0);
  run_conv("depthwise-k5-s2", conv2d(1, 3, 3, 3, 17, 33, 5, 2, 1, 2), 0);
  run_conv("depthwise-narrow", conv2d(1, 3, 3, 3, 5, 3, 3, 1, 1, 1), 0);
  run_conv("depthwise-s2-narrow", conv2d(1, 3, 3, 3, 7, 9, 3, 2, 1, 1), 0);
  run_conv("depthwise-s2-dilated", conv2d(1, 3, 3, 3, 17, 23, 3, 2, 2, 2), 0);
  run_conv("depthwise-s2-oddpad", conv2d(1, 2, 2, 2, 12, 18, 3, 2, 1, 1), 0);
  run_conv("depthwise-k7-s2", conv2d(1, 2, 2, 2, 23, 41, 7, 2, 1, 3), 0);
  {
    conv_case c = conv2d(1, 3, 5, 1, 9, 8, 3, 1, 1, 0);
    c.pb[0] = 2; c.pe[0] = 0; c.pb[1] = 0; c.pe[1] = 1; /* asymmetric pads */
    run_conv("asym-pads", c, 0);
  }
  for (int i = 0; i < 40; ++i) run_conv("random", random_conv((int32_t)rnd_int(1, 3), 0), 0);
  for (int i = 0; i < 12; ++i) {
    conv_case c = random_conv((int32_t)rnd_int(1, 2), 0);
    c.group = c.cin;
    c.cout = c.cin * rnd_int(1, 2);
    run_conv("random-depthwise", c, 0);
  }
  /* conv_transpose */
  run_conv("2x-upsample", conv2d(1, 8, 6, 1, 7, 9, 4, 2, 1, 1), 1);
  run_conv("3x3s1", conv2d(2, 5, 7, 1, 6, 5, 3, 1, 1, 1), 1);
  run_conv("grouped", conv2d(1, 6, 9, 3, 5, 6, 3, 2, 1, 0), 1);
  run_conv("row-chunks", conv2d(2, 3, 4, 1, 40, 41, 4, 2, 1, 1), 1);
  run_conv("wide-rows", conv2d(1, 2, 3, 1, 3, 401, 3, 2, 1, 1), 1);
  run_conv("chunks-s1-dilated", conv2d(1, 4, 2, 2, 33, 29, 3, 1, 2, 2), 1);
  {
    conv_case c = conv2d(1, 4, 3, 1, 5, 6, 3, 2, 2, 1);
    c.op[0] = 1; c.op[1] = 1;
    run_conv("output-padding", c, 1);
  }
  for (int i = 0; i < 30; ++i) run_conv("random", random_conv((int32_t)rnd_int(1, 3), 1), 1);
}

/* ---- gemm ---- */
static void run_gemm(int64_t m, int64_t n, int64_t k, int ta, int tb, int crank,
                     const int64_t *cdims, float alpha, float beta) {
  char what[200];
  int64_t ad[2] = {ta ? k : m, ta ? m : k}, bd[2] = {tb ? n : k, tb ? k : n}, yd[2] = {m, n};
  float *a = buf_new(m * k), *b = buf_new(k * n), *y = buf_new(m * n);
  int64_t cn = 1;
  for (int i = 0; i < crank; ++i) cn *= cdims[i];
  float *cbuf = buf_new(cn);
  graft_tensor ta_ = tensor(a, 2, ad), tb_ = tensor(b, 2, bd), ty = tensor(y, 2, yd),
               tc = tensor(cbuf, crank < 0 ? 0 : crank, cdims);
  attrs at;
  at.n = 0;
  attr_int(&at, GRAFT_ATTR_TRANS_A, ta);
  attr_int(&at, GRAFT_ATTR_TRANS_B, tb);
  attr_float(&at, GRAFT_ATTR_ALPHA, alpha);
  attr_float(&at, GRAFT_ATTR_BETA, beta);
  const act_choice act = random_act(&at);
  const graft_tensor *ins[3] = {&ta_, &tb_, crank >= 0 ? &tc : 0};
  double *want = (double *)calloc((size_t)(m * n) + 1, sizeof(double));
  double *mag = (double *)calloc((size_t)(m * n) + 1, sizeof(double));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0, sa = 0;
      for (int64_t q = 0; q < k; ++q) {
        const double t = (double)alpha * (ta ? a[q * m + i] : a[i * k + q]) * (tb ? b[j * k + q] : b[q * n + j]);
        sum += t;
        sa += fabs(t);
      }
      if (crank >= 0) {
        int64_t ci = 0;
        if (crank == 1) ci = cdims[0] == 1 ? 0 : j;
        if (crank == 2) ci = (cdims[0] == 1 ? 0 : i) * cdims[1] + (cdims[1] == 1 ? 0 : j);
        const double t = (double)beta * cbuf[ci];
        sum += t;
        sa += fabs(t);
      }
      want[i * n + j] = act_ref(act, sum);
      mag[i * n + j] = sa;
    }
  run_result r = run_kernel(graft_kernel_find("gemm_f32"), ins, crank >= 0 ? 3 : 2, &ty, &at);
  snprintf(what, sizeof what, "gemm m%lld n%lld k%lld tA%d tB%d C rank %d (%lld,%lld) a%.2g b%.2g act%d",
           (long long)m, (long long)n, (long long)k, ta, tb, crank,
           (long long)(crank >= 1 ? cdims[0] : 0), (long long)(crank == 2 ? cdims[1] : 0),
           (double)alpha, (double)beta, (int)act.kind);
  compare(what, y, want, mag, m * n, y, r);
  free(a); free(b); free(y); free(cbuf); free(want); free(mag);
}

static void test_gemm(void) {
  for (int i = 0; i < 60; ++i) {
    int64_t m = rnd_int(1, 40), n = rnd_int(1, 70), k = rnd_int(1, 90);
    if (i % 15 == 0) { m += 250; n += 100; k += 300; }
    if (i == 7) m = 1; /* batch-1 fully connected */
    const int ta = (int)rnd_int(0, 1), tb = (int)rnd_int(0, 1);
    const int kind = (int)rnd_int(0, 8);
    int64_t cd[2] = {1, 1};
    int crank = -1;
    switch (kind) {
    case 0: crank = -1; break;
    case 1: crank = 0; break;
    case 2: crank = 1; cd[0] = n; break;
    case 3: crank = 1; cd[0] = 1; break;
    case 4: crank = 2; cd[0] = 1; cd[1] = n; break;
    case 5: crank = 2; cd[0] = m; cd[1] = 1; break;
    case 6: crank = 2; cd[0] = m; cd[1] = n; break;
    case 7: crank = 2; cd[0] = 1; cd[1] = 1; break;
    default: crank = 2; cd[0] = m; cd[1] = n; break;
    }
    const float alpha = i % 3 == 0 ? 1.0f : 0.5f + 0.25f * rnd_float();
    const float beta = i % 4 == 0 ? 1.0f : (i % 4 == 1 ? 0.0f : 0.5f + 0.25f * rnd_float());
    run_gemm(m, n, k, ta, tb, crank, cd, alpha, beta);
  }
  /* Every C broadcast with beta == 1 (the epilogue-bias paths). */
  const int64_t m = 19, n = 53, k = 37;
  int64_t cds[6][2] = {{n, 0}, {1, 0}, {1, n}, {m, 1}, {m, n}, {1, 1}};
  int crs[6] = {1, 1, 2, 2, 2, 2};
  for (int i = 0; i < 6; ++i) run_gemm(m, n, k, 0, 1, crs[i], cds[i], 1.0f, 1.0f);
  run_gemm(m, n, k, 1, 0, 0, cds[0], 1.0f, 1.0f);
  run_gemm(5, 6, 0, 0, 0, 1, cds[1], 1.0f, 1.0f); /* K == 0 */
  /* Narrow tail panels (N mod 48 in 1..4): dot-product tail path, with K blocks. */
  int64_t c49[1] = {49};
  run_gemm(37, 49, 300, 0, 0, 1, c49, 1.0f, 1.0f);
  run_gemm(20, 196, 70, 0, 1, -1, cds[1], 0.5f, 0.0f);
  run_gemm(9, 3, 600, 0, 0, 2, cds[5], 1.25f, 0.5f);
  /* Matrix-vector path (M <= 2): classifier heads, both B layouts, chunk tails. */
  int64_t fc_bias[1] = {1000};
  run_gemm(1, 1000, 2048, 0, 1, 1, fc_bias, 1.0f, 1.0f);
  run_gemm(1, 1000, 517, 0, 0, 1, fc_bias, 1.0f, 1.0f);
  run_gemm(2, 130, 77, 1, 1, -1, cds[1], 0.5f, 0.0f);
  run_gemm(2, 129, 33, 0, 0, 2, cds[5], 1.5f, 1.0f);
  run_gemm(1, 3, 1, 1, 0, 2, cds[5], 1.0f, 0.25f);

  /* Inconsistent shapes. */
  float dummy[64];
  int64_t ad[2] = {3, 4}, bd[2] = {5, 6}, yd[2] = {3, 6}, cd[2] = {2, 6};
  graft_tensor a = tensor(dummy, 2, ad), b = tensor(dummy, 2, bd), y = tensor(dummy, 2, yd),
               c = tensor(dummy, 2, cd);
  attrs at;
  at.n = 0;
  const graft_tensor *ins[3] = {&a, &b, 0};
  run_result r = run_kernel(graft_kernel_find("gemm_f32"), ins, 2, &y, &at);
  expect_status("gemm: K mismatch rejected", r.check, GRAFT_E_SHAPE);
  bd[0] = 4;
  b = tensor(dummy, 2, bd);
  ins[2] = &c;
  r = run_kernel(graft_kernel_find("gemm_f32"), ins, 3, &y, &at);
  expect_status("gemm: C (2,6) not broadcastable to (3,6) rejected", r.check, GRAFT_E_SHAPE);
}

/* ---- matmul ---- */
static void run_matmul(int32_t ra, const int64_t *adims, int32_t rb, const int64_t *bdims, int bias) {
  char what[256];
  const int64_t m = ra >= 2 ? adims[ra - 2] : 1, k = adims[ra - 1];
  const int64_t n = rb >= 2 ? bdims[rb - 1] : 1;
  const int32_t abr = ra >= 2 ? ra - 2 : 0, bbr = rb >= 2 ? rb - 2 : 0, br = abr > bbr ? abr : bbr;
  int64_t batch[8], yd[8];
  int32_t yr = 0;
  int64_t nbatch = 1;
  for (int32_t i = 0; i < br; ++i) {
    const int32_t ia = i - (br - abr), ib = i - (br - bbr);
    const int64_t da = ia >= 0 ? adims[ia] : 1, db = ib >= 0 ? bdims[ib] : 1;
    batch[i] = da == 1 ? db : da;
    yd[yr++] = batch[i];
    nbatch *= batch[i];
  }
  if (ra >= 2) yd[yr++] = m;
  if (rb >= 2) yd[yr++] = n;
  int64_t na = 1, nb = 1;
  for (int32_t i = 0; i < ra; ++i) na *= adims[i];
  for (int32_t i = 0; i < rb; ++i) nb *= bdims[i];
  const int64_t ny = nbatch * m * n;
  float *a = buf_new(na), *b = buf_new(nb), *y = buf_new(ny), *bv = buf_new(n);
  int64_t biasd[1] = {n};
  graft_tensor tA = tensor(a, ra, adims), tB = tensor(b, rb, bdims), tY = tensor(y, yr, yd),
               tBias = tensor(bv, 1, biasd);
  attrs at;
  at.n = 0;
  const act_choice act = random_act(&at);
  const graft_tensor *ins[3] = {&tA, &tB, bias ? &tBias : 0};
  double *want = (double *)calloc((size_t)ny + 1, sizeof(double));
  double *mag = (double *)calloc((size_t)ny + 1, sizeof(double));
  for (int64_t t = 0; t < nbatch; ++t) {
    /* batch index -> offsets of A and B */
    int64_t rem = t, oa = 0, ob = 0, sa = m * k, sb = k * n;
    for (int32_t i = br - 1; i >= 0; --i) {
      const int64_t idx = rem % batch[i];
      rem /= batch[i];
      const int32_t ia = i - (br - abr), ib = i - (br - bbr);
      const int64_t da = ia >= 0 ? adims[ia] : 1, db = ib >= 0 ? bdims[ib] : 1;
      if (da != 1) oa += idx * sa;
      if (db != 1) ob += idx * sb;
      sa *= da;
      sb *= db;
    }
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = bias ? bv[j] : 0.0, s = bias ? fabs(bv[j]) : 0.0;
        for (int64_t q = 0; q < k; ++q) {
          const double v = (double)a[oa + i * k + q] * b[ob + q * n + j];
          sum += v;
          s += fabs(v);
        }
        want[(t * m + i) * n + j] = act_ref(act, sum);
        mag[(t * m + i) * n + j] = s;
      }
  }
  run_result r = run_kernel(graft_kernel_find("matmul_f32"), ins, bias ? 3 : 2, &tY, &at);
  int len = snprintf(what, sizeof what, "matmul A(");
  for (int32_t i = 0; i < ra; ++i) len += snprintf(what + len, sizeof what - (size_t)len, "%lld,", (long long)adims[i]);
  len += snprintf(what + len, sizeof what - (size_t)len, ") B(");
  for (int32_t i = 0; i < rb; ++i) len += snprintf(what + len, sizeof what - (size_t)len, "%lld,", (long long)bdims[i]);
  snprintf(what + len, sizeof what - (size_t)len, ") bias%d act%d", bias, (int)act.kind);
  compare(what, y, want, mag, ny, y, r);
  free(a); free(b); free(y); free(bv); free(want); free(mag);
}

static void test_matmul(void) {
  for (int i = 0; i < 50; ++i) {
    const int64_t m = rnd_int(1, 30), n = rnd_int(1, 60), k = rnd_int(1, 70);
    int32_t ra = (int32_t)rnd_int(1, 4), rb = (int32_t)rnd_int(1, 4);
    int64_t ad[4], bd[4];
    /* batch dims: random 1s for broadcasting */
    for (int32_t j = 0; j < 4; ++j) {
      const int64_t d = rnd_int(2, 3);
      ad[j] = rnd_int(0, 2) == 0 ? 1 : d;
      bd[j] = rnd_int(0, 2) == 0 ? 1 : d;
    }
    int64_t A[4], B[4];
    for (int32_t j = 0; j < ra - 2; ++j) A[j] = ad[4 - (ra - 2) + j];
    for (int32_t j = 0; j < rb - 2; ++j) B[j] = bd[4 - (rb - 2) + j];
    if (ra >= 2) { A[ra - 2] = m; A[ra - 1] = k; } else { A[0] = k; }
    if (rb >= 2) { B[rb - 2] = k; B[rb - 1] = n; } else { B[0] = k; }
    run_matmul(ra, A, rb, B, (int)rnd_int(0, 1));
  }
  /* Folded batches (B shared), transformer-like, and a big one across blocks. */
  int64_t a1[3] = {4, 33, 70}, b1[2] = {70, 45};
  run_matmul(3, a1, 2, b1, 1);
  int64_t a2[4] = {2, 3, 17, 29}, b2[4] = {1, 1, 29, 31};
  run_matmul(4, a2, 4, b2, 0);
  int64_t a3[2] = {300, 520}, b3[2] = {520, 130};
  run_matmul(2, a3, 2, b3, 1);
  int64_t a4[1] = {37}, b4[3] = {3, 37, 5};
  run_matmul(1, a4, 3, b4, 0);
  int64_t a5[3] = {3, 4, 37}, b5[1] = {37};
  run_matmul(3, a5, 1, b5, 1);
  int64_t a6[1] = {64}, b6[1] = {64};
  run_matmul(1, a6, 1, b6, 0);

  float dummy[64];
  int64_t ad[3] = {2, 3, 4}, bd[3] = {3, 4, 5}, yd[3] = {2, 3, 5};
  graft_tensor a = tensor(dummy, 3, ad), b = tensor(dummy, 3, bd), y = tensor(dummy, 3, yd);
  attrs at;
  at.n = 0;
  const graft_tensor *ins[2] = {&a, &b};
  run_result r = run_kernel(graft_kernel_find("matmul_f32"), ins, 2, &y, &at);
  expect_status("matmul: batch 2 vs 3 rejected", r.check, GRAFT_E_SHAPE);
}

/* The instruction-set path under test is the one the build and GRAFT_CPU promise: NEON on
   every NEON build unless GRAFT_CPU=generic, the portable path whenever GRAFT_CPU=generic. */
static void test_cpu_level(void) {
  const char *cap = getenv("GRAFT_CPU");
  const int generic = cap && strcmp(cap, "generic") == 0;
  const graft_cpu_level lvl = graft_cpu_level_get();
  static const char *const names[] = {"generic", "avx2", "avx512", "neon"};
  printf("cpu level: %s\n", (unsigned)lvl < 4 ? names[lvl] : "?");
  int want_ok = 1;
  if (generic) want_ok = lvl == GRAFT_CPU_GENERIC;
#if defined(__ARM_NEON) || defined(__ARM_NEON__)
  else want_ok = lvl == GRAFT_CPU_NEON;
#endif
  if (want_ok) ++passed;
  else {
    ++failed;
    printf("FAIL cpu level %d not the one this build and GRAFT_CPU select\n", (int)lvl);
  }
}

int main(void) {
  test_cpu_level();
  test_conv();
  test_gemm();
  test_matmul();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
