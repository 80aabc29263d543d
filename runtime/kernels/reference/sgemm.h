/* sgemm.h — the shared single-threaded fp32 matrix-multiply core behind conv, conv_transpose,
   gemm and matmul. Internal header; not part of the public API.

   Contract
   - graft_sgemm computes, for an M x N output C (row-major, row stride ldc, column stride 1):
       C = act( [C +] alpha * A * B + row_bias[i] + col_bias[j] )
     where A is M x K and B is K x N, both read through strides (so transposes are free), or
     B is the implicit im2col matrix of one convolution image/group (graft_sgemm_conv, or the
     faster graft_sgemm_window over zero-padded stride-phase planes), never materialized.
     "[C +]" applies when `accumulate` is set; otherwise C is write-only.
   - It never allocates: it uses only `scratch`, which must be GRAFT_ALIGN-aligned and at least
     graft_sgemm_scratch(M, N, K) bytes. That size is a pure function of (M, N, K) and is the
     maximum over every instruction-set variant, so a plan made on one machine is valid on any.
   - The variant (AVX-512, AVX2+FMA, portable C) is chosen once per process by cpu.h.
   - A, B and C may be only 4-byte aligned. C must not overlap A or B.
   - Cost: B is packed once per (column block, K block): an O(size) copy into NR-wide panels
     (for convolutions this packing *is* the im2col). On AVX-512, B given as row slices
     (window convs, row-major B whose row stride is not a multiple of 4 KiB) is read in place
     by the direct-B micro-kernel and only a partial last panel is packed. Row-major A
     (weights) is read in place on AVX-512/AVX2, so weights are never repacked; transposed A,
     and every A on the portable path, is packed once per (column block, K block, row block).
     M <= 2 takes a matrix-vector path that reads B once and packs nothing. */
#ifndef GRAFT_SGEMM_H
#define GRAFT_SGEMM_H
#include <stddef.h>
#include <stdint.h>
#include "act.h"

/* Implicit im2col for one image and one group of an N-D (1..3 spatial dims) convolution.
   Spatial dims are right-aligned into 3 (missing leading dims have size 1, kernel 1, stride 1,
   dilation 1, pad 0). Row k of B is (c, kd, kh, kw) in that order, c over the group's input
   channels; column n is the output position (od, oh, ow) in row-major order. */
typedef struct graft_sgemm_conv {
  const float *x;     /* this group's first input channel: [channels][id][ih][iw] */
  int64_t in[3];      /* input spatial dims */
  int64_t out[3];     /* output spatial dims */
  int64_t kernel[3];
  int64_t stride[3];
  int64_t dilation[3];
  int64_t pad[3];     /* begin pads */
} graft_sgemm_conv;

/* Shifted-window B for 1-D/2-D convolutions over a zero-padded input image split into
   stride phases: phase (ph, pw) of channel c is the plane P[r][q] = image[r*sh + ph][q*sw + pw]
   (plane_h x plane_w, planes stored [c][ph][pw][plane_h][plane_w]). Tap (kh, kw) of output
   (oh, ow) then reads phase ((kh*dh) % sh, (kw*dw) % sw) at row oh + kh*dh/sh, column
   ow + kw*dw/sw, so element (k, n), k = (c, kh, kw), n = oh*plane_w + ow, is
   x[c*c_stride + tap(kh, kw) + n]: every row of B is one contiguous slice. Columns index the
   plane-width output grid, so columns with ow >= output width are computed and must be
   discarded by the caller -- unless out_w > 0: then column n = oh*out_w + ow reads
   x[c*c_stride + tap(kh, kw) + oh*plane_w + ow] (rows of B are out_w-long slices, packed
   without the extra columns). With unit strides there is one phase: the padded image. */
typedef struct graft_sgemm_window {
  const float *x;
  int64_t c_stride;              /* floats between channels */
  int64_t kh_count, kw_count;
  int64_t dil_h, dil_w, stride_h, stride_w;
  int64_t plane_h, plane_w;
  int64_t out_w;                 /* > 0: compact columns, n = oh*out_w + ow (no extra columns) */
} graft_sgemm_window;

typedef struct graft_sgemm_a {
  const float *p;
  int64_t rs, cs;     /* element (i, k) is p[i*rs + k*cs] */
  float alpha;
} graft_sgemm_a;

typedef struct graft_sgemm_b {
  const float *p;
  int64_t rs, cs;                /* element (k, n) is p[k*rs + n*cs] (when conv is NULL) */
  const graft_sgemm_conv *conv;  /* non-NULL: B is this convolution's implicit im2col */
  const graft_sgemm_window *window; /* non-NULL: B is this shifted window (conv is NULL) */
} graft_sgemm_b;

typedef struct graft_sgemm_c {
  float *p;
  int64_t ldc;
  int accumulate;         /* 1: add to the values already in C */
  const float *row_bias;  /* M values or NULL */
  const float *col_bias;  /* N values or NULL */
  graft_act_params act;   /* applied last */
} graft_sgemm_c;

size_t graft_sgemm_scratch(int64_t m, int64_t n, int64_t k);
void graft_sgemm(int64_t m, int64_t n, int64_t k, const graft_sgemm_a *a, const graft_sgemm_b *b,
                 const graft_sgemm_c *c, void *scratch);

/* Rounds a byte count up to GRAFT_ALIGN. */
static inline size_t graft_align_up(size_t n) {
  return (n + (GRAFT_ALIGN - 1)) & ~(size_t)(GRAFT_ALIGN - 1);
}

#endif
