/*
 * Unit tests for mb/mbinfo.c.  The info is built into an ordinary array
 * that stands for physical memory at PHYS, then read back the way a
 * kernel would: follow each physical pointer, walk the mmap by size + 4.
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
#include "mb/mbinfo.h"
#include "mb/multiboot.h"

#define PHYS 0x10000u
#define ALL_FLAGS                                                          \
    (MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP |          \
     MB_INFO_LOADER_NAME | MB_INFO_DRIVES)
/* The Multiboot 0.6.96 info structure, framebuffer fields included. */
#define MBI_LEN 116

/** The buffer being read back and its size: what a kernel can reach. */
static const uint8_t *view;
static size_t view_size;

/** Translate a physical address of @n bytes to the buffer, checking it. */
static const void *at(uint32_t addr, size_t n)
{
    assert_true(addr >= PHYS);
    assert_true((uint64_t)addr - PHYS + n <= view_size);
    return view + (addr - PHYS);
}

/** The NUL-terminated string at physical @addr, checked to end inside. */
static const char *str_at(uint32_t addr)
{
    const char *s = at(addr, 1);

    assert_non_null(memchr(s, '\0', view_size - (addr - PHYS)));
    return s;
}

/** Read the info header back. */
static struct mb_info info_at(uint32_t addr)
{
    struct mb_info info;

    memcpy(&info, at(addr, sizeof(info)), sizeof(info));
    return info;
}

static const struct e820_entry qemu_map[] = {
    { 0x0, 0x9fc00, E820_RAM },
    { 0x9fc00, 0x400, E820_RESERVED },
    { 0xf0000, 0x10000, E820_RESERVED },
    { 0x100000, 0x0, E820_RAM }, /* zero length: dropped */
    { 0x100000, 0x7ee0000, E820_RAM },
    { 0xfffc0000, 0x40000, E820_RESERVED },
    { 0x100000000ull, 0x40000000ull, E820_RAM }, /* above 4 GiB: kept */
};

/** Struct sizes the layout and kernels depend on. */
static void test_struct_sizes(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct mb_info), MBI_LEN);
    assert_int_equal(offsetof(struct mb_info, vbe_mode), 80);
    assert_int_equal(offsetof(struct mb_info, framebuffer_addr), 88);
    assert_int_equal(offsetof(struct mb_info, framebuffer_bpp), 108);
    assert_int_equal(offsetof(struct mb_info, color_info), 110);
    assert_int_equal(sizeof(struct mb_module), 16);
    assert_int_equal(sizeof(struct mb_mmap_entry), 24);
}

/** A full info: every field, string, module and mmap entry. */
static void test_build_full(void **state)
{
    static uint8_t buf[4096];
    static const struct mbi_module mods[] = {
        { 0x200000, 0x201234, "initrd.img root=/dev/ram0" },
        { 0x202000, 0x202000, NULL },
    };
    struct mbi_input in = {
        .mem_lower = 639,
        .mem_upper = 0x7ee0000 / 1024,
        .map = qemu_map,
        .nmap = sizeof(qemu_map) / sizeof(qemu_map[0]),
        .cmdline = "kernel.elf console=ttyS0 debug",
        .mods = mods,
        .nmods = 2,
        .loader_name = "Pulsar 0.1",
    };
    static const uint32_t want_type[] = { 1, 2, 2, 1, 2, 1 };
    static const uint64_t want_base[] = { 0x0, 0x9fc00, 0xf0000, 0x100000,
                                          0xfffc0000, 0x100000000ull };
    static const uint64_t want_len[] = { 0x9fc00, 0x400, 0x10000, 0x7ee0000,
                                         0x40000, 0x40000000ull };
    const struct mb_module *m;
    struct mb_info info;
    uint32_t ebx = 0, e;
    size_t need;
    unsigned i;

    (void)state;
    need = mbi_size(&in);
    /* info + 2 modules + 6 mmap entries + 4 strings with NULs. */
    assert_int_equal(need, MBI_LEN + 2 * 16 + 6 * 24 + 31 + 26 + 1 + 11);
    memset(buf, 0xEE, sizeof(buf));
    assert_int_equal(mbi_build(&in, buf, PHYS, sizeof(buf), &ebx), 0);
    assert_int_equal(ebx, PHYS);
    /* Bytes past the info are not touched. */
    for (i = need; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xEE);

    view = buf;
    view_size = need;
    info = info_at(ebx);
    assert_int_equal(info.flags, ALL_FLAGS);
    assert_int_equal(info.mem_lower, 639);
    assert_int_equal(info.mem_upper, 0x7ee0000 / 1024);
    assert_string_equal(str_at(info.cmdline),
                        "kernel.elf console=ttyS0 debug");
    assert_string_equal(str_at(info.boot_loader_name), "Pulsar 0.1");

    /* Modules. */
    assert_int_equal(info.mods_count, 2);
    assert_int_equal(info.mods_addr % 4, 0);
    m = at(info.mods_addr, 2 * sizeof(*m));
    assert_int_equal(m[0].mod_start, 0x200000);
    assert_int_equal(m[0].mod_end, 0x201234);
    assert_string_equal(str_at(m[0].cmdline), "initrd.img root=/dev/ram0");
    assert_int_equal(m[0].reserved, 0);
    assert_int_equal(m[1].mod_start, 0x202000);
    assert_int_equal(m[1].mod_end, 0x202000);
    assert_string_equal(str_at(m[1].cmdline), "");
    assert_int_equal(m[1].reserved, 0);

    /* The mmap, walked by size + 4 as the spec tells kernels to. */
    assert_int_equal(info.mmap_addr % 4, 0);
    assert_int_equal(info.mmap_length, 6 * 24);
    at(info.mmap_addr, info.mmap_length);
    for (i = 0, e = info.mmap_addr; e < info.mmap_addr + info.mmap_length;
         i++) {
        struct mb_mmap_entry ent;

        memcpy(&ent, at(e, sizeof(ent)), sizeof(ent));
        assert_true(i < 6);
        assert_int_equal(ent.size, 20);
        assert_int_equal(ent.base_addr, want_base[i]);
        assert_int_equal(ent.length, want_len[i]);
        assert_int_equal(ent.type, want_type[i]);
        e += ent.size + 4;
    }
    assert_int_equal(i, 6);
    assert_int_equal(e, info.mmap_addr + info.mmap_length);

    /* The drive list: empty, at a valid address inside the info. */
    assert_int_equal(info.drives_length, 0);
    assert_int_equal(info.drives_addr, info.cmdline);

    /* Everything not asked for reads as zero. */
    assert_int_equal(info.boot_device, 0);
    for (i = 0; i < 4; i++)
        assert_int_equal(info.syms[i], 0);
    assert_int_equal(info.framebuffer_addr, 0);
    assert_int_equal(info.framebuffer_type, 0);
    assert_int_equal(info.config_table, 0);
    assert_int_equal(info.apm_table, 0);
    assert_int_equal(info.vbe_control_info, 0);
    assert_int_equal(info.vbe_mode_info, 0);
    assert_int_equal(info.vbe_mode, 0);
    assert_int_equal(info.vbe_interface_seg, 0);
    assert_int_equal(info.vbe_interface_off, 0);
    assert_int_equal(info.vbe_interface_len, 0);

    /* The exact layout: info, modules, mmap, strings in order. */
    assert_int_equal(info.mods_addr, PHYS + MBI_LEN);
    assert_int_equal(info.mmap_addr, PHYS + MBI_LEN + 32);
    assert_int_equal(info.cmdline, PHYS + MBI_LEN + 32 + 144);
    assert_int_equal(m[0].cmdline, info.cmdline + 31);
    assert_int_equal(m[1].cmdline, m[0].cmdline + 26);
    assert_int_equal(info.boot_loader_name, m[1].cmdline + 1);
}

/** A buffer one byte short is refused and left untouched. */
static void test_too_small(void **state)
{
    static uint8_t buf[1024];
    struct mbi_input in = {
        .map = qemu_map,
        .nmap = 3,
        .cmdline = "k",
        .loader_name = "Pulsar",
    };
    uint32_t ebx = 0x1234;
    size_t need;
    unsigned i;

    (void)state;
    need = mbi_size(&in);
    assert_int_equal(need, MBI_LEN + 3 * 24 + 2 + 7);
    memset(buf, 0xEE, sizeof(buf));
    assert_int_equal(mbi_build(&in, buf, PHYS, need - 1, &ebx), -PE_NOMEM);
    assert_int_equal(mbi_build(&in, buf, PHYS, 0, &ebx), -PE_NOMEM);
    for (i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xEE);
    assert_int_equal(ebx, 0x1234);
    /* Exactly the size is enough. */
    assert_int_equal(mbi_build(&in, buf, PHYS, need, &ebx), 0);
    assert_int_equal(buf[need], 0xEE);
}

/** No modules: MODS still set with a count of 0; NULL strings are "". */
static void test_no_modules(void **state)
{
    static uint8_t buf[512];
    struct mbi_input in = {
        .mem_lower = 640,
        .mem_upper = 1024,
        .map = NULL,
        .nmap = 0,
        .cmdline = NULL,
        .mods = NULL,
        .nmods = 0,
        .loader_name = NULL,
    };
    struct mb_info info;
    uint32_t ebx = 0;
    size_t need;

    (void)state;
    need = mbi_size(&in);
    assert_int_equal(need, MBI_LEN + 2); /* two empty strings */
    assert_int_equal(mbi_build(&in, buf, PHYS, sizeof(buf), &ebx), 0);
    view = buf;
    view_size = need;
    info = info_at(ebx);
    assert_int_equal(info.flags, ALL_FLAGS);
    assert_int_equal(info.mods_count, 0);
    assert_int_equal(info.mmap_length, 0);
    assert_string_equal(str_at(info.cmdline), "");
    assert_string_equal(str_at(info.boot_loader_name), "");
    assert_int_equal(info.mem_lower, 640);
    assert_int_equal(info.mem_upper, 1024);
}

/** 1000 modules with long command lines: no arbitrary limit. */
static void test_many_modules(void **state)
{
    enum { NMODS = 1000, CMDLEN = 300 };
    struct mbi_module *mods;
    char *names;
    uint8_t *buf;
    struct mbi_input in = {
        .map = qemu_map,
        .nmap = 2,
        .cmdline = "kernel",
        .loader_name = "Pulsar",
    };
    const struct mb_module *m;
    struct mb_info info;
    uint32_t ebx = 0;
    size_t need;
    unsigned i;

    (void)state;
    mods = calloc(NMODS, sizeof(*mods));
    names = malloc((size_t)NMODS * (CMDLEN + 1));
    assert_non_null(mods);
    assert_non_null(names);
    for (i = 0; i < NMODS; i++) {
        char *s = names + (size_t)i * (CMDLEN + 1);

        /* Distinct per module, padded to CMDLEN characters. */
        memset(s, 'a' + i % 26, CMDLEN);
        s[CMDLEN] = '\0';
        snprintf(s, 16, "mod%04u.bin", i);
        s[strlen(s)] = ' ';
        mods[i].start = 0x1000000 + i * 0x2000;
        mods[i].end = mods[i].start + 0x1000 + i;
        mods[i].cmdline = s;
    }
    in.mods = mods;
    in.nmods = NMODS;

    need = mbi_size(&in);
    assert_int_equal(need, MBI_LEN + NMODS * 16 + 2 * 24 + 7 +
                               NMODS * (CMDLEN + 1) + 7);
    buf = malloc(need);
    assert_non_null(buf);
    assert_int_equal(mbi_build(&in, buf, PHYS, need, &ebx), 0);
    view = buf;
    view_size = need;
    info = info_at(ebx);
    assert_int_equal(info.mods_count, NMODS);
    m = at(info.mods_addr, NMODS * sizeof(*m));
    for (i = 0; i < NMODS; i++) {
        const char *s = str_at(m[i].cmdline);

        assert_int_equal(m[i].mod_start, 0x1000000 + i * 0x2000);
        assert_int_equal(m[i].mod_end, 0x1000000 + i * 0x2000 + 0x1000 + i);
        assert_int_equal(strlen(s), CMDLEN);
        assert_string_equal(s, mods[i].cmdline);
    }
    assert_string_equal(str_at(info.cmdline), "kernel");
    assert_string_equal(str_at(info.boot_loader_name), "Pulsar");
    free(buf);
    free(names);
    free(mods);
}

/** An info that would cross 4 GiB is refused: pointers would wrap. */
static void test_crosses_4g(void **state)
{
    static uint8_t buf[512];
    struct mbi_input in = { .cmdline = "k", .loader_name = "P" };
    uint32_t ebx = 0;
    size_t need;

    (void)state;
    need = mbi_size(&in);
    assert_int_equal(mbi_build(&in, buf, (uint32_t)(0x100000000ull - need + 1),
                               sizeof(buf), &ebx), -PE_RANGE);
    assert_int_equal(mbi_build(&in, buf, (uint32_t)(0x100000000ull - need),
                               sizeof(buf), &ebx), 0);
    assert_int_equal(ebx, (uint32_t)(0x100000000ull - need));
    /* info_phys may be NULL. */
    assert_int_equal(mbi_build(&in, buf, PHYS, sizeof(buf), NULL), 0);
}

/** Section headers, config table, VBE and framebuffer: bits 5, 8, 11, 12. */
static void test_optional_fields(void **state)
{
    static uint8_t buf[4096];
    static struct mbi_video v;
    struct mbi_input in = { .cmdline = "k", .loader_name = "Pulsar 0.1" };
    struct mb_info info;
    const uint8_t *blk;
    uint32_t ebx;
    size_t need;
    unsigned i;

    (void)state;
    in.has_syms = true;
    in.syms[0] = 12;       /* num */
    in.syms[1] = 40;       /* size */
    in.syms[2] = 0x200000; /* addr: handed in, copied as is */
    in.syms[3] = 11;       /* shndx */
    in.config_table = 0xFE6F5;
    memset(&v, 0, sizeof(v));
    v.has_vbe = true;
    for (i = 0; i < 512; i++)
        v.control[i] = (uint8_t)i;
    for (i = 0; i < 256; i++)
        v.mode[i] = (uint8_t)(255 - i);
    v.mode_nr = 0x118;
    v.if_seg = 0xC000;
    v.if_off = 0x1234;
    v.if_len = 0x56;
    v.has_fb = true;
    v.fb_addr = 0xFD000000;
    v.fb_pitch = 3200;
    v.fb_width = 800;
    v.fb_height = 600;
    v.fb_bpp = 32;
    v.fb_type = MB_FB_RGB;
    memcpy(v.fb_color, "\x10\x08\x08\x08\x00\x08", 6);
    in.video = &v;
    need = mbi_size(&in);
    assert_int_equal(need, MBI_LEN + 768 + 2 + 11);
    assert_int_equal(mbi_build(&in, buf, PHYS, need, &ebx), 0);
    view = buf;
    view_size = need;
    info = info_at(ebx);
    assert_int_equal(info.flags, ALL_FLAGS | MB_INFO_ELF_SHDR |
                                     MB_INFO_CONFIG_TABLE | MB_INFO_VBE |
                                     MB_INFO_FRAMEBUFFER);
    assert_int_equal(info.syms[0], 12);
    assert_int_equal(info.syms[1], 40);
    assert_int_equal(info.syms[2], 0x200000);
    assert_int_equal(info.syms[3], 11);
    assert_int_equal(info.config_table, 0xFE6F5);
    blk = at(info.vbe_control_info, 512);
    assert_memory_equal(blk, v.control, 512);
    blk = at(info.vbe_mode_info, 256);
    assert_memory_equal(blk, v.mode, 256);
    assert_int_equal(info.vbe_mode, 0x118);
    assert_int_equal(info.vbe_interface_seg, 0xC000);
    assert_int_equal(info.vbe_interface_off, 0x1234);
    assert_int_equal(info.vbe_interface_len, 0x56);
    assert_true(info.framebuffer_addr == 0xFD000000ull);
    assert_int_equal(info.framebuffer_pitch, 3200);
    assert_int_equal(info.framebuffer_width, 800);
    assert_int_equal(info.framebuffer_height, 600);
    assert_int_equal(info.framebuffer_bpp, 32);
    assert_int_equal(info.framebuffer_type, MB_FB_RGB);
    assert_memory_equal(info.color_info, v.fb_color, 6);
    assert_string_equal(str_at(info.boot_loader_name), "Pulsar 0.1");

    /* Text mode: a framebuffer (EGA text) without VBE blocks. */
    memset(&v, 0, sizeof(v));
    v.has_fb = true;
    v.fb_addr = 0xB8000;
    v.fb_type = MB_FB_EGA_TEXT;
    in.has_syms = false;
    in.config_table = 0;
    need = mbi_size(&in);
    assert_int_equal(need, MBI_LEN + 2 + 11);
    assert_int_equal(mbi_build(&in, buf, PHYS, need, &ebx), 0);
    info = info_at(ebx);
    assert_int_equal(info.flags, ALL_FLAGS | MB_INFO_FRAMEBUFFER);
    assert_int_equal(info.vbe_control_info, 0);
    assert_int_equal(info.framebuffer_type, MB_FB_EGA_TEXT);
}

/** Run every test in this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_struct_sizes),
        cmocka_unit_test(test_build_full),
        cmocka_unit_test(test_too_small),
        cmocka_unit_test(test_no_modules),
        cmocka_unit_test(test_many_modules),
        cmocka_unit_test(test_crosses_4g),
        cmocka_unit_test(test_optional_fields),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
