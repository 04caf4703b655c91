/* HTTP through iPXE's PXE file API; see http_pxe.h. */
#include "boot/bios/http_pxe.h"
#include "boot/bios/io.h"
#include "boot/bios/pxe.h"
#include "boot/bios/realmode.h"
#include "lib/console.h"
#include "lib/errno.h"
#include <stdio.h>
#include <string.h>

#define PXENV_FILE_OPEN 0x00E0
#define PXENV_FILE_CLOSE 0x00E1
#define PXENV_FILE_SELECT 0x00E2
#define PXENV_FILE_READ 0x00E3
#define PXENV_GET_FILE_SIZE 0x00E4
#define PXENV_FILE_API_CHECK 0x00E6

#define FILE_API_MAGIC_IN 0x91d447b2u
#define FILE_API_MAGIC_OUT 0xe9c17b20u
/** The calls Pulsar needs, as APIMask bits (opcode - 0xE0). */
#define FILE_API_NEEDED 0x1Fu /* OPEN CLOSE SELECT READ GET_FILE_SIZE */

/** iPXE's status words for HTTP (its errno mapped to PXE codes). */
#define STATUS_WOULD_BLOCK 0x1B  /* EWOULDBLOCK: no data yet */
#define STATUS_CANNOT_OPEN 0x38  /* ECONNREFUSED */
#define STATUS_CANNOT_READ 0x39  /* ECONNRESET, EIO: cut, or HTTP 4xx/5xx */

/** The file name's room in the bounce buffer (the rest takes data). */
#define URL_ROOM 256u
#define READ_ROOM (PXE_BOUNCE_SIZE - URL_ROOM)

struct api_check_params {
    uint16_t status, size;
    uint32_t magic, provider, api_mask, flags;
} __attribute__((packed));

struct open_params {
    uint16_t status, handle;
    uint32_t name; /* seg:off */
    uint32_t reserved;
} __attribute__((packed));

struct handle_params {
    uint16_t status, handle;
} __attribute__((packed));

struct read_params {
    uint16_t status, handle, size;
    uint32_t buffer; /* seg:off */
} __attribute__((packed));

struct select_params {
    uint16_t status, handle, ready;
} __attribute__((packed));

struct size_params {
    uint16_t status, handle;
    uint32_t size;
} __attribute__((packed));

/** FILE_API_CHECK's verdict: 0 unknown, 1 usable, -1 absent. */
static int api_state;
static char api_why[64];

/** Is the file API there?  Asked once; @res gets why not. */
static int api_usable(struct xfer_result *res)
{
    struct api_check_params p;

    if (!api_state) {
        memset(&p, 0, sizeof(p));
        p.size = sizeof(p);
        p.magic = FILE_API_MAGIC_IN;
        if (pxe_call(PXENV_FILE_API_CHECK, &p, sizeof(p)) != 0)
            snprintf(api_why, sizeof(api_why), "PXENV_FILE_API_CHECK: PXE "
                     "status 0x%02x", pxe_last_status);
        else if (p.magic != FILE_API_MAGIC_OUT ||
                 (p.api_mask & FILE_API_NEEDED) != FILE_API_NEEDED)
            snprintf(api_why, sizeof(api_why), "its file API lacks calls "
                     "(mask 0x%x)", (unsigned)p.api_mask);
        api_state = api_why[0] ? -1 : 1;
    }
    if (api_state > 0)
        return 0;
    snprintf(res->detail, sizeof(res->detail), "the PXE ROM has no HTTP "
             "(%s); boot Pulsar from iPXE, or name the file by TFTP path",
             api_why);
    return -PE_UNSUPP;
}

/** The error for a failed file call, its status in @res. */
static int call_failed(struct xfer_result *res, const char *call)
{
    uint16_t st = pxe_last_status;

    res->fw_status = st;
    switch (st) {
    case 0x3B: /* ENOENT: HTTP 404 */
        return -PE_NOENT;
    case 0x3C: /* EACCES, EPERM: HTTP 401, 403 */
        snprintf(res->detail, sizeof(res->detail), "%s: PXE status 0x3c: "
                 "HTTP 401 or 403", call);
        return -PE_ACCESS;
    case 0x35: /* ETIMEDOUT */
        return -PE_TIMEDOUT;
    case STATUS_CANNOT_OPEN:
        snprintf(res->detail, sizeof(res->detail), "%s: PXE status 0x38: "
                 "connection refused", call);
        return -PE_IO;
    case STATUS_CANNOT_READ:
        snprintf(res->detail, sizeof(res->detail), "%s: PXE status 0x39: "
                 "connection cut, or an HTTP error status", call);
        return -PE_IO;
    default:
        snprintf(res->detail, sizeof(res->detail), "%s: PXE status 0x%02x: "
                 "%s", call, st, pxe_status_str(st));
        return -PE_NOPXE;
    }
}

/** FILE_OPEN @url; the handle into *@handle. */
static int open_url(const char *url, uint16_t *handle,
                    struct xfer_result *res)
{
    struct open_params p;
    size_t n = strlen(url);
    int rc;

    if ((rc = api_usable(res)) != 0)
        return rc;
    if (n >= URL_ROOM)
        return -PE_TOOLONG;
    memcpy(pxe_bounce + READ_ROOM, url, n + 1);
    memset(&p, 0, sizeof(p));
    p.name = lin_to_segoff((uint32_t)(pxe_bounce + READ_ROOM));
    if (pxe_call(PXENV_FILE_OPEN, &p, sizeof(p)) != 0)
        return call_failed(res, "FILE_OPEN");
    *handle = p.handle;
    pxe_stop_first = true; /* a TCP connection iPXE may keep: pxe.h */
    return 0;
}

static void close_file(uint16_t handle)
{
    struct handle_params p = { 0, handle };

    pxe_call(PXENV_FILE_CLOSE, &p, sizeof(p));
}

/** GET_FILE_SIZE: what iPXE knows of the file's size (0: nothing yet). */
static int file_size(uint16_t handle, uint32_t *size,
                     struct xfer_result *res)
{
    struct size_params p;

    memset(&p, 0, sizeof(p));
    p.handle = handle;
    if (pxe_call(PXENV_GET_FILE_SIZE, &p, sizeof(p)) != 0)
        return call_failed(res, "GET_FILE_SIZE");
    *size = p.size;
    return 0;
}

/** Has @start (BIOS ticks) been HTTP_PXE_IDLE_MS ago?  A count that
 *  wrapped at midnight restarts the wait. */
static bool idle_too_long(uint32_t *start)
{
    uint32_t now = bios_ticks();

    if (now < *start)
        *start = now;
    return (now - *start) * BIOS_MS_PER_TICK > HTTP_PXE_IDLE_MS;
}

/**
 * FILE_READ at most READ_ROOM bytes into the bounce buffer: *@got bytes
 * (0 at the end of the file), or -PE_TIMEDOUT after HTTP_PXE_IDLE_MS
 * without any.
 */
static int read_some(uint16_t handle, uint32_t *got, struct xfer_result *res)
{
    uint32_t start = bios_ticks();
    struct read_params p;

    for (;;) {
        memset(&p, 0, sizeof(p));
        p.handle = handle;
        p.size = READ_ROOM;
        p.buffer = lin_to_segoff((uint32_t)pxe_bounce);
        if (pxe_call(PXENV_FILE_READ, &p, sizeof(p)) == 0) {
            if (p.size > READ_ROOM)
                return -PE_IO; /* the ROM broke its contract */
            *got = p.size;
            return 0;
        }
        if (pxe_last_status != STATUS_WOULD_BLOCK)
            return call_failed(res, "FILE_READ");
        if (idle_too_long(&start))
            return -PE_TIMEDOUT;
    }
}

/** file_source.size: open, wait for the headers' size, close. */
static int http_size(const struct file_source *src, uint32_t server,
                     const char *path, uint32_t *size,
                     struct xfer_result *res)
{
    uint32_t start = bios_ticks();
    struct select_params sel;
    uint16_t handle;
    int rc;

    (void)src;
    (void)server;
    memset(res, 0, sizeof(*res));
    if ((rc = open_url(path, &handle, res)) != 0)
        return res->rc = rc;
    /* Content-Length comes with the headers: known by the time the body
     * (or the end) is ready to read.  SELECT runs the stack once. */
    for (;;) {
        if ((rc = file_size(handle, size, res)) != 0 || *size)
            break;
        memset(&sel, 0, sizeof(sel));
        sel.handle = handle;
        if (pxe_call(PXENV_FILE_SELECT, &sel, sizeof(sel)) != 0) {
            rc = call_failed(res, "FILE_SELECT");
            break;
        }
        if (sel.ready && (rc = file_size(handle, size, res)) == 0 &&
            !*size) {
            snprintf(res->detail, sizeof(res->detail), "the web server "
                     "sent no Content-Length");
            rc = -PE_UNSUPP;
        }
        if (sel.ready)
            break;
        if (idle_too_long(&start)) {
            rc = -PE_TIMEDOUT;
            break;
        }
    }
    close_file(handle);
    if (rc == 0)
        res->size = *size;
    return res->rc = rc;
}

/**
 * file_source.fetch: FILE_OPEN, then FILE_READ streams the body through
 * the bounce buffer, the size (Content-Length) told the sink once the
 * first bytes are in; one GET per try.  Not PXENV_TFTP_READ_FILE, though
 * iPXE takes a URL for it: its connection opens with a 512-byte TCP
 * window (the TFTP default block size stands for its flow control), so
 * the web server sends 512-byte segments, each acknowledged, and the
 * file came at a third of FILE_READ's speed (docs/speed.md, "Boot
 * storms"); it also needs the size first, a GET of its own.
 */
static int http_fetch(const struct file_source *src, uint32_t server,
                      const char *path, uint32_t max,
                      const struct file_sink *sink, struct xfer_result *res)
{
    uint32_t off = 0, got = 0, size = 0;
    bool sized = false;
    uint16_t handle;
    int rc;

    (void)src;
    (void)server;
    memset(res, 0, sizeof(*res));
    if ((rc = open_url(path, &handle, res)) != 0)
        return res->rc = rc;
    for (;;) {
        if ((rc = read_some(handle, &got, res)) != 0)
            break;
        if (off == 0 && !sized) {
            /* Content-Length arrives with the headers, before the body:
             * iPXE knows it once the first bytes are read. */
            if ((rc = file_size(handle, &size, res)) != 0)
                break;
            sized = true;
            if (size < got)
                size = 0; /* no Content-Length: a running count */
            res->size = size;
            if (size && sink->size && (rc = sink->size(sink->ctx, size)))
                break;
        }
        if (!got)
            break; /* the end of the file */
        if ((uint64_t)off + got > max) {
            rc = -PE_RANGE;
            break;
        }
        if ((rc = sink->data(sink->ctx, off, pxe_bounce, got)) != 0)
            break;
        off += got;
        res->got = off;
    }
    close_file(handle);
    return res->rc = rc;
}

static const struct file_source http_source = { http_size, http_fetch, NULL };

const struct file_source *bios_http_source(void)
{
    return &http_source;
}
