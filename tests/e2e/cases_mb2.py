"""Multiboot2 on BIOS end to end (issue 18).

Pulsar boots the Multiboot2 builds of the test kernel (tests/kernel:
`testkernel-mb2.elf`, a Multiboot2 header only; `testkernel-both.elf`,
both headers) with the demo modules.  The kernel reports every tag it
got; the harness checks each value against what it wrote: the magic, the
command lines, every module's size, CRC-32 and command line in config
order, the memory map and the basic memory info against each other, the
network tag's addresses against QEMU's DHCP (the ACK Pulsar booted with,
as Pulsar's own DHCP line shows it), the ACPI RSDP and SMBIOS copies
(signature and checksum checked by the kernel).  A kernel with both
headers boots through Multiboot2 by default and through Multiboot 1
with `exec --multiboot1`; a kernel that requires a tag Pulsar cannot
give on a BIOS (the EFI memory map) is refused with the tag named.

`mb2-relocatable` and `mb2-relocatable-high` boot the relocatable
Multiboot2 test kernel (tests/kernel/reloc.asm: position-independent,
linked at 1 MiB, its header asking for [16 MiB, 64 MiB) at 2 MiB
alignment, lowest or highest) with a module.  It reports where it really
runs (call/pop) and the load base tag (21); the harness reads the
relocatable tag and the segment's size from the file it served and
checks that both values are equal, lie in the range, are aligned, are
the lowest or highest such place (RAM there is free), and are what
Pulsar's kernel line and pulsar-check's plan of the same TFTP root say
("relocated to ...").

`grub-mb2` boots the same kernel through GRUB 2.06's `multiboot2` and
`module2` (a rescue ISO, as cases_grub.py does for Multiboot 1) and
compares field by field: memory info and every map entry, module sizes
and CRCs, section headers, the framebuffer, the kernel's span and code
CRC, and the ACPI copy.  The documented differences, not compared: the
command-line convention (see cases_grub.py), the loader name, GRUB's
boot device (5), APM (10) and load base (21, which the specification
gives relocatable images only and Pulsar gives them only), and Pulsar's
network tag (16) and SMBIOS (13), which GRUB's BIOS build does not give.
"""

import os
import re
import struct
import subprocess
import zlib

from lab import qemu

from . import cases_grub as grub
from . import harness
from .harness import CheckFailed, Checker

MB2_BOOT_MAGIC = 0x36D76289
MB2_HEADER_MAGIC = b"\xd6\x50\x52\xe8"


def read_variant(opts, name):
    """The bytes of test kernel build @name next to opts.kernel."""
    with open(os.path.join(os.path.dirname(opts.kernel) or ".", name),
              "rb") as f:
        return f.read()


def dhcp_ip(text):
    """The client and TFTP server IPs from Pulsar's DHCP facts line."""
    m = re.search(r"^pulsar: mac \S+ ip (\S+) tftp (\S+)", text, re.M)
    return (m.group(1), m.group(2)) if m else (None, None)


class Mb2Case(harness.Case):
    """Boot @kernel_name as demo/kernel.elf with the demo modules (exec
    line @exec_opt + the demo's); check the Multiboot2 report, or with
    @mb1 the Multiboot 1 one (harness.check_boot); @console: texts a
    Pulsar console line must hold (or functions of opts giving them, for
    texts from files the build makes: the case list is made without)."""

    def __init__(self, opts, name, kernel_name, exec_opt="", mb1=False,
                 console=(), pack=None, load_opt=None, required=None,
                 syms=True):
        super().__init__(opts)
        self.name = name
        self.kernel_name = kernel_name
        self.exec_opt = exec_opt
        self.mb1 = mb1
        self.console = console
        # pack: bytes -> bytes, what the server holds for the kernel and,
        # with load_opt (e.g. "--unzip"), for the first module.
        self.pack = pack
        self.load_opt = load_opt
        self.required = required if required is not None else [0, 2, 3, 6, 9]
        self.syms = syms  # the ELF sections tag expected

    def run(self, tmp):
        config = harness.DEMO_CONFIG
        if self.exec_opt:
            config = config.replace("exec kernel.elf",
                                    "exec %s kernel.elf" % self.exec_opt)
        if self.load_opt:
            config = config.replace("load module1.bin",
                                    "load %s module1.bin" % self.load_opt)
        modules = harness.demo_modules()
        kernel = read_variant(self.opts, self.kernel_name)
        served = dict(modules)
        if self.pack:
            kernel = self.pack(kernel)
            if self.load_opt is not None:
                served["module1.bin"] = self.pack(modules["module1.bin"])
        if self.load_opt == "":
            modules = served  # packed, passed as it is: the kernel gets it
        files = {"demo/kernel.elf": kernel}
        files.update(("demo/" + k, v) for k, v in served.items())
        root = self.write_tftp(tmp, config, files)
        items = harness.config_items(harness.DEMO_CONFIG)
        exec_item = [i for i in items if i["kind"] == "exec"][-1]
        # The options are not part of any command line.
        cmdline = exec_item["cmdline"]
        mods = [(it["cmdline"], modules[it["name"]])
                for it in items if it["kind"] == "load"]
        log = os.path.join(tmp, "serial.log")
        rc, text, secs, ended = harness.run_qemu(
            qemu.pxe(root, log), log, self.opts.timeout)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s" % self.opts.timeout])
        ck = Checker()
        if self.mb1:
            exp = {"kernel_cmdline": cmdline, "cmdline_exact": True,
                   "loader_prefix": "Pulsar", "modules": mods, "addr": None,
                   "kernel_span": harness.elf_span(
                       read_variant(self.opts, self.kernel_name)),
                   "required_flags": self.required}
            try:
                harness.check_boot(text, rc, exp)
            except CheckFailed as e:
                ck.failures.extend(e.args[0])
        else:
            check_mb2(ck, text, rc, cmdline, mods, syms=self.syms)
        for piece in self.console:
            if callable(piece):  # computed at run time: from built files
                piece = piece(self.opts)
            ck.expect(any(ln.startswith("pulsar: ") and piece in ln
                          for ln in text.splitlines()),
                      "no Pulsar console line with %r" % piece)
        ck.done()
        return {"secs": secs, "rc": rc}

def check_mb2(ck, text, rc, cmdline, mods, loader="Pulsar", syms=True,
              pulsar=True, maps=True):
    """Check the Multiboot2 report in @text against what the harness
    wrote: the command line @cmdline, @mods ((cmdline, bytes) in order),
    the map (@maps; else there must be none: GRUB on UEFI gives no
    memory tags to a kernel that keeps the boot services), and with
    @pulsar what only Pulsar gives on a BIOS (the network tag against the
    DHCP facts, ACPI and SMBIOS copies); @syms: the ELF sections tag
    expected.  Returns the parsed report."""
    rep = harness.parse_report(text)
    v = rep["values"]
    ck.expect("begin" in rep["markers"], "the test kernel never started")
    for err in rep["errors"]:
        ck.expect(False, "test kernel: error " + err)
    for bad in rep["bad"]:
        ck.expect(False, "malformed report line: " + bad)
    ck.expect(v.get("end status") == "ok", "`TK end status=%s`"
              % v.get("end status"))
    ck.expect(rc == qemu.EXIT_OK, "QEMU exit status %s" % rc)
    ck.expect(v.get("magic") == "0x%08x" % MB2_BOOT_MAGIC,
              "magic=%s, expected %#x" % (v.get("magic"), MB2_BOOT_MAGIC))
    ck.expect("mb2 total_size" in v, "no `TK mb2 total_size=`")
    ck.expect(harness.unescape(v.get("cmdline", "")) == cmdline,
              "cmdline=%r, expected %r" % (v.get("cmdline"), cmdline))
    ck.expect(v.get("loader", "").startswith(loader),
              "loader=%r" % v.get("loader"))
    # Modules: one tag each, in config order, bytes intact.
    got = rep["mods"]
    ck.expect(v.get("mods_count") == str(len(mods)),
              "mods_count=%s, expected %d" % (v.get("mods_count"),
                                              len(mods)))
    for i, (want_cmd, data) in enumerate(mods):
        if i >= len(got):
            ck.expect(False, "no module %d" % i)
            continue
        m = got[i]
        ck.expect(m["size"] == len(data), "mod %d size=%d, wrote %d"
                  % (i, m["size"], len(data)))
        ck.expect(m["crc32"] == zlib.crc32(data),
                  "mod %d crc32=%#x, wrote %#x" % (i, m["crc32"],
                                                   zlib.crc32(data)))
        ck.expect(m["cmdline"] == want_cmd, "mod %d cmdline=%r, "
                  "expected %r" % (i, m["cmdline"], want_cmd))
    if not maps:
        ck.expect(not rep["mmap"] and "mem_lower" not in v,
                  "memory tags (4, 6) where none were expected")
    # The map: RAM at 0 and 1 MiB, and the basic info agrees with it.
    ram = [e for e in rep["mmap"] if e["type"] == 1]
    ck.expect(v.get("mmap_count") == str(len(rep["mmap"])) or
              (not maps and "mmap_count" not in v),
              "mmap_count=%s but %d entries" % (v.get("mmap_count"),
                                                len(rep["mmap"])))
    low = [e for e in ram if e["base"] == 0]
    high = [e for e in ram if e["base"] == harness.MIB]
    ck.expect(low and high or not maps, "no RAM entry at 0 or at 1 MiB")
    if low and high:
        ck.expect(v.get("mem_lower") == str(min(low[0]["len"],
                                                 640 * 1024) // 1024),
                  "mem_lower=%s vs the map" % v.get("mem_lower"))
        ck.expect(v.get("mem_upper") == str(high[0]["len"] // 1024),
                  "mem_upper=%s vs the map" % v.get("mem_upper"))
    for m in got if maps else []:
        ck.expect(any(e["base"] <= m["start"] and
                      m["end"] <= e["base"] + e["len"] for e in ram),
                  "mod %d is not in RAM" % m["idx"])
    if syms:
        ck.expect("syms_num" in v, "no ELF sections tag")
    else:
        ck.expect("syms_num" not in v, "an ELF sections tag from a "
                  "file whose size was not known before its end")
    if not pulsar:
        return rep
    # The network tag: the ACK QEMU's DHCP gave, as Pulsar read it.
    ip, server = dhcp_ip(text)
    ck.expect(v.get("network_yiaddr") == ip == qemu.USER_GUEST,
              "network tag yiaddr=%s, Pulsar's DHCP line %s, QEMU gives "
              "%s" % (v.get("network_yiaddr"), ip, qemu.USER_GUEST))
    ck.expect(v.get("network_siaddr") == server == qemu.USER_SERVER,
              "network tag siaddr=%s, Pulsar's DHCP line %s, QEMU's "
              "server %s" % (v.get("network_siaddr"), server,
                             qemu.USER_SERVER))
    # SeaBIOS has ACPI 1.0 tables and an SMBIOS entry point.
    ck.expect("acpi_old len" in v, "no ACPI old RSDP tag")
    ck.expect(v.get("smbios_len", "").split(" ")[0] not in ("", "0"),
              "no SMBIOS tag")
    return rep


def required_tag_error(opts):
    """The Multiboot2 kernel with its required request for the network
    tag (16) changed to the EFI memory map (17): refused, the tag named."""
    def files(case):
        k = bytearray(read_variant(case.opts, "testkernel-mb2.elf"))
        hdr = k.find(MB2_HEADER_MAGIC)
        # The first request tag: type 1, flags 0, size 32, types 1 2 3 4 6 16.
        want = bytes.fromhex("0100000020000000" "01000000" "02000000"
                             "03000000" "04000000" "06000000" "10000000")
        at = k.find(want, hdr)
        if hdr < 0 or at < 0:
            raise CheckFailed(["the test kernel's request tag is not where "
                               "tests/kernel/entry.asm puts it"])
        k[at + len(want) - 4] = 17
        mods = harness.demo_modules()
        return {"demo/kernel.elf": bytes(k),
                "demo/module1.bin": mods["module1.bin"]}
    config = ("root demo\nexec kernel.elf console=serial\n"
              "load module1.bin first module\n")
    reason = ("requires the EFI memory map information tag (type 17), "
              "which Pulsar cannot give here")
    prefix = "pulsar: error: %s:2: exec: demo/kernel.elf: " % \
        harness.CONFIG_NAME
    return harness.ErrorCase(
        opts, "mb2-required-tag", config, files,
        lambda text: [("`%s...%s`" % (prefix, reason),
                       lambda ln: ln.startswith(prefix) and reason in ln)])


def reloc_tag(image):
    """(min, max, align, preference) of @image's Multiboot2 relocatable
    header tag (type 10), and the span of its one loadable segment."""
    hdr = image.find(MB2_HEADER_MAGIC)
    if hdr < 0 or hdr % 8:
        raise CheckFailed(["no Multiboot2 header in the relocatable kernel"])
    length = struct.unpack_from("<I", image, hdr + 8)[0]
    at, tag = hdr + 16, None
    while at + 8 <= hdr + length:
        ttype, _flags, size = struct.unpack_from("<HHI", image, at)
        if ttype == 0 or size < 8:
            break
        if ttype == 10:
            tag = struct.unpack_from("<IIII", image, at + 8)
        at += (size + 7) & ~7
    if tag is None:
        raise CheckFailed(["the kernel has no relocatable header tag"])
    lo, hi = harness.elf_span(image)
    return tag, hi - lo


class Mb2RelocCase(harness.Case):
    """The relocatable Multiboot2 kernel @kernel_name: placed in its
    range at its alignment and preference, told where (tag 21)."""

    checker_args = []  # pulsar-check's options for this firmware

    def __init__(self, opts, name, kernel_name):
        super().__init__(opts)
        self.name = name
        self.kernel_name = kernel_name

    def start(self, tmp, config, files, log):
        """Serve @config and @files, boot; the TFTP root and run_qemu's
        result."""
        root = self.write_tftp(tmp, config, files)
        return root, harness.run_qemu(qemu.pxe(root, log), log,
                                      self.opts.timeout)

    def run(self, tmp):
        image = read_variant(self.opts, self.kernel_name)
        (lo, hi, align, pref), span = reloc_tag(image)
        module = harness.random_bytes(77, 100 * 1024 + 3)
        config = ("root demo\nexec kernel.elf console=serial\n"
                  "load module1.bin first module\n")
        log = os.path.join(tmp, "serial.log")
        root, (rc, text, secs, ended) = self.start(
            tmp, config, {"demo/kernel.elf": image,
                          "demo/module1.bin": module}, log)
        self.log_text = text
        lines = [ln.rstrip("\r") for ln in text.splitlines()]
        tk = dict(ln[3:].split("=", 1) for ln in lines
                  if ln.startswith("TK ") and "=" in ln)
        ck = Checker()
        ck.expect(ended != "timeout", "timed out after %d s"
                  % self.opts.timeout)
        ck.expect(rc == qemu.EXIT_OK, "exit status %s, expected %d"
                  % (rc, qemu.EXIT_OK))
        ck.expect(tk.get("magic") == "0x%08x" % MB2_BOOT_MAGIC,
                  "TK magic=%s" % tk.get("magic"))
        ck.expect(tk.get("end status") == "0", "no `TK end status=0`")
        run_at = int(tk.get("reloc_run", "-1"), 16)
        base = int(tk["load_base"], 16) if tk.get(
            "load_base", "none") != "none" else None
        ck.expect(base is not None, "no load base tag (21)")
        ck.expect(base == run_at, "load base tag %s, the kernel runs at %s"
                  % (tk.get("load_base"), tk.get("reloc_run")))
        # Where it must be: RAM from 1 MiB up is free but for the module,
        # which goes low; so the first or last aligned place in range.
        want = (((hi + 1 - span) // align * align) if pref == 2
                else (lo + align - 1) // align * align)
        ck.expect(lo <= run_at and run_at + span - 1 <= hi and
                  run_at % align == 0,
                  "runs at %#x: not in %#x-%#x at %#x alignment"
                  % (run_at, lo, hi, align))
        ck.expect(run_at == want, "runs at %#x, the %s place is %#x"
                  % (run_at, "highest" if pref == 2 else "lowest", want))
        said = "relocated to %08x" % want
        ck.expect(any(ln.startswith("pulsar: demo/kernel.elf: ") and
                      (ln.endswith(said) or said + ", in " in ln)
                      for ln in lines),
                  "no Pulsar kernel line saying %r" % said)
        checker = os.path.join(os.path.dirname(os.path.abspath(
            self.opts.nbp)), "pulsar-check")
        proc = subprocess.run(
            [checker, "--mac", harness.MAC, "--mem", str(harness.MEM_MIB)] +
            self.checker_args + [root], capture_output=True, text=True,
            timeout=60)
        ck.expect(proc.returncode == 0 and any(
            ln.startswith("pulsar-check: demo/kernel.elf: ") and
            ln.endswith(said) for ln in proc.stdout.splitlines()),
            "pulsar-check (exit %d) does not plan it %s:\n%s"
            % (proc.returncode, said, proc.stdout))
        ck.done()
        print("    %s: [%#x, %#x] align %#x pref %d: runs at %#x"
              % (self.name, lo, hi, align, pref, run_at))
        return {"secs": secs, "rc": rc}


def cases(opts):
    """The Multiboot2 cases."""
    return [
        Mb2Case(opts, "mb2-elf32", "testkernel-mb2.elf",
                console=["multiboot2 ELF32", "multiboot2 info at"]),
        Mb2Case(opts, "mb2-both-default", "testkernel-both.elf",
                console=["both multiboot headers: Multiboot2 (the default"]),
        Mb2Case(opts, "mb2-both-forced-mb1", "testkernel-both.elf",
                exec_opt="--multiboot1", mb1=True,
                console=["both multiboot headers: Multiboot 1 (forced",
                         "multiboot ELF32"]),
        required_tag_error(opts),
        Mb2RelocCase(opts, "mb2-relocatable", "testkernel-reloc.elf"),
        Mb2RelocCase(opts, "mb2-relocatable-high",
                     "testkernel-reloc-high.elf"),
        GrubMb2Case(opts, "grub-mb2", "testkernel-mb2.elf"),
    ]


# Values both loaders must report the same (Multiboot2 tags).
GRUB_SAME = ["mem_lower", "mem_upper", "mods_count", "mmap_count",
             "syms_num", "syms_size", "syms_shndx", "fb_type", "fb_width",
             "fb_height", "fb_bpp", "fb_pitch", "fb_addr", "kernel",
             "text_crc32"]
# Compared when GRUB gives them too (its i386-pc build may not).
GRUB_IF_BOTH = ["acpi_old len", "acpi_new len", "smbios_version",
                "smbios_len"]


def compare_with_grub(ck, g, p, same, if_both):
    """GRUB's report @g against Pulsar's @p: the values named in @same
    equal, those in @if_both equal where GRUB gives them, and each
    module's size and CRC-32."""
    gv, pv = g["values"], p["values"]
    for key in same:
        ck.expect(gv.get(key) == pv.get(key), "%s: GRUB %r, Pulsar %r"
                  % (key, gv.get(key), pv.get(key)))
    for key in if_both:
        if key in gv:
            ck.expect(gv.get(key) == pv.get(key), "%s: GRUB %r, Pulsar %r"
                      % (key, gv.get(key), pv.get(key)))
    for a, b in zip(g["mods"], p["mods"]):
        for key in ("size", "crc32"):
            ck.expect(a[key] == b[key], "mod %d %s: GRUB %r, Pulsar %r"
                      % (a["idx"], key, a[key], b[key]))


class GrubMb2Case(grub.GrubOracleCase):
    """The Multiboot2 test kernel under GRUB's `multiboot2`/`module2`
    (a rescue ISO, as cases_grub.py does for Multiboot 1) and under
    Pulsar: each report passes its checks, and they agree field by field
    but for the command-line convention (cases_grub.py), the loader name
    and the network tag (GRUB's BIOS build gives none)."""

    def __init__(self, opts, name, kernel_name):
        super().__init__(opts, name, "kernel.elf", None, None, [])
        self.kernel_name = kernel_name

    def boot(self, tmp, which, args, cmdline, mods):
        """Run QEMU with @args, check the report, return it."""
        rc, text, secs = self.run_logged(tmp, which, args)
        ck = Checker()
        rep = check_mb2(ck, text, rc, cmdline, mods,
                        loader="GRUB" if which == "grub" else "Pulsar",
                        pulsar=which == "pulsar")
        ck.failures = ["%s: %s" % (which, f) for f in ck.failures]
        ck.done()
        return rep, secs

    def run(self, tmp):
        fname = self.fname
        modules = harness.demo_modules()
        files = {fname: read_variant(self.opts, self.kernel_name)}
        files.update(modules)
        iso = self.grub_iso(tmp, grub.grub_cfg(fname, "2"), files)
        g, s1 = self.boot(tmp, "grub", qemu.command(
            serial=os.path.join(tmp, "serial-grub.log"), boot="d",
            extra=["-cdrom", iso]), grub.KERNEL_ARGS,
            [(a, modules[n]) for n, a in grub.MODULE_ARGS.items()])
        root = self.write_tftp(tmp, grub.pulsar_cfg(fname), files)
        p, s2 = self.boot(tmp, "pulsar", qemu.pxe(
            root, os.path.join(tmp, "serial-pulsar.log")),
            "/%s %s" % (fname, grub.KERNEL_ARGS),
            [("/%s %s" % (n, a), modules[n])
             for n, a in grub.MODULE_ARGS.items()])
        ck = Checker()
        gv = g["values"]
        compare_with_grub(ck, g, p, GRUB_SAME, GRUB_IF_BOTH)
        gm = [(e["base"], e["len"], e["type"]) for e in g["mmap"]]
        pm = [(e["base"], e["len"], e["type"]) for e in p["mmap"]]
        ck.expect(gm == pm, "memory maps differ: GRUB %s, Pulsar %s"
                  % (["%#x+%#x:%d" % e for e in gm],
                     ["%#x+%#x:%d" % e for e in pm]))
        ck.expect("network len" not in gv, "GRUB's BIOS build gave a "
                  "network tag (the docs say it does not)")
        ck.done()
        return {"secs": s1 + s2}
