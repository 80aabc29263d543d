/* Matrix-multiply kernels: gemm_f32 (ONNX Gemm) and matmul_f32 (numpy matmul semantics).
   Both run on the shared SGEMM core (sgemm.h); their scratch is its packing buffers.

   gemm_f32:   Y = act(alpha * op(A) * op(B) + beta * C), A, B rank 2, C optional and
               unidirectionally broadcastable to (M, N). A C that is a row vector (N) or a column
               (M, 1) with beta == 1 becomes a GEMM epilogue bias; any other C is first written
               into Y as beta * C and the product is accumulated on top.
   matmul_f32: Y = act(A @ B [+ bias]), 1-D operands promoted and their unit dim removed from Y
               as numpy does, batch dims broadcast; the optional bias (N values) is added over
               the last dim. When B has no batch (or all-1 batch dims) the batches of A are folded
               into M: one big GEMM instead of many small ones. */
#include "graft_kernels.h"
#include "act.h"
#include "sgemm.h"

static int f32_tensor(const graft_tensor *t) {
  return t && t->dtype == GRAFT_DTYPE_FLOAT32 && t->rank >= 0 && t->rank <= GRAFT_MAX_RANK;
}

static int dims_sane(const graft_tensor *t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t->rank; ++i) {
    if (t->dims[i] < 0 || t->dims[i] > ((int64_t)1 << 31)) return 0;
    if (t->dims[i] && n > ((int64_t)1 << 62) / t->dims[i]) return 0;
    n *= t->dims[i];
  }
  return 1;
}

static int act_valid(const graft_call *c) {
  const graft_act_params a = graft_act_of(c);
  return a.kind >= GRAFT_ACT_NONE && a.kind <= GRAFT_ACT_AFFINE;
}

/* ---- gemm_f32 ------------------------------------------------------------------------------ */

typedef struct gemm_geom {
  int64_t m, n, k;
  int trans_a, trans_b;
  const graft_tensor *cten; /* NULL when absent */
} gemm_geom;

static graft_status gemm_parse(const graft_call *c, gemm_geom *g) {
  if (c->n_inputs < 2 || c->n_inputs > 3 || c->n_outputs != 1) return GRAFT_E_ARITY;
  const graft_tensor *a = c->inputs[0], *b = c->inputs[1], *y = c->outputs[0];
  const graft_tensor *ct = c->n_inputs > 2 ? c->inputs[2] : 0;
  if (!f32_tensor(a) || !f32_tensor(b) || !f32_tensor(y)) return GRAFT_E_SHAPE;
  if (a->rank != 2 || b->rank != 2 || y->rank != 2) return GRAFT_E_SHAPE;
  if (!dims_sane(a) || !dims_sane(b) || !dims_sane(y)) return GRAFT_E_SHAPE;
  g->trans_a = graft_attr_int(c, GRAFT_ATTR_TRANS_A, 0) != 0;
  g->trans_b = graft_attr_int(c, GRAFT_ATTR_TRANS_B, 0) != 0;
  g->m = g->trans_a ? a->dims[1] : a->dims[0];
  g->k = g->trans_a ? a->dims[0] : a->dims[1];
  const int64_t kb = g->trans_b ? b->dims[1] : b->dims[0];
  g->n = g->trans_b ? b->dims[0] : b->dims[1];
  if (kb != g->k || y->dims[0] != g->m || y->dims[1] != g->n) return GRAFT_E_SHAPE;
  g->cten = ct;
  if (ct) {
    if (!f32_tensor(ct) || ct->rank > 2 || !dims_sane(ct)) return GRAFT_E_SHAPE;
    if (ct->rank >= 1 && ct->dims[ct->rank - 1] != 1 && ct->dims[ct->rank - 1] != g->n)
      return GRAFT_E_SHAPE;
    if (ct->rank == 2 && ct->dims[0] != 1 && ct->dims[0] != g->m) return GRAFT_E_SHAPE;
  }
  if (!act_valid(c)) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}

graft_status graft_gemm_f32_check(const graft_call *c) {
  gemm_geom g;
  return gemm_parse(c, &g);
}

size_t graft_gemm_f32_scratch(const graft_call *c) {
  gemm_geom g;
  if (gemm_parse(c, &g) != GRAFT_OK) return 0;
  return graft_sgemm_scratch(g.m, g.n, g.k);
}

graft_status graft_gemm_f32_eval(const graft_call *c) {
  gemm_geom g;
  const graft_status st = gemm_parse(c, &g);
  if (st != GRAFT_OK) return st;
  if (c->scratch_bytes < graft_sgemm_scratch(g.m, g.n, g.k)) return GRAFT_E_ARENA_TOO_SMALL;
  const float *a = (const float *)c->inputs[0]->data;
  const float *b = (const float *)c->inputs[1]->data;
  float *y = (float *)c->outputs[0]->data;
  const float alpha = graft_attr_float(c, GRAFT_ATTR_ALPHA, 1.0f);
  const float beta = graft_attr_float(c, GRAFT_ATTR_BETA, 1.0f);
  graft_sgemm_a am = {a, g.trans_a ? 1 : g.k, g.trans_a ? g.m : 1, alpha};
  graft_sgemm_b bm = {b, g.trans_b ? 1 : g.n, g.trans_b ? g.k : 1, 0, 0};
  graft_sgemm_c cm = {y, g.n, 0, 0, 0, graft_act_of(c)};
  const graft_tensor *ct = g.cten;
  if (ct && beta != 0.0f && g.m > 0 && g.n > 0) {
    const float *cv = (const float *)ct->data;
    const int64_t rows = ct->rank == 2 ? ct->dims[0] : 1;
    const int64_t cols = ct->rank >= 1 ? ct->dims[ct->rank - 1] : 1;
    if (beta == 1.0f && rows == 1 && cols == g.n) {
      cm.col_bias = cv;
    } else if (beta == 1.0f && cols == 1 && rows == g.m) {
      cm.row_bias = cv;
    } else {
      for (int64_t i = 0; i < g.m; ++i) {
        const float *cr = cv + (rows == 1 ? 0 : i) * cols;
        float *yr = y + i * g.n;
        if (cols == 1)
          for (int64_t j = 0; j < g.n; ++j) yr[j] = beta * cr[0];
        else
          for (int64_t j = 0; j < g.n; ++j) yr[j] = beta * cr[j];
      }
      cm.accumulate = 1;
    }
  }
  graft_sgemm(g.m, g.n, g.k, &am, &bm, &cm, c->scratch);
  return GRAFT_OK;
}

/* ---- matmul_f32 ---------------------------------------------------------------------------- */

typedef struct matmul_geom {
  int64_t m, n, k;
  int32_t batch_rank;                   /* output batch dims */
  int64_t batch[GRAFT_MAX_RANK];        /* output batch dims */
  int64_t a_stride[GRAFT_MAX_RANK];     /* element stride of A per output batch dim (0 = bcast) */
  int64_t b_stride[GRAFT_MAX_RANK];
  int64_t batch_count, b_batch_count;
  int a_vec, b_vec;                     /* 1-D operands */
} matmul_geom;

static graft_status matmul_parse(const graft_call *c, matmul_geom *g) {
  if (c->n_inputs < 2 || c->n_inputs > 3 || c->n_outputs != 1) return GRAFT_E_ARITY;
  const graft_tensor *a = c->inputs[0], *b = c->inputs[1], *y = c->outputs[0];
  const graft_tensor *bias = c->n_inputs > 2 ? c->inputs[2] : 0;
  if (!f32_tensor(a) || !f32_tensor(b) || !f32_tensor(y)) return GRAFT_E_SHAPE;
  if (a->rank < 1 || b->rank < 1) return GRAFT_E_SHAPE;
  if (!dims_sane(a) || !dims_sane(b) || !dims_sane(y)) return GRAFT_E_SHAPE;
  g->a_vec = a->rank == 1;
  g->b_vec = b->rank == 1;
  g->m = g->a_vec ? 1 : a->dims[a->rank - 2];
  g->k = a->dims[a->rank - 1];
  const int64_t kb = g->b_vec ? b->dims[0] : b->dims[b->rank - 2];
  g->n = g->b_vec ? 1 : b->dims[b->rank - 1];
  if (kb != g->k) return GRAFT_E_SHAPE;
  const int32_t abr = g->a_vec ? 0 : a->rank - 2, bbr = g->b_vec ? 0 : b->rank - 2;
  const int32_t br = abr > bbr ? abr : bbr;
  g->batch_rank = br;
  /* Row-major strides of each operand's batch dims, right-aligned against the output's. */
  int64_t sa = g->m * g->k, sb = g->k * g->n;
  g->batch_count = 1;
  g->b_batch_count = 1;
  for (int32_t i = br - 1; i >= 0; --i) {
    const int32_t ia = i - (br - abr), ib = i - (br - bbr);
    const int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) return GRAFT_E_SHAPE;
    g->batch[i] = da == 1 ? db : da;
    g->a_stride[i] = da == 1 ? 0 : sa;
    g->b_stride[i] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
    g->batch_count *= g->batch[i];
    g->b_batch_count *= db;
  }
  /* Expected output: batch..., [m], [n]. */
  const int32_t yr = br + (g->a_vec ? 0 : 1) + (g->b_vec ? 0 : 1);
  if (y->rank != yr) return GRAFT_E_SHAPE;
  for (int32_t i = 0; i < br; ++i)
    if (y->dims[i] != g->batch[i]) return GRAFT_E_SHAPE;
  if (!g->a_vec && y->dims[br] != g->m) return GRAFT_E_SHAPE;
  if (!g->b_vec && y->dims[yr - 1] != g->n) return GRAFT_E_SHAPE;
  if (bias) {
    if (!f32_tensor(bias) || !dims_sane(bias) || graft_tensor_count(bias) != g->n) return GRAFT_E_SHAPE;
    if (bias->rank == 0 ? g->n != 1 : bias->dims[bias->rank - 1] != g->n) return GRAFT_E_SHAPE;
  }
  if (!act_valid(c)) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}

/* Batches of A folded into M (B shared by every batch). */
static int matmul_folds(const matmul_geom *g) { return g->b_batch_count == 1 && !g->a_vec; }

graft_status graft_matmul_f32_check(const graft_call *c) {
  matmul_geom g;
  return matmul_parse(c, &g);
}

size_t graft_matmul_f32_scratch(const graft_call *c) {
  matmul_geom g;
  if (matmul_parse(c, &g) != GRAFT_OK) return 0;
  if (matmul_folds(&g)) return graft_sgemm_scratch(g.m * g.batch_count, g.n, g.k);
  return graft_sgemm_scratch(g.m, g.n, g.k);
}

graft_status graft_matmul_f32_eval(const graft_call *c) {
  matmul_geom g;
  const graft_status st = matmul_parse(c, &g);
  if (st != GRAFT_OK) return st;
  if (c->scratch_bytes < graft_matmul_f32_scratch(c)) return GRAFT_E_ARENA_TOO_SMALL;
  const float *a = (const float *)c->inputs[0]->data;
  const float *b = (const float *)c->inputs[1]->data;
  const graft_tensor *bt = c->n_inputs > 2 ? c->inputs[2] : 0;
  float *y = (float *)c->outputs[0]->data;
  graft_sgemm_a am = {a, g.k, 1, 1.0f};
  graft_sgemm_b bm = {b, g.b_vec ? 1 : g.n, 1, 0, 0};
  graft_sgemm_c cm = {y, g.n, 0, 0, bt ? (const float *)bt->data : 0, graft_act_of(c)};
  if (matmul_folds(&g)) {
    graft_sgemm(g.m * g.batch_count, g.n, g.k, &am, &bm, &cm, c->scratch);
    return GRAFT_OK;
  }
  int64_t idx[GRAFT_MAX_RANK] = {0};
  for (int64_t t = 0; t < g.batch_count; ++t) {
    int64_t oa = 0, ob = 0;
    for (int32_t i = 0; i < g.batch_rank; ++i) {
      oa += idx[i] * g.a_stride[i];
      ob += idx[i] * g.b_stride[i];
    }
    am.p = a + oa;
    bm.p = b + ob;
    cm.p = y + t * g.m * g.n;
    graft_sgemm(g.m, g.n, g.k, &am, &bm, &cm, c->scratch);
    for (int32_t i = g.batch_rank - 1; i >= 0; --i) {
      if (++idx[i] < g.batch[i]) break;
      idx[i] = 0;
    }
  }
  return GRAFT_OK;
}
