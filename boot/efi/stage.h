/*
 * What the UEFI face allocated for guest memory (boot/efi/memory.c): one
 * record per claimed range the session wrote into, and the hand-off's
 * shared layout with the trampoline (boot/efi/handoff.h).
 */
#ifndef PULSAR_EFI_STAGE_H
#define PULSAR_EFI_STAGE_H
#include "boot/efi/uefi.h"

/** Most claimed ranges one boot writes (kernel segments, modules). */
#define STAGE_MAX 128

/** One claimed range and the staging buffer that holds its bytes until
 *  the trampoline moves them. */
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
