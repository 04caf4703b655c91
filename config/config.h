/*
 * Pulsar's configuration language: the directives addr, chld, conf, exec,
 * load, root and tftp.  Pure C: it builds for the host and is unit-tested
 * there.  The parser turns config text into an ordered list of items; it
 * never touches the network itself; nested `conf` files come through a
 * fetch callback so the boot flow and the offline checker share this code.
 */
#ifndef PULSAR_CONFIG_H
#define PULSAR_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/** Longest logical line (after joining continuations), in bytes. */
#define CFG_MAX_LINE 4096
/** Longest TFTP path (root + '/' + name); PXE's TFTP API holds 127 + NUL. */
#define CFG_MAX_PATH 127
/** Deepest nesting of `conf` files (the top-level file is depth 1). */
#define CFG_MAX_DEPTH 8
/** Most exec/load/chld lines in one config, nested files included. */
#define CFG_MAX_FILES 1024
/** Longest error message, file:line prefix included. */
#define CFG_ERR_LEN 256

/** The state that each directive changes for the lines after it. */
struct cfg_state {
    char root[CFG_MAX_PATH + 1]; /* `root`: path prefix, "" for none */
    uint32_t server;             /* `tftp`: IPv4 in network byte order */
    bool has_addr;               /* `addr` seen */
    uint64_t addr;               /* `addr`: where following modules go */
    unsigned addr_seq;           /* counts `addr` lines: a repeated value
                                    still restarts placement there */
};

enum cfg_kind {
    CFG_EXEC, /* the kernel (the last one is started) */
    CFG_LOAD, /* a module (multiboot) or initrd part (Linux) */
    CFG_CHLD, /* chainload another PXE boot program */
};

/** One file the config asks for, with the state in force at its line. */
struct cfg_item {
    enum cfg_kind kind;
    char *name;        /* the file name as written */
    char *args;        /* the arguments, white space stripped; "" if none */
    char *cmdline;     /* "name args" or "name": the multiboot string */
    char *path;        /* TFTP path: root joined with name */
    uint32_t server;   /* TFTP server (network byte order) */
    bool has_addr;     /* an `addr` was in force */
    uint64_t addr;     /* ... and its value */
    unsigned addr_seq; /* which `addr` line (cfg_state.addr_seq) */
    unsigned multiboot; /* exec --multiboot1/2: the version forced, or 0 */
    bool unzip;        /* load --unzip: a gzip module is unpacked */
    char *src_file;    /* config file the line is in */
    unsigned src_line; /* its (first physical) line number, from 1 */
    struct cfg_item *next;
};

/** What a config (with its nested files) asks for. */
struct cfg {
    struct cfg_item *items; /* every exec/load/chld in file order */
    struct cfg_item *exec;  /* the last exec, or NULL */
    struct cfg_item *chld;  /* the first chld, or NULL: once it is seen
                               the rest of the config is moot */
    unsigned nloads;        /* number of CFG_LOAD items */
    unsigned nitems;        /* number of items (at most CFG_MAX_FILES) */
};

/**
 * Fetch a nested config for `conf`.
 * @ctx: the caller's context
 * @st: the state in force (root and server say where to fetch from)
 * @path: the TFTP path (root joined with the name)
 * @text, @len: out: the file contents, allocated with malloc; the parser
 *              frees them
 * Returns 0 or a negative pulsar_err; on failure it may write a reason
 * into @why (CFG_ERR_LEN bytes) which the parser appends to its message.
 */
typedef int (*cfg_fetch_fn)(void *ctx, const struct cfg_state *st,
                            const char *path, char **text, size_t *len,
                            char *why);

/** Initialise @st with the DHCP facts: root-path (may be NULL) and server. */
void cfg_state_init(struct cfg_state *st, const char *root, uint32_t server);

/**
 * Parse one config file and append what it asks for to @cfg.
 * @cfg: the result so far (zero it before the first call)
 * @st: the state in force; updated as directives are read
 * @fname: the file's name, used in error messages
 * @text, @len: the contents (need not be NUL-terminated; may hold NULs,
 *              which are an error)
 * @fetch, @ctx: used for `conf`; NULL makes `conf` an error
 * @err: out: "file:line: message" on failure (CFG_ERR_LEN bytes)
 * Returns 0 or a negative pulsar_err.
 */
int cfg_parse(struct cfg *cfg, struct cfg_state *st, const char *fname,
              const char *text, size_t len, cfg_fetch_fn fetch, void *ctx,
              char *err);

/** Free everything @cfg holds and zero it. */
void cfg_free(struct cfg *cfg);

/** Parse a dotted-quad IPv4 address strictly into network byte order. */
int cfg_parse_ip(const char *s, uint32_t *ip);

/** Parse a number: decimal or 0x-prefixed hex, below 2^32. */
int cfg_parse_addr(const char *s, uint64_t *val);

/** Join @root and @name into @out (CFG_MAX_PATH + 1 bytes); a @name that
 *  is an http:// or https:// URL stands alone (net/url.h). */
int cfg_join_path(const char *root, const char *name, char *out);

#endif
