/*
 * Pulsar's freestanding <stdio.h>: formatting into buffers, and printf
 * onto the console, which each firmware face provides (the BIOS one is
 * boot/bios/console.c).
 */
#ifndef PULSAR_STDIO_H
#define PULSAR_STDIO_H
#include <stddef.h>
#include <stdarg.h>
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(__printf__, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(__printf__, 1, 0)));
#endif
