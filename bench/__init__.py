"""Benchmarks: each module under bench/ measures against moto in-process and returns rows."""
