/*
 * Ethernet, ARP, IPv4 and UDP frames for the NIC fast path (boot/bios/nic.c):
 * building what Pulsar sends and classifying what arrives.  Pure C: every
 * received frame is untrusted and parsed with bounds checks; unit-tested
 * and fuzzed on the host.  Addresses are in network byte order.
 */
#ifndef PULSAR_ETHER_H
#define PULSAR_ETHER_H
#include <stddef.h>
#include <stdint.h>

#define ETH_ALEN 6
#define ETH_HLEN 14
/** Ethernet + IPv4 (no options) + UDP headers: where a payload starts. */
#define ETH_UDP_HLEN 42
/** The largest frame Pulsar handles (no VLAN tag, no FCS). */
#define ETH_FRAME_MAX 1514
/** An ARP request or reply for IPv4 over Ethernet. */
#define ETH_ARP_LEN 42

/** Who Pulsar is on the wire. */
struct eth_self {
    uint8_t mac[ETH_ALEN];
    uint32_t ip;
};

/** What a received frame is, as far as Pulsar cares. */
enum eth_kind {
    ETH_OTHER = 0,     /* not for us, malformed, or of no interest */
    ETH_UDP,           /* a UDP datagram to our IP */
    ETH_UDP_FRAGMENT,  /* the first fragment of a larger one (data NULL,
                        * len: the whole payload's): not reassembled */
    ETH_ARP_REPLY,     /* an ARP reply (any target) */
    ETH_ARP_REQUEST,   /* an ARP request asking for our IP */
};

struct eth_rx {
    enum eth_kind kind;
    uint8_t peer_mac[ETH_ALEN]; /* Ethernet source / ARP sender */
    uint32_t peer_ip;           /* IP source / ARP sender */
    uint16_t sport, dport;      /* UDP ports, host byte order */
    const uint8_t *data;        /* UDP payload (NULL for a fragment) */
    size_t len;                 /* its length */
};

/**
 * Classify the frame @f of @len bytes (destination MAC first, no FCS)
 * for @self.  IPv4 needs a valid header checksum and lengths that fit the
 * frame; a whole UDP datagram a valid UDP checksum when it is not 0.  Of
 * a fragmented datagram only the first fragment is reported, so that the
 * caller can say what came (Pulsar does not reassemble: its blocks fit a
 * frame); later fragments are ETH_OTHER.
 */
enum eth_kind eth_parse(const uint8_t *f, size_t len,
                        const struct eth_self *self, struct eth_rx *rx);

/**
 * Fill in the Ethernet, IPv4 and UDP headers in front of the @len-byte
 * payload that the caller put at @f + ETH_UDP_HLEN, for a datagram from
 * @self:@sport to @dst_mac / @dst_ip:@dport.  @id is the IPv4
 * identification.  Returns the frame length, or 0 if @len is too long.
 */
size_t eth_udp_build(uint8_t *f, const struct eth_self *self,
                     const uint8_t *dst_mac, uint32_t dst_ip, uint16_t sport,
                     uint16_t dport, size_t len, uint16_t id);

/**
 * Build an ARP request from @self for @target_ip (@dst_mac NULL: to
 * everyone), or a reply to @dst_mac / @target_ip saying where @self is.
 * Returns ETH_ARP_LEN.
 */
size_t eth_arp_build(uint8_t *f, const struct eth_self *self,
                     const uint8_t *dst_mac, uint32_t target_ip);

/**
 * The hop a packet to @dst takes: @dst itself when it is on our subnet
 * (@netmask 0: unknown, so assume it is) or no @router is known, else
 * @router.
 */
uint32_t eth_next_hop(uint32_t self_ip, uint32_t netmask, uint32_t router,
                      uint32_t dst);
#endif
