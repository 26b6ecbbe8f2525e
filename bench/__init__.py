"""Benchmarks: each measures the system next to a bare baseline in the same run."""
