"""End-to-end fault cases: a misbehaving TFTP server, recovery, bad input.

Each case boots Pulsar under QEMU inside a private network namespace
(lab.netns.NetNS) where faultserver.py (beside this file) is the DHCP
and TFTP server at 10.77.0.1 and injects the faults the case asks for.
COM1 is a Unix socket, so the harness reads Pulsar's console as it comes
and can type on it (a byte on COM1 skips Pulsar's wait before it starts
over).

Every case ends in one of two ways, and anything else fails it:
- the test kernel runs and harness.check_boot() checks every value, module
  CRC-32s included, plus the CRC-32 of the kernel's own code segment
  (`TK text_crc32=`), so a wrongly loaded byte anywhere fails the case;
- Pulsar prints `pulsar: error: ...` naming the file, the server and the
  fault, then `pulsar: boot failed ...`, and never starts the kernel.
The server's log must show that the fault really happened.

The fault cases run on three BIOS paths, each with its own pinned texts
(see fault_cases): the NIC fast path (plain names), Pulsar's own client
over the PXE UDP API (`-pxe`), and the ROM's TFTP with READ_FILE for the
modules, from a server that grants no window (`-rom`); and with
pulsar.efi under OVMF on both UEFI stacks: `efi-fault-*` (OVMF's own PXE,
virtio-net without option ROM) and `efi-ipxe-fault-*` (iPXE's EFI ROM on
the e1000).  pulsar.efi's own TFTP client runs over SNP there (it must
say so: `own TFTP over SNP`) and prints the lines the fast path prints; a
boot is checked with the memory facts UEFI's map has
(cases_efi.EFI_FLAGS).
"""

import os
import re
import shutil
import socket
import threading
import time

from lab import ROOT, module_argv, qemu
from lab.images import elf_text_crc
from lab.netns import NetNS
from tests.malformed import gen

from . import harness
from .cases_efi import EFI_FLAGS
from .harness import CheckFailed, Checker

SERVER_IP = "10.77.0.1"
CLIENT_IP = "10.77.0.15"
FAILED = "pulsar: boot failed"     # Pulsar gave up on this attempt
STARTING_RE = re.compile(r"pulsar: starting \S+ at ")  # just before the jump
ATTEMPT_RE = re.compile(r"pulsar: starting over \(attempt (\d+)")
# pulsar.efi's stacks: OVMF's own PXE on a virtio-net NIC without option
# ROM, and iPXE's EFI ROM on QEMU's e1000 (NIC model, romfile for lab.qemu).
EFI_STACKS = {"efi": ("virtio-net-pci", ""), "efi-ipxe": ("e1000", None)}
# What pulsar.efi says of its TFTP path before the first file.
EFI_PATH_RE = re.compile(r"pulsar: tftp 10\.77\.0\.1 grants blksize 1468, "
                         r"windowsize \d+ \(own TFTP over SNP\)")


# ------------------------------------------------------------ the guest

class Guest:
    """QEMU PXE-booting inside @ns, COM1 on a Unix socket we hold."""

    def __init__(self, ns, tmp, log_path, nic="e1000", cpu=None, efi=None):
        self.ns = ns
        self.nic = nic
        self.cpu = cpu
        self.efi = efi
        self.tmp = tmp
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
        if self.efi:
            nic, romfile = EFI_STACKS[self.efi]
            args = qemu.ovmf(None, None, self.tmp, nic=nic, romfile=romfile,
                             net=qemu.tap_net(self.ns.tap),
                             serial_socket=self.sock_path)
        else:
            args = qemu.command(serial_socket=self.sock_path, boot="n",
                                net=qemu.tap_net(self.ns.tap), nic=self.nic,
                                cpu=self.cpu)
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
                    raise CheckFailed(["QEMU did not open COM1 (%s)"
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

def check_text_crc(text, kernel):
    """The kernel's code arrived byte for byte (`TK text_crc32=`)."""
    values = harness.parse_report(text)["values"]
    got = values.get("text_crc32")
    want = "0x%08x" % elf_text_crc(kernel)
    if got != want:
        raise CheckFailed(["TK text_crc32=%s, the kernel file's code "
                           "segment has %s" % (got, want)])


def error_lines(text):
    """Pulsar's `pulsar: error: ` lines."""
    return [ln.rstrip("\r") for ln in text.splitlines()
            if ln.startswith("pulsar: error: ")]


def check_refused(text, file_path, fault_re, attempts=1):
    """Pulsar refused: @attempts error lines naming @file_path, the server
    and the fault (@fault_re), each followed by the boot-failed marker, and
    the kernel never ran."""
    ck = Checker()
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
    ck = Checker()
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
            "demo/module1.bin": harness.random_bytes(11, 2 * harness.MIB),
            "demo/module2.bin": harness.random_bytes(12, 300 * 1024 + 123)}


class NetCase(harness.Case):
    """A boot over the namespace with the fault server; see the module doc.

    @rules: the server's rules text at the start.
    @expect: "boot"; ("error", file path, fault regex[, attempts]): Pulsar
    refuses, naming the file, the server and the fault; or ("exact",
    line): Pulsar refuses with exactly `pulsar: error: <line>`.
    @server_log, @serial: regexes the server's log / COM1 must show.
    @setup: optional callable(case, tftp_root) before QEMU starts.
    @script: optional callable(case, guest, rules_path) run while the
    guest boots (it may rewrite the rules, add files or type on COM1).
    @server_args: more arguments for the fault server; @nic: the guest's
    NIC model (QEMU's iPXE ROM for it); @cpu: QEMU's -cpu, or its default.
    @path: "fast" (the NIC fast path must run), "pxe" (it must not: every
    packet through the ROM's PXE API), "rom" (as "pxe", and no window:
    after a boot Pulsar's count says @rom_whole[0] transfers came whole by
    READ_FILE and @rom_whole[1] READ_FILEs were refused), "efi" or
    "efi-ipxe" (pulsar.efi under OVMF on that stack, EFI_STACKS; its own
    client over SNP must run) or None (not checked)."""

    def __init__(self, opts, name, rules, expect, server_log=(), serial=(),
                 config=CONFIG, files=demo_files, setup=None, script=None,
                 dhcp_args=(), timeout=None, server_args=(), nic="e1000",
                 cpu=None, path=None, rom_whole=(2, 0)):
        super().__init__(opts)
        self.name = name
        self.rules = rules
        self.expect = expect
        self.server_log = server_log
        self.serial = serial
        self.config_text = config
        self.files = files
        self.setup = setup
        self.script = script
        self.dhcp_args = list(dhcp_args)
        self.server_args = list(server_args)
        self.nic = nic
        self.cpu = cpu
        self.path = path
        self.efi = path if path in EFI_STACKS else None
        if self.efi:
            self.needs_efi = True
        self.rom_whole = rom_whole
        self.timeout = timeout or max(opts.timeout, 120)
        self.flags_absent = ()  # multiboot flag bits that must be clear

    def run(self, tmp):
        files = self.files(self)
        root = self.write_tftp(tmp, self.config_text, files)
        self.root = root
        if self.efi:
            shutil.copyfile(self.opts.efi, os.path.join(root, "pulsar.efi"))
        if self.setup:
            self.setup(self, root)
        rules_path = os.path.join(tmp, "rules")
        with open(rules_path, "w") as f:
            f.write(self.rules)
        server_log = os.path.join(tmp, "server.log")
        log = os.path.join(tmp, "serial.log")
        t0 = time.monotonic()
        with NetNS(addrs=[SERVER_IP]) as ns:
            ns.popen(module_argv("tests.e2e.faultserver", "--root", root,
                                 "--addr", SERVER_IP, "--rules", rules_path,
                                 "--log", server_log, "--dhcp", CLIENT_IP,
                                 "--max-seconds", str(self.timeout + 60))
                     + (["--dhcp-file", "pulsar.efi"] if self.efi else [])
                     + self.dhcp_args + self.server_args, cwd=ROOT)
            guest = Guest(ns, tmp, log, self.nic, self.cpu, self.efi)
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
        ck = Checker()
        ck.failures += check_path(self.log_text, self.path, self.expect,
                                  self.rom_whole)
        for pattern in self.serial:
            ck.expect(re.search(pattern, self.log_text), "COM1 shows no "
                      "/%s/" % pattern)
        for pattern in self.server_log:
            ck.expect(re.search(pattern, self.server_text), "the fault "
                      "server's log has no /%s/: the fault did not happen"
                      % pattern)
        if ck.failures:
            ck.failures.append("server log tail: " + " | ".join(
                self.server_text.splitlines()[-8:]))
        ck.done()
        result["secs"] = time.monotonic() - t0
        return result

    def finish(self, guest, files):
        """Wait for the outcome the case expects and check it."""
        if self.expect == "boot":
            rc = guest.wait_exit(self.timeout)
            text = guest.output()
            if rc is None:
                raise CheckFailed(["no outcome after %d s (QEMU still "
                                   "running)" % self.timeout])
            exp = boot_expectation(self, files)
            exp["required_flags"] = [b for b in exp["required_flags"]
                                     if b not in self.flags_absent]
            rep = harness.check_boot(text, rc, exp)
            check_text_crc(text, self.kernel())
            check_flags_absent(text, self.flags_absent)
            return {"report": rep, "rc": rc}
        attempts = self.expect[3] if len(self.expect) > 3 else 1
        ok = guest.wait_for(lambda t: t.count(FAILED) >= attempts,
                            self.timeout)
        text = guest.output()
        if not ok:
            raise CheckFailed(["no `%s` after %d s" % (FAILED,
                                                          self.timeout)])
        if self.expect[0] == "exact":
            check_exact(text, self.expect[1])
        elif self.expect[0] == "match":
            check_exact(text, self.expect[1], regex=True)
        else:
            check_refused(text, self.expect[1], self.expect[2], attempts)
        return {}


def check_path(text, path, expect, rom_whole):
    """Problems with the path the transfers took: on "fast" Pulsar drove
    the e1000 itself (its probe line; after a boot, its count says every
    transfer ran there); on "pxe" and "rom" neither line is there, and on
    the e1000 Pulsar says why the fast path is off; on "rom" no window is
    granted, and after a boot the ROM's count says @rom_whole: (transfers
    whole by READ_FILE, READ_FILEs refused)."""
    lines = [ln.rstrip("\r") for ln in text.splitlines()]
    if path in EFI_STACKS:
        if not EFI_PATH_RE.search(text):
            return ["no line /%s/" % EFI_PATH_RE.pattern]
        return []
    if path == "fast":
        if harness.FAST_PATH_LINE not in lines:
            return ["no line %r" % harness.FAST_PATH_LINE]
        said = [m for m in map(harness.FAST_PATH_COUNT_RE.match, lines) if m]
        if expect == "boot" and (len(said) != 1 or
                                 said[0].group(1) != said[0].group(2)):
            return ["expected one `pulsar: fast path: N of N transfers` "
                    "line, got %r" % [m.group(0) for m in said]]
        return []
    if path in ("pxe", "rom"):
        problems = harness.check_fast_path_count(text, False, 0, 0)
        if harness.FAST_PATH_LINE in lines:
            problems.append("the fast path ran: %r" % harness.FAST_PATH_LINE)
        if harness.FAST_PATH_OFF_LINE not in lines:
            problems.append("no line %r" % harness.FAST_PATH_OFF_LINE)
        if path == "rom":
            problems += harness.check_rom_whole(text, expect == "boot",
                                                *rom_whole)
        return problems
    return []


def check_flags_absent(text, bits):
    """Each multiboot flag bit in @bits is clear and the test kernel says
    so (`TK no_...`)."""
    ck = Checker()
    rep = harness.parse_report(text)
    flags = int(rep["values"].get("flags", "0"), 16)
    for bit in bits:
        ck.expect(not flags & (1 << bit), "flags=%#010x has bit %d (%s), "
                  "which this case must not get" % (flags, bit,
                                                    harness.FLAG_KEYS[bit]))
        ck.expect(harness.ABSENT_KEYS[bit] in rep["markers"], "no `TK %s`"
                  % harness.ABSENT_KEYS[bit])
    ck.done()


def no_options_case(opts, name, nic):
    """Boot the test kernel and both modules from a plain RFC 1350 server
    (it ignores every option: no tsize, no blksize, no windowsize) on
    @nic.  Without a size Pulsar plans the kernel from its headers and
    claims the modules as they arrive; the ELF section headers, which it
    takes only with the file's size, are not passed: flag 5 (syms) must
    be clear and the test kernel must say `TK no_syms`."""
    case = NetCase(opts, name, "", "boot", server_args=["--ignore-options"],
                   nic=nic,
                   server_log=[r"demo/kernel.elf: options ignored",
                               r"module1.bin #\d+ .*complete, 2097152 "
                               r"bytes"],
                   serial=[r"pulsar: demo/kernel.elf: \d+ bytes, multiboot "
                           r"ELF32",
                           r"pulsar: demo/module1.bin: 2097152 bytes at ",
                           r"pulsar: demo/module2.bin: 307323 bytes at "],
                   timeout=300)
    case.flags_absent = (5,)
    return case


def check_exact(text, line, regex=False):
    """Pulsar refused with exactly `pulsar: error: @line` (with @regex:
    a line that @line, a regular expression, matches in full)."""
    ck = Checker()
    errs = error_lines(text)
    want = "pulsar: error: " + line
    got = errs[0] if errs else None
    ok = got is not None and (re.fullmatch("pulsar: error: " + line, got)
                              if regex else got == want)
    ck.expect(ok, "the error is %r, expected %r" % (got, want))
    ck.expect(not STARTING_RE.search(text), "Pulsar started the kernel")
    ck.expect(not any(ln.startswith("TK ") for ln in text.splitlines()),
              "the test kernel ran")
    ck.done()


def boot_expectation(case, files):
    """harness.check_boot's expectations for @case's config and @files."""
    items = harness.config_items(case.config_text)
    execs = [it for it in items if it["kind"] == "exec"]
    root = "demo/"
    exp = {
        "kernel_cmdline": execs[-1]["cmdline"],
        "cmdline_exact": True,
        "loader_prefix": "Pulsar",
        "modules": [(it["cmdline"], files[root + it["name"]])
                    for it in items if it["kind"] == "load"],
        "addr": None,
        "kernel_span": harness.elf_span(case.kernel()),
        "required_flags": sorted(harness.FLAG_KEYS),
    }
    if case.efi:
        # The memory facts and flags as UEFI's map has them (cases_efi).
        exp.update(required_flags=EFI_FLAGS, upper_near_top=False)
    return exp


# ----------------------------------------------------- recovery scripts

def config_path(case):
    """Where the case's config-<mac> lies in its TFTP root."""
    return os.path.join(case.root, harness.CONFIG_NAME)


def remove_config(case, root):
    """setup: the config is missing when the machine boots."""
    os.remove(os.path.join(root, harness.CONFIG_NAME))


def add_config_after_failure(type_key):
    """script: once Pulsar gives up, put the config in place (and type a
    key on COM1 if @type_key), as an admin fixing the server would."""
    def script(case, guest, _rules):
        if not guest.wait_for(lambda t: FAILED in t, case.timeout):
            raise CheckFailed(["no `%s` while the config is missing"
                               % FAILED])
        with open(config_path(case) + ".tmp", "w") as f:
            f.write(case.config_text)
        os.rename(config_path(case) + ".tmp", config_path(case))
        if type_key:
            time.sleep(0.5)  # let the wait begin; earlier bytes are dropped
            guest.send(b"\r")
    return script


def repair_server_after(pattern):
    """script: once COM1 shows @pattern, empty the rules (the server is
    back to normal), as when a crashed TFTP server is restarted."""
    def script(case, guest, rules_path):
        if not guest.wait_for(lambda t: re.search(pattern, t),
                              case.timeout):
            raise CheckFailed(["COM1 never showed /%s/" % pattern])
        with open(rules_path + ".tmp", "w") as f:
            f.write("# repaired\n")
        os.rename(rules_path + ".tmp", rules_path)
    return script


# ------------------------------------------------------ malformed input

def malformed(kind, name):
    """The input and exact message of a row of tests/malformed/gen.py."""
    for c in gen.all_cases():
        if (c.kind, c.name) == (kind, name):
            return c
    raise KeyError("%s/%s is not in tests/malformed/gen.py" % (kind, name))


def config_case(opts, name, row):
    """Boot a malformed config from the table; the message must be the
    table's, with this machine's config name."""
    c = malformed("config", row)
    text = c.data.decode("latin-1")

    def files(case):
        f = demo_files(case)
        f.update((k, v.encode()) for k, v in c.files.items())
        return f

    def setup(case, root):
        with open(os.path.join(root, harness.CONFIG_NAME), "wb") as f:
            f.write(c.data)
    return NetCase(opts, name, "", ("exact", c.expect.replace(
        "config-test", harness.CONFIG_NAME)), config=text, files=files,
        setup=setup)


def elf_case(opts, name, row, exact=True, contains=()):
    """Boot a malformed kernel from the table as demo/kernel.elf: the
    message must be the table's, or (not @exact: it holds addresses of
    this machine's layout) hold each of @contains in order."""
    c = malformed("elf", row)

    def files(case):
        f = demo_files(case)
        f["demo/kernel.elf"] = c.data
        return f
    want = c.expect.replace("config-test", harness.CONFIG_NAME)
    if exact:
        return NetCase(opts, name, "", ("exact", want), files=files)
    return NetCase(opts, name, "", ("match", ".*".join(
        map(re.escape, contains))), files=files)


def dhcp_case(opts, name, row, dhcp_args):
    """A DHCP reply with a malformed part, as the table's row has it."""
    return NetCase(opts, name, "", ("exact", malformed("dhcp", row).expect),
                   dhcp_args=dhcp_args)


# ------------------------------------------------------------ the cases

RETRY = r"; try 2 of 3 in 1 s"


PXE_CPU = "qemu64,-hypervisor"   # as on real hardware: no fast path

CFG = harness.CONFIG_NAME
# The oversized block: the fast path sees its IP fragments, the ROM's UDP
# API hands over the reassembled datagram.
OVERSIZE = {"fast": "oversized DATA block: 1980 bytes in IP fragments, "
                    "blksize 1468",
            "pxe": "oversized DATA block: 1980 bytes, blksize 1468"}
# On "rom" the ROM's TFTP says what failed, as a PXE status; a module's
# READ_FILE reports no byte count ("after 0 of"), and its first failure
# with "unsupported function" or "bad function" (iPXE's words for a TFTP
# ERROR of code 0 and for an oversized block) streams the file block by
# block in the same try, which the boot's closing count shows.
ROM_TIMEOUT = "PXE status 0x35: TFTP read timeout"


def line(text):
    """A regex for COM1: @text as a whole line (a progress line may come
    before it on the same terminal line)."""
    return "(?m)" + re.escape(text) + r"\r?$"


def fault_cases(opts, path):
    """The fault cases on @path: "fast" (QEMU's e1000 under a hypervisor,
    Pulsar's own client driving the NIC; the plain names), "pxe" (the
    same e1000 with the CPUID hypervisor bit off, as on real hardware:
    Pulsar's client over the ROM's PXE UDP API; the names end in `-pxe`)
    or "rom" (that e1000 again, from a server that grants no windowsize:
    the ROM's own TFTP, block by block for the config and the kernel,
    PXENV_TFTP_READ_FILE straight into place for the modules; `-rom`).
    Each pins the exact lines its path prints.  On pulsar.efi (@path
    "efi" or "efi-ipxe": the names start with it) the faults of issue 17
    (drops, the server gone mid-file, a missing file, a wrong size, an
    oversized block, a lasting error): its own client over SNP sees what
    the NIC fast path sees, so the lines are the same."""
    def F(name, *args, **kw):
        if path in ("pxe", "rom"):
            name += "-" + path
            kw["cpu"] = PXE_CPU
        if path == "rom":
            kw["server_args"] = ["--max-window", "1"]
        if path in EFI_STACKS:
            name = path + "-" + name
        return NetCase(opts, name, *args, path=path, **kw)
    rom = path == "rom"
    # The test kernel's size, as the server announces it (the kernel
    # grows as it learns to report more).
    ksize = os.path.getsize(opts.kernel)

    def once(file_, text):
        """A COM1 line: @file_'s failed try, then "try 2 of 3"."""
        return line("pulsar: %s: %s; try 2 of 3 in 1 s" % (file_, text))
    if rom:
        error_once = [once("demo/kernel.elf", "transfer from 10.77.0.1 "
                           "failed after 8592 of %d bytes (PXE status "
                           "0x03: unsupported function)" % ksize)]
        stop_once = [once("demo/module2.bin", "timed out on 10.77.0.1 "
                          "after 0 of 307323 bytes (%s)" % ROM_TIMEOUT)]
        short_once = [once("demo/module1.bin", "timed out on 10.77.0.1 "
                           "after 0 of 2097152 bytes (%s)" % ROM_TIMEOUT)]
        oversize_once = []
        error_text = "PXE status 0x3c: TFTP: access violation"
        stop = ("%s:3: exec: demo/kernel.elf: timed out on 10.77.0.1 after "
                "2864 of %d bytes, 3 tries (%s)" % (CFG, ksize, ROM_TIMEOUT))
        short = ("%s:4: load: demo/module1.bin: timed out on 10.77.0.1 "
                 "after 0 of 2097152 bytes, 3 tries (%s)" % (CFG,
                                                            ROM_TIMEOUT))
        oversize = ("%s:4: load: demo/module1.bin: transfer from 10.77.0.1 "
                    "failed after 5728 of 2097152 bytes, 3 tries (PXE "
                    "status 0x02: bad function)" % CFG)
    else:
        over = OVERSIZE.get(path, OVERSIZE["fast"])
        error_once = [
            once("demo/kernel.elf", "transfer from 10.77.0.1 failed after "
                 "8808 of %d bytes (TFTP error 0: disk-on-fire)" % ksize),
            once("demo/module1.bin", "transfer from 10.77.0.1 failed after "
                 "145332 of 2097152 bytes (TFTP error 0: disk-on-fire)")]
        stop_once = [once("demo/module2.bin", "timed out on 10.77.0.1 after "
                          "71932 of 307323 bytes")]
        short_once = [once("demo/module1.bin", "10.77.0.1 announced 2097152 "
                           "bytes but sent only 100000")]
        oversize_once = [once("demo/module1.bin", "transfer from 10.77.0.1 "
                              "failed after 5872 of 2097152 bytes (%s)"
                              % over)]
        error_text = "TFTP error 2: permission-denied"
        stop = ("%s:3: exec: demo/kernel.elf: timed out on 10.77.0.1 after "
                "2936 of %d bytes, 3 tries" % (CFG, ksize))
        short = ("%s:4: load: demo/module1.bin: 10.77.0.1 announced 2097152 "
                 "bytes but sent only 100000, 3 tries" % CFG)
        oversize = ("%s:4: load: demo/module1.bin: transfer from 10.77.0.1 "
                    "failed after 5872 of 2097152 bytes, 3 tries (%s)"
                    % (CFG, over))
    # On "rom": the modules that came whole (READ_FILE), and how many
    # READ_FILEs the ROM refused (streamed instead), after a boot.
    def W(whole, refused=0):
        return {"rom_whole": (whole, refused)} if rom else {}
    every = [
        # Faults the client rides out (or Pulsar retries past).
        F("fault-drop", "demo/kernel.elf drop=3\ndemo/module1.bin drop=7\n",
          "boot", server_log=[r"kernel.elf #\d+ .*FAULT drop block 3",
                              r"module1.bin #\d+ .*FAULT drop block 7"],
          **W(2)),
        F("fault-drop-every", "demo/module2.bin drop-every=20\n", "boot",
          server_log=[r"FAULT drop transmission 20 ",
                      r"FAULT drop transmission 200 "], **W(2)),
        F("fault-dup", "demo/kernel.elf dup=2\ndemo/module1.bin dup=5\n",
          "boot", server_log=[r"kernel.elf #\d+ .*FAULT duplicate block 2",
                              r"module1.bin #\d+ .*FAULT duplicate block 5"],
          **W(2)),
        F("fault-reorder", "demo/kernel.elf reorder=7 times=1\n"
          "demo/module1.bin reorder=5 times=1\n", "boot",
          server_log=[r"kernel.elf #\d+ .*FAULT reorder: block 8 before 7",
                      r"module1.bin #\d+ .*FAULT reorder: block 6 before 5"],
          **W(2)),
        F("fault-delay", "demo/module1.bin delay=9:3\n", "boot",
          server_log=[r"FAULT delay block 9 by 3.0 s",
                      r"releasing delayed block 9"], **W(2)),
        # Transfers that fail once: Pulsar starts them over and boots (on
        # "rom" module1's first READ_FILE, refused, streams at once).
        F("fault-error-once",
          "demo/kernel.elf error=7:0:disk-on-fire times=1\n"
          "demo/module1.bin error=100:0:disk-on-fire times=1\n", "boot",
          server_log=[r"kernel.elf #\d+ .*FAULT error instead of block 7",
                      r"module1.bin #\d+ .*FAULT error instead of block 100"],
          serial=error_once, **W(1, 1)),
        F("fault-stop-once", "demo/module2.bin stop=50 times=1\n", "boot",
          server_log=[r"FAULT stop at block 50"], serial=stop_once, **W(2)),
        F("fault-short-once", "demo/module1.bin short=100000 times=1\n",
          "boot", server_log=[r"FAULT short: block \d+ ends the file at "
                              r"100000 of 2097152 bytes"],
          serial=short_once, **W(2)),
        F("fault-oversize-once", "demo/module1.bin oversize=5 times=1\n",
          "boot", server_log=[r"FAULT oversize block 5: \d+ data bytes"],
          serial=oversize_once, **W(1, 1)),
        # The size query goes to the ROM's TFTP on every path.
        F("fault-server-restart", "demo/module2.bin silent\n", "boot",
          script=repair_server_after(
              r"demo/module2.bin: size query timed out on 10.77.0.1.*"
              + RETRY),
          server_log=[r"module2.bin: FAULT silent",
                      r"module2.bin #\d+ .*complete"],
          serial=[line("pulsar: demo/module2.bin: size query timed out on "
                       "10.77.0.1 (PXE status 0x35: TFTP read timeout); try "
                       "2 of 3 in 1 s")], **W(2)),
        # Faults that do not go away: Pulsar names file, server and fault.
        F("fault-error", "demo/module2.bin error=9:2:permission-denied\n",
          ("exact", "%s:5: load: demo/module2.bin: access denied by "
           "10.77.0.1 (%s)" % (CFG, error_text)),
          server_log=[r"FAULT error instead of block 9"]),
        F("fault-stop", "demo/kernel.elf stop=3\n", ("exact", stop),
          server_log=[r"FAULT stop at block 3"], timeout=240),
        F("fault-short", "demo/module1.bin short=100000\n",
          ("exact", short), server_log=[r"FAULT short"],
          timeout=240 if rom else None),
        F("fault-oversize", "demo/module1.bin oversize=5\n",
          ("exact", oversize), server_log=[r"FAULT oversize block 5"]),
        F("fault-missing", "demo/kernel.elf missing\n",
          ("exact", "%s:3: exec: demo/kernel.elf: not found on 10.77.0.1"
           % CFG),
          server_log=[r"FAULT missing"]),
    ]
    if path not in EFI_STACKS:
        return every
    return [c for c in every if c.name[len(path) + 1:] in EFI_FAULTS]


# The fault cases pulsar.efi runs (fault_cases).  Not fault-server-restart:
# pulsar.efi asks no size before a module's data (the OACK says it).
EFI_FAULTS = ("fault-drop", "fault-stop-once", "fault-short-once",
              "fault-oversize-once", "fault-error", "fault-stop",
              "fault-short", "fault-oversize", "fault-missing")


def cases(opts):
    """The fault cases, the recovery cases and a few malformed inputs."""
    return [
        NetCase(opts, "net-plain", "", "boot",
                server_log=[r"complete, 2097152 bytes"]),
        # A server without RFC 2347 options (sizes unknown), on the NIC
        # fast path and on the PXE API (rtl8139: no fast path).
        no_options_case(opts, "srv-no-options", "e1000"),
        no_options_case(opts, "srv-no-options-rtl8139", "rtl8139"),
        # The fault cases, on the fast path and on the PXE API.
    ] + fault_cases(opts, "fast") + fault_cases(opts, "pxe") + \
        fault_cases(opts, "rom") + fault_cases(opts, "efi") + \
        fault_cases(opts, "efi-ipxe") + [
        # Whole boots that fail until the server is fixed.
        NetCase(opts, "recover-missing-config", "", "boot",
                setup=remove_config, script=add_config_after_failure(False),
                serial=[r"pulsar: error: no config file on 10.77.0.1: none "
                        r"of the \d+ names above exists\r?\npulsar: boot "
                        r"failed \(attempt 1\); starting over in 10 s",
                        r"pulsar: starting over \(attempt 2\)"],
                timeout=180),
        NetCase(opts, "recover-key", "", "boot", setup=remove_config,
                script=add_config_after_failure(True),
                serial=[r"boot failed \(attempt 1\).*\r?\npulsar: key "
                        r"pressed\r?\npulsar: starting over \(attempt 2\)"]),
        # Malformed input, end to end (the whole table is in make check).
        config_case(opts, "bad-config-nul", "nul-byte"),
        config_case(opts, "bad-config-conf-loop", "conf-loop"),
        config_case(opts, "bad-config-overlong", "overlong-line"),
        elf_case(opts, "bad-elf-entry", "entry-outside"),
        elf_case(opts, "bad-elf-truncated", "truncated-data"),
        elf_case(opts, "bad-elf-over-pulsar", "segment-over-pulsar",
                 exact=False, contains=("config-52-54-00-12-34-56:3: exec: "
                                        "demo/kernel.elf: [0x00008000, "
                                        "0x00008100) kernel.elf segment 2 "
                                        "overlaps [0x00007c00, ",
                                        ") Pulsar image and heap")),
        dhcp_case(opts, "bad-dhcp-no-next-server", "no-next-server",
                  ["--dhcp-siaddr", "0.0.0.0", "--dhcp-file",
                   "tftp://%s/pulsar" % SERVER_IP]),
        dhcp_case(opts, "bad-dhcp-root-too-long", "root-path-too-long",
                  ["--dhcp-option", "17=" + "r" * 200]),
    ]
