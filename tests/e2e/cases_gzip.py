"""gzip-compressed kernels and modules end to end (issue 18).

`exec` takes a gzip file by its magic: the Multiboot2 and the Multiboot 1
test kernels, gzipped, boot with the demo modules and every report value
is checked as for the plain files (the kernel's code CRC included, so the
unpacked bytes are the file's).  A module is passed as it is unless the
config says `load --unzip`; then its unpacked bytes must reach the kernel
(size and CRC-32 of the original).  A truncated and a corrupted gzip
kernel are refused with the file, the config line and the byte offset
named.
"""

import gzip

from . import harness
from .cases_mb2 import Mb2Case, read_variant


def gz(data):
    """@data gzipped as distributions ship kernels (level 9, with mtime 0
    for a reproducible file)."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def damaged_kernel(opts, name, damage, reason):
    """The gzipped Multiboot2 kernel with @damage (bytes -> bytes)
    applied: refused with the message @reason(packed file) gives, whole
    (the byte offset included)."""
    def packed():
        return gz(read_variant(opts, "testkernel-mb2.elf"))

    def files(case):
        mods = harness.demo_modules()
        return {"demo/kernel.elf": damage(packed()),
                "demo/module1.bin": mods["module1.bin"]}
    config = ("root demo\nexec kernel.elf console=serial\n"
              "load module1.bin first module\n")
    prefix = ("pulsar: error: %s:2: exec: demo/kernel.elf: gzip: "
              % harness.CONFIG_NAME)

    def patterns(text):
        want = prefix + reason(packed())
        return [("`%s`" % want, lambda ln: ln.rstrip() == want)]
    return harness.ErrorCase(opts, name, config, files, patterns)


def flip(at):
    """A damage function flipping the byte at @at (negative: from the end)."""
    def damage(data):
        b = bytearray(data)
        b[at] ^= 0x55
        return bytes(b)
    return damage


def cases(opts):
    """The gzip cases."""
    def cut(data):
        return data[:len(data) // 2]

    return [
        Mb2Case(opts, "gzip-exec-mb2", "testkernel-mb2.elf", pack=gz,
                syms=False,
                console=["multiboot2 ELF32", lambda o: "unpacked from %d "
                         "bytes of gzip" % len(gz(read_variant(
                             o, "testkernel-mb2.elf")))]),
        # No section headers from a gzip file: its unpacked size (which
        # the capture needs before the end) is only known at the end.
        Mb2Case(opts, "gzip-exec-mb1", "testkernel.elf", pack=gz, mb1=True,
                console=["multiboot ELF32, ", lambda o: "unpacked from %d "
                         "bytes of gzip" % len(gz(read_variant(
                             o, "testkernel.elf")))]),
        Mb2Case(opts, "gzip-module-unzip", "testkernel-mb2.elf", pack=gz,
                load_opt="--unzip", syms=False,
                console=["demo/module1.bin: 2097152 bytes at ",
                         "unpacked from %d bytes of gzip"
                         % len(gz(harness.demo_modules()["module1.bin"]))]),
        # Without --unzip a gzip module reaches the kernel as it is.
        Mb2Case(opts, "gzip-module-intact", "testkernel-mb2.elf", pack=gz,
                load_opt="", syms=False,
                console=["demo/module1.bin: %d bytes at "
                         % len(gz(harness.demo_modules()["module1.bin"]))]),
        # Cut in half: the stream ends where the file does.
        damaged_kernel(opts, "gzip-truncated", cut,
                       lambda p: "the file ends inside the gzip stream at "
                       "byte %d of the file" % (len(p) // 2)),
        # The trailer's CRC-32 (the last 8 bytes: CRC, then length).
        damaged_kernel(opts, "gzip-corrupt", flip(-8),
                       lambda p: "CRC-32 mismatch in the gzip trailer at "
                       "byte %d of the file" % (len(p) - 8)),
    ]
