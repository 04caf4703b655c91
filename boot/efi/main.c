/*
 * Pulsar's UEFI boot flow, top to bottom (the BIOS one is boot/bios/main.c,
 * and the two say the same things):
 *   one boot attempt after another until one starts a kernel.  An attempt:
 *   the DHCP facts from the PXE Base Code on the device Pulsar came from
 *   (boot/efi/pxe.c) -> the placer from the EFI memory map, less Pulsar's
 *   image -> the boot session (loader/session.c: config lookup, parsing,
 *   every file fetched with Mtftp and staged, every message) -> the
 *   multiboot hand-off (boot/efi/handoff.c: info, ExitBootServices, the
 *   mover and the trampoline; boot/efi/mb2.c for Multiboot2, which may
 *   keep the boot services and enter in 64-bit mode), or for `chld` the other EFI program
 *   started from memory on the same NIC (boot/efi/chain.c).
 * A failed attempt says why, waits (a key skips the wait) and starts again
 * from scratch with a fresh heap and fresh staging; Pulsar never returns
 * to the firmware, which would only start the next boot option.
 */
#include "boot/efi/chain.h"
#include "boot/efi/uefi.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "loader/retry.h"
#include "loader/session.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PULSAR_VERSION "0.1"
#define LOADER_NAME "Pulsar " PULSAR_VERSION
/** Pulsar's heap: configs, the placer, the session's lists. */
#define HEAP_PAGES 1024u /* 4 MiB */

EFI_HANDLE efi_image;
EFI_SYSTEM_TABLE *efi_st;
EFI_BOOT_SERVICES *efi_bs;

static uint8_t *heap;

/** What the UEFI face gives the boot session. */
static const struct session_face efi_face = {
    .prog = "pulsar",
    .uefi = true,
    .sleep_ms = efi_sleep_ms,
    .guest = efi_guest,
    .progress_start = console_progress_start,
    .progress = console_progress,
    .progress_end = efi_progress_end,
    .progress_abort = console_progress_abort,
};

/** Everything one boot attempt knows; zeroed when an attempt starts. */
static struct boot {
    struct session_face face;
    struct session s;
    struct e820_entry map[EFI_MAP_MAX];
    unsigned nmap;
    struct e820_entry held[EFI_MAP_MAX]; /* what the firmware holds now */
} boot;

/** Report an error no retry can cure and stop (never back to firmware). */
static void __attribute__((noreturn)) halt(const char *fmt, ...)
{
    va_list ap;

    printf("pulsar: error: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\npulsar: halted\n");
    for (;;)
        efi_bs->Stall(1000000);
}

/** Boot once; returns only on failure, with the reason printed. */
static int boot_attempt(void)
{
    struct session *s = &boot.s;
    int rc;

    efi_stage_reset(&boot.s.placer); /* last attempt's pages back */
    memset(&boot, 0, sizeof(boot));
    heap_init(heap, heap + HEAP_PAGES * 4096u);
    boot.face = efi_face;
    boot.face.files = efi_pxe_source();
    boot.face.http = efi_http_source();
    s->face = &boot.face;

    if ((rc = efi_pxe_dhcp(&s->dhcp, s->msg, sizeof(s->msg))) != 0)
        return session_error(s, rc, "%s", s->msg);
    session_say_dhcp(s);

    if (!(boot.nmap = efi_e820(boot.map, EFI_MAP_MAX, NULL, s->msg,
                               sizeof(s->msg))))
        return session_error(s, -PE_NORAM, "%s", s->msg);
    boot.face.held = boot.held;
    boot.face.nheld = efi_held_last(boot.held, EFI_MAP_MAX);
    if ((rc = plan_efi_placer_init(&s->placer, boot.map, boot.nmap)) != 0)
        return session_error(s, rc, "the EFI memory map shows no usable "
                             "RAM (%s)", pulsar_strerror(rc));
    if ((rc = efi_reserve_own(&s->placer)) != 0)
        return session_error(s, rc, "cannot reserve Pulsar's image");

    if ((rc = session_run(s)) != 0)
        return rc;
    if (s->boot == SESSION_BOOT_CHLD)
        return efi_chain_start(s); /* returns when the program did */
    if (s->boot != SESSION_BOOT_KERNEL)
        return session_error(s, -PE_UNSUPP, "internal error: a boot plan "
                             "pulsar.efi cannot carry out");
    switch (s->format->handoff) {
    case HANDOFF_EFI_STUB:
        return efi_boot_linux_stub(s);
    case HANDOFF_LINUX:
        return efi_handoff_linux32(s);
    case HANDOFF_MULTIBOOT2:
        return efi_handoff_multiboot2(s, LOADER_NAME);
    case HANDOFF_MULTIBOOT:
    default:
        return efi_handoff_multiboot(s, LOADER_NAME);
    }
}

/** The entry point (gnu-efi's crt0 relocates the image, then calls it). */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    EFI_PHYSICAL_ADDRESS addr;
    EFI_STATUS status;

    efi_image = image;
    efi_st = st;
    efi_bs = st->BootServices;
    efi_console_init();
    printf("Pulsar " PULSAR_VERSION ": multiboot PXE loader (UEFI x86-64)\n");
    /* The firmware's 5-minute watchdog would reset a slow boot. */
    status = efi_bs->SetWatchdogTimer(0, 0, 0, NULL);
    if (EFI_ERROR(status))
        printf("pulsar: warning: SetWatchdogTimer(0): %s (the firmware may "
               "reset the machine after 5 minutes)\n",
               efi_status_str(status));

    status = efi_bs->AllocatePages(AllocateAnyPages, EfiLoaderData,
                                   HEAP_PAGES, &addr);
    if (EFI_ERROR(status))
        halt("AllocatePages(%u pages) for the heap: %s", HEAP_PAGES,
             efi_status_str(status));
    heap = (uint8_t *)(uintptr_t)addr;

    retry_boot_loop(boot_attempt, efi_wait_key);
    halt("a boot attempt ended without an error"); /* never reached */
}
