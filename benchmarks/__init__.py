"""Benchmarks: each figure a median of several runs, compared with its baseline in the same run."""
