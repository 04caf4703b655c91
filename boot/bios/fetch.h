/*
 * Fetching one file with Pulsar's retry policy (loader/retry.h): the
 * boot flow's only way to the TFTP client.  Each try streams the file
 * from its first byte into the same sink, so a sink must accept a
 * restart at offset 0 (and the place it writes to stays the same).
 */
#ifndef PULSAR_FETCH_H
#define PULSAR_FETCH_H
#include <stdint.h>
#include "loader/retry.h"
#include "net/tftp.h"

/**
 * Ask @server for the size of @path, retrying as the policy says.
 * Returns 0 or a negative pulsar_err; @why (not NULL) says what happened.
 */
int fetch_size(uint32_t server, const char *path, uint32_t *size,
               struct fetch_failure *why);

/**
 * Fetch @path from @server into @sink.  @size: the size the server
 * announced (the file must have exactly that many bytes), or 0 for "not
 * asked", then the file may have up to @max bytes.  Transient failures
 * are retried from the first byte; an error a sink returns is not.
 * @got: out: bytes received.  Returns 0 or a negative pulsar_err; on
 * failure @why (not NULL) says what happened.
 */
int fetch_file(uint32_t server, const char *path, uint32_t size,
               uint32_t max, tftp_sink_fn sink, void *ctx, uint32_t *got,
               struct fetch_failure *why);
#endif
