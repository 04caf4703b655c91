"""A TFTP server that misbehaves on purpose, with a tiny DHCP responder.

Pulsar's fault tests (cases_faults.py, beside it) run it inside a
private network namespace (lab.netns) next to QEMU's tap.  It serves a
directory over TFTP (RFC 1350 with the option extension of RFC 2347,
blksize RFC 2348, tsize RFC 2349 and windowsize RFC 7440) and injects
faults chosen per file, deterministically, so each end-to-end case knows
exactly what went wrong.

    python3 -m tests.e2e.faultserver --root DIR --addr 10.77.0.1
        [--rules FILE] [--fault 'GLOB FAULT...'] [--log FILE]
        [--ignore-options] [--seed N]
        [--dhcp 10.77.0.15 [--dhcp-file pulsar] [--dhcp-siaddr IP]
         [--dhcp-option CODE=TEXT]...] [--max-seconds S] [--max-packets N]

Rules.  Each rule is a line `GLOB FAULT [FAULT...]`; the first rule whose
shell-style GLOB matches the requested path applies.  `#` starts a comment
line.  The rules file is read again whenever it changes, so a test can
break or repair the server while a boot is under way.  Faults:

    drop=N         do not send the first transmission of DATA block N
    drop-every=N   drop every Nth DATA transmission of the transfer
    dup=N          send DATA block N twice
    reorder=N      send DATA block N+1 before block N (then block N)
    delay=N:S      hold the first transmission of block N for S seconds
                   (no retransmission meanwhile)
    error=N[:CODE[:MESSAGE]]
                   send a TFTP ERROR instead of block N (default code 0,
                   message "injected fault"; no white space in it)
    stop=N         send blocks before N, then never answer this transfer
    short=N        end the file after its first N bytes but announce the
                   real size in tsize (a half-copied file)
    oversize=N[:X] make DATA block N carry X (default 512) bytes more than
                   the negotiated block size
    silent         never answer a request for this file at all
    missing        answer every request for this file with ERROR 1
                   (file not found) even if it exists
    lose=P         lose each DATA transmission and each ACK received with
                   probability P (0 to 1), at random from --seed: a lossy
                   network rather than one scripted fault
    times=K        the faults above act in at most K transfers of this
                   file, then it is served correctly (a transfer counts
                   once a fault acts in it, so a size probe that stops
                   after block 1 does not use one up unless a fault is at
                   block 1).  Default: every transfer.

With --ignore-options the server is a plain RFC 1350 one: it ignores
every option of a request (no OACK, no tsize, 512-byte blocks, lock-step),
as some embedded and older servers do.

Blocks are numbered from 1 as on the wire, without wrap-around (files of
more than 65535 blocks roll the wire number over, the fault numbers do not).

Log.  One line per event, with seconds since start: each request and its
options, the OACK, each fault as it is applied (`FAULT drop block 5 ...`),
retransmissions, how each transfer ended.  Tests read the log to make sure
the fault they asked for really happened.

Limits.  The server exits by itself after --max-seconds (default 600) or
after sending --max-packets packets (default 500000); a transfer is
abandoned after 6 unanswered transmissions.  SIGTERM ends it at once.

DHCP.  With --dhcp ADDR it also answers DHCPDISCOVER/DHCPREQUEST on the
interface that holds --addr, offering ADDR with next-server --dhcp-siaddr
(default --addr) and boot file --dhcp-file (default pulsar).  Extra
options are CODE=TEXT (the text's bytes; \\xNN escapes allowed), so a test
can hand the PXE ROM a bogus root-path.  It also answers IPv6 router
solicitations on that interface with an advertisement that offers
nothing (--no-ra: do not), which spares the ROM a 13-second wait for an
IPv6 router.  Standard library and lab.images only.
"""

import argparse
import fnmatch
import os
import random
import select
import signal
import socket
import struct
import sys
import time

from lab.images import DHCP_MAGIC, bootp

OP_RRQ, OP_WRQ, OP_DATA, OP_ACK, OP_ERROR, OP_OACK = 1, 2, 3, 4, 5, 6
DEFAULT_BLKSIZE = 512
MAX_BLKSIZE = 65464
MAX_WINDOW = 64
RETRANSMIT_S = 1.0
MAX_TRIES = 6


# --------------------------------------------------------------- rules

class Faults:
    """The faults one rule asks for (all optional)."""

    def __init__(self):
        self.drop = set()
        self.drop_every = 0
        self.dup = set()
        self.reorder = set()
        self.delay = {}
        self.error = {}
        self.stop = None
        self.short = None
        self.oversize = {}
        self.silent = False
        self.missing = False
        self.lose = 0.0
        self.times = None



def parse_fault(f, word):
    """Add one FAULT word to @f; raises ValueError on a malformed one."""
    name, _, arg = word.partition("=")
    if name in ("silent", "missing") and not arg:
        setattr(f, name, True)
    elif name == "drop":
        f.drop.add(int(arg))
    elif name == "drop-every":
        f.drop_every = int(arg)
        if f.drop_every < 1:
            raise ValueError("drop-every needs N >= 1")
    elif name == "dup":
        f.dup.add(int(arg))
    elif name == "reorder":
        f.reorder.add(int(arg))
    elif name == "delay":
        block, secs = arg.split(":")
        f.delay[int(block)] = float(secs)
    elif name == "error":
        parts = arg.split(":", 2)
        code = int(parts[1]) if len(parts) > 1 else 0
        msg = parts[2] if len(parts) > 2 else "injected fault"
        f.error[int(parts[0])] = (code, msg)
    elif name == "stop":
        f.stop = int(arg)
    elif name == "short":
        f.short = int(arg)
    elif name == "oversize":
        block, _, extra = arg.partition(":")
        f.oversize[int(block)] = int(extra) if extra else 512
    elif name == "lose":
        f.lose = float(arg)
        if not 0 <= f.lose <= 1:
            raise ValueError("lose needs 0 <= P <= 1")
    elif name == "times":
        f.times = int(arg)
    else:
        raise ValueError("unknown fault %r" % word)


def parse_rules(text):
    """[(glob, Faults)] from rules text; raises ValueError with a line."""
    rules = []
    for lineno, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        f = Faults()
        try:
            for w in words[1:]:
                parse_fault(f, w)
        except ValueError as e:
            raise ValueError("rules line %d: %s" % (lineno, e))
        rules.append((words[0], f))
    return rules


class RuleBook:
    """Rules from the command line and a file that is re-read on change."""

    def __init__(self, path, extra, log):
        self.path = path
        self.extra = parse_rules("\n".join(extra))
        self.log = log
        self.mtime = None
        self.from_file = []

    def lookup(self, filename):
        """The Faults for @filename (an empty Faults if no rule matches)."""
        if self.path:
            try:
                mtime = os.stat(self.path).st_mtime_ns
            except FileNotFoundError:
                mtime = None
            if mtime != self.mtime:
                self.mtime = mtime
                text = ""
                if mtime is not None:
                    with open(self.path) as fh:
                        text = fh.read()
                try:
                    self.from_file = parse_rules(text)
                    self.log("rules reloaded: %d rule(s)"
                             % len(self.from_file))
                except ValueError as e:
                    self.log("rules NOT reloaded: %s" % e)
        for glob, f in self.extra + self.from_file:
            if fnmatch.fnmatchcase(filename, glob):
                return f
        return Faults()


# ---------------------------------------------------------------- TFTP

def parse_request(pkt):
    """(filename, mode, {option: value}) from an RRQ; raises ValueError."""
    fields = pkt[2:].split(b"\0")
    if len(fields) < 3 or fields[-1] != b"":
        raise ValueError("request is not NUL-terminated strings")
    fields = fields[:-1]
    filename = fields[0].decode("latin-1")
    mode = fields[1].decode("latin-1").lower()
    opts = {}
    rest = fields[2:]
    if len(rest) % 2:
        raise ValueError("an option without a value")
    for i in range(0, len(rest), 2):
        opts[rest[i].decode("latin-1").lower()] = \
            rest[i + 1].decode("latin-1")
    return filename, mode, opts


def error_packet(code, msg):
    """A TFTP ERROR packet."""
    return struct.pack("!HH", OP_ERROR, code) + msg.encode() + b"\0"


class Transfer:
    """One read transfer: its own socket (TID), window and faults."""

    def __init__(self, server, peer, filename, data, size, opts, faults):
        self.server = server
        self.peer = peer
        self.filename = filename
        self.data = data          # the file
        self.size = size          # what tsize announces
        self.faults = faults
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((server.addr, 0))
        self.blksize = DEFAULT_BLKSIZE
        self.window = 1
        self.oack = None
        self.transfer_no = None   # set when block 1 is first due
        self.hit = False          # a fault has acted in this transfer
        self.end = len(data)      # where the data ends (short=N)
        self.acked = 0            # highest block acknowledged
        self.sent_upto = 0        # highest block sent in this window
        self.tries = 0
        self.deadline = 0.0
        self.held = []            # (due time, block) delayed packets
        self.tx_count = 0         # DATA transmissions, for drop-every
        self.first_tx = set()     # blocks transmitted at least once
        self.stopped = False
        self.done = False
        self.nblocks = len(data) // self.blksize + 1
        accepted = []
        if "blksize" in opts:
            try:
                want = int(opts["blksize"])
                self.blksize = max(8, min(want, server.max_blksize))
                accepted.append(("blksize", str(self.blksize)))
            except ValueError:
                pass
        if "tsize" in opts:
            accepted.append(("tsize", str(self.size)))
        if "windowsize" in opts and server.max_window > 1:
            try:
                want = int(opts["windowsize"])
                self.window = max(1, min(want, server.max_window))
                accepted.append(("windowsize", str(self.window)))
            except ValueError:
                pass
        self.nblocks = len(data) // self.blksize + 1
        if accepted:
            self.oack = struct.pack("!H", OP_OACK) + b"".join(
                k.encode() + b"\0" + v.encode() + b"\0" for k, v in accepted)
            self.server.log("%s: OACK %s" % (self.tag(), " ".join(
                "%s=%s" % kv for kv in accepted)))

    def tag(self):
        """How this transfer is named in the log."""
        n = "" if self.transfer_no is None else " #%d" % self.transfer_no
        return "%s%s to %s:%d" % (self.filename, n, self.peer[0],
                                  self.peer[1])

    def start(self):
        """Send the OACK, or block 1 when no option was accepted."""
        if self.oack:
            self.send_oack()
        else:
            self.begin_data()

    def send_oack(self):
        """(Re)send the OACK and arm the retransmission timer."""
        self.raw_send(self.oack)
        self.deadline = time.monotonic() + RETRANSMIT_S

    def begin_data(self):
        """Block 1 is due: count this as a data transfer."""
        self.server.data_transfers[self.filename] = \
            self.server.data_transfers.get(self.filename, 0) + 1
        self.transfer_no = self.server.data_transfers[self.filename]
        f = self.faults
        if f.short is not None and f.short < len(self.data) and \
                self.may_fault():
            self.end = f.short
            self.nblocks = self.end // self.blksize + 1
        self.server.log("%s: data transfer %d of %s (%d blocks of %d, "
                        "%d bytes, %d announced)%s"
                        % (self.tag(), self.transfer_no, self.filename,
                           self.nblocks, self.blksize, self.end, self.size,
                           "" if self.may_fault() else
                           " -- faults used up (times)"))
        self.send_window()

    def may_fault(self):
        """May a fault act in this transfer (times=K not used up)?"""
        times = self.faults.times
        return self.hit or times is None or \
            self.server.hits.get(self.filename, 0) < times

    def fires(self, what):
        """A fault acts now: count the transfer against times=K, log."""
        if not self.hit:
            self.hit = True
            self.server.hits[self.filename] = \
                self.server.hits.get(self.filename, 0) + 1
        self.server.log("%s: FAULT %s" % (self.tag(), what))

    def raw_send(self, pkt):
        """Send @pkt to the client, counting it against --max-packets."""
        self.server.count_packet()
        self.sock.sendto(pkt, self.peer)

    def block_payload(self, block):
        """The bytes of @block (1-based) as the faults shape them."""
        start = (block - 1) * self.blksize
        end = min(start + self.blksize, self.end)
        if block in self.faults.oversize and self.may_fault():
            end = start + self.blksize + self.faults.oversize[block]
        return self.data[start:end]

    def send_block(self, block, retransmit=False):
        """Send DATA @block, applying drop/dup/delay/error/stop/oversize."""
        f = self.faults
        first = block not in self.first_tx
        self.first_tx.add(block)
        if any(b == block for _, b in self.held):
            return  # still held back: no retransmission meanwhile
        if f.stop is not None and block >= f.stop and self.may_fault():
            if not self.stopped:
                self.fires("stop at block %d: no more answers" % block)
            self.stopped = True
            return
        if block in f.error and self.may_fault():
            code, msg = f.error[block]
            self.fires("error instead of block %d: code %d %r"
                       % (block, code, msg))
            self.raw_send(error_packet(code, msg))
            self.done = True
            return
        if first and block in f.delay and self.may_fault():
            self.fires("delay block %d by %.1f s" % (block, f.delay[block]))
            self.held.append((time.monotonic() + f.delay[block], block))
            return
        self.tx_count += 1
        if f.lose and self.server.rng.random() < f.lose and \
                self.may_fault():
            self.fires("lose block %d (transmission %d)"
                       % (block, self.tx_count))
            return
        if first and block in f.drop and self.may_fault():
            self.fires("drop block %d" % block)
            return
        if f.drop_every and self.tx_count % f.drop_every == 0 and \
                self.may_fault():
            self.fires("drop transmission %d (block %d)"
                       % (self.tx_count, block))
            return
        payload = self.block_payload(block)
        pkt = struct.pack("!HH", OP_DATA, block & 0xFFFF) + payload
        self.sent_upto = max(self.sent_upto, block)
        if len(payload) > self.blksize:
            self.fires("oversize block %d: %d data bytes, blksize %d"
                       % (block, len(payload), self.blksize))
        if block == self.nblocks and self.end < len(self.data):
            self.fires("short: block %d ends the file at %d of %d bytes"
                       % (block, self.end, self.size))
        if retransmit:
            self.server.log("%s: retransmit block %d" % (self.tag(), block))
        self.raw_send(pkt)
        if first and block in f.dup and self.may_fault():
            self.fires("duplicate block %d" % block)
            self.raw_send(pkt)

    def send_window(self, retransmit=False):
        """Send blocks acked+1 .. acked+window (as far as the file goes)."""
        last = min(self.acked + self.window, self.nblocks)
        block = self.acked + 1
        while block <= last and not self.done and not self.stopped:
            if (not retransmit and block in self.faults.reorder and
                    block + 1 <= self.nblocks and
                    block not in self.first_tx and self.may_fault()):
                self.fires("reorder: block %d before %d" % (block + 1, block))
                self.send_block(block + 1)
                self.send_block(block)
                block += 2
                continue
            self.send_block(block, retransmit)
            block += 1
        self.deadline = time.monotonic() + RETRANSMIT_S

    def on_packet(self, pkt, peer):
        """Handle a packet from the client on this transfer's socket."""
        if peer != self.peer:
            self.raw_send_to(error_packet(5, "unknown transfer ID"), peer)
            return
        if len(pkt) < 4:
            self.server.log("%s: runt packet ignored" % self.tag())
            return
        op, num = struct.unpack("!HH", pkt[:4])
        if self.stopped:
            return
        if op == OP_ERROR:
            msg = pkt[4:].split(b"\0")[0].decode("latin-1", "replace")
            self.server.log("%s: client sent ERROR %d %r: transfer ends"
                            % (self.tag(), num, msg))
            self.done = True
            return
        if op != OP_ACK:
            self.server.log("%s: unexpected opcode %d" % (self.tag(), op))
            return
        if self.faults.lose and self.server.rng.random() < self.faults.lose \
                and self.may_fault():
            self.fires("lose ACK %d" % num)
            return
        if self.transfer_no is None:
            if num == 0:
                self.tries = 0
                self.begin_data()
            return
        # Unwrap the 16-bit block number near what we have sent.
        base = self.acked & ~0xFFFF
        block = base | num
        if block < self.acked - 0x8000:
            block += 0x10000
        if block <= self.acked or block > self.sent_upto:
            return  # stale or duplicate: no Sorcerer's Apprentice
        self.acked = block
        self.tries = 0
        if self.acked >= self.nblocks:
            self.server.log("%s: complete, %d bytes in %d blocks"
                            % (self.tag(), self.end, self.nblocks))
            self.done = True
            return
        self.send_window()

    def raw_send_to(self, pkt, peer):
        """Send @pkt to someone other than our client."""
        self.server.count_packet()
        self.sock.sendto(pkt, peer)

    def on_tick(self, now):
        """Release held packets; retransmit or give up on timeout."""
        for due, block in list(self.held):
            if now >= due:
                self.held.remove((due, block))
                self.server.log("%s: releasing delayed block %d"
                                % (self.tag(), block))
                self.send_block(block)
        if self.done or self.stopped or now < self.deadline:
            return
        if self.held:
            # A delayed block is pending: the delay is the fault, so the
            # server neither retransmits nor gives up meanwhile.
            self.deadline = now + RETRANSMIT_S
            return
        self.tries += 1
        if self.tries >= MAX_TRIES:
            self.server.log("%s: no answer after %d tries: abandoned"
                            % (self.tag(), self.tries))
            self.done = True
            return
        if self.transfer_no is None:
            self.server.log("%s: retransmit OACK" % self.tag())
            self.send_oack()
        else:
            self.send_window(retransmit=True)

    def close(self):
        """Release the socket."""
        self.sock.close()


# ---------------------------------------------------------------- DHCP

def unescape_bytes(text):
    """TEXT with \\xNN escapes as bytes."""
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


class Dhcp:
    """Offers one address to any client: enough for a PXE ROM."""

    def __init__(self, server, client_ip, bootfile, siaddr, options,
                 ifname):
        self.server = server
        self.client_ip = client_ip
        self.bootfile = bootfile
        self.siaddr = siaddr
        self.options = options
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if ifname:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                                 ifname.encode())
        self.sock.bind(("0.0.0.0", 67))

    def on_packet(self, pkt, _peer):
        """Answer DISCOVER with OFFER and REQUEST with ACK."""
        if len(pkt) < 240 or pkt[0] != 1 or pkt[236:240] != DHCP_MAGIC:
            return
        msgtype = None
        i = 240
        while i < len(pkt) and pkt[i] != 255:
            if pkt[i] == 0:
                i += 1
                continue
            if i + 2 > len(pkt):
                break
            code, olen = pkt[i], pkt[i + 1]
            if code == 53 and olen == 1 and i + 2 < len(pkt):
                msgtype = pkt[i + 2]
            i += 2 + olen
        reply = {1: 2, 3: 5}.get(msgtype)
        if reply is None:
            return
        chaddr = pkt[28:44]
        opts = bytearray()
        srv = socket.inet_aton(self.server.addr)

        def opt(code, value):
            opts.extend(bytes([code, len(value)]) + value)
        opt(53, bytes([reply]))
        opt(54, srv)
        opt(51, struct.pack("!I", 3600))
        opt(1, socket.inet_aton("255.255.255.0"))
        # iPXE's own option space (175), "no ProxyDHCP" (176 = 1): iPXE
        # then takes this offer at once instead of waiting ~3 s for a
        # ProxyDHCP server.  Other ROMs ignore it.
        opt(175, bytes([176, 1, 1]))
        for code, value in self.options:
            opt(code, value)
        opts.append(255)
        # BOOTREPLY with the request's xid, flags (broadcast bit) and
        # client address.
        out = bootp(op=2, xid=pkt[4:8], flags=pkt[10:12],
                    yiaddr=self.client_ip, siaddr=self.siaddr, chaddr=chaddr,
                    file=self.bootfile.encode()[:127], options=bytes(opts),
                    pad_to=300)
        self.server.count_packet()
        self.sock.sendto(out, ("255.255.255.255", 68))
        self.server.log("dhcp: %s %s to %s (siaddr %s, file %r)"
                        % ({2: "OFFER", 5: "ACK"}[reply], self.client_ip,
                           ":".join("%02x" % b for b in chaddr[:6]),
                           self.siaddr, self.bootfile))


class RouterAdvert:
    """Answers IPv6 router solicitations with an empty advertisement.

    A PXE ROM with IPv6 (iPXE) waits about 13 s for a router before it
    fetches its boot file; an advertisement that offers nothing (no
    prefix, no DHCPv6, not a default router) ends that wait at once."""

    def __init__(self, server, ifname):
        self.server = server
        self.ifindex = socket.if_nametoindex(ifname)
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                                  socket.IPPROTO_ICMPV6)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                             ifname.encode())
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS,
                             255)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS,
                             255)
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF,
                             self.ifindex)
        # Solicitations go to all-routers, which a host does not hear.
        self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                             socket.inet_pton(socket.AF_INET6, "ff02::2") +
                             struct.pack("@I", self.ifindex))

    def on_packet(self, pkt, peer):
        """Answer a router solicitation (ICMPv6 type 133)."""
        if not pkt or pkt[0] != 133:
            return
        # type 134, code 0, checksum (the kernel fills it), hop limit 64,
        # no M/O flags, router lifetime 0, reachable 0, retrans 0.
        ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0)
        self.server.count_packet()
        try:
            self.sock.sendto(ra, ("ff02::1", 0, 0, self.ifindex))
        except OSError as e:
            self.server.log("ra: send failed: %s" % e)
            return
        self.server.log("ra: empty router advertisement for %s" % peer[0])


# -------------------------------------------------------------- server

class Server:
    """The select loop over the listening socket and every transfer."""

    def __init__(self, args):
        self.addr = args.addr
        self.root = os.path.abspath(args.root)
        self.max_blksize = args.max_blksize
        self.max_window = args.max_window
        self.max_packets = args.max_packets
        self.ignore_options = args.ignore_options
        self.deadline = time.monotonic() + args.max_seconds
        self.t0 = time.monotonic()
        self.logf = open(args.log, "a", buffering=1) if args.log \
            else sys.stderr
        self.rules = RuleBook(args.rules, args.fault or [], self.log)
        self.packets = 0
        self.rng = random.Random(args.seed)  # lose=P
        self.transfers = {}      # socket -> Transfer
        self.data_transfers = {}  # filename -> transfers that sent data
        self.hits = {}            # filename -> transfers a fault acted in
        self.listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listen.bind((self.addr, args.port))
        self.dhcp = None
        self.ra = None
        if args.dhcp:
            ifname = args.dhcp_ifname or self.interface_of(self.addr)
            self.dhcp = Dhcp(self, args.dhcp, args.dhcp_file,
                             args.dhcp_siaddr or self.addr,
                             [(int(c), unescape_bytes(v)) for c, v in
                              (o.split("=", 1) for o in args.dhcp_option)],
                             ifname)
            if not args.no_ra and ifname:
                self.ra = RouterAdvert(self, ifname)
        self.log("serving %s on %s:%d%s" % (self.root, self.addr, args.port,
                                             ", DHCP for " + args.dhcp
                                             if args.dhcp else ""))

    @staticmethod
    def interface_of(addr):
        """The interface holding @addr (for the DHCP socket), or None."""
        try:
            import subprocess
            out = subprocess.run(["ip", "-o", "-4", "addr", "show"],
                                 stdout=subprocess.PIPE, text=True).stdout
        except OSError:
            return None
        for line in out.splitlines():
            words = line.split()
            if len(words) > 3 and words[3].split("/")[0] == addr:
                return words[1]
        return None

    def log(self, msg):
        """One timestamped log line."""
        self.logf.write("%8.3f %s\n" % (time.monotonic() - self.t0, msg))

    def count_packet(self):
        """Count a sent packet; stop the server at --max-packets."""
        self.packets += 1
        if self.packets > self.max_packets:
            self.log("exit: sent --max-packets %d" % self.max_packets)
            raise SystemExit(0)

    def on_request(self, pkt, peer):
        """A packet on port 69: a new read request (or something wrong)."""
        if len(pkt) < 2:
            return
        op = struct.unpack("!H", pkt[:2])[0]
        if op != OP_RRQ:
            self.count_packet()
            self.listen.sendto(error_packet(4, "only reads are served"),
                               peer)
            return
        try:
            filename, mode, opts = parse_request(pkt)
        except ValueError as e:
            self.log("bad request from %s:%d: %s" % (peer + (e,)))
            self.count_packet()
            self.listen.sendto(error_packet(4, "malformed request"), peer)
            return
        faults = self.rules.lookup(filename)
        self.log("RRQ %s from %s:%d mode %s options %s" % (
            filename, peer[0], peer[1], mode, " ".join(
                "%s=%s" % kv for kv in opts.items()) or "-"))
        if faults.silent:
            self.log("%s: FAULT silent: request ignored" % filename)
            return
        path = os.path.normpath(os.path.join(self.root,
                                             filename.lstrip("/")))
        data = None
        if not faults.missing and (path == self.root or path.startswith(
                self.root + os.sep)):
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                data = None
        if data is None:
            if faults.missing:
                self.log("%s: FAULT missing: ERROR 1" % filename)
            else:
                self.log("%s: not found: ERROR 1" % filename)
            self.count_packet()
            self.listen.sendto(error_packet(1, "file not found"), peer)
            return
        if self.ignore_options and opts:
            self.log("%s: options ignored (--ignore-options)" % filename)
            opts = {}
        t = Transfer(self, peer, filename, data, len(data), opts, faults)
        self.transfers[t.sock] = t
        t.start()

    def run(self):
        """Serve until a limit is reached."""
        while True:
            now = time.monotonic()
            if now >= self.deadline:
                self.log("exit: --max-seconds reached")
                return
            socks = [self.listen] + list(self.transfers)
            if self.dhcp:
                socks.append(self.dhcp.sock)
            if self.ra:
                socks.append(self.ra.sock)
            ready, _, _ = select.select(socks, [], [], 0.05)
            for s in ready:
                try:
                    pkt, peer = s.recvfrom(65536)
                except OSError:
                    continue
                if s is self.listen:
                    self.on_request(pkt, peer)
                elif self.dhcp and s is self.dhcp.sock:
                    self.dhcp.on_packet(pkt, peer)
                elif self.ra and s is self.ra.sock:
                    self.ra.on_packet(pkt, peer)
                else:
                    self.transfers[s].on_packet(pkt, peer)
            now = time.monotonic()
            for s, t in list(self.transfers.items()):
                t.on_tick(now)
                if t.done:
                    t.close()
                    del self.transfers[s]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, help="directory to serve")
    ap.add_argument("--addr", default="127.0.0.1", help="address to serve on")
    ap.add_argument("--port", type=int, default=69)
    ap.add_argument("--rules", help="rules file (re-read when it changes)")
    ap.add_argument("--fault", action="append", metavar="'GLOB FAULT...'",
                    help="a rule on the command line (repeatable)")
    ap.add_argument("--log", help="log file (default stderr)")
    ap.add_argument("--ignore-options", action="store_true",
                    help="plain RFC 1350: ignore every request option")
    ap.add_argument("--seed", type=int, default=1,
                    help="the random loss of lose=P (default 1)")
    ap.add_argument("--max-seconds", type=float, default=600)
    ap.add_argument("--max-packets", type=int, default=500000)
    ap.add_argument("--max-blksize", type=int, default=MAX_BLKSIZE)
    ap.add_argument("--max-window", type=int, default=MAX_WINDOW,
                    help="largest windowsize granted (1: no RFC 7440)")
    ap.add_argument("--dhcp", metavar="CLIENT_IP",
                    help="also answer DHCP, offering CLIENT_IP")
    ap.add_argument("--dhcp-file", default="pulsar")
    ap.add_argument("--dhcp-siaddr", help="next-server (default --addr)")
    ap.add_argument("--dhcp-option", action="append", default=[],
                    metavar="CODE=TEXT", help="extra DHCP option")
    ap.add_argument("--dhcp-ifname", help="interface for DHCP (default: "
                    "the one holding --addr)")
    ap.add_argument("--no-ra", action="store_true", help="with --dhcp, do "
                    "not answer IPv6 router solicitations")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server = Server(args)
    except ValueError as e:
        ap.error(str(e))
    try:
        server.run()
    except SystemExit:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
