/*
 * Starting a chainloaded PXE boot program; see chain.h.
 *
 * The program must run at 0:7C00, where Pulsar itself is running, so it is
 * staged elsewhere first; boot/bios/entry.asm's chain_stub then copies it down
 * and jumps.  The stub is copied below 0x7C00 first, and reached through
 * the one real-mode thunk (rm_farcall): no second mode switch.
 *
 * The stack: when the PXE ROM's own stack (saved at entry) lies where
 * neither Pulsar nor the child ever wrote, the child gets exactly that
 * SS:SP, with the ROM's return address and the !PXE pointer rewritten in
 * place, so it sees what Pulsar saw and could even return to the ROM.
 * Otherwise (a ROM whose stack sat in low memory Pulsar has used since)
 * the child gets a fresh stack just below 0x7C00 whose return address
 * leads to INT 18h, the BIOS's "this boot failed" path.
 */
#include <string.h>

#include "boot/bios/realmode.h"
#include "lib/console.h"
#include "boot/bios/chain.h"
#include "loader/plan.h"

/** Start the staged boot program; see chain.h. */
void chain_start(uint32_t staged, uint32_t size, uint32_t low_end)
{
    struct rm_regs r;

    memcpy((void *)CHAIN_STUB_BASE, chain_stub,
           (size_t)(chain_stub_end - chain_stub));
    memset(&r, 0, sizeof(r));
    r.esi = staged;
    r.ecx = size;
    r.ebx = boot_pxenv_ptr;
    r.edx = boot_bangpxe_ptr;
    if (plan_chld_keep_rom_stack(boot_rom_ss, boot_rom_sp, low_end)) {
        r.ebp = ((uint32_t)boot_rom_ss << 16) | boot_rom_sp;
        r.edi = boot_rom_ret;
        printf("pulsar: the child gets the PXE ROM's stack %04x:%04x\n",
               boot_rom_ss, boot_rom_sp);
    } else {
        r.ebp = CHLD_LOAD - 8; /* SS = 0 */
        r.edi = 0;             /* the stub's INT 18h */
        printf("pulsar: the ROM's stack %04x:%04x was in Pulsar's memory; "
               "the child gets 0000:%04x\n", boot_rom_ss, boot_rom_sp,
               CHLD_LOAD - 8);
    }
    rm_farcall((CHAIN_STUB_BASE >> 4) << 16, &r, NULL, 0);
    for (;;) /* the stub never returns */
        __asm__ volatile("cli; hlt");
}
