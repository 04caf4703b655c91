"""QEMU for Pulsar: the one command-line builder and the serial watcher.

Every tool and test that starts QEMU builds its command line with
command(): TCG, no display, no monitor, no parallel port, no reboot, COM1
into a file (or a Unix socket), the isa-debug-exit device the test
kernels leave through (port 0xf4: exit status 33 is their success), and
optionally a NIC on QEMU's user network or on a tap device, booting from
the network.

    argv = qemu.command(serial=log, boot="n",
                        net=qemu.user_net(tftp_dir, "pulsar"))
    rc, text, secs, ended = qemu.run(argv, log, timeout=60)

run() starts QEMU and follows the serial log until QEMU exits, a stop
text shows, or the timeout passes (then QEMU is stopped).
"""

import codecs
import os
import re
import shutil
import signal
import subprocess
import sys
import time

QEMU = "qemu-system-x86_64"
MEM_MIB = 128
MAC = "52:54:00:12:34:56"
# The NIC models with an iPXE ROM in ipxe-qemu (the `nic-*` cases).
NICS = ("e1000", "e1000e", "rtl8139", "virtio-net-pci", "pcnet", "ne2k_pci",
        "vmxnet3")
EXIT_OK = 33          # isa-debug-exit: (0x10 << 1) | 1
DEBUG_EXIT = "isa-debug-exit,iobase=0xf4,iosize=0x04"
USER_SERVER = "10.0.2.2"   # QEMU user networking's host (DHCP and TFTP)
USER_GUEST = "10.0.2.15"   # the address it gives the guest
POLL_S = 0.1


def no_comma(path):
    """@path, or ValueError: QEMU option values cannot hold a comma."""
    if "," in path:
        raise ValueError("QEMU cannot take a comma in %s" % path)
    return path


def user_net(tftp=None, bootfile="pulsar", netdev_id="n0"):
    """-netdev for QEMU's user networking; with @tftp, its DHCP hands out
    @bootfile and its TFTP server serves @tftp."""
    spec = "user,id=" + netdev_id
    if tftp is not None:
        spec += ",tftp=%s,bootfile=%s" % (no_comma(tftp), bootfile)
    return ["-netdev", spec]


def tap_net(ifname, netdev_id="n0"):
    """-netdev for an existing tap device (lab.netns makes one)."""
    return ["-netdev", "tap,id=%s,ifname=%s,script=no,downscript=no"
            % (netdev_id, ifname)]


def command(serial=None, serial_socket=None, mem=MEM_MIB, accel="tcg",
            cpu=None, boot=None, net=None, nic="e1000", mac=MAC,
            romfile=None, pci_addr=None, nic_id=None, debug_exit=True,
            monitor="none", stopped=False, nodefaults=False, machine=None,
            bootindex=None, extra=()):
    """QEMU's command line.

    @serial: COM1 into this file; @serial_socket: COM1 on a Unix socket
    QEMU listens on (and waits for a client before the guest runs);
    neither: no serial port.  @mem MiB of RAM, @accel, @cpu (-cpu).
    @boot: -boot's order ("n": network, "d": CD-ROM).  @net: a -netdev
    (user_net(), tap_net()) and with it one NIC: model @nic with @mac
    (None: QEMU's), option ROM @romfile (None: QEMU's iPXE ROM, "": no
    ROM at all), PCI slot @pci_addr, device id @nic_id, boot order
    @bootindex; without @net QEMU adds its default
    NIC.  @machine: -M (None: QEMU's default, i440fx).  @debug_exit: the
    isa-debug-exit device.  @monitor, @stopped
    (-S), @nodefaults: for probing QEMU itself.  @extra: appended."""
    argv = [QEMU, "-accel", accel]
    if machine:
        argv += ["-M", machine]
    if stopped:
        argv.append("-S")
    argv += ["-m", str(mem), "-no-reboot", "-display", "none",
             "-monitor", monitor]
    if nodefaults:
        argv.append("-nodefaults")
    else:
        argv += ["-parallel", "none"]
    if serial_socket is not None:
        argv += ["-chardev", "socket,id=com1,path=%s,server=on,wait=on"
                 % no_comma(serial_socket), "-serial", "chardev:com1"]
    elif serial is not None:
        argv += ["-serial", "file:" + no_comma(serial)]
    if debug_exit:
        argv += ["-device", DEBUG_EXIT]
    if cpu:
        argv += ["-cpu", cpu]
    if boot:
        argv += ["-boot", boot]
    if net:
        netdev_id = net[1].split("id=", 1)[1].split(",", 1)[0]
        dev = "%s,netdev=%s" % (nic, netdev_id)
        if nic_id:
            dev += ",id=" + nic_id
        if pci_addr:
            dev += ",addr=" + pci_addr
        if mac:
            dev += ",mac=" + mac
        if romfile == "":
            dev += ",romfile="
        elif romfile:
            dev += ",romfile=" + no_comma(os.path.abspath(romfile))
        if bootindex is not None:
            dev += ",bootindex=%d" % bootindex
        argv += list(net) + ["-device", dev]
    return argv + list(extra)


def pxe(tftp_dir, serial, bootfile="pulsar", **kw):
    """command() for a PXE boot of @bootfile from @tftp_dir through QEMU's
    own DHCP/TFTP and an e1000 (the end-to-end cases' usual machine)."""
    return command(serial=serial, boot="n", net=user_net(tftp_dir, bootfile),
                   **kw)


# UEFI: Debian's OVMF (package ovmf), 4 MiB flash.  The code is read-only;
# the variable store is written by the firmware, so each run gets a copy.
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


def ovmf_flash(workdir):
    """The -drive arguments of OVMF's flash: the code read-only, a fresh
    copy of the variable store in @workdir."""
    vars_copy = os.path.join(workdir, "OVMF_VARS.fd")
    shutil.copyfile(OVMF_VARS, vars_copy)
    return ["-drive", "if=pflash,format=raw,readonly=on,file="
            + no_comma(OVMF_CODE),
            "-drive", "if=pflash,format=raw,file=" + no_comma(vars_copy)]


def ovmf(tftp_dir, serial, workdir, bootfile="pulsar.efi",
         nic="virtio-net-pci", romfile="", net=None, **kw):
    """command() for a UEFI network boot of @bootfile from @tftp_dir: q35
    with OVMF (a fresh copy of its variable store in @workdir), QEMU's own
    DHCP/TFTP (or @net: another -netdev, such as tap_net()), and a @nic
    first in the boot order.  @romfile "" (the default): no option ROM,
    so OVMF's own PXE drives the NIC, as a UEFI machine's firmware does;
    None: QEMU's iPXE ROM."""
    extra = ovmf_flash(workdir) + list(kw.pop("extra", ()))
    return command(serial=serial, machine="q35", bootindex=1,
                   net=net or user_net(tftp_dir, bootfile), nic=nic,
                   romfile=romfile, extra=extra, **kw)


def default_romfile(model):
    """The option ROM QEMU gives NIC @model when no romfile is named: a
    stopped QEMU (-S) is asked through its monitor (the default is set at
    realize time, so `-device MODEL,help` does not show it)."""
    out = subprocess.run(
        command(monitor="stdio", stopped=True, nodefaults=True,
                debug_exit=False, net=user_net(), nic=model, mac=None,
                nic_id="nic0"),
        input="qom-get /machine/peripheral/nic0 romfile\nquit\n",
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=60).stdout
    names = re.findall(r'"([^"\s]+\.rom)"', out)
    return names[-1] if names else None


def run(argv, serial_path, timeout=None, stop=None, echo=False,
        keep_cr=True, out_path=None, popen=subprocess.Popen,
        new_session=False):
    """Run QEMU until it exits, @stop shows in the serial log (a text, or
    a function of the log so far that says when), or @timeout seconds
    pass (None: no limit); then stop it if it still runs.

    QEMU's own output goes to @out_path (default serial_path + ".stderr").
    The log is polled; with @echo it is copied to stdout as it grows (a
    lone CR kept with @keep_cr, for Pulsar's progress line, else every CR
    dropped).  @popen starts the process (lab.netns.NetNS.popen runs it
    in a namespace); with @new_session QEMU gets its own process group,
    which is what is signalled.  Returns (exit status or None, log text,
    seconds (to the marker when stopped at it), how it ended: "exited",
    "stopped" or "timeout")."""
    if out_path is None:
        out_path = serial_path + ".stderr"
    start = time.monotonic()
    with open(out_path, "wb") as out:
        proc = popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                     stderr=subprocess.STDOUT, start_new_session=new_session)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    seen = ""
    pos = 0
    ended = "exited"

    def pump():
        """Read what the log gained since the last call."""
        nonlocal seen, pos
        try:
            with open(serial_path, "rb") as f:
                f.seek(pos)
                chunk = f.read()
        except FileNotFoundError:
            return
        pos += len(chunk)
        new = decoder.decode(chunk)
        seen += new
        if echo and new:
            sys.stdout.write(new.replace("\r\n", "\n") if keep_cr
                             else new.replace("\r", ""))
            sys.stdout.flush()

    try:
        while proc.poll() is None:
            pump()
            if stop and (stop(seen) if callable(stop) else stop in seen):
                ended = "stopped"
                stopped_at = time.monotonic() - start
                break
            if timeout and time.monotonic() - start > timeout:
                ended = "timeout"
                break
            time.sleep(POLL_S)
    finally:
        if proc.poll() is None:
            _signal(proc, signal.SIGTERM, new_session)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                _signal(proc, signal.SIGKILL, new_session)
                proc.wait()
    pump()
    # Stopped at a marker: the time it was seen, not after the kill.
    elapsed = (stopped_at if ended == "stopped"
               else time.monotonic() - start)
    rc = proc.returncode if ended == "exited" else None
    return rc, seen, elapsed, ended


def _signal(proc, sig, group):
    """Send @sig to @proc (its process group with @group)."""
    try:
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass
