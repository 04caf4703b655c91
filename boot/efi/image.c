/*
 * Starting another EFI image from memory; see image.h.
 *
 * The firmware's LoadImage with a SourceBuffer takes the image's device
 * from the device path it is given (EDK2 looks for a device path prefix
 * with a file system, then LoadFile2, then LoadFile protocol: the PXE
 * Base Code's LoadFile on the NIC's IPv4 child matches).  Boot programs
 * find their network through LoadedImage->DeviceHandle (GRUB's efinet
 * reads the PXE Base Code's DhcpAck there, iPXE's snponly.efi takes the
 * SNP of that device), so Pulsar gives the child its own device's path
 * with a file node for the file, and makes sure of DeviceHandle after
 * LoadImage, as firmware boot managers and GRUB's chainloader do.
 */
#include "boot/efi/image.h"
#include "lib/errno.h"
#include <stdio.h>
#include <string.h>

/** A device path longer than this is taken as broken (the firmware's own
 *  data, but a loop would hang Pulsar). */
#define DEVPATH_MAX 4096u

/** Pulsar's own loaded image, or NULL with @msg set. */
static EFI_LOADED_IMAGE *own_image(char *msg, size_t len)
{
    EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
    EFI_LOADED_IMAGE *li;
    EFI_STATUS st = efi_bs->HandleProtocol(efi_image, &li_guid, (void **)&li);

    if (EFI_ERROR(st)) {
        snprintf(msg, len, "HandleProtocol(Pulsar, LoadedImage): %s",
                 efi_status_str(st));
        return NULL;
    }
    return li;
}

UINTN efi_devpath_len(const EFI_DEVICE_PATH *dp)
{
    const UINT8 *p = (const UINT8 *)dp;
    UINTN off = 0;

    while (off + 4 <= DEVPATH_MAX) {
        const EFI_DEVICE_PATH *n = (const EFI_DEVICE_PATH *)(p + off);
        UINTN nlen = DevicePathNodeLength(n);

        if (IsDevicePathEnd(n))
            return off;
        if (nlen < 4)
            return 0;
        off += nlen;
    }
    return 0;
}

/**
 * A new device path (pool memory): the prefix of @dev's path, a media
 * file path node for @path ('/' turned into '\\', a leading '\\' added),
 * the end node.  NULL when the pool is out.
 */
static EFI_DEVICE_PATH *file_devpath(const EFI_DEVICE_PATH *dev,
                                     const char *path)
{
    UINTN pre = dev ? efi_devpath_len(dev) : 0;
    UINTN chars = strlen(path) + (path[0] != '/' && path[0] != '\\') + 1;
    UINTN node = SIZE_OF_FILEPATH_DEVICE_PATH + chars * sizeof(CHAR16);
    EFI_DEVICE_PATH *out;
    UINT8 *p;

    if (node > 0xFFFF ||
        EFI_ERROR(efi_bs->AllocatePool(EfiLoaderData, pre + node + 4,
                                       (void **)&out)))
        return NULL;
    p = (UINT8 *)out;
    if (pre)
        memcpy(p, dev, pre);
    FILEPATH_DEVICE_PATH *f = (FILEPATH_DEVICE_PATH *)(p + pre);
    f->Header.Type = MEDIA_DEVICE_PATH;
    f->Header.SubType = MEDIA_FILEPATH_DP;
    f->Header.Length[0] = (UINT8)node;
    f->Header.Length[1] = (UINT8)(node >> 8);
    CHAR16 *name = f->PathName;
    if (path[0] != '/' && path[0] != '\\')
        *name++ = L'\\';
    for (const char *c = path; *c; c++)
        *name++ = *c == '/' ? L'\\' : (CHAR16)(UINT8)*c;
    *name = 0;
    EFI_DEVICE_PATH *end = (EFI_DEVICE_PATH *)(p + pre + node);
    end->Type = END_DEVICE_PATH_TYPE;
    end->SubType = END_ENTIRE_DEVICE_PATH_SUBTYPE;
    end->Length[0] = 4;
    end->Length[1] = 0;
    return out;
}

int efi_image_load(const void *buf, size_t size, const char *path,
                   EFI_HANDLE *child, char *msg, size_t len)
{
    EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
    EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
    EFI_DEVICE_PATH *dev = NULL, *dp;
    EFI_LOADED_IMAGE *own, *li;
    EFI_STATUS st;

    if (!(own = own_image(msg, len)))
        return -PE_INVAL;
    /* No device path on the device: the file node alone will do, since
     * DeviceHandle is set below. */
    if (EFI_ERROR(efi_bs->HandleProtocol(own->DeviceHandle, &dp_guid,
                                         (void **)&dev)))
        dev = NULL;
    if (!(dp = file_devpath(dev, path))) {
        snprintf(msg, len, "AllocatePool for the device path: out of pool "
                 "memory");
        return -PE_NOMEM;
    }
    *child = NULL;
    st = efi_bs->LoadImage(FALSE, efi_image, dp, (void *)buf, size, child);
    efi_bs->FreePool(dp); /* LoadImage keeps its own copy */
    if (EFI_ERROR(st)) {
        snprintf(msg, len, "LoadImage: %s%s", efi_status_str(st),
                 st == EFI_SECURITY_VIOLATION || st == EFI_ACCESS_DENIED
                     ? " (Secure Boot refuses the image: it is not signed "
                       "with a key the firmware trusts)"
                     : "");
        return st == EFI_OUT_OF_RESOURCES ? -PE_NOMEM : -PE_NOEXEC;
    }
    st = efi_bs->HandleProtocol(*child, &li_guid, (void **)&li);
    if (EFI_ERROR(st)) {
        efi_bs->UnloadImage(*child);
        snprintf(msg, len, "HandleProtocol(image, LoadedImage): %s",
                 efi_status_str(st));
        return -PE_INVAL;
    }
    li->DeviceHandle = own->DeviceHandle;
    return 0;
}

void efi_image_start(EFI_HANDLE child, EFI_STATUS *status, char *exit_text,
                     size_t len)
{
    UINTN n = 0;
    CHAR16 *data = NULL;
    size_t k = 0;

    *status = efi_bs->StartImage(child, &n, &data);
    /* ExitDataSize is in bytes; the text may lack its NUL. */
    for (UINTN i = 0; data && i < n / sizeof(CHAR16) && data[i] &&
                      k + 1 < len; i++)
        exit_text[k++] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i]
                                                           : '?';
    if (len)
        exit_text[k] = '\0';
    if (data)
        efi_bs->FreePool(data);
}
