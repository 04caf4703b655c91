/*
 * The multiboot information builder.
 *
 * Layout of the one buffer, every part at a fixed offset computed by
 * mbi_layout() so mbi_size() and mbi_build() cannot disagree:
 *
 *   struct mb_info | mb_module[nmods] | mb_mmap_entry[...] |
 *   VBE controller info (512) + mode info (256), with video | strings
 *
 * The module array and the mmap start 4-byte aligned (struct mb_info is
 * 116 bytes and a module 16, so no padding is needed today; the layout
 * aligns anyway so a change to the structures cannot misalign them).
 * The empty drive list points at the strings: valid, and 0 bytes long.
 */
#include <string.h>

#include "lib/errno.h"
#include "mb/mbinfo.h"
#include "mb/multiboot.h"

/** Offsets of each part of the info, relative to the buffer start. */
struct mbi_layout {
    size_t mods, mmap, vbe, strings, total;
    size_t mmap_len; /* bytes of mmap entries */
};

/** Round @x up to a multiple of 4; false when that would overflow. */
static bool align4(size_t x, size_t *out)
{
    if (x > SIZE_MAX - 3)
        return false;
    *out = (x + 3) & ~(size_t)3;
    return true;
}

/** *@acc += @n, false on overflow. */
static bool add_size(size_t *acc, size_t n)
{
    if (n > SIZE_MAX - *acc)
        return false;
    *acc += n;
    return true;
}

/** Bytes a string needs with its NUL; NULL is stored as "". */
static size_t str_bytes(const char *s)
{
    return s ? strlen(s) + 1 : 1;
}

/** E820 entries that make it into the mmap: all but empty ones. */
static unsigned mmap_count(const struct mbi_input *in)
{
    unsigned i, n = 0;

    for (i = 0; i < in->nmap; i++)
        if (in->map[i].len != 0)
            n++;
    return n;
}

/** Lay out the info for @in.  Returns false when sizes overflow. */
static bool mbi_layout(const struct mbi_input *in, struct mbi_layout *l)
{
    size_t pos = sizeof(struct mb_info);
    size_t nmmap = mmap_count(in);
    unsigned i;

    if (nmmap < in->map_room)
        nmmap = in->map_room;
    if (!align4(pos, &l->mods))
        return false;
    pos = l->mods;
    /* Multiplied in 64 bits: size_t is 32 bits on the NBP. */
    if ((uint64_t)in->nmods * sizeof(struct mb_module) > SIZE_MAX ||
        !add_size(&pos, (size_t)in->nmods * sizeof(struct mb_module)))
        return false;
    if (!align4(pos, &l->mmap))
        return false;
    pos = l->mmap;
    if ((uint64_t)nmmap * sizeof(struct mb_mmap_entry) > SIZE_MAX)
        return false;
    l->mmap_len = nmmap * sizeof(struct mb_mmap_entry);
    if (!add_size(&pos, l->mmap_len))
        return false;
    l->vbe = pos;
    if (in->video && in->video->has_vbe && !add_size(&pos, 512 + 256))
        return false;
    l->strings = pos;
    if (!add_size(&pos, str_bytes(in->cmdline)))
        return false;
    for (i = 0; i < in->nmods; i++)
        if (!add_size(&pos, str_bytes(in->mods[i].cmdline)))
            return false;
    if (!add_size(&pos, str_bytes(in->loader_name)))
        return false;
    l->total = pos;
    return true;
}

/** Bytes the info for @in needs; SIZE_MAX when it cannot be built. */
size_t mbi_size(const struct mbi_input *in)
{
    struct mbi_layout l;

    /* SIZE_MAX makes every buffer too small, so mbi_build refuses. */
    if (!mbi_layout(in, &l))
        return SIZE_MAX;
    return l.total;
}

/**
 * Copy @s (NULL = "") with its NUL to @buf at *@pos and return its
 * physical address; advance *@pos.
 */
static uint32_t put_str(uint8_t *buf, uint32_t phys, size_t *pos,
                        const char *s)
{
    size_t n = str_bytes(s);
    uint32_t addr = phys + (uint32_t)*pos;

    if (s)
        memcpy(buf + *pos, s, n);
    else
        buf[*pos] = '\0';
    *pos += n;
    return addr;
}

/**
 * Fill the VBE (bit 11) and framebuffer (bit 12) fields of @info from
 * @v; the two VBE blocks go to @at (physical @at_phys, 768 bytes).
 */
static void mbi_put_video(struct mb_info *info, const struct mbi_video *v,
                          uint8_t *at, uint32_t at_phys)
{
    if (v->has_vbe) {
        info->flags |= MB_INFO_VBE;
        memcpy(at, v->control, 512);
        memcpy(at + 512, v->mode, 256);
        info->vbe_control_info = at_phys;
        info->vbe_mode_info = at_phys + 512;
        info->vbe_mode = v->mode_nr;
        info->vbe_interface_seg = v->if_seg;
        info->vbe_interface_off = v->if_off;
        info->vbe_interface_len = v->if_len;
    }
    if (v->has_fb) {
        info->flags |= MB_INFO_FRAMEBUFFER;
        info->framebuffer_addr = v->fb_addr;
        info->framebuffer_pitch = v->fb_pitch;
        info->framebuffer_width = v->fb_width;
        info->framebuffer_height = v->fb_height;
        info->framebuffer_bpp = v->fb_bpp;
        info->framebuffer_type = v->fb_type;
        memcpy(info->color_info, v->fb_color, 6);
    }
}

/** Build the info into @buf at physical @phys; see mbinfo.h. */
int mbi_build(const struct mbi_input *in, void *buf, uint32_t phys,
              size_t size, uint32_t *info_phys)
{
    uint8_t *b = buf;
    struct mbi_layout l;
    struct mb_info info;
    size_t pos;
    unsigned i;

    if (!mbi_layout(in, &l) || size < l.total)
        return -PE_NOMEM;
    /* Every pointer is a 32-bit physical address: the info must end
     * at or below 4 GiB or the kernel would see wrapped addresses. */
    if ((uint64_t)phys + l.total > 0x100000000ull)
        return -PE_RANGE;

    /* Zero first: padding and fields Pulsar does not fill read as 0. */
    memset(b, 0, l.total);
    memset(&info, 0, sizeof(info));
    pos = l.strings;

    info.flags = MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MODS |
                 MB_INFO_MMAP | MB_INFO_LOADER_NAME;
    info.mem_lower = in->mem_lower;
    info.mem_upper = in->mem_upper;
    info.cmdline = put_str(b, phys, &pos, in->cmdline);

    /* MODS stays set with 0 modules: the spec allows it and kernels
     * then see an explicit empty list rather than "unknown". */
    info.mods_count = in->nmods;
    info.mods_addr = phys + (uint32_t)l.mods;
    for (i = 0; i < in->nmods; i++) {
        struct mb_module m;

        memset(&m, 0, sizeof(m));
        m.mod_start = in->mods[i].start;
        m.mod_end = in->mods[i].end;
        m.cmdline = put_str(b, phys, &pos, in->mods[i].cmdline);
        memcpy(b + l.mods + (size_t)i * sizeof(m), &m, sizeof(m));
    }

    /* The map as the BIOS gave it, reserved entries included: the
     * kernel should see ACPI and NVS ranges, not just our view of RAM. */
    info.mmap_addr = phys + (uint32_t)l.mmap;
    info.mmap_length = (uint32_t)l.mmap_len;
    {
        size_t at = l.mmap;

        for (i = 0; i < in->nmap; i++) {
            struct mb_mmap_entry e;

            if (in->map[i].len == 0)
                continue;
            /* size excludes itself, so kernels step by size + 4. */
            e.size = sizeof(e) - sizeof(e.size);
            e.base_addr = in->map[i].base;
            e.length = in->map[i].len;
            e.type = in->map[i].type;
            memcpy(b + at, &e, sizeof(e));
            at += sizeof(e);
        }
    }

    info.boot_loader_name = put_str(b, phys, &pos, in->loader_name);

    /* No BIOS drives are reported (Pulsar booted from the network), but
     * the list is valid: 0 bytes at an address inside the info. */
    info.flags |= MB_INFO_DRIVES;
    info.drives_addr = phys + (uint32_t)l.strings;
    info.drives_length = 0;
    if (in->has_syms) {
        info.flags |= MB_INFO_ELF_SHDR;
        memcpy(info.syms, in->syms, sizeof(info.syms));
    }
    if (in->config_table) {
        info.flags |= MB_INFO_CONFIG_TABLE;
        info.config_table = in->config_table;
    }
    if (in->video)
        mbi_put_video(&info, in->video, b + l.vbe, phys + (uint32_t)l.vbe);
    memcpy(b, &info, sizeof(info));
    if (info_phys)
        *info_phys = phys;
    return 0;
}
