/*
 * Pulsar's boot flow, top to bottom:
 *   find PXE, then one boot attempt after another until one starts a
 *   kernel.  An attempt: read the DHCP facts -> find and fetch the config
 *   (lookup order in config/lookup.c) -> parse it -> [`chld`: stage the
 *   other boot program and start it at 0:7C00 with PXE alive] -> load the
 *   kernel (planned from its headers, streamed into place) -> load the
 *   modules -> build the multiboot info -> shut PXE down -> jump.  A
 *   Linux bzImage instead takes the `load`s as its initrd and is entered
 *   in real mode (boot_linux_kernel).
 * A failed attempt says why, waits (a key skips the wait) and the next one
 * starts from scratch: fresh heap, placer and config (loader/retry.h has
 * the policy; boot/bios/fetch.c retries each file from its first byte).
 * Every write into guest memory goes through the placer first; where files
 * go and every message about it come from loader/plan.c, which the offline
 * checker (tools/pulsar-check.c) shares.  Library code returns rc; only
 * this file decides what ends an attempt.
 */
#include "boot/bios/realmode.h"
#include "config/config.h"
#include "config/lookup.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "boot/bios/bios.h"
#include "boot/bios/callbench.h"
#include "boot/bios/chain.h"
#include "boot/bios/fetch.h"
#include "loader/image.h"
#include "loader/kload.h"
#include "loader/linux.h"
#include "loader/place.h"
#include "loader/plan.h"
#include "loader/retry.h"
#include "boot/bios/video.h"
#include "mb/mbinfo.h"
#include "net/dhcp.h"
#include "boot/bios/nic.h"
#include "boot/bios/pxe.h"
#include "net/tftp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PULSAR_VERSION "0.1"
#define LOADER_NAME "Pulsar " PULSAR_VERSION
/** Largest config file Pulsar reads (it must fit in Pulsar's heap). */
#define CONFIG_MAX (64u * 1024)
/** Pulsar's heap must have at least this much room. */
#define HEAP_MIN (64u * 1024)

/** Found once: the PXE API and the low memory left for the heap. */
static struct pxe_api pxe;
static uint32_t heap_start, heap_end;

/** Everything one boot attempt knows; zeroed when an attempt starts. */
struct boot {
    struct dhcp_facts dhcp;
    struct e820_entry map[E820_MAX];
    unsigned nmap;
    struct placer placer;
    uint32_t low_end; /* free base memory's end, PXE below it; Pulsar's
                         heap ends 64 KiB lower (plan_heap_end) */
    int is_linux;     /* the exec is a bzImage ... */
    struct linux_plan lx; /* ... planned here */
    struct cfg cfg;
    struct cfg_state st;
    struct cfg_lookup names;
    char cfgname[CFG_MAX_PATH + 1];
    char msg[PLAN_ERR_LEN];
};

static struct boot boot;

/** Print "pulsar: error: <message>" on its own line. */
static void print_error(const char *fmt, va_list ap)
{
    console_progress_abort(); /* end a progress line first */
    printf("pulsar: error: ");
    vprintf(fmt, ap);
    printf("\n");
}

/** Say why this boot attempt fails; returns @rc for the caller to return. */
static int fail(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(fmt, ap);
    va_end(ap);
    return rc < 0 ? rc : -PE_INVAL;
}

/** Report an error no retry can cure (no PXE, no memory) and stop. */
static void __attribute__((noreturn)) halt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(fmt, ap);
    va_end(ap);
    printf("pulsar: halted\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

/** An IPv4 address as text, in one of two rotating static buffers. */
static const char *ip_str(uint32_t ip)
{
    static char buf[2][16];
    static unsigned which;
    char *b = buf[which++ & 1];
    dhcp_format_ip(ip, b);
    return b;
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

/** Read the DHCP reply the ROM cached and check it into boot.dhcp. */
static int read_dhcp(void)
{
    struct {
        uint16_t status, packet_type, buffer_size;
        uint32_t buffer;
        uint16_t buffer_limit;
    } __attribute__((packed)) p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.packet_type = PXENV_PACKET_TYPE_DHCP_ACK;
    p.buffer_size = PXE_BOUNCE_SIZE;
    p.buffer = lin_to_segoff((uint32_t)pxe_bounce);
    if ((rc = pxe_call(PXENV_GET_CACHED_INFO, &p, sizeof(p))) != 0)
        return fail(rc, "PXE GET_CACHED_INFO failed (%s)",
                    pxe_status_str(pxe_last_status));
    size_t len = p.buffer_size < PXE_BOUNCE_SIZE ? p.buffer_size
                                                 : PXE_BOUNCE_SIZE;
    if ((rc = dhcp_validate(pxe_bounce, len, &boot.dhcp, boot.msg,
                            sizeof(boot.msg))) != 0)
        return fail(rc, "%s", boot.msg);
    nic_config(&boot.dhcp);
    return 0;
}

/* ------------------------------------------------------- fetching text */

/** Where a text file being fetched goes: a growing heap buffer. */
struct text_sink {
    char *buf;
    size_t size, cap;
};

/** TFTP sink that appends to a text_sink (a new try restarts at 0). */
static int text_sink(void *ctx, uint32_t off, const uint8_t *data, size_t len)
{
    struct text_sink *t = ctx;
    if (off + len + 1 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < off + len + 1)
            cap *= 2;
        char *n = realloc(t->buf, cap);
        if (!n)
            return -PE_NOMEM;
        t->buf = n;
        t->cap = cap;
    }
    memcpy(t->buf + off, data, len);
    t->size = off + len;
    return 0;
}

/** Fetch a config file: the fetch callback the parser uses for `conf`. */
static int fetch_text(void *ctx, const struct cfg_state *st, const char *path,
                      char **text, size_t *len, char *why)
{
    struct text_sink t = { 0, 0, 0 };
    struct fetch_failure ff;
    uint32_t got;
    int rc;

    (void)ctx;
    rc = fetch_file(st->server, path, 0, CONFIG_MAX, text_sink, &t, &got,
                    &ff);
    if (rc != 0) {
        free(t.buf);
        if (why)
            retry_describe(rc, &ff, why, CFG_ERR_LEN);
        return rc;
    }
    if (!t.buf && !(t.buf = malloc(1)))
        return -PE_NOMEM;
    t.buf[t.size] = '\0';
    *text = t.buf;
    *len = t.size;
    return 0;
}

/** Print one line of the config lookup. */
static void say(void *ctx, const char *line)
{
    (void)ctx;
    printf("pulsar: %s\n", line);
}

/** Find the config (config-<mac>, config-<IP>..., config-default or DHCP
 *  option 209), fetch it and parse it into boot.cfg. */
static int read_config(void)
{
    char *text;
    size_t len;
    int rc;

    cfg_lookup_names(&boot.names, boot.dhcp.mac, boot.dhcp.mac_len,
                     boot.dhcp.client_ip,
                     boot.dhcp.has_config ? boot.dhcp.config : NULL);
    if ((rc = cfg_lookup_fetch(&boot.names, &boot.st, fetch_text, NULL, say,
                               NULL, &text, &len, boot.cfgname,
                               boot.msg)) != 0)
        return fail(rc, "%s", boot.msg);
    rc = cfg_parse(&boot.cfg, &boot.st, boot.cfgname, text, len, fetch_text,
                   NULL, boot.msg);
    free(text);
    if (rc != 0)
        return fail(rc, "%s", boot.msg);
    return 0;
}

/* --------------------------------------------------------- guest memory */

/** Copy into guest memory (already claimed through the placer). */
static void guest_write(void *ctx, uint32_t dest, const void *src, size_t n)
{
    (void)ctx;
    memcpy((void *)dest, src, n);
}

/** Zero guest memory (already claimed through the placer). */
static void guest_zero(void *ctx, uint32_t dest, size_t n)
{
    (void)ctx;
    memset((void *)dest, 0, n);
}

/** Say why fetching @it failed: "file:line: verb: path: reason". */
static int fetch_failed(const struct cfg_item *it, int rc,
                        const struct fetch_failure *ff)
{
    char why[160];
    return fail(rc, "%s:%u: %s: %s: %s", it->src_file, it->src_line,
                plan_verb(it), it->path,
                retry_describe(rc, ff, why, sizeof(why)));
}

/** Size of @it's file from the server, or why not. */
static int file_size(const struct cfg_item *it, uint32_t *size)
{
    struct fetch_failure ff;
    int rc = fetch_size(it->server, it->path, size, &ff);
    return rc != 0 ? fetch_failed(it, rc, &ff) : 0;
}

/**
 * Fetch @it's @size bytes into @sink (retried as loader/retry.h says),
 * showing the progress line meanwhile; *@took: how long it took, as
 * "in 1.2 s, 51.3 MiB/s".
 */
static int file_fetch(const struct cfg_item *it, uint32_t size,
                      tftp_sink_fn sink, void *ctx, const char **took)
{
    struct fetch_failure ff;
    uint32_t got;
    console_progress_start(it->path, size);
    int rc = fetch_file(it->server, it->path, size, size, sink, ctx, &got,
                        &ff);
    if (rc != 0)
        return fetch_failed(it, rc, &ff);
    *took = console_progress_end(got);
    return 0;
}

/** Load the kernel named by the last exec; @plan: out; *@syms_table:
 * where its section header table went (when plan->has_syms). */
static int load_kernel(const struct cfg_item *it, struct image_plan **plan,
                       uint32_t *syms_table)
{
    static struct kernel_load k;
    struct fetch_failure ff;
    uint32_t size, got;
    int rc;

    if ((rc = file_size(it, &size)) != 0)
        return rc;
    kload_init(&k, &boot.placer, it, size, &boot.lx, guest_write,
               guest_zero, NULL);
    console_progress_start(it->path, size);
    rc = fetch_file(it->server, it->path, size, size, kload_sink, &k, &got,
                    &ff);
    if (rc == 0)
        rc = kload_finish(&k); /* a file shorter than the prefix */
    if (rc != 0 && k.msg[0]) /* the image itself was refused */
        return fail(rc, "%s", k.msg);
    if (rc != 0)
        return fetch_failed(it, rc, &ff);
    boot.is_linux = k.is_linux;
    plan_kernel_str(boot.msg, sizeof(boot.msg), it, got, &k.plan);
    printf("pulsar: %s, %s\n", boot.msg, console_progress_end(got));
    *syms_table = 0;
    if (k.plan.has_syms) {
        struct load_seg *cap = &k.plan.syms.cap;
        unsigned n = image_syms_fixup(&k.plan, (uint8_t *)cap->dest,
                                      syms_table);
        printf("pulsar: %s: %u section headers, %u sections loaded, at "
               "%08x-%08x\n", it->path, k.plan.syms.num, n, cap->dest,
               cap->dest + cap->filesz - 1);
    }
    *plan = &k.plan;
    return 0;
}

/** Where a module's bytes go. */
struct module_sink {
    uint32_t dest, size;
};

/** TFTP sink for a module: straight into its claimed range. */
static int module_sink(void *ctx, uint32_t off, const uint8_t *data,
                       size_t len)
{
    struct module_sink *m = ctx;
    if ((uint64_t)off + len > m->size)
        return -PE_RANGE;
    memcpy((void *)(m->dest + off), data, len);
    return 0;
}

/** Load every module in config order, after the kernel unless `addr`. */
static int load_modules(uint32_t after, struct mbi_module **out,
                        unsigned *count)
{
    struct mbi_module *mods = calloc(boot.cfg.nloads + 1, sizeof(*mods));
    struct plan_mods where;
    unsigned n = 0;
    int rc;

    if (!mods)
        return fail(-PE_NOMEM, "out of memory for %u modules",
                    boot.cfg.nloads);
    plan_mods_init(&where, after);
    for (const struct cfg_item *it = boot.cfg.items; it; it = it->next) {
        uint32_t size;
        uint64_t dest;

        if (it->kind != CFG_LOAD)
            continue;
        if ((rc = file_size(it, &size)) != 0)
            return rc;
        if ((rc = plan_module(&where, &boot.placer, it, size, &dest,
                              boot.msg, sizeof(boot.msg))) != 0)
            return fail(rc, "%s", boot.msg);
        struct module_sink m = { (uint32_t)dest, size };
        const char *took;
        if ((rc = file_fetch(it, size, module_sink, &m, &took)) != 0)
            return rc;
        plan_module_str(boot.msg, sizeof(boot.msg), it, size, dest);
        printf("pulsar: %s, %s\n", boot.msg, took);
        mods[n].start = (uint32_t)dest;
        mods[n].end = (uint32_t)(dest + size);
        mods[n].cmdline = it->cmdline;
        n++;
    }
    *out = mods;
    *count = n;
    return 0;
}

/** `chld`: fetch another PXE boot program and start it at 0:7C00 with the
 *  PXE stack alive.  The rest of the config is moot.  Returns only when
 *  that fails. */
static int chainload(const struct cfg_item *it)
{
    uint32_t size;
    uint64_t staged;
    int rc;

    if ((rc = file_size(it, &size)) != 0)
        return rc;
    if ((rc = plan_chld(it, size, boot.low_end, boot.msg,
                        sizeof(boot.msg))) != 0)
        return fail(rc, "%s", boot.msg);
    /* Real mode reaches the staging buffer through the BIOS copy service:
     * stay below 16 MiB, which every BIOS's INT 15h/87h can address. */
    if (place_find(&boot.placer, size + 1, PLAN_PAGE, 0x100000, 0x1000000,
                   &staged) != 0 ||
        place_claim(&boot.placer, staged, size + 1, "chld staging buffer",
                    NULL) != 0)
        return fail(-PE_NORAM, "%s:%u: chld: %s: no room below 16 MiB to "
                    "stage %u bytes", it->src_file, it->src_line, it->path,
                    size);
    struct module_sink m = { (uint32_t)staged, size };
    const char *took;
    if ((rc = file_fetch(it, size, module_sink, &m, &took)) != 0)
        return rc;
    /* The same words as pulsar-check's plan line (tests match on them). */
    printf("pulsar: %s: %s\npulsar: chainloading %s: %u bytes to 0000:7c00, "
           "PXE stack kept\n", it->path, took, it->path, size);
    chain_start((uint32_t)staged, size, boot.low_end);
}

/* ---------------------------------------------------------------- Linux */

/**
 * Load the config's `load`s as the Linux kernel's initrd: parts in config
 * order, concatenated 4-byte aligned (one part as it is), placed as high
 * as the kernel allows from the sizes the server announces, then fetched
 * straight into place.
 */
static int load_initrd(void)
{
    const struct cfg_item *it, *first = NULL;
    unsigned n = 0, i;
    uint32_t *size, *off, end = 0;
    int rc;

    if ((rc = plan_initrd_order(&boot.cfg, boot.msg, sizeof(boot.msg))) != 0)
        return fail(rc, "%s", boot.msg);
    if (!(size = calloc(2 * boot.cfg.nloads + 1, sizeof(*size))))
        return fail(-PE_NOMEM, "out of memory for %u initrd parts",
                    boot.cfg.nloads);
    off = size + boot.cfg.nloads;
    for (it = boot.cfg.items; it; it = it->next)
        if (it->kind == CFG_LOAD) {
            first = first ? first : it;
            if ((rc = file_size(it, &size[n++])) != 0)
                return rc;
        }
    if ((rc = plan_initrd(&boot.placer, &boot.lx, first, size, n, off,
                          boot.msg, sizeof(boot.msg))) != 0)
        return fail(rc, "%s", boot.msg);
    for (i = 0, it = first; i < n; it = it->next) {
        if (it->kind != CFG_LOAD)
            continue;
        memset((void *)(boot.lx.initrd_addr + end), 0, off[i] - end);
        struct module_sink m = { boot.lx.initrd_addr + off[i], size[i] };
        const char *took;
        if ((rc = file_fetch(it, size[i], module_sink, &m, &took)) != 0)
            return rc;
        plan_module_str(boot.msg, sizeof(boot.msg), it, size[i],
                        boot.lx.initrd_addr + off[i]);
        printf("pulsar: %s, %s\n", boot.msg, took);
        end = off[i] + size[i];
        i++;
    }
    free(size);
    return 0;
}

/** Load the initrd, fill in the setup header, shut PXE down, enter Linux.
 *  Returns only when loading the initrd failed. */
static int boot_linux_kernel(const struct cfg_item *exec)
{
    const struct linux_plan *lp = &boot.lx;
    int rc;

    if ((rc = load_initrd()) != 0)
        return rc;
    linux_finish((uint8_t *)lp->setup_addr, lp);
    printf("pulsar: starting %s (Linux boot protocol %u.%02u) at %04x:0000, "
           "initrd %u bytes at %08x\n", exec->path, lp->hdr.version >> 8,
           lp->hdr.version & 0xFF, lp->setup_addr >> 4, lp->initrd_size,
           lp->initrd_addr);
    if (pxe_shutdown() != 0)
        printf("pulsar: warning: PXE shutdown: %s\n",
               pxe_status_str(pxe_last_status));
    boot_linux(lp->setup_addr, LINUX_HEAP_END);
}

/* ------------------------------------------------------------ placement */

/** Build the placer: E820 RAM minus Pulsar, the BIOS and the PXE stack. */
static int placer_setup(void)
{
    int rc;

    if ((rc = plan_placer_init(&boot.placer, boot.map, boot.nmap,
                               boot.low_end)) != 0)
        return fail(rc, "the BIOS memory map shows no usable RAM (%s)",
                    pulsar_strerror(rc));
    for (unsigned i = 0; i < pxe.nregion; i++)
        if ((rc = place_reserve(&boot.placer, pxe.region[i].start,
                                pxe.region[i].end, pxe.region[i].what)) != 0)
            return fail(rc, "out of memory for the placer");
    return 0;
}

/* ------------------------------------------------------- one boot attempt */

/**
 * Boot once: from the DHCP facts to the jump.  Returns only on failure,
 * with the reason printed; everything it allocated is on the heap that
 * the next attempt starts afresh.
 */
static int boot_attempt(void)
{
    char mac[48];
    int rc;

    memset(&boot, 0, sizeof(boot));
    heap_init((void *)heap_start, (void *)plan_heap_end(heap_end));
    boot.low_end = heap_end;

    if ((rc = read_dhcp()) != 0)
        return rc;
    dhcp_format_mac(boot.dhcp.mac, boot.dhcp.mac_len, ':', mac);
    printf("pulsar: mac %s ip %s tftp %s root-path '%s'\n", mac,
           ip_str(boot.dhcp.client_ip), ip_str(boot.dhcp.server_ip),
           boot.dhcp.has_root ? boot.dhcp.root : "");
    cfg_state_init(&boot.st, boot.dhcp.has_root ? boot.dhcp.root : NULL,
                   boot.dhcp.server_ip);

    boot.nmap = bios_e820(boot.map, E820_MAX);
    if ((rc = placer_setup()) != 0)
        return rc;

    if ((rc = read_config()) != 0)
        return rc;
    if (boot.cfg.chld)
        return chainload(boot.cfg.chld);
    if (!boot.cfg.exec) {
        plan_no_exec(boot.msg, sizeof(boot.msg), boot.cfgname);
        return fail(-PE_NOKERNEL, "%s", boot.msg);
    }

    const struct cfg_item *exec = boot.cfg.exec;
    struct mbi_input in;
    memset(&in, 0, sizeof(in));
    struct image_plan *plan;
    if ((rc = load_kernel(exec, &plan, &in.syms[2])) != 0)
        return rc;
    if (boot.is_linux)
        return boot_linux_kernel(exec);
    uint32_t kernel_end = plan->highest;
    if (plan->has_syms) {
        in.has_syms = true;
        in.syms[0] = plan->syms.num;
        in.syms[1] = plan->syms.size;
        in.syms[3] = plan->syms.shndx;
        kernel_end = plan->syms.cap.dest + plan->syms.cap.filesz;
    }
    unsigned nmods = 0;
    struct mbi_module *mods = NULL;
    if ((rc = load_modules(kernel_end, &mods, &nmods)) != 0)
        return rc;

    static struct mbi_video video;
    uint16_t mode = video_prepare(&plan->mb, &video);
    in.video = &video;
    in.config_table = bios_config_table();
    in.cmdline = exec->cmdline;
    in.mods = mods;
    in.nmods = nmods;
    in.loader_name = LOADER_NAME;
    in.nmap = E820_MAX; /* room for the map re-read below */
    size_t size = mbi_size(&in);
    void *info = malloc(size); /* in Pulsar's reserved low memory */
    if (!info)
        return fail(-PE_NOMEM, "out of memory for the multiboot "
                    "information (%u bytes)", (unsigned)size);
    printf("pulsar: starting %s at %08x, multiboot info at %08x\n",
           exec->path, plan->entry, (uint32_t)info);
    if ((rc = pxe_shutdown()) != 0)
        printf("pulsar: warning: PXE shutdown: %s\n",
               pxe_status_str(pxe_last_status));

    /* iPXE hides its own memory from E820 while it is loaded; with the
     * stack unloaded the BIOS map is whole again, and that is what the
     * kernel needs.  Everything was placed against the smaller map. */
    boot.nmap = bios_e820(boot.map, E820_MAX);
    place_mem_info(boot.map, boot.nmap, &in.mem_lower, &in.mem_upper);
    in.map = boot.map;
    in.nmap = boot.nmap;
    if (mode)
        video_set(mode, &video); /* no printing after this on success */
    uint32_t info_phys;
    /* PXE is gone: no way back to the network, so no retry from here. */
    if (mbi_build(&in, info, (uint32_t)info, size, &info_phys) != 0)
        halt("cannot build the multiboot information (%u bytes)",
             (unsigned)size);
    boot_multiboot(plan->entry, info_phys);
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

    for (unsigned failed = 1;; failed++) {
        boot_attempt(); /* returns only when this attempt failed */
        unsigned secs = retry_boot_wait_s(failed);
        printf("pulsar: boot failed (attempt %u); starting over in %u s "
               "(press a key or send a byte on COM1 to start now)\n",
               failed, secs);
        if (bios_wait_key(secs * 1000))
            printf("pulsar: key pressed\n");
        printf("pulsar: starting over (attempt %u)\n", failed + 1);
    }
}
