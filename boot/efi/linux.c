/*
 * Linux on UEFI, the firmware's half (the plans are loader/linux.c's).
 * Which path a bzImage takes is the format table's choice (loader/
 * format.c): with an x86-64 EFI stub, the stub; without one, the 32-bit
 * boot protocol.
 *
 * The stub: the session staged the whole file in one claimed range and
 * the initrd parts, concatenated 4-byte aligned, in another.  LoadImage
 * reads the file from that buffer; the command line goes in as the
 * image's LoadOptions (UCS-2); the initrd is offered as the kernel's stub
 * looks for it: a LoadFile2 protocol on a handle whose device path is a
 * vendor media node with LINUX_EFI_INITRD_MEDIA_GUID.  The stub exits
 * boot services itself.
 *
 * The 32-bit protocol: as the multiboot hand-off (boot/efi/handoff.c)
 * with boot_params as the information: ExitBootServices, then the E820
 * table from the map that call took, efi_info and acpi_rsdp_addr, and
 * the trampoline enters code32_start with ESI = boot_params.
 */
#include "boot/efi/handoff.h"
#include "boot/efi/uefi.h"
#include "lib/errno.h"
#include <stdio.h>
#include <string.h>

/** LINUX_EFI_INITRD_MEDIA_GUID (the stub's initrd device path). */
#define LINUX_INITRD_MEDIA_GUID                                             \
    { 0x5568e427, 0x68fc, 0x4f3d,                                           \
      { 0xac, 0x74, 0xca, 0x55, 0x52, 0x31, 0xcc, 0x68 } }
/** EFI_LOAD_FILE2_PROTOCOL_GUID (UEFI 2.x, 13.3). */
#define LOAD_FILE2_GUID                                                     \
    { 0x4006c0c1, 0xfcb3, 0x403e,                                           \
      { 0x99, 0x6d, 0x4a, 0x6c, 0x87, 0x24, 0xe0, 0x6d } }

/** The initrd's device path: one vendor media node, then the end. */
struct initrd_path {
    VENDOR_DEVICE_PATH vendor;
    EFI_DEVICE_PATH end;
} __attribute__((packed));

/** The image's device path: a file path node naming it, then the end. */
struct image_path {
    EFI_DEVICE_PATH node;
    CHAR16 name[64];
    EFI_DEVICE_PATH end;
} __attribute__((packed));

/** What LoadFile2 hands out: the staged initrd. */
static struct {
    EFI_LOAD_FILE_PROTOCOL proto; /* LoadFile2 has LoadFile's shape */
    const uint8_t *data;
    UINTN size;
} initrd_lf2;

/** The command line as UCS-2 (cmdline_size is at most 4 KiB here). */
static CHAR16 load_options[LINUX_CMDLINE_ROOM];

/** A device path node's header. */
static void dp_node(EFI_DEVICE_PATH *n, UINT8 type, UINT8 subtype,
                    UINT16 len)
{
    n->Type = type;
    n->SubType = subtype;
    n->Length[0] = (UINT8)len;
    n->Length[1] = (UINT8)(len >> 8);
}

/**
 * LoadFile2.LoadFile for the initrd: its size when @buf is NULL or
 * *@size too small (EFI_BUFFER_TOO_SMALL), else the bytes.  Called by
 * the kernel's stub.
 */
static EFI_STATUS EFIAPI initrd_load(EFI_LOAD_FILE_PROTOCOL *this,
                                     EFI_DEVICE_PATH *path, BOOLEAN boot,
                                     UINTN *size, VOID *buf)
{
    (void)path;
    if (this != &initrd_lf2.proto || !size)
        return EFI_INVALID_PARAMETER;
    if (boot)
        return EFI_UNSUPPORTED; /* LoadFile2 never boots */
    if (!buf || *size < initrd_lf2.size) {
        *size = initrd_lf2.size;
        return EFI_BUFFER_TOO_SMALL;
    }
    memcpy(buf, initrd_lf2.data, initrd_lf2.size);
    *size = initrd_lf2.size;
    return EFI_SUCCESS;
}

/** ASCII @src into UCS-2 @dst of @n units, NUL-terminated; the bytes it
 *  takes with the NUL. */
static UINT32 to_ucs2(CHAR16 *dst, size_t n, const char *src, size_t len)
{
    size_t i;

    for (i = 0; i < len && i + 1 < n; i++)
        dst[i] = (CHAR16)(unsigned char)src[i];
    dst[i] = 0;
    return (UINT32)((i + 1) * sizeof(CHAR16));
}

int efi_boot_linux_stub(struct session *s)
{
    static struct initrd_path ipath;
    static struct image_path kpath;
    EFI_GUID lf2_guid = LOAD_FILE2_GUID, dp_guid = DEVICE_PATH_PROTOCOL;
    EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
    EFI_GUID media = LINUX_INITRD_MEDIA_GUID;
    const struct load_seg *seg = &s->kernel->plan.seg[0];
    const char *path = s->item->path;
    EFI_HANDLE image = NULL, initrd = NULL;
    EFI_LOADED_IMAGE *li;
    EFI_STATUS st;
    void *file;
    int rc;

    if (!(file = efi_guest_whole(s, s->item, seg->dest, seg->filesz)))
        return session_error(s, -PE_RANGE, "internal error: %s is not "
                             "staged", path);
    memset(&initrd_lf2, 0, sizeof(initrd_lf2));
    if (s->lx.initrd_size) {
        initrd_lf2.data = efi_guest_whole(s, &s->lx, s->lx.initrd_addr,
                                          s->lx.initrd_size);
        if (!initrd_lf2.data)
            return session_error(s, -PE_RANGE, "internal error: the initrd "
                                 "is not staged");
        initrd_lf2.size = s->lx.initrd_size;
        initrd_lf2.proto.LoadFile = initrd_load;
        dp_node(&ipath.vendor.Header, MEDIA_DEVICE_PATH, MEDIA_VENDOR_DP,
                sizeof(ipath.vendor));
        ipath.vendor.Guid = media;
        dp_node(&ipath.end, END_DEVICE_PATH_TYPE,
                END_ENTIRE_DEVICE_PATH_SUBTYPE, sizeof(ipath.end));
        st = efi_bs->InstallMultipleProtocolInterfaces(
            &initrd, &dp_guid, &ipath, &lf2_guid, &initrd_lf2.proto, NULL);
        if (EFI_ERROR(st))
            return session_error(s, -PE_IO, "InstallMultipleProtocol"
                                 "Interfaces (initrd LoadFile2): %s",
                                 efi_status_str(st));
    }

    /* A file path naming the kernel: LoadImage wants a path to go with
     * the buffer (the stub reads nothing through it). */
    size_t n = strlen(path) < 62 ? strlen(path) : 62;
    kpath.name[0] = '\\';
    UINT32 name_bytes = to_ucs2(kpath.name + 1, 63, path, n);
    dp_node(&kpath.node, MEDIA_DEVICE_PATH, MEDIA_FILEPATH_DP,
            (UINT16)(sizeof(kpath.node) + sizeof(CHAR16) + name_bytes));
    EFI_DEVICE_PATH *end = (EFI_DEVICE_PATH *)((UINT8 *)&kpath.name[1] +
                                               name_bytes);
    dp_node(end, END_DEVICE_PATH_TYPE, END_ENTIRE_DEVICE_PATH_SUBTYPE,
            sizeof(*end));

    rc = -PE_IO;
    st = efi_bs->LoadImage(FALSE, efi_image, &kpath.node, file, seg->filesz,
                           &image);
    if (EFI_ERROR(st)) {
        session_error(s, rc, "LoadImage %s: %s", path, efi_status_str(st));
        goto out;
    }
    st = efi_bs->HandleProtocol(image, &li_guid, (void **)&li);
    if (EFI_ERROR(st)) {
        session_error(s, rc, "HandleProtocol(LoadedImage) %s: %s", path,
                      efi_status_str(st));
        goto out;
    }
    li->LoadOptionsSize = to_ucs2(load_options, LINUX_CMDLINE_ROOM,
                                  s->lx.cmdline, s->lx.cmdline_len);
    li->LoadOptions = load_options;
    printf("pulsar: starting %s through its EFI stub (StartImage), "
           "cmdline '%s', initrd %u bytes through LoadFile2\n", path,
           s->lx.cmdline, s->lx.initrd_size);
    st = efi_bs->StartImage(image, NULL, NULL);
    session_error(s, rc, "StartImage %s: the kernel returned %s", path,
                  efi_status_str(st));
out:
    if (image)
        efi_bs->UnloadImage(image);
    if (initrd)
        efi_bs->UninstallMultipleProtocolInterfaces(
            initrd, &dp_guid, &ipath, &lf2_guid, &initrd_lf2.proto, NULL);
    return rc;
}

/** The ACPI RSDP from the configuration table: ACPI 2.0's, else 1.0's;
 *  0 when there is neither. */
static uint64_t acpi_rsdp(void)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
    const void *t = efi_config_table(&acpi20);

    return (uintptr_t)(t ? t : efi_config_table(&acpi10));
}

int efi_handoff_linux32(struct session *s)
{
    static struct e820_entry map[EFI_MAP_MAX];
    const struct efi_raw_map *raw;
    struct linux_efi_info efi;
    struct efi_handoff h;
    uint64_t rsdp = acpi_rsdp();
    const uint8_t *setup;
    unsigned nmap;
    int rc;

    if (!(setup = efi_guest_whole(s, s->item, s->lx.setup_addr,
                                  LINUX_LOW_SIZE)))
        return session_error(s, -PE_RANGE, "internal error: the setup of "
                             "%s is not staged", s->item->path);
    if ((rc = efi_handoff_alloc(s, BP_SIZE / 4096, &h)) != 0)
        return rc;
    h.ho->entry = s->lx.kernel_addr;
    h.ho->esi = (uint32_t)(uintptr_t)h.info;
    if ((rc = efi_handoff_moves(s, &h)) != 0)
        return rc;
    printf("pulsar: starting %s through the 32-bit boot protocol at %08x, "
           "boot_params at %08x, ACPI RSDP at %llx (%u ranges to move after "
           "ExitBootServices)\n", s->item->path, s->lx.kernel_addr,
           h.ho->esi, (unsigned long long)rsdp, h.ho->nmoves);
    if ((rc = efi_handoff_exit(s)) != 0)
        return rc;

    /* The firmware is gone: the map ExitBootServices took is the kernel's,
     * and only the UART is left to tell why nothing follows. */
    raw = efi_last_map();
    if (!(nmap = efi_e820_last(map, EFI_MAP_MAX, s->msg, sizeof(s->msg))))
        efi_halt_exited(s->msg);
    efi.systab = (uintptr_t)efi_st;
    efi.memmap = (uintptr_t)raw->buf;
    efi.memmap_size = (uint32_t)raw->size;
    efi.memdesc_size = (uint32_t)raw->desc_size;
    efi.memdesc_version = raw->version;
    if (linux_boot_params(h.info, setup, LINUX_LOW_SIZE, map, nmap, &efi,
                          rsdp) != 0)
        efi_halt_exited("boot_params: more E820 entries than it holds, or "
                        "a malformed setup header");
    efi_handoff_jump(&h);
}
