"""Benchmarks: speed and memory targets, each measured side by side against a baseline."""
