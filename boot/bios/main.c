/*
 * Pulsar's BIOS boot flow, top to bottom:
 *   find PXE, then one boot attempt after another until one starts a
 *   kernel.  An attempt: read the DHCP facts the ROM cached -> read the
 *   memory map and build the placer (RAM less Pulsar, the BIOS and the
 *   PXE stack) -> run the boot session (loader/session.c: config lookup,
 *   parsing, every file fetched and placed, every message about it) ->
 *   carry out the plan it ends in: `chld` starts the other boot program
 *   at 0:7C00 with PXE alive; a multiboot kernel gets its info built, PXE
 *   shut down and is jumped to; a Linux bzImage is entered in real mode.
 * A failed attempt says why, waits (a key skips the wait) and the next one
 * starts from scratch: fresh heap, placer and config (loader/retry.h has
 * the policy).  This file is the BIOS face: it gives the session its
 * file source (boot/bios/source_bios.c), guest memory (identity-mapped), the
 * console's progress line and the BIOS clock; pulsar-check gives the
 * same session a directory instead, so both say the same thing.
 */
#include "boot/bios/bios.h"
#include "boot/bios/callbench.h"
#include "boot/bios/chain.h"
#include "boot/bios/io.h"
#include "boot/bios/nic.h"
#include "boot/bios/pxe.h"
#include "boot/bios/realmode.h"
#include "boot/bios/source_bios.h"
#include "boot/bios/http_pxe.h"
#include "boot/bios/tftp_pxe.h"
#include "boot/bios/video.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "loader/plan.h"
#include "loader/retry.h"
#include "loader/session.h"
#include "mb/fwtables.h"
#include "mb/mb2info.h"
#include "mb/mbinfo.h"
#include "net/dhcp.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PULSAR_VERSION "0.1"
#define LOADER_NAME "Pulsar " PULSAR_VERSION
/** Pulsar's heap must have at least this much room. */
#define HEAP_MIN (64u * 1024)

/** Found once: the PXE API and the low memory left for the heap. */
static struct pxe_api pxe;
static uint32_t heap_start, heap_end;

/** Guest memory is identity-mapped in the NBP's flat 32-bit mode. */
static void *guest_identity(uint32_t dest, size_t n)
{
    (void)n;
    return (void *)dest;
}

/** What the BIOS face gives the boot session. */
static const struct session_face bios_face = {
    .prog = "pulsar",
    .sleep_ms = bios_sleep_ms,
    .guest = guest_identity,
    .progress_start = console_progress_start,
    .progress = console_progress,
    .progress_end = console_progress_end,
    .progress_abort = console_progress_abort,
};

/** Everything one boot attempt knows; zeroed when an attempt starts. */
struct boot {
    struct session_face face;
    struct session s;
    struct e820_entry map[E820_MAX];
    unsigned nmap;
    uint8_t *ack;     /* the DHCP ACK as PXE cached it (Multiboot2 tag 16) */
    uint32_t ack_len;
};

static struct boot boot;

/** Report an error no retry can cure (no PXE, no memory) and stop. */
static void __attribute__((noreturn)) halt(const char *fmt, ...)
{
    va_list ap;

    console_progress_abort();
    printf("pulsar: error: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\npulsar: halted\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ------------------------------------------------------------ the heap */

/** Find the low memory between .bss and the PXE stack for malloc, less
 *  the 64 KiB kept for a Linux setup (plan_heap_end). */
static void heap_find(void)
{
    heap_start = ((uint32_t)__bss_end + 15) & ~15u;
    heap_end = bios_base_memory();
    for (unsigned i = 0; i < pxe.nregion; i++)
        if (pxe.region[i].start >= heap_start &&
            pxe.region[i].start < heap_end)
            heap_end = pxe.region[i].start;
    if (heap_end < heap_start + HEAP_MIN + LINUX_LOW_SIZE)
        halt("only %u bytes of base memory free for Pulsar's heap",
             heap_end > heap_start ? heap_end - heap_start : 0);
    DBG("heap", "%08x-%08x\n", heap_start, plan_heap_end(heap_end));
}

/* ------------------------------------------------------ the DHCP facts */

/**
 * Read the DHCP ACK the ROM cached (packet type 2) and the PXE reply
 * (type 3: a proxyDHCP offer or the boot server's ACK), merge them and
 * check the result into s->dhcp (net/dhcp.h).  Without a usable type 3
 * (an old ROM, a failing call, a broken packet) the ACK alone counts.
 */
static int read_dhcp(struct session *s)
{
    const uint8_t *pkt, *reply = NULL;
    uint8_t *ack;
    size_t len, ack_len, reply_len = 0;
    char note[160];
    int rc;

    if ((rc = pxe_cached_packet(PXENV_PACKET_TYPE_DHCP_ACK, &pkt, &len)) != 0)
        return session_error(s, rc, "PXE GET_CACHED_INFO failed (%s)",
                             pxe_status_str(pxe_last_status));
    /* Both packets land in the one bounce buffer: keep the ACK apart. */
    if (!(ack = malloc(len ? len : 1)))
        return session_error(s, -PE_NOMEM, "out of memory for the DHCP "
                             "reply (%u bytes)", (unsigned)len);
    memcpy(ack, pkt, len);
    ack_len = len;
    if (pxe_cached_packet(PXENV_PACKET_TYPE_CACHED_REPLY, &reply,
                          &reply_len) != 0) {
        DBG("dhcp", "no PXE reply (GET_CACHED_INFO 3: %s)\n",
            pxe_status_str(pxe_last_status));
        reply = NULL;
        reply_len = 0;
    }
    rc = dhcp_validate_pxe(ack, ack_len, reply, reply_len, &s->dhcp, s->msg,
                           sizeof(s->msg), note, sizeof(note));
    boot.ack = ack; /* kept for a Multiboot2 kernel's network tag */
    boot.ack_len = (uint32_t)ack_len;
    if (note[0])
        printf("pulsar: warning: %s\n", note);
    if (rc != 0)
        return session_error(s, rc, "%s", s->msg);
    dhcp_describe_reply(&s->dhcp, note, sizeof(note));
    if (note[0])
        printf("pulsar: from the PXE reply (proxyDHCP or boot server): "
               "%s\n", note);
    nic_config(&s->dhcp);
    return 0;
}

/* ------------------------------------------------------------ placement */

/** Build the placer: E820 RAM minus Pulsar, the BIOS and the PXE stack. */
static int placer_setup(struct session *s)
{
    int rc;

    if ((rc = plan_placer_init(&s->placer, boot.map, boot.nmap,
                               s->low_end)) != 0)
        return session_error(s, rc, "the BIOS memory map shows no usable "
                             "RAM (%s)", pulsar_strerror(rc));
    for (unsigned i = 0; i < pxe.nregion; i++)
        if ((rc = place_reserve(&s->placer, pxe.region[i].start,
                                pxe.region[i].end, pxe.region[i].what)) != 0)
            return session_error(s, rc, "out of memory for the placer");
    return 0;
}

/* ------------------------------------------------------------ hand-offs */

/** Enter the Linux kernel the session loaded (setup header filled). */
static void __attribute__((noreturn)) handoff_linux(struct session *s)
{
    const struct linux_plan *lp = &s->lx;

    printf("pulsar: starting %s (Linux boot protocol %u.%02u) at %04x:0000, "
           "initrd %u bytes at %08x\n", s->item->path, lp->hdr.version >> 8,
           lp->hdr.version & 0xFF, lp->setup_addr >> 4, lp->initrd_size,
           lp->initrd_addr);
    if (pxe_shutdown() != 0)
        printf("pulsar: warning: PXE shutdown: %s\n",
               pxe_status_str(pxe_last_status));
    boot_linux(lp->setup_addr, LINUX_HEAP_END);
}

/**
 * Shut PXE down and re-read the E820 map into boot.map, with the memory
 * info from it.  iPXE hides its own memory from E820 while it is loaded;
 * with the stack unloaded the BIOS map is whole again, and that is what
 * the kernel needs.  Everything was placed against the smaller map.
 */
static void leave_pxe(uint32_t *mem_lower, uint32_t *mem_upper)
{
    if (pxe_shutdown() != 0)
        printf("pulsar: warning: PXE shutdown: %s\n",
               pxe_status_str(pxe_last_status));
    boot.nmap = bios_e820(boot.map, E820_MAX);
    place_mem_info(boot.map, boot.nmap, mem_lower, mem_upper);
}

/**
 * Build the multiboot information for the kernel the session loaded,
 * shut PXE down and jump.  Returns only when the info does not fit in
 * Pulsar's heap (the network is still there: the attempt can be retried).
 */
static int handoff_multiboot(struct session *s)
{
    const struct image_plan *plan = &s->kernel->plan;
    static struct mbi_video video;
    struct mbi_input in;

    memset(&in, 0, sizeof(in));
    if (plan->has_syms) {
        in.has_syms = true;
        in.syms[0] = plan->syms.num;
        in.syms[1] = plan->syms.size;
        in.syms[2] = s->syms_table;
        in.syms[3] = plan->syms.shndx;
    }
    uint16_t mode = video_prepare(&plan->mb, &video);
    in.video = &video;
    in.config_table = bios_config_table();
    in.cmdline = s->item->cmdline;
    in.mods = s->mods;
    in.nmods = s->nmods;
    in.loader_name = LOADER_NAME;
    in.map = boot.map; /* the map as placed against, for now... */
    in.nmap = boot.nmap;
    in.map_room = E820_MAX; /* ...with room for the one re-read below */
    size_t size = mbi_size(&in);
    void *info = malloc(size); /* in Pulsar's reserved low memory */
    if (!info)
        return session_error(s, -PE_NOMEM, "out of memory for the multiboot "
                             "information (%u bytes)", (unsigned)size);
    printf("pulsar: starting %s at %08x, multiboot info at %08x\n",
           s->item->path, plan->entry, (uint32_t)info);
    leave_pxe(&in.mem_lower, &in.mem_upper);
    in.map = boot.map;
    in.nmap = boot.nmap;
    in.map_room = 0; /* the info lists the map as it is now */
    if (mode)
        video_set(mode, &video); /* no printing after this on success */
    uint32_t info_phys;
    /* PXE is gone: no way back to the network, so no retry from here. */
    if (mbi_build(&in, info, (uint32_t)info, size, &info_phys) != 0)
        halt("cannot build the multiboot information (%u bytes)",
             (unsigned)size);
    boot_multiboot(plan->entry, info_phys, MB_BOOT_MAGIC);
}

/** The ACPI RSDP and SMBIOS entry point from the BIOS areas, for
 *  Multiboot2 tags 13-15 (copied as they are; nothing is written). */
static void bios_fw_tables(struct mb2i_input *in)
{
    /* The EBDA's segment is in the BIOS data area at 40:0E. */
    const uint8_t *ebda = (const uint8_t *)((uint32_t)peek16(0x40E) << 4);
    const uint8_t *rom = (const uint8_t *)0xE0000, *area = NULL;
    struct fw_table t;

    if (ebda >= (const uint8_t *)0x80000 && ebda < rom &&
        fw_find_rsdp(ebda, 1024, &t) == 0)
        area = ebda;
    else if (fw_find_rsdp(rom, 0x20000, &t) == 0)
        area = rom;
    if (area)
        mb2i_set_rsdp(in, area, &t);
    rom = (const uint8_t *)0xF0000;
    if (fw_find_smbios(rom, 0x10000, &t) == 0)
        mb2i_set_smbios(in, rom, &t);
}

/**
 * Build the Multiboot2 information in a range the placer hands out, shut
 * PXE down and jump.  Returns only when no room is left for the info.
 */
static int handoff_multiboot2(struct session *s)
{
    const struct image_plan *plan = &s->kernel->plan;
    static const char mbi_owner[] = "multiboot2 information";
    static struct mbi_video video;
    struct mb2i_input in;
    uint64_t at;
    uint8_t *info;
    size_t size;

    memset(&in, 0, sizeof(in));
    uint16_t mode = video_prepare(&plan->mb, &video);
    in.video = &video;
    in.cmdline = s->item->cmdline;
    in.loader_name = LOADER_NAME;
    in.mods = s->mods;
    in.nmods = s->nmods;
    if (plan->has_syms) {
        in.shdrs.data = (const uint8_t *)s->syms_table; /* placed, fixed */
        in.shdrs.len = plan->syms.num * plan->syms.size;
        in.sh_num = plan->syms.num;
        in.sh_entsize = plan->syms.size;
        in.sh_shndx = plan->syms.shndx;
    }
    in.has_load_base = plan->relocated;
    in.load_base = plan->load_base;
    in.dhcp_ack.data = boot.ack;
    in.dhcp_ack.len = boot.ack_len;
    bios_fw_tables(&in);
    in.map = boot.map;
    in.nmap = boot.nmap;
    in.map_room = E820_MAX; /* room for the re-read below */
    size = mb2i_size(&in);
    s->placer.owner = mbi_owner;
    if (size == SIZE_MAX ||
        place_find(&s->placer, size, 8, 0x100000, 1ull << 32, &at) != 0 ||
        place_claim(&s->placer, at, size, mbi_owner, NULL) != 0 ||
        !(info = session_guest_ptr(s, mbi_owner, (uint32_t)at, size)))
        return session_error(s, -PE_NORAM, "no room for the multiboot2 "
                             "information (%u bytes)", (unsigned)size);
    printf("pulsar: starting %s at %08x, multiboot2 info at %08x\n",
           s->item->path, plan->entry, (uint32_t)at);
    leave_pxe(&in.mem_lower, &in.mem_upper);
    in.nmap = boot.nmap;
    in.map_room = 0;
    if (mode)
        video_set(mode, &video); /* no printing after this on success */
    if (mb2i_build(&in, info, (uint32_t)at, size) != 0)
        halt("cannot build the multiboot2 information (%u bytes)",
             (unsigned)size);
    boot_multiboot(plan->entry, (uint32_t)at, MB2_BOOT_MAGIC);
}

/* ------------------------------------------------------- one boot attempt */

/**
 * Boot once: from the DHCP facts to the jump.  Returns only on failure,
 * with the reason printed; everything it allocated is on the heap that
 * the next attempt starts afresh.
 */
static int boot_attempt(void)
{
    struct session *s = &boot.s;
    int rc;

    memset(&boot, 0, sizeof(boot));
    heap_init((void *)heap_start, (void *)plan_heap_end(heap_end));
    boot.face = bios_face;
    boot.face.files = bios_file_source();
    boot.face.http = bios_http_source();
    s->face = &boot.face;
    s->low_end = heap_end;

    if ((rc = read_dhcp(s)) != 0)
        return rc;
    session_say_dhcp(s);

    boot.nmap = bios_e820(boot.map, E820_MAX);
    if ((rc = placer_setup(s)) != 0)
        return rc;
    if ((rc = session_run(s)) != 0)
        return rc;
    nic_report();
    pxe_tftp_report();
    if (s->boot == SESSION_BOOT_CHLD)
        chain_start((uint32_t)s->chld_staged, s->chld_size, s->low_end);
    if (s->format->handoff == HANDOFF_LINUX)
        handoff_linux(s);
    if (s->format->handoff == HANDOFF_MULTIBOOT2)
        return handoff_multiboot2(s);
    return handoff_multiboot(s);
}

/** The C entry point, called by boot/bios/entry.asm in 32-bit mode. */
void pulsar_main(void)
{
    console_init();
    printf("Pulsar " PULSAR_VERSION ": multiboot PXE loader\n");

    if (pxe_find(&pxe) != 0)
        halt("no PXE API found (!PXE, PXENV+ and INT 1Ah all failed)");
    printf("pulsar: PXE API via %s at %04x:%04x\n", pxe.how,
           pxe.entry >> 16, pxe.entry & 0xFFFF);
    heap_find();
#ifdef PULSAR_CALL_BENCH
    call_bench(); /* scripts/callbench's build only */
#endif

    retry_boot_loop(boot_attempt, bios_wait_key);
    halt("a boot attempt ended without an error"); /* never reached */
}
