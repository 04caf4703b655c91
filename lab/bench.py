"""Pulsar's load-speed benchmark: Pulsar against the other PXE loaders.

Every peer PXE-boots the same test kernel (build/testkernel.elf) with the
same module under the same QEMU (TCG, QEMU's iPXE ROMs), on each of four
paths, each its own rows, compared with iPXE's own loader on that path:

  fast       QEMU's e1000 under a hypervisor (CPUID's hypervisor bit):
             Pulsar drives the NIC itself (boot/bios/nic.h)
  e1000-pxe  the same e1000 with `-cpu qemu64,-hypervisor`, as on bare
             metal: Pulsar goes through the ROM's PXE API
  rtl8139    QEMU's rtl8139 (PXE API; hypervisor bit off)
  virtio     QEMU's virtio-net-pci (PXE API; hypervisor bit off)

The peers (PXELINUX and GRUB only on the fast path's e1000, --peers):

  pulsar     build/pulsar with a one-module config (on QEMU's e1000 it
             uses its NIC fast path, boot/bios/nic.h)
  pulsar-pxe the same Pulsar built with the fast path compiled out
             (PULSAR_NO_NIC_FASTPATH: every packet through the PXE ROM,
             build/pxe/pulsar; not run by default: the e1000-pxe path
             shows the same with the build every user gets)
  ipxe       the ROM's own loader: an iPXE script (kernel/module/boot)
             served as the DHCP boot file
  pxelinux   PXELINUX + mboot.c32 (Debian's pxelinux, syslinux-common)
  grub       GRUB 2's netboot core.0 (grub-mknetdir, grub-pc-bin)

from two servers:

  qemu       QEMU's built-in DHCP/TFTP (user networking)
  atftpd     dnsmasq (DHCP only) + atftpd in a private network namespace,
             QEMU attached through a tap device inside it (needs root)

Runs are interleaved (round 1: every peer once, round 2: again, ...) so a
burst of load from elsewhere hits all peers alike.  Each run is timed from
QEMU's start to its exit through isa-debug-exit; the test kernel's CRC-32
of the module must match the file's, or the run counts as a failure.  A
boot program that exits at once (built here with nasm) gives each path's
baseline: the time to reach the boot program (each NIC's ROM starts in its
own time).  Reported per path and peer: the median time minus the path's
median baseline, MiB/s, and the ratio to iPXE on the same path.

    scripts/bench [--rounds N] [--sizes 64,256] [--servers qemu,atftpd]
                  [--paths fast,e1000-pxe,rtl8139,virtio]
                  [--peers pulsar,ipxe,pxelinux,grub] [--out build/bench]

Writes OUT/results.md (a Markdown table), OUT/results.dat and
OUT/results.png (gnuplot), and OUT/runs.csv (every run).  Standard
library only, plus gnuplot (scripts/deps.sh --bench) and the tools the
peers need.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

from lab import ROOT as TOP
from lab import qemu, servers
from lab.images import random_bytes
from lab.netns import NetNS

MEM_MIB = 512  # QEMU's -m, raised to 4x the largest module (see main)
# One MAC per boot program, so one dnsmasq can hand each its boot file.
MACS = {"baseline": "52:54:00:12:34:50", "pulsar": "52:54:00:12:34:51",
        "ipxe": "52:54:00:12:34:52", "pxelinux": "52:54:00:12:34:53",
        "grub": "52:54:00:12:34:54", "pulsar-pxe": "52:54:00:12:34:55"}
CONFIG_NAMES = ["config-" + MACS[p].replace(":", "-")
                for p in ("pulsar", "pulsar-pxe")]
MIB = 1 << 20
EXIT_OK = qemu.EXIT_OK
PEERS = ["pulsar", "pulsar-pxe", "ipxe", "pxelinux", "grub"]
DEFAULT_PEERS = ["pulsar", "ipxe", "pxelinux", "grub"]
NO_HV = "qemu64,-hypervisor"  # CPUID without the hypervisor bit
# The paths: name -> (QEMU NIC model, -cpu).  Only on the first do all
# peers run; elsewhere Pulsar and iPXE (PATH_PEERS), the point of the rows.
PATHS = {"fast": ("e1000", None), "e1000-pxe": ("e1000", NO_HV),
         "rtl8139": ("rtl8139", NO_HV), "virtio": ("virtio-net-pci", NO_HV)}
PATH_PEERS = ("pulsar", "ipxe")
SERVERS = ["qemu", "atftpd"]
NS_SERVER = "10.77.0.1"  # the namespace's server address (exists only there)
NS_RANGE = ("10.77.0.10", "10.77.0.50")
PXELINUX = "/usr/lib/PXELINUX/pxelinux.0"
SYSLINUX_BIOS = "/usr/lib/syslinux/modules/bios"
GRUB_PC = "/usr/lib/grub/i386-pc"
CRC_RE = re.compile(r"TK mod 0 .*size=(\d+) crc32=(0x[0-9a-f]{8})")
PULSAR_FILE_RE = re.compile(r"pulsar: mod\d+\.bin: \d+ bytes at \S+, (in [^\r\n]*)")
PULSAR_WINDOW_RE = re.compile(r"pulsar: tftp \S+ grants (windowsize \d+, "
                              r"blksize \d+)")
PULSAR_FAST = "pulsar: fast path: driving"
PULSAR_WHOLE_RE = re.compile(r"pulsar: ROM TFTP: (\d+) of \d+ transfers whole")

EXIT_NBP_ASM = """\
; A boot program that leaves QEMU at once through isa-debug-exit: the
; bench's baseline (the time to reach the boot program).
bits 16
org 0x7c00
        mov     al, 0x10
        out     0xf4, al
.halt:  hlt
        jmp     .halt
"""


def log(msg):
    """Progress on stderr, so stdout stays the report."""
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ------------------------------------------------------------ the files

def module_bytes(size_mib):
    """The module: deterministic pseudo-random bytes (the same every run)."""
    return random_bytes(1000 + size_mib, size_mib * MIB)


def build_exit_nbp(path):
    """Assemble the baseline boot program."""
    src = path + ".asm"
    with open(src, "w") as f:
        f.write(EXIT_NBP_ASM)
    subprocess.run(["nasm", "-f", "bin", "-o", path, src], check=True)


def grub_netdir(root):
    """grub-mknetdir into @root; returns the core.0 path relative to it."""
    subprocess.run(["grub-mknetdir", "--net-directory=" + root,
                    "--subdir=boot/grub", "-d", GRUB_PC], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return "boot/grub/i386-pc/core.0"


def make_root(root, opts, modules):
    """Fill the shared TFTP root: every peer's files and the modules."""
    os.makedirs(root, exist_ok=True)
    shutil.copyfile(opts.nbp, os.path.join(root, "pulsar"))
    if "pulsar-pxe" in opts.peers:
        shutil.copyfile(opts.nbp_pxe, os.path.join(root, "pulsar-pxe"))
    shutil.copyfile(opts.kernel, os.path.join(root, "kernel.elf"))
    build_exit_nbp(os.path.join(root, "exit.nbp"))
    for name, path in modules.items():
        dst = os.path.join(root, name)
        if os.path.exists(dst):
            os.unlink(dst)
        try:
            os.link(path, dst)
        except OSError:
            shutil.copyfile(path, dst)
    shutil.copyfile(PXELINUX, os.path.join(root, "pxelinux.0"))
    for c32 in ("ldlinux.c32", "mboot.c32", "libcom32.c32"):
        shutil.copyfile(os.path.join(SYSLINUX_BIOS, c32),
                        os.path.join(root, c32))
    os.makedirs(os.path.join(root, "pxelinux.cfg"), exist_ok=True)
    grub_core = grub_netdir(root)
    # atftpd serves as nobody: everything must be world-readable.
    for d, _dirs, files in os.walk(root):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    return {"pulsar": "pulsar", "pulsar-pxe": "pulsar-pxe",
            "ipxe": "boot.ipxe",
            "pxelinux": "pxelinux.0", "grub": grub_core,
            "baseline": "exit.nbp"}


def write_configs(root, server, module):
    """Point every peer's config at @module on TFTP server @server."""
    files = {
        CONFIG_NAMES[0]: "exec kernel.elf bench\nload %s bench-module\n" % module,
        CONFIG_NAMES[1]: "exec kernel.elf bench\nload %s bench-module\n" % module,
        "boot.ipxe": "#!ipxe\nkernel tftp://%s/kernel.elf bench\n"
                     "module tftp://%s/%s bench-module\nboot\n"
                     % (server, server, module),
        "pxelinux.cfg/default": "DEFAULT bench\nPROMPT 0\nTIMEOUT 0\n"
                                "LABEL bench\n  KERNEL mboot.c32\n"
                                "  APPEND kernel.elf bench --- %s "
                                "bench-module\n" % module,
        "boot/grub/grub.cfg": "set timeout=0\nmultiboot /kernel.elf bench\n"
                              "module /%s bench-module\nboot\n" % module,
    }
    for rel, text in files.items():
        path = os.path.join(root, rel)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)


# ------------------------------------------------------------- running

def qemu_args(log_path, net, peer, path):
    """QEMU for @peer's run on @path (PATHS): COM1 into @log_path, network
    boot through the path's NIC with the peer's MAC on the -netdev @net."""
    nic, cpu = PATHS[path]
    return qemu.command(serial=log_path, mem=MEM_MIB, boot="n", net=net,
                        mac=MACS[peer], nic=nic, cpu=cpu)


def timed(argv, timeout, popen=subprocess.Popen):
    """Run @argv; returns (exit status or None on timeout, seconds)."""
    start = time.monotonic()
    proc = popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        rc = None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return rc, time.monotonic() - start


class QemuServer:
    """QEMU's built-in DHCP/TFTP server."""

    name = "qemu"
    address = "10.0.2.2"

    def __init__(self, root):
        self.root = root

    def run(self, peer, path, bootfile, log_path, timeout):
        return timed(qemu_args(log_path, qemu.user_net(self.root, bootfile),
                               peer, path), timeout)

    def close(self):
        pass


class AtftpdServer:
    """dnsmasq (DHCP only) and atftpd in a private network namespace."""

    name = "atftpd"
    address = NS_SERVER

    def __init__(self, root, workdir, bootfiles):
        self.ns = NetNS(addrs=[NS_SERVER]).__enter__()
        self.ns.popen(
            servers.atftpd_argv(NS_SERVER, root, verbose=0),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        boots = [(bootfile, NS_SERVER, MACS[peer])
                 for peer, bootfile in bootfiles.items()]
        self.ns.popen(
            servers.dnsmasq_dhcp_argv(
                self.ns.tap, NS_RANGE[0], NS_RANGE[1],
                os.path.join(workdir, "leases"), boots, quiet=True),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # let both bind before QEMU asks

    def run(self, peer, path, bootfile, log_path, timeout):
        return timed(["ip", "netns", "exec", self.ns.name] +
                     qemu_args(log_path, qemu.tap_net(self.ns.tap), peer,
                               path), timeout)

    def close(self):
        self.ns.close()


def check_run(peer, text, rc, want_size, want_crc):
    """None if the run booted the kernel with the right bytes, else why."""
    if peer == "baseline":
        return None if rc == EXIT_OK else "exit status %s" % rc
    if rc is None:
        return "timed out"
    m = CRC_RE.search(text)
    if not m:
        return "no `TK mod 0` line (exit status %s)" % rc
    size, crc = int(m.group(1)), int(m.group(2), 16)
    if size != want_size or crc != want_crc:
        return "module size %d crc32 %#010x, the file has %d %#010x" % (
            size, crc, want_size, want_crc)
    if rc != EXIT_OK:
        return "exit status %s" % rc
    return None


# ------------------------------------------------------------ reporting

def nbp_max():
    """The NBP's size limit, NBP_MAX in boot/bios/layout.h."""
    with open(os.path.join(TOP, "boot/bios/layout.h")) as f:
        m = re.search(r"#define NBP_MAX (\d+)", f.read())
    return int(m.group(1)) if m else 0


def load_avg():
    """The 1-minute load average, as a noise indicator."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def path_peers(opts, path):
    """The peers that run on @path: all on the first path, else only
    Pulsar and iPXE."""
    if path == opts.paths[0]:
        return opts.peers
    return [p for p in opts.peers if p in PATH_PEERS]


def summarize(results, baselines, opts):
    """Rows: (server, size, path, peer, n, median, load s, MiB/s, ratio to
    iPXE on the same path, spread)."""
    rows = []
    for server in opts.servers:
        for size in opts.sizes:
            for path in opts.paths:
                base = baselines.get((server, path))
                if not base:
                    continue
                b = statistics.median(base)
                loads = {}
                for peer in path_peers(opts, path):
                    times = results.get((server, size, path, peer), [])
                    if not times:
                        continue
                    med = statistics.median(times)
                    loads[peer] = (med, max(med - b, 1e-3),
                                   max(times) - min(times), len(times))
                ipxe = loads.get("ipxe")
                for peer in path_peers(opts, path):
                    if peer not in loads:
                        continue
                    med, load, spread, n = loads[peer]
                    ratio = load / ipxe[1] if ipxe else float("nan")
                    rows.append((server, size, path, peer, n, med, load,
                                 size / load, ratio, spread))
    return rows


def write_report(rows, baselines, failures, opts, meta):
    """results.md, results.dat, results.png; returns the Markdown text."""
    md = []
    md.append("| server | module | path | loader | runs | median total (s) "
              "± half range | load time (s) | MiB/s | vs iPXE (same path) |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    for (server, size, path, peer, n, med, load, rate, ratio,
         spread) in rows:
        md.append("| %s | %d MiB | %s | %s | %d | %.2f ± %.2f | %.2f | %.1f "
                  "| %s |" % (server, size, path, peer, n, med, spread / 2,
                              load, rate,
                              "-" if ratio != ratio else "%.2fx" % ratio))
    md.append("")
    for (server, path), b in sorted(baselines.items()):
        md.append("- Baseline (%s, %s, boot program reached): median %.2f s "
                  "of %d runs (%.2f-%.2f)." % (server, path,
                                               statistics.median(b),
                                               len(b), min(b), max(b)))
    md.append("- build/pulsar: %d bytes (limit %d, boot/bios/layout.h)."
              % (meta["nbp_size"], nbp_max()))
    for (server, size, path, peer), said in sorted(
            meta["pulsar_says"].items()):
        md.append("- %s's own line for the %d MiB module from %s on %s "
                  "(last run): %s." % (peer, size, server, path, said))
    md.append("- Machine: %d CPUs, load average %.2f before and %.2f after; "
              "%d rounds interleaved; %s." % (
                  os.cpu_count(), meta["load_before"], meta["load_after"],
                  opts.rounds, meta["date"]))
    if failures:
        md.append("")
        md.append("Failed runs (not counted):")
        for f in failures:
            md.append("- " + f)
    text = "\n".join(md) + "\n"
    with open(os.path.join(opts.out, "results.md"), "w") as f:
        f.write(text)
    plot(rows, opts)
    return text


def plot(rows, opts):
    """A clustered bar chart of MiB/s per loader, one cluster per setup
    (server, module size, path)."""
    dat = os.path.join(opts.out, "results.dat")
    setups = []
    for server, size, path, *_ in rows:
        if (server, size, path) not in setups:
            setups.append((server, size, path))
    with open(dat, "w") as f:
        f.write("setup " + " ".join(opts.peers) + "\n")
        for server, size, path in setups:
            vals = []
            for peer in opts.peers:
                r = [row for row in rows
                     if row[:4] == (server, size, path, peer)]
                vals.append("%.2f" % r[0][7] if r else "NaN")
            f.write('"%s %d MiB %s" %s\n' % (server, size, path,
                                              " ".join(vals)))
    if not shutil.which("gnuplot"):
        log("bench: gnuplot is not installed (scripts/deps.sh --bench): "
            "no plot")
        return
    png = os.path.join(opts.out, "results.png")
    script = """
set terminal pngcairo size 1200,500 noenhanced
set output '%s'
set title 'Loading the test kernel and a module over PXE (QEMU TCG, per NIC path)'
set ylabel 'MiB/s (module size / load time; higher is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top right
set grid ytics
set yrange [0:*]
plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)
""" % (png, len(opts.peers) + 1, dat)
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(prog="bench",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--nbp", default=os.path.join(TOP, "build/pulsar"))
    ap.add_argument("--nbp-pxe", default=os.path.join(TOP, "build/pxe/pulsar"),
                    help="Pulsar without the NIC fast path (pulsar-pxe)")
    ap.add_argument("--kernel",
                    default=os.path.join(TOP, "build/testkernel.elf"))
    ap.add_argument("--out", default=os.path.join(TOP, "build/bench"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="64",
                    help="module sizes in MiB, e.g. 64,256 (default 64)")
    ap.add_argument("--big-rounds", type=int, default=1,
                    help="rounds for modules over 64 MiB (default 1)")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--peers", default=",".join(DEFAULT_PEERS),
                    help="of %s" % ",".join(PEERS))
    ap.add_argument("--paths", default=",".join(PATHS),
                    help="NIC paths, of %s (all peers run on the first, "
                    "Pulsar and iPXE on the others)" % ",".join(PATHS))
    ap.add_argument("--timeout", type=float, default=300)
    opts = ap.parse_args()
    opts.sizes = [int(s) for s in opts.sizes.split(",") if s]
    opts.servers = [s for s in opts.servers.split(",") if s]
    opts.peers = [p for p in opts.peers.split(",") if p]
    opts.paths = [p for p in opts.paths.split(",") if p]
    for p in opts.paths:
        if p not in PATHS:
            ap.error("unknown path %s" % p)
    for s in opts.servers:
        if s not in SERVERS:
            ap.error("unknown server %s" % s)
    for p in opts.peers:
        if p not in PEERS:
            ap.error("unknown peer %s" % p)
    if "atftpd" in opts.servers and os.geteuid() != 0:
        log("bench: atftpd needs root (network namespaces): skipped")
        opts.servers.remove("atftpd")
    for path in (opts.nbp, opts.kernel) + (
            (opts.nbp_pxe,) if "pulsar-pxe" in opts.peers else ()):
        if not os.path.isfile(path):
            ap.error("%s does not exist (make; make build/testkernel.elf; "
                     "make BUILD=build/pxe EXTRA_CFLAGS="
                     "-DPULSAR_NO_NIC_FASTPATH build/pxe/pulsar)" % path)
    os.makedirs(opts.out, exist_ok=True)
    # iPXE keeps a module where it downloaded it and copies it into place
    # at boot: it needs room for both.  Every run gets the same -m.
    global MEM_MIB
    MEM_MIB = max(MEM_MIB, 4 * max(opts.sizes))

    modules, crcs = {}, {}
    for size in opts.sizes:
        name = "mod%d.bin" % size
        path = os.path.join(opts.out, name)
        data = module_bytes(size)
        if not (os.path.exists(path) and os.path.getsize(path) == len(data)):
            with open(path, "wb") as f:
                f.write(data)
        modules[name] = path
        crcs[size] = zlib.crc32(data) & 0xFFFFFFFF
        del data

    work = tempfile.mkdtemp(prefix="pulsar-bench-")
    os.chmod(work, 0o755)
    root = os.path.join(work, "tftp")
    bootfiles = make_root(root, opts, modules)
    meta = {"nbp_size": os.path.getsize(opts.nbp),
            "load_before": load_avg(), "pulsar_says": {},
            "date": time.strftime("%Y-%m-%d %H:%M")}
    log("bench: build/pulsar is %d bytes; load average %.2f"
        % (meta["nbp_size"], meta["load_before"]))

    servers = []
    results, baselines, failures, runs = {}, {}, [], []
    try:
        for name in opts.servers:
            servers.append(QemuServer(root) if name == "qemu"
                           else AtftpdServer(root, work, bootfiles))
        max_rounds = max(opts.rounds, opts.big_rounds)
        for rnd in range(max_rounds):
            for srv in servers:
                plan = []
                for path in opts.paths:
                    plan.append(("baseline", None, path))
                    for size in opts.sizes:
                        n = opts.rounds if size <= 64 else opts.big_rounds
                        if rnd < n:
                            plan += [(peer, size, path)
                                     for peer in path_peers(opts, path)]
                if rnd >= opts.rounds and all(size is None
                                              for _, size, _ in plan):
                    continue
                for peer, size, path in plan:
                    if size:
                        write_configs(root, srv.address, "mod%d.bin" % size)
                    log_path = os.path.join(work, "serial.log")
                    if os.path.exists(log_path):
                        os.unlink(log_path)
                    rc, secs = srv.run(peer, path, bootfiles[peer],
                                       log_path, opts.timeout)
                    try:
                        with open(log_path, "rb") as f:
                            text = f.read().decode("utf-8", "replace")
                    except OSError:
                        text = ""
                    why = check_run(peer, text, rc,
                                    (size or 0) * MIB, crcs.get(size))
                    what = "%s %s %s %s" % (srv.name, path, peer,
                                            "%d MiB" % size if size else "")
                    if peer in ("pulsar", "pulsar-pxe"):
                        m = PULSAR_FILE_RE.search(text)
                        w = PULSAR_WINDOW_RE.search(text)
                        whole = PULSAR_WHOLE_RE.search(text)
                        how = ("NIC fast path" if PULSAR_FAST in text
                               else "PXE API")
                        how += (", " + w.group(1) if w else
                                ", lock-step" if PULSAR_FAST in text
                                else ", the ROM's TFTP")
                        if whole and int(whole.group(1)):
                            how += ", the module by READ_FILE"
                        if m:
                            meta["pulsar_says"][(srv.name, size, path,
                                                 peer)] = (
                                "%s (%s)" % (m.group(1), how))
                    runs.append((rnd + 1, srv.name, path, peer, size or 0,
                                 "%.3f" % secs, why or "ok"))
                    if why:
                        failures.append("%s, round %d: %s"
                                        % (what, rnd + 1, why))
                        log("bench: round %d %s: FAILED: %s"
                            % (rnd + 1, what, why))
                        continue
                    log("bench: round %d %-38s %6.2f s"
                        % (rnd + 1, what, secs))
                    if peer == "baseline":
                        baselines.setdefault((srv.name, path),
                                             []).append(secs)
                    else:
                        results.setdefault((srv.name, size, path, peer),
                                           []).append(secs)
    finally:
        for srv in servers:
            srv.close()
        shutil.rmtree(work, ignore_errors=True)

    meta["load_after"] = load_avg()
    with open(os.path.join(opts.out, "runs.csv"), "w") as f:
        f.write("round,server,path,loader,module_mib,seconds,result\n")
        for r in runs:
            f.write(",".join(str(x) for x in r) + "\n")
    rows = summarize(results, baselines, opts)
    text = write_report(rows, baselines, failures, opts, meta)
    sys.stdout.write(text)
    log("bench: wrote %s/results.md, results.png, runs.csv" % opts.out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
