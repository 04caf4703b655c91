/*
 * Unit tests for lib/inflate.c, stage 1's unpacker, against zlib (and
 * zopfli, the build's packer): raw deflate streams of many shapes
 * (stored, fixed and dynamic blocks, long matches, far distances) must
 * unpack exactly, and damaged or short
 * streams must fail without writing outside the output buffer (ASan);
 * hand-made streams with over-subscribed, incomplete and overrunning
 * codes and a distance before the first byte fail in both decoders.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>
#include "lib/inflate.h"

/**
 * Deflate @in with zlib at @level and @strategy: raw (@bits -15) or
 * gzip-wrapped (16 + 15, with header @h when not NULL); returns the size.
 */
static size_t deflate_as(const uint8_t *in, size_t n, uint8_t *out,
                         size_t cap, int level, int strategy, int bits,
                         gz_header *h)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, level, Z_DEFLATED, bits, 9, strategy),
                     Z_OK);
    if (h)
        assert_int_equal(deflateSetHeader(&z, h), Z_OK);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

/** Raw-deflate @in with zlib at @level and @strategy; returns the size. */
static size_t deflate_raw(const uint8_t *in, size_t n, uint8_t *out,
                          size_t cap, int level, int strategy)
{
    return deflate_as(in, n, out, cap, level, strategy, -15, NULL);
}

/** Pack @in every way zlib can and check our inflate restores it. */
static void round_trip(const uint8_t *in, size_t n)
{
    static const int levels[] = { 0, 1, 6, 9 };
    static const int strategies[] = { Z_DEFAULT_STRATEGY, Z_FIXED,
                                      Z_HUFFMAN_ONLY, Z_RLE };
    size_t cap = n + n / 2 + 1024;
    uint8_t *packed = malloc(cap);
    for (unsigned l = 0; l < 4; l++)
        for (unsigned s = 0; s < 4; s++) {
            size_t plen = deflate_raw(in, n, packed, cap, levels[l],
                                      strategies[s]);
            uint8_t *out = malloc(n + 1);
            assert_int_equal(stage1_inflate(packed, out, out + n), 0);
            assert_memory_equal(out, in, n);
            /* One byte short of room: an error, not an overflow. */
            if (n > 0)
                assert_int_equal(stage1_inflate(packed, out, out + n - 1), -1);
            free(out);
            (void)plen;
        }
    free(packed);
}

/** Deterministic pseudo-random bytes over a small alphabet. */
static void fill(uint8_t *p, size_t n, uint32_t seed, unsigned alphabet)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)((seed >> 16) % alphabet);
    }
}

static void test_small_inputs(void **state)
{
    (void)state;
    round_trip((const uint8_t *)"", 0);
    round_trip((const uint8_t *)"a", 1);
    round_trip((const uint8_t *)"pulsar pulsar pulsar pulsar", 27);
}

static void test_random_and_repetitive(void **state)
{
    (void)state;
    uint8_t *buf = malloc(200000);
    fill(buf, 200000, 1, 256); /* incompressible: stored/literal blocks */
    round_trip(buf, 200000);
    fill(buf, 200000, 2, 3); /* highly repetitive: long, near matches */
    round_trip(buf, 200000);
    memset(buf, 'x', 70000); /* runs of 258 over and over */
    round_trip(buf, 70000);
    free(buf);
}

static void test_far_distances(void **state)
{
    (void)state;
    /* The same block 30000 bytes apart: distances near the 32 KiB limit. */
    uint8_t *buf = malloc(100000);
    fill(buf, 100000, 3, 256);
    memcpy(buf + 31000, buf, 2000);
    memcpy(buf + 64000, buf + 33000, 3000);
    round_trip(buf, 100000);
    free(buf);
}

static void test_machine_code_like(void **state)
{
    (void)state;
    /* The real input: this test binary's own code bytes are close enough
     * to the NBP body; use a slice of the inflate function itself. */
    const uint8_t *code = (const uint8_t *)(uintptr_t)&stage1_inflate;
    uint8_t copy[4096];
    memcpy(copy, code, sizeof(copy));
    round_trip(copy, sizeof(copy));
}

/**
 * The build packs the body with zopfli (scripts/pack.py), whose encoder
 * chooses blocks and codes its own way: its streams must unpack too.
 * Skipped where zopfli is not installed (scripts/deps.sh installs it).
 */
static void test_zopfli_streams(void **state)
{
    (void)state;
    if (access("/usr/bin/zopfli", X_OK) != 0)
        skip();
    static uint8_t in[3][120000];
    fill(in[0], sizeof(in[0]), 7, 256);   /* incompressible */
    fill(in[1], sizeof(in[1]), 8, 5);     /* small alphabet */
    memcpy(in[2], (const uint8_t *)(uintptr_t)&stage1_inflate, 4096);
    for (size_t i = 4096; i < sizeof(in[2]); i++)
        in[2][i] = in[2][i - 4096 + (i % 7)]; /* long, varied matches */
    for (int k = 0; k < 3; k++) {
        char path[] = "/tmp/pulsar-inflate-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, in[k], sizeof(in[k])), sizeof(in[k]));
        close(fd);
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "/usr/bin/zopfli --deflate --i5 -c %s",
                 path);
        FILE *z = popen(cmd, "r");
        assert_non_null(z);
        static uint8_t packed[200000];
        size_t plen = fread(packed, 1, sizeof(packed), z);
        assert_int_equal(pclose(z), 0);
        unlink(path);
        assert_true(plen > 0 && plen < sizeof(packed));
        static uint8_t out[sizeof(in[0]) + 1];
        assert_int_equal(stage1_inflate(packed, out, out + sizeof(in[k])), 0);
        assert_memory_equal(out, in[k], sizeof(in[k]));
    }
}

static void test_damaged_streams_fail_cleanly(void **state)
{
    (void)state;
    uint8_t data[5000], packed[8000], out[5000];
    fill(data, sizeof(data), 4, 16);
    size_t plen = deflate_raw(data, sizeof(data), packed, sizeof(packed), 9,
                              Z_DEFAULT_STRATEGY);
    uint32_t seed = 5;
    for (int round = 0; round < 3000; round++) {
        uint8_t bad[8000 + 64];
        memcpy(bad, packed, plen);
        memset(bad + plen, 0, 64); /* reads past a damaged end stay here */
        seed = seed * 1664525u + 1013904223u;
        bad[(seed >> 8) % plen] ^= (uint8_t)(1u << (seed % 8));
        /* Either it fails or, by luck, it still fills the buffer. */
        int rc = stage1_inflate(bad, out, out + sizeof(out));
        assert_true(rc == 0 || rc == -1);
    }
    /* Block type 3 is reserved. */
    const uint8_t reserved[2] = { 0x07, 0x00 };
    assert_int_equal(stage1_inflate(reserved, out, out + 10), -1);
}

/* ------------------------------------------------------ streaming gzip */

/** Where the gzip decoder's output goes in the tests. */
struct gz_sink {
    uint8_t *buf;
    size_t cap, got;
    uint32_t next; /* the offset the next output must have */
};

/** gz_out_fn: append in order, never past the buffer. */
static int gz_sink_out(void *ctx, uint32_t off, const uint8_t *data,
                       size_t len)
{
    struct gz_sink *k = ctx;

    assert_int_equal(off, k->next);
    if (off + len > k->cap)
        return -99;
    memcpy(k->buf + off, data, len);
    k->next += (uint32_t)len;
    k->got = k->next;
    return 0;
}

/** gzip @in with zlib (with a file name in the header: @named). */
static size_t gzip_buf(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                       int level, bool named)
{
    gz_header h;

    memset(&h, 0, sizeof(h));
    h.name = (Bytef *)"kernel.elf";
    return deflate_as(in, n, out, cap, level, Z_DEFAULT_STRATEGY, 16 + 15,
                      named ? &h : NULL);
}

/** Decode @gz (@n bytes) in @chunk-byte pieces; returns gz_finish's rc. */
static int gunzip_chunks(struct gz_stream *z, const uint8_t *gz, size_t n,
                         size_t chunk, struct gz_sink *k)
{
    gz_init(z, gz_sink_out, k);
    for (size_t off = 0; off < n; off += chunk)
        if (gz_feed(z, gz + off, n - off < chunk ? n - off : chunk) != 0)
            return -1;
    return gz_finish(z);
}

/** Every level and chunk size restores the bytes exactly. */
static void test_gzip_round_trip(void **state)
{
    static struct gz_stream z;
    size_t n = 300000, gzn, cap = n + 4096;
    uint8_t *in = malloc(n), *gz = malloc(cap), *out = malloc(n);
    static const size_t chunks[] = { 1, 7, 512, 1432, 65536, 1 << 20 };

    (void)state;
    for (size_t i = 0; i < n; i++) /* text-like with repeats and noise */
        in[i] = (uint8_t)(i % 251 < 120 ? (size_t)"pulsar multiboot "[i % 17]
                                        : (i * 2654435761u) >> 24);
    for (int level = 0; level <= 9; level += 3) {
        gzn = gzip_buf(in, n, gz, cap, level, level == 6);
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            struct gz_sink k = { out, n, 0, 0 };

            memset(out, 0, n);
            assert_int_equal(gunzip_chunks(&z, gz, gzn, chunks[c], &k), 0);
            assert_int_equal(k.got, n);
            assert_int_equal(gz_unpacked(&z), n);
            assert_memory_equal(in, out, n);
        }
    }
    free(in);
    free(gz);
    free(out);
}

/** Damage is reported with its kind and a byte offset inside the file. */
static void test_gzip_errors(void **state)
{
    static struct gz_stream z;
    size_t n = 100000, gzn, cap = n + 4096;
    uint8_t *in = malloc(n), *gz = malloc(cap + 16), *out = malloc(n);
    struct gz_sink k;

    (void)state;
    for (size_t i = 0; i < n; i++)
        in[i] = (uint8_t)((i * 7) ^ (i >> 5));
    gzn = gzip_buf(in, n, gz, cap, 6, false);
    assert_true(gz_magic(gz, gzn));
    assert_false(gz_magic(in, n));

    /* Truncated anywhere: GZ_TRUNCATED at the file's end. */
    for (size_t cut = 1; cut < gzn; cut += gzn / 37 + 1) {
        k = (struct gz_sink){ out, n, 0, 0 };
        assert_int_equal(gunzip_chunks(&z, gz, cut, 1432, &k), -1);
        assert_int_equal(z.error, cut < 10 ? GZ_TRUNCATED : z.error);
        assert_true(z.error == GZ_TRUNCATED || z.error == GZ_BAD_DATA);
        assert_true(z.error_at <= cut);
    }
    k = (struct gz_sink){ out, n, 0, 0 };
    assert_int_equal(gunzip_chunks(&z, gz, gzn - 3, 512, &k), -1);
    assert_int_equal(z.error, GZ_TRUNCATED);
    assert_int_equal(z.error_at, gzn - 3);

    /* The trailer's CRC and length. */
    gz[gzn - 8] ^= 1;
    k = (struct gz_sink){ out, n, 0, 0 };
    assert_int_equal(gunzip_chunks(&z, gz, gzn, 4096, &k), -1);
    assert_int_equal(z.error, GZ_BAD_CRC);
    assert_int_equal(z.error_at, gzn - 8);
    gz[gzn - 8] ^= 1;
    gz[gzn - 4] ^= 1;
    k = (struct gz_sink){ out, n, 0, 0 };
    assert_int_equal(gunzip_chunks(&z, gz, gzn, 4096, &k), -1);
    assert_int_equal(z.error, GZ_BAD_SIZE);
    gz[gzn - 4] ^= 1;

    /* Bytes after the trailer. */
    gz[gzn] = 0;
    k = (struct gz_sink){ out, n, 0, 0 };
    assert_int_equal(gunzip_chunks(&z, gz, gzn + 1, 4096, &k), -1);
    assert_int_equal(z.error, GZ_TRAILING);
    assert_int_equal(z.error_at, gzn);

    /* A bad header: compression method 7. */
    gz[2] = 7;
    k = (struct gz_sink){ out, n, 0, 0 };
    assert_int_equal(gunzip_chunks(&z, gz, gzn, 4096, &k), -1);
    assert_int_equal(z.error, GZ_BAD_HEADER);
    gz[2] = 8;

    /* The output refuses: its rc is kept. */
    k = (struct gz_sink){ out, 1000, 0, 0 };
    assert_int_equal(gunzip_chunks(&z, gz, gzn, 4096, &k), -1);
    assert_int_equal(z.error, GZ_OUT);
    assert_int_equal(z.out_rc, -99);

    /* Flipped bits in the data: an error, never a write past the sink. */
    for (size_t at = 20; at < gzn - 8; at += gzn / 53 + 1) {
        gz[at] ^= 0x5A;
        k = (struct gz_sink){ out, n, 0, 0 };
        assert_int_equal(gunzip_chunks(&z, gz, gzn, 1432, &k), -1);
        assert_true(z.error_at <= gzn);
        gz[at] ^= 0x5A;
    }
    free(in);
    free(gz);
    free(out);
}

/* ------------------------------------------- hand-made edge-case streams */

/** A deflate bit stream being written (LSB first, as deflate packs). */
struct bitw {
    uint8_t buf[512];
    size_t bit;
};

/** Append the @n-bit value @v (extra bits, header fields). */
static void put_bits(struct bitw *w, uint32_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++, w->bit++)
        if (v >> i & 1)
            w->buf[w->bit / 8] |= (uint8_t)(1u << (w->bit % 8));
}

/** Append the @n-bit Huffman code @code (sent first bit first). */
static void put_code(struct bitw *w, uint32_t code, unsigned n)
{
    while (n--)
        put_bits(w, code >> n & 1, 1);
}

/**
 * A final dynamic block's header asking for 257 literal/length and one
 * distance code, with @ncode code-length code lengths @cl (in the
 * RFC's order 16, 17, 18, 0, 8, ...).
 */
static void dynamic_header(struct bitw *w, const uint8_t *cl, unsigned ncode)
{
    put_bits(w, 1, 1); /* BFINAL */
    put_bits(w, 2, 2); /* dynamic */
    put_bits(w, 0, 5); /* HLIT: 257 */
    put_bits(w, 0, 5); /* HDIST: 1 */
    put_bits(w, ncode - 4, 4);
    for (unsigned i = 0; i < ncode; i++)
        put_bits(w, cl[i], 3);
}

/**
 * Both decoders on the raw stream @w: stage 1 into @want_len bytes and
 * gzip-wrapped, fed a byte at a time and whole.  Returns stage 1's rc;
 * the gzip decoder must agree (GZ_BAD_DATA on failure, the bytes on
 * success).
 */
static int both_decoders(const struct bitw *w, const uint8_t *want,
                         size_t want_len)
{
    static struct gz_stream z;
    uint8_t out[64] = { 0 }, gz[600], back[64];
    size_t raw = (w->bit + 7) / 8, n = 0;
    uint32_t crc = (uint32_t)crc32(0, want, (uInt)want_len);
    static const uint8_t head[10] = { 0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3 };

    /* Stage 1 reads a little past the stream; the zeros after it do. */
    int rc = stage1_inflate(w->buf, out, out + want_len);
    if (rc == 0)
        assert_memory_equal(out, want, want_len);
    memcpy(gz, head, 10);
    n = 10;
    memcpy(gz + n, w->buf, raw);
    n += raw;
    for (int i = 0; i < 4; i++)
        gz[n++] = (uint8_t)(crc >> (8 * i));
    for (int i = 0; i < 4; i++)
        gz[n++] = (uint8_t)(want_len >> (8 * i));
    for (size_t chunk = 1; chunk <= n; chunk += n - 1) {
        struct gz_sink k = { back, sizeof(back), 0, 0 };
        int grc = gunzip_chunks(&z, gz, n, chunk, &k);

        assert_int_equal(grc, rc);
        if (rc == 0) {
            assert_int_equal(k.got, want_len);
            assert_memory_equal(back, want, want_len);
        } else {
            assert_int_equal(z.error, GZ_BAD_DATA);
            /* Past the header; an invalid code may only show as such
             * after reading on (into the trailer), never past the file. */
            assert_true(z.error_at >= 10 && z.error_at <= n);
        }
    }
    return rc;
}

/**
 * Codes longer than the one-look-up table's GZ_FAST_BITS take the slow
 * walk: literals with halving frequencies (symbol k about 2^-k of the
 * bytes), Huffman only, get codes up to 15 bits long.
 */
static void test_gzip_long_codes(void **state)
{
    static struct gz_stream z;
    /* Fewer bytes than zlib's symbol buffer: one block, whose code the
     * decoder keeps in z.lit at the end. */
    size_t n = 30000, cap = n + 4096, gzn, longer = 0;
    uint8_t *in = malloc(n), *gz = malloc(cap), *out = malloc(n);
    uint32_t seed = 99;
    struct gz_sink k = { out, n, 0, 0 };

    (void)state;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        /* The run of one bits at the top: k with probability 2^-(k+1). */
        in[i] = (uint8_t)(__builtin_clz(~seed | 1) * 5);
    }
    gzn = deflate_as(in, n, gz, cap, 9, Z_HUFFMAN_ONLY, 16 + 15, NULL);
    assert_int_equal(gunzip_chunks(&z, gz, gzn, 1432, &k), 0);
    assert_int_equal(k.got, n);
    assert_memory_equal(in, out, n);
    for (unsigned len = GZ_FAST_BITS + 1; len < 16; len++)
        longer += z.lit.count[len];
    assert_true(longer > 0); /* the block had such codes */
    free(in);
    free(gz);
    free(out);
}

/** Over-subscribed and incomplete codes, and repeats past the end. */
static void test_bad_code_lengths(void **state)
{
    /* A dynamic block's code-length code lengths (RFC order), then
     * @steps (value, width; 1-bit codes are sent as bits) @repeat times. */
    static const struct {
        const char *what;
        uint8_t cl[19];
        unsigned ncode;
        struct {
            uint8_t v, n;
        } steps[4];
        unsigned nsteps, repeat;
    } cases[] = {
        { "19 code-length codes of one bit each: far more than exist",
          { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }, 19,
          { { 0, 0 } }, 0, 0 },
        { "an incomplete code-length code (only length 8, code 0); the "
          "stream sends the code 1 it lacks",
          { 0, 0, 0, 0, 1 }, 5, { { 1, 1 } }, 1, 1 },
        { "symbol 18 (codes: 8 -> 0, 18 -> 1) repeating a zero 138 times, "
          "twice: past the 258 lengths asked for",
          { 0, 0, 1, 0, 1 }, 5, { { 1, 1 }, { 127, 7 } }, 2, 2 },
        { "symbol 16 (codes: 8 -> 0, 16 -> 1) first, with nothing to repeat",
          { 1, 0, 0, 0, 1 }, 5, { { 1, 1 }, { 0, 2 } }, 2, 1 },
        { "every length 8: 258 codes of 8 bits over-subscribe the code",
          { 0, 0, 1, 0, 1 }, 5, { { 0, 1 } }, 1, 258 },
    };
    (void)state;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct bitw w;

        memset(&w, 0, sizeof(w));
        dynamic_header(&w, cases[c].cl, cases[c].ncode);
        for (unsigned r = 0; r < cases[c].repeat; r++)
            for (unsigned i = 0; i < cases[c].nsteps; i++)
                put_bits(&w, cases[c].steps[i].v, cases[c].steps[i].n);
        if (both_decoders(&w, NULL, 0) != -1)
            fail_msg("accepted: %s", cases[c].what);
    }
}

/** Fixed codes: a literal, then a match of length 3 at distance @back. */
static void fixed_match(struct bitw *w, unsigned back)
{
    memset(w, 0, sizeof(*w));
    put_bits(w, 1, 1);                /* BFINAL */
    put_bits(w, 1, 2);                /* fixed codes */
    put_code(w, 0x30 + 'A', 8);       /* literal 'A' */
    put_code(w, 1, 7);                /* 257: length 3 */
    put_code(w, back == 1 ? 0 : 1, 5); /* distance 1 or 2 */
    put_code(w, 0, 7);                /* 256: end of block */
}

/** A distance reaching before the first byte fails; one byte back works. */
static void test_distance_too_far(void **state)
{
    struct bitw w;
    (void)state;

    fixed_match(&w, 1);
    assert_int_equal(both_decoders(&w, (const uint8_t *)"AAAA", 4), 0);
    fixed_match(&w, 2);
    assert_int_equal(both_decoders(&w, (const uint8_t *)"AAAA", 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_inputs),
        cmocka_unit_test(test_random_and_repetitive),
        cmocka_unit_test(test_far_distances),
        cmocka_unit_test(test_machine_code_like),
        cmocka_unit_test(test_zopfli_streams),
        cmocka_unit_test(test_damaged_streams_fail_cleanly),
        cmocka_unit_test(test_gzip_round_trip),
        cmocka_unit_test(test_gzip_errors),
        cmocka_unit_test(test_gzip_long_codes),
        cmocka_unit_test(test_bad_code_lengths),
        cmocka_unit_test(test_distance_too_far),
    };
    return cmocka_run_group_tests_name("inflate", tests, NULL, NULL);
}
