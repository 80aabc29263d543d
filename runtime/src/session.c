/* Sessions: bind an open model to a caller arena and run its nodes in order.
 * The hot path (graft_session_run) decodes each validated node record, builds the kernel
 * views in the session's frame and calls the kernel; no allocation, no checks beyond what the
 * kernels do on data-dependent values. */
#include "graft_internal.h"

/* Bound to an open model whose plan still fits the arena (the model struct may have been
   re-opened with another archive since graft_session_init). */
static int is_ready(const graft_session *s) {
  return s && s->ready_ == GRAFT__SESSION_MAGIC && s->model_ && s->model_->opened_ == GRAFT__MODEL_MAGIC &&
         s->model_->arena_bytes_ <= s->arena_given_;
}

graft_status graft_session_init(graft_session *s, const graft_model *m, void *arena, size_t arena_bytes) {
  if (!s) return GRAFT_E_ARG;
  s->ready_ = 0;
  s->failed_node_ = -1;
  s->model_ = m;
  s->arena_ = (uint8_t *)arena;
  s->arena_needed_ = 0;
  s->arena_given_ = arena ? (uint64_t)arena_bytes : 0;
  s->observer_ = NULL;
  s->observer_user_ = NULL;
  if (!m || m->opened_ != GRAFT__MODEL_MAGIC) return GRAFT_E_ARG;
  s->arena_needed_ = m->arena_bytes_;
  if (s->arena_given_ < s->arena_needed_) return GRAFT_E_ARENA_TOO_SMALL;
  if ((uintptr_t)arena % GRAFT_ALIGN != 0) return GRAFT_E_ALIGN;
  if (!arena) s->arena_ = (uint8_t *)(uintptr_t)m->weights_; /* never dereferenced: 0 arena bytes */
  s->ready_ = GRAFT__SESSION_MAGIC;
  return GRAFT_OK;
}

uint64_t graft_session_arena_needed(const graft_session *s) { return s ? s->arena_needed_ : 0; }
uint64_t graft_session_arena_given(const graft_session *s) { return s ? s->arena_given_ : 0; }

const void *graft_session_tensor_data(const graft_session *s, int32_t t) {
  if (!is_ready(s) || t < 0 || (uint32_t)t >= s->model_->tensor_count_) return NULL;
  const graft_model *m = s->model_;
  const uint8_t *e = m->tensors_ + (size_t)t * GRAFT__TENSOR_ENTRY_BYTES;
  const uint8_t *base = graft__le32(e + 72) == 0 ? s->arena_ : m->weights_;
  return base + graft__le64(e + 80);
}

void *graft_session_input_data(graft_session *s, int32_t i) {
  if (!is_ready(s)) return NULL;
  int32_t t = graft__model_io_tensor(s->model_, 0, i);
  if (t < 0) return NULL;
  const void *p = graft_session_tensor_data(s, t); /* an arena pointer: writable */
  return (void *)(uintptr_t)p;
}

const void *graft_session_output_data(const graft_session *s, int32_t i) {
  if (!is_ready(s)) return NULL;
  int32_t t = graft__model_io_tensor(s->model_, 1, i);
  return t < 0 ? NULL : graft_session_tensor_data(s, t);
}

graft_status graft_session_run(graft_session *s) {
  if (!is_ready(s)) {
    if (s && s->ready_ == GRAFT__SESSION_MAGIC && s->model_ && s->model_->opened_ == GRAFT__MODEL_MAGIC)
      return GRAFT_E_ARENA_TOO_SMALL; /* the model was re-opened with a larger plan */
    return GRAFT_E_ARG;
  }
  const graft_model *m = s->model_;
  s->failed_node_ = -1;
  const uint8_t *p = m->nodes_;
  for (uint32_t i = 0; i < m->node_count_; ++i) {
    graft__node n;
    graft__node_decode(p, &n);
    graft__frame_build(m, &n, s->arena_, &s->frame_);
    const graft_kernel *k = graft_kernel_get(n.kernel); /* non-NULL: checked at open */
    graft_status st = k ? k->eval(&s->frame_.call) : GRAFT_E_KERNEL;
    if (st != GRAFT_OK) {
      s->failed_node_ = (int32_t)i;
      return st < 0 ? st : GRAFT_E_NUMERIC;
    }
    if (s->observer_) s->observer_(s->observer_user_, (int32_t)i, &s->frame_.call);
    p += n.record_bytes;
  }
  return GRAFT_OK;
}

int32_t graft_session_failed_node(const graft_session *s) { return s ? s->failed_node_ : -1; }

void graft_session_set_observer(graft_session *s, graft_observer_fn fn, void *user) {
  if (!s) return;
  s->observer_ = fn;
  s->observer_user_ = user;
}
