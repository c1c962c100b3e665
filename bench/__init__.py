"""Benchmarks: `python -m bench` (or `tox -e bench`). Each prints ratios against a baseline of the same run."""
