/* make_seeds.c — writes small archives with the runtime tests' archive builder
 * (runtime/tests/archive_builder.c) as seeds for fuzz_archive: a two-node add chain stored
 * plain, with zlib-compressed weights, without STRINGS, and a gemm + gather model with
 * per-channel quantization records. Usage: make_seeds OUT_DIR. Not part of the product. */
#include <stdio.h>
#include <stdlib.h>

#include "archive_builder.h"

static int write_file(const char *dir, const char *name, const uint8_t *a, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return 1;
  size_t w = fwrite(a, 1, n, f);
  return (fclose(f) != 0 || w != n) ? 1 : 0;
}

static int add_chain(const char *dir, const char *name, int level, int omit_strings) {
  static const float w_data[6] = {1.5f, -2.0f, 0.25f, 3.0f, -0.5f, 8.0f};
  ab_archive *b = ab_new();
  int64_t dims[2] = {2, 3};
  int32_t x = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, dims, 0, omit_strings ? NULL : "in");
  int32_t w = ab_weight_tensor(b, GRAFT_DTYPE_FLOAT32, 2, dims, w_data, omit_strings ? NULL : "w");
  int32_t y = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, dims, 64, omit_strings ? NULL : "mid");
  int32_t z = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, dims, 128, omit_strings ? NULL : "out");
  int32_t i1[2] = {x, w}, o1[1] = {y};
  ab_node(b, GRAFT_KERNEL_add_f32, 2, i1, 1, o1, omit_strings ? NULL : "first");
  ab_attr_int(b, GRAFT_ATTR_ACT, GRAFT_ACT_RELU);
  int32_t i2[2] = {y, w}, o2[1] = {z};
  ab_node(b, GRAFT_KERNEL_add_f32, 2, i2, 1, o2, omit_strings ? NULL : "second");
  int32_t ins[1] = {x}, outs[1] = {z};
  ab_io(b, 1, ins, 1, outs);
  ab_arena_bytes(b, 192);
  if (level >= 0) ab_compress_weights(b, level);
  if (omit_strings) ab_omit_strings(b);
  size_t n = 0;
  uint8_t *a = ab_finish(b, &n);
  ab_free(b);
  int rc = write_file(dir, name, a, n);
  free(a);
  return rc;
}

static int gemm_gather(const char *dir) {
  static const float wb[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  static const int64_t idx[2] = {1, 0};
  static const float scales[3] = {0.5f, 0.25f, 0.125f};
  static const int32_t zps[3] = {0, 1, -1};
  ab_archive *b = ab_new();
  int64_t xd[2] = {2, 4}, wd[2] = {4, 3}, yd[2] = {2, 3}, id[1] = {2};
  int32_t x = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, xd, 0, "x");
  int32_t w = ab_weight_tensor(b, GRAFT_DTYPE_FLOAT32, 2, wd, wb, "w");
  ab_tensor_quant(b, w, 3, 1, scales, zps);
  int32_t y = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, yd, 64, "y");
  int32_t ix = ab_weight_tensor(b, GRAFT_DTYPE_INT64, 1, id, idx, "idx");
  int32_t z = ab_arena_tensor(b, GRAFT_DTYPE_FLOAT32, 2, yd, 128, "z");
  int32_t i1[2] = {x, w}, o1[1] = {y};
  ab_node(b, GRAFT_KERNEL_gemm_f32, 2, i1, 1, o1, "gemm");
  ab_attr_float(b, GRAFT_ATTR_ALPHA, 1.0f);
  ab_attr_int(b, GRAFT_ATTR_TRANS_B, 0);
  int32_t i2[2] = {y, ix}, o2[1] = {z};
  ab_node(b, GRAFT_KERNEL_gather_any, 2, i2, 1, o2, "gather");
  ab_attr_int(b, GRAFT_ATTR_AXIS, 0);
  int32_t ins[1] = {x}, outs[1] = {z};
  ab_io(b, 1, ins, 1, outs);
  ab_arena_bytes(b, 192);
  size_t n = 0;
  uint8_t *a = ab_finish(b, &n);
  ab_free(b);
  int rc = write_file(dir, "builder_gemm_gather.graft", a, n);
  free(a);
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  int rc = add_chain(argv[1], "builder_plain.graft", -1, 0);
  rc |= add_chain(argv[1], "builder_zlib.graft", 6, 0);
  rc |= add_chain(argv[1], "builder_zlib_stored.graft", 0, 0);
  rc |= add_chain(argv[1], "builder_nostrings.graft", -1, 1);
  rc |= gemm_gather(argv[1]);
  if (rc) fprintf(stderr, "make_seeds: cannot write into %s\n", argv[1]);
  return rc;
}
