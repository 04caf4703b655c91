"""Linux kernels under OVMF (issue 17): pulsar.efi starts a bzImage
through its EFI stub when it has one, else through the 32-bit boot
protocol after ExitBootServices.

- efi-kitten-boot32: the Kitten-shaped test kernel (build/testbzimage-206:
  protocol 2.06, no stub, no handover) with two initrd parts, on OVMF's
  own PXE (virtio-net).  No setup runs; the kernel's protected-mode part
  sees CS 0x10 and reports (tests/linuxkernel/README.md) the entry state,
  the header fields in boot_params, the command line, boot_params' E820
  table, efi_info and the EFI memory map it points at, acpi_rsdp_addr and
  the 8 bytes there, the CRC-32 of itself and of the initrd.  Checked:
  __BOOT_CS/__BOOT_DS, interrupts off, the loader's fields, the command
  line and its pointer, the initrd (size, CRC-32, alignment, high in RAM
  below initrd_addr_max), the protected-mode part byte for byte at 1 MiB,
  "EL64", the system table's signature "IBI SYST", descriptor size and
  version, the E820 table equal to the EFI map the kernel was handed
  converted as the kernel may use it (boot services, loader and
  conventional memory free), and "RSD PTR " at acpi_rsdp_addr.
- efi-linux-stub-initrd: Debian's kernel (an EFI-stub bzImage; the same
  package and busybox initramfs as cases_linux.py) with two initrd parts
  (the first 2 bytes short of a 4-byte boundary) under OVMF: LoadImage,
  LoadOptions, the initrd through LoadFile2 on
  LINUX_EFI_INITRD_MEDIA_GUID, StartImage; /init prints /proc/cmdline
  and the SHA-256 of 48 MiB that arrived as the second part.
- efi-linux-stub-bad-pe: a bzImage whose PE header has no sections
  (tests/check's generated Debian-like image with an EFI stub's header):
  pulsar.efi takes the stub path, the firmware's LoadImage refuses it,
  and the error names the call, the file and the status by name (OVMF:
  EFI_UNSUPPORTED, for an image it cannot load); the
  attempt fails and Pulsar starts over (the initrd's LoadFile2 handle
  removed again).
"""

import struct

from lab import qemu
from lab.images import MIB, PAGE, bzimage_like_debian

from . import harness
from .cases_efi import EfiCase
from .cases_linux import (KITTEN_ARGS, LINUX_MEM_MIB, BzCase, LinuxCase,
                          check_initrd, check_kernel_end, hexval, kt_report,
                          ram_covers)
from .harness import BOOT_FAILED, CheckFailed, Checker, check_error, unescape

# What the kernel may use after ExitBootServices (loader/efimap.c): loader
# code/data, boot services code/data, conventional memory.
EFI_FREE = {1, 2, 3, 4, 7}
EFI_TO_E820 = {9: 3, 10: 4, 8: 5}  # ACPI reclaim, ACPI NVS, unusable
SYSTAB_SIG = struct.unpack("<Q", b"IBI SYST")[0]
RSDP_SIG = struct.unpack("<Q", b"RSD PTR ")[0]


def split_efimd(text):
    """(text without the `KT efimd` lines, [(type, phys, pages)])."""
    keep, mds = [], []
    for line in text.replace("\r", "").splitlines():
        if line.startswith("KT efimd "):
            f = dict(kv.split("=") for kv in line.split()[2:])
            mds.append((int(f["type"], 16), int(f["phys"], 16),
                        int(f["pages"], 16)))
        else:
            keep.append(line)
    return "\n".join(keep), mds


def efi_to_e820(mds):
    """The EFI map as E820 entries by the rules the kernel relies on:
    sorted, each type converted, touching entries of one type merged."""
    out = []
    for typ, phys, pages in sorted(mds, key=lambda m: m[1]):
        e820 = 1 if typ in EFI_FREE else EFI_TO_E820.get(typ, 2)
        if out and out[-1]["type"] == e820 and \
                out[-1]["base"] + out[-1]["len"] == phys:
            out[-1]["len"] += pages * PAGE
        elif pages:
            out.append({"base": phys, "len": pages * PAGE, "type": e820})
    return out


class EfiKittenCase(EfiCase, BzCase):
    """The stub-less test bzImage through the 32-bit boot protocol:
    BzCase's files and config on OVMF, checked from boot_params."""

    def __init__(self, opts, name, image, parts, args):
        BzCase.__init__(self, opts, name, image, parts, args)

    def write_root(self, tmp, config, files):
        return self.write_efi_tftp(tmp, config, files)

    def boot_run(self, tmp, root):
        return self.boot(tmp, root)

    def check(self, text, rc, image, blob):
        """Every `KT` line against the files and the EFI map."""
        ck = Checker()
        ck.expect(("bzImage: no EFI stub: started through the 32-bit boot "
                   "protocol at 00100000 after ExitBootServices") in text,
                  "no line saying which path")
        rest, mds = split_efimd(text)
        rep = kt_report(ck, rest, ["begin", "boot32"],
                        "reported a 32-bit entry")
        v = rep["values"]

        # The protocol's entry state.
        ck.expect(hexval(ck, v, "cs") == 0x10, "cs=%s, expected 0x10 "
                  "(__BOOT_CS)" % v.get("cs"))
        for k in ("ds", "es", "ss"):
            ck.expect(hexval(ck, v, k) == 0x18, "%s=%s, expected 0x18 "
                      "(__BOOT_DS)" % (k, v.get(k)))
        ck.expect(hexval(ck, v, "if") == 0, "interrupts were on at entry")

        # Header fields in boot_params.
        ck.expect(hexval(ck, v, "version") ==
                  struct.unpack_from("<H", image, 0x206)[0],
                  "version differs from the file's")
        ck.expect(hexval(ck, v, "type_of_loader") == 0xFF,
                  "type_of_loader=%s" % v.get("type_of_loader"))
        ck.expect((hexval(ck, v, "loadflags") or 0) & 1, "LOADED_HIGH lost")
        ck.expect(hexval(ck, v, "code32_start") == 0x100000,
                  "code32_start=%s" % v.get("code32_start"))
        got_cmd = unescape(v.get("cmdline", ""))
        ck.expect(got_cmd == self.args, "cmdline=%r, expected %r"
                  % (got_cmd, self.args))
        bp = hexval(ck, v, "boot_params")
        cmdptr = hexval(ck, v, "cmd_line_ptr")
        e820 = rep["e820"]
        if bp is not None:
            ck.expect(bp % PAGE == 0 and ram_covers(e820, bp, bp + PAGE),
                      "boot_params at %#x: not a page of RAM" % bp)
        if cmdptr is not None:
            ck.expect(ram_covers(e820, cmdptr, cmdptr + len(self.args) + 1),
                      "cmd_line_ptr=%#x is not in RAM" % cmdptr)

        # The E820 table: the EFI map the kernel was handed, converted.
        ck.expect(hexval(ck, v, "e820_count") == len(e820),
                  "e820_count differs from the %d entries" % len(e820))
        ck.expect(len(mds) > 0, "no EFI memory descriptors reported")
        want = efi_to_e820(mds)
        ck.expect(e820 == want, "boot_params' E820 table is not the EFI "
                  "map converted: got %r, expected %r" % (e820[:8], want[:8]))
        ck.expect(sum(e["len"] for e in e820 if e["type"] == 1) <=
                  harness.MEM_MIB * MIB, "more E820 RAM than -m")

        # efi_info.
        ck.expect(hexval(ck, v, "efi_loader_signature") ==
                  struct.unpack("<I", b"EL64")[0],
                  "efi_loader_signature=%s, expected \"EL64\""
                  % v.get("efi_loader_signature"))
        ck.expect(hexval(ck, v, "efi_systab_hi") == 0 and
                  hexval(ck, v, "efi_memmap_hi") == 0,
                  "system table or map above 4 GiB (OVMF has both below)")
        ck.expect(hexval(ck, v, "efi_systab_signature") == SYSTAB_SIG,
                  "no \"IBI SYST\" at efi_systab (%s)"
                  % v.get("efi_systab_signature"))
        dsz = hexval(ck, v, "efi_memdesc_size")
        ck.expect(dsz is not None and dsz >= 40, "efi_memdesc_size=%s"
                  % v.get("efi_memdesc_size"))
        ck.expect(hexval(ck, v, "efi_memdesc_version") == 1,
                  "efi_memdesc_version=%s" % v.get("efi_memdesc_version"))
        msz = hexval(ck, v, "efi_memmap_size")
        if dsz and msz is not None:
            ck.expect(msz % dsz == 0 and msz // dsz == len(mds),
                      "efi_memmap_size=%#x is not the %d descriptors of %d "
                      "bytes" % (msz, len(mds), dsz))

        # acpi_rsdp_addr: the RSDP, in memory the kernel must keep.
        rsdp = hexval(ck, v, "acpi_rsdp_addr")
        ck.expect(rsdp, "acpi_rsdp_addr is 0")
        ck.expect(hexval(ck, v, "rsdp_signature") == RSDP_SIG,
                  "no \"RSD PTR \" at acpi_rsdp_addr (%s)"
                  % v.get("rsdp_signature"))
        if rsdp:
            ck.expect(not ram_covers(e820, rsdp, rsdp + 20),
                      "the RSDP at %#x lies in E820 RAM" % rsdp)
            ck.expect(("ACPI RSDP at %x " % rsdp) in text,
                      "Pulsar's log names another RSDP address")

        # The initrd and the protected-mode part, as on BIOS.
        check_initrd(ck, v, e820, image, blob)
        check_kernel_end(ck, v, rc, image)
        ck.done()


class EfiLinuxStubCase(EfiCase, LinuxCase):
    """Debian's kernel through its EFI stub: LinuxCase's files, config and
    checks, on OVMF, plus the line naming the stub path."""

    def __init__(self, opts, name, data_mib):
        LinuxCase.__init__(self, opts, name, data_mib)

    def write_root(self, tmp, config, files):
        return self.write_efi_tftp(tmp, config, files)

    def machine(self, root, log, tmp):
        return qemu.ovmf(root, log, tmp, mem=LINUX_MEM_MIB)

    def check_path(self, ck, lines):
        ck.expect(any("vmlinuz: has an EFI stub: started with LoadImage" in ln
                      for ln in lines), "no line saying which path")


class EfiStubRefusedCase(EfiCase):
    """A stub image the firmware cannot load: named error, start over."""

    name = "efi-linux-stub-bad-pe"

    def run(self, tmp):
        config = ("# an EFI stub the firmware refuses\nroot linux\n"
                  "load initrd.img\nexec vmlinuz console=ttyS0\n")
        files = {"linux/vmlinuz": bzimage_like_debian(300000, efi_stub=True),
                 "linux/initrd.img": harness.random_bytes(63, 4099)}
        root = self.write_efi_tftp(tmp, config, files)
        rc, text, secs, ended = self.boot(tmp, root, stop_marker=BOOT_FAILED)
        self.log_text = text
        if ended == "timeout":
            raise CheckFailed(["timed out after %d s without `%s`"
                               % (2 * self.opts.timeout, BOOT_FAILED)])
        want = "pulsar: error: LoadImage linux/vmlinuz: EFI_UNSUPPORTED"
        check_error(text, [
            ("saying the stub path", lambda ln: "vmlinuz: has an EFI stub"
             in ln),
            ("%r" % want, lambda ln: ln == want)])
        return {"secs": secs, "rc": rc}


def cases(opts):
    """The UEFI Linux cases (run.py collects them)."""
    parts = [("init_task", harness.random_bytes(61, MIB + 3)),
             ("part2.bin", harness.random_bytes(62, 70001))]
    return [
        EfiKittenCase(opts, "efi-kitten-boot32", "testbzimage-206", parts,
                      KITTEN_ARGS),
        EfiLinuxStubCase(opts, "efi-linux-stub-initrd", data_mib=48),
        EfiStubRefusedCase(opts),
    ]
