/* The boot session; see session.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/pe.h"
#include "loader/retry.h"
#include "loader/session.h"
#include "net/url.h"

/* ------------------------------------------------------------- messages */

/** Print "<prog>: <line>". */
static void say_line(struct session *s, const char *line)
{
    printf("%s: %s\n", s->face->prog, line);
}

/** cfg_say_fn for the config lookup. */
static void say_cb(void *ctx, const char *line)
{
    say_line(ctx, line);
}

/** End a progress line before a message interrupts it. */
static void progress_abort(struct session *s)
{
    if (s->face->progress_abort)
        s->face->progress_abort();
}

/** Report an error; see session.h. */
int session_error(struct session *s, int rc, const char *fmt, ...)
{
    va_list ap;

    progress_abort(s);
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    printf("%s: error: %s\n", s->face->prog, s->error);
    s->errors++;
    s->placing = false;
    return rc < 0 ? rc : -PE_INVAL;
}

/* --------------------------------------------------------- guest memory */

/** The checked pointer for a guest write; see session.h. */
void *session_guest_ptr(struct session *s, const void *owner, uint32_t dest,
                        size_t n)
{
    if (!s->face->guest || !place_owned(&s->placer, owner, dest, n))
        return NULL;
    return s->face->guest(dest, n);
}

/** Refuse a write outside @owner's claims: a bug, said loudly. */
static int guest_refused(struct session *s, uint32_t dest, size_t n)
{
    if (!s->face->guest)
        return 0; /* checking: nothing is ever written */
    return session_error(s, -PE_RANGE, "internal error: a %u-byte write "
                         "at 0x%08x is outside the placer's claims for that "
                         "file", (unsigned)n, dest);
}

/**
 * Copy @src (NULL: zeros) into guest memory at @dest for @owner: through
 * one pointer when the face has the range in one piece, else page by
 * page (a face may stage a big claim in several buffers: boot/efi/).
 */
static int guest_put(struct session *s, const void *owner, uint32_t dest,
                     const uint8_t *src, size_t n)
{
    uint8_t *p;

    if (n == 0)
        return 0;
    if ((p = session_guest_ptr(s, owner, dest, n))) {
        /* A source that wrote the bytes in place (file_sink.whole) hands
         * them back where they are: checked above, nothing to copy. */
        if (!src)
            memset(p, 0, n);
        else if (p != src)
            memmove(p, src, n);
        return 0;
    }
    if (!s->face->guest || !place_owned(&s->placer, owner, dest, n))
        return guest_refused(s, dest, n);
    while (n) {
        size_t k = PLAN_PAGE - (dest & (PLAN_PAGE - 1));

        if (k > n)
            k = n;
        if (!(p = s->face->guest(dest, k)))
            return guest_refused(s, dest, k);
        if (src) {
            memmove(p, src, k);
            src += k;
        } else {
            memset(p, 0, k);
        }
        dest += (uint32_t)k;
        n -= k;
    }
    return 0;
}

/** Copy into guest memory; see session.h. */
int session_guest_write(struct session *s, const void *owner, uint32_t dest,
                        const void *src, size_t n)
{
    return guest_put(s, owner, dest, src, n);
}

/** Zero guest memory; see session.h. */
int session_guest_zero(struct session *s, const void *owner, uint32_t dest,
                       size_t n)
{
    return guest_put(s, owner, dest, NULL, n);
}

/** The writer kload and image_feed call: the session and the owner. */
struct guest_writer {
    struct session *s;
    const void *owner;
    int rc; /* the first refused write */
};

/** image_write_fn over session_guest_write. */
static void writer_write(void *ctx, uint32_t dest, const void *src, size_t n)
{
    struct guest_writer *w = ctx;
    int rc = session_guest_write(w->s, w->owner, dest, src, n);
    if (rc && !w->rc)
        w->rc = rc;
}

/** image_zero_fn over session_guest_zero. */
static void writer_zero(void *ctx, uint32_t dest, size_t n)
{
    struct guest_writer *w = ctx;
    int rc = session_guest_zero(w->s, w->owner, dest, n);
    if (rc && !w->rc)
        w->rc = rc;
}

/** Say the DHCP facts the session starts from; see session.h. */
void session_say_dhcp(struct session *s)
{
    char mac[48], client[16], server[16];

    dhcp_format_mac(s->dhcp.mac, s->dhcp.mac_len, ':', mac);
    dhcp_format_ip(s->dhcp.client_ip, client);
    dhcp_format_ip(s->dhcp.server_ip, server);
    printf("%s: mac %s ip %s tftp %s root-path '%s'\n", s->face->prog, mac,
           client, server, s->dhcp.has_root ? s->dhcp.root : "");
}

/* ------------------------------------------------------------ transfers */

/**
 * One file on its way through the session: wraps the consumer's sink
 * with the announced-size rules and the progress line.
 */
struct xfer {
    struct session *s;
    const char *path;
    bool sized;           /* the announced size binds (kernel, modules) */
    uint32_t max;         /* the limit of an unsized file (a config) */
    uint32_t size;        /* the announced size, 0 until known */
    bool known;           /* a size was announced in this fetch */
    const struct file_sink *inner;
    int inner_rc;         /* the consumer's refusal (not retried) */
};

/** file_sink.size: check the announced size and pass it on. */
static int xfer_size(void *ctx, uint32_t size)
{
    struct xfer *x = ctx;
    int rc;

    /* Installed for sized files only (session_fetch): an unsized one
     * (a config) is bounded by x->max as its data arrives. */
    if (x->size && size != x->size)
        return x->inner_rc = -PE_CHANGED; /* between two tries */
    x->size = size;
    x->known = true;
    if (x->inner->size && (rc = x->inner->size(x->inner->ctx, size)) != 0)
        return x->inner_rc = rc;
    if (x->s->face->progress_start)
        x->s->face->progress_start(x->path, size);
    return 0;
}

/** file_sink.data: enforce the size, hand on, show progress. */
static int xfer_data(void *ctx, uint32_t off, const uint8_t *data,
                     size_t len)
{
    struct xfer *x = ctx;
    int rc;

    if (x->sized && x->known && (uint64_t)off + len > x->size)
        return -PE_RANGE; /* more than announced */
    /* No size announced (a server without RFC 2349 tsize): the consumer
     * takes the bytes as they come, or refuses them. */
    if (x->sized && !x->known && off == 0 && x->s->face->progress_start)
        x->s->face->progress_start(x->path, 0); /* a try begins, unsized */
    if ((rc = x->inner->data(x->inner->ctx, off, data, len)) != 0)
        return x->inner_rc = rc;
    if (x->sized && x->s->face->progress)
        x->s->face->progress(off + (uint32_t)len);
    return 0;
}

/**
 * file_sink.whole: where a source that gets files only whole may write
 * all of this one, when the consumer can say (its destination is claimed
 * for exactly the announced size); NULL otherwise.  The bytes still come
 * through xfer_data, which checks them against the size.
 */
static void *xfer_whole(void *ctx, uint32_t size)
{
    struct xfer *x = ctx;

    if (!x->sized || !x->known || size != x->size || size == 0 ||
        !x->inner->whole)
        return NULL;
    return x->inner->whole(x->inner->ctx, size);
}

/** file_sink.arriving: the progress line while a whole file arrives. */
static void xfer_arriving(void *ctx, uint32_t got)
{
    struct xfer *x = ctx;

    if (x->known && got <= x->size && x->s->face->progress)
        x->s->face->progress(got);
}

/** How many tries a transfer gets: checking reads local files once. */
static unsigned tries_max(const struct session *s)
{
    return s->face->check ? 1 : RETRY_TRANSFER_TRIES;
}

/** Take what the source said about a failed try into @ff. */
static void failure_detail(struct fetch_failure *ff, int rc,
                           const struct xfer_result *res)
{
    ff->detail[0] = '\0';
    if (rc == -PE_NOENT || rc == -PE_SHORT || rc == -PE_RANGE ||
        rc == -PE_CHANGED || rc == -PE_NOMEM)
        return; /* the rc says it all */
    snprintf(ff->detail, sizeof(ff->detail), "%s", res->detail);
}

/** Say that try ff->tries failed and when the next one comes; wait. */
static void backoff(struct session *s, const char *path, int rc,
                    const struct fetch_failure *ff)
{
    struct fetch_failure this_try = *ff;
    char text[160];
    unsigned ms = retry_backoff_ms(ff->tries);

    this_try.tries = 1; /* the count is in "try N of M" */
    progress_abort(s);
    printf("%s: %s: %s; try %u of %u in %u s\n", s->face->prog, path,
           retry_describe(rc, &this_try, text, sizeof(text)), ff->tries + 1,
           RETRY_TRANSFER_TRIES, ms / 1000);
    if (s->face->sleep_ms)
        s->face->sleep_ms(ms);
}

/**
 * The source for @path (TFTP, or HTTP for a URL), with @ff cleared and
 * naming the server; NULL, with @ff->detail saying so, when this face has
 * no HTTP client.
 */
static const struct file_source *source_for(struct session *s,
                                            uint32_t server, const char *path,
                                            struct fetch_failure *ff)
{
    bool http = url_is(path);

    memset(ff, 0, sizeof(*ff));
    ff->server = server;
    if (http)
        url_server_name(server, path, ff->where, sizeof(ff->where));
    if (!http)
        return s->face->files;
    ff->no_client = !s->face->http;
    if (ff->no_client)
        snprintf(ff->detail, sizeof(ff->detail), "no HTTP client here; "
                 "name the file by its TFTP path");
    return s->face->http;
}

/** Ask @server for @path's size, retried; see session.h. */
int session_size(struct session *s, uint32_t server, const char *path,
                        uint32_t *size, struct fetch_failure *ff)
{
    const struct file_source *src = source_for(s, server, path, ff);
    int rc;

    ff->size_query = true;
    if (!src)
        return -PE_UNSUPP;
    for (;;) {
        struct xfer_result res;

        memset(&res, 0, sizeof(res));
        rc = src->size(src, server, path, size, &res);
        ff->tries++;
        if (rc == 0)
            return 0;
        failure_detail(ff, rc, &res);
        if (!retry_transfer_worth(rc, false) || ff->tries >= tries_max(s))
            return rc;
        backoff(s, path, rc, ff);
    }
}

/** Fetch a file into @inner, retried; see session.h. */
int session_fetch(struct session *s, uint32_t server,
                         const char *path, bool sized, uint32_t max,
                         const struct file_sink *inner, uint32_t *got,
                         struct fetch_failure *ff)
{
    const struct file_source *src = source_for(s, server, path, ff);
    struct xfer x = { s, path, sized, max, 0, false, inner, 0 };
    /* An unsized file (a config) needs no size before its data. */
    struct file_sink outer = { sized ? xfer_size : NULL, xfer_data, &x,
                               sized ? xfer_whole : NULL,
                               sized ? xfer_arriving : NULL };
    int rc;

    ff->max = max;
    *got = 0;
    if (!src)
        return -PE_UNSUPP;
    for (;;) {
        struct xfer_result res;

        memset(&res, 0, sizeof(res));
        x.inner_rc = 0;
        rc = src->fetch(src, server, path, sized ? 0xFFFFFFFFu : max, &outer,
                        &res);
        ff->tries++;
        ff->got = *got = res.got;
        ff->size = x.size;
        ff->size_query = res.size_query;
        if (rc == 0 && sized && res.got < x.size)
            rc = -PE_SHORT; /* a half-copied file, or a lost last packet */
        if (rc == 0)
            return 0;
        failure_detail(ff, rc, &res);
        if (x.inner_rc == rc && rc != -PE_CHANGED)
            return rc; /* the consumer refused: its message says why */
        if (!retry_transfer_worth(rc, sized) || ff->tries >= tries_max(s))
            return rc;
        backoff(s, path, rc, ff);
    }
}

/** The line a fetched file gets ("<plan>, in 1.2 s, ..."), or the plan. */
static void say_file(struct session *s, const char *plan, uint32_t got)
{
    const char *took = s->face->progress_end ? s->face->progress_end(got)
                                             : NULL;
    if (took)
        printf("%s: %s, %s\n", s->face->prog, plan, took);
    else
        say_line(s, plan);
}

/**
 * Say why @it's file could not be had: "file:line: verb: path: reason".
 * When checking, a file on a server the checker cannot reach is a note
 * (counted as unchecked), not an error.
 */
static int file_failed(struct session *s, const struct cfg_item *it, int rc,
                       const struct fetch_failure *ff)
{
    char why[160];

    if (s->face->check && rc == -PE_UNSUPP && ff->detail[0] &&
        !ff->no_client) {
        progress_abort(s);
        printf("%s: note: %s:%u: %s: %s: %s\n", s->face->prog, it->src_file,
               it->src_line, plan_verb(it), it->path, ff->detail);
        s->unchecked++;
        s->placing = false;
        return rc;
    }
    return session_error(s, rc, "%s:%u: %s: %s: %s", it->src_file,
                         it->src_line, plan_verb(it), it->path,
                         retry_describe(rc, ff, why, sizeof(why)));
}

/** The size of @it's file, or why not (reported). */
static int item_size(struct session *s, const struct cfg_item *it,
                     uint32_t *size)
{
    struct fetch_failure ff;
    int rc = session_size(s, it->server, it->path, size, &ff);

    return rc ? file_failed(s, it, rc, &ff) : 0;
}

/* ------------------------------------------------------------- configs */

/** A text file on its way in: a growing heap buffer. */
struct text_sink {
    char *buf;
    size_t size, cap;
};

/** file_sink.data for text (a new try restarts at offset 0). */
static int text_data(void *ctx, uint32_t off, const uint8_t *data, size_t len)
{
    struct text_sink *t = ctx;

    if (off + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        char *n;

        while (cap < off + len + 1)
            cap *= 2;
        if (!(n = realloc(t->buf, cap)))
            return -PE_NOMEM;
        t->buf = n;
        t->cap = cap;
    }
    memcpy(t->buf + off, data, len);
    t->size = off + len;
    return 0;
}

/** cfg_fetch_fn: a config file (the lookup and `conf`). */
static int fetch_text(void *ctx, const struct cfg_state *st, const char *path,
                      char **text, size_t *len, char *why)
{
    struct session *s = ctx;
    struct text_sink t = { 0, 0, 0 };
    struct file_sink sink = { NULL, text_data, &t, NULL, NULL };
    struct fetch_failure ff;
    uint32_t got;
    int rc;

    rc = session_fetch(s, st->server, path, false, SESSION_CONFIG_MAX, &sink,
                       &got, &ff);
    if (rc != 0) {
        free(t.buf);
        if (s->face->check && rc == -PE_UNSUPP && ff.detail[0] &&
            !ff.no_client) {
            s->unchecked++; /* a server the checker cannot reach */
            if (why)
                snprintf(why, CFG_ERR_LEN, "%s", ff.detail);
        } else if (why) {
            retry_describe(rc, &ff, why, CFG_ERR_LEN);
        }
        return rc;
    }
    if (!t.buf && !(t.buf = malloc(1)))
        return -PE_NOMEM;
    t.buf[t.size] = '\0';
    *text = t.buf;
    *len = t.size;
    return 0;
}

/** Find the config, fetch it and parse it into s->cfg. */
static int read_config(struct session *s)
{
    char *text;
    size_t len;
    int rc;

    cfg_lookup_names(&s->names, s->dhcp.mac, s->dhcp.mac_len,
                     s->dhcp.client_ip,
                     s->dhcp.has_config ? s->dhcp.config : NULL);
    if ((rc = cfg_lookup_fetch(&s->names, &s->st, fetch_text, s, say_cb, s,
                               &text, &len, s->cfgname, s->msg)) != 0)
        return session_error(s, rc, "%s", s->msg);
    rc = cfg_parse(&s->cfg, &s->st, s->cfgname, text, len, fetch_text, s,
                   s->msg);
    free(text);
    if (rc == -PE_UNSUPP && s->face->check && s->unchecked) {
        /* A `conf` on a server the checker cannot reach: unknown. */
        printf("%s: note: %s\n", s->face->prog, s->msg);
        return rc;
    }
    if (rc != 0)
        return session_error(s, rc, "%s", s->msg);
    return 0;
}

/* -------------------------------------------------------------- kernel */

/** The kernel's sink: kload (plan from the prefix, stream into place). */
struct kernel_sink {
    struct kernel_load *k;
    struct guest_writer w;
};

/** file_sink.size for the kernel: kload plans with the whole size. */
static int kernel_size(void *ctx, uint32_t size)
{
    struct kernel_sink *ks = ctx;

    ks->k->size = size;
    ks->k->size_known = true;
    return 0;
}

/** file_sink.data for the kernel. */
static int kernel_data(void *ctx, uint32_t off, const uint8_t *data,
                       size_t len)
{
    struct kernel_sink *ks = ctx;
    int rc = kload_sink(ks->k, off, data, len);

    return rc ? rc : ks->w.rc;
}

/** Add ", unpacked from N bytes of gzip" to a file's line in s->msg when
 *  s->packed says the file came packed, and forget it. */
static void say_packed(struct session *s)
{
    size_t n = strlen(s->msg);

    if (s->packed && n < sizeof(s->msg))
        snprintf(s->msg + n, sizeof(s->msg) - n, ", unpacked from %u bytes "
                 "of gzip", s->packed);
    s->packed = 0;
}

/** Say what the kernel's plan is (and, checking, its command line). */
static void say_kernel(struct session *s, const struct cfg_item *it,
                       uint32_t size, uint32_t got)
{
    const struct image_plan *plan = &s->kernel->plan;

    plan_kernel_str(s->msg, sizeof(s->msg), it, size, plan);
    say_packed(s);
    if (!s->face->check) {
        say_file(s, s->msg, got);
        return;
    }
    say_line(s, s->msg);
    /* A bzImage gets the arguments only (loader/linux.h). */
    printf("%s:     cmdline: %s\n", s->face->prog,
           s->kernel->is_linux ? it->args : it->cmdline);
}

/** Point unaddressed sections at their copies (flag 5) and say so. */
static int kernel_syms(struct session *s, const struct cfg_item *it)
{
    struct image_plan *plan = &s->kernel->plan;
    struct load_seg *cap = &plan->syms.cap;
    uint8_t *bytes;
    unsigned n;

    s->kernel_end = cap->dest + cap->filesz;
    if (!(bytes = session_guest_ptr(s, it, cap->dest, cap->filesz)))
        return s->face->guest ? guest_refused(s, cap->dest, cap->filesz) : 0;
    n = image_syms_fixup(plan, bytes, &s->syms_table);
    printf("%s: %s: %u section headers, %u sections loaded, at %08x-%08x\n",
           s->face->prog, it->path, plan->syms.num, n, cap->dest,
           cap->dest + cap->filesz - 1);
    return 0;
}

/** Fetch the kernel of `exec` @it, planned as its format says. */
static int load_kernel(struct session *s, const struct cfg_item *it)
{
    static struct kernel_load k;
    struct kernel_sink ks = { &k, { s, it, 0 } };
    /* No file_sink.whole: kload plans from the prefix before it knows
     * where the bytes go, so a whole-file source buffers the kernel. */
    struct file_sink inner = { kernel_size, kernel_data, &ks, NULL, NULL };
    struct file_sink sink; /* a gzip kernel unpacks on its way in */
    struct gz_sink gz;
    struct placer scratch;
    struct e820_entry all = { 0, 1ull << 32, E820_RAM };
    struct fetch_failure ff;
    bool placing = s->placing;
    uint32_t got;
    int rc;

    s->kernel = &k;
    s->placer.owner = it;
    if (!placing) {
        /* Checking after an error: a broken image is still worth saying,
         * planned against all of RAM since the real plan would move. */
        if (place_init(&scratch, &all, 1) != 0)
            return session_error(s, -PE_NOMEM, "out of memory");
        scratch.owner = it;
    }
    kload_init(&k, placing ? &s->placer : &scratch, it, 0, &s->lx,
               writer_write, writer_zero, &ks.w);
    k.uefi = s->face->uefi;
    k.held = s->face->held;
    k.nheld = s->face->nheld;
    gz_sink_init(&gz, &sink, &inner, it, k.msg, sizeof(k.msg));
    rc = session_fetch(s, it->server, it->path, true, 0, &sink, &got, &ff);
    if (rc == 0)
        rc = gz_sink_finish(&gz); /* the trailer's CRC and length */
    if (rc == 0 && gz.gzip) {
        s->packed = got; /* said on the kernel's line */
        got = gz_sink_size(&gz, got); /* what the kernel's sink saw */
    }
    if (rc == 0)
        rc = kload_finish(&k); /* a file shorter than the prefix */
    if (rc == 0 && !k.size_known && got < k.plan.file_need) {
        /* No size was announced: only the end shows a short file. */
        snprintf(k.msg, sizeof(k.msg), "%s:%u: exec: %s: the file ended "
                 "after %u bytes but its segments need %u", it->src_file,
                 it->src_line, it->path, got, k.plan.file_need);
        rc = -PE_SHORT;
    }
    if (!placing)
        place_fini(&scratch);
    if (rc != 0 && k.msg[0]) /* the image itself was refused */
        return session_error(s, rc, "%s", k.msg);
    if (rc != 0 && ks.w.rc) /* a write outside the claims: said already */
        return rc;
    if (rc != 0)
        return file_failed(s, it, rc, &ff);
    s->format = k.format;
    if (format_has_both(k.prefix, k.have))
        printf("%s: %s: both multiboot headers: Multiboot%s %s\n",
               s->face->prog, it->path, k.format->multiboot == 2 ? "2" : " 1",
               it->multiboot ? "(forced by the exec option)"
                             : "(the default; exec --multiboot1 forces "
                               "Multiboot 1)");
    if (!placing)
        return 0;
    s->kernel_end = k.plan.highest;
    say_kernel(s, it, k.size_known ? k.size : got, got);
    if (k.plan.has_syms)
        return kernel_syms(s, it);
    return 0;
}

/* ------------------------------------------------------------- modules */

/** A module's sink: placed when its size is announced, then streamed. */
struct module_sink {
    struct session *s;
    const struct cfg_item *it;
    struct plan_mods *where;
    uint64_t dest;
    uint32_t size;
    bool planned;
    bool refused;   /* planning failed: the message is in s->msg */
    bool growing;   /* no size announced: claimed as the data arrives */
    uint32_t claimed; /* bytes claimed from dest on (growing) */
};

/** How much more a module of unknown size claims at a time. */
#define MODULE_GROW (64u * 1024)

/** file_sink.size for a module: plan and claim it. */
static int module_size(void *ctx, uint32_t size)
{
    struct module_sink *m = ctx;
    int rc;

    if (m->planned)
        return size == m->size ? 0 : -PE_CHANGED;
    m->s->placer.owner = m->it;
    if ((rc = plan_module(m->where, &m->s->placer, m->it, size, &m->dest,
                          m->s->msg, sizeof(m->s->msg))) != 0) {
        m->refused = true;
        return rc;
    }
    m->size = size;
    m->planned = true;
    return 0;
}

/** file_sink.data for a module: straight into its claimed range. */
static int module_data(void *ctx, uint32_t off, const uint8_t *data,
                       size_t len)
{
    struct module_sink *m = ctx;
    struct session *s = m->s;
    int rc;

    if (!m->planned) {
        /* No size announced: place the first chunk, then grow. */
        if ((rc = module_size(m, MODULE_GROW)) != 0)
            return rc;
        m->growing = true;
        m->claimed = MODULE_GROW;
        m->size = 0;
    }
    while (m->growing && (uint64_t)off + len > m->claimed) {
        /* The next chunk right after the claimed ones, or a clean no. */
        s->placer.owner = m->it;
        if (m->claimed > 0xFFFFFFFFu - MODULE_GROW ||
            plan_module_grow(&s->placer, m->it, m->dest + m->claimed,
                             MODULE_GROW, s->msg, sizeof(s->msg)) != 0) {
            if (m->claimed > 0xFFFFFFFFu - MODULE_GROW)
                snprintf(s->msg, sizeof(s->msg), "%s:%u: load: %s: larger "
                         "than 4 GiB", m->it->src_file, m->it->src_line,
                         m->it->path);
            m->refused = true;
            return -PE_NORAM;
        }
        m->claimed += MODULE_GROW;
        m->where->cursor = m->dest + m->claimed;
    }
    if (!m->growing)
        return session_guest_write(s, m->it, (uint32_t)m->dest + off, data,
                                   len);
    if (off + len > m->size)
        m->size = off + (uint32_t)len;
    /* Each chunk is a claim of its own: a block across two is written
     * in two parts, each inside one claim. */
    while (len > 0) {
        size_t part = MODULE_GROW - off % MODULE_GROW;

        part = part < len ? part : len;
        if ((rc = session_guest_write(s, m->it, (uint32_t)m->dest + off,
                                      data, part)) != 0)
            return rc;
        off += (uint32_t)part;
        data += part;
        len -= part;
    }
    return 0;
}

/** file_sink.whole for a module: its claimed range, when it has one of
 *  exactly @size bytes (not while growing). */
static void *module_whole(void *ctx, uint32_t size)
{
    struct module_sink *m = ctx;

    if (!m->planned || m->growing || size != m->size)
        return NULL;
    return session_guest_ptr(m->s, m->it, (uint32_t)m->dest, size);
}

/** file_sink.data that only counts: the checker sizing an unpacked file. */
static int count_data(void *ctx, uint32_t off, const uint8_t *data,
                      size_t len)
{
    (void)ctx, (void)off, (void)data, (void)len;
    return 0;
}

/**
 * Checking, the size of `load --unzip` @it's file as it will be placed:
 * fetched and unpacked (its bytes dropped) when it is gzip, as Pulsar
 * will, so the plan holds the unpacked size and a damaged stream is
 * reported here; s->packed keeps the packed size for the line.
 */
static int unzip_size(struct session *s, const struct cfg_item *it,
                      uint32_t *size)
{
    struct file_sink count = { NULL, count_data, NULL, NULL, NULL };
    struct file_sink unzip;
    struct fetch_failure ff;
    struct gz_sink gz;
    uint32_t got;
    int rc;

    gz_sink_init(&gz, &unzip, &count, it, s->msg, sizeof(s->msg));
    rc = session_fetch(s, it->server, it->path, true, 0, &unzip, &got, &ff);
    if (rc == 0)
        rc = gz_sink_finish(&gz);
    if (rc != 0 && gz.failed)
        return session_error(s, rc, "%s", s->msg);
    if (rc != 0)
        return file_failed(s, it, rc, &ff);
    *size = gz_sink_size(&gz, got);
    s->packed = gz.gzip ? got : 0;
    return 0;
}

/** Load (or, checking, size and place) every module in config order. */
static int load_modules(struct session *s)
{
    struct mbi_module *mods = calloc(s->cfg.nloads + 1, sizeof(*mods));
    struct plan_mods where;
    unsigned n = 0;
    int rc;

    if (!mods)
        return session_error(s, -PE_NOMEM, "out of memory for %u modules",
                             s->cfg.nloads);
    s->mods = mods;
    /* Modules go after the kernel, as GRUB puts them; a relocated
     * Multiboot2 image may sit at the top of RAM (Xen asks for the
     * highest place), so its modules go in the lowest free RAM instead
     * (the placer keeps them off the kernel). */
    plan_mods_init(&where, s->kernel->plan.relocated ? PLAN_MODULES_LOW
                                                      : s->kernel_end);
    for (const struct cfg_item *it = s->cfg.items; it; it = it->next) {
        struct module_sink m = { s, it, &where, 0, 0, false, false, false,
                                 0 };
        struct fetch_failure ff;
        uint32_t got;

        if (it->kind != CFG_LOAD)
            continue;
        if (s->face->check) {
            if ((it->unzip ? unzip_size(s, it, &m.size)
                           : item_size(s, it, &m.size)) != 0)
                continue;
            if (!s->placing) {
                s->packed = 0;
                printf("%s: %s: %u bytes (not placed: see above)\n",
                       s->face->prog, it->path, m.size);
                continue;
            }
            if (module_size(&m, m.size) != 0) {
                session_error(s, -PE_NORAM, "%s", s->msg);
                continue;
            }
            plan_module_str(s->msg, sizeof(s->msg), it, m.size, m.dest);
            say_packed(s);
            say_line(s, s->msg);
            printf("%s:     cmdline: %s\n", s->face->prog, it->cmdline);
            continue;
        }
        struct file_sink plain = { module_size, module_data, &m,
                                   module_whole, NULL };
        struct file_sink unzip; /* load --unzip: gzip unpacked */
        struct gz_sink gz;
        unsigned errors = s->errors;

        gz_sink_init(&gz, &unzip, &plain, it, s->msg, sizeof(s->msg));
        rc = session_fetch(s, it->server, it->path, true, 0,
                           it->unzip ? &unzip : &plain, &got, &ff);
        if (rc == 0 && it->unzip)
            rc = gz_sink_finish(&gz);
        if (rc != 0 && (m.refused || gz.failed))
            return session_error(s, rc, "%s", s->msg);
        if (rc != 0 && s->errors != errors)
            return rc; /* a refused guest write: said already */
        if (rc != 0)
            return file_failed(s, it, rc, &ff);
        s->packed = it->unzip && gz.gzip ? got : 0;
        if (m.growing) {
            /* Its size is what arrived; the next module may start at the
             * next page (the rest of the last chunk stays claimed). */
            m.size = got = gz_sink_size(&gz, got);
            where.cursor = (m.dest + got + PLAN_PAGE - 1) &
                           ~(uint64_t)(PLAN_PAGE - 1);
            if (where.cursor < m.dest + m.claimed)
                where.cursor = m.dest + m.claimed;
        }
        plan_module_str(s->msg, sizeof(s->msg), it, m.size, m.dest);
        say_packed(s);
        say_file(s, s->msg, got);
        mods[n].start = (uint32_t)m.dest;
        mods[n].end = (uint32_t)(m.dest + m.size);
        mods[n].cmdline = it->cmdline;
        n++;
    }
    s->nmods = n;
    return 0;
}

/* -------------------------------------------------------------- initrd */

/** Where one initrd part's bytes go. */
struct part_sink {
    struct session *s;
    uint32_t dest;
    uint32_t size; /* as planned */
};

/** file_sink.data for an initrd part: into the initrd's claim. */
static int part_data(void *ctx, uint32_t off, const uint8_t *data, size_t len)
{
    struct part_sink *p = ctx;

    return session_guest_write(p->s, &p->s->lx, p->dest + off, data, len);
}

/** file_sink.whole for an initrd part: its place in the initrd's claim,
 *  when the size is the planned one. */
static void *part_whole(void *ctx, uint32_t size)
{
    struct part_sink *p = ctx;

    if (size != p->size)
        return NULL;
    return session_guest_ptr(p->s, &p->s->lx, p->dest, size);
}

/**
 * The size of initrd part @it, or why not (reported).  The parts are
 * placed together before any is fetched, so each size must be known
 * first: a server that cannot say it (no RFC 2349 tsize, so the size
 * query fails other than with not-found, access denied or a timeout) is
 * told so in the error.
 */
static int part_size(struct session *s, const struct cfg_item *it,
                     uint32_t *size)
{
    struct fetch_failure ff;
    char why[160];
    int rc = session_size(s, it->server, it->path, size, &ff);

    if (rc == 0 || rc == -PE_NOENT || rc == -PE_ACCESS ||
        rc == -PE_TIMEDOUT || rc == -PE_TOOLONG || ff.no_client ||
        (s->face->check && rc == -PE_UNSUPP && ff.detail[0]))
        return rc ? file_failed(s, it, rc, &ff) : 0;
    return session_error(s, rc, "%s:%u: %s: %s: %s: an initrd part's size "
                         "is needed before its data, so %s",
                         it->src_file, it->src_line, plan_verb(it), it->path,
                         retry_describe(rc, &ff, why, sizeof(why)),
                         url_is(it->path) ? "the web server must send "
                         "Content-Length" : "the TFTP server must answer "
                         "the tsize option (RFC 2349)");
}

/**
 * The `load`s of a Linux kernel: the initrd, parts in config order,
 * concatenated 4-byte aligned (one part as it is), placed as high as the
 * kernel allows from the announced sizes, then fetched straight into
 * place.  Checking: sized and placed, each part's line printed.
 */
static int load_initrd(struct session *s)
{
    const struct cfg_item *it, *first = NULL;
    unsigned n = 0, i;
    uint32_t *size, *off, end = 0;
    int rc;

    if ((rc = plan_initrd_order(&s->cfg, s->msg, sizeof(s->msg))) != 0)
        return session_error(s, rc, "%s", s->msg);
    if (!(size = calloc(2 * s->cfg.nloads + 1, sizeof(*size))))
        return session_error(s, -PE_NOMEM, "out of memory for %u initrd "
                             "parts", s->cfg.nloads);
    off = size + s->cfg.nloads;
    for (it = s->cfg.items; it; it = it->next) {
        if (it->kind != CFG_LOAD)
            continue;
        if ((rc = part_size(s, it, &size[n])) != 0) {
            if (!s->face->check)
                goto out;
            continue;
        }
        first = first ? first : it;
        n++;
    }
    if (s->face->check && (n < s->cfg.nloads || !s->placing)) {
        printf("%s: initrd: %u of %u parts found (not placed: see above)\n",
               s->face->prog, n, s->cfg.nloads);
        goto out;
    }
    s->placer.owner = &s->lx;
    if ((rc = plan_initrd(&s->placer, &s->lx, first, size, n, off, s->msg,
                          sizeof(s->msg))) != 0) {
        rc = session_error(s, rc, "%s", s->msg);
        goto out;
    }
    for (i = 0, it = first; i < n; it = it->next) {
        struct part_sink p = { s, s->lx.initrd_addr + off[i], size[i] };
        struct file_sink sink = { NULL, part_data, &p, part_whole, NULL };
        struct fetch_failure ff;
        uint32_t got;

        if (it->kind != CFG_LOAD)
            continue;
        plan_module_str(s->msg, sizeof(s->msg), it, size[i],
                        s->lx.initrd_addr + off[i]);
        if (s->face->check) {
            printf("%s: %s (initrd part %u)\n", s->face->prog, s->msg, i + 1);
            i++;
            continue;
        }
        if ((rc = session_guest_zero(s, &s->lx, s->lx.initrd_addr + end,
                                     off[i] - end)) != 0)
            goto out;
        /* The part must have the size announced when it was planned. */
        unsigned errors = s->errors;

        rc = session_fetch(s, it->server, it->path, true, 0, &sink, &got,
                           &ff);
        if (rc == 0 && got != size[i])
            rc = -PE_CHANGED;
        if (rc != 0 && s->errors != errors)
            goto out; /* a refused guest write: said already */
        if (rc != 0) {
            rc = file_failed(s, it, rc, &ff);
            goto out;
        }
        plan_module_str(s->msg, sizeof(s->msg), it, size[i],
                        s->lx.initrd_addr + off[i]);
        say_file(s, s->msg, got);
        end = off[i] + size[i];
        i++;
    }
    rc = 0;
out:
    free(size);
    return s->face->check ? 0 : rc;
}

/* ---------------------------------------------------------------- chld */

/** The chld file's sink: checked and staged when its size is known, or
 *  (no size announced) staged for the largest program and checked as its
 *  bytes arrive.  On UEFI (efi) the program is an EFI image, staged
 *  anywhere below 4 GiB for LoadImage, its headers kept in head. */
struct chld_sink {
    struct session *s;
    const struct cfg_item *it;
    uint64_t staged;
    uint32_t size;
    bool planned;
    bool refused; /* the message is in s->msg */
    bool unsized; /* no size announced: staged for the largest program */
    bool efi;     /* an EFI program (face->uefi) */
    uint8_t *head; /* efi: the first PE_HEAD_MAX bytes, for pe_check */
    uint32_t nhead;
};

/** Claim the staging buffer for @bytes bytes (and one more). */
static int chld_stage(struct chld_sink *c, uint32_t bytes)
{
    struct session *s = c->s;
    /* Real mode reaches the staging buffer through the BIOS copy service:
     * stay below 16 MiB, which every BIOS's INT 15h/87h can address.  On
     * UEFI the firmware's LoadImage reads it: below 4 GiB, where the
     * session's guest memory is. */
    uint64_t limit = c->efi ? 0x100000000ull : 0x1000000;

    s->placer.owner = c->it;
    if (place_find(&s->placer, (uint64_t)bytes + 1, PLAN_PAGE, 0x100000,
                   limit, &c->staged) != 0 ||
        place_claim(&s->placer, c->staged, (uint64_t)bytes + 1,
                    "chld staging buffer", NULL) != 0) {
        snprintf(s->msg, sizeof(s->msg), "%s:%u: chld: %s: no room below "
                 "%s to stage %u bytes", c->it->src_file, c->it->src_line,
                 c->it->path, c->efi ? "4 GiB" : "16 MiB", bytes);
        c->refused = true;
        return -PE_NORAM;
    }
    c->planned = true;
    return 0;
}

/** Check @size bytes of the program (@announced: the server's size, else
 *  what came so far) against the limits of the face's kind of program. */
static int chld_limits(struct chld_sink *c, uint32_t size, bool announced)
{
    struct session *s = c->s;
    int rc;

    if (c->efi)
        rc = plan_chld_efi(c->it, size, announced, s->msg, sizeof(s->msg));
    else if (announced)
        rc = plan_chld(c->it, size, s->low_end, s->msg, sizeof(s->msg));
    else
        rc = plan_chld_unsized(c->it, size, s->msg, sizeof(s->msg));
    if (rc != 0)
        c->refused = true;
    return rc;
}

/** file_sink.size for `chld`: refuse what cannot run, then stage. */
static int chld_size(void *ctx, uint32_t size)
{
    struct chld_sink *c = ctx;
    int rc;

    if (c->planned)
        return size == c->size && !c->unsized ? 0 : -PE_CHANGED;
    if ((rc = chld_limits(c, size, true)) != 0)
        return rc;
    if ((rc = chld_stage(c, size)) != 0)
        return rc;
    c->size = size;
    return 0;
}

/** file_sink.data for `chld`: into the staging buffer. */
static int chld_data(void *ctx, uint32_t off, const uint8_t *data,
                     size_t len)
{
    struct chld_sink *c = ctx;
    int rc;

    if (!c->planned) {
        /* No size announced (a server without RFC 2349 tsize): stage for
         * the largest program there may be, refuse one that grows past
         * it while its bytes arrive, check the room at the end. */
        if ((rc = chld_stage(c, c->efi ? CHLD_EFI_MAX : CHLD_MAX)) != 0)
            return rc;
        c->unsized = true;
    }
    if (c->unsized) {
        if ((rc = chld_limits(c, off + (uint32_t)len, false)) != 0)
            return rc;
        if (off + (uint32_t)len > c->size)
            c->size = off + (uint32_t)len;
    }
    if (c->head && off < PE_HEAD_MAX) {
        /* A new try starts again at 0: what it brings replaces the last. */
        size_t n = len < PE_HEAD_MAX - off ? len : PE_HEAD_MAX - off;
        memcpy(c->head + off, data, n);
        c->nhead = off + (uint32_t)n;
    }
    return session_guest_write(c->s, c->it, (uint32_t)c->staged + off, data,
                               len);
}

/** file_sink.whole for `chld`: the staging buffer, when it was claimed
 *  for this size. */
static void *chld_whole(void *ctx, uint32_t size)
{
    struct chld_sink *c = ctx;

    if (!c->planned || c->unsized || size != c->size)
        return NULL;
    return session_guest_ptr(c->s, c->it, (uint32_t)c->staged, size);
}

/** Is the staged program an EFI application pulsar.efi can start? */
static int chld_efi_check(struct chld_sink *c)
{
    struct session *s = c->s;
    const struct cfg_item *it = c->it;
    struct pe_info pe;
    char why[PLAN_ERR_LEN - 64];
    int rc = pe_check(c->head, c->nhead, c->size, &pe, why, sizeof(why));

    if (rc != 0)
        return session_error(s, rc, "%s:%u: chld: %s: %s", it->src_file,
                             it->src_line, it->path, why);
    printf("%s: chainloading %s: %u bytes, an x86-64 EFI application "
           "(%u section%s, %u bytes loaded), started from memory on the "
           "boot NIC%s\n", s->face->prog, it->path, c->size, pe.nsections,
           pe.nsections == 1 ? "" : "s", pe.size_of_image, s->face->check ? " (the rest of the config is "
           "moot)" : "");
    return 0;
}

/** `chld`: plan (checking) or stage the other boot program.  On UEFI the
 *  checker fetches it too: its PE headers are what is checked. */
static int chainload(struct session *s, const struct cfg_item *it)
{
    struct chld_sink c = { s, it, 0, 0, false, false, false, s->face->uefi,
                           NULL, 0 };
    struct file_sink sink = { chld_size, chld_data, &c, chld_whole, NULL };
    struct fetch_failure ff;
    uint32_t got;
    int rc;

    s->item = it;
    if (s->face->check && !c.efi) {
        if (item_size(s, it, &c.size) != 0)
            return 0;
        if ((rc = plan_chld(it, c.size, s->low_end, s->msg,
                            sizeof(s->msg))) != 0)
            return session_error(s, rc, "%s", s->msg);
        printf("%s: chainloading %s: %u bytes to 0000:7c00, PXE stack kept "
               "(the rest of the config is moot)\n", s->face->prog, it->path,
               c.size);
        return 0;
    }
    if (c.efi && !(c.head = malloc(PE_HEAD_MAX)))
        return session_error(s, -PE_NOMEM, "out of memory");
    unsigned errors = s->errors;

    rc = session_fetch(s, it->server, it->path, true, 0, &sink, &got, &ff);
    if (rc != 0 && c.refused)
        rc = session_error(s, rc, "%s", s->msg);
    else if (rc != 0 && s->errors == errors)
        rc = file_failed(s, it, rc, &ff);
    /* else: a refused guest write, said already */
    if (rc == 0 && !c.planned && (rc = chld_stage(&c, 0)) != 0)
        rc = session_error(s, rc, "%s", s->msg); /* empty, unsized */
    if (rc == 0 && c.unsized) {
        /* The size is what came; does it end below free base memory? */
        c.size = got;
        if (!c.efi && (rc = plan_chld(it, got, s->low_end, s->msg,
                                      sizeof(s->msg))) != 0)
            rc = session_error(s, rc, "%s", s->msg);
    }
    /* The same words as pulsar-check's plan line (tests match on them). */
    const char *took = rc == 0 && s->face->progress_end
                           ? s->face->progress_end(got)
                           : "";
    if (rc == 0 && !s->face->check)
        printf("%s: %s: %s\n", s->face->prog, it->path, took);
    if (rc == 0 && c.efi)
        rc = chld_efi_check(&c);
    else if (rc == 0)
        printf("%s: chainloading %s: %u bytes to 0000:7c00, PXE stack "
               "kept\n", s->face->prog, it->path, c.size);
    free(c.head);
    if (rc != 0 || s->face->check)
        return rc;
    s->chld_staged = c.staged;
    s->chld_size = c.size;
    s->boot = SESSION_BOOT_CHLD;
    return 0;
}

/* ------------------------------------------------------------- session */

/**
 * On UEFI, say how a bzImage will be started and why: through its EFI
 * stub when it has one, else through the 32-bit boot protocol after
 * ExitBootServices (the same line when checking).
 */
static void say_linux_path(struct session *s, const struct cfg_item *it)
{
    if (s->format->handoff == HANDOFF_EFI_STUB)
        printf("%s: %s: has an EFI stub: started with LoadImage/StartImage, "
               "initrd through LoadFile2 (the stub wins over the 32-bit "
               "boot protocol)\n", s->face->prog, it->path);
    else
        printf("%s: %s: no EFI stub: started through the 32-bit boot "
               "protocol at %08x after ExitBootServices (the setup is not "
               "run)\n", s->face->prog, it->path, s->lx.kernel_addr);
}

/** UEFI: how a Multiboot2 kernel is entered (the face does as said). */
static void say_mb2_efi(struct session *s, const struct cfg_item *it)
{
    const struct kernel_load *k = s->kernel;
    enum mb2_efi_mode mode = mb2_efi_entry(&k->plan.mb2, k->prefix, k->have);

    printf("%s: %s: multiboot2 on UEFI: %s at %08x\n", s->face->prog,
           it->path, mb2_efi_mode_str(mode),
           mode == MB2_EFI_BS_EFI64 ? k->plan.mb2.efi64_entry
                                    : k->plan.entry);
}

/** Run the session; see session.h. */
int session_run(struct session *s)
{
    const struct cfg_item *exec;
    int rc;

    s->boot = SESSION_BOOT_NONE;
    s->placing = true;
    /* The initial root: option 17, else PXELINUX's path prefix (210). */
    cfg_state_init(&s->st, s->dhcp.has_root     ? s->dhcp.root
                           : s->dhcp.has_prefix ? s->dhcp.prefix
                                                : NULL,
                   s->dhcp.server_ip);
    if ((rc = read_config(s)) != 0)
        return s->face->check ? 0 : rc;
    if (s->cfg.chld) {
        rc = chainload(s, s->cfg.chld);
        return s->face->check ? 0 : rc;
    }
    if (!(exec = s->cfg.exec)) {
        plan_no_exec(s->msg, sizeof(s->msg), s->cfgname);
        rc = session_error(s, -PE_NOKERNEL, "%s", s->msg);
        return s->face->check ? 0 : rc;
    }
    s->item = exec;
    rc = load_kernel(s, exec);
    if (rc != 0 && !s->face->check)
        return rc;
    if (rc == 0 && s->kernel->is_linux && s->face->uefi)
        say_linux_path(s, exec);
    if (rc == 0 && s->format->handoff == HANDOFF_MULTIBOOT2 &&
        s->face->uefi)
        say_mb2_efi(s, exec);
    /* Checking goes on without a kernel: its files are still worth a look
     * (as modules, unless the kernel was seen to be a bzImage). */
    if (s->kernel->is_linux)
        rc = load_initrd(s);
    else
        rc = load_modules(s);
    if (rc != 0 || s->face->check)
        return s->face->check ? 0 : rc;
    if (s->format->handoff == HANDOFF_LINUX) {
        uint8_t *low = session_guest_ptr(s, exec, s->lx.setup_addr,
                                         LINUX_LOW_SIZE);
        if (!low)
            return guest_refused(s, s->lx.setup_addr, LINUX_LOW_SIZE);
        linux_finish(low, &s->lx); /* the setup header, cmdline, initrd */
    }
    s->boot = SESSION_BOOT_KERNEL;
    return 0;
}
