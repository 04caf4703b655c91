/* Parsing and merging the cached DHCP replies; see dhcp.h. */
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
#define OPT_NETMASK 1
#define OPT_ROUTER 3
#define OPT_ROOT_PATH 17
#define OPT_OVERLOAD 52
#define OPT_SERVER_ID 54
#define OPT_BOOTFILE 67
#define OPT_CONFIG_FILE 209 /* RFC 5071 (PXELINUX) */
#define OPT_PATH_PREFIX 210 /* RFC 5071 (PXELINUX) */

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
        case OPT_NETMASK:
            if (olen == 4)
                f->netmask = get_ip(val);
            break;
        case OPT_ROUTER: /* a list: the first is the one to use */
            if (olen >= 4 && olen % 4 == 0)
                f->router = get_ip(val);
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
        case OPT_PATH_PREFIX:
            opt_string(f->prefix, sizeof(f->prefix), val, olen);
            f->has_prefix = f->prefix[0] != '\0';
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

/** One area of options to check: where, and its name for messages. */
struct opt_area {
    const uint8_t *p;
    size_t len;
    const char *name;
};

/**
 * Check the options in @a strictly (see dhcp_validate); @roots counts the
 * root-path options seen so far; @overload gets option 52's value if it
 * is there.  Returns 0 or -PE_INVAL with @msg.
 */
static int check_options(const struct opt_area *a, unsigned *roots,
                         unsigned *overload, char *msg, size_t msglen)
{
    size_t i = 0;

    while (i < a->len && a->p[i] != OPT_END) {
        uint8_t code = a->p[i];
        size_t olen, n;

        if (code == OPT_PAD) {
            i++;
            continue;
        }
        if (i + 2 > a->len || i + 2 + a->p[i + 1] > a->len) {
            snprintf(msg, msglen, "DHCP option %u at offset %u runs past "
                     "the end of the %s (%u bytes)", code, (unsigned)i,
                     a->name, (unsigned)a->len);
            return -PE_INVAL;
        }
        olen = a->p[i + 1];
        if (code == OPT_OVERLOAD && (olen != 1 || a->p[i + 2] < 1 ||
                                     a->p[i + 2] > 3)) {
            snprintf(msg, msglen, "DHCP option 52 (overload) is malformed: "
                     "length %u, value %u", (unsigned)olen,
                     olen ? a->p[i + 2] : 0);
            return -PE_INVAL;
        }
        if (code == OPT_OVERLOAD)
            *overload = a->p[i + 2];
        if (code == OPT_ROOT_PATH) {
            if (++*roots > 1) {
                snprintf(msg, msglen, "DHCP option 17 (root-path) appears "
                         "more than once (a split long option); Pulsar "
                         "takes one of at most %u bytes", DHCP_MAX_ROOT);
                return -PE_INVAL;
            }
            for (n = olen; n && a->p[i + 2 + n - 1] == 0; n--)
                ; /* trailing NULs: some servers count the terminator */
            if (n > DHCP_MAX_ROOT) {
                snprintf(msg, msglen, "DHCP option 17 (root-path) is %u "
                         "bytes; Pulsar takes at most %u", (unsigned)n,
                         DHCP_MAX_ROOT);
                return -PE_INVAL;
            }
            if (strnlen((const char *)a->p + i + 2, n) < n) {
                snprintf(msg, msglen, "DHCP option 17 (root-path) has a NUL "
                         "byte inside it");
                return -PE_INVAL;
            }
        }
        i += 2 + olen;
    }
    return 0;
}

/** Room for why a PXE reply was ignored. */
#define PXE_NOTE_MAX 128

/** True if @ip (network order) can be a TFTP server's address. */
static bool unicast_ip(uint32_t ip)
{
    const uint8_t *b = (const uint8_t *)&ip;
    return b[0] != 0 && b[0] != 127 && b[0] < 224;
}

/**
 * Parse @pkt into @f and check its options strictly (see dhcp_validate);
 * @what names it in messages ("the cached DHCP reply").  Returns 0 or
 * -PE_INVAL with @msg.
 */
static int check_packet(const uint8_t *pkt, size_t len, struct dhcp_facts *f,
                        const char *what, char *msg, size_t msglen)
{
    static const uint8_t cookie[4] = { 99, 130, 83, 99 };
    unsigned roots = 0;
    int rc;

    if (dhcp_parse(pkt, len, f) != 0) {
        if (!pkt || len < BOOTP_OPTIONS)
            snprintf(msg, msglen, "%s is %u bytes, shorter than a BOOTP "
                     "packet (%u)", what, (unsigned)len, BOOTP_OPTIONS);
        else if (pkt[BOOTP_OP] != BOOTP_REPLY)
            snprintf(msg, msglen, "%s is not a BOOTP reply (op %u)", what,
                     pkt[BOOTP_OP]);
        else
            snprintf(msg, msglen, "%s has a hardware address of %u bytes "
                     "(1 to 16 expected)", what, pkt[BOOTP_HLEN]);
        return -PE_INVAL;
    }
    if (len >= BOOTP_OPTIONS + 4 &&
        memcmp(pkt + BOOTP_OPTIONS, cookie, 4) == 0) {
        struct opt_area a = { pkt + BOOTP_OPTIONS + 4,
                              len - BOOTP_OPTIONS - 4, "options" };
        struct opt_area file = { pkt + BOOTP_FILE, 128, "file field" };
        struct opt_area sname = { pkt + BOOTP_SNAME, 64, "sname field" };
        unsigned overload = 0, ignored;

        if ((rc = check_options(&a, &roots, &overload, msg, msglen)) != 0)
            return rc;
        /* Option 52 counts only in the options field (RFC 2132 9.3). */
        if ((overload & 1) &&
            (rc = check_options(&file, &roots, &ignored, msg, msglen)) != 0)
            return rc;
        if ((overload & 2) &&
            (rc = check_options(&sname, &roots, &ignored, msg, msglen)) != 0)
            return rc;
    }
    return 0;
}

/** Merge a PXE reply's boot facts; see dhcp.h. */
void dhcp_merge(struct dhcp_facts *f, const struct dhcp_facts *reply)
{
    f->ack_server_ip = f->server_ip;
    if (reply->server_ip && unicast_ip(reply->server_ip)) {
        if (reply->server_ip != f->server_ip)
            f->from_reply |= DHCP_FROM_SERVER;
        f->server_ip = reply->server_ip;
    }
    if (reply->has_bootfile) {
        if (!f->has_bootfile || strcmp(f->bootfile, reply->bootfile))
            f->from_reply |= DHCP_FROM_BOOTFILE;
        memcpy(f->bootfile, reply->bootfile, sizeof(f->bootfile));
        f->has_bootfile = true;
    }
    if (reply->has_root) {
        if (!f->has_root || strcmp(f->root, reply->root))
            f->from_reply |= DHCP_FROM_ROOT;
        memcpy(f->root, reply->root, sizeof(f->root));
        f->has_root = true;
    }
    if (reply->has_config) {
        if (!f->has_config || strcmp(f->config, reply->config))
            f->from_reply |= DHCP_FROM_CONFIG;
        memcpy(f->config, reply->config, sizeof(f->config));
        f->has_config = true;
    }
    if (reply->has_prefix) {
        if (!f->has_prefix || strcmp(f->prefix, reply->prefix))
            f->from_reply |= DHCP_FROM_PREFIX;
        memcpy(f->prefix, reply->prefix, sizeof(f->prefix));
        f->has_prefix = true;
    }
}

/** Say what the PXE reply gave; see dhcp.h. */
void dhcp_describe_reply(const struct dhcp_facts *f, char *out, size_t len)
{
    char ip[16], acks[16];
    size_t n = 0;

    out[0] = '\0';
#define ADD(...)                                                              \
    do {                                                                      \
        if (n < len)                                                          \
            n += (size_t)snprintf(out + n, len - n, "%s", n ? ", " : "");     \
        if (n < len)                                                          \
            n += (size_t)snprintf(out + n, len - n, __VA_ARGS__);             \
    } while (0)
    if (f->from_reply & DHCP_FROM_SERVER) {
        dhcp_format_ip(f->server_ip, ip);
        dhcp_format_ip(f->ack_server_ip, acks);
        if (f->ack_server_ip)
            ADD("boot server %s (the DHCP ACK names %s)", ip, acks);
        else
            ADD("boot server %s (the DHCP ACK names none)", ip);
    }
    if (f->from_reply & DHCP_FROM_BOOTFILE)
        ADD("boot file %s", f->bootfile);
    if (f->from_reply & DHCP_FROM_ROOT)
        ADD("root-path '%s'", f->root);
    if (f->from_reply & DHCP_FROM_CONFIG)
        ADD("option 209 '%s'", f->config);
    if (f->from_reply & DHCP_FROM_PREFIX)
        ADD("option 210 '%s'", f->prefix);
#undef ADD
}

int dhcp_validate_pxe(const uint8_t *ack, size_t ack_len,
                      const uint8_t *reply, size_t reply_len,
                      struct dhcp_facts *f, char *msg, size_t msglen,
                      char *note, size_t notelen)
{
    char ip[16];
    int rc;

    if (msglen)
        msg[0] = '\0';
    if (notelen)
        note[0] = '\0';
    if ((rc = check_packet(ack, ack_len, f, "the cached DHCP reply", msg,
                           msglen)) != 0)
        return rc;
    if (!f->client_ip) {
        snprintf(msg, msglen, "the cached DHCP reply gives this machine no "
                 "IP address (yiaddr and ciaddr are 0.0.0.0)");
        return -PE_INVAL;
    }
    f->ack_server_ip = f->server_ip;
    if (reply && reply_len) {
        struct dhcp_facts r;
        char why[PXE_NOTE_MAX];

        if (check_packet(reply, reply_len, &r, "it", why, sizeof(why)) != 0)
            snprintf(note, notelen, "the PXE reply is ignored: %s", why);
        else if (r.mac_len != f->mac_len ||
                 memcmp(r.mac, f->mac, f->mac_len) != 0)
            snprintf(note, notelen, "the PXE reply is ignored: it is for "
                     "another hardware address than the DHCP ACK");
        else
            dhcp_merge(f, &r);
    }
    if (!f->server_ip) {
        snprintf(msg, msglen, "the DHCP reply names no TFTP server "
                 "(next-server / siaddr is 0.0.0.0)");
        return -PE_INVAL;
    }
    if (!unicast_ip(f->server_ip)) {
        dhcp_format_ip(f->server_ip, ip);
        snprintf(msg, msglen, "the DHCP reply's next-server (siaddr) %s is "
                 "not a unicast address", ip);
        return -PE_INVAL;
    }
    return 0;
}

int dhcp_validate(const uint8_t *pkt, size_t len, struct dhcp_facts *f,
                  char *msg, size_t msglen)
{
    return dhcp_validate_pxe(pkt, len, NULL, 0, f, msg, msglen, NULL, 0);
}

/** UEFI's three packets; see dhcp.h. */
int dhcp_validate_efi(const uint8_t *ack, size_t ack_len,
                      const uint8_t *proxy, size_t proxy_len,
                      const uint8_t *reply, size_t reply_len,
                      struct dhcp_facts *f, char *msg, size_t msglen)
{
    static struct dhcp_facts other;
    static uint8_t copy[DHCP_MERGE_MAX];
    const uint8_t *order[3] = { reply, proxy, ack };
    const size_t len[3] = { reply_len, proxy_len, ack_len };
    uint32_t server = 0;
    int rc;

    /* The first next-server of the three, else the ACK's option 54. */
    for (unsigned i = 0; i < 3 && !server; i++)
        if (order[i] && dhcp_parse(order[i], len[i], &other) == 0)
            server = other.server_ip;
    if (!server && ack && dhcp_parse(ack, ack_len, &other) == 0)
        server = other.dhcp_server;
    if (ack_len > sizeof(copy))
        ack_len = sizeof(copy);
    if (ack && ack_len > BOOTP_SIADDR + 4) {
        memcpy(copy, ack, ack_len);
        memcpy(copy + BOOTP_SIADDR, &server, 4);
        ack = copy;
    }
    /* Field by field: the PXE reply over the proxy offer over the ACK
     * (a packet that does not parse is ignored). */
    if (proxy && dhcp_parse(proxy, proxy_len, &other) != 0)
        proxy = NULL;
    if ((rc = dhcp_validate_pxe(ack, ack_len, proxy, proxy ? proxy_len : 0, f,
                                msg, msglen, NULL, 0)) != 0)
        return rc;
    if (reply && dhcp_parse(reply, reply_len, &other) == 0)
        dhcp_merge(f, &other);
    return 0;
}

size_t dhcp_packet_len(const uint8_t *pkt, size_t max)
{
    size_t i = BOOTP_OPTIONS + 4; /* past the magic cookie */

    while (i < max) {
        if (pkt[i] == OPT_END)
            return i + 1;
        if (pkt[i] == OPT_PAD)
            i++;
        else if (i + 1 < max)
            i += 2u + pkt[i + 1];
        else
            break;
    }
    return max;
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
