/*
 * The hand-off block: what the trampoline (boot/efi/trampoline.S) reads
 * after ExitBootServices, in pages of its own below 4 GiB.  The offsets
 * are shared with the assembly through these macros and checked against
 * the C struct by _Static_assert in boot/efi/handoff.c.
 */
#ifndef PULSAR_EFI_HANDOFF_H
#define PULSAR_EFI_HANDOFF_H

#define HO_GDT 0          /* 4 descriptors: null, code32 (unused), code32,
                             data32: Linux's __BOOT_CS and __BOOT_DS */
#define HO_GDTR 32        /* u16 limit, u64 base (lgdt in long mode) */
#define HO_ENTRY 48       /* u32: the kernel's entry */
#define HO_INFO 52        /* u32: the multiboot info (EBX) */
#define HO_NMOVES 56      /* u32: entries in the move list */
#define HO_MOVES 60       /* u32: the move list's address */
#define HO_ESI 64         /* u32: ESI at entry (Linux: boot_params) */
#define HO_MAGIC 68       /* u32: EAX at entry (the boot magic) */
#define HO_SIZE 8192      /* two pages: the block, then the stack */
#define HO_STACK_TOP 8176 /* ESP while moving (16-byte aligned) */
/* The selectors the Linux 32-bit boot protocol asks for (0x10 code, 0x18
 * data); multiboot takes any flat ones, so both use these. */
#define HO_CS32 0x10
#define HO_DS32 0x18

/* One move: u32 dest, u32 src, u32 len. */
#define MOVE_SIZE 12

#ifndef __ASSEMBLER__
#include <stdint.h>

struct tramp_block {
    uint64_t gdt[4];
    uint16_t gdtr_limit;
    uint64_t gdtr_base;
    uint8_t pad[6];
    uint32_t entry;
    uint32_t info;
    uint32_t nmoves;
    uint32_t moves;
    uint32_t esi;
    uint32_t magic;
} __attribute__((packed));

struct move {
    uint32_t dest, src, len;
};

/** The trampoline's code, copied into loader-code pages to run. */
extern const uint8_t efi_tramp_start[], efi_tramp_end[];

/**
 * Enter a Multiboot2 kernel in 64-bit mode with the boot services kept
 * (its amd64 EFI entry, spec 3.5): EAX = 0x36D76289, RBX = @info, on the
 * firmware's page tables, GDT and interrupt state, the stack aligned to
 * 16 bytes.  Runs from Pulsar's image (trampoline.S).
 */
void efi_enter64(uint64_t entry, uint64_t info) __attribute__((noreturn));
#endif
#endif
