/* Recurrent kernels, fp32, ONNX LSTM (gates i o f c) and GRU (gates z r h), layout 0:
   X [seq, batch, input]; Y [seq, dirs, batch, hidden]; Y_h / Y_c [dirs, batch, hidden].
   Attributes: hidden_size (default from R), direction (0 forward, 1 reverse, 2 bidirectional),
   activations (GRAFT_ACT_* codes, 3 per direction for LSTM, 2 for GRU; default Sigmoid, Tanh,
   Tanh), alpha/beta (floats, one per activation; absent -> the activation's ONNX default),
   clip (absent = none), input_forget (LSTM), linear_before_reset (GRU).
   Contract: optional inputs/outputs may be NULL. With sequence_lens, batch b only runs steps
   t < len[b] (Y is 0 after, state carried unchanged), so Y_h holds each batch's last state;
   a length outside [0, seq] is GRAFT_E_NUMERIC. Layout 1 is GRAFT_E_UNSUPPORTED.
   Scratch: LSTM (4H + 2*B*H) floats, GRU (7H + B*H) floats. */
#include "gk_vectorize.h"
#include <math.h>
#include "act.h"
#include "kcommon.h"

typedef struct rnn_dims {
  int64_t S, B, I, H;
  int32_t D;
} rnn_dims;

/* Shapes common to LSTM (gates=4) and GRU (gates=3); nin/nout: input/output counts. */
static graft_status rnn_check(const graft_call *c, int64_t gates, int32_t nacts, rnn_dims *d) {
  const graft_tensor *x = gk_in(c, 0), *w = gk_in(c, 1), *r = gk_in(c, 2);
  const int32_t F = GRAFT_DTYPE_FLOAT32;
  if (graft_attr_int(c, GRAFT_ATTR_LAYOUT, 0) != 0) return GRAFT_E_UNSUPPORTED;
  if (!gk_is(x, F) || !gk_is(w, F) || !gk_is(r, F) || x->rank != 3 || w->rank != 3 || r->rank != 3) return GRAFT_E_SHAPE;
  int64_t dir = graft_attr_int(c, GRAFT_ATTR_DIRECTION, 0);
  if (dir < 0 || dir > 2) return GRAFT_E_SHAPE;
  d->D = dir == 2 ? 2 : 1;
  d->S = x->dims[0];
  d->B = x->dims[1];
  d->I = x->dims[2];
  d->H = graft_attr_int(c, GRAFT_ATTR_HIDDEN_SIZE, r->dims[2]);
  int64_t D = d->D, B = d->B, H = d->H;
  if (H < 1 || H > GK_MAX_COUNT / 8) return GRAFT_E_SHAPE;
  if (w->dims[0] != D || w->dims[1] != gates * H || w->dims[2] != d->I) return GRAFT_E_SHAPE;
  if (r->dims[0] != D || r->dims[1] != gates * H || r->dims[2] != H) return GRAFT_E_SHAPE;
  const graft_tensor *b = gk_in(c, 3), *sl = gk_in(c, 4), *h0 = gk_in(c, 5);
  if (b && (!gk_is(b, F) || b->rank != 2 || b->dims[0] != D || b->dims[1] != 2 * gates * H)) return GRAFT_E_SHAPE;
  if (sl && (!gk_is(sl, GRAFT_DTYPE_INT32) || sl->rank != 1 || sl->dims[0] != B)) return GRAFT_E_SHAPE;
  if (h0 && (!gk_is(h0, F) || h0->rank != 3 || h0->dims[0] != D || h0->dims[1] != B || h0->dims[2] != H)) return GRAFT_E_SHAPE;
  const graft_tensor *y = gk_out(c, 0);
  if (y && (!gk_is(y, F) || y->rank != 4 || y->dims[0] != d->S || y->dims[1] != D || y->dims[2] != B || y->dims[3] != H))
    return GRAFT_E_SHAPE;
  for (int k = 1; k < c->n_outputs; ++k) {
    const graft_tensor *s = gk_out(c, k);
    if (s && (!gk_is(s, F) || s->rank != 3 || s->dims[0] != D || s->dims[1] != B || s->dims[2] != H)) return GRAFT_E_SHAPE;
  }
  const int64_t *acts;
  int32_t na = graft_attr_ints(c, GRAFT_ATTR_ACTIVATIONS, &acts);
  if (na != 0 && na != nacts * d->D) return GRAFT_E_SHAPE;
  for (int32_t k = 0; k < na; ++k)
    if (acts[k] < GRAFT_ACT_RELU || acts[k] > GRAFT_ACT_AFFINE) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}

/* Activation k of direction dir (nacts per direction) with its parameters. */
static graft_act_params rnn_act(const graft_call *c, int32_t nacts, int32_t dir, int32_t k) {
  const int64_t *acts;
  const float *al, *be;
  int32_t na = graft_attr_ints(c, GRAFT_ATTR_ACTIVATIONS, &acts);
  int32_t nal = graft_attr_floats(c, GRAFT_ATTR_ALPHA, &al), nbe = graft_attr_floats(c, GRAFT_ATTR_BETA, &be);
  int32_t pos = dir * nacts + k;
  graft_act_params p;
  p.kind = na ? (int32_t)acts[pos] : (k == 0 ? GRAFT_ACT_SIGMOID : GRAFT_ACT_TANH);
  float da = 0.0f, db = 0.0f;
  switch (p.kind) {
  case GRAFT_ACT_LEAKY_RELU: da = 0.01f; break;
  case GRAFT_ACT_HARD_SIGMOID: da = 0.2f; db = 0.5f; break;
  case GRAFT_ACT_ELU: da = 1.0f; break;
  case GRAFT_ACT_AFFINE: da = 1.0f; break;
  case GRAFT_ACT_CLIP: da = -INFINITY; db = INFINITY; break;
  case GRAFT_ACT_SELU: da = 1.67326319217681884765625f; db = 1.05070102214813232421875f; break;
  default: break;
  }
  p.a = pos < nal ? al[pos] : da;
  p.b = pos < nbe ? be[pos] : db;
  return p;
}

/* y[j] += sum_k m[j*k_n + k] * v[k] for j < rows. */
static void matvec_acc(float *y, const float *m, const float *v, int64_t rows, int64_t kn) {
  for (int64_t j = 0; j < rows; ++j) {
    const float *mr = m + j * kn;
    float p[4] = {0, 0, 0, 0};
    int64_t k = 0;
    for (; k + 4 <= kn; k += 4) {
      p[0] += mr[k] * v[k];
      p[1] += mr[k + 1] * v[k + 1];
      p[2] += mr[k + 2] * v[k + 2];
      p[3] += mr[k + 3] * v[k + 3];
    }
    float s = (p[0] + p[1]) + (p[2] + p[3]);
    for (; k < kn; ++k) s += mr[k] * v[k];
    y[j] += s;
  }
}

static void clip_vec(float *x, int64_t n, float clip) {
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] < -clip ? -clip : (x[i] > clip ? clip : x[i]);
}

/* Checks sequence lengths; returns 0 when one is outside [0, S]. */
static int seq_lens_ok(const graft_tensor *sl, int64_t S) {
  if (!sl) return 1;
  const int32_t *v = (const int32_t *)sl->data;
  for (int64_t b = 0; b < sl->dims[0]; ++b)
    if (v[b] < 0 || v[b] > S) return 0;
  return 1;
}

/* ---- LSTM --------------------------------------------------------------------------------- */

graft_status graft_lstm_f32_check(const graft_call *c) {
  rnn_dims d;
  graft_status st = rnn_check(c, 4, 3, &d);
  if (st != GRAFT_OK) return st;
  const graft_tensor *c0 = gk_in(c, 6), *p = gk_in(c, 7);
  if (c0 && (!gk_is(c0, GRAFT_DTYPE_FLOAT32) || c0->rank != 3 || c0->dims[0] != d.D || c0->dims[1] != d.B || c0->dims[2] != d.H))
    return GRAFT_E_SHAPE;
  if (p && (!gk_is(p, GRAFT_DTYPE_FLOAT32) || p->rank != 2 || p->dims[0] != d.D || p->dims[1] != 3 * d.H)) return GRAFT_E_SHAPE;
  return GRAFT_OK;
}

size_t graft_lstm_f32_scratch(const graft_call *c) {
  rnn_dims d;
  if (rnn_check(c, 4, 3, &d) != GRAFT_OK) return 0;
  return (size_t)(4 * d.H + 2 * d.B * d.H) * sizeof(float);
}

graft_status graft_lstm_f32_eval(const graft_call *c) {
  rnn_dims d;
  if (rnn_check(c, 4, 3, &d) != GRAFT_OK) return GRAFT_E_SHAPE;
  int64_t S = d.S, B = d.B, I = d.I, H = d.H;
  if (!c->scratch || c->scratch_bytes < (size_t)(4 * H + 2 * B * H) * sizeof(float)) return GRAFT_E_ARG;
  const graft_tensor *xt = gk_in(c, 0), *bt = gk_in(c, 3), *sl = gk_in(c, 4), *h0 = gk_in(c, 5), *c0 = gk_in(c, 6), *pt = gk_in(c, 7);
  graft_tensor *yt = gk_out(c, 0), *yh = gk_out(c, 1), *yc = gk_out(c, 2);
  if (!seq_lens_ok(sl, S)) return GRAFT_E_NUMERIC;
  const float *x = (const float *)xt->data;
  float *g = (float *)c->scratch, *h = g + 4 * H, *cs = h + B * H;
  int has_clip = 0;
  for (int32_t k = 0; k < c->n_attrs; ++k)
    if (c->attrs[k].key == GRAFT_ATTR_CLIP) has_clip = 1;
  float clip = graft_attr_float(c, GRAFT_ATTR_CLIP, 0.0f);
  int input_forget = graft_attr_int(c, GRAFT_ATTR_INPUT_FORGET, 0) != 0;
  int reverse_only = graft_attr_int(c, GRAFT_ATTR_DIRECTION, 0) == 1;
  for (int32_t dir = 0; dir < d.D; ++dir) {
    int rev = reverse_only || dir == 1;
    const float *W = (const float *)gk_in(c, 1)->data + dir * 4 * H * I;
    const float *R = (const float *)gk_in(c, 2)->data + dir * 4 * H * H;
    const float *Wb = bt ? (const float *)bt->data + dir * 8 * H : 0, *Rb = Wb ? Wb + 4 * H : 0;
    const float *P = pt ? (const float *)pt->data + dir * 3 * H : 0;
    graft_act_params fa = rnn_act(c, 3, dir, 0), ga = rnn_act(c, 3, dir, 1), ha = rnn_act(c, 3, dir, 2);
    for (int64_t i = 0; i < B * H; ++i) {
      h[i] = h0 ? ((const float *)h0->data)[dir * B * H + i] : 0.0f;
      cs[i] = c0 ? ((const float *)c0->data)[dir * B * H + i] : 0.0f;
    }
    for (int64_t step = 0; step < S; ++step) {
      int64_t t = rev ? S - 1 - step : step;
      for (int64_t b = 0; b < B; ++b) {
        float *hb = h + b * H, *cb = cs + b * H;
        float *yo = yt ? (float *)yt->data + ((t * d.D + dir) * B + b) * H : 0;
        if (sl && t >= ((const int32_t *)sl->data)[b]) {
          if (yo) memset(yo, 0, (size_t)H * sizeof(float));
          continue;
        }
        for (int64_t j = 0; j < 4 * H; ++j) g[j] = Wb ? Wb[j] + Rb[j] : 0.0f;
        matvec_acc(g, W, x + (t * B + b) * I, 4 * H, I);
        matvec_acc(g, R, hb, 4 * H, H);
        float *gi = g, *go = g + H, *gf = g + 2 * H, *gc = g + 3 * H;
        if (P)
          for (int64_t j = 0; j < H; ++j) { gi[j] += P[j] * cb[j]; gf[j] += P[2 * H + j] * cb[j]; }
        if (has_clip) { clip_vec(gi, H, clip); clip_vec(gf, H, clip); clip_vec(gc, H, clip); }
        graft_act_apply_f32(gi, (size_t)H, fa);
        if (input_forget) for (int64_t j = 0; j < H; ++j) gf[j] = 1.0f - gi[j];
        else graft_act_apply_f32(gf, (size_t)H, fa);
        graft_act_apply_f32(gc, (size_t)H, ga);
        for (int64_t j = 0; j < H; ++j) cb[j] = gf[j] * cb[j] + gi[j] * gc[j];
        if (P) for (int64_t j = 0; j < H; ++j) go[j] += P[H + j] * cb[j];
        if (has_clip) clip_vec(go, H, clip);
        graft_act_apply_f32(go, (size_t)H, fa);
        memcpy(gc, cb, (size_t)H * sizeof(float));
        graft_act_apply_f32(gc, (size_t)H, ha);
        for (int64_t j = 0; j < H; ++j) hb[j] = go[j] * gc[j];
        if (yo) memcpy(yo, hb, (size_t)H * sizeof(float));
      }
    }
    if (yh) memcpy((float *)yh->data + dir * B * H, h, (size_t)(B * H) * sizeof(float));
    if (yc) memcpy((float *)yc->data + dir * B * H, cs, (size_t)(B * H) * sizeof(float));
  }
  return GRAFT_OK;
}

/* ---- GRU ---------------------------------------------------------------------------------- */

graft_status graft_gru_f32_check(const graft_call *c) {
  rnn_dims d;
  return rnn_check(c, 3, 2, &d);
}

size_t graft_gru_f32_scratch(const graft_call *c) {
  rnn_dims d;
  if (rnn_check(c, 3, 2, &d) != GRAFT_OK) return 0;
  return (size_t)(7 * d.H + d.B * d.H) * sizeof(float);
}

graft_status graft_gru_f32_eval(const graft_call *c) {
  rnn_dims d;
  if (rnn_check(c, 3, 2, &d) != GRAFT_OK) return GRAFT_E_SHAPE;
  int64_t S = d.S, B = d.B, I = d.I, H = d.H;
  if (!c->scratch || c->scratch_bytes < (size_t)(7 * H + B * H) * sizeof(float)) return GRAFT_E_ARG;
  const graft_tensor *xt = gk_in(c, 0), *bt = gk_in(c, 3), *sl = gk_in(c, 4), *h0 = gk_in(c, 5);
  graft_tensor *yt = gk_out(c, 0), *yh = gk_out(c, 1);
  if (!seq_lens_ok(sl, S)) return GRAFT_E_NUMERIC;
  const float *x = (const float *)xt->data;
  float *gx = (float *)c->scratch, *gr = gx + 3 * H, *rh = gr + 3 * H, *h = rh + H;
  int has_clip = 0;
  for (int32_t k = 0; k < c->n_attrs; ++k)
    if (c->attrs[k].key == GRAFT_ATTR_CLIP) has_clip = 1;
  float clip = graft_attr_float(c, GRAFT_ATTR_CLIP, 0.0f);
  int lbr = graft_attr_int(c, GRAFT_ATTR_LINEAR_BEFORE_RESET, 0) != 0;
  int reverse_only = graft_attr_int(c, GRAFT_ATTR_DIRECTION, 0) == 1;
  for (int32_t dir = 0; dir < d.D; ++dir) {
    int rev = reverse_only || dir == 1;
    const float *W = (const float *)gk_in(c, 1)->data + dir * 3 * H * I;
    const float *R = (const float *)gk_in(c, 2)->data + dir * 3 * H * H;
    const float *Wb = bt ? (const float *)bt->data + dir * 6 * H : 0, *Rb = Wb ? Wb + 3 * H : 0;
    graft_act_params fa = rnn_act(c, 2, dir, 0), ga = rnn_act(c, 2, dir, 1);
    for (int64_t i = 0; i < B * H; ++i) h[i] = h0 ? ((const float *)h0->data)[dir * B * H + i] : 0.0f;
    for (int64_t step = 0; step < S; ++step) {
      int64_t t = rev ? S - 1 - step : step;
      for (int64_t b = 0; b < B; ++b) {
        float *hb = h + b * H;
        float *yo = yt ? (float *)yt->data + ((t * d.D + dir) * B + b) * H : 0;
        if (sl && t >= ((const int32_t *)sl->data)[b]) {
          if (yo) memset(yo, 0, (size_t)H * sizeof(float));
          continue;
        }
        for (int64_t j = 0; j < 3 * H; ++j) { gx[j] = Wb ? Wb[j] : 0.0f; gr[j] = Rb ? Rb[j] : 0.0f; }
        matvec_acc(gx, W, x + (t * B + b) * I, 3 * H, I);
        matvec_acc(gr, R, hb, 2 * H, H); /* z and r rows */
        float *z = gx, *r = gx + H, *hh = gx + 2 * H;
        for (int64_t j = 0; j < 2 * H; ++j) gx[j] += gr[j];
        if (has_clip) clip_vec(gx, 2 * H, clip);
        graft_act_apply_f32(gx, (size_t)(2 * H), fa);
        if (lbr) {
          matvec_acc(gr + 2 * H, R + 2 * H * H, hb, H, H);
          for (int64_t j = 0; j < H; ++j) hh[j] += r[j] * gr[2 * H + j];
        } else {
          for (int64_t j = 0; j < H; ++j) rh[j] = r[j] * hb[j];
          matvec_acc(gr + 2 * H, R + 2 * H * H, rh, H, H);
          for (int64_t j = 0; j < H; ++j) hh[j] += gr[2 * H + j];
        }
        if (has_clip) clip_vec(hh, H, clip);
        graft_act_apply_f32(hh, (size_t)H, ga);
        for (int64_t j = 0; j < H; ++j) hb[j] = (1.0f - z[j]) * hh[j] + z[j] * hb[j];
        if (yo) memcpy(yo, hb, (size_t)H * sizeof(float));
      }
    }
    if (yh) memcpy((float *)yh->data + dir * B * H, h, (size_t)(B * H) * sizeof(float));
  }
  return GRAFT_OK;
}
