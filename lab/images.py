"""Builders and readers of the inputs Pulsar's tests feed it.

- random_bytes(): deterministic pseudo-random content (modules, files)
- multiboot headers: mb_header_offset(), with_mb_flags(), aout_span()
- ELF: Elf (a multiboot ELF32 kernel to break, valid by default),
  one_segment_kernel(), elf_span(), elf_text_crc(), patch_elf32(),
  patch_elf64_paddr()
- bzImage: BzImage (a Linux bzImage to break, valid by default),
  bzimage_like_debian(), setup_len(), patched()
- DHCP: bootp() (a BOOTP/DHCP packet), dhcp_option(), ipv4()
- cpio_newc(): an initramfs archive

tests/malformed/gen.py (and through it the fuzz seeds), tests/check/
run.py, the end-to-end cases, the fault server and scripts/bench build
their inputs here.  Standard library only.
"""

import random
import socket
import struct
import zlib

MB_MAGIC = 0x1BADB002        # in a kernel's multiboot header
MB_BOOT_MAGIC = 0x2BADB002   # in EAX when a multiboot kernel starts
PAGE = 4096
MIB = 1 << 20
DHCP_MAGIC = b"\x63\x82\x53\x63"


def random_bytes(seed, size):
    """Deterministic pseudo-random content: the same bytes every run.
    Made 16 MiB at a time (randbytes takes at most 2^31 bits); the
    chunks are whole 32-bit words, so the bytes do not depend on it."""
    rng = random.Random(seed)
    chunks, left = [], size
    while left:
        chunks.append(rng.randbytes(min(left, 16 * MIB)))
        left -= len(chunks[-1])
    return b"".join(chunks)


def align_up(value, align):
    """@value rounded up to a multiple of @align."""
    return (value + align - 1) // align * align


def le32(v):
    """@v as 4 little-endian bytes (wrapped to 32 bits)."""
    return struct.pack("<I", v & 0xFFFFFFFF)


# ------------------------------------------------------------ multiboot

def mb_header_offset(image):
    """File offset of the valid multiboot header in @image's first 8 KiB,
    or ValueError."""
    for off in range(0, min(len(image), 8192) - 11, 4):
        magic, flags, csum = struct.unpack_from("<3I", image, off)
        if magic == MB_MAGIC and (magic + flags + csum) & 0xFFFFFFFF == 0:
            return off
    raise ValueError("no multiboot header")


def has_multiboot_header(image):
    """True if @image has a valid multiboot header in its first 8 KiB."""
    try:
        mb_header_offset(image)
    except ValueError:
        return False
    return True


def with_mb_flags(image, extra):
    """@image with header flags |= @extra and the checksum fixed."""
    b = bytearray(image)
    off = mb_header_offset(b)
    flags = struct.unpack_from("<I", b, off + 4)[0] | extra
    struct.pack_into("<II", b, off + 4, flags,
                     (-(MB_MAGIC + flags)) & 0xFFFFFFFF)
    return bytes(b)


def aout_span(image):
    """[load_addr, bss_end_addr) of an a.out kludge image."""
    off = mb_header_offset(image)
    _h, load, load_end, bss_end, _e = struct.unpack_from("<5I", image,
                                                         off + 12)
    return load, bss_end or load_end


# ------------------------------------------------------------------ ELF

def elf32_segments(image):
    """(p_type, p_offset, p_paddr, p_filesz, p_memsz) of each program
    header of the ELF32 @image."""
    phoff, = struct.unpack_from("<I", image, 0x1C)
    phentsize, phnum = struct.unpack_from("<HH", image, 0x2A)
    for i in range(phnum):
        (p_type, off, _vaddr, paddr, filesz, memsz, _flags,
         _align) = struct.unpack_from("<8I", image, phoff + i * phentsize)
        yield p_type, off, paddr, filesz, memsz


def elf_span(image):
    """[start, end) of an ELF32 image's loadable segments (physical)."""
    if image[:4] != b"\x7fELF" or image[4] != 1:
        raise ValueError("not an ELF32 file")
    start, end = None, None
    for p_type, _off, paddr, _filesz, memsz in elf32_segments(image):
        if p_type == 1 and memsz:  # PT_LOAD
            start = paddr if start is None else min(start, paddr)
            end = paddr + memsz if end is None else max(end, paddr + memsz)
    if start is None:
        raise ValueError("no loadable segment")
    return start, end


def elf_text_crc(image):
    """CRC-32 of the ELF32 @image's first file-backed loadable segment."""
    for p_type, off, _paddr, filesz, _memsz in elf32_segments(image):
        if p_type == 1 and filesz:
            return zlib.crc32(image[off:off + filesz]) & 0xFFFFFFFF
    raise ValueError("no file-backed segment")


def patch_elf32(image, entry=None, phdr=None):
    """@image (ELF32) with e_entry and/or program header fields changed:
    @phdr = (index, field offset, value)."""
    b = bytearray(image)
    if entry is not None:
        struct.pack_into("<I", b, 24, entry)
    if phdr is not None:
        idx, field, value = phdr
        phoff, = struct.unpack_from("<I", b, 28)
        phentsize, = struct.unpack_from("<H", b, 42)
        struct.pack_into("<I", b, phoff + idx * phentsize + field, value)
    return bytes(b)


def patch_elf64_paddr(image, idx, paddr):
    """@image (ELF64) with program header @idx's p_paddr set."""
    b = bytearray(image)
    phoff, = struct.unpack_from("<Q", b, 32)
    phentsize, = struct.unpack_from("<H", b, 54)
    struct.pack_into("<Q", b, phoff + idx * phentsize + 24, paddr)
    return bytes(b)


class Elf:
    """An ELF32 multiboot kernel to break: a valid one by default.

    Layout: ELF header, program headers at @phoff, the multiboot header
    at 0x200, each segment's bytes at its p_offset (0x1000 on), filled
    with a pattern (zeros without @fill)."""

    def __init__(self):
        self.ident = bytearray(b"\x7fELF\x01\x01\x01" + bytes(9))
        self.etype, self.machine = 2, 3
        self.entry = 0x100000
        self.phoff, self.phentsize = 52, 32
        self.phnum = None  # None: the number of segments
        # (type, offset, vaddr, paddr, filesz, memsz)
        self.segs = [[1, 0x1000, 0x100000, 0x100000, 0x800, 0x1000]]
        self.mb_at, self.mb_flags, self.mb_sum_delta = 0x200, 3, 0
        self.mb_addr = None  # a.out kludge fields
        self.mb_video = None  # mode_type, width, height, depth
        self.size = None     # cut the file here
        self.fill = True

    def seg(self, paddr, filesz, memsz, offset=None, vaddr=None, typ=1):
        """Add a segment (after the last one in the file by default)."""
        if offset is None:
            last = self.segs[-1] if self.segs else [0, 0x1000, 0, 0, 0, 0]
            offset = (last[1] + last[4] + PAGE - 1) // PAGE * PAGE
        self.segs.append([typ, offset, paddr if vaddr is None else vaddr,
                          paddr, filesz, memsz])
        return self

    def build(self):
        end = 0x200 + 48
        for s in self.segs:
            if s[1] + s[4] < 1 << 24:
                end = max(end, s[1] + s[4])
        img = bytearray(end)
        for s in self.segs:
            if self.fill and s[1] + s[4] < 1 << 24:
                for i in range(s[1], s[1] + s[4]):
                    img[i] = (i * 7 + (i >> 8)) % 0xA0 + 1
        phnum = len(self.segs) if self.phnum is None else self.phnum
        hdr = bytes(self.ident) + struct.pack(
            "<HHIIIIIHHHHHH", self.etype, self.machine, 1, self.entry,
            self.phoff, 0, 0, 52, self.phentsize, phnum, 0, 0, 0)
        img[0:52] = hdr
        for i, s in enumerate(self.segs):
            at = self.phoff + i * self.phentsize
            if at + 32 <= len(img):
                img[at:at + 32] = struct.pack("<8I", *s, 5, PAGE)
        mb = le32(MB_MAGIC) + le32(self.mb_flags) + le32(
            -(MB_MAGIC + self.mb_flags) + self.mb_sum_delta)
        if self.mb_addr or self.mb_video:
            mb += b"".join(le32(v) for v in self.mb_addr or [0] * 5)
        if self.mb_video:
            mb += b"".join(le32(v) for v in self.mb_video)
        if self.mb_at is not None:
            img[self.mb_at:self.mb_at + len(mb)] = mb
        if self.size is not None:
            img = img[:self.size]
        return bytes(img)


def one_segment_kernel(addr, memsz):
    """A one-segment multiboot ELF32: header at 0x1000, 0x100 bytes of
    file (zeros), @memsz bytes in memory at @addr, entry 0x10 into it."""
    e = Elf()
    e.entry = addr + 0x10
    e.segs = [[1, 0x1000, addr, addr, 0x100, memsz]]
    e.mb_at = 0x1000
    e.fill = False
    return e.build()


def mb2_header(tags):
    """A Multiboot2 header (spec 2.0 section 3.1) with @tags, a list of
    (type, flags, [u32 words]), and the end tag."""
    body = b""
    for typ, flags, words in tags + [(0, 0, [])]:
        tag = struct.pack("<HHI", typ, flags, 8 + 4 * len(words)) + \
            b"".join(struct.pack("<I", w) for w in words)
        body += tag + b"\0" * (-len(tag) % 8)
    hlen = 16 + len(body)
    return struct.pack("<IIII", 0xE85250D6, 0, hlen,
                       (-(0xE85250D6 + hlen)) & 0xFFFFFFFF) + body


def mb2_kernel(addr, memsz, reloc=None, keep_mb1=False, efi_bs=False,
               efi64_entry=None):
    """one_segment_kernel with a Multiboot2 header: in place of the
    Multiboot 1 one, or after it (@keep_mb1: both headers, as Xen).
    @reloc: (min, max, align, preference) for a relocatable tag; @efi_bs:
    the EFI boot services tag (7); @efi64_entry: an amd64 EFI entry tag
    (9) with that address."""
    data = bytearray(one_segment_kernel(addr, memsz))
    tags = [(10, 0, list(reloc))] if reloc else []
    tags += [(7, 0, [])] if efi_bs else []
    tags += [(9, 0, [efi64_entry])] if efi64_entry is not None else []
    hdr = mb2_header(tags)
    at = 0x1010 if keep_mb1 else 0x1000
    if not keep_mb1:
        data[0x1000:0x100C] = bytes(12)
    data[at:at + len(hdr)] = hdr
    return bytes(data)


# -------------------------------------------------------------- bzImage

class BzImage:
    """A Linux bzImage to break: a valid protocol 2.10 one by default
    (4 setup sectors, 0x3000 bytes of protected-mode kernel).  With
    @content the file is those bytes with the header written over them."""

    def __init__(self):
        self.setup_sects = 4
        self.version = 0x020A
        self.boot_flag = 0xAA55
        self.magic = b"HdrS"
        self.loadflags = 0x01            # LOADED_HIGH
        self.syssize = 0x3000 // 16
        self.code32_start = 0x100000
        self.initrd_addr_max = 0x7FFFFFFF
        self.kernel_alignment = 0x200000
        self.relocatable = 1
        self.cmdline_size = 255
        self.pref_address = 0x1000000
        self.init_size = 0x800000
        self.kernel_len = 0x3000
        self.size = None
        self.content = None

    def build(self):
        if self.content is not None:
            img = bytearray(self.content)
        else:
            sects = self.setup_sects or 4
            img = bytearray((sects + 1) * 512 + self.kernel_len)
            for i in range(512, len(img)):
                img[i] = (i * 11 + (i >> 9)) % 251
        img[0x1F1] = self.setup_sects
        struct.pack_into("<I", img, 0x1F4, self.syssize)
        struct.pack_into("<H", img, 0x1FE, self.boot_flag)
        img[0x202:0x206] = self.magic
        struct.pack_into("<H", img, 0x206, self.version)
        img[0x211] = self.loadflags
        struct.pack_into("<I", img, 0x214, self.code32_start)
        struct.pack_into("<I", img, 0x22C, self.initrd_addr_max)
        struct.pack_into("<I", img, 0x230, self.kernel_alignment)
        img[0x234] = self.relocatable
        struct.pack_into("<I", img, 0x238, self.cmdline_size)
        struct.pack_into("<Q", img, 0x258, self.pref_address)
        struct.pack_into("<I", img, 0x260, self.init_size)
        if self.size is not None:
            img = img[:self.size]
        return bytes(img)


def bzimage_like_debian(size, efi_stub=False):
    """@size bytes of a Linux bzImage as Debian's kernel has its header:
    boot protocol 2.15, 4 setup sectors, LOADED_HIGH, relocatable with
    2 MiB alignment, pref_address 16 MiB, init_size 32 MiB, cmdline_size
    2047; the rest pseudo-random.  @efi_stub: with the headers that make
    it an x86-64 EFI stub image ("MZ", e_lfanew 0x40, "PE\\0\\0", machine
    0x8664), as pulsar.efi tells one; no PE sections behind them."""
    b = BzImage()
    b.content = random.Random(size).randbytes(size)
    b.syssize = (size - 5 * 512) // 16
    b.version = 0x020F
    b.cmdline_size = 2047
    b.init_size = 0x2000000
    image = b.build()
    if efi_stub:
        image = bytearray(image)
        image[0:2] = b"MZ"
        struct.pack_into("<I", image, 0x3C, 0x40)
        image[0x40:0x46] = b"PE\0\0" + struct.pack("<H", 0x8664)
        image = bytes(image)
    return image


def setup_len(image):
    """Bytes of boot sector + setup: setup_sects, where 0 means 4."""
    sects = image[0x1F1] or 4
    return (sects + 1) * 512


def patched(image, offset, fmt, value):
    """A copy of @image with one header field (struct @fmt) changed."""
    b = bytearray(image)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


# ----------------------------------------------------------------- DHCP

def ipv4(text):
    """Dotted-quad @text as 4 bytes."""
    return socket.inet_aton(text)


def dhcp_option(code, value):
    """One DHCP option: code, length, @value."""
    return bytes([code, len(value)]) + value


def bootp(op=2, hlen=6, xid=b"\0\0\0\0", flags=b"\0\0", yiaddr="0.0.0.0",
          siaddr="0.0.0.0", chaddr=b"", sname=b"", file=b"", options=None,
          pad_to=0):
    """A BOOTP packet (Ethernet): the 236-byte header, then, unless
    @options is None, the DHCP magic cookie and @options as given (the
    caller adds END); zero-padded to @pad_to bytes."""
    p = bytearray(236)
    p[0], p[1], p[2] = op, 1, hlen
    p[4:8] = xid
    p[10:12] = flags
    p[16:20] = ipv4(yiaddr)
    p[20:24] = ipv4(siaddr)
    p[28:28 + len(chaddr)] = chaddr
    p[44:44 + len(sname)] = sname
    p[108:108 + len(file)] = file
    if options is not None:
        p += DHCP_MAGIC + options
    p += bytes(max(0, pad_to - len(p)))
    return bytes(p)


# ----------------------------------------------------------------- cpio

def cpio_newc(entries):
    """A cpio archive in the newc format Linux unpacks.  @entries: (path,
    mode, data, (rdev major, rdev minor)).  Ends with the trailer, padded
    to 4 bytes like every record."""
    out = bytearray()
    for ino, (path, mode, data, rdev) in enumerate(
            entries + [("TRAILER!!!", 0, b"", (0, 0))], 1):
        name = path.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
                  len(name), 0)
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + name
        out += b"\0" * (align_up(len(out), 4) - len(out))
        out += data
        out += b"\0" * (align_up(len(out), 4) - len(out))
    return bytes(out)


# ---------------------------------------------------------- EFI programs

def efi_app(size, machine=0x8664, subsystem=10, magic=0x20B):
    """@size bytes (at least 0x400) of a PE32+ EFI application as `chld` on
    UEFI checks it (loader/pe.c): MZ, e_lfanew 0x40, one .text section
    from file offset 0x200 to the end, mapped at 0x1000, entry there;
    @machine, @subsystem and the optional header's @magic may be changed
    to break it.  The section's bytes are pseudo-random."""
    assert size >= 0x400
    raw = size - 0x200
    b = bytearray(random.Random(size).randbytes(size))
    b[0:0x200] = bytes(0x200)
    struct.pack_into("<2s58xI", b, 0, b"MZ", 0x40)
    # PE signature, COFF header: 1 section, 240-byte optional header,
    # executable image.
    struct.pack_into("<4sHHIIIHH", b, 0x40, b"PE\0\0", machine, 1, 0, 0, 0,
                     240, 0x0022)
    opt = 0x58
    image = 0x1000 + (raw + 0xFFF) // 0x1000 * 0x1000
    struct.pack_into("<HBBIIIII", b, opt, magic, 2, 0, raw, 0, 0, 0x1000,
                     0x1000)
    struct.pack_into("<QII", b, opt + 24, 0, 0x1000, 0x200)
    struct.pack_into("<II", b, opt + 56, image, 0x200)
    struct.pack_into("<H", b, opt + 68, subsystem)
    struct.pack_into("<I", b, opt + 108, 16)
    struct.pack_into("<8sIIII", b, opt + 240, b".text", raw, 0x1000, raw,
                     0x200)
    return bytes(b)
