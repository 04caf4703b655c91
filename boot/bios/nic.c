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
#include "lib/console.h"
#include "lib/errno.h"
#ifndef NIC_MODEL
#include "boot/bios/io.h"
#include "boot/bios/realmode.h"
#endif
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
#define RCTL_SECRC (1u << 26) /* strip the FCS; when off, it is in len */
/* EN, the buffer size (bits 16-17, 0: 2048) and BSEX (bit 25, 0). */
#define RCTL_CHECK (RCTL_EN | 3u << 16 | 1u << 25)
#define TCTL_EN (1u << 1)
#define TX_CMD (0x01 | 0x02 | 0x08) /* end of packet, insert FCS, status */
#define DESC_DD 0x01
#define RX_EOP 0x02

#define NRX 32 /* a window of 16 blocks fits twice */
#define ETH_ZLEN 60 /* the shortest frame on the wire, FCS not counted */
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
    unsigned fcs;  /* bytes of FCS the NIC leaves in a frame (RCTL.SECRC) */
    /* For the summary: transfers asked for, run on the fast path, and
     * frames sent and taken in while it ran. */
    unsigned asked, ran, frames_in, frames_out;
} nic;

#ifdef NIC_MODEL
/* A host test's register model (tests/unit/test_nic.c) supplies rd, wr,
 * pci_rd, pci_wr, cpuid, yield and now_ticks. */
#include NIC_MODEL
#else
static uint32_t rd(unsigned reg)
{
    return *(volatile uint32_t *)(nic.mmio + reg);
}

static void wr(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(nic.mmio + reg) = v;
}

/** PCI configuration space through mechanism #1 (ports CF8/CFC). */
static uint32_t pci_rd(uint32_t addr)
{
    outl(0xCF8, addr);
    return inl(0xCFC);
}

static void pci_wr(uint32_t addr, uint32_t v)
{
    outl(0xCF8, addr);
    outl(0xCFC, v);
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(0));
}

/** A trip to real mode so that the BIOS tick (bios_ticks) advances. */
static void yield(void)
{
    struct rm_regs r;
    memset(&r, 0, sizeof(r));
    rm_farcall((uint32_t)rm_yield, &r, NULL, 0);
}

static uint32_t now_ticks(void)
{
    return bios_ticks();
}
#endif

/** A buffer's bus address (identity-mapped, below 4 GiB). */
static uint32_t dma(const volatile void *p)
{
    return (uint32_t)(uintptr_t)p;
}

void nic_config(const struct dhcp_facts *f)
{
    /* A new boot attempt: the heap (and the rings in it) start afresh. */
    nic.state = 0;
    nic.hop_known = 0;
    nic.asked = nic.ran = nic.frames_in = nic.frames_out = 0;
    if (f->mac_len == ETH_ALEN)
        memcpy(nic.self.mac, f->mac, ETH_ALEN);
    nic.self.ip = f->client_ip;
    nic.netmask = f->netmask;
    nic.router = f->router;
}

/*
 * Where the ring switch was verified: QEMU's e1000 model, under QEMU's
 * own accelerators.  Each check excludes a machine that also shows an
 * 8086:100E behind a hypervisor bit:
 *  - CPUID leaf 0x40000000 names the hypervisor.  QEMU's TCG says
 *    "TCGTCGTCGTCG", KVM (QEMU's usual accelerator) "KVMKVMKVM\0\0\0";
 *    VirtualBox ("VBoxVBoxVBox"), VMware, Hyper-V and Xen say otherwise.
 *    VirtualBox's e1000 caches receive descriptors, so a ring moved
 *    under it is not seen at once, and a real 82540EM passed through to
 *    any guest is real hardware, whose manual allows the receive head to
 *    be written only with the receiver off: Pulsar writes it running.
 *  - The PCI subsystem IDs.  QEMU gives every emulated device that does
 *    not set its own the subsystem 1AF4:1100 (Red Hat / "QEMU virtual
 *    machine"), its e1000 included; a real 82540EM card, passed through
 *    to a KVM guest or a VirtualBox guest using its KVM paravirtual
 *    interface, carries its maker's IDs (Intel's own are 8086:xxxx).
 */
#define QEMU_SUBSYS_VENDOR 0x1AF4
#define QEMU_SUBSYS_DEVICE 0x1100u

static int qemu_hypervisor(void)
{
    uint32_t r[4];
    char v[12];

    cpuid(1, r);
    if (!(r[2] & (1u << 31))) /* CPUID.1:ECX bit 31: under a hypervisor */
        return 0;
    cpuid(0x40000000, r);
    memcpy(v, &r[1], 4);
    memcpy(v + 4, &r[2], 4);
    memcpy(v + 8, &r[3], 4);
    DBG("nic", "hypervisor vendor '%.12s'\n", v);
    return !memcmp(v, "TCGTCGTCGTCG", 12) ||
           !memcmp(v, "KVMKVMKVM\0\0\0", 12);
}

/** Is the PXE NIC QEMU's 82540EM with its registers mapped?  Set it up. */
static int probe(void)
{
    struct {
        uint16_t status;
        uint8_t type;
        uint16_t vendor, device;
        uint8_t cls, sub, prog, rev;
        uint16_t bdf, svid, sdid;
    } __attribute__((packed)) t;
    const char *off;

    memset(&t, 0, sizeof(t));
    if (!nic.self.ip || !(nic.self.mac[0] | nic.self.mac[1] | nic.self.mac[5]) ||
        pxe_call(PXENV_UNDI_GET_NIC_TYPE, &t, sizeof(t)) != 0 ||
        t.type != 2 /* PCI */ || t.vendor != 0x8086 || t.device != 0x100E)
        return -1; /* not an 82540EM: nothing to say */
    /* The subsystem from the device itself: iPXE's UNDI leaves the
     * fields of GET_NIC_TYPE 0. */
    uint32_t cfg = 0x80000000u | (uint32_t)t.bdf << 8;
    uint32_t subsys = pci_rd(cfg | 0x2C);
    DBG("nic", "82540EM subsystem %04x:%04x\n", subsys & 0xFFFF,
        subsys >> 16);
    if (!qemu_hypervisor())
        off = "not under QEMU (CPUID hypervisor vendor)";
    else if (subsys != (QEMU_SUBSYS_DEVICE << 16 | QEMU_SUBSYS_VENDOR))
        off = "not QEMU's (PCI subsystem)";
    else
        off = NULL;
    uint32_t bar = off ? 0 : pci_rd(cfg | 0x10);
    uint32_t cmd = off ? 0 : pci_rd(cfg | 0x04) & 0xFFFF;
    /* A 32-bit memory BAR, memory decoding on (the ROM used it). */
    if (!off && ((bar & 7) != 0 || bar < 0x100000 || !(cmd & 2)))
        off = "its registers are not mapped";
    uint8_t *mem = off ? NULL
                       : malloc(NRX * 16 + NTX * 16 + (NRX + 1) * BUFSZ + 128);
    if (!off && !mem)
        off = "out of memory";
    if (off) {
        printf("pulsar: fast path off: the Intel 82540EM at PCI "
               "%02x:%02x.%x is %s%s\n", t.bdf >> 8, (t.bdf >> 3) & 31,
               t.bdf & 7, off[0] == 'n' ? "" : "unusable: ", off);
        return -1;
    }
    if (!(cmd & 4))
        pci_wr(cfg | 0x04, cmd | 4); /* bus master, for DMA */
    nic.mmio = bar & ~0xFu;
    mem = (uint8_t *)(((uintptr_t)mem + 127) & ~(uintptr_t)127);
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
 * Stop the receive unit taking frames, with it running, Pulsar's ring in
 * place (every slot has a buffer): no RCTL write (under QEMU each one
 * stops reception for a second: its e1000 model's flush_queue_timer).
 * The tail goes to @at first: the NIC may still fill slots of Pulsar's
 * ring up to it.  Then the head: now no slot is free, whatever landed
 * meanwhile, and nothing more can land until the tail moves again.  (The
 * head first would leave the old tail behind it: a frame landing between
 * the two writes would open the whole ring to the NIC.)
 */
static void rx_park(uint32_t at)
{
    wr(E_RDT, at);
    wr(E_RDH, at);
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

/** How many of our receive slots hold a frame. */
static unsigned rx_landed(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < NRX; i++)
        n += nic.rx[i].status & DESC_DD;
    return n;
}

int nic_acquire(void)
{
#ifdef PULSAR_NO_NIC_FASTPATH
    /* A build without the fast path, for comparison (scripts/bench). */
    return -PE_UNSUPP;
#endif
    static const uint16_t rx_regs[4] = { E_RDBAL, E_RDLEN, E_RDH, E_RDT };
    static const uint16_t tx_regs[4] = { E_TDBAL, E_TDLEN, E_TDH, E_TDT };

    nic.asked++;
    if (nic.state == 0)
        nic.state = probe() == 0 ? 1 : -1;
    if (nic.state < 0)
        return -PE_UNSUPP;
    /* The units must be on with 2 KiB buffers, the link up, the rings
     * below 4 GiB and the transmitter idle (the UNDI's last frame gone);
     * the UNDI's ring no larger than ours (its head and tail index ours
     * while the base moves, below). */
    uint32_t rctl = rd(E_RCTL);
    if ((rctl & RCTL_CHECK) != RCTL_EN || !(rd(E_TCTL) & TCTL_EN) ||
        !(rd(E_STATUS) & STATUS_LU) || rd(E_RDBAH) || rd(E_TDBAH) ||
        rd(E_TDH) != rd(E_TDT))
        return -PE_UNSUPP;
    nic.fcs = rctl & RCTL_SECRC ? 0 : 4;
    for (unsigned i = 0; i < 4; i++) {
        nic.undi_rx[i] = rd(rx_regs[i]);
        nic.undi_tx[i] = rd(tx_regs[i]);
    }
    unsigned undi_slots = nic.undi_rx[1] / 16;
    if (!undi_slots || undi_slots > NRX || nic.undi_rx[2] >= undi_slots ||
        nic.undi_rx[3] >= undi_slots)
        return -PE_UNSUPP;
    nic.undi_ims = rd(E_IMS);
    wr(E_IMC, ~0u); /* polled: no interrupts */
    for (unsigned i = 0; i < NRX; i++) {
        nic.rx[i].addr = dma(nic.rxbuf + i * BUFSZ);
        nic.rx[i].addr_hi = 0;
        nic.rx[i].len = 0;
        nic.rx[i].errors = 0;
        nic.rx[i].status = 0;
    }
    memset((void *)nic.tx, 0, NTX * sizeof(struct tx_desc));
    uint32_t ours[4] = { dma(nic.tx), NTX * 16, 0, 0 };
    tx_switch(ours);
    /*
     * Move the base first: from then on a frame lands in Pulsar's ring
     * (the UNDI's head and tail index it; every slot has a buffer).  A
     * frame that landed between the reads above and the move went to the
     * UNDI's ring: the head moved on and no slot of ours shows it, which
     * tells the two apart, so the UNDI gets back the head it really has.
     * Head and count must be of one moment: a frame landing between the
     * two reads would move one and not the other, so they are read until
     * the head stands still across the count (frames land in order, at
     * most up to the UNDI's tail: the head cannot come round to where it
     * was).
     */
    wr(E_RDBAL, dma(nic.rx));
    uint32_t head;
    unsigned mine;
    do {
        head = rd(E_RDH);
        mine = rx_landed();
    } while (rd(E_RDH) != head);
    nic.undi_rx[2] = (head + undi_slots - mine) % undi_slots;
    /* Then Pulsar's ring gets its own length, idle meanwhile.  Parked at
     * the UNDI's head: what landed mid-switch lies from there on, and the
     * NIC may fill only the slots before it.  That is dropped (Pulsar has
     * asked nothing yet), and the ring starts there. */
    rx_park(nic.undi_rx[2]);
    wr(E_RDLEN, NRX * 16);
    for (unsigned i = 0; i < NRX; i++)
        nic.rx[i].status = 0;
    nic.rx_next = nic.undi_rx[2];
    wr(E_RDT, (nic.rx_next + NRX - 1) % NRX);
    nic.tx_next = 0;
    nic.rx_held = NRX;
    nic.acquired = 1;
    nic.ran++;
    return 0;
}
void nic_release(void)
{
    if (!nic.acquired)
        return;
    nic.acquired = 0;
    tx_switch(nic.undi_tx);
    /* Idle at the UNDI's head (it indexes our ring too), then its ring,
     * then its free slots: frames land from its head on, as it expects.
     * Frames that land in our ring meanwhile are dropped. */
    rx_park(nic.undi_rx[2]);
    wr(E_RDBAL, nic.undi_rx[0]);
    wr(E_RDLEN, nic.undi_rx[1]);
    wr(E_RDT, nic.undi_rx[3]);
    wr(E_IMS, nic.undi_ims);
}

/** Say how many transfers ran on the fast path (when it was set up). */
void nic_report(void)
{
    if (nic.state > 0)
        printf("pulsar: fast path: %u of %u transfers, %u frames in, "
               "%u out\n", nic.ran, nic.asked, nic.frames_in,
               nic.frames_out);
}

/** Send the @len-byte frame in txbuf; wait until the NIC has read it. */
static int tx_frame(size_t len)
{
    volatile struct tx_desc *d = &nic.tx[nic.tx_next];
    uint32_t start = now_ticks();

    /* Padded here, whatever TCTL.PSP says: an ARP frame is 42 bytes. */
    if (len < ETH_ZLEN) {
        memset(nic.txbuf + len, 0, ETH_ZLEN - len);
        len = ETH_ZLEN;
    }
    nic.frames_out++;
    d->addr = dma(nic.txbuf);
    d->len = (uint16_t)len;
    d->cmd = TX_CMD;
    d->status = 0;
    nic.tx_next = (nic.tx_next + 1) % NTX;
    wr(E_TDT, nic.tx_next);
    for (unsigned n = 1; !(d->status & DESC_DD); n++)
        if (!(n & 0xFFF)) {
            yield();
            if (now_ticks() - start > 2)
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
    /* Without RCTL.SECRC the NIC leaves the FCS in the frame. */
    *len = (d->status & RX_EOP) && !d->errors && d->len >= nic.fcs
               ? d->len - nic.fcs : 0;
    nic.frames_in++;
    return nic.rxbuf + nic.rx_held * BUFSZ;
}

/**
 * Wait up to @ticks for a UDP datagram from @src to @dport (@dport 0:
 * wait for the next hop's ARP reply).  ARP is handled on the way.
 */
static const uint8_t *wait_for(uint32_t src, uint16_t dport, unsigned ticks,
                               struct eth_rx *rx)
{
    uint32_t start = now_ticks();

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
            uint32_t now = now_ticks();
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
