/*
 * Unit tests for loader/kload.c: the kernel's TFTP sink.  A simulated
 * guest memory records every write; a transfer that is restarted from
 * offset 0 (as the session does after a failed try) must end with the
 * file's exact bytes in place, without claiming anything twice, and a
 * file whose first bytes changed between tries must be refused before
 * any of the new bytes is written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "loader/kload.h"

#define GUEST_BASE 0x100000u
#define GUEST_SIZE 0x20000u
#define FILE_SIZE 0xA000u /* more than the 32 KiB prefix */

static uint8_t guest[GUEST_SIZE];
static unsigned writes_outside;
static uint8_t file[FILE_SIZE];

/** Copy into the simulated guest memory, counting stray writes. */
static void sim_write(void *ctx, uint32_t dest, const void *src, size_t n)
{
    (void)ctx;
    if (dest < GUEST_BASE || dest - GUEST_BASE + n > GUEST_SIZE) {
        writes_outside++;
        return;
    }
    memcpy(guest + (dest - GUEST_BASE), src, n);
}

/** Zero the simulated guest memory. */
static void sim_zero(void *ctx, uint32_t dest, size_t n)
{
    (void)ctx;
    if (dest < GUEST_BASE || dest - GUEST_BASE + n > GUEST_SIZE) {
        writes_outside++;
        return;
    }
    memset(guest + (dest - GUEST_BASE), 0, n);
}

static void wr32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

/**
 * A kernel whose one segment (file 0x1000..0x6000) goes to 1 MiB with
 * 0x3000 bytes of bss after it; the rest of the file is a pattern.
 */
static void make_file(uint8_t seed)
{
    for (unsigned i = 0; i < FILE_SIZE; i++)
        file[i] = (uint8_t)(i * 13 + seed + (i >> 9));
    memset(file, 0, 0x100);
    memcpy(file, "\x7f" "ELF\x01\x01\x01", 7);
    file[16] = 2;
    file[18] = 3;
    wr32(file + 20, 1);
    wr32(file + 24, GUEST_BASE);
    wr32(file + 28, 52);
    file[40] = 52;
    file[42] = 32;
    file[44] = 1;
    wr32(file + 52, 1);
    wr32(file + 56, 0x1000);
    wr32(file + 60, GUEST_BASE);
    wr32(file + 64, GUEST_BASE);
    wr32(file + 68, FILE_SIZE - 0x1000);
    wr32(file + 72, FILE_SIZE - 0x1000 + 0x3000);
    wr32(file + 0x1000, 0x1BADB002); /* multiboot header opens the text */
    wr32(file + 0x1004, 3);
    wr32(file + 0x1008, (uint32_t)(0u - 0x1BADB002u - 3u));
}

static struct cfg_item kernel_item(void)
{
    struct cfg_item it;
    memset(&it, 0, sizeof(it));
    it.kind = CFG_EXEC;
    it.name = "k.elf";
    it.path = "demo/k.elf";
    it.src_file = "config-x";
    it.src_line = 2;
    return it;
}

/** A placer with RAM from 1 MiB, nothing claimed. */
static void placer(struct placer *p)
{
    static const struct e820_entry map[] = { { 0x100000, 0x1000000, 1 } };
    assert_int_equal(place_init(p, map, 1), 0);
}

/** Free the placer. */
static void placer_free(struct placer *p)
{
    place_fini(p);
}

/** Feed file bytes [from, to) in @pkt-sized packets; returns the rc. */
static int feed(struct kernel_load *k, uint32_t from, uint32_t to,
                uint32_t pkt)
{
    for (uint32_t off = from; off < to; off += pkt) {
        uint32_t n = to - off < pkt ? to - off : pkt;
        int rc = kload_sink(k, off, file + off, n);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/** The guest holds the segment exactly, and zeroed bss after it. */
static void check_guest(void)
{
    assert_memory_equal(guest, file + 0x1000, FILE_SIZE - 0x1000);
    for (unsigned i = FILE_SIZE - 0x1000; i < FILE_SIZE - 0x1000 + 0x3000;
         i++)
        assert_int_equal(guest[i], 0);
    assert_int_equal(writes_outside, 0);
}

/** One clean transfer, in 1432-byte packets. */
static void test_plain(void **state)
{
    struct cfg_item it = kernel_item();
    static struct kernel_load k;
    struct placer p;

    (void)state;
    make_file(1);
    memset(guest, 0xAA, sizeof(guest));
    writes_outside = 0;
    placer(&p);
    kload_init(&k, &p, &it, FILE_SIZE, NULL, sim_write, sim_zero, NULL);
    assert_int_equal(feed(&k, 0, FILE_SIZE, 1432), 0);
    assert_int_equal(kload_finish(&k), 0);
    assert_true(k.planned);
    assert_int_equal(k.plan.entry, GUEST_BASE);
    check_guest();
    placer_free(&p);
}

/**
 * Tries that fail before and after the plan, then a full one: the result
 * is exact and the segment was claimed once (a second claim of the same
 * range would have failed against the first).
 */
static void test_restarts(void **state)
{
    struct cfg_item it = kernel_item();
    static struct kernel_load k;
    struct placer p;

    (void)state;
    make_file(2);
    memset(guest, 0xAA, sizeof(guest));
    writes_outside = 0;
    placer(&p);
    kload_init(&k, &p, &it, FILE_SIZE, NULL, sim_write, sim_zero, NULL);
    assert_int_equal(feed(&k, 0, 1432 * 3, 1432), 0); /* dies early */
    assert_false(k.planned);
    assert_int_equal(feed(&k, 0, 1432 * 24, 1432), 0); /* after the plan */
    assert_true(k.planned);
    unsigned claims = p.nused;
    assert_int_equal(feed(&k, 0, 512 * 3, 512), 0); /* other packet size */
    assert_int_equal(feed(&k, 0, FILE_SIZE, 512), 0);
    assert_int_equal(kload_finish(&k), 0);
    assert_int_equal(p.nused, claims);
    check_guest();
    placer_free(&p);
}

/** A file whose planned-from bytes changed is refused before writing. */
static void test_changed_between_tries(void **state)
{
    struct cfg_item it = kernel_item();
    static struct kernel_load k;
    static uint8_t before[GUEST_SIZE];
    struct placer p;

    (void)state;
    make_file(3);
    memset(guest, 0xAA, sizeof(guest));
    writes_outside = 0;
    placer(&p);
    kload_init(&k, &p, &it, FILE_SIZE, NULL, sim_write, sim_zero, NULL);
    assert_int_equal(feed(&k, 0, 1432 * 24, 1432), 0);
    assert_true(k.planned);
    memcpy(before, guest, sizeof(guest));
    file[0x1800] ^= 0xFF; /* inside the prefix the plan came from */
    assert_int_equal(feed(&k, 0, FILE_SIZE, 1432), -PE_CHANGED);
    assert_memory_equal(before, guest, sizeof(guest)); /* nothing new */
    placer_free(&p);
}

/** A bad kernel: planning fails with the message, nothing is written. */
static void test_plan_fails(void **state)
{
    struct cfg_item it = kernel_item();
    static struct kernel_load k;
    struct placer p;

    (void)state;
    make_file(4);
    wr32(file + 0x1008, 0); /* bad multiboot checksum */
    memset(guest, 0xAA, sizeof(guest));
    writes_outside = 0;
    placer(&p);
    kload_init(&k, &p, &it, FILE_SIZE, NULL, sim_write, sim_zero, NULL);
    assert_int_equal(feed(&k, 0, FILE_SIZE, 1432), -PE_INVAL);
    assert_string_equal(k.msg, "config-x:2: exec: demo/k.elf: multiboot "
                        "header at 0x1000: bad checksum");
    for (unsigned i = 0; i < GUEST_SIZE; i++)
        assert_int_equal(guest[i], 0xAA);
    assert_int_equal(p.nused, 0);
    placer_free(&p);
}

/** The file with a Multiboot2 header in place of the Multiboot 1 one:
 *  the EFI boot services tag (7) when @efi_bs, an amd64 EFI entry (9). */
static void make_mb2_file(uint8_t seed, bool efi_bs)
{
    uint8_t *h = file + 0x1000;
    uint32_t len = 16 + 8 + 16 + 8;

    make_file(seed);
    memset(h, 0, len);
    wr32(h, 0xE85250D6);
    wr32(h + 8, len);
    wr32(h + 12, (uint32_t)(0u - 0xE85250D6u - len));
    h[16] = efi_bs ? 7 : 6; /* else module alignment: also 8 bytes */
    wr32(h + 20, 8);
    h[24] = 9;
    wr32(h + 28, 12);
    wr32(h + 32, GUEST_BASE);
    wr32(h + 44, 8); /* the end tag */
}

/** Plan @file on UEFI with the firmware holding @held; returns the rc. */
static int plan_held(struct placer *p, struct kernel_load *k,
                     const struct cfg_item *it,
                     const struct e820_entry *held)
{
    placer(p);
    kload_init(k, p, it, FILE_SIZE, NULL, sim_write, sim_zero, NULL);
    k->uefi = true;
    k->held = held;
    k->nheld = 1;
    return feed(k, 0, FILE_SIZE, 1432);
}

/** A Multiboot2 kernel that keeps the UEFI boot services is placed clear
 *  of what the firmware holds; one that does not may go there. */
static void test_keep_firmware(void **state)
{
    struct cfg_item it = kernel_item();
    static struct kernel_load k;
    struct placer p;
    const struct e820_entry at_kernel = { 0x100000, 0x10000, 1 };
    const struct e820_entry elsewhere = { 0x800000, 0x10000, 1 };

    (void)state;
    writes_outside = 0;
    make_mb2_file(6, true);
    assert_int_equal(plan_held(&p, &k, &it, &at_kernel), -PE_OVERLAP);
    assert_non_null(strstr(k.msg, "firmware memory (boot services kept)"));
    placer_free(&p);
    assert_int_equal(plan_held(&p, &k, &it, &elsewhere), 0);
    assert_true(k.planned);
    assert_int_equal(place_check(&p, 0x800000, 0x1000, NULL), -PE_OVERLAP);
    placer_free(&p);
    make_mb2_file(6, false);
    assert_int_equal(plan_held(&p, &k, &it, &at_kernel), 0);
    assert_true(k.planned);
    placer_free(&p);
}

/** A kernel smaller than the prefix is planned when its last byte is in. */
static void test_small_file(void **state)
{
    struct cfg_item it = kernel_item();
    static struct kernel_load k;
    struct placer p;

    (void)state;
    make_file(5);
    wr32(file + 68, 0x100);  /* p_filesz: the file is 0x1100 bytes */
    wr32(file + 72, 0x100);  /* p_memsz */
    memset(guest, 0xAA, sizeof(guest));
    writes_outside = 0;
    placer(&p);
    kload_init(&k, &p, &it, 0x1100, NULL, sim_write, sim_zero, NULL);
    assert_int_equal(feed(&k, 0, 0x1000, 1432), 0);
    assert_false(k.planned);
    assert_int_equal(feed(&k, 0x1000, 0x1100, 1432), 0);
    assert_true(k.planned);
    assert_int_equal(kload_finish(&k), 0);
    assert_memory_equal(guest, file + 0x1000, 0x100);
    assert_int_equal(guest[0x100], 0xAA);
    placer_free(&p);
}

/** An empty file: the sink never runs, kload_finish says what is wrong. */
static void test_empty_file(void **state)
{
    struct cfg_item it = kernel_item();
    static struct kernel_load k;
    struct placer p;

    (void)state;
    placer(&p);
    kload_init(&k, &p, &it, 0, NULL, sim_write, sim_zero, NULL);
    assert_int_equal(kload_finish(&k), -PE_NOEXEC);
    assert_string_equal(k.msg, "config-x:2: exec: demo/k.elf: no multiboot "
                        "header in the first 8192 bytes");
    placer_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_restarts),
        cmocka_unit_test(test_changed_between_tries),
        cmocka_unit_test(test_plan_fails),
        cmocka_unit_test(test_small_file),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_keep_firmware),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
