/* STUB: placeholder kernels returning GRAFT_E_UNSUPPORTED until implemented. */
#include "graft_kernels.h"

graft_status graft_erf_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_erf_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_erf_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_exp_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_exp_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_exp_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_log_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_log_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_log_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_sqrt_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_sqrt_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_sqrt_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_neg_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_neg_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_neg_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_abs_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_abs_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_abs_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_reciprocal_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reciprocal_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reciprocal_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_floor_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_floor_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_floor_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_ceil_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_ceil_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_ceil_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_round_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_round_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_round_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_sin_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_sin_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_sin_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_cos_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_cos_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_cos_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_sign_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_sign_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_sign_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_not_bool_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_not_bool_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_not_bool_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

