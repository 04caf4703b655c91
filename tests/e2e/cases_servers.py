"""Every way users start Pulsar: real DHCP/TFTP servers in a network
namespace, chainloaded from PXELINUX, and every QEMU NIC model with the
iPXE ROM QEMU ships.  Each boot goes through scripts/netboot (lab.netboot)
and is checked by harness.check_boot: the test kernel's full report, module
sizes and CRC-32s included.  The server cases also check the servers' own
logs (who served which file) and Pulsar's report of the DHCP facts.

Last, `cleanup` fails boots on purpose (a Pulsar error, a SIGTERM, a
harness exception) and checks that the namespace, its tap and every
server are gone afterwards.
"""

import os
import re
import signal
import subprocess
import time

from lab import ROOT, netboot, qemu

from . import harness
from .harness import CheckFailed, Checker

NETBOOT = os.path.join(ROOT, "scripts", "netboot")  # the user's command

BOOT_TIMEOUT = 120  # seconds per boot: TCG on a shared, busy machine
PXELINUX_DIR = "/usr/lib/PXELINUX"
SYSLINUX_BIOS = "/usr/lib/syslinux/modules/bios"
IPXE_QEMU = "/usr/lib/ipxe/qemu"
MIB = harness.MIB
QEMU_NAME = os.path.basename(harness.QEMU)


def write_files(root, files):
    """Write @files (relative path -> bytes or str) under @root."""
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)


def read_text(path):
    """A log file's text ('' when missing)."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def expected(case, config, modules):
    """harness.check_boot's expectations for @config; @modules maps each
    `load` name to its bytes."""
    items = harness.config_items(config)
    execs = [it for it in items if it["kind"] == "exec"]
    return {
        "kernel_cmdline": execs[-1]["cmdline"],
        "cmdline_exact": True,
        "loader_prefix": "Pulsar",
        "modules": [(it["cmdline"], modules[it["name"]])
                    for it in items if it["kind"] == "load"],
        "addr": None,
        "kernel_span": harness.elf_span(case.kernel()),
        "required_flags": sorted(harness.FLAG_KEYS),
    }


def facts_line(mac, ip, tftp, root):
    """Pulsar's line reporting the DHCP facts it read."""
    return "pulsar: mac %s ip %s tftp %s root-path '%s'" % (mac, ip, tftp,
                                                           root)


class NetbootCase(harness.Case):
    """Boot a TFTP tree through scripts/netboot and check everything.

    @layout(case, tmp) returns a dict: tftp (path -> data for the TFTP
    root), tftp2 (the same for --tftp2, optional), config (its text: it
    is also written as config-<mac> under @config_dir), modules (load
    name -> bytes), netboot (extra netboot.Options arguments), exp
    (optional: check_boot expectations to change, e.g. a UEFI boot's).
    @extra(case, result, log_lines, checker) adds checks of its own.
    @fails: the boot is to fail (Pulsar's error stops it): no kernel
    report is checked, only @extra's checks."""

    def __init__(self, opts, name, layout, extra=None, config_dir="",
                 fails=False):
        super().__init__(opts)
        self.name = name
        self.layout = layout
        self.extra = extra
        self.config_dir = config_dir
        self.fails = fails
        self.extra_logs = []

    def run(self, tmp):
        lay = self.layout(self, tmp)
        root = os.path.join(tmp, "tftp")
        os.makedirs(root)
        files = dict(lay["tftp"])
        config_path = os.path.join(self.config_dir, harness.CONFIG_NAME)
        files[config_path] = lay["config"]
        write_files(root, files)
        kw = dict(lay.get("netboot", {}))
        if "tftp2" in lay:
            root2 = os.path.join(tmp, "tftp2")
            os.makedirs(root2)
            write_files(root2, lay["tftp2"])
            kw["tftp2"] = root2
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        self.work = work
        o = netboot.Options(root, mac=harness.MAC, mem=harness.MEM_MIB,
                            timeout=max(self.opts.timeout, BOOT_TIMEOUT),
                            serial=os.path.join(tmp, "serial.log"),
                            echo=False, workdir=work, **kw)
        self.ready_info = {}

        def on_ready(ns_name):
            if ns_name:  # which UDP sockets the servers opened
                out = subprocess.run(
                    ["ip", "netns", "exec", ns_name, "ss", "-Hlun4"],
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                    text=True).stdout
                self.ready_info["udp"] = out
            self.ready_info["netns"] = ns_name

        try:
            res = netboot.boot(o, on_ready=on_ready)
        except netboot.SetupError as e:
            raise CheckFailed(["netboot: " + str(e)]) from None
        finally:
            self.extra_logs = sorted(
                (name, os.path.join(work, name))
                for name in os.listdir(work)
                if name.endswith((".out", ".log", ".conf")))
        self.log_text = res.text
        if res.ended == "timeout" and "TK end" not in res.text:
            raise CheckFailed(["timed out after %d s" % o.timeout])
        if self.fails:
            ck = Checker()
            ck.expect(res.ended == "stopped", "the boot did not fail (it "
                      "ended: %s)" % res.ended)
            lines = [ln.rstrip("\r") for ln in res.text.splitlines()]
            self.extra(self, res, lines, ck)
            ck.done()
            return {"secs": res.secs}
        if res.ended == "stopped":
            raise CheckFailed(["Pulsar failed: %s" % next(
                (ln for ln in res.text.splitlines()
                 if "pulsar: error" in ln), "(no error line)")])
        exp = expected(self, lay["config"], lay["modules"])
        exp.update(lay.get("exp", {}))
        ck = Checker()
        try:
            rep = harness.check_boot(res.text, res.rc, exp)
        except CheckFailed as e:
            ck.failures.extend(e.args[0])
            rep = None
        if self.extra:
            lines = [ln.rstrip("\r") for ln in res.text.splitlines()]
            self.extra(self, res, lines, ck)
        ck.done()
        return {"secs": res.secs, "report": rep, "exp": exp, "rc": res.rc}

    def log(self, name):
        """The text of server log @name (e.g. dnsmasq.log, atftpd.out)."""
        return read_text(os.path.join(self.work, name))


# ------------------------------------------------------------- layouts

def demo_layout(case, _tmp, netboot_kw=None):
    """The demo: pulsar, config, demo/kernel.elf and two modules of 2 and
    3 MiB, all on the one TFTP server."""
    modules = harness.demo_modules()
    files = {"pulsar": open(case.opts.nbp, "rb").read(),
             "demo/kernel.elf": case.kernel()}
    files.update(("demo/" + k, v) for k, v in modules.items())
    return {"tftp": files, "config": harness.DEMO_CONFIG, "modules": modules,
            "netboot": netboot_kw or {}}


NOVA_CONFIG = """\
# Pulsar with ISC dhcpd: the initial root is the root-path, nova
exec kernel.elf console=serial
load hypervisor.bin first module
load roottask.bin second module
"""


def nova_layout(case, _tmp, netboot_kw):
    """Everything under nova/, which only the DHCP root-path names: the
    config too, so Pulsar finds nothing unless it honours root-path."""
    modules = {"hypervisor.bin": harness.random_bytes(61, 2 * MIB + 4321),
               "roottask.bin": harness.random_bytes(62, 3 * MIB)}
    files = {"pulsar": open(case.opts.nbp, "rb").read(),
             "nova/kernel.elf": case.kernel()}
    files.update(("nova/" + k, v) for k, v in modules.items())
    kw = {"root_path": "nova"}
    kw.update(netboot_kw)
    return {"tftp": files, "config": NOVA_CONFIG, "modules": modules,
            "netboot": kw}


TWO_TFTP_CONFIG = """\
# Pulsar with two TFTP servers
root demo
exec kernel.elf console=serial
tftp %s
root mods
load second.bin from the second server
tftp %s
load first.bin back on the first server
""" % (netboot.TFTP2_IP, netboot.DHCP_IP)


ROUTED_CONFIG = TWO_TFTP_CONFIG.replace(
    "tftp %s\n" % netboot.TFTP2_IP, "tftp %s\n" % netboot.TFTP2_ROUTED_IP)


def routed_layout(case, tmp):
    """As two_tftp_layout, the second server off the guest's subnet."""
    lay = two_tftp_layout(case, tmp)
    lay["config"] = ROUTED_CONFIG
    lay["netboot"] = {"server": "dnsmasq", "tftp2_routed": True}
    return lay


def two_tftp_layout(case, _tmp):
    """The kernel and first.bin only on the DHCP-named server, second.bin
    only on the second server (--tftp2)."""
    modules = {"second.bin": harness.random_bytes(71, 3 * MIB + 77),
               "first.bin": harness.random_bytes(72, 2 * MIB)}
    return {"tftp": {"pulsar": open(case.opts.nbp, "rb").read(),
                     "demo/kernel.elf": case.kernel(),
                     "mods/first.bin": modules["first.bin"]},
            "tftp2": {"mods/second.bin": modules["second.bin"]},
            "config": TWO_TFTP_CONFIG, "modules": modules,
            "netboot": {"server": "dnsmasq"}}


PXELINUX_CFG = """\
SERIAL 0 115200
DEFAULT pulsar
PROMPT 0
LABEL pulsar
  KERNEL pulsar.0
"""


def pxelinux_layout(case, tmp, server):
    """pxelinux.0 as the DHCP boot file; its default config runs Pulsar as
    pulsar.0 (a PXE boot program); there is no file named `pulsar`."""
    lay = demo_layout(case, tmp, {"server": server,
                                  "bootfile": "pxelinux.0"})
    files = lay["tftp"]
    files["pulsar.0"] = files.pop("pulsar")
    for path in (os.path.join(PXELINUX_DIR, "pxelinux.0"),
                 os.path.join(SYSLINUX_BIOS, "ldlinux.c32")):
        if not os.path.isfile(path):
            raise CheckFailed(["%s is missing (scripts/deps.sh installs "
                               "pxelinux and syslinux-common)" % path])
        files[os.path.basename(path)] = open(path, "rb").read()
    files["pxelinux.cfg/default"] = PXELINUX_CFG
    return lay


# -------------------------------------------------------------- checks

def expect_line(ck, lines, want, what=None, prefix=False):
    """Some serial line must be exactly @want (or start with it)."""
    found = (any(ln.startswith(want) for ln in lines) if prefix
             else want in lines)
    ck.expect(found, "no serial line %s%r%s"
              % ("starting with " if prefix else "", want,
                 " (%s)" % what if what else ""))


def check_dnsmasq(case, res, lines, ck):
    """dnsmasq gave the lease and served every file to the guest."""
    expect_line(ck, lines, facts_line(harness.MAC, netboot.GUEST_IP,
                                      netboot.DHCP_IP, ""))
    log = case.log("dnsmasq.log")
    ck.expect(re.search(r"DHCPACK\(ptap0\) %s %s" % (
        re.escape(netboot.GUEST_IP), harness.MAC), log),
        "dnsmasq.log has no DHCPACK of %s to %s"
        % (netboot.GUEST_IP, harness.MAC))
    for rel in ("pulsar", harness.CONFIG_NAME, "demo/kernel.elf",
                "demo/module1.bin", "demo/module2.bin"):
        ck.expect(re.search(r"sent \S*/tftp/%s to %s" % (
            re.escape(rel), re.escape(netboot.GUEST_IP)), log),
            "dnsmasq.log does not show %s sent to the guest" % rel)


def check_isc(tftp_ip, tftp_log=None):
    """dhcpd acked the host entry's address; Pulsar read root-path nova
    and took its config from nova/ on @tftp_ip; @tftp_log (atftpd) shows
    the files served."""
    def check(case, res, lines, ck):
        expect_line(ck, lines, facts_line(harness.MAC, netboot.GUEST_IP,
                                          tftp_ip, "nova"))
        expect_line(ck, lines, "pulsar: config nova/%s from %s: %d bytes"
                    % (harness.CONFIG_NAME, tftp_ip, len(NOVA_CONFIG)),
                    "root-path honoured")
        ck.expect("DHCPACK on %s to %s via ptap0" % (netboot.GUEST_IP,
                                                      harness.MAC)
                  in case.log("dhcpd.out"),
                  "dhcpd.out has no DHCPACK of the host entry's address")
        if tftp_log:
            log = case.log(tftp_log)
            for rel in ("pulsar", "nova/" + harness.CONFIG_NAME,
                        "nova/kernel.elf", "nova/hypervisor.bin",
                        "nova/roottask.bin"):
                ck.expect("Serving %s to %s:" % (rel, netboot.GUEST_IP)
                          in log, "%s does not show %s served"
                          % (tftp_log, rel))
    return check


def check_next_server(case, res, lines, ck):
    """TFTP ran on 10.77.0.4 only, the DHCP server on 10.77.0.1."""
    check_isc("10.77.0.4")(case, res, lines, ck)
    udp = case.ready_info.get("udp", "")
    ck.expect(re.search(r"10\.77\.0\.4:69\b", udp),
              "no TFTP socket on 10.77.0.4:69 in the namespace:\n" + udp)
    ck.expect(not re.search(r"(10\.77\.0\.1|0\.0\.0\.0|\*):69\b", udp),
              "a TFTP socket is open on the DHCP server's address too:\n"
              + udp)
    ck.expect("DHCPREQUEST for %s (%s) from %s" % (
        netboot.GUEST_IP, netboot.DHCP_IP, harness.MAC)
        in case.log("dhcpd.out"),
        "the guest's DHCPREQUEST does not name %s as the DHCP server"
        % netboot.DHCP_IP)


def proxy_layout(case, tmp):
    """The demo behind a proxyDHCP server: the boot file is pulsar.0 (as
    dnsmasq's pxe-service names it), everything on tftpd-hpa at
    netboot.PROXY_IP, which only the proxy names."""
    lay = demo_layout(case, tmp, {"server": "isc+proxy"})
    lay["tftp"]["pulsar.0"] = lay["tftp"].pop("pulsar")
    return lay


def check_proxy(case, res, lines, ck):
    """ISC dhcpd gave the address only, dnsmasq (proxy) the boot server
    and file; iPXE booted pulsar.0 and Pulsar took its files from the
    proxy's boot server.  (iPXE already merges the proxy's facts into the
    ACK it caches, so Pulsar's own merge shows only on other ROMs: a
    `from the PXE reply` line, if any, must name the proxy's server.)"""
    expect_line(ck, lines, facts_line(harness.MAC, netboot.GUEST_IP,
                                      netboot.PROXY_IP, ""))
    expect_line(ck, lines, "pulsar: config %s from %s: %d bytes"
                % (harness.CONFIG_NAME, netboot.PROXY_IP,
                   len(harness.DEMO_CONFIG)))
    conf = case.log("dhcpd.conf")
    ck.expect("fixed-address" in conf and "next-server" not in conf
              and "filename" not in conf,
              "dhcpd.conf is not address-only:\n" + conf)
    ck.expect("DHCPACK on %s to %s via ptap0" % (netboot.GUEST_IP,
                                                  harness.MAC)
              in case.log("dhcpd.out"), "dhcpd.out has no DHCPACK")
    log = case.log("dnsmasq.log")
    ck.expect(re.search(r"PXE\(ptap0\) %s proxy" % re.escape(harness.MAC),
                        log), "dnsmasq.log has no proxy offer")
    ck.expect(re.search(r"PXE\(ptap0\) %s %s pulsar\.0" % (
        re.escape(netboot.GUEST_IP), re.escape(harness.MAC)), log),
        "dnsmasq.log has no boot server ACK naming pulsar.0")
    for ln in lines:
        if ln.startswith("pulsar: from the PXE reply"):
            ck.expect("boot server %s " % netboot.PROXY_IP in ln
                      or "boot server" not in ln, "wrong merge: " + ln)


def check_two_tftp(case, res, lines, ck):
    """second.bin came from atftpd on 10.77.0.3, everything else from
    dnsmasq on 10.77.0.1 (each file exists on one server only)."""
    log2 = case.log("atftpd2.out")
    ck.expect("Serving mods/second.bin to %s:" % netboot.GUEST_IP in log2,
              "atftpd2.out (the second server) does not show "
              "mods/second.bin served")
    for rel in ("first.bin", "kernel.elf", harness.CONFIG_NAME):
        ck.expect(rel not in log2, "atftpd2.out mentions %s, which only "
                  "the first server has" % rel)
    log1 = case.log("dnsmasq.log")
    ck.expect(re.search(r"sent \S*/tftp/mods/first\.bin to ", log1),
              "dnsmasq.log does not show mods/first.bin sent after "
              "`tftp %s`" % netboot.DHCP_IP)
    ck.expect(not re.search(r"sent \S*/second\.bin", log1),
              "dnsmasq.log shows second.bin sent by the first server")


def check_routed(case, res, lines, ck):
    """second.bin came from 10.78.0.3, off the subnet, through the router
    dnsmasq names (itself), on the NIC fast path: its windowsize line
    (the ROM's TFTP, had the fast path failed, would print none)."""
    check_two_tftp(case, res, lines, ck)
    want = ("pulsar: tftp %s grants windowsize 16, blksize 1468 "
            "(NIC fast path)" % netboot.TFTP2_ROUTED_IP)
    expect_line(ck, lines, want)


def check_pxelinux(ip, tftp, log_name=None):
    """PXELINUX ran first (its banner on COM1), then Pulsar found the PXE
    API and the DHCP facts; with @log_name, dnsmasq served pxelinux.0
    before pulsar.0."""
    def check(case, res, lines, ck):
        banner = [i for i, ln in enumerate(lines)
                  if ln.startswith("PXELINUX ")]
        pulsar = [i for i, ln in enumerate(lines)
                  if ln.startswith("Pulsar ")]
        ck.expect(banner, "no PXELINUX banner on the serial console")
        ck.expect(pulsar and banner and banner[0] < pulsar[0],
                  "Pulsar did not start after PXELINUX")
        ck.expect(any(ln.startswith("pulsar: PXE API via ")
                      for ln in lines), "no `pulsar: PXE API via` line")
        expect_line(ck, lines, facts_line(harness.MAC, ip, tftp, ""))
        if log_name:
            log = case.log(log_name)
            sent = re.findall(r"sent \S*/tftp/(\S+) to ", log)
            ck.expect("pxelinux.0" in sent and "pulsar.0" in sent
                      and sent.index("pxelinux.0") < sent.index("pulsar.0"),
                      "dnsmasq did not send pxelinux.0, then pulsar.0: %s"
                      % sent)
    return check


def check_nic(model):
    """QEMU's default ROM for @model is the iPXE ROM from ipxe-qemu and
    Pulsar found its PXE API."""
    def check(case, res, lines, ck):
        rom = qemu.default_romfile(model)
        ck.expect(rom and os.path.isfile(os.path.join(IPXE_QEMU, rom)),
                  "QEMU's default romfile for %s is %r, not one of "
                  "ipxe-qemu's ROMs in %s" % (model, rom, IPXE_QEMU))
        ck.expect(any(ln.startswith("pulsar: PXE API via ")
                      for ln in lines), "no `pulsar: PXE API via` line")
        expect_line(ck, lines, facts_line(harness.MAC, "10.0.2.15",
                                          harness.TFTP_SERVER, ""))
    return check


# -------------------------------------------------------------- cleanup

def our_processes(ns_inode, work):
    """Processes left from a run: inside the namespace with @ns_inode, or
    naming @work on their command line."""
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            netns = os.readlink("/proc/%s/ns/net" % pid)
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if (ns_inode and netns == "net:[%d]" % ns_inode) or work in cmd:
            left.append("%s %s" % (pid, cmd.strip()))
    return left


def netns_names():
    """The names `ip netns list` shows."""
    out = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.strip()]


def check_gone(ck, what, ns_name, ns_inode, work):
    """Nothing of the run named @ns_name may remain."""
    ck.expect(ns_name, "%s: the namespace's name was never seen" % what)
    if not ns_name:
        return
    # Killed processes can take a moment to be reaped by their parent.
    deadline = time.monotonic() + 5
    while True:
        left = our_processes(ns_inode, work)
        names = [n for n in netns_names() if n == ns_name]
        if (not left and not names) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    ck.expect(not names, "%s: `ip netns list` still shows %s"
              % (what, ns_name))
    ck.expect(not os.path.exists("/run/netns/" + ns_name),
              "%s: /run/netns/%s still exists" % (what, ns_name))
    ck.expect(not left, "%s: processes remain: %s" % (what, "; ".join(left)))
    # The tap lived only in the namespace: it must not have moved out.
    ck.expect(not os.path.exists("/sys/class/net/ptap0"),
              "%s: a ptap0 device exists outside the namespace" % what)


class CleanupCase(harness.Case):
    """Fail boots on purpose and check that nothing is left behind:
    (a) Pulsar halts on a missing module (dnsmasq, atftpd, RA responder),
    (b) netboot gets SIGTERM mid-boot (dhcpd, tftpd-hpa),
    (c) a harness exception once the servers listen (in-process)."""

    name = "cleanup"
    exclusive = True  # checks that nothing of its own is left behind

    def __init__(self, opts):
        super().__init__(opts)
        self.extra_logs = []

    def tree(self, tmp, tag, config):
        """A TFTP root with Pulsar, the kernel and @config."""
        root = os.path.join(tmp, tag)
        write_files(root, {"pulsar": open(self.opts.nbp, "rb").read(),
                           "demo/kernel.elf": self.kernel(),
                           "demo/module1.bin": harness.demo_modules()[
                               "module1.bin"],
                           harness.CONFIG_NAME: config})
        os.makedirs(os.path.join(tmp, tag + "-2"))
        return root

    def start(self, tmp, tag, args):
        """Start scripts/netboot; returns (process, work dir, serial)."""
        work = os.path.join(tmp, tag + "-work")
        serial = os.path.join(work, "serial.log")
        os.makedirs(work)
        self.extra_logs.append((tag + " netboot stderr",
                                os.path.join(tmp, tag + ".stderr")))
        err = open(os.path.join(tmp, tag + ".stderr"), "wb")
        proc = subprocess.Popen(
            [NETBOOT, "--quiet", "--workdir", work,
             "--serial", serial, "--timeout", str(BOOT_TIMEOUT)] + args,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        return proc, work, serial

    def namespace_of(self, tmp, tag, proc):
        """Wait for netboot's `namespace NAME` line; (name, inode)."""
        path = os.path.join(tmp, tag + ".stderr")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = re.search(r"netboot: namespace (\S+),", read_text(path))
            if m:
                try:
                    return m.group(1), os.stat("/run/netns/" +
                                               m.group(1)).st_ino
                except OSError:
                    return m.group(1), None
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        return None, None

    def run(self, tmp):
        start = time.monotonic()
        ck = Checker()
        if os.geteuid() != 0:
            raise CheckFailed(["needs root (network namespaces)"])

        # (a) Pulsar fails: netboot stops on `pulsar: boot failed`, exit 3.
        root = self.tree(tmp, "a", "root demo\nexec kernel.elf\n"
                         "load module1.bin\nload nothere.bin\n")
        proc, work, serial = self.start(
            tmp, "a", ["--server", "dnsmasq", "--tftp2",
                       os.path.join(tmp, "a-2"), root])
        name, inode = self.namespace_of(tmp, "a", proc)
        try:
            rc = proc.wait(BOOT_TIMEOUT + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        self.log_text = read_text(serial)
        ck.expect(rc == netboot.EXIT_STOPPED, "(a) netboot exited %s, "
                  "expected %d (stopped on `pulsar: boot failed`)"
                  % (rc, netboot.EXIT_STOPPED))
        ck.expect(re.search(r"pulsar: error: .*nothere\.bin",
                            self.log_text),
                  "(a) no Pulsar error naming nothere.bin")
        check_gone(ck, "(a) Pulsar error", name, inode, work)

        # (b) SIGTERM while QEMU runs in the namespace.
        root = self.tree(tmp, "b", "root demo\nexec kernel.elf\n"
                         "load module1.bin\n")
        proc, work, serial = self.start(
            tmp, "b", ["--server", "isc+tftpd-hpa", root])
        name, inode = self.namespace_of(tmp, "b", proc)
        deadline = time.monotonic() + 30

        def qemu_runs():
            return any(QEMU_NAME in p for p in our_processes(inode, work))
        while (time.monotonic() < deadline and proc.poll() is None
               and not qemu_runs()):
            time.sleep(0.05)
        ck.expect(qemu_runs(),
                  "(b) QEMU was not running in %s before SIGTERM" % name)
        ck.expect(proc.poll() is None, "(b) netboot ended before SIGTERM "
                  "(status %s)" % proc.returncode)
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        ck.expect(rc == 128 + signal.SIGTERM, "(b) netboot exited %s after "
                  "SIGTERM, expected %d" % (rc, 128 + signal.SIGTERM))
        check_gone(ck, "(b) SIGTERM", name, inode, work)

        # (c) An exception in the middle of netboot.boot().
        root = self.tree(tmp, "c", harness.DEMO_CONFIG)
        work = os.path.join(tmp, "c-work")
        seen = {}

        def fail(ns_name):
            seen["name"] = ns_name
            seen["inode"] = os.stat("/run/netns/" + ns_name).st_ino
            raise RuntimeError("deliberate failure")

        o = netboot.Options(root, server="isc+atftpd", echo=False,
                            workdir=work, timeout=BOOT_TIMEOUT)
        try:
            netboot.boot(o, on_ready=fail)
            ck.expect(False, "(c) the deliberate exception vanished")
        except RuntimeError as e:
            ck.expect(str(e) == "deliberate failure",
                      "(c) unexpected exception %s" % e)
        check_gone(ck, "(c) exception", seen.get("name"), seen.get("inode"),
                   work)
        ck.done()
        return {"secs": time.monotonic() - start}


# ---------------------------------------------------------------- cases

def cases(opts):
    """The boot paths of docs/servers.md's table, then the cleanup check."""
    out = [
        NetbootCase(opts, "srv-dnsmasq",
                    lambda c, t: demo_layout(c, t, {"server": "dnsmasq"}),
                    check_dnsmasq),
        # The seed's ISC setup exactly, on an IPv4-only network (no RA).
        NetbootCase(opts, "srv-isc-tftpd-hpa",
                    lambda c, t: nova_layout(c, t, {"server": "isc+tftpd-hpa",
                                                    "ra": False}),
                    check_isc(netboot.DHCP_IP), config_dir="nova"),
        NetbootCase(opts, "srv-isc-atftpd",
                    lambda c, t: nova_layout(c, t, {"server": "isc+atftpd"}),
                    check_isc(netboot.DHCP_IP, "atftpd.out"),
                    config_dir="nova"),
        NetbootCase(opts, "srv-next-server",
                    lambda c, t: nova_layout(c, t, {"server": "isc+tftpd-hpa",
                                                    "next_server":
                                                    "10.77.0.4"}),
                    check_next_server, config_dir="nova"),
        # proxyDHCP: ISC dhcpd leases, dnsmasq names the boot server.
        NetbootCase(opts, "srv-proxydhcp", proxy_layout, check_proxy),
        NetbootCase(opts, "srv-two-tftp", two_tftp_layout, check_two_tftp),
        NetbootCase(opts, "srv-routed", routed_layout, check_routed),
        NetbootCase(opts, "pxelinux-user",
                    lambda c, t: pxelinux_layout(c, t, "user"),
                    check_pxelinux("10.0.2.15", harness.TFTP_SERVER)),
        NetbootCase(opts, "pxelinux-dnsmasq",
                    lambda c, t: pxelinux_layout(c, t, "dnsmasq"),
                    check_pxelinux(netboot.GUEST_IP, netboot.DHCP_IP,
                                   "dnsmasq.log")),
    ]
    for model in qemu.NICS:
        out.append(NetbootCase(
            opts, "nic-" + model,
            lambda c, t, m=model: demo_layout(c, t, {"nic": m}),
            check_nic(model)))
    out.append(CleanupCase(opts))
    return out
