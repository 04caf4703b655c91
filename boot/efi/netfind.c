/*
 * Finding the network below the device Pulsar was loaded from; see
 * netfind.h.  The PXE Base Code of a NIC lives on a child handle whose
 * device path is the NIC's with an IPv4() or IPv6() node appended (EDK2's
 * UefiPxeBcDxe), or on the NIC's own handle (iPXE): so the NIC is the
 * handle with the Simple Network protocol on Pulsar's device path, and
 * its PXE Base Code is the handle with that protocol whose device path
 * starts with the NIC's.
 */
#include "boot/efi/image.h"
#include "boot/efi/netfind.h"
#include <stdio.h>
#include <string.h>

#define MSG_DEV 3       /* messaging device path */
#define MSG_IPV4 12     /* its IPv4() node */

/**
 * Close the exclusive opens of @proto on @nic that the program which
 * started Pulsar (its parent image) left behind: GRUB 2.06's efinet keeps
 * the SNP open BY_EXCLUSIVE through `chainloader`, so no firmware driver
 * can bind the NIC again.  Pulsar never returns to that program.
 */
static void release_parent_hold(EFI_HANDLE nic, EFI_GUID *proto)
{
    EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
    EFI_OPEN_PROTOCOL_INFORMATION_ENTRY *e;
    EFI_LOADED_IMAGE *li;
    UINTN n;

    if (EFI_ERROR(efi_bs->HandleProtocol(efi_image, &li_guid, (void **)&li))
        || !li->ParentHandle ||
        EFI_ERROR(efi_bs->OpenProtocolInformation(nic, proto, &e, &n)))
        return;
    for (UINTN i = 0; i < n; i++) {
        if (e[i].AgentHandle != li->ParentHandle ||
            !(e[i].Attributes & EFI_OPEN_PROTOCOL_EXCLUSIVE))
            continue;
        EFI_STATUS st = efi_bs->CloseProtocol(nic, proto, e[i].AgentHandle,
                                              e[i].ControllerHandle);
        printf("pulsar: the program that started Pulsar holds the NIC "
               "open exclusively: CloseProtocol: %s\n", efi_status_str(st));
    }
    efi_bs->FreePool(e);
}

/** The device path of @h, or NULL. */
static EFI_DEVICE_PATH *devpath_of(EFI_HANDLE h)
{
    EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
    EFI_DEVICE_PATH *dp;

    return EFI_ERROR(efi_bs->HandleProtocol(h, &dp_guid, (void **)&dp))
               ? NULL
               : dp;
}

/**
 * The IPv4 PXE Base Code of the NIC with device path @nic_dp (@nic_len
 * bytes before its end): on the NIC's own handle (iPXE) or on its child
 * with an IPv4() node (EDK2; its IPv6 child cannot Start for IPv4).
 */
static EFI_PXE_BASE_CODE *pxe_below(const EFI_DEVICE_PATH *nic_dp,
                                    UINTN nic_len, EFI_HANDLE *out)
{
    EFI_GUID pxe_guid = EFI_PXE_BASE_CODE_PROTOCOL_GUID;
    EFI_HANDLE *handles = NULL, found = NULL;
    UINTN n = 0;

    if (EFI_ERROR(efi_bs->LocateHandleBuffer(ByProtocol, &pxe_guid, NULL,
                                             &n, &handles)))
        return NULL;
    for (UINTN i = 0; i < n && !found; i++) {
        const EFI_DEVICE_PATH *dp = devpath_of(handles[i]);
        UINTN dp_len = dp ? efi_devpath_len(dp) : 0;

        if (!dp || dp_len < nic_len || memcmp(dp, nic_dp, nic_len) != 0)
            continue;
        const EFI_DEVICE_PATH *next =
            (const EFI_DEVICE_PATH *)((const UINT8 *)dp + nic_len);
        if (dp_len == nic_len ||
            (next->Type == MSG_DEV && next->SubType == MSG_IPV4))
            found = handles[i];
    }
    efi_bs->FreePool(handles);
    EFI_PXE_BASE_CODE *pxe = NULL;
    if (found && !EFI_ERROR(efi_bs->HandleProtocol(found, &pxe_guid,
                                                   (void **)&pxe)))
        *out = found;
    return pxe;
}

/** A copy of the device path Pulsar came from (efi_net_remember). */
static EFI_DEVICE_PATH *own_path;

void efi_net_remember(EFI_HANDLE dev)
{
    EFI_DEVICE_PATH *dp;
    UINTN n;

    if (own_path || !(dp = devpath_of(dev)) || !(n = efi_devpath_len(dp)) ||
        EFI_ERROR(efi_bs->AllocatePool(EfiLoaderData, n + 4,
                                       (void **)&own_path)))
        return;
    memcpy(own_path, dp, n + 4); /* with its end node */
}

EFI_PXE_BASE_CODE *efi_pxe_find(EFI_HANDLE dev, EFI_HANDLE *handle,
                                char *msg, size_t len)
{
    EFI_GUID snp_guid = EFI_SIMPLE_NETWORK_PROTOCOL_GUID;
    EFI_DEVICE_PATH *dp = devpath_of(dev), *rest, *nic_dp;
    EFI_PXE_BASE_CODE *pxe;
    EFI_HANDLE nic;
    EFI_STATUS st;
    UINTN nic_len;

    if (!dp && !(dp = own_path)) {
        snprintf(msg, len, "no PXE Base Code and no device path on the "
                 "device Pulsar was loaded from");
        return NULL;
    }
    rest = dp;
    st = efi_bs->LocateDevicePath(&snp_guid, &rest, &nic);
    if (EFI_ERROR(st) || !(nic_dp = devpath_of(nic))) {
        snprintf(msg, len, "no PXE Base Code on the device Pulsar was "
                 "loaded from, and no NIC (Simple Network) on its device "
                 "path (LocateDevicePath: %s)", efi_status_str(st));
        return NULL;
    }
    nic_len = efi_devpath_len(nic_dp);
    if (!(pxe = pxe_below(nic_dp, nic_len, handle))) {
        /* The firmware's network drivers were disconnected (GRUB's
         * efinet opened the SNP exclusively): connect them again. */
        release_parent_hold(nic, &snp_guid);
        st = efi_bs->ConnectController(nic, NULL, NULL, TRUE);
        printf("pulsar: no PXE Base Code below the NIC: its drivers "
               "connected again (ConnectController: %s)\n",
               efi_status_str(st));
        if (!(pxe = pxe_below(nic_dp, nic_len, handle))) {
            /* Drivers half torn down (a program that took the NIC and
             * returned): all of them off the NIC, then on again. */
            EFI_STATUS dst = efi_bs->DisconnectController(nic, NULL, NULL);
            st = efi_bs->ConnectController(nic, NULL, NULL, TRUE);
            printf("pulsar: still none: the NIC's drivers disconnected (%s) "
                   "and connected again (%s)\n", efi_status_str(dst),
                   efi_status_str(st));
            pxe = pxe_below(nic_dp, nic_len, handle);
        }
        if (!pxe) {
            snprintf(msg, len, "no PXE Base Code on the NIC Pulsar was "
                     "loaded from, even after ConnectController (%s)",
                     efi_status_str(st));
            return NULL;
        }
    }
    if (!pxe->Mode->Started) {
        st = pxe->Start(pxe, FALSE);
        if (EFI_ERROR(st)) {
            snprintf(msg, len, "PxeBc Start: %s", efi_status_str(st));
            return NULL;
        }
    }
    if (!pxe->Mode->DhcpAckReceived) {
        printf("\npulsar: the NIC's PXE Base Code holds no DHCP answer: "
               "asking for one (PxeBc Dhcp)\n");
        st = pxe->Dhcp(pxe, TRUE);
        if (EFI_ERROR(st)) {
            snprintf(msg, len, "PxeBc Dhcp: %s", efi_status_str(st));
            return NULL;
        }
    }
    return pxe;
}
