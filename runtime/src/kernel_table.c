/* The kernel table, generated from GRAFT_KERNEL_LIST. A trimmed board build defines
   GRAFT_TRIMMED and GRAFT_USE_<name> (from the generated graft_config.h) for each kernel it keeps;
   the others are left out so the linker drops their code. */
#include "graft_kernels.h"
#include <string.h>
#ifdef GRAFT_CONFIG_HEADER
#include GRAFT_CONFIG_HEADER
#endif

/* The table is indexed by kernel id (designated initializers): graft_kernel_get is one
   bounds check and one load, cheap enough for the per-node run loop. Ids not in the list
   (or trimmed away) are zero entries with a NULL name. */
#define GRAFT__ENTRY(id, name, mi, xi, mo, xo) \
  [id] = {id, #name, mi, xi, mo, xo, graft_##name##_check, graft_##name##_scratch, graft_##name##_eval},

#ifndef GRAFT_TRIMMED
static const graft_kernel kernels[GRAFT_KERNEL_ID_END] = {GRAFT_KERNEL_LIST(GRAFT__ENTRY)};
#else
/* Trimmed: graft_config.h defines GRAFT_KERNEL_KEEP(X) listing only the kept kernels. */
static const graft_kernel kernels[GRAFT_KERNEL_ID_END] = {GRAFT_KERNEL_KEEP(GRAFT__ENTRY)};
#endif

const graft_kernel *graft_kernel_get(uint32_t id) {
  if (id >= (uint32_t)GRAFT_KERNEL_ID_END || !kernels[id].name) return 0;
  return &kernels[id];
}

const graft_kernel *graft_kernel_find(const char *name) {
  if (!name) return 0;
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; ++i)
    if (kernels[i].name && strcmp(kernels[i].name, name) == 0) return &kernels[i];
  return 0;
}
