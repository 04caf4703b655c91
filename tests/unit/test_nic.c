/*
 * Unit tests for boot/bios/nic.c, the NIC fast path, against a model of
 * the 82540EM's receive and transmit registers and legacy descriptor rings
 * (as QEMU's e1000 behaves: a frame lands at the head whenever head !=
 * tail, the head moves on; a frame with no free slot waits and lands when
 * the tail is written; transmit runs when the tail is written).
 *
 * The race tests let frames arrive just before register access k (after
 * whatever nic.c did in memory since access k - 1), for every k
 * of an acquire / receive / release sequence, one frame or a burst, and
 * check that neither ring is corrupted: no frame lands in a descriptor
 * software owns (Pulsar's own once it gives its ring back: what is
 * in it then is dropped), every frame lands once, the UNDI finds exactly the
 * frames that landed in its ring in order from its old head, its
 * registers come back, and it receives normally afterwards.  The gate
 * tests check that the fast path is taken only on QEMU's e1000 under
 * QEMU's TCG or KVM, with no register touched otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "boot/bios/nic.h"
#include "boot/bios/pxe.h"
#include "lib/errno.h"
#include "net/dhcp.h"
#include "net/ether.h"
#include "tests/unit/nic_model.h"

/* nic.c's console lines (-Dprintf=nic_printf): the last one is kept. */
static char said[256];

int nic_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(said, sizeof(said), fmt, ap);
    va_end(ap);
    return n;
}

uint16_t pxe_last_status;
uint8_t pxe_bounce[PXE_BOUNCE_SIZE];

#define R_STATUS 0x0008
#define R_IMS 0x00D0
#define R_IMC 0x00D8
#define R_RCTL 0x0100
#define R_TCTL 0x0400
#define R_RDBAL 0x2800
#define R_RDBAH 0x2804
#define R_RDLEN 0x2808
#define R_RDH 0x2810
#define R_RDT 0x2818
#define R_TDBAL 0x3800
#define R_TDBAH 0x3804
#define R_TDLEN 0x3808
#define R_TDH 0x3810
#define R_TDT 0x3818
#define RCTL_EN 0x2u
#define RCTL_SECRC (1u << 26)
#define TCTL_EN 0x2u
#define TCTL_PSP 0x8u

#define UNDI_N 16   /* iPXE-like ring sizes */
#define UNDI_HEAD 5
#define UNDI_TAIL 2 /* slots 2, 3, 4 are the UNDI software's */
#define UNDI_TX_N 8
#define MAX_FRAMES 256
#define SERVER_PORT 69
#define OUR_PORT 0xC123

struct desc {
    uint32_t addr, addr_hi;
    uint16_t len, csum;
    uint8_t status, errors;
    uint16_t special;
};

/* ---------------------------------------------------------- the model */

static uint8_t *arena;
static size_t arena_used;
#define ARENA_SIZE (1u << 20)

void *model_malloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (arena_used + n > ARENA_SIZE)
        return NULL;
    void *p = arena + arena_used;
    arena_used += n;
    return p;
}

static void *ptr(uint32_t a)
{
    return (void *)(uintptr_t)a;
}

static uint32_t addr(const void *p)
{
    return (uint32_t)(uintptr_t)p;
}

static struct {
    uint32_t reg[0x4000 / 4];
    /* Where frame i landed: its ring's base and slot (base 0: waiting). */
    uint32_t landed_base[MAX_FRAMES];
    int landed_slot[MAX_FRAMES];
    int nframes, waiting[MAX_FRAMES], nwaiting;
    unsigned accesses;    /* MMIO accesses since arming */
    unsigned inject_after; /* deliver a burst after this access */
    int burst;
    int armed;
    int releasing; /* in nic_release */
    int violations;
    char why[160];
    uint32_t ticks;
    /* cpuid and PCI answers */
    char hv_vendor[13];
    int hv_bit;
    uint32_t subsys;
    /* transmitted frames */
    unsigned tx_count, tx_short;
    uint8_t last_tx[2048];
    unsigned last_tx_len;
    int answer_arp;
} m;

static struct desc *undi_rx, *undi_tx;
static uint8_t *undi_buf;
static struct eth_self server, client;

static void violation(const char *fmt, ...)
{
    va_list ap;
    if (m.violations++)
        return;
    va_start(ap, fmt);
    vsnprintf(m.why, sizeof(m.why), fmt, ap);
    va_end(ap);
}

/** Is @a a receive buffer of some ring (the UNDI's or Pulsar's arena)? */
static int known_buffer(uint32_t a)
{
    if (a >= addr(undi_buf) && a < addr(undi_buf) + UNDI_N * 2048)
        return (a - addr(undi_buf)) % 2048 == 0;
    return a >= addr(arena) && a < addr(arena) + ARENA_SIZE &&
           a != addr(undi_buf);
}

/** The frame for serial @i: a UDP datagram from the server to us. */
static size_t make_frame(int i, uint8_t *f)
{
    uint8_t payload[8] = { 'P', 'L', 'S', 'R', (uint8_t)i, (uint8_t)(i >> 8),
                           0xA5, 0x5A };
    memcpy(f + ETH_UDP_HLEN, payload, sizeof(payload));
    return eth_udp_build(f, &server, client.mac, client.ip, SERVER_PORT,
                         OUR_PORT, sizeof(payload), (uint16_t)i);
}

/** Land frame @i at the head if a slot is free; 0 if none is. */
static int land(int i)
{
    uint32_t n = m.reg[R_RDLEN / 4] / 16, h = m.reg[R_RDH / 4];
    if (!(m.reg[R_RCTL / 4] & RCTL_EN) || !n || h == m.reg[R_RDT / 4])
        return 0;
    if (h >= n) {
        violation("frame %d: head %u past a ring of %u", i, h, n);
        return 0;
    }
    struct desc *d = (struct desc *)ptr(m.reg[R_RDBAL / 4]) + h;
    /* Once Pulsar gives its ring back, what is in it is dropped. */
    int abandoned = m.releasing && m.reg[R_RDBAL / 4] != addr(undi_rx);
    if ((d->status & 1) && !abandoned)
        violation("frame %d overwrites slot %u of ring %08x, which still "
                  "holds an unread frame", i, h, m.reg[R_RDBAL / 4]);
    if (!known_buffer(d->addr) || d->addr_hi)
        violation("frame %d: slot %u of ring %08x has buffer %08x", i, h,
                  m.reg[R_RDBAL / 4], d->addr);
    else {
        size_t len = make_frame(i, ptr(d->addr));
        if (!(m.reg[R_RCTL / 4] & RCTL_SECRC)) {
            memset((uint8_t *)ptr(d->addr) + len, 0xEE, 4); /* an FCS */
            len += 4;
        }
        d->len = (uint16_t)len;
    }
    d->status = 1 | 2; /* DD, EOP */
    d->errors = 0;
    m.landed_base[i] = m.reg[R_RDBAL / 4];
    m.landed_slot[i] = (int)h;
    m.reg[R_RDH / 4] = (h + 1) % n;
    return 1;
}

/** Land waiting frames while slots are free (QEMU flushes its queue). */
static void flush(void)
{
    int k = 0;
    while (k < m.nwaiting && land(m.waiting[k]))
        k++;
    memmove(m.waiting, m.waiting + k, (m.nwaiting - k) * sizeof(int));
    m.nwaiting -= k;
}

static void arrive(int count)
{
    for (int c = 0; c < count && m.nframes < MAX_FRAMES; c++)
        m.waiting[m.nwaiting++] = m.nframes++;
    flush();
}

static void tick_access(void)
{
    if (m.armed && m.accesses++ == m.inject_after)
        arrive(m.burst);
}

static void transmit(void)
{
    uint32_t n = m.reg[R_TDLEN / 4] / 16;
    if (!(m.reg[R_TCTL / 4] & TCTL_EN) || !n)
        return;
    while (m.reg[R_TDH / 4] != m.reg[R_TDT / 4]) {
        struct desc *d = (struct desc *)ptr(m.reg[R_TDBAL / 4]) +
                         m.reg[R_TDH / 4];
        unsigned len = d->len;
        if (len < 60 && !(m.reg[R_TCTL / 4] & TCTL_PSP))
            m.tx_short++;
        memcpy(m.last_tx, ptr(d->addr), len);
        m.last_tx_len = len;
        m.tx_count++;
        d->status |= 1;
        m.reg[R_TDH / 4] = (m.reg[R_TDH / 4] + 1) % n;
        if (m.answer_arp && len >= ETH_ARP_LEN && m.last_tx[12] == 0x08 &&
            m.last_tx[13] == 0x06) {
            /* The server answers an ARP request at once. */
            uint32_t base = m.reg[R_RDBAL / 4];
            uint32_t h = m.reg[R_RDH / 4];
            if (h != m.reg[R_RDT / 4]) {
                struct desc *r = (struct desc *)ptr(base) + h;
                r->len = (uint16_t)eth_arp_build(ptr(r->addr), &server,
                                                 client.mac, client.ip);
                r->status = 3;
                m.reg[R_RDH / 4] = (h + 1) % (m.reg[R_RDLEN / 4] / 16);
            }
        }
    }
}

uint32_t model_rd(unsigned reg)
{
    tick_access();
    uint32_t v = m.reg[reg / 4];
    if (getenv("NIC_TRACE") && m.armed)
        fprintf(stderr, "%u rd %04x = %x\n", m.accesses, reg, v);
    return v;
}

void model_wr(unsigned reg, uint32_t v)
{
    tick_access();
    if (getenv("NIC_TRACE") && m.armed)
        fprintf(stderr, "%u wr %04x <- %x (head %u)\n", m.accesses, reg, v,
                m.reg[R_RDH / 4]);
    switch (reg) {
    case R_IMS:
        m.reg[R_IMS / 4] |= v;
        break;
    case R_IMC:
        m.reg[R_IMS / 4] &= ~v;
        break;
    case R_RDLEN:
    case R_TDLEN:
        m.reg[reg / 4] = v & 0xFFF80;
        break;
    default:
        m.reg[reg / 4] = v;
    }
    if (reg == R_RDT)
        flush();
    if (reg == R_TDT || reg == R_TCTL)
        transmit();
}

uint32_t model_pci_rd(uint32_t a)
{
    switch (a & 0xFF) {
    case 0x04:
        return 0x00100007; /* memory, I/O, bus master */
    case 0x10:
        return 0xFEB80000;
    case 0x2C:
        return m.subsys;
    }
    return 0xFFFFFFFF;
}

void model_pci_wr(uint32_t a, uint32_t v)
{
    (void)a;
    (void)v;
}

void model_cpuid(uint32_t leaf, uint32_t r[4])
{
    memset(r, 0, 16);
    if (leaf == 1)
        r[2] = m.hv_bit ? 1u << 31 : 0;
    if (leaf == 0x40000000 && m.hv_bit)
        memcpy(&r[1], m.hv_vendor, 12);
}

void model_yield(void)
{
    m.ticks++;
}

uint32_t model_ticks(void)
{
    return m.ticks;
}

int pxe_call(uint16_t opcode, void *params, size_t size)
{
    uint8_t *p = params;
    if (opcode != 0x0012 || size < 17)
        return -PE_NOPXE;
    memset(p, 0, size);
    p[2] = 2;            /* PCI */
    p[3] = 0x86;         /* 8086 */
    p[4] = 0x80;
    p[5] = 0x0E;         /* 100E */
    p[6] = 0x10;
    p[11] = 3 << 3;      /* 00:03.0 */
    return 0;
}

/* ------------------------------------------------------------ scenario */

static void setup_machine(uint32_t rctl_extra, const char *vendor,
                          uint32_t subsys)
{
    memset(&m, 0, sizeof(m));
    arena_used = 0;
    memset(arena, 0x77, ARENA_SIZE); /* the heap is not zeroed */
    m.hv_bit = vendor != NULL;
    if (vendor)
        memcpy(m.hv_vendor, vendor, 12);
    m.subsys = subsys;
    /* The UNDI's rings, outside Pulsar's heap. */
    memset(undi_rx, 0, UNDI_N * sizeof(*undi_rx));
    for (int i = 0; i < UNDI_N; i++)
        undi_rx[i].addr = addr(undi_buf + i * 2048);
    /* Slots 3 and 4 hold frames the UNDI has not read yet. */
    undi_rx[3].status = undi_rx[4].status = 3;
    undi_rx[3].len = undi_rx[4].len = 1234;
    memset(undi_tx, 0, UNDI_TX_N * sizeof(*undi_tx));
    m.reg[R_STATUS / 4] = 2;
    m.reg[R_RCTL / 4] = RCTL_EN | rctl_extra;
    m.reg[R_TCTL / 4] = TCTL_EN | TCTL_PSP;
    m.reg[R_IMS / 4] = 0x9D;
    m.reg[R_RDBAL / 4] = addr(undi_rx);
    m.reg[R_RDLEN / 4] = UNDI_N * 16;
    m.reg[R_RDH / 4] = UNDI_HEAD;
    m.reg[R_RDT / 4] = UNDI_TAIL;
    m.reg[R_TDBAL / 4] = addr(undi_tx);
    m.reg[R_TDLEN / 4] = UNDI_TX_N * 16;
    m.reg[R_TDH / 4] = m.reg[R_TDT / 4] = 3;

    struct dhcp_facts f;
    memset(&f, 0, sizeof(f));
    memcpy(f.mac, client.mac, 6);
    f.mac_len = 6;
    f.client_ip = client.ip;
    f.netmask = 0x00FFFFFF;
    nic_config(&f);
}

/** Take everything Pulsar's ring offers; returns how many frames. */
static int drain(int *got, int max)
{
    int n = 0;
    const uint8_t *data;
    size_t len;
    uint16_t sport;
    while (nic_recv_udp(server.ip, OUR_PORT, 1, &data, &len, &sport) == 1) {
        assert_int_equal(len, 8);
        assert_memory_equal(data, "PLSR", 4);
        if (n < max)
            got[n] = data[4] | data[5] << 8;
        n++;
    }
    return n;
}

/**
 * One acquire / receive / release with @burst frames arriving just before
 * MMIO access @k (k past the end: none), and the checks.  Returns the number
 * of accesses the sequence made.
 */
static unsigned scenario(unsigned k, int burst, uint32_t rctl_extra)
{
    int got[MAX_FRAMES];

    setup_machine(rctl_extra, "TCGTCGTCGTCG", 0x11001AF4);
    m.armed = 1;
    m.inject_after = k;
    m.burst = burst;
    assert_int_equal(nic_acquire(), 0);
    int n1 = drain(got, MAX_FRAMES);
    arrive(2); /* two frames mid-transfer: Pulsar's */
    int n2 = drain(got + n1, MAX_FRAMES - n1);
    assert_int_equal(n2 >= 2, 1);
    m.releasing = 1;
    nic_release();
    unsigned used = m.accesses;
    m.armed = 0;

    if (m.violations)
        fail_msg("access %u, burst %d: %s", k, burst, m.why);
    /* Registers restored, the head past what landed in the UNDI's ring. */
    assert_int_equal(m.reg[R_RDBAL / 4], addr(undi_rx));
    assert_int_equal(m.reg[R_RDLEN / 4], UNDI_N * 16);
    assert_int_equal(m.reg[R_RDT / 4], UNDI_TAIL);
    assert_int_equal(m.reg[R_TDBAL / 4], addr(undi_tx));
    assert_int_equal(m.reg[R_TDLEN / 4], UNDI_TX_N * 16);
    assert_int_equal(m.reg[R_TDH / 4], 3);
    assert_int_equal(m.reg[R_TDT / 4], 3);
    assert_int_equal(m.reg[R_IMS / 4], 0x9D);
    assert_int_equal(m.reg[R_RCTL / 4], RCTL_EN | rctl_extra);

    /* Frames that landed in the UNDI's ring: at UNDI_HEAD, UNDI_HEAD + 1,
     * ... in arrival order, and the head just past them. */
    unsigned want = UNDI_HEAD;
    for (int i = 0; i < m.nframes; i++) {
        if (m.landed_base[i] != addr(undi_rx))
            continue;
        if ((unsigned)m.landed_slot[i] != want)
            fail_msg("access %u, burst %d: frame %d in UNDI slot %d, not "
                     "%u", k, burst, i, m.landed_slot[i], want);
        want = (want + 1) % UNDI_N;
    }
    assert_int_equal(m.reg[R_RDH / 4], want);
    /* Every other UNDI slot as the UNDI left it. */
    for (unsigned s = want; s != UNDI_TAIL; s = (s + 1) % UNDI_N)
        assert_int_equal(undi_rx[s].status, 0);
    assert_int_equal(undi_rx[3].status, 3);
    assert_int_equal(undi_rx[3].len, 1234);
    assert_int_equal(undi_rx[4].len, 1234);
    for (int i = 0; i < UNDI_N; i++)
        assert_int_equal(undi_rx[i].addr, addr(undi_buf + i * 2048));

    /* Every frame landed exactly once (a second landing would have
     * overwritten a full slot), or waits for a free UNDI slot; Pulsar
     * read the ones that landed in its ring after it took over, each
     * once, in order. */
    int pulsar = 0;
    for (int i = 0; i < m.nframes; i++)
        if (m.landed_base[i] && m.landed_base[i] != addr(undi_rx))
            pulsar++;
    assert_int_equal(pulsar + (int)((want + UNDI_N - UNDI_HEAD) % UNDI_N) +
                         m.nwaiting, m.nframes);
    for (int i = 1; i < n1 + n2; i++)
        assert_true(got[i] > got[i - 1]);
    assert_true(n1 + n2 <= pulsar);

    /* The UNDI goes on receiving where it expects (when its ring has a
     * free slot left). */
    if (!m.nwaiting && want != UNDI_TAIL) {
        int before = m.nframes;
        arrive(1);
        assert_int_equal(m.landed_base[before], addr(undi_rx));
        assert_int_equal(m.landed_slot[before], want);
    }
    return used;
}

static void race_every_access(int burst, uint32_t rctl_extra)
{
    unsigned total = scenario(~0u, 0, rctl_extra);
    assert_true(total > 20);
    for (unsigned k = 0; k <= total; k++)
        scenario(k, burst, rctl_extra);
}

static void test_race_one_frame(void **state)
{
    (void)state;
    race_every_access(1, RCTL_SECRC);
}

static void test_race_three_frames(void **state)
{
    (void)state;
    race_every_access(3, RCTL_SECRC);
}

static void test_race_burst_fills_rings(void **state)
{
    (void)state;
    race_every_access(40, RCTL_SECRC);
}

static void test_race_fcs_kept(void **state)
{
    (void)state;
    race_every_access(1, 0); /* SECRC off: the FCS is in every frame */
}

/** A full-size frame with the FCS left in (SECRC off) is received whole. */
static void test_fcs_stripped(void **state)
{
    (void)state;
    setup_machine(0, "TCGTCGTCGTCG", 0x11001AF4);
    assert_int_equal(nic_acquire(), 0);
    arrive(1);
    const uint8_t *data;
    size_t len;
    uint16_t sport;
    assert_int_equal(nic_recv_udp(server.ip, OUR_PORT, 1, &data, &len,
                                  &sport), 1);
    assert_int_equal(len, 8);
    nic_release();
}

/** Frames go out padded to 60 bytes, with or without TCTL.PSP. */
static void test_tx_padded(void **state)
{
    (void)state;
    for (int psp = 0; psp < 2; psp++) {
        setup_machine(RCTL_SECRC, "KVMKVMKVM\0\0\0", 0x11001AF4);
        if (!psp)
            m.reg[R_TCTL / 4] &= ~TCTL_PSP;
        m.answer_arp = 1;
        assert_int_equal(nic_acquire(), 0);
        assert_int_equal(nic_send_udp(server.ip, OUR_PORT, SERVER_PORT,
                                      "\0\4\0\1", 4), 0);
        nic_release();
        assert_int_equal(m.tx_count, 2); /* the ARP request, the ACK */
        assert_int_equal(m.tx_short, 0);
        assert_int_equal(m.last_tx_len, 60);
        for (unsigned i = ETH_UDP_HLEN + 4; i < 60; i++)
            assert_int_equal(m.last_tx[i], 0);
    }
}

/** Only QEMU's e1000 under TCG or KVM; elsewhere no register is touched. */
static void test_gate(void **state)
{
    static const struct {
        const char *vendor; /* NULL: no hypervisor bit */
        uint32_t subsys;
        int ok;
    } g[] = {
        { "TCGTCGTCGTCG", 0x11001AF4, 1 },
        { "KVMKVMKVM\0\0\0", 0x11001AF4, 1 },
        { "VBoxVBoxVBox", 0x11001AF4, 0 },
        { "VMwareVMware", 0x11001AF4, 0 },
        { "Microsoft Hv", 0x11001AF4, 0 },
        { NULL, 0x11001AF4, 0 },
        { "KVMKVMKVM\0\0\0", 0x001E8086, 0 }, /* a real card passed through */
        { "TCGTCGTCGTCG", 0x00000000, 0 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
        setup_machine(RCTL_SECRC, g[i].vendor, g[i].subsys);
        m.armed = 1;
        m.inject_after = ~0u;
        said[0] = 0;
        int rc = nic_acquire();
        assert_int_equal(rc, g[i].ok ? 0 : -PE_UNSUPP);
        assert_non_null(strstr(said, g[i].ok ? "pulsar: fast path: driving "
                                             : "pulsar: fast path off: "));
        if (!g[i].ok) {
            assert_int_equal(m.accesses, 0);
            assert_int_equal(nic_acquire(), -PE_UNSUPP); /* remembered */
            assert_int_equal(m.accesses, 0);
        } else {
            nic_release();
            nic_report();
            assert_string_equal(said, "pulsar: fast path: 1 of 1 "
                                "transfers, 0 frames in, 0 out\n");
        }
    }
}

int main(void)
{
    arena = mmap(NULL, ARENA_SIZE + UNDI_N * 2048 + 4096, PROT_READ |
                 PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (arena == MAP_FAILED)
        return 1;
    undi_buf = arena + ARENA_SIZE;
    undi_rx = (struct desc *)(undi_buf + UNDI_N * 2048);
    undi_tx = undi_rx + UNDI_N;
    memcpy(client.mac, "\x52\x54\x00\x12\x34\x56", 6);
    client.ip = 0x0F02000A; /* 10.0.2.15 */
    memcpy(server.mac, "\x52\x55\x0a\x00\x02\x02", 6);
    server.ip = 0x0202000A; /* 10.0.2.2 */

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate),
        cmocka_unit_test(test_tx_padded),
        cmocka_unit_test(test_fcs_stripped),
        cmocka_unit_test(test_race_one_frame),
        cmocka_unit_test(test_race_three_frames),
        cmocka_unit_test(test_race_burst_fills_rings),
        cmocka_unit_test(test_race_fcs_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
