/*
 * The BIOS face's datagram transports for Pulsar's TFTP client
 * (net/tftp_client.h): the NIC fast path (boot/bios/nic.h, a NIC Pulsar
 * drives itself for the length of one transfer) and the PXE UDP API
 * (PXENV_UDP_OPEN/READ/WRITE/CLOSE).  Both send from and listen on the
 * local port dgram_next_port() picked for the transfer; time is the BIOS
 * tick count.
 */
#ifndef PULSAR_DGRAM_H
#define PULSAR_DGRAM_H
#include "boot/bios/io.h"
#include "net/tftp_client.h"

/** Silence after which the client resends (9 ticks, ~0.5 s). */
#define DGRAM_WAIT_MS (9 * BIOS_MS_PER_TICK)

/** The NIC fast path: between nic_acquire() and nic_release(). */
extern const struct dgram_transport dgram_nic;
/** The PXE UDP API: between dgram_pxe_open() and dgram_pxe_close(). */
extern const struct dgram_transport dgram_pxe_udp;

/** Open the PXE UDP API.  Returns 0 or a negative pulsar_err. */
int dgram_pxe_open(void);
/** Close it (the ROM's status of the call is not kept). */
void dgram_pxe_close(void);
/** Pick a fresh local port for the next transfer. */
void dgram_next_port(void);
#endif
