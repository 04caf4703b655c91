/*
 * Pulsar's own TFTP client: one engine for every datagram transport.
 *
 * The engine sends the read request with Pulsar's options, takes the OACK
 * (or a plain first DATA block), receives windowed (RFC 7440) or
 * lock-step data, acknowledges it, resends on timeouts and gives up after
 * TFTP_MAX_RETRIES of them in a row; the protocol decisions themselves
 * are net/tftp_proto.c's.  It moves its packets through a struct
 * dgram_transport: the BIOS face has two (the PXE UDP API and the NIC
 * fast path, boot/bios/dgram.c), a UEFI face would add EFI UDP, a unit
 * test has a scripted server.  Pure C: no I/O of its own, no printing, no
 * globals; a transfer ends in a struct xfer_result (loader/source.h).
 */
#ifndef PULSAR_TFTP_CLIENT_H
#define PULSAR_TFTP_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include "loader/source.h"
#include "net/tftp_proto.h"

/** dgram_transport.recv: a datagram came in IP fragments (not taken). */
#define DGRAM_FRAGMENTED 2

/**
 * A way to send and receive UDP datagrams for one transfer.  The local
 * port is the transport's: it is chosen (and opened) before the transfer
 * and is the same for every send and receive of it.
 */
struct dgram_transport {
    /**
     * Send @len bytes at @pkt to @server (network byte order) UDP @port
     * (host byte order).  Returns 0 or a negative pulsar_err.
     */
    int (*send)(void *ctx, uint32_t server, uint16_t port,
                const uint8_t *pkt, size_t len);
    /**
     * Wait up to about @ms milliseconds for a datagram from @server to
     * the local port.  Returns 1 with its payload at *@data (valid until
     * the next call), *@len and its source port *@sport (host order); 0
     * when none came; DGRAM_FRAGMENTED when one came in IP fragments
     * (*@len: its UDP payload's size); or a negative pulsar_err.
     */
    int (*recv)(void *ctx, uint32_t server, unsigned ms,
                const uint8_t **data, size_t *len, uint16_t *sport);
    /** A millisecond clock (it may wrap; a jump back ends a wait). */
    uint32_t (*now_ms)(void *ctx);
    void *ctx;
};

/**
 * What a transfer cost beyond its blocks (tftp_client.counts): how a slow
 * transfer went can be told from its own line.
 */
struct tftp_counts {
    uint32_t timeouts; /* silences of wait_ms: the RRQ or an ACK resent */
    uint32_t ignored;  /* packets that moved nothing: duplicates, blocks
                          behind a gap, another transfer's */
};

/** How one transfer runs. */
struct tftp_client {
    const struct dgram_transport *net;
    struct tftp_request req; /* the options to ask for */
    unsigned wait_ms;        /* silence after which tftp_timeout() runs */
    /**
     * Only a window is worth it: when the server's OACK grants no window
     * > 1, say so to the server ("windowsize needed") and end with
     * -PE_UNSUPP, nothing delivered.  A server that answers with a plain
     * first DATA block (no options at all, RFC 1350) is taken in
     * lock-step all the same: the ROM's TFTP would be no faster, and
     * iPXE's cannot read from such a server at all.
     */
    int need_window;
    /**
     * The terms are fixed (first OACK or first DATA block), before any
     * data and before sink->size; may be NULL.  The caller prints what
     * it wants of them (the engine never prints).
     */
    void (*granted)(void *ctx, uint32_t server, uint16_t blksize,
                    uint16_t window);
    void *ctx;
    /** Counted into (not cleared) when not NULL. */
    struct tftp_counts *counts;
};

/**
 * Fetch @path from @server (network byte order) into @sink: at most @max
 * bytes, else -PE_RANGE.  sink->size (when set) gets the OACK's tsize
 * before any data.  Returns 0 or a negative pulsar_err, the same in
 * @res->rc; @res holds the bytes delivered, the tsize, the blksize and
 * window granted and, on a failure the packets explain (the server's
 * error, a timeout, an oversized or fragmented block), the detail in
 * words; none for -PE_NOENT and -PE_RANGE, whose rc says it all.  A refusal by the sink ends the transfer with the sink's rc (the
 * server is told) and no detail.
 */
int tftp_client_fetch(const struct tftp_client *c, uint32_t server,
                      const char *path, uint32_t max,
                      const struct file_sink *sink, struct xfer_result *res);
#endif
