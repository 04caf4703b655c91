/*
 * Pulsar's recovery policy, in one place (docs/servers.md, "When things
 * go wrong"):
 *
 * - One file: a transfer that fails on the way (the server stops
 *   answering, the ROM reports an error, the file ends early or runs
 *   long) is restarted from its first byte, at most RETRY_TRANSFER_TRIES
 *   times in all, waiting RETRY_BACKOFF_MS before the second try and
 *   twice as long before each further one.  The file keeps the place it
 *   was given on the first try.  A verdict from the server ("not found",
 *   "access denied") and a broken file are not retried: the next boot
 *   attempt will look again.
 * - The whole boot: when an attempt fails (a file is missing, the config
 *   or a kernel is broken, a transfer failed every try), Pulsar prints
 *   the reason, waits retry_boot_wait_s() seconds (a key, or a byte on
 *   COM1, ends the wait at once) and starts over from reading the DHCP
 *   facts and fetching the config, with a fresh heap, placer and config.
 *
 * Pure C: the decisions and the failure text are unit-tested on the host.
 */
#ifndef PULSAR_RETRY_H
#define PULSAR_RETRY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Tries per file within one boot attempt (the first one included). */
#define RETRY_TRANSFER_TRIES 3
/** Wait before the second try of a file; doubles for each further try. */
#define RETRY_BACKOFF_MS 1000u
/** Wait after the first failed boot attempt; grows by this much each. */
#define RETRY_BOOT_WAIT_S 10u
/** The longest wait between two boot attempts. */
#define RETRY_BOOT_WAIT_MAX_S 60u

/** What Pulsar knows about a failed fetch, for the message. */
struct fetch_failure {
    uint32_t server; /* network byte order */
    char where[64];  /* the server as messages name it: a URL's host, or
                        "" for @server's dotted quad */
    uint32_t got;    /* bytes received by the last try */
    uint32_t size;   /* the size the server announced; 0: not asked */
    uint32_t max;    /* the limit the file had to fit in */
    unsigned tries;  /* tries made */
    bool size_query; /* it failed while asking for the size */
    bool no_client;  /* nothing was tried: the face has no client for the
                        file's kind (HTTP); @detail says so */
    char detail[96]; /* what the client saw, e.g. "PXE status 0x35: ..." */
};

/** Is a transfer that failed with @rc worth another try? */
bool retry_transfer_worth(int rc, bool size_known);

/** Milliseconds to wait after try @tries_done (1, 2, ...) failed. */
unsigned retry_backoff_ms(unsigned tries_done);

/** Seconds to wait after @failed (1, 2, ...) boot attempts failed. */
unsigned retry_boot_wait_s(unsigned failed);

/**
 * Describe a failed fetch for a person, without the file name (the caller
 * puts "file:line: verb: path: " in front), e.g. "timed out on 10.0.2.2
 * after 2864 of 12600 bytes, 3 tries (PXE status 0x35: TFTP read
 * timeout)".  Returns @buf.
 */
char *retry_describe(int rc, const struct fetch_failure *f, char *buf,
                     size_t len);
#endif
