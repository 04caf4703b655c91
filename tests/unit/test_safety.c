/*
 * Memory safety by construction: every write into guest memory goes
 * through the placer, and the placer refuses anything aimed at what is
 * not the kernel's to have.  These tests aim a kernel segment, and a
 * module at an `addr`, at the IVT and BIOS data area, Pulsar's stack,
 * Pulsar's image and heap, the PXE stack, the BIOS hole and memory that
 * is not RAM (the 64 KiB below free base memory that Pulsar keeps for a
 * Linux setup is free RAM, so a multiboot kernel may use it), and check each is refused with a message naming both
 * ranges, through loader/plan.c as the boot flow calls it.  They also
 * show why a retried kernel transfer keeps its first plan: planning the
 * same kernel twice fails against itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "lib/errno.h"
#include "loader/plan.h"

/** A QEMU-like -m 128 machine: RAM below 0x9fc00 and from 1 MiB. */
static const struct e820_entry qemu_map[] = {
    { 0x0, 0x9fc00, 1 },        { 0x9fc00, 0x400, 2 },
    { 0xf0000, 0x10000, 2 },    { 0x100000, 0x7ee0000, 1 },
    { 0x7fe0000, 0x20000, 2 },  { 0xfffc0000, 0x40000, 2 },
};

/** The placer as boot/bios/main.c builds it (PXE stack at 0x9c400). */
static void setup_placer(struct placer *p)
{
    assert_int_equal(plan_placer_init(p, qemu_map, 6, 0x9c400), 0);
    assert_int_equal(place_reserve(p, 0x9c400, 0x9d000, "PXE stack"), 0);
}

/** A config item as the parser makes it (only what plan_* reads). */
static struct cfg_item item(enum cfg_kind kind, const char *name,
                            unsigned line)
{
    static char path[8][64];
    static unsigned n;
    struct cfg_item it;
    char *p = path[n++ % 8];

    memset(&it, 0, sizeof(it));
    it.kind = kind;
    it.name = (char *)name;
    snprintf(p, 64, "demo/%s", name);
    it.path = p;
    it.src_file = "config-x";
    it.src_line = line;
    return it;
}

static void wr32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

/**
 * A minimal multiboot ELF: one segment at @paddr (0x100 file bytes at
 * 0x1000, @memsz in memory), entry at its start.  Returns the size.
 */
static size_t tiny_elf(uint8_t *img, uint32_t paddr, uint32_t memsz)
{
    memset(img, 0, 0x1100);
    memcpy(img, "\x7f" "ELF\x01\x01\x01", 7);
    img[16] = 2;                      /* ET_EXEC */
    img[18] = 3;                      /* EM_386 */
    wr32(img + 20, 1);
    wr32(img + 24, paddr);            /* e_entry */
    wr32(img + 28, 52);               /* e_phoff */
    img[40] = 52;                     /* e_ehsize */
    img[42] = 32;                     /* e_phentsize */
    img[44] = 1;                      /* e_phnum */
    wr32(img + 52, 1);                /* PT_LOAD */
    wr32(img + 56, 0x1000);
    wr32(img + 60, paddr);
    wr32(img + 64, paddr);
    wr32(img + 68, 0x100);
    wr32(img + 72, memsz);
    wr32(img + 0x100, 0x1BADB002);    /* multiboot header, flags 3 */
    wr32(img + 0x104, 3);
    wr32(img + 0x108, (uint32_t)(0u - 0x1BADB002u - 3u));
    return 0x1100;
}

/** A kernel aimed at Pulsar, its stack, the IVT/BDA, PXE or the BIOS. */
static void test_kernel_refused(void **state)
{
    static const struct { uint32_t at; const char *want; } cases[] = {
        { 0x0, "config-x:3: exec: demo/k.elf: [0x00000000, 0x00001000) "
               "k.elf segment 1 overlaps [0x00000000, 0x00000500) IVT and "
               "BIOS data area" },
        { 0x2000, "config-x:3: exec: demo/k.elf: [0x00002000, 0x00003000) "
                  "k.elf segment 1 overlaps [0x00000500, 0x00007c00) "
                  "Pulsar stack" },
        { 0x7000, "config-x:3: exec: demo/k.elf: [0x00007000, 0x00008000) "
                  "k.elf segment 1 overlaps [0x00000500, 0x00007c00) "
                  "Pulsar stack" },
        { 0x10000, "config-x:3: exec: demo/k.elf: [0x00010000, 0x00011000) "
                   "k.elf segment 1 overlaps [0x00007c00, 0x0008c400) "
                   "Pulsar image and heap" },
        { 0x8c000, "config-x:3: exec: demo/k.elf: [0x0008c000, 0x0008d000) "
                   "k.elf segment 1 overlaps [0x00007c00, 0x0008c400) "
                   "Pulsar image and heap" },
        { 0x9c000, "config-x:3: exec: demo/k.elf: [0x0009c000, 0x0009d000) "
                   "k.elf segment 1 overlaps [0x0009c400, 0x00100000) "
                   "EBDA, PXE stack and BIOS" },
        { 0xa0000, "config-x:3: exec: demo/k.elf: [0x000a0000, 0x000a1000) "
                   "k.elf segment 1 is not in usable RAM ([0x0009fc00, "
                   "0x00100000) is not RAM)" },
        { 0x8000000, "config-x:3: exec: demo/k.elf: [0x08000000, "
                     "0x08001000) k.elf segment 1 is not in usable RAM "
                     "([0x07fe0000, 0x100000000) is not RAM)" },
    };
    static uint8_t img[0x1100];
    struct cfg_item it = item(CFG_EXEC, "k.elf", 3);
    struct image_plan plan;
    char msg[PLAN_ERR_LEN];

    (void)state;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct placer p;
        size_t len = tiny_elf(img, cases[i].at, 0x1000);

        setup_placer(&p);
        assert_int_not_equal(plan_kernel(&p, &it, img, len, len, &plan, msg,
                                         sizeof(msg)), 0);
        assert_string_equal(msg, cases[i].want);
        place_fini(&p);
    }
}

/** Planning the same kernel twice fails against itself: a retried
 * transfer must keep the plan of the first try (loader/kload.c). */
static void test_kernel_twice(void **state)
{
    static uint8_t img[0x1100];
    struct cfg_item it = item(CFG_EXEC, "k.elf", 3);
    struct image_plan plan;
    char msg[PLAN_ERR_LEN];
    struct placer p;
    size_t len = tiny_elf(img, 0x100000, 0x3000);

    (void)state;
    setup_placer(&p);
    assert_int_equal(plan_kernel(&p, &it, img, len, len, &plan, msg,
                                 sizeof(msg)), 0);
    assert_int_equal(plan_kernel(&p, &it, img, len, len, &plan, msg,
                                 sizeof(msg)), -PE_OVERLAP);
    assert_string_equal(msg, "config-x:3: exec: demo/k.elf: [0x00100000, "
                        "0x00103000) k.elf segment 1 overlaps [0x00100000, "
                        "0x00103000) k.elf segment 1");
    place_fini(&p);
}

/** A module at an `addr` aimed at what is not the kernel's. */
static void test_module_refused(void **state)
{
    static const struct { uint32_t at; const char *want; } cases[] = {
        { 0x0, "config-x:5: load: demo/m: [0x00000000, 0x00000010) m "
               "overlaps [0x00000000, 0x00000500) IVT and BIOS data area" },
        { 0x7000, "config-x:5: load: demo/m: [0x00007000, 0x00007010) m "
                  "overlaps [0x00000500, 0x00007c00) Pulsar stack" },
        { 0x8000, "config-x:5: load: demo/m: [0x00008000, 0x00008010) m "
                  "overlaps [0x00007c00, 0x0008c400) Pulsar image and heap" },
        { 0x8c000, "config-x:5: load: demo/m: [0x0008c000, 0x0008c010) m "
                   "overlaps [0x00007c00, 0x0008c400) Pulsar image and "
                   "heap" },
        { 0xf0000, "config-x:5: load: demo/m: [0x000f0000, 0x000f0010) m "
                   "is not in usable RAM ([0x0009fc00, 0x00100000) is not "
                   "RAM)" },
    };
    char msg[PLAN_ERR_LEN];

    (void)state;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cfg_item it = item(CFG_LOAD, "m", 5);
        struct plan_mods where;
        struct placer p;
        uint64_t dest;

        it.has_addr = true;
        it.addr = cases[i].at;
        it.addr_seq = 1;
        setup_placer(&p);
        plan_mods_init(&where, 0x108000);
        assert_int_not_equal(plan_module(&where, &p, &it, 0x10, &dest, msg,
                                         sizeof(msg)), 0);
        assert_string_equal(msg, cases[i].want);
        place_fini(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_refused),
        cmocka_unit_test(test_kernel_twice),
        cmocka_unit_test(test_module_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
