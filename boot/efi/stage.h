/*
 * What the UEFI face allocated for guest memory (boot/efi/memory.c): one
 * record per claimed range the session wrote into, and the hand-off's
 * shared layout with the trampoline (boot/efi/handoff.h).
 */
#ifndef PULSAR_EFI_STAGE_H
#define PULSAR_EFI_STAGE_H
#include "boot/efi/uefi.h"

/** Most staged ranges one boot has (kernel segments, modules, and the
 *  1 MiB pieces of a claim staged in pieces: 64 MiB is 64 of them). */
#define STAGE_MAX 384

/** One claimed range, or a piece of one, and the staging buffer that
 *  holds its bytes until the trampoline moves them. */
struct stage {
    uint64_t start, end;      /* the claim: [start, end) */
    const void *owner;        /* the file (cfg_item) it was claimed for */
    uint8_t *buf;             /* where the session's bytes went */
};

/** The staged ranges of this attempt. */
const struct stage *efi_stages(unsigned *n);

/** The current map key (GetMemoryMap), for ExitBootServices. */
EFI_STATUS efi_map_key(UINTN *key);
#endif
