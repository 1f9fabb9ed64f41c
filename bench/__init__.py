"""Benchmarks: publisher-shaped synthetic snapshots (generate.py) and the stage-by-stage runner (run.py)."""
