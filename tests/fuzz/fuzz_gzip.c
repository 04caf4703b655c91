/*
 * libFuzzer target: the streaming gzip decoder (lib/inflate.c gz_*) on
 * untrusted bytes, fed in pieces as packets bring them.
 *
 * Input: byte 0 picks the piece size (1 to 256 * 8), the rest is the
 * file.  Checks beyond the sanitizers: output arrives in order with no
 * gap, never beyond the limit the sink sets (a refusal is reported as
 * GZ_OUT with the sink's rc), an error's byte offset lies within the
 * file, and success means the whole file was one gzip stream whose
 * trailer matched.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "lib/inflate.h"

#define OUT_LIMIT (4u << 20)

/** Output: in order, bounded. */
static int out(void *ctx, uint32_t off, const uint8_t *data, size_t len)
{
    uint32_t *next = ctx;

    (void)data;
    assert(off == *next && len > 0 && len <= GZ_WINDOW);
    if (off + len > OUT_LIMIT)
        return -7;
    *next += (uint32_t)len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gz_stream z;
    uint32_t next = 0;
    size_t piece, off;
    int rc = 0;

    if (size < 1)
        return 0;
    piece = (size_t)data[0] * 8 + 1;
    data++;
    size--;
    gz_init(&z, out, &next);
    for (off = 0; off < size && rc == 0; off += piece)
        rc = gz_feed(&z, data + off, size - off < piece ? size - off : piece);
    if (rc == 0)
        rc = gz_finish(&z);
    if (rc != 0) {
        assert(z.error != GZ_OK && z.error_at <= size);
        if (z.error == GZ_OUT)
            assert(z.out_rc == -7);
    } else {
        assert(gz_magic(data, size) && gz_unpacked(&z) == next);
    }
    return 0;
}
