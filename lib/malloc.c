/*
 * The NBP's heap: a first-fit free list over one arena in low memory.
 * Pulsar allocates little (config text, item lists, the placer's ranges)
 * and frees rarely, so simple beats clever.  Every block carries its size
 * in a header; free() merges with the following free block, and
 * heap_init() is the only way memory enters the arena.
 */
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#define ALIGN 16u

/** A block header; the payload follows it, 16-byte aligned. */
struct block {
    size_t size;        /* payload bytes */
    struct block *next; /* next free block (free blocks only) */
    uint32_t magic;     /* BLOCK_USED or BLOCK_FREE: catches bad frees */
    uint32_t pad;
} __attribute__((aligned(ALIGN))); /* so payloads stay ALIGN-aligned */
#define BLOCK_USED 0x55534544u
#define BLOCK_FREE 0x46524545u

static struct block *free_list;

/** Round @n up to the allocator's alignment. */
static size_t round_up(size_t n)
{
    return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

void heap_init(void *start, void *end)
{
    uintptr_t s = ((uintptr_t)start + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1);
    uintptr_t e = (uintptr_t)end & ~(uintptr_t)(ALIGN - 1);
    free_list = NULL;
    if (e <= s + sizeof(struct block) + ALIGN)
        return;
    free_list = (struct block *)s;
    free_list->size = e - s - sizeof(struct block);
    free_list->next = NULL;
    free_list->magic = BLOCK_FREE;
}

size_t heap_free_bytes(void)
{
    size_t n = 0;
    for (struct block *b = free_list; b; b = b->next)
        n += b->size;
    return n;
}

void *malloc(size_t n)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / 2)
        return NULL;
    n = round_up(n);
    for (struct block **pp = &free_list; *pp; pp = &(*pp)->next) {
        struct block *b = *pp;
        if (b->size < n)
            continue;
        if (b->size >= n + sizeof(struct block) + ALIGN) {
            /* Split: the tail stays free. */
            struct block *rest =
                (struct block *)((char *)(b + 1) + n);
            rest->size = b->size - n - sizeof(struct block);
            rest->next = b->next;
            rest->magic = BLOCK_FREE;
            b->size = n;
            *pp = rest;
        } else {
            *pp = b->next;
        }
        b->magic = BLOCK_USED;
        b->next = NULL;
        return b + 1;
    }
    return NULL;
}

void *calloc(size_t nmemb, size_t n)
{
    if (n && nmemb > SIZE_MAX / n)
        return NULL;
    void *p = malloc(nmemb * n);
    if (p)
        memset(p, 0, nmemb * n);
    return p;
}

void free(void *p)
{
    if (!p)
        return;
    struct block *b = (struct block *)p - 1;
    if (b->magic != BLOCK_USED)
        return; /* a double or wild free: ignore rather than corrupt */
    b->magic = BLOCK_FREE;
    /* Keep the list sorted by address so neighbours can merge. */
    struct block **pp = &free_list;
    while (*pp && *pp < b)
        pp = &(*pp)->next;
    b->next = *pp;
    *pp = b;
    if (b->next && (char *)(b + 1) + b->size == (char *)b->next) {
        b->size += sizeof(struct block) + b->next->size;
        b->next = b->next->next;
    }
    /* Merge with the previous block too. */
    for (struct block *prev = free_list; prev && prev != b;
         prev = prev->next) {
        if (prev->next == b &&
            (char *)(prev + 1) + prev->size == (char *)b) {
            prev->size += sizeof(struct block) + b->size;
            prev->next = b->next;
            break;
        }
    }
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    struct block *b = (struct block *)p - 1;
    if (b->magic != BLOCK_USED)
        return NULL;
    if (b->size >= n)
        return p;
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, b->size);
    free(p);
    return q;
}
