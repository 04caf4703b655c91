"""End-to-end fault cases: a misbehaving TFTP server, recovery, bad input.

Each case boots Pulsar under QEMU inside a private network namespace
(netns.NetNS) where tests/faultserver.py is the DHCP and TFTP server at
10.77.0.1 and injects the faults the case asks for.  COM1 is a Unix
socket, so the harness reads Pulsar's console as it comes and can type on
it (a byte on COM1 skips Pulsar's wait before it starts over).

Every case ends in one of two ways, and anything else fails it:
- the test kernel runs and run.check_boot() checks every value, module
  CRC-32s included, plus the CRC-32 of the kernel's own code segment
  (`TK text_crc32=`), so a wrongly loaded byte anywhere fails the case;
- Pulsar prints `pulsar: error: ...` naming the file, the server and the
  fault, then `pulsar: boot failed ...`, and never starts the kernel.
The server's log must show that the fault really happened.
"""

import os
import re
import socket
import struct
import sys
import threading
import time
import zlib

import netns
import run

SERVER_IP = "10.77.0.1"
CLIENT_IP = "10.77.0.15"
HERE = os.path.dirname(os.path.abspath(__file__))
FAULTSERVER = os.path.join(os.path.dirname(HERE), "faultserver.py")
FAILED = "pulsar: boot failed"     # Pulsar gave up on this attempt
STARTING_RE = re.compile(r"pulsar: starting \S+ at ")  # just before the jump
ATTEMPT_RE = re.compile(r"pulsar: starting over \(attempt (\d+)")


# ------------------------------------------------------------ the guest

class Guest:
    """QEMU PXE-booting inside @ns, COM1 on a Unix socket we hold."""

    def __init__(self, ns, tmp, log_path):
        self.ns = ns
        self.sock_path = os.path.join(tmp, "com1.sock")
        self.log_path = log_path
        self.text = ""
        self.lock = threading.Lock()
        self.proc = None
        self.conn = None
        self.reader = None
        self.t0 = time.monotonic()

    def start(self):
        """Start QEMU and connect to its COM1 before the guest runs."""
        args = run.qemu_base(self.log_path)
        i = args.index("-serial")
        args[i:i + 2] = [
            "-chardev", "socket,id=com1,path=%s,server=on,wait=on"
            % self.sock_path, "-serial", "chardev:com1"]
        args += ["-boot", "n", "-device", "e1000,netdev=n0,mac=" + run.MAC]
        args += self.ns.qemu_netdev_args("n0")
        self.err = open(self.log_path + ".stderr", "wb")
        self.proc = self.ns.popen(args, stdin=subprocess_devnull(),
                                  stdout=self.err, stderr=self.err)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.conn.connect(self.sock_path)
                break
            except OSError:
                self.conn.close()
                if self.proc.poll() is not None or \
                        time.monotonic() > deadline:
                    raise run.CheckFailed(["QEMU did not open COM1 (%s)"
                                           % self.sock_path])
                time.sleep(0.05)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        """Copy COM1 into self.text and the log file."""
        decoder = __import__("codecs").getincrementaldecoder("utf-8")(
            errors="replace")
        with open(self.log_path, "wb") as log:
            while True:
                try:
                    chunk = self.conn.recv(4096)
                except OSError:
                    break
                if not chunk:
                    break
                log.write(chunk)
                log.flush()
                with self.lock:
                    self.text += decoder.decode(chunk)

    def output(self):
        """Everything COM1 has said so far."""
        with self.lock:
            return self.text

    def wait_for(self, pred, timeout):
        """Wait until pred(output) is true or QEMU exits; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.output()
            if pred(out):
                return True
            if self.proc.poll() is not None:
                time.sleep(0.3)  # let the reader drain
                return pred(self.output())
            time.sleep(0.1)
        return False

    def send(self, data):
        """Type @data on COM1."""
        self.conn.sendall(data)

    def wait_exit(self, timeout):
        """QEMU's exit status, or None if it is still running."""
        try:
            rc = self.proc.wait(timeout)
        except Exception:
            return None
        if self.reader:
            self.reader.join(5)
        return rc

    def stop(self):
        """Stop QEMU (NetNS.close would do it too)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except Exception:
                self.proc.kill()
        if self.conn:
            self.conn.close()
        if self.reader:
            self.reader.join(5)
        self.err.close()


def subprocess_devnull():
    """/dev/null for QEMU's stdin."""
    return open(os.devnull, "rb")


# ----------------------------------------------------------- the checks

def text_crc(kernel):
    """CRC-32 of the kernel file's first loadable segment's file bytes."""
    phoff, = struct.unpack_from("<I", kernel, 0x1C)
    phentsize, phnum = struct.unpack_from("<HH", kernel, 0x2A)
    for i in range(phnum):
        p_type, off, _v, _p, filesz = struct.unpack_from(
            "<5I", kernel, phoff + i * phentsize)
        if p_type == 1 and filesz:
            return zlib.crc32(kernel[off:off + filesz]) & 0xFFFFFFFF
    raise ValueError("no file-backed segment")


def check_text_crc(text, kernel):
    """The kernel's code arrived byte for byte (`TK text_crc32=`)."""
    values = run.parse_report(text)["values"]
    got = values.get("text_crc32")
    want = "0x%08x" % text_crc(kernel)
    if got != want:
        raise run.CheckFailed(["TK text_crc32=%s, the kernel file's code "
                               "segment has %s" % (got, want)])


def error_lines(text):
    """Pulsar's `pulsar: error: ` lines."""
    return [ln.rstrip("\r") for ln in text.splitlines()
            if ln.startswith("pulsar: error: ")]


def check_refused(text, file_path, fault_re, attempts=1):
    """Pulsar refused: @attempts error lines naming @file_path, the server
    and the fault (@fault_re), each followed by the boot-failed marker, and
    the kernel never ran."""
    ck = run.Checker()
    errs = error_lines(text)
    ck.expect(errs, "no `pulsar: error: ` line")
    for ln in errs[:attempts]:
        ck.expect(file_path in ln, "the error does not name %s: %r"
                  % (file_path, ln))
        ck.expect(SERVER_IP in ln, "the error does not name the server "
                  "%s: %r" % (SERVER_IP, ln))
        ck.expect(re.search(fault_re, ln), "the error does not name the "
                  "fault (/%s/): %r" % (fault_re, ln))
    ck.expect(text.count(FAILED) >= attempts, "`%s` seen %d times, expected "
              "%d" % (FAILED, text.count(FAILED), attempts))
    ck.expect(not STARTING_RE.search(text), "Pulsar started the kernel")
    ck.expect(not any(ln.startswith("TK ") for ln in text.splitlines()),
              "the test kernel ran")
    ck.done()


def check_server_log(log_text, wanted):
    """Each regex in @wanted occurs in the fault server's log."""
    ck = run.Checker()
    for pattern in wanted:
        ck.expect(re.search(pattern, log_text), "the fault server's log "
                  "has no /%s/: the fault did not happen" % pattern)
    ck.done()


# ------------------------------------------------------------ the cases

CONFIG = """\
# Pulsar fault case
root demo
exec kernel.elf console=serial
load module1.bin first module
load module2.bin second module
"""


def demo_files(case):
    """The kernel and two modules (2 MiB and 300 KiB + 123 bytes)."""
    return {"demo/kernel.elf": case.kernel(),
            "demo/module1.bin": run.random_bytes(11, 2 * run.MIB),
            "demo/module2.bin": run.random_bytes(12, 300 * 1024 + 123)}


class NetCase(run.Case):
    """A boot over the namespace with the fault server; see the module doc.

    @rules: the server's rules text at the start.
    @expect: "boot", or ("error", file path, fault regex[, attempts]).
    @server_log: regexes the server's log must show.
    @script: optional callable(case, guest, rules_path) run while the
    guest boots (it may rewrite the rules or type on COM1)."""

    def __init__(self, opts, name, rules, expect, server_log=(),
                 config=CONFIG, files=demo_files, script=None,
                 dhcp_args=(), timeout=None):
        super().__init__(opts)
        self.name = name
        self.rules = rules
        self.expect = expect
        self.server_log = server_log
        self.config_text = config
        self.files = files
        self.script = script
        self.dhcp_args = list(dhcp_args)
        self.timeout = timeout or max(opts.timeout, 120)

    def run(self, tmp):
        files = self.files(self)
        root = self.write_tftp(tmp, self.config_text, files)
        self.root = root
        rules_path = os.path.join(tmp, "rules")
        with open(rules_path, "w") as f:
            f.write(self.rules)
        server_log = os.path.join(tmp, "server.log")
        log = os.path.join(tmp, "serial.log")
        t0 = time.monotonic()
        with netns.NetNS(addrs=[SERVER_IP]) as ns:
            ns.popen([sys.executable, FAULTSERVER, "--root", root,
                      "--addr", SERVER_IP, "--rules", rules_path,
                      "--log", server_log, "--dhcp", CLIENT_IP,
                      "--max-seconds", str(self.timeout + 60)]
                     + self.dhcp_args)
            guest = Guest(ns, tmp, log)
            try:
                guest.start()
                if self.script:
                    self.script(self, guest, rules_path)
                result = self.finish(guest, files)
            finally:
                guest.stop()
                self.log_text = guest.output()
        with open(server_log) as f:
            self.server_text = f.read()
        try:
            check_server_log(self.server_text, self.server_log)
        except run.CheckFailed as e:
            e.args[0].append("server log tail: " + " | ".join(
                self.server_text.splitlines()[-8:]))
            raise
        result["secs"] = time.monotonic() - t0
        return result

    def finish(self, guest, files):
        """Wait for the outcome the case expects and check it."""
        if self.expect == "boot":
            rc = guest.wait_exit(self.timeout)
            text = guest.output()
            if rc is None:
                raise run.CheckFailed(["no outcome after %d s (QEMU still "
                                       "running)" % self.timeout])
            exp = boot_expectation(self, files)
            rep = run.check_boot(text, rc, exp)
            check_text_crc(text, self.kernel())
            return {"report": rep, "rc": rc}
        _, path, fault_re = self.expect[:3]
        attempts = self.expect[3] if len(self.expect) > 3 else 1
        ok = guest.wait_for(lambda t: t.count(FAILED) >= attempts,
                            self.timeout)
        text = guest.output()
        if not ok:
            raise run.CheckFailed(["no `%s` after %d s" % (FAILED,
                                                          self.timeout)])
        check_refused(text, path, fault_re, attempts)
        return {}


def boot_expectation(case, files):
    """run.check_boot's expectations for @case's config and @files."""
    items = run.config_items(case.config_text)
    execs = [it for it in items if it["kind"] == "exec"]
    root = "demo/"
    return {
        "kernel_cmdline": execs[-1]["cmdline"],
        "cmdline_exact": True,
        "loader_prefix": "Pulsar",
        "modules": [(it["cmdline"], files[root + it["name"]])
                    for it in items if it["kind"] == "load"],
        "addr": None,
        "kernel_span": run.elf_span(case.kernel()),
        "required_flags": sorted(run.FLAG_KEYS),
    }


def cases(opts):
    """The fault cases."""
    return [
        NetCase(opts, "net-plain", "", "boot",
                server_log=[r"complete, 2097152 bytes"]),
    ]
