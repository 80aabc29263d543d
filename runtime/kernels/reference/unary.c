/* Elementwise unary math, fp32 (and not_bool). Contract: output has the input's shape and
   dtype; y[i] = f(x[i]) with the C99 libm function (correctly rounded or within 1-2 ulp);
   Round is round-half-to-even (ONNX), Sign returns -1/0/1 (NaN stays NaN). Output may alias
   the input. No scratch. */
#include "gk_vectorize.h"
#include <math.h>
#include "kcommon.h"

static graft_status same_shape_check(const graft_call *c, int32_t dt) {
  const graft_tensor *x = gk_in(c, 0), *y = gk_out(c, 0);
  if (!gk_is(x, dt) || !gk_is(y, dt) || !gk_same_dims(x, y)) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}

#define GK_UNARY(name, T, DT, EXPR)                                                          \
  graft_status graft_##name##_check(const graft_call *c) { return same_shape_check(c, DT); } \
  size_t graft_##name##_scratch(const graft_call *c) { (void)c; return 0; }                  \
  graft_status graft_##name##_eval(const graft_call *c) {                                    \
    const T *xp = (const T *)gk_in(c, 0)->data;                                              \
    T *yp = (T *)gk_out(c, 0)->data;                                                         \
    for (int64_t i = 0, n = gk_count(gk_out(c, 0)); i < n; ++i) {                            \
      T x = xp[i];                                                                           \
      yp[i] = (T)(EXPR);                                                                     \
    }                                                                                        \
    return GRAFT_OK;                                                                         \
  }

#define F32 GRAFT_DTYPE_FLOAT32
GK_UNARY(erf_f32, float, F32, erff(x))
GK_UNARY(exp_f32, float, F32, expf(x))
GK_UNARY(log_f32, float, F32, logf(x))
GK_UNARY(sqrt_f32, float, F32, sqrtf(x))
GK_UNARY(neg_f32, float, F32, -x)
GK_UNARY(abs_f32, float, F32, fabsf(x))
GK_UNARY(reciprocal_f32, float, F32, 1.0f / x)
GK_UNARY(floor_f32, float, F32, floorf(x))
GK_UNARY(ceil_f32, float, F32, ceilf(x))
GK_UNARY(round_f32, float, F32, nearbyintf(x))
GK_UNARY(sin_f32, float, F32, sinf(x))
GK_UNARY(cos_f32, float, F32, cosf(x))
GK_UNARY(sign_f32, float, F32, x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x))
GK_UNARY(not_bool, uint8_t, GRAFT_DTYPE_BOOL, x == 0)
