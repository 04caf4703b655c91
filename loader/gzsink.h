/*
 * A file sink that unpacks gzip: wrapped around a file's own sink, it
 * looks at the first bytes of each try and, when they are the gzip magic
 * (never the name), feeds the rest through the streaming decoder
 * (lib/inflate.h), so the inner sink sees the unpacked file at unpacked
 * offsets and each byte goes straight to its place.  Other files pass
 * through untouched, their announced size with them; an unpacked file's
 * size is only known at its end, so the inner sink gets none.  Pure C.
 */
#ifndef PULSAR_GZSINK_H
#define PULSAR_GZSINK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "lib/inflate.h"
#include "loader/source.h"

struct gz_sink {
    const struct file_sink *inner;
    const struct cfg_item *it; /* for messages */
    struct gz_stream *z;       /* shared: one file unpacks at a time */
    uint32_t size;             /* the announced (packed) size */
    bool have_size;
    bool gzip;                 /* this try's file is gzip */
    bool failed;               /* the stream was refused: msg says why */
    char *msg;                 /* "file:line: exec: path: why at byte N" */
    size_t msglen;
};

/**
 * Wrap @inner for @it; @sink becomes the sink to fetch into.  Messages
 * about a damaged stream go to @msg (@msglen bytes).
 */
void gz_sink_init(struct gz_sink *g, struct file_sink *sink,
                  const struct file_sink *inner, const struct cfg_item *it,
                  char *msg, size_t msglen);

/** After a complete transfer: check the stream's end.  Returns 0 or rc. */
int gz_sink_finish(struct gz_sink *g);

/** The bytes the inner sink got: unpacked or as fetched (@got). */
uint32_t gz_sink_size(const struct gz_sink *g, uint32_t got);
#endif
