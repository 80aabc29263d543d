/* A small zlib (RFC 1950) / DEFLATE (RFC 1951) decoder for compressed WEIGHTS sections.
 * Contract: never allocates, never reads past `in + in_bytes` nor writes past
 * `out + out_bytes` (a stream that would is rejected, so a "zip bomb" costs at most out_bytes
 * of output), every loop is bounded by the input or output length.
 * Huffman decoding: a 9-bit lookup table answers codes of up to 9 bits in one step (most
 * symbols); longer codes, and the last few bits of the input, fall back to the canonical
 * bit-at-a-time decode from per-length counts. Stack: about 3 KB. */
#include "graft_internal.h"

#define MAX_BITS 15
#define MAX_LIT_CODES 288 /* 286 used + 2 reserved in the fixed code */
#define MAX_DIST_CODES 30
#define FAST_BITS 9
#define FAST_SIZE (1u << FAST_BITS)

typedef struct inf_state {
  const uint8_t *in;
  size_t in_len, in_pos;
  uint32_t bits;  /* pending input bits, LSB first (whole bytes read ahead are un-read when the
                     stream must be byte-aligned) */
  uint32_t nbits; /* how many; < 24 */
  uint8_t *out;
  size_t out_len, out_pos;
} inf_state;

/* A canonical Huffman code: count of codes per length, symbols ordered by (length, value). */
typedef struct huffman {
  uint16_t count[MAX_BITS + 1];
  uint16_t symbol[MAX_LIT_CODES];
  /* fast[next FAST_BITS input bits] = symbol | length << 12 for codes of length <= FAST_BITS,
     0 where the code is longer or absent. */
  uint16_t fast[FAST_SIZE];
} huffman;

/* Takes `need` (0..16) bits; returns 0 on success, -1 when the input runs out. */
static int take_bits(inf_state *s, uint32_t need, uint32_t *value) {
  while (s->nbits < need) {
    if (s->in_pos >= s->in_len) return -1;
    s->bits |= (uint32_t)s->in[s->in_pos++] << s->nbits;
    s->nbits += 8;
  }
  *value = need ? (s->bits & ((1u << need) - 1u)) : 0u;
  s->bits = need < 32 ? s->bits >> need : 0u;
  s->nbits -= need;
  return 0;
}

/* Builds `h` from code lengths[0..n). Returns -1 when the lengths over-subscribe the code
   space, else the number of unused codes at MAX_BITS (0 for a complete code). */
static int32_t huffman_build(huffman *h, const uint8_t *lengths, uint32_t n) {
  uint16_t offs[MAX_BITS + 2];
  for (uint32_t len = 0; len <= MAX_BITS; ++len) h->count[len] = 0;
  for (uint32_t i = 0; i < n; ++i) h->count[lengths[i]]++;
  int32_t left = 1;
  for (uint32_t len = 1; len <= MAX_BITS; ++len) {
    left = left * 2 - (int32_t)h->count[len];
    if (left < 0) return -1;
  }
  offs[1] = 0;
  for (uint32_t len = 1; len <= MAX_BITS; ++len) offs[len + 1] = (uint16_t)(offs[len] + h->count[len]);
  for (uint32_t i = 0; i < n; ++i)
    if (lengths[i] != 0) h->symbol[offs[lengths[i]]++] = (uint16_t)i;
  /* Fast table: walk the symbols in canonical order, assigning consecutive codes per length;
     the stream sends codes most significant bit first, so the table index is the code with
     its bits reversed, repeated for every value of the bits beyond the code. */
  for (uint32_t i = 0; i < FAST_SIZE; ++i) h->fast[i] = 0;
  uint32_t code = 0, index = 0;
  for (uint32_t len = 1; len <= FAST_BITS; ++len) {
    for (uint32_t k = 0; k < h->count[len]; ++k, ++code, ++index) {
      uint32_t rev = 0;
      for (uint32_t b = 0; b < len; ++b) rev |= ((code >> b) & 1u) << (len - 1 - b);
      for (uint32_t j = rev; j < FAST_SIZE; j += 1u << len) h->fast[j] = (uint16_t)(h->symbol[index] | (len << 12));
    }
    code <<= 1;
  }
  return left;
}

/* Decodes one symbol; -1 on exhausted input or a code not in `h`. Codes of one length are
   consecutive integers starting at `first`; the bits arrive most significant first. */
static int32_t huffman_decode(inf_state *s, const huffman *h) {
  while (s->nbits < FAST_BITS && s->in_pos < s->in_len) { /* read ahead whole bytes */
    s->bits |= (uint32_t)s->in[s->in_pos++] << s->nbits;
    s->nbits += 8;
  }
  uint32_t e = h->fast[s->bits & (FAST_SIZE - 1u)], len0 = e >> 12;
  if (e != 0 && len0 <= s->nbits) {
    s->bits >>= len0;
    s->nbits -= len0;
    return (int32_t)(e & 0xfffu);
  }
  int32_t code = 0, first = 0, index = 0;
  for (uint32_t len = 1; len <= MAX_BITS; ++len) {
    uint32_t bit;
    if (take_bits(s, 1, &bit)) return -1;
    code |= (int32_t)bit;
    int32_t count = h->count[len];
    if (code - first < count) return h->symbol[index + (code - first)];
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  return -1;
}

static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                       33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

/* Decodes one compressed block's symbols until end-of-block. */
static int codes(inf_state *s, const huffman *lit, const huffman *dist) {
  for (;;) { /* bounded: every iteration consumes input bits or fails */
    int32_t sym = huffman_decode(s, lit);
    if (sym < 0) return -1;
    if (sym < 256) {
      if (s->out_pos >= s->out_len) return -1;
      s->out[s->out_pos++] = (uint8_t)sym;
    } else if (sym == 256) {
      return 0;
    } else {
      sym -= 257;
      if (sym >= 29) return -1;
      uint32_t extra;
      if (take_bits(s, len_extra[sym], &extra)) return -1;
      size_t len = (size_t)len_base[sym] + extra;
      int32_t dsym = huffman_decode(s, dist);
      if (dsym < 0 || dsym >= 30) return -1;
      if (take_bits(s, dist_extra[dsym], &extra)) return -1;
      size_t d = (size_t)dist_base[dsym] + extra;
      if (d > s->out_pos || len > s->out_len - s->out_pos) return -1;
      for (size_t i = 0; i < len; ++i, ++s->out_pos) s->out[s->out_pos] = s->out[s->out_pos - d];
    }
  }
}

/* Drops the bits left of the current byte and un-reads whole bytes read ahead. */
static void align_to_byte(inf_state *s) {
  s->in_pos -= s->nbits / 8;
  s->bits = 0;
  s->nbits = 0;
}

static int stored_block(inf_state *s) {
  align_to_byte(s);
  if (s->in_len - s->in_pos < 4) return -1;
  const uint8_t *p = s->in + s->in_pos;
  uint32_t len = graft__le16(p), nlen = graft__le16(p + 2);
  if ((len ^ 0xffffu) != nlen) return -1;
  s->in_pos += 4;
  if (len > s->in_len - s->in_pos || len > s->out_len - s->out_pos) return -1;
  for (uint32_t i = 0; i < len; ++i) s->out[s->out_pos + i] = s->in[s->in_pos + i];
  s->in_pos += len;
  s->out_pos += len;
  return 0;
}

static int fixed_block(inf_state *s) {
  huffman lit, dist;
  uint8_t lengths[MAX_LIT_CODES];
  uint32_t i = 0;
  for (; i < 144; ++i) lengths[i] = 8;
  for (; i < 256; ++i) lengths[i] = 9;
  for (; i < 280; ++i) lengths[i] = 7;
  for (; i < 288; ++i) lengths[i] = 8;
  if (huffman_build(&lit, lengths, 288) < 0) return -1;
  for (i = 0; i < MAX_DIST_CODES; ++i) lengths[i] = 5;
  if (huffman_build(&dist, lengths, MAX_DIST_CODES) < 0) return -1;
  return codes(s, &lit, &dist);
}

static int dynamic_block(inf_state *s) {
  static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  huffman lit, dist;
  uint8_t lengths[MAX_LIT_CODES + MAX_DIST_CODES];
  uint32_t hlit, hdist, hclen;
  if (take_bits(s, 5, &hlit) || take_bits(s, 5, &hdist) || take_bits(s, 4, &hclen)) return -1;
  hlit += 257;
  hdist += 1;
  hclen += 4;
  if (hlit > 286 || hdist > MAX_DIST_CODES) return -1;
  for (uint32_t i = 0; i < 19; ++i) lengths[order[i]] = 0;
  for (uint32_t i = 0; i < hclen; ++i) {
    uint32_t v;
    if (take_bits(s, 3, &v)) return -1;
    lengths[order[i]] = (uint8_t)v;
  }
  if (huffman_build(&lit, lengths, 19) != 0) return -1; /* the code-length code must be complete */
  uint32_t total = hlit + hdist, n = 0;
  while (n < total) {
    int32_t sym = huffman_decode(s, &lit);
    if (sym < 0) return -1;
    if (sym < 16) {
      lengths[n++] = (uint8_t)sym;
      continue;
    }
    uint32_t rep, v;
    uint8_t value = 0;
    if (sym == 16) {
      if (n == 0) return -1;
      value = lengths[n - 1];
      if (take_bits(s, 2, &v)) return -1;
      rep = 3 + v;
    } else if (sym == 17) {
      if (take_bits(s, 3, &v)) return -1;
      rep = 3 + v;
    } else {
      if (take_bits(s, 7, &v)) return -1;
      rep = 11 + v;
    }
    if (rep > total - n) return -1;
    while (rep--) lengths[n++] = value;
  }
  if (lengths[256] == 0) return -1; /* no end-of-block code */
  if (huffman_build(&lit, lengths, hlit) < 0) return -1;
  if (huffman_build(&dist, lengths + hlit, hdist) < 0) return -1;
  return codes(s, &lit, &dist);
}

static uint32_t adler32(const uint8_t *p, size_t n) {
  uint32_t a = 1, b = 0;
  while (n > 0) {
    size_t chunk = n < 5552 ? n : 5552; /* keeps b below 2^32 before the reduction */
    n -= chunk;
    while (chunk--) {
      a += *p++;
      b += a;
    }
    a %= 65521u;
    b %= 65521u;
  }
  return (b << 16) | a;
}

graft_status graft__inflate(const uint8_t *in, size_t in_bytes, uint8_t *out, size_t out_bytes) {
  if (!in || (!out && out_bytes)) return GRAFT_E_ARG;
  if (in_bytes < 6) return GRAFT_E_DECOMPRESS;
  uint32_t cmf = in[0], flg = in[1];
  if ((cmf & 15u) != 8u || (cmf >> 4) > 7u || ((cmf << 8) | flg) % 31u != 0 || (flg & 0x20u))
    return GRAFT_E_DECOMPRESS;
  inf_state s;
  s.in = in;
  s.in_len = in_bytes - 4; /* the Adler-32 trailer is not deflate data */
  s.in_pos = 2;
  s.bits = 0;
  s.nbits = 0;
  s.out = out;
  s.out_len = out_bytes;
  s.out_pos = 0;
  uint32_t last;
  do { /* bounded: each block consumes at least 3 bits */
    uint32_t type;
    if (take_bits(&s, 1, &last) || take_bits(&s, 2, &type)) return GRAFT_E_DECOMPRESS;
    int r;
    if (type == 0) r = stored_block(&s);
    else if (type == 1) r = fixed_block(&s);
    else if (type == 2) r = dynamic_block(&s);
    else r = -1;
    if (r) return GRAFT_E_DECOMPRESS;
  } while (!last);
  align_to_byte(&s);
  if (s.in_pos != s.in_len || s.out_pos != s.out_len) return GRAFT_E_DECOMPRESS;
  const uint8_t *t = in + s.in_len;
  uint32_t want = ((uint32_t)t[0] << 24) | ((uint32_t)t[1] << 16) | ((uint32_t)t[2] << 8) | t[3];
  if (adler32(out, out_bytes) != want) return GRAFT_E_DECOMPRESS;
  return GRAFT_OK;
}
