/*
 * The multiboot information builder.  It lays out the info structure, the
 * module list, the memory map and every string in one buffer whose
 * physical address is given, so on the host it is tested with an ordinary
 * array and in the NBP it writes to a range the placer handed out.
 */
#ifndef PULSAR_MBINFO_H
#define PULSAR_MBINFO_H

#include <stddef.h>
#include <stdint.h>
#include "loader/place.h"

struct mbi_module {
    uint32_t start, end; /* [start, end) physical */
    const char *cmdline;
};

/** VBE and framebuffer facts (flags bits 11 and 12); see boot/bios/video.h. */
struct mbi_video {
    bool has_vbe;               /* bit 11: the VBE blocks below are valid */
    uint8_t control[512];       /* INT 10h 4F00 controller info */
    uint8_t mode[256];          /* INT 10h 4F01 mode info */
    uint16_t mode_nr;           /* the VBE mode number (3: text) */
    uint16_t if_seg, if_off, if_len; /* 4F0A protected-mode interface */
    bool has_fb;                /* bit 12 */
    uint64_t fb_addr;
    uint32_t fb_pitch, fb_width, fb_height;
    uint8_t fb_bpp, fb_type;    /* MB_FB_* */
    uint8_t fb_color[6];
};

/** Everything the builder needs to know. */
struct mbi_input {
    uint32_t mem_lower, mem_upper; /* KiB */
    const struct e820_entry *map;  /* E820 as the BIOS gave it */
    unsigned nmap;
    unsigned map_room;             /* room for at least this many map
                                      entries (mbi_size before a map
                                      re-read; 0 for mbi_build, or the
                                      info lists empty entries) */
    const char *cmdline;           /* kernel cmdline */
    const struct mbi_module *mods;
    unsigned nmods;
    const char *loader_name;
    bool has_syms;                 /* flags bit 5: ELF section headers */
    uint32_t syms[4];              /* num, size, addr, shndx */
    uint32_t config_table;         /* INT 15h C0h table; 0 = none */
    const struct mbi_video *video; /* NULL: no bits 11/12 */
};

/**
 * Bytes the info for @in needs (all parts, with alignment padding);
 * SIZE_MAX when the sizes overflow, so no buffer is ever big enough.
 */
size_t mbi_size(const struct mbi_input *in);

/**
 * Build the info into @buf (@size bytes, at physical address @phys).
 * Every pointer it creates is a physical address inside [phys,
 * phys+size); the ones handed in (syms, config_table, the framebuffer)
 * are copied as they are.  The drive list is empty but valid (flags bit 7).
 * @info_phys: out: the address to pass in EBX.
 * Returns 0, -PE_NOMEM when @size is too small, or -PE_RANGE when the
 * info would not end at or below 4 GiB.
 */
int mbi_build(const struct mbi_input *in, void *buf, uint32_t phys,
              size_t size, uint32_t *info_phys);

#endif
