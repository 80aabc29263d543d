/* In-memory `.graft` writer for the runtime tests (see archive_builder.h). Test code: aborts
   on allocation failure instead of propagating it. */
#include "archive_builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef AB_NO_ZLIB
#include <zlib.h>
#endif

typedef struct bytes {
  uint8_t *p;
  size_t n, cap;
} bytes;

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fprintf(stderr, "archive_builder: out of memory\n");
    abort();
  }
  return q;
}

static void put(bytes *b, const void *src, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = (uint8_t *)xrealloc(b->p, b->cap);
  }
  if (n) memcpy(b->p + b->n, src, n);
  b->n += n;
}
static void zeros(bytes *b, size_t n) {
  static const uint8_t z[64];
  while (n) {
    size_t k = n < 64 ? n : 64;
    put(b, z, k);
    n -= k;
  }
}
static void pad_to(bytes *b, size_t align) { zeros(b, (align - b->n % align) % align); }
static void u16(bytes *b, uint16_t v) { uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)}; put(b, x, 2); }
static void u32(bytes *b, uint32_t v) { for (int i = 0; i < 4; ++i) { uint8_t x = (uint8_t)(v >> (8 * i)); put(b, &x, 1); } }
static void u64(bytes *b, uint64_t v) { u32(b, (uint32_t)v); u32(b, (uint32_t)(v >> 32)); }

void ab_put16(uint8_t *a, size_t off, uint16_t v) { a[off] = (uint8_t)v; a[off + 1] = (uint8_t)(v >> 8); }
void ab_put32(uint8_t *a, size_t off, uint32_t v) { for (int i = 0; i < 4; ++i) a[off + i] = (uint8_t)(v >> (8 * i)); }
void ab_put64(uint8_t *a, size_t off, uint64_t v) { ab_put32(a, off, (uint32_t)v); ab_put32(a, off + 4, (uint32_t)(v >> 32)); }
uint32_t ab_get32(const uint8_t *a, size_t off) {
  return (uint32_t)a[off] | ((uint32_t)a[off + 1] << 8) | ((uint32_t)a[off + 2] << 16) | ((uint32_t)a[off + 3] << 24);
}
uint64_t ab_get64(const uint8_t *a, size_t off) { return ab_get32(a, off) | ((uint64_t)ab_get32(a, off + 4) << 32); }

#ifndef AB_NO_ZLIB
int ab_has_zlib(void) { return 1; }
uint8_t *ab_zlib_compress(const void *src, size_t n, int level, size_t *out_bytes) {
  uLongf cap = compressBound((uLong)n);
  uint8_t *z = (uint8_t *)xrealloc(NULL, cap);
  if (compress2(z, &cap, n ? (const Bytef *)src : (const Bytef *)"", (uLong)n, level) != Z_OK) abort();
  *out_bytes = cap;
  return z;
}
uint32_t ab_crc32(const void *p, size_t n) { return (uint32_t)crc32(0L, (const Bytef *)p, (uInt)n); }
#else
int ab_has_zlib(void) { return 0; }
/* Stored blocks only: header 78 01, blocks of at most 65535 bytes, Adler-32. */
uint8_t *ab_zlib_compress(const void *src, size_t n, int level, size_t *out_bytes) {
  (void)level;
  const uint8_t *s = (const uint8_t *)src;
  size_t blocks = n / 65535 + 1, cap = 2 + blocks * 5 + n + 4, o = 0;
  uint8_t *z = (uint8_t *)xrealloc(NULL, cap);
  z[o++] = 0x78;
  z[o++] = 0x01;
  size_t pos = 0;
  do {
    size_t len = n - pos < 65535 ? n - pos : 65535;
    z[o++] = (uint8_t)(pos + len == n ? 1 : 0);
    z[o++] = (uint8_t)len;
    z[o++] = (uint8_t)(len >> 8);
    z[o++] = (uint8_t)~len;
    z[o++] = (uint8_t)(~len >> 8);
    if (len) memcpy(z + o, s + pos, len);
    o += len;
    pos += len;
  } while (pos < n);
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < n; ++i) {
    a = (a + s[i]) % 65521u;
    b = (b + a) % 65521u;
  }
  uint32_t ad = (b << 16) | a;
  z[o++] = (uint8_t)(ad >> 24);
  z[o++] = (uint8_t)(ad >> 16);
  z[o++] = (uint8_t)(ad >> 8);
  z[o++] = (uint8_t)ad;
  *out_bytes = o;
  return z;
}
uint32_t ab_crc32(const void *p, size_t n) {
  const uint8_t *s = (const uint8_t *)p;
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < n; ++i) {
    c ^= s[i];
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return c ^ 0xffffffffu;
}
#endif

typedef struct ab_tensor {
  int32_t dtype, rank;
  int64_t dims[GRAFT_MAX_RANK];
  uint32_t storage, name;
  uint64_t offset, bytes;
  uint32_t qcount;
  int32_t qaxis;
  uint64_t qoffset;
} ab_tensor;

struct ab_archive {
  ab_tensor *tensors;
  int32_t n_tensors;
  bytes nodes;      /* node records */
  int32_t n_nodes;
  size_t last_node; /* offset of the last record in `nodes` */
  bytes weights;
  bytes strings;
  bytes io;
  uint64_t arena_bytes;
  int compress_level;
  uint64_t declared_raw;
  int omit_strings;
  int raw_section;
  bytes raw_weights;
  int raw_compressed;
  uint64_t raw_declared;
};

ab_archive *ab_new(void) {
  ab_archive *b = (ab_archive *)calloc(1, sizeof *b);
  if (!b) abort();
  b->compress_level = -1;
  b->declared_raw = UINT64_MAX;
  u32(&b->io, 0);
  u32(&b->io, 0);
  return b;
}

void ab_free(ab_archive *b) {
  if (!b) return;
  free(b->tensors);
  free(b->nodes.p);
  free(b->weights.p);
  free(b->strings.p);
  free(b->io.p);
  free(b->raw_weights.p);
  free(b);
}

uint32_t ab_string(ab_archive *b, const char *s) {
  uint32_t off = (uint32_t)b->strings.n;
  put(&b->strings, s, strlen(s) + 1);
  return off;
}

static uint64_t tensor_bytes(int32_t dtype, int32_t rank, const int64_t *dims) {
  uint64_t count = 1;
  for (int32_t d = 0; d < rank; ++d) count *= (uint64_t)dims[d];
  if (dtype == GRAFT_DTYPE_INT4) return (count + 1) / 2;
  return count * graft_dtype_size(dtype);
}

static int32_t add_tensor(ab_archive *b, int32_t dtype, int32_t rank, const int64_t *dims,
                          uint32_t storage, uint64_t offset, const char *name) {
  b->tensors = (ab_tensor *)xrealloc(b->tensors, sizeof(ab_tensor) * (size_t)(b->n_tensors + 1));
  ab_tensor *t = &b->tensors[b->n_tensors];
  memset(t, 0, sizeof *t);
  t->dtype = dtype;
  t->rank = rank;
  for (int32_t d = 0; d < rank; ++d) t->dims[d] = dims[d];
  t->storage = storage;
  t->offset = offset;
  t->bytes = tensor_bytes(dtype, rank, dims);
  t->name = name ? ab_string(b, name) : 0xffffffffu;
  return b->n_tensors++;
}

int32_t ab_arena_tensor(ab_archive *b, int32_t dtype, int32_t rank, const int64_t *dims,
                        uint64_t offset, const char *name) {
  return add_tensor(b, dtype, rank, dims, 0, offset, name);
}

int32_t ab_weight_tensor(ab_archive *b, int32_t dtype, int32_t rank, const int64_t *dims,
                         const void *data, const char *name) {
  pad_to(&b->weights, 64);
  uint64_t off = b->weights.n;
  int32_t t = add_tensor(b, dtype, rank, dims, 1, off, name);
  put(&b->weights, data, (size_t)b->tensors[t].bytes);
  return t;
}

void ab_tensor_quant(ab_archive *b, int32_t t, int32_t count, int32_t axis, const float *scales,
                     const int32_t *zero_points) {
  pad_to(&b->weights, 4);
  ab_tensor *e = &b->tensors[t];
  e->qcount = (uint32_t)count;
  e->qaxis = axis;
  e->qoffset = b->weights.n;
  for (int32_t i = 0; i < count; ++i) {
    uint32_t bits;
    memcpy(&bits, &scales[i], 4);
    u32(&b->weights, bits);
  }
  for (int32_t i = 0; i < count; ++i) u32(&b->weights, (uint32_t)zero_points[i]);
}

int32_t ab_node(ab_archive *b, uint32_t kernel, int32_t n_in, const int32_t *inputs, int32_t n_out,
                const int32_t *outputs, const char *name) {
  b->last_node = b->nodes.n;
  u32(&b->nodes, kernel);
  u16(&b->nodes, (uint16_t)n_in);
  u16(&b->nodes, (uint16_t)n_out);
  u16(&b->nodes, 0); /* n_attrs, counted up by ab_attr_* */
  u16(&b->nodes, 0);
  u32(&b->nodes, name ? ab_string(b, name) : 0xffffffffu);
  u64(&b->nodes, 0);
  u64(&b->nodes, 0);
  for (int32_t i = 0; i < n_in; ++i) u32(&b->nodes, (uint32_t)inputs[i]);
  for (int32_t i = 0; i < n_out; ++i) u32(&b->nodes, (uint32_t)outputs[i]);
  pad_to(&b->nodes, 8);
  return b->n_nodes++;
}

static void attr_head(ab_archive *b, int32_t key, uint16_t type, uint32_t count) {
  uint8_t *rec = b->nodes.p + b->last_node;
  ab_put16(rec, 8, (uint16_t)(rec[8] | (rec[9] << 8)) + 1);
  u16(&b->nodes, (uint16_t)key);
  u16(&b->nodes, type);
  u32(&b->nodes, count);
}
void ab_attr_int(ab_archive *b, int32_t key, int64_t v) {
  attr_head(b, key, GRAFT_ATTR_T_INT, 1);
  u64(&b->nodes, (uint64_t)v);
}
void ab_attr_ints(ab_archive *b, int32_t key, int32_t count, const int64_t *v) {
  attr_head(b, key, GRAFT_ATTR_T_INTS, (uint32_t)count);
  for (int32_t i = 0; i < count; ++i) u64(&b->nodes, (uint64_t)v[i]);
}
void ab_attr_float(ab_archive *b, int32_t key, float v) {
  attr_head(b, key, GRAFT_ATTR_T_FLOAT, 1);
  uint32_t bits;
  memcpy(&bits, &v, 4);
  u32(&b->nodes, bits);
  pad_to(&b->nodes, 8);
}
void ab_attr_floats(ab_archive *b, int32_t key, int32_t count, const float *v) {
  attr_head(b, key, GRAFT_ATTR_T_FLOATS, (uint32_t)count);
  for (int32_t i = 0; i < count; ++i) {
    uint32_t bits;
    memcpy(&bits, &v[i], 4);
    u32(&b->nodes, bits);
  }
  pad_to(&b->nodes, 8);
}
void ab_scratch(ab_archive *b, uint64_t offset, uint64_t n) {
  ab_put64(b->nodes.p, b->last_node + 16, offset);
  ab_put64(b->nodes.p, b->last_node + 24, n);
}

void ab_io(ab_archive *b, int32_t n_in, const int32_t *inputs, int32_t n_out, const int32_t *outputs) {
  b->io.n = 0;
  u32(&b->io, (uint32_t)n_in);
  u32(&b->io, (uint32_t)n_out);
  for (int32_t i = 0; i < n_in; ++i) u32(&b->io, (uint32_t)inputs[i]);
  for (int32_t i = 0; i < n_out; ++i) u32(&b->io, (uint32_t)outputs[i]);
}
void ab_arena_bytes(ab_archive *b, uint64_t n) { b->arena_bytes = n; }
void ab_compress_weights(ab_archive *b, int level) { b->compress_level = level; }
void ab_declare_weights_raw(ab_archive *b, uint64_t raw) { b->declared_raw = raw; }
void ab_omit_strings(ab_archive *b) { b->omit_strings = 1; }
void ab_raw_weights_section(ab_archive *b, const void *p, size_t n, int compressed, uint64_t raw) {
  b->raw_section = 1;
  b->raw_weights.n = 0;
  put(&b->raw_weights, p, n);
  b->raw_compressed = compressed;
  b->raw_declared = raw;
}

uint8_t *ab_copy(const uint8_t *a, size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 64, n ? n : 1) != 0) abort();
  if (n) memcpy(p, a, n);
  return (uint8_t *)p;
}

uint8_t *ab_finish(ab_archive *b, size_t *out_bytes) {
  enum { NSEC_MAX = 5 };
  bytes sec[NSEC_MAX + 1];
  uint32_t flags[NSEC_MAX + 1] = {0};
  uint64_t raw[NSEC_MAX + 1];
  memset(sec, 0, sizeof sec);
  /* TENSORS */
  u32(&sec[1], (uint32_t)b->n_tensors);
  u32(&sec[1], 0);
  for (int32_t i = 0; i < b->n_tensors; ++i) {
    const ab_tensor *t = &b->tensors[i];
    u32(&sec[1], (uint32_t)t->dtype);
    u32(&sec[1], (uint32_t)t->rank);
    for (int d = 0; d < GRAFT_MAX_RANK; ++d) u64(&sec[1], (uint64_t)t->dims[d]);
    u32(&sec[1], t->storage);
    u32(&sec[1], t->name);
    u64(&sec[1], t->offset);
    u64(&sec[1], t->bytes);
    u32(&sec[1], t->qcount);
    u32(&sec[1], (uint32_t)t->qaxis);
    u64(&sec[1], t->qoffset);
    u64(&sec[1], 0);
  }
  /* NODES */
  u32(&sec[2], (uint32_t)b->n_nodes);
  u32(&sec[2], 0);
  put(&sec[2], b->nodes.p, b->nodes.n);
  /* WEIGHTS */
  if (b->raw_section) {
    put(&sec[3], b->raw_weights.p, b->raw_weights.n);
    flags[3] = b->raw_compressed ? 1u : 0u;
    raw[3] = b->raw_declared;
  } else if (b->compress_level >= 0) {
    size_t cap;
    uint8_t *z = ab_zlib_compress(b->weights.p, b->weights.n, b->compress_level, &cap);
    put(&sec[3], z, cap);
    free(z);
    flags[3] = 1;
    raw[3] = b->weights.n;
  } else {
    put(&sec[3], b->weights.p, b->weights.n);
    raw[3] = b->weights.n;
  }
  if (b->declared_raw != UINT64_MAX) raw[3] = b->declared_raw;
  /* IO, STRINGS */
  put(&sec[4], b->io.p, b->io.n);
  put(&sec[5], b->strings.p, b->strings.n);
  int nsec = b->omit_strings ? 4 : 5;
  for (int k = 1; k <= nsec; ++k) if (k != 3) raw[k] = sec[k].n;

  bytes out = {0, 0, 0};
  zeros(&out, 64 + 40 * (size_t)nsec);
  uint64_t offs[NSEC_MAX + 1];
  for (int k = 1; k <= nsec; ++k) {
    pad_to(&out, 64);
    offs[k] = out.n;
    put(&out, sec[k].p, sec[k].n);
  }
  memcpy(out.p, "GRAFTARC", 8);
  ab_put16(out.p, 8, GRAFT_FORMAT_MAJOR);
  ab_put16(out.p, 10, GRAFT_FORMAT_MINOR);
  ab_put32(out.p, 12, (uint32_t)nsec);
  ab_put64(out.p, 16, out.n);
  ab_put64(out.p, 24, b->arena_bytes);
  for (int k = 1; k <= nsec; ++k) {
    size_t e = 64 + 40 * (size_t)(k - 1);
    ab_put32(out.p, e, (uint32_t)k);
    ab_put32(out.p, e + 4, flags[k]);
    ab_put64(out.p, e + 8, offs[k]);
    ab_put64(out.p, e + 16, sec[k].n);
    ab_put64(out.p, e + 24, raw[k]);
    free(sec[k].p);
  }
  ab_fix_crcs(out.p, out.n);
  uint8_t *res = ab_copy(out.p, out.n);
  *out_bytes = out.n;
  free(out.p);
  return res;
}

size_t ab_section_entry(const uint8_t *a, uint32_t kind) {
  uint32_t n = ab_get32(a, 12);
  for (uint32_t i = 0; i < n; ++i)
    if (ab_get32(a, 64 + 40 * (size_t)i) == kind) return 64 + 40 * (size_t)i;
  return 0;
}
size_t ab_section_data(const uint8_t *a, uint32_t kind) {
  size_t e = ab_section_entry(a, kind);
  return e ? (size_t)ab_get64(a, e + 8) : 0;
}
size_t ab_tensor_entry(const uint8_t *a, int32_t t) { return ab_section_data(a, 1) + 8 + 120 * (size_t)t; }
size_t ab_node_record(const uint8_t *a, int32_t i) {
  size_t p = ab_section_data(a, 2) + 8;
  for (int32_t k = 0; k < i; ++k) {
    uint32_t nin = a[p + 4] | (a[p + 5] << 8), nout = a[p + 6] | (a[p + 7] << 8), nat = a[p + 8] | (a[p + 9] << 8);
    size_t used = (32 + 4 * (size_t)(nin + nout) + 7) & ~(size_t)7;
    for (uint32_t j = 0; j < nat; ++j) {
      uint32_t type = a[p + used + 2], count = ab_get32(a, p + used + 4);
      used += 8 + (((size_t)count * (type <= 2 ? 8 : 4) + 7) & ~(size_t)7);
    }
    p += used;
  }
  return p;
}

void ab_fix_crcs(uint8_t *a, size_t bytes) {
  uint32_t n = ab_get32(a, 12);
  for (uint32_t i = 0; i < n && 64 + 40 * (size_t)(i + 1) <= bytes; ++i) {
    size_t e = 64 + 40 * (size_t)i;
    uint64_t off = ab_get64(a, e + 8), len = ab_get64(a, e + 16);
    if (off > bytes || len > bytes - off) continue; /* a deliberately bad entry */
    ab_put32(a, e + 32, ab_crc32(a + off, (size_t)len));
  }
  ab_put32(a, 60, ab_crc32(a, 60));
}
