"""`chld` on UEFI (issue 17): pulsar.efi fetches another EFI boot program
and starts it from memory (LoadImage with a source buffer and the NIC's
device path plus a file node, then StartImage), so the child's
LoadedImage->DeviceHandle is the NIC pulsar.efi booted from and it finds
the same network.

- efi-chld-grub: OVMF's PXE (virtio-net) loads pulsar.efi; its config
  says `chld boot/grub/x86_64-efi/core.efi` (GRUB 2's netboot image, made
  by grub-mknetdir from grub-efi-amd64-bin).  GRUB's efinet reads the
  DHCP answer from the PXE Base Code on its DeviceHandle, fetches its
  modules and boot/grub/grub.cfg over TFTP, and boots the multiboot test
  kernel with two modules: every check_boot check, with GRUB's command
  lines (arguments only) and module CRCs.  Pulsar's plan line and its
  "starting" line must show first.
- efi-grub-chainloader: the other direction: OVMF's PXE loads GRUB's
  core.efi as the DHCP boot file, its grub.cfg says `chainloader
  /pulsar.efi`; GRUB names the NIC itself as Pulsar's device and keeps
  its Simple Network open exclusively, so the firmware's network drivers
  are gone.  pulsar.efi closes that hold of its parent, connects the
  NIC's drivers again, starts the PXE Base Code and asks for DHCP (each
  step's line checked), then boots the test kernel with two modules:
  every check_boot check, Pulsar's command lines.
- efi-chld-snponly: `chld snponly.efi` (Debian's iPXE, the build that
  drives only the NIC it was loaded from, through that NIC's Simple
  Network): iPXE must come up on the same NIC (its MAC), configure it
  (10.0.2.15 from QEMU's DHCP) and fetch the DHCP boot file, pulsar.efi,
  over TFTP, as `chain pulsar.efi` in an iPXE script does; the second
  pulsar.efi must start on iPXE's stack and read the same DHCP facts
  there.  Once iPXE runs, the harness changes the config to an `exec`,
  so the second pulsar.efi boots the test kernel with two modules on
  iPXE's stack: every check_boot check.
- efi-chld-returns: the chained GRUB's grub.cfg says `exit`, so GRUB
  returns to pulsar.efi, which reports the status ("returned
  EFI_SUCCESS") and starts over.  GRUB's efinet had taken the NIC from
  the firmware's drivers, which leaves the PXE Base Code half torn down
  on OVMF: the second attempt must disconnect and connect the NIC's
  drivers, ask for DHCP again and, with the config changed meanwhile (by
  the harness, once the first attempt gave up) to an `exec`, boot the
  test kernel with two modules: every check_boot check.
- efi-chld-bios-nbp: `chld pxelinux.0` (a BIOS PXE boot program) is
  refused before anything is started, naming the file and why (no MZ
  header), and Pulsar starts over.

Used-by paths on UEFI: one DHCP setup for both firmwares.  The DHCP
server chooses the boot file by the client architecture the client sends
(option 93): 7 or 9 (x86-64 UEFI) get pulsar.efi, everyone else (0: BIOS)
gets pulsar, with the configs docs/servers.md shows (lab.netboot's
--bootfile-efi writes them).  The same server setup boots a SeaBIOS
machine (e1000, iPXE ROM) and an OVMF machine (virtio-net, OVMF's own
PXE), each to the test kernel with two modules (every check_boot check):

- arch-dnsmasq-bios, arch-dnsmasq-efi: dnsmasq (dhcp-match on
  client-arch); its log must show the client's architecture in the
  vendor class, the efi-x64 tag only for the UEFI client, and the boot
  file sent over TFTP.
- arch-isc-bios, arch-isc-efi: ISC dhcpd (`if option arch = 00:07 or
  ...` in the host entry) with atftpd, whose log must show the file
  served.

OVMF needs about 8-9 s of TCG to reach the boot file; GRUB's own TFTP
adds a few; the timeouts are the runner's tripled.
"""

import os
import re
import subprocess
import threading
import time

from . import harness
from .cases_efi import EFI_FLAGS, EfiCase, read
from .cases_servers import NetbootCase, expect_line, facts_line
from .harness import (BOOT_FAILED, CONFIG_NAME, CheckFailed, Checker,
                      check_boot_into, elf_span, run_qemu)
from lab import netboot, qemu

GRUB_EFI = "/usr/lib/grub/x86_64-efi"
PXELINUX = "/usr/lib/PXELINUX/pxelinux.0"
CORE = "boot/grub/x86_64-efi/core.efi"
KERNEL_ARGS = "console=serial chained=grub-efi"
MODULES = {"m1.bin": (harness.random_bytes(41, 200 * 1024 + 3), "first m"),
           "m2.bin": (harness.random_bytes(42, 9000), "second")}

GRUB_CFG = """\
set timeout=0
set default=0
menuentry "pulsar-chld" {
    multiboot /kernel.elf %s
    module /m1.bin first m
    module /m2.bin second
    boot
}
""" % KERNEL_ARGS


def grub_netdir(root):
    """grub-mknetdir for x86_64-efi into @root (boot/grub/...)."""
    if not os.path.isdir(GRUB_EFI):
        raise CheckFailed(["%s is missing: install grub-efi-amd64-bin "
                           "(make deps)" % GRUB_EFI])
    subprocess.run(["grub-mknetdir", "--net-directory=" + root,
                    "--subdir=boot/grub", "-d", GRUB_EFI], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def serial_lines(text):
    """The serial log's lines, each as the terminal last showed it."""
    return [ln.rstrip("\r").split("\r")[-1] for ln in text.split("\n")]


class EfiKernelCase(EfiCase):
    """An OVMF boot from QEMU's DHCP/TFTP that must end in the test
    kernel's report."""

    def grub_tree(self, tmp, config, grub_cfg):
        """The TFTP root: pulsar.efi with @config, the test kernel and
        MODULES, GRUB's netboot directory with @grub_cfg."""
        files = {"kernel.elf": self.kernel(),
                 "boot/grub/grub.cfg": grub_cfg.encode()}
        files.update((k, v[0]) for k, v in MODULES.items())
        root = self.write_efi_tftp(tmp, config, files)
        grub_netdir(root)
        return root

    def boot_kernel(self, tmp, root, exp, want, bootfile="pulsar.efi",
                    errors_ok=False):
        """Boot @bootfile from @root; the report must meet @exp, the
        serial log hold each line of @want (one ending in "(" only as a
        prefix), and Pulsar report no error (unless @errors_ok)."""
        log = os.path.join(tmp, "serial.log")
        rc, text, secs, ended = run_qemu(
            qemu.ovmf(root, log, tmp, bootfile=bootfile), log,
            3 * self.opts.timeout)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s"
                               % (3 * self.opts.timeout)])
        lines = serial_lines(text)
        ck = Checker()
        for line in want:
            if line.endswith("("):
                ck.expect(any(ln.startswith(line) for ln in lines),
                          "no serial line starting %r" % line)
            else:
                ck.expect(line in lines, "no serial line %r" % line)
        ck.expect(errors_ok or not any(ln.startswith("pulsar: error:")
                                       for ln in lines),
                  "Pulsar reported an error")
        rep = check_boot_into(ck, text, rc, exp)
        ck.done()
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


class EfiChldGrubCase(EfiKernelCase):
    """pulsar.efi -> chld core.efi -> grub.cfg -> multiboot kernel."""

    name = "efi-chld-grub"

    def run(self, tmp):
        root = self.grub_tree(tmp, "# GRUB on UEFI\nchld %s\nexec "
                              "never.elf\n" % CORE, GRUB_CFG)
        size = os.path.getsize(os.path.join(root, CORE))
        exp = {
            # GRUB 2.06 passes the arguments only (cases_grub.py).
            "kernel_cmdline": KERNEL_ARGS,
            "cmdline_exact": True,
            "loader_prefix": "GRUB",
            "modules": [(args, data) for data, args in MODULES.values()],
            "addr": None,
            "kernel_span": elf_span(self.kernel()),
            "required_flags": [0, 2, 3, 6, 9],
            "upper_near_top": False,
        }
        plan = ("pulsar: chainloading %s: %d bytes, an x86-64 EFI "
                "application (" % (CORE, size))
        return self.boot_kernel(tmp, root, exp, [
            plan, "pulsar: starting %s" % CORE])


GRUB_CHAINLOADER_CFG = """\
set timeout=0
set default=0
menuentry "pulsar.efi" {
    chainloader /pulsar.efi
    boot
}
"""

PULSAR_CFG = """\
# pulsar.efi boots the test kernel itself
exec kernel.elf console=serial by=pulsar.efi
load m1.bin first m
load m2.bin second
"""


def pulsar_exp(case):
    """check_boot's expectations for pulsar.efi booting PULSAR_CFG."""
    items = harness.config_items(PULSAR_CFG)
    return {
        "kernel_cmdline": items[0]["cmdline"],
        "cmdline_exact": True,
        "loader_prefix": "Pulsar",
        "modules": [(it["cmdline"], MODULES[it["name"]][0])
                    for it in items[1:]],
        "addr": None,
        "kernel_span": elf_span(case.kernel()),
        "required_flags": EFI_FLAGS,
        "upper_near_top": False,
    }


class EfiGrubChainloaderCase(EfiKernelCase):
    """OVMF -> GRUB core.efi -> chainloader pulsar.efi -> kernel."""

    name = "efi-grub-chainloader"

    def run(self, tmp):
        root = self.grub_tree(tmp, PULSAR_CFG, GRUB_CHAINLOADER_CFG)
        return self.boot_kernel(tmp, root, pulsar_exp(self), [
            "pulsar: the program that started Pulsar holds the NIC open "
            "exclusively: CloseProtocol: EFI_SUCCESS",
            "pulsar: no PXE Base Code below the NIC: its drivers connected "
            "again (ConnectController: EFI_SUCCESS)",
            "pulsar: the NIC's PXE Base Code holds no DHCP answer: asking "
            "for one (PxeBc Dhcp)",
            "pulsar: mac %s ip %s tftp %s root-path ''"
            % (qemu.MAC, qemu.USER_GUEST, harness.TFTP_SERVER)],
            bootfile=CORE)


def chain_until_failed(case, tmp, config, program, package):
    """Boot pulsar.efi under OVMF with @config, @program (a Debian file
    from @package) next to it under its own name, until Pulsar says it
    will start over.  Returns (rc, serial lines, secs)."""
    if not os.path.exists(program):
        raise CheckFailed(["%s is missing: install %s (make deps)"
                           % (program, package)])
    root = case.write_efi_tftp(tmp, config, {os.path.basename(program):
                                             read(program)})
    log = os.path.join(tmp, "serial.log")
    rc, text, secs, _ended = run_qemu(qemu.ovmf(root, log, tmp), log,
                                      3 * case.opts.timeout,
                                      stop_marker=BOOT_FAILED)
    case.log_text = text
    return rc, serial_lines(text), secs


class EfiChldBiosNbpCase(EfiCase):
    """chld of a BIOS NBP on UEFI: refused with the file and the reason."""

    name = "efi-chld-bios-nbp"

    def run(self, tmp):
        rc, lines, secs = chain_until_failed(
            self, tmp, "# a BIOS NBP\nchld pxelinux.0\n", PXELINUX,
            "pxelinux")
        want = ("pulsar: error: %s:2: chld: pxelinux.0: not an EFI program: "
                "no MZ header (chld on UEFI starts x86-64 EFI applications; "
                "a BIOS PXE boot program such as pxelinux.0 cannot run "
                "there)" % CONFIG_NAME)
        ck = Checker()
        ck.expect(want in lines, "no serial line %r" % want)
        ck.expect(not any(ln.startswith("pulsar: starting") for ln in lines),
                  "Pulsar started something")
        ck.expect(any(ln.startswith(BOOT_FAILED) for ln in lines),
                  "no %r line: Pulsar did not go on to start over"
                  % BOOT_FAILED)
        ck.done()
        return {"secs": secs, "rc": rc}


# --------------------------------------------- one DHCP setup, two firmwares

ARCH_CONFIG = """\
# one config for both firmwares
exec arch/kernel.elf console=serial
load arch/m1.bin first m
load arch/m2.bin second
"""


def arch_layout(server, firmware):
    """pulsar, pulsar.efi, the config and the test kernel with two small
    modules; the server chooses the boot file by option 93."""
    def layout(case, _tmp):
        files = {"pulsar": read(case.opts.nbp), "pulsar.efi":
                 read(case.opts.efi), "arch/kernel.elf": case.kernel()}
        files.update(("arch/" + k, v[0]) for k, v in MODULES.items())
        lay = {"tftp": files, "config": ARCH_CONFIG,
               "modules": {"arch/" + k: v[0] for k, v in MODULES.items()},
               "netboot": {"server": server, "firmware": firmware,
                           "bootfile": "pulsar",
                           "bootfile_efi": "pulsar.efi"}}
        if firmware == "efi":
            lay["exp"] = {"required_flags": EFI_FLAGS,
                          "upper_near_top": False}
        return lay
    return layout


def check_arch(firmware):
    """Pulsar's face matches the firmware, it read the real server's
    facts, and the server's log shows why it got its boot file."""
    efi = firmware == "efi"
    name = "pulsar.efi" if efi else "pulsar"

    def check(case, res, lines, ck):
        banner = ("Pulsar 0.1: multiboot PXE loader (UEFI x86-64)" if efi
                  else "Pulsar 0.1")
        expect_line(ck, lines, banner, "the %s build ran" % name,
                    prefix=True)
        ck.expect(efi == any("(UEFI x86-64)" in ln for ln in lines),
                  "the wrong build of Pulsar ran")
        expect_line(ck, lines, facts_line(harness.MAC, netboot.GUEST_IP,
                                          netboot.DHCP_IP, ""))
        if case.arch_server == "dnsmasq":
            log = case.log("dnsmasq.log")
            arch = "00007" if efi else "00000"
            ck.expect("vendor class: PXEClient:Arch:%s:" % arch in log,
                      "dnsmasq.log shows no client of architecture %s"
                      % arch)
            ck.expect(efi == bool(re.search(r"tags: .*efi-x64", log)),
                      "dnsmasq.log: the efi-x64 tag %s"
                      % ("missing" if efi else "set for a BIOS client"))
            ck.expect(re.search(r"bootfile-name\s+%s$" % re.escape(name),
                                log, re.M),
                      "dnsmasq.log: bootfile-name %s not sent" % name)
            ck.expect(re.search(r"sent \S*/tftp/%s to %s" % (
                re.escape(name), re.escape(netboot.GUEST_IP)), log),
                "dnsmasq.log does not show %s sent to the guest" % name)
        else:
            log = case.log("atftpd.out")
            ck.expect("Serving %s to %s:" % (name, netboot.GUEST_IP) in log,
                      "atftpd.out does not show %s served" % name)
            other = "pulsar" if efi else "pulsar.efi"
            ck.expect("Serving %s to" % other not in log,
                      "atftpd.out shows %s served too" % other)
            ck.expect("if option arch = 00:07 or option arch = 00:09"
                      in case.log("dhcpd.conf"),
                      "dhcpd.conf does not choose by option 93")
    return check


class ArchCase(NetbootCase):
    """A NetbootCase of the one-setup-for-both-firmwares server."""

    def __init__(self, opts, server, firmware):
        short = "isc" if server.startswith("isc") else server
        super().__init__(opts, "arch-%s-%s" % (short, firmware),
                         arch_layout(server, firmware), check_arch(firmware))
        self.arch_server = short
        self.needs_efi = True


def when_logged(log, text, action):
    """Run @action() once @text shows in file @log (a daemon thread that
    polls it); returns an Event that stops the thread when set."""
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                with open(log, "rb") as f:
                    if text.encode() in f.read():
                        action()
                        return
            except OSError:
                pass
            time.sleep(0.2)
    threading.Thread(target=poll, daemon=True).start()
    return stop


class EfiChldReturnsCase(EfiKernelCase):
    """chld core.efi, which exits: reported, started over; the second
    attempt finds the network again and boots a kernel."""

    name = "efi-chld-returns"

    def run(self, tmp):
        root = self.grub_tree(tmp, "chld %s\n" % CORE,
                              "echo leaving\nexit\n")

        def now_boot_the_kernel():
            with open(os.path.join(root, CONFIG_NAME), "w") as f:
                f.write(PULSAR_CFG)
        stop = when_logged(os.path.join(tmp, "serial.log"), BOOT_FAILED,
                           now_boot_the_kernel)
        try:
            return self.boot_kernel(tmp, root, pulsar_exp(self), [
                "pulsar: error: %s:1: chld: %s returned EFI_SUCCESS"
                % (CONFIG_NAME, CORE),
                "pulsar: starting over (attempt 2)",
                "pulsar: still none: the NIC's drivers disconnected "
                "(EFI_SUCCESS) and connected again (EFI_SUCCESS)",
                "pulsar: the NIC's PXE Base Code holds no DHCP answer: "
                "asking for one (PxeBc Dhcp)"], errors_ok=True)
        finally:
            stop.set()


SNPONLY = "/usr/lib/ipxe/snponly.efi"


class EfiChldSnponlyCase(EfiKernelCase):
    """pulsar.efi -> chld snponly.efi -> iPXE on the same NIC -> DHCP boot
    file (pulsar.efi again, as `chain pulsar.efi` does) over iPXE's TFTP
    -> the test kernel, booted by the second pulsar.efi on iPXE's stack."""

    name = "efi-chld-snponly"

    def run(self, tmp):
        if not os.path.exists(SNPONLY):
            raise CheckFailed(["%s is missing: install ipxe (make deps)"
                               % SNPONLY])
        files = {"kernel.elf": self.kernel(), "snponly.efi": read(SNPONLY)}
        files.update((k, v[0]) for k, v in MODULES.items())
        root = self.write_efi_tftp(tmp, "chld snponly.efi\n", files)

        # Once iPXE runs, the config says `exec`: the pulsar.efi iPXE
        # chains boots the test kernel.
        def now_boot_the_kernel():
            with open(os.path.join(root, CONFIG_NAME), "w") as f:
                f.write(PULSAR_CFG)
        stop = when_logged(os.path.join(tmp, "serial.log"),
                           "iPXE initialising devices", now_boot_the_kernel)
        facts = "pulsar: mac %s ip %s tftp %s root-path ''" % (
            qemu.MAC, qemu.USER_GUEST, harness.TFTP_SERVER)
        try:
            result = self.boot_kernel(tmp, root, pulsar_exp(self), [
                "pulsar: chainloading snponly.efi: %d bytes, an x86-64 EFI "
                "application (" % os.path.getsize(SNPONLY),
                "pulsar: starting snponly.efi",
                "tftp://%s/pulsar.efi... ok" % harness.TFTP_SERVER,
                facts])
        finally:
            stop.set()
        # In this order: Pulsar, iPXE, the second Pulsar, the kernel.
        lines = serial_lines(self.log_text)
        order = ["pulsar: starting snponly.efi",
                 "iPXE initialising devices...ok",
                 "Configuring (net0 %s)" % qemu.MAC,
                 "tftp://%s/pulsar.efi... ok" % harness.TFTP_SERVER,
                 "Pulsar 0.1: multiboot PXE loader (UEFI x86-64)",
                 "pulsar: starting kernel.elf at "]
        ck = Checker()
        pos = 0
        for w in order:
            at = next((i for i in range(pos, len(lines))
                       if lines[i].startswith(w)), None)
            if not ck.expect(at is not None, "no serial line starting %r "
                             "after line %d" % (w, pos)):
                break
            pos = at + 1
        ck.expect(any(ln.startswith("Configuring (net0 %s)" % qemu.MAC)
                      and ln.endswith(" ok") for ln in lines),
                  "iPXE did not configure net0")
        ck.done()
        return result


def cases(opts):
    """Every case of this file (tests/e2e/run.py collects them)."""
    return [EfiChldGrubCase(opts), EfiGrubChainloaderCase(opts),
            EfiChldReturnsCase(opts), EfiChldSnponlyCase(opts),
            EfiChldBiosNbpCase(opts)] + [
        ArchCase(opts, server, firmware)
        for server in ("dnsmasq", "isc+atftpd")
        for firmware in ("bios", "efi")]
