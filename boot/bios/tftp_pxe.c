/* TFTP through the PXE ROM's client; see tftp_pxe.h. */
#include "boot/bios/tftp_pxe.h"
#include "boot/bios/pxe.h"
#include "boot/bios/realmode.h"
#include "net/tftp.h"
#include "lib/errno.h"
#include "lib/console.h"
#include <stdio.h>
#include <string.h>

struct tftp_open_params {
    uint16_t status;
    uint32_t server, gateway;
    char filename[128];
    uint16_t port; /* network byte order */
    uint16_t packet_size;
} __attribute__((packed));

struct tftp_read_params {
    uint16_t status;
    uint16_t packet_number;
    uint16_t buffer_size;
    uint32_t buffer; /* seg:off */
} __attribute__((packed));

/* PXE 2.1's READ_FILE: Buffer is a flat physical address, not seg:off. */
struct tftp_read_file_params {
    uint16_t status;
    char filename[128];
    uint32_t buffer_size; /* in: room at buffer; out: bytes written */
    uint32_t buffer;
    uint32_t server, gateway, mcast;
    uint16_t client_port, server_port; /* multicast TFTP only */
    uint16_t open_timeout, reopen_delay;
} __attribute__((packed));

struct tftp_fsize_params {
    uint16_t status;
    uint32_t server, gateway;
    char filename[128];
    uint32_t file_size;
} __attribute__((packed));

/** Copy @path into a PXE file name field, refusing what does not fit. */
static int set_filename(char dst[128], const char *path)
{
    size_t n = strlen(path);
    if (n >= 128)
        return -PE_TOOLONG;
    memcpy(dst, path, n + 1);
    return 0;
}

/** A PXE call whose failure status goes into @res. */
static int rom_call(uint16_t opcode, void *params, size_t size,
                    struct xfer_result *res)
{
    int rc = pxe_call(opcode, params, size);
    if (rc)
        res->fw_status = pxe_last_status;
    return rc;
}

/** End with @rc: the ROM's word in the detail when it has one. */
static int rom_done(int rc, struct xfer_result *res)
{
    res->rc = rc;
    if (rc && res->fw_status && rc != -PE_NOENT)
        snprintf(res->detail, sizeof(res->detail), "PXE status 0x%02x: %s",
                 res->fw_status, pxe_status_str((uint16_t)res->fw_status));
    return rc;
}

/** GET_FSIZE into @res->size (@res already cleared). */
static int rom_size(uint32_t server, const char *path,
                    struct xfer_result *res)
{
    struct tftp_fsize_params p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.server = server;
    if ((rc = set_filename(p.filename, path)) != 0 ||
        (rc = rom_call(PXENV_TFTP_GET_FSIZE, &p, sizeof(p), res)) != 0)
        return rc;
    res->size = p.file_size;
    return 0;
}

int pxe_tftp_size(const struct file_source *src, uint32_t server,
                  const char *path, uint32_t *size, struct xfer_result *res)
{
    (void)src;
    memset(res, 0, sizeof(*res));
    int rc = rom_size(server, path, res);
    if (rc == 0)
        *size = res->size;
    return rom_done(rc, res);
}

/**
 * PXENV_TFTP_READ_FILE alone: @name on @server in one ROM call into @dst,
 * exactly @size bytes (claimed for it; the ROM writes nothing past them).
 * 0, or a negative pulsar_err with the ROM's status in @res->fw_status;
 * -PE_SHORT or -PE_CHANGED when the ROM wrote another length.
 */
static int pxe_read_file(uint32_t server, const char *name, uint8_t *dst,
                         uint32_t size, struct xfer_result *res)
{
    struct tftp_read_file_params p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.server = server;
    p.buffer = (uint32_t)(uintptr_t)dst; /* flat: linear is physical */
    p.buffer_size = size;
    if ((rc = set_filename(p.filename, name)) != 0 ||
        (rc = rom_call(PXENV_TFTP_READ_FILE, &p, sizeof(p), res)) != 0)
        return rc;
    if (p.buffer_size != size)
        return p.buffer_size < size ? -PE_SHORT : -PE_CHANGED;
    return 0;
}

/** For pxe_tftp_report: transfers the ROM ran, how many of them whole,
 * and how many READ_FILEs it refused as a function it lacks. */
static unsigned rom_fetches, rom_whole, rom_refused;

/** rom_read_file's answer: the ROM may have no READ_FILE; stream. */
#define NO_READ_FILE 1

/**
 * PXENV_TFTP_READ_FILE: the whole file of @size bytes (GET_FSIZE's
 * answer, accepted by the sink) in one ROM call straight into @dst, the
 * destination sink->whole claimed for exactly @size bytes; the ROM
 * writes nothing past them (iPXE fails the call instead).  The bytes then
 * go to sink->data where they lie.  Returns 0, a negative pulsar_err, or
 * NO_READ_FILE when the ROM answers "bad function" or "unsupported
 * function" before any READ_FILE of this boot has worked: a ROM without
 * READ_FILE says so, but iPXE says the latter for a TFTP ERROR of code 0
 * or an oversized block too, so the caller streams the file block by
 * block in the same try (its failure, if any, is the one reported) and
 * asks READ_FILE again for the next file.  Once one has worked, such an
 * answer is the transfer's failure like any other.  No progress is
 * possible meanwhile: the call returns when the file is in.
 */
static int rom_read_file(uint32_t server, const char *path, uint8_t *dst,
                         uint32_t size, const struct file_sink *sink,
                         struct xfer_result *res)
{
    int rc;

    if ((rc = pxe_read_file(server, path, dst, size, res)) != 0) {
        if (rom_whole == 0 && (res->fw_status == PXENV_STATUS_BAD_FUNC ||
                               res->fw_status == PXENV_STATUS_UNSUPPORTED)) {
            rom_refused++;
            res->fw_status = 0;
            return NO_READ_FILE;
        }
        return rc;
    }
    if ((rc = sink->data(sink->ctx, 0, dst, size)) != 0)
        return rc;
    res->got = size;
    rom_whole++;
    return 0;
}

void pxe_tftp_forget(void)
{
    rom_fetches = rom_whole = rom_refused = 0;
}

void pxe_tftp_report(void)
{
    if (rom_fetches == 0)
        return;
    printf("pulsar: ROM TFTP: %u of %u transfers whole (READ_FILE, no "
           "progress line meanwhile)", rom_whole, rom_fetches);
    if (rom_refused)
        printf(", %u refused as unsupported", rom_refused);
    printf("\n");
}

int pxe_tftp_fetch(uint32_t server, const char *path, uint32_t max,
                   const struct file_sink *sink, struct xfer_result *res)
{
    struct tftp_open_params op;
    struct tftp_read_params rd;
    uint16_t status[1] = { 0 };
    uint32_t off = 0;
    int rc;

    memset(res, 0, sizeof(*res));
    rom_fetches++;
    if (sink->size && (rc = rom_size(server, path, res)) != 0) {
        if (rc == -PE_NOENT || rc == -PE_TIMEDOUT || rc == -PE_TOOLONG) {
            res->size_query = true; /* "size query timed out on ..." */
            return rom_done(rc, res);
        }
        /* A server without RFC 2349 tsize answers, but not with a size:
         * fetch without one (the session copes, loader/session.h). */
        DBG("tftp", "%s: no size (PXE status 0x%02x); fetching without\n",
            path, res->fw_status);
        memset(res, 0, sizeof(*res));
    } else if (sink->size && (rc = sink->size(sink->ctx, res->size)) != 0) {
        return rom_done(rc, res);
    } else if (sink->size && sink->whole && res->size &&
               res->size <= max) {
        uint8_t *dst = sink->whole(sink->ctx, res->size);
        if (dst && (rc = rom_read_file(server, path, dst, res->size, sink,
                                       res)) != NO_READ_FILE)
            return rom_done(rc, res);
    }
    memset(&op, 0, sizeof(op));
    op.server = server;
    op.port = (uint16_t)((69 >> 8) | (69 << 8));
    op.packet_size = TFTP_BLKSIZE_WANTED;
    if ((rc = set_filename(op.filename, path)) != 0 ||
        (rc = rom_call(PXENV_TFTP_OPEN, &op, sizeof(op), res)) != 0)
        return rom_done(rc, res);
    uint16_t bs = op.packet_size;
    res->blksize = bs;
    res->window = 1;
    DBG("tftp", "%s: blksize %u\n", path, bs);
    if (bs == 0 || bs > PXE_BOUNCE_SIZE) {
        /* The ROM would write past the bounce buffer. */
        rc = -PE_UNSUPP;
        goto out;
    }

    memset(&rd, 0, sizeof(rd));
    for (uint16_t expect = 1;; expect++) {
        rd.buffer = lin_to_segoff((uint32_t)pxe_bounce);
        rd.buffer_size = bs;
        rd.packet_number = (uint16_t)(expect - 1);
        if ((rc = rom_call(PXENV_TFTP_READ, &rd, sizeof(rd), res)) != 0)
            goto out;
        if (rd.packet_number != expect || rd.buffer_size > bs) {
            /* Out of order or oversized: the ROM broke its contract. */
            rc = -PE_IO;
            goto out;
        }
        if ((uint64_t)off + rd.buffer_size > max) {
            rc = -PE_RANGE;
            goto out;
        }
        if (rd.buffer_size &&
            (rc = sink->data(sink->ctx, off, pxe_bounce, rd.buffer_size)) !=
                0)
            goto out;
        off += rd.buffer_size;
        res->got = off;
        if (rd.buffer_size < bs)
            break; /* a short packet ends the file */
    }
    rc = 0;
out:
    pxe_call(PXENV_TFTP_CLOSE, status, sizeof(status));
    return rom_done(rc, res);
}
