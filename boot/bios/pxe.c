/* Finding and calling the PXE API; see pxe.h. */
#include "boot/bios/pxe.h"
#include "boot/bios/realmode.h"
#include "lib/errno.h"
#include "lib/console.h"
#include <string.h>

uint16_t pxe_last_status;
bool pxe_stop_first;
uint8_t pxe_bounce[PXE_BOUNCE_SIZE] __attribute__((aligned(16)));

/* Parameter blocks are at most a few hundred bytes (TFTP_OPEN: 140). */
static uint8_t pxe_params[512] __attribute__((aligned(16)));
static struct pxe_api *pxe;

/** Sum of @len bytes at @p: a valid PXE structure sums to 0. */
static uint8_t byte_sum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;
    while (len--)
        sum += *b++;
    return sum;
}

/** Is there a valid !PXE structure at linear @lin? */
static int bang_valid(uint32_t lin)
{
    const struct bang_pxe *b = (const void *)lin;
    if (lin == 0 || lin >= 0x100000 - sizeof(*b))
        return 0;
    return memcmp(b->signature, "!PXE", 4) == 0 &&
           b->length >= sizeof(*b) && byte_sum(b, b->length) == 0;
}

/** Is there a valid PXENV+ structure at linear @lin? */
static int pxenv_valid(uint32_t lin)
{
    const struct pxenv_plus *p = (const void *)lin;
    if (lin == 0 || lin >= 0x100000 - sizeof(*p))
        return 0;
    return memcmp(p->signature, "PXENV+", 6) == 0 && p->length >= 0x28 &&
           byte_sum(p, p->length) == 0;
}

/** Record a PXE base-memory region (segment, size) if it is real. */
static void add_region(struct pxe_api *api, uint32_t start, uint32_t size,
                       const char *what)
{
    if (size == 0 || start == 0 || start >= 0x100000 ||
        api->nregion == sizeof(api->region) / sizeof(api->region[0]))
        return;
    api->region[api->nregion].start = start;
    api->region[api->nregion].end = start + size;
    api->region[api->nregion].what = what;
    api->nregion++;
}

/** Use the !PXE structure at @lin. */
static void use_bang(struct pxe_api *api, uint32_t lin, const char *how)
{
    static const char *const names[7] = {
        "PXE stack", "PXE UNDI data", "PXE UNDI code", "PXE UNDI code",
        "PXE base-code data", "PXE base-code code", "PXE base-code code",
    };
    const struct bang_pxe *b = (const void *)lin;
    api->entry = b->entry_sp;
    api->bang = 1;
    api->how = how;
    api->struct_lin = lin;
    for (unsigned i = 0; i < 7 && i < b->seg_desc_cnt; i++)
        add_region(api, (uint32_t)b->seg[i].segment << 4, b->seg[i].size,
                   names[i]);
}

/** Use the PXENV+ structure at @lin (and its !PXE, when valid). */
static void use_pxenv(struct pxe_api *api, uint32_t lin, const char *how)
{
    const struct pxenv_plus *p = (const void *)lin;
    if (p->version >= 0x0201 && p->length >= sizeof(*p) &&
        bang_valid(segoff_to_lin(p->pxe_ptr))) {
        use_bang(api, segoff_to_lin(p->pxe_ptr), how);
        return;
    }
    api->entry = p->rm_entry;
    api->bang = 0;
    api->how = how;
    api->struct_lin = lin;
    add_region(api, (uint32_t)p->stack_seg << 4, p->stack_size, "PXE stack");
    add_region(api, (uint32_t)p->undi_data_seg << 4, p->undi_data_size,
               "PXE UNDI data");
    add_region(api, (uint32_t)p->undi_code_seg << 4, p->undi_code_size,
               "PXE UNDI code");
    add_region(api, (uint32_t)p->bc_data_seg << 4, p->bc_data_size,
               "PXE base-code data");
    add_region(api, (uint32_t)p->bc_code_seg << 4, p->bc_code_size,
               "PXE base-code code");
}

int pxe_find(struct pxe_api *api)
{
    memset(api, 0, sizeof(*api));
    pxe = api;
    if (bang_valid(segoff_to_lin(boot_bangpxe_ptr))) {
        use_bang(api, segoff_to_lin(boot_bangpxe_ptr), "!PXE from the stack");
        return 0;
    }
    if (pxenv_valid(segoff_to_lin(boot_pxenv_ptr))) {
        use_pxenv(api, segoff_to_lin(boot_pxenv_ptr), "PXENV+ from ES:BX");
        return 0;
    }
    struct rm_regs r = { .eax = 0x5650 };
    rm_int(0x1A, &r);
    if (!(r.eflags & RM_CF) && (r.eax & 0xFFFF) == 0x564E) {
        uint32_t lin = ((uint32_t)r.es << 4) + (r.ebx & 0xFFFF);
        if (pxenv_valid(lin)) {
            use_pxenv(api, lin, "PXENV+ from INT 1Ah");
            return 0;
        }
    }
    pxe = NULL;
    return -PE_NOPXE;
}

#ifdef DEBUG
/** Dump a failed call's parameter block (debug builds). */
static void pxe_dump(uint16_t opcode, const uint8_t *p, size_t size)
{
    printf("[pxe] opcode %04x failed, status %04x, params:", opcode,
           pxe_last_status);
    for (size_t i = 0; i < size && i < 64; i++)
        printf("%s%02x", (i % 16) ? " " : "\n  ", p[i]);
    printf("\n");
}
#endif

int pxe_call(uint16_t opcode, void *params, size_t size)
{
    struct rm_regs r;

    if (!pxe || size > sizeof(pxe_params) || size < 2)
        return -PE_NOPXE;
    memcpy(pxe_params, params, size);
    uint32_t segoff = lin_to_segoff((uint32_t)pxe_params);
    memset(&r, 0, sizeof(r));
    if (pxe->bang) {
        /* !PXE: opcode, then the parameter block's offset and segment. */
        uint16_t args[3] = { opcode, (uint16_t)segoff,
                             (uint16_t)(segoff >> 16) };
        rm_farcall(pxe->entry, &r, args, sizeof(args));
    } else {
        /* PXENV+: BX = opcode, ES:DI = parameter block. */
        r.ebx = opcode;
        r.es = (uint16_t)(segoff >> 16);
        r.edi = segoff & 0xFFFF;
        rm_farcall(pxe->entry, &r, NULL, 0);
    }
    memcpy(params, pxe_params, size);
    pxe_last_status = *(uint16_t *)params;
    if ((r.eax & 0xFFFF) == 0 && pxe_last_status == 0)
        return 0;
    if (pxe_last_status == 0)
        pxe_last_status = 1; /* PXENV_EXIT_FAILURE without a status */
#ifdef DEBUG
    pxe_dump(opcode, params, size);
#endif
    switch (pxe_last_status) {
    case PXENV_STATUS_TFTP_FILE_NOT_FOUND:
        return -PE_NOENT;
    case PXENV_STATUS_TFTP_ACCESS_VIOLATION:
        return -PE_ACCESS;
    case PXENV_STATUS_ARP_TIMEOUT:
    case PXENV_STATUS_TFTP_CANNOT_ARP_ADDRESS:
    case PXENV_STATUS_TFTP_OPEN_TIMEOUT:
    case PXENV_STATUS_TFTP_READ_TIMEOUT:
        return -PE_TIMEDOUT;
    default:
        return -PE_NOPXE;
    }
}

const char *pxe_status_str(uint16_t status)
{
    switch (status) {
    case 0x00: return "success";
    case 0x01: return "failure";
    case 0x02: return "bad function";
    case 0x03: return "unsupported function";
    case 0x06: return "out of resources";
    case 0x11: return "ARP timeout";
    case 0x30: return "cannot ARP the TFTP server";
    case 0x32: return "TFTP open timeout";
    case 0x35: return "TFTP read timeout";
    case 0x36: return "TFTP error opcode";
    case 0x38: return "cannot open TFTP connection";
    case 0x39: return "cannot read from TFTP connection";
    case 0x3B: return "TFTP: file not found";
    case 0x3C: return "TFTP: access violation";
    case 0x3E: return "TFTP: server gave no file size";
    case 0x3F: return "TFTP: invalid packet size";
    case 0x61: return "UNDI media test failed";
    default: return "PXE error";
    }
}

int pxe_shutdown(void)
{
    uint16_t status[8]; /* {Status} or {Status, reserved[10]} */
    int rc, first = 0;

    memset(status, 0, sizeof(status));
    if (pxe_stop_first && pxe_call(PXENV_STOP_UNDI, status, 2) == 0)
        return 0; /* iPXE shut itself down, NIC and all (pxe.h) */
    /* Close the NIC, shut it down (no more DMA into what we loaded), then
     * unload the stack.  Carry on past failures: each step still helps. */
    memset(status, 0, sizeof(status));
    if ((rc = pxe_call(PXENV_UNDI_CLOSE, status, 2)) != 0 && !first)
        first = rc;
    memset(status, 0, sizeof(status));
    if ((rc = pxe_call(PXENV_UNDI_SHUTDOWN, status, 2)) != 0 && !first)
        first = rc;
    memset(status, 0, sizeof(status));
    if ((rc = pxe_call(PXENV_UNLOAD_STACK, status, 12)) != 0 && !first)
        first = rc;
    memset(status, 0, sizeof(status));
    if ((rc = pxe_call(PXENV_STOP_UNDI, status, 2)) != 0 && !first)
        first = rc;
    return first;
}

/** The ROM's cached DHCP packet; see pxe.h. */
int pxe_cached_packet(uint16_t type, const uint8_t **pkt, size_t *len)
{
    struct {
        uint16_t status, packet_type, buffer_size;
        uint32_t buffer;
        uint16_t buffer_limit;
    } __attribute__((packed)) p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.packet_type = type;
    p.buffer_size = PXE_BOUNCE_SIZE;
    p.buffer = lin_to_segoff((uint32_t)pxe_bounce);
    if ((rc = pxe_call(PXENV_GET_CACHED_INFO, &p, sizeof(p))) != 0)
        return rc;
    *pkt = pxe_bounce;
    *len = p.buffer_size < PXE_BOUNCE_SIZE ? p.buffer_size : PXE_BOUNCE_SIZE;
    return 0;
}
