/*
 * Live transfer progress: pacing and the text of the line that a loading
 * file updates in place.  Pure C (host-tested): the clock and the console
 * belong to the caller (boot/bios/console.c reads the BIOS tick count).
 *
 * Time is counted in BIOS timer ticks (the dword at 0x46C, 18.2065 Hz,
 * wrapping to 0 at midnight after PROGRESS_TICKS_PER_DAY).
 */
#ifndef PULSAR_PROGRESS_H
#define PULSAR_PROGRESS_H
#include <stddef.h>
#include <stdint.h>

/** BIOS ticks per 1000 seconds (1193182 Hz / 65536 = 18.2065 Hz). */
#define PROGRESS_TICKS_PER_KSEC 18207u
/** The BIOS tick count wraps to 0 after this many ticks (midnight). */
#define PROGRESS_TICKS_PER_DAY 0x1800B0u
/** Ticks between two updates of the line: about four a second. */
#define PROGRESS_EVERY 4u
/** Columns the line fills (one short of 80, so VGA never wraps it). */
#define PROGRESS_WIDTH 79

/** One file being loaded. */
struct progress {
    const char *name;
    uint32_t total; /* bytes expected, 0 if unknown */
    uint32_t start; /* tick count when the transfer began */
    uint32_t next;  /* elapsed ticks at which the next line is due */
};

/** Begin a transfer of @total bytes (0: unknown) of @name at tick @now. */
void progress_start(struct progress *p, const char *name, uint32_t total,
                    uint32_t now);

/** Ticks since the start, across the midnight wrap. */
uint32_t progress_elapsed(const struct progress *p, uint32_t now);

/**
 * Is a new line due at tick @now?  Called for every packet, so it is one
 * subtraction and a compare; when it returns 1 the next one is scheduled.
 */
int progress_due(struct progress *p, uint32_t now);

/**
 * The in-place line for @done bytes at tick @now, e.g.
 * "  demo/kernel.elf  12.4 / 64.0 MiB  19%  10.2 MiB/s", padded with
 * spaces to PROGRESS_WIDTH so it covers a longer previous one; a long
 * name keeps its tail.  @buf: at least PROGRESS_WIDTH + 1 bytes.
 */
void progress_line(const struct progress *p, uint32_t done, uint32_t now,
                   char *buf, size_t len);

/**
 * The time a finished transfer took: "in 1.2 s, 51.3 MiB/s", or
 * "in < 0.1 s" when no tick passed.  Returns @buf.
 */
const char *progress_summary(uint32_t bytes, uint32_t ticks, char *buf,
                             size_t len);

/**
 * The progress line on a console, the same for every face: the face
 * gives its clock (BIOS ticks) and a writer that prints a string as
 * printf would ('\n' becomes CR LF); the line is redrawn in place with
 * '\r', blanked when the file ends, ended with a newline when it fails.
 */
struct progress_display {
    uint32_t (*ticks)(void);
    void (*write)(const char *s);
    struct progress p;
    int on, drawn;
    char summary[48];
};

/** A transfer of @total bytes (0: unknown) of @name begins. */
void progress_display_start(struct progress_display *d, const char *name,
                            uint32_t total);
/** @done bytes have arrived: redraw the line if an update is due. */
void progress_display_update(struct progress_display *d, uint32_t done);
/** The file is complete: blank the line; returns "in 1.2 s, 51.3 MiB/s". */
const char *progress_display_end(struct progress_display *d, uint32_t done);
/** The transfer failed: keep the last line drawn, end it. */
void progress_display_abort(struct progress_display *d);

/** The display behind lib/console.h's console_progress_*: the face sets
 *  its clock and writer when its console starts (until then it shows
 *  nothing). */
extern struct progress_display console_display;
#endif
