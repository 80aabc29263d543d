/* graft.h: the public API of the Graft C runtime (written by the runtime-core work). */
#ifndef GRAFT_H
#define GRAFT_H
#include "graft_kernels.h"
#endif
