/* The UEFI memory map as E820 entries; see efimap.h. */
#include <string.h>

#include "lib/errno.h"
#include "loader/efimap.h"

uint32_t efimap_e820_type(uint32_t efi_type)
{
    switch (efi_type) {
    case EFIMAP_LOADER_CODE:
    case EFIMAP_LOADER_DATA:
    case EFIMAP_BS_CODE:
    case EFIMAP_BS_DATA:
    case EFIMAP_CONVENTIONAL:
        return E820_RAM;
    case EFIMAP_ACPI_RECLAIM:
        return E820_ACPI;
    case EFIMAP_ACPI_NVS:
        return E820_NVS;
    case EFIMAP_UNUSABLE:
        return E820_BAD;
    default:
        return E820_RESERVED;
    }
}

int efimap_add(struct efimap *m, uint32_t efi_type, uint64_t base,
               uint64_t pages)
{
    unsigned i;

    if (!pages)
        return 0;
    if (pages > UINT64_MAX / EFIMAP_PAGE ||
        base > UINT64_MAX - pages * EFIMAP_PAGE)
        return -PE_RANGE;
    if (m->n == m->max)
        return -PE_RANGE;
    for (i = m->n; i > 0 && m->map[i - 1].base > base; i--)
        ;
    memmove(&m->map[i + 1], &m->map[i], (m->n - i) * sizeof(*m->map));
    m->map[i].base = base;
    m->map[i].len = pages * EFIMAP_PAGE;
    m->map[i].type = efimap_e820_type(efi_type);
    m->n++;
    return 0;
}

unsigned efimap_merge(struct efimap *m)
{
    unsigned k = 0;

    for (unsigned i = 0; i < m->n; i++) {
        struct e820_entry *last = k ? &m->map[k - 1] : NULL;
        if (last && last->type == m->map[i].type &&
            last->base + last->len == m->map[i].base)
            last->len += m->map[i].len;
        else
            m->map[k++] = m->map[i];
    }
    return m->n = k;
}
