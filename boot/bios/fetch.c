/* Fetching one file with retries; see fetch.h and loader/retry.h. */
#include "boot/bios/fetch.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "boot/bios/bios.h"
#include "boot/bios/source_bios.h"
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
static void failure_detail(struct fetch_failure *why, int rc,
                           const struct xfer_result *res)
{
    why->detail[0] = '\0';
    if (rc == -PE_NOENT || rc == -PE_SHORT || rc == -PE_RANGE ||
        rc == -PE_CHANGED || rc == -PE_NOMEM)
        return;
    snprintf(why->detail, sizeof(why->detail), "%s", res->detail);
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
    const struct file_source *src = bios_file_source();
    struct xfer_result res;
    int rc;

    failure_init(why, server, 0, 0);
    why->size_query = true;
    for (;;) {
        rc = src->size(src, server, path, size, &res);
        why->tries++;
        if (rc == 0)
            return 0;
        failure_detail(why, rc, &res);
        if (!retry_transfer_worth(rc, false) ||
            why->tries >= RETRY_TRANSFER_TRIES)
            return rc;
        backoff(path, rc, why);
    }
}

/** The boot flow's sink, and the progress line the source leaves to it. */
struct progress_sink {
    tftp_sink_fn fn;
    void *ctx;
};

static int progress_data(void *ctx, uint32_t off, const uint8_t *data,
                         size_t len)
{
    struct progress_sink *p = ctx;
    int rc = p->fn(p->ctx, off, data, len);
    if (rc == 0)
        console_progress(off + (uint32_t)len);
    return rc;
}

/** Fetch a file into a sink, retrying from its first byte; see fetch.h. */
int fetch_file(uint32_t server, const char *path, uint32_t size,
               uint32_t max, tftp_sink_fn sink, void *ctx, uint32_t *got,
               struct fetch_failure *why)
{
    const struct file_source *src = bios_file_source();
    struct progress_sink ps = { sink, ctx };
    /* No sink->size: the boot flow asked for the size already. */
    const struct file_sink fs = { NULL, progress_data, &ps };
    struct xfer_result res;
    int rc;

    failure_init(why, server, size, size ? size : max);
    for (;;) {
        rc = src->fetch(src, server, path, size ? size : max, &fs, &res);
        *got = res.got;
        why->tries++;
        why->got = *got;
        if (rc == 0 && size && *got < size)
            rc = -PE_SHORT; /* a half-copied file, or a lost last packet */
        if (rc == 0)
            return 0;
        failure_detail(why, rc, &res);
        if (!retry_transfer_worth(rc, size != 0) ||
            why->tries >= RETRY_TRANSFER_TRIES)
            return rc;
        backoff(path, rc, why);
    }
}
