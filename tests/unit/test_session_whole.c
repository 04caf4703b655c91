/*
 * Unit tests for file_sink.whole (loader/source.h): a source that gets
 * files only whole, as UEFI's Mtftp READ_FILE, asks the sink where the
 * whole file may go and writes it there, then reports the bytes through
 * sink->data pointing at them.  This memory source does the same, and
 * falls back to a buffer of its own (as pulsar.efi does) when the sink
 * says NULL.
 *
 * What must hold: modules, initrd parts and the chld program are written
 * straight into their claims (the pointer is guest memory inside the
 * placer's claim of that file, and no buffer is used); the kernel (kload
 * plans from its prefix first) and the config (unsized) take the buffered
 * path; the bytes land byte for byte either way; a source that reports
 * more bytes than announced, or fewer, is still refused or retried by
 * the session's size checks.
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
#include "tests/unit/session_fixture.h"

#define FEED 4096u          /* bytes per sink->data call */

/* ------------------------------------------------------------ the files */

static unsigned fetches;
static int extra;      /* bytes the source reports beyond (or short of,
                          negative) what it wrote in place */
static uint8_t *ram;   /* guest memory [0, RAM_SIZE) */

static int mem_size(const struct file_source *src, uint32_t server,
                    const char *path, uint32_t *size, struct xfer_result *res)
{
    struct mfile *f = fx_find(path);

    (void)src;
    (void)server;
    if (!f)
        return res->rc = -PE_NOENT;
    *size = res->size = f->len;
    return res->rc = 0;
}

/** file_source.fetch as READ_FILE: the size, then the whole file in the
 *  sink's memory (or a buffer), then the bytes reported in chunks. */
static int mem_fetch(const struct file_source *src, uint32_t server,
                     const char *path, uint32_t max,
                     const struct file_sink *sink, struct xfer_result *res)
{
    struct mfile *f = fx_find(path);
    uint8_t *dst = NULL, *buf = NULL;
    uint32_t len;
    int rc = 0;

    (void)src;
    (void)server;
    fetches++;
    if (!f)
        return res->rc = -PE_NOENT;
    if (f->len > max)
        return res->rc = -PE_RANGE;
    if (sink->size && (rc = sink->size(sink->ctx, f->len)) != 0)
        return res->rc = rc;
    f->whole = NULL;
    if (sink->whole)
        dst = sink->whole(sink->ctx, f->len);
    if (sink->arriving)
        sink->arriving(sink->ctx, f->len / 2); /* half of it is in */
    if (dst) {
        /* The guest memory itself: inside the test's RAM. */
        assert_true(dst >= ram && dst + f->len <= ram + RAM_SIZE);
        memcpy(dst, f->data, f->len);
        f->whole = dst;
        len = (uint32_t)((int64_t)f->len + extra);
    } else {
        buf = malloc(f->len + 1);
        assert_non_null(buf);
        memcpy(buf, f->data, f->len);
        dst = buf;
        len = f->len;
        f->buffered++;
    }
    for (uint32_t off = 0; rc == 0 && off < len; off += FEED) {
        uint32_t n = len - off < FEED ? len - off : FEED;

        if ((rc = sink->data(sink->ctx, off, dst + off, n)) == 0)
            res->got = off + n;
    }
    free(buf);
    return res->rc = rc;
}

static const struct file_source mem_source = { mem_size, mem_fetch, NULL };

/* ------------------------------------------------------- the machine */

static uint32_t progress_seen[4]; /* the first progress calls */
static unsigned nprogress;

static void progress(uint32_t done)
{
    if (nprogress < 4)
        progress_seen[nprogress] = done;
    nprogress++;
}

static uint32_t guest_top; /* non-zero: the face has no memory past it
                              (as pulsar.efi when staging fails) */

static void *guest(uint32_t dest, size_t n)
{
    if (guest_top && (uint64_t)dest + n > guest_top)
        return NULL;
    return (uint64_t)dest + n <= RAM_SIZE ? ram + dest : NULL;
}

static const struct session_face face = {
    .prog = "pulsar",
    .files = &mem_source,
    .guest = guest,
    .progress = progress,
};

static struct session s;

static int setup(void **state)
{
    (void)state;
    fetches = nprogress = guest_top = 0;
    extra = 0;
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

static int run(const char *config)
{
    fx_serve("config-test", config, (uint32_t)strlen(config));
    return session_run(&s);
}

static const struct cfg_item *item(const char *path)
{
    for (const struct cfg_item *it = s.cfg.items; it; it = it->next)
        if (strcmp(it->path, path) == 0)
            return it;
    return NULL;
}

/* ---------------------------------------------------------- the tests */

/** Modules go straight into their claims; the kernel and the config take
 *  the buffered path; everything lands byte for byte. */
static void test_modules_whole(void **state)
{
    static uint8_t img[K_SIZE];
    const uint32_t len[2] = { 300001, 4096 };
    uint8_t *data[2];

    (void)state;
    fx_elf_kernel(img);
    fx_serve("demo/kernel.elf", img, K_SIZE);
    data[0] = fx_pattern(len[0], 1);
    data[1] = fx_pattern(len[1], 2);
    fx_serve("demo/m1.bin", data[0], len[0]);
    fx_serve("demo/m2.bin", data[1], len[1]);
    assert_int_equal(run("root demo\nexec kernel.elf\nload m1.bin one\n"
                         "load m2.bin two\n"), 0);
    assert_int_equal(s.errors, 0);
    assert_int_equal(s.boot, SESSION_BOOT_KERNEL);
    assert_int_equal(fx_find("config-test")->buffered, 1);
    assert_null(fx_find("config-test")->whole);
    assert_int_equal(fx_find("demo/kernel.elf")->buffered, 1);
    assert_null(fx_find("demo/kernel.elf")->whole);
    assert_memory_equal(ram + MIB, img + K_SEG_OFF, K_FILESZ);
    assert_true(s.kernel->plan.has_syms);
    assert_int_equal(s.nmods, 2);
    for (unsigned i = 0; i < 2; i++) {
        struct mfile *f = fx_find(i ? "demo/m2.bin" : "demo/m1.bin");

        assert_int_equal(f->buffered, 0);
        assert_ptr_equal(f->whole, ram + s.mods[i].start);
        assert_int_equal(s.mods[i].end - s.mods[i].start, len[i]);
        assert_memory_equal(ram + s.mods[i].start, data[i], len[i]);
        assert_true(place_owned(&s.placer, item(f->name), s.mods[i].start,
                                len[i]));
        memset(ram + s.mods[i].start, 0, len[i]);
        free(data[i]);
    }
}

/** A source that reports more bytes than it was given room for is
 *  refused by the size check (nothing past the claim is touched). */
static void test_whole_overrun_refused(void **state)
{
    static uint8_t img[K_SIZE];
    uint8_t *m = fx_pattern(10000, 3);

    (void)state;
    fx_elf_kernel(img);
    fx_serve("demo/kernel.elf", img, K_SIZE);
    fx_serve("demo/m1.bin", m, 10000);
    free(m);
    extra = 1;
    assert_int_not_equal(run("root demo\nexec kernel.elf\nload m1.bin\n"),
                         0);
    assert_int_equal(s.boot, SESSION_BOOT_NONE);
    assert_non_null(strstr(s.error, "load: demo/m1.bin: "));
}

/** A source that wrote fewer bytes in place than announced: short, tried
 *  again, then refused. */
static void test_whole_short_retried(void **state)
{
    static uint8_t img[K_SIZE];
    uint8_t *m = fx_pattern(10000, 4);

    (void)state;
    fx_elf_kernel(img);
    fx_serve("demo/kernel.elf", img, K_SIZE);
    fx_serve("demo/m1.bin", m, 10000);
    free(m);
    extra = -100;
    assert_int_not_equal(run("root demo\nexec kernel.elf\nload m1.bin\n"),
                         0);
    assert_int_equal(s.boot, SESSION_BOOT_NONE);
    assert_non_null(strstr(s.error, "load: demo/m1.bin: "));
    assert_int_equal(fetches, 2 + RETRY_TRANSFER_TRIES);
}

/** No memory for a module (whole() says NULL, then a write fails): one
 *  error, the refused write, not a second one blaming the server. */
static void test_no_memory_one_error(void **state)
{
    static uint8_t img[K_SIZE];
    uint8_t *m = fx_pattern(MIB, 8);

    (void)state;
    fx_elf_kernel(img);
    fx_serve("demo/kernel.elf", img, K_SIZE);
    fx_serve("demo/m1.bin", m, MIB);
    free(m);
    guest_top = 0x180000;
    assert_int_not_equal(run("root demo\nexec kernel.elf\nload m1.bin\n"),
                         0);
    assert_int_equal(s.boot, SESSION_BOOT_NONE);
    assert_int_equal(fx_find("demo/m1.bin")->buffered, 1);
    assert_int_equal(fetches, 3); /* not retried */
    assert_int_equal(s.errors, 1);
    assert_non_null(strstr(s.error, "outside the placer's claims"));
}

/** Initrd parts go straight to their places in the initrd's claim. */
static void test_initrd_whole(void **state)
{
    static uint8_t img[16384];
    uint8_t *a = fx_pattern(5001, 5), *b = fx_pattern(7000, 6);

    (void)state;
    fx_bzimage(img, sizeof(img));
    fx_serve("linux/bzImage", img, sizeof(img));
    fx_serve("linux/a.img", a, 5001);
    fx_serve("linux/b.img", b, 7000);
    assert_int_equal(run("root linux\nload a.img\nload b.img\n"
                         "exec bzImage console=ttyS0\n"), 0);
    assert_int_equal(s.errors, 0);
    assert_int_equal(fx_find("linux/bzImage")->buffered, 1);
    assert_int_equal(fx_find("linux/a.img")->buffered, 0);
    assert_int_equal(fx_find("linux/b.img")->buffered, 0);
    assert_ptr_equal(fx_find("linux/a.img")->whole, ram + s.lx.initrd_addr);
    assert_ptr_equal(fx_find("linux/b.img")->whole,
                     ram + s.lx.initrd_addr + 5004);
    assert_memory_equal(ram + s.lx.initrd_addr, a, 5001);
    assert_memory_equal(ram + s.lx.initrd_addr + 5004, b, 7000);
    free(a);
    free(b);
}

/** The chld program goes straight into its staging claim. */
static void test_chld_whole(void **state)
{
    uint8_t *prog = fx_pattern(3001, 7);

    (void)state;
    fx_serve("other.0", prog, 3001);
    assert_int_equal(run("chld other.0\n"), 0);
    /* While it arrived, then as it was reported (one 4 KiB chunk). */
    assert_int_equal(nprogress, 2);
    assert_int_equal(progress_seen[0], 1500);
    assert_int_equal(progress_seen[1], 3001);
    assert_int_equal(s.boot, SESSION_BOOT_CHLD);
    assert_int_equal(fx_find("other.0")->buffered, 0);
    assert_ptr_equal(fx_find("other.0")->whole, ram + s.chld_staged);
    assert_memory_equal(ram + s.chld_staged, prog, 3001);
    free(prog);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_modules_whole),
        T(test_whole_overrun_refused),
        T(test_whole_short_retried),
        T(test_no_memory_one_error),
        T(test_initrd_whole),
        T(test_chld_whole),
    };
#undef T
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    free(ram);
    return rc;
}
