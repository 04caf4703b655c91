/*
 * libFuzzer target: the whole boot session (loader/session.c) as the NBP
 * runs it, over a memory file source and a simulated 16 MiB machine.
 *
 * Input: the config, then the files after lines "--": file 1 is what a
 * name starting with 'k' or 'b' gets (a kernel), file 2 what any other
 * name gets (a module, an initrd part, a nested config, a chld program);
 * a file that is not in the input is "not found".  Every transfer hands
 * the data over in blocks whose size the input's first byte picks.
 *
 * Checks beyond the sanitizers: no guest write ever falls outside the
 * placer's claims for its file (the session reports such a write as an
 * "internal error", which is a finding here); every write lands inside
 * the simulated RAM; a session that returns 0 has a plan to boot; an
 * error leaves a message naming what failed.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/plan.h"
#include "loader/session.h"

#define RAM_SIZE (16u << 20)
#define MAX_PARTS 3

static const char *part[MAX_PARTS];
static size_t part_len[MAX_PARTS];
static unsigned nparts;
static size_t block = 512;
static uint8_t *ram;

/** Split @data at "\n--\n" into at most MAX_PARTS parts. */
static void split(const char *s, size_t size)
{
    const char *end = s + size;

    nparts = 0;
    while (nparts < MAX_PARTS - 1) {
        const char *sep = memmem(s, (size_t)(end - s), "\n--\n", 4);
        if (!sep)
            break;
        part[nparts] = s;
        part_len[nparts++] = (size_t)(sep - s) + 1;
        s = sep + 4;
    }
    part[nparts] = s;
    part_len[nparts++] = (size_t)(end - s);
}

/** The part serving @path, or -1 when the input has none. */
static int part_of(const char *path)
{
    const char *base = strrchr(path, '/');
    int i;

    base = base ? base + 1 : path;
    if (strcmp(path, "c") == 0)
        return 0;
    i = base[0] == 'k' || base[0] == 'b' ? 1 : 2;
    return i < (int)nparts ? i : -1;
}

/** file_source.size over the input's parts. */
static int fz_size(const struct file_source *src, uint32_t server,
                   const char *path, uint32_t *size, struct xfer_result *res)
{
    int i = part_of(path);

    (void)src;
    (void)server;
    if (i < 0)
        return res->rc = -PE_NOENT;
    *size = res->size = (uint32_t)part_len[i];
    return res->rc = 0;
}

/** file_source.fetch over the input's parts, in blocks. */
static int fz_fetch(const struct file_source *src, uint32_t server,
                    const char *path, uint32_t max,
                    const struct file_sink *sink, struct xfer_result *res)
{
    int i = part_of(path), rc = 0;
    size_t off;

    (void)src;
    (void)server;
    if (i < 0)
        return res->rc = -PE_NOENT;
    if (sink->size)
        rc = sink->size(sink->ctx, (uint32_t)part_len[i]);
    for (off = 0; rc == 0 && off < part_len[i]; off += block) {
        size_t n = part_len[i] - off < block ? part_len[i] - off : block;

        if (off + n > max)
            rc = -PE_RANGE;
        else if ((rc = sink->data(sink->ctx, (uint32_t)off,
                                  (const uint8_t *)part[i] + off, n)) == 0)
            res->got = (uint32_t)(off + n);
    }
    return res->rc = rc;
}

static const struct file_source fz_source = { fz_size, fz_fetch, NULL };

/** Guest memory: every write must land inside the simulated RAM. */
static void *fz_guest(uint32_t dest, size_t n)
{
    assert((uint64_t)dest + n <= RAM_SIZE);
    return ram + dest;
}

/** Messages are not needed here. */
int fuzz_quiet_printf(const char *fmt, ...)
{
    (void)fmt;
    return 0;
}

static const struct session_face fz_face = {
    .prog = "pulsar",
    .files = &fz_source,
    .guest = fz_guest,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct e820_entry map[] = {
        { 0x0, 0x9fc00, E820_RAM },
        { 0x9fc00, 0x400, E820_RESERVED },
        { 0xf0000, 0x10000, E820_RESERVED },
        { 0x100000, RAM_SIZE - 0x100000, E820_RAM },
    };
    static struct session s;
    int rc;

    if (!ram && !(ram = calloc(1, RAM_SIZE)))
        abort();
    if (size < 1)
        return 0;
    block = 1 + data[0] * 8u;
    split((const char *)data + 1, size - 1);
    memset(&s, 0, sizeof(s));
    s.face = &fz_face;
    s.low_end = 0x9c400;
    s.dhcp.mac_len = 6;
    s.dhcp.server_ip = 0x0202000a;
    s.dhcp.has_config = true;
    strcpy(s.dhcp.config, "c");
    if (plan_placer_init(&s.placer, map, 4, s.low_end) != 0)
        abort();
    rc = session_run(&s);
    assert(strncmp(s.error, "internal error", 14) != 0);
    if (rc == 0)
        assert(s.boot == SESSION_BOOT_CHLD ||
               (s.boot == SESSION_BOOT_KERNEL && s.format && s.kernel));
    else
        assert(s.error[0] != '\0');
    free(s.mods);
    cfg_free(&s.cfg);
    place_fini(&s.placer);
    return 0;
}
