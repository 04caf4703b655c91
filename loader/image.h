/*
 * Kernel image formats.  A format probes the first bytes of a file (the
 * "prefix", which Pulsar buffers while the transfer has already started)
 * and turns them into a load plan: which file bytes go where, and what is
 * zeroed.  The plan is checked against the placer before a byte is
 * written, then the rest of the file is streamed through image_feed(),
 * which copies each packet straight to its final place.  Pure C.
 */
#ifndef PULSAR_IMAGE_H
#define PULSAR_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "loader/mb2hdr.h"

/** How many bytes of a kernel Pulsar buffers before it plans the load:
 *  the most any format's header search needs (Multiboot2's 32 KiB). */
#define IMAGE_PREFIX MB2_SEARCH
/** The multiboot header must lie within the first this-many bytes. */
#define MB_SEARCH 8192
#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define IMAGE_MAX_SEGS 16

/** One range of the file copied to memory, then zeroed up to memsz. */
struct load_seg {
    uint32_t dest;     /* physical address */
    uint32_t file_off; /* offset in the file */
    uint32_t filesz;   /* bytes copied from the file */
    uint32_t memsz;    /* bytes in memory (>= filesz; the rest is zeroed) */
};

/** The multiboot header as found in the image. */
struct mb_header {
    uint32_t offset; /* where it was found in the file */
    uint32_t flags;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
    uint32_t mode_type, width, height, depth;
};

/**
 * ELF section headers for the multiboot info (flags bit 5).  The file's
 * tail [cap.file_off, file end) -- the section header table and, as GNU
 * ld and lld lay files out, every non-loaded section (.symtab, .strtab,
 * ...) -- is copied to cap.dest, which the boot flow picks and claims.
 */
struct image_syms {
    uint32_t num, size, shndx; /* e_shnum, e_shentsize, e_shstrndx */
    uint32_t shoff;            /* e_shoff: the table's file offset */
    bool is64;                 /* ELF64 section headers */
    struct load_seg cap;       /* the captured tail; dest set by caller */
};

/** A load plan: what image_feed copies and where execution starts. */
struct image_plan {
    const char *format; /* "multiboot ELF32", ... */
    struct mb_header mb;
    uint32_t entry;
    struct load_seg seg[IMAGE_MAX_SEGS];
    unsigned nseg;
    uint32_t lowest, highest; /* span of all segments [lowest, highest) */
    uint32_t file_need;       /* the file must be at least this long */
    bool has_syms;            /* ELF section headers to pass (bit 5) */
    struct image_syms syms;
    bool is_mb2;              /* a Multiboot2 kernel: mb2 is its header
                                 (mb holds its framebuffer request) */
    struct mb2_header mb2;
    bool relocated;           /* moved as its relocatable tag allows */
    uint32_t load_base;       /* ... to here (the lowest byte) */
};

/**
 * Plan one kind of kernel image: fill @plan from the file's first @len
 * bytes (@file_size: its whole size, 0 if unknown).  Returns 0,
 * -PE_NOEXEC when the file is not of this kind, or another negative
 * pulsar_err with a message in @err (@errlen bytes).
 */
typedef int (*image_plan_fn)(const uint8_t *prefix, size_t len,
                             uint32_t file_size, struct image_plan *plan,
                             char *err, size_t errlen);

/** One image format, as iPXE's image types: a name and its planner. */
struct image_type {
    const char *name;
    image_plan_fn plan;
};

/** Every format Pulsar boots, tried in order; ends with a NULL name. */
extern const struct image_type image_types[];

/**
 * Plan @prefix with the first format in image_types[] that recognises
 * it.  When none does, returns -PE_NOEXEC with the first format's reason
 * (e.g. no multiboot header) in @err.
 */
int image_plan(const uint8_t *prefix, size_t len, uint32_t file_size,
               struct image_plan *plan, char *err, size_t errlen);

/**
 * Find and verify the multiboot header in @prefix.
 * Returns 0, -PE_NOEXEC (none found) or -PE_INVAL (bad checksum); on error
 * writes a message into @err (@errlen bytes).
 */
int mb_find_header(const uint8_t *prefix, size_t len, struct mb_header *mb,
                   char *err, size_t errlen);

/**
 * Plan the load of a multiboot kernel whose first @len bytes are @prefix
 * (the whole file when it is shorter than IMAGE_PREFIX): an ELF32 or
 * ELF64 image by its program headers, or any image by its a.out kludge
 * address fields (header flag bit 16, which wins over ELF as in the
 * spec and GRUB 2).  @file_size is the size TFTP announced, or 0 when
 * unknown (an a.out kludge image and the section headers need it).
 * Refuses header flags Pulsar cannot honour, naming the bit.  Returns 0,
 * -PE_NOEXEC when there is no multiboot header, or a negative pulsar_err;
 * a message in @err either way.
 */
int image_plan_multiboot(const uint8_t *prefix, size_t len,
                         uint32_t file_size, struct image_plan *plan,
                         char *err, size_t errlen);

/**
 * Plan the load of a Multiboot2 kernel (header in the first MB2_SEARCH
 * bytes): by its address and entry tags when it has an address tag,
 * else by its ELF32 or ELF64 program headers (an entry tag overrides
 * e_entry).  @gives: the info tags the face can give (mb2hdr.h).  The
 * plan is at the linked addresses; a relocatable kernel is moved by the
 * caller, which knows the free memory (image_relocate).  Returns as
 * image_plan_multiboot.
 */
int image_plan_multiboot2(const uint8_t *prefix, size_t len,
                          uint32_t file_size, uint32_t gives,
                          struct image_plan *plan, char *err, size_t errlen);

/** Move every planned segment and the entry so the image starts at @base. */
void image_relocate(struct image_plan *plan, uint32_t base);

/** Copy callback: put @n bytes of @src at physical @dest. */
typedef void (*image_write_fn)(void *ctx, uint32_t dest, const void *src,
                               size_t n);

/**
 * Route the file bytes [@off, @off+@len) to every segment they belong to,
 * and to the section-header capture when plan->has_syms.  Bytes outside
 * all of them are dropped.  Never writes outside the plan.
 */
void image_feed(const struct image_plan *plan, uint32_t off,
                const uint8_t *data, size_t len, image_write_fn write,
                void *ctx);

/** The [dest+filesz, dest+memsz) parts each segment needs zeroed. */
typedef void (*image_zero_fn)(void *ctx, uint32_t dest, size_t n);
void image_zero_bss(const struct image_plan *plan, image_zero_fn zero,
                    void *ctx);

/**
 * After the whole file went through image_feed: point every section
 * that has no address (sh_addr 0) and a size at its copy in the capture,
 * as GRUB does, by rewriting sh_addr in the captured table @cap (the
 * bytes at plan->syms.cap.dest, as the caller can reach them).  Sections
 * whose bytes lie before the capture keep sh_addr 0.  Returns the number
 * of sections given an address.  Sets *@table to the table's physical
 * address.
 */
unsigned image_syms_fixup(const struct image_plan *plan, uint8_t *cap,
                          uint32_t *table);

#endif
