#!/usr/bin/env python3
"""Pulsar end-to-end harness: boot Pulsar over PXE under QEMU and check.

Each case builds a TFTP root in a temporary directory (Pulsar, a config,
the test kernel, modules), boots QEMU's e1000 PXE ROM from it, captures
COM1 into a file and then checks every `TK ` line the test kernel printed
(tests/kernel/README.md) against what the harness itself wrote: magic,
flags, memory facts versus the memory map, command lines, module sizes,
CRC-32s, alignment, order and overlaps, and QEMU's exit status.

    python3 tests/e2e/run.py --nbp build/pulsar --kernel build/testkernel.elf
        [--demo] [--case NAME ...] [--keep] [--direct] [--timeout S]

--demo    run only two-modules, echoing the serial log live, then a summary
--direct  self-test without Pulsar: QEMU's own multiboot loader (-kernel,
          -initrd, -append) boots the test kernel; same module/CRC/mmap checks
--case    run the named cases only (any mode); repeatable
--keep    keep the temporary directories (their paths are printed)

Output: `PASS name (x.y s)` or `FAIL name: reason` per case (a failure is
followed by every failed assertion and the serial log's last 60 lines), and
last `N passed, M failed`.  Exit status 0 iff every case passed.
Standard library only.
"""

import argparse
import importlib
import codecs
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

QEMU = "qemu-system-x86_64"
MEM_MIB = 128
MAC = "52:54:00:12:34:56"
CONFIG_NAME = "config-" + MAC.replace(":", "-")
TFTP_SERVER = "10.0.2.2"  # QEMU user networking's host (DHCP and TFTP)
MB_BOOT_MAGIC = 0x2BADB002
MBI_SIZE = 88  # bytes in a Multiboot 0.6.96 information structure
PAGE = 4096
MIB = 1 << 20
EXIT_OK = 33  # isa-debug-exit: (0x10 << 1) | 1
LOG_TAIL = 60
# After an error Pulsar prints this, waits and starts over (README "When
# things go wrong"); an ErrorCase stops QEMU when it appears.
BOOT_FAILED = "pulsar: boot failed"
POLL_S = 0.1

# flags bit -> the `TK` key that is printed only when the bit is set
FLAG_KEYS = {0: "mem_lower", 2: "cmdline", 3: "mods_count", 5: "syms_num",
             6: "mmap_count", 7: "drives_length", 8: "config_table",
             9: "loader", 11: "vbe_mode", 12: "fb_type"}
ABSENT_KEYS = {0: "no_mem", 2: "no_cmdline", 3: "no_mods", 5: "no_syms",
               6: "no_mmap", 7: "no_drives", 8: "no_config_table",
               9: "no_loader", 11: "no_vbe", 12: "no_fb"}


class CheckFailed(Exception):
    """A case failed; args[0] is a list of failed assertions."""


# ------------------------------------------------------------- test data

def random_bytes(seed, size):
    """Deterministic pseudo-random content: the same bytes every run."""
    return random.Random(seed).randbytes(size)


def logical_lines(text):
    """Yield (first physical line number, logical line) of a config.

    Pulsar's continuation rule: a backslash at the very end of a line is
    removed together with the newline, and the next line is appended as is
    (its leading white space kept)."""
    phys = text.split("\n")
    i = 0
    while i < len(phys):
        first = i + 1
        line = phys[i]
        while line.endswith("\\") and i + 1 < len(phys):
            i += 1
            line = line[:-1] + phys[i]
        yield first, line
        i += 1


def config_items(text):
    """The exec/load lines of a config as dicts with kind, name, cmdline
    ("name args" with the arguments' outer white space stripped, or just
    "name") and line (the config line number)."""
    items = []
    for lineno, line in logical_lines(text):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split(None, 1)
        if parts[0] not in ("exec", "load"):
            continue
        rest = parts[1].strip() if len(parts) > 1 else ""
        name_args = rest.split(None, 1)
        name = name_args[0] if name_args else ""
        args = name_args[1].strip() if len(name_args) > 1 else ""
        items.append({"kind": parts[0], "name": name, "line": lineno,
                      "cmdline": name + (" " + args if args else "")})
    return items


def elf_span(image):
    """[start, end) of an ELF32 image's loadable segments (physical)."""
    if image[:4] != b"\x7fELF" or image[4] != 1:
        raise ValueError("not an ELF32 file")
    phoff, = struct.unpack_from("<I", image, 0x1C)
    phentsize, phnum = struct.unpack_from("<HH", image, 0x2A)
    start, end = None, None
    for i in range(phnum):
        (p_type, _off, _vaddr, paddr, _filesz, memsz, _flags,
         _align) = struct.unpack_from("<8I", image, phoff + i * phentsize)
        if p_type == 1 and memsz:  # PT_LOAD
            start = paddr if start is None else min(start, paddr)
            end = paddr + memsz if end is None else max(end, paddr + memsz)
    if start is None:
        raise ValueError("no loadable segment")
    return start, end


def has_multiboot_header(image):
    """True if @image has a valid Multiboot header in its first 8 KiB."""
    for off in range(0, min(len(image), 8192) - 11, 4):
        magic, flags, csum = struct.unpack_from("<3I", image, off)
        if magic == 0x1BADB002 and (magic + flags + csum) & 0xFFFFFFFF == 0:
            return True
    return False


def align_up(value, align):
    """@value rounded up to a multiple of @align."""
    return (value + align - 1) // align * align


# ------------------------------------------------------------ the report

HEX8 = r"0x[0-9a-f]{8}"
HEX16 = r"0x[0-9a-f]{16}"
MOD_RE = re.compile(
    r"mod (\d+) start=(%s) end=(%s) size=(\d+) crc32=(%s) "
    r"(?:cmdline=(.*)|no_cmdline)$" % (HEX8, HEX8, HEX8))
MMAP_RE = re.compile(r"mmap (\d+) base=(%s) len=(%s) type=(\d+)$"
                     % (HEX16, HEX16))
KERNEL_RE = re.compile(r"(%s)-(%s)$" % (HEX8, HEX8))
HEX8_RE = re.compile(HEX8 + "$")
DEC_RE = re.compile(r"\d+$")


def unescape(s):
    """Undo the kernel's \\xNN escaping of guest strings."""
    return re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), s)


def parse_report(text):
    """Collect the test kernel's `TK ` lines from a serial log.

    Returns a dict: values (key -> raw string), mods and mmap (lists of
    dicts), errors (TK error texts), markers (bare words such as begin or
    no_mods), bad (lines that fit no known shape)."""
    rep = {"values": {}, "mods": [], "mmap": [], "errors": [],
           "markers": [], "bad": []}
    for line in text.splitlines():
        line = line.rstrip("\r")
        if not line.startswith("TK "):
            continue
        body = line[3:]
        if body.startswith("error "):
            rep["errors"].append(body[6:])
        elif body.startswith("mod "):
            m = MOD_RE.match(body)
            if not m:
                rep["bad"].append(line)
                continue
            rep["mods"].append({
                "idx": int(m.group(1)), "start": int(m.group(2), 16),
                "end": int(m.group(3), 16), "size": int(m.group(4)),
                "crc32": int(m.group(5), 16),
                "cmdline": None if m.group(6) is None
                else unescape(m.group(6))})
        elif body.startswith("mmap "):
            m = MMAP_RE.match(body)
            if not m:
                rep["bad"].append(line)
                continue
            rep["mmap"].append({
                "idx": int(m.group(1)), "base": int(m.group(2), 16),
                "len": int(m.group(3), 16), "type": int(m.group(4))})
        elif "=" in body:
            key, value = body.split("=", 1)
            if key in rep["values"]:
                rep["bad"].append(line + "   (repeated)")
            rep["values"][key] = value
        else:
            rep["markers"].append(body)
    return rep


# -------------------------------------------------------------- checking

class Checker:
    """Collects failed assertions so a failing case shows all of them."""

    def __init__(self):
        self.failures = []

    def expect(self, cond, message):
        """Record @message unless @cond holds; returns @cond."""
        if not cond:
            self.failures.append(message)
        return bool(cond)

    def done(self):
        """Raise CheckFailed if anything failed."""
        if self.failures:
            raise CheckFailed(self.failures)


def get_hex8(ck, values, key):
    """The value of `TK key=0x........`, or None (recorded as failure)."""
    raw = values.get(key)
    if not ck.expect(raw is not None, "no `TK %s=` line" % key):
        return None
    if not ck.expect(HEX8_RE.match(raw), "TK %s=%s is not 0x + 8 lower-case "
                     "hex digits" % (key, raw)):
        return None
    return int(raw, 16)


def get_dec(ck, values, key):
    """The value of `TK key=decimal`, or None (recorded as failure)."""
    raw = values.get(key)
    if not ck.expect(raw is not None, "no `TK %s=` line" % key):
        return None
    if not ck.expect(DEC_RE.match(raw), "TK %s=%s is not decimal"
                     % (key, raw)):
        return None
    return int(raw)


def overlaps(a, b):
    """True if the non-empty ranges a=(start, end) and b share a byte."""
    return a[0] < a[1] and b[0] < b[1] and a[0] < b[1] and b[0] < a[1]


def in_ram(mmap, start, end):
    """True if [start, end) is covered by type-1 (RAM) entries."""
    pos = start
    while pos < end:
        for e in mmap:
            if e["type"] == 1 and e["base"] <= pos < e["base"] + e["len"]:
                pos = e["base"] + e["len"]
                break
        else:
            return False
    return True


def check_boot(text, rc, exp):
    """Check a run where the test kernel should have reported success.

    @exp: kernel_cmdline (str), cmdline_exact (bool: else containment),
    loader_prefix (str or None), modules (list of (cmdline, bytes) in
    config order), addr (int or None), kernel_span ((start, end)),
    required_flags (bits that must be set)."""
    ck = Checker()
    rep = parse_report(text)
    values = rep["values"]

    if not ck.expect("begin" in rep["markers"],
                     "the test kernel never started (no `TK begin`)"):
        ck.done()
    ck.expect(rep["markers"].count("begin") == 1,
              "`TK begin` appears %d times" % rep["markers"].count("begin"))
    for err in rep["errors"]:
        ck.expect(False, "test kernel: error " + err)
    for bad in rep["bad"]:
        ck.expect(False, "malformed report line: " + bad)
    ck.expect(values.get("end status") == "ok",
              "`TK end status=%s`, expected ok"
              % values.get("end status", "<missing>"))

    magic = get_hex8(ck, values, "magic")
    ck.expect(magic is None or magic == MB_BOOT_MAGIC,
              "magic=%#x, expected %#x" % (magic or 0, MB_BOOT_MAGIC))
    flags = get_hex8(ck, values, "flags")
    if flags is None:
        ck.done()
    for bit in exp["required_flags"]:
        ck.expect(flags & (1 << bit), "flags=%#010x lacks bit %d (%s)"
                  % (flags, bit, FLAG_KEYS[bit]))
    for bit, key in FLAG_KEYS.items():
        present, absent = key in values, ABSENT_KEYS[bit] in rep["markers"]
        if flags & (1 << bit):
            ck.expect(present and not absent, "flags bit %d set but `TK %s=` "
                      "missing" % (bit, key))
        else:
            ck.expect(absent and not present, "flags bit %d clear but no "
                      "`TK %s`" % (bit, ABSENT_KEYS[bit]))

    # Memory map: non-empty, RAM at 0 and at 1 MiB, RAM never over -m.
    mmap = rep["mmap"]
    count = get_dec(ck, values, "mmap_count")
    ck.expect(count == len(mmap), "mmap_count=%s but %d `TK mmap` lines"
              % (count, len(mmap)))
    ck.expect([e["idx"] for e in mmap] == list(range(len(mmap))),
              "mmap entries are not numbered 0..%d" % (len(mmap) - 1))
    ck.expect(mmap, "memory map is empty")
    ram = [e for e in mmap if e["type"] == 1]
    low = [e for e in ram if e["base"] == 0]
    high = [e for e in ram if e["base"] == MIB]
    ck.expect(low, "no RAM (type 1) entry at 0 in the memory map")
    ck.expect(high, "no RAM (type 1) entry at 1 MiB in the memory map")
    for i, a in enumerate(ram):
        for b in ram[i + 1:]:
            ck.expect(not overlaps((a["base"], a["base"] + a["len"]),
                                   (b["base"], b["base"] + b["len"])),
                      "RAM entries %d and %d overlap" % (a["idx"], b["idx"]))
    ck.expect(sum(e["len"] for e in ram) <= MEM_MIB * MIB,
              "the map has more RAM than -m %d" % MEM_MIB)

    # mem_lower/mem_upper agree with the map (KiB of the RAM at 0 / 1 MiB).
    mem_lower = get_dec(ck, values, "mem_lower")
    mem_upper = get_dec(ck, values, "mem_upper")
    if low and mem_lower is not None:
        want = min(low[0]["len"], 640 * 1024) // 1024
        ck.expect(mem_lower == want, "mem_lower=%d but the RAM entry at 0 "
                  "holds %d KiB" % (mem_lower, want))
    if high and mem_upper is not None:
        want = high[0]["len"] // 1024
        ck.expect(mem_upper == want, "mem_upper=%d but the RAM entry at "
                  "1 MiB holds %d KiB" % (mem_upper, want))
        top = MIB + high[0]["len"]
        ck.expect((MEM_MIB - 16) * MIB < top <= MEM_MIB * MIB,
                  "the RAM at 1 MiB ends at %#x, not within 16 MiB below "
                  "-m %d" % (top, MEM_MIB))

    # Strings.
    cmdline = values.get("cmdline")
    if cmdline is not None:
        cmdline = unescape(cmdline)
        if exp["cmdline_exact"]:
            ck.expect(cmdline == exp["kernel_cmdline"],
                      "cmdline=%r, expected %r"
                      % (cmdline, exp["kernel_cmdline"]))
        else:
            ck.expect(exp["kernel_cmdline"] in cmdline,
                      "cmdline=%r does not contain %r"
                      % (cmdline, exp["kernel_cmdline"]))
    loader = values.get("loader")
    if loader is not None:
        loader = unescape(loader)
        ck.expect(loader, "the loader name is empty")
        if exp["loader_prefix"]:
            ck.expect(loader.startswith(exp["loader_prefix"]),
                      "loader=%r does not start with %r"
                      % (loader, exp["loader_prefix"]))

    # The kernel's own span and the info structure.
    kspan = None
    m = KERNEL_RE.match(values.get("kernel", ""))
    if ck.expect(m, "no well-formed `TK kernel=start-end` line"):
        kspan = (int(m.group(1), 16), int(m.group(2), 16))
        ck.expect(kspan == exp["kernel_span"], "kernel=%#x-%#x but the ELF "
                  "file spans %#x-%#x" % (kspan + exp["kernel_span"]))
    info = get_hex8(ck, values, "info")
    ispan = None
    if info is not None:
        ispan = (info, info + MBI_SIZE)
        ck.expect(info != 0, "info (EBX) is 0")
        ck.expect(not kspan or not overlaps(ispan, kspan),
                  "info=%#x overlaps the kernel" % info)

    # Modules: in config order, exact sizes, CRCs and command lines.
    mods = rep["mods"]
    want_mods = exp["modules"]
    if "mods_count" in values:
        n = get_dec(ck, values, "mods_count")
        ck.expect(n == len(want_mods), "mods_count=%s, expected %d"
                  % (n, len(want_mods)))
    else:
        ck.expect(not want_mods, "no modules reported, expected %d"
                  % len(want_mods))
    ck.expect(len(mods) == len(want_mods), "%d `TK mod` lines, expected %d"
              % (len(mods), len(want_mods)))
    ck.expect([mo["idx"] for mo in mods] == list(range(len(mods))),
              "modules are not numbered 0..%d" % (len(mods) - 1))
    for i, (mod, (want_cmd, data)) in enumerate(zip(mods, want_mods)):
        ck.expect(mod["size"] == len(data), "mod %d size=%d, the file has "
                  "%d bytes" % (i, mod["size"], len(data)))
        ck.expect(mod["end"] - mod["start"] == mod["size"], "mod %d: end - "
                  "start != size" % i)
        want_crc = zlib.crc32(data) & 0xFFFFFFFF
        ck.expect(mod["crc32"] == want_crc, "mod %d crc32=%#010x, the file's "
                  "is %#010x" % (i, mod["crc32"], want_crc))
        ck.expect(mod["cmdline"] == want_cmd, "mod %d cmdline=%r, expected "
                  "%r" % (i, mod["cmdline"], want_cmd))
        ck.expect(mod["start"] % PAGE == 0, "mod %d start=%#x is not "
                  "page-aligned" % (i, mod["start"]))
        span = (mod["start"], mod["end"])
        ck.expect(in_ram(mmap, *span), "mod %d %#x-%#x is not in RAM"
                  % (i, mod["start"], mod["end"]))
        ck.expect(not kspan or not overlaps(span, kspan),
                  "mod %d overlaps the kernel" % i)
        ck.expect(not ispan or not overlaps(span, ispan),
                  "mod %d overlaps the info structure" % i)
        for j, other in enumerate(mods[:i]):
            ck.expect(not overlaps(span, (other["start"], other["end"])),
                      "mod %d overlaps mod %d" % (i, j))
    if exp["addr"] is not None and mods:
        ck.expect(mods[0]["start"] == exp["addr"], "mod 0 start=%#x, `addr` "
                  "asked for %#x" % (mods[0]["start"], exp["addr"]))
        for i in range(1, len(mods)):
            want = align_up(mods[i - 1]["end"], PAGE)
            ck.expect(mods[i]["start"] == want, "mod %d start=%#x, expected "
                      "%#x (the page after mod %d)"
                      % (i, mods[i]["start"], want, i - 1))

    ck.expect(rc == EXIT_OK, "QEMU exit status %s, expected %d (the test "
              "kernel's ok through isa-debug-exit)" % (rc, EXIT_OK))
    ck.done()
    return rep


def check_error(text, patterns):
    """Check a run where Pulsar should have refused to boot.

    @patterns: (description, predicate on one log line) pairs; each must
    match some line.  The kernel must not have run and Pulsar must have
    given up on the boot attempt."""
    ck = Checker()
    lines = [ln.rstrip("\r") for ln in text.splitlines()]
    for what, pred in patterns:
        ck.expect(any(pred(ln) for ln in lines), "no serial line " + what)
    ck.expect(not any(ln.startswith("TK ") for ln in lines),
              "the test kernel ran, but Pulsar should have refused")
    ck.expect(any(BOOT_FAILED in ln for ln in lines),
              "no `%s` line" % BOOT_FAILED)
    ck.done()


# ------------------------------------------------------------ QEMU runner

def run_qemu(args, log_path, timeout, stop_marker=None, echo=False):
    """Run QEMU until it exits, @stop_marker shows in the log, or @timeout.

    The serial log is polled; with @echo it is copied to stdout as it grows.
    Returns (exit status or None, log text, seconds, how it ended)."""
    err_path = log_path + ".stderr"
    start = time.monotonic()
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err,
                                stderr=subprocess.STDOUT)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    seen = ""
    pos = 0
    ended = "exited"

    def pump():
        """Read what the log gained since the last call."""
        nonlocal seen, pos
        try:
            with open(log_path, "rb") as f:
                f.seek(pos)
                chunk = f.read()
        except FileNotFoundError:
            return
        pos += len(chunk)
        new = decoder.decode(chunk)
        seen += new
        if echo and new:
            # Keep a lone CR: Pulsar's progress line updates in place.
            sys.stdout.write(new.replace("\r\n", "\n"))
            sys.stdout.flush()

    try:
        while proc.poll() is None:
            pump()
            if stop_marker and stop_marker in seen:
                ended = "stopped"
                break
            if time.monotonic() - start > timeout:
                ended = "timeout"
                break
            time.sleep(POLL_S)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    pump()
    elapsed = time.monotonic() - start
    rc = proc.returncode if ended == "exited" else None
    return rc, seen, elapsed, ended


def qemu_base(log_path):
    """QEMU flags every case shares: no display, no monitor, no terminal."""
    if "," in log_path:
        raise ValueError("QEMU cannot take a comma in %s" % log_path)
    return [QEMU, "-accel", "tcg", "-m", str(MEM_MIB), "-no-reboot",
            "-display", "none", "-monitor", "none", "-parallel", "none",
            "-serial", "file:" + log_path,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def qemu_pxe(tftp_dir, log_path):
    """QEMU flags to PXE-boot `pulsar` from @tftp_dir through an e1000."""
    if "," in tftp_dir:
        raise ValueError("QEMU cannot take a comma in %s" % tftp_dir)
    return qemu_base(log_path) + [
        "-boot", "n",
        "-netdev", "user,id=n0,tftp=%s,bootfile=pulsar" % tftp_dir,
        "-device", "e1000,netdev=n0,mac=" + MAC]


# ------------------------------------------------------------------ cases

DEMO_CONFIG = """\
# Pulsar demo
root demo
exec kernel.elf console=serial
load module1.bin first module
load module2.bin second \\
    module
"""

ADDR = 0x2000000

# Pulsar's line when it drives QEMU's e1000 itself (boot/bios/nic.h).
FAST_PATH_LINE = ("pulsar: fast path: driving the Intel 82540EM at PCI "
                  "00:03.0 directly during transfers")

# make run's demo adds a 48 MiB module: the others load in a blink, and
# the progress line (drawn from about 0.2 s on) should be seen at work.
DEMO_BIG_NAME = "guest.img"
DEMO_BIG_SIZE = 48 * MIB
DEMO_BIG_LOAD = ("# a guest image, large enough to watch the progress line\n"
                 "load %s guest image\n" % DEMO_BIG_NAME)


def demo_modules():
    """The demo's modules: name -> content (fixed seeds)."""
    return {"module1.bin": random_bytes(1, 2 * MIB),
            "module2.bin": random_bytes(2, 3 * MIB + 123)}


class Case:
    """One scenario.  Subclasses set name, needs_nbp and implement run()."""

    needs_nbp = True

    def __init__(self, opts):
        self.opts = opts
        self.kernel_image = None

    def kernel(self):
        """The test kernel's bytes."""
        if self.kernel_image is None:
            with open(self.opts.kernel, "rb") as f:
                self.kernel_image = f.read()
        return self.kernel_image

    def write_tftp(self, tmp, config, files):
        """Fill the TFTP root: pulsar, the config, @files (path -> bytes)."""
        root = os.path.join(tmp, "tftp")
        os.makedirs(root)
        shutil.copyfile(self.opts.nbp, os.path.join(root, "pulsar"))
        with open(os.path.join(root, CONFIG_NAME), "w") as f:
            f.write(config)
        for rel, data in files.items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        return root

    def run(self, tmp):
        """Run the case in @tmp; returns a summary dict or raises."""
        raise NotImplementedError


class BootCase(Case):
    """Pulsar boots the test kernel with the demo modules; all checks."""

    def __init__(self, opts, name, addr=None, echo=False, big=False,
                 qemu_extra=(), fast_path=True):
        super().__init__(opts)
        self.name = name
        self.addr = addr
        self.echo = echo
        self.big = big
        self.qemu_extra = list(qemu_extra)
        self.fast_path = fast_path  # expect the NIC fast path's line

    def config(self):
        """The demo config, with `addr` before the loads if asked, and a
        large third module if @big."""
        config = DEMO_CONFIG
        if self.addr is not None:
            config = config.replace("load module1.bin",
                                    "addr %#x\nload module1.bin" % self.addr, 1)
        if self.big:
            config += DEMO_BIG_LOAD
        return config

    def run(self, tmp):
        config = self.config()
        modules = demo_modules()
        if self.big:
            modules[DEMO_BIG_NAME] = random_bytes(3, DEMO_BIG_SIZE)
        files = {"demo/kernel.elf": self.kernel()}
        files.update(("demo/" + k, v) for k, v in modules.items())
        root = self.write_tftp(tmp, config, files)
        items = config_items(config)
        execs = [it for it in items if it["kind"] == "exec"]
        exp = {
            "kernel_cmdline": execs[-1]["cmdline"],
            "cmdline_exact": True,
            "loader_prefix": "Pulsar",
            "modules": [(it["cmdline"], modules[it["name"]])
                        for it in items if it["kind"] == "load"],
            "addr": self.addr,
            "kernel_span": elf_span(self.kernel()),
            "required_flags": sorted(FLAG_KEYS),
        }
        log = os.path.join(tmp, "serial.log")
        rc, text, secs, ended = run_qemu(
            qemu_pxe(root, log) + self.qemu_extra, log, self.opts.timeout,
            echo=self.echo)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s" % self.opts.timeout])
        rep = check_boot(text, rc, exp)
        fast = FAST_PATH_LINE in text.replace("\r", "\n").split("\n")
        if fast != self.fast_path:
            raise CheckFailed(["expected %s line %r" % (
                "a" if self.fast_path else "no", FAST_PATH_LINE)])
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


class ErrorCase(Case):
    """Pulsar must refuse the config with an error naming the culprit."""

    def __init__(self, opts, name, config, files, patterns):
        super().__init__(opts)
        self.name = name
        self.config_text = config
        self.files = files
        self.patterns = patterns

    def run(self, tmp):
        root = self.write_tftp(tmp, self.config_text, self.files(self))
        log = os.path.join(tmp, "serial.log")
        rc, text, secs, ended = run_qemu(
            qemu_pxe(root, log), log, self.opts.timeout,
            stop_marker=BOOT_FAILED)
        self.log_text = text
        if ended == "timeout":
            raise CheckFailed(["timed out after %d s without `%s`"
                               % (self.opts.timeout, BOOT_FAILED)])
        check_error(text, self.patterns(self.config_text))
        return {"secs": secs, "rc": rc}


def missing_file_case(opts):
    """`load nothere.bin`: an error at that line naming file and server."""
    config = ("# Pulsar missing-file case\nroot demo\n"
              "exec kernel.elf console=serial\n"
              "load module1.bin first module\nload nothere.bin\n")

    def files(case):
        return {"demo/kernel.elf": case.kernel(),
                "demo/module1.bin": demo_modules()["module1.bin"]}

    def patterns(text):
        line = [it for it in config_items(text)
                if it["name"] == "nothere.bin"][0]["line"]
        prefix = "pulsar: error: %s:%d: " % (CONFIG_NAME, line)
        return [("`%s...` naming nothere.bin and %s" % (prefix, TFTP_SERVER),
                 lambda ln: prefix in ln and "nothere.bin" in ln
                 and TFTP_SERVER in ln)]
    return ErrorCase(opts, "missing-file", config, files, patterns)


def bad_kernel_case(opts):
    """exec names random bytes: an error naming the file and multiboot."""
    config = ("# Pulsar bad-kernel case\nroot demo\n"
              "exec garbage.elf console=serial\n"
              "load module1.bin first module\n")
    garbage = random_bytes(3, 64 * 1024)
    assert not has_multiboot_header(garbage)

    def files(case):
        return {"demo/garbage.elf": garbage,
                "demo/module1.bin": demo_modules()["module1.bin"]}

    def patterns(_text):
        return [("`pulsar: error: ` naming garbage.elf and multiboot",
                 lambda ln: "pulsar: error: " in ln and "garbage.elf" in ln
                 and "multiboot" in ln.lower())]
    return ErrorCase(opts, "bad-kernel", config, files, patterns)


class DirectCase(Case):
    """QEMU's built-in multiboot loader boots the test kernel (no Pulsar):
    proves the kernel and these checks.  QEMU's kernel command line is
    "<path> <append>", so only containment of the appended text is checked;
    a module's command line is exactly its -initrd entry."""

    needs_nbp = False

    def __init__(self, opts, name, with_modules):
        super().__init__(opts)
        self.name = name
        self.with_modules = with_modules

    def run(self, tmp):
        kernel = os.path.join(tmp, "kernel.elf")
        with open(kernel, "wb") as f:
            f.write(self.kernel())
        args_for = {"module1.bin": "first module",
                    "module2.bin": "second     module"}
        modules = demo_modules() if self.with_modules else {}
        want, initrd = [], []
        for name, data in modules.items():
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            entry = "%s %s" % (path, args_for[name])
            if "," in entry:
                raise ValueError("QEMU cannot take a comma in " + entry)
            initrd.append(entry)
            want.append((entry, data))
        append = "console=serial direct" if self.with_modules else ""
        log = os.path.join(tmp, "serial.log")
        args = qemu_base(log) + ["-kernel", kernel]
        if append:
            args += ["-append", append]
        if initrd:
            args += ["-initrd", ",".join(initrd)]
        exp = {
            "kernel_cmdline": append,
            "cmdline_exact": False,
            "loader_prefix": None,
            "modules": want,
            "addr": None,
            "kernel_span": elf_span(self.kernel()),
            "required_flags": [0, 2, 6, 9] + ([3] if want else []),
        }
        rc, text, secs, ended = run_qemu(args, log, self.opts.timeout)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s" % self.opts.timeout])
        rep = check_boot(text, rc, exp)
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


def all_cases(opts):
    """Every case, PXE ones first; --direct and --case pick among them.

    Each tests/e2e/cases_*.py module adds its own cases through a function
    cases(opts) returning Case objects, so topics (chainloading, Linux,
    servers, faults, ...) live in their own files and share this harness.
    """
    cases = [
        BootCase(opts, "two-modules", echo=opts.demo, big=opts.demo),
        BootCase(opts, "addr", addr=ADDR),
        # CPUID without the hypervisor bit, as on real hardware: no fast
        # path, every packet through the PXE ROM.
        BootCase(opts, "no-hypervisor-bit", fast_path=False,
                 qemu_extra=["-cpu", "qemu64,-hypervisor"]),
        missing_file_case(opts),
        bad_kernel_case(opts),
        DirectCase(opts, "direct-two-modules", with_modules=True),
        DirectCase(opts, "direct-no-modules", with_modules=False),
    ]
    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    for name in sorted(os.listdir(here)):
        if name.startswith("cases_") and name.endswith(".py"):
            module = importlib.import_module(name[:-3])
            cases.extend(module.cases(opts))
    return cases


# ------------------------------------------------------------------- main

def print_failure(case, tmp, reasons):
    """FAIL line, every failed assertion, the serial log's tail."""
    print("FAIL %s: %s" % (case.name, reasons[0]))
    for reason in reasons[1:]:
        print("    also: " + reason)
    text = getattr(case, "log_text", None)
    if text is None and tmp:
        try:
            with open(os.path.join(tmp, "serial.log"), "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            text = ""
    ran = os.path.exists(os.path.join(tmp, "serial.log"))
    # What a terminal would show: of a CR-updated line (Pulsar's
    # progress), only what was written last.
    lines = [ln.split("\r")[-1] for ln in
             (text or "").replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if ran:  # QEMU was started: its log, even empty, is evidence
        print("    --- serial log, last %d lines ---" % LOG_TAIL)
        for line in lines[-LOG_TAIL:]:
            print("    | " + line)
        if not lines:
            print("    | (empty)")
    try:
        with open(os.path.join(tmp, "serial.log.stderr"), "rb") as f:
            err = f.read().decode("utf-8", "replace").strip()
    except OSError:
        err = ""
    if err:
        print("    --- QEMU's own output ---")
        for line in err.splitlines()[-20:]:
            print("    | " + line)
    # Cases with servers name their logs: (title, path) pairs.
    for title, path in getattr(case, "extra_logs", []):
        try:
            with open(path, "rb") as f:
                log = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            continue
        print("    --- %s, last 20 lines ---" % title)
        for line in log[-20:]:
            print("    | " + line)
    sys.stdout.flush()


def print_demo_summary(result):
    """What a person watching `make run` should take away."""
    rep, exp = result["report"], result["exp"]
    v = rep["values"]
    print()
    print("== summary")
    print("Pulsar loaded the test kernel and %d modules over PXE (TFTP %s)."
          % (len(rep["mods"]), TFTP_SERVER))
    print("  loader:         %s" % unescape(v.get("loader", "-")))
    print("  kernel cmdline: %s" % unescape(v.get("cmdline", "-")))
    for mod in rep["mods"]:
        print("  module %d:       %s at %#x-%#x, %d bytes, crc32 %#010x ok"
              % (mod["idx"], mod["cmdline"], mod["start"], mod["end"],
                 mod["size"], mod["crc32"]))
    print("  memory:         %s KiB low, %s KiB high, %d map entries"
          % (v.get("mem_lower"), v.get("mem_upper"), len(rep["mmap"])))
    print("  test kernel:    at %s, info at %s, status %s; QEMU exit %s"
          % (v.get("kernel"), v.get("info"), v.get("end status"),
             result["rc"]))
    print("  checked:        magic, flags, memory vs map, command lines, "
          "%d module sizes and CRC-32s, placement" % len(exp["modules"]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nbp", default="build/pulsar",
                    help="Pulsar's boot program (default build/pulsar)")
    ap.add_argument("--kernel", default="build/testkernel.elf",
                    help="the test kernel (default build/testkernel.elf)")
    ap.add_argument("--demo", action="store_true",
                    help="run two-modules only, echoing the serial log")
    ap.add_argument("--case", action="extend", nargs="+", default=[],
                    metavar="NAME", help="run only these cases")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directories")
    ap.add_argument("--direct", action="store_true",
                    help="boot with QEMU's multiboot loader (no Pulsar)")
    ap.add_argument("--timeout", type=float, default=60,
                    help="seconds per case (default 60)")
    opts = ap.parse_args(argv)

    cases = all_cases(opts)
    by_name = {c.name: c for c in cases}
    if opts.case:
        unknown = [n for n in opts.case if n not in by_name]
        if unknown:
            ap.error("unknown case %s; known: %s"
                     % (", ".join(unknown), ", ".join(by_name)))
        chosen = [by_name[n] for n in opts.case]
    elif opts.demo:
        chosen = [by_name["two-modules"]]
    elif opts.direct:
        chosen = [c for c in cases if not c.needs_nbp]
    else:
        chosen = [c for c in cases if c.needs_nbp]

    passed = failed = 0
    for case in chosen:
        tmp = tempfile.mkdtemp(prefix="pulsar-e2e-%s-" % case.name)
        try:
            if not shutil.which(QEMU):
                raise CheckFailed(["%s is not installed" % QEMU])
            if not os.path.isfile(opts.kernel):
                raise CheckFailed(["test kernel %s does not exist "
                                   "(make build/testkernel.elf)"
                                   % opts.kernel])
            if case.needs_nbp and not os.path.isfile(opts.nbp):
                raise CheckFailed(["Pulsar %s does not exist (make)"
                                   % opts.nbp])
            if opts.demo:
                print("== PXE-booting %s under QEMU (TFTP root %s); serial "
                      "output follows" % (opts.nbp, tmp))
                sys.stdout.flush()
            result = case.run(tmp)
            if opts.demo:
                print_demo_summary(result)
            print("PASS %s (%.1f s)" % (case.name, result["secs"]))
            passed += 1
        except CheckFailed as e:
            print_failure(case, tmp, e.args[0])
            failed += 1
        except Exception as e:  # a harness bug must still fail the case
            print_failure(case, tmp, ["harness error: %s: %s"
                                      % (type(e).__name__, e)])
            failed += 1
        finally:
            if opts.keep:
                print("    kept %s" % tmp)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
        sys.stdout.flush()

    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    # cases_*.py modules `import run`: let them share this very module, so
    # CheckFailed and the helpers are the same objects.
    sys.modules.setdefault("run", sys.modules[__name__])
    sys.exit(main())
