/* In-place and aliasing contracts of the reference kernels:
   - copy_any with output data == input data is a no-op (Reshape/Squeeze/... alias);
   - act_f32 and the unary math kernels may run in place (y == x) and give the same numbers as
     out of place;
   - cast_any between equal dtypes and reduce with noop_with_empty_axes may alias;
   - graft_act_apply_f32 (the fused-activation hook) equals act_f32 out of place.
   Expected numbers come from the out-of-place runs, which test_kernels_vectors checks against
   onnxruntime; this test only checks that aliasing does not change them. */
#include <stdio.h>
#include <string.h>
#include "graft_kernels.h"
#include "../kernels/reference/act.h" /* graft_act_apply_f32, the fused-activation hook */

static int passed, failed;
static void expect(int ok, const char *what) {
  if (ok) ++passed;
  else { ++failed; printf("FAIL %s\n", what); }
}

static graft_tensor view(void *data, int32_t dtype, int32_t rank, const int64_t *dims) {
  graft_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = dtype;
  t.rank = rank;
  for (int32_t i = 0; i < rank; ++i) t.dims[i] = dims[i];
  return t;
}

static graft_status run(const char *name, graft_tensor *in, graft_tensor *out, const graft_attr *attrs, int32_t na) {
  const graft_kernel *k = graft_kernel_find(name);
  if (!k) return GRAFT_E_KERNEL;
  const graft_tensor *ins[1] = {in};
  graft_tensor *outs[1] = {out};
  graft_call c;
  memset(&c, 0, sizeof c);
  c.inputs = ins;
  c.outputs = outs;
  c.n_inputs = 1;
  c.n_outputs = 1;
  c.attrs = attrs;
  c.n_attrs = na;
  graft_status st = k->check(&c);
  if (st != GRAFT_OK) return st;
  if (k->scratch && k->scratch(&c) != 0) return GRAFT_E_ARG; /* these never need scratch */
  return k->eval(&c);
}

int main(void) {
  enum { N = 1003 };
  static float x[N], y[N], z[N];
  int64_t dims[1] = {N}, dims2[2] = {17, 59};
  for (int i = 0; i < N; ++i) x[i] = (float)((i * 37) % 211) / 17.0f - 6.0f;

  /* copy: aliasing is a no-op, distinct buffers copy */
  memcpy(y, x, sizeof x);
  graft_tensor a = view(y, GRAFT_DTYPE_FLOAT32, 1, dims), b = view(y, GRAFT_DTYPE_FLOAT32, 2, dims2);
  expect(run("copy_any", &a, &b, 0, 0) == GRAFT_OK && memcmp(x, y, sizeof x) == 0, "copy_any aliased is a no-op");
  graft_tensor c2 = view(z, GRAFT_DTYPE_FLOAT32, 2, dims2);
  expect(run("copy_any", &a, &c2, 0, 0) == GRAFT_OK && memcmp(z, x, sizeof x) == 0, "copy_any copies");

  /* every activation: in place equals out of place, and equals graft_act_apply_f32 */
  for (int64_t kind = 0; kind <= GRAFT_ACT_AFFINE; ++kind) {
    int64_t kv = kind;
    float al = 0.3f, be = 0.7f;
    graft_attr attrs[3] = {{GRAFT_ATTR_ACT, GRAFT_ATTR_T_INT, 1, &kv, 0},
                           {GRAFT_ATTR_ACT_ALPHA, GRAFT_ATTR_T_FLOAT, 1, 0, &al},
                           {GRAFT_ATTR_ACT_BETA, GRAFT_ATTR_T_FLOAT, 1, 0, &be}};
    graft_tensor xin = view(x, GRAFT_DTYPE_FLOAT32, 1, dims), zout = view(z, GRAFT_DTYPE_FLOAT32, 1, dims);
    memcpy(y, x, sizeof x);
    graft_tensor yio = view(y, GRAFT_DTYPE_FLOAT32, 1, dims);
    int ok = run("act_f32", &xin, &zout, attrs, 3) == GRAFT_OK && run("act_f32", &yio, &yio, attrs, 3) == GRAFT_OK &&
             memcmp(y, z, sizeof z) == 0;
    memcpy(y, x, sizeof x);
    graft_act_params p = {(int32_t)kind, al, be};
    graft_act_apply_f32(y, N, p);
    ok = ok && memcmp(y, z, sizeof z) == 0;
    char what[64];
    snprintf(what, sizeof what, "act kind %d in place", (int)kind);
    expect(ok, what);
  }

  /* unary math in place */
  const char *unary[] = {"exp_f32", "neg_f32", "abs_f32", "floor_f32", "round_f32", "sin_f32", "sign_f32", "erf_f32"};
  for (size_t u = 0; u < sizeof unary / sizeof unary[0]; ++u) {
    graft_tensor xin = view(x, GRAFT_DTYPE_FLOAT32, 1, dims), zout = view(z, GRAFT_DTYPE_FLOAT32, 1, dims);
    memcpy(y, x, sizeof x);
    graft_tensor yio = view(y, GRAFT_DTYPE_FLOAT32, 1, dims);
    expect(run(unary[u], &xin, &zout, 0, 0) == GRAFT_OK && run(unary[u], &yio, &yio, 0, 0) == GRAFT_OK &&
               memcmp(y, z, sizeof z) == 0, unary[u]);
  }

  /* cast to the same dtype, aliased */
  memcpy(y, x, sizeof x);
  graft_tensor yio = view(y, GRAFT_DTYPE_FLOAT32, 1, dims);
  expect(run("cast_any", &yio, &yio, 0, 0) == GRAFT_OK && memcmp(x, y, sizeof x) == 0, "cast_any same dtype aliased");

  /* reduce noop aliased */
  int64_t one = 1;
  graft_attr noop = {GRAFT_ATTR_NOOP_WITH_EMPTY_AXES, GRAFT_ATTR_T_INT, 1, &one, 0};
  expect(run("reduce_sum_f32", &yio, &yio, &noop, 1) == GRAFT_OK && memcmp(x, y, sizeof x) == 0, "reduce noop aliased");

  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
