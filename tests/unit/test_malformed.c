/*
 * The malformed-input table (tests/malformed/gen.py): every case is fed
 * to the code Pulsar runs on it, and the message must be exactly the one
 * the table gives.  One cmocka test per case, named <kind>/<name>.
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
#include "net/dhcp.h"

#define MAX_CASES 512
#define MSG_LEN 512

/** One row of the table, as gen.py wrote it. */
struct mcase {
    char kind[16];
    char name[96];
    char dir[512];   /* <root>/<kind> */
    char label[128]; /* kind/name, the test's name */
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

/**
 * `conf` for config cases: files come from <case>.files/; a missing one fails
 * with the text the boot flow's fetch would give (loader/retry.c).
 */
static int case_fetch(void *ctx, const struct cfg_state *st, const char *path,
                      char **text, size_t *len, char *why)
{
    const struct mcase *c = ctx;
    char file[1024];

    snprintf(file, sizeof(file), "%s/%s.files/%s", c->dir, c->name, path);
    *text = slurp(file, len);
    if (*text)
        return 0;
    if (why) {
        struct fetch_failure ff;

        memset(&ff, 0, sizeof(ff));
        ff.server = st->server;
        ff.tries = 1;
        retry_describe(-PE_NOENT, &ff, why, CFG_ERR_LEN);
    }
    return -PE_NOENT;
}

/** What Pulsar says about a config: the parser, then "no exec line". */
static int run_config(const struct mcase *c, const char *in, size_t len,
                      char *msg)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    cfg_state_init(&st, NULL, ip4(10, 0, 2, 2));
    rc = cfg_parse(&cfg, &st, "config-test", in, len, case_fetch,
                   (void *)c, err);
    if (rc != 0) {
        snprintf(msg, MSG_LEN, "%s", err);
    } else if (!cfg.exec && !cfg.chld) {
        /* What the boot flow says next (boot/bios/main.c). */
        plan_no_exec(msg, MSG_LEN, "config-test");
        rc = -PE_NOKERNEL;
    }
    cfg_free(&cfg);
    return rc;
}

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

/** What Pulsar says about a kernel file (`exec kernel.elf`, line 3). */
static int run_elf(const char *in, size_t len, char *msg)
{
    struct cfg_item it;
    struct placer p;
    struct image_plan plan;
    int rc;

    memset(&it, 0, sizeof(it));
    it.kind = CFG_EXEC;
    it.name = "kernel.elf";
    it.path = "demo/kernel.elf";
    it.src_file = "config-test";
    it.src_line = 3;
    assert_int_equal(fixture_placer(&p), 0);
    rc = plan_kernel(&p, &it, (const uint8_t *)in,
                     len < IMAGE_PREFIX ? len : IMAGE_PREFIX, (uint32_t)len,
                     &plan, msg, MSG_LEN);
    place_fini(&p);
    return rc;
}

/** What Pulsar says about a bzImage (`exec bzImage <args>`, line 3). */
static int run_bzimage(const struct mcase *c, const char *in, size_t len,
                       char *msg)
{
    static struct linux_plan lp;
    struct cfg_item it;
    struct placer p;
    struct image_plan plan;
    char path[1024];
    size_t alen;
    char *args;
    int rc;

    snprintf(path, sizeof(path), "%s/%s.args", c->dir, c->name);
    args = slurp(path, &alen);
    memset(&it, 0, sizeof(it));
    it.kind = CFG_EXEC;
    it.name = "bzImage";
    it.args = args ? args : "console=ttyS0";
    it.path = "linux/bzImage";
    it.src_file = "config-test";
    it.src_line = 3;
    assert_int_equal(fixture_placer(&p), 0);
    rc = plan_linux_kernel(&p, &it, (const uint8_t *)in,
                           len < IMAGE_PREFIX ? len : IMAGE_PREFIX,
                           (uint32_t)len, &lp, &plan, msg, MSG_LEN);
    place_fini(&p);
    free(args);
    return rc;
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
    int rc;

    snprintf(path, sizeof(path), "%s/%s.in", c->dir, c->name);
    in = slurp(path, &len);
    assert_non_null(in);
    snprintf(path, sizeof(path), "%s/%s.expect", c->dir, c->name);
    expect = slurp(path, &elen);
    assert_non_null(expect);
    if (elen && expect[elen - 1] == '\n')
        expect[--elen] = '\0';

    msg[0] = '\0';
    if (strcmp(c->kind, "config") == 0)
        rc = run_config(c, in, len, msg);
    else if (strcmp(c->kind, "elf") == 0)
        rc = run_elf(in, len, msg);
    else if (strcmp(c->kind, "bzimage") == 0)
        rc = run_bzimage(c, in, len, msg);
    else if (strcmp(c->kind, "dhcp") == 0)
        rc = run_dhcp(in, len, msg);
    else
        fail_msg("unknown kind %s", c->kind);

    if (print_only) {
        printf("%-7s %-34s rc %-4d %s\n", c->kind, c->name, rc, msg);
    } else {
        /* Every row is an error: an input Pulsar accepts is a failure. */
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
        fprintf(stderr, "test_malformed: no %s (run tests/malformed/gen.py "
                "%s)\n", path, root);
        return 1;
    }
    while (fgets(line, sizeof(line), index) && n < MAX_CASES) {
        struct mcase *c = &cases[n];
        char kind[16], name[96];

        if (sscanf(line, "%15s %95s", kind, name) != 2)
            continue;
        memcpy(c->kind, kind, sizeof(kind));
        memcpy(c->name, name, sizeof(name));
        snprintf(c->dir, sizeof(c->dir), "%s/%s", root, kind);
        snprintf(c->label, sizeof(c->label), "%s/%s", kind, name);
        tests[n].name = c->label;
        tests[n].test_func = test_case;
        tests[n].setup_func = NULL;
        tests[n].teardown_func = NULL;
        tests[n].initial_state = c;
        n++;
    }
    fclose(index);
    if (n == 0) {
        fprintf(stderr, "test_malformed: %s lists no cases\n", path);
        return 1;
    }
    return _cmocka_run_group_tests("malformed inputs", tests, n, NULL, NULL);
}
