/*
 * Unit tests for loader/image.c: the multiboot header search, ELF32 load
 * planning and the streaming feed.  Images are built in memory by
 * build_image() from a small description, so each test states exactly
 * the one thing it changes from a valid kernel.
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
#include "loader/image.h"
#include "mb/multiboot.h"

#define PT_LOAD 1
#define PT_NOTE 4
#define IMG_MAX 0x10000

/** One program header as the test wants it written. */
struct tseg {
    uint32_t type, off, vaddr, paddr, filesz, memsz;
};

/** A test image: ELF header fields, program headers, multiboot header. */
struct timage {
    bool elf;         /* write an ELF header at all */
    uint8_t cls, data, version;
    uint16_t type, machine, phentsize, phnum_override;
    uint32_t entry, phoff;
    unsigned nseg;
    struct tseg seg[80];
    bool mb;          /* write a multiboot header */
    uint32_t mb_off, mb_flags;
    bool mb_bad_sum;
    uint32_t mb_addr[5]; /* a.out kludge fields when flags bit 16 */
    uint32_t mb_mode[4]; /* video fields when flags bit 2 */
    bool layout64;       /* write ELF64 headers (cls/machine as set) */
    uint64_t entry64;    /* ELF64 e_entry when non-zero */
    uint64_t vaddr64[4]; /* ELF64 p_vaddr of segment i when non-zero */
    unsigned nsec;       /* section headers at shoff (0: none) */
    uint32_t shoff;
    uint16_t shstrndx;
    struct tsec {
        uint64_t addr, off, size;
    } sec[8];
};

static uint8_t img[IMG_MAX];

/** Store @v little-endian at @p. */
static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/** Store @v little-endian at @p. */
static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)v);
    wr16(p + 2, (uint16_t)(v >> 16));
}

/** The byte the builder puts at file offset @off (never 0 or 0xAA). */
static uint8_t pattern(uint32_t off)
{
    return (uint8_t)(1 + (off * 7 + (off >> 8)) % 0xA0);
}

/**
 * A valid kernel: text at 1 MiB from file offset 0x1000, data + bss
 * right after it, multiboot header at the start of the text, entry 12
 * bytes into it.  File size 0x3800.
 */
static void timage_default(struct timage *t)
{
    memset(t, 0, sizeof(*t));
    t->elf = true;
    t->cls = 1;
    t->data = 1;
    t->version = 1;
    t->type = 2;
    t->machine = 3;
    t->phentsize = 32;
    t->entry = 0x10000c;
    t->phoff = 52;
    t->nseg = 2;
    t->seg[0] = (struct tseg){ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x2000,
                               0x2000 };
    t->seg[1] = (struct tseg){ PT_LOAD, 0x3000, 0x102000, 0x102000, 0x800,
                               0x3000 };
    t->mb = true;
    t->mb_off = 0x1000;
    t->mb_flags = MB_HFLAG_PAGE_ALIGN | MB_HFLAG_MEMINFO;
}

/** Store @v little-endian at @p. */
static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

/** Write @t's section headers (ELF32 or ELF64 layout); returns the end. */
static size_t build_shdrs(const struct timage *t, size_t size)
{
    unsigned i, ent = t->layout64 ? 64 : 40;

    for (i = 0; i < t->nsec; i++) {
        uint8_t *sh = img + t->shoff + i * ent;

        memset(sh, 0, ent);
        wr32(sh + 4, 1); /* SHT_PROGBITS; Pulsar does not look */
        if (t->layout64) {
            wr64(sh + 16, t->sec[i].addr);
            wr64(sh + 24, t->sec[i].off);
            wr64(sh + 32, t->sec[i].size);
        } else {
            wr32(sh + 12, (uint32_t)t->sec[i].addr);
            wr32(sh + 16, (uint32_t)t->sec[i].off);
            wr32(sh + 20, (uint32_t)t->sec[i].size);
        }
    }
    if (t->nsec && t->shoff + t->nsec * ent > size)
        size = t->shoff + t->nsec * ent;
    return size;
}

/** The ELF64 variant of build_image's ELF part; returns the new size. */
static size_t build_elf64(const struct timage *t, size_t size)
{
    unsigned i;

    memset(img, 0, 64);
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = t->cls;
    img[5] = t->data;
    img[6] = t->version;
    wr16(img + 16, t->type);
    wr16(img + 18, t->machine);
    wr32(img + 20, 1);
    wr64(img + 24, t->entry64 ? t->entry64 : t->entry);
    wr64(img + 32, t->phoff);
    wr64(img + 40, t->shoff);
    wr16(img + 52, 64);
    wr16(img + 54, t->phentsize);
    wr16(img + 56, (uint16_t)t->nseg);
    wr16(img + 58, t->nsec ? 64 : 0);
    wr16(img + 60, (uint16_t)t->nsec);
    wr16(img + 62, t->shstrndx);
    for (i = 0; i < t->nseg; i++) {
        uint8_t *ph = img + t->phoff + i * t->phentsize;

        memset(ph, 0, t->phentsize);
        wr32(ph + 0, t->seg[i].type);
        wr32(ph + 4, 5);
        wr64(ph + 8, t->seg[i].off);
        wr64(ph + 16, i < 4 && t->vaddr64[i] ? t->vaddr64[i]
                                            : t->seg[i].vaddr);
        wr64(ph + 24, t->seg[i].paddr);
        wr64(ph + 32, t->seg[i].filesz);
        wr64(ph + 40, t->seg[i].memsz);
        wr64(ph + 48, 0x1000);
        if (t->phoff + (i + 1) * t->phentsize > size)
            size = t->phoff + (i + 1) * t->phentsize;
    }
    return size;
}

/** Write @t into img[]; returns the file size (the end of its data). */
static size_t build_image(const struct timage *t)
{
    size_t size = 0;
    unsigned i;

    memset(img, 0, sizeof(img));
    /* Segment contents first, so the headers overwrite them as in a
     * real kernel whose text starts with the multiboot header. */
    for (i = 0; i < t->nseg; i++) {
        uint64_t o, end = (uint64_t)t->seg[i].off + t->seg[i].filesz;

        for (o = t->seg[i].off; o < end && o < IMG_MAX; o++)
            img[o] = pattern((uint32_t)o);
        if (end <= IMG_MAX && end > size)
            size = (size_t)end;
    }
    if (t->elf && t->layout64) {
        size = build_elf64(t, size);
    } else if (t->elf) {
        img[0] = 0x7f;
        img[1] = 'E';
        img[2] = 'L';
        img[3] = 'F';
        img[4] = t->cls;
        img[5] = t->data;
        img[6] = t->version;
        memset(img + 7, 0, 9);
        wr16(img + 16, t->type);
        wr16(img + 18, t->machine);
        wr32(img + 20, 1);
        wr32(img + 24, t->entry);
        wr32(img + 28, t->phoff);
        wr32(img + 32, t->shoff);
        wr32(img + 36, 0);
        wr16(img + 40, 52);
        wr16(img + 42, t->phentsize);
        wr16(img + 44, t->phnum_override ? t->phnum_override
                                         : (uint16_t)t->nseg);
        wr16(img + 46, t->nsec ? 40 : 0);
        wr16(img + 48, (uint16_t)t->nsec);
        wr16(img + 50, t->shstrndx);
        for (i = 0; i < t->nseg; i++) {
            uint64_t at = t->phoff + (uint64_t)i * t->phentsize;
            uint8_t *ph;

            if (at + 32 > IMG_MAX)
                break; /* deliberately out of range: nothing to write */
            ph = img + at;
            if (at + t->phentsize <= IMG_MAX)
                memset(ph, 0, t->phentsize);
            wr32(ph + 0, t->seg[i].type);
            wr32(ph + 4, t->seg[i].off);
            wr32(ph + 8, t->seg[i].vaddr);
            wr32(ph + 12, t->seg[i].paddr);
            wr32(ph + 16, t->seg[i].filesz);
            wr32(ph + 20, t->seg[i].memsz);
            wr32(ph + 24, 5);
            wr32(ph + 28, 0x1000);
            if (at + 32 > size)
                size = (size_t)at + 32;
        }
        if (size < 52)
            size = 52;
    }
    if (t->mb) {
        uint8_t *h = img + t->mb_off;
        uint32_t sum = (uint32_t)(0u - MB_HEADER_MAGIC - t->mb_flags);

        wr32(h, MB_HEADER_MAGIC);
        wr32(h + 4, t->mb_flags);
        wr32(h + 8, t->mb_bad_sum ? sum + 1 : sum);
        for (i = 0; i < 5; i++)
            wr32(h + 12 + 4 * i, t->mb_addr[i]);
        for (i = 0; i < 4; i++)
            wr32(h + 32 + 4 * i, t->mb_mode[i]);
        if (t->mb_off + 48 > size)
            size = t->mb_off + 48;
    }
    if (t->elf)
        size = build_shdrs(t, size);
    return size;
}

/** Plan @t with the whole image as prefix (capped at IMAGE_PREFIX). */
static int plan_of(const struct timage *t, uint32_t file_size,
                   struct image_plan *plan, char *err, size_t errlen)
{
    size_t size = build_image(t);

    return image_plan_multiboot(img, size < IMAGE_PREFIX ? size : IMAGE_PREFIX,
                                file_size, plan, err, errlen);
}

/** A valid two-segment kernel gives the exact plan. */
static void test_valid_kernel(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160] = "";

    (void)state;
    timage_default(&t);
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_string_equal(plan.format, "multiboot ELF32");
    assert_int_equal(plan.mb.offset, 0x1000);
    assert_int_equal(plan.mb.flags, 3);
    assert_int_equal(plan.entry, 0x10000c);
    assert_int_equal(plan.nseg, 2);
    assert_int_equal(plan.seg[0].dest, 0x100000);
    assert_int_equal(plan.seg[0].file_off, 0x1000);
    assert_int_equal(plan.seg[0].filesz, 0x2000);
    assert_int_equal(plan.seg[0].memsz, 0x2000);
    assert_int_equal(plan.seg[1].dest, 0x102000);
    assert_int_equal(plan.seg[1].file_off, 0x3000);
    assert_int_equal(plan.seg[1].filesz, 0x800);
    assert_int_equal(plan.seg[1].memsz, 0x3000);
    assert_int_equal(plan.lowest, 0x100000);
    assert_int_equal(plan.highest, 0x105000);
    assert_int_equal(plan.file_need, 0x3800);
    /* Unknown file size is fine too. */
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    /* Optional flag bits above 16 are ignored. */
    t.mb_flags |= 1u << 20;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    /* NULL err is allowed. */
    t.mb = false;
    assert_int_equal(plan_of(&t, 0, &plan, NULL, 0), -PE_NOEXEC);
}

/** The header must start and end in the first 8 KiB. */
static void test_header_search_window(void **state)
{
    struct timage t;
    struct mb_header mb;
    char err[160];
    size_t size;

    (void)state;
    timage_default(&t);
    t.mb_off = 0x2000;
    size = build_image(&t);
    assert_int_equal(mb_find_header(img, size, &mb, err, sizeof(err)),
                     -PE_NOEXEC);
    assert_string_equal(err, "no multiboot header in the first 8192 bytes");

    /* The last 12-byte slot of the window is still searched... */
    t.mb_off = 0x2000 - 12;
    size = build_image(&t);
    assert_int_equal(mb_find_header(img, size, &mb, err, sizeof(err)), 0);
    assert_int_equal(mb.offset, 0x2000 - 12);
    /* ...but a header that crosses the window edge is not seen. */
    t.mb_off = 0x2000 - 8;
    size = build_image(&t);
    assert_int_equal(mb_find_header(img, size, &mb, err, sizeof(err)),
                     -PE_NOEXEC);
    /* Unaligned headers are not headers. */
    t.mb_off = 0x1002;
    size = build_image(&t);
    assert_int_equal(mb_find_header(img, size, &mb, err, sizeof(err)),
                     -PE_NOEXEC);
    /* A prefix shorter than the header. */
    t.mb_off = 0x1000;
    build_image(&t);
    assert_int_equal(mb_find_header(img, 0x1008, &mb, err, sizeof(err)),
                     -PE_NOEXEC);
    assert_int_equal(mb_find_header(img, 0x100c, &mb, err, sizeof(err)), 0);
    assert_int_equal(mb_find_header(img, 0, &mb, err, sizeof(err)),
                     -PE_NOEXEC);
}

/** A bad checksum is reported only when no good header follows. */
static void test_bad_checksum(void **state)
{
    struct timage t;
    struct image_plan plan;
    struct mb_header mb;
    char err[160];
    size_t size;

    (void)state;
    timage_default(&t);
    t.mb_bad_sum = true;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "multiboot header at 0x1000: bad checksum");

    /* A stray magic with a bad checksum before the real header. */
    timage_default(&t);
    t.mb_off = 0x1100;
    size = build_image(&t);
    wr32(img + 0x1000, MB_HEADER_MAGIC);
    wr32(img + 0x1004, 0);
    wr32(img + 0x1008, 0x12345678);
    assert_int_equal(mb_find_header(img, size, &mb, err, sizeof(err)), 0);
    assert_int_equal(mb.offset, 0x1100);
}

/** Address and video fields are read, and must lie in the prefix. */
static void test_header_fields(void **state)
{
    struct timage t;
    struct mb_header mb;
    char err[160];
    size_t size;

    (void)state;
    timage_default(&t);
    t.mb_flags = MB_HFLAG_AOUT_KLUDGE | MB_HFLAG_VIDEO;
    t.mb_addr[0] = 0x100000;
    t.mb_addr[1] = 0x100000;
    t.mb_addr[2] = 0x103000;
    t.mb_addr[3] = 0x105000;
    t.mb_addr[4] = 0x10000c;
    size = build_image(&t);
    wr32(img + 0x1000 + 32, 1);
    wr32(img + 0x1000 + 36, 80);
    wr32(img + 0x1000 + 40, 25);
    wr32(img + 0x1000 + 44, 0);
    assert_int_equal(mb_find_header(img, size, &mb, err, sizeof(err)), 0);
    assert_int_equal(mb.flags, MB_HFLAG_AOUT_KLUDGE | MB_HFLAG_VIDEO);
    assert_int_equal(mb.header_addr, 0x100000);
    assert_int_equal(mb.load_addr, 0x100000);
    assert_int_equal(mb.load_end_addr, 0x103000);
    assert_int_equal(mb.bss_end_addr, 0x105000);
    assert_int_equal(mb.entry_addr, 0x10000c);
    assert_int_equal(mb.mode_type, 1);
    assert_int_equal(mb.width, 80);
    assert_int_equal(mb.height, 25);
    assert_int_equal(mb.depth, 0);

    /* Bit 16 at the window edge: 32 bytes needed, 12 available. */
    timage_default(&t);
    t.mb_off = 0x2000 - 12;
    t.mb_flags = MB_HFLAG_AOUT_KLUDGE;
    size = build_image(&t);
    assert_int_equal(mb_find_header(img, size, &mb, err, sizeof(err)),
                     -PE_INVAL);
    assert_string_equal(err, "multiboot header at 0x1ff4: its 32 bytes run "
                             "past the first 8192 bytes of the file");
    /* Bit 2 needs 48 bytes. */
    timage_default(&t);
    t.mb_flags = MB_HFLAG_VIDEO;
    build_image(&t);
    assert_int_equal(mb_find_header(img, 0x1000 + 40, &mb, err, sizeof(err)),
                     -PE_INVAL);
    assert_string_equal(err, "multiboot header at 0x1000: its 48 bytes run "
                             "past the first 4136 bytes of the file");
    /* Without bit 16 the address fields read as 0. */
    timage_default(&t);
    t.mb_addr[0] = 0x12345678;
    size = build_image(&t);
    assert_int_equal(mb_find_header(img, size, &mb, err, sizeof(err)), 0);
    assert_int_equal(mb.header_addr, 0);
}

/** Every required flag bit from 3 to 15 is refused by name. */
static void test_unsupported_flags(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160], want[160];
    unsigned bit;

    (void)state;
    /* Bit 2 (video) is honoured: mode_type 0 graphics, 1 text. */
    timage_default(&t);
    t.mb_flags |= MB_HFLAG_VIDEO;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.mb.mode_type, 0);
    t.mb_mode[0] = 1;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    t.mb_mode[0] = 2;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "multiboot header video mode_type 2 is neither 0 "
                             "(graphics) nor 1 (text)");
    for (bit = 3; bit <= 15; bit++) {
        timage_default(&t);
        t.mb_flags |= 1u << bit;
        assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)),
                         -PE_UNSUPP);
        snprintf(want, sizeof(want),
                 "multiboot header flag bit %u (%s) required by the kernel "
                 "but not supported", bit, bit == 2 ? "video mode" : "unknown");
        assert_string_equal(err, want);
    }
    /* The lowest unsupported bit is named. */
    timage_default(&t);
    t.mb_flags |= (1u << 9) | (1u << 5);
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_UNSUPP);
    assert_string_equal(err, "multiboot header flag bit 5 (unknown) required "
                             "by the kernel but not supported");
}

/** ELF64, big-endian, wrong type, machine, class or version. */
static void test_elf_ident(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    /* ELF64 must be x86-64, ELF32 i386. */
    timage_default(&t);
    t.cls = 2;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_UNSUPP);
    assert_string_equal(err, "ELF64 machine 3 is not x86-64");

    timage_default(&t);
    t.cls = 7;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "unknown ELF class 7");

    timage_default(&t);
    t.data = 2;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_UNSUPP);
    assert_string_equal(err,
                        "big-endian ELF (data encoding 2) is not supported");

    timage_default(&t);
    t.version = 0;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "unknown ELF version 0");

    timage_default(&t);
    t.type = 3;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_UNSUPP);
    assert_string_equal(err, "ELF type 3 is not an executable (ET_EXEC)");

    timage_default(&t);
    t.machine = 62;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_UNSUPP);
    assert_string_equal(err, "ELF32 machine 62 is not i386");
}

/** A file cut off inside the ELF header. */
static void test_elf_header_cut(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    t.mb = false;
    build_image(&t);
    /* Multiboot header right after the ident, so 28 bytes is a prefix. */
    wr32(img + 16, MB_HEADER_MAGIC);
    wr32(img + 20, 0);
    wr32(img + 24, (uint32_t)(0u - MB_HEADER_MAGIC));
    assert_int_equal(image_plan_multiboot(img, 28, 0, &plan, err, sizeof(err)),
                     -PE_INVAL);
    assert_string_equal(err, "ELF header is cut off at 28 bytes");
}

/** Not ELF and no bit 16: not executable. */
static void test_not_elf(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    t.elf = false;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_NOEXEC);
    assert_string_equal(err,
                        "not an ELF file and no a.out kludge address fields");
}

/**
 * ELF with bit 16: the address fields win over the program headers, as
 * the spec and GRUB 2 say; the ELF entry and segments are not even read.
 */
static void test_elf_with_kludge_bit(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    t.mb_flags |= MB_HFLAG_AOUT_KLUDGE;
    t.mb_addr[0] = 0x200000; /* header_addr */
    t.mb_addr[1] = 0x200000; /* load_addr: the header opens the image */
    t.mb_addr[4] = 0x200010; /* entry_addr */
    t.entry = 0xdeadbeef;    /* outside every segment: ELF would refuse */
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);
    assert_string_equal(plan.format, "multiboot a.out kludge");
    assert_int_equal(plan.nseg, 1);
    assert_int_equal(plan.seg[0].dest, 0x200000);
    assert_int_equal(plan.seg[0].file_off, 0x1000);
    assert_int_equal(plan.seg[0].filesz, 0x2800);
    assert_int_equal(plan.seg[0].memsz, 0x2800);
    assert_int_equal(plan.entry, 0x200010);
    assert_false(plan.has_syms);
}

/** Program headers must lie inside the prefix, without overflow. */
static void test_phdrs_outside_prefix(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    t.phoff = 0x9000; /* past the 32 KiB prefix (IMAGE_PREFIX) */
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "ELF program headers at 0x9000..0x9040 are "
                             "outside the first 32768 bytes");

    timage_default(&t);
    t.phoff = 0xFFFFFFF0;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "ELF program headers at 0xfffffff0..0x100000030 "
                             "are outside the first 14336 bytes");

    /* Ending exactly at the prefix end is fine. */
    timage_default(&t);
    t.phoff = IMAGE_PREFIX - 64;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);

    timage_default(&t);
    t.phentsize = 28;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "ELF program header size 28 is below 32");

    /* A larger entry size is stepped over correctly. */
    timage_default(&t);
    t.phentsize = 56;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.seg[1].dest, 0x102000);
}

/** Segment sanity: filesz > memsz, and no PT_LOAD at all. */
static void test_segment_sizes(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    t.seg[1].filesz = 0x3001;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "segment 2: file size 0x3001 is larger than "
                             "memory size 0x3000");

    /* Even a PT_LOAD that occupies no memory may not claim file bytes. */
    timage_default(&t);
    t.seg[1].filesz = 0x10;
    t.seg[1].memsz = 0;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "segment 2: file size 0x10 is larger than "
                             "memory size 0x0");

    timage_default(&t);
    t.seg[0].type = PT_NOTE;
    t.seg[1].memsz = 0; /* an empty PT_LOAD is skipped */
    t.seg[1].filesz = 0;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_NOEXEC);
    assert_string_equal(err, "ELF file has no loadable segments");
}

/** Two segments sharing memory are refused, named 1-based. */
static void test_overlapping_segments(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    t.seg[1].paddr = 0x101fff;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "segments 1 and 2 overlap: [0x100000, 0x102000) "
                             "and [0x101fff, 0x104fff)");

    /* Segment 3 inside segment 2's bss. */
    timage_default(&t);
    t.nseg = 3;
    t.seg[2] = (struct tseg){ PT_LOAD, 0x3800, 0x104000, 0x104000, 0, 0x10 };
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "segments 2 and 3 overlap: [0x102000, 0x105000) "
                             "and [0x104000, 0x104010)");

    /* Touching is fine. */
    t.seg[2].paddr = 0x105000;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.highest, 0x105010);
}

/** A higher-half kernel's virtual entry is translated to physical. */
static void test_entry_translation(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    t.seg[0].vaddr = 0xC0100000;
    t.seg[1].vaddr = 0xC0102000;
    t.entry = 0xC0102010; /* inside segment 2's file part */
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.entry, 0x102010);
    /* In the bss part still counts. */
    t.entry = 0xC0104fff;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.entry, 0x104fff);
    /* A physical entry is taken as is. */
    t.entry = 0x100000;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.entry, 0x100000);
}

/** An entry point in no segment is refused. */
static void test_entry_outside(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    t.entry = 0x105000; /* one past the end */
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "entry point 0x105000 is outside every segment");

    /* A vaddr range that would wrap past 2^32 must not match. */
    timage_default(&t);
    t.seg[1].vaddr = 0xFFFFF000;
    t.entry = 0x10;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "entry point 0x10 is outside every segment");
}

/** A file shorter than its segments need. */
static void test_file_too_short(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    assert_int_equal(plan_of(&t, 0x37ff, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "file is 14335 bytes but its segments need "
                             "14336");
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);
    /* A bss-only segment with a far offset needs no file bytes. */
    t.nseg = 3;
    t.seg[2] = (struct tseg){ PT_LOAD, 0xFFFFFF00, 0x200000, 0x200000, 0,
                              0x1000 };
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.file_need, 0x3800);
}

/** More than IMAGE_MAX_SEGS loadable segments, or too many headers. */
static void test_too_many_segments(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];
    unsigned i;

    (void)state;
    timage_default(&t);
    t.nseg = 0;
    /* 16 loadable, interleaved with notes and empty loads: accepted. */
    for (i = 0; i < 16; i++) {
        t.seg[t.nseg++] = (struct tseg){ PT_LOAD, 0x1000 + i * 0x100,
                                         0x100000 + i * 0x1000,
                                         0x100000 + i * 0x1000, 0x100,
                                         0x1000 };
        t.seg[t.nseg++] = (struct tseg){ PT_NOTE, 0, 0, 0, 0x10, 0x10 };
        t.seg[t.nseg++] = (struct tseg){ PT_LOAD, 0, 0x500000, 0x500000, 0,
                                         0 };
    }
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.nseg, 16);
    assert_int_equal(plan.seg[15].dest, 0x10f000);
    assert_int_equal(plan.highest, 0x110000);

    /* One more loadable one. */
    t.seg[t.nseg++] = (struct tseg){ PT_LOAD, 0x2000, 0x110000, 0x110000,
                                     0x100, 0x100 };
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_UNSUPP);
    assert_string_equal(err, "more than 16 loadable ELF segments");

    /* 65 program headers are refused before they are read. */
    timage_default(&t);
    t.nseg = 65;
    for (i = 2; i < 65; i++)
        t.seg[i] = (struct tseg){ PT_NOTE, 0, 0, 0, 0, 0 };
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_UNSUPP);
    assert_string_equal(err, "65 ELF program headers; at most 64 are "
                             "supported");
    t.nseg = 64;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    /* PN_XNUM style huge counts. */
    t.phnum_override = 0xffff;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_UNSUPP);
}

/** Offsets and addresses near 2^32 must not wrap. */
static void test_overflow_offsets(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    t.seg[1].off = 0xFFFFFFF0;
    t.seg[1].filesz = 0x20;
    t.seg[1].memsz = 0x20;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "segment 2: file range 0xfffffff0 + 0x20 runs "
                             "past 4 GiB");

    timage_default(&t);
    t.seg[1].paddr = 0xFFFFFFF0;
    t.seg[1].filesz = 0x10;
    t.seg[1].memsz = 0x20;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_RANGE);
    assert_string_equal(err, "segment 2: memory range 0xfffffff0 + 0x20 lies "
                             "beyond 4 GiB");

    /* Ending exactly at 4 GiB is refused too: highest must fit 32 bits. */
    t.seg[1].paddr = 0xFFFFF000;
    t.seg[1].memsz = 0x1000;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_RANGE);
    t.seg[1].memsz = 0xFFF;
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.highest, 0xFFFFFFFF);

    /* A near-4 GiB size passes the file check but not the memory one. */
    timage_default(&t);
    t.seg[1].filesz = 0xFFFFFFF0 - 0x3000 - 1;
    t.seg[1].memsz = 0xFFFFFFF0 - 0x3000 - 1;
    t.seg[1].paddr = 0x200000;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_RANGE);
    assert_string_equal(err, "segment 2: memory range 0x200000 + 0xffffcfef "
                             "lies beyond 4 GiB");
}

/* ------------------------------------------------------------------ */
/* image_feed and image_zero_bss against a simulated memory.            */

#define MEM_BASE 0x100000u
#define MEM_SIZE 0x8000u

/** Simulated physical memory [MEM_BASE, MEM_BASE + MEM_SIZE). */
struct sim {
    uint8_t mem[MEM_SIZE];
    unsigned writes, zeroes;
};

/** image_write_fn: copy into the simulated memory, bounds-checked. */
static void sim_write(void *ctx, uint32_t dest, const void *src, size_t n)
{
    struct sim *s = ctx;

    assert_true(n > 0);
    assert_true(dest >= MEM_BASE);
    assert_true((uint64_t)dest + n <= MEM_BASE + MEM_SIZE);
    memcpy(s->mem + (dest - MEM_BASE), src, n);
    s->writes++;
}

/** image_zero_fn: zero in the simulated memory, bounds-checked. */
static void sim_zero(void *ctx, uint32_t dest, size_t n)
{
    struct sim *s = ctx;

    assert_true(dest >= MEM_BASE);
    assert_true((uint64_t)dest + n <= MEM_BASE + MEM_SIZE);
    memset(s->mem + (dest - MEM_BASE), 0, n);
    s->zeroes++;
}

/** A kernel with a gap in memory and file bytes in no segment. */
static void feed_image(struct timage *t)
{
    timage_default(t);
    t->nseg = 3;
    /* Out of file order, with a hole at 0x102800..0x103000 in memory. */
    t->seg[0] = (struct tseg){ PT_LOAD, 0x2100, 0x103000, 0x103000, 0x1234,
                               0x2000 };
    t->seg[1] = (struct tseg){ PT_LOAD, 0x1000, 0x100000, 0x100000, 0x1000,
                               0x1800 };
    t->seg[2] = (struct tseg){ PT_LOAD, 0x2000, 0x101800, 0x101800, 0x80,
                               0x1000 };
    t->entry = 0x100010;
}

/** Feed the file in random-sized chunks; memory matches the plan. */
static void test_feed_random_chunks(void **state)
{
    static struct sim sim, want;
    struct timage t;
    struct image_plan plan;
    char err[160];
    uint64_t rng = 0x2545F4914F6CDD1Dull;
    unsigned round, i;
    size_t size;

    (void)state;
    feed_image(&t);
    size = build_image(&t);
    assert_int_equal(size, 0x3334);
    assert_int_equal(image_plan_multiboot(img, size, (uint32_t)size, &plan,
                                          err, sizeof(err)), 0);
    assert_int_equal(plan.file_need, 0x3334);

    /* The expected memory, computed independently from the description. */
    memset(want.mem, 0xAA, sizeof(want.mem));
    for (i = 0; i < t.nseg; i++) {
        uint32_t d = t.seg[i].paddr - MEM_BASE;

        memcpy(want.mem + d, img + t.seg[i].off, t.seg[i].filesz);
        memset(want.mem + d + t.seg[i].filesz, 0,
               t.seg[i].memsz - t.seg[i].filesz);
    }

    for (round = 0; round < 50; round++) {
        size_t off = 0;

        memset(&sim, 0, sizeof(sim));
        memset(sim.mem, 0xAA, sizeof(sim.mem));
        image_zero_bss(&plan, sim_zero, &sim);
        assert_int_equal(sim.zeroes, 3);
        while (off < size) {
            uint8_t *chunk;
            size_t n;

            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            n = 1 + (size_t)(rng % (round < 25 ? 700 : 5));
            if (n > size - off)
                n = size - off;
            /* A packet-sized copy, so ASan catches any read past it. */
            chunk = malloc(n);
            assert_non_null(chunk);
            memcpy(chunk, img + off, n);
            image_feed(&plan, (uint32_t)off, chunk, n, sim_write, &sim);
            free(chunk);
            off += n;
        }
        assert_memory_equal(sim.mem, want.mem, MEM_SIZE);
    }
    /* The hole and everything past the last segment stay untouched. */
    for (i = 0x2800; i < 0x3000; i++)
        assert_int_equal(sim.mem[i], 0xAA);
    for (i = 0x5000; i < MEM_SIZE; i++)
        assert_int_equal(sim.mem[i], 0xAA);
}

/** Bytes outside every segment's file range produce no write at all. */
static void test_feed_outside(void **state)
{
    static struct sim sim;
    struct timage t;
    struct image_plan plan;
    char err[160];
    size_t size;

    (void)state;
    feed_image(&t);
    size = build_image(&t);
    assert_int_equal(image_plan_multiboot(img, size, 0, &plan, err,
                                          sizeof(err)), 0);
    memset(&sim, 0, sizeof(sim));
    image_feed(&plan, 0, img, 0x1000, sim_write, &sim);     /* headers */
    image_feed(&plan, 0x2080, img + 0x2080, 0x80, sim_write, &sim); /* gap */
    image_feed(&plan, 0x3334, img + 0x3334, 0x100, sim_write, &sim);
    image_feed(&plan, 0x1000, img + 0x1000, 0, sim_write, &sim);
    /* An offset near 2^32 must not wrap into a segment. */
    image_feed(&plan, 0xFFFFFF00, img, 0x200, sim_write, &sim);
    assert_int_equal(sim.writes, 0);
    /* One chunk spanning all three segments gives three writes. */
    image_feed(&plan, 0, img, size, sim_write, &sim);
    assert_int_equal(sim.writes, 3);
}

/** A segment without bss gets no zero call. */
static void test_zero_bss_calls(void **state)
{
    static struct sim sim;
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage_default(&t);
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), 0);
    memset(&sim, 0, sizeof(sim));
    memset(sim.mem, 0xAA, sizeof(sim.mem));
    image_zero_bss(&plan, sim_zero, &sim);
    assert_int_equal(sim.zeroes, 1);
    assert_int_equal(sim.mem[0x27ff], 0xAA);
    assert_int_equal(sim.mem[0x2800], 0);
    assert_int_equal(sim.mem[0x4fff], 0);
    assert_int_equal(sim.mem[0x5000], 0xAA);
}

/** Run every test in this file. */

/** image_write_fn for test_feed_capture: keep only the capture's bytes. */
static void sim_write_cap(void *ctx, uint32_t dest, const void *src, size_t n)
{
    uint8_t *mem = ctx;

    if (dest < 0x110000)
        return; /* a segment: checked by the other feed tests */
    assert_true((uint64_t)dest + n <= 0x110000 + 0x10000);
    memcpy(mem + (dest - 0x110000), src, n);
}

/* ------------------------------------------------------------------ */
/* ELF64, the a.out kludge, the format table, section headers.          */

/** The default kernel as ELF64 for x86-64. */
static void timage64(struct timage *t)
{
    timage_default(t);
    t->layout64 = true;
    t->cls = 2;
    t->machine = 62;
    t->phoff = 64;
    t->phentsize = 56;
}

/** ELF64 plans like ELF32; a 64-bit virtual entry is translated. */
static void test_elf64(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];

    (void)state;
    timage64(&t);
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);
    assert_string_equal(plan.format, "multiboot ELF64");
    assert_int_equal(plan.nseg, 2);
    assert_int_equal(plan.seg[1].dest, 0x102000);
    assert_int_equal(plan.seg[1].memsz, 0x3000);
    assert_int_equal(plan.entry, 0x10000c);
    assert_int_equal(plan.highest, 0x105000);

    /* A higher-half x86-64 kernel: vaddr 0xffffffff80100000. */
    t.vaddr64[0] = 0xffffffff80100000ull;
    t.entry64 = 0xffffffff80100020ull;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.entry, 0x100020);

    /* An entry in no segment, physical or virtual. */
    t.entry64 = 0xffffffff90000000ull;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err,
                        "entry point 0xffffffff90000000 is outside every "
                        "segment");
}

/** ELF64 segments must lie below 4 GiB: paddr, size and offset. */
static void test_elf64_above_4g(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];
    uint8_t *ph;

    (void)state;
    timage64(&t);
    build_image(&t);
    ph = img + 64 + 56; /* segment 2's program header */
    wr64(ph + 24, 0x100000000ull);
    assert_int_equal(image_plan_multiboot(img, 0x3800, 0x3800, &plan, err,
                                          sizeof(err)), -PE_RANGE);
    assert_string_equal(err, "segment 2 lies beyond 4 GiB");

    build_image(&t);
    wr64(ph + 40, 0x100000000ull); /* memsz */
    assert_int_equal(image_plan_multiboot(img, 0x3800, 0x3800, &plan, err,
                                          sizeof(err)), -PE_RANGE);

    build_image(&t);
    wr64(ph + 24, 0xFFFFF000ull); /* ends past 4 GiB */
    assert_int_equal(image_plan_multiboot(img, 0x3800, 0x3800, &plan, err,
                                          sizeof(err)), -PE_RANGE);
    assert_string_equal(err, "segment 2: memory range 0xfffff000 + 0x3000 "
                             "lies beyond 4 GiB");

    /* The ELF64 header itself cut off (multiboot header moved first). */
    t.mb_off = 0x40 + 2 * 56;
    build_image(&t);
    assert_int_equal(image_plan_multiboot(img, 60, 0, &plan, err,
                                          sizeof(err)), -PE_NOEXEC);
    assert_int_equal(image_plan_multiboot(img, 0x40 + 2 * 56 + 12, 0, &plan,
                                          err, sizeof(err)), 0);
}

/** An a.out kludge image (no ELF) from the flat-binary test kernel. */
static void timage_aout(struct timage *t)
{
    timage_default(t);
    t->elf = false;
    t->mb_flags |= MB_HFLAG_AOUT_KLUDGE;
    t->mb_addr[0] = 0x101000; /* header_addr: file 0x1000 */
    t->mb_addr[1] = 0x100000; /* load_addr: file offset 0 */
    t->mb_addr[2] = 0x103000; /* load_end_addr */
    t->mb_addr[3] = 0x106000; /* bss_end_addr */
    t->mb_addr[4] = 0x101020; /* entry_addr */
}

/** Every a.out kludge field is used and checked. */
static void test_aout_kludge(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[200];

    (void)state;
    timage_aout(&t);
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);
    assert_string_equal(plan.format, "multiboot a.out kludge");
    assert_int_equal(plan.nseg, 1);
    assert_int_equal(plan.seg[0].dest, 0x100000);
    assert_int_equal(plan.seg[0].file_off, 0);
    assert_int_equal(plan.seg[0].filesz, 0x3000);
    assert_int_equal(plan.seg[0].memsz, 0x6000);
    assert_int_equal(plan.entry, 0x101020);
    assert_int_equal(plan.lowest, 0x100000);
    assert_int_equal(plan.highest, 0x106000);
    assert_int_equal(plan.file_need, 0x3000);

    /* load_end_addr 0: the whole file; bss_end_addr 0: no bss. */
    t.mb_addr[2] = 0;
    t.mb_addr[3] = 0;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.seg[0].filesz, 0x3800);
    assert_int_equal(plan.seg[0].memsz, 0x3800);

    /* The file size is needed. */
    assert_int_equal(plan_of(&t, 0, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "a.out kludge: the file size is unknown");

    /* header_addr - load_addr must match the header's offset. */
    timage_aout(&t);
    t.mb_addr[0] = 0x0FFFFF; /* below load_addr */
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "a.out kludge: header_addr 0xfffff and "
                             "load_addr 0x100000 do not match the header's "
                             "file offset 0x1000");
    t.mb_addr[0] = 0x101004; /* would put load_addr before the file */
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_INVAL);
    /* A smaller delta is fine: the file is loaded from a later offset. */
    t.mb_addr[0] = 0x100800;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);
    assert_int_equal(plan.seg[0].file_off, 0x800);

    /* load_end_addr before the header's end, or past the file's end. */
    timage_aout(&t);
    t.mb_addr[2] = 0x101010;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "a.out kludge: load_end_addr 0x101010 is not "
                             "between the header's end 0x101020 and the "
                             "file's end 0x103800");
    t.mb_addr[2] = 0x103801;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_INVAL);
    t.mb_addr[2] = 0x103800;
    t.mb_addr[3] = 0;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);

    /* bss_end_addr below the loaded end. */
    timage_aout(&t);
    t.mb_addr[3] = 0x102fff;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "a.out kludge: bss_end_addr 0x102fff is below "
                             "the loaded end 0x103000");

    /* entry_addr outside [load_addr, bss_end_addr). */
    timage_aout(&t);
    t.mb_addr[4] = 0x106000;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "a.out kludge: entry_addr 0x106000 is outside "
                             "the image [0x100000, 0x106000)");
    t.mb_addr[4] = 0x0FFFFF;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_INVAL);
    t.mb_addr[4] = 0x105fff; /* in the bss: allowed */
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), 0);

    /* Not below 4 GiB. */
    timage_aout(&t);
    t.mb_addr[0] = 0xFFFFF000;
    t.mb_addr[1] = 0xFFFFE000;
    t.mb_addr[2] = 0;
    t.mb_addr[3] = 0;
    t.mb_addr[4] = 0xFFFFF000;
    assert_int_equal(plan_of(&t, 0x3800, &plan, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "a.out kludge: [0xffffe000, 0x100001800) is not "
                             "below 4 GiB");
}

/** The format table: the first format's reason when none matches. */
static void test_format_table(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];
    size_t size;

    (void)state;
    assert_non_null(image_types[0].name);
    assert_string_equal(image_types[0].name, "multiboot");
    timage_default(&t);
    size = build_image(&t);
    assert_int_equal(image_plan(img, size, (uint32_t)size, &plan, err,
                                sizeof(err)), 0);
    assert_string_equal(plan.format, "multiboot ELF32");
    t.mb = false;
    size = build_image(&t);
    assert_int_equal(image_plan(img, size, (uint32_t)size, &plan, err,
                                sizeof(err)), -PE_NOEXEC);
    assert_string_equal(err, "no multiboot header in the first 8192 bytes");
    /* A real error of a recognised format is passed on. */
    timage_default(&t);
    t.entry = 0x900000;
    size = build_image(&t);
    assert_int_equal(image_plan(img, size, (uint32_t)size, &plan, err,
                                sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "entry point 0x900000 is outside every segment");
}

/** Sections after the segments: .symtab-like ones captured and fixed. */
static void sections_case(bool is64)
{
    static uint8_t cap[0x1000];
    struct timage t;
    struct image_plan plan;
    char err[160];
    uint32_t table, i;
    unsigned ent = is64 ? 64 : 40;
    uint8_t *sh;

    if (is64)
        timage64(&t);
    else
        timage_default(&t);
    /* Segments end at 0x3800 in the file; then three unloaded sections
     * and the table.  Section 1 is loaded (has an address): untouched. */
    t.nsec = 5;
    t.shoff = 0x3a00;
    t.shstrndx = 4;
    t.sec[1] = (struct tsec){ 0x100000, 0x1000, 0x2000 };
    t.sec[2] = (struct tsec){ 0, 0x3800, 0x100 };  /* .symtab */
    t.sec[3] = (struct tsec){ 0, 0x3900, 0x80 };   /* .strtab */
    t.sec[4] = (struct tsec){ 0, 0x3980, 0x0 };    /* empty: untouched */
    size_t size = build_image(&t);
    assert_int_equal(size, 0x3a00 + 5 * ent);
    assert_int_equal(image_plan_multiboot(img, IMAGE_PREFIX, (uint32_t)size,
                                          &plan, err, sizeof(err)), 0);
    assert_true(plan.has_syms);
    assert_int_equal(plan.syms.num, 5);
    assert_int_equal(plan.syms.size, ent);
    assert_int_equal(plan.syms.shndx, 4);
    assert_int_equal(plan.syms.cap.file_off, 0x3800);
    assert_int_equal(plan.syms.cap.filesz, size - 0x3800);

    /* The capture gets the tail through image_feed; fixup relocates. */
    plan.syms.cap.dest = 0x200000;
    memcpy(cap, img + 0x3800, size - 0x3800);
    assert_int_equal(image_syms_fixup(&plan, cap, &table), 2);
    assert_int_equal(table, 0x200000 + 0x200);
    for (i = 0; i < 5; i++) {
        uint64_t want = i == 2 ? 0x200000 : i == 3 ? 0x200100
                                          : t.sec[i].addr;
        sh = cap + 0x200 + i * ent;
        if (is64)
            assert_int_equal(sh[16] | sh[17] << 8 | sh[18] << 16 |
                                 (uint32_t)sh[19] << 24, (uint32_t)want);
        else
            assert_int_equal(sh[12] | sh[13] << 8 | sh[14] << 16 |
                                 (uint32_t)sh[15] << 24, (uint32_t)want);
    }
}

/** ELF32 section headers. */
static void test_sections32(void **state)
{
    (void)state;
    sections_case(false);
}

/** ELF64 section headers. */
static void test_sections64(void **state)
{
    (void)state;
    sections_case(true);
}

/** Bad section tables: past the file end, bad shstrndx, no size known. */
static void test_sections_bad(void **state)
{
    struct timage t;
    struct image_plan plan;
    char err[160];
    size_t size;

    (void)state;
    timage_default(&t);
    t.nsec = 2;
    t.shoff = 0x3800;
    t.shstrndx = 1;
    size = build_image(&t);
    assert_int_equal(size, 0x3800 + 80);
    assert_int_equal(image_plan_multiboot(img, IMAGE_PREFIX, 0x3800 + 79,
                                          &plan, err, sizeof(err)),
                     -PE_INVAL);
    assert_string_equal(err, "ELF section headers at 0x3800 + 0x50 run past "
                             "the end of the 14415-byte file");
    /* Unknown size: no sections passed, no error. */
    assert_int_equal(image_plan_multiboot(img, IMAGE_PREFIX, 0, &plan, err,
                                          sizeof(err)), 0);
    assert_false(plan.has_syms);
    t.shstrndx = 2;
    size = build_image(&t);
    assert_int_equal(image_plan_multiboot(img, IMAGE_PREFIX, (uint32_t)size,
                                          &plan, err, sizeof(err)),
                     -PE_INVAL);
    assert_string_equal(err, "ELF section name table index 2 is not below "
                             "the 2 sections");
    /* The table before the segments' end: captured from there. */
    t.shstrndx = 0;
    t.shoff = 0x3000;
    size = build_image(&t);
    assert_int_equal(image_plan_multiboot(img, IMAGE_PREFIX, 0x3800, &plan,
                                          err, sizeof(err)), 0);
    assert_int_equal(plan.syms.cap.file_off, 0x3000);
    assert_int_equal(plan.syms.cap.filesz, 0x800);
}

/** image_feed routes the tail to the capture as well as to segments. */
static void test_feed_capture(void **state)
{
    static uint8_t mem[0x10000];
    struct timage t;
    struct image_plan plan;
    char err[160];
    size_t size, off;

    (void)state;
    timage_default(&t);
    t.nsec = 1;
    t.shoff = 0x3800;
    size = build_image(&t);
    assert_int_equal(image_plan_multiboot(img, IMAGE_PREFIX, (uint32_t)size,
                                          &plan, err, sizeof(err)), 0);
    plan.syms.cap.dest = 0x110000;
    memset(mem, 0xAA, sizeof(mem));
    for (off = 0; off < size; off += 100)
        image_feed(&plan, (uint32_t)off, img + off,
                   size - off < 100 ? size - off : 100, sim_write_cap, mem);
    assert_memory_equal(mem, img + 0x3800, size - 0x3800);
    assert_int_equal(mem[size - 0x3800], 0xAA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_kernel),
        cmocka_unit_test(test_header_search_window),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_header_fields),
        cmocka_unit_test(test_unsupported_flags),
        cmocka_unit_test(test_elf_ident),
        cmocka_unit_test(test_elf_header_cut),
        cmocka_unit_test(test_not_elf),
        cmocka_unit_test(test_elf_with_kludge_bit),
        cmocka_unit_test(test_phdrs_outside_prefix),
        cmocka_unit_test(test_segment_sizes),
        cmocka_unit_test(test_overlapping_segments),
        cmocka_unit_test(test_entry_translation),
        cmocka_unit_test(test_entry_outside),
        cmocka_unit_test(test_file_too_short),
        cmocka_unit_test(test_too_many_segments),
        cmocka_unit_test(test_overflow_offsets),
        cmocka_unit_test(test_feed_random_chunks),
        cmocka_unit_test(test_feed_outside),
        cmocka_unit_test(test_zero_bss_calls),
        cmocka_unit_test(test_elf64),
        cmocka_unit_test(test_elf64_above_4g),
        cmocka_unit_test(test_aout_kludge),
        cmocka_unit_test(test_format_table),
        cmocka_unit_test(test_sections32),
        cmocka_unit_test(test_sections64),
        cmocka_unit_test(test_sections_bad),
        cmocka_unit_test(test_feed_capture),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
