/*
 * Checking an EFI boot program's PE32+ headers; see pe.h.  Offsets are
 * those of the PE/COFF specification (rev. 11): the DOS header's e_lfanew
 * at 0x3c; at e_lfanew the signature "PE\0\0" and the 20-byte COFF file
 * header; then the optional header (PE32+ layout) and the section table.
 */
#include "loader/pe.h"
#include "lib/errno.h"
#include <stdarg.h>
#include <stdio.h>

#define DOS_LFANEW 0x3c
#define DOS_HEADER 64u
#define COFF_SIZE 20u
/* COFF file header fields, from the signature's end. */
#define COFF_MACHINE 0
#define COFF_NSECTIONS 2
#define COFF_OPT_SIZE 16
#define COFF_FLAGS 18
#define COFF_EXECUTABLE 0x0002u
/* PE32+ optional header fields. */
#define OPT_MAGIC 0
#define OPT_ENTRY 16
#define OPT_SIZE_OF_IMAGE 56
#define OPT_SIZE_OF_HEADERS 60
#define OPT_SUBSYSTEM 68
#define OPT_NDIRS 108
#define OPT_FIXED 112u /* the PE32+ optional header before its directories */
#define OPT_MAGIC_PE32 0x010bu
/* Section header fields. */
#define SEC_SIZE 40u
#define SEC_VSIZE 8
#define SEC_VADDR 12
#define SEC_RAWSIZE 16
#define SEC_RAWPTR 20
/** The PE/COFF specification's limit, which loaders enforce. */
#define PE_SECTIONS_MAX 96u

static uint16_t rd16(const uint8_t *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

/** The name of a COFF machine type, for "a PE image for <name>". */
static const char *machine_name(uint16_t m)
{
    switch (m) {
    case PE_MACHINE_I386:
        return "IA-32";
    case 0x01c2:
        return "ARM";
    case 0x01c4:
        return "ARM Thumb-2";
    case PE_MACHINE_ARM64:
        return "AArch64";
    case 0x0200:
        return "Itanium";
    case 0x5064:
        return "RISC-V 64";
    case 0x6264:
        return "LoongArch 64";
    default:
        return "an unknown machine";
    }
}

/** Put the reason into @why; returns -PE_NOEXEC. */
static int refuse(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

static int refuse(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return -PE_NOEXEC;
}

/** Check the PE32+ headers; see pe.h. */
int pe_check(const uint8_t *head, size_t have, uint64_t file_size,
             struct pe_info *info, char *why, size_t len)
{
    uint64_t lim = have < PE_HEAD_MAX ? have : PE_HEAD_MAX;
    uint64_t pe, opt, sec, end;
    uint16_t opt_size;

    if (have > file_size)
        lim = file_size < PE_HEAD_MAX ? file_size : PE_HEAD_MAX;
    if (lim < 2 || head[0] != 'M' || head[1] != 'Z')
        return refuse(why, len, "not an EFI program: no MZ header (chld on "
                      "UEFI starts x86-64 EFI applications; a BIOS PXE boot "
                      "program such as pxelinux.0 cannot run there)");
    if (lim < DOS_HEADER)
        return refuse(why, len, "not an EFI program: %llu bytes end inside "
                      "the 64-byte MZ header", (unsigned long long)lim);
    pe = rd32(head + DOS_LFANEW);
    if (pe < DOS_HEADER || pe + 4 + COFF_SIZE > lim)
        return refuse(why, len, "not an EFI program: its PE header offset "
                      "0x%llx is not within bytes 64-%llu (an MZ program "
                      "for DOS?)", (unsigned long long)pe,
                      (unsigned long long)lim);
    if (head[pe] != 'P' || head[pe + 1] != 'E' || head[pe + 2] != 0 ||
        head[pe + 3] != 0)
        return refuse(why, len, "not an EFI program: no PE signature at "
                      "0x%llx (an MZ program for DOS?)",
                      (unsigned long long)pe);
    const uint8_t *coff = head + pe + 4;
    info->machine = rd16(coff + COFF_MACHINE);
    info->nsections = rd16(coff + COFF_NSECTIONS);
    opt_size = rd16(coff + COFF_OPT_SIZE);
    if (info->machine != PE_MACHINE_X64)
        return refuse(why, len, "a PE image for %s (machine 0x%04x), not "
                      "x86-64: pulsar.efi starts x86-64 EFI programs",
                      machine_name(info->machine), info->machine);
    if (!(rd16(coff + COFF_FLAGS) & COFF_EXECUTABLE))
        return refuse(why, len, "a PE file that is not marked executable "
                      "(an object file or a DLL?)");
    opt = pe + 4 + COFF_SIZE;
    if (opt + 2 > lim)
        return refuse(why, len, "its PE header ends at 0x%llx, before the "
                      "optional header", (unsigned long long)lim);
    uint16_t magic = rd16(head + opt + OPT_MAGIC);
    if (magic == OPT_MAGIC_PE32)
        return refuse(why, len, "a PE32 (32-bit) image: x86-64 EFI "
                      "programs are PE32+");
    if (magic != PE_MAGIC_PE32PLUS)
        return refuse(why, len, "unknown optional header magic 0x%04x (a "
                      "PE32+ image has 0x020b)", magic);
    if (opt_size < OPT_FIXED || opt + opt_size > lim)
        return refuse(why, len, "its optional header of %u bytes at 0x%llx "
                      "does not fit the %u bytes of a PE32+ one within the "
                      "first %llu bytes", opt_size, (unsigned long long)opt,
                      OPT_FIXED, (unsigned long long)lim);
    const uint8_t *o = head + opt;
    uint32_t ndirs = rd32(o + OPT_NDIRS);
    if (ndirs > (opt_size - OPT_FIXED) / 8u)
        return refuse(why, len, "%u data directories do not fit its %u-byte "
                      "optional header", ndirs, opt_size);
    info->subsystem = rd16(o + OPT_SUBSYSTEM);
    if (info->subsystem != PE_SUBSYSTEM_EFI_APP)
        return refuse(why, len, "a PE image of subsystem %u, not an EFI "
                      "application (10)%s", info->subsystem,
                      info->subsystem == 11 || info->subsystem == 12
                          ? ": an EFI driver"
                          : "");
    info->size_of_image = rd32(o + OPT_SIZE_OF_IMAGE);
    info->entry = rd32(o + OPT_ENTRY);
    uint32_t hdrs = rd32(o + OPT_SIZE_OF_HEADERS);
    if (hdrs > file_size || hdrs > info->size_of_image)
        return refuse(why, len, "its headers of %u bytes (SizeOfHeaders) "
                      "are larger than the file (%llu bytes) or the image "
                      "(%u bytes)", hdrs, (unsigned long long)file_size,
                      info->size_of_image);
    if (info->entry == 0 || info->entry >= info->size_of_image)
        return refuse(why, len, "its entry point 0x%x is not inside the "
                      "image (SizeOfImage 0x%x)", info->entry,
                      info->size_of_image);
    if (info->nsections == 0 || info->nsections > PE_SECTIONS_MAX)
        return refuse(why, len, "%u sections (a PE image has 1 to %u)",
                      info->nsections, PE_SECTIONS_MAX);
    sec = opt + opt_size;
    end = sec + (uint64_t)info->nsections * SEC_SIZE;
    if (end > lim || end > hdrs)
        return refuse(why, len, "its section table at 0x%llx-0x%llx lies "
                      "past its headers (%u bytes) or the first %llu bytes",
                      (unsigned long long)sec, (unsigned long long)end,
                      hdrs, (unsigned long long)lim);
    for (unsigned i = 0; i < info->nsections; i++) {
        const uint8_t *sh = head + sec + (uint64_t)i * SEC_SIZE;
        uint64_t vsize = rd32(sh + SEC_VSIZE), vaddr = rd32(sh + SEC_VADDR);
        uint64_t raw = rd32(sh + SEC_RAWSIZE), ptr = rd32(sh + SEC_RAWPTR);
        char name[9];

        for (unsigned k = 0; k < 8; k++) {
            uint8_t ch = sh[k];
            name[k] = ch >= 0x20 && ch < 0x7f ? (char)ch : '\0';
        }
        name[8] = '\0';
        if (raw && ptr + raw > file_size)
            return refuse(why, len, "section %u (%s): its %llu bytes at "
                          "0x%llx run past the end of the file (%llu bytes)",
                          i, name, (unsigned long long)raw,
                          (unsigned long long)ptr,
                          (unsigned long long)file_size);
        if (vaddr + (vsize ? vsize : raw) > info->size_of_image)
            return refuse(why, len, "section %u (%s) at 0x%llx-0x%llx lies "
                          "past the image's end (SizeOfImage 0x%x)", i, name,
                          (unsigned long long)vaddr,
                          (unsigned long long)(vaddr + (vsize ? vsize : raw)),
                          info->size_of_image);
    }
    return 0;
}
