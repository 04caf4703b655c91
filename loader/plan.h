/*
 * Deciding where things go, with the message a person reads when a file
 * does not fit: the placer's picture of Pulsar itself, the kernel's plan
 * and claims, and each module's place.  Pure C (the boot flow does the
 * transfers and the copies), so every refusal is unit-tested on the host
 * with the exact text Pulsar prints.
 */
#ifndef PULSAR_PLAN_H
#define PULSAR_PLAN_H
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "loader/image.h"
#include "loader/place.h"

/** Where Pulsar and the firmware live while Pulsar runs. */
struct pulsar_layout {
    uint32_t image_start;          /* Pulsar's image (0x7C00); its stack
                                      lies below, from 0x500 */
    uint32_t heap_end;             /* end of its .bss and heap: the base
                                      memory the BIOS reports */
    const struct mem_range *extra; /* more areas to keep (the PXE stack) */
    unsigned nextra;
};

/** Longest message plan_* writes. */
#define PLAN_MSG_LEN 320

/**
 * Check that a parsed config can boot: it names a kernel (`exec`) and
 * asks for nothing Pulsar cannot do yet (`chld`).  @cfgpath: the config's
 * TFTP path, for the message.  Returns 0, -PE_NOKERNEL or -PE_UNSUPP.
 */
int plan_config_check(const struct cfg *cfg, const char *cfgpath, char *msg,
                      size_t msglen);

/**
 * Build @p from the E820 map and reserve the IVT and BIOS data area,
 * Pulsar's stack, image and heap, the EBDA and BIOS up to 1 MiB and the
 * @l->extra areas.  Returns 0, -PE_NORAM (no usable RAM) or -PE_NOMEM.
 */
int plan_placer(struct placer *p, const struct e820_entry *map, unsigned n,
                const struct pulsar_layout *l);

/**
 * Plan kernel @it from the first @len bytes of its file (@size bytes in
 * all, 0 if unknown) and claim every segment in @p, labelled "<name>
 * segment <n>".  Nothing is written.  On failure @msg gets
 * "<config>:<line>: exec: <path>: <reason>".  Returns 0 or a pulsar_err.
 */
int plan_kernel(struct placer *p, const struct cfg_item *it,
                const uint8_t *prefix, size_t len, uint32_t size,
                struct image_plan *plan, char *msg, size_t msglen);

/** Where the next module goes, carried from one module to the next. */
struct module_cursor {
    uint64_t next;     /* the first address the next module may use */
    unsigned addr_seq; /* the `addr` line in force (0: none yet) */
};

/** Start placing modules after the kernel, which ends at @kernel_end. */
void plan_modules_start(struct module_cursor *c, uint32_t kernel_end);

/**
 * Place module @it of @size bytes: at the `addr` in force (each new
 * `addr` line restarts there) or in the lowest free RAM after the
 * previous one, page-aligned, then claim it.  @dest: out.  On failure
 * @msg gets "<config>:<line>: load: <path>: <reason>".
 */
int plan_module(struct placer *p, struct module_cursor *c,
                const struct cfg_item *it, uint32_t size, uint32_t *dest,
                char *msg, size_t msglen);
#endif
