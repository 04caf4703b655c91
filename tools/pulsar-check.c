/*
 * pulsar-check: check a Pulsar config offline, before a rack of machines
 * reboots into it.
 *
 *   pulsar-check [options] TFTPROOT
 *
 * It runs Pulsar's own boot session (loader/session.c: lookup, parser,
 * format table, placer and every message) with a face of its own: files
 * come from directories instead of TFTP and nothing is written, so every
 * error it reports carries Pulsar's own text by construction.  Files come from
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
#include "lib/errno.h"
#include "loader/efimap.h"
#include "loader/place.h"
#include "loader/plan.h"
#include "loader/session.h"
#include "loader/source.h"
#include "net/dhcp.h"
#include "net/url.h"

#define PROG "pulsar-check"
#define MAX_MAPS 16
#define MIB (1024u * 1024u)

/** A TFTP server, or a URL prefix, and the local directory holding its
 *  files. */
struct server_map {
    uint32_t ip;
    const char *url; /* NULL: TFTP server @ip */
    size_t url_len;  /* without a trailing '/' */
    const char *dir;
};

/** The servers the checker can see: TFTPROOT and every --map. */
static struct server_map maps[MAX_MAPS];
static unsigned nmaps;

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
            "  --map URL=DIR    files under the http:// URL are under DIR\n"
            "  --map IP=DIR     files of `tftp IP` are under DIR "
            "(repeatable)\n"
            "  --mem MIB        RAM of the machine (default 256)\n"
            "  --firmware F     bios (the NBP, default) or efi (pulsar.efi:\n"
            "                   a UEFI memory map, chld of EFI programs)\n"
            "  --base-mem KIB   free base memory below the PXE stack "
            "(default 560)\n"
            "exit: 0 bootable, 1 errors, 2 some files could not be checked\n",
            PROG);
    exit(1);
}

/* ------------------------------------------------ the directory source */

/** The directory holding @server's files, or NULL when unmapped. */
static const char *server_dir(uint32_t server)
{
    for (unsigned i = 0; i < nmaps; i++)
        if (!maps[i].url && maps[i].ip == server)
            return maps[i].dir;
    return NULL;
}

/** The directory of the longest --map URL prefix of @url, with *@rest
 *  the path below it; NULL when unmapped. */
static const char *url_dir(const char *url, const char **rest)
{
    const struct server_map *best = NULL;

    for (unsigned i = 0; i < nmaps; i++) {
        const struct server_map *m = &maps[i];

        if (m->url && strncmp(url, m->url, m->url_len) == 0 &&
            (url[m->url_len] == '/' || !url[m->url_len]) &&
            (!best || m->url_len > best->url_len))
            best = m;
    }
    if (best)
        *rest = url + best->url_len;
    return best ? best->dir : NULL;
}

/**
 * Open TFTP @path on @server as a local file: 0 with *@f open and *@size
 * set, or a negative pulsar_err with @res filled as a TFTP client would
 * (-PE_NOENT missing; -PE_UNSUPP for an unmapped server, which the
 * session reports as "could not be checked"; -PE_IO unreadable).
 */
static int dir_open(uint32_t server, const char *path, FILE **f,
                    uint32_t *size, struct xfer_result *res)
{
    const char *dir;
    struct stat st;
    char ip[64], *file;

    if (url_is(path)) {
        url_server_name(server, path, ip, sizeof(ip));
        dir = url_dir(path, &path);
        if (!dir)
            snprintf(res->detail, sizeof(res->detail), "at %.32s, which "
                     "cannot be checked offline without --map URL=DIR",
                     ip);
    } else if (!(dir = server_dir(server))) {
        dhcp_format_ip(server, ip);
        snprintf(res->detail, sizeof(res->detail), "on %.15s, which cannot "
                 "be checked offline without --map %.15s=DIR", ip, ip);
    }
    if (!dir)
        return res->rc = -PE_UNSUPP;
    if (!(file = malloc(strlen(dir) + strlen(path) + 2))) {
        perror(PROG);
        exit(1);
    }
    sprintf(file, "%s/%s", dir, path);
    res->rc = 0;
    if (stat(file, &st) != 0) {
        res->rc = errno == ENOENT || errno == ENOTDIR ? -PE_NOENT : -PE_IO;
        snprintf(res->detail, sizeof(res->detail), "%s", strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(res->detail, sizeof(res->detail), "not a regular file");
        res->rc = -PE_IO;
    } else if ((unsigned long long)st.st_size > 0xFFFFFFFFull) {
        res->rc = -PE_RANGE;
    } else if (f && !(*f = fopen(file, "rb"))) {
        snprintf(res->detail, sizeof(res->detail), "%s", strerror(errno));
        res->rc = -PE_IO;
    }
    if (res->rc == 0)
        res->size = *size = (uint32_t)st.st_size;
    free(file);
    return res->rc;
}

/** file_source.size: stat() the file. */
static int dir_size(const struct file_source *src, uint32_t server,
                    const char *path, uint32_t *size, struct xfer_result *res)
{
    (void)src;
    return dir_open(server, path, NULL, size, res);
}

/** file_source.fetch: read the file into the sink, size first. */
static int dir_fetch(const struct file_source *src, uint32_t server,
                     const char *path, uint32_t max,
                     const struct file_sink *sink, struct xfer_result *res)
{
    static uint8_t buf[65536];
    uint32_t size;
    FILE *f;
    size_t n;
    int rc;

    (void)src;
    if ((rc = dir_open(server, path, &f, &size, res)) != 0)
        return rc;
    if (sink->size && (rc = sink->size(sink->ctx, size)) != 0)
        goto out;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        if ((uint64_t)res->got + n > max) {
            rc = -PE_RANGE;
            goto out;
        }
        if ((rc = sink->data(sink->ctx, res->got, buf, n)) != 0)
            goto out;
        res->got += (uint32_t)n;
    }
    if (ferror(f)) {
        snprintf(res->detail, sizeof(res->detail), "read error");
        rc = -PE_IO;
    }
out:
    fclose(f);
    return res->rc = rc;
}

static const struct file_source dir_source = { dir_size, dir_fetch, NULL };

/** The checker's face: directories, no guest memory, no waiting. */
static const struct session_face check_face = {
    .prog = PROG,
    .files = &dir_source,
    .http = &dir_source,
    .check = true,
};

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

/**
 * A typical UEFI memory map with @mib MiB of RAM, shaped as OVMF's on q35
 * (ACPI NVS from 8 MiB to 9 MiB, the firmware's runtime and ACPI memory
 * at the top, the flash below 4 GiB), in EFI types converted as
 * pulsar.efi converts them (loader/efimap.h).  @mib >= 16.
 */
static unsigned typical_efi_map(struct e820_entry *map, unsigned max,
                                uint32_t mib)
{
    uint64_t top = (uint64_t)mib * MIB;
    struct efimap m = { map, 0, max };

    efimap_add(&m, EFIMAP_CONVENTIONAL, 0, 0xA0000 / EFIMAP_PAGE);
    efimap_add(&m, EFIMAP_CONVENTIONAL, 0x100000, 0x700000 / EFIMAP_PAGE);
    efimap_add(&m, EFIMAP_ACPI_NVS, 0x800000, 0x100000 / EFIMAP_PAGE);
    efimap_add(&m, EFIMAP_BS_DATA, 0x900000,
               (top - 0x900000 - 0x400000) / EFIMAP_PAGE);
    efimap_add(&m, EFIMAP_ACPI_RECLAIM, top - 0x400000,
               0x100000 / EFIMAP_PAGE);
    efimap_add(&m, EFIMAP_ACPI_NVS, top - 0x300000, 0x100000 / EFIMAP_PAGE);
    efimap_add(&m, EFIMAP_RT_DATA, top - 0x200000, 0x200000 / EFIMAP_PAGE);
    efimap_add(&m, EFIMAP_MMIO, 0xFFC00000, 0x400000 / EFIMAP_PAGE);
    return efimap_merge(&m);
}

/** Print the summary line; returns the exit status (see the top). */
static int finish(const struct session *c)
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
    static struct session c;
    static struct session_face face;
    struct e820_entry map[8];
    const char *tftproot = NULL;
    uint32_t server, mem_mib = 256;
    int i, rc;

    face = check_face;
    c.face = &face;
    cfg_parse_ip("10.0.2.2", &server);
    c.low_end = 560 * 1024;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned mac_len;

        if (strcmp(a, "--mac") == 0) {
            if (parse_mac(arg(argc, argv, &i), c.dhcp.mac, &mac_len) != 0)
                usage();
            c.dhcp.mac_len = (uint8_t)mac_len;
        } else if (strcmp(a, "--config") == 0) {
            const char *v = arg(argc, argv, &i);

            if (strlen(v) >= sizeof(c.dhcp.config))
                usage();
            strcpy(c.dhcp.config, v);
            c.dhcp.has_config = v[0] != '\0';
        } else if (strcmp(a, "--ip") == 0) {
            if (cfg_parse_ip(arg(argc, argv, &i), &c.dhcp.client_ip) != 0)
                usage();
        } else if (strcmp(a, "--server") == 0) {
            if (cfg_parse_ip(arg(argc, argv, &i), &server) != 0)
                usage();
        } else if (strcmp(a, "--root-path") == 0) {
            const char *v = arg(argc, argv, &i);

            if (strlen(v) >= sizeof(c.dhcp.root))
                usage();
            strcpy(c.dhcp.root, v);
            c.dhcp.has_root = true;
        } else if (strcmp(a, "--map") == 0) {
            const char *m = arg(argc, argv, &i);
            const char *eq = strchr(m, '=');
            char ip[16];

            if (!eq || nmaps == MAX_MAPS - 1)
                usage();
            if (url_is(m)) {
                maps[nmaps].url = m;
                maps[nmaps].url_len = (size_t)(eq - m);
                while (maps[nmaps].url_len && m[maps[nmaps].url_len - 1]
                       == '/')
                    maps[nmaps].url_len--;
                maps[nmaps++].dir = eq + 1;
                continue;
            }
            if (eq - m >= 16)
                usage();
            memcpy(ip, m, (size_t)(eq - m));
            ip[eq - m] = '\0';
            if (cfg_parse_ip(ip, &maps[nmaps].ip) != 0)
                usage();
            maps[nmaps++].dir = eq + 1;
        } else if (strcmp(a, "--mem") == 0) {
            if (parse_num(arg(argc, argv, &i), &mem_mib) != 0 ||
                mem_mib < 2 || mem_mib > 4096)
                usage();
        } else if (strcmp(a, "--firmware") == 0) {
            const char *v = arg(argc, argv, &i);

            if (strcmp(v, "efi") == 0)
                face.uefi = true;
            else if (strcmp(v, "bios") != 0)
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
    if (!tftproot || (!c.dhcp.mac_len && !c.dhcp.has_config) ||
        (face.uefi && mem_mib < 16))
        usage();
    /* TFTPROOT serves the DHCP next-server unless --map said otherwise. */
    maps[nmaps].ip = server;
    maps[nmaps++].dir = tftproot;
    c.dhcp.server_ip = server;

    /* On UEFI nothing low is Pulsar's or the PXE stack's: the map alone. */
    if (face.uefi)
        rc = plan_efi_placer_init(&c.placer, map,
                                  typical_efi_map(map, 8, mem_mib));
    else
        rc = plan_placer_init(&c.placer, map, typical_map(map, mem_mib),
                              c.low_end);
    if (rc != 0) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 1;
    }
    session_run(&c);
    cfg_free(&c.cfg);
    place_fini(&c.placer);
    return finish(&c);
}
