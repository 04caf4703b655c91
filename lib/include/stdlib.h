/* Pulsar's freestanding <stdlib.h>: the heap in low memory. */
#ifndef PULSAR_STDLIB_H
#define PULSAR_STDLIB_H
#include <stddef.h>
void *malloc(size_t n);
void *calloc(size_t nmemb, size_t n);
void *realloc(void *p, size_t n);
void free(void *p);
/** Hand the allocator its arena [start, end), dropping all it held:
 * called at the start of every boot attempt. */
void heap_init(void *start, void *end);
/** Bytes of the arena not yet handed out (for diagnostics). */
size_t heap_free_bytes(void);
#endif
