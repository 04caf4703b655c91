"""The malformed-input table (python3 -m tests.malformed.gen)."""
