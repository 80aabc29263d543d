/* Robustness of every kernel's check/scratch/eval against arbitrary (untrusted) shapes,
   dtypes and attributes, as an archive may carry them. For many random calls per kernel:
   check must return a status (never crash); when it accepts, eval runs on buffers allocated at
   exactly the view sizes with exactly `scratch` bytes of scratch, and must return a status
   without touching anything else — build with AddressSanitizer (run_kernel_tests.sh asan) to
   catch any out-of-bounds access. Kernels owned elsewhere (conv/gemm/matmul) are skipped.
   Deterministic (fixed seed). Prints "N passed, N failed" last. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graft_kernels.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}
static int64_t rint_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint32_t)(hi - lo + 1)); }

static const int32_t dtypes[] = {GRAFT_DTYPE_FLOAT32, GRAFT_DTYPE_FLOAT32, GRAFT_DTYPE_FLOAT32, GRAFT_DTYPE_INT64,
                                 GRAFT_DTYPE_INT32, GRAFT_DTYPE_BOOL, GRAFT_DTYPE_FLOAT16, GRAFT_DTYPE_UINT8,
                                 GRAFT_DTYPE_FLOAT64, GRAFT_DTYPE_BFLOAT16, 0, 99};

#define MAXT 8
#define MAXA 16

static void random_tensor(graft_tensor *t, const graft_tensor *like) {
  memset(t, 0, sizeof *t);
  if (like && rnd() % 3 != 0) {
    *t = *like;
    /* perturb a little: one dim or the dtype */
    if (rnd() % 4 == 0 && t->rank > 0 && t->rank <= GRAFT_MAX_RANK) t->dims[rnd() % (uint32_t)t->rank] = rint_in(0, 5);
    if (rnd() % 6 == 0) t->dtype = dtypes[rnd() % (sizeof dtypes / sizeof dtypes[0])];
    if (rnd() % 8 == 0 && t->rank > 0) t->rank -= 1;
    return;
  }
  t->dtype = dtypes[rnd() % (sizeof dtypes / sizeof dtypes[0])];
  t->rank = (int32_t)rint_in(0, 5);
  if (rnd() % 50 == 0) t->rank = (int32_t)rint_in(-2, 12);
  for (int32_t i = 0; i < t->rank && i < GRAFT_MAX_RANK; ++i) {
    t->dims[i] = rint_in(0, 5);
    if (rnd() % 60 == 0) t->dims[i] = rnd() % 2 ? -1 : ((int64_t)1 << 40) + 5;
  }
}

static const int32_t attr_keys[] = {GRAFT_ATTR_AXIS, GRAFT_ATTR_AXES, GRAFT_ATTR_KERNEL_SHAPE, GRAFT_ATTR_STRIDES,
  GRAFT_ATTR_PADS, GRAFT_ATTR_DILATIONS, GRAFT_ATTR_PERM, GRAFT_ATTR_KEEPDIMS, GRAFT_ATTR_CEIL_MODE,
  GRAFT_ATTR_COUNT_INCLUDE_PAD, GRAFT_ATTR_SIZE, GRAFT_ATTR_MODE, GRAFT_ATTR_COORD_MODE, GRAFT_ATTR_NEAREST_MODE,
  GRAFT_ATTR_TO, GRAFT_ATTR_STARTS, GRAFT_ATTR_ENDS, GRAFT_ATTR_STEPS, GRAFT_ATTR_SPLIT, GRAFT_ATTR_VALUE,
  GRAFT_ATTR_HIDDEN_SIZE, GRAFT_ATTR_DIRECTION, GRAFT_ATTR_ACTIVATIONS, GRAFT_ATTR_SCALES, GRAFT_ATTR_ACT,
  GRAFT_ATTR_ACT_ALPHA, GRAFT_ATTR_REPEATS, GRAFT_ATTR_BLOCK_SIZE, GRAFT_ATTR_EPSILON, GRAFT_ATTR_P,
  GRAFT_ATTR_NOOP_WITH_EMPTY_AXES, GRAFT_ATTR_SELECT_LAST_INDEX, GRAFT_ATTR_LINEAR_BEFORE_RESET, GRAFT_ATTR_CLIP,
  GRAFT_ATTR_EXCLUDE_OUTSIDE, GRAFT_ATTR_ALPHA, GRAFT_ATTR_BETA, GRAFT_ATTR_LAYOUT, GRAFT_ATTR_INPUT_FORGET};

static int64_t ibuf[MAXA][8];
static float fbuf[MAXA][8];

static void random_attr(graft_attr *a, int k) {
  a->key = attr_keys[rnd() % (sizeof attr_keys / sizeof attr_keys[0])];
  a->count = (int32_t)rint_in(1, 8);
  a->ints = 0;
  a->floats = 0;
  if (rnd() % 3 == 0) {
    a->type = a->count == 1 && rnd() % 2 ? GRAFT_ATTR_T_FLOAT : GRAFT_ATTR_T_FLOATS;
    for (int i = 0; i < 8; ++i) fbuf[k][i] = (float)rint_in(-4, 8) * 0.5f;
    a->floats = fbuf[k];
  } else {
    a->type = a->count == 1 && rnd() % 2 ? GRAFT_ATTR_T_INT : GRAFT_ATTR_T_INTS;
    for (int i = 0; i < 8; ++i) {
      ibuf[k][i] = rint_in(-3, 8);
      if (rnd() % 40 == 0) ibuf[k][i] = rnd() % 2 ? INT64_MIN : INT64_MAX;
    }
    a->ints = ibuf[k];
  }
  if (a->type == GRAFT_ATTR_T_INT || a->type == GRAFT_ATTR_T_FLOAT) a->count = 1;
}

static size_t nbytes(const graft_tensor *t) {
  int64_t n = graft_tensor_count(t);
  size_t es = graft_dtype_size(t->dtype);
  return (size_t)n * (es ? es : 1);
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 3000;
  int failed = 0, passed = 0;
  for (uint32_t id = 1; id < GRAFT_KERNEL_ID_END; ++id) {
    const graft_kernel *k = graft_kernel_get(id);
    if (!k || id <= 4) continue; /* conv/gemm/matmul belong to another test suite */
    int accepted = 0, evaluated = 0;
    for (int it = 0; it < iters; ++it) {
      graft_tensor tin[MAXT], tout[MAXT];
      graft_tensor *pin[MAXT], *pout[MAXT];
      graft_attr attrs[MAXA];
      int32_t nin = (int32_t)rint_in(k->min_inputs, k->max_inputs < MAXT ? k->max_inputs : MAXT);
      int32_t nout = (int32_t)rint_in(k->min_outputs, k->max_outputs < MAXT ? k->max_outputs : MAXT);
      for (int32_t i = 0; i < nin; ++i) {
        random_tensor(&tin[i], i > 0 ? &tin[0] : 0);
        pin[i] = (i >= 3 && rnd() % 3 == 0) ? 0 : &tin[i];
      }
      for (int32_t i = 0; i < nout; ++i) {
        random_tensor(&tout[i], nin > 0 ? &tin[0] : 0);
        pout[i] = (nout > 1 && rnd() % 4 == 0) ? 0 : &tout[i];
      }
      int32_t na = (int32_t)rint_in(0, 5);
      for (int32_t a = 0; a < na; ++a) random_attr(&attrs[a], a);
      graft_call call;
      memset(&call, 0, sizeof call);
      call.inputs = (const graft_tensor *const *)pin;
      call.outputs = pout;
      call.n_inputs = nin;
      call.n_outputs = nout;
      call.attrs = attrs;
      call.n_attrs = na;
      graft_status st = k->check(&call);
      if (st != GRAFT_OK) continue;
      ++accepted;
      size_t sb = k->scratch ? k->scratch(&call) : 0;
      if (sb > ((size_t)1 << 28)) { printf("FAIL %s: scratch %zu bytes for tiny shapes\n", k->name, sb); ++failed; continue; }
      /* buffers at exact sizes, random bytes (floats become arbitrary values, indices too) */
      void *bufs[2 * MAXT + 1];
      int nb = 0, too_big = 0;
      for (int32_t i = 0; i < nin; ++i)
        if (pin[i] && nbytes(pin[i]) > ((size_t)1 << 26)) too_big = 1;
      for (int32_t i = 0; i < nout; ++i)
        if (pout[i] && nbytes(pout[i]) > ((size_t)1 << 26)) too_big = 1;
      if (too_big) continue;
      for (int32_t i = 0; i < nin; ++i)
        if (pin[i]) {
          size_t n = nbytes(pin[i]);
          unsigned char *b = (unsigned char *)malloc(n ? n : 1);
          for (size_t j = 0; j < n; ++j) b[j] = (unsigned char)(rnd() % 4 == 0 ? rnd() : (j % 4 == 3 ? 0x3f : 0));
          pin[i]->data = b;
          bufs[nb++] = b;
        }
      for (int32_t i = 0; i < nout; ++i)
        if (pout[i]) {
          size_t n = nbytes(pout[i]);
          pout[i]->data = malloc(n ? n : 1);
          bufs[nb++] = pout[i]->data;
        }
      call.scratch = sb ? malloc(sb) : 0;
      call.scratch_bytes = sb;
      st = k->eval(&call);
      ++evaluated;
      if (st != GRAFT_OK && st != GRAFT_E_NUMERIC) {
        printf("FAIL %s: check accepted but eval returned %d\n", k->name, (int)st);
        ++failed;
      }
      free(call.scratch);
      for (int i = 0; i < nb; ++i) free(bufs[i]);
    }
    ++passed;
    if (argc > 2) printf("%s: %d of %d calls accepted, %d evaluated\n", k->name, accepted, iters, evaluated);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
