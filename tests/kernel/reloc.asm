; The relocatable Multiboot2 test kernel (build/testkernel-reloc*.elf).
;
; Linked at 1 MiB, but its Multiboot2 header's relocatable tag (type 10)
; asks for a place in [TK_RELOC_MIN, TK_RELOC_MAX] at TK_RELOC_ALIGN,
; lowest or highest (TK_RELOC_PREF: 1 or 2), so the loader must move it.
; Everything here is position-independent: the code finds where it runs
; with call/pop and reaches its strings and stack relative to that, so it
; runs wherever it was put.  It reports on COM1, as the C test kernel does:
;   TK magic=0x........      EAX at entry
;   TK reloc_run=0x........  where the image actually runs (its first byte)
;   TK load_base=0x........  the load base information tag (21), or
;   TK load_base=none        when the information has none
;   TK end status=0
; then leaves QEMU through isa-debug-exit (exit status 33).  The harness
; checks the values against the tag's range, alignment and preference and
; against what Pulsar and pulsar-check say.

%ifndef TK_RELOC_MIN
%define TK_RELOC_MIN 0x1000000          ; 16 MiB
%endif
%ifndef TK_RELOC_MAX
%define TK_RELOC_MAX 0x3ffffff          ; the image ends by 64 MiB
%endif
%ifndef TK_RELOC_ALIGN
%define TK_RELOC_ALIGN 0x200000         ; 2 MiB, as NOVA asks
%endif
%ifndef TK_RELOC_PREF
%define TK_RELOC_PREF 1                 ; 1 lowest, 2 highest
%endif

MB2_HEADER_MAGIC equ 0xe85250d6
COM1 equ 0x3f8
DEBUG_EXIT_PORT equ 0xf4

bits 32
section .multiboot progbits alloc exec write align=8
global tk_reloc_header
tk_reloc_header:                        ; the image's first byte
    dd MB2_HEADER_MAGIC                 ; magic
    dd 0                                ; architecture 0: i386 protected mode
    dd tk_reloc_header_end - tk_reloc_header ; header_length
    dd -(MB2_HEADER_MAGIC + (tk_reloc_header_end - tk_reloc_header))
    align 8
    dw 10, 0                            ; relocatable, not optional
    dd 24
    dd TK_RELOC_MIN, TK_RELOC_MAX, TK_RELOC_ALIGN, TK_RELOC_PREF
    align 8
    dw 0, 0                             ; end tag
    dd 8
tk_reloc_header_end:

global tk_reloc_entry

; tk_reloc_entry - the entry point, wherever the loader put the image.
; In:  32-bit protected mode, paging off, flat segments; EAX = the
;      Multiboot2 magic, EBX = the information's address; ESP undefined.
; Out: never returns: leaves QEMU, or halts.
; Uses: EBP = the image's run address throughout.
tk_reloc_entry:
    call .here                          ; push our own address...
.here:
    pop ebp                             ; ...and take it
    sub ebp, .here - tk_reloc_header    ; the image's first byte
    lea esp, [ebp + stack_top - tk_reloc_header] ; our own stack
    cld
    mov esi, eax                        ; keep the magic
    mov edi, ebx                        ; and the information
    lea edx, [ebp + s_magic - tk_reloc_header]
    call put_line_hex                   ; TK magic=
    mov eax, ebp
    lea edx, [ebp + s_run - tk_reloc_header]
    call put_line_hex                   ; TK reloc_run=
    ; Walk the tags (8 bytes after total_size/reserved) for type 21.
    cmp esi, 0x36d76289
    jne .none                           ; no Multiboot2 information
    mov ecx, [edi]                      ; total_size
    lea ebx, [edi + 8]                  ; the first tag
    add ecx, edi                        ; the information's end
.tag:
    lea eax, [ebx + 8]
    cmp eax, ecx
    ja .none                            ; ran off the end
    mov eax, [ebx]                      ; type
    test eax, eax
    jz .none                            ; the end tag
    cmp eax, 21
    je .base
    mov eax, [ebx + 4]                  ; size
    cmp eax, 8
    jb .none                            ; malformed: stop
    add eax, 7
    and eax, ~7                         ; the next tag is 8-byte aligned
    add ebx, eax
    jmp .tag
.base:
    mov eax, [ebx + 8]                  ; load_base_addr
    lea edx, [ebp + s_base - tk_reloc_header]
    call put_line_hex                   ; TK load_base=
    jmp .end
.none:
    lea edx, [ebp + s_none - tk_reloc_header]
    call put_str                        ; TK load_base=none
.end:
    lea edx, [ebp + s_end - tk_reloc_header]
    call put_str                        ; TK end status=0
    mov al, 0x10
    out DEBUG_EXIT_PORT, al             ; QEMU exits with (0x10 << 1) | 1
.halt:
    cli
    hlt
    jmp .halt

; put_str - send a NUL-terminated string to COM1.
; In:  EDX = the string.  Clobbers: EAX, EDX (to its end).
put_str:
.next:
    mov al, [edx]
    test al, al
    jz .done
    call put_char
    inc edx
    jmp .next
.done:
    ret

; put_line_hex - send the string at EDX, "0x", EAX in 8 hex digits, CR LF.
; In:  EDX = the prefix, EAX = the value.  Clobbers: EAX, ECX, EDX.
put_line_hex:
    push eax
    call put_str
    mov al, '0'
    call put_char
    mov al, 'x'
    call put_char
    pop edx                             ; the value
    mov ecx, 8
.digit:
    rol edx, 4                          ; the top nibble first
    mov al, dl
    and al, 15
    add al, '0'
    cmp al, '9'
    jbe .put
    add al, 'a' - '9' - 1
.put:
    call put_char
    loop .digit
    mov al, 13
    call put_char
    mov al, 10
    ; fall through: the last character

; put_char - send AL to COM1 once its transmitter is empty.
; In:  AL.  Clobbers: nothing.
put_char:
    push edx
    push eax
    mov dx, COM1 + 5                    ; line status
.wait:
    in al, dx
    test al, 0x20                       ; transmit holding register empty
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

s_magic: db "TK magic=", 0
s_run:   db "TK reloc_run=", 0
s_base:  db "TK load_base=", 0
s_none:  db "TK load_base=none", 13, 10, 0
s_end:   db "TK end status=0", 13, 10, 0

align 16
stack:
    times 1024 db 0                     ; in the image: no bss to place
stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
