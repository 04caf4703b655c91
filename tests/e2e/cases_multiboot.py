"""Multiboot formats and header flags end to end (issue 4).

Pulsar boots each build of the test kernel -- ELF32, ELF64, the a.out
kludge flat binary, an ELF that also sets header bit 16, and the
video-requesting builds -- with the demo modules, and every report value
is checked as for the plain kernel (module CRCs, command lines, memory
map, placement) plus what the format changes (section headers, video:
mb-video's framebuffer also lies inside the display adapter's PCI BAR 0,
as the test kernel checks and reports in `TK fb_bar=`).
The error cases patch the good kernel's bytes (an unknown required flag,
overlapping segments, an entry outside every segment, an ELF64 segment
above 4 GiB) or ask for impossible placements, and check Pulsar's
message names the file, the config line and the reason.
"""

import os

from lab import qemu
from lab.images import (aout_span, patch_elf32, patch_elf64_paddr,
                        with_mb_flags)

from . import harness
from .harness import CheckFailed, Checker


def variant(opts, name):
    """Path of a test kernel build next to opts.kernel."""
    return os.path.join(os.path.dirname(opts.kernel) or ".", name)


def read(path):
    """The bytes of @path."""
    with open(path, "rb") as f:
        return f.read()


class FormatCase(harness.Case):
    """Pulsar boots one build of the test kernel with the demo modules;
    check_boot's checks plus @values (key -> expected raw report value),
    @markers (bare report words), @keys (report values that must be there)
    and @console (Pulsar console texts)."""

    def __init__(self, opts, name, kernel, span, required, values=None,
                 markers=(), console=(), qemu_extra=(), keys=()):
        super().__init__(opts)
        self.keys = keys
        self.name = name
        self.kernel_fn = kernel
        self.span_fn = span
        self.required = required
        self.values = values or {}
        self.want_markers = markers
        self.console = console
        self.qemu_extra = list(qemu_extra)

    def run(self, tmp):
        config = harness.DEMO_CONFIG
        modules = harness.demo_modules()
        files = {"demo/kernel.elf": self.kernel_fn(self)}
        files.update(("demo/" + k, v) for k, v in modules.items())
        root = self.write_tftp(tmp, config, files)
        items = harness.config_items(config)
        exp = {
            "kernel_cmdline": [i for i in items if i["kind"] == "exec"][-1]
            ["cmdline"],
            "cmdline_exact": True,
            "loader_prefix": "Pulsar",
            "modules": [(it["cmdline"], modules[it["name"]])
                        for it in items if it["kind"] == "load"],
            "addr": None,
            "kernel_span": self.span_fn(self),
            "required_flags": self.required,
        }
        log = os.path.join(tmp, "serial.log")
        rc, text, secs, ended = harness.run_qemu(
            qemu.pxe(root, log, extra=self.qemu_extra), log,
            self.opts.timeout)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s" % self.opts.timeout])
        ck = Checker()
        try:
            rep = harness.check_boot(text, rc, exp)
        except CheckFailed as e:
            ck.failures.extend(e.args[0])
            rep = harness.parse_report(text)
        for key, want in self.values.items():
            got = rep["values"].get(key)
            ck.expect(got == want, "TK %s=%s, expected %s" % (key, got, want))
        for word in self.want_markers:
            ck.expect(word in rep["markers"], "no `TK %s`" % word)
        for key in self.keys:
            ck.expect(key in rep["values"], "no `TK %s=` line" % key)
        for piece in self.console:
            ck.expect(any(ln.startswith("pulsar: ") and piece in ln
                          for ln in text.splitlines()),
                      "no Pulsar console line with %r" % piece)
        ck.done()
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


ALL = sorted(harness.FLAG_KEYS)
NO_SYMS = [b for b in ALL if b != 5]


def elf32_span(case):
    """The span of the ELF32 build (the ELF64 one is the same link)."""
    return harness.elf_span(read(case.opts.kernel))


def exec_line(text):
    """The config line number of the exec line in @text."""
    return [it for it in harness.config_items(text)
            if it["kind"] == "exec"][0]["line"]


def kernel_error(opts, name, image_fn, reason, config=None):
    """Pulsar refuses the kernel @image_fn builds with @reason named."""
    config = config or ("# %s\nroot demo\nexec kernel.elf console=serial\n"
                        "load module1.bin first module\n" % name)

    def files(case):
        return {"demo/kernel.elf": image_fn(case),
                "demo/module1.bin": harness.demo_modules()["module1.bin"]}

    def patterns(text):
        prefix = "pulsar: error: %s:%d: exec: demo/kernel.elf: " % (
            harness.CONFIG_NAME, exec_line(text))
        return [("`%s...%s`" % (prefix, reason),
                 lambda ln: ln.startswith(prefix) and reason in ln)]
    return harness.ErrorCase(opts, name, config, files, patterns)


class SparseErrorCase(harness.ErrorCase):
    """An ErrorCase whose TFTP root also holds sparse files (path -> size):
    huge to the server's tsize, nothing on disk."""

    def __init__(self, opts, name, config, files, patterns, sparse):
        super().__init__(opts, name, config, files, patterns)
        self.sparse = sparse

    def write_tftp(self, tmp, config, files):
        root = super().write_tftp(tmp, config, files)
        for rel, size in self.sparse.items():
            with open(os.path.join(root, rel), "wb") as f:
                f.truncate(size)
        return root


def cases(opts):
    """The format, video and error cases."""
    k32 = lambda c: read(c.opts.kernel)
    k64 = lambda c: read(variant(c.opts, "testkernel64.elf"))
    aout_bin = lambda c: read(variant(c.opts, "testkernel-aout.bin"))
    aout_elf = lambda c: read(variant(c.opts, "testkernel-aout.elf"))
    out = [
        FormatCase(opts, "mb-elf64", k64, elf32_span, ALL,
                   values={"syms_size": "64", "syms_num": "7"},
                   console=["multiboot ELF64"]),
        FormatCase(opts, "mb-aout", aout_bin,
                   lambda c: aout_span(aout_bin(c)), NO_SYMS,
                   markers=["no_syms"],
                   console=["multiboot a.out kludge, 00100000-"]),
        # An ELF that sets bit 16 is loaded by its address fields (spec,
        # GRUB 2): with e_entry pointing nowhere it still boots, and the
        # kernel gets no section headers (the ELF path would give them).
        FormatCase(opts, "mb-elf-with-kludge-bit",
                   lambda c: patch_elf32(aout_elf(c), entry=0xDEADBEEF),
                   lambda c: aout_span(aout_elf(c)), NO_SYMS,
                   markers=["no_syms"], console=["multiboot a.out kludge"]),
        FormatCase(opts, "mb-video",
                   lambda c: read(variant(c.opts, "testkernel-video.elf")),
                   elf32_span, ALL,
                   values={"fb_type": "1", "fb_width": "800",
                           "fb_height": "600", "fb_bpp": "32",
                           "dispi_enabled": "1",
                           "dispi_mode": "800x600x32"},
                   console=["video: VBE mode 0x", "800x600x32"],
                   qemu_extra=["-vga", "std"], keys=["fb_bar"]),
        FormatCase(opts, "mb-video-fallback",
                   lambda c: read(variant(c.opts, "testkernel-novideo.elf")),
                   elf32_span, ALL,
                   values={"fb_type": "2", "fb_width": "80",
                           "fb_height": "25", "vbe_mode": "0x00000003",
                           "dispi_enabled": "0"},
                   console=["video: no 1234x567x32 direct-colour mode",
                            "staying in text mode"],
                   qemu_extra=["-vga", "std"]),
        kernel_error(opts, "mb-err-flag-bit",
                     lambda c: with_mb_flags(k32(c), 1 << 5),
                     "multiboot header flag bit 5 (unknown) required by "
                     "the kernel but not supported"),
        kernel_error(opts, "mb-err-overlap",
                     lambda c: patch_elf32(k32(c), phdr=(1, 12, 0x101000)),
                     "segments 1 and 2 overlap: [0x100000, "),
        kernel_error(opts, "mb-err-entry",
                     lambda c: patch_elf32(k32(c), entry=0x900000),
                     "entry point 0x900000 is outside every segment"),
        kernel_error(opts, "mb-err-elf64-high",
                     lambda c: patch_elf64_paddr(k64(c), 1, 1 << 32),
                     "segment 2 lies beyond 4 GiB"),
    ]

    # addr on top of the kernel: refused with both ranges.
    cfg = ("# addr over the kernel\nroot demo\nexec kernel.elf\n"
           "addr 0x100000\nload module1.bin first module\n")

    def addr_files(case):
        return {"demo/kernel.elf": k32(case),
                "demo/module1.bin": harness.demo_modules()["module1.bin"]}

    def addr_patterns(text):
        line = [it for it in harness.config_items(text)
                if it["kind"] == "load"][0]["line"]
        prefix = "pulsar: error: %s:%d: load: demo/module1.bin: " % (
            harness.CONFIG_NAME, line)
        want = "[0x00100000, 0x00300000) module1.bin overlaps [0x00100000, "
        return [("`%s%s... kernel.elf segment 1`" % (prefix, want),
                 lambda ln: ln.startswith(prefix) and want in ln
                 and "kernel.elf segment 1" in ln)]
    out.append(harness.ErrorCase(opts, "mb-err-addr-over-kernel", cfg,
                                 addr_files, addr_patterns))

    # A module bigger than free RAM: refused by its TFTP size, before the
    # transfer (200 MiB would take minutes under TCG; the file is sparse).
    cfg = ("# module too big\nroot demo\nexec kernel.elf\n"
           "load module1.bin first module\nload huge.bin\n")

    def huge_patterns(text):
        line = [it for it in harness.config_items(text)
                if it["name"] == "huge.bin"][0]["line"]
        prefix = "pulsar: error: %s:%d: load: demo/huge.bin: %d bytes do " \
                 "not fit" % (harness.CONFIG_NAME, line, 200 << 20)
        return [("`%s...`" % prefix, lambda ln: ln.startswith(prefix)),
                ("no transfer of huge.bin started",
                 lambda ln: "huge.bin" in ln and "error" in ln)]
    out.append(SparseErrorCase(opts, "mb-err-module-too-big", cfg,
                               addr_files, huge_patterns,
                               {"demo/huge.bin": 200 << 20}))
    return out
