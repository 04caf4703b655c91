/*
 * Unit tests for config/config.c: Pulsar's config language.  Each test pins
 * down one rule, with the exact error text a user would see.  Nested `conf`
 * files come from an in-memory file table through a fake fetch callback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "config/config.h"
#include "lib/errno.h"

/* ------------------------------------------------------------ fixtures */

/** One file the fake TFTP server holds. */
struct fake_file {
    const char *path;
    const char *text;
    size_t len; /* 0: strlen(text) */
};

/** The fake TFTP server: a file table and what the last fetch was asked. */
struct fake_fs {
    const struct fake_file *files; /* terminated by a NULL path */
    const char *why;               /* reason written for a missing file */
    unsigned calls;
    char last_path[CFG_MAX_PATH + 1];
    char last_root[CFG_MAX_PATH + 1];
    uint32_t last_server;
};

/** A cfg_fetch_fn serving struct fake_fs: -PE_NOENT for unknown paths. */
static int fake_fetch(void *ctx, const struct cfg_state *st, const char *path,
                      char **text, size_t *len, char *why)
{
    struct fake_fs *fs = ctx;
    const struct fake_file *f;

    fs->calls++;
    snprintf(fs->last_path, sizeof(fs->last_path), "%s", path);
    snprintf(fs->last_root, sizeof(fs->last_root), "%s", st->root);
    fs->last_server = st->server;
    for (f = fs->files; f->path; f++) {
        if (strcmp(f->path, path) == 0) {
            *len = f->len ? f->len : strlen(f->text);
            *text = malloc(*len ? *len : 1);
            assert_non_null(*text);
            memcpy(*text, f->text, *len);
            return 0;
        }
    }
    if (fs->why)
        snprintf(why, CFG_ERR_LEN, "%s", fs->why);
    return -PE_NOENT;
}

/** An IPv4 address in network byte order, as cfg_parse_ip gives it. */
static uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t bytes[4] = { a, b, c, d };
    uint32_t ip;

    memcpy(&ip, bytes, sizeof(ip));
    return ip;
}

/** Parse @text as "t.cfg" with a fresh state (no root, 10.0.2.2). */
static int parse_with(struct cfg *cfg, struct cfg_state *st, const char *text,
                      size_t len, struct fake_fs *fs, char *err)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg_state_init(st, NULL, ip4(10, 0, 2, 2));
    return cfg_parse(cfg, st, "t.cfg", text, len, fs ? fake_fetch : NULL, fs,
                     err);
}

/** Parse the string @text as "t.cfg" without a fetch callback. */
static int parse_str(struct cfg *cfg, struct cfg_state *st, const char *text,
                     char *err)
{
    return parse_with(cfg, st, text, strlen(text), NULL, err);
}

/** The @i-th item of @cfg (fails the test if there are fewer). */
static struct cfg_item *item_at(const struct cfg *cfg, unsigned i)
{
    struct cfg_item *item = cfg->items;

    while (item && i--)
        item = item->next;
    assert_non_null(item);
    return item;
}

/** How many items @cfg holds. */
static unsigned item_count(const struct cfg *cfg)
{
    const struct cfg_item *item;
    unsigned n = 0;

    for (item = cfg->items; item; item = item->next)
        n++;
    return n;
}

/** Check one item's kind, name, args, cmdline and path. */
static void check_item(const struct cfg_item *item, enum cfg_kind kind,
                       const char *name, const char *args,
                       const char *cmdline, const char *path)
{
    assert_int_equal(item->kind, kind);
    assert_string_equal(item->name, name);
    assert_string_equal(item->args, args);
    assert_string_equal(item->cmdline, cmdline);
    assert_string_equal(item->path, path);
}

/** Parse @text (no fetch) and expect failure @rc with message @msg. */
static void expect_error(const char *text, int rc, const char *msg)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    assert_int_equal(parse_str(&cfg, &st, text, err), rc);
    assert_string_equal(err, msg);
    cfg_free(&cfg);
}

/* ------------------------------------------------------- the examples */

/** The seed's NOVA example: root applies to exec and load. */
static void test_example_nova(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "root nova\n"
                               "exec hypervisor iommu serial spinner\n"
                               "load pingpong\n",
                               err),
                     0);
    assert_string_equal(err, "");
    assert_int_equal(item_count(&cfg), 2);
    check_item(item_at(&cfg, 0), CFG_EXEC, "hypervisor", "iommu serial spinner",
               "hypervisor iommu serial spinner", "nova/hypervisor");
    check_item(item_at(&cfg, 1), CFG_LOAD, "pingpong", "", "pingpong",
               "nova/pingpong");
    assert_ptr_equal(cfg.exec, item_at(&cfg, 0));
    assert_null(cfg.chld);
    assert_int_equal(cfg.nloads, 1);
    assert_false(item_at(&cfg, 1)->has_addr);
    assert_int_equal(item_at(&cfg, 1)->server, ip4(10, 0, 2, 2));
    assert_string_equal(item_at(&cfg, 1)->src_file, "t.cfg");
    assert_int_equal(item_at(&cfg, 0)->src_line, 2);
    assert_int_equal(item_at(&cfg, 1)->src_line, 3);
    cfg_free(&cfg);
}

/** The seed's L4 example: addr is in force for every later item. */
static void test_example_l4_addr(void **state)
{
    static const char *const names[] = { "bootstrap", "fiasco", "sigma0",
                                         "roottask", "pingpong" };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];
    unsigned i;

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "root l4\n"
                               "addr 0x2000000\n"
                               "exec bootstrap -serial\n"
                               "load fiasco -serial_esc\n"
                               "load sigma0\n"
                               "load roottask\n"
                               "load pingpong\n",
                               err),
                     0);
    assert_int_equal(item_count(&cfg), 5);
    assert_int_equal(cfg.nloads, 4);
    for (i = 0; i < 5; i++) {
        struct cfg_item *item = item_at(&cfg, i);
        char path[64];

        snprintf(path, sizeof(path), "l4/%s", names[i]);
        assert_string_equal(item->name, names[i]);
        assert_string_equal(item->path, path);
        assert_true(item->has_addr);
        assert_int_equal(item->addr, 0x2000000);
        assert_int_equal(item->kind, i == 0 ? CFG_EXEC : CFG_LOAD);
    }
    assert_string_equal(cfg.exec->cmdline, "bootstrap -serial");
    assert_string_equal(item_at(&cfg, 1)->cmdline, "fiasco -serial_esc");
    assert_true(st.has_addr);
    assert_int_equal(st.addr, 0x2000000);
    cfg_free(&cfg);
}

/** Each `addr` line counts, even when it repeats the same value. */
static void test_addr_lines_are_numbered(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "load a\n"
                               "addr 0x2000000\n"
                               "load b\n"
                               "load c\n"
                               "addr 0x2000000\n"
                               "load d\n",
                               err),
                     0);
    assert_false(item_at(&cfg, 0)->has_addr);
    assert_int_equal(item_at(&cfg, 0)->addr_seq, 0);
    assert_int_equal(item_at(&cfg, 1)->addr_seq, 1);
    assert_int_equal(item_at(&cfg, 2)->addr_seq, 1);
    assert_int_equal(item_at(&cfg, 3)->addr_seq, 2);
    assert_int_equal(item_at(&cfg, 3)->addr, 0x2000000);
    cfg_free(&cfg);
}

/** The seed's Linux example: the ramdisk load precedes the exec. */
static void test_example_linux_load_before_exec(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "root linux\n"
                               "load ramdisk.gz\n"
                               "exec bzImage root=/dev/ram0\n",
                               err),
                     0);
    assert_int_equal(item_count(&cfg), 2);
    check_item(item_at(&cfg, 0), CFG_LOAD, "ramdisk.gz", "", "ramdisk.gz",
               "linux/ramdisk.gz");
    check_item(item_at(&cfg, 1), CFG_EXEC, "bzImage", "root=/dev/ram0",
               "bzImage root=/dev/ram0", "linux/bzImage");
    assert_ptr_equal(cfg.exec, item_at(&cfg, 1));
    assert_int_equal(cfg.nloads, 1);
    cfg_free(&cfg);
}

/** The seed's PXEGrub example: tftp and root apply to chld. */
static void test_example_pxegrub_chld(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "tftp 192.168.0.1\nroot pxe\nchld pxegrub.pxe\n",
                               err),
                     0);
    assert_int_equal(item_count(&cfg), 1);
    assert_non_null(cfg.chld);
    assert_ptr_equal(cfg.chld, cfg.items);
    check_item(cfg.chld, CFG_CHLD, "pxegrub.pxe", "", "pxegrub.pxe",
               "pxe/pxegrub.pxe");
    assert_int_equal(cfg.chld->server, ip4(192, 168, 0, 1));
    assert_null(cfg.exec);
    cfg_free(&cfg);
}

/* ------------------------------------------------------ items, state */

/** Once chld is seen the rest is moot, even lines that would be errors. */
static void test_chld_stops_processing(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "load a\n"
                               "chld grub.pxe\n"
                               "exec k\n"
                               "bogus directive\n"
                               "tftp nonsense\n",
                               err),
                     0);
    assert_string_equal(err, "");
    assert_int_equal(item_count(&cfg), 2);
    assert_ptr_equal(cfg.chld, item_at(&cfg, 1));
    assert_null(cfg.exec);
    assert_int_equal(cfg.nloads, 1);
    cfg_free(&cfg);
}

/** A later cfg_parse into a cfg holding a chld parses nothing. */
static void test_chld_makes_later_parse_moot(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "chld x\n", err), 0);
    assert_int_equal(cfg_parse(&cfg, &st, "u.cfg", "exec k\nbad\n", 11, NULL,
                               NULL, err),
                     0);
    assert_int_equal(item_count(&cfg), 1);
    assert_null(cfg.exec);
    cfg_free(&cfg);
}

/** Two cfg_parse calls append to the same list in order. */
static void test_parse_appends(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "load a\n", err), 0);
    assert_int_equal(cfg_parse(&cfg, &st, "u.cfg", "load b\nexec k", 13, NULL,
                               NULL, err),
                     0);
    assert_int_equal(item_count(&cfg), 3);
    assert_string_equal(item_at(&cfg, 1)->name, "b");
    assert_string_equal(item_at(&cfg, 1)->src_file, "u.cfg");
    assert_ptr_equal(cfg.exec, item_at(&cfg, 2));
    assert_int_equal(cfg.nloads, 2);
    cfg_free(&cfg);
}

/** Several execs: all are items, the last one is cfg->exec. */
static void test_multiple_execs_last_wins(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "exec first a\nload m\nexec second b\nload n\n",
                               err),
                     0);
    assert_int_equal(item_count(&cfg), 4);
    assert_ptr_equal(cfg.exec, item_at(&cfg, 2));
    assert_string_equal(cfg.exec->cmdline, "second b");
    assert_int_equal(item_at(&cfg, 0)->kind, CFG_EXEC);
    assert_int_equal(cfg.nloads, 2);
    cfg_free(&cfg);
}

/** `exec --multiboot1|--multiboot2`: the version forced, not in cmdline. */
static void test_exec_multiboot_option(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "exec --multiboot1  xen.gz  a=1\n"
                               "exec --multiboot2 nova\n",
                               err),
                     0);
    assert_int_equal(item_at(&cfg, 0)->multiboot, 1);
    assert_string_equal(item_at(&cfg, 0)->name, "xen.gz");
    assert_string_equal(item_at(&cfg, 0)->cmdline, "xen.gz a=1");
    assert_string_equal(item_at(&cfg, 0)->args, "a=1");
    assert_int_equal(cfg.exec->multiboot, 2);
    assert_string_equal(cfg.exec->cmdline, "nova");
    cfg_free(&cfg);
    assert_int_equal(parse_str(&cfg, &st, "exec plain\n", err), 0);
    assert_int_equal(cfg.exec->multiboot, 0);
    cfg_free(&cfg);
    expect_error("exec --multiboot3 k\n", -PE_INVAL,
                 "t.cfg:1: exec: unknown option '--multiboot3' "
                 "(--multiboot1 or --multiboot2)");
    expect_error("exec --multiboot2\n", -PE_INVAL,
                 "t.cfg:1: exec: missing file name");
}

/** Arguments keep inner white space but lose the surrounding white space. */
static void test_args_white_space(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               " \texec\t k.elf \t a  b\t= c \t \n"
                               "load\tm\t\n",
                               err),
                     0);
    check_item(item_at(&cfg, 0), CFG_EXEC, "k.elf", "a  b\t= c",
               "k.elf a  b\t= c", "k.elf");
    check_item(item_at(&cfg, 1), CFG_LOAD, "m", "", "m", "m");
    cfg_free(&cfg);
}

/** Each directive affects only the lines after it. */
static void test_state_changes_apply_to_later_lines(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "load a\n"
                               "root r1\naddr 4096\ntftp 1.2.3.4\n"
                               "load b\n"
                               "root r2/\naddr 0X10\n"
                               "load c\n",
                               err),
                     0);
    assert_string_equal(item_at(&cfg, 0)->path, "a");
    assert_false(item_at(&cfg, 0)->has_addr);
    assert_int_equal(item_at(&cfg, 0)->server, ip4(10, 0, 2, 2));
    assert_string_equal(item_at(&cfg, 1)->path, "r1/b");
    assert_true(item_at(&cfg, 1)->has_addr);
    assert_int_equal(item_at(&cfg, 1)->addr, 4096);
    assert_int_equal(item_at(&cfg, 1)->server, ip4(1, 2, 3, 4));
    assert_string_equal(item_at(&cfg, 2)->path, "r2/c");
    assert_int_equal(item_at(&cfg, 2)->addr, 16);
    assert_int_equal(item_at(&cfg, 2)->server, ip4(1, 2, 3, 4));
    cfg_free(&cfg);
}

/** A name starting with '/' under a root gets exactly one slash. */
static void test_absolute_name_under_root(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "exec /k\nroot nova\nexec /k\n",
                               err),
                     0);
    assert_string_equal(item_at(&cfg, 0)->path, "/k");
    assert_string_equal(item_at(&cfg, 1)->path, "nova/k");
    assert_string_equal(item_at(&cfg, 1)->name, "/k");
    cfg_free(&cfg);
}

/** An empty file is fine: no items, no error (the boot flow decides). */
static void test_empty_file(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN] = "stale";

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "", err), 0);
    assert_string_equal(err, "");
    assert_null(cfg.items);
    assert_null(cfg.exec);
    assert_int_equal(cfg.nloads, 0);
    assert_int_equal(cfg_parse(&cfg, &st, "n.cfg", NULL, 0, NULL, NULL, err),
                     0);
    assert_null(cfg.items);
    cfg_free(&cfg);
}

/** cfg_free zeroes the struct and is safe on an empty one. */
static void test_free_zeroes(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "load a\nexec b\n", err), 0);
    cfg_free(&cfg);
    assert_null(cfg.items);
    assert_null(cfg.exec);
    assert_null(cfg.chld);
    assert_int_equal(cfg.nloads, 0);
    cfg_free(&cfg);
}

/* ------------------------------------------------------------ lexing */

/** '#' as the first non-white character makes a comment; later it does not. */
static void test_comments(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "# a comment\n"
                               "   \t# indented comment with bogus words\n"
                               "#exec not-me\n"
                               "exec k # not a comment\n",
                               err),
                     0);
    assert_int_equal(item_count(&cfg), 1);
    assert_string_equal(cfg.exec->args, "# not a comment");
    assert_int_equal(cfg.exec->src_line, 4);
    cfg_free(&cfg);
}

/** Blank and white-only lines are ignored and still counted. */
static void test_blank_lines(void **state)
{
    (void)state;
    expect_error("\n\n   \n\t\t\n \t \n\nnope\n", -PE_INVAL,
                 "t.cfg:7: unknown directive 'nope'");
}

/** CRLF line endings: the CR is not part of the arguments. */
static void test_crlf(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "root nova\r\n\r\nexec k a b\r\nload m\r\n",
                               err),
                     0);
    check_item(item_at(&cfg, 0), CFG_EXEC, "k", "a b", "k a b", "nova/k");
    check_item(item_at(&cfg, 1), CFG_LOAD, "m", "", "m", "nova/m");
    assert_int_equal(item_at(&cfg, 1)->src_line, 4);
    cfg_free(&cfg);
}

/** A final line without a newline counts, with or without a CR. */
static void test_last_line_without_newline(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "load m\nexec k x", err), 0);
    assert_string_equal(cfg.exec->cmdline, "k x");
    cfg_free(&cfg);
    assert_int_equal(parse_str(&cfg, &st, "exec k x\r", err), 0);
    assert_string_equal(cfg.exec->cmdline, "k x");
    cfg_free(&cfg);
}

/** A trailing backslash joins lines; the next line's white space is kept. */
static void test_continuation(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "exec k a\\\n  b\\\nc\n"
                               "lo\\\nad m\n",
                               err),
                     0);
    assert_string_equal(cfg.exec->args, "a  bc");
    assert_int_equal(cfg.exec->src_line, 1);
    check_item(item_at(&cfg, 1), CFG_LOAD, "m", "", "m", "m");
    assert_int_equal(item_at(&cfg, 1)->src_line, 4);
    cfg_free(&cfg);
}

/** A backslash not at the very end of the line is an ordinary character. */
static void test_backslash_not_last(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "exec k a\\ \nload m\n", err), 0);
    assert_string_equal(cfg.exec->args, "a\\");
    assert_int_equal(item_count(&cfg), 2);
    cfg_free(&cfg);
}

/** A backslash on the last line, with or without newline, joins nothing. */
static void test_continuation_at_eof(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "exec k a\\", err), 0);
    assert_string_equal(cfg.exec->cmdline, "k a");
    cfg_free(&cfg);
    assert_int_equal(parse_str(&cfg, &st, "exec k a\\\n", err), 0);
    assert_string_equal(cfg.exec->cmdline, "k a");
    cfg_free(&cfg);
    assert_int_equal(parse_str(&cfg, &st, "exec k a\\\r\n", err), 0);
    assert_string_equal(cfg.exec->cmdline, "k a");
    cfg_free(&cfg);
}

/** Continuation works on CRLF lines: the CR goes before the backslash test. */
static void test_continuation_crlf(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "exec k a \\\r\n b\r\nload m\r\n", err),
                     0);
    assert_string_equal(cfg.exec->args, "a  b");
    assert_int_equal(item_at(&cfg, 1)->src_line, 3);
    cfg_free(&cfg);
}

/** A comment ending in a backslash swallows the next physical line. */
static void test_comment_continuation(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st,
                               "# comment \\\nexec swallowed\nload m\n", err),
                     0);
    assert_int_equal(item_count(&cfg), 1);
    assert_null(cfg.exec);
    assert_int_equal(cfg.items->src_line, 3);
    cfg_free(&cfg);
}

/** Errors name the first physical line of a joined logical line. */
static void test_error_line_is_first_physical_line(void **state)
{
    (void)state;
    expect_error("load a\nexec k \\\n x \\\n y\nfoo \\\n bar\n", -PE_INVAL,
                 "t.cfg:5: unknown directive 'foo'");
    expect_error("\n\\\n\\\nroot a \\\nb\n", -PE_INVAL,
                 "t.cfg:2: root: unexpected 'b'");
}

/* ------------------------------------------------------------- errors */

/** An unknown keyword is an error; keywords are case-sensitive. */
static void test_unknown_directive(void **state)
{
    (void)state;
    expect_error("root a\n\nxyz 1 2\n", -PE_INVAL,
                 "t.cfg:3: unknown directive 'xyz'");
    expect_error("EXEC k\n", -PE_INVAL, "t.cfg:1: unknown directive 'EXEC'");
    expect_error("execk\n", -PE_INVAL, "t.cfg:1: unknown directive 'execk'");
}

/** A very long unknown keyword is shortened in the message. */
static void test_unknown_directive_long_name(void **state)
{
    char text[300], msg[CFG_ERR_LEN];

    (void)state;
    memset(text, 'z', 200);
    text[200] = '\0';
    snprintf(msg, sizeof(msg), "t.cfg:1: unknown directive '%.64s...'", text);
    expect_error(text, -PE_INVAL, msg);
}

/** Every directive needs an argument; the message names what is missing. */
static void test_missing_argument(void **state)
{
    (void)state;
    expect_error("exec\n", -PE_INVAL, "t.cfg:1: exec: missing file name");
    expect_error("load   \t\n", -PE_INVAL, "t.cfg:1: load: missing file name");
    expect_error("chld\n", -PE_INVAL, "t.cfg:1: chld: missing file name");
    expect_error("conf\n", -PE_INVAL, "t.cfg:1: conf: missing file name");
    expect_error("\nroot \n", -PE_INVAL, "t.cfg:2: root: missing path");
    expect_error("tftp", -PE_INVAL, "t.cfg:1: tftp: missing IPv4 address");
    expect_error("addr\r\n", -PE_INVAL, "t.cfg:1: addr: missing number");
}

/** root/tftp/addr/conf/chld take exactly one word. */
static void test_extra_words(void **state)
{
    (void)state;
    expect_error("root a x y\n", -PE_INVAL, "t.cfg:1: root: unexpected 'x'");
    expect_error("tftp 1.2.3.4 5\n", -PE_INVAL,
                 "t.cfg:1: tftp: unexpected '5'");
    expect_error("addr 0x10\tjunk\n", -PE_INVAL,
                 "t.cfg:1: addr: unexpected 'junk'");
    expect_error("conf b.cfg c\n", -PE_INVAL,
                 "t.cfg:1: conf: unexpected 'c'");
    expect_error("chld g.pxe --x\n", -PE_INVAL,
                 "t.cfg:1: chld: unexpected '--x'");
}

/** tftp refuses anything but a strict dotted quad. */
static void test_tftp_malformed(void **state)
{
    (void)state;
    expect_error("tftp 1.2.3\n", -PE_INVAL,
                 "t.cfg:1: tftp: '1.2.3' is not an IPv4 address");
    expect_error("tftp 1.2.3.256\n", -PE_INVAL,
                 "t.cfg:1: tftp: '1.2.3.256' is not an IPv4 address");
    expect_error("tftp server.example\n", -PE_INVAL,
                 "t.cfg:1: tftp: 'server.example' is not an IPv4 address");
}

/** addr refuses junk and values of 2^32 or more. */
static void test_addr_malformed(void **state)
{
    (void)state;
    expect_error("addr 0xZZ\n", -PE_INVAL,
                 "t.cfg:1: addr: '0xZZ' is not a number");
    expect_error("addr 12k\n", -PE_INVAL,
                 "t.cfg:1: addr: '12k' is not a number");
    expect_error("addr -1\n", -PE_INVAL,
                 "t.cfg:1: addr: '-1' is not a number");
    expect_error("addr 0x100000000\n", -PE_RANGE,
                 "t.cfg:1: addr: '0x100000000' does not fit in 32 bits");
    expect_error("addr 4294967296\n", -PE_RANGE,
                 "t.cfg:1: addr: '4294967296' does not fit in 32 bits");
}

/** The largest addr is 0xffffffff. */
static void test_addr_max(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "addr 0xFFFFFFFF\nload m\n", err),
                     0);
    assert_int_equal(cfg.items->addr, 0xffffffffu);
    assert_true(cfg.items->has_addr);
    cfg_free(&cfg);
}

/** A logical line may hold CFG_MAX_LINE bytes, not one more. */
static void test_line_too_long(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];
    char *text = malloc(CFG_MAX_LINE + 16);

    (void)state;
    assert_non_null(text);
    /* "load m " + padding args: exactly CFG_MAX_LINE bytes, then '\n'. */
    memset(text, 'a', CFG_MAX_LINE);
    memcpy(text, "load m ", 7);
    text[CFG_MAX_LINE] = '\n';
    assert_int_equal(parse_with(&cfg, &st, text, CFG_MAX_LINE + 1, NULL, err),
                     0);
    assert_int_equal(strlen(cfg.items->args), CFG_MAX_LINE - 7);
    cfg_free(&cfg);

    /* Line 2 is a comment of CFG_MAX_LINE + 1 bytes: still too long. */
    memset(text, 'a', 7 + CFG_MAX_LINE + 1);
    memcpy(text, "exec k\n# ", 9);
    text[7 + CFG_MAX_LINE + 1] = '\n';
    assert_int_equal(parse_with(&cfg, &st, text, 7 + CFG_MAX_LINE + 2, NULL,
                                err),
                     -PE_TOOLONG);
    assert_string_equal(err, "t.cfg:2: line too long (over 4096 bytes)");
    cfg_free(&cfg);
    free(text);
}

/** Joining can make a line too long; the error names its first line. */
static void test_line_too_long_by_joining(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];
    char *text = malloc(2 * CFG_MAX_LINE);
    size_t n = 0, content = 7;

    (void)state;
    assert_non_null(text);
    memcpy(text, "\nload m ", 8);
    n = 8;
    /* Each physical line adds 7 bytes to the logical line. */
    while (content <= CFG_MAX_LINE) {
        memcpy(text + n, "aaaaaaa\\\n", 9);
        n += 9;
        content += 7;
    }
    text[n++] = '\n';
    assert_int_equal(parse_with(&cfg, &st, text, n, NULL, err), -PE_TOOLONG);
    assert_string_equal(err, "t.cfg:2: line too long (over 4096 bytes)");
    cfg_free(&cfg);
    free(text);
}

/** A NUL byte anywhere is an error, reported on its line. */
static void test_nul_byte(void **state)
{
    static const char text[] = "load a\nexec k\nchld g\nx\0y\n";
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_with(&cfg, &st, text, sizeof(text) - 1, NULL, err),
                     -PE_INVAL);
    assert_string_equal(err, "t.cfg:4: NUL byte in config");
    assert_null(cfg.items);
    cfg_free(&cfg);
}

/** root + name over CFG_MAX_PATH is an error naming the directive. */
static void test_path_too_long(void **state)
{
    char text[512], name[CFG_MAX_PATH + 2];

    (void)state;
    /* root "r" + "/" + 125 bytes = 127: fine; 126 bytes: too long. */
    memset(name, 'n', sizeof(name));
    name[125] = '\0';
    snprintf(text, sizeof(text), "root r\nexec %s\nload %sn\n", name, name);
    expect_error(text, -PE_TOOLONG,
                 "t.cfg:3: load: path too long (over 127 bytes)");
    snprintf(text, sizeof(text), "root r\nchld %sn\n", name);
    expect_error(text, -PE_TOOLONG,
                 "t.cfg:2: chld: path too long (over 127 bytes)");
}

/** A root longer than CFG_MAX_PATH is refused. */
static void test_root_too_long(void **state)
{
    char text[512], root[CFG_MAX_PATH + 2];

    (void)state;
    memset(root, 'r', sizeof(root));
    root[CFG_MAX_PATH + 1] = '\0';
    snprintf(text, sizeof(text), "root %s\n", root);
    expect_error(text, -PE_TOOLONG,
                 "t.cfg:1: root: path too long (over 127 bytes)");
}

/** Items before an error stay in cfg and are freed by cfg_free. */
static void test_error_keeps_earlier_items(void **state)
{
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, "load a\nexec k\nbad\n", err),
                     -PE_INVAL);
    assert_int_equal(item_count(&cfg), 2);
    cfg_free(&cfg);
}

/* ----------------------------------------------------------- nesting */

/** conf without a fetch callback is an error. */
static void test_conf_without_fetch(void **state)
{
    (void)state;
    expect_error("load a\nconf b.cfg\n", -PE_UNSUPP,
                 "t.cfg:2: conf: 'b.cfg': nested configs cannot be fetched "
                 "here");
}

/** conf parses the fetched file in place; its state carries over. */
static void test_conf_nested_state_carries_over(void **state)
{
    static const struct fake_file files[] = {
        { "nova/b.cfg", "load inner\nroot l4\ntftp 10.0.0.9\naddr 0x100\n", 0 },
        { NULL, NULL, 0 },
    };
    static const char text[] = "root nova\nconf b.cfg\nexec k\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_with(&cfg, &st, text, strlen(text), &fs, err), 0);
    assert_int_equal(fs.calls, 1);
    assert_string_equal(fs.last_path, "nova/b.cfg");
    assert_string_equal(fs.last_root, "nova");
    assert_int_equal(fs.last_server, ip4(10, 0, 2, 2));
    assert_int_equal(item_count(&cfg), 2);
    assert_string_equal(item_at(&cfg, 0)->path, "nova/inner");
    assert_string_equal(item_at(&cfg, 0)->src_file, "nova/b.cfg");
    assert_int_equal(item_at(&cfg, 0)->src_line, 1);
    assert_string_equal(cfg.exec->path, "l4/k");
    assert_int_equal(cfg.exec->server, ip4(10, 0, 0, 9));
    assert_true(cfg.exec->has_addr);
    assert_int_equal(cfg.exec->addr, 0x100);
    assert_string_equal(cfg.exec->src_file, "t.cfg");
    assert_int_equal(cfg.exec->src_line, 3);
    cfg_free(&cfg);
}

/** A chld inside a nested file stops the outer file too. */
static void test_conf_nested_chld_stops_all(void **state)
{
    static const struct fake_file files[] = {
        { "b.cfg", "load x\nchld g.pxe\nbogus\n", 0 },
        { NULL, NULL, 0 },
    };
    static const char text[] = "conf b.cfg\nexec k\nbogus\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_with(&cfg, &st, text, strlen(text), &fs, err), 0);
    assert_int_equal(item_count(&cfg), 2);
    assert_string_equal(cfg.chld->name, "g.pxe");
    assert_null(cfg.exec);
    cfg_free(&cfg);
}

/** An error in a nested file names that file and its line. */
static void test_conf_nested_error(void **state)
{
    static const struct fake_file files[] = {
        { "b.cfg", "load x\n\ntftp 1.2.3\n", 0 },
        { NULL, NULL, 0 },
    };
    static const char text[] = "conf b.cfg\nexec k\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_with(&cfg, &st, text, strlen(text), &fs, err),
                     -PE_INVAL);
    assert_string_equal(err, "b.cfg:3: tftp: '1.2.3' is not an IPv4 address");
    cfg_free(&cfg);
}

/** A fetch failure shows the path and the fetcher's reason. */
static void test_conf_fetch_failure_why(void **state)
{
    static const struct fake_file files[] = { { NULL, NULL, 0 } };
    static const char text[] = "root r\n\nconf missing.cfg\n";
    struct fake_fs fs = { .files = files,
                          .why = "not found on 10.0.2.2 (TFTP error 1)" };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_with(&cfg, &st, text, strlen(text), &fs, err),
                     -PE_NOENT);
    assert_string_equal(err, "t.cfg:3: conf: r/missing.cfg: not found on "
                             "10.0.2.2 (TFTP error 1)");
    cfg_free(&cfg);
}

/** Without a reason from the fetcher, the message uses pulsar_strerror. */
static void test_conf_fetch_failure_strerror(void **state)
{
    static const struct fake_file files[] = { { NULL, NULL, 0 } };
    static const char text[] = "conf missing.cfg\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_with(&cfg, &st, text, strlen(text), &fs, err),
                     -PE_NOENT);
    assert_string_equal(err, "t.cfg:1: conf: missing.cfg: file not found");
    cfg_free(&cfg);
}

/** a.cfg -> b.cfg -> a.cfg is a loop; the message shows the chain. */
static void test_conf_loop(void **state)
{
    static const struct fake_file files[] = {
        { "a.cfg", "conf b.cfg\n", 0 },
        { "b.cfg", "load x\nconf a.cfg\n", 0 },
        { NULL, NULL, 0 },
    };
    static const char text[] = "conf b.cfg\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg_state_init(&st, "", 0);
    assert_int_equal(cfg_parse(&cfg, &st, "a.cfg", text, strlen(text),
                               fake_fetch, &fs, err),
                     -PE_LOOP);
    assert_string_equal(err, "b.cfg:2: conf: loop: a.cfg -> b.cfg -> a.cfg");
    assert_int_equal(fs.calls, 1);
    cfg_free(&cfg);
}

/** A file that includes itself is a loop too. */
static void test_conf_self_loop(void **state)
{
    static const struct fake_file files[] = { { NULL, NULL, 0 } };
    static const char text[] = "conf t.cfg\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_with(&cfg, &st, text, strlen(text), &fs, err),
                     -PE_LOOP);
    assert_string_equal(err, "t.cfg:1: conf: loop: t.cfg -> t.cfg");
    assert_int_equal(fs.calls, 0);
    cfg_free(&cfg);
}

/** The same file included twice, not nested, is not a loop. */
static void test_conf_same_file_twice(void **state)
{
    static const struct fake_file files[] = {
        { "m.cfg", "load m\n", 0 },
        { NULL, NULL, 0 },
    };
    static const char text[] = "conf m.cfg\nconf m.cfg\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_with(&cfg, &st, text, strlen(text), &fs, err), 0);
    assert_int_equal(cfg.nloads, 2);
    cfg_free(&cfg);
}

/** d1 -> ... -> d8 is as deep as it goes (CFG_MAX_DEPTH files). */
static void test_conf_max_depth_ok(void **state)
{
    static const struct fake_file files[] = {
        { "d2.cfg", "conf d3.cfg\n", 0 }, { "d3.cfg", "conf d4.cfg\n", 0 },
        { "d4.cfg", "conf d5.cfg\n", 0 }, { "d5.cfg", "conf d6.cfg\n", 0 },
        { "d6.cfg", "conf d7.cfg\n", 0 }, { "d7.cfg", "conf d8.cfg\n", 0 },
        { "d8.cfg", "exec deep\n", 0 },   { NULL, NULL, 0 },
    };
    static const char text[] = "conf d2.cfg\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg_state_init(&st, "", 0);
    assert_int_equal(cfg_parse(&cfg, &st, "d1.cfg", text, strlen(text),
                               fake_fetch, &fs, err),
                     0);
    assert_string_equal(cfg.exec->src_file, "d8.cfg");
    cfg_free(&cfg);
}

/** One level more than CFG_MAX_DEPTH is an error showing the chain. */
static void test_conf_too_deep(void **state)
{
    static const struct fake_file files[] = {
        { "d2.cfg", "conf d3.cfg\n", 0 }, { "d3.cfg", "conf d4.cfg\n", 0 },
        { "d4.cfg", "conf d5.cfg\n", 0 }, { "d5.cfg", "conf d6.cfg\n", 0 },
        { "d6.cfg", "conf d7.cfg\n", 0 }, { "d7.cfg", "conf d8.cfg\n", 0 },
        { "d8.cfg", "\nconf d9.cfg\n", 0 }, { "d9.cfg", "exec deep\n", 0 },
        { NULL, NULL, 0 },
    };
    static const char text[] = "conf d2.cfg\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg_state_init(&st, "", 0);
    assert_int_equal(cfg_parse(&cfg, &st, "d1.cfg", text, strlen(text),
                               fake_fetch, &fs, err),
                     -PE_LOOP);
    assert_string_equal(err, "d8.cfg:2: conf: nested too deep (over 8 files): "
                             "d1.cfg -> d2.cfg -> d3.cfg -> d4.cfg -> "
                             "d5.cfg -> d6.cfg -> d7.cfg -> d8.cfg -> d9.cfg");
    assert_null(cfg.exec);
    cfg_free(&cfg);
}

/** conf's joined path must fit too. */
static void test_conf_path_too_long(void **state)
{
    static const struct fake_file files[] = { { NULL, NULL, 0 } };
    struct fake_fs fs = { .files = files };
    char text[512], name[CFG_MAX_PATH + 1];
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    memset(name, 'c', CFG_MAX_PATH);
    name[CFG_MAX_PATH] = '\0';
    snprintf(text, sizeof(text), "root r\nconf %s\n", name);
    assert_int_equal(parse_with(&cfg, &st, text, strlen(text), &fs, err),
                     -PE_TOOLONG);
    assert_string_equal(err, "t.cfg:2: conf: path too long (over 127 bytes)");
    assert_int_equal(fs.calls, 0);
    cfg_free(&cfg);
}

/** A NUL in a nested file is reported against that file and line. */
static void test_conf_nested_nul(void **state)
{
    static const struct fake_file files[] = {
        { "n.cfg", "load a\nx\0\n", 10 },
        { NULL, NULL, 0 },
    };
    static const char text[] = "load m\nconf n.cfg\n";
    struct fake_fs fs = { .files = files };
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];

    (void)state;
    assert_int_equal(parse_with(&cfg, &st, text, strlen(text), &fs, err),
                     -PE_INVAL);
    assert_string_equal(err, "n.cfg:2: NUL byte in config");
    assert_int_equal(cfg.nloads, 1);
    cfg_free(&cfg);
}

/* ------------------------------------------------------ the helpers */

/** cfg_parse_ip: strict dotted quads only, network byte order. */
static void test_parse_ip(void **state)
{
    static const char *const bad[] = {
        "",        "1.2.3",    "1.2.3.4.5", "1..3.4",  ".1.2.3",
        "1.2.3.",  "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "+1.2.3.4",
        "1.2.3.-4", "0001.2.3.4", "1.2.3.4x", "a.b.c.d", "1.2.3.1000",
        "0x1.2.3.4",
    };
    uint32_t ip = 0x12345678;
    size_t i;

    (void)state;
    assert_int_equal(cfg_parse_ip("192.168.0.1", &ip), 0);
    assert_int_equal(ip, ip4(192, 168, 0, 1));
    assert_memory_equal(&ip, "\xc0\xa8\x00\x01", 4);
    assert_int_equal(cfg_parse_ip("0.0.0.0", &ip), 0);
    assert_int_equal(ip, 0);
    assert_int_equal(cfg_parse_ip("255.255.255.255", &ip), 0);
    assert_int_equal(ip, 0xffffffffu);
    assert_int_equal(cfg_parse_ip("010.001.000.09", &ip), 0);
    assert_int_equal(ip, ip4(10, 1, 0, 9));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ip = 0x12345678;
        assert_int_equal(cfg_parse_ip(bad[i], &ip), -PE_INVAL);
        assert_int_equal(ip, 0x12345678);
    }
    assert_int_equal(cfg_parse_ip(NULL, &ip), -PE_INVAL);
}

/** cfg_parse_addr: decimal or 0x hex, below 2^32, no junk. */
static void test_parse_addr(void **state)
{
    static const char *const bad[] = {
        "", "0x", "0X", "x10", "+1", "-1", "1 ", " 1", "0x1g", "12a", "0b1",
        "1.5", "0xx1",
    };
    uint64_t v = 7;
    size_t i;

    (void)state;
    assert_int_equal(cfg_parse_addr("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(cfg_parse_addr("4294967295", &v), 0);
    assert_int_equal(v, 0xffffffffu);
    assert_int_equal(cfg_parse_addr("0x2000000", &v), 0);
    assert_int_equal(v, 0x2000000);
    assert_int_equal(cfg_parse_addr("0XaBcD", &v), 0);
    assert_int_equal(v, 0xabcd);
    assert_int_equal(cfg_parse_addr("010", &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(cfg_parse_addr("0x00000000ffffffff", &v), 0);
    assert_int_equal(v, 0xffffffffu);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 7;
        assert_int_equal(cfg_parse_addr(bad[i], &v), -PE_INVAL);
        assert_int_equal(v, 7);
    }
    assert_int_equal(cfg_parse_addr("4294967296", &v), -PE_RANGE);
    assert_int_equal(cfg_parse_addr("0x100000000", &v), -PE_RANGE);
    assert_int_equal(cfg_parse_addr("99999999999999999999999999", &v),
                     -PE_RANGE);
    assert_int_equal(cfg_parse_addr("0xffffffffffffffffffff", &v), -PE_RANGE);
    assert_int_equal(cfg_parse_addr("99999999999999999999z", &v), -PE_INVAL);
    assert_int_equal(v, 7);
}

/** cfg_join_path: one slash between root and name, length checked. */
static void test_join_path(void **state)
{
    char out[CFG_MAX_PATH + 1], name[CFG_MAX_PATH + 2];

    (void)state;
    assert_int_equal(cfg_join_path("", "x", out), 0);
    assert_string_equal(out, "x");
    assert_int_equal(cfg_join_path(NULL, "x", out), 0);
    assert_string_equal(out, "x");
    assert_int_equal(cfg_join_path("", "/x", out), 0);
    assert_string_equal(out, "/x");
    assert_int_equal(cfg_join_path("nova", "x", out), 0);
    assert_string_equal(out, "nova/x");
    assert_int_equal(cfg_join_path("nova/", "x", out), 0);
    assert_string_equal(out, "nova/x");
    assert_int_equal(cfg_join_path("nova", "/x", out), 0);
    assert_string_equal(out, "nova/x");
    assert_int_equal(cfg_join_path("nova/", "/x", out), 0);
    assert_string_equal(out, "nova/x");
    assert_int_equal(cfg_join_path("a/b", "c/d", out), 0);
    assert_string_equal(out, "a/b/c/d");

    memset(name, 'n', sizeof(name));
    name[CFG_MAX_PATH] = '\0';
    assert_int_equal(cfg_join_path("", name, out), 0);
    assert_int_equal(strlen(out), CFG_MAX_PATH);
    name[CFG_MAX_PATH] = 'n';
    name[CFG_MAX_PATH + 1] = '\0';
    assert_int_equal(cfg_join_path("", name, out), -PE_TOOLONG);
    assert_string_equal(out, "");
    name[CFG_MAX_PATH - 2] = '\0'; /* "r/" + 125 = 127 */
    assert_int_equal(cfg_join_path("r", name, out), 0);
    assert_int_equal(strlen(out), CFG_MAX_PATH);
    assert_int_equal(cfg_join_path("r/", name, out), 0);
    assert_int_equal(cfg_join_path("rr", name, out), -PE_TOOLONG);
}

/** A URL root joins like a path; a URL name stands alone. */
static void test_join_url(void **state)
{
    char out[CFG_MAX_PATH + 1];

    (void)state;
    assert_int_equal(cfg_join_path("http://10.0.2.2/nova", "k", out), 0);
    assert_string_equal(out, "http://10.0.2.2/nova/k");
    assert_int_equal(cfg_join_path("nova", "http://h/k", out), 0);
    assert_string_equal(out, "http://h/k");
    assert_int_equal(cfg_join_path("http://a/x", "HTTPS://b/k", out), 0);
    assert_string_equal(out, "HTTPS://b/k");
    /* Not a URL: joined as a path. */
    assert_int_equal(cfg_join_path("r", "ftp://h/k", out), 0);
    assert_string_equal(out, "r/ftp://h/k");
}

/** `root http://...` then names: URLs in the items, server unchanged. */
static void test_root_url(void **state)
{
    const char *text = "root http://10.0.2.2:8080/nova\n"
                       "exec kernel.elf a=1\n"
                       "load http://boot/other.bin\n"
                       "load mod.bin\n";
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];
    const struct cfg_item *it;

    (void)state;
    assert_int_equal(parse_str(&cfg, &st, text, err), 0);
    it = cfg.items;
    assert_string_equal(it->path, "http://10.0.2.2:8080/nova/kernel.elf");
    assert_int_equal(it->server, ip4(10, 0, 2, 2));
    it = it->next;
    assert_string_equal(it->path, "http://boot/other.bin");
    it = it->next;
    assert_string_equal(it->path, "http://10.0.2.2:8080/nova/mod.bin");
    cfg_free(&cfg);
}

/** cfg_state_init: NULL root is "", a long root is clamped, no addr. */
static void test_state_init(void **state)
{
    struct cfg_state st;
    char root[300];

    (void)state;
    memset(&st, 0xa5, sizeof(st));
    cfg_state_init(&st, NULL, ip4(10, 0, 2, 2));
    assert_string_equal(st.root, "");
    assert_int_equal(st.server, ip4(10, 0, 2, 2));
    assert_false(st.has_addr);
    assert_int_equal(st.addr, 0);

    cfg_state_init(&st, "tftp/root", 0);
    assert_string_equal(st.root, "tftp/root");

    memset(root, 'r', sizeof(root) - 1);
    root[sizeof(root) - 1] = '\0';
    cfg_state_init(&st, root, 0);
    assert_int_equal(strlen(st.root), CFG_MAX_PATH);
    assert_memory_equal(st.root, root, CFG_MAX_PATH);
}

/** A clamped root can hold no name: every item fails "path too long". */
static void test_clamped_root_fails_loudly(void **state)
{
    struct cfg cfg = { 0 };
    struct cfg_state st;
    char err[CFG_ERR_LEN], root[200];

    (void)state;
    memset(root, 'r', sizeof(root) - 1);
    root[sizeof(root) - 1] = '\0';
    cfg_state_init(&st, root, 0);
    assert_int_equal(cfg_parse(&cfg, &st, "t.cfg", "exec k\n", 7, NULL, NULL,
                               err),
                     -PE_TOOLONG);
    assert_string_equal(err, "t.cfg:1: exec: path too long (over 127 bytes)");
    cfg_free(&cfg);
}

/* ------------------------------------------------ scale and fuzzing */

/**
 * 100000 lines parse quickly (linear in the number of lines) and up to
 * CFG_MAX_FILES of them may name files; the next one is refused at its
 * line.  Lines between the loads change state (root, tftp, addr) or are
 * comments.
 */
static void test_large_config_is_linear(void **state)
{
    const unsigned nlines = 100000;
    const unsigned every = nlines / CFG_MAX_FILES; /* a load every ~97 */
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN], want[CFG_ERR_LEN];
    char *text = malloc((size_t)nlines * 32);
    size_t len = 0;
    clock_t start;
    double secs;
    unsigned i, loads = 0, extra_line = 0;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < nlines; i++) {
        if (i % every == 0 && loads < CFG_MAX_FILES) {
            len += (size_t)sprintf(text + len, "load m%u arg%u\n", i, i);
            loads++;
        } else if (i % 3 == 0) {
            len += (size_t)sprintf(text + len, "root r%u\n", i);
        } else if (i % 3 == 1) {
            len += (size_t)sprintf(text + len, "tftp 10.0.%u.%u\n",
                                   (i >> 8) & 255, i & 255);
        } else {
            len += (size_t)sprintf(text + len, "# comment %u\n", i);
        }
    }
    assert_int_equal(loads, CFG_MAX_FILES);
    start = clock();
    assert_int_equal(parse_with(&cfg, &st, text, len, NULL, err), 0);
    secs = (double)(clock() - start) / CLOCKS_PER_SEC;
    assert_int_equal(cfg.nloads, CFG_MAX_FILES);
    assert_int_equal(item_count(&cfg), CFG_MAX_FILES);
    assert_string_equal(item_at(&cfg, 0)->cmdline, "m0 arg0");
    assert_true(secs < 3.0);
    cfg_free(&cfg);

    /* One file more is refused, at its line. */
    len += (size_t)sprintf(text + len, "load one-too-many\n");
    extra_line = nlines + 1;
    assert_int_equal(parse_with(&cfg, &st, text, len, NULL, err),
                     -PE_RANGE);
    snprintf(want, sizeof(want), "t.cfg:%u: load: too many files (over %u)",
             extra_line, CFG_MAX_FILES);
    assert_string_equal(err, want);
    cfg_free(&cfg);
    free(text);
}

/** A fixed-seed xorshift32, so the fuzz run is the same every time. */
static uint32_t fuzz_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/** Fill @buf with @len bytes biased to directives and tricky characters. */
static void fuzz_fill(uint32_t *seed, char *buf, size_t len)
{
    static const char *const pieces[] = {
        "exec ", "load ", "root ", "tftp ", "addr ", "conf ", "chld ",
        " ", "\t", "\\", "\n", "\r\n", "#", "1.2.3.4", "0x10", "k.elf",
        "a", "/", "999999999999",
    };
    const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
    size_t n = 0, plen;
    uint32_t r;

    while (n < len) {
        r = fuzz_next(seed);
        if (r % 16 == 0) {
            buf[n++] = '\0';
        } else if (r % 16 == 1) {
            buf[n++] = (char)(r >> 8);
        } else {
            const char *p = pieces[(r >> 4) % npieces];

            plen = strlen(p);
            if (plen > len - n)
                plen = len - n;
            memcpy(buf + n, p, plen);
            n += plen;
        }
    }
}

/** 2000 random buffers: 0, or an error that starts with the file name. */
static void test_fuzzish(void **state)
{
    uint32_t seed = 0x5eed1234;
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];
    unsigned iter, nok = 0;

    (void)state;
    for (iter = 0; iter < 2000; iter++) {
        size_t len = fuzz_next(&seed) % 601;
        char *buf = malloc(len ? len : 1);
        const struct cfg_item *item, *last_exec = NULL;
        unsigned nloads = 0;
        int rc;

        assert_non_null(buf);
        fuzz_fill(&seed, buf, len);
        memset(err, 'X', sizeof(err));
        rc = parse_with(&cfg, &st, buf, len, NULL, err);
        assert_true(rc <= 0);
        assert_non_null(memchr(err, '\0', sizeof(err)));
        if (rc == 0) {
            nok++;
            assert_string_equal(err, "");
            for (item = cfg.items; item; item = item->next) {
                if (item->kind == CFG_EXEC)
                    last_exec = item;
                if (item->kind == CFG_LOAD)
                    nloads++;
                assert_true(strlen(item->path) <= CFG_MAX_PATH);
                if (item->kind == CFG_CHLD)
                    assert_ptr_equal(item, cfg.chld);
                if (cfg.chld && item->next == NULL)
                    assert_ptr_equal(item, cfg.chld);
            }
            assert_ptr_equal(last_exec, cfg.exec);
            assert_int_equal(nloads, cfg.nloads);
        } else {
            assert_true(strncmp(err, "t.cfg:", 6) == 0);
            assert_true(strlen(err) > 6);
        }
        cfg_free(&cfg);
        free(buf);
    }
    /* The generator must reach the success path as well as the errors. */
    assert_true(nok > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_nova),
        cmocka_unit_test(test_example_l4_addr),
        cmocka_unit_test(test_example_linux_load_before_exec),
        cmocka_unit_test(test_example_pxegrub_chld),
        cmocka_unit_test(test_chld_stops_processing),
        cmocka_unit_test(test_chld_makes_later_parse_moot),
        cmocka_unit_test(test_parse_appends),
        cmocka_unit_test(test_multiple_execs_last_wins),
        cmocka_unit_test(test_exec_multiboot_option),
        cmocka_unit_test(test_args_white_space),
        cmocka_unit_test(test_state_changes_apply_to_later_lines),
        cmocka_unit_test(test_absolute_name_under_root),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_free_zeroes),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_last_line_without_newline),
        cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_backslash_not_last),
        cmocka_unit_test(test_continuation_at_eof),
        cmocka_unit_test(test_continuation_crlf),
        cmocka_unit_test(test_comment_continuation),
        cmocka_unit_test(test_error_line_is_first_physical_line),
        cmocka_unit_test(test_unknown_directive),
        cmocka_unit_test(test_unknown_directive_long_name),
        cmocka_unit_test(test_missing_argument),
        cmocka_unit_test(test_extra_words),
        cmocka_unit_test(test_tftp_malformed),
        cmocka_unit_test(test_addr_malformed),
        cmocka_unit_test(test_addr_max),
        cmocka_unit_test(test_line_too_long),
        cmocka_unit_test(test_line_too_long_by_joining),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_path_too_long),
        cmocka_unit_test(test_root_too_long),
        cmocka_unit_test(test_error_keeps_earlier_items),
        cmocka_unit_test(test_conf_without_fetch),
        cmocka_unit_test(test_conf_nested_state_carries_over),
        cmocka_unit_test(test_conf_nested_chld_stops_all),
        cmocka_unit_test(test_conf_nested_error),
        cmocka_unit_test(test_conf_fetch_failure_why),
        cmocka_unit_test(test_conf_fetch_failure_strerror),
        cmocka_unit_test(test_conf_loop),
        cmocka_unit_test(test_conf_self_loop),
        cmocka_unit_test(test_conf_same_file_twice),
        cmocka_unit_test(test_conf_max_depth_ok),
        cmocka_unit_test(test_conf_too_deep),
        cmocka_unit_test(test_conf_path_too_long),
        cmocka_unit_test(test_conf_nested_nul),
        cmocka_unit_test(test_parse_ip),
        cmocka_unit_test(test_parse_addr),
        cmocka_unit_test(test_join_path),
        cmocka_unit_test(test_join_url),
        cmocka_unit_test(test_root_url),
        cmocka_unit_test(test_state_init),
        cmocka_unit_test(test_clamped_root_fails_loudly),
        cmocka_unit_test(test_large_config_is_linear),
        cmocka_unit_test(test_fuzzish),
        cmocka_unit_test(test_addr_lines_are_numbered),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
