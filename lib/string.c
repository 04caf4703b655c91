/*
 * The NBP's string functions.  Plain byte loops: the NBP never copies much
 * through them (packet data goes through rep movsd in memcpy), and small
 * beats fast here.  Unit-tested on the host under renamed symbols.
 */
#include <string.h>
#include <stdint.h>

/** Copy @n bytes; the areas must not overlap.  Uses rep movs on x86. */
void *memcpy(void *dst, const void *src, size_t n)
{
#if defined(__i386__) && !defined(PULSAR_HOST_TEST)
    void *d = dst;
    size_t words = n >> 2;
    __asm__ volatile("rep movsl\n\t"
                     "movl %3, %%ecx\n\t"
                     "rep movsb"
                     : "+D"(d), "+S"(src), "+c"(words)
                     : "r"(n & 3)
                     : "memory");
    return dst;
#else
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
#endif
}

/** Copy @n bytes; the areas may overlap. */
void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d == s || n == 0)
        return dst;
    if (d < s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

/** Fill @n bytes with @c. */
void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

/** Compare @n bytes as unsigned chars. */
int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

/** Length of a NUL-terminated string. */
size_t strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

/** Length of @s, but at most @max. */
size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

/** Compare two strings as unsigned chars. */
int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

/** Compare at most @n characters. */
int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            break;
    }
    return 0;
}

/** First @c in @s (the terminating NUL counts), or NULL. */
char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

/** Last @c in @s (the terminating NUL counts), or NULL. */
char *strrchr(const char *s, int c)
{
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}

/** Copy a string including its NUL. */
char *strcpy(char *dst, const char *src)
{
    char *d = dst;
    while ((*d++ = *src++))
        ;
    return dst;
}

/** Copy at most @n bytes, NUL-padding the rest (C semantics). */
char *strncpy(char *dst, const char *src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    for (; i < n; i++)
        dst[i] = '\0';
    return dst;
}
