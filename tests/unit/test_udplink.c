/*
 * Unit tests for net/udplink.c: UDP over a raw Ethernet link as the UEFI
 * face runs it over SNP.  A fake link queues the frames "the wire" brings
 * (built with net/ether.c, tested on its own) and records what is sent;
 * its clock moves 1 ms per poll.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "net/udplink.h"
#include "tests/unit/net_fixture.h"

static const uint8_t gw_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x01 };

#define MAXQ 8

/** The fake wire: frames to hand out, frames sent, the clock. */
static struct wire {
    uint8_t in[MAXQ][ETH_FRAME_MAX];
    size_t in_len[MAXQ];
    unsigned in_n, in_next;
    uint8_t out[MAXQ][ETH_FRAME_MAX];
    size_t out_len[MAXQ];
    unsigned out_n;
    uint32_t now;
    /* Answer an ARP request for this IP with this MAC (0: stay silent). */
    uint32_t arp_ip;
    const uint8_t *arp_mac;
} w;

static void queue(const uint8_t *f, size_t len)
{
    assert_true(w.in_n < MAXQ);
    memcpy(w.in[w.in_n], f, len);
    w.in_len[w.in_n++] = len;
}

/** An ARP reply from @mac/@ip to us. */
static void queue_arp_reply(const uint8_t *mac, uint32_t ip)
{
    struct eth_self them;
    struct eth_self us;
    uint8_t f[ETH_FRAME_MAX];

    memcpy(them.mac, mac, 6);
    them.ip = ip;
    memcpy(us.mac, our_mac, 6);
    us.ip = ip4(10, 0, 2, 15);
    queue(f, eth_arp_build(f, &them, us.mac, us.ip));
}

static int fake_tx(void *ctx, const uint8_t *f, size_t len)
{
    (void)ctx;
    assert_true(len >= 60);
    assert_true(w.out_n < MAXQ);
    memcpy(w.out[w.out_n], f, len);
    w.out_len[w.out_n++] = len;
    /* An ARP request (ethertype 0x0806, opcode 1) for arp_ip: answer. */
    if (w.arp_ip && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 &&
        memcmp(f + 38, &w.arp_ip, 4) == 0)
        queue_arp_reply(w.arp_mac, w.arp_ip);
    return 0;
}

static const uint8_t *fake_rx(void *ctx, size_t *len)
{
    (void)ctx;
    w.now++;
    if (w.in_next == w.in_n)
        return NULL;
    *len = w.in_len[w.in_next];
    return w.in[w.in_next++];
}

static uint32_t fake_now(void *ctx)
{
    (void)ctx;
    return w.now;
}

static const struct udp_link_ops ops = { fake_tx, fake_rx, fake_now };

static struct udp_link link_;

static int setup(void **state)
{
    (void)state;
    memset(&w, 0, sizeof(w));
    memset(&link_, 0, sizeof(link_));
    link_.ops = &ops;
    memcpy(link_.self.mac, our_mac, 6);
    link_.self.ip = ip4(10, 0, 2, 15);
    link_.netmask = ip4(255, 255, 255, 0);
    link_.router = ip4(10, 0, 2, 1);
    return 0;
}

/** A UDP datagram from @mac/@ip:@sport to us:@dport with @payload. */
static void queue_udp(const uint8_t *mac, uint32_t ip, uint16_t sport,
                      uint16_t dport, const char *payload)
{
    struct eth_self them;
    uint8_t f[ETH_FRAME_MAX];
    size_t n = strlen(payload);

    memcpy(them.mac, mac, 6);
    them.ip = ip;
    memcpy(f + ETH_UDP_HLEN, payload, n);
    queue(f, eth_udp_build(f, &them, our_mac, link_.self.ip, sport, dport, n,
                           7));
}

/** The frame sent @i-th, parsed as if the server received it. */
static enum eth_kind sent(unsigned i, uint32_t as_ip, const uint8_t *as_mac,
                          struct eth_rx *rx)
{
    struct eth_self them;

    memcpy(them.mac, as_mac, 6);
    them.ip = as_ip;
    assert_true(i < w.out_n);
    return eth_parse(w.out[i], w.out_len[i], &them, rx);
}

static void test_send_resolves_then_sends(void **state)
{
    uint32_t srv = ip4(10, 0, 2, 2);
    struct eth_rx rx;

    (void)state;
    w.arp_ip = srv;
    w.arp_mac = srv_mac;
    assert_int_equal(udp_link_send(&link_, srv, 49152, 69, "hello", 5), 0);
    assert_int_equal(w.out_n, 2);
    /* First an ARP request to everyone, then the datagram to its MAC. */
    assert_memory_equal(w.out[0], "\xff\xff\xff\xff\xff\xff", 6);
    assert_int_equal(sent(1, srv, srv_mac, &rx), ETH_UDP);
    assert_memory_equal(w.out[1], srv_mac, 6);
    assert_int_equal(rx.sport, 49152);
    assert_int_equal(rx.dport, 69);
    assert_int_equal(rx.len, 5);
    assert_memory_equal(rx.data, "hello", 5);
    /* The hop is kept: no second ARP. */
    assert_int_equal(udp_link_send(&link_, srv, 49152, 69, "again", 5), 0);
    assert_int_equal(w.out_n, 3);
}

static void test_send_off_subnet_via_router(void **state)
{
    uint32_t far = ip4(192, 168, 7, 9);
    struct eth_rx rx;

    (void)state;
    w.arp_ip = link_.router;
    w.arp_mac = gw_mac;
    assert_int_equal(udp_link_send(&link_, far, 49152, 69, "x", 1), 0);
    assert_int_equal(w.out_n, 2);
    assert_memory_equal(w.out[1], gw_mac, 6);
    assert_int_equal(sent(1, far, gw_mac, &rx), ETH_UDP);
}

static void test_send_no_arp_reply(void **state)
{
    (void)state;
    assert_int_equal(udp_link_send(&link_, ip4(10, 0, 2, 2), 49152, 69, "x",
                                   1), -PE_TIMEDOUT);
    assert_int_equal(w.out_n, UDP_LINK_ARP_TRIES);
    assert_true(w.now >= UDP_LINK_ARP_TRIES * UDP_LINK_ARP_MS);
}

static void test_send_too_long(void **state)
{
    static const uint8_t big[ETH_FRAME_MAX];

    (void)state;
    assert_int_equal(udp_link_send(&link_, ip4(10, 0, 2, 2), 1, 2, big,
                                   ETH_FRAME_MAX - ETH_UDP_HLEN + 1),
                     -PE_RANGE);
    assert_int_equal(w.out_n, 0);
}

static void test_recv_filters_and_answers_arp(void **state)
{
    uint32_t srv = ip4(10, 0, 2, 2);
    struct eth_self asker;
    uint8_t f[ETH_FRAME_MAX];
    const uint8_t *data;
    size_t len;
    uint16_t sport;
    struct eth_rx rx;

    (void)state;
    /* Someone asks who we are; a stranger and a wrong port send first. */
    memcpy(asker.mac, gw_mac, 6);
    asker.ip = ip4(10, 0, 2, 1);
    queue(f, eth_arp_build(f, &asker, NULL, link_.self.ip));
    queue_udp(gw_mac, ip4(10, 0, 2, 3), 5000, 49152, "stranger");
    queue_udp(srv_mac, srv, 5000, 49153, "wrong port");
    queue_udp(srv_mac, srv, 5000, 49152, "data");
    assert_int_equal(udp_link_recv(&link_, srv, 49152, 100, &data, &len,
                                   &sport), 1);
    assert_int_equal(len, 4);
    assert_memory_equal(data, "data", 4);
    assert_int_equal(sport, 5000);
    /* The ARP request was answered, to the asker. */
    assert_int_equal(w.out_n, 1);
    assert_int_equal(sent(0, asker.ip, gw_mac, &rx), ETH_ARP_REPLY);
    assert_memory_equal(rx.peer_mac, our_mac, 6);
    assert_true(rx.peer_ip == link_.self.ip);
}

static void test_recv_times_out(void **state)
{
    const uint8_t *data;
    size_t len;
    uint16_t sport;

    (void)state;
    assert_int_equal(udp_link_recv(&link_, ip4(10, 0, 2, 2), 49152, 50,
                                   &data, &len, &sport), 0);
    assert_true(w.now >= 50 && w.now < 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_send_resolves_then_sends, setup),
        cmocka_unit_test_setup(test_send_off_subnet_via_router, setup),
        cmocka_unit_test_setup(test_send_no_arp_reply, setup),
        cmocka_unit_test_setup(test_send_too_long, setup),
        cmocka_unit_test_setup(test_recv_filters_and_answers_arp, setup),
        cmocka_unit_test_setup(test_recv_times_out, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
