"""The benchmark's per-stage memory: what a stage found at its start, beside its peak, both above the baseline."""

from __future__ import annotations

from typing import Any

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


def test_the_reference_is_the_median_of_its_runs_each_run_kept() -> None:
    def sample(seconds: float, peak: float) -> dict[str, Any]:
        return {
            "stages": [
                {
                    "stage": "read_csv + unpivot (long)",
                    "seconds": seconds,
                    "rows": 10_000_000,
                    "peak_rss_mb": peak + 74,
                    "peak_above_baseline_mb": peak,
                    "start_above_baseline_mb": 18,
                }
            ]
        }

    runs = [sample(4.40, 549.0), sample(5.40, 339.0), sample(4.59, 403.0)]
    reference = run.median_reference([*runs, {"error": "exit 1, no result"}])
    (stage,) = reference["stages"]
    assert (stage["seconds"], stage["peak_above_baseline_mb"], stage["peak_rss_mb"]) == (4.59, 403.0, 477.0)
    assert stage["rows_per_s"] == round(10_000_000 / 4.59)
    assert stage["note"] == "median of 3 runs: 4.40, 5.40, 4.59 s; 549, 339, 403 MB above baseline"
    assert len(reference["runs"]) == 3 and runs[0]["stages"][0]["seconds"] == 4.40  # the samples are left as run
