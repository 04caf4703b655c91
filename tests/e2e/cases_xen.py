"""Xen 4.17 from Debian, as shipped, through Multiboot2 (issue 18).

The hypervisor is Debian's `xen-hypervisor-4.17-amd64` package's
`/boot/xen-4.17-amd64.gz` (fetched with `apt-get download` into the
git-ignored cache/, like cases_linux.py's kernel), booted gzipped with
both its headers: Pulsar unpacks it on the way, takes Multiboot2 (the
default), relocates it where its header asks, and passes Debian's kernel
and the busybox initramfs of cases_linux.py as dom0's modules.  The case
passes when dom0's /init prints its marker with dom0's command line
(Xen passes a module's command line without its first word, the file
name Pulsar puts there as GRUB does), Xen names Pulsar as its boot
loader and echoes its command line, and Pulsar's console says Multiboot2
and the gzip sizes.

- xen-mb2-bios: the NBP on SeaBIOS.
- xen-mb2-efi: pulsar.efi on OVMF (q35, 1 GiB): Xen's header has the
  EFI boot services tag and an amd64 EFI entry, so pulsar.efi keeps the
  boot services, relocates Xen (its relocatable tag) into memory the
  firmware does not hold, and enters in 64-bit mode (its console says so)
  with the system table and image handle tags; Xen's EFI path then
  calls ExitBootServices itself.  The same dom0 marker and Xen lines.

Needs network access to the Debian mirror on the first run (or the
cache).
"""

import os

from lab import CACHE, qemu

from . import harness
from .cases_efi import EfiCase
from .cases_linux import (apt_download, apt_update_once, debian_assets,
                          extract_member, initramfs)
from .harness import CheckFailed, Checker

XEN_PKG = "xen-hypervisor-4.17-amd64"
XEN_ARGS = "console=com1 com1=115200,8n1 dom0_mem=384M noreboot"
DOM0_ARGS = "console=hvc0 earlyprintk=xen panic=-1"
XEN_MEM_MIB = 1024
XEN_TIMEOUT = 300
MARKER = "PULSAR-LINUX-OK "  # cases_linux.py's /init


def xen_gz():
    """The path of Debian's xen-4.17-amd64.gz, from cache/."""
    debs = os.path.join(CACHE, "debs")
    try:
        deb = apt_download(XEN_PKG, debs)
    except CheckFailed:
        if not apt_update_once():
            raise
        deb = apt_download(XEN_PKG, debs)
    return extract_member(deb, r"^\./boot/xen-4\.17-amd64\.gz$",
                          os.path.join(CACHE, "xen-4.17-amd64.gz"))


class XenCase(harness.Case):
    """Pulsar boots Debian's gzipped Xen with a Debian dom0 (the NBP on
    SeaBIOS; XenEfiCase: pulsar.efi on OVMF).  @console: texts Pulsar's
    console lines must hold besides the both-header and gzip ones."""

    console = ("multiboot2 ELF32", "relocated to")

    def __init__(self, opts, name):
        super().__init__(opts)
        self.name = name

    def start(self, tmp, config, files, log, timeout):
        """Serve @config and @files, boot, run_qemu's result."""
        root = self.write_tftp(tmp, config, files)
        return harness.run_qemu(qemu.pxe(root, log, mem=XEN_MEM_MIB), log,
                                timeout, stop_marker=MARKER)

    def run(self, tmp):
        with open(xen_gz(), "rb") as f:
            xen = f.read()
        vmlinuz, busybox, pkg = debian_assets()
        with open(vmlinuz, "rb") as f:
            kernel = f.read()
        files = {"xen/xen-4.17-amd64.gz": xen, "xen/vmlinuz": kernel,
                 "xen/initramfs.cpio": initramfs(busybox)}
        config = ("# Debian's Xen as shipped, with a Debian dom0\nroot xen\n"
                  "exec xen-4.17-amd64.gz %s\nload vmlinuz %s\n"
                  "load initramfs.cpio\n" % (XEN_ARGS, DOM0_ARGS))
        log = os.path.join(tmp, "serial.log")
        timeout = max(self.opts.timeout, XEN_TIMEOUT)
        rc, text, secs, ended = self.start(tmp, config, files, log, timeout)
        self.log_text = text
        lines = [ln.rstrip("\r") for ln in text.splitlines()]
        ck = Checker()
        ck.expect(ended != "timeout", "timed out after %d s" % timeout)
        marker = [ln for ln in lines if ln.startswith(MARKER)]
        ck.expect(marker == [MARKER + "cmdline=" + DOM0_ARGS],
                  "dom0 marker lines %r, expected one with cmdline=%r (%s)"
                  % (marker, DOM0_ARGS, pkg))
        for want in ("(XEN) Bootloader: Pulsar",
                     "(XEN) Command line: " + XEN_ARGS):
            ck.expect(any(ln.startswith(want) for ln in lines),
                      "no Xen line %r" % want)
        for want in ("both multiboot headers: Multiboot2 (the default",
                     "unpacked from %d bytes of gzip" % len(xen)) + \
                self.console:
            ck.expect(any(ln.find("pulsar: ") >= 0 and want in ln
                          for ln in lines),
                      "no Pulsar console line with %r" % want)
        ck.expect(not any("pulsar: error" in ln for ln in lines),
                  "Pulsar reported an error")
        ck.done()
        print("    %s: Xen %d bytes gzipped, dom0 %s, %.1f s"
              % (self.name, len(xen), pkg, secs))
        return {"secs": secs, "rc": rc}


class XenEfiCase(XenCase, EfiCase):
    """The same Xen, dom0 and checks under OVMF: pulsar.efi keeps the
    boot services (Xen's tag 7) and enters at Xen's amd64 EFI entry in
    64-bit mode with tags 12 and 20; Xen calls ExitBootServices itself."""

    console = XenCase.console + ("multiboot2 on UEFI: boot services kept, "
                                 "64-bit at the amd64 EFI entry",)

    def start(self, tmp, config, files, log, timeout):
        root = self.write_efi_tftp(tmp, config, files)
        return harness.run_qemu(
            qemu.ovmf(root, log, tmp, mem=XEN_MEM_MIB), log, timeout,
            stop_marker=MARKER)


def cases(opts):
    """The Xen cases."""
    return [XenCase(opts, "xen-mb2-bios"), XenEfiCase(opts, "xen-mb2-efi")]
