/*
 * TFTP for Pulsar: what every client asks for.  A file comes through
 * Pulsar's own client (net/tftp_client.h, protocol in net/tftp_proto.c)
 * over whatever datagram transport the firmware face has, or through the
 * firmware's own TFTP; the BIOS face composes them in
 * boot/bios/source_bios.c.  Each packet goes straight on to a sink
 * (loader/source.h), which copies it to its final place: there is never
 * a whole-file copy.
 */
#ifndef PULSAR_TFTP_H
#define PULSAR_TFTP_H
#include <stdint.h>
#include <stddef.h>

/**
 * The blksize Pulsar asks for: the largest that fits a 1500-byte Ethernet
 * frame without IP fragmentation (1500 - 20 IP - 8 UDP - 4 TFTP).  The
 * ROM answers with what it and the server grant (iPXE caps at 1432).
 */
#define TFTP_BLKSIZE_WANTED 1468

/**
 * The RFC 7440 window Pulsar's own client asks for: blocks per ACK.  The
 * ROM queues what arrives between two reads, so this bounds the burst.
 */
#define TFTP_WINDOW_WANTED 16

/**
 * The window over the PXE UDP API.  A ROM drains its NIC only while a
 * PXE call runs, and between two calls a burst must fit the NIC's own
 * receive buffer: QEMU's rtl8139 under iPXE (an 8 KiB ring) drops most
 * of a 16- or 8-block window, and 64 MiB from atftpd took 210-310 s
 * instead of 21 (docs/speed.md); 4 blocks (5.9 KiB) fit it and cost
 * virtio-net and the e1000 nothing measurable.
 */
#define TFTP_WINDOW_PXE_UDP 4

/**
 * Receives file bytes [@off, @off+@len) in order.  Returns 0 to go on or
 * a negative pulsar_err to abort the transfer.  (The boot flow's sinks
 * until it moves to struct file_sink, loader/source.h.)
 */
typedef int (*tftp_sink_fn)(void *ctx, uint32_t off, const uint8_t *data,
                            size_t len);
#endif
