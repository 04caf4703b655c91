/* Pulsar's TFTP client protocol engine; see tftp_proto.h. */
#include "net/tftp_proto.h"
#include "lib/errno.h"
#include <stdio.h>
#include <string.h>

void tftp_xfer_init(struct tftp_xfer *x, const struct tftp_request *req,
                    uint32_t max)
{
    memset(x, 0, sizeof(*x));
    x->req = *req;
    x->max = max;
    x->state = TFTP_S_WAIT_FIRST;
    x->blksize = 512;
    x->windowsize = 1;
}

/** Append NUL-terminated @s at @p (bounded by @end); NULL if no room. */
static uint8_t *put_str(uint8_t *p, const uint8_t *end, const char *s)
{
    size_t n = strlen(s) + 1;
    if (!p || (size_t)(end - p) < n)
        return NULL;
    memcpy(p, s, n);
    return p + n;
}

/** Append the option @name with the decimal value @v. */
static uint8_t *put_opt(uint8_t *p, const uint8_t *end, const char *name,
                        unsigned v)
{
    char num[12];
    snprintf(num, sizeof(num), "%u", v);
    return put_str(put_str(p, end, name), end, num);
}

size_t tftp_build_rrq(uint8_t *buf, size_t cap, const char *path,
                      const struct tftp_request *req)
{
    const uint8_t *end = buf + cap;
    uint8_t *p = buf;

    if (cap < 2)
        return 0;
    *p++ = 0;
    *p++ = TFTP_OP_RRQ;
    p = put_str(put_str(p, end, path), end, "octet");
    if (req->blksize)
        p = put_opt(p, end, "blksize", req->blksize);
    if (req->tsize)
        p = put_opt(p, end, "tsize", 0);
    if (req->windowsize > 1)
        p = put_opt(p, end, "windowsize", req->windowsize);
    return p ? (size_t)(p - buf) : 0;
}

size_t tftp_build_ack(uint8_t *buf, uint16_t block)
{
    buf[0] = 0;
    buf[1] = TFTP_OP_ACK;
    buf[2] = (uint8_t)(block >> 8);
    buf[3] = (uint8_t)block;
    return 4;
}

size_t tftp_build_error(uint8_t *buf, size_t cap, uint16_t code,
                        const char *msg)
{
    size_t n = strnlen(msg, cap - 5);
    buf[0] = 0;
    buf[1] = TFTP_OP_ERROR;
    buf[2] = (uint8_t)(code >> 8);
    buf[3] = (uint8_t)code;
    memcpy(buf + 4, msg, n);
    buf[4 + n] = 0;
    return 5 + n;
}

/** Fail the transfer with @rc and @why; optionally tell the server. */
static int fail(struct tftp_xfer *x, struct tftp_action *act, int rc,
                uint16_t tell_code, const char *why)
{
    x->state = TFTP_S_FAILED;
    act->rc = rc;
    strncpy(act->msg, why, sizeof(act->msg) - 1);
    if (tell_code) {
        act->send_error = 1;
        act->error_code = tell_code;
    }
    return rc;
}

/** Case-insensitive equality of two NUL-terminated strings. */
static int same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;
        if (ca != cb)
            return 0;
    }
    return *a == *b;
}

/** A decimal option value: digits only, at most 4294967295.  0 if ok. */
static int parse_uint(const char *s, uint32_t *v)
{
    uint64_t n = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        n = n * 10 + (uint64_t)(*s - '0');
        if (n > 0xFFFFFFFFu)
            return -1;
    }
    *v = (uint32_t)n;
    return 0;
}

/**
 * Apply an OACK's options (@p, @len bytes after the opcode).  Only what
 * was asked may come back, and never more than asked (RFC 2347/2348/7440).
 */
static int take_oack(struct tftp_xfer *x, const uint8_t *p, size_t len,
                     struct tftp_action *act)
{
    const char *s = (const char *)p, *end = (const char *)p + len;

    if (len == 0 || p[len - 1] != 0)
        return fail(x, act, -PE_INVAL, TFTP_ERR_OPTION, "malformed OACK");
    while (s < end) {
        const char *name = s;
        s += strlen(s) + 1;
        if (s >= end)
            return fail(x, act, -PE_INVAL, TFTP_ERR_OPTION, "malformed OACK");
        const char *value = s;
        s += strlen(s) + 1;
        uint32_t v;
        if (parse_uint(value, &v) != 0)
            return fail(x, act, -PE_INVAL, TFTP_ERR_OPTION, "malformed OACK");
        if (same_name(name, "blksize") && x->req.blksize) {
            if (v < 8 || v > x->req.blksize)
                return fail(x, act, -PE_INVAL, TFTP_ERR_OPTION,
                            "OACK blksize out of range");
            x->blksize = (uint16_t)v;
        } else if (same_name(name, "windowsize") && x->req.windowsize > 1) {
            if (v < 1 || v > x->req.windowsize)
                return fail(x, act, -PE_INVAL, TFTP_ERR_OPTION,
                            "OACK windowsize out of range");
            x->windowsize = (uint16_t)v;
        } else if (same_name(name, "tsize") && x->req.tsize) {
            if (v > x->max)
                return fail(x, act, -PE_RANGE, TFTP_ERR_OPTION,
                            "file larger than its space");
            x->has_tsize = 1;
            x->tsize = v;
        } else {
            return fail(x, act, -PE_INVAL, TFTP_ERR_OPTION,
                        "OACK has an option not asked for");
        }
    }
    x->oacked = 1;
    return 0;
}

/** Handle a DATA packet: block @block with @len bytes at @data. */
static int take_data(struct tftp_xfer *x, uint16_t block,
                     const uint8_t *data, size_t len,
                     struct tftp_action *act)
{
    uint16_t expect = (uint16_t)(x->last_block + 1);

    if (block != expect) {
        /* 16-bit distance: behind (duplicate) or ahead (a lost block). */
        uint16_t ahead = (uint16_t)(block - expect);
        if (ahead < 0x8000 && x->windowsize > 1 && !x->gap_acked) {
            /* RFC 7440: ACK the last block in order so the server sends
             * the window again from there; once per window. */
            x->gap_acked = 1;
            x->unacked = 0;
            act->send_ack = 1;
            act->ack_block = x->last_block;
        }
        return 0; /* duplicates are ignored: no Sorcerer's Apprentice */
    }
    if (len > x->blksize) {
        /* A bad packet, not a bad file: worth another try (retry.c). */
        fail(x, act, -PE_IO, TFTP_ERR_ILLEGAL, "");
        snprintf(act->msg, sizeof(act->msg),
                 "oversized DATA block: %u bytes, blksize %u",
                 (unsigned)len, (unsigned)x->blksize);
        return act->rc;
    }
    if ((uint64_t)x->received + len > x->max)
        return fail(x, act, -PE_RANGE, TFTP_ERR_ILLEGAL,
                    "file larger than its space");
    act->data = data;
    act->len = len;
    act->off = x->received;
    x->received += (uint32_t)len;
    x->last_block = block;
    x->gap_acked = 0;
    x->retries = 0;
    if (len < x->blksize) {
        x->state = TFTP_S_DONE; /* a short block ends the file */
        act->send_ack = 1;
    } else if (++x->unacked >= x->windowsize) {
        act->send_ack = 1;
    }
    if (act->send_ack) {
        act->ack_block = block;
        x->unacked = 0;
    }
    return 0;
}

int tftp_input(struct tftp_xfer *x, const uint8_t *pkt, size_t len,
               uint16_t port, struct tftp_action *act)
{
    memset(act, 0, sizeof(*act));
    if (x->state == TFTP_S_DONE || x->state == TFTP_S_FAILED || len < 4)
        return 0;
    if (x->state == TFTP_S_WAIT_FIRST)
        x->server_port = port; /* the first answer fixes the server's TID */
    else if (port != x->server_port)
        return 0; /* another transfer's packet: not ours */

    uint16_t op = (uint16_t)(pkt[0] << 8 | pkt[1]);
    uint16_t arg = (uint16_t)(pkt[2] << 8 | pkt[3]);
    switch (op) {
    case TFTP_OP_ERROR: {
        char text[64];
        size_t n = strnlen((const char *)pkt + 4, len - 4);
        if (n >= sizeof(text))
            n = sizeof(text) - 1;
        memcpy(text, pkt + 4, n);
        text[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if (text[i] < 0x20 || text[i] > 0x7E)
                text[i] = '?';
        x->state = TFTP_S_FAILED;
        act->rc = arg == TFTP_ERR_NOT_FOUND ? -PE_NOENT
                  : arg == TFTP_ERR_ACCESS  ? -PE_ACCESS
                                            : -PE_IO;
        snprintf(act->msg, sizeof(act->msg), "TFTP error %u: %s",
                 (unsigned)arg, text);
        return act->rc;
    }
    case TFTP_OP_OACK:
        if (x->state == TFTP_S_DATA && x->oacked && x->last_block == 0) {
            act->send_ack = 1; /* our ACK 0 was lost: the OACK came again */
            return 0;
        }
        if (x->state != TFTP_S_WAIT_FIRST)
            return 0;
        if (take_oack(x, pkt + 2, len - 2, act) != 0)
            return act->rc;
        x->state = TFTP_S_DATA;
        act->send_ack = 1; /* ACK 0 starts the data */
        act->ack_block = 0;
        return 0;
    case TFTP_OP_DATA:
        if (x->state == TFTP_S_WAIT_FIRST) {
            /* No OACK: the server ignored the options (RFC 2347). */
            x->state = TFTP_S_DATA;
        }
        return take_data(x, arg, pkt + 4, len - 4, act);
    default:
        return fail(x, act, -PE_INVAL, TFTP_ERR_ILLEGAL,
                    "unexpected TFTP packet");
    }
}

int tftp_timeout(struct tftp_xfer *x, struct tftp_action *act)
{
    memset(act, 0, sizeof(*act));
    if (x->state == TFTP_S_DONE || x->state == TFTP_S_FAILED)
        return act->rc;
    if (++x->retries > TFTP_MAX_RETRIES)
        return fail(x, act, -PE_TIMEDOUT, 0, "timed out");
    if (x->state == TFTP_S_WAIT_FIRST) {
        act->resend_rrq = 1;
    } else {
        /* Re-ACK the last block in order: the server resends from it. */
        act->send_ack = 1;
        act->ack_block = x->last_block;
        x->unacked = 0;
        x->gap_acked = 0;
    }
    return 0;
}
