/*
 * graft.h — the public API of the Graft C runtime. The one header an application includes.
 *
 * Contract
 * - The caller owns all memory: the archive bytes (a const array, a memory-mapped file or a
 *   heap copy), the inflated-weights buffer (only for archives with a compressed WEIGHTS
 *   section), the `graft_model` and `graft_session` structs, and each session's arena. The
 *   runtime never allocates, never does stdio, has no mutable globals (the kernel table is
 *   const; the one exception is the cached one-time CPU feature probe of src/cpu.c, which
 *   reads GRAFT_CPU from the environment) and uses no variable-length arrays. Everything the caller passes must outlive the model or
 *   session that uses it.
 * - The archive is untrusted. `graft_model_open` validates every offset, size, index, CRC and
 *   every node's kernel `check` once (formats/ARCHIVE.md, "Validation"); after that the kernels
 *   trust the plan and `graft_session_run` does no further structural checks.
 * - A model is read-only after `graft_model_open` succeeds: any number of sessions (each with
 *   its own arena) may run it, concurrently from different threads.
 * - Buffers: the archive, the weights buffer and every arena must be aligned to GRAFT_ALIGN
 *   (64) bytes; the runtime refuses others with GRAFT_E_ALIGN. Tensor data pointers handed to
 *   kernels are then 64-byte aligned (the plan aligns every offset to 64).
 * - The runtime assumes a little-endian host (the archive is little-endian and attribute
 *   arrays are used in place); on a big-endian host `graft_model_open` returns
 *   GRAFT_E_UNSUPPORTED.
 * - Statuses are `graft_status` values (graft_kernels.h); `graft_status_name` names each one.
 *   There is no "last error" string: failing calls store the numbers a caller needs to explain
 *   the failure (arena sizes, failing node) in the struct they were given.
 *
 * Typical use:
 *   graft_model m;
 *   graft_status st = graft_model_open(&m, archive, archive_bytes, NULL, 0);
 *   // compressed weights: graft_model_probe() (or graft_model_weights_bytes(&m) after a
 *   // failed open) gives the size of the weights buffer to pass instead of NULL, 0
 *   graft_session s;
 *   st = graft_session_init(&s, &m, arena, arena_bytes);  // arena_bytes >= graft_model_arena_bytes(&m)
 *   memcpy(graft_session_input_data(&s, 0), input, input_bytes);
 *   st = graft_session_run(&s);
 *   const float *y = (const float *)graft_session_output_data(&s, 0);
 *
 * C99; compiles as C++ too.
 */
#ifndef GRAFT_H
#define GRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "graft_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Library version: MAJOR changes break the API, MINOR adds to it, PATCH fixes. */
#define GRAFT_VERSION_MAJOR 0
#define GRAFT_VERSION_MINOR 1
#define GRAFT_VERSION_PATCH 0
#define GRAFT_VERSION_NUMBER \
  (GRAFT_VERSION_MAJOR * 10000 + GRAFT_VERSION_MINOR * 100 + GRAFT_VERSION_PATCH)

/* The archive format this runtime reads (formats/ARCHIVE.md): exactly this major, any minor. */
#define GRAFT_FORMAT_MAJOR 1
#define GRAFT_FORMAT_MINOR 0

/* Fixed capacities of one node call. `graft_model_open` refuses (GRAFT_E_FORMAT) an archive
   with a node beyond them. A board build may lower them (defined the same for the library and
   the application: they size the structs below). */
#ifndef GRAFT_MAX_NODE_INPUTS
#define GRAFT_MAX_NODE_INPUTS 64
#endif
#ifndef GRAFT_MAX_NODE_OUTPUTS
#define GRAFT_MAX_NODE_OUTPUTS 64
#endif
#ifndef GRAFT_MAX_NODE_ATTRS
#define GRAFT_MAX_NODE_ATTRS 32
#endif

/* GRAFT_VERSION_NUMBER of the compiled library. */
uint32_t graft_version(void);

/* A short constant name for every status ("GRAFT_E_CRC"); "GRAFT_E_UNKNOWN" for values that
   are not a graft_status. Never NULL. */
const char *graft_status_name(graft_status status);

/* Private: the views and attributes of one node call, built in place before each kernel call.
   Callers never touch it; it lives in the model (used while opening) and in each session. */
typedef struct graft_node_frame {
  graft_tensor in[GRAFT_MAX_NODE_INPUTS];
  graft_tensor out[GRAFT_MAX_NODE_OUTPUTS];
  const graft_tensor *in_ptr[GRAFT_MAX_NODE_INPUTS];
  graft_tensor *out_ptr[GRAFT_MAX_NODE_OUTPUTS];
  graft_attr attrs[GRAFT_MAX_NODE_ATTRS];
  graft_call call;
} graft_node_frame;

/* An opened model. Allocated by the caller (static, stack or heap); every field is private.
   Holds pointers into the archive and the weights buffer, no copies. */
typedef struct graft_model {
  uint32_t opened_;           /* GRAFT__MODEL_MAGIC once open succeeded, else 0 */
  uint32_t weights_compressed_;
  const uint8_t *archive_;
  uint64_t file_bytes_;
  uint64_t arena_bytes_;
  uint64_t weights_need_;     /* bytes of the inflate buffer (0 when WEIGHTS is stored raw) */
  uint64_t weights_given_;
  const uint8_t *weights_;    /* inflated or in-place WEIGHTS; never NULL once open */
  uint64_t weights_bytes_;    /* WEIGHTS raw_bytes */
  const uint8_t *tensors_;    /* first tensor entry */
  uint32_t tensor_count_;
  uint32_t node_count_;
  const uint8_t *nodes_;      /* first node record */
  uint64_t nodes_bytes_;      /* bytes from nodes_ to the end of the NODES section */
  const uint8_t *io_;         /* first IO index */
  uint32_t input_count_;
  uint32_t output_count_;
  const uint8_t *strings_;    /* NULL when the archive has no STRINGS section */
  uint64_t strings_bytes_;
  int32_t failed_node_;       /* node whose validation failed in the last open, else -1 */
  uint32_t reserved_;
  graft_node_frame frame_;    /* scratch for kernel checks during open */
} graft_model;

/* Sizes a caller needs before opening an archive (see graft_model_probe). */
typedef struct graft_model_sizes {
  uint64_t file_bytes;    /* archive length declared by the header */
  uint64_t arena_bytes;   /* working memory one session needs (graft_model_arena_bytes) */
  uint64_t weights_bytes; /* inflate buffer graft_model_open needs; 0 when not compressed */
  uint16_t format_major;
  uint16_t format_minor;
} graft_model_sizes;

/* Reads the header and section table (validation steps 1-3 of formats/ARCHIVE.md, CRCs
   included, no inflation) and reports the sizes the caller must provide. Cost: one CRC pass. */
graft_status graft_model_probe(const void *archive, size_t archive_bytes, graft_model_sizes *out);

/* Opens `archive` (archive_bytes may exceed the header's file_bytes) and validates all of it.
   - `archive` must be 64-byte aligned (GRAFT_E_ALIGN) and outlive the model.
   - Compressed WEIGHTS are inflated into `weights_buf` (64-byte aligned, at least
     graft_model_weights_bytes() long, outliving the model, not overlapping the archive:
     GRAFT_E_ARG); pass NULL, 0 when the WEIGHTS section is stored raw or empty. When the buffer is missing or short the status is
     GRAFT_E_ARENA_TOO_SMALL and graft_model_weights_bytes(m) still reports the need; a bad
     stream is GRAFT_E_DECOMPRESS.
   - A kernel `check` failure returns that check's status (normally GRAFT_E_SHAPE);
     graft_model_failed_node(m) tells which node failed for any node-level status.
   - Stack: under 1 KB (kernel views live in *m), about 4.5 KB while inflating compressed
     weights. Cost: one CRC pass over the archive, one inflate, one kernel check per node.
   On failure *m is not usable for sessions. */
graft_status graft_model_open(graft_model *m, const void *archive, size_t archive_bytes,
                              void *weights_buf, size_t weights_buf_bytes);

/* Accessors. They return 0 / NULL / GRAFT_E_ARG for a model that is not open or an index out
   of range, except where noted. */
uint64_t graft_model_arena_bytes(const graft_model *m);
/* Inflate buffer needed: 0 when WEIGHTS is stored raw. Also valid after graft_model_open
   failed with GRAFT_E_ARENA_TOO_SMALL for the weights buffer. */
uint64_t graft_model_weights_bytes(const graft_model *m);
/* Node index of the last node-level validation failure in graft_model_open, else -1. */
int32_t graft_model_failed_node(const graft_model *m);

int32_t graft_model_input_count(const graft_model *m);
int32_t graft_model_output_count(const graft_model *m);
/* Shape, dtype and quantization of model input/output i; view_out->data is NULL. */
graft_status graft_model_input(const graft_model *m, int32_t i, graft_tensor *view_out);
graft_status graft_model_output(const graft_model *m, int32_t i, graft_tensor *view_out);
/* Bytes of model input/output i (what the caller copies in or out), 0 for a bad index. */
uint64_t graft_model_input_bytes(const graft_model *m, int32_t i);
uint64_t graft_model_output_bytes(const graft_model *m, int32_t i);
/* Names from STRINGS, or NULL when unnamed. Point into the archive. */
const char *graft_model_input_name(const graft_model *m, int32_t i);
const char *graft_model_output_name(const graft_model *m, int32_t i);

/* Every tensor of the table (arena and weights). For tools and debugging. Weight tensors'
   views carry their data pointer; arena tensors' data is NULL (see graft_session_tensor_data). */
int32_t graft_model_tensor_count(const graft_model *m);
graft_status graft_model_tensor(const graft_model *m, int32_t t, graft_tensor *view_out);
const char *graft_model_tensor_name(const graft_model *m, int32_t t);
/* Storage bytes of tensor t (int4: two per byte), 0 for a bad index. */
uint64_t graft_model_tensor_bytes(const graft_model *m, int32_t t);

/* Nodes in execution order. These walk the node list: O(node) per call, for tools. */
int32_t graft_model_node_count(const graft_model *m);
const char *graft_model_node_name(const graft_model *m, int32_t node);
/* Kernel id (GRAFT_KERNEL_*) of a node, or -1. graft_kernel_get() gives its name. */
int32_t graft_model_node_kernel(const graft_model *m, int32_t node);
int32_t graft_model_node_input_count(const graft_model *m, int32_t node);
int32_t graft_model_node_output_count(const graft_model *m, int32_t node);
/* Tensor index of input/output j of a node; -1 for an omitted optional input or a bad index. */
int32_t graft_model_node_input(const graft_model *m, int32_t node, int32_t j);
int32_t graft_model_node_output(const graft_model *m, int32_t node, int32_t j);

/* Called after each node with the node's call: input and output views with data (outputs
   computed). Views and call are valid only during the callback; the callback must not write
   through them. For calibration and debugging; it costs nothing when not set. */
typedef void (*graft_observer_fn)(void *user, int32_t node, const graft_call *call);

/* One running instance of a model. Allocated by the caller; every field is private. */
typedef struct graft_session {
  uint32_t ready_;            /* GRAFT__SESSION_MAGIC once init succeeded */
  int32_t failed_node_;       /* node of the last failing run, else -1 */
  const graft_model *model_;
  uint8_t *arena_;
  uint64_t arena_needed_;
  uint64_t arena_given_;
  graft_observer_fn observer_;
  void *observer_user_;
  graft_node_frame frame_;
} graft_session;

/* Binds a session to an open model and an arena. The arena must be 64-byte aligned
   (GRAFT_E_ALIGN) and at least graft_model_arena_bytes(m) long (GRAFT_E_ARENA_TOO_SMALL; then
   graft_session_arena_needed/given report both sizes). The arena is not cleared; it may be
   NULL when the model needs 0 bytes. */
graft_status graft_session_init(graft_session *s, const graft_model *m, void *arena,
                                size_t arena_bytes);
/* Both sizes of the last graft_session_init, also after it failed. */
uint64_t graft_session_arena_needed(const graft_session *s);
uint64_t graft_session_arena_given(const graft_session *s);

/* Where the caller writes model input i before a run (inside the arena; its size is the
   input's dtype size times its element count), or NULL for a bad index. */
void *graft_session_input_data(graft_session *s, int32_t i);
/* Where model output i is after a run, or NULL. Valid until the next run. */
const void *graft_session_output_data(const graft_session *s, int32_t i);
/* Data of any tensor: arena tensors point into the arena (meaningful only while live, see
   the memory plan), weight tensors into the weights. NULL for a bad index. */
const void *graft_session_tensor_data(const graft_session *s, int32_t t);

/* Runs every node in order. Returns GRAFT_OK or the first failing kernel status (then
   graft_session_failed_node gives the node; later nodes are not run). Never allocates. */
graft_status graft_session_run(graft_session *s);
int32_t graft_session_failed_node(const graft_session *s);

/* Sets (or clears, with NULL) the per-node observer. */
void graft_session_set_observer(graft_session *s, graft_observer_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif /* GRAFT_H */
