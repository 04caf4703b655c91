/* Unit tests for net/dhcp.c: parsing the cached DHCP replies, merging a
 * proxyDHCP / PXE boot server reply (with packets captured from ISC dhcpd
 * and dnsmasq, tests/unit/data/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>
#include "net/dhcp.h"
#include "lib/errno.h"
#include "tests/unit/data/proxydhcp.h"

/** A BOOTP reply builder: fixed header, then options appended. */
struct pkt {
    uint8_t b[1024];
    size_t len;
};

static void pkt_init(struct pkt *p)
{
    memset(p, 0, sizeof(*p));
    p->b[0] = 2; /* BOOTREPLY */
    p->b[1] = 1;
    p->b[2] = 6;
    const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    memcpy(p->b + 28, mac, 6);
    const uint8_t yi[4] = { 10, 0, 2, 15 }, si[4] = { 10, 0, 2, 2 };
    memcpy(p->b + 16, yi, 4);
    memcpy(p->b + 20, si, 4);
    const uint8_t cookie[4] = { 99, 130, 83, 99 };
    memcpy(p->b + 236, cookie, 4);
    p->len = 240;
}

static void pkt_opt(struct pkt *p, uint8_t code, const void *val, uint8_t len)
{
    p->b[p->len++] = code;
    p->b[p->len++] = len;
    memcpy(p->b + p->len, val, len);
    p->len += len;
}

static uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t x[4] = { a, b, c, d };
    uint32_t v;
    memcpy(&v, x, 4);
    return v;
}

static void test_basic_facts(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    char mac[48], ipbuf[16];
    (void)state;
    pkt_init(&p);
    pkt_opt(&p, 54, "\x0a\x00\x02\x02", 4);
    pkt_opt(&p, 17, "nova", 4);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_int_equal(f.mac_len, 6);
    dhcp_format_mac(f.mac, f.mac_len, '-', mac);
    assert_string_equal(mac, "52-54-00-12-34-56");
    assert_int_equal(f.client_ip, ip(10, 0, 2, 15));
    assert_int_equal(f.server_ip, ip(10, 0, 2, 2));
    assert_int_equal(f.dhcp_server, ip(10, 0, 2, 2));
    assert_true(f.has_root);
    assert_string_equal(f.root, "nova");
    dhcp_format_ip(f.client_ip, ipbuf);
    assert_string_equal(ipbuf, "10.0.2.15");
}

/** Options 1 and 3 for the NIC fast path; malformed ones stay 0. */
static void test_netmask_router(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    pkt_opt(&p, 1, "\xff\xff\xff\x00", 4);
    pkt_opt(&p, 3, "\x0a\x00\x02\x01\x0a\x00\x02\xfe", 8);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_int_equal(f.netmask, ip(255, 255, 255, 0));
    assert_int_equal(f.router, ip(10, 0, 2, 1)); /* the first of two */
    pkt_init(&p);
    pkt_opt(&p, 1, "\xff\xff\xff", 3);
    pkt_opt(&p, 3, "\x0a\x00\x02\x01\x0a", 5);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_int_equal(f.netmask, 0);
    assert_int_equal(f.router, 0);
}

static void test_no_root_path(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_false(f.has_root);
    assert_string_equal(f.root, "");
}

static void test_ciaddr_when_no_yiaddr(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    memset(p.b + 16, 0, 4);
    memcpy(p.b + 12, "\xc0\xa8\x00\x02", 4);
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_int_equal(f.client_ip, ip(192, 168, 0, 2));
}

static void test_too_short_or_not_reply(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    assert_int_equal(dhcp_parse(p.b, 235, &f), -PE_INVAL);
    assert_int_equal(dhcp_parse(NULL, 0, &f), -PE_INVAL);
    p.b[0] = 1; /* a request, not a reply */
    assert_int_equal(dhcp_parse(p.b, p.len, &f), -PE_INVAL);
    pkt_init(&p);
    p.b[2] = 17; /* hlen over 16 */
    assert_int_equal(dhcp_parse(p.b, p.len, &f), -PE_INVAL);
    p.b[2] = 0;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), -PE_INVAL);
}

static void test_truncated_option_stops_walk(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    pkt_opt(&p, 17, "root", 4);
    p.b[p.len++] = 67;
    p.b[p.len++] = 200; /* claims 200 bytes, packet ends first */
    memcpy(p.b + p.len, "abc", 3);
    p.len += 3;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_string_equal(f.root, "root");
    assert_false(f.has_bootfile);
}

static void test_bad_cookie_ignores_options(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    p.b[236] = 0;
    pkt_opt(&p, 17, "nova", 4);
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_false(f.has_root);
    assert_int_equal(f.server_ip, ip(10, 0, 2, 2));
}

static void test_root_path_with_nul_and_max_length(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    char big[255];
    (void)state;
    pkt_init(&p);
    pkt_opt(&p, 17, "ab\0cd", 5);
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_string_equal(f.root, "ab");
    pkt_init(&p);
    memset(big, 'r', sizeof(big));
    pkt_opt(&p, 17, big, 255);
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_int_equal(strlen(f.root), DHCP_MAX_ROOT);
}

static void test_overload_file_field(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    pkt_opt(&p, 52, "\x01", 1);
    p.b[p.len++] = 255;
    /* Options in the file field. */
    p.b[108] = 17;
    p.b[109] = 3;
    memcpy(p.b + 110, "l4x", 3);
    p.b[113] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_string_equal(f.root, "l4x");
    assert_false(f.has_bootfile);
}

static void test_bootfile_from_file_field(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    memcpy(p.b + 108, "pulsar", 7);
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_true(f.has_bootfile);
    assert_string_equal(f.bootfile, "pulsar");
}

/** Option 209 names the config file; the name is copied as a string. */
static void test_config_file_option(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    pkt_opt(&p, 209, "pxe/lab.cfg", 11);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_true(f.has_config);
    assert_string_equal(f.config, "pxe/lab.cfg");
}

/** Without option 209, or with an empty one, there is no override. */
static void test_config_file_absent_or_empty(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    (void)state;
    pkt_init(&p);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_false(f.has_config);
    assert_string_equal(f.config, "");

    pkt_init(&p);
    pkt_opt(&p, 209, "", 0);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_false(f.has_config);

    pkt_init(&p);
    pkt_opt(&p, 209, "\0x", 2); /* a leading NUL leaves an empty name */
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_false(f.has_config);
}

/** A 255-byte option 209 is kept whole (the lookup then says it is too
 * long for a TFTP path rather than fetching a cut-off name). */
static void test_config_file_long(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    char name[255];
    (void)state;
    memset(name, 'c', sizeof(name));
    pkt_init(&p);
    pkt_opt(&p, 209, name, sizeof(name));
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_parse(p.b, p.len, &f), 0);
    assert_true(f.has_config);
    assert_int_equal(strlen(f.config), sizeof(name));
}

static void test_random_packets_never_crash(void **state)
{
    uint8_t buf[600];
    struct dhcp_facts f;
    uint32_t seed = 99;
    (void)state;
    for (int round = 0; round < 5000; round++) {
        size_t len = 0;
        seed = seed * 1664525u + 1013904223u;
        len = (seed >> 8) % sizeof(buf);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1664525u + 1013904223u;
            buf[i] = (uint8_t)(seed >> 24);
        }
        if (len > 240) {
            buf[0] = 2;
            buf[2] = (uint8_t)(buf[2] % 17);
            memcpy(buf + 236, "\x63\x82\x53\x63", 4);
        }
        int rc = dhcp_parse(buf, len, &f);
        assert_true(rc == 0 || rc == -PE_INVAL);
        assert_true(strlen(f.root) <= DHCP_MAX_ROOT);
        assert_true(strlen(f.bootfile) < sizeof(f.bootfile));
    }
}

/**
 * dhcp_validate accepts what a real server sends: the malformed cases are
 * the table in tests/malformed/gen.py; here are the good ones next to
 * each limit.
 */
static void test_validate_accepts(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    char msg[256], root[128];
    (void)state;

    /* Plain reply with a root-path and a server id. */
    pkt_init(&p);
    pkt_opt(&p, 54, "\x0a\x00\x02\x02", 4);
    pkt_opt(&p, 17, "nova", 4);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_validate(p.b, p.len, &f, msg, sizeof(msg)), 0);
    assert_string_equal(f.root, "nova");

    /* Trailing NULs in the root-path: some servers count the NUL. */
    pkt_init(&p);
    pkt_opt(&p, 17, "nova\0\0", 6);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_validate(p.b, p.len, &f, msg, sizeof(msg)), 0);
    assert_string_equal(f.root, "nova");

    /* Exactly DHCP_MAX_ROOT bytes. */
    memset(root, 'r', DHCP_MAX_ROOT);
    pkt_init(&p);
    pkt_opt(&p, 17, root, DHCP_MAX_ROOT);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_validate(p.b, p.len, &f, msg, sizeof(msg)), 0);
    assert_int_equal(strlen(f.root), DHCP_MAX_ROOT);

    /* No END option, padding up to the buffer's end (a ROM's cache). */
    pkt_init(&p);
    pkt_opt(&p, 17, "x", 1);
    p.len += 100;
    assert_int_equal(dhcp_validate(p.b, p.len, &f, msg, sizeof(msg)), 0);

    /* Plain BOOTP: no magic cookie, no options at all. */
    pkt_init(&p);
    memset(p.b + 236, 0, 4);
    assert_int_equal(dhcp_validate(p.b, p.len, &f, msg, sizeof(msg)), 0);
    assert_false(f.has_root);

    /* Options overloaded into the file field, well-formed. */
    pkt_init(&p);
    pkt_opt(&p, 52, "\x01", 1);
    p.b[p.len++] = 255;
    memcpy(p.b + 108, "\x11\x04nova\xff", 7);
    assert_int_equal(dhcp_validate(p.b, p.len, &f, msg, sizeof(msg)), 0);
    assert_string_equal(f.root, "nova");

    /* ciaddr instead of yiaddr; a server on any unicast address. */
    pkt_init(&p);
    memcpy(p.b + 12, p.b + 16, 4);
    memset(p.b + 16, 0, 4);
    memcpy(p.b + 20, "\xdf\xff\xff\xfe", 4); /* 223.255.255.254 */
    assert_int_equal(dhcp_validate(p.b, p.len, &f, msg, sizeof(msg)), 0);
}

/* ------------------------------------------------------------ proxyDHCP */

/** A captured packet with @opts (code, len, bytes...) put before its end
 *  option (the captures end their options with 255, then padding). */
static size_t with_opts(uint8_t *out, const uint8_t *pkt, size_t len,
                        const uint8_t *opts, size_t olen)
{
    size_t i = 240;

    memcpy(out, pkt, len);
    while (i < len && out[i] != 255)
        i += out[i] ? 2u + out[i + 1] : 1u;
    assert_true(i < len && i + olen + 1 <= 600);
    memcpy(out + i, opts, olen);
    out[i + olen] = 255;
    return len > i + olen + 1 ? len : i + olen + 1;
}

/** ISC dhcpd leases the address only; dnsmasq's boot server ACK names
 *  the boot server and file (the real packets of one boot). */
static void test_proxy_real_boot_server_ack(void **state)
{
    struct dhcp_facts f;
    char msg[160], note[160], said[160], ipbuf[16];
    (void)state;
    assert_int_equal(dhcp_validate_pxe(isc_ack, sizeof(isc_ack),
                                       dnsmasq_pxebs_ack,
                                       sizeof(dnsmasq_pxebs_ack), &f, msg,
                                       sizeof(msg), note, sizeof(note)), 0);
    assert_string_equal(msg, "");
    assert_string_equal(note, "");
    assert_int_equal(f.client_ip, ip(10, 77, 0, 2));   /* the ACK's */
    assert_int_equal(f.netmask, ip(255, 255, 255, 0)); /* the ACK's */
    assert_int_equal(f.dhcp_server, ip(10, 77, 0, 1)); /* the ACK's */
    assert_int_equal(f.server_ip, ip(10, 77, 0, 5));   /* the proxy's */
    assert_int_equal(f.ack_server_ip, 0);
    assert_true(f.has_bootfile);
    assert_string_equal(f.bootfile, "pulsar.0");
    assert_false(f.has_root);
    assert_false(f.has_config);
    assert_int_equal(f.from_reply, DHCP_FROM_SERVER | DHCP_FROM_BOOTFILE);
    dhcp_format_ip(f.server_ip, ipbuf);
    assert_string_equal(ipbuf, "10.77.0.5");
    dhcp_describe_reply(&f, said, sizeof(said));
    assert_string_equal(said, "boot server 10.77.0.5 (the DHCP ACK names "
                        "none), boot file pulsar.0");
}

/** The ACK alone, or with the proxy's first offer (a menu, no server):
 *  no TFTP server, said as before. */
static void test_proxy_real_ack_alone(void **state)
{
    struct dhcp_facts f;
    char msg[160], note[160];
    (void)state;
    assert_int_equal(dhcp_validate(isc_ack, sizeof(isc_ack), &f, msg,
                                   sizeof(msg)), -PE_INVAL);
    assert_string_equal(msg, "the DHCP reply names no TFTP server "
                        "(next-server / siaddr is 0.0.0.0)");
    assert_int_equal(dhcp_validate_pxe(isc_ack, sizeof(isc_ack), NULL, 0,
                                       &f, msg, sizeof(msg), note,
                                       sizeof(note)), -PE_INVAL);
    assert_int_equal(dhcp_validate_pxe(isc_ack, sizeof(isc_ack),
                                       dnsmasq_proxy_offer,
                                       sizeof(dnsmasq_proxy_offer), &f, msg,
                                       sizeof(msg), note, sizeof(note)),
                     -PE_INVAL);
    assert_string_equal(note, "");
    assert_string_equal(msg, "the DHCP reply names no TFTP server "
                        "(next-server / siaddr is 0.0.0.0)");
    assert_int_equal(f.client_ip, ip(10, 77, 0, 2));
    assert_int_equal(f.from_reply, 0);
}

/** iPXE's type 3 on a plain network is a copy of the ACK: nothing is
 *  said to come from it. */
static void test_proxy_same_packet_twice(void **state)
{
    struct pkt p;
    struct dhcp_facts f;
    char msg[160], note[160], said[160];
    (void)state;
    pkt_init(&p);
    pkt_opt(&p, 17, "nova", 4);
    pkt_opt(&p, 67, "pulsar", 6);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_validate_pxe(p.b, p.len, p.b, p.len, &f, msg,
                                       sizeof(msg), note, sizeof(note)), 0);
    assert_int_equal(f.server_ip, ip(10, 0, 2, 2));
    assert_int_equal(f.from_reply, 0);
    assert_string_equal(f.root, "nova");
    dhcp_describe_reply(&f, said, sizeof(said));
    assert_string_equal(said, "");
}

/** Options 17, 209 and 210 from the reply: where the ACK lacks them and
 *  where it says otherwise (the reply wins, as in PXELINUX). */
static void test_proxy_boot_options(void **state)
{
    static const uint8_t reply_opts[] =
        "\x11\x04nova" "\xd1\x0b" "pulsar.conf" "\xd2\x05" "boot/";
    static const uint8_t ack_opts[] = "\x11\x05other" "\xd2\x02" "x/";
    uint8_t ack[600], reply[600];
    size_t alen, rlen;
    struct dhcp_facts f;
    char msg[160], note[160], said[200];
    (void)state;
    rlen = with_opts(reply, dnsmasq_pxebs_ack, sizeof(dnsmasq_pxebs_ack),
                     reply_opts, sizeof(reply_opts) - 1);
    assert_int_equal(dhcp_validate_pxe(isc_ack, sizeof(isc_ack), reply,
                                       rlen, &f, msg, sizeof(msg), note,
                                       sizeof(note)), 0);
    assert_string_equal(note, "");
    assert_string_equal(f.root, "nova");
    assert_string_equal(f.config, "pulsar.conf");
    assert_true(f.has_prefix);
    assert_string_equal(f.prefix, "boot/");
    assert_int_equal(f.from_reply, DHCP_FROM_SERVER | DHCP_FROM_BOOTFILE |
                                       DHCP_FROM_ROOT | DHCP_FROM_CONFIG |
                                       DHCP_FROM_PREFIX);
    dhcp_describe_reply(&f, said, sizeof(said));
    assert_string_equal(said, "boot server 10.77.0.5 (the DHCP ACK names "
                        "none), boot file pulsar.0, root-path 'nova', "
                        "option 209 'pulsar.conf', option 210 'boot/'");

    /* The ACK has its own: the reply's replace them. */
    alen = with_opts(ack, isc_ack, sizeof(isc_ack), ack_opts,
                     sizeof(ack_opts) - 1);
    memcpy(ack + 20, "\x0a\x4d\x00\x01", 4); /* siaddr 10.77.0.1 */
    assert_int_equal(dhcp_validate_pxe(ack, alen, reply, rlen, &f, msg,
                                       sizeof(msg), note, sizeof(note)), 0);
    assert_int_equal(f.server_ip, ip(10, 77, 0, 5));
    assert_int_equal(f.ack_server_ip, ip(10, 77, 0, 1));
    assert_string_equal(f.root, "nova");
    assert_string_equal(f.prefix, "boot/");
    dhcp_describe_reply(&f, said, sizeof(said));
    assert_true(strncmp(said, "boot server 10.77.0.5 (the DHCP ACK names "
                        "10.77.0.1), ", 52) == 0);

    /* A reply without them leaves the ACK's alone. */
    assert_int_equal(dhcp_validate_pxe(ack, alen, dnsmasq_pxebs_ack,
                                       sizeof(dnsmasq_pxebs_ack), &f, msg,
                                       sizeof(msg), note, sizeof(note)), 0);
    assert_string_equal(f.root, "other");
    assert_string_equal(f.prefix, "x/");
    assert_int_equal(f.from_reply, DHCP_FROM_SERVER | DHCP_FROM_BOOTFILE);
}

/** A broken or foreign reply is ignored with a note; the ACK still
 *  boots a normal network. */
static void test_proxy_bad_reply_ignored(void **state)
{
    struct pkt p;
    uint8_t reply[600];
    struct dhcp_facts f;
    char msg[160], note[160];
    (void)state;
    pkt_init(&p);
    p.b[p.len++] = 255;

    memcpy(reply, dnsmasq_pxebs_ack, sizeof(dnsmasq_pxebs_ack));
    reply[0] = 1; /* a request */
    assert_int_equal(dhcp_validate_pxe(p.b, p.len, reply,
                                       sizeof(dnsmasq_pxebs_ack), &f, msg,
                                       sizeof(msg), note, sizeof(note)), 0);
    assert_string_equal(note, "the PXE reply is ignored: it is not a BOOTP "
                        "reply (op 1)");
    assert_int_equal(f.server_ip, ip(10, 0, 2, 2));
    assert_int_equal(f.from_reply, 0);

    assert_int_equal(dhcp_validate_pxe(p.b, p.len, dnsmasq_pxebs_ack, 100,
                                       &f, msg, sizeof(msg), note,
                                       sizeof(note)), 0);
    assert_string_equal(note, "the PXE reply is ignored: it is 100 bytes, "
                        "shorter than a BOOTP packet (236)");

    /* Another client's MAC (pkt_init's is the capture's). */
    memcpy(reply, dnsmasq_pxebs_ack, sizeof(dnsmasq_pxebs_ack));
    reply[33] ^= 1;
    assert_int_equal(dhcp_validate_pxe(p.b, p.len, reply,
                                       sizeof(dnsmasq_pxebs_ack), &f, msg,
                                       sizeof(msg), note, sizeof(note)), 0);
    assert_int_equal(f.server_ip, ip(10, 0, 2, 2));
    assert_string_equal(note, "the PXE reply is ignored: it is for another "
                        "hardware address than the DHCP ACK");

    /* A malformed option: the whole reply is ignored. */
    {
        static const uint8_t bad[] = "\x34\x01\x07"; /* overload 7 */
        size_t n = with_opts(reply, dnsmasq_pxebs_ack,
                             sizeof(dnsmasq_pxebs_ack), bad, sizeof(bad) - 1);
        assert_int_equal(dhcp_validate_pxe(isc_ack, sizeof(isc_ack), reply,
                                           n, &f, msg, sizeof(msg), note,
                                           sizeof(note)), -PE_INVAL);
        assert_string_equal(note, "the PXE reply is ignored: DHCP option 52 "
                            "(overload) is malformed: length 1, value 7");
        assert_string_equal(msg, "the DHCP reply names no TFTP server "
                            "(next-server / siaddr is 0.0.0.0)");
    }

    /* A multicast siaddr in the reply is not taken. */
    memcpy(reply, dnsmasq_pxebs_ack, sizeof(dnsmasq_pxebs_ack));
    memcpy(reply + 20, "\xe0\x00\x00\x01", 4);
    assert_int_equal(dhcp_validate_pxe(p.b, p.len, reply,
                                       sizeof(dnsmasq_pxebs_ack), &f, msg,
                                       sizeof(msg), note, sizeof(note)), 0);
    assert_int_equal(f.server_ip, ip(10, 0, 2, 2));
    assert_int_equal(f.from_reply, DHCP_FROM_BOOTFILE);
}

/** dhcp_merge alone, as the UEFI face may call it. */
static void test_merge_facts(void **state)
{
    struct dhcp_facts a, r;
    (void)state;
    memset(&a, 0, sizeof(a));
    memset(&r, 0, sizeof(r));
    a.client_ip = ip(10, 0, 0, 9);
    a.netmask = ip(255, 0, 0, 0);
    r.client_ip = ip(10, 0, 0, 77);
    r.netmask = ip(255, 255, 0, 0);
    r.router = ip(10, 0, 0, 1);
    r.server_ip = ip(10, 0, 0, 2);
    dhcp_merge(&a, &r);
    assert_int_equal(a.client_ip, ip(10, 0, 0, 9)); /* address facts stay */
    assert_int_equal(a.netmask, ip(255, 0, 0, 0));
    assert_int_equal(a.router, 0);
    assert_int_equal(a.server_ip, ip(10, 0, 0, 2));
    assert_int_equal(a.from_reply, DHCP_FROM_SERVER);
}

/* ------------------------------------------ dhcp_validate_efi (UEFI) */

/** An ACK (client 10.0.2.15) with @si as next-server and option 54. */
static void ack_pkt(struct pkt *p, uint32_t si, uint32_t server_id)
{
    pkt_init(p);
    memcpy(p->b + 20, &si, 4);
    if (server_id)
        pkt_opt(p, 54, &server_id, 4);
    p->b[p->len++] = 255;
}

/** A proxy offer or PXE reply: no client address, its own next-server. */
static void other_pkt(struct pkt *p, uint32_t si, const char *root,
                      const char *config)
{
    pkt_init(p);
    memset(p->b + 16, 0, 4);
    memcpy(p->b + 20, &si, 4);
    if (root)
        pkt_opt(p, 17, root, (uint8_t)strlen(root));
    if (config)
        pkt_opt(p, 209, config, (uint8_t)strlen(config));
    p->b[p->len++] = 255;
}

static void test_merge_ack_only(void **state)
{
    struct pkt ack;
    struct dhcp_facts f;
    char msg[128];
    (void)state;
    ack_pkt(&ack, ip(10, 0, 2, 2), ip(10, 0, 2, 3));
    assert_int_equal(dhcp_validate_efi(ack.b, ack.len, NULL, 0, NULL, 0, &f, msg,
                                sizeof(msg)), 0);
    assert_int_equal(f.client_ip, ip(10, 0, 2, 15));
    assert_int_equal(f.server_ip, ip(10, 0, 2, 2));
    assert_false(f.has_root);
}

/** No next-server anywhere: the ACK's server identifier. */
static void test_merge_server_identifier(void **state)
{
    struct pkt ack;
    struct dhcp_facts f;
    char msg[128];
    (void)state;
    ack_pkt(&ack, 0, ip(10, 0, 2, 3));
    assert_int_equal(dhcp_validate_efi(ack.b, ack.len, NULL, 0, NULL, 0, &f, msg,
                                sizeof(msg)), 0);
    assert_int_equal(f.server_ip, ip(10, 0, 2, 3));
    /* Neither: refused as dhcp_validate refuses it. */
    ack_pkt(&ack, 0, 0);
    assert_int_equal(dhcp_validate_efi(ack.b, ack.len, NULL, 0, NULL, 0, &f, msg,
                                sizeof(msg)), -PE_INVAL);
    assert_non_null(strstr(msg, "next-server"));
}

/** The PXE reply before the proxy offer before the ACK, field by field. */
static void test_merge_order(void **state)
{
    struct pkt ack, proxy, reply;
    struct dhcp_facts f;
    char msg[128];
    (void)state;
    ack_pkt(&ack, ip(10, 0, 2, 2), 0);
    pkt_opt(&ack, 17, "ackroot", 7); /* after the END: not seen */
    other_pkt(&proxy, ip(10, 0, 2, 4), "proxyroot", "proxy.cfg");
    other_pkt(&reply, ip(10, 0, 2, 5), NULL, "reply.cfg");
    assert_int_equal(dhcp_validate_efi(ack.b, ack.len, proxy.b, proxy.len, reply.b,
                                reply.len, &f, msg, sizeof(msg)), 0);
    assert_int_equal(f.client_ip, ip(10, 0, 2, 15));
    assert_int_equal(f.server_ip, ip(10, 0, 2, 5));
    assert_true(f.has_root);
    assert_string_equal(f.root, "proxyroot");
    assert_true(f.has_config);
    assert_string_equal(f.config, "reply.cfg");
    /* Without the reply: the proxy's server and config. */
    assert_int_equal(dhcp_validate_efi(ack.b, ack.len, proxy.b, proxy.len, NULL, 0,
                                &f, msg, sizeof(msg)), 0);
    assert_int_equal(f.server_ip, ip(10, 0, 2, 4));
    assert_string_equal(f.config, "proxy.cfg");
    /* A proxy without a next-server leaves the ACK's. */
    other_pkt(&proxy, 0, "proxyroot", NULL);
    assert_int_equal(dhcp_validate_efi(ack.b, ack.len, proxy.b, proxy.len, NULL, 0,
                                &f, msg, sizeof(msg)), 0);
    assert_int_equal(f.server_ip, ip(10, 0, 2, 2));
    assert_string_equal(f.root, "proxyroot");
}

/** A packet's length in a fixed buffer: up to its end option. */
static void test_packet_len(void **state)
{
    struct pkt p;
    (void)state;
    pkt_init(&p);
    p.b[p.len++] = 0; /* a pad */
    pkt_opt(&p, 54, "\x0a\x00\x02\x02", 4);
    p.b[p.len++] = 255;
    assert_int_equal(dhcp_packet_len(p.b, sizeof(p.b)), p.len);
    /* No end option: the whole buffer. */
    p.b[p.len - 1] = 0;
    assert_int_equal(dhcp_packet_len(p.b, sizeof(p.b)), sizeof(p.b));
    /* An option whose length runs off the buffer. */
    pkt_init(&p);
    pkt_opt(&p, 17, "nova", 4);
    assert_int_equal(dhcp_packet_len(p.b, p.len - 2), p.len - 2);
    /* A code with no length byte left, and a buffer shorter than the
     * fixed part. */
    assert_int_equal(dhcp_packet_len(p.b, 241), 241);
    assert_int_equal(dhcp_packet_len(p.b, 100), 100);
}

/** Packets that do not parse are ignored; the ACK must be valid. */
static void test_merge_bad_packets(void **state)
{
    struct pkt ack, junk;
    struct dhcp_facts f;
    char msg[128];
    (void)state;
    ack_pkt(&ack, ip(10, 0, 2, 2), 0);
    memset(&junk, 0xAA, sizeof(junk));
    assert_int_equal(dhcp_validate_efi(ack.b, ack.len, junk.b, 300, junk.b, 10, &f,
                                msg, sizeof(msg)), 0);
    assert_int_equal(f.server_ip, ip(10, 0, 2, 2));
    assert_int_equal(dhcp_validate_efi(junk.b, 300, NULL, 0, NULL, 0, &f, msg,
                                sizeof(msg)), -PE_INVAL);
    assert_int_equal(dhcp_validate_efi(NULL, 0, ack.b, ack.len, NULL, 0, &f, msg,
                                sizeof(msg)), -PE_INVAL);
    /* A huge ACK is read up to DHCP_MERGE_MAX bytes. */
    uint8_t *big = calloc(1, DHCP_MERGE_MAX * 2);
    assert_non_null(big);
    memcpy(big, ack.b, ack.len);
    assert_int_equal(dhcp_validate_efi(big, DHCP_MERGE_MAX * 2, NULL, 0, NULL, 0,
                                &f, msg, sizeof(msg)), 0);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_facts),
        cmocka_unit_test(test_netmask_router),
        cmocka_unit_test(test_no_root_path),
        cmocka_unit_test(test_ciaddr_when_no_yiaddr),
        cmocka_unit_test(test_too_short_or_not_reply),
        cmocka_unit_test(test_truncated_option_stops_walk),
        cmocka_unit_test(test_bad_cookie_ignores_options),
        cmocka_unit_test(test_root_path_with_nul_and_max_length),
        cmocka_unit_test(test_overload_file_field),
        cmocka_unit_test(test_bootfile_from_file_field),
        cmocka_unit_test(test_config_file_option),
        cmocka_unit_test(test_config_file_absent_or_empty),
        cmocka_unit_test(test_config_file_long),
        cmocka_unit_test(test_random_packets_never_crash),
        cmocka_unit_test(test_validate_accepts),
        cmocka_unit_test(test_proxy_real_boot_server_ack),
        cmocka_unit_test(test_proxy_real_ack_alone),
        cmocka_unit_test(test_proxy_same_packet_twice),
        cmocka_unit_test(test_proxy_boot_options),
        cmocka_unit_test(test_proxy_bad_reply_ignored),
        cmocka_unit_test(test_merge_facts),
        cmocka_unit_test(test_merge_ack_only),
        cmocka_unit_test(test_merge_server_identifier),
        cmocka_unit_test(test_merge_order),
        cmocka_unit_test(test_merge_bad_packets),
        cmocka_unit_test(test_packet_len),
    };
    return cmocka_run_group_tests_name("dhcp", tests, NULL, NULL);
}
