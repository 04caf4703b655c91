/*
 * Which config file a machine boots with, in the PXELINUX tradition:
 * config-<mac>, then config-<client IP in upper-case hex> shortened one
 * digit at a time, then config-default; DHCP option 209 replaces the whole
 * list with the one name it gives.  Pure C, shared by Pulsar and
 * pulsar-check so both try the same names and say the same things.
 */
#ifndef PULSAR_LOOKUP_H
#define PULSAR_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/** Most names tried: the MAC, eight IP prefixes, "default". */
#define CFG_LOOKUP_MAX 10
/** Longest name plus NUL (option 209 may carry 255 bytes). */
#define CFG_NAME_MAX 256

/** The names to try, in order. */
struct cfg_lookup {
    unsigned n;
    char name[CFG_LOOKUP_MAX][CFG_NAME_MAX];
};

/**
 * Build the list of names: @override (DHCP option 209; NULL or "" for
 * none) alone when given, else config-<mac> (lower-case hex joined by
 * dashes), config-<IP> for @client_ip (network byte order; skipped when 0)
 * as 8 upper-case hex digits and every shorter prefix down to one digit,
 * and config-default.
 */
void cfg_lookup_names(struct cfg_lookup *l, const uint8_t *mac,
                      unsigned mac_len, uint32_t client_ip,
                      const char *override);

/** Receives one progress line (no newline) for the console. */
typedef void (*cfg_say_fn)(void *ctx, const char *line);

/**
 * Fetch the first name of @l that exists, each joined to @st's root and
 * fetched from @st's server.  Every name tried is reported through @say as
 * "config <path> from <ip>: not found" or "...: <n> bytes".  Only a missing
 * file (-PE_NOENT) moves on to the next name; any other failure stops.
 * @text, @len: out: the contents (malloc'ed, the caller frees)
 * @path: out: the path found (CFG_MAX_PATH + 1 bytes)
 * @err: out: the message on failure (CFG_ERR_LEN bytes)
 * Returns 0, -PE_NOENT when no name exists, or the fetch's error.
 */
int cfg_lookup_fetch(const struct cfg_lookup *l, const struct cfg_state *st,
                     cfg_fetch_fn fetch, void *ctx, cfg_say_fn say,
                     void *say_ctx, char **text, size_t *len, char *path,
                     char *err);

#endif
