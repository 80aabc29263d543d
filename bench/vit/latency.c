/* Accuracy and latency of one .graft classifier on a set of images, through the C runtime.

   usage: latency MODEL.graft IMAGES.f32 LABELS.i64 COUNT [REPEATS]

   IMAGES.f32 holds COUNT inputs back to back (float32, the model's one input shape);
   LABELS.i64 holds COUNT int64 labels. Prints one line:
     correct=<n> count=<COUNT> median_us=<median per-image run time> min_us=<min>
   Timing covers graft_session_run only (CLOCK_MONOTONIC), over the first min(COUNT, 200)
   images run REPEATS times (default 5). Benchmark harness, not product code: it allocates. */
#include "graft.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 64-byte-aligned allocation (posix_memalign: C99 has no aligned_alloc), NULL on failure. */
static void *alloc64(size_t n) {
  void *p = NULL;
  return posix_memalign(&p, 64, n ? n : 64) == 0 ? p : NULL;
}

static void *read_all(const char *path, size_t *bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *p = alloc64((size_t)n + 64);
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
  fclose(f);
  *bytes = (size_t)n;
  return p;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: latency MODEL.graft IMAGES.f32 LABELS.i64 COUNT [REPEATS]\n"); return 2; }
  size_t ab = 0, ib = 0, lb = 0;
  void *archive = read_all(argv[1], &ab);
  float *images = read_all(argv[2], &ib);
  int64_t *labels = read_all(argv[3], &lb);
  long count = atol(argv[4]);
  int repeats = argc > 5 ? atoi(argv[5]) : 5;
  if (!archive || !images || !labels) { fprintf(stderr, "cannot read inputs\n"); return 1; }
  graft_model_sizes sizes;
  graft_status st = graft_model_probe(archive, ab, &sizes);
  if (st != GRAFT_OK) { fprintf(stderr, "probe: %s\n", graft_status_name(st)); return 1; }
  void *weights = sizes.weights_bytes ? alloc64((size_t)sizes.weights_bytes) : NULL;
  graft_model m;
  st = graft_model_open(&m, archive, ab, weights, (size_t)sizes.weights_bytes);
  if (st != GRAFT_OK) { fprintf(stderr, "open: %s\n", graft_status_name(st)); return 1; }
  size_t arena_bytes = (size_t)graft_model_arena_bytes(&m);
  void *arena = alloc64(arena_bytes + 64);
  graft_session s;
  st = graft_session_init(&s, &m, arena, arena_bytes);
  if (st != GRAFT_OK) { fprintf(stderr, "session: %s\n", graft_status_name(st)); return 1; }
  size_t in_bytes = (size_t)graft_model_input_bytes(&m, 0);
  size_t out_count = (size_t)graft_model_output_bytes(&m, 0) / sizeof(float);
  if ((size_t)count * in_bytes > ib || (size_t)count * sizeof(int64_t) > lb) { fprintf(stderr, "short input files\n"); return 1; }
  long correct = 0;
  for (long i = 0; i < count; i++) {
    memcpy(graft_session_input_data(&s, 0), (const char *)images + i * in_bytes, in_bytes);
    st = graft_session_run(&s);
    if (st != GRAFT_OK) { fprintf(stderr, "run: %s\n", graft_status_name(st)); return 1; }
    const float *y = graft_session_output_data(&s, 0);
    size_t best = 0;
    for (size_t k = 1; k < out_count; k++) if (y[k] > y[best]) best = k;
    correct += (int64_t)best == labels[i];
  }
  long timed = count < 200 ? count : 200;
  double *t = malloc(sizeof(double) * (size_t)(timed * repeats));
  for (int r = 0; r < repeats; r++) {
    for (long i = 0; i < timed; i++) {
      memcpy(graft_session_input_data(&s, 0), (const char *)images + i * in_bytes, in_bytes);
      double t0 = now_us();
      graft_session_run(&s);
      t[r * timed + i] = now_us() - t0;
    }
  }
  qsort(t, (size_t)(timed * repeats), sizeof(double), cmp_double);
  printf("correct=%ld count=%ld median_us=%.1f min_us=%.1f\n", correct, count, t[timed * repeats / 2], t[0]);
  return 0;
}
