/* The Multiboot2 header; see mb2hdr.h. */
#include <stdio.h>
#include <string.h>

#include "lib/endian.h"
#include "lib/errno.h"
#include "loader/mb2hdr.h"

#define MB2H_FIXED 16 /* magic, architecture, header_length, checksum */
#define MB2H_TAG 8    /* u16 type, u16 flags, u32 size */
/* Console flags (tag 4). */
#define MB2_CONSOLE_REQUIRED 1u
#define MB2_CONSOLE_EGA_TEXT 2u

/* Fill the caller's message buffer, if any (err/errlen in scope). */
#define MB2_ERR(...)                                                       \
    do {                                                                   \
        if (err && errlen)                                                 \
            snprintf(err, errlen, __VA_ARGS__);                            \
    } while (0)

/** The name of info tag @type; see mb2hdr.h. */
const char *mb2_tag_name(uint32_t type)
{
    static const char *const names[MB2_TAG_TYPES] = {
        "end", "command line", "boot loader name", "modules",
        "basic memory", "BIOS boot device", "memory map",
        "VBE", "framebuffer", "ELF sections",
        "APM table", "EFI 32-bit system table", "EFI 64-bit system table",
        "SMBIOS tables", "ACPI old RSDP", "ACPI new RSDP",
        "network (DHCP ACK)", "EFI memory map",
        "EFI boot services not terminated", "EFI 32-bit image handle",
        "EFI 64-bit image handle", "image load base address",
    };
    return type < MB2_TAG_TYPES ? names[type] : "unknown";
}

/** The first header's offset (magic at an 8-byte boundary), or -1. */
static long mb2_find(const uint8_t *prefix, size_t len)
{
    size_t lim = len < MB2_SEARCH ? len : MB2_SEARCH;
    size_t off;

    for (off = 0; off + MB2H_FIXED <= lim; off += 8)
        if (le32(prefix + off) == MB2_HEADER_MAGIC)
            return (long)off;
    return -1;
}

/** Is there a Multiboot2 header; see mb2hdr.h. */
bool mb2_present(const uint8_t *prefix, size_t len)
{
    return mb2_find(prefix, len) >= 0;
}

/** The bytes a header tag of @type needs at least (0: any size >= 8). */
static uint32_t mb2_tag_min(uint16_t type)
{
    switch (type) {
    case MB2_HTAG_ADDRESS:
    case MB2_HTAG_RELOCATABLE:
        return 24;
    case MB2_HTAG_FRAMEBUFFER:
        return 20;
    case MB2_HTAG_ENTRY:
    case MB2_HTAG_CONSOLE:
    case MB2_HTAG_ENTRY_EFI32:
    case MB2_HTAG_ENTRY_EFI64:
        return 12;
    default:
        return MB2H_TAG;
    }
}

/** Check the information request tag at @t (@size bytes). */
static int mb2_requests(const uint8_t *t, uint32_t size, bool optional,
                        uint32_t gives, struct mb2_header *h, char *err,
                        size_t errlen)
{
    uint32_t i, type;

    for (i = MB2H_TAG; i + 4 <= size; i += 4) {
        type = le32(t + i);
        if (type < 32)
            h->requested |= 1u << type;
        if (optional || (type < 32 && (gives & (1u << type))))
            continue;
        MB2_ERR("multiboot2 header at 0x%x: the kernel requires the %s "
                "information tag (type %u), which Pulsar cannot give here",
                (unsigned)h->offset, mb2_tag_name(type), (unsigned)type);
        return -PE_UNSUPP;
    }
    return 0;
}

/** Read one header tag of known @type at @t into @h. */
static int mb2_tag(const uint8_t *t, uint16_t type, uint32_t size,
                   bool optional, uint32_t gives, struct mb2_header *h,
                   char *err, size_t errlen)
{
    switch (type) {
    case MB2_HTAG_INFO_REQ:
        return mb2_requests(t, size, optional, gives, h, err, errlen);
    case MB2_HTAG_ADDRESS:
        h->has_address = true;
        h->header_addr = le32(t + 8);
        h->load_addr = le32(t + 12);
        h->load_end_addr = le32(t + 16);
        h->bss_end_addr = le32(t + 20);
        return 0;
    case MB2_HTAG_ENTRY:
        h->has_entry = true;
        h->entry = le32(t + 8);
        return 0;
    case MB2_HTAG_CONSOLE:
        h->has_console = true;
        h->console_flags = le32(t + 8);
        return 0;
    case MB2_HTAG_FRAMEBUFFER:
        h->has_fb = true;
        h->fb_optional = optional;
        h->fb_width = le32(t + 8);
        h->fb_height = le32(t + 12);
        h->fb_depth = le32(t + 16);
        return 0;
    case MB2_HTAG_MODULE_ALIGN:
        h->mod_align = true;
        return 0;
    case MB2_HTAG_EFI_BS:
        h->efi_bs = true;
        return 0;
    case MB2_HTAG_ENTRY_EFI32:
        h->has_efi32 = true;
        h->efi32_entry = le32(t + 8);
        return 0;
    case MB2_HTAG_ENTRY_EFI64:
        h->has_efi64 = true;
        h->efi64_entry = le32(t + 8);
        return 0;
    case MB2_HTAG_RELOCATABLE:
        h->relocatable = true;
        h->reloc_min = le32(t + 8);
        h->reloc_max = le32(t + 12);
        h->reloc_align = le32(t + 16);
        h->reloc_pref = le32(t + 20);
        if (h->reloc_align & (h->reloc_align - 1)) {
            MB2_ERR("multiboot2 header at 0x%x: relocatable tag: alignment "
                    "0x%x is not a power of two", (unsigned)h->offset,
                    (unsigned)h->reloc_align);
            return -PE_INVAL;
        }
        if (h->reloc_min > h->reloc_max || h->reloc_pref > MB2_RELOC_HIGHEST) {
            MB2_ERR("multiboot2 header at 0x%x: relocatable tag: range "
                    "0x%x-0x%x or preference %u is invalid",
                    (unsigned)h->offset, (unsigned)h->reloc_min,
                    (unsigned)h->reloc_max, (unsigned)h->reloc_pref);
            return -PE_INVAL;
        }
        return 0;
    default:
        return 0; /* the caller handles unknown types */
    }
}

/** Walk the tags of the header at @b (h->length bytes) into @h. */
static int mb2_walk(const uint8_t *b, uint32_t gives, struct mb2_header *h,
                    char *err, size_t errlen)
{
    const uint8_t *p = b + MB2H_FIXED, *end = b + h->length;

    while ((size_t)(end - p) >= MB2H_TAG) {
        uint16_t type = le16(p), flags = le16(p + 2);
        uint32_t size = le32(p + 4);
        uint32_t at = h->offset + (uint32_t)(p - b); /* for messages */
        bool optional = flags & MB2_HTAG_OPTIONAL;
        int rc;

        if (size < MB2H_TAG || size > (size_t)(end - p)) {
            MB2_ERR("multiboot2 header tag at 0x%x: size %u is outside "
                    "the header (%u bytes left)", (unsigned)at,
                    (unsigned)size, (unsigned)(end - p));
            return -PE_INVAL;
        }
        if (type == MB2_HTAG_END)
            return 0;
        if (type > MB2_HTAG_RELOCATABLE) {
            if (optional) {
                p += (size + 7) & ~7u;
                continue;
            }
            MB2_ERR("multiboot2 header tag at 0x%x: type %u is unknown to "
                    "Pulsar and not marked optional", (unsigned)at,
                    (unsigned)type);
            return -PE_UNSUPP;
        }
        if (size < mb2_tag_min(type)) {
            MB2_ERR("multiboot2 header tag at 0x%x: type %u needs %u "
                    "bytes, has %u", (unsigned)at, (unsigned)type,
                    (unsigned)mb2_tag_min(type), (unsigned)size);
            return -PE_INVAL;
        }
        if ((rc = mb2_tag(p, type, size, optional, gives, h, err, errlen)))
            return rc;
        /* Tags start 8-byte aligned; the last may end without padding. */
        if ((size_t)(end - p) < ((size + 7) & ~7u))
            break;
        p += (size + 7) & ~7u;
    }
    MB2_ERR("multiboot2 header at 0x%x: no end tag within its %u bytes",
            (unsigned)h->offset, (unsigned)h->length);
    return -PE_INVAL;
}

/** Find, check and read the header; see mb2hdr.h. */
int mb2_parse_header(const uint8_t *prefix, size_t len, uint32_t gives,
                     struct mb2_header *h, char *err, size_t errlen)
{
    size_t lim = len < MB2_SEARCH ? len : MB2_SEARCH;
    long found = mb2_find(prefix, len);
    const uint8_t *b;
    uint32_t arch, hlen;
    int rc;

    memset(h, 0, sizeof(*h));
    if (found < 0) {
        MB2_ERR("no multiboot2 header in the first %u bytes",
                (unsigned)MB2_SEARCH);
        return -PE_NOEXEC;
    }
    b = prefix + found;
    h->offset = (uint32_t)found;
    arch = le32(b + 4);
    hlen = le32(b + 8);
    if ((uint32_t)(MB2_HEADER_MAGIC + arch + hlen + le32(b + 12)) != 0) {
        MB2_ERR("multiboot2 header at 0x%x: bad checksum", (unsigned)found);
        return -PE_INVAL;
    }
    if (arch != MB2_ARCH_I386) {
        MB2_ERR("multiboot2 header at 0x%x: architecture %u is not i386 "
                "(0)", (unsigned)found, (unsigned)arch);
        return -PE_UNSUPP;
    }
    if (hlen < MB2H_FIXED + MB2H_TAG || hlen > lim - (size_t)found) {
        MB2_ERR("multiboot2 header at 0x%x: length %u is not between %u and "
                "the %u bytes left of the first %u", (unsigned)found,
                (unsigned)hlen, MB2H_FIXED + MB2H_TAG,
                (unsigned)(lim - (size_t)found), (unsigned)lim);
        return -PE_INVAL;
    }
    h->length = hlen;
    if ((rc = mb2_walk(b, gives, h, err, errlen)))
        return rc;
    if (h->has_console && (h->console_flags & MB2_CONSOLE_REQUIRED) &&
        !(h->console_flags & MB2_CONSOLE_EGA_TEXT) && !h->has_fb) {
        MB2_ERR("multiboot2 header at 0x%x: the kernel requires a console "
                "but supports no EGA text and asks for no framebuffer",
                (unsigned)found);
        return -PE_UNSUPP;
    }
    return 0;
}

/** How a Multiboot2 kernel is entered on UEFI; see mb2hdr.h. */
enum mb2_efi_mode mb2_efi_entry(const struct mb2_header *h,
                                const uint8_t *prefix, size_t len)
{
    if (!h->efi_bs)
        return MB2_EFI_EXIT32;
    if (h->has_efi64)
        return MB2_EFI_BS_EFI64;
    if (!h->has_address && len > 4 && !memcmp(prefix, "\177ELF", 4) &&
        prefix[4] == 2) /* EI_CLASS: ELFCLASS64 */
        return MB2_EFI_BS_ELF64;
    return MB2_EFI_EXIT32;
}

/** The name of @mode; see mb2hdr.h. */
const char *mb2_efi_mode_str(enum mb2_efi_mode mode)
{
    switch (mode) {
    case MB2_EFI_BS_EFI64:
        return "boot services kept, 64-bit at the amd64 EFI entry";
    case MB2_EFI_BS_ELF64:
        return "boot services kept, 64-bit at the ELF64 entry";
    default:
        return "boot services exited, 32-bit protected mode";
    }
}
