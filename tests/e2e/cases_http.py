"""Files over HTTP from a real web server (issue 14): Debian's nginx in
the test's namespace serves the TFTP tree at http://10.77.0.1/, and
Pulsar (the BIOS NBP, on QEMU's iPXE ROM) fetches through iPXE's PXE
file API whatever the config names by URL.

- http-nginx: DHCP option 210 (the path prefix) is
  http://10.77.0.1/nova/, so the config itself comes over HTTP (not
  root-path: iPXE takes an http:// root-path for a SAN disk to attach
  before it runs the boot file, and never gets to Pulsar), then the kernel and a module; the config's
  `root demo` switches to TFTP for a second module (on the NIC fast
  path: the ROM's stack and Pulsar's own driver take turns), and `root
  http://...` back to HTTP for a third.  Every value of the kernel's
  report is checked (sizes, CRC-32s, cmdlines), and nginx's access log
  shows each HTTP file sent whole (status 200, its size) to the guest.
- http-404: a module nginx does not have: Pulsar's error names the
  config line, the URL and "not found on 10.77.0.1" (HTTP 404), and it
  starts over.
- http-cut: our own web server (lab.httpcut) resets the connection after
  1 MiB of a 6 MiB module, once: Pulsar says what happened and when it
  tries again, the second try loads it whole (its CRC-32 in the report),
  and the server's log shows the cut request and the whole one.

pulsar.efi under OVMF (q35, virtio-net without option ROM: OVMF's own
PXE boots it), fetching through the firmware's EFI_HTTP_PROTOCOL
(boot/efi/http.c), with the same layouts and checks:
- efi-http-nginx: as http-nginx, the kernel report checked as a UEFI
  boot's (EFI_FLAGS), nginx's log showing each HTTP file sent whole.
- efi-http-404: as http-404 (EDK2's EFI_HTTP_ERROR with status 404 is
  "not found on 10.77.0.1").
- efi-http-403: a `load` of a directory, which nginx forbids (403):
  the error names the line and the URL and says "HTTP 403 Forbidden".
- efi-http-cut: as http-cut; the retry line names the firmware's status
  and says the connection broke off.
- efi-ipxe-http: as efi-http-nginx under QEMU's e1000 ROM (iPXE's EFI
  driver under OVMF): the HTTP service binding is on the NIC there too.
"""

import os
import re

from lab import netboot

from . import harness
from .cases_servers import NetbootCase, expect_line

MIB = harness.MIB
WEB = "http://%s" % netboot.DHCP_IP

HTTP_CONFIG = """\
# Pulsar over HTTP: this config came from %(web)s/nova/
exec kernel.elf console=serial
load module1.bin over HTTP
root demo
load module2.bin over TFTP
root %(web)s/nova
load module3.bin over HTTP again
""" % {"web": WEB}


def http_layout(case, tmp):
    """nova/ on the web server (the config, the kernel, modules 1 and 3),
    demo/module2.bin on the TFTP server (the same tree)."""
    modules = {"module1.bin": harness.random_bytes(81, 3 * MIB + 5),
               "module2.bin": harness.random_bytes(82, 2 * MIB),
               "module3.bin": harness.random_bytes(83, 1 * MIB + 4097)}
    files = {"pulsar": open(case.opts.nbp, "rb").read(),
             "nova/kernel.elf": case.kernel(),
             "nova/module1.bin": modules["module1.bin"],
             "demo/module2.bin": modules["module2.bin"],
             "nova/module3.bin": modules["module3.bin"]}
    case.sizes = {"nova/" + harness.CONFIG_NAME: len(HTTP_CONFIG),
                  "nova/kernel.elf": len(case.kernel()),
                  "nova/module1.bin": len(modules["module1.bin"]),
                  "nova/module3.bin": len(modules["module3.bin"])}
    return {"tftp": files, "config": HTTP_CONFIG, "modules": modules,
            "netboot": {"server": "dnsmasq",
                        "dhcp_options": ["210,%s/nova/" % WEB],
                        "http": os.path.join(tmp, "tftp")}}


ACCESS_RE = re.compile(r'^(\S+) \S+ \S+ \[[^]]*\] "GET (\S+) HTTP/1\.[01]" '
                       r'(\d+) (\d+) ')


def access_log(case):
    """nginx's access log as (client, path, status, bytes) tuples."""
    out = []
    for line in case.log("nginx-access.log").splitlines():
        m = ACCESS_RE.match(line)
        if m:
            out.append((m.group(1), m.group(2), int(m.group(3)),
                        int(m.group(4))))
    return out


def check_http(case, res, lines, ck):
    """The facts line, the config over HTTP (found under option 210's
    prefix), and nginx sending each HTTP
    file whole to the guest (never the TFTP one)."""
    expect_line(ck, lines, "pulsar: mac %s ip %s tftp %s root-path ''" % (
        harness.MAC, netboot.GUEST_IP, netboot.DHCP_IP))
    expect_line(ck, lines, "pulsar: config %s/nova/%s from %s: %d bytes" % (
        WEB, harness.CONFIG_NAME, netboot.DHCP_IP, len(HTTP_CONFIG)))
    got = access_log(case)
    for rel, size in case.sizes.items():
        ck.expect((netboot.GUEST_IP, "/" + rel, 200, size) in got,
                  "nginx-access.log shows no GET /%s -> 200, %d bytes to "
                  "%s (it has: %s)" % (rel, size, netboot.GUEST_IP, got))
    ck.expect(not any(p.endswith("module2.bin") for _c, p, _s, _n in got),
              "module2.bin (a TFTP path) was asked of nginx")


def missing_layout(case, tmp):
    """The demo over HTTP, with a `load` of a file nginx does not have."""
    lay = http_layout(case, tmp)
    lay["config"] = HTTP_CONFIG.replace("load module1.bin over HTTP\n",
                                        "load module1.bin over HTTP\n"
                                        "load nothere.bin\n")
    return lay


def check_missing(case, res, lines, ck):
    """The error names the line, the URL and the web server."""
    expect_line(ck, lines, "pulsar: error: %s/nova/%s:4: load: %s/nova/"
                "nothere.bin: not found on %s" % (WEB, harness.CONFIG_NAME,
                                                  WEB, netboot.DHCP_IP))
    ck.expect((netboot.GUEST_IP, "/nova/nothere.bin", 404) in
              [g[:3] for g in access_log(case)],
              "nginx-access.log shows no 404 for /nova/nothere.bin")


CUT_AT = 1 * MIB
# QEMU's e1000 option ROM: iPXE with its EFI driver
IPXE_EFI_E1000 = "/usr/lib/ipxe/qemu/efi-e1000.rom"


def cut_layout(case, tmp):
    """The HTTP demo from lab.httpcut, module1's transfer cut once after
    1 MiB: each face fetches a file with one GET per try."""
    lay = http_layout(case, tmp)
    big = harness.random_bytes(84, 6 * MIB + 3)
    lay["modules"]["module1.bin"] = big
    lay["tftp"]["nova/module1.bin"] = big
    lay["netboot"]["http_cut"] = ["nova/module1.bin=%d:1" % CUT_AT]
    case.big = len(big)
    return lay


def check_cut(case, res, lines, ck, efi=False):
    """Pulsar's retry line, and the server's log: cut, then whole."""
    want = ("pulsar: %s/nova/module1.bin: transfer from %s failed after "
            % (WEB, netboot.DHCP_IP))
    hit = [ln for ln in lines if ln.startswith(want)]
    ck.expect(hit, "no line starting %r" % want)
    if hit:
        why = (r"HTTP body: EFI_\w+: the connection broke off" if efi else
               r"FILE_READ: PXE status 0x39: connection cut, or an "
               r"HTTP error status")
        ck.expect(re.search(r"failed after \d+ of %d bytes \(%s\); try 2 of "
                            r"3 in 1 s$" % (case.big, why), hit[0]),
                  "unexpected retry line %r" % hit[0])
    log = case.log("httpcut.out")
    ck.expect("GET /nova/module1.bin -> 200, %d of %d bytes, cut"
              % (CUT_AT, case.big) in log, "httpcut.out shows no cut")
    ck.expect("GET /nova/module1.bin -> 200, %d bytes" % case.big in log,
              "httpcut.out shows no whole second transfer")


# ------------------------------------------------- pulsar.efi over HTTP

def forbidden_layout(case, tmp):
    """The demo over HTTP, with a `load` of a directory: nginx answers 403
    Forbidden (no index file, no autoindex)."""
    lay = http_layout(case, tmp)
    lay["config"] = HTTP_CONFIG.replace("load module1.bin over HTTP\n",
                                        "load module1.bin over HTTP\n"
                                        "load closed/\n")
    lay["tftp"] = dict(lay["tftp"], **{"nova/closed/keep.txt": b"x"})
    return lay


def check_forbidden(case, res, lines, ck):
    """The error names the line and the URL, and says access was denied
    with the status the web server sent."""
    want = "pulsar: error: %s/nova/%s:4: load: %s/nova/closed/: " % (
        WEB, harness.CONFIG_NAME, WEB)
    hit = [ln for ln in lines if ln.startswith(want)]
    ck.expect(hit, "no line starting %r" % want)
    if hit:
        ck.expect("HTTP 403 Forbidden" in hit[0],
                  "the error does not name HTTP 403: %r" % hit[0])
    ck.expect((netboot.GUEST_IP, "/nova/closed/", 403) in
              [g[:3] for g in access_log(case)],
              "nginx-access.log shows no 403 for /nova/closed/")


def check_cut_efi(case, res, lines, ck):
    """As check_cut, with the firmware's words for the cut."""
    check_cut(case, res, lines, ck, efi=True)


def efi_layout(layout, **netboot_kw):
    """@layout for pulsar.efi under OVMF (its own PXE on virtio-net, no
    option ROM, unless @netboot_kw says otherwise): pulsar.efi is the boot
    file, and the kernel report is checked as a UEFI boot's."""
    def efi(case, tmp):
        # imported here: cases_efi imports much of the harness
        from .cases_efi import EFI_FLAGS
        lay = layout(case, tmp)
        files = dict(lay["tftp"])
        del files["pulsar"]
        files["pulsar.efi"] = open(case.opts.efi, "rb").read()
        lay["tftp"] = files
        lay["netboot"] = dict(lay["netboot"], firmware="efi", **netboot_kw)
        lay["exp"] = {"required_flags": EFI_FLAGS, "upper_near_top": False}
        return lay
    return efi


def cases(opts):
    return [
        NetbootCase(opts, "http-nginx", http_layout, check_http,
                    config_dir="nova"),
        NetbootCase(opts, "http-404", missing_layout, check_missing,
                    config_dir="nova", fails=True),
        NetbootCase(opts, "http-cut", cut_layout, check_cut,
                    config_dir="nova"),
        NetbootCase(opts, "efi-http-nginx", efi_layout(http_layout),
                    check_http, config_dir="nova"),
        NetbootCase(opts, "efi-http-404", efi_layout(missing_layout),
                    check_missing, config_dir="nova", fails=True),
        NetbootCase(opts, "efi-http-403", efi_layout(forbidden_layout),
                    check_forbidden, config_dir="nova", fails=True),
        NetbootCase(opts, "efi-http-cut", efi_layout(cut_layout),
                    check_cut_efi, config_dir="nova"),
        NetbootCase(opts, "efi-ipxe-http", efi_layout(
            http_layout, nic="e1000", romfile=IPXE_EFI_E1000),
            check_http, config_dir="nova"),
    ]
