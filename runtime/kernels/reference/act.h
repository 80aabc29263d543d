/* Fused activations shared by every kernel that applies one to its output (conv, gemm,
   matmul, add, mul, act). Internal header; not part of the public API.
   Contract: applies graft_act `act` with parameters (a, b) to x[0..n) in place. */
#ifndef GRAFT_ACT_H
#define GRAFT_ACT_H
#include <math.h>
#include <stddef.h>
#include "graft_kernels.h"

/* The fused activation of a call: act kind and its two parameters (see graft_act). */
typedef struct graft_act_params {
  int32_t kind;
  float a, b;
} graft_act_params;

static inline graft_act_params graft_act_of(const graft_call *c) {
  graft_act_params p;
  p.kind = (int32_t)graft_attr_int(c, GRAFT_ATTR_ACT, GRAFT_ACT_NONE);
  p.a = graft_attr_float(c, GRAFT_ATTR_ACT_ALPHA, 0.0f);
  p.b = graft_attr_float(c, GRAFT_ATTR_ACT_BETA, 0.0f);
  return p;
}

/* Applies the activation to x[0..n). Defined in activation.c (vectorized there). */
void graft_act_apply_f32(float *x, size_t n, graft_act_params p);

#endif
