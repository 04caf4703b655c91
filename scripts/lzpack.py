#!/usr/bin/env python3
"""Pack Pulsar's NBP: stage 1 as it is, then the body LZ4-compressed.

    lzpack.py STAGE1.bin BODY.bin OUT --pad-to N --body-size M

Writes OUT = STAGE1 padded to N bytes, a 12-byte header (b"PLZ4", the
unpacked size, the packed size; little-endian), then the body in LZ4's
block format, which boot/entry.asm's unlz4 unpacks.  The body must be
exactly M bytes (the linker's __body_end - __body_start): a mismatch means
the build is inconsistent and fails here rather than at boot.

The compressor is greedy with hash chains and one step of lazy matching;
the unpacker stops when the output is full, so the last sequence may end
right after its literals (no end-of-block rules are needed).
"""

import argparse
import struct
import sys

MIN_MATCH = 4
MAX_OFFSET = 0xFFFF
CHAIN = 256  # candidates tried per position


def _run_length(n, out):
    """LZ4's length extension bytes for a run whose nibble was 15."""
    n -= 15
    while n >= 255:
        out.append(255)
        n -= 255
    out.append(n)


def _emit(out, literals, match_len, offset):
    lit = len(literals)
    token = (min(lit, 15) << 4) | (min(match_len - MIN_MATCH, 15)
                                   if match_len else 0)
    out.append(token)
    if lit >= 15:
        _run_length(lit, out)
    out += literals
    if match_len:
        out += struct.pack("<H", offset)
        if match_len - MIN_MATCH >= 15:
            _run_length(match_len - MIN_MATCH, out)


def compress(data):
    """LZ4 block of @data, ending with a literal-only (maybe empty) run."""
    n = len(data)
    heads = {}
    prev = [0] * n
    out = bytearray()
    lit_start = 0
    i = 0

    def insert(pos):
        if pos + MIN_MATCH <= n:
            key = data[pos:pos + MIN_MATCH]
            prev[pos] = heads.get(key, -1)
            heads[key] = pos

    def longest(pos):
        best_len, best_off = 0, 0
        if pos + MIN_MATCH > n:
            return 0, 0
        cand = heads.get(data[pos:pos + MIN_MATCH], -1)
        tries = CHAIN
        while cand >= 0 and tries and pos - cand <= MAX_OFFSET:
            length = MIN_MATCH
            while (pos + length < n and
                   data[cand + length] == data[pos + length]):
                length += 1
            if length > best_len:
                best_len, best_off = length, pos - cand
            cand = prev[cand]
            tries -= 1
        return best_len, best_off

    while i < n:
        length, off = longest(i)
        if length < MIN_MATCH:
            insert(i)
            i += 1
            continue
        insert(i)
        first = i + 1  # the next position not yet in the hash chains
        nlen, noff = longest(i + 1)
        if nlen > length:  # lazy: a longer match starts one byte later
            i += 1
            length, off = nlen, noff
            first = i
        _emit(out, data[lit_start:i], length, off)
        for p in range(first, i + length):
            insert(p)
        i += length
        lit_start = i
    _emit(out, data[lit_start:], 0, 0)
    return bytes(out)


def _read_length(packed, i, n):
    """A run length from its 4-bit nibble @n and extension bytes at @i."""
    if n == 15:
        while True:
            b = packed[i]
            i += 1
            n += b
            if b != 255:
                break
    return n, i


def decompress(packed, size):
    """The reference unpacker (the same algorithm as unlz4 in entry.asm)."""
    out = bytearray()
    i = 0
    while len(out) < size:
        token = packed[i]
        i += 1
        lit, i = _read_length(packed, i, token >> 4)
        out += packed[i:i + lit]
        i += lit
        if len(out) >= size:
            break
        off = packed[i] | packed[i + 1] << 8
        i += 2
        mlen, i = _read_length(packed, i, token & 15)
        mlen += MIN_MATCH
        for _ in range(mlen):
            out.append(out[-off])
    return bytes(out)


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
        sys.exit("lzpack: body is %d bytes, the linker says %d"
                 % (len(body), a.body_size))
    if len(stage1) > a.pad_to:
        sys.exit("lzpack: stage 1 is %d bytes, over its %d"
                 % (len(stage1), a.pad_to))
    packed = compress(body)
    if decompress(packed, len(body)) != body:
        sys.exit("lzpack: internal error: the packed body does not unpack")
    with open(a.out, "wb") as f:
        f.write(stage1.ljust(a.pad_to, b"\0"))
        f.write(b"PLZ4" + struct.pack("<II", len(body), len(packed)))
        f.write(packed)
    print("lzpack: body %d -> %d bytes (%.0f%%)"
          % (len(body), len(packed), 100.0 * len(packed) / max(1, len(body))))


if __name__ == "__main__":
    main()
