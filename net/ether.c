/* Ethernet, ARP, IPv4 and UDP frames for the NIC fast path; see ether.h. */
#include "net/ether.h"
#include <string.h>

#define ETYPE_IP 0x0800
#define ETYPE_ARP 0x0806
#define IP_HLEN 20
#define UDP_HLEN 8
#define IPPROTO_UDP 17

static const uint8_t bcast[ETH_ALEN] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/*
 * The Internet checksum's one's-complement sum of @n bytes at @p, added
 * to @sum.  The bytes are summed as little-endian words, four at a time:
 * RFC 1071 shows that the byte order only swaps the bytes of the result,
 * so storing ~sum little-endian gives the big-endian field.  Returns the
 * sum folded to 16 bits.
 */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    uint64_t acc = sum;

    for (; n >= 4; p += 4, n -= 4)
        acc += (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 |
                          (uint32_t)p[3] << 24);
    if (n >= 2) {
        acc += (uint32_t)(p[0] | p[1] << 8);
        p += 2;
        n -= 2;
    }
    if (n)
        acc += p[0];
    while (acc >> 16)
        acc = (acc & 0xFFFF) + (acc >> 16);
    return (uint32_t)acc;
}

/** Store the checksum for @sum at @p (see csum_add). */
static void csum_put(uint8_t *p, uint32_t sum)
{
    p[0] = (uint8_t)~sum;
    p[1] = (uint8_t)(~sum >> 8);
}

/** The sum of the UDP pseudo-header for @ip (its addresses) and @ulen. */
static uint32_t udp_pseudo(const uint8_t *ip, unsigned ulen)
{
    uint8_t ph[12];

    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = IPPROTO_UDP;
    put16(ph + 10, ulen);
    return csum_add(0, ph, sizeof(ph));
}

static enum eth_kind parse_arp(const uint8_t *a, size_t len,
                               const struct eth_self *self, struct eth_rx *rx)
{
    uint32_t target;

    if (len < 28 || get16(a) != 1 || get16(a + 2) != ETYPE_IP ||
        a[4] != ETH_ALEN || a[5] != 4)
        return ETH_OTHER;
    memcpy(rx->peer_mac, a + 8, ETH_ALEN);
    memcpy(&rx->peer_ip, a + 14, 4);
    memcpy(&target, a + 24, 4);
    if (get16(a + 6) == 2)
        return rx->kind = ETH_ARP_REPLY;
    if (get16(a + 6) == 1 && target == self->ip && self->ip)
        return rx->kind = ETH_ARP_REQUEST;
    return ETH_OTHER;
}

enum eth_kind eth_parse(const uint8_t *f, size_t len,
                        const struct eth_self *self, struct eth_rx *rx)
{
    memset(rx, 0, sizeof(*rx));
    if (len < ETH_HLEN || len > ETH_FRAME_MAX)
        return ETH_OTHER;
    if (memcmp(f, self->mac, ETH_ALEN) && memcmp(f, bcast, ETH_ALEN))
        return ETH_OTHER;
    uint16_t type = get16(f + 12);
    const uint8_t *ip = f + ETH_HLEN;
    len -= ETH_HLEN;
    if (type == ETYPE_ARP)
        return parse_arp(ip, len, self, rx);
    if (type != ETYPE_IP || len < IP_HLEN || ip[0] >> 4 != 4)
        return ETH_OTHER;
    size_t hl = (size_t)(ip[0] & 15) * 4;
    size_t total = get16(ip + 2);
    uint32_t dst;
    memcpy(&dst, ip + 16, 4);
    unsigned frag = get16(ip + 6) & 0x3FFF;
    if (hl < IP_HLEN || total < hl + UDP_HLEN || total > len ||
        (frag && frag != 0x2000) || ip[9] != IPPROTO_UDP ||
        dst != self->ip || csum_add(0, ip, hl) != 0xFFFF)
        return ETH_OTHER; /* later fragments, options past the end, ... */
    const uint8_t *udp = ip + hl;
    size_t ulen = get16(udp + 4);
    enum eth_kind kind = ETH_UDP_FRAGMENT; /* the first of several */
    if (!frag) {
        if (ulen < UDP_HLEN || ulen > total - hl)
            return ETH_OTHER;
        if ((udp[6] | udp[7]) &&
            csum_add(udp_pseudo(ip, (unsigned)ulen), udp, ulen) != 0xFFFF)
            return ETH_OTHER;
        rx->data = udp + UDP_HLEN;
        kind = ETH_UDP;
    } else if (ulen <= total - hl) {
        return ETH_OTHER; /* a datagram that fits needs no fragments */
    }
    memcpy(rx->peer_mac, f + 6, ETH_ALEN);
    memcpy(&rx->peer_ip, ip + 12, 4);
    rx->sport = get16(udp);
    rx->dport = get16(udp + 2);
    rx->len = ulen - UDP_HLEN;
    return rx->kind = kind;
}

/** The Ethernet header: to @dst from @self, of @type. */
static void eth_header(uint8_t *f, const uint8_t *dst,
                       const struct eth_self *self, unsigned type)
{
    memcpy(f, dst, ETH_ALEN);
    memcpy(f + 6, self->mac, ETH_ALEN);
    put16(f + 12, type);
}

size_t eth_udp_build(uint8_t *f, const struct eth_self *self,
                     const uint8_t *dst_mac, uint32_t dst_ip, uint16_t sport,
                     uint16_t dport, size_t len, uint16_t id)
{
    if (len > ETH_FRAME_MAX - ETH_UDP_HLEN)
        return 0;
    uint8_t *ip = f + ETH_HLEN, *udp = ip + IP_HLEN;
    unsigned ulen = (unsigned)len + UDP_HLEN;

    eth_header(f, dst_mac, self, ETYPE_IP);
    memset(ip, 0, IP_HLEN + UDP_HLEN);
    ip[0] = 0x45;
    put16(ip + 2, ulen + IP_HLEN);
    put16(ip + 4, id);
    ip[6] = 0x40; /* don't fragment */
    ip[8] = 64;   /* TTL */
    ip[9] = IPPROTO_UDP;
    memcpy(ip + 12, &self->ip, 4);
    memcpy(ip + 16, &dst_ip, 4);
    csum_put(ip + 10, csum_add(0, ip, IP_HLEN));
    put16(udp, sport);
    put16(udp + 2, dport);
    put16(udp + 4, ulen);
    uint32_t sum = csum_add(udp_pseudo(ip, ulen), udp, ulen);
    if (sum == 0xFFFF)
        sum = 0; /* a computed 0 is sent as 0xFFFF: 0 means "none" */
    csum_put(udp + 6, sum);
    return ETH_UDP_HLEN + len;
}

size_t eth_arp_build(uint8_t *f, const struct eth_self *self,
                     const uint8_t *dst_mac, uint32_t target_ip)
{
    uint8_t *a = f + ETH_HLEN;

    eth_header(f, dst_mac ? dst_mac : bcast, self, ETYPE_ARP);
    put16(a, 1);
    put16(a + 2, ETYPE_IP);
    a[4] = ETH_ALEN;
    a[5] = 4;
    put16(a + 6, dst_mac ? 2 : 1);
    memcpy(a + 8, self->mac, ETH_ALEN);
    memcpy(a + 14, &self->ip, 4);
    if (dst_mac)
        memcpy(a + 18, dst_mac, ETH_ALEN);
    else
        memset(a + 18, 0, ETH_ALEN);
    memcpy(a + 24, &target_ip, 4);
    return ETH_ARP_LEN;
}

uint32_t eth_next_hop(uint32_t self_ip, uint32_t netmask, uint32_t router,
                      uint32_t dst)
{
    if (!router || !netmask || ((self_ip ^ dst) & netmask) == 0)
        return dst;
    return router;
}
