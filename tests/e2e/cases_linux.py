"""End-to-end cases for the Linux boot protocol (`exec` of a bzImage).

Kitten-shaped cases boot Pulsar's own bzImage test kernel
(tests/linuxkernel/, built as build/testbzimage and build/testbzimage-206)
through the 16-bit entry; it reports what Kitten relies on as `KT` lines
and every value is checked against the files written here: segments and
stack, type_of_loader, loadflags, heap_end_ptr, cmd_line_ptr and the
command line, ramdisk_image/ramdisk_size and the initrd's CRC-32, the
protected-mode part's CRC-32, INT 12h and the E820 map; kitten-http does
the same with every file from nginx over HTTP (the initrd's size is an
HTTP size query, Content-Length).  Refusals: an old
protocol, a command line over cmdline_size, an initrd larger than RAM.

Linux cases boot Debian's own kernel (linux-image-amd64's current
dependency, fetched with `apt-get download` into the git-ignored cache/
and reused from there) with a busybox-static initramfs built here; its
/init prints a marker line with /proc/cmdline and, in the second case,
the SHA-256 of 48 MiB of random data that arrive as a second initrd part.
"""

import glob
import hashlib
import os
import re
import struct
import subprocess
import tarfile
import threading
import zlib

from lab import CACHE, netboot, qemu
from lab.images import MIB, PAGE, align_up, cpio_newc, patched, setup_len

from . import harness
from .harness import CheckFailed, Checker, unescape
LINUX_MEM_MIB = 512   # room for Debian's kernel to unpack and 48 MiB twice
LINUX_TIMEOUT = 300   # seconds: a TCG boot of a distribution kernel
HEAP_END = 0xE000     # Pulsar's heap_end in the setup segment (linux.h)
LOW_SIZE = 0x10000    # Pulsar's low region for setup, heap and cmdline
KITTEN_ARGS = "console=serial serial.baud=115200"

KT_RE = re.compile(r"KT ([a-z0-9_]+)=(.*)$")
E820_RE = re.compile(r"KT e820 base=0x([0-9a-f]{16}) len=0x([0-9a-f]{16}) "
                     r"type=0x([0-9a-f]{8})$")


# ------------------------------------------------------------- helpers

def initrd_blob(parts):
    """What Pulsar must hand the kernel for these parts: one part as it
    is, several concatenated with each part 4-byte aligned (zero padding
    between parts, none after the last)."""
    blob = b""
    for data in parts:
        blob += b"\0" * (align_up(len(blob), 4) - len(blob))
        blob += data
    return blob


def parse_kt(text):
    """The bzImage test kernel's report: values, e820 list, markers."""
    rep = {"values": {}, "e820": [], "markers": [], "bad": []}
    for line in text.replace("\r", "").splitlines():
        if not line.startswith("KT "):
            continue
        m = E820_RE.match(line)
        if m:
            rep["e820"].append({"base": int(m.group(1), 16),
                                "len": int(m.group(2), 16),
                                "type": int(m.group(3), 16)})
            continue
        m = KT_RE.match(line)
        if m:
            if m.group(1) in rep["values"]:
                rep["bad"].append(line + "   (repeated)")
            rep["values"][m.group(1)] = m.group(2)
        elif line.startswith("KT end "):
            rep["values"]["end"] = line[len("KT end "):]
        elif " " not in line[3:]:
            rep["markers"].append(line[3:])
        else:
            rep["bad"].append(line)
    return rep


def hexval(ck, values, key):
    """`KT key=0x...` as an int, or None (recorded as a failure)."""
    raw = values.get(key)
    if not ck.expect(raw is not None, "no `KT %s=` line" % key):
        return None
    if not ck.expect(re.match(r"0x[0-9a-f]+$", raw), "KT %s=%s is not hex"
                     % (key, raw)):
        return None
    return int(raw, 16)


def ram_covers(e820, start, end):
    """True if [start, end) lies within one E820 RAM (type 1) entry."""
    return any(e["type"] == 1 and e["base"] <= start and
               end <= e["base"] + e["len"] for e in e820)


def highest_fit(e820, size, limit):
    """The highest page-aligned start of @size bytes of E820 RAM that end
    at or below @limit (None if none)."""
    best = None
    for e in e820:
        if e["type"] != 1:
            continue
        end = min(e["base"] + e["len"], limit)
        start = (end - size) // PAGE * PAGE
        if start >= e["base"] and end > start and (best is None or
                                                    start > best):
            best = start
    return best


def kt_report(ck, text, markers, never):
    """parse_kt(@text), every malformed line a failure; without all of
    @markers the case fails at once ("the test kernel never " + @never),
    with Pulsar's error lines."""
    rep = parse_kt(text)
    if not ck.expect(all(m in rep["markers"] for m in markers),
                     "the test kernel never " + never):
        ck.expect(False, "Pulsar said: " + " / ".join(
            ln for ln in text.splitlines() if "error" in ln)[:300])
        ck.done()
    for bad in rep["bad"]:
        ck.expect(False, "malformed report line: " + bad)
    return rep


def check_initrd(ck, v, e820, image, blob):
    """The reported initrd against the parts' concatenation @blob: size,
    CRC-32, page alignment, in E820 RAM, below initrd_addr_max, above the
    kernel.  Returns (ramdisk_image, ramdisk_size, initrd_addr_max)."""
    image_addr = hexval(ck, v, "ramdisk_image")
    size = hexval(ck, v, "ramdisk_size")
    crc = zlib.crc32(blob) & 0xFFFFFFFF
    ck.expect(size == len(blob), "ramdisk_size=%s, expected %d"
              % (size, len(blob)))
    ck.expect(hexval(ck, v, "initrd_crc32") == crc, "initrd_crc32=%s, the "
              "parts' is %#010x" % (v.get("initrd_crc32"), crc))
    max_addr = struct.unpack_from("<I", image, 0x22C)[0]
    if image_addr is not None and size:
        span = (image_addr, image_addr + size)
        ck.expect(image_addr % PAGE == 0, "ramdisk_image=%#x is not "
                  "page-aligned" % image_addr)
        ck.expect(ram_covers(e820, *span), "initrd %#x-%#x is not in RAM"
                  % span)
        ck.expect(span[1] - 1 <= max_addr, "initrd ends past "
                  "initrd_addr_max")
        ck.expect(image_addr >= MIB + len(image), "initrd below the "
                  "kernel's end")
    return image_addr, size, max_addr


def check_kernel_end(ck, v, rc, image):
    """The protected-mode part byte for byte at 1 MiB (its CRC-32), the
    `KT end status=ok` line and QEMU's isa-debug-exit status."""
    pm = image[setup_len(image):]
    crc = zlib.crc32(pm) & 0xFFFFFFFF
    ck.expect(hexval(ck, v, "kernel_crc32") == crc, "kernel_crc32=%s, the "
              "file's protected-mode part's is %#010x"
              % (v.get("kernel_crc32"), crc))
    ck.expect(v.get("end") == "status=ok", "no `KT end status=ok`")
    ck.expect(rc == harness.EXIT_OK, "QEMU exit status %s, expected %d"
              % (rc, harness.EXIT_OK))


# -------------------------------------------------- the Kitten-shaped cases

class BzCase(harness.Case):
    """Pulsar boots the bzImage test kernel with initrd parts; every value
    the kernel reports is checked against what was written here."""

    def __init__(self, opts, name, image, parts, args, exact_limit=None,
                 web=False):
        super().__init__(opts)
        self.name = name
        self.image_name = image
        self.parts = parts              # [(name, bytes)] in config order
        self.args = args
        self.exact_limit = exact_limit  # mem= the placement must reach
        # Over HTTP: nginx serves kitten/ (lab.netboot --http), the config
        # names it by URL, so the initrd parts' sizes are HTTP size
        # queries (Content-Length) before any part is fetched.
        self.web = web

    def image(self):
        """The test kernel's bytes (built by make)."""
        path = os.path.join(os.path.dirname(self.opts.kernel) or ".",
                            self.image_name)
        if not os.path.isfile(path):
            raise CheckFailed(["%s does not exist (make testbzimage)" % path])
        with open(path, "rb") as f:
            return f.read()

    def write_root(self, tmp, config, files):
        """The TFTP root with the NBP (the UEFI case: pulsar.efi)."""
        return self.write_tftp(tmp, config, files)

    def boot_run(self, tmp, root):
        """Boot from @root; run_qemu's result (the UEFI case: OVMF).  Over
        HTTP (@web): nginx serves @root beside dnsmasq (lab.netboot)."""
        log = os.path.join(tmp, "serial.log")
        if self.web:
            res = netboot.boot(netboot.Options(
                root, server="dnsmasq", http=root, mem=harness.MEM_MIB,
                timeout=max(self.opts.timeout, 120), serial=log,
                echo=False, workdir=os.path.join(tmp, "work")))
            return res.rc, res.text, res.secs, res.ended
        return harness.run_qemu(qemu.pxe(root, log), log, self.opts.timeout)

    def run(self, tmp):
        image = self.image()
        config = "# Kitten-shaped bzImage\nroot %skitten\n" % (
            "http://%s/" % netboot.DHCP_IP if self.web else "")
        config += "".join("load %s\n" % n for n, _ in self.parts)
        config += "exec bzImage %s\n" % self.args
        files = {"kitten/bzImage": image}
        files.update(("kitten/" + n, d) for n, d in self.parts)
        root = self.write_root(tmp, config, files)
        rc, text, secs, ended = self.boot_run(tmp, root)
        self.log_text = text
        if ended == "timeout" and "KT end" not in text:
            raise CheckFailed(["timed out after %.0f s" % secs])
        self.check(text, rc, image, initrd_blob([d for _, d in self.parts]))
        return {"secs": secs}

    def check(self, text, rc, image, blob):
        """Every `KT` line against the files; see tests/linuxkernel/."""
        ck = Checker()
        rep = kt_report(ck, text, ["begin"], "started (no `KT begin`)")
        v = rep["values"]

        # The 16-bit entry: segments, stack and flags as the protocol asks.
        seg = {k: hexval(ck, v, k) for k in ("cs", "ds", "es", "fs", "gs",
                                             "ss", "sp", "if")}
        ds = seg["ds"]
        for k in ("es", "fs", "gs", "ss"):
            ck.expect(seg[k] == ds, "%s=%#x but ds=%#x: the protocol wants "
                      "them equal" % (k, seg[k] or 0, ds or 0))
        ck.expect(ds is not None and seg["cs"] == ds + 0x20,
                  "cs=%#x, expected ds + 0x20" % (seg["cs"] or 0))
        ck.expect(seg["sp"] == HEAP_END, "sp=%#x, expected %#x (the heap's "
                  "end)" % (seg["sp"] or 0, HEAP_END))
        ck.expect(seg["if"] == 0, "interrupts were on at the setup's entry")

        # Header fields the loader owns.
        want_version = struct.unpack_from("<H", image, 0x206)[0]
        ck.expect(hexval(ck, v, "version") == want_version,
                  "version differs from the file's")
        ck.expect(hexval(ck, v, "type_of_loader") == 0xFF,
                  "type_of_loader=%s, expected 0xff" % v.get("type_of_loader"))
        ck.expect(hexval(ck, v, "loadflags") == 0x81, "loadflags=%s, "
                  "expected 0x81 (LOADED_HIGH | CAN_USE_HEAP)"
                  % v.get("loadflags"))
        ck.expect(hexval(ck, v, "heap_end_ptr") == HEAP_END - 0x200,
                  "heap_end_ptr=%s, expected %#x" % (v.get("heap_end_ptr"),
                                                     HEAP_END - 0x200))
        ck.expect(hexval(ck, v, "code32_start") == 0x100000,
                  "code32_start=%s, expected 0x100000" % v.get("code32_start"))

        # Where the setup went: free low RAM below the EBDA, >= 64 KiB.
        e820 = rep["e820"]
        ck.expect(hexval(ck, v, "e820_count") == len(e820),
                  "e820_count differs from the %d entries" % len(e820))
        ck.expect(any(e["type"] == 1 and e["base"] == 0 for e in e820),
                  "no E820 RAM at 0")
        ck.expect(any(e["type"] == 1 and e["base"] == MIB for e in e820),
                  "no E820 RAM at 1 MiB")
        ck.expect(sum(e["len"] for e in e820 if e["type"] == 1) <=
                  harness.MEM_MIB * MIB, "more E820 RAM than -m")
        base_kib = hexval(ck, v, "int12_kib")
        if ds is not None and base_kib is not None:
            low = (ds * 16, ds * 16 + LOW_SIZE)
            ck.expect(low[0] >= 0x10000, "setup at %#x, below 64 KiB" % low[0])
            ck.expect(low[1] <= base_kib * 1024, "setup region %#x-%#x "
                      "reaches past INT 12h's %d KiB (the EBDA)"
                      % (low + (base_kib,)))
            ck.expect(ram_covers(e820, *low), "setup region %#x-%#x is not "
                      "E820 RAM" % low)

        # The command line: the exec arguments only, in the setup segment.
        cmdptr = hexval(ck, v, "cmd_line_ptr")
        ck.expect(ds is not None and cmdptr == ds * 16 + HEAP_END,
                  "cmd_line_ptr=%#x, expected setup + %#x"
                  % (cmdptr or 0, HEAP_END))
        got_cmd = unescape(v.get("cmdline", ""))
        ck.expect(got_cmd == self.args, "cmdline=%r, expected %r"
                  % (got_cmd, self.args))

        # The initrd: size, CRC-32, alignment, placement.
        image_addr, size, max_addr = check_initrd(ck, v, e820, image, blob)
        if image_addr is not None and size:
            if self.exact_limit is not None:
                want = highest_fit(e820, size, self.exact_limit)
                ck.expect(image_addr == want, "ramdisk_image=%#x, the "
                          "highest fit below mem=%#x is %#x"
                          % (image_addr, self.exact_limit, want or 0))
            else:
                # iPXE hides its own memory at the top of RAM from the
                # E820 map while it is loaded (a few hundred KiB to a few
                # MiB); the kernel reads the map after it is gone.
                top = highest_fit(e820, size, max_addr + 1)
                ck.expect(top is not None and top - 4 * MIB <= image_addr,
                          "ramdisk_image=%#x is not near the top of RAM "
                          "(highest fit %#x)" % (image_addr, top or 0))

        check_kernel_end(ck, v, rc, image)
        ck.done()


class BzErrorCase(harness.ErrorCase):
    """Pulsar must refuse a bzImage config; files may include sparse ones
    ({path: size}) that are never read, only sized."""

    def __init__(self, opts, name, config, files, patterns, sparse=None,
                 forbidden=None):
        super().__init__(opts, name, config, files, patterns)
        self.sparse = sparse or {}
        self.forbidden = forbidden or []

    def write_tftp(self, tmp, config, files):
        root = super().write_tftp(tmp, config, files)
        for rel, size in self.sparse.items():
            with open(os.path.join(root, rel), "wb") as f:
                f.truncate(size)
        return root

    def run(self, tmp):
        result = super().run(tmp)
        bad = [ln for ln in self.log_text.splitlines()
               if any(f in ln for f in self.forbidden)]
        if bad:
            raise CheckFailed(["the log has lines it must not: %r" % bad])
        return result


def bz_image(opts, name="testbzimage"):
    """The test kernel's bytes, or b"" if it was not built (the case then
    fails when it runs, naming the file)."""
    path = os.path.join(os.path.dirname(opts.kernel) or ".", name)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def error_line(config, kind, name):
    """The config line number of the `kind name` line."""
    for n, line in enumerate(config.split("\n"), 1):
        if line.split()[:2] == [kind, name]:
            return n
    raise ValueError("%s %s not in the config" % (kind, name))


def bz_error_cases(opts):
    """Configs Pulsar must refuse, each with the message it must print."""
    image = bz_image(opts)
    cases = []

    def expect(text_parts):
        def patterns(config):
            return [("`pulsar: error: ` with " + " and ".join(map(repr, parts)),
                     lambda ln, parts=parts: "pulsar: error: " in ln and
                     all(p in ln for p in parts))
                    for parts in text_parts(config)]
        return patterns

    def need_image(case):
        if not image:
            raise CheckFailed(["build/testbzimage does not exist "
                               "(make testbzimage)"])

    # 1. Boot protocol 2.01: refused, naming the version.
    old = "root kitten\nexec bzImage console=serial\n"

    def old_files(case):
        need_image(case)
        return {"kitten/bzImage": patched(image, 0x206, "<H", 0x0201)}
    cases.append(BzErrorCase(opts, "bzimage-old-protocol", old, old_files,
                             expect(lambda c: [[
                                 "%s:%d: exec: kitten/bzImage: "
                                 % (harness.CONFIG_NAME,
                                    error_line(c, "exec", "bzImage")),
                                 "protocol 2.01 is older than 2.02"]])))

    # 2. A command line longer than cmdline_size (255 in the test kernel).
    longcmd = "root kitten\nexec bzImage " + "x" * 300 + "\n"

    def plain_files(case):
        need_image(case)
        return {"kitten/bzImage": image}
    cases.append(BzErrorCase(opts, "bzimage-cmdline-too-long", longcmd,
                             plain_files, expect(lambda c: [[
                                 "exec: kitten/bzImage: ",
                                 "command line of 300 bytes, over "
                                 "cmdline_size 255"]])))

    # 3. A load after the exec: Linux takes only the loads before it.
    late = "root kitten\nload init_task\nexec bzImage console=serial\n" \
           "load late.img\n"

    def late_files(case):
        need_image(case)
        return {"kitten/bzImage": image,
                "kitten/init_task": harness.random_bytes(55, 4096),
                "kitten/late.img": harness.random_bytes(56, 4096)}
    cases.append(BzErrorCase(opts, "bzimage-load-after-exec", late,
                             late_files, expect(lambda c: [[
                                 "%s:%d: load: kitten/late.img: comes after "
                                 "the Linux exec on line %d" % (
                                     harness.CONFIG_NAME,
                                     error_line(c, "load", "late.img"),
                                     error_line(c, "exec", "bzImage"))]])))

    # 4. An initrd larger than RAM: refused before its download starts.
    huge = "root kitten\nload huge.img\nexec bzImage console=serial\n"
    cases.append(BzErrorCase(
        opts, "bzimage-initrd-too-big", huge, plain_files,
        expect(lambda c: [["%s:%d: load: kitten/huge.img: " % (
            harness.CONFIG_NAME, error_line(c, "load", "huge.img")),
            "initrd of %d bytes does not fit in free RAM below" % (200 * MIB)
        ]]), sparse={"kitten/huge.img": 200 * MIB},
        forbidden=["kitten/huge.img: %d bytes at" % (200 * MIB)]))

    return cases


# ------------------------------------------------------- Debian's kernel

_APT_UPDATED = []
# Cases may run two at a time (run.py --jobs): one download or extraction
# into cache/ at a time, so no case reads a half-written file.
CACHE_LOCK = threading.RLock()


def apt_update_once():
    """Refresh the package lists once per run, when allowed (as root):
    a fresh machine has none and a stale one names a kernel that is gone.
    Returns True if it ran."""
    with CACHE_LOCK:
        if _APT_UPDATED or os.geteuid() != 0:
            return False
        _APT_UPDATED.append(True)
        subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return True


def apt_download(pkg, debs):
    """The cached .deb of @pkg (exact name), downloaded if missing."""
    with CACHE_LOCK:
        pattern = os.path.join(debs, pkg + "_*.deb")
        if not glob.glob(pattern):
            os.makedirs(debs, exist_ok=True)
            proc = subprocess.run(["apt-get", "download", pkg], cwd=debs,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
            if proc.returncode != 0 or not glob.glob(pattern):
                out = proc.stdout.decode("utf-8",
                                         "replace").strip().splitlines()
                raise CheckFailed(["apt-get download %s failed (exit %d): %s"
                                   % (pkg, proc.returncode,
                                      " / ".join(out[-3:]))])
        return sorted(glob.glob(pattern))[-1]


def kernel_package(debs):
    """The current linux-image-6.1.*-amd64 package linux-image-amd64 points
    at; without package lists, the newest one already in the cache."""
    proc = subprocess.run(["apt-cache", "depends", "linux-image-amd64"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    m = re.search(r"Depends: (linux-image-[0-9][^\s]*-amd64)\b",
                  proc.stdout.decode("utf-8", "replace"))
    if m:
        return m.group(1)
    cached = sorted(glob.glob(os.path.join(debs, "linux-image-*-amd64_*.deb")))
    if cached:
        return os.path.basename(cached[-1]).split("_")[0]
    raise CheckFailed(["cannot tell which Debian kernel to use: "
                       "`apt-cache depends linux-image-amd64` names none "
                       "and cache/debs has none"])


def extract_member(deb, pattern, dest):
    """Extract the one file of @deb whose path matches @pattern (a regex)
    to @dest (reused when present).  Returns @dest."""
    with CACHE_LOCK:
        if os.path.isfile(dest):
            return dest
        # Stop reading once the file is found: dpkg-deb then dies of a broken
        # pipe, which is expected, so its complaint is not shown.
        proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb],
                                stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL)
        found = False
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                if member.isfile() and re.match(pattern, member.name):
                    data = tar.extractfile(member).read()
                    with open(dest + ".tmp", "wb") as f:
                        f.write(data)
                    os.replace(dest + ".tmp", dest)
                    found = True
                    break
        proc.stdout.close()
        proc.wait()
        if not found:
            raise CheckFailed(["%s holds no file matching %s" % (deb, pattern)])
        return dest


def debian_assets():
    """(vmlinuz path, busybox path, kernel package name), from cache/."""
    debs = os.path.join(CACHE, "debs")
    try:
        pkg = kernel_package(debs)
        kdeb = apt_download(pkg, debs)
    except CheckFailed:
        if not apt_update_once():
            raise
        pkg = kernel_package(debs)  # the lists may name a newer kernel
        kdeb = apt_download(pkg, debs)
    vmlinuz = extract_member(kdeb, r"^\./boot/vmlinuz-",
                             os.path.join(CACHE, "vmlinuz-" + pkg))
    try:
        bdeb = apt_download("busybox-static", debs)
    except CheckFailed:
        if not apt_update_once():
            raise
        bdeb = apt_download("busybox-static", debs)
    busybox = extract_member(bdeb, r"^\./bin/busybox$",
                             os.path.join(CACHE, "busybox-" +
                                          os.path.basename(bdeb)[:-4]))
    return vmlinuz, busybox, pkg


INIT = b"""#!/bin/busybox sh
# Pulsar's Linux end-to-end /init: report, check, power off.
bb=/bin/busybox
$bb mount -t proc proc /proc
cmdline=$($bb cat /proc/cmdline)
echo "PULSAR-LINUX-OK cmdline=$cmdline"
want=
for w in $cmdline; do
    case "$w" in pulsar.sha256=*) want="${w#pulsar.sha256=}" ;; esac
done
if [ -n "$want" ]; then
    got=missing
    if [ -f /data.bin ]; then
        got=$($bb sha256sum /data.bin)
        got="${got%% *}"
    fi
    if [ "$got" = "$want" ]; then
        echo "PULSAR-SHA256 ok $got"
    else
        echo "PULSAR-SHA256 bad got=$got want=$want"
    fi
fi
$bb poweroff -f
"""

S_IFDIR, S_IFREG, S_IFCHR = 0o040000, 0o100000, 0o020000


def initramfs(busybox):
    """The initramfs: busybox, /init and the directories it needs."""
    with open(busybox, "rb") as f:
        bb = f.read()
    return cpio_newc([
        ("bin", S_IFDIR | 0o755, b"", (0, 0)),
        ("bin/busybox", S_IFREG | 0o755, bb, (0, 0)),
        ("dev", S_IFDIR | 0o755, b"", (0, 0)),
        ("dev/console", S_IFCHR | 0o600, b"", (5, 1)),
        ("proc", S_IFDIR | 0o755, b"", (0, 0)),
        ("init", S_IFREG | 0o755, INIT, (0, 0)),
    ])


class LinuxCase(harness.Case):
    """Pulsar boots Debian's kernel with a busybox initramfs (and, with
    @data_mib, a second initrd part holding that much random data whose
    SHA-256 /init checks)."""

    def __init__(self, opts, name, data_mib=0):
        super().__init__(opts)
        self.name = name
        self.data_mib = data_mib

    def write_root(self, tmp, config, files):
        """The TFTP root with the NBP (the UEFI case: pulsar.efi)."""
        return self.write_tftp(tmp, config, files)

    def machine(self, root, log, tmp):
        """The QEMU command line (the UEFI case: OVMF)."""
        return qemu.pxe(root, log, mem=LINUX_MEM_MIB)

    def check_path(self, ck, lines):
        """Pulsar's own lines about how it starts the kernel (the UEFI
        case: the stub line); nothing to add on BIOS."""

    def run(self, tmp):
        vmlinuz, busybox, pkg = debian_assets()
        with open(vmlinuz, "rb") as f:
            kernel = f.read()
        first = initramfs(busybox)
        files = {"linux/vmlinuz": kernel, "linux/initramfs.cpio": first}
        loads = ["initramfs.cpio"]
        args = "console=ttyS0 quiet panic=-1 pulsar.case=" + self.name
        want_sha = None
        if self.data_mib:
            data = harness.random_bytes(5, self.data_mib * MIB)
            want_sha = hashlib.sha256(data).hexdigest()
            # Two stray zero bytes leave the first part 2 bytes short of
            # a 4-byte boundary: the second archive is found only if
            # Pulsar aligns it.
            files["linux/initramfs.cpio"] = first + b"\0\0"
            files["linux/data.cpio"] = cpio_newc(
                [("data.bin", S_IFREG | 0o644, data, (0, 0))])
            loads.append("data.cpio")
            args += " pulsar.sha256=" + want_sha
        config = "# Debian's kernel with a busybox initramfs\nroot linux\n"
        config += "".join("load %s\n" % n for n in loads)
        config += "exec vmlinuz %s\n" % args
        root = self.write_root(tmp, config, files)
        log = os.path.join(tmp, "serial.log")
        timeout = max(self.opts.timeout, LINUX_TIMEOUT)
        rc, text, secs, ended = harness.run_qemu(
            self.machine(root, log, tmp), log, timeout)
        self.log_text = text
        lines = [ln.rstrip("\r") for ln in text.splitlines()]
        ck = Checker()
        if ended == "timeout":
            ck.expect(False, "timed out after %d s" % timeout)
        self.check_path(ck, lines)
        marker = [ln for ln in lines if ln.startswith("PULSAR-LINUX-OK ")]
        ck.expect(marker == ["PULSAR-LINUX-OK cmdline=" + args],
                  "marker lines %r, expected one with cmdline=%r (%s)"
                  % (marker, args, pkg))
        if want_sha:
            sha = [ln for ln in lines if ln.startswith("PULSAR-SHA256 ")]
            ck.expect(sha == ["PULSAR-SHA256 ok " + want_sha],
                      "/init's SHA-256 report %r, expected ok %s"
                      % (sha, want_sha))
        ck.expect(not any("pulsar: error" in ln for ln in lines),
                  "Pulsar reported an error")
        ck.expect(rc == 0, "QEMU exit status %s, expected 0 (poweroff)"
                  % rc)
        ck.done()
        print("    %s: %s, initrd %d bytes in %d part(s), %.1f s" % (
            self.name, pkg, sum(len(files["linux/" + n]) for n in loads),
            len(loads), secs))
        return {"secs": secs}


# ------------------------------------------------------------------ cases

def cases(opts):
    """The Linux boot protocol cases (harness.py collects them)."""
    one = harness.random_bytes(51, MIB + 3)      # odd size: byte for byte
    parts = [("part1.cpio", harness.random_bytes(52, 70001)),
             ("part2.bin", harness.random_bytes(53, 3)),
             ("part3.bin", harness.random_bytes(54, 2 * MIB + 5))]
    return [
        BzCase(opts, "kitten-initrd", "testbzimage", [("init_task", one)],
               KITTEN_ARGS),
        BzCase(opts, "kitten-206", "testbzimage-206", [("init_task", one)],
               KITTEN_ARGS),
        BzCase(opts, "kitten-http", "testbzimage", [("init_task", one)],
               KITTEN_ARGS, web=True),
        BzCase(opts, "bzimage-three-parts-mem", "testbzimage", parts,
               KITTEN_ARGS + " mem=64M", exact_limit=64 * MIB),
        BzCase(opts, "bzimage-no-initrd", "testbzimage", [], ""),
    ] + bz_error_cases(opts) + [
        LinuxCase(opts, "linux-cmdline"),
        LinuxCase(opts, "linux-initrd-48m", data_mib=48),
    ]
