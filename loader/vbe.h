/*
 * VESA BIOS Extensions: choosing a graphics mode for a multiboot kernel
 * (header flag bit 2) and describing it in the multiboot framebuffer
 * fields.  Pure C over the 256-byte VBE mode info blocks, so it is
 * unit-tested on the host; boot/bios/video.c asks the BIOS.
 */
#ifndef PULSAR_VBE_H
#define PULSAR_VBE_H

#include <stdint.h>
#include "loader/image.h"
#include "mb/mbinfo.h"

#define VBE_MODE_INFO_LEN 256
#define VBE_CONTROL_INFO_LEN 512

/**
 * How well the mode described by @mi suits the header's wishes (@mb:
 * width, height, depth; 0 = no preference): 0 when unusable (not a
 * supported direct-colour graphics mode with a linear framebuffer, or
 * not the asked size), else higher for deeper colour, then more pixels.
 */
uint32_t vbe_mode_score(const uint8_t *mi, const struct mb_header *mb);

/** Fill @v's framebuffer fields (RGB) from mode info @mi. */
void vbe_fb_from_mode(const uint8_t *mi, struct mbi_video *v);

/** Fill @v's framebuffer fields for 80x25 EGA text at 0xB8000. */
void vbe_fb_text(struct mbi_video *v);

/*
 * UEFI's Graphics Output Protocol, described without EFI types (the face,
 * boot/efi/video.c, copies the firmware's mode information into these).
 * The pixel formats are numbered as EFI_GRAPHICS_PIXEL_FORMAT numbers them.
 */
enum gop_pixel {
    GOP_PIXEL_RGBX8 = 0,  /* byte 0 red, 1 green, 2 blue, 3 reserved */
    GOP_PIXEL_BGRX8 = 1,  /* byte 0 blue, 1 green, 2 red, 3 reserved */
    GOP_PIXEL_BITMASK = 2, /* the masks say */
    GOP_PIXEL_BLT_ONLY = 3 /* no framebuffer: Blt() only */
};

/** One GOP mode. */
struct gop_mode {
    uint32_t width, height;   /* HorizontalResolution, VerticalResolution */
    uint32_t pixels_per_line; /* PixelsPerScanLine */
    uint32_t format;          /* enum gop_pixel (firmware's value) */
    uint32_t mask[4];         /* red, green, blue, reserved (BITMASK) */
};

/**
 * The mode of @modes (@n of them; @current: the one set now) closest to
 * the header's wishes (@mb: width, height, depth; 0 = no preference):
 * the smallest difference in size, then in depth; a tie keeps @current.
 * Modes without a framebuffer (Blt only, bad masks) are never chosen.
 * Returns the index, or -1 when no mode has a framebuffer.
 */
int gop_mode_pick(const struct gop_mode *modes, unsigned n, unsigned current,
                  const struct mb_header *mb);

/**
 * Fill @v's framebuffer fields (RGB) for mode @m with its framebuffer at
 * @base.  Returns 0, or -PE_UNSUPP when @m has no framebuffer (Blt only,
 * or masks that are empty, overlap or are not contiguous).
 */
int gop_fb_from_mode(const struct gop_mode *m, uint64_t base,
                     struct mbi_video *v);

#endif
