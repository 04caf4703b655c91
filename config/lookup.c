/* The config file lookup order; see lookup.h. */
#include <stdio.h>
#include <string.h>

#include "config/lookup.h"
#include "lib/errno.h"
#include "net/dhcp.h"
#include "net/url.h"

/** Build the list of names to try; see lookup.h. */
void cfg_lookup_names(struct cfg_lookup *l, const uint8_t *mac,
                      unsigned mac_len, uint32_t client_ip,
                      const char *override)
{
    char text[3 * 16];
    const uint8_t *ip = (const uint8_t *)&client_ip;
    unsigned digits;

    l->n = 0;
    if (override && *override) {
        snprintf(l->name[l->n++], CFG_NAME_MAX, "%s", override);
        return;
    }
    if (mac_len > 16)
        mac_len = 16;
    dhcp_format_mac(mac, mac_len, '-', text);
    snprintf(l->name[l->n++], CFG_NAME_MAX, "config-%s", text);
    if (client_ip) {
        snprintf(text, sizeof(text), "%02X%02X%02X%02X", ip[0], ip[1], ip[2],
                 ip[3]);
        for (digits = 8; digits >= 1; digits--)
            snprintf(l->name[l->n++], CFG_NAME_MAX, "config-%.*s",
                     (int)digits, text);
    }
    snprintf(l->name[l->n++], CFG_NAME_MAX, "config-default");
}

/** Try each name until one exists; see lookup.h. */
int cfg_lookup_fetch(const struct cfg_lookup *l, const struct cfg_state *st,
                     cfg_fetch_fn fetch, void *ctx, cfg_say_fn say,
                     void *say_ctx, char **text, size_t *len, char *path,
                     char *err)
{
    char why[CFG_ERR_LEN], line[CFG_ERR_LEN + 64], ip[64];
    unsigned i;
    int rc = -PE_NOENT;

    url_server_name(st->server, st->root, ip, sizeof(ip));
    err[0] = '\0';
    for (i = 0; i < l->n; i++) {
        if (cfg_join_path(st->root, l->name[i], path) != 0) {
            snprintf(err, CFG_ERR_LEN, "%.64s: path too long under root "
                     "'%.64s' (over %u bytes)", l->name[i], st->root,
                     CFG_MAX_PATH);
            return -PE_TOOLONG;
        }
        why[0] = '\0';
        url_server_name(st->server, path, ip, sizeof(ip));
        rc = fetch(ctx, st, path, text, len, why);
        if (rc == 0) {
            snprintf(line, sizeof(line), "config %s from %s: %u bytes", path,
                     ip, (unsigned)*len);
            say(say_ctx, line);
            return 0;
        }
        snprintf(line, sizeof(line), "config %s from %s: %s", path, ip,
                 rc == -PE_NOENT ? "not found" : "failed");
        say(say_ctx, line);
        if (rc != -PE_NOENT) {
            snprintf(err, CFG_ERR_LEN, "%s: %.120s", path,
                     why[0] ? why : pulsar_strerror(rc));
            return rc < 0 ? rc : -PE_IO;
        }
    }
    if (l->n == 1)
        snprintf(err, CFG_ERR_LEN, "%s: %.120s", path,
                 why[0] ? why : "not found");
    else
        snprintf(err, CFG_ERR_LEN, "no config file on %s: none of the %u "
                 "names above exists", ip, l->n);
    return -PE_NOENT;
}
