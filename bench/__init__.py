"""Benchmarks, run by `make bench`: each prints our figure, a named peer's, and the ratio."""
