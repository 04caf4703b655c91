/*
 * Pulsar's own TFTP client, the protocol half: building requests and
 * deciding what to do with each packet that arrives (RFC 1350 with the
 * options of RFC 2347/2348/2349 and RFC 7440 windowsize).  Pure C: no
 * I/O, no clock.  net/tftp_client.c moves the packets through a datagram
 * transport and calls tftp_input() for each one and tftp_timeout() when
 * none came.
 * Every packet is untrusted: tftp_input() checks every length and value.
 */
#ifndef PULSAR_TFTP_PROTO_H
#define PULSAR_TFTP_PROTO_H
#include <stddef.h>
#include <stdint.h>

#define TFTP_PORT 69
#define TFTP_OP_RRQ 1
#define TFTP_OP_DATA 3
#define TFTP_OP_ACK 4
#define TFTP_OP_ERROR 5
#define TFTP_OP_OACK 6

/** TFTP error codes Pulsar sends or tells apart. */
#define TFTP_ERR_NOT_FOUND 1
#define TFTP_ERR_ACCESS 2
#define TFTP_ERR_ILLEGAL 4
#define TFTP_ERR_OPTION 8

/** Timeouts in a row after which a transfer is given up. */
#define TFTP_MAX_RETRIES 6

/** What the client asks for in its read request. */
struct tftp_request {
    uint16_t blksize;    /* 0: do not ask (512-byte blocks) */
    uint16_t windowsize; /* 0 or 1: do not ask */
    int tsize;           /* ask for the file size */
};

/** One transfer's state. */
struct tftp_xfer {
    struct tftp_request req; /* what was asked: the OACK may not exceed it */
    uint32_t max;            /* bytes the caller accepts at most */
    int state;               /* TFTP_S_* */
    uint16_t server_port;    /* the server's transfer ID, once known */
    uint16_t blksize;        /* negotiated (512 without an OACK) */
    uint16_t windowsize;     /* negotiated (1 without an OACK) */
    int has_tsize;
    uint32_t tsize;
    uint16_t last_block;     /* last block accepted in order (mod 2^16) */
    uint32_t received;       /* bytes accepted so far */
    uint16_t unacked;        /* blocks accepted since the last ACK */
    int gap_acked;           /* a gap in this window was answered already */
    unsigned retries;        /* timeouts in a row */
    int oacked;              /* the transfer began with an OACK */
};

#define TFTP_S_WAIT_FIRST 0 /* RRQ sent, no answer yet */
#define TFTP_S_DATA 1       /* receiving data */
#define TFTP_S_DONE 2       /* last block accepted and acknowledged */
#define TFTP_S_FAILED 3

/** What the caller must do after tftp_input() or tftp_timeout(). */
struct tftp_action {
    const uint8_t *data; /* file bytes to deliver at offset @off ... */
    size_t len;          /* ... (len 0: nothing) */
    uint32_t off;
    int send_ack;        /* send an ACK for block @ack_block */
    uint16_t ack_block;
    int resend_rrq;      /* send the read request again */
    int send_error;      /* tell the server why we stop (@error_code/@msg) */
    uint16_t error_code;
    int rc;              /* < 0: the transfer failed (see @msg) */
    char msg[96];        /* the server's or our reason, for a person */
};

/** Start a transfer of at most @max bytes with the options in @req. */
void tftp_xfer_init(struct tftp_xfer *x, const struct tftp_request *req,
                    uint32_t max);

/**
 * Build the read request for @path into @buf (@cap bytes).  Returns its
 * length, or 0 if it does not fit.
 */
size_t tftp_build_rrq(uint8_t *buf, size_t cap, const char *path,
                      const struct tftp_request *req);

/** Build an ACK for @block into @buf (4 bytes).  Returns 4. */
size_t tftp_build_ack(uint8_t *buf, uint16_t block);

/** Build an ERROR packet into @buf (@cap >= 5).  Returns its length. */
size_t tftp_build_error(uint8_t *buf, size_t cap, uint16_t code,
                        const char *msg);

/**
 * Handle one packet @pkt (@len bytes, the UDP payload) from the server's
 * UDP port @port.  Fills @act (cleared first) with what to do: data to
 * deliver, an ACK or an ERROR to send, or a failure in @act->rc.
 * Packets from a stranger's port, duplicates and stale blocks are
 * ignored (no action).  Returns @act->rc.
 */
int tftp_input(struct tftp_xfer *x, const uint8_t *pkt, size_t len,
               uint16_t port, struct tftp_action *act);

/**
 * Nothing arrived in time: resend the request or the last ACK, or give up
 * after TFTP_MAX_RETRIES timeouts in a row.  Returns @act->rc.
 */
int tftp_timeout(struct tftp_xfer *x, struct tftp_action *act);
#endif
