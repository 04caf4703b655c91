/*
 * Unit tests for config/lookup.c: which config names are tried, in which
 * order, what is said about each, and what stops the search.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/lookup.h"
#include "lib/errno.h"

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xAB, 0xcd, 0x0F };

/** An IPv4 address in network byte order. */
static uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t x[4] = { a, b, c, d };
    uint32_t v;

    memcpy(&v, x, 4);
    return v;
}

/** The full PXELINUX-style order: MAC, 8 IP prefixes, default. */
static void test_names_full_order(void **state)
{
    static const char *const want[] = {
        "config-52-54-00-ab-cd-0f", "config-0A00020F", "config-0A00020",
        "config-0A0002", "config-0A000", "config-0A00", "config-0A0",
        "config-0A", "config-0", "config-default",
    };
    struct cfg_lookup l;
    (void)state;
    cfg_lookup_names(&l, mac, 6, ip4(10, 0, 2, 15), NULL);
    assert_int_equal(l.n, 10);
    for (unsigned i = 0; i < l.n; i++)
        assert_string_equal(l.name[i], want[i]);
}

/** Upper-case hex with leading zeros kept for each octet. */
static void test_names_ip_upper_case_hex(void **state)
{
    struct cfg_lookup l;
    (void)state;
    cfg_lookup_names(&l, mac, 6, ip4(192, 168, 1, 250), NULL);
    assert_string_equal(l.name[1], "config-C0A801FA");
    assert_string_equal(l.name[8], "config-C");
}

/** No client IP: only the MAC and default. */
static void test_names_without_ip(void **state)
{
    struct cfg_lookup l;
    (void)state;
    cfg_lookup_names(&l, mac, 6, 0, NULL);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.name[0], "config-52-54-00-ab-cd-0f");
    assert_string_equal(l.name[1], "config-default");
}

/** Option 209 replaces the whole list; an empty one does not. */
static void test_names_option_209(void **state)
{
    struct cfg_lookup l;
    (void)state;
    cfg_lookup_names(&l, mac, 6, ip4(10, 0, 2, 15), "pxe/lab.cfg");
    assert_int_equal(l.n, 1);
    assert_string_equal(l.name[0], "pxe/lab.cfg");
    cfg_lookup_names(&l, mac, 6, ip4(10, 0, 2, 15), "");
    assert_int_equal(l.n, 10);
}

/* ------------------------------------------------- the fetch loop */

/** The fake server: which paths exist, which fail otherwise. */
struct fake {
    const char *exists;  /* the one path that exists, or NULL */
    const char *broken;  /* a path whose fetch fails with -PE_IO */
    unsigned calls;
    char said[16][128];
    unsigned nsaid;
};

/** cfg_fetch_fn over struct fake. */
static int fake_fetch(void *ctx, const struct cfg_state *st, const char *path,
                      char **text, size_t *len, char *why)
{
    struct fake *f = ctx;
    (void)st;
    f->calls++;
    if (f->exists && strcmp(path, f->exists) == 0) {
        *text = malloc(6);
        memcpy(*text, "exec k", 6);
        *len = 6;
        return 0;
    }
    if (f->broken && strcmp(path, f->broken) == 0) {
        snprintf(why, CFG_ERR_LEN, "cannot fetch from 10.0.2.2 (TFTP open "
                 "timeout)");
        return -PE_IO;
    }
    snprintf(why, CFG_ERR_LEN, "not found on 10.0.2.2");
    return -PE_NOENT;
}

/** cfg_say_fn collecting the lines. */
static void fake_say(void *ctx, const char *line)
{
    struct fake *f = ctx;
    assert_true(f->nsaid < 16);
    snprintf(f->said[f->nsaid++], sizeof(f->said[0]), "%s", line);
}

/** Run the lookup for mac/10.0.2.15 under @root against @f. */
static int run(struct fake *f, const char *root, const char *override,
               char *path, char *err, char **text, size_t *len)
{
    struct cfg_lookup l;
    struct cfg_state st;

    cfg_lookup_names(&l, mac, 6, ip4(10, 0, 2, 15), override);
    cfg_state_init(&st, root, ip4(10, 0, 2, 2));
    return cfg_lookup_fetch(&l, &st, fake_fetch, f, fake_say, f, text, len,
                            path, err);
}

/** The first existing name wins; every name tried is said, under root. */
static void test_fetch_falls_back_to_ip_prefix(void **state)
{
    struct fake f = { .exists = "lab/config-0A0002" };
    char path[CFG_MAX_PATH + 1], err[CFG_ERR_LEN], *text = NULL;
    size_t len;
    (void)state;
    assert_int_equal(run(&f, "lab", NULL, path, err, &text, &len), 0);
    assert_string_equal(path, "lab/config-0A0002");
    assert_int_equal(len, 6);
    assert_int_equal(f.calls, 4);
    assert_int_equal(f.nsaid, 4);
    assert_string_equal(f.said[0], "config lab/config-52-54-00-ab-cd-0f "
                                   "from 10.0.2.2: not found");
    assert_string_equal(f.said[2], "config lab/config-0A00020 from "
                                   "10.0.2.2: not found");
    assert_string_equal(f.said[3], "config lab/config-0A0002 from 10.0.2.2: "
                                   "6 bytes");
    free(text);
}

/** config-default is the last resort. */
static void test_fetch_default(void **state)
{
    struct fake f = { .exists = "config-default" };
    char path[CFG_MAX_PATH + 1], err[CFG_ERR_LEN], *text = NULL;
    size_t len;
    (void)state;
    assert_int_equal(run(&f, NULL, NULL, path, err, &text, &len), 0);
    assert_string_equal(path, "config-default");
    assert_int_equal(f.calls, 10);
    free(text);
}

/** Nothing found: one message after all ten tries. */
static void test_fetch_nothing(void **state)
{
    struct fake f = { 0 };
    char path[CFG_MAX_PATH + 1], err[CFG_ERR_LEN], *text = NULL;
    size_t len;
    (void)state;
    assert_int_equal(run(&f, NULL, NULL, path, err, &text, &len), -PE_NOENT);
    assert_int_equal(f.calls, 10);
    assert_string_equal(err, "no config file on 10.0.2.2: none of the 10 "
                             "names above exists");
}

/** Any error but "not found" stops at once, with the fetch's reason. */
static void test_fetch_other_error_stops(void **state)
{
    struct fake f = { .broken = "config-0A00020F",
                      .exists = "config-default" };
    char path[CFG_MAX_PATH + 1], err[CFG_ERR_LEN], *text = NULL;
    size_t len;
    (void)state;
    assert_int_equal(run(&f, NULL, NULL, path, err, &text, &len), -PE_IO);
    assert_int_equal(f.calls, 2);
    assert_string_equal(f.said[1], "config config-0A00020F from 10.0.2.2: "
                                   "failed");
    assert_string_equal(err, "config-0A00020F: cannot fetch from 10.0.2.2 "
                             "(TFTP open timeout)");
}

/** Option 209 missing: its own name in the message, nothing else tried. */
static void test_fetch_option_209_missing(void **state)
{
    struct fake f = { .exists = "config-default" };
    char path[CFG_MAX_PATH + 1], err[CFG_ERR_LEN], *text = NULL;
    size_t len;
    (void)state;
    assert_int_equal(run(&f, NULL, "lab.cfg", path, err, &text, &len),
                     -PE_NOENT);
    assert_int_equal(f.calls, 1);
    assert_string_equal(err, "lab.cfg: not found on 10.0.2.2");
}

/** A root that leaves no room for the name is an error, not a cut. */
static void test_fetch_path_too_long(void **state)
{
    struct fake f = { 0 };
    char root[121], path[CFG_MAX_PATH + 1], err[CFG_ERR_LEN], *text = NULL;
    size_t len;
    (void)state;
    memset(root, 'r', sizeof(root) - 1);
    root[sizeof(root) - 1] = '\0';
    assert_int_equal(run(&f, root, NULL, path, err, &text, &len),
                     -PE_TOOLONG);
    assert_int_equal(f.calls, 0);
    assert_non_null(strstr(err, "config-52-54-00-ab-cd-0f: path too long"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_full_order),
        cmocka_unit_test(test_names_ip_upper_case_hex),
        cmocka_unit_test(test_names_without_ip),
        cmocka_unit_test(test_names_option_209),
        cmocka_unit_test(test_fetch_falls_back_to_ip_prefix),
        cmocka_unit_test(test_fetch_default),
        cmocka_unit_test(test_fetch_nothing),
        cmocka_unit_test(test_fetch_other_error_stops),
        cmocka_unit_test(test_fetch_option_209_missing),
        cmocka_unit_test(test_fetch_path_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
