/* Unit tests for net/url.c: which names are URLs, and the server name
 * messages use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "net/url.h"

static void test_url_is(void **state)
{
    (void)state;
    assert_true(url_is("http://10.0.2.2/k"));
    assert_true(url_is("https://boot/k"));
    assert_true(url_is("HTTP://boot/k"));
    assert_true(url_is("hTtPs://"));
    assert_false(url_is("http:/boot/k"));
    assert_false(url_is("http"));
    assert_false(url_is("ftp://boot/k"));
    assert_false(url_is("tftp://boot/k"));
    assert_false(url_is("nova/http://x"));
    assert_false(url_is(""));
    assert_false(url_is(NULL));
}

static void test_server_name(void **state)
{
    char buf[16];
    char big[64];

    (void)state;
    /* 10.0.2.2 in network byte order. */
    assert_string_equal(url_server_name(0x0202000a, "demo/k", buf,
                                        sizeof(buf)), "10.0.2.2");
    assert_string_equal(url_server_name(0, "http://10.77.0.1/demo/k", big,
                                        sizeof(big)), "10.77.0.1");
    assert_string_equal(url_server_name(0, "http://boot:8080", big,
                                        sizeof(big)), "boot:8080");
    assert_string_equal(url_server_name(0, "https://h?x=/y", big,
                                        sizeof(big)), "h");
    assert_string_equal(url_server_name(0, "http://h#f", big, sizeof(big)),
                        "h");
    assert_string_equal(url_server_name(0, "http:///k", big, sizeof(big)),
                        "");
    /* A long host is cut to the buffer. */
    assert_string_equal(url_server_name(0, "http://a-very-long-host-name/k",
                                        buf, sizeof(buf)),
                        "a-very-long-hos");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_is),
        cmocka_unit_test(test_server_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
