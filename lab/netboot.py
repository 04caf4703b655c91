"""Network-boot a TFTP directory under QEMU with the DHCP/TFTP servers of
your choice, and show the serial console.

    scripts/netboot [options] DIR
    scripts/netboot --server dnsmasq --nic rtl8139 DIR
    scripts/netboot --server isc+tftpd-hpa --root-path nova DIR
    scripts/netboot --bootfile pxelinux.0 DIR      # PXELINUX first
    scripts/netboot --firmware efi DIR             # pulsar.efi under OVMF
    scripts/netboot --server dnsmasq --bootfile-efi pulsar.efi \
        --firmware efi DIR          # one setup for both firmwares (93)

Servers (--server):
  user           QEMU's built-in DHCP/TFTP (-netdev user): no root needed
  dnsmasq        dnsmasq as DHCP and TFTP server
  isc+tftpd-hpa  ISC dhcpd with a `host` entry, tftpd-hpa (in.tftpd)
  isc+atftpd     ISC dhcpd with a `host` entry, atftpd
  isc+proxy      ISC dhcpd with a `host` entry giving the address only (no
                 next-server, no filename), dnsmasq as proxyDHCP server
                 (`dhcp-range=...,proxy`, one `pxe-service`) naming the
                 boot file (BOOTFILE.0) and boot server 10.77.0.5, and
                 tftpd-hpa on 10.77.0.5 (no --root-path: dnsmasq's PXE
                 replies carry no option 17)
--firmware efi boots a UEFI machine (q35, OVMF with a fresh copy of its
variable store, the NIC without an option ROM unless --romfile, so OVMF's
own PXE runs; --nic defaults to virtio-net-pci there) instead of SeaBIOS;
its boot file defaults to pulsar.efi (without --bootfile-efi).
--bootfile-efi NAME makes a real DHCP server (dnsmasq, isc+tftpd-hpa,
isc+atftpd) choose by the client architecture the client sends (option
93, RFC 4578): 7 or 9 (x86-64 UEFI) get NAME, every other client (0,
BIOS; none) gets --bootfile, as docs/servers.md shows for both servers.
The real servers run as root in a private network namespace made for the
run: the tap device QEMU uses and the addresses 10.77.0.0/24 exist only
there.  The DHCP server is 10.77.0.1, the guest gets 10.77.0.2, and the
TFTP server listens on --next-server (default 10.77.0.1) only; --tftp2
adds atftpd on 10.77.0.3 (for the config's `tftp 10.77.0.3`); --http
DIR adds nginx on http://10.77.0.1/ serving DIR (for `root
http://10.77.0.1/...`), --http-cut our own web server that resets chosen
transfers part-way (lab.httpcut).  The
namespace, the tap and every server are removed when netboot ends, on an
error, Ctrl-C or SIGTERM too.

The serial console (COM1) is copied to stdout.  netboot stops when QEMU
exits, when the console shows the --stop text (default `pulsar: boot
failed`, printed when a boot attempt fails and Pulsar will start over),
or after --timeout seconds.  Exit status: QEMU's own when it exited (33 is
a test kernel's success through isa-debug-exit at port 0xf4, which every
run has), 3 when the --stop text appeared, 124 on timeout, 2 for a usage
or setup error.

scripts/netboot runs this module (python3 -m lab.netboot from the root);
tests/e2e/cases_servers.py imports it.  Server programs come from
cache/servers/ (unpacked there by scripts/deps.sh) or else from the
system (lab.servers).  Standard library only.
"""

import argparse
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from lab import module_argv, qemu, servers
from lab.netns import NetNS
from lab.qemu import MAC, NICS, QEMU
from lab.servers import SetupError, tail

SERVERS = ("user", "dnsmasq", "isc+tftpd-hpa", "isc+atftpd", "isc+proxy")
FIRMWARES = ("bios", "efi")
# Option 93 (RFC 4578) of x86-64 UEFI clients: 7 (EFI BC, what OVMF and
# most firmware send) and 9 (EFI x86-64, what some send).
EFI_X64_ARCHES = (7, 9)
NET = ipaddress.ip_network("10.77.0.0/24")
DHCP_IP = "10.77.0.1"   # the DHCP server (and TFTP unless --next-server)
GUEST_IP = "10.77.0.2"  # the address every server hands the guest
TFTP2_IP = "10.77.0.3"  # --tftp2
PROXY_IP = "10.77.0.5"  # isc+proxy: dnsmasq's proxyDHCP and TFTP server
# --tftp2 with --tftp2-routed: off the guest's subnet, on the namespace's
# loopback, reachable only through the router DHCP names (dnsmasq: itself)
TFTP2_ROUTED_IP = "10.78.0.3"
STOP_DEFAULT = "pulsar: boot failed"
HTTP_PORT = 80  # --http: nginx (or lab.httpcut) on the DHCP server's address

EXIT_STOPPED = 3
EXIT_TIMEOUT = 124
EXIT_SETUP = 2


def config_name(mac):
    """Pulsar's config file name for @mac: config-52-54-00-12-34-56."""
    return "config-" + mac.lower().replace(":", "-")


class Options:
    """What to boot and how; the CLI's flags, usable from Python."""

    def __init__(self, tftp_dir, server="user", nic=None, romfile=None,
                 mac=MAC, mem=128, bootfile=None, root_path=None,
                 next_server=None, tftp2=None, timeout=None,
                 stop=STOP_DEFAULT, serial=None, echo=True, workdir=None,
                 accel="tcg", qemu_args=(), ra=True, tftp2_routed=False,
                 http=None, http_cut=(), dhcp_options=(), firmware="bios",
                 bootfile_efi=None):
        efi = firmware == "efi"
        self.tftp_dir = os.path.abspath(tftp_dir)
        self.server = server
        self.firmware = firmware
        self.nic = nic or ("virtio-net-pci" if efi else "e1000")
        # UEFI: no option ROM by default, so the firmware's own PXE runs.
        self.romfile = romfile if romfile is not None or not efi else ""
        self.mac = mac.lower()
        self.mem = mem
        self.bootfile = bootfile or ("pulsar.efi" if efi and not bootfile_efi
                                     else "pulsar")
        self.bootfile_efi = bootfile_efi
        self.root_path = root_path
        self.next_server = next_server
        self.tftp2 = os.path.abspath(tftp2) if tftp2 else None
        self.tftp2_ip = TFTP2_ROUTED_IP if tftp2_routed else TFTP2_IP
        self.timeout = timeout
        self.stop = stop
        self.serial = serial
        self.echo = echo
        self.workdir = workdir
        self.accel = accel
        self.qemu_args = list(qemu_args)
        self.ra = ra
        self.http = os.path.abspath(http) if http else None
        self.http_cut = list(http_cut)
        self.dhcp_options = list(dhcp_options)

    def check(self):
        """Raise SetupError for options that cannot work together."""
        if self.server not in SERVERS:
            raise SetupError("unknown server %r (one of %s)"
                             % (self.server, ", ".join(SERVERS)))
        if self.firmware not in FIRMWARES:
            raise SetupError("unknown firmware %r (one of %s)"
                             % (self.firmware, ", ".join(FIRMWARES)))
        if self.bootfile_efi is not None and self.server in ("user",
                                                             "isc+proxy"):
            raise SetupError("--bootfile-efi needs --server dnsmasq, "
                             "isc+tftpd-hpa or isc+atftpd (they choose the "
                             "file by option 93)")
        if not os.path.isdir(self.tftp_dir):
            raise SetupError("TFTP directory %s does not exist"
                             % self.tftp_dir)
        if self.http and not os.path.isdir(self.http):
            raise SetupError("--http directory %s does not exist"
                             % self.http)
        if self.dhcp_options and self.server != "dnsmasq":
            raise SetupError("--dhcp-option needs --server dnsmasq")
        for opt in self.dhcp_options:
            if not re.fullmatch(r"\d{1,3},[^,\"\x00-\x1f]+", opt):
                raise SetupError("--dhcp-option %r is not CODE,VALUE (no "
                                 "comma, quote or control character in "
                                 "the value)" % opt)
        if self.http_cut and not self.http:
            raise SetupError("--http-cut needs --http")
        if self.tftp2 and not os.path.isdir(self.tftp2):
            raise SetupError("--tftp2 directory %s does not exist"
                             % self.tftp2)
        if not re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", self.mac):
            raise SetupError("MAC %r is not six hex bytes with colons"
                             % self.mac)
        if int(self.mac[:2], 16) & 1:
            raise SetupError("MAC %s is a multicast address" % self.mac)
        for what, text in (("--bootfile", self.bootfile),
                           ("--bootfile-efi", self.bootfile_efi),
                           ("--root-path", self.root_path)):
            if text is not None and (not text or "," in text or '"' in text
                                     or any(ord(c) < 32 for c in text)):
                raise SetupError("%s %r: empty, or has a comma, a quote or "
                                 "a control character" % (what, text))
        for path in (self.tftp_dir, self.tftp2 or "", self.serial or "",
                     self.romfile or ""):
            if "," in path:
                raise SetupError("QEMU cannot take a comma in %s" % path)
        if self.server == "isc+proxy" and (self.root_path or
                                           self.next_server):
            raise SetupError("--server isc+proxy takes no --root-path or "
                             "--next-server (the proxy names %s)" % PROXY_IP)
        if self.server == "user":
            for flag, val in (("--root-path", self.root_path),
                              ("--next-server", self.next_server),
                              ("--tftp2", self.tftp2),
                              ("--http", self.http)):
                if val:
                    raise SetupError("%s needs a real server (QEMU's "
                                     "built-in one has no such setting)"
                                     % flag)
        if self.next_server:
            try:
                ip = ipaddress.ip_address(self.next_server)
            except ValueError:
                raise SetupError("--next-server %r is not an IPv4 address"
                                 % self.next_server) from None
            if (ip not in NET or str(ip) in (GUEST_IP, TFTP2_IP)
                    or ip in (NET.network_address, NET.broadcast_address)):
                raise SetupError("--next-server must be a host in %s other "
                                 "than %s (the guest) and %s (--tftp2)"
                                 % (NET, GUEST_IP, TFTP2_IP))
            self.next_server = str(ip)
        if self.server != "user" and os.geteuid() != 0:
            raise SetupError("--server %s needs root (it makes a network "
                             "namespace); --server user does not"
                             % self.server)

    @property
    def tftp_ip(self):
        """The address of the (first) TFTP server: the next-server (with
        isc+proxy: the proxyDHCP server's)."""
        if self.server == "isc+proxy":
            return PROXY_IP
        return self.next_server or DHCP_IP


class Result:
    """How a run ended: rc (QEMU's exit status or None), text (the serial
    log), secs, ended ("exited", "stopped", "timeout"), qemu_out (the tail
    of QEMU's own output), logs (server name -> log file), netns (the
    namespace's name or None), work (the work directory), exit_code."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def exit_code(self):
        """netboot's exit status for this result."""
        if self.ended == "exited":
            return self.rc
        return EXIT_STOPPED if self.ended == "stopped" else EXIT_TIMEOUT


# ----------------------------------------------------------- the servers

def server_plan(o, work):
    """The servers to start: a list of (name, argv, [(ip or None, port)])
    where each (ip, port) must be listening before QEMU starts."""
    plan = []
    if o.server == "dnsmasq":
        plan.append(("dnsmasq", servers.dnsmasq_argv(
            "--listen-address=" + o.tftp_ip,
            "--pid-file=" + os.path.join(work, "dnsmasq.pid"),
            "--dhcp-leasefile=" + os.path.join(work, "dnsmasq.leases"),
            "--log-facility=" + os.path.join(work, "dnsmasq.log"),
            "--log-dhcp",
            "--dhcp-range=%s,static,255.255.255.0,1h" % GUEST_IP,
            "--dhcp-host=%s,%s" % (o.mac, GUEST_IP),
            *dnsmasq_boot_options(o),
            "--enable-tftp", "--tftp-root=" + o.tftp_dir,
            *(["--dhcp-option=option:root-path,%s" % o.root_path]
              if o.root_path is not None else []),
            *["--dhcp-option-force=" + opt for opt in o.dhcp_options]),
            [(None, 67), (o.tftp_ip, 69)]))
    elif o.server == "isc+proxy":
        conf = servers.dhcpd_conf(NET, o.mac, GUEST_IP, None, None)
        plan.append(("dhcpd", servers.dhcpd_argv(conf, work, "ptap0"),
                     [(None, 67)]))
        plan.append(("dnsmasq", servers.dnsmasq_proxy_argv(
            "ptap0", o.tftp_ip, NET.network_address, o.bootfile, work),
            [(None, 67), (None, 4011)]))
        argv = servers.tftpd_hpa_argv(o.tftp_ip, o.tftp_dir, work)
        plan.append(("tftpd-hpa", argv, [(o.tftp_ip, 69)]))
    elif o.server.startswith("isc+"):
        conf = servers.dhcpd_conf(
            NET, o.mac, GUEST_IP, o.tftp_ip, o.bootfile, o.root_path,
            efi_bootfile=o.bootfile_efi,
            efi_arches=EFI_X64_ARCHES if o.bootfile_efi else ())
        plan.append(("dhcpd", servers.dhcpd_argv(conf, work, "ptap0"),
                     [(None, 67)]))
        if o.server == "isc+tftpd-hpa":
            argv = servers.tftpd_hpa_argv(o.tftp_ip, o.tftp_dir, work)
            plan.append(("tftpd-hpa", argv, [(o.tftp_ip, 69)]))
        else:
            plan.append(("atftpd", atftpd_argv(o.tftp_ip, o.tftp_dir, work),
                         [(o.tftp_ip, 69)]))
    if o.ra:
        plan.append(("ra", module_argv("lab.ra", "ptap0"), []))
    if o.http and o.http_cut:
        plan.append(("httpcut", module_argv(
            "lab.httpcut", "--bind", DHCP_IP, "--port", str(HTTP_PORT),
            *[a for c in o.http_cut for a in ("--cut", c)], o.http),
            [(DHCP_IP, HTTP_PORT)]))
    elif o.http:
        plan.append(("nginx", servers.nginx_argv(DHCP_IP, o.http, work,
                                                 HTTP_PORT),
                     [(DHCP_IP, HTTP_PORT)]))
    if o.tftp2:
        plan.append(("atftpd2", atftpd_argv(o.tftp2_ip, o.tftp2, work,
                                            "atftpd2"), [(o.tftp2_ip, 69)]))
    return plan


def dnsmasq_boot_options(o):
    """dnsmasq's boot file options: --bootfile for everyone, or with
    --bootfile-efi the file by option 93 (servers.dnsmasq_arch_boot)."""
    if o.bootfile_efi is None:
        return ["--dhcp-boot=%s,,%s" % (o.bootfile, o.tftp_ip)]
    return servers.dnsmasq_arch_boot(o.bootfile, o.bootfile_efi,
                                     EFI_X64_ARCHES, o.tftp_ip)


def atftpd_argv(ip, root, work, tag="atftpd"):
    """atftpd on @ip only, as root, logging every transfer to stdout (its
    .out file)."""
    return servers.atftpd_argv(ip, root, logfile="-", verbose=7,
                               user="root.root", no_multicast=True,
                               pidfile=os.path.join(work, tag + ".pid"))


def start_servers(ns, o, work):
    """Start the planned servers in @ns and wait until each listens;
    returns {name: log path} (dnsmasq's own log too)."""
    logs = servers.start(ns, server_plan(o, work), work)
    if "dnsmasq" in logs:
        logs["dnsmasq-log"] = os.path.join(work, "dnsmasq.log")
    if "nginx" in logs:
        logs["nginx-access"] = os.path.join(work, "nginx-access.log")
    return logs


# ---------------------------------------------------------------- QEMU

def qemu_argv(o, serial_path, netdev, work):
    """QEMU's command line: COM1 into @serial_path, the NIC with its
    default (iPXE) ROM unless --romfile, network boot; with --firmware
    efi, OVMF on q35 (its variable store copied into @work)."""
    if o.firmware == "efi":
        return qemu.ovmf(None, serial_path, work, net=netdev, nic=o.nic,
                         romfile=o.romfile, mem=o.mem, accel=o.accel,
                         mac=o.mac, extra=o.qemu_args)
    return qemu.command(serial=serial_path, mem=o.mem, accel=o.accel,
                        boot="n", net=netdev, nic=o.nic, mac=o.mac,
                        romfile=o.romfile, extra=o.qemu_args)


def boot(o, on_ready=None):
    """Boot @o (an Options) and return a Result.  Everything this started
    is gone when it returns or raises.  @on_ready(netns name or None) is
    called once the servers listen, before QEMU starts."""
    o.check()
    if not shutil.which(QEMU):
        raise SetupError("%s is not installed (scripts/deps.sh)" % QEMU)
    own_work = o.workdir is None
    work = tempfile.mkdtemp(prefix="netboot-") if own_work else o.workdir
    os.makedirs(work, exist_ok=True)
    serial = o.serial or os.path.join(work, "serial.log")
    if "," in serial:
        raise SetupError("QEMU cannot take a comma in %s" % serial)
    open(serial, "wb").close()
    qemu_log = os.path.join(work, "qemu.out")
    start = time.monotonic()

    def watch(argv, popen):
        rc, text, _secs, ended = qemu.run(
            argv, serial, timeout=o.timeout, stop=o.stop, echo=o.echo,
            keep_cr=False, out_path=qemu_log, popen=popen, new_session=True)
        return rc, text, ended

    try:
        if o.server == "user":
            if on_ready:
                on_ready(None)
            rc, text, ended = watch(
                qemu_argv(o, serial, qemu.user_net(o.tftp_dir, o.bootfile),
                          work),
                subprocess.Popen)
            return Result(rc=rc, text=text, ended=ended,
                          qemu_out=tail(qemu_log), logs={"qemu": qemu_log},
                          netns=None, work=work,
                          secs=time.monotonic() - start)
        addrs = [DHCP_IP]
        if o.tftp_ip not in addrs:
            addrs.append(o.tftp_ip)
        if o.tftp2 and o.tftp2_ip == TFTP2_IP:
            addrs.append(TFTP2_IP)
        with NetNS(addrs=addrs, prefix=NET.prefixlen) as ns:
            if o.tftp2 and o.tftp2_ip != TFTP2_IP:
                # Not on the tap, and no ARP answers for it there: only a
                # client that routes through DHCP's router reaches it.
                ns.run(["ip", "addr", "add", o.tftp2_ip + "/32", "dev",
                        "lo"])
                ns.run(["sh", "-c", "echo 1 > "
                        "/proc/sys/net/ipv4/conf/all/arp_ignore"])
            logs = start_servers(ns, o, work)
            logs["qemu"] = qemu_log
            if on_ready:
                on_ready(ns.name)
            rc, text, ended = watch(
                qemu_argv(o, serial, qemu.tap_net(ns.tap), work), ns.popen)
            return Result(rc=rc, text=text, ended=ended,
                          qemu_out=tail(qemu_log), logs=logs, netns=ns.name,
                          work=work, secs=time.monotonic() - start)
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------ CLI

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(
        prog="netboot",
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        epilog="See lab/netboot.py and README.md.")
    ap.add_argument("dir", metavar="DIR", help="the TFTP root to boot from")
    ap.add_argument("--server", choices=SERVERS, default="user",
                    help="DHCP/TFTP servers (default user: QEMU's own)")
    ap.add_argument("--firmware", choices=FIRMWARES, default="bios",
                    help="bios (SeaBIOS, default) or efi (OVMF on q35)")
    ap.add_argument("--nic",
                    help="QEMU NIC model, e.g. %s (default e1000; "
                    "virtio-net-pci with --firmware efi)" % ", ".join(NICS))
    ap.add_argument("--romfile", help="NIC option ROM (default: the iPXE "
                    "ROM QEMU picks for the model)")
    ap.add_argument("--mac", default=MAC, help="guest MAC (default %s)" % MAC)
    ap.add_argument("--mem", type=int, default=128, help="guest MiB (128)")
    ap.add_argument("--bootfile",
                    help="DHCP boot file (default pulsar; pulsar.efi with "
                    "--firmware efi)")
    ap.add_argument("--bootfile-efi", metavar="NAME",
                    help="real servers: the boot file of x86-64 UEFI "
                    "clients (option 93 is 7 or 9); --bootfile is then "
                    "the others' (BIOS)")
    ap.add_argument("--root-path", help="DHCP option 17 (real servers)")
    ap.add_argument("--next-server", metavar="IP",
                    help="TFTP server address handed out as next-server, in "
                    "%s (default %s, the DHCP server)" % (NET, DHCP_IP))
    ap.add_argument("--tftp2", metavar="DIR2", help="a second TFTP server "
                    "(atftpd) at %s serving DIR2" % TFTP2_IP)
    ap.add_argument("--tftp2-routed", action="store_true",
                    help="put --tftp2 on %s, off the guest's subnet (reached "
                    "through the DHCP router)" % TFTP2_ROUTED_IP)
    ap.add_argument("--http", metavar="DIR", help="a web server (nginx) on "
                    "http://%s/ serving DIR (real servers)" % DHCP_IP)
    ap.add_argument("--http-cut", metavar="NAME=BYTES[:N]", action="append",
                    default=[], help="serve --http with lab.httpcut instead, "
                    "resetting the first N (1) connections for NAME after "
                    "BYTES bytes of its body (repeatable)")
    ap.add_argument("--dhcp-option", metavar="CODE,VALUE", action="append",
                    default=[], help="one more DHCP option dnsmasq sends "
                    "whether asked or not, e.g. 210,http://%s/nova/ "
                    "(repeatable)" % DHCP_IP)
    ap.add_argument("--timeout", type=float, help="stop after S seconds")
    ap.add_argument("--stop", default=STOP_DEFAULT, metavar="TEXT",
                    help="stop when the console shows TEXT (default %r; "
                    "'' never)" % STOP_DEFAULT)
    ap.add_argument("--serial", metavar="FILE",
                    help="keep the serial log in FILE too")
    ap.add_argument("--quiet", action="store_true",
                    help="do not copy the serial console to stdout")
    ap.add_argument("--no-ra", action="store_true",
                    help="do not answer IPv6 router solicitations (iPXE "
                    "then waits ~13 s for a router, as on an IPv4-only "
                    "network)")
    ap.add_argument("--workdir", help="keep server configs and logs here")
    ap.add_argument("--accel", default="tcg", help="tcg (default) or kvm")
    ap.add_argument("--qemu-arg", action="append", default=[], metavar="ARG",
                    help="one more QEMU argument (repeatable)")
    a = ap.parse_args(argv)
    o = Options(a.dir, server=a.server, nic=a.nic, romfile=a.romfile,
                mac=a.mac, mem=a.mem, bootfile=a.bootfile,
                root_path=a.root_path, next_server=a.next_server,
                tftp2=a.tftp2, timeout=a.timeout, stop=a.stop,
                serial=a.serial, echo=not a.quiet, workdir=a.workdir,
                accel=a.accel, qemu_args=a.qemu_arg, ra=not a.no_ra,
                tftp2_routed=a.tftp2_routed, http=a.http,
                http_cut=a.http_cut, dhcp_options=a.dhcp_option,
                firmware=a.firmware, bootfile_efi=a.bootfile_efi)

    def ready(name):
        where = "namespace %s" % name if name else "QEMU user networking"
        print("netboot: %s, server %s, firmware %s, nic %s, mac %s; "
              "config %s" % (where, o.server, o.firmware, o.nic, o.mac,
                             config_name(o.mac)),
              file=sys.stderr, flush=True)

    try:
        res = boot(o, on_ready=ready)
    except SetupError as e:
        print("netboot: error: %s" % e, file=sys.stderr)
        return EXIT_SETUP
    if res.qemu_out not in ("(empty log)", "(no log)"):
        print("netboot: QEMU said:\n" + res.qemu_out, file=sys.stderr)
    how = {"exited": "QEMU exited with status %s" % res.rc,
           "stopped": "stopped: the console showed %r" % o.stop,
           "timeout": "timed out after %s s" % o.timeout}[res.ended]
    print("\nnetboot: %s (%.1f s)" % (how, res.secs), file=sys.stderr)
    return res.exit_code


if __name__ == "__main__":
    sys.exit(main())
