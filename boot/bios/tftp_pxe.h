/*
 * TFTP through the PXE ROM's own client: PXENV_TFTP_GET_FSIZE, then,
 * where the sink can take the file whole (file_sink.whole: its claimed
 * destination), PXENV_TFTP_READ_FILE straight into it, one PXE call for
 * the whole file; otherwise OPEN, READ, CLOSE: one PXE call per block,
 * lock-step.  When READ_FILE answers "bad function" or "unsupported
 * function" (a ROM without it; iPXE also for a TFTP ERROR of code 0)
 * and none has worked yet, the same try streams the file block by block.  The BIOS file source
 * (boot/bios/source_bios.h) uses it when Pulsar's own client cannot run
 * or fails before any data.  A failed PXE call's status goes into
 * xfer_result.fw_status and, unless the rc says it all ("not found"),
 * into its detail as "PXE status 0x35: TFTP read timeout".
 */
#ifndef PULSAR_TFTP_PXE_H
#define PULSAR_TFTP_PXE_H
#include <stdint.h>
#include "loader/source.h"

/** The size of @path on @server (GET_FSIZE): file_source.size itself
 * (@src unused). */
int pxe_tftp_size(const struct file_source *src, uint32_t server,
                  const char *path, uint32_t *size, struct xfer_result *res);

/**
 * Stream @path into @sink (at most @max bytes, else -PE_RANGE); when
 * sink->size is set, it gets GET_FSIZE's answer first.  Then, when
 * sink->whole names a destination for that size, READ_FILE writes the
 * file there and sink->data gets it where it lies; else each packet goes
 * from the bounce buffer straight to the sink.  file_source.fetch's
 * contract.
 */
int pxe_tftp_fetch(uint32_t server, const char *path, uint32_t max,
                   const struct file_sink *sink, struct xfer_result *res);

/** Forget the counts (and that READ_FILE worked), as a new boot starts:
 * for the fuzzer, which runs many. */
void pxe_tftp_forget(void);

/** Say how many transfers the ROM ran, how many whole (when any ran). */
void pxe_tftp_report(void);
#endif
