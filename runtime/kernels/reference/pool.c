/* STUB: placeholder kernels returning GRAFT_E_UNSUPPORTED until implemented. */
#include "graft_kernels.h"

graft_status graft_maxpool_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_maxpool_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_maxpool_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_avgpool_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_avgpool_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_avgpool_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_global_avgpool_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_global_avgpool_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_global_avgpool_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_global_maxpool_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_global_maxpool_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_global_maxpool_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_lppool_f32_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_lppool_f32_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_lppool_f32_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

