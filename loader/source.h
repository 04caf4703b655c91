/*
 * Where files come from.  A file source is what a firmware face gives the
 * boot session (loader/session.h) to reach files: the BIOS NBP's TFTP over
 * the PXE ROM or its own NIC driver, the UEFI build's network stacks,
 * pulsar-check's directories, a unit test's memory.  The session never
 * knows which one it talks to; it asks a size, or streams a file into a
 * sink, and gets a struct xfer_result back, never a global.
 *
 * Contract of a transfer:
 *   - sink->size (when not NULL) is called once per try, before any data,
 *     with the size the server announced (TFTP tsize, GET_FSIZE, HTTP
 *     Content-Length), when the source knows it; a non-zero return aborts
 *     the transfer with that rc.
 *   - sink->data gets the file's bytes in order, [off, off+len); a retry
 *     (the session's business) starts again at offset 0.
 *   - sink->whole (when not NULL) may be called after sink->size, by a
 *     source that gets a file only whole (UEFI Mtftp READ_FILE), with the
 *     size sink->size accepted: it returns where all @size bytes may be
 *     written at once (the destination itself), or NULL (write into a
 *     buffer of the source's own, as without the hook).  The source then
 *     writes there and still reports the bytes through sink->data, with
 *     @data pointing into that memory (&ptr[off]): the sink checks them
 *     and skips the copy.  The source writes nothing past @size bytes.
 *   - sink->arriving (when not NULL) may be called by such a source while
 *     the file arrives, with how much has: for the progress line only.
 *   - Progress on the console is the sink's business, not the source's.
 *   - The source never retries and never prints.
 */
#ifndef PULSAR_SOURCE_H
#define PULSAR_SOURCE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** What one transfer or size query came to. */
struct xfer_result {
    int rc;             /* 0 or a negative pulsar_err */
    uint32_t got;       /* bytes handed to the sink */
    uint32_t size;      /* the size the server announced, 0: unknown */
    uint16_t blksize;   /* the block size granted, 0: not TFTP */
    uint16_t window;    /* the RFC 7440 window granted, 0/1: lock-step */
    uint32_t fw_status; /* the firmware's own status (PXE status, EFI
                           status), 0: none */
    bool size_query;    /* it failed while learning the size (before the
                           sink heard of any size) */
    char detail[96];    /* what the client saw, in words (for example
                           "PXE status 0x35: TFTP read timeout" or
                           "oversized DATA block: 1500 bytes, blksize
                           1468"), "" when rc says it all */
};

/** Where a file's bytes go. */
struct file_sink {
    /** The announced size, before any data (may be NULL). */
    int (*size)(void *ctx, uint32_t size);
    /** File bytes [@off, @off+@len), in order. */
    int (*data)(void *ctx, uint32_t off, const uint8_t *data, size_t len);
    void *ctx;
    /** Where the whole file of @size bytes may go, or NULL (may be NULL;
     *  last, so that { size, data, ctx } initializers stay as they are). */
    void *(*whole)(void *ctx, uint32_t size);
    /** While a whole-file source waits for the file: @got bytes of it
     *  have arrived, not yet reported through data (may be NULL). */
    void (*arriving)(void *ctx, uint32_t got);
};

/** A way to files, as a face provides it. */
struct file_source {
    /**
     * The size of @path on @server (network byte order), or why not:
     * returns 0 or a negative pulsar_err, the same in @res->rc.
     */
    int (*size)(const struct file_source *src, uint32_t server,
                const char *path, uint32_t *size, struct xfer_result *res);
    /**
     * Stream @path from @server into @sink; a file longer than @max bytes
     * is aborted with -PE_RANGE.  Returns 0 or a negative pulsar_err, the
     * same in @res->rc; @res->got says how far it came.
     */
    int (*fetch)(const struct file_source *src, uint32_t server,
                 const char *path, uint32_t max, const struct file_sink *sink,
                 struct xfer_result *res);
    void *ctx;
};
#endif
