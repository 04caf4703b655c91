/*
 * File names that are URLs.  A config (`root http://10.0.2.2/nova`, or
 * `exec http://...`), DHCP's root-path or option 209/210 may name files
 * by http:// or https:// URL instead of a TFTP path; the boot session
 * then fetches them through the face's HTTP source instead of TFTP.
 * Pure C, host-tested.
 */
#ifndef PULSAR_URL_H
#define PULSAR_URL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Is @name an http:// or https:// URL (scheme case-insensitive)? */
bool url_is(const char *name);

/**
 * The server a file is fetched from, as messages name it: a URL's
 * authority ("10.0.2.2", "boot.lab:8080"; cut to fit @len), else TFTP
 * server @server as a dotted quad.  @buf: at least 16 bytes.  Returns
 * @buf.
 */
const char *url_server_name(uint32_t server, const char *name, char *buf,
                            size_t len);
#endif
