"""Round-trip tests for scripts/lzpack.py, the NBP packer.

The asm unpacker in boot/entry.asm implements the same algorithm as
lzpack.decompress; every end-to-end boot exercises it on the real body.
"""
import os
import random
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "scripts"))
import lzpack  # noqa: E402


class RoundTrip(unittest.TestCase):
    def check(self, data):
        packed = lzpack.compress(data)
        self.assertEqual(lzpack.decompress(packed, len(data)), data)
        return packed

    def test_empty_and_tiny(self):
        for data in (b"", b"a", b"abc", b"abcd", b"aaaaaaaa"):
            self.check(data)

    def test_long_runs_need_length_bytes(self):
        # Literal and match runs over 15 and over 255 + 15 use extra bytes.
        rnd = random.Random(7)
        data = rnd.randbytes(300) + b"\0" * 5000 + rnd.randbytes(20)
        packed = self.check(data)
        self.assertLess(len(packed), 400)

    def test_overlapping_match(self):
        self.check(b"xy" * 3000)

    def test_far_offsets(self):
        rnd = random.Random(3)
        block = rnd.randbytes(1000)
        self.check(block + rnd.randbytes(64000) + block + rnd.randbytes(3000)
                   + block)

    def test_random_alphabets(self):
        rnd = random.Random(11)
        for n in range(300):
            alphabet = rnd.randbytes(rnd.randrange(1, 6))
            data = bytes(rnd.choice(alphabet)
                         for _ in range(rnd.randrange(0, 2000)))
            self.check(data)


if __name__ == "__main__":
    unittest.main()
