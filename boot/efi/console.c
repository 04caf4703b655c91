/*
 * The UEFI console: lib/console.h over the firmware's ConOut, which OVMF
 * (and most firmware with a serial console) already mirrors onto COM1, so
 * a lab's serial log shows Pulsar's lines as on BIOS.  The clock is the
 * TSC, calibrated against BootServices->Stall once; the progress line
 * counts in the BIOS ticks lib/progress.c expects.
 */
#include "boot/efi/uefi.h"
#include "lib/console.h"
#include "lib/progress.h"
#include <stdio.h>
#include <string.h>

#define COM1 0x3F8

static uint64_t tsc_per_ms = 1000000; /* until calibrated: 1 GHz */
static uint64_t tsc_start;
static bool firmware_gone;

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static uint32_t ticks(void);

/** Calibration: CALIBRATE_TRIES stalls of CALIBRATE_MS each. */
#define CALIBRATE_TRIES 3
#define CALIBRATE_MS 6

/**
 * Set tsc_per_ms from the shortest of a few Stalls.  A Stall only ever
 * lasts longer than asked (the host deschedules the CPU, the firmware
 * takes an interrupt, a virtual CPU translates code it meets the first
 * time), so the shortest count is the truest; one 20 ms sample was seen
 * 3.3 times too long under QEMU, and every timeout and rate with it.
 */
static void calibrate(void)
{
    uint64_t best = 0;

    efi_bs->Stall(1000); /* the first call pays for its code's first run */
    for (unsigned i = 0; i < CALIBRATE_TRIES; i++) {
        uint64_t t0 = rdtsc();
        efi_bs->Stall(CALIBRATE_MS * 1000);
        uint64_t t = rdtsc() - t0;
        if (t > CALIBRATE_MS && (!best || t < best))
            best = t;
    }
    if (best)
        tsc_per_ms = best / CALIBRATE_MS;
}

void efi_console_init(void)
{
    calibrate();
    tsc_start = rdtsc();
    console_display.ticks = ticks;
    console_display.write = console_write;
}

uint64_t efi_ms(void)
{
    return (rdtsc() - tsc_start) / tsc_per_ms;
}

void efi_sleep_ms(unsigned ms)
{
    efi_bs->Stall((UINTN)ms * 1000);
}

/* A key on ConIn: with a serial console (OVMF's), a byte on COM1 is one
 * too, so the UART is left to the firmware's driver until the hand-off. */
int efi_wait_key(unsigned ms)
{
    uint64_t end = efi_ms() + ms;
    EFI_INPUT_KEY key;

    while (efi_ms() < end) {
        if (efi_st->ConIn &&
            efi_st->ConIn->ReadKeyStroke(efi_st->ConIn, &key) == EFI_SUCCESS)
            return true;
        efi_bs->Stall(10000);
    }
    return false;
}

void efi_console_firmware_gone(void)
{
    firmware_gone = true;
}

/** Send one byte to COM1 (after ExitBootServices only). */
static void uart_putc(char c)
{
    for (unsigned spin = 0; spin < 100000; spin++)
        if (inb(COM1 + 5) & 0x20)
            break;
    outb(COM1, (uint8_t)c);
}

/** Write @s (ASCII) to ConOut, '\n' as CR LF, in chunks of CHAR16. */
void console_write(const char *s)
{
    CHAR16 buf[130];
    unsigned n = 0;

    if (firmware_gone) {
        for (; *s; s++) {
            if (*s == '\n')
                uart_putc('\r');
            uart_putc(*s);
        }
        return;
    }
    for (;; s++) {
        if (n >= 126 || !*s) {
            buf[n] = 0;
            if (n && efi_st->ConOut)
                efi_st->ConOut->OutputString(efi_st->ConOut, buf);
            n = 0;
            if (!*s)
                return;
        }
        if (*s == '\n')
            buf[n++] = '\r';
        buf[n++] = (CHAR16)(uint8_t)*s;
    }
}

void console_init(void)
{
}

void console_putc(char c)
{
    char s[2] = { c, 0 };
    console_write(s);
}

/** The clock in BIOS ticks, as lib/progress.c counts. */
static uint32_t ticks(void)
{
    return (uint32_t)(efi_ms() * PROGRESS_TICKS_PER_KSEC / 1000000 %
                      PROGRESS_TICKS_PER_DAY);
}
