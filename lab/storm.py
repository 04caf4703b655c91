"""A boot storm: N machines network-boot at once from one server.

The server is one network namespace (lab.netns) with a bridge and one tap
per QEMU, as machines on a switch; dnsmasq leases each machine its own
address (by MAC) and names the boot file.  Each machine gets its own
config and its own random modules, and every one boots the multiboot test
kernel, which reports what it received.  The file servers:

  tftpd-hpa  tftpd-hpa serves everything (lock-step TFTP, no window)
  atftpd     atftpd serves everything (grants RFC 7440 windowsize)
  nginx      tftpd-hpa serves the boot program and the config (Pulsar) or
             the first script (iPXE); nginx serves the kernel and modules
             over HTTP
  lossy      Pulsar's fault server (tests.e2e.faultserver) serves
             everything and loses 1% of the DATA packets it sends and of
             the ACKs it gets, at random

The loaders:

  pulsar     build/pulsar as the DHCP boot file, config-<mac> per machine
             naming the kernel and modules (`root http://...` for nginx)
  ipxe       QEMU's iPXE ROM on its own: the boot file is an iPXE script
             that chains a per-machine script (kernel/module/boot), over
             TFTP or HTTP as the server is

    python3 -m lab.storm [--clients 4] [--server nginx] [--loader pulsar]
        [--module-mib 4] [--keep DIR]
    python3 -m lab.storm --table build/bench/storm.md [--counts 1,2,4,8]
        [--servers tftpd-hpa,atftpd,nginx] [--module-mib 8]

Standard library only.  What each machine received is returned for the
caller to check (tests/e2e/cases_storm.py checks every value; lab.bench
the module CRC-32s).
"""

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
import zlib

from lab import ROOT, module_argv, qemu, servers
from lab.images import random_bytes
from lab.netns import NetNS
from lab.servers import SetupError

SERVERS = ("tftpd-hpa", "atftpd", "nginx", "lossy")
LOADERS = ("pulsar", "ipxe")
SERVER_IP = "10.77.0.1"
PREFIX = 24
FIRST_HOST = 10           # machine i gets 10.77.0.(10 + i)
MODULES = 2               # modules per machine
LOSS = 0.01               # the lossy server's loss rate
BOOT_TIMEOUT = 300        # seconds for the whole storm
MAX_CLIENTS = 32


def mac_of(i):
    """Machine @i's MAC."""
    return "52:54:00:77:00:%02x" % (FIRST_HOST + i)


def ip_of(i):
    return "10.77.0.%d" % (FIRST_HOST + i)


def hyphen(mac):
    return mac.replace(":", "-")


class Machine:
    """One machine of the storm: its names, files and, after the run, its
    serial log, QEMU's exit status and when it ended."""

    def __init__(self, i, module_bytes):
        self.i = i
        self.mac = mac_of(i)
        self.ip = ip_of(i)
        self.dir = "storm/" + hyphen(self.mac)
        self.modules = [("m%d.bin" % k, random_bytes(1000 * (i + 1) + k,
                                                     module_bytes + 4099 * k))
                        for k in range(MODULES)]
        self.cmdline = "kernel.elf storm machine %d" % i
        self.text = ""
        self.rc = None
        self.secs = None
        self.ended = None

    def module_cmdline(self, name):
        return "%s of machine %d" % (name, self.i)


def write_tree(root, machines, loader, server, nbp, kernel):
    """The server's files for every machine."""
    def put(rel, data):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)

    put("storm/kernel.elf", kernel)
    web = "http://%s/" % SERVER_IP
    for m in machines:
        for name, data in m.modules:
            put("%s/%s" % (m.dir, name), data)
        if loader == "pulsar":
            base = (web + "storm") if server == "nginx" else "storm"
            text = "# storm machine %d\nroot %s\n" % (m.i, base)
            text += "exec %s\n" % m.cmdline
            text += "root %s/%s\n" % (base, hyphen(m.mac))
            for name, _ in m.modules:
                text += "load %s\n" % m.module_cmdline(name)
            put("config-" + hyphen(m.mac), text)
        else:
            proto = web if server == "nginx" else "tftp://%s/" % SERVER_IP
            text = "#!ipxe\nkernel %sstorm/kernel.elf %s\n" % (
                proto, m.cmdline.split(" ", 1)[1])
            for name, _ in m.modules:
                text += "module %s%s/%s %s\n" % (
                    proto, m.dir, name, m.module_cmdline(name).split(" ", 1)[1])
            text += "boot\n"
            put("ipxe-%s.ipxe" % hyphen(m.mac), text)
    if loader == "pulsar":
        with open(nbp, "rb") as f:
            put("pulsar", f.read())
    else:
        put("storm.ipxe", "#!ipxe\nchain tftp://%s/ipxe-${net0/mac:hexhyp}"
            ".ipxe\n" % SERVER_IP)


def server_plan(ns, server, root, work, n):
    """dnsmasq (DHCP only) and the file servers, as lab.servers.start
    takes them."""
    bootfile = "pulsar" if os.path.exists(os.path.join(root, "pulsar")) \
        else "storm.ipxe"
    plan = [("dnsmasq", servers.dnsmasq_argv(
        "--interface=" + ns.iface, "--no-ping",
        "--dhcp-range=%s,%s,1h" % (ip_of(0), ip_of(n - 1)),
        "--dhcp-leasefile=" + os.path.join(work, "dnsmasq.leases"),
        "--log-facility=" + os.path.join(work, "dnsmasq.log"),
        *["--dhcp-host=%s,%s" % (mac_of(i), ip_of(i)) for i in range(n)],
        "--dhcp-boot=%s,,%s" % (bootfile, SERVER_IP)), [(None, 67)])]
    if server in ("tftpd-hpa", "nginx"):
        plan.append(("tftpd-hpa", servers.tftpd_hpa_argv(SERVER_IP, root,
                                                         work),
                     [(SERVER_IP, 69)]))
    elif server == "atftpd":
        servers.world_readable(root)
        plan.append(("atftpd", servers.atftpd_argv(
            SERVER_IP, root, logfile="-", user="root.root",
            no_multicast=True, pidfile=os.path.join(work, "atftpd.pid")),
            [(SERVER_IP, 69)]))
    else:
        plan.append(("faultserver", module_argv(
            "tests.e2e.faultserver", "--root", root, "--addr", SERVER_IP,
            "--fault", "* lose=%g" % LOSS, "--log",
            os.path.join(work, "faultserver.log"), "--max-seconds",
            str(BOOT_TIMEOUT + 60), "--max-packets", "5000000"),
            [(SERVER_IP, 69)]))
    if server == "nginx":
        plan.append(("nginx", servers.nginx_argv(SERVER_IP, root, work),
                     [(SERVER_IP, 80)]))
    return plan


def storm(n, server, loader, nbp, kernel, module_mib=4, work=None,
          timeout=BOOT_TIMEOUT):
    """Boot @n machines at once; returns (machines, wall seconds until the
    last one ended, work directory).  Raises SetupError."""
    if not 1 <= n <= MAX_CLIENTS:
        raise SetupError("--clients must be 1 to %d" % MAX_CLIENTS)
    if server not in SERVERS or loader not in LOADERS:
        raise SetupError("unknown server or loader")
    own = work is None
    work = work or tempfile.mkdtemp(prefix="storm-")
    root = os.path.join(work, "root")
    os.makedirs(root, exist_ok=True)
    machines = [Machine(i, module_mib * 1024 * 1024) for i in range(n)]
    with open(kernel, "rb") as f:
        kernel_bytes = f.read()
    write_tree(root, machines, loader, server, nbp, kernel_bytes)
    try:
        with NetNS(addrs=[SERVER_IP], prefix=PREFIX, taps=n) as ns:
            servers.start(ns, server_plan(ns, server, root, work, n), work)
            start = time.monotonic()

            def boot(m):
                serial = os.path.join(work, "serial-%d.log" % m.i)
                argv = qemu.command(serial=serial, boot="n",
                                    net=qemu.tap_net(ns.taps[m.i]),
                                    mac=m.mac)
                m.rc, m.text, _secs, m.ended = qemu.run(
                    argv, serial, timeout=timeout, popen=ns.popen,
                    new_session=True,
                    out_path=os.path.join(work, "qemu-%d.out" % m.i))
                m.secs = time.monotonic() - start

            threads = [threading.Thread(target=boot, args=(m,))
                       for m in machines]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = max(m.secs for m in machines)
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)
    return machines, wall, work


def module_crcs(text):
    """The test kernel's reported (size, crc32) per module, in order."""
    out = []
    for line in text.splitlines():
        if line.startswith("TK mod ") and " crc32=" in line:
            fields = dict(f.split("=", 1) for f in line.split()[3:]
                          if "=" in f)
            out.append((int(fields["size"]), int(fields["crc32"], 16)))
    return out


def crc_problems(m):
    """What is wrong with machine @m's boot, by its report's CRC-32s."""
    want = [(len(d), zlib.crc32(d)) for _, d in m.modules]
    if m.rc != 33:
        return ["machine %d: QEMU ended %s (status %s)" % (m.i, m.ended,
                                                          m.rc)]
    got = module_crcs(m.text)
    if got != want:
        return ["machine %d: modules %s, expected %s" % (m.i, got, want)]
    return []


def load_avg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return float("nan")


def table(counts, server_list, nbp, kernel, module_mib, out):
    """Every (N, server) with both loaders, interleaved, into a Markdown
    table at @out; returns the number of failed storms."""
    rows, failures = [], 0
    for n in counts:
        for server in server_list:
            res = {}
            for loader in LOADERS:
                load = load_avg()
                try:
                    machines, wall, _ = storm(n, server, loader, nbp,
                                              kernel, module_mib)
                except SetupError as e:
                    print("storm: %s: %s" % (server, e), file=sys.stderr)
                    failures += 1
                    continue
                problems = [p for m in machines for p in crc_problems(m)]
                total = sum(len(d) for m in machines for _, d in m.modules)
                res[loader] = (wall, total / 2**20 / wall, load, problems)
                failures += bool(problems)
                print("storm: N=%d %-9s %-6s %6.1f s %6.2f MiB/s%s"
                      % (n, server, loader, wall, total / 2**20 / wall,
                         "  FAILED: " + "; ".join(problems)
                         if problems else ""), flush=True)
            rows.append((n, server, res))
    lines = ["# Boot storm: N machines at once from one server",
             "",
             "Each machine: the test kernel and %d modules of about %d MiB "
             "(its own), booted by Pulsar or by the iPXE ROM's own loader; "
             "time from starting all QEMUs (TCG, e1000, -m %d) until the "
             "last one's kernel reported and exited, so it includes "
             "the firmware's own start and DHCP. MiB/s: all machines' "
             "module bytes over that time. Ratio: Pulsar's time over "
             "iPXE's (1.0 = as fast)." % (MODULES, module_mib, qemu.MEM_MIB),
             "",
             "| N | server | Pulsar s | Pulsar MiB/s | iPXE s | iPXE MiB/s "
             "| Pulsar/iPXE | load |",
             "|---|---|---|---|---|---|---|---|"]
    for n, server, res in rows:
        p, i = res.get("pulsar"), res.get("ipxe")
        cell = lambda r, k: ("%.1f" % r[k]) if r and not r[3] else "failed"
        ratio = ("%.2f" % (p[0] / i[0])) if p and i and not p[3] \
            and not i[3] else "-"
        lines.append("| %d | %s | %s | %s | %s | %s | %s | %.1f |" % (
            n, server, cell(p, 0), cell(p, 1), cell(i, 0), cell(i, 1),
            ratio, (p or i or (0, 0, float("nan")))[2]))
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write(text)
    print(text)
    return failures


def main(argv=None):
    ap = argparse.ArgumentParser(prog="storm", description=__doc__.split(
        "\n\n")[0])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--server", choices=SERVERS, default="nginx")
    ap.add_argument("--loader", choices=LOADERS, default="pulsar")
    ap.add_argument("--module-mib", type=int, default=4)
    ap.add_argument("--nbp", default=os.path.join(ROOT, "build", "pulsar"))
    ap.add_argument("--kernel", default=os.path.join(ROOT, "build",
                                                     "testkernel.elf"))
    ap.add_argument("--keep", metavar="DIR", help="keep logs and files here")
    ap.add_argument("--table", metavar="OUT", help="run N = --counts with "
                    "every --servers, both loaders, into a Markdown table")
    ap.add_argument("--counts", default="1,2,4,8")
    ap.add_argument("--servers", default="tftpd-hpa,atftpd,nginx")
    a = ap.parse_args(argv)
    if a.table:
        return 1 if table([int(c) for c in a.counts.split(",")],
                          a.servers.split(","), a.nbp, a.kernel,
                          a.module_mib, a.table) else 0
    if a.keep:
        os.makedirs(a.keep, exist_ok=True)
    try:
        machines, wall, _work = storm(a.clients, a.server, a.loader, a.nbp,
                                      a.kernel, a.module_mib, work=a.keep)
    except SetupError as e:
        print("storm: error: %s" % e, file=sys.stderr)
        return 2
    problems = [p for m in machines for p in crc_problems(m)]
    total = sum(len(d) for m in machines for _, d in m.modules)
    print("storm: %d machines, %s, %s: all ended after %.1f s, %.1f MiB "
          "of modules, %.2f MiB/s" % (a.clients, a.server, a.loader, wall,
                                      total / 2**20, total / 2**20 / wall))
    for p in problems:
        print("storm: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
