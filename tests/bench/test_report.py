"""The benchmark's per-stage memory: what a stage found at its start, beside its peak, both above the baseline."""

from __future__ import annotations

from bench import run


def test_a_stage_reports_its_rss_at_start_and_its_peak_above_the_baseline() -> None:
    sampler = run.RssSampler()
    sampler.samples = [(9.0, 400.0), (10.0, 500.0), (10.5, 900.0), (11.0, 650.0), (12.0, 450.0)]
    stages = [{"stage": "transform", "started": 10.0, "seconds": 1.0}]
    run._attach(stages, sampler, baseline_mb=373.0)
    assert stages[0]["start_above_baseline_mb"] == 127.0  # the first sample inside the stage, not the one before
    assert stages[0]["peak_above_baseline_mb"] == 527.0
    rows = run.table_rows({"scenarios": {"full": {"stages": stages}}})
    assert rows == [["full", "transform", "1.00", "", "900", "127", "527", ""]]
