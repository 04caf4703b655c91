/* Datagram transports over the NIC fast path and the PXE UDP API; see
 * dgram.h. */
#include "boot/bios/dgram.h"
#include "boot/bios/io.h"
#include "boot/bios/nic.h"
#include "boot/bios/pxe.h"
#include "boot/bios/realmode.h"
#include "lib/errno.h"
#include <string.h>

#define PXENV_UDP_OPEN 0x0030
#define PXENV_UDP_CLOSE 0x0031
#define PXENV_UDP_READ 0x0032
#define PXENV_UDP_WRITE 0x0033

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

/** This transfer's local port (host byte order), and the next one's. */
static uint16_t port, next_port;

void dgram_next_port(void)
{
    if (!next_port)
        next_port = (uint16_t)(0xC000 | (bios_ticks() & 0x1FFF));
    port = next_port++;
    if (next_port < 0xC000)
        next_port = 0xC000;
}

/** A port number in network byte order. */
static uint16_t net16(uint16_t v)
{
    return (uint16_t)(v >> 8 | v << 8);
}

/** BIOS ticks for @ms milliseconds: rounded up, at least one. */
static unsigned ms_ticks(unsigned ms)
{
    unsigned t = (ms + BIOS_MS_PER_TICK - 1) / BIOS_MS_PER_TICK;
    return t ? t : 1;
}

static uint32_t ticks_ms(void *ctx)
{
    (void)ctx;
    return bios_ticks() * BIOS_MS_PER_TICK;
}

/* ------------------------------------------------------ the NIC fast path */

static int nic_send(void *ctx, uint32_t server, uint16_t dport,
                    const uint8_t *pkt, size_t len)
{
    (void)ctx;
    return nic_send_udp(server, port, dport, pkt, len);
}

static int nic_recv(void *ctx, uint32_t server, unsigned ms,
                    const uint8_t **data, size_t *len, uint16_t *sport)
{
    (void)ctx;
    int got = nic_recv_udp(server, port, ms_ticks(ms), data, len, sport);
    return got < 0 ? DGRAM_FRAGMENTED : got;
}

const struct dgram_transport dgram_nic = { nic_send, nic_recv, ticks_ms,
                                           NULL };

/* -------------------------------------------------------- the PXE UDP API */

int dgram_pxe_open(void)
{
    struct udp_open_params op;

    memset(&op, 0, sizeof(op));
    return pxe_call(PXENV_UDP_OPEN, &op, sizeof(op));
}

void dgram_pxe_close(void)
{
    uint16_t status = 0;
    pxe_call(PXENV_UDP_CLOSE, &status, sizeof(status));
}

static int pxe_send(void *ctx, uint32_t server, uint16_t dport,
                    const uint8_t *pkt, size_t len)
{
    static uint8_t tx[600] __attribute__((aligned(16))); /* below 1 MiB */
    struct udp_rw_params w;

    (void)ctx;
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

static int pxe_recv(void *ctx, uint32_t server, unsigned ms,
                    const uint8_t **data, size_t *len, uint16_t *sport)
{
    struct udp_rw_params r;
    uint32_t start = bios_ticks();
    unsigned ticks = ms_ticks(ms);

    (void)ctx;
    for (;;) {
        memset(&r, 0, sizeof(r));
        r.port2 = net16(port);
        r.buffer_size = PXE_BOUNCE_SIZE;
        r.buffer = lin_to_segoff((uint32_t)pxe_bounce);
        if (pxe_call(PXENV_UDP_READ, &r, sizeof(r)) == 0 && r.ip1 == server &&
            r.buffer_size <= PXE_BOUNCE_SIZE) {
            *data = pxe_bounce;
            *len = r.buffer_size;
            *sport = net16(r.port1);
            return 1;
        }
        uint32_t now = bios_ticks();
        if (now - start >= ticks || now < start)
            return 0; /* (now < start: midnight; one short wait) */
    }
}

const struct dgram_transport dgram_pxe_udp = { pxe_send, pxe_recv, ticks_ms,
                                               NULL };
