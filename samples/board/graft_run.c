/*
 * graft_run.c — the sample board program: runs a .graft archive on .npy inputs and writes
 * .npy outputs, printing the latency.
 *
 *   graft_run MODEL.graft [-n RUNS] [-o OUTDIR] [-q] [-r] [INPUT.npy ...]
 *
 * Contract
 * - Inputs are given in the model's input order, one .npy file each (NumPy format 1.0-3.0,
 *   C order, little-endian; its dtype and shape must equal the model input's exactly). With no
 *   input files every input is zero-filled (for timing only).
 * - Outputs go to OUTDIR/output_K.npy (K = position in the model's output list; OUTDIR
 *   defaults to "."), written after the last run. The archive names of inputs and outputs are
 *   printed.
 * - Prints "latency: median M ms, min N ms over R runs" (one warm-up run first when R > 1;
 *   timing covers graft_session_run only).
 * - The archive is memory-mapped read-only (page-aligned, so 64-byte aligned; uncompressed
 *   weights are used in place), or with -r read into a 64-byte aligned heap buffer. "open"
 *   is graft_model_open on it: probe, CRCs, validation, page faults of a mapped file.
 * - All other memory (inflated weights, arena) is allocated once, 64-byte aligned, before
 *   the first run; the runtime itself never allocates.
 * - Every failure prints one line "graft_run: FILE: what" to stderr and exits 1 (2 for usage).
 *
 * C99 plus POSIX (clock_gettime, mmap). No dependency other than the Graft runtime and libc/libm.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graft.h"

#define MAX_IO 64

static void fail(const char *file, const char *what) {
  fprintf(stderr, "graft_run: %s: %s\n", file, what);
  exit(1);
}

/* malloc'ed block with a 64-byte aligned pointer inside; *base is what to free. */
static void *alloc_aligned(size_t bytes, void **base) {
  unsigned char *p = (unsigned char *)malloc(bytes + 64);
  if (!p) return NULL;
  *base = p;
  return p + ((64 - ((uintptr_t)p & 63)) & 63);
}

/* Reads a whole file into a 64-byte aligned buffer. */
static void *read_file(const char *path, size_t *size, void **base) {
  FILE *f = fopen(path, "rb");
  if (!f) fail(path, "cannot open");
  if (fseek(f, 0, SEEK_END) != 0) fail(path, "cannot seek");
  long n = ftell(f);
  if (n < 0) fail(path, "cannot tell size");
  rewind(f);
  void *buf = alloc_aligned((size_t)n, base);
  if (!buf) fail(path, "out of memory");
  if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) fail(path, "short read");
  fclose(f);
  *size = (size_t)n;
  return buf;
}

/* NumPy descr ("<f4") for an ONNX dtype, or NULL. */
static const char *npy_descr(int32_t dtype) {
  switch (dtype) {
  case GRAFT_DTYPE_FLOAT32: return "<f4";
  case GRAFT_DTYPE_UINT8: return "|u1";
  case GRAFT_DTYPE_INT8: return "|i1";
  case GRAFT_DTYPE_UINT16: return "<u2";
  case GRAFT_DTYPE_INT16: return "<i2";
  case GRAFT_DTYPE_INT32: return "<i4";
  case GRAFT_DTYPE_INT64: return "<i8";
  case GRAFT_DTYPE_BOOL: return "|b1";
  case GRAFT_DTYPE_FLOAT16: return "<f2";
  case GRAFT_DTYPE_FLOAT64: return "<f8";
  case GRAFT_DTYPE_UINT32: return "<u4";
  case GRAFT_DTYPE_UINT64: return "<u8";
  default: return NULL;
  }
}

/* Same type code, ignoring '<' versus '|' (both mean native little-endian or no order). */
static int descr_equal(const char *a, const char *b) {
  return strlen(a) == 3 && strlen(b) == 3 && a[1] == b[1] && a[2] == b[2] && a[0] != '>' && b[0] != '>';
}

/* Copies the data of .npy file `path` into dst after checking dtype and shape against `want`. */
static void npy_read_into(const char *path, const graft_tensor *want, void *dst, size_t dst_bytes) {
  void *base;
  size_t n;
  const unsigned char *b = (const unsigned char *)read_file(path, &n, &base);
  if (n < 10 || memcmp(b, "\x93NUMPY", 6) != 0) fail(path, "not a .npy file");
  size_t hlen, hstart;
  if (b[6] == 1) {
    hlen = (size_t)b[8] | (size_t)b[9] << 8;
    hstart = 10;
  } else if (b[6] == 2 || b[6] == 3) {
    if (n < 12) fail(path, "truncated .npy header");
    hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    hstart = 12;
  } else {
    fail(path, "unsupported .npy version");
    return;
  }
  if (hlen > n - hstart || hlen > 65535) fail(path, "truncated .npy header");
  char header[65536];
  memcpy(header, b + hstart, hlen);
  header[hlen] = 0;
  /* descr */
  const char *d = strstr(header, "'descr'");
  if (!d || !(d = strchr(d + 7, '\''))) fail(path, "no descr in .npy header");
  char descr[16] = {0};
  size_t k = 0;
  for (++d; *d && *d != '\'' && k < sizeof descr - 1; ++d) descr[k++] = *d;
  const char *wantd = npy_descr(want->dtype);
  if (!wantd || !descr_equal(descr, wantd)) {
    char msg[128];
    snprintf(msg, sizeof msg, "dtype %s; the model input needs %s", descr, wantd ? wantd : "an unsupported type");
    fail(path, msg);
  }
  const char *fo = strstr(header, "'fortran_order'");
  if (fo && strstr(fo, "True") && strstr(fo, "True") < strchr(fo, ',')) fail(path, "fortran_order arrays are not supported");
  const char *s = strstr(header, "'shape'");
  if (!s || !(s = strchr(s, '('))) fail(path, "no shape in .npy header");
  int64_t dims[GRAFT_MAX_RANK];
  int rank = 0;
  for (++s; *s && *s != ')';) {
    while (*s == ' ' || *s == ',') ++s;
    if (*s == ')') break;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s) fail(path, "bad shape in .npy header");
    if (rank >= GRAFT_MAX_RANK) fail(path, "rank above 8");
    dims[rank++] = v;
    s = end;
    while (*s == 'L' || *s == ' ') ++s;
  }
  int same = rank == want->rank;
  for (int i = 0; same && i < rank; ++i) same = dims[i] == want->dims[i];
  if (!same) fail(path, "shape differs from the model input's");
  size_t data_off = hstart + hlen;
  if (n - data_off < dst_bytes) fail(path, "data shorter than its shape");
  memcpy(dst, b + data_off, dst_bytes);
  free(base);
}

static void npy_write(const char *path, const graft_tensor *t, const void *data, size_t bytes) {
  const char *descr = npy_descr(t->dtype);
  if (!descr) fail(path, "output dtype has no .npy form");
  char shape[256] = "(";
  for (int i = 0; i < t->rank; ++i) {
    size_t l = strlen(shape);
    snprintf(shape + l, sizeof shape - l, "%lld%s", (long long)t->dims[i], t->rank == 1 ? "," : (i + 1 < t->rank ? ", " : ""));
  }
  strcat(shape, ")");
  char header[512];
  int hl = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
  /* pad with spaces so that 10 + header length is a multiple of 64, ending in '\n' */
  int total = ((10 + hl + 1 + 63) / 64) * 64;
  while (10 + hl + 1 < total) header[hl++] = ' ';
  header[hl++] = '\n';
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 255), (unsigned char)(hl >> 8)};
  FILE *f = fopen(path, "wb");
  if (!f) fail(path, "cannot create");
  if (fwrite(pre, 1, 10, f) != 10 || fwrite(header, 1, (size_t)hl, f) != (size_t)hl ||
      (bytes && fwrite(data, 1, bytes, f) != bytes))
    fail(path, "write failed");
  if (fclose(f) != 0) fail(path, "write failed");
}

/* Maps a file read-only; NULL when it cannot (then the caller reads it instead). */
static void *map_file(const char *path, size_t *size) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) fail(path, "cannot open");
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) {
    close(fd);
    return NULL;
  }
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return NULL;
  *size = (size_t)st.st_size;
  return p;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void usage(void) {
  fprintf(stderr, "usage: graft_run MODEL.graft [-n RUNS] [-o OUTDIR] [-q] [-r] [INPUT.npy ...]\n");
  exit(2);
}

static graft_model model;
static graft_session session;

int main(int argc, char **argv) {
  const char *archive_path = NULL, *outdir = ".";
  const char *inputs[MAX_IO];
  int n_inputs = 0, runs = 1, quiet = 0, use_read = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
      runs = atoi(argv[++i]);
      if (runs < 1 || runs > 100000) usage();
    } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      outdir = argv[++i];
    } else if (strcmp(argv[i], "-q") == 0) {
      quiet = 1;
    } else if (strcmp(argv[i], "-r") == 0) {
      use_read = 1;
    } else if (argv[i][0] == '-') {
      usage();
    } else if (!archive_path) {
      archive_path = argv[i];
    } else if (n_inputs < MAX_IO) {
      inputs[n_inputs++] = argv[i];
    } else {
      usage();
    }
  }
  if (!archive_path) usage();

  void *archive_base = NULL, *weights_base = NULL, *arena_base = NULL;
  size_t archive_bytes = 0;
  void *archive = use_read ? NULL : map_file(archive_path, &archive_bytes);
  int mapped = archive != NULL;
  if (!archive) archive = read_file(archive_path, &archive_bytes, &archive_base);
  graft_model_sizes sz;
  graft_status st = graft_model_probe(archive, archive_bytes, &sz);
  if (st != GRAFT_OK) fail(archive_path, graft_status_name(st));
  void *weights = NULL;
  if (sz.weights_bytes > 0 && !(weights = alloc_aligned((size_t)sz.weights_bytes, &weights_base)))
    fail(archive_path, "out of memory for weights");
  double t0 = now_ms();
  st = graft_model_open(&model, archive, archive_bytes, weights, (size_t)sz.weights_bytes);
  double t_open = now_ms() - t0;
  if (st != GRAFT_OK) {
    char msg[160];
    snprintf(msg, sizeof msg, "cannot open archive (node %d): %s", (int)graft_model_failed_node(&model),
             graft_status_name(st));
    fail(archive_path, msg);
  }
  size_t arena_bytes = (size_t)graft_model_arena_bytes(&model);
  void *arena = arena_bytes ? alloc_aligned(arena_bytes, &arena_base) : NULL;
  if (arena_bytes && !arena) fail(archive_path, "out of memory for the arena");
  st = graft_session_init(&session, &model, arena, arena_bytes);
  if (st != GRAFT_OK) fail(archive_path, graft_status_name(st));

  int32_t nin = graft_model_input_count(&model), nout = graft_model_output_count(&model);
  if (n_inputs != 0 && n_inputs != nin) {
    char msg[96];
    snprintf(msg, sizeof msg, "the model has %d inputs; %d .npy files given", (int)nin, n_inputs);
    fail(archive_path, msg);
  }
  for (int32_t i = 0; i < nin; ++i) {
    graft_tensor v;
    graft_model_input(&model, i, &v);
    size_t bytes = (size_t)graft_model_input_bytes(&model, i);
    void *dst = graft_session_input_data(&session, i);
    if (n_inputs) npy_read_into(inputs[i], &v, dst, bytes);
    else memset(dst, 0, bytes);
    if (!quiet) {
      const char *name = graft_model_input_name(&model, i);
      printf("input %d '%s' <- %s\n", (int)i, name ? name : "", n_inputs ? inputs[i] : "zeros");
    }
  }

  /* Inputs live in the arena and later nodes may reuse their bytes: copy them once so that
     every timed run sees the same inputs. */
  size_t saved_total = 0;
  for (int32_t i = 0; i < nin; ++i) saved_total += (size_t)graft_model_input_bytes(&model, i);
  void *saved_base = NULL;
  unsigned char *saved = (unsigned char *)alloc_aligned(saved_total ? saved_total : 1, &saved_base);
  if (!saved) fail(archive_path, "out of memory");
  for (int32_t i = 0, off = 0; i < nin; ++i) {
    size_t b = (size_t)graft_model_input_bytes(&model, i);
    memcpy(saved + off, graft_session_input_data(&session, i), b);
    off += (int)b;
  }

  double *times = (double *)malloc(sizeof(double) * (size_t)runs);
  if (!times) fail(archive_path, "out of memory");
  for (int r = (runs > 1 ? -1 : 0); r < runs; ++r) {
    for (int32_t i = 0, off = 0; i < nin; ++i) {
      size_t b = (size_t)graft_model_input_bytes(&model, i);
      memcpy(graft_session_input_data(&session, i), saved + off, b);
      off += (int)b;
    }
    double a = now_ms();
    st = graft_session_run(&session);
    double e = now_ms() - a;
    if (st != GRAFT_OK) {
      char msg[160];
      snprintf(msg, sizeof msg, "run failed at node %d: %s", (int)graft_session_failed_node(&session),
               graft_status_name(st));
      fail(archive_path, msg);
    }
    if (r >= 0) times[r] = e;
  }
  qsort(times, (size_t)runs, sizeof(double), cmp_double);

  for (int32_t i = 0; i < nout; ++i) {
    graft_tensor v;
    graft_model_output(&model, i, &v);
    char path[4096];
    snprintf(path, sizeof path, "%s/output_%d.npy", outdir, (int)i);
    npy_write(path, &v, graft_session_output_data(&session, i), (size_t)graft_model_output_bytes(&model, i));
    if (!quiet) {
      const char *name = graft_model_output_name(&model, i);
      printf("output %d '%s' -> %s\n", (int)i, name ? name : "", path);
    }
  }
  printf("open: %.3f ms (%s); arena: %llu bytes\n", t_open, mapped ? "mmap" : "read", (unsigned long long)arena_bytes);
  printf("latency: median %.3f ms, min %.3f ms over %d runs\n", times[runs / 2], times[0], runs);
  free(times);
  free(saved_base);
  free(arena_base);
  free(weights_base);
  if (mapped) munmap(archive, archive_bytes);
  free(archive_base);
  return 0;
}
