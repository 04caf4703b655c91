/*
 * The Multiboot2 header (Multiboot specification 2.0, section 3.1): where
 * it is, what its tags ask for.  The header comes with a kernel from the
 * network, so every length, tag size and field is checked before use.
 * What the kernel asks and Pulsar cannot give is refused here by name;
 * loader/image.c turns the result into a load plan.  Pure C.
 */
#ifndef PULSAR_MB2HDR_H
#define PULSAR_MB2HDR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The header must lie 8-byte aligned within the first this-many bytes. */
#define MB2_SEARCH 32768
#define MB2_HEADER_MAGIC 0xE85250D6u
#define MB2_BOOT_MAGIC 0x36D76289u
/** Architecture 0: 32-bit (protected mode) i386. */
#define MB2_ARCH_I386 0

/* Header tag types (spec 3.1.3 - 3.1.13). */
enum mb2_htag {
    MB2_HTAG_END = 0,
    MB2_HTAG_INFO_REQ = 1,
    MB2_HTAG_ADDRESS = 2,
    MB2_HTAG_ENTRY = 3,
    MB2_HTAG_CONSOLE = 4,
    MB2_HTAG_FRAMEBUFFER = 5,
    MB2_HTAG_MODULE_ALIGN = 6,
    MB2_HTAG_EFI_BS = 7,
    MB2_HTAG_ENTRY_EFI32 = 8,
    MB2_HTAG_ENTRY_EFI64 = 9,
    MB2_HTAG_RELOCATABLE = 10,
};
#define MB2_HTAG_OPTIONAL 1u /* tag flags bit 0 */

/* Information tag types (spec 3.6). */
enum mb2_itag {
    MB2_TAG_END = 0,
    MB2_TAG_CMDLINE = 1,
    MB2_TAG_LOADER = 2,
    MB2_TAG_MODULE = 3,
    MB2_TAG_MEMINFO = 4,
    MB2_TAG_BOOTDEV = 5,
    MB2_TAG_MMAP = 6,
    MB2_TAG_VBE = 7,
    MB2_TAG_FRAMEBUFFER = 8,
    MB2_TAG_ELF_SECTIONS = 9,
    MB2_TAG_APM = 10,
    MB2_TAG_EFI32 = 11,
    MB2_TAG_EFI64 = 12,
    MB2_TAG_SMBIOS = 13,
    MB2_TAG_ACPI_OLD = 14,
    MB2_TAG_ACPI_NEW = 15,
    MB2_TAG_NETWORK = 16,
    MB2_TAG_EFI_MMAP = 17,
    MB2_TAG_EFI_BS = 18,
    MB2_TAG_EFI32_IH = 19,
    MB2_TAG_EFI64_IH = 20,
    MB2_TAG_LOAD_BASE = 21,
    MB2_TAG_TYPES = 22, /* one past the last type the spec defines */
};

/* Relocatable tag preference (spec 3.1.13). */
#define MB2_RELOC_NONE 0
#define MB2_RELOC_LOWEST 1
#define MB2_RELOC_HIGHEST 2

/** What a Multiboot2 header says. */
struct mb2_header {
    uint32_t offset;  /* in the file */
    uint32_t length;  /* header_length, tags included */
    uint32_t requested; /* bit n: info tag n asked for (required or not) */
    bool has_address; /* tag 2: the a.out-kludge analogue */
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
    bool has_entry;   /* tag 3 */
    uint32_t entry;
    bool has_console; /* tag 4 */
    uint32_t console_flags;
    bool has_fb;      /* tag 5 */
    uint32_t fb_width, fb_height, fb_depth;
    bool fb_optional;
    bool mod_align;   /* tag 6 */
    bool efi_bs;      /* tag 7: keep the EFI boot services */
    bool has_efi32, has_efi64; /* tags 8, 9 */
    uint32_t efi32_entry, efi64_entry;
    bool relocatable; /* tag 10 */
    uint32_t reloc_min, reloc_max, reloc_align, reloc_pref;
};

/** Info tags Pulsar can give on a BIOS (bit n: tag n). */
#define MB2_BIOS_GIVES                                                     \
    ((1u << MB2_TAG_CMDLINE) | (1u << MB2_TAG_LOADER) |                    \
     (1u << MB2_TAG_MODULE) | (1u << MB2_TAG_MEMINFO) |                    \
     (1u << MB2_TAG_MMAP) | (1u << MB2_TAG_VBE) |                          \
     (1u << MB2_TAG_FRAMEBUFFER) | (1u << MB2_TAG_ELF_SECTIONS) |          \
     (1u << MB2_TAG_SMBIOS) | (1u << MB2_TAG_ACPI_OLD) |                   \
     (1u << MB2_TAG_ACPI_NEW) | (1u << MB2_TAG_NETWORK) |                  \
     (1u << MB2_TAG_LOAD_BASE))

/** Info tags Pulsar can give on UEFI: no VBE (7), the EFI ones instead.
 *  Tags 18 and 20 are given only to a kernel with the EFI boot services
 *  tag (7), which keeps them; a required request for them without it is
 *  refused (mb2_efi_gives). */
#define MB2_EFI_GIVES                                                      \
    ((MB2_BIOS_GIVES & ~(1u << MB2_TAG_VBE)) | (1u << MB2_TAG_EFI64) |     \
     (1u << MB2_TAG_EFI_MMAP))
#define MB2_EFI_BS_GIVES                                                   \
    ((1u << MB2_TAG_EFI_BS) | (1u << MB2_TAG_EFI64_IH))

/** The name of info tag @type, for messages ("EFI memory map", ...). */
const char *mb2_tag_name(uint32_t type);

/**
 * Is there a Multiboot2 header (magic, 8-byte aligned) in the first
 * MB2_SEARCH bytes of @prefix (@len bytes)?  Says nothing of its checksum.
 */
bool mb2_present(const uint8_t *prefix, size_t len);

/**
 * Find, check and read the Multiboot2 header in @prefix (@len bytes; the
 * header must lie within them and the first MB2_SEARCH bytes).  @gives:
 * the info tags the face can give (bit n: tag n); a required request for
 * another is refused by name.  Returns 0, -PE_NOEXEC (no header),
 * -PE_INVAL (malformed) or -PE_UNSUPP (asks what Pulsar cannot do), with
 * a message in @err (@errlen bytes).
 */
int mb2_parse_header(const uint8_t *prefix, size_t len, uint32_t gives,
                     struct mb2_header *h, char *err, size_t errlen);

/** How a Multiboot2 kernel is entered on UEFI (mb2_efi_entry). */
enum mb2_efi_mode {
    MB2_EFI_EXIT32,    /* boot services exited, 32-bit protected mode */
    MB2_EFI_BS_EFI64,  /* boot services kept, 64-bit: amd64 EFI entry */
    MB2_EFI_BS_ELF64,  /* boot services kept, 64-bit: its ELF64 entry */
};

/**
 * The rule for the header @h of a file whose first @len bytes are
 * @prefix: a kernel with the EFI boot services tag (7) keeps them and is
 * entered in 64-bit mode at its amd64 EFI entry (tag 9), else at the
 * entry of an ELF64 image (as GRUB does: NOVA); one whose entry can only
 * be 32-bit code (ELF32, the address tag) is entered as one without tag
 * 7 would be: the tag says it supports starting with the boot services,
 * not that it needs them.
 */
enum mb2_efi_mode mb2_efi_entry(const struct mb2_header *h,
                                const uint8_t *prefix, size_t len);

/** The name of @mode for the boot log and pulsar-check. */
const char *mb2_efi_mode_str(enum mb2_efi_mode mode);
#endif
