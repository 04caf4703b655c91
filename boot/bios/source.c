/*
 * The BIOS file source over the TFTP API of net/tftp.h: the announced
 * size comes from a size query (PXENV_TFTP_GET_FSIZE) before the
 * transfer; what the ROM or Pulsar's own client said goes into the
 * result instead of staying in globals.
 */
#include <stdio.h>
#include <string.h>

#include "boot/bios/pxe.h"
#include "boot/bios/source.h"
#include "lib/errno.h"
#include "net/tftp.h"

/** Say in @res what the client or the ROM saw of a failure @rc. */
static int result(struct xfer_result *res, int rc)
{
    res->rc = rc;
    res->detail[0] = '\0';
    res->fw_status = pxe_last_status;
    if (rc == 0)
        return 0;
    if (tftp_last_detail[0])
        snprintf(res->detail, sizeof(res->detail), "%s", tftp_last_detail);
    else if (pxe_last_status)
        snprintf(res->detail, sizeof(res->detail), "PXE status 0x%02x: %s",
                 pxe_last_status, pxe_status_str(pxe_last_status));
    return rc;
}

/** file_source.size: PXENV_TFTP_GET_FSIZE. */
static int bios_size(const struct file_source *src, uint32_t server,
                     const char *path, uint32_t *size,
                     struct xfer_result *res)
{
    (void)src;
    pxe_last_status = 0;
    tftp_last_detail[0] = '\0';
    int rc = tftp_size(server, path, size);
    if (rc == 0)
        res->size = *size;
    return result(res, rc);
}

/** Carries the caller's sink through tftp_fetch's callback. */
struct relay {
    const struct file_sink *sink;
    uint32_t got;
};

/** tftp_sink_fn onto a file_sink. */
static int relay_data(void *ctx, uint32_t off, const uint8_t *data,
                      size_t len)
{
    struct relay *r = ctx;
    int rc = r->sink->data(r->sink->ctx, off, data, len);

    if (rc == 0)
        r->got = off + (uint32_t)len;
    return rc;
}

/** file_source.fetch: the size first when the sink wants it, then TFTP. */
static int bios_fetch(const struct file_source *src, uint32_t server,
                      const char *path, uint32_t max,
                      const struct file_sink *sink, struct xfer_result *res)
{
    struct relay r = { sink, 0 };
    uint16_t blksize = 0;
    uint32_t size, got = 0;
    int rc;

    if (sink->size) {
        if ((rc = bios_size(src, server, path, &size, res)) != 0) {
            res->size_query = true;
            return rc;
        }
        if ((rc = sink->size(sink->ctx, size)) != 0)
            return res->rc = rc;
    }
    pxe_last_status = 0;
    tftp_last_detail[0] = '\0';
    rc = tftp_fetch(server, path, max, relay_data, &r, &got, &blksize);
    res->got = got;
    res->blksize = blksize;
    return result(res, rc);
}

/** The BIOS file source; see source.h. */
const struct file_source *bios_file_source(void)
{
    static const struct file_source src = { bios_size, bios_fetch, NULL };
    return &src;
}
