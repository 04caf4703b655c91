"""Run build/pulsar-check against the good and bad configs in tests/check.

Each case is a directory tests/check/cases/NAME/ with
  case.txt   what it shows (# lines), then `args:` (the checker's options;
             $TMP is the case's scratch directory), `file:` lines naming
             binary files to generate, `exit:` (the expected exit status),
             and after a `---` line the exact expected output
  tftp/      the TFTP root's text files (configs), copied to $TMP/tftp
  other/     (optional) another server's files, copied to $TMP/other
Generated files (`file: PATH KIND ARGS...`, PATH under $TMP):
  kernel ADDR MEMSZ  a multiboot ELF32 with one segment at ADDR
  random SIZE        SIZE deterministic pseudo-random bytes
  bzimage SIZE       a SIZE-byte Linux bzImage (protocol 2.15, Debian-like)
  bzimage-efistub SIZE  the same with an x86-64 EFI stub's PE header
  efiapp SIZE        a SIZE-byte PE32+ x86-64 EFI application
  mb2 ADDR MEMSZ [MIN MAX ALIGN PREF]  the kernel with a Multiboot2 header
                     instead (relocatable with the four values)
  both ADDR MEMSZ    the kernel with both headers
  mb2-efibs ADDR MEMSZ [ENTRY64]  the mb2 kernel with the EFI boot
                     services tag (and an amd64 EFI entry at ENTRY64)
  gzip SRC           the file $TMP/SRC (generated above it) gzipped
  text SIZE          SIZE bytes of repeated text (packs well)
  cut SRC SIZE       the first SIZE bytes of $TMP/SRC (a truncated file)

The documentation's config examples are checked too: every ```-block of
README.md or docs/*.md preceded by a line `<!-- check: NAME -->` is
written to $TMP/tftp under the name in case NAME's `example:` line
(docs/config.md holds them today), so the examples cannot drift from what
the checker accepts.  A marker name used twice, a marker without its case
directory, or an `example:` case without its block fails.

    python3 -m tests.check.run [--checker build/pulsar-check] [NAME ...]

Prints `PASS name` or `FAIL name` with a diff, then `N passed, M failed`.
"""
import argparse
import difflib
import gzip
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

from lab.images import (bzimage_like_debian, efi_app, mb2_kernel,
                        one_segment_kernel, random_bytes)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def make_file(path, kind, args):
    """Generate one file of @kind."""
    if kind == "kernel":
        data = one_segment_kernel(int(args[0], 0), int(args[1], 0))
    elif kind == "random":
        data = random_bytes(path, int(args[0], 0))
    elif kind == "bzimage":
        data = bzimage_like_debian(int(args[0], 0))
    elif kind == "bzimage-efistub":
        data = bzimage_like_debian(int(args[0], 0), efi_stub=True)
    elif kind == "efiapp":
        data = efi_app(int(args[0], 0))
    elif kind in ("mb2", "both"):
        nums = [int(a, 0) for a in args]
        data = mb2_kernel(nums[0], nums[1], reloc=nums[2:6] or None,
                          keep_mb1=kind == "both")
    elif kind == "mb2-efibs":
        nums = [int(a, 0) for a in args]
        data = mb2_kernel(nums[0], nums[1], efi_bs=True,
                          efi64_entry=nums[2] if len(nums) > 2 else None)
    elif kind in ("gzip", "cut"):
        with open(os.path.join(os.path.dirname(path), args[0]), "rb") as f:
            data = f.read()
        data = (gzip.compress(data, 9, mtime=0) if kind == "gzip"
                else data[:int(args[1], 0)])
    elif kind == "text":
        line = b"pulsar-check sizes what a module unpacks to\n"
        data = (line * (int(args[0], 0) // len(line) + 1))[:int(args[0], 0)]
    else:
        raise ValueError("unknown file kind " + kind)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def parse_case(path):
    """case.txt -> dict(args, files, exit, expect, example)."""
    with open(path) as f:
        head, _, expect = f.read().partition("\n---\n")
    case = {"args": "", "files": [], "exit": None, "expect": expect,
            "example": None}
    for line in head.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if key == "args":
            case["args"] = value
        elif key == "file":
            case["files"].append(value.split())
        elif key == "exit":
            case["exit"] = int(value)
        elif key == "example":
            case["example"] = value
        else:
            raise ValueError("%s: unknown key %r" % (path, key))
    return case


def doc_files():
    """The Markdown files whose examples may be checked."""
    docs = os.path.join(TOP, "docs")
    names = [os.path.join(TOP, "README.md")]
    if os.path.isdir(docs):
        names += sorted(os.path.join(docs, n) for n in os.listdir(docs)
                        if n.endswith(".md"))
    return names


def doc_blocks():
    """NAME -> (file, text of the code block after `<!-- check: NAME -->`)."""
    blocks = {}
    for path in doc_files():
        with open(path) as f:
            text = f.read()
        rel = os.path.relpath(path, TOP)
        for m in re.finditer(r"<!-- check: (\S+) -->\s*\n```[^\n]*\n(.*?)```",
                             text, re.S):
            name = m.group(1)
            if name in blocks:
                raise ValueError("`<!-- check: %s -->` in both %s and %s"
                                 % (name, blocks[name][0], rel))
            blocks[name] = (rel, m.group(2))
    return blocks


def run_case(checker, name, blocks):
    """Run one case; returns a list of failure lines (empty: pass)."""
    cdir = os.path.join(HERE, "cases", name)
    case = parse_case(os.path.join(cdir, "case.txt"))
    tmp = tempfile.mkdtemp(prefix="pulsar-check-%s-" % name)
    try:
        for sub in ("tftp", "other"):
            if os.path.isdir(os.path.join(cdir, sub)):
                shutil.copytree(os.path.join(cdir, sub),
                                os.path.join(tmp, sub))
        os.makedirs(os.path.join(tmp, "tftp"), exist_ok=True)
        if case["example"]:
            if name not in blocks:
                return ["no `<!-- check: %s -->` block in README.md or "
                        "docs/*.md" % name]
            with open(os.path.join(tmp, "tftp", case["example"]), "w") as f:
                f.write(blocks[name][1])
        for spec in case["files"]:
            make_file(os.path.join(tmp, spec[0]), spec[1], spec[2:])
        args = [a.replace("$TMP", tmp) for a in shlex.split(case["args"])]
        proc = subprocess.run([checker] + args + [os.path.join(tmp, "tftp")],
                              capture_output=True, text=True, timeout=60)
        out = proc.stdout.replace(tmp, "$TMP")
        fails = []
        if proc.returncode != case["exit"]:
            fails.append("exit status %d, expected %d"
                         % (proc.returncode, case["exit"]))
        if out != case["expect"]:
            fails.append("output differs from case.txt:")
            fails += ["  " + l.rstrip("\n") for l in difflib.unified_diff(
                case["expect"].splitlines(True), out.splitlines(True),
                "expected", "got")]
        if proc.stderr:
            fails.append("stderr: " + proc.stderr.strip())
        return fails
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checker", default=os.path.join(TOP, "build",
                                                      "pulsar-check"))
    ap.add_argument("names", nargs="*")
    opts = ap.parse_args()
    names = opts.names or sorted(os.listdir(os.path.join(HERE, "cases")))
    blocks = doc_blocks()
    passed = failed = 0
    if not opts.names:
        for name in sorted(set(blocks) - set(names)):
            print("FAIL %s: %s marks a block for a case that does not exist"
                  % (name, blocks[name][0]))
            failed += 1
    for name in names:
        fails = run_case(opts.checker, name, blocks)
        if fails:
            print("FAIL %s: %s" % (name, fails[0]))
            for f in fails[1:]:
                print("    " + f)
            failed += 1
        else:
            print("PASS %s" % name)
            passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
