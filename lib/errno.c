#include "lib/errno.h"

static const char *const err_text[PE_MAX] = {
    [PE_OK] = "success",
    [PE_NOMEM] = "out of memory",
    [PE_NOENT] = "file not found",
    [PE_IO] = "transfer failed",
    [PE_INVAL] = "malformed input",
    [PE_RANGE] = "value out of range",
    [PE_OVERLAP] = "memory ranges overlap",
    [PE_NORAM] = "not in usable RAM",
    [PE_NOEXEC] = "not a bootable image",
    [PE_UNSUPP] = "not supported",
    [PE_TOOLONG] = "name or line too long",
    [PE_NOPXE] = "PXE call failed",
    [PE_LOOP] = "config nesting loop or too deep",
    [PE_NOKERNEL] = "no kernel to start",
    [PE_TIMEDOUT] = "timed out",
    [PE_ACCESS] = "access denied",
    [PE_SHORT] = "file shorter than announced",
    [PE_CHANGED] = "file changed on the server",
};

/** Map an rc to its text; unknown codes get a generic text. */
const char *pulsar_strerror(int rc)
{
    if (rc < 0)
        rc = -rc;
    if (rc >= PE_MAX || !err_text[rc])
        return "unknown error";
    return err_text[rc];
}
