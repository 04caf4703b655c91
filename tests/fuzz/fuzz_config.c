/*
 * libFuzzer target: the config parser (config/config.c).
 *
 * Input: the top-level config, then any number of nested files, each
 * after a line "--" ("text\n--\nfile 1\n--\nfile 2").  A `conf` fetches
 * file 1 + (a hash of the path) mod the number of nested files, or fails
 * as "not found" when there are none, so loops, depth and errors inside
 * nested files are all reachable.
 *
 * Checks beyond the sanitizers: the message is a terminated string that
 * names a file and line on failure and is empty on success; every item
 * has a path of at most CFG_MAX_PATH bytes that ends with its name (less
 * leading slashes) and names a file, not a directory, a
 * command line that is the name or "name args", a line number >= 1; the
 * counts agree with the list; the last exec is cfg.exec.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "lib/errno.h"
#include "loader/plan.h"

#define MAX_PARTS 16

struct parts {
    const char *p[MAX_PARTS];
    size_t len[MAX_PARTS];
    unsigned n;
};

/** Split @data at "\n--\n" into at most MAX_PARTS parts. */
static void split(const uint8_t *data, size_t size, struct parts *out)
{
    const char *s = (const char *)data, *end = s + size;

    out->n = 0;
    while (out->n < MAX_PARTS - 1) {
        const char *cut = NULL;
        for (const char *q = s; q + 4 <= end; q++)
            if (memcmp(q, "\n--\n", 4) == 0) {
                cut = q;
                break;
            }
        if (!cut)
            break;
        out->p[out->n] = s;
        out->len[out->n++] = (size_t)(cut - s) + 1;
        s = cut + 4;
    }
    out->p[out->n] = s;
    out->len[out->n++] = (size_t)(end - s);
}

/** `conf`: hand out one of the nested parts (a malloc'd copy). */
static int fetch(void *ctx, const struct cfg_state *st, const char *path,
                 char **text, size_t *len, char *why)
{
    const struct parts *parts = ctx;
    unsigned h = 5381;

    (void)st;
    if (parts->n < 2) {
        strcpy(why, "not found");
        return -PE_NOENT;
    }
    for (const char *c = path; *c; c++)
        h = h * 33 + (unsigned char)*c;
    unsigned i = 1 + h % (parts->n - 1);
    *text = malloc(parts->len[i] + 1);
    if (!*text)
        return -PE_NOMEM;
    memcpy(*text, parts->p[i], parts->len[i]);
    (*text)[parts->len[i]] = '\0';
    *len = parts->len[i];
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct parts parts;
    struct cfg cfg;
    struct cfg_state st;
    char err[CFG_ERR_LEN];
    const uint32_t server = 0x0202000a;
    const struct cfg_item *last_exec = NULL;
    unsigned n = 0, loads = 0;
    int rc;

    split(data, size, &parts);
    memset(&cfg, 0, sizeof(cfg));
    cfg_state_init(&st, NULL, server);
    memset(err, 'x', sizeof(err));
    rc = cfg_parse(&cfg, &st, "config-fuzz", parts.p[0], parts.len[0], fetch,
                   &parts, err);
    assert(memchr(err, '\0', sizeof(err)) != NULL);
    if (rc != 0) {
        assert(rc < 0 && rc > -PE_MAX);
        assert(err[0] != '\0' && strchr(err, ':') != NULL);
    } else {
        assert(err[0] == '\0');
    }
    for (const struct cfg_item *it = cfg.items; it; it = it->next) {
        size_t nl = strlen(it->name), pl = strlen(it->path);

        const char *base = it->name;
        n++;
        while (*base == '/')
            base++; /* the root is joined with one slash */
        assert(*base && pl <= CFG_MAX_PATH && pl >= strlen(base));
        assert(strcmp(it->path + pl - strlen(base), base) == 0);
        assert(it->src_line >= 1 && it->src_file && it->src_file[0]);
        if (it->args[0]) {
            assert(strncmp(it->cmdline, it->name, nl) == 0);
            assert(it->cmdline[nl] == ' ');
            assert(strcmp(it->cmdline + nl + 1, it->args) == 0);
        } else {
            assert(strcmp(it->cmdline, it->name) == 0);
        }
        if (it->kind == CFG_LOAD)
            loads++;
        if (it->kind == CFG_EXEC)
            last_exec = it;
        if (it->has_addr)
            assert(it->addr <= 0xffffffffull);
    }
    assert(n == cfg.nitems && n <= CFG_MAX_FILES && loads == cfg.nloads);
    assert(cfg.exec == last_exec);
    cfg_free(&cfg);
    return 0;
}
