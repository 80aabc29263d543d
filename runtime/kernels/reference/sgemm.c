/* The shared fp32 GEMM core (contract in sgemm.h).

   Structure (the Goto/BLIS decomposition):
     for each block of NC columns (NC = 480: the packed B block stays in L2):
       for each block of KC = 256 along K:      pack B rows into NR-wide column panels (or,
                                                AVX-512 row slices: row pointers, no copy)
         for each block of MC rows:             A read in place (row-major) or packed MR-tall
           for each NR panel, each MR panel:    register-blocked micro-kernel (B panel in L1)
   Micro-kernels (AVX-512 8x48, AVX2+FMA 6x16, aarch64 NEON 8x12, armv7 NEON 6x8, portable
   4x8) compute a full MR x w tile
   (w = panel width, a multiple of the variant's vector unit); partial tiles at the
   right/bottom edges go through a small stack tile. The bias and the clamp-type activations
   (Relu, Clip) are applied in the micro-kernel on the last K block while the tile is in
   registers; other activations run per tile row right after the tile is stored (in L1).
   Tail panels of at most 4 columns use dot products instead of a 16-wide tile.
   Target variants live here as #ifdef blocks rather than as kernels/<target>/sgemm.c twins:
   the variants differ only in their micro-kernels (~60 lines each), while packing, blocking,
   edge tiles, the epilogue contract and the scratch formula (which must cover every variant)
   are ~800 shared lines; a same-basename twin would have to copy all of them. NEON builds
   (__ARM_NEON) use the NEON kernels unless graft_cpu_level_get() says GENERIC.
   Measured on Zen 5 (1 core, AVX-512): ~90 % of the 270 GFLOP/s peak at M=N=K=512; see
   bench/kernels/gemm_bench.c. */
#include "sgemm.h"
#include <string.h>
#include "../../src/cpu.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GRAFT_SGEMM_X86 1
#include <immintrin.h>
#elif defined(__ARM_NEON) || defined(__ARM_NEON__)
#define GRAFT_SGEMM_NEON 1
#include <arm_neon.h>
#endif

/* Blocking. MC is a multiple of every MR, NC of every NR. */
#ifndef GRAFT_SGEMM_MC
#define GRAFT_SGEMM_MC 240
#endif
#ifndef GRAFT_SGEMM_KC
#define GRAFT_SGEMM_KC 256
#endif
#ifndef GRAFT_SGEMM_NC
#define GRAFT_SGEMM_NC 480
#endif

#ifndef GRAFT_SGEMM_DIRECT_B
#define GRAFT_SGEMM_DIRECT_B 1
#endif
#ifndef GRAFT_SGEMM_DIRECT_B_ROWS
#define GRAFT_SGEMM_DIRECT_B_ROWS 1
#endif
#ifndef GRAFT_SGEMM_IR_OUTER
#define GRAFT_SGEMM_IR_OUTER 0
#endif

#define MAX_MR 8
#define MAX_NR 48

/* What a micro-kernel does after the K loop. */
typedef struct ukr_epi {
  int scale;           /* multiply the product by alpha (unpacked A: alpha not folded in) */
  float alpha;
  int load_c;          /* add the tile already in C */
  int final;           /* last K block: add biases, clamp */
  const float *rb;     /* MR row biases for this tile, or NULL */
  const float *cb;     /* w column biases for this tile, or NULL */
  int clamp;           /* 0 none, 1 relu, 2 clip [lo, hi] */
  float lo, hi;
} ukr_epi;

/* Computes the MR x w tile C = A_panel * B_panel (+ epilogue). b: kc x w packed. a: packed
   kc x MR (k-major) for the packed kernels; for the direct ("u") kernels, row i of the panel
   is a + i*lda, contiguous along k (row-major A read in place, no packing). */
typedef void (*ukr_fn)(int64_t kc, const float *a, int64_t lda, const float *b, float *c,
                       int64_t ldc, const ukr_epi *e);

/* An instruction-set variant: tile shape and micro-kernels by panel width / unit. */
typedef struct isa_desc {
  int mr, nr, unit;
  ukr_fn kernel[4];   /* kernel[w/unit - 1], packed A */
  ukr_fn kernel_u[4]; /* the same reading A in place; NULL entries: always pack */
} isa_desc;

/* ---- portable micro-kernel ---------------------------------------------------------------- */

#define GEN_MR 4
#define GEN_NR 8

static float epi_scalar(float x, const float *cp, int i, int j, const ukr_epi *e) {
  if (e->scale) x *= e->alpha;
  if (e->load_c) x += cp[j];
  if (e->final) {
    if (e->rb) x += e->rb[i];
    if (e->cb) x += e->cb[j];
    if (e->clamp == 1) x = x > 0.0f ? x : 0.0f;
    else if (e->clamp == 2) x = x < e->lo ? e->lo : (x > e->hi ? e->hi : x);
  }
  return x;
}

static void ukr_generic(int64_t kc, const float *a, int64_t lda, const float *b, float *c,
                        int64_t ldc, const ukr_epi *e) {
  (void)lda;
  float c0[GEN_NR], c1[GEN_NR], c2[GEN_NR], c3[GEN_NR];
  for (int j = 0; j < GEN_NR; ++j) c0[j] = c1[j] = c2[j] = c3[j] = 0.0f;
  for (int64_t k = 0; k < kc; ++k) {
    const float a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    for (int j = 0; j < GEN_NR; ++j) {
      const float bj = b[j];
      c0[j] += a0 * bj;
      c1[j] += a1 * bj;
      c2[j] += a2 * bj;
      c3[j] += a3 * bj;
    }
    a += GEN_MR;
    b += GEN_NR;
  }
  for (int j = 0; j < GEN_NR; ++j) {
    c[j] = epi_scalar(c0[j], c, 0, j, e);
    c[ldc + j] = epi_scalar(c1[j], c + ldc, 1, j, e);
    c[2 * ldc + j] = epi_scalar(c2[j], c + 2 * ldc, 2, j, e);
    c[3 * ldc + j] = epi_scalar(c3[j], c + 3 * ldc, 3, j, e);
  }
}

#ifdef GRAFT_SGEMM_X86
/* ---- AVX-512 micro-kernel: 8 x 48 (24 zmm accumulators), panels of 16/32/48 ---------------- */

#define T512 __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,avx")))
#define INL __attribute__((always_inline)) inline

static T512 INL __m512 epi512(__m512 x, const float *cp, int i, int v, const ukr_epi *e) {
  if (e->scale) x = _mm512_mul_ps(x, _mm512_set1_ps(e->alpha));
  if (e->load_c) x = _mm512_add_ps(x, _mm512_loadu_ps(cp + 16 * v));
  if (e->final) {
    if (e->rb) x = _mm512_add_ps(x, _mm512_set1_ps(e->rb[i]));
    if (e->cb) x = _mm512_add_ps(x, _mm512_loadu_ps(e->cb + 16 * v));
    if (e->clamp == 1) x = _mm512_max_ps(x, _mm512_setzero_ps());
    else if (e->clamp == 2)
      x = _mm512_min_ps(_mm512_set1_ps(e->hi), _mm512_max_ps(_mm512_set1_ps(e->lo), x));
  }
  return x;
}

static T512 INL void ukr512_body(const int nv, const int packed, int64_t kc, const float *a,
                                 int64_t lda, const float *b, float *c, int64_t ldc,
                                 const ukr_epi *e, const float *const *brows, int64_t boff) {
  const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
  const float *a4 = a + 4 * lda, *a5 = a + 5 * lda, *a6 = a + 6 * lda, *a7 = a + 7 * lda;
  __m512 z = _mm512_setzero_ps();
  __m512 c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z;
  __m512 c30 = z, c31 = z, c32 = z, c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z;
  __m512 c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
  for (int64_t k = 0; k < kc; ++k) {
    const float *bk = brows ? brows[k] + boff : b;
    const __m512 b0 = _mm512_loadu_ps(bk);
    const __m512 b1 = nv > 1 ? _mm512_loadu_ps(bk + 16) : z;
    const __m512 b2 = nv > 2 ? _mm512_loadu_ps(bk + 32) : z;
    __m512 av;
#define R512(i)                                                   \
  av = _mm512_set1_ps(packed ? a[i] : a##i[k]);                  \
  c##i##0 = _mm512_fmadd_ps(av, b0, c##i##0);                     \
  if (nv > 1) c##i##1 = _mm512_fmadd_ps(av, b1, c##i##1);         \
  if (nv > 2) c##i##2 = _mm512_fmadd_ps(av, b2, c##i##2);
    R512(0) R512(1) R512(2) R512(3) R512(4) R512(5) R512(6) R512(7)
#undef R512
    if (packed) a += 8;
    b += 16 * nv;
  }
#define S512(i)                                                                        \
  {                                                                                    \
    float *cp = c + (i) * ldc;                                                         \
    _mm512_storeu_ps(cp, epi512(c##i##0, cp, i, 0, e));                                \
    if (nv > 1) _mm512_storeu_ps(cp + 16, epi512(c##i##1, cp, i, 1, e));               \
    if (nv > 2) _mm512_storeu_ps(cp + 32, epi512(c##i##2, cp, i, 2, e));               \
  }
  S512(0) S512(1) S512(2) S512(3) S512(4) S512(5) S512(6) S512(7)
#undef S512
}

#define UKR_DEF(attr, name, body, nv, packed)                                              \
  static attr void name(int64_t kc, const float *a, int64_t lda, const float *b, float *c, \
                        int64_t ldc, const ukr_epi *e) {                                  \
    body(nv, packed, kc, a, lda, b, c, ldc, e);                                           \
  }
#define UKR512_DEF(name, nv, packed)                                                      \
  static T512 void name(int64_t kc, const float *a, int64_t lda, const float *b, float *c,  \
                        int64_t ldc, const ukr_epi *e) {                                   \
    ukr512_body(nv, packed, kc, a, lda, b, c, ldc, e, 0, 0);                               \
  }
UKR512_DEF(ukr512_16, 1, 1)
UKR512_DEF(ukr512_32, 2, 1)
UKR512_DEF(ukr512_48, 3, 1)
UKR512_DEF(ukr512u_16, 1, 0)
UKR512_DEF(ukr512u_32, 2, 0)
UKR512_DEF(ukr512u_48, 3, 0)

/* Direct-B variants (full 48-wide panels only): row k of the panel is brows[k] + boff, read in
   place from the window planes instead of a packed copy. */
typedef void (*ukr_db_fn)(int64_t kc, const float *a, int64_t lda, const float *const *brows,
                          int64_t boff, float *c, int64_t ldc, const ukr_epi *e);
static T512 void ukr512_48_db(int64_t kc, const float *a, int64_t lda, const float *const *brows,
                              int64_t boff, float *c, int64_t ldc, const ukr_epi *e) {
  ukr512_body(3, 1, kc, a, lda, 0, c, ldc, e, brows, boff);
}
static T512 void ukr512u_48_db(int64_t kc, const float *a, int64_t lda, const float *const *brows,
                               int64_t boff, float *c, int64_t ldc, const ukr_epi *e) {
  ukr512_body(3, 0, kc, a, lda, 0, c, ldc, e, brows, boff);
}

/* ---- AVX2 + FMA micro-kernel: 6 x 16 (12 ymm accumulators), panels of 8/16 ------------------ */

#define T256 __attribute__((target("avx2,fma,avx")))

static T256 INL __m256 epi256(__m256 x, const float *cp, int i, int v, const ukr_epi *e) {
  if (e->scale) x = _mm256_mul_ps(x, _mm256_set1_ps(e->alpha));
  if (e->load_c) x = _mm256_add_ps(x, _mm256_loadu_ps(cp + 8 * v));
  if (e->final) {
    if (e->rb) x = _mm256_add_ps(x, _mm256_set1_ps(e->rb[i]));
    if (e->cb) x = _mm256_add_ps(x, _mm256_loadu_ps(e->cb + 8 * v));
    if (e->clamp == 1) x = _mm256_max_ps(x, _mm256_setzero_ps());
    else if (e->clamp == 2)
      x = _mm256_min_ps(_mm256_set1_ps(e->hi), _mm256_max_ps(_mm256_set1_ps(e->lo), x));
  }
  return x;
}

static T256 INL void ukr256_body(const int nv, const int packed, int64_t kc, const float *a,
                                 int64_t lda, const float *b, float *c, int64_t ldc,
                                 const ukr_epi *e) {
  const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
  const float *a4 = a + 4 * lda, *a5 = a + 5 * lda;
  __m256 z = _mm256_setzero_ps();
  __m256 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
  __m256 c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = nv > 1 ? _mm256_loadu_ps(b + 8) : z;
    __m256 av;
#define R256(i)                                                   \
  av = _mm256_broadcast_ss(packed ? a + (i) : a##i + k);         \
  c##i##0 = _mm256_fmadd_ps(av, b0, c##i##0);                     \
  if (nv > 1) c##i##1 = _mm256_fmadd_ps(av, b1, c##i##1);
    R256(0) R256(1) R256(2) R256(3) R256(4) R256(5)
#undef R256
    if (packed) a += 6;
    b += 8 * nv;
  }
#define S256(i)                                                                        \
  {                                                                                    \
    float *cp = c + (i) * ldc;                                                         \
    _mm256_storeu_ps(cp, epi256(c##i##0, cp, i, 0, e));                                \
    if (nv > 1) _mm256_storeu_ps(cp + 8, epi256(c##i##1, cp, i, 1, e));                \
  }
  S256(0) S256(1) S256(2) S256(3) S256(4) S256(5)
#undef S256
}

UKR_DEF(T256, ukr256_8, ukr256_body, 1, 1)
UKR_DEF(T256, ukr256_16, ukr256_body, 2, 1)
UKR_DEF(T256, ukr256u_8, ukr256_body, 1, 0)
UKR_DEF(T256, ukr256u_16, ukr256_body, 2, 0)
#endif /* GRAFT_SGEMM_X86 */


#ifdef GRAFT_SGEMM_NEON
/* ---- NEON micro-kernels: aarch64 8 x 12 (24 q accumulators, fma by lane), armv7 6 x 8
   (12 q accumulators, vmla by lane: VFPv4 has no fused by-lane form), panels of 4/8(/12).
   A is always packed (kc x MR, k-major): the by-lane forms want MR consecutive A values. ---- */

#define NINL __attribute__((always_inline)) static inline

NINL float32x4_t epi_neon(float32x4_t x, const float *cp, int i, int v, const ukr_epi *e) {
  if (e->scale) x = vmulq_n_f32(x, e->alpha);
  if (e->load_c) x = vaddq_f32(x, vld1q_f32(cp + 4 * v));
  if (e->final) {
    if (e->rb) x = vaddq_f32(x, vdupq_n_f32(e->rb[i]));
    if (e->cb) x = vaddq_f32(x, vld1q_f32(e->cb + 4 * v));
    if (e->clamp == 1) x = vmaxq_f32(x, vdupq_n_f32(0.0f));
    else if (e->clamp == 2) x = vminq_f32(vdupq_n_f32(e->hi), vmaxq_f32(vdupq_n_f32(e->lo), x));
  }
  return x;
}

#ifdef __aarch64__
#define NEON_MR 8
#define NEON_NR 12
NINL void ukr_neon_body(const int nv, int64_t kc, const float *a, const float *b, float *c,
                        int64_t ldc, const ukr_epi *e) {
  const float32x4_t z = vdupq_n_f32(0.0f);
  float32x4_t c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z;
  float32x4_t c30 = z, c31 = z, c32 = z, c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z;
  float32x4_t c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;
  for (int64_t k = 0; k < kc; ++k) {
    const float32x4_t alo = vld1q_f32(a), ahi = vld1q_f32(a + 4);
    const float32x4_t b0 = vld1q_f32(b);
    const float32x4_t b1 = nv > 1 ? vld1q_f32(b + 4) : z;
    const float32x4_t b2 = nv > 2 ? vld1q_f32(b + 8) : z;
#define RN(i, av, l)                                              \
  c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, l);                  \
  if (nv > 1) c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, l);      \
  if (nv > 2) c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, l);
    RN(0, alo, 0) RN(1, alo, 1) RN(2, alo, 2) RN(3, alo, 3)
    RN(4, ahi, 0) RN(5, ahi, 1) RN(6, ahi, 2) RN(7, ahi, 3)
#undef RN
    a += 8;
    b += 4 * nv;
  }
#define SN(i)                                                                   \
  {                                                                             \
    float *cp = c + (i) * ldc;                                                  \
    vst1q_f32(cp, epi_neon(c##i##0, cp, i, 0, e));                              \
    if (nv > 1) vst1q_f32(cp + 4, epi_neon(c##i##1, cp, i, 1, e));              \
    if (nv > 2) vst1q_f32(cp + 8, epi_neon(c##i##2, cp, i, 2, e));              \
  }
  SN(0) SN(1) SN(2) SN(3) SN(4) SN(5) SN(6) SN(7)
#undef SN
}
#else /* armv7 NEON */
#define NEON_MR 6
#define NEON_NR 8
NINL void ukr_neon_body(const int nv, int64_t kc, const float *a, const float *b, float *c,
                        int64_t ldc, const ukr_epi *e) {
  const float32x4_t z = vdupq_n_f32(0.0f);
  float32x4_t c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
  float32x4_t c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
  for (int64_t k = 0; k < kc; ++k) {
    const float32x2_t a01 = vld1_f32(a), a23 = vld1_f32(a + 2), a45 = vld1_f32(a + 4);
    const float32x4_t b0 = vld1q_f32(b);
    const float32x4_t b1 = nv > 1 ? vld1q_f32(b + 4) : z;
#define RN(i, av, l)                                              \
  c##i##0 = vmlaq_lane_f32(c##i##0, b0, av, l);                   \
  if (nv > 1) c##i##1 = vmlaq_lane_f32(c##i##1, b1, av, l);
    RN(0, a01, 0) RN(1, a01, 1) RN(2, a23, 0) RN(3, a23, 1) RN(4, a45, 0) RN(5, a45, 1)
#undef RN
    a += 6;
    b += 4 * nv;
  }
#define SN(i)                                                                   \
  {                                                                             \
    float *cp = c + (i) * ldc;                                                  \
    vst1q_f32(cp, epi_neon(c##i##0, cp, i, 0, e));                              \
    if (nv > 1) vst1q_f32(cp + 4, epi_neon(c##i##1, cp, i, 1, e));              \
  }
  SN(0) SN(1) SN(2) SN(3) SN(4) SN(5)
#undef SN
}
#endif

#define UKRN_DEF(name, nv)                                                                 \
  static void name(int64_t kc, const float *a, int64_t lda, const float *b, float *c,      \
                   int64_t ldc, const ukr_epi *e) {                                        \
    (void)lda;                                                                             \
    ukr_neon_body(nv, kc, a, b, c, ldc, e);                                                \
  }
UKRN_DEF(ukr_neon_4, 1)
UKRN_DEF(ukr_neon_8, 2)
#if NEON_NR > 8
UKRN_DEF(ukr_neon_12, 3)
#endif
#endif /* GRAFT_SGEMM_NEON */

static const isa_desc isa_generic = {GEN_MR, GEN_NR, GEN_NR, {ukr_generic, 0, 0, 0}, {0, 0, 0, 0}};
#ifdef GRAFT_SGEMM_X86
static const isa_desc isa_avx2 = {6, 16, 8, {ukr256_8, ukr256_16, 0, 0},
                                  {ukr256u_8, ukr256u_16, 0, 0}};
static const isa_desc isa_avx512 = {8, 48, 16, {ukr512_16, ukr512_32, ukr512_48, 0},
                                    {ukr512u_16, ukr512u_32, ukr512u_48, 0}};
#endif
#ifdef GRAFT_SGEMM_NEON
#if NEON_NR > 8
static const isa_desc isa_neon = {NEON_MR, NEON_NR, 4, {ukr_neon_4, ukr_neon_8, ukr_neon_12, 0},
                                  {0, 0, 0, 0}};
#else
static const isa_desc isa_neon = {NEON_MR, NEON_NR, 4, {ukr_neon_4, ukr_neon_8, 0, 0},
                                  {0, 0, 0, 0}};
#endif
#endif

/* Tile shapes of every variant on every architecture (scratch sizes must not depend on the
   machine that runs the plan). */
static const int all_shapes[][3] = {{GEN_MR, GEN_NR, GEN_NR}, {6, 16, 8}, {8, 48, 16},
                                    {8, 12, 4}, {6, 8, 4}};

static const isa_desc *pick_isa(void) {
#ifdef GRAFT_SGEMM_X86
  switch (graft_cpu_level_get()) {
  case GRAFT_CPU_AVX512: return &isa_avx512;
  case GRAFT_CPU_AVX2: return &isa_avx2;
  default: break;
  }
#endif
#ifdef GRAFT_SGEMM_NEON
  if (graft_cpu_level_get() == GRAFT_CPU_NEON) return &isa_neon;
#endif
  return &isa_generic;
}

/* ---- blocking ----------------------------------------------------------------------------- */

static int64_t round_up(int64_t x, int64_t u) { return (x + u - 1) / u * u; }

/* Splits `total` into equal blocks of at most `max` (a multiple of `unit`), each rounded up to
   `unit`. */
static int64_t block_of(int64_t total, int64_t max, int64_t unit) {
  if (total <= 0) return unit;
  const int64_t nb = (total + max - 1) / max;
  const int64_t b = round_up((total + nb - 1) / nb, unit);
  return b < max ? b : max;
}

typedef struct blocking {
  int64_t mc, kc, nc;
} blocking;

static blocking blocking_for(int64_t m, int64_t n, int64_t k, int mr, int nr) {
  blocking b;
  b.mc = block_of(m, GRAFT_SGEMM_MC, mr);
  b.kc = block_of(k, GRAFT_SGEMM_KC, 1);
  b.nc = block_of(n, GRAFT_SGEMM_NC, nr);
  return b;
}

static size_t scratch_for(int64_t m, int64_t n, int64_t k, int mr, int nr) {
  const blocking b = blocking_for(m, n, k, mr, nr);
  return graft_align_up((size_t)(b.mc * b.kc) * sizeof(float)) +
         graft_align_up((size_t)(b.kc * b.nc) * sizeof(float));
}

size_t graft_sgemm_scratch(int64_t m, int64_t n, int64_t k) {
  if (m <= 0 || n <= 0 || k <= 0) return 0;
  size_t best = 0;
  for (size_t s = 0; s < sizeof all_shapes / sizeof all_shapes[0]; ++s) {
    const size_t v = scratch_for(m, n, k, all_shapes[s][0], all_shapes[s][1]);
    if (v > best) best = v;
  }
  return best;
}

/* ---- packing ------------------------------------------------------------------------------ */

/* A rows [i0, i0+mc) x cols [k0, k0+kc) -> MR-tall panels, each kc x MR (k-major), zero rows
   past the end, scaled by alpha. */
static void pack_a(const graft_sgemm_a *a, int64_t i0, int64_t mc, int64_t k0, int64_t kc,
                   int mr, float *dst) {
  const float alpha = a->alpha;
  if (a->rs == 1) {
    /* Transposed A (Gemm transA, ConvTranspose's W^T): the MR values of one k are contiguous
       in the source, so walk k outer (a k-major walk per row would stride by cs). */
    for (int64_t ir = 0; ir < mc; ir += mr) {
      const int64_t rows = mc - ir < mr ? mc - ir : mr;
      float *d = dst + ir * kc;
      const float *s = a->p + (i0 + ir) + k0 * a->cs;
      for (int64_t k = 0; k < kc; ++k) {
        const float *sk = s + k * a->cs;
        float *dk = d + k * mr;
        int64_t i = 0;
        for (; i < rows; ++i) dk[i] = alpha * sk[i];
        for (; i < mr; ++i) dk[i] = 0.0f;
      }
    }
    return;
  }
  for (int64_t ir = 0; ir < mc; ir += mr) {
    const int64_t rows = mc - ir < mr ? mc - ir : mr;
    float *d = dst + ir * kc;
    for (int64_t i = 0; i < mr; ++i) {
      if (i >= rows) {
        for (int64_t k = 0; k < kc; ++k) d[k * mr + i] = 0.0f;
        continue;
      }
      const float *s = a->p + (i0 + ir + i) * a->rs + k0 * a->cs;
      if (a->cs == 1) {
        for (int64_t k = 0; k < kc; ++k) d[k * mr + i] = alpha * s[k];
      } else {
        for (int64_t k = 0; k < kc; ++k) d[k * mr + i] = alpha * s[k * a->cs];
      }
    }
  }
}

/* Width of the panel holding columns [j, nc) of a block: min(nr, rest) rounded up to unit. */
static int64_t panel_width(int64_t rest, int nr, int unit) {
  return rest >= nr ? nr : round_up(rest, unit);
}

/* Strided B rows [k0, k0+kc) x cols [n0, n0+nc) -> panels kc x w, zero columns past the end. */
static void pack_b_strided(const graft_sgemm_b *b, int64_t k0, int64_t kc, int64_t n0,
                           int64_t nc, int nr, int unit, float *dst) {
  for (int64_t jp = 0; jp < nc; jp += nr) {
    const int64_t real = nc - jp < nr ? nc - jp : nr;
    const int64_t w = panel_width(nc - jp, nr, unit);
    const float *s = b->p + k0 * b->rs + (n0 + jp) * b->cs;
    if (b->cs == 1) {
      for (int64_t k = 0; k < kc; ++k) {
        float *d = dst + k * w;
        const float *sk = s + k * b->rs;
        memcpy(d, sk, (size_t)real * sizeof(float));
        for (int64_t j = real; j < w; ++j) d[j] = 0.0f;
      }
    } else {
      for (int64_t j = 0; j < real; ++j) {
        const float *sj = s + j * b->cs;
        for (int64_t k = 0; k < kc; ++k) dst[k * w + j] = sj[k * b->rs];
      }
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t j = real; j < w; ++j) dst[k * w + j] = 0.0f;
    }
    dst += kc * w;
  }
}

/* First output index o with o*s + off >= lo, clamped to [0, n]. */
static int64_t first_at_least(int64_t lo, int64_t off, int64_t s, int64_t n) {
  const int64_t t = lo - off; /* need o*s >= t */
  int64_t o = t <= 0 ? 0 : (t + s - 1) / s;
  return o > n ? n : o;
}

/* d[i] = s[i*stride] for i < n (stride >= 2). */
typedef void (*strided_copy_fn)(float *d, const float *s, int64_t n, int64_t stride);

static void strided_copy_generic(float *d, const float *s, int64_t n, int64_t stride) {
  for (int64_t i = 0; i < n; ++i) d[i] = s[i * stride];
}

#ifdef GRAFT_SGEMM_X86
/* Stride 2: two masked loads and an even-lane permute per 16 outputs; others: masked gather.
   Masked-off lanes are never read, so no element past s[(n-1)*stride] is touched. */
static T512 void strided_copy_512(float *d, const float *s, int64_t n, int64_t stride) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i lanes = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i gidx = _mm512_mullo_epi32(lanes, _mm512_set1_epi32((int)stride));
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t cnt = n - i < 16 ? n - i : 16;
    const __mmask16 m = cnt == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cnt) - 1u);
    const float *src = s + i * stride;
    __m512 v;
    if (stride == 2) {
      const int64_t need = 2 * cnt - 1;
      const __mmask16 mlo = need >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << need) - 1u);
      const __mmask16 mhi = need > 16 ? (__mmask16)((1u << (need - 16)) - 1u) : (__mmask16)0;
      v = _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(mlo, src), even,
                                 _mm512_maskz_loadu_ps(mhi, src + 16));
    } else {
      v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, gidx, src, 4);
    }
    _mm512_mask_storeu_ps(d + i, m, v);
  }
}
#endif

/* Implicit im2col rows [k0, k0+kc) x cols [n0, n0+nc) -> panels kc x w (full panels are nr
   wide, the last one is narrower and zero-padded to its width). Row-outer: the (c, kd, kh, kw)
   of each row is advanced incrementally (no divisions), then the row's columns are walked as
   runs that stop at output-row and panel boundaries; each run is a zero fill or a copy. */
static void pack_b_conv(const graft_sgemm_conv *cv, int64_t k0, int64_t kc, int64_t n0,
                        int64_t nc, int nr, int unit, float *dst) {
  strided_copy_fn scopy = strided_copy_generic;
#ifdef GRAFT_SGEMM_X86
  if (graft_cpu_level_get() == GRAFT_CPU_AVX512 && cv->stride[2] * 16 < ((int64_t)1 << 30))
    scopy = strided_copy_512;
#endif
  const int64_t ID = cv->in[0], IH = cv->in[1], IW = cv->in[2];
  const int64_t OH = cv->out[1], OW = cv->out[2];
  const int64_t KD = cv->kernel[0], KH = cv->kernel[1], KW = cv->kernel[2];
  const int64_t kvol = KD * KH * KW;
  const int64_t sw = cv->stride[2];
  const int64_t full_panels = nc / nr, last_real = nc - full_panels * nr;
  const int64_t last_w = last_real ? round_up(last_real, unit) : 0;
  const int64_t od0 = n0 / (OH * OW), oh0 = (n0 / OW) % OH, ow0 = n0 % OW;
  int64_t ch = k0 / kvol, r = k0 % kvol;
  int64_t kd = r / (KH * KW), kh = (r / KW) % KH, kw = r % KW;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const int64_t offd = kd * cv->dilation[0] - cv->pad[0];
    const int64_t offh = kh * cv->dilation[1] - cv->pad[1];
    const int64_t offw = kw * cv->dilation[2] - cv->pad[2];
    /* valid ow: 0 <= ow*sw + offw < IW */
    const int64_t lo = first_at_least(0, offw, sw, OW);
    const int64_t hi = first_at_least(IW, offw, sw, OW);
    const float *xc = cv->x + ch * ID * IH * IW;
    int64_t od = od0, oh = oh0, ow = ow0, j = 0, p = 0, jj = 0;
    float *pd = dst + kk * nr; /* row kk of panel 0 */
    int64_t wp = full_panels > 0 ? nr : last_w;
    if (full_panels == 0) pd = dst + kk * last_w;
    while (j < nc) {
      int64_t run = OW - ow;
      if (run > wp - jj) run = wp - jj;
      if (run > nc - j) run = nc - j;
      const int64_t id = od * cv->stride[0] + offd, ih = oh * cv->stride[1] + offh;
      float *d = pd + jj;
      if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
        memset(d, 0, (size_t)run * sizeof(float));
      } else {
        const float *row = xc + (id * IH + ih) * IW; /* row[o*sw + offw] is input at ow=o */
        const int64_t end = ow + run;
        const int64_t a = lo < ow ? ow : (lo > end ? end : lo);
        const int64_t bnd = hi < a ? a : (hi > end ? end : hi);
        if (a > ow) memset(d, 0, (size_t)(a - ow) * sizeof(float));
        if (bnd > a) {
          float *dd = d + (a - ow);
          if (sw == 1) {
            memcpy(dd, row + a + offw, (size_t)(bnd - a) * sizeof(float)); /* a >= lo: in range */
          } else {
            scopy(dd, row + a * sw + offw, bnd - a, sw);
          }
        }
        if (end > bnd) memset(d + (bnd - ow), 0, (size_t)(end - bnd) * sizeof(float));
      }
      j += run;
      jj += run;
      ow += run;
      if (ow == OW) {
        ow = 0;
        if (++oh == OH) {
          oh = 0;
          ++od;
        }
      }
      if (jj == wp && j < nc) { /* next panel */
        ++p;
        jj = 0;
        wp = p < full_panels ? nr : last_w;
        pd = dst + p * nr * kc + kk * wp;
      }
    }
    if (last_real) {
      float *lp = dst + full_panels * nr * kc + kk * last_w;
      for (int64_t t = last_real; t < last_w; ++t) lp[t] = 0.0f;
    }
    if (++kw == KW) {
      kw = 0;
      if (++kh == KH) {
        kh = 0;
        if (++kd == KD) {
          kd = 0;
          ++ch;
        }
      }
    }
  }
}

/* Offset of tap (kh, kw) in a channel's phase planes (see graft_sgemm_window). */
static int64_t window_tap(const graft_sgemm_window *win, int64_t kh, int64_t kw) {
  const int64_t h = kh * win->dil_h, w = kw * win->dil_w;
  const int64_t phase = (h % win->stride_h) * win->stride_w + w % win->stride_w;
  return (phase * win->plane_h + h / win->stride_h) * win->plane_w + w / win->stride_w;
}

/* Shifted-window B rows [k0, k0+kc) x cols [n0, n0+nc) -> panels kc x w: each panel row is
   one contiguous copy. */
static void pack_b_window(const graft_sgemm_window *win, int64_t k0, int64_t kc, int64_t n0,
                          int64_t nc, int nr, int unit, float *dst) {
  const int64_t full_panels = nc / nr, last_real = nc - full_panels * nr;
  const int64_t last_w = last_real ? round_up(last_real, unit) : 0;
  const int64_t kv = win->kh_count * win->kw_count;
  int64_t ch = k0 / kv, kh = (k0 % kv) / win->kw_count, kw = k0 % win->kw_count;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *src = win->x + ch * win->c_stride + window_tap(win, kh, kw) + n0;
    for (int64_t p = 0; p < full_panels; ++p)
      memcpy(dst + p * nr * kc + kk * nr, src + p * nr, (size_t)nr * sizeof(float));
    if (last_real) {
      float *lp = dst + full_panels * nr * kc + kk * last_w;
      memcpy(lp, src + full_panels * nr, (size_t)last_real * sizeof(float));
      for (int64_t t = last_real; t < last_w; ++t) lp[t] = 0.0f;
    }
    if (++kw == win->kw_count) {
      kw = 0;
      if (++kh == win->kh_count) {
        kh = 0;
        ++ch;
      }
    }
  }
}

/* Compact window (out_w > 0): columns walk the (oh, ow) grid; each run inside one output row
   and one panel is a contiguous copy from the plane. `copy` moves n floats. */
typedef void (*copy_fn)(float *d, const float *s, int64_t n);

static void copy_memcpy(float *d, const float *s, int64_t n) { memcpy(d, s, (size_t)n * sizeof(float)); }

static void pack_b_window_compact(const graft_sgemm_window *win, int64_t k0, int64_t kc,
                                  int64_t n0, int64_t nc, int nr, int unit, float *dst,
                                  copy_fn copy) {
  const int64_t full_panels = nc / nr, last_real = nc - full_panels * nr;
  const int64_t last_w = last_real ? round_up(last_real, unit) : 0;
  const int64_t kv = win->kh_count * win->kw_count, OW = win->out_w, PW = win->plane_w;
  const int64_t oh0 = n0 / OW, ow0 = n0 % OW;
  int64_t ch = k0 / kv, kh = (k0 % kv) / win->kw_count, kw = k0 % win->kw_count;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *base = win->x + ch * win->c_stride + window_tap(win, kh, kw);
    int64_t oh = oh0, ow = ow0, j = 0, p = 0, jj = 0;
    int64_t wp = full_panels > 0 ? nr : last_w;
    float *pd = dst + kk * wp;
    while (j < nc) {
      int64_t run = OW - ow;
      if (run > wp - jj) run = wp - jj;
      if (run > nc - j) run = nc - j;
      copy(pd + jj, base + oh * PW + ow, run);
      j += run;
      jj += run;
      ow += run;
      if (ow == OW) {
        ow = 0;
        ++oh;
      }
      if (jj == wp && j < nc) {
        ++p;
        jj = 0;
        wp = p < full_panels ? nr : last_w;
        pd = dst + p * nr * kc + kk * wp;
      }
    }
    if (last_real) {
      float *lp = dst + full_panels * nr * kc + kk * last_w;
      for (int64_t t = last_real; t < last_w; ++t) lp[t] = 0.0f;
    }
    if (++kw == win->kw_count) {
      kw = 0;
      if (++kh == win->kh_count) {
        kh = 0;
        ++ch;
      }
    }
  }
}

#ifdef GRAFT_SGEMM_X86
static T512 void copy_512(float *d, const float *s, int64_t n) {
  int64_t t = 0;
  for (; t + 16 <= n; t += 16) _mm512_storeu_ps(d + t, _mm512_loadu_ps(s + t));
  if (t < n) {
    const __mmask16 m = (__mmask16)((1u << (n - t)) - 1u);
    _mm512_mask_storeu_ps(d + t, m, _mm512_maskz_loadu_ps(m, s + t));
  }
}

/* The same for 48-wide panels with AVX-512. */
static T512 void pack_b_window_512(const graft_sgemm_window *win, int64_t k0, int64_t kc,
                                   int64_t n0, int64_t nc, float *dst) {
  const int64_t nr = 48, full_panels = nc / nr, last_real = nc - full_panels * nr;
  const int64_t last_w = last_real ? round_up(last_real, 16) : 0;
  const int64_t kv = win->kh_count * win->kw_count;
  int64_t ch = k0 / kv, kh = (k0 % kv) / win->kw_count, kw = k0 % win->kw_count;
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *src = win->x + ch * win->c_stride + window_tap(win, kh, kw) + n0;
    float *d = dst + kk * nr;
    for (int64_t p = 0; p < full_panels; ++p) {
      const __m512 v0 = _mm512_loadu_ps(src), v1 = _mm512_loadu_ps(src + 16),
                   v2 = _mm512_loadu_ps(src + 32);
      _mm512_storeu_ps(d, v0);
      _mm512_storeu_ps(d + 16, v1);
      _mm512_storeu_ps(d + 32, v2);
      src += nr;
      d += nr * kc;
    }
    if (last_real) {
      float *lp = dst + full_panels * nr * kc + kk * last_w;
      for (int64_t t = 0; t < last_w; t += 16) {
        const int64_t left = last_real - t;
        const __mmask16 m = left >= 16 ? (__mmask16)0xFFFF
                                       : (left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1u));
        _mm512_storeu_ps(lp + t, _mm512_maskz_loadu_ps(m, src + t));
      }
    }
    if (++kw == win->kw_count) {
      kw = 0;
      if (++kh == win->kh_count) {
        kh = 0;
        ++ch;
      }
    }
  }
}
#endif

/* ---- driver ------------------------------------------------------------------------------- */

static int is_clamp_act(int32_t kind) {
  return kind == GRAFT_ACT_NONE || kind == GRAFT_ACT_RELU || kind == GRAFT_ACT_CLIP;
}

/* K == 0: C = [C +] biases, then the activation. */
static void sgemm_k0(int64_t m, int64_t n, const graft_sgemm_c *c) {
  for (int64_t i = 0; i < m; ++i) {
    float *row = c->p + i * c->ldc;
    for (int64_t j = 0; j < n; ++j) {
      float v = c->accumulate ? row[j] : 0.0f;
      if (c->row_bias) v += c->row_bias[i];
      if (c->col_bias) v += c->col_bias[j];
      row[j] = v;
    }
    graft_act_apply_f32(row, (size_t)n, c->act);
  }
}

/* ---- matrix-vector path (M <= 2) ---------------------------------------------------------
   A tile of MR rows would waste most of its work and packing B would cost a full copy of B for
   one use, so each output row is computed straight from B: dot products when B's columns are
   contiguous along K (B transposed, e.g. Gemm transB), otherwise an axpy sweep over B's rows in
   chunks of GEMV_CHUNK columns. Products land in a stack chunk, then the scalar epilogue. */

#define GEMV_CHUNK 128

/* out[j] = sum_k a[k] * B(k, j0 + j) for j < cnt. */
typedef void (*gemv_fn)(int64_t k, const float *a, const graft_sgemm_b *b, int64_t j0,
                        int64_t cnt, float *out);

static void gemv_generic(int64_t k, const float *a, const graft_sgemm_b *b, int64_t j0,
                         int64_t cnt, float *out) {
  if (b->rs == 1) {
    for (int64_t j = 0; j < cnt; ++j) {
      const float *bj = b->p + (j0 + j) * b->cs;
      float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
      int64_t q = 0;
      for (; q + 4 <= k; q += 4) {
        s0 += a[q] * bj[q];
        s1 += a[q + 1] * bj[q + 1];
        s2 += a[q + 2] * bj[q + 2];
        s3 += a[q + 3] * bj[q + 3];
      }
      for (; q < k; ++q) s0 += a[q] * bj[q];
      out[j] = (s0 + s1) + (s2 + s3);
    }
  } else {
    for (int64_t j = 0; j < cnt; ++j) out[j] = 0.0f;
    for (int64_t q = 0; q < k; ++q) {
      const float av = a[q];
      const float *bq = b->p + q * b->rs + j0;
      for (int64_t j = 0; j < cnt; ++j) out[j] += av * bq[j];
    }
  }
}

#ifdef GRAFT_SGEMM_X86
static T512 INL __mmask16 mask_of(int64_t left) {
  return left >= 16 ? (__mmask16)0xFFFF : (left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1u));
}

static T512 void gemv_avx512(int64_t k, const float *a, const graft_sgemm_b *b, int64_t j0,
                             int64_t cnt, float *out) {
  if (b->rs == 1) {
    int64_t j = 0;
    for (; j + 4 <= cnt; j += 4) {
      const float *b0 = b->p + (j0 + j) * b->cs, *b1 = b0 + b->cs, *b2 = b1 + b->cs, *b3 = b2 + b->cs;
      __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      for (int64_t q = 0; q < k; q += 16) {
        const __mmask16 m = mask_of(k - q);
        const __m512 va = _mm512_maskz_loadu_ps(m, a + q);
        s0 = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, b0 + q), s0);
        s1 = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, b1 + q), s1);
        s2 = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, b2 + q), s2);
        s3 = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, b3 + q), s3);
      }
      out[j] = _mm512_reduce_add_ps(s0);
      out[j + 1] = _mm512_reduce_add_ps(s1);
      out[j + 2] = _mm512_reduce_add_ps(s2);
      out[j + 3] = _mm512_reduce_add_ps(s3);
    }
    for (; j < cnt; ++j) {
      const float *bj = b->p + (j0 + j) * b->cs;
      __m512 s0 = _mm512_setzero_ps();
      for (int64_t q = 0; q < k; q += 16) {
        const __mmask16 m = mask_of(k - q);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + q), _mm512_maskz_loadu_ps(m, bj + q), s0);
      }
      out[j] = _mm512_reduce_add_ps(s0);
    }
  } else {
    /* GEMV_CHUNK = 128 columns: 8 accumulators. */
    __mmask16 mk[8];
    for (int v = 0; v < 8; ++v) mk[v] = mask_of(cnt - 16 * v);
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
    for (int64_t q = 0; q < k; ++q) {
      const __m512 av = _mm512_set1_ps(a[q]);
      const float *bq = b->p + q * b->rs + j0;
      c0 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk[0], bq), c0);
      c1 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk[1], bq + 16), c1);
      c2 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk[2], bq + 32), c2);
      c3 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk[3], bq + 48), c3);
      c4 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk[4], bq + 64), c4);
      c5 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk[5], bq + 80), c5);
      c6 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk[6], bq + 96), c6);
      c7 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk[7], bq + 112), c7);
    }
    _mm512_mask_storeu_ps(out, mk[0], c0);
    _mm512_mask_storeu_ps(out + 16, mk[1], c1);
    _mm512_mask_storeu_ps(out + 32, mk[2], c2);
    _mm512_mask_storeu_ps(out + 48, mk[3], c3);
    _mm512_mask_storeu_ps(out + 64, mk[4], c4);
    _mm512_mask_storeu_ps(out + 80, mk[5], c5);
    _mm512_mask_storeu_ps(out + 96, mk[6], c6);
    _mm512_mask_storeu_ps(out + 112, mk[7], c7);
  }
}
#endif

static void sgemm_gemv(int64_t m, int64_t n, int64_t k, const graft_sgemm_a *a,
                       const graft_sgemm_b *b, const graft_sgemm_c *c) {
  gemv_fn fn = gemv_generic;
#ifdef GRAFT_SGEMM_X86
  if (graft_cpu_level_get() == GRAFT_CPU_AVX512) fn = gemv_avx512;
#endif
  float prod[GEMV_CHUNK];
  for (int64_t i = 0; i < m; ++i) {
    const float *arow = a->p + i * a->rs;
    float *crow = c->p + i * c->ldc;
    for (int64_t j0 = 0; j0 < n; j0 += GEMV_CHUNK) {
      const int64_t cnt = n - j0 < GEMV_CHUNK ? n - j0 : GEMV_CHUNK;
      fn(k, arow, b, j0, cnt, prod);
      for (int64_t j = 0; j < cnt; ++j) {
        float x = a->alpha * prod[j];
        if (c->accumulate) x += crow[j0 + j];
        if (c->row_bias) x += c->row_bias[i];
        if (c->col_bias) x += c->col_bias[j0 + j];
        crow[j0 + j] = x;
      }
      graft_act_apply_f32(crow + j0, (size_t)cnt, c->act);
    }
  }
}

/* One MR x w tile of the current blocks (see graft_sgemm): micro-kernel plus edge handling and
   the post-tile activation. */
typedef struct tile_ctx {
  const isa_desc *isa;
  const graft_sgemm_a *a;
  const graft_sgemm_c *c;
  const float *apack;
  int64_t ic, jc, pc, kc, mc, direct_rows;
  int direct_a, first, last, clamp, post_act;
  const float *bt; /* tail panel's columns as contiguous rows (TAIL_DOT), or NULL */
  const float *const *brows; /* direct B: row pointers of the K block at column jc, or NULL */
} tile_ctx;

/* Narrow tail panels (at most TAIL_DOT columns of a 16-wide AVX-512 panel, e.g. N = 49 or
   196 in late convolution layers) are computed as dot products of in-place A rows with the
   tail's columns: a 16-wide micro-kernel would do 16 columns of work for a few. */
#define TAIL_DOT 4

#ifdef GRAFT_SGEMM_X86
/* out[i*TAIL_DOT + j] = sum_k a[i*lda + k] * bt[j*kc + k], i < rows, j < cols. */
static T512 void tail_dot_512(int64_t kc, const float *a, int64_t lda, int64_t rows,
                              const float *bt, int64_t cols, float *out) {
  for (int64_t i = 0; i < rows; ++i) {
    const float *ar = a + i * lda;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int64_t k = 0; k < kc; k += 16) {
      const __mmask16 m = kc - k >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (kc - k)) - 1u);
      const __m512 va = _mm512_maskz_loadu_ps(m, ar + k);
      s0 = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, bt + k), s0);
      if (cols > 1) s1 = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, bt + kc + k), s1);
      if (cols > 2) s2 = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, bt + 2 * kc + k), s2);
      if (cols > 3) s3 = _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, bt + 3 * kc + k), s3);
    }
    out[i * TAIL_DOT] = _mm512_reduce_add_ps(s0);
    out[i * TAIL_DOT + 1] = _mm512_reduce_add_ps(s1);
    out[i * TAIL_DOT + 2] = _mm512_reduce_add_ps(s2);
    out[i * TAIL_DOT + 3] = _mm512_reduce_add_ps(s3);
  }
}
#endif

static void run_tile(const tile_ctx *t, int64_t ir, int64_t jr, int64_t nc, const float *bp) {
  const isa_desc *isa = t->isa;
  const graft_sgemm_a *a = t->a;
  const graft_sgemm_c *c = t->c;
  const int mr = isa->mr, nr = isa->nr, unit = isa->unit;
  const int64_t ic = t->ic, jc = t->jc, pc = t->pc, kc = t->kc, mc = t->mc;
  const int64_t direct_rows = t->direct_rows;
  const int direct_a = t->direct_a, first = t->first, last = t->last, clamp = t->clamp;
  const int post_act = t->post_act;
  const float *apack = t->apack;
  const int64_t w = panel_width(nc - jr, nr, unit);
  const int64_t ncols = nc - jr < nr ? nc - jr : nr;
  const int64_t nrows = mc - ir < mr ? mc - ir : mr;
  const int64_t row0 = ic + ir, col0 = jc + jr;
  float *cp = c->p + row0 * c->ldc + col0;
  const int in_place = ir < direct_rows;
  const ukr_fn kern = in_place ? isa->kernel_u[w / unit - 1] : isa->kernel[w / unit - 1];
  const float *ap = in_place ? a->p + row0 * a->rs + pc
                             : apack + (direct_a ? ir - direct_rows : ir) * kc;
  const int64_t lda = in_place ? a->rs : 0;
  ukr_epi e;
  e.scale = in_place && a->alpha != 1.0f;
  e.alpha = a->alpha;
  e.load_c = !first || c->accumulate;
  e.final = last;
  e.rb = c->row_bias ? c->row_bias + row0 : 0;
  e.cb = c->col_bias ? c->col_bias + col0 : 0;
  e.clamp = clamp;
  e.lo = c->act.a;
  e.hi = c->act.b;
#ifdef GRAFT_SGEMM_X86
  if (t->bt && in_place) {
    float vals[MAX_MR * TAIL_DOT];
    tail_dot_512(kc, ap, lda, nrows, t->bt, ncols, vals);
    for (int64_t i = 0; i < nrows; ++i) {
      float *row = cp + i * c->ldc;
      for (int64_t j = 0; j < ncols; ++j)
        row[j] = epi_scalar(vals[i * TAIL_DOT + j], row, (int)i, (int)j, &e);
    }
  } else
#endif
#ifdef GRAFT_SGEMM_X86
  if (t->brows && ncols == 48 && w == 48) {
    const ukr_db_fn dk = in_place ? ukr512u_48_db : ukr512_48_db;
    if (nrows == mr) {
      dk(kc, ap, lda, t->brows, jr, cp, c->ldc, &e);
    } else {
      float tile[MAX_MR * MAX_NR];
      float rbias[MAX_MR];
      for (int64_t i = 0; i < mr; ++i)
        for (int64_t j = 0; j < w; ++j)
          tile[i * w + j] = (e.load_c && i < nrows) ? cp[i * c->ldc + j] : 0.0f;
      if (e.rb) {
        for (int64_t i = 0; i < mr; ++i) rbias[i] = i < nrows ? e.rb[i] : 0.0f;
        e.rb = rbias;
      }
      dk(kc, ap, lda, t->brows, jr, tile, w, &e);
      for (int64_t i = 0; i < nrows; ++i)
        memcpy(cp + i * c->ldc, tile + i * w, (size_t)ncols * sizeof(float));
    }
  } else
#endif
  if (nrows == mr && ncols == w) {
    kern(kc, ap, lda, bp, cp, c->ldc, &e);
  } else {
    /* Edge tile: run the full tile on a stack copy, write back the valid part. */
    float tile[MAX_MR * MAX_NR];
    float rbias[MAX_MR], cbias[MAX_NR];
    for (int64_t i = 0; i < mr; ++i)
      for (int64_t j = 0; j < w; ++j)
        tile[i * w + j] = (e.load_c && i < nrows && j < ncols) ? cp[i * c->ldc + j] : 0.0f;
    if (e.rb) {
      for (int64_t i = 0; i < mr; ++i) rbias[i] = i < nrows ? e.rb[i] : 0.0f;
      e.rb = rbias;
    }
    if (e.cb) {
      for (int64_t j = 0; j < w; ++j) cbias[j] = j < ncols ? e.cb[j] : 0.0f;
      e.cb = cbias;
    }
    kern(kc, ap, lda, bp, tile, w, &e);
    for (int64_t i = 0; i < nrows; ++i)
      memcpy(cp + i * c->ldc, tile + i * w, (size_t)ncols * sizeof(float));
  }
  if (last && post_act)
    for (int64_t i = 0; i < nrows; ++i)
      graft_act_apply_f32(cp + i * c->ldc, (size_t)ncols, c->act);
}

void graft_sgemm(int64_t m, int64_t n, int64_t k, const graft_sgemm_a *a, const graft_sgemm_b *b,
                 const graft_sgemm_c *c, void *scratch) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    sgemm_k0(m, n, c);
    return;
  }
  if (m <= 2 && a->cs == 1 && !b->conv && !b->window && (b->rs == 1 || b->cs == 1)) {
    sgemm_gemv(m, n, k, a, b, c);
    return;
  }
  const isa_desc *isa = pick_isa();
  const int mr = isa->mr, nr = isa->nr, unit = isa->unit;
  const blocking bl = blocking_for(m, n, k, mr, nr);
  float *apack = (float *)scratch;
  float *bpack = (float *)((char *)scratch + graft_align_up((size_t)(bl.mc * bl.kc) * sizeof(float)));
  const int clamp = c->act.kind == GRAFT_ACT_RELU ? 1 : (c->act.kind == GRAFT_ACT_CLIP ? 2 : 0);
  const int post_act = !is_clamp_act(c->act.kind);
  /* Row-major A (weights, most Gemm/MatMul left operands) is read in place by the "u"
     micro-kernels: no packing of A per column block (measured faster here for every shape,
     4 KiB-multiple row strides included). Transposed A is packed. */
  const int direct_a = isa->kernel_u[0] != 0 && a->cs == 1;

  for (int64_t jc = 0; jc < n; jc += bl.nc) {
    const int64_t nc = n - jc < bl.nc ? n - jc : bl.nc;
    for (int64_t pc = 0; pc < k; pc += bl.kc) {
      const int64_t kc = k - pc < bl.kc ? k - pc : bl.kc;
      const int first = pc == 0, last = pc + kc == k;
      const float *brows[GRAFT_SGEMM_KC];
      int use_db = 0;
      if (b->window && b->window->out_w > 0) {
        copy_fn copy = copy_memcpy;
#ifdef GRAFT_SGEMM_X86
        if (isa == &isa_avx512) copy = copy_512;
#endif
        pack_b_window_compact(b->window, pc, kc, jc, nc, nr, unit, bpack, copy);
      } else if (b->window) {
#ifdef GRAFT_SGEMM_X86
        if (isa == &isa_avx512 && GRAFT_SGEMM_DIRECT_B) {
          /* Full panels read the planes in place through row pointers; only the tail panel
             is packed. */
          const graft_sgemm_window *win = b->window;
          const int64_t kv = win->kh_count * win->kw_count;
          int64_t ch = pc / kv, kh = (pc % kv) / win->kw_count, kw = pc % win->kw_count;
          for (int64_t kk = 0; kk < kc; ++kk) {
            brows[kk] = win->x + ch * win->c_stride + window_tap(win, kh, kw) + jc;
            if (++kw == win->kw_count) {
              kw = 0;
              if (++kh == win->kh_count) {
                kh = 0;
                ++ch;
              }
            }
          }
          use_db = 1;
          const int64_t full = nc / 48 * 48;
          if (full < nc) pack_b_window_512(win, pc, kc, jc + full, nc - full, bpack + full * kc);
        } else if (isa == &isa_avx512) {
          pack_b_window_512(b->window, pc, kc, jc, nc, bpack);
        } else
#endif
          pack_b_window(b->window, pc, kc, jc, nc, nr, unit, bpack);
      } else if (b->conv) {
        pack_b_conv(b->conv, pc, kc, jc, nc, nr, unit, bpack);
      }
#ifdef GRAFT_SGEMM_X86
      else if (isa == &isa_avx512 && b->cs == 1 && GRAFT_SGEMM_DIRECT_B_ROWS &&
               (b->rs % 1024) != 0) {
        /* Row-major B read in place (rows are contiguous; pointwise convs); only the tail
           panel is packed. Row strides that are multiples of 4 KiB alias in L1 and measured
           slower in place (M=N=K=1024: 80% -> 73%), so those are packed. */
        for (int64_t kk = 0; kk < kc; ++kk) brows[kk] = b->p + (pc + kk) * b->rs + jc;
        use_db = 1;
        const int64_t full = nc / 48 * 48;
        if (full < nc) {
          graft_sgemm_window rows;
          rows.x = b->p;
          rows.c_stride = b->rs;
          rows.kh_count = rows.kw_count = 1;
          rows.dil_h = rows.dil_w = rows.stride_h = rows.stride_w = 1;
          rows.plane_h = rows.plane_w = 0;
          rows.out_w = 0;
          pack_b_window_512(&rows, pc, kc, jc + full, nc - full, bpack + full * kc);
        }
      }
      else if (isa == &isa_avx512 && b->cs == 1) {
        /* Row-major B is a window with one tap: rows are contiguous slices. */
        graft_sgemm_window rows;
        rows.x = b->p;
        rows.c_stride = b->rs;
        rows.kh_count = rows.kw_count = 1;
        rows.dil_h = rows.dil_w = rows.stride_h = rows.stride_w = 1;
        rows.plane_h = rows.plane_w = 0;
        rows.out_w = 0;
        pack_b_window_512(&rows, pc, kc, jc, nc, bpack);
      }
#endif
      else pack_b_strided(b, pc, kc, jc, nc, nr, unit, bpack);
      for (int64_t ic = 0; ic < m; ic += bl.mc) {
        const int64_t mc = m - ic < bl.mc ? m - ic : bl.mc;
        /* Direct A: full panels read A in place; a partial last panel is packed. */
        const int64_t direct_rows = direct_a ? mc / mr * mr : 0;
        if (!direct_a) pack_a(a, ic, mc, pc, kc, mr, apack);
        else if (direct_rows < mc) pack_a(a, ic + direct_rows, mc - direct_rows, pc, kc, mr, apack);
        tile_ctx t;
        t.isa = isa; t.a = a; t.c = c; t.apack = apack;
        t.ic = ic; t.jc = jc; t.pc = pc; t.kc = kc; t.mc = mc; t.direct_rows = direct_rows;
        t.direct_a = direct_a; t.first = first; t.last = last; t.clamp = clamp;
        t.post_act = post_act;
        t.bt = 0;
        t.brows = use_db ? brows : 0;
#if GRAFT_SGEMM_IR_OUTER
        /* A micro-panel stays in L1 across every B panel of the block. */
        for (int64_t ir = 0; ir < mc; ir += mr)
          for (int64_t jr = 0; jr < nc; jr += nr) run_tile(&t, ir, jr, nc, bpack + jr * kc);
#else
        /* B micro-panel stays in L1 across every A panel of the block. */
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const float *bp = bpack + jr * kc;
          t.bt = 0;
#ifdef GRAFT_SGEMM_X86
          float bt[TAIL_DOT * GRAFT_SGEMM_KC];
          if (isa == &isa_avx512 && direct_rows > 0 && nc - jr <= TAIL_DOT) {
            const int64_t w = panel_width(nc - jr, nr, unit);
            for (int64_t j = 0; j < nc - jr; ++j)
              for (int64_t kk = 0; kk < kc; ++kk) bt[j * kc + kk] = bp[kk * w + j];
            t.bt = bt;
          }
#endif
          for (int64_t ir = 0; ir < mc; ir += mr) run_tile(&t, ir, jr, nc, bp);
        }
#endif
      }
    }
  }
}
