/*
 * Files named by http:// URL on pulsar.efi, through the firmware's own
 * EFI_HTTP_PROTOCOL (UEFI spec, "EFI HTTP Protocol"): its service binding
 * sits on the boot NIC's handle when the firmware has an HTTP driver
 * (EDK2's HttpDxe, over its TCP4).  One child per transfer: Configure
 * with the DHCP facts' address and netmask, Request a GET with a Host
 * header, Response for the status and headers (Content-Length is the
 * size the sink hears of), then Response again for the body, chunk by
 * chunk, into the sink.  Every token's event is polled (HTTP Poll) with
 * an idle timeout: a transfer that hears nothing for EFI_HTTP_IDLE_MS is
 * cancelled.  Where the boot NIC has no HTTP service binding, even after
 * its drivers are connected again, every call fails with a detail that
 * says so.
 */
#include "boot/efi/uefi.h"
#include "lib/errno.h"
#include <stdio.h>
#include <string.h>

/** A transfer that hears nothing for this long is given up. */
#define EFI_HTTP_IDLE_MS 10000u
/** The body chunk asked of each Response call. */
#define BODY_CHUNK (64u * 1024)
/** The longest URL Pulsar sends (the CHAR16 copy's room). */
#define URL_MAX 512u

/* ---------------------- EFI_HTTP_PROTOCOL, as the UEFI spec defines it */

#define HTTP_SB_GUID                                                     \
    { 0xbdc8e6af, 0xd9bc, 0x4379,                                        \
      { 0xa7, 0x2a, 0xe0, 0xc4, 0xe7, 0x5d, 0xae, 0x1c } }
#define HTTP_GUID                                                        \
    { 0x7a59b29b, 0x910b, 0x4171,                                        \
      { 0x82, 0x42, 0xa8, 0x5a, 0x0d, 0xf2, 0x5b, 0x5b } }

enum { HTTP_VERSION_11 = 1 };
enum { HTTP_METHOD_GET = 0 };
/** EFI_HTTP_STATUS_CODE values Pulsar tells apart (an enum, not the
 *  numbers on the wire). */
enum {
    HTTP_ST_200 = 3,
    HTTP_ST_401 = 18,
    HTTP_ST_403 = 20,
    HTTP_ST_404 = 21,
};

typedef struct {
    BOOLEAN UseDefaultAddress;
    EFI_IPv4_ADDRESS LocalAddress;
    EFI_IPv4_ADDRESS LocalSubnet;
    UINT16 LocalPort;
} HTTP_V4_ACCESS_POINT;

typedef struct {
    UINT32 HttpVersion;
    UINT32 TimeOutMillisec;
    BOOLEAN LocalAddressIsIPv6;
    HTTP_V4_ACCESS_POINT *IPv4Node;
} HTTP_CONFIG_DATA;

typedef struct {
    UINT32 Method;
    CHAR16 *Url;
} HTTP_REQUEST_DATA;

typedef struct {
    UINT32 StatusCode;
} HTTP_RESPONSE_DATA;

typedef struct {
    CHAR8 *FieldName;
    CHAR8 *FieldValue;
} HTTP_HEADER;

typedef struct {
    void *Data; /* HTTP_REQUEST_DATA * or HTTP_RESPONSE_DATA * */
    UINTN HeaderCount;
    HTTP_HEADER *Headers;
    UINTN BodyLength;
    VOID *Body;
} HTTP_MESSAGE;

typedef struct {
    EFI_EVENT Event;
    EFI_STATUS Status;
    HTTP_MESSAGE *Message;
} HTTP_TOKEN;

typedef struct _HTTP_PROTOCOL HTTP_PROTOCOL;
struct _HTTP_PROTOCOL {
    EFI_STATUS (EFIAPI *GetModeData)(HTTP_PROTOCOL *, HTTP_CONFIG_DATA *);
    EFI_STATUS (EFIAPI *Configure)(HTTP_PROTOCOL *, HTTP_CONFIG_DATA *);
    EFI_STATUS (EFIAPI *Request)(HTTP_PROTOCOL *, HTTP_TOKEN *);
    EFI_STATUS (EFIAPI *Cancel)(HTTP_PROTOCOL *, HTTP_TOKEN *);
    EFI_STATUS (EFIAPI *Response)(HTTP_PROTOCOL *, HTTP_TOKEN *);
    EFI_STATUS (EFIAPI *Poll)(HTTP_PROTOCOL *);
};

/* ------------------------------------------------------- the service */

static struct {
    EFI_HANDLE dev;           /* the boot device (efi_http_config) */
    EFI_SERVICE_BINDING *sb;  /* NULL: none (why in .why) */
    bool looked;              /* looked for it already (this attempt) */
    char why[96];             /* the transfers' detail when there is none */
    EFI_IPv4_ADDRESS ip, mask;
} svc;

static bool handle_has(EFI_HANDLE h, EFI_GUID *guid, void **iface)
{
    return !EFI_ERROR(efi_bs->HandleProtocol(h, guid, iface));
}

/** The HTTP service binding on the handle nearest the end of @dp. */
static EFI_SERVICE_BINDING *sb_on_path(EFI_DEVICE_PATH *dp)
{
    EFI_GUID sb_guid = HTTP_SB_GUID;
    EFI_SERVICE_BINDING *sb;
    EFI_HANDLE h;

    return !EFI_ERROR(efi_bs->LocateDevicePath(&sb_guid, &dp, &h)) &&
                   handle_has(h, &sb_guid, (void **)&sb)
               ? sb
               : NULL;
}

/**
 * The HTTP service binding of the NIC on the boot device's path (EDK2's
 * HttpDxe puts it on the NIC's handle, the parent of the PXE Base Code's
 * IPv4 child): looked for at the first URL of an attempt, not before, so
 * a TFTP-only boot never touches the NIC's drivers.  When there is none,
 * the NIC (the handle with SNP) is connected again, recursively, and
 * looked at once more.
 */
static void find_service(void)
{
    EFI_GUID snp_guid = EFI_SIMPLE_NETWORK_PROTOCOL_GUID;
    EFI_GUID dp_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
    EFI_DEVICE_PATH *dp, *rest;
    EFI_HANDLE nic;
    EFI_STATUS st;

    svc.looked = true;
    if (!svc.dev || !handle_has(svc.dev, &dp_guid, (void **)&dp)) {
        snprintf(svc.why, sizeof(svc.why), "no EFI HTTP protocol: the boot "
                 "device has no device path");
        return;
    }
    if ((svc.sb = sb_on_path(dp)) != NULL)
        return;
    rest = dp;
    if (EFI_ERROR((st = efi_bs->LocateDevicePath(&snp_guid, &rest, &nic)))) {
        snprintf(svc.why, sizeof(svc.why), "no EFI HTTP protocol, and no NIC "
                 "on the boot device's path (%s)", efi_status_str(st));
        return;
    }
    st = efi_bs->ConnectController(nic, NULL, NULL, TRUE);
    if ((svc.sb = sb_on_path(dp)) != NULL)
        return;
    snprintf(svc.why, sizeof(svc.why), "this firmware has no EFI HTTP "
             "protocol on the boot NIC (ConnectController: %s)",
             efi_status_str(st));
}

void efi_http_config(EFI_HANDLE dev, const struct dhcp_facts *f)
{
    memset(&svc, 0, sizeof(svc));
    svc.dev = dev;
    memcpy(svc.ip.Addr, &f->client_ip, 4);
    memcpy(svc.mask.Addr, &f->netmask, 4);
    if (!f->netmask) /* no option 1: one subnet of 256 is a guess, but
                        the usual one */
        memset(svc.mask.Addr, 0xFF, 3);
}

/* ----------------------------------------------------- one transfer */

/** One GET in flight: the child, its protocol, and the token's event. */
struct get {
    EFI_HANDLE child;
    HTTP_PROTOCOL *http;
    EFI_EVENT ev;
    HTTP_TOKEN tok;
    HTTP_MESSAGE msg;
    HTTP_HEADER *headers; /* the response's, the firmware's pool */
    bool busy; /* a token is queued */
};

/** Say in @res which call failed with which status; the pulsar_err. */
static int call_failed(struct xfer_result *res, const char *call,
                       EFI_STATUS st)
{
    res->fw_status = (uint32_t)st;
    snprintf(res->detail, sizeof(res->detail), "HTTP %s: %s", call,
             efi_status_str(st));
    if (st == EFI_TIMEOUT)
        return -PE_TIMEDOUT;
    return -PE_IO;
}

/**
 * Wait for @g's token (polling the child) until it completes, or
 * EFI_HTTP_IDLE_MS pass (the token is cancelled).  Returns the token's
 * status, or EFI_TIMEOUT.
 */
static EFI_STATUS wait_token(struct get *g)
{
    uint64_t start = efi_ms();

    for (;;) {
        g->http->Poll(g->http);
        if (efi_bs->CheckEvent(g->ev) == EFI_SUCCESS) {
            g->busy = false;
            return g->tok.Status;
        }
        if (efi_ms() - start > EFI_HTTP_IDLE_MS) {
            g->http->Cancel(g->http, &g->tok);
            g->busy = false;
            return EFI_TIMEOUT;
        }
    }
}

/** Tear down what get_open made. */
static void get_close(struct get *g)
{
    if (g->busy)
        g->http->Cancel(g->http, &g->tok);
    if (g->headers)
        efi_bs->FreePool(g->headers);
    if (g->http)
        g->http->Configure(g->http, NULL);
    if (g->child)
        svc.sb->DestroyChild(svc.sb, g->child);
    if (g->ev)
        efi_bs->CloseEvent(g->ev);
    memset(g, 0, sizeof(*g));
}

/** The host[:port] part of @url into @host (the Host header). */
static int url_host(const char *url, char *host, size_t len)
{
    const char *p = strchr(url, ':'), *end;

    if (!p || strncmp(p, "://", 3) != 0)
        return -PE_INVAL;
    p += 3;
    end = strchr(p, '/');
    if (!end)
        end = p + strlen(p);
    if (end == p || (size_t)(end - p) >= len)
        return -PE_TOOLONG;
    memcpy(host, p, (size_t)(end - p));
    host[end - p] = '\0';
    return 0;
}

/** Is @a the header name @b, ignoring ASCII case? */
static bool name_is(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if ((*a | 0x20) != (*b | 0x20))
            return false;
    return *a == *b;
}

/** @s as a decimal number below 2^32 into *@v; false if it is not one. */
static bool decimal(const char *s, uint32_t *v)
{
    uint64_t n = 0;

    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || (n = n * 10 + (unsigned)(*s - '0')) >
            UINT32_MAX)
            return false;
    }
    *v = (uint32_t)n;
    return true;
}

/** The Content-Length among @g's response headers, or 0 (none). */
static uint32_t content_length(const struct get *g, bool *has)
{
    *has = false;
    for (UINTN i = 0; i < g->msg.HeaderCount; i++) {
        const HTTP_HEADER *h = &g->msg.Headers[i];
        uint32_t v;
        if (!h->FieldName || !h->FieldValue ||
            !name_is((const char *)h->FieldName, "Content-Length"))
            continue;
        *has = decimal((const char *)h->FieldValue, &v);
        return *has ? v : 0;
    }
    return 0;
}

/**
 * Start a GET of @url: a child configured with the DHCP address, the
 * request sent, the response's status and headers in; the size the
 * server announced (Content-Length) into @res->size.
 */
static int get_open(struct get *g, const char *url, struct xfer_result *res)
{
    EFI_GUID http_guid = HTTP_GUID;
    static CHAR16 wurl[URL_MAX];
    HTTP_V4_ACCESS_POINT ap;
    HTTP_CONFIG_DATA cfg;
    HTTP_REQUEST_DATA req;
    HTTP_RESPONSE_DATA rsp;
    HTTP_HEADER hdr[2];
    char host[128];
    EFI_STATUS st;
    size_t n = strlen(url);
    bool has_len;
    int rc;

    memset(g, 0, sizeof(*g));
    if (!svc.looked)
        find_service();
    if (!svc.sb) {
        snprintf(res->detail, sizeof(res->detail), "%s", svc.why);
        return -PE_UNSUPP;
    }
    if (n >= URL_MAX)
        return -PE_TOOLONG;
    if ((rc = url_host(url, host, sizeof(host))) != 0)
        return rc;
    for (size_t i = 0; i <= n; i++)
        wurl[i] = (unsigned char)url[i];

    if (EFI_ERROR((st = svc.sb->CreateChild(svc.sb, &g->child))))
        return call_failed(res, "CreateChild", st);
    if (!handle_has(g->child, &http_guid, (void **)&g->http))
        return call_failed(res, "child", EFI_UNSUPPORTED);
    memset(&ap, 0, sizeof(ap));
    ap.LocalAddress = svc.ip;
    ap.LocalSubnet = svc.mask;
    memset(&cfg, 0, sizeof(cfg));
    cfg.HttpVersion = HTTP_VERSION_11;
    cfg.TimeOutMillisec = EFI_HTTP_IDLE_MS;
    cfg.IPv4Node = &ap;
    if (EFI_ERROR((st = g->http->Configure(g->http, &cfg))))
        return call_failed(res, "Configure", st);
    if (EFI_ERROR((st = efi_bs->CreateEvent(0, 0, NULL, NULL, &g->ev))))
        return call_failed(res, "CreateEvent", st);

    req.Method = HTTP_METHOD_GET;
    req.Url = wurl;
    hdr[0].FieldName = (CHAR8 *)"Host";
    hdr[0].FieldValue = (CHAR8 *)host;
    hdr[1].FieldName = (CHAR8 *)"Accept";
    hdr[1].FieldValue = (CHAR8 *)"*/*";
    g->msg.Data = &req;
    g->msg.HeaderCount = 2;
    g->msg.Headers = hdr;
    g->tok.Event = g->ev;
    g->tok.Message = &g->msg;
    if (EFI_ERROR((st = g->http->Request(g->http, &g->tok))))
        return call_failed(res, "Request", st);
    g->busy = true;
    if (EFI_ERROR((st = wait_token(g))))
        return call_failed(res, "Request", st);

    memset(&g->msg, 0, sizeof(g->msg));
    rsp.StatusCode = 0;
    g->msg.Data = &rsp;
    if (EFI_ERROR((st = g->http->Response(g->http, &g->tok))))
        return call_failed(res, "Response", st);
    g->busy = true;
    /* An error status (4xx, 5xx) completes the token with
     * EFI_HTTP_ERROR, the status code and headers still filled in. */
    if (EFI_ERROR((st = wait_token(g))) && st != EFI_HTTP_ERROR)
        return call_failed(res, "Response", st);
    g->headers = g->msg.Headers;
    switch (rsp.StatusCode) {
    case HTTP_ST_200:
        break;
    case HTTP_ST_404:
        return -PE_NOENT;
    case HTTP_ST_401:
    case HTTP_ST_403:
        snprintf(res->detail, sizeof(res->detail), "HTTP %s",
                 rsp.StatusCode == HTTP_ST_401 ? "401 Unauthorized"
                                               : "403 Forbidden");
        return -PE_ACCESS;
    default:
        snprintf(res->detail, sizeof(res->detail), "the web server "
                 "answered with an HTTP status other than 200 (EFI HTTP "
                 "status code %u)", (unsigned)rsp.StatusCode);
        return -PE_IO;
    }
    res->size = content_length(g, &has_len);
    if (!has_len) {
        snprintf(res->detail, sizeof(res->detail), "the web server sent no "
                 "Content-Length");
        return -PE_UNSUPP;
    }
    return 0;
}

/** file_source.size: the headers' Content-Length. */
static int http_size(const struct file_source *src, uint32_t server,
                     const char *path, uint32_t *size,
                     struct xfer_result *res)
{
    struct get g;
    int rc;

    (void)src;
    (void)server;
    memset(res, 0, sizeof(*res));
    rc = get_open(&g, path, res);
    get_close(&g);
    if (rc == 0)
        *size = res->size;
    return res->rc = rc;
}

/** file_source.fetch: the size first, then the body chunk by chunk. */
static int http_fetch(const struct file_source *src, uint32_t server,
                      const char *path, uint32_t max,
                      const struct file_sink *sink, struct xfer_result *res)
{
    static uint8_t chunk[BODY_CHUNK];
    struct get g;
    EFI_STATUS st;
    int rc;

    (void)src;
    (void)server;
    memset(res, 0, sizeof(*res));
    if ((rc = get_open(&g, path, res)) != 0)
        goto out;
    if (res->size > max) {
        rc = -PE_RANGE;
        goto out;
    }
    if (sink->size && (rc = sink->size(sink->ctx, res->size)) != 0)
        goto out;
    uint64_t heard = efi_ms(); /* when the last bytes came */
    while (res->got < res->size) {
        uint32_t want = res->size - res->got;
        memset(&g.msg, 0, sizeof(g.msg));
        g.msg.BodyLength = want < BODY_CHUNK ? want : BODY_CHUNK;
        g.msg.Body = chunk;
        if (!EFI_ERROR((st = g.http->Response(g.http, &g.tok)))) {
            g.busy = true;
            st = wait_token(&g);
        }
        if (EFI_ERROR(st)) {
            /* Mid-body, any failure but silence is the connection
             * breaking off (EDK2 refuses the next Response with
             * EFI_ACCESS_DENIED once the server has reset it). */
            rc = call_failed(res, "Response (body)", st);
            if (st != EFI_TIMEOUT)
                snprintf(res->detail, sizeof(res->detail), "HTTP body: %s: "
                         "the connection broke off", efi_status_str(st));
            break;
        }
        UINTN got = g.msg.BodyLength;
        if (got > want || got > BODY_CHUNK) {
            snprintf(res->detail, sizeof(res->detail), "HTTP Response "
                     "returned %lu bytes, %u asked", (unsigned long)got,
                     want);
            rc = -PE_IO;
            break;
        }
        if (!got) { /* nothing this time: not for ever */
            if (efi_ms() - heard > EFI_HTTP_IDLE_MS) {
                rc = call_failed(res, "Response (body)", EFI_TIMEOUT);
                break;
            }
            continue;
        }
        heard = efi_ms();
        if ((rc = sink->data(sink->ctx, res->got, chunk, got)) != 0)
            break;
        res->got += (uint32_t)got;
    }
out:
    get_close(&g);
    return res->rc = rc;
}

static const struct file_source http_source = { http_size, http_fetch, NULL };

const struct file_source *efi_http_source(void)
{
    return &http_source;
}
