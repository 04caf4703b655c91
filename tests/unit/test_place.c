/*
 * Unit tests for loader/place.c: E820 sanitising, the placement checker,
 * place_find and mem_lower/mem_upper, on made-up maps.  A randomized
 * property test checks claims and finds against a byte bitmap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "loader/place.h"

#define KB 1024ull
#define MB (1024ull * 1024)
#define GB (1024ull * 1024 * 1024)

#define NENT(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

/** Assert that @p holds exactly the RAM ranges in @want (pairs). */
static void assert_ram(const struct placer *p, const uint64_t (*want)[2],
                       unsigned n)
{
    unsigned i;

    assert_int_equal(p->nram, n);
    for (i = 0; i < n; i++) {
        assert_int_equal(p->ram[i].start, want[i][0]);
        assert_int_equal(p->ram[i].end, want[i][1]);
    }
}

/** The map QEMU's SeaBIOS reports for 128 MiB. */
static const struct e820_entry qemu_map[] = {
    { 0x0, 0x9fc00, E820_RAM },
    { 0x9fc00, 0x400, E820_RESERVED },
    { 0xf0000, 0x10000, E820_RESERVED },
    { 0x100000, 0x7ee0000, E820_RAM },
    { 0xfffc0000, 0x40000, E820_RESERVED },
};

/** Ranges separated by a hole stay separate. */
static void test_init_hole(void **state)
{
    static const struct e820_entry map[] = {
        { 0x0, 0x9fc00, E820_RAM },
        { 0x100000, 0x100000, E820_RAM },
    };
    static const uint64_t want[][2] = { { 0x0, 0x9fc00 },
                                        { 0x100000, 0x200000 } };
    struct placer p;

    (void)state;
    assert_int_equal(place_init(&p, map, NENT(map)), 0);
    assert_ram(&p, want, NENT(want));
    assert_int_equal(p.nused, 0);
    place_fini(&p);
}

/** A reserved range inside or across RAM removes those bytes. */
static void test_init_reserved_wins(void **state)
{
    static const struct e820_entry map[] = {
        { 0x0, 0x100000, E820_RAM },
        { 0x40000, 0x10000, E820_RESERVED },  /* inside */
        { 0xf8000, 0x10000, E820_ACPI },      /* across the end */
        { 0x200000, 0x100000, E820_RAM },
        { 0x1f0000, 0x20000, E820_NVS },      /* across the start */
        { 0x280000, 0x1000, E820_BAD },
        { 0x280800, 0x1000, E820_RESERVED },  /* overlaps the BAD one */
    };
    static const uint64_t want[][2] = { { 0x0, 0x40000 },
                                        { 0x50000, 0xf8000 },
                                        { 0x210000, 0x280000 },
                                        { 0x281800, 0x300000 } };
    struct placer p;

    (void)state;
    assert_int_equal(place_init(&p, map, NENT(map)), 0);
    assert_ram(&p, want, NENT(want));
    place_fini(&p);
}

/** Unsorted, overlapping and adjacent RAM entries merge into one list. */
static void test_init_unsorted_merge(void **state)
{
    static const struct e820_entry map[] = {
        { 0x500000, 0x100000, E820_RAM },
        { 0x100000, 0x200000, E820_RAM },
        { 0x0, 0x1000, E820_RAM },
        { 0x280000, 0x100000, E820_RAM }, /* overlaps the 1 MiB one */
        { 0x380000, 0x80000, E820_RAM },  /* adjacent: merges */
        { 0x1000, 0x1000, E820_RAM },     /* adjacent to the first */
    };
    static const uint64_t want[][2] = { { 0x0, 0x2000 },
                                        { 0x100000, 0x400000 },
                                        { 0x500000, 0x600000 } };
    struct placer p;

    (void)state;
    assert_int_equal(place_init(&p, map, NENT(map)), 0);
    assert_ram(&p, want, NENT(want));
    place_fini(&p);
}

/** RAM at or above 4 GiB is dropped, RAM across 4 GiB is clipped. */
static void test_init_above_4g(void **state)
{
    static const struct e820_entry map[] = {
        { 5 * GB, 4 * GB, E820_RAM },
        { 0xf0000000, 0x20000000, E820_RAM }, /* crosses 4 GiB */
        { 0x1000, UINT64_MAX, E820_RAM },     /* wraps 2^64 */
        { 0xffffffffffff0000ull, 0x20000, E820_RESERVED }, /* wraps too */
        { 4 * GB, 1 * GB, E820_RESERVED },
    };
    static const uint64_t want[][2] = { { 0x1000, 4 * GB } };
    struct placer p;

    (void)state;
    assert_int_equal(place_init(&p, map, NENT(map)), 0);
    assert_ram(&p, want, NENT(want));
    place_fini(&p);
}

/** A map with RAM only below 1 MiB still works; high claims fail. */
static void test_init_low_only(void **state)
{
    static const struct e820_entry map[] = {
        { 0x0, 0x9fc00, E820_RAM },
        { 0x9fc00, 0x400, E820_RESERVED },
        { 0xf0000, 0x10000, E820_RESERVED },
    };
    static const uint64_t want[][2] = { { 0x0, 0x9fc00 } };
    struct placer p;

    (void)state;
    assert_int_equal(place_init(&p, map, NENT(map)), 0);
    assert_ram(&p, want, NENT(want));
    assert_int_equal(place_claim(&p, 0x100000, 0x1000, "k", NULL),
                     -PE_NORAM);
    place_fini(&p);
}

/** Zero-length entries are ignored; no usable RAM is -PE_NORAM. */
static void test_init_zero_length(void **state)
{
    static const struct e820_entry map[] = {
        { 0x1000, 0x0, E820_RESERVED }, /* would split RAM if counted */
        { 0x0, 0x10000, E820_RAM },
        { 0x20000, 0x0, E820_RAM },
    };
    static const struct e820_entry empty[] = {
        { 0x0, 0x0, E820_RAM },
        { 0x100000, 0x0, E820_RAM },
    };
    static const struct e820_entry reserved_only[] = {
        { 0x0, 0x100000, E820_RAM },
        { 0x0, 0x200000, E820_RESERVED },
        { 5 * GB, GB, E820_RAM },
    };
    static const uint64_t want[][2] = { { 0x0, 0x10000 } };
    struct placer p;

    (void)state;
    assert_int_equal(place_init(&p, map, NENT(map)), 0);
    assert_ram(&p, want, NENT(want));
    place_fini(&p);

    assert_int_equal(place_init(&p, empty, NENT(empty)), -PE_NORAM);
    place_fini(&p);
    assert_int_equal(place_init(&p, reserved_only, NENT(reserved_only)),
                     -PE_NORAM);
    place_fini(&p);
    assert_int_equal(place_init(&p, NULL, 0), -PE_NORAM);
    place_fini(&p);
}

/** A good claim is recorded with its label. */
static void test_claim_success(void **state)
{
    struct placer p;
    struct place_conflict why;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    assert_int_equal(place_claim(&p, 0x100000, 0x80000, "kernel.elf", &why),
                     0);
    assert_int_equal(p.nused, 1);
    assert_int_equal(p.used[0].start, 0x100000);
    assert_int_equal(p.used[0].end, 0x180000);
    assert_string_equal(p.used[0].what, "kernel.elf");
    /* Exactly up to the end of RAM is fine. */
    assert_int_equal(place_claim(&p, 0x7fdf000, 0x1000, "top", &why), 0);
    /* Adjacent to a claim is fine. */
    assert_int_equal(place_claim(&p, 0x180000, 0x1000, "next", &why), 0);
    assert_int_equal(p.nused, 3);
    /* Kept sorted by address. */
    assert_int_equal(p.used[1].start, 0x180000);
    assert_int_equal(p.used[2].start, 0x7fdf000);
    place_fini(&p);
}

/** An overlap names the first range hit, and the message says so. */
static void test_claim_overlap(void **state)
{
    struct placer p;
    struct place_conflict why;
    char msg[200];

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    assert_int_equal(place_reserve(&p, 0x7c00, 0x20000, "Pulsar image"), 0);
    assert_int_equal(place_claim(&p, 0x130000, 0x10000,
                                 "kernel.elf segment 2", NULL), 0);
    assert_int_equal(place_claim(&p, 0x120000, 0x10000,
                                 "kernel.elf segment 1", NULL), 0);
    assert_int_equal(place_claim(&p, 0x100000, 0x80000, "module.bin", &why),
                     -PE_OVERLAP);
    assert_int_equal(why.want.start, 0x100000);
    assert_int_equal(why.want.end, 0x180000);
    assert_string_equal(why.want.what, "module.bin");
    assert_int_equal(why.hit.start, 0x120000);
    assert_int_equal(why.hit.end, 0x130000);
    assert_string_equal(why.hit.what, "kernel.elf segment 1");
    place_conflict_str(&why, msg, sizeof(msg));
    assert_string_equal(msg, "[0x00100000, 0x00180000) module.bin overlaps "
                             "[0x00120000, 0x00130000) kernel.elf segment 1");
    /* Nothing recorded for the failed claim. */
    assert_int_equal(p.nused, 3);

    /* A reserved range blocks claims the same way. */
    assert_int_equal(place_claim(&p, 0x1ffff, 0x10, "stack", &why),
                     -PE_OVERLAP);
    assert_string_equal(why.hit.what, "Pulsar image");
    place_fini(&p);
}

/** A claim entirely in a hole fails with the hole as hit. */
static void test_claim_not_in_ram(void **state)
{
    struct placer p;
    struct place_conflict why;
    char msg[200];

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    assert_int_equal(place_claim(&p, 0xa0000, 0x1000, "vga", &why),
                     -PE_NORAM);
    assert_int_equal(why.want.start, 0xa0000);
    assert_int_equal(why.want.end, 0xa1000);
    assert_null(why.hit.what);
    assert_int_equal(why.hit.start, 0x9fc00);
    assert_int_equal(why.hit.end, 0x100000);
    place_conflict_str(&why, msg, sizeof(msg));
    assert_string_equal(msg, "[0x000a0000, 0x000a1000) vga is not in usable "
                             "RAM ([0x0009fc00, 0x00100000) is not RAM)");
    assert_int_equal(p.nused, 0);

    /* Above the last RAM range: the gap runs to 4 GiB. */
    assert_int_equal(place_check(&p, 0x8000000, 0x1000, &why), -PE_NORAM);
    assert_int_equal(why.hit.start, 0x7fe0000);
    assert_int_equal(why.hit.end, 4 * GB);
    place_fini(&p);
}

/** A claim partly in RAM fails with the gap it runs into. */
static void test_claim_partial_ram(void **state)
{
    struct placer p;
    struct place_conflict why;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    /* Runs off the end of low RAM. */
    assert_int_equal(place_claim(&p, 0x9f000, 0x1000, "low", &why),
                     -PE_NORAM);
    assert_null(why.hit.what);
    assert_int_equal(why.hit.start, 0x9fc00);
    assert_int_equal(why.hit.end, 0x100000);
    /* Starts in the hole and runs into high RAM. */
    assert_int_equal(place_claim(&p, 0xff000, 0x2000, "x", &why), -PE_NORAM);
    assert_int_equal(why.hit.start, 0x9fc00);
    assert_int_equal(why.hit.end, 0x100000);
    /* Spans a whole hole. */
    assert_int_equal(place_claim(&p, 0x0, 0x200000, "all", &why), -PE_NORAM);
    assert_int_equal(why.hit.start, 0x9fc00);
    assert_int_equal(why.hit.end, 0x100000);
    assert_int_equal(p.nused, 0);
    place_fini(&p);
}

/** Ranges ending above 4 GiB, or wrapping, are never RAM. */
static void test_claim_above_4g(void **state)
{
    static const struct e820_entry map[] = {
        { 0x0, 8 * GB, E820_RAM },
    };
    struct placer p;
    struct place_conflict why;
    char msg[200];

    (void)state;
    assert_int_equal(place_init(&p, map, NENT(map)), 0);
    assert_int_equal(place_claim(&p, 4 * GB - 0x1000, 0x1000, "top", &why),
                     0);
    assert_int_equal(place_claim(&p, 4 * GB - 0x1000, 0x1001, "x", &why),
                     -PE_NORAM);
    assert_int_equal(why.hit.start, 4 * GB);
    assert_int_equal(why.hit.end, 4 * GB + 1);
    assert_int_equal(place_claim(&p, 5 * GB, 0x1000, "x", &why), -PE_NORAM);
    assert_int_equal(place_claim(&p, 0x1000, UINT64_MAX, "x", &why),
                     -PE_NORAM);
    assert_int_equal(why.want.end, UINT64_MAX);
    place_conflict_str(&why, msg, sizeof(msg));
    assert_string_equal(msg, "[0x00001000, 0xffffffffffffffff) x is not in "
                             "usable RAM ([0x100000000, 0xffffffffffffffff) "
                             "is not RAM)");
    assert_int_equal(p.nused, 1);
    place_fini(&p);
}

/** len 0 always succeeds and records nothing, even outside RAM. */
static void test_claim_len_zero(void **state)
{
    struct placer p;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    assert_int_equal(place_claim(&p, 0xa0000, 0, "none", NULL), 0);
    assert_int_equal(place_claim(&p, 0x100000, 0, "none", NULL), 0);
    assert_int_equal(place_claim(&p, 9 * GB, 0, "none", NULL), 0);
    assert_int_equal(p.nused, 0);
    place_fini(&p);
}

/** Reserve skips the RAM check; empty and inverted ranges. */
static void test_reserve(void **state)
{
    struct placer p;
    struct place_conflict why;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    assert_int_equal(place_reserve(&p, 0x9fc00, 0x100000, "BIOS"), 0);
    assert_int_equal(place_reserve(&p, 0x5000, 0x5000, "empty"), 0);
    assert_int_equal(place_reserve(&p, 0x6000, 0x5000, "inverted"),
                     -PE_INVAL);
    assert_int_equal(p.nused, 1);
    assert_int_equal(place_reserve(&p, 0x90000, 0x9fc00, "PXE stack"), 0);
    assert_int_equal(place_check(&p, 0x90000, 0x100, &why), -PE_OVERLAP);
    assert_string_equal(why.hit.what, "PXE stack");
    assert_int_equal(p.nused, 2);
    place_fini(&p);
}

/** place_check reports like place_claim but records nothing. */
static void test_check_records_nothing(void **state)
{
    struct placer p;
    struct place_conflict why;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    assert_int_equal(place_check(&p, 0x100000, 0x1000, &why), 0);
    assert_int_equal(place_check(&p, 0x100000, 0x1000, &why), 0);
    assert_int_equal(p.nused, 0);
    assert_int_equal(place_claim(&p, 0x100000, 0x1000, "a", NULL), 0);
    assert_int_equal(place_check(&p, 0x100800, 0x1000, &why), -PE_OVERLAP);
    assert_int_equal(why.hit.start, 0x100000);
    assert_null(why.want.what);
    place_fini(&p);
}

/** The used list grows without a fixed limit. */
static void test_claim_many(void **state)
{
    struct placer p;
    unsigned i;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    /* Claimed top-down so every insert shifts the whole list. */
    for (i = 0; i < 5000; i++)
        assert_int_equal(place_claim(&p, 0x2000000 - (i + 1) * 0x1000ull,
                                     0x800, "piece", NULL), 0);
    assert_int_equal(p.nused, 5000);
    assert_true(p.capused >= 5000);
    for (i = 1; i < p.nused; i++)
        assert_true(p.used[i - 1].start < p.used[i].start);
    assert_int_equal(place_check(&p, 0x2000000 - 0x1000, 0x801, NULL),
                     -PE_OVERLAP);
    place_fini(&p);
}

/** place_find honours from and alignment. */
static void test_find_alignment(void **state)
{
    struct placer p;
    uint64_t a = 0;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    assert_int_equal(place_find(&p, 0x1000, 0x1000, 0x1001, 4 * GB, &a), 0);
    assert_int_equal(a, 0x2000);
    /* Does not fit below the low hole: moves to high RAM. */
    assert_int_equal(place_find(&p, 0x1000, 0x1000, 0x9f000, 4 * GB, &a), 0);
    assert_int_equal(a, 0x100000);
    /* Low RAM ends at 0x9fc00: the last 0x400 bytes still fit. */
    assert_int_equal(place_find(&p, 0x400, 0x400, 0x9f401, 4 * GB, &a), 0);
    assert_int_equal(a, 0x9f800);
    /* Big alignment. */
    assert_int_equal(place_find(&p, 0x10, 0x400000, 0x1, 4 * GB, &a), 0);
    assert_int_equal(a, 0x400000);
    /* Align 0 means 1; a non-power of two is refused. */
    assert_int_equal(place_find(&p, 0x10, 0, 0x1235, 4 * GB, &a), 0);
    assert_int_equal(a, 0x1235);
    assert_int_equal(place_find(&p, 0x10, 0x300, 0x0, 4 * GB, &a),
                     -PE_INVAL);
    place_fini(&p);
}

/** place_find steps over many used ranges to the lowest gap. */
static void test_find_many_used(void **state)
{
    struct placer p;
    uint64_t a = 0;
    unsigned i;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    /* 0x100000.. : 0x1800 bytes used every 0x2000, leaving 0x800 gaps. */
    for (i = 0; i < 200; i++)
        assert_int_equal(place_claim(&p, 0x100000 + i * 0x2000ull, 0x1800,
                                     "blk", NULL), 0);
    /* Overlapping reserved ranges whose ends are not sorted. */
    assert_int_equal(place_reserve(&p, 0x0, 0x90000, "low"), 0);
    assert_int_equal(place_reserve(&p, 0x1000, 0x2000, "inner"), 0);

    /* 0x800 fits in the first gap. */
    assert_int_equal(place_find(&p, 0x800, 0x800, 0x0, 4 * GB, &a), 0);
    assert_int_equal(a, 0x90000);
    assert_int_equal(place_find(&p, 0x800, 0x800, 0x9fc00, 4 * GB, &a), 0);
    assert_int_equal(a, 0x101800);
    /* 0x801 fits in no gap; the first place is after the last block. */
    assert_int_equal(place_find(&p, 0x801, 0x1, 0x9fc00, 4 * GB, &a), 0);
    assert_int_equal(a, 0x100000 + 199 * 0x2000 + 0x1800);
    /* Alignment 0x1000 misses every gap (they start at 0x...800). */
    assert_int_equal(place_find(&p, 0x100, 0x1000, 0x9fc00, 4 * GB, &a), 0);
    assert_int_equal(a, 0x100000 + 200 * 0x2000);
    place_fini(&p);
}

/** place_find fails when nothing fits, and respects @limit. */
static void test_find_failure_and_limit(void **state)
{
    struct placer p;
    uint64_t a = 0x1234;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    /* Bigger than any RAM range. */
    assert_int_equal(place_find(&p, 0x8000000, 1, 0, 4 * GB, &a), -PE_NORAM);
    assert_int_equal(a, 0x1234);
    /* Past all RAM. */
    assert_int_equal(place_find(&p, 0x10, 1, 0x7fe0000, 4 * GB, &a),
                     -PE_NORAM);
    /* Would end exactly at the limit: fits. */
    assert_int_equal(place_find(&p, 0x1000, 0x1000, 0x100000, 0x101000, &a),
                     0);
    assert_int_equal(a, 0x100000);
    /* One byte over the limit. */
    assert_int_equal(place_find(&p, 0x1001, 0x1000, 0x100000, 0x101000, &a),
                     -PE_NORAM);
    /* A limit above 4 GiB acts as 4 GiB; len > limit fails. */
    assert_int_equal(place_find(&p, 0x1000, 1, 0x7fdf000, UINT64_MAX, &a), 0);
    assert_int_equal(a, 0x7fdf000);
    assert_int_equal(place_find(&p, 0x2000, 1, 0, 0x1000, &a), -PE_NORAM);
    /* from near 2^64 must not wrap when aligned. */
    assert_int_equal(place_find(&p, 0x10, 0x1000, UINT64_MAX - 5, UINT64_MAX,
                                &a), -PE_NORAM);
    place_fini(&p);
}

/** mem_lower / mem_upper for the QEMU map. */
static void test_mem_info_qemu(void **state)
{
    uint32_t lower = 1, upper = 1;

    (void)state;
    place_mem_info(qemu_map, NENT(qemu_map), &lower, &upper);
    assert_int_equal(lower, 639);
    assert_int_equal(upper, 0x7ee0000 / 1024);
}

/** mem_info: caps, merging, holes and maps without low or high RAM. */
static void test_mem_info_variants(void **state)
{
    static const struct e820_entry flat[] = { /* no legacy hole at all */
        { 0x0, 0x200000, E820_RAM },
    };
    static const struct e820_entry split[] = { /* unsorted, adjacent */
        { 0x300000, 0x100000, E820_RAM },
        { 0x100000, 0x200000, E820_RAM },
        { 0x380000, 0x100000, E820_RAM },   /* overlaps the first */
        { 0x600000, 0x100000, E820_RAM },   /* after a hole: not counted */
        { 0x0, 0x1000, E820_RAM },
    };
    static const struct e820_entry cut[] = { /* reserved inside high RAM */
        { 0x0, 0x9fc00, E820_RAM },
        { 0x100000, 0x1000000, E820_RAM },
        { 0x800000, 0x1000, E820_RESERVED },
    };
    static const struct e820_entry no_1m[] = { /* high RAM at 2 MiB */
        { 0x1000, 0x9e000, E820_RAM },
        { 0x200000, 0x100000, E820_RAM },
    };
    uint32_t lower, upper;

    (void)state;
    place_mem_info(flat, NENT(flat), &lower, &upper);
    assert_int_equal(lower, 640);
    assert_int_equal(upper, 1024);

    place_mem_info(split, NENT(split), &lower, &upper);
    assert_int_equal(lower, 4);
    assert_int_equal(upper, (0x480000 - 0x100000) / 1024);

    place_mem_info(cut, NENT(cut), &lower, &upper);
    assert_int_equal(lower, 639);
    assert_int_equal(upper, (0x800000 - 0x100000) / 1024);

    place_mem_info(no_1m, NENT(no_1m), &lower, &upper);
    assert_int_equal(lower, 0);
    assert_int_equal(upper, 0);

    place_mem_info(NULL, 0, &lower, &upper);
    assert_int_equal(lower, 0);
    assert_int_equal(upper, 0);
}

/** Message formats, including a range without a label or known gap. */
static void test_conflict_str(void **state)
{
    struct place_conflict c;
    char msg[200], tiny[8];

    (void)state;
    memset(&c, 0, sizeof(c));
    c.want.start = 0x100000;
    c.want.end = 0x180000;
    place_conflict_str(&c, msg, sizeof(msg));
    assert_string_equal(msg,
                        "[0x00100000, 0x00180000) range is not in usable RAM");
    c.want.what = "initrd";
    c.hit.start = 0x120000;
    c.hit.end = 0x140000;
    c.hit.what = "kernel.elf";
    place_conflict_str(&c, tiny, sizeof(tiny));
    assert_string_equal(tiny, "[0x0010");
    place_conflict_str(&c, NULL, 0); /* must not crash */
}

/* ------------------------------------------------------------------ */
/* Randomized property test against a byte bitmap.                      */

/** place_find_top: highest aligned fit below the limit, around used ranges. */
static void test_find_top(void **state)
{
    struct placer p;
    uint64_t a = 0;

    (void)state;
    assert_int_equal(place_init(&p, qemu_map, NENT(qemu_map)), 0);
    /* RAM ends at 0x7fe0000: 1 MiB page-aligned goes right below it. */
    assert_int_equal(place_find_top(&p, MB, 4096, 0, 4 * GB, &a), 0);
    assert_int_equal(a, 0x7fe0000 - MB);
    /* An odd length still starts page-aligned, ending below the top. */
    assert_int_equal(place_find_top(&p, MB + 3, 4096, 0, 4 * GB, &a), 0);
    assert_int_equal(a, (0x7fe0000 - MB - 3) & ~0xfffull);
    /* A limit below the top of RAM wins. */
    assert_int_equal(place_find_top(&p, MB, 4096, 0, 0x4000000, &a), 0);
    assert_int_equal(a, 0x4000000 - MB);
    /* A used range at the top pushes it down below that range. */
    assert_int_equal(place_reserve(&p, 0x7000000, 0x7fe0000, "top"), 0);
    assert_int_equal(place_find_top(&p, MB, 4096, 0, 4 * GB, &a), 0);
    assert_int_equal(a, 0x7000000 - MB);
    /* Below 1 MiB it finds the top of low RAM, 16-byte aligned. */
    assert_int_equal(place_find_top(&p, 0x10000, 16, 0x10000, 0xa0000, &a),
                     0);
    assert_int_equal(a, 0x9fc00 - 0x10000);
    /* Nothing fits: too big, or above @from there is no room. */
    assert_int_equal(place_find_top(&p, 200 * MB, 4096, 0, 4 * GB, &a),
                     -PE_NORAM);
    assert_int_equal(place_find_top(&p, MB, 4096, 0x6f80000, 4 * GB, &a),
                     -PE_NORAM);
    assert_int_equal(place_find_top(&p, MB, 3, 0, 4 * GB, &a), -PE_INVAL);
    place_fini(&p);
}

/** An OVMF-like map: RAM at 1 MiB ends at the ACPI NVS at 8 MiB. */
static const struct e820_entry ovmf_map[] = {
    {0x0, 0xa0000, E820_RAM},
    {0x100000, 0x700000, E820_RAM},
    {0x800000, 0x100000, E820_NVS},
    {0x900000, 0x7000000 - 0x900000, E820_RAM},
};

/** place_keep_clear: finds go around the range while anything else fits,
 *  into it when nothing does; claims at a given address are not
 *  affected. */
static void test_keep_clear(void **state)
{
    struct placer p;
    uint64_t a = 0;

    (void)state;
    assert_int_equal(place_init(&p, ovmf_map, NENT(ovmf_map)), 0);
    place_keep_clear(&p, MB, 8 * MB);
    /* A kernel's segment at 1 MiB is a claim, not a find. */
    assert_int_equal(place_claim(&p, MB, 0x3000, "kernel", NULL), 0);
    /* The first module after the kernel: past the NVS, not at 0x103000. */
    assert_int_equal(place_find(&p, 5000, 4096, 0x103000, 4 * GB, &a), 0);
    assert_int_equal(a, 0x900000);
    /* Below 1 MiB is not kept clear. */
    assert_int_equal(place_find(&p, 0x1000, 4096, 0x1000, 4 * GB, &a), 0);
    assert_int_equal(a, 0x1000);
    /* From the top, the clear range is skipped the same way. */
    assert_int_equal(place_find_top(&p, MB, 4096, MB, 0x900000 + MB, &a), 0);
    assert_int_equal(a, 0x900000);
    /* A limit that leaves room only inside the range: used after all. */
    assert_int_equal(place_find(&p, MB, 4096, 0x103000, 8 * MB, &a), 0);
    assert_int_equal(a, 0x103000);
    assert_int_equal(place_find_top(&p, MB, 4096, MB, 8 * MB, &a), 0);
    assert_int_equal(a, 7 * MB);
    /* The rest of RAM full: the range is the only room left. */
    assert_int_equal(place_claim(&p, 0x900000, 0x7000000 - 0x900000, "big",
                                 NULL), 0);
    assert_int_equal(place_find(&p, MB, 4096, 0x103000, 4 * GB, &a), 0);
    assert_int_equal(a, 0x103000);
    /* A range that straddles its edge is not clear of it either. */
    place_fini(&p);
    assert_int_equal(place_init(&p, ovmf_map, NENT(ovmf_map)), 0);
    place_keep_clear(&p, MB, 0x980000);
    assert_int_equal(place_find(&p, 0x2000, 4096, MB, 4 * GB, &a), 0);
    assert_int_equal(a, 0x980000);
    /* An empty range keeps nothing clear. */
    place_keep_clear(&p, 8 * MB, MB);
    assert_int_equal(place_find(&p, 0x2000, 4096, MB, 4 * GB, &a), 0);
    assert_int_equal(a, MB);
    place_fini(&p);
}

#define SPACE 32768u

static uint64_t rng_state;

/** xorshift64: reproducible without depending on the libc's rand(). */
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/** A random number in [0, n). */
static uint64_t rnd(uint64_t n)
{
    return n ? rng() % n : 0;
}

/** True when every byte in [a, a+len) is good, using prefix sums. */
static bool all_good(const uint32_t *prefix, uint64_t a, uint64_t len)
{
    if (a + len > SPACE)
        return false; /* nothing at or above SPACE is RAM */
    return prefix[a + len] - prefix[a] == len;
}

/** Random maps and claims; every answer verified by brute force. */
static void test_property_random(void **state)
{
    static uint8_t ram[SPACE], used[SPACE];
    static uint32_t good_prefix[SPACE + 1], ram_prefix[SPACE + 1];
    /* Outcome counts: the test must exercise every branch, not just pass. */
    unsigned n_ok = 0, n_noram = 0, n_overlap = 0, n_found = 0, n_none = 0;
    unsigned n_top = 0;
    unsigned iter;

    (void)state;
    rng_state = 0x9E3779B97F4A7C15ull;
    for (iter = 0; iter < 150; iter++) {
        struct e820_entry map[12];
        unsigned n = 1 + (unsigned)rnd(12), i, op;
        struct placer p;
        int rc;

        for (i = 0; i < n; i++) {
            map[i].base = rnd(SPACE);
            map[i].len = rnd(SPACE - map[i].base + 1) / (1 + rnd(4));
            map[i].type = rnd(10) < 6 ? E820_RAM : 2 + (uint32_t)rnd(4);
        }
        /* The expected RAM: covered by RAM and by nothing else. */
        memset(ram, 0, sizeof(ram));
        memset(used, 0, sizeof(used));
        for (i = 0; i < n; i++)
            if (map[i].type == E820_RAM)
                memset(ram + map[i].base, 1, map[i].len);
        for (i = 0; i < n; i++)
            if (map[i].type != E820_RAM)
                memset(ram + map[i].base, 0, map[i].len);
        ram_prefix[0] = 0;
        for (i = 0; i < SPACE; i++)
            ram_prefix[i + 1] = ram_prefix[i] + ram[i];

        rc = place_init(&p, map, n);
        if (ram_prefix[SPACE] == 0) {
            assert_int_equal(rc, -PE_NORAM);
            place_fini(&p);
            continue;
        }
        assert_int_equal(rc, 0);
        /* The sanitised list matches the bitmap exactly. */
        {
            uint64_t covered = 0;

            for (i = 0; i < p.nram; i++) {
                assert_true(p.ram[i].start < p.ram[i].end);
                if (i > 0) /* sorted, disjoint, not adjacent */
                    assert_true(p.ram[i - 1].end < p.ram[i].start);
                assert_true(all_good(ram_prefix, p.ram[i].start,
                                     p.ram[i].end - p.ram[i].start));
                covered += p.ram[i].end - p.ram[i].start;
            }
            assert_int_equal(covered, ram_prefix[SPACE]);
        }

        for (op = 0; op < 40; op++) {
            uint64_t a, len, j;
            struct place_conflict why;

            for (i = 0; i < SPACE; i++)
                good_prefix[i + 1] = good_prefix[i] + (ram[i] && !used[i]);

            if (rnd(8) == 0) { /* a reservation, anywhere */
                a = rnd(SPACE);
                len = rnd(2048);
                assert_int_equal(place_reserve(&p, a, a + len, "res"), 0);
                for (j = a; j < a + len && j < SPACE; j++)
                    used[j] = 1;
                continue;
            }
            if (rnd(2) == 0) { /* a claim */
                a = rnd(SPACE + 256);
                len = 1 + rnd(2048);
                rc = place_claim(&p, a, len, "claim", &why);
                if (rc == 0) {
                    assert_true(all_good(good_prefix, a, len));
                    memset(used + a, 1, len);
                    n_ok++;
                } else if (rc == -PE_NORAM) {
                    assert_false(all_good(ram_prefix, a, len));
                    n_noram++;
                    /* The hit is a real gap touching the range. */
                    assert_null(why.hit.what);
                    assert_true(why.hit.start < why.hit.end);
                    assert_true(why.hit.start < a + len);
                    assert_true(why.hit.end > a);
                    for (j = why.hit.start; j < why.hit.end && j < SPACE; j++)
                        assert_int_equal(ram[j], 0);
                } else {
                    assert_int_equal(rc, -PE_OVERLAP);
                    n_overlap++;
                    assert_true(all_good(ram_prefix, a, len));
                    assert_false(all_good(good_prefix, a, len));
                    assert_true(why.hit.start < a + len);
                    assert_true(why.hit.end > a);
                }
                continue;
            }
            /* A find, compared with the brute-force lowest answer. */
            {
                uint64_t align = 1ull << rnd(10), from = rnd(SPACE);
                uint64_t limit = rnd(SPACE + 512), got = 0, want;
                bool exists = false;

                len = 1 + rnd(1024);
                for (want = (from + align - 1) & ~(align - 1);
                     want + len <= limit && want + len <= SPACE;
                     want += align) {
                    if (all_good(good_prefix, want, len)) {
                        exists = true;
                        break;
                    }
                }
                rc = place_find(&p, len, align, from, limit, &got);
                if (exists) {
                    assert_int_equal(rc, 0);
                    assert_int_equal(got, want);
                    n_found++;
                } else {
                    assert_int_equal(rc, -PE_NORAM);
                    n_none++;
                }
                /* place_find_top against the brute-force highest answer:
                 * one exists exactly when a lowest one does. */
                rc = place_find_top(&p, len, align, from, limit, &got);
                if (exists) {
                    uint64_t top = limit < SPACE ? limit : SPACE;

                    want = ((top - len) & ~(align - 1));
                    while (!all_good(good_prefix, want, len))
                        want -= align; /* terminates: a valid one exists */
                    assert_int_equal(rc, 0);
                    assert_int_equal(got, want);
                    n_top++;
                } else {
                    assert_int_equal(rc, -PE_NORAM);
                }
            }
        }
        place_fini(&p);
    }
    assert_true(n_ok > 100 && n_noram > 100 && n_overlap > 100);
    assert_true(n_found > 100 && n_none > 100 && n_top > 100);
}

/** Run every test in this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_hole),
        cmocka_unit_test(test_init_reserved_wins),
        cmocka_unit_test(test_init_unsorted_merge),
        cmocka_unit_test(test_init_above_4g),
        cmocka_unit_test(test_init_low_only),
        cmocka_unit_test(test_init_zero_length),
        cmocka_unit_test(test_claim_success),
        cmocka_unit_test(test_claim_overlap),
        cmocka_unit_test(test_claim_not_in_ram),
        cmocka_unit_test(test_claim_partial_ram),
        cmocka_unit_test(test_claim_above_4g),
        cmocka_unit_test(test_claim_len_zero),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_check_records_nothing),
        cmocka_unit_test(test_claim_many),
        cmocka_unit_test(test_find_alignment),
        cmocka_unit_test(test_find_many_used),
        cmocka_unit_test(test_find_failure_and_limit),
        cmocka_unit_test(test_find_top),
        cmocka_unit_test(test_keep_clear),
        cmocka_unit_test(test_mem_info_qemu),
        cmocka_unit_test(test_mem_info_variants),
        cmocka_unit_test(test_conflict_str),
        cmocka_unit_test(test_property_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
