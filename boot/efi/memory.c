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
 * claim lands on them; a claim that fits neither way is staged in 1 MiB
 * pieces, each in place or elsewhere, and the session's writer then
 * goes page by page (efi_guest gives no pointer across two pieces);
 * so is a claim the firmware does not have free in place now, so that
 * what it has free stays in place; whoever needs one pointer to a whole
 * claim (LoadImage, LoadFile2) asks efi_guest_whole, which joins the
 * pieces into one buffer.  The trampoline moves each of those into
 * place after ExitBootServices (boot/efi/handoff.c).
 */
#include "boot/efi/uefi.h"
#include "boot/efi/stage.h"
#include "lib/errno.h"
#include "loader/efimap.h"
#include "loader/session.h"
#include <stdio.h>
#include <string.h>

#define PAGE 4096u
#define PAGES(n) (((UINTN)(n) + PAGE - 1) / PAGE)
/** The largest piece of a claim staged in pieces (stage_pieces). */
#define PIECE 0x100000u
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

unsigned efi_held_last(struct e820_entry *held, unsigned max)
{
    unsigned n = 0;

    for (UINTN off = 0; off + last_map.desc_size <= last_map.size &&
                        last_map.desc_size; off += last_map.desc_size) {
        const EFI_MEMORY_DESCRIPTOR *d = (const void *)(map_buf + off);
        uint64_t len = d->NumberOfPages * PAGE;

        if (d->Type != EfiLoaderCode && d->Type != EfiLoaderData &&
            d->Type != EfiBootServicesCode && d->Type != EfiBootServicesData)
            continue;
        if (n && held[n - 1].base + held[n - 1].len == d->PhysicalStart)
            held[n - 1].len += len; /* the firmware lists them in order */
        else if (n < max)
            held[n++] = (struct e820_entry){ d->PhysicalStart, len, E820_RAM };
        else
            return 0; /* more than fit: none known rather than some */
    }
    return n;
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
/** The claim that could not be staged this attempt (said once). */
static uint64_t unstaged_start, unstaged_end;

void efi_stage_reset(struct placer *p)
{
    while (nallocs) {
        nallocs--;
        efi_bs->FreePages(allocs[nallocs].addr, allocs[nallocs].pages);
    }
    nstages = 0;
    unstaged_start = unstaged_end = 0;
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

/** The stage holding [dest, dest+n) whole, or NULL. */
static struct stage *stage_at(uint64_t dest, uint64_t n)
{
    for (unsigned i = 0; i < nstages; i++)
        if (stages[i].start <= dest && dest + n <= stages[i].end)
            return &stages[i];
    return NULL;
}

/** Record [start, end) of @claim as staged at @buf; false when full. */
static bool stage_add(const struct mem_range *claim, uint64_t start,
                      uint64_t end, uint8_t *buf)
{
    if (nstages == STAGE_MAX)
        return false;
    stages[nstages].start = start;
    stages[nstages].end = end;
    stages[nstages].owner = claim->owner;
    stages[nstages++].buf = buf;
    return true;
}

/**
 * Stage @claim in pieces of at most PIECE bytes (cut at PIECE-aligned
 * addresses, so inside the claim every cut is on a page): first each
 * piece whose own pages the firmware has free now, in place, then the
 * rest in pages elsewhere.  For a claim too big for one buffer, while
 * boot services still hold part of it (OVMF keeps 12 MiB at 9 MiB).
 * False when some piece got no memory.
 */
static bool stage_pieces(const struct mem_range *claim)
{
    unsigned first = nstages;

    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t a = claim->start, b; a < claim->end; a = b) {
            uint8_t *buf;

            b = (a & ~(uint64_t)(PIECE - 1)) + PIECE;
            if (b > claim->end)
                b = claim->end;
            if (stage_at(a, b - a))
                continue; /* staged in the first pass */
            buf = pass == 0 ? alloc_in_place(a, b)
                            : efi_alloc_low(stage_placer, PAGES(b - a),
                                            EfiLoaderData, "staging buffer");
            if (buf && !stage_add(claim, a, b, buf))
                buf = NULL;
            if (!buf && pass == 1) {
                nstages = first; /* its pages go back at the next reset */
                return false;
            }
        }
    }
    return true;
}

/**
 * Stage @claim: in its own pages when the firmware has them all free
 * now, else in pieces (stage_pieces) when the stage table has room,
 * else in one buffer elsewhere, else in pieces all the same.  Pieces
 * before one buffer: what the firmware has free now stays in place and
 * only the rest moves after ExitBootServices (OVMF holds 12 MiB at
 * 9 MiB, where the first big module goes: in one buffer all of a 64 MiB
 * module moved).  Whoever needs a claim in one piece of memory asks
 * efi_guest_whole, which joins the pieces then.
 */
static bool stage_claim(const struct mem_range *claim)
{
    uint8_t *buf = alloc_in_place(claim->start, claim->end);
    uint64_t pieces = (claim->end - claim->start) / PIECE + 2;

    if (!buf && pieces <= STAGE_MAX - nstages)
        return stage_pieces(claim);
    if (!buf)
        buf = efi_alloc_low(stage_placer, PAGES(claim->end - claim->start),
                            EfiLoaderData, "staging buffer");
    if (buf)
        return stage_add(claim, claim->start, claim->end, buf);
    return stage_pieces(claim);
}

/** Say that @claim got no staging memory (@how: "" or " in one piece"). */
static void say_unstaged(const struct mem_range *claim, const char *how)
{
    printf("pulsar: no memory below 4 GiB to stage %08llx-%08llx%s "
           "(AllocatePages)\n", (unsigned long long)claim->start,
           (unsigned long long)claim->end - 1, how);
}

/** Give back the allocation that starts at @addr (one of allocs[]). */
static void alloc_drop(EFI_PHYSICAL_ADDRESS addr)
{
    for (unsigned i = 0; i < nallocs; i++)
        if (allocs[i].addr == addr) {
            efi_bs->FreePages(addr, allocs[i].pages);
            allocs[i] = allocs[--nallocs];
            return;
        }
}

/**
 * Stage @claim, so far in pieces, in one buffer: its pieces are copied
 * there and given back.  False when there is no such buffer (the pieces
 * stay as they were).
 */
static bool stage_join(const struct mem_range *claim)
{
    uint8_t *buf = efi_alloc_low(stage_placer,
                                 PAGES(claim->end - claim->start),
                                 EfiLoaderData, "staging buffer");
    unsigned i = 0;

    if (!buf)
        return false;
    while (i < nstages) {
        struct stage *st = &stages[i];

        if (st->start < claim->start || st->end > claim->end) {
            i++;
            continue;
        }
        memcpy(buf + (st->start - claim->start), st->buf,
               st->end - st->start);
        alloc_drop((uintptr_t)st->buf);
        *st = stages[--nstages]; /* the mover's order does not matter */
    }
    return stage_add(claim, claim->start, claim->end, buf);
}

void *efi_guest_whole(struct session *s, const void *owner, uint32_t dest,
                      size_t n)
{
    const struct mem_range *found;
    struct mem_range copy;
    struct stage *st;
    void *p = session_guest_ptr(s, owner, dest, n);

    if (p || !place_owned(&s->placer, owner, dest, n) || !stage_placer ||
        !(found = claim_of(dest, n)))
        return p;
    copy = *found; /* stage_join's reservation may move the list */
    if (!stage_join(&copy)) {
        say_unstaged(&copy, " in one piece");
        return NULL;
    }
    return (st = stage_at(dest, n)) ? st->buf + (dest - st->start) : NULL;
}

void *efi_guest(uint32_t dest, size_t n)
{
    const struct mem_range *found;
    struct mem_range copy, *claim = &copy;
    struct stage *st = stage_at(dest, n);

    if (st)
        return st->buf + (dest - st->start);
    if (!stage_placer || !(found = claim_of(dest, n)))
        return NULL;
    /* A copy: efi_alloc_low's reservation may move the placer's list
     * (realloc), and the claim with it, while the claim is staged. */
    copy = *found;
    /* A claim staged in pieces: the session writes page by page.  One
     * that could not be staged is not tried (and said) again. */
    for (unsigned i = 0; i < nstages; i++)
        if (stages[i].start >= claim->start && stages[i].end <= claim->end)
            return NULL;
    if (claim->start == unstaged_start && claim->end == unstaged_end)
        return NULL;
    if (!stage_claim(claim)) {
        unstaged_start = claim->start;
        unstaged_end = claim->end;
        /* The session goes on to call this a refused write: say why. */
        say_unstaged(claim, "");
        return NULL;
    }
    return (st = stage_at(dest, n)) ? st->buf + (dest - st->start) : NULL;
}
