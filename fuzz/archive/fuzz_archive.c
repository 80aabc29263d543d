/* fuzz_archive.c — libFuzzer target for the C runtime's archive reader.
 *
 * Contract: for any byte string, graft_model_probe, graft_model_open, the model accessors and
 * (when open succeeds and the plan is small) graft_session_init + graft_session_run return a
 * status and never read or write outside the buffers they were given (built with
 * -fsanitize=fuzzer,address,undefined, every such access aborts the run).
 *
 * Each input is tried twice:
 *   1. verbatim (exercises the header, section-table and CRC checks);
 *   2. with every CRC recomputed (header CRC and each in-bounds section's CRC), so that
 *      mutations reach the TENSORS / NODES / IO / STRINGS validation, inflate and the kernels
 *      instead of stopping at GRAFT_E_CRC; skipped when that changes no byte.
 * Memory: the archive copy, the weights buffer and the arena are heap buffers of exactly the
 * size asked for (so ASan sees one byte past them); the arena and weights are capped at
 * FUZZ_MAX_BUFFER bytes, bigger plans are only validated. The arena is zeroed before a run.
 *
 * Build: fuzz/run.sh (clang -fsanitize=fuzzer,address,undefined over runtime/src and
 * runtime/kernels/reference). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graft.h"

#define FUZZ_MAX_BUFFER ((uint64_t)2 << 20)
/* A run is skipped when the model has more nodes than this (keeps each input fast). */
#define FUZZ_MAX_RUN_NODES 256

/* Plain bitwise CRC-32 (IEEE, reflected 0xEDB88320), independent of the runtime's. */
static uint32_t fuzz_crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

static uint32_t get32(const uint8_t *a, size_t off) {
  return (uint32_t)a[off] | (uint32_t)a[off + 1] << 8 | (uint32_t)a[off + 2] << 16 |
         (uint32_t)a[off + 3] << 24;
}

static uint64_t get64(const uint8_t *a, size_t off) {
  return (uint64_t)get32(a, off) | (uint64_t)get32(a, off + 4) << 32;
}

static void put32(uint8_t *a, size_t off, uint32_t v) {
  for (int i = 0; i < 4; i++) a[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes the CRCs the header and section table declare, where they lie inside `n`. */
static void fix_crcs(uint8_t *a, size_t n) {
  if (n < 64) return;
  uint32_t count = get32(a, 12);
  if (count > 64) count = 64;
  for (uint32_t s = 0; s < count; s++) {
    size_t e = 64 + 40 * (size_t)s;
    if (e + 40 > n) break;
    uint64_t off = get64(a, e + 8), stored = get64(a, e + 16);
    if (off > n || stored > n - off) continue;
    put32(a, e + 32, fuzz_crc32(a + off, (size_t)stored));
  }
  put32(a, 60, fuzz_crc32(a, 60));
}

static void *alloc_aligned(size_t n) {
  void *p = NULL;
  return posix_memalign(&p, 64, n ? n : 1) == 0 ? p : NULL;
}

/* Walks every accessor of an open model, with valid and invalid indices. */
static void touch_model(const graft_model *m) {
  graft_tensor v;
  int32_t ni = graft_model_input_count(m), no = graft_model_output_count(m);
  for (int32_t i = -1; i <= ni; i++) {
    (void)graft_model_input(m, i, &v);
    (void)graft_model_input_bytes(m, i);
    (void)graft_model_input_name(m, i);
  }
  for (int32_t i = -1; i <= no; i++) {
    (void)graft_model_output(m, i, &v);
    (void)graft_model_output_bytes(m, i);
    (void)graft_model_output_name(m, i);
  }
  int32_t nt = graft_model_tensor_count(m);
  for (int32_t t = -1; t <= nt && t < 4096; t++) {
    (void)graft_model_tensor(m, t, &v);
    (void)graft_model_tensor_name(m, t);
    (void)graft_model_tensor_bytes(m, t);
  }
  int32_t nn = graft_model_node_count(m);
  for (int32_t k = -1; k <= nn && k < 512; k++) {
    (void)graft_model_node_name(m, k);
    int32_t kid = graft_model_node_kernel(m, k);
    if (kid >= 0) (void)graft_kernel_get((uint32_t)kid);
    int32_t a = graft_model_node_input_count(m, k), b = graft_model_node_output_count(m, k);
    for (int32_t j = -1; j <= a; j++) (void)graft_model_node_input(m, k, j);
    for (int32_t j = -1; j <= b; j++) (void)graft_model_node_output(m, k, j);
  }
}

static void try_archive(const uint8_t *data, size_t size, int fix) {
  uint8_t *archive = alloc_aligned(size);
  if (!archive) return;
  if (size) memcpy(archive, data, size);
  if (fix) {
    fix_crcs(archive, size);
    /* CRCs already right: the verbatim try did exactly this. */
    if (size && memcmp(archive, data, size) == 0) {
      free(archive);
      return;
    }
  }

  graft_model_sizes sz;
  graft_status st = graft_model_probe(archive, size, &sz);
  (void)graft_status_name(st);

  static graft_model model;
  void *weights = NULL;
  size_t weights_bytes = 0;
  if (st == GRAFT_OK && sz.weights_bytes > 0 && sz.weights_bytes <= FUZZ_MAX_BUFFER) {
    weights_bytes = (size_t)sz.weights_bytes;
    weights = alloc_aligned(weights_bytes);
  }
  st = graft_model_open(&model, archive, size, weights, weights ? weights_bytes : 0);
  (void)graft_model_failed_node(&model);
  (void)graft_model_weights_bytes(&model);
  if (st == GRAFT_OK) {
    touch_model(&model);
    uint64_t need = graft_model_arena_bytes(&model);
    if (need <= FUZZ_MAX_BUFFER && graft_model_node_count(&model) <= FUZZ_MAX_RUN_NODES) {
      void *arena = need ? alloc_aligned((size_t)need) : NULL;
      if (arena || need == 0) {
        if (arena) memset(arena, 0, (size_t)need);
        static graft_session session;
        /* A short arena first: must be refused. */
        if (need >= 64) (void)graft_session_init(&session, &model, arena, (size_t)need - 64);
        if (graft_session_init(&session, &model, arena, (size_t)need) == GRAFT_OK) {
          for (int32_t i = 0; i < graft_model_input_count(&model); i++) {
            void *p = graft_session_input_data(&session, i);
            uint64_t b = graft_model_input_bytes(&model, i);
            /* Inputs get bytes of the fuzz input, so data-dependent paths (gather indices,
               NaNs) are reached too. */
            if (p && b) memcpy(p, data, (size_t)(b < size ? b : size));
          }
          st = graft_session_run(&session);
          (void)graft_session_failed_node(&session);
          for (int32_t i = 0; i < graft_model_output_count(&model); i++)
            (void)graft_session_output_data(&session, i);
        }
        free(arena);
      }
    }
  }
  free(weights);
  free(archive);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > ((size_t)16 << 20)) return 0;
  try_archive(data, size, 0);
  try_archive(data, size, 1);
  return 0;
}
