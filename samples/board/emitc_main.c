/*
 * emitc_main.c — a driver for code written by `graft emit-c`: runs the emitted model once on
 * .npy inputs and writes output_K.npy files. Build it with the emitted NAME.c, NAME.weights.S
 * and libgraft.a, defining GRAFT_EMITTED to NAME (the identifier) and including NAME.h:
 *
 *   cc -O2 -Iruntime/include -I. -DGRAFT_EMITTED=m -DGRAFT_EMITTED_UPPER=M '-DGRAFT_EMITTED_HEADER="m.h"' \
 *      emitc_main.c m.c m.weights.S libgraft.a -lm -Wl,--gc-sections -o m_run
 *   ./m_run OUTDIR in0.npy [in1.npy ...]
 *
 * Contract: inputs in the model's input order; each .npy's data must be exactly the input's
 * byte size (dtype and shape are the caller's responsibility: this driver checks the size
 * only). The arena is malloc'ed once, 64-byte aligned. Failures print one line and exit 1.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include GRAFT_EMITTED_HEADER

#define CAT3_(a, b, c) a##b##c
#define CAT3(a, b, c) CAT3_(a, b, c)
#define RUN CAT3(graft_, GRAFT_EMITTED, _run)
#define WEIGHTS CAT3(graft_, GRAFT_EMITTED, _weights)
#define MU(suffix) CAT3(GRAFT_, GRAFT_EMITTED_UPPER, suffix)

static void fail(const char *file, const char *what) {
  fprintf(stderr, "emitc_main: %s: %s\n", file, what);
  exit(1);
}

static void read_npy(const char *path, void *dst, size_t bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) fail(path, "cannot open");
  unsigned char pre[12];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) fail(path, "not a .npy file");
  size_t hlen;
  if (pre[6] == 1) {
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
  } else {
    if (fread(pre + 10, 1, 2, f) != 2) fail(path, "truncated");
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
  }
  if (fseek(f, (long)hlen, SEEK_CUR) != 0) fail(path, "truncated");
  if (bytes && fread(dst, 1, bytes, f) != bytes) fail(path, "data shorter than the model input");
  if (fgetc(f) != EOF) fail(path, "data longer than the model input");
  fclose(f);
}

/* Writes the bytes as a 1-D uint8 .npy (the reader knows dtype and shape from the header). */
static void write_npy(const char *path, const void *data, size_t bytes) {
  char header[128];
  int hl = snprintf(header, sizeof header, "{'descr': '|u1', 'fortran_order': False, 'shape': (%lu,), }",
                    (unsigned long)bytes);
  int total = ((10 + hl + 1 + 63) / 64) * 64;
  while (10 + hl + 1 < total) header[hl++] = ' ';
  header[hl++] = '\n';
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)hl, 0};
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(pre, 1, 10, f) != 10 || fwrite(header, 1, (size_t)hl, f) != (size_t)hl ||
      fwrite(data, 1, bytes, f) != bytes || fclose(f) != 0)
    fail(path, "cannot write");
}

int main(int argc, char **argv) {
  static const size_t in_off[] = {MU(_INPUT_OFFSETS)}, in_bytes[] = {MU(_INPUT_SIZES)};
  static const size_t out_off[] = {MU(_OUTPUT_OFFSETS)}, out_bytes[] = {MU(_OUTPUT_SIZES)};
  int nin = (int)(sizeof in_off / sizeof in_off[0]), nout = (int)(sizeof out_off / sizeof out_off[0]);
  if (argc != 2 + nin) {
    fprintf(stderr, "usage: %s OUTDIR INPUT.npy x %d\n", argv[0], nin);
    return 2;
  }
  unsigned char *base = (unsigned char *)malloc(MU(_ARENA_BYTES) + 64);
  if (!base) fail(argv[0], "out of memory");
  unsigned char *arena = base + ((64 - ((size_t)base & 63)) & 63);
  for (int i = 0; i < nin; ++i) read_npy(argv[2 + i], arena + in_off[i], in_bytes[i]);
  graft_status st = RUN(arena, WEIGHTS);
  if (st != GRAFT_OK) fail(argv[0], "run failed");
  for (int i = 0; i < nout; ++i) {
    char path[4096];
    snprintf(path, sizeof path, "%s/output_%d.npy", argv[1], i);
    write_npy(path, arena + out_off[i], out_bytes[i]);
  }
  free(base);
  return 0;
}
