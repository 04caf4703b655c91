/* The ACPI RSDP and the SMBIOS entry point; see fwtables.h. */
#include <string.h>

#include "lib/endian.h"
#include "lib/errno.h"
#include "mb/fwtables.h"

#define RSDP_V1_LEN 20
#define RSDP_V2_MIN 36 /* ACPI 2.0's RSDP: length at byte 20 */
#define SM3_MIN 24     /* SMBIOS 3 entry point: length at byte 6 */
#define SM2_MIN 31     /* SMBIOS 2.1 entry point: length at byte 5 */

/** Do the @n bytes at @p sum to 0 (mod 256)? */
static bool sum_zero(const uint8_t *p, size_t n)
{
    uint8_t sum = 0;

    while (n--)
        sum += *p++;
    return sum == 0;
}

/** Find the RSDP; see fwtables.h. */
int fw_find_rsdp(const uint8_t *area, size_t len, struct fw_table *t)
{
    size_t off;

    for (off = 0; off + RSDP_V1_LEN <= len; off += 16) {
        const uint8_t *p = area + off;

        if (memcmp(p, "RSD PTR ", 8) != 0 || !sum_zero(p, RSDP_V1_LEN))
            continue;
        t->off = off;
        t->major = p[15];
        t->minor = 0;
        t->len = RSDP_V1_LEN;
        if (p[15] >= 2 && off + RSDP_V2_MIN <= len) {
            uint32_t l = le32(p + 20);

            if (l >= RSDP_V2_MIN && l <= len - off && sum_zero(p, l))
                t->len = l;
        }
        return 0;
    }
    return -PE_NOENT;
}

/** The entry point of signature @sig at each 16-byte step, checked. */
static int smbios_scan(const uint8_t *area, size_t len, const char *sig,
                       size_t len_at, size_t min, struct fw_table *t)
{
    size_t off, n = strlen(sig);

    for (off = 0; off + min <= len; off += 16) {
        const uint8_t *p = area + off;
        uint8_t l = p[len_at];

        if (memcmp(p, sig, n) != 0 || l < min || l > len - off ||
            !sum_zero(p, l))
            continue;
        t->off = off;
        t->len = l;
        t->major = p[len_at + 1];
        t->minor = p[len_at + 2];
        return 0;
    }
    return -PE_NOENT;
}

/** Find the SMBIOS entry point; see fwtables.h. */
int fw_find_smbios(const uint8_t *area, size_t len, struct fw_table *t)
{
    if (smbios_scan(area, len, "_SM3_", 6, SM3_MIN, t) == 0)
        return 0;
    return smbios_scan(area, len, "_SM_", 5, SM2_MIN, t);
}
