"""Pulsar's tests; run from the root as `python3 -m tests.DIR.MODULE`."""
