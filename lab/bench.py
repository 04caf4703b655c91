"""Pulsar's load-speed benchmark: Pulsar against the other PXE loaders.

Every peer PXE-boots the same test kernel (build/testkernel.elf) with the
same module under the same QEMU (TCG, QEMU's iPXE ROMs), on BIOS on each
of four paths, each its own rows, compared with iPXE's own loader on that
path:

  fast       QEMU's e1000 under a hypervisor (CPUID's hypervisor bit):
             Pulsar drives the NIC itself (boot/bios/nic.h)
  e1000-pxe  the same e1000 with `-cpu qemu64,-hypervisor`, as on bare
             metal: Pulsar goes through the ROM's PXE API
  rtl8139    QEMU's rtl8139 (PXE API; hypervisor bit off)
  virtio     QEMU's virtio-net-pci (PXE API; hypervisor bit off)

The BIOS peers (PXELINUX and GRUB only on the first path, --peers):

  pulsar     build/pulsar with a one-module config (on QEMU's e1000 it
             uses its NIC fast path, boot/bios/nic.h)
  pulsar-pxe the same Pulsar built with the fast path compiled out
             (PULSAR_NO_NIC_FASTPATH: every packet through the PXE ROM,
             build/pxe/pulsar; not run by default: the e1000-pxe path
             shows the same with the build every user gets)
  ipxe       the ROM's own loader: an iPXE script (kernel/module/boot)
             served as the DHCP boot file
  pxelinux   PXELINUX + mboot.c32 (Debian's pxelinux, syslinux-common)
  grub       GRUB 2's netboot core.0 (grub-mknetdir, grub-pc-bin)

and, on UEFI (q35 with OVMF, a fresh copy of its variable store per run),
on two network stacks, `ovmf` (OVMF's own PXE on a virtio-net NIC without
option ROM, as a real UEFI machine does) and `ipxe-rom` (QEMU's iPXE EFI
ROM on an e1000):

  pulsar-efi build/pulsar.efi with the same config (its own TFTP client
             over the NIC's SNP, boot/efi/snp.c)
  pulsar-efi-mtftp  the same built with -DPULSAR_NO_SNP
             (build/mtftp/pulsar.efi): the PXE Base Code's Mtftp with
             BlockSize 1468, as pulsar.efi read before; on ovmf only
             (iPXE's PxeBc cannot tell a size)
  grub-efi   GRUB 2's x86_64-efi netboot core.efi (grub-mknetdir,
             grub-efi-amd64-bin: GRUB's own TFTP over its efinet)
  ipxe-efi   iPXE's EFI loader: on ipxe-rom the ROM runs an iPXE script
             served as the boot file; on ovmf Debian's snponly.efi, given
             that script by dnsmasq (user class iPXE), so only with the
             atftpd server (QEMU's DHCP has one boot file for everyone),
             unless --ipxe-snponly names a snponly.efi whose embedded
             script chains tftp://${next-server}/boot-efi.ipxe (built by
             hand from iPXE's source; the bench builds no iPXE)
             iPXE has no multiboot on UEFI: the script fetches the module
             (imgfetch) and chains read.efi (built here with gnu-efi,
             READ_EFI_C), which does what Pulsar's kernel does after
             Pulsar: it opens the module through the Simple File System
             iPXE puts on its DeviceHandle, reads it into pages of its
             own, prints its size and CRC-32 (checked as the kernel's)
             and exits.  Pulsar's row also leaves boot services and moves
             the kernel into place; iPXE's does not

from two servers:

  qemu       QEMU's built-in DHCP/TFTP (user networking)
  atftpd     dnsmasq (DHCP only) + atftpd in a private network namespace,
             QEMU attached through a tap device inside it (needs root)

Runs are interleaved (round 1: every peer once, round 2: again, ...) so a
burst of load from elsewhere hits all peers alike.  Each run is timed from
QEMU's start to its exit through isa-debug-exit; the test kernel's CRC-32
of the module must match the file's, or the run counts as a failure.  A
boot program that exits at once (built here with nasm) gives the baseline:
the time to reach the boot program, per path (each NIC's ROM starts in its
own time); on UEFI an EFI application that does the same (built here with
gnu-efi), per stack.  Reported per peer: the
median time minus the median baseline of its stack, MiB/s, the ratio to
iPXE and the ratio to the fastest peer of the same stack and server.  On
UEFI both medians count from the moment the stack prints that its DHCP
is done (STACK_MARKERS, watched in the serial log), when every run of
the setup showed it: OVMF's start under TCG takes 7-20 s and varies the
most under load, and every peer waits for it alike.

Then, unless --no-gzip, the compressed-image rows (lab/benchgz.py): Pulsar
on BIOS loads Debian's Xen 4.17 as shipped (`exec xen-4.17-amd64.gz`)
against the same Xen unpacked, and a 64 MiB initrd-like module with
`load --unzip` from its gzip against the plain file, each ratio printed.

    scripts/bench [--rounds N] [--sizes 64,256] [--servers qemu,atftpd]
                  [--paths fast,e1000-pxe,rtl8139,virtio]
                  [--peers pulsar,ipxe,pxelinux,grub]
                  [--efi-peers pulsar-efi,grub-efi,ipxe-efi]
                  [--stacks ovmf,ipxe-rom] [--ipxe-snponly PATH]
                  [--out build/bench] [--no-gzip] [--gzip-mib 64]

Writes OUT/results.md (a Markdown table), OUT/results.dat and
OUT/results.png (gnuplot), and OUT/runs.csv (every run; on UEFI also its
seconds since the stack's DHCP-done line).  Standard
library only, plus gnuplot (scripts/deps.sh --bench) and the tools the
peers need.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib

from lab import ROOT as TOP
from lab import benchgz, qemu, servers
from lab.images import random_bytes
from lab.netns import NetNS

MEM_MIB = 512  # QEMU's -m, raised to 4x the largest module (see main)
# One MAC per boot program, so one dnsmasq can hand each its boot file.
MACS = {"baseline": "52:54:00:12:34:50", "pulsar": "52:54:00:12:34:51",
        "ipxe": "52:54:00:12:34:52", "pxelinux": "52:54:00:12:34:53",
        "grub": "52:54:00:12:34:54", "pulsar-pxe": "52:54:00:12:34:55",
        "baseline-efi": "52:54:00:12:34:56",
        "pulsar-efi": "52:54:00:12:34:57", "grub-efi": "52:54:00:12:34:58",
        "ipxe-efi": "52:54:00:12:34:59",
        "pulsar-efi-mtftp": "52:54:00:12:34:5a"}
CONFIG_NAMES = ["config-" + MACS[p].replace(":", "-")
                for p in ("pulsar", "pulsar-pxe", "pulsar-efi",
                          "pulsar-efi-mtftp")]
MIB = 1 << 20
EXIT_OK = qemu.EXIT_OK
PEERS = ["pulsar", "pulsar-pxe", "ipxe", "pxelinux", "grub"]
DEFAULT_PEERS = ["pulsar", "ipxe", "pxelinux", "grub"]
NO_HV = "qemu64,-hypervisor"  # CPUID without the hypervisor bit
# The BIOS paths: name -> (QEMU NIC model, -cpu).  Only on the first do
# all peers run; elsewhere Pulsar and iPXE (PATH_PEERS), the point of the
# rows.
PATHS = {"fast": ("e1000", None), "e1000-pxe": ("e1000", NO_HV),
         "rtl8139": ("rtl8139", NO_HV), "virtio": ("virtio-net-pci", NO_HV)}
PATH_PEERS = ("pulsar", "ipxe")
SERVERS = ["qemu", "atftpd"]
EFI_PEERS = ["pulsar-efi", "pulsar-efi-mtftp", "grub-efi", "ipxe-efi"]
# UEFI network stacks: (NIC model, option ROM: "" none, None QEMU's iPXE).
STACKS = {"ovmf": ("virtio-net-pci", ""), "ipxe-rom": ("e1000", None)}
# What each UEFI stack prints once it has its DHCP lease, before it fetches
# the boot file: UEFI load times count from there (see summarize).
STACK_MARKERS = {"ovmf": b"Station IP address is",
                 "ipxe-rom": b"Next server:"}
GRUB_EFI = "/usr/lib/grub/x86_64-efi"
SNPONLY = "/usr/lib/ipxe/snponly.efi"
GNU_EFI = "/usr/lib"  # crt0-efi-x86_64.o, elf_x86_64_efi.lds, libgnuefi.a
GNU_EFI_INC = "/usr/include/efi"
READ_RE = re.compile(r"READ size=(\d+) crc32=(0x[0-9a-f]{8})")
NS_SERVER = "10.77.0.1"  # the namespace's server address (exists only there)
NS_RANGE = ("10.77.0.10", "10.77.0.50")
PXELINUX = "/usr/lib/PXELINUX/pxelinux.0"
SYSLINUX_BIOS = "/usr/lib/syslinux/modules/bios"
GRUB_PC = "/usr/lib/grub/i386-pc"
CRC_RE = benchgz.TK_MOD_RE  # the test kernel's line for module 0
PULSAR_FILE_RE = re.compile(r"pulsar: mod\d+\.bin: \d+ bytes at \S+, (in [^\r\n]*)")
PULSAR_WINDOW_RE = re.compile(r"pulsar: tftp \S+ grants ((?:windowsize|"
                              r"blksize) \d+, (?:blksize|windowsize) \d+"
                              r"(?: \(own TFTP over SNP\))?)")
PULSAR_FAST = "pulsar: fast path: driving"
PULSAR_WHOLE_RE = re.compile(r"pulsar: ROM TFTP: (\d+) of \d+ transfers whole")

EXIT_NBP_ASM = """\
; A boot program that leaves QEMU at once through isa-debug-exit: the
; bench's baseline (the time to reach the boot program).
bits 16
org 0x7c00
        mov     al, 0x10
        out     0xf4, al
.halt:  hlt
        jmp     .halt
"""


def log(msg):
    """Progress on stderr, so stdout stays the report."""
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ------------------------------------------------------------ the files

def module_bytes(size_mib):
    """The module: deterministic pseudo-random bytes (the same every run)."""
    return random_bytes(1000 + size_mib, size_mib * MIB)


def build_exit_nbp(path):
    """Assemble the baseline boot program."""
    src = path + ".asm"
    with open(src, "w") as f:
        f.write(EXIT_NBP_ASM)
    subprocess.run(["nasm", "-f", "bin", "-o", path, src], check=True)


EXIT_EFI_C = """\
/* The UEFI baseline: leave QEMU at once through isa-debug-exit. */
void efi_main(void *image, void *systab)
{
    (void)image, (void)systab;
    __asm__ volatile("outb %0, $0xf4" : : "a"((unsigned char)0x10));
    for (;;)
        __asm__ volatile("hlt");
}
"""


READ_EFI_C = r"""
/*
 * The ipxe-efi row's work after iPXE's own fetch, the same as Pulsar's
 * kernel does after Pulsar's: the module read into memory of its own and
 * its CRC-32 (the test kernel's slicing-by-4) printed, then out of QEMU
 * through isa-debug-exit.  iPXE's EFI loader gives the program it chains
 * a Simple File System on its DeviceHandle with the images it fetched,
 * each by its name; the name is the last word of the load options
 * ("read.efi mod64.bin").
 */
#include <efi.h>

static UINT32 crc_tab[4][256];
static EFI_SYSTEM_TABLE *sys;

/** Print ASCII @s on ConOut (OVMF mirrors it on COM1). */
static void say(const char *s)
{
    CHAR16 w[160];
    UINTN i = 0;

    for (; *s && i + 1 < sizeof(w) / sizeof(w[0]); s++)
        w[i++] = (CHAR16)*s;
    w[i] = 0;
    sys->ConOut->OutputString(sys->ConOut, w);
}

/** Leave QEMU: isa-debug-exit, @code 0x10 for success. */
static void __attribute__((noreturn)) leave(unsigned char code)
{
    __asm__ volatile("outb %0, $0xf4" : : "a"(code));
    for (;;)
        __asm__ volatile("hlt");
}

/** Say why and leave with a failure. */
static void __attribute__((noreturn)) fail(const char *why)
{
    say("READ failed: ");
    say(why);
    say("\r\n");
    leave(0x11);
}

/** The four tables of the reflected IEEE polynomial. */
static void crc_tables(void)
{
    for (UINT32 b = 0; b < 256; b++) {
        UINT32 v = b;
        for (int bit = 0; bit < 8; bit++)
            v = (v >> 1) ^ ((v & 1) ? 0xedb88320u : 0);
        crc_tab[0][b] = v;
    }
    for (int t = 1; t < 4; t++)
        for (UINT32 b = 0; b < 256; b++)
            crc_tab[t][b] = crc_tab[0][crc_tab[t - 1][b] & 0xff] ^
                            (crc_tab[t - 1][b] >> 8);
}

/** zlib's CRC-32 of @n bytes at @p, a 32-bit word a step. */
static UINT32 crc32_of(const UINT8 *p, UINT64 n)
{
    UINT32 c = ~0u;
    UINT64 i = 0;

    for (; i + 4 <= n; i += 4) {
        UINT32 w = c ^ (p[i] | p[i + 1] << 8 | p[i + 2] << 16 |
                        (UINT32)p[i + 3] << 24);
        c = crc_tab[0][w >> 24] ^ crc_tab[1][(w >> 16) & 0xff] ^
            crc_tab[2][(w >> 8) & 0xff] ^ crc_tab[3][w & 0xff];
    }
    for (; i < n; i++)
        c = (c >> 8) ^ crc_tab[0][(c ^ p[i]) & 0xff];
    return ~c;
}

/** @v in decimal (@hex 0) or as 8 hex digits, at the end of @buf. */
static char *num(char *end, UINT64 v, int hex)
{
    *--end = 0;
    for (int d = 0; hex ? d < 8 : (d == 0 || v); d++, v /= hex ? 16 : 10)
        *--end = "0123456789abcdef"[v % (hex ? 16 : 10)];
    return end;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    EFI_GUID li_guid = LOADED_IMAGE_PROTOCOL;
    EFI_GUID fs_guid = SIMPLE_FILE_SYSTEM_PROTOCOL;
    EFI_GUID info_guid = EFI_FILE_INFO_ID;
    EFI_LOADED_IMAGE *li;
    EFI_FILE_IO_INTERFACE *fs;
    EFI_FILE *root, *file;
    EFI_PHYSICAL_ADDRESS buf;
    UINT64 info[64];
    UINTN n = sizeof(info), len;
    CHAR16 *name, *opt;
    char text[24];

    sys = st;
    if (st->BootServices->HandleProtocol(image, &li_guid, (void **)&li))
        fail("no LoadedImage");
    opt = li->LoadOptions;
    if (!opt || li->LoadOptionsSize < 4)
        fail("no load options (the module's name)");
    name = opt;
    for (UINTN i = 0; i < li->LoadOptionsSize / 2 && opt[i]; i++)
        if (opt[i] == L' ' && opt[i + 1] && opt[i + 1] != L' ')
            name = &opt[i + 1];
    if (st->BootServices->HandleProtocol(li->DeviceHandle, &fs_guid,
                                         (void **)&fs))
        fail("no Simple File System on the DeviceHandle");
    if (fs->OpenVolume(fs, &root) ||
        root->Open(root, &file, name, EFI_FILE_MODE_READ, 0))
        fail("cannot open the module");
    if (file->GetInfo(file, &info_guid, &n, info))
        fail("GetInfo");
    len = ((EFI_FILE_INFO *)info)->FileSize;
    if (st->BootServices->AllocatePages(AllocateAnyPages, EfiLoaderData,
                                        (len + 4095) / 4096, &buf))
        fail("AllocatePages");
    n = len;
    if (file->Read(file, &n, (void *)buf) || n != len)
        fail("Read");
    crc_tables();
    say("READ size=");
    say(num(text + sizeof(text), len, 0));
    say(" crc32=0x");
    say(num(text + sizeof(text), crc32_of((const UINT8 *)buf, len), 1));
    say("\r\n");
    leave(0x10);
}
"""


def build_efi_program(path, source):
    """Build the UEFI program @source (C) at @path with gnu-efi's crt0
    and headers."""
    src, obj, so = path + ".c", path + ".o", path + ".so"
    with open(src, "w") as f:
        f.write(source)
    subprocess.run(["cc", "-c", "-O2", "-fpic", "-ffreestanding",
                    "-fshort-wchar", "-mno-red-zone", "-fno-stack-protector",
                    "-DGNU_EFI_USE_MS_ABI", "-I" + GNU_EFI_INC,
                    "-I" + GNU_EFI_INC + "/x86_64", "-o", obj, src],
                   check=True)
    subprocess.run(["ld", "-nostdlib", "-znocombreloc", "-shared",
                    "-Bsymbolic", "-T", GNU_EFI + "/elf_x86_64_efi.lds",
                    "-L" + GNU_EFI, GNU_EFI + "/crt0-efi-x86_64.o", obj,
                    "-lgnuefi", "-o", so], check=True)
    subprocess.run(["objcopy", "-j", ".text", "-j", ".sdata", "-j", ".data",
                    "-j", ".dynamic", "-j", ".dynsym", "-j", ".rel", "-j",
                    ".rela", "-j", ".reloc", "--target", "efi-app-x86_64",
                    "--subsystem=10", so, path], check=True)


def build_exit_efi(path):
    """Build the UEFI baseline program."""
    build_efi_program(path, EXIT_EFI_C)


def grub_netdir(root):
    """grub-mknetdir into @root; returns the core.0 path relative to it."""
    subprocess.run(["grub-mknetdir", "--net-directory=" + root,
                    "--subdir=boot/grub", "-d", GRUB_PC], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return "boot/grub/i386-pc/core.0"


def make_root(root, opts, modules):
    """Fill the shared TFTP root: every peer's files and the modules."""
    os.makedirs(root, exist_ok=True)
    shutil.copyfile(opts.nbp, os.path.join(root, "pulsar"))
    if "pulsar-pxe" in opts.peers:
        shutil.copyfile(opts.nbp_pxe, os.path.join(root, "pulsar-pxe"))
    shutil.copyfile(opts.kernel, os.path.join(root, "kernel.elf"))
    build_exit_nbp(os.path.join(root, "exit.nbp"))
    for name, path in modules.items():
        dst = os.path.join(root, name)
        if os.path.exists(dst):
            os.unlink(dst)
        try:
            os.link(path, dst)
        except OSError:
            shutil.copyfile(path, dst)
    shutil.copyfile(PXELINUX, os.path.join(root, "pxelinux.0"))
    for c32 in ("ldlinux.c32", "mboot.c32", "libcom32.c32"):
        shutil.copyfile(os.path.join(SYSLINUX_BIOS, c32),
                        os.path.join(root, c32))
    os.makedirs(os.path.join(root, "pxelinux.cfg"), exist_ok=True)
    grub_core = grub_netdir(root)
    if opts.efi_peers:
        shutil.copyfile(opts.efi, os.path.join(root, "pulsar.efi"))
        if "pulsar-efi-mtftp" in opts.efi_peers:
            shutil.copyfile(opts.efi_mtftp,
                            os.path.join(root, "pulsar-mtftp.efi"))
        build_exit_efi(os.path.join(root, "exit.efi"))
        build_efi_program(os.path.join(root, "read.efi"), READ_EFI_C)
        shutil.copyfile(SNPONLY, os.path.join(root, "snponly.efi"))
        if opts.ipxe_snponly:
            shutil.copyfile(opts.ipxe_snponly,
                            os.path.join(root, "snponly-own.efi"))
        subprocess.run(["grub-mknetdir", "--net-directory=" + root,
                        "--subdir=boot/grub", "-d", GRUB_EFI], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # atftpd serves as nobody: everything must be world-readable.
    for d, _dirs, files in os.walk(root):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    return {"pulsar": "pulsar", "pulsar-pxe": "pulsar-pxe",
            "ipxe": "boot.ipxe",
            "pxelinux": "pxelinux.0", "grub": grub_core,
            "baseline": "exit.nbp", "baseline-efi": "exit.efi",
            "pulsar-efi": "pulsar.efi", "pulsar-efi-mtftp": "pulsar-mtftp.efi",
            "grub-efi": "boot/grub/x86_64-efi/core.efi",
            "ipxe-efi": "boot-efi.ipxe"}


def bootfile_for(bootfiles, peer, stack, server):
    """The DHCP boot file of @peer on @stack from @server (iPXE on OVMF's
    own stack: snponly.efi first, which then asks for its script; from
    QEMU's DHCP, which has one boot file for all, the --ipxe-snponly
    build whose own script chains it)."""
    if peer == "ipxe-efi" and stack == "ovmf":
        return "snponly-own.efi" if server == "qemu" else "snponly.efi"
    return bootfiles[peer]


def write_configs(root, server, module):
    """Point every peer's config at @module on TFTP server @server."""
    files = {
        CONFIG_NAMES[0]: "exec kernel.elf bench\nload %s bench-module\n" % module,
        CONFIG_NAMES[1]: "exec kernel.elf bench\nload %s bench-module\n" % module,
        CONFIG_NAMES[2]: "exec kernel.elf bench\nload %s bench-module\n" % module,
        CONFIG_NAMES[3]: "exec kernel.elf bench\nload %s bench-module\n" % module,
        "boot-efi.ipxe": "#!ipxe\nimgfetch tftp://%s/%s\n"
                         "chain tftp://%s/read.efi %s\n"
                         % (server, module, server, module),
        "boot.ipxe": "#!ipxe\nkernel tftp://%s/kernel.elf bench\n"
                     "module tftp://%s/%s bench-module\nboot\n"
                     % (server, server, module),
        "pxelinux.cfg/default": "DEFAULT bench\nPROMPT 0\nTIMEOUT 0\n"
                                "LABEL bench\n  KERNEL mboot.c32\n"
                                "  APPEND kernel.elf bench --- %s "
                                "bench-module\n" % module,
        "boot/grub/grub.cfg": "set timeout=0\nmultiboot /kernel.elf bench\n"
                              "module /%s bench-module\nboot\n" % module,
    }
    for rel, text in files.items():
        path = os.path.join(root, rel)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)


# ------------------------------------------------------------- running

def qemu_args(log_path, net, peer, stack):
    """QEMU for @peer's run on @stack: COM1 into @log_path, network boot
    with the peer's MAC on the -netdev @net: BIOS on a path (PATHS: its
    NIC and -cpu), UEFI (OVMF, its variable store copied next to
    @log_path) as STACKS says."""
    if stack in PATHS:
        nic, cpu = PATHS[stack]
        return qemu.command(serial=log_path, mem=MEM_MIB, boot="n", net=net,
                            mac=MACS[peer], nic=nic, cpu=cpu)
    nic, romfile = STACKS[stack]
    return qemu.ovmf(None, log_path, os.path.dirname(log_path), nic=nic,
                     romfile=romfile, net=net, mem=MEM_MIB, mac=MACS[peer])


def first_sight(log_path, marker, pos, seen):
    """Look for @marker in @log_path from byte @pos on; returns the new
    position and @seen, or the time now when it is there."""
    try:
        with open(log_path, "rb") as f:
            f.seek(max(pos - len(marker), 0))
            chunk = f.read()
    except OSError:
        return pos, seen
    if seen is None and marker in chunk:
        seen = time.monotonic()
    return max(pos - len(marker), 0) + len(chunk), seen


def timed(argv, timeout, popen=subprocess.Popen, log_path=None, marker=None):
    """Run @argv; returns (exit status or None on timeout, seconds, and
    the seconds from the first sight of @marker (bytes) in @log_path to
    the end, or None).  The log is watched every 20 ms."""
    start = time.monotonic()
    proc = popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL, start_new_session=True)
    pos, seen = 0, None
    while True:
        if marker and seen is None:
            pos, seen = first_sight(log_path, marker, pos, seen)
        try:
            rc = proc.wait(0.02 if marker and seen is None else
                           max(timeout - (time.monotonic() - start), 0))
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() - start < timeout:
                continue
            rc = None
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
    end = time.monotonic()
    if marker and seen is None:
        pos, seen = first_sight(log_path, marker, pos, seen)
    return rc, end - start, end - seen if seen is not None else None


class QemuServer:
    """QEMU's built-in DHCP/TFTP server."""

    name = "qemu"
    address = "10.0.2.2"

    def __init__(self, root):
        self.root = root

    def run(self, peer, bootfile, log_path, timeout, stack):
        return timed(qemu_args(log_path, qemu.user_net(self.root, bootfile),
                               peer, stack), timeout, log_path=log_path,
                     marker=STACK_MARKERS.get(stack))

    def close(self):
        pass


class AtftpdServer:
    """dnsmasq (DHCP only) and atftpd in a private network namespace."""

    name = "atftpd"
    address = NS_SERVER

    def __init__(self, root, workdir, bootfiles):
        self.ns = NetNS(addrs=[NS_SERVER]).__enter__()
        self.ns.popen(
            servers.atftpd_argv(NS_SERVER, root, verbose=0),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        boots = [(bootfile, NS_SERVER, MACS[peer])
                 for peer, bootfile in bootfiles.items()
                 if peer != "ipxe-efi"]
        self.ns.popen(
            servers.dnsmasq_dhcp_argv(
                self.ns.tap, NS_RANGE[0], NS_RANGE[1],
                os.path.join(workdir, "leases"), boots, quiet=True,
                ipxe_two_step=(MACS["ipxe-efi"], "snponly.efi",
                               bootfiles["ipxe-efi"], NS_SERVER)),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # let both bind before QEMU asks

    def run(self, peer, bootfile, log_path, timeout, stack):
        return timed(["ip", "netns", "exec", self.ns.name] +
                     qemu_args(log_path, qemu.tap_net(self.ns.tap), peer,
                               stack), timeout, log_path=log_path,
                     marker=STACK_MARKERS.get(stack))

    def close(self):
        self.ns.close()


def check_run(peer, text, rc, want_size, want_crc):
    """None if the run booted the kernel with the right bytes, else why."""
    if peer.startswith("baseline"):
        return None if rc == EXIT_OK else "exit status %s" % rc
    if rc is None:
        return "timed out"
    m = (READ_RE if peer == "ipxe-efi" else CRC_RE).search(text)
    if not m:
        return "no `%s` line (exit status %s)" % (
            "READ" if peer == "ipxe-efi" else "TK mod 0", rc)
    size, crc = int(m.group(1)), int(m.group(2), 16)
    if size != want_size or crc != want_crc:
        return "module size %d crc32 %#010x, the file has %d %#010x" % (
            size, crc, want_size, want_crc)
    if rc != EXIT_OK:
        return "exit status %s" % rc
    return None


# ------------------------------------------------------------ reporting

def nbp_max():
    """The NBP's size limit, NBP_MAX in boot/bios/layout.h."""
    with open(os.path.join(TOP, "boot/bios/layout.h")) as f:
        m = re.search(r"#define NBP_MAX (\d+)", f.read())
    return int(m.group(1)) if m else 0


def load_avg():
    """The 1-minute load average, as a noise indicator."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return float("nan")


def seen_in_all(times):
    """@times (seconds since a stack's marker) when every run saw it."""
    return times if times and None not in times else None


def summarize(results, baselines, opts):
    """Rows: (setup, size, peer, n, median, load s, MiB/s, vs iPXE,
    spread, vs the fastest of the setup); a setup is a server and, on
    UEFI, a stack ("qemu", "qemu/ovmf").  The load time is the median
    minus the baseline's median; on UEFI, when every run of the setup
    showed the stack's marker (STACK_MARKERS: the firmware's DHCP is
    done), both medians count from there, which leaves the firmware's
    start (10-20 s of TCG, the noisiest part under load) out."""
    rows = []
    opts.counted_from = {}  # setup -> the baseline's median since its marker
    for setup in opts.setups:
        base = baselines.get(setup)
        if not base:
            continue
        b = statistics.median(base)
        b_since = seen_in_all(baselines.get((setup, "since")))
        since = {}
        for size in opts.sizes:
            for peer in opts.all_peers:
                if results.get((setup, size, peer)):
                    since[(size, peer)] = seen_in_all(
                        results.get((setup, size, peer, "since")))
        use_since = b_since and all(since.values())
        if use_since:
            b = opts.counted_from[setup] = statistics.median(b_since)
        for size in opts.sizes:
            loads = {}
            for peer in opts.all_peers:
                times = results.get((setup, size, peer), [])
                if not times:
                    continue
                med = statistics.median(times)
                load = (statistics.median(since[(size, peer)]) if use_since
                        else med)
                loads[peer] = (med, max(load - b, 1e-3),
                               max(times) - min(times), len(times))
            ipxe = loads.get("ipxe") or loads.get("ipxe-efi")
            fastest = min((v[1] for v in loads.values()), default=None)
            for peer in opts.all_peers:
                if peer not in loads:
                    continue
                med, load, spread, n = loads[peer]
                ratio = load / ipxe[1] if ipxe else float("nan")
                rows.append((setup, size, peer, n, med, load, size / load,
                             ratio, spread, load / fastest))
    return rows


def write_report(rows, baselines, failures, opts, meta):
    """results.md, results.dat, results.png; returns the Markdown text."""
    md = []
    md.append("| server | module | loader | runs | median total (s) ± half range | "
              "load time (s) | MiB/s | vs iPXE | vs fastest |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    for (server, size, peer, n, med, load, rate, ratio, spread,
         vs_fastest) in rows:
        md.append("| %s | %d MiB | %s | %d | %.2f ± %.2f | %.2f | %.1f | %s "
                  "| %.2fx |"
                  % (server, size, peer, n, med, spread / 2, load, rate,
                     "-" if ratio != ratio else "%.2fx" % ratio, vs_fastest))
    md.append("")
    for server in opts.setups:
        if baselines.get(server):
            b = baselines[server]
            md.append("- Baseline (%s, boot program reached): median %.2f s "
                      "of %d runs (%.2f-%.2f)." % (server,
                                                   statistics.median(b),
                                                   len(b), min(b), max(b)))
        if server in getattr(opts, "counted_from", {}):
            md.append("- Load times on %s count from the firmware's `%s` "
                      "(its DHCP done), the baseline's too: it reached its "
                      "boot program %.2f s after it (median)." % (
                          server, STACK_MARKERS[server.split("/")[1]]
                          .decode(), opts.counted_from[server]))
    md.append("- build/pulsar: %d bytes (limit %d, boot/bios/layout.h)."
              % (meta["nbp_size"], nbp_max()))
    for note in meta["notes"]:
        md.append("- " + note)
    for (server, size, peer), said in sorted(meta["pulsar_says"].items()):
        md.append("- %s's own line for the %d MiB module from %s (last "
                  "run): %s." % (peer, size, server, said))
    md.append("- Machine: %d CPUs, load average %.2f before and %.2f after; "
              "%d rounds interleaved; %s." % (
                  os.cpu_count(), meta["load_before"], meta["load_after"],
                  opts.rounds, meta["date"]))
    md += meta.get("gzip", [])
    if failures:
        md.append("")
        md.append("Failed runs (not counted):")
        for f in failures:
            md.append("- " + f)
    text = "\n".join(md) + "\n"
    with open(os.path.join(opts.out, "results.md"), "w") as f:
        f.write(text)
    plot(rows, opts)
    return text


def plot(rows, opts):
    """A clustered bar chart of MiB/s per loader, one cluster per setup."""
    dat = os.path.join(opts.out, "results.dat")
    setups = []
    for server, size, *_ in rows:
        if (server, size) not in setups:
            setups.append((server, size))
    with open(dat, "w") as f:
        f.write("setup " + " ".join(opts.all_peers) + "\n")
        for server, size in setups:
            vals = []
            for peer in opts.all_peers:
                r = [row for row in rows if row[:3] == (server, size, peer)]
                vals.append("%.2f" % r[0][6] if r else "NaN")
            f.write('"%s %d MiB" %s\n' % (server, size, " ".join(vals)))
    if not rows:
        return  # only the compressed-image rows: nothing to plot
    if not shutil.which("gnuplot"):
        log("bench: gnuplot is not installed (scripts/deps.sh --bench): "
            "no plot")
        return
    png = os.path.join(opts.out, "results.png")
    script = """
set terminal pngcairo size 900,500 noenhanced
set output '%s'
set title 'Loading the test kernel and a module over PXE (QEMU TCG)'
set ylabel 'MiB/s (module size / load time; higher is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top right
set grid ytics
set yrange [0:*]
plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)
""" % (png, len(opts.all_peers) + 1, dat)
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


# ---------------------------------------------------------------- main

def setup_name(server, stack):
    """"qemu/fast" for a BIOS path's rows, "qemu/ovmf" for a UEFI
    stack's."""
    return "%s/%s" % (server, stack)


def stack_peers(opts, stack):
    """The peers that run on @stack: on BIOS all of them on the first
    path, else only Pulsar and iPXE; on UEFI the UEFI peers."""
    if stack in STACKS:
        return opts.efi_peers
    if stack == opts.paths[0]:
        return opts.peers
    return [p for p in opts.peers if p in PATH_PEERS]


def run_round(srv, stack, rnd, opts, root, bootfiles, work, crcs, meta,
              results, baselines, failures, runs):
    """Round @rnd on server @srv and @stack: the baseline, then every
    peer of the stack on every size the round includes."""
    setup = setup_name(srv.name, stack)
    efi = stack in STACKS
    plan = [("baseline-efi" if efi else "baseline", None)]
    for size in opts.sizes:
        n = opts.rounds if size <= 64 else opts.big_rounds
        if rnd < n:
            plan += [(peer, size)
                     for peer in stack_peers(opts, stack)
                     if not (peer == "ipxe-efi" and stack == "ovmf"
                             and srv.name == "qemu"
                             and not opts.ipxe_snponly)
                     and not (peer == "pulsar-efi-mtftp"
                              and stack != "ovmf")]
    if len(plan) == 1 and rnd >= opts.rounds:
        return
    for peer, size in plan:
        if size:
            write_configs(root, srv.address, "mod%d.bin" % size)
        log_path = os.path.join(work, "serial.log")
        if os.path.exists(log_path):
            os.unlink(log_path)
        rc, secs, since = srv.run(
            peer, bootfile_for(bootfiles, peer, stack, srv.name), log_path,
            opts.timeout, stack)
        try:
            with open(log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            text = ""
        why = check_run(peer, text, rc, (size or 0) * MIB, crcs.get(size))
        what = "%s %s %s" % (setup, peer, "%d MiB" % size if size else "")
        if peer.startswith("pulsar"):
            m = PULSAR_FILE_RE.search(text)
            w = PULSAR_WINDOW_RE.search(text)
            if efi:
                how = w.group(1) if w else "Mtftp"
            else:
                how = ("NIC fast path" if PULSAR_FAST in text
                       else "PXE API")
                how += (", " + w.group(1) if w else
                        ", lock-step" if PULSAR_FAST in text
                        else ", the ROM's TFTP")
                whole = PULSAR_WHOLE_RE.search(text)
                if whole and int(whole.group(1)):
                    how += ", the module by READ_FILE"
            if m:
                meta["pulsar_says"][(setup, size, peer)] = (
                    "%s (%s)" % (m.group(1), how))
        runs.append((rnd + 1, setup, peer, size or 0, "%.3f" % secs,
                     why or "ok", "" if since is None else "%.3f" % since))
        if why:
            failures.append("%s, round %d: %s" % (what, rnd + 1, why))
            log("bench: round %d %s: FAILED: %s" % (rnd + 1, what, why))
            continue
        log("bench: round %d %-36s %6.2f s%s" % (
            rnd + 1, what, secs,
            "" if since is None else " (%.2f s after DHCP)" % since))
        # UEFI: also the time since the stack's marker (None: not seen).
        if size is None:
            baselines.setdefault(setup, []).append(secs)
            baselines.setdefault((setup, "since"), []).append(since)
        else:
            results.setdefault((setup, size, peer), []).append(secs)
            results.setdefault((setup, size, peer, "since"), []).append(
                since)


def main():
    ap = argparse.ArgumentParser(prog="bench",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--nbp", default=os.path.join(TOP, "build/pulsar"))
    ap.add_argument("--nbp-pxe", default=os.path.join(TOP, "build/pxe/pulsar"),
                    help="Pulsar without the NIC fast path (pulsar-pxe)")
    ap.add_argument("--kernel",
                    default=os.path.join(TOP, "build/testkernel.elf"))
    ap.add_argument("--out", default=os.path.join(TOP, "build/bench"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sizes", default="64",
                    help="module sizes in MiB, e.g. 64,256 (default 64)")
    ap.add_argument("--big-rounds", type=int, default=1,
                    help="rounds for modules over 64 MiB (default 1)")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--peers", default=",".join(DEFAULT_PEERS),
                    help="BIOS peers, of %s" % ",".join(PEERS))
    ap.add_argument("--paths", default=",".join(PATHS),
                    help="BIOS NIC paths, of %s (all peers run on the "
                    "first, Pulsar and iPXE on the others)" % ",".join(PATHS))
    ap.add_argument("--efi", default=os.path.join(TOP, "build/pulsar.efi"))
    ap.add_argument("--efi-mtftp",
                    default=os.path.join(TOP, "build/mtftp/pulsar.efi"),
                    help="pulsar.efi with Mtftp only (pulsar-efi-mtftp)")
    ap.add_argument("--efi-peers", default=",".join(EFI_PEERS),
                    help="UEFI peers (empty: no UEFI rows)")
    ap.add_argument("--stacks", default=",".join(STACKS),
                    help="UEFI network stacks: ovmf, ipxe-rom")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--gzip", action=argparse.BooleanOptionalAction,
                    default=True, help="the compressed-image rows "
                    "(lab/benchgz.py; default on)")
    ap.add_argument("--gzip-mib", type=int, default=64,
                    help="the gzip module's unpacked size (default 64)")
    ap.add_argument("--ipxe-snponly", metavar="PATH",
                    help="an iPXE snponly.efi whose embedded script chains "
                         "tftp://${next-server}/boot-efi.ipxe: the ipxe-efi "
                         "row on qemu/ovmf (not built here)")
    opts = ap.parse_args()
    opts.sizes = [int(s) for s in opts.sizes.split(",") if s]
    opts.servers = [s for s in opts.servers.split(",") if s]
    opts.peers = [p for p in opts.peers.split(",") if p]
    opts.paths = [p for p in opts.paths.split(",") if p]
    for p in opts.paths:
        if p not in PATHS:
            ap.error("unknown path %s" % p)
    opts.efi_peers = [p for p in opts.efi_peers.split(",") if p]
    opts.stacks = [s for s in opts.stacks.split(",") if s]
    opts.all_peers = opts.peers + opts.efi_peers
    for p in opts.efi_peers:
        if p not in EFI_PEERS:
            ap.error("unknown UEFI peer %s" % p)
    for st in opts.stacks:
        if st not in STACKS:
            ap.error("unknown UEFI stack %s" % st)
    for s in opts.servers:
        if s not in SERVERS:
            ap.error("unknown server %s" % s)
    for p in opts.peers:
        if p not in PEERS:
            ap.error("unknown peer %s" % p)
    if "atftpd" in opts.servers and os.geteuid() != 0:
        log("bench: atftpd needs root (network namespaces): skipped")
        opts.servers.remove("atftpd")
    for path in (opts.nbp, opts.kernel) + (
            (opts.nbp_pxe,) if "pulsar-pxe" in opts.peers else ()) + (
            (opts.efi,) if opts.efi_peers else ()) + (
            (opts.efi_mtftp,) if "pulsar-efi-mtftp" in opts.efi_peers
            else ()):
        if not os.path.isfile(path):
            ap.error("%s does not exist (make; make build/testkernel.elf; "
                     "make BUILD=build/pxe EXTRA_CFLAGS="
                     "-DPULSAR_NO_NIC_FASTPATH build/pxe/pulsar; make "
                     "BUILD=build/mtftp EXTRA_CFLAGS=-DPULSAR_NO_SNP "
                     "build/mtftp/pulsar.efi)" % path)
    if opts.ipxe_snponly and not os.path.isfile(opts.ipxe_snponly):
        ap.error("--ipxe-snponly: %s does not exist" % opts.ipxe_snponly)
    os.makedirs(opts.out, exist_ok=True)
    # iPXE keeps a module where it downloaded it and copies it into place
    # at boot: it needs room for both.  Every run gets the same -m.
    global MEM_MIB
    MEM_MIB = max(MEM_MIB, 4 * max(opts.sizes))

    modules, crcs = {}, {}
    for size in opts.sizes:
        name = "mod%d.bin" % size
        path = os.path.join(opts.out, name)
        data = module_bytes(size)
        if not (os.path.exists(path) and os.path.getsize(path) == len(data)):
            with open(path, "wb") as f:
                f.write(data)
        modules[name] = path
        crcs[size] = zlib.crc32(data) & 0xFFFFFFFF
        del data

    work = tempfile.mkdtemp(prefix="pulsar-bench-")
    os.chmod(work, 0o755)
    root = os.path.join(work, "tftp")
    bootfiles = make_root(root, opts, modules)
    meta = {"nbp_size": os.path.getsize(opts.nbp),
            "load_before": load_avg(), "pulsar_says": {}, "notes": [],
            "date": time.strftime("%Y-%m-%d %H:%M")}
    log("bench: build/pulsar is %d bytes; load average %.2f"
        % (meta["nbp_size"], meta["load_before"]))

    servers = []
    results, baselines, failures, runs = {}, {}, [], []
    try:
        for name in opts.servers:
            servers.append(QemuServer(root) if name == "qemu"
                           else AtftpdServer(root, work, bootfiles))
        stacks = (opts.paths if opts.peers else []) + (
            opts.stacks if opts.efi_peers else [])
        opts.setups = [setup_name(srv.name, st) for srv in servers
                       for st in stacks]
        if "ipxe-efi" in opts.efi_peers and "ovmf" in opts.stacks and \
                "qemu" in opts.servers and not opts.ipxe_snponly:
            meta["notes"].append(
                "No ipxe-efi row on qemu/ovmf: QEMU's DHCP hands every "
                "client one boot file, so snponly.efi cannot be given its "
                "script; see atftpd/ovmf.")
        max_rounds = max(opts.rounds, opts.big_rounds)
        for rnd in range(max_rounds):
            for srv in servers:
                for stack in stacks:
                    run_round(srv, stack, rnd, opts, root, bootfiles, work,
                              crcs, meta, results, baselines, failures,
                              runs)
        if opts.gzip:
            base = baselines.get(setup_name("qemu", "fast"))
            opts.mem_mib = MEM_MIB
            gz_md, gz_failures = benchgz.run(
                opts, root, work, MACS["pulsar"],
                statistics.median(base) if base else None,
                lambda b: zlib.crc32(b) & 0xFFFFFFFF, log)
            meta["gzip"] = gz_md
            failures += gz_failures
    finally:
        for srv in servers:
            srv.close()
        shutil.rmtree(work, ignore_errors=True)

    meta["load_after"] = load_avg()
    with open(os.path.join(opts.out, "runs.csv"), "w") as f:
        f.write("round,server,loader,module_mib,seconds,result,"
                "seconds_since_dhcp\n")
        for r in runs:
            f.write(",".join(str(x) for x in r) + "\n")
    rows = summarize(results, baselines, opts)
    text = write_report(rows, baselines, failures, opts, meta)
    sys.stdout.write(text)
    log("bench: wrote %s/results.md, results.png, runs.csv" % opts.out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
