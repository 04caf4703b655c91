/*
 * Unit tests for loader/plan.c: Pulsar's own areas in the placer, the
 * kernel's claims, module placement and the messages for each refusal.
 * Memory safety by construction: a kernel segment or a module aimed at
 * Pulsar's image, its stack, the IVT/BDA, the PXE stack or the BIOS is
 * refused before a byte is written.
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
static const struct mem_range pxe_regions[] = {
    { 0x9c400, 0x9d000, "PXE stack" },
};

/** The placer for the fixture machine. */
static void setup_placer(struct placer *p)
{
    struct pulsar_layout l = { 0x7c00, 0x9c400, pxe_regions, 1 };
    assert_int_equal(plan_placer(p, qemu_map, 6, &l), 0);
}

/** Free the placer and the labels plan_kernel gave it. */
static void free_placer(struct placer *p)
{
    for (unsigned i = 0; i < p->nused; i++)
        if (strstr(p->used[i].what, " segment "))
            free((void *)p->used[i].what);
    place_fini(p);
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

/** Pulsar's own areas are reserved, each under its own name. */
static void test_placer_reserves_pulsar(void **state)
{
    static const struct { uint64_t at; const char *what; } hits[] = {
        { 0x0, "IVT and BIOS data area" },   { 0x4ff, "IVT and BIOS data area" },
        { 0x500, "Pulsar stack" },           { 0x7bff, "Pulsar stack" },
        { 0x7c00, "Pulsar image and heap" }, { 0x9c3ff, "Pulsar image and heap" },
        { 0x9c400, "EBDA, PXE stack and BIOS" },
    };
    struct place_conflict why;
    struct placer p;

    (void)state;
    setup_placer(&p);
    for (unsigned i = 0; i < sizeof(hits) / sizeof(hits[0]); i++) {
        assert_int_equal(place_check(&p, hits[i].at, 1, &why), -PE_OVERLAP);
        assert_string_equal(why.hit.what, hits[i].what);
    }
    assert_int_equal(place_check(&p, 0x100000, 0x1000, &why), 0);
    place_fini(&p);
}

/** A good kernel: planned, every segment claimed under its label. */
static void test_kernel_claims(void **state)
{
    static uint8_t img[0x1100];
    struct cfg_item it = item(CFG_EXEC, "k.elf", 3);
    struct image_plan plan;
    struct place_conflict why;
    struct placer p;
    char msg[PLAN_MSG_LEN];
    size_t len = tiny_elf(img, 0x100000, 0x3000);

    (void)state;
    setup_placer(&p);
    assert_int_equal(plan_kernel(&p, &it, img, len, len, &plan, msg,
                                 sizeof(msg)), 0);
    assert_string_equal(msg, "");
    assert_int_equal(plan.nseg, 1);
    assert_int_equal(place_check(&p, 0x102fff, 1, &why), -PE_OVERLAP);
    assert_string_equal(why.hit.what, "k.elf segment 1");
    /* Planning the same file again fails against itself: this is why a
     * retried transfer keeps the first plan instead (loader/main.c). */
    assert_int_equal(plan_kernel(&p, &it, img, len, len, &plan, msg,
                                 sizeof(msg)), -PE_OVERLAP);
    assert_string_equal(msg, "config-x:3: exec: demo/k.elf: [0x00100000, "
                        "0x00103000) k.elf segment 1 overlaps [0x00100000, "
                        "0x00103000) k.elf segment 1");
    free_placer(&p);
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
                   "k.elf segment 1 overlaps [0x00007c00, 0x0009c400) "
                   "Pulsar image and heap" },
        { 0x9c000, "config-x:3: exec: demo/k.elf: [0x0009c000, 0x0009d000) "
                   "k.elf segment 1 overlaps [0x00007c00, 0x0009c400) "
                   "Pulsar image and heap" },
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
    char msg[PLAN_MSG_LEN];

    (void)state;
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct placer p;
        size_t len = tiny_elf(img, cases[i].at, 0x1000);

        setup_placer(&p);
        assert_int_not_equal(plan_kernel(&p, &it, img, len, len, &plan, msg,
                                         sizeof(msg)), 0);
        assert_string_equal(msg, cases[i].want);
        free_placer(&p);
    }
}

/** A broken image gets the image code's message behind the prefix. */
static void test_kernel_bad_image(void **state)
{
    static uint8_t img[64];
    struct cfg_item it = item(CFG_EXEC, "k.elf", 7);
    struct image_plan plan;
    char msg[PLAN_MSG_LEN];
    struct placer p;

    (void)state;
    setup_placer(&p);
    assert_int_equal(plan_kernel(&p, &it, img, sizeof(img), sizeof(img),
                                 &plan, msg, sizeof(msg)), -PE_NOEXEC);
    assert_string_equal(msg, "config-x:7: exec: demo/k.elf: no multiboot "
                        "header in the first 8192 bytes");
    free_placer(&p);
}

/** Modules: after the kernel, page-aligned, one after another. */
static void test_modules_follow(void **state)
{
    struct cfg_item a = item(CFG_LOAD, "a", 4), b = item(CFG_LOAD, "b", 5);
    struct module_cursor c;
    struct placer p;
    char msg[PLAN_MSG_LEN];
    uint32_t dest;

    (void)state;
    setup_placer(&p);
    plan_modules_start(&c, 0x108304);
    assert_int_equal(plan_module(&p, &c, &a, 0x1234, &dest, msg,
                                 sizeof(msg)), 0);
    assert_int_equal(dest, 0x109000);
    assert_int_equal(plan_module(&p, &c, &b, 10, &dest, msg, sizeof(msg)),
                     0);
    assert_int_equal(dest, 0x10b000);
    /* An empty module claims nothing and takes no room. */
    assert_int_equal(plan_module(&p, &c, &a, 0, &dest, msg, sizeof(msg)), 0);
    assert_int_equal(dest, 0x10c000);
    place_fini(&p);
}

/** `addr`: each new addr line restarts there; bad places are refused. */
static void test_modules_addr(void **state)
{
    struct cfg_item a = item(CFG_LOAD, "a", 4), b = item(CFG_LOAD, "b", 5);
    struct module_cursor c;
    struct placer p;
    char msg[PLAN_MSG_LEN];
    uint32_t dest;

    (void)state;
    setup_placer(&p);
    plan_modules_start(&c, 0x108000);
    a.has_addr = b.has_addr = true;
    a.addr = b.addr = 0x2000000;
    a.addr_seq = b.addr_seq = 1;
    assert_int_equal(plan_module(&p, &c, &a, 0x1800, &dest, msg,
                                 sizeof(msg)), 0);
    assert_int_equal(dest, 0x2000000);
    assert_int_equal(plan_module(&p, &c, &b, 0x10, &dest, msg, sizeof(msg)),
                     0);
    assert_int_equal(dest, 0x2002000);

    /* A new addr line with the same value restarts there: overlap. */
    b.addr_seq = 2;
    assert_int_equal(plan_module(&p, &c, &b, 0x10, &dest, msg, sizeof(msg)),
                     -PE_OVERLAP);
    assert_string_equal(msg, "config-x:5: load: demo/b: [0x02000000, "
                        "0x02000010) b overlaps [0x02000000, 0x02001800) a");

    b.addr_seq = 3;
    b.addr = 0x2100010;
    assert_int_equal(plan_module(&p, &c, &b, 0x10, &dest, msg, sizeof(msg)),
                     -PE_INVAL);
    assert_string_equal(msg, "config-x:5: load: demo/b: address 0x02100010 "
                        "is not page-aligned");

    b.addr_seq = 4;
    b.addr = 0x8000;
    assert_int_equal(plan_module(&p, &c, &b, 0x10, &dest, msg, sizeof(msg)),
                     -PE_OVERLAP);
    assert_string_equal(msg, "config-x:5: load: demo/b: [0x00008000, "
                        "0x00008010) b overlaps [0x00007c00, 0x0009c400) "
                        "Pulsar image and heap");

    b.addr_seq = 5;
    b.addr = 0xfffff000;
    assert_int_equal(plan_module(&p, &c, &b, 0x2000, &dest, msg,
                                 sizeof(msg)), -PE_NORAM);
    assert_string_equal(msg, "config-x:5: load: demo/b: [0xfffff000, "
                        "0x100001000) b is not in usable RAM ([0x07fe0000, "
                        "0x100000000) is not RAM)");
    place_fini(&p);
}

/** A module larger than the free RAM is refused with its size. */
static void test_modules_no_room(void **state)
{
    struct cfg_item a = item(CFG_LOAD, "big", 9);
    struct module_cursor c;
    struct placer p;
    char msg[PLAN_MSG_LEN];
    uint32_t dest;

    (void)state;
    setup_placer(&p);
    plan_modules_start(&c, 0x100000);
    assert_int_equal(plan_module(&p, &c, &a, 0x8000000, &dest, msg,
                                 sizeof(msg)), -PE_NORAM);
    assert_string_equal(msg, "config-x:9: load: demo/big: 134217728 bytes "
                        "do not fit in free RAM above 0x00100000");
    place_fini(&p);
}

/** A config must name a kernel and no chainload. */
static void test_config_check(void **state)
{
    struct cfg cfg;
    struct cfg_item chld = item(CFG_CHLD, "pxelinux.0", 2);
    struct cfg_item exec = item(CFG_EXEC, "k", 1);
    char msg[PLAN_MSG_LEN];

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    assert_int_equal(plan_config_check(&cfg, "nova/config-x", msg,
                                       sizeof(msg)), -PE_NOKERNEL);
    assert_string_equal(msg, "nova/config-x: no exec line: nothing to boot");
    cfg.exec = &exec;
    assert_int_equal(plan_config_check(&cfg, "c", msg, sizeof(msg)), 0);
    cfg.chld = &chld;
    assert_int_equal(plan_config_check(&cfg, "c", msg, sizeof(msg)),
                     -PE_UNSUPP);
    assert_string_equal(msg, "config-x:2: chld: chainloading is not "
                        "supported yet");
}

/** No RAM at all: the placer says so. */
static void test_placer_no_ram(void **state)
{
    static const struct e820_entry none[] = { { 0, 0x100000, 2 } };
    struct pulsar_layout l = { 0x7c00, 0x9c400, NULL, 0 };
    struct placer p;

    (void)state;
    assert_int_equal(plan_placer(&p, none, 1, &l), -PE_NORAM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placer_reserves_pulsar),
        cmocka_unit_test(test_kernel_claims),
        cmocka_unit_test(test_kernel_refused),
        cmocka_unit_test(test_kernel_bad_image),
        cmocka_unit_test(test_modules_follow),
        cmocka_unit_test(test_modules_addr),
        cmocka_unit_test(test_modules_no_room),
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_placer_no_ram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
