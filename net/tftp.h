/*
 * TFTP for Pulsar.  A file is fetched by Pulsar's own client over the PXE
 * UDP API (boot/bios/tftp_udp.c, protocol in net/tftp_proto.c) when the server
 * grants RFC 7440 windowsize, otherwise through the PXE ROM's TFTP
 * (PXENV_TFTP_OPEN/READ/CLOSE): one PXE call per block either way.  Each
 * packet lands in the low bounce buffer and goes straight on to a sink,
 * which copies it to its final place: there is never a whole-file copy.
 */
#ifndef PULSAR_TFTP_H
#define PULSAR_TFTP_H
#include <stdint.h>
#include <stddef.h>

/**
 * The blksize Pulsar asks for: the largest that fits a 1500-byte Ethernet
 * frame without IP fragmentation (1500 - 20 IP - 8 UDP - 4 TFTP).  The
 * ROM answers with what it and the server grant (iPXE caps at 1432).
 */
#define TFTP_BLKSIZE_WANTED 1468

/**
 * The RFC 7440 window Pulsar's own client asks for: blocks per ACK.  The
 * ROM queues what arrives between two reads, so this bounds the burst.
 */
#define TFTP_WINDOW_WANTED 16

/**
 * Receives file bytes [@off, @off+@len) in order.  Returns 0 to go on or
 * a negative pulsar_err to abort the transfer.
 */
typedef int (*tftp_sink_fn)(void *ctx, uint32_t off, const uint8_t *data,
                            size_t len);

/** Ask the server for @path's size (the tsize option). */
int tftp_size(uint32_t server, const char *path, uint32_t *size);

/**
 * Fetch @path from @server, handing every packet to @sink.  A file longer
 * than @max bytes is aborted with -PE_RANGE.  @got: out: bytes received.
 * @blksize: out (may be NULL): the packet size the ROM granted.
 */
int tftp_fetch(uint32_t server, const char *path, uint32_t max,
               tftp_sink_fn sink, void *ctx, uint32_t *got,
               uint16_t *blksize);

/**
 * What Pulsar's own client saw when its last transfer failed (e.g.
 * "oversized DATA block: 1500 bytes, blksize 1468"), or "" when the
 * failure, if any, came from the ROM (whose word is pxe_last_status).
 */
extern char tftp_last_detail[64];

/**
 * tftp_fetch's first try: Pulsar's own client over the PXE UDP API.
 * Returns -PE_UNSUPP, having delivered nothing, when the server does not
 * grant windowsize, the UDP API fails, or the request fails before any
 * data (the ROM's TFTP then runs and reports the error).
 */
int tftp_udp_fetch(uint32_t server, const char *path, uint32_t max,
                   tftp_sink_fn sink, void *ctx, uint32_t *got,
                   uint16_t *blksize);
#endif
