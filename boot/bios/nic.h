/*
 * The NIC fast path.  Every PXE call costs a round trip through the ROM's
 * real-mode entry; under QEMU's TCG, iPXE's costs ~44 us (its librm copies
 * a 527-byte FPU save area byte by byte into a page it shares with code),
 * more than a whole TFTP block takes when iPXE loads a file itself.  So
 * for the length of one TFTP transfer Pulsar may drive a NIC it knows
 * directly: with the PXE stack idle (no PXE call is made meanwhile), the
 * NIC's receive and transmit rings are pointed at Pulsar's, and when the
 * transfer ends every register Pulsar changed is put back: the UNDI finds
 * its rings, heads and tails as it left them, and every other PXE service
 * (TFTP size queries, chld, the final shutdown) works as before.  The
 * receive unit keeps running (under QEMU each write of its control
 * register stops reception for a second); the switch order keeps a buffer
 * behind every slot the NIC may fill (see rx_switch in nic.c).  Not
 * PXENV_UNDI_CLOSE/OPEN: iPXE's UNDI_OPEN freezes its own stack's receive
 * path for an UNDI client, and its close resets the NIC and the link.
 *
 * Known NICs: the Intel 82540EM (8086:100E) as QEMU emulates it, and only
 * there: QEMU's PCI subsystem IDs (1AF4:1100) and QEMU's accelerators by
 * the CPUID hypervisor vendor (TCG or KVM).  The switch relies on that
 * model's semantics (nic.c says why VirtualBox's e1000 and a real card
 * passed through are not it).  Any other NIC or machine, or any trouble
 * setting one up, leaves everything to the PXE API (boot/bios/dgram.c,
 * boot/bios/tftp_pxe.c); an 82540EM left to it gets a one-line note.
 */
#ifndef PULSAR_NIC_H
#define PULSAR_NIC_H
#include <stddef.h>
#include <stdint.h>

struct dhcp_facts;

/** Who we are and how to route: from the cached DHCP reply.  Called at
 * the start of each boot attempt (after heap_init: the rings come from
 * the heap). */
void nic_config(const struct dhcp_facts *f);

/**
 * Take the NIC from the UNDI for one transfer.  Returns 0, or -PE_UNSUPP
 * (nothing changed) when the NIC is not one Pulsar drives, has no link,
 * or setting it up failed.
 */
int nic_acquire(void);

/** Give the NIC back to the UNDI (its registers restored). */
void nic_release(void);

/**
 * When the fast path was set up this boot attempt, print how many
 * transfers ran on it ("pulsar: fast path: 4 of 4 transfers, ..."):
 * before the hand-off, so that a test can tell it really ran.
 */
void nic_report(void);

/**
 * Send @len bytes at @data from our UDP @sport to @dst:@dport (ports in
 * host byte order), resolving the next hop with ARP when needed.
 * Returns 0, -PE_TIMEDOUT (no ARP answer) or -PE_IO.
 */
int nic_send_udp(uint32_t dst, uint16_t sport, uint16_t dport,
                 const void *data, size_t len);

/**
 * Wait up to @ticks BIOS ticks for a UDP datagram from @src to our
 * @dport.  Returns 1 with its payload at *@data (valid until the next
 * nic_ call), *@len and *@sport set; -1 when one came in IP fragments
 * (not reassembled: *@len is its payload's size); 0 on timeout.  ARP
 * requests for our address are answered meanwhile.
 */
int nic_recv_udp(uint32_t src, uint16_t dport, unsigned ticks,
                 const uint8_t **data, size_t *len, uint16_t *sport);
#endif
