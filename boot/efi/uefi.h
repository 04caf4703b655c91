/*
 * The UEFI face's shared declarations: the firmware tables it keeps, the
 * names of EFI status codes, the console's clock, the network (PXE Base
 * Code) and the memory work of the hand-off.  Only boot/efi/ includes
 * this; the pure code never sees an EFI type.
 */
#ifndef PULSAR_UEFI_H
#define PULSAR_UEFI_H
#include <efi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader/place.h"
#include "loader/session.h"
#include "loader/source.h"
#include "net/dhcp.h"

/* What efi_main was given (boot/efi/main.c). */
extern EFI_HANDLE efi_image;
extern EFI_SYSTEM_TABLE *efi_st;
extern EFI_BOOT_SERVICES *efi_bs;

/** "EFI_TIMEOUT", or "EFI status 0x..." for a code without a name
 *  (one static buffer). */
const char *efi_status_str(EFI_STATUS st);

/* ------------------------------------------------ console (console.c) */

/** Find the serial port and calibrate the clock. */
void efi_console_init(void);
/** Milliseconds since efi_console_init (TSC-based). */
uint64_t efi_ms(void);
/** Wait @ms milliseconds (the session's face->sleep_ms). */
void efi_sleep_ms(unsigned ms);
/** Wait up to @ms for a key on ConIn or a byte on COM1; true if one came. */
bool efi_wait_key(unsigned ms);
/** After ExitBootServices: write to the UART only. */
void efi_console_firmware_gone(void);

/* --------------------------------------------------- network (pxe.c) */

/**
 * Find the PXE Base Code protocol on the loaded image's device and read
 * its DHCP facts (PxeReply, ProxyOffer and DhcpAck merged) into @f.
 * Returns 0 or a negative pulsar_err with the reason in @msg.
 */
int efi_pxe_dhcp(struct dhcp_facts *f, char *msg, size_t len);
/** The file source over PxeBc->Mtftp (efi_pxe_dhcp first). */
const struct file_source *efi_pxe_source(void);

/* ------------------------------------- own TFTP over SNP (snp.c) */

/**
 * Find the SNP of the boot NIC @dev (once) and set the link up with the
 * DHCP facts @f: called by efi_pxe_dhcp at each attempt.
 */
void efi_snp_config(EFI_HANDLE dev, const struct dhcp_facts *f);
/** Is there an SNP to run Pulsar's own TFTP client over? */
bool efi_snp_ready(void);
/** efi_snp_fetch/efi_snp_size: an SNP call failed before the server
 *  was heard (said on the console); SNP is off, use Mtftp. */
#define EFI_SNP_GONE 2
/** file_source.fetch over SNP: Pulsar's TFTP client (tsize, blksize
 *  1468, windowsize); on an SNP call's failure @res->detail names it,
 *  or EFI_SNP_GONE. */
int efi_snp_fetch(uint32_t server, const char *path, uint32_t max,
                  const struct file_sink *sink, struct xfer_result *res);
/** file_source.size over SNP: a read request that stops at the OACK's
 *  tsize (-PE_UNSUPP when the server announces none). */
int efi_snp_size(uint32_t server, const char *path, uint32_t *size,
                 struct xfer_result *res);

/* ---------------------------------------------- memory (memory.c) */

/** Most EFI memory map entries Pulsar reads (and converts). */
#define EFI_MAP_MAX 256

/**
 * Read the firmware's memory map and convert it to E820-like entries
 * (loader/efimap.h: the types they have after ExitBootServices, sorted,
 * touching entries of one type merged).  @key: out: the map key (may be
 * NULL).  Returns the number of entries, or 0 with @msg set.
 */
unsigned efi_e820(struct e820_entry *map, unsigned max, UINTN *key,
                  char *msg, size_t len);

/** Reserve Pulsar's own image in @p (it runs until the trampoline). */
int efi_reserve_own(struct placer *p);

/** Allocate @pages pages below 4 GiB of @type that overlap nothing in
 *  @p (NULL: no check); reserved in @p as @what, zeroed, and freed by
 *  the next efi_stage_reset.  NULL when none. */
void *efi_alloc_low(struct placer *p, UINTN pages, EFI_MEMORY_TYPE type,
                    const char *what);

/** Start a new attempt: everything efi_alloc_low gave the last one
 *  (staging, the hand-off's pages) is freed. */
void efi_stage_reset(struct placer *p);

/** The session's face->guest: staging for every claimed range. */
void *efi_guest(uint32_t dest, size_t n);

/**
 * Build the multiboot information for the kernel the session staged,
 * exit boot services, move every staged range into place and start the
 * kernel (boot/efi/handoff.c).  Returns only while the firmware is still
 * there: the error is reported and the attempt can be retried.
 */
int efi_handoff_multiboot(struct session *s, const char *loader_name);
#endif
