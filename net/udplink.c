/* UDP over a raw Ethernet link; see udplink.h. */
#include "net/udplink.h"
#include "lib/errno.h"
#include <string.h>

/** The shortest Ethernet frame without its FCS. */
#define ETH_MIN_FRAME 60

/** Send the @len-byte frame in l->tx, padded to the Ethernet minimum. */
static int tx_frame(struct udp_link *l, size_t len)
{
    if (len < ETH_MIN_FRAME) {
        memset(l->tx + len, 0, ETH_MIN_FRAME - len);
        len = ETH_MIN_FRAME;
    }
    return l->ops->tx(l->ctx, l->tx, len);
}

/**
 * Handle the ARP side of the frame @rx was parsed from: learn the next
 * hop's MAC from whatever it says, and answer a request for our address.
 */
static void arp_seen(struct udp_link *l, enum eth_kind k,
                     const struct eth_rx *rx)
{
    if (k != ETH_ARP_REPLY && k != ETH_ARP_REQUEST)
        return;
    if (rx->peer_ip == l->hop_ip) {
        memcpy(l->hop_mac, rx->peer_mac, ETH_ALEN);
        l->hop_known = 1;
    }
    if (k == ETH_ARP_REQUEST)
        tx_frame(l, eth_arp_build(l->tx, &l->self, rx->peer_mac,
                                  rx->peer_ip));
}

/**
 * Poll for up to @ms: returns the kind of the first UDP datagram (or
 * fragment) from @src to @dport, with @rx filled in; with @dport 0 the
 * wait ends as soon as the next hop is known (ETH_ARP_REPLY).  ETH_OTHER
 * when the time ran out.
 */
static enum eth_kind wait_for(struct udp_link *l, uint32_t src,
                              uint16_t dport, unsigned ms, struct eth_rx *rx)
{
    uint32_t start = l->ops->now_ms(l->ctx);

    for (;;) {
        size_t n;
        const uint8_t *f = l->ops->rx(l->ctx, &n);
        if (f) {
            enum eth_kind k = eth_parse(f, n, &l->self, rx);
            arp_seen(l, k, rx);
            if (!dport && l->hop_known)
                return ETH_ARP_REPLY;
            if (dport && (k == ETH_UDP || k == ETH_UDP_FRAGMENT) &&
                rx->peer_ip == src && rx->dport == dport)
                return k;
            continue;
        }
        if (l->ops->now_ms(l->ctx) - start >= ms)
            return ETH_OTHER;
    }
}

int udp_link_send(struct udp_link *l, uint32_t dst, uint16_t sport,
                  uint16_t dport, const void *data, size_t len)
{
    uint32_t hop = eth_next_hop(l->self.ip, l->netmask, l->router, dst);
    struct eth_rx rx;
    int rc;

    if (len > ETH_FRAME_MAX - ETH_UDP_HLEN)
        return -PE_RANGE;
    if (!l->hop_known || l->hop_ip != hop) {
        l->hop_known = 0;
        l->hop_ip = hop;
        for (int i = 0; i < UDP_LINK_ARP_TRIES && !l->hop_known; i++) {
            if ((rc = tx_frame(l, eth_arp_build(l->tx, &l->self, NULL,
                                                hop))) != 0)
                return rc;
            wait_for(l, 0, 0, UDP_LINK_ARP_MS, &rx);
        }
        if (!l->hop_known)
            return -PE_TIMEDOUT;
    }
    memcpy(l->tx + ETH_UDP_HLEN, data, len);
    return tx_frame(l, eth_udp_build(l->tx, &l->self, l->hop_mac, dst, sport,
                                     dport, len, l->ip_id++));
}

int udp_link_recv(struct udp_link *l, uint32_t src, uint16_t dport,
                  unsigned ms, const uint8_t **data, size_t *len,
                  uint16_t *sport)
{
    struct eth_rx rx;
    enum eth_kind k = wait_for(l, src, dport, ms, &rx);

    if (k == ETH_OTHER)
        return 0;
    *data = rx.data;
    *len = rx.len;
    *sport = rx.sport;
    return k == ETH_UDP ? 1 : -1;
}
