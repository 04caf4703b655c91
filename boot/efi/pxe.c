/*
 * The network as the firmware left it: the PXE Base Code protocol on the
 * device Pulsar was loaded from (the loaded image's DeviceHandle: the
 * NIC the firmware booted over).  Its Mode holds the DHCP exchange; its
 * Mtftp reads files.  EDK2's Mtftp asks for no block size unless told
 * one (512-byte blocks, a third of the speed), so every read asks 1468:
 * the largest that fits an Ethernet frame.
 */
#include "boot/efi/netfind.h"
#include "boot/efi/uefi.h"
#include "lib/errno.h"
#include <stdio.h>
#include <string.h>

/** The block size every Mtftp call asks for (1500 - IP - UDP - TFTP). */
#define MTFTP_BLKSIZE 1468
/** Bytes handed to the sink at a time (the progress line's pace). */
#define FEED_CHUNK (256u * 1024)

static EFI_PXE_BASE_CODE *pxebc;
static EFI_HANDLE pxe_handle; /* where pxebc is (for its callback) */

int efi_pxe_dhcp(struct dhcp_facts *f, char *msg, size_t len)
{
    EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
    EFI_GUID pxe_guid = EFI_PXE_BASE_CODE_PROTOCOL_GUID;
    EFI_LOADED_IMAGE *li;
    EFI_PXE_BASE_CODE_MODE *mode;
    EFI_STATUS st;

    st = efi_bs->HandleProtocol(efi_image, &li_guid, (void **)&li);
    if (EFI_ERROR(st)) {
        snprintf(msg, len, "HandleProtocol(LoadedImage): %s",
                 efi_status_str(st));
        return -PE_NOPXE;
    }
    pxe_handle = li->DeviceHandle;
    efi_net_remember(li->DeviceHandle);
    st = efi_bs->HandleProtocol(li->DeviceHandle, &pxe_guid, (void **)&pxebc);
    if (EFI_ERROR(st) &&
        !(pxebc = efi_pxe_find(li->DeviceHandle, &pxe_handle, msg, len)))
        return -PE_NOPXE; /* chainloaded with the NIC as the device */
    mode = pxebc->Mode;
    if (!mode->Started || mode->UsingIpv6 || !mode->DhcpAckReceived) {
        snprintf(msg, len, "the PXE Base Code holds no IPv4 DHCP ACK "
                 "(Started %u, UsingIpv6 %u, DhcpAckReceived %u)",
                 mode->Started, mode->UsingIpv6, mode->DhcpAckReceived);
        return -PE_NOPXE;
    }

    /* PxeReply, ProxyOffer, DhcpAck merged (net/dhcp.h). */
    int rc = dhcp_validate_efi(mode->DhcpAck.Raw, sizeof(mode->DhcpAck.Raw),
                      mode->ProxyOfferReceived ? mode->ProxyOffer.Raw : NULL,
                      sizeof(mode->ProxyOffer.Raw),
                      mode->PxeReplyReceived ? mode->PxeReply.Raw : NULL,
                      sizeof(mode->PxeReply.Raw), f, msg, len);
    if (rc == 0) {
        efi_snp_config(li->DeviceHandle, f);
        efi_http_config(pxe_handle, f);
    }
    return rc;
}

/* ------------------------------------------------------------ transfers */

/** Does @text hold @word, ignoring case (ASCII)? */
static bool has_word(const char *text, size_t max, const char *word)
{
    size_t n = strlen(word);

    for (size_t i = 0; i + n <= max && text[i]; i++) {
        size_t j = 0;
        while (j < n && (text[i + j] | 0x20) == word[j])
            j++;
        if (j == n)
            return true;
    }
    return false;
}

/**
 * The pulsar_err of a TFTP error packet as the PXE Base Code kept it.
 * OVMF's Mode->TftpError reads 0 (undefined) where QEMU's server sent 1
 * "File not found", so for code 0 the text decides.
 */
static int tftp_error_rc(const EFI_PXE_BASE_CODE_TFTP_ERROR *e)
{
    size_t max = sizeof(e->ErrorString);

    if (e->ErrorCode == 1 ||
        (e->ErrorCode == 0 && has_word((const char *)e->ErrorString, max, "not found")))
        return -PE_NOENT;
    if (e->ErrorCode == 2 ||
        (e->ErrorCode == 0 && has_word((const char *)e->ErrorString, max, "access")))
        return -PE_ACCESS;
    return -PE_IO;
}

/** Say in @res what Mtftp @op on @path returned, as a pulsar_err. */
static int mtftp_failed(struct xfer_result *res, const char *op,
                        const char *path, EFI_STATUS st)
{
    EFI_PXE_BASE_CODE_MODE *mode = pxebc->Mode;
    int rc = -PE_IO;

    res->fw_status = (uint32_t)st;
    if (st == EFI_TIMEOUT)
        rc = -PE_TIMEDOUT;
    if (st == EFI_UNSUPPORTED)
        rc = -PE_UNSUPP; /* this stack cannot: no use trying again */
    if (st == EFI_TFTP_ERROR && mode->TftpErrorReceived) {
        unsigned code = mode->TftpError.ErrorCode;
        rc = tftp_error_rc(&mode->TftpError);
        snprintf(res->detail, sizeof(res->detail), "Mtftp %s %s: %s "
                 "(TFTP error %u: %.40s)", op, path, efi_status_str(st), code,
                 mode->TftpError.ErrorString);
    } else {
        snprintf(res->detail, sizeof(res->detail), "Mtftp %s %s: %s", op,
                 path, efi_status_str(st));
    }
    return res->rc = rc;
}

/* The progress of a READ_FILE: the PXE Base Code calls back for every
 * TFTP packet once SetParameters(NewMakeCallback) found this protocol on
 * its handle (EDK2 does; a stack that does not just shows no progress
 * until the file is in). */
static const struct file_sink *arriving_sink;
static uint32_t arrived;
static uint16_t arrived_block;
static bool callback_on;
static bool callback_tried;

/** EFI_PXE_CALLBACK: count the DATA blocks in order, tell the sink. */
static EFI_PXE_BASE_CODE_CALLBACK_STATUS EFIAPI
on_packet(EFI_PXE_BASE_CODE_CALLBACK *This, EFI_PXE_BASE_CODE_FUNCTION fn,
          BOOLEAN received, UINT32 len, EFI_PXE_BASE_CODE_PACKET *packet)
{
    const UINT8 *p = (const UINT8 *)packet;

    (void)This;
    /* Only a READ_FILE runs while arriving_sink is set: every TFTP DATA
     * packet (opcode 3) counts, whatever @fn and @received say (EDK2's
     * Mtftp passes them as it keeps them, not always FUNCTION_MTFTP). */
    (void)fn;
    (void)received;
    if (p && len >= 4 && arriving_sink && p[0] == 0 && p[1] == 3) {
        uint16_t block = (uint16_t)(p[2] << 8 | p[3]);
        if (block == (uint16_t)(arrived_block + 1)) {
            arrived_block = block;
            arrived += len - 4;
            arriving_sink->arriving(arriving_sink->ctx, arrived);
        }
    }
    return EFI_PXE_BASE_CODE_CALLBACK_STATUS_CONTINUE;
}

static EFI_PXE_BASE_CODE_CALLBACK callback = {
    EFI_PXE_BASE_CODE_CALLBACK_PROTOCOL_REVISION, on_packet
};

/** Put the callback on the PXE Base Code's handle (once); false: no. */
static bool callback_install(void)
{
    EFI_GUID cb_guid = EFI_PXE_BASE_CODE_CALLBACK_PROTOCOL_GUID;
    EFI_HANDLE h = pxe_handle;
    BOOLEAN on = TRUE;

    if (callback_tried)
        return callback_on;
    callback_tried = true;
    if (EFI_ERROR(efi_bs->InstallProtocolInterface(&h, &cb_guid,
                                                   EFI_NATIVE_INTERFACE,
                                                   &callback)))
        return false;
    callback_on = !EFI_ERROR(pxebc->SetParameters(pxebc, NULL, NULL, NULL,
                                                  NULL, &on));
    return callback_on;
}

void efi_pxe_release(void)
{
    EFI_GUID cb_guid = EFI_PXE_BASE_CODE_CALLBACK_PROTOCOL_GUID;
    BOOLEAN off = FALSE;

    if (callback_on) {
        pxebc->SetParameters(pxebc, NULL, NULL, NULL, NULL, &off);
        efi_bs->UninstallProtocolInterface(pxe_handle, &cb_guid, &callback);
    }
    callback_on = callback_tried = false;
}

/** The server address as Mtftp wants it. */
static void server_addr(EFI_IP_ADDRESS *ip, uint32_t server)
{
    memset(ip, 0, sizeof(*ip));
    memcpy(ip->v4.Addr, &server, 4); /* network byte order */
}

/** file_source.size: Mtftp GET_FILE_SIZE (tsize). */
static int efi_size(const struct file_source *src, uint32_t server,
                    const char *path, uint32_t *size, struct xfer_result *res)
{
    EFI_IP_ADDRESS ip;
    UINT64 bytes = 0;
    UINTN blksize = MTFTP_BLKSIZE;
    EFI_STATUS st;
    int rc;

    (void)src;
    if (efi_snp_ready() &&
        (rc = efi_snp_size(server, path, size, res)) != EFI_SNP_GONE)
        return rc;
    memset(res, 0, sizeof(*res));
    server_addr(&ip, server);
    st = pxebc->Mtftp(pxebc, EFI_PXE_BASE_CODE_TFTP_GET_FILE_SIZE, NULL,
                      FALSE, &bytes, &blksize, &ip, (UINT8 *)path, NULL,
                      FALSE);
    if (EFI_ERROR(st))
        return mtftp_failed(res, "GET_FILE_SIZE", path, st);
    if (bytes > 0xFFFFFFFFull) {
        snprintf(res->detail, sizeof(res->detail), "Mtftp GET_FILE_SIZE "
                 "%s: %llu bytes, over 4 GiB", path,
                 (unsigned long long)bytes);
        return res->rc = -PE_RANGE;
    }
    *size = res->size = (uint32_t)bytes;
    return res->rc = 0;
}

/**
 * file_source.fetch: the size (GET_FILE_SIZE), then the whole file with
 * READ_FILE: straight into its destination when the sink offers one
 * (file_sink.whole: the staging buffer of its claim), else into pages of
 * its own; then to the sink in chunks (no copy from the destination).
 */
static int efi_fetch(const struct file_source *src, uint32_t server,
                     const char *path, uint32_t max,
                     const struct file_sink *sink, struct xfer_result *res)
{
    EFI_PHYSICAL_ADDRESS buf = 0;
    EFI_IP_ADDRESS ip;
    UINTN blksize = MTFTP_BLKSIZE, pages = 0;
    UINT64 bytes;
    uint32_t size;
    uint8_t *dst;
    EFI_STATUS st;
    int rc;

    if (efi_snp_ready() &&
        (rc = efi_snp_fetch(server, path, max, sink, res)) != EFI_SNP_GONE)
        return rc;
    memset(res, 0, sizeof(*res));
    if ((rc = efi_size(src, server, path, &size, res)) != 0) {
        res->size_query = true;
        return rc;
    }
    if (size > max)
        return res->rc = -PE_RANGE;
    if (sink->size && (rc = sink->size(sink->ctx, size)) != 0)
        return res->rc = rc;
    dst = sink->whole ? sink->whole(sink->ctx, size) : NULL;
    if (dst) {
        bytes = size; /* READ_FILE writes no further */
    } else {
        pages = ((UINTN)size + 4095) / 4096 + 1;
        st = efi_bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages,
                                   &buf);
        if (EFI_ERROR(st)) {
            snprintf(res->detail, sizeof(res->detail), "AllocatePages(%llu "
                     "pages) for %s: %s", (unsigned long long)pages, path,
                     efi_status_str(st));
            res->fw_status = (uint32_t)st;
            return res->rc = -PE_NOMEM;
        }
        dst = (uint8_t *)(uintptr_t)buf;
        bytes = (UINT64)pages * 4096;
    }
    server_addr(&ip, server);
    arriving_sink = sink->arriving && callback_install() ? sink : NULL;
    arrived = 0;
    arrived_block = 0;
    st = pxebc->Mtftp(pxebc, EFI_PXE_BASE_CODE_TFTP_READ_FILE, dst, FALSE,
                      &bytes, &blksize, &ip, (UINT8 *)path, NULL, FALSE);
    arriving_sink = NULL;
    if (st == EFI_BUFFER_TOO_SMALL && pages == 0)
        return res->rc = -PE_CHANGED; /* more than GET_FILE_SIZE said */
    if (EFI_ERROR(st)) {
        if (pages)
            efi_bs->FreePages(buf, pages);
        return mtftp_failed(res, "READ_FILE", path, st);
    }
    res->blksize = (uint16_t)blksize;
    if (bytes > size) {
        if (pages)
            efi_bs->FreePages(buf, pages);
        return res->rc = -PE_CHANGED; /* more than GET_FILE_SIZE said */
    }
    rc = 0;
    for (uint32_t off = 0; off < (uint32_t)bytes && rc == 0;) {
        uint32_t n = (uint32_t)bytes - off;
        if (n > FEED_CHUNK)
            n = FEED_CHUNK;
        rc = sink->data(sink->ctx, off, dst + off, n);
        if (rc == 0)
            res->got = off += n;
    }
    if (pages)
        efi_bs->FreePages(buf, pages);
    return res->rc = rc;
}

const struct file_source *efi_pxe_source(void)
{
    static const struct file_source src = { efi_size, efi_fetch, NULL };
    return &src;
}

/* ------------------------------------------------------- the DHCP ACK */

const uint8_t *efi_pxe_ack(uint32_t *len)
{
    if (!pxebc || !pxebc->Mode->DhcpAckReceived) {
        *len = 0;
        return NULL;
    }
    *len = (uint32_t)dhcp_packet_len(pxebc->Mode->DhcpAck.Raw,
                                     sizeof(pxebc->Mode->DhcpAck.Raw));
    return pxebc->Mode->DhcpAck.Raw;
}
