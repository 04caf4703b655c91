/*
 * Pulsar's boot flow, top to bottom:
 *   find PXE -> read the DHCP facts -> fetch the config -> parse it ->
 *   load the kernel (planned from its headers, streamed into place) ->
 *   load the modules -> build the multiboot info -> shut PXE down -> jump.
 * A Linux bzImage instead takes the `load`s before it as its initrd and
 * is entered in real mode (boot_linux_kernel).
 * Every write into guest memory goes through the placer first.  Library
 * code returns rc; only this file decides what is fatal.
 */
#include "boot/realmode.h"
#include "config/config.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "loader/bios.h"
#include "loader/image.h"
#include "loader/linux.h"
#include "loader/place.h"
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
#define PAGE 4096u

/** Everything one boot attempt knows. */
struct boot {
    struct pxe_api pxe;
    struct dhcp_facts dhcp;
    struct e820_entry map[E820_MAX];
    unsigned nmap;
    struct placer placer;
    struct cfg cfg;
    struct cfg_state st;
    uint32_t heap_end, low_end; /* [heap_end, low_end): kept free, below */
    int is_linux;               /* the exec is a bzImage ... */
    struct linux_plan lx;       /* ... planned here */
    char cfgname[64];
    char msg[CFG_ERR_LEN + 128];
};

static struct boot boot;

/** Report a fatal error and stop.  (Issue 8 will retry instead.) */
static void __attribute__((noreturn)) fatal(const char *fmt, ...)
{
    va_list ap;
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

/**
 * Give malloc the low memory between .bss and the PXE stack, less its top
 * LINUX_LOW_SIZE bytes: that stays free for a Linux kernel's real-mode
 * setup, which must lie below the EBDA and must not overlap Pulsar.
 */
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
    boot.low_end = end;
    boot.heap_end = (end - LINUX_LOW_SIZE) & ~15u;
    heap_init((void *)start, (void *)boot.heap_end);
    DBG("heap", "%08x-%08x\n", start, boot.heap_end);
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
            snprintf(why, CFG_ERR_LEN, "%s on %s (%s)",
                     rc == -PE_NOENT ? "not found" : "cannot fetch",
                     ip_str(st->server), tftp_why(rc));
        return rc;
    }
    if (!t.buf && !(t.buf = malloc(1)))
        return -PE_NOMEM;
    t.buf[t.size] = '\0';
    *text = t.buf;
    *len = t.size;
    return 0;
}

/** Fetch and parse config-<mac> into boot.cfg. */
static void read_config(void)
{
    char mac[48], path[CFG_MAX_PATH + 1], why[CFG_ERR_LEN];
    char *text;
    size_t len;
    int rc;

    dhcp_format_mac(boot.dhcp.mac, boot.dhcp.mac_len, '-', mac);
    snprintf(boot.cfgname, sizeof(boot.cfgname), "config-%s", mac);
    if (cfg_join_path(boot.st.root, boot.cfgname, path) != 0)
        fatal("root-path '%s' is too long for %s", boot.st.root,
              boot.cfgname);
    printf("pulsar: config %s from %s\n", path, ip_str(boot.st.server));
    if ((rc = fetch_text(NULL, &boot.st, path, &text, &len, why)) != 0)
        fatal("%s: %s", path, why);
    rc = cfg_parse(&boot.cfg, &boot.st, path, text, len, fetch_text, NULL,
                   boot.msg);
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

/** Claim a range or stop with both ranges printed. */
static void claim_or_die(const struct cfg_item *it, uint64_t start,
                         uint64_t len, const char *what)
{
    struct place_conflict why;
    char text[160];
    if (place_claim(&boot.placer, start, len, what, &why) == 0)
        return;
    place_conflict_str(&why, text, sizeof(text));
    fatal("%s:%u: %s: %s", it->src_file, it->src_line, it->path, text);
}

/** Place the prefix-planned kernel, fed by tftp_fetch. */
struct kernel_sink {
    const struct cfg_item *it;
    uint32_t size; /* from tsize */
    uint8_t prefix[IMAGE_PREFIX];
    uint32_t have; /* prefix bytes buffered */
    int planned;
    struct image_plan plan;
};

/** Plan the kernel from its buffered prefix, claim, zero, and copy it. */
static void kernel_plan(struct kernel_sink *k)
{
    char err[256];
    int rc;

    if ((boot.is_linux = linux_probe(k->prefix, k->have)))
        rc = linux_plan_image(k->prefix, k->have, k->size, k->it->args,
                              &boot.placer, bios_base_memory(), &boot.lx,
                              &k->plan, err, sizeof(err));
    else
        rc = image_plan_multiboot(k->prefix, k->have, k->size, &k->plan,
                                  err, sizeof(err));
    if (rc != 0)
        fatal("%s:%u: exec: %s: %s", k->it->src_file, k->it->src_line,
              k->it->path, err);
    for (unsigned i = 0; i < k->plan.nseg; i++) {
        char *what = malloc(strlen(k->it->name) + 16);
        if (!what)
            fatal("out of memory");
        snprintf(what, strlen(k->it->name) + 16, "%s segment %u",
                 k->it->name, i + 1); /* numbered from 1, as image.c does */
        claim_or_die(k->it, k->plan.seg[i].dest, k->plan.seg[i].memsz, what);
    }
    if (boot.is_linux) /* what it unpacks into must stay free as well */
        claim_or_die(k->it, boot.lx.run_start,
                     boot.lx.run_end - boot.lx.run_start,
                     "bzImage unpack area");
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
static uint32_t file_size_or_die(const struct cfg_item *it, const char *verb)
{
    uint32_t size;
    int rc = tftp_size(it->server, it->path, &size);
    if (rc != 0)
        fatal("%s:%u: %s: %s: %s on %s (%s)", it->src_file, it->src_line,
              verb, it->path, rc == -PE_NOENT ? "not found" : "cannot fetch",
              ip_str(it->server), tftp_why(rc));
    return size;
}

/** Load the kernel named by the last exec. */
static struct image_plan *load_kernel(const struct cfg_item *it)
{
    static struct kernel_sink k;
    uint32_t got;
    uint16_t bs;
    int rc;

    memset(&k, 0, sizeof(k));
    k.it = it;
    k.size = file_size_or_die(it, "exec");
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
    printf("pulsar: %s: %u bytes, %s, %08x-%08x, entry %08x\n", it->path,
           got, k.plan.format, k.plan.lowest, k.plan.highest - 1,
           k.plan.entry);
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

/** Fetch @it's file of @size bytes into [dest, dest+size), claimed before. */
static void fetch_into(const struct cfg_item *it, uint32_t dest, uint32_t size)
{
    struct module_sink m = { dest, size };
    uint32_t got;
    int rc = tftp_fetch(it->server, it->path, size, module_sink, &m, &got,
                        NULL);
    if (rc != 0)
        fatal("%s:%u: load: %s: transfer from %s failed after %u bytes (%s)",
              it->src_file, it->src_line, it->path, ip_str(it->server), got,
              tftp_why(rc));
    if (got != size)
        fatal("%s:%u: load: %s: got %u bytes but the server announced %u",
              it->src_file, it->src_line, it->path, got, size);
    printf("pulsar: %s: %u bytes at %08x-%08x\n", it->path, size, dest,
           dest + size - (size ? 1 : 0));
}

/** Load every module in config order, after the kernel unless `addr`. */
static struct mbi_module *load_modules(uint32_t after, unsigned *count)
{
    struct mbi_module *mods = calloc(boot.cfg.nloads + 1, sizeof(*mods));
    uint64_t cursor = ((uint64_t)after + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    unsigned last_seq = 0; /* cfg_state.addr_seq starts at 0: no addr */
    unsigned n = 0;

    if (!mods)
        fatal("out of memory for %u modules", boot.cfg.nloads);
    for (const struct cfg_item *it = boot.cfg.items; it; it = it->next) {
        if (it->kind != CFG_LOAD)
            continue;
        uint32_t size = file_size_or_die(it, "load");
        uint64_t dest;
        if (it->has_addr && it->addr_seq != last_seq) {
            /* A new `addr` line: modules go one after another from there. */
            last_seq = it->addr_seq;
            cursor = it->addr;
        }
        if (it->has_addr) {
            dest = cursor;
        } else if (place_find(&boot.placer, size, PAGE, cursor, 1ull << 32,
                              &dest) != 0) {
            fatal("%s:%u: load: %s: %u bytes do not fit in free RAM above "
                  "0x%08llx", it->src_file, it->src_line, it->path, size,
                  (unsigned long long)cursor);
        }
        if (dest & (PAGE - 1))
            fatal("%s:%u: load: %s: address 0x%08llx is not page-aligned",
                  it->src_file, it->src_line, it->path,
                  (unsigned long long)dest);
        claim_or_die(it, dest, size, it->name);
        fetch_into(it, (uint32_t)dest, size);
        mods[n].start = (uint32_t)dest;
        mods[n].end = (uint32_t)(dest + size);
        mods[n].cmdline = it->cmdline;
        n++;
        cursor = (dest + size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    }
    *count = n;
    return mods;
}

/* ---------------------------------------------------------------- Linux */

/**
 * Load the `load`s before the Linux kernel's exec as its initrd: parts
 * concatenated 4-byte aligned (one part as it is), placed as high as the
 * kernel allows from the sizes the server announces, then fetched
 * straight into place.  A `load` after the exec is an error.
 */
static void load_initrd(const struct cfg_item *exec)
{
    const struct cfg_item *it, *first = NULL;
    unsigned n = 0, i;
    uint32_t *size, *off, total, end = 0;
    int after = 0;
    char err[256];

    if (!(size = calloc(2 * boot.cfg.nloads + 1, sizeof(*size))))
        fatal("out of memory for %u initrd parts", boot.cfg.nloads);
    off = size + boot.cfg.nloads;
    for (it = boot.cfg.items; it; it = it->next) {
        after |= it == exec;
        if (it->kind != CFG_LOAD)
            continue;
        if (after)
            fatal("%s:%u: load: %s: comes after the Linux kernel's exec "
                  "(%s:%u); initrd parts go before it", it->src_file,
                  it->src_line, it->path, exec->src_file, exec->src_line);
        first = first ? first : it;
        size[n++] = file_size_or_die(it, "load");
    }
    if (linux_initrd_layout(size, n, off, &total) != 0)
        fatal("%s:%u: load: %s: the initrd parts add up to 4 GiB or more",
              first->src_file, first->src_line, first->path);
    if (linux_place_initrd(&boot.lx, &boot.placer, total, err,
                           sizeof(err)) != 0)
        fatal("%s:%u: load: %s: %s", first->src_file, first->src_line,
              first->path, err);
    claim_or_die(first, boot.lx.initrd_addr, total, "initrd");
    for (i = 0, it = first; i < n; it = it->next) {
        if (it->kind != CFG_LOAD)
            continue;
        memset((void *)(boot.lx.initrd_addr + end), 0, off[i] - end);
        fetch_into(it, boot.lx.initrd_addr + off[i], size[i]);
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

    load_initrd(exec);
    linux_finish((uint8_t *)lp->setup_addr, lp);
    printf("pulsar: starting %s (Linux boot protocol %x.%02x) at %04x:0000, "
           "initrd %u bytes at %08x\n", exec->path, lp->hdr.version >> 8,
           lp->hdr.version & 0xFF, lp->setup_addr >> 4, lp->initrd_size,
           lp->initrd_addr);
    if (pxe_shutdown() != 0)
        printf("pulsar: warning: PXE shutdown: %s\n",
               pxe_status_str(pxe_last_status));
    boot_linux(lp->setup_addr, LINUX_HEAP_END);
}

/* ------------------------------------------------------------ placement */

/**
 * Build the placer: E820 RAM minus Pulsar, the BIOS and the PXE stack.
 * [heap_end, low_end) is left free for a Linux setup (heap_setup).
 */
static void placer_setup(void)
{
    uint32_t base = bios_base_memory();
    if (place_init(&boot.placer, boot.map, boot.nmap) != 0)
        fatal("the BIOS memory map shows no usable RAM");
    place_reserve(&boot.placer, 0, 0x500, "IVT and BIOS data area");
    place_reserve(&boot.placer, 0x500, 0x7C00, "Pulsar stack");
    place_reserve(&boot.placer, 0x7C00, boot.heap_end,
                  "Pulsar image and heap");
    place_reserve(&boot.placer, boot.low_end, base, "PXE stack");
    place_reserve(&boot.placer, base, 0x100000, "EBDA, PXE stack and BIOS");
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
        fatal("%s:%u: chld: chainloading is not supported yet",
              boot.cfg.chld->src_file, boot.cfg.chld->src_line);
    if (!boot.cfg.exec)
        fatal("%s: no exec line: nothing to boot", boot.cfgname);

    const struct cfg_item *exec = boot.cfg.exec;
    struct image_plan *plan = load_kernel(exec);
    if (boot.is_linux)
        boot_linux_kernel(exec);
    unsigned nmods;
    struct mbi_module *mods = load_modules(plan->highest, &nmods);

    struct mbi_input in;
    memset(&in, 0, sizeof(in));
    place_mem_info(boot.map, boot.nmap, &in.mem_lower, &in.mem_upper);
    in.map = boot.map;
    in.nmap = boot.nmap;
    in.cmdline = exec->cmdline;
    in.mods = mods;
    in.nmods = nmods;
    in.loader_name = LOADER_NAME;
    size_t size = mbi_size(&in);
    void *info = malloc(size); /* in Pulsar's reserved low memory */
    uint32_t info_phys;
    if (!info || mbi_build(&in, info, (uint32_t)info, size, &info_phys) != 0)
        fatal("out of memory for the multiboot information (%u bytes)",
              (unsigned)size);

    printf("pulsar: starting %s at %08x, multiboot info at %08x\n",
           exec->path, plan->entry, info_phys);
    if ((rc = pxe_shutdown()) != 0)
        printf("pulsar: warning: PXE shutdown: %s\n",
               pxe_status_str(pxe_last_status));
    boot_multiboot(plan->entry, info_phys);
}
