/* The BIOS file source: the own TFTP client or the ROM's; see
 * source_bios.h. */
#include "boot/bios/source_bios.h"
#include "boot/bios/dgram.h"
#include "boot/bios/nic.h"
#include "boot/bios/tftp_pxe.h"
#include "net/dhcp.h"
#include "net/tftp.h"
#include "lib/errno.h"
#include "lib/console.h"
#include <stdio.h>

/** own_fetch's answer: nothing delivered, let the ROM's TFTP run. */
#define USE_ROM 1

/** A server known not to grant windowsize, the last one announced, and
 * a PXE UDP API that failed to open. */
static uint32_t no_window_server, announced_server;
static int udp_broken;

/** Say once per server what window it grants (@ctx: the transport). */
static void announce(void *ctx, uint32_t server, uint16_t blksize,
                     uint16_t window)
{
    char ip[16];

    if (window < 2 || server == announced_server)
        return;
    dhcp_format_ip(server, ip);
    printf("pulsar: tftp %s grants windowsize %u, blksize %u%s\n", ip,
           window, blksize, ctx == &dgram_nic ? " (NIC fast path)" : "");
    announced_server = server;
}

/** The caller's sink, noting whether a failure was its own verdict. */
struct guard {
    const struct file_sink *sink;
    int refused;
};

static int guard_size(void *ctx, uint32_t size)
{
    struct guard *g = ctx;
    int rc = g->sink->size(g->sink->ctx, size);
    g->refused = rc != 0;
    return rc;
}

static int guard_data(void *ctx, uint32_t off, const uint8_t *data,
                      size_t len)
{
    struct guard *g = ctx;
    int rc = g->sink->data(g->sink->ctx, off, data, len);
    g->refused = rc != 0;
    return rc;
}

/**
 * Pulsar's own client, over the NIC or the PXE UDP API.  Returns 0, a
 * negative pulsar_err, or USE_ROM (nothing delivered, @res to be
 * overwritten) when the ROM's TFTP should run instead.
 */
static int own_fetch(uint32_t server, const char *path, uint32_t max,
                     const struct file_sink *sink, struct xfer_result *res)
{
    int native = nic_acquire() == 0;
    struct guard g = { sink, 0 };
    struct file_sink gs = { sink->size ? guard_size : NULL, guard_data, &g,
                            NULL, NULL };
    struct tftp_client c = {
        native ? &dgram_nic : &dgram_pxe_udp,
        { TFTP_BLKSIZE_WANTED,
          native ? TFTP_WINDOW_WANTED : TFTP_WINDOW_PXE_UDP, 1 },
        DGRAM_WAIT_MS, !native, announce, NULL, NULL,
    };
    int rc;

    c.ctx = (void *)c.net;
    if (!native && (udp_broken || server == no_window_server))
        return USE_ROM;
    if (!native && dgram_pxe_open() != 0) {
        udp_broken = 1;
        return USE_ROM;
    }
    dgram_next_port();
    rc = tftp_client_fetch(&c, server, path, max, &gs, res);
    if (native)
        nic_release();
    else
        dgram_pxe_close();
    if (rc == 0 || g.refused || res->got)
        return rc;
    /* Nothing delivered: the ROM's TFTP tries and reports. */
    if (rc == -PE_UNSUPP && !native)
        no_window_server = server; /* it granted no window */
    return USE_ROM;
}

static int bios_fetch(const struct file_source *src, uint32_t server,
                      const char *path, uint32_t max,
                      const struct file_sink *sink, struct xfer_result *res)
{
    (void)src;
    int rc = own_fetch(server, path, max, sink, res);
    if (rc != USE_ROM)
        return rc;
    return pxe_tftp_fetch(server, path, max, sink, res);
}

static const struct file_source bios_source = { pxe_tftp_size, bios_fetch,
                                                NULL };

const struct file_source *bios_file_source(void)
{
    return &bios_source;
}
