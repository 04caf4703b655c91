/*
 * Starting another EFI image from memory (boot/efi/image.c): the file
 * Pulsar fetched goes to the firmware's LoadImage as a source buffer,
 * with a device path that makes it look loaded from the device Pulsar
 * itself came from (the NIC), so the image finds the same network.
 * Used by `chld` (boot/efi/chain.c); meant for any EFI image Pulsar
 * starts (a Linux EFI stub too).
 */
#ifndef PULSAR_EFI_IMAGE_H
#define PULSAR_EFI_IMAGE_H
#include "boot/efi/uefi.h"

/** The bytes of device path @dp before its end node; 0 when it has no
 *  end within 4 KiB or a node shorter than a node header (the firmware's
 *  data, but a loop would hang Pulsar). */
UINTN efi_devpath_len(const EFI_DEVICE_PATH *dp);

/**
 * LoadImage the @size bytes at @buf as the file @path (a TFTP path, '/'
 * or '\\' separated) of Pulsar's own device: the image's device path is
 * that device's path with a media file path node for @path, and its
 * LoadedImage->DeviceHandle is that device (set after LoadImage when the
 * firmware chose none or another one).  @child: out: the image's handle.
 * Returns 0, or a negative pulsar_err with "LoadImage: EFI_..." (or
 * which other call failed) in @msg.
 */
int efi_image_load(const void *buf, size_t size, const char *path,
                   EFI_HANDLE *child, char *msg, size_t len);

/**
 * StartImage @child.  Returns when the image returns or calls Exit, with
 * its status in @status and its exit data (a CHAR16 text, NUL-ended,
 * may be empty) as ASCII in @exit_text (non-ASCII as '?').
 */
void efi_image_start(EFI_HANDLE child, EFI_STATUS *status, char *exit_text,
                     size_t len);
#endif
