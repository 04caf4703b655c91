/*
 * Memory on UEFI: the firmware's map as E820-like entries for the placer
 * and the multiboot info, and guest memory, "describe, then do".  The
 * session claims destinations in the placer (loader/place.h) against the
 * map as it will be after ExitBootServices; the firmware may still own
 * that memory now.  So every claimed range gets a staging buffer the
 * first time the session writes into it (efi_guest): the claim's own
 * pages when the firmware has them free now (AllocateAddress: staged in
 * place, nothing to move, no second copy of the file), else pages below
 * 4 GiB that overlap no claim, reserved in the placer so that no later
 * claim lands on them.  The trampoline moves each of those into place
 * after ExitBootServices (boot/efi/handoff.c).
 */
#include "boot/efi/uefi.h"
#include "boot/efi/stage.h"
#include "lib/errno.h"
#include "loader/efimap.h"
#include <stdio.h>
#include <string.h>

#define PAGE 4096u
#define PAGES(n) (((UINTN)(n) + PAGE - 1) / PAGE)
/** Tries to get a staging buffer that overlaps no claim. */
#define ALLOC_TRIES 8

/* ------------------------------------------------------- the memory map */

static UINT8 map_buf[48 * 1024];
/** What the last read_map left in map_buf (the raw map for Linux). */
static struct efi_raw_map last_map = { map_buf, 0, 0, 0 };

/** Read the firmware's map into map_buf; see uefi.h for efi_e820. */
static EFI_STATUS read_map(UINTN *size, UINTN *key, UINTN *desc_size)
{
    UINT32 version = 0;
    EFI_STATUS st;

    *size = sizeof(map_buf);
    st = efi_bs->GetMemoryMap(size, (EFI_MEMORY_DESCRIPTOR *)map_buf, key,
                              desc_size, &version);
    last_map.size = EFI_ERROR(st) ? 0 : *size;
    last_map.desc_size = EFI_ERROR(st) ? 0 : *desc_size;
    last_map.version = version;
    return st;
}

const struct efi_raw_map *efi_last_map(void)
{
    return &last_map;
}

EFI_STATUS efi_map_key(UINTN *key)
{
    UINTN size, desc_size;
    return read_map(&size, key, &desc_size);
}

unsigned efi_e820(struct e820_entry *map, unsigned max, UINTN *key,
                  char *msg, size_t len)
{
    UINTN size, k, desc_size;
    EFI_STATUS st = read_map(&size, &k, &desc_size);

    if (EFI_ERROR(st)) {
        snprintf(msg, len, "GetMemoryMap: %s", efi_status_str(st));
        return 0;
    }
    if (key)
        *key = k;
    return efi_e820_last(map, max, msg, len);
}

unsigned efi_e820_last(struct e820_entry *map, unsigned max, char *msg,
                       size_t len)
{
    UINTN size = last_map.size, desc_size = last_map.desc_size;
    struct efimap m = { map, 0, max };

    if (!desc_size) {
        snprintf(msg, len, "no EFI memory map was read");
        return 0;
    }
    for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
        const EFI_MEMORY_DESCRIPTOR *d = (const void *)(map_buf + off);

        int rc = efimap_add(&m, d->Type, d->PhysicalStart, d->NumberOfPages);

        if (rc) { /* full: merging makes room (maps come in many pieces) */
            efimap_merge(&m);
            rc = efimap_add(&m, d->Type, d->PhysicalStart, d->NumberOfPages);
        }
        if (rc) {
            snprintf(msg, len, "the EFI memory map has over %u entries, or "
                     "one past 2^64", max);
            return 0;
        }
    }
    if (!efimap_merge(&m))
        snprintf(msg, len, "the EFI memory map is empty");
    return m.n;
}

/* ------------------------------------------------------- Pulsar's own */

int efi_reserve_own(struct placer *p)
{
    EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
    EFI_LOADED_IMAGE *li;
    EFI_STATUS st;

    st = efi_bs->HandleProtocol(efi_image, &li_guid, (void **)&li);
    if (EFI_ERROR(st))
        return -PE_INVAL;
    uint64_t base = (uintptr_t)li->ImageBase;
    return place_reserve(p, base & ~(uint64_t)(PAGE - 1),
                         base + li->ImageSize, "Pulsar image");
}

/** What efi_alloc_low handed out this attempt (efi_stage_reset frees). */
#define ALLOCS_MAX (STAGE_MAX + 8)
static struct {
    EFI_PHYSICAL_ADDRESS addr;
    UINTN pages;
} allocs[ALLOCS_MAX];
static unsigned nallocs;

/** Remember an allocation for efi_stage_reset; zero it. */
static void *alloc_keep(EFI_PHYSICAL_ADDRESS addr, UINTN pages)
{
    void *got = (void *)(uintptr_t)addr;

    memset(got, 0, pages * PAGE);
    allocs[nallocs].addr = addr;
    allocs[nallocs++].pages = pages;
    return got;
}

void *efi_alloc_low(struct placer *p, UINTN pages, EFI_MEMORY_TYPE type,
                    const char *what)
{
    EFI_PHYSICAL_ADDRESS rejects[ALLOC_TRIES], addr = 0;
    unsigned nrej = 0;
    void *got = NULL;

    if (nallocs == ALLOCS_MAX)
        return NULL;
    while (nrej < ALLOC_TRIES) {
        addr = 0xFFFFFFFFull;
        if (EFI_ERROR(efi_bs->AllocatePages(AllocateMaxAddress, type, pages,
                                            &addr)))
            break;
        if (!p || place_check(p, addr, (uint64_t)pages * PAGE, NULL) == 0) {
            got = (void *)(uintptr_t)addr;
            break;
        }
        rejects[nrej++] = addr; /* kept until a good one is found */
    }
    while (nrej)
        efi_bs->FreePages(rejects[--nrej], pages);
    if (got && p &&
        place_reserve(p, addr, addr + (uint64_t)pages * PAGE, what) != 0) {
        efi_bs->FreePages(addr, pages);
        return NULL;
    }
    return got ? alloc_keep(addr, pages) : NULL;
}

/**
 * The pages of claim [start, end) themselves, when it starts on a page
 * and the firmware has them all free now; NULL otherwise.  The claim
 * covers them in the placer, so no reservation: the rest of the last
 * page is claimed by no file that starts on a page (one that does not
 * is staged elsewhere, and moved there after ExitBootServices).
 */
static void *alloc_in_place(uint64_t start, uint64_t end)
{
    EFI_PHYSICAL_ADDRESS addr = start;
    UINTN pages = PAGES(end - start);

    if (nallocs == ALLOCS_MAX || start % PAGE || end > 0x100000000ull ||
        EFI_ERROR(efi_bs->AllocatePages(AllocateAddress, EfiLoaderData,
                                        pages, &addr)))
        return NULL;
    return alloc_keep(addr, pages);
}

/* ------------------------------------------------------------ staging */

static struct stage stages[STAGE_MAX];
static unsigned nstages;
static struct placer *stage_placer;

void efi_stage_reset(struct placer *p)
{
    while (nallocs) {
        nallocs--;
        efi_bs->FreePages(allocs[nallocs].addr, allocs[nallocs].pages);
    }
    nstages = 0;
    stage_placer = p;
}

const struct stage *efi_stages(unsigned *n)
{
    *n = nstages;
    return stages;
}

/** The claim holding [dest, dest+n), made for a file (not a reservation). */
static const struct mem_range *claim_of(uint64_t dest, uint64_t n)
{
    const struct placer *p = stage_placer;

    for (unsigned i = 0; i < p->nused; i++) {
        const struct mem_range *r = &p->used[i];
        if (r->owner && r->start <= dest && dest + n <= r->end)
            return r;
    }
    return NULL;
}

void *efi_guest(uint32_t dest, size_t n)
{
    const struct mem_range *claim;
    struct stage *st;

    for (unsigned i = 0; i < nstages; i++)
        if (stages[i].start <= dest && dest + n <= stages[i].end)
            return stages[i].buf + (dest - stages[i].start);
    if (!stage_placer || nstages == STAGE_MAX ||
        !(claim = claim_of(dest, n)))
        return NULL;
    st = &stages[nstages];
    st->start = claim->start;
    st->end = claim->end;
    /* Before efi_alloc_low: its reservation may move the placer's list
     * (realloc), and @claim with it. */
    st->owner = claim->owner;
    if (!(st->buf = alloc_in_place(st->start, st->end)) &&
        !(st->buf = efi_alloc_low(stage_placer, PAGES(st->end - st->start),
                                  EfiLoaderData, "staging buffer"))) {
        /* The session goes on to call this a refused write: say why. */
        printf("pulsar: no memory below 4 GiB to stage %08llx-%08llx "
               "(AllocatePages)\n", (unsigned long long)st->start,
               (unsigned long long)st->end - 1);
        return NULL;
    }
    nstages++;
    return st->buf + (dest - st->start);
}
