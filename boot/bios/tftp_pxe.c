/* TFTP through the PXE API; see tftp.h. */
#include "net/tftp.h"
#include "boot/bios/pxe.h"
#include "lib/errno.h"
#include "lib/console.h"
#include <string.h>
#include "boot/bios/realmode.h"

struct tftp_open_params {
    uint16_t status;
    uint32_t server, gateway;
    char filename[128];
    uint16_t port; /* network byte order */
    uint16_t packet_size;
} __attribute__((packed));

struct tftp_read_params {
    uint16_t status;
    uint16_t packet_number;
    uint16_t buffer_size;
    uint32_t buffer; /* seg:off */
} __attribute__((packed));

struct tftp_fsize_params {
    uint16_t status;
    uint32_t server, gateway;
    char filename[128];
    uint32_t file_size;
} __attribute__((packed));

/** Copy @path into a PXE file name field, refusing what does not fit. */
static int set_filename(char dst[128], const char *path)
{
    size_t n = strlen(path);
    if (n >= 128)
        return -PE_TOOLONG;
    memcpy(dst, path, n + 1);
    return 0;
}

int tftp_size(uint32_t server, const char *path, uint32_t *size)
{
    struct tftp_fsize_params p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.server = server;
    if ((rc = set_filename(p.filename, path)) != 0)
        return rc;
    if ((rc = pxe_call(PXENV_TFTP_GET_FSIZE, &p, sizeof(p))) != 0)
        return rc;
    *size = p.file_size;
    return 0;
}

char tftp_last_detail[64];

int tftp_fetch(uint32_t server, const char *path, uint32_t max,
               tftp_sink_fn sink, void *ctx, uint32_t *got,
               uint16_t *blksize)
{
    struct tftp_open_params op;
    struct tftp_read_params rd;
    uint16_t status[1] = { 0 };
    uint32_t off = 0;
    int rc;

    if ((rc = tftp_udp_fetch(server, path, max, sink, ctx, got, blksize)) !=
        -PE_UNSUPP)
        return rc;
    *got = 0;
    memset(&op, 0, sizeof(op));
    op.server = server;
    op.port = (uint16_t)((69 >> 8) | (69 << 8));
    op.packet_size = TFTP_BLKSIZE_WANTED;
    if ((rc = set_filename(op.filename, path)) != 0)
        return rc;
    if ((rc = pxe_call(PXENV_TFTP_OPEN, &op, sizeof(op))) != 0)
        return rc;
    uint16_t bs = op.packet_size;
    if (blksize)
        *blksize = bs;
    DBG("tftp", "%s: blksize %u\n", path, bs);
    if (bs == 0 || bs > PXE_BOUNCE_SIZE) {
        /* The ROM would write past the bounce buffer. */
        rc = -PE_UNSUPP;
        goto out;
    }

    memset(&rd, 0, sizeof(rd));
    for (uint16_t expect = 1;; expect++) {
        rd.buffer = lin_to_segoff((uint32_t)pxe_bounce);
        rd.buffer_size = bs;
        rd.packet_number = (uint16_t)(expect - 1);
        if ((rc = pxe_call(PXENV_TFTP_READ, &rd, sizeof(rd))) != 0)
            goto out;
        if (rd.packet_number != expect || rd.buffer_size > bs) {
            /* Out of order or oversized: the ROM broke its contract. */
            rc = -PE_IO;
            goto out;
        }
        if ((uint64_t)off + rd.buffer_size > max) {
            rc = -PE_RANGE;
            goto out;
        }
        if (rd.buffer_size &&
            (rc = sink(ctx, off, pxe_bounce, rd.buffer_size)) != 0)
            goto out;
        off += rd.buffer_size;
        console_progress(off);
        if (rd.buffer_size < bs)
            break; /* a short packet ends the file */
    }
    rc = 0;
out:
    *got = off;
    uint16_t last = pxe_last_status; /* keep the failure's status */
    pxe_call(PXENV_TFTP_CLOSE, status, sizeof(status));
    pxe_last_status = last;
    return rc;
}
