"""The real DHCP/TFTP servers: where they are, how they are started.

The programs come from cache/servers/PACKAGE/ where scripts/deps.sh
unpacks them (tftpd-hpa and atftpd conflict as packages, and installing
either would start a system service), or else from the system.  Each
*_argv() function returns the command line of one server in the
foreground; start() runs a list of them in a lab.netns.NetNS and waits
until each has opened its UDP ports.
"""

import os
import shutil
import subprocess
import time

from lab import CACHE, ROOT

READY_S = 15   # how long servers get to open their ports
POLL_S = 0.1

# Where scripts/deps.sh unpacks a package's programs, then the system.
PROGRAMS = {
    "dhcpd": ("isc-dhcp-server", "usr/sbin/dhcpd"),
    "in.tftpd": ("tftpd-hpa", "usr/sbin/in.tftpd"),
    "atftpd": ("atftpd", "usr/sbin/atftpd"),
    "dnsmasq": ("dnsmasq-base", "usr/sbin/dnsmasq"),
    "nginx": ("nginx", "usr/sbin/nginx"),
}


class SetupError(Exception):
    """A server could not be set up (missing program, bad option, a server
    that died or never opened its port); the message says which."""


def find_program(name):
    """Path of server program @name: cache/servers/ first, then the system.

    A system in.tftpd must be tftpd-hpa's, not atftpd's symlink."""
    pkg, rel = PROGRAMS[name]
    cached = os.path.join(CACHE, "servers", pkg, rel)
    if os.access(cached, os.X_OK):
        return cached
    for d in ("/usr/sbin", "/sbin", "/usr/local/sbin"):
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            if name == "in.tftpd" and "atftpd" in os.path.realpath(path):
                continue
            return path
    found = shutil.which(name)
    if found:
        return found
    raise SetupError("%s not found: run scripts/deps.sh (it unpacks %s "
                     "into cache/servers/)" % (name, pkg))


def write(path, text):
    """Write @text to @path; returns @path."""
    with open(path, "w") as f:
        f.write(text)
    return path


# ------------------------------------------------------------- dnsmasq

def dnsmasq_argv(*options, debug=False):
    """dnsmasq in the foreground (with @debug: --no-daemon, which also
    logs to stderr), no config file, no DNS, as root, bound to the
    interfaces it serves; @options set up its DHCP and TFTP."""
    return [find_program("dnsmasq"),
            "--no-daemon" if debug else "--keep-in-foreground",
            "--conf-file=/dev/null", "--port=0", "--user=root",
            "--bind-interfaces"] + list(options)


def dnsmasq_dhcp_argv(interface, first, last, leasefile, boots, quiet=False,
                      ipxe_two_step=None):
    """dnsmasq as DHCP server only on @interface, leasing @first-@last;
    @boots: (boot file, TFTP server, MAC or None for every client) in
    order, the nth with a MAC tagged "h<n>".  @ipxe_two_step: (MAC, iPXE
    binary, iPXE script, TFTP server): that MAC gets the binary from its
    firmware and the script once iPXE asks (DHCP user class "iPXE")."""
    opts = ["--interface=" + interface, "--no-ping",
            "--dhcp-range=%s,%s,1h" % (first, last),
            "--dhcp-leasefile=" + leasefile]
    if quiet:
        opts.append("--quiet-dhcp")
    if ipxe_two_step:
        mac, binary, script, server = ipxe_two_step
        opts += ["--dhcp-userclass=set:ipxe,iPXE",
                 "--dhcp-host=%s,set:two" % mac,
                 "--dhcp-boot=tag:two,tag:!ipxe,%s,,%s" % (binary, server),
                 "--dhcp-boot=tag:two,tag:ipxe,%s,,%s" % (script, server)]
    for n, (bootfile, server, mac) in enumerate(boots):
        if mac is None:
            opts.append("--dhcp-boot=%s,,%s" % (bootfile, server))
        else:
            opts += ["--dhcp-host=%s,set:h%d" % (mac, n),
                     "--dhcp-boot=tag:h%d,%s,,%s" % (n, bootfile, server)]
    return dnsmasq_argv(*opts, debug=True)


def dnsmasq_arch_boot(bios_file, efi_file, efi_arches, server):
    """dnsmasq options that hand @efi_file to clients whose option 93
    (client architecture, RFC 4578) is one of @efi_arches and @bios_file
    to every other client, both on TFTP server @server (docs/servers.md
    shows the same as a config file)."""
    opts = ["--dhcp-match=set:efi-x64,option:client-arch,%d" % a
            for a in efi_arches]
    return opts + ["--dhcp-boot=tag:efi-x64,%s,,%s" % (efi_file, server),
                   "--dhcp-boot=tag:!efi-x64,%s,,%s" % (bios_file, server)]


def dnsmasq_proxy_argv(interface, boot_server, network, bootfile, work):
    """dnsmasq as proxyDHCP server next to another DHCP server: it leases
    nothing (`dhcp-range=@network,proxy`) and answers PXE clients with one
    x86PC boot service, @bootfile (dnsmasq adds ".0") on @boot_server.
    No TFTP: another server does that.  (Its PXE replies carry no
    root-path or option 209, even forced.)"""
    return dnsmasq_argv(
        "--interface=" + interface,
        "--pid-file=" + os.path.join(work, "dnsmasq.pid"),
        "--log-facility=" + os.path.join(work, "dnsmasq.log"),
        "--log-dhcp", "--dhcp-range=%s,proxy" % network,
        "--pxe-service=x86PC,Pulsar,%s,%s" % (bootfile, boot_server))


# ------------------------------------------------------------ ISC dhcpd

def dhcpd_conf(net, mac, guest_ip, next_server, bootfile, root_path=None,
               efi_bootfile=None, efi_arches=()):
    """An ISC dhcpd config as the seed documents: one `host` entry for
    @mac on the ipaddress network @net.  With @next_server and @bootfile
    None it hands out the address only (a proxyDHCP server names the
    boot server and file).  With @efi_bootfile, clients whose option 93
    (client architecture) is one of @efi_arches get that file and the
    others @bootfile (docs/servers.md shows the same config)."""
    root = ""
    if next_server is not None:
        root += '        next-server %s;\n' % next_server
    if efi_bootfile is not None:
        test = " or ".join("option arch = 00:%02x" % a for a in efi_arches)
        root += ('        if %s {\n                filename "%s";\n'
                 '        } else {\n                filename "%s";\n'
                 '        }\n' % (test, efi_bootfile, bootfile))
    elif bootfile is not None:
        root += '        filename "%s";\n' % bootfile
    if root_path is not None:
        root += '        option root-path "%s";\n' % root_path
    return """\
# scripts/netboot: ISC dhcpd for one test machine
authoritative;
option arch code 93 = unsigned integer 16;
default-lease-time 3600;
max-lease-time 7200;
subnet %s netmask %s {
}
host testbox {
        hardware ethernet %s;
        fixed-address %s;
%s}
""" % (net.network_address, net.netmask, mac, guest_ip, root)


def dhcpd_argv(conf_text, work, interface):
    """ISC dhcpd in the foreground on @interface, logging to stderr, its
    config (@conf_text), leases and pid file in @work."""
    conf = write(os.path.join(work, "dhcpd.conf"), conf_text)
    leases = write(os.path.join(work, "dhcpd.leases"), "")
    return [find_program("dhcpd"), "-4", "-d", "-f", "-cf", conf,
            "-lf", leases, "-pf", os.path.join(work, "dhcpd.pid"), interface]


# ---------------------------------------------------------- TFTP servers

def tftpd_hpa_argv(ip, root, work):
    """tftpd-hpa in the foreground on @ip only, chrooted into @root."""
    return [find_program("in.tftpd"), "-L", "-4", "-a", ip + ":69",
            "-u", "root", "-P", os.path.join(work, "tftpd-hpa.pid"),
            "-v", "-s", root]


def atftpd_argv(ip, root, logfile="/dev/null", verbose=None, user=None,
                pidfile=None, no_multicast=False, windowsize=True):
    """atftpd standalone in the foreground on @ip only, serving @root.

    @logfile ("-": stdout), --verbose=@verbose, --user @user (default:
    atftpd's, nobody, who must be able to read @root), @pidfile,
    @no_multicast, and without @windowsize no RFC 7440."""
    argv = [find_program("atftpd"), "--daemon", "--no-fork",
            "--bind-address", ip, "--port", "69", "--logfile", logfile]
    if verbose is not None:
        argv.append("--verbose=%d" % verbose)
    if user:
        argv += ["--user", user]
    if no_multicast:
        argv.append("--no-multicast")
    if pidfile:
        argv += ["--pidfile", pidfile]
    if not windowsize:
        argv.append("--no-windowsize")
    return argv + [root]


# ----------------------------------------------------------- HTTP server

NGINX_CONF = """\
# Written by lab/servers.py: nginx serving one directory, as root, all
# of its files in @WORK@ (none under /etc or /var).
daemon off;
master_process on;
worker_processes 1;
user root;
pid @WORK@/nginx.pid;
error_log @WORK@/nginx-error.log info;
events { worker_connections 256; }
http {
    access_log @WORK@/nginx-access.log;
    client_body_temp_path @WORK@/nginx-tmp/body;
    proxy_temp_path @WORK@/nginx-tmp/proxy;
    fastcgi_temp_path @WORK@/nginx-tmp/fastcgi;
    uwsgi_temp_path @WORK@/nginx-tmp/uwsgi;
    scgi_temp_path @WORK@/nginx-tmp/scgi;
    default_type application/octet-stream;
    sendfile on;
    server {
        listen @IP@:@PORT@;
        root @ROOT@;
    }
}
"""


def nginx_argv(ip, root, work, port=80):
    """nginx in the foreground on @ip:@port only, serving @root; its
    config, logs (nginx-access.log, nginx-error.log) and pid in @work."""
    os.makedirs(os.path.join(work, "nginx-tmp"), exist_ok=True)
    conf = os.path.join(work, "nginx.conf")
    text = NGINX_CONF
    for key, val in (("@WORK@", work), ("@IP@", ip), ("@PORT@", str(port)),
                     ("@ROOT@", root)):
        text = text.replace(key, val)
    write(conf, text)
    return [find_program("nginx"), "-p", work + "/", "-e",
            os.path.join(work, "nginx-error.log"), "-c", conf]


def world_readable(root):
    """Make everything under @root readable by atftpd's user (nobody)."""
    for d, _dirs, names in os.walk(root):
        os.chmod(d, 0o755)
        for n in names:
            os.chmod(os.path.join(d, n), 0o644)


# ------------------------------------------------------------- starting

def listening(ns):
    """The UDP (address, port) pairs bound and the TCP ones listening
    inside @ns."""
    out = ns.run(["ss", "-Hlun4"], check=False, text=True).stdout
    out += ns.run(["ss", "-Hltn4"], check=False, text=True).stdout
    socks = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        addr, _, port = fields[3].rpartition(":")
        addr = addr.split("%")[0]  # 0.0.0.0%ptap0 (bound to a device)
        if port.isdigit():
            socks.add((addr, int(port)))
    return socks


def tail(path, n=20):
    """The last @n lines of a log file, for error messages."""
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-n:]) or "(empty log)"


def start(ns, plan, work, ready_s=READY_S):
    """Start the servers of @plan in @ns and wait until each listens.

    @plan: (name, argv, [(ip or None, port)]) per server; its output goes
    to @work/NAME.out, and it runs from the repository's root (so argv
    may be lab.module_argv()).  Returns {name: log path}.  Raises
    SetupError naming a server that exited or never opened its port,
    with its log's tail."""
    logs = {}
    waits = []
    for name, argv, ports in plan:
        log = os.path.join(work, name + ".out")
        logs[name] = log
        with open(log, "wb") as out:
            proc = ns.popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, cwd=ROOT)
        waits.append((name, proc, ports, log))
    deadline = time.monotonic() + ready_s
    for name, proc, ports, log in waits:
        while True:
            if proc.poll() is not None:
                raise SetupError("%s exited with status %s before it was "
                                 "ready:\n%s" % (name, proc.returncode,
                                                 tail(log)))
            socks = listening(ns)
            if all(any(p == port and (ip is None or a in (ip, "0.0.0.0"))
                       for a, p in socks) for ip, port in ports):
                break
            if time.monotonic() > deadline:
                raise SetupError("%s did not open %s within %d s:\n%s"
                                 % (name, ports, ready_s, tail(log)))
            time.sleep(POLL_S)
    return logs
