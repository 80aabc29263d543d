/* STUB: placeholder kernels returning GRAFT_E_UNSUPPORTED until implemented. */
#include "graft_kernels.h"

graft_status graft_act_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_act_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_act_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_prelu_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_prelu_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_prelu_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_softmax_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_softmax_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_softmax_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_log_softmax_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_log_softmax_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_log_softmax_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }


#include "act.h"
/* Scalar reference of every fused activation (vectorize as needed). */
void graft_act_apply_f32(float *x, size_t n, graft_act_params p) {
  size_t i;
  switch (p.kind) {
  case GRAFT_ACT_NONE: return;
  case GRAFT_ACT_RELU: for (i = 0; i < n; ++i) x[i] = x[i] > 0.0f ? x[i] : 0.0f; return;
  case GRAFT_ACT_CLIP: for (i = 0; i < n; ++i) x[i] = x[i] < p.a ? p.a : (x[i] > p.b ? p.b : x[i]); return;
  case GRAFT_ACT_LEAKY_RELU: for (i = 0; i < n; ++i) x[i] = x[i] >= 0.0f ? x[i] : p.a * x[i]; return;
  case GRAFT_ACT_HARD_SIGMOID:
    for (i = 0; i < n; ++i) { float v = p.a * x[i] + p.b; x[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }
    return;
  case GRAFT_ACT_HARD_SWISH:
    for (i = 0; i < n; ++i) { float v = x[i] / 6.0f + 0.5f; v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); x[i] *= v; }
    return;
  case GRAFT_ACT_SIGMOID: for (i = 0; i < n; ++i) x[i] = 1.0f / (1.0f + expf(-x[i])); return;
  case GRAFT_ACT_SILU: for (i = 0; i < n; ++i) x[i] = x[i] / (1.0f + expf(-x[i])); return;
  case GRAFT_ACT_TANH: for (i = 0; i < n; ++i) x[i] = tanhf(x[i]); return;
  case GRAFT_ACT_GELU: for (i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f)); return;
  case GRAFT_ACT_GELU_TANH:
    for (i = 0; i < n; ++i) {
      float v = x[i];
      x[i] = 0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
    }
    return;
  case GRAFT_ACT_ELU: for (i = 0; i < n; ++i) x[i] = x[i] >= 0.0f ? x[i] : p.a * (expf(x[i]) - 1.0f); return;
  case GRAFT_ACT_SELU:
    for (i = 0; i < n; ++i) x[i] = p.b * (x[i] > 0.0f ? x[i] : p.a * (expf(x[i]) - 1.0f));
    return;
  case GRAFT_ACT_SOFTPLUS: for (i = 0; i < n; ++i) x[i] = x[i] > 20.0f ? x[i] : log1pf(expf(x[i])); return;
  case GRAFT_ACT_SOFTSIGN: for (i = 0; i < n; ++i) x[i] = x[i] / (1.0f + fabsf(x[i])); return;
  case GRAFT_ACT_AFFINE: for (i = 0; i < n; ++i) x[i] = p.a * x[i] + p.b; return;
  default: return;
  }
}
