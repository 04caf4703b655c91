/* VBE through the real-mode thunk; see video.h. */
#include <stdio.h>
#include <string.h>

#include "boot/bios/realmode.h"
#include "lib/console.h"
#include "lib/endian.h"
#include "lib/errno.h"
#include "loader/vbe.h"
#include "boot/bios/video.h"
#include "mb/multiboot.h"
#include "boot/bios/pxe.h"

#define VBE_OK 0x004F        /* AX after a successful 4F0x call */
#define VBE_LFB (1u << 14)   /* 4F02: use the linear framebuffer */
#define VBE_MAX_MODES 256    /* bounds the walk of the BIOS's mode list */
#define MODE_LIST_PTR 14     /* controller info: far pointer to the list */

/** INT 10h AX=@ax with ES:DI = @buf (below 1 MiB) and CX, BX given. */
static int vbe_call(uint16_t ax, uint32_t bx, uint32_t cx, void *buf,
                    struct rm_regs *r)
{
    uint32_t lin = (uint32_t)buf;

    memset(r, 0, sizeof(*r));
    r->eax = ax;
    r->ebx = bx;
    r->ecx = cx;
    r->es = (uint16_t)(lin >> 4);
    r->edi = lin & 15;
    rm_int(0x10, r);
    return (r->eax & 0xFFFF) == VBE_OK ? 0 : -PE_IO;
}

/** Pick the mode; see video.h. */
uint16_t video_prepare(const struct mb_header *mb, struct mbi_video *v)
{
    /* The BIOS writes below 1 MiB: the PXE bounce buffer is ours. */
    uint8_t *ctl = pxe_bounce, *mi = pxe_bounce + VBE_CONTROL_INFO_LEN;
    uint16_t list[VBE_MAX_MODES], best_mode = 0;
    uint32_t best = 0;
    unsigned n = 0;
    struct rm_regs r;
    bool want = (mb->flags & MB_HFLAG_VIDEO) && mb->mode_type == 0;

    memset(v, 0, sizeof(*v));
    vbe_fb_text(v); /* until a mode is set, the kernel gets text mode */
    memcpy(ctl, "VBE2", 4); /* ask for VBE 2.0+ fields */
    if (vbe_call(0x4F00, 0, 0, ctl, &r) != 0 || memcmp(ctl, "VESA", 4)) {
        if (want)
            printf("pulsar: video: no VBE BIOS; staying in text mode\n");
        return 0;
    }
    memcpy(v->control, ctl, VBE_CONTROL_INFO_LEN);
    v->has_vbe = true;
    /* The mode list may lie in ctl itself: copy it before reusing ctl. */
    {
        const uint16_t *m =
            (const uint16_t *)segoff_to_lin(le32(ctl + MODE_LIST_PTR));

        for (; want && n < VBE_MAX_MODES && m[n] != 0xFFFF; n++)
            list[n] = m[n];
    }
    for (unsigned i = 0; i < n; i++) {
        uint32_t s;

        memset(mi, 0, VBE_MODE_INFO_LEN);
        if (vbe_call(0x4F01, 0, list[i], mi, &r) != 0)
            continue;
        if ((s = vbe_mode_score(mi, mb)) > best) {
            best = s;
            best_mode = list[i];
            memcpy(v->mode, mi, VBE_MODE_INFO_LEN);
        }
    }
    /* 4F03: the current mode; 4F0A: the protected-mode interface. */
    v->mode_nr = vbe_call(0x4F03, 0, 0, mi, &r) == 0 ? (uint16_t)r.ebx : 3;
    if (vbe_call(0x4F0A, 0, 0, mi, &r) == 0) {
        v->if_seg = r.es;
        v->if_off = (uint16_t)r.edi;
        v->if_len = (uint16_t)r.ecx;
    }
    if (!best_mode) {
        /* Like GRUB: the text mode a VBE mode info cannot describe. */
        memset(v->mode, 0, VBE_MODE_INFO_LEN);
        v->mode[18] = 80;
        v->mode[20] = 25;
        if (want)
            printf("pulsar: video: no %ux%ux%u direct-colour mode with a "
                   "linear framebuffer; staying in text mode\n",
                   mb->width, mb->height, mb->depth);
        return 0;
    }
    printf("pulsar: video: VBE mode 0x%x, %ux%ux%u\n", best_mode,
           v->mode[18] | v->mode[19] << 8, v->mode[20] | v->mode[21] << 8,
           v->mode[25]);
    return best_mode;
}

/** Switch to @mode; see video.h. */
int video_set(uint16_t mode, struct mbi_video *v)
{
    struct rm_regs r;

    if (vbe_call(0x4F02, mode | VBE_LFB, 0, pxe_bounce, &r) != 0) {
        printf("pulsar: video: setting VBE mode 0x%x failed (AX=%04x); "
               "staying in text mode\n", mode, r.eax & 0xFFFF);
        memset(v->mode, 0, VBE_MODE_INFO_LEN);
        v->mode[18] = 80;
        v->mode[20] = 25;
        return -PE_IO;
    }
    v->mode_nr = mode;
    vbe_fb_from_mode(v->mode, v);
    return 0;
}
