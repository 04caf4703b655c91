/*
 * The PXE API: finding it, calling it, and the parameter blocks Pulsar
 * uses (PXE 2.1).  Only boot/bios/ talks to the PXE ROM.
 */
#ifndef PULSAR_PXE_H
#define PULSAR_PXE_H
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define PXENV_UNDI_CLOSE 0x0002
#define PXENV_UNDI_SHUTDOWN 0x0005
#define PXENV_STOP_UNDI 0x0015
#define PXENV_TFTP_OPEN 0x0020
#define PXENV_TFTP_CLOSE 0x0021
#define PXENV_TFTP_READ 0x0022
#define PXENV_TFTP_READ_FILE 0x0023
#define PXENV_TFTP_GET_FSIZE 0x0025
#define PXENV_UNLOAD_STACK 0x0070
#define PXENV_GET_CACHED_INFO 0x0071

#define PXENV_STATUS_BAD_FUNC 0x02
#define PXENV_STATUS_UNSUPPORTED 0x03
#define PXENV_STATUS_ARP_TIMEOUT 0x11
#define PXENV_STATUS_TFTP_CANNOT_ARP_ADDRESS 0x30
#define PXENV_STATUS_TFTP_OPEN_TIMEOUT 0x32
#define PXENV_STATUS_TFTP_READ_TIMEOUT 0x35
#define PXENV_STATUS_TFTP_FILE_NOT_FOUND 0x3B
#define PXENV_STATUS_TFTP_ACCESS_VIOLATION 0x3C
#define PXENV_STATUS_TFTP_NO_FILESIZE 0x3E

#define PXENV_PACKET_TYPE_DHCP_ACK 2
#define PXENV_PACKET_TYPE_CACHED_REPLY 3

/** A PXE segment descriptor in !PXE. */
struct pxe_segdesc {
    uint16_t segment;
    uint32_t phys;
    uint16_t size;
} __attribute__((packed));

/** The !PXE structure (PXE 2.1, 88 bytes). */
struct bang_pxe {
    char signature[4]; /* "!PXE" */
    uint8_t length;
    uint8_t checksum;
    uint8_t revision;
    uint8_t reserved1;
    uint32_t undi_rom_id, base_rom_id;
    uint32_t entry_sp;  /* seg:off of the 16-bit real-mode entry */
    uint32_t entry_esp; /* 16-bit protected-mode entry */
    uint32_t status_callout;
    uint8_t reserved2;
    uint8_t seg_desc_cnt;
    uint16_t first_selector;
    struct pxe_segdesc seg[7]; /* stack, UNDI data/code/code-write,
                                  BC data/code/code-write */
} __attribute__((packed));

/** The PXENV+ structure (44 bytes). */
struct pxenv_plus {
    char signature[6]; /* "PXENV+" */
    uint16_t version;
    uint8_t length;
    uint8_t checksum;
    uint32_t rm_entry;
    uint32_t pm_offset;
    uint16_t pm_selector;
    uint16_t stack_seg, stack_size;
    uint16_t bc_code_seg, bc_code_size;
    uint16_t bc_data_seg, bc_data_size;
    uint16_t undi_data_seg, undi_data_size;
    uint16_t undi_code_seg, undi_code_size;
    uint32_t pxe_ptr; /* !PXE, version >= 2.1 */
} __attribute__((packed));

/** A base-memory region the PXE stack occupies. */
struct pxe_region {
    uint32_t start, end;
    const char *what;
};

/** What pxe_find learnt. */
struct pxe_api {
    uint32_t entry;      /* seg:off to far-call */
    int bang;            /* 1: !PXE calling convention, 0: PXENV+ */
    const char *how;     /* how it was found, for the console */
    uint32_t struct_lin; /* linear address of the structure used */
    struct pxe_region region[8];
    unsigned nregion;
};

/**
 * Find the PXE API: !PXE from the entry stack first, then PXENV+ from
 * ES:BX, then INT 1Ah AX=5650h.  Signatures and checksums are verified.
 */
int pxe_find(struct pxe_api *api);

/**
 * Call PXE @opcode with the parameter block @params (@size bytes); the
 * block travels through a bounce buffer below 1 MiB and is copied back.
 * Returns 0, or -PE_NOENT for a missing TFTP file, -PE_ACCESS for a TFTP
 * access violation, -PE_TIMEDOUT for an ARP or TFTP timeout, -PE_NOPXE
 * otherwise; pxe_last_status holds the PXE status word of the last call.
 */
int pxe_call(uint16_t opcode, void *params, size_t size);

/** The status word of the last pxe_call. */
extern uint16_t pxe_last_status;

/** A name for a PXE status code, for error messages. */
const char *pxe_status_str(uint16_t status);

/**
 * Close UNDI, shut the NIC down and unload the stack: no more DMA.  The
 * PXE order (UNDI_CLOSE, UNDI_SHUTDOWN, UNLOAD_STACK, STOP_UNDI), except
 * after pxe_stop_first was set: then STOP_UNDI alone first, and the rest
 * only if it fails.
 */
int pxe_shutdown(void);

/**
 * Set when iPXE's file API fetched a file (boot/bios/http_pxe.c): iPXE
 * keeps the HTTP connection open for the next request, and its
 * STOP_UNDI runs iPXE's whole shutdown, which closes every TCP connection
 * and then removes its devices (the NIC reset: no more DMA).  Called after
 * UNDI_CLOSE, the NIC is down and the close cannot be sent: iPXE waits a
 * second for it, spinning (docs/speed.md, "Boot storms").
 */
extern bool pxe_stop_first;

/**
 * The DHCP packet the ROM cached (PXENV_GET_CACHED_INFO of @type, e.g.
 * PXENV_PACKET_TYPE_DHCP_ACK), copied into pxe_bounce: *@pkt, *@len.
 * Returns 0 or -PE_NOPXE (pxe_last_status says why).
 */
int pxe_cached_packet(uint16_t type, const uint8_t **pkt, size_t *len);

/** A buffer below 1 MiB for data the ROM writes (TFTP packets). */
#define PXE_BOUNCE_SIZE 8192
extern uint8_t pxe_bounce[PXE_BOUNCE_SIZE];
#endif
