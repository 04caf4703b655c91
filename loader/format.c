/* The kernel-format table; see format.h. */
#include <string.h>

#include "lib/errno.h"
#include "loader/format.h"
#include "loader/plan.h"

/** The multiboot header's flags in @prefix, or false when it has none. */
static bool mb_flags(const uint8_t *prefix, size_t len, uint32_t *flags)
{
    struct mb_header mb;
    char err[8];

    if (mb_find_header(prefix, len, &mb, err, sizeof(err)) != 0)
        return false;
    *flags = mb.flags;
    return true;
}

/** An ELF file of class @cls (1: 32-bit, 2: 64-bit)? */
static bool elf_class(const uint8_t *prefix, size_t len, uint8_t cls)
{
    return len >= 5 && memcmp(prefix, "\177ELF", 4) == 0 && prefix[4] == cls;
}

/** Multiboot with the a.out kludge (flag 16 wins over ELF headers). */
static bool probe_mb_kludge(const uint8_t *prefix, size_t len)
{
    uint32_t flags;
    return mb_flags(prefix, len, &flags) && (flags & (1u << 16));
}

/** Multiboot ELF64 (no kludge). */
static bool probe_mb_elf64(const uint8_t *prefix, size_t len)
{
    uint32_t flags;
    return mb_flags(prefix, len, &flags) && elf_class(prefix, len, 2);
}

/** Multiboot ELF32 (no kludge). */
static bool probe_mb_elf32(const uint8_t *prefix, size_t len)
{
    uint32_t flags;
    return mb_flags(prefix, len, &flags) && elf_class(prefix, len, 1);
}

/** Plan a multiboot kernel (loader/image.c reads every variant). */
static int plan_mb(struct placer *p, const struct cfg_item *it,
                   const uint8_t *prefix, size_t have, uint32_t size,
                   struct image_plan *img, struct linux_plan *lx, char *err,
                   size_t len)
{
    (void)lx;
    return plan_kernel(p, it, prefix, have, size, img, err, len);
}

/** Multiboot2: a header magic at an 8-byte boundary in the first 32 KiB. */
static bool probe_mb2(const uint8_t *prefix, size_t len)
{
    return mb2_present(prefix, len);
}

/** Plan a Multiboot2 kernel, with the info tags a BIOS face gives. */
static int plan_mb2(struct placer *p, const struct cfg_item *it,
                    const uint8_t *prefix, size_t have, uint32_t size,
                    struct image_plan *img, struct linux_plan *lx, char *err,
                    size_t len)
{
    (void)lx;
    return plan_kernel_mb2(p, it, prefix, have, size, MB2_BIOS_GIVES, img,
                           err, len);
}

/**
 * Plan a Multiboot2 kernel on UEFI: the EFI tags instead of VBE, and
 * tags 18 and 20 when the header asks to keep the boot services (tag 7;
 * a first read of the header learns that, the planner reads it again).
 */
static int plan_mb2_efi(struct placer *p, const struct cfg_item *it,
                        const uint8_t *prefix, size_t have, uint32_t size,
                        struct image_plan *img, struct linux_plan *lx,
                        char *err, size_t len)
{
    uint32_t gives = MB2_EFI_GIVES;
    struct mb2_header h;

    (void)lx;
    if (mb2_parse_header(prefix, have, gives | MB2_EFI_BS_GIVES, &h, err,
                         len) == 0 && h.efi_bs)
        gives |= MB2_EFI_BS_GIVES;
    return plan_kernel_mb2(p, it, prefix, have, size, gives, img, err, len);
}

/** Plan a Linux bzImage. */
static int plan_bz(struct placer *p, const struct cfg_item *it,
                   const uint8_t *prefix, size_t have, uint32_t size,
                   struct image_plan *img, struct linux_plan *lx, char *err,
                   size_t len)
{
    return plan_linux_kernel(p, it, prefix, have, size, lx, img, err, len);
}

/** Plan a bzImage for its EFI stub. */
static int plan_bz_stub(struct placer *p, const struct cfg_item *it,
                        const uint8_t *prefix, size_t have, uint32_t size,
                        struct image_plan *img, struct linux_plan *lx,
                        char *err, size_t len)
{
    return plan_linux_efi_stub(p, it, prefix, have, size, lx, img, err, len);
}

/*
 * Multiboot2 comes before Multiboot 1: a kernel with both headers (Xen,
 * NOVA) is booted through Multiboot2 unless the config forces the other
 * (docs/kernels.md says why).
 */
const struct kernel_format kernel_formats[] = {
    /* Before the plain bzImage: on UEFI the stub wins when there is one. */
    { "Linux EFI stub", linux_probe_efi_stub, plan_bz_stub, LOADS_INITRD,
      HANDOFF_EFI_STUB, true, 0 },
    { "Linux bzImage", linux_probe, plan_bz, LOADS_INITRD, HANDOFF_LINUX,
      false, 0 },
    /* The same header on both; UEFI gives other info tags. */
    { "multiboot2", probe_mb2, plan_mb2_efi, LOADS_MODULES,
      HANDOFF_MULTIBOOT2, true, 2 },
    { "multiboot2", probe_mb2, plan_mb2, LOADS_MODULES, HANDOFF_MULTIBOOT2,
      false, 2 },
    { "multiboot a.out kludge", probe_mb_kludge, plan_mb, LOADS_MODULES,
      HANDOFF_MULTIBOOT, false, 1 },
    { "multiboot ELF64", probe_mb_elf64, plan_mb, LOADS_MODULES,
      HANDOFF_MULTIBOOT, false, 1 },
    /* Last: what a file no probe accepts is planned as, for the message. */
    { "multiboot ELF32", probe_mb_elf32, plan_mb, LOADS_MODULES,
      HANDOFF_MULTIBOOT, false, 1 },
    { NULL, NULL, NULL, LOADS_MODULES, HANDOFF_MULTIBOOT, false, 0 },
};

/** The first format that accepts the file, else the fallback; see
 *  format.h. */
const struct kernel_format *format_probe(const uint8_t *prefix, size_t len,
                                         bool uefi, unsigned version)
{
    const struct kernel_format *f;

    for (f = kernel_formats; f->name; f++) {
        if (version && f->multiboot && f->multiboot != version)
            continue; /* the config forced the other version */
        if ((uefi || !f->uefi_only) && f->probe(prefix, len))
            return f;
    }
    if (version == 2) { /* forced: its planner says what is missing */
        for (f = kernel_formats;
             f->multiboot != 2 || (f->uefi_only && !uefi); f++)
            ;
        return f;
    }
    return f - 1;
}

/** Are both multiboot headers in the file?  See format.h. */
bool format_has_both(const uint8_t *prefix, size_t len)
{
    uint32_t flags;

    return mb2_present(prefix, len) && mb_flags(prefix, len, &flags);
}

/** The last row; see format.h. */
const struct kernel_format *format_fallback(void)
{
    const struct kernel_format *f = kernel_formats;

    while (f[1].name)
        f++;
    return f;
}
