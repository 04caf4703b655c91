/* Placement decisions and their messages; see plan.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/plan.h"

#define PAGE 4096u
#define IVT_BDA_END 0x500u
#define LOW_END 0x100000u

/** Check that a parsed config can boot; see plan.h. */
int plan_config_check(const struct cfg *cfg, const char *cfgpath, char *msg,
                      size_t msglen)
{
    if (cfg->chld) {
        snprintf(msg, msglen, "%s:%u: chld: chainloading is not supported "
                 "yet", cfg->chld->src_file, cfg->chld->src_line);
        return -PE_UNSUPP;
    }
    if (!cfg->exec) {
        snprintf(msg, msglen, "%s: no exec line: nothing to boot", cfgpath);
        return -PE_NOKERNEL;
    }
    return 0;
}

/** Build the placer with Pulsar's own areas reserved; see plan.h. */
int plan_placer(struct placer *p, const struct e820_entry *map, unsigned n,
                const struct pulsar_layout *l)
{
    int rc;
    unsigned i;

    if ((rc = place_init(p, map, n)) != 0)
        return rc;
    if ((rc = place_reserve(p, 0, IVT_BDA_END, "IVT and BIOS data area")) ||
        (rc = place_reserve(p, IVT_BDA_END, l->image_start,
                            "Pulsar stack")) ||
        (rc = place_reserve(p, l->image_start, l->heap_end,
                            "Pulsar image and heap")) ||
        (rc = place_reserve(p, l->heap_end, LOW_END,
                            "EBDA, PXE stack and BIOS")))
        return rc;
    for (i = 0; i < l->nextra; i++)
        if ((rc = place_reserve(p, l->extra[i].start, l->extra[i].end,
                                l->extra[i].what)) != 0)
            return rc;
    return 0;
}

/** "<config>:<line>: <verb>: <path>: " at the start of @msg; its length. */
static size_t msg_prefix(const struct cfg_item *it, const char *verb,
                         char *msg, size_t msglen)
{
    int n = snprintf(msg, msglen, "%s:%u: %s: %s: ", it->src_file,
                     it->src_line, verb, it->path);
    if (n < 0)
        return 0;
    return (size_t)n < msglen ? (size_t)n : msglen - 1;
}

/** Claim [start, start+len) for @it as @what, or explain why not. */
static int claim(struct placer *p, const struct cfg_item *it,
                 const char *verb, uint64_t start, uint64_t len,
                 const char *what, char *msg, size_t msglen)
{
    struct place_conflict why;
    size_t n;
    int rc;

    if ((rc = place_claim(p, start, len, what, &why)) == 0)
        return 0;
    n = msg_prefix(it, verb, msg, msglen);
    place_conflict_str(&why, msg + n, msglen - n);
    return rc;
}

/** Plan the kernel and claim its segments; see plan.h. */
int plan_kernel(struct placer *p, const struct cfg_item *it,
                const uint8_t *prefix, size_t len, uint32_t size,
                struct image_plan *plan, char *msg, size_t msglen)
{
    size_t n = msg_prefix(it, "exec", msg, msglen);
    size_t wlen = strlen(it->name) + 20;
    unsigned i;
    int rc;

    rc = image_plan_multiboot(prefix, len, size, plan, msg + n, msglen - n);
    if (rc != 0)
        return rc;
    for (i = 0; i < plan->nseg; i++) {
        /* The placer keeps the label: it lives on Pulsar's heap, which
         * the next boot attempt starts afresh. */
        char *what = malloc(wlen);
        if (!what) {
            snprintf(msg + n, msglen - n, "out of memory");
            return -PE_NOMEM;
        }
        snprintf(what, wlen, "%s segment %u", it->name, i + 1);
        rc = claim(p, it, "exec", plan->seg[i].dest, plan->seg[i].memsz,
                   what, msg, msglen);
        if (rc != 0) {
            free(what); /* not recorded: the message has its own copy */
            return rc;
        }
    }
    msg[0] = '\0';
    return 0;
}

/** Start placing modules after the kernel; see plan.h. */
void plan_modules_start(struct module_cursor *c, uint32_t kernel_end)
{
    c->next = ((uint64_t)kernel_end + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    c->addr_seq = 0;
}

/** Place and claim one module; see plan.h. */
int plan_module(struct placer *p, struct module_cursor *c,
                const struct cfg_item *it, uint32_t size, uint32_t *dest,
                char *msg, size_t msglen)
{
    uint64_t at;
    size_t n;
    int rc;

    if (it->has_addr && it->addr_seq != c->addr_seq) {
        /* A new `addr` line: modules go one after another from there. */
        c->addr_seq = it->addr_seq;
        c->next = it->addr;
    }
    if (it->has_addr) {
        at = c->next;
        if (at & (PAGE - 1)) {
            n = msg_prefix(it, "load", msg, msglen);
            snprintf(msg + n, msglen - n, "address 0x%08llx is not "
                     "page-aligned", (unsigned long long)at);
            return -PE_INVAL;
        }
    } else if (place_find(p, size, PAGE, c->next, 1ull << 32, &at) != 0) {
        n = msg_prefix(it, "load", msg, msglen);
        snprintf(msg + n, msglen - n, "%u bytes do not fit in free RAM "
                 "above 0x%08llx", size, (unsigned long long)c->next);
        return -PE_NORAM;
    }
    if ((rc = claim(p, it, "load", at, size, it->name, msg, msglen)) != 0)
        return rc;
    *dest = (uint32_t)at;
    c->next = (at + size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    msg[0] = '\0';
    return 0;
}
