/*
 * Memory map and placement: the one checker every write into guest memory
 * goes through.  Pure C: it takes an E820 map and returns decisions, so it
 * is unit-tested on the host with made-up maps.
 */
#ifndef PULSAR_PLACE_H
#define PULSAR_PLACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4
#define E820_BAD 5

/** One BIOS INT 15h E820 entry. */
struct e820_entry {
    uint64_t base;
    uint64_t len;
    uint32_t type;
};

/** A half-open range [start, end) with a label for messages. */
struct mem_range {
    uint64_t start;
    uint64_t end;
    const char *what; /* e.g. "Pulsar image", "kernel.elf segment 1" */
    const void *owner; /* who claimed it (the placer's owner then), NULL
                          for reservations */
};

/** The checker's state: usable RAM and everything claimed so far. */
struct placer {
    struct mem_range *ram; /* sorted, disjoint usable RAM, below 4 GiB */
    unsigned nram;
    struct mem_range *used; /* reserved and claimed, sorted by start */
    unsigned nused, capused;
    const void *owner; /* recorded with every claim from now on (the boot
                          session sets it to the file being placed) */
    uint64_t clear_start, clear_end; /* place_keep_clear's range */
};

/** Why a claim failed: the range asked for and what it hit. */
struct place_conflict {
    struct mem_range want;
    struct mem_range hit; /* .what == NULL when the range is not RAM */
};

/**
 * Build the RAM list from an E820 map: entries may be unsorted, overlap or
 * lie above 4 GiB; where a RAM entry overlaps a non-RAM one, non-RAM wins.
 * Only RAM below 4 GiB is kept (Pulsar loads 32-bit images).
 * Returns 0 or -PE_NOMEM / -PE_NORAM (no usable RAM at all).
 */
int place_init(struct placer *p, const struct e820_entry *map, unsigned n);

/** Free what place_init allocated. */
void place_fini(struct placer *p);

/**
 * Mark [start, end) as taken by something that is not guest data
 * (Pulsar's image, stack, heap, the PXE stack, BIOS areas).  No RAM check.
 * Returns 0 (also for an empty range), -PE_NOMEM or -PE_INVAL (end < start).
 */
int place_reserve(struct placer *p, uint64_t start, uint64_t end,
                  const char *what);

/**
 * Check that [start, start+len) lies in usable RAM and overlaps nothing
 * reserved or claimed, then record it.  len 0 is allowed and claims nothing.
 * Returns 0, -PE_NORAM or -PE_OVERLAP (filling @why when not NULL).
 */
int place_claim(struct placer *p, uint64_t start, uint64_t len,
                const char *what, struct place_conflict *why);

/**
 * Does [@start, @start+@len) lie inside one range claimed while the
 * placer's owner was @owner?  The guest-memory writer asks this before
 * every write (loader/session.c).
 */
bool place_owned(const struct placer *p, const void *owner, uint64_t start,
                 uint64_t len);

/** Check like place_claim, but record nothing. */
int place_check(const struct placer *p, uint64_t start, uint64_t len,
                struct place_conflict *why);

/**
 * Keep [@start, @end) clear of what place_find and place_find_top choose
 * unless nothing fits elsewhere (GNU Mach's boot heap on UEFI, see
 * plan_efi_placer_init).  A claim at a given address (the kernel's
 * segments, `addr`) is not affected.  An empty range keeps nothing clear.
 */
void place_keep_clear(struct placer *p, uint64_t start, uint64_t end);

/**
 * Find the lowest address >= @from, aligned to @align (a power of two),
 * where @len bytes fit in RAM without overlapping anything, ending at or
 * below @limit; outside the place_keep_clear range when one fits there.  Records nothing.  Returns 0, -PE_NORAM, or -PE_INVAL
 * when @align is not a power of two (0 counts as 1).
 */
int place_find(const struct placer *p, uint64_t len, uint64_t align,
               uint64_t from, uint64_t limit, uint64_t *out);

/**
 * Find the highest address aligned to @align (a power of two) where @len
 * bytes fit in RAM without overlapping anything, starting at or above
 * @from and ending at or below @limit; outside the place_keep_clear range
 * when one fits there.  Records nothing.  Returns 0,
 * -PE_NORAM, or -PE_INVAL when @align is not a power of two (0 counts as 1).
 */
int place_find_top(const struct placer *p, uint64_t len, uint64_t align,
                   uint64_t from, uint64_t limit, uint64_t *out);

/** mem_lower / mem_upper in KiB as multiboot defines them. */
void place_mem_info(const struct e820_entry *map, unsigned n,
                    uint32_t *mem_lower, uint32_t *mem_upper);

/** Format a conflict as "want [a, b) what: overlaps [c, d) what". */
void place_conflict_str(const struct place_conflict *c, char *buf,
                        size_t size);

#endif
