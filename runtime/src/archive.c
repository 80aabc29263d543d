/* Archive reader: probe, open (full validation, formats/ARCHIVE.md "Validation"), and the
 * read-only model accessors. Every offset and size from the archive is checked with
 * overflow-safe 64-bit arithmetic before it is used; every loop is bounded by a count that was
 * itself checked against the bytes that hold it. Status rule: a count, offset or size that
 * reaches outside its section, the weights or the arena (or is misaligned) is GRAFT_E_BOUNDS;
 * a field value this format does not define is GRAFT_E_FORMAT. */
#include <string.h>

#include "graft_internal.h"

typedef struct section {
  uint32_t present;
  uint32_t flags;
  uint64_t offset, stored, raw;
  uint32_t crc;
} section;

/* Header fields, after steps 1-3. */
typedef struct archive_info {
  uint64_t file_bytes, arena_bytes;
  uint16_t major, minor;
  section sec[GRAFT__SEC_KIND_END];
} archive_info;

/* a + b <= limit without overflow. */
static int fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

static int host_is_little_endian(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

/* Validation steps 1-3: header, section table, section CRCs. */
static graft_status read_archive(const uint8_t *a, size_t bytes, archive_info *info) {
  static const uint8_t magic[8] = {'G', 'R', 'A', 'F', 'T', 'A', 'R', 'C'};
  if (bytes < GRAFT__HEADER_BYTES) return GRAFT_E_TRUNCATED;
  if (memcmp(a, magic, 8) != 0) return GRAFT_E_FORMAT;
  info->major = graft__le16(a + 8);
  info->minor = graft__le16(a + 10);
  if (info->major != GRAFT_FORMAT_MAJOR) return GRAFT_E_VERSION;
  if (graft__crc32(0, a, 60) != graft__le32(a + 60)) return GRAFT_E_CRC;
  uint32_t count = graft__le32(a + 12);
  info->file_bytes = graft__le64(a + 16);
  info->arena_bytes = graft__le64(a + 24);
  uint32_t flags = graft__le32(a + 32);
  if (count < 1 || count > GRAFT__MAX_SECTIONS) return GRAFT_E_FORMAT;
  uint64_t table_end = GRAFT__HEADER_BYTES + (uint64_t)count * GRAFT__SECTION_ENTRY_BYTES;
  if (info->file_bytes > (uint64_t)bytes || info->file_bytes < table_end) return GRAFT_E_TRUNCATED;
  if (flags != 0) return GRAFT_E_FORMAT;
  if (info->arena_bytes % GRAFT_ALIGN != 0) return GRAFT_E_FORMAT;

  for (uint32_t k = 0; k < GRAFT__SEC_KIND_END; ++k) info->sec[k].present = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t *e = a + GRAFT__HEADER_BYTES + (size_t)i * GRAFT__SECTION_ENTRY_BYTES;
    uint32_t kind = graft__le32(e);
    section s;
    s.present = 1;
    s.flags = graft__le32(e + 4);
    s.offset = graft__le64(e + 8);
    s.stored = graft__le64(e + 16);
    s.raw = graft__le64(e + 24);
    s.crc = graft__le32(e + 32);
    if (s.offset % GRAFT_ALIGN != 0 || !fits(s.offset, s.stored, info->file_bytes))
      return GRAFT_E_BOUNDS;
    if (s.stored > 0 && s.offset < table_end) return GRAFT_E_BOUNDS;
    if (kind < 1 || kind >= GRAFT__SEC_KIND_END) return GRAFT_E_FORMAT;
    if (s.flags & ~1u) return GRAFT_E_FORMAT;
    if (graft__le32(e + 36) != 0) return GRAFT_E_FORMAT; /* the table has no CRC: keep it strict */
    if ((s.flags & 1u) && kind != GRAFT__SEC_WEIGHTS) return GRAFT_E_FORMAT;
    if (!(s.flags & 1u) && s.raw != s.stored) return GRAFT_E_FORMAT;
    if (info->sec[kind].present) return GRAFT_E_FORMAT;
    info->sec[kind] = s;
  }
  for (uint32_t k = GRAFT__SEC_TENSORS; k <= GRAFT__SEC_IO; ++k)
    if (!info->sec[k].present) return GRAFT_E_FORMAT;
  for (uint32_t k = 1; k < GRAFT__SEC_KIND_END; ++k) {
    const section *s = &info->sec[k];
    if (s->present && graft__crc32(0, a + s->offset, (size_t)s->stored) != s->crc) return GRAFT_E_CRC;
  }
  return GRAFT_OK;
}

graft_status graft_model_probe(const void *archive, size_t archive_bytes, graft_model_sizes *out) {
  if (!archive || !out) return GRAFT_E_ARG;
  archive_info info;
  graft_status st = read_archive((const uint8_t *)archive, archive_bytes, &info);
  if (st != GRAFT_OK) return st;
  const section *w = &info.sec[GRAFT__SEC_WEIGHTS];
  out->file_bytes = info.file_bytes;
  out->arena_bytes = info.arena_bytes;
  out->weights_bytes = 0;
  if (w->flags & 1u) {
    if (w->raw > UINT64_MAX - (GRAFT_ALIGN - 1)) return GRAFT_E_BOUNDS;
    out->weights_bytes = (w->raw + (GRAFT_ALIGN - 1)) / GRAFT_ALIGN * GRAFT_ALIGN;
  }
  out->format_major = info.major;
  out->format_minor = info.minor;
  return GRAFT_OK;
}

/* Storage size in bytes of `count` elements of `dtype`; -1 for unknown dtypes or overflow. */
static int64_t storage_bytes(int32_t dtype, int64_t count) {
  if (dtype == GRAFT_DTYPE_INT4) return count / 2 + count % 2;
  size_t size = graft_dtype_size(dtype);
  if (size == 0) return -1;
  if (count > INT64_MAX / (int64_t)size) return -1;
  return count * (int64_t)size;
}

/* Step 4 for the tensor entry at `e`. */
static graft_status check_tensor(const graft_model *m, const uint8_t *e) {
  int32_t dtype = (int32_t)graft__le32(e);
  uint32_t rank = graft__le32(e + 4);
  if (storage_bytes(dtype, 0) < 0) return GRAFT_E_FORMAT;
  if (rank > GRAFT_MAX_RANK) return GRAFT_E_FORMAT;
  int64_t dims[GRAFT_MAX_RANK];
  int has_zero = 0;
  for (uint32_t d = 0; d < GRAFT_MAX_RANK; ++d) {
    dims[d] = (int64_t)graft__le64(e + 8 + 8 * d);
    if (d >= rank && dims[d] != 0) return GRAFT_E_FORMAT;
    if (dims[d] < 0) return GRAFT_E_FORMAT;
    if (d < rank && dims[d] == 0) has_zero = 1;
  }
  int64_t count = has_zero ? 0 : 1;
  for (uint32_t d = 0; d < rank && count > 0; ++d) {
    if (count > (INT64_MAX / 16) / dims[d]) return GRAFT_E_FORMAT; /* no tensor this large */
    count *= dims[d];
  }
  int64_t want = storage_bytes(dtype, count);
  uint64_t bytes = graft__le64(e + 88);
  if (want < 0 || (uint64_t)want != bytes) return GRAFT_E_FORMAT;

  uint32_t storage = graft__le32(e + 72);
  uint64_t offset = graft__le64(e + 80);
  uint64_t limit;
  if (storage == 0) limit = m->arena_bytes_;
  else if (storage == 1) limit = m->weights_bytes_;
  else return GRAFT_E_FORMAT;
  if (offset % GRAFT_ALIGN != 0 || !fits(offset, bytes, limit)) return GRAFT_E_BOUNDS;

  uint32_t name = graft__le32(e + 76);
  if (name != GRAFT__NONE32 && name >= m->strings_bytes_) return GRAFT_E_BOUNDS;

  uint32_t qcount = graft__le32(e + 96);
  int32_t qaxis = (int32_t)graft__le32(e + 100);
  uint64_t qoffset = graft__le64(e + 104);
  if (qcount <= 1) {
    if (qaxis != 0) return GRAFT_E_FORMAT;
  } else {
    if (qcount > INT32_MAX || qaxis < 0 || (uint32_t)qaxis >= rank || dims[qaxis] != (int64_t)qcount)
      return GRAFT_E_FORMAT;
  }
  if (qcount > 0 && (qoffset % 4 != 0 || !fits(qoffset, (uint64_t)qcount * 8u, m->weights_bytes_)))
    return GRAFT_E_BOUNDS;
  return GRAFT_OK;
}

/* A tensor index from a node or IO record: in range of the table. */
static int tensor_in_range(const graft_model *m, int64_t t) { return t >= 0 && t < (int64_t)m->tensor_count_; }

static uint32_t tensor_storage(const graft_model *m, uint32_t t) {
  return graft__le32(m->tensors_ + (size_t)t * GRAFT__TENSOR_ENTRY_BYTES + 72);
}

static uint64_t round8(uint64_t x) { return (x + 7u) & ~(uint64_t)7u; }

/* Arena byte range of tensor t (storage 0); 0 when t is a weights tensor or omitted (-1). */
static int arena_range(const graft_model *m, int32_t t, uint64_t *off, uint64_t *bytes) {
  if (t < 0) return 0;
  const uint8_t *e = m->tensors_ + (size_t)t * GRAFT__TENSOR_ENTRY_BYTES;
  if (graft__le32(e + 72) != 0) return 0;
  *off = graft__le64(e + 80);
  *bytes = graft__le64(e + 88);
  return 1;
}

static int ranges_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
  return an > 0 && bn > 0 && a < b + bn && b < a + an;
}

/* Within one node, an output shares no arena byte with another output, an input or the
   scratch buffer, except that a copy_any output may lie exactly on (same offset and size) an
   input; the scratch buffer shares none with any input or output. The compiler's plan never
   does otherwise; a hostile plan that did would make kernels copy between overlapping
   buffers (GRAFT_E_BOUNDS). Ranges were bounds-checked by check_tensor. O(n_in × n_out). */
static graft_status check_node_overlaps(const graft_model *m, const uint8_t *p, uint32_t kernel,
                                        uint32_t n_in, uint32_t n_out, uint64_t soff, uint64_t sbytes) {
  const uint8_t *ids = p + GRAFT__NODE_HEADER_BYTES;
  for (uint32_t j = 0; j < n_out; ++j) {
    uint64_t o, on;
    if (!arena_range(m, (int32_t)graft__le32(ids + 4 * (n_in + j)), &o, &on)) continue;
    if (ranges_overlap(o, on, soff, sbytes)) return GRAFT_E_BOUNDS;
    for (uint32_t i = 0; i < n_in; ++i) {
      uint64_t a, an;
      if (!arena_range(m, (int32_t)graft__le32(ids + 4 * i), &a, &an)) continue;
      if (!ranges_overlap(o, on, a, an)) continue;
      if (kernel == GRAFT_KERNEL_copy_any && a == o && an == on) continue;
      return GRAFT_E_BOUNDS;
    }
    for (uint32_t k = j + 1; k < n_out; ++k) {
      uint64_t b, bn;
      if (arena_range(m, (int32_t)graft__le32(ids + 4 * (n_in + k)), &b, &bn) && ranges_overlap(o, on, b, bn))
        return GRAFT_E_BOUNDS;
    }
  }
  for (uint32_t i = 0; i < n_in; ++i) {
    uint64_t a, an;
    if (arena_range(m, (int32_t)graft__le32(ids + 4 * i), &a, &an) && ranges_overlap(a, an, soff, sbytes))
      return GRAFT_E_BOUNDS;
  }
  return GRAFT_OK;
}

/* Step 5 for the node record at nodes_ + pos (pos 8-aligned, < nodes_bytes_); on success
   *next is the offset of the next record. */
static graft_status check_node(graft_model *m, uint64_t pos, uint64_t *next) {
  uint64_t avail = m->nodes_bytes_ - pos;
  const uint8_t *p = m->nodes_ + pos;
  if (avail < GRAFT__NODE_HEADER_BYTES) return GRAFT_E_BOUNDS;
  const graft_kernel *k = graft_kernel_get(graft__le32(p));
  if (!k) return GRAFT_E_KERNEL;
  uint32_t n_in = graft__le16(p + 4), n_out = graft__le16(p + 6), n_attrs = graft__le16(p + 8);
  if ((int32_t)n_in < k->min_inputs || (int32_t)n_in > k->max_inputs ||
      (int32_t)n_out < k->min_outputs || (int32_t)n_out > k->max_outputs)
    return GRAFT_E_ARITY;
  if (n_in > GRAFT_MAX_NODE_INPUTS || n_out > GRAFT_MAX_NODE_OUTPUTS || n_attrs > GRAFT_MAX_NODE_ATTRS)
    return GRAFT_E_FORMAT;
  uint32_t name = graft__le32(p + 12);
  if (name != GRAFT__NONE32 && name >= m->strings_bytes_) return GRAFT_E_BOUNDS;
  uint64_t scratch_offset = graft__le64(p + 16), scratch_bytes = graft__le64(p + 24);
  uint64_t used = round8(GRAFT__NODE_HEADER_BYTES + 4u * (uint64_t)(n_in + n_out));
  if (used > avail) return GRAFT_E_BOUNDS;
  for (uint32_t j = 0; j < n_in; ++j) {
    int32_t t = (int32_t)graft__le32(p + GRAFT__NODE_HEADER_BYTES + 4 * j);
    if (t == -1) {
      if ((int32_t)j < k->min_inputs) return GRAFT_E_ARITY; /* a required input is omitted */
    } else if (!tensor_in_range(m, t)) {
      return GRAFT_E_BOUNDS;
    }
  }
  for (uint32_t j = 0; j < n_out; ++j) {
    int32_t t = (int32_t)graft__le32(p + GRAFT__NODE_HEADER_BYTES + 4 * (n_in + j));
    if (!tensor_in_range(m, t)) return GRAFT_E_BOUNDS;
    if (tensor_storage(m, (uint32_t)t) != 0) return GRAFT_E_FORMAT;
  }
  for (uint32_t a = 0; a < n_attrs; ++a) {
    if (avail - used < 8) return GRAFT_E_BOUNDS;
    const uint8_t *r = p + used;
    uint32_t key = graft__le16(r), type = graft__le16(r + 2), count = graft__le32(r + 4);
    if (key == 0 || type < GRAFT_ATTR_T_INT || type > GRAFT_ATTR_T_FLOATS) return GRAFT_E_FORMAT;
    if ((type == GRAFT_ATTR_T_INT || type == GRAFT_ATTR_T_FLOAT) && count != 1) return GRAFT_E_FORMAT;
    if (count > INT32_MAX) return GRAFT_E_FORMAT;
    uint64_t elem = (type <= GRAFT_ATTR_T_INTS) ? 8u : 4u;
    uint64_t rec = 8u + round8((uint64_t)count * elem);
    if (rec > avail - used) return GRAFT_E_BOUNDS;
    used += rec;
  }
  if (scratch_bytes == 0) {
    if (scratch_offset != 0) return GRAFT_E_FORMAT;
  } else if (scratch_offset % GRAFT_ALIGN != 0 || !fits(scratch_offset, scratch_bytes, m->arena_bytes_)) {
    return GRAFT_E_BOUNDS;
  }
  graft_status ov = check_node_overlaps(m, p, graft__le32(p), n_in, n_out, scratch_offset, scratch_bytes);
  if (ov != GRAFT_OK) return ov;
  *next = pos + used;

  graft__node n;
  graft__node_decode(p, &n);
  graft__frame_build(m, &n, NULL, &m->frame_);
  graft_status st = k->check(&m->frame_.call);
  if (st != GRAFT_OK) return st < 0 ? st : GRAFT_E_SHAPE;
  size_t need = k->scratch ? k->scratch(&m->frame_.call) : 0;
  if ((uint64_t)need > scratch_bytes) return GRAFT_E_BOUNDS;
  return GRAFT_OK;
}

graft_status graft_model_open(graft_model *m, const void *archive, size_t archive_bytes,
                              void *weights_buf, size_t weights_buf_bytes) {
  if (!m) return GRAFT_E_ARG;
  memset(m, 0, offsetof(graft_model, frame_)); /* the frame is scratch */
  m->failed_node_ = -1;
  if (!archive) return GRAFT_E_ARG;
  if (!host_is_little_endian()) return GRAFT_E_UNSUPPORTED;
  const uint8_t *a = (const uint8_t *)archive;
  if ((uintptr_t)a % GRAFT_ALIGN != 0) return GRAFT_E_ALIGN;
  archive_info info;
  graft_status st = read_archive(a, archive_bytes, &info);
  if (st != GRAFT_OK) return st;
  m->archive_ = a;
  m->file_bytes_ = info.file_bytes;
  m->arena_bytes_ = info.arena_bytes;

  /* WEIGHTS: in place, or inflated into the caller's buffer. */
  const section *w = &info.sec[GRAFT__SEC_WEIGHTS];
  m->weights_bytes_ = w->raw;
  if (w->flags & 1u) {
    if (w->raw > UINT64_MAX - (GRAFT_ALIGN - 1)) return GRAFT_E_BOUNDS;
    m->weights_compressed_ = 1;
    m->weights_need_ = (w->raw + (GRAFT_ALIGN - 1)) / GRAFT_ALIGN * GRAFT_ALIGN;
    m->weights_given_ = weights_buf ? (uint64_t)weights_buf_bytes : 0;
    if (m->weights_given_ < m->weights_need_) return GRAFT_E_ARENA_TOO_SMALL;
    if ((uintptr_t)weights_buf % GRAFT_ALIGN != 0) return GRAFT_E_ALIGN;
    uintptr_t wb = (uintptr_t)weights_buf, ab = (uintptr_t)a;
    if (weights_buf && m->weights_need_ > 0 && wb < ab + info.file_bytes && ab < wb + m->weights_need_)
      return GRAFT_E_ARG; /* the buffer overlaps the archive it would be inflated from */
    uint8_t none = 0; /* output of an empty stream when no buffer is given */
    uint8_t *buf = weights_buf ? (uint8_t *)weights_buf : &none;
    st = graft__inflate(a + w->offset, (size_t)w->stored, buf, (size_t)w->raw);
    if (st != GRAFT_OK) return st;
    if (weights_buf) {
      memset(buf + w->raw, 0, (size_t)(m->weights_need_ - w->raw));
      m->weights_ = buf;
    } else {
      m->weights_ = a + w->offset; /* 0 raw bytes: a valid base that is never read */
    }
  } else {
    m->weights_ = a + w->offset;
  }

  /* STRINGS: every string must end inside the section, so the last byte is a NUL. */
  const section *s = &info.sec[GRAFT__SEC_STRINGS];
  if (s->present && s->stored > 0) {
    if (a[s->offset + s->stored - 1] != 0) return GRAFT_E_FORMAT;
    m->strings_ = a + s->offset;
    m->strings_bytes_ = s->stored;
  }

  /* TENSORS */
  const section *t = &info.sec[GRAFT__SEC_TENSORS];
  if (t->stored < 8) return GRAFT_E_BOUNDS;
  uint32_t tcount = graft__le32(a + t->offset);
  if ((t->stored - 8) / GRAFT__TENSOR_ENTRY_BYTES < tcount || tcount > INT32_MAX) return GRAFT_E_BOUNDS;
  m->tensors_ = a + t->offset + 8;
  m->tensor_count_ = tcount;
  for (uint32_t i = 0; i < tcount; ++i) {
    st = check_tensor(m, m->tensors_ + (size_t)i * GRAFT__TENSOR_ENTRY_BYTES);
    if (st != GRAFT_OK) return st;
  }

  /* NODES */
  const section *n = &info.sec[GRAFT__SEC_NODES];
  if (n->stored < 8) return GRAFT_E_BOUNDS;
  uint32_t ncount = graft__le32(a + n->offset);
  if ((n->stored - 8) / GRAFT__NODE_HEADER_BYTES < ncount || ncount > INT32_MAX) return GRAFT_E_BOUNDS;
  m->nodes_ = a + n->offset + 8;
  m->nodes_bytes_ = n->stored - 8;
  m->node_count_ = ncount;
  uint64_t pos = 0;
  for (uint32_t i = 0; i < ncount; ++i) {
    uint64_t next = 0;
    st = check_node(m, pos, &next);
    if (st != GRAFT_OK) {
      m->failed_node_ = (int32_t)i;
      return st;
    }
    pos = next;
  }

  /* IO */
  const section *io = &info.sec[GRAFT__SEC_IO];
  if (io->stored < 8) return GRAFT_E_BOUNDS;
  uint32_t n_in = graft__le32(a + io->offset), n_out = graft__le32(a + io->offset + 4);
  if ((uint64_t)n_in + n_out > (io->stored - 8) / 4 || n_in > INT32_MAX || n_out > INT32_MAX)
    return GRAFT_E_BOUNDS;
  m->io_ = a + io->offset + 8;
  for (uint32_t i = 0; i < n_in + n_out; ++i) {
    uint32_t idx = graft__le32(m->io_ + 4 * (size_t)i);
    if (idx >= m->tensor_count_) return GRAFT_E_BOUNDS;
    if (tensor_storage(m, idx) != 0) return GRAFT_E_FORMAT;
  }
  m->input_count_ = n_in;
  m->output_count_ = n_out;
  m->opened_ = GRAFT__MODEL_MAGIC;
  return GRAFT_OK;
}

/* ---- decoding helpers for validated models (shared with session.c) ---- */

void graft__node_decode(const uint8_t *p, graft__node *n) {
  n->kernel = graft__le32(p);
  n->n_inputs = graft__le16(p + 4);
  n->n_outputs = graft__le16(p + 6);
  n->n_attrs = graft__le16(p + 8);
  n->name = graft__le32(p + 12);
  n->scratch_offset = graft__le64(p + 16);
  n->scratch_bytes = graft__le64(p + 24);
  n->inputs = p + GRAFT__NODE_HEADER_BYTES;
  n->outputs = n->inputs + 4 * (size_t)n->n_inputs;
  uint64_t used = round8(GRAFT__NODE_HEADER_BYTES + 4u * (uint64_t)(n->n_inputs + n->n_outputs));
  n->attrs = p + used;
  for (uint32_t a = 0; a < n->n_attrs; ++a) {
    const uint8_t *r = p + used;
    uint64_t elem = (graft__le16(r + 2) <= GRAFT_ATTR_T_INTS) ? 8u : 4u;
    used += 8u + round8((uint64_t)graft__le32(r + 4) * elem);
  }
  n->record_bytes = used;
}

void graft__tensor_view(const graft_model *m, uint32_t t, const uint8_t *base, graft_tensor *v) {
  const uint8_t *e = m->tensors_ + (size_t)t * GRAFT__TENSOR_ENTRY_BYTES;
  v->dtype = (int32_t)graft__le32(e);
  v->rank = (int32_t)graft__le32(e + 4);
  for (uint32_t d = 0; d < GRAFT_MAX_RANK; ++d) v->dims[d] = (int64_t)graft__le64(e + 8 + 8 * d);
  v->data = base ? (void *)(uintptr_t)(base + graft__le64(e + 80)) : NULL;
  uint32_t qcount = graft__le32(e + 96);
  v->quant_count = (int32_t)qcount;
  v->quant_axis = (int32_t)graft__le32(e + 100);
  if (qcount > 0) {
    const uint8_t *q = m->weights_ + graft__le64(e + 104);
    v->scale = (const float *)(const void *)q;
    v->zero_point = (const int32_t *)(const void *)(q + 4 * (size_t)qcount);
  } else {
    v->scale = NULL;
    v->zero_point = NULL;
  }
}

void graft__frame_build(const graft_model *m, const graft__node *n, uint8_t *arena, graft_node_frame *f) {
  for (uint32_t j = 0; j < n->n_inputs; ++j) {
    int32_t t = (int32_t)graft__le32(n->inputs + 4 * j);
    if (t < 0) {
      f->in_ptr[j] = NULL;
      continue;
    }
    const uint8_t *base = NULL;
    if (arena) base = tensor_storage(m, (uint32_t)t) == 0 ? arena : m->weights_;
    graft__tensor_view(m, (uint32_t)t, base, &f->in[j]);
    f->in_ptr[j] = &f->in[j];
  }
  for (uint32_t j = 0; j < n->n_outputs; ++j) {
    graft__tensor_view(m, graft__le32(n->outputs + 4 * j), arena, &f->out[j]);
    f->out_ptr[j] = &f->out[j];
  }
  const uint8_t *r = n->attrs;
  for (uint32_t a = 0; a < n->n_attrs; ++a) {
    graft_attr *at = &f->attrs[a];
    uint32_t type = graft__le16(r + 2), count = graft__le32(r + 4);
    at->key = (int32_t)graft__le16(r);
    at->type = (int32_t)type;
    at->count = (int32_t)count;
    at->ints = type <= GRAFT_ATTR_T_INTS ? (const int64_t *)(const void *)(r + 8) : NULL;
    at->floats = type >= GRAFT_ATTR_T_FLOAT ? (const float *)(const void *)(r + 8) : NULL;
    r += 8u + round8((uint64_t)count * (type <= GRAFT_ATTR_T_INTS ? 8u : 4u));
  }
  f->call.inputs = f->in_ptr;
  f->call.outputs = f->out_ptr;
  f->call.n_inputs = (int32_t)n->n_inputs;
  f->call.n_outputs = (int32_t)n->n_outputs;
  f->call.attrs = f->attrs;
  f->call.n_attrs = (int32_t)n->n_attrs;
  f->call.scratch = (arena && n->scratch_bytes) ? arena + n->scratch_offset : NULL;
  f->call.scratch_bytes = (size_t)n->scratch_bytes;
}

/* ---- model accessors ---- */

static int is_open(const graft_model *m) { return m && m->opened_ == GRAFT__MODEL_MAGIC; }

uint64_t graft_model_arena_bytes(const graft_model *m) { return is_open(m) ? m->arena_bytes_ : 0; }
uint64_t graft_model_weights_bytes(const graft_model *m) { return m ? m->weights_need_ : 0; }
int32_t graft_model_failed_node(const graft_model *m) { return m ? m->failed_node_ : -1; }
int32_t graft_model_input_count(const graft_model *m) { return is_open(m) ? (int32_t)m->input_count_ : 0; }
int32_t graft_model_output_count(const graft_model *m) { return is_open(m) ? (int32_t)m->output_count_ : 0; }
int32_t graft_model_tensor_count(const graft_model *m) { return is_open(m) ? (int32_t)m->tensor_count_ : 0; }
int32_t graft_model_node_count(const graft_model *m) { return is_open(m) ? (int32_t)m->node_count_ : 0; }

static const char *string_at(const graft_model *m, uint32_t off) {
  if (off == GRAFT__NONE32 || off >= m->strings_bytes_) return NULL;
  return (const char *)(m->strings_ + off);
}

/* Tensor index of model input (which 0) or output (which 1) i, or -1. */
static int32_t io_tensor(const graft_model *m, int which, int32_t i) {
  if (!is_open(m) || i < 0) return -1;
  uint32_t n = which ? m->output_count_ : m->input_count_;
  if ((uint32_t)i >= n) return -1;
  size_t slot = (size_t)(which ? m->input_count_ : 0) + (size_t)i;
  return (int32_t)graft__le32(m->io_ + 4 * slot);
}

graft_status graft_model_tensor(const graft_model *m, int32_t t, graft_tensor *view_out) {
  if (!is_open(m) || !view_out || t < 0 || (uint32_t)t >= m->tensor_count_) return GRAFT_E_ARG;
  const uint8_t *base = tensor_storage(m, (uint32_t)t) == 1 ? m->weights_ : NULL;
  graft__tensor_view(m, (uint32_t)t, base, view_out);
  return GRAFT_OK;
}

uint64_t graft_model_tensor_bytes(const graft_model *m, int32_t t) {
  if (!is_open(m) || t < 0 || (uint32_t)t >= m->tensor_count_) return 0;
  return graft__le64(m->tensors_ + (size_t)t * GRAFT__TENSOR_ENTRY_BYTES + 88);
}
uint64_t graft_model_input_bytes(const graft_model *m, int32_t i) {
  return graft_model_tensor_bytes(m, io_tensor(m, 0, i));
}
uint64_t graft_model_output_bytes(const graft_model *m, int32_t i) {
  return graft_model_tensor_bytes(m, io_tensor(m, 1, i));
}

const char *graft_model_tensor_name(const graft_model *m, int32_t t) {
  if (!is_open(m) || t < 0 || (uint32_t)t >= m->tensor_count_) return NULL;
  return string_at(m, graft__le32(m->tensors_ + (size_t)t * GRAFT__TENSOR_ENTRY_BYTES + 76));
}

graft_status graft_model_input(const graft_model *m, int32_t i, graft_tensor *view_out) {
  int32_t t = io_tensor(m, 0, i);
  return t < 0 ? GRAFT_E_ARG : graft_model_tensor(m, t, view_out);
}
graft_status graft_model_output(const graft_model *m, int32_t i, graft_tensor *view_out) {
  int32_t t = io_tensor(m, 1, i);
  return t < 0 ? GRAFT_E_ARG : graft_model_tensor(m, t, view_out);
}
const char *graft_model_input_name(const graft_model *m, int32_t i) {
  return graft_model_tensor_name(m, io_tensor(m, 0, i));
}
const char *graft_model_output_name(const graft_model *m, int32_t i) {
  return graft_model_tensor_name(m, io_tensor(m, 1, i));
}

int32_t graft__model_io_tensor(const graft_model *m, int which, int32_t i) { return io_tensor(m, which, i); }

/* Decodes node `node` by walking the list; 0 when the index is bad. */
static int find_node(const graft_model *m, int32_t node, graft__node *n) {
  if (!is_open(m) || node < 0 || (uint32_t)node >= m->node_count_) return 0;
  const uint8_t *p = m->nodes_;
  for (int32_t i = 0;; ++i) {
    graft__node_decode(p, n);
    if (i == node) return 1;
    p += n->record_bytes;
  }
}

const char *graft_model_node_name(const graft_model *m, int32_t node) {
  graft__node n;
  return find_node(m, node, &n) ? string_at(m, n.name) : NULL;
}
int32_t graft_model_node_kernel(const graft_model *m, int32_t node) {
  graft__node n;
  return find_node(m, node, &n) ? (int32_t)n.kernel : -1;
}
int32_t graft_model_node_input_count(const graft_model *m, int32_t node) {
  graft__node n;
  return find_node(m, node, &n) ? (int32_t)n.n_inputs : 0;
}
int32_t graft_model_node_output_count(const graft_model *m, int32_t node) {
  graft__node n;
  return find_node(m, node, &n) ? (int32_t)n.n_outputs : 0;
}
int32_t graft_model_node_input(const graft_model *m, int32_t node, int32_t j) {
  graft__node n;
  if (!find_node(m, node, &n) || j < 0 || (uint32_t)j >= n.n_inputs) return -1;
  return (int32_t)graft__le32(n.inputs + 4 * (size_t)j);
}
int32_t graft_model_node_output(const graft_model *m, int32_t node, int32_t j) {
  graft__node n;
  if (!find_node(m, node, &n) || j < 0 || (uint32_t)j >= n.n_outputs) return -1;
  return (int32_t)graft__le32(n.outputs + 4 * (size_t)j);
}
