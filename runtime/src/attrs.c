/* Attribute accessors and tensor helpers shared by every kernel. */
#include "graft_kernels.h"

int64_t graft_tensor_count(const graft_tensor *t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t->rank; ++i) n *= t->dims[i];
  return n;
}

static const graft_attr *find_attr(const graft_call *c, int32_t key) {
  for (int32_t i = 0; i < c->n_attrs; ++i)
    if (c->attrs[i].key == key) return &c->attrs[i];
  return 0;
}

int64_t graft_attr_int(const graft_call *c, int32_t key, int64_t dflt) {
  const graft_attr *a = find_attr(c, key);
  if (!a || a->count < 1) return dflt;
  if ((a->type == GRAFT_ATTR_T_INT || a->type == GRAFT_ATTR_T_INTS) && a->ints) return a->ints[0];
  if ((a->type == GRAFT_ATTR_T_FLOAT || a->type == GRAFT_ATTR_T_FLOATS) && a->floats) {
    /* Saturating: NaN gives the default, out-of-range values the nearest int64 (a plain
       conversion of those is undefined behaviour). */
    float f = a->floats[0];
    if (f != f) return dflt;
    if (f >= 9.2233720e18f) return INT64_MAX;
    if (f < -9.2233720e18f) return INT64_MIN;
    return (int64_t)f;
  }
  return dflt;
}

float graft_attr_float(const graft_call *c, int32_t key, float dflt) {
  const graft_attr *a = find_attr(c, key);
  if (!a || a->count < 1) return dflt;
  if ((a->type == GRAFT_ATTR_T_FLOAT || a->type == GRAFT_ATTR_T_FLOATS) && a->floats) return a->floats[0];
  if ((a->type == GRAFT_ATTR_T_INT || a->type == GRAFT_ATTR_T_INTS) && a->ints) return (float)a->ints[0];
  return dflt;
}

int32_t graft_attr_ints(const graft_call *c, int32_t key, const int64_t **out) {
  const graft_attr *a = find_attr(c, key);
  if (!a || !a->ints || (a->type != GRAFT_ATTR_T_INT && a->type != GRAFT_ATTR_T_INTS)) {
    if (out) *out = 0;
    return 0;
  }
  if (out) *out = a->ints;
  return a->count;
}

int32_t graft_attr_floats(const graft_call *c, int32_t key, const float **out) {
  const graft_attr *a = find_attr(c, key);
  if (!a || !a->floats || (a->type != GRAFT_ATTR_T_FLOAT && a->type != GRAFT_ATTR_T_FLOATS)) {
    if (out) *out = 0;
    return 0;
  }
  if (out) *out = a->floats;
  return a->count;
}
