/*
 * Unit tests for loader/plan.c: the placement decisions and the exact
 * messages that Pulsar and pulsar-check share.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errno.h"
#include "loader/plan.h"

/** A 128 MiB machine, QEMU-like: 639 KiB low, RAM from 1 MiB. */
static const struct e820_entry qemu_map[] = {
    { 0, 0x9FC00, E820_RAM },
    { 0x9FC00, 0x400, E820_RESERVED },
    { 0xF0000, 0x10000, E820_RESERVED },
    { 0x100000, 0x7EE0000, E820_RAM },
    { 0x7FE0000, 0x20000, E820_RESERVED },
};
#define NMAP (sizeof(qemu_map) / sizeof(qemu_map[0]))
#define LOW_END 0x9C000u

/** An item as the parser would make it. */
static struct cfg_item item(enum cfg_kind kind, const char *name,
                            unsigned line)
{
    static char file[] = "config-52-54-00-12-34-56";
    struct cfg_item it;
    uint8_t ip[4] = { 10, 0, 2, 2 };

    memset(&it, 0, sizeof(it));
    it.kind = kind;
    it.name = (char *)name;
    it.path = (char *)name;
    it.cmdline = (char *)name;
    it.src_file = file;
    it.src_line = line;
    memcpy(&it.server, ip, 4);
    return it;
}

static struct placer placer;

/** Fresh placer over qemu_map with Pulsar's reservations. */
static int setup(void **state)
{
    (void)state;
    return plan_placer_init(&placer, qemu_map, NMAP, LOW_END);
}

/** Free the placer. */
static int teardown(void **state)
{
    (void)state;
    place_fini(&placer);
    return 0;
}

/** Pulsar's own low memory is reserved under the names users will see. */
static void test_placer_reserves_pulsar(void **state)
{
    struct place_conflict why;
    char text[160];
    (void)state;
    assert_int_equal(place_check(&placer, 0x7000, 0x100, &why), -PE_OVERLAP);
    assert_string_equal(why.hit.what, "Pulsar stack");
    assert_int_equal(place_check(&placer, 0x20000, 0x100, &why), -PE_OVERLAP);
    assert_string_equal(why.hit.what, "Pulsar image and heap");
    /* The top 64 KiB of free base memory stay free for a Linux setup. */
    assert_int_equal(plan_heap_end(LOW_END), LOW_END - LINUX_LOW_SIZE);
    assert_int_equal(plan_heap_end(LOW_END + 8), LOW_END - LINUX_LOW_SIZE);
    assert_int_equal(plan_heap_end(0x8000), 0x8000);
    assert_int_equal(place_check(&placer, LOW_END - LINUX_LOW_SIZE - 0x100,
                                 0x101, &why), -PE_OVERLAP);
    assert_string_equal(why.hit.what, "Pulsar image and heap");
    assert_int_equal(place_check(&placer, LOW_END - LINUX_LOW_SIZE,
                                 LINUX_LOW_SIZE, &why), 0);
    assert_int_equal(place_check(&placer, LOW_END, 0x100, &why), -PE_OVERLAP);
    place_conflict_str(&why, text, sizeof(text));
    assert_string_equal(text, "[0x0009c000, 0x0009c100) range overlaps "
                              "[0x0009c000, 0x00100000) EBDA, PXE stack "
                              "and BIOS");
    assert_int_equal(place_check(&placer, 0x100000, 0x1000, &why), 0);
}

/** The shared wording of a missing or unreadable file. */
static void test_file_errors(void **state)
{
    struct cfg_item load = item(CFG_LOAD, "demo/m.bin", 7);
    struct cfg_item chld = item(CFG_CHLD, "pxelinux.0", 2);
    char err[PLAN_ERR_LEN];
    (void)state;
    plan_file_error(err, sizeof(err), &load, -PE_NOENT, "ignored");
    assert_string_equal(err, "config-52-54-00-12-34-56:7: load: demo/m.bin: "
                             "not found on 10.0.2.2");
    plan_file_error(err, sizeof(err), &chld, -PE_NOPXE, "TFTP open timeout");
    assert_string_equal(err, "config-52-54-00-12-34-56:2: chld: pxelinux.0: "
                             "cannot fetch from 10.0.2.2 (TFTP open "
                             "timeout)");
    plan_file_error(err, sizeof(err), &chld, -PE_IO, NULL);
    assert_string_equal(err, "config-52-54-00-12-34-56:2: chld: pxelinux.0: "
                             "cannot fetch from 10.0.2.2 (transfer failed)");
    plan_no_exec(err, sizeof(err), "lab/config-default");
    assert_string_equal(err, "lab/config-default: no exec line: nothing to "
                             "boot");
}

/** Modules follow the kernel page by page; the plan line says where. */
static void test_modules_after_kernel(void **state)
{
    struct cfg_item a = item(CFG_LOAD, "a.bin", 3);
    struct cfg_item b = item(CFG_LOAD, "b.bin", 4);
    char err[PLAN_ERR_LEN];
    struct plan_mods m;
    uint64_t dest;
    (void)state;
    plan_mods_init(&m, 0x108304);
    assert_int_equal(plan_module(&m, &placer, &a, 5000, &dest, err,
                                 sizeof(err)), 0);
    assert_int_equal(dest, 0x109000);
    plan_module_str(err, sizeof(err), &a, 5000, dest);
    assert_string_equal(err, "a.bin: 5000 bytes at 00109000-0010a387");
    assert_int_equal(plan_module(&m, &placer, &b, 0, &dest, err,
                                 sizeof(err)), 0);
    assert_int_equal(dest, 0x10b000);
}

/** Each `addr` line restarts placement there; later modules follow. */
static void test_modules_addr(void **state)
{
    struct cfg_item a = item(CFG_LOAD, "a.bin", 3);
    struct cfg_item b = item(CFG_LOAD, "b.bin", 4);
    struct cfg_item c = item(CFG_LOAD, "c.bin", 6);
    char err[PLAN_ERR_LEN];
    struct plan_mods m;
    uint64_t dest;
    (void)state;
    a.has_addr = b.has_addr = c.has_addr = true;
    a.addr = b.addr = 0x2000000;
    a.addr_seq = b.addr_seq = 1;
    c.addr = 0x3000000;
    c.addr_seq = 2;
    plan_mods_init(&m, 0x108304);
    assert_int_equal(plan_module(&m, &placer, &a, 0x1001, &dest, err,
                                 sizeof(err)), 0);
    assert_int_equal(dest, 0x2000000);
    assert_int_equal(plan_module(&m, &placer, &b, 10, &dest, err,
                                 sizeof(err)), 0);
    assert_int_equal(dest, 0x2002000);
    assert_int_equal(plan_module(&m, &placer, &c, 10, &dest, err,
                                 sizeof(err)), 0);
    assert_int_equal(dest, 0x3000000);
}

/** An unaligned `addr`, a module over the end of RAM, and a conflict. */
static void test_module_errors(void **state)
{
    struct cfg_item a = item(CFG_LOAD, "a.bin", 3);
    char err[PLAN_ERR_LEN];
    struct plan_mods m;
    uint64_t dest;
    (void)state;
    a.has_addr = true;
    a.addr = 0x2000800;
    a.addr_seq = 1;
    plan_mods_init(&m, 0x108304);
    assert_int_equal(plan_module(&m, &placer, &a, 10, &dest, err,
                                 sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "config-52-54-00-12-34-56:3: load: a.bin: "
                             "address 0x02000800 is not page-aligned");

    a.addr = 0x7FD0000;
    a.addr_seq = 2;
    assert_int_equal(plan_module(&m, &placer, &a, 0x20000, &dest, err,
                                 sizeof(err)), -PE_NORAM);
    assert_string_equal(err, "config-52-54-00-12-34-56:3: load: a.bin: "
                             "[0x07fd0000, 0x07ff0000) a.bin is not in "
                             "usable RAM ([0x07fe0000, 0x100000000) is "
                             "not RAM)");

    a.has_addr = false;
    plan_mods_init(&m, 0x108304);
    assert_int_equal(plan_module(&m, &placer, &a, 0x8000000, &dest, err,
                                 sizeof(err)), -PE_NORAM);
    assert_string_equal(err, "config-52-54-00-12-34-56:3: load: a.bin: "
                             "134217728 bytes do not fit in free RAM above "
                             "0x00109000");
}

/** A one-segment multiboot ELF at 1 MiB: the header is in the segment. */
static size_t tiny_kernel(uint8_t *b, size_t cap)
{
    uint32_t *w;

    assert_true(cap >= 0x1100);
    memset(b, 0, 0x1100);
    memcpy(b, "\x7f" "ELF\x01\x01\x01", 7);
    b[16] = 2;             /* ET_EXEC */
    b[18] = 3;             /* EM_386 */
    b[20] = 1;             /* EV_CURRENT */
    w = (uint32_t *)(b + 24);
    w[0] = 0x100010;       /* entry */
    w[1] = 52;             /* phoff */
    b[40] = 52;            /* ehsize */
    b[42] = 32;            /* phentsize */
    b[44] = 1;             /* phnum */
    w = (uint32_t *)(b + 52);
    w[0] = 1;              /* PT_LOAD */
    w[1] = 0x1000;         /* offset */
    w[2] = w[3] = 0x100000;
    w[4] = 0x100;          /* filesz */
    w[5] = 0x3000;         /* memsz */
    w = (uint32_t *)(b + 0x1000);
    w[0] = MB_HEADER_MAGIC;
    w[1] = 3;
    w[2] = -(MB_HEADER_MAGIC + 3);
    return 0x1100;
}

/** The kernel plan is claimed; its line names format, span and entry. */
static void test_kernel_plan(void **state)
{
    struct cfg_item k = item(CFG_EXEC, "k.elf", 2);
    static uint8_t b[0x2000];
    struct image_plan plan;
    char err[PLAN_ERR_LEN];
    struct place_conflict why;
    size_t n = tiny_kernel(b, sizeof(b));
    (void)state;
    assert_int_equal(plan_kernel(&placer, &k, b, n, (uint32_t)n, &plan, err,
                                 sizeof(err)), 0);
    plan_kernel_str(err, sizeof(err), &k, (uint32_t)n, &plan);
    assert_string_equal(err, "k.elf: 4352 bytes, multiboot ELF32, "
                             "00100000-00102fff, entry 00100010");
    assert_int_equal(place_check(&placer, 0x102000, 1, &why), -PE_OVERLAP);
    assert_string_equal(why.hit.what, "k.elf segment 1");
}

/** A kernel that is no multiboot image: "file:line: exec: path: why". */
static void test_kernel_errors(void **state)
{
    struct cfg_item k = item(CFG_EXEC, "k.elf", 2);
    static uint8_t b[0x2000];
    struct image_plan plan;
    char err[PLAN_ERR_LEN];
    (void)state;
    memset(b, 0x41, sizeof(b));
    assert_int_not_equal(plan_kernel(&placer, &k, b, sizeof(b), sizeof(b),
                                     &plan, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "config-52-54-00-12-34-56:2: exec: k.elf: "));
    assert_non_null(strstr(err, "multiboot"));

    /* A segment over Pulsar's heap: the conflict names both ranges. */
    tiny_kernel(b, sizeof(b));
    ((uint32_t *)(b + 52))[2] = ((uint32_t *)(b + 52))[3] = 0x20000;
    ((uint32_t *)(b + 24))[0] = 0x20010;
    assert_int_equal(plan_kernel(&placer, &k, b, 0x1100, 0x1100, &plan, err,
                                 sizeof(err)), -PE_OVERLAP);
    assert_string_equal(err, "config-52-54-00-12-34-56:2: exec: k.elf: "
                             "[0x00020000, 0x00023000) k.elf segment 1 "
                             "overlaps [0x00007c00, 0x0008c000) Pulsar "
                             "image and heap");
}

/** A bzImage header for plan_linux_kernel: protocol 2.15, 4 setup
 *  sectors, relocatable, pref_address 16 MiB, init_size 32 MiB. */
static void tiny_bzimage(uint8_t *b, size_t len)
{
    memset(b, 0, len);
    b[0x1F1] = 4;
    b[0x1FE] = 0x55;
    b[0x1FF] = 0xAA;
    memcpy(b + 0x202, "HdrS", 4);
    b[0x206] = 0x0F;
    b[0x207] = 0x02;
    b[0x211] = 1;                                     /* LOADED_HIGH */
    memcpy(b + 0x214, "\x00\x00\x10\x00", 4);          /* code32_start */
    memcpy(b + 0x22C, "\xff\xff\xff\x7f", 4);          /* initrd_addr_max */
    memcpy(b + 0x230, "\x00\x00\x20\x00", 4);          /* kernel_alignment */
    b[0x234] = 1;
    memcpy(b + 0x238, "\xff\x07\x00\x00", 4);          /* cmdline_size */
    memcpy(b + 0x258, "\x00\x00\x00\x01", 4);          /* pref_address */
    memcpy(b + 0x260, "\x00\x00\x00\x02", 4);          /* init_size */
}

/** A bzImage: the setup in the free low window, the kernel at 1 MiB, the
 *  unpack area and the initrd claimed with the names users see. */
static void test_linux_plan(void **state)
{
    struct cfg_item k = item(CFG_EXEC, "bzImage", 3);
    struct cfg_item r = item(CFG_LOAD, "initrd.img", 2);
    static uint8_t b[0x2000];
    struct image_plan plan;
    struct linux_plan lp;
    struct place_conflict why;
    uint32_t sizes[2] = { 1001, 5000 }, offs[2];
    char err[PLAN_ERR_LEN];
    (void)state;
    k.args = "console=ttyS0";
    tiny_bzimage(b, sizeof(b));
    assert_int_equal(plan_linux_kernel(&placer, &k, b, sizeof(b), 0x400000,
                                       &lp, &plan, err, sizeof(err)), 0);
    assert_int_equal(lp.setup_addr, LOW_END - LINUX_LOW_SIZE);
    assert_int_equal(lp.kernel_addr, 0x100000);
    assert_int_equal(place_check(&placer, lp.setup_addr, 1, &why),
                     -PE_OVERLAP);
    assert_string_equal(why.hit.what, "bzImage setup, heap and cmdline");
    assert_int_equal(place_check(&placer, 0x100000, 1, &why), -PE_OVERLAP);
    assert_string_equal(why.hit.what, "bzImage protected-mode part");
    assert_int_equal(place_check(&placer, 0x2FFFFFF, 1, &why), -PE_OVERLAP);
    assert_string_equal(why.hit.what, "bzImage unpack area (init_size)");

    /* Two parts: 4-byte aligned, as high as RAM allows, claimed. */
    assert_int_equal(plan_initrd(&placer, &lp, &r, sizes, 2, offs, err,
                                 sizeof(err)), 0);
    assert_int_equal(offs[1], 1004);
    assert_int_equal(lp.initrd_size, 6004);
    assert_int_equal(lp.initrd_addr, (0x7FE0000 - 6004) & ~0xFFFu);
    assert_int_equal(place_check(&placer, lp.initrd_addr, 1, &why),
                     -PE_OVERLAP);
    assert_string_equal(why.hit.what, "initrd");

    /* Too big: the message names the first part's line and the limit. */
    sizes[1] = 200u << 20;
    assert_int_equal(plan_initrd(&placer, &lp, &r, sizes, 2, offs, err,
                                 sizeof(err)), -PE_NORAM);
    assert_string_equal(err, "config-52-54-00-12-34-56:2: load: initrd.img: "
                             "initrd of 209716204 bytes does not fit in free "
                             "RAM below 0x80000000 (initrd_addr_max)");
    sizes[0] = sizes[1] = 0xA0000000u;
    assert_int_equal(plan_initrd(&placer, &lp, &r, sizes, 2, offs, err,
                                 sizeof(err)), -PE_RANGE);
    assert_non_null(strstr(err, "initrd.img: the 2 initrd parts add up"));

    /* A broken header: "file:line: exec: path: reason". */
    b[0x206] = 0x01;
    assert_int_equal(plan_linux_kernel(&placer, &k, b, sizeof(b), 0x400000,
                                       &lp, &plan, err, sizeof(err)),
                     -PE_UNSUPP);
    assert_string_equal(err, "config-52-54-00-12-34-56:3: exec: bzImage: "
                             "Linux boot protocol 2.01 is older than 2.02");
}

/** chld: the 0x90400-byte limit and the free base memory. */
/** Only the loads before a Linux exec are initrd parts. */
static void test_initrd_order(void **state)
{
    static const char good[] = "load a\nload b\nexec bz x\n";
    static const char late[] = "load a\nexec bz x\n# c\nload late\n";
    struct cfg cfg;
    struct cfg_state st;
    char err[PLAN_ERR_LEN];

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg_state_init(&st, "k", 0x0202000a);
    assert_int_equal(cfg_parse(&cfg, &st, "c.cfg", good, strlen(good), NULL,
                               NULL, err), 0);
    assert_int_equal(plan_initrd_order(&cfg, err, sizeof(err)), 0);
    cfg_free(&cfg);
    cfg_state_init(&st, "k", 0x0202000a);
    assert_int_equal(cfg_parse(&cfg, &st, "c.cfg", late, strlen(late), NULL,
                               NULL, err), 0);
    assert_int_equal(plan_initrd_order(&cfg, err, sizeof(err)), -PE_INVAL);
    assert_string_equal(err, "c.cfg:4: load: k/late: comes after the Linux "
                             "exec on line 2: only the loads before it are "
                             "initrd parts");
    cfg_free(&cfg);
}

static void test_chld_limits(void **state)
{
    struct cfg_item c = item(CFG_CHLD, "big.0", 5);
    char err[PLAN_ERR_LEN];
    (void)state;
    assert_int_equal(CHLD_MAX, 0x90400);
    assert_int_equal(plan_chld(&c, 42430, LOW_END, err, sizeof(err)), 0);
    assert_int_equal(plan_chld(&c, CHLD_MAX, 0xA0000, err, sizeof(err)), 0);
    assert_int_equal(plan_chld(&c, CHLD_MAX + 1, 0xA0000, err, sizeof(err)),
                     -PE_RANGE);
    assert_string_equal(err, "config-52-54-00-12-34-56:5: chld: big.0: "
                             "590849 bytes is over the 590848 bytes a PXE "
                             "boot program may have (0x07c00-0x98000)");
    /* A PXE stack lower down: base memory ends at 0x90000. */
    assert_int_equal(plan_chld(&c, 0x90000 - CHLD_LOAD, 0x90000, err,
                               sizeof(err)), 0);
    /* An odd size copies one more byte (whole words): that must fit too. */
    assert_int_equal(plan_chld(&c, 0x90000 - CHLD_LOAD - 1, 0x90000, err,
                               sizeof(err)), 0);
    assert_int_equal(plan_chld(&c, 0x90000 - CHLD_LOAD + 1, 0x90000, err,
                               sizeof(err)), -PE_RANGE);
    assert_string_equal(err, "config-52-54-00-12-34-56:5: chld: big.0: "
                             "558081 bytes at 0x07c00 would reach 0x90001, "
                             "but free base memory ends at 0x90000");
}

/** The ROM's stack is kept only where nobody wrote. */
static void test_chld_rom_stack(void **state)
{
    (void)state;
    /* iPXE under QEMU: in its own memory above base memory. */
    assert_true(plan_chld_keep_rom_stack(0x9ccc, 0x2f02, LOW_END));
    /* A ROM that used 0:7C00: Pulsar's stack is there now. */
    assert_false(plan_chld_keep_rom_stack(0, 0x7BF0, LOW_END));
    /* Just above base memory, but with less than 1.5 KiB below it. */
    assert_false(plan_chld_keep_rom_stack(LOW_END >> 4, 0x100, LOW_END));
    assert_true(plan_chld_keep_rom_stack(LOW_END >> 4, 0x600, LOW_END));
    /* The far pointer would cross 1 MiB. */
    assert_false(plan_chld_keep_rom_stack(0xFFFF, 0xFFFC, LOW_END));
}

/** pulsar.efi's placer: modules go past GNU Mach's boot heap,
 *  [1 MiB, 1 MiB + mem_upper), while RAM above it has room; an `addr`
 *  inside it is still obeyed. */
static void test_efi_placer_mach_heap(void **state)
{
    static const struct e820_entry ovmf[] = {
        { 0, 0xA0000, E820_RAM },
        { 0x100000, 0x700000, E820_RAM },
        { 0x800000, 0x100000, E820_NVS },
        { 0x900000, 0x7000000, E820_RAM },
    };
    struct cfg_item m1 = item(CFG_LOAD, "m1.bin", 3);
    struct cfg_item m2 = item(CFG_LOAD, "m2.bin", 4);
    struct plan_mods mods;
    struct placer p;
    uint64_t dest;
    char err[PLAN_ERR_LEN];

    (void)state;
    assert_int_equal(plan_efi_placer_init(&p, ovmf, 4), 0);
    assert_int_equal(p.clear_start, 0x100000);
    assert_int_equal(p.clear_end, 0x800000); /* mem_upper = 7168 KiB */
    assert_int_equal(place_claim(&p, 0x100000, 0x3000, "kernel", NULL), 0);
    plan_mods_init(&mods, 0x103000);
    assert_int_equal(plan_module(&mods, &p, &m1, 5000, &dest, err,
                                 sizeof(err)), 0);
    assert_int_equal(dest, 0x900000);
    assert_int_equal(plan_module(&mods, &p, &m2, 0x800000, &dest, err,
                                 sizeof(err)), 0);
    assert_int_equal(dest, 0x902000);
    place_fini(&p);

    /* `addr` is the user's word: inside the heap range all the same. */
    assert_int_equal(plan_efi_placer_init(&p, ovmf, 4), 0);
    m1.has_addr = true;
    m1.addr = 0x200000;
    m1.addr_seq = 1;
    plan_mods_init(&mods, 0x103000);
    assert_int_equal(plan_module(&mods, &p, &m1, 5000, &dest, err,
                                 sizeof(err)), 0);
    assert_int_equal(dest, 0x200000);
    place_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_placer_reserves_pulsar, setup,
                                        teardown),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test_setup_teardown(test_modules_after_kernel, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_modules_addr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_module_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kernel_plan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kernel_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_linux_plan, setup, teardown),
        cmocka_unit_test(test_initrd_order),
        cmocka_unit_test(test_chld_limits),
        cmocka_unit_test(test_chld_rom_stack),
        cmocka_unit_test(test_efi_placer_mach_heap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
