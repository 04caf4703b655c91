/*
 * libFuzzer target: multiboot kernel images (loader/image.c: the header
 * search, ELF32 planning, the a.out-kludge branch, image_feed and
 * image_zero_bss) and the kernel's TFTP sink (loader/kload.c) with a
 * restarted transfer, against the placer of a QEMU-like machine.  All
 * formats in image_types[] are reached: multiboot ELF32 and ELF64, the
 * a.out kludge, section headers (flag 5).
 *
 * Input: byte 0 picks the packet size (1 to 2041), byte 1 after how many
 * packets the first try dies (0: no failed try); the rest is the file.
 *
 * Checks beyond the sanitizers: a plan's segments are within 4 GiB, have
 * memsz >= filesz, do not overlap, and hold the entry point; every write
 * lands inside a segment's file part and carries exactly the file bytes
 * that belong there; every zeroing lands inside a segment's bss part;
 * nothing is written unless every segment was claimed; a restarted
 * transfer with the same file never fails.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/image.h"
#include "loader/kload.h"
#include "loader/plan.h"

static const uint8_t *file;
static size_t file_len;
static const struct image_plan *cur_plan;
static unsigned writes;

/**
 * The segment of the plan whose file part (or, with @bss, bss part)
 * holds [dest, dest+n); the capture of the ELF section headers (flag 5)
 * counts as one more segment once it is placed.
 */
static const struct load_seg *seg_for(uint32_t dest, size_t n, int bss)
{
    unsigned nseg = cur_plan->nseg;

    for (unsigned i = 0; i <= nseg; i++) {
        const struct load_seg *s = &cur_plan->seg[i];

        if (i == nseg) {
            if (!cur_plan->has_syms)
                break;
            s = &cur_plan->syms.cap;
        }
        uint64_t lo = (uint64_t)s->dest + (bss ? s->filesz : 0);
        uint64_t hi = (uint64_t)s->dest + (bss ? s->memsz : s->filesz);
        if (dest >= lo && (uint64_t)dest + n <= hi)
            return s;
    }
    return NULL;
}

/** A write: inside a segment's file part, with the file's own bytes. */
static void check_write(void *ctx, uint32_t dest, const void *src, size_t n)
{
    const struct load_seg *s = seg_for(dest, n, 0);

    (void)ctx;
    assert(n > 0 && s != NULL);
    uint64_t off = (uint64_t)s->file_off + (dest - s->dest);
    assert(off + n <= file_len);
    assert(memcmp(src, file + off, n) == 0);
    writes++;
}

/** A zeroing: inside a segment's bss part. */
static void check_zero(void *ctx, uint32_t dest, size_t n)
{
    (void)ctx;
    assert(n > 0 && seg_for(dest, n, 1) != NULL);
}

/** The QEMU-like machine of the malformed table's elf rows. */
static int fixture_placer(struct placer *p)
{
    static const struct e820_entry map[] = {
        { 0x0, 0x9fc00, 1 },       { 0x9fc00, 0x400, 2 },
        { 0xf0000, 0x10000, 2 },   { 0x100000, 0x7ee0000, 1 },
        { 0x7fe0000, 0x20000, 2 }, { 0xfffc0000, 0x40000, 2 },
    };
    return plan_placer_init(p, map, 6, 0x9c400);
}

/** Check a plan's own promises. */
static void check_plan(const struct image_plan *plan, uint32_t file_size)
{
    int has_entry = 0;

    assert(plan->nseg >= 1 && plan->nseg <= IMAGE_MAX_SEGS);
    for (unsigned i = 0; i < plan->nseg; i++) {
        const struct load_seg *s = &plan->seg[i];
        assert(s->memsz >= s->filesz && s->memsz > 0);
        assert((uint64_t)s->dest + s->memsz < 0x100000000ull);
        assert(s->dest >= plan->lowest && s->dest + s->memsz <= plan->highest);
        if (s->filesz)
            assert((uint64_t)s->file_off + s->filesz <= plan->file_need);
        if (plan->entry >= s->dest && plan->entry - s->dest < s->memsz)
            has_entry = 1;
        for (unsigned j = i + 1; j < plan->nseg; j++) {
            const struct load_seg *t = &plan->seg[j];
            assert(s->dest + s->memsz <= t->dest ||
                   t->dest + t->memsz <= s->dest);
        }
    }
    assert(has_entry);
    if (file_size)
        assert(plan->file_need <= file_size);
}

/** Feed [0, to) of the file in @pkt-byte packets; the first error. */
static int feed(struct kernel_load *k, size_t to, size_t pkt)
{
    for (size_t off = 0; off < to; off += pkt) {
        size_t n = to - off < pkt ? to - off : pkt;
        int rc = kload_sink(k, (uint32_t)off, file + off, n);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct kernel_load k;
    static struct linux_plan lx;
    struct image_plan plan;
    struct cfg_item it;
    struct placer p;
    char err[160];
    size_t pkt, die_after;
    int rc;

    if (size < 2)
        return 0;
    pkt = 1 + (size_t)data[0] * 8;
    die_after = data[1];
    file = data + 2;
    file_len = size - 2;

    /* The planner alone, with and without an announced size. */
    size_t pre = file_len < IMAGE_PREFIX ? file_len : IMAGE_PREFIX;
    memset(err, 'x', sizeof(err));
    rc = image_plan_multiboot(file, pre, 0, &plan, err, sizeof(err));
    if (rc == 0)
        check_plan(&plan, 0);
    else /* a failure always says why, in a terminated string */
        assert(rc < 0 && err[0] != 'x' && memchr(err, '\0', sizeof(err)));
    rc = image_plan_multiboot(file, pre, (uint32_t)file_len, &plan, err,
                              sizeof(err));
    if (rc == 0)
        check_plan(&plan, (uint32_t)file_len);

    /* The sink, as the boot flow drives it, with one failed try. */
    memset(&it, 0, sizeof(it));
    it.kind = CFG_EXEC;
    it.name = "kernel.elf";
    it.args = (char *)"console=ttyS0 root=/dev/ram0"; /* a bzImage's */
    it.cmdline = (char *)"kernel.elf console=ttyS0 root=/dev/ram0";
    it.path = "demo/kernel.elf";
    it.src_file = "config-fuzz";
    it.src_line = 3;
    if (fixture_placer(&p) != 0)
        abort();
    writes = 0;
    kload_init(&k, &p, &it, (uint32_t)file_len, &lx, check_write,
               check_zero, NULL);
    cur_plan = &k.plan;
    size_t first = die_after * pkt < file_len ? die_after * pkt : file_len;
    rc = die_after ? feed(&k, first, pkt) : 0;
    if (rc == 0) {
        int rc2 = feed(&k, file_len, pkt);
        if (rc2 == 0)
            rc2 = kload_finish(&k);
        /* The same file again cannot fail where the first try did not. */
        if (k.planned)
            assert(rc2 == 0);
        rc = rc2;
    }
    if (rc == 0)
        check_plan(&k.plan, (uint32_t)file_len);
    else
        assert(!k.planned && k.msg[0] != '\0'); /* planning said why */
    if (!k.planned)
        assert(writes == 0);
    place_fini(&p);
    return 0;
}
