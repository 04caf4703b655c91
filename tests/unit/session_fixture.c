/*
 * The session tests' shared fixture (tests/unit/session_fixture.h): the
 * files a memory server has, the images they build, and the machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/endian.h"
#include "loader/linux.h"
#include "mb/multiboot.h"
#include "tests/unit/session_fixture.h"

struct mfile fx_files[FX_MAX_FILES];
unsigned fx_nfiles;

struct mfile *fx_serve(const char *name, const void *data, uint32_t len)
{
    struct mfile *f = &fx_files[fx_nfiles++];

    assert_true(fx_nfiles <= FX_MAX_FILES);
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->data = malloc(len ? len : 1);
    assert_non_null(f->data);
    memcpy(f->data, data, len);
    f->len = len;
    return f;
}

struct mfile *fx_find(const char *path)
{
    for (unsigned i = 0; i < fx_nfiles; i++)
        if (strcmp(fx_files[i].name, path) == 0)
            return &fx_files[i];
    return NULL;
}

void fx_files_free(void)
{
    for (unsigned i = 0; i < fx_nfiles; i++)
        free(fx_files[i].data);
    fx_nfiles = 0;
}

uint8_t *fx_pattern(uint32_t len, unsigned seed)
{
    uint8_t *p = malloc(len ? len : 1);
    uint32_t x = 2463534242u ^ seed;

    assert_non_null(p);
    for (uint32_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    return p;
}

/** A QEMU-like machine of @high bytes at 1 MiB (at most 127 MiB). */
void fx_machine(struct session *s, const struct session_face *face,
                uint32_t high)
{
    const struct e820_entry map[] = {
        { 0x0, 0x9fc00, E820_RAM },
        { 0x9fc00, 0x400, E820_RESERVED },
        { 0xf0000, 0x10000, E820_RESERVED },
        { MIB, high, E820_RAM },
        { 0xfffc0000, 0x40000, E820_RESERVED },
    };

    place_fini(&s->placer); /* a test that wants a smaller machine */
    memset(s, 0, sizeof(*s));
    s->face = face;
    s->low_end = 0x9c400;
    s->dhcp.mac_len = 6;
    s->dhcp.server_ip = 0x0202000a; /* 10.0.2.2 */
    s->dhcp.has_config = true;
    strcpy(s->dhcp.config, "config-test");
    assert_int_equal(plan_placer_init(&s->placer, map, 5, 0x9c400), 0);
    assert_int_equal(place_reserve(&s->placer, 0x9c400, 0x9fc00,
                                   "PXE stack"), 0);
}

uint8_t *fx_ram(void)
{
    static uint8_t *ram;

    if (!ram)
        ram = calloc(1, RAM_SIZE);
    assert_non_null(ram);
    return ram;
}

void fx_teardown(struct session *s)
{
    fx_files_free();
    cfg_free(&s->cfg);
    place_fini(&s->placer);
    free(s->mods);
    memset(s, 0, sizeof(*s));
}

/** The ELF kernel's layout: one segment at 1 MiB, then 3 sections. */

/** A multiboot ELF32 kernel of K_SIZE bytes into @img. */
void fx_elf_kernel(uint8_t *img)
{
    uint8_t *seg = fx_pattern(K_FILESZ, 7);
    uint8_t *ph = img + 52, *mb = img + K_SEG_OFF;

    memset(img, 0, K_SIZE);
    memcpy(img + K_SEG_OFF, seg, K_FILESZ);
    free(seg);
    memcpy(img, "\x7f" "ELF\x01\x01\x01", 7);
    put_le16(img + 16, 2);            /* ET_EXEC */
    put_le16(img + 18, 3);            /* EM_386 */
    put_le32(img + 20, 1);
    put_le32(img + 24, MIB + 12);     /* the entry, after the header */
    put_le32(img + 28, 52);           /* phoff */
    put_le32(img + 32, K_SHOFF);      /* shoff */
    put_le16(img + 40, 52);
    put_le16(img + 42, 32);
    put_le16(img + 44, 1);
    put_le16(img + 46, 40);
    put_le16(img + 48, 3);
    put_le16(img + 50, 2);
    put_le32(ph + 0, 1);              /* PT_LOAD */
    put_le32(ph + 4, K_SEG_OFF);
    put_le32(ph + 8, MIB);
    put_le32(ph + 12, MIB);
    put_le32(ph + 16, K_FILESZ);
    put_le32(ph + 20, K_MEMSZ);
    put_le32(ph + 24, 5);
    put_le32(ph + 28, 0x1000);
    put_le32(mb + 0, MB_HEADER_MAGIC);
    put_le32(mb + 4, MB_HFLAG_PAGE_ALIGN | MB_HFLAG_MEMINFO);
    put_le32(mb + 8, (uint32_t)-(MB_HEADER_MAGIC + MB_HFLAG_PAGE_ALIGN +
                             MB_HFLAG_MEMINFO));
    for (unsigned i = 0; i < 3; i++)
        put_le32(img + K_SHOFF + i * 40 + 4, 1); /* SHT_PROGBITS */
}

/** A bzImage (protocol 2.10, 4 setup sectors) of @size bytes into @img. */
void fx_bzimage(uint8_t *img, uint32_t size)
{
    memset(img, 0, size);
    img[LX_SETUP_SECTS] = 4;
    put_le32(img + LX_SYSSIZE, (size - 5 * 512) / 16);
    put_le16(img + LX_BOOT_FLAG, 0xAA55);
    img[0x200] = 0xEB;
    img[0x201] = 0x66;
    memcpy(img + LX_HEADER, "HdrS", 4);
    put_le16(img + LX_VERSION, 0x020a);
    img[LX_LOADFLAGS] = LX_LOADED_HIGH;
    put_le32(img + LX_CODE32_START, MIB);
    put_le16(img + LX_HEAP_END_PTR, 0x5be0);
    put_le32(img + LX_INITRD_ADDR_MAX, 0x7fffffff);
    put_le32(img + LX_KERNEL_ALIGNMENT, 0x200000);
    img[LX_RELOCATABLE] = 1;
    put_le32(img + LX_CMDLINE_SIZE, 2047);
    put_le32(img + LX_PREF_ADDRESS, 0x1000000);
    put_le32(img + LX_INIT_SIZE, 0x2000000);
}
