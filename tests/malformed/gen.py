"""The table of malformed inputs, each with the exact error Pulsar gives.

    python3 -m tests.malformed.gen OUTDIR      write every case
    python3 -m tests.malformed.gen --list      print the table

Every case is built here, by code that says what is wrong with it, next
to the one line Pulsar must print for it.  gen.py writes, per case,
OUTDIR/<kind>/<name>.in (the input), <name>.expect (the message),
<name>.expect-efi where pulsar.efi's message differs (empty: pulsar.efi
boots it, as nothing of its own or of a BIOS lies there), and for
configs with `conf` lines <name>.files/ (the nested files), plus OUTDIR/index
("<kind> <name>" per line).  tests/unit/test_malformed.c feeds each input
to the code Pulsar runs on it and compares the message byte for byte;
tests/e2e/cases_faults.py boots a few of them for real.

Kinds and how the unit driver reads them:
  config  cfg_parse() as "config-test" (root empty, server 10.0.2.2), a
          `conf` fetching <name>.files/<path> (a missing file fails as the
          boot flow's fetch does), then plan_config_check(): Pulsar's
          message is "config-test:<line>: ..." or "config-test: ...".
  elf     plan_kernel() for `exec kernel.elf` at config-test:3 (TFTP path
          demo/kernel.elf, file size = the input's size) against the
          placer of a QEMU-like machine (unit driver: FIXTURE LAYOUT):
          RAM 0-0x9fc00 and 1 MiB-0x7fe0000, free base memory ending at
          0x9c400 (Pulsar's image and heap at 0x7c00-0x8c400, then the
          room kept for a Linux setup), the PXE stack at 0x9c400-0x9fc00.
          config and elf rows run again through pulsar.efi's face and
          placer (unit driver: the UEFI fixture, OVMF's map at -m 128:
          RAM 0-0xa0000, 1 MiB-0x806000 and more from 0x808000, the
          last of it ending at 0x7ef4000; nothing of Pulsar's or a
          BIOS's below 1 MiB).
  dhcp    dhcp_validate() on the cached DHCP reply.
  bzimage plan_linux_kernel() for `exec bzImage <args>` at config-test:3
          (TFTP path linux/bzImage; the arguments are <name>.args, or
          "console=ttyS0" without one) on the same machine.
"""

import gzip
import os
import struct
import sys

from lab.images import PAGE, BzImage, Elf, bootp
from lab.images import dhcp_option as opt


class Case:
    """One row: kind, name, input bytes, exact expected message, files."""

    def __init__(self, kind, name, data, expect, files=None, why="",
                 args=None, efi=None):
        self.kind = kind
        self.efi = efi  # pulsar.efi's message when not @expect (EFI_BOOTS)
        self.name = name
        self.data = data if isinstance(data, bytes) else data.encode()
        self.expect = expect
        self.files = files or {}
        self.why = why
        self.args = args


# ------------------------------------------------------------- configs

def cfg(name, text, expect, files=None, why=""):
    """A config case; @expect follows "config-test" unless it names its
    own file (an error inside a nested config)."""
    if not expect.startswith((":", " ")):
        return Case("config", name, text, expect, files, why)
    return Case("config", name, text, "config-test" + expect, files, why)


def config_cases():
    long_path = "k" * 128
    cases = [
        cfg("empty", "", ": no exec line: nothing to boot",
            why="an empty file"),
        cfg("only-comments", "# nothing\n\n   # here\n",
            ": no exec line: nothing to boot"),
        cfg("overlong-line", "exec k " + "a" * 4095 + "\n",
            ":1: line too long (over 4096 bytes)"),
        cfg("overlong-joined", "exec k \\\n" + ("a" * 1000 + "\\\n") * 5 +
            "b\n", ":1: line too long (over 4096 bytes)",
            why="continuation lines joined past the limit"),
        cfg("overlong-comment", "#" + "c" * 4096 + "\nexec k\n",
            ":1: line too long (over 4096 bytes)"),
        cfg("nul-byte", "root demo\nexec kernel.elf\nload m\0.bin\n",
            ":3: NUL byte in config"),
        cfg("binary-junk", bytes(range(1, 256)).decode("latin-1"),
            ":1: unknown directive '\\x01\\x02\\x03\\x04\\x05\\x06\\x07"
            "\\x08'",
            why="bytes 1..255: the first word runs up to the tab"),
        cfg("binary-junk-nul", "\x7fELF\x01\x01\x01\0\0\0",
            ":1: NUL byte in config", why="a kernel given as the config"),
        cfg("unknown-directive", "root demo\nkernel k.elf\n",
            ":2: unknown directive 'kernel'"),
        cfg("directive-case", "EXEC k.elf\n", ":1: unknown directive 'EXEC'"),
        cfg("missing-exec-arg", "exec\n", ":1: exec: missing file name"),
        cfg("missing-load-arg", "exec k\nload   \t\n",
            ":2: load: missing file name"),
        cfg("missing-root-arg", "root\n", ":1: root: missing path"),
        cfg("missing-tftp-arg", "tftp\n", ":1: tftp: missing IPv4 address"),
        cfg("missing-addr-arg", "addr\n", ":1: addr: missing number"),
        cfg("missing-conf-arg", "conf\n", ":1: conf: missing file name"),
        cfg("extra-arg", "root a b\n", ":1: root: unexpected 'b'"),
        cfg("bad-number-junk", "addr 12abc\n",
            ":1: addr: '12abc' is not a number"),
        cfg("bad-number-empty-hex", "addr 0x\n",
            ":1: addr: '0x' is not a number"),
        cfg("bad-number-negative", "addr -4096\n",
            ":1: addr: '-4096' is not a number"),
        cfg("bad-number-too-big", "addr 0x100000000\n",
            ":1: addr: '0x100000000' does not fit in 32 bits"),
        cfg("bad-number-huge", "addr 99999999999999999999999\n",
            ":1: addr: '99999999999999999999999' does not fit in 32 bits"),
        cfg("bad-ip-three-parts", "tftp 10.0.2\n",
            ":1: tftp: '10.0.2' is not an IPv4 address"),
        cfg("bad-ip-octet", "tftp 10.0.2.256\n",
            ":1: tftp: '10.0.2.256' is not an IPv4 address"),
        cfg("bad-ip-five-parts", "tftp 1.2.3.4.5\n",
            ":1: tftp: '1.2.3.4.5' is not an IPv4 address"),
        cfg("bad-ip-name", "tftp tftp.example\n",
            ":1: tftp: 'tftp.example' is not an IPv4 address"),
        cfg("bad-ip-v6", "tftp fe80::1\n",
            ":1: tftp: 'fe80::1' is not an IPv4 address"),
        cfg("path-too-long", "exec %s\n" % long_path,
            ":1: exec: path too long (over 127 bytes)"),
        cfg("root-too-long", "root %s\n" % ("r" * 128),
            ":1: root: path too long (over 127 bytes)"),
        cfg("root-plus-name-too-long", "root %s\nload %s\n"
            % ("r" * 100, "m" * 27), ":2: load: path too long (over 127 "
            "bytes)", why="each fits alone, joined they do not"),
        cfg("name-only-slashes", "root demo\nexec k\nload ///\n",
            ":3: load: '///' names no file",
            why="joined to the root it would be the directory"),
        cfg("conf-self-loop", "conf config-test\n",
            ":1: conf: loop: config-test -> config-test"),
        cfg("conf-loop", "exec k\nconf a.cfg\n",
            "b.cfg:1: conf: loop: config-test -> a.cfg -> b.cfg -> a.cfg",
            files={"a.cfg": "conf b.cfg\n", "b.cfg": "conf a.cfg\n"}),
        cfg("conf-too-deep", "conf c1\n",
            "c7:1: conf: nested too deep (over 8 files): config-test -> "
            "c1 -> c2 -> c3 -> c4 -> c5 -> c6 -> c7 -> c8",
            files={"c%d" % i: "conf c%d\n" % (i + 1) for i in range(1, 10)}),
        cfg("conf-missing", "exec k\nconf nothere.cfg\n",
            ":2: conf: nothere.cfg: not found on 10.0.2.2"),
        cfg("conf-nested-error", "exec k\nconf a.cfg\n",
            "a.cfg:2: addr: '0x1000zz' is not a number",
            files={"a.cfg": "root x\naddr 0x1000zz\n"}),
        cfg("100000-lines", "#\n" * 99999 + "bogus\n",
            ": larger than 65536 bytes on 10.0.2.2",
            why="a config over the 64 KiB Pulsar reads is refused before "
            "it is parsed (test_config checks line numbers past 65535)"),
        cfg("too-many-files", "exec k\n" + "load m\n" * 1024,
            ":1025: load: too many files (over 1024)"),
    ]
    return cases


# ---------------------------------------------------------------- ELF

# An @efi of elf(): pulsar.efi boots this kernel (what is in its way on
# BIOS is not there on UEFI).
EFI_BOOTS = ""
ELF_PREFIX = "config-test:3: exec: demo/kernel.elf: "


def elf(name, e, expect, why="", efi=None):
    """An ELF case; @expect after "config-test:3: exec: demo/kernel.elf: ",
    @efi too (pulsar.efi's words, when they differ; or EFI_BOOTS)."""
    return Case("elf", name, e.build() if isinstance(e, Elf) else e,
                ELF_PREFIX + expect, why=why,
                efi=efi if efi in (None, EFI_BOOTS) else ELF_PREFIX + efi)


def with_(fn):
    """A default Elf changed by @fn."""
    e = Elf()
    fn(e)
    return e


def aout(load=0x100000, header_addr=0x100200, load_end=0x101000,
         bss_end=0x102000, entry=0x100000):
    """A non-ELF image with a.out kludge fields: file offset 0 loads at
    @load, the multiboot header is at file offset 0x200."""
    e = Elf()
    e.ident = bytearray(16)
    e.mb_flags = 0x10003
    e.mb_addr = [header_addr, load, load_end, bss_end, entry]
    return e


def elf_cases():
    return [
        elf("empty", b"", "no multiboot header in the first 8192 bytes"),
        elf("no-multiboot-header", with_(lambda e: setattr(e, "mb_at",
                                                           None)),
            "no multiboot header in the first 8192 bytes"),
        elf("multiboot-bad-checksum",
            with_(lambda e: setattr(e, "mb_sum_delta", 1)),
            "multiboot header at 0x200: bad checksum"),
        elf("multiboot-header-after-8k",
            with_(lambda e: (setattr(e, "mb_at", 0x2000),
                             e.segs[0].__setitem__(4, 0x2000),
                             e.segs[0].__setitem__(5, 0x2000))),
            "no multiboot header in the first 8192 bytes"),
        elf("multiboot-flag-unknown",
            with_(lambda e: setattr(e, "mb_flags", 0xB)),
            "multiboot header flag bit 3 (unknown) required by the "
            "kernel but not supported"),
        elf("multiboot-video-mode-bad", with_(lambda e: (
            setattr(e, "mb_flags", 7),
            setattr(e, "mb_video", [5, 1024, 768, 32]))),
            "multiboot header video mode_type 5 is neither 0 (graphics) "
            "nor 1 (text)"),
        elf("aout-header-mismatch", aout(header_addr=0x100300),
            "a.out kludge: header_addr 0x100300 and load_addr 0x100000 do "
            "not match the header's file offset 0x200"),
        elf("aout-load-end-past-file", aout(load_end=0x200000),
            "a.out kludge: load_end_addr 0x200000 is not between the "
            "header's end 0x100220 and the file's end 0x101800"),
        elf("aout-bss-below-end", aout(bss_end=0x100800),
            "a.out kludge: bss_end_addr 0x100800 is below the loaded end "
            "0x101000"),
        elf("aout-entry-outside", aout(entry=0x300000),
            "a.out kludge: entry_addr 0x300000 is outside the image "
            "[0x100000, 0x102000)"),
        elf("aout-past-4g", aout(load=0xFFFFF000, header_addr=0xFFFFF200,
                                 load_end=0, bss_end=0, entry=0xFFFFF000),
            "a.out kludge: [0xfffff000, 0x100000800) is not below 4 GiB",
            why="load_end_addr 0: the whole file, which runs past 4 GiB"),
        elf("not-elf-no-kludge",
            with_(lambda e: setattr(e, "ident", bytearray(16))),
            "not an ELF file and no a.out kludge address fields"),
        elf("truncated-header", with_(lambda e: (setattr(e, "mb_at", 28),
                                                 setattr(e, "size", 40))),
            "ELF header is cut off at 40 bytes",
            why="the file ends inside the ELF header"),
        elf("truncated-phdrs", with_(lambda e: (
            setattr(e, "phoff", 0x240), setattr(e, "size", 0x250))),
            "ELF program headers at 0x240..0x260 are outside the first "
            "592 bytes", why="the file ends inside the program headers"),
        elf("truncated-data", with_(lambda e: setattr(e, "size", 0x1400)),
            "file is 5120 bytes but its segments need 6144",
            why="the file ends inside the segment"),
        elf("class-unknown", with_(lambda e: e.ident.__setitem__(4, 3)),
            "unknown ELF class 3"),
        elf("elf64-machine-i386", with_(lambda e: e.ident.__setitem__(4, 2)),
            "ELF64 machine 3 is not x86-64",
            why="an ELF32 kernel marked ELF64"),
        elf("big-endian", with_(lambda e: e.ident.__setitem__(5, 2)),
            "big-endian ELF (data encoding 2) is not supported"),
        elf("version-bad", with_(lambda e: e.ident.__setitem__(6, 9)),
            "unknown ELF version 9"),
        elf("type-dyn", with_(lambda e: setattr(e, "etype", 3)),
            "ELF type 3 is not an executable (ET_EXEC)"),
        elf("machine-x86-64", with_(lambda e: setattr(e, "machine", 62)),
            "ELF32 machine 62 is not i386"),
        elf("phentsize-small", with_(lambda e: setattr(e, "phentsize", 16)),
            "ELF program header size 16 is below 32"),
        elf("phnum-huge", with_(lambda e: setattr(e, "phnum", 65535)),
            "65535 ELF program headers; at most 64 are supported"),
        elf("phoff-huge", with_(lambda e: setattr(e, "phoff", 0xFFFFFFF0)),
            "ELF program headers at 0xfffffff0..0x100000010 are outside "
            "the first 6144 bytes"),
        elf("no-load-segments", with_(lambda e: e.segs[0].__setitem__(0, 4)),
            "ELF file has no loadable segments"),
        elf("filesz-over-memsz",
            with_(lambda e: e.segs[0].__setitem__(4, 0x2000)),
            "segment 1: file size 0x2000 is larger than memory size 0x1000"),
        elf("offset-past-4g",
            with_(lambda e: e.segs[0].__setitem__(1, 0xFFFFF800)),
            "segment 1: file range 0xfffff800 + 0x800 runs past 4 GiB"),
        elf("memory-past-4g", with_(lambda e: (
            e.segs[0].__setitem__(3, 0xFFFFF000),
            e.segs[0].__setitem__(2, 0xFFFFF000),
            setattr(e, "entry", 0xFFFFF000))),
            "segment 1: memory range 0xfffff000 + 0x1000 lies beyond 4 GiB"),
        elf("overlapping-segments",
            with_(lambda e: e.seg(0x100800, 0x100, 0x1000)),
            "segments 1 and 2 overlap: [0x100000, 0x101000) and [0x100800, "
            "0x101800)"),
        elf("too-many-segments", with_(lambda e: [
            e.seg(0x200000 + i * PAGE, 0x10, 0x10) for i in range(16)]),
            "more than 16 loadable ELF segments"),
        elf("entry-outside", with_(lambda e: setattr(e, "entry", 0x300000)),
            "entry point 0x300000 is outside every segment"),
        elf("segment-over-ivt", with_(lambda e: (
            e.seg(0x0, 0x100, 0x100))),
            "[0x00000000, 0x00000100) kernel.elf segment 2 overlaps "
            "[0x00000000, 0x00000500) IVT and BIOS data area",
            efi=EFI_BOOTS),
        elf("segment-over-stack", with_(lambda e: e.seg(0x1000, 0x100,
                                                        0x100)),
            "[0x00001000, 0x00001100) kernel.elf segment 2 overlaps "
            "[0x00000500, 0x00007c00) Pulsar stack", efi=EFI_BOOTS),
        elf("segment-over-pulsar", with_(lambda e: e.seg(0x8000, 0x100,
                                                         0x100)),
            "[0x00008000, 0x00008100) kernel.elf segment 2 overlaps "
            "[0x00007c00, 0x0008c400) Pulsar image and heap",
            why="the heap ends 64 KiB below free base memory, the room a "
            "Linux setup needs", efi=EFI_BOOTS),
        elf("segment-over-pxe", with_(lambda e: e.seg(0x9d000, 0x100,
                                                      0x100)),
            "[0x0009d000, 0x0009d100) kernel.elf segment 2 overlaps "
            "[0x0009c400, 0x00100000) EBDA, PXE stack and BIOS",
            efi=EFI_BOOTS),
        elf("segment-over-bios", with_(lambda e: e.seg(0xF0000, 0x100,
                                                       0x100)),
            "[0x000f0000, 0x000f0100) kernel.elf segment 2 is not in usable "
            "RAM ([0x0009fc00, 0x00100000) is not RAM)",
            efi="[0x000f0000, 0x000f0100) kernel.elf segment 2 is not in "
            "usable RAM ([0x000a0000, 0x00100000) is not RAM)"),
        elf("segment-over-flash", with_(lambda e: (
            e.seg(0xFFFC0000, 0x100, 0x100))),
            "[0xfffc0000, 0xfffc0100) kernel.elf segment 2 is not in usable "
            "RAM ([0x07fe0000, 0x100000000) is not RAM)",
            efi="[0xfffc0000, 0xfffc0100) kernel.elf segment 2 is not in "
            "usable RAM ([0x07ef4000, 0x100000000) is not RAM)"),
        elf("segment-in-no-ram", with_(lambda e: e.seg(0x10000000, 0x100,
                                                       0x100000)),
            "[0x10000000, 0x10100000) kernel.elf segment 2 is not in usable "
            "RAM ([0x07fe0000, 0x100000000) is not RAM)",
            efi="[0x10000000, 0x10100000) kernel.elf segment 2 is not in "
            "usable RAM ([0x07ef4000, 0x100000000) is not RAM)"),
        elf("segment-across-ram-end", with_(lambda e: e.seg(
            0x7FD0000, 0x100, 0x20000)),
            "[0x07fd0000, 0x07ff0000) kernel.elf segment 2 is not in usable "
            "RAM ([0x07fe0000, 0x100000000) is not RAM)",
            efi="[0x07fd0000, 0x07ff0000) kernel.elf segment 2 is not in "
            "usable RAM ([0x07ef4000, 0x100000000) is not RAM)"),
    ]


# ---------------------------------------------------- Multiboot2, gzip

def mb2_image(tags, arch=0, sum_delta=0, at=0x200, size=0x1000):
    """A flat file with a Multiboot2 header at @at: @tags is a list of
    (type, flags, [u32 words]); the end tag is added unless a tag list
    ends with None."""
    body = b""
    end = True
    for t in tags:
        if t is None:
            end = False
            continue
        typ, flags, words = t
        tag = struct.pack("<HHI", typ, flags, 8 + 4 * len(words)) + \
            b"".join(struct.pack("<I", w) for w in words)
        body += tag + b"\0" * (-len(tag) % 8)
    if end:
        body += struct.pack("<HHI", 0, 0, 8)
    hlen = 16 + len(body)
    hdr = struct.pack("<IIII", 0xE85250D6, arch, hlen,
                      (-(0xE85250D6 + arch + hlen) + sum_delta) & 0xFFFFFFFF)
    data = bytearray(size)
    data[at:at + hlen] = hdr + body
    return bytes(data)


ADDR = (2, 0, [0x100200, 0x100000, 0, 0x102000])
ENTRY = (3, 0, [0x100400])


def mb2_cases():
    """Multiboot2 headers (loader/mb2hdr.c) and gzip kernels (the same
    session path, unpacked on the way)."""
    kernel_gz = gzip.compress(Elf().build(), 9, mtime=0)
    bad_method = bytearray(kernel_gz)
    bad_method[2] = 7
    bad_crc = bytearray(kernel_gz)
    bad_crc[-8] ^= 0xFF
    return [
        elf("mb2-bad-checksum", mb2_image([ADDR, ENTRY], sum_delta=1),
            "multiboot2 header at 0x200: bad checksum"),
        elf("mb2-architecture", mb2_image([ADDR, ENTRY], arch=4),
            "multiboot2 header at 0x200: architecture 4 is not i386 (0)"),
        elf("mb2-requires-efi-mmap",
            mb2_image([(1, 0, [1, 6, 17]), ADDR, ENTRY]),
            "multiboot2 header at 0x200: the kernel requires the EFI memory "
            "map information tag (type 17), which Pulsar cannot give here",
            why="a BIOS has no EFI memory map (pulsar.efi gives it); "
                "optional requests are skipped", efi=EFI_BOOTS),
        elf("mb2-unknown-tag", mb2_image([ADDR, ENTRY, (42, 0, [0])]),
            "multiboot2 header tag at 0x238: type 42 is unknown to Pulsar "
            "and not marked optional"),
        elf("mb2-tag-too-short", mb2_image([(10, 0, [0]), ADDR, ENTRY]),
            "multiboot2 header tag at 0x210: type 10 needs 24 bytes, has "
            "12"),
        elf("mb2-no-end-tag", mb2_image([ADDR, ENTRY, None]),
            "multiboot2 header at 0x200: no end tag within its 56 bytes"),
        elf("mb2-address-without-entry", mb2_image([ADDR]),
            "multiboot2 header at 0x200: an address tag but no entry "
            "address tag"),
        elf("mb2-reloc-alignment",
            mb2_image([ADDR, ENTRY, (10, 0, [0x200000, 0x1000000, 0x3000,
                                             0])]),
            "multiboot2 header at 0x200: relocatable tag: alignment 0x3000 "
            "is not a power of two"),
        elf("mb2-reloc-no-room",
            mb2_image([ADDR, ENTRY, (10, 0, [0x10000000, 0x20000000,
                                             0x1000, 0])]),
            "no room for the relocatable image's 0x2000 bytes at alignment "
            "0x1000 in 0x10000000-0x20000000",
            why="the fixture's RAM ends below 128 MiB"),
        elf("gzip-truncated", kernel_gz[:len(kernel_gz) // 2],
            "gzip: the file ends inside the gzip stream at byte %d of the "
            "file" % (len(kernel_gz) // 2)),
        elf("gzip-bad-crc", bytes(bad_crc),
            "gzip: CRC-32 mismatch in the gzip trailer at byte %d of the "
            "file" % (len(kernel_gz) - 8)),
        elf("gzip-not-deflate", bytes(bad_method),
            "gzip: not a deflate gzip header at byte 0 of the file"),
    ]


# ------------------------------------------------------------- bzImage

def bz(name, change, expect, args=None, why=""):
    """A bzImage case: a default BzImage changed by @change; @expect after
    "config-test:3: exec: linux/bzImage: "."""
    b = BzImage()
    change(b)
    return Case("bzimage", name, b.build(),
                "config-test:3: exec: linux/bzImage: " + expect, why=why,
                args=args)


def bzimage_cases():
    return [
        bz("old-protocol", lambda b: setattr(b, "version", 0x0201),
           "Linux boot protocol 2.01 is older than 2.02"),
        bz("protocol-zero", lambda b: setattr(b, "version", 0),
           "Linux boot protocol 0.00 is older than 2.02",
           why="a zero version is old, not missing"),
        bz("bad-boot-flag", lambda b: setattr(b, "boot_flag", 0x1234),
           "boot flag 0x1234 is not 0xaa55"),
        bz("setup-sects-too-many", lambda b: setattr(b, "setup_sects", 64),
           "setup_sects 64: the setup exceeds 32 KiB",
           why="a bad setup_sects"),
        bz("setup-past-file", lambda b: (setattr(b, "setup_sects", 60),
                                         setattr(b, "kernel_len", 0),
                                         setattr(b, "size", 0x2000),
                                         setattr(b, "syssize", 0)),
           "truncated: 8192 bytes where its header needs 31233",
           why="setup_sects says more than the file holds"),
        bz("syssize-past-file", lambda b: setattr(b, "syssize", 0x10000),
           "truncated: 14848 bytes where its header needs 1051121"),
        bz("zimage", lambda b: setattr(b, "loadflags", 0),
           "loadflags lack LOADED_HIGH: a zImage, not a bzImage"),
        bz("alignment-not-power-of-two",
           lambda b: setattr(b, "kernel_alignment", 0x300000),
           "kernel_alignment 0x300000 is not a power of two"),
        bz("cmdline-too-long", lambda b: setattr(b, "cmdline_size", 20),
           "command line of 36 bytes, over cmdline_size 20",
           args="console=ttyS0 root=/dev/ram0 quiet x",
           why="a command line longer than cmdline_size"),
        bz("init-size-past-4g", lambda b: (
            setattr(b, "relocatable", 0), setattr(b, "pref_address", 0),
            setattr(b, "init_size", 0xFFFFF000)),
           "init_size 0xfffff000 past 4 GiB"),
        bz("header-truncated", lambda b: setattr(b, "size", 0x220),
           "truncated: 544 bytes where its header needs 612"),
    ]


# --------------------------------------------------------------- DHCP

def dhcp(siaddr="10.0.2.2", yiaddr="10.0.2.15", op=2, hlen=6, options=b"",
         cookie=True, size=None, file_field=b"", sname=b""):
    """A cached DHCPACK: BOOTP header, cookie, @options (END added)."""
    p = bootp(op=op, hlen=hlen, yiaddr=yiaddr, siaddr=siaddr,
              chaddr=bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56]), sname=sname,
              file=file_field, options=bytes([53, 1, 5]) + options + b"\xff"
              if cookie else None)
    return p if size is None else p[:size]


def dh(name, data, expect, why=""):
    return Case("dhcp", name, data, expect, why=why)


def dhcp_cases():
    return [
        dh("too-short", dhcp(size=100), "the cached DHCP reply is 100 bytes, "
           "shorter than a BOOTP packet (236)"),
        dh("empty", b"", "the cached DHCP reply is 0 bytes, shorter than a "
           "BOOTP packet (236)"),
        dh("not-a-reply", dhcp(op=1), "the cached DHCP reply is not a BOOTP "
           "reply (op 1)"),
        dh("hlen-zero", dhcp(hlen=0), "the cached DHCP reply has a hardware "
           "address of 0 bytes (1 to 16 expected)"),
        dh("hlen-huge", dhcp(hlen=17), "the cached DHCP reply has a "
           "hardware address of 17 bytes (1 to 16 expected)"),
        dh("no-client-ip", dhcp(yiaddr="0.0.0.0"), "the cached DHCP reply "
           "gives this machine no IP address (yiaddr and ciaddr are "
           "0.0.0.0)"),
        dh("no-next-server", dhcp(siaddr="0.0.0.0"), "the DHCP reply names "
           "no TFTP server (next-server / siaddr is 0.0.0.0)"),
        dh("next-server-broadcast", dhcp(siaddr="255.255.255.255"),
           "the DHCP reply's next-server (siaddr) 255.255.255.255 is not a "
           "unicast address"),
        dh("next-server-loopback", dhcp(siaddr="127.0.0.1"),
           "the DHCP reply's next-server (siaddr) 127.0.0.1 is not a "
           "unicast address"),
        dh("next-server-multicast", dhcp(siaddr="224.0.0.1"),
           "the DHCP reply's next-server (siaddr) 224.0.0.1 is not a "
           "unicast address"),
        dh("option-truncated", dhcp(options=bytes([17, 40]) + b"demo")[:-1],
           "DHCP option 17 at offset 3 runs past the end of the options "
           "(9 bytes)", why="a length byte that promises 40"),
        dh("option-no-length", dhcp(options=b"")[:-1] + bytes([54]),
           "DHCP option 54 at offset 3 runs past the end of the options "
           "(4 bytes)"),
        dh("root-path-too-long", dhcp(options=opt(17, b"r" * 200)),
           "DHCP option 17 (root-path) is 200 bytes; Pulsar takes at most "
           "127"),
        dh("root-path-nul-inside", dhcp(options=opt(17, b"demo\0x")),
           "DHCP option 17 (root-path) has a NUL byte inside it"),
        dh("root-path-twice", dhcp(options=opt(17, b"a") + opt(17, b"b")),
           "DHCP option 17 (root-path) appears more than once (a split long "
           "option); Pulsar takes one of at most 127 bytes"),
        dh("overload-bad-length", dhcp(options=opt(52, b"\x01\x01")),
           "DHCP option 52 (overload) is malformed: length 2, value 1"),
        dh("overload-bad-value", dhcp(options=opt(52, b"\x07")),
           "DHCP option 52 (overload) is malformed: length 1, value 7"),
        dh("overload-file-truncated", dhcp(
            options=opt(52, b"\x01"),
            file_field=b"\x00" * 120 + bytes([17, 30]) + b"abcdef"),
           "DHCP option 17 at offset 120 runs past the end of the file "
           "field (128 bytes)"),
        dh("overload-sname-truncated", dhcp(
            options=opt(52, b"\x02"), sname=opt(17, b"s" * 63)[:64]),
           "DHCP option 17 at offset 0 runs past the end of the sname field "
           "(64 bytes)"),
        dh("overload-root-twice", dhcp(
            options=opt(52, b"\x01") + opt(17, b"a"),
            file_field=opt(17, b"b")),
           "DHCP option 17 (root-path) appears more than once (a split long "
           "option); Pulsar takes one of at most 127 bytes",
           why="once in the options, once in the overloaded file field"),
    ]


def all_cases():
    """Every case of the table, in order."""
    return (config_cases() + elf_cases() + mb2_cases() + bzimage_cases() +
            dhcp_cases())


def write(outdir):
    """Write every case under @outdir (see the module doc)."""
    names = set()
    index = []
    for c in all_cases():
        key = (c.kind, c.name)
        if key in names:
            raise SystemExit("gen.py: duplicate case %s/%s" % key)
        names.add(key)
        d = os.path.join(outdir, c.kind)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, c.name + ".in"), "wb") as f:
            f.write(c.data)
        with open(os.path.join(d, c.name + ".expect"), "w") as f:
            f.write(c.expect + "\n")
        if c.efi is not None:
            with open(os.path.join(d, c.name + ".expect-efi"), "w") as f:
                f.write(c.efi + "\n" if c.efi else "")
        if c.args is not None:
            with open(os.path.join(d, c.name + ".args"), "w") as f:
                f.write(c.args)
        for rel, text in c.files.items():
            path = os.path.join(d, c.name + ".files", rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        index.append("%s %s" % key)
    with open(os.path.join(outdir, "index"), "w") as f:
        f.write("\n".join(index) + "\n")
    return index


def main(argv):
    if argv[1:] == ["--list"]:
        for c in all_cases():
            print("%-7s %-34s %s" % (c.kind, c.name, c.expect))
            if c.efi is not None:
                print("%-7s %-34s %s" % ("", "(pulsar.efi)",
                                         c.efi or "boots"))
        return 0
    if len(argv) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    n = len(write(argv[1]))
    print("tests/malformed/gen.py: %d cases in %s" % (n, argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
