/* Stage 1's unpacker for the NBP body (RFC 1951 raw deflate). */
#ifndef PULSAR_INFLATE_H
#define PULSAR_INFLATE_H

/**
 * Inflate the raw deflate stream at @src into [@dst, @end).
 * Returns 0 when the stream ended exactly at @end, -1 otherwise.
 */
int stage1_inflate(const void *src, void *dst, void *end);

#endif
