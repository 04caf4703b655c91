/* Choosing a VBE mode and describing it; see vbe.h. */
#include <string.h>

#include "lib/endian.h"
#include "loader/vbe.h"
#include "mb/multiboot.h"

/* VBE 3.0 mode info block offsets and values. */
#define MI_ATTR 0        /* u16 ModeAttributes */
#define MI_PITCH 16      /* u16 BytesPerScanLine */
#define MI_XRES 18       /* u16 */
#define MI_YRES 20       /* u16 */
#define MI_BPP 25        /* u8 BitsPerPixel */
#define MI_MODEL 27      /* u8 MemoryModel */
#define MI_RED_SIZE 31   /* then RedFieldPosition, green, blue pairs */
#define MI_PHYS_BASE 40  /* u32 PhysBasePtr */
#define MI_LIN_PITCH 50  /* u16 LinBytesPerScanLine (VBE 3.0) */
/* Supported by the hardware, graphics, linear framebuffer available. */
#define ATTR_NEEDED ((1u << 0) | (1u << 4) | (1u << 7))
#define MODEL_DIRECT 6

/** Score mode info @mi against the header's wishes; see vbe.h. */
uint32_t vbe_mode_score(const uint8_t *mi, const struct mb_header *mb)
{
    uint32_t x = le16(mi + MI_XRES), y = le16(mi + MI_YRES);
    uint32_t bpp = mi[MI_BPP];

    /* Direct colour only: an indexed mode would need a palette too. */
    if ((le16(mi + MI_ATTR) & ATTR_NEEDED) != ATTR_NEEDED ||
        mi[MI_MODEL] != MODEL_DIRECT || bpp < 15 || bpp > 32 || !x || !y ||
        !(mi[MI_PHYS_BASE] | mi[MI_PHYS_BASE + 1] | mi[MI_PHYS_BASE + 2] |
          mi[MI_PHYS_BASE + 3]))
        return 0;
    if ((mb->width && mb->width != x) || (mb->height && mb->height != y) ||
        (mb->depth && mb->depth != bpp))
        return 0;
    /* x * y < 2^32 / 64 as both are 16-bit; bpp <= 32 fits above it. */
    return (bpp << 26) | ((x * y) >> 6) | 1;
}

/** Describe the mode in @mi as an RGB framebuffer; see vbe.h. */
void vbe_fb_from_mode(const uint8_t *mi, struct mbi_video *v)
{
    uint32_t pitch = le16(mi + MI_LIN_PITCH);

    if (!pitch) /* before VBE 3.0 the banked pitch is the linear one */
        pitch = le16(mi + MI_PITCH);
    v->has_fb = true;
    v->fb_addr = le32(mi + MI_PHYS_BASE);
    v->fb_pitch = pitch;
    v->fb_width = le16(mi + MI_XRES);
    v->fb_height = le16(mi + MI_YRES);
    v->fb_bpp = mi[MI_BPP];
    v->fb_type = MB_FB_RGB;
    /* Multiboot wants position then size; VBE gives size then position. */
    for (unsigned i = 0; i < 3; i++) {
        v->fb_color[2 * i] = mi[MI_RED_SIZE + 2 * i + 1];
        v->fb_color[2 * i + 1] = mi[MI_RED_SIZE + 2 * i];
    }
}

/** Describe 80x25 EGA text mode; see vbe.h. */
void vbe_fb_text(struct mbi_video *v)
{
    v->has_fb = true;
    v->fb_addr = 0xB8000;
    v->fb_pitch = 160; /* a character and an attribute byte per cell */
    v->fb_width = 80;
    v->fb_height = 25;
    v->fb_bpp = 16;
    v->fb_type = MB_FB_EGA_TEXT;
    memset(v->fb_color, 0, sizeof(v->fb_color));
}
