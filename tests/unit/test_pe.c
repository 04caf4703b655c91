/* Unit tests for loader/pe.c: the PE32+ headers `chld` checks on UEFI. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "loader/pe.h"
#include "tests/unit/pe_image.h"

#define SIZE 0x3000u
#define OPT PE_TEST_OPT
#define SEC PE_TEST_SEC

static uint8_t img[SIZE];
static char why[256];
static struct pe_info info;

static void wr16(uint32_t off, uint16_t v)
{
    pe_test_wr16(img, off, v);
}

static void wr32(uint32_t off, uint32_t v)
{
    pe_test_wr32(img, off, v);
}

/** A good image of SIZE bytes (tests/unit/pe_image.h). */
static int setup(void **state)
{
    (void)state;
    memset(img, 0xA5, sizeof(img));
    pe_test_image(img, SIZE);
    memset(why, 0, sizeof(why));
    return 0;
}

/** pe_check on the whole image; returns the rc. */
static int check(void)
{
    return pe_check(img, SIZE, SIZE, &info, why, sizeof(why));
}

/** The image must be refused with a reason starting @start. */
static void refused(const char *start)
{
    assert_int_equal(check(), -PE_NOEXEC);
    if (strncmp(why, start, strlen(start)) != 0)
        fail_msg("reason '%s', expected it to start '%s'", why, start);
}

static void test_good(void **state)
{
    (void)state;
    assert_int_equal(check(), 0);
    assert_int_equal(info.machine, PE_MACHINE_X64);
    assert_int_equal(info.subsystem, PE_SUBSYSTEM_EFI_APP);
    assert_int_equal(info.nsections, 1);
    assert_int_equal(info.entry, 0x1000);
    assert_int_equal(info.size_of_image, 0x1000 + SIZE);
    /* Only the headers are needed: the first 0x200 bytes of it do. */
    assert_int_equal(pe_check(img, 0x200, SIZE, &info, why, sizeof(why)), 0);
}

static void test_bios_nbp(void **state)
{
    (void)state;
    img[0] = 0xEA; /* a far jump, as many NBPs start */
    refused("not an EFI program: no MZ header (chld on UEFI starts x86-64 "
            "EFI applications;");
}

static void test_tiny(void **state)
{
    (void)state;
    assert_int_equal(pe_check(img, 1, 1, &info, why, sizeof(why)),
                     -PE_NOEXEC);
    assert_non_null(strstr(why, "no MZ header"));
    assert_int_equal(pe_check(img, 40, 40, &info, why, sizeof(why)),
                     -PE_NOEXEC);
    assert_string_equal(why, "not an EFI program: 40 bytes end inside the "
                        "64-byte MZ header");
    assert_int_equal(pe_check(img, 0, 0, &info, why, sizeof(why)),
                     -PE_NOEXEC);
}

static void test_lfanew(void **state)
{
    (void)state;
    wr32(0x3c, 0xFFFFFFF0u); /* would wrap 32-bit arithmetic */
    refused("not an EFI program: its PE header offset 0xfffffff0 is not "
            "within bytes 64-4096");
    wr32(0x3c, 0x10); /* inside the DOS header */
    refused("not an EFI program: its PE header offset 0x10");
    wr32(0x3c, 0x40);
    /* Past the bytes there are (only 0x50 of them). */
    assert_int_equal(pe_check(img, 0x50, SIZE, &info, why, sizeof(why)),
                     -PE_NOEXEC);
    assert_non_null(strstr(why, "not within bytes 64-80"));
}

static void test_signature(void **state)
{
    (void)state;
    img[0x42] = 'X';
    refused("not an EFI program: no PE signature at 0x40");
}

static void test_machine(void **state)
{
    (void)state;
    wr16(0x44, PE_MACHINE_I386);
    refused("a PE image for IA-32 (machine 0x014c), not x86-64");
    wr16(0x44, PE_MACHINE_ARM64);
    refused("a PE image for AArch64 (machine 0xaa64), not x86-64");
    wr16(0x44, 0x1234);
    refused("a PE image for an unknown machine (machine 0x1234)");
}

static void test_not_executable(void **state)
{
    (void)state;
    wr16(0x56, 0x0020);
    refused("a PE file that is not marked executable");
}

static void test_optional_header(void **state)
{
    (void)state;
    wr16(OPT, 0x010b);
    refused("a PE32 (32-bit) image: x86-64 EFI programs are PE32+");
    wr16(OPT, 0x0107);
    refused("unknown optional header magic 0x0107");
    wr16(OPT, PE_MAGIC_PE32PLUS);
    wr16(0x54, 100);
    refused("its optional header of 100 bytes at 0x58 does not fit");
    wr16(0x54, 0xFFFF); /* past the first PE_HEAD_MAX bytes */
    refused("its optional header of 65535 bytes");
    wr16(0x54, 240);
    wr32(OPT + 108, 17);
    refused("17 data directories do not fit its 240-byte optional header");
    wr32(OPT + 108, 0xFFFFFFFFu);
    refused("4294967295 data directories");
}

static void test_subsystem(void **state)
{
    (void)state;
    wr16(OPT + 68, 11);
    refused("a PE image of subsystem 11, not an EFI application (10): an "
            "EFI driver");
    wr16(OPT + 68, 3); /* a Windows console program */
    assert_int_equal(check(), -PE_NOEXEC);
    assert_string_equal(why, "a PE image of subsystem 3, not an EFI "
                        "application (10)");
}

static void test_sizes(void **state)
{
    (void)state;
    wr32(OPT + 60, SIZE + 1);
    refused("its headers of 12289 bytes (SizeOfHeaders) are larger");
    wr32(OPT + 60, 0x200);
    wr32(OPT + 16, 0);
    refused("its entry point 0x0 is not inside the image");
    wr32(OPT + 16, 0x1000 + SIZE);
    refused("its entry point 0x4000 is not inside the image (SizeOfImage "
            "0x4000)");
}

static void test_sections(void **state)
{
    (void)state;
    wr16(0x46, 0);
    refused("0 sections (a PE image has 1 to 96)");
    wr16(0x46, 97);
    refused("97 sections");
    wr16(0x46, 9); /* 9 * 40 bytes from 0x148 pass SizeOfHeaders 0x200 */
    refused("its section table at 0x148-0x2b0 lies past its headers");
    wr16(0x46, 1);
    wr32(SEC + 20, SIZE - 0x100); /* raw data past the file's end */
    refused("section 0 (.text): its 11776 bytes at 0x2f00 run past the end "
            "of the file (12288 bytes)");
    wr32(SEC + 20, 0xFFFFFF00u); /* would wrap 32-bit arithmetic */
    refused("section 0 (.text): its 11776 bytes at 0xffffff00");
    wr32(SEC + 20, 0x200);
    wr32(SEC + 12, 0xFFFFF000u);
    refused("section 0 (.text) at 0xfffff000-0x100001e00 lies past the "
            "image's end");
    wr32(SEC + 12, 0x1000);
    wr32(SEC + 8, 0); /* no VirtualSize: the raw size counts */
    assert_int_equal(check(), 0);
    wr32(SEC + 16, 0x10000);
    refused("section 0 (.text): its 65536 bytes at 0x200 run past");
}

static void test_short_reason_buffer(void **state)
{
    char small[8];

    (void)state;
    img[0] = 0;
    assert_int_equal(pe_check(img, SIZE, SIZE, &info, small, sizeof(small)),
                     -PE_NOEXEC);
    assert_string_equal(small, "not an ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_good, setup),
        cmocka_unit_test_setup(test_bios_nbp, setup),
        cmocka_unit_test_setup(test_tiny, setup),
        cmocka_unit_test_setup(test_lfanew, setup),
        cmocka_unit_test_setup(test_signature, setup),
        cmocka_unit_test_setup(test_machine, setup),
        cmocka_unit_test_setup(test_not_executable, setup),
        cmocka_unit_test_setup(test_optional_header, setup),
        cmocka_unit_test_setup(test_subsystem, setup),
        cmocka_unit_test_setup(test_sizes, setup),
        cmocka_unit_test_setup(test_sections, setup),
        cmocka_unit_test_setup(test_short_reason_buffer, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
