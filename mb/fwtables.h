/*
 * Finding the firmware's tables a Multiboot2 kernel is given copies of:
 * the ACPI RSDP and the SMBIOS entry point.  The faces read the memory
 * (on a BIOS: the EBDA's first KiB and E0000-FFFFF, F0000-FFFFF) and
 * these pure functions search it, checking signatures, lengths and
 * checksums, so a stray signature is never passed on.
 */
#ifndef PULSAR_FWTABLES_H
#define PULSAR_FWTABLES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A table found in a searched area. */
struct fw_table {
    size_t off;    /* where it starts in the area */
    uint32_t len;  /* its length in bytes */
    uint8_t major, minor; /* SMBIOS version; ACPI: the RSDP revision */
};

/**
 * The ACPI RSDP in @area (@len bytes, searched on 16-byte boundaries):
 * "RSD PTR ", the ACPI 1.0 checksum over 20 bytes and, for revision 2 and
 * later, the extended checksum over its length.  Returns 0 or -PE_NOENT.
 */
int fw_find_rsdp(const uint8_t *area, size_t len, struct fw_table *t);

/**
 * The SMBIOS entry point in @area (16-byte boundaries): a 64-bit "_SM3_"
 * one first, else a 32-bit "_SM_" one, each with its checksum over its
 * own length.  Returns 0 or -PE_NOENT.
 */
int fw_find_smbios(const uint8_t *area, size_t len, struct fw_table *t);
#endif
