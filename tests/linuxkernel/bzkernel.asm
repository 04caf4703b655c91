; Pulsar's bzImage test kernel: a tiny image in the Linux/x86 boot protocol
; format that checks what Kitten relies on and reports it on COM1 as
; `KT key=value` lines (see tests/linuxkernel/README.md), then leaves
; QEMU through isa-debug-exit.  Assembled with nasm -f bin; PROTO (0x020A or 0x0206)
; picks the header version, as in Kitten (2.06) or a later Linux (2.10).
;
; File layout, as a boot loader sees it:
;   0x000-0x1FF  the legacy boot sector; the setup header starts at 0x1F1
;   0x200-0x9FF  the real-mode setup (setup_sects = 0, which means 4)
;   0xA00-...    the protected-mode part, to be loaded at 1 MiB
;
; The setup runs first, in real mode at seg+0x20:0000 with DS = the
; segment of the boot sector: it reports the segments, the header fields
; the loader filled in, the command line, INT 12h and the E820 map (INT
; 15h), then switches to 32-bit protected mode and jumps to code32_start
; like Kitten's setup.S.  The 32-bit part CRCs itself and the initrd.
; A loader using the 32-bit boot protocol (pulsar.efi: no setup run, no
; BIOS) enters the 32-bit part with CS = 0x10; it then reports from
; boot_params (header fields, E820, efi_info, acpi_rsdp_addr) first.

%ifndef PROTO
%define PROTO 0x020A
%endif

COM1        equ 0x3F8
SETUP_BYTES equ 5 * 512                 ; boot sector + setup_sects (0 = 4)
PM_ADDR     equ 0x100000
BSS_BYTES   equ 0x4000                  ; CRC table + stack after the image
E820BUF     equ 0x8000                  ; scratch in the setup's heap
SMAP        equ 0x534D4150

; ------------------------------------------------------------ the setup
section .setup progbits start=0 vstart=0
; COM1 at 115200 8n1, no interrupts; assembled once for the 16-bit setup
; and once for the 32-bit kernel.  Clobbers: AL, DX.
%macro SERIAL_INIT 0
        mov     dx, COM1 + 1
        xor     al, al
        out     dx, al                  ; no interrupts
        mov     dx, COM1 + 3
        mov     al, 0x80
        out     dx, al                  ; DLAB on
        mov     dx, COM1
        mov     al, 1
        out     dx, al                  ; divisor 1: 115200
        inc     dx
        xor     al, al
        out     dx, al
        mov     dx, COM1 + 3
        mov     al, 3
        out     dx, al                  ; 8n1, DLAB off
        ret
%endmacro

bits 16

        times 0x1F1 - ($ - $$) db 0
setup_sects:    db 0                    ; 0x1F1: 0 means 4
root_flags:     dw 0                    ; 0x1F2
syssize:        dd (pm_end - pm_start + 15) / 16 ; 0x1F4: 16-byte units
ram_size:       dw 0                    ; 0x1F8
vid_mode:       dw 0xFFFF               ; 0x1FA: normal
root_dev:       dw 0                    ; 0x1FC
boot_flag:      dw 0xAA55               ; 0x1FE
        jmp     short setup_start       ; 0x200: the loader enters here
                db "HdrS"               ; 0x202
version:        dw PROTO                ; 0x206
realmode_swtch: dd 0                    ; 0x208
start_sys_seg:  dw 0                    ; 0x20C
kernel_version: dw 0                    ; 0x20E
type_of_loader: db 0                    ; 0x210: the loader sets it
loadflags:      db 1                    ; 0x211: LOADED_HIGH
setup_move_size: dw 0                   ; 0x212
code32_start:   dd PM_ADDR              ; 0x214
ramdisk_image:  dd 0                    ; 0x218
ramdisk_size:   dd 0                    ; 0x21C
bootsect_kludge: dd 0                   ; 0x220
heap_end_ptr:   dw 0                    ; 0x224
ext_loader_ver: db 0                    ; 0x226
ext_loader_type: db 0                   ; 0x227
cmd_line_ptr:   dd 0                    ; 0x228
%if PROTO >= 0x020A
initrd_addr_max: dd 0x7FFFFFFF          ; 0x22C
%else
initrd_addr_max: dd 0xFFFFFFFF          ; 0x22C: as Kitten has it
%endif
kernel_alignment: dd 0x200000           ; 0x230
relocatable_kernel: db 0                ; 0x234
min_alignment:  db 0                    ; 0x235
xloadflags:     dw 0                    ; 0x236
cmdline_size:   dd 255                  ; 0x238
%if PROTO >= 0x020A
hardware_subarch: dd 0                  ; 0x23C
hardware_subarch_data: dq 0             ; 0x240
payload_offset: dd 0                    ; 0x248
payload_length: dd 0                    ; 0x24C
setup_data:     dq 0                    ; 0x250
pref_address:   dq PM_ADDR              ; 0x258
init_size:      dd pm_end - pm_start + BSS_BYTES ; 0x260
handover_offset: dd 0                   ; 0x264
%endif

; setup_start: the real-mode entry.
;   In:  real mode at seg+0x20:0000, DS = ES = FS = GS = SS = seg (as
;        the protocol asks; reported, not assumed), interrupts off.
;   Out: never returns: jumps to code32_start in 32-bit protected mode
;        with ESI = the boot sector's linear address.
setup_start:
        pushf                           ; IF as the loader left it ...
        pop     word [cs:entry_flags - 0x200] ; (CS = DS + 0x20)
        mov     [cs:entry_ds - 0x200], ds
        mov     [cs:entry_sp - 0x200], sp
        mov     ax, cs
        sub     ax, 0x20                ; our own view of the boot sector
        mov     ds, ax                  ; from here on data is DS-relative
        cld
        call    serial_init
        mov     si, s_begin
        call    puts
        ; the segments and the stack as they were at entry
        mov     si, s_cs
        mov     ax, cs
        call    kv16
        mov     si, s_ds
        mov     ax, [entry_ds]
        call    kv16
        mov     si, s_es
        mov     ax, es
        call    kv16
        mov     si, s_fs
        mov     ax, fs
        call    kv16
        mov     si, s_gs
        mov     ax, gs
        call    kv16
        mov     si, s_ss
        mov     ax, ss
        call    kv16
        mov     si, s_sp
        mov     ax, [entry_sp]
        call    kv16
        mov     si, s_if
        mov     ax, [entry_flags]
        shr     ax, 9
        and     ax, 1
        call    kv16
        ; the header fields the loader owns
        mov     si, s_version
        mov     ax, [version]
        call    kv16
        mov     si, s_type
        movzx   eax, byte [type_of_loader]
        mov     cx, 2
        call    kv
        mov     si, s_loadflags
        movzx   eax, byte [loadflags]
        mov     cx, 2
        call    kv
        mov     si, s_heap
        mov     ax, [heap_end_ptr]
        call    kv16
        mov     si, s_cmdptr
        mov     eax, [cmd_line_ptr]
        call    kv32
        mov     si, s_rdimage
        mov     eax, [ramdisk_image]
        call    kv32
        mov     si, s_rdsize
        mov     eax, [ramdisk_size]
        call    kv32
        mov     si, s_code32
        mov     eax, [code32_start]
        call    kv32
        call    print_cmdline
        ; the BIOS: base memory and the E820 map, as Kitten's setup asks
        int     0x12                    ; AX = KiB below the EBDA
        mov     si, s_int12
        call    kv16
        call    print_e820
        jmp     to_protected_mode

; kv16 / kv32 / kv: print "KT <key>=0x<hex>" and CR LF.
;   In: DS:SI = "KT key=0x" string, AX / EAX = value, for kv CX = digits.
;   Clobbers: AX, BX, CX, DX, SI.
kv16:   mov     cx, 4
        jmp     kv
kv32:   mov     cx, 8
kv:     push    eax
        call    puts
        pop     eax
        call    hex
        mov     si, s_crlf
        jmp     puts

; print_cmdline: "KT cmdline=<text>" from cmd_line_ptr, non-printable
; bytes and backslashes as \xNN; "KT no_cmdline" when the pointer is 0.
;   Clobbers: EAX, BX, CX, DX, SI, FS.
print_cmdline:
        mov     eax, [cmd_line_ptr]
        test    eax, eax
        jnz     .have
        mov     si, s_nocmd
        jmp     puts
.have:  mov     si, s_cmdline
        call    puts
        mov     eax, [cmd_line_ptr]
        mov     si, ax
        and     si, 15
        shr     eax, 4
        mov     fs, ax                  ; FS:SI = the command line
        mov     bx, 4096                ; longer than any cmdline_size here
.next:  mov     al, [fs:si]
        test    al, al
        jz      .done
        cmp     al, 0x20
        jb      .esc
        cmp     al, 0x7E
        ja      .esc
        cmp     al, '\'
        je      .esc
        call    putc
        jmp     .step
.esc:   push    ax
        mov     al, '\'
        call    putc
        mov     al, 'x'
        call    putc
        pop     ax
        movzx   eax, al
        mov     cx, 2
        call    hex
.step:  inc     si
        dec     bx
        jnz     .next
.done:  mov     si, s_crlf
        jmp     puts

; print_e820: every INT 15h E820 entry as "KT e820 base=0x.. len=0x..
; type=0x..", then "KT e820_count=0x..".
;   Clobbers: EAX, EBX, ECX, EDX, SI, DI, BP.
print_e820:
        xor     ebx, ebx                ; continuation value
        xor     bp, bp                  ; entries seen
.next:  mov     di, E820BUF             ; ES:DI = the buffer (ES = DS)
        mov     dword [di + 20], 1      ; ACPI 3 "valid" for 24-byte BIOSes
        mov     eax, 0xE820
        mov     edx, SMAP
        mov     ecx, 24
        int     0x15
        jc      .done
        cmp     eax, SMAP
        jne     .done
        push    ebx
        inc     bp
        mov     si, s_e820base
        call    puts
        mov     eax, [E820BUF + 4]
        mov     cx, 8
        call    hex
        mov     eax, [E820BUF]
        mov     cx, 8
        call    hex
        mov     si, s_e820len
        call    puts
        mov     eax, [E820BUF + 12]
        mov     cx, 8
        call    hex
        mov     eax, [E820BUF + 8]
        mov     cx, 8
        call    hex
        mov     si, s_e820type
        call    puts
        mov     eax, [E820BUF + 16]
        mov     cx, 8
        call    hex
        mov     si, s_crlf
        call    puts
        pop     ebx
        test    ebx, ebx
        jnz     .next
.done:  mov     si, s_e820count
        mov     ax, bp
        jmp     kv16

; to_protected_mode: flat 32-bit segments, then code32_start.
;   In: real mode, DS = the boot sector's segment.
;   Out: never returns; ESI = the boot sector's linear address.
to_protected_mode:
        cli
        xor     esi, esi
        mov     si, ds
        shl     esi, 4                  ; the boot sector, linear
        lea     eax, [esi + gdt]
        mov     [gdtr + 2], eax         ; the GDT's linear base
        lgdt    [gdtr]
        mov     eax, [code32_start]
        mov     [pm_jump], eax
        mov     eax, cr0
        or      al, 1                   ; PE
        mov     cr0, eax
        jmp     far dword [pm_jump]     ; 0x08:code32_start

; serial_init: COM1 at 115200 8n1, no interrupts.  Clobbers: AL, DX.
serial_init:
        SERIAL_INIT

; putc: send AL on COM1.  Clobbers: DX.
putc:   push    ax
        mov     dx, COM1 + 5
.wait:  in      al, dx
        test    al, 0x20                ; transmitter empty?
        jz      .wait
        pop     ax
        mov     dx, COM1
        out     dx, al
        ret

; puts: send the NUL-terminated DS:SI.  Clobbers: AL, DX, SI.
puts:   lodsb
        test    al, al
        jz      .done
        call    putc
        jmp     puts
.done:  ret

; hex: send the low CX nibbles of EAX in lower-case hex.
;   Clobbers: EAX, CX, DX.
hex:    push    ebx
        mov     ebx, eax
        mov     dx, cx
        shl     cx, 2
        ror     ebx, cl                 ; the top wanted nibble ...
        mov     cx, dx
.digit: rol     ebx, 4                  ; ... comes round to bits 0-3
        mov     al, bl
        and     al, 15
        add     al, '0'
        cmp     al, '9'
        jbe     .out
        add     al, 'a' - '0' - 10
.out:   call    putc
        loop    .digit
        pop     ebx
        ret

align 8
gdt:    dq 0
        dq 0x00CF9A000000FFFF           ; 0x08: flat 32-bit code
        dq 0x00CF92000000FFFF           ; 0x10: flat 32-bit data
gdtr:   dw 3 * 8 - 1
        dd 0                            ; set at run time
pm_jump: dd 0                           ; code32_start ...
        dw 0x08                         ; ... in the flat code segment
entry_flags: dw 0
entry_ds: dw 0
entry_sp: dw 0

s_begin:    db "KT begin", 13, 10, 0
s_cs:       db "KT cs=0x", 0
s_ds:       db "KT ds=0x", 0
s_es:       db "KT es=0x", 0
s_fs:       db "KT fs=0x", 0
s_gs:       db "KT gs=0x", 0
s_ss:       db "KT ss=0x", 0
s_sp:       db "KT sp=0x", 0
s_if:       db "KT if=0x", 0
s_version:  db "KT version=0x", 0
s_type:     db "KT type_of_loader=0x", 0
s_loadflags: db "KT loadflags=0x", 0
s_heap:     db "KT heap_end_ptr=0x", 0
s_cmdptr:   db "KT cmd_line_ptr=0x", 0
s_rdimage:  db "KT ramdisk_image=0x", 0
s_rdsize:   db "KT ramdisk_size=0x", 0
s_code32:   db "KT code32_start=0x", 0
s_cmdline:  db "KT cmdline=", 0
s_nocmd:    db "KT no_cmdline", 13, 10, 0
s_int12:    db "KT int12_kib=0x", 0
s_e820base: db "KT e820 base=0x", 0
s_e820len:  db " len=0x", 0
s_e820type: db " type=0x", 0
s_e820count: db "KT e820_count=0x", 0
s_crlf:     db 13, 10, 0

        times SETUP_BYTES - ($ - $$) db 0

; ------------------------------------------------- the protected-mode part
section .pm progbits follows=.setup vstart=PM_ADDR
bits 32
pm_start:

; pm_entry: code32_start.
;   In:  32-bit protected mode, CS = flat code, ESI = the boot sector.
;        Our own setup enters with CS = 0x08; a loader using the 32-bit
;        boot protocol (no setup run: UEFI) with CS = __BOOT_CS = 0x10,
;        DS = __BOOT_DS = 0x18 and ESI = boot_params: that is boot32.
;   Out: never returns: reports and exits QEMU (or halts).
pm_entry:
        mov     ax, cs
        cmp     ax, 0x10
        je      boot32
        mov     ax, 0x10
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     fs, ax
        mov     gs, ax
pm_common:
        mov     esp, stack_top
        cld
        push    esi
        call    crc_init
        mov     esi, pm_start           ; this part, as loaded
        mov     ecx, pm_end - pm_start
        call    crc32
        mov     ebx, s_kcrc
        call    kv32p
        pop     ebp                     ; the boot sector
        mov     esi, [ebp + 0x218]      ; ramdisk_image
        mov     ecx, [ebp + 0x21C]      ; ramdisk_size
        call    crc32
        mov     ebx, s_icrc
        call    kv32p
        mov     ebx, s_end
        call    putsp
        mov     al, 0x10                ; isa-debug-exit: QEMU exits with 33
        out     0xF4, al
.halt:  cli
        hlt
        jmp     .halt

; crc_init: the CRC-32 (IEEE, reflected) table.  Clobbers: EAX, ECX, EDX, EDI.
crc_init:
        mov     edi, crc_table
        xor     ecx, ecx
.entry: mov     eax, ecx
        mov     edx, 8
.bit:   shr     eax, 1
        jnc     .skip
        xor     eax, 0xEDB88320
.skip:  dec     edx
        jnz     .bit
        stosd
        inc     ecx
        cmp     ecx, 256
        jb      .entry
        ret

; crc32: EAX = CRC-32 of ECX bytes at ESI.  Clobbers: ECX, EDX, ESI.
crc32:  mov     eax, 0xFFFFFFFF
        jecxz   .done
.byte:  mov     dl, al
        xor     dl, [esi]
        movzx   edx, dl
        shr     eax, 8
        xor     eax, [crc_table + edx * 4]
        inc     esi
        dec     ecx
        jnz     .byte
.done:  not     eax
        ret

;-------------------------------------------------------------------------
; boot32: the 32-bit boot protocol's entry (a UEFI loader after
; ExitBootServices; no setup ran, no BIOS).  Reports the entry state, the
; header fields in boot_params, the command line, boot_params' E820 table,
; efi_info with the EFI memory map it points at and acpi_rsdp_addr with
; the signature found there; then the CRCs as on the 16-bit path.
;   In:  CS = 0x10, ESI = boot_params (see pm_entry).
boot32:
        mov     [e_ds], ds              ; the loader's data segment: flat
        mov     [e_es], es
        mov     [e_ss], ss
        pushfd
        pop     dword [e_flags]
        mov     esp, stack_top
        cld
        mov     [bp_ptr], esi
        call    serial_initp
        mov     ebx, s_begin32
        call    putsp
        mov     ebx, s_cs32
        mov     ax, cs
        movzx   eax, ax
        call    kv16p
        mov     ebx, s_ds32
        movzx   eax, word [e_ds]
        call    kv16p
        mov     ebx, s_es32
        movzx   eax, word [e_es]
        call    kv16p
        mov     ebx, s_ss32
        movzx   eax, word [e_ss]
        call    kv16p
        mov     ebx, s_if32
        mov     eax, [e_flags]
        shr     eax, 9
        and     eax, 1
        call    kv16p
        mov     ebx, s_bp32
        mov     eax, [bp_ptr]
        call    kv32p
        mov     esi, [bp_ptr]
        mov     ebx, s_version32
        movzx   eax, word [esi + 0x206]
        call    kv16p
        mov     ebx, s_type32
        movzx   eax, byte [esi + 0x210]
        mov     ecx, 2
        call    kvp
        mov     ebx, s_loadflags32
        movzx   eax, byte [esi + 0x211]
        mov     ecx, 2
        call    kvp
        mov     ebx, s_cmdptr32
        mov     eax, [esi + 0x228]
        call    kv32p
        mov     ebx, s_rdimage32
        mov     eax, [esi + 0x218]
        call    kv32p
        mov     ebx, s_rdsize32
        mov     eax, [esi + 0x21C]
        call    kv32p
        mov     ebx, s_code32_32
        mov     eax, [esi + 0x214]
        call    kv32p
        call    cmdline32
        call    e820_32
        call    efi32
        mov     esi, [bp_ptr]
        mov     ax, ds                  ; the common part wants all data
        mov     es, ax                  ; segments flat (the loader's)
        mov     fs, ax
        mov     gs, ax
        jmp     pm_common

; cmdline32: "KT cmdline=<text>" from boot_params' cmd_line_ptr, escaped
; as on the 16-bit path; "KT no_cmdline" when it is 0.
;   Clobbers: EAX, EBX, ECX, EDX, ESI.
cmdline32:
        mov     esi, [bp_ptr]
        mov     esi, [esi + 0x228]
        test    esi, esi
        jnz     .have
        mov     ebx, s_nocmd32
        jmp     putsp
.have:  mov     ebx, s_cmdline32
        call    putsp
        mov     ebx, 4096               ; longer than any cmdline_size here
.next:  mov     al, [esi]
        test    al, al
        jz      .done
        cmp     al, 0x20
        jb      .esc
        cmp     al, 0x7E
        ja      .esc
        cmp     al, '\'
        je      .esc
        call    putcp
        jmp     .step
.esc:   push    eax
        mov     al, '\'
        call    putcp
        mov     al, 'x'
        call    putcp
        pop     eax
        movzx   eax, al
        mov     ecx, 2
        call    hexp
.step:  inc     esi
        dec     ebx
        jnz     .next
.done:  mov     ebx, s_crlfp
        jmp     putsp

; e820_32: boot_params' E820 table (e820_entries at 0x1E8, 20-byte
; entries at 0x2D0) in the 16-bit path's line format, then the count.
;   Clobbers: EAX, EBX, ECX, EDX, ESI, EDI.
e820_32:
        mov     esi, [bp_ptr]
        movzx   edi, byte [esi + 0x1E8]
        add     esi, 0x2D0
        push    edi
.next:  test    edi, edi
        jz      .done
        mov     ebx, s_e820base32
        call    putsp
        call    hex64                   ; base
        mov     ebx, s_e820len32
        call    putsp
        add     esi, 8
        call    hex64                   ; length
        mov     ebx, s_e820type32
        call    putsp
        mov     eax, [esi + 8]
        mov     ecx, 8
        call    hexp
        mov     ebx, s_crlfp
        call    putsp
        add     esi, 12
        dec     edi
        jmp     .next
.done:  pop     eax
        mov     ebx, s_e820count32
        jmp     kv16p

; efi32: efi_info (0x1C0), the EFI memory map it names (one line per
; descriptor: type, physical start, pages), the system table's signature,
; acpi_rsdp_addr (0x070) and the 8 bytes at it (the RSDP's signature).
;   Clobbers: EAX, EBX, ECX, EDX, ESI, EDI, EBP.
efi32:
        mov     ebp, [bp_ptr]
        mov     edi, efi_fields
.field: mov     ebx, [edi]              ; the key string, 0 at the end
        test    ebx, ebx
        jz      .systab
        mov     eax, [edi + 4]          ; the field's offset in boot_params
        mov     eax, [ebp + eax]
        call    kv32p
        add     edi, 8
        jmp     .field
.systab:
        ; the system table's signature, when it is below 4 GiB
        mov     esi, [ebp + 0x1C4]
        cmp     dword [ebp + 0x1D8], 0
        jne     .map
        test    esi, esi
        jz      .map
        mov     ebx, s_efisyssig
        call    putsp
        call    hex64
        mov     ebx, s_crlfp
        call    putsp
.map:   ; the descriptors, when the map is below 4 GiB and sizes are sane
        cmp     dword [ebp + 0x1DC], 0
        jne     .rsdp
        mov     esi, [ebp + 0x1D0]
        mov     edi, [ebp + 0x1D4]
        mov     ecx, [ebp + 0x1C8]
        cmp     ecx, 40                 ; EFI_MEMORY_DESCRIPTOR's size
        jb      .rsdp
.desc:  cmp     edi, [ebp + 0x1C8]
        jb      .rsdp
        mov     ebx, s_efimdtype
        call    putsp
        mov     eax, [esi]
        mov     ecx, 8
        call    hexp
        mov     ebx, s_efimdphys
        call    putsp
        push    esi
        add     esi, 8
        call    hex64                   ; PhysicalStart
        mov     ebx, s_efimdpages
        call    putsp
        add     esi, 16
        call    hex64                   ; NumberOfPages
        pop     esi
        mov     ebx, s_crlfp
        call    putsp
        add     esi, [ebp + 0x1C8]
        sub     edi, [ebp + 0x1C8]
        jmp     .desc
.rsdp:  mov     ebx, s_rsdp
        call    putsp
        lea     esi, [ebp + 0x70]
        call    hex64
        mov     ebx, s_crlfp
        call    putsp
        cmp     dword [ebp + 0x74], 0
        jne     .out
        mov     esi, [ebp + 0x70]
        test    esi, esi
        jz      .out
        mov     ebx, s_rsdpsig
        call    putsp
        call    hex64                   ; "RSD PTR " read as a qword
        mov     ebx, s_crlfp
        jmp     putsp
.out:   ret

; hex64: the qword at ESI in 16 hex digits.  Clobbers: EAX, ECX, EDX.
hex64:  mov     eax, [esi + 4]
        mov     ecx, 8
        call    hexp
        mov     eax, [esi]
        mov     ecx, 8
        ; fall through

; hexp: send the low ECX nibbles of EAX in lower-case hex.
;   Clobbers: EAX, ECX, EDX.
hexp:   push    ebx
        mov     ebx, eax
        push    ecx
        shl     ecx, 2
        ror     ebx, cl                 ; the top wanted nibble (8: none) ...
        pop     ecx
.digit: rol     ebx, 4                  ; ... comes round to bits 0-3
        mov     al, bl
        and     al, 15
        add     al, '0'
        cmp     al, '9'
        jbe     .out
        add     al, 'a' - '0' - 10
.out:   call    putcp
        loop    .digit
        pop     ebx
        ret

; serial_initp: the same in 32-bit code (the setup's copy assembles for
; 16-bit operands and cannot be called from here).
serial_initp:
        SERIAL_INIT

; kv16p / kv32p / kvp: "KT <key>=0x<hex>" CR LF; EBX = key string, EAX =
; value, for kvp ECX = digits.  Clobbers: EAX, EBX, ECX, EDX.
kv16p:  mov     ecx, 4
        jmp     kvp
kv32p:  mov     ecx, 8
kvp:    push    eax
        push    ecx
        call    putsp
        pop     ecx
        pop     eax
        call    hexp
        mov     ebx, s_crlfp
        ; fall through

; putsp: send the NUL-terminated string at EBX.  Clobbers: EAX, EBX, EDX.
putsp:  mov     al, [ebx]
        test    al, al
        jz      .done
        call    putcp
        inc     ebx
        jmp     putsp
.done:  ret

; putcp: send AL on COM1.  Clobbers: EDX.
putcp:  push    eax
        mov     dx, COM1 + 5
.wait:  in      al, dx
        test    al, 0x20
        jz      .wait
        pop     eax
        mov     dx, COM1
        out     dx, al
        ret

s_begin32:    db "KT begin", 13, 10, "KT boot32", 13, 10, 0
s_cs32:       db "KT cs=0x", 0
s_ds32:       db "KT ds=0x", 0
s_es32:       db "KT es=0x", 0
s_ss32:       db "KT ss=0x", 0
s_if32:       db "KT if=0x", 0
s_bp32:       db "KT boot_params=0x", 0
s_version32:  db "KT version=0x", 0
s_type32:     db "KT type_of_loader=0x", 0
s_loadflags32: db "KT loadflags=0x", 0
s_cmdptr32:   db "KT cmd_line_ptr=0x", 0
s_rdimage32:  db "KT ramdisk_image=0x", 0
s_rdsize32:   db "KT ramdisk_size=0x", 0
s_code32_32:  db "KT code32_start=0x", 0
s_cmdline32:  db "KT cmdline=", 0
s_nocmd32:    db "KT no_cmdline", 13, 10, 0
s_e820base32: db "KT e820 base=0x", 0
s_e820len32:  db " len=0x", 0
s_e820type32: db " type=0x", 0
s_e820count32: db "KT e820_count=0x", 0
s_efisig:     db "KT efi_loader_signature=0x", 0
s_efisystab:  db "KT efi_systab=0x", 0
s_efisystabhi: db "KT efi_systab_hi=0x", 0
s_efidescsz:  db "KT efi_memdesc_size=0x", 0
s_efidescver: db "KT efi_memdesc_version=0x", 0
s_efimap:     db "KT efi_memmap=0x", 0
s_efimapsz:   db "KT efi_memmap_size=0x", 0
s_efimaphi:   db "KT efi_memmap_hi=0x", 0
s_efisyssig:  db "KT efi_systab_signature=0x", 0
s_efimdtype:  db "KT efimd type=0x", 0
s_efimdphys:  db " phys=0x", 0
s_efimdpages: db " pages=0x", 0
s_rsdp:       db "KT acpi_rsdp_addr=0x", 0
s_rsdpsig:    db "KT rsdp_signature=0x", 0
; efi_info's fields for efi32: key string, offset in boot_params.
align 4
efi_fields:
        dd s_efisig, 0x1C0
        dd s_efisystab, 0x1C4
        dd s_efisystabhi, 0x1D8
        dd s_efidescsz, 0x1C8
        dd s_efidescver, 0x1CC
        dd s_efimap, 0x1D0
        dd s_efimapsz, 0x1D4
        dd s_efimaphi, 0x1DC
        dd 0
s_kcrc:  db "KT kernel_crc32=0x", 0
s_icrc:  db "KT initrd_crc32=0x", 0
s_end:   db "KT end status=ok", 13, 10, 0
s_crlfp: db 13, 10, 0

; Filler with a fixed pseudo-random pattern, so that the kernel CRC checks
; that every byte of a multi-packet protected-mode part arrived in place.
align 4
%assign seed 0x2545F491
%rep 12288
%assign seed (seed * 1103515245 + 12345) & 0xFFFFFFFF
        dd seed
%endrep
pm_end:

; Scratch after the image (covered by init_size, not in the file).
crc_table equ pm_start + ((pm_end - pm_start + 15) & ~15)
stack_top equ PM_ADDR + (pm_end - pm_start) + BSS_BYTES - 16
; boot32's notes of the entry state, after the CRC table
e_ds     equ crc_table + 0x400
e_es     equ crc_table + 0x404
e_ss     equ crc_table + 0x408
e_flags  equ crc_table + 0x40C
bp_ptr   equ crc_table + 0x410
