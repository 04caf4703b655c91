/*
 * A good x86-64 EFI application for the tests of loader/pe.c and of
 * `chld` on UEFI (lab/images.py efi_app has the same layout): MZ,
 * e_lfanew 0x40, a 240-byte PE32+ optional header at 0x58, one .text
 * section from file offset 0x200 to the end, mapped at 0x1000 with the
 * entry point there.  The bytes after the headers are left as they are.
 */
#ifndef PULSAR_TEST_PE_IMAGE_H
#define PULSAR_TEST_PE_IMAGE_H
#include <stdint.h>
#include <string.h>

#include "loader/pe.h"

#define PE_TEST_OPT 0x58u            /* the optional header */
#define PE_TEST_SEC (PE_TEST_OPT + 240u) /* the section table */

static inline void pe_test_wr16(uint8_t *img, uint32_t off, uint16_t v)
{
    img[off] = (uint8_t)v;
    img[off + 1] = (uint8_t)(v >> 8);
}

static inline void pe_test_wr32(uint8_t *img, uint32_t off, uint32_t v)
{
    pe_test_wr16(img, off, (uint16_t)v);
    pe_test_wr16(img, off + 2, (uint16_t)(v >> 16));
}

/** Write the headers of a good @size-byte image (@size >= 0x400). */
static inline void pe_test_image(uint8_t *img, uint32_t size)
{
    const uint32_t opt = PE_TEST_OPT, sec = PE_TEST_SEC;

    memset(img, 0, 0x200);
    memcpy(img, "MZ", 2);
    pe_test_wr32(img, 0x3c, 0x40);
    memcpy(img + 0x40, "PE\0\0", 4);
    pe_test_wr16(img, 0x44, PE_MACHINE_X64);
    pe_test_wr16(img, 0x46, 1);      /* sections */
    pe_test_wr16(img, 0x54, 240);    /* optional header size */
    pe_test_wr16(img, 0x56, 0x0022); /* executable, large address aware */
    pe_test_wr16(img, opt, PE_MAGIC_PE32PLUS);
    pe_test_wr32(img, opt + 16, 0x1000);        /* entry */
    pe_test_wr32(img, opt + 56, 0x1000 + size); /* SizeOfImage */
    pe_test_wr32(img, opt + 60, 0x200);         /* SizeOfHeaders */
    pe_test_wr16(img, opt + 68, PE_SUBSYSTEM_EFI_APP);
    pe_test_wr32(img, opt + 108, 16); /* data directories */
    memcpy(img + sec, ".text", 5);
    pe_test_wr32(img, sec + 8, size - 0x200);  /* VirtualSize */
    pe_test_wr32(img, sec + 12, 0x1000);       /* VirtualAddress */
    pe_test_wr32(img, sec + 16, size - 0x200); /* SizeOfRawData */
    pe_test_wr32(img, sec + 20, 0x200);        /* PointerToRawData */
}
#endif
