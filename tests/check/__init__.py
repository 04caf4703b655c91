"""pulsar-check against good and bad configs (python3 -m tests.check.run)."""
