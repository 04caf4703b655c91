/* Pulsar's TFTP client engine; see tftp_client.h. */
#include "net/tftp_client.h"
#include "lib/errno.h"
#include <stdio.h>
#include <string.h>

/** One transfer in flight. */
struct run {
    const struct tftp_client *c;
    uint32_t server;
    struct tftp_xfer x;
};

/** Tell the server why we stop (an ERROR packet; its loss is harmless). */
static void tell(struct run *r, uint16_t code, const char *msg)
{
    uint8_t err[64];
    r->c->net->send(r->c->net->ctx, r->server, r->x.server_port, err,
                    tftp_build_error(err, sizeof(err), code, msg));
}

/** The first answer fixed the terms: check them and pass them on. */
static int terms_fixed(struct run *r, const struct file_sink *sink,
                       struct xfer_result *res)
{
    const struct tftp_client *c = r->c;
    int rc;

    res->blksize = r->x.blksize;
    res->window = r->x.windowsize;
    /* A server that sent no OACK knows no options at all (RFC 1350):
     * lock-step is all it does, whoever runs it, and some ROMs' TFTP
     * cannot run it (iPXE's PXENV_TFTP_OPEN has no buffer for a first
     * DATA block and fails "out of resources"), so take it here. */
    if (c->need_window && r->x.oacked && r->x.windowsize < 2) {
        tell(r, TFTP_ERR_OPTION, "windowsize needed");
        return -PE_UNSUPP;
    }
    if (c->granted)
        c->granted(c->ctx, r->server, r->x.blksize, r->x.windowsize);
    if (r->x.has_tsize) {
        res->size = r->x.tsize;
        if (sink->size && (rc = sink->size(sink->ctx, r->x.tsize)) != 0) {
            tell(r, TFTP_ERR_OPTION, "refused");
            return rc;
        }
    }
    return 0;
}

int tftp_client_fetch(const struct tftp_client *c, uint32_t server,
                      const char *path, uint32_t max,
                      const struct file_sink *sink, struct xfer_result *res)
{
    static uint8_t rrq[300];
    const struct dgram_transport *net = c->net;
    struct run r;
    struct tftp_action act;
    size_t n;
    uint32_t start;
    int rc;

    memset(res, 0, sizeof(*res));
    r.c = c;
    r.server = server;
    tftp_xfer_init(&r.x, &c->req, max);
    n = tftp_build_rrq(rrq, sizeof(rrq), path, &c->req);
    if (!n) {
        rc = -PE_TOOLONG;
        goto out;
    }
    memset(&act, 0, sizeof(act));
    act.resend_rrq = 1;
    start = net->now_ms(net->ctx);
    for (;;) {
        if (act.resend_rrq &&
            (rc = net->send(net->ctx, server, TFTP_PORT, rrq, n)) != 0)
            goto out;
        if (act.send_ack) {
            uint8_t ack[4];
            net->send(net->ctx, server, r.x.server_port, ack,
                      tftp_build_ack(ack, act.ack_block));
        }
        if (act.send_error)
            tell(&r, act.error_code, act.msg);
        if (act.rc) {
            rc = act.rc;
            /* The words, unless the rc says it all ("not found", "larger
             * than its space"); res->detail is zeroed, so a cut message
             * stays terminated. */
            if (rc != -PE_NOENT && rc != -PE_RANGE)
                memcpy(res->detail, act.msg,
                       strnlen(act.msg, sizeof(res->detail) - 1));
            goto out;
        }
        if (r.x.state == TFTP_S_DONE) {
            rc = 0;
            goto out;
        }

        /* Wait for a packet that moves the transfer on, or time out. */
        const uint8_t *pkt;
        size_t len;
        uint16_t sport = 0;
        uint32_t waited = net->now_ms(net->ctx) - start;
        int got = waited < c->wait_ms
                      ? net->recv(net->ctx, server, c->wait_ms - waited, &pkt,
                                  &len, &sport)
                      : 0;
        if (got < 0) {
            rc = got;
            goto out;
        }
        if (got == DGRAM_FRAGMENTED && len > 4) {
            /* Blocks fit a frame; this one was split: say so and stop. */
            rc = -PE_IO;
            snprintf(res->detail, sizeof(res->detail),
                     "oversized DATA block: %u bytes in IP fragments, "
                     "blksize %u", (unsigned)len - 4, (unsigned)r.x.blksize);
            goto out;
        }
        int before = r.x.state;
        if (got == 0) {
            if (c->counts)
                c->counts->timeouts++;
            tftp_timeout(&r.x, &act);
        } else if (got == 1) {
            tftp_input(&r.x, pkt, len, sport, &act);
            if (!act.len && !act.send_ack && !act.send_error && !act.rc &&
                r.x.state == before) {
                /* ignored: a stranger, a duplicate, a stale one */
                if (c->counts)
                    c->counts->ignored++;
                continue;
            }
        } else {
            memset(&act, 0, sizeof(act));
            continue; /* a tiny fragmented datagram: not TFTP */
        }
        start = net->now_ms(net->ctx);
        if (before == TFTP_S_WAIT_FIRST && r.x.state != TFTP_S_WAIT_FIRST &&
            r.x.state != TFTP_S_FAILED &&
            (rc = terms_fixed(&r, sink, res)) != 0)
            goto out;
        if (act.len) {
            if ((rc = sink->data(sink->ctx, act.off, act.data, act.len)) !=
                0) {
                tell(&r, 0, "aborted");
                goto out;
            }
            res->got = r.x.received;
        }
    }
out:
    res->rc = rc;
    return rc;
}
