/* STUB: placeholder kernels returning GRAFT_E_UNSUPPORTED until implemented. */
#include "graft_kernels.h"

graft_status graft_resize_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_resize_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_resize_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

