/*
 * Unit tests for net/ether.c: the frames the NIC fast path sends and the
 * checks on what it receives.  Checksums are verified against a plain
 * big-endian one's-complement sum written here (RFC 1071), not against
 * the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/ether.h"
#include "tests/unit/net_fixture.h"



static struct eth_self self(void)
{
    struct eth_self s;
    memcpy(s.mac, our_mac, 6);
    s.ip = ip4(10, 0, 2, 15);
    return s;
}

/** RFC 1071, the obvious way: 16-bit big-endian words, end-around carry. */
static uint16_t oracle_sum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)sum;
}

/** The UDP checksum field the oracle computes for the IPv4 frame @f. */
static uint16_t oracle_udp(const uint8_t *f)
{
    const uint8_t *ip = f + 14;
    size_t hl = (size_t)(ip[0] & 15) * 4;
    const uint8_t *udp = ip + hl;
    size_t ulen = (size_t)(udp[4] << 8 | udp[5]);
    uint8_t seg[2048];
    uint8_t ph[12];

    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = 17;
    ph[10] = (uint8_t)(ulen >> 8);
    ph[11] = (uint8_t)ulen;
    memcpy(seg, udp, ulen);
    seg[6] = seg[7] = 0;
    uint16_t c = (uint16_t)~oracle_sum(seg, ulen, oracle_sum(ph, 12, 0));
    return c ? c : 0xFFFF;
}

/** A UDP frame from the server to us, built by hand (not by the code). */
static size_t server_frame(uint8_t *f, const uint8_t *payload, size_t len,
                           int ihl_words)
{
    size_t hl = (size_t)ihl_words * 4;
    uint8_t *ip = f + 14, *udp = ip + hl;
    size_t total = hl + 8 + len;

    memset(f, 0, 14 + total);
    memcpy(f, our_mac, 6);
    memcpy(f + 6, srv_mac, 6);
    f[12] = 0x08;
    ip[0] = (uint8_t)(0x40 | ihl_words);
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[8] = 64;
    ip[9] = 17;
    uint32_t src = ip4(10, 0, 2, 2), dst = ip4(10, 0, 2, 15);
    memcpy(ip + 12, &src, 4);
    memcpy(ip + 16, &dst, 4);
    for (size_t i = 20; i < hl; i++)
        ip[i] = 1; /* NOP options */
    uint16_t c = (uint16_t)~oracle_sum(ip, hl, 0);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    udp[0] = 0x00; udp[1] = 69;           /* from port 69 */
    udp[2] = 0xC0; udp[3] = 0x01;         /* to 49153 */
    udp[4] = (uint8_t)((len + 8) >> 8);
    udp[5] = (uint8_t)(len + 8);
    memcpy(udp + 8, payload, len);
    c = oracle_udp(f);
    udp[6] = (uint8_t)(c >> 8);
    udp[7] = (uint8_t)c;
    return 14 + total;
}

/** What Pulsar sends: headers right, both checksums right (the oracle's). */
static void test_udp_build(void **state)
{
    (void)state;
    struct eth_self s = self();
    uint8_t f[ETH_FRAME_MAX];
    const char *msg = "\0\4\0\1"; /* an ACK of block 1: 4 bytes */

    for (size_t len = 0; len <= 9; len++) {
        memcpy(f + ETH_UDP_HLEN, "0123456789", len);
        if (len == 4)
            memcpy(f + ETH_UDP_HLEN, msg, 4);
        size_t n = eth_udp_build(f, &s, srv_mac, ip4(10, 0, 2, 2), 49153,
                                 69, len, 0x1234);
        assert_int_equal(n, ETH_UDP_HLEN + len);
        assert_memory_equal(f, srv_mac, 6);
        assert_memory_equal(f + 6, our_mac, 6);
        assert_int_equal(f[12] << 8 | f[13], 0x0800);
        const uint8_t *ip = f + 14;
        assert_int_equal(ip[0], 0x45);
        assert_int_equal(ip[2] << 8 | ip[3], 28 + len);
        assert_int_equal(ip[4] << 8 | ip[5], 0x1234);
        assert_int_equal(ip[6], 0x40); /* DF, no fragment offset */
        assert_int_equal(ip[9], 17);
        assert_int_equal(oracle_sum(ip, 20, 0), 0xFFFF);
        assert_int_equal(ip[20] << 8 | ip[21], 49153);
        assert_int_equal(ip[22] << 8 | ip[23], 69);
        assert_int_equal(ip[24] << 8 | ip[25], 8 + len);
        assert_int_equal(ip[26] << 8 | ip[27], oracle_udp(f));
    }
    assert_int_equal(eth_udp_build(f, &s, srv_mac, 1, 1, 1,
                                   ETH_FRAME_MAX - ETH_UDP_HLEN + 1, 0), 0);
}

/** A server's frame is accepted and its payload found, options or not. */
static void test_parse_udp(void **state)
{
    (void)state;
    struct eth_self s = self();
    struct eth_rx rx;
    uint8_t f[ETH_FRAME_MAX], payload[1432];

    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    for (int ihl = 5; ihl <= 6; ihl++) {
        size_t lens[] = { 0, 1, 4, 515, 1428, 1432 };
        for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
            size_t n = server_frame(f, payload, lens[k], ihl);
            assert_int_equal(eth_parse(f, n, &s, &rx), ETH_UDP);
            assert_int_equal(rx.kind, ETH_UDP);
            assert_int_equal(rx.peer_ip, ip4(10, 0, 2, 2));
            assert_memory_equal(rx.peer_mac, srv_mac, 6);
            assert_int_equal(rx.sport, 69);
            assert_int_equal(rx.dport, 49153);
            assert_int_equal(rx.len, lens[k]);
            assert_ptr_equal(rx.data, f + 14 + ihl * 4 + 8);
            if (lens[k])
                assert_memory_equal(rx.data, payload, lens[k]);
            /* Ethernet padding after the datagram is ignored. */
            memset(f + n, 0xEE, 10);
            assert_int_equal(eth_parse(f, n + 10, &s, &rx), ETH_UDP);
            assert_int_equal(rx.len, lens[k]);
        }
    }
    /* A zero UDP checksum means "none" and is accepted. */
    size_t n = server_frame(f, payload, 100, 5);
    f[14 + 20 + 6] = f[14 + 20 + 7] = 0;
    assert_int_equal(eth_parse(f, n, &s, &rx), ETH_UDP);
    /* Broadcast destination MAC, still to our IP. */
    n = server_frame(f, payload, 100, 5);
    memset(f, 0xFF, 6);
    assert_int_equal(eth_parse(f, n, &s, &rx), ETH_UDP);
}

/** Round trip: what Pulsar builds, Pulsar (as the peer) accepts. */
static void test_round_trip(void **state)
{
    (void)state;
    struct eth_self a = self(), b;
    struct eth_rx rx;
    uint8_t f[ETH_FRAME_MAX];

    memcpy(b.mac, srv_mac, 6);
    b.ip = ip4(10, 0, 2, 2);
    for (size_t len = 0; len < 1473; len += 97) {
        for (size_t i = 0; i < len; i++)
            f[ETH_UDP_HLEN + i] = (uint8_t)(i ^ len);
        size_t n = eth_udp_build(f, &a, srv_mac, b.ip, 4000, 69, len, 7);
        assert_int_equal(eth_parse(f, n, &b, &rx), ETH_UDP);
        assert_int_equal(rx.len, len);
        assert_int_equal(rx.peer_ip, a.ip);
        assert_int_equal(rx.sport, 4000);
    }
}

/** Each broken or foreign frame is refused, none read out of bounds. */
static void test_parse_refuses(void **state)
{
    (void)state;
    struct eth_self s = self();
    struct eth_rx rx;
    uint8_t good[ETH_FRAME_MAX], f[ETH_FRAME_MAX], payload[64] = { 1, 2 };
    size_t n = server_frame(good, payload, sizeof(payload), 5);
    uint8_t *ip = f + 14;

#define REFUSED(change)                                                  \
    do {                                                                 \
        memcpy(f, good, n);                                              \
        change;                                                          \
        assert_int_equal(eth_parse(f, n, &s, &rx), ETH_OTHER);           \
        assert_int_equal(rx.kind, ETH_OTHER);                            \
    } while (0)

    REFUSED(f[0] ^= 2);                  /* another MAC */
    REFUSED(f[13] = 0xDD);               /* IPv6 */
    REFUSED(ip[0] = 0x65);               /* IP version 6 */
    REFUSED(ip[0] = 0x44);               /* IHL 4 */
    REFUSED(ip[0] = 0x4F);               /* options past the datagram */
    REFUSED(ip[3]++);                    /* checksum now wrong */
    REFUSED(ip[10] ^= 1);                /* header checksum */
    REFUSED(ip[19] ^= 1);                /* to another IP */
    REFUSED(ip[9] = 6);                  /* TCP */
    REFUSED(ip[40] ^= 1);                /* payload: UDP checksum */
    REFUSED(ip[26] ^= 1);                /* the UDP checksum itself */
    /* Fragments (MF, or an offset), checksums fixed so only that is off. */
    for (int frag = 0; frag < 2; frag++) {
        memcpy(f, good, n);
        if (frag)
            ip[7] = 1;
        else
            ip[6] |= 0x20;
        ip[10] = ip[11] = 0;
        uint16_t c = (uint16_t)~oracle_sum(ip, 20, 0);
        ip[10] = (uint8_t)(c >> 8);
        ip[11] = (uint8_t)c;
        assert_int_equal(eth_parse(f, n, &s, &rx), ETH_OTHER);
    }
    /* Lengths: total past the frame, UDP length past the datagram or
     * under its header; every truncation of the frame. */
    memcpy(f, good, n);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(eth_parse(f, cut, &s, &rx), ETH_OTHER);
    assert_int_equal(eth_parse(f, ETH_FRAME_MAX + 1, &s, &rx), ETH_OTHER);
    REFUSED(ip[24] = 0x10);              /* UDP length > datagram */
    REFUSED((ip[24] = 0, ip[25] = 7));   /* UDP length < 8 */
    /* A host that has no IP yet accepts nothing. */
    struct eth_self none = s;
    none.ip = 0;
    memcpy(f, good, n);
    assert_int_equal(eth_parse(f, n, &none, &rx), ETH_OTHER);
#undef REFUSED
}

/** The first fragment of a datagram too big for a frame is reported
 * (with the whole payload's size), later fragments are not. */
static void test_fragment(void **state)
{
    (void)state;
    struct eth_self s = self();
    struct eth_rx rx;
    uint8_t f[ETH_FRAME_MAX], payload[1472] = { 0 };
    size_t n = server_frame(f, payload, sizeof(payload), 5);
    uint8_t *ip = f + 14;

    /* As a server's stack splits 1980 data bytes + 4: UDP length says
     * 1992, this fragment carries the first 1480 bytes after IP. */
    ip[6] = 0x20; /* MF, offset 0 */
    ip[24] = (uint8_t)(1992 >> 8);
    ip[25] = (uint8_t)(1992 & 0xFF);
    ip[10] = ip[11] = 0;
    uint16_t c = (uint16_t)~oracle_sum(ip, 20, 0);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    assert_int_equal(eth_parse(f, n, &s, &rx), ETH_UDP_FRAGMENT);
    assert_int_equal(rx.len, 1984);
    assert_null(rx.data);
    assert_int_equal(rx.sport, 69);
    assert_int_equal(rx.dport, 49153);
    assert_int_equal(rx.peer_ip, ip4(10, 0, 2, 2));
    /* A later fragment (offset 185 * 8): nothing to say. */
    ip[6] = 0x00;
    ip[7] = 185;
    ip[10] = ip[11] = 0;
    c = (uint16_t)~oracle_sum(ip, 20, 0);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    assert_int_equal(eth_parse(f, n, &s, &rx), ETH_OTHER);
}

/** ARP: our request and reply, what we take from others' frames. */
static void test_arp(void **state)
{
    (void)state;
    struct eth_self s = self(), srv;
    struct eth_rx rx;
    uint8_t f[64];

    memcpy(srv.mac, srv_mac, 6);
    srv.ip = ip4(10, 0, 2, 2);
    /* Our request: broadcast, asks for the server. */
    assert_int_equal(eth_arp_build(f, &s, NULL, srv.ip), ETH_ARP_LEN);
    static const uint8_t req_head[] = {
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x52, 0x54, 0x00, 0x12, 0x34,
        0x56, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15,
        0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
    };
    assert_memory_equal(f, req_head, sizeof(req_head));
    /* The server sees a request for its address... */
    assert_int_equal(eth_parse(f, ETH_ARP_LEN, &srv, &rx), ETH_ARP_REQUEST);
    assert_int_equal(rx.peer_ip, s.ip);
    assert_memory_equal(rx.peer_mac, our_mac, 6);
    /* ...and we do not (it is not for our address). */
    assert_int_equal(eth_parse(f, ETH_ARP_LEN, &s, &rx), ETH_OTHER);
    /* Its reply, padded to 60 bytes as on the wire. */
    memset(f, 0, sizeof(f));
    assert_int_equal(eth_arp_build(f, &srv, our_mac, s.ip), ETH_ARP_LEN);
    assert_int_equal(f[21], 2);
    assert_int_equal(eth_parse(f, 60, &s, &rx), ETH_ARP_REPLY);
    assert_int_equal(rx.peer_ip, srv.ip);
    assert_memory_equal(rx.peer_mac, srv_mac, 6);
    /* Not Ethernet/IPv4 ARP, or cut short: refused. */
    f[15] = 6;
    assert_int_equal(eth_parse(f, 60, &s, &rx), ETH_OTHER);
    f[15] = 1;
    assert_int_equal(eth_parse(f, 41, &s, &rx), ETH_OTHER);
}

/** The next hop: the server on our subnet, else the router if known. */
static void test_next_hop(void **state)
{
    (void)state;
    uint32_t me = ip4(10, 0, 2, 15), mask = ip4(255, 255, 255, 0);
    uint32_t gw = ip4(10, 0, 2, 1);
    assert_int_equal(eth_next_hop(me, mask, gw, ip4(10, 0, 2, 2)),
                     ip4(10, 0, 2, 2));
    assert_int_equal(eth_next_hop(me, mask, gw, ip4(10, 0, 3, 2)), gw);
    assert_int_equal(eth_next_hop(me, 0, gw, ip4(10, 0, 3, 2)),
                     ip4(10, 0, 3, 2));
    assert_int_equal(eth_next_hop(me, mask, 0, ip4(10, 0, 3, 2)),
                     ip4(10, 0, 3, 2));
}

/** Random frames (and random bytes behind valid headers) never crash. */
static void test_random(void **state)
{
    (void)state;
    struct eth_self s = self();
    struct eth_rx rx;
    uint8_t payload[8] = { 0 };
    uint8_t *f = malloc(ETH_FRAME_MAX);
    srand(7);
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)rand() % (ETH_FRAME_MAX + 1);
        if (i & 1) {
            server_frame(f, payload, 8, 5);
            for (size_t k = 42; k < n; k++)
                f[k] = (uint8_t)rand();
            f[14 + (rand() % 28)] = (uint8_t)rand();
        } else {
            for (size_t k = 0; k < n; k++)
                f[k] = (uint8_t)rand();
        }
        enum eth_kind kind = eth_parse(f, n, &s, &rx);
        if (kind == ETH_UDP)
            assert_true(rx.data >= f && rx.data + rx.len <= f + n);
        if (kind == ETH_UDP_FRAGMENT)
            assert_true(rx.data == NULL &&
                        rx.len + 8 > (size_t)(f[16] << 8 | f[17]) -
                                         (size_t)(f[14] & 15) * 4);
    }
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_udp_build),
        cmocka_unit_test(test_parse_udp),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse_refuses),
        cmocka_unit_test(test_fragment),
        cmocka_unit_test(test_arp),
        cmocka_unit_test(test_next_hop),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
