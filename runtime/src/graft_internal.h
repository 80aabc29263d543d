/* graft_internal.h — helpers shared by the runtime core (not installed, not for kernels).
   Readers take a pointer the caller has already bounds-checked. */
#ifndef GRAFT_INTERNAL_H
#define GRAFT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "graft.h"

/* Little-endian loads from byte memory of any alignment. */
static inline uint16_t graft__le16(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t graft__le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t graft__le64(const uint8_t *p) {
  return (uint64_t)graft__le32(p) | ((uint64_t)graft__le32(p + 4) << 32);
}

/* CRC-32 (IEEE 802.3, the one zlib calls crc32) of `n` bytes, continuing from `crc`
   (start with 0). Reads exactly n bytes. */
uint32_t graft__crc32(uint32_t crc, const uint8_t *p, size_t n);

/* Inflates the zlib (RFC 1950) stream in[0..in_bytes) into out[0..out_bytes). Succeeds only
   when the stream is well formed, consumes exactly in_bytes, produces exactly out_bytes and its
   Adler-32 matches; otherwise GRAFT_E_DECOMPRESS. Never reads or writes outside the two
   buffers, never allocates; uses about 4 KB of stack. Cost: linear in in_bytes + out_bytes. */
graft_status graft__inflate(const uint8_t *in, size_t in_bytes, uint8_t *out, size_t out_bytes);

#define GRAFT__MODEL_MAGIC 0x4d4f444cu   /* "MODL" */
#define GRAFT__SESSION_MAGIC 0x53455353u /* "SESS" */

/* Archive layout constants (formats/ARCHIVE.md). */
#define GRAFT__HEADER_BYTES 64u
#define GRAFT__SECTION_ENTRY_BYTES 40u
#define GRAFT__MAX_SECTIONS 64u
#define GRAFT__TENSOR_ENTRY_BYTES 120u
#define GRAFT__NODE_HEADER_BYTES 32u
#define GRAFT__NONE32 0xffffffffu

enum {
  GRAFT__SEC_TENSORS = 1,
  GRAFT__SEC_NODES = 2,
  GRAFT__SEC_WEIGHTS = 3,
  GRAFT__SEC_IO = 4,
  GRAFT__SEC_STRINGS = 5,
  GRAFT__SEC_KIND_END = 6
};

/* A validated node record, decoded (pointers into the NODES section). */
typedef struct graft__node {
  uint32_t kernel;
  uint32_t n_inputs, n_outputs, n_attrs;
  uint32_t name;
  uint64_t scratch_offset, scratch_bytes;
  const uint8_t *inputs;  /* i32[n_inputs] */
  const uint8_t *outputs; /* i32[n_outputs] */
  const uint8_t *attrs;   /* first attribute record */
  uint64_t record_bytes;  /* from the record start to the next record */
} graft__node;

/* Decodes the node record at `p` of an opened (validated) model. */
void graft__node_decode(const uint8_t *p, graft__node *n);
/* Fills tensor view `v` from tensor entry `t` of an opened model; data = base + offset, or
   NULL when base is NULL. */
void graft__tensor_view(const graft_model *m, uint32_t t, const uint8_t *base, graft_tensor *v);
/* Builds frame->call for node `n`: views of inputs/outputs (data from arena; weights from the
   model; arena NULL = shape-only views), attributes, scratch (NULL when arena is NULL). */
void graft__frame_build(const graft_model *m, const graft__node *n, uint8_t *arena,
                        graft_node_frame *f);

/* Tensor index of model input (which 0) or output (which 1) i of an open model, or -1. */
int32_t graft__model_io_tensor(const graft_model *m, int which, int32_t i);

#endif /* GRAFT_INTERNAL_H */
