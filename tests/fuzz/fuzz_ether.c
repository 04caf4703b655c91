/*
 * libFuzzer target: received frames (net/ether.c eth_parse) on any bytes.
 *
 * Checks beyond the sanitizers: a UDP payload lies inside the frame and
 * after the headers; a first fragment claims more than its IP packet holds; what is accepted as UDP, rebuilt by eth_udp_build
 * with the same addresses, ports and payload, parses back to the same
 * payload (so the builder and the parser agree on every checksum).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "net/ether.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t f[ETH_FRAME_MAX];
    const struct eth_self self = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
                                   0x0F02000A /* 10.0.2.15 */ };
    struct eth_rx rx, back;

    enum eth_kind k = eth_parse(data, size, &self, &rx);
    assert(k == rx.kind);
    if (k == ETH_UDP_FRAGMENT) {
        /* It claims more than its own IP packet holds. */
        size_t total = (size_t)(data[16] << 8 | data[17]);
        size_t hl = (size_t)(data[14] & 15) * 4;
        assert(rx.data == NULL && rx.len + 8 > total - hl);
    }
    if (k != ETH_UDP)
        return 0;
    assert(rx.data >= data + ETH_UDP_HLEN && rx.data + rx.len <= data + size);
    /* The sender, as Pulsar would build its frame: we parse it as us. */
    struct eth_self peer;
    memcpy(peer.mac, rx.peer_mac, ETH_ALEN);
    peer.ip = rx.peer_ip;
    memcpy(f + ETH_UDP_HLEN, rx.data, rx.len);
    size_t n = eth_udp_build(f, &peer, self.mac, self.ip, rx.sport, rx.dport,
                             rx.len, 1);
    assert(n == ETH_UDP_HLEN + rx.len);
    assert(eth_parse(f, n, &self, &back) == ETH_UDP);
    assert(back.len == rx.len && back.sport == rx.sport &&
           back.dport == rx.dport && back.peer_ip == rx.peer_ip);
    assert(memcmp(back.data, rx.data, rx.len) == 0);
    return 0;
}
