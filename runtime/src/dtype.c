#include "graft_kernels.h"
size_t graft_dtype_size(int32_t dtype) {
  switch (dtype) {
  case GRAFT_DTYPE_FLOAT32: case GRAFT_DTYPE_INT32: case GRAFT_DTYPE_UINT32: return 4;
  case GRAFT_DTYPE_UINT8: case GRAFT_DTYPE_INT8: case GRAFT_DTYPE_BOOL: return 1;
  case GRAFT_DTYPE_UINT16: case GRAFT_DTYPE_INT16: case GRAFT_DTYPE_FLOAT16: case GRAFT_DTYPE_BFLOAT16: return 2;
  case GRAFT_DTYPE_INT64: case GRAFT_DTYPE_UINT64: case GRAFT_DTYPE_FLOAT64: return 8;
  default: return 0;
  }
}
