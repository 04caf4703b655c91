/*
 * What boot/bios/entry.asm must know of the C side, taken from the C
 * declarations and boot/bios/layout.h by the compiler so the two cannot
 * drift apart; and the compile-time checks of that layout.
 *
 * Never linked: the Makefile compiles this file to assembly (-S) and
 * turns each "->NAME VALUE" marker the DEFINE()s leave in it into a
 * "NAME equ VALUE" line of asm-offsets.inc, which entry.asm %includes.
 * (The trick is SeaBIOS's and Linux's asm-offsets.)
 */
#include <stddef.h>

#include "boot/bios/chain.h"
#include "boot/bios/layout.h"
#include "boot/bios/realmode.h"
#include "loader/plan.h"

/* Emit "->NAME VALUE" into the assembly; @val must be a constant. */
#define DEFINE(name, val) \
    __asm__ volatile("\n.ascii \"->" #name " %c0\"\n" : : "i"(val))

/* The thunk copies struct rm_regs in and out as dwords (RM_SIZE / 4). */
_Static_assert(sizeof(struct rm_regs) % 4 == 0,
               "struct rm_regs must be a whole number of dwords");

/* How the low-memory layout (layout.h) fits together. */
_Static_assert(STACK_BOTTOM < STACK_TOP && STACK_TOP <= BSS16_BASE,
               "the stack must lie below .bss16");
_Static_assert(BSS16_END <= (NBP_LOAD & ~0xFFF),
               ".bss16 must not share a page with the image");
_Static_assert(CHAIN_STUB_BASE >= STACK_BOTTOM && CHAIN_STUB_BASE % 16 == 0 &&
               CHAIN_STUB_BASE + CHAIN_STUB_MAX <= STACK_TOP - 0x4000,
               "the chain stub runs at CHAIN_STUB_BASE:0, below the stack "
               "in use when it is copied (16 KiB stay above it)");
/* Pure code keeps its own copy of the NBP load address: loader/plan.c
 * reserves Pulsar's memory from it and chains boot programs to it. */
_Static_assert(CHLD_LOAD == NBP_LOAD, "CHLD_LOAD (loader/plan.h) must be "
               "where the PXE ROM loaded Pulsar (NBP_LOAD)");

void asm_offsets(void);
void asm_offsets(void)
{
    /* struct rm_regs: the thunk's register image. */
    DEFINE(RM_EAX, offsetof(struct rm_regs, eax));
    DEFINE(RM_EBX, offsetof(struct rm_regs, ebx));
    DEFINE(RM_ECX, offsetof(struct rm_regs, ecx));
    DEFINE(RM_EDX, offsetof(struct rm_regs, edx));
    DEFINE(RM_ESI, offsetof(struct rm_regs, esi));
    DEFINE(RM_EDI, offsetof(struct rm_regs, edi));
    DEFINE(RM_EBP, offsetof(struct rm_regs, ebp));
    DEFINE(RM_EFLAGS, offsetof(struct rm_regs, eflags));
    DEFINE(RM_DS, offsetof(struct rm_regs, ds));
    DEFINE(RM_ES, offsetof(struct rm_regs, es));
    DEFINE(RM_FS, offsetof(struct rm_regs, fs));
    DEFINE(RM_GS, offsetof(struct rm_regs, gs));
    DEFINE(RM_SIZE, sizeof(struct rm_regs));

    /* The variables entry.asm defines for C (realmode.h declares them):
     * their sizes as C sees them, which entry.asm reserves. */
    DEFINE(BOOT_PXENV_PTR_SIZE, sizeof(boot_pxenv_ptr));
    DEFINE(BOOT_BANGPXE_PTR_SIZE, sizeof(boot_bangpxe_ptr));
    DEFINE(BOOT_ROM_SS_SIZE, sizeof(boot_rom_ss));
    DEFINE(BOOT_ROM_SP_SIZE, sizeof(boot_rom_sp));
    DEFINE(BOOT_ROM_RET_SIZE, sizeof(boot_rom_ret));

    /* The layout (layout.h) and scripts/pack.py's header. */
    DEFINE(NBP_LOAD, NBP_LOAD);
    DEFINE(NBP_MAX, NBP_MAX);
    DEFINE(STACK_TOP, STACK_TOP);
    DEFINE(PACK_MAGIC, PACK_MAGIC);
    DEFINE(PACK_HEADER, PACK_HEADER);
}
