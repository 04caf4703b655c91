/* Multiboot 0.6.96 structures, as the specification lays them out. */
#ifndef PULSAR_MULTIBOOT_H
#define PULSAR_MULTIBOOT_H

#include <stdint.h>

#define MB_HFLAG_PAGE_ALIGN (1u << 0)
#define MB_HFLAG_MEMINFO (1u << 1)
#define MB_HFLAG_VIDEO (1u << 2)
#define MB_HFLAG_AOUT_KLUDGE (1u << 16)

#define MB_INFO_MEM (1u << 0)
#define MB_INFO_BOOTDEV (1u << 1)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_ELF_SHDR (1u << 5)
#define MB_INFO_MMAP (1u << 6)
#define MB_INFO_DRIVES (1u << 7)
#define MB_INFO_CONFIG_TABLE (1u << 8)
#define MB_INFO_LOADER_NAME (1u << 9)
#define MB_INFO_VBE (1u << 11)
#define MB_INFO_FRAMEBUFFER (1u << 12)

#define MB_FB_INDEXED 0
#define MB_FB_RGB 1
#define MB_FB_EGA_TEXT 2

struct mb_info {
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
    uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off,
        vbe_interface_len;
    /* Offsets 88..115: the framebuffer (flags bit 12). */
    uint64_t framebuffer_addr;
    uint32_t framebuffer_pitch, framebuffer_width, framebuffer_height;
    uint8_t framebuffer_bpp, framebuffer_type;
    uint8_t color_info[6]; /* RGB: position and size of red, green, blue */
} __attribute__((packed));

struct mb_module {
    uint32_t mod_start, mod_end;
    uint32_t cmdline;
    uint32_t reserved;
} __attribute__((packed));

struct mb_mmap_entry {
    uint32_t size; /* of the rest of the entry: 20 */
    uint64_t base_addr;
    uint64_t length;
    uint32_t type;
} __attribute__((packed));

#endif
