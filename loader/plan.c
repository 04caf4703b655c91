/* The boot plan's decisions and messages; see plan.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/plan.h"
#include "net/dhcp.h"
#include "net/url.h"

/** The end of Pulsar's heap below @low_end; see plan.h. */
uint32_t plan_heap_end(uint32_t low_end)
{
    if (low_end < 0x7C00 + LINUX_LOW_SIZE)
        return low_end; /* no room to spare; the caller refuses it anyway */
    return (low_end - LINUX_LOW_SIZE) & ~15u;
}

/** Build the placer and reserve Pulsar's own memory; see plan.h. */
int plan_placer_init(struct placer *p, const struct e820_entry *map,
                     unsigned n, uint32_t low_end)
{
    int rc;

    if ((rc = place_init(p, map, n)) != 0)
        return rc;
    /* [plan_heap_end(low_end), low_end) stays free for a Linux setup. */
    if ((rc = place_reserve(p, 0, 0x500, "IVT and BIOS data area")) != 0 ||
        (rc = place_reserve(p, 0x500, 0x7C00, "Pulsar stack")) != 0 ||
        (rc = place_reserve(p, 0x7C00, plan_heap_end(low_end),
                            "Pulsar image and heap")) != 0 ||
        (rc = place_reserve(p, low_end, 0x100000,
                            "EBDA, PXE stack and BIOS")) != 0) {
        place_fini(p);
        return rc;
    }
    return 0;
}

/** Build the placer for pulsar.efi; see plan.h. */
int plan_efi_placer_init(struct placer *p, const struct e820_entry *map,
                         unsigned n)
{
    uint32_t lower, upper;
    int rc;

    if ((rc = place_init(p, map, n)) != 0)
        return rc;
    place_mem_info(map, n, &lower, &upper);
    place_keep_clear(p, PLAN_GNU_MACH_HEAP,
                     PLAN_GNU_MACH_HEAP + (uint64_t)upper * 1024);
    return 0;
}

/** The directive of @it; see plan.h. */
const char *plan_verb(const struct cfg_item *it)
{
    switch (it->kind) {
    case CFG_EXEC:
        return "exec";
    case CFG_LOAD:
        return "load";
    case CFG_CHLD:
        return "chld";
    }
    return "file";
}

/** Why a file could not be had; see plan.h. */
void plan_fetch_why(char *why, size_t len, int rc, uint32_t server,
                    const char *path, const char *detail)
{
    char ip[64];

    url_server_name(server, path, ip, sizeof(ip));
    if (rc == -PE_NOENT)
        snprintf(why, len, "not found on %s", ip);
    else
        snprintf(why, len, "cannot fetch from %s (%s)", ip,
                 detail ? detail : pulsar_strerror(rc));
}

/** "file:line: verb: path: why"; see plan.h. */
void plan_file_error(char *err, size_t len, const struct cfg_item *it,
                     int rc, const char *detail)
{
    char why[96];

    plan_fetch_why(why, sizeof(why), rc, it->server, it->path, detail);
    snprintf(err, len, "%s:%u: %s: %s: %s", it->src_file, it->src_line,
             plan_verb(it), it->path, why);
}

/** The message for a config without a kernel; see plan.h. */
void plan_no_exec(char *err, size_t len, const char *cfgname)
{
    snprintf(err, len, "%s: no exec line: nothing to boot", cfgname);
}

/** "file:line: verb: path: "; see plan.h. */
size_t plan_prefix(char *err, size_t len, const struct cfg_item *it)
{
    int n = snprintf(err, len, "%s:%u: %s: %s: ", it->src_file, it->src_line,
                     plan_verb(it), it->path);
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/** Claim [start, start+size) for @it or explain the conflict in @err. */
static int plan_claim(struct placer *p, const struct cfg_item *it,
                      uint64_t start, uint64_t size, const char *what,
                      char *err, size_t len)
{
    struct place_conflict why;
    size_t n;
    int rc;

    if ((rc = place_claim(p, start, size, what, &why)) == 0)
        return 0;
    n = plan_prefix(err, len, it);
    place_conflict_str(&why, err + n, len - n);
    return rc;
}

/**
 * Move a relocatable Multiboot2 image into [min, max] at its alignment,
 * lowest or highest as it prefers (no preference: lowest, as GRUB).
 * @n: the length of the message prefix already in @err.
 */
static int plan_relocate(struct placer *p, struct image_plan *plan,
                         char *err, size_t len, size_t n)
{
    const struct mb2_header *h = &plan->mb2;
    uint64_t span = (uint64_t)plan->highest - plan->lowest, at;
    uint64_t hi = (uint64_t)h->reloc_max + 1;
    int rc;

    /* max_addr is the highest address the image may end at. */
    if (h->reloc_pref == MB2_RELOC_HIGHEST)
        rc = place_find_top(p, span, h->reloc_align, h->reloc_min, hi, &at);
    else
        rc = place_find(p, span, h->reloc_align, h->reloc_min, hi, &at);
    if (rc != 0) {
        snprintf(err + n, len - n, "no room for the relocatable image's "
                 "0x%llx bytes at alignment 0x%x in 0x%08x-0x%08x",
                 (unsigned long long)span, h->reloc_align, h->reloc_min,
                 h->reloc_max);
        return -PE_NORAM;
    }
    image_relocate(plan, (uint32_t)at);
    return 0;
}

/** Claim the planned segments and place the section-header capture. */
static int plan_claim_kernel(struct placer *p, const struct cfg_item *it,
                             struct image_plan *plan, char *err, size_t len,
                             size_t n)
{
    unsigned i;
    int rc;

    if (plan->is_mb2 && plan->mb2.relocatable &&
        (rc = plan_relocate(p, plan, err, len, n)) != 0)
        return rc;
    for (i = 0; i < plan->nseg; i++) {
        /* The placer keeps the label: one kernel is planned per boot (per
         * check), so static storage outlives every use of it. */
        static char what[IMAGE_MAX_SEGS][56];

        snprintf(what[i], sizeof(what[i]), "%.32s segment %u", it->name,
                 i + 1);
        if ((rc = plan_claim(p, it, plan->seg[i].dest, plan->seg[i].memsz,
                             what[i], err, len)) != 0)
            return rc;
    }
    if (plan->has_syms) {
        /* The section headers and symbols go after the kernel (flag 5). */
        struct load_seg *cap = &plan->syms.cap;
        uint64_t at;

        if (place_find(p, cap->filesz, PLAN_PAGE, plan->highest, 1ull << 32,
                       &at) != 0) {
            snprintf(err + n, len - n, "no room for its %u bytes of section "
                     "headers and symbols", cap->filesz);
            return -PE_NORAM;
        }
        cap->dest = (uint32_t)at;
        if ((rc = plan_claim(p, it, at, cap->filesz, "kernel section headers",
                             err, len)) != 0)
            return rc;
    }
    return 0;
}

/** Plan and claim the kernel; see plan.h. */
int plan_kernel(struct placer *p, const struct cfg_item *it,
                const uint8_t *prefix, size_t have, uint32_t size,
                struct image_plan *plan, char *err, size_t len)
{
    size_t n = plan_prefix(err, len, it);
    int rc;

    if ((rc = image_plan(prefix, have, size, plan, err + n, len - n)) != 0)
        return rc;
    return plan_claim_kernel(p, it, plan, err, len, n);
}

/** Plan and claim a Multiboot2 kernel; see plan.h. */
int plan_kernel_mb2(struct placer *p, const struct cfg_item *it,
                    const uint8_t *prefix, size_t have, uint32_t size,
                    uint32_t gives, struct image_plan *plan, char *err,
                    size_t len)
{
    size_t n = plan_prefix(err, len, it);
    int rc;

    if ((rc = image_plan_multiboot2(prefix, have, size, gives, plan, err + n,
                                    len - n)) != 0)
        return rc;
    return plan_claim_kernel(p, it, plan, err, len, n);
}

/** Plan and claim a Linux bzImage; see plan.h. */
int plan_linux_kernel(struct placer *p, const struct cfg_item *it,
                      const uint8_t *prefix, size_t have, uint32_t size,
                      struct linux_plan *lp, struct image_plan *plan,
                      char *err, size_t len)
{
    static const char *const what[2] = { "bzImage setup, heap and cmdline",
                                         "bzImage protected-mode part" };
    size_t n = plan_prefix(err, len, it);
    unsigned i;
    int rc;

    /* The placer keeps everything at and above free base memory. */
    if ((rc = linux_plan_image(prefix, have, size, it->args, p, 0xA0000, lp,
                               plan, err + n, len - n)) != 0)
        return rc;
    for (i = 0; i < 2; i++)
        if ((rc = plan_claim(p, it, plan->seg[i].dest, plan->seg[i].memsz,
                             what[i], err, len)) != 0)
            return rc;
    return plan_claim(p, it, lp->run_start, lp->run_end - lp->run_start,
                      "bzImage unpack area (init_size)", err, len);
}

/** Plan and claim a bzImage for its EFI stub; see plan.h. */
int plan_linux_efi_stub(struct placer *p, const struct cfg_item *it,
                        const uint8_t *prefix, size_t have, uint32_t size,
                        struct linux_plan *lp, struct image_plan *plan,
                        char *err, size_t len)
{
    size_t n = plan_prefix(err, len, it);
    int rc;

    if ((rc = linux_plan_efi_stub(prefix, have, size, it->args, p, lp, plan,
                                  err + n, len - n)) != 0)
        return rc;
    return plan_claim(p, it, plan->seg[0].dest, plan->seg[0].memsz,
                      "bzImage for its EFI stub", err, len);
}

/** Refuse a `load` after a Linux `exec`; see plan.h. */
int plan_initrd_order(const struct cfg *cfg, char *err, size_t len)
{
    const struct cfg_item *it = cfg->exec;

    for (it = it ? it->next : NULL; it; it = it->next)
        if (it->kind == CFG_LOAD) {
            size_t k = plan_prefix(err, len, it);
            snprintf(err + k, len - k, "comes after the Linux exec on line "
                     "%u: only the loads before it are initrd parts",
                     cfg->exec->src_line);
            return -PE_INVAL;
        }
    return 0;
}

/** Lay out, place and claim the initrd; see plan.h. */
int plan_initrd(struct placer *p, struct linux_plan *lp,
                const struct cfg_item *first, const uint32_t *sizes,
                unsigned n, uint32_t *offsets, char *err, size_t len)
{
    uint32_t total;
    size_t k;
    int rc;

    lp->initrd_addr = lp->initrd_size = 0;
    if (!n)
        return 0;
    k = plan_prefix(err, len, first);
    if ((rc = linux_initrd_layout(sizes, n, offsets, &total)) != 0) {
        snprintf(err + k, len - k, "the %u initrd parts add up to 4 GiB or "
                 "more", n);
        return rc;
    }
    if ((rc = linux_place_initrd(lp, p, total, err + k, len - k)) != 0)
        return rc;
    return plan_claim(p, first, lp->initrd_addr, total, "initrd", err, len);
}

/** The kernel's plan line; see plan.h. */
void plan_kernel_str(char *buf, size_t len, const struct cfg_item *it,
                     uint32_t size, const struct image_plan *plan)
{
    int n = snprintf(buf, len, "%s: %u bytes, %s, %08x-%08x", it->path,
                     size, plan->format, plan->lowest, plan->highest - 1);

    /* An EFI stub's entry is the firmware's business (StartImage). */
    if (plan->entry && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ", entry %08x", plan->entry);
    if (plan->relocated && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ", relocated to %08x",
                 plan->load_base);
}

/** A module's plan line; see plan.h. */
void plan_module_str(char *buf, size_t len, const struct cfg_item *it,
                     uint32_t size, uint64_t dest)
{
    snprintf(buf, len, "%s: %u bytes at %08x-%08x", it->path, size,
             (uint32_t)dest, (uint32_t)(dest + size - (size ? 1 : 0)));
}

/** Start placing modules after the kernel; see plan.h. */
void plan_mods_init(struct plan_mods *m, uint32_t kernel_end)
{
    m->cursor = ((uint64_t)kernel_end + PLAN_PAGE - 1) &
                ~(uint64_t)(PLAN_PAGE - 1);
    m->last_seq = 0; /* cfg_state.addr_seq starts at 0: no addr */
}

/** Place and claim one module; see plan.h. */
int plan_module(struct plan_mods *m, struct placer *p,
                const struct cfg_item *it, uint32_t size, uint64_t *dest,
                char *err, size_t len)
{
    size_t n;
    int rc;

    if (it->has_addr && it->addr_seq != m->last_seq) {
        /* A new `addr` line: modules go one after another from there. */
        m->last_seq = it->addr_seq;
        m->cursor = it->addr;
    }
    if (it->has_addr) {
        *dest = m->cursor;
    } else if (place_find(p, size, PLAN_PAGE, m->cursor, 1ull << 32, dest) !=
               0) {
        n = plan_prefix(err, len, it);
        snprintf(err + n, len - n, "%u bytes do not fit in free RAM above "
                 "0x%08llx", size, (unsigned long long)m->cursor);
        return -PE_NORAM;
    }
    if (*dest & (PLAN_PAGE - 1)) {
        n = plan_prefix(err, len, it);
        snprintf(err + n, len - n, "address 0x%08llx is not page-aligned",
                 (unsigned long long)*dest);
        return -PE_INVAL;
    }
    if ((rc = plan_claim(p, it, *dest, size, it->name, err, len)) != 0)
        return rc;
    m->cursor = (*dest + size + PLAN_PAGE - 1) & ~(uint64_t)(PLAN_PAGE - 1);
    return 0;
}

/** Claim @len more bytes at @at for module @it; see plan.h. */
int plan_module_grow(struct placer *p, const struct cfg_item *it,
                     uint64_t at, uint32_t len, char *err, size_t errlen)
{
    return plan_claim(p, it, at, len, it->name, err, errlen);
}

/** Check the bytes of a chainloaded program of unknown size; see plan.h. */
int plan_chld_unsized(const struct cfg_item *it, uint32_t got, char *err,
                      size_t len)
{
    size_t n;

    if (got <= CHLD_MAX)
        return 0;
    n = plan_prefix(err, len, it);
    snprintf(err + n, len - n, "more than the %u bytes a PXE boot program "
             "may have (0x%05x-0x%05x): %u bytes came, and the server "
             "announced no size", CHLD_MAX, CHLD_LOAD, CHLD_END, got);
    return -PE_RANGE;
}

/** Check a chainloaded program's size and room; see plan.h. */
int plan_chld(const struct cfg_item *it, uint32_t size, uint32_t low_end,
              char *err, size_t len)
{
    size_t n;

    if (size > CHLD_MAX) {
        n = plan_prefix(err, len, it);
        snprintf(err + n, len - n, "%u bytes is over the %u bytes a PXE "
                 "boot program may have (0x%05x-0x%05x)", size, CHLD_MAX,
                 CHLD_LOAD, CHLD_END);
        return -PE_RANGE;
    }
    /* The copy moves whole 16-bit words: an odd size writes one more. */
    if (CHLD_LOAD + size + (size & 1) > low_end) {
        n = plan_prefix(err, len, it);
        snprintf(err + n, len - n, "%u bytes at 0x%05x would reach 0x%05x, "
                 "but free base memory ends at 0x%05x", size, CHLD_LOAD,
                 CHLD_LOAD + size, low_end);
        return -PE_RANGE;
    }
    return 0;
}

/** Check an EFI program's size for `chld` on UEFI; see plan.h. */
int plan_chld_efi(const struct cfg_item *it, uint32_t size, bool announced,
                  char *err, size_t len)
{
    size_t n;

    if (size <= CHLD_EFI_MAX)
        return 0;
    n = plan_prefix(err, len, it);
    snprintf(err + n, len - n, "%s%u bytes is over the %u MiB pulsar.efi "
             "stages for an EFI program", announced ? "" : "the server "
             "announced no size, and ", size, CHLD_EFI_MAX >> 20);
    return -PE_RANGE;
}

/** Can the ROM's stack be handed on; see plan.h. */
bool plan_chld_keep_rom_stack(uint16_t ss, uint16_t sp, uint32_t low_end)
{
    uint32_t top = ((uint32_t)ss << 4) + sp;

    return top >= low_end + CHLD_STACK_MIN && top + 8 <= 0x100000;
}
