#!/usr/bin/env python3
"""Pack Pulsar's NBP: stage 1 as it is, then the body deflated.

    pack.py STAGE1.bin BODY.bin OUT --pad-to N --body-size M

Writes OUT = STAGE1 padded to N bytes, a 12-byte header (b"PDEF", the
unpacked size, the packed size; little-endian), then the body as a raw
RFC 1951 deflate stream, which boot/inflate.c unpacks in stage 1.  The
body must be exactly M bytes (the linker's __body_end - __body_start): a
mismatch means the build is inconsistent and fails here, not at boot.
The stream is checked by unpacking it before the file is written.
"""

import argparse
import struct
import sys
import zlib


def deflate(data):
    """The smallest raw deflate stream zlib makes of @data."""
    best = None
    for strategy in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED):
        c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, strategy)
        packed = c.compress(data) + c.flush()
        if best is None or len(packed) < len(best):
            best = packed
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stage1")
    ap.add_argument("body")
    ap.add_argument("out")
    ap.add_argument("--pad-to", type=lambda s: int(s, 0), required=True)
    ap.add_argument("--body-size", type=lambda s: int(s, 0), required=True)
    a = ap.parse_args()
    stage1 = open(a.stage1, "rb").read()
    body = open(a.body, "rb").read()
    if len(body) != a.body_size:
        sys.exit("pack: body is %d bytes, the linker says %d"
                 % (len(body), a.body_size))
    if len(stage1) > a.pad_to:
        sys.exit("pack: stage 1 is %d bytes, over its %d"
                 % (len(stage1), a.pad_to))
    packed = deflate(body)
    if zlib.decompress(packed, -15) != body:
        sys.exit("pack: internal error: the packed body does not unpack")
    with open(a.out, "wb") as f:
        f.write(stage1.ljust(a.pad_to, b"\0"))
        f.write(b"PDEF" + struct.pack("<II", len(body), len(packed)))
        f.write(packed)
    print("pack: stage 1 %d bytes, body %d -> %d bytes (%.0f%%)"
          % (len(stage1), len(body), len(packed),
             100.0 * len(packed) / max(1, len(body))))


if __name__ == "__main__":
    main()
