/*
 * Pulsar's configuration language (the directives are listed in config.h).
 *
 * Lexical rules decided here (tests/unit/test_config.c pins each one down):
 * - A physical line ends at '\n' or at the end of the text.  One '\r' just
 *   before that end is dropped, so CRLF files work, including a final line
 *   that has no newline.
 * - A backslash that is the very last character of a physical line (after
 *   the '\r' is dropped) joins it with the next physical line: the backslash
 *   and the line break are removed and the next line is appended as it is,
 *   its leading white space kept.  A backslash on the last line of the text
 *   joins with nothing and is simply dropped.
 * - Comment status is decided on the joined logical line: when its first
 *   non-white character is '#' the whole logical line is a comment, so a
 *   comment ending in a backslash swallows the next physical line too (as
 *   in sh and make).  '#' later in a line is an ordinary character: there
 *   are no trailing comments, "exec k # x" hands "# x" to the kernel.
 * - White space is space and tab.  Every logical line, comments included,
 *   must fit in CFG_MAX_LINE bytes (backslashes and line breaks not
 *   counted).  Errors name the first physical line of the logical line.
 * - The text must not hold a NUL byte anywhere: the whole text is checked
 *   before the first line is parsed, so this holds even after a `chld`.
 *
 * Nesting: `conf` parses the fetched file in place with the SAME state
 * object, so root/tftp/addr set inside a nested file stay in force for the
 * lines after the `conf` (each directive affects the lines after it,
 * whichever file they are in).  A file is identified by the path it was
 * fetched as (the top-level file by the @fname given to cfg_parse, so the
 * caller should pass the path it fetched); fetching a file that is already
 * on the chain of open files is a loop.
 *
 * Only string.h, stdlib.h and snprintf are used, so this builds unchanged
 * for the host and against the NBP's tiny libc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "net/url.h"
#include "lib/errno.h"

/** How much of a quoted word an error message shows. */
#define CFG_QUOTE_MAX 64

/** One config file on the chain of nested `conf`s. */
struct cfg_frame {
    const char *fname;              /* its name: the path it was fetched as */
    const struct cfg_frame *parent; /* the file whose `conf` fetched it */
    unsigned depth;                 /* 1 for the top-level file */
};

/** What one cfg_parse call shares with the nested files it parses. */
struct cfg_run {
    struct cfg *cfg;
    struct cfg_state *st;
    struct cfg_item **tail; /* where the next item is linked: keeps it O(n) */
    cfg_fetch_fn fetch;
    void *ctx;
    char *err;
};

/** An error message being built: bounded appends, always NUL-terminated. */
struct cfg_msg {
    char *buf; /* CFG_ERR_LEN bytes */
    size_t len;
};

/** The arguments of one directive, split as the directive table asks. */
struct cfg_args {
    const char *kw;   /* the directive's keyword */
    const char *word; /* the first word of the arguments (never empty) */
    const char *rest; /* what follows it, white space stripped ("" if none) */
};

/** A directive's handler; @f and @line say where it was written. */
typedef int (*cfg_handler_fn)(struct cfg_run *r, const struct cfg_frame *f,
                              unsigned line, const struct cfg_args *a);

/* ------------------------------------------------------------ helpers */

/** True for the config language's white space: space and tab. */
static bool cfg_is_white(char c)
{
    return c == ' ' || c == '\t';
}

/** The value of @c as a hex digit, or -1 if it is none. */
static int cfg_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/** Skip white space; returns the first other character of @s. */
static char *cfg_skip_white(char *s)
{
    while (cfg_is_white(*s))
        s++;
    return s;
}

/** Skip a word; returns the white space or NUL that ends it. */
static char *cfg_skip_word(char *s)
{
    while (*s && !cfg_is_white(*s))
        s++;
    return s;
}

/** Cut the word at @s off: NUL-terminate it, return what follows, stripped. */
static char *cfg_cut_word(char *s)
{
    char *end = cfg_skip_word(s);

    if (*end)
        *end++ = '\0';
    return cfg_skip_white(end);
}

/** Our own strdup (the NBP libc has none); NULL when out of memory. */
static char *cfg_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

/** Append at most @n bytes of @s (stopping at its NUL) to @m. */
static void msg_putn(struct cfg_msg *m, const char *s, size_t n)
{
    while (n-- && *s && m->len + 1 < CFG_ERR_LEN)
        m->buf[m->len++] = *s++;
    m->buf[m->len] = '\0';
}

/** Append the string @s to @m. */
static void msg_puts(struct cfg_msg *m, const char *s)
{
    msg_putn(m, s, (size_t)-1);
}

/** Append @v in decimal to @m. */
static void msg_putu(struct cfg_msg *m, unsigned v)
{
    char digits[16];

    snprintf(digits, sizeof(digits), "%u", v);
    msg_puts(m, digits);
}

/**
 * Append the first @n bytes of @s in quotes, shortened if very long.  A
 * byte that is not printable ASCII is shown as \xNN: a config full of
 * binary junk must not send control characters to the console.
 */
static void msg_quoten(struct cfg_msg *m, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, show = n < CFG_QUOTE_MAX ? n : CFG_QUOTE_MAX;

    msg_puts(m, "'");
    for (i = 0; i < show && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[5] = { '\\', 'x', hex[c >> 4], hex[c & 15], '\0' };

        if (c >= 0x20 && c < 0x7f && c != '\\')
            msg_putn(m, s + i, 1);
        else
            msg_puts(m, esc);
    }
    if (n > CFG_QUOTE_MAX)
        msg_puts(m, "...");
    msg_puts(m, "'");
}

/** Append the string @s in quotes. */
static void msg_quote(struct cfg_msg *m, const char *s)
{
    msg_quoten(m, s, strlen(s));
}

/** Append the chain of open files, outermost first: "a -> b -> c". */
static void msg_chain(struct cfg_msg *m, const struct cfg_frame *f)
{
    if (f->parent) {
        msg_chain(m, f->parent);
        msg_puts(m, " -> ");
    }
    msg_puts(m, f->fname);
}

/** Start an error message with "file:line: "; the caller appends the rest. */
static struct cfg_msg msg_start(struct cfg_run *r, const struct cfg_frame *f,
                                unsigned line)
{
    struct cfg_msg m = { r->err, 0 };

    r->err[0] = '\0';
    msg_puts(&m, f->fname);
    msg_puts(&m, ":");
    msg_putu(&m, line);
    msg_puts(&m, ": ");
    return m;
}

/** Report "file:line: [kw: ]text" and return @rc, for one-piece messages. */
static int cfg_fail(struct cfg_run *r, const struct cfg_frame *f,
                    unsigned line, int rc, const char *kw, const char *text)
{
    struct cfg_msg m = msg_start(r, f, line);

    if (kw) {
        msg_puts(&m, kw);
        msg_puts(&m, ": ");
    }
    msg_puts(&m, text);
    return rc;
}

/** Report "kw: path too long (over 127 bytes)" and return -PE_TOOLONG. */
static int cfg_fail_path(struct cfg_run *r, const struct cfg_frame *f,
                         unsigned line, const char *kw)
{
    struct cfg_msg m = msg_start(r, f, line);

    msg_puts(&m, kw);
    msg_puts(&m, ": path too long (over ");
    msg_putu(&m, CFG_MAX_PATH);
    msg_puts(&m, " bytes)");
    return -PE_TOOLONG;
}

/* ------------------------------------------------------ public helpers */

/**
 * Initialise @st with the DHCP facts.  A root-path longer than CFG_MAX_PATH
 * is clamped to its first CFG_MAX_PATH bytes rather than dropped: a clamped
 * root leaves no room for a name, so every fetch under it fails with "path
 * too long" instead of silently fetching a file from the wrong directory.
 */
void cfg_state_init(struct cfg_state *st, const char *root, uint32_t server)
{
    size_t n = 0;

    memset(st, 0, sizeof(*st));
    if (root)
        n = strnlen(root, CFG_MAX_PATH);
    memcpy(st->root, root ? root : "", n);
    st->root[n] = '\0';
    st->server = server;
}

/**
 * Parse a strict dotted quad: four decimal parts of 1 to 3 digits, each at
 * most 255 (leading zeros are decimal, not octal), nothing else.  @ip gets
 * the first octet in its lowest-addressed byte (network byte order).
 */
int cfg_parse_ip(const char *s, uint32_t *ip)
{
    uint8_t octets[4];
    unsigned i, value, ndigits;

    if (!s)
        return -PE_INVAL;
    for (i = 0; i < 4; i++) {
        value = 0;
        ndigits = 0;
        while (*s >= '0' && *s <= '9') {
            if (++ndigits > 3)
                return -PE_INVAL;
            value = value * 10 + (unsigned)(*s++ - '0');
        }
        if (ndigits == 0 || value > 255)
            return -PE_INVAL;
        octets[i] = (uint8_t)value;
        if (i < 3 && *s++ != '.')
            return -PE_INVAL;
    }
    if (*s)
        return -PE_INVAL;
    memcpy(ip, octets, sizeof(octets));
    return 0;
}

/**
 * Parse a number: decimal, or hex after 0x/0X; no sign, no junk.
 * Returns -PE_INVAL for a malformed number and -PE_RANGE for one of 2^32 or
 * more (junk wins over range); @val is set only on success.
 */
int cfg_parse_addr(const char *s, uint64_t *val)
{
    unsigned base = 10;
    uint64_t value = 0;
    bool too_big = false;
    int digit;

    if (!s)
        return -PE_INVAL;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!*s)
        return -PE_INVAL;
    for (; *s; s++) {
        digit = cfg_digit_value(*s);
        if (digit < 0 || (unsigned)digit >= base)
            return -PE_INVAL;
        /* Stop accumulating once too big, so value itself never wraps. */
        if (!too_big) {
            value = value * base + (unsigned)digit;
            too_big = value > 0xffffffffu;
        }
    }
    if (too_big)
        return -PE_RANGE;
    *val = value;
    return 0;
}

/**
 * Join @root and @name into @out (CFG_MAX_PATH + 1 bytes) with exactly one
 * slash between them: "nova" or "nova/" with "x" or "/x" give "nova/x".  An
 * empty (or NULL) root gives @name unchanged.  Returns -PE_TOOLONG (and an
 * empty @out) if the result would exceed CFG_MAX_PATH.
 */
int cfg_join_path(const char *root, const char *name, char *out)
{
    size_t rlen, slen = 0, nlen;

    if (!root || url_is(name))
        root = ""; /* a URL names the file by itself */
    if (!name)
        name = "";
    rlen = strlen(root);
    if (rlen) {
        while (*name == '/')
            name++;
        slen = root[rlen - 1] != '/';
    }
    nlen = strlen(name);
    if (rlen + slen > CFG_MAX_PATH || nlen > CFG_MAX_PATH - rlen - slen) {
        out[0] = '\0';
        return -PE_TOOLONG;
    }
    memcpy(out, root, rlen);
    if (slen)
        out[rlen] = '/';
    memcpy(out + rlen + slen, name, nlen + 1);
    return 0;
}

/** Free one item and everything it holds; NULL is fine. */
static void cfg_item_free(struct cfg_item *item)
{
    if (!item)
        return;
    free(item->name);
    free(item->args);
    free(item->cmdline);
    free(item->path);
    free(item->src_file);
    free(item);
}

/** Free every item of @cfg and zero it. */
void cfg_free(struct cfg *cfg)
{
    struct cfg_item *item, *next;

    for (item = cfg->items; item; item = next) {
        next = item->next;
        cfg_item_free(item);
    }
    memset(cfg, 0, sizeof(*cfg));
}

/* --------------------------------------------------------- directives */


static int cfg_parse_text(struct cfg_run *r, const struct cfg_frame *f,
                          const char *text, size_t len);

/**
 * Build an item from @a with the state in force and link it at the end of
 * the list.  @out gets the new item.
 */
static int cfg_add_item(struct cfg_run *r, const struct cfg_frame *f,
                        unsigned line, enum cfg_kind kind,
                        const struct cfg_args *a, struct cfg_item **out)
{
    char path[CFG_MAX_PATH + 1];
    struct cfg_item *item;
    const char *name;
    size_t nlen, alen;

    for (name = a->word; *name == '/'; name++)
        ;
    if (!*name) {
        /* Joined to the root it would name the directory itself. */
        struct cfg_msg m = msg_start(r, f, line);

        msg_puts(&m, a->kw);
        msg_puts(&m, ": ");
        msg_quote(&m, a->word);
        msg_puts(&m, " names no file");
        return -PE_INVAL;
    }
    if (cfg_join_path(r->st->root, a->word, path) != 0)
        return cfg_fail_path(r, f, line, a->kw);
    if (r->cfg->nitems >= CFG_MAX_FILES) {
        struct cfg_msg m = msg_start(r, f, line);

        msg_puts(&m, a->kw);
        msg_puts(&m, ": too many files (over ");
        msg_putu(&m, CFG_MAX_FILES);
        msg_puts(&m, ")");
        return -PE_RANGE;
    }

    item = calloc(1, sizeof(*item));
    if (!item)
        goto err_nomem;
    item->kind = kind;
    item->server = r->st->server;
    item->has_addr = r->st->has_addr;
    item->addr = r->st->addr;
    item->addr_seq = r->st->addr_seq;
    item->src_line = line;
    nlen = strlen(a->word);
    alen = strlen(a->rest);
    item->name = cfg_strdup(a->word);
    item->args = cfg_strdup(a->rest);
    item->path = cfg_strdup(path);
    item->src_file = cfg_strdup(f->fname);
    item->cmdline = malloc(nlen + 1 + alen + 1);
    if (!item->name || !item->args || !item->path || !item->src_file ||
        !item->cmdline)
        goto err_nomem;
    /* "name" alone, or "name args": the multiboot command line. */
    memcpy(item->cmdline, a->word, nlen + 1);
    if (alen) {
        item->cmdline[nlen] = ' ';
        memcpy(item->cmdline + nlen + 1, a->rest, alen + 1);
    }

    *r->tail = item;
    r->tail = &item->next;
    r->cfg->nitems++;
    *out = item;
    return 0;

err_nomem:
    cfg_item_free(item);
    return cfg_fail(r, f, line, -PE_NOMEM, a->kw, "out of memory");
}

/**
 * Take a leading `--option` of @a (one of @names, NULL-terminated) into
 * *@which (its index + 1; 0: none) and @own (the arguments after it).
 * Returns 0, or -PE_INVAL for an unknown option or no file name after it.
 */
static int cfg_option(struct cfg_run *r, const struct cfg_frame *f,
                      unsigned line, const struct cfg_args *a,
                      const char *const *names, const char *choices,
                      struct cfg_args *own, unsigned *which)
{
    char *rest;

    *own = *a;
    *which = 0;
    if (strncmp(a->word, "--", 2) != 0)
        return 0;
    while (names[*which] && strcmp(names[*which], a->word) != 0)
        (*which)++;
    if (!names[*which]) {
        struct cfg_msg m = msg_start(r, f, line);

        msg_puts(&m, a->kw);
        msg_puts(&m, ": unknown option ");
        msg_quote(&m, a->word);
        msg_puts(&m, choices);
        return -PE_INVAL;
    }
    (*which)++;
    /* The line is the parser's own copy: cut the next word from it. */
    rest = (char *)a->rest;
    if (!*rest)
        return cfg_fail(r, f, line, -PE_INVAL, a->kw, "missing file name");
    own->word = rest;
    own->rest = cfg_cut_word(rest);
    return 0;
}

/**
 * `exec [--multiboot1|--multiboot2] <file> [args]`: a kernel; the last
 * one is the one started.  The option forces the Multiboot version of a
 * kernel with both headers (the default is in loader/format.c).
 */
static int cfg_do_exec(struct cfg_run *r, const struct cfg_frame *f,
                       unsigned line, const struct cfg_args *a)
{
    static const char *const opts[] = { "--multiboot1", "--multiboot2",
                                        NULL };
    struct cfg_args own;
    struct cfg_item *item;
    unsigned version;
    int rc;

    if ((rc = cfg_option(r, f, line, a, opts,
                         " (--multiboot1 or --multiboot2)", &own,
                         &version)) != 0 ||
        (rc = cfg_add_item(r, f, line, CFG_EXEC, &own, &item)) != 0)
        return rc;
    item->multiboot = version;
    r->cfg->exec = item;
    return 0;
}

/** `load [--unzip] <file> [args]`: a module, in file order; --unzip:
 *  a gzip file is unpacked (else it is passed as it is). */
static int cfg_do_load(struct cfg_run *r, const struct cfg_frame *f,
                       unsigned line, const struct cfg_args *a)
{
    static const char *const opts[] = { "--unzip", NULL };
    struct cfg_args own;
    unsigned unzip;
    struct cfg_item *item;
    int rc;

    if ((rc = cfg_option(r, f, line, a, opts, " (--unzip)", &own,
                         &unzip)) != 0 ||
        (rc = cfg_add_item(r, f, line, CFG_LOAD, &own, &item)) != 0)
        return rc;
    item->unzip = unzip != 0;
    r->cfg->nloads++;
    return 0;
}

/**
 * `chld <file>`: chainload.  Recording it in cfg->chld stops every parse
 * loop up the chain of nested files: the rest of the config is moot.
 */
static int cfg_do_chld(struct cfg_run *r, const struct cfg_frame *f,
                       unsigned line, const struct cfg_args *a)
{
    struct cfg_item *item;
    int rc;

    if ((rc = cfg_add_item(r, f, line, CFG_CHLD, a, &item)) != 0)
        return rc;
    r->cfg->chld = item;
    return 0;
}

/** `root <path>`: the prefix for the paths of the lines after it. */
static int cfg_do_root(struct cfg_run *r, const struct cfg_frame *f,
                       unsigned line, const struct cfg_args *a)
{
    size_t n = strlen(a->word);

    if (n > CFG_MAX_PATH)
        return cfg_fail_path(r, f, line, a->kw);
    memcpy(r->st->root, a->word, n + 1);
    return 0;
}

/** `tftp <ip>`: the server for the lines after it. */
static int cfg_do_tftp(struct cfg_run *r, const struct cfg_frame *f,
                       unsigned line, const struct cfg_args *a)
{
    struct cfg_msg m;
    uint32_t ip;

    if (cfg_parse_ip(a->word, &ip) == 0) {
        r->st->server = ip;
        return 0;
    }
    m = msg_start(r, f, line);
    msg_puts(&m, "tftp: ");
    msg_quote(&m, a->word);
    msg_puts(&m, " is not an IPv4 address");
    return -PE_INVAL;
}

/** `addr <number>`: where the modules of the lines after it go. */
static int cfg_do_addr(struct cfg_run *r, const struct cfg_frame *f,
                       unsigned line, const struct cfg_args *a)
{
    struct cfg_msg m;
    uint64_t addr;
    int rc;

    if ((rc = cfg_parse_addr(a->word, &addr)) == 0) {
        r->st->has_addr = true;
        r->st->addr = addr;
        r->st->addr_seq++;
        return 0;
    }
    m = msg_start(r, f, line);
    msg_puts(&m, "addr: ");
    msg_quote(&m, a->word);
    msg_puts(&m, rc == -PE_RANGE ? " does not fit in 32 bits"
                                 : " is not a number");
    return rc;
}

/**
 * `conf <file>`: fetch a nested config and parse it in place, with the same
 * state, so what it sets stays in force after the `conf` line.
 */
static int cfg_do_conf(struct cfg_run *r, const struct cfg_frame *f,
                       unsigned line, const struct cfg_args *a)
{
    char path[CFG_MAX_PATH + 1];
    char why[CFG_ERR_LEN];
    const struct cfg_frame *open;
    struct cfg_frame nested;
    struct cfg_msg m;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (!r->fetch) {
        m = msg_start(r, f, line);
        msg_puts(&m, "conf: ");
        msg_quote(&m, a->word);
        msg_puts(&m, ": nested configs cannot be fetched here");
        return -PE_UNSUPP;
    }
    if (cfg_join_path(r->st->root, a->word, path) != 0)
        return cfg_fail_path(r, f, line, a->kw);

    for (open = f; open; open = open->parent) {
        if (strcmp(open->fname, path) == 0) {
            m = msg_start(r, f, line);
            msg_puts(&m, "conf: loop: ");
            msg_chain(&m, f);
            msg_puts(&m, " -> ");
            msg_puts(&m, path);
            return -PE_LOOP;
        }
    }
    if (f->depth >= CFG_MAX_DEPTH) {
        m = msg_start(r, f, line);
        msg_puts(&m, "conf: nested too deep (over ");
        msg_putu(&m, CFG_MAX_DEPTH);
        msg_puts(&m, " files): ");
        msg_chain(&m, f);
        msg_puts(&m, " -> ");
        msg_puts(&m, path);
        return -PE_LOOP;
    }

    why[0] = '\0';
    if ((rc = r->fetch(r->ctx, r->st, path, &text, &len, why)) != 0) {
        why[CFG_ERR_LEN - 1] = '\0';
        m = msg_start(r, f, line);
        msg_puts(&m, "conf: ");
        msg_puts(&m, path);
        msg_puts(&m, ": ");
        msg_puts(&m, why[0] ? why : pulsar_strerror(rc));
        /* The contract says negative; do not let a stray positive rc
         * read as success further up. */
        return rc < 0 ? rc : -PE_IO;
    }

    nested.fname = path;
    nested.parent = f;
    nested.depth = f->depth + 1;
    rc = cfg_parse_text(r, &nested, text ? text : "", text ? len : 0);
    free(text);
    return rc;
}

/** The directives: keyword, handler, what a missing argument is called. */
static const struct cfg_directive {
    const char *keyword;
    cfg_handler_fn run;
    const char *missing; /* "exec: missing file name" */
    bool one_word;       /* anything after the first word is an error */
} cfg_directives[] = {
    { "addr", cfg_do_addr, "number", true },
    { "chld", cfg_do_chld, "file name", true },
    { "conf", cfg_do_conf, "file name", true },
    { "exec", cfg_do_exec, "file name", false },
    { "load", cfg_do_load, "file name", false },
    { "root", cfg_do_root, "path", true },
    { "tftp", cfg_do_tftp, "IPv4 address", true },
};

/**
 * Parse one logical line @s (NUL-terminated, modified in place: words are
 * cut out of it) that starts on physical line @line of @f.
 */
static int cfg_parse_line(struct cfg_run *r, const struct cfg_frame *f,
                          unsigned line, char *s)
{
    const struct cfg_directive *d = NULL;
    struct cfg_args a;
    struct cfg_msg m;
    char *args, *end, *rest;
    size_t i;

    s = cfg_skip_white(s);
    if (!*s || *s == '#')
        return 0;
    args = cfg_cut_word(s);
    end = args + strlen(args);
    while (end > args && cfg_is_white(end[-1]))
        *--end = '\0';

    for (i = 0; i < sizeof(cfg_directives) / sizeof(cfg_directives[0]); i++) {
        if (strcmp(cfg_directives[i].keyword, s) == 0) {
            d = &cfg_directives[i];
            break;
        }
    }
    if (!d) {
        m = msg_start(r, f, line);
        msg_puts(&m, "unknown directive ");
        msg_quote(&m, s);
        return -PE_INVAL;
    }
    if (!*args) {
        m = msg_start(r, f, line);
        msg_puts(&m, d->keyword);
        msg_puts(&m, ": missing ");
        msg_puts(&m, d->missing);
        return -PE_INVAL;
    }
    rest = cfg_cut_word(args);
    if (d->one_word && *rest) {
        m = msg_start(r, f, line);
        msg_puts(&m, d->keyword);
        msg_puts(&m, ": unexpected ");
        msg_quoten(&m, rest, (size_t)(cfg_skip_word(rest) - rest));
        return -PE_INVAL;
    }
    a.kw = d->keyword;
    a.word = args;
    a.rest = rest;
    return d->run(r, f, line, &a);
}

/**
 * Split @text into logical lines (see the rules at the top of this file)
 * and parse each, until the end, an error, or a `chld`.
 */
static int cfg_parse_text(struct cfg_run *r, const struct cfg_frame *f,
                          const char *text, size_t len)
{
    size_t pos = 0, end, plen, n, i;
    unsigned line = 1, first;
    struct cfg_msg m;
    bool join;
    char *buf;
    int rc = 0;

    /* A NUL would silently cut a line short: refuse the text as a whole. */
    for (i = 0; i < len; i++) {
        if (text[i] == '\n')
            line++;
        else if (text[i] == '\0')
            return cfg_fail(r, f, line, -PE_INVAL, NULL,
                            "NUL byte in config");
    }
    if (len == 0)
        return 0;

    /* On the heap: nested files would stack one buffer per level. */
    buf = malloc(CFG_MAX_LINE + 1);
    if (!buf)
        return cfg_fail(r, f, 1, -PE_NOMEM, NULL, "out of memory");

    line = 1;
    while (pos < len && !r->cfg->chld) {
        first = line;
        n = 0;
        do {
            for (end = pos; end < len && text[end] != '\n'; end++)
                ;
            plen = end - pos;
            if (plen && text[pos + plen - 1] == '\r')
                plen--;
            join = plen && text[pos + plen - 1] == '\\';
            if (join)
                plen--;
            if (plen > CFG_MAX_LINE - n) {
                m = msg_start(r, f, first);
                msg_puts(&m, "line too long (over ");
                msg_putu(&m, CFG_MAX_LINE);
                msg_puts(&m, " bytes)");
                rc = -PE_TOOLONG;
                goto out;
            }
            memcpy(buf + n, text + pos, plen);
            n += plen;
            pos = end;
            if (pos < len) {
                pos++; /* the '\n' */
                line++;
            }
        } while (join && pos < len);
        buf[n] = '\0';
        if ((rc = cfg_parse_line(r, f, first, buf)) != 0)
            break;
    }
out:
    free(buf);
    return rc;
}

/**
 * Parse one config file and append what it asks for to @cfg (see
 * config.h).  On failure @cfg keeps the items appended before the error;
 * the caller frees them with cfg_free() either way.  If @cfg already holds
 * a `chld` the new text is moot and nothing is parsed.
 */
int cfg_parse(struct cfg *cfg, struct cfg_state *st, const char *fname,
              const char *text, size_t len, cfg_fetch_fn fetch, void *ctx,
              char *err)
{
    char scratch[CFG_ERR_LEN];
    struct cfg_frame top;
    struct cfg_run r;

    if (!err)
        err = scratch;
    err[0] = '\0';
    if (!text)
        len = 0;
    if (cfg->chld)
        return 0;

    r.cfg = cfg;
    r.st = st;
    r.fetch = fetch;
    r.ctx = ctx;
    r.err = err;
    /* Find the end of the list once; items are then linked in O(1). */
    for (r.tail = &cfg->items; *r.tail; r.tail = &(*r.tail)->next)
        ;
    top.fname = fname ? fname : "(config)";
    top.parent = NULL;
    top.depth = 1;
    return cfg_parse_text(&r, &top, text, len);
}
