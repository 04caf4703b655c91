/*
 * TFTP through the PXE ROM's own client (PXENV_TFTP_GET_FSIZE, OPEN,
 * READ, CLOSE): one PXE call per block, lock-step.  The BIOS file source
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
 * sink->size is set, it gets GET_FSIZE's answer first.  Each packet goes
 * from the bounce buffer straight to the sink.  file_source.fetch's
 * contract.
 */
int pxe_tftp_fetch(uint32_t server, const char *path, uint32_t max,
                   const struct file_sink *sink, struct xfer_result *res);
#endif
