/*
 * The multiboot kernel's video wishes on UEFI (header flag bit 2): the
 * Graphics Output Protocol's mode closest to them is set (or the one set
 * now kept) and described as an RGB framebuffer (flags bit 12).  There is
 * no VBE on UEFI (bit 11 stays clear) and no EGA text mode: OVMF's screen
 * is GOP graphics.  Choosing and describing is pure (loader/vbe.c); this
 * file only asks the firmware.
 */
#include "boot/efi/uefi.h"
#include "lib/errno.h"
#include "loader/vbe.h"
#include "mb/multiboot.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Most GOP modes looked at (OVMF offers about 30). */
#define GOP_MODES_MAX 128

/** The GOP on the console's handle, else the first one there is. */
static EFI_GRAPHICS_OUTPUT_PROTOCOL *gop_find(void)
{
    EFI_GUID guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;

    if (EFI_ERROR(efi_bs->HandleProtocol(efi_st->ConsoleOutHandle, &guid,
                                         (void **)&gop)) || !gop)
        if (EFI_ERROR(efi_bs->LocateProtocol(&guid, NULL, (void **)&gop)))
            gop = NULL;
    return gop && gop->Mode ? gop : NULL;
}

/** Copy the firmware's description of a mode into @m. */
static void gop_copy(const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *in,
                     struct gop_mode *m)
{
    m->width = in->HorizontalResolution;
    m->height = in->VerticalResolution;
    m->pixels_per_line = in->PixelsPerScanLine;
    m->format = (uint32_t)in->PixelFormat;
    m->mask[0] = in->PixelInformation.RedMask;
    m->mask[1] = in->PixelInformation.GreenMask;
    m->mask[2] = in->PixelInformation.BlueMask;
    m->mask[3] = in->PixelInformation.ReservedMask;
}

int efi_video_prepare(const struct mb_header *mb, struct mbi_video *v)
{
    static struct gop_mode modes[GOP_MODES_MAX];
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;
    struct gop_mode now;
    unsigned n, cur;
    EFI_STATUS st;
    UINTN size;
    int pick;

    memset(v, 0, sizeof(*v));
    if (!(mb->flags & MB_HFLAG_VIDEO))
        return 0;
    if (!(gop = gop_find())) {
        printf("pulsar: video: no Graphics Output Protocol; the kernel "
               "gets no framebuffer\n");
        return -PE_UNSUPP;
    }
    if (mb->mode_type != 0)
        printf("pulsar: video: the kernel asks for EGA text, which UEFI "
               "does not have; a graphics mode instead\n");
    n = gop->Mode->MaxMode < GOP_MODES_MAX ? gop->Mode->MaxMode
                                           : GOP_MODES_MAX;
    cur = gop->Mode->Mode;
    for (unsigned i = 0; i < n; i++) {
        memset(&modes[i], 0, sizeof(modes[i]));
        modes[i].format = GOP_PIXEL_BLT_ONLY; /* unless QueryMode says */
        if (EFI_ERROR(gop->QueryMode(gop, i, &size, &info)))
            continue;
        if (size >= sizeof(*info))
            gop_copy(info, &modes[i]);
        efi_bs->FreePool(info);
    }
    if ((pick = gop_mode_pick(modes, n, cur, mb)) < 0) {
        printf("pulsar: video: no GOP mode has a framebuffer (Blt only); "
               "the kernel gets none\n");
        return -PE_UNSUPP;
    }
    st = (unsigned)pick != cur ? gop->SetMode(gop, (UINT32)pick)
                               : EFI_SUCCESS;
    if (EFI_ERROR(st)) {
        printf("pulsar: video: GOP SetMode(%d): %s; the kernel gets no "
               "framebuffer\n", pick, efi_status_str(st));
        return -PE_IO;
    }
    /* What the firmware says now, not what was asked for. */
    if (!gop->Mode->Info || gop->Mode->SizeOfInfo < sizeof(*info))
        return -PE_IO;
    gop_copy(gop->Mode->Info, &now);
    if (gop_fb_from_mode(&now, gop->Mode->FrameBufferBase, v) != 0) {
        printf("pulsar: video: GOP mode %u has no framebuffer; the kernel "
               "gets none\n", gop->Mode->Mode);
        return -PE_UNSUPP;
    }
    printf("pulsar: video: GOP mode %u, %ux%ux%u, framebuffer at %llx%s\n",
           gop->Mode->Mode, v->fb_width, v->fb_height, v->fb_bpp,
           (unsigned long long)v->fb_addr,
           (mb->width && mb->width != v->fb_width) ||
                   (mb->height && mb->height != v->fb_height) ||
                   (mb->depth && mb->depth != v->fb_bpp)
               ? " (the closest to what the kernel asks)"
               : "");
    return 0;
}
