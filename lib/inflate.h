/*
 * The one inflater (RFC 1951 raw deflate): stage 1's whole-buffer
 * unpacker for the NBP body, and a streaming gzip (RFC 1952) decoder for
 * compressed kernels and modules that arrive a packet at a time.  Pure C
 * that calls nothing (the NBP's copy partly runs before its libc exists).
 */
#ifndef PULSAR_INFLATE_H
#define PULSAR_INFLATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Inflate the raw deflate stream at @src into [@dst, @end).
 * Returns 0 when the stream ended exactly at @end, -1 otherwise.
 */
int stage1_inflate(const void *src, void *dst, void *end);

/** Bit reader and (stage 1) output cursor. */
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

#define GZ_WINDOW 32768u /* deflate's farthest back-reference */
#define GZ_IN_BUF 8192u  /* compressed bytes buffered */
/* Decoding steps only run with this much input buffered (or the end of
 * the file seen): the largest block header and one symbol fit in it, so
 * no step ever stops half-way for want of input. */
#define GZ_MARGIN 1024u
/* Codes up to this long decode with one look-up in a table of
 * 1 << GZ_FAST_BITS entries; longer ones walk the canonical code. */
#define GZ_FAST_BITS 10

/** The file's first bytes are the gzip magic (0x1f 0x8b)? */
bool gz_magic(const uint8_t *b, size_t len);

/** Where decoded bytes go: [@off, @off+@len) of the unpacked file. */
typedef int (*gz_out_fn)(void *ctx, uint32_t off, const uint8_t *data,
                         size_t len);

/** What went wrong, for the message. */
enum gz_error {
    GZ_OK,
    GZ_BAD_HEADER,   /* not a deflate gzip header, or reserved flags */
    GZ_BAD_DATA,     /* an invalid deflate block or code */
    GZ_TRUNCATED,    /* the file ended inside the stream */
    GZ_BAD_CRC,      /* the trailer's CRC-32 does not match */
    GZ_BAD_SIZE,     /* the trailer's length does not match */
    GZ_TRAILING,     /* bytes after the trailer */
    GZ_TOO_BIG,      /* unpacks beyond 4 GiB */
    GZ_OUT,          /* the output callback refused (its rc is kept) */
};

/** A gzip stream being decoded; large (window and input), so static. */
struct gz_stream {
    gz_out_fn out;
    void *ctx;
    enum gz_error error;
    int out_rc;              /* the output callback's rc (GZ_OUT) */
    uint32_t error_at;       /* the compressed byte offset of the error */
    uint8_t in[GZ_IN_BUF + GZ_MARGIN]; /* buffered input, zero padded */
    uint32_t in_len;         /* bytes in in[] */
    uint32_t in_base;        /* the file offset of in[0] */
    struct inflate s;        /* s.src points into in[] */
    struct huffman lit, dist;
    /* The codes of at most GZ_FAST_BITS bits, indexed by the next bits
     * of input: symbol | length << 12, or 0 for "walk the code". */
    uint16_t lit_fast[1u << GZ_FAST_BITS], dist_fast[1u << GZ_FAST_BITS];
    uint8_t window[GZ_WINDOW];
    uint32_t wpos, wflushed; /* bytes decoded, bytes handed to out */
    enum { GZ_HEADER, GZ_BLOCK, GZ_STORED, GZ_CODES, GZ_TRAILER,
           GZ_DONE } state;
    bool last;               /* the current block is the last one */
    uint32_t stored_left;    /* bytes left of a stored block */
    uint32_t crc;            /* CRC-32 of the unpacked bytes so far */
};

/** Start decoding; unpacked bytes go to @out. */
void gz_init(struct gz_stream *z, gz_out_fn out, void *ctx);

/**
 * Feed the next @len compressed bytes (in file order).  Returns 0, or -1
 * with z->error and z->error_at set (GZ_OUT: z->out_rc).
 */
int gz_feed(struct gz_stream *z, const uint8_t *data, size_t len);

/** The file ended: finish, check the trailer.  Returns 0 or -1. */
int gz_finish(struct gz_stream *z);

/** Bytes unpacked so far. */
static inline uint32_t gz_unpacked(const struct gz_stream *z)
{
    return z->wpos;
}

/** A phrase for z->error ("corrupt deflate data", ...). */
const char *gz_strerror(enum gz_error e);
#endif
