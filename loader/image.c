/*
 * Kernel images: the format table, the multiboot header search, ELF32,
 * ELF64 and a.out kludge load planning, the section-header capture and
 * the streaming feed that routes each received packet to its final place.
 *
 * Everything here reads a file that came over the network, so every
 * field is untrusted: offsets and sizes are summed in 64 bits and checked
 * against the prefix and the 4 GiB address space before they are used.
 */
#include <stdio.h>
#include <string.h>

#include "lib/endian.h"
#include "lib/errno.h"
#include "loader/image.h"
#include "mb/multiboot.h"

/* Multiboot header layout (Multiboot 0.6.96 section 3.1.1). */
#define MBH_BASE_LEN 12  /* magic, flags, checksum */
#define MBH_ADDR_LEN 32  /* + the a.out kludge address fields */
#define MBH_VIDEO_LEN 48 /* + mode_type, width, height, depth */
/* Bits 0-15 are requirements: a loader must refuse ones it cannot meet. */
#define MBH_REQUIRED_MASK 0x0000FFFFu
#define MBH_HONOURED \
    (MB_HFLAG_PAGE_ALIGN | MB_HFLAG_MEMINFO | MB_HFLAG_VIDEO)

/* ELF layout (System V ABI; ELF-64 Object File Format 1.5). */
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
#define EM_X86_64 62
#define PT_LOAD 1
#define EHDR32_LEN 52
#define EHDR64_LEN 64
#define PHDR32_LEN 32
#define PHDR64_LEN 56
#define SHDR32_LEN 40
#define SHDR64_LEN 64
#define E_TYPE 16
#define E_MACHINE 18

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

        if (le32(h) != MB_HEADER_MAGIC)
            continue;
        flags = le32(h + 4);
        if ((uint32_t)(MB_HEADER_MAGIC + flags + le32(h + 8)) != 0) {
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
            mb->header_addr = le32(h + 12);
            mb->load_addr = le32(h + 16);
            mb->load_end_addr = le32(h + 20);
            mb->bss_end_addr = le32(h + 24);
            mb->entry_addr = le32(h + 28);
        }
        if (flags & MB_HFLAG_VIDEO) {
            mb->mode_type = le32(h + 32);
            mb->width = le32(h + 36);
            mb->height = le32(h + 40);
            mb->depth = le32(h + 44);
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
    return bit == 0 ? "page-aligned modules"
           : bit == 1 ? "memory info"
           : bit == 2 ? "video mode"
                      : "unknown";
}

/** True when @b starts with the ELF magic (needs 4 bytes). */
static bool is_elf(const uint8_t *b, size_t len)
{
    return len >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' &&
           b[3] == 'F';
}

/** The ELF header fields Pulsar uses, from either class. */
struct elf_hdr {
    bool is64;
    uint64_t entry, phoff, shoff;
    uint16_t phentsize, phnum, shentsize, shnum, shstrndx;
};

/** One program header; only vaddr may be 64-bit (see elf_phdr_at). */
struct elf_phdr {
    uint32_t type, offset, paddr, filesz, memsz;
    uint64_t vaddr;
    bool high; /* an ELF64 offset, paddr or size is at or above 4 GiB */
};

/** Read program header @i (bounds checked by elf_check_header). */
static void elf_phdr_at(const uint8_t *b, const struct elf_hdr *e,
                        unsigned i, struct elf_phdr *ph)
{
    const uint8_t *p = b + e->phoff + (size_t)i * e->phentsize;

    ph->type = le32(p);
    if (e->is64) {
        /* p_offset, p_vaddr, p_paddr, p_filesz, p_memsz from byte 8 */
        ph->offset = le32(p + 8);
        ph->vaddr = le64(p + 16);
        ph->paddr = le32(p + 24);
        ph->filesz = le32(p + 32);
        ph->memsz = le32(p + 40);
        ph->high = (le32(p + 12) | le32(p + 28) | le32(p + 36) |
                    le32(p + 44)) != 0;
    } else {
        ph->offset = le32(p + 4);
        ph->vaddr = le32(p + 8);
        ph->paddr = le32(p + 12);
        ph->filesz = le32(p + 16);
        ph->memsz = le32(p + 20);
        ph->high = false;
    }
}

/**
 * Check the ELF header fields Pulsar relies on -- a little-endian
 * executable, ELF32 for i386 or ELF64 for x86-64, whose program headers
 * lie inside the prefix -- and read them into @e.
 * Returns 0 or a negative pulsar_err with a message in @err.
 */
static int elf_check_header(const uint8_t *b, size_t len, struct elf_hdr *e,
                            char *err, size_t errlen)
{
    unsigned want_machine, phdr_len, shdr_len;
    uint64_t phend;

    if (len < EI_NIDENT) {
        IMG_ERR("ELF identification is cut off at %u bytes", (unsigned)len);
        return -PE_INVAL;
    }
    if (b[EI_CLASS] != ELFCLASS32 && b[EI_CLASS] != ELFCLASS64) {
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
    memset(e, 0, sizeof(*e));
    e->is64 = b[EI_CLASS] == ELFCLASS64;
    if (len < (e->is64 ? EHDR64_LEN : EHDR32_LEN)) {
        IMG_ERR("ELF header is cut off at %u bytes", (unsigned)len);
        return -PE_INVAL;
    }
    if (le16(b + E_TYPE) != ET_EXEC) {
        IMG_ERR("ELF type %u is not an executable (ET_EXEC)",
                le16(b + E_TYPE));
        return -PE_UNSUPP;
    }
    want_machine = e->is64 ? EM_X86_64 : EM_386;
    if (le16(b + E_MACHINE) != want_machine) {
        IMG_ERR("ELF%s machine %u is not %s", e->is64 ? "64" : "32",
                le16(b + E_MACHINE), e->is64 ? "x86-64" : "i386");
        return -PE_UNSUPP;
    }
    if (e->is64) {
        /* ELF64: 8-byte entry/phoff/shoff, the 16-bit fields 12 bytes on */
        e->entry = le64(b + 24);
        e->phoff = le64(b + 32);
        e->shoff = le64(b + 40);
        b += 12;
        phdr_len = PHDR64_LEN;
        shdr_len = SHDR64_LEN;
    } else {
        e->entry = le32(b + 24);
        e->phoff = le32(b + 28);
        e->shoff = le32(b + 32);
        phdr_len = PHDR32_LEN;
        shdr_len = SHDR32_LEN;
    }
    e->phentsize = le16(b + 42);
    e->phnum = le16(b + 44);
    e->shentsize = le16(b + 46);
    e->shnum = le16(b + 48);
    e->shstrndx = le16(b + 50);
    if (e->phentsize < phdr_len) {
        IMG_ERR("ELF program header size %u is below %u", e->phentsize,
                phdr_len);
        return -PE_INVAL;
    }
    if (e->phnum > ELF_MAX_PHDRS) {
        IMG_ERR("%u ELF program headers; at most %u are supported", e->phnum,
                ELF_MAX_PHDRS);
        return -PE_UNSUPP;
    }
    /* Pulsar plans from the prefix alone: the file is still arriving.
     * phoff < 2^64 and phentsize * phnum < 2^22: compare without adding. */
    phend = (uint64_t)e->phentsize * e->phnum;
    if (e->phoff > len || phend > len - e->phoff) {
        IMG_ERR("ELF program headers at 0x%llx..0x%llx are outside the "
                "first %u bytes", (unsigned long long)e->phoff,
                (unsigned long long)(e->phoff + phend), (unsigned)len);
        return -PE_INVAL;
    }
    /* Section headers are optional; a size below the class's is bogus
     * and makes Pulsar pass none rather than misread them. */
    if (e->shentsize < shdr_len)
        e->shnum = 0;
    return 0;
}

/**
 * Turn the PT_LOAD program headers into plan->seg[] and check each one
 * (in the file's 32-bit range, below 4 GiB) and each pair (no overlap).
 * Returns 0 or a negative pulsar_err with a message.
 */
static int elf_read_segments(const uint8_t *b, const struct elf_hdr *e,
                             struct image_plan *plan, char *err,
                             size_t errlen)
{
    unsigned i, j;

    plan->nseg = 0;
    for (i = 0; i < e->phnum; i++) {
        struct elf_phdr ph;
        struct load_seg *s;
        unsigned n = plan->nseg + 1; /* 1-based, like the placer labels */

        elf_phdr_at(b, e, i, &ph);
        if (ph.type != PT_LOAD)
            continue;
        if (ph.high) {
            IMG_ERR("segment %u lies beyond 4 GiB", n);
            return -PE_RANGE;
        }
        if (ph.filesz > ph.memsz) {
            IMG_ERR("segment %u: file size 0x%x is larger than memory size "
                    "0x%x", n, ph.filesz, ph.memsz);
            return -PE_INVAL;
        }
        if (ph.memsz == 0)
            continue; /* occupies nothing; linkers emit these at times */
        if (plan->nseg == IMAGE_MAX_SEGS) {
            IMG_ERR("more than %u loadable ELF segments", IMAGE_MAX_SEGS);
            return -PE_UNSUPP;
        }
        if ((uint64_t)ph.offset + ph.filesz >= LIMIT_4G) {
            IMG_ERR("segment %u: file range 0x%x + 0x%x runs past 4 GiB", n,
                    ph.offset, ph.filesz);
            return -PE_INVAL;
        }
        /* Strictly below 4 GiB so `highest` fits in 32 bits. */
        if ((uint64_t)ph.paddr + ph.memsz >= LIMIT_4G) {
            IMG_ERR("segment %u: memory range 0x%x + 0x%x lies beyond 4 GiB",
                    n, ph.paddr, ph.memsz);
            return -PE_RANGE;
        }
        s = &plan->seg[plan->nseg++];
        s->dest = ph.paddr;
        s->file_off = ph.offset;
        s->filesz = ph.filesz;
        s->memsz = ph.memsz;
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
                IMG_ERR("segments %u and %u overlap: [0x%x, 0x%x) and "
                        "[0x%x, 0x%x)", i + 1, j + 1, a->dest,
                        a->dest + a->memsz, c->dest, c->dest + c->memsz);
                return -PE_INVAL;
            }
        }
    }
    return 0;
}

/**
 * Work out the physical entry point.  Kernels linked to run high (e.g.
 * at 0xC0100000) give a virtual e_entry and load at p_paddr; like GRUB
 * and syslinux, Pulsar translates through the segment holding it.
 */
static int elf_entry(const uint8_t *b, const struct elf_hdr *e,
                     struct image_plan *plan, char *err, size_t errlen)
{
    unsigned i;

    for (i = 0; i < plan->nseg; i++) {
        const struct load_seg *s = &plan->seg[i];

        if (e->entry >= s->dest && e->entry - s->dest < s->memsz) {
            plan->entry = (uint32_t)e->entry;
            return 0;
        }
    }
    /* The vaddr is only in the program headers: walk them again. */
    for (i = 0; i < e->phnum; i++) {
        struct elf_phdr ph;

        elf_phdr_at(b, e, i, &ph);
        if (ph.type != PT_LOAD || ph.memsz == 0 || ph.high)
            continue;
        /* Subtracting first avoids vaddr + memsz wrapping. */
        if (e->entry >= ph.vaddr && e->entry - ph.vaddr < ph.memsz) {
            /* paddr + memsz < 4 GiB was checked, so this fits. */
            plan->entry = ph.paddr + (uint32_t)(e->entry - ph.vaddr);
            return 0;
        }
    }
    IMG_ERR("entry point 0x%llx is outside every segment",
            (unsigned long long)e->entry);
    return -PE_INVAL;
}

/**
 * Plan the capture of the section headers and the non-loaded sections
 * (see struct image_syms).  Without a known file size, or without
 * sections, there is nothing to capture: the kernel then gets no flag
 * bit 5, as from a loader that does not offer it.
 */
static int elf_plan_syms(const struct elf_hdr *e, uint32_t file_size,
                         struct image_plan *plan, char *err, size_t errlen)
{
    struct image_syms *y = &plan->syms;
    uint64_t tab = (uint64_t)e->shentsize * e->shnum;
    uint32_t start = plan->file_need;

    if (e->shnum == 0 || file_size == 0)
        return 0;
    if (e->shoff > file_size || tab > file_size - e->shoff) {
        IMG_ERR("ELF section headers at 0x%llx + 0x%llx run past the end "
                "of the %u-byte file", (unsigned long long)e->shoff,
                (unsigned long long)tab, file_size);
        return -PE_INVAL;
    }
    if (e->shstrndx >= e->shnum) {
        IMG_ERR("ELF section name table index %u is not below the %u "
                "sections", e->shstrndx, e->shnum);
        return -PE_INVAL;
    }
    /* Linkers put the non-loaded sections after the segments' bytes and
     * the table last or right after them: capture from whichever comes
     * first, so one stream pass gets it all. */
    if (e->shoff < start)
        start = (uint32_t)e->shoff;
    plan->has_syms = true;
    y->is64 = e->is64;
    y->num = e->shnum;
    y->size = e->shentsize;
    y->shndx = e->shstrndx;
    y->shoff = (uint32_t)e->shoff;
    y->cap.file_off = start;
    y->cap.filesz = y->cap.memsz = file_size - start;
    return 0;
}

/**
 * Plan an a.out kludge image (header flag bit 16): load the file from
 * the header's offset minus (header_addr - load_addr) to load_addr, up
 * to load_end_addr (0: the end of the file), zero up to bss_end_addr (0:
 * no bss) and start at entry_addr.  Every field is checked against the
 * others and the file, as the spec defines them.
 */
static int aout_plan(const struct mb_header *mb, uint32_t file_size,
                     struct image_plan *plan, char *err, size_t errlen)
{
    uint32_t load = mb->load_addr, hdr_delta, off, filesz, memsz;

    if (file_size == 0) {
        IMG_ERR("a.out kludge: the file size is unknown");
        return -PE_INVAL;
    }
    if (mb->header_addr < load || mb->header_addr - load > mb->offset) {
        IMG_ERR("a.out kludge: header_addr 0x%x and load_addr 0x%x do not "
                "match the header's file offset 0x%x", mb->header_addr, load,
                mb->offset);
        return -PE_INVAL;
    }
    hdr_delta = mb->header_addr - load;
    off = mb->offset - hdr_delta; /* the file offset loaded at load_addr */
    if (mb->load_end_addr == 0) {
        filesz = file_size - off; /* off <= header offset < file_size */
    } else if ((uint64_t)mb->load_end_addr <
                   (uint64_t)mb->header_addr + MBH_ADDR_LEN ||
               mb->load_end_addr - load > file_size - off) {
        IMG_ERR("a.out kludge: load_end_addr 0x%x is not between the "
                "header's end 0x%x and the file's end 0x%llx",
                mb->load_end_addr, mb->header_addr + MBH_ADDR_LEN,
                (unsigned long long)load + (file_size - off));
        return -PE_INVAL;
    } else {
        filesz = mb->load_end_addr - load;
    }
    if ((uint64_t)load + filesz >= LIMIT_4G) {
        IMG_ERR("a.out kludge: [0x%x, 0x%llx) is not below 4 GiB", load,
                (unsigned long long)load + filesz);
        return -PE_INVAL;
    }
    memsz = filesz;
    if (mb->bss_end_addr != 0) {
        if (mb->bss_end_addr < load + filesz) {
            IMG_ERR("a.out kludge: bss_end_addr 0x%x is below the loaded "
                    "end 0x%x", mb->bss_end_addr, load + filesz);
            return -PE_INVAL;
        }
        memsz = mb->bss_end_addr - load;
    }
    if (mb->entry_addr < load || mb->entry_addr - load >= memsz) {
        IMG_ERR("a.out kludge: entry_addr 0x%x is outside the image "
                "[0x%x, 0x%x)", mb->entry_addr, load, load + memsz);
        return -PE_INVAL;
    }
    plan->seg[0].dest = load;
    plan->seg[0].file_off = off;
    plan->seg[0].filesz = filesz;
    plan->seg[0].memsz = memsz;
    plan->nseg = 1;
    plan->entry = mb->entry_addr;
    plan->format = "multiboot a.out kludge";
    return 0;
}

/** Does a planned segment hold address @a? */
static bool plan_holds(const struct image_plan *plan, uint32_t a)
{
    unsigned i;

    for (i = 0; i < plan->nseg; i++)
        if (a >= plan->seg[i].dest && a - plan->seg[i].dest <
                                          plan->seg[i].memsz)
            return true;
    return false;
}

/**
 * The load plan after the header: from the a.out kludge fields in
 * @kludge (NULL: the ELF program headers), then the span, the file size
 * it needs and the section-header capture.  Shared by Multiboot 1 and 2.
 */
static int plan_body(const uint8_t *prefix, size_t len, uint32_t file_size,
                     const struct mb_header *kludge, struct image_plan *plan,
                     char *err, size_t errlen)
{
    struct elf_hdr e;
    uint64_t need = 0;
    unsigned i;
    int rc;

    if (kludge) {
        rc = aout_plan(kludge, file_size, plan, err, errlen);
    } else if (!is_elf(prefix, len)) {
        IMG_ERR("not an ELF file and no a.out kludge address fields");
        return -PE_NOEXEC;
    } else if ((rc = elf_check_header(prefix, len, &e, err, errlen)) == 0 &&
               (rc = elf_read_segments(prefix, &e, plan, err, errlen)) == 0) {
        rc = elf_entry(prefix, &e, plan, err, errlen);
        plan->format = e.is64 ? "multiboot ELF64" : "multiboot ELF32";
    }
    if (rc != 0)
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
    if (!kludge)
        return elf_plan_syms(&e, file_size, plan, err, errlen);
    return 0;
}


/** Plan the load of a multiboot kernel; see image.h. */
int image_plan_multiboot(const uint8_t *prefix, size_t len,
                         uint32_t file_size, struct image_plan *plan,
                         char *err, size_t errlen)
{
    uint32_t required;
    int rc;

    memset(plan, 0, sizeof(*plan));
    if ((rc = mb_find_header(prefix, len, &plan->mb, err, errlen)) != 0)
        return rc;

    /*
     * Bits 0 (page-align modules), 1 (memory info) and 2 (video mode)
     * are honoured by the boot flow.  Any other requirement would be
     * silently broken, so the kernel is refused rather than started wrongly.
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
    if ((plan->mb.flags & MB_HFLAG_VIDEO) && plan->mb.mode_type > 1) {
        IMG_ERR("multiboot header video mode_type %u is neither 0 "
                "(graphics) nor 1 (text)", plan->mb.mode_type);
        return -PE_INVAL;
    }

    /*
     * Bit 16 wins over ELF, as the spec says ("use them instead of the
     * fields in the actual executable header") and GRUB 2 does.  GRUB
     * legacy tried ELF first; GRUB 2 keeps that only as a quirk for old
     * kernels with stale fields.
     */
    if (plan->mb.flags & MB_HFLAG_AOUT_KLUDGE)
        return plan_body(prefix, len, file_size, &plan->mb, plan, err,
                         errlen);
    return plan_body(prefix, len, file_size, NULL, plan, err, errlen);
}

/** Plan a Multiboot2 kernel; see image.h. */
int image_plan_multiboot2(const uint8_t *prefix, size_t len,
                          uint32_t file_size, uint32_t gives,
                          struct image_plan *plan, char *err, size_t errlen)
{
    struct mb2_header *h = &plan->mb2;
    struct mb_header kludge;
    int rc;

    memset(plan, 0, sizeof(*plan));
    plan->is_mb2 = true;
    if ((rc = mb2_parse_header(prefix, len, gives, h, err, errlen)) != 0)
        return rc;
    if (h->has_fb) {
        /* The face's video code reads a Multiboot 1 video request. */
        plan->mb.flags |= MB_HFLAG_VIDEO;
        plan->mb.mode_type = 0;
        plan->mb.width = h->fb_width;
        plan->mb.height = h->fb_height;
        plan->mb.depth = h->fb_depth;
    }
    if (!h->has_address) {
        rc = plan_body(prefix, len, file_size, NULL, plan, err, errlen);
        if (rc == 0 && h->has_entry) {
            if (!plan_holds(plan, h->entry)) {
                IMG_ERR("multiboot2 entry address 0x%x is outside every "
                        "segment", h->entry);
                return -PE_INVAL;
            }
            plan->entry = h->entry;
        }
        /* plan_body succeeded on an ELF file: the class byte is there. */
        if (rc == 0)
            plan->format = prefix[EI_CLASS] == ELFCLASS64 ? "multiboot2 ELF64"
                                                          : "multiboot2 ELF32";
        return rc;
    }
    if (!h->has_entry) {
        IMG_ERR("multiboot2 header at 0x%x: an address tag but no entry "
                "address tag", h->offset);
        return -PE_INVAL;
    }
    /* The address tag is the a.out kludge's fields; load_addr -1 means
     * "from the file's first byte". */
    memset(&kludge, 0, sizeof(kludge));
    kludge.offset = h->offset;
    kludge.header_addr = h->header_addr;
    kludge.load_addr = h->load_addr == 0xFFFFFFFFu
                           ? h->header_addr - h->offset
                           : h->load_addr;
    kludge.load_end_addr = h->load_end_addr;
    kludge.bss_end_addr = h->bss_end_addr;
    kludge.entry_addr = h->entry;
    rc = plan_body(prefix, len, file_size, &kludge, plan, err, errlen);
    plan->format = "multiboot2 address tag";
    return rc;
}

/** Move the image to @base; see image.h. */
void image_relocate(struct image_plan *plan, uint32_t base)
{
    uint32_t delta = base - plan->lowest; /* modulo 2^32: moves down too */
    unsigned i;

    for (i = 0; i < plan->nseg && i < IMAGE_MAX_SEGS; i++)
        plan->seg[i].dest += delta;
    plan->entry += delta;
    if (plan->mb2.has_efi32)
        plan->mb2.efi32_entry += delta;
    if (plan->mb2.has_efi64)
        plan->mb2.efi64_entry += delta;
    plan->highest += delta;
    plan->lowest = base;
    plan->relocated = true;
    plan->load_base = base;
}

/* The formats Pulsar boots.  A new one (Linux bzImage, ...) is one more
 * line here: its planner returns -PE_NOEXEC for files that are not its. */
const struct image_type image_types[] = {
    { "multiboot", image_plan_multiboot },
    { NULL, NULL },
};

/** Plan with the first format that recognises the file; see image.h. */
int image_plan(const uint8_t *prefix, size_t len, uint32_t file_size,
               struct image_plan *plan, char *err, size_t errlen)
{
    char scratch[8];
    int first = -PE_NOEXEC;
    const struct image_type *t;

    for (t = image_types; t->name; t++) {
        /* Keep the first format's reason: it names what was expected. */
        bool keep = t == image_types;
        int rc = t->plan(prefix, len, file_size, plan, keep ? err : scratch,
                         keep ? errlen : sizeof(scratch));

        if (rc != -PE_NOEXEC) {
            if (rc != 0 && !keep) /* its message went to scratch: redo */
                t->plan(prefix, len, file_size, plan, err, errlen);
            return rc;
        }
        if (keep)
            first = rc;
    }
    return first;
}

/** Copy the part of [off, off+len) that belongs to @s to its place. */
static void feed_seg(const struct load_seg *s, uint32_t off,
                     const uint8_t *data, size_t len, image_write_fn write,
                     void *ctx)
{
    uint64_t end = (uint64_t)off + len;
    uint64_t lo = s->file_off > off ? s->file_off : off;
    uint64_t hi = (uint64_t)s->file_off + s->filesz;

    if (hi > end)
        hi = end;
    if (lo < hi)
        write(ctx, s->dest + (uint32_t)(lo - s->file_off), data + (lo - off),
              (size_t)(hi - lo));
}

/** Route file bytes [off, off+len) to their segments; see image.h. */
void image_feed(const struct image_plan *plan, uint32_t off,
                const uint8_t *data, size_t len, image_write_fn write,
                void *ctx)
{
    unsigned i;

    for (i = 0; i < plan->nseg && i < IMAGE_MAX_SEGS; i++)
        feed_seg(&plan->seg[i], off, data, len, write, ctx);
    if (plan->has_syms)
        feed_seg(&plan->syms.cap, off, data, len, write, ctx);
}

/** Give unloaded sections their captured address; see image.h. */
unsigned image_syms_fixup(const struct image_plan *plan, uint8_t *cap,
                          uint32_t *table)
{
    const struct image_syms *y = &plan->syms;
    bool is64 = y->is64;
    uint32_t start = y->cap.file_off, count = 0, i;
    /* elf_plan_syms checked the table lies in [start, file end). */
    uint8_t *sh = cap + (y->shoff - start);

    *table = y->cap.dest + (y->shoff - start);
    for (i = 0; i < y->num; i++, sh += y->size) {
        /* sh_addr, sh_offset, sh_size: 32-bit at 12/16/20, 64 at 16/24/32 */
        uint64_t addr = is64 ? le64(sh + 16) : le32(sh + 12);
        uint64_t off = is64 ? le64(sh + 24) : le32(sh + 16);
        uint64_t size = is64 ? le64(sh + 32) : le32(sh + 20);
        uint32_t phys;

        if (addr != 0 || size == 0 || off < start ||
            off - start > y->cap.filesz || size > y->cap.filesz - (off - start))
            continue;
        phys = y->cap.dest + (uint32_t)(off - start);
        if (is64) {
            memset(sh + 16, 0, 8);
            sh += 16;
        } else {
            sh += 12;
        }
        put_le32(sh, phys);
        sh -= is64 ? 16 : 12;
        count++;
    }
    return count;
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
