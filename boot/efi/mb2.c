/*
 * Multiboot2 on UEFI: the information (mb/mb2info.c) with what a UEFI
 * loader gives, and the two ways in (mb2_efi_entry in loader/mb2hdr.h):
 *
 * - Boot services exited (no EFI boot services tag, or an entry that can
 *   only be 32-bit code): as the Multiboot 1 hand-off (handoff.c): the
 *   hand-off's memory, the checked move list, ExitBootServices; then the
 *   info is built from the map that call took (tags 6, 4 and the EFI
 *   memory map 17 are the kernel's map, not an earlier one), and the
 *   trampoline leaves long mode, moves and enters with EAX=0x36D76289.
 *   Tags 18 and 20 are not given: nothing of the firmware's is left.
 * - Boot services kept (tag 7 with an amd64 EFI entry, or an ELF64
 *   image): the session placed everything clear of the memory the
 *   firmware held (loader/kload.c), and every range was staged in its
 *   own pages (AllocateAddress); nothing moves.  The info gets tags 18
 *   and 20 and the map as it is now; the kernel is entered where Pulsar
 *   runs, in 64-bit mode (efi_enter64), and calls ExitBootServices
 *   itself.
 *
 * Both carry: the command line, loader name, modules, ELF sections, the
 * load base of a relocated image, the system table (12), copies of the
 * SMBIOS entry point and ACPI RSDP from the configuration table (13-15),
 * the DHCP ACK the PXE Base Code holds (16) and the GOP framebuffer when
 * the kernel asks (8).
 */
#include "boot/efi/handoff.h"
#include "boot/efi/stage.h"
#include "boot/efi/uefi.h"
#include "lib/errno.h"
#include "mb/fwtables.h"
#include "mb/mb2info.h"
#include <stdio.h>
#include <string.h>

#define PAGE 4096u
/** EFI map descriptors the info has room for beyond the map read when it
 *  is sized (the allocations after that split entries). */
#define MAP_SLACK 16u
/** Bytes of a configuration table's entry point searched: an RSDP of
 *  ACPI 2.0 (36) and any SMBIOS entry point (31 at most) fit. */
#define FW_AREA 36u

/** Tags 13-15: the configuration table's SMBIOS entry point (3.0 first)
 *  and ACPI RSDPs, each checked before it is copied: tag 15 from the ACPI
 *  2.0 entry, tag 14 from the ACPI 1.0 one (OVMF's is a revision 0 RSDP
 *  of its own, as GRUB passes it), else the 2.0 RSDP's first 20 bytes. */
static void fw_tables(struct mb2i_input *in)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
    EFI_GUID sm3 = SMBIOS3_TABLE_GUID, sm = SMBIOS_TABLE_GUID;
    const uint8_t *p;
    struct fw_table t;

    if ((p = efi_config_table(&acpi20)) && fw_find_rsdp(p, FW_AREA, &t) == 0)
        mb2i_set_rsdp(in, p, &t);
    /* 20 bytes searched: only the ACPI 1.0 part (tag 14) is taken. */
    if ((p = efi_config_table(&acpi10)) && fw_find_rsdp(p, 20, &t) == 0)
        mb2i_set_rsdp(in, p, &t);
    if (!(p = efi_config_table(&sm3)))
        p = efi_config_table(&sm);
    if (p && fw_find_smbios(p, FW_AREA, &t) == 0)
        mb2i_set_smbios(in, p, &t);
}

/** What both ways give; 0 or the session's error. */
static int mb2_input(struct session *s, const char *loader_name,
                     struct mb2i_input *in)
{
    static struct mbi_video video;
    const struct image_plan *plan = &s->kernel->plan;

    memset(in, 0, sizeof(*in));
    in->cmdline = s->item->cmdline;
    in->loader_name = loader_name;
    in->mods = s->mods;
    in->nmods = s->nmods;
    if (plan->has_syms) {
        in->shdrs.len = plan->syms.num * plan->syms.size;
        in->shdrs.data = efi_guest_whole(s, s->item, s->syms_table,
                                         in->shdrs.len);
        if (!in->shdrs.data)
            return session_error(s, -PE_RANGE, "internal error: the "
                                 "section headers of %s are not staged",
                                 s->item->path);
        in->sh_num = plan->syms.num;
        in->sh_entsize = plan->syms.size;
        in->sh_shndx = plan->syms.shndx;
    }
    in->has_load_base = plan->relocated;
    in->load_base = plan->load_base;
    in->dhcp_ack.data = efi_pxe_ack(&in->dhcp_ack.len);
    fw_tables(in);
    in->has_efi64_st = true;
    in->efi64_st = (uintptr_t)efi_st;
    /* Video (a refusal is printed; the kernel then gets no tag 8). */
    efi_video_prepare(&plan->mb, &video);
    if (video.has_fb)
        in->video = &video;
    return 0;
}

/**
 * The maps in @in from the firmware's map last read: tag 6 converted
 * into @map, tag 4 from it, tag 17 as the firmware gave it.  @room: size
 * for MAP_SLACK more descriptors (for the sizing before allocations).
 * False with s->msg set when the map cannot be read.
 */
static bool mb2_maps(struct session *s, struct mb2i_input *in,
                     struct e820_entry *map, bool room)
{
    const struct efi_raw_map *raw = efi_last_map();
    unsigned n = efi_e820_last(map, EFI_MAP_MAX, s->msg, sizeof(s->msg));

    if (!n)
        return false;
    in->map = map;
    in->nmap = n;
    in->map_room = room ? n + MAP_SLACK : 0;
    place_mem_info(map, n, &in->mem_lower, &in->mem_upper);
    in->efi_mmap.data = raw->buf;
    in->efi_mmap.len = (uint32_t)(raw->size +
                                  (room ? MAP_SLACK * raw->desc_size : 0));
    in->efi_desc_size = (uint32_t)raw->desc_size;
    in->efi_desc_version = raw->version;
    return true;
}

/** Pages for the info @in describes now, with room for the map to grow
 *  (SIZE_MAX pages: it does not fit). */
static size_t info_pages(const struct mb2i_input *in)
{
    size_t size = mb2i_size(in);

    return size == SIZE_MAX ? SIZE_MAX : size / PAGE + 2;
}

/** Boot services exited: see the top.  Returns only on an error. */
static int exit_and_enter(struct session *s, struct mb2i_input *in)
{
    static struct e820_entry map[EFI_MAP_MAX];
    const struct image_plan *plan = &s->kernel->plan;
    struct efi_handoff h;
    size_t pages;
    int rc;

    if (!efi_e820(map, EFI_MAP_MAX, NULL, s->msg, sizeof(s->msg)) ||
        !mb2_maps(s, in, map, true))
        return session_error(s, -PE_NORAM, "%s", s->msg);
    if ((pages = info_pages(in)) == SIZE_MAX)
        return session_error(s, -PE_NOMEM, "the multiboot2 information "
                             "does not fit");
    if ((rc = efi_handoff_alloc(s, pages, &h)) != 0)
        return rc;
    h.ho->entry = plan->entry;
    h.ho->info = (uint32_t)(uintptr_t)h.info;
    h.ho->magic = MB2_BOOT_MAGIC;
    if ((rc = efi_handoff_moves(s, &h)) != 0)
        return rc;
    printf("pulsar: starting %s at %08x (%s), multiboot2 info at %08x "
           "(%u ranges to move after ExitBootServices)\n", s->item->path,
           plan->entry, mb2_efi_mode_str(MB2_EFI_EXIT32), h.ho->info,
           h.ho->nmoves);
    if ((rc = efi_handoff_exit(s)) != 0)
        return rc;

    /* The firmware is gone: the map ExitBootServices took is the
     * kernel's.  Only the UART is left to say why nothing follows. */
    if (!mb2_maps(s, in, map, false))
        efi_halt_exited(s->msg);
    if (mb2i_build(in, h.info, h.ho->info, h.info_len) != 0)
        efi_halt_exited("the multiboot2 information outgrew its pages");
    efi_handoff_jump(&h);
}

/** Is every staged range in its own pages?  Else the session's error. */
static int all_in_place(struct session *s)
{
    unsigned n;
    const struct stage *st = efi_stages(&n);

    for (unsigned i = 0; i < n; i++)
        if ((uintptr_t)st[i].buf != st[i].start)
            return session_error(s, -PE_RANGE, "%08llx-%08llx was not free "
                                 "when staged (the firmware took it); a "
                                 "kernel that keeps the boot services gets "
                                 "nothing moved after it starts",
                                 (unsigned long long)st[i].start,
                                 (unsigned long long)st[i].end - 1);
    return 0;
}

/** Boot services kept: see the top.  Returns only on an error. */
static int enter_with_boot_services(struct session *s, struct mb2i_input *in,
                                    enum mb2_efi_mode mode)
{
    static struct e820_entry map[EFI_MAP_MAX];
    static const char owner[] = "multiboot2 information";
    const struct image_plan *plan = &s->kernel->plan;
    uint64_t entry = mode == MB2_EFI_BS_EFI64 ? plan->mb2.efi64_entry
                                              : plan->entry;
    size_t pages;
    uint8_t *info;
    int rc;

    /* The spec's tags 12 and 20 hold 64-bit pointers, but the kernel may
     * be 32-bit code until it reads them: below 4 GiB, as GRUB has them. */
    if ((uintptr_t)efi_st >= 0x100000000ull ||
        (uintptr_t)efi_image >= 0x100000000ull)
        return session_error(s, -PE_UNSUPP, "the EFI system table (%p) or "
                             "image handle (%p) lies above 4 GiB",
                             (void *)efi_st, (void *)efi_image);
    if ((rc = all_in_place(s)) != 0)
        return rc;
    in->efi_bs_kept = true;
    in->has_efi64_ih = true;
    in->efi64_ih = (uintptr_t)efi_image;
    if (!efi_e820(map, EFI_MAP_MAX, NULL, s->msg, sizeof(s->msg)) ||
        !mb2_maps(s, in, map, true))
        return session_error(s, -PE_NORAM, "%s", s->msg);
    if ((pages = info_pages(in)) == SIZE_MAX ||
        !(info = efi_alloc_low(&s->placer, pages, EfiLoaderData, owner)))
        return session_error(s, -PE_NOMEM, "no memory below 4 GiB for the "
                             "multiboot2 information (AllocatePages)");
    /* The map as it is now, with the info's own pages in it. */
    if (!efi_e820(map, EFI_MAP_MAX, NULL, s->msg, sizeof(s->msg)) ||
        !mb2_maps(s, in, map, false))
        return session_error(s, -PE_NORAM, "%s", s->msg);
    if (mb2i_build(in, info, (uint32_t)(uintptr_t)info, pages * PAGE) != 0)
        return session_error(s, -PE_NOMEM, "the multiboot2 information "
                             "outgrew its pages");
    printf("pulsar: starting %s at %08llx (%s), multiboot2 info at %08x\n",
           s->item->path, (unsigned long long)entry, mb2_efi_mode_str(mode),
           (uint32_t)(uintptr_t)info);
    efi_pxe_release(); /* its callback is Pulsar's code */
    efi_enter64(entry, (uintptr_t)info);
}

int efi_handoff_multiboot2(struct session *s, const char *loader_name)
{
    const struct kernel_load *k = s->kernel;
    enum mb2_efi_mode mode = mb2_efi_entry(&k->plan.mb2, k->prefix, k->have);
    struct mb2i_input in;
    int rc;

    if ((rc = mb2_input(s, loader_name, &in)) != 0)
        return rc;
    if (mode == MB2_EFI_EXIT32)
        return exit_and_enter(s, &in);
    return enter_with_boot_services(s, &in, mode);
}
