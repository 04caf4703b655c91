/*
 * UDP over a raw Ethernet link, for a face that moves whole frames itself
 * (UEFI's Simple Network Protocol): who we are, the next hop's MAC found
 * with ARP and kept, ARP requests for our address answered while waiting,
 * and received frames classified with eth_parse (net/ether.h).  Pure C
 * over four callbacks: the face sends and polls frames and keeps the
 * clock; unit-tested on the host.  Addresses in network byte order, ports
 * in host order.
 */
#ifndef PULSAR_UDPLINK_H
#define PULSAR_UDPLINK_H
#include "net/ether.h"
#include <stddef.h>
#include <stdint.h>

/** What the face does with frames. */
struct udp_link_ops {
    /** Send the @len-byte frame @f (at least 60 bytes: padded by the
     *  link).  Returns 0 or a negative pulsar_err. */
    int (*tx)(void *ctx, const uint8_t *f, size_t len);
    /** The next received frame (no FCS), its length in *@len, or NULL
     *  when none is waiting (valid until the next call). */
    const uint8_t *(*rx)(void *ctx, size_t *len);
    /** A millisecond clock (it may wrap). */
    uint32_t (*now_ms)(void *ctx);
};

/** One link: the face fills in ops, ctx, self, netmask and router. */
struct udp_link {
    const struct udp_link_ops *ops;
    void *ctx;
    struct eth_self self;
    uint32_t netmask, router;
    /* the link's own state (zeroed by the face) */
    uint32_t hop_ip;
    uint8_t hop_mac[ETH_ALEN];
    int hop_known;
    uint16_t ip_id;
    uint8_t tx[ETH_FRAME_MAX];
};

/** ARP tries for the next hop, and how long each waits for the reply. */
#define UDP_LINK_ARP_TRIES 4
#define UDP_LINK_ARP_MS 250

/**
 * Send @len bytes from our UDP @sport to @dst:@dport, resolving the next
 * hop with ARP first when it is not known.  Returns 0, -PE_TIMEDOUT (no
 * ARP reply), -PE_RANGE (too long for a frame) or the face's error.
 */
int udp_link_send(struct udp_link *l, uint32_t dst, uint16_t sport,
                  uint16_t dport, const void *data, size_t len);

/**
 * Wait up to @ms for a UDP datagram from @src to our @dport.  Returns 1
 * with its payload at *@data (valid until the next call), *@len and
 * *@sport; -1 when it came in IP fragments (*@len: its payload's size,
 * not reassembled); 0 when none came in time.
 */
int udp_link_recv(struct udp_link *l, uint32_t src, uint16_t dport,
                  unsigned ms, const uint8_t **data, size_t *len,
                  uint16_t *sport);
#endif
