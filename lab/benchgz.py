"""The benchmark's compressed-image rows (lab/bench.py --gzip, the default).

Pulsar (build/pulsar, BIOS, QEMU's e1000 with its NIC fast path, QEMU's
own DHCP/TFTP) loads each of two pairs, the packed file against the same
file unpacked, interleaved round by round:

  xen        `exec xen-4.17-amd64.gz` against `exec xen-4.17-amd64` (Debian's
             Xen 4.17 hypervisor as shipped, from cache/, where the
             xen-mb2-bios end-to-end case puts it; the pair is skipped
             without it).  Timed from QEMU's start to Pulsar's
             "pulsar: starting" line, the hand-off: what follows is Xen's
             own work, the same for both and not the loader's (and Xen
             without a dom0 goes no further anyway).  The kernel's line must
             give the unpacked size (and, packed, "unpacked from N bytes
             of gzip").
  module     `load --unzip modz64.bin.gz` against `load modz64.bin`: a
             64 MiB module (--gzip-mib) shaped like an initrd or a kernel
             (zeros, text and code-like bytes, 4 KiB runs; gzip -9 packs it
             to about half), so that both the Huffman decoding and the
             copying count; timed to QEMU's exit like the main rows, and
             the test kernel's CRC-32 of the module must be the plain
             file's in both.

Reported per pair: the median times, the packed-minus-plain difference,
the ratio of the load times (median less the path's baseline of the main
rows, when there is one) and Pulsar's own line for the file.
"""

import gzip
import os
import random
import re
import shutil
import statistics

from lab import CACHE, qemu
from lab.images import random_bytes

MIB = 1 << 20
XEN_GZ = os.path.join(CACHE, "xen-4.17-amd64.gz")
XEN_ARGS = "console=com1 com1=115200,8n1"
STARTING = "pulsar: starting "
# The test kernel's line for module 0, any name (lab/bench.py's CRC_RE).
TK_MOD_RE = re.compile(r"TK mod 0 .*size=(\d+) crc32=(0x[0-9a-f]{8})")
WORDS = (b"the kernel maps every page of the module before init runs; "
         b"drivers probe their devices and the console prints each line ")


def initrd_like(size):
    """@size deterministic bytes that pack like an initrd: 4 KiB runs of
    zeros, text, code-like bytes (a small alphabet) and a few random."""
    rng = random.Random(4242)
    noise = random_bytes(4243, size)
    small = bytes((b % 24) if b % 8 else b for b in range(256))
    out = bytearray(size)
    for at in range(0, size, 4096):
        run = noise[at:at + 4096]
        kind = rng.randrange(8)
        if kind < 3:
            piece = run.translate(small)  # code-like
        elif kind < 6:
            skip = rng.randrange(len(WORDS))
            piece = (WORDS[skip:] + WORDS * (4096 // len(WORDS) + 2))[:len(run)]
        elif kind < 7:
            piece = bytes(len(run))  # zeros (bss-like padding)
        else:
            piece = run  # incompressible (already packed data)
        out[at:at + len(run)] = piece
    return bytes(out)


def make_files(root, out_dir, mib, crc32):
    """Put the pairs' files into the TFTP @root (the module pair made once
    under @out_dir); returns {pair: (plain, packed, plain size, its CRC or
    None, packed size)} and notes."""
    pairs, notes = {}, []
    plain = os.path.join(out_dir, "modz%d.bin" % mib)
    packed = plain + ".gz"
    if not (os.path.exists(plain) and os.path.exists(packed)
            and os.path.getsize(plain) == mib * MIB):
        data = initrd_like(mib * MIB)
        with open(plain, "wb") as f:
            f.write(data)
        with open(packed, "wb") as f:
            f.write(gzip.compress(data, 9, mtime=0))
    with open(plain, "rb") as f:
        data = f.read()
    for src in (plain, packed):
        dst = os.path.join(root, os.path.basename(src))
        if not os.path.exists(dst):
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
    pairs["module"] = (os.path.basename(plain), os.path.basename(packed),
                       len(data), crc32(data), os.path.getsize(packed))
    if os.path.exists(XEN_GZ):
        with open(XEN_GZ, "rb") as f:
            xz = f.read()
        xen = gzip.decompress(xz)
        for name, blob in (("xen-4.17-amd64", xen), ("xen-4.17-amd64.gz", xz)):
            with open(os.path.join(root, name), "wb") as f:
                f.write(blob)
        pairs["xen"] = ("xen-4.17-amd64", "xen-4.17-amd64.gz", len(xen),
                        None, len(xz))
    else:
        notes.append("No xen rows: %s is missing (the xen-mb2-bios case "
                     "fetches it)." % XEN_GZ)
    for name in os.listdir(root):
        os.chmod(os.path.join(root, name), 0o644)
    return pairs, notes


def config_for(pair, name, packed):
    """Pulsar's config for one run."""
    if pair == "xen":
        return "exec %s %s\n" % (name, XEN_ARGS)
    return "exec kernel.elf bench\nload %s%s bench-module\n" % (
        "--unzip " if packed else "", name)


def check(pair, text, ended, rc, name, size, crc, packed_size):
    """None if the run did what it should, else why; and Pulsar's line."""
    said = [ln.rstrip("\r")[len("pulsar: "):] for ln in text.splitlines()
            if re.match(r"pulsar: %s: \d+ bytes" % re.escape(name), ln)]
    line = said[-1] if said else ""
    if not line.startswith("%s: %d bytes" % (name, size)):
        return "Pulsar's line for %s does not say %d bytes: %r" % (
            name, size, line), line
    if packed_size and ("unpacked from %d bytes of gzip" % packed_size
                        not in line):
        return "Pulsar's line does not say it unpacked %d bytes" % (
            packed_size), line
    if pair == "xen":
        return (None if ended == "stopped" else
                "no %r line (%s)" % (STARTING, ended)), line
    m = TK_MOD_RE.search(text)
    if not m or (int(m.group(1)), int(m.group(2), 16)) != (size, crc):
        return "the test kernel's module line %r, the file has %d bytes, " \
            "crc32 %#010x" % (m.group(0) if m else None, size, crc), line
    return (None if rc == qemu.EXIT_OK else "exit status %s" % rc), line


def run(opts, root, work, mac, baseline, crc32, log):
    """Run the pairs for opts.rounds rounds; returns (Markdown lines,
    failures)."""
    pairs, notes = make_files(root, opts.out, opts.gzip_mib, crc32)
    config = os.path.join(root, "config-" + mac.replace(":", "-"))
    times, lines, failures = {}, {}, []
    for rnd in range(opts.rounds):
        for pair, (plain, packed, size, crc, packed_size) in pairs.items():
            for name, is_packed in ((plain, False), (packed, True)):
                with open(config, "w") as f:
                    f.write(config_for(pair, name, is_packed))
                os.chmod(config, 0o644)
                log_path = os.path.join(work, "serial-gz.log")
                if os.path.exists(log_path):
                    os.unlink(log_path)
                rc, text, secs, ended = qemu.run(
                    qemu.command(serial=log_path, mem=opts.mem_mib, boot="n",
                                 net=qemu.user_net(root, "pulsar"), mac=mac),
                    log_path, opts.timeout,
                    stop=STARTING if pair == "xen" else None)
                why, line = check(pair, text, ended, rc, name, size, crc,
                                  packed_size if is_packed else 0)
                what = "gzip %s %s" % (pair, "packed" if is_packed else
                                       "plain")
                if why:
                    failures.append("%s, round %d: %s" % (what, rnd + 1, why))
                    log("bench: round %d %s: FAILED: %s" % (rnd + 1, what,
                                                            why))
                    continue
                log("bench: round %d %-36s %6.2f s" % (rnd + 1, what, secs))
                times.setdefault((pair, is_packed), []).append(secs)
                lines[(pair, is_packed)] = line
    md = ["", "Compressed images: Pulsar (BIOS, qemu/fast) loads each file "
          "packed and plain (lab/benchgz.py; xen timed to Pulsar's "
          "hand-off line, the module to the test kernel's exit).", "",
          "| file | plain median (s) | gzip median (s) | gzip - plain (s) "
          "| load time ratio | runs |", "|---|---|---|---|---|---|"]
    for pair, (plain, packed, size, _crc, packed_size) in pairs.items():
        a, b = times.get((pair, False)), times.get((pair, True))
        if not a or not b:
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        base = baseline or 0.0
        ratio = max(mb - base, 1e-3) / max(ma - base, 1e-3)
        md.append("| %s (%d -> %d bytes) | %.2f | %.2f | %+.2f | %.2fx | "
                  "%d/%d |" % (pair, packed_size, size, ma, mb, mb - ma,
                               ratio, len(a), len(b)))
    if baseline:
        md.append("")
        md.append("- Load time: the median less the qemu/fast baseline "
                  "(%.2f s)." % baseline)
    for (pair, is_packed), line in sorted(lines.items()):
        md.append("- Pulsar's line (%s, %s, last run): %s" % (
            pair, "gzip" if is_packed else "plain", line))
    for note in notes:
        md.append("- " + note)
    return md, failures
