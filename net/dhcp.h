/*
 * DHCP facts from the replies the PXE firmware cached: the NIC's MAC, our
 * IP, the TFTP server (siaddr, the DHCP "next-server"), the subnet mask
 * and router (options 1 and 3, for the NIC fast path), option 17
 * (root-path), option 209 (the config file) and option 210 (the path
 * prefix), the last two as PXELINUX defines them in RFC 5071.
 *
 * On a network with a proxyDHCP server (dnsmasq's `dhcp-range=...,proxy`,
 * FOG, WDS) the DHCP ACK gives the address only; the boot server and
 * file come in a second packet, the proxy's offer or the PXE boot
 * server's ACK, which the firmware keeps apart (dhcp_validate_pxe).
 * Pure C: the packets are untrusted input and are parsed with bounds
 * checks; unit-tested (with packets captured from real servers) and
 * fuzzed on the host.
 */
#ifndef PULSAR_DHCP_H
#define PULSAR_DHCP_H
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define DHCP_MAX_ROOT 127

struct dhcp_facts {
    uint8_t mac[16];
    uint8_t mac_len;     /* chaddr length (6 for Ethernet) */
    uint32_t client_ip;  /* yiaddr (or ciaddr), network byte order */
    uint32_t server_ip;  /* siaddr: next-server, network byte order */
    uint32_t dhcp_server;/* option 54, 0 if absent */
    uint32_t netmask;    /* option 1, 0 if absent */
    uint32_t router;     /* option 3 (its first address), 0 if absent */
    bool has_root;
    char root[DHCP_MAX_ROOT + 1]; /* option 17, NUL-terminated */
    bool has_bootfile;
    char bootfile[128];  /* option 67 or the `file` field */
    bool has_config;     /* option 209 present and not empty */
    char config[256];    /* option 209: the config file to use (whole) */
    bool has_prefix;     /* option 210 present and not empty */
    char prefix[DHCP_MAX_ROOT + 1]; /* option 210: the path prefix */
    /* Set by dhcp_validate_pxe: */
    uint32_t ack_server_ip; /* the DHCP ACK's own siaddr (0: none) */
    unsigned from_reply;    /* DHCP_FROM_* bits: facts the PXE reply gave
                               that the ACK lacked or said otherwise */
};

/** Which facts came from the PXE reply (dhcp_facts.from_reply). */
#define DHCP_FROM_SERVER 1u   /* siaddr: the boot (TFTP) server */
#define DHCP_FROM_BOOTFILE 2u /* the boot file */
#define DHCP_FROM_ROOT 4u     /* option 17 */
#define DHCP_FROM_CONFIG 8u   /* option 209 */
#define DHCP_FROM_PREFIX 16u  /* option 210 */

/**
 * Parse a BOOTP/DHCP packet of @len bytes into @f (zeroed first).
 * Fields that are absent or malformed stay zero; options with bad
 * lengths end the option walk.  Returns 0, or -PE_INVAL when the packet
 * is too short or not a BOOTP reply with an Ethernet-sized address.
 */
int dhcp_parse(const uint8_t *pkt, size_t len, struct dhcp_facts *f);

/**
 * Parse the cached reply like dhcp_parse() and check that Pulsar can boot
 * from it: a BOOTP reply with a hardware address of 1 to 16 bytes, an IP
 * address for this machine, a unicast TFTP server (siaddr), and options
 * that are well-formed where Pulsar reads them: none runs past its area,
 * option 52 (overload) is one byte of 1 to 3, option 17 (root-path)
 * appears once, holds at most DHCP_MAX_ROOT bytes and no NUL before its
 * end (trailing NULs are allowed).  On failure @msg gets the reason (on
 * success it is empty).  Returns 0 or -PE_INVAL.
 */
int dhcp_validate(const uint8_t *pkt, size_t len, struct dhcp_facts *f,
                  char *msg, size_t msglen);

/**
 * The DHCP facts of a PXE client from the two packets its firmware kept,
 * merged as PXELINUX merges them: @ack, the DHCP ACK (BIOS PXE
 * GET_CACHED_INFO packet type 2, PXENV_PACKET_TYPE_DHCP_ACK; UEFI PxeBc
 * Mode.DhcpAck), and @reply, the PXE reply (type 3,
 * PXENV_PACKET_TYPE_CACHED_REPLY: the boot server's ACK, or the
 * proxyDHCP offer when there was no boot server discovery; UEFI:
 * Mode.PxeReply when PxeReplyReceived, else Mode.ProxyOffer when
 * ProxyOfferReceived, else none), NULL or @reply_len 0 when there is
 * none.  The ACK gives the address facts (MAC, IP, options 1, 3, 54);
 * the boot facts (siaddr, boot file, options 17, 209, 210) come from the
 * reply where it has them (it is what the firmware booted from), else
 * from the ACK (dhcp_merge).  The ACK is checked as dhcp_validate says,
 * the TFTP server after the merge.  A reply that is not a BOOTP reply,
 * has malformed options or another hardware address is ignored, @note
 * saying why (else @note is empty).  Returns 0 or -PE_INVAL with @msg.
 */
int dhcp_validate_pxe(const uint8_t *ack, size_t ack_len,
                      const uint8_t *reply, size_t reply_len,
                      struct dhcp_facts *f, char *msg, size_t msglen,
                      char *note, size_t notelen);

/**
 * Merge the facts of a PXE reply (@reply, from dhcp_parse) into the
 * ACK's (@f): the boot facts @reply has replace @f's; f->from_reply gets
 * a DHCP_FROM_* bit for each that @f lacked or had otherwise, and
 * f->ack_server_ip the ACK's siaddr.  A reply's siaddr counts only when
 * it is a unicast address.
 */
void dhcp_merge(struct dhcp_facts *f, const struct dhcp_facts *reply);

/**
 * Say in @out (>= 160 bytes) what the PXE reply gave (f->from_reply):
 * "boot server 10.77.0.5 (the DHCP ACK names none), boot file pulsar.0";
 * "" when nothing.
 */
void dhcp_describe_reply(const struct dhcp_facts *f, char *out, size_t len);

/** Longest packet dhcp_validate_efi reads (a PXE Base Code packet is 1472). */
#define DHCP_MERGE_MAX 1500

/**
 * The facts of a DHCP exchange kept as up to three packets, as UEFI's PXE
 * Base Code keeps them (Mode.DhcpAck, ProxyOffer, PxeReply): @ack (the
 * DHCP ACK, required) gives this machine's address and the NIC; the boot
 * facts come from the PXE reply when there is one, else the proxy offer,
 * merged as dhcp_validate_pxe merges them.  The TFTP server is the first
 * next-server of @reply, @proxy and @ack; with none anywhere, the ACK's
 * server identifier (option 54), as UEFI firmware commonly answers
 * without a next-server.  An absent packet is NULL; one that does not
 * parse is ignored.  At most DHCP_MERGE_MAX bytes of @ack are read.
 * Returns 0 or -PE_INVAL with @msg set.
 */
int dhcp_validate_efi(const uint8_t *ack, size_t ack_len,
                      const uint8_t *proxy, size_t proxy_len,
                      const uint8_t *reply, size_t reply_len,
                      struct dhcp_facts *f, char *msg, size_t msglen);

/**
 * The length of the DHCP packet in @pkt, a buffer of @max bytes that
 * holds it at its start (UEFI's PXE Base Code keeps each packet in a
 * fixed 1472-byte buffer): up to and with its end option; @max when the
 * options run off the buffer without one.
 */
size_t dhcp_packet_len(const uint8_t *pkt, size_t max);

/** Format @mac as "aa-bb-cc-dd-ee-ff" (sep '-') into @out (>= 3*len). */
void dhcp_format_mac(const uint8_t *mac, unsigned len, char sep, char *out);

/** Format an IPv4 address (network byte order) into @out (>= 16). */
void dhcp_format_ip(uint32_t ip, char *out);
#endif
