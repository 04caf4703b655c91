/*
 * DHCP facts from the reply the PXE ROM cached: the NIC's MAC, our IP, the
 * TFTP server (siaddr, the DHCP "next-server"), the subnet mask and router
 * (options 1 and 3, for the NIC fast path), option 17 (root-path) and
 * option 209 (the config file, as PXELINUX defines it in RFC 5071).
 * Pure C: the packet is untrusted input and is parsed with bounds checks;
 * unit-tested and fuzzed on the host.
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
};

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

/** Longest packet dhcp_merge reads (a PXE Base Code packet is 1472). */
#define DHCP_MERGE_MAX 1500

/**
 * The facts of a DHCP exchange kept as up to three packets, as UEFI's PXE
 * Base Code keeps them: @ack (the DHCP ACK, required) gives this
 * machine's address and the NIC; the TFTP server (next-server), root path
 * (17), config file (209) and boot file come from the first of @reply
 * (the PXE boot server's reply), @proxy (a proxy DHCP offer) and @ack
 * that has them; with no next-server anywhere, the ACK's server
 * identifier (option 54).  An absent packet is NULL; one that does not
 * parse is ignored.  The result is checked as dhcp_validate checks one
 * reply (the ACK with the chosen next-server); at most DHCP_MERGE_MAX
 * bytes of @ack are read.  Returns 0 or -PE_INVAL with @msg set.
 */
int dhcp_merge(const uint8_t *ack, size_t ack_len, const uint8_t *proxy,
               size_t proxy_len, const uint8_t *reply, size_t reply_len,
               struct dhcp_facts *f, char *msg, size_t msglen);

/** Format @mac as "aa-bb-cc-dd-ee-ff" (sep '-') into @out (>= 3*len). */
void dhcp_format_mac(const uint8_t *mac, unsigned len, char sep, char *out);

/** Format an IPv4 address (network byte order) into @out (>= 16). */
void dhcp_format_ip(uint32_t ip, char *out);
#endif
