/* INT 15h memory map and base memory size; see bios.h. */
#include "boot/bios/bios.h"
#include "boot/bios/realmode.h"
#include "boot/bios/pxe.h"
#include "lib/console.h"
#include "boot/bios/io.h"
#include <string.h>

#define SMAP 0x534D4150u /* "SMAP" */

unsigned bios_e820(struct e820_entry *map, unsigned max)
{
    struct rm_regs r;
    unsigned n = 0;
    uint32_t cont = 0;
    uint32_t buf = (uint32_t)pxe_bounce; /* below 1 MiB */

    do {
        memset(&r, 0, sizeof(r));
        memset(pxe_bounce, 0, 24);
        pxe_bounce[20] = 1; /* ACPI 3 "enabled" bit, for 24-byte BIOSes */
        r.eax = 0xE820;
        r.ebx = cont;
        r.ecx = 24;
        r.edx = SMAP;
        r.es = (uint16_t)(buf >> 4);
        r.edi = buf & 15;
        rm_int(0x15, &r);
        if ((r.eflags & RM_CF) || r.eax != SMAP)
            break; /* CF on the first call: no E820 */
        if (r.ecx >= 20) {
            uint32_t ext = r.ecx >= 24 ? *(uint32_t *)(pxe_bounce + 20) : 1;
            if (ext & 1) { /* bit 0 clear: "ignore this entry" (ACPI 3) */
                memcpy(&map[n].base, pxe_bounce, 8);
                memcpy(&map[n].len, pxe_bounce + 8, 8);
                memcpy(&map[n].type, pxe_bounce + 16, 4);
                n++;
            }
        }
        cont = r.ebx;
    } while (cont && n < max);

    if (n)
        return n;

    /* No E820: base memory plus E801h (or 88h) extended memory. */
    map[0].base = 0;
    map[0].len = bios_base_memory();
    map[0].type = E820_RAM;
    n = 1;
    memset(&r, 0, sizeof(r));
    r.eax = 0xE801;
    rm_int(0x15, &r);
    if (!(r.eflags & RM_CF)) {
        uint32_t below16 = (r.ecx & 0xFFFF) ? (r.ecx & 0xFFFF) : (r.eax & 0xFFFF);
        uint32_t above16 = (r.ecx & 0xFFFF) ? (r.edx & 0xFFFF) : (r.ebx & 0xFFFF);
        map[n].base = 0x100000;
        map[n].len = (uint64_t)below16 * 1024;
        map[n++].type = E820_RAM;
        if (above16 && n < max) {
            map[n].base = 0x1000000;
            map[n].len = (uint64_t)above16 * 65536;
            map[n++].type = E820_RAM;
        }
        return n;
    }
    memset(&r, 0, sizeof(r));
    r.eax = 0x8800;
    rm_int(0x15, &r);
    if (!(r.eflags & RM_CF)) {
        map[n].base = 0x100000;
        map[n].len = (uint64_t)(r.eax & 0xFFFF) * 1024;
        map[n++].type = E820_RAM;
    }
    return n;
}

uint32_t bios_base_memory(void)
{
    /* The BIOS data area word at 0x413 holds base memory in KiB; the PXE
     * ROM lowers it when it claims memory at the top of base memory. */
    uint32_t bytes = (uint32_t)peek16(0x413) * 1024;
    return bytes > 0xA0000 ? 0xA0000 : bytes;
}

uint32_t bios_config_table(void)
{
    struct rm_regs r;

    memset(&r, 0, sizeof(r));
    r.eax = 0xC000;
    rm_int(0x15, &r);
    /* CF clear and AH 0: ES:BX is the table (AH 86h: not supported). */
    if ((r.eflags & RM_CF) || (r.eax & 0xFF00))
        return 0;
    return ((uint32_t)r.es << 4) + (r.ebx & 0xFFFF);
}

#define BDA_TICKS 0x46C       /* timer ticks since midnight (18.2065 Hz) */
#define RM_ZF 0x40u           /* EFLAGS.ZF in rm_regs.eflags */
#define IDLE_US 20000         /* one INT 15h AH=86h wait */

/** True if a key is waiting (INT 16h AH=01h); the key is consumed. */
static int bios_key(void)
{
    struct rm_regs r;

    memset(&r, 0, sizeof(r));
    r.eax = 0x0100;
    rm_int(0x16, &r);
    if (r.eflags & RM_ZF)
        return 0;
    memset(&r, 0, sizeof(r)); /* AH=00h: take it out of the buffer */
    rm_int(0x16, &r);
    return 1;
}

/** Wait @ms ms; with @keys, a key or COM1 byte ends it (returns 1). */
static int bios_wait(unsigned ms, int keys)
{
    /* 1193182 / 65536 ticks per second, rounded up to whole ticks. */
    uint32_t need = (uint32_t)(((uint64_t)ms * 1193182 + 65536000 - 1) /
                               65536000);
    uint32_t last = peek32(BDA_TICKS), elapsed = 0;
    struct rm_regs r;

    /* Only keys pressed from now on count (bounded: a stuck source). */
    for (unsigned n = 0; keys && n < 64; n++)
        if (!bios_key() && !console_serial_input())
            break;
    while (elapsed < need) {
        if (keys && (bios_key() || console_serial_input()))
            return 1;
        /* Idle in real mode with interrupts on, so the tick advances. */
        memset(&r, 0, sizeof(r));
        r.eax = 0x8600;
        r.ecx = IDLE_US >> 16;
        r.edx = IDLE_US & 0xFFFF;
        rm_int(0x15, &r);
        uint32_t now = peek32(BDA_TICKS);
        elapsed += now >= last ? now - last : 1; /* midnight wraps to 0 */
        last = now;
    }
    return 0;
}

/** Wait by the BIOS tick; see bios.h. */
void bios_sleep_ms(unsigned ms)
{
    bios_wait(ms, 0);
}

/** Wait by the BIOS tick until a key or a COM1 byte; see bios.h. */
int bios_wait_key(unsigned ms)
{
    return bios_wait(ms, 1);
}
