/*
 * Unit tests for net/tftp_client.c, the TFTP client engine, against a
 * scripted server behind a fake datagram transport: what the client sends
 * reaches the server at once, what the server answers waits in a queue
 * the client's recv() takes from; an empty queue is a timeout, and the
 * fake clock moves on by the time the client waited.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "net/tftp_client.h"
#include "lib/errno.h"

#define SERVER 0x0202000au /* 10.0.2.2 */
#define SRV_PORT 40000     /* the server's transfer ID */
#define WAIT_MS 500
#define MAXPKT 1600
#define QLEN 64

/** One datagram waiting for the client. */
struct pkt {
    uint8_t b[MAXPKT];
    size_t len;
    uint16_t sport;
    int frag; /* it came in IP fragments */
};

/** The scripted server and the transport in front of it. */
struct fake {
    /* the script */
    uint32_t size;      /* the file's length */
    int oack;           /* answer the options with an OACK */
    uint16_t blksize;   /* granted (with oack) */
    uint16_t window;    /* granted (with oack; 0: not acknowledged) */
    int tsize;          /* put tsize in the OACK */
    unsigned lose_rrq;  /* requests to ignore first */
    int error_first;    /* answer the RRQ with ERROR 1 */
    uint16_t drop, dup, stop, error_at, oversize, frag, stranger;
    /* the server's state */
    struct pkt q[QLEN];
    unsigned qhead, qtail;
    uint16_t bs;        /* blksize in use */
    uint16_t win;       /* window in use */
    int dropped, duped, done;
    unsigned rrqs, acks, waits;
    uint16_t last_ack;
    int got_error;      /* the client sent ERROR ... */
    uint16_t error_code;
    char error_msg[64];
    uint32_t now;
};

/** What the sink saw. */
struct seen {
    uint8_t buf[1 << 17];
    uint32_t next;
    unsigned size_calls, data_calls;
    uint32_t size;
    int refuse_size;       /* rc for sink->size */
    uint32_t refuse_at;    /* refuse data at this offset (with rc below) */
    int refuse_data;
    unsigned granted_calls;
    uint16_t granted_bs, granted_win;
};

static uint8_t file_byte(uint32_t i)
{
    return (uint8_t)(i * 7 + 3 + (i >> 9));
}

static struct pkt *push(struct fake *f)
{
    assert_true(f->qtail - f->qhead < QLEN);
    struct pkt *p = &f->q[f->qtail++ % QLEN];
    memset(p, 0, sizeof(*p));
    p->sport = SRV_PORT;
    return p;
}

static void push_error(struct fake *f, uint16_t code, const char *msg)
{
    struct pkt *p = push(f);
    p->b[1] = 5;
    p->b[3] = (uint8_t)code;
    strcpy((char *)p->b + 4, msg);
    p->len = 5 + strlen(msg);
}

/** Blocks in the file (the last one may be empty). */
static uint32_t nblocks(const struct fake *f)
{
    return f->size / f->bs + 1;
}

/** Queue block @b (with the script's faults). */
static void push_block(struct fake *f, uint16_t b)
{
    uint32_t off = (uint32_t)(b - 1) * f->bs;
    uint32_t n = f->size - off < f->bs ? f->size - off : f->bs;

    if (f->stop && b >= f->stop)
        return; /* the server stopped for good */
    if (b == f->error_at) {
        push_error(f, 2, "permission denied");
        f->done = 1;
        return;
    }
    if (b == f->drop && !f->dropped) {
        f->dropped = 1;
        return;
    }
    if (b == f->stranger) {
        struct pkt *s = push(f);
        s->sport = SRV_PORT + 1;
        s->b[1] = 3;
        s->b[3] = (uint8_t)b;
        s->len = 4 + 10;
    }
    if (b == f->oversize)
        n = f->bs + 4u;
    struct pkt *p = push(f);
    p->b[1] = 3;
    p->b[2] = (uint8_t)(b >> 8);
    p->b[3] = (uint8_t)b;
    for (uint32_t i = 0; i < n; i++)
        p->b[4 + i] = file_byte(off + i);
    p->len = 4 + n;
    if (b == f->frag) {
        p->frag = 1;
        p->len = 4 + 1500;
    }
    if (b == f->dup && !f->duped) {
        f->duped = 1;
        struct pkt *d = push(f);
        *d = *p;
    }
}

/** Queue the window after block @acked. */
static void push_window(struct fake *f, uint16_t acked)
{
    for (uint32_t b = (uint32_t)acked + 1;
         b <= acked + (uint32_t)f->win && b <= nblocks(f) && !f->done; b++)
        push_block(f, (uint16_t)b);
}

/** The RRQ has @name with value @value. */
static int has_opt(const uint8_t *pkt, size_t len, const char *name,
                   const char *value)
{
    const char *s = (const char *)pkt + 2, *end = (const char *)pkt + len;
    while (s < end) {
        const char *n = s;
        s += strlen(s) + 1;
        if (s < end && strcmp(n, name) == 0 && strcmp(s, value) == 0)
            return 1;
    }
    return 0;
}

static int fake_send(void *ctx, uint32_t server, uint16_t port,
                     const uint8_t *pkt, size_t len)
{
    struct fake *f = ctx;
    assert_int_equal(server, SERVER);
    assert_true(len >= 4);
    uint16_t op = (uint16_t)(pkt[0] << 8 | pkt[1]);
    uint16_t arg = (uint16_t)(pkt[2] << 8 | pkt[3]);
    if (port == 69) {
        assert_int_equal(op, 1);
        f->rrqs++;
        assert_true(has_opt(pkt, len, "blksize", "1468"));
        assert_true(has_opt(pkt, len, "windowsize", "16"));
        if (f->lose_rrq) {
            f->lose_rrq--;
            return 0;
        }
        if (f->error_first) {
            push_error(f, 1, "File not found");
            return 0;
        }
        if (f->oack) {
            struct pkt *p = push(f);
            char num[16];
            size_t n = 2;
            p->b[1] = 6;
            snprintf(num, sizeof(num), "%u", f->blksize);
            memcpy(p->b + n, "blksize", 8), n += 8;
            memcpy(p->b + n, num, strlen(num) + 1), n += strlen(num) + 1;
            if (f->window) {
                snprintf(num, sizeof(num), "%u", f->window);
                memcpy(p->b + n, "windowsize", 11), n += 11;
                memcpy(p->b + n, num, strlen(num) + 1), n += strlen(num) + 1;
            }
            if (f->tsize) {
                snprintf(num, sizeof(num), "%u", f->size);
                memcpy(p->b + n, "tsize", 6), n += 6;
                memcpy(p->b + n, num, strlen(num) + 1), n += strlen(num) + 1;
            }
            p->len = n;
            f->bs = f->blksize;
            f->win = f->window ? f->window : 1;
        } else {
            f->bs = 512;
            f->win = 1;
            push_window(f, 0);
        }
        return 0;
    }
    assert_int_equal(port, SRV_PORT);
    if (op == 5) {
        f->got_error = 1;
        f->error_code = arg;
        snprintf(f->error_msg, sizeof(f->error_msg), "%s",
                 (const char *)pkt + 4);
        f->done = 1;
        return 0;
    }
    assert_int_equal(op, 4);
    f->acks++;
    f->last_ack = arg;
    if (!f->done && arg < nblocks(f))
        push_window(f, arg);
    return 0;
}

static int fake_recv(void *ctx, uint32_t server, unsigned ms,
                     const uint8_t **data, size_t *len, uint16_t *sport)
{
    struct fake *f = ctx;
    assert_int_equal(server, SERVER);
    assert_true(ms > 0 && ms <= WAIT_MS);
    if (f->qhead == f->qtail) {
        f->now += ms;
        f->waits++;
        assert_true(f->waits < 100); /* the client gives up in time */
        return 0;
    }
    struct pkt *p = &f->q[f->qhead++ % QLEN];
    *data = p->b;
    *len = p->len;
    *sport = p->sport;
    return p->frag ? DGRAM_FRAGMENTED : 1;
}

static uint32_t fake_now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static int sink_size(void *ctx, uint32_t size)
{
    struct seen *s = ctx;
    assert_int_equal(s->data_calls, 0); /* before any data */
    s->size_calls++;
    s->size = size;
    return s->refuse_size;
}

static int sink_data(void *ctx, uint32_t off, const uint8_t *data,
                     size_t len)
{
    struct seen *s = ctx;
    assert_int_equal(off, s->next);
    assert_true(len > 0 && off + len <= sizeof(s->buf));
    s->data_calls++;
    if (s->refuse_data && off >= s->refuse_at)
        return s->refuse_data;
    memcpy(s->buf + off, data, len);
    s->next = off + (uint32_t)len;
    return 0;
}

static void granted(void *ctx, uint32_t server, uint16_t bs, uint16_t win)
{
    struct seen *s = ctx;
    assert_int_equal(server, SERVER);
    assert_int_equal(s->data_calls + s->size_calls, 0);
    s->granted_calls++;
    s->granted_bs = bs;
    s->granted_win = win;
}

static struct fake F;
static struct seen S;
static struct tftp_counts C;

/** A server granting blksize 1468, window 16 and tsize for @size bytes. */
static void setup_server(uint32_t size)
{
    memset(&F, 0, sizeof(F));
    memset(&S, 0, sizeof(S));
    memset(&C, 0, sizeof(C));
    F.size = size;
    F.oack = 1;
    F.blksize = 1468;
    F.window = 16;
    F.tsize = 1;
}

/** Run one transfer of at most @max bytes; @need_window as the PXE UDP
 * path asks. */
static int fetch(uint32_t max, int need_window, struct xfer_result *res)
{
    const struct dgram_transport net = { fake_send, fake_recv, fake_now,
                                         &F };
    const struct tftp_client c = { &net, { 1468, 16, 1 }, WAIT_MS,
                                   need_window, granted, &S, &C };
    const struct file_sink sink = { sink_size, sink_data, &S, NULL, NULL };
    memset(res, 0xA5, sizeof(*res)); /* the engine clears it */
    int rc = tftp_client_fetch(&c, SERVER, "demo/kernel.elf", max, &sink,
                               res);
    assert_int_equal(res->rc, rc);
    assert_non_null(memchr(res->detail, 0, sizeof(res->detail)));
    assert_int_equal(res->got, S.next);
    return rc;
}

/** The sink holds the file's first @n bytes. */
static void check_bytes(uint32_t n)
{
    assert_int_equal(S.next, n);
    for (uint32_t i = 0; i < n; i++)
        if (S.buf[i] != file_byte(i))
            fail_msg("byte %u differs", i);
}

static void test_windowed(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(100000);
    assert_int_equal(fetch(1 << 20, 1, &res), 0);
    check_bytes(100000);
    assert_int_equal(res.size, 100000);
    assert_int_equal(res.blksize, 1468);
    assert_int_equal(res.window, 16);
    assert_int_equal(res.fw_status, 0);
    assert_string_equal(res.detail, "");
    assert_int_equal(S.size_calls, 1);
    assert_int_equal(S.size, 100000);
    assert_int_equal(S.granted_calls, 1);
    assert_int_equal(S.granted_bs, 1468);
    assert_int_equal(S.granted_win, 16);
    /* ACK 0, one per full window of 16, the last one: 69 blocks. */
    assert_int_equal(F.acks, 1 + 4 + 1);
    assert_int_equal(F.last_ack, 69);
    assert_int_equal(F.rrqs, 1);
    assert_int_equal(F.waits, 0);
}

static void test_lockstep(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(3 * 1024); /* a whole number of blocks: an empty last */
    F.blksize = 1024;
    F.window = 0;
    assert_int_equal(fetch(1 << 20, 0, &res), 0);
    check_bytes(3 * 1024);
    assert_int_equal(res.blksize, 1024);
    assert_int_equal(res.window, 1);
    assert_int_equal(res.size, 3 * 1024);
    assert_int_equal(F.acks, 1 + 4);
    assert_int_equal(F.last_ack, 4);
    assert_int_equal(S.granted_win, 1);
}

static void test_no_oack(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(5000);
    F.oack = 0; /* an old server: plain 512-byte blocks, no tsize */
    assert_int_equal(fetch(1 << 20, 0, &res), 0);
    check_bytes(5000);
    assert_int_equal(res.blksize, 512);
    assert_int_equal(res.window, 1);
    assert_int_equal(res.size, 0);
    assert_int_equal(S.size_calls, 0);
    assert_int_equal(S.granted_calls, 1);
}

static void test_lost_block(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(40000);
    F.drop = 3; /* the window goes on without it: ACK 2 asks again */
    assert_int_equal(fetch(1 << 20, 1, &res), 0);
    check_bytes(40000);
    assert_true(F.dropped);
    assert_int_equal(F.waits, 0);
    assert_int_equal(C.timeouts, 0);
    assert_true(C.ignored > 0); /* the rest of the window after the gap */

    setup_server(40000);
    F.window = 0;
    F.drop = 5; /* lock-step: only the timeout brings it back */
    assert_int_equal(fetch(1 << 20, 0, &res), 0);
    check_bytes(40000);
    assert_int_equal(F.waits, 1);
    assert_int_equal(C.timeouts, 1);
}

static void test_duplicate_and_stranger(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(40000);
    F.dup = 4;
    F.stranger = 9; /* another transfer's packet: not ours */
    assert_int_equal(fetch(1 << 20, 1, &res), 0);
    check_bytes(40000);
    assert_true(F.duped);
    assert_int_equal(S.data_calls, 40000 / 1468 + 1);
    assert_int_equal(C.ignored, 2); /* the duplicate and the stranger */
    assert_int_equal(C.timeouts, 0);
}

static void test_lost_requests(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(2000);
    F.lose_rrq = 2;
    assert_int_equal(fetch(1 << 20, 1, &res), 0);
    check_bytes(2000);
    assert_int_equal(F.rrqs, 3);
    assert_int_equal(F.waits, 2);
    assert_int_equal(C.timeouts, 2);
    assert_int_equal(F.now, 2 * WAIT_MS);
}

static void test_timeout(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(40000);
    F.stop = 20; /* the server dies in the second window */
    assert_int_equal(fetch(1 << 20, 1, &res), -PE_TIMEDOUT);
    check_bytes(19 * 1468);
    assert_string_equal(res.detail, "timed out");
    assert_int_equal(F.waits, TFTP_MAX_RETRIES + 1);
    assert_int_equal(F.now, (TFTP_MAX_RETRIES + 1) * WAIT_MS);

    setup_server(40000);
    F.lose_rrq = 100; /* nobody answers at all */
    assert_int_equal(fetch(1 << 20, 1, &res), -PE_TIMEDOUT);
    assert_int_equal(res.got, 0);
    assert_int_equal(F.rrqs, TFTP_MAX_RETRIES + 1);
    assert_int_equal(S.granted_calls, 0);
}

static void test_server_errors(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(40000);
    F.error_at = 3;
    assert_int_equal(fetch(1 << 20, 1, &res), -PE_ACCESS);
    check_bytes(2 * 1468);
    assert_string_equal(res.detail, "TFTP error 2: permission denied");
    assert_false(F.got_error); /* no answer to an ERROR */

    setup_server(40000);
    F.error_first = 1;
    assert_int_equal(fetch(1 << 20, 1, &res), -PE_NOENT);
    assert_int_equal(res.got, 0);
    assert_string_equal(res.detail, ""); /* the rc says it all */
    assert_int_equal(S.granted_calls, 0);
}

static void test_oversize_and_fragments(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(40000);
    F.oversize = 2;
    assert_int_equal(fetch(1 << 20, 1, &res), -PE_IO);
    check_bytes(1468);
    assert_string_equal(res.detail,
                        "oversized DATA block: 1472 bytes, blksize 1468");
    assert_true(F.got_error);
    assert_int_equal(F.error_code, 4);

    setup_server(40000);
    F.frag = 2;
    assert_int_equal(fetch(1 << 20, 1, &res), -PE_IO);
    check_bytes(1468);
    assert_string_equal(res.detail, "oversized DATA block: 1500 bytes in IP "
                                    "fragments, blksize 1468");
}

static void test_limits(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(40000); /* tsize over the limit: refused at the OACK */
    assert_int_equal(fetch(30000, 1, &res), -PE_RANGE);
    assert_int_equal(res.got, 0);
    assert_int_equal(S.size_calls, 0);
    assert_true(F.got_error);
    assert_int_equal(F.error_code, 8);

    setup_server(40000); /* no tsize: the data runs over */
    F.tsize = 0;
    assert_int_equal(fetch(30000, 1, &res), -PE_RANGE);
    assert_true(res.got <= 30000);
    assert_string_equal(res.detail, "");
    assert_int_equal(F.error_code, 4);

    static char path[400];
    memset(path, 'a', sizeof(path) - 1);
    const struct dgram_transport net = { fake_send, fake_recv, fake_now,
                                         &F };
    const struct tftp_client c = { &net, { 1468, 16, 1 }, WAIT_MS, 1, NULL,
                                   NULL, NULL };
    const struct file_sink sink = { NULL, sink_data, &S, NULL, NULL };
    setup_server(10);
    assert_int_equal(tftp_client_fetch(&c, SERVER, path, 100, &sink, &res),
                     -PE_TOOLONG);
    assert_int_equal(F.rrqs, 0);
}

static void test_sink_refuses(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(40000);
    S.refuse_size = -PE_NOMEM;
    assert_int_equal(fetch(1 << 20, 1, &res), -PE_NOMEM);
    assert_int_equal(S.data_calls, 0);
    assert_string_equal(res.detail, "");
    assert_int_equal(res.size, 40000);
    assert_true(F.got_error);
    assert_int_equal(F.error_code, 8);

    setup_server(40000);
    S.refuse_data = -PE_INVAL;
    S.refuse_at = 2 * 1468;
    assert_int_equal(fetch(1 << 20, 1, &res), -PE_INVAL);
    check_bytes(2 * 1468);
    assert_string_equal(res.detail, "");
    assert_true(F.got_error);
}

static void test_window_needed(void **state)
{
    struct xfer_result res;
    (void)state;
    setup_server(40000);
    F.window = 0; /* OACK without windowsize */
    assert_int_equal(fetch(1 << 20, 1, &res), -PE_UNSUPP);
    assert_int_equal(res.got, 0);
    assert_int_equal(S.granted_calls + S.size_calls + S.data_calls, 0);
    assert_true(F.got_error);
    assert_int_equal(F.error_code, 8);
    assert_string_equal(F.error_msg, "windowsize needed");
    assert_int_equal(res.window, 1);

    /* Plain DATA 1, no OACK: a server without options (RFC 1350) is
     * taken in lock-step all the same (the ROM's TFTP could not do
     * better, iPXE's not at all). */
    setup_server(40000);
    F.oack = 0;
    assert_int_equal(fetch(1 << 20, 1, &res), 0);
    check_bytes(40000);
    assert_false(F.got_error);
    assert_int_equal(res.blksize, 512);
    assert_int_equal(res.window, 1);
    assert_int_equal(res.size, 0);
    assert_int_equal(S.size_calls, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windowed),
        cmocka_unit_test(test_lockstep),
        cmocka_unit_test(test_no_oack),
        cmocka_unit_test(test_lost_block),
        cmocka_unit_test(test_duplicate_and_stranger),
        cmocka_unit_test(test_lost_requests),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_server_errors),
        cmocka_unit_test(test_oversize_and_fragments),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_sink_refuses),
        cmocka_unit_test(test_window_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
