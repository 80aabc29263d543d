/* STUB: placeholder kernels returning GRAFT_E_UNSUPPORTED until implemented. */
#include "graft_kernels.h"

graft_status graft_add_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_add_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_add_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_sub_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_sub_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_sub_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_mul_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_mul_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_mul_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_div_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_div_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_div_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_pow_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_pow_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_pow_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_max_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_max_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_max_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_min_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_min_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_min_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_sum_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_sum_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_sum_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_mean_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_mean_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_mean_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_equal_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_equal_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_equal_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_less_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_less_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_less_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_greater_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_greater_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_greater_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_less_equal_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_less_equal_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_less_equal_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_greater_equal_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_greater_equal_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_greater_equal_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_add_i64_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_add_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_add_i64_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_sub_i64_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_sub_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_sub_i64_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_mul_i64_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_mul_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_mul_i64_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_div_i64_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_div_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_div_i64_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_equal_i64_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_equal_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_equal_i64_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_and_bool_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_and_bool_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_and_bool_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_or_bool_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_or_bool_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_or_bool_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_xor_bool_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_xor_bool_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_xor_bool_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_mod_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_mod_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_mod_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_less_i64_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_less_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_less_i64_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_greater_i64_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_greater_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_greater_i64_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_max_i64_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_max_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_max_i64_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_min_i64_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_min_i64_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_min_i64_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

