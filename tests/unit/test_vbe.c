/*
 * Unit tests for loader/vbe.c: which VBE mode suits a multiboot header's
 * video wishes, and the framebuffer fields made from a mode info block;
 * the same for UEFI GOP modes (the closest mode, the pixel formats).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "loader/vbe.h"
#include "mb/multiboot.h"

/** A mode info block: @x x @y x @bpp direct colour with an LFB. */
static void mode(uint8_t *mi, unsigned x, unsigned y, unsigned bpp)
{
    memset(mi, 0, VBE_MODE_INFO_LEN);
    mi[0] = 0x9B;          /* supported, colour, graphics, LFB */
    mi[16] = (uint8_t)(x * bpp / 8);
    mi[17] = (uint8_t)((x * bpp / 8) >> 8);
    mi[18] = (uint8_t)x;
    mi[19] = (uint8_t)(x >> 8);
    mi[20] = (uint8_t)y;
    mi[21] = (uint8_t)(y >> 8);
    mi[25] = (uint8_t)bpp;
    mi[27] = 6;            /* direct colour */
    mi[31] = 8;            /* red: 8 bits at 16 */
    mi[32] = 16;
    mi[33] = 8;            /* green: 8 bits at 8 */
    mi[34] = 8;
    mi[35] = 8;            /* blue: 8 bits at 0 */
    mi[36] = 0;
    mi[40] = 0x00;         /* PhysBasePtr 0xFD000000 */
    mi[43] = 0xFD;
}

/** Exact wishes match only the asked size; 0 fields mean any. */
static void test_score(void **state)
{
    uint8_t a[256], b[256];
    struct mb_header mb;

    (void)state;
    memset(&mb, 0, sizeof(mb));
    mb.width = 800;
    mb.height = 600;
    mb.depth = 32;
    mode(a, 800, 600, 32);
    assert_true(vbe_mode_score(a, &mb) > 0);
    mode(a, 1024, 768, 32);
    assert_int_equal(vbe_mode_score(a, &mb), 0);
    mode(a, 800, 600, 16);
    assert_int_equal(vbe_mode_score(a, &mb), 0);

    /* No preference: deeper colour wins, then more pixels. */
    memset(&mb, 0, sizeof(mb));
    mode(a, 1024, 768, 16);
    mode(b, 640, 480, 32);
    assert_true(vbe_mode_score(b, &mb) > vbe_mode_score(a, &mb));
    mode(a, 1024, 768, 32);
    assert_true(vbe_mode_score(a, &mb) > vbe_mode_score(b, &mb));

    /* Unusable modes: no LFB, text, indexed colour, no address. */
    mode(a, 800, 600, 32);
    a[0] &= (uint8_t)~0x80;
    assert_int_equal(vbe_mode_score(a, &mb), 0);
    mode(a, 800, 600, 32);
    a[0] &= (uint8_t)~0x10;
    assert_int_equal(vbe_mode_score(a, &mb), 0);
    mode(a, 800, 600, 8);
    a[27] = 4;
    assert_int_equal(vbe_mode_score(a, &mb), 0);
    mode(a, 800, 600, 32);
    a[43] = 0;
    assert_int_equal(vbe_mode_score(a, &mb), 0);
}

/** The framebuffer fields, colour positions before sizes. */
static void test_fb(void **state)
{
    uint8_t mi[256];
    static struct mbi_video v;
    static const uint8_t color[6] = { 16, 8, 8, 8, 0, 8 };

    (void)state;
    mode(mi, 800, 600, 32);
    vbe_fb_from_mode(mi, &v);
    assert_true(v.has_fb);
    assert_true(v.fb_addr == 0xFD000000ull);
    assert_int_equal(v.fb_pitch, 3200);
    assert_int_equal(v.fb_width, 800);
    assert_int_equal(v.fb_height, 600);
    assert_int_equal(v.fb_bpp, 32);
    assert_int_equal(v.fb_type, MB_FB_RGB);
    assert_memory_equal(v.fb_color, color, 6);
    /* VBE 3.0's linear pitch wins when given. */
    mi[50] = 0x00;
    mi[51] = 0x10;
    vbe_fb_from_mode(mi, &v);
    assert_int_equal(v.fb_pitch, 4096);

    vbe_fb_text(&v);
    assert_true(v.fb_addr == 0xB8000);
    assert_int_equal(v.fb_pitch, 160);
    assert_int_equal(v.fb_width, 80);
    assert_int_equal(v.fb_height, 25);
    assert_int_equal(v.fb_bpp, 16);
    assert_int_equal(v.fb_type, MB_FB_EGA_TEXT);
}

/** A GOP mode of @x x @y in @format, @ppl pixels per scan line. */
static struct gop_mode gop(unsigned x, unsigned y, unsigned format,
                           unsigned ppl)
{
    struct gop_mode m = { x, y, ppl, format, { 0, 0, 0, 0 } };
    return m;
}

/** The closest GOP mode: exact wins, else the least size difference,
 *  then depth; no preference and ties keep the current mode. */
static void test_gop_pick(void **state)
{
    struct gop_mode m[5];
    struct mb_header mb;

    (void)state;
    memset(&mb, 0, sizeof(mb));
    m[0] = gop(1280, 800, GOP_PIXEL_BGRX8, 1280);
    m[1] = gop(640, 480, GOP_PIXEL_BGRX8, 640);
    m[2] = gop(800, 600, GOP_PIXEL_BGRX8, 800);
    m[3] = gop(1024, 768, GOP_PIXEL_BGRX8, 1024);
    m[4] = gop(800, 600, GOP_PIXEL_BLT_ONLY, 800);
    /* No preference: whatever is set now. */
    assert_int_equal(gop_mode_pick(m, 5, 0, &mb), 0);
    assert_int_equal(gop_mode_pick(m, 5, 3, &mb), 3);
    mb.width = 800;
    mb.height = 600;
    mb.depth = 32;
    assert_int_equal(gop_mode_pick(m, 5, 0, &mb), 2);
    /* 1234x567: 1280x800 is 46+233 away, 1024x768 210+201, 800x600
     * 434+33. */
    mb.width = 1234;
    mb.height = 567;
    assert_int_equal(gop_mode_pick(m, 5, 1, &mb), 0);
    /* Only a width wished for. */
    mb.width = 1000;
    mb.height = 0;
    assert_int_equal(gop_mode_pick(m, 5, 0, &mb), 3);
    /* The current mode wins a tie (two 800x600 entries, one Blt only,
     * which never counts). */
    mb.width = 800;
    mb.height = 600;
    m[1] = gop(800, 600, GOP_PIXEL_RGBX8, 800);
    assert_int_equal(gop_mode_pick(m, 5, 1, &mb), 1);
    assert_int_equal(gop_mode_pick(m, 5, 4, &mb), 1);
    /* Depth: a 16-bit mask mode loses to a 32-bit one of the same size
     * when 32 is asked, wins when 16 is. */
    m[1] = gop(800, 600, GOP_PIXEL_BITMASK, 800);
    m[1].mask[0] = 0xF800;
    m[1].mask[1] = 0x07E0;
    m[1].mask[2] = 0x001F;
    assert_int_equal(gop_mode_pick(m, 5, 1, &mb), 2);
    mb.depth = 16;
    assert_int_equal(gop_mode_pick(m, 5, 0, &mb), 1);
    /* Nothing with a framebuffer. */
    assert_int_equal(gop_mode_pick(&m[4], 1, 0, &mb), -1);
    assert_int_equal(gop_mode_pick(m, 0, 0, &mb), -1);
}

/** GOP framebuffer fields from each pixel format; Blt only and bad
 *  masks give none. */
static void test_gop_fb(void **state)
{
    static struct mbi_video v;
    static const uint8_t bgr[6] = { 16, 8, 8, 8, 0, 8 };
    static const uint8_t rgb[6] = { 0, 8, 8, 8, 16, 8 };
    static const uint8_t r565[6] = { 11, 5, 5, 6, 0, 5 };
    struct gop_mode m = gop(800, 600, GOP_PIXEL_BGRX8, 832);

    (void)state;
    assert_int_equal(gop_fb_from_mode(&m, 0x80000000ull, &v), 0);
    assert_true(v.has_fb);
    assert_false(v.has_vbe);
    assert_true(v.fb_addr == 0x80000000ull);
    assert_int_equal(v.fb_pitch, 832 * 4); /* scan line, not width */
    assert_int_equal(v.fb_width, 800);
    assert_int_equal(v.fb_height, 600);
    assert_int_equal(v.fb_bpp, 32);
    assert_int_equal(v.fb_type, MB_FB_RGB);
    assert_memory_equal(v.fb_color, bgr, 6);

    m.format = GOP_PIXEL_RGBX8;
    assert_int_equal(gop_fb_from_mode(&m, 0xC0000000ull, &v), 0);
    assert_memory_equal(v.fb_color, rgb, 6);

    m = gop(640, 480, GOP_PIXEL_BITMASK, 640);
    m.mask[0] = 0xF800;
    m.mask[1] = 0x07E0;
    m.mask[2] = 0x001F;
    assert_int_equal(gop_fb_from_mode(&m, 0xC0000000ull, &v), 0);
    assert_int_equal(v.fb_bpp, 16);
    assert_int_equal(v.fb_pitch, 1280);
    assert_memory_equal(v.fb_color, r565, 6);
    m.mask[3] = 0xFF000000u; /* a reserved byte on top: 32 bits */
    assert_int_equal(gop_fb_from_mode(&m, 0xC0000000ull, &v), 0);
    assert_int_equal(v.fb_bpp, 32);
    assert_int_equal(v.fb_pitch, 2560);

    memset(&v, 0, sizeof(v));
    m.mask[3] = 0x00010000u | 0x1; /* overlaps blue */
    assert_int_equal(gop_fb_from_mode(&m, 0, &v), -PE_UNSUPP);
    m.mask[3] = 0;
    m.mask[1] = 0x0660; /* two runs */
    assert_int_equal(gop_fb_from_mode(&m, 0, &v), -PE_UNSUPP);
    m.mask[1] = 0;
    assert_int_equal(gop_fb_from_mode(&m, 0, &v), -PE_UNSUPP);
    m = gop(800, 600, GOP_PIXEL_BLT_ONLY, 800);
    assert_int_equal(gop_fb_from_mode(&m, 0, &v), -PE_UNSUPP);
    m = gop(800, 600, 7, 800); /* a format this code does not know */
    assert_int_equal(gop_fb_from_mode(&m, 0, &v), -PE_UNSUPP);
    m = gop(800, 600, GOP_PIXEL_BGRX8, 700); /* line shorter than width */
    assert_int_equal(gop_fb_from_mode(&m, 0, &v), -PE_UNSUPP);
    m = gop(800, 600, GOP_PIXEL_BGRX8, 0x40000000u); /* pitch overflows */
    assert_int_equal(gop_fb_from_mode(&m, 0, &v), -PE_UNSUPP);
    assert_false(v.has_fb);
}

/** Run every test in this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_fb),
        cmocka_unit_test(test_gop_pick),
        cmocka_unit_test(test_gop_fb),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
