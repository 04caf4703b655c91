/*
 * The session tests' shared fixture: a memory file server's files, the
 * kernel images the tests serve, and a QEMU-like machine for the session
 * (tests/unit/test_session_*.c; each keeps its own file_source, whose
 * behaviour is what it tests).
 */
#ifndef PULSAR_TEST_SESSION_FIXTURE_H
#define PULSAR_TEST_SESSION_FIXTURE_H
#include <stdbool.h>
#include <stdint.h>
#include "loader/session.h"

#define MIB 0x100000u
/** The machine's RAM: 128 MiB less the ACPI tail (as QEMU's -m 128). */
#define RAM_SIZE 0x7fe0000u
#define FX_MAX_FILES 8

/** One file the memory server has. */
struct mfile {
    char name[64];
    uint8_t *data;
    uint32_t len;
    bool sized;        /* the server announces its size */
    uint8_t *whole;    /* where the last fetch wrote it in place, or NULL */
    unsigned buffered; /* fetches that took the buffered path */
};

extern struct mfile fx_files[FX_MAX_FILES];
extern unsigned fx_nfiles;

/** Serve @len bytes of @data (copied) as @name. */
struct mfile *fx_serve(const char *name, const void *data, uint32_t len);
struct mfile *fx_find(const char *path);
void fx_files_free(void);

/** @len bytes of a pattern seeded with @seed (never all one value). */
uint8_t *fx_pattern(uint32_t len, unsigned seed);

/** A session on a QEMU-like machine of @high bytes at 1 MiB (at most
 *  127 MiB), PXE's base memory reserved, config-test from 10.0.2.2. */
void fx_machine(struct session *s, const struct session_face *face,
                uint32_t high);
/** The guest's RAM [0, RAM_SIZE), allocated once (never freed). */
uint8_t *fx_ram(void);
/** Everything the session and the server hold, freed; @s zeroed. */
void fx_teardown(struct session *s);

/** The ELF kernel's layout: one segment at 1 MiB, then 3 sections. */
#define K_SEG_OFF 0x1000u
#define K_FILESZ 0x2000u
#define K_MEMSZ 0x3000u
#define K_SHOFF (K_SEG_OFF + K_FILESZ)
#define K_SIZE (K_SHOFF + 3 * 40)

/** A multiboot ELF32 kernel of K_SIZE bytes into @img. */
void fx_elf_kernel(uint8_t *img);
/** A bzImage (protocol 2.10, 4 setup sectors) of @size bytes into @img. */
void fx_bzimage(uint8_t *img, uint32_t size);
#endif
