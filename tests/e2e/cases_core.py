"""The first end-to-end cases: the demo boot and its variants, the two
basic refusals, and the --direct self-test of the harness.

- two-modules: Pulsar boots the test kernel with the demo modules (make
  run's demo: echoed live, plus a 48 MiB module); addr: the same with
  `addr` before the loads; no-hypervisor-bit: CPUID without the
  hypervisor bit, as on real hardware (no NIC fast path).
- missing-file, bad-kernel: Pulsar refuses, naming the file.
- direct-two-modules, direct-no-modules: QEMU's own multiboot loader
  boots the test kernel (no Pulsar), proving the kernel and the checks.
"""

import os

from lab import qemu

from . import harness
from .harness import (CONFIG_NAME, DEMO_CONFIG, FAST_PATH_LINE, FLAG_KEYS,
                      MIB, TFTP_SERVER, Case, CheckFailed, ErrorCase,
                      check_boot, config_items, demo_modules, elf_span,
                      has_multiboot_header, random_bytes, run_qemu)

ADDR = 0x2000000


# make run's demo adds a 48 MiB module: the others load in a blink, and
# the progress line (drawn from about 0.2 s on) should be seen at work.
DEMO_BIG_NAME = "guest.img"
DEMO_BIG_SIZE = 48 * MIB
DEMO_BIG_LOAD = ("# a guest image, large enough to watch the progress line\n"
                 "load %s guest image\n" % DEMO_BIG_NAME)


class BootCase(Case):
    """Pulsar boots the test kernel with the demo modules; all checks."""

    def __init__(self, opts, name, addr=None, echo=False, big=False,
                 cpu=None, fast_path=True):
        super().__init__(opts)
        self.name = name
        self.addr = addr
        self.echo = echo
        self.big = big
        self.cpu = cpu  # QEMU's -cpu, or its default
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
            qemu.pxe(root, log, cpu=self.cpu), log, self.opts.timeout,
            echo=self.echo)
        self.log_text = text
        if ended == "timeout" and "TK end" not in text:
            raise CheckFailed(["timed out after %d s" % self.opts.timeout])
        rep = check_boot(text, rc, exp)
        lines = text.replace("\r", "\n").split("\n")
        fast = FAST_PATH_LINE in lines
        if fast != self.fast_path:
            raise CheckFailed(["expected %s line %r" % (
                "a" if self.fast_path else "no", FAST_PATH_LINE)])
        # Counted, not the probe line: the config and every file ran on
        # the fast path (or, without it, none did, and Pulsar said why).
        sizes = [len(self.kernel())] + [len(v) for v in modules.values()]
        problems = harness.check_fast_path_count(
            text, self.fast_path, 1 + len(sizes), sum(sizes) // 1500)
        if not self.fast_path and harness.FAST_PATH_OFF_LINE not in lines:
            problems.append("no line %r" % harness.FAST_PATH_OFF_LINE)
        if problems:
            raise CheckFailed(problems)
        return {"secs": secs, "report": rep, "exp": exp, "rc": rc}


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
        extra = ["-kernel", kernel]
        if append:
            extra += ["-append", append]
        if initrd:
            extra += ["-initrd", ",".join(initrd)]
        args = qemu.command(serial=log, extra=extra)
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


def cases(opts):
    """This file's cases, PXE ones first (tests/e2e/run.py runs them before
    every other file's)."""
    return [
        BootCase(opts, "two-modules", echo=opts.demo, big=opts.demo),
        BootCase(opts, "addr", addr=ADDR),
        # CPUID without the hypervisor bit, as on real hardware: no fast
        # path, every packet through the PXE ROM.
        BootCase(opts, "no-hypervisor-bit", fast_path=False,
                 cpu="qemu64,-hypervisor"),
        missing_file_case(opts),
        bad_kernel_case(opts),
        DirectCase(opts, "direct-two-modules", with_modules=True),
        DirectCase(opts, "direct-no-modules", with_modules=False),
    ]
