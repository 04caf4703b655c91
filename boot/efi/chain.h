/*
 * `chld` on UEFI: starting the EFI boot program the session staged
 * (boot/efi/chain.c).
 */
#ifndef PULSAR_EFI_CHAIN_H
#define PULSAR_EFI_CHAIN_H
#include "loader/session.h"

/**
 * Start the program of s->item staged at s->chld_staged (s->chld_size
 * bytes, its PE headers checked by the session) with LoadImage and
 * StartImage on the NIC Pulsar came from.  Returns only when it could
 * not be started or when it returned: the reason is reported (counted
 * as the session's error) and the rc is returned; the caller starts over.
 */
int efi_chain_start(struct session *s);
#endif
