/*
 * The boot plan's decisions and messages, shared by Pulsar's boot flow
 * (boot/bios/main.c) and the offline checker (tools/pulsar-check.c), so both
 * place files the same way and report every problem with the same text.
 * Pure C: the callers fetch (TFTP or the local disk) and hand over sizes
 * and the first bytes of the kernel.
 */
#ifndef PULSAR_PLAN_H
#define PULSAR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "loader/image.h"
#include "loader/linux.h"
#include "loader/place.h"

/** Longest plan message (a config error plus a placement conflict). */
#define PLAN_ERR_LEN (CFG_ERR_LEN + 192)
#define PLAN_PAGE 4096u
/** Where modules of a relocated kernel start looking: 1 MiB. */
#define PLAN_MODULES_LOW 0x100000u

/** Where a PXE boot program runs, and the highest byte it may reach. */
#define CHLD_LOAD 0x7C00u
#define CHLD_END 0x98000u
#define CHLD_MAX (CHLD_END - CHLD_LOAD)
/** Free stack a PXE ROM promises an NBP (PXE 2.1: at least 1.5 KiB). */
#define CHLD_STACK_MIN 1536u
/** Largest EFI program `chld` stages on UEFI for LoadImage (GRUB's
 *  core.efi and iPXE are under 2 MiB, a Linux EFI stub kernel under 16). */
#define CHLD_EFI_MAX (64u << 20)

/**
 * Where Pulsar's heap ends when free base memory ends at @low_end: the
 * top LINUX_LOW_SIZE bytes stay free for a Linux kernel's real-mode setup
 * (loader/linux.h), which must lie below the EBDA and outside Pulsar.
 */
uint32_t plan_heap_end(uint32_t low_end);

/**
 * Build the placer from the memory map and reserve what is Pulsar's own:
 * the IVT and BIOS data area, Pulsar's stack below 0x7C00, its image and
 * heap up to plan_heap_end(@low_end) (@low_end: free base memory as the
 * BIOS reports it), and everything from @low_end to 1 MiB (EBDA, PXE
 * stack, option ROMs, BIOS).  Returns 0, -PE_NORAM (no usable RAM) or
 * -PE_NOMEM.
 */
int plan_placer_init(struct placer *p, const struct e820_entry *map,
                     unsigned n, uint32_t low_end);

/** Where GNU Mach's boot heap starts: it runs to 1 MiB + mem_upper. */
#define PLAN_GNU_MACH_HEAP 0x100000u

/**
 * Build the placer for pulsar.efi from the EFI memory map (@map as
 * loader/efimap.h converts it): nothing low is Pulsar's or a PXE stack's,
 * so the map alone, and what the placer picks (modules, section headers)
 * keeps clear of [1 MiB, 1 MiB + mem_upper) unless nothing else fits:
 * GNU Mach takes that range as its boot heap (on OVMF mem_upper is only
 * about 7 MiB, ACPI NVS sits at 8 MiB, so Mach's heap and the modules
 * that follow the kernel would meet).  Returns 0, -PE_NORAM or -PE_NOMEM.
 */
int plan_efi_placer_init(struct placer *p, const struct e820_entry *map,
                         unsigned n);

/** The directive that asked for @it: "exec", "load" or "chld". */
const char *plan_verb(const struct cfg_item *it);

/**
 * Why @path could not be had, for a person: "not found on <server>" for
 * -PE_NOENT, else "cannot fetch from <server> (<detail>)" (@detail NULL:
 * the error code's text); the server is @server, or a URL's host
 * (net/url.h).  @why gets at most @len bytes.
 */
void plan_fetch_why(char *why, size_t len, int rc, uint32_t server,
                    const char *path, const char *detail);

/** "file:line: verb: path: <plan_fetch_why>" for the file of @it. */
void plan_file_error(char *err, size_t len, const struct cfg_item *it,
                     int rc, const char *detail);

/** "file:line: verb: path: " into @err (@len bytes); returns its length. */
size_t plan_prefix(char *err, size_t len, const struct cfg_item *it);

/** "<config>: no exec line: nothing to boot". */
void plan_no_exec(char *err, size_t len, const char *cfgname);

/**
 * Plan the kernel of @it from the first @have bytes of the file (@prefix;
 * all of it when shorter than IMAGE_PREFIX) and its @size, then claim each
 * segment in @p (labelled "name segment N" in static storage that the next
 * call reuses).  Returns 0 or a negative pulsar_err with "file:line:
 * exec: path: reason" in @err.
 */
int plan_kernel(struct placer *p, const struct cfg_item *it,
                const uint8_t *prefix, size_t have, uint32_t size,
                struct image_plan *plan, char *err, size_t len);

/**
 * Plan and claim a Multiboot2 kernel as plan_kernel does a Multiboot 1
 * one; a relocatable image is first moved where its tag allows.
 * @gives: the info tags the face can give (loader/mb2hdr.h).
 */
int plan_kernel_mb2(struct placer *p, const struct cfg_item *it,
                    const uint8_t *prefix, size_t have, uint32_t size,
                    uint32_t gives, struct image_plan *plan, char *err,
                    size_t len);

/**
 * Plan a Linux bzImage (loader/linux.c) with the `exec` arguments of @it
 * as its command line and claim its setup region, its protected-mode part
 * and the memory it unpacks into.  @lp: out: the Linux side of the plan.
 * Returns 0 or a negative pulsar_err with "file:line: exec: path: reason"
 * in @err.
 */
int plan_linux_kernel(struct placer *p, const struct cfg_item *it,
                      const uint8_t *prefix, size_t have, uint32_t size,
                      struct linux_plan *lp, struct image_plan *plan,
                      char *err, size_t len);

/**
 * Plan a bzImage with an EFI stub for LoadImage (loader/linux.c,
 * linux_plan_efi_stub): the whole file as one claimed range, the
 * command line the `exec` arguments of @it.  Messages name @it's line.
 */
int plan_linux_efi_stub(struct placer *p, const struct cfg_item *it,
                        const uint8_t *prefix, size_t have, uint32_t size,
                        struct linux_plan *lp, struct image_plan *plan,
                        char *err, size_t len);

/**
 * Linux takes the `load`s before its `exec` as initrd parts, as the
 * original Pulsar documents ("the ramdisk must precede the kernel
 * image"); a `load` after it would silently be lost or misread, so it is
 * an error: "file:line: load: path: comes after the Linux exec on line N".
 * Returns 0 or -PE_INVAL with the message in @err.
 */
int plan_initrd_order(const struct cfg *cfg, char *err, size_t len);

/**
 * Lay out the @n initrd parts of @sizes (the config's `load`s in order,
 * all before the `exec`, see plan_initrd_order; linux_initrd_layout: @offsets
 * out), place the whole as linux_place_initrd does and claim it.  @first:
 * the first part, named in messages.  Returns 0 or a negative pulsar_err
 * with "file:line: load: path: reason" in @err.
 */
int plan_initrd(struct placer *p, struct linux_plan *lp,
                const struct cfg_item *first, const uint32_t *sizes,
                unsigned n, uint32_t *offsets, char *err, size_t len);

/** Where the next module goes: state carried from one module to the next. */
struct plan_mods {
    uint64_t cursor;   /* the lowest address for the next module */
    unsigned last_seq; /* the `addr` line (cfg_state.addr_seq) in force */
};

/** "path: N bytes, format, start-end, entry E": the kernel's plan line. */
void plan_kernel_str(char *buf, size_t len, const struct cfg_item *it,
                     uint32_t size, const struct image_plan *plan);

/** "path: N bytes at start-end": a module's plan line. */
void plan_module_str(char *buf, size_t len, const struct cfg_item *it,
                     uint32_t size, uint64_t dest);

/** Start placing modules after a kernel that ends at @kernel_end. */
void plan_mods_init(struct plan_mods *m, uint32_t kernel_end);

/**
 * Place the module @it of @size bytes: at the `addr` in force (each new
 * `addr` line restarts there, later modules follow page-aligned), or in
 * the lowest free RAM above the previous one.  Claims it in @p.
 * @dest: out: the address.  Returns 0 or a negative pulsar_err with
 * "file:line: load: path: reason" in @err.
 */
int plan_module(struct plan_mods *m, struct placer *p,
                const struct cfg_item *it, uint32_t size, uint64_t *dest,
                char *err, size_t len);

/**
 * Claim @len more bytes at @at for module @it, whose size no server
 * announced (the claims grow as its data arrives).  Returns 0, or an
 * error with @err naming the file and what is in the way.
 */
int plan_module_grow(struct placer *p, const struct cfg_item *it,
                     uint64_t at, uint32_t len, char *err, size_t errlen);

/**
 * Check a chainloaded boot program of @size bytes: at most CHLD_MAX, and
 * [CHLD_LOAD, CHLD_LOAD + size) below @low_end (where the PXE stack, EBDA
 * or BIOS begin).  Returns 0 or -PE_RANGE with a message in @err.
 */
int plan_chld(const struct cfg_item *it, uint32_t size, uint32_t low_end,
              char *err, size_t len);

/**
 * The same limit for a boot program whose size no server announced, as
 * its data arrives: 0 while the @got bytes so far fit CHLD_MAX, else
 * -PE_RANGE with a message in @err (plan_chld checks the room at the
 * end, with the size that came).
 */
int plan_chld_unsized(const struct cfg_item *it, uint32_t got, char *err,
                      size_t len);

/**
 * Check an EFI boot program for `chld` on UEFI: at most CHLD_EFI_MAX
 * bytes.  @announced: @size is the size the server announced, else the
 * bytes that came so far of a file whose size none announced.  Returns 0
 * or -PE_RANGE with a message in @err.
 */
int plan_chld_efi(const struct cfg_item *it, uint32_t size, bool announced,
                  char *err, size_t len);

/**
 * May a chained program be started on the stack the PXE ROM gave Pulsar
 * (@ss:@sp)?  Yes when that stack and CHLD_STACK_MIN bytes below it lie
 * between @low_end and 1 MiB, i.e. where neither Pulsar nor the child
 * wrote; otherwise the caller builds a fresh stack below 0x7C00.
 */
bool plan_chld_keep_rom_stack(uint16_t ss, uint16_t sp, uint32_t low_end);

#endif
