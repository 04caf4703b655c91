/* Unit tests for net/tftp_proto.c: the TFTP client's packet decisions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "net/tftp_proto.h"
#include "lib/errno.h"

#define SRV 40000 /* the server's transfer port */

static const struct tftp_request want = { 1468, 16, 1 };

/** An OACK from @opts ("name\0value\0..."), @n bytes. */
static size_t oack(uint8_t *b, const char *opts, size_t n)
{
    b[0] = 0;
    b[1] = TFTP_OP_OACK;
    memcpy(b + 2, opts, n);
    return n + 2;
}

/** A DATA packet for @block holding @len bytes of @fill. */
static size_t data(uint8_t *b, uint16_t block, size_t len, uint8_t fill)
{
    b[0] = 0;
    b[1] = TFTP_OP_DATA;
    b[2] = (uint8_t)(block >> 8);
    b[3] = (uint8_t)block;
    memset(b + 4, fill, len);
    return len + 4;
}

/** Negotiate blksize 1000, windowsize 4, tsize 3500: ACK 0 follows. */
static void start(struct tftp_xfer *x, struct tftp_action *a)
{
    static const char o[] = "blksize\0" "1000\0" "tsize\0" "3500\0"
                            "windowsize\0" "4";
    uint8_t b[128];
    tftp_xfer_init(x, &want, 1u << 20);
    assert_int_equal(tftp_input(x, b, oack(b, o, sizeof(o)), SRV, a), 0);
    assert_true(a->send_ack);
    assert_int_equal(a->ack_block, 0);
    assert_int_equal(x->blksize, 1000);
    assert_int_equal(x->windowsize, 4);
    assert_true(x->has_tsize);
    assert_int_equal(x->tsize, 3500);
}

static void test_rrq_layout(void **state)
{
    uint8_t b[128];
    static const char exp[] = "\0\1dir/f.bin\0octet\0blksize\0" "1468\0"
                              "tsize\0" "0\0windowsize\0" "16";
    (void)state;
    size_t n = tftp_build_rrq(b, sizeof(b), "dir/f.bin", &want);
    assert_int_equal(n, sizeof(exp));
    assert_memory_equal(b, exp, n);
    /* Too small a buffer: 0, never a truncated request. */
    assert_int_equal(tftp_build_rrq(b, 20, "dir/f.bin", &want), 0);
    struct tftp_request plain = { 0, 0, 0 };
    assert_int_equal(tftp_build_rrq(b, sizeof(b), "f", &plain), 10);
}

static void test_error_and_ack_layout(void **state)
{
    uint8_t b[16];
    (void)state;
    assert_int_equal(tftp_build_ack(b, 0x1234), 4);
    assert_memory_equal(b, "\0\4\x12\x34", 4);
    assert_int_equal(tftp_build_error(b, 10, 8, "a long message"), 10);
    assert_memory_equal(b, "\0\5\0\x08" "a lon", 9);
    assert_int_equal(b[9], 0);
}

/** A window of 4 full blocks is ACKed once, the short block ends it. */
static void test_windowed_transfer(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    uint8_t b[1100];
    (void)state;
    start(&x, &a);
    for (uint16_t blk = 1; blk <= 3; blk++) {
        assert_int_equal(tftp_input(&x, b, data(b, blk, 1000, blk), SRV, &a),
                         0);
        assert_int_equal(a.len, 1000);
        assert_int_equal(a.off, (blk - 1) * 1000u);
        assert_int_equal(a.data[0], blk);
        assert_int_equal(a.send_ack, blk == 4);
    }
    assert_int_equal(tftp_input(&x, b, data(b, 4, 500, 4), SRV, &a), 0);
    assert_int_equal(a.len, 500);
    assert_true(a.send_ack);
    assert_int_equal(a.ack_block, 4);
    assert_int_equal(x.state, TFTP_S_DONE);
    assert_int_equal(x.received, 3500);
    /* Anything after the end is ignored. */
    assert_int_equal(tftp_input(&x, b, data(b, 5, 10, 0), SRV, &a), 0);
    assert_int_equal(a.len, 0);
    assert_false(a.send_ack);
}

/** A full window ACKs its last block. */
static void test_window_ack(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    uint8_t b[1100];
    (void)state;
    start(&x, &a);
    for (uint16_t blk = 1; blk <= 4; blk++)
        tftp_input(&x, b, data(b, blk, 1000, 0), SRV, &a);
    assert_true(a.send_ack);
    assert_int_equal(a.ack_block, 4);
}

/** A lost block: one ACK of the last good block, duplicates ignored. */
static void test_gap_and_duplicates(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    uint8_t b[1100];
    (void)state;
    start(&x, &a);
    tftp_input(&x, b, data(b, 1, 1000, 1), SRV, &a);
    /* Block 2 lost: 3 and 4 arrive. */
    tftp_input(&x, b, data(b, 3, 1000, 3), SRV, &a);
    assert_int_equal(a.len, 0);
    assert_true(a.send_ack);
    assert_int_equal(a.ack_block, 1);
    tftp_input(&x, b, data(b, 4, 1000, 4), SRV, &a);
    assert_false(a.send_ack); /* once per window */
    /* A duplicate of block 1: ignored, no ACK (Sorcerer's Apprentice). */
    tftp_input(&x, b, data(b, 1, 1000, 1), SRV, &a);
    assert_int_equal(a.len, 0);
    assert_false(a.send_ack);
    /* The resent window: 2 is accepted at offset 1000. */
    tftp_input(&x, b, data(b, 2, 1000, 2), SRV, &a);
    assert_int_equal(a.len, 1000);
    assert_int_equal(a.off, 1000);
    assert_int_equal(x.received, 2000);
}

/** Block numbers wrap from 65535 to 0. */
static void test_block_wrap(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    uint8_t b[16];
    static const struct tftp_request small = { 8, 0, 0 };
    static const char o[] = "blksize\0" "8";
    (void)state;
    tftp_xfer_init(&x, &small, 1u << 20);
    tftp_input(&x, b, oack(b, o, sizeof(o)), SRV, &a);
    for (uint32_t i = 1; i <= 65537; i++) {
        tftp_input(&x, b, data(b, (uint16_t)i, 8, 0), SRV, &a);
        assert_int_equal(a.len, 8);
        assert_true(a.send_ack);
    }
    assert_int_equal(x.received, 65537u * 8);
    assert_int_equal(a.ack_block, 1);
}

/** The server ignored the options: DATA 1 at once, 512-byte blocks. */
static void test_no_oack(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    uint8_t b[600];
    (void)state;
    tftp_xfer_init(&x, &want, 1u << 20);
    assert_int_equal(tftp_input(&x, b, data(b, 1, 512, 7), SRV, &a), 0);
    assert_int_equal(a.len, 512);
    assert_true(a.send_ack);
    assert_false(x.oacked);
    assert_int_equal(x.windowsize, 1);
    assert_int_equal(x.blksize, 512);
    /* A block longer than 512 now is an error the server is told; a bad
     * packet, so the transfer is worth another try (-PE_IO). */
    assert_int_equal(tftp_input(&x, b, data(b, 2, 513, 7), SRV, &a),
                     -PE_IO);
    assert_true(a.send_error);
    assert_string_equal(a.msg, "oversized DATA block: 513 bytes, blksize 512");
}

/** An OACK may not grant more than asked, nor anything not asked. */
static void test_oack_validation(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    uint8_t b[128];
    static const char big[] = "blksize\0" "1469";
    static const char win[] = "windowsize\0" "17";
    static const char odd[] = "timeout\0" "5";
    static const char nodig[] = "blksize\0" "12x";
    static const char noval[] = "blksize";
    static const char huge[] = "tsize\0" "99999999999";
    static const char toobig[] = "tsize\0" "1048577";
    static const char zero[] = "blksize\0" "0";
    struct { const char *o; size_t n; int rc; } bad[] = {
        { big, sizeof(big), -PE_INVAL }, { win, sizeof(win), -PE_INVAL },
        { odd, sizeof(odd), -PE_INVAL }, { nodig, sizeof(nodig), -PE_INVAL },
        { noval, sizeof(noval), -PE_INVAL }, { huge, sizeof(huge), -PE_INVAL },
        { toobig, sizeof(toobig), -PE_RANGE }, { zero, sizeof(zero), -PE_INVAL },
        { big, sizeof(big) - 1, -PE_INVAL }, /* no final NUL */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tftp_xfer_init(&x, &want, 1u << 20);
        assert_int_equal(tftp_input(&x, b, oack(b, bad[i].o, bad[i].n), SRV,
                                    &a), bad[i].rc);
        assert_true(a.send_error);
        assert_int_equal(a.error_code, TFTP_ERR_OPTION);
        assert_int_equal(x.state, TFTP_S_FAILED);
        assert_true(a.msg[0]);
    }
    /* An option only the server knows of is fine when it is asked... but
     * Pulsar asks tsize only if told to. */
    static const struct tftp_request notsize = { 1468, 0, 0 };
    static const char ts[] = "tsize\0" "5";
    tftp_xfer_init(&x, &notsize, 1u << 20);
    assert_int_equal(tftp_input(&x, b, oack(b, ts, sizeof(ts)), SRV, &a),
                     -PE_INVAL);
}

/** ERROR packets: not-found maps to -PE_NOENT; the text is sanitised. */
static void test_error_packets(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    static const uint8_t nf[] = "\0\5\0\1File not found";
    static const uint8_t odd[] = "\0\5\0\2bad\x1b[2Jtext";
    static const uint8_t unterminated[] = { 0, 5, 0, 3, 'd', 'i', 's', 'k' };
    (void)state;
    tftp_xfer_init(&x, &want, 100);
    assert_int_equal(tftp_input(&x, nf, sizeof(nf), SRV, &a), -PE_NOENT);
    assert_string_equal(a.msg, "TFTP error 1: File not found");
    assert_false(a.send_error);
    tftp_xfer_init(&x, &want, 100);
    assert_int_equal(tftp_input(&x, odd, sizeof(odd), SRV, &a), -PE_ACCESS);
    assert_string_equal(a.msg, "TFTP error 2: bad?[2Jtext");
    tftp_xfer_init(&x, &want, 100);
    assert_int_equal(tftp_input(&x, unterminated, sizeof(unterminated), SRV,
                                &a), -PE_IO);
    assert_string_equal(a.msg, "TFTP error 3: disk");
}

/** Packets from another port, short packets and odd opcodes. */
static void test_strangers_and_garbage(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    uint8_t b[1100];
    static const uint8_t ack[] = { 0, 4, 0, 1 };
    (void)state;
    start(&x, &a);
    assert_int_equal(tftp_input(&x, b, data(b, 1, 1000, 0), SRV + 1, &a), 0);
    assert_int_equal(a.len, 0);
    assert_int_equal(tftp_input(&x, b, 3, SRV, &a), 0);
    assert_int_equal(x.state, TFTP_S_DATA);
    assert_int_equal(tftp_input(&x, ack, sizeof(ack), SRV, &a), -PE_INVAL);
    assert_true(a.send_error);
}

/** More data than the caller's space: stop with -PE_RANGE. */
static void test_too_long(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    uint8_t b[600];
    (void)state;
    tftp_xfer_init(&x, &want, 700);
    tftp_input(&x, b, data(b, 1, 512, 0), SRV, &a);
    assert_int_equal(tftp_input(&x, b, data(b, 2, 512, 0), SRV, &a),
                     -PE_RANGE);
    assert_int_equal(x.received, 512);
}

/** Timeouts: resend the RRQ, then re-ACK; give up after the limit. */
static void test_timeouts(void **state)
{
    struct tftp_xfer x;
    struct tftp_action a;
    uint8_t b[1100];
    static const char o[] = "blksize\0" "1000";
    (void)state;
    tftp_xfer_init(&x, &want, 1u << 20);
    assert_int_equal(tftp_timeout(&x, &a), 0);
    assert_true(a.resend_rrq);
    /* A lost ACK 0: the OACK comes again and is answered again. */
    tftp_input(&x, b, oack(b, o, sizeof(o)), SRV, &a);
    tftp_input(&x, b, oack(b, o, sizeof(o)), SRV, &a);
    assert_true(a.send_ack);
    assert_int_equal(a.ack_block, 0);
    tftp_input(&x, b, data(b, 1, 1000, 0), SRV, &a);
    for (unsigned i = 0; i < TFTP_MAX_RETRIES; i++) {
        assert_int_equal(tftp_timeout(&x, &a), 0);
        assert_true(a.send_ack);
        assert_int_equal(a.ack_block, 1);
    }
    assert_int_equal(tftp_timeout(&x, &a), -PE_TIMEDOUT);
    assert_string_equal(a.msg, "timed out");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rrq_layout),
        cmocka_unit_test(test_error_and_ack_layout),
        cmocka_unit_test(test_windowed_transfer),
        cmocka_unit_test(test_window_ack),
        cmocka_unit_test(test_gap_and_duplicates),
        cmocka_unit_test(test_block_wrap),
        cmocka_unit_test(test_no_oack),
        cmocka_unit_test(test_oack_validation),
        cmocka_unit_test(test_error_packets),
        cmocka_unit_test(test_strangers_and_garbage),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
