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
MB_HEADER_FLAGS equ MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO

STACK_SIZE equ 16384

section .multiboot progbits alloc noexec nowrite align=4
; Must lie in the first 8 KiB of the file, 4-byte aligned; the linker
; script puts this section first in the first loadable segment.
global tk_mb_header
tk_mb_header:
    dd MB_HEADER_MAGIC                  ; magic
    dd MB_HEADER_FLAGS                  ; flags
    dd -(MB_HEADER_MAGIC + MB_HEADER_FLAGS) ; checksum: the three sum to 0

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

section .bss
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
