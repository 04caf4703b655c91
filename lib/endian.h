/*
 * Little-endian fields in byte buffers, at any alignment: the headers
 * Pulsar reads (multiboot, ELF, a.out kludge, Linux setup, VBE info) and
 * the Linux setup fields it fills in.  Pure C, for the NBP and the host.
 * (Network byte order is net/ether.c's own business.)
 */
#ifndef PULSAR_ENDIAN_H
#define PULSAR_ENDIAN_H
#include <stdint.h>

/* Static, not inline: each user gets its own copies and -Os decides what
 * to inline, as with the per-file helpers these replaced (inline or out
 * of line both made build/pulsar larger). */
#define ENDIAN_FN static __attribute__((unused))

ENDIAN_FN uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

ENDIAN_FN uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

ENDIAN_FN uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

ENDIAN_FN void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

ENDIAN_FN void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, (uint16_t)v);
    put_le16(p + 2, (uint16_t)(v >> 16));
}
#endif
