/*
 * HTTP through iPXE's PXE file API (PXENV_FILE_API_CHECK, FILE_OPEN,
 * GET_FILE_SIZE, FILE_READ, FILE_CLOSE): the BIOS NBP's source for files
 * named by http:// URL (loader/source.h, net/url.h).  iPXE (QEMU's NIC
 * ROMs, undionly.kpxe, ipxe.pxe) exports it; a vendor PXE ROM does not,
 * and then every URL is refused with that reason.  The size is the
 * server's Content-Length, known once its headers are in; without one
 * the file comes unsized (the session copes).  FILE_READ streams every
 * file, one GET per try, one TCP segment per ROM call (not READ_FILE:
 * see http_fetch); it never blocks: "no data yet" is polled, and a file
 * that stalls for HTTP_PXE_IDLE_MS times out.
 */
#ifndef PULSAR_HTTP_PXE_H
#define PULSAR_HTTP_PXE_H
#include "loader/source.h"

/** No byte for this long: the transfer timed out. */
#define HTTP_PXE_IDLE_MS 15000u

/** The source: one for the whole boot. */
const struct file_source *bios_http_source(void);
#endif
