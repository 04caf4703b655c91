"""GRUB as the oracle (issue 4).

For each build of the test kernel (ELF32, ELF64, the a.out kludge flat
binary) the harness builds a GRUB 2 rescue ISO (grub-mkrescue; packages
grub-pc-bin, grub-common, xorriso, mtools) whose grub.cfg boots the same
kernel with the same modules and command lines through GRUB's own
`multiboot` and `module` commands, boots it under QEMU (-cdrom, TCG),
then boots the same files through Pulsar over PXE.  Both reports must
pass every check_boot check, and they must agree on everything but
addresses and the loader name:

- the kernel command line and each module's command line, size and CRC;
- the info flags both loaders claim (MULTIBOOT_COMPARED below);
- mem_lower and mem_upper;
- every memory-map entry (base, length, type);
- the section headers (count, entry size, and the kernel's own lookup of
  tk_main through them), where the format has them;
- the framebuffer GRUB and Pulsar describe (EGA text, 80x25).

The documented differences, not compared: flag 1 (boot_device: GRUB
booted from a CD, Pulsar from the network has no BIOS boot drive), flags
7 and 8 (Pulsar gives an empty drive list and the BIOS config table,
GRUB 2 gives neither), the VBE blocks' addresses and contents.

The command lines differ by convention: Pulsar passes "name args" (the
file name as written in the config, then the arguments), while GRUB 2
(2.06 as Debian 12 packages it) passes only the arguments.  So the
files have the same names on both sides (/kernel.elf, /module1.bin, ...
at the TFTP root and the ISO root) and Pulsar's command line must equal
"/name " followed by GRUB's.  GRUB joins a command's words with single
spaces, so the arguments here use single spaces.
"""

import os
import shutil
import subprocess

from lab import qemu
from lab.images import aout_span

from . import cases_multiboot as mb
from . import harness
from .harness import CheckFailed, Checker

# Info flags compared between GRUB and Pulsar: memory, cmdline, modules,
# ELF section headers, mmap, loader name, VBE, framebuffer.
MULTIBOOT_COMPARED = (1 << 0) | (1 << 2) | (1 << 3) | (1 << 5) | (1 << 6) | \
    (1 << 9) | (1 << 11) | (1 << 12)

KERNEL_ARGS = "console=serial oracle=1"
MODULE_ARGS = {"module1.bin": "first module", "module2.bin": "second module"}

# Report values that must be equal when both reports have them.
SAME_VALUES = ["mem_lower", "mem_upper", "mods_count",
               "mmap_count", "syms_num", "syms_size", "syms_shndx",
               "syms_tk_main", "fb_type", "fb_width", "fb_height", "fb_bpp",
               "fb_pitch", "fb_addr", "kernel"]


def grub_cfg(kernel, version=""):
    """A grub.cfg that boots @kernel with the demo modules at once
    (@version "2": through GRUB's multiboot2 and module2)."""
    lines = ["set timeout=0", "set default=0",
             "menuentry \"pulsar-oracle\" {",
             "    multiboot%s /%s %s" % (version, kernel, KERNEL_ARGS)]
    for name, args in MODULE_ARGS.items():
        lines.append("    module%s /%s %s" % (version, name, args))
    lines += ["    boot", "}", ""]
    return "\n".join(lines)


def pulsar_cfg(kernel):
    """The Pulsar config asking for exactly what grub_cfg asks for."""
    lines = ["# GRUB oracle", "exec /%s %s" % (kernel, KERNEL_ARGS)]
    for name, args in MODULE_ARGS.items():
        lines.append("load /%s %s" % (name, args))
    return "\n".join(lines) + "\n"


class GrubOracleCase(harness.Case):
    """Boot @kernel_fn's bytes under GRUB and under Pulsar; compare."""

    def __init__(self, opts, name, fname, kernel_fn, span_fn, required):
        super().__init__(opts)
        self.name = name
        self.fname = fname
        self.kernel_fn = kernel_fn
        self.span_fn = span_fn
        self.required = required

    def run_logged(self, tmp, which, args):
        """Run QEMU with @args (@which: "grub" or "pulsar"), keeping its
        serial log for a failure; returns rc, the log text, seconds."""
        log = os.path.join(tmp, "serial-%s.log" % which)
        rc, text, secs, ended = harness.run_qemu(args, log, self.opts.timeout)
        self.log_text = (getattr(self, "log_text", "") +
                         "=== %s ===\n" % which + text)
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["%s: timed out after %d s"
                               % (which, self.opts.timeout)])
        return rc, text, secs

    def boot(self, tmp, which, args, modules):
        """Run QEMU with @args; check the report; return it."""
        rc, text, secs = self.run_logged(tmp, which, args)
        # Each loader's own convention (see the module doc string).
        name = (lambda n: "") if which == "grub" else (lambda n: "/%s " % n)
        exp = {
            "kernel_cmdline": name(self.fname) + KERNEL_ARGS,
            "cmdline_exact": True,
            "loader_prefix": "GRUB" if which == "grub" else "Pulsar",
            "modules": [(name(n) + a, modules[n])
                        for n, a in MODULE_ARGS.items()],
            "addr": None,
            "kernel_span": self.span_fn(self),
            "required_flags": self.required if which == "pulsar"
            else [0, 2, 3, 6, 9],
        }
        try:
            return harness.check_boot(text, rc, exp), secs
        except CheckFailed as e:
            raise CheckFailed(["%s: %s" % (which, f) for f in e.args[0]])

    def grub_iso(self, tmp, cfg, files):
        """A GRUB rescue ISO booting with @cfg, @files at its root."""
        if not shutil.which("grub-mkrescue"):
            raise CheckFailed(["grub-mkrescue is not installed "
                               "(sh scripts/deps.sh)"])
        iso_dir = os.path.join(tmp, "iso")
        os.makedirs(os.path.join(iso_dir, "boot", "grub"))
        with open(os.path.join(iso_dir, "boot", "grub", "grub.cfg"),
                  "w") as f:
            f.write(cfg)
        for name, data in files.items():
            with open(os.path.join(iso_dir, name), "wb") as f:
                f.write(data)
        iso = os.path.join(tmp, "grub.iso")
        mk = subprocess.run(["grub-mkrescue", "-o", iso, iso_dir],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=300)
        if mk.returncode != 0 or not os.path.isfile(iso):
            raise CheckFailed(["grub-mkrescue failed: " + mk.stdout.decode(
                "utf-8", "replace")[-400:]])
        return iso

    def run(self, tmp):
        modules = harness.demo_modules()
        files = {self.fname: self.kernel_fn(self)}
        files.update(modules)

        # GRUB: an ISO with the files at its root.
        iso = self.grub_iso(tmp, grub_cfg(self.fname), files)
        grub, s1 = self.boot(tmp, "grub", qemu.command(
            serial=os.path.join(tmp, "serial-grub.log"), boot="d",
            extra=["-cdrom", iso]), modules)

        # Pulsar: the same files at the TFTP root.
        root = self.write_tftp(tmp, pulsar_cfg(self.fname), files)
        pulsar, s2 = self.boot(tmp, "pulsar", qemu.pxe(
            root, os.path.join(tmp, "serial-pulsar.log")), modules)

        ck = Checker()
        gv, pv = grub["values"], pulsar["values"]
        gflags, pflags = int(gv["flags"], 16), int(pv["flags"], 16)
        ck.expect(gflags & MULTIBOOT_COMPARED == pflags & MULTIBOOT_COMPARED,
                  "flags differ in the compared bits: GRUB %#010x, Pulsar "
                  "%#010x (mask %#x)" % (gflags, pflags, MULTIBOOT_COMPARED))
        for key in SAME_VALUES:
            if key in gv or key in pv:
                ck.expect(gv.get(key) == pv.get(key), "%s: GRUB %r, Pulsar "
                          "%r" % (key, gv.get(key), pv.get(key)))
        gcmd = harness.unescape(gv["cmdline"])
        pcmd = harness.unescape(pv["cmdline"])
        ck.expect(pcmd == "/%s %s" % (self.fname, gcmd), "cmdline: GRUB %r, "
                  "Pulsar %r (expected \"/%s \" + GRUB's)"
                  % (gcmd, pcmd, self.fname))
        names = list(MODULE_ARGS)
        for a, b in zip(grub["mods"], pulsar["mods"]):
            for key in ("size", "crc32"):
                ck.expect(a[key] == b[key], "mod %d %s: GRUB %r, Pulsar %r"
                          % (a["idx"], key, a[key], b[key]))
            ck.expect(b["cmdline"] == "/%s %s" % (names[a["idx"]],
                                                  a["cmdline"]),
                      "mod %d cmdline: GRUB %r, Pulsar %r" % (
                          a["idx"], a["cmdline"], b["cmdline"]))
        gm = [(e["base"], e["len"], e["type"]) for e in grub["mmap"]]
        pm = [(e["base"], e["len"], e["type"]) for e in pulsar["mmap"]]
        ck.expect(gm == pm, "memory maps differ: GRUB %s, Pulsar %s"
                  % (["%#x+%#x:%d" % e for e in gm],
                     ["%#x+%#x:%d" % e for e in pm]))
        ck.done()
        return {"secs": s1 + s2}


def cases(opts):
    """The GRUB comparison for the ELF32, ELF64 and a.out kludge builds."""
    k32 = lambda c: mb.read(c.opts.kernel)
    k64 = lambda c: mb.read(mb.variant(c.opts, "testkernel64.elf"))
    aout = lambda c: mb.read(mb.variant(c.opts, "testkernel-aout.bin"))
    return [
        GrubOracleCase(opts, "grub-elf32", "kernel.elf", k32, mb.elf32_span,
                       mb.ALL),
        GrubOracleCase(opts, "grub-elf64", "kernel64.elf", k64,
                       mb.elf32_span, mb.ALL),
        GrubOracleCase(opts, "grub-aout", "kernel.bin", aout,
                       lambda c: aout_span(aout(c)), mb.NO_SYMS),
    ]
