"""Pulsar's end-to-end harness: what every case shares.

A case (Case and its subclasses here and in cases_*.py) builds a TFTP
root in a temporary directory (Pulsar, a config, the test kernel,
modules), boots QEMU's e1000 PXE ROM from it (lab.qemu builds the
command line), captures COM1 into a file and then checks every `TK ` line
the test kernel printed (tests/kernel/README.md) against what the harness
itself wrote: magic, flags, memory facts versus the memory map, command
lines, module sizes, CRC-32s, alignment, order and overlaps, and QEMU's
exit status.

Here: the report parser (parse_report), the checks (Checker, check_boot,
check_error), the QEMU runner (run_qemu), the demo's config and modules,
and the Case base classes.  tests/e2e/run.py selects and runs the cases.
Standard library and lab only.
"""

import os
import re
import shutil
import zlib

from lab import qemu
from lab.images import (MB_BOOT_MAGIC, MIB, PAGE, align_up,  # noqa: F401
                        elf_span, has_multiboot_header, random_bytes)

QEMU = qemu.QEMU
MEM_MIB = qemu.MEM_MIB
MAC = qemu.MAC
CONFIG_NAME = "config-" + MAC.replace(":", "-")
TFTP_SERVER = qemu.USER_SERVER  # QEMU user networking's host (DHCP and TFTP)
MBI_SIZE = 88  # bytes in a Multiboot 0.6.96 information structure
EXIT_OK = qemu.EXIT_OK  # isa-debug-exit: (0x10 << 1) | 1
# After an error Pulsar prints this, waits and starts over (README "When
# things go wrong"); an ErrorCase stops QEMU when it appears.
BOOT_FAILED = "pulsar: boot failed"

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


def check_boot_into(ck, text, rc, exp):
    """check_boot, its failures added to Checker @ck; the report, or None
    when it failed."""
    try:
        return check_boot(text, rc, exp)
    except CheckFailed as e:
        ck.failures.extend(e.args[0])
        return None


def check_boot(text, rc, exp):
    """Check a run where the test kernel should have reported success.

    @exp: kernel_cmdline (str), cmdline_exact (bool: else containment),
    loader_prefix (str or None), modules (list of (cmdline, bytes) in
    config order), addr (int or None), kernel_span ((start, end)),
    required_flags (bits that must be set), upper_near_top (optional,
    default True: the RAM at 1 MiB ends within 16 MiB of -m; UEFI cases
    check the whole map's RAM instead), mem_mib (optional: the case's -m,
    default MEM_MIB), mach_heap_clear (optional: nothing but the kernel
    lies in GNU Mach's boot heap, [1 MiB, 1 MiB + mem_upper): pulsar.efi's
    promise)."""
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

    # Memory map: non-empty, RAM at 0 and at 1 MiB, RAM never over -m
    # (exp mem_mib: a case's own -m).
    mem_mib = exp.get("mem_mib", MEM_MIB)
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
    ck.expect(sum(e["len"] for e in ram) <= mem_mib * MIB,
              "the map has more RAM than -m %d" % mem_mib)

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
        if exp.get("upper_near_top", True):
            ck.expect((mem_mib - 16) * MIB < top <= mem_mib * MIB,
                      "the RAM at 1 MiB ends at %#x, not within 16 MiB "
                      "below -m %d" % (top, mem_mib))
        else:
            # UEFI (OVMF): ACPI NVS at 8 MiB cuts the RAM at 1 MiB short;
            # the RAM as a whole must still be nearly all of -m.
            total = sum(e["len"] for e in ram)
            ck.expect(total > (mem_mib - 16) * MIB, "the map has %#x bytes "
                      "of RAM, not within 16 MiB of -m %d" % (total, mem_mib))

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

    if exp.get("mach_heap_clear"):
        check_mach_heap(ck, rep, mem_upper)

    ck.expect(rc == EXIT_OK, "QEMU exit status %s, expected %d (the test "
              "kernel's ok through isa-debug-exit)" % (rc, EXIT_OK))
    ck.done()
    return rep


def check_mach_heap(ck, rep, mem_upper):
    """Nothing but the kernel in [1 MiB, 1 MiB + @mem_upper KiB): not a
    module, not one of the loader's structures (the `TK at_*` lines)."""
    if not ck.expect(mem_upper is not None, "no mem_upper: cannot check "
                     "GNU Mach's boot heap"):
        return
    heap = (MIB, MIB + mem_upper * 1024)
    spans = [("mod %d" % m["idx"], (m["start"], m["end"]))
             for m in rep["mods"]]
    for key, value in rep["values"].items():
        if key.startswith("at_"):
            m = KERNEL_RE.match(value)
            if ck.expect(m, "TK %s=%s is not start-end" % (key, value)):
                spans.append((key[3:], (int(m.group(1), 16),
                                        int(m.group(2), 16))))
    ck.expect("at_info" in rep["values"], "no `TK at_info=` line")
    for what, span in spans:
        ck.expect(not overlaps(span, heap), "%s %#x-%#x lies in GNU Mach's "
                  "boot heap %#x-%#x" % ((what,) + span + heap))


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

def run_qemu(args, log_path, timeout, stop_marker=None, echo=False,
             **kw):
    """Run QEMU (@args, from lab.qemu.command) until it exits,
    @stop_marker shows in the log, or @timeout; lab.qemu.run does it
    (@kw: its popen, to run QEMU in a namespace).

    The serial log is polled; with @echo it is copied to stdout as it grows.
    QEMU's own output goes to @log_path + ".stderr" (print_failure shows
    it).  Returns (exit status or None, log text, seconds, how it ended)."""
    return qemu.run(args, log_path, timeout, stop=stop_marker, echo=echo,
                    **kw)


# ------------------------------------------------------------ the demo

DEMO_CONFIG = """\
# Pulsar demo
root demo
exec kernel.elf console=serial
load module1.bin first module
load module2.bin second \\
    module
"""

# Pulsar's line when it drives QEMU's e1000 itself (boot/bios/nic.h).
FAST_PATH_LINE = ("pulsar: fast path: driving the Intel 82540EM at PCI "
                  "00:03.0 directly during transfers")


# Pulsar's count, before the hand-off, of the transfers that ran on it.
FAST_PATH_COUNT_RE = re.compile(
    r"^pulsar: fast path: (\d+) of (\d+) transfers, (\d+) frames in, "
    r"(\d+) out$")
# Its note when QEMU's e1000 is there but the machine is not QEMU.
FAST_PATH_OFF_LINE = ("pulsar: fast path off: the Intel 82540EM at PCI "
                      "00:03.0 is not under QEMU (CPUID hypervisor vendor)")


def check_fast_path_count(text, fast, transfers, min_frames):
    """Did @transfers transfers really run on the fast path (@fast), with
    at least @min_frames frames taken in; or (not @fast) none at all?
    Returns a list of problems (empty: fine)."""
    lines = [ln.rstrip("\r") for ln in text.splitlines()]
    said = [m for m in map(FAST_PATH_COUNT_RE.match, lines) if m]
    if not fast:
        return (["no fast path expected, yet Pulsar says %r"
                 % said[0].group(0)] if said else [])
    if len(said) != 1:
        return ["expected one `pulsar: fast path: N of N transfers` line, "
                "got %d" % len(said)]
    ran, asked, frames_in = (int(said[0].group(i)) for i in (1, 2, 3))
    if ran != transfers or asked != transfers or frames_in < min_frames:
        return ["expected %d of %d transfers on the fast path and at "
                "least %d frames in: %r" % (transfers, transfers,
                                           min_frames, said[0].group(0))]
    return []


# Pulsar's count, before the hand-off, of the ROM's TFTP transfers and
# how many of them came whole (PXENV_TFTP_READ_FILE).
ROM_WHOLE_RE = re.compile(
    r"^pulsar: ROM TFTP: (\d+) of (\d+) transfers whole \(READ_FILE, no "
    r"progress line meanwhile\)(?:, (\d+) refused as unsupported)?$")
WINDOW_RE = re.compile(r"pulsar: tftp \S+ grants windowsize")


def check_rom_whole(text, booted, whole, refused=0):
    """On the ROM's TFTP: no window granted and, when the kernel was
    started (@booted), Pulsar's count says @whole transfers came whole by
    READ_FILE and @refused READ_FILEs were refused (streamed instead).
    Returns a list of problems (empty: fine)."""
    lines = [ln.rstrip("\r") for ln in text.splitlines()]
    problems = []
    if WINDOW_RE.search(text):
        problems.append("a window was granted: not the ROM's TFTP")
    said = [m for m in map(ROM_WHOLE_RE.match, lines) if m]
    if booted and (len(said) != 1 or int(said[0].group(1)) != whole or
                   int(said[0].group(3) or 0) != refused):
        problems.append("expected one `pulsar: ROM TFTP: %d of N transfers "
                        "whole` line (%d refused), got %r"
                        % (whole, refused, [m.group(0) for m in said]))
    return problems


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
            qemu.pxe(root, log), log, self.opts.timeout,
            stop_marker=BOOT_FAILED)
        self.log_text = text
        if ended == "timeout":
            raise CheckFailed(["timed out after %d s without `%s`"
                               % (self.opts.timeout, BOOT_FAILED)])
        check_error(text, self.patterns(self.config_text))
        return {"secs": secs, "rc": rc}
