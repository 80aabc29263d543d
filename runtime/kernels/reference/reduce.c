/* STUB: placeholder kernels returning GRAFT_E_UNSUPPORTED until implemented. */
#include "graft_kernels.h"

graft_status graft_reduce_mean_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reduce_mean_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reduce_mean_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_reduce_sum_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reduce_sum_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reduce_sum_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_reduce_max_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reduce_max_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reduce_max_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_reduce_min_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reduce_min_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reduce_min_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_reduce_l2_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reduce_l2_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reduce_l2_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_reduce_prod_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reduce_prod_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reduce_prod_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_reduce_l1_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reduce_l1_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reduce_l1_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_reduce_sumsq_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reduce_sumsq_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reduce_sumsq_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_reduce_logsumexp_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_reduce_logsumexp_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_reduce_logsumexp_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_argmax_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_argmax_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_argmax_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_argmin_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_argmin_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_argmin_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

