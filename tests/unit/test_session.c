/*
 * Unit tests for the boot session's guest-memory writer
 * (loader/session.c): a write goes through only when the placer holds a
 * claim of that very file around the whole range; anything else is
 * refused with -PE_RANGE, reported, and never reaches memory.  A face
 * that holds a claim in several buffers (pulsar.efi's pieces) is written
 * page by page.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "loader/session.h"

static uint8_t ram[0x20000]; /* guest memory [0x100000, 0x120000) */
static unsigned guest_calls;

/** The face's guest memory: 128 KiB at 1 MiB. */
static void *guest(uint32_t dest, size_t n)
{
    guest_calls++;
    if (dest < 0x100000 || dest + n > 0x100000 + sizeof(ram))
        return NULL;
    return ram + (dest - 0x100000);
}

static const struct session_face face = { .prog = "test", .guest = guest };

/** A session whose placer has file A's claim at [1 MiB, +4 KiB) and file
 *  B's at [1 MiB + 8 KiB, +4 KiB). */
static void setup(struct session *s, const int *a, const int *b)
{
    static const struct e820_entry map[] = {
        { 0x100000, 0x20000, E820_RAM },
    };

    memset(s, 0, sizeof(*s));
    memset(ram, 0xAA, sizeof(ram));
    guest_calls = 0;
    s->face = &face;
    assert_int_equal(place_init(&s->placer, map, 1), 0);
    s->placer.owner = a;
    assert_int_equal(place_claim(&s->placer, 0x100000, 0x1000, "A", NULL), 0);
    s->placer.owner = b;
    assert_int_equal(place_claim(&s->placer, 0x102000, 0x1000, "B", NULL), 0);
    assert_int_equal(place_reserve(&s->placer, 0x104000, 0x105000, "R"), 0);
}

/** Writes inside the owner's claim land, byte for byte. */
static void test_write_inside_claim(void **state)
{
    static struct session s;
    static const int a = 0, b = 0;
    const uint8_t data[4] = { 1, 2, 3, 4 };

    (void)state;
    setup(&s, &a, &b);
    assert_int_equal(session_guest_write(&s, &a, 0x100000, data, 4), 0);
    assert_memory_equal(ram, data, 4);
    assert_int_equal(session_guest_write(&s, &a, 0x100ffc, data, 4), 0);
    assert_memory_equal(ram + 0xffc, data, 4);
    assert_int_equal(session_guest_zero(&s, &b, 0x102000, 0x1000), 0);
    assert_int_equal(ram[0x2000], 0);
    assert_int_equal(ram[0x2fff], 0);
    assert_int_equal(s.errors, 0);
    place_fini(&s.placer);
}

/** Every write outside the owner's claims is refused before memory. */
static void test_write_outside_refused(void **state)
{
    static struct session s;
    static const int a = 0, b = 0, c = 0;
    const uint8_t data[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
    uint8_t before[sizeof(ram)];

    (void)state;
    setup(&s, &a, &b);
    memcpy(before, ram, sizeof(ram));
    /* Across the end of A's claim. */
    assert_int_equal(session_guest_write(&s, &a, 0x100ffc, data, 8),
                     -PE_RANGE);
    /* Into B's claim on A's behalf, and the other way round. */
    assert_int_equal(session_guest_write(&s, &a, 0x102000, data, 4),
                     -PE_RANGE);
    assert_int_equal(session_guest_zero(&s, &b, 0x100000, 4), -PE_RANGE);
    /* Into a reservation, into free RAM, by a file with no claims. */
    assert_int_equal(session_guest_write(&s, &a, 0x104000, data, 4),
                     -PE_RANGE);
    assert_int_equal(session_guest_write(&s, &a, 0x106000, data, 4),
                     -PE_RANGE);
    assert_int_equal(session_guest_write(&s, &c, 0x100000, data, 4),
                     -PE_RANGE);
    /* A range that wraps around 4 GiB. */
    assert_int_equal(session_guest_write(&s, &a, 0xfffffffc, data, 8),
                     -PE_RANGE);
    assert_int_equal(guest_calls, 0); /* memory was never even asked */
    assert_memory_equal(ram, before, sizeof(ram));
    assert_int_equal(s.errors, 7);
    assert_non_null(strstr(s.error, "outside the placer's claims"));
    place_fini(&s.placer);
}

/** Checking (no guest memory): nothing is written, nothing reported. */
static void test_check_face_writes_nothing(void **state)
{
    static struct session s;
    static const int a = 0, b = 0;
    static const struct session_face check = { .prog = "c", .check = true };
    const uint8_t data[4] = { 1, 2, 3, 4 };

    (void)state;
    setup(&s, &a, &b);
    s.face = &check;
    assert_int_equal(session_guest_write(&s, &a, 0x100000, data, 4), 0);
    assert_int_equal(ram[0], 0xAA);
    assert_null(session_guest_ptr(&s, &a, 0x100000, 4));
    assert_int_equal(s.errors, 0);
    place_fini(&s.placer);
}

/** A face that gives no pointer across a 4 KiB page (buffers of a page
 *  each, as pulsar.efi's pieces are to the writer); its pages of
 *  [1 MiB, +8 KiB) lie swapped in @ram, so a write must go page by page. */
static void *paged_guest(uint32_t dest, size_t n)
{
    guest_calls++;
    if (dest < 0x100000 || dest + n > 0x102000 ||
        (dest & 0xfff) + n > 0x1000)
        return NULL;
    return ram + ((dest - 0x100000) ^ 0x1000);
}

/** Writes and zeroes across pages of a paged face land in each page's
 *  buffer; a write outside the claim is still refused up front. */
static void test_write_paged_face(void **state)
{
    static struct session s;
    static const int a = 0;
    static const struct session_face paged = { .prog = "p",
                                               .guest = paged_guest };
    static const struct e820_entry map[] = {
        { 0x100000, 0x20000, E820_RAM },
    };
    uint8_t data[0x1800];

    (void)state;
    memset(&s, 0, sizeof(s));
    memset(ram, 0xAA, sizeof(ram));
    s.face = &paged;
    assert_int_equal(place_init(&s.placer, map, 1), 0);
    s.placer.owner = &a;
    assert_int_equal(place_claim(&s.placer, 0x100000, 0x2000, "A", NULL), 0);
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 1);
    /* 0x1800 bytes from 0x100400: 0xc00 in page 0, 0xc00 in page 1. */
    guest_calls = 0;
    assert_int_equal(session_guest_write(&s, &a, 0x100400, data,
                                         sizeof(data)), 0);
    assert_int_equal(guest_calls, 3); /* whole (refused), then two pages */
    assert_memory_equal(ram + 0x1400, data, 0xc00);
    assert_memory_equal(ram, data + 0xc00, 0xc00);
    assert_int_equal(ram[0x13ff], 0xAA);
    assert_int_equal(ram[0xc00], 0xAA);
    assert_int_equal(session_guest_zero(&s, &a, 0x100ffe, 4), 0);
    assert_int_equal(ram[0x1ffe], 0);
    assert_int_equal(ram[0x1fff], 0);
    assert_int_equal(ram[0x0], 0);
    assert_int_equal(ram[0x1], 0);
    assert_int_equal(ram[0x2], data[0xc02]);
    /* Across the claim's end: refused before any page is asked for. */
    guest_calls = 0;
    assert_int_equal(session_guest_write(&s, &a, 0x101ffe, data, 4),
                     -PE_RANGE);
    assert_int_equal(guest_calls, 0);
    assert_int_equal(s.errors, 1);
    place_fini(&s.placer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_inside_claim),
        cmocka_unit_test(test_write_outside_refused),
        cmocka_unit_test(test_check_face_writes_nothing),
        cmocka_unit_test(test_write_paged_face),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
