/* The kernel table, generated from GRAFT_KERNEL_LIST. A trimmed board build defines
   GRAFT_TRIMMED and GRAFT_USE_<name> (from the generated graft_config.h) for each kernel it keeps;
   the others are left out so the linker drops their code. */
#include "graft_kernels.h"
#include <string.h>
#ifdef GRAFT_CONFIG_HEADER
#include GRAFT_CONFIG_HEADER
#endif

#define GRAFT__ENTRY(id, name, mi, xi, mo, xo) \
  {id, #name, mi, xi, mo, xo, graft_##name##_check, graft_##name##_scratch, graft_##name##_eval},

#ifndef GRAFT_TRIMMED
static const graft_kernel kernels[] = {GRAFT_KERNEL_LIST(GRAFT__ENTRY)};
#else
/* Trimmed: graft_config.h defines GRAFT_KERNEL_KEEP(X) listing only the kept kernels. */
static const graft_kernel kernels[] = {GRAFT_KERNEL_KEEP(GRAFT__ENTRY)};
#endif

const graft_kernel *graft_kernel_get(uint32_t id) {
  /* Ids are sparse but small; a linear scan over ~100 entries happens only at open. */
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; ++i)
    if (kernels[i].id == id) return &kernels[i];
  return 0;
}

const graft_kernel *graft_kernel_find(const char *name) {
  if (!name) return 0;
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; ++i)
    if (strcmp(kernels[i].name, name) == 0) return &kernels[i];
  return 0;
}
