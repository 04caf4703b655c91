/*
 * Pulsar's low memory while it runs as a BIOS NBP: the one place its
 * addresses are written down.  Three readers share this file:
 *   - C under boot/bios/, which includes it as any header;
 *   - linker.ld, which the Makefile runs through the C preprocessor
 *     (so only plain #defines may live here: no casts, no suffixes,
 *     nothing ld cannot read);
 *   - boot/bios/entry.asm, through build/.../asm-offsets.inc, which the
 *     Makefile generates from boot/bios/asm-offsets.c (which also checks,
 *     with _Static_assert, how these fit together and the constants pure
 *     code keeps in its own headers, such as CHLD_LOAD);
 *   - scripts/pack.py, which reads PACK_MAGIC and PACK_HEADER.
 *
 *   0x00000-0x004FF  IVT and BIOS data area (left alone)
 *   0x00500-0x05FFF  Pulsar's one stack (STACK_TOP down), shared by
 *                    protected and real mode; at `chld` time the
 *                    chain stub is copied to CHAIN_STUB_BASE inside it
 *   0x06000-0x06FFF  .bss16: the thunk's mutable state (BSS16_BASE)
 *   0x07C00-...      the file as the ROM loaded it (NBP_LOAD, at most
 *                    NBP_MAX bytes): stage 1, then the packed body
 *   after stage 1    the unpacked body (from the next page: linker.ld),
 *                    .bss (page-aligned), then the heap (boot/bios/main.c
 *                    heap_find) up to 64 KiB below the base memory the
 *                    BIOS reports (loader/plan.c plan_heap_end)
 *
 * The unpacked body overlaps where the packed one was loaded, so stage 1
 * first moves the packed body (header and stream) above the unpacked
 * body's end, into what becomes .bss and the heap, then unpacks it from
 * there (entry.asm pm_entry).  Nothing of the file is needed afterwards.
 */
#ifndef PULSAR_LAYOUT_H
#define PULSAR_LAYOUT_H

/* Where a PXE ROM loads a boot program and jumps to it (PXE 2.1, 0:7C00). */
#define NBP_LOAD 0x7C00

/*
 * The largest file Pulsar may be.  A PXE ROM loads the whole NBP into the
 * free base memory above 0x7C00 and refuses one that does not fit below
 * its own data.  Boot programs larger than this (Debian's undionly.kpxe,
 * ~74 KB) load on every ROM in use, as does its pxelinux.0 (~42 KB), so
 * 64 KiB is safe with a margin.  (The old layout allowed 32 KiB: it unpacked the
 * body at 0x10000, which a file past 0x7C00 + 33 KiB would overlap.)
 * The Makefile fails the build over it; linker.ld keeps room for a file
 * this large where stage 1 moves the packed body.
 */
#define NBP_MAX 65536

/* Pulsar's stack: from the end of the BIOS data area up to STACK_TOP. */
#define STACK_BOTTOM 0x500
#define STACK_TOP 0x6000

/* The thunk's variables: a page of their own, below the image's page
 * (no write may land in a page holding code; see entry.asm). */
#define BSS16_BASE 0x6000
#define BSS16_END 0x7000

/* The `chld` copy-and-jump stub (entry.asm chain_stub) runs here, below
 * NBP_LOAD (the child overwrites everything from there up) and far below
 * the deepest Pulsar stack; at most CHAIN_STUB_MAX bytes (linker.ld). */
#define CHAIN_STUB_BASE 0x600
#define CHAIN_STUB_MAX 0x200

/* .bss, and the packed body's copy, end below this; the heap follows. */
#define IMAGE_LIMIT 0x50000

/* scripts/pack.py's header before the deflated body: "PDEF" (little-
 * endian), the unpacked size, the packed size, 4 bytes each. */
#define PACK_MAGIC 0x46454450
#define PACK_HEADER 12

#endif
