/*
 * The C side of the one real-mode thunk (boot/bios/entry.asm).  Protected-mode
 * code reaches the BIOS and the PXE ROM only through these two calls.
 */
#ifndef PULSAR_REALMODE_H
#define PULSAR_REALMODE_H
#include <stdint.h>

/** The register image loaded before and saved after a real-mode call. */
struct rm_regs {
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp;
    uint32_t eflags; /* out only: the flags after the call (CF = bit 0) */
    uint16_t ds, es, fs, gs;
} __attribute__((packed));

#define RM_CF 0x1u

/** Run real-mode INT @vec with @regs loaded; @regs gets the results. */
void rm_int(uint8_t vec, struct rm_regs *regs);

/**
 * Far-call real-mode @segoff (segment in the high 16 bits) with @regs
 * loaded and @args_len bytes of @args on the stack above the return
 * address; @regs gets the results.
 */
void rm_farcall(uint32_t segoff, struct rm_regs *regs, const void *args,
                uint32_t args_len);

/** Jump to a multiboot kernel with EAX=@magic (Multiboot 1 or 2) and
 *  EBX=@info; see entry.asm for the machine state. */
void boot_multiboot(uint32_t entry, uint32_t info, uint32_t magic)
    __attribute__((noreturn));

/** A real-mode far return (entry.asm): rm_farcall it to let the BIOS
 * timer tick while Pulsar stays in protected mode for long. */
extern char rm_yield[];

/** Real-mode code that enters a Linux setup (entry.asm); see boot_linux. */
extern char boot_linux16[];

/**
 * Enter the real-mode setup of a Linux kernel loaded at @setup_addr (16-
 * byte aligned, below 1 MiB) with its stack at @sp in that segment: the
 * one thunk switches to real mode and far-calls boot_linux16 (which lies
 * below 64 KiB, so at 0000:offset), which never returns.
 */
static inline void __attribute__((noreturn))
boot_linux(uint32_t setup_addr, uint16_t sp)
{
    struct rm_regs r = { .ebx = sp };
    r.ds = r.es = r.fs = r.gs = (uint16_t)(setup_addr >> 4);
    rm_farcall((uint32_t)boot_linux16, &r, 0, 0);
    for (;;) /* not reached: boot_linux16 does not return */
        __asm__ volatile("cli; hlt");
}

/** What the PXE ROM handed the NBP at entry (seg:off pointers). */
extern uint32_t boot_pxenv_ptr, boot_bangpxe_ptr;
extern uint16_t boot_rom_ss, boot_rom_sp;
/** The far return address the ROM's call left at its SS:SP. */
extern uint32_t boot_rom_ret;

/** The real-mode chainload stub (entry.asm), copied low before use. */
extern const uint8_t chain_stub[], chain_stub_end[];

/** Linear address of a seg:off far pointer. */
static inline uint32_t segoff_to_lin(uint32_t segoff)
{
    return ((segoff >> 16) << 4) + (segoff & 0xFFFF);
}

/** A seg:off far pointer for a linear address below 1 MiB. */
static inline uint32_t lin_to_segoff(uint32_t lin)
{
    return ((lin >> 4) << 16) | (lin & 0xF);
}

/** Linker symbols bounding Pulsar's image and .bss. */
extern char __bss_start[], __bss_end[];

#endif
