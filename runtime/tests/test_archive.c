/* Tests of the runtime core: archive validation (every bad-input status), compressed
 * weights, sessions, the observer. Archives come from archive_builder (a test-only writer).
 * Expected numbers are computed here independently (x + w in double), never taken from the
 * runtime's own output. Buffers are allocated at their exact sizes so that the ASan build
 * (make asan-test) catches any out-of-bounds read. Prints "N passed, N failed" last. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_builder.h"
#include "graft.h"

/* Internal runtime entry points, tested directly. */
uint32_t graft__crc32(uint32_t crc, const uint8_t *p, size_t n);
graft_status graft__inflate(const uint8_t *in, size_t in_bytes, uint8_t *out, size_t out_bytes);

static int passed, failed;
static const char *current;

#define CHECK(cond)                                                                   \
  do {                                                                              \
    if (cond) ++passed;                                                             \
    else {                                                                          \
      ++failed;                                                                     \
      printf("FAIL %s: %s:%d: %s\n", current, __FILE__, __LINE__, #cond);           \
    }                                                                               \
  } while (0)
#define CHECK_ST(got, want)                                                           \
  do {                                                                              \
    graft_status g_ = (got), w_ = (want);                                           \
    if (g_ == w_) ++passed;                                                         \
    else {                                                                          \
      ++failed;                                                                     \
      printf("FAIL %s: %s:%d: %s = %s, want %s\n", current, __FILE__, __LINE__, #got, \
             graft_status_name(g_), graft_status_name(w_));                          \
    }                                                                               \
  } while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}

/* ---- the standard test model ----
   y = relu(x + w) (add_f32 with a fused relu), z = y + x; x:[2,3] input, w weights, z output. */
#define N_ELEM 6
static const float W_DATA[N_ELEM] = {0.5f, -1.25f, 2.0f, -3.5f, 0.0f, 7.75f};

typedef struct model_opts {
  int compress_level; /* -1 none */
  int omit_strings;
} model_opts;

static ab_archive *model_builder(model_opts o) {
  ab_archive *b = ab_new();
  int64_t dims[2] = {2, 3};
  int32_t x = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, dims, 0, o.omit_strings ? NULL : "x");
  int32_t w = ab_weight_tensor(b, GRAFT_DTYPE_FLOAT32, 2, dims, W_DATA, o.omit_strings ? NULL : "w");
  int32_t y = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, dims, 64, o.omit_strings ? NULL : "y");
  int32_t z = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, dims, 128, o.omit_strings ? NULL : "z");
  int32_t in1[2] = {x, w}, out1[1] = {y};
  ab_node(b, GRAFT_KERNEL_add_f32, 2, in1, 1, out1, o.omit_strings ? NULL : "/add1");
  ab_attr_int(b, GRAFT_ATTR_ACT, GRAFT_ACT_RELU);
  int32_t in2[2] = {y, x}, out2[1] = {z};
  ab_node(b, GRAFT_KERNEL_add_f32, 2, in2, 1, out2, o.omit_strings ? NULL : "/add2");
  int32_t ins[1] = {x}, outs[1] = {z};
  ab_io(b, 1, ins, 1, outs);
  ab_arena_bytes(b, 192);
  if (o.compress_level >= 0) ab_compress_weights(b, o.compress_level);
  if (o.omit_strings) ab_omit_strings(b);
  return b;
}

static uint8_t *standard_model(size_t *n) {
  model_opts o = {-1, 0};
  ab_archive *b = model_builder(o);
  uint8_t *a = ab_finish(b, n);
  ab_free(b);
  return a;
}

static void *aligned(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 64, n ? n : 1) != 0) abort();
  return p;
}

/* Opens a copy of archive bytes (exact-size buffer) and returns the status. */
static graft_status open_copy(const uint8_t *a, size_t n) {
  graft_model *m = (graft_model *)malloc(sizeof *m);
  uint8_t *c = ab_copy(a, n);
  graft_status st = graft_model_open(m, c, n, NULL, 0);
  free(c);
  free(m);
  return st;
}

/* Runs an open model on X_IN and checks z against the independent reference. */
static const float X_IN[N_ELEM] = {1.0f, 2.0f, -3.0f, 4.0f, -5.0f, -6.0f};
static void run_and_check(const graft_model *m) {
  size_t arena_bytes = (size_t)graft_model_arena_bytes(m);
  uint8_t *arena = (uint8_t *)aligned(arena_bytes);
  graft_session *s = (graft_session *)malloc(sizeof *s);
  CHECK_ST(graft_session_init(s, m, arena, arena_bytes), GRAFT_OK);
  float *x = (float *)graft_session_input_data(s, 0);
  CHECK(x != NULL);
  if (x) memcpy(x, X_IN, sizeof X_IN);
  CHECK_ST(graft_session_run(s), GRAFT_OK);
  const float *z = (const float *)graft_session_output_data(s, 0);
  CHECK(z != NULL);
  int ok = z != NULL;
  for (int i = 0; ok && i < N_ELEM; ++i) {
    double y = (double)X_IN[i] + (double)W_DATA[i];
    double want = (y > 0 ? y : 0) + (double)X_IN[i];
    if (fabs((double)z[i] - want) > 1e-6) ok = 0;
  }
  CHECK(ok);
  free(s);
  free(arena);
}

/* ---- tests ---- */

static void test_status_names(void) {
  current = "status_names";
  const graft_status all[] = {GRAFT_OK, GRAFT_E_ARG, GRAFT_E_FORMAT, GRAFT_E_VERSION, GRAFT_E_TRUNCATED,
                              GRAFT_E_CRC, GRAFT_E_BOUNDS, GRAFT_E_KERNEL, GRAFT_E_ARITY, GRAFT_E_SHAPE,
                              GRAFT_E_ARENA_TOO_SMALL, GRAFT_E_UNSUPPORTED, GRAFT_E_DECOMPRESS,
                              GRAFT_E_NUMERIC, GRAFT_E_ALIGN};
  size_t n = sizeof all / sizeof all[0];
  int ok = 1;
  for (size_t i = 0; i < n; ++i) {
    const char *a = graft_status_name(all[i]);
    if (!a || strncmp(a, "GRAFT_", 6) != 0 || strcmp(a, "GRAFT_E_UNKNOWN") == 0) ok = 0;
    for (size_t j = 0; j < i; ++j)
      if (strcmp(a, graft_status_name(all[j])) == 0) ok = 0;
  }
  CHECK(ok);
  CHECK(strcmp(graft_status_name((graft_status)-99), "GRAFT_E_UNKNOWN") == 0);
  CHECK(strcmp(graft_status_name(GRAFT_E_ARENA_TOO_SMALL), "GRAFT_E_ARENA_TOO_SMALL") == 0);
  CHECK(graft_version() == GRAFT_VERSION_NUMBER);
}

static void test_kernel_table(void) {
  current = "kernel_table";
  const graft_kernel *k = graft_kernel_get(GRAFT_KERNEL_add_f32);
  CHECK(k && k->id == GRAFT_KERNEL_add_f32 && strcmp(k->name, "add_f32") == 0);
  CHECK(k && k->min_inputs == 2 && k->max_inputs == 2 && k->check && k->eval);
  CHECK(graft_kernel_get(0) == NULL && graft_kernel_get(5) == NULL);
  CHECK(graft_kernel_get(GRAFT_KERNEL_ID_END) == NULL && graft_kernel_get(UINT32_MAX) == NULL);
  const graft_kernel *c = graft_kernel_find("conv_f32");
  CHECK(c && c->id == GRAFT_KERNEL_conv_f32);
  CHECK(graft_kernel_find("gru_f32") == graft_kernel_get(GRAFT_KERNEL_gru_f32));
  CHECK(graft_kernel_find("no_such_kernel") == NULL && graft_kernel_find(NULL) == NULL);
}

static void test_crc32(void) {
  current = "crc32";
  /* The check value of CRC-32/ISO-HDLC. */
  CHECK(graft__crc32(0, (const uint8_t *)"123456789", 9) == 0xCBF43926u);
  int ok = 1;
  for (int r = 0; r < 50; ++r) {
    size_t n = rnd() % 3000;
    uint8_t *p = (uint8_t *)malloc(n ? n : 1);
    for (size_t i = 0; i < n; ++i) p[i] = (uint8_t)rnd();
    if (graft__crc32(0, p, n) != ab_crc32(p, n)) ok = 0;
    size_t h = n / 3; /* continuation */
    if (graft__crc32(graft__crc32(0, p, h), p + h, n - h) != ab_crc32(p, n)) ok = 0;
    free(p);
  }
  CHECK(ok);
}

/* Data that compresses in different ways: runs, text-like, random, mixtures. */
static void fill_sample(uint8_t *p, size_t n, int kind) {
  for (size_t i = 0; i < n; ++i) {
    switch (kind) {
    case 0: p[i] = 0; break;
    case 1: p[i] = (uint8_t)rnd(); break;
    case 2: p[i] = (uint8_t)("the quick brown fox jumps over the lazy dog "[rnd() % 44]); break;
    case 3: p[i] = (uint8_t)(i % 251); break;
    default: p[i] = (rnd() % 8 == 0) ? (uint8_t)rnd() : (uint8_t)(i > 300 ? p[i - 300 + rnd() % 4] : 7); break;
    }
  }
}

static void test_inflate_roundtrip(void) {
  current = "inflate_roundtrip";
  int ok = 1, count = 0;
  const size_t sizes[] = {0, 1, 2, 100, 1000, 65535, 65536, 70001, 300000};
  for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; ++si)
    for (int kind = 0; kind < 5; ++kind)
      for (int level = 0; level <= 9; level += 3) { /* 0 = stored blocks, 1 = mostly fixed, 9 = dynamic */
        size_t n = sizes[si];
        uint8_t *src = (uint8_t *)malloc(n ? n : 1);
        fill_sample(src, n, kind);
        size_t zn;
        uint8_t *z = ab_zlib_compress(src, n, level, &zn);
        uint8_t *zc = ab_copy(z, zn), *out = (uint8_t *)malloc(n ? n : 1);
        graft_status st = graft__inflate(zc, zn, out, n);
        if (st != GRAFT_OK || (n && memcmp(out, src, n) != 0)) {
          ok = 0;
          printf("  inflate n=%zu kind=%d level=%d: %s\n", n, kind, level, graft_status_name(st));
        }
        /* declared size one byte short or long: rejected */
        if (n > 0 && graft__inflate(zc, zn, out, n - 1) != GRAFT_E_DECOMPRESS) ok = 0;
        uint8_t *big = (uint8_t *)malloc(n + 1);
        if (graft__inflate(zc, zn, big, n + 1) != GRAFT_E_DECOMPRESS) ok = 0;
        /* every truncation of the stream: rejected */
        for (size_t cut = 0; cut < zn; cut += (zn > 200 ? zn / 50 : 1)) {
          uint8_t *t = ab_copy(z, cut);
          if (graft__inflate(t, cut, out, n) != GRAFT_E_DECOMPRESS) ok = 0;
          free(t);
        }
        ++count;
        free(big);
        free(src);
        free(z);
        free(zc);
        free(out);
      }
  CHECK(ok);
  CHECK(count == 9 * 5 * 4);
}

/* Random corruption of valid streams: must never crash or overrun (ASan); when it still
   reports success the Adler-32 matched, so the output is the original. */
static void test_inflate_fuzz(void) {
  current = "inflate_fuzz";
  int ok = 1;
  for (int r = 0; r < 400; ++r) {
    size_t n = 1 + rnd() % 5000;
    uint8_t *src = (uint8_t *)malloc(n);
    fill_sample(src, n, (int)(rnd() % 5));
    size_t zn;
    uint8_t *z = ab_zlib_compress(src, n, (int)(rnd() % 10), &zn);
    int flips = 1 + (int)(rnd() % 4);
    for (int f = 0; f < flips; ++f) z[2 + rnd() % (zn - 2)] ^= (uint8_t)(1u << (rnd() % 8));
    uint8_t *zc = ab_copy(z, zn), *out = (uint8_t *)malloc(n);
    graft_status st = graft__inflate(zc, zn, out, n);
    if (st != GRAFT_OK && st != GRAFT_E_DECOMPRESS) ok = 0;
    if (st == GRAFT_OK && memcmp(out, src, n) != 0) ok = 0;
    free(src);
    free(z);
    free(zc);
    free(out);
  }
  /* random garbage after a valid zlib header */
  for (int r = 0; r < 400; ++r) {
    size_t zn = 6 + rnd() % 300, n = rnd() % 2000;
    uint8_t *z = (uint8_t *)malloc(zn), *out = (uint8_t *)malloc(n ? n : 1);
    for (size_t i = 0; i < zn; ++i) z[i] = (uint8_t)rnd();
    z[0] = 0x78;
    z[1] = 0x9c;
    graft_status st = graft__inflate(z, zn, out, n);
    if (st != GRAFT_OK && st != GRAFT_E_DECOMPRESS) ok = 0;
    free(z);
    free(out);
  }
  CHECK(ok);
}

static void test_open_and_run(void) {
  current = "open_and_run";
  size_t n;
  uint8_t *a = standard_model(&n);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  graft_model_sizes sz;
  CHECK_ST(graft_model_probe(a, n, &sz), GRAFT_OK);
  CHECK(sz.file_bytes == n && sz.arena_bytes == 192 && sz.weights_bytes == 0);
  CHECK(sz.format_major == 1 && sz.format_minor == 0);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_OK);
  CHECK(graft_model_arena_bytes(m) == 192);
  CHECK(graft_model_weights_bytes(m) == 0);
  CHECK(graft_model_input_count(m) == 1 && graft_model_output_count(m) == 1);
  CHECK(graft_model_node_count(m) == 2);
  CHECK(graft_model_tensor_count(m) == 4);
  CHECK(graft_model_failed_node(m) == -1);
  const char *in_name = graft_model_input_name(m, 0), *out_name = graft_model_output_name(m, 0);
  CHECK(in_name && strcmp(in_name, "x") == 0);
  CHECK(out_name && strcmp(out_name, "z") == 0);
  const char *n1 = graft_model_node_name(m, 1);
  CHECK(n1 && strcmp(n1, "/add2") == 0);
  CHECK(graft_model_node_kernel(m, 0) == GRAFT_KERNEL_add_f32);
  CHECK(graft_model_node_kernel(m, 2) == -1);
  CHECK(graft_model_node_input_count(m, 0) == 2 && graft_model_node_output_count(m, 0) == 1);
  CHECK(graft_model_node_input(m, 1, 0) == 2 && graft_model_node_input(m, 1, 1) == 0);
  CHECK(graft_model_node_output(m, 1, 0) == 3 && graft_model_node_output(m, 1, 1) == -1);
  graft_tensor v;
  CHECK_ST(graft_model_input(m, 0, &v), GRAFT_OK);
  CHECK(v.dtype == GRAFT_DTYPE_FLOAT32 && v.rank == 2 && v.dims[0] == 2 && v.dims[1] == 3 && v.data == NULL);
  CHECK_ST(graft_model_output(m, 1, &v), GRAFT_E_ARG);
  CHECK(graft_model_input_bytes(m, 0) == sizeof X_IN && graft_model_output_bytes(m, 0) == sizeof X_IN);
  CHECK(graft_model_input_bytes(m, 1) == 0 && graft_model_tensor_bytes(m, 1) == sizeof W_DATA);
  CHECK_ST(graft_model_tensor(m, 1, &v), GRAFT_OK);
  CHECK(v.data != NULL && memcmp(v.data, W_DATA, sizeof W_DATA) == 0);
  CHECK(((uintptr_t)v.data % 64) == 0);
  run_and_check(m);
  /* archive_bytes larger than file_bytes is fine */
  uint8_t *bigger = (uint8_t *)aligned(n + 100);
  memcpy(bigger, a, n);
  CHECK_ST(graft_model_open(m, bigger, n + 100, NULL, 0), GRAFT_OK);
  free(bigger);
  free(m);
  free(a);
}

static void test_no_strings(void) {
  current = "no_strings";
  model_opts o = {-1, 1};
  ab_archive *b = model_builder(o);
  size_t n;
  uint8_t *a = ab_finish(b, &n);
  ab_free(b);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_OK);
  CHECK(graft_model_input_name(m, 0) == NULL && graft_model_node_name(m, 0) == NULL);
  run_and_check(m);
  /* a name offset without a STRINGS section */
  ab_put32(a, ab_tensor_entry(a, 0) + 76, 0);
  ab_fix_crcs(a, n);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_E_BOUNDS);
  free(m);
  free(a);
}

typedef struct obs_log {
  int calls;
  int order_ok;
  float first_out[N_ELEM];
} obs_log;

static void observer(void *user, int32_t node, const graft_call *call) {
  obs_log *l = (obs_log *)user;
  if (node != l->calls) l->order_ok = 0;
  if (node == 0 && call->n_outputs == 1 && call->outputs[0]->data)
    memcpy(l->first_out, call->outputs[0]->data, sizeof l->first_out);
  l->calls++;
}

static void test_observer(void) {
  current = "observer";
  size_t n;
  uint8_t *a = standard_model(&n);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  graft_session *s = (graft_session *)malloc(sizeof *s);
  uint8_t *arena = (uint8_t *)aligned(192);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_OK);
  CHECK_ST(graft_session_init(s, m, arena, 192), GRAFT_OK);
  obs_log log;
  memset(&log, 0, sizeof log);
  log.order_ok = 1;
  graft_session_set_observer(s, observer, &log);
  memcpy(graft_session_input_data(s, 0), X_IN, sizeof X_IN);
  CHECK_ST(graft_session_run(s), GRAFT_OK);
  CHECK(log.calls == 2 && log.order_ok);
  int ok = 1;
  for (int i = 0; i < N_ELEM; ++i) {
    double y = (double)X_IN[i] + (double)W_DATA[i];
    if (fabs((double)log.first_out[i] - (y > 0 ? y : 0)) > 1e-6) ok = 0;
  }
  CHECK(ok);
  graft_session_set_observer(s, NULL, NULL);
  CHECK_ST(graft_session_run(s), GRAFT_OK);
  CHECK(log.calls == 2);
  CHECK(graft_session_failed_node(s) == -1);
  free(arena);
  free(s);
  free(m);
  free(a);
}

static void test_truncated(void) {
  current = "truncated";
  size_t n;
  uint8_t *a = standard_model(&n);
  int ok = 1;
  for (size_t len = 0; len < n; ++len) {
    graft_status st = open_copy(a, len);
    if (st == GRAFT_OK) ok = 0;
    if (st != GRAFT_E_TRUNCATED) {
      ok = 0;
      printf("  prefix %zu: %s\n", len, graft_status_name(st));
    }
    graft_model_sizes sz;
    uint8_t *c = ab_copy(a, len);
    if (graft_model_probe(c, len, &sz) != GRAFT_E_TRUNCATED) ok = 0;
    free(c);
  }
  CHECK(ok);
  CHECK_ST(open_copy(a, n), GRAFT_OK);
  /* file_bytes smaller than the section table */
  ab_put64(a, 16, 64);
  ab_fix_crcs(a, n);
  CHECK_ST(open_copy(a, n), GRAFT_E_TRUNCATED);
  free(a);
}

/* Is byte `off` covered by the header, the section table or a section? (Alignment gaps are
   not, and flips there are harmless.) */
static int covered(const uint8_t *a, size_t off) {
  uint32_t ns = ab_get32(a, 12);
  if (off < 64 + 40 * (size_t)ns) return 1;
  for (uint32_t i = 0; i < ns; ++i) {
    uint64_t o = ab_get64(a, 64 + 40 * i + 8), len = ab_get64(a, 64 + 40 * i + 16);
    if (off >= o && off < o + len) return 1;
  }
  return 0;
}

static void test_bit_flips(void) {
  current = "bit_flips";
  for (int compressed = 0; compressed <= 1; ++compressed) {
    model_opts o = {compressed ? 6 : -1, 0};
    ab_archive *b = model_builder(o);
    size_t n;
    uint8_t *a = ab_finish(b, &n);
    ab_free(b);
    graft_model *m = (graft_model *)malloc(sizeof *m);
    uint8_t *wbuf = (uint8_t *)aligned(4096);
    uint8_t *c = ab_copy(a, n);
    int ok = 1, flipped = 0, crc_hits = 0;
    for (size_t byte = 0; byte < n; ++byte) {
      if (!covered(a, byte)) continue;
      for (int bit = 0; bit < 8; ++bit) {
        memcpy(c, a, n);
        c[byte] ^= (uint8_t)(1u << bit);
        graft_status st = graft_model_open(m, c, n, wbuf, 4096);
        ++flipped;
        if (st == GRAFT_E_CRC) ++crc_hits;
        if (st == GRAFT_OK) {
          ok = 0;
          printf("  flip byte %zu bit %d accepted\n", byte, bit);
        }
        /* inside a section's data or the header's CRC'd bytes (not the version): CRC */
        int in_section = byte >= 64 + 40 * (size_t)ab_get32(a, 12);
        int in_header = byte >= 12 && byte < 64;
        if ((in_section || in_header) && st != GRAFT_E_CRC) {
          ok = 0;
          printf("  flip byte %zu bit %d: %s\n", byte, bit, graft_status_name(st));
        }
      }
    }
    CHECK(ok);
    CHECK(flipped > 8 * 500 && crc_hits > 0);
    free(c);
    free(wbuf);
    free(m);
    free(a);
  }
}

static void test_header_fields(void) {
  current = "header_fields";
  size_t n;
  uint8_t *a = standard_model(&n);
  uint8_t *c = ab_copy(a, n);
#define RESET() memcpy(c, a, n)
  RESET();
  c[0] = 'X';
  CHECK_ST(open_copy(c, n), GRAFT_E_FORMAT);
  RESET();
  ab_put16(c, 8, 2);
  ab_fix_crcs(c, n);
  CHECK_ST(open_copy(c, n), GRAFT_E_VERSION);
  RESET();
  ab_put16(c, 8, 0);
  ab_fix_crcs(c, n);
  CHECK_ST(open_copy(c, n), GRAFT_E_VERSION);
  RESET();
  ab_put16(c, 10, 7); /* a later minor: accepted */
  ab_fix_crcs(c, n);
  CHECK_ST(open_copy(c, n), GRAFT_OK);
  RESET();
  ab_put16(c, 10, 7); /* without fixing the CRC */
  CHECK_ST(open_copy(c, n), GRAFT_E_CRC);
  RESET();
  ab_put32(c, 12, 0);
  ab_fix_crcs(c, n);
  CHECK_ST(open_copy(c, n), GRAFT_E_FORMAT);
  RESET();
  ab_put32(c, 12, 65);
  ab_fix_crcs(c, n);
  CHECK_ST(open_copy(c, n), GRAFT_E_FORMAT);
  RESET();
  ab_put32(c, 32, 1); /* unknown flag */
  ab_fix_crcs(c, n);
  CHECK_ST(open_copy(c, n), GRAFT_E_FORMAT);
  RESET();
  ab_put64(c, 24, 100); /* arena not a multiple of 64 */
  ab_fix_crcs(c, n);
  CHECK_ST(open_copy(c, n), GRAFT_E_FORMAT);
  RESET();
  ab_put64(c, 16, n + 1); /* declares more than the buffer */
  ab_fix_crcs(c, n);
  CHECK_ST(open_copy(c, n), GRAFT_E_TRUNCATED);
  /* misaligned archive, NULL arguments */
  graft_model *m = (graft_model *)malloc(sizeof *m);
  uint8_t *mis = (uint8_t *)aligned(n + 8);
  memcpy(mis + 8, a, n);
  CHECK_ST(graft_model_open(m, mis + 8, n, NULL, 0), GRAFT_E_ALIGN);
  CHECK_ST(graft_model_open(m, NULL, n, NULL, 0), GRAFT_E_ARG);
  CHECK_ST(graft_model_open(NULL, a, n, NULL, 0), GRAFT_E_ARG);
  CHECK(graft_model_arena_bytes(m) == 0);
  free(mis);
  free(m);
  free(c);
  free(a);
#undef RESET
}

static void test_sections(void) {
  current = "sections";
  size_t n;
  uint8_t *a = standard_model(&n);
  uint8_t *c = ab_copy(a, n);
  size_t tens = ab_section_entry(a, 1), nodes = ab_section_entry(a, 2), w = ab_section_entry(a, 3);
#define EDIT(stmt, want)        \
  do {                          \
    memcpy(c, a, n);            \
    stmt;                       \
    ab_fix_crcs(c, n);             \
    CHECK_ST(open_copy(c, n), want); \
  } while (0)
  EDIT(ab_put64(c, tens + 8, ab_get64(a, tens + 8) + 8), GRAFT_E_BOUNDS);   /* misaligned */
  EDIT(ab_put64(c, tens + 8, (uint64_t)n + 64 * 1000), GRAFT_E_BOUNDS);      /* past the end */
  EDIT(ab_put64(c, tens + 16, (uint64_t)n), GRAFT_E_BOUNDS);                 /* too long */
  EDIT(ab_put64(c, tens + 8, UINT64_MAX - 63), GRAFT_E_BOUNDS);               /* wraps around */
  EDIT(ab_put64(c, tens + 16, UINT64_MAX), GRAFT_E_BOUNDS);
  EDIT(ab_put64(c, tens + 8, 0), GRAFT_E_BOUNDS);                            /* over the header */
  EDIT(ab_put32(c, tens, 9), GRAFT_E_FORMAT);                                /* unknown kind */
  EDIT(ab_put32(c, tens, 2), GRAFT_E_FORMAT);                                /* NODES twice, no TENSORS */
  EDIT(ab_put32(c, tens + 4, 2), GRAFT_E_FORMAT);                            /* unknown flag */
  EDIT(ab_put32(c, nodes + 4, 1), GRAFT_E_FORMAT);                           /* compressed NODES */
  EDIT(ab_put64(c, tens + 24, ab_get64(a, tens + 24) + 1), GRAFT_E_FORMAT);  /* raw != stored */
  EDIT(ab_put32(c, tens + 36, 1), GRAFT_E_FORMAT);                           /* reserved */
  EDIT(ab_put32(c, 12, 3), GRAFT_E_FORMAT); /* only 3 sections: IO missing */
  memcpy(c, a, n); /* a section's data changed: its CRC */
  c[ab_get64(a, w + 8)] ^= 1;
  CHECK_ST(open_copy(c, n), GRAFT_E_CRC);
  memcpy(c, a, n);
  ab_put32(c, w + 32, ab_get32(a, w + 32) ^ 0x100);
  CHECK_ST(open_copy(c, n), GRAFT_E_CRC);
  /* STRINGS must end with a NUL */
  size_t s = ab_section_data(a, 5), slen = (size_t)ab_get64(a, ab_section_entry(a, 5) + 16);
  EDIT(c[s + slen - 1] = 'q', GRAFT_E_FORMAT);
  free(c);
  free(a);
}

static void test_tensors(void) {
  current = "tensors";
  size_t n;
  uint8_t *a = standard_model(&n);
  uint8_t *c = ab_copy(a, n);
  size_t t0 = ab_tensor_entry(a, 0), t1 = ab_tensor_entry(a, 1), t3 = ab_tensor_entry(a, 3);
  size_t ts = ab_section_data(a, 1);
  EDIT(ab_put32(c, ts, 5), GRAFT_E_BOUNDS);                 /* count past the section */
  EDIT(ab_put32(c, ts, 0xffffffffu), GRAFT_E_BOUNDS);
  EDIT(ab_put32(c, t0, 8), GRAFT_E_FORMAT);                 /* dtype 8 (string) */
  EDIT(ab_put32(c, t0, 99), GRAFT_E_FORMAT);
  EDIT(ab_put32(c, t0 + 4, 9), GRAFT_E_FORMAT);             /* rank > 8 */
  EDIT(ab_put64(c, t0 + 8, (uint64_t)-2), GRAFT_E_FORMAT);  /* negative dim */
  EDIT(ab_put64(c, t0 + 8 + 8 * 5, 1), GRAFT_E_FORMAT);     /* dim past rank */
  EDIT((ab_put64(c, t0 + 8, 1ull << 40), ab_put64(c, t0 + 16, 1ull << 40)), GRAFT_E_FORMAT); /* overflow */
  EDIT(ab_put64(c, t0 + 88, 25), GRAFT_E_FORMAT);           /* bytes != 6 * 4 */
  EDIT(ab_put32(c, t0 + 72, 2), GRAFT_E_FORMAT);            /* unknown storage */
  EDIT(ab_put64(c, t0 + 80, 32), GRAFT_E_BOUNDS);           /* misaligned */
  EDIT(ab_put64(c, t3 + 80, 192), GRAFT_E_BOUNDS);          /* past the arena */
  EDIT(ab_put64(c, t3 + 80, UINT64_MAX - 63), GRAFT_E_BOUNDS);
  EDIT(ab_put64(c, t1 + 80, 64), GRAFT_E_BOUNDS);           /* past WEIGHTS */
  EDIT(ab_put32(c, t0 + 76, 1000), GRAFT_E_BOUNDS);         /* name past STRINGS */
  EDIT(ab_put32(c, t1 + 96, 4), GRAFT_E_FORMAT);            /* per-channel count != dims[axis] */
  EDIT((ab_put32(c, t1 + 96, 1), ab_put64(c, t1 + 104, 20)), GRAFT_E_BOUNDS); /* 8 bytes at 20 > 24 */
  EDIT((ab_put32(c, t1 + 96, 1), ab_put64(c, t1 + 104, 2)), GRAFT_E_BOUNDS);  /* misaligned */
  EDIT((ab_put32(c, t1 + 96, 1), ab_put32(c, t1 + 100, 1)), GRAFT_E_FORMAT);  /* axis with count 1 */
  EDIT((ab_put32(c, t1 + 96, 3), ab_put32(c, t1 + 100, 2)), GRAFT_E_FORMAT);  /* axis >= rank */
  EDIT((ab_put32(c, t1 + 96, 1), ab_put64(c, t1 + 104, 16)), GRAFT_OK);       /* in bounds */
  free(c);
  free(a);
}

static void test_quant_view(void) {
  current = "quant_view";
  ab_archive *b = ab_new();
  int64_t dims[2] = {3, 2};
  const int8_t q[6] = {1, -2, 3, -4, 5, -6};
  const float scales[3] = {0.5f, 0.25f, 2.0f};
  const int32_t zps[3] = {0, -3, 7};
  int32_t qt = ab_weight_tensor(b, GRAFT_DTYPE_INT8, 2, dims, q, "q");
  ab_tensor_quant(b, qt, 3, 0, scales, zps);
  int64_t d1[1] = {4};
  int32_t x = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 1, d1, 0, "x");
  int32_t y = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 1, d1, 64, "y");
  const uint8_t i4[2] = {0x21, 0x43};
  int64_t d3[1] = {3};
  ab_weight_tensor(b, GRAFT_DTYPE_INT4, 1, d3, i4, "int4"); /* 3 nibbles in 2 bytes */
  int32_t in[1] = {x}, out[1] = {y};
  ab_io(b, 1, in, 1, out);
  ab_arena_bytes(b, 128);
  size_t n;
  uint8_t *a = ab_finish(b, &n);
  ab_free(b);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_OK); /* no nodes: valid */
  graft_tensor v;
  CHECK_ST(graft_model_tensor(m, qt, &v), GRAFT_OK);
  CHECK(v.quant_count == 3 && v.quant_axis == 0 && v.scale && v.zero_point);
  if (v.scale && v.zero_point) {
    CHECK(v.scale[0] == 0.5f && v.scale[1] == 0.25f && v.scale[2] == 2.0f);
    CHECK(v.zero_point[0] == 0 && v.zero_point[1] == -3 && v.zero_point[2] == 7);
  }
  CHECK(v.data && memcmp(v.data, q, 6) == 0);
  const char *nm = graft_model_tensor_name(m, 3);
  CHECK(nm && strcmp(nm, "int4") == 0);
  /* the int4 tensor's byte count is (3 + 1) / 2 */
  size_t t3 = ab_tensor_entry(a, 3);
  CHECK(ab_get64(a, t3 + 88) == 2);
  ab_put64(a, t3 + 88, 3);
  ab_fix_crcs(a, n);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_E_FORMAT);
  free(m);
  free(a);
}

static void test_nodes(void) {
  current = "nodes";
  size_t n;
  uint8_t *a = standard_model(&n);
  uint8_t *c = ab_copy(a, n);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  size_t ns = ab_section_data(a, 2), r0 = ab_node_record(a, 0), r1 = ab_node_record(a, 1);
  EDIT(ab_put32(c, ns, 3), GRAFT_E_BOUNDS);          /* one record too many */
  EDIT(ab_put32(c, ns, 0xffffffffu), GRAFT_E_BOUNDS);
  EDIT(ab_put32(c, r1, 9999), GRAFT_E_KERNEL);       /* unknown kernel id */
  EDIT(ab_put32(c, r1, 5), GRAFT_E_KERNEL);          /* an unused id inside the list */
  EDIT(ab_put32(c, r1, 0), GRAFT_E_KERNEL);
  EDIT(ab_put16(c, r0 + 4, 1), GRAFT_E_ARITY);       /* add_f32 with one input */
  EDIT(ab_put16(c, r0 + 4, 3), GRAFT_E_ARITY);
  EDIT(ab_put16(c, r0 + 6, 0), GRAFT_E_ARITY);
  EDIT(ab_put32(c, r0 + 32, 0xffffffffu), GRAFT_E_ARITY);  /* required input omitted */
  EDIT(ab_put32(c, r0 + 32, 4), GRAFT_E_BOUNDS);     /* tensor index past the table */
  EDIT(ab_put32(c, r0 + 32, 0x80000000u), GRAFT_E_BOUNDS);
  EDIT(ab_put32(c, r0 + 40, 1), GRAFT_E_FORMAT);     /* output is a weights tensor */
  EDIT(ab_put32(c, r0 + 40, 0xffffffffu), GRAFT_E_BOUNDS);
  EDIT(ab_put32(c, r0 + 12, 5000), GRAFT_E_BOUNDS);  /* node name past STRINGS */
  EDIT(ab_put16(c, r0 + 8, 40), GRAFT_E_FORMAT);     /* more attributes than the cap */
  EDIT(ab_put16(c, r1 + 8, 1), GRAFT_E_BOUNDS);      /* attribute past the section */
  EDIT(ab_put16(c, r0 + 48 + 2, 7), GRAFT_E_FORMAT); /* unknown attribute type */
  EDIT(ab_put16(c, r0 + 48, 0), GRAFT_E_FORMAT);     /* attribute key 0 */
  EDIT(ab_put32(c, r0 + 48 + 4, 2), GRAFT_E_FORMAT); /* INT with count 2 */
  EDIT((ab_put16(c, r0 + 48 + 2, GRAFT_ATTR_T_INTS), ab_put32(c, r0 + 48 + 4, 0x7fffffffu)), GRAFT_E_BOUNDS);
  EDIT(ab_put64(c, r0 + 16, 64), GRAFT_E_FORMAT);    /* scratch offset with 0 bytes */
  EDIT((ab_put64(c, r0 + 16, 128), ab_put64(c, r0 + 24, 128)), GRAFT_E_BOUNDS); /* past arena */
  EDIT((ab_put64(c, r0 + 16, 32), ab_put64(c, r0 + 24, 16)), GRAFT_E_BOUNDS);   /* misaligned */
  EDIT((ab_put64(c, r0 + 16, 128), ab_put64(c, r0 + 24, 64)), GRAFT_OK);        /* more than needed: fine */
  /* kernel check: y's shape [2,4] does not match x + w; the failing node is reported */
  memcpy(c, a, n);
  ab_put64(c, ab_tensor_entry(a, 3) + 16, 4);
  ab_put64(c, ab_tensor_entry(a, 3) + 88, 32);
  ab_fix_crcs(c, n);
  uint8_t *cc = ab_copy(c, n);
  CHECK_ST(graft_model_open(m, cc, n, NULL, 0), GRAFT_E_SHAPE);
  CHECK(graft_model_failed_node(m) == 1);
  free(cc);
  /* dtype mismatch for the kernel */
  memcpy(c, a, n);
  ab_put32(c, ab_tensor_entry(a, 1), GRAFT_DTYPE_INT32);
  ab_fix_crcs(c, n);
  cc = ab_copy(c, n);
  CHECK_ST(graft_model_open(m, cc, n, NULL, 0), GRAFT_E_SHAPE);
  CHECK(graft_model_failed_node(m) == 0);
  free(cc);
  free(m);
  free(c);
  free(a);
}

static void test_io(void) {
  current = "io";
  size_t n;
  uint8_t *a = standard_model(&n);
  uint8_t *c = ab_copy(a, n);
  size_t io = ab_section_data(a, 4);
  EDIT(ab_put32(c, io, 2), GRAFT_E_BOUNDS);     /* more inputs than the section holds */
  EDIT(ab_put32(c, io + 4, 0xffffffffu), GRAFT_E_BOUNDS);
  EDIT(ab_put32(c, io + 8, 4), GRAFT_E_BOUNDS); /* index past the table */
  EDIT(ab_put32(c, io + 8, 1), GRAFT_E_FORMAT); /* a weights tensor as input */
  EDIT(ab_put32(c, io, 0), GRAFT_OK);           /* fewer inputs: still a valid archive */
  free(c);
  free(a);
}

static void test_arena(void) {
  current = "arena";
  size_t n;
  uint8_t *a = standard_model(&n);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  graft_session *s = (graft_session *)malloc(sizeof *s);
  uint8_t *arena = (uint8_t *)aligned(256);
  memset(m, 0, sizeof *m);
  CHECK_ST(graft_session_init(s, m, arena, 256), GRAFT_E_ARG);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_OK);
  CHECK_ST(graft_session_init(s, m, arena, 128), GRAFT_E_ARENA_TOO_SMALL);
  CHECK(graft_session_arena_needed(s) == 192 && graft_session_arena_given(s) == 128);
  CHECK(graft_session_input_data(s, 0) == NULL);
  CHECK_ST(graft_session_run(s), GRAFT_E_ARG);
  CHECK_ST(graft_session_init(s, m, NULL, 0), GRAFT_E_ARENA_TOO_SMALL);
  CHECK(graft_session_arena_needed(s) == 192 && graft_session_arena_given(s) == 0);
  CHECK_ST(graft_session_init(s, m, arena + 8, 200), GRAFT_E_ALIGN);
  CHECK_ST(graft_session_init(s, m, arena + 16, 240), GRAFT_E_ALIGN);
  CHECK_ST(graft_session_init(s, m, arena, 192), GRAFT_OK);
  CHECK(graft_session_input_data(s, 0) == arena && graft_session_output_data(s, 0) == arena + 128);
  CHECK(graft_session_input_data(s, 1) == NULL && graft_session_output_data(s, -1) == NULL);
  CHECK(graft_session_tensor_data(s, 2) == arena + 64 && graft_session_tensor_data(s, 4) == NULL);
  CHECK_ST(graft_session_run(NULL), GRAFT_E_ARG);
  /* the model struct re-opened with an archive that needs a larger arena: the bound session
     refuses to run instead of writing past its arena */
  ab_archive *b = ab_new();
  const int64_t d[1] = {16};
  int32_t x = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 1, d, 0, "x");
  int32_t y = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 1, d, 256, "y");
  ab_node(b, GRAFT_KERNEL_copy_any, 1, &x, 1, &y, NULL);
  ab_io(b, 1, &x, 1, &y);
  ab_arena_bytes(b, 320);
  size_t n2;
  uint8_t *a2 = ab_finish(b, &n2);
  ab_free(b);
  CHECK_ST(graft_model_open(m, a2, n2, NULL, 0), GRAFT_OK);
  CHECK_ST(graft_session_run(s), GRAFT_E_ARENA_TOO_SMALL);
  CHECK(graft_session_output_data(s, 0) == NULL);
  free(a2);
  free(arena);
  free(s);
  free(m);
  free(a);
}

static void test_compressed_weights(void) {
  current = "compressed_weights";
  for (int level = 0; level <= 9; level += 9) {
    model_opts o = {level, 0};
    ab_archive *b = model_builder(o);
    size_t n;
    uint8_t *a = ab_finish(b, &n);
    ab_free(b);
    graft_model_sizes sz;
    CHECK_ST(graft_model_probe(a, n, &sz), GRAFT_OK);
    CHECK(sz.weights_bytes == 64); /* 24 raw bytes, rounded up to 64 */
    graft_model *m = (graft_model *)malloc(sizeof *m);
    uint8_t *wbuf = (uint8_t *)aligned(64);
    CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_E_ARENA_TOO_SMALL);
    CHECK(graft_model_weights_bytes(m) == 64);
    CHECK_ST(graft_model_open(m, a, n, wbuf, 63), GRAFT_E_ARENA_TOO_SMALL);
    uint8_t *wmis = (uint8_t *)aligned(128);
    CHECK_ST(graft_model_open(m, a, n, wmis + 4, 100), GRAFT_E_ALIGN);
    free(wmis);
    CHECK_ST(graft_model_open(m, a, n, wbuf, 64), GRAFT_OK);
    CHECK(memcmp(wbuf, W_DATA, sizeof W_DATA) == 0);
    run_and_check(m);
    free(wbuf);
    free(m);
    free(a);
  }
}

/* Compressed but empty WEIGHTS: no buffer needed; a buffer overlapping the archive refused. */
static void test_compressed_empty(void) {
  current = "compressed_empty";
  ab_archive *b = ab_new();
  const int64_t d[1] = {4};
  int32_t x = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 1, d, 0, "x");
  int32_t y = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 1, d, 64, "y");
  ab_node(b, GRAFT_KERNEL_copy_any, 1, &x, 1, &y, NULL);
  ab_io(b, 1, &x, 1, &y);
  ab_arena_bytes(b, 128);
  ab_compress_weights(b, 6);
  size_t n;
  uint8_t *a = ab_finish(b, &n);
  ab_free(b);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_OK);
  CHECK(graft_model_weights_bytes(m) == 0);
  free(a);
  /* overlap: weights buffer inside the archive buffer */
  model_opts o = {6, 0};
  b = model_builder(o);
  a = ab_finish(b, &n);
  ab_free(b);
  uint8_t *big = (uint8_t *)aligned(n + 128);
  memcpy(big, a, n);
  size_t at = (n + 63) / 64 * 64 - 64; /* last 64-aligned offset inside the archive */
  CHECK_ST(graft_model_open(m, big, n, big + at, 64), GRAFT_E_ARG);
  CHECK_ST(graft_model_open(m, big, n, big + (n + 63) / 64 * 64, 64), GRAFT_OK);
  free(big);
  free(m);
  free(a);
}

/* Hand-made WEIGHTS sections: wrong declared sizes and a "bomb". */
static void test_decompress_bad(void) {
  current = "decompress_bad";
  /* 1 MiB of zeros compresses to about 1 KB */
  size_t big = 1u << 20;
  uint8_t *zeros = (uint8_t *)calloc(1, big);
  size_t zn;
  uint8_t *z = ab_zlib_compress(zeros, big, 9, &zn);
  CHECK(!ab_has_zlib() || zn < 4096);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  const uint64_t declared[] = {1000, (uint64_t)big - 1, (uint64_t)big + 1};
  for (size_t i = 0; i < 3; ++i) {
    ab_archive *b = ab_new();
    ab_raw_weights_section(b, z, zn, 1, declared[i]);
    ab_arena_bytes(b, 0);
    size_t n;
    uint8_t *a = ab_finish(b, &n);
    ab_free(b);
    size_t wb = (size_t)((declared[i] + 63) / 64 * 64);
    uint8_t *wbuf = (uint8_t *)aligned(wb);
    CHECK_ST(graft_model_open(m, a, n, wbuf, wb), GRAFT_E_DECOMPRESS);
    free(wbuf);
    free(a);
  }
  /* the right size opens (a model with no nodes, tensors or IO) */
  {
    ab_archive *b = ab_new();
    ab_raw_weights_section(b, z, zn, 1, big);
    size_t n;
    uint8_t *a = ab_finish(b, &n);
    ab_free(b);
    uint8_t *wbuf = (uint8_t *)aligned(big);
    CHECK_ST(graft_model_open(m, a, n, wbuf, big), GRAFT_OK);
    graft_session *s = (graft_session *)malloc(sizeof *s);
    CHECK_ST(graft_session_init(s, m, NULL, 0), GRAFT_OK);
    CHECK_ST(graft_session_run(s), GRAFT_OK);
    free(s);
    /* a huge declared size is refused before any inflation: the buffer is too small */
    ab_archive *b2 = ab_new();
    ab_raw_weights_section(b2, z, zn, 1, UINT64_MAX - 10);
    size_t n2;
    uint8_t *a2 = ab_finish(b2, &n2);
    ab_free(b2);
    CHECK_ST(graft_model_open(m, a2, n2, wbuf, big), GRAFT_E_BOUNDS);
    free(a2);
    b2 = ab_new();
    ab_raw_weights_section(b2, z, zn, 1, 1ull << 40);
    a2 = ab_finish(b2, &n2);
    ab_free(b2);
    CHECK_ST(graft_model_open(m, a2, n2, wbuf, big), GRAFT_E_ARENA_TOO_SMALL);
    CHECK(graft_model_weights_bytes(m) == (1ull << 40));
    free(a2);
    free(wbuf);
    free(a);
  }
  /* not a zlib stream at all */
  {
    const uint8_t junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ab_archive *b = ab_new();
    ab_raw_weights_section(b, junk, 8, 1, 64);
    size_t n;
    uint8_t *a = ab_finish(b, &n);
    ab_free(b);
    uint8_t *wbuf = (uint8_t *)aligned(64);
    CHECK_ST(graft_model_open(m, a, n, wbuf, 64), GRAFT_E_DECOMPRESS);
    free(wbuf);
    free(a);
  }
  free(m);
  free(z);
  free(zeros);
}

/* conv_f32 needs GEMM scratch: the archive must reserve at least what graft_conv_f32_scratch
   asks (else GRAFT_E_BOUNDS at open), and a run with it matches a naive double convolution. */
static void test_conv_scratch(void) {
  current = "conv_scratch";
  enum { CI = 2, CO = 3, H = 5, W = 5, K = 3 };
  float wdata[CO * CI * K * K], bdata[CO], xin[CI * H * W];
  for (int i = 0; i < CO * CI * K * K; ++i) wdata[i] = (float)((int)(rnd() % 200) - 100) / 64.0f;
  for (int i = 0; i < CO; ++i) bdata[i] = (float)((int)(rnd() % 100) - 50) / 16.0f;
  for (int i = 0; i < CI * H * W; ++i) xin[i] = (float)((int)(rnd() % 200) - 100) / 32.0f;
  const int64_t xd[4] = {1, CI, H, W}, wd[4] = {CO, CI, K, K}, bd[1] = {CO}, yd[4] = {1, CO, H, W};
  const int64_t ks[2] = {K, K}, st[2] = {1, 1}, dl[2] = {1, 1}, pads[4] = {1, 1, 1, 1};
  /* the kernel's own scratch need for these shapes */
  graft_tensor tx = {0}, tw = {0}, tb = {0}, ty = {0};
  tx.dtype = tw.dtype = tb.dtype = ty.dtype = GRAFT_DTYPE_FLOAT32;
  tx.rank = tw.rank = ty.rank = 4;
  tb.rank = 1;
  memcpy(tx.dims, xd, sizeof xd);
  memcpy(tw.dims, wd, sizeof wd);
  memcpy(tb.dims, bd, sizeof bd);
  memcpy(ty.dims, yd, sizeof yd);
  const graft_tensor *ins[3] = {&tx, &tw, &tb};
  graft_tensor *outs[1] = {&ty};
  int64_t one = 1;
  graft_attr attrs[5] = {{GRAFT_ATTR_KERNEL_SHAPE, GRAFT_ATTR_T_INTS, 2, ks, NULL},
                         {GRAFT_ATTR_STRIDES, GRAFT_ATTR_T_INTS, 2, st, NULL},
                         {GRAFT_ATTR_DILATIONS, GRAFT_ATTR_T_INTS, 2, dl, NULL},
                         {GRAFT_ATTR_PADS, GRAFT_ATTR_T_INTS, 4, pads, NULL},
                         {GRAFT_ATTR_GROUP, GRAFT_ATTR_T_INT, 1, &one, NULL}};
  graft_call call = {ins, outs, 3, 1, attrs, 5, NULL, 0};
  CHECK_ST(graft_conv_f32_check(&call), GRAFT_OK);
  size_t need = graft_conv_f32_scratch(&call);
  CHECK(need > 0); /* this shape takes the GEMM path */
  uint64_t need64 = (need + 63) / 64 * 64;
  for (int enough = 0; enough <= 1; ++enough) {
    ab_archive *b = ab_new();
    int32_t x = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 4, xd, 0, "x");
    int32_t w = ab_weight_tensor(b, GRAFT_DTYPE_FLOAT32, 4, wd, wdata, "w");
    int32_t bias = ab_weight_tensor(b, GRAFT_DTYPE_FLOAT32, 1, bd, bdata, "b");
    int32_t y = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 4, yd, 256, "y");
    int32_t in[3] = {x, w, bias}, out[1] = {y};
    ab_node(b, GRAFT_KERNEL_conv_f32, 3, in, 1, out, "/conv");
    ab_attr_ints(b, GRAFT_ATTR_KERNEL_SHAPE, 2, ks);
    ab_attr_ints(b, GRAFT_ATTR_STRIDES, 2, st);
    ab_attr_ints(b, GRAFT_ATTR_DILATIONS, 2, dl);
    ab_attr_ints(b, GRAFT_ATTR_PADS, 4, pads);
    ab_attr_int(b, GRAFT_ATTR_GROUP, 1);
    uint64_t scratch = enough ? need64 : (need64 >= 64 ? need64 - 64 : 0);
    if (scratch) ab_scratch(b, 640, scratch);
    ab_io(b, 1, &x, 1, &y);
    ab_arena_bytes(b, 640 + scratch);
    size_t n;
    uint8_t *a = ab_finish(b, &n);
    ab_free(b);
    graft_model *m = (graft_model *)malloc(sizeof *m);
    graft_status want = (enough || need == 0) ? GRAFT_OK : GRAFT_E_BOUNDS;
    CHECK_ST(graft_model_open(m, a, n, NULL, 0), want);
    if (!enough && need > 0) CHECK(graft_model_failed_node(m) == 0);
    if (enough) {
      size_t ab = (size_t)graft_model_arena_bytes(m);
      uint8_t *arena = (uint8_t *)aligned(ab);
      graft_session *s = (graft_session *)malloc(sizeof *s);
      CHECK_ST(graft_session_init(s, m, arena, ab), GRAFT_OK);
      memcpy(graft_session_input_data(s, 0), xin, sizeof xin);
      CHECK_ST(graft_session_run(s), GRAFT_OK);
      const float *yo = (const float *)graft_session_output_data(s, 0);
      double worst = 0;
      for (int co = 0; co < CO; ++co)
        for (int oh = 0; oh < H; ++oh)
          for (int ow = 0; ow < W; ++ow) {
            double acc = bdata[co];
            for (int ci = 0; ci < CI; ++ci)
              for (int kh = 0; kh < K; ++kh)
                for (int kw = 0; kw < K; ++kw) {
                  int ih = oh + kh - 1, iw = ow + kw - 1;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                  acc += (double)wdata[((co * CI + ci) * K + kh) * K + kw] * (double)xin[(ci * H + ih) * W + iw];
                }
            double d = fabs(acc - (double)yo[(co * H + oh) * W + ow]);
            if (d > worst) worst = d;
          }
      CHECK(worst < 1e-4);
      free(s);
      free(arena);
    }
    free(m);
    free(a);
  }
}

/* A data-dependent kernel failure at run time: the status and the failing node. */
static void test_run_failure(void) {
  current = "run_failure";
  ab_archive *b = ab_new();
  const float data[4] = {10.0f, 20.0f, 30.0f, 40.0f};
  const int64_t d4[1] = {4}, d2[1] = {2};
  int32_t dt = ab_weight_tensor(b, GRAFT_DTYPE_FLOAT32, 1, d4, data, "data");
  int32_t idx = ab_arena_tensor(b, GRAFT_DTYPE_INT64, 1, d2, 0, "idx");
  int32_t g = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 1, d2, 64, "g");
  int32_t r = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 1, d2, 128, "r");
  int32_t in1[2] = {dt, idx}, out1[1] = {g};
  ab_node(b, GRAFT_KERNEL_gather_any, 2, in1, 1, out1, "/gather");
  ab_attr_int(b, GRAFT_ATTR_AXIS, 0);
  int32_t in2[1] = {g}, out2[1] = {r};
  ab_node(b, GRAFT_KERNEL_act_f32, 1, in2, 1, out2, "/relu");
  ab_attr_int(b, GRAFT_ATTR_ACT, GRAFT_ACT_RELU);
  ab_io(b, 1, &idx, 1, &r);
  ab_arena_bytes(b, 192);
  size_t n;
  uint8_t *a = ab_finish(b, &n);
  ab_free(b);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  graft_session *s = (graft_session *)malloc(sizeof *s);
  uint8_t *arena = (uint8_t *)aligned(192);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_OK);
  CHECK_ST(graft_session_init(s, m, arena, 192), GRAFT_OK);
  int64_t *ix = (int64_t *)graft_session_input_data(s, 0);
  ix[0] = 3;
  ix[1] = -4; /* negative indices count from the end (ONNX) */
  CHECK_ST(graft_session_run(s), GRAFT_OK);
  const float *out = (const float *)graft_session_output_data(s, 0);
  CHECK(out[0] == data[3] && out[1] == data[0]);
  ix[1] = 4;
  CHECK_ST(graft_session_run(s), GRAFT_E_NUMERIC);
  CHECK(graft_session_failed_node(s) == 0);
  ix[1] = 1;
  CHECK_ST(graft_session_run(s), GRAFT_OK);
  CHECK(graft_session_failed_node(s) == -1);
  free(arena);
  free(s);
  free(m);
  free(a);
}

/* copy_any may write over its input (same offset): a reshape that costs nothing. */
static void test_copy_alias(void) {
  current = "copy_alias";
  ab_archive *b = ab_new();
  const int64_t d23[2] = {2, 3}, d32[2] = {3, 2};
  int32_t x = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, d23, 0, "x");
  int32_t y = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, d32, 0, "y");
  ab_node(b, GRAFT_KERNEL_copy_any, 1, &x, 1, &y, "/reshape");
  ab_io(b, 1, &x, 1, &y);
  ab_arena_bytes(b, 64);
  size_t n;
  uint8_t *a = ab_finish(b, &n);
  ab_free(b);
  graft_model *m = (graft_model *)malloc(sizeof *m);
  graft_session *s = (graft_session *)malloc(sizeof *s);
  uint8_t *arena = (uint8_t *)aligned(64);
  CHECK_ST(graft_model_open(m, a, n, NULL, 0), GRAFT_OK);
  CHECK_ST(graft_session_init(s, m, arena, 64), GRAFT_OK);
  memcpy(graft_session_input_data(s, 0), X_IN, sizeof X_IN);
  CHECK_ST(graft_session_run(s), GRAFT_OK);
  CHECK(memcmp(graft_session_output_data(s, 0), X_IN, sizeof X_IN) == 0);
  graft_tensor v;
  CHECK_ST(graft_model_output(m, 0, &v), GRAFT_OK);
  CHECK(v.rank == 2 && v.dims[0] == 3 && v.dims[1] == 2);
  free(arena);
  free(s);
  free(m);
  free(a);
}

/* Structure fuzz: random byte edits anywhere in the header, table or sections, with the CRCs
   fixed afterwards so that the deeper validation runs. open must never crash or read out of
   bounds (ASan build); when it accepts the archive, a session must run without touching
   memory outside the arena and weights. */
static void test_structure_fuzz(void) {
  current = "structure_fuzz";
  int ok = 1, accepted = 0, rejected = 0;
  graft_model *m = (graft_model *)malloc(sizeof *m);
  graft_session *s = (graft_session *)malloc(sizeof *s);
  uint8_t *wbuf = (uint8_t *)aligned(4096);
  for (int compressed = 0; compressed <= 1; ++compressed) {
    model_opts o = {compressed ? 6 : -1, 0};
    ab_archive *b = model_builder(o);
    size_t n;
    uint8_t *a = ab_finish(b, &n);
    ab_free(b);
    for (int r = 0; r < 3000; ++r) {
      uint8_t *c = ab_copy(a, n);
      int edits = 1 + (int)(rnd() % 3);
      for (int e = 0; e < edits; ++e) {
        size_t at = 12 + rnd() % (n - 12); /* keep magic and version */
        uint32_t how = rnd() % 4;
        if (how == 0) c[at] ^= (uint8_t)(1u << (rnd() % 8));
        else if (how == 1) c[at] = (uint8_t)rnd();
        else if (how == 2) c[at] = 0xff;
        else c[at] = (uint8_t)(c[at] + 1);
      }
      ab_fix_crcs(c, n);
      graft_status st = graft_model_open(m, c, n, wbuf, 4096);
      if (st == GRAFT_OK) {
        ++accepted;
        uint64_t need = graft_model_arena_bytes(m);
        if (need <= (1u << 20)) {
          uint8_t *arena = (uint8_t *)aligned((size_t)need);
          if (graft_session_init(s, m, arena, (size_t)need) != GRAFT_OK) ok = 0;
          else {
            memset(arena, 0, (size_t)need); /* defined input data */
            graft_status rs = graft_session_run(s);
            if (rs > 0) ok = 0;
          }
          free(arena);
        }
      } else {
        ++rejected;
        if (st > 0 || strcmp(graft_status_name(st), "GRAFT_E_UNKNOWN") == 0) ok = 0;
      }
      free(c);
    }
    free(a);
  }
  CHECK(ok);
  CHECK(rejected > 1000);
  printf("  structure fuzz: %d accepted, %d rejected\n", accepted, rejected);
  free(wbuf);
  free(s);
  free(m);
}

int main(void) {
  test_status_names();
  test_kernel_table();
  test_crc32();
  test_inflate_roundtrip();
  test_inflate_fuzz();
  test_open_and_run();
  test_no_strings();
  test_observer();
  test_truncated();
  test_bit_flips();
  test_header_fields();
  test_sections();
  test_tensors();
  test_quant_view();
  test_nodes();
  test_io();
  test_arena();
  test_compressed_weights();
  test_compressed_empty();
  test_decompress_bad();
  test_conv_scratch();
  test_run_failure();
  test_copy_alias();
  test_structure_fuzz();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
