/* x86 port I/O for the NBP's hardware edge (console, exit paths, PCI). */
#ifndef PULSAR_IO_H
#define PULSAR_IO_H
#include <stdint.h>

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

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/*
 * Read low physical memory (BIOS data area, IVT).  Through asm so that
 * the compiler neither warns about nor "optimises" fixed low addresses.
 */
static inline uint16_t peek16(uint32_t addr)
{
    uint16_t v;
    __asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

/** Read a 32-bit value from low physical memory (see peek16). */
static inline uint32_t peek32(uint32_t addr)
{
    uint32_t v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
    return v;
}

/** Milliseconds per BIOS tick (54.9), rounded. */
#define BIOS_MS_PER_TICK 55

/**
 * The BIOS tick count (BDA 40:6C, 18.2 Hz, back to 0 at midnight).  It
 * advances only while interrupts are on in real mode, which each PXE call
 * through the thunk allows.
 */
static inline uint32_t bios_ticks(void)
{
    return peek32(0x46C);
}
#endif
