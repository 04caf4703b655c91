/*
 * vsnprintf for the NBP: %s %c %d %i %u %x %X %p %% with the length
 * modifiers l, ll and z, a field width (number or *), the flags '-' and
 * '0', and a precision (number or *) for %s.  It always NUL-terminates
 * when @size > 0 and returns the length the full output would have had,
 * as C99 does, so callers can detect truncation.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "lib/console.h"

/** Output cursor: writes what fits, counts everything. */
struct out {
    char *buf;
    size_t size, len;
};

/** Append one character. */
static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

/** Append @n copies of @c. */
static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

/** Append @len chars of @s inside a field of @width. */
static void put_field(struct out *o, const char *s, size_t len, int width,
                      int left, char padc)
{
    int fill = width > (int)len ? width - (int)len : 0;
    if (!left)
        pad(o, padc, fill);
    while (len--)
        put(o, *s++);
    if (left)
        pad(o, ' ', fill);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        int left = 0, zero = 0, width = 0, prec = -1, lng = 0;
        for (;; fmt++) {
            if (*fmt == '-')
                left = 1;
            else if (*fmt == '0')
                zero = 1;
            else
                break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = 1;
                width = -width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        while (*fmt == 'l' || *fmt == 'z') {
            lng += (*fmt == 'l') ? 1 : (sizeof(size_t) == 8 ? 2 : 1);
            fmt++;
        }

        char tmp[24];
        char *end = tmp + sizeof(tmp), *p = end;
        uint64_t v;
        int neg = 0, base = 10, upper = 0;

        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            size_t len = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            put_field(&o, s, len, width, left, ' ');
            continue;
        }
        case 'c':
            tmp[0] = (char)va_arg(ap, int);
            put_field(&o, tmp, 1, width, left, ' ');
            continue;
        case 'd':
        case 'i': {
            int64_t s = lng >= 2 ? va_arg(ap, long long)
                        : lng == 1 ? va_arg(ap, long)
                                   : va_arg(ap, int);
            neg = s < 0;
            v = neg ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
            break;
        }
        case 'p':
            v = (uintptr_t)va_arg(ap, void *);
            base = 16;
            put(&o, '0');
            put(&o, 'x');
            break;
        case 'X':
            upper = 1;
            /* fall through */
        case 'x':
            base = 16;
            /* fall through */
        case 'u':
            v = lng >= 2 ? va_arg(ap, unsigned long long)
                : lng == 1 ? va_arg(ap, unsigned long)
                           : va_arg(ap, unsigned int);
            break;
        case '%':
            put(&o, '%');
            continue;
        default: /* unknown conversion: print it verbatim */
            put(&o, '%');
            if (!*fmt)
                goto done;
            put(&o, *fmt);
            continue;
        }

        const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        do {
            *--p = digits[base == 16 ? (v & 15) : (v % 10)];
            v = base == 16 ? v >> 4 : v / 10;
        } while (v);
        if (neg) {
            if (zero && !left) {
                put(&o, '-');
                width--;
            } else {
                *--p = '-';
            }
        }
        put_field(&o, p, (size_t)(end - p), width, left,
                  zero && !left ? '0' : ' ');
    }
done:
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* ------------------------------------------------------ on the console */

/* printf and vprintf for both faces: formatted here, printed by the
 * face's console_write (boot/bios/console.c, boot/efi/console.c). */
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
