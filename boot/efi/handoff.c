/*
 * The multiboot hand-off on UEFI, "describe, then do":
 *   0. a kernel that asks for video gets the GOP mode closest to its
 *      wishes (boot/efi/video.c), before the map is read for the info;
 *   1. allocate below 4 GiB, clear of every claim: the multiboot info,
 *      the hand-off block (GDT, move list, stack) and the trampoline's
 *      code pages (EfiLoaderCode, written once before they run);
 *   2. build the info from the memory map as it will be after
 *      ExitBootServices (mb/mbinfo.c);
 *   3. check the move list against the plan: every staged range is a
 *      claim of the file it was staged for, and no destination overlaps
 *      a source, the info, the block or the trampoline (a range staged
 *      in place, its buffer the claim itself, needs no move);
 *   4. GetMemoryMap + ExitBootServices (again with a fresh key when the
 *      map changed in between);
 *   5. the trampoline leaves long mode, moves, and jumps.
 * The steps are helpers (efi_handoff_alloc, _moves, _exit, _jump) that
 * the Linux 32-bit boot protocol (boot/efi/linux.c) shares, with
 * boot_params as the information.
 */
#include "boot/efi/handoff.h"
#include "boot/efi/stage.h"
#include "boot/efi/uefi.h"
#include "lib/errno.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(offsetof(struct tramp_block, gdt) == HO_GDT, "HO_GDT");
_Static_assert(offsetof(struct tramp_block, gdtr_limit) == HO_GDTR, "HO_GDTR");
_Static_assert(offsetof(struct tramp_block, entry) == HO_ENTRY, "HO_ENTRY");
_Static_assert(offsetof(struct tramp_block, info) == HO_INFO, "HO_INFO");
_Static_assert(offsetof(struct tramp_block, nmoves) == HO_NMOVES, "HO_NMOVES");
_Static_assert(offsetof(struct tramp_block, moves) == HO_MOVES, "HO_MOVES");
_Static_assert(offsetof(struct tramp_block, esi) == HO_ESI, "HO_ESI");
_Static_assert(offsetof(struct tramp_block, magic) == HO_MAGIC, "HO_MAGIC");
_Static_assert(sizeof(struct move) == MOVE_SIZE, "MOVE_SIZE");

#define PAGE 4096u
/** Where the move list starts in the block (after the header). */
#define MOVES_OFF 128u
#define MOVES_MAX ((HO_STACK_TOP - 1024 - MOVES_OFF) / MOVE_SIZE)
/** ExitBootServices tries (the map may change between key and call). */
#define EXIT_TRIES 4

/** Flat 4 GiB 32-bit code and data descriptors. */
#define GDT_CODE32 0x00CF9A000000FFFFull
#define GDT_DATA32 0x00CF92000000FFFFull

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/**
 * Fill the move list from the staged ranges and check it; see the top.
 * Returns 0 or -PE_RANGE with the reason printed as the session's error.
 */
static int moves_check(struct session *s, struct tramp_block *ho,
                       struct move *mv, uint64_t info, uint64_t info_len,
                       uint64_t tramp)
{
    unsigned n, k = 0;
    const struct stage *st = efi_stages(&n);

    for (unsigned i = 0; i < n; i++) {
        uint64_t len = st[i].end - st[i].start;
        if (k == MOVES_MAX)
            return session_error(s, -PE_RANGE, "more than %u staged ranges",
                                 (unsigned)MOVES_MAX);
        if (!place_owned(&s->placer, st[i].owner, st[i].start, len) ||
            st[i].end > 0x100000000ull ||
            (uintptr_t)st[i].buf + len > 0x100000000ull)
            return session_error(s, -PE_RANGE, "internal error: staged range "
                                 "%llx-%llx is not a claim of its file",
                                 (unsigned long long)st[i].start,
                                 (unsigned long long)st[i].end);
        for (unsigned j = 0; j < n; j++)
            if ((uintptr_t)st[j].buf != st[j].start && /* in place */
                overlap(st[i].start, len, (uintptr_t)st[j].buf,
                        st[j].end - st[j].start))
                return session_error(s, -PE_RANGE, "internal error: range "
                                     "%llx-%llx overlaps a staging buffer",
                                     (unsigned long long)st[i].start,
                                     (unsigned long long)st[i].end);
        if (overlap(st[i].start, len, info, info_len) ||
            overlap(st[i].start, len, (uintptr_t)ho, HO_SIZE) ||
            overlap(st[i].start, len, tramp, PAGE))
            return session_error(s, -PE_RANGE, "internal error: range "
                                 "%llx-%llx overlaps the hand-off's memory",
                                 (unsigned long long)st[i].start,
                                 (unsigned long long)st[i].end);
        if ((uintptr_t)st[i].buf == st[i].start)
            continue; /* staged in place: nothing to move */
        mv[k].dest = (uint32_t)st[i].start;
        mv[k].src = (uint32_t)(uintptr_t)st[i].buf;
        mv[k].len = (uint32_t)len;
        k++;
    }
    ho->nmoves = k;
    ho->moves = (uint32_t)(uintptr_t)mv;
    return 0;
}

int efi_handoff_alloc(struct session *s, size_t info_pages,
                      struct efi_handoff *h)
{
    size_t tramp_len = (size_t)(efi_tramp_end - efi_tramp_start);

    memset(h, 0, sizeof(*h));
    if (tramp_len > PAGE)
        return session_error(s, -PE_NOMEM, "the trampoline exceeds a page");
    h->info = efi_alloc_low(&s->placer, info_pages, EfiLoaderData,
                            "hand-off information");
    h->ho = efi_alloc_low(&s->placer, HO_SIZE / PAGE, EfiLoaderData,
                          "hand-off block");
    h->tramp = efi_alloc_low(&s->placer, 1, EfiLoaderCode, "trampoline");
    if (!h->info || !h->ho || !h->tramp)
        return session_error(s, -PE_NOMEM, "no memory below 4 GiB for the "
                             "hand-off (AllocatePages)");
    h->info_len = info_pages * PAGE;
    memcpy(h->tramp, efi_tramp_start, tramp_len); /* the only write to it */
    h->ho->gdt[2] = GDT_CODE32;
    h->ho->gdt[3] = GDT_DATA32;
    h->ho->gdtr_limit = 4 * 8 - 1;
    h->ho->gdtr_base = (uintptr_t)h->ho->gdt;
    h->ho->magic = MB_BOOT_MAGIC; /* Multiboot2 sets its own */
    return 0;
}

int efi_handoff_moves(struct session *s, struct efi_handoff *h)
{
    return moves_check(s, h->ho, (struct move *)((uint8_t *)h->ho + MOVES_OFF),
                       (uintptr_t)h->info, h->info_len, (uintptr_t)h->tramp);
}

int efi_handoff_exit(struct session *s)
{
    EFI_STATUS st;
    UINTN key;

    for (unsigned i = 0;; i++) {
        st = efi_map_key(&key);
        if (EFI_ERROR(st))
            return session_error(s, -PE_IO, "GetMemoryMap: %s",
                                 efi_status_str(st));
        st = efi_bs->ExitBootServices(efi_image, key);
        if (st == EFI_SUCCESS)
            break;
        if (st != EFI_INVALID_PARAMETER || i + 1 == EXIT_TRIES)
            return session_error(s, -PE_IO, "ExitBootServices: %s",
                                 efi_status_str(st));
    }
    efi_console_firmware_gone();
    return 0;
}

void efi_halt_exited(const char *why)
{
    printf("pulsar: error: %s\npulsar: halted\n", why);
    for (;;)
        __asm__ volatile("cli; hlt");
}

const void *efi_config_table(const EFI_GUID *guid)
{
    for (UINTN i = 0; i < efi_st->NumberOfTableEntries; i++) {
        const EFI_CONFIGURATION_TABLE *t = &efi_st->ConfigurationTable[i];
        if (!memcmp(&t->VendorGuid, guid, sizeof(*guid)))
            return t->VendorTable;
    }
    return NULL;
}

void efi_handoff_jump(const struct efi_handoff *h)
{
    ((void (*)(struct tramp_block *))(uintptr_t)h->tramp)(h->ho);
    for (;;)
        __asm__ volatile("cli; hlt");
}

int efi_handoff_multiboot(struct session *s, const char *loader_name)
{
    static struct e820_entry map[EFI_MAP_MAX];
    static struct mbi_video video;
    const struct image_plan *plan = &s->kernel->plan;
    struct efi_handoff h;
    struct mbi_input in;
    uint32_t info_phys;
    unsigned nmap;
    int rc;

    memset(&in, 0, sizeof(in));
    if (plan->has_syms) {
        in.has_syms = true;
        in.syms[0] = plan->syms.num;
        in.syms[1] = plan->syms.size;
        in.syms[2] = s->syms_table;
        in.syms[3] = plan->syms.shndx;
    }
    in.cmdline = s->item->cmdline;
    in.mods = s->mods;
    in.nmods = s->nmods;
    in.loader_name = loader_name;
    /* 0. Video (a refusal is printed; the kernel then gets no fields). */
    efi_video_prepare(&plan->mb, &video);
    if (video.has_fb)
        in.video = &video;

    /* 1. Memory of its own for everything the trampoline touches; the
     * info sized from the map as it is now, with a page to spare for
     * what the allocations below change in it. */
    if (!(nmap = efi_e820(map, EFI_MAP_MAX, NULL, s->msg, sizeof(s->msg))))
        return session_error(s, -PE_NORAM, "%s", s->msg);
    in.map = map;
    in.nmap = nmap;
    size_t size = mbi_size(&in);
    if (size == SIZE_MAX)
        return session_error(s, -PE_NOMEM, "the multiboot information does "
                             "not fit");
    if ((rc = efi_handoff_alloc(s, size / PAGE + 2, &h)) != 0)
        return rc;

    /* 2. The info, from the map as the kernel will see it. */
    if (!(nmap = efi_e820(map, EFI_MAP_MAX, NULL, s->msg, sizeof(s->msg))))
        return session_error(s, -PE_NORAM, "%s", s->msg);
    place_mem_info(map, nmap, &in.mem_lower, &in.mem_upper);
    in.nmap = nmap;
    if ((rc = mbi_build(&in, h.info, (uint32_t)(uintptr_t)h.info, h.info_len,
                        &info_phys)) != 0)
        return session_error(s, rc, "cannot build the multiboot information "
                             "(%u bytes)", (unsigned)mbi_size(&in));

    /* 3. The block and the checked move list. */
    h.ho->entry = plan->entry;
    h.ho->info = info_phys;
    if ((rc = efi_handoff_moves(s, &h)) != 0)
        return rc;
    printf("pulsar: starting %s at %08x, multiboot info at %08x "
           "(%u ranges to move after ExitBootServices)\n", s->item->path,
           plan->entry, info_phys, h.ho->nmoves);

    /* 4. Leave the firmware.  No printing from here on: ConOut is gone. */
    if ((rc = efi_handoff_exit(s)) != 0)
        return rc;
    /* 5. Off to the trampoline; it never returns. */
    efi_handoff_jump(&h);
}
