/*
 * The BIOS NBP's file source (loader/source.h): TFTP from the server the
 * DHCP reply named.  Each transfer picks its way as Pulsar always has:
 *   - Pulsar's own client (net/tftp_client.h) over the NIC fast path
 *     when nic_acquire() takes the NIC (any server, windowed or not);
 *   - else Pulsar's own client over the PXE UDP API, when the server
 *     grants an RFC 7440 window (one ACK per window of blocks);
 *   - else the ROM's TFTP (boot/bios/tftp_pxe.h), lock-step; it also
 *     runs, and reports, when the own client fails before any data.
 * Size queries are the ROM's GET_FSIZE.  The first window a server
 * grants is announced once on the console ("pulsar: tftp 10.0.2.2
 * grants windowsize 16, blksize 1468"); nothing else is printed.
 */
#ifndef PULSAR_SOURCE_BIOS_H
#define PULSAR_SOURCE_BIOS_H
#include "loader/source.h"

/** The source: one for the whole boot. */
const struct file_source *bios_file_source(void);
#endif
