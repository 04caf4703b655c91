"""Boot storms (issue 14): four machines network-boot Pulsar at the same
time from one server namespace (lab.storm: a bridge, a tap per QEMU,
dnsmasq leasing each MAC its address), each with its own config and its
own two random modules.  Every machine's report is checked in full, as
a single boot's is (harness.check_boot: the kernel's command line, each
module's size, CRC-32 and command line, the memory facts), so a machine
that got another machine's module, or a wrong byte, fails.

- storm-4-nginx: the kernel and modules over HTTP from nginx (the boot
  program and configs from tftpd-hpa).
- storm-4-lossy: everything over TFTP from Pulsar's fault server, which
  loses 1% of the DATA packets it sends and of the ACKs it receives, at
  random: every machine still boots with every byte right.
"""

import os

from lab import storm
from lab.servers import SetupError

from . import harness
from .harness import CheckFailed, Checker

CLIENTS = 4
MODULE_MIB = 2


class StormCase(harness.Case):
    exclusive = True  # several machines at once: run.py runs it alone

    def __init__(self, opts, name, server):
        super().__init__(opts)
        self.name = name
        self.server = server

    def run(self, tmp):
        try:
            machines, wall, _ = storm.storm(
                CLIENTS, self.server, "pulsar", self.opts.nbp,
                self.opts.kernel, MODULE_MIB, work=tmp)
        except SetupError as e:
            raise CheckFailed(["storm: %s" % e]) from None
        ck = Checker()
        span = harness.elf_span(self.kernel())
        logs = []
        for m in machines:
            exp = {"kernel_cmdline": m.cmdline, "cmdline_exact": True,
                   "loader_prefix": "Pulsar",
                   "modules": [(m.module_cmdline(n), d)
                               for n, d in m.modules],
                   "addr": None, "kernel_span": span,
                   "required_flags": sorted(harness.FLAG_KEYS)}
            try:
                harness.check_boot(m.text, m.rc, exp)
            except CheckFailed as e:
                ck.failures.extend("machine %d (%s): %s" % (m.i, m.mac, f)
                                   for f in e.args[0])
                logs.append("--- machine %d serial log ---\n%s"
                            % (m.i, m.text))
        if self.server == "lossy":
            # The loss really happened: about 1% of some 12000 packets.
            with open(os.path.join(tmp, "faultserver.log")) as f:
                lost = f.read().count(": FAULT lose ")
            ck.expect(lost >= 30, "the fault server lost only %d packets"
                      % lost)
        self.log_text = "\n".join(logs)
        ck.done()
        return {"secs": wall}


def cases(opts):
    return [StormCase(opts, "storm-4-nginx", "nginx"),
            StormCase(opts, "storm-4-lossy", "lossy")]
