"""The fuzz targets' seed corpora (python3 -m tests.fuzz.seeds)."""
