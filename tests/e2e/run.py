"""Pulsar's end-to-end runner: pick cases, run them, report.

    python3 -m tests.e2e.run --nbp build/pulsar --kernel build/testkernel.elf
        [--efi build/pulsar.efi] [--demo | --demo-efi] [--case NAME ...] [--keep] [--direct] [--timeout S]
        [--jobs N]
    python3 -m tests.e2e.run --list

Run from the repository's root.  The cases come from cases_core.py first,
then every other tests/e2e/cases_*.py in name order, each through its
function cases(opts); they share tests/e2e/harness.py (report parsing,
checks, QEMU) and the lab package.

--list    print every case's name, one per line, and exit
--demo    run only two-modules, echoing the serial log live, then a summary
--demo-efi  the same with pulsar.efi under OVMF (efi-two-modules)
--direct  self-test without Pulsar: QEMU's own multiboot loader (-kernel,
          -initrd, -append) boots the test kernel; same module/CRC/mmap checks
--case    run the named cases only (any mode); repeatable
--keep    keep the temporary directories (their paths are printed)
--jobs N  run N cases at a time (`make e2e` runs 2, one per core here);
          each case's output is printed whole when it ends.  Cases whose
          `exclusive` is true (the boot storms: several machines at once)
          run alone, after the others.  Shared downloads into cache/ are
          serialized (cases_linux.CACHE_LOCK).

Output: `PASS name (x.y s)` or `FAIL name: reason` per case (a failure is
followed by every failed assertion and the serial log's last 60 lines), and
last `N passed, M failed`.  Exit status 0 iff every case passed.
Standard library and lab only.
"""

import argparse
import concurrent.futures
import importlib
import io
import os
import shutil
import sys
import tempfile
import threading

from lab import qemu

from . import cases_core
from .harness import QEMU, TFTP_SERVER, CheckFailed, unescape

LOG_TAIL = 60


def all_cases(opts):
    """Every case, PXE ones first; --direct and --case pick among them.

    Each tests/e2e/cases_*.py module adds its own cases through a function
    cases(opts) returning Case objects, so topics (chainloading, Linux,
    servers, faults, ...) live in their own files and share the harness.
    """
    cases = cases_core.cases(opts)
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if (name.startswith("cases_") and name.endswith(".py")
                and name != "cases_core.py"):
            module = importlib.import_module("." + name[:-3], __package__)
            cases.extend(module.cases(opts))
    return cases


# ------------------------------------------------------------------- main

def print_failure(case, tmp, reasons, out=None):
    """FAIL line, every failed assertion, the serial log's tail, to @out
    (default standard output)."""
    out = out or sys.stdout
    print("FAIL %s: %s" % (case.name, reasons[0]), file=out)
    for reason in reasons[1:]:
        print("    also: " + reason, file=out)
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
        print("    --- serial log, last %d lines ---" % LOG_TAIL, file=out)
        for line in lines[-LOG_TAIL:]:
            print("    | " + line, file=out)
        if not lines:
            print("    | (empty)", file=out)
    try:
        with open(os.path.join(tmp, "serial.log.stderr"), "rb") as f:
            err = f.read().decode("utf-8", "replace").strip()
    except OSError:
        err = ""
    if err:
        print("    --- QEMU's own output ---", file=out)
        for line in err.splitlines()[-20:]:
            print("    | " + line, file=out)
    # Cases with servers name their logs: (title, path) pairs.
    for title, path in getattr(case, "extra_logs", []):
        try:
            with open(path, "rb") as f:
                log = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            continue
        print("    --- %s, last 20 lines ---" % title, file=out)
        for line in log[-20:]:
            print("    | " + line, file=out)
    out.flush()


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


def run_case(case, opts, out):
    """Run @case in a temporary directory of its own; its PASS or FAIL
    text goes to @out.  Returns True if it passed."""
    demo = opts.demo or opts.demo_efi
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
        if (getattr(case, "needs_efi", False)
                and not os.path.isfile(opts.efi)):
            raise CheckFailed(["pulsar.efi %s does not exist (make)"
                               % opts.efi])
        if (getattr(case, "needs_efi", False)
                and not os.path.isfile(qemu.OVMF_CODE)):
            raise CheckFailed(["%s does not exist (make deps installs "
                               "ovmf)" % qemu.OVMF_CODE])
        if demo:
            print("== %s %s under QEMU (TFTP root %s); serial output "
                  "follows" % ("UEFI-booting (OVMF)" if opts.demo_efi
                               else "PXE-booting",
                               opts.efi if opts.demo_efi else opts.nbp,
                               tmp))
            sys.stdout.flush()
        result = case.run(tmp)
        if demo:
            print_demo_summary(result)
        print("PASS %s (%.1f s)" % (case.name, result["secs"]), file=out)
        return True
    except CheckFailed as e:
        print_failure(case, tmp, e.args[0], out)
        return False
    except Exception as e:  # a harness bug must still fail the case
        print_failure(case, tmp, ["harness error: %s: %s"
                                  % (type(e).__name__, e)], out)
        return False
    finally:
        if opts.keep:
            print("    kept %s" % tmp, file=out)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nbp", default="build/pulsar",
                    help="Pulsar's boot program (default build/pulsar)")
    ap.add_argument("--efi", default="build/pulsar.efi",
                    help="Pulsar's UEFI application (default "
                    "build/pulsar.efi), for the efi-* cases")
    ap.add_argument("--kernel", default="build/testkernel.elf",
                    help="the test kernel (default build/testkernel.elf)")
    ap.add_argument("--demo-efi", action="store_true",
                    help="run efi-two-modules only, echoing the serial log")
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
    ap.add_argument("--jobs", "-j", type=int, default=1,
                    help="cases run at a time (default 1; cases marked "
                    "exclusive always run alone, last)")
    ap.add_argument("--list", action="store_true",
                    help="print every case's name and exit")
    opts = ap.parse_args(argv)

    cases = all_cases(opts)
    by_name = {c.name: c for c in cases}
    if len(by_name) != len(cases):
        ap.error("two cases share a name")
    if opts.list:
        for case in cases:
            print(case.name)
        return 0
    if opts.case:
        unknown = [n for n in opts.case if n not in by_name]
        if unknown:
            ap.error("unknown case %s; known: %s"
                     % (", ".join(unknown), ", ".join(by_name)))
        chosen = [by_name[n] for n in opts.case]
    elif opts.demo:
        chosen = [by_name["two-modules"]]
    elif opts.demo_efi:
        chosen = [by_name["efi-two-modules"]]
    elif opts.direct:
        chosen = [c for c in cases if not c.needs_nbp]
    else:
        chosen = [c for c in cases if c.needs_nbp]

    demo = opts.demo or opts.demo_efi
    jobs = 1 if demo else max(1, opts.jobs)
    # Cases that start several machines or must own the CPU run alone,
    # after the others.
    shared = [c for c in chosen if not getattr(c, "exclusive", False)]
    alone = [c for c in chosen if getattr(c, "exclusive", False)]
    results = []
    lock = threading.Lock()

    def one(case):
        out = io.StringIO()
        ok = run_case(case, opts, out)
        with lock:
            sys.stdout.write(out.getvalue())
            sys.stdout.flush()
            results.append(ok)

    if jobs > 1 and len(shared) > 1:
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            for fut in [pool.submit(one, c) for c in shared]:
                fut.result()
    else:
        for case in shared:
            one(case)
    for case in alone:
        one(case)
    passed = results.count(True)
    failed = results.count(False)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
