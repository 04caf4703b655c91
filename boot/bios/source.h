/*
 * The BIOS face's way to files (loader/source.h): TFTP through Pulsar's
 * own client (NIC fast path or the PXE UDP API) or the PXE ROM's TFTP.
 */
#ifndef PULSAR_BIOS_SOURCE_H
#define PULSAR_BIOS_SOURCE_H
#include "loader/source.h"

/** The BIOS file source (one instance; the PXE API must be found). */
const struct file_source *bios_file_source(void);
#endif
