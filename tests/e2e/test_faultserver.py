"""Self-test of tests/e2e/faultserver.py on 127.0.0.1 (no QEMU, no root).

A small TFTP client in this file fetches files through the server with
each fault switched on and checks what arrives on the wire: the fault
tests under QEMU rely on the server doing exactly what its rules say.

    python3 -m tests.e2e.test_faultserver [-v]
"""

import os
import random
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from lab import ROOT, module_argv

CLIENTS = []  # closed after each test


def free_port():
    """An unused UDP port on 127.0.0.1."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    """A TFTP client that records every packet it receives."""

    def __init__(self, port, timeout=0.3):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(timeout)
        self.packets = []  # (opcode, number, payload)
        CLIENTS.append(self)

    def recv(self):
        """One packet (op, num, payload, peer) or None on timeout."""
        try:
            pkt, peer = self.sock.recvfrom(70000)
        except socket.timeout:
            return None
        op, num = struct.unpack("!HH", pkt[:4])
        self.packets.append((op, num, pkt[4:]))
        return op, num, pkt[4:], peer

    def get(self, name, opts=None, max_silence=8, ack_oack=True):
        """Fetch @name lock-step (or windowed); returns (data, error, oack).

        Retransmits its last ACK on silence like a real client; gives up
        after @max_silence silent timeouts."""
        req = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
        for k, v in (opts or {}).items():
            req += k.encode() + b"\0" + str(v).encode() + b"\0"
        self.sock.sendto(req, ("127.0.0.1", self.port))
        blksize, window = 512, 1
        data = {}
        expect, oack, peer, last = 1, None, None, None
        silence = 0
        while True:
            r = self.recv()
            if r is None:
                silence += 1
                if silence >= max_silence:
                    return None, "timeout", oack
                if last is not None:
                    self.sock.sendto(last, peer)
                continue
            silence = 0
            op, num, payload, peer = r
            if op == 5:
                return None, (num, payload.split(b"\0")[0].decode()), oack
            if op == 6:
                # recv() split the first two option bytes off as `num`.
                fields = (struct.pack("!H", num) + payload).split(b"\0")[:-1]
                oack = {k.decode(): v.decode()
                        for k, v in zip(fields[0::2], fields[1::2])}
                blksize = int(oack.get("blksize", 512))
                window = int(oack.get("windowsize", 1))
                if not ack_oack:
                    return None, "oack only", oack
                last = struct.pack("!HH", 4, 0)
                self.sock.sendto(last, peer)
                continue
            if op != 3:
                continue
            if num == expect:
                data[num] = payload
                expect += 1
                if len(payload) < blksize or (expect - 1) % window == 0:
                    last = struct.pack("!HH", 4, num)
                    self.sock.sendto(last, peer)
                if len(payload) < blksize:
                    return b"".join(data[i] for i in sorted(data)), None, oack
            elif last is not None:
                # Out of order: ack the last in-order block (RFC 7440).
                last = struct.pack("!HH", 4, expect - 1)
                self.sock.sendto(last, peer)


def error_packet_for_test():
    """The ERROR a client sends to abort (iPXE: "TFTP Aborted")."""
    return struct.pack("!HH", 5, 0) + b"TFTP Aborted\0"


class FaultServerTest(unittest.TestCase):
    """Each fault does exactly what the rules say."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="faultserver-")
        self.root = os.path.join(self.tmp, "root")
        os.makedirs(self.root)
        self.content = random.Random(7).randbytes(512 * 10 + 100)
        with open(os.path.join(self.root, "f.bin"), "wb") as f:
            f.write(self.content)
        self.port = free_port()
        self.log = os.path.join(self.tmp, "log")
        self.rules = os.path.join(self.tmp, "rules")
        self.proc = None

    def start(self, *rules):
        """Start the server with @rules in its rules file."""
        with open(self.rules, "w") as f:
            f.write("\n".join(rules) + "\n")
        self.proc = subprocess.Popen(
            module_argv("tests.e2e.faultserver", "--root", self.root,
                        "--addr", "127.0.0.1", "--port", self.port,
                        "--rules", self.rules, "--log", self.log,
                        "--max-seconds", "60"), cwd=ROOT)
        for _ in range(100):
            if os.path.exists(self.log) and "serving" in self.log_text():
                return
            time.sleep(0.05)
        self.fail("server did not start")

    def log_text(self):
        with open(self.log) as f:
            return f.read()

    def tearDown(self):
        while CLIENTS:
            CLIENTS.pop().sock.close()
        if self.proc:
            self.proc.terminate()
            self.proc.wait(5)
        subprocess.run(["rm", "-rf", self.tmp])

    def data_blocks(self, c):
        """Block numbers of every DATA packet the client received."""
        return [n for op, n, _ in c.packets if op == 3]

    def test_plain_and_options(self):
        self.start()
        c = Client(self.port)
        data, err, oack = c.get("f.bin", {"blksize": 1024, "tsize": 0})
        self.assertIsNone(err)
        self.assertEqual(data, self.content)
        self.assertEqual(oack, {"blksize": "1024",
                                "tsize": str(len(self.content))})
        c = Client(self.port)
        data, err, _ = c.get("f.bin")
        self.assertEqual(data, self.content)
        self.assertEqual(self.data_blocks(c), list(range(1, 12)))

    def test_windowsize(self):
        self.start()
        c = Client(self.port)
        data, err, oack = c.get("f.bin", {"windowsize": 4})
        self.assertIsNone(err)
        self.assertEqual(oack["windowsize"], "4")
        self.assertEqual(data, self.content)

    def test_windowsize_with_faults(self):
        """RFC 7440: a lost block in a window is resent from the client's
        last in-order ACK; a reordered pair inside a window arrives."""
        self.start("f.bin drop=3 reorder=6")
        c = Client(self.port)
        data, err, oack = c.get("f.bin", {"windowsize": 4})
        self.assertIsNone(err)
        self.assertEqual(data, self.content)
        blocks = self.data_blocks(c)
        self.assertEqual(blocks[:3], [1, 2, 4])  # 3 was dropped
        self.assertIn("FAULT drop block 3", self.log_text())
        self.assertIn("FAULT reorder: block 7 before 6", self.log_text())

    def test_missing(self):
        self.start("f.bin missing")
        data, err, _ = Client(self.port).get("f.bin")
        self.assertEqual(err, (1, "file not found"))
        data, err, _ = Client(self.port).get("nothere")
        self.assertEqual(err, (1, "file not found"))

    def test_drop(self):
        self.start("f.bin drop=3")
        c = Client(self.port)
        data, err, _ = c.get("f.bin")
        self.assertEqual(data, self.content)
        blocks = self.data_blocks(c)
        self.assertEqual(blocks[:2], [1, 2])
        self.assertEqual(blocks[2], 3)  # only after a retransmission
        self.assertIn("FAULT drop block 3", self.log_text())
        self.assertIn("retransmit block 3", self.log_text())

    def test_lose(self):
        """lose=P: about P of the DATA and ACKs vanish, retransmissions
        recover every byte."""
        big = random.Random(8).randbytes(512 * 400)
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(big)
        self.start("big.bin lose=0.05")
        c = Client(self.port)
        data, err, _ = c.get("big.bin")
        self.assertIsNone(err)
        self.assertEqual(data, big)
        text = self.log_text()
        lost = text.count("FAULT lose block") + text.count("FAULT lose ACK")
        # 401 blocks and ACKs at 5%: about 40; far from none or all.
        self.assertTrue(10 <= lost <= 90, lost)

    def test_drop_every(self):
        self.start("f.bin drop-every=4")
        c = Client(self.port)
        data, err, _ = c.get("f.bin")
        self.assertEqual(data, self.content)
        self.assertIn("FAULT drop transmission 4 (block 4)", self.log_text())

    def test_dup(self):
        self.start("f.bin dup=2")
        c = Client(self.port)
        data, err, _ = c.get("f.bin")
        self.assertEqual(data, self.content)
        self.assertEqual(self.data_blocks(c)[:3], [1, 2, 2])

    def test_reorder(self):
        self.start("f.bin reorder=2")
        c = Client(self.port)
        data, err, _ = c.get("f.bin")
        self.assertEqual(data, self.content)
        self.assertEqual(self.data_blocks(c)[:3], [1, 3, 2])

    def test_delay(self):
        self.start("f.bin delay=2:1.5")
        c = Client(self.port)
        t0 = time.monotonic()
        data, err, _ = c.get("f.bin")
        self.assertEqual(data, self.content)
        self.assertGreaterEqual(time.monotonic() - t0, 1.4)
        self.assertIn("FAULT delay block 2 by 1.5 s", self.log_text())

    def test_error(self):
        self.start("f.bin error=4:2:go-away")
        c = Client(self.port)
        data, err, _ = c.get("f.bin")
        self.assertEqual(err, (2, "go-away"))
        self.assertEqual(self.data_blocks(c), [1, 2, 3])

    def test_stop(self):
        self.start("f.bin stop=3")
        c = Client(self.port, timeout=0.2)
        data, err, _ = c.get("f.bin", max_silence=10)
        self.assertEqual(err, "timeout")
        self.assertEqual(self.data_blocks(c), [1, 2])

    def test_silent(self):
        self.start("f.bin silent")
        c = Client(self.port, timeout=0.2)
        data, err, _ = c.get("f.bin", max_silence=3)
        self.assertEqual(err, "timeout")
        self.assertEqual(c.packets, [])

    def test_short(self):
        self.start("f.bin short=1000")
        c = Client(self.port)
        data, err, oack = c.get("f.bin", {"tsize": 0})
        self.assertEqual(oack["tsize"], str(len(self.content)))
        self.assertEqual(data, self.content[:1000])

    def test_oversize(self):
        self.start("f.bin oversize=2:100")
        c = Client(self.port)
        c.get("f.bin")
        sizes = [len(p) for op, n, p in c.packets if op == 3 and n == 2]
        self.assertEqual(sizes[0], 612)

    def test_times_and_size_probe(self):
        """A probe that stops after the OACK is not a data transfer."""
        self.start("f.bin error=1 times=1")
        c = Client(self.port)
        _, err, oack = c.get("f.bin", {"tsize": 0}, ack_oack=False)
        self.assertEqual(err, "oack only")
        data, err, _ = Client(self.port).get("f.bin", {"tsize": 0})
        self.assertEqual(err, (0, "injected fault"))
        data, err, _ = Client(self.port).get("f.bin", {"tsize": 0})
        self.assertEqual(data, self.content)
        self.assertIn("faults used up (times)", self.log_text())

    def test_times_counts_transfers_the_fault_hit(self):
        """A probe that reads block 1 and aborts (as iPXE's size query
        does) does not use up times=1 for a fault at block 3."""
        self.start("f.bin dup=3 times=1")
        c = Client(self.port)
        req = struct.pack("!H", 1) + b"f.bin\0octet\0tsize\x000\0"
        c.sock.sendto(req, ("127.0.0.1", self.port))
        op, _, _, peer = c.recv()
        self.assertEqual(op, 6)
        c.sock.sendto(struct.pack("!HH", 4, 0), peer)
        op, num, _, _ = c.recv()
        self.assertEqual((op, num), (3, 1))
        c.sock.sendto(error_packet_for_test(), peer)
        c = Client(self.port)
        data, err, _ = c.get("f.bin", {"tsize": 0})
        self.assertEqual(data, self.content)
        self.assertEqual(self.data_blocks(c)[:4], [1, 2, 3, 3])
        c = Client(self.port)
        data, err, _ = c.get("f.bin", {"tsize": 0})
        self.assertEqual(self.data_blocks(c)[:4], [1, 2, 3, 4])

    def test_rules_reload(self):
        self.start("f.bin missing")
        _, err, _ = Client(self.port).get("f.bin")
        self.assertEqual(err, (1, "file not found"))
        time.sleep(0.01)
        with open(self.rules, "w") as f:
            f.write("# repaired\n")
        os.utime(self.rules, ns=(time.time_ns(), time.time_ns() + 10**9))
        data, err, _ = Client(self.port).get("f.bin")
        self.assertEqual(data, self.content)

    def test_limits(self):
        """The server exits by itself."""
        proc = subprocess.run(
            module_argv("tests.e2e.faultserver", "--root", self.root,
                        "--addr", "127.0.0.1", "--port", self.port,
                        "--log", self.log, "--max-seconds", "0.5"),
            cwd=ROOT, timeout=10)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("exit: --max-seconds reached", self.log_text())


if __name__ == "__main__":
    unittest.main()
