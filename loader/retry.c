/* Pulsar's recovery policy and failure messages; see retry.h. */
#include <stdio.h>
#include <string.h>

#include "lib/errno.h"
#include "loader/retry.h"
#include "net/dhcp.h"

/** Is a transfer that failed with @rc worth another try?  See retry.h. */
bool retry_transfer_worth(int rc, bool size_known)
{
    switch (rc) {
    case -PE_TIMEDOUT: /* the server or the network hiccuped */
    case -PE_IO:       /* the client saw a bad packet or a server error */
    case -PE_NOPXE:    /* the ROM failed the call for its own reasons */
    case -PE_SHORT:    /* a half-copied file may be complete by now */
        return true;
    case -PE_RANGE:    /* longer than announced: it may have grown */
        return size_known;
    default:           /* a verdict (not found, denied) or a bad file */
        return false;
    }
}

/** Milliseconds to wait after try @tries_done failed: 1 s, 2 s, 4 s... */
unsigned retry_backoff_ms(unsigned tries_done)
{
    unsigned shift = tries_done > 1 ? tries_done - 1 : 0;
    if (shift > 5)
        shift = 5;
    return RETRY_BACKOFF_MS << shift;
}

/** Seconds to wait after @failed attempts: 10, 20, ... up to 60. */
unsigned retry_boot_wait_s(unsigned failed)
{
    if (failed == 0)
        failed = 1;
    if (failed >= RETRY_BOOT_WAIT_MAX_S / RETRY_BOOT_WAIT_S)
        return RETRY_BOOT_WAIT_MAX_S;
    return failed * RETRY_BOOT_WAIT_S;
}

/** Describe a failed fetch; see retry.h. */
char *retry_describe(int rc, const struct fetch_failure *f, char *buf,
                     size_t len)
{
    const char *detail = f->detail[0] ? f->detail : NULL;
    char ip[64];
    size_t n;

    if (!len)
        return buf;
    if (f->no_client) {
        snprintf(buf, len, "%s", f->detail);
        return buf;
    }
    /* Pulsar's own client words a timeout "timed out": the message says
     * that already, so a detail that only repeats the code's text goes. */
    if (detail && strcmp(detail, pulsar_strerror(rc)) == 0)
        detail = NULL;
    if (f->where[0])
        snprintf(ip, sizeof(ip), "%s", f->where);
    else
        dhcp_format_ip(f->server, ip);
    switch (rc) {
    case -PE_NOENT:
        snprintf(buf, len, "not found on %s", ip);
        break;
    case -PE_ACCESS:
        snprintf(buf, len, "access denied by %s", ip);
        break;
    case -PE_TIMEDOUT:
        if (f->size_query)
            snprintf(buf, len, "size query timed out on %s", ip);
        else if (f->size)
            snprintf(buf, len, "timed out on %s after %u of %u bytes", ip,
                     f->got, f->size);
        else
            snprintf(buf, len, "timed out on %s after %u bytes", ip, f->got);
        break;
    case -PE_SHORT:
        snprintf(buf, len, "%s announced %u bytes but sent only %u", ip,
                 f->size, f->got);
        break;
    case -PE_RANGE:
        if (f->size)
            snprintf(buf, len, "%s sent more than the %u bytes it announced",
                     ip, f->size);
        else
            snprintf(buf, len, "larger than %u bytes on %s", f->max, ip);
        break;
    case -PE_CHANGED:
        snprintf(buf, len, "changed on %s between two tries", ip);
        break;
    default:
        if (f->size_query)
            snprintf(buf, len, "size query to %s failed", ip);
        else if (f->size)
            snprintf(buf, len, "transfer from %s failed after %u of %u bytes",
                     ip, f->got, f->size);
        else
            snprintf(buf, len, "transfer from %s failed after %u bytes", ip,
                     f->got);
        if (!detail)
            detail = pulsar_strerror(rc);
        break;
    }
    n = strlen(buf);
    if (f->tries > 1 && n < len)
        n += (size_t)snprintf(buf + n, len - n, ", %u tries", f->tries);
    if (detail && n < len)
        snprintf(buf + n, len - n, " (%s)", detail);
    return buf;
}
