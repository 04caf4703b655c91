/* Transfer progress: pacing and text; see progress.h. */
#include "lib/progress.h"
#include "lib/console.h"
#include <stdio.h>
#include <string.h>

void progress_start(struct progress *p, const char *name, uint32_t total,
                    uint32_t now)
{
    p->name = name;
    p->total = total;
    p->start = now;
    p->next = PROGRESS_EVERY;
}

uint32_t progress_elapsed(const struct progress *p, uint32_t now)
{
    if (now >= p->start)
        return now - p->start;
    /* The count went back: it wrapped at midnight (or is garbage). */
    if (p->start < PROGRESS_TICKS_PER_DAY)
        return now + (PROGRESS_TICKS_PER_DAY - p->start);
    return 0;
}

int progress_due(struct progress *p, uint32_t now)
{
    uint32_t t = progress_elapsed(p, now);
    if (t < p->next)
        return 0;
    p->next = t + PROGRESS_EVERY;
    return 1;
}

/** Tenths of a MiB per second for @bytes in @ticks (@ticks > 0). */
static uint32_t rate_tenths(uint32_t bytes, uint32_t ticks)
{
    /* bytes / (ticks / 18.207) / 2^20 * 10, in 64 bits: no overflow for
     * any 32-bit size. */
    uint64_t num = (uint64_t)bytes * PROGRESS_TICKS_PER_KSEC * 10;
    uint64_t den = (uint64_t)ticks * 1000 * (1u << 20);
    return (uint32_t)(num / den);
}

/** @bytes as "12.4" in tenths of a MiB (rounded down). */
static void mib(char *buf, size_t len, uint32_t bytes)
{
    uint32_t t = (uint32_t)(((uint64_t)bytes * 10) >> 20);
    snprintf(buf, len, "%u.%u", t / 10, t % 10);
}

void progress_line(const struct progress *p, uint32_t done, uint32_t now,
                   char *buf, size_t len)
{
    char d[16], t[16], stats[64];
    uint32_t ticks = progress_elapsed(p, now);
    int n;

    mib(d, sizeof(d), done);
    if (p->total) {
        uint32_t pct = (uint32_t)((uint64_t)done * 100 / p->total);
        mib(t, sizeof(t), p->total);
        n = snprintf(stats, sizeof(stats), "  %s / %s MiB  %3u%%", d, t,
                     pct > 100 ? 100 : pct);
    } else {
        n = snprintf(stats, sizeof(stats), "  %s MiB", d);
    }
    if (ticks) {
        uint32_t r = rate_tenths(done, ticks);
        snprintf(stats + n, sizeof(stats) - n, "  %u.%u MiB/s", r / 10,
                 r % 10);
    }
    /* "  name" + stats, the name cut from the left to fit the width. */
    size_t room = PROGRESS_WIDTH - 2 - strlen(stats);
    const char *name = p->name ? p->name : "";
    size_t nl = strlen(name);
    if (nl > room)
        name += nl - room;
    snprintf(buf, len, "  %s%s%*s", name, stats,
             (int)(room - (nl > room ? room : nl)), "");
}

const char *progress_summary(uint32_t bytes, uint32_t ticks, char *buf,
                             size_t len)
{
    if (!ticks) {
        snprintf(buf, len, "in < 0.1 s");
        return buf;
    }
    /* Tenths of a second, rounded to nearest. */
    uint32_t ds = (uint32_t)(((uint64_t)ticks * 10000 +
                              PROGRESS_TICKS_PER_KSEC / 2) /
                             PROGRESS_TICKS_PER_KSEC);
    uint32_t r = rate_tenths(bytes, ticks);
    snprintf(buf, len, "in %u.%u s, %u.%u MiB/s", ds / 10, ds % 10, r / 10,
             r % 10);
    return buf;
}

/* ------------------------------------------------------------ display */

void progress_display_start(struct progress_display *d, const char *name,
                            uint32_t total)
{
    if (!d->ticks || !d->write)
        return; /* no console to show it on */
    progress_start(&d->p, name, total, d->ticks());
    d->on = 1;
    d->drawn = 0;
}

void progress_display_update(struct progress_display *d, uint32_t done)
{
    char line[PROGRESS_WIDTH + 2];
    uint32_t now;

    if (!d->on || !progress_due(&d->p, now = d->ticks()))
        return;
    line[0] = '\r';
    progress_line(&d->p, done, now, line + 1, sizeof(line) - 1);
    d->write(line);
    d->drawn = 1;
}

const char *progress_display_end(struct progress_display *d, uint32_t done)
{
    char blank[PROGRESS_WIDTH + 3];

    if (!d->ticks)
        return "";
    progress_summary(done, progress_elapsed(&d->p, d->ticks()), d->summary,
                     sizeof(d->summary));
    if (d->drawn) {
        blank[0] = '\r';
        memset(blank + 1, ' ', PROGRESS_WIDTH);
        blank[PROGRESS_WIDTH + 1] = '\r';
        blank[PROGRESS_WIDTH + 2] = '\0';
        d->write(blank);
    }
    d->on = d->drawn = 0;
    return d->summary;
}

void progress_display_abort(struct progress_display *d)
{
    if (d->drawn)
        d->write("\n");
    d->on = d->drawn = 0;
}

/* ------------------------------------------------- the faces' console */

struct progress_display console_display;

void console_progress_start(const char *name, uint32_t total)
{
    progress_display_start(&console_display, name, total);
}

void console_progress(uint32_t done)
{
    progress_display_update(&console_display, done);
}

const char *console_progress_end(uint32_t done)
{
    return progress_display_end(&console_display, done);
}

void console_progress_abort(void)
{
    progress_display_abort(&console_display);
}
