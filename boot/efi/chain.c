/*
 * `chld` on UEFI: the session fetched the other boot program into its
 * staging buffer and checked its PE headers (loader/pe.c); here it is
 * loaded from that memory and started on the NIC Pulsar came from
 * (boot/efi/image.c).  Pulsar's PXE Base Code stays started, its DHCP
 * packets in its Mode, as when the firmware boots a program itself.
 * An EFI application may return (GRUB's `exit`, iPXE with nothing to
 * boot): its status is reported and Pulsar starts over, never back to
 * the firmware.
 */
#include "boot/efi/chain.h"
#include "boot/efi/image.h"
#include "boot/efi/uefi.h"
#include "lib/errno.h"
#include <stdio.h>

int efi_chain_start(struct session *s)
{
    const struct cfg_item *it = s->item;
    const void *buf = efi_guest_whole(s, it, (uint32_t)s->chld_staged,
                                      s->chld_size);
    char text[96];
    EFI_HANDLE child;
    EFI_STATUS st;
    int rc;

    if (!buf)
        return session_error(s, -PE_RANGE, "internal error: chld: %s is "
                             "not staged", it->path);
    if ((rc = efi_image_load(buf, s->chld_size, it->path, &child, s->msg,
                             sizeof(s->msg))) != 0)
        return session_error(s, rc, "%s:%u: chld: %s: %s", it->src_file,
                             it->src_line, it->path, s->msg);
    printf("%s: starting %s\n", s->face->prog, it->path);
    efi_pxe_release(); /* the child may use the PXE Base Code itself */
    efi_image_start(child, &st, text, sizeof(text));
    /* An application that returned is unloaded by the firmware. */
    return session_error(s, EFI_ERROR(st) ? -PE_IO : -PE_UNSUPP,
                         "%s:%u: chld: %s returned %s%s%s%s", it->src_file,
                         it->src_line, it->path, efi_status_str(st),
                         text[0] ? " (\"" : "", text, text[0] ? "\")" : "");
}
