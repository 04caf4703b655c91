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

struct tramp_block;
#include "loader/session.h"
#include "loader/source.h"
#include "net/dhcp.h"

/* Status codes of UEFI 2.5 and later that gnu-efi 3.0.15 lacks. */
#ifndef EFI_IP_ADDRESS_CONFLICT
#define EFI_IP_ADDRESS_CONFLICT EFIERR(34)
#endif
#ifndef EFI_HTTP_ERROR
#define EFI_HTTP_ERROR EFIERR(35) /* the web server's status was an error */
#endif

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
int efi_wait_key(unsigned ms);
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
/** Leave the PXE Base Code as the firmware had it (Pulsar's progress
 *  callback off and uninstalled), before another program gets the NIC. */
void efi_pxe_release(void);

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
/** session_face.progress_end on UEFI: the console's "in 1.2 s, ..." and,
 *  when the last transfer over SNP had any, its timeouts and ignored
 *  packets. */
const char *efi_progress_end(uint32_t done);

/* ------------------------------- HTTP over EFI_HTTP_PROTOCOL (http.c) */

/**
 * Keep the boot device @dev (whose NIC's HTTP service binding the first
 * URL looks for) and the DHCP facts' address and netmask for the
 * transfers: called by efi_pxe_dhcp at each attempt.
 */
void efi_http_config(EFI_HANDLE dev, const struct dhcp_facts *f);
/** The file source for http:// URLs: the firmware's HTTP, or one whose
 *  every call fails saying the firmware has none. */
const struct file_source *efi_http_source(void);

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

/** The firmware's map as the last GetMemoryMap returned it. */
struct efi_raw_map {
    const void *buf; /* the descriptors (in Pulsar's image) */
    UINTN size, desc_size;
    UINT32 version;
};

/** The raw map the last efi_e820/efi_map_key read: after the
 *  ExitBootServices that used its key, the map the kernel owns. */
const struct efi_raw_map *efi_last_map(void);

/** efi_e820 on the map last read, without calling the firmware (usable
 *  after ExitBootServices). */
unsigned efi_e820_last(struct e820_entry *map, unsigned max, char *msg,
                       size_t len);

/** The ranges of the map last read that the firmware holds while its
 *  boot services run (loader and boot services code and data), touching
 *  ones merged, into @held (@max entries); 0 when they do not fit. */
unsigned efi_held_last(struct e820_entry *held, unsigned max);

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

struct session;
/** session_guest_ptr for [dest, dest+n) in one piece of memory, for
 *  what the firmware or the kernel reads through one pointer (LoadImage,
 *  LoadFile2, section headers): a claim staged in pieces is joined into
 *  one buffer first.  NULL when it is not @owner's or no buffer is
 *  there (said). */
void *efi_guest_whole(struct session *s, const void *owner, uint32_t dest,
                      size_t n);

/* ------------------------------------------------ video (video.c) */

/**
 * For a kernel that asks for video (@mb: header flag bit 2): set the GOP
 * mode closest to its wishes (or keep the one set) and fill @v's
 * framebuffer fields; @v is cleared first, so without a wish, a GOP or a
 * framebuffer the kernel gets no video fields.  The reason is printed;
 * returns 0 or a negative pulsar_err (not fatal: the boot goes on).
 */
int efi_video_prepare(const struct mb_header *mb, struct mbi_video *v);

/** The hand-off's own memory (boot/efi/handoff.c): the information the
 *  kernel is given (multiboot info or boot_params), the trampoline's
 *  block and its code page, all below 4 GiB and reserved in the placer. */
struct efi_handoff {
    uint8_t *info;
    size_t info_len;
    struct tramp_block *ho;
    uint8_t *tramp;
};

/** Allocate the hand-off's memory (@info_pages for the information),
 *  copy the trampoline, set up its GDT.  0 or the session's error. */
int efi_handoff_alloc(struct session *s, size_t info_pages,
                      struct efi_handoff *h);
/** Fill and check the move list from the staged ranges (none may overlap
 *  the hand-off's memory).  0 or the session's error. */
int efi_handoff_moves(struct session *s, struct efi_handoff *h);
/** GetMemoryMap + ExitBootServices (retried with a fresh key); the raw
 *  map of the call that succeeded stays in efi_last_map().  Afterwards
 *  only the UART prints.  0 or the session's error. */
int efi_handoff_exit(struct session *s);
/** After ExitBootServices nothing can be retried: say why on the UART
 *  and stop. */
void efi_halt_exited(const char *why) __attribute__((noreturn));
/** The configuration table entry of @guid (its VendorTable), or NULL. */
const void *efi_config_table(const EFI_GUID *guid);
/** Run the trampoline: move, then enter the kernel at ho->entry. */
void efi_handoff_jump(const struct efi_handoff *h) __attribute__((noreturn));

/**
 * Build the multiboot information for the kernel the session staged,
 * exit boot services, move every staged range into place and start the
 * kernel (boot/efi/handoff.c).  Returns only while the firmware is still
 * there: the error is reported and the attempt can be retried.
 */
int efi_handoff_multiboot(struct session *s, const char *loader_name);

/**
 * The same for a Multiboot2 kernel (boot/efi/mb2.c): without the EFI boot
 * services tag as above, with the info's EFI tags built from the map
 * ExitBootServices took; with it, every range in place while the
 * firmware runs, no ExitBootServices, and the kernel entered in 64-bit
 * mode (efi_enter64).  Returns only while the firmware is still there.
 */
int efi_handoff_multiboot2(struct session *s, const char *loader_name);

/** The DHCP ACK the PXE Base Code holds (its length up to the end
 *  option), for the Multiboot2 network tag; NULL when none. */
const uint8_t *efi_pxe_ack(uint32_t *len);

/* ---------------------------------------------------- Linux (linux.c) */

/**
 * Start a bzImage through its EFI stub: LoadImage from the staged file,
 * the command line as LoadOptions (UCS-2), the initrd through LoadFile2
 * on LINUX_EFI_INITRD_MEDIA_GUID's device path, StartImage.  Returns
 * only when the kernel could not be started or returned, with the
 * status named; everything installed is removed again.
 */
int efi_boot_linux_stub(struct session *s);

/**
 * Start a bzImage without a stub through the 32-bit boot protocol: exit
 * boot services, build boot_params (E820 from the final EFI map,
 * efi_info, acpi_rsdp_addr), move the staged ranges and enter the
 * protected-mode kernel with ESI = boot_params.  Returns only while the
 * firmware is still there.
 */
int efi_handoff_linux32(struct session *s);
#endif
