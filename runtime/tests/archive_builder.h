/* archive_builder.h — a tiny in-memory `.graft` writer, for runtime tests only (it uses
 * malloc and zlib; the runtime uses neither). It writes archives by formats/ARCHIVE.md:
 * header, a section table, then TENSORS, NODES, WEIGHTS, IO, STRINGS at 64-aligned offsets.
 * Tests build a valid archive, then corrupt fields on purpose (ab_put*, ab_fix_crcs). */
#ifndef ARCHIVE_BUILDER_H
#define ARCHIVE_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "graft.h"

typedef struct ab_archive ab_archive;

ab_archive *ab_new(void);
void ab_free(ab_archive *b);

/* Offset of `s` in STRINGS (added once per call). */
uint32_t ab_string(ab_archive *b, const char *s);

/* An arena tensor at `offset` (bytes computed from dtype and dims). Returns its index. */
int32_t ab_arena_tensor(ab_archive *b, int32_t dtype, int32_t rank, const int64_t *dims,
                        uint64_t offset, const char *name);
/* A weights tensor holding a copy of `data` (appended to WEIGHTS at a 64-aligned offset). */
int32_t ab_weight_tensor(ab_archive *b, int32_t dtype, int32_t rank, const int64_t *dims,
                         const void *data, const char *name);
/* Per-tensor (count 1) or per-channel quantization for tensor t; appended to WEIGHTS. */
void ab_tensor_quant(ab_archive *b, int32_t t, int32_t count, int32_t axis, const float *scales,
                     const int32_t *zero_points);

/* A node; the attribute and scratch calls apply to the last node added. */
int32_t ab_node(ab_archive *b, uint32_t kernel, int32_t n_in, const int32_t *inputs, int32_t n_out,
                const int32_t *outputs, const char *name);
void ab_attr_int(ab_archive *b, int32_t key, int64_t v);
void ab_attr_ints(ab_archive *b, int32_t key, int32_t count, const int64_t *v);
void ab_attr_float(ab_archive *b, int32_t key, float v);
void ab_attr_floats(ab_archive *b, int32_t key, int32_t count, const float *v);
void ab_scratch(ab_archive *b, uint64_t offset, uint64_t bytes);

void ab_io(ab_archive *b, int32_t n_in, const int32_t *inputs, int32_t n_out, const int32_t *outputs);
void ab_arena_bytes(ab_archive *b, uint64_t bytes);

/* Options: compress WEIGHTS with zlib at `level` (-1 = off, the default); declare this
   raw_bytes for WEIGHTS instead of the true size (UINT64_MAX = the true size); leave out
   STRINGS. */
void ab_compress_weights(ab_archive *b, int level);
void ab_declare_weights_raw(ab_archive *b, uint64_t raw_bytes);
void ab_omit_strings(ab_archive *b);
/* Replaces the WEIGHTS section's stored bytes with `bytes` verbatim (for hand-made streams);
   flags bit 0 set when `compressed`. raw_bytes is the declared size. */
void ab_raw_weights_section(ab_archive *b, const void *bytes, size_t n, int compressed, uint64_t raw_bytes);

/* Writes the archive into a fresh 64-aligned malloc'd buffer (free with free()). */
uint8_t *ab_finish(ab_archive *b, size_t *out_bytes);

/* Editing helpers on a written archive. */
void ab_put16(uint8_t *a, size_t off, uint16_t v);
void ab_put32(uint8_t *a, size_t off, uint32_t v);
void ab_put64(uint8_t *a, size_t off, uint64_t v);
uint32_t ab_get32(const uint8_t *a, size_t off);
uint64_t ab_get64(const uint8_t *a, size_t off);
/* Offset of the section-table entry and of the data of section `kind`, or 0 if absent. */
size_t ab_section_entry(const uint8_t *a, uint32_t kind);
size_t ab_section_data(const uint8_t *a, uint32_t kind);
/* Offset of tensor entry t (in TENSORS) and of node record i (in NODES). */
size_t ab_tensor_entry(const uint8_t *a, int32_t t);
size_t ab_node_record(const uint8_t *a, int32_t i);
/* Recomputes every section CRC (of entries inside the `bytes` long archive) and then the
   header CRC (after an edit). */
void ab_fix_crcs(uint8_t *a, size_t bytes);

/* The reference codec of the tests: zlib's compress2/crc32. Built with -DAB_NO_ZLIB (cross
   test runs without a target zlib), compression writes stored blocks only (any level) and the
   CRC is a plain bitwise implementation. ab_zlib_compress returns a malloc'd stream. */
uint8_t *ab_zlib_compress(const void *src, size_t n, int level, size_t *out_bytes);
uint32_t ab_crc32(const void *p, size_t n);
int ab_has_zlib(void);

/* A 64-aligned malloc'd copy of n bytes (exactly n bytes usable, so ASan sees overruns). */
uint8_t *ab_copy(const uint8_t *a, size_t n);

#endif
