/*
 * Unit tests for loader/linux.c: setup header checks (the malformed
 * bzImage cases included), load planning on made-up memory maps, initrd
 * layout and placement, mem= parsing and the header fields Pulsar fills.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "loader/format.h"
#include "loader/linux.h"

#define MB 0x100000u
#define NENT(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

static uint8_t img[8192];
static char err[256];

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

/**
 * A setup header like Debian's 6.1 kernel: protocol @version, setup_sects
 * @sects, syssize matching a file of @file_size bytes, relocatable with
 * 2 MiB alignment, pref_address 16 MiB, init_size 32 MiB.
 */
static void make_header(uint16_t version, uint8_t sects, uint32_t file_size)
{
    unsigned setup = ((sects ? sects : 4) + 1) * 512;

    memset(img, 0, sizeof(img));
    img[LX_SETUP_SECTS] = sects;
    put32(img + LX_SYSSIZE, (file_size - setup) / 16);
    put16(img + LX_BOOT_FLAG, 0xAA55);
    img[0x200] = 0xEB; /* jmp short over the header */
    img[0x201] = 0x66;
    memcpy(img + LX_HEADER, "HdrS", 4);
    put16(img + LX_VERSION, version);
    img[LX_LOADFLAGS] = LX_LOADED_HIGH;
    put32(img + LX_CODE32_START, 0x100000);
    put16(img + LX_HEAP_END_PTR, 0x5be0);
    put32(img + LX_INITRD_ADDR_MAX, 0x7fffffff);
    put32(img + LX_KERNEL_ALIGNMENT, 0x200000);
    img[LX_RELOCATABLE] = 1;
    put32(img + LX_CMDLINE_SIZE, 2047);
    put32(img + LX_PREF_ADDRESS, 0x1000000);
    put32(img + LX_INIT_SIZE, 0x2000000);
}

/** The map QEMU's SeaBIOS reports for 128 MiB. */
static const struct e820_entry qemu_map[] = {
    { 0x0, 0x9fc00, E820_RAM },
    { 0x9fc00, 0x400, E820_RESERVED },
    { 0xf0000, 0x10000, E820_RESERVED },
    { 0x100000, 0x7ee0000, E820_RAM },
    { 0xfffc0000, 0x40000, E820_RESERVED },
};

/** A placer on @map with low memory taken as Pulsar takes it, leaving
 *  [0x80000, 0x90000) free for the setup. */
static void pulsar_placer(struct placer *p, const struct e820_entry *map,
                          unsigned n)
{
    assert_int_equal(place_init(p, map, n), 0);
    assert_int_equal(place_reserve(p, 0, 0x7C00, "bios+stack"), 0);
    assert_int_equal(place_reserve(p, 0x7C00, 0x80000, "Pulsar"), 0);
    assert_int_equal(place_reserve(p, 0x90000, 0x100000, "EBDA"), 0);
}

/** HdrS at 0x202 is what makes a file a bzImage. */
static void test_probe(void **state)
{
    (void)state;
    make_header(0x020F, 39, 0x800000);
    assert_true(linux_probe(img, sizeof(img)));
    assert_false(linux_probe(img, LX_HEADER + 3)); /* too short to tell */
    img[LX_HEADER] = 'h';
    assert_false(linux_probe(img, sizeof(img)));
}

/** A modern header: every field read. */
static void test_parse_modern(void **state)
{
    struct linux_header h;

    (void)state;
    make_header(0x020F, 39, 0x800000);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x800000, &h, err,
                                        sizeof(err)), 0);
    assert_int_equal(h.version, 0x020F);
    assert_int_equal(h.setup_len, 40 * 512);
    assert_int_equal(h.kernel_len, 0x800000 - 40 * 512);
    assert_int_equal(h.loadflags, LX_LOADED_HIGH);
    assert_int_equal(h.initrd_addr_max, 0x7fffffff);
    assert_int_equal(h.cmdline_size, 2047);
    assert_true(h.relocatable);
    assert_int_equal(h.kernel_alignment, 0x200000);
    assert_int_equal(h.pref_address, 0x1000000);
    assert_int_equal(h.init_size, 0x2000000);
}

/** 2.02: no initrd_addr_max, cmdline_size or later fields: defaults. */
static void test_parse_defaults_202(void **state)
{
    struct linux_header h;

    (void)state;
    make_header(0x0202, 10, 0x100000);
    /* Whatever lies where later versions have fields is not read. */
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), 0);
    assert_int_equal(h.initrd_addr_max, 0x37FFFFFF);
    assert_int_equal(h.cmdline_size, 255);
    assert_false(h.relocatable);
    assert_int_equal(h.kernel_alignment, 0);
    assert_int_equal(h.pref_address, 0);
    assert_int_equal(h.init_size, 0);
    /* 2.02 only needs the header up to cmd_line_ptr. */
    assert_int_equal(linux_parse_header(img, LX_CMD_LINE_PTR + 4, 0x100000,
                                        &h, err, sizeof(err)), 0);
}

/** Kitten's header is 2.06: cmdline_size and relocatable, no init_size. */
static void test_parse_kitten_206(void **state)
{
    struct linux_header h;

    (void)state;
    make_header(0x0206, 12, 0x300000);
    put32(img + LX_INITRD_ADDR_MAX, 0xffffffff);
    put32(img + LX_CMDLINE_SIZE, 1023);
    img[LX_RELOCATABLE] = 0;
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x300000, &h, err,
                                        sizeof(err)), 0);
    assert_int_equal(h.initrd_addr_max, 0xffffffff);
    assert_int_equal(h.cmdline_size, 1023);
    assert_false(h.relocatable);
    assert_int_equal(h.pref_address, 0);
    assert_int_equal(h.init_size, 0);
}

/** Protocols before 2.02 are refused with a message naming both. */
static void test_old_protocol(void **state)
{
    struct linux_header h;

    (void)state;
    make_header(0x0201, 4, 0x100000);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), -PE_UNSUPP);
    assert_non_null(strstr(err, "2.01"));
    assert_non_null(strstr(err, "2.02"));
    make_header(0x0200, 4, 0x100000);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), -PE_UNSUPP);
    assert_non_null(strstr(err, "2.00"));
    make_header(0x0000, 4, 0x100000); /* a zero version is old too */
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), -PE_UNSUPP);
    assert_non_null(strstr(err, "protocol 0.00 is older than 2.02"));
}

/** setup_sects 0 means 4. */
static void test_setup_sects_zero(void **state)
{
    struct linux_header h;

    (void)state;
    make_header(0x020F, 0, 0x100000);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), 0);
    assert_int_equal(h.setup_len, 5 * 512);
}

/** setup_sects too large for the layout, or larger than the file. */
static void test_bad_setup_sects(void **state)
{
    struct linux_header h;

    (void)state;
    make_header(0x020F, 63, 0x100000); /* 64 sectors = 32 KiB: the most */
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), 0);
    make_header(0x020F, 64, 0x100000);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), -PE_INVAL);
    assert_non_null(strstr(err, "setup_sects 64"));
    assert_non_null(strstr(err, "32 KiB"));
    make_header(0x020F, 255, 0x100000);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), -PE_INVAL);
    assert_non_null(strstr(err, "setup_sects 255"));
    /* Eight sectors of setup in a 4 KiB file: nothing after the setup. */
    make_header(0x020F, 8, 0x1200);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x1000, &h, err,
                                        sizeof(err)), -PE_INVAL);
    assert_non_null(strstr(err, "truncated: 4096 bytes"));
    assert_non_null(strstr(err, "needs 4609")); /* 9 sectors + 1 */
    assert_int_equal(linux_parse_header(img, sizeof(img), 9 * 512, &h, err,
                                        sizeof(err)), -PE_INVAL);
}

/** A header cut short by the end of the file. */
static void test_truncated_header(void **state)
{
    struct linux_header h;

    (void)state;
    make_header(0x020F, 4, 0x100000);
    /* 2.15 needs init_size, which ends at 0x264. */
    assert_int_equal(linux_parse_header(img, LX_INIT_SIZE + 3, 0x100000, &h,
                                        err, sizeof(err)), -PE_INVAL);
    assert_non_null(strstr(err, "truncated: 611 bytes"));
    assert_non_null(strstr(err, "needs 612"));
    assert_int_equal(linux_parse_header(img, LX_INIT_SIZE + 4, 0x100000, &h,
                                        err, sizeof(err)), 0);
    /* HdrS but not even the version. */
    assert_int_equal(linux_parse_header(img, LX_VERSION + 1, 0x100000, &h,
                                        err, sizeof(err)), -PE_INVAL);
    assert_non_null(strstr(err, "truncated"));
    /* No HdrS at all. */
    assert_int_equal(linux_parse_header(img, 0x100, 0x100000, &h, err,
                                        sizeof(err)), -PE_NOEXEC);
}

/** The file ends before the kernel syssize announces. */
static void test_truncated_kernel(void **state)
{
    struct linux_header h;

    (void)state;
    make_header(0x020F, 4, 0x100000);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000 - 16, &h,
                                        err, sizeof(err)), -PE_INVAL);
    assert_non_null(strstr(err, "truncated: 1048560 bytes"));
    assert_non_null(strstr(err, "needs 1048561")); /* syssize - 15 */
    /* syssize rounds up to 16 bytes: up to 15 missing bytes are padding. */
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000 - 15, &h,
                                        err, sizeof(err)), 0);
}

/** No boot flag, a zImage, a bad kernel_alignment. */
static void test_bad_fields(void **state)
{
    struct linux_header h;

    (void)state;
    make_header(0x020F, 4, 0x100000);
    put16(img + LX_BOOT_FLAG, 0x1234);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), -PE_INVAL);
    assert_non_null(strstr(err, "0x1234"));

    make_header(0x020F, 4, 0x100000);
    img[LX_LOADFLAGS] = 0;
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), -PE_UNSUPP);
    assert_non_null(strstr(err, "LOADED_HIGH"));

    make_header(0x020F, 4, 0x100000);
    put32(img + LX_KERNEL_ALIGNMENT, 0x300000);
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), -PE_INVAL);
    assert_non_null(strstr(err, "kernel_alignment"));
    /* ... which does not matter for a kernel that is not relocatable. */
    img[LX_RELOCATABLE] = 0;
    assert_int_equal(linux_parse_header(img, sizeof(img), 0x100000, &h, err,
                                        sizeof(err)), 0);
}

/** The command line against cmdline_size (2047, and 255 before 2.06). */
static void test_cmdline_size(void **state)
{
    struct placer p;
    struct linux_plan lp;
    struct image_plan plan;
    char line[2100];

    (void)state;
    pulsar_placer(&p, qemu_map, NENT(qemu_map));
    memset(line, 'a', sizeof(line));
    make_header(0x020F, 4, 0x100000);
    line[2047] = '\0';
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x100000, line, &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(lp.cmdline_len, 2047);
    line[2047] = 'a';
    line[2048] = '\0';
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x100000, line, &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     -PE_TOOLONG);
    assert_non_null(strstr(err, "2048 bytes"));
    assert_non_null(strstr(err, "cmdline_size 2047"));

    make_header(0x0205, 4, 0x100000);
    line[255] = '\0';
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x100000, line, &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    line[255] = 'a';
    line[256] = '\0';
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x100000, line, &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     -PE_TOOLONG);
    assert_non_null(strstr(err, "cmdline_size 255"));

    /* A kernel that takes more than Pulsar's room gets Pulsar's limit. */
    make_header(0x020F, 4, 0x100000);
    put32(img + LX_CMDLINE_SIZE, 0x10000);
    memset(line, 'a', sizeof(line));
    line[sizeof(line) - 1] = '\0';
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x100000, line, &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    place_fini(&p);
}

/** The usual plan: setup in the free low window, kernel at 1 MiB. */
static void test_plan_default(void **state)
{
    struct placer p;
    struct linux_plan lp;
    struct image_plan plan;

    (void)state;
    pulsar_placer(&p, qemu_map, NENT(qemu_map));
    make_header(0x020F, 39, 0x800000);
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x800000,
                                      "console=ttyS0", &p, 0x9fc00, &lp,
                                      &plan, err, sizeof(err)), 0);
    assert_int_equal(lp.setup_addr, 0x80000);
    assert_int_equal(lp.kernel_addr, MB);
    assert_int_equal(lp.cmdline_len, 13);
    /* Relocatable, loaded at 1 MiB: it runs at pref_address (16 MiB). */
    assert_int_equal(lp.run_start, 0x1000000);
    assert_int_equal(lp.run_end, 0x3000000);
    assert_int_equal(plan.nseg, 2);
    assert_int_equal(plan.seg[0].dest, 0x80000);
    assert_int_equal(plan.seg[0].file_off, 0);
    assert_int_equal(plan.seg[0].filesz, 40 * 512);
    assert_int_equal(plan.seg[0].memsz, LINUX_LOW_SIZE);
    assert_int_equal(plan.seg[1].dest, MB);
    assert_int_equal(plan.seg[1].file_off, 40 * 512);
    assert_int_equal(plan.seg[1].filesz, 0x800000 - 40 * 512);
    assert_int_equal(plan.seg[1].memsz, 0x800000 - 40 * 512);
    assert_int_equal(plan.entry, 0x80200);
    assert_int_equal(plan.file_need, 0x800000);

    /* Below the base memory the caller gives, not just the map's RAM. */
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x800000, "", &p,
                                      0x8ffff, &lp, &plan, err, sizeof(err)),
                     -PE_NORAM);
    assert_non_null(strstr(err, "low memory"));
    place_fini(&p);
}

/** A non-relocatable kernel that needs more than its file to unpack. */
static void test_plan_unpack_area(void **state)
{
    struct placer p;
    struct linux_plan lp;
    struct image_plan plan;

    (void)state;
    pulsar_placer(&p, qemu_map, NENT(qemu_map));
    make_header(0x020A, 8, 0x200000);
    img[LX_RELOCATABLE] = 0;
    put32(img + LX_PREF_ADDRESS, 0x100000);
    put32(img + LX_INIT_SIZE, 0x800000);
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x200000, "", &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(lp.kernel_addr, MB);
    assert_int_equal(lp.run_start, MB + 0x200000 - 9 * 512);
    assert_int_equal(lp.run_end, MB + 0x800000);
    /* init_size within the file: nothing beyond it. */
    put32(img + LX_INIT_SIZE, 0x1000);
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x200000, "", &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(lp.run_start, lp.run_end);
    place_fini(&p);
}

/** 1 MiB taken: pref_address, then any aligned address, or refused. */
static void test_plan_relocated(void **state)
{
    struct placer p;
    struct linux_plan lp;
    struct image_plan plan;

    (void)state;
    pulsar_placer(&p, qemu_map, NENT(qemu_map));
    assert_int_equal(place_reserve(&p, MB, 2 * MB, "busy"), 0);
    make_header(0x020F, 39, 0x800000);
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x800000, "", &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(lp.kernel_addr, 0x1000000);
    assert_int_equal(plan.seg[1].dest, 0x1000000);
    assert_int_equal(lp.run_start, 0x1000000 + 0x800000 - 40 * 512);
    assert_int_equal(lp.run_end, 0x3000000);

    /* pref_address taken too: the lowest 2 MiB-aligned free address. */
    assert_int_equal(place_reserve(&p, 0xF00000, 0x1100000, "busy2"), 0);
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x800000, "", &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(lp.kernel_addr, 2 * MB);
    assert_int_equal(lp.run_start, 0x1000000);

    /* Not relocatable: refused, naming what is in the way. */
    img[LX_RELOCATABLE] = 0;
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x800000, "", &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     -PE_NORAM);
    assert_non_null(strstr(err, "not relocatable"));
    assert_non_null(strstr(err, "busy"));
    place_fini(&p);
}

/** linux_finish writes the loader's fields and the command line. */
static void test_finish(void **state)
{
    static uint8_t low[LINUX_LOW_SIZE];
    struct placer p;
    struct linux_plan lp;
    struct image_plan plan;

    (void)state;
    pulsar_placer(&p, qemu_map, NENT(qemu_map));
    make_header(0x020F, 39, 0x800000);
    img[LX_LOADFLAGS] |= LX_KEEP_SEGMENTS;
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x800000,
                                      "console=ttyS0 quiet", &p, 0x9fc00, &lp,
                                      &plan, err, sizeof(err)), 0);
    lp.initrd_addr = 0x7000000;
    lp.initrd_size = 12345;
    memset(low, 0xCC, sizeof(low));
    memcpy(low, img, sizeof(img)); /* the header; the rest is the setup */
    linux_finish(low, &lp);
    assert_int_equal(low[LX_TYPE_OF_LOADER], 0xFF);
    assert_int_equal(low[LX_LOADFLAGS], LX_LOADED_HIGH | LX_CAN_USE_HEAP);
    assert_int_equal(get16(low + LX_HEAP_END_PTR), 0xDE00);
    assert_int_equal(get32(low + LX_CMD_LINE_PTR), 0x80000 + 0xE000);
    assert_string_equal((char *)low + 0xE000, "console=ttyS0 quiet");
    assert_int_equal(get32(low + LX_RAMDISK_IMAGE), 0x7000000);
    assert_int_equal(get32(low + LX_RAMDISK_SIZE), 12345);
    assert_int_equal(get32(low + LX_CODE32_START), 0x100000);
    /* Fields Pulsar does not own are left as the file has them. */
    assert_memory_equal(low + LX_HEADER, "HdrS", 4);
    assert_int_equal(get32(low + LX_INITRD_ADDR_MAX), 0x7fffffff);

    /* A relocated kernel: code32_start follows it. */
    lp.kernel_addr = 0x1000000;
    lp.cmdline = "";
    lp.cmdline_len = 0;
    linux_finish(low, &lp);
    assert_int_equal(get32(low + LX_CODE32_START), 0x1000000);
    assert_int_equal(low[0xE000], '\0');
    place_fini(&p);
}

/** Add an x86-64 PE header (as Debian's EFI-stub kernels have it). */
static void make_stub(uint32_t pe_off, uint16_t machine)
{
    img[0] = 'M';
    img[1] = 'Z';
    put32(img + 0x3C, pe_off);
    memcpy(img + pe_off, "PE\0\0", 4);
    put16(img + pe_off + 4, machine);
}

/** The stub is told by MZ, e_lfanew, "PE\0\0" and machine 0x8664. */
static void test_probe_efi_stub(void **state)
{
    (void)state;
    make_header(0x020F, 39, 0x800000);
    assert_false(linux_probe_efi_stub(img, sizeof(img))); /* no MZ */
    make_stub(0x40, 0x8664);
    assert_true(linux_probe_efi_stub(img, sizeof(img)));
    assert_false(linux_probe_efi_stub(img, 0x45)); /* PE header cut off */
    make_stub(0x40, 0x014c); /* an i386 stub: not for pulsar.efi */
    assert_false(linux_probe_efi_stub(img, sizeof(img)));
    make_stub(0x40, 0x8664);
    put32(img + 0x3C, 0xFFFFFFF0u); /* e_lfanew past the prefix */
    assert_false(linux_probe_efi_stub(img, sizeof(img)));
    make_header(0x020F, 39, 0x800000);
    make_stub(0x40, 0x8664);
    memcpy(img + LX_HEADER, "XXXX", 4); /* a PE that is no bzImage */
    assert_false(linux_probe_efi_stub(img, sizeof(img)));
}

/** The rule: on UEFI the stub row wins when there is a stub; a bzImage
 *  without one, and every bzImage on BIOS, takes the boot protocol. */
static void test_format_rule(void **state)
{
    (void)state;
    make_header(0x020F, 39, 0x800000);
    make_stub(0x40, 0x8664);
    assert_int_equal(format_probe(img, sizeof(img), true, 0)->handoff,
                     HANDOFF_EFI_STUB);
    assert_string_equal(format_probe(img, sizeof(img), true, 0)->name,
                        "Linux EFI stub");
    assert_int_equal(format_probe(img, sizeof(img), false, 0)->handoff,
                     HANDOFF_LINUX);
    assert_int_equal(format_probe(img, sizeof(img), true, 0)->loads,
                     LOADS_INITRD);
    make_header(0x0206, 0, 0x10000); /* Kitten: no stub */
    assert_int_equal(format_probe(img, sizeof(img), true, 0)->handoff,
                     HANDOFF_LINUX);
}

/** The stub's plan: the whole file in one page-aligned range, above
 *  1 MiB, the command line checked as for the boot protocol. */
static void test_plan_efi_stub(void **state)
{
    struct placer p;
    struct linux_plan lp;
    struct image_plan plan;
    char long_args[3000];

    (void)state;
    pulsar_placer(&p, qemu_map, NENT(qemu_map));
    make_header(0x020F, 39, 0x800000);
    make_stub(0x40, 0x8664);
    assert_int_equal(place_claim(&p, 0x100000, 0x12345, "taken", NULL), 0);
    assert_int_equal(linux_plan_efi_stub(img, sizeof(img), 0x800000,
                                         "quiet", &p, &lp, &plan, err,
                                         sizeof(err)), 0);
    assert_int_equal(plan.nseg, 1);
    assert_int_equal(plan.seg[0].dest, 0x113000);
    assert_int_equal(plan.seg[0].file_off, 0);
    assert_int_equal(plan.seg[0].filesz, 0x800000);
    assert_int_equal(plan.file_need, 0x800000);
    assert_int_equal(lp.kernel_addr, 0x113000);
    assert_string_equal(lp.cmdline, "quiet");
    assert_int_equal(lp.hdr.initrd_addr_max, 0x7fffffff);
    memset(long_args, 'a', sizeof(long_args) - 1);
    long_args[sizeof(long_args) - 1] = '\0';
    assert_int_equal(linux_plan_efi_stub(img, sizeof(img), 0x800000,
                                         long_args, &p, &lp, &plan, err,
                                         sizeof(err)), -PE_TOOLONG);
    assert_int_equal(linux_plan_efi_stub(img, sizeof(img), 0x10000000,
                                         "", &p, &lp, &plan, err,
                                         sizeof(err)), -PE_NORAM);
    place_fini(&p);
}

/** boot_params: the header up to where its jump lands, the E820 table,
 *  efi_info with "EL64", acpi_rsdp_addr; too many entries refused. */
static void test_boot_params(void **state)
{
    static uint8_t bp[BP_SIZE], many_bp[BP_SIZE];
    static struct e820_entry many[BP_E820_MAX + 1];
    const struct linux_efi_info efi = { 0x1234567890ull, 0x7e000018ull,
                                        48 * 40, 48, 1 };
    (void)state;
    make_header(0x0206, 0, 0x10000);
    img[0x268] = 0x5A; /* past this header's end (0x202 + 0x66) */
    memset(bp, 0xCC, sizeof(bp));
    assert_int_equal(linux_boot_params(bp, img, sizeof(img), qemu_map,
                                       NENT(qemu_map), &efi, 0x7fb7e014ull),
                     0);
    assert_memory_equal(bp + BP_HDR, img + BP_HDR, 0x268 - BP_HDR);
    assert_int_equal(bp[0x268], 0);
    assert_int_equal(bp[0x1F0], 0);
    assert_int_equal(bp[BP_E820_ENTRIES], NENT(qemu_map));
    for (unsigned i = 0; i < NENT(qemu_map); i++) {
        const uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        assert_int_equal(get32(e), (uint32_t)qemu_map[i].base);
        assert_int_equal(get32(e + 4), 0);
        assert_int_equal(get32(e + 8), (uint32_t)qemu_map[i].len);
        assert_int_equal(get32(e + 16), qemu_map[i].type);
    }
    assert_memory_equal(bp + BP_EFI_INFO, "EL64", 4);
    assert_int_equal(get32(bp + BP_EFI_INFO + 4), 0x34567890);
    assert_int_equal(get32(bp + BP_EFI_INFO + 8), 48);
    assert_int_equal(get32(bp + BP_EFI_INFO + 12), 1);
    assert_int_equal(get32(bp + BP_EFI_INFO + 16), 0x7e000018);
    assert_int_equal(get32(bp + BP_EFI_INFO + 20), 48 * 40);
    assert_int_equal(get32(bp + BP_EFI_INFO + 24), 0x12);
    assert_int_equal(get32(bp + BP_EFI_INFO + 28), 0);
    assert_int_equal(get32(bp + BP_ACPI_RSDP_ADDR), 0x7fb7e014);
    assert_int_equal(get32(bp + BP_ACPI_RSDP_ADDR + 4), 0);
    assert_int_equal(bp[BP_SIZE - 1], 0);

    /* No firmware facts: no efi_info, no RSDP. */
    assert_int_equal(linux_boot_params(bp, img, sizeof(img), qemu_map, 1,
                                       NULL, 0), 0);
    assert_int_equal(get32(bp + BP_EFI_INFO), 0);
    assert_int_equal(bp[BP_E820_ENTRIES], 1);

    /* A map boot_params cannot hold, a header running past the setup. */
    assert_int_equal(linux_boot_params(many_bp, img, sizeof(img), many,
                                       BP_E820_MAX + 1, &efi, 0), -PE_RANGE);
    assert_int_equal(linux_boot_params(bp, img, 0x260, qemu_map, 1, NULL,
                                       0), -PE_RANGE);
    img[0x201] = 0xFF; /* a jump past the header's room */
    assert_int_equal(linux_boot_params(bp, img, sizeof(img), qemu_map, 1,
                                       NULL, 0), -PE_RANGE);
}

/** One part byte for byte; several 4-byte aligned; overflow refused. */
static void test_initrd_layout(void **state)
{
    uint32_t one[] = { 1001 }, three[] = { 5, 8, 3 }, off[3], total;
    uint32_t huge[] = { 0xF0000000u, 0x10000000u };

    (void)state;
    assert_int_equal(linux_initrd_layout(one, 1, off, &total), 0);
    assert_int_equal(off[0], 0);
    assert_int_equal(total, 1001);
    assert_int_equal(linux_initrd_layout(three, 3, off, &total), 0);
    assert_int_equal(off[0], 0);
    assert_int_equal(off[1], 8);
    assert_int_equal(off[2], 16);
    assert_int_equal(total, 19);
    assert_int_equal(linux_initrd_layout(three, 0, off, &total), 0);
    assert_int_equal(total, 0);
    assert_int_equal(linux_initrd_layout(huge, 2, off, &total), -PE_RANGE);
}

/** mem= as Linux's memparse reads it; the lowest one counts. */
static void test_mem_limit(void **state)
{
    (void)state;
    assert_int_equal(linux_mem_limit(""), 0);
    assert_int_equal(linux_mem_limit("console=ttyS0"), 0);
    assert_int_equal(linux_mem_limit("mem=64M"), 64ull << 20);
    assert_int_equal(linux_mem_limit("quiet mem=0x1000000 x"), 0x1000000);
    assert_int_equal(linux_mem_limit("mem=1G mem=512m"), 512ull << 20);
    assert_int_equal(linux_mem_limit("mem=2g"), 2ull << 30);
    assert_int_equal(linux_mem_limit("mem=010"), 8);
    assert_int_equal(linux_mem_limit("mem=4096k"), 4ull << 20);
    assert_int_equal(linux_mem_limit("mem=nopentium"), 0);
    assert_int_equal(linux_mem_limit("xmem=5M"), 0);
    assert_int_equal(linux_mem_limit("a\tmem=3G"), 3ull << 30);
    assert_int_equal(linux_mem_limit("mem=4G"), UINT32_MAX);
    assert_int_equal(linux_mem_limit("mem=4294967295"), UINT32_MAX);
    assert_int_equal(linux_mem_limit("mem=4294967296"), UINT32_MAX);
    assert_int_equal(linux_mem_limit("mem=4194303k"), 4194303ull << 10);
    assert_int_equal(linux_mem_limit("mem=1T mem=2G"), 2ull << 30);
    assert_int_equal(linux_mem_limit("mem=99999999999999999999999G"),
                     UINT32_MAX);
    assert_int_equal(linux_mem_limit("mem=16E"), UINT32_MAX);
    assert_int_equal(linux_mem_limit("mem=0 mem=0x"), 0);
    assert_int_equal(linux_mem_limit("mem=0x10k"), 16 << 10);
    assert_int_equal(linux_mem_limit("memmap=1M mem=3M"), 3 << 20);
}

/** The initrd goes as high as it may, below every limit. */
static void test_initrd_place(void **state)
{
    static const struct e820_entry big_map[] = {
        { 0x0, 0x9fc00, E820_RAM },
        { 0x100000, 0xBFF00000, E820_RAM }, /* up to 3 GiB */
        { 0x100000000ull, 0x40000000, E820_RAM },
    };
    struct placer p;
    struct linux_plan lp;
    struct image_plan plan;

    (void)state;
    pulsar_placer(&p, qemu_map, NENT(qemu_map));
    make_header(0x020F, 39, 0x800000);
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x800000, "", &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    /* Top of RAM (128 MiB - 128 KiB), page-aligned start, odd size. */
    assert_int_equal(linux_place_initrd(&lp, &p, MB + 3, err,
                                        sizeof(err)), 0);
    assert_int_equal(lp.initrd_addr, (0x7fe0000 - MB - 3) & ~0xFFFu);
    assert_int_equal(lp.initrd_size, MB + 3);
    /* mem= lowers the limit. */
    lp.cmdline = "console=ttyS0 mem=64M";
    assert_int_equal(linux_place_initrd(&lp, &p, MB, err, sizeof(err)), 0);
    assert_int_equal(lp.initrd_addr, 0x4000000 - MB);
    lp.cmdline = "";
    /* No initrd. */
    assert_int_equal(linux_place_initrd(&lp, &p, 0, err, sizeof(err)),
                     0);
    assert_int_equal(lp.initrd_addr, 0);
    assert_int_equal(lp.initrd_size, 0);
    /* Too big: refused, naming the limit. */
    assert_int_equal(linux_place_initrd(&lp, &p, 200 * MB, err,
                                        sizeof(err)), -PE_NORAM);
    assert_non_null(strstr(err, "209715200 bytes"));
    assert_non_null(strstr(err, "initrd_addr_max"));
    lp.cmdline = "mem=32M";
    assert_int_equal(linux_place_initrd(&lp, &p, 40 * MB, err, sizeof(err)),
                     -PE_NORAM);
    assert_non_null(strstr(err, "mem="));
    assert_non_null(strstr(err, "0x2000000"));
    place_fini(&p);

    /* 3 GiB of RAM: initrd_addr_max (here 2 GiB - 1, and 0x37FFFFFF
     * for 2.02) is the limit; the kernel's unpack area is avoided. */
    pulsar_placer(&p, big_map, NENT(big_map));
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x800000, "", &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(linux_place_initrd(&lp, &p, 5 * MB, err,
                                        sizeof(err)), 0);
    assert_int_equal(lp.initrd_addr, 0x80000000u - 5 * MB);
    lp.hdr.initrd_addr_max = 0xffffffff;
    assert_int_equal(linux_place_initrd(&lp, &p, 5 * MB, err,
                                        sizeof(err)), 0);
    assert_int_equal(lp.initrd_addr, 0xC0000000u - 5 * MB);
    make_header(0x0202, 10, 0x100000);
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x100000, "", &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(linux_place_initrd(&lp, &p, 5 * MB, err,
                                        sizeof(err)), 0);
    assert_int_equal(lp.initrd_addr, 0x38000000u - 5 * MB);
    /* The unpack area is the boot flow's claim; once made, it is avoided. */
    make_header(0x020F, 39, 0x800000);
    put32(img + LX_INIT_SIZE, 0x7F000000);
    assert_int_equal(linux_plan_image(img, sizeof(img), 0x800000, "", &p,
                                      0x9fc00, &lp, &plan, err, sizeof(err)),
                     0);
    assert_int_equal(place_claim(&p, lp.kernel_addr, lp.hdr.kernel_len,
                                 "kernel", NULL), 0);
    assert_int_equal(place_claim(&p, lp.run_start, lp.run_end - lp.run_start,
                                 "unpack", NULL), 0);
    assert_int_equal(lp.run_end, 0x80000000u);
    assert_int_equal(linux_place_initrd(&lp, &p, 5 * MB, err,
                                        sizeof(err)), 0);
    assert_int_equal(lp.initrd_addr, 0x1000000 - 5 * MB);
    assert_int_equal(linux_place_initrd(&lp, &p, 8 * MB, err,
                                        sizeof(err)), -PE_NORAM);
    place_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_parse_modern),
        cmocka_unit_test(test_parse_defaults_202),
        cmocka_unit_test(test_parse_kitten_206),
        cmocka_unit_test(test_old_protocol),
        cmocka_unit_test(test_setup_sects_zero),
        cmocka_unit_test(test_bad_setup_sects),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_truncated_kernel),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_cmdline_size),
        cmocka_unit_test(test_plan_default),
        cmocka_unit_test(test_plan_unpack_area),
        cmocka_unit_test(test_plan_relocated),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_initrd_layout),
        cmocka_unit_test(test_mem_limit),
        cmocka_unit_test(test_initrd_place),
        cmocka_unit_test(test_probe_efi_stub),
        cmocka_unit_test(test_plan_efi_stub),
        cmocka_unit_test(test_format_rule),
        cmocka_unit_test(test_boot_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
