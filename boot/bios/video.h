/*
 * The video mode a multiboot kernel gets: VBE through INT 10h 4F0x.
 * Hardware edge (NBP only); the choice itself is in loader/vbe.c.
 */
#ifndef PULSAR_VIDEO_H
#define PULSAR_VIDEO_H

#include "loader/image.h"
#include "mb/mbinfo.h"

/**
 * Query the VBE BIOS and pick the mode the header asks for (graphics
 * when flag bit 2 and mode_type 0), describing the current text mode
 * otherwise, into @v.  Prints the decision.  Returns the VBE mode
 * number to set with video_set(), or 0 to stay in text mode.
 */
uint16_t video_prepare(const struct mb_header *mb, struct mbi_video *v);

/**
 * Switch to @mode (from video_prepare) with its linear framebuffer.  On
 * failure @v is changed to describe text mode and -PE_IO is returned;
 * the screen is then still in text mode, so the caller may print.
 */
int video_set(uint16_t mode, struct mbi_video *v);

#endif
