/*
 * libFuzzer target for net/tftp_client.c: the engine over a transport
 * whose every answer the input chooses.  Input: a flags byte (bit 0: the
 * client needs a window, bit 1: the sink takes the size, bit 2: the sink
 * refuses data past 20000 bytes), then one record per wait:
 *   op & 3 == 0  nothing came (a timeout)
 *   op & 3 == 1  a packet: length byte, that many bytes (op bit 2: from
 *                a stranger's port)
 *   op & 3 == 2  a datagram in IP fragments: its length / 8 in a byte
 *   op & 3 == 3  op bit 2: an OACK granting blksize 1468, windowsize 16
 *                and a tsize (2 bytes, in KiB); else the next DATA block
 *                (op bit 3: a full one, else a length byte; op bit 4:
 *                the same block again)
 * An exhausted input answers every wait with a timeout.
 *
 * Checks beyond the sanitizers: the sink sees the bytes in order from 0,
 * never more than the limit, sink->size at most once and before any
 * data; the result agrees with the return and with the sink; every
 * packet sent fits its buffer; the client gives up in bounded waits.
 */
#include "net/tftp_client.h"
#include "lib/errno.h"
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_BYTES 100000u
#define SRV 2000

static const uint8_t *in;
static size_t in_len, in_pos;
static uint8_t pkt[1600];
static uint16_t next_block;
static unsigned waits;
static uint32_t clock_ms;

static int take(void)
{
    return in_pos < in_len ? in[in_pos++] : -1;
}

static int fz_send(void *ctx, uint32_t server, uint16_t port,
                   const uint8_t *p, size_t len)
{
    (void)ctx, (void)server, (void)port;
    assert(len >= 4 && len <= 600 && p[0] == 0);
    return 0;
}

static int fz_recv(void *ctx, uint32_t server, unsigned ms,
                   const uint8_t **data, size_t *len, uint16_t *sport)
{
    (void)ctx, (void)server;
    assert(ms > 0 && ms <= 500);
    int op = take();
    *data = pkt;
    *sport = SRV;
    if (op < 0 || (op & 3) == 0) {
        clock_ms += ms;
        assert(++waits < 10000);
        return 0;
    }
    if ((op & 3) == 1) {
        int n = take();
        size_t l = n < 0 ? 0 : (size_t)n;
        if (l > in_len - in_pos)
            l = in_len - in_pos;
        memcpy(pkt, in + in_pos, l);
        in_pos += l;
        *len = l;
        if (op & 4)
            *sport = SRV + 1;
        return 1;
    }
    if ((op & 3) == 2) {
        int n = take();
        *len = n < 0 ? 0 : (size_t)n * 8;
        return DGRAM_FRAGMENTED;
    }
    if (op & 4) {
        int hi = take(), lo = take();
        unsigned kib = (unsigned)((hi < 0 ? 0 : hi) << 8 | (lo < 0 ? 0 : lo));
        *len = 2 + (size_t)snprintf((char *)pkt + 2, sizeof(pkt) - 2,
                                    "blksize%c1468%cwindowsize%c16%ctsize%c%u",
                                    0, 0, 0, 0, 0, kib * 1024) + 1;
        pkt[0] = 0;
        pkt[1] = 6;
        return 1;
    }
    size_t l = 1468;
    if (!(op & 8)) {
        int n = take();
        l = n < 0 ? 0 : (size_t)n;
    }
    if (!(op & 16))
        next_block++;
    pkt[0] = 0;
    pkt[1] = 3;
    pkt[2] = (uint8_t)(next_block >> 8);
    pkt[3] = (uint8_t)next_block;
    memset(pkt + 4, (uint8_t)next_block, l);
    *len = 4 + l;
    return 1;
}

static uint32_t fz_now(void *ctx)
{
    (void)ctx;
    return clock_ms;
}

static struct {
    uint32_t next;
    unsigned size_calls;
    int refuse;
} sk;

static int fz_size(void *ctx, uint32_t size)
{
    (void)ctx;
    assert(sk.next == 0 && size <= MAX_BYTES);
    sk.size_calls++;
    return 0;
}

static int fz_data(void *ctx, uint32_t off, const uint8_t *data, size_t len)
{
    (void)ctx, (void)data;
    assert(off == sk.next && len > 0 && len <= 1468);
    assert((uint64_t)off + len <= MAX_BYTES);
    if (sk.refuse && off >= 20000)
        return -PE_NOMEM;
    sk.next = off + (uint32_t)len;
    return 0;
}

static void fz_granted(void *ctx, uint32_t server, uint16_t bs, uint16_t win)
{
    (void)ctx, (void)server;
    assert(sk.next == 0 && sk.size_calls == 0);
    assert(bs >= 8 && bs <= 1468 && win >= 1 && win <= 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct dgram_transport net = { fz_send, fz_recv, fz_now,
                                                NULL };
    struct xfer_result res;

    if (size < 1)
        return 0;
    in = data + 1;
    in_len = size - 1;
    in_pos = 0;
    next_block = 0;
    waits = 0;
    clock_ms = 0xFFFFF000u; /* the clock wraps during the run */
    memset(&sk, 0, sizeof(sk));
    sk.refuse = data[0] & 4;
    const struct tftp_client c = { &net, { 1468, 16, 1 }, 500, data[0] & 1,
                                   fz_granted, NULL, NULL };
    const struct file_sink sink = { (data[0] & 2) ? fz_size : NULL, fz_data,
                                    NULL, NULL, NULL };
    int rc = tftp_client_fetch(&c, 0x0202000a, "demo/kernel.elf", MAX_BYTES,
                               &sink, &res);
    assert(res.rc == rc && rc <= 0);
    assert(res.got == sk.next && res.got <= MAX_BYTES);
    assert(sk.size_calls <= 1);
    assert(memchr(res.detail, 0, sizeof(res.detail)));
    assert(rc != 0 || res.detail[0] == 0);
    assert(res.window <= 16 && res.blksize <= 1468);
    return 0;
}
