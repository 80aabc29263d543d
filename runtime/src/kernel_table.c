/* The kernel table, generated from GRAFT_KERNEL_LIST. A trimmed board build defines
   GRAFT_TRIMMED and includes GRAFT_CONFIG_HEADER (the generated graft_config.h), whose
   GRAFT_KERNEL_KEEP(X) lists the GRAFT_KERNEL_LIST entries it keeps; the others are left out
   so the linker drops their code (runtime/Makefile: CONFIG=path/to/graft_config.h). */
#include "graft_kernels.h"
#include <string.h>
#ifdef GRAFT_CONFIG_HEADER
#include GRAFT_CONFIG_HEADER
#endif

#ifndef GRAFT_TRIMMED
/* Full build: the table is indexed by kernel id (designated initializers), so
   graft_kernel_get is one bounds check and one load in the per-node run loop. Ids not in the
   list are zero entries with a NULL name. */
#define GRAFT__ENTRY(id, name, mi, xi, mo, xo) \
  [id] = {id, #name, mi, xi, mo, xo, graft_##name##_check, graft_##name##_scratch, graft_##name##_eval},
static const graft_kernel kernels[GRAFT_KERNEL_ID_END] = {GRAFT_KERNEL_LIST(GRAFT__ENTRY)};

const graft_kernel *graft_kernel_get(uint32_t id) {
  if (id >= (uint32_t)GRAFT_KERNEL_ID_END || !kernels[id].name) return 0;
  return &kernels[id];
}
#else
/* Trimmed build: a compact table of the kept kernels (a few entries), scanned linearly. */
#define GRAFT__ENTRY(id, name, mi, xi, mo, xo) \
  {id, #name, mi, xi, mo, xo, graft_##name##_check, graft_##name##_scratch, graft_##name##_eval},
static const graft_kernel kernels[] = {GRAFT_KERNEL_KEEP(GRAFT__ENTRY)};

const graft_kernel *graft_kernel_get(uint32_t id) {
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; ++i)
    if (kernels[i].id == id) return &kernels[i];
  return 0;
}
#endif

const graft_kernel *graft_kernel_find(const char *name) {
  if (!name) return 0;
  for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; ++i)
    if (kernels[i].name && strcmp(kernels[i].name, name) == 0) return &kernels[i];
  return 0;
}
