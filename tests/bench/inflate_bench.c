/*
 * Host micro-benchmark of lib/inflate.c's gzip decoder (run by
 * `make bench`, or alone: build/host/inflate_bench [FILE.gz ...]).
 *
 * Without arguments it gzips (zlib level 9) a 16 MiB buffer shaped like a
 * kernel, part machine-code-like bytes, part text, part zeros, and
 * decodes it through gz_feed() in 1432-byte pieces, as TFTP packets arrive.
 * With arguments it decodes those gzip files instead.  It prints MB/s of
 * unpacked output (best of several runs) and checks the bytes against zlib's
 * own inflate, so a fast but wrong decoder cannot pass for a fast one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "lib/inflate.h"

#define CHUNK 1432 /* a TFTP data packet at the lab's block size */
#define RUNS 5

/** The decoder's output: where the next byte goes, checked against @want. */
struct bench_sink {
    const uint8_t *want;
    size_t len, next;
    int bad;
};

/** gz_out_fn: compare with the expected bytes instead of storing them. */
static int bench_out(void *ctx, uint32_t off, const uint8_t *data,
                     size_t len)
{
    struct bench_sink *k = ctx;

    if (off != k->next || off + len > k->len ||
        memcmp(k->want + off, data, len) != 0)
        k->bad = 1;
    k->next = off + len;
    return k->bad ? -1 : 0;
}

/** Seconds on the monotonic clock. */
static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/**
 * A kernel-like test image of @n bytes (deterministic), or with @random
 * incompressible bytes (what gzip stores in stored blocks).
 */
static uint8_t *make_image(size_t n, int random)
{
    static const char words[] = "panic: module loaded cpu memory page table "
                                "interrupt vector device driver console ";
    uint8_t *p = malloc(n);
    uint32_t x = 12345;

    if (!p)
        return NULL;
    for (size_t i = 0; random && i < n; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 23);
    }
    for (size_t i = 0; !random && i < n;) {
        size_t run = 4096;

        if (run > n - i)
            run = n - i;
        x = x * 1103515245u + 12345u;
        switch ((x >> 16) % 4) {
        case 0: /* code: a small alphabet with repeats */
        case 1:
            for (size_t j = 0; j < run; j++) {
                x = x * 1103515245u + 12345u;
                p[i + j] = (x >> 24) % 8 == 0 ? (uint8_t)(x >> 16)
                                              : (uint8_t)((x >> 20) % 24);
            }
            break;
        case 2: /* text */
            for (size_t j = 0; j < run; j++) {
                x = x * 1103515245u + 12345u;
                p[i + j] = (uint8_t)words[(j + (x >> 28)) % (sizeof(words) - 1)];
            }
            break;
        default: /* zeros (bss-like padding) */
            memset(p + i, 0, run);
        }
        i += run;
    }
    return p;
}

/** gzip @in with zlib; returns the size written to *@out (malloc'd). */
static size_t gzip_image(const uint8_t *in, size_t n, uint8_t **out)
{
    z_stream z;
    size_t cap = compressBound((uLong)n) + 64;

    memset(&z, 0, sizeof(z));
    *out = malloc(cap);
    if (!*out || deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 9,
                              Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        return 0;
    deflateEnd(&z);
    return z.total_out;
}

/** Unpack @gz with zlib (the reference); returns the size, 0 on error. */
static size_t zlib_gunzip(const uint8_t *gz, size_t n, uint8_t **out)
{
    z_stream z;
    size_t cap = 1u << 20, len = 0;

    memset(&z, 0, sizeof(z));
    *out = malloc(cap);
    if (!*out || inflateInit2(&z, 16 + 15) != Z_OK)
        return 0;
    z.next_in = (Bytef *)gz;
    z.avail_in = (uInt)n;
    for (;;) {
        if (len == cap) {
            cap *= 2;
            *out = realloc(*out, cap);
            if (!*out)
                return 0;
        }
        z.next_out = *out + len;
        z.avail_out = (uInt)(cap - len);
        int rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc != Z_OK)
            return 0;
    }
    inflateEnd(&z);
    return len;
}

/** Decode @gz RUNS times; print the best rate.  Returns 0 or 1. */
static int bench_one(const char *name, const uint8_t *gz, size_t n,
                     const uint8_t *want, size_t len)
{
    static struct gz_stream z;
    double best = 1e9;

    for (int r = 0; r < RUNS; r++) {
        struct bench_sink k = { want, len, 0, 0 };
        double t0 = now();

        gz_init(&z, bench_out, &k);
        for (size_t off = 0; off < n; off += CHUNK)
            if (gz_feed(&z, gz + off, n - off < CHUNK ? n - off : CHUNK))
                break;
        if (z.error != GZ_OK || gz_finish(&z) != 0 || k.bad ||
            k.next != len) {
            fprintf(stderr, "%s: decoding failed: %s at byte %u\n", name,
                    gz_strerror(z.error), (unsigned)z.error_at);
            return 1;
        }
        double t = now() - t0;
        if (t < best)
            best = t;
    }
    printf("%-28s %9zu -> %9zu bytes  %7.1f ms  %7.1f MB/s\n", name, n, len,
           best * 1e3, (double)len / best / 1e6);
    return 0;
}

int main(int argc, char **argv)
{
    int bad = 0;

    if (argc < 2) {
        static const char *const names[] = { "kernel-like 16 MiB",
                                             "random 16 MiB (stored)" };

        for (int random = 0; random < 2; random++) {
            size_t n = 16u << 20;
            uint8_t *img = make_image(n, random), *gz;
            size_t gzn = img ? gzip_image(img, n, &gz) : 0;

            if (!gzn) {
                fprintf(stderr, "inflate_bench: cannot build an image\n");
                return 1;
            }
            bad |= bench_one(names[random], gz, gzn, img, n);
            free(img);
            free(gz);
        }
        return bad;
    }
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        uint8_t *gz = NULL, *want = NULL;
        size_t n = 0, cap = 0, len;

        if (!f) {
            perror(argv[i]);
            return 1;
        }
        for (;;) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1u << 20;
                gz = realloc(gz, cap);
            }
            size_t got = fread(gz + n, 1, cap - n, f);
            if (got == 0)
                break;
            n += got;
        }
        fclose(f);
        if (!(len = zlib_gunzip(gz, n, &want))) {
            fprintf(stderr, "%s: zlib cannot unpack it\n", argv[i]);
            return 1;
        }
        const char *base = strrchr(argv[i], '/');
        bad |= bench_one(base ? base + 1 : argv[i], gz, n, want, len);
        free(gz);
        free(want);
    }
    return bad;
}
