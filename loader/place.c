/*
 * Memory map sanitising and the placement checker.
 *
 * The E820 map comes from the BIOS and is treated as untrusted: entries
 * may be unsorted, overlap, have zero length, wrap around 2^64 or lie
 * above 4 GiB.  place_init() boils it down to a sorted list of disjoint,
 * non-adjacent usable RAM ranges below 4 GiB; every later decision is
 * made against that list and the list of used ranges.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/place.h"

/* Pulsar loads 32-bit images, so nothing at or above 4 GiB is usable. */
#define PLACE_LIMIT 0x100000000ull

/* Multiboot caps mem_lower at the classic 640 KiB of conventional RAM. */
#define LOWER_MAX 0xA0000ull
#define UPPER_START 0x100000ull

/** The end of [base, base+len) clipped to 4 GiB, without wrapping. */
static uint64_t clip_end(uint64_t base, uint64_t len)
{
    /* base < PLACE_LIMIT here, so the subtraction cannot wrap. */
    if (len > PLACE_LIMIT - base)
        return PLACE_LIMIT;
    return base + len;
}

/** Sort @r[0..n) by start address; insertion sort as there is no qsort. */
static void ranges_sort(struct mem_range *r, unsigned n)
{
    unsigned i, j;

    for (i = 1; i < n; i++) {
        struct mem_range key = r[i];

        for (j = i; j > 0 && r[j - 1].start > key.start; j--)
            r[j] = r[j - 1];
        r[j] = key;
    }
}

/**
 * Merge sorted @r[0..n) in place so the ranges become disjoint and
 * non-adjacent.  Returns the new count.
 */
static unsigned ranges_merge(struct mem_range *r, unsigned n)
{
    unsigned i, out = 0;

    for (i = 0; i < n; i++) {
        /* Touching ranges are merged too, so "contiguous" means one entry. */
        if (out > 0 && r[i].start <= r[out - 1].end) {
            if (r[i].end > r[out - 1].end)
                r[out - 1].end = r[i].end;
        } else {
            r[out++] = r[i];
        }
    }
    return out;
}

/**
 * Copy the entries of @map that are (@want_ram) or are not (!@want_ram)
 * type 1 into @out, clipped to [0, 4 GiB), skipping empty ones; then sort
 * and merge them.  @out has room for @n entries.  Returns the count.
 */
static unsigned ranges_from_map(const struct e820_entry *map, unsigned n,
                                bool want_ram, struct mem_range *out)
{
    unsigned i, count = 0;

    for (i = 0; i < n; i++) {
        if ((map[i].type == E820_RAM) != want_ram)
            continue;
        if (map[i].len == 0 || map[i].base >= PLACE_LIMIT)
            continue;
        out[count].start = map[i].base;
        out[count].end = clip_end(map[i].base, map[i].len);
        out[count].what = NULL;
        count++;
    }
    ranges_sort(out, count);
    return ranges_merge(out, count);
}

/**
 * Sanitise @map into a freshly allocated list of usable RAM: the union of
 * RAM entries minus the union of all others.  On success *@out (NULL when
 * the count is 0) and *@nout are set.  Returns 0 or -PE_NOMEM.
 */
static int ram_from_map(const struct e820_entry *map, unsigned n,
                        struct mem_range **out, unsigned *nout)
{
    struct mem_range *ram, *res, *result;
    unsigned nram, nres, i, j, count = 0;

    *out = NULL;
    *nout = 0;
    if (n == 0)
        return 0;
    /* In 64 bits: on the NBP size_t is 32 bits and this can overflow. */
    if ((uint64_t)n * 3 * sizeof(*ram) > SIZE_MAX)
        return -PE_NOMEM;
    /*
     * One block for the three lists.  The result needs at most n slots:
     * each reserved range splits one RAM range at most once, so pieces
     * <= RAM ranges + reserved ranges <= n.
     */
    ram = malloc(3 * (size_t)n * sizeof(*ram));
    if (!ram)
        return -PE_NOMEM;
    res = ram + n;
    result = res + n;

    nram = ranges_from_map(map, n, true, ram);
    nres = ranges_from_map(map, n, false, res);

    j = 0;
    for (i = 0; i < nram; i++) {
        uint64_t s = ram[i].start;
        unsigned k;

        /* Both lists are sorted, so skipped reserved ranges stay skipped. */
        while (j < nres && res[j].end <= s)
            j++;
        for (k = j; s < ram[i].end; k++) {
            if (k >= nres || res[k].start >= ram[i].end) {
                result[count].start = s;
                result[count].end = ram[i].end;
                result[count].what = NULL;
                count++;
                break;
            }
            if (res[k].start > s) {
                result[count].start = s;
                result[count].end = res[k].start;
                result[count].what = NULL;
                count++;
            }
            if (res[k].end > s)
                s = res[k].end;
        }
    }

    if (count == 0) {
        free(ram);
        return 0;
    }
    /* Move the result to the front so the caller frees one pointer. */
    memmove(ram, result, count * sizeof(*ram));
    *out = ram;
    *nout = count;
    return 0;
}

/** Build the RAM list from @map; see place.h. */
int place_init(struct placer *p, const struct e820_entry *map, unsigned n)
{
    int rc;

    memset(p, 0, sizeof(*p));
    if ((rc = ram_from_map(map, n, &p->ram, &p->nram)) != 0)
        return rc;
    if (p->nram == 0)
        return -PE_NORAM;
    return 0;
}

/** Free the RAM and used lists. */
void place_fini(struct placer *p)
{
    free(p->ram);
    free(p->used);
    memset(p, 0, sizeof(*p));
}

/**
 * Record [start, end) in the used list, kept sorted by start so messages
 * name the lowest conflicting range and listings read in address order.
 */
static int used_add(struct placer *p, uint64_t start, uint64_t end,
                    const char *what, const void *owner)
{
    unsigned i;

    if (p->nused == p->capused) {
        unsigned cap = p->capused ? p->capused * 2 : 16;
        struct mem_range *grown;

        if (cap <= p->capused || (uint64_t)cap * sizeof(*grown) > SIZE_MAX)
            return -PE_NOMEM;
        grown = realloc(p->used, cap * sizeof(*grown));
        if (!grown)
            return -PE_NOMEM;
        p->used = grown;
        p->capused = cap;
    }
    /* Stable: equal starts keep the order they were recorded in. */
    for (i = p->nused; i > 0 && p->used[i - 1].start > start; i--)
        p->used[i] = p->used[i - 1];
    p->used[i].start = start;
    p->used[i].end = end;
    p->used[i].what = what;
    p->used[i].owner = owner;
    p->nused++;
    return 0;
}

/** Mark [start, end) as taken without a RAM check; see place.h. */
int place_reserve(struct placer *p, uint64_t start, uint64_t end,
                  const char *what)
{
    if (end < start)
        return -PE_INVAL;
    if (end == start)
        return 0;
    return used_add(p, start, end, what, NULL);
}

/**
 * Index of the RAM range with start <= @addr, i.e. the only one that can
 * contain @addr, or -1 when @addr lies below all RAM.  Binary search, as
 * place_find calls this once per candidate.
 */
static long ram_index_at_or_below(const struct placer *p, uint64_t addr)
{
    unsigned lo = 0, hi = p->nram;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (p->ram[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

/**
 * Check that [start, end) (end > start, no wrap) lies in one RAM range.
 * On failure set *@gap to the maximal non-RAM stretch containing the first
 * address of the range that is not RAM.  Returns 0 or -PE_NORAM.
 */
static int check_ram(const struct placer *p, uint64_t start, uint64_t end,
                     struct mem_range *gap)
{
    long i = ram_index_at_or_below(p, start);
    uint64_t bad; /* first address of [start, end) that is not RAM */

    if (i >= 0 && start < p->ram[i].end) {
        if (end <= p->ram[i].end)
            return 0;
        bad = p->ram[i].end;
    } else {
        bad = start;
    }
    /* RAM ranges are non-adjacent, so [bad, next RAM start) is all gap. */
    i = ram_index_at_or_below(p, bad);
    gap->start = i >= 0 ? p->ram[i].end : 0;
    if (bad >= PLACE_LIMIT)
        gap->end = end;
    else if ((unsigned long)(i + 1) < p->nram)
        gap->end = p->ram[i + 1].start;
    else
        gap->end = PLACE_LIMIT;
    gap->what = NULL;
    return -PE_NORAM;
}

/** The first used range (lowest start) overlapping [start, end), or NULL. */
static const struct mem_range *find_overlap(const struct placer *p,
                                            uint64_t start, uint64_t end)
{
    unsigned i;

    /* Used ranges may overlap each other (reserve does not check), so the
     * ends are not sorted and no early exit on end is possible. */
    for (i = 0; i < p->nused && p->used[i].start < end; i++) {
        if (p->used[i].end > start)
            return &p->used[i];
    }
    return NULL;
}

/** Check [start, start+len) against RAM and the used list; see place.h. */
int place_check(const struct placer *p, uint64_t start, uint64_t len,
                struct place_conflict *why)
{
    struct mem_range gap;
    const struct mem_range *hit;
    uint64_t end;
    int rc;

    if (len == 0)
        return 0;
    /* Saturate instead of wrapping so the message shows a sane range. */
    end = len > UINT64_MAX - start ? UINT64_MAX : start + len;
    if (why) {
        memset(why, 0, sizeof(*why));
        why->want.start = start;
        why->want.end = end;
    }
    if ((rc = check_ram(p, start, end, &gap)) != 0) {
        if (why)
            why->hit = gap;
        return rc;
    }
    if ((hit = find_overlap(p, start, end)) != NULL) {
        if (why)
            why->hit = *hit;
        return -PE_OVERLAP;
    }
    return 0;
}

/** Check, then record [start, start+len) as @what; see place.h. */
int place_claim(struct placer *p, uint64_t start, uint64_t len,
                const char *what, struct place_conflict *why)
{
    int rc;

    if ((rc = place_check(p, start, len, why)) != 0) {
        if (why)
            why->want.what = what;
        return rc;
    }
    if (len == 0)
        return 0;
    return used_add(p, start, start + len, what, p->owner);
}

/** Is the range inside one of @owner's claims; see place.h. */
bool place_owned(const struct placer *p, const void *owner, uint64_t start,
                 uint64_t len)
{
    unsigned i;

    if (!owner || start + len < start)
        return false;
    for (i = 0; i < p->nused; i++)
        if (p->used[i].owner == owner && p->used[i].start <= start &&
            start + len <= p->used[i].end)
            return true;
    return false;
}

/**
 * Round @x up to a multiple of @align (a power of two).  Returns false
 * when the result would not fit in 64 bits.
 */
static bool align_up(uint64_t x, uint64_t align, uint64_t *out)
{
    if (x > UINT64_MAX - (align - 1))
        return false;
    *out = (x + (align - 1)) & ~(align - 1);
    return true;
}

/**
 * Consider one candidate for find_fit: for the lowest fit, @point is a
 * start, aligned up and raised to @from; for the highest (@top), @point
 * is an end, so the start is @point - @len aligned down and lowered to
 * @last.  Keep it in *@best when it is valid and better than *@best.
 */
static void find_try(const struct placer *p, uint64_t point, uint64_t len,
                     uint64_t align, uint64_t from, uint64_t last, bool top,
                     bool avoid, bool *found, uint64_t *best)
{
    uint64_t a;

    if (top) {
        if (point < len)
            return;
        a = point - len < last ? point - len : last;
        a &= ~(align - 1);
        if (a < from)
            return;
    } else if (!align_up(point < from ? from : point, align, &a) ||
               a > last) {
        return;
    }
    if (*found && (top ? a <= *best : a >= *best))
        return;
    if (place_check(p, a, len, NULL) != 0)
        return;
    if (avoid && a < p->clear_end && p->clear_start < a + len)
        return;
    *found = true;
    *best = a;
}

/**
 * The lowest (or with @top the highest) aligned start of a fit; see
 * place_find and place_find_top.
 */
static int find_fit(const struct placer *p, uint64_t len, uint64_t align,
                    uint64_t from, uint64_t limit, bool top, uint64_t *out)
{
    uint64_t last; /* the highest start that still ends by limit */
    bool found = false;
    uint64_t best = 0;
    unsigned i;

    if (align == 0)
        align = 1;
    if (align & (align - 1))
        return -PE_INVAL;
    if (limit > PLACE_LIMIT)
        limit = PLACE_LIMIT;
    if (len > limit)
        return -PE_NORAM;
    last = limit - len;

    /*
     * The lowest valid address a is either from aligned up, or the
     * aligned address just below it failed: then a RAM range starts or a
     * used range ends in between, and a is that point aligned up.  So
     * those points are the only candidates worth checking.  Mirrored for
     * the highest: the limit, RAM ends and used starts, rounded down.
     */
    /* First clear of the range to keep clear (its edge is one more
     * candidate), then, when nothing fits that way, anywhere. */
    for (int avoid = p->clear_end > p->clear_start; avoid >= 0 && !found;
         avoid--) {
        if (avoid)
            find_try(p, top ? p->clear_start : p->clear_end, len, align,
                     from, last, top, true, &found, &best);
        find_try(p, top ? limit : from, len, align, from, last, top, avoid,
                 &found, &best);
        for (i = 0; i < p->nram; i++)
            find_try(p, top ? p->ram[i].end : p->ram[i].start, len, align,
                     from, last, top, avoid, &found, &best);
        for (i = 0; i < p->nused; i++)
            find_try(p, top ? p->used[i].start : p->used[i].end, len, align,
                     from, last, top, avoid, &found, &best);
    }

    if (!found)
        return -PE_NORAM;
    *out = best;
    return 0;
}

/** Keep [start, end) clear when there is other room; see place.h. */
void place_keep_clear(struct placer *p, uint64_t start, uint64_t end)
{
    p->clear_start = start;
    p->clear_end = end > start ? end : start;
}

/** Find the lowest fitting aligned address; see place.h. */
int place_find(const struct placer *p, uint64_t len, uint64_t align,
               uint64_t from, uint64_t limit, uint64_t *out)
{
    return find_fit(p, len, align, from, limit, false, out);
}

/** Find the highest fitting aligned address; see place.h. */
int place_find_top(const struct placer *p, uint64_t len, uint64_t align,
                   uint64_t from, uint64_t limit, uint64_t *out)
{
    return find_fit(p, len, align, from, limit, true, out);
}

/** mem_lower / mem_upper in KiB from the sanitised map; see place.h. */
void place_mem_info(const struct e820_entry *map, unsigned n,
                    uint32_t *mem_lower, uint32_t *mem_upper)
{
    struct mem_range *ram;
    unsigned nram, i;
    uint64_t lower = 0, upper = 0;

    if (ram_from_map(map, n, &ram, &nram) != 0)
        nram = 0; /* out of heap: report no memory rather than guess */
    for (i = 0; i < nram; i++) {
        if (ram[i].start == 0)
            lower = ram[i].end < LOWER_MAX ? ram[i].end : LOWER_MAX;
        /* Merged ranges are maximal, so this one ends at the first hole. */
        if (ram[i].start <= UPPER_START && ram[i].end > UPPER_START)
            upper = ram[i].end - UPPER_START;
    }
    free(ram);
    /* Both fit in 32 bits: RAM is clipped to 4 GiB. */
    *mem_lower = (uint32_t)(lower >> 10);
    *mem_upper = (uint32_t)(upper >> 10);
}

/** Format @c as a one-line message; see place.h. */
void place_conflict_str(const struct place_conflict *c, char *buf,
                        size_t size)
{
    const char *what = c->want.what ? c->want.what : "range";

    if (!buf || size == 0)
        return;
    if (c->hit.what) {
        snprintf(buf, size, "[0x%08llx, 0x%08llx) %s overlaps "
                 "[0x%08llx, 0x%08llx) %s",
                 (unsigned long long)c->want.start,
                 (unsigned long long)c->want.end, what,
                 (unsigned long long)c->hit.start,
                 (unsigned long long)c->hit.end, c->hit.what);
    } else if (c->hit.start == c->hit.end) {
        /* No gap known (a conflict filled in by hand). */
        snprintf(buf, size, "[0x%08llx, 0x%08llx) %s is not in usable RAM",
                 (unsigned long long)c->want.start,
                 (unsigned long long)c->want.end, what);
    } else {
        snprintf(buf, size, "[0x%08llx, 0x%08llx) %s is not in usable RAM "
                 "([0x%08llx, 0x%08llx) is not RAM)",
                 (unsigned long long)c->want.start,
                 (unsigned long long)c->want.end, what,
                 (unsigned long long)c->hit.start,
                 (unsigned long long)c->hit.end);
    }
}
