/*
 * Pulsar's own TFTP client.  It moves its packets either through a NIC
 * Pulsar drives itself (boot/bios/nic.h, the fast path: any server, windowsize
 * or not) or through the PXE UDP API (PXENV_UDP_OPEN/READ/WRITE/CLOSE),
 * used only when the server grants RFC 7440 windowsize: then one ACK
 * answers a whole window of blocks, where the ROM's TFTP (and iPXE's own
 * loader) waits a round trip for every block.  The protocol decisions are
 * net/tftp_proto.c's; this file moves packets and keeps time.
 */
#include "net/tftp.h"
#include "net/tftp_proto.h"
#include "net/dhcp.h"
#include "boot/bios/nic.h"
#include "boot/bios/pxe.h"
#include "boot/bios/realmode.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "boot/bios/io.h"
#include <stdio.h>
#include <string.h>

#define PXENV_UDP_OPEN 0x0030
#define PXENV_UDP_CLOSE 0x0031
#define PXENV_UDP_READ 0x0032
#define PXENV_UDP_WRITE 0x0033

/** What Pulsar asks: the largest block a 1500-byte frame carries, a
 * window of 16 blocks, and the file size. */
static const struct tftp_request tftp_udp_request = {
    TFTP_BLKSIZE_WANTED, TFTP_WINDOW_WANTED, 1
};

/** BIOS ticks to wait for a packet before tftp_timeout() (~0.5 s). */
#define TFTP_UDP_WAIT_TICKS 9

struct udp_open_params {
    uint16_t status;
    uint32_t src_ip;
} __attribute__((packed));

struct udp_rw_params {
    uint16_t status;
    uint32_t ip1, ip2;      /* READ: src, dest; WRITE: dest, gateway */
    uint16_t port1, port2;  /* READ: src, dest; WRITE: src, dest */
    uint16_t buffer_size;
    uint32_t buffer;        /* seg:off */
} __attribute__((packed));

/** Servers known not to grant windowsize, and a UDP API that failed. */
static uint32_t no_window_server, announced_server;
static int udp_broken;
static uint16_t next_port;
/** This transfer drives the NIC itself (boot/bios/nic.h), not the UDP API. */
static int native;

/** A port number in network byte order. */
static uint16_t net16(uint16_t v)
{
    return (uint16_t)(v >> 8 | v << 8);
}

/** Send @len bytes at @pkt from our @port to @server:@dport. */
static int udp_send(uint32_t server, uint16_t port, uint16_t dport,
                    const uint8_t *pkt, size_t len)
{
    static uint8_t tx[600] __attribute__((aligned(16))); /* below 1 MiB */
    struct udp_rw_params w;

    if (native)
        return nic_send_udp(server, port, dport, pkt, len);
    if (len > sizeof(tx))
        return -PE_RANGE;
    memcpy(tx, pkt, len);
    memset(&w, 0, sizeof(w));
    w.ip1 = server;
    w.port1 = net16(port);
    w.port2 = net16(dport);
    w.buffer_size = (uint16_t)len;
    w.buffer = lin_to_segoff((uint32_t)tx);
    return pxe_call(PXENV_UDP_WRITE, &w, sizeof(w));
}

/**
 * Wait up to TFTP_UDP_WAIT_TICKS for a datagram from @server to our
 * @port.  Returns its length (its bytes at *@data) and sets *@sport, or 0
 * on timeout.  *@frag_len: the size of one that came in IP fragments on
 * the fast path (not reassembled), else 0.
 */
static size_t udp_wait(uint32_t server, uint16_t port, uint16_t *sport,
                       const uint8_t **data, size_t *frag_len)
{
    struct udp_rw_params r;
    uint32_t start = bios_ticks();
    size_t len = 0;

    *frag_len = 0;
    if (native) {
        int got = nic_recv_udp(server, port, TFTP_UDP_WAIT_TICKS, data,
                               &len, sport);
        if (got < 0)
            *frag_len = len;
        return got > 0 ? len : 0;
    }
    *data = pxe_bounce;
    for (;;) {
        memset(&r, 0, sizeof(r));
        r.port2 = net16(port);
        r.buffer_size = PXE_BOUNCE_SIZE;
        r.buffer = lin_to_segoff((uint32_t)pxe_bounce);
        if (pxe_call(PXENV_UDP_READ, &r, sizeof(r)) == 0 && r.ip1 == server &&
            r.buffer_size <= PXE_BOUNCE_SIZE) {
            *sport = net16(r.port1);
            return r.buffer_size;
        }
        uint32_t now = bios_ticks();
        if (now - start >= TFTP_UDP_WAIT_TICKS || now < start)
            return 0; /* (now < start: midnight; one short wait) */
    }
}

int tftp_udp_fetch(uint32_t server, const char *path, uint32_t max,
                   tftp_sink_fn sink, void *ctx, uint32_t *got,
                   uint16_t *blksize)
{
    static uint8_t pkt[300];
    struct udp_open_params op;
    struct tftp_xfer x;
    struct tftp_action act;
    uint16_t port, sport = 0;
    size_t n;
    int rc;

    *got = 0;
    tftp_last_detail[0] = '\0';
    native = nic_acquire() == 0;
    if (!native && (udp_broken || server == no_window_server))
        return -PE_UNSUPP;
    memset(&op, 0, sizeof(op));
    if (!native && pxe_call(PXENV_UDP_OPEN, &op, sizeof(op)) != 0) {
        udp_broken = 1;
        return -PE_UNSUPP;
    }
    if (!next_port)
        next_port = (uint16_t)(0xC000 | (bios_ticks() & 0x1FFF));
    port = next_port++;
    if (next_port < 0xC000)
        next_port = 0xC000;

    tftp_xfer_init(&x, &tftp_udp_request, max);
    n = tftp_build_rrq(pkt, sizeof(pkt), path, &tftp_udp_request);
    if (!n) {
        rc = -PE_TOOLONG;
        goto out;
    }
    memset(&act, 0, sizeof(act));
    act.resend_rrq = 1;
    for (;;) {
        if (act.resend_rrq &&
            (rc = udp_send(server, port, TFTP_PORT, pkt, n)) != 0)
            goto out;
        const uint8_t *data;
        size_t frag_len;
        size_t len = udp_wait(server, port, &sport, &data, &frag_len);
        if (frag_len > 4) {
            /* Blocks fit a frame; this one was split: say so and stop. */
            rc = x.received ? -PE_IO : -PE_UNSUPP;
            if (x.received)
                snprintf(tftp_last_detail, sizeof(tftp_last_detail),
                         "oversized DATA block: %u bytes in IP fragments, "
                         "blksize %u", (unsigned)frag_len - 4,
                         (unsigned)x.blksize);
            goto out;
        }
        int was_first = x.state == TFTP_S_WAIT_FIRST;
        if (len)
            tftp_input(&x, data, len, sport, &act);
        else
            tftp_timeout(&x, &act);
        if (!native && was_first && x.state != TFTP_S_WAIT_FIRST &&
            x.windowsize < 2) {
            /* No window granted (or an error before any data): the ROM's
             * own TFTP is faster per block, and its errors carry the
             * PXE status.  Close this attempt politely. */
            uint8_t err[40];
            if (x.state != TFTP_S_FAILED)
                udp_send(server, port, x.server_port, err,
                         tftp_build_error(err, sizeof(err), TFTP_ERR_OPTION,
                                          "windowsize needed"));
            if (x.state != TFTP_S_FAILED)
                no_window_server = server;
            rc = -PE_UNSUPP;
            goto out;
        }
        if (was_first && x.state == TFTP_S_DATA && x.windowsize > 1 &&
            server != announced_server) {
            char ip[16];
            dhcp_format_ip(server, ip);
            printf("pulsar: tftp %s grants windowsize %u, blksize %u%s\n", ip,
                   x.windowsize, x.blksize, native ? " (NIC fast path)" : "");
            announced_server = server;
        }
        if (act.len) {
            if ((rc = sink(ctx, act.off, act.data, act.len)) != 0)
                goto out;
            *got = x.received;
            console_progress(x.received);
        }
        if (act.send_ack) {
            uint8_t ack[4];
            udp_send(server, port, x.server_port, ack,
                     tftp_build_ack(ack, act.ack_block));
        }
        if (act.send_error) {
            uint8_t err[64];
            udp_send(server, port, x.server_port, err,
                     tftp_build_error(err, sizeof(err), act.error_code,
                                      act.msg));
        }
        if (act.rc) {
            DBG("tftp", "%s: %s\n", path, act.msg);
            /* Nothing delivered yet: let the ROM's TFTP try and report. */
            rc = x.received ? act.rc : -PE_UNSUPP;
            if (rc != -PE_UNSUPP)
                snprintf(tftp_last_detail, sizeof(tftp_last_detail), "%s",
                         act.msg);
            goto out;
        }
        if (x.state == TFTP_S_DONE)
            break;
    }
    if (blksize)
        *blksize = x.blksize;
    DBG("tftp", "%s: blksize %u, window %u (own client)\n", path, x.blksize,
        x.windowsize);
    rc = 0;
out:
    if (native) {
        nic_release();
        /* Nothing delivered: the ROM's TFTP tries and reports. */
        if (rc && !*got)
            rc = -PE_UNSUPP;
        return rc;
    }
    {
        uint16_t status = 0;
        uint16_t last = pxe_last_status;
        pxe_call(PXENV_UDP_CLOSE, &status, sizeof(status));
        pxe_last_status = last;
    }
    return rc;
}
