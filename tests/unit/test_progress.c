/* Unit tests for lib/progress.c: pacing and the text of the progress line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "lib/progress.h"

#define MIB (1u << 20)

/** Updates come every PROGRESS_EVERY ticks, not more often. */
static void test_due_paces_updates(void **state)
{
    struct progress p;
    (void)state;
    progress_start(&p, "m", 100, 1000);
    assert_false(progress_due(&p, 1000));
    assert_false(progress_due(&p, 1000 + PROGRESS_EVERY - 1));
    assert_true(progress_due(&p, 1000 + PROGRESS_EVERY));
    assert_false(progress_due(&p, 1000 + PROGRESS_EVERY));
    assert_false(progress_due(&p, 1000 + 2 * PROGRESS_EVERY - 1));
    /* A long stall gives one update, then pacing from there. */
    assert_true(progress_due(&p, 1000 + 100));
    assert_false(progress_due(&p, 1000 + 101));
}

/** The BIOS count wraps at midnight; elapsed time must not jump. */
static void test_elapsed_across_midnight(void **state)
{
    struct progress p;
    (void)state;
    progress_start(&p, "m", 0, PROGRESS_TICKS_PER_DAY - 3);
    assert_int_equal(progress_elapsed(&p, PROGRESS_TICKS_PER_DAY - 1), 2);
    assert_int_equal(progress_elapsed(&p, 5), 8);
    /* A start value beyond the wrap point is garbage: no huge number. */
    progress_start(&p, "m", 0, 0xFFFFFFF0u);
    assert_int_equal(progress_elapsed(&p, 3), 0);
}

/** The line: name, done / total, percent, rate; padded to the width. */
static void test_line_text(void **state)
{
    struct progress p;
    char buf[PROGRESS_WIDTH + 1];
    (void)state;
    progress_start(&p, "demo/mod.bin", 64 * MIB, 100);
    /* 16 MiB after 18207 ticks / 1000 s = 1 s: 16.0 MiB/s. */
    progress_line(&p, 16 * MIB, 100 + 18207 / 1000 * 1, buf, sizeof(buf));
    assert_int_equal(strlen(buf), PROGRESS_WIDTH);
    assert_non_null(strstr(buf, "  demo/mod.bin  16.0 / 64.0 MiB   25%  "));
    /* 18 ticks is 0.9886 s: 16 MiB in it is 16.18 MiB/s, shown 16.1. */
    assert_non_null(strstr(buf, "16.1 MiB/s"));
    assert_int_equal(buf[PROGRESS_WIDTH - 1], ' ');

    /* No tick yet: no rate.  Unknown total: no percent. */
    progress_start(&p, "x", 0, 7);
    progress_line(&p, 3 * MIB / 2, 7, buf, sizeof(buf));
    assert_string_equal(strtok(buf, " "), "x");
    assert_string_equal(strtok(NULL, " "), "1.5");
    assert_string_equal(strtok(NULL, " "), "MiB");
    assert_null(strtok(NULL, " "));
}

/** More than 100% (a file that grew) is shown as 100%. */
static void test_line_caps_percent(void **state)
{
    struct progress p;
    char buf[PROGRESS_WIDTH + 1];
    (void)state;
    progress_start(&p, "f", MIB, 0);
    progress_line(&p, 2 * MIB, 10, buf, sizeof(buf));
    assert_non_null(strstr(buf, " 100%"));
}

/** A long name keeps its tail and the line still fits the width. */
static void test_line_long_name(void **state)
{
    struct progress p;
    char name[200], buf[PROGRESS_WIDTH + 1];
    (void)state;
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    memcpy(name + sizeof(name) - 9, "tail.bin", 8);
    progress_start(&p, name, 4000u * MIB, 0);
    progress_line(&p, 4000u * MIB, 182070, buf, sizeof(buf));
    assert_int_equal(strlen(buf), PROGRESS_WIDTH);
    assert_non_null(strstr(buf, "tail.bin  4000.0 / 4000.0 MiB  100%"));
    /* 4000 MiB in 10000 s. */
    assert_non_null(strstr(buf, "0.4 MiB/s"));
}

/** The final words: time in tenths of a second and the rate. */
static void test_summary(void **state)
{
    char buf[48];
    (void)state;
    assert_string_equal(progress_summary(64 * MIB, 0, buf, sizeof(buf)),
                        "in < 0.1 s");
    /* 18207 ticks = 1000 s. */
    assert_string_equal(progress_summary(64 * MIB, 18207, buf, sizeof(buf)),
                        "in 1000.0 s, 0.0 MiB/s");
    /* 22 ticks = 1.208 s: 64 MiB in it is 52.9 MiB/s. */
    assert_string_equal(progress_summary(64 * MIB, 22, buf, sizeof(buf)),
                        "in 1.2 s, 52.9 MiB/s");
    /* 4 GiB - 1 in one tick (4096 * 18.207): no overflow. */
    assert_string_equal(progress_summary(0xFFFFFFFFu, 1, buf, sizeof(buf)),
                        "in 0.1 s, 74575.8 MiB/s");
}

/* ------------------------------------------------------------ display */

static uint32_t fake_now;
static char screen[4096];

static uint32_t fake_ticks(void)
{
    return fake_now;
}

static void fake_write(const char *s)
{
    strncat(screen, s, sizeof(screen) - strlen(screen) - 1);
}

static struct progress_display disp = {.ticks = fake_ticks,
                                       .write = fake_write};

/** A quick file draws nothing and ends with its time. */
static void test_display_quick_file(void **state)
{
    (void)state;
    screen[0] = '\0';
    fake_now = 100;
    progress_display_start(&disp, "k", 10);
    progress_display_update(&disp, 10);
    assert_string_equal(progress_display_end(&disp, 10), "in < 0.1 s");
    assert_string_equal(screen, "");
}

/** A slow file redraws in place with CR, then is blanked at its end. */
static void test_display_redraw_and_blank(void **state)
{
    char want[1024], line[PROGRESS_WIDTH + 1], blank[PROGRESS_WIDTH + 1];
    struct progress p;
    (void)state;
    screen[0] = '\0';
    fake_now = 1000;
    progress_display_start(&disp, "mod", 4 * MIB);
    fake_now += PROGRESS_EVERY;
    progress_display_update(&disp, MIB);
    progress_display_update(&disp, 2 * MIB); /* not due yet: nothing */
    progress_start(&p, "mod", 4 * MIB, 1000);
    progress_line(&p, MIB, 1000 + PROGRESS_EVERY, line, sizeof(line));
    memset(blank, ' ', PROGRESS_WIDTH);
    blank[PROGRESS_WIDTH] = '\0';
    snprintf(want, sizeof(want), "\r%s\r%s\r", line, blank);
    progress_display_end(&disp, 4 * MIB);
    assert_string_equal(screen, want);
    assert_int_equal(strlen(line), PROGRESS_WIDTH);
}

/** A failed transfer keeps its last line and ends it; an undrawn one
 *  prints nothing; updates after the end draw nothing. */
static void test_display_abort(void **state)
{
    (void)state;
    screen[0] = '\0';
    fake_now = 0;
    progress_display_start(&disp, "m", 0);
    progress_display_abort(&disp);
    assert_string_equal(screen, "");
    progress_display_start(&disp, "m", 0);
    fake_now = 50;
    progress_display_update(&disp, 5);
    progress_display_abort(&disp);
    size_t n = strlen(screen);
    assert_true(n > 2 && screen[0] == '\r' && screen[n - 1] == '\n');
    fake_now = 500;
    progress_display_update(&disp, 6);
    assert_int_equal(strlen(screen), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_paces_updates),
        cmocka_unit_test(test_elapsed_across_midnight),
        cmocka_unit_test(test_line_text),
        cmocka_unit_test(test_line_caps_percent),
        cmocka_unit_test(test_line_long_name),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_display_quick_file),
        cmocka_unit_test(test_display_redraw_and_blank),
        cmocka_unit_test(test_display_abort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
