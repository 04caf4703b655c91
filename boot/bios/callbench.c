/*
 * What one call into the PXE ROM costs, against a bare trip through
 * Pulsar's thunk: built only with -DPULSAR_CALL_BENCH (scripts/callbench),
 * never in build/pulsar.  It times 20000 calls of each with the BIOS tick
 * and prints microseconds per call on the console.
 */
#ifdef PULSAR_CALL_BENCH
#include "boot/bios/callbench.h"
#include "boot/bios/realmode.h"
#include "lib/console.h"
#include "boot/bios/io.h"
#include "boot/bios/pxe.h"
#include <stdio.h>
#include <string.h>

#define CALLS 20000u
#define US_PER_TICK 54925u /* 1e6 / 18.2065 */

static unsigned per_call_ns(uint32_t ticks)
{
    return (unsigned)((uint64_t)ticks * US_PER_TICK * 1000 / CALLS);
}

void call_bench(void)
{
    uint16_t params[8];
    struct rm_regs r;

    uint32_t t0 = bios_ticks();
    for (unsigned i = 0; i < CALLS; i++) {
        memset(params, 0, sizeof(params));
        pxe_call(0x00F0, params, sizeof(params)); /* no such opcode */
    }
    uint32_t t1 = bios_ticks();
    for (unsigned i = 0; i < CALLS; i++) {
        memset(&r, 0, sizeof(r));
        rm_farcall((uint32_t)rm_yield, &r, NULL, 0);
    }
    uint32_t t2 = bios_ticks();
    printf("callbench: %u calls each: pxe_call %u ns, thunk alone %u ns\n",
           CALLS, per_call_ns(t1 - t0), per_call_ns(t2 - t1));
}
#endif
