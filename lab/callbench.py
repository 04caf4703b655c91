"""What one call into the PXE ROM costs under QEMU, against a bare trip
through Pulsar's real-mode thunk.

    scripts/callbench [--nic e1000] [--runs 3]

Builds Pulsar with -DPULSAR_CALL_BENCH (build/callbench/pulsar; never the
shipped build/pulsar), PXE-boots it under QEMU (TCG, QEMU's own DHCP/TFTP
and the NIC's iPXE ROM) and reads what it prints before anything else:
20000 PXE calls of an opcode that does not exist (the ROM's whole entry
and exit, no work) and 20000 far calls of a bare RETF through the thunk
(Pulsar's own mode switches), each timed with the BIOS tick.  Prints the
median of --runs boots and the ROM's share.  Standard library only.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from lab import ROOT as TOP
from lab import qemu

LINE_RE = re.compile(rb"callbench: (\d+) calls each: pxe_call (\d+) ns, "
                     rb"thunk alone (\d+) ns")


def build():
    subprocess.run(["make", "-s", "BUILD=build/callbench",
                    "EXTRA_CFLAGS=-DPULSAR_CALL_BENCH",
                    "build/callbench/pulsar"], cwd=TOP, check=True)
    return os.path.join(TOP, "build/callbench/pulsar")


def one_run(nbp, nic, timeout=120):
    """Boot once; returns (pxe_call ns, thunk ns)."""
    tmp = tempfile.mkdtemp(prefix="pulsar-callbench-")
    try:
        shutil.copyfile(nbp, os.path.join(tmp, "pulsar"))
        log = os.path.join(tmp, "serial.log")
        argv = qemu.pxe(tmp, log, nic=nic, mac=None)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                time.sleep(0.5)
                try:
                    with open(log, "rb") as f:
                        m = LINE_RE.search(f.read())
                except OSError:
                    m = None
                if m:
                    return int(m.group(2)), int(m.group(3))
                if proc.poll() is not None:
                    break
            sys.exit("callbench: no result line within %d s (see %s)"
                     % (timeout, log))
        finally:
            proc.kill()
            proc.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(prog="callbench",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--nic", default="e1000")
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    nbp = build()
    calls, thunks = [], []
    for i in range(opts.runs):
        c, t = one_run(nbp, opts.nic)
        calls.append(c)
        thunks.append(t)
        print("callbench: run %d: pxe_call %.1f us, thunk alone %.1f us"
              % (i + 1, c / 1000, t / 1000), file=sys.stderr)
    c, t = statistics.median(calls), statistics.median(thunks)
    print("| NIC / ROM | one PXE call (no-op) | Pulsar's thunk alone | "
          "the ROM's share |")
    print("|---|---|---|---|")
    print("| %s, QEMU's iPXE | %.1f us | %.1f us | %.1f us (%.0f%%) |"
          % (opts.nic, c / 1000, t / 1000, (c - t) / 1000,
             100.0 * (c - t) / c))


if __name__ == "__main__":
    main()
