/*
 * The malformed-input table (tests/malformed/gen.py): every case is fed
 * to the boot session Pulsar runs (loader/session.c, over a memory file
 * source), and its error must be exactly the one the table gives.  One
 * cmocka test per case, named <kind>/<name>.  The config and kernel rows
 * run a second time through the UEFI face (face.uefi over an OVMF-like
 * memory map, as pulsar.efi plans), named efi/<kind>/<name>: pulsar.efi
 * must say the same (<name>.expect-efi where its words differ, e.g. a
 * placement that names what lies in the way; an empty one: pulsar.efi
 * boots it, since what is in the way on BIOS is not there on UEFI).
 *
 * The cases are read from $PULSAR_MALFORMED (default build/malformed),
 * which `make check` fills with gen.py.  With PULSAR_MALFORMED_PRINT=1
 * the driver prints what Pulsar says for each case instead of checking,
 * for writing new rows.
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
#include "loader/linux.h"
#include "loader/plan.h"
#include "loader/retry.h"
#include "loader/session.h"
#include "net/dhcp.h"

#define MAX_CASES 512
#define MSG_LEN 512

/** One row of the table, as gen.py wrote it. */
struct mcase {
    char kind[16];
    char name[96];
    char dir[512];   /* <root>/<kind> */
    char label[128]; /* kind/name, the test's name */
    bool uefi;       /* through pulsar.efi's face and placer */
};

static const char *root;
static int print_only;

/** Read a whole file; NULL if it cannot be read.  @len: out. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
            *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

/** The IPv4 address a.b.c.d in network byte order. */
static uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t x[4] = { a, b, c, d };
    uint32_t v;
    memcpy(&v, x, 4);
    return v;
}

/* ------------------------------------------------ the session's face */

/** The files of the case being run, as a memory file source serves them:
 *  the config (config-test), the kernel, and <case>.files/ for `conf`. */
static struct {
    const struct mcase *c;
    const char *config;    /* config-test's text */
    size_t config_len;
    const char *kernel;    /* the kernel's name and bytes, or NULL */
    const char *kernel_data;
    size_t kernel_len;
} served;

/** The bytes of @path, malloc'ed when read from a .files/ directory. */
static const char *served_file(const char *path, size_t *len, char **owned)
{
    char file[1024];

    *owned = NULL;
    if (strcmp(path, "config-test") == 0 && served.config) {
        *len = served.config_len;
        return served.config;
    }
    if (served.kernel && strcmp(path, served.kernel) == 0) {
        *len = served.kernel_len;
        return served.kernel_data;
    }
    snprintf(file, sizeof(file), "%s/%s.files/%s", served.c->dir,
             served.c->name, path);
    return *owned = slurp(file, len);
}

/** file_source.size over the served files. */
static int mem_size(const struct file_source *src, uint32_t server,
                    const char *path, uint32_t *size, struct xfer_result *res)
{
    char *owned;
    size_t len;

    (void)src;
    (void)server;
    if (!served_file(path, &len, &owned))
        return res->rc = -PE_NOENT;
    free(owned);
    *size = res->size = (uint32_t)len;
    return res->rc = 0;
}

/** file_source.fetch over the served files, in TFTP-sized blocks. */
static int mem_fetch(const struct file_source *src, uint32_t server,
                     const char *path, uint32_t max,
                     const struct file_sink *sink, struct xfer_result *res)
{
    char *owned;
    size_t len, off;
    const char *data;
    int rc = 0;

    (void)src;
    (void)server;
    if (!(data = served_file(path, &len, &owned)))
        return res->rc = -PE_NOENT;
    if (sink->size)
        rc = sink->size(sink->ctx, (uint32_t)len);
    for (off = 0; rc == 0 && off < len; off += 1432) {
        size_t n = len - off < 1432 ? len - off : 1432;

        if (off + n > max)
            rc = -PE_RANGE;
        else if ((rc = sink->data(sink->ctx, (uint32_t)off,
                                  (const uint8_t *)data + off, n)) == 0)
            res->got = (uint32_t)(off + n);
    }
    free(owned);
    return res->rc = rc;
}

static const struct file_source mem_source = { mem_size, mem_fetch, NULL };

/** Guest memory: a simulated machine of the fixture's 128 MiB. */
static void *sim_guest(uint32_t dest, size_t n)
{
    static uint8_t *ram;
    const size_t size = 0x7fe0000;

    if (!ram && !(ram = calloc(1, size)))
        return NULL;
    return (uint64_t)dest + n <= size ? ram + dest : NULL;
}

/** The unit tests' face: memory files, a simulated RAM, no waiting. */
static const struct session_face test_face = {
    .prog = "pulsar",
    .files = &mem_source,
    .guest = sim_guest,
};

/** The same as pulsar.efi's face. */
static const struct session_face test_face_efi = {
    .prog = "pulsar",
    .uefi = true,
    .files = &mem_source,
    .guest = sim_guest,
};

/**
 * FIXTURE LAYOUT: a QEMU-like machine (-m 128 with an iPXE ROM), as the
 * table's elf rows expect it.
 */
static int fixture_placer(struct placer *p)
{
    static const struct e820_entry map[] = {
        { 0x0, 0x9fc00, 1 },
        { 0x9fc00, 0x400, 2 },
        { 0xf0000, 0x10000, 2 },
        { 0x100000, 0x7ee0000, 1 },
        { 0x7fe0000, 0x20000, 2 },
        { 0xfffc0000, 0x40000, 2 },
    };
    int rc = plan_placer_init(p, map, sizeof(map) / sizeof(map[0]), 0x9c400);

    if (rc == 0) /* the PXE stack, as boot/bios/main.c reserves it */
        rc = place_reserve(p, 0x9c400, 0x9fc00, "PXE stack");
    return rc;
}

/**
 * The UEFI fixture: OVMF's map at -m 128 (q35) as a kernel booted by
 * pulsar.efi reported it (loader/efimap.h's conversion: boot services
 * memory is RAM by then), through the placer pulsar.efi builds.
 */
static int fixture_placer_efi(struct placer *p)
{
    static const struct e820_entry map[] = {
        { 0x0, 0xa0000, 1 },
        { 0x100000, 0x706000, 1 },
        { 0x806000, 0x2000, 4 },
        { 0x808000, 0x8000, 1 },
        { 0x810000, 0xf0000, 4 },
        { 0x900000, 0x61a0000, 1 },
        { 0x6aa0000, 0x102000, 2 },
        { 0x6ba2000, 0x94a000, 1 },
        { 0x74ec000, 0x280000, 2 },
        { 0x776c000, 0x12000, 3 },
        { 0x777e000, 0x80000, 4 },
        { 0x77fe000, 0x6f6000, 1 },
        { 0x7ef4000, 0x84000, 2 },
        { 0x7f78000, 0x88000, 4 },
        { 0xb0000000, 0x10000000, 2 },
        { 0xffc00000, 0x400000, 2 },
    };
    return plan_efi_placer_init(p, map, sizeof(map) / sizeof(map[0]));
}

/**
 * Run the boot session, as the NBP does, on config-test (DHCP option 209
 * names it) with the case's files; the message is the session's error.
 */
static int run_session(const struct mcase *c, const char *config,
                       size_t config_len, char *msg)
{
    static struct session s;
    int rc;

    memset(&s, 0, sizeof(s));
    served.c = c;
    served.config = config;
    served.config_len = config_len;
    s.face = c->uefi ? &test_face_efi : &test_face;
    s.low_end = c->uefi ? 0 : 0x9c400;
    s.dhcp.mac_len = 6;
    s.dhcp.server_ip = ip4(10, 0, 2, 2);
    s.dhcp.has_config = true;
    strcpy(s.dhcp.config, "config-test");
    assert_int_equal((c->uefi ? fixture_placer_efi
                              : fixture_placer)(&s.placer), 0);
    rc = session_run(&s);
    snprintf(msg, MSG_LEN, "%s", s.error);
    free(s.mods); /* the module list of a session that got to boot */
    cfg_free(&s.cfg);
    place_fini(&s.placer);
    return rc;
}

/** What Pulsar says about a config: the session on it. */
static int run_config(const struct mcase *c, const char *in, size_t len,
                      char *msg)
{
    served.kernel = NULL;
    return run_session(c, in, len, msg);
}

/** What Pulsar says about a kernel file (`exec demo/kernel.elf`, line 3). */
static int run_elf(const struct mcase *c, const char *in, size_t len,
                   char *msg)
{
    static const char config[] = "root demo\n\nexec kernel.elf\n";

    served.kernel = "demo/kernel.elf";
    served.kernel_data = in;
    served.kernel_len = len;
    return run_session(c, config, sizeof(config) - 1, msg);
}

/** What Pulsar says about a bzImage (`exec linux/bzImage <args>`, line 3). */
static int run_bzimage(const struct mcase *c, const char *in, size_t len,
                       char *msg)
{
    char path[1024], config[8192];
    size_t alen;
    char *args;

    snprintf(path, sizeof(path), "%s/%s.args", c->dir, c->name);
    args = slurp(path, &alen);
    if (args && alen && args[alen - 1] == '\n')
        args[--alen] = '\0';
    snprintf(config, sizeof(config), "root linux\n\nexec bzImage %s\n",
             args ? args : "console=ttyS0");
    free(args);
    served.kernel = "linux/bzImage";
    served.kernel_data = in;
    served.kernel_len = len;
    return run_session(c, config, strlen(config), msg);
}

/** What Pulsar says about a cached DHCP reply. */
static int run_dhcp(const char *in, size_t len, char *msg)
{
    struct dhcp_facts f;

    return dhcp_validate((const uint8_t *)in, len, &f, msg, MSG_LEN);
}

/** One case: run it, compare the message with <name>.expect. */
static void test_case(void **state)
{
    const struct mcase *c = *state;
    char path[1024], msg[MSG_LEN];
    char *in, *expect;
    size_t len, elen;
    int rc = 0;

    snprintf(path, sizeof(path), "%s/%s.in", c->dir, c->name);
    in = slurp(path, &len);
    assert_non_null(in);
    snprintf(path, sizeof(path), "%s/%s.expect-efi", c->dir, c->name);
    if (!c->uefi || !(expect = slurp(path, &elen))) {
        snprintf(path, sizeof(path), "%s/%s.expect", c->dir, c->name);
        expect = slurp(path, &elen);
    }
    assert_non_null(expect);
    if (elen && expect[elen - 1] == '\n')
        expect[--elen] = '\0';

    msg[0] = '\0';
    if (strcmp(c->kind, "config") == 0)
        rc = run_config(c, in, len, msg);
    else if (strcmp(c->kind, "elf") == 0)
        rc = run_elf(c, in, len, msg);
    else if (strcmp(c->kind, "bzimage") == 0)
        rc = run_bzimage(c, in, len, msg);
    else if (strcmp(c->kind, "dhcp") == 0)
        rc = run_dhcp(in, len, msg);
    else
        fail_msg("unknown kind %s", c->kind);

    if (print_only) {
        printf("%s%-7s %-34s rc %-4d %s\n", c->uefi ? "efi/" : "",
               c->kind, c->name, rc, msg);
    } else {
        /* Every row is an error: an input Pulsar accepts is a failure,
         * but for pulsar.efi where the row says it boots (empty). */
        if (elen == 0 && c->uefi)
            assert_int_equal(rc, 0);
        else
            assert_int_not_equal(rc, 0);
        assert_string_equal(msg, expect);
    }
    free(in);
    free(expect);
}

int main(void)
{
    static struct mcase cases[MAX_CASES];
    static struct CMUnitTest tests[MAX_CASES];
    char path[600], line[256];
    unsigned n = 0;
    FILE *index;

    root = getenv("PULSAR_MALFORMED");
    if (!root)
        root = "build/malformed";
    print_only = getenv("PULSAR_MALFORMED_PRINT") != NULL;
    snprintf(path, sizeof(path), "%s/index", root);
    index = fopen(path, "r");
    if (!index) {
        fprintf(stderr, "test_malformed: no %s (run python3 -m tests.malformed.gen "
                "%s)\n", path, root);
        return 1;
    }
    while (fgets(line, sizeof(line), index) && n + 1 < MAX_CASES) {
        char kind[16], name[96];

        if (sscanf(line, "%15s %95s", kind, name) != 2)
            continue;
        /* Each row on the NBP's face; config and kernel rows on
         * pulsar.efi's too (DHCP replies and bzImages are other code
         * there: boot/efi/pxe.c, boot/efi/linux.c). */
        for (int uefi = 0; uefi < 2; uefi++) {
            struct mcase *c = &cases[n];

            if (uefi && strcmp(kind, "config") && strcmp(kind, "elf"))
                break;
            memcpy(c->kind, kind, sizeof(kind));
            memcpy(c->name, name, sizeof(name));
            c->uefi = uefi;
            snprintf(c->dir, sizeof(c->dir), "%s/%s", root, kind);
            snprintf(c->label, sizeof(c->label), "%s%s/%s",
                     uefi ? "efi/" : "", kind, name);
            tests[n].name = c->label;
            tests[n].test_func = test_case;
            tests[n].setup_func = NULL;
            tests[n].teardown_func = NULL;
            tests[n].initial_state = c;
            n++;
        }
    }
    fclose(index);
    if (n == 0) {
        fprintf(stderr, "test_malformed: %s lists no cases\n", path);
        return 1;
    }
    return _cmocka_run_group_tests("malformed inputs", tests, n, NULL, NULL);
}
