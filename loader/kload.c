/* The kernel's TFTP sink: plan from the prefix, then stream; see kload.h. */
#include <string.h>

#include "lib/errno.h"
#include "loader/kload.h"

/** Start loading a kernel; see kload.h. */
void kload_init(struct kernel_load *k, struct placer *p,
                const struct cfg_item *it, uint32_t size,
                struct linux_plan *lx, image_write_fn write,
                image_zero_fn zero, void *ctx)
{
    memset(k, 0, sizeof(*k));
    k->placer = p;
    k->it = it;
    k->size = size;
    k->size_known = size != 0;
    k->lx = lx;
    k->write = write;
    k->zero = zero;
    k->ctx = ctx;
}

/**
 * A Multiboot2 kernel that keeps the UEFI boot services finds its memory
 * while the firmware still holds what it holds: that RAM is reserved
 * before the kernel and its modules are placed.
 */
static int kload_keep_firmware(struct kernel_load *k)
{
    struct mb2_header h;
    int rc;

    if (!k->uefi || !k->nheld || k->format->handoff != HANDOFF_MULTIBOOT2 ||
        mb2_parse_header(k->prefix, k->have, ~0u, &h, NULL, 0) != 0 ||
        mb2_efi_entry(&h, k->prefix, k->have) == MB2_EFI_EXIT32)
        return 0;
    for (unsigned i = 0; i < k->nheld; i++)
        if ((rc = place_reserve(k->placer, k->held[i].base,
                                k->held[i].base + k->held[i].len,
                                "firmware memory (boot services kept)")) != 0)
            return rc;
    return 0;
}

/** Plan from the buffered prefix and claim, then zero and copy it. */
static int kload_plan(struct kernel_load *k)
{
    int rc;

    /* Dispatched once, here: the format table (loader/format.h). */
    k->format = format_probe(k->prefix, k->have, k->uefi, k->it->multiboot);
    if (!k->lx && k->format->loads == LOADS_INITRD)
        k->format = format_fallback(); /* the caller takes multiboot only */
    k->is_linux = k->format->loads == LOADS_INITRD;
    if ((rc = kload_keep_firmware(k)) != 0)
        return rc;
    rc = k->format->plan(k->placer, k->it, k->prefix, k->have, k->size,
                         &k->plan, k->lx, k->msg, sizeof(k->msg));
    if (rc != 0)
        return rc;
    image_zero_bss(&k->plan, k->zero, k->ctx);
    image_feed(&k->plan, 0, k->prefix, k->have, k->write, k->ctx);
    k->planned = true;
    return 0;
}

/** The kernel's TFTP sink; see kload.h. */
int kload_sink(void *ctx, uint32_t off, const uint8_t *data, size_t len)
{
    struct kernel_load *k = ctx;
    uint32_t want;
    size_t take;
    int rc;

    if (k->planned) {
        /* A later try: what the plan came from must not have changed. */
        if (off < k->have) {
            size_t n = k->have - off < len ? k->have - off : len;
            if (memcmp(k->prefix + off, data, n) != 0)
                return -PE_CHANGED;
        }
        image_feed(&k->plan, off, data, len, k->write, k->ctx);
        return 0;
    }
    if (off > k->have)
        return -PE_IO; /* a client bug: the prefix must come in order */
    want = !k->size_known || k->size >= IMAGE_PREFIX ? IMAGE_PREFIX
                                                     : k->size;
    take = len;
    if (off + take > IMAGE_PREFIX)
        take = IMAGE_PREFIX - off;
    memcpy(k->prefix + off, data, take);
    k->have = off + (uint32_t)take;
    if (k->have < want)
        return 0;
    if ((rc = kload_plan(k)) != 0)
        return rc;
    image_feed(&k->plan, off + (uint32_t)take, data + take, len - take,
               k->write, k->ctx);
    return 0;
}

/** Plan a file that ended before the prefix was full; see kload.h. */
int kload_finish(struct kernel_load *k)
{
    return k->planned ? 0 : kload_plan(k);
}
