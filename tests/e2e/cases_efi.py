"""pulsar.efi under OVMF (issue 17): the UEFI face drives the same boot
session, so the cases are the BIOS ones with a UEFI machine around them.

- efi-two-modules: OVMF's own PXE (virtio-net, no option ROM) loads
  pulsar.efi, which finds the config, loads the test kernel and the demo
  modules with Mtftp, stages them, exits boot services and moves them
  into place: every check of two-modules, with the memory facts as
  UEFI's map has them (ACPI NVS at 8 MiB ends the RAM at 1 MiB there).
- efi-elf64, efi-aout: the ELF64 and a.out kludge builds of the test
  kernel, as mb-elf64 and mb-aout check them on BIOS.
- efi-video: the test kernel build that asks for 800x600x32 (header
  flag bit 2): pulsar.efi sets that GOP mode and the kernel gets flags
  bit 12 and no VBE (bit 11): the fields match the mode QEMU's std VGA is
  really in (its DISPI registers), the framebuffer lies inside the
  adapter's PCI BAR 0, the pitch is width * 4, and Pulsar's `video: GOP
  mode` line names what the kernel got.
- efi-video-closest: the build asking for 1234x567x32, which OVMF does
  not offer: the closest mode is set, Pulsar says so, and the kernel's
  fields, the adapter and Pulsar's line agree.
- efi-big-bss: a build of the test kernel linked at 9 MiB with 48 MiB of
  bss, which it checks is all zero.  At -m 128 OVMF still holds 12 MiB
  of boot services data there and has no free run that size, so the
  claim is staged in 1 MiB pieces (its free pages in place, the rest
  elsewhere) and the trampoline moves them; before, pulsar.efi refused it
  ("no memory below 4 GiB to stage").
- efi-retry: a module is missing at first; pulsar.efi refuses, waits and
  starts over (everything the first attempt staged freed), and once the
  file is there the second attempt boots: all checks, three modules.
- efi-big-module: an 80 MiB module under -m 256: READ_FILE writes it
  straight into its staging (file_sink.whole), and the staging is the
  claim's own pages when the firmware has them free (nothing to move),
  so the file is in memory once.  Before, it sat in a READ_FILE buffer
  and in a staging buffer at once, apart from its claim: under -m 256
  the staging allocation failed ("no memory below 4 GiB to stage").
  The kernel sees it byte for byte (its CRC-32).
- efi-big-module-128: a 64 MiB module under -m 128 boots.  At the point
  of staging OVMF holds 12 MiB of boot services data at 9 MiB and its
  largest free run is 38.5 MiB, so no buffer holds the whole file: the
  claim is staged in pieces (as in efi-big-bss), and Pulsar's own TFTP
  client over SNP hands the file over block by block into them (Mtftp
  READ_FILE, which wants one buffer, could not; this case pinned that
  refusal before).  The kernel sees the module byte for byte.
- efi-missing-file: a missing module is refused with the same error as on
  BIOS (Mtftp's TFTP error 1 is "not found"), and Pulsar starts over.
- efi-bad-config-nul, efi-bad-elf-entry, efi-bad-elf-truncated: rows of
  the malformed-input table (tests/malformed/gen.py; all of its config
  and kernel rows run on pulsar.efi's face on the host, make check):
  pulsar.efi prints the table's message and starts over.
- efi-ipxe-e1000: iPXE's EFI stack (QEMU's e1000 ROM), whose PXE Base
  Code answers GET_FILE_SIZE with EFI_UNSUPPORTED: pulsar.efi fetches
  with its own TFTP client over the NIC's SNP (sizes from the OACK's
  tsize) and boots with every check of efi-two-modules; the console
  names the path and what the server granted.  (Until issue 17 this
  case, efi-ipxe-no-size, pinned the refusal.)
- efi-two-modules also checks that OVMF's own stack ran the same SNP
  path (`own TFTP over SNP`).

Every boot case also checks GNU Mach's boot heap: nothing but the
kernel lies in [1 MiB, 1 MiB + mem_upper) (no module, no section header
table or section, no part of the multiboot info: the kernel's `TK at_*`
lines).

OVMF needs about 8-9 s of TCG to reach the boot file; the timeouts are
the runner's doubled.
"""

import os
import re
import threading
import time

from lab import qemu

from lab.images import aout_span, random_bytes
from tests.malformed import gen

from .harness import (CONFIG_NAME, DEMO_CONFIG, TFTP_SERVER, BOOT_FAILED,
                      Case, CheckFailed, Checker, check_boot,
                      check_boot_into, check_error, config_items,
                      demo_modules, elf_span, parse_report, run_qemu)

# The multiboot info bits pulsar.efi sets: memory, cmdline, modules, ELF
# sections, memory map, drives (empty), loader name.  No BIOS config table
# and no VBE on UEFI.
EFI_FLAGS = [0, 2, 3, 5, 6, 7, 9]
MAC_LINE = "pulsar: mac %s ip %s tftp %s " % (qemu.MAC, qemu.USER_GUEST,
                                              TFTP_SERVER)


class EfiCase(Case):
    """A case that network-boots pulsar.efi under OVMF."""

    needs_efi = True

    def write_efi_tftp(self, tmp, config, files):
        """The TFTP root: pulsar.efi, the config, @files."""
        root = os.path.join(tmp, "tftp")
        os.makedirs(root)
        with open(self.opts.efi, "rb") as f:
            files = dict(files, **{"pulsar.efi": f.read()})
        with open(os.path.join(root, CONFIG_NAME), "w") as f:
            f.write(config)
        for rel, data in files.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        return root

    def boot(self, tmp, root, qemu_kw=None, **kw):
        """Run OVMF on @root (@qemu_kw: for lab.qemu.ovmf); returns what
        run_qemu does."""
        log = os.path.join(tmp, "serial.log")
        return run_qemu(qemu.ovmf(root, log, tmp, **(qemu_kw or {})), log,
                        2 * self.opts.timeout, **kw)


def read(path):
    """The bytes of @path."""
    with open(path, "rb") as f:
        return f.read()


def variant(opts, name):
    """Path of a test kernel build next to opts.kernel."""
    return os.path.join(os.path.dirname(opts.kernel) or ".", name)


class EfiBootCase(EfiCase):
    """pulsar.efi boots a build of the test kernel (@kernel_fn: its bytes,
    default the ELF32 one; @span_fn: the span it loads to) with the demo
    modules; @flags must be set, @values (report key -> raw value),
    @markers and @console (a text in Pulsar's lines) must show."""

    def __init__(self, opts, name, kernel_fn=None, span_fn=None,
                 flags=None, values=None, markers=(), console=(),
                 echo=False, keys=(), check_fn=None, qemu_kw=None):
        super().__init__(opts)
        self.keys = keys
        self.check_fn = check_fn
        self.name = name
        self.echo = echo
        self.kernel_fn = kernel_fn or (lambda c: c.kernel())
        self.span_fn = span_fn or (lambda c: elf_span(c.kernel()))
        self.flags = EFI_FLAGS if flags is None else flags
        self.values = values or {}
        self.want_markers = markers
        self.console = console
        self.qemu_kw = qemu_kw

    def run(self, tmp):
        modules = demo_modules()
        files = {"demo/kernel.elf": self.kernel_fn(self)}
        files.update(("demo/" + k, v) for k, v in modules.items())
        root = self.write_efi_tftp(tmp, DEMO_CONFIG, files)
        items = config_items(DEMO_CONFIG)
        exp = {
            "kernel_cmdline": [it for it in items
                               if it["kind"] == "exec"][-1]["cmdline"],
            "cmdline_exact": True,
            "loader_prefix": "Pulsar",
            "modules": [(it["cmdline"], modules[it["name"]])
                        for it in items if it["kind"] == "load"],
            "addr": None,
            "kernel_span": self.span_fn(self),
            "required_flags": self.flags,
            "upper_near_top": False,
            "mach_heap_clear": True,
        }
        rc, text, secs, ended = self.boot(tmp, root, self.qemu_kw,
                                          echo=self.echo)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s"
                               % (2 * self.opts.timeout)])
        lines = [ln.rstrip("\r") for ln in text.split("\n")]
        want = [MAC_LINE, "pulsar: config %s from %s: " % (CONFIG_NAME,
                                                          TFTP_SERVER),
                "pulsar: demo/kernel.elf: ", "pulsar: demo/module1.bin: ",
                "pulsar: demo/module2.bin: ", "pulsar: starting "
                "demo/kernel.elf at "]
        lines = [ln.split("\r")[-1] for ln in lines]
        ck = Checker()
        for w in want:
            ck.expect(any(ln.startswith(w) for ln in lines),
                      "no serial line starting %r" % w)
        for piece in self.console:
            ck.expect(any(ln.startswith("pulsar: ") and piece in ln
                          for ln in lines),
                      "no Pulsar console line with %r" % piece)
        try:
            rep = check_boot(text, rc, exp)
        except CheckFailed as e:
            ck.failures.extend(e.args[0])
            rep = parse_report(text)
        for key, want_value in self.values.items():
            got = rep["values"].get(key)
            ck.expect(got == want_value, "TK %s=%s, expected %s"
                      % (key, got, want_value))
        for word in self.want_markers:
            ck.expect(word in rep["markers"], "no `TK %s`" % word)
        for key in self.keys:
            ck.expect(key in rep["values"], "no `TK %s=` line" % key)
        if self.check_fn:
            self.check_fn(ck, rep, lines)
        ck.done()
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


GOP_LINE = re.compile(r"pulsar: video: GOP mode \d+, (\d+)x(\d+)x(\d+), "
                      r"framebuffer at ([0-9a-f]+)")


def check_gop_line(ck, rep, lines, closest):
    """Pulsar's `video: GOP mode` line names the mode the kernel got (and,
    with @closest, says it is only the closest to the wish); the test
    kernel has already checked that the adapter is in that mode."""
    got = [GOP_LINE.search(ln) for ln in lines]
    got = [m for m in got if m]
    if not ck.expect(len(got) == 1, "%d `video: GOP mode` lines, expected 1"
                     % len(got)):
        return
    w, h, bpp, addr = got[0].groups()
    vals = rep["values"]
    ck.expect((vals.get("fb_width"), vals.get("fb_height"),
               vals.get("fb_bpp")) == (w, h, bpp),
              "TK fb %sx%sx%s, Pulsar said %sx%sx%s"
              % (vals.get("fb_width"), vals.get("fb_height"),
                 vals.get("fb_bpp"), w, h, bpp))
    ck.expect(vals.get("fb_addr") == "0x%016x" % int(addr, 16),
              "TK fb_addr=%s, Pulsar said %s" % (vals.get("fb_addr"), addr))
    ck.expect(("the closest to what the kernel asks" in got[0].string)
              == closest, "the GOP line %s `the closest`"
              % ("lacks" if closest else "has"))
    if vals.get("fb_bpp") == "32" and vals.get("fb_width"):
        ck.expect(vals.get("fb_pitch") == str(4 * int(vals["fb_width"])),
                  "fb_pitch=%s, expected width * 4 = %d"
                  % (vals.get("fb_pitch"), 4 * int(vals["fb_width"])))


class EfiRetryCase(EfiCase):
    """The first attempt fails on a missing module; the harness puts the
    file in place when `pulsar: boot failed` shows; the second attempt
    boots."""

    name = "efi-retry"
    LATE = "late.bin"

    def run(self, tmp):
        modules = demo_modules()
        late = modules["module1.bin"][:300000]
        config = DEMO_CONFIG + "load %s late module\n" % self.LATE
        files = {"demo/kernel.elf": self.kernel()}
        files.update(("demo/" + k, v) for k, v in modules.items())
        root = self.write_efi_tftp(tmp, config, files)
        log = os.path.join(tmp, "serial.log")
        done = threading.Event()

        def fix_when_failed():
            """Write the missing file once the first attempt gave up."""
            while not done.is_set():
                try:
                    with open(log, "rb") as f:
                        seen = BOOT_FAILED.encode() in f.read()
                except OSError:
                    seen = False
                if seen:
                    with open(os.path.join(root, "demo", self.LATE),
                              "wb") as f:
                        f.write(late)
                    return
                time.sleep(0.2)

        fixer = threading.Thread(target=fix_when_failed, daemon=True)
        fixer.start()
        try:
            rc, text, secs, ended = self.boot(tmp, root)
        finally:
            done.set()
            fixer.join()
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s"
                               % (2 * self.opts.timeout)])
        items = config_items(config)
        modules[self.LATE] = late
        exp = {
            "kernel_cmdline": [it for it in items
                               if it["kind"] == "exec"][-1]["cmdline"],
            "cmdline_exact": True,
            "loader_prefix": "Pulsar",
            "modules": [(it["cmdline"], modules[it["name"]])
                        for it in items if it["kind"] == "load"],
            "addr": None,
            "kernel_span": elf_span(self.kernel()),
            "required_flags": EFI_FLAGS,
            "upper_near_top": False,
            "mach_heap_clear": True,
        }
        lines = [ln.rstrip("\r").split("\r")[-1] for ln in text.split("\n")]
        ck = Checker()
        for want in ("pulsar: error: %s:%d: load: demo/%s: not found on %s"
                     % (CONFIG_NAME, items[-1]["line"], self.LATE,
                        TFTP_SERVER),
                     "pulsar: boot failed (attempt 1)",
                     "pulsar: starting over (attempt 2)"):
            ck.expect(any(want in ln for ln in lines),
                      "no serial line with %r" % want)
        ck.expect(sum(ln.startswith("pulsar: starting demo/kernel.elf")
                      for ln in lines) == 1,
                  "not exactly one `pulsar: starting demo/kernel.elf` line")
        rep = check_boot_into(ck, text, rc, exp)
        ck.done()
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


class EfiBigModuleCase(EfiCase):
    """One module of @size bytes under -m @mem, where two copies of it
    do not fit."""

    name = "efi-big-module"
    MIB = 1024 * 1024

    def __init__(self, opts, size=80 * MIB + 4321, mem=256,
                 name="efi-big-module"):
        super().__init__(opts)
        self.name = name
        self.size = size
        self.mem = mem

    def run(self, tmp):
        big = random_bytes(17, self.size)
        config = ("# Pulsar big-module case\nroot demo\n"
                  "exec kernel.elf console=serial\nload big.bin big one\n")
        files = {"demo/kernel.elf": self.kernel(), "demo/big.bin": big}
        root = self.write_efi_tftp(tmp, config, files)
        items = config_items(config)
        exp = {
            "kernel_cmdline": [it for it in items
                               if it["kind"] == "exec"][-1]["cmdline"],
            "cmdline_exact": True,
            "loader_prefix": "Pulsar",
            "modules": [("big.bin big one", big)],
            "addr": None,
            "kernel_span": elf_span(self.kernel()),
            "required_flags": EFI_FLAGS,
            "upper_near_top": False,
            "mach_heap_clear": True,
            "mem_mib": self.mem,
        }
        rc, text, secs, ended = self.boot(tmp, root, {"mem": self.mem},
                                          stop_marker=BOOT_FAILED)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s"
                               % (2 * self.opts.timeout)])
        lines = [ln.rstrip("\r").split("\r")[-1] for ln in text.split("\n")]
        ck = Checker()
        want = "pulsar: demo/big.bin: %d bytes at " % self.size
        ck.expect(any(ln.startswith(want) for ln in lines),
                  "no serial line starting %r" % want)
        rep = check_boot_into(ck, text, rc, exp)
        ck.done()
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


class EfiErrorCase(EfiCase):
    """pulsar.efi must refuse: the line @want(config) shows, then
    `pulsar: boot failed`."""

    CONFIG = ("# Pulsar missing-file case\nroot demo\n"
              "exec kernel.elf console=serial\n"
              "load module1.bin first module\nload nothere.bin\n")

    def __init__(self, opts, name, want, qemu_kw=None):
        super().__init__(opts)
        self.name = name
        self.want = want
        self.qemu_kw = qemu_kw

    def run(self, tmp):
        files = {"demo/kernel.elf": self.kernel(),
                 "demo/module1.bin": demo_modules()["module1.bin"]}
        root = self.write_efi_tftp(tmp, self.CONFIG, files)
        rc, text, secs, ended = self.boot(tmp, root, self.qemu_kw,
                                          stop_marker=BOOT_FAILED)
        self.log_text = text
        if ended == "timeout":
            raise CheckFailed(["timed out after %d s without `%s`"
                               % (2 * self.opts.timeout, BOOT_FAILED)])
        want = self.want(self.CONFIG)
        check_error(text, [("%r" % want, lambda ln: want in ln)])
        return {"secs": secs, "rc": rc}


class EfiMalformedCase(EfiCase):
    """A row of the malformed-input table (tests/malformed/gen.py) booted
    through pulsar.efi: the config (a `config` row) or demo/kernel.elf (an
    `elf` row, exec on config line 3 as in the table) is the row's input;
    pulsar.efi must print the row's message (its pulsar.efi words where
    they differ) and start over: the next attempt's DHCP line shows."""

    AGAIN = "pulsar: starting over (attempt 2)"

    def __init__(self, opts, name, kind, row):
        super().__init__(opts)
        self.name = name
        self.row = [c for c in gen.all_cases()
                    if (c.kind, c.name) == (kind, row)][0]

    @classmethod
    def again_started(cls, text):
        """Stop once the second attempt's DHCP line follows AGAIN (at
        AGAIN alone that line may not be written yet)."""
        at = text.find(cls.AGAIN)
        return at >= 0 and MAC_LINE in text[at:]

    def run(self, tmp):
        c = self.row
        files = {"demo/module1.bin": demo_modules()["module1.bin"]}
        if c.kind == "config":
            config = c.data.decode("latin-1")
            files.update((k, v.encode()) for k, v in c.files.items())
        else:
            config = "root demo\n\nexec kernel.elf\n"
            files["demo/kernel.elf"] = c.data
        root = self.write_efi_tftp(tmp, "", files)
        with open(os.path.join(root, CONFIG_NAME), "wb") as f:
            f.write(config.encode("latin-1"))
        rc, text, secs, ended = self.boot(tmp, root,
                                          stop_marker=self.again_started)
        self.log_text = text
        if ended == "timeout":
            raise CheckFailed(["timed out after %d s without `%s` and "
                               "the DHCP line after it"
                               % (2 * self.opts.timeout, self.AGAIN)])
        want = "pulsar: error: " + (c.efi or c.expect).replace(
            "config-test", CONFIG_NAME)
        check_error(text, [("%r" % want, lambda ln: ln.endswith(want))])
        lines = [ln.rstrip("\r").split("\r")[-1] for ln in text.split("\n")]
        ck = Checker()
        after = lines[[i for i, ln in enumerate(lines)
                       if want in ln][0]:]
        ck.expect(any(ln.startswith(BOOT_FAILED + " (attempt 1)")
                      for ln in after), "no `%s (attempt 1)` after the "
                  "error" % BOOT_FAILED)
        ck.expect(sum(ln.startswith(MAC_LINE) for ln in lines) == 2,
                  "not two DHCP lines: the second attempt did not start")
        ck.done()
        return {"secs": secs, "rc": rc}


def missing_file_error(config):
    """The BIOS build's words for `load nothere.bin`."""
    line = [it for it in config_items(config)
            if it["name"] == "nothere.bin"][0]["line"]
    return ("pulsar: error: %s:%d: load: demo/nothere.bin: not found on %s"
            % (CONFIG_NAME, line, TFTP_SERVER))


# What pulsar.efi says of its TFTP path: QEMU's server caps blksize at
# 1428 and grants no window.
SNP_LINE = "tftp %s grants blksize 1428, windowsize 1 (own TFTP over SNP)" \
    % TFTP_SERVER


def cases(opts):
    """The UEFI cases."""
    aout_bin = lambda c: read(variant(c.opts, "testkernel-aout.bin"))
    return [
        EfiBootCase(opts, "efi-two-modules",
                    console=["multiboot ELF32", "7 section headers",
                             SNP_LINE],
                    echo=getattr(opts, "demo_efi", False)),
        EfiBootCase(opts, "efi-elf64",
                    lambda c: read(variant(c.opts, "testkernel64.elf")),
                    values={"syms_size": "64", "syms_num": "7"},
                    console=["multiboot ELF64"]),
        EfiBootCase(opts, "efi-aout", aout_bin,
                    lambda c: aout_span(aout_bin(c)),
                    flags=[b for b in EFI_FLAGS if b != 5],
                    markers=["no_syms"],
                    console=["multiboot a.out kludge, 00100000-"]),
        # Video through GOP: bit 12 with the mode set, no VBE (bit 11).
        EfiBootCase(opts, "efi-video",
                    lambda c: read(variant(c.opts, "testkernel-video.elf")),
                    flags=EFI_FLAGS + [12], markers=["no_vbe"],
                    values={"fb_type": "1", "fb_width": "800",
                            "fb_height": "600", "fb_bpp": "32",
                            "fb_color": "16,8,8,8,0,8",
                            "dispi_enabled": "1",
                            "dispi_mode": "800x600x32"},
                    keys=["fb_bar"],
                    check_fn=lambda ck, rep, lines:
                    check_gop_line(ck, rep, lines, False)),
        EfiBootCase(opts, "efi-video-closest",
                    lambda c: read(variant(c.opts, "testkernel-novideo.elf")),
                    flags=EFI_FLAGS + [12], markers=["no_vbe"],
                    values={"fb_type": "1", "dispi_enabled": "1"},
                    keys=["fb_bar"],
                    check_fn=lambda ck, rep, lines:
                    check_gop_line(ck, rep, lines, True)),
        # 48 MiB of bss at 9 MiB, where OVMF holds 12 MiB now: staged in
        # 1 MiB pieces, zeroed, moved after ExitBootServices.
        EfiBootCase(opts, "efi-big-bss",
                    lambda c: read(variant(c.opts, "testkernel-bigbss.elf")),
                    lambda c: elf_span(read(variant(c.opts,
                                                    "testkernel-bigbss.elf"))),
                    values={"big_bss": str(48 * 1024 * 1024)}),
        EfiRetryCase(opts),
        EfiBigModuleCase(opts),
        EfiBigModuleCase(opts, 64 * EfiBigModuleCase.MIB, 128,
                         "efi-big-module-128"),
        EfiErrorCase(opts, "efi-missing-file", missing_file_error),
        EfiMalformedCase(opts, "efi-bad-config-nul", "config", "nul-byte"),
        EfiMalformedCase(opts, "efi-bad-elf-entry", "elf", "entry-outside"),
        EfiMalformedCase(opts, "efi-bad-elf-truncated", "elf",
                         "truncated-data"),
        EfiBootCase(opts, "efi-ipxe-e1000",
                    console=["multiboot ELF32", SNP_LINE],
                    qemu_kw={"nic": "e1000", "romfile": None}),
    ]
