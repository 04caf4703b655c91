/*
 * The console: VGA text mode and COM1 (115200 8n1) together.  Every line
 * Pulsar prints goes to both, so a lab machine's serial log and its screen
 * tell the same story.
 */
#ifndef PULSAR_CONSOLE_H
#define PULSAR_CONSOLE_H
#include <stdarg.h>
#include <stdint.h>

/** Set up COM1 and clear the VGA screen. */
void console_init(void);
/** True if a byte arrived on COM1; every pending byte is read and dropped. */
int console_serial_input(void);
/** Print one character on both outputs ('\n' becomes CR LF on serial). */
void console_putc(char c);
/** Print @s as printf does: on both outputs, '\n' as CR LF on serial
 *  (the face's; lib/printf.c's printf formats into it). */
void console_write(const char *s);
/** printf to the console; returns the number of characters printed (a
 *  line is cut at 511 characters). */
int printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(__printf__, 1, 0)));

/*
 * Live progress of one file transfer: a line that updates in place (CR,
 * no LF) on VGA and serial, at most about four times a second.
 */
/** Begin showing the transfer of @name (@total bytes, 0 if unknown). */
void console_progress_start(const char *name, uint32_t total);
/** @done bytes have arrived: redraw the line if an update is due. */
void console_progress(uint32_t done);
/**
 * The transfer is complete: erase the line and return "in 1.2 s,
 * 51.3 MiB/s" for the final line the caller prints (a static buffer).
 */
const char *console_progress_end(uint32_t done);
/** The transfer failed: end a drawn line so that what follows starts on
 * its own line. */
void console_progress_abort(void);

/*
 * Debug output that compiles away: DBG("tftp", "...") prints with a
 * subsystem prefix in DEBUG=1 builds and is nothing in release builds.
 */
#ifdef DEBUG
#define DBG(sub, ...) printf("[" sub "] " __VA_ARGS__)
#else
#define DBG(sub, ...) do { } while (0)
#endif
#endif
