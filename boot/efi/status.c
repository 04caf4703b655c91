/* EFI status codes by name, for messages ("Mtftp READ_FILE k: EFI_TIMEOUT"). */
#include "boot/efi/uefi.h"
#include <stdio.h>

#define NAME(x) { x, #x }

static const struct {
    EFI_STATUS st;
    const char *name;
} names[] = {
    NAME(EFI_SUCCESS),
    NAME(EFI_LOAD_ERROR),
    NAME(EFI_INVALID_PARAMETER),
    NAME(EFI_UNSUPPORTED),
    NAME(EFI_BAD_BUFFER_SIZE),
    NAME(EFI_BUFFER_TOO_SMALL),
    NAME(EFI_NOT_READY),
    NAME(EFI_DEVICE_ERROR),
    NAME(EFI_WRITE_PROTECTED),
    NAME(EFI_OUT_OF_RESOURCES),
    NAME(EFI_VOLUME_CORRUPTED),
    NAME(EFI_VOLUME_FULL),
    NAME(EFI_NO_MEDIA),
    NAME(EFI_MEDIA_CHANGED),
    NAME(EFI_NOT_FOUND),
    NAME(EFI_ACCESS_DENIED),
    NAME(EFI_NO_RESPONSE),
    NAME(EFI_NO_MAPPING),
    NAME(EFI_TIMEOUT),
    NAME(EFI_NOT_STARTED),
    NAME(EFI_ALREADY_STARTED),
    NAME(EFI_ABORTED),
    NAME(EFI_ICMP_ERROR),
    NAME(EFI_TFTP_ERROR),
    NAME(EFI_PROTOCOL_ERROR),
    NAME(EFI_INCOMPATIBLE_VERSION),
    NAME(EFI_SECURITY_VIOLATION),
    NAME(EFI_CRC_ERROR),
    NAME(EFI_END_OF_MEDIA),
    NAME(EFI_END_OF_FILE),
    NAME(EFI_INVALID_LANGUAGE),
    NAME(EFI_COMPROMISED_DATA),
    NAME(EFI_IP_ADDRESS_CONFLICT),
    NAME(EFI_HTTP_ERROR),
    NAME(EFI_CONNECTION_FIN),
    NAME(EFI_CONNECTION_RESET),
    NAME(EFI_CONNECTION_REFUSED),
    NAME(EFI_WARN_UNKNOWN_GLYPH),
    NAME(EFI_WARN_DELETE_FAILURE),
    NAME(EFI_WARN_WRITE_FAILURE),
    NAME(EFI_WARN_BUFFER_TOO_SMALL),
};

const char *efi_status_str(EFI_STATUS st)
{
    static char other[40];

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].st == st)
            return names[i].name;
    snprintf(other, sizeof(other), "EFI status 0x%llx",
             (unsigned long long)st);
    return other;
}
