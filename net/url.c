/* File names that are URLs; see url.h. */
#include "net/url.h"
#include "net/dhcp.h"
#include <string.h>

/** The length of @name's scheme and "://" when it is http or https. */
static size_t url_prefix(const char *name)
{
    static const char *const schemes[] = { "http://", "https://" };

    if (!name)
        return 0;
    for (unsigned i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i]), j;

        for (j = 0; j < n; j++) {
            char c = name[j];

            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != schemes[i][j])
                break;
        }
        if (j == n)
            return n;
    }
    return 0;
}

bool url_is(const char *name)
{
    return url_prefix(name) != 0;
}

const char *url_server_name(uint32_t server, const char *name, char *buf,
                            size_t len)
{
    size_t p = url_prefix(name), n;

    if (!p) {
        dhcp_format_ip(server, buf);
        return buf;
    }
    name += p;
    for (n = 0; name[n] && name[n] != '/' && name[n] != '?' &&
                name[n] != '#'; n++)
        ;
    if (n >= len)
        n = len - 1;
    memcpy(buf, name, n);
    buf[n] = '\0';
    return buf;
}
