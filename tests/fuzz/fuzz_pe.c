/*
 * libFuzzer target: the PE32+ header check of `chld` on UEFI
 * (loader/pe.c).  Input: 4 bytes, how many bytes past the input the file
 * claims to have (little-endian, capped at 16 MiB: the source announced
 * a larger size than the headers show), then the file's first bytes.
 *
 * Checks beyond the sanitizers: pe_check reads only the bytes it is
 * given (ASan sees every read of a copy of exactly that size); a refusal
 * has a reason; an accepted image has the structure the firmware will
 * rely on: MZ and the PE signature, x86-64, an EFI application, the
 * entry point inside SizeOfImage, 1 to 96 sections whose raw data lies
 * in the file and whose memory lies in the image.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/pe.h"

static uint32_t rd32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
           (uint32_t)b[3] << 24;
}

static uint16_t rd16(const uint8_t *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pe_info info;
    char why[200];
    uint64_t file_size;
    size_t have;
    uint8_t *head;

    if (size < 4)
        return 0;
    file_size = (rd32(data) & 0xFFFFFF) + (uint64_t)(size - 4);
    have = size - 4;
    head = malloc(have ? have : 1);
    assert(head);
    memcpy(head, data + 4, have);
    memset(why, 'x', sizeof(why));
    int rc = pe_check(head, have, file_size, &info, why, sizeof(why));
    if (rc != 0) {
        assert(rc == -PE_NOEXEC);
        assert(memchr(why, '\0', sizeof(why)) && why[0] != 'x' && why[0]);
        free(head);
        return 0;
    }
    uint32_t pe = rd32(head + 0x3c);
    assert(head[0] == 'M' && head[1] == 'Z');
    assert(pe + 24 + 112 <= have && memcmp(head + pe, "PE\0\0", 4) == 0);
    assert(info.machine == PE_MACHINE_X64);
    assert(info.subsystem == PE_SUBSYSTEM_EFI_APP);
    assert(info.entry && info.entry < info.size_of_image);
    assert(info.nsections >= 1 && info.nsections <= 96);
    uint64_t sec = pe + 24 + rd16(head + pe + 20);
    assert(sec + info.nsections * 40ull <= have);
    for (unsigned i = 0; i < info.nsections; i++) {
        const uint8_t *sh = head + sec + i * 40ull;
        uint64_t vsize = rd32(sh + 8), raw = rd32(sh + 16);
        assert(!raw || rd32(sh + 20) + raw <= file_size);
        assert(rd32(sh + 12) + (vsize ? vsize : raw) <= info.size_of_image);
    }
    free(head);
    return 0;
}
