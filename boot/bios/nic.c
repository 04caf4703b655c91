/*
 * The NIC fast path for the Intel 82540EM (8086:100E); see nic.h.
 * Register names and bits follow Intel's PCI/PCI-X Family of Gigabit
 * Ethernet Controllers Software Developer's Manual (8254x).  Legacy
 * descriptors, polled, interrupts masked; the rings and buffers live in
 * Pulsar's heap (below 1 MiB, identity-mapped, DMA-coherent on x86).
 */
#include "boot/bios/nic.h"
#include "net/dhcp.h"
#include "net/ether.h"
#include "boot/bios/pxe.h"
#include "boot/bios/realmode.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "boot/bios/io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PXENV_UNDI_GET_NIC_TYPE 0x0012

#define E_STATUS 0x0008
#define E_IMS 0x00D0
#define E_IMC 0x00D8
#define E_RCTL 0x0100
#define E_TCTL 0x0400
#define E_RDBAL 0x2800
#define E_RDBAH 0x2804
#define E_RDLEN 0x2808
#define E_RDH 0x2810
#define E_RDT 0x2818
#define E_TDBAL 0x3800
#define E_TDBAH 0x3804
#define E_TDLEN 0x3808
#define E_TDH 0x3810
#define E_TDT 0x3818

#define STATUS_LU (1u << 1)
#define RCTL_EN (1u << 1)
/* EN, the buffer size (bits 16-17, 0: 2048) and BSEX (bit 25, 0). */
#define RCTL_CHECK (RCTL_EN | 3u << 16 | 1u << 25)
#define TCTL_EN (1u << 1)
#define TX_CMD (0x01 | 0x02 | 0x08) /* end of packet, insert FCS, status */
#define DESC_DD 0x01
#define RX_EOP 0x02

#define NRX 32 /* a window of 16 blocks fits twice */
#define NTX 8
#define BUFSZ 2048

struct rx_desc {
    uint32_t addr, addr_hi;
    uint16_t len, csum;
    uint8_t status, errors;
    uint16_t special;
};

struct tx_desc {
    uint32_t addr, addr_hi;
    uint16_t len;
    uint8_t cso, cmd, status, css;
    uint16_t special;
};

static struct {
    int state;     /* 0: not probed, 1: ours, -1: not ours */
    int acquired;
    uint32_t mmio;
    volatile struct rx_desc *rx;
    volatile struct tx_desc *tx;
    uint8_t *rxbuf, *txbuf;
    unsigned rx_next, tx_next, rx_held, count;
    /* The UNDI's rings (base, length, head, tail) and interrupt mask. */
    uint32_t undi_rx[4], undi_tx[4], undi_ims;
    struct eth_self self;
    uint32_t netmask, router, hop_ip;
    uint8_t hop_mac[ETH_ALEN];
    int hop_known;
    uint16_t ip_id;
} nic;

static uint32_t rd(unsigned reg)
{
    return *(volatile uint32_t *)(nic.mmio + reg);
}

static void wr(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(nic.mmio + reg) = v;
}

/** A trip to real mode so that the BIOS tick (bios_ticks) advances. */
static void yield(void)
{
    struct rm_regs r;
    memset(&r, 0, sizeof(r));
    rm_farcall((uint32_t)rm_yield, &r, NULL, 0);
}

void nic_config(const struct dhcp_facts *f)
{
    /* A new boot attempt: the heap (and the rings in it) start afresh. */
    nic.state = 0;
    nic.hop_known = 0;
    if (f->mac_len == ETH_ALEN)
        memcpy(nic.self.mac, f->mac, ETH_ALEN);
    nic.self.ip = f->client_ip;
    nic.netmask = f->netmask;
    nic.router = f->router;
}

/** Is the PXE NIC an 82540EM with its registers mapped?  Set it up. */
static int probe(void)
{
    struct {
        uint16_t status;
        uint8_t type;
        uint16_t vendor, device;
        uint8_t cls, sub, prog, rev;
        uint16_t bdf, svid, sdid;
    } __attribute__((packed)) t;

    /* Only where the NIC is emulated (CPUID.1:ECX bit 31, "running under
     * a hypervisor"): the ring switch relies on the emulated device's
     * semantics and has not been tried on a real 82540EM. */
    uint32_t a = 1, b, c, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
    if (!(c & (1u << 31)))
        return -1;
    memset(&t, 0, sizeof(t));
    if (!nic.self.ip || !(nic.self.mac[0] | nic.self.mac[1] | nic.self.mac[5]) ||
        pxe_call(PXENV_UNDI_GET_NIC_TYPE, &t, sizeof(t)) != 0 ||
        t.type != 2 /* PCI */ || t.vendor != 0x8086 || t.device != 0x100E)
        return -1;
    uint32_t cfg = 0x80000000u | (uint32_t)t.bdf << 8;
    outl(0xCF8, cfg | 0x10);
    uint32_t bar = inl(0xCFC);
    outl(0xCF8, cfg | 0x04);
    uint32_t cmd = inl(0xCFC) & 0xFFFF;
    /* A 32-bit memory BAR, memory decoding on (the ROM used it). */
    if ((bar & 7) != 0 || bar < 0x100000 || !(cmd & 2))
        return -1;
    if (!(cmd & 4))
        outl(0xCFC, cmd | 4); /* bus master, for DMA */
    nic.mmio = bar & ~0xFu;

    uint8_t *mem = malloc(NRX * 16 + NTX * 16 + (NRX + 1) * BUFSZ + 128);
    if (!mem)
        return -1;
    mem = (uint8_t *)(((uint32_t)mem + 127) & ~127u);
    /* The heap is not zeroed: no descriptor may start with stale
     * status, errors or length bytes. */
    memset(mem, 0, NRX * 16 + NTX * 16);
    nic.rx = (volatile struct rx_desc *)mem;
    nic.tx = (volatile struct tx_desc *)(mem + NRX * 16);
    nic.rxbuf = mem + NRX * 16 + NTX * 16;
    nic.txbuf = nic.rxbuf + NRX * BUFSZ;
    printf("pulsar: fast path: driving the Intel 82540EM at PCI "
           "%02x:%02x.%x directly during transfers\n",
           t.bdf >> 8, (t.bdf >> 3) & 31, t.bdf & 7);
    return 0;
}

/**
 * Hand the receive unit [@head, @tail) of the ring at @base (@len bytes),
 * with it running.  No RCTL write: under QEMU each one stops reception
 * for a second (its e1000 model's flush_queue_timer); the UNDI's RCTL (on,
 * 2 KiB buffers) serves.  Head and tail are first made equal (no free
 * slot; a frame that lands before lands in Pulsar's ring, where every
 * slot has a buffer), then the base moves, then the slots are given.
 */
static void rx_switch(uint32_t base, uint32_t len, uint32_t head,
                      uint32_t tail)
{
    wr(E_RDH, head);
    wr(E_RDT, head);
    wr(E_RDBAL, base);
    wr(E_RDLEN, len);
    wr(E_RDT, tail);
}

/** Point the transmit unit at a ring, stopped meanwhile (no cost). */
static void tx_switch(const uint32_t *ring)
{
    uint32_t tctl = rd(E_TCTL);
    wr(E_TCTL, tctl & ~TCTL_EN);
    wr(E_TDBAL, ring[0]);
    wr(E_TDLEN, ring[1]);
    wr(E_TDH, ring[2]);
    wr(E_TDT, ring[3]);
    wr(E_TCTL, tctl);
}

int nic_acquire(void)
{
#ifdef PULSAR_NO_NIC_FASTPATH
    /* A build without the fast path, for comparison (scripts/bench). */
    return -PE_UNSUPP;
#endif
    static const uint16_t rx_regs[4] = { E_RDBAL, E_RDLEN, E_RDH, E_RDT };
    static const uint16_t tx_regs[4] = { E_TDBAL, E_TDLEN, E_TDH, E_TDT };

    if (nic.state == 0)
        nic.state = probe() == 0 ? 1 : -1;
    if (nic.state < 0)
        return -PE_UNSUPP;
    /* The units must be on with 2 KiB buffers, the link up, the rings
     * below 4 GiB and the transmitter idle (the UNDI's last frame gone);
     * the UNDI's ring no larger than ours (its head and tail index ours
     * while the base moves, below). */
    if ((rd(E_RCTL) & RCTL_CHECK) != RCTL_EN || !(rd(E_TCTL) & TCTL_EN) ||
        !(rd(E_STATUS) & STATUS_LU) || rd(E_RDBAH) || rd(E_TDBAH) ||
        rd(E_TDH) != rd(E_TDT))
        return -PE_UNSUPP;
    for (unsigned i = 0; i < 4; i++) {
        nic.undi_rx[i] = rd(rx_regs[i]);
        nic.undi_tx[i] = rd(tx_regs[i]);
    }
    unsigned undi_slots = nic.undi_rx[1] / 16;
    if (!undi_slots || undi_slots > NRX)
        return -PE_UNSUPP;
    nic.undi_ims = rd(E_IMS);
    wr(E_IMC, ~0u); /* polled: no interrupts */
    for (unsigned i = 0; i < NRX; i++) {
        nic.rx[i].addr = (uint32_t)(nic.rxbuf + i * BUFSZ);
        nic.rx[i].addr_hi = 0;
        nic.rx[i].len = 0;
        nic.rx[i].errors = 0;
        nic.rx[i].status = 0;
    }
    memset((void *)nic.tx, 0, NTX * sizeof(struct tx_desc));
    uint32_t ours[4] = { (uint32_t)nic.tx, NTX * 16, 0, 0 };
    tx_switch(ours);
    /*
     * Move the base first: from then on a frame lands in Pulsar's ring
     * (the UNDI's head and tail index it; every slot has a buffer).  A
     * frame that landed between the reads above and the move went to the
     * UNDI's ring: the head moved on and no slot of ours shows it, which
     * tells the two apart, so the UNDI gets back the head it really has.
     */
    wr(E_RDBAL, (uint32_t)nic.rx);
    unsigned mine = 0;
    for (unsigned i = 0; i < NRX; i++)
        mine += nic.rx[i].status & DESC_DD;
    nic.undi_rx[2] = (rd(E_RDH) + undi_slots - mine) % undi_slots;
    wr(E_RDT, 0);     /* all of ours free: still safe */
    wr(E_RDLEN, NRX * 16);
    wr(E_RDH, 0);     /* none free */
    for (unsigned i = 0; i < NRX; i++)
        nic.rx[i].status = 0; /* drop what landed mid-switch */
    wr(E_RDT, NRX - 1);
    nic.rx_next = nic.tx_next = 0;
    nic.rx_held = NRX;
    nic.acquired = 1;
    return 0;
}

void nic_release(void)
{
    if (!nic.acquired)
        return;
    nic.acquired = 0;
    tx_switch(nic.undi_tx);
    rx_switch(nic.undi_rx[0], nic.undi_rx[1], nic.undi_rx[2],
              nic.undi_rx[3]);
    wr(E_IMS, nic.undi_ims);
}

/** Send the @len-byte frame in txbuf; wait until the NIC has read it. */
static int tx_frame(size_t len)
{
    volatile struct tx_desc *d = &nic.tx[nic.tx_next];
    uint32_t start = bios_ticks();

    d->addr = (uint32_t)nic.txbuf;
    d->len = (uint16_t)len;
    d->cmd = TX_CMD;
    d->status = 0;
    nic.tx_next = (nic.tx_next + 1) % NTX;
    wr(E_TDT, nic.tx_next);
    for (unsigned n = 1; !(d->status & DESC_DD); n++)
        if (!(n & 0xFFF)) {
            yield();
            if (bios_ticks() - start > 2)
                return -PE_IO;
        }
    return 0;
}

/** The next received frame (its length in *@len), or NULL. */
static const uint8_t *rx_poll(size_t *len)
{
    if (nic.rx_held < NRX) {
        /* The frame handed out last time is done with: recycle it. */
        nic.rx[nic.rx_held].status = 0;
        wr(E_RDT, nic.rx_held);
        nic.rx_held = NRX;
    }
    volatile struct rx_desc *d = &nic.rx[nic.rx_next];
    if (!(d->status & DESC_DD))
        return NULL;
    nic.rx_held = nic.rx_next;
    nic.rx_next = (nic.rx_next + 1) % NRX;
    *len = (d->status & RX_EOP) && !d->errors ? d->len : 0;
    return nic.rxbuf + nic.rx_held * BUFSZ;
}

/**
 * Wait up to @ticks for a UDP datagram from @src to @dport (@dport 0:
 * wait for the next hop's ARP reply).  ARP is handled on the way.
 */
static const uint8_t *wait_for(uint32_t src, uint16_t dport, unsigned ticks,
                               struct eth_rx *rx)
{
    uint32_t start = bios_ticks();

    for (unsigned idle = 1;; idle++) {
        size_t n;
        const uint8_t *f = rx_poll(&n);
        if (f) {
            enum eth_kind k = eth_parse(f, n, &nic.self, rx);
            if ((k == ETH_ARP_REPLY || k == ETH_ARP_REQUEST) &&
                rx->peer_ip == nic.hop_ip) {
                memcpy(nic.hop_mac, rx->peer_mac, ETH_ALEN);
                nic.hop_known = 1;
            }
            if (k == ETH_ARP_REQUEST)
                tx_frame(eth_arp_build(nic.txbuf, &nic.self, rx->peer_mac,
                                       rx->peer_ip));
            if (dport ? (k == ETH_UDP || k == ETH_UDP_FRAGMENT) &&
                            rx->peer_ip == src && rx->dport == dport
                      : nic.hop_known) {
                if (!(++nic.count & 63))
                    yield(); /* keep the clock (and progress) going */
                return f;
            }
            continue;
        }
        if (!(idle & 255)) {
            yield();
            uint32_t now = bios_ticks();
            if (now - start >= ticks || now < start)
                return NULL;
        }
    }
}

int nic_send_udp(uint32_t dst, uint16_t sport, uint16_t dport,
                 const void *data, size_t len)
{
    uint32_t hop = eth_next_hop(nic.self.ip, nic.netmask, nic.router, dst);
    struct eth_rx rx;
    int rc;

    if (!nic.hop_known || nic.hop_ip != hop) {
        nic.hop_known = 0;
        nic.hop_ip = hop;
        for (int i = 0; i < 4 && !nic.hop_known; i++) {
            if ((rc = tx_frame(eth_arp_build(nic.txbuf, &nic.self, NULL,
                                             hop))) != 0)
                return rc;
            wait_for(0, 0, 5, &rx);
        }
        if (!nic.hop_known)
            return -PE_TIMEDOUT;
    }
    if (len > ETH_FRAME_MAX - ETH_UDP_HLEN)
        return -PE_RANGE;
    memcpy(nic.txbuf + ETH_UDP_HLEN, data, len);
    return tx_frame(eth_udp_build(nic.txbuf, &nic.self, nic.hop_mac, dst,
                                  sport, dport, len, nic.ip_id++));
}

int nic_recv_udp(uint32_t src, uint16_t dport, unsigned ticks,
                 const uint8_t **data, size_t *len, uint16_t *sport)
{
    struct eth_rx rx;

    if (!wait_for(src, dport, ticks, &rx))
        return 0;
    *data = rx.data;
    *len = rx.len;
    *sport = rx.sport;
    return rx.kind == ETH_UDP ? 1 : -1;
}
