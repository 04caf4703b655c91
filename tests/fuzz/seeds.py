#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<t>/).

    python3 -m tests.fuzz.seeds [--kernel build/testkernel.elf]

Seeds are the valid inputs Pulsar meets every day and every row of the
malformed-input table (tests/malformed/gen.py) that is small enough to
mutate quickly, so each target starts next to every error path.  The
files are committed; crashes found later are added by hand with a name
that says what they were (see docs/tests.md, "Fuzzing").
"""

import argparse
import gzip
import os
import struct

from lab.images import (BzImage, Elf, bzimage_like_debian, dhcp_option,
                        efi_app, ipv4)
from tests.malformed import gen

HERE = os.path.dirname(os.path.abspath(__file__))

MAX_SEED = 16384


def write(target, name, data):
    """One seed file."""
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def config_seeds():
    write("config", "demo", b"# Pulsar demo\nroot demo\n"
          b"exec kernel.elf console=serial\nload module1.bin first module\n"
          b"load module2.bin second \\\n    module\n")
    write("config", "all-directives", b"root nova\ntftp 10.0.2.2\n"
          b"addr 0x2000000\nexec hypervisor iommu\r\nload sigma0\n"
          b"conf more.cfg\nchld pxelinux.0\n--\nroot x\naddr 4096\n"
          b"load y a b c\n")
    write("config", "nested", b"exec k\nconf a\n--\nload m\nconf b\n--\n"
          b"# b\nload n x\n")
    for c in gen.config_cases():
        if len(c.data) <= MAX_SEED:
            parts = [c.data] + [t.encode() for t in c.files.values()]
            write("config", c.name, b"\n--\n".join(parts))


def elf_seeds(kernel):
    for c in gen.elf_cases():
        if len(c.data) <= MAX_SEED:
            write("elf", c.name, b"\xb3\x00" + c.data)
    write("elf", "valid", b"\xb3\x00" + Elf().build())
    write("elf", "valid-retried", b"\x10\x03" + Elf().build())
    if kernel:
        with open(kernel, "rb") as f:
            write("elf", "testkernel", b"\xb3\x05" + f.read())


def bzimage_seeds():
    parts = struct.pack("<3I", 100000, 5000, 1)
    def seed(args, image):
        return bytes([len(args)]) + args + parts + image
    for c in gen.bzimage_cases():
        args = (c.args or "console=ttyS0").encode()
        write("bzimage", c.name, seed(args, c.data))
        write("elf", "bz-" + c.name, b"\xb3\x00" + c.data)
    valid = BzImage().build()
    write("bzimage", "valid", seed(b"console=ttyS0 mem=64M", valid))
    write("bzimage", "valid-no-args", seed(b"", valid))
    write("elf", "bz-valid", b"\xb3\x02" + valid)
    # An x86-64 EFI stub's PE header: pulsar.efi's stub plan.
    write("bzimage", "efi-stub", seed(b"console=ttyS0 quiet",
                                      bzimage_like_debian(60000, True)))


def dhcp_seeds():
    for c in gen.dhcp_cases():
        write("dhcp", c.name, c.data)
    write("dhcp", "valid", gen.dhcp(options=dhcp_option(54, ipv4("10.0.2.2"))
                                    + dhcp_option(17, b"nova")))
    write("dhcp", "valid-overload", gen.dhcp(
        options=dhcp_option(52, b"\x03"),
        file_field=dhcp_option(17, b"nova") + b"\xff",
        sname=dhcp_option(67, b"pulsar") + b"\xff"))
    write("dhcp", "bootp", gen.dhcp(cookie=False))


def tftp_seeds():
    def ok_read(n, skew=0):
        return bytes([0, skew]) + struct.pack("<H", n)
    # Byte 0 odd: size query first (status, 4-byte size).
    size_q = b"\x01" + b"\x00" + struct.pack("<I", 3000)
    write("tftp", "sized-ok", size_q + b"\x00" + struct.pack("<H", 1432)
          + ok_read(1432) + ok_read(1432) + ok_read(136))
    write("tftp", "unsized-ok", b"\x00" + b"\x00" + struct.pack("<H", 512)
          + ok_read(512) + ok_read(100))
    write("tftp", "retry-then-ok", size_q
          + b"\x00" + struct.pack("<H", 1432) + ok_read(1432)
          + b"\x35\x00\x00\x00"
          + b"\x00" + struct.pack("<H", 1432) + ok_read(1432)
          + ok_read(1432) + ok_read(136))
    write("tftp", "short", size_q + b"\x00" + struct.pack("<H", 1432)
          + ok_read(1432) + ok_read(100))
    write("tftp", "skewed", b"\x00\x00" + struct.pack("<H", 1432)
          + ok_read(1432, 1))
    write("tftp", "oversized", b"\x00\x00" + struct.pack("<H", 1432)
          + ok_read(1500))
    write("tftp", "not-found", b"\x01\x3b")
    write("tftp", "open-fails", b"\x00\x3c")


def pe_seeds():
    """fuzz_pe: 4 bytes of file past the input, then the first bytes of an
    EFI application (lab/images.py efi_app), good and broken."""
    def seed(name, image, keep=1024):
        write("pe", name, struct.pack("<I", len(image) - keep) + image[:keep])
    seed("good-headers", efi_app(0x40000))
    seed("good-whole", efi_app(0x400), 0x400)
    seed("ia32", efi_app(0x3000, machine=0x14C))
    seed("driver", efi_app(0x3000, subsystem=11))
    seed("pe32", efi_app(0x3000, magic=0x10B))
    seed("bios-nbp", b"\xea\x05\x7c\x00\x00" + bytes(2000))


# Targets whose seeds are made by hand and committed as they are.
HAND_MADE = ("tftp_proto", "tftp_client", "session")


def clear():
    """Remove the generated seeds; crash-* files (found bugs) and the
    hand-made corpora stay."""
    top = os.path.join(HERE, "corpus")
    for t in os.listdir(top) if os.path.isdir(top) else []:
        if t in HAND_MADE:
            continue
        for name in os.listdir(os.path.join(top, t)):
            if not name.startswith("crash-"):
                os.remove(os.path.join(top, t, name))


def _csum(data):
    """RFC 1071 one's-complement sum of big-endian 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ether_seeds():
    """Frames as the NIC fast path receives them (net/ether.c): to
    52:54:00:12:34:56 / 10.0.2.15, the self fuzz_ether.c uses."""
    us, srv = bytes.fromhex("525400123456"), bytes.fromhex("52550a000202")
    ip_us, ip_srv = bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2])

    def udp(payload, sport=69, dport=49153):
        ulen = 8 + len(payload)
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 1, 0, 64,
                          17, 0, ip_srv, ip_us)
        iph = iph[:10] + struct.pack("!H", ~_csum(iph) & 0xFFFF) + iph[12:]
        seg = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
        c = ~_csum(ip_srv + ip_us + struct.pack("!BBH", 0, 17, ulen) +
                   seg) & 0xFFFF
        seg = seg[:6] + struct.pack("!H", c or 0xFFFF) + seg[8:]
        return us + srv + b"\x08\x00" + iph + seg

    def arp(op, target_ip):
        return ((b"\xff" * 6 if op == 1 else us) + srv + b"\x08\x06" +
                struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + srv + ip_srv +
                (b"\0" * 6 if op == 1 else us) + target_ip).ljust(60, b"\0")

    write("ether", "oack", udp(b"\x00\x06blksize\x001428\x00"))
    write("ether", "data", udp(b"\x00\x03\x00\x01" + bytes(range(256)) * 5))
    write("ether", "arp-reply", arp(2, ip_us))
    write("ether", "arp-request", arp(1, ip_us))


def mb2_seeds(kernel):
    """Multiboot2 headers (fuzz_mb2.c: byte 0 is the tag mask, then the
    file): the test kernel's, and one with every header tag."""
    tags = b""

    def tag(t, flags, *words):
        body = struct.pack("<HHI", t, flags, 8 + 4 * len(words)) + \
            b"".join(struct.pack("<I", w) for w in words)
        return body + b"\0" * (-len(body) % 8)
    tags += tag(1, 0, 1, 2, 3, 4, 6, 16) + tag(1, 1, 12, 17, 20)
    tags += tag(2, 0, 0x100000, 0x100000, 0, 0x110000) + tag(3, 0, 0x100040)
    tags += tag(4, 0, 2) + tag(5, 1, 1024, 768, 32) + tag(6, 0) + tag(7, 0)
    tags += tag(8, 0, 0x100040) + tag(9, 0, 0x100040)
    tags += tag(10, 0, 0x200000, 0x10000000, 0x200000, 1) + tag(0, 0)
    hlen = 16 + len(tags)
    hdr = struct.pack("<IIII", 0xE85250D6, 0, hlen,
                      (-(0xE85250D6 + hlen)) & 0xFFFFFFFF) + tags
    write("mb2", "every-tag", b"\x01" + hdr + b"\x90" * 0x400)
    if kernel:
        for name in ("testkernel-mb2.elf", "testkernel-both.elf"):
            with open(os.path.join(os.path.dirname(kernel), name), "rb") as f:
                data = f.read()
            write("mb2", name[:-4], b"\x01" + data[:0x1100])
            # The kernel sink and the format table (fuzz_elf.c) too.
            write("elf", name[:-4], b"\xb3\x05" + data)


def gzip_seeds(kernel):
    """gzip files (fuzz_gzip.c: byte 0 is the piece size): stored, fixed
    and dynamic blocks, and the test kernel as distributions pack one."""
    write("gzip", "small-stored", b"\x00" + gzip.compress(b"pulsar" * 50, 0,
                                                           mtime=0))
    write("gzip", "fixed", b"\x02" + gzip.compress(b"abcabcabc pulsar", 1,
                                                    mtime=0))
    if kernel:
        with open(os.path.join(os.path.dirname(kernel),
                               "testkernel-mb2.elf"), "rb") as f:
            write("gzip", "testkernel-mb2", b"\xb3" + gzip.compress(
                f.read(), 9, mtime=0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", help="the test kernel, as an extra seed")
    args = ap.parse_args()
    clear()
    config_seeds()
    elf_seeds(args.kernel)
    bzimage_seeds()
    dhcp_seeds()
    tftp_seeds()
    ether_seeds()
    pe_seeds()
    mb2_seeds(args.kernel)
    gzip_seeds(args.kernel)
    for t in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        n = len(os.listdir(os.path.join(HERE, "corpus", t)))
        print("tests/fuzz/corpus/%s: %d seeds" % (t, n))


if __name__ == "__main__":
    main()
