; Pulsar test kernel: the Multiboot header and the entry point.
;
; The loader jumps to tk_entry in 32-bit protected mode with paging off,
; EAX = magic and EBX = physical address of the multiboot info (spec 3.2).
; ESP is undefined, so the first thing we do is take our own stack; the
; flag image is captured right after that, before anything changes IF.

bits 32

MB_HEADER_MAGIC equ 0x1badb002
MB_FLAG_PAGE_ALIGN equ 1 << 0           ; modules on 4 KiB boundaries
MB_FLAG_MEMINFO equ 1 << 1              ; we want mem_* and the memory map
MB_FLAG_VIDEO equ 1 << 2                ; we want a graphics mode
MB_FLAG_AOUT_KLUDGE equ 1 << 16         ; load by the address fields below

; Variants (kernel.mk): -DTK_AOUT sets bit 16 (the flat-binary build),
; -DTK_VIDEO sets bit 2 and asks for TK_VIDEO_W x TK_VIDEO_H x TK_VIDEO_D.
%ifdef TK_AOUT
  %define TK_EXTRA_FLAGS MB_FLAG_AOUT_KLUDGE
%elifdef TK_VIDEO
  %define TK_EXTRA_FLAGS MB_FLAG_VIDEO
%else
  %define TK_EXTRA_FLAGS 0
%endif
%ifndef TK_VIDEO_W
  %define TK_VIDEO_W 800
%endif
%ifndef TK_VIDEO_H
  %define TK_VIDEO_H 600
%endif
%ifndef TK_VIDEO_D
  %define TK_VIDEO_D 32
%endif
MB_HEADER_FLAGS equ MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | TK_EXTRA_FLAGS

STACK_SIZE equ 16384

section .multiboot progbits alloc noexec nowrite align=8
; Must lie in the first 8 KiB of the file, 4-byte aligned; the linker
; script puts this section first in the first loadable segment.
%ifndef TK_MB2_ONLY
global tk_mb_header
tk_mb_header:
    dd MB_HEADER_MAGIC                  ; magic
    dd MB_HEADER_FLAGS                  ; flags
    dd -(MB_HEADER_MAGIC + MB_HEADER_FLAGS) ; checksum: the three sum to 0
%ifdef TK_AOUT
extern _tk_start, _tk_load_end, _tk_end
    dd tk_mb_header                     ; header_addr: where this header lands
    dd _tk_start                        ; load_addr: file offset 0 goes here
    dd _tk_load_end                     ; load_end_addr: end of the file part
    dd _tk_end                          ; bss_end_addr: zeroed up to here
    dd tk_entry                         ; entry_addr
%elifdef TK_VIDEO
    dd 0, 0, 0, 0, 0                    ; address fields: unused (no bit 16)
    dd 0                                ; mode_type 0: linear graphics
    dd TK_VIDEO_W, TK_VIDEO_H, TK_VIDEO_D ; width, height, depth wanted
%endif
%endif ; TK_MB2_ONLY

%ifdef TK_MB2
; The Multiboot2 header (spec 2.0 section 3.1): 8-byte aligned tags.
MB2_HEADER_MAGIC equ 0xe85250d6
align 8
%ifdef TK_MB2_ONLY
global tk_mb_header                     ; the header that opens the image
tk_mb_header:
%endif
tk_mb2_header:
    dd MB2_HEADER_MAGIC                 ; magic
    dd 0                                ; architecture 0: i386 protected mode
    dd tk_mb2_header_end - tk_mb2_header ; header_length
    dd -(MB2_HEADER_MAGIC + (tk_mb2_header_end - tk_mb2_header)) ; checksum
    align 8
    dw 1, 0                             ; information request, required:
    dd 8 + 4 * 6
    dd 1, 2, 3, 4, 6, 16                ; cmdline, loader, modules, meminfo,
                                        ; mmap, network
    align 8
    dw 1, 1                             ; information request, optional:
    dd 8 + 4 * 5
    dd 9, 13, 14, 15, 12                ; ELF sections, SMBIOS, ACPI, and
                                        ; EFI64 (not on BIOS: skipped)
    align 8
    dw 6, 0                             ; module alignment (page-aligned)
    dd 8
    align 8
    dw 4, 0                             ; console flags: EGA text supported
    dd 12
    dd 2
%ifdef TK_MB2_VIDEO
    align 8
    dw 5, 0                             ; framebuffer: 800x600x32 wanted
    dd 20
    dd TK_VIDEO_W, TK_VIDEO_H, TK_VIDEO_D
%endif
%ifdef TK_EFI64
    align 8
    dw 7, 0                             ; EFI boot services: keep them
    dd 8
%ifndef TK_EFI64_ELF_ENTRY
    align 8
    dw 9, 0                             ; EFI amd64 entry address
    dd 12
    dd tk_efi64_entry
%endif                                  ; else: e_entry (linked -e)
%endif
    align 8
    dw 0, 0                             ; end tag
    dd 8
tk_mb2_header_end:
%endif

section .text

extern tk_main
global tk_entry
global tk_entry_eflags
global tk_entry_cr0

; tk_entry - the kernel's entry point.
; In:  32-bit protected mode, paging off, flat segments (per the spec);
;      EAX = multiboot magic, EBX = multiboot info address.
; Out: never returns: tk_main exits QEMU, or we halt forever.
; Clobbers: everything; the loader's stack (if any) is abandoned.
tk_entry:
    mov esp, tk_stack_top               ; our own stack (mov leaves flags alone)
    pushfd                              ; record EFLAGS as the loader left it
    pop dword [tk_entry_eflags]
    cli                                 ; the spec says IF=0 already; be sure
    cld                                 ; C code assumes DF=0
    mov ecx, cr0                        ; record CR0 (PE must be 1, PG 0)
    mov [tk_entry_cr0], ecx
    push ebx                            ; tk_main(magic, info)
    push eax
    call tk_main
.halt:                                  ; tk_main only returns if QEMU did
    cli                                 ; not exit (no isa-debug-exit device)
    hlt
    jmp .halt                           ; an NMI can wake hlt: halt again

%ifdef TK_EFI64
; tk_efi64_entry - the amd64 EFI entry (Multiboot2 spec 3.5), -DTK_EFI64;
; with -DTK_EFI64_ELF_ENTRY there is no tag 9 and the image is linked
; with this as its ELF entry (a NOVA-like kernel).
; In:  64-bit mode on the firmware's page tables (identity-mapped), its
;      GDT, IDT and stack, boot services alive; EAX = magic, RBX = info.
; Records what it found for tk_main (the tk_efi64_* words), proves the
; boot services are alive by calling GetMemoryMap through the system
; table of tag 12, then leaves long mode as a loader would and enters
; tk_entry in 32-bit protected mode with EAX and EBX as it got them, so
; the one 32-bit reporter checks every tag.
EFI_ST_BOOT_SERVICES equ 0x60           ; EFI_SYSTEM_TABLE.BootServices
EFI_BS_GET_MEMORY_MAP equ 0x38          ; EFI_BOOT_SERVICES.GetMemoryMap
MSR_EFER equ 0xc0000080
GMM_BUF_SIZE equ 32768
bits 64
global tk_efi64_entry
tk_efi64_entry:
    mov dword [tk_efi64_used], 1
    mov [tk_efi64_magic], eax
    mov [tk_efi64_info], rbx
    pushfq
    pop rax
    mov [tk_efi64_rflags], eax
    mov ecx, MSR_EFER
    rdmsr
    mov [tk_efi64_efer], eax
    mov rax, cr0
    mov [tk_efi64_cr0], eax
    ; Tag 12 (the system table), walking the info's tags.
    lea rsi, [rbx + 8]
.walk:
    mov eax, [rsi]
    test eax, eax
    jz .leave                           ; the end tag: no tag 12
    cmp eax, 12
    je .found
    mov edx, [rsi + 4]
    add edx, 7
    and edx, ~7
    jz .leave                           ; a zero size would loop forever
    add rsi, rdx
    jmp .walk
.found:
    mov rdi, [rsi + 8]
    mov rdi, [rdi + EFI_ST_BOOT_SERVICES]
    ; GetMemoryMap(&size, buf, &key, &desc_size, &version), Microsoft
    ; x64 convention: RCX, RDX, R8, R9, the fifth above 32 bytes of
    ; shadow space, the stack 16-byte aligned at the call.
    mov qword [tk_efi64_gmm_size], GMM_BUF_SIZE
    mov rbp, rsp
    and rsp, -16
    sub rsp, 48
    mov ecx, tk_efi64_gmm_size
    mov edx, tk_efi64_gmm_buf
    mov r8d, tk_efi64_gmm_key
    mov r9d, tk_efi64_gmm_desc_size
    mov eax, tk_efi64_gmm_version
    mov [rsp + 32], rax
    call [rdi + EFI_BS_GET_MEMORY_MAP]
    mov rsp, rbp
    mov [tk_efi64_gmm_status], rax
    mov dword [tk_efi64_gmm_called], 1
.leave:
    ; Out of long mode: a 32-bit code segment of our own, paging off,
    ; EFER.LME off, then the 32-bit entry.
    cli
    lgdt [tk_gdt_desc]
    push qword 0x08
    push qword .prot32
    o64 retf
bits 32
.prot32:
    mov eax, 0x10
    mov ds, eax
    mov es, eax
    mov fs, eax
    mov gs, eax
    mov ss, eax
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    mov ecx, MSR_EFER
    rdmsr
    and eax, ~0x100
    wrmsr
    mov eax, cr4
    and eax, ~0x20
    mov cr4, eax
    mov eax, [tk_efi64_magic]
    mov ebx, [tk_efi64_info]
    jmp tk_entry

section .rodata
align 8
tk_gdt:
    dq 0
    dq 0x00cf9a000000ffff               ; 0x08: flat 32-bit code
    dq 0x00cf92000000ffff               ; 0x10: flat data
tk_gdt_desc:
    dw 3 * 8 - 1
    dd tk_gdt, 0                        ; base: u64, below 4 GiB
section .text
%endif

section .bss
%ifdef TK_EFI64
alignb 16
tk_efi64_gmm_buf:
    resb GMM_BUF_SIZE
%endif
alignb 8
; What the amd64 EFI entry found (all zero when it did not run).
global tk_efi64_used, tk_efi64_magic, tk_efi64_info, tk_efi64_rflags
global tk_efi64_efer, tk_efi64_cr0, tk_efi64_gmm_status
global tk_efi64_gmm_called, tk_efi64_gmm_size, tk_efi64_gmm_desc_size
tk_efi64_info:
    resq 1
tk_efi64_gmm_status:
    resq 1
tk_efi64_gmm_size:
    resq 1
tk_efi64_gmm_key:
    resq 1
tk_efi64_gmm_desc_size:
    resq 1
tk_efi64_gmm_version:
    resd 1
tk_efi64_used:
    resd 1
tk_efi64_magic:
    resd 1
tk_efi64_rflags:
    resd 1
tk_efi64_efer:
    resd 1
tk_efi64_cr0:
    resd 1
tk_efi64_gmm_called:
    resd 1
alignb 16
tk_stack:
    resb STACK_SIZE
tk_stack_top:

alignb 4
tk_entry_eflags:
    resd 1
tk_entry_cr0:
    resd 1

section .note.GNU-stack noalloc noexec nowrite progbits
