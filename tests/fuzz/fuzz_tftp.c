/*
 * libFuzzer target: TFTP transfers through the PXE ROM's client as Pulsar
 * drives it (boot/bios/tftp_pxe.c) with the boot session's retry loop on
 * top (session_size/session_fetch, loader/session.c), the PXE ROM
 * replaced by one that does what the input says.
 *
 * Input: a script the fake ROM reads a few bytes at a time, per call:
 *   GET_FSIZE: status byte (0: success), 4-byte size
 *   OPEN:      status byte, 2-byte granted packet size
 *   READ:      status byte, 1 byte packet-number skew (0: the right one),
 *              2-byte data length (it writes the bytes of the file at the
 *              offset the transfer has reached, as much as fits)
 *   READ_FILE: status byte (0x02/0x03: the ROM has none), 4-byte length
 *              it says it wrote (it writes the file's bytes, at most the
 *              buffer's size, as a ROM must)
 * An exhausted script answers every call with a read timeout (0x35).
 *
 * Pulsar's own client has its own targets: fuzz_tftp_client (the engine,
 * net/tftp_client.c, over a scripted transport) and fuzz_tftp_proto.
 *
 * With bits 0, 7 and 6 of the first byte set, that one transfer's sink
 * also offers the whole file's destination (file_sink.whole), so
 * READ_FILE runs.
 *
 * Checks beyond the sanitizers: the sink sees each try's bytes in order
 * from offset 0, no packet larger than the granted size or the bounce
 * buffer, nothing past the limit, and exactly the file's bytes; success
 * means the whole announced size arrived; tries stay within the policy;
 * a failure has a terminated description.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/errno.h"
#include "boot/bios/bios.h"
#include "boot/bios/pxe.h"
#include "boot/bios/tftp_pxe.h"
#include "loader/session.h"

uint16_t pxe_last_status;
uint8_t pxe_bounce[PXE_BOUNCE_SIZE];

static const uint8_t *script;
static size_t script_len, script_pos;
static uint32_t rom_offset;   /* where the current transfer is */
static unsigned opens;

/** The file every transfer serves: byte i is file_byte(i). */
static uint8_t file_byte(uint32_t i)
{
    return (uint8_t)(i * 31 + (i >> 11));
}

/** Take @n bytes of the script (little-endian); 0 and @ok=0 when out. */
static uint32_t take(unsigned n, int *ok)
{
    uint32_t v = 0;
    if (script_pos + n > script_len) {
        *ok = 0;
        return 0;
    }
    for (unsigned i = 0; i < n; i++)
        v |= (uint32_t)script[script_pos++] << (8 * i);
    return v;
}

/* The parameter blocks, as boot/bios/tftp_pxe.c lays them out. */
struct open_p {
    uint16_t status;
    uint32_t server, gateway;
    char filename[128];
    uint16_t port, packet_size;
} __attribute__((packed));
struct read_p {
    uint16_t status, packet_number, buffer_size;
    uint32_t buffer;
} __attribute__((packed));
struct read_file_p {
    uint16_t status;
    char filename[128];
    uint32_t buffer_size, buffer;
    uint32_t server, gateway, mcast;
    uint16_t client_port, server_port, open_timeout, reopen_delay;
} __attribute__((packed));
struct fsize_p {
    uint16_t status;
    uint32_t server, gateway;
    char filename[128];
    uint32_t file_size;
} __attribute__((packed));

static uint16_t granted; /* packet size of the open transfer */

/* file_sink.whole's destination, when the input offers one. */
static uint8_t whole_buf[65536];
static uint32_t whole_size; /* what it was claimed for, 0: not offered */
static unsigned read_files; /* READ_FILE calls */

/** The fake PXE ROM. */
int pxe_call(uint16_t opcode, void *params, size_t size)
{
    int ok = 1;
    uint8_t status = 0;

    if (opcode != PXENV_TFTP_CLOSE)
        status = (uint8_t)take(1, &ok);
    if (!ok)
        status = PXENV_STATUS_TFTP_READ_TIMEOUT;
    switch (opcode) {
    case PXENV_TFTP_GET_FSIZE: {
        struct fsize_p *p = params;
        assert(size == sizeof(*p) && memchr(p->filename, 0, 128));
        p->file_size = take(4, &ok);
        break;
    }
    case PXENV_TFTP_OPEN: {
        struct open_p *p = params;
        assert(size == sizeof(*p) && memchr(p->filename, 0, 128));
        opens++;
        rom_offset = 0;
        granted = (uint16_t)take(2, &ok);
        p->packet_size = granted;
        break;
    }
    case PXENV_TFTP_READ: {
        struct read_p *p = params;
        assert(size == sizeof(*p));
        uint8_t skew = (uint8_t)take(1, &ok);
        uint16_t len = (uint16_t)take(2, &ok);
        p->packet_number = (uint16_t)(p->packet_number + 1 + skew);
        p->buffer_size = len;
        /* A real ROM writes what it received; ours fills what fits. */
        for (uint32_t i = 0; i < len && i < PXE_BOUNCE_SIZE; i++)
            pxe_bounce[i] = file_byte(rom_offset + i);
        if (!skew)
            rom_offset += len;
        break;
    }
    case PXENV_TFTP_READ_FILE: {
        struct read_file_p *p = params;
        assert(size == sizeof(*p) && memchr(p->filename, 0, 128));
        /* Only into the destination the sink claimed, for its size. */
        assert(whole_size && p->buffer_size == whole_size &&
               p->buffer == (uint32_t)(uintptr_t)whole_buf);
        read_files++;
        uint32_t said = take(4, &ok);
        for (uint32_t i = 0; i < said && i < p->buffer_size; i++)
            whole_buf[i] = file_byte(i);
        p->buffer_size = said;
        break;
    }
    case PXENV_TFTP_CLOSE:
        break;
    default:
        assert(0 && "unexpected PXE call");
    }
    if (!ok)
        status = PXENV_STATUS_TFTP_READ_TIMEOUT;
    *(uint16_t *)params = status;
    pxe_last_status = status;
    if (status == 0)
        return 0;
    if (status == PXENV_STATUS_TFTP_FILE_NOT_FOUND)
        return -PE_NOENT;
    if (status == PXENV_STATUS_TFTP_READ_TIMEOUT)
        return -PE_TIMEDOUT;
    return -PE_NOPXE;
}

const char *pxe_status_str(uint16_t status)
{
    return status ? "fake ROM status" : "success";
}

void bios_sleep_ms(unsigned ms)
{
    (void)ms; /* no waiting in a fuzzer */
}

/*
 * This target fuzzes the ROM's TFTP path and the retry loop: the BIOS
 * file source here is the ROM's TFTP alone, as boot/bios/source_bios.c
 * has it for a server that grants no window on a NIC without the fast
 * path.  With bits 0 and 7 of the first byte set, one transfer runs
 * without the retry loop, its sink taking the size GET_FSIZE announces.
 */
static int fuzz_fetch(const struct file_source *src, uint32_t server,
                      const char *path, uint32_t max,
                      const struct file_sink *sink, struct xfer_result *res)
{
    (void)src;
    int rc = pxe_tftp_fetch(server, path, max, sink, res);
    assert(res->rc == rc && res->got <= max);
    assert(memchr(res->detail, 0, sizeof(res->detail)));
    return rc;
}

static const struct file_source fuzz_source = { pxe_tftp_size, fuzz_fetch,
                                                NULL };

/** The session's face: the fuzzed ROM's TFTP, no waiting. */
static const struct session_face fuzz_face = {
    .prog = "pulsar",
    .files = &fuzz_source,
};

/** What the sink has seen in the current try. */
static struct {
    unsigned try_opens; /* the open count when this try began */
    uint32_t next;      /* the next offset expected */
    uint32_t max;
} sink_state;

static int check_sink(void *ctx, uint32_t off, const uint8_t *data,
                      size_t len)
{
    (void)ctx;
    if (opens != sink_state.try_opens) { /* a new try starts at 0 */
        sink_state.try_opens = opens;
        sink_state.next = 0;
    }
    assert(off == sink_state.next);
    assert((uint64_t)off + len <= sink_state.max);
    if (data != pxe_bounce) {
        /* The whole file, where READ_FILE wrote it: the size announced. */
        assert(whole_size && off == 0 && data == whole_buf &&
               len == whole_size);
    } else {
        assert(len > 0 && len <= granted && len <= PXE_BOUNCE_SIZE);
    }
    for (size_t i = 0; i < len; i++)
        assert(data[i] == file_byte(off + (uint32_t)i));
    sink_state.next = off + (uint32_t)len;
    return 0;
}

/** The sink's size op (odd scripts with bit 7 set): once, before data. */
static int size_calls;
static uint32_t size_said;
static int check_size(void *ctx, uint32_t size)
{
    (void)ctx;
    assert(opens == 0 && sink_state.next == 0);
    size_calls++;
    size_said = size;
    if (size > 65536)
        return -PE_RANGE; /* the sink refuses: the ROM never opens */
    return 0;
}

/** file_sink.whole: whole_buf, for the size the sink accepted. */
static void *give_whole(void *ctx, uint32_t size)
{
    (void)ctx;
    assert(size_calls == 1 && size == size_said && opens == 0);
    whole_size = size;
    return whole_buf;
}

/** One transfer straight through the ROM path with a sink that takes the
 * size: no retries, GET_FSIZE first; with @whole, READ_FILE may run. */
static void one_sized_fetch(int whole)
{
    const struct file_sink sink = { check_size, check_sink, NULL,
                                    whole ? give_whole : NULL, NULL };
    struct xfer_result res;

    size_calls = 0;
    size_said = 0;
    whole_size = 0;
    read_files = 0;
    pxe_tftp_forget();
    sink_state.max = 65536;
    sink_state.try_opens = ~0u;
    int rc = pxe_tftp_fetch(0x0202000a, "demo/kernel.elf", 65536, &sink,
                            &res);
    assert(res.rc == rc && size_calls <= 1 && opens <= 1);
    /* Success without a size: only when GET_FSIZE could not tell it. */
    assert(size_calls || rc != 0 || res.size == 0);
    assert(memchr(res.detail, 0, sizeof(res.detail)));
    assert(!size_calls || res.size == size_said);
    if (size_calls && size_said > 65536)
        assert(rc == -PE_RANGE && opens == 0);
    /* At most one READ_FILE; then blocks only if the ROM has none. */
    assert(read_files <= 1);
    if (whole && size_calls && size_said && size_said <= 65536)
        assert(read_files || rc != 0);
    if (rc == 0 && read_files && !opens)
        assert(res.got == size_said);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct session s;
    const struct file_sink sink = { NULL, check_sink, NULL, NULL, NULL };
    struct fetch_failure why;
    char text[200];
    uint32_t fsize = 0, got = 0;
    int rc;

    if (size < 1)
        return 0;
    script = data + 1;
    script_len = size - 1;
    script_pos = 0;
    opens = 0;
    memset(&sink_state, 0, sizeof(sink_state));
    if ((data[0] & 0x81) == 0x81) {
        one_sized_fetch(data[0] & 0x40);
        return 0;
    }
    memset(&s, 0, sizeof(s));
    s.face = &fuzz_face;
    /* Byte 0 bit 1: a size query first, as for an initrd part. */
    if (data[0] & 2) {
        rc = session_size(&s, 0x0202000a, "demo/kernel.elf", &fsize, &why);
        assert(why.tries >= 1 && why.tries <= RETRY_TRANSFER_TRIES);
        if (rc != 0) {
            retry_describe(rc, &why, text, sizeof(text));
            assert(memchr(text, 0, sizeof(text)) && text[0]);
            return 0;
        }
    }
    /* Bit 0: a sized file (the size GET_FSIZE announces binds it, as for
     * a kernel or module); else a config's at most 64 KiB. */
    sink_state.max = (data[0] & 1) ? 0xFFFFFFFFu : 65536;
    sink_state.try_opens = ~0u;
    rc = session_fetch(&s, 0x0202000a, "demo/kernel.elf", data[0] & 1, 65536,
                       &sink, &got, &why);
    assert(why.tries >= 1 && why.tries <= RETRY_TRANSFER_TRIES);
    assert(opens <= RETRY_TRANSFER_TRIES);
    if (rc == 0) {
        /* A sized file has the size announced, unless the ROM could not
         * tell it (the fetch then goes on without one). */
        assert(!(data[0] & 1) || why.size == 0 || got == why.size);
        assert(got <= sink_state.max);
    } else {
        retry_describe(rc, &why, text, sizeof(text));
        assert(memchr(text, 0, sizeof(text)) && text[0]);
    }
    cfg_free(&s.cfg);
    return 0;
}

/*
 * The session reports each failed try on the console; the fuzz build
 * renames its printf to this, which formats (so the format is checked)
 * and prints nothing.
 */
int fuzz_quiet_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert(n >= 0);
    return n;
}
