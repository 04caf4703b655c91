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

/* Only the NBP's copy runs in stage 1 (the Makefile defines
 * INFLATE_STAGE1 for it); the host, pulsar-check and pulsar.efi build
 * the same code as ordinary text. */
#if defined(INFLATE_STAGE1) && !defined(INFLATE_SECTION)
#define INFLATE_SECTION __attribute__((section(".stage1.inflate")))
#define INFLATE_DATA __attribute__((section(".stage1.inflate_data")))
#endif
#ifndef INFLATE_SECTION
#define INFLATE_SECTION
#endif
#ifndef INFLATE_DATA
#define INFLATE_DATA
#endif


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

/**
 * Drop the bits left of the current byte (stored blocks and the gzip
 * trailer start at a byte boundary); whole bytes read ahead into the bit
 * buffer go back to the input.
 */
INFLATE_SECTION static void byte_align(struct inflate *s)
{
    s->src -= s->nbits / 8;
    s->bits = 0;
    s->nbits = 0;
}

/**
 * Build @h from @n code lengths; symbols with length 0 get no code.
 * Returns -1 when the lengths ask for more codes than exist (an
 * over-subscribed code, which no deflate encoder writes); an incomplete
 * code is kept, and reading one of its missing codes fails in decode().
 */
INFLATE_SECTION static int build(struct huffman *h, const uint8_t *len,
                                 unsigned n)
{
    uint16_t offset[16];
    unsigned i;
    int left = 1;

    for (i = 0; i < 16; i++)
        h->count[i] = 0;
    for (i = 0; i < n; i++)
        h->count[len[i]]++;
    h->count[0] = 0;
    for (i = 1; i < 16; i++) {
        left = (left << 1) - h->count[i];
        if (left < 0)
            return -1;
    }
    offset[1] = 0;
    for (i = 1; i < 15; i++)
        offset[i + 1] = offset[i] + h->count[i];
    for (i = 0; i < n; i++)
        if (len[i])
            h->symbol[offset[len[i]]++] = (uint16_t)i;
    return 0;
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

INFLATE_SECTION static int match(struct inflate *s, int sym,
                                 const struct huffman *dist, unsigned *len,
                                 unsigned *back);

/** Inflate one Huffman-coded block into the flat output. */
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
        unsigned len, back;
        if (match(s, sym, dist, &len, &back) != 0)
            return -1;
        if (back > (unsigned)(s->dst - s->start) ||
            len > (unsigned)(s->end - s->dst))
            return -1;
        while (len--) {
            *s->dst = s->dst[-(int)back];
            s->dst++;
        }
    }
}

/**
 * Read a block's codes: fixed (type 1) or dynamic (type 2, the code-length
 * code, then both code lengths).  Returns 0, or -1 on a bad header.
 */
INFLATE_SECTION static int tables(struct inflate *s, unsigned type,
                                  struct huffman *lit, struct huffman *dist)
{
    static const uint8_t order[19] INFLATE_DATA = { 16, 17, 18, 0, 8,  7, 9,
                                                    6,  10, 5,  11, 4, 12, 3,
                                                    13, 2,  14, 1,  15 };
    uint8_t len[320];
    unsigned i;

    if (type == 1) {
        /* Fixed codes (RFC 1951 3.2.6). */
        for (i = 0; i < 288; i++)
            len[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
        (void)build(lit, len, 288); /* complete codes: cannot fail */
        for (i = 0; i < 30; i++)
            len[i] = 5;
        (void)build(dist, len, 30);
        return 0;
    }
    if (type != 2)
        return -1;
    unsigned nlen = bits(s, 5) + 257, ndist = bits(s, 5) + 1;
    unsigned ncode = bits(s, 4) + 4;
    for (i = 0; i < 19; i++)
        len[order[i]] = i < ncode ? (uint8_t)bits(s, 3) : 0;
    if (build(lit, len, 19) != 0)
        return -1;
    for (i = 0; i < nlen + ndist;) {
        int sym = decode(s, lit);
        unsigned rep = 1, val = 0;
        if (sym < 0)
            return -1;
        if (sym < 16) {
            val = (unsigned)sym;
        } else if (sym == 16) {
            if (i == 0)
                return -1;
            val = len[i - 1];
            rep = 3 + bits(s, 2);
        } else {
            rep = sym == 17 ? 3 + bits(s, 3) : 11 + bits(s, 7);
        }
        if (i + rep > nlen + ndist)
            return -1;
        while (rep--)
            len[i++] = (uint8_t)val;
    }
    if (nlen > 286 || ndist > 30 || len[256] == 0)
        return -1; /* symbols 286-287 and 30-31 never occur; no end code */
    if (build(lit, len, nlen) != 0 || build(dist, len + nlen, ndist) != 0)
        return -1;
    return 0;
}

/*
 * A match's length and distance (RFC 1951 3.2.5): a base from the table
 * for its symbol plus that many extra bits.
 */
static const uint16_t len_base[29] INFLATE_DATA = {
    3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
    31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258
};
static const uint8_t len_extra[29] INFLATE_DATA = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
    2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0
};
static const uint16_t dist_base[30] INFLATE_DATA = {
    1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
    33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577
};
static const uint8_t dist_extra[30] INFLATE_DATA = {
    0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13
};

/** A match's length for literal/length symbol @sym (257..285), or 0. */
INFLATE_SECTION static unsigned match_len(struct inflate *s, int sym)
{
    sym -= 257;
    if (sym < 0 || sym >= 29)
        return 0;
    return len_base[sym] + bits(s, len_extra[sym]);
}

/** A match's distance for distance symbol @d (0..29), or 0. */
INFLATE_SECTION static unsigned match_dist(struct inflate *s, int d)
{
    if (d < 0 || d >= 30)
        return 0;
    return dist_base[d] + bits(s, dist_extra[d]);
}

/**
 * One length/distance pair from literal/length symbol @sym and the
 * distance code that follows.  Returns -1 on a bad symbol.
 */
INFLATE_SECTION static int match(struct inflate *s, int sym,
                                 const struct huffman *dist, unsigned *len,
                                 unsigned *back)
{
    if ((*len = match_len(s, sym)) == 0)
        return -1;
    *back = match_dist(s, decode(s, dist));
    return *back == 0 ? -1 : 0;
}

INFLATE_SECTION int stage1_inflate(const void *src, void *dst, void *end)
{
    struct inflate s;
    struct huffman lit, dist;
    unsigned last, type;

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
            byte_align(&s);
            unsigned n = s.src[0] | (unsigned)s.src[1] << 8;
            s.src += 4;
            if (n > (unsigned)(s.end - s.dst))
                return -1;
            while (n--)
                *s.dst++ = *s.src++;
            continue;
        }
        if (tables(&s, type, &lit, &dist) != 0)
            return -1;
        if (codes(&s, &lit, &dist) != 0)
            return -1;
    } while (!last);
    return s.dst == s.end ? 0 : -1;
}

/* ---------------------------------------------------------------- gzip */
/*
 * The streaming gzip decoder (RFC 1952 around RFC 1951).  Compressed
 * bytes are buffered in z->in; a decoding step (a block header, a symbol
 * with its match, a piece of a stored block) only runs while GZ_MARGIN
 * bytes are buffered, or once the file has ended, when the buffer is zero
 * padded and reading into the padding means the file was truncated.
 * Unpacked bytes go into the 32 KiB window, which back-references read,
 * and from there to the output callback; nothing else is kept.  Like the
 * rest of this file it calls no library function.
 */

#define GZ_FHCRC 0x02
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_FCOMMENT 0x10
#define GZ_FRESERVED 0xE0

/** The gzip magic; see inflate.h. */
bool gz_magic(const uint8_t *b, size_t len)
{
    return len >= 2 && b[0] == 0x1F && b[1] == 0x8B;
}

/** A phrase for @e; see inflate.h. */
const char *gz_strerror(enum gz_error e)
{
    switch (e) {
    case GZ_OK:
        return "no error";
    case GZ_BAD_HEADER:
        return "not a deflate gzip header";
    case GZ_BAD_DATA:
        return "corrupt deflate data";
    case GZ_TRUNCATED:
        return "the file ends inside the gzip stream";
    case GZ_BAD_CRC:
        return "CRC-32 mismatch in the gzip trailer";
    case GZ_BAD_SIZE:
        return "length mismatch in the gzip trailer";
    case GZ_TRAILING:
        return "data after the gzip stream";
    case GZ_TOO_BIG:
        return "unpacks to 4 GiB or more";
    default:
        return "the unpacked data was refused";
    }
}

/*
 * CRC-32 (IEEE, reflected), four bytes a step ("slicing by four"): table
 * k gives the CRC of a byte followed by k zero bytes.  The 4 KiB of tables
 * are computed on first use, so they cost the image nothing.
 */
static uint32_t gz_crc_tab[4][256];

/** Fill gz_crc_tab (once). */
static void gz_crc_init(void)
{
    if (gz_crc_tab[0][128])
        return;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        gz_crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int k = 1; k < 4; k++)
            gz_crc_tab[k][i] = (gz_crc_tab[k - 1][i] >> 8) ^
                               gz_crc_tab[0][gz_crc_tab[k - 1][i] & 0xFF];
}

/** CRC-32 of @n more bytes at @p, continuing from @crc. */
static uint32_t gz_crc(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    for (; n >= 4; n -= 4, p += 4) {
        crc ^= p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
        crc = gz_crc_tab[3][crc & 0xFF] ^ gz_crc_tab[2][(crc >> 8) & 0xFF] ^
              gz_crc_tab[1][(crc >> 16) & 0xFF] ^ gz_crc_tab[0][crc >> 24];
    }
    while (n--)
        crc = (crc >> 8) ^ gz_crc_tab[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

/**
 * How far into in[] the decoder has consumed: the read pointer less the
 * whole bytes it has read ahead into the bit buffer.
 */
static uint32_t gz_used(const struct gz_stream *z)
{
    return (uint32_t)(z->s.src - z->in) - z->s.nbits / 8;
}

/** Stop with @e, at the byte being read. */
static int gz_fail(struct gz_stream *z, enum gz_error e)
{
    if (gz_used(z) > z->in_len) {
        /* Whatever it looked like, it came from the zero padding past
         * the file's end: the file was cut short. */
        e = GZ_TRUNCATED;
    }
    if (e == GZ_TRUNCATED) { /* the offset is where the file ended */
        z->s.src = z->in + z->in_len;
        z->s.nbits = 0;
    }
    if (z->error == GZ_OK) {
        z->error = e;
        z->error_at = z->in_base + gz_used(z);
    }
    return -1;
}

/** Hand the window's unflushed bytes to the output (and the CRC). */
static int gz_flush(struct gz_stream *z)
{
    while (z->wflushed != z->wpos) {
        uint32_t at = z->wflushed & (GZ_WINDOW - 1);
        uint32_t n = z->wpos - z->wflushed;
        int rc;

        if (n > GZ_WINDOW - at)
            n = GZ_WINDOW - at;
        z->crc = gz_crc(z->crc, z->window + at, n);
        if ((rc = z->out(z->ctx, z->wflushed, z->window + at, n)) != 0) {
            z->out_rc = rc;
            return gz_fail(z, GZ_OUT);
        }
        z->wflushed += n;
    }
    return 0;
}

/**
 * Make room for @n more unpacked bytes in the window (flushing to the
 * output when the unflushed bytes would not leave it), n <= GZ_WINDOW.
 */
static int gz_room(struct gz_stream *z, uint32_t n)
{
    if (z->wpos - z->wflushed > GZ_WINDOW - n && gz_flush(z) != 0)
        return -1;
    if (n > 0xFFFFFFFFu - z->wpos)
        return gz_fail(z, GZ_TOO_BIG);
    return 0;
}

/** Start decoding; see inflate.h. */
void gz_init(struct gz_stream *z, gz_out_fn out, void *ctx)
{
    z->out = out;
    z->ctx = ctx;
    z->error = GZ_OK;
    z->out_rc = 0;
    z->error_at = 0;
    z->in_len = z->in_base = 0;
    z->s.src = z->in;
    z->s.bits = 0;
    z->s.nbits = 0;
    z->wpos = z->wflushed = 0;
    z->state = GZ_HEADER;
    z->last = false;
    z->stored_left = 0;
    z->crc = 0;
    gz_crc_init();
}

/** Bytes buffered and not yet read. */
static uint32_t gz_avail(const struct gz_stream *z)
{
    uint32_t used = gz_used(z);

    return used < z->in_len ? z->in_len - used : 0;
}

/**
 * The gzip header (RFC 1952 2.3), read whole from the buffer.  Returns 0
 * (read), 1 (not all of it is buffered yet) or -1.
 */
static int gz_header(struct gz_stream *z, bool final)
{
    const uint8_t *p = z->s.src, *end = p + gz_avail(z);
    uint8_t flg;

    if (end - p < 10)
        goto short_header;
    if (p[0] != 0x1F || p[1] != 0x8B || p[2] != 8 || (p[3] & GZ_FRESERVED))
        return gz_fail(z, GZ_BAD_HEADER);
    flg = p[3];
    p += 10;
    if (flg & GZ_FEXTRA) {
        uint32_t xlen;

        if (end - p < 2)
            goto short_header;
        xlen = p[0] | (uint32_t)p[1] << 8;
        if ((uint32_t)(end - p - 2) < xlen)
            goto short_header;
        p += 2 + xlen;
    }
    for (uint8_t f = GZ_FNAME; f <= GZ_FCOMMENT; f <<= 1) {
        if (!(flg & f))
            continue;
        while (p < end && *p)
            p++;
        if (p == end)
            goto short_header;
        p++;
    }
    if (flg & GZ_FHCRC) {
        if (end - p < 2)
            goto short_header;
        p += 2;
    }
    z->s.src = p;
    z->state = GZ_BLOCK;
    return 0;

short_header:
    if (final)
        return gz_fail(z, GZ_TRUNCATED);
    if (z->in_len == GZ_IN_BUF && z->s.src == z->in)
        return gz_fail(z, GZ_BAD_HEADER); /* longer than the buffer */
    return 1;
}

/**
 * Fill @fast, the one-look-up table of @h's codes of at most GZ_FAST_BITS
 * bits.  Deflate sends a code's first bit first into the low bit of the
 * stream, so a code's entries sit at its bit-reversed value plus every
 * combination of the bits that follow it.
 */
static void gz_fast_table(uint16_t *fast, const struct huffman *h)
{
    unsigned code = 0, index = 0;

    for (unsigned i = 0; i < 1u << GZ_FAST_BITS; i++)
        fast[i] = 0;
    for (unsigned len = 1; len <= GZ_FAST_BITS; len++) {
        for (unsigned k = 0; k < h->count[len]; k++, code++) {
            unsigned rev = 0;

            for (unsigned b = 0; b < len; b++)
                rev |= ((code >> b) & 1) << (len - 1 - b);
            for (; rev < 1u << GZ_FAST_BITS; rev += 1u << len)
                fast[rev] = (uint16_t)(h->symbol[index + k] | len << 12);
        }
        index += h->count[len];
        code <<= 1;
    }
}

/**
 * Top the bit buffer up to at least 25 bits.  Safe to read ahead: a
 * decoding step runs only with GZ_MARGIN bytes buffered, or past the
 * file's end over the zero padding.
 */
static inline void gz_refill(struct inflate *s)
{
    while (s->nbits <= 24) {
        s->bits |= (uint32_t)*s->src++ << s->nbits;
        s->nbits += 8;
    }
}

/** The next symbol of @h (@fast its table); -1 on a bad code. */
static inline int gz_decode(struct inflate *s, const struct huffman *h,
                            const uint16_t *fast)
{
    unsigned e;

    gz_refill(s);
    e = fast[s->bits & ((1u << GZ_FAST_BITS) - 1)];
    if (e == 0)
        return decode(s, h); /* a longer code (or none): the slow walk */
    s->bits >>= e >> 12;
    s->nbits -= e >> 12;
    return e & 0xFFF;
}

/**
 * Decode a block's codes while input lasts (GZ_MARGIN bytes buffered, or
 * the file has ended: @final).  Returns 0 (the block ended, or more input
 * is needed) or -1.
 */
static int gz_codes(struct gz_stream *z, bool final)
{
    /* The bit reader and the output position live in locals, written
     * back on the way out: the window's byte stores may alias anything,
     * so fields would be reloaded after each one. */
    struct inflate s = z->s;
    uint8_t *restrict w = z->window;
    uint32_t wpos = z->wpos;
    const uint32_t mask = GZ_WINDOW - 1;
    /* Decode while no more than this much input is consumed. */
    const uint32_t limit = final ? z->in_len : z->in_len - GZ_MARGIN;
    enum gz_error e = GZ_OK;

    for (;;) {
        uint32_t used = (uint32_t)(s.src - z->in) - s.nbits / 8, len, back;
        int sym;

        if (used > limit) {
            if (final) /* read into the padding */
                e = GZ_TRUNCATED;
            break;
        }
        if (wpos - z->wflushed > GZ_WINDOW - 258) { /* the longest match */
            z->s = s;
            z->wpos = wpos;
            if (gz_flush(z) != 0)
                return -1;
        }
        sym = gz_decode(&s, &z->lit, z->lit_fast);
        if (sym < 0) {
            e = GZ_BAD_DATA;
            break;
        }
        if (sym < 256) {
            if (wpos == 0xFFFFFFFFu) {
                e = GZ_TOO_BIG;
                break;
            }
            w[wpos++ & mask] = (uint8_t)sym;
            continue;
        }
        if (sym == 256) {
            z->state = z->last ? GZ_TRAILER : GZ_BLOCK;
            break;
        }
        /* A match, its distance code through the fast table too. */
        len = match_len(&s, sym);
        back = match_dist(&s, gz_decode(&s, &z->dist, z->dist_fast));
        if (len == 0 || back == 0 || back > wpos) {
            e = GZ_BAD_DATA;
            break;
        }
        if (len > 0xFFFFFFFFu - wpos) {
            e = GZ_TOO_BIG;
            break;
        }
        while (len--) {
            w[wpos & mask] = w[(wpos - back) & mask];
            wpos++;
        }
    }
    z->s = s;
    z->wpos = wpos;
    return e == GZ_OK ? 0 : gz_fail(z, e);
}

/** A block's header: stored, or its codes. */
static int gz_block(struct gz_stream *z)
{
    unsigned type;
    uint32_t n;

    z->last = bits(&z->s, 1);
    type = bits(&z->s, 2);
    if (type != 0) {
        if (tables(&z->s, type, &z->lit, &z->dist) != 0)
            return gz_fail(z, GZ_BAD_DATA);
        gz_fast_table(z->lit_fast, &z->lit);
        gz_fast_table(z->dist_fast, &z->dist);
        z->state = GZ_CODES;
        return 0;
    }
    /* Stored: from the next byte boundary, LEN and its complement. */
    byte_align(&z->s);
    n = z->s.src[0] | (uint32_t)z->s.src[1] << 8;
    if ((n ^ (z->s.src[2] | (uint32_t)z->s.src[3] << 8)) != 0xFFFF)
        return gz_fail(z, GZ_BAD_DATA);
    z->s.src += 4;
    z->stored_left = n;
    z->state = GZ_STORED;
    return 0;
}

/** Copy up to @avail buffered bytes of a stored block to the window. */
static int gz_stored(struct gz_stream *z, uint32_t avail)
{
    while (avail && z->stored_left) {
        uint32_t at = z->wpos & (GZ_WINDOW - 1), n = GZ_WINDOW - at;

        if (n > avail)
            n = avail;
        if (n > z->stored_left)
            n = z->stored_left;
        if (gz_room(z, n) != 0)
            return -1;
        for (uint32_t i = 0; i < n; i++)
            z->window[at + i] = z->s.src[i];
        z->s.src += n;
        z->wpos += n;
        z->stored_left -= n;
        avail -= n;
    }
    return 0;
}

/** The trailer: CRC-32 and length of the unpacked data. */
static int gz_trailer(struct gz_stream *z, bool final)
{
    const uint8_t *p;
    uint32_t crc, size;

    byte_align(&z->s); /* the trailer starts at a byte boundary */
    if (gz_avail(z) < 8)
        return final ? gz_fail(z, GZ_TRUNCATED) : 1;
    if (gz_flush(z) != 0)
        return -1;
    p = z->s.src;
    crc = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
          (uint32_t)p[3] << 24;
    size = p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
           (uint32_t)p[7] << 24;
    if (crc != z->crc)
        return gz_fail(z, GZ_BAD_CRC);
    if (size != z->wpos)
        return gz_fail(z, GZ_BAD_SIZE);
    z->s.src += 8;
    z->state = GZ_DONE;
    return 0;
}

/**
 * Decode while enough input is buffered (@final: all of it, the file has
 * ended).  Returns 0 or -1.
 */
static int gz_run(struct gz_stream *z, bool final)
{
    int rc = 0;

    for (;;) {
        uint32_t avail = gz_avail(z);

        if (z->state == GZ_DONE) {
            if (avail) {
                (void)gz_fail(z, GZ_TRAILING);
                return -1;
            }
            return 0;
        }
        if (!final && avail < GZ_MARGIN && z->state != GZ_STORED)
            return 0;
        switch (z->state) {
        case GZ_HEADER:
            rc = gz_header(z, final);
            break;
        case GZ_BLOCK:
            rc = gz_block(z);
            break;
        case GZ_CODES:
            if ((rc = gz_codes(z, final)) == 0 && z->state == GZ_CODES)
                return 0; /* waiting for more input */
            break;
        case GZ_STORED:
            if (z->stored_left == 0) {
                z->state = z->last ? GZ_TRAILER : GZ_BLOCK;
                break;
            }
            if (avail == 0) {
                if (final)
                    return gz_fail(z, GZ_TRUNCATED);
                return 0;
            }
            rc = gz_stored(z, avail);
            break;
        case GZ_TRAILER:
            rc = gz_trailer(z, final);
            break;
        default:
            return gz_fail(z, GZ_BAD_DATA);
        }
        if (rc < 0)
            return -1;
        if (rc > 0)
            return 0; /* waiting for more input */
        if (gz_used(z) > z->in_len)
            return gz_fail(z, GZ_TRUNCATED); /* read into the padding */
    }
}

/** Feed compressed bytes; see inflate.h. */
int gz_feed(struct gz_stream *z, const uint8_t *data, size_t len)
{
    if (z->error != GZ_OK)
        return -1;
    while (len > 0) {
        uint32_t used = gz_used(z), ahead = z->s.nbits / 8, i, take;

        /* Move the unconsumed bytes to the front (no library memmove
         * here); those already read ahead into the bit buffer too. */
        for (i = used; i < z->in_len; i++)
            z->in[i - used] = z->in[i];
        z->in_len -= used;
        z->in_base += used;
        z->s.src = z->in + ahead;
        take = GZ_IN_BUF - z->in_len;
        if (take > len)
            take = (uint32_t)len;
        for (i = 0; i < take; i++)
            z->in[z->in_len + i] = data[i];
        z->in_len += take;
        data += take;
        len -= take;
        if (gz_run(z, false) != 0)
            return -1;
    }
    return gz_flush(z);
}

/** The file ended; see inflate.h. */
int gz_finish(struct gz_stream *z)
{
    uint32_t i;

    if (z->error != GZ_OK)
        return -1;
    for (i = z->in_len; i < GZ_IN_BUF + GZ_MARGIN; i++)
        z->in[i] = 0; /* what a truncated stream reads */
    if (gz_run(z, true) != 0 || gz_flush(z) != 0)
        return -1;
    if (z->state != GZ_DONE)
        return gz_fail(z, GZ_TRUNCATED);
    return 0;
}
