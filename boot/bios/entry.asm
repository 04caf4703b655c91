; Pulsar's real-mode edge: the NBP entry, A20, the GDT, the mode switches,
; the one real-mode thunk and the final jumps to a multiboot kernel and to
; a Linux kernel's real-mode setup.
;
; The file is stage 1 (this code, uncompressed, at 0x7C00) followed by the
; deflated body (the C code and data, see scripts/pack.py), which stage 1
; moves out of the way and unpacks (lib/inflate.c) to its link address,
; right after stage 1, before calling C.
;
; Memory while Pulsar runs (all below 1 MiB; boot/bios/layout.h has the
; numbers, which reach this file through asm-offsets.inc):
;   0x00000-0x004FF  IVT and BIOS data area (left alone)
;   0x00500-0x05FFF  Pulsar's one stack, shared by protected and real mode
;   0x06000-0x06FFF  .bss16: the thunk's mutable state
;   0x07C00-...      stage 1 (the thunk and everything it touches lie
;                    below 64 KiB), then, as the ROM loaded the file, the
;                    compressed body (at most NBP_MAX = 64 KiB in all)
;   next page-...    the unpacked body, .bss (page-aligned), then the heap
;                    (boot/bios/main.c)
;
; No write may land in a 4 KiB page that holds code: under QEMU's TCG such
; a write takes the self-modifying-code slow path (and can throw away
; translated code), which made every real-mode call, and so every TFTP
; packet, several times slower.  Hence the stack ends below 0x7000 (the
; page of 0x7C00), the thunk's variables live in .bss16, the GDT's
; descriptors carry the accessed bit already (the CPU would set it), and
; .bss starts on a page of its own.
;
; Selectors: 0x08 flat 32-bit code, 0x10 flat 32-bit data,
;            0x18 16-bit code (base 0, limit 64 KiB), 0x20 16-bit data.

CODE32  equ 0x08
DATA32  equ 0x10
CODE16  equ 0x18
DATA16  equ 0x20

; Generated from C (boot/bios/asm-offsets.c), never written here:
;   RM_* (struct rm_regs' offsets and RM_SIZE) and the sizes of the
;   variables below that C declares in boot/bios/realmode.h;
;   NBP_LOAD, NBP_MAX, STACK_TOP (below .bss16, see the top),
;   PACK_MAGIC and PACK_HEADER (scripts/pack.py's header) from
;   boot/bios/layout.h.
%include "asm-offsets.inc"

; LOAD_SEGS sel: load DS, ES, FS, GS and SS with one selector (via AX).
%macro LOAD_SEGS 1
        mov     ax, %1
        mov     ds, ax
        mov     es, ax
        mov     fs, ax
        mov     gs, ax
        mov     ss, ax
%endmacro

extern pulsar_main, stage1_inflate
extern __bss_start, __bss_end
extern __body_start, __body_end, __packed_start, __packed_copy

global _start
global rm_int, rm_farcall
global boot_multiboot, boot_linux16
global boot_pxenv_ptr, boot_bangpxe_ptr, boot_rom_ss, boot_rom_sp, boot_rom_ret
global chain_stub, chain_stub_end
global rm_yield

section .stage1 progbits alloc exec write align=16
bits 16

; _start: the NBP entry point.
;   In:  real mode, CS:IP = 0000:7C00 (some ROMs use 07C0:0000),
;        ES:BX = PXENV+ structure, SS:SP+4 = far pointer to !PXE.
;   Out: does not return; enters pulsar_main() in 32-bit protected mode
;        with flat segments, ESP = STACK_TOP, interrupts off, .bss zeroed.
_start:
        jmp     0:.normalised           ; force CS = 0 so labels are offsets
.normalised:
        cli
        mov     [cs:boot_pxenv_ptr], bx ; PXENV+ offset ...
        mov     [cs:boot_pxenv_ptr + 2], es ; ... and segment
        mov     [cs:boot_rom_sp], sp    ; the ROM's stack, kept for chainloading
        mov     [cs:boot_rom_ss], ss
        mov     bp, sp
        mov     eax, [ss:bp]            ; the ROM's far return address ...
        mov     [cs:boot_rom_ret], eax  ; ... handed on to a chained NBP
        mov     eax, [ss:bp + 4]        ; !PXE far pointer pushed by the ROM
        mov     [cs:boot_bangpxe_ptr], eax
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, STACK_TOP           ; our own stack below the image
        cld

        mov     si, msg_packed
        cmp     dword [__packed_start], PACK_MAGIC
        jne     .fail                   ; a build without a packed body
        call    a20_enable
        jnc     .a20_on
        mov     si, msg_a20
.fail:  call    bios_puts
.halt:  hlt
        jmp     .halt
.a20_on:
        lgdt    [gdtr]
        mov     eax, cr0
        or      al, 1                   ; PE
        mov     cr0, eax
        jmp     CODE32:pm_entry

; a20_check: is the A20 line enabled?
;   In:  real mode, interrupts off.  Out: ZF set if enabled.
;   Clobbers: AX, plus FS/GS restored.
a20_check:
        push    ds
        push    es
        xor     ax, ax
        mov     ds, ax
        not     ax
        mov     es, ax                  ; ES = 0xFFFF: ES:0x510 = 1 MiB + 0x500
        mov     ax, [0x500]
        push    ax
        mov     word [0x500], 0x1234
        mov     word [es:0x510], 0x4321 ; aliases 0:0x500 when A20 is off
        cmp     word [0x500], 0x1234    ; ZF clear = aliased = A20 off
        pop     ax
        mov     [0x500], ax
        pop     es
        pop     ds
        ret

; a20_enable: turn the A20 line on: BIOS, then port 0x92, then the 8042.
;   In:  real mode, interrupts off.  Out: CF clear on success.
;   Clobbers: AX, CX.
a20_enable:
        call    a20_check
        jz      .ok
        mov     ax, 0x2401              ; BIOS: enable A20
        int     0x15
        cli                             ; the BIOS may have turned them on
        call    a20_check
        jz      .ok
        in      al, 0x92                ; "fast A20": bit 1, never bit 0 (reset)
        or      al, 2
        and     al, 0xFE
        out     0x92, al
        call    a20_check
        jz      .ok
        call    kbc_wait
        mov     al, 0xD1                ; 8042: write output port
        out     0x64, al
        call    kbc_wait
        mov     al, 0xDF                ; output port with A20 set
        out     0x60, al
        call    kbc_wait
        mov     cx, 0xFFFF              ; the 8042 may take a while
.retry: call    a20_check
        jz      .ok
        loop    .retry
        stc
        ret
.ok:    clc
        ret

; kbc_wait: wait (boundedly) until the 8042 input buffer is empty.
;   In: real mode.  Clobbers: AL, CX.
kbc_wait:
        mov     cx, 0xFFFF
.spin:  in      al, 0x64
        test    al, 2
        loopnz  .spin
        ret

; bios_puts: print a NUL-terminated string with INT 10h teletype.
;   In: real mode, DS:SI = string.  Clobbers: AX, BX, SI.
bios_puts:
        lodsb
        test    al, al
        jz      .done
        mov     ah, 0x0E
        mov     bx, 0x0007
        int     0x10
        jmp     bios_puts
.done:  ret

; rm_thunk_rm: the real-mode half of the thunk (see rm_common below).
;   In:  real mode, SS = 0, SP -> the caller's stack arguments (if any),
;        thunk_regs = the register image to load, thunk_target = seg:off,
;        thunk_is_int = 1 to emulate INT (push FLAGS first).
;   Out: thunk_regs = the registers after the call; back in 32-bit mode
;        at rm_back32.
rm_thunk_rm:
        xor     ax, ax
        mov     ds, ax
        mov     ss, ax
        lidt    [rm_idtr]               ; the BIOS IVT at 0
        mov     ax, [thunk_regs + RM_ES]
        mov     es, ax
        mov     ax, [thunk_regs + RM_FS]
        mov     fs, ax
        mov     ax, [thunk_regs + RM_GS]
        mov     gs, ax
        mov     eax, [thunk_regs + RM_EAX]
        mov     ebx, [thunk_regs + RM_EBX]
        mov     ecx, [thunk_regs + RM_ECX]
        mov     edx, [thunk_regs + RM_EDX]
        mov     esi, [thunk_regs + RM_ESI]
        mov     edi, [thunk_regs + RM_EDI]
        mov     ebp, [thunk_regs + RM_EBP]
        push    word [thunk_regs + RM_DS]
        pop     ds                      ; DS last: it addressed the image
        cld
        sti                             ; BIOS and PXE code expect interrupts
        cmp     byte [cs:thunk_is_int], 0
        je      .call
        pushf                           ; INT = PUSHF + far CALL to the vector
.call:  call    far [cs:thunk_target]
        cli
        mov     [cs:thunk_regs + RM_EAX], eax
        mov     [cs:thunk_regs + RM_EBX], ebx
        mov     [cs:thunk_regs + RM_ECX], ecx
        mov     [cs:thunk_regs + RM_EDX], edx
        mov     [cs:thunk_regs + RM_ESI], esi
        mov     [cs:thunk_regs + RM_EDI], edi
        mov     [cs:thunk_regs + RM_EBP], ebp
        pushfd
        pop     dword [cs:thunk_regs + RM_EFLAGS]
        mov     [cs:thunk_regs + RM_DS], ds
        mov     [cs:thunk_regs + RM_ES], es
        mov     [cs:thunk_regs + RM_FS], fs
        mov     [cs:thunk_regs + RM_GS], gs
        xor     ax, ax
        mov     ds, ax
        lgdt    [gdtr]                  ; in case the callee loaded its own
        mov     eax, cr0
        or      al, 1
        mov     cr0, eax
        jmp     dword CODE32:rm_back32

; boot_linux16: enter a Linux kernel's real-mode setup code, as the boot
; protocol asks (and PXELINUX, iPXE and GRUB's linux16 do).  Reached
; through rm_farcall, so the one thunk has done the switch to real mode.
;   In:  real mode, CS = 0, DS = ES = FS = GS = the setup segment (the
;        base of the loaded boot sector >> 4), EBX = the stack pointer to
;        use in that segment (the top of the setup's heap).
;   Out: does not return.  Jumps to setup segment + 0x20 : 0000 with
;        SS = DS = ES = FS = GS = the setup segment, SP = BX, interrupts
;        off, the direction flag clear and EAX, EBX, ECX, EDX, ESI, EDI,
;        EBP zero.  The caller's stack (Pulsar's) is abandoned.
boot_linux16:
        cli                             ; the protocol wants them off
        mov     ax, ds
        mov     ss, ax                  ; the stack in the setup segment ...
        mov     sp, bx                  ; ... at the top of its heap
        add     ax, 0x20                ; the setup code follows the boot sector
        push    ax                      ; far return address: seg+0x20:0000
        push    word 0
        xor     eax, eax                ; no stray values for the kernel
        xor     ebx, ebx
        xor     ecx, ecx
        xor     edx, edx
        xor     esi, esi
        xor     edi, edi
        xor     ebp, ebp
        cld
        retf                            ; "return" into the setup code

; rm_yield: a far return, for rm_farcall: a trip to real mode and back that
; lets pending interrupts (the BIOS timer tick) run.  boot/bios/nic.c uses it,
; since nothing else drops to real mode while it drives the NIC itself.
;   In:  real mode, far-called.  Out: returns at once.  Clobbers: nothing.
rm_yield:
        retf

; pm16_to_rm: drop from 16-bit protected mode to real mode.
;   In:  16-bit protected mode (CS = CODE16), interrupts off.
;   Out: jumps to rm_thunk_rm in real mode with CS = 0.
pm16_to_rm:
        LOAD_SEGS DATA16                ; 64 KiB limits in the hidden caches
        mov     eax, cr0
        and     eax, 0x7FFFFFFE         ; PE off (paging is never on)
        mov     cr0, eax
        jmp     0:rm_thunk_rm

align 16
gdt:    dq 0
        dq 0x00CF9B000000FFFF           ; 0x08: code, base 0, 4 GiB, 32-bit
        dq 0x00CF93000000FFFF           ; 0x10: data, base 0, 4 GiB, 32-bit
        dq 0x00009B000000FFFF           ; 0x18: code, base 0, 64 KiB, 16-bit
        dq 0x000093000000FFFF           ; 0x20: data, base 0, 64 KiB, 16-bit
gdt_end:
gdtr:   dw gdt_end - gdt - 1
        dd gdt
rm_idtr:
        dw 0x3FF                        ; the real-mode IVT: 256 vectors at 0
        dd 0
msg_a20: db "Pulsar: cannot enable the A20 line", 13, 10, 0
msg_packed: db "Pulsar: damaged image (no packed body)", 13, 10, 0

bits 32

; pm_entry: first 32-bit code.
;   In:  protected mode, CS = CODE32, interrupts off.
;   Out: never returns; unpacks the body, zeroes .bss, calls pulsar_main().
pm_entry:
        LOAD_SEGS DATA32
        mov     esp, STACK_TOP
        ; The body unpacks over the packed one: first move the packed
        ; body (header + stream) to __packed_copy, above the unpacked
        ; body's end, copying from the top down since the two may overlap.
        mov     ecx, [__packed_start + 8] ; the header's packed size ...
        cmp     ecx, NBP_MAX            ; ... which no file exceeds
        ja      .dead
        add     ecx, PACK_HEADER
        lea     esi, [ecx + __packed_start - 1]
        lea     edi, [ecx + __packed_copy - 1]
        std
        rep     movsb
        cld
        mov     eax, __body_start
        mov     edx, [__packed_copy + 4] ; unpacked size, checked by pack.py
        add     edx, eax
        push    edx                     ; stage1_inflate(src, dst, end)
        push    eax
        push    __packed_copy + PACK_HEADER
        call    stage1_inflate
        add     esp, 12
        test    eax, eax
        jz      .unpacked
.dead:  mov     dword [0xB8000], 0x4F5A4F50 ; "PZ" in white on red: the
.hang:  hlt                             ; body did not unpack (no BIOS here)
        jmp     .hang
.unpacked:
        ; Zero .bss and all that the packed copy covered beyond it (the
        ; heap's start): C finds no leftover of the file, as when the body
        ; was unpacked above the file (some code takes fresh heap for 0).
        mov     ecx, [__packed_copy + 8]
        lea     ecx, [ecx + __packed_copy + PACK_HEADER] ; the copy's end
        cmp     ecx, __bss_end
        jae     .zero
        mov     ecx, __bss_end
.zero:  mov     edi, __packed_copy      ; from the copy (below __bss_start)
        sub     ecx, edi
        xor     eax, eax
        rep     stosb
        call    pulsar_main
.halt:  cli
        hlt
        jmp     .halt

; rm_int: void rm_int(uint8_t vec, struct rm_regs *regs)
;   In:  32-bit mode, cdecl.  Calls real-mode INT vec with *regs loaded.
;   Out: *regs = the registers the handler returned (EFLAGS incl. CF).
;   Clobbers: nothing the C ABI keeps (all GPRs restored); runs with
;   interrupts enabled while in real mode, off again on return.
rm_int:
        pushad
        movzx   eax, byte [esp + 36]
        mov     eax, [eax * 4]          ; the vector from the IVT
        mov     byte [thunk_is_int], 1
        mov     dword [thunk_args_len], 0
        jmp     rm_common

; rm_farcall: void rm_farcall(uint32_t segoff, struct rm_regs *regs,
;                             const void *args, uint32_t args_len)
;   In:  32-bit mode, cdecl.  Copies args_len bytes of args onto the
;        real-mode stack (so the callee sees them at SS:SP+4, after the
;        return address, as the !PXE API wants), then far-calls segoff.
;   Out: *regs = the registers after the call.  Clobbers: as rm_int.
rm_farcall:
        pushad
        mov     eax, [esp + 36]
        mov     byte [thunk_is_int], 0
        mov     ecx, [esp + 44]
        mov     [thunk_args], ecx
        mov     ecx, [esp + 48]
        mov     [thunk_args_len], ecx
        ; fall through

; rm_common: the shared body of the one thunk.
;   In:  EAX = seg:off target, [esp+40] = struct rm_regs *, after PUSHAD.
rm_common:
        mov     [thunk_target], eax
        mov     [thunk_pm_esp], esp
        mov     esi, [esp + 40]
        mov     [thunk_regs_ptr], esi
        mov     edi, thunk_regs
        mov     ecx, RM_SIZE / 4
        cld
        rep     movsd
        and     esp, ~15
        mov     ecx, [thunk_args_len]
        sub     esp, ecx
        mov     edi, esp
        mov     esi, [thunk_args]
        rep     movsb                   ; stack arguments at SS:SP
        jmp     CODE16:pm16_to_rm

; rm_back32: the thunk's return into 32-bit mode.
rm_back32:
        LOAD_SEGS DATA32
        mov     esp, [thunk_pm_esp]
        mov     esi, thunk_regs
        mov     edi, [thunk_regs_ptr]
        mov     ecx, RM_SIZE / 4
        cld
        rep     movsd
        popad
        ret

; boot_multiboot: void boot_multiboot(uint32_t entry, uint32_t info,
;                                     uint32_t magic)
;   In:  32-bit mode, cdecl; the PXE stack already shut down.
;   Out: never returns.  Jumps to entry as Multiboot 0.6.96 and Multiboot2
;        (32-bit i386 state) require: EAX = magic (0x2BADB002 or
;        0x36D76289), EBX = info, flat 4 GiB CS/DS/ES/FS/GS/SS, A20 on,
;        paging off, interrupts off.
boot_multiboot:
        cli
        mov     ecx, [esp + 4]          ; entry
        mov     ebx, [esp + 8]          ; info
        mov     edx, [esp + 12]         ; magic (read before the stack moves)
        LOAD_SEGS DATA32                ; flat data segments, reloaded
        mov     eax, edx
        jmp     ecx

section .rodata.chain_stub progbits alloc noexec nowrite align=16
bits 16

; chain_stub: copy a staged PXE boot program to 0:7C00 and start it there
; as a PXE ROM starts an NBP, with the PXE stack still alive (`chld`).
; It never runs in place: boot/bios/chain.c copies chain_stub..chain_stub_end
; to CHAIN_STUB_SEG:0 (below 0x7C00, so the copy cannot overwrite it) and
; far-calls that copy through rm_farcall.  Position-independent: it only
; addresses its own data through CS and offsets from chain_stub.
; It lives in the packed body (read-only data: it never runs where it is
; linked), so it costs stage 1 nothing.
; The copy uses the BIOS (INT 15h AH=87h, 64 KiB per call) because real
; mode cannot reach the staging buffer above 1 MiB and the GDT and
; mode-switch code at 0x7C00.. are about to be overwritten.
;   In:  real mode, CS = CHAIN_STUB_SEG, IP = 0, SS:SP = Pulsar's stack
;        (below 0x7C00, above the stub), interrupts as the thunk left them
;        ESI = linear address of the staged file (any 32-bit address)
;        ECX = its length in bytes (at most 0x98000 - 0x7C00)
;        EBX = PXENV+ seg:off, EDX = !PXE seg:off (as the ROM gave them)
;        EBP = the child's SS:SP (segment in the high word)
;        EDI = far return address to leave at the child's SS:SP, or 0 for
;              one that lands on INT 18h (boot failed) in this stub
;   Out: never returns.  At 0:7C00: CS = DS = FS = GS = 0, ES:BX = PXENV+,
;        SS:SP = EBP, [SS:SP] = the return address, [SS:SP+4] = !PXE,
;        direction flag clear, interrupts enabled (as iPXE starts NBPs).
;        If the BIOS refuses a copy: INT 18h, as a failed boot does.
%define STUB(x) ((x) - chain_stub)
chain_stub:
        push    cs
        pop     ds                      ; DS = the stub, for its own data
        mov     [STUB(cs_src)], esi
        mov     [STUB(cs_left)], ecx
        mov     [STUB(cs_pxenv)], ebx
        mov     [STUB(cs_bangpxe)], edx
        mov     [STUB(cs_stack)], ebp
        test    edi, edi
        jnz     .have_ret
        mov     di, cs                  ; no return address given: ours
        shl     edi, 16
        mov     di, STUB(.returned)
.have_ret:
        mov     [STUB(cs_ret)], edi
        mov     dword [STUB(cs_dst)], NBP_LOAD
.copy:  mov     ecx, [STUB(cs_left)]
        test    ecx, ecx
        jz      .copied
        cmp     ecx, 0x10000            ; INT 15h/87h moves at most 64 KiB
        jbe     .chunk
        mov     ecx, 0x10000
.chunk: sub     [STUB(cs_left)], ecx
        mov     eax, [STUB(cs_src)]
        mov     [STUB(cs_gdt) + 16 + 2], eax ; source base bits 0-23 ...
        shr     eax, 24
        mov     [STUB(cs_gdt) + 16 + 7], al  ; ... and 24-31
        mov     eax, [STUB(cs_dst)]
        mov     [STUB(cs_gdt) + 24 + 2], eax ; destination base, likewise
        shr     eax, 24
        mov     [STUB(cs_gdt) + 24 + 7], al
        mov     byte [STUB(cs_gdt) + 16 + 5], 0x93 ; access bytes, which the
        mov     byte [STUB(cs_gdt) + 24 + 5], 0x93 ; base writes overlapped
        add     [STUB(cs_src)], ecx
        add     [STUB(cs_dst)], ecx
        inc     ecx
        shr     ecx, 1                  ; words, an odd byte rounded up
        push    ds
        pop     es
        mov     si, STUB(cs_gdt)        ; ES:SI = the descriptor table
        mov     ah, 0x87
        int     0x15
        jc      .returned
        jmp     .copy
.copied:
        cli
        cld
        lss     sp, [STUB(cs_stack)]    ; SP = low word, SS = high word
        mov     bp, sp
        mov     eax, [STUB(cs_ret)]
        mov     [bp], eax               ; [SS:SP] = far return address
        mov     eax, [STUB(cs_bangpxe)]
        mov     [bp + 4], eax           ; [SS:SP+4] = !PXE, as the spec says
        les     bx, [STUB(cs_pxenv)]    ; ES:BX = PXENV+
        xor     ax, ax
        mov     ds, ax
        mov     fs, ax
        mov     gs, ax
        sti
        jmp     0:NBP_LOAD
.returned:
        int     0x18                    ; copy failed or the child returned:
.halt:  hlt                             ; the BIOS's "boot failed" path
        jmp     .halt
align 4
cs_src:     dd 0                        ; next source byte (linear)
cs_dst:     dd 0                        ; next destination byte (linear)
cs_left:    dd 0                        ; bytes still to copy
cs_pxenv:   dd 0                        ; PXENV+ seg:off for ES:BX
cs_bangpxe: dd 0                        ; !PXE seg:off for SS:SP+4
cs_stack:   dd 0                        ; the child's SS:SP
cs_ret:     dd 0                        ; far return address for SS:SP
align 8
cs_gdt: dq 0, 0                         ; INT 15h/87h table: the BIOS fills
        dq 0x000093000000FFFF           ; entries 1, 4 and 5; 2 = source,
        dq 0x000093000000FFFF           ; 3 = destination (64 KiB, data)
        dq 0, 0
chain_stub_end:

; The thunk's mutable state: its own page below the image (see the top).
section .bss16 nobits alloc write align=16
alignb 4
; Sized as realmode.h declares them (asm-offsets.inc); _start stores
; 4, 4, 2, 2 and 4 bytes into them, which the %if below checks.
%if BOOT_PXENV_PTR_SIZE != 4 || BOOT_BANGPXE_PTR_SIZE != 4 || \
    BOOT_ROM_SS_SIZE != 2 || BOOT_ROM_SP_SIZE != 2 || BOOT_ROM_RET_SIZE != 4
%error "boot/bios/realmode.h's boot_* types differ from what _start stores"
%endif
boot_pxenv_ptr:   resb BOOT_PXENV_PTR_SIZE   ; seg:off of PXENV+ from ES:BX
boot_bangpxe_ptr: resb BOOT_BANGPXE_PTR_SIZE ; seg:off of !PXE from SS:SP+4
boot_rom_ss:      resb BOOT_ROM_SS_SIZE      ; the ROM's stack at entry
boot_rom_sp:      resb BOOT_ROM_SP_SIZE
boot_rom_ret:     resb BOOT_ROM_RET_SIZE     ; seg:off the ROM's far call returns to
thunk_target:     resd 1                  ; seg:off to call
thunk_pm_esp:     resd 1                  ; ESP to return to in 32-bit mode
thunk_regs_ptr:   resd 1                  ; the caller's struct rm_regs
thunk_args:       resd 1                  ; stack arguments to copy ...
thunk_args_len:   resd 1                  ; ... and their length in bytes
thunk_is_int:     resb 1
alignb 4
thunk_regs:       resb RM_SIZE           ; the register image in low memory
