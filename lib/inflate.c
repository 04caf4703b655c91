/*
 * Stage 1's unpacker: RFC 1951 "inflate" for the NBP's packed body.
 *
 * It runs before the body exists, so it lives in stage 1 (section
 * .stage1.inflate), calls nothing, and must not make the compiler emit
 * calls either (see the Makefile's flags for this file).  The input is
 * Pulsar's own build output, produced and verified by scripts/pack.py,
 * but a bad stream still ends in an error rather than a wild write: every
 * output write is checked against @end.  Built for the host too, where
 * tests/unit/test_inflate.c checks it against zlib.
 */
#include <stdint.h>
#include "lib/inflate.h"

#ifndef INFLATE_SECTION
#define INFLATE_SECTION __attribute__((section(".stage1.inflate")))
#define INFLATE_DATA __attribute__((section(".stage1.inflate_data")))
#endif
#ifndef INFLATE_DATA
#define INFLATE_DATA
#endif

/** Bit reader and output cursor. */
struct inflate {
    const uint8_t *src;
    uint32_t bits;  /* not yet used bits, LSB first */
    unsigned nbits; /* how many */
    uint8_t *dst, *start, *end;
};

/** A canonical Huffman code: codes per length, symbols in code order. */
struct huffman {
    uint16_t count[16];
    uint16_t symbol[288];
};

/** Take @n bits (LSB first, as deflate packs them). */
INFLATE_SECTION static unsigned bits(struct inflate *s, unsigned n)
{
    while (s->nbits < n) {
        s->bits |= (uint32_t)*s->src++ << s->nbits;
        s->nbits += 8;
    }
    unsigned v = s->bits & ((1u << n) - 1);
    s->bits >>= n;
    s->nbits -= n;
    return v;
}

/** Build @h from @n code lengths; symbols with length 0 get no code. */
INFLATE_SECTION static void build(struct huffman *h, const uint8_t *len,
                                  unsigned n)
{
    uint16_t offset[16];
    unsigned i;

    for (i = 0; i < 16; i++)
        h->count[i] = 0;
    for (i = 0; i < n; i++)
        h->count[len[i]]++;
    h->count[0] = 0;
    offset[1] = 0;
    for (i = 1; i < 15; i++)
        offset[i + 1] = offset[i] + h->count[i];
    for (i = 0; i < n; i++)
        if (len[i])
            h->symbol[offset[len[i]]++] = (uint16_t)i;
}

/**
 * Decode one symbol: walk the code one bit at a time; codes of each length
 * are consecutive numbers starting at @first.  Returns -1 on a bad code.
 */
INFLATE_SECTION static int decode(struct inflate *s, const struct huffman *h)
{
    int code = 0, first = 0, index = 0;

    for (unsigned len = 1; len < 16; len++) {
        code |= (int)bits(s, 1);
        int count = h->count[len];
        if (code - first < count)
            return h->symbol[index + code - first];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

/**
 * Inflate one Huffman-coded block.  Length and distance bases are computed
 * from their extra-bit counts instead of stored as tables: lengths 257..284
 * get (n-261)/4 extra bits, distances 0..29 get (n-2)/2.
 */
INFLATE_SECTION static int codes(struct inflate *s, const struct huffman *lit,
                                 const struct huffman *dist)
{
    for (;;) {
        int sym = decode(s, lit);
        if (sym < 0)
            return -1;
        if (sym < 256) {
            if (s->dst >= s->end)
                return -1;
            *s->dst++ = (uint8_t)sym;
            continue;
        }
        if (sym == 256)
            return 0;
        sym -= 257;
        if (sym >= 29)
            return -1;
        unsigned len = 3;
        for (int i = 0; i < sym; i++)
            len += 1u << (i < 8 ? 0 : (i - 4) / 4);
        if (sym == 28)
            len = 258; /* the one irregular length */
        else if (sym >= 8)
            len += bits(s, (unsigned)(sym - 4) / 4);
        int d = decode(s, dist);
        if (d < 0 || d >= 30)
            return -1;
        unsigned back = 1;
        for (int i = 0; i < d; i++)
            back += 1u << (i < 4 ? 0 : (i - 2) / 2);
        if (d >= 4)
            back += bits(s, (unsigned)(d - 2) / 2);
        if (back > (unsigned)(s->dst - s->start) ||
            len > (unsigned)(s->end - s->dst))
            return -1;
        while (len--) {
            *s->dst = s->dst[-(int)back];
            s->dst++;
        }
    }
}

INFLATE_SECTION int stage1_inflate(const void *src, void *dst, void *end)
{
    static const uint8_t order[19] INFLATE_DATA = { 16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                       11, 4,  12, 3, 13, 2, 14, 1, 15 };
    struct inflate s;
    struct huffman lit, dist;
    uint8_t len[320];
    unsigned last, type, i;

    s.src = src;
    s.bits = 0;
    s.nbits = 0;
    s.dst = s.start = dst;
    s.end = end;
    do {
        last = bits(&s, 1);
        type = bits(&s, 2);
        if (type == 0) {
            /* Stored: byte-aligned LEN, NLEN, then LEN raw bytes. */
            s.bits = 0;
            s.nbits = 0;
            unsigned n = s.src[0] | (unsigned)s.src[1] << 8;
            s.src += 4;
            if (n > (unsigned)(s.end - s.dst))
                return -1;
            while (n--)
                *s.dst++ = *s.src++;
            continue;
        }
        if (type == 1) {
            /* Fixed codes (RFC 1951 3.2.6). */
            for (i = 0; i < 288; i++)
                len[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
            build(&lit, len, 288);
            for (i = 0; i < 30; i++)
                len[i] = 5;
            build(&dist, len, 30);
        } else if (type == 2) {
            /* Dynamic codes: code-length code, then both code lengths. */
            unsigned nlen = bits(&s, 5) + 257, ndist = bits(&s, 5) + 1;
            unsigned ncode = bits(&s, 4) + 4;
            for (i = 0; i < 19; i++)
                len[order[i]] = i < ncode ? (uint8_t)bits(&s, 3) : 0;
            build(&lit, len, 19);
            for (i = 0; i < nlen + ndist;) {
                int sym = decode(&s, &lit);
                unsigned rep = 1, val = 0;
                if (sym < 0)
                    return -1;
                if (sym < 16) {
                    val = (unsigned)sym;
                } else if (sym == 16) {
                    if (i == 0)
                        return -1;
                    val = len[i - 1];
                    rep = 3 + bits(&s, 2);
                } else {
                    rep = sym == 17 ? 3 + bits(&s, 3) : 11 + bits(&s, 7);
                }
                if (i + rep > nlen + ndist)
                    return -1;
                while (rep--)
                    len[i++] = (uint8_t)val;
            }
            build(&lit, len, nlen);
            build(&dist, len + nlen, ndist);
        } else {
            return -1;
        }
        if (codes(&s, &lit, &dist) != 0)
            return -1;
    } while (!last);
    return s.dst == s.end ? 0 : -1;
}
