/*
 * libFuzzer target: the Linux boot protocol (loader/linux.c) as the boot
 * flow drives it: the setup header parser, the plan and its claims
 * (plan_linux_kernel) against a QEMU-like placer, the initrd layout and
 * placement, `mem=` on the command line, and filling in the loaded setup
 * (linux_finish) inside exactly the 64 KiB low region; for UEFI, the
 * boot_params built from that setup (linux_boot_params) and the EFI-stub
 * probe and plan (linux_probe_efi_stub, plan_linux_efi_stub).
 *
 * Input: byte 0 is the length L of the `exec` arguments that follow
 * (bytes 1..L, NULs cut them short), then 3 initrd part sizes (4 bytes
 * each, scaled down), then the bzImage file.
 *
 * Checks beyond the sanitizers: a plan puts the setup 16-byte aligned in
 * low RAM at or above 0x10000 with its 64 KiB below the free base memory
 * and outside Pulsar, the kernel at or above 1 MiB, the command line
 * within cmdline_size; the initrd lies inside the limits it names and
 * overlaps nothing claimed; linux_finish writes nothing outside the low
 * region and leaves the command line NUL-terminated where cmd_line_ptr
 * points.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/linux.h"
#include "loader/plan.h"

#define LOW_END 0x9c400u

/** The QEMU-like machine of the malformed table (-m 128). */
static void fixture_placer(struct placer *p)
{
    static const struct e820_entry map[] = {
        { 0x0, 0x9fc00, 1 },       { 0x9fc00, 0x400, 2 },
        { 0xf0000, 0x10000, 2 },   { 0x100000, 0x7ee0000, 1 },
        { 0x7fe0000, 0x20000, 2 }, { 0xfffc0000, 0x40000, 2 },
    };
    if (plan_placer_init(p, map, 6, LOW_END) != 0 ||
        place_reserve(p, LOW_END, 0x9fc00, "PXE stack") != 0)
        abort();
}

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct linux_plan lp;
    struct image_plan plan;
    struct cfg_item it;
    struct placer p;
    char args[256], err[PLAN_ERR_LEN];
    uint32_t parts[3], off[3], total;
    const uint8_t *file;
    size_t alen, flen;
    int rc;

    if (size < 1 + 12)
        return 0;
    alen = data[0];
    if (size < 1 + alen + 12)
        return 0;
    memcpy(args, data + 1, alen);
    args[alen] = '\0';
    for (unsigned i = 0; i < 3; i++)
        parts[i] = rd32(data + 1 + alen + 4 * i) >> (i * 4);
    file = data + 1 + alen + 12;
    flen = size - 1 - alen - 12;

    (void)linux_mem_limit(args); /* any text: no crash, no overrun */

    memset(&it, 0, sizeof(it));
    it.kind = CFG_EXEC;
    it.name = "bzImage";
    it.args = args;
    it.path = "linux/bzImage";
    it.src_file = "config-fuzz";
    it.src_line = 3;
    fixture_placer(&p);
    memset(err, 'x', sizeof(err));
    rc = plan_linux_kernel(&p, &it, file,
                           flen < IMAGE_PREFIX ? flen : IMAGE_PREFIX,
                           (uint32_t)flen, &lp, &plan, err, sizeof(err));
    if (rc != 0) {
        assert(rc < 0 && memchr(err, '\0', sizeof(err)) && err[0] != 'x');
        place_fini(&p);
        return 0;
    }
    const struct linux_header *h = &lp.hdr;
    assert(h->version >= 0x0202 && (h->loadflags & LX_LOADED_HIGH));
    assert(lp.setup_addr % 16 == 0 && lp.setup_addr >= LINUX_LOW_MIN);
    assert(lp.setup_addr + LINUX_LOW_SIZE <= LOW_END);
    assert(lp.setup_addr >= plan_heap_end(LOW_END) ||
           lp.setup_addr + LINUX_LOW_SIZE <= 0x7c00);
    assert(lp.kernel_addr >= LINUX_KERNEL_ADDR);
    assert(h->setup_len <= LINUX_SETUP_MAX && h->setup_len + h->kernel_len ==
                                                  flen);
    assert(lp.cmdline_len == alen || strlen(args) == lp.cmdline_len);
    assert(lp.cmdline_len <= h->cmdline_size &&
           lp.cmdline_len < LINUX_CMDLINE_ROOM);
    assert(plan.nseg == 2 && plan.seg[0].dest == lp.setup_addr &&
           plan.seg[1].dest == lp.kernel_addr);

    /* The initrd: laid out, placed below every limit, claimed. */
    unsigned n = 1 + data[0] % 3;
    if (linux_initrd_layout(parts, n, off, &total) == 0) {
        uint32_t mem = linux_mem_limit(args);
        rc = linux_place_initrd(&lp, &p, total, err, sizeof(err));
        if (rc == 0 && total) {
            uint64_t end = (uint64_t)lp.initrd_addr + total;
            assert(lp.initrd_addr % 4096 == 0 && lp.initrd_addr >= 0x100000);
            assert(end <= (uint64_t)h->initrd_addr_max + 1);
            assert(!mem || end <= mem);
            assert(place_check(&p, lp.initrd_addr, total, NULL) == 0);
        }
    }

    /* Filling in the setup stays inside its 64 KiB. */
    uint8_t *low = malloc(LINUX_LOW_SIZE);
    assert(low);
    memset(low, 0, LINUX_LOW_SIZE);
    memcpy(low, file, h->setup_len); /* the setup as loaded */
    linux_finish(low, &lp);
    assert(rd32(low + LX_CMD_LINE_PTR) == lp.setup_addr + LINUX_HEAP_END);
    assert(low[LINUX_HEAP_END + lp.cmdline_len] == '\0');
    assert(memcmp(low + LINUX_HEAP_END, args, lp.cmdline_len) == 0);

    /* boot_params for the 32-bit entry (UEFI): the header copied no
     * further than its jump says and never over the E820 table. */
    static uint8_t bp[BP_SIZE];
    static const struct e820_entry emap[2] = { { 0, 0xa0000, 1 },
                                               { 0x100000, 0x7f00000, 1 } };
    const struct linux_efi_info efi = { 0x7000000, 0x6000000, 480, 48, 1 };
    rc = linux_boot_params(bp, low, LINUX_LOW_SIZE, emap, 2, &efi, 0x7f000);
    assert(rc == 0 || rc == -PE_RANGE);
    if (rc == 0) {
        size_t end = 0x202 + (size_t)low[0x201];
        assert(end <= BP_E820_TABLE);
        assert(memcmp(bp + BP_HDR, low + BP_HDR, end - BP_HDR) == 0);
        assert(bp[BP_E820_ENTRIES] == 2 && rd32(bp + BP_E820_TABLE + 20)
                                              == 0x100000);
        assert(memcmp(bp + BP_EFI_INFO, "EL64", 4) == 0);
    }
    free(low);
    place_fini(&p);

    /* On UEFI a file with an x86-64 PE header is planned for its stub:
     * the whole file as one page-aligned range at or above 1 MiB. */
    if (linux_probe_efi_stub(file, flen < IMAGE_PREFIX ? flen
                                                      : IMAGE_PREFIX)) {
        fixture_placer(&p);
        memset(err, 'x', sizeof(err));
        rc = plan_linux_efi_stub(&p, &it, file,
                                 flen < IMAGE_PREFIX ? flen : IMAGE_PREFIX,
                                 (uint32_t)flen, &lp, &plan, err,
                                 sizeof(err));
        assert(rc == 0 || (rc < 0 && err[0] != 'x'));
        if (rc == 0)
            assert(plan.nseg == 1 && plan.seg[0].filesz == flen &&
                   plan.seg[0].file_off == 0 &&
                   plan.seg[0].dest % 4096 == 0 &&
                   plan.seg[0].dest >= LINUX_KERNEL_ADDR &&
                   place_owned(&p, NULL, 0, 0) == false);
        place_fini(&p);
    }
    return 0;
}
