/* Fetching one file with retries; see fetch.h and loader/retry.h. */
#include "boot/bios/fetch.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "boot/bios/bios.h"
#include "boot/bios/pxe.h"
#include <stdio.h>
#include <string.h>

/** Start a failure record for @server. */
static void failure_init(struct fetch_failure *why, uint32_t server,
                         uint32_t size, uint32_t max)
{
    memset(why, 0, sizeof(*why));
    why->server = server;
    why->size = size;
    why->max = max;
}

/** Record what the client or the ROM said about a failed transfer. */
static void failure_detail(struct fetch_failure *why, int rc)
{
    why->detail[0] = '\0';
    if (rc == -PE_NOENT || rc == -PE_SHORT || rc == -PE_RANGE ||
        rc == -PE_CHANGED || rc == -PE_NOMEM)
        return;
    if (tftp_last_detail[0]) {
        /* Pulsar's own client saw the packets: say what was wrong. */
        snprintf(why->detail, sizeof(why->detail), "%s", tftp_last_detail);
        return;
    }
    if (!pxe_last_status)
        return;
    snprintf(why->detail, sizeof(why->detail), "PXE status 0x%02x: %s",
             pxe_last_status, pxe_status_str(pxe_last_status));
}

/** Say that try @tries failed and when the next one comes; then wait. */
static void backoff(const char *path, int rc, struct fetch_failure *why)
{
    struct fetch_failure this_try = *why;
    char text[160];
    unsigned ms = retry_backoff_ms(why->tries);

    this_try.tries = 1; /* the count is in "try N of M" */
    printf("pulsar: %s: %s; try %u of %u in %u s\n", path,
           retry_describe(rc, &this_try, text, sizeof(text)),
           why->tries + 1, RETRY_TRANSFER_TRIES, ms / 1000);
    bios_sleep_ms(ms);
}

/** Ask for a file's size, retrying; see fetch.h. */
int fetch_size(uint32_t server, const char *path, uint32_t *size,
               struct fetch_failure *why)
{
    int rc;

    failure_init(why, server, 0, 0);
    why->size_query = true;
    for (;;) {
        pxe_last_status = 0;
        rc = tftp_size(server, path, size);
        why->tries++;
        if (rc == 0)
            return 0;
        failure_detail(why, rc);
        if (!retry_transfer_worth(rc, false) ||
            why->tries >= RETRY_TRANSFER_TRIES)
            return rc;
        backoff(path, rc, why);
    }
}

/** Fetch a file into a sink, retrying from its first byte; see fetch.h. */
int fetch_file(uint32_t server, const char *path, uint32_t size,
               uint32_t max, tftp_sink_fn sink, void *ctx, uint32_t *got,
               struct fetch_failure *why)
{
    int rc;

    failure_init(why, server, size, size ? size : max);
    for (;;) {
        pxe_last_status = 0;
        rc = tftp_fetch(server, path, size ? size : max, sink, ctx, got,
                        NULL);
        why->tries++;
        why->got = *got;
        if (rc == 0 && size && *got < size)
            rc = -PE_SHORT; /* a half-copied file, or a lost last packet */
        if (rc == 0)
            return 0;
        failure_detail(why, rc);
        if (!retry_transfer_worth(rc, size != 0) ||
            why->tries >= RETRY_TRANSFER_TRIES)
            return rc;
        backoff(path, rc, why);
    }
}
