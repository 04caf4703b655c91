/*
 * Kernel formats as one table (as iPXE's image types): each row can tell
 * its files from their first bytes (probe), turn them into a load plan
 * claimed through the placer (plan), and says how the kernel is entered
 * (the hand-off a firmware face performs).  The boot session dispatches
 * once, on the file's first bytes; nothing else asks which format a
 * kernel is.  Pure C.
 */
#ifndef PULSAR_FORMAT_H
#define PULSAR_FORMAT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "loader/image.h"
#include "loader/linux.h"
#include "loader/place.h"

/** How a face enters a kernel of a format. */
enum handoff {
    HANDOFF_MULTIBOOT, /* 32-bit protected mode, EAX=0x2BADB002, EBX=info */
    HANDOFF_LINUX,     /* the Linux boot protocol: the setup in real mode
                          (BIOS), the 32-bit entry with boot_params (UEFI) */
    HANDOFF_EFI_STUB,  /* UEFI: LoadImage/StartImage of the PE image, the
                          initrd through LoadFile2 */
    HANDOFF_MULTIBOOT2, /* 32-bit protected mode, EAX=0x36D76289, EBX=info
                           (mb/mb2info.h); the face decides the EFI tags */
};

/** How a format treats the config's `load`s. */
enum loads_as {
    LOADS_MODULES, /* multiboot modules, after the kernel or at `addr` */
    LOADS_INITRD,  /* one initrd, the parts concatenated, placed high */
};

/** One kernel format. */
struct kernel_format {
    const char *name;
    /** Is the file (first @len bytes, @len >= IMAGE_PREFIX or the whole
     *  file) of this format? */
    bool (*probe)(const uint8_t *prefix, size_t len);
    /** Plan and claim through @p into @img (and @lx for formats that
     *  need one); message in @err on failure. */
    int (*plan)(struct placer *p, const struct cfg_item *it,
                const uint8_t *prefix, size_t have, uint32_t size,
                struct image_plan *img, struct linux_plan *lx, char *err,
                size_t len);
    enum loads_as loads;
    enum handoff handoff;
    bool uefi_only; /* probed only on UEFI (an EFI stub needs firmware) */
    unsigned multiboot; /* 1 or 2: the Multiboot version; 0: neither */
};

/** Every format Pulsar boots, in probing order; ends with a NULL name. */
extern const struct kernel_format kernel_formats[];

/**
 * The format of the file whose first @len bytes are @prefix: the first
 * row whose probe accepts it (rows marked uefi_only only when @uefi),
 * else the last row (multiboot ELF32), whose planner then explains what
 * is missing ("no multiboot header ...").  So on UEFI a bzImage with an
 * EFI stub is started through its stub, one without through the 32-bit
 * boot protocol; on BIOS every bzImage goes through the real-mode setup.
 * @version: 0, or the Multiboot version the config forces (1 or 2): rows
 * of the other version are skipped, and with 2 the Multiboot2 row plans
 * a file no row accepts ("no multiboot2 header ...").
 */
const struct kernel_format *format_probe(const uint8_t *prefix, size_t len,
                                         bool uefi, unsigned version);

/** Does the file carry both a Multiboot 1 and a Multiboot2 header? */
bool format_has_both(const uint8_t *prefix, size_t len);

/** The row a file no probe accepts is planned with (multiboot ELF32). */
const struct kernel_format *format_fallback(void);
#endif
