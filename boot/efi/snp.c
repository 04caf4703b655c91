/*
 * Pulsar's own TFTP client (net/tftp_client.c) over the Simple Network
 * Protocol of the NIC the firmware booted from, with Pulsar's own
 * Ethernet, ARP, IPv4 and UDP (net/udplink.c): the interface both UEFI
 * stacks are sure to have.  OVMF's own PXE stack has SNP under its
 * MNP/IP4/UDP4/PxeBc drivers; iPXE's EFI driver (QEMU's e1000 ROM) is
 * built around SNP and installs its PxeBc beside it, a PxeBc that cannot
 * tell a file's size (GET_FILE_SIZE: EFI_UNSUPPORTED).  The OACK's tsize gives the size,
 * blksize 1468 fills a frame, and a server that grants windowsize sends
 * a window per ACK.
 *
 * While a transfer runs Pulsar sits at TPL_CALLBACK: OVMF's MNP polls
 * the same SNP from a timer event at that level and would take the
 * frames meant for Pulsar.  Nothing is disconnected, so the PXE Base
 * Code (Mtftp, chld's NIC) is there as before.
 */
#include "boot/efi/uefi.h"
#include "lib/console.h"
#include "lib/errno.h"
#include "net/tftp.h"
#include "net/tftp_client.h"
#include "net/udplink.h"
#include <stdio.h>
#include <string.h>

/** Silence after which the client resends (as on BIOS, ~0.5 s). */
#define SNP_WAIT_MS 500
/** How long the NIC may keep every transmit buffer. */
#define SNP_TX_MS 100
/**
 * The RFC 7440 window asked for over SNP, by stack, as measured (64 MiB
 * from atftpd, docs/speed.md): OVMF's own stack takes 16 blocks a burst
 * best (34 MiB/s; 8: 20 MiB/s); iPXE's EFI driver loses frames of a
 * 16-block burst (17 MiB/s) and takes 8 best (36 MiB/s; 4: 26 MiB/s).
 * The stacks differ in the boot handle's device path: EDK2's PxeBc is a
 * child of the NIC with an IPv4 node at the end of its path (and a copy
 * of SNP on it); iPXE's sits on the NIC's own handle, its path ending in
 * the MAC node.  A driver that is not the firmware's own gets the
 * smaller burst.
 */
#define SNP_WINDOW_EDK2 TFTP_WINDOW_WANTED
#define SNP_WINDOW_IPXE 8
/** Transmit buffers (see snp_tx). */
#define SNP_NTX 8

static struct snp {
    EFI_SIMPLE_NETWORK *net;   /* NULL: none found (yet) */
    struct udp_link link;
    uint16_t port, next_port;  /* this transfer's local port, the next */
    EFI_STATUS failed;         /* the last SNP call that failed ... */
    const char *failed_call;   /* ... and which one (for the message) */
    uint8_t rx[ETH_FRAME_MAX + 64] __attribute__((aligned(16)));
    uint8_t tx[SNP_NTX][ETH_FRAME_MAX + 6] __attribute__((aligned(16)));
    bool tx_busy[SNP_NTX];     /* handed to the NIC, not yet given back */
    bool broken;               /* an SNP call failed: Mtftp from now on */
    uint16_t window;           /* the window to ask for (SNP_WINDOW_*) */
    struct tftp_counts counts; /* the last transfer's (efi_progress_end) */
    uint32_t counted_got;      /* ... and the bytes it delivered */
} snp;

/** Remember that @call returned @st (for the transfer's message). */
static int snp_failed(const char *call, EFI_STATUS st)
{
    snp.failed = st;
    snp.failed_call = call;
    return st == EFI_TIMEOUT ? -PE_TIMEDOUT : -PE_IO;
}

/**
 * Take back every transmit buffer the NIC is done with (GetStatus);
 * false when GetStatus fails (its status in snp.failed).
 */
static bool tx_reap(void)
{
    for (;;) {
        void *done = NULL;
        EFI_STATUS st = snp.net->GetStatus(snp.net, NULL, &done);
        if (EFI_ERROR(st)) {
            snp_failed("SNP GetStatus", st);
            return false;
        }
        if (!done)
            return true;
        for (unsigned i = 0; i < SNP_NTX; i++)
            if (done == snp.tx[i])
                snp.tx_busy[i] = false;
    }
}

/**
 * udp_link_ops.tx: into a free transmit buffer, and Transmit.  The NIC
 * hands a buffer back (GetStatus) some time after it sent it: waiting
 * for that after every ACK would cost a round trip through the device
 * model, so there are a few buffers, taken back as they come (EDK2's
 * virtio-net recycles transmit buffers only through GetStatus).
 */
static int snp_tx(void *ctx, const uint8_t *f, size_t len)
{
    EFI_SIMPLE_NETWORK *net = snp.net;
    uint64_t start = efi_ms();
    EFI_STATUS st;
    unsigned i;

    (void)ctx;
    for (;;) {
        if (!tx_reap())
            return -PE_IO;
        for (i = 0; i < SNP_NTX && snp.tx_busy[i]; i++)
            ;
        if (i < SNP_NTX)
            break;
        if (efi_ms() - start > SNP_TX_MS)
            return snp_failed("SNP Transmit (no buffer back)", EFI_TIMEOUT);
    }
    memcpy(snp.tx[i], f, len);
    for (;;) {
        st = net->Transmit(net, 0, len, snp.tx[i], NULL, NULL, NULL);
        if (st != EFI_NOT_READY)
            break;
        /* The NIC's transmit queue is full: take buffers back, again. */
        if (!tx_reap())
            return -PE_IO;
        if (efi_ms() - start > SNP_TX_MS)
            return snp_failed("SNP Transmit", st);
    }
    if (EFI_ERROR(st))
        return snp_failed("SNP Transmit", st);
    snp.tx_busy[i] = true;
    return 0;
}

/** udp_link_ops.rx: one Receive. */
static const uint8_t *snp_rx(void *ctx, size_t *len)
{
    UINTN n = sizeof(snp.rx);
    EFI_STATUS st = snp.net->Receive(snp.net, NULL, &n, snp.rx, NULL, NULL,
                                     NULL);

    (void)ctx;
    if (EFI_ERROR(st) || n > sizeof(snp.rx))
        return NULL; /* EFI_NOT_READY: nothing; a too-long frame: skipped */
    *len = n;
    return snp.rx;
}

static uint32_t snp_now_ms(void *ctx)
{
    (void)ctx;
    return (uint32_t)efi_ms();
}

static const struct udp_link_ops snp_ops = { snp_tx, snp_rx, snp_now_ms };

/* ------------------------------------------- the datagram transport */

static int dg_send(void *ctx, uint32_t server, uint16_t dport,
                   const uint8_t *pkt, size_t len)
{
    (void)ctx;
    return udp_link_send(&snp.link, server, snp.port, dport, pkt, len);
}

static int dg_recv(void *ctx, uint32_t server, unsigned ms,
                   const uint8_t **data, size_t *len, uint16_t *sport)
{
    (void)ctx;
    int got = udp_link_recv(&snp.link, server, snp.port, ms, data, len, sport);
    return got < 0 ? DGRAM_FRAGMENTED : got;
}

static const struct dgram_transport snp_dgram = { dg_send, dg_recv,
                                                  snp_now_ms, NULL };

/* ---------------------------------------------------- finding SNP */

/** Does @dev's device path end in an IPv4 node (EDK2's PxeBc child)? */
static bool ends_in_ipv4(EFI_HANDLE dev)
{
    EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
    EFI_DEVICE_PATH *dp, *last = NULL;

    if (EFI_ERROR(efi_bs->HandleProtocol(dev, &dp_guid, (void **)&dp)))
        return false;
    /* At most 64 nodes, each at least 4 bytes long (firmware data). */
    for (unsigned n = 0; n < 64; n++) {
        unsigned len = dp->Length[0] | dp->Length[1] << 8;
        if (dp->Type == END_DEVICE_PATH_TYPE || len < 4)
            break;
        last = dp;
        dp = (EFI_DEVICE_PATH *)((UINT8 *)dp + len);
    }
    return last && last->Type == MESSAGING_DEVICE_PATH &&
           last->SubType == MSG_IPv4_DP;
}

/**
 * The SNP of the NIC behind @dev: on @dev itself (iPXE puts it beside its
 * PxeBc) or on the nearest handle up its device path (OVMF's PxeBc sits
 * on a child of the NIC's handle).  Started and initialized if it was
 * not.  NULL (with a note) when there is none.
 */
static EFI_SIMPLE_NETWORK *find_snp(EFI_HANDLE dev)
{
    EFI_GUID snp_guid = EFI_SIMPLE_NETWORK_PROTOCOL_GUID;
    EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
    EFI_DEVICE_PATH *dp;
    EFI_SIMPLE_NETWORK *net = NULL;
    EFI_HANDLE h = dev;
    EFI_STATUS st;

    snp.window = ends_in_ipv4(dev) ? SNP_WINDOW_EDK2 : SNP_WINDOW_IPXE;
    st = efi_bs->HandleProtocol(dev, &snp_guid, (void **)&net);
    if (EFI_ERROR(st) &&
        !EFI_ERROR(efi_bs->HandleProtocol(dev, &dp_guid, (void **)&dp)) &&
        !EFI_ERROR(efi_bs->LocateDevicePath(&snp_guid, &dp, &h)))
        st = efi_bs->HandleProtocol(h, &snp_guid, (void **)&net);
    if (EFI_ERROR(st)) {
        printf("pulsar: note: no Simple Network Protocol on the boot NIC "
               "(%s): files come through the PXE Base Code's Mtftp\n",
               efi_status_str(st));
        return NULL;
    }
    if (net->Mode->State == EfiSimpleNetworkStopped &&
        EFI_ERROR((st = net->Start(net)))) {
        printf("pulsar: note: SNP Start: %s: files come through Mtftp\n",
               efi_status_str(st));
        return NULL;
    }
    if (net->Mode->State == EfiSimpleNetworkStarted &&
        EFI_ERROR((st = net->Initialize(net, 0, 0)))) {
        printf("pulsar: note: SNP Initialize: %s: files come through "
               "Mtftp\n", efi_status_str(st));
        return NULL;
    }
    if (net->Mode->HwAddressSize != ETH_ALEN || net->Mode->MediaHeaderSize !=
                                                    ETH_HLEN) {
        printf("pulsar: note: the boot NIC is not Ethernet (SNP address "
               "size %u): files come through Mtftp\n",
               (unsigned)net->Mode->HwAddressSize);
        return NULL;
    }
    /* Unicast and broadcast (ARP) at least; MNP asked for them too. */
    UINT32 want = EFI_SIMPLE_NETWORK_RECEIVE_UNICAST |
                  EFI_SIMPLE_NETWORK_RECEIVE_BROADCAST;
    if ((net->Mode->ReceiveFilterSetting & want) != want)
        net->ReceiveFilters(net, want, 0, FALSE, 0, NULL);
    return net;
}

void efi_snp_config(EFI_HANDLE dev, const struct dhcp_facts *f)
{
    static bool looked;
    static EFI_SIMPLE_NETWORK *found;

    if (!looked) {
        looked = true;
        found = find_snp(dev);
        snp.next_port = (uint16_t)(0xC000 | (efi_ms() & 0x1FFF));
    }
    snp.net = snp.broken ? NULL : found;
    memset(&snp.link, 0, sizeof(snp.link));
    snp.link.ops = &snp_ops;
    snp.link.netmask = f->netmask;
    snp.link.router = f->router;
    snp.link.self.ip = f->client_ip;
    if (f->mac_len == ETH_ALEN)
        memcpy(snp.link.self.mac, f->mac, ETH_ALEN);
    else if (found)
        memcpy(snp.link.self.mac, found->Mode->CurrentAddress.Addr,
               ETH_ALEN);
}

bool efi_snp_ready(void)
{
#ifdef PULSAR_NO_SNP
    /* A build with Mtftp only, for comparison (scripts/bench). */
    return false;
#endif
    return snp.net != NULL;
}

/** Say once per server what it grants. */
static void announce(void *ctx, uint32_t server, uint16_t blksize,
                     uint16_t window)
{
    static uint32_t announced;
    char ip[16];

    (void)ctx;
    if (server == announced)
        return;
    announced = server;
    dhcp_format_ip(server, ip);
    printf("pulsar: tftp %s grants blksize %u, windowsize %u (own TFTP over "
           "SNP)\n", ip, blksize, window);
}

int efi_snp_fetch(uint32_t server, const char *path, uint32_t max,
                  const struct file_sink *sink, struct xfer_result *res)
{
    struct tftp_client c = {
        &snp_dgram, { TFTP_BLKSIZE_WANTED, snp.window, 1 },
        SNP_WAIT_MS, 0, announce, NULL, &snp.counts,
    };
    EFI_TPL tpl;
    int rc;

    snp.port = snp.next_port++;
    if (snp.next_port < 0xC000)
        snp.next_port = 0xC000;
    snp.failed = EFI_SUCCESS;
    memset(&snp.counts, 0, sizeof(snp.counts));
    /* MNP's poll timer stays off while we poll (see the top). */
    tpl = efi_bs->RaiseTPL(TPL_CALLBACK);
    rc = tftp_client_fetch(&c, server, path, max, sink, res);
    efi_bs->RestoreTPL(tpl);
    snp.counted_got = res->got;
    if (rc != 0 && snp.failed != EFI_SUCCESS) {
        if (!res->got && !res->blksize) {
            /* SNP failed before the server was heard: not the server's
             * fault; the PXE Base Code may still reach it. */
            printf("pulsar: note: %s: %s: Mtftp from now on\n",
                   snp.failed_call, efi_status_str(snp.failed));
            snp.broken = true;
            snp.net = NULL;
            return EFI_SNP_GONE;
        }
        res->fw_status = (uint32_t)snp.failed;
        snprintf(res->detail, sizeof(res->detail), "%s: %s",
                 snp.failed_call, efi_status_str(snp.failed));
    }
    return rc;
}

/** What a size query heard. */
struct announced {
    uint32_t size;
    bool said;
};

/** A size query's sink: keep the announced size, then stop. */
static int size_only(void *ctx, uint32_t size)
{
    struct announced *a = ctx;

    a->size = size;
    a->said = true;
    return 1; /* not an error: the query is done */
}

/** ... and a server that announces none sends data: stop all the same. */
static int size_none(void *ctx, uint32_t off, const uint8_t *data,
                     size_t len)
{
    (void)ctx, (void)off, (void)data, (void)len;
    return 1;
}

int efi_snp_size(uint32_t server, const char *path, uint32_t *size,
                 struct xfer_result *res)
{
    struct announced a = { 0, false };
    struct file_sink sink = { size_only, size_none, &a, NULL, NULL };
    int rc = efi_snp_fetch(server, path, 0xFFFFFFFFu, &sink, res);

    if (rc == EFI_SNP_GONE)
        return rc;
    if (rc != 1)
        return res->rc = rc;
    if (!a.said) {
        /* Data came without a tsize: the server knows no options. */
        snprintf(res->detail, sizeof(res->detail), "tftp: no tsize in the "
                 "server's answer to %s", path);
        return res->rc = -PE_UNSUPP;
    }
    *size = res->size = a.size;
    return res->rc = 0;
}

const char *efi_progress_end(uint32_t done)
{
    static char line[96];
    const char *took = console_progress_end(done);
    struct tftp_counts n = snp.counts;

    memset(&snp.counts, 0, sizeof(snp.counts)); /* said once */
    /* Not for a file that came another way (Mtftp, HTTP) after it. */
    if (!took || !*took || (!n.timeouts && !n.ignored) ||
        done != snp.counted_got)
        return took;
    snprintf(line, sizeof(line), "%s, %u timeouts, %u packets ignored",
             took, (unsigned)n.timeouts, (unsigned)n.ignored);
    return line;
}
