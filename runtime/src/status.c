/* Library version and status names. */
#include "graft.h"

uint32_t graft_version(void) { return (uint32_t)GRAFT_VERSION_NUMBER; }

const char *graft_status_name(graft_status status) {
  switch (status) {
  case GRAFT_OK: return "GRAFT_OK";
  case GRAFT_E_ARG: return "GRAFT_E_ARG";
  case GRAFT_E_FORMAT: return "GRAFT_E_FORMAT";
  case GRAFT_E_VERSION: return "GRAFT_E_VERSION";
  case GRAFT_E_TRUNCATED: return "GRAFT_E_TRUNCATED";
  case GRAFT_E_CRC: return "GRAFT_E_CRC";
  case GRAFT_E_BOUNDS: return "GRAFT_E_BOUNDS";
  case GRAFT_E_KERNEL: return "GRAFT_E_KERNEL";
  case GRAFT_E_ARITY: return "GRAFT_E_ARITY";
  case GRAFT_E_SHAPE: return "GRAFT_E_SHAPE";
  case GRAFT_E_ARENA_TOO_SMALL: return "GRAFT_E_ARENA_TOO_SMALL";
  case GRAFT_E_UNSUPPORTED: return "GRAFT_E_UNSUPPORTED";
  case GRAFT_E_DECOMPRESS: return "GRAFT_E_DECOMPRESS";
  case GRAFT_E_NUMERIC: return "GRAFT_E_NUMERIC";
  case GRAFT_E_ALIGN: return "GRAFT_E_ALIGN";
  }
  return "GRAFT_E_UNKNOWN";
}
