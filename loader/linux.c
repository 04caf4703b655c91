/*
 * The Linux/x86 boot protocol: header checks and load planning; see
 * linux.h for the layout.  The header is outside input: every field is
 * bounds-checked before it is used.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/endian.h"
#include "lib/errno.h"
#include "loader/linux.h"

#define PAGE 4096u
#define GIB4 0x100000000ull
/** The protocol's default before 2.03 (initrd_addr_max appeared). */
#define INITRD_MAX_OLD 0x37FFFFFFu
/** The protocol's default before 2.06 (cmdline_size appeared). */
#define CMDLINE_SIZE_OLD 255u
/** One message for a header or file that ends too soon. */
#define TRUNCATED "truncated: %u bytes where its header needs %u"

/** Does @prefix carry "HdrS" at 0x202?  See linux.h. */
bool linux_probe(const uint8_t *prefix, size_t len)
{
    return len >= LX_HEADER + 4 && memcmp(prefix + LX_HEADER, "HdrS", 4) == 0;
}

/** An x86-64 EFI stub (PE/COFF header) as well as HdrS?  See linux.h. */
bool linux_probe_efi_stub(const uint8_t *prefix, size_t len)
{
    uint32_t pe;

    if (!linux_probe(prefix, len) || len < 0x40 || prefix[0] != 'M' ||
        prefix[1] != 'Z')
        return false;
    pe = le32(prefix + 0x3C);
    return pe <= len - 6 && memcmp(prefix + pe, "PE\0\0", 4) == 0 &&
           le16(prefix + pe + 4) == 0x8664;
}

/** The end of the last header field Pulsar reads for @version. */
static uint32_t header_need(uint16_t version)
{
    if (version >= 0x020A)
        return LX_INIT_SIZE + 4;
    if (version >= 0x0206)
        return LX_CMDLINE_SIZE + 4;
    if (version >= 0x0205)
        return LX_RELOCATABLE + 1;
    if (version >= 0x0203)
        return LX_INITRD_ADDR_MAX + 4;
    return LX_CMD_LINE_PTR + 4;
}

/** Write a message into @err (@errlen bytes) and return @rc. */
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/** Read and check the setup header; see linux.h. */
int linux_parse_header(const uint8_t *prefix, size_t len, uint32_t file_size,
                       struct linux_header *h, char *err, size_t errlen)
{
    unsigned sects;
    uint32_t v, need;

    memset(h, 0, sizeof(*h));
    if (!linux_probe(prefix, len))
        return fail(err, errlen, -PE_NOEXEC, "no HdrS: not a bzImage");
    v = len >= LX_VERSION + 2 ? le16(prefix + LX_VERSION) : 0;
    if (len >= LX_VERSION + 2 && v < 0x0202)
        return fail(err, errlen, -PE_UNSUPP, "Linux boot protocol %u.%02u "
                    "is older than 2.02", v >> 8, v & 0xFF);
    need = v ? header_need((uint16_t)v) : LX_VERSION + 2;
    if (len < need)
        return fail(err, errlen, -PE_INVAL, TRUNCATED, (unsigned)len, need);
    h->version = (uint16_t)v;
    if (le16(prefix + LX_BOOT_FLAG) != 0xAA55)
        return fail(err, errlen, -PE_INVAL, "boot flag 0x%04x is not 0xaa55",
                    le16(prefix + LX_BOOT_FLAG));

    sects = prefix[LX_SETUP_SECTS] ? prefix[LX_SETUP_SECTS] : 4;
    h->setup_len = (sects + 1) * 512;
    if (h->setup_len > LINUX_SETUP_MAX)
        return fail(err, errlen, -PE_INVAL, "setup_sects %u: the setup "
                    "exceeds 32 KiB", sects);
    /* syssize (2.04+) counts 16-byte units, rounded up: allow for that. */
    v = h->version >= 0x0204 ? le32(prefix + LX_SYSSIZE) : 0;
    need = h->setup_len + 1;
    if (v >= 0x0FFF0000)
        need = UINT32_MAX;
    else if (v > 1)
        need = h->setup_len + v * 16 - 15;
    if (file_size < need)
        return fail(err, errlen, -PE_INVAL, TRUNCATED, file_size, need);
    h->kernel_len = file_size - h->setup_len;

    h->loadflags = prefix[LX_LOADFLAGS];
    if (!(h->loadflags & LX_LOADED_HIGH))
        return fail(err, errlen, -PE_UNSUPP, "loadflags lack LOADED_HIGH: "
                    "a zImage, not a bzImage");
    h->code32_start = le32(prefix + LX_CODE32_START);
    h->initrd_addr_max = h->version >= 0x0203
                             ? le32(prefix + LX_INITRD_ADDR_MAX)
                             : INITRD_MAX_OLD;
    h->cmdline_size = h->version >= 0x0206 ? le32(prefix + LX_CMDLINE_SIZE)
                                           : CMDLINE_SIZE_OLD;
    if (h->version >= 0x0205) {
        h->relocatable = prefix[LX_RELOCATABLE] != 0;
        v = h->kernel_alignment = le32(prefix + LX_KERNEL_ALIGNMENT);
        if (h->relocatable && (v == 0 || (v & (v - 1))))
            return fail(err, errlen, -PE_INVAL, "kernel_alignment 0x%x is "
                        "not a power of two", v);
    }
    if (h->version >= 0x020A) {
        /* Only a preference: one at or above 4 GiB is ignored. */
        if (le32(prefix + LX_PREF_ADDRESS + 4) == 0)
            h->pref_address = le32(prefix + LX_PREF_ADDRESS);
        h->init_size = le32(prefix + LX_INIT_SIZE);
    }
    return 0;
}

/**
 * Choose where the protected-mode part goes: 1 MiB, or for a relocatable
 * kernel pref_address or the lowest free aligned address.
 */
static int place_kernel(const struct linux_header *h, const struct placer *p,
                        uint32_t *addr, char *err, size_t errlen)
{
    struct place_conflict why;
    uint64_t a = h->pref_address;
    char text[128];

    if (place_check(p, LINUX_KERNEL_ADDR, h->kernel_len, &why) == 0) {
        *addr = LINUX_KERNEL_ADDR;
        return 0;
    }
    why.want.what = "kernel";
    place_conflict_str(&why, text, sizeof(text));
    if (!h->relocatable)
        return fail(err, errlen, -PE_NORAM, "not relocatable and 1 MiB is "
                    "taken: %s", text);
    if ((a && !(a & (h->kernel_alignment - 1)) &&
         place_check(p, a, h->kernel_len, NULL) == 0) ||
        place_find(p, h->kernel_len, h->kernel_alignment, LINUX_KERNEL_ADDR,
                   GIB4, &a) == 0) {
        *addr = (uint32_t)a;
        return 0;
    }
    return fail(err, errlen, -PE_NORAM, "no room for the kernel: %s", text);
}

/**
 * Start a plan: clear @lp and @plan, parse the header, take the command
 * line @args (checked against cmdline_size and Pulsar's room for it).
 */
static int plan_header(const uint8_t *prefix, size_t len, uint32_t file_size,
                       const char *args, struct linux_plan *lp,
                       struct image_plan *plan, char *err, size_t errlen)
{
    size_t cmdlen = strlen(args);
    int rc;

    memset(lp, 0, sizeof(*lp));
    memset(plan, 0, sizeof(*plan));
    if ((rc = linux_parse_header(prefix, len, file_size, &lp->hdr, err,
                                 errlen)) != 0)
        return rc;
    /* Pulsar's own room is far above its 4 KiB config lines. */
    if (cmdlen > lp->hdr.cmdline_size || cmdlen >= LINUX_CMDLINE_ROOM)
        return fail(err, errlen, -PE_TOOLONG, "command line of %u bytes, "
                    "over cmdline_size %u", (unsigned)cmdlen,
                    lp->hdr.cmdline_size);
    lp->cmdline = args;
    lp->cmdline_len = (uint32_t)cmdlen;
    return 0;
}

/** Plan a bzImage for its EFI stub; see linux.h. */
int linux_plan_efi_stub(const uint8_t *prefix, size_t len, uint32_t file_size,
                        const char *args, const struct placer *p,
                        struct linux_plan *lp, struct image_plan *plan,
                        char *err, size_t errlen)
{
    uint64_t at;
    int rc;

    if ((rc = plan_header(prefix, len, file_size, args, lp, plan, err,
                          errlen)) != 0)
        return rc;
    if (place_find(p, file_size, PAGE, LINUX_KERNEL_ADDR, GIB4, &at) != 0)
        return fail(err, errlen, -PE_NORAM, "no room below 4 GiB for the "
                    "%u-byte image", file_size);
    lp->kernel_addr = (uint32_t)at;
    plan->format = "Linux EFI stub";
    plan->nseg = 1;
    plan->seg[0].dest = (uint32_t)at;
    plan->seg[0].filesz = file_size;
    plan->seg[0].memsz = file_size;
    plan->lowest = (uint32_t)at;
    plan->highest = (uint32_t)(at + file_size);
    plan->file_need = file_size;
    return 0;
}

/** Parse the header and plan the kernel's load; see linux.h. */
int linux_plan_image(const uint8_t *prefix, size_t len, uint32_t file_size,
                     const char *args, const struct placer *p,
                     uint32_t low_end, struct linux_plan *lp,
                     struct image_plan *plan, char *err, size_t errlen)
{
    struct linux_header *h = &lp->hdr;
    uint64_t low;
    int rc;

    if ((rc = plan_header(prefix, len, file_size, args, lp, plan, err,
                          errlen)) != 0)
        return rc;

    if (low_end > 0xA0000)
        low_end = 0xA0000;
    if (place_find(p, LINUX_LOW_SIZE, 16, LINUX_LOW_MIN, low_end, &low))
        return fail(err, errlen, -PE_NORAM, "no free 64 KiB of low memory "
                    "below 0x%x for the setup", low_end);
    lp->setup_addr = (uint32_t)low;
    if ((rc = place_kernel(h, p, &lp->kernel_addr, err, errlen)) != 0)
        return rc;

    /*
     * The kernel unpacks itself into init_size bytes at its run address:
     * for a relocatable one the load address aligned up, but not below
     * pref_address; otherwise pref_address.  Keep that free as well.
     */
    if (h->init_size) {
        uint32_t k = lp->kernel_addr, run = k, run_end;

        if (h->relocatable) {
            run = (k + h->kernel_alignment - 1) & ~(h->kernel_alignment - 1);
            if (run < h->pref_address)
                run = h->pref_address;
        } else if (h->pref_address) {
            run = h->pref_address;
        }
        run_end = run + h->init_size;
        if (run < k || run_end < run) /* wrapped round 4 GiB */
            return fail(err, errlen, -PE_UNSUPP, "init_size 0x%x past "
                        "4 GiB", h->init_size);
        if (run < (uint64_t)k + h->kernel_len)
            run = k + h->kernel_len;
        if (run_end > run) {
            lp->run_start = run;
            lp->run_end = run_end;
        }
    }

    plan->format = "Linux bzImage";
    plan->nseg = 2;
    plan->seg[0].dest = lp->setup_addr;
    plan->seg[0].file_off = 0;
    plan->seg[0].filesz = h->setup_len;
    plan->seg[0].memsz = LINUX_LOW_SIZE;
    plan->seg[1].dest = lp->kernel_addr;
    plan->seg[1].file_off = h->setup_len;
    plan->seg[1].filesz = h->kernel_len;
    plan->seg[1].memsz = h->kernel_len;
    plan->entry = lp->setup_addr + 0x200;
    plan->lowest = lp->setup_addr;
    plan->highest = lp->kernel_addr + h->kernel_len;
    plan->file_need = file_size;
    return 0;
}

/** A decimal digit's, hex digit's or other character's value (99). */
static unsigned digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (unsigned)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return (unsigned)(c - 'A' + 10);
    return 99;
}

/**
 * Linux's memparse on @s: a number in base 16 (0x), 8 (leading 0) or 10
 * with an optional binary suffix (K, M, G, T, P, E), saturating at
 * UINT32_MAX.  Returns 0 when @s does not start with a digit.
 */
static uint32_t memparse(const char *s)
{
    static const char suffixes[] = "kmgtpe";
    unsigned base = 10, d, n;
    uint32_t v = 0;
    const char *suf;

    if (*s == '0') {
        base = 8;
        if ((s[1] | 0x20) == 'x') {
            base = 16;
            s += 2;
        }
    }
    for (; (d = digit_value(*s)) < base; s++)
        v = v > (UINT32_MAX - d) / base ? UINT32_MAX : v * base + d;
    suf = *s ? strchr(suffixes, *s | 0x20) : NULL;
    for (n = suf ? (unsigned)(suf - suffixes) + 1 : 0; n; n--)
        v = v >> 22 ? UINT32_MAX : v << 10;
    return v;
}

/** The lowest mem= limit on @cmdline, 0 for none; see linux.h. */
uint32_t linux_mem_limit(const char *cmdline)
{
    uint32_t best = 0, v;
    const char *s = cmdline;

    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        /* Only a whole word counts: not xmem=, not memmap=. */
        if (strncmp(s, "mem=", 4) == 0 && (v = memparse(s + 4)) &&
            (best == 0 || v < best))
            best = v;
        while (*s && *s != ' ' && *s != '\t')
            s++;
    }
    return best;
}

/** Lay out initrd parts 4-byte aligned; see linux.h. */
int linux_initrd_layout(const uint32_t *sizes, unsigned n, uint32_t *offsets,
                        uint32_t *total)
{
    uint64_t off = 0;
    unsigned i;

    *total = 0;
    for (i = 0; i < n; i++) {
        off = (off + 3) & ~3ull;
        if (off + sizes[i] > UINT32_MAX)
            return -PE_RANGE;
        offsets[i] = (uint32_t)off;
        off += sizes[i];
    }
    *total = (uint32_t)off;
    return 0;
}

/** Place the initrd as high as it may go; see linux.h. */
int linux_place_initrd(struct linux_plan *lp, const struct placer *p,
                       uint32_t total, char *err, size_t errlen)
{
    uint64_t limit = (uint64_t)lp->hdr.initrd_addr_max + 1, a;
    uint32_t mem = linux_mem_limit(lp->cmdline);
    const char *why = "initrd_addr_max";

    lp->initrd_addr = lp->initrd_size = 0;
    if (total == 0)
        return 0;
    if (mem && mem < limit) {
        limit = mem;
        why = "mem=";
    }
    if (limit > GIB4)
        limit = GIB4;
    if (place_find_top(p, total, PAGE, LINUX_KERNEL_ADDR, limit, &a))
        return fail(err, errlen, -PE_NORAM, "initrd of %u bytes does not "
                    "fit in free RAM below 0x%llx (%s)", total,
                    (unsigned long long)limit, why);
    lp->initrd_addr = (uint32_t)a;
    lp->initrd_size = total;
    return 0;
}

/** Fill in the loader's header fields and the command line; see linux.h. */
void linux_finish(uint8_t *low, const struct linux_plan *lp)
{
    const struct linux_header *h = &lp->hdr;

    low[LX_TYPE_OF_LOADER] = LX_LOADER_TYPE;
    /* The setup's segments are set (no KEEP_SEGMENTS); it has a heap. */
    low[LX_LOADFLAGS] = (uint8_t)((h->loadflags & ~LX_KEEP_SEGMENTS) |
                                  LX_CAN_USE_HEAP);
    put_le16(low + LX_HEAP_END_PTR, (uint16_t)(LINUX_HEAP_END - 0x200));
    put_le32(low + LX_CMD_LINE_PTR, lp->setup_addr + LINUX_HEAP_END);
    memcpy(low + LINUX_HEAP_END, lp->cmdline, lp->cmdline_len);
    low[LINUX_HEAP_END + lp->cmdline_len] = '\0';
    put_le32(low + LX_RAMDISK_IMAGE, lp->initrd_addr);
    put_le32(low + LX_RAMDISK_SIZE, lp->initrd_size);
    /* A relocated kernel starts where it was put, not where it says. */
    put_le32(low + LX_CODE32_START,
          h->code32_start + (lp->kernel_addr - LINUX_KERNEL_ADDR));
}

/** Store @v little-endian in 8 bytes at @p. */
static void put_le64_at(uint8_t *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

/** Build the zero page for the 32-bit entry; see linux.h. */
int linux_boot_params(uint8_t *bp, const uint8_t *setup, size_t setup_len,
                      const struct e820_entry *map, unsigned n,
                      const struct linux_efi_info *efi, uint64_t rsdp)
{
    size_t end;

    memset(bp, 0, BP_SIZE);
    if (n > BP_E820_MAX || setup_len < LX_HEADER)
        return -PE_RANGE;
    /* The header ends where the short jump at 0x200 lands. */
    end = 0x202 + (size_t)setup[0x201];
    if (end > setup_len || end > BP_E820_TABLE)
        return -PE_RANGE;
    memcpy(bp + BP_HDR, setup + BP_HDR, end - BP_HDR);
    bp[BP_E820_ENTRIES] = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        put_le64_at(e, map[i].base);
        put_le64_at(e + 8, map[i].len);
        put_le32(e + 16, map[i].type);
    }
    if (!efi)
        return 0;
    memcpy(bp + BP_EFI_INFO, BP_EFI_SIG64, 4);
    put_le32(bp + BP_EFI_INFO + 0x04, (uint32_t)efi->systab);
    put_le32(bp + BP_EFI_INFO + 0x08, efi->memdesc_size);
    put_le32(bp + BP_EFI_INFO + 0x0C, efi->memdesc_version);
    put_le32(bp + BP_EFI_INFO + 0x10, (uint32_t)efi->memmap);
    put_le32(bp + BP_EFI_INFO + 0x14, efi->memmap_size);
    put_le32(bp + BP_EFI_INFO + 0x18, (uint32_t)(efi->systab >> 32));
    put_le32(bp + BP_EFI_INFO + 0x1C, (uint32_t)(efi->memmap >> 32));
    put_le64_at(bp + BP_ACPI_RSDP_ADDR, rsdp);
    return 0;
}
