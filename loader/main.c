/*
 * Pulsar's boot flow, top to bottom:
 *   find PXE -> read the DHCP facts -> find and fetch the config (lookup
 *   order in config/lookup.c) -> parse it -> [`chld`: stage the other boot
 *   program and start it at 0:7C00 with PXE alive] -> load the kernel
 *   (planned from its headers, streamed into place) -> load the modules ->
 *   build the multiboot info -> shut PXE down -> jump.  A Linux bzImage
 *   instead takes the `load`s as its initrd and is entered in real mode
 *   (boot_linux_kernel).
 * Every write into guest memory goes through the placer first; where files
 * go and every message about it come from loader/plan.c, which the offline
 * checker (tools/pulsar-check.c) shares.  Library code returns rc; only
 * this file decides what is fatal.
 */
#include "boot/realmode.h"
#include "config/config.h"
#include "config/lookup.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "loader/bios.h"
#include "loader/chain.h"
#include "loader/image.h"
#include "loader/linux.h"
#include "loader/place.h"
#include "loader/plan.h"
#include "loader/video.h"
#include "mb/mbinfo.h"
#include "net/dhcp.h"
#include "net/pxe.h"
#include "net/tftp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PULSAR_VERSION "0.1"
#define LOADER_NAME "Pulsar " PULSAR_VERSION
/** Largest config file Pulsar reads. */
#define CONFIG_MAX (1u << 20)

/** Everything one boot attempt knows. */
struct boot {
    struct pxe_api pxe;
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

/** Report a fatal error and stop.  (Issue 8 will retry instead.) */
static void __attribute__((noreturn)) fatal(const char *fmt, ...)
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

/** An IPv4 address as text, in one of two rotating static buffers. */
static const char *ip_str(uint32_t ip)
{
    static char buf[2][16];
    static unsigned which;
    char *b = buf[which++ & 1];
    dhcp_format_ip(ip, b);
    return b;
}

/** Why a TFTP transfer failed, for a person: the PXE status when known. */
static const char *tftp_why(int rc)
{
    if (rc == -PE_NOENT)
        return "not found";
    if (rc == -PE_NOPXE)
        return pxe_status_str(pxe_last_status);
    return pulsar_strerror(rc);
}

/* ------------------------------------------------------------ the heap */

/** Give malloc the low memory between .bss and the PXE stack, less the
 *  64 KiB kept for a Linux setup (plan_heap_end). */
static void heap_setup(const struct pxe_api *pxe)
{
    uint32_t start = ((uint32_t)__bss_end + 15) & ~15u;
    uint32_t end = bios_base_memory();
    for (unsigned i = 0; i < pxe->nregion; i++)
        if (pxe->region[i].start >= start && pxe->region[i].start < end)
            end = pxe->region[i].start;
    if (end < start + 64 * 1024 + LINUX_LOW_SIZE)
        fatal("only %u bytes of base memory free for Pulsar's heap",
              end > start ? end - start : 0);
    heap_init((void *)start, (void *)plan_heap_end(end));
    boot.low_end = end;
    DBG("heap", "%08x-%08x\n", start, plan_heap_end(end));
}

/* ------------------------------------------------------ the DHCP facts */

/** Read the DHCP reply the ROM cached and parse it into boot.dhcp. */
static void read_dhcp(void)
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
        fatal("PXE GET_CACHED_INFO failed (%s)",
              pxe_status_str(pxe_last_status));
    size_t len = p.buffer_size < PXE_BOUNCE_SIZE ? p.buffer_size
                                                 : PXE_BOUNCE_SIZE;
    if ((rc = dhcp_parse(pxe_bounce, len, &boot.dhcp)) != 0)
        fatal("the cached DHCP reply is malformed (%u bytes)",
              (unsigned)len);
    if (!boot.dhcp.server_ip)
        fatal("the DHCP reply names no TFTP server (next-server / siaddr "
              "is 0.0.0.0)");
}

/* ------------------------------------------------------- fetching text */

/** Where a text file being fetched goes: a growing heap buffer. */
struct text_sink {
    char *buf;
    size_t size, cap;
};

/** TFTP sink that appends to a text_sink. */
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
    uint32_t got;
    int rc;

    (void)ctx;
    rc = tftp_fetch(st->server, path, CONFIG_MAX, text_sink, &t, &got, NULL);
    if (rc != 0) {
        free(t.buf);
        if (why)
            plan_fetch_why(why, CFG_ERR_LEN, rc, st->server, tftp_why(rc));
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
static void read_config(void)
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
        fatal("%s", boot.msg);
    rc = cfg_parse(&boot.cfg, &boot.st, boot.cfgname, text, len, fetch_text,
                   NULL, boot.msg);
    free(text);
    if (rc != 0)
        fatal("%s", boot.msg);
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

/** Place the prefix-planned kernel, fed by tftp_fetch. */
struct kernel_sink {
    const struct cfg_item *it;
    uint32_t size; /* from tsize */
    uint8_t prefix[IMAGE_PREFIX];
    uint32_t have; /* prefix bytes buffered */
    int planned;
    struct image_plan plan;
    uint32_t syms_table;
};

/** Plan the kernel from its buffered prefix, claim, zero, and copy it. */
static void kernel_plan(struct kernel_sink *k)
{
    int rc;

    if ((boot.is_linux = linux_probe(k->prefix, k->have)))
        rc = plan_linux_kernel(&boot.placer, k->it, k->prefix, k->have,
                               k->size, &boot.lx, &k->plan, boot.msg,
                               sizeof(boot.msg));
    else
        rc = plan_kernel(&boot.placer, k->it, k->prefix, k->have, k->size,
                         &k->plan, boot.msg, sizeof(boot.msg));
    if (rc != 0)
        fatal("%s", boot.msg);
    image_zero_bss(&k->plan, guest_zero, NULL);
    image_feed(&k->plan, 0, k->prefix, k->have, guest_write, NULL);
    k->planned = 1;
}

/** TFTP sink for the kernel: buffer the prefix, then stream into place. */
static int kernel_sink(void *ctx, uint32_t off, const uint8_t *data,
                       size_t len)
{
    struct kernel_sink *k = ctx;
    if (!k->planned) {
        uint32_t want = k->size < IMAGE_PREFIX ? k->size : IMAGE_PREFIX;
        size_t take = len;
        if (off + take > IMAGE_PREFIX)
            take = IMAGE_PREFIX - off;
        memcpy(k->prefix + off, data, take);
        k->have = off + take;
        if (k->have < want)
            return 0;
        kernel_plan(k);
        off += take;
        data += take;
        len -= take;
    }
    image_feed(&k->plan, off, data, len, guest_write, NULL);
    return 0;
}

/** Size of @it's file from the server, or stop with a clear message. */
static uint32_t file_size_or_die(const struct cfg_item *it)
{
    uint32_t size;
    int rc = tftp_size(it->server, it->path, &size);
    if (rc != 0) {
        plan_file_error(boot.msg, sizeof(boot.msg), it, rc, tftp_why(rc));
        fatal("%s", boot.msg);
    }
    return size;
}

/** Load the kernel named by the last exec; *@syms_table: where its
 * section header table went (when plan->has_syms). */
static struct image_plan *load_kernel(const struct cfg_item *it,
                                      uint32_t *syms_table)
{
    static struct kernel_sink k;
    uint32_t got;
    uint16_t bs;
    int rc;

    memset(&k, 0, sizeof(k));
    k.it = it;
    k.size = file_size_or_die(it);
    console_progress_start(it->path, k.size);
    rc = tftp_fetch(it->server, it->path, k.size, kernel_sink, &k, &got, &bs);
    if (rc != 0)
        fatal("%s:%u: exec: %s: transfer from %s failed after %u bytes (%s)",
              it->src_file, it->src_line, it->path, ip_str(it->server), got,
              tftp_why(rc));
    if (got != k.size)
        fatal("%s:%u: exec: %s: got %u bytes but the server announced %u",
              it->src_file, it->src_line, it->path, got, k.size);
    if (!k.planned)
        kernel_plan(&k); /* a file shorter than the prefix */
    plan_kernel_str(boot.msg, sizeof(boot.msg), it, got, &k.plan);
    printf("pulsar: %s, %s\n", boot.msg, console_progress_end(got));
    if (k.plan.has_syms) {
        struct load_seg *cap = &k.plan.syms.cap;
        unsigned n = image_syms_fixup(&k.plan, (uint8_t *)cap->dest,
                                      &k.syms_table);
        printf("pulsar: %s: %u section headers, %u sections loaded, at "
               "%08x-%08x\n", it->path, k.plan.syms.num, n, cap->dest,
               cap->dest + cap->filesz - 1);
    }
    *syms_table = k.syms_table;
    return &k.plan;
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

/** Fetch @it's file of @size bytes straight into [dest, dest+size),
 *  claimed before, or stop with the reason.  Shows the progress line while
 *  it loads; returns how long it took ("in 1.2 s, 51.3 MiB/s"). */
static const char *fetch_into(const struct cfg_item *it, uint32_t dest,
                              uint32_t size)
{
    struct module_sink m = { dest, size };
    uint32_t got;
    console_progress_start(it->path, size);
    int rc = tftp_fetch(it->server, it->path, size, module_sink, &m, &got,
                        NULL);
    if (rc != 0)
        fatal("%s:%u: %s: %s: transfer from %s failed after %u bytes (%s)",
              it->src_file, it->src_line, plan_verb(it), it->path,
              ip_str(it->server), got, tftp_why(rc));
    if (got != size)
        fatal("%s:%u: %s: %s: got %u bytes but the server announced %u",
              it->src_file, it->src_line, plan_verb(it), it->path, got, size);
    return console_progress_end(got);
}

/** Load every module in config order, after the kernel unless `addr`. */
static struct mbi_module *load_modules(uint32_t after, unsigned *count)
{
    struct mbi_module *mods = calloc(boot.cfg.nloads + 1, sizeof(*mods));
    struct plan_mods where;
    unsigned n = 0;

    if (!mods)
        fatal("out of memory for %u modules", boot.cfg.nloads);
    plan_mods_init(&where, after);
    for (const struct cfg_item *it = boot.cfg.items; it; it = it->next) {
        if (it->kind != CFG_LOAD)
            continue;
        uint32_t size = file_size_or_die(it);
        uint64_t dest;
        if (plan_module(&where, &boot.placer, it, size, &dest, boot.msg,
                        sizeof(boot.msg)) != 0)
            fatal("%s", boot.msg);
        const char *took = fetch_into(it, (uint32_t)dest, size);
        plan_module_str(boot.msg, sizeof(boot.msg), it, size, dest);
        printf("pulsar: %s, %s\n", boot.msg, took);
        mods[n].start = (uint32_t)dest;
        mods[n].end = (uint32_t)(dest + size);
        mods[n].cmdline = it->cmdline;
        n++;
    }
    *count = n;
    return mods;
}

/** `chld`: fetch another PXE boot program and start it at 0:7C00 with the
 *  PXE stack alive.  The rest of the config is moot.  Never returns. */
static void __attribute__((noreturn)) chainload(const struct cfg_item *it)
{
    uint32_t size = file_size_or_die(it);
    uint64_t staged;

    if (plan_chld(it, size, boot.low_end, boot.msg, sizeof(boot.msg)) != 0)
        fatal("%s", boot.msg);
    /* Real mode reaches the staging buffer through the BIOS copy service:
     * stay below 16 MiB, which every BIOS's INT 15h/87h can address. */
    if (place_find(&boot.placer, size + 1, PLAN_PAGE, 0x100000, 0x1000000,
                   &staged) != 0 ||
        place_claim(&boot.placer, staged, size + 1, "chld staging buffer",
                    NULL) != 0)
        fatal("%s:%u: chld: %s: no room below 16 MiB to stage %u bytes",
              it->src_file, it->src_line, it->path, size);
    fetch_into(it, (uint32_t)staged, size);
    printf("pulsar: chainloading %s: %u bytes to 0000:7c00, PXE stack kept\n",
           it->path, size);
    chain_start((uint32_t)staged, size, boot.low_end);
}

/* ---------------------------------------------------------------- Linux */

/**
 * Load the config's `load`s as the Linux kernel's initrd: parts in config
 * order, concatenated 4-byte aligned (one part as it is), placed as high
 * as the kernel allows from the sizes the server announces, then fetched
 * straight into place.
 */
static void load_initrd(void)
{
    const struct cfg_item *it, *first = NULL;
    unsigned n = 0, i;
    uint32_t *size, *off, end = 0;

    if (plan_initrd_order(&boot.cfg, boot.msg, sizeof(boot.msg)) != 0)
        fatal("%s", boot.msg);
    if (!(size = calloc(2 * boot.cfg.nloads + 1, sizeof(*size))))
        fatal("out of memory for %u initrd parts", boot.cfg.nloads);
    off = size + boot.cfg.nloads;
    for (it = boot.cfg.items; it; it = it->next)
        if (it->kind == CFG_LOAD) {
            first = first ? first : it;
            size[n++] = file_size_or_die(it);
        }
    if (plan_initrd(&boot.placer, &boot.lx, first, size, n, off, boot.msg,
                    sizeof(boot.msg)) != 0)
        fatal("%s", boot.msg);
    for (i = 0, it = first; i < n; it = it->next) {
        if (it->kind != CFG_LOAD)
            continue;
        memset((void *)(boot.lx.initrd_addr + end), 0, off[i] - end);
        const char *took = fetch_into(it, boot.lx.initrd_addr + off[i],
                                      size[i]);
        plan_module_str(boot.msg, sizeof(boot.msg), it, size[i],
                        boot.lx.initrd_addr + off[i]);
        printf("pulsar: %s, %s\n", boot.msg, took);
        end = off[i] + size[i];
        i++;
    }
    free(size);
}

/** Load the initrd, fill in the setup header, shut PXE down, enter Linux. */
static void __attribute__((noreturn))
boot_linux_kernel(const struct cfg_item *exec)
{
    const struct linux_plan *lp = &boot.lx;

    load_initrd();
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
static void placer_setup(void)
{
    if (plan_placer_init(&boot.placer, boot.map, boot.nmap, boot.low_end) !=
        0)
        fatal("the BIOS memory map shows no usable RAM");
    for (unsigned i = 0; i < boot.pxe.nregion; i++)
        place_reserve(&boot.placer, boot.pxe.region[i].start,
                      boot.pxe.region[i].end, boot.pxe.region[i].what);
}

/** The C entry point, called by boot/entry.asm in 32-bit mode. */
void pulsar_main(void)
{
    char mac[48];
    int rc;

    console_init();
    printf("Pulsar " PULSAR_VERSION ": multiboot PXE loader\n");

    if ((rc = pxe_find(&boot.pxe)) != 0)
        fatal("no PXE API found (!PXE, PXENV+ and INT 1Ah all failed)");
    printf("pulsar: PXE API via %s at %04x:%04x\n", boot.pxe.how,
           boot.pxe.entry >> 16, boot.pxe.entry & 0xFFFF);
    heap_setup(&boot.pxe);

    read_dhcp();
    dhcp_format_mac(boot.dhcp.mac, boot.dhcp.mac_len, ':', mac);
    printf("pulsar: mac %s ip %s tftp %s root-path '%s'\n", mac,
           ip_str(boot.dhcp.client_ip), ip_str(boot.dhcp.server_ip),
           boot.dhcp.has_root ? boot.dhcp.root : "");
    cfg_state_init(&boot.st, boot.dhcp.has_root ? boot.dhcp.root : NULL,
                   boot.dhcp.server_ip);

    boot.nmap = bios_e820(boot.map, E820_MAX);
    placer_setup();

    read_config();
    if (boot.cfg.chld)
        chainload(boot.cfg.chld);
    if (!boot.cfg.exec) {
        plan_no_exec(boot.msg, sizeof(boot.msg), boot.cfgname);
        fatal("%s", boot.msg);
    }

    const struct cfg_item *exec = boot.cfg.exec;
    struct mbi_input in;
    memset(&in, 0, sizeof(in));
    struct image_plan *plan = load_kernel(exec, &in.syms[2]);
    if (boot.is_linux)
        boot_linux_kernel(exec);
    uint32_t kernel_end = plan->highest;
    if (plan->has_syms) {
        in.has_syms = true;
        in.syms[0] = plan->syms.num;
        in.syms[1] = plan->syms.size;
        in.syms[3] = plan->syms.shndx;
        kernel_end = plan->syms.cap.dest + plan->syms.cap.filesz;
    }
    unsigned nmods;
    struct mbi_module *mods = load_modules(kernel_end, &nmods);

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
        fatal("out of memory for the multiboot information (%u bytes)",
              (unsigned)size);
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
    if (mbi_build(&in, info, (uint32_t)info, size, &info_phys) != 0)
        fatal("cannot build the multiboot information (%u bytes)",
              (unsigned)size);
    boot_multiboot(plan->entry, info_phys);
}
