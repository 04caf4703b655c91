"""Multiboot2 on UEFI end to end (issue 18, the UEFI half).

pulsar.efi under OVMF (q35, OVMF's own PXE) boots the Multiboot2 builds
of the test kernel with the demo modules; the kernel reports every tag
it got and the harness checks each value against what it wrote, as
cases_mb2.check_mb2 does on BIOS (command lines, every module's size,
CRC-32 and command line, the map against the basic memory info, the
network tag against the DHCP facts Pulsar printed and QEMU gives, the
ACPI RSDP and SMBIOS copies, checksums checked by the kernel), and then
the EFI tags:

- efi-mb2-elf32: `testkernel-mb2.elf` (ELF32, no EFI boot services tag):
  boot services exited, entered in 32-bit protected mode.  Tag 12 points
  at a table that opens with the "IBI SYST" signature (the kernel reads
  it) below 4 GiB; tag 17, the EFI memory map, is the final one: its RAM
  descriptors and the RAM of the memory map tag (6) cover the same
  bytes, and the info itself lies in a loader-data descriptor (its pages
  were allocated before the last GetMemoryMap); ACPI 2.0 gives both RSDP
  tags; no tag 18 or 20.
- efi-mb2-both-default: `testkernel-both.elf` (both headers): the
  both-header rule holds on UEFI too, Multiboot2 by default, said on the
  console; every check of efi-mb2-elf32.
- efi-mb2-efi64: `testkernel-efi64.elf` (ELF64, the EFI boot services
  tag 7 and an amd64 EFI entry, tag 9): the boot services kept, nothing
  moved, the kernel entered at the entry of tag 9 (Pulsar's line names
  it; the harness reads tag 9 from the file) in 64-bit mode.  There the
  kernel finds EFER.LMA and CR0.PG set, EAX the magic and RBX the info
  (checked against the info's address), and calls GetMemoryMap through
  the system table of tag 12: status 0, its descriptor size that of tag
  17; tags 18 and 20 (below 4 GiB) are there, and then every check of
  efi-mb2-elf32 (the 64-bit code leaves long mode and runs the same
  32-bit reporter).
- efi-mb2-efi64-elf-entry: `testkernel-efi64elf.elf`, the same with tag
  7 but no tag 9, its 64-bit code the ELF entry (as NOVA): entered there
  in 64-bit mode with the boot services kept (GRUB does the same); the
  harness reads e_entry from the file; every check of efi-mb2-efi64.

- efi-mb2-bs-elf32: `testkernel-efibs32.elf`, tag 7 without tag 9 in
  an ELF32 whose entry is 32-bit code: the boot services are exited and
  the kernel entered in 32-bit mode at its entry (the tag says it
  supports starting with them, not that it needs them; under GRUB 2.06
  x86_64-efi this kernel never prints a line: tried by hand), every
  check of efi-mb2-elf32, no tag 18 or 20.
- efi-mb2-video: `testkernel-mb2video.elf`, a framebuffer tag asking
  for 800x600x32: pulsar.efi sets that GOP mode and gives tag 8; the
  kernel finds QEMU's std VGA really in that mode and the framebuffer
  inside its PCI BAR 0, and the fields match Pulsar's `video: GOP mode`
  line (cases_efi.check_gop_line).
- efi-mb2-relocatable, efi-mb2-relocatable-high: cases_mb2's
  relocatable kernel (tests/kernel/reloc.asm, position-independent) on
  UEFI: placed at the lowest or highest 2 MiB boundary of its range in
  the EFI map (boot services exited: the trampoline moves it there), it
  runs where tag 21 says, Pulsar's line and pulsar-check --firmware efi
  name that place.
- efi-grub-mb2: the same kernel and modules under GRUB 2.06 x86_64-efi's
  `multiboot2`/`module2` (OVMF's PXE loads grub-mknetdir's core.efi) and
  under pulsar.efi: both reports pass check_mb2 (Pulsar's the EFI tag
  checks too) and agree on memory info, modules (size, CRC-32), section
  headers, the kernel's span and code CRC, the system table pointer and
  signature, the EFI map's descriptor size and version, both ACPI RSDP
  copies (GRUB's tag 14 is the ACPI 1.0 configuration table entry, a
  revision 0 RSDP of its own on OVMF; Pulsar gives the same), the
  network tag's addresses, and the framebuffer and SMBIOS where GRUB
  gives them.  The documented differences, not compared: the
  command-line convention (cases_grub.py), the loader name, the maps'
  entry counts (each loader's own allocations split the firmware's
  map), the network tag's length (Pulsar's ends at the ACK's end
  option), GRUB's load base tag (21) for an image that is not
  relocatable and Pulsar's SMBIOS tag (13), which GRUB does not give.
- efi-grub-mb2-efi64: the same comparison with `testkernel-efi64.elf`
  (boot services kept): both enter it at its amd64 EFI entry in the same
  state (EAX, EFER, CR0, interrupts on, GetMemoryMap answering with the
  same descriptor size) with tags 18 and 20.  GRUB then gives no memory
  tags (4, 6, 17: the specification says a loader "may not" while the
  boot services run), which the case checks; Pulsar gives them, the map
  as it is at entry.  Image handles are each loader's own.

OVMF needs about 8-9 s of TCG to reach the boot file; the timeouts are
the runner's doubled (cases_efi.EfiCase).
"""

import os
import struct

from lab import qemu

from . import cases_grub as grub
from . import harness
from .cases_efi import EfiCase, check_gop_line
from .cases_efi_chain import CORE, grub_netdir
from .cases_mb2 import (MB2_BOOT_MAGIC, MB2_HEADER_MAGIC, Mb2RelocCase,
                        check_mb2, compare_with_grub, read_variant)
from .harness import CheckFailed, Checker, run_qemu

# EFI memory types (UEFI 2.x, 7.2) that are RAM once boot services exit:
# loader and boot services code and data, conventional memory.
EFI_RAM_TYPES = (1, 2, 3, 4, 7)
EFI_LOADER_DATA = 2
PAGE = 4096
GIB4 = 1 << 32


def hex64(ck, values, key):
    """The value of `TK key=0x` + 16 hex digits, or None (a failure)."""
    raw = values.get(key, "")
    ok = ck.expect(len(raw) == 18 and raw.startswith("0x") and
                   all(c in "0123456789abcdef" for c in raw[2:]),
                   "TK %s=%r is not 0x + 16 lower-case hex digits"
                   % (key, raw))
    return int(raw, 16) if ok else None


def efi_descriptors(values):
    """The `TK efimap N=type base pages` lines as (type, base, len)."""
    out = []
    for i in range(int(values.get("efi_mmap_count", "0"))):
        raw = values.get("efimap %d" % i)
        if raw is None:
            break
        t, base, pages = raw.split()
        out.append((int(t), int(base, 16), int(pages, 16) * PAGE))
    return out


def merged(ranges):
    """Sorted [start, end) ranges with touching ones merged."""
    out = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def check_efi_tags(ck, rep, kept):
    """The EFI tags of a report: 12, 17 against 6 and the info, and 18/20
    exactly when the boot services were kept (@kept)."""
    v = rep["values"]
    st = hex64(ck, v, "efi64_st")
    ck.expect(st is not None and 0 < st < GIB4, "EFI system table tag 12: "
              "%s (a pointer below 4 GiB expected)" % v.get("efi64_st"))
    ck.expect(v.get("efi64_st_signature") == "ok",
              "the kernel found no EFI system table signature at tag 12")
    ck.expect(v.get("efi_mmap desc_size", "0") != "0", "no EFI memory map")
    descs = efi_descriptors(v)
    ck.expect(descs and len(descs) == int(v.get("efi_mmap_count", "-1")),
              "efi_mmap_count=%s but %d descriptors" %
              (v.get("efi_mmap_count"), len(descs)))
    # The same bytes are RAM in both maps (tag 6 keeps what lies below
    # 4 GiB and above, as the firmware's map has it).
    efi_ram = merged((b, b + n) for t, b, n in descs if t in EFI_RAM_TYPES)
    mb_ram = merged((e["base"], e["base"] + e["len"]) for e in rep["mmap"]
                    if e["type"] == 1)
    ck.expect(efi_ram == mb_ram, "RAM in the EFI memory map %s, in the "
              "memory map tag %s" % (["%#x-%#x" % tuple(r) for r in efi_ram],
                                     ["%#x-%#x" % tuple(r) for r in mb_ram]))
    info = harness.get_hex8(ck, v, "info")
    total = int(v.get("mb2 total_size", "0"))
    ck.expect(info is not None and any(
        t == EFI_LOADER_DATA and b <= info and info + total <= b + n
        for t, b, n in descs),
        "the info at %s is not in a loader-data descriptor of tag 17 (not "
        "the map taken after its pages were allocated)" % v.get("info"))
    ck.expect("acpi_new len" in v, "no ACPI new RSDP tag (OVMF has ACPI "
              "2.0)")
    if kept:
        ck.expect("efi_bs_kept" in rep["markers"], "no tag 18 (boot "
                  "services not terminated)")
        ih = hex64(ck, v, "efi64_ih")
        ck.expect(ih is not None and 0 < ih < GIB4, "image handle tag 20: "
                  "%s (a pointer below 4 GiB expected)" % v.get("efi64_ih"))
    else:
        ck.expect("efi_bs_kept" not in rep["markers"], "tag 18 though the "
                  "boot services were exited")
        ck.expect("efi64_ih" not in v, "tag 20 though the boot services "
                  "were exited")


class EfiMb2Case(EfiCase):
    """pulsar.efi boots @kernel_name as demo/kernel.elf with the demo
    modules; check_mb2, then the EFI tags (@kept: boot services kept);
    @console: texts a Pulsar console line must hold; @check_fn(ck, rep,
    text): more checks."""

    def __init__(self, opts, name, kernel_name, kept=False, console=(),
                 check_fn=None, qemu_kw=None):
        super().__init__(opts)
        self.name = name
        self.kernel_name = kernel_name
        self.kept = kept
        self.console = console
        self.check_fn = check_fn
        self.qemu_kw = qemu_kw

    def run(self, tmp):
        modules = harness.demo_modules()
        files = {"demo/kernel.elf": read_variant(self.opts, self.kernel_name)}
        files.update(("demo/" + k, v) for k, v in modules.items())
        root = self.write_efi_tftp(tmp, harness.DEMO_CONFIG, files)
        items = harness.config_items(harness.DEMO_CONFIG)
        cmdline = [i for i in items if i["kind"] == "exec"][-1]["cmdline"]
        mods = [(it["cmdline"], modules[it["name"]])
                for it in items if it["kind"] == "load"]
        rc, text, secs, ended = self.boot(tmp, root, self.qemu_kw)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s"
                               % (2 * self.opts.timeout)])
        ck = Checker()
        rep = check_mb2(ck, text, rc, cmdline, mods)
        check_efi_tags(ck, rep, self.kept)
        lines = [ln.split("\r")[-1] for ln in text.splitlines()]
        for piece in self.console:
            ck.expect(any(ln.startswith("pulsar: ") and piece in ln
                          for ln in lines),
                      "no Pulsar console line with %r" % piece)
        if self.check_fn:
            self.check_fn(ck, rep, text)
        ck.done()
        return {"secs": secs, "rc": rc}


def mb2_efi64_entry(kernel):
    """The amd64 EFI entry address (header tag 9) of @kernel's bytes."""
    at = kernel.find(MB2_HEADER_MAGIC)
    end = at + struct.unpack_from("<I", kernel, at + 8)[0]
    at += 16
    while at + 8 <= end:
        typ, _, size = struct.unpack_from("<HHI", kernel, at)
        if typ == 9:
            return struct.unpack_from("<I", kernel, at + 8)[0]
        if typ == 0 or size < 8:
            break
        at += (size + 7) & ~7
    return None


def elf64_entry(kernel):
    """e_entry of an ELF64 file's bytes."""
    return struct.unpack_from("<Q", kernel, 24)[0]


def check_efi64(opts, kernel_name, tag9=True):
    """The checks of a kernel entered in 64-bit mode with the boot services
    kept (the `TK efi64_*` lines of testkernel-efi64.elf): at its amd64
    EFI entry (@tag9), else at its ELF64 entry."""
    def check(ck, rep, text):
        v = rep["values"]
        ck.expect(v.get("efi64_entry") == "yes", "the amd64 EFI entry did "
                  "not run")
        ck.expect(v.get("efi64_magic") == "0x%08x" % MB2_BOOT_MAGIC,
                  "EAX at the amd64 EFI entry: %s" % v.get("efi64_magic"))
        rbx = hex64(ck, v, "efi64_rbx")
        info = harness.get_hex8(ck, v, "info")
        ck.expect(rbx is not None and rbx == info, "RBX=%s at the amd64 "
                  "entry, info=%s" % (v.get("efi64_rbx"), v.get("info")))
        ck.expect(v.get("efi64_gmm_status") == "0x" + "0" * 16,
                  "GetMemoryMap through the system table: status %s (boot "
                  "services not alive?)" % v.get("efi64_gmm_status"))
        ck.expect(v.get("efi64_gmm_desc_size") ==
                  v.get("efi_mmap desc_size"), "GetMemoryMap's descriptor "
                  "size %s, tag 17's %s" % (v.get("efi64_gmm_desc_size"),
                                            v.get("efi_mmap desc_size")))
        kernel = read_variant(opts, kernel_name)
        entry = mb2_efi64_entry(kernel) if tag9 else elf64_entry(kernel)
        want = "multiboot2 on UEFI: boot services kept, 64-bit at the %s " \
            "entry at %08x" % ("amd64 EFI" if tag9 else "ELF64", entry or 0)
        ck.expect(entry is not None and any(
            ln.startswith("pulsar: ") and want in ln
            for ln in text.splitlines()), "no Pulsar line %r" % want)
    return check


# Values both loaders give alike on UEFI (the test kernel's report).
GRUB_SAME = ["mem_lower", "mem_upper", "mods_count", "syms_num",
             "syms_size", "syms_shndx", "kernel", "text_crc32", "efi64_st",
             "efi64_st_signature", "efi_mmap desc_size", "efi_mmap version",
             "acpi_old len", "acpi_new len", "network_yiaddr",
             "network_siaddr"]
# And for a kernel that keeps the boot services: how it was entered, and
# tag 18 (the image handles are each loader's own).
GRUB_EFI64_SAME = ["efi64_entry", "efi64_magic", "efi64_efer", "efi64_cr0",
                   "efi64_if", "efi64_gmm_status", "efi64_gmm_desc_size"]
# What GRUB leaves out for a kernel that keeps the boot services.
GRUB_NO_MAPS = ["mem_lower", "mem_upper", "efi_mmap desc_size",
                "efi_mmap version"]
# Compared when GRUB gives them too.
GRUB_IF_BOTH = ["fb_type", "fb_width", "fb_height", "fb_bpp", "fb_pitch",
                "fb_addr", "smbios_version", "smbios_len"]


class EfiGrubMb2Case(EfiCase):
    """The Multiboot2 test kernel under GRUB x86_64-efi's `multiboot2` and
    `module2` (OVMF's PXE loads GRUB's netboot core.efi, made by
    grub-mknetdir) and under pulsar.efi, the same modules and arguments:
    each report passes check_mb2, Pulsar's the EFI tag checks too, and
    they agree value by value (GRUB_SAME; GRUB_IF_BOTH where GRUB gives
    them) and module by module (size, CRC-32)."""

    def __init__(self, opts, name, kernel_name, kept=False):
        super().__init__(opts)
        self.name = name
        self.kernel_name = kernel_name
        self.kept = kept  # the kernel keeps the boot services
        self.same = GRUB_SAME
        if kept:  # GRUB gives no memory tags then (spec: it "may not")
            self.same = [k for k in GRUB_SAME if k not in GRUB_NO_MAPS] + \
                GRUB_EFI64_SAME
        self.log_text = ""

    def boot_one(self, tmp, which, root, bootfile, cmdline, mods):
        """Boot @bootfile from @root; check the report; return it."""
        log = os.path.join(tmp, "serial-%s.log" % which)
        rc, text, secs, ended = run_qemu(
            qemu.ovmf(root, log, tmp, bootfile=bootfile), log,
            3 * self.opts.timeout)
        self.log_text += "=== %s ===\n%s" % (which, text)
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["%s: timed out after %d s"
                               % (which, 3 * self.opts.timeout)])
        ck = Checker()
        rep = check_mb2(ck, text, rc, cmdline, mods,
                        loader="GRUB" if which == "grub" else "Pulsar",
                        pulsar=which == "pulsar",
                        maps=which == "pulsar" or not self.kept)
        if which == "pulsar":
            check_efi_tags(ck, rep, self.kept)
        ck.failures = ["%s: %s" % (which, f) for f in ck.failures]
        ck.done()
        return rep, secs

    def run(self, tmp):
        fname = "kernel.elf"
        modules = harness.demo_modules()
        files = {fname: read_variant(self.opts, self.kernel_name),
                 "boot/grub/grub.cfg": grub.grub_cfg(fname, "2").encode()}
        files.update(modules)
        groot = self.write_efi_tftp(os.path.join(tmp, "grub"), "", files)
        grub_netdir(groot)
        g, s1 = self.boot_one(
            tmp, "grub", groot, CORE, grub.KERNEL_ARGS,
            [(a, modules[n]) for n, a in grub.MODULE_ARGS.items()])
        proot = self.write_efi_tftp(os.path.join(tmp, "pulsar"),
                                    grub.pulsar_cfg(fname), files)
        p, s2 = self.boot_one(
            tmp, "pulsar", proot, "pulsar.efi",
            "/%s %s" % (fname, grub.KERNEL_ARGS),
            [("/%s %s" % (n, a), modules[n])
             for n, a in grub.MODULE_ARGS.items()])
        ck = Checker()
        gv, pv = g["values"], p["values"]
        compare_with_grub(ck, g, p, self.same, GRUB_IF_BOTH)
        if self.kept:
            ck.expect("efi_bs_kept" in g["markers"] and "efi64_ih" in gv,
                      "GRUB gave no tag 18 or 20")
        ck.done()
        keys = [k for k in set(gv) | set(pv) if not k.startswith("efimap ")]
        print("    %s: values only GRUB gave: %s; only Pulsar: %s; both, "
              "unlike: %s" % (
                  self.name, " ".join(sorted(set(keys) - set(pv))) or "-",
                  " ".join(sorted(set(keys) - set(gv))) or "-",
                  " ".join(sorted(k for k in keys if k in gv and k in pv
                                  and gv[k] != pv[k])) or "-"))
        return {"secs": s1 + s2}


def check_video(ck, rep, text):
    """Tag 8 for the kernel's 800x600x32 wish: the GOP mode Pulsar set and
    named, the adapter really in it (the kernel reads its registers), the
    framebuffer inside its BAR (check_gop_line)."""
    v = rep["values"]
    want = {"fb_type": "1", "fb_width": "800", "fb_height": "600",
            "fb_bpp": "32", "dispi_enabled": "1",
            "dispi_mode": "800x600x32"}
    for key, value in want.items():
        ck.expect(v.get(key) == value, "TK %s=%s, expected %s"
                  % (key, v.get(key), value))
    ck.expect("fb_bar" in v, "no `TK fb_bar=` line")
    check_gop_line(ck, rep, [ln.split("\r")[-1] for ln in text.splitlines()],
                   False)


class EfiMb2RelocCase(Mb2RelocCase, EfiCase):
    """Mb2RelocCase under OVMF: pulsar.efi places the relocatable kernel
    against the EFI map (boot services exited, the trampoline moves it)
    and pulsar-check --firmware efi plans the same place."""

    checker_args = ["--firmware", "efi"]

    def start(self, tmp, config, files, log):
        root = self.write_efi_tftp(tmp, config, files)
        return root, run_qemu(qemu.ovmf(root, log, tmp), log,
                              2 * self.opts.timeout)


def cases(opts):
    """The Multiboot2 cases on UEFI."""
    exited = "boot services exited, 32-bit protected mode"
    return [
        EfiMb2Case(opts, "efi-mb2-elf32", "testkernel-mb2.elf",
                   console=["multiboot2 ELF32", exited,
                            "multiboot2 info at"]),
        EfiMb2Case(opts, "efi-mb2-both-default", "testkernel-both.elf",
                   console=["both multiboot headers: Multiboot2 (the "
                            "default", exited]),
        EfiMb2Case(opts, "efi-mb2-efi64", "testkernel-efi64.elf", kept=True,
                   console=["multiboot2 ELF64", "boot services kept"],
                   check_fn=check_efi64(opts, "testkernel-efi64.elf")),
        EfiMb2Case(opts, "efi-mb2-efi64-elf-entry",
                   "testkernel-efi64elf.elf", kept=True,
                   console=["multiboot2 ELF64", "boot services kept"],
                   check_fn=check_efi64(opts, "testkernel-efi64elf.elf",
                                        tag9=False)),
        EfiMb2Case(opts, "efi-mb2-bs-elf32", "testkernel-efibs32.elf",
                   console=["multiboot2 ELF32", exited],
                   check_fn=lambda ck, rep, text: ck.expect(
                       "efi64_entry" not in rep["values"],
                       "the 64-bit entry ran in an ELF32 kernel")),
        EfiMb2Case(opts, "efi-mb2-video", "testkernel-mb2video.elf",
                   console=["multiboot2 ELF32", exited],
                   check_fn=check_video),
        EfiMb2RelocCase(opts, "efi-mb2-relocatable", "testkernel-reloc.elf"),
        EfiMb2RelocCase(opts, "efi-mb2-relocatable-high",
                        "testkernel-reloc-high.elf"),
        EfiGrubMb2Case(opts, "efi-grub-mb2", "testkernel-mb2.elf"),
        EfiGrubMb2Case(opts, "efi-grub-mb2-efi64", "testkernel-efi64.elf",
                       kept=True),
    ]

