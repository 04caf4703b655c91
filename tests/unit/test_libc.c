/*
 * Unit tests for the NBP's own libc (lib/string.c, lib/printf.c,
 * lib/malloc.c), built under renamed symbols (libc_rename.h) and compared
 * against glibc where the C standard defines the answer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "lib/include/string.h"
#include "lib/include/stdio.h"
#include "lib/include/stdlib.h"

#undef snprintf
#undef memcmp
#undef memset
#undef strlen
#undef strcmp
/* glibc's versions, for reference results */
int snprintf(char *, size_t, const char *, ...);
int memcmp(const void *, const void *, size_t);
void *memset(void *, int, size_t);
size_t strlen(const char *);
int strcmp(const char *, const char *);

/** Check that our snprintf matches glibc's for one format. */
#define SAME(fmt, ...)                                                      \
    do {                                                                    \
        char ours[128], ref[128];                                           \
        int a = pl_snprintf(ours, sizeof(ours), fmt, __VA_ARGS__);          \
        int b = snprintf(ref, sizeof(ref), fmt, __VA_ARGS__);               \
        assert_string_equal(ours, ref);                                     \
        assert_int_equal(a, b);                                             \
    } while (0)

static void test_printf_matches_glibc(void **state)
{
    (void)state;
    SAME("%d %i %u", -42, 7, 3000000000u);
    SAME("%x %X %08x %-6x|", 0xbeefu, 0xbeefu, 0x12u, 0xabu);
    SAME("%s|%10s|%-10s|%.3s|%.*s", "abc", "abc", "abc", "abcdef", 2, "xyz");
    SAME("%c%c%%", 'a', 'b');
    SAME("%lld %llu %llx", -9000000000ll, 18446744073709551615ull,
         0x123456789abcdefull);
    SAME("%ld %lu %lx", -5l, 6ul, 0xfful);
    SAME("%zu %05d %-5d| %5d", (size_t)99, -42, -42, -42);
    SAME("%016llx %08x", 0xfd00000000ull, 0u);
    SAME("%*d|%-*d|", 6, 12, 6, 12);
}

static void test_printf_truncates_and_counts(void **state)
{
    char buf[8];
    (void)state;
    memset(buf, 'X', sizeof(buf));
    assert_int_equal(pl_snprintf(buf, sizeof(buf), "%s", "hello world"), 11);
    assert_string_equal(buf, "hello w");
    assert_int_equal(pl_snprintf(buf, 1, "abc"), 3);
    assert_string_equal(buf, "");
    assert_int_equal(pl_snprintf(NULL, 0, "%d", 12345), 5);
    const char *volatile nul = NULL;
    assert_int_equal(pl_snprintf(buf, sizeof(buf), "%s", nul), 6);
    assert_string_equal(buf, "(null)");
}

static void test_printf_pointer(void **state)
{
    char buf[32];
    (void)state;
    pl_snprintf(buf, sizeof(buf), "%p", (void *)0x1234);
    assert_string_equal(buf, "0x1234");
}

static void test_string_functions(void **state)
{
    char a[32], b[32];
    (void)state;
    assert_int_equal(pl_strlen(""), 0);
    assert_int_equal(pl_strlen("pulsar"), 6);
    assert_int_equal(pl_strnlen("pulsar", 3), 3);
    assert_int_equal(pl_strnlen("pu", 9), 2);
    assert_true(pl_strcmp("a", "b") < 0);
    assert_true(pl_strcmp("b", "a") > 0);
    assert_int_equal(pl_strcmp("same", "same"), 0);
    assert_true(pl_strcmp("\xff", "a") > 0); /* unsigned comparison */
    assert_int_equal(pl_strncmp("abcx", "abcy", 3), 0);
    assert_true(pl_strncmp("abcx", "abcy", 4) < 0);
    assert_string_equal(pl_strchr("a/b/c", '/'), "/b/c");
    assert_string_equal(pl_strrchr("a/b/c", '/'), "/c");
    assert_null(pl_strchr("abc", 'z'));
    const char *abc = "abc";
    assert_ptr_equal(pl_strchr(abc, '\0'), abc + 3);
    pl_strcpy(a, "copy");
    assert_string_equal(a, "copy");
    memset(b, 'X', sizeof(b));
    pl_strncpy(b, "ab", 5);
    assert_int_equal(memcmp(b, "ab\0\0\0X", 6), 0);
}

static void test_mem_functions(void **state)
{
    uint8_t buf[64], ref[64];
    (void)state;
    for (int i = 0; i < 64; i++)
        buf[i] = ref[i] = (uint8_t)i;
    /* Overlapping moves both ways, compared with a byte-wise reference. */
    pl_memmove(buf + 4, buf, 40);
    for (int i = 39; i >= 0; i--)
        ref[i + 4] = ref[i];
    assert_memory_equal(buf, ref, 64);
    pl_memmove(buf, buf + 7, 50);
    for (int i = 0; i < 50; i++)
        ref[i] = ref[i + 7];
    assert_memory_equal(buf, ref, 64);
    /* memcpy of every length and alignment up to 20. */
    for (int off = 0; off < 4; off++)
        for (int n = 0; n <= 20; n++) {
            uint8_t src[32], dst[32];
            for (int i = 0; i < 32; i++)
                src[i] = (uint8_t)(i * 7 + 1), dst[i] = 0;
            pl_memcpy(dst + off, src + 3, (size_t)n);
            assert_memory_equal(dst + off, src + 3, (size_t)n);
            assert_int_equal(dst[off + n], 0);
        }
    pl_memset(buf, 0xAB, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(buf[i], 0xAB);
    assert_int_equal(pl_memcmp("abc", "abd", 2), 0);
    assert_true(pl_memcmp("abc", "abd", 3) < 0);
    assert_true(pl_memcmp("\x80", "\x01", 1) > 0);
}

static uint8_t arena[1 << 16] __attribute__((aligned(16)));

static void test_malloc_basic(void **state)
{
    (void)state;
    pl_heap_init(arena, arena + sizeof(arena));
    size_t all = pl_heap_free_bytes();
    void *a = pl_malloc(100), *b = pl_malloc(200), *c = pl_malloc(1);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal((uintptr_t)a % 16, 0);
    assert_true((uint8_t *)b >= (uint8_t *)a + 100);
    memset(a, 1, 100);
    memset(b, 2, 200);
    pl_free(b);
    pl_free(a);
    pl_free(c);
    /* Everything merged back into one block. */
    assert_int_equal(pl_heap_free_bytes(), all);
    assert_null(pl_malloc(sizeof(arena)));
    void *z = pl_calloc(10, 10);
    for (int i = 0; i < 100; i++)
        assert_int_equal(((uint8_t *)z)[i], 0);
    assert_null(pl_calloc(SIZE_MAX / 2, 4)); /* overflow */
    pl_free(z);
    assert_int_equal(pl_heap_free_bytes(), all);
}

static void test_realloc_keeps_data(void **state)
{
    (void)state;
    pl_heap_init(arena, arena + sizeof(arena));
    char *p = pl_malloc(10);
    pl_strcpy(p, "pulsar");
    p = pl_realloc(p, 5000);
    assert_string_equal(p, "pulsar");
    p = pl_realloc(p, 3);
    assert_string_equal(p, "pulsar");
    assert_null(pl_realloc(p, 0));
    assert_non_null(p = pl_realloc(NULL, 8));
    pl_free(p);
}

static void test_malloc_random_churn(void **state)
{
    void *ptr[64] = { 0 };
    size_t len[64] = { 0 };
    uint32_t seed = 12345;
    (void)state;
    pl_heap_init(arena, arena + sizeof(arena));
    size_t all = pl_heap_free_bytes();
    for (int round = 0; round < 20000; round++) {
        seed = seed * 1103515245u + 12345u;
        unsigned i = (seed >> 8) % 64;
        if (ptr[i]) {
            /* The block still holds the pattern we wrote. */
            for (size_t k = 0; k < len[i]; k++)
                assert_int_equal(((uint8_t *)ptr[i])[k], (uint8_t)i);
            pl_free(ptr[i]);
            ptr[i] = NULL;
        } else {
            len[i] = (seed >> 16) % 700;
            ptr[i] = pl_malloc(len[i]);
            if (ptr[i])
                memset(ptr[i], (int)i, len[i]);
        }
    }
    for (int i = 0; i < 64; i++)
        pl_free(ptr[i]);
    assert_int_equal(pl_heap_free_bytes(), all);
}

static void test_free_ignores_bad_pointers(void **state)
{
    (void)state;
    pl_heap_init(arena, arena + sizeof(arena));
    size_t all = pl_heap_free_bytes();
    void *p = pl_malloc(64);
    pl_free(p);
    pl_free(p); /* double free: ignored */
    pl_free(NULL);
    assert_int_equal(pl_heap_free_bytes(), all);
}

static char console[1024];
static size_t console_len;

/** The face's console_write, as printf reaches it. */
void console_write(const char *s)
{
    while (*s && console_len < sizeof(console) - 1)
        console[console_len++] = *s++;
    console[console_len] = '\0';
}

/** printf formats and hands the text to console_write; a line longer
 *  than its 511-byte buffer is cut, and the full length returned. */
static void test_printf_to_console(void **state)
{
    char big[600];

    (void)state;
    console_len = 0;
    assert_int_equal(pl_printf("a%d %s\n", 42, "b"), 6);
    assert_string_equal(console, "a42 b\n");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    console_len = 0;
    assert_int_equal(pl_printf("%s", big), 599);
    assert_int_equal(console_len, 511);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_printf_matches_glibc),
        cmocka_unit_test(test_printf_truncates_and_counts),
        cmocka_unit_test(test_printf_pointer),
        cmocka_unit_test(test_printf_to_console),
        cmocka_unit_test(test_string_functions),
        cmocka_unit_test(test_mem_functions),
        cmocka_unit_test(test_malloc_basic),
        cmocka_unit_test(test_realloc_keeps_data),
        cmocka_unit_test(test_malloc_random_churn),
        cmocka_unit_test(test_free_ignores_bad_pointers),
    };
    return cmocka_run_group_tests_name("libc", tests, NULL, NULL);
}
