/*
 * What the network unit tests (test_ether.c, test_udplink.c) share: the
 * client's and the server's MAC addresses, and IPv4 addresses written as
 * four numbers (in network byte order, as Pulsar keeps them).
 */
#ifndef PULSAR_TEST_NET_FIXTURE_H
#define PULSAR_TEST_NET_FIXTURE_H
#include <stdint.h>
#include <string.h>

static const uint8_t our_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t srv_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };

/** a.b.c.d in network byte order. */
static inline uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    const uint8_t x[4] = { a, b, c, d };
    uint32_t v;
    memcpy(&v, x, 4);
    return v;
}
#endif
