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

/** Everything the builder needs to know. */
struct mbi_input {
    uint32_t mem_lower, mem_upper; /* KiB */
    const struct e820_entry *map;  /* E820 as the BIOS gave it */
    unsigned nmap;
    const char *cmdline;           /* kernel cmdline */
    const struct mbi_module *mods;
    unsigned nmods;
    const char *loader_name;
};

/**
 * Bytes the info for @in needs (all parts, with alignment padding);
 * SIZE_MAX when the sizes overflow, so no buffer is ever big enough.
 */
size_t mbi_size(const struct mbi_input *in);

/**
 * Build the info into @buf (@size bytes, at physical address @phys).
 * Every pointer in it is a physical address inside [phys, phys+size).
 * @info_phys: out: the address to pass in EBX.
 * Returns 0, -PE_NOMEM when @size is too small, or -PE_RANGE when the
 * info would not end at or below 4 GiB.
 */
int mbi_build(const struct mbi_input *in, void *buf, uint32_t phys,
              size_t size, uint32_t *info_phys);

#endif
