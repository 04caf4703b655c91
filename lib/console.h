/*
 * The console: VGA text mode and COM1 (115200 8n1) together.  Every line
 * Pulsar prints goes to both, so a lab machine's serial log and its screen
 * tell the same story.
 */
#ifndef PULSAR_CONSOLE_H
#define PULSAR_CONSOLE_H
#include <stdarg.h>

/** Set up COM1 and clear the VGA screen. */
void console_init(void);
/** True if a byte arrived on COM1; every pending byte is read and dropped. */
int console_serial_input(void);
/** Print one character on both outputs ('\n' becomes CR LF on serial). */
void console_putc(char c);
/** printf to the console; returns the number of characters printed. */
int printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(__printf__, 1, 0)));

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
