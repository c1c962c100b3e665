"""Benchmarks, run by `python -m bench`; each prints ratios against a baseline of the same run."""
