/*
 * Finding the network when the device Pulsar was loaded from has no PXE
 * Base Code of its own (boot/efi/netfind.c): Pulsar chainloaded by a
 * boot program that names the NIC itself as the device.
 */
#ifndef PULSAR_EFI_NETFIND_H
#define PULSAR_EFI_NETFIND_H
#include "boot/efi/uefi.h"

/**
 * Keep a copy of @dev's device path (the first call only): a boot
 * program `chld` started may take the firmware's network drivers away
 * with the handles they made (GRUB's efinet opens the NIC exclusively),
 * and efi_pxe_find then finds the NIC by the path Pulsar came from.
 */
void efi_net_remember(EFI_HANDLE dev);

/**
 * The PXE Base Code for the NIC on @dev's device path (or the one
 * efi_net_remember kept, when @dev is gone), when @dev itself
 * has none.  GRUB's `chainloader` names the NIC's own handle (the SNP)
 * as the device, and GRUB's efinet opened that SNP exclusively, which
 * disconnected the firmware's network drivers: so the PXE Base Code
 * below the NIC is looked for, and when there is none the NIC is
 * connected again (ConnectController, recursive) and looked at once
 * more (also after a `chld` program that returned: GRUB's exit leaves the
 * NIC without its drivers).  The one found (IPv4 preferred) is started, and asked for DHCP
 * when it holds no DHCP ACK (the firmware's answer went with the
 * disconnected driver); both are said on the console.  @handle: out: its
 * handle.  Returns it, or NULL with the reason in @msg.
 */
EFI_PXE_BASE_CODE *efi_pxe_find(EFI_HANDLE dev, EFI_HANDLE *handle,
                                char *msg, size_t len);
#endif
