/* run_archive.c — a minimal C driver of the Graft runtime, for valgrind runs
 * (scripts/sanitizers.sh): reads a .graft archive and .npy inputs, opens the model, runs one
 * session and compares output 0 with a reference .npy.
 *
 *   run_archive MODEL.graft [--input FILE.npy]... [--expect FILE.npy --rtol R]
 *
 * Contract: every buffer is malloc'd at exactly the size the runtime asks for (archive,
 * weights, arena), everything is freed before exit, so valgrind's leak check and invalid
 * read/write detection cover the runtime. Inputs are matched to model inputs by position and
 * must have exactly the input's byte size. Exit 0 when the run succeeds and (with --expect)
 * max |output - reference| <= R * max |reference| (output 0, float32; the rule of the model
 * tests, R = 1e-4 there); 1 otherwise, with a one-line reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graft.h"

typedef struct blob {
  unsigned char *data;
  size_t bytes;
} blob;

static int read_file(const char *path, blob *out) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t cap = 1 << 16, n = 0;
  unsigned char *p = malloc(cap);
  while (p) {
    size_t r = fread(p + n, 1, cap - n, f);
    n += r;
    if (n < cap) break;
    unsigned char *q = realloc(p, cap * 2);
    if (!q) { free(p); p = NULL; break; }
    p = q;
    cap *= 2;
  }
  fclose(f);
  if (!p) return 0;
  out->data = p;
  out->bytes = n;
  return 1;
}

/* The data of a .npy file (version 1-3): pointer and size past the header. */
static int npy_data(const blob *b, const unsigned char **data, size_t *bytes) {
  if (b->bytes < 10 || memcmp(b->data, "\x93NUMPY", 6) != 0) return 0;
  size_t start, len;
  if (b->data[6] == 1) {
    len = (size_t)b->data[8] | (size_t)b->data[9] << 8;
    start = 10;
  } else {
    if (b->bytes < 12) return 0;
    len = (size_t)b->data[8] | (size_t)b->data[9] << 8 | (size_t)b->data[10] << 16 | (size_t)b->data[11] << 24;
    start = 12;
  }
  if (start + len > b->bytes) return 0;
  *data = b->data + start + len;
  *bytes = b->bytes - start - len;
  return 1;
}

static void *aligned(size_t n) {
  void *p = NULL;
  return posix_memalign(&p, 64, n ? n : 64) == 0 ? p : NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: run_archive MODEL.graft [--input FILE.npy]... [--expect FILE.npy --rtol R]\n");
    return 2;
  }
  const char *inputs[16];
  int n_inputs = 0;
  const char *expect = NULL;
  double rtol = 0;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--input") == 0 && i + 1 < argc && n_inputs < 16) inputs[n_inputs++] = argv[++i];
    else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc) expect = argv[++i];
    else if (strcmp(argv[i], "--rtol") == 0 && i + 1 < argc) rtol = atof(argv[++i]);
    else { fprintf(stderr, "run_archive: unexpected argument '%s'\n", argv[i]); return 2; }
  }
  int rc = 1;
  blob file = {0}, ref = {0};
  void *archive = NULL, *weights = NULL, *arena = NULL;
  graft_model *model = calloc(1, sizeof *model);
  graft_session *session = calloc(1, sizeof *session);
  if (!model || !session || !read_file(argv[1], &file)) {
    fprintf(stderr, "%s: cannot read archive\n", argv[1]);
    goto done;
  }
  archive = aligned(file.bytes);
  if (!archive) goto done;
  memcpy(archive, file.data, file.bytes);
  graft_model_sizes sz;
  graft_status st = graft_model_probe(archive, file.bytes, &sz);
  if (st != GRAFT_OK) { fprintf(stderr, "%s: probe: %s\n", argv[1], graft_status_name(st)); goto done; }
  if (sz.weights_bytes) weights = aligned((size_t)sz.weights_bytes);
  st = graft_model_open(model, archive, file.bytes, weights, (size_t)sz.weights_bytes);
  if (st != GRAFT_OK) { fprintf(stderr, "%s: open: %s\n", argv[1], graft_status_name(st)); goto done; }
  size_t arena_bytes = (size_t)graft_model_arena_bytes(model);
  arena = aligned(arena_bytes);
  if (!arena) goto done;
  st = graft_session_init(session, model, arena, arena_bytes);
  if (st != GRAFT_OK) { fprintf(stderr, "%s: session: %s\n", argv[1], graft_status_name(st)); goto done; }
  if (n_inputs != graft_model_input_count(model)) {
    fprintf(stderr, "%s: model has %d inputs, %d given\n", argv[1], (int)graft_model_input_count(model), n_inputs);
    goto done;
  }
  for (int i = 0; i < n_inputs; i++) {
    blob in = {0};
    const unsigned char *d;
    size_t n;
    int ok = read_file(inputs[i], &in) && npy_data(&in, &d, &n) && n == graft_model_input_bytes(model, i);
    if (ok) memcpy(graft_session_input_data(session, i), d, n);
    free(in.data);
    if (!ok) { fprintf(stderr, "%s: not a .npy of input %d's size\n", inputs[i], i); goto done; }
  }
  st = graft_session_run(session);
  if (st != GRAFT_OK) {
    fprintf(stderr, "%s: run: %s at node %d\n", argv[1], graft_status_name(st), (int)graft_session_failed_node(session));
    goto done;
  }
  if (expect) {
    const unsigned char *d;
    size_t n;
    graft_tensor v;
    if (!read_file(expect, &ref) || !npy_data(&ref, &d, &n) || graft_model_output(model, 0, &v) != GRAFT_OK ||
        v.dtype != GRAFT_DTYPE_FLOAT32 || n != graft_model_output_bytes(model, 0)) {
      fprintf(stderr, "%s: not a float32 .npy of output 0's size\n", expect);
      goto done;
    }
    const float *y = graft_session_output_data(session, 0);
    double worst = 0, peak = 0;
    for (size_t k = 0; k < n / 4; k++) {
      float r;
      memcpy(&r, d + 4 * k, 4);
      double e = (double)y[k] - (double)r;
      if (e < 0) e = -e;
      if (!(e <= worst)) worst = e;  /* NaN counts as worst */
      double a = r < 0 ? -(double)r : (double)r;
      if (a > peak) peak = a;
    }
    double tol = rtol * peak;
    printf("%s: output 0 max abs diff %.3g (tolerance %.3g)\n", argv[1], worst, tol);
    if (!(worst <= tol)) goto done;
  }
  rc = 0;
done:
  free(ref.data);
  free(file.data);
  free(arena);
  free(weights);
  free(archive);
  free(session);
  free(model);
  return rc;
}
