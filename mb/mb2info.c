/*
 * The Multiboot2 boot information; see mb2info.h.
 *
 * One emitter writes every tag; run without a buffer it only counts, so
 * mb2i_size() and mb2i_build() cannot disagree about the layout.
 */
#include <string.h>

#include "lib/endian.h"
#include "lib/errno.h"
#include "loader/mb2hdr.h"
#include "mb/mb2info.h"

#define MB2I_MMAP_ENTRY 24 /* base u64, length u64, type u32, reserved */
#define MB2I_VBE_LEN (16 + 512 + 256)

/** Where the emitter is: @buf NULL counts bytes only. */
struct mb2i_out {
    uint8_t *buf;
    size_t pos, cap;
    bool overflow;
};

/** Append @n bytes of @src (NULL: zeros). */
static void out_bytes(struct mb2i_out *o, const void *src, size_t n)
{
    if (o->overflow || n > SIZE_MAX - o->pos) {
        o->overflow = true;
        return;
    }
    if (o->buf) {
        if (o->pos + n > o->cap) {
            o->overflow = true;
            return;
        }
        if (src)
            memcpy(o->buf + o->pos, src, n);
        else
            memset(o->buf + o->pos, 0, n);
    }
    o->pos += n;
}

/** Append a little-endian value of @n bytes (1, 2, 4 or 8). */
static void out_le(struct mb2i_out *o, uint64_t v, size_t n)
{
    uint8_t b[8];
    size_t i;

    for (i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    out_bytes(o, b, n);
}

/** Start a tag of @type; returns where it starts, for tag_end. */
static size_t tag_begin(struct mb2i_out *o, uint32_t type)
{
    size_t at = o->pos;

    out_le(o, type, 4);
    out_le(o, 0, 4); /* the size, filled in by tag_end */
    return at;
}

/** Fill in the size of the tag at @at and pad to 8 bytes. */
static void tag_end(struct mb2i_out *o, size_t at)
{
    size_t size = o->pos - at;

    if (o->buf && !o->overflow)
        put_le32(o->buf + at + 4, (uint32_t)size);
    out_bytes(o, NULL, (8 - (o->pos & 7)) & 7);
}

/** A tag holding one NUL-terminated string (NULL: ""). */
static void tag_string(struct mb2i_out *o, uint32_t type, const char *s)
{
    size_t at = tag_begin(o, type);

    if (!s)
        s = "";
    out_bytes(o, s, strlen(s) + 1);
    tag_end(o, at);
}

/** A tag holding @b's bytes after @head (a prefix of @nhead bytes). */
static void tag_blob(struct mb2i_out *o, uint32_t type, const void *head,
                     size_t nhead, const struct mb2i_blob *b)
{
    size_t at;

    if (!b->data || !b->len)
        return;
    at = tag_begin(o, type);
    out_bytes(o, head, nhead);
    out_bytes(o, b->data, b->len);
    tag_end(o, at);
}

/** Tag 6: the memory map; @room entries at least (blank ones last). */
static void tag_mmap(struct mb2i_out *o, const struct mb2i_input *in,
                     bool sizing)
{
    size_t at = tag_begin(o, MB2_TAG_MMAP);
    unsigned i, n = 0;

    out_le(o, MB2I_MMAP_ENTRY, 4); /* entry_size */
    out_le(o, 0, 4);               /* entry_version */
    for (i = 0; i < in->nmap; i++) {
        if (in->map[i].len == 0)
            continue;
        out_le(o, in->map[i].base, 8);
        out_le(o, in->map[i].len, 8);
        out_le(o, in->map[i].type, 4);
        out_le(o, 0, 4);
        n++;
    }
    /* Sizing for a map that may grow before the build. */
    if (sizing && n < in->map_room)
        out_bytes(o, NULL, (size_t)(in->map_room - n) * MB2I_MMAP_ENTRY);
    tag_end(o, at);
}

/** Tags 7 and 8: VBE and the framebuffer, as the face set them. */
static void tag_video(struct mb2i_out *o, const struct mbi_video *v)
{
    size_t at;

    if (v->has_vbe) {
        at = tag_begin(o, MB2_TAG_VBE);
        out_le(o, v->mode_nr, 2);
        out_le(o, v->if_seg, 2);
        out_le(o, v->if_off, 2);
        out_le(o, v->if_len, 2);
        out_bytes(o, v->control, sizeof(v->control));
        out_bytes(o, v->mode, sizeof(v->mode));
        tag_end(o, at);
    }
    if (v->has_fb) {
        at = tag_begin(o, MB2_TAG_FRAMEBUFFER);
        out_le(o, v->fb_addr, 8);
        out_le(o, v->fb_pitch, 4);
        out_le(o, v->fb_width, 4);
        out_le(o, v->fb_height, 4);
        out_le(o, v->fb_bpp, 1);
        out_le(o, v->fb_type, 1);
        out_le(o, 0, 2); /* reserved */
        if (v->fb_type == 1)
            out_bytes(o, v->fb_color, 6); /* RGB field positions/sizes */
        else if (v->fb_type == 0)
            out_le(o, 0, 4); /* indexed: no palette is passed */
        tag_end(o, at);
    }
}

/** Tags 12, 17, 18 and 20: what a UEFI face hands over. */
static void tag_efi(struct mb2i_out *o, const struct mb2i_input *in)
{
    size_t at;

    if (in->has_efi64_st) {
        at = tag_begin(o, MB2_TAG_EFI64);
        out_le(o, in->efi64_st, 8);
        tag_end(o, at);
    }
    if (in->efi_mmap.data && in->efi_mmap.len) {
        uint8_t head[8];

        put_le32(head, in->efi_desc_size);
        put_le32(head + 4, in->efi_desc_version);
        tag_blob(o, MB2_TAG_EFI_MMAP, head, sizeof(head), &in->efi_mmap);
    }
    if (in->efi_bs_kept) {
        at = tag_begin(o, MB2_TAG_EFI_BS);
        tag_end(o, at);
    }
    if (in->has_efi64_ih) {
        at = tag_begin(o, MB2_TAG_EFI64_IH);
        out_le(o, in->efi64_ih, 8);
        tag_end(o, at);
    }
}

/** Emit the whole info for @in into @o. */
static void mb2i_emit(struct mb2i_out *o, const struct mb2i_input *in,
                      bool sizing)
{
    size_t at;
    unsigned i;

    out_le(o, 0, 4); /* total_size, filled in by mb2i_build */
    out_le(o, 0, 4); /* reserved */
    tag_string(o, MB2_TAG_CMDLINE, in->cmdline);
    tag_string(o, MB2_TAG_LOADER, in->loader_name);
    for (i = 0; i < in->nmods; i++) {
        at = tag_begin(o, MB2_TAG_MODULE);
        out_le(o, in->mods[i].start, 4);
        out_le(o, in->mods[i].end, 4);
        out_bytes(o, in->mods[i].cmdline ? in->mods[i].cmdline : "",
                  strlen(in->mods[i].cmdline ? in->mods[i].cmdline : "") + 1);
        tag_end(o, at);
    }
    at = tag_begin(o, MB2_TAG_MEMINFO);
    out_le(o, in->mem_lower, 4);
    out_le(o, in->mem_upper, 4);
    tag_end(o, at);
    tag_mmap(o, in, sizing);
    if (in->video)
        tag_video(o, in->video);
    if (in->shdrs.data && in->shdrs.len) {
        uint8_t head[12];

        put_le32(head, in->sh_num);
        put_le32(head + 4, in->sh_entsize);
        put_le32(head + 8, in->sh_shndx);
        tag_blob(o, MB2_TAG_ELF_SECTIONS, head, sizeof(head), &in->shdrs);
    }
    if (in->smbios.data && in->smbios.len) {
        uint8_t head[8] = { in->smbios_major, in->smbios_minor };

        tag_blob(o, MB2_TAG_SMBIOS, head, sizeof(head), &in->smbios);
    }
    tag_blob(o, MB2_TAG_ACPI_OLD, NULL, 0, &in->rsdp_old);
    tag_blob(o, MB2_TAG_ACPI_NEW, NULL, 0, &in->rsdp_new);
    tag_blob(o, MB2_TAG_NETWORK, NULL, 0, &in->dhcp_ack);
    if (in->has_load_base) {
        at = tag_begin(o, MB2_TAG_LOAD_BASE);
        out_le(o, in->load_base, 4);
        tag_end(o, at);
    }
    tag_efi(o, in);
    at = tag_begin(o, MB2_TAG_END);
    tag_end(o, at);
}

/** Bytes the info needs; see mb2info.h. */
size_t mb2i_size(const struct mb2i_input *in)
{
    struct mb2i_out o = { NULL, 0, 0, false };

    mb2i_emit(&o, in, true);
    return o.overflow ? SIZE_MAX : o.pos;
}

/** Build the info; see mb2info.h. */
int mb2i_build(const struct mb2i_input *in, void *buf, uint32_t phys,
               size_t size)
{
    struct mb2i_out o = { buf, 0, size, false };

    if (phys & 7)
        return -PE_INVAL;
    mb2i_emit(&o, in, false);
    if (o.overflow)
        return -PE_NOMEM;
    if ((uint64_t)phys + o.pos > 0x100000000ull)
        return -PE_RANGE;
    put_le32(buf, (uint32_t)o.pos);
    return 0;
}

/** Tags 14 and 15 from a found RSDP; see mb2info.h. */
void mb2i_set_rsdp(struct mb2i_input *in, const uint8_t *area,
                   const struct fw_table *t)
{
    in->rsdp_old.data = area + t->off; /* the ACPI 1.0 part */
    in->rsdp_old.len = 20;
    if (t->major >= 2 && t->len > 20) {
        in->rsdp_new.data = area + t->off;
        in->rsdp_new.len = t->len;
    }
}

/** Tag 13 from a found SMBIOS entry point; see mb2info.h. */
void mb2i_set_smbios(struct mb2i_input *in, const uint8_t *area,
                     const struct fw_table *t)
{
    in->smbios.data = area + t->off;
    in->smbios.len = t->len;
    in->smbios_major = t->major;
    in->smbios_minor = t->minor;
}
