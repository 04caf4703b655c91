/* VGA text and COM1 output; see console.h. */
#include "lib/console.h"
#include "boot/bios/io.h"
#include "lib/progress.h"
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define COM1 0x3F8
#define VGA_TEXT ((volatile uint16_t *)0xB8000)
#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_ATTR 0x0700 /* light grey on black */

static unsigned vga_row, vga_col;
static int serial_ok;

/** Program COM1 for 115200 8n1 and check that a UART answers. */
static void serial_init(void)
{
    outb(COM1 + 1, 0x00); /* no interrupts */
    outb(COM1 + 3, 0x80); /* DLAB on */
    outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8n1, DLAB off */
    outb(COM1 + 2, 0xC7); /* FIFO on, cleared */
    outb(COM1 + 4, 0x03); /* DTR, RTS */
    /* A missing UART reads back 0xFF from the line status register. */
    serial_ok = inb(COM1 + 5) != 0xFF;
}

/** Send one byte, waiting (boundedly) for the transmitter. */
static void serial_putc(char c)
{
    if (!serial_ok)
        return;
    for (unsigned spin = 0; spin < 100000; spin++)
        if (inb(COM1 + 5) & 0x20)
            break;
    outb(COM1, (uint8_t)c);
}

/** Drop what arrived on COM1; true if anything did.  See console.h. */
int console_serial_input(void)
{
    int seen = 0;
    if (!serial_ok)
        return 0;
    /* LSR bit 0: a received byte waits in RBR.  Bounded: a stuck UART
     * must not keep Pulsar here. */
    for (unsigned n = 0; n < 64 && (inb(COM1 + 5) & 0x01); n++) {
        (void)inb(COM1);
        seen = 1;
    }
    return seen;
}

/** Scroll the VGA screen up by one line. */
static void vga_scroll(void)
{
    for (unsigned i = 0; i < (VGA_ROWS - 1) * VGA_COLS; i++)
        VGA_TEXT[i] = VGA_TEXT[i + VGA_COLS];
    for (unsigned i = 0; i < VGA_COLS; i++)
        VGA_TEXT[(VGA_ROWS - 1) * VGA_COLS + i] = VGA_ATTR | ' ';
}

/** Put one character on the VGA screen. */
static void vga_putc(char c)
{
    if (c == '\n') {
        vga_col = 0;
        vga_row++;
    } else if (c == '\r') {
        vga_col = 0;
    } else {
        VGA_TEXT[vga_row * VGA_COLS + vga_col] = VGA_ATTR | (uint8_t)c;
        if (++vga_col == VGA_COLS) {
            vga_col = 0;
            vga_row++;
        }
    }
    if (vga_row == VGA_ROWS) {
        vga_scroll();
        vga_row = VGA_ROWS - 1;
    }
}

static void console_write(const char *s);

void console_init(void)
{
    serial_init();
    for (unsigned i = 0; i < VGA_ROWS * VGA_COLS; i++)
        VGA_TEXT[i] = VGA_ATTR | ' ';
    vga_row = vga_col = 0;
    console_display.ticks = bios_ticks;
    console_display.write = console_write;
}

void console_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    serial_putc(c);
    vga_putc(c);
}

/** Print @s as printf does. */
static void console_write(const char *s)
{
    while (*s)
        console_putc(*s++);
}

int vprintf(const char *fmt, va_list ap)
{
    char buf[512];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    console_write(buf);
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

