/*
 * The kernel on its way in: a TFTP sink that buffers the first bytes of
 * the file, plans the load from them (claiming every segment through the
 * placer before a byte is written), then streams each packet straight
 * to its place.  A retried transfer starts at offset 0 again: the plan
 * and the claims of the first try are kept, and the bytes the plan came
 * from must arrive unchanged, or the sink stops with -PE_CHANGED before
 * writing them.  A Linux bzImage (loader/linux.h) is planned the same
 * way when the caller passes a linux_plan.  Pure C: the writes go through
 * callbacks.
 */
#ifndef PULSAR_KLOAD_H
#define PULSAR_KLOAD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "loader/format.h"
#include "loader/image.h"
#include "loader/linux.h"
#include "loader/place.h"
#include "loader/plan.h"

struct kernel_load {
    struct placer *placer;
    const struct cfg_item *it;
    uint32_t size;                /* the size the server announced */
    bool size_known;              /* it did (else: plan from the prefix
                                     alone; formats that need the size
                                     refuse, e.g. the a.out kludge) */
    uint8_t prefix[IMAGE_PREFIX]; /* the file's first bytes */
    uint32_t have;                /* prefix bytes buffered */
    bool planned;
    struct image_plan plan;
    struct linux_plan *lx;        /* where a bzImage's plan goes (NULL:
                                     multiboot kernels only) */
    const struct kernel_format *format; /* the row that planned it */
    bool uefi;                    /* probe the UEFI-only formats too */
    /** UEFI: RAM the firmware holds now (session_face.held), kept clear
     *  of a Multiboot2 kernel that keeps the boot services. */
    const struct e820_entry *held;
    unsigned nheld;
    bool is_linux;                /* a bzImage: the loads are an initrd,
                                     the command line its arguments */
    image_write_fn write;         /* copy into (claimed) guest memory */
    image_zero_fn zero;           /* zero (claimed) guest memory */
    void *ctx;
    char msg[PLAN_ERR_LEN];       /* why planning failed, if it did */
};

/**
 * Start loading kernel @it of @size bytes; claims go to @p.  @lx: where
 * a bzImage's Linux plan goes, or NULL to take multiboot kernels only.
 */
void kload_init(struct kernel_load *k, struct placer *p,
                const struct cfg_item *it, uint32_t size,
                struct linux_plan *lx, image_write_fn write,
                image_zero_fn zero, void *ctx);

/**
 * The TFTP sink (tftp_sink_fn): file bytes [@off, @off+@len) of the
 * current try.  Returns 0, -PE_CHANGED, or planning's error (with the
 * message in k->msg).
 */
int kload_sink(void *ctx, uint32_t off, const uint8_t *data, size_t len);

/** After a complete transfer: plan a file shorter than the prefix. */
int kload_finish(struct kernel_load *k);
#endif
