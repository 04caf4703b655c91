/* Choosing a VBE mode and describing it; see vbe.h. */
#include <string.h>

#include "lib/endian.h"
#include "lib/errno.h"
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

/** One colour field of a GOP bit mask: its lowest bit and its width.
 *  False when @mask is empty or not one contiguous run of bits. */
static bool mask_field(uint32_t mask, uint8_t *pos, uint8_t *size)
{
    unsigned p = 0, n = 0;

    if (!mask)
        return false;
    while (!(mask & 1)) {
        mask >>= 1;
        p++;
    }
    while (mask & 1) {
        mask >>= 1;
        n++;
    }
    if (mask) /* a second run: not a field */
        return false;
    *pos = (uint8_t)p;
    *size = (uint8_t)n;
    return true;
}

/**
 * The colour fields (red, green, blue position/size pairs, multiboot's
 * order) and bits per pixel of mode @m; false when it has no framebuffer.
 */
static bool gop_fields(const struct gop_mode *m, uint8_t color[6],
                       uint8_t *bpp)
{
    uint32_t all = 0;

    switch (m->format) {
    case GOP_PIXEL_RGBX8:
    case GOP_PIXEL_BGRX8: {
        uint8_t red = m->format == GOP_PIXEL_RGBX8 ? 0 : 16;
        const uint8_t c[6] = { red, 8, 8, 8, (uint8_t)(16 - red), 8 };

        memcpy(color, c, 6);
        *bpp = 32;
        return true;
    }
    case GOP_PIXEL_BITMASK:
        for (unsigned i = 0; i < 3; i++) {
            if (!mask_field(m->mask[i], &color[2 * i], &color[2 * i + 1]) ||
                (all & m->mask[i]))
                return false;
            all |= m->mask[i];
        }
        if (all & m->mask[3])
            return false;
        all |= m->mask[3];
        for (*bpp = 32; !(all >> (*bpp - 1)); (*bpp)--)
            ;
        return true;
    default: /* Blt only, or a format this code does not know */
        return false;
    }
}

/** How far mode @m is from the wishes in @mb (0: exactly them);
 *  UINT64_MAX when @m has no framebuffer. */
static uint64_t gop_distance(const struct gop_mode *m,
                             const struct mb_header *mb)
{
    uint8_t color[6], bpp;
    uint64_t size = 0, depth = 0;

    if (!gop_fields(m, color, &bpp) || !m->width || !m->height ||
        m->pixels_per_line < m->width || m->pixels_per_line > 65536 ||
        m->height > 65536)
        return UINT64_MAX; /* sizes past 64 Ki are the firmware's error */
    if (mb->width)
        size += m->width > mb->width ? m->width - mb->width
                                     : mb->width - m->width;
    if (mb->height)
        size += m->height > mb->height ? m->height - mb->height
                                       : mb->height - m->height;
    if (mb->depth)
        depth = bpp > mb->depth ? bpp - mb->depth : mb->depth - bpp;
    return (size << 8) | depth; /* size first; depth is under 256 apart */
}

/** Pick the closest GOP mode; see vbe.h. */
int gop_mode_pick(const struct gop_mode *modes, unsigned n, unsigned current,
                  const struct mb_header *mb)
{
    uint64_t best = UINT64_MAX;
    int pick = -1;

    if (current < n && (best = gop_distance(&modes[current], mb)) !=
                           UINT64_MAX)
        pick = (int)current;
    for (unsigned i = 0; i < n; i++) {
        uint64_t d = gop_distance(&modes[i], mb);

        if (d < best) {
            best = d;
            pick = (int)i;
        }
    }
    return pick;
}

/** Describe GOP mode @m as a multiboot framebuffer; see vbe.h. */
int gop_fb_from_mode(const struct gop_mode *m, uint64_t base,
                     struct mbi_video *v)
{
    uint8_t color[6], bpp;

    if (gop_distance(m, &(struct mb_header){ 0 }) == UINT64_MAX ||
        !gop_fields(m, color, &bpp))
        return -PE_UNSUPP;
    v->has_fb = true;
    v->fb_addr = base;
    v->fb_pitch = m->pixels_per_line * ((bpp + 7u) / 8u);
    v->fb_width = m->width;
    v->fb_height = m->height;
    v->fb_bpp = bpp;
    v->fb_type = MB_FB_RGB;
    memcpy(v->fb_color, color, 6);
    return 0;
}
