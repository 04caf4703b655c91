/*
 * libFuzzer target: the cached DHCP reply (net/dhcp.c): dhcp_parse and
 * dhcp_validate on any bytes, and dhcp_validate_efi (UEFI's three packets) on
 * the bytes cut in three.
 *
 * Checks beyond the sanitizers: the strings Pulsar takes from the packet
 * are terminated and within their limits; what dhcp_validate accepts has
 * a client address, a unicast server and a root-path without a NUL; a
 * refusal always says why.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/errno.h"
#include "net/dhcp.h"

/** dhcp_validate_efi on @data cut in three: what it accepts is sane. */
static void merge(const uint8_t *data, size_t size)
{
    struct dhcp_facts f;
    char msg[256];
    size_t third = size / 3;
    int rc;

    memset(msg, 'x', sizeof(msg));
    rc = dhcp_validate_efi(data, third, data + third, third, data + 2 * third,
                    size - 2 * third, &f, msg, sizeof(msg));
    assert(memchr(msg, '\0', sizeof(msg)));
    if (rc != 0) {
        assert(rc == -PE_INVAL && msg[0] != '\0');
        return;
    }
    assert(f.client_ip != 0 && f.server_ip != 0);
    assert(memchr(f.root, '\0', sizeof(f.root)));
    assert(memchr(f.config, '\0', sizeof(f.config)));
    assert(memchr(f.bootfile, '\0', sizeof(f.bootfile)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dhcp_facts f, g;
    char msg[256], mac[48], ip[16];
    int rc;

    merge(data, size);
    rc = dhcp_parse(data, size, &f);
    assert(rc == 0 || rc == -PE_INVAL);
    assert(memchr(f.root, '\0', sizeof(f.root)));
    assert(memchr(f.bootfile, '\0', sizeof(f.bootfile)));
    assert(f.mac_len <= 16);

    memset(msg, 'x', sizeof(msg));
    rc = dhcp_validate(data, size, &g, msg, sizeof(msg));
    assert(memchr(msg, '\0', sizeof(msg)));
    if (rc != 0) {
        assert(rc == -PE_INVAL && msg[0] != '\0');
        return 0;
    }
    assert(msg[0] == '\0');
    /* What validate accepts, parse read the same way (the fields after
     * ack_server_ip are validate's own: the merge's record). */
    assert(memcmp(&f, &g, offsetof(struct dhcp_facts, ack_server_ip)) == 0);
    assert(g.ack_server_ip == g.server_ip && g.from_reply == 0);
    assert(g.client_ip != 0 && g.server_ip != 0);
    const uint8_t *s = (const uint8_t *)&g.server_ip;
    assert(s[0] != 0 && s[0] != 127 && s[0] < 224);
    assert(g.mac_len >= 1 && g.mac_len <= 16);
    assert(strlen(g.root) <= DHCP_MAX_ROOT);
    dhcp_format_mac(g.mac, g.mac_len, '-', mac);
    assert(strlen(mac) == g.mac_len * 3u - 1);
    dhcp_format_ip(g.server_ip, ip);
    assert(strlen(ip) >= 7 && strlen(ip) <= 15);
    return 0;
}
