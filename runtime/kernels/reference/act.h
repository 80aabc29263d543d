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

/* An absent parameter takes the ONNX default of the activation (LeakyRelu 0.01, HardSigmoid
   0.2/0.5, Elu 1, Selu 1.6733/1.0507, Clip -inf/+inf, Affine 1/0), else 0. */
static inline graft_act_params graft_act_of(const graft_call *c) {
  graft_act_params p;
  float da = 0.0f, db = 0.0f;
  p.kind = (int32_t)graft_attr_int(c, GRAFT_ATTR_ACT, GRAFT_ACT_NONE);
  switch (p.kind) {
  case GRAFT_ACT_CLIP: da = -INFINITY; db = INFINITY; break;
  case GRAFT_ACT_LEAKY_RELU: da = 0.01f; break;
  case GRAFT_ACT_HARD_SIGMOID: da = 0.2f; db = 0.5f; break;
  case GRAFT_ACT_ELU: da = 1.0f; break;
  case GRAFT_ACT_SELU: da = 1.67326319217681884765625f; db = 1.05070102214813232421875f; break;
  case GRAFT_ACT_AFFINE: da = 1.0f; break;
  default: break;
  }
  p.a = graft_attr_float(c, GRAFT_ATTR_ACT_ALPHA, da);
  p.b = graft_attr_float(c, GRAFT_ATTR_ACT_BETA, db);
  return p;
}

/* Applies the activation to x[0..n). Defined in activation.c (vectorized there). */
void graft_act_apply_f32(float *x, size_t n, graft_act_params p);

#endif
