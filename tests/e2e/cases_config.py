"""End-to-end cases for the config language, the config lookup and `chld`.

- config-nested: nested `conf`, continuation lines, comments, CRLF and
  `root` changes give the exact kernel and module command lines (written
  out below from docs/config.md's rules) and the right files.
- config-loop, malformed-*: the `file:line:` error on Pulsar's serial
  console, and the very same text from build/pulsar-check on the same
  TFTP root.
- lookup-ip-prefix, lookup-default: no config-<mac>; the next names are
  tried in order (each printed) and the first that exists is used.
- chld-pxelinux: Debian's pxelinux.0, chained by Pulsar, reads its own
  pxelinux.cfg/default and boots the test kernel with modules through
  mboot.c32.
- chld-undionly: Debian's undionly.kpxe, chained by Pulsar, boots the test
  kernel with modules from an iPXE script.  How the script reaches it:
  QEMU's DHCP hands every client the same boot file, and both QEMU's NIC
  ROM and undionly.kpxe are iPXE, so the boot file is a script
  (boot.ipxe) that tells the two apart by `${net0/chip}`: under the ROM
  it is the NIC driver ("82540em"), under undionly.kpxe it is "undionly".
  The ROM's pass chains Pulsar; Pulsar's config says `chld
  undionly.kpxe`; undionly.kpxe's pass boots the kernel and puts
  chip=${net0/chip} on its command line, so the report proves which iPXE
  loaded it.
"""

import os
import subprocess

from lab import qemu

from . import harness
from .harness import CheckFailed, Checker

MAC = harness.MAC
CFG = harness.CONFIG_NAME
CLIENT_IP_HEX = "0A00020F"  # QEMU user networking gives the guest 10.0.2.15
PXELINUX = "/usr/lib/PXELINUX/pxelinux.0"
SYSLINUX_MODULES = "/usr/lib/syslinux/modules/bios"
UNDIONLY = "/usr/lib/ipxe/undionly.kpxe"


def chain_line(path, name):
    """The serial line Pulsar prints when it chains @path as @name."""
    if not os.path.exists(path):
        return []  # read() fails the case with the package to install
    return ["pulsar: chainloading %s: %d bytes to 0000:7c00, PXE stack kept"
            % (name, os.path.getsize(path))]


def modules():
    """Three small modules with fixed random content."""
    return {"m1.bin": harness.random_bytes(31, 300 * 1024 + 7),
            "m2.bin": harness.random_bytes(32, 77 * 1024),
            "m3.bin": harness.random_bytes(33, 5000)}


def checker_path(opts):
    """build/pulsar-check, next to the NBP."""
    return os.path.join(os.path.dirname(os.path.abspath(opts.nbp)),
                        "pulsar-check")


def write_tree(tmp, tree):
    """Create the TFTP root @tmp/tftp from @tree (path -> bytes or str)."""
    root = os.path.join(tmp, "tftp")
    for rel, data in tree.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    return root


def read(path):
    """The bytes of @path, or CheckFailed naming the missing package."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise CheckFailed(["%s: %s (scripts/deps.sh installs pxelinux, "
                           "syslinux-common and ipxe)" % (path, e)])


class TreeBootCase(harness.Case):
    """Boot from a TFTP tree the case builds; the test kernel must report
    exactly @kernel_cmdline and @modules ((cmdline, bytes) in order)."""

    def __init__(self, opts, name, tree, kernel_cmdline, mods,
                 bootfile="pulsar", loader_prefix="Pulsar",
                 required_flags=(0, 2, 3, 6, 9), log_lines=()):
        super().__init__(opts)
        self.name = name
        self.tree = tree
        self.kernel_cmdline = kernel_cmdline
        self.mods = mods
        self.bootfile = bootfile
        self.loader_prefix = loader_prefix
        self.required_flags = list(required_flags)
        self.log_lines = list(log_lines)

    def run(self, tmp):
        tree = {"pulsar": read(self.opts.nbp)}
        tree.update(self.tree(self) if callable(self.tree) else self.tree)
        root = write_tree(tmp, tree)
        log = os.path.join(tmp, "serial.log")
        exp = {
            "kernel_cmdline": self.kernel_cmdline,
            "cmdline_exact": True,
            "loader_prefix": self.loader_prefix,
            "modules": self.mods,
            "addr": None,
            "kernel_span": harness.elf_span(self.kernel()),
            "required_flags": self.required_flags,
        }
        rc, text, secs, ended = harness.run_qemu(
            qemu.pxe(root, log, self.bootfile), log, self.opts.timeout)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s"
                               % self.opts.timeout])
        ck = Checker()
        lines = [ln.rstrip("\r") for ln in text.splitlines()]
        pos = 0
        for want in self.log_lines:  # in this order, each a whole line
            try:
                pos = lines.index(want, pos) + 1
            except ValueError:
                ck.expect(False, "no serial line %r (after line %d)"
                          % (want, pos))
        try:
            rep = harness.check_boot(text, rc, exp)
        except CheckFailed as e:
            ck.failures += e.args[0]
        ck.done()
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


class ConfigErrorCase(harness.Case):
    """Pulsar must stop with exactly `pulsar: error: @message`, and
    pulsar-check on the same tree must report the same @message."""

    def __init__(self, opts, name, tree, message):
        super().__init__(opts)
        self.name = name
        self.tree = tree
        self.message = message

    def run(self, tmp):
        tree = {"pulsar": read(self.opts.nbp),
                "kernel.elf": self.kernel()}
        tree.update(self.tree)
        root = write_tree(tmp, tree)
        log = os.path.join(tmp, "serial.log")
        rc, text, secs, ended = harness.run_qemu(
            qemu.pxe(root, log), log, self.opts.timeout,
            stop_marker=harness.BOOT_FAILED)
        self.log_text = text
        if ended == "timeout":
            raise CheckFailed(["timed out after %d s without `%s`"
                               % (self.opts.timeout, harness.BOOT_FAILED)])
        want = "pulsar: error: " + self.message
        harness.check_error(text, [("%r" % want, lambda ln: ln == want)])

        checker = checker_path(self.opts)
        if not os.path.isfile(checker):
            raise CheckFailed(["%s does not exist (make)" % checker])
        proc = subprocess.run(
            [checker, "--mac", MAC, "--ip", "10.0.2.15", "--mem",
             str(harness.MEM_MIB), root], capture_output=True, text=True,
            timeout=60)
        errors = [ln[len("pulsar-check: error: "):]
                  for ln in proc.stdout.splitlines()
                  if ln.startswith("pulsar-check: error: ")]
        ck = Checker()
        ck.expect(proc.returncode == 1, "pulsar-check exited %d, expected 1"
                  % proc.returncode)
        ck.expect(errors[:1] == [self.message],
                  "pulsar-check's first error is %r, Pulsar's is %r\n%s"
                  % (errors[0] if errors else None, self.message,
                     proc.stdout))
        ck.done()
        return {"secs": secs, "rc": rc}


# ------------------------------------------------------------- the cases

NESTED_TOP = (
    "# e2e: nested configs, CRLF line ends\r\n"
    "root cfg\r\n"
    "conf common.cfg\r\n"
    "   # an indented comment, continued \\\r\n"
    "load not-a-module.bin\r\n"
    "\r\n"
    "load m2.bin second \\\r\n"
    "\tmodule\r\n")
NESTED_COMMON = (
    "root kern\n"
    "exec kernel.elf console=serial \\\n"
    "  nested=yes\n"
    "root mods\n"
    "load   m1.bin   first  module   \n"
    "root cfg\n"
    "conf sub.cfg\n")
NESTED_SUB = "root mods2\n\t load m3.bin third\n"


def nested_case(opts):
    """Nested conf with root changes, continuations, comments and CRLF."""
    mods = modules()

    def tree(case):
        return {CFG: NESTED_TOP, "cfg/common.cfg": NESTED_COMMON,
                "cfg/sub.cfg": NESTED_SUB, "kern/kernel.elf": case.kernel(),
                "mods/m1.bin": mods["m1.bin"],
                "mods2/m2.bin": mods["m2.bin"],
                "mods2/m3.bin": mods["m3.bin"]}
    # From docs/config.md's rules: a continuation drops the backslash and the
    # line break and keeps the next line's leading white space; outer
    # white space of the arguments is stripped, inner kept; what a nested
    # file sets (root mods2) stays in force after its `conf` line.
    return TreeBootCase(
        opts, "config-nested", tree,
        "kernel.elf console=serial   nested=yes",
        [("m1.bin first  module", mods["m1.bin"]),
         ("m3.bin third", mods["m3.bin"]),
         ("m2.bin second \tmodule", mods["m2.bin"])])


def lookup_ip_case(opts):
    """No config-<mac>: config-0A0002 (IP prefix) is used, not default."""
    mods = modules()
    good = "exec kernel.elf lookup=ip\nload m3.bin\n"

    def tree(case):
        return {"config-0A0002": good, "config-0A000": "exec wrong.elf\n",
                "config-default": "exec wrong.elf\n",
                "kernel.elf": case.kernel(), "m3.bin": mods["m3.bin"]}
    tried = ["pulsar: config %s from 10.0.2.2: not found" % CFG] + [
        "pulsar: config config-%s from 10.0.2.2: not found"
        % CLIENT_IP_HEX[:n] for n in (8, 7)] + [
        "pulsar: config config-0A0002 from 10.0.2.2: %d bytes" % len(good)]
    return TreeBootCase(opts, "lookup-ip-prefix", tree,
                        "kernel.elf lookup=ip", [("m3.bin", mods["m3.bin"])],
                        log_lines=tried)


def lookup_default_case(opts):
    """Neither the MAC nor any IP prefix: config-default is used."""
    good = "exec kernel.elf lookup=default\n"

    def tree(case):
        return {"config-default": good, "kernel.elf": case.kernel()}
    tried = ["pulsar: config %s from 10.0.2.2: not found" % CFG] + [
        "pulsar: config config-%s from 10.0.2.2: not found"
        % CLIENT_IP_HEX[:n] for n in range(8, 0, -1)] + [
        "pulsar: config config-default from 10.0.2.2: %d bytes" % len(good)]
    return TreeBootCase(opts, "lookup-default", tree,
                        "kernel.elf lookup=default", [], log_lines=tried,
                        required_flags=(0, 2, 6, 9))


def loop_case(opts):
    """a.cfg -> b.cfg -> a.cfg."""
    tree = {CFG: "root loops\nconf a.cfg\n",
            "loops/a.cfg": "# a\nconf b.cfg\n",
            "loops/b.cfg": "exec kernel.elf\nconf a.cfg\n"}
    return ConfigErrorCase(
        opts, "config-loop", tree,
        "loops/b.cfg:2: conf: loop: %s -> loops/a.cfg -> loops/b.cfg -> "
        "loops/a.cfg" % CFG)


# name, top config, nested bad.cfg (or None), expected message
MALFORMED = [
    ("malformed-unknown", "exec kernel.elf\n\nkernel x\n", None,
     CFG + ":3: unknown directive 'kernel'"),
    ("malformed-missing-arg", "exec kernel.elf\r\nload\r\n", None,
     CFG + ":2: load: missing file name"),
    ("malformed-ip", "conf bad.cfg\n", "exec kernel.elf\ntftp 10.0.2\n",
     "bad.cfg:2: tftp: '10.0.2' is not an IPv4 address"),
    ("malformed-addr", "conf bad.cfg\n",
     "# addr too big\nexec kernel.elf\naddr 0x100000000\n",
     "bad.cfg:3: addr: '0x100000000' does not fit in 32 bits"),
    ("malformed-long-line", "exec kernel.elf\nload m " + "x" * 2100 +
     " \\\n" + "y" * 2000 + "\n", None,
     CFG + ":2: line too long (over 4096 bytes)"),
    ("malformed-nul", "exec kernel.elf\nconf bad.cfg\n",
     "load m1.bin\nload m\x002.bin\n", "bad.cfg:2: NUL byte in config"),
    # Between the 64 KiB Pulsar reads and the 1 MiB pulsar-check once read:
    # both refuse it now, with the same words (loader/session.h).
    ("config-over-64k", "# padding\n" * 10000 + "exec kernel.elf\n", None,
     CFG + ": larger than 65536 bytes on 10.0.2.2"),
]


def malformed_cases(opts):
    """Each malformed line: its file:line error, same from the checker."""
    cases = []
    for name, top, nested, message in MALFORMED:
        tree = {CFG: top}
        if nested is not None:
            tree["bad.cfg"] = nested
        cases.append(ConfigErrorCase(opts, name, tree, message))
    return cases


PXELINUX_CFG = """\
default tk
prompt 0
timeout 0
label tk
  kernel mboot.c32
  append kernel.elf console=serial chained=pxelinux --- m1.bin first module --- m2.bin second
"""


def pxelinux_case(opts):
    """chld pxelinux.0 -> pxelinux.cfg/default -> mboot.c32 -> kernel."""
    mods = modules()

    def tree(case):
        t = {CFG: "# chain to PXELINUX\nchld pxelinux.0\nexec never.elf\n",
             "pxelinux.0": read(PXELINUX),
             "pxelinux.cfg/default": PXELINUX_CFG,
             "kernel.elf": case.kernel(),
             "m1.bin": mods["m1.bin"], "m2.bin": mods["m2.bin"]}
        for name in ("ldlinux.c32", "mboot.c32", "libcom32.c32"):
            t[name] = read(os.path.join(SYSLINUX_MODULES, name))
        return t
    # mboot.c32 splits its `append` at " --- ": the kernel's and each
    # module's command line is its part, file name first.
    parts = PXELINUX_CFG.split("append ", 1)[1].strip().split(" --- ")
    want = [(p, mods[p.split()[0]]) for p in parts[1:]]
    return TreeBootCase(
        opts, "chld-pxelinux", tree, parts[0], want,
        loader_prefix="PXELINUX", required_flags=(0, 2, 3, 6, 9),
        log_lines=chain_line(PXELINUX, "pxelinux.0"))


IPXE_SCRIPT = """\
#!ipxe
iseq ${net0/chip} undionly && goto chained ||
chain pulsar
:chained
kernel kernel.elf console=serial chip=${net0/chip}
module m1.bin first module
module m2.bin second
boot
"""


def undionly_case(opts):
    """ROM iPXE -> Pulsar -> chld undionly.kpxe -> script -> kernel."""
    mods = modules()

    def tree(case):
        return {CFG: "chld undionly.kpxe\n",
                "undionly.kpxe": read(UNDIONLY), "boot.ipxe": IPXE_SCRIPT,
                "kernel.elf": case.kernel(),
                "m1.bin": mods["m1.bin"], "m2.bin": mods["m2.bin"]}
    # iPXE's multiboot command lines start with the image's URI.
    uri = "tftp://%s/" % harness.TFTP_SERVER
    return TreeBootCase(
        opts, "chld-undionly", tree,
        uri + "kernel.elf console=serial chip=undionly",
        [(uri + "m1.bin first module", mods["m1.bin"]),
         (uri + "m2.bin second", mods["m2.bin"])],
        bootfile="boot.ipxe", loader_prefix="iPXE",
        log_lines=chain_line(UNDIONLY, "undionly.kpxe"))


def cases(opts):
    """Every case of this file (tests/e2e/harness.py collects them)."""
    return ([nested_case(opts), lookup_ip_case(opts),
             lookup_default_case(opts), loop_case(opts)] +
            malformed_cases(opts) + [pxelinux_case(opts),
                                     undionly_case(opts)])
