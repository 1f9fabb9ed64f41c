"""Data-quality history: every run's validation results, quarantined rows, fetch attempts and dbt results.

It lives in its own DuckDB file beside the published warehouse, because a run that fails the publish gate never
reaches the published warehouse, and its failures are exactly what a data engineer needs to see.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from unionstat import warehouse
from unionstat.settings import Settings

LOG = logging.getLogger(__name__)

HISTORY_DDL = """
create table if not exists runs (
    run_id varchar primary key,
    started_at timestamptz not null,
    finished_at timestamptz not null,
    mode varchar not null,
    status varchar not null,
    failed_stage varchar,
    error varchar,
    summary json
);
create table if not exists validation_results (
    run_id varchar not null,
    validated_at timestamptz not null,
    suite varchar not null,
    table_name varchar not null,
    expectation_type varchar not null,
    column_name varchar,
    severity varchar not null,
    success boolean not null,
    element_count bigint,
    unexpected_count bigint,
    unexpected_examples varchar,
    batch_snapshots varchar
);
create table if not exists quarantine (
    run_id varchar not null,
    quarantined_at timestamptz not null,
    table_name varchar not null,
    expectation_type varchar not null,
    column_name varchar,
    severity varchar not null,
    snapshot_sha256 varchar,
    row_number bigint,
    row_json varchar not null
);
create table if not exists fetch_attempts (
    run_id varchar not null,
    attempted_at timestamptz not null,
    source varchar not null,
    outcome varchar not null,
    new_snapshots integer,
    message varchar
);
create table if not exists dbt_results (
    run_id varchar not null,
    unique_id varchar not null,
    resource_type varchar not null,
    status varchar not null,
    failures bigint,
    message varchar
);
"""


def history_path(settings: Settings) -> Path:
    return settings.warehouse_dir / "dq_history.duckdb"


def record_run(
    settings: Settings,
    summary: dict[str, Any],
    outcomes: Iterable[Any] = (),
    quarantined: Iterable[dict[str, Any]] = (),
    dbt_results: Iterable[dict[str, Any]] = (),
) -> None:
    """Append one run, whatever its outcome. Called by the refresh flow under the writer lock.

    The history is written on a copy and swapped in, so `unionstat dq` reading it never blocks or fails a refresh.
    """
    now = datetime.now(UTC)
    run_id = summary["run_id"]
    with warehouse.rewritten(history_path(settings)) as con:
        con.execute(HISTORY_DDL)
        con.execute(
            "insert or replace into runs values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                summary["started_at"],
                now,
                summary["mode"],
                summary["status"],
                summary.get("failed_stage"),
                summary.get("error"),
                json.dumps(summary, default=str),
            ],
        )
        rows = [o.as_row(run_id, now) for o in outcomes]
        if rows:
            con.executemany("insert into validation_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        q_rows = [
            [
                run_id,
                now,
                q["table"],
                q["expectation_type"],
                q["column"],
                q["severity"],
                q.get("snapshot_sha256"),
                q.get("row_number"),
                json.dumps(q["row"], default=str),
            ]
            for q in quarantined
        ]
        if q_rows:
            con.executemany("insert into quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?)", q_rows)
        attempts = []
        for source, message in summary.get("failed_sources", {}).items():
            attempts.append([run_id, now, source, "error", 0, message])
        for source, count in summary.get("new_snapshots", {}).items():
            if source not in summary.get("failed_sources", {}):
                attempts.append([run_id, now, source, "new" if count else "unchanged", count, None])
        if attempts:
            con.executemany("insert into fetch_attempts values (?, ?, ?, ?, ?, ?)", attempts)
        d_rows = [
            [run_id, r["unique_id"], r["resource_type"], r["status"], r.get("failures"), r.get("message")]
            for r in dbt_results
        ]
        if d_rows:
            con.executemany("insert into dbt_results values (?, ?, ?, ?, ?, ?)", d_rows)


def read_dbt_results(run_results: Path) -> list[dict[str, Any]]:
    """dbt's own artifact (target/run_results.json), one dict per node."""
    if not run_results.is_file():
        return []
    payload = json.loads(run_results.read_text(encoding="utf-8"))
    results = []
    for item in payload.get("results", []):
        unique_id = item.get("unique_id", "")
        results.append(
            {
                "unique_id": unique_id,
                "resource_type": unique_id.split(".", 1)[0],
                "status": str(item.get("status")),
                "failures": item.get("failures"),
                "message": item.get("message"),
            }
        )
    return results


FRESHNESS_STATES = (
    "fresh",
    "no new release yet",
    "overdue",
    "release unknown",
    "paper only",
    "fetch broken",
    "never fetched",
)
#: Snapshots that are no publisher release: their dates say nothing about the publisher's calendar.
NOT_RELEASES = ("compiled_from_paper", "synthetic")


def freshness(settings: Settings, today: datetime | None = None) -> list[dict[str, Any]]:
    """Per source: is its data as fresh as its publisher's release calendar promises, and is fetching working?

    - fetch broken: the source's last fetch attempt failed (since when, and why);
    - never fetched: no snapshot in the published warehouse;
    - paper only: every snapshot is compiled from the paper (no publisher release to be fresh or stale);
    - release unknown: the publisher states no release date (the fetch time is no release date);
    - fresh: the newest release is younger than the publisher's release cadence;
    - no new release yet: older than the cadence but within twice it (the publisher may simply be late);
    - overdue: older than twice the cadence.
    """
    import scrapers

    now = today or datetime.now(UTC)
    latest: dict[str, tuple[Any, Any]] = {}
    paper_only: set[str] = set()
    if settings.published_db.exists():
        with warehouse.connection(settings.published_db, read_only=True) as con:
            for source, release, fetched, releases in con.execute(
                "select source, max(release_date) filter (where origin not in ?), max(fetched_at), "
                "count(*) filter (where origin not in ?) "
                "from raw.snapshots group by source",
                [list(NOT_RELEASES), list(NOT_RELEASES)],
            ).fetchall():
                latest[source] = (release, fetched)
                if releases == 0:
                    paper_only.add(source)
    attempts: dict[str, list[tuple[Any, str, Any]]] = {}
    if history_path(settings).exists():
        with warehouse.connection(history_path(settings), read_only=True) as con:
            for source, at, outcome, message in con.execute(
                "select source, attempted_at, outcome, message from fetch_attempts order by attempted_at desc"
            ).fetchall():
                attempts.setdefault(source, []).append((at, outcome, message))
    rows = []
    for name, config in scrapers.registry().items():
        history = attempts.get(name, [])
        release, fetched = latest.get(name, (None, None))
        broken_since = None
        for at, outcome, _ in history:
            if outcome != "error":
                break
            broken_since = at
        age = (now.date() - release).days if release else None
        if history and history[0][1] == "error":
            state = "fetch broken"
        elif name not in latest:
            state = "never fetched"
        elif name in paper_only:
            state = "paper only"
        elif release is None:
            state = "release unknown"
        elif age is not None and age <= config.release_cadence_days:
            state = "fresh"
        elif age is not None and age <= 2 * config.release_cadence_days:
            state = "no new release yet"
        else:
            state = "overdue"
        rows.append(
            {
                "source": name,
                "state": state,
                "cadence": config.release_cadence,
                "cadence_days": config.release_cadence_days,
                "last_release": release,
                "release_age_days": age,
                "last_fetched": fetched,
                "last_attempt": history[0][0] if history else None,
                "broken_since": broken_since,
                "last_error": history[0][2] if history and history[0][1] == "error" else None,
            }
        )
    return rows


def latest_run(settings: Settings) -> dict[str, Any] | None:
    if not history_path(settings).exists():
        return None
    with warehouse.connection(history_path(settings), read_only=True) as con:
        row = con.execute(
            "select run_id, status, failed_stage, error, summary from runs order by finished_at desc limit 1"
        ).fetchone()
    if row is None:
        return None
    return {"run_id": row[0], "status": row[1], "failed_stage": row[2], "error": row[3], "summary": json.loads(row[4])}


def notify(settings: Settings, summary: dict[str, Any]) -> bool:
    """POST a failed or partial run's summary to UNIONSTAT_WEBHOOK_URL (Slack-style `text` plus the run)."""
    if not settings.webhook_url or summary.get("status") not in ("failed", "partial"):
        return False
    import requests

    text = f"unionstat refresh {summary['run_id']} {summary['status']}"
    if summary.get("failed_stage"):
        text += f" in stage {summary['failed_stage']}: {summary.get('error')}"
    for source, message in (summary.get("failed_sources") or {}).items():
        text += f"\n- {source}: {message}"
    try:
        response = requests.post(
            settings.webhook_url, json={"text": text, "run": summary}, timeout=settings.http_timeout_s
        )
        response.raise_for_status()
    except requests.RequestException as exc:
        LOG.warning("webhook %s not notified: %s", settings.webhook_url, exc)
        return False
    return True
