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

#endif
