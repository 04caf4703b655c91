"""End-to-end cases for Pulsar's fast transfers against a real server
(atftpd), with and without RFC 7440 windowsize, on both paths:

  e1000    the NIC fast path (boot/bios/nic.c drives the 82540EM itself):
           Pulsar's own client, windowed when granted, lock-step if not
  rtl8139  no fast path: Pulsar's own client over the PXE UDP API when
           windowsize is granted, else the ROM's TFTP (the modules whole,
           PXENV_TFTP_READ_FILE straight into their place)

Each case runs dnsmasq (DHCP only) and atftpd in a private network
namespace (lab.netns.NetNS) with QEMU attached to its tap device, boots the
demo config and checks the test kernel's full report (module sizes and
CRC-32s included) plus the lines in which Pulsar names the path and the
window it got, on the e1000 Pulsar's count of the transfers that ran
on the fast path, and on the rtl8139 its count of the ROM's transfers that
came whole (every module without a window, none with one).  Needs root (network namespaces), atftpd and dnsmasq
(scripts/deps.sh).
"""

import os
import subprocess
import time

from lab import qemu, servers
from lab.netns import NetNS

from . import harness
from .harness import CheckFailed

SERVER = "10.77.0.1"
WINDOW_LINE = "pulsar: tftp %s grants windowsize " % SERVER
FAST_LINE = harness.FAST_PATH_LINE


class AtftpdCase(harness.Case):
    """Boot the demo from atftpd; @window: does the server grant one;
    @nic: the QEMU NIC model (e1000: the fast path)."""

    def __init__(self, opts, name, window, nic):
        super().__init__(opts)
        self.name = name
        self.window = window
        self.nic = nic

    def run(self, tmp):
        if os.geteuid() != 0:
            raise CheckFailed(["needs root for a network namespace"])
        try:
            servers.find_program("atftpd")
            servers.find_program("dnsmasq")
        except servers.SetupError as e:
            raise CheckFailed([str(e)])
        config = harness.DEMO_CONFIG
        modules = harness.demo_modules()
        files = {"demo/kernel.elf": self.kernel()}
        files.update(("demo/" + k, v) for k, v in modules.items())
        root = self.write_tftp(tmp, config, files)
        os.chmod(tmp, 0o755)  # atftpd reads as nobody
        servers.world_readable(root)
        items = harness.config_items(config)
        exp = {
            "kernel_cmdline": [it for it in items
                               if it["kind"] == "exec"][-1]["cmdline"],
            "cmdline_exact": True,
            "loader_prefix": "Pulsar",
            "modules": [(it["cmdline"], modules[it["name"]])
                        for it in items if it["kind"] == "load"],
            "addr": None,
            "kernel_span": harness.elf_span(self.kernel()),
            "required_flags": sorted(harness.FLAG_KEYS),
        }
        log = os.path.join(tmp, "serial.log")
        with NetNS(addrs=[SERVER]) as ns:
            ns.popen(servers.atftpd_argv(SERVER, root,
                                         windowsize=self.window),
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ns.popen(servers.dnsmasq_dhcp_argv(
                ns.tap, "10.77.0.10", "10.77.0.50",
                os.path.join(tmp, "leases"), [("pulsar", SERVER, None)]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            rc, text, secs, ended = harness.run_qemu(
                qemu.command(serial=log, boot="n", net=qemu.tap_net(ns.tap),
                             nic=self.nic, pci_addr="03"),
                log, self.opts.timeout, popen=ns.popen)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s"
                               % self.opts.timeout])
        rep = harness.check_boot(text, rc, exp)
        lines = text.replace("\r", "\n").split("\n")
        said = [ln for ln in lines if ln.startswith(WINDOW_LINE)]
        fast = self.nic == "e1000"
        # Window 16 on the fast path, 4 over the PXE UDP API (net/tftp.h).
        want = WINDOW_LINE + ("16, blksize 1468 (NIC fast path)" if fast
                              else "4, blksize 1468")
        if self.window and said != [want]:
            raise CheckFailed(["expected one `%s` line, got %r"
                               % (want, said)])
        if not self.window and said:
            raise CheckFailed(["atftpd --no-windowsize, yet Pulsar "
                               "says %r" % said])
        if (FAST_LINE in lines) != fast:
            raise CheckFailed(["%s: expected %s `%s`"
                               % (self.nic, "a" if fast else "no",
                                  FAST_LINE)])
        # Counted: the config and the three files ran on the fast path.
        sizes = [len(v) for v in files.values()]
        problems = harness.check_fast_path_count(
            text, fast, 1 + len(sizes), sum(sizes) // 1500)
        if not fast and self.window:
            problems += ["the ROM's TFTP ran: %r" % ln for ln in lines
                         if harness.ROM_WHOLE_RE.match(ln)]
        elif not fast:
            problems += harness.check_rom_whole(text, True, len(modules))
        if problems:
            raise CheckFailed(["%s: %s" % (self.nic, p) for p in problems])
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


def cases(opts):
    """The speed cases (see the module doc)."""
    return [AtftpdCase(opts, "atftpd-window", True, "e1000"),
            AtftpdCase(opts, "atftpd-no-window", False, "e1000"),
            AtftpdCase(opts, "atftpd-window-undi", True, "rtl8139"),
            AtftpdCase(opts, "atftpd-no-window-undi", False, "rtl8139")]
