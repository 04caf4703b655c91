/*
 * libFuzzer target: the Multiboot2 header parser and planner
 * (loader/mb2hdr.c, image_plan_multiboot2 in loader/image.c), the
 * firmware-table search (mb/fwtables.c) and the Multiboot2 info builder
 * (mb/mb2info.c), all on untrusted bytes.
 *
 * Input: byte 0 selects which info tags the face "gives" (a mask), the
 * rest is the kernel file's first bytes, also searched as a firmware area
 * and used as strings, map entries and blobs for the info.
 *
 * Checks beyond the sanitizers: an accepted header lies 8-byte aligned
 * in the first 32 KiB and inside the input; a plan's entry lies in a
 * segment; a found RSDP or SMBIOS entry point lies inside the area; the
 * built info has total_size == mb2i_size(), every tag 8-byte aligned
 * inside it and the end tag last.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/endian.h"
#include "lib/errno.h"
#include "loader/image.h"
#include "loader/mb2hdr.h"
#include "mb/fwtables.h"
#include "mb/mb2info.h"

/** Walk a built info and check its shape. */
static void check_info(const uint8_t *b, size_t size)
{
    uint32_t total = le32(b), off = 8;

    assert(total == size);
    for (;;) {
        uint32_t type = le32(b + off), tsize = le32(b + off + 4);

        assert(off % 8 == 0 && tsize >= 8 && off + tsize <= total);
        if (type == 0) {
            assert(tsize == 8 && off + 8 == total);
            return;
        }
        off += (tsize + 7) & ~7u;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct image_plan plan;
    struct mb2_header h;
    struct fw_table t;
    char err[160];
    uint32_t gives;

    if (size < 1)
        return 0;
    gives = data[0] & 1 ? MB2_BIOS_GIVES : (uint32_t)data[0] << 8;
    data++;
    size--;

    if (mb2_parse_header(data, size, gives, &h, err, sizeof(err)) == 0) {
        enum mb2_efi_mode mode = mb2_efi_entry(&h, data, size);

        assert(h.offset % 8 == 0 && h.offset < MB2_SEARCH);
        assert((size_t)h.offset + h.length <= size);
        /* The boot services are kept only with tag 7 and a 64-bit way in. */
        assert(mode == MB2_EFI_EXIT32 ||
               (h.efi_bs && (mode == MB2_EFI_BS_EFI64) == h.has_efi64));
        assert(mb2_efi_mode_str(mode)[0]);
    }
    if (image_plan_multiboot2(data, size, (uint32_t)size, gives, &plan, err,
                              sizeof(err)) == 0) {
        unsigned i;
        bool held = false;

        for (i = 0; i < plan.nseg; i++)
            held |= plan.entry - plan.seg[i].dest < plan.seg[i].memsz;
        assert(held);
    }
    if (fw_find_rsdp(data, size, &t) == 0)
        assert(t.off + t.len <= size && t.len >= 20);
    if (fw_find_smbios(data, size, &t) == 0)
        assert(t.off + t.len <= size);

    /* The info builder, fed pieces of the input. */
    {
        struct e820_entry map[4];
        struct mbi_module mods[2];
        struct mb2i_input in;
        size_t need, n = size < 64 ? size : 64;
        char str[65];
        uint8_t *buf;

        memcpy(str, data, n);
        str[n] = '\0';
        memset(&in, 0, sizeof(in));
        memset(map, 0, sizeof(map));
        for (unsigned i = 0; i < 4 && (i + 1) * 20 <= size; i++) {
            map[i].base = le64(data + i * 20);
            map[i].len = le64(data + i * 20 + 8);
            map[i].type = le32(data + i * 20 + 16);
            in.nmap = i + 1;
        }
        mods[0] = (struct mbi_module){ 0x100000, 0x200000, str };
        mods[1] = (struct mbi_module){ 0x200000, 0x200000, NULL };
        in.cmdline = str;
        in.loader_name = NULL;
        in.mods = mods;
        in.nmods = 2;
        in.map = map;
        in.map_room = size ? data[0] & 7 : 0;
        in.dhcp_ack.data = data;
        in.dhcp_ack.len = (uint32_t)size;
        in.rsdp_new.data = data;
        in.rsdp_new.len = (uint32_t)(size / 2);
        in.has_load_base = size & 1;
        need = mb2i_size(&in);
        assert(need != SIZE_MAX && need % 8 == 0);
        buf = malloc(need);
        assert(buf);
        assert(mb2i_build(&in, buf, 0x10000, need) == 0);
        check_info(buf, le32(buf));
        if (need > 8)
            assert(mb2i_build(&in, buf, 0x10000, 8) == -PE_NOMEM);
        free(buf);
    }
    return 0;
}
