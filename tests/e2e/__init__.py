"""End-to-end boots under QEMU: python3 -m tests.e2e.run (--list)."""
