/* STUB: placeholder kernels returning GRAFT_E_UNSUPPORTED until implemented. */
#include "graft_kernels.h"

graft_status graft_copy_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_copy_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_copy_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_concat_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_concat_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_concat_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_split_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_split_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_split_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_slice_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_slice_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_slice_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_pad_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_pad_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_pad_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_transpose_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_transpose_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_transpose_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_gather_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_gather_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_gather_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_tile_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_tile_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_tile_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_expand_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_expand_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_expand_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_where_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_where_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_where_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_cast_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_cast_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_cast_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_gather_elements_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_gather_elements_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_gather_elements_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_depth_to_space_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_depth_to_space_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_depth_to_space_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

graft_status graft_space_to_depth_any_check(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }
size_t graft_space_to_depth_any_scratch(const graft_call *c) { (void)c; return 0; }
graft_status graft_space_to_depth_any_eval(const graft_call *c) { (void)c; return GRAFT_E_UNSUPPORTED; }

