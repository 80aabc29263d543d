/* Runs every case of a kernel test-vector file (written by gen_kernel_vectors.py from
   onnxruntime/numpy references) through the reference kernels: check, scratch, eval, compare.
   Usage: test_kernels_vectors [FILE [MUTANTS]]: FILE defaults to both vectors/kernels.bin
   (onnxruntime references) and vectors/onnx_nodes.bin (ONNX's node tests, written by
   gen_onnx_node_vectors.py); MUTANTS per case defaults to 30. Prints one line per failure and
   "N passed, N failed" last; exit status 1 on any failure.
   Buffers are malloc'd at their exact sizes so that AddressSanitizer builds catch any
   out-of-bounds access by a kernel (including its scratch). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graft_kernels.h"

#define MAX_ATTRS 32
#define MAX_TENSORS 64

typedef struct reader { const unsigned char *p, *end; int bad; } reader;

static void rd(reader *r, void *dst, size_t n) {
  if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; memset(dst, 0, n); return; }
  memcpy(dst, r->p, n);
  r->p += n;
}
static int32_t rd_i32(reader *r) { int32_t v; rd(r, &v, 4); return v; }
static uint64_t rd_u64(reader *r) { uint64_t v; rd(r, &v, 8); return v; }
static float rd_f32(reader *r) { float v; rd(r, &v, 4); return v; }
static char *rd_str(reader *r) {
  int32_t n = rd_i32(r);
  if (r->bad || n < 0 || n > 4096) { r->bad = 1; return 0; }
  char *s = (char *)calloc((size_t)n + 1, 1);
  rd(r, s, (size_t)n);
  return s;
}

/* One tensor record: present, dtype, rank, dims, nbytes, bytes. */
static graft_tensor *rd_tensor(reader *r, void **bytes, size_t *nbytes) {
  int32_t present = rd_i32(r);
  *bytes = 0;
  *nbytes = 0;
  if (!present) return 0;
  graft_tensor *t = (graft_tensor *)calloc(1, sizeof *t);
  t->dtype = rd_i32(r);
  t->rank = rd_i32(r);
  if (t->rank < 0 || t->rank > GRAFT_MAX_RANK) { r->bad = 1; return t; }
  for (int32_t i = 0; i < t->rank; ++i) t->dims[i] = (int64_t)rd_u64(r);
  *nbytes = (size_t)rd_u64(r);
  if (r->bad || *nbytes > (size_t)(r->end - r->p)) { r->bad = 1; return t; }
  *bytes = malloc(*nbytes ? *nbytes : 1);
  rd(r, *bytes, *nbytes);
  return t;
}

static double as_double(const void *p, int32_t dt, int64_t i) {
  switch (dt) {
  case GRAFT_DTYPE_FLOAT32: return ((const float *)p)[i];
  case GRAFT_DTYPE_FLOAT64: return ((const double *)p)[i];
  default: return 0;
  }
}

/* ---- Mutation phase: shapes, dtypes and attributes of a valid case perturbed at random, as a
   corrupt archive could carry them. check must answer; when it accepts, eval runs on buffers of
   exactly the view sizes (and exact scratch) and must return OK or E_NUMERIC. Under ASan any
   out-of-bounds access aborts the test. */
static uint64_t mrng = 0x2545F4914F6CDD1Dull;
static uint32_t mr(void) { mrng ^= mrng << 13; mrng ^= mrng >> 7; mrng ^= mrng << 17; return (uint32_t)(mrng >> 11); }

static size_t view_bytes(const graft_tensor *t) {
  int64_t n = graft_tensor_count(t);
  size_t es = graft_dtype_size(t->dtype);
  if (n < 0 || n > ((int64_t)1 << 24)) return (size_t)-1;
  return (size_t)n * (es ? es : 1);
}

static const int32_t mut_dtypes[] = {1, 1, 2, 3, 6, 7, 9, 10, 11, 16, 0, 77};

/* Returns the number of failures (eval accepted by check but failing). */
static int mutate_case(const char *name, const graft_kernel *k, graft_tensor **ins, int32_t nin, graft_tensor **outs,
                       int32_t nout, const graft_attr *attrs, int32_t nattrs, int rounds, int *accepted) {
  int failures = 0;
  for (int round = 0; round < rounds; ++round) {
    graft_tensor tin[MAX_TENSORS], tout[MAX_TENSORS];
    graft_tensor *pin[MAX_TENSORS], *pout[MAX_TENSORS];
    graft_attr ma[MAX_ATTRS];
    int64_t mi[MAX_ATTRS][16];
    float mf[MAX_ATTRS][16];
    for (int32_t i = 0; i < nin; ++i) { if (ins[i]) tin[i] = *ins[i]; pin[i] = ins[i] ? &tin[i] : 0; }
    for (int32_t i = 0; i < nout; ++i) { if (outs[i]) tout[i] = *outs[i]; pout[i] = outs[i] ? &tout[i] : 0; }
    for (int32_t a = 0; a < nattrs; ++a) {
      ma[a] = attrs[a];
      if (attrs[a].count <= 16) {
        for (int32_t j = 0; j < attrs[a].count; ++j) {
          if (attrs[a].ints) mi[a][j] = attrs[a].ints[j];
          if (attrs[a].floats) mf[a][j] = attrs[a].floats[j];
        }
        if (attrs[a].ints) ma[a].ints = mi[a];
        if (attrs[a].floats) ma[a].floats = mf[a];
      }
    }
    int nm = 1 + (int)(mr() % 2);
    for (int m = 0; m < nm; ++m) {
      uint32_t kind = mr() % 8;
      int32_t nt = nin + nout;
      graft_tensor *t = 0;
      if (nt > 0) {
        int32_t j = (int32_t)(mr() % (uint32_t)nt);
        t = j < nin ? pin[j] : pout[j - nin];
        if (kind == 6 && j < nin && j > 0) { pin[j] = 0; continue; }
      }
      if (kind <= 2 && t && t->rank > 0) {
        int64_t *d = &t->dims[mr() % (uint32_t)t->rank];
        *d = mr() % 5 == 0 ? 0 : (int64_t)(mr() % (uint32_t)(*d + 3));
      } else if (kind == 3 && t) {
        if (mr() % 2 && t->rank < GRAFT_MAX_RANK) t->dims[t->rank++] = 1 + mr() % 3;
        else if (t->rank > 0) t->rank--;
      } else if (kind == 4 && t) {
        t->dtype = mut_dtypes[mr() % (sizeof mut_dtypes / sizeof mut_dtypes[0])];
      } else if (nattrs > 0) {
        graft_attr *a = &ma[mr() % (uint32_t)nattrs];
        if (a->count > 16) continue;
        if (kind == 7 && a->count > 0) { a->count--; continue; }
        int32_t j = a->count > 0 ? (int32_t)(mr() % (uint32_t)a->count) : 0;
        if (a->count == 0) continue;
        if (a->ints == mi[a - ma]) mi[a - ma][j] = mr() % 30 == 0 ? INT64_MIN : (int64_t)(mr() % 13) - 4;
        if (a->floats == mf[a - ma]) mf[a - ma][j] = (float)((int)(mr() % 17) - 6) * 0.5f;
      }
    }
    graft_call call;
    memset(&call, 0, sizeof call);
    call.inputs = (const graft_tensor *const *)pin;
    call.outputs = pout;
    call.n_inputs = nin;
    call.n_outputs = nout;
    call.attrs = ma;
    call.n_attrs = nattrs;
    void *saved[2 * MAX_TENSORS];
    for (int32_t i = 0; i < nin; ++i) if (pin[i]) { saved[i] = pin[i]->data; pin[i]->data = 0; }
    for (int32_t i = 0; i < nout; ++i) if (pout[i]) pout[i]->data = 0;
    if (k->check(&call) != GRAFT_OK) continue;
    size_t sb = k->scratch ? k->scratch(&call) : 0;
    int too_big = sb > ((size_t)1 << 28);
    for (int32_t i = 0; i < nin; ++i) if (pin[i] && view_bytes(pin[i]) == (size_t)-1) too_big = 1;
    for (int32_t i = 0; i < nout; ++i) if (pout[i] && view_bytes(pout[i]) == (size_t)-1) too_big = 1;
    if (too_big) continue;
    ++*accepted;
    void *bufs[2 * MAX_TENSORS];
    int nb = 0;
    for (int32_t i = 0; i < nin; ++i)
      if (pin[i]) {
        size_t n = view_bytes(pin[i]);
        unsigned char *b = (unsigned char *)calloc(n ? n : 1, 1);
        size_t have = ins[i] ? view_bytes(ins[i]) : 0;
        if (saved[i] && have) memcpy(b, saved[i], have < n ? have : n);
        pin[i]->data = b;
        bufs[nb++] = b;
      }
    for (int32_t i = 0; i < nout; ++i)
      if (pout[i]) {
        size_t n = view_bytes(pout[i]);
        pout[i]->data = malloc(n ? n : 1);
        bufs[nb++] = pout[i]->data;
      }
    call.scratch = sb ? malloc(sb) : 0;
    call.scratch_bytes = sb;
    graft_status es = k->eval(&call);
    if (es != GRAFT_OK && es != GRAFT_E_NUMERIC) {
      printf("FAIL %s (mutant %d): check accepted, eval returned %d\n", name, round, (int)es);
      ++failures;
    }
    free(call.scratch);
    for (int i = 0; i < nb; ++i) free(bufs[i]);
  }
  return failures;
}

/* Runs one vector file; adds to *passed / *failed. */
static void run_file(const char *path, int mutants, int *passed_out, int *failed_out) {
  FILE *f = fopen(path, "rb");
  if (!f) { printf("FAIL %s: cannot open\n", path); ++*failed_out; return; }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = (unsigned char *)malloc((size_t)len);
  if (fread(buf, 1, (size_t)len, f) != (size_t)len) { fclose(f); printf("FAIL %s: cannot read\n", path); ++*failed_out; return; }
  fclose(f);
  reader r = {buf, buf + len, 0};
  char magic[4];
  rd(&r, magic, 4);
  if (memcmp(magic, "GKV1", 4) != 0) { printf("FAIL %s: bad magic\n", path); ++*failed_out; free(buf); return; }
  int32_t ncases = rd_i32(&r);
  int passed = 0, failed = 0, mutants_accepted = 0;
  for (int32_t ci = 0; ci < ncases && !r.bad; ++ci) {
    char *name = rd_str(&r), *kname = rd_str(&r);
    float rtol = rd_f32(&r), atol = rd_f32(&r);
    int32_t expect_check = rd_i32(&r), expect_eval = rd_i32(&r);
    int32_t nattrs = rd_i32(&r);
    graft_attr attrs[MAX_ATTRS];
    if (nattrs < 0 || nattrs > MAX_ATTRS) { r.bad = 1; break; }
    for (int32_t a = 0; a < nattrs; ++a) {
      attrs[a].key = rd_i32(&r);
      attrs[a].type = rd_i32(&r);
      attrs[a].count = rd_i32(&r);
      attrs[a].ints = 0;
      attrs[a].floats = 0;
      if (attrs[a].count < 0 || attrs[a].count > 1 << 20) { r.bad = 1; break; }
      if (attrs[a].type == GRAFT_ATTR_T_INT || attrs[a].type == GRAFT_ATTR_T_INTS) {
        int64_t *v = (int64_t *)malloc(sizeof(int64_t) * (size_t)(attrs[a].count + 1));
        for (int32_t k = 0; k < attrs[a].count; ++k) v[k] = (int64_t)rd_u64(&r);
        attrs[a].ints = v;
      } else {
        float *v = (float *)malloc(sizeof(float) * (size_t)(attrs[a].count + 1));
        for (int32_t k = 0; k < attrs[a].count; ++k) v[k] = rd_f32(&r);
        attrs[a].floats = v;
      }
    }
    int32_t nin = rd_i32(&r);
    if (nin < 0 || nin > MAX_TENSORS) { r.bad = 1; break; }
    graft_tensor *ins[MAX_TENSORS];
    void *inb[MAX_TENSORS];
    size_t innb[MAX_TENSORS];
    for (int32_t i = 0; i < nin; ++i) {
      ins[i] = rd_tensor(&r, &inb[i], &innb[i]);
      if (ins[i]) ins[i]->data = inb[i];
    }
    int32_t nout = rd_i32(&r);
    if (nout < 0 || nout > MAX_TENSORS) { r.bad = 1; break; }
    graft_tensor *outs[MAX_TENSORS];
    void *refb[MAX_TENSORS];
    size_t refnb[MAX_TENSORS];
    for (int32_t i = 0; i < nout; ++i) {
      outs[i] = rd_tensor(&r, &refb[i], &refnb[i]);
      if (outs[i]) {
        outs[i]->data = malloc(refnb[i] ? refnb[i] : 1);
        memset(outs[i]->data, 0xA5, refnb[i]);
      }
    }
    if (r.bad) break;

    graft_call call;
    memset(&call, 0, sizeof call);
    call.inputs = (const graft_tensor *const *)ins;
    call.outputs = outs;
    call.n_inputs = nin;
    call.n_outputs = nout;
    call.attrs = attrs;
    call.n_attrs = nattrs;

    int ok = 1;
    const graft_kernel *k = graft_kernel_find(kname);
    if (!k) {
      printf("FAIL %s: kernel '%s' not found\n", name, kname);
      ok = 0;
    } else {
      /* check runs on shapes only (data NULL), as when an archive is opened */
      void *saved_in[MAX_TENSORS], *saved_out[MAX_TENSORS];
      for (int32_t i = 0; i < nin; ++i) if (ins[i]) { saved_in[i] = ins[i]->data; ins[i]->data = 0; }
      for (int32_t i = 0; i < nout; ++i) if (outs[i]) { saved_out[i] = outs[i]->data; outs[i]->data = 0; }
      graft_status cs = k->check(&call);
      size_t sb = k->scratch ? k->scratch(&call) : 0;
      for (int32_t i = 0; i < nin; ++i) if (ins[i]) ins[i]->data = saved_in[i];
      for (int32_t i = 0; i < nout; ++i) if (outs[i]) outs[i]->data = saved_out[i];
      if (cs != expect_check) {
        printf("FAIL %s: check returned %d, expected %d\n", name, (int)cs, (int)expect_check);
        ok = 0;
      } else if (cs == GRAFT_OK) {
        void *scratch = sb ? malloc(sb) : 0;
        call.scratch = scratch;
        call.scratch_bytes = sb;
        graft_status es = k->eval(&call);
        if (es != expect_eval) {
          printf("FAIL %s: eval returned %d, expected %d\n", name, (int)es, (int)expect_eval);
          ok = 0;
        } else if (es == GRAFT_OK) {
          for (int32_t o = 0; o < nout && ok; ++o) {
            if (!outs[o]) continue;
            int32_t dt = outs[o]->dtype;
            if (dt == GRAFT_DTYPE_FLOAT32 || dt == GRAFT_DTYPE_FLOAT64) {
              size_t es_ = graft_dtype_size(dt);
              int64_t n = (int64_t)(refnb[o] / es_), worst_i = -1;
              double worst = 0;
              for (int64_t i = 0; i < n; ++i) {
                double g = as_double(outs[o]->data, dt, i), e = as_double(refb[o], dt, i);
                if (isnan(e) && isnan(g)) continue;
                if (isinf(e) && g == e) continue;
                double d = fabs(g - e), lim = atol + rtol * fabs(e);
                if (!(d <= lim)) { if (worst_i < 0 || d / (lim > 0 ? lim : 1) > worst) { worst = d / (lim > 0 ? lim : 1); worst_i = i; } }
              }
              if (worst_i >= 0) {
                printf("FAIL %s: output %d element %lld: got %.9g expected %.9g\n", name, (int)o,
                       (long long)worst_i, as_double(outs[o]->data, dt, worst_i), as_double(refb[o], dt, worst_i));
                ok = 0;
              }
            } else if (memcmp(outs[o]->data, refb[o], refnb[o]) != 0) {
              size_t es_ = graft_dtype_size(dt) ? graft_dtype_size(dt) : 1, bad = 0;
              while (bad < refnb[o] && ((unsigned char *)outs[o]->data)[bad] == ((unsigned char *)refb[o])[bad]) ++bad;
              printf("FAIL %s: output %d differs at element %zu (exact compare)\n", name, (int)o, bad / es_);
              ok = 0;
            }
          }
        }
        free(scratch);
      }
    }
    if (k && expect_check == GRAFT_OK && mutants > 0 &&
        mutate_case(name, k, ins, nin, outs, nout, attrs, nattrs, mutants, &mutants_accepted) != 0)
      ok = 0;
    if (ok) ++passed; else ++failed;
    for (int32_t i = 0; i < nin; ++i) { free(inb[i]); free(ins[i]); }
    for (int32_t i = 0; i < nout; ++i) { if (outs[i]) free(outs[i]->data); free(outs[i]); free(refb[i]); }
    for (int32_t a = 0; a < nattrs; ++a) { free((void *)attrs[a].ints); free((void *)attrs[a].floats); }
    free(name);
    free(kname);
  }
  if (r.bad) { printf("FAIL %s: truncated or malformed vector file\n", path); ++failed; }
  free(buf);
  printf("%s: %d passed, %d failed; %d mutants accepted by check and evaluated\n", path, passed, failed, mutants_accepted);
  *passed_out += passed;
  *failed_out += failed;
}

int main(int argc, char **argv) {
  static const char *defaults[] = {"runtime/tests/vectors/kernels.bin", "runtime/tests/vectors/onnx_nodes.bin"};
  int mutants = argc > 2 ? atoi(argv[2]) : 30, passed = 0, failed = 0;
  if (argc > 1) {
    run_file(argv[1], mutants, &passed, &failed);
  } else {
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; ++i) run_file(defaults[i], mutants, &passed, &failed);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
