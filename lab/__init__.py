"""Pulsar's lab: everything the Python tools share to boot Pulsar under
QEMU -- QEMU command lines, network namespaces, DHCP/TFTP servers and the
builders of test inputs (ELF, bzImage, DHCP replies, cpio archives).

    lab.qemu     the one QEMU command-line builder and the serial watcher
    lab.netns    a private network namespace with a tap device for QEMU
    lab.servers  dnsmasq, ISC dhcpd, tftpd-hpa and atftpd (cache/servers/
                 first, where scripts/deps.sh unpacks them)
    lab.ra       the IPv6 router-advertisement responder (a server)
    lab.images   builders of kernels, bzImages, DHCP replies, random data
    lab.netboot  scripts/netboot: boot a TFTP directory with real servers
    lab.bench    scripts/bench: Pulsar against iPXE, PXELINUX and GRUB
    lab.callbench  scripts/callbench: the cost of one PXE call

Why a package at the top of the tree.  Every Python entry point runs as
`python3 -m PACKAGE.MODULE` from the repository's root: the Makefile does
so (`python3 -m tests.e2e.run`, `python3 -m lab.bench`, ...), and the
user-facing commands scripts/netboot, scripts/bench and scripts/callbench
are three-line shell wrappers that put the root on PYTHONPATH and do the
same.  Python puts the current directory (or PYTHONPATH) on its search
path by itself, so `import lab` and `from tests.e2e import harness` work
everywhere without any entry point editing sys.path, loading files by
path or aliasing modules.  The tools (scripts/) and the tests (tests/)
both use this code, so it lives beside them rather than inside either.
Processes this code starts with `python3 -m` (the RA responder, the fault
server) get the root as their working directory (module_argv, ROOT).

Standard library only.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "cache")


def module_argv(module, *args):
    """The command line that runs @module as `python3 -m` (start it with
    cwd=ROOT so the module is found)."""
    return [sys.executable, "-m", module] + [str(a) for a in args]
