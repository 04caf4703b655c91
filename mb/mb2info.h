/*
 * The Multiboot2 boot information (Multiboot specification 2.0, section
 * 3.6): a total size, then 8-byte aligned tags ending in the end tag.
 * As mb/mbinfo.h, everything goes into one buffer whose physical address
 * is given, so the host tests it with an ordinary array and the faces
 * write it into a range the placer claimed.  The firmware facts (SMBIOS,
 * ACPI, the DHCP ACK, the framebuffer) come in as bytes the face found;
 * the EFI tags are for the UEFI face to add through the same input.
 */
#ifndef PULSAR_MB2INFO_H
#define PULSAR_MB2INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "loader/place.h"
#include "mb/fwtables.h"
#include "mb/mbinfo.h"

/** One block of bytes to copy into a tag (NULL or 0 bytes: no tag). */
struct mb2i_blob {
    const uint8_t *data;
    uint32_t len;
};

/** Everything the builder needs to know. */
struct mb2i_input {
    const char *cmdline;           /* tag 1 */
    const char *loader_name;       /* tag 2 */
    const struct mbi_module *mods; /* tag 3, one per module */
    unsigned nmods;
    uint32_t mem_lower, mem_upper; /* tag 4, KiB */
    const struct e820_entry *map;  /* tag 6 (empty entries left out) */
    unsigned nmap;
    unsigned map_room;             /* size for at least this many entries
                                      (a map re-read before the build) */
    struct mb2i_blob shdrs;        /* tag 9: the section header table */
    uint32_t sh_num, sh_entsize, sh_shndx;
    const struct mbi_video *video; /* tags 7 (has_vbe), 8 (has_fb) */
    struct mb2i_blob smbios;       /* tag 13: the entry point structure */
    uint8_t smbios_major, smbios_minor;
    struct mb2i_blob rsdp_old;     /* tag 14: ACPI 1.0 RSDP (20 bytes) */
    struct mb2i_blob rsdp_new;     /* tag 15: ACPI 2.0+ RSDP (its length) */
    struct mb2i_blob dhcp_ack;     /* tag 16: the DHCP ACK as received */
    bool has_load_base;            /* tag 21: a relocated image's base */
    uint32_t load_base;
    /* What only a UEFI face gives (none on a BIOS). */
    bool has_efi64_st;             /* tag 12: the EFI system table */
    uint64_t efi64_st;
    struct mb2i_blob efi_mmap;     /* tag 17: the EFI memory map as the */
    uint32_t efi_desc_size;        /*  firmware gave it, with its */
    uint32_t efi_desc_version;     /*  descriptor size and version */
    bool efi_bs_kept;              /* tag 18: boot services not exited */
    bool has_efi64_ih;             /* tag 20: the image handle */
    uint64_t efi64_ih;
};

/** Tags 14 and 15 from the RSDP @t found in @area (mb/fwtables.h): its
 *  ACPI 1.0 part, and the whole of a revision 2 or later one. */
void mb2i_set_rsdp(struct mb2i_input *in, const uint8_t *area,
                   const struct fw_table *t);

/** Tag 13 from the SMBIOS entry point @t found in @area. */
void mb2i_set_smbios(struct mb2i_input *in, const uint8_t *area,
                     const struct fw_table *t);

/** Bytes the info for @in needs; SIZE_MAX when the sizes overflow. */
size_t mb2i_size(const struct mb2i_input *in);

/**
 * Build the info into @buf (@size bytes, at physical address @phys, which
 * must be 8-byte aligned).  Returns 0, -PE_NOMEM when @size is too small,
 * -PE_INVAL when @phys is misaligned, or -PE_RANGE when the info would
 * not end below 4 GiB.
 */
int mb2i_build(const struct mb2i_input *in, void *buf, uint32_t phys,
               size_t size);
#endif
