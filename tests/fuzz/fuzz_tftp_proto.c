/*
 * libFuzzer target for net/tftp_proto.c: a transfer fed an arbitrary
 * sequence of packets and timeouts.  Input: records of [len, port bit,
 * bytes...]; len 0 means a timeout.  Checks what a caller relies on:
 * data comes in order at the running offset, never beyond the limit or
 * longer than a block, and a failed or finished transfer stays so.
 *
 *   make fuzz-tftp-proto     (clang; runs for FUZZ_SECONDS, default 60)
 */
#include "net/tftp_proto.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BYTES 100000u

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t n)
{
    static const struct tftp_request req = { 1468, 16, 1 };
    struct tftp_xfer x;
    struct tftp_action a;
    uint32_t delivered = 0;
    size_t i = 0;

    tftp_xfer_init(&x, &req, MAX_BYTES);
    while (i + 2 <= n) {
        size_t len = in[i];
        uint16_t port = (in[i + 1] & 1) ? 2000 : 3000;
        int before = x.state;
        i += 2;
        if (len == 0) {
            tftp_timeout(&x, &a);
        } else {
            /* Scale up so full 1468-byte blocks are reachable. */
            len = len * 8;
            if (len > n - i)
                len = n - i;
            uint8_t *pkt = malloc(len ? len : 1);
            memcpy(pkt, in + i, len);
            i += len;
            tftp_input(&x, pkt, len, port, &a);
            if (a.len) {
                if (a.off != delivered || a.len > x.blksize ||
                    a.data < pkt || a.data + a.len > pkt + len)
                    abort();
                delivered += (uint32_t)a.len;
            }
            free(pkt);
        }
        if (x.received != delivered || x.received > MAX_BYTES)
            abort();
        if ((before == TFTP_S_DONE || before == TFTP_S_FAILED) &&
            x.state != before)
            abort();
        if (a.rc && x.state != TFTP_S_FAILED)
            abort();
        if (x.blksize < 8 || x.blksize > req.blksize || x.windowsize < 1 ||
            x.windowsize > req.windowsize)
            abort();
    }
    return 0;
}
