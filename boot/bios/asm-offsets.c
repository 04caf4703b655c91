/*
 * What boot/bios/entry.asm must know of the C side, taken from the C
 * declarations by the compiler so the two cannot drift apart.
 *
 * Never linked: the Makefile compiles this file to assembly (-S) and
 * turns each "->NAME VALUE" marker the DEFINE()s leave in it into a
 * "NAME equ VALUE" line of asm-offsets.inc, which entry.asm %includes.
 * (The trick is SeaBIOS's and Linux's asm-offsets.)
 */
#include <stddef.h>

#include "boot/bios/realmode.h"

/* Emit "->NAME VALUE" into the assembly; @val must be a constant. */
#define DEFINE(name, val) \
    __asm__ volatile("\n.ascii \"->" #name " %c0\"\n" : : "i"(val))

/* The thunk copies struct rm_regs in and out as dwords (RM_SIZE / 4). */
_Static_assert(sizeof(struct rm_regs) % 4 == 0,
               "struct rm_regs must be a whole number of dwords");

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
}
