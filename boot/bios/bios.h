/* What Pulsar asks the BIOS: the E820 memory map and base memory size. */
#ifndef PULSAR_BIOS_H
#define PULSAR_BIOS_H
#include "loader/place.h"

/** Most E820 entries Pulsar keeps (real maps have a few dozen). */
#define E820_MAX 128

/**
 * Read the memory map with INT 15h EAX=E820h into @map.  Falls back to
 * E801h / 88h for BIOSes without E820.  Returns the number of entries.
 */
unsigned bios_e820(struct e820_entry *map, unsigned max);

/** Base memory below the EBDA and the PXE stack, in bytes (BDA 40:13). */
uint32_t bios_base_memory(void);

/**
 * The linear address of the BIOS ROM configuration table (INT 15h
 * AH=C0h), or 0 when the BIOS does not offer one.
 */
uint32_t bios_config_table(void);

/**
 * Wait @ms milliseconds by the BIOS timer tick (BDA 0x46C, 18.2 Hz, so
 * the wait is rounded up to a whole tick).  Real-mode INT 15h AH=86h
 * waits do the idling; the tick count is what ends the wait.
 */
void bios_sleep_ms(unsigned ms);

/**
 * Like bios_sleep_ms(), but a key on the keyboard or a byte on COM1 ends
 * the wait early (keys and bytes already pending are dropped first).
 * Returns 1 if it was cut short, 0 if the time ran out.
 */
int bios_wait_key(unsigned ms);
#endif
