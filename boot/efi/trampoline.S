/*
 * The last code Pulsar runs on UEFI, after ExitBootServices: leave long
 * mode, move every staged range into place, enter the multiboot kernel.
 * It is copied into pages allocated as loader code below 4 GiB and runs
 * from there (position-independent; it never writes into its own pages).
 * In: RDI = the hand-off block (boot/efi/handoff.h), below 4 GiB.
 * Out, as multiboot and the Linux 32-bit boot protocol ask: 32-bit
 * protected mode, paging off, flat CS (0x10) and data segments (0x18),
 * interrupts off, EAX = the block's magic (0x2BADB002 for multiboot and
 * Linux, 0x36D76289 for Multiboot2), EBX = the block's info (0 for Linux), ESI = the block's esi (Linux: boot_params; 0 for
 * multiboot), EDI = EBP = 0.
 */
#include "boot/efi/handoff.h"

    .section .rodata.trampoline, "a"
    .globl efi_tramp_start, efi_tramp_end

    .code64
efi_tramp_start:
    cli
    cld
    lgdt HO_GDTR(%rdi)
    /* Far return into the 32-bit code segment: compatibility mode. */
    leaq prot32(%rip), %rax
    pushq $HO_CS32
    pushq %rax
    lretq

    .code32
prot32:
    movl $HO_DS32, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %fs
    movl %eax, %gs
    movl %eax, %ss
    /* Paging off (this code is identity-mapped): long mode ends. */
    movl %cr0, %eax
    andl $0x7fffffff, %eax
    movl %eax, %cr0
    /* EFER.LME off, then PAE off. */
    movl $0xc0000080, %ecx
    rdmsr
    andl $~0x100, %eax
    wrmsr
    movl %cr4, %eax
    andl $~0x20, %eax
    movl %eax, %cr4
    leal HO_STACK_TOP(%edi), %esp

    /* The moves: sources and destinations never overlap (checked). */
    movl HO_MOVES(%edi), %ebx
    movl HO_NMOVES(%edi), %edx
1:  testl %edx, %edx
    jz 2f
    pushl %edi
    movl 0(%ebx), %edi
    movl 4(%ebx), %esi
    movl 8(%ebx), %ecx
    shrl $2, %ecx
    rep movsl
    movl 8(%ebx), %ecx
    andl $3, %ecx
    rep movsb
    popl %edi
    addl $MOVE_SIZE, %ebx
    decl %edx
    jmp 1b

2:  movl HO_ENTRY(%edi), %ecx
    movl HO_INFO(%edi), %ebx
    movl HO_ESI(%edi), %esi
    movl HO_MAGIC(%edi), %eax
    xorl %edi, %edi
    xorl %ebp, %ebp
    jmp *%ecx
efi_tramp_end:

/*
 * efi_enter64(entry, info): a Multiboot2 kernel that keeps the boot
 * services, entered where Pulsar runs (64-bit mode, the firmware's page
 * tables, GDT and IDT, interrupts as the firmware has them).  Not part of
 * the copied trampoline: Pulsar's image stays until the kernel calls
 * ExitBootServices.
 */
    .text
    .globl efi_enter64
    .code64
efi_enter64:
    andq $-16, %rsp
    movq %rsi, %rbx
    movl $0x36d76289, %eax
    xorl %ebp, %ebp
    jmp *%rdi

    .section .note.GNU-stack, "", @progbits
