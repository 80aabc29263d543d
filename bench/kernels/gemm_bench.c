/* Micro-benchmark of the fp32 contraction kernels (single thread): sgemm through gemm_f32 at
   M=N=K=512 and 1024, and ResNet-50 / MobileNet-like convolutions through conv_f32.
   Prints GFLOP/s (2*MACs per second, best of a few short timed rounds) and the share of the
   fp32 peak of one core, 270 GFLOP/s for this Zen 5 (2 x 512-bit FMA per cycle); pass another
   peak as argv[1]. The onnxruntime peer is measured by ort_conv_bench.py on the same shapes.
   Runs for a few seconds in all.

   Build (from the repository root, after `make -C runtime`):
     cc -O2 -std=c99 -D_POSIX_C_SOURCE=200809L -Iruntime/include bench/kernels/gemm_bench.c \
        runtime/build/host/libgraft.a -lz -lm -o /tmp/gemm_bench
   GRAFT_CPU=avx2 or GRAFT_CPU=generic selects the other instruction-set paths.
   GRAFT_BENCH_ONLY=text runs only the cases whose name contains `text` (ort_conv_bench.py
   honours the same variable). Cross builds (aarch64, armv7) run under QEMU for a path check;
   their times are not hardware numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "graft_kernels.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time of this thread: robust on a shared machine */
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *filled(int64_t n) {
  float *p = (float *)malloc((size_t)n * sizeof(float));
  for (int64_t i = 0; i < n; ++i) p[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
  return p;
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

/* Times `k` on `c` (scratch allocated here): best seconds per call over ~0.4 s. */
static double time_call(const graft_kernel *k, graft_call *c) {
  if (k->check(c) != GRAFT_OK) {
    fprintf(stderr, "%s: check failed\n", k->name);
    exit(1);
  }
  c->scratch_bytes = k->scratch ? k->scratch(c) : 0;
  void *mem = 0;
  if (posix_memalign(&mem, GRAFT_ALIGN, c->scratch_bytes + GRAFT_ALIGN) != 0) exit(1);
  c->scratch = mem;
  k->eval(c); /* warm up */
  double best = 1e30, start = now();
  int rounds = 0;
  while (rounds < 3 || (now() - start < 0.4 && rounds < 200)) {
    const double t0 = now();
    if (k->eval(c) != GRAFT_OK) exit(1);
    const double t = now() - t0;
    if (t < best) best = t;
    ++rounds;
  }
  free(mem);
  return best;
}

static double peak = 270.0;

static int selected(const char *what) {
  const char *only = getenv("GRAFT_BENCH_ONLY");
  return !only || strstr(what, only) != 0;
}

static void report(const char *what, double flops, double secs, size_t scratch) {
  const double gf = flops / secs * 1e-9;
  printf("%-44s %8.3f ms %7.1f GFLOP/s %5.1f %% of peak  scratch %zu KiB\n", what, secs * 1e3, gf,
         100.0 * gf / peak, scratch / 1024);
}

static void bench_gemm(int64_t n) {
  if (!selected("sgemm")) return;
  int64_t d[2] = {n, n};
  float *a = filled(n * n), *b = filled(n * n), *y = filled(n * n);
  graft_tensor ta = tensor(a, 2, d), tb = tensor(b, 2, d), ty = tensor(y, 2, d);
  const graft_tensor *ins[2] = {&ta, &tb};
  graft_tensor *outs[1] = {&ty};
  graft_call c;
  memset(&c, 0, sizeof c);
  c.inputs = ins;
  c.n_inputs = 2;
  c.outputs = outs;
  c.n_outputs = 1;
  const double t = time_call(graft_kernel_find("gemm_f32"), &c);
  char what[64];
  snprintf(what, sizeof what, "sgemm M=N=K=%lld", (long long)n);
  report(what, 2.0 * (double)(n * n * n), t, c.scratch_bytes);
  free(a); free(b); free(y);
}

/* Batch-1 fully connected layer: Gemm (1 x K) * (N x K)^T + bias, bound by reading W. */
static void bench_fc(int64_t k, int64_t n) {
  if (!selected("fc ")) return;
  int64_t ad[2] = {1, k}, bd[2] = {n, k}, cd[1] = {n}, yd[2] = {1, n};
  float *a = filled(k), *b = filled(n * k), *cb = filled(n), *y = filled(n);
  graft_tensor ta = tensor(a, 2, ad), tb = tensor(b, 2, bd), tc = tensor(cb, 1, cd), ty = tensor(y, 2, yd);
  const graft_tensor *ins[3] = {&ta, &tb, &tc};
  graft_tensor *outs[1] = {&ty};
  int64_t one = 1;
  graft_attr at[1] = {{GRAFT_ATTR_TRANS_B, GRAFT_ATTR_T_INT, 1, &one, 0}};
  graft_call c;
  memset(&c, 0, sizeof c);
  c.inputs = ins;
  c.n_inputs = 3;
  c.outputs = outs;
  c.n_outputs = 1;
  c.attrs = at;
  c.n_attrs = 1;
  const double t = time_call(graft_kernel_find("gemm_f32"), &c);
  char what[64];
  snprintf(what, sizeof what, "fc %lld->%lld batch 1 (W %.1f GB/s)", (long long)k, (long long)n,
           (double)(n * k * 4) / t * 1e-9);
  report(what, 2.0 * (double)(n * k), t, c.scratch_bytes);
  free(a); free(b); free(cb); free(y);
}

static void bench_conv(const char *what, int64_t cin, int64_t cout, int64_t group, int64_t hw,
                       int64_t k, int64_t s, int64_t p, int relu) {
  if (!selected(what)) return;
  const int64_t ohw = (hw + 2 * p - k) / s + 1;
  int64_t xd[4] = {1, cin, hw, hw}, wd[4] = {cout, cin / group, k, k}, bd[1] = {cout},
          yd[4] = {1, cout, ohw, ohw};
  float *x = filled(cin * hw * hw), *w = filled(cout * (cin / group) * k * k), *b = filled(cout),
        *y = filled(cout * ohw * ohw);
  graft_tensor tx = tensor(x, 4, xd), tw = tensor(w, 4, wd), tb = tensor(b, 1, bd), ty = tensor(y, 4, yd);
  const graft_tensor *ins[3] = {&tx, &tw, &tb};
  graft_tensor *outs[1] = {&ty};
  int64_t ks[2] = {k, k}, st[2] = {s, s}, pads[4] = {p, p, p, p}, grp = group, act = GRAFT_ACT_RELU;
  graft_attr at[5] = {
      {GRAFT_ATTR_KERNEL_SHAPE, GRAFT_ATTR_T_INTS, 2, ks, 0},
      {GRAFT_ATTR_STRIDES, GRAFT_ATTR_T_INTS, 2, st, 0},
      {GRAFT_ATTR_PADS, GRAFT_ATTR_T_INTS, 4, pads, 0},
      {GRAFT_ATTR_GROUP, GRAFT_ATTR_T_INT, 1, &grp, 0},
      {GRAFT_ATTR_ACT, GRAFT_ATTR_T_INT, 1, &act, 0},
  };
  graft_call c;
  memset(&c, 0, sizeof c);
  c.inputs = ins;
  c.n_inputs = 3;
  c.outputs = outs;
  c.n_outputs = 1;
  c.attrs = at;
  c.n_attrs = relu ? 5 : 4;
  const double t = time_call(graft_kernel_find("conv_f32"), &c);
  const double macs = (double)cout * (double)(ohw * ohw) * (double)(cin / group) * (double)(k * k);
  report(what, 2.0 * macs, t, c.scratch_bytes);
  free(x); free(w); free(b); free(y);
}

/* ConvTranspose (decoder upsampling): weights (cin, cout, k, k). */
static void bench_convt(const char *what, int64_t cin, int64_t cout, int64_t hw, int64_t k,
                        int64_t s, int64_t p) {
  if (!selected(what)) return;
  const int64_t ohw = (hw - 1) * s + k - 2 * p;
  int64_t xd[4] = {1, cin, hw, hw}, wd[4] = {cin, cout, k, k}, bd[1] = {cout},
          yd[4] = {1, cout, ohw, ohw};
  float *x = filled(cin * hw * hw), *w = filled(cin * cout * k * k), *b = filled(cout),
        *y = filled(cout * ohw * ohw);
  graft_tensor tx = tensor(x, 4, xd), tw = tensor(w, 4, wd), tb = tensor(b, 1, bd), ty = tensor(y, 4, yd);
  const graft_tensor *ins[3] = {&tx, &tw, &tb};
  graft_tensor *outs[1] = {&ty};
  int64_t ks[2] = {k, k}, st[2] = {s, s}, pads[4] = {p, p, p, p};
  graft_attr at[3] = {
      {GRAFT_ATTR_KERNEL_SHAPE, GRAFT_ATTR_T_INTS, 2, ks, 0},
      {GRAFT_ATTR_STRIDES, GRAFT_ATTR_T_INTS, 2, st, 0},
      {GRAFT_ATTR_PADS, GRAFT_ATTR_T_INTS, 4, pads, 0},
  };
  graft_call c;
  memset(&c, 0, sizeof c);
  c.inputs = ins;
  c.n_inputs = 3;
  c.outputs = outs;
  c.n_outputs = 1;
  c.attrs = at;
  c.n_attrs = 3;
  const double t = time_call(graft_kernel_find("conv_transpose_f32"), &c);
  const double macs = (double)cin * (double)cout * (double)(hw * hw) * (double)(k * k);
  report(what, 2.0 * macs, t, c.scratch_bytes);
  free(x); free(w); free(b); free(y);
}

int main(int argc, char **argv) {
  if (argc > 1) peak = atof(argv[1]);
  const char *cpu = getenv("GRAFT_CPU");
  printf("graft kernels, 1 thread, GRAFT_CPU=%s, peak %.0f GFLOP/s\n", cpu ? cpu : "(auto)", peak);
  bench_gemm(512);
  bench_gemm(1024);
  bench_conv("conv 3x3 64->64 56x56 +bias+relu", 64, 64, 1, 56, 3, 1, 1, 1);
  bench_conv("conv 1x1 256->64 56x56 +bias+relu", 256, 64, 1, 56, 1, 1, 0, 1);
  bench_conv("conv 1x1 64->256 56x56 +bias", 64, 256, 1, 56, 1, 1, 0, 0);
  bench_conv("conv 3x3 128->128 28x28 +bias+relu", 128, 128, 1, 28, 3, 1, 1, 1);
  bench_conv("conv 3x3 256->256 14x14 +bias+relu", 256, 256, 1, 14, 3, 1, 1, 1);
  bench_conv("conv 3x3 512->512 7x7 +bias+relu", 512, 512, 1, 7, 3, 1, 1, 1);
  bench_conv("conv 7x7/2 3->64 224x224 +bias+relu", 3, 64, 1, 224, 7, 2, 3, 1);
  bench_conv("conv 1x1/2 512->1024 28x28 +bias", 512, 1024, 1, 28, 1, 2, 0, 0);
  bench_fc(2048, 1000);
  bench_conv("depthwise 3x3 32ch 112x112 +bias+relu", 32, 32, 32, 112, 3, 1, 1, 1);
  bench_conv("depthwise 3x3/2 96ch 112x112 +bias+relu", 96, 96, 96, 112, 3, 2, 1, 1);
  bench_conv("depthwise 3x3 256ch 14x14 +bias+relu", 256, 256, 256, 14, 3, 1, 1, 1);
  bench_conv("depthwise 5x5 120ch 40x40 +bias+relu", 120, 120, 120, 40, 5, 1, 2, 1);
  bench_conv("depthwise 5x5/2 72ch 80x80 +bias+relu", 72, 72, 72, 80, 5, 2, 2, 1);
  bench_convt("convT 4x4/2 256->128 16x16 +bias", 256, 128, 16, 4, 2, 1);
  bench_convt("convT 2x2/2 64->32 80x80 +bias", 64, 32, 80, 2, 2, 0);
  return 0;
}
