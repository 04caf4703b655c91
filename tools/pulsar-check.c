/*
 * pulsar-check: check a Pulsar config offline, before a rack of machines
 * reboots into it.
 *
 *   pulsar-check [options] TFTPROOT
 *
 * It follows the config lookup, `root`, `conf`, `tftp` and `addr` exactly
 * as Pulsar does, with the very same parser (config/), lookup
 * (config/lookup.c) and planning code (loader/plan.c, image.c, place.c),
 * so every error it reports carries Pulsar's own text.  Files come from
 * TFTPROOT (the DHCP next-server's root) or from a directory given with
 * --map for another `tftp` server.  It prints the plan: each file, its
 * size and where it goes in a typical memory map of --mem MiB.
 *
 * Pulsar stops at the first error; the checker reports that one first,
 * then keeps checking that the remaining files exist and that kernels are
 * bootable (placement stops at the first problem, since what follows
 * would move once it is fixed).
 *
 * Exit status: 0 all checked and bootable, 1 an error Pulsar would report
 * (or a usage error), 2 no error but some files could not be checked
 * (on a `tftp` server without --map).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "config/lookup.h"
#include "lib/errno.h"
#include "loader/image.h"
#include "loader/place.h"
#include "loader/plan.h"
#include "net/dhcp.h"

#define PROG "pulsar-check"
#define MAX_MAPS 16
#define MIB (1024u * 1024u)
/** Largest config file Pulsar reads (boot/bios/main.c's CONFIG_MAX). */
#define CONFIG_MAX (1u << 20)

/** A TFTP server and the local directory holding its files. */
struct server_map {
    uint32_t ip;
    const char *dir;
};

/** Everything one check knows. */
struct check {
    struct server_map map[MAX_MAPS];
    unsigned nmap;
    uint32_t server;   /* the DHCP next-server: TFTPROOT */
    uint32_t client;   /* client IP for config-<hex>, 0: none */
    uint8_t mac[16];
    unsigned mac_len;
    const char *root_path;
    const char *config;  /* as DHCP option 209 */
    uint32_t mem_mib;
    uint32_t low_end;    /* free base memory end (Pulsar's heap end) */
    unsigned errors;
    unsigned unchecked;
    struct placer placer;
    bool placing;        /* false after the first problem */
    bool is_linux;       /* the kernel is a bzImage: loads are its initrd */
    struct linux_plan lx;
};

/* --------------------------------------------------------- messages */

/** Print "pulsar-check: error: ..." and count it. */
static void error(struct check *c, const char *fmt, ...)
{
    va_list ap;

    printf("%s: error: ", PROG);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    c->errors++;
    c->placing = false;
}

/** Print a line of the plan or of the lookup. */
static void say(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s: %s\n", PROG, line);
}

/** Usage text, and exit 1. */
static void usage(void)
{
    fprintf(stderr,
            "usage: %s [options] TFTPROOT\n"
            "  --mac MAC        the NIC's MAC (aa:bb:cc:dd:ee:ff or with -):\n"
            "                   try config-<mac>, config-<IP...>, "
            "config-default\n"
            "  --config NAME    use this config only (as DHCP option 209)\n"
            "  --ip IP          the client's IP, for config-<hex IP> names\n"
            "  --server IP      the DHCP next-server TFTPROOT stands for "
            "(10.0.2.2)\n"
            "  --root-path P    the DHCP root-path (option 17)\n"
            "  --map IP=DIR     files of `tftp IP` are under DIR "
            "(repeatable)\n"
            "  --mem MIB        RAM of the machine (default 256)\n"
            "  --base-mem KIB   free base memory below the PXE stack "
            "(default 560)\n"
            "exit: 0 bootable, 1 errors, 2 some files could not be checked\n",
            PROG);
    exit(1);
}

/* ------------------------------------------------------------- files */

/** The directory holding @server's files, or NULL when unmapped. */
static const char *server_dir(const struct check *c, uint32_t server)
{
    for (unsigned i = 0; i < c->nmap; i++)
        if (c->map[i].ip == server)
            return c->map[i].dir;
    return NULL;
}

/** The local file for TFTP @path on @server, malloc'ed, or NULL. */
static char *local_path(const struct check *c, uint32_t server,
                        const char *path)
{
    const char *dir = server_dir(c, server);
    char *out;

    if (!dir)
        return NULL;
    out = malloc(strlen(dir) + strlen(path) + 2);
    if (!out) {
        perror(PROG);
        exit(1);
    }
    sprintf(out, "%s/%s", dir, path);
    return out;
}

/**
 * Size of a regular file: 0, -PE_NOENT (missing, as TFTP would say) or
 * -PE_IO with @detail set (unreadable, a directory...).
 */
static int file_size(const char *file, uint32_t *size, char *detail,
                     size_t len)
{
    struct stat st;

    if (stat(file, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return -PE_NOENT;
        snprintf(detail, len, "%s", strerror(errno));
        return -PE_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(detail, len, "not a regular file");
        return -PE_IO;
    }
    if ((unsigned long long)st.st_size > 0xFFFFFFFFull) {
        snprintf(detail, len, "over 4 GiB");
        return -PE_RANGE;
    }
    *size = (uint32_t)st.st_size;
    return 0;
}

/** Read up to @max bytes of @file into a malloc'ed buffer. */
static int read_file(const char *file, size_t max, uint8_t **data,
                     size_t *len, char *detail, size_t dlen)
{
    FILE *f = fopen(file, "rb");
    uint8_t *buf;

    if (!f) {
        if (errno == ENOENT || errno == ENOTDIR)
            return -PE_NOENT;
        snprintf(detail, dlen, "%s", strerror(errno));
        return -PE_IO;
    }
    buf = malloc(max + 1);
    if (!buf) {
        fclose(f);
        return -PE_NOMEM;
    }
    *len = fread(buf, 1, max, f);
    if (ferror(f)) {
        snprintf(detail, dlen, "read error");
        fclose(f);
        free(buf);
        return -PE_IO;
    }
    fclose(f);
    *data = buf;
    return 0;
}

/** The cfg_fetch_fn for `conf` and the lookup: files from the maps. */
static int fetch_text(void *ctx, const struct cfg_state *st, const char *path,
                      char **text, size_t *len, char *why)
{
    struct check *c = ctx;
    char *file = local_path(c, st->server, path);
    char detail[96] = "";
    uint32_t size;
    uint8_t *data;
    int rc;

    if (!file) {
        char ip[16];

        dhcp_format_ip(st->server, ip);
        snprintf(why, CFG_ERR_LEN, "on %s, which cannot be checked "
                 "offline without --map %s=DIR", ip, ip);
        c->unchecked++;
        return -PE_UNSUPP;
    }
    rc = file_size(file, &size, detail, sizeof(detail));
    if (rc == 0 && size > CONFIG_MAX) {
        snprintf(detail, sizeof(detail), "%s", pulsar_strerror(-PE_RANGE));
        rc = -PE_RANGE;
    }
    if (rc == 0)
        rc = read_file(file, size, &data, len, detail, sizeof(detail));
    free(file);
    if (rc != 0) {
        plan_fetch_why(why, CFG_ERR_LEN, rc, st->server, detail);
        return rc;
    }
    data[*len] = '\0';
    *text = (char *)data;
    return 0;
}

/**
 * Find @it's file and its size.  Returns 0; 1 when it cannot be checked
 * offline (noted); -1 after reporting an error.
 */
static int item_size(struct check *c, const struct cfg_item *it,
                     char **file, uint32_t *size)
{
    char err[PLAN_ERR_LEN], detail[96] = "", ip[16];
    int rc;

    *file = local_path(c, it->server, it->path);
    if (!*file) {
        dhcp_format_ip(it->server, ip);
        printf("%s: note: %s:%u: %s: %s: on %s, which cannot be checked "
               "offline without --map %s=DIR\n", PROG, it->src_file,
               it->src_line, plan_verb(it), it->path, ip, ip);
        c->unchecked++;
        c->placing = false;
        return 1;
    }
    if ((rc = file_size(*file, size, detail, sizeof(detail))) != 0) {
        plan_file_error(err, sizeof(err), it, rc, detail);
        error(c, "%s", err);
        free(*file);
        *file = NULL;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ checks */

/** Does @b hold a Linux bzImage header ("HdrS" at 0x202)? */
static bool is_bzimage(const uint8_t *b, size_t len)
{
    return len >= 0x206 && memcmp(b + 0x202, "HdrS", 4) == 0;
}

/**
 * Check the kernel: exists, bootable, and (while placing) claim its
 * segments.  Returns where modules start, or 0 when unknown.
 */
static uint32_t check_kernel(struct check *c, const struct cfg_item *it)
{
    char err[PLAN_ERR_LEN], detail[96] = "";
    struct image_plan plan;
    uint8_t *prefix;
    size_t have;
    uint32_t size;
    char *file;
    int rc;

    if (item_size(c, it, &file, &size) != 0)
        return 0;
    rc = read_file(file, IMAGE_PREFIX, &prefix, &have, detail,
                   sizeof(detail));
    free(file);
    if (rc != 0) {
        plan_file_error(err, sizeof(err), it, rc, detail);
        error(c, "%s", err);
        return 0;
    }
    if (!c->placing) {
        /* Placement is off, but a broken image is still worth saying. */
        struct placer scratch;
        struct e820_entry all = { 0, 1ull << 32, E820_RAM };

        c->is_linux = is_bzimage(prefix, have);
        if (place_init(&scratch, &all, 1) == 0) {
            if ((c->is_linux
                     ? plan_linux_kernel(&scratch, it, prefix, have, size,
                                         &c->lx, &plan, err, sizeof(err))
                     : plan_kernel(&scratch, it, prefix, have, size, &plan,
                                   err, sizeof(err))) != 0)
                error(c, "%s", err);
            place_fini(&scratch);
        }
        free(prefix);
        return 0;
    }
    c->is_linux = is_bzimage(prefix, have);
    rc = c->is_linux ? plan_linux_kernel(&c->placer, it, prefix, have, size,
                                         &c->lx, &plan, err, sizeof(err))
                     : plan_kernel(&c->placer, it, prefix, have, size, &plan,
                                   err, sizeof(err));
    free(prefix);
    if (rc != 0) {
        error(c, "%s", err);
        return 0;
    }
    plan_kernel_str(err, sizeof(err), it, size, &plan);
    say(NULL, err);
    /* A bzImage gets the arguments only (loader/linux.h). */
    printf("%s:     cmdline: %s\n", PROG, c->is_linux ? it->args
                                                      : it->cmdline);
    return plan.highest;
}

/** A Linux kernel's `load`s: the initrd parts, laid out and placed as
 *  Pulsar does (loader/plan.c), each part's line printed. */
static void check_initrd(struct check *c, const struct cfg *cfg)
{
    char err[PLAN_ERR_LEN];
    const struct cfg_item *it, *first = NULL;
    uint32_t *size = calloc(2 * cfg->nloads + 1, sizeof(*size)), *off;
    unsigned n = 0, i = 0;
    char *file;

    if (plan_initrd_order(cfg, err, sizeof(err)) != 0) {
        error(c, "%s", err);
        free(size);
        return;
    }
    if (!size) {
        error(c, "out of memory");
        return;
    }
    off = size + cfg->nloads;
    for (it = cfg->items; it; it = it->next) {
        if (it->kind != CFG_LOAD || item_size(c, it, &file, &size[n]) != 0)
            continue;
        free(file);
        first = first ? first : it;
        n++;
    }
    if (n < cfg->nloads || !c->placing) {
        printf("%s: initrd: %u of %u parts found (not placed: see above)\n",
               PROG, n, cfg->nloads);
    } else if (plan_initrd(&c->placer, &c->lx, first, size, n, off, err,
                           sizeof(err)) != 0) {
        error(c, "%s", err);
    } else {
        for (it = first; i < n; it = it->next) {
            if (it->kind != CFG_LOAD)
                continue;
            plan_module_str(err, sizeof(err), it, size[i],
                            c->lx.initrd_addr + off[i]);
            printf("%s: %s (initrd part %u)\n", PROG, err, i + 1);
            i++;
        }
    }
    free(size);
}

/** Check every module: exists, and (while placing) where it goes. */
static void check_modules(struct check *c, const struct cfg *cfg,
                          uint32_t kernel_end)
{
    char err[PLAN_ERR_LEN];
    struct plan_mods where;
    uint64_t dest;
    uint32_t size;
    char *file;

    plan_mods_init(&where, kernel_end);
    for (const struct cfg_item *it = cfg->items; it; it = it->next) {
        if (it->kind != CFG_LOAD)
            continue;
        if (item_size(c, it, &file, &size) != 0)
            continue;
        free(file);
        if (!c->placing) {
            printf("%s: %s: %u bytes (not placed: see above)\n", PROG,
                   it->path, size);
            continue;
        }
        if (plan_module(&where, &c->placer, it, size, &dest, err,
                        sizeof(err)) != 0) {
            error(c, "%s", err);
            continue;
        }
        plan_module_str(err, sizeof(err), it, size, dest);
        say(NULL, err);
        printf("%s:     cmdline: %s\n", PROG, it->cmdline);
    }
}

/** Check a `chld`: exists and fits where a PXE boot program runs. */
static void check_chld(struct check *c, const struct cfg_item *it)
{
    char err[PLAN_ERR_LEN];
    uint32_t size;
    char *file;

    if (item_size(c, it, &file, &size) != 0)
        return;
    free(file);
    if (plan_chld(it, size, c->low_end, err, sizeof(err)) != 0) {
        error(c, "%s", err);
        return;
    }
    printf("%s: chainloading %s: %u bytes to 0000:7c00, PXE stack kept "
           "(the rest of the config is moot)\n", PROG, it->path, size);
}

/** A typical PC memory map (SeaBIOS-like) with @mib MiB of RAM. */
static unsigned typical_map(struct e820_entry *map, uint32_t mib)
{
    uint64_t top = (uint64_t)mib * MIB;

    map[0] = (struct e820_entry){ 0, 0x9FC00, E820_RAM };
    map[1] = (struct e820_entry){ 0x9FC00, 0x400, E820_RESERVED };
    map[2] = (struct e820_entry){ 0xF0000, 0x10000, E820_RESERVED };
    map[3] = (struct e820_entry){ 0x100000, top - 0x100000 - 0x20000,
                                  E820_RAM };
    map[4] = (struct e820_entry){ top - 0x20000, 0x20000, E820_ACPI };
    map[5] = (struct e820_entry){ 0xFFFC0000, 0x40000, E820_RESERVED };
    return 6;
}

/** Print the summary line; returns the exit status (see the top). */
static int finish(const struct check *c)
{
    if (c->errors) {
        printf("%s: %u error%s\n", PROG, c->errors, c->errors == 1 ? "" : "s");
        return 1;
    }
    if (c->unchecked) {
        printf("%s: no errors, but %u file%s could not be checked\n", PROG,
               c->unchecked, c->unchecked == 1 ? "" : "s");
        return 2;
    }
    printf("%s: ok\n", PROG);
    return 0;
}

/* ------------------------------------------------------------ options */

/** Parse "aa:bb:.." or "aa-bb-..", 1 to 16 bytes. */
static int parse_mac(const char *s, uint8_t *mac, unsigned *len)
{
    unsigned n = 0;

    while (*s && n < 16) {
        unsigned hi, lo;
        char a = s[0], b = a ? s[1] : 0;

        if (!a || !b)
            return -1;
        hi = (unsigned)(a >= '0' && a <= '9' ? a - '0'
                        : (a | 32) >= 'a' && (a | 32) <= 'f' ? (a | 32) - 'a' + 10
                                                             : 99);
        lo = (unsigned)(b >= '0' && b <= '9' ? b - '0'
                        : (b | 32) >= 'a' && (b | 32) <= 'f' ? (b | 32) - 'a' + 10
                                                             : 99);
        if (hi > 15 || lo > 15)
            return -1;
        mac[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (*s == ':' || *s == '-')
            s++;
        else if (*s)
            return -1;
    }
    *len = n;
    return *s || n == 0 ? -1 : 0;
}

/** Parse a positive decimal number below 2^32. */
static int parse_num(const char *s, uint32_t *out)
{
    uint64_t v;

    if (cfg_parse_addr(s, &v) != 0 || v == 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/** The value of option @argv[*i], or usage. */
static const char *arg(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc)
        usage();
    return argv[++*i];
}

int main(int argc, char **argv)
{
    static struct check c;
    struct e820_entry map[8];
    struct cfg_lookup names;
    struct cfg_state st;
    struct cfg cfg;
    char path[CFG_MAX_PATH + 1], err[PLAN_ERR_LEN];
    const char *tftproot = NULL;
    uint32_t kernel_end;
    char *text;
    size_t len;
    int i, rc;

    cfg_parse_ip("10.0.2.2", &c.server);
    c.mem_mib = 256;
    c.low_end = 560 * 1024;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--mac") == 0) {
            if (parse_mac(arg(argc, argv, &i), c.mac, &c.mac_len) != 0)
                usage();
        } else if (strcmp(a, "--config") == 0) {
            c.config = arg(argc, argv, &i);
        } else if (strcmp(a, "--ip") == 0) {
            if (cfg_parse_ip(arg(argc, argv, &i), &c.client) != 0)
                usage();
        } else if (strcmp(a, "--server") == 0) {
            if (cfg_parse_ip(arg(argc, argv, &i), &c.server) != 0)
                usage();
        } else if (strcmp(a, "--root-path") == 0) {
            c.root_path = arg(argc, argv, &i);
        } else if (strcmp(a, "--map") == 0) {
            const char *m = arg(argc, argv, &i);
            const char *eq = strchr(m, '=');
            char ip[16];

            if (!eq || eq - m >= 16 || c.nmap == MAX_MAPS - 1)
                usage();
            memcpy(ip, m, (size_t)(eq - m));
            ip[eq - m] = '\0';
            if (cfg_parse_ip(ip, &c.map[c.nmap].ip) != 0)
                usage();
            c.map[c.nmap++].dir = eq + 1;
        } else if (strcmp(a, "--mem") == 0) {
            if (parse_num(arg(argc, argv, &i), &c.mem_mib) != 0 ||
                c.mem_mib < 2 || c.mem_mib > 4096)
                usage();
        } else if (strcmp(a, "--base-mem") == 0) {
            uint32_t kib;

            if (parse_num(arg(argc, argv, &i), &kib) != 0 || kib < 64 ||
                kib > 639)
                usage();
            c.low_end = kib * 1024;
        } else if (a[0] == '-' || tftproot) {
            usage();
        } else {
            tftproot = a;
        }
    }
    if (!tftproot || (!c.mac_len && !c.config))
        usage();
    /* TFTPROOT serves the DHCP next-server unless --map said otherwise. */
    c.map[c.nmap].ip = c.server;
    c.map[c.nmap++].dir = tftproot;

    if (plan_placer_init(&c.placer, map, typical_map(map, c.mem_mib),
                         c.low_end) != 0) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
    }
    c.placing = true;

    cfg_state_init(&st, c.root_path, c.server);
    cfg_lookup_names(&names, c.mac, c.mac_len, c.client, c.config);
    if (cfg_lookup_fetch(&names, &st, fetch_text, &c, say, NULL, &text, &len,
                         path, err) != 0) {
        error(&c, "%s", err);
        return finish(&c);
    }
    memset(&cfg, 0, sizeof(cfg));
    if ((rc = cfg_parse(&cfg, &st, path, text, len, fetch_text, &c, err)) !=
        0) {
        free(text);
        cfg_free(&cfg);
        if (rc == -PE_UNSUPP && c.unchecked) {
            /* A `conf` on a server without --map: not an error, unknown. */
            printf("%s: note: %s\n", PROG, err);
            return finish(&c);
        }
        error(&c, "%s", err);
        return finish(&c);
    }
    free(text);

    if (cfg.chld) {
        check_chld(&c, cfg.chld);
    } else if (!cfg.exec) {
        plan_no_exec(err, sizeof(err), path);
        error(&c, "%s", err);
    } else {
        kernel_end = check_kernel(&c, cfg.exec);
        if (c.is_linux)
            check_initrd(&c, &cfg);
        else
            check_modules(&c, &cfg, kernel_end);
    }
    cfg_free(&cfg);
    place_fini(&c.placer);

    return finish(&c);
}
