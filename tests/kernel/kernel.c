/*
 * Pulsar test kernel: reports the Multiboot 0.6.96 information it was
 * started with on COM1, one `TK ` line per value, checks what it can, and
 * leaves QEMU through isa-debug-exit.  tests/kernel/README.md documents
 * the line format; tests/e2e/harness.py parses it.
 *
 * Deliberately independent of Pulsar's own headers: a mistake in Pulsar's
 * idea of the multiboot layout must not be mirrored here.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB_BOOT_MAGIC 0x2badb002u

/* Multiboot information flags (spec 3.3). */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_AOUT_SYMS (1u << 4)
#define MBI_ELF_SHDR (1u << 5)
#define MBI_MMAP (1u << 6)
#define MBI_DRIVES (1u << 7)
#define MBI_CONFIG_TABLE (1u << 8)
#define MBI_LOADER_NAME (1u << 9)
#define MBI_VBE (1u << 11)
#define MBI_FRAMEBUFFER (1u << 12)

/* The whole 0.6.96 information structure: 88 bytes up to the VBE fields,
 * 116 with the framebuffer (valid when flags bit 11 or 12 is set). */
struct mbi {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
    uint32_t apm_table;
    uint32_t vbe_control_info, vbe_mode_info;
    uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
    uint64_t fb_addr;
    uint32_t fb_pitch, fb_width, fb_height;
    uint8_t fb_bpp, fb_type;
    uint8_t fb_color[6];
} __attribute__((packed));
#define MBI_SIZE 88u
#define MBI_SIZE_FB 116u

struct mb_mod {
    uint32_t start, end; /* [start, end): end is one past the last byte */
    uint32_t cmdline;
    uint32_t reserved;
} __attribute__((packed));

struct mb_mmap {
    uint32_t size; /* of the entry, not counting this field */
    uint64_t base, len;
    uint32_t type;
} __attribute__((packed));

/* Bounds that keep a garbage info structure from hanging the kernel. */
#define MAX_MODS 64u       /* modules examined (more is reported as error) */
#define MAX_MMAP 128u      /* memory map entries examined */
#define MAX_EFI_MMAP 512u  /* EFI memory map descriptors printed */
#define MAX_STR 4096u      /* longest string printed */
#define MAX_CRC_LEN (1u << 30) /* modules bigger than this are not summed */
#define MAX_SECTIONS 64u    /* ELF sections examined */
#define MAX_RANGES (2u * MAX_MODS + MAX_SECTIONS + 16u)

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define EXIT_OK 0x10   /* QEMU exits with (0x10 << 1) | 1 = 33 */
#define EXIT_FAIL 0x11 /* ... and 35 */

#define PAGE_SIZE 4096u

/* Linker-script symbols: the kernel's span; entry.asm's records. */
extern char _tk_start[], _tk_end[], _tk_text_end[], _tk_data_start[];
void tk_main(uint32_t magic, uint32_t info);
extern uint32_t tk_entry_eflags, tk_entry_cr0;
/* What the amd64 EFI entry found (entry.asm, -DTK_EFI64; else zero). */
extern uint32_t tk_efi64_used, tk_efi64_magic, tk_efi64_rflags;
extern uint32_t tk_efi64_efer, tk_efi64_cr0, tk_efi64_gmm_called;
extern uint64_t tk_efi64_info, tk_efi64_gmm_status, tk_efi64_gmm_size;
extern uint64_t tk_efi64_gmm_desc_size;

/** A physical address range [start, end), with a name for messages. */
struct range {
    uint64_t start, end;
    const char *what;
    int idx; /* module number, or -1 */
};

static unsigned error_count;
static uint32_t crc_table[4][256];
static volatile uint32_t a20_probe; /* lives above 1 MiB, in our bss */
static const char hex_digits[] = "0123456789abcdef";

/** Write @val to I/O port @port. */
static inline void outb(uint16_t port, uint8_t val)
{
    __asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

/** Read a byte from I/O port @port. */
static inline uint8_t inb(uint16_t port)
{
    uint8_t val;
    __asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
    return val;
}

/** Program COM1 for 115200 baud, 8 data bits, no parity, 1 stop bit. */
static void serial_init(void)
{
    outb(COM1 + 1, 0x00); /* no interrupts: we poll */
    outb(COM1 + 3, 0x80); /* DLAB on to reach the divisor */
    outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* DLAB off, 8n1 */
    outb(COM1 + 2, 0xc7); /* FIFOs on and cleared */
    outb(COM1 + 4, 0x03); /* DTR, RTS */
}

/** Send one byte, waiting (boundedly: a missing UART reads 0xff) for room. */
static void serial_putc(char c)
{
    for (unsigned spins = 0; spins < 1000000; spins++)
        if (inb(COM1 + 5) & 0x20) /* LSR: transmit holding register empty */
            break;
    outb(COM1, (uint8_t)c);
}

/** Send a NUL-terminated string of the kernel's own. */
static void put_str(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

/** Send @val as 0x-prefixed lower-case hex with @digits digits. */
static void put_hex(uint64_t val, int digits)
{
    put_str("0x");
    for (int i = digits - 1; i >= 0; i--)
        serial_putc(hex_digits[(val >> (4 * i)) & 0xf]);
}

/** Send @val in decimal. */
static void put_dec(uint32_t val)
{
    char buf[11];
    int n = 0;
    do {
        buf[n++] = (char)('0' + val % 10);
        val /= 10;
    } while (val);
    while (n)
        serial_putc(buf[--n]);
}

/**
 * Length of the guest string at @addr, scanning at most MAX_STR bytes.
 * Returns false if no NUL was found within the bound.
 */
static bool guest_strlen(uint32_t addr, uint32_t *len)
{
    const volatile char *s = (const volatile char *)(uintptr_t)addr;
    for (uint32_t n = 0; n < MAX_STR; n++) {
        if (s[n] == '\0') {
            *len = n;
            return true;
        }
    }
    *len = MAX_STR;
    return false;
}

/**
 * Send a string the loader gave us.  Printable ASCII goes out as is;
 * other bytes, and the backslash itself, as \xNN, so a line stays a line.
 */
static void put_guest_str(uint32_t addr)
{
    const volatile uint8_t *s = (const volatile uint8_t *)(uintptr_t)addr;
    uint32_t len;
    bool terminated = guest_strlen(addr, &len);

    for (uint32_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            serial_putc((char)c);
        } else {
            put_str("\\x");
            serial_putc(hex_digits[c >> 4]);
            serial_putc(hex_digits[c & 0xf]);
        }
    }
    if (!terminated)
        put_str("...");
}

/**
 * The kernel's printf, for whole lines.  Conversions:
 *   %s  kernel string       %S  guest string (uint32_t address), escaped
 *   %u  uint32_t decimal    %x  uint32_t as 0x + 8 hex digits
 *   %X  uint64_t as 0x + 16 hex digits
 * Each line starts with "TK " and ends with CR LF.
 */
static void tk_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    put_str("TK ");
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            serial_putc(*p);
            continue;
        }
        switch (*++p) {
        case 's':
            put_str(va_arg(ap, const char *));
            break;
        case 'S':
            put_guest_str(va_arg(ap, uint32_t));
            break;
        case 'u':
            put_dec(va_arg(ap, uint32_t));
            break;
        case 'x':
            put_hex(va_arg(ap, uint32_t), 8);
            break;
        case 'X':
            put_hex(va_arg(ap, uint64_t), 16);
            break;
        case '%':
            serial_putc('%');
            break;
        default: /* a bug in this file: show it rather than hide it */
            put_str("<bad format>");
            p--;
            break;
        }
    }
    va_end(ap);
    put_str("\r\n");
}

/* Error lines are TK lines whose first word is "error"; count them. */
#define tk_error(...)                                                          \
    do {                                                                       \
        error_count++;                                                         \
        tk_line("error " __VA_ARGS__);                                         \
    } while (0)

/** Build the slicing-by-4 tables for the reflected IEEE CRC-32. */
static void crc32_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 4; t++)
            crc_table[t][n] = (crc_table[t - 1][n] >> 8) ^
                              crc_table[0][crc_table[t - 1][n] & 0xff];
}

/** zlib-compatible CRC-32 of @len bytes at physical address @addr. */
static uint32_t crc32(uint32_t addr, uint32_t len)
{
    typedef uint32_t __attribute__((may_alias, aligned(1))) u32_unaligned;
    const uint8_t *p = (const uint8_t *)(uintptr_t)addr;
    uint32_t c = 0xffffffffu;

    /* Four bytes a step: under TCG this is what keeps big modules quick. */
    for (; len >= 4; len -= 4, p += 4) {
        c ^= *(const u32_unaligned *)p; /* x86 is little-endian */
        c = crc_table[3][c & 0xff] ^ crc_table[2][(c >> 8) & 0xff] ^
            crc_table[1][(c >> 16) & 0xff] ^ crc_table[0][c >> 24];
    }
    for (; len; len--, p++)
        c = crc_table[0][(c ^ *p) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

/** True if the non-empty ranges @a and @b share a byte. */
static bool ranges_overlap(const struct range *a, const struct range *b)
{
    return a->start < a->end && b->start < b->end && a->start < b->end &&
           b->start < a->end;
}

/** Print "what" or "what N" for a range in an error message. */
static void name_range(const struct range *r, char *buf, size_t size)
{
    size_t n = 0;
    for (const char *s = r->what; *s && n + 1 < size; s++)
        buf[n++] = *s;
    if (r->idx >= 0 && n + 4 < size) {
        buf[n++] = ' ';
        if (r->idx >= 10)
            buf[n++] = (char)('0' + r->idx / 10 % 10);
        buf[n++] = (char)('0' + r->idx % 10);
    }
    buf[n] = '\0';
}

/** Report an error if ranges @a and @b overlap. */
static void check_no_overlap(const struct range *a, const struct range *b)
{
    char an[32], bn[32];
    if (!ranges_overlap(a, b))
        return;
    name_range(a, an, sizeof(an));
    name_range(b, bn, sizeof(bn));
    tk_error("overlap %s=%X-%X %s=%X-%X", an, a->start, a->end, bn, b->start,
             b->end);
}

/**
 * True if every byte of [start, end) lies in memory-map entries of type 1
 * (available RAM); adjacent entries may share the range.
 */
static bool in_ram(const volatile struct mbi *mbi, uint64_t start, uint64_t end)
{
    uint64_t pos = start;
    for (unsigned step = 0; pos < end && step < MAX_MMAP; step++) {
        uint32_t off = 0;
        bool advanced = false;
        for (unsigned i = 0; i < MAX_MMAP && off + 24 <= mbi->mmap_length;
             i++) {
            const struct mb_mmap *e =
                (const struct mb_mmap *)(uintptr_t)(mbi->mmap_addr + off);
            if (e->size < 20)
                break;
            if (e->type == 1 && e->base <= pos && pos < e->base + e->len) {
                pos = e->base + e->len;
                advanced = true;
                break;
            }
            off += e->size + 4;
        }
        if (!advanced)
            return false;
    }
    return pos >= end;
}

/** Report whether the A20 line is enabled: does 1 MiB wrap to 0? */
static bool a20_enabled(void)
{
    volatile uint32_t *hi = &a20_probe;
    volatile uint32_t *lo = (volatile uint32_t *)((uintptr_t)hi - 0x100000);

    *hi = 0x5a5aa5a5u;
    if (*lo != *hi)
        return true;
    *hi = ~*hi; /* maybe low memory held the same value by chance */
    return *lo != *hi;
}

/** Print the memory map; returns the number of entries seen. */
static uint32_t report_mmap(const volatile struct mbi *mbi)
{
    uint32_t off = 0, count = 0;

    /* Count first, so mmap_count comes before the entries. */
    while (off < mbi->mmap_length && count < MAX_MMAP) {
        const struct mb_mmap *e =
            (const struct mb_mmap *)(uintptr_t)(mbi->mmap_addr + off);
        if (off + 24 > mbi->mmap_length || e->size < 20)
            break;
        off += e->size + 4;
        count++;
    }
    tk_line("mmap_count=%u", count);
    if (off != mbi->mmap_length)
        tk_error("mmap_length=%u but entries end at offset %u",
                 mbi->mmap_length, off);
    if (count == 0)
        tk_error("memory map is empty");

    off = 0;
    for (uint32_t i = 0; i < count; i++) {
        const struct mb_mmap *e =
            (const struct mb_mmap *)(uintptr_t)(mbi->mmap_addr + off);
        tk_line("mmap %u base=%X len=%X type=%u", i, e->base, e->len, e->type);
        off += e->size + 4;
    }
    return count;
}

/**
 * Print the modules and collect their ranges into @mods.
 * Returns the number of modules examined (at most MAX_MODS).
 */
static uint32_t report_mods(const volatile struct mbi *mbi, bool have_mmap,
                            struct range *mods)
{
    const struct mb_mod *m = (const struct mb_mod *)(uintptr_t)mbi->mods_addr;
    uint32_t n = mbi->mods_count;

    tk_line("mods_count=%u", n);
    if (n > MAX_MODS) {
        tk_error("mods_count=%u: only the first %u are checked", n, MAX_MODS);
        n = MAX_MODS;
    }
    if (n && mbi->mods_addr == 0) {
        tk_error("mods_addr is 0");
        return 0;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t start = m[i].start, end = m[i].end;
        uint32_t size = end >= start ? end - start : 0;
        bool sane = end >= start && size <= MAX_CRC_LEN &&
                    (!have_mmap || in_ram(mbi, start, end));
        uint32_t crc = sane ? crc32(start, size) : 0;

        if (m[i].cmdline)
            tk_line("mod %u start=%x end=%x size=%u crc32=%x cmdline=%S", i,
                    start, end, size, crc, m[i].cmdline);
        else
            tk_line("mod %u start=%x end=%x size=%u crc32=%x no_cmdline", i,
                    start, end, size, crc);

        if (end < start)
            tk_error("mod %u ends before it starts", i);
        else if (size > MAX_CRC_LEN)
            tk_error("mod %u is implausibly large; not summed", i);
        else if (!sane)
            tk_error("mod %u=%x-%x is not in available RAM; not summed", i,
                     start, end);
        if (start % PAGE_SIZE)
            tk_error("mod %u start=%x is not page-aligned (header bit 0)", i,
                     start);
        mods[i] = (struct range){start, end >= start ? end : start, "mod",
                                 (int)i};
    }
    return n;
}

/** Read a little-endian value of @n bytes (at most 8) at @addr. */
static uint64_t peek(uint32_t addr, unsigned n)
{
    const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)addr;
    uint64_t v = 0;
    while (n--)
        v = (v << 8) | p[n];
    return v;
}

/** True if the guest NUL-terminated string at @addr equals @want. */
static bool guest_streq(uint32_t addr, const char *want)
{
    const volatile char *s = (const volatile char *)(uintptr_t)addr;
    uint32_t i = 0;
    for (; want[i]; i++)
        if (s[i] != want[i])
            return false;
    return s[i] == '\0';
}

/** One ELF section header, from either class (sh_size 40 or 64). */
struct shdr {
    uint32_t name, type, link;
    uint64_t addr, offset, size, entsize;
};

/** Read section header @i of the table the loader passed. */
static void shdr_at(const volatile struct mbi *mbi, uint32_t i,
                    struct shdr *sh)
{
    uint32_t at = mbi->syms[2] + i * mbi->syms[1];
    bool is64 = mbi->syms[1] >= 64;

    sh->name = (uint32_t)peek(at, 4);
    sh->type = (uint32_t)peek(at + 4, 4);
    sh->addr = is64 ? peek(at + 16, 8) : peek(at + 12, 4);
    sh->offset = is64 ? peek(at + 24, 8) : peek(at + 16, 4);
    sh->size = is64 ? peek(at + 32, 8) : peek(at + 20, 4);
    sh->link = (uint32_t)(is64 ? peek(at + 40, 4) : peek(at + 24, 4));
    sh->entsize = is64 ? peek(at + 56, 8) : peek(at + 36, 4);
}

/**
 * Print the ELF section header facts (flags bit 5) and prove they work:
 * find .symtab by name through the loader-given table and look up
 * tk_main in it; its value must be tk_main's address.  Adds the table
 * and every section outside the kernel to @r (for the overlap checks).
 */
static unsigned report_syms(const volatile struct mbi *mbi, struct range *r,
                            unsigned n)
{
    uint32_t num = mbi->syms[0], size = mbi->syms[1], addr = mbi->syms[2];
    uint32_t shndx = mbi->syms[3], found = 0;
    struct shdr sh, strs, names;

    tk_line("syms_num=%u", num);
    tk_line("syms_size=%u", size);
    tk_line("syms_addr=%x", addr);
    tk_line("syms_shndx=%u", shndx);
    if ((size != 40 && size != 64) || num > MAX_SECTIONS || shndx >= num ||
        addr == 0) {
        tk_error("syms: implausible section header table");
        return n;
    }
    if (n < MAX_RANGES)
        r[n++] = (struct range){addr, (uint64_t)addr + num * size,
                                "shdr_table", -1};
    shdr_at(mbi, shndx, &names);
    for (uint32_t i = 0; i < num; i++) {
        shdr_at(mbi, i, &sh);
        if (sh.addr && sh.size && sh.type != 8 /* NOBITS */ &&
            (sh.addr < (uintptr_t)_tk_start || sh.addr >= (uintptr_t)_tk_end)
            && n < MAX_RANGES)
            r[n++] = (struct range){sh.addr, sh.addr + sh.size, "section",
                                    (int)i};
        if (sh.type != 2 /* SYMTAB */ || !names.addr ||
            !guest_streq((uint32_t)names.addr + sh.name, ".symtab"))
            continue;
        if (!sh.addr || sh.link >= num || sh.entsize < 16) {
            tk_error("syms: .symtab has no address or no string table");
            break;
        }
        shdr_at(mbi, sh.link, &strs);
        for (uint64_t o = 0; o + sh.entsize <= sh.size; o += sh.entsize) {
            uint32_t e = (uint32_t)(sh.addr + o);
            uint32_t name = (uint32_t)peek(e, 4);
            uint64_t value = size == 64 ? peek(e + 8, 8) : peek(e + 4, 4);
            if (strs.addr && guest_streq((uint32_t)strs.addr + name,
                                         "tk_main")) {
                found = (uint32_t)value;
                break;
            }
        }
    }
    tk_line("syms_tk_main=%x", found);
    if (found != (uint32_t)(uintptr_t)tk_main)
        tk_error("syms: tk_main found at %x, it is at %x", found,
                 (uint32_t)(uintptr_t)tk_main);
    return n;
}

/** Bochs/QEMU std VGA (VBE "DISPI") register @idx: the mode really set. */
static uint16_t dispi(uint16_t idx)
{
    __asm__ volatile("outw %0, %1" : : "a"(idx), "Nd"((uint16_t)0x1ce));
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"((uint16_t)0x1cf));
    return v;
}

/** PCI configuration dword @reg of bus 0 device @dev function 0
 *  (mechanism #1, ports 0xcf8/0xcfc). */
static uint32_t pci_read(unsigned dev, unsigned reg)
{
    uint32_t v, addr = 0x80000000u | (dev << 11) | (reg & 0xfc);

    __asm__ volatile("outl %0, %1" : : "a"(addr), "Nd"((uint16_t)0xcf8));
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)0xcfc));
    return v;
}

/** Write @v to PCI configuration dword @reg of bus 0 device @dev. */
static void pci_write(unsigned dev, unsigned reg, uint32_t v)
{
    uint32_t addr = 0x80000000u | (dev << 11) | (reg & 0xfc);

    __asm__ volatile("outl %0, %1" : : "a"(addr), "Nd"((uint16_t)0xcf8));
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"((uint16_t)0xcfc));
}

/**
 * The first display adapter on PCI bus 0 (class 03h) and its BAR 0 (a
 * 32-bit memory BAR: QEMU std VGA's framebuffer), sized the PCI way
 * (all ones written, the size read back, the base restored).  Sets
 * [*start, *end); false when there is none.
 */
static bool display_bar(uint32_t *start, uint32_t *end)
{
    for (unsigned dev = 0; dev < 32; dev++) {
        uint32_t id = pci_read(dev, 0), bar, size;

        if ((id & 0xffff) == 0xffff || (pci_read(dev, 8) >> 24) != 0x03)
            continue;
        bar = pci_read(dev, 0x10);
        if (bar & 1) /* an I/O BAR: not a framebuffer */
            return false;
        pci_write(dev, 0x10, 0xffffffffu);
        size = ~(pci_read(dev, 0x10) & ~0xfu) + 1;
        pci_write(dev, 0x10, bar);
        *start = bar & ~0xfu;
        *end = *start + size;
        return size != 0;
    }
    return false;
}

/** A framebuffer as either Multiboot version describes it. */
struct fbinfo {
    uint64_t addr;
    uint32_t pitch, width, height;
    uint8_t bpp, type;
    uint8_t color[6]; /* RGB field positions and sizes (type 1) */
};

static void report_fb(const struct fbinfo *f);

/** Print the VBE (bit 11) and framebuffer (bit 12) fields and check them. */
static void report_video(const volatile struct mbi *mbi)
{
    uint32_t flags = mbi->flags;

    if (flags & MBI_VBE) {
        uint32_t ci = mbi->vbe_control_info, mi = mbi->vbe_mode_info;
        tk_line("vbe_mode=%x", (uint32_t)mbi->vbe_mode);
        tk_line("vbe_control_info=%x", ci);
        tk_line("vbe_mode_info=%x", mi);
        if (!ci || !mi) {
            tk_error("vbe: a block address is 0");
        } else {
            bool vesa = peek(ci, 4) == 0x41534556u; /* "VESA" */
            tk_line("vbe_signature=%s", vesa ? "VESA" : "bad");
            tk_line("vbe_version=%x", (uint32_t)peek(ci + 4, 2));
            if (!vesa)
                tk_error("vbe: controller info lacks the VESA signature");
        }
    } else {
        tk_line("no_vbe");
    }
    if (!(flags & MBI_FRAMEBUFFER)) {
        tk_line("no_fb");
        return;
    }
    const struct fbinfo fb = {
        mbi->fb_addr, mbi->fb_pitch, mbi->fb_width, mbi->fb_height,
        mbi->fb_bpp, mbi->fb_type,
        { mbi->fb_color[0], mbi->fb_color[1], mbi->fb_color[2],
          mbi->fb_color[3], mbi->fb_color[4], mbi->fb_color[5] } };
    report_fb(&fb);
    if (mbi->fb_type == 1 && (flags & MBI_VBE) && mbi->vbe_mode_info &&
        (peek(mbi->vbe_mode_info + 18, 2) != mbi->fb_width ||
         peek(mbi->vbe_mode_info + 20, 2) != mbi->fb_height ||
         peek(mbi->vbe_mode_info + 40, 4) != mbi->fb_addr))
        tk_error("fb: fields disagree with the VBE mode info");
}

/** Print a framebuffer's fields (Multiboot 1 bit 12 or Multiboot2 tag 8)
 *  and check them against what the adapter really does (QEMU std VGA's
 *  VBE registers, its PCI BAR 0). */
static void report_fb(const struct fbinfo *f)
{
    tk_line("fb_addr=%X", f->addr);
    tk_line("fb_pitch=%u", f->pitch);
    tk_line("fb_width=%u", f->width);
    tk_line("fb_height=%u", f->height);
    tk_line("fb_bpp=%u", (uint32_t)f->bpp);
    tk_line("fb_type=%u", (uint32_t)f->type);
    tk_line("dispi_enabled=%u", (uint32_t)(dispi(4) & 1));
    if (f->type == 1) {
        tk_line("fb_color=%u,%u,%u,%u,%u,%u", (uint32_t)f->color[0],
                (uint32_t)f->color[1], (uint32_t)f->color[2],
                (uint32_t)f->color[3], (uint32_t)f->color[4],
                (uint32_t)f->color[5]);
        tk_line("dispi_mode=%ux%ux%u", (uint32_t)dispi(1),
                (uint32_t)dispi(2), (uint32_t)dispi(3));
        uint32_t bar_start, bar_end;
        if (display_bar(&bar_start, &bar_end)) {
            uint64_t fb_end = f->addr + (uint64_t)f->pitch * f->height;
            tk_line("fb_bar=%x-%x", bar_start, bar_end);
            if (f->addr < bar_start || fb_end > bar_end)
                tk_error("fb: %X-%X is not inside the display's BAR 0",
                         f->addr, fb_end);
        } else {
            tk_line("no_fb_bar");
        }
        if (dispi(1) != f->width || dispi(2) != f->height ||
            dispi(3) != f->bpp || !(dispi(4) & 1))
            tk_error("fb: the adapter is not in the mode the info says");
    } else if (f->type == 2) {
        if (f->addr != 0xb8000 || (dispi(4) & 1))
            tk_error("fb: EGA text, but not at 0xb8000 or not in text mode");
    }
}

/**
 * Add the range of the guest string at @addr (NUL included) to @r.
 * Returns the new count.
 */
static unsigned add_string_range(struct range *r, unsigned n, uint32_t addr,
                                 const char *what, int idx)
{
    uint32_t len;
    if (!addr || n >= MAX_RANGES)
        return n;
    if (!guest_strlen(addr, &len))
        tk_error("%s string at %x has no NUL within %u bytes", what, addr,
                 MAX_STR);
    r[n] = (struct range){addr, (uint64_t)addr + len + 1, what, idx};
    return n + 1;
}

/**
 * Check that modules, the kernel and the loader's own structures (info,
 * module list, memory map, strings) do not overlap, and that the kernel
 * and the modules are in available RAM.
 */
static void check_layout(const volatile struct mbi *mbi, uint32_t info,
                         bool have_mmap, const struct range *mods,
                         uint32_t nmods)
{
    static struct range loader[MAX_RANGES];
    const struct range kernel = {(uintptr_t)_tk_start, (uintptr_t)_tk_end,
                                 "kernel", -1};
    uint32_t flags = mbi->flags;
    unsigned n = 0;

    loader[n++] = (struct range){info, (uint64_t)info +
                                 (flags & (MBI_VBE | MBI_FRAMEBUFFER)
                                      ? MBI_SIZE_FB : MBI_SIZE),
                                 "info", -1};
    if (flags & MBI_ELF_SHDR)
        n = report_syms(mbi, loader, n);
    if (flags & MBI_CMDLINE)
        n = add_string_range(loader, n, mbi->cmdline, "cmdline", -1);
    if (flags & MBI_LOADER_NAME)
        n = add_string_range(loader, n, mbi->boot_loader_name, "loader", -1);
    if (flags & MBI_MMAP)
        loader[n++] =
            (struct range){mbi->mmap_addr,
                           (uint64_t)mbi->mmap_addr + mbi->mmap_length,
                           "mmap_buffer", -1};
    if (flags & MBI_MODS) {
        const struct mb_mod *m =
            (const struct mb_mod *)(uintptr_t)mbi->mods_addr;
        loader[n++] = (struct range){
            mbi->mods_addr, (uint64_t)mbi->mods_addr + 16ull * nmods,
            "mods_list", -1};
        for (uint32_t i = 0; i < nmods; i++)
            n = add_string_range(loader, n, m[i].cmdline, "mod_cmdline",
                                 (int)i);
    }

    /* Where each lies, for the harness (GNU Mach's boot heap check). */
    for (unsigned i = 0; i < n; i++) {
        if (loader[i].idx < 0)
            tk_line("at_%s=%x-%x", loader[i].what, (uint32_t)loader[i].start,
                    (uint32_t)loader[i].end);
        else
            tk_line("at_%s_%u=%x-%x", loader[i].what,
                    (uint32_t)loader[i].idx, (uint32_t)loader[i].start,
                    (uint32_t)loader[i].end);
    }
    for (unsigned i = 0; i < n; i++)
        check_no_overlap(&loader[i], &kernel);
    for (uint32_t i = 0; i < nmods; i++) {
        check_no_overlap(&mods[i], &kernel);
        for (uint32_t j = i + 1; j < nmods; j++)
            check_no_overlap(&mods[i], &mods[j]);
        for (unsigned j = 0; j < n; j++)
            check_no_overlap(&mods[i], &loader[j]);
    }
    if (have_mmap && !in_ram(mbi, kernel.start, kernel.end))
        tk_error("kernel=%x-%x is not in available RAM", (uint32_t)kernel.start,
                 (uint32_t)kernel.end);
}

#ifdef TK_BIG_BSS
/* The big-bss build (kernel.mk): a bss the loader must zero, all of it. */
static volatile uint32_t tk_big_bss[TK_BIG_BSS / 4];

/** Report the big bss's size and check that every byte of it is 0. */
static void check_big_bss(void)
{
    uint32_t bad = 0;

    for (uint32_t i = 0; i < TK_BIG_BSS / 4; i++)
        bad |= tk_big_bss[i];
    tk_line("big_bss=%u", (uint32_t)TK_BIG_BSS);
    if (bad)
        tk_error("big_bss: not all zero");
}
#else
/** Only the big-bss build has one. */
static void check_big_bss(void)
{
}
#endif

/** Check the machine state the spec promises at entry (section 3.2). */
static void check_machine_state(void)
{
    tk_line("cr0=%x", tk_entry_cr0);
    tk_line("eflags=%x", tk_entry_eflags);
    if (!(tk_entry_cr0 & 1))
        tk_error("CR0.PE is clear: not in protected mode");
    if (tk_entry_cr0 & 0x80000000u)
        tk_error("CR0.PG is set: paging must be off");
    if (tk_entry_eflags & (1u << 9))
        tk_error("EFLAGS.IF is set: interrupts must be disabled");
    if (tk_entry_eflags & (1u << 17))
        tk_error("EFLAGS.VM is set: must not be in virtual-8086 mode");
    if (!a20_enabled())
        tk_error("A20 is disabled");
}


/* ------------------------------------------------------------ Multiboot2 */

#define MB2_BOOT_MAGIC 0x36d76289u
#define MB2_MAX_TAGS 256u

/**
 * What the amd64 EFI entry found, when it ran: long mode really on
 * (EFER.LMA, CR0.PG), the magic in EAX, the info in RBX below 4 GiB, and
 * GetMemoryMap's answer through the system table (boot services alive).
 */
static void report_efi64_entry(void)
{
    if (!tk_efi64_used)
        return;
    tk_line("efi64_entry=yes");
    tk_line("efi64_magic=%x", tk_efi64_magic);
    tk_line("efi64_rbx=%X", tk_efi64_info);
    tk_line("efi64_efer=%x", tk_efi64_efer);
    tk_line("efi64_cr0=%x", tk_efi64_cr0);
    tk_line("efi64_if=%u", (tk_efi64_rflags >> 9) & 1);
    if (!(tk_efi64_efer & (1u << 10)) || !(tk_efi64_cr0 & 0x80000000u))
        tk_error("amd64 EFI entry: not in long mode (EFER %x, CR0 %x)",
                 tk_efi64_efer, tk_efi64_cr0);
    if (tk_efi64_magic != MB2_BOOT_MAGIC)
        tk_error("amd64 EFI entry: EAX=%x", tk_efi64_magic);
    if (tk_efi64_info >> 32)
        tk_error("amd64 EFI entry: RBX=%X lies above 4 GiB", tk_efi64_info);
    if (!tk_efi64_gmm_called) {
        tk_error("amd64 EFI entry: no tag 12, GetMemoryMap not called");
        return;
    }
    tk_line("efi64_gmm_status=%X", tk_efi64_gmm_status);
    tk_line("efi64_gmm_size=%u", (uint32_t)tk_efi64_gmm_size);
    tk_line("efi64_gmm_desc_size=%u", (uint32_t)tk_efi64_gmm_desc_size);
    if (tk_efi64_gmm_status)
        tk_error("GetMemoryMap through the system table: status %X",
                 tk_efi64_gmm_status);
}


/** The bytes of an IPv4 address at @addr as a dotted quad line field. */
static void put_ip_line(const char *what, uint32_t addr)
{
    tk_line("%s=%u.%u.%u.%u", what, (uint32_t)peek(addr, 1),
            (uint32_t)peek(addr + 1, 1), (uint32_t)peek(addr + 2, 1),
            (uint32_t)peek(addr + 3, 1));
}

/** Tag 17, the EFI memory map: descriptor size and version, then each
 *  descriptor as `efimap N=type physical_start pages`. */
static void report_efi_mmap(uint32_t t, uint32_t size)
{
    uint32_t dsize = (uint32_t)peek(t + 8, 4), n, i;

    tk_line("efi_mmap desc_size=%u", dsize);
    tk_line("efi_mmap version=%u", (uint32_t)peek(t + 12, 4));
    if (dsize < 40) { /* type, pad, physical, virtual, pages, attribute */
        tk_error("EFI memory map: descriptor size %u is below 40", dsize);
        return;
    }
    n = (size - 16) / dsize;
    tk_line("efi_mmap_count=%u", n);
    if ((size - 16) % dsize)
        tk_error("EFI memory map tag size %u is not 16 + n * %u", size,
                 dsize);
    for (i = 0; i < n && i < MAX_EFI_MMAP; i++) {
        uint32_t d = t + 16 + i * dsize;
        tk_line("efimap %u=%u %X %X", i, (uint32_t)peek(d, 4), peek(d + 8, 8),
                peek(d + 24, 8));
    }
}

/** Print one Multiboot2 tag at @t (@size bytes); module ranges to @mods. */
static void report_mb2_tag(uint32_t t, uint32_t type, uint32_t size,
                           struct range *mods, uint32_t *nmods)
{
    switch (type) {
    case 1:
        tk_line("cmdline=%S", t + 8);
        break;
    case 2:
        tk_line("loader=%S", t + 8);
        break;
    case 3: {
        uint32_t start = (uint32_t)peek(t + 8, 4), end = (uint32_t)peek(t + 12, 4);
        uint32_t i = *nmods, len = end >= start ? end - start : 0;
        uint32_t crc = end >= start && len <= MAX_CRC_LEN ? crc32(start, len) : 0;

        tk_line("mod %u start=%x end=%x size=%u crc32=%x cmdline=%S", i, start,
                end, len, crc, t + 16);
        if (end < start)
            tk_error("mod %u ends before it starts", i);
        if (start % PAGE_SIZE)
            tk_error("mod %u start=%x is not page-aligned (module alignment "
                     "tag)", i, start);
        if (i < MAX_MODS) {
            mods[i] = (struct range){start, end >= start ? end : start, "mod",
                                     (int)i};
            (*nmods)++;
        }
        break;
    }
    case 4:
        tk_line("mem_lower=%u", (uint32_t)peek(t + 8, 4));
        tk_line("mem_upper=%u", (uint32_t)peek(t + 12, 4));
        break;
    case 6: {
        uint32_t esize = (uint32_t)peek(t + 8, 4), n, i;

        if (esize < 24) {
            tk_error("mmap entry_size=%u is below 24", esize);
            break;
        }
        n = (size - 16) / esize;
        tk_line("mmap_count=%u", n);
        if ((size - 16) % esize)
            tk_error("mmap tag size %u is not 16 + n * %u", size, esize);
        for (i = 0; i < n && i < MAX_MMAP; i++) {
            uint32_t e = t + 16 + i * esize;
            tk_line("mmap %u base=%X len=%X type=%u", i, peek(e, 8),
                    peek(e + 8, 8), (uint32_t)peek(e + 16, 4));
        }
        break;
    }
    case 7:
        tk_line("vbe_mode=%x", (uint32_t)peek(t + 8, 2));
        /* The controller info follows mode, segment, offset, length. */
        if (peek(t + 16, 4) == 0x41534556u) /* "VESA" */
            tk_line("vbe_signature=VESA");
        else
            tk_error("vbe tag: controller info without VESA signature");
        break;
    case 8: {
        struct fbinfo fb = {
            peek(t + 8, 8), (uint32_t)peek(t + 16, 4),
            (uint32_t)peek(t + 20, 4), (uint32_t)peek(t + 24, 4),
            (uint8_t)peek(t + 28, 1), (uint8_t)peek(t + 29, 1), { 0 } };

        for (uint32_t i = 0; i < 6 && fb.type == 1 && 32 + i < size; i++)
            fb.color[i] = (uint8_t)peek(t + 32 + i, 1);
        report_fb(&fb);
        break;
    }
    case 9:
        tk_line("syms_num=%u", (uint32_t)peek(t + 8, 4));
        tk_line("syms_size=%u", (uint32_t)peek(t + 12, 4));
        tk_line("syms_shndx=%u", (uint32_t)peek(t + 16, 4));
        if ((uint64_t)peek(t + 8, 4) * peek(t + 12, 4) > size - 20)
            tk_error("ELF sections tag: %u headers of %u bytes in %u",
                     (uint32_t)peek(t + 8, 4), (uint32_t)peek(t + 12, 4),
                     size);
        break;
    case 13:
        tk_line("smbios_version=%u.%u", (uint32_t)peek(t + 8, 1),
                (uint32_t)peek(t + 9, 1));
        tk_line("smbios_len=%u crc32=%x", size - 16, crc32(t + 16, size - 16));
        break;
    case 14:
    case 15: {
        uint8_t sum = 0;
        uint32_t n = type == 14 ? 20 : size - 8, i;

        for (i = 0; i < n && i < size - 8; i++)
            sum += (uint8_t)peek(t + 8 + i, 1);
        tk_line("acpi_%s len=%u rev=%u crc32=%x", type == 14 ? "old" : "new",
                size - 8, (uint32_t)peek(t + 8 + 15, 1),
                crc32(t + 8, size - 8));
        if (peek(t + 8, 8) != 0x2052545020445352ull) /* "RSD PTR " */
            tk_error("acpi tag %u: no RSD PTR signature", type);
        if (sum)
            tk_error("acpi tag %u: checksum %u", type, sum);
        break;
    }
    case 16:
        tk_line("network len=%u crc32=%x", size - 8, crc32(t + 8, size - 8));
        put_ip_line("network_yiaddr", t + 8 + 16);
        put_ip_line("network_siaddr", t + 8 + 20);
        break;
    case 21:
        tk_line("load_base=%x", (uint32_t)peek(t + 8, 4));
        break;
    case 12: {
        uint64_t st = peek(t + 8, 8);

        tk_line("efi64_st=%X", st);
        /* EFI_SYSTEM_TABLE_SIGNATURE opens the table's header. */
        if (st >= 0x100000000ull)
            tk_error("EFI system table %X lies above 4 GiB", st);
        else if (peek((uint32_t)st, 8) != 0x5453595320494249ull)
            tk_error("EFI system table %X: no \"IBI SYST\" signature", st);
        else
            tk_line("efi64_st_signature=ok");
        break;
    }
    case 17:
        report_efi_mmap(t, size);
        break;
    case 18:
        tk_line("efi_bs_kept");
        break;
    case 20:
        tk_line("efi64_ih=%X", peek(t + 8, 8));
        break;
    default:
        tk_line("tag_%u size=%u", type, size);
        break;
    }
}

/**
 * Walk the Multiboot2 information at @info: every tag 8-byte aligned,
 * inside total_size, ending in the end tag.  Module ranges go to @mods.
 * Returns the number of modules.
 */
static uint32_t report_mb2(uint32_t info, struct range *mods)
{
    uint32_t total = (uint32_t)peek(info, 4), off = 8, n = 0, nmods = 0;
    bool ended = false;

    tk_line("mb2 total_size=%u", total);
    if (info % 8)
        tk_error("info=%x is not 8-byte aligned", info);
    while (off + 8 <= total && n++ < MB2_MAX_TAGS) {
        uint32_t type = (uint32_t)peek(info + off, 4);
        uint32_t size = (uint32_t)peek(info + off + 4, 4);

        if (size < 8 || size > total - off) {
            tk_error("tag type %u at +%u: size %u outside total_size", type,
                     off, size);
            break;
        }
        if (type == 0) {
            ended = size == 8 && off + 8 == total;
            if (!ended)
                tk_error("end tag at +%u size %u, total_size %u", off, size,
                         total);
            break;
        }
        report_mb2_tag(info + off, type, size, mods, &nmods);
        off += (size + 7) & ~7u;
    }
    if (!ended)
        tk_error("no end tag within total_size=%u", total);
    tk_line("mods_count=%u", nmods);
    /* The kernel's two segments as loaded (the gap between them is free:
     * GRUB puts its Multiboot2 info there). */
    const struct range seg[2] = {
        {(uint32_t)(uintptr_t)_tk_start, (uint32_t)(uintptr_t)_tk_text_end,
         "kernel", -1},
        {(uint32_t)(uintptr_t)_tk_data_start, (uint32_t)(uintptr_t)_tk_end,
         "kernel", -1},
    };
    const struct range inf = {info, (uint64_t)info + total, "info", -1};
    for (uint32_t i = 0; i < nmods; i++) {
        for (uint32_t j = i + 1; j < nmods; j++)
            check_no_overlap(&mods[i], &mods[j]);
        check_no_overlap(&mods[i], &inf);
        check_no_overlap(&mods[i], &seg[0]);
        check_no_overlap(&mods[i], &seg[1]);
    }
    check_no_overlap(&inf, &seg[0]);
    check_no_overlap(&inf, &seg[1]);
    return nmods;
}

/**
 * Report everything, check it, say ok or fail, and leave QEMU.
 * @magic: EAX at entry; @info: EBX at entry.
 * Returns only if the isa-debug-exit device is absent.
 */
void tk_main(uint32_t magic, uint32_t info)
{
    static struct range mods[MAX_MODS];
    const volatile struct mbi *mbi = (const volatile struct mbi *)info;
    uint32_t nmods = 0;
    bool have_mmap = false;

    serial_init();
    crc32_init();
    tk_line("begin");
    tk_line("magic=%x", magic);

    report_efi64_entry();
    if (magic == MB2_BOOT_MAGIC && info) {
        report_mb2(info, mods);
    } else if (magic != MB_BOOT_MAGIC) {
        tk_error("magic=%x is not %x: not started by a multiboot loader",
                 magic, MB_BOOT_MAGIC);
    } else if (info == 0) {
        tk_error("info pointer (EBX) is 0");
    } else {
        uint32_t flags = mbi->flags;
        tk_line("flags=%x", flags);

        if (flags & MBI_MEM) {
            tk_line("mem_lower=%u", mbi->mem_lower);
            tk_line("mem_upper=%u", mbi->mem_upper);
            if (mbi->mem_lower > 640)
                tk_error("mem_lower=%u is over 640 KiB", mbi->mem_lower);
        } else {
            tk_line("no_mem");
            tk_error("no mem_lower/mem_upper though header bit 1 asks");
        }

        if (flags & MBI_CMDLINE)
            tk_line("cmdline=%S", mbi->cmdline);
        else
            tk_line("no_cmdline");

        if (flags & MBI_LOADER_NAME)
            tk_line("loader=%S", mbi->boot_loader_name);
        else
            tk_line("no_loader");

        /* The map comes first in the checks: modules are checked against it. */
        have_mmap = (flags & MBI_MMAP) && mbi->mmap_length >= 24;
        if (flags & MBI_MODS)
            nmods = report_mods(mbi, have_mmap, mods);
        else
            tk_line("no_mods");

        if (flags & MBI_MMAP)
            report_mmap(mbi);
        else
            tk_line("no_mmap");

        if ((flags & MBI_AOUT_SYMS) && (flags & MBI_ELF_SHDR))
            tk_error("flags bits 4 and 5 are both set");
        if (!(flags & MBI_ELF_SHDR))
            tk_line("no_syms");

        if (flags & MBI_DRIVES) {
            tk_line("drives_length=%u", mbi->drives_length);
            tk_line("drives_addr=%x", mbi->drives_addr);
            if (mbi->drives_length && !mbi->drives_addr)
                tk_error("drives: a length but no address");
        } else {
            tk_line("no_drives");
        }
        if (flags & MBI_CONFIG_TABLE) {
            tk_line("config_table=%x", mbi->config_table);
            /* The table opens with its length: at least model, submodel,
             * revision and feature bytes follow. */
            uint32_t len = mbi->config_table
                               ? (uint32_t)peek(mbi->config_table, 2) : 0;
            tk_line("config_table_length=%u", len);
            if (len < 8)
                tk_error("config_table: length %u is below 8", len);
        } else {
            tk_line("no_config_table");
        }
        report_video(mbi);
    }

    tk_line("info=%x", info);
    tk_line("kernel=%x-%x", (uint32_t)(uintptr_t)_tk_start,
            (uint32_t)(uintptr_t)_tk_end);
    /* The code segment is never written, so this is what the loader put
     * there: the harness compares it with the file's bytes. */
    tk_line("text_crc32=%x", crc32((uint32_t)(uintptr_t)_tk_start,
                                   (uint32_t)(_tk_text_end - _tk_start)));
    if (magic == MB_BOOT_MAGIC && info)
        check_layout(mbi, info, have_mmap, mods, nmods);
    check_big_bss();
    check_machine_state();

    tk_line("end status=%s", error_count ? "fail" : "ok");
    outb(DEBUG_EXIT_PORT, error_count ? EXIT_FAIL : EXIT_OK);
    /* Still here: no isa-debug-exit device.  entry.asm halts. */
}
