/* The unpacking file sink; see gzsink.h. */
#include <stdio.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/gzsink.h"
#include "loader/plan.h"

/** The decoder's state is large: one, as one file is fetched at a time. */
static struct gz_stream gz_state;

/** Say why the stream was refused, with the byte offset. */
static int gz_sink_refuse(struct gz_sink *g)
{
    const struct gz_stream *z = g->z;
    size_t n;

    if (z->error == GZ_OUT)
        return z->out_rc; /* the inner sink's own refusal and message */
    n = plan_prefix(g->msg, g->msglen, g->it);
    snprintf(g->msg + n, g->msglen - n, "gzip: %s at byte %u of the file",
             gz_strerror(z->error), z->error_at);
    g->failed = true;
    return -PE_INVAL;
}

/** gz_out_fn: unpacked bytes to the inner sink. */
static int gz_sink_out(void *ctx, uint32_t off, const uint8_t *data,
                       size_t len)
{
    struct gz_sink *g = ctx;

    return g->inner->data(g->inner->ctx, off, data, len);
}

/** file_sink.size: held until the first bytes say whether it is gzip. */
static int gz_sink_size_cb(void *ctx, uint32_t size)
{
    struct gz_sink *g = ctx;

    g->size = size;
    g->have_size = true;
    return 0;
}

/** file_sink.data: decide at offset 0 of each try, then pass or unpack. */
static int gz_sink_data(void *ctx, uint32_t off, const uint8_t *data,
                        size_t len)
{
    struct gz_sink *g = ctx;
    int rc;

    if (off == 0) {
        g->gzip = gz_magic(data, len);
        if (g->gzip)
            gz_init(g->z, gz_sink_out, g);
        else if (g->have_size && g->inner->size &&
                 (rc = g->inner->size(g->inner->ctx, g->size)) != 0)
            return rc;
    }
    if (!g->gzip)
        return g->inner->data(g->inner->ctx, off, data, len);
    return gz_feed(g->z, data, len) == 0 ? 0 : gz_sink_refuse(g);
}

/** Wrap a sink; see gzsink.h. */
void gz_sink_init(struct gz_sink *g, struct file_sink *sink,
                  const struct file_sink *inner, const struct cfg_item *it,
                  char *msg, size_t msglen)
{
    memset(g, 0, sizeof(*g));
    g->inner = inner;
    g->it = it;
    g->z = &gz_state;
    g->msg = msg;
    g->msglen = msglen;
    /* No whole(): where the file goes is only known once it is seen. */
    *sink = (struct file_sink){ gz_sink_size_cb, gz_sink_data, g, NULL,
                                inner->arriving };
}

/** Check the end of the stream; see gzsink.h. */
int gz_sink_finish(struct gz_sink *g)
{
    if (!g->gzip)
        return 0;
    return gz_finish(g->z) == 0 ? 0 : gz_sink_refuse(g);
}

/** The inner sink's size; see gzsink.h. */
uint32_t gz_sink_size(const struct gz_sink *g, uint32_t got)
{
    return g->gzip ? gz_unpacked(g->z) : got;
}
