/*
 * The headers of an EFI boot program (PE32+), checked before `chld` on
 * UEFI hands the file to the firmware's LoadImage.  The file comes from
 * the network: every offset and size in it is checked against the bytes
 * there are before it is followed.  Pure C, host-tested and fuzzed
 * (tests/unit/test_pe.c, tests/fuzz/fuzz_pe.c).
 */
#ifndef PULSAR_PE_H
#define PULSAR_PE_H
#include <stddef.h>
#include <stdint.h>

/** The most header bytes pe_check reads: DOS header, PE header, the
 *  optional header and the section table must lie within them. */
#define PE_HEAD_MAX 4096u

/** COFF machine types named in the messages. */
#define PE_MACHINE_I386 0x014cu
#define PE_MACHINE_X64 0x8664u
#define PE_MACHINE_ARM64 0xaa64u

/** The optional header's magic for PE32+ (64-bit images). */
#define PE_MAGIC_PE32PLUS 0x020bu
/** Subsystem of an EFI application (what StartImage runs and returns). */
#define PE_SUBSYSTEM_EFI_APP 10u

/** What pe_check found out about a good image. */
struct pe_info {
    uint16_t machine;
    uint16_t subsystem;
    uint16_t nsections;
    uint32_t size_of_image;  /* the image's size once loaded */
    uint32_t entry;          /* AddressOfEntryPoint (an RVA) */
};

/**
 * Check that the @have first bytes of a file of @file_size bytes (@have
 * <= @file_size) start an x86-64 EFI application PE32+ image that the
 * firmware can load: MZ, the PE signature at e_lfanew, machine x86-64, a
 * PE32+ optional header of subsystem EFI application, headers and
 * section table within the first PE_HEAD_MAX bytes and within @have,
 * every section's raw data within the file and its memory within
 * SizeOfImage, the entry point inside the image.  Returns 0 with @info
 * filled, or -PE_NOEXEC with the reason (no prefix; "no MZ header: ...")
 * in @why.
 */
int pe_check(const uint8_t *head, size_t have, uint64_t file_size,
             struct pe_info *info, char *why, size_t len);
#endif
