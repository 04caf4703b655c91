/*
 * Unit tests for the boot session (loader/session.c) against a server
 * that announces no sizes, as a TFTP server without RFC 2349 tsize: a
 * memory file source whose size query fails the way the PXE ROM's does
 * ("PXE status 0x06") and whose transfers never call sink->size.
 *
 * What must hold: modules are claimed as their data arrives, always
 * through the placer, and land byte for byte; a module that cannot grow
 * is refused with the file and what is in the way named; a kernel is
 * planned from its headers (ELF without section headers, the a.out
 * kludge refused, a file that ends before its segments refused); a chld
 * program is staged for the largest size and refused as it grows past
 * it; initrd parts are refused with the reason (tsize is needed).
 *
 * HTTP: files named by URL go to the face's HTTP source (the same memory
 * server here, counted apart), paths to TFTP; a face without an HTTP
 * client refuses URLs saying so; an HTTP initrd part without a size asks
 * for Content-Length.
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
#include "loader/linux.h"
#include "loader/plan.h"
#include "loader/session.h"
#include "mb/multiboot.h"
#include "tests/unit/pe_image.h"
#include "tests/unit/session_fixture.h"


/* ------------------------------------------------------------ the files */

static unsigned size_calls, fetches;
static unsigned web_calls; /* size queries and fetches of web_source */
static const struct file_source web_source;
static uint32_t blk = 512; /* the block size the server sends */

/** Serve @len bytes of @data (copied) as @name; @sized: the server
 *  announces its size. */
static void serve(const char *name, const void *data, uint32_t len,
                  bool sized)
{
    fx_serve(name, data, len)->sized = sized;
}

/** file_source.size: an unsized file's query fails as the ROM's does. */
static int mem_size(const struct file_source *src, uint32_t server,
                    const char *path, uint32_t *size, struct xfer_result *res)
{
    struct mfile *f = fx_find(path);

    (void)server;
    size_calls++;
    web_calls += src == &web_source;
    if (!f)
        return res->rc = -PE_NOENT;
    if (!f->sized) {
        res->fw_status = 0x06;
        snprintf(res->detail, sizeof(res->detail), "PXE status 0x06: out "
                 "of resources");
        return res->rc = -PE_NOPXE;
    }
    *size = res->size = f->len;
    return res->rc = 0;
}

/** file_source.fetch: @blk-byte blocks, the size only when announced. */
static int mem_fetch(const struct file_source *src, uint32_t server,
                     const char *path, uint32_t max,
                     const struct file_sink *sink, struct xfer_result *res)
{
    struct mfile *f = fx_find(path);
    int rc = 0;

    (void)server;
    fetches++;
    web_calls += src == &web_source;
    if (!f)
        return res->rc = -PE_NOENT;
    if (f->sized && sink->size) {
        res->size = f->len;
        rc = sink->size(sink->ctx, f->len);
    }
    for (uint32_t off = 0; rc == 0 && off < f->len; off += blk) {
        uint32_t n = f->len - off < blk ? f->len - off : blk;

        if (off + n > max)
            rc = -PE_RANGE;
        else if ((rc = sink->data(sink->ctx, off, f->data + off, n)) == 0)
            res->got = off + n;
    }
    return res->rc = rc;
}

static const struct file_source mem_source = { mem_size, mem_fetch, NULL };
static const struct file_source web_source = { mem_size, mem_fetch, NULL };

/* ------------------------------------------------------- the machine */

static uint8_t *ram; /* guest memory [0, RAM_SIZE) */

static void *guest(uint32_t dest, size_t n)
{
    return (uint64_t)dest + n <= RAM_SIZE ? ram + dest : NULL;
}

static const struct session_face face = {
    .prog = "pulsar",
    .files = &mem_source,
    .guest = guest,
};

/** pulsar.efi's: `chld` starts EFI programs. */
static const struct session_face efi_face = {
    .prog = "pulsar",
    .files = &mem_source,
    .guest = guest,
    .uefi = true,
};

static struct session s;

static int setup(void **state)
{
    (void)state;
    blk = 512;
    size_calls = fetches = web_calls = 0;
    ram = fx_ram();
    fx_machine(&s, &face, RAM_SIZE - MIB);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_teardown(&s);
    return 0;
}

/** Serve @config as config-test and run the session. */
static int run(const char *config)
{
    serve("config-test", config, (uint32_t)strlen(config), false);
    return session_run(&s);
}

/* --------------------------------------------------------- the images */

/** A multiboot a.out kludge image (no ELF) of 0x2000 bytes into @img. */
static void aout_kernel(uint8_t *img)
{
    const uint32_t flags = MB_HFLAG_MEMINFO | MB_HFLAG_AOUT_KLUDGE;

    memset(img, 0x90, 0x2000);
    put_le32(img + 0, MB_HEADER_MAGIC);
    put_le32(img + 4, flags);
    put_le32(img + 8, (uint32_t)-(MB_HEADER_MAGIC + flags));
    put_le32(img + 12, MIB);          /* header_addr */
    put_le32(img + 16, MIB);          /* load_addr */
    put_le32(img + 20, 0);            /* load_end_addr: the whole file */
    put_le32(img + 24, MIB + 0x3000); /* bss_end_addr */
    put_le32(img + 28, MIB + 0x20);   /* entry_addr */
}

static const char MODS[] = "root demo\n"
                           "exec kernel.elf\n"
                           "load m1.bin one\n"
                           "load m2.bin two\n"
                           "load m3.bin three\n";

/* ---------------------------------------------------------- the tests */

/** Modules of unknown size grow as their data arrives and land byte for
 *  byte; a sized module after them goes after their claims; the ELF
 *  kernel is planned from its headers, without section headers. */
static void modules_grow(uint32_t block)
{
    static uint8_t img[K_SIZE];
    const uint32_t len[3] = { 200000, 65536, 70001 };
    const bool sized[3] = { false, false, true };
    uint8_t *data[3];
    char name[16];

    blk = block;
    fx_elf_kernel(img);
    serve("demo/kernel.elf", img, K_SIZE, false);
    for (unsigned i = 0; i < 3; i++) {
        data[i] = fx_pattern(len[i], 100 + i);
        snprintf(name, sizeof(name), "demo/m%u.bin", i + 1);
        serve(name, data[i], len[i], sized[i]);
    }
    assert_int_equal(run(MODS), 0);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.boot, SESSION_BOOT_KERNEL);
    /* The kernel: its segment in place, its bss zero, no symbols. */
    assert_memory_equal(ram + MIB, img + K_SEG_OFF, K_FILESZ);
    for (uint32_t i = K_FILESZ; i < K_MEMSZ; i++)
        assert_int_equal(ram[MIB + i], 0);
    assert_false(s.kernel->plan.has_syms);
    assert_false(s.kernel->size_known);
    /* The modules: byte for byte, in order, apart. */
    assert_int_equal(s.nmods, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(s.mods[i].end - s.mods[i].start, len[i]);
        assert_int_equal(s.mods[i].start % 0x1000, 0);
        assert_memory_equal(ram + s.mods[i].start, data[i], len[i]);
        assert_true(s.mods[i].start >= (i ? s.mods[i - 1].end
                                          : s.kernel_end));
        free(data[i]);
        memset(ram + s.mods[i].start, 0, len[i]);
    }
    /* m1 was claimed in four 64 KiB steps, each its file's: m2 starts
     * after the last. */
    assert_true(s.mods[1].start >= s.mods[0].start + 4 * 0x10000);
    for (const struct cfg_item *it = s.cfg.items; it; it = it->next)
        if (it->kind == CFG_LOAD && strcmp(it->path, "demo/m1.bin") == 0)
            for (unsigned k = 0; k < 4; k++)
                assert_true(place_owned(&s.placer, it,
                                        s.mods[0].start + k * 0x10000,
                                        0x10000));
}

static void test_modules_grow(void **state)
{
    (void)state;
    modules_grow(512);
}

/** Blocks that straddle two 64 KiB claims (a server granting blksize but
 *  not tsize) are written in two parts, each inside its claim. */
static void test_modules_grow_blksize(void **state)
{
    (void)state;
    modules_grow(1432);
}

/** The same kernel with its size announced keeps its section headers
 *  (what the unsized case lacks is the size alone). */
static void test_kernel_sized_has_syms(void **state)
{
    static uint8_t img[K_SIZE];

    (void)state;
    fx_elf_kernel(img);
    serve("demo/kernel.elf", img, K_SIZE, true);
    assert_int_equal(run("root demo\nexec kernel.elf\n"), 0);
    assert_true(s.kernel->plan.has_syms);
}

/** A module that outgrows the RAM is refused, the file named. */
static void test_module_out_of_ram(void **state)
{
    static uint8_t img[K_SIZE];
    uint8_t *big = fx_pattern(400000, 9);

    (void)state;
    fx_machine(&s, &face, 0x40000); /* 256 KiB at 1 MiB */
    fx_elf_kernel(img);
    serve("demo/kernel.elf", img, K_SIZE, false);
    serve("demo/big.bin", big, 400000, false);
    free(big);
    assert_int_not_equal(run("root demo\nexec kernel.elf\n"
                             "load big.bin\n"), 0);
    assert_int_equal(s.boot, SESSION_BOOT_NONE);
    assert_int_equal(s.errors, 1);
    assert_non_null(strstr(s.error, "config-test:3: load: demo/big.bin: "));
    assert_non_null(strstr(s.error, "big.bin is not in usable RAM"));
    assert_int_equal(fetches, 3); /* config, kernel, module: no retry */
}

/** A module whose next chunk a reservation holds is refused with the
 *  reservation named; nothing is written there. */
static void test_module_blocked(void **state)
{
    static uint8_t img[K_SIZE];
    uint8_t *m = fx_pattern(300000, 11);

    (void)state;
    fx_elf_kernel(img);
    serve("demo/kernel.elf", img, K_SIZE, false);
    serve("demo/m.bin", m, 300000, false);
    free(m);
    /* The kernel ends at 1 MiB + 12 KiB; the module's first chunk starts
     * at the next page, its third would reach the reservation. */
    assert_int_equal(place_reserve(&s.placer, MIB + 0x3000 + 0x18000,
                                   MIB + 0x3000 + 0x19000, "the wall"), 0);
    memset(ram + MIB + 0x1b000, 0x5A, 0x1000);
    assert_int_not_equal(run("root demo\nexec kernel.elf\nload m.bin\n"), 0);
    assert_non_null(strstr(s.error, "config-test:3: load: demo/m.bin: "));
    assert_non_null(strstr(s.error, "the wall"));
    for (unsigned i = 0; i < 0x1000; i++)
        assert_int_equal(ram[MIB + 0x1b000 + i], 0x5A);
    memset(ram + MIB + 0x1b000, 0, 0x1000);
}

/** An unsized kernel whose file ends before its segments' bytes. */
static void test_kernel_short(void **state)
{
    static uint8_t img[K_SIZE];

    (void)state;
    fx_elf_kernel(img);
    serve("demo/kernel.elf", img, K_SEG_OFF + 0x1800, false);
    assert_int_not_equal(run("root demo\nexec kernel.elf\n"), 0);
    assert_string_equal(s.error, "config-test:2: exec: demo/kernel.elf: the "
                        "file ended after 10240 bytes but its segments need "
                        "12288");
}

/** The a.out kludge needs the file's size: refused, the reason said. */
static void test_aout_refused(void **state)
{
    static uint8_t img[0x2000];

    (void)state;
    aout_kernel(img);
    serve("demo/kernel.bin", img, sizeof(img), false);
    assert_int_not_equal(run("root demo\nexec kernel.bin\n"), 0);
    assert_non_null(strstr(s.error, "config-test:2: exec: demo/kernel.bin: "));
    assert_non_null(strstr(s.error, "the file size is unknown"));
    /* Announced, the same image loads. */
    teardown(state);
    setup(state);
    serve("demo/kernel.bin", img, sizeof(img), true);
    assert_int_equal(run("root demo\nexec kernel.bin\n"), 0);
    assert_memory_equal(ram + MIB, img, sizeof(img));
}

/** chld without a size: staged for the largest program, the size is
 *  what came, the bytes land. */
static void test_chld_unsized(void **state)
{
    uint8_t *prog = fx_pattern(3001, 21);

    (void)state;
    serve("other.0", prog, 3001, false);
    assert_int_equal(run("chld other.0\n"), 0);
    assert_int_equal(s.boot, SESSION_BOOT_CHLD);
    assert_int_equal(s.chld_size, 3001);
    assert_true(s.chld_staged >= MIB && s.chld_staged < 0x1000000);
    assert_memory_equal(ram + s.chld_staged, prog, 3001);
    assert_true(place_owned(&s.placer, s.cfg.chld, (uint32_t)s.chld_staged,
                            CHLD_MAX));
    free(prog);
}

/** chld without a size that grows past the limit: refused as it comes. */
static void test_chld_unsized_too_big(void **state)
{
    uint8_t *prog = fx_pattern(CHLD_MAX + 1000, 22);

    (void)state;
    serve("other.0", prog, CHLD_MAX + 1000, false);
    free(prog);
    assert_int_not_equal(run("chld other.0\n"), 0);
    assert_int_equal(s.boot, SESSION_BOOT_NONE);
    assert_int_equal(fetches, 2); /* refused, not retried */
    assert_string_equal(s.error, "config-test:1: chld: other.0: more than "
                        "the 590848 bytes a PXE boot program may have "
                        "(0x07c00-0x98000): 591360 bytes came, and the "
                        "server announced no size");
}

/** chld without a size that fits the limit but not free base memory. */
static void test_chld_unsized_low_end(void **state)
{
    uint8_t *prog = fx_pattern(4000, 23);

    (void)state;
    s.low_end = 0x7c00 + 2000;
    serve("other.0", prog, 4000, false);
    free(prog);
    assert_int_not_equal(run("chld other.0\n"), 0);
    assert_int_equal(s.boot, SESSION_BOOT_NONE);
    assert_string_equal(s.error, "config-test:1: chld: other.0: 4000 bytes "
                        "at 0x07c00 would reach 0x08ba0, but free base "
                        "memory ends at 0x083d0");
}

/** Serve an EFI application of @len bytes as @name (@sized: with its
 *  size), chain it on UEFI: staged below 4 GiB in a claim of @claimed
 *  bytes, its bytes there, the size what came. */
static void chld_efi_boots(const char *name, uint32_t len, bool sized,
                           uint32_t claimed)
{
    uint8_t *prog = fx_pattern(len, len);
    char config[96];

    s.face = &efi_face;
    pe_test_image(prog, len);
    serve(name, prog, len, sized);
    snprintf(config, sizeof(config), "chld %s\nexec never.elf\n", name);
    assert_int_equal(run(config), 0);
    assert_int_equal(s.boot, SESSION_BOOT_CHLD);
    assert_int_equal(s.chld_size, len);
    assert_true(s.chld_staged >= MIB && s.chld_staged + len <= RAM_SIZE);
    assert_memory_equal(ram + s.chld_staged, prog, len);
    assert_true(place_owned(&s.placer, s.cfg.chld, (uint32_t)s.chld_staged,
                            claimed));
    assert_int_equal(s.errors, 0);
    free(prog);
}

/** chld on UEFI, size announced: staged for exactly its size. */
static void test_chld_efi_sized(void **state)
{
    (void)state;
    chld_efi_boots("grub/core.efi", 0x5000, true, 0x5000);
}

/** chld on UEFI without a size: staged for CHLD_EFI_MAX, its headers
 *  checked at the end. */
static void test_chld_efi_unsized(void **state)
{
    (void)state;
    chld_efi_boots("snponly.efi", 70001, false, CHLD_EFI_MAX);
}

/** chld on UEFI of a BIOS NBP (or a broken image): refused after the
 *  fetch, naming the file and why; nothing to start. */
static void test_chld_efi_not_pe(void **state)
{
    uint8_t *prog = fx_pattern(42430, 26);

    (void)state;
    s.face = &efi_face;
    prog[0] = 0xEA;
    serve("pxelinux.0", prog, 42430, true);
    assert_int_not_equal(run("chld pxelinux.0\n"), 0);
    assert_int_equal(s.boot, SESSION_BOOT_NONE);
    assert_string_equal(s.error, "config-test:1: chld: pxelinux.0: not an "
                        "EFI program: no MZ header (chld on UEFI starts "
                        "x86-64 EFI applications; a BIOS PXE boot program "
                        "such as pxelinux.0 cannot run there)");
    /* An IA-32 EFI program: the machine named. */
    teardown(state);
    setup(state);
    s.face = &efi_face;
    pe_test_image(prog, 42430);
    pe_test_wr16(prog, 0x44, PE_MACHINE_I386);
    serve("bootia32.efi", prog, 42430, false);
    assert_int_not_equal(run("chld bootia32.efi\n"), 0);
    assert_string_equal(s.error, "config-test:1: chld: bootia32.efi: a PE "
                        "image for IA-32 (machine 0x014c), not x86-64: "
                        "pulsar.efi starts x86-64 EFI programs");
    free(prog);
}

/** An initrd part without a size: a clear refusal naming the file and
 *  what the server must do; no part is fetched. */
static void test_initrd_unsized(void **state)
{
    static uint8_t img[16384];
    uint8_t *part = fx_pattern(5000, 31);

    (void)state;
    fx_bzimage(img, sizeof(img));
    serve("linux/bzImage", img, sizeof(img), true);
    serve("linux/a.img", part, 5000, true);
    serve("linux/b.img", part, 5000, false);
    free(part);
    assert_int_not_equal(run("root linux\nload a.img\nload b.img\n"
                             "exec bzImage console=ttyS0\n"), 0);
    assert_int_equal(s.boot, SESSION_BOOT_NONE);
    assert_string_equal(s.error, "config-test:3: load: linux/b.img: size "
                        "query to 10.0.2.2 failed, 3 tries (PXE status "
                        "0x06: out of resources): an initrd part's size is "
                        "needed before its data, so the TFTP server must "
                        "answer the tsize option (RFC 2349)");
    assert_int_equal(fetches, 2); /* the config and the kernel only */
}

/* ---------------------------------------------------------------- HTTP */

static const struct session_face face_web = {
    .prog = "pulsar",
    .files = &mem_source,
    .http = &web_source,
    .guest = guest,
};

/** A URL goes to the HTTP source, a path to TFTP; both land. */
static void test_http_and_tftp(void **state)
{
    static uint8_t img[K_SIZE];
    uint8_t *m1 = fx_pattern(70000, 41), *m2 = fx_pattern(5000, 42);

    (void)state;
    s.face = &face_web;
    fx_elf_kernel(img);
    serve("http://10.0.2.9:8080/k.elf", img, sizeof(img), true);
    serve("http://10.0.2.9:8080/m1.bin", m1, 70000, false);
    serve("mods/m2.bin", m2, 5000, true);
    assert_int_equal(run("root http://10.0.2.9:8080\nexec k.elf\n"
                         "load m1.bin one\nroot mods\nload m2.bin two\n"),
                     0);
    assert_int_equal(s.errors, 0);
    assert_int_equal(web_calls, 2);        /* the kernel and m1 */
    assert_int_equal(fetches, 4);          /* + the config and m2 */
    assert_int_equal(s.nmods, 2);
    assert_memory_equal(ram + s.mods[0].start, m1, 70000);
    assert_memory_equal(ram + s.mods[1].start, m2, 5000);
    free(m1);
    free(m2);
}

/** A face without HTTP refuses a URL with that reason, nothing fetched. */
static void test_http_no_client(void **state)
{
    static uint8_t img[K_SIZE];

    (void)state;
    fx_elf_kernel(img);
    serve("http://w/k.elf", img, sizeof(img), true);
    assert_int_not_equal(run("exec http://w/k.elf\n"), 0);
    assert_string_equal(s.error, "config-test:1: exec: http://w/k.elf: "
                        "no HTTP client here; name the file by its TFTP "
                        "path");
    assert_int_equal(fetches, 1); /* the config only */
}

/** An HTTP initrd part without a size: Content-Length is asked for, and
 *  the server named is the URL's host. */
static void test_http_initrd_unsized(void **state)
{
    static uint8_t img[0x4000];
    uint8_t *part = fx_pattern(5000, 43);

    (void)state;
    s.face = &face_web;
    fx_bzimage(img, sizeof(img));
    serve("http://web:81/linux/bzImage", img, sizeof(img), true);
    serve("http://web:81/linux/a.img", part, 5000, false);
    assert_int_not_equal(run("root http://web:81/linux\nload a.img\n"
                             "exec bzImage\n"), 0);
    assert_string_equal(s.error, "config-test:2: load: "
                        "http://web:81/linux/a.img: size query to web:81 "
                        "failed, 3 tries (PXE status 0x06: out of "
                        "resources): an initrd part's size is needed "
                        "before its data, so the web server must send "
                        "Content-Length");
    free(part);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_modules_grow),
        T(test_modules_grow_blksize),
        T(test_kernel_sized_has_syms),
        T(test_module_out_of_ram),
        T(test_module_blocked),
        T(test_kernel_short),
        T(test_aout_refused),
        T(test_chld_unsized),
        T(test_chld_unsized_too_big),
        T(test_chld_unsized_low_end),
        T(test_chld_efi_sized),
        T(test_chld_efi_unsized),
        T(test_chld_efi_not_pe),
        T(test_initrd_unsized),
        T(test_http_and_tftp),
        T(test_http_no_client),
        T(test_http_initrd_unsized),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    free(ram);
    return rc;
}
