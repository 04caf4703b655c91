/*
 * Pulsar's one error convention: functions return int rc, 0 on success or a
 * negative code from this enum.  Callers test `if ((rc = f()) != 0)`.
 * Only the boot flow (boot/bios/main.c) decides what is fatal.
 */
#ifndef PULSAR_ERRNO_H
#define PULSAR_ERRNO_H

enum pulsar_err {
    PE_OK = 0,
    PE_NOMEM,       /* out of Pulsar's own heap */
    PE_NOENT,       /* file not found on the TFTP server */
    PE_IO,          /* transfer failed (timeout, TFTP error) */
    PE_INVAL,       /* malformed input (config, ELF, packet) */
    PE_RANGE,       /* a value or range out of bounds */
    PE_OVERLAP,     /* a placement collides with something placed before */
    PE_NORAM,       /* a placement is not inside usable RAM */
    PE_NOEXEC,      /* not a bootable image */
    PE_UNSUPP,      /* valid but unsupported feature */
    PE_TOOLONG,     /* a name or line over its documented limit */
    PE_NOPXE,       /* no PXE API found or PXE call failed */
    PE_LOOP,        /* nested config loop or too deep */
    PE_NOKERNEL,    /* config names no exec */
    PE_TIMEDOUT,    /* the server stopped answering */
    PE_ACCESS,      /* the server refused the file (TFTP access violation) */
    PE_SHORT,       /* a file ended before the size the server announced */
    PE_CHANGED,     /* a file changed on the server between two tries */
    PE_MAX
};

/** A short English text for a (negative or positive) error code. */
const char *pulsar_strerror(int rc);

#endif
