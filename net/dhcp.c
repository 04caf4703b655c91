/* Parsing the cached DHCP reply; see dhcp.h. */
#include "net/dhcp.h"
#include "lib/errno.h"
#include <string.h>
#include <stdio.h>

#define BOOTP_OP 0
#define BOOTP_HLEN 2
#define BOOTP_CIADDR 12
#define BOOTP_YIADDR 16
#define BOOTP_SIADDR 20
#define BOOTP_CHADDR 28
#define BOOTP_SNAME 44
#define BOOTP_FILE 108
#define BOOTP_OPTIONS 236 /* the magic cookie, then options */
#define BOOTP_REPLY 2

#define OPT_PAD 0
#define OPT_END 255
#define OPT_ROOT_PATH 17
#define OPT_OVERLOAD 52
#define OPT_SERVER_ID 54
#define OPT_BOOTFILE 67
#define OPT_CONFIG_FILE 209 /* RFC 5071 (PXELINUX) */

/** Read a 32-bit value as it lies in the packet (network order kept). */
static uint32_t get_ip(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/** Copy an option's bytes as a string, stopping at an embedded NUL. */
static void opt_string(char *dst, size_t dstsize, const uint8_t *src,
                       size_t len)
{
    size_t n = 0;
    while (n < len && n + 1 < dstsize && src[n])
        n++;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/**
 * Walk the options in [p, p+len).  Returns the overload value (option 52)
 * so the caller can walk `file` and `sname` too.
 */
static unsigned walk_options(const uint8_t *p, size_t len,
                             struct dhcp_facts *f)
{
    unsigned overload = 0;
    size_t i = 0;
    while (i < len) {
        uint8_t code = p[i];
        if (code == OPT_END)
            break;
        if (code == OPT_PAD) {
            i++;
            continue;
        }
        if (i + 2 > len || i + 2 + p[i + 1] > len)
            break; /* a truncated option ends the walk */
        uint8_t olen = p[i + 1];
        const uint8_t *val = p + i + 2;
        switch (code) {
        case OPT_ROOT_PATH:
            opt_string(f->root, sizeof(f->root), val, olen);
            f->has_root = true;
            break;
        case OPT_SERVER_ID:
            if (olen == 4)
                f->dhcp_server = get_ip(val);
            break;
        case OPT_BOOTFILE:
            opt_string(f->bootfile, sizeof(f->bootfile), val, olen);
            f->has_bootfile = true;
            break;
        case OPT_CONFIG_FILE:
            /* An empty name would make "config-default" unreachable. */
            opt_string(f->config, sizeof(f->config), val, olen);
            f->has_config = f->config[0] != '\0';
            break;
        case OPT_OVERLOAD:
            if (olen == 1)
                overload = val[0];
            break;
        }
        i += 2 + (size_t)olen;
    }
    return overload;
}

int dhcp_parse(const uint8_t *pkt, size_t len, struct dhcp_facts *f)
{
    static const uint8_t cookie[4] = { 99, 130, 83, 99 };

    memset(f, 0, sizeof(*f));
    if (!pkt || len < BOOTP_OPTIONS)
        return -PE_INVAL;
    if (pkt[BOOTP_OP] != BOOTP_REPLY || pkt[BOOTP_HLEN] == 0 ||
        pkt[BOOTP_HLEN] > 16)
        return -PE_INVAL;
    f->mac_len = pkt[BOOTP_HLEN];
    memcpy(f->mac, pkt + BOOTP_CHADDR, f->mac_len);
    f->client_ip = get_ip(pkt + BOOTP_YIADDR);
    if (!f->client_ip)
        f->client_ip = get_ip(pkt + BOOTP_CIADDR);
    f->server_ip = get_ip(pkt + BOOTP_SIADDR);

    unsigned overload = 0;
    if (len >= BOOTP_OPTIONS + 4 &&
        memcmp(pkt + BOOTP_OPTIONS, cookie, 4) == 0)
        overload = walk_options(pkt + BOOTP_OPTIONS + 4,
                                len - BOOTP_OPTIONS - 4, f);
    /* Option 52: the file (1) and sname (2) fields carry options. */
    if (overload & 1)
        walk_options(pkt + BOOTP_FILE, 128, f);
    else if (!f->has_bootfile && pkt[BOOTP_FILE]) {
        opt_string(f->bootfile, sizeof(f->bootfile), pkt + BOOTP_FILE, 128);
        f->has_bootfile = true;
    }
    if (overload & 2)
        walk_options(pkt + BOOTP_SNAME, 64, f);
    return 0;
}

void dhcp_format_mac(const uint8_t *mac, unsigned len, char sep, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < len; i++) {
        if (i)
            *out++ = sep;
        *out++ = hex[mac[i] >> 4];
        *out++ = hex[mac[i] & 15];
    }
    *out = '\0';
}

void dhcp_format_ip(uint32_t ip, char *out)
{
    const uint8_t *b = (const uint8_t *)&ip;
    snprintf(out, 16, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}
