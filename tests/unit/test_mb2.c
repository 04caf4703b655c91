/*
 * Unit tests for Multiboot2: the header parser (loader/mb2hdr.c), its
 * planner and relocation (image_plan_multiboot2, plan_kernel_mb2), the
 * firmware-table search (mb/fwtables.c) and the info builder
 * (mb/mb2info.c), read back as a kernel would walk the tags.
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
#include "lib/endian.h"
#include "lib/errno.h"
#include "loader/format.h"
#include "loader/image.h"
#include "loader/mb2hdr.h"
#include "loader/plan.h"
#include "mb/fwtables.h"
#include "mb/mb2info.h"

#define FILE_LEN 0x3000u
#define LOAD 0x100000u

/** A flat kernel file being assembled: header at @hdr, tags appended. */
struct mk {
    uint8_t b[FILE_LEN];
    uint32_t hdr, pos;
};

/** Start a header at file offset @off. */
static void mk_start(struct mk *m, uint32_t off)
{
    memset(m->b, 0x90, sizeof(m->b));
    m->hdr = off;
    m->pos = off + 16;
    put_le32(m->b + off, MB2_HEADER_MAGIC);
    put_le32(m->b + off + 4, 0);
}

/** Append a tag with @n 32-bit words of payload. */
static void mk_tag(struct mk *m, uint16_t type, uint16_t flags,
                   const uint32_t *words, unsigned n)
{
    m->b[m->pos] = (uint8_t)type;
    m->b[m->pos + 1] = (uint8_t)(type >> 8);
    m->b[m->pos + 2] = (uint8_t)flags;
    m->b[m->pos + 3] = (uint8_t)(flags >> 8);
    put_le32(m->b + m->pos + 4, 8 + 4 * n);
    for (unsigned i = 0; i < n; i++)
        put_le32(m->b + m->pos + 8 + 4 * i, words[i]);
    m->pos += (8 + 4 * n + 7) & ~7u;
}

/** End the header: the end tag, the length and the checksum. */
static void mk_end(struct mk *m)
{
    uint32_t len;

    mk_tag(m, 0, 0, NULL, 0);
    len = m->pos - m->hdr;
    put_le32(m->b + m->hdr + 8, len);
    put_le32(m->b + m->hdr + 12, -(MB2_HEADER_MAGIC + 0 + len));
}

/** A flat kernel with address and entry tags at offset 0x100. */
static void mk_flat(struct mk *m)
{
    uint32_t addr[4] = { LOAD + 0x100, LOAD, 0, LOAD + 0x5000 };
    uint32_t entry = LOAD + 0x800;

    mk_start(m, 0x100);
    mk_tag(m, MB2_HTAG_ADDRESS, 0, addr, 4);
    mk_tag(m, MB2_HTAG_ENTRY, 0, &entry, 1);
}

/** Parse @m's bytes; the message lands in @err. */
static int parse(struct mk *m, struct mb2_header *h, char *err)
{
    return mb2_parse_header(m->b, FILE_LEN, MB2_BIOS_GIVES, h, err, 200);
}

static void test_header_valid(void **state)
{
    struct mk m;
    struct mb2_header h;
    char err[200] = "";
    uint32_t req[3] = { 1, 3, 6 }, fb[3] = { 1024, 768, 32 };
    uint32_t reloc[4] = { 0x200000, 0x10000000, 0x200000, 2 };

    (void)state;
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_INFO_REQ, 0, req, 3);
    mk_tag(&m, MB2_HTAG_FRAMEBUFFER, 1, fb, 3);
    mk_tag(&m, MB2_HTAG_MODULE_ALIGN, 0, NULL, 0);
    mk_tag(&m, MB2_HTAG_RELOCATABLE, 0, reloc, 4);
    mk_tag(&m, 99, 1, req, 1); /* unknown but optional: skipped */
    mk_end(&m);
    assert_int_equal(parse(&m, &h, err), 0);
    assert_int_equal(h.offset, 0x100);
    assert_true(h.has_address && h.has_entry && h.has_fb && h.mod_align);
    assert_int_equal(h.entry, LOAD + 0x800);
    assert_int_equal(h.fb_width, 1024);
    assert_int_equal(h.requested, (1u << 1) | (1u << 3) | (1u << 6));
    assert_true(h.relocatable);
    assert_int_equal(h.reloc_align, 0x200000);
    assert_int_equal(h.reloc_pref, MB2_RELOC_HIGHEST);
}

static void test_header_errors(void **state)
{
    struct mk m;
    struct mb2_header h;
    char err[200];
    uint32_t req[2] = { 6, 17 }, w = 0;

    (void)state;
    memset(m.b, 0, sizeof(m.b));
    assert_int_equal(parse(&m, &h, err), -PE_NOEXEC);
    assert_string_equal(err, "no multiboot2 header in the first 32768 bytes");

    /* Not 8-byte aligned: not found. */
    mk_flat(&m);
    mk_end(&m);
    memmove(m.b + 0x104, m.b + 0x100, 0x100);
    memset(m.b + 0x100, 0, 4);
    assert_int_equal(parse(&m, &h, err), -PE_NOEXEC);

    mk_flat(&m);
    mk_end(&m);
    m.b[0x10C] ^= 1;
    assert_int_equal(parse(&m, &h, err), -PE_INVAL);
    assert_string_equal(err, "multiboot2 header at 0x100: bad checksum");

    mk_flat(&m);
    mk_end(&m);
    put_le32(m.b + 0x104, 4); /* MIPS */
    put_le32(m.b + 0x10C, le32(m.b + 0x10C) - 4);
    assert_int_equal(parse(&m, &h, err), -PE_UNSUPP);
    assert_string_equal(err, "multiboot2 header at 0x100: architecture 4 is "
                             "not i386 (0)");

    /* A required request for a tag a BIOS cannot give, by name. */
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_INFO_REQ, 0, req, 2);
    mk_end(&m);
    assert_int_equal(parse(&m, &h, err), -PE_UNSUPP);
    assert_string_equal(err, "multiboot2 header at 0x100: the kernel "
                             "requires the EFI memory map information tag "
                             "(type 17), which Pulsar cannot give here");
    /* The same request marked optional is fine. */
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_INFO_REQ, 1, req, 2);
    mk_end(&m);
    assert_int_equal(parse(&m, &h, err), 0);

    /* An unknown required header tag, by number. */
    mk_flat(&m);
    mk_tag(&m, 42, 0, &w, 1);
    mk_end(&m);
    assert_int_equal(parse(&m, &h, err), -PE_UNSUPP);
    assert_string_equal(err, "multiboot2 header tag at 0x138: type 42 is "
                             "unknown to Pulsar and not marked optional");

    /* A tag shorter than its type needs. */
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_RELOCATABLE, 0, &w, 1);
    mk_end(&m);
    assert_int_equal(parse(&m, &h, err), -PE_INVAL);
    assert_string_equal(err, "multiboot2 header tag at 0x138: type 10 needs "
                             "24 bytes, has 12");

    /* A tag size running past header_length. */
    mk_flat(&m);
    mk_end(&m);
    put_le32(m.b + 0x114, 0x1000);
    assert_int_equal(parse(&m, &h, err), -PE_INVAL);
    assert_string_equal(err, "multiboot2 header tag at 0x110: size 4096 is "
                             "outside the header (48 bytes left)");

    /* header_length past the buffer. */
    mk_flat(&m);
    mk_end(&m);
    put_le32(m.b + 0x108, 0x100000);
    put_le32(m.b + 0x10C, -(MB2_HEADER_MAGIC + 0x100000));
    assert_int_equal(mb2_parse_header(m.b, 0x200, MB2_BIOS_GIVES, &h, err,
                                      200), -PE_INVAL);
    assert_string_equal(err, "multiboot2 header at 0x100: length 1048576 is "
                             "not between 24 and the 256 bytes left of the "
                             "first 512");

    /* No end tag: the last tag fills the header. */
    mk_flat(&m);
    put_le32(m.b + 0x108, m.pos - 0x100);
    put_le32(m.b + 0x10C, -(MB2_HEADER_MAGIC + (m.pos - 0x100)));
    assert_int_equal(parse(&m, &h, err), -PE_INVAL);
    assert_string_equal(err, "multiboot2 header at 0x100: no end tag within "
                             "its 56 bytes");

    /* Relocatable: alignment not a power of two. */
    {
        uint32_t reloc[4] = { 0x200000, 0x10000000, 0x3000, 0 };

        mk_flat(&m);
        mk_tag(&m, MB2_HTAG_RELOCATABLE, 0, reloc, 4);
        mk_end(&m);
        assert_int_equal(parse(&m, &h, err), -PE_INVAL);
        assert_string_equal(err, "multiboot2 header at 0x100: relocatable "
                                 "tag: alignment 0x3000 is not a power of "
                                 "two");
    }
    /* A console required without EGA text and no framebuffer asked. */
    {
        uint32_t cons = 1;

        mk_flat(&m);
        mk_tag(&m, MB2_HTAG_CONSOLE, 0, &cons, 1);
        mk_end(&m);
        assert_int_equal(parse(&m, &h, err), -PE_UNSUPP);
    }
}

static void test_plan_address_tag(void **state)
{
    struct mk m;
    struct image_plan plan;
    char err[200] = "";

    (void)state;
    mk_flat(&m);
    mk_end(&m);
    assert_int_equal(image_plan_multiboot2(m.b, FILE_LEN, FILE_LEN,
                                           MB2_BIOS_GIVES, &plan, err, 200),
                     0);
    assert_string_equal(plan.format, "multiboot2 address tag");
    assert_true(plan.is_mb2);
    assert_int_equal(plan.nseg, 1);
    assert_int_equal(plan.seg[0].dest, LOAD);
    assert_int_equal(plan.seg[0].file_off, 0);
    assert_int_equal(plan.seg[0].filesz, FILE_LEN);
    assert_int_equal(plan.seg[0].memsz, 0x5000);
    assert_int_equal(plan.entry, LOAD + 0x800);

    /* Entry outside the image: refused as for the a.out kludge. */
    put_le32(m.b + 0x100 + 16 + 24 + 8, LOAD + 0x9000);
    assert_int_equal(image_plan_multiboot2(m.b, FILE_LEN, FILE_LEN,
                                           MB2_BIOS_GIVES, &plan, err, 200),
                     -PE_INVAL);
    assert_non_null(strstr(err, "entry_addr 0x109000 is outside"));
}

/** A placer over 0-640 KiB and 1 MiB-256 MiB. */
static void placer(struct placer *p)
{
    static const struct e820_entry map[2] = {
        { 0, 0x9FC00, E820_RAM }, { 0x100000, 0xFF00000, E820_RAM } };

    assert_int_equal(place_init(p, map, 2), 0);
}

static void test_relocate(void **state)
{
    struct mk m;
    struct image_plan plan;
    struct placer p;
    struct cfg_item it = { .kind = CFG_EXEC, .name = "k", .path = "k",
                           .src_file = "cfg", .src_line = 1 };
    char err[200] = "";
    uint32_t reloc[4] = { 0x200000, 0x8000000, 0x200000, 0 };

    (void)state;
    /* Lowest: the first 2 MiB boundary at or above min. */
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_RELOCATABLE, 0, reloc, 4);
    mk_end(&m);
    placer(&p);
    assert_int_equal(plan_kernel_mb2(&p, &it, m.b, FILE_LEN, FILE_LEN,
                                     MB2_BIOS_GIVES, &plan, err, 200), 0);
    assert_true(plan.relocated);
    assert_int_equal(plan.load_base, 0x200000);
    assert_int_equal(plan.seg[0].dest, 0x200000);
    assert_int_equal(plan.entry, 0x200800);
    place_fini(&p);

    /* Highest: the image ends at or below max_addr + 1. */
    reloc[2] = 0x1000;
    reloc[3] = MB2_RELOC_HIGHEST;
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_RELOCATABLE, 0, reloc, 4);
    mk_end(&m);
    placer(&p);
    assert_int_equal(plan_kernel_mb2(&p, &it, m.b, FILE_LEN, FILE_LEN,
                                     MB2_BIOS_GIVES, &plan, err, 200), 0);
    assert_int_equal(plan.load_base, 0x8000000 - 0x5000);
    assert_int_equal(plan.highest, plan.load_base + 0x5000);
    place_fini(&p);

    /* No room in [min, max]. */
    reloc[0] = 0x10000000;
    reloc[1] = 0x20000000;
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_RELOCATABLE, 0, reloc, 4);
    mk_end(&m);
    placer(&p);
    assert_int_equal(plan_kernel_mb2(&p, &it, m.b, FILE_LEN, FILE_LEN,
                                     MB2_BIOS_GIVES, &plan, err, 200),
                     -PE_NORAM);
    assert_non_null(strstr(err, "no room for the relocatable image's 0x5000 "
                                "bytes at alignment 0x1000 in "
                                "0x10000000-0x20000000"));
    place_fini(&p);
}

/** How a header is entered on UEFI (mb2_efi_entry): tag 7 keeps the
 *  boot services only with a 64-bit way in (tag 9, or an ELF64 image). */
static void test_efi_entry(void **state)
{
    struct mk m;
    struct mb2_header h;
    char err[200] = "";
    uint32_t entry64 = LOAD + 0x900;

    (void)state;
    mk_flat(&m); /* the address tag: its entry is 32-bit code */
    mk_end(&m);
    assert_int_equal(parse(&m, &h, err), 0);
    assert_int_equal(mb2_efi_entry(&h, m.b, FILE_LEN), MB2_EFI_EXIT32);
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_EFI_BS, 0, NULL, 0);
    mk_end(&m);
    assert_int_equal(parse(&m, &h, err), 0);
    assert_int_equal(mb2_efi_entry(&h, m.b, FILE_LEN), MB2_EFI_EXIT32);
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_EFI_BS, 0, NULL, 0);
    mk_tag(&m, MB2_HTAG_ENTRY_EFI64, 0, &entry64, 1);
    mk_end(&m);
    assert_int_equal(parse(&m, &h, err), 0);
    assert_int_equal(mb2_efi_entry(&h, m.b, FILE_LEN), MB2_EFI_BS_EFI64);
    assert_int_equal(h.efi64_entry, LOAD + 0x900);

    /* No address tag: the ELF class decides (only the ident is read). */
    mk_start(&m, 0x100);
    mk_tag(&m, MB2_HTAG_EFI_BS, 0, NULL, 0);
    mk_end(&m);
    memcpy(m.b, "\177ELF\002", 5);
    assert_int_equal(parse(&m, &h, err), 0);
    assert_int_equal(mb2_efi_entry(&h, m.b, FILE_LEN), MB2_EFI_BS_ELF64);
    m.b[4] = 1; /* ELFCLASS32 */
    assert_int_equal(mb2_efi_entry(&h, m.b, FILE_LEN), MB2_EFI_EXIT32);
    assert_non_null(strstr(mb2_efi_mode_str(MB2_EFI_BS_ELF64), "ELF64"));
}

/** The UEFI row plans with the EFI tags, the BIOS row without; a forced
 *  Multiboot2 never takes the UEFI row on a BIOS. */
static void test_efi_row(void **state)
{
    struct mk m;
    struct image_plan plan;
    struct placer p;
    struct cfg_item it = { .kind = CFG_EXEC, .name = "k", .path = "k",
                           .src_file = "cfg", .src_line = 1 };
    const struct kernel_format *efi, *bios;
    char err[200] = "";
    uint32_t req17 = MB2_TAG_EFI_MMAP, req20 = MB2_TAG_EFI64_IH;
    uint32_t req7 = MB2_TAG_VBE;

    (void)state;
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_INFO_REQ, 0, &req17, 1);
    mk_end(&m);
    efi = format_probe(m.b, FILE_LEN, true, 0);
    bios = format_probe(m.b, FILE_LEN, false, 0);
    assert_int_equal(efi->handoff, HANDOFF_MULTIBOOT2);
    assert_int_equal(bios->handoff, HANDOFF_MULTIBOOT2);
    assert_true(efi->uefi_only);
    assert_false(bios->uefi_only);
    placer(&p);
    assert_int_equal(efi->plan(&p, &it, m.b, FILE_LEN, FILE_LEN, &plan, NULL,
                               err, sizeof(err)), 0);
    place_fini(&p);
    placer(&p);
    assert_int_equal(bios->plan(&p, &it, m.b, FILE_LEN, FILE_LEN, &plan,
                                NULL, err, sizeof(err)), -PE_UNSUPP);
    assert_non_null(strstr(err, "EFI memory map information tag (type 17)"));
    place_fini(&p);

    /* Tag 20 only to a kernel that keeps the boot services; no VBE. */
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_INFO_REQ, 0, &req20, 1);
    mk_end(&m);
    placer(&p);
    assert_int_equal(efi->plan(&p, &it, m.b, FILE_LEN, FILE_LEN, &plan, NULL,
                               err, sizeof(err)), -PE_UNSUPP);
    place_fini(&p);
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_INFO_REQ, 0, &req20, 1);
    mk_tag(&m, MB2_HTAG_EFI_BS, 0, NULL, 0);
    mk_end(&m);
    placer(&p);
    assert_int_equal(efi->plan(&p, &it, m.b, FILE_LEN, FILE_LEN, &plan, NULL,
                               err, sizeof(err)), 0);
    place_fini(&p);
    mk_flat(&m);
    mk_tag(&m, MB2_HTAG_INFO_REQ, 0, &req7, 1);
    mk_end(&m);
    placer(&p);
    assert_int_equal(efi->plan(&p, &it, m.b, FILE_LEN, FILE_LEN, &plan, NULL,
                               err, sizeof(err)), -PE_UNSUPP);
    assert_non_null(strstr(err, "VBE information tag (type 7)"));
    place_fini(&p);

    /* Forced Multiboot2 on a file without the header. */
    memset(m.b, 0, sizeof(m.b));
    assert_false(format_probe(m.b, FILE_LEN, false, 2)->uefi_only);
    assert_int_equal(format_probe(m.b, FILE_LEN, false, 2)->multiboot, 2);
    assert_true(format_probe(m.b, FILE_LEN, true, 2)->uefi_only);
}

/** Sum bytes to a zero checksum at @at. */
static void fix_sum(uint8_t *p, size_t n, size_t at)
{
    uint8_t s = 0;

    p[at] = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    p[at] = (uint8_t)-s;
}

static void test_fwtables(void **state)
{
    static uint8_t area[0x200];
    struct fw_table t;

    (void)state;
    memset(area, 0, sizeof(area));
    assert_int_equal(fw_find_rsdp(area, sizeof(area), &t), -PE_NOENT);
    /* A signature with a bad checksum first, then a good v2 RSDP. */
    memcpy(area + 0x10, "RSD PTR ", 8);
    area[0x18] = 1;
    memcpy(area + 0x40, "RSD PTR ", 8);
    area[0x40 + 15] = 2;
    put_le32(area + 0x40 + 20, 36);
    fix_sum(area + 0x40, 20, 8);
    fix_sum(area + 0x40, 36, 32);
    assert_int_equal(fw_find_rsdp(area, sizeof(area), &t), 0);
    assert_int_equal(t.off, 0x40);
    assert_int_equal(t.len, 36);
    assert_int_equal(t.major, 2);
    /* Not on a 16-byte boundary: not found. */
    assert_int_equal(fw_find_rsdp(area + 8, sizeof(area) - 8, &t),
                     -PE_NOENT);

    memcpy(area + 0x100, "_SM_", 4);
    area[0x105] = 31;
    area[0x106] = 2;
    area[0x107] = 8;
    fix_sum(area + 0x100, 31, 4);
    assert_int_equal(fw_find_smbios(area, sizeof(area), &t), 0);
    assert_int_equal(t.off, 0x100);
    assert_int_equal(t.len, 31);
    assert_int_equal(t.major, 2);
    assert_int_equal(t.minor, 8);
    /* A length running past the area is never passed on. */
    area[0x105] = 0xFF;
    fix_sum(area + 0x100, 31, 4);
    assert_int_equal(fw_find_smbios(area, 0x120, &t), -PE_NOENT);
}

#define PHYS 0x20000u

/** The tag of @type in the info @b, or NULL; checks the walk. */
static const uint8_t *find_tag(const uint8_t *b, uint32_t type, unsigned nth)
{
    uint32_t total = le32(b), off = 8;

    while (off + 8 <= total) {
        uint32_t t = le32(b + off), size = le32(b + off + 4);

        assert_true(off % 8 == 0);
        assert_true(size >= 8 && off + size <= total);
        if (t == type && nth-- == 0)
            return b + off;
        if (t == 0)
            return NULL;
        off += (size + 7) & ~7u;
    }
    fail_msg("no end tag");
    return NULL;
}

static void test_info(void **state)
{
    static const struct e820_entry map[3] = {
        { 0, 0x9FC00, E820_RAM }, { 0xF0000, 0, 2 },
        { 0x100000, 0x7F00000, E820_RAM } };
    static const struct mbi_module mods[2] = {
        { 0x200000, 0x300000, "m1 arg" }, { 0x300000, 0x300010, NULL } };
    static const uint8_t ack[300] = { 2, 1, 6 };
    static const uint8_t rsdp[20] = "RSD PTR ";
    static struct mbi_video v;
    struct mb2i_input in;
    uint8_t *buf;
    const uint8_t *t;
    size_t size;

    (void)state;
    memset(&in, 0, sizeof(in));
    in.cmdline = "kernel a=b";
    in.loader_name = "Pulsar";
    in.mods = mods;
    in.nmods = 2;
    in.mem_lower = 639;
    in.mem_upper = 130048;
    in.map = map;
    in.nmap = 3;
    in.map_room = 8;
    in.dhcp_ack.data = ack;
    in.dhcp_ack.len = sizeof(ack);
    in.rsdp_old.data = rsdp;
    in.rsdp_old.len = 20;
    in.has_load_base = true;
    in.load_base = 0x200000;
    v.has_fb = true;
    v.fb_addr = 0xFD000000;
    v.fb_pitch = 4096;
    v.fb_width = 1024;
    v.fb_height = 768;
    v.fb_bpp = 32;
    v.fb_type = 1;
    memcpy(v.fb_color, "\x10\x08\x08\x08\x00\x08", 6);
    in.video = &v;
    size = mb2i_size(&in);
    assert_true(size % 8 == 0);
    buf = calloc(1, size);
    assert_int_equal(mb2i_build(&in, buf, PHYS + 4, size), -PE_INVAL);
    /* The room for 8 map entries is spare: 2 are used. */
    assert_int_equal(mb2i_build(&in, buf, PHYS, size - 6 * 24 - 8),
                     -PE_NOMEM);
    assert_int_equal(mb2i_build(&in, buf, 0xFFFFFF00, size), -PE_RANGE);
    assert_int_equal(mb2i_build(&in, buf, PHYS, size), 0);
    /* Two map entries fewer than room for 8: total_size is what is used. */
    assert_int_equal(le32(buf), size - 6 * 24);

    assert_non_null(t = find_tag(buf, MB2_TAG_CMDLINE, 0));
    assert_string_equal((const char *)t + 8, "kernel a=b");
    assert_int_equal(le32(t + 4), 8 + 11);
    assert_non_null(t = find_tag(buf, MB2_TAG_LOADER, 0));
    assert_string_equal((const char *)t + 8, "Pulsar");
    assert_non_null(t = find_tag(buf, MB2_TAG_MODULE, 0));
    assert_int_equal(le32(t + 8), 0x200000);
    assert_int_equal(le32(t + 12), 0x300000);
    assert_string_equal((const char *)t + 16, "m1 arg");
    assert_non_null(t = find_tag(buf, MB2_TAG_MODULE, 1));
    assert_string_equal((const char *)t + 16, "");
    assert_null(find_tag(buf, MB2_TAG_MODULE, 2));
    assert_non_null(t = find_tag(buf, MB2_TAG_MEMINFO, 0));
    assert_int_equal(le32(t + 8), 639);
    assert_int_equal(le32(t + 12), 130048);
    assert_non_null(t = find_tag(buf, MB2_TAG_MMAP, 0));
    assert_int_equal(le32(t + 4), 16 + 2 * 24); /* the empty entry is out */
    assert_int_equal(le32(t + 8), 24);
    assert_int_equal(le32(t + 12), 0);
    assert_int_equal(le64(t + 16 + 24), 0x100000);
    assert_int_equal(le64(t + 16 + 24 + 8), 0x7F00000);
    assert_int_equal(le32(t + 16 + 24 + 16), E820_RAM);
    assert_non_null(t = find_tag(buf, MB2_TAG_FRAMEBUFFER, 0));
    assert_int_equal(le32(t + 4), 32 + 6);
    assert_int_equal(le64(t + 8), 0xFD000000);
    assert_int_equal(t[28], 32);
    assert_int_equal(t[29], 1);
    assert_memory_equal(t + 32, "\x10\x08\x08\x08\x00\x08", 6);
    assert_null(find_tag(buf, MB2_TAG_VBE, 0)); /* has_vbe clear */
    assert_non_null(t = find_tag(buf, MB2_TAG_NETWORK, 0));
    assert_int_equal(le32(t + 4), 8 + sizeof(ack));
    assert_memory_equal(t + 8, ack, sizeof(ack));
    assert_non_null(t = find_tag(buf, MB2_TAG_ACPI_OLD, 0));
    assert_memory_equal(t + 8, rsdp, 20);
    assert_null(find_tag(buf, MB2_TAG_ACPI_NEW, 0));
    assert_null(find_tag(buf, MB2_TAG_SMBIOS, 0));
    assert_non_null(t = find_tag(buf, MB2_TAG_LOAD_BASE, 0));
    assert_int_equal(le32(t + 8), 0x200000);
    assert_non_null(find_tag(buf, MB2_TAG_END, 0));
    free(buf);
}

/** The UEFI face's tags: system table, EFI map, boot services, handle. */
static void test_info_efi(void **state)
{
    static const uint8_t emap[96] = { 7, 0, 0, 0 };
    struct mb2i_input in;
    uint8_t *buf;
    const uint8_t *t;
    size_t size;

    (void)state;
    memset(&in, 0, sizeof(in));
    in.has_efi64_st = true;
    in.efi64_st = 0x7F9E0018ull;
    in.efi_mmap.data = emap;
    in.efi_mmap.len = sizeof(emap);
    in.efi_desc_size = 48;
    in.efi_desc_version = 1;
    in.efi_bs_kept = true;
    in.has_efi64_ih = true;
    in.efi64_ih = 0x7E5C1234ull;
    size = mb2i_size(&in);
    buf = calloc(1, size);
    assert_int_equal(mb2i_build(&in, buf, PHYS, size), 0);
    assert_non_null(t = find_tag(buf, MB2_TAG_EFI64, 0));
    assert_int_equal(le32(t + 4), 16);
    assert_int_equal(le64(t + 8), 0x7F9E0018ull);
    assert_non_null(t = find_tag(buf, MB2_TAG_EFI_MMAP, 0));
    assert_int_equal(le32(t + 4), 16 + sizeof(emap));
    assert_int_equal(le32(t + 8), 48);
    assert_int_equal(le32(t + 12), 1);
    assert_memory_equal(t + 16, emap, sizeof(emap));
    assert_non_null(t = find_tag(buf, MB2_TAG_EFI_BS, 0));
    assert_int_equal(le32(t + 4), 8);
    assert_non_null(t = find_tag(buf, MB2_TAG_EFI64_IH, 0));
    assert_int_equal(le64(t + 8), 0x7E5C1234ull);
    /* None of them on a BIOS input. */
    memset(&in, 0, sizeof(in));
    size = mb2i_size(&in);
    assert_int_equal(mb2i_build(&in, buf, PHYS, size), 0);
    assert_null(find_tag(buf, MB2_TAG_EFI64, 0));
    assert_null(find_tag(buf, MB2_TAG_EFI_MMAP, 0));
    assert_null(find_tag(buf, MB2_TAG_EFI_BS, 0));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_valid),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_plan_address_tag),
        cmocka_unit_test(test_relocate),
        cmocka_unit_test(test_efi_entry),
        cmocka_unit_test(test_efi_row),
        cmocka_unit_test(test_fwtables),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_info_efi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
