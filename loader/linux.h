/*
 * The Linux/x86 boot protocol for bzImage kernels (Linux, Kitten), pure C.
 *
 * A bzImage is a real-mode part (a legacy boot sector and the setup code,
 * (setup_sects + 1) * 512 bytes, with the setup header at 0x1F1) followed
 * by the protected-mode kernel.  Pulsar reads the header from the file's
 * first bytes, plans where each part goes, loads the initrd parts given
 * by the `load` lines before the `exec`, fills in the header fields a boot
 * loader owns, and enters the setup code in real mode at seg+0x20:0000,
 * as PXELINUX, iPXE and GRUB's linux16 do.
 *
 * Where things go (protocol >= 2.02, the layout the protocol recommends):
 *
 *   X + 0x0000  boot sector and setup code      (at most LINUX_SETUP_MAX)
 *   ...         the setup's own bss, then its heap and stack
 *   X + 0xDE00  heap_end_ptr (heap end - 0x200, as the protocol defines it)
 *   X + 0xE000  the stack top (SP) and the command line, NUL-terminated
 *   X + 0x10000 end of the low region (LINUX_LOW_SIZE)
 *
 * X is 16-byte aligned, at or above 0x10000, in RAM that the E820 map
 * marks free, below the base memory the BIOS reports (so below the EBDA
 * and the PXE stack), and outside Pulsar: the boot flow keeps such a
 * region out of its heap from the start.  The protected-mode part goes
 * to 1 MiB, or for a relocatable kernel whose 1 MiB is taken, to
 * pref_address or the lowest free address aligned to kernel_alignment.
 * The initrd goes as high as possible, page-aligned, below
 * min(initrd_addr_max + 1, the top of RAM below 4 GiB, any mem=).
 */
#ifndef PULSAR_LINUX_H
#define PULSAR_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/image.h"
#include "loader/place.h"

/** Largest real-mode part (boot sector + setup) the layout allows. */
#define LINUX_SETUP_MAX 0x8000u
/** Offset of the heap's end and stack top in the setup segment. */
#define LINUX_HEAP_END 0xE000u
/** Room for the command line and its NUL after LINUX_HEAP_END. */
#define LINUX_CMDLINE_ROOM 0x2000u
/** The low region: setup, heap, stack and command line. */
#define LINUX_LOW_SIZE (LINUX_HEAP_END + LINUX_CMDLINE_ROOM)
/** Setup code below this may be moved by old kernels: stay above. */
#define LINUX_LOW_MIN 0x10000u
/** Where the protected-mode part goes unless it cannot. */
#define LINUX_KERNEL_ADDR 0x100000u

/* Setup header field offsets (boot protocol) and loadflags bits. */
#define LX_SETUP_SECTS 0x1F1
#define LX_SYSSIZE 0x1F4
#define LX_BOOT_FLAG 0x1FE
#define LX_HEADER 0x202
#define LX_VERSION 0x206
#define LX_TYPE_OF_LOADER 0x210
#define LX_LOADFLAGS 0x211
#define LX_CODE32_START 0x214
#define LX_RAMDISK_IMAGE 0x218
#define LX_RAMDISK_SIZE 0x21C
#define LX_HEAP_END_PTR 0x224
#define LX_CMD_LINE_PTR 0x228
#define LX_INITRD_ADDR_MAX 0x22C
#define LX_KERNEL_ALIGNMENT 0x230
#define LX_RELOCATABLE 0x234
#define LX_CMDLINE_SIZE 0x238
#define LX_PREF_ADDRESS 0x258
#define LX_INIT_SIZE 0x260

#define LX_LOADED_HIGH 0x01
#define LX_KEEP_SEGMENTS 0x40
#define LX_CAN_USE_HEAP 0x80
/** type_of_loader: "undefined" boot loader (Pulsar has no assigned id). */
#define LX_LOADER_TYPE 0xFF

/** What Pulsar reads from the setup header, defaults filled in. */
struct linux_header {
    uint16_t version;          /* 0x020F = 2.15 */
    uint32_t setup_len;        /* boot sector + setup, in bytes */
    uint32_t kernel_len;       /* the protected-mode part, in bytes */
    uint8_t loadflags;
    uint32_t code32_start;     /* the kernel's own idea of its address */
    uint32_t initrd_addr_max;  /* highest byte the initrd may occupy */
    uint32_t cmdline_size;     /* longest command line, NUL excluded */
    bool relocatable;          /* 2.05+ */
    uint32_t kernel_alignment; /* 2.05+, a power of two when relocatable */
    uint32_t pref_address;     /* 2.10+ and below 4 GiB, else 0 */
    uint32_t init_size;        /* 2.10+, else 0 */
};

/** Where a bzImage's parts go. */
struct linux_plan {
    struct linux_header hdr;
    uint32_t setup_addr;          /* X: the low region, 16-byte aligned */
    uint32_t kernel_addr;         /* the protected-mode part */
    uint32_t run_start, run_end;  /* beyond the file part, the memory the
                                     kernel unpacks into (init_size);
                                     empty when start == end */
    const char *cmdline;          /* the `exec` arguments (not copied) */
    uint32_t cmdline_len;         /* without the NUL */
    uint32_t initrd_addr;         /* 0 when there is no initrd */
    uint32_t initrd_size;
};

/** Does @prefix carry a Linux setup header ("HdrS" at 0x202)? */
bool linux_probe(const uint8_t *prefix, size_t len);

/**
 * Is @prefix a bzImage with an x86-64 EFI stub: a setup header and, at
 * the offset the DOS header's e_lfanew (0x3C) gives, a PE signature with
 * machine 0x8664?  Decided from the headers only, never the file name.
 */
bool linux_probe_efi_stub(const uint8_t *prefix, size_t len);

/**
 * Read and check the setup header in @prefix (the file's first @len
 * bytes; @file_size is the whole file's size).  Refuses a protocol older
 * than 2.02, a missing boot flag, a kernel that is not LOADED_HIGH, a
 * setup that does not fit the layout or the file, a truncated header or
 * file.  Returns 0, -PE_NOEXEC, -PE_UNSUPP or -PE_INVAL with a message.
 */
int linux_parse_header(const uint8_t *prefix, size_t len, uint32_t file_size,
                       struct linux_header *hdr, char *err, size_t errlen);

/**
 * Parse the header and plan the kernel: the low region (searched in
 * [LINUX_LOW_MIN, @low_end) through @p), the protected-mode part and the
 * memory it unpacks into, and the command line @args (the `exec`
 * arguments, checked against cmdline_size).  Fills @plan with two
 * segments for image_feed: the setup (its region zeroed past the file
 * bytes) and the protected-mode part.  Claims nothing: the boot flow
 * claims the segments and [run_start, run_end).  Returns 0 or a negative
 * pulsar_err with a message in @err.
 */
int linux_plan_image(const uint8_t *prefix, size_t len, uint32_t file_size,
                     const char *args, const struct placer *p,
                     uint32_t low_end, struct linux_plan *lp,
                     struct image_plan *plan, char *err, size_t errlen);

/**
 * Plan a bzImage for its EFI stub: the header checked as for the boot
 * protocol, the command line @args against cmdline_size, and the whole
 * file as one segment in free RAM above 1 MiB and below 4 GiB (the
 * buffer the firmware's LoadImage reads it from).  Claims nothing.
 * Returns 0 or a negative pulsar_err with a message in @err.
 */
int linux_plan_efi_stub(const uint8_t *prefix, size_t len, uint32_t file_size,
                        const char *args, const struct placer *p,
                        struct linux_plan *lp, struct image_plan *plan,
                        char *err, size_t errlen);

/**
 * The lowest `mem=` limit on @cmdline in bytes (Linux's memparse: decimal,
 * 0x hex or 0 octal, with an optional K/M/G/T/P/E suffix; 4 GiB and more
 * count as UINT32_MAX, which is no limit for a 32-bit loader), or 0 when
 * there is none.  Values that are not numbers (mem=nopentium) and mem=0
 * are skipped.
 */
uint32_t linux_mem_limit(const char *cmdline);

/**
 * Lay out @n initrd parts of @sizes: each starts 4-byte aligned after the
 * one before (a single part is passed as it is).  Writes @offsets and the
 * total (the last part's end, no padding after it).  Returns 0 or
 * -PE_RANGE when the total does not fit in 32 bits.
 */
int linux_initrd_layout(const uint32_t *sizes, unsigned n, uint32_t *offsets,
                        uint32_t *total);

/**
 * Place an initrd of @total bytes as high as possible, page-aligned,
 * above 1 MiB and below min(initrd_addr_max + 1, the top of RAM below
 * 4 GiB, mem= on the command line); sets lp->initrd_addr and
 * initrd_size.  @total 0
 * means no initrd.  Returns 0 or -PE_NORAM with a message naming the
 * limit.
 */
int linux_place_initrd(struct linux_plan *lp, const struct placer *p,
                       uint32_t total, char *err, size_t errlen);

/* boot_params ("the zero page") for the 32-bit boot protocol. */
#define BP_SIZE 4096u
#define BP_ACPI_RSDP_ADDR 0x070  /* u64 (2.14+) */
#define BP_EFI_INFO 0x1C0        /* struct efi_info */
#define BP_E820_ENTRIES 0x1E8    /* u8 */
#define BP_HDR 0x1F1             /* the setup header, as in the file */
#define BP_E820_TABLE 0x2D0      /* 20-byte entries: u64 addr, size, u32 */
#define BP_E820_MAX 128u
/** efi_info.efi_loader_signature of a 64-bit EFI loader. */
#define BP_EFI_SIG64 "EL64"

/** What a UEFI loader tells the kernel about the firmware (efi_info). */
struct linux_efi_info {
    uint64_t systab;          /* EFI_SYSTEM_TABLE */
    uint64_t memmap;          /* the memory map ExitBootServices took */
    uint32_t memmap_size;     /* its bytes */
    uint32_t memdesc_size;    /* one descriptor's bytes */
    uint32_t memdesc_version;
};

/**
 * Build boot_params for the 32-bit boot protocol into @bp (BP_SIZE
 * bytes): zeroed, the setup header copied from the loaded setup @setup
 * (@setup_len bytes, with the fields linux_finish filled in) from 0x1F1
 * to the end its jump at 0x200 gives, the E820 map @map (@n entries),
 * and when @efi is not NULL efi_info ("EL64") and acpi_rsdp_addr @rsdp
 * (0: none).  Returns 0, or -PE_RANGE when the map has more entries
 * than boot_params holds or the setup is too short for its header.
 */
int linux_boot_params(uint8_t *bp, const uint8_t *setup, size_t setup_len,
                      const struct e820_entry *map, unsigned n,
                      const struct linux_efi_info *efi, uint64_t rsdp);

/**
 * Fill in what the boot loader owns in the loaded setup at @low (the low
 * region, LINUX_LOW_SIZE bytes at lp->setup_addr): type_of_loader,
 * CAN_USE_HEAP and heap_end_ptr, cmd_line_ptr and the command line,
 * ramdisk_image and ramdisk_size, and code32_start when the kernel moved.
 */
void linux_finish(uint8_t *low, const struct linux_plan *lp);

#endif
