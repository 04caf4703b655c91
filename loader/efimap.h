/*
 * The UEFI memory map as the placer and the multiboot info want it: E820
 * entries.  Pure C with the UEFI memory types as plain numbers (UEFI 2.x,
 * EFI_MEMORY_TYPE), so the conversion is unit-tested on the host and
 * pulsar-check can plan against a UEFI map; boot/efi/memory.c feeds it
 * the firmware's descriptors.
 *
 * After ExitBootServices, boot services code and data, loader code and
 * data and conventional memory are free for the kernel: E820_RAM.  ACPI
 * reclaim memory and ACPI NVS keep their E820 types, unusable memory is
 * E820_BAD, everything else (runtime services, MMIO, reserved, persistent
 * memory, types Pulsar does not know) is E820_RESERVED.
 */
#ifndef PULSAR_EFIMAP_H
#define PULSAR_EFIMAP_H
#include <stdint.h>
#include "loader/place.h"

enum efimap_type {
    EFIMAP_RESERVED = 0,
    EFIMAP_LOADER_CODE = 1,
    EFIMAP_LOADER_DATA = 2,
    EFIMAP_BS_CODE = 3,
    EFIMAP_BS_DATA = 4,
    EFIMAP_RT_CODE = 5,
    EFIMAP_RT_DATA = 6,
    EFIMAP_CONVENTIONAL = 7,
    EFIMAP_UNUSABLE = 8,
    EFIMAP_ACPI_RECLAIM = 9,
    EFIMAP_ACPI_NVS = 10,
    EFIMAP_MMIO = 11,
    EFIMAP_MMIO_PORT = 12,
    EFIMAP_PAL_CODE = 13,
    EFIMAP_PERSISTENT = 14,
};

#define EFIMAP_PAGE 4096ull

/** The E820 type a UEFI memory type has after ExitBootServices. */
uint32_t efimap_e820_type(uint32_t efi_type);

/** A map being built: up to @max entries in @map, sorted by base. */
struct efimap {
    struct e820_entry *map;
    unsigned n, max;
};

/**
 * Add the descriptor (@efi_type, @base, @pages) in base order; an empty
 * one is skipped.  Returns 0, or -PE_RANGE when the map is full or the
 * range would reach 2^64.
 */
int efimap_add(struct efimap *m, uint32_t efi_type, uint64_t base,
               uint64_t pages);

/**
 * Merge neighbours of one type that touch (the firmware splits its RAM
 * into many descriptors; mem_upper is the RAM at 1 MiB as one range).
 * Returns the new count (also in m->n).
 */
unsigned efimap_merge(struct efimap *m);
#endif
