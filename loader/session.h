/*
 * One boot session: every decision between the DHCP facts and the
 * hand-off, and every message about it.  The BIOS NBP (boot/bios/main.c),
 * the UEFI build, pulsar-check (tools/pulsar-check.c) and the unit tests
 * all run this code; they differ only in the face they give it: where
 * files come from (loader/source.h), how guest memory is reached, how
 * long to wait between tries, how progress shows.  So Pulsar and
 * pulsar-check say the same thing by construction.
 *
 * The session: find the config (config-<mac>, config-<IP>...,
 * config-default, or DHCP option 209) -> parse it -> `chld`: plan and
 * stage the other boot program; or `exec`: fetch the kernel, planned from
 * its first bytes by the format table (loader/format.h) and streamed into
 * place -> its `load`s, as multiboot modules or as a Linux initrd -> a
 * boot plan the face carries out (struct session's outputs).
 *
 * Checking (face->check, pulsar-check): files are sized, kernels read for
 * their headers, nothing is written; after an error the session goes on
 * to find more (placement stops, since what follows would move).  Booting:
 * the first error ends the session with its message printed.  Pure C.
 */
#ifndef PULSAR_SESSION_H
#define PULSAR_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/config.h"
#include "config/lookup.h"
#include "loader/format.h"
#include "loader/image.h"
#include "loader/gzsink.h"
#include "loader/kload.h"
#include "loader/linux.h"
#include "loader/place.h"
#include "loader/plan.h"
#include "loader/retry.h"
#include "loader/source.h"
#include "mb/mbinfo.h"
#include "net/dhcp.h"

/** Largest config file Pulsar reads (it must fit in the NBP's heap). */
#define SESSION_CONFIG_MAX (64u * 1024)

/** What a firmware face (or the checker, or a test) gives the session. */
struct session_face {
    const char *prog;                /* message prefix: "pulsar" */
    const struct file_source *files; /* where files come from (TFTP) */
    /** Where files named by http:// or https:// URL come from (NULL:
     *  this face has no HTTP client; such a file is refused, saying so). */
    const struct file_source *http;
    bool check;                      /* plan only, go on after errors */
    /** UEFI (pulsar.efi, pulsar-check --firmware efi): `chld` is refused,
     *  a bzImage with an EFI stub is planned for it (the format table's
     *  UEFI-only row), each Linux kernel's path said, the same words on
     *  both. */
    bool uefi;
    /** UEFI: the RAM the firmware holds while its boot services run (its
     *  and Pulsar's code and data), which a Multiboot2 kernel that keeps
     *  them is placed clear of (loader/kload.h).  0: none known. */
    const struct e820_entry *held;
    unsigned nheld;
    /** Wait between two tries of a transfer (NULL: no wait). */
    void (*sleep_ms)(unsigned ms);
    /**
     * Guest memory at physical @dest for @n bytes, as a pointer the
     * session may write through (NULL: nothing is written, as when
     * checking).  Only the session's guest writer calls it, after the
     * placer confirmed the range belongs to the file being written.
     */
    void *(*guest)(uint32_t dest, size_t n);
    /** The progress line of a transfer (each may be NULL). */
    void (*progress_start)(const char *name, uint32_t total);
    void (*progress)(uint32_t done);
    /** Ends the line; returns "in 1.2 s, 51.3 MiB/s" for the file's line. */
    const char *(*progress_end)(uint32_t done);
    void (*progress_abort)(void);
};

/** What the session ends in: what the face is to start. */
enum session_boot {
    SESSION_BOOT_NONE,   /* nothing (an error, or checking) */
    SESSION_BOOT_CHLD,   /* another PXE boot program, staged */
    SESSION_BOOT_KERNEL, /* a kernel of s->format, with its files */
};

/** One boot session. */
struct session {
    /* In: set by the face before session_run. */
    const struct session_face *face;
    struct dhcp_facts dhcp;  /* mac, client and server IP, 17, 209, 210 */
    struct placer placer;    /* the memory map less the face's own */
    uint32_t low_end;        /* free base memory's end (chld limit) */

    /* Working state. */
    struct cfg cfg;
    struct cfg_state st;
    struct cfg_lookup names;
    char cfgname[CFG_MAX_PATH + 1];
    char msg[PLAN_ERR_LEN];
    char error[PLAN_ERR_LEN]; /* the last error reported, as printed */
    bool placing;            /* false after the first error (checking) */
    unsigned errors;         /* errors reported */
    unsigned unchecked;      /* files that could not be checked */
    uint32_t packed;         /* the gzip size of the file being said */

    /* Out: the boot plan. */
    enum session_boot boot;
    const struct cfg_item *item;          /* the exec or the chld */
    const struct kernel_format *format;   /* the kernel's row */
    struct kernel_load *kernel;           /* its plan (kernel->plan) */
    struct linux_plan lx;                 /* a bzImage's plan */
    uint32_t kernel_end;                  /* where modules may start */
    uint32_t syms_table;                  /* section headers' address */
    struct mbi_module *mods;              /* the modules, in order */
    unsigned nmods;
    uint64_t chld_staged;                 /* where the chld file is */
    uint32_t chld_size;
};

/**
 * Run the session from the DHCP facts to a boot plan.  Returns 0 with
 * s->boot set, or the first error's rc with its message printed (when
 * checking: 0, errors counted in s->errors).  Everything it allocates is
 * on the heap (the NBP starts a new attempt with a fresh heap).
 */
int session_run(struct session *s);

/** Print "<prog>: mac M ip I tftp T root-path 'R'" from s->dhcp. */
void session_say_dhcp(struct session *s);

/**
 * Ask @server for @path's size, retried as loader/retry.h says (once when
 * checking).  Returns 0 or the last try's rc, @ff saying what happened.
 */
int session_size(struct session *s, uint32_t server, const char *path,
                 uint32_t *size, struct fetch_failure *ff);

/**
 * Fetch @path from @server into @inner through the face's file source,
 * retried from its first byte as loader/retry.h says, each try's failure
 * reported ("path: why; try N of M in S s") before the wait.  @sized: the
 * size the source announces binds the file (it must come before any
 * data; progress shows); else the file may have up to @max bytes.  An
 * error the consumer returns is not retried.  @got: out: bytes of the
 * last try.  Returns 0 or the rc, @ff saying what happened.
 */
int session_fetch(struct session *s, uint32_t server, const char *path,
                  bool sized, uint32_t max, const struct file_sink *inner,
                  uint32_t *got, struct fetch_failure *ff);

/**
 * Print "<prog>: error: <message>" (after ending a progress line) and
 * count it; returns @rc (or -PE_INVAL when @rc is not an error).
 */
int session_error(struct session *s, int rc, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));

/**
 * Write @n bytes of @src into guest memory at @dest on behalf of @owner
 * (the cfg_item whose claims must hold the range).  A write outside the
 * owner's claims is refused with -PE_RANGE and never happens.
 */
int session_guest_write(struct session *s, const void *owner, uint32_t dest,
                        const void *src, size_t n);

/** Zero guest memory, checked as session_guest_write. */
int session_guest_zero(struct session *s, const void *owner, uint32_t dest,
                       size_t n);

/**
 * A pointer to @n bytes of guest memory at @dest that belong to @owner,
 * or NULL (not owned, or the face writes nothing).
 */
void *session_guest_ptr(struct session *s, const void *owner, uint32_t dest,
                        size_t n);
#endif
