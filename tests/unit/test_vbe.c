/*
 * Unit tests for loader/vbe.c: which VBE mode suits a multiboot header's
 * video wishes, and the framebuffer fields made from a mode info block.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

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

/** Run every test in this file. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_fb),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
