/*
 * Multiboot kernel images: header search, ELF32 load planning and the
 * streaming feed that routes each received packet to its final place.
 *
 * Everything here reads a file that came over the network, so every
 * field is untrusted: offsets and sizes are summed in 64 bits and checked
 * against the prefix and the 4 GiB address space before they are used.
 */
#include <stdio.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/image.h"
#include "mb/multiboot.h"

/* Multiboot header layout (Multiboot 0.6.96 section 3.1.1). */
#define MBH_BASE_LEN 12  /* magic, flags, checksum */
#define MBH_ADDR_LEN 32  /* + the a.out kludge address fields */
#define MBH_VIDEO_LEN 48 /* + mode_type, width, height, depth */
/* Bits 0-15 are requirements: a loader must refuse ones it cannot meet. */
#define MBH_REQUIRED_MASK 0x0000FFFFu
#define MBH_HONOURED (MB_HFLAG_PAGE_ALIGN | MB_HFLAG_MEMINFO)

/* ELF32 layout (System V ABI, ELF specification 1.2). */
#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1
#define EHDR32_LEN 52
#define PHDR32_LEN 32
#define E_TYPE 16
#define E_MACHINE 18
#define E_ENTRY 24
#define E_PHOFF 28
#define E_PHENTSIZE 42
#define E_PHNUM 44
#define P_TYPE 0
#define P_OFFSET 4
#define P_VADDR 8
#define P_PADDR 12
#define P_FILESZ 16
#define P_MEMSZ 20

/* Bounds the header walk; real kernels have a handful of headers. */
#define ELF_MAX_PHDRS 64

#define LIMIT_4G 0x100000000ull

/* Fill the caller's message buffer, if any.  Needs err/errlen in scope;
 * a macro because the NBP's libc has snprintf but no vsnprintf. */
#define IMG_ERR(...)                                                       \
    do {                                                                   \
        if (err && errlen)                                                 \
            snprintf(err, errlen, __VA_ARGS__);                            \
    } while (0)

/** Read a little-endian 16-bit value; the buffer may be unaligned. */
static uint16_t rd16(const uint8_t *b)
{
    return (uint16_t)(b[0] | (b[1] << 8));
}

/** Read a little-endian 32-bit value; the buffer may be unaligned. */
static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
           ((uint32_t)b[3] << 24);
}

/** Find and verify the multiboot header; see image.h. */
int mb_find_header(const uint8_t *prefix, size_t len, struct mb_header *mb,
                   char *err, size_t errlen)
{
    size_t lim = len < MB_SEARCH ? len : MB_SEARCH;
    size_t off;
    bool bad_seen = false;
    size_t bad_off = 0;

    for (off = 0; off + MBH_BASE_LEN <= lim; off += 4) {
        const uint8_t *h = prefix + off;
        uint32_t flags, need;

        if (rd32(h) != MB_HEADER_MAGIC)
            continue;
        flags = rd32(h + 4);
        if ((uint32_t)(MB_HEADER_MAGIC + flags + rd32(h + 8)) != 0) {
            /* The magic may occur by chance (e.g. in code or data before
             * the real header), so a bad one does not end the search. */
            if (!bad_seen) {
                bad_seen = true;
                bad_off = off;
            }
            continue;
        }
        need = MBH_BASE_LEN;
        if (flags & MB_HFLAG_AOUT_KLUDGE)
            need = MBH_ADDR_LEN;
        if (flags & MB_HFLAG_VIDEO)
            need = MBH_VIDEO_LEN;
        if (off + need > lim) {
            IMG_ERR("multiboot header at 0x%x: its %u bytes run past the "
                    "first %u bytes of the file",
                    (unsigned)off, (unsigned)need, (unsigned)lim);
            return -PE_INVAL;
        }
        memset(mb, 0, sizeof(*mb));
        mb->offset = (uint32_t)off;
        mb->flags = flags;
        if (flags & MB_HFLAG_AOUT_KLUDGE) {
            mb->header_addr = rd32(h + 12);
            mb->load_addr = rd32(h + 16);
            mb->load_end_addr = rd32(h + 20);
            mb->bss_end_addr = rd32(h + 24);
            mb->entry_addr = rd32(h + 28);
        }
        if (flags & MB_HFLAG_VIDEO) {
            mb->mode_type = rd32(h + 32);
            mb->width = rd32(h + 36);
            mb->height = rd32(h + 40);
            mb->depth = rd32(h + 44);
        }
        return 0;
    }
    if (bad_seen) {
        IMG_ERR("multiboot header at 0x%x: bad checksum", (unsigned)bad_off);
        return -PE_INVAL;
    }
    IMG_ERR("no multiboot header in the first %u bytes", (unsigned)MB_SEARCH);
    return -PE_NOEXEC;
}

/** A name for a required multiboot header flag, for messages. */
static const char *mb_flag_name(unsigned bit)
{
    /* 0.6.96 defines bits 0-2 only; later ones are unknown to us. */
    switch (bit) {
    case 0:
        return "page-aligned modules";
    case 1:
        return "memory info";
    case 2:
        return "video mode";
    default:
        return "unknown";
    }
}

/** True when @b starts with the ELF magic (needs 4 bytes). */
static bool is_elf(const uint8_t *b, size_t len)
{
    return len >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' &&
           b[3] == 'F';
}

/**
 * Check the ELF header fields Pulsar relies on: a little-endian 32-bit
 * i386 executable whose program headers lie inside the prefix.
 * Returns 0 or a negative pulsar_err with a message in @err.
 */
static int elf_check_header(const uint8_t *b, size_t len, char *err,
                            size_t errlen)
{
    uint32_t phoff;
    uint16_t phentsize, phnum;
    uint64_t phend;

    if (len < EI_NIDENT) {
        IMG_ERR("ELF identification is cut off at %u bytes", (unsigned)len);
        return -PE_INVAL;
    }
    if (b[EI_CLASS] == ELFCLASS64) {
        IMG_ERR("ELF64 kernels are not supported yet");
        return -PE_UNSUPP;
    }
    if (b[EI_CLASS] != ELFCLASS32) {
        IMG_ERR("unknown ELF class %u", b[EI_CLASS]);
        return -PE_INVAL;
    }
    if (b[EI_DATA] != ELFDATA2LSB) {
        IMG_ERR("big-endian ELF (data encoding %u) is not supported",
                b[EI_DATA]);
        return -PE_UNSUPP;
    }
    if (b[EI_VERSION] != EV_CURRENT) {
        IMG_ERR("unknown ELF version %u", b[EI_VERSION]);
        return -PE_INVAL;
    }
    if (len < EHDR32_LEN) {
        IMG_ERR("ELF header is cut off at %u bytes", (unsigned)len);
        return -PE_INVAL;
    }
    if (rd16(b + E_TYPE) != ET_EXEC) {
        IMG_ERR("ELF type %u is not an executable (ET_EXEC)",
                rd16(b + E_TYPE));
        return -PE_UNSUPP;
    }
    if (rd16(b + E_MACHINE) != EM_386) {
        IMG_ERR("ELF machine %u is not i386", rd16(b + E_MACHINE));
        return -PE_UNSUPP;
    }
    phoff = rd32(b + E_PHOFF);
    phentsize = rd16(b + E_PHENTSIZE);
    phnum = rd16(b + E_PHNUM);
    if (phentsize < PHDR32_LEN) {
        IMG_ERR("ELF program header size %u is below %u", phentsize,
                PHDR32_LEN);
        return -PE_INVAL;
    }
    if (phnum > ELF_MAX_PHDRS) {
        IMG_ERR("%u ELF program headers; at most %u are supported", phnum,
                ELF_MAX_PHDRS);
        return -PE_UNSUPP;
    }
    /* Pulsar plans from the prefix alone: the file is still arriving. */
    phend = (uint64_t)phoff + (uint64_t)phentsize * phnum;
    if (phend > len) {
        IMG_ERR("ELF program headers at 0x%llx..0x%llx are outside the "
                "first %u bytes", (unsigned long long)phoff,
                (unsigned long long)phend, (unsigned)len);
        return -PE_INVAL;
    }
    return 0;
}

/**
 * Turn the PT_LOAD program headers into plan->seg[] and check each one
 * and each pair.  Returns 0 or a negative pulsar_err with a message.
 */
static int elf_read_segments(const uint8_t *b, struct image_plan *plan,
                             char *err, size_t errlen)
{
    uint32_t phoff = rd32(b + E_PHOFF);
    uint16_t phentsize = rd16(b + E_PHENTSIZE);
    uint16_t phnum = rd16(b + E_PHNUM);
    unsigned i, j;

    plan->nseg = 0;
    for (i = 0; i < phnum; i++) {
        /* In the prefix: elf_check_header bounded phoff + phnum*size. */
        const uint8_t *ph = b + phoff + (size_t)i * phentsize;
        struct load_seg *s;
        uint32_t off, paddr, filesz, memsz;
        unsigned n;

        if (rd32(ph + P_TYPE) != PT_LOAD)
            continue;
        off = rd32(ph + P_OFFSET);
        paddr = rd32(ph + P_PADDR);
        filesz = rd32(ph + P_FILESZ);
        memsz = rd32(ph + P_MEMSZ);
        n = plan->nseg + 1; /* 1-based in messages, like the placer labels */
        if (filesz > memsz) {
            IMG_ERR("segment %u: file size 0x%x is larger than memory size "
                    "0x%x", n, filesz, memsz);
            return -PE_INVAL;
        }
        if (memsz == 0)
            continue; /* occupies nothing; linkers emit these at times */
        if (plan->nseg == IMAGE_MAX_SEGS) {
            IMG_ERR("more than %u loadable ELF segments", IMAGE_MAX_SEGS);
            return -PE_UNSUPP;
        }
        if ((uint64_t)off + filesz >= LIMIT_4G) {
            IMG_ERR("segment %u: file range 0x%x + 0x%x runs past 4 GiB", n,
                    off, filesz);
            return -PE_INVAL;
        }
        /* Strictly below 4 GiB so `highest` fits in 32 bits. */
        if ((uint64_t)paddr + memsz >= LIMIT_4G) {
            IMG_ERR("segment %u: memory range 0x%x + 0x%x runs past 4 GiB",
                    n, paddr, memsz);
            return -PE_INVAL;
        }
        s = &plan->seg[plan->nseg++];
        s->dest = paddr;
        s->file_off = off;
        s->filesz = filesz;
        s->memsz = memsz;
    }
    if (plan->nseg == 0) {
        IMG_ERR("ELF file has no loadable segments");
        return -PE_NOEXEC;
    }
    for (i = 0; i < plan->nseg; i++) {
        for (j = i + 1; j < plan->nseg; j++) {
            const struct load_seg *a = &plan->seg[i], *c = &plan->seg[j];

            /* Ends fit in 32 bits: checked above. */
            if (a->dest < c->dest + c->memsz && c->dest < a->dest + a->memsz) {
                IMG_ERR("segments %u and %u overlap", i + 1, j + 1);
                return -PE_INVAL;
            }
        }
    }
    return 0;
}

/**
 * Work out the physical entry point.  Kernels linked to run high (e.g.
 * at 0xC0100000) give a virtual e_entry and load at p_paddr; like other
 * multiboot loaders Pulsar translates through the segment holding it.
 */
static int elf_entry(const uint8_t *b, struct image_plan *plan, char *err,
                     size_t errlen)
{
    uint32_t entry = rd32(b + E_ENTRY);
    uint32_t phoff = rd32(b + E_PHOFF);
    uint16_t phentsize = rd16(b + E_PHENTSIZE);
    uint16_t phnum = rd16(b + E_PHNUM);
    unsigned i;

    for (i = 0; i < plan->nseg; i++) {
        const struct load_seg *s = &plan->seg[i];

        if (entry >= s->dest && entry - s->dest < s->memsz) {
            plan->entry = entry;
            return 0;
        }
    }
    /* The vaddr is only in the program headers: walk them again. */
    for (i = 0; i < phnum; i++) {
        const uint8_t *ph = b + phoff + (size_t)i * phentsize;
        uint32_t vaddr = rd32(ph + P_VADDR);
        uint32_t memsz = rd32(ph + P_MEMSZ);

        if (rd32(ph + P_TYPE) != PT_LOAD || memsz == 0)
            continue;
        /* Subtracting first avoids vaddr + memsz wrapping. */
        if (entry >= vaddr && entry - vaddr < memsz) {
            /* paddr + memsz < 4 GiB was checked, so this cannot wrap. */
            plan->entry = rd32(ph + P_PADDR) + (entry - vaddr);
            return 0;
        }
    }
    IMG_ERR("entry point 0x%x is outside every segment", entry);
    return -PE_INVAL;
}

/** Plan the load of a multiboot kernel; see image.h. */
int image_plan_multiboot(const uint8_t *prefix, size_t len,
                         uint32_t file_size, struct image_plan *plan,
                         char *err, size_t errlen)
{
    uint32_t required;
    uint64_t need = 0;
    unsigned i;
    int rc;

    memset(plan, 0, sizeof(*plan));
    if ((rc = mb_find_header(prefix, len, &plan->mb, err, errlen)) != 0)
        return rc;

    /*
     * Bits 0 (page-align modules) and 1 (memory info) are honoured: the
     * boot flow page-aligns modules and the info always carries mem_*
     * and the mmap.  Any other requirement would be silently broken, so
     * the kernel is refused rather than started wrongly.
     */
    required = plan->mb.flags & MBH_REQUIRED_MASK & ~MBH_HONOURED;
    if (required) {
        unsigned bit = 0;

        while (!(required & (1u << bit)))
            bit++;
        IMG_ERR("multiboot header flag bit %u (%s) required by the kernel "
                "but not supported", bit, mb_flag_name(bit));
        return -PE_UNSUPP;
    }

    if (!is_elf(prefix, len)) {
        if (plan->mb.flags & MB_HFLAG_AOUT_KLUDGE) {
            IMG_ERR("a.out kludge images are not supported yet");
            return -PE_UNSUPP;
        }
        IMG_ERR("not an ELF file and no a.out kludge address fields");
        return -PE_NOEXEC;
    }
    /*
     * An ELF file with flag bit 16 set: the spec says the address fields
     * take precedence, but GRUB legacy checks for ELF first and loads by
     * the program headers, ignoring them (GRUB 2 honours them).  Pulsar
     * follows GRUB legacy: the program headers are what the linker wrote,
     * the hand-maintained address fields are often stale.
     */
    if ((rc = elf_check_header(prefix, len, err, errlen)) != 0)
        return rc;
    if ((rc = elf_read_segments(prefix, plan, err, errlen)) != 0)
        return rc;
    if ((rc = elf_entry(prefix, plan, err, errlen)) != 0)
        return rc;

    plan->lowest = plan->seg[0].dest;
    plan->highest = plan->seg[0].dest + plan->seg[0].memsz;
    for (i = 0; i < plan->nseg; i++) {
        const struct load_seg *s = &plan->seg[i];

        if (s->filesz && (uint64_t)s->file_off + s->filesz > need)
            need = (uint64_t)s->file_off + s->filesz;
        if (s->dest < plan->lowest)
            plan->lowest = s->dest;
        if (s->dest + s->memsz > plan->highest)
            plan->highest = s->dest + s->memsz;
    }
    plan->file_need = (uint32_t)need; /* < 4 GiB: checked per segment */
    if (file_size != 0 && file_size < plan->file_need) {
        IMG_ERR("file is %u bytes but its segments need %u", file_size,
                plan->file_need);
        return -PE_INVAL;
    }
    plan->format = "multiboot ELF32";
    return 0;
}

/** Route file bytes [off, off+len) to their segments; see image.h. */
void image_feed(const struct image_plan *plan, uint32_t off,
                const uint8_t *data, size_t len, image_write_fn write,
                void *ctx)
{
    uint64_t end = (uint64_t)off + len;
    unsigned i;

    for (i = 0; i < plan->nseg && i < IMAGE_MAX_SEGS; i++) {
        const struct load_seg *s = &plan->seg[i];
        uint64_t lo = s->file_off > off ? s->file_off : off;
        uint64_t hi = (uint64_t)s->file_off + s->filesz;

        if (hi > end)
            hi = end;
        if (lo >= hi)
            continue;
        write(ctx, s->dest + (uint32_t)(lo - s->file_off), data + (lo - off),
              (size_t)(hi - lo));
    }
}

/** Zero each segment's [dest+filesz, dest+memsz); see image.h. */
void image_zero_bss(const struct image_plan *plan, image_zero_fn zero,
                    void *ctx)
{
    unsigned i;

    for (i = 0; i < plan->nseg && i < IMAGE_MAX_SEGS; i++) {
        const struct load_seg *s = &plan->seg[i];

        if (s->memsz > s->filesz)
            zero(ctx, s->dest + s->filesz, s->memsz - s->filesz);
    }
}
