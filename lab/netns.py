"""A private network for QEMU and real servers (tests, netboot, bench).

NetNS creates a network namespace with a unique name, a tap device inside
it for QEMU (lab.qemu.tap_net(ns.tap)) and the server addresses on that
tap, all in a private range that exists only inside the namespace.
Servers and QEMU run inside the namespace through NetNS.popen(), so no
packet can reach any other network.  Everything is removed on exit, on
failure and on SIGTERM/SIGINT too.

    with NetNS(addrs=["10.77.0.1", "10.77.0.3"]) as ns:
        srv = ns.popen(["dnsmasq", ...])
        vm = ns.popen(qemu.command(..., net=qemu.tap_net(ns.tap)))
"""

import atexit
import os
import signal
import subprocess
import threading
import time

_live = []  # namespaces to tear down at exit
_counter_lock = threading.Lock()


def _cleanup_all(*_args):
    for ns in list(_live):
        ns.close()


atexit.register(_cleanup_all)


def _on_signal(signum, _frame):
    _cleanup_all()
    raise SystemExit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        if signal.getsignal(_sig) in (signal.SIG_DFL, None):
            signal.signal(_sig, _on_signal)
    except ValueError:  # not the main thread
        pass


def _ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


class NetNS:
    """A network namespace with one tap device and server addresses."""

    counter = 0

    def __init__(self, addrs=("10.77.0.1",), prefix=24, tap="ptap0",
                 taps=1):
        with _counter_lock:  # e2e cases may run two at a time
            NetNS.counter += 1
            self.name = "pulsar-%d-%d" % (os.getpid(), NetNS.counter)
        self.addrs = list(addrs)
        self.prefix = prefix
        self.tap = tap
        # taps > 1: one tap per QEMU (ptap0, ptap1, ...) on a bridge
        # that holds the addresses (self.iface), as machines on a switch.
        self.taps = ["%s%d" % (tap.rstrip("0123456789"), i)
                     for i in range(taps)] if taps > 1 else [tap]
        self.iface = "pbr0" if taps > 1 else tap
        self.procs = []

    def __enter__(self):
        if os.geteuid() != 0:
            raise RuntimeError("network namespaces need root")
        _ip("netns", "add", self.name)
        _live.append(self)
        try:
            self.run(["ip", "link", "set", "lo", "up"])
            if self.iface != self.tap:
                self.run(["ip", "link", "add", self.iface, "type",
                          "bridge"])
            for t in self.taps:
                self.run(["ip", "tuntap", "add", "dev", t, "mode", "tap"])
                if self.iface != self.tap:
                    self.run(["ip", "link", "set", t, "master", self.iface])
                self.run(["ip", "link", "set", t, "up"])
            for a in self.addrs:
                self.run(["ip", "addr", "add", "%s/%d" % (a, self.prefix),
                          "dev", self.iface])
            self.run(["ip", "link", "set", self.iface, "up"])
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _wrap(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def run(self, argv, **kw):
        """Run a command inside the namespace and wait for it."""
        kw.setdefault("check", True)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        return subprocess.run(self._wrap(argv), **kw)

    def popen(self, argv, **kw):
        """Start a process inside the namespace; it is killed on close."""
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen(self._wrap(argv), **kw)
        self.procs.append(p)
        return p

    def close(self):
        """Kill every process started here and delete the namespace."""
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
        deadline = time.time() + 3
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                p.wait()
        self.procs = []
        # Processes that escaped their group (daemons that double-fork).
        pids = _ip("netns", "pids", self.name, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        _ip("netns", "del", self.name, check=False)
        if self in _live:
            _live.remove(self)
