#!/usr/bin/env python3
"""Pack Pulsar's NBP: stage 1 as it is, then the body deflated.

    pack.py STAGE1.bin BODY.bin OUT --pad-to N --body-size M [--layout H]

Writes OUT = STAGE1 padded to N bytes, a 12-byte header (PACK_MAGIC, the
unpacked size, the packed size; little-endian), then the body as a raw
RFC 1951 deflate stream, which lib/inflate.c unpacks in stage 1.
PACK_MAGIC and PACK_HEADER (the header's size) are read from H
(boot/bios/layout.h), where stage 1 (boot/bios/entry.asm) gets them
too.  The body must be exactly M bytes (the linker's __body_end - __body_start): a
mismatch means the build is inconsistent and fails here, not at boot.
The stream is checked by unpacking it before the file is written.

The deflater is zopfli (Debian package zopfli, installed by
scripts/deps.sh) when it is on PATH: its streams are ~3% smaller than
zlib's best (about 1 KiB today).  Without it zlib is used and the build
says so; that file fits the 64 KiB limit as easily (33,479 bytes against
zopfli's 32,437 when this was written), so zopfli is not required.
"""

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib


def deflate(data):
    """The smallest raw deflate stream zlib (and zopfli, if present) makes
    of @data, and the name of the tool that made it."""
    best, tool = None, None
    for strategy in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED):
        c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, strategy)
        packed = c.compress(data) + c.flush()
        if best is None or len(packed) < len(best):
            best, tool = packed, "zlib"
    zopfli = shutil.which("zopfli")
    if zopfli:
        with tempfile.NamedTemporaryFile(suffix=".bin") as f:
            f.write(data)
            f.flush()
            packed = subprocess.run([zopfli, "--deflate", "--i100", "-c",
                                     f.name], check=True,
                                    stdout=subprocess.PIPE).stdout
        if len(packed) < len(best):
            best, tool = packed, "zopfli"
    else:
        print("pack: zopfli not found (scripts/deps.sh installs it); "
              "using zlib, ~3% larger")
    return best, tool


def layout_value(path, name):
    """The value of "#define @name VALUE" in the header @path."""
    with open(path) as f:
        m = re.search(r"^#define %s (0x[0-9A-Fa-f]+|[0-9]+)$" % name,
                      f.read(), re.M)
    if not m:
        sys.exit("pack: no #define %s in %s" % (name, path))
    return int(m.group(1), 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stage1")
    ap.add_argument("body")
    ap.add_argument("out")
    ap.add_argument("--pad-to", type=lambda s: int(s, 0), required=True)
    ap.add_argument("--body-size", type=lambda s: int(s, 0), required=True)
    ap.add_argument("--layout", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "boot", "bios",
        "layout.h"))
    a = ap.parse_args()
    magic = layout_value(a.layout, "PACK_MAGIC")
    header = struct.pack("<III", magic, 0, 0)
    if len(header) != layout_value(a.layout, "PACK_HEADER"):
        sys.exit("pack: PACK_HEADER in %s is not the %d bytes written here"
                 % (a.layout, len(header)))
    stage1 = open(a.stage1, "rb").read()
    body = open(a.body, "rb").read()
    if len(body) != a.body_size:
        sys.exit("pack: body is %d bytes, the linker says %d"
                 % (len(body), a.body_size))
    if len(stage1) > a.pad_to:
        sys.exit("pack: stage 1 is %d bytes, over its %d"
                 % (len(stage1), a.pad_to))
    packed, tool = deflate(body)
    if zlib.decompress(packed, -15) != body:
        sys.exit("pack: internal error: the packed body does not unpack")
    with open(a.out, "wb") as f:
        f.write(stage1.ljust(a.pad_to, b"\0"))
        f.write(struct.pack("<III", magic, len(body), len(packed)))
        f.write(packed)
    print("pack: stage 1 %d bytes, body %d -> %d bytes (%.0f%%, %s)"
          % (len(stage1), len(body), len(packed),
             100.0 * len(packed) / max(1, len(body)), tool))


if __name__ == "__main__":
    main()
