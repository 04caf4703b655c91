/*
 * Starting a chainloaded PXE boot program (`chld`): the hardware edge.
 * What may be chained and where it goes is decided in loader/plan.c.
 */
#ifndef PULSAR_CHAIN_H
#define PULSAR_CHAIN_H
#include <stdint.h>

/* CHAIN_STUB_BASE: where the real-mode copy-and-jump stub runs. */
#include "boot/bios/layout.h"

/**
 * Copy the @size bytes staged at linear @staged to 0:7C00 and start them
 * as a PXE ROM starts a boot program, with the PXE stack alive: ES:BX =
 * PXENV+, SS:SP+4 = !PXE.  @low_end is the end of the low memory Pulsar
 * used (see plan_chld_keep_rom_stack).  Never returns.
 */
void chain_start(uint32_t staged, uint32_t size, uint32_t low_end)
    __attribute__((noreturn));
#endif
