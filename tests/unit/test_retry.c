/* Unit tests for loader/retry.c: the recovery policy and its messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "loader/retry.h"

/** 10.0.2.2 in network byte order. */
static uint32_t server(void)
{
    const uint8_t b[4] = { 10, 0, 2, 2 };
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}

/** Transport trouble is retried; verdicts and broken files are not. */
static void test_worth(void **state)
{
    (void)state;
    assert_true(retry_transfer_worth(-PE_TIMEDOUT, true));
    assert_true(retry_transfer_worth(-PE_IO, true));
    assert_true(retry_transfer_worth(-PE_NOPXE, false));
    assert_true(retry_transfer_worth(-PE_SHORT, true));
    assert_true(retry_transfer_worth(-PE_RANGE, true));
    /* Over a limit with no size announced: it will be over it again. */
    assert_false(retry_transfer_worth(-PE_RANGE, false));
    assert_false(retry_transfer_worth(-PE_NOENT, true));
    assert_false(retry_transfer_worth(-PE_ACCESS, true));
    assert_false(retry_transfer_worth(-PE_CHANGED, true));
    assert_false(retry_transfer_worth(-PE_INVAL, true));
    assert_false(retry_transfer_worth(-PE_NOEXEC, true));
    assert_false(retry_transfer_worth(-PE_OVERLAP, true));
    assert_false(retry_transfer_worth(-PE_NOMEM, true));
    assert_false(retry_transfer_worth(0, true));
}

/** Backoff doubles from 1 s and is bounded; boot waits grow to 60 s. */
static void test_waits(void **state)
{
    (void)state;
    assert_int_equal(retry_backoff_ms(1), 1000);
    assert_int_equal(retry_backoff_ms(2), 2000);
    assert_int_equal(retry_backoff_ms(3), 4000);
    assert_int_equal(retry_backoff_ms(0), 1000);
    assert_int_equal(retry_backoff_ms(100), 32000);
    assert_int_equal(retry_boot_wait_s(0), 10);
    assert_int_equal(retry_boot_wait_s(1), 10);
    assert_int_equal(retry_boot_wait_s(2), 20);
    assert_int_equal(retry_boot_wait_s(5), 50);
    assert_int_equal(retry_boot_wait_s(6), 60);
    assert_int_equal(retry_boot_wait_s(7), 60);
    assert_int_equal(retry_boot_wait_s(1000000), 60);
    /* The whole per-file budget: the waits between the tries. */
    unsigned total = 0;
    for (unsigned t = 1; t < RETRY_TRANSFER_TRIES; t++)
        total += retry_backoff_ms(t);
    assert_int_equal(total, 3000);
}

/** Describe @rc for a failure set up by the caller. */
static const char *say(int rc, struct fetch_failure *f)
{
    static char buf[256];
    return retry_describe(rc, f, buf, sizeof(buf));
}

/** A URL's host replaces the TFTP server; no client: the detail alone. */
static void test_describe_where(void **state)
{
    struct fetch_failure f;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.server = server();
    f.tries = 1;
    strcpy(f.where, "boot.lab:8080");
    assert_string_equal(say(-PE_NOENT, &f), "not found on boot.lab:8080");
    f.got = 5;
    f.size = 9;
    assert_string_equal(say(-PE_SHORT, &f),
                        "boot.lab:8080 announced 9 bytes but sent only 5");
    f.no_client = true;
    strcpy(f.detail, "no HTTP here");
    assert_string_equal(say(-PE_UNSUPP, &f), "no HTTP here");
}

/** Each kind of failure names the server and what went wrong. */
static void test_describe(void **state)
{
    struct fetch_failure f;

    (void)state;
    memset(&f, 0, sizeof(f));
    f.server = server();
    f.tries = 1;
    assert_string_equal(say(-PE_NOENT, &f), "not found on 10.0.2.2");
    strcpy(f.detail, "PXE status 0x3c: TFTP: access violation");
    assert_string_equal(say(-PE_ACCESS, &f), "access denied by 10.0.2.2 "
                        "(PXE status 0x3c: TFTP: access violation)");

    f.got = 2864;
    f.size = 12600;
    f.tries = 3;
    strcpy(f.detail, "PXE status 0x35: TFTP read timeout");
    assert_string_equal(say(-PE_TIMEDOUT, &f),
                        "timed out on 10.0.2.2 after 2864 of 12600 bytes, "
                        "3 tries (PXE status 0x35: TFTP read timeout)");
    f.size = 0;
    assert_string_equal(say(-PE_TIMEDOUT, &f),
                        "timed out on 10.0.2.2 after 2864 bytes, 3 tries "
                        "(PXE status 0x35: TFTP read timeout)");
    f.size_query = true;
    assert_string_equal(say(-PE_TIMEDOUT, &f),
                        "size query timed out on 10.0.2.2, 3 tries "
                        "(PXE status 0x35: TFTP read timeout)");
    f.size_query = false;
    /* Pulsar's own client says only "timed out": not twice. */
    strcpy(f.detail, "timed out");
    f.size = 307323;
    f.got = 71932;
    assert_string_equal(say(-PE_TIMEDOUT, &f),
                        "timed out on 10.0.2.2 after 71932 of 307323 bytes, "
                        "3 tries");

    f.detail[0] = '\0';
    f.size = 2097152;
    f.got = 100000;
    assert_string_equal(say(-PE_SHORT, &f), "10.0.2.2 announced 2097152 "
                        "bytes but sent only 100000, 3 tries");
    assert_string_equal(say(-PE_RANGE, &f), "10.0.2.2 sent more than the "
                        "2097152 bytes it announced, 3 tries");
    f.size = 0;
    f.max = 65536;
    f.tries = 1;
    assert_string_equal(say(-PE_RANGE, &f), "larger than 65536 bytes on "
                        "10.0.2.2");
    assert_string_equal(say(-PE_CHANGED, &f), "changed on 10.0.2.2 between "
                        "two tries");

    /* Anything else: the transfer failed, with the client's detail or,
     * without one, Pulsar's own text for the code. */
    f.got = 5728;
    f.size = 2097152;
    f.tries = 3;
    assert_string_equal(say(-PE_IO, &f), "transfer from 10.0.2.2 failed "
                        "after 5728 of 2097152 bytes, 3 tries (transfer "
                        "failed)");
    strcpy(f.detail, "PXE status 0x02: bad function");
    assert_string_equal(say(-PE_NOPXE, &f), "transfer from 10.0.2.2 failed "
                        "after 5728 of 2097152 bytes, 3 tries (PXE status "
                        "0x02: bad function)");
    f.size_query = true;
    assert_string_equal(say(-PE_NOPXE, &f), "size query to 10.0.2.2 failed, "
                        "3 tries (PXE status 0x02: bad function)");
}

/** A small buffer gets a truncated, terminated message. */
static void test_describe_truncates(void **state)
{
    struct fetch_failure f;
    char buf[12];

    (void)state;
    memset(&f, 0, sizeof(f));
    f.server = server();
    f.tries = 3;
    f.size = 100;
    strcpy(f.detail, "a detail");
    memset(buf, 'x', sizeof(buf));
    retry_describe(-PE_TIMEDOUT, &f, buf, sizeof(buf));
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
    assert_memory_equal(buf, "timed out o", 11);
    retry_describe(-PE_TIMEDOUT, &f, buf, 0); /* no room: untouched */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worth),
        cmocka_unit_test(test_waits),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_describe_where),
        cmocka_unit_test(test_describe_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
