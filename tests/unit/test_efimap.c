/* Unit tests for loader/efimap.c: UEFI memory maps as E820 entries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "loader/efimap.h"

#define KB 1024ull
#define MB (1024ull * 1024)
#define PAGES(n) ((n) / EFIMAP_PAGE)

static void test_types(void **state)
{
    (void)state;
    assert_int_equal(efimap_e820_type(EFIMAP_CONVENTIONAL), E820_RAM);
    assert_int_equal(efimap_e820_type(EFIMAP_LOADER_CODE), E820_RAM);
    assert_int_equal(efimap_e820_type(EFIMAP_LOADER_DATA), E820_RAM);
    assert_int_equal(efimap_e820_type(EFIMAP_BS_CODE), E820_RAM);
    assert_int_equal(efimap_e820_type(EFIMAP_BS_DATA), E820_RAM);
    assert_int_equal(efimap_e820_type(EFIMAP_RT_CODE), E820_RESERVED);
    assert_int_equal(efimap_e820_type(EFIMAP_RT_DATA), E820_RESERVED);
    assert_int_equal(efimap_e820_type(EFIMAP_ACPI_RECLAIM), E820_ACPI);
    assert_int_equal(efimap_e820_type(EFIMAP_ACPI_NVS), E820_NVS);
    assert_int_equal(efimap_e820_type(EFIMAP_UNUSABLE), E820_BAD);
    assert_int_equal(efimap_e820_type(EFIMAP_MMIO), E820_RESERVED);
    assert_int_equal(efimap_e820_type(EFIMAP_PERSISTENT), E820_RESERVED);
    assert_int_equal(efimap_e820_type(EFIMAP_RESERVED), E820_RESERVED);
    assert_int_equal(efimap_e820_type(0x70000000), E820_RESERVED);
}

/**
 * A map shaped as OVMF's with -m 128 on q35: RAM split by type into many
 * descriptors, ACPI NVS at 8 MiB, runtime data and flash MMIO, given out
 * of order.  Merged: RAM [0, 640K), [1M, 8M+24K), ... sorted, and
 * mem_upper is the RAM at 1 MiB.
 */
static void test_ovmf_like(void **state)
{
    struct e820_entry e[16];
    struct efimap m = { e, 0, 16 };
    uint32_t lower, upper;
    (void)state;

    assert_int_equal(efimap_add(&m, EFIMAP_BS_DATA, 0x900000,
                                PAGES(0x6000000)), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, 0, PAGES(0x9F000)),
                     0);
    assert_int_equal(efimap_add(&m, EFIMAP_BS_CODE, 0x9F000, 1), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, 0x100000,
                                PAGES(0x500000)), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_LOADER_DATA, 0x600000,
                                PAGES(0x206000)), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_ACPI_NVS, 0x806000, 2), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, 0x808000, 8), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_ACPI_NVS, 0x810000,
                                PAGES(0xF0000)), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_MMIO, 0xFFC00000,
                                PAGES(0x400000)), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_RT_DATA, 0x6900000, 16), 0);
    assert_int_equal(m.n, 10);
    for (unsigned i = 1; i < m.n; i++)
        assert_true(e[i - 1].base < e[i].base);

    assert_int_equal(efimap_merge(&m), 8);
    assert_int_equal(m.n, 8);
    assert_int_equal(e[0].base, 0);
    assert_int_equal(e[0].len, 640 * KB);
    assert_int_equal(e[0].type, E820_RAM);
    assert_int_equal(e[1].base, MB);
    assert_int_equal(e[1].len, 0x706000);
    assert_int_equal(e[1].type, E820_RAM);
    assert_int_equal(e[2].type, E820_NVS);
    assert_int_equal(e[3].base, 0x808000);
    assert_int_equal(e[4].type, E820_NVS);
    assert_int_equal(e[5].base, 0x900000);
    assert_int_equal(e[5].type, E820_RAM);
    assert_int_equal(e[6].base, 0x6900000);
    assert_int_equal(e[6].type, E820_RESERVED);
    assert_int_equal(e[7].base, 0xFFC00000);
    assert_int_equal(e[7].type, E820_RESERVED);
    place_mem_info(e, m.n, &lower, &upper);
    assert_int_equal(lower, 640);
    assert_int_equal(upper, 0x706000 / KB);
}

/** Touching entries of different types and same-type entries with a gap
 *  stay apart. */
static void test_merge_keeps_apart(void **state)
{
    struct e820_entry e[4];
    struct efimap m = { e, 0, 4 };
    (void)state;

    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, 0x1000, 1), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, 0x3000, 1), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_ACPI_RECLAIM, 0x4000, 1), 0);
    assert_int_equal(efimap_merge(&m), 3);
    assert_int_equal(efimap_merge(&m), 3);
}

static void test_limits(void **state)
{
    struct e820_entry e[2];
    struct efimap m = { e, 0, 2 };
    (void)state;

    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, 0x1000, 0), 0);
    assert_int_equal(m.n, 0); /* empty: skipped */
    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, UINT64_MAX - 0xFFF,
                                1), -PE_RANGE);
    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, 0, UINT64_MAX),
                     -PE_RANGE);
    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL,
                                UINT64_MAX - 0x1FFF, 1), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, 0, 1), 0);
    assert_int_equal(efimap_add(&m, EFIMAP_CONVENTIONAL, 0x1000, 1),
                     -PE_RANGE); /* full */
    assert_int_equal(m.n, 2);
    assert_int_equal(e[0].base, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_ovmf_like),
        cmocka_unit_test(test_merge_keeps_apart),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests_name("efimap", tests, NULL, NULL);
}
