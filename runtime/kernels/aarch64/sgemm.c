/* sgemm.c (aarch64 and armv7 NEON) — the reference sgemm with its portable 4 x 8 micro-kernel
   replaced by a NEON one: eight float32x4 accumulators held in registers, fused multiply-add
   (vfmaq_f32; armv7 needs -mfpu=neon-vfpv4), vector epilogue.

   Contract
   - Identical to kernels/reference/sgemm.c (sgemm.h): the same packing, blocking, scratch
     sizes and variant choice; only the inner 4 x 8 tile computation differs. Results equal the
     reference's except for rounding: one rounding per multiply-add instead of two.
   - The epilogue follows the reference's epi_scalar exactly, NaN included (relu maps NaN to 0,
     clip keeps NaN).
   - How it replaces the micro-kernel without copying the reference: the reference file is
     included with `ukr_generic` defined as a function-like macro, which renames only its
     definition (the one place the name is followed by '('); the variant table's bare
     `ukr_generic` entry then names the function defined below. A change of the reference's
     micro-kernel signature or tile shape (GEN_MR 4, GEN_NR 8) breaks this build, not silently
     its results: the static assertion below checks the shape.
   - Built only for TARGET=aarch64 / armv7 (runtime/Makefile) and by `graft build` bundles. A
     compiler without NEON enabled (armhf's default -mfpu=vfpv3-d16) gets the reference file
     unchanged. */
#if !defined(__ARM_NEON) && !defined(__ARM_NEON__)
#include "../reference/sgemm.c"
#else
#include <arm_neon.h>
#include <stdint.h>

struct ukr_epi;
static void ukr_generic(int64_t kc, const float *a, int64_t lda, const float *b, float *c,
                        int64_t ldc, const struct ukr_epi *e);

#define ukr_generic(...) ukr_generic_portable(__VA_ARGS__)
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include "../reference/sgemm.c"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#undef ukr_generic

typedef char graft_neon_tile_is_4x8[(GEN_MR == 4 && GEN_NR == 8) ? 1 : -1];

#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define NEON_FMA(acc, x, y) vfmaq_f32((acc), (x), (y))
#else
#define NEON_FMA(acc, x, y) vmlaq_f32((acc), (x), (y))
#endif

/* epi_scalar on four columns j..j+3 of row i. */
static inline float32x4_t epi_neon(float32x4_t x, const float *cp, int i, int j, const ukr_epi *e) {
  if (e->scale) x = vmulq_n_f32(x, e->alpha);
  if (e->load_c) x = vaddq_f32(x, vld1q_f32(cp + j));
  if (e->final) {
    if (e->rb) x = vaddq_f32(x, vdupq_n_f32(e->rb[i]));
    if (e->cb) x = vaddq_f32(x, vld1q_f32(e->cb + j));
    if (e->clamp == 1) {
      x = vbslq_f32(vcgtq_f32(x, vdupq_n_f32(0.0f)), x, vdupq_n_f32(0.0f));
    } else if (e->clamp == 2) {
      const float32x4_t lo = vdupq_n_f32(e->lo), hi = vdupq_n_f32(e->hi);
      x = vbslq_f32(vcltq_f32(x, lo), lo, vbslq_f32(vcgtq_f32(x, hi), hi, x));
    }
  }
  return x;
}

static void ukr_generic(int64_t kc, const float *a, int64_t lda, const float *b, float *c,
                        int64_t ldc, const struct ukr_epi *e) {
  (void)lda;
  float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c10 = c00, c11 = c00;
  float32x4_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int64_t k = 0; k < kc; ++k) {
    const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
    const float32x4_t a0 = vdupq_n_f32(a[0]), a1 = vdupq_n_f32(a[1]);
    const float32x4_t a2 = vdupq_n_f32(a[2]), a3 = vdupq_n_f32(a[3]);
    c00 = NEON_FMA(c00, b0, a0);
    c01 = NEON_FMA(c01, b1, a0);
    c10 = NEON_FMA(c10, b0, a1);
    c11 = NEON_FMA(c11, b1, a1);
    c20 = NEON_FMA(c20, b0, a2);
    c21 = NEON_FMA(c21, b1, a2);
    c30 = NEON_FMA(c30, b0, a3);
    c31 = NEON_FMA(c31, b1, a3);
    a += 4;
    b += 8;
  }
#define STORE_ROW(i)                                      \
  {                                                       \
    float *cp = c + (i) * ldc;                            \
    const float32x4_t lo_ = epi_neon(c##i##0, cp, i, 0, e); \
    const float32x4_t hi_ = epi_neon(c##i##1, cp, i, 4, e); \
    vst1q_f32(cp, lo_);                                   \
    vst1q_f32(cp + 4, hi_);                               \
  }
  STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3)
#undef STORE_ROW
}
#endif /* __ARM_NEON */
