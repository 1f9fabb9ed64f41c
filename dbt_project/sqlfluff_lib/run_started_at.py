"""dbt's `run_started_at` for linting: a fixed instant, so the build stamp of the incremental models renders."""

from __future__ import annotations

from datetime import UTC, datetime

_STARTED = datetime(2024, 10, 1, tzinfo=UTC)


def strftime(fmt: str) -> str:
    return _STARTED.strftime(fmt)
