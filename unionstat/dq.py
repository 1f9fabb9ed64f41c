"""Data-quality history: every run's validation results, quarantined rows, fetch attempts and dbt results.

It lives in its own DuckDB file beside the published warehouse, because a run that fails the publish gate never
reaches the published warehouse, and its failures are exactly what a data engineer needs to see.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from scrapers.base import SourceConfig, layout_differences
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
create table if not exists dbt_failures (
    run_id varchar not null,
    recorded_at timestamptz not null,
    unique_id varchar not null,
    relation varchar not null,
    row_json varchar not null
);
alter table dbt_results add column if not exists name varchar;
alter table dbt_results add column if not exists model varchar;
alter table dbt_results add column if not exists severity varchar;
alter table dbt_results add column if not exists stored_failures varchar;
"""
DBT_COLUMNS = (
    "unique_id",
    "resource_type",
    "status",
    "failures",
    "message",
    "name",
    "model",
    "severity",
    "stored_failures",
)


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
    dbt_results = list(dbt_results)
    failing = _stored_failing_rows(settings, dbt_results)
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
        warehouse.insert_rows(con, "validation_results", rows)
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
        warehouse.insert_rows(con, "quarantine", q_rows)
        attempts = []
        for source, message in summary.get("failed_sources", {}).items():
            # a snapshot that failed to parse is quarantined: its fetch (or import) worked, and no later run fails
            outcome = "quarantined" if source in summary.get("quarantined", {}) else "error"
            attempts.append([run_id, now, source, outcome, 0, message])
        for source, count in summary.get("new_snapshots", {}).items():
            if source not in summary.get("failed_sources", {}):
                attempts.append([run_id, now, source, "new" if count else "unchanged", count, None])
        warehouse.insert_rows(con, "fetch_attempts", attempts)
        d_rows = [[run_id, *(r.get(column) for column in DBT_COLUMNS)] for r in dbt_results]
        warehouse.insert_rows(con, "dbt_results", d_rows, columns=("run_id", *DBT_COLUMNS))
        warehouse.insert_rows(con, "dbt_failures", [[run_id, now, *row] for row in failing])


def read_dbt_results(run_results: Path, manifest: Path | None = None) -> list[dict[str, Any]]:
    """dbt's own artifacts: one dict per node of the build's run_results.json; a data test's name, the model it
    tests, its severity and the relation holding its failing rows (`store_failures`) from the build's manifest
    (by default dbt_target/manifest.json beside the results)."""
    if not run_results.is_file():
        return []
    payload = json.loads(run_results.read_text(encoding="utf-8"))
    manifest = manifest or run_results.parent / "dbt_target" / "manifest.json"
    nodes: dict[str, Any] = {}
    if manifest.is_file():
        parsed = json.loads(manifest.read_text(encoding="utf-8"))
        nodes = {**parsed.get("nodes", {}), **parsed.get("unit_tests", {})}
    results = []
    for item in payload.get("results", []):
        unique_id = item.get("unique_id", "")
        resource_type = unique_id.split(".", 1)[0]
        node = nodes.get(unique_id, {})
        config = node.get("config") or {}
        severity = config.get("severity") if resource_type == "test" else None
        tested = node.get("attached_node") or node.get("model") or ""
        stored = config.get("store_failures") and (item.get("relation_name") or node.get("relation_name"))
        results.append(
            {
                "unique_id": unique_id,
                "resource_type": resource_type,
                "status": str(item.get("status")),
                "failures": item.get("failures"),
                "message": item.get("message"),
                "name": node.get("name"),
                "model": tested.rsplit(".", 1)[-1] or None,
                "severity": str(severity).lower() if severity else None,
                "stored_failures": _unquoted(stored) if stored else None,
            }
        )
    return results


STORED_ROWS_LIMIT = 100  # failing rows of one dbt test copied into the history (the relation holds them all)


def _stored_failing_rows(settings: Settings, dbt_results: list[dict[str, Any]]) -> list[list[Any]]:
    """The failing rows dbt stored (`store_failures`) for the tests that failed or warned, read from the build
    (a failed run's build is discarded after it is recorded) or, once published, the published warehouse:
    [unique_id, relation, row as JSON], at most STORED_ROWS_LIMIT per test."""
    stored = [r for r in dbt_results if r.get("stored_failures") and r["status"] in ("fail", "warn")]
    database = settings.build_db if settings.build_db.exists() else settings.published_db
    if not stored or not database.exists():
        return []
    rows: list[list[Any]] = []
    with warehouse.connection(database, read_only=True) as con:
        relations = con.execute("select table_schema || '.' || table_name from information_schema.tables")
        existing = {str(name) for (name,) in relations.fetchall()}
        for result in (r for r in stored if r["stored_failures"] in existing):
            schema, table = str(result["stored_failures"]).split(".", 1)
            cursor = con.execute(f'select * from "{schema}"."{table}" limit {STORED_ROWS_LIMIT}')  # noqa: S608
            names = [str(d[0]) for d in cursor.description or []]
            for values in cursor.fetchall():
                row = json.dumps(dict(zip(names, values, strict=True)), default=str)
                rows.append([result["unique_id"], result["stored_failures"], row])
    return rows


def _unquoted(relation: str) -> str:
    """dbt's quoted relation name ("db"."schema"."table") as schema.table, as a query of the warehouse names it."""
    return ".".join(part.strip('"') for part in relation.split(".")[-2:])


FRESHNESS_STATES = (
    "withdrawn",
    "fresh",
    "no new release yet",
    "overdue",
    "release unknown",
    "paper only",
    "fetch broken",
    "never fetched",
)
#: A fetch error saying the page is gone: a hint to record a withdrawal, never one by itself (a moved page says so too).
GONE = re.compile(r"\bHTTP (?:404|410)\b")
#: Snapshots that are no publisher release: their dates say nothing about the publisher's calendar.
NOT_RELEASES = ("compiled_from_paper", "synthetic")


def freshness(
    settings: Settings, today: datetime | None = None, registry: Mapping[str, SourceConfig] | None = None
) -> list[dict[str, Any]]:
    """Per source: is its data as fresh as its publisher's release calendar promises, and is fetching working?

    Datasets the registry marks `withdrawn` (the publisher stopped publishing them) are listed in `withdrawn` and
    their releases do not count: they never make a source overdue.

    - withdrawn: every dataset of the source is withdrawn (nothing more will come);
    - fetch broken: the source's last fetch attempt failed (since when, and why);
    - never fetched: no snapshot in the published warehouse;
    - paper only: every snapshot is compiled from the paper (no publisher release to be fresh or stale);
    - release unknown: the publisher states no release date (the fetch time is no release date);
    - fresh: the newest release is younger than the publisher's release cadence;
    - no new release yet: older than the cadence but within twice it (the publisher may simply be late);
    - overdue: older than twice the cadence.
    """
    import scrapers

    registry = registry if registry is not None else scrapers.registry()
    gone = [[name, dataset] for name, config in registry.items() for dataset in config.withdrawn]
    now = today or datetime.now(UTC)
    latest: dict[str, tuple[Any, Any]] = {}
    paper_only: set[str] = set()
    if settings.published_db.exists():
        with warehouse.connection(settings.published_db, read_only=True) as con:
            for source, release, fetched, releases in con.execute(
                "select source, max(release_date) filter (where origin not in $paper), max(fetched_at), "
                "count(*) filter (where origin not in $paper) "
                "from raw.snapshots where not list_contains($gone, [source, dataset]) group by source",
                {"paper": list(NOT_RELEASES), "gone": gone},
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
    for name, config in registry.items():
        history = attempts.get(name, [])
        release, fetched = latest.get(name, (None, None))
        broken_since = None
        for at, outcome, _ in history:
            if outcome != "error":
                break
            broken_since = at
        age = (now.date() - release).days if release else None
        reason = None
        withdrawn = [f"{d} (since {w['since']}: {w['evidence']})" for d, w in config.withdrawn.items()]
        if len(config.withdrawn) == len(config.datasets):
            state = "withdrawn"
            reason = "the publisher stopped publishing every dataset: " + "; ".join(withdrawn)
        elif history and history[0][1] == "error":
            state = "fetch broken"
            reason = f"since {broken_since:%Y-%m-%d %H:%M} UTC" if broken_since else None
            if GONE.search(str(history[0][2] or "")):
                hint = "answered 404/410: moved, or withdrawn? If the publisher withdrew it, record it in sources.json"
                reason = f"{reason}; {hint}" if reason else hint
        elif name not in latest:
            state = "never fetched"
            reason = "no snapshot in the published warehouse"
        elif name in paper_only:
            state = "paper only"
            reason = "every snapshot is compiled from the paper: no publisher release to date"
        elif release is None:
            state = "release unknown"
            reason = "no file loaded states its release date (a fetch time is no release date)"
        elif age is not None and age <= config.release_cadence_days:
            state = "fresh"
        elif age is not None and age <= 2 * config.release_cadence_days:
            state = "no new release yet"
        else:
            state = "overdue"
        if age is not None and state not in ("fetch broken", "withdrawn"):
            reason = (
                f"last release {release:%Y-%m-%d}, {age} days ago; expected every {config.release_cadence_days} days"
            )
        if withdrawn and state != "withdrawn":
            reason = "; ".join([*([reason] if reason else []), "withdrawn by the publisher: " + "; ".join(withdrawn)])
        rows.append(
            {
                "source": name,
                "state": state,
                "reason": reason,
                "cadence": config.release_cadence,
                "cadence_days": config.release_cadence_days,
                "last_release": release,
                "release_age_days": age,
                "last_fetched": fetched,
                "last_attempt": history[0][0] if history else None,
                "broken_since": broken_since,
                "last_error": history[0][2] if history and history[0][1] == "error" else None,
                "withdrawn": withdrawn,
            }
        )
    return rows


def layout_changes(con: duckdb.DuckDBPyConnection, shas: Iterable[str]) -> list[dict[str, Any]]:
    """For each subject these snapshots belong to (a dataset, or a file across renames): its newest loaded
    snapshot's layout against the one before, where their fingerprints differ, with what changed in words. Newest:
    the latest release date (else first fetch); retracted snapshots do not count. A changed layout loads all the
    same: its rows still have to pass the critical expectations, the gate before anything publishes."""
    rows = con.execute(
        """
        with layouts as (
            select
                l.source, l.subject, l.dataset, l.sha256, l.fingerprint, l.layout, l.release_date,
                min(s.fetched_at) as first_fetched,
                arg_min(s.request_url, s.fetched_at) as request_url
            from raw.snapshot_layouts l
            inner join raw.snapshots s on s.sha256 = l.sha256
            where l.sha256 in (select sha256 from raw.loads)
              and l.sha256 not in (
                  select sha256 from raw.snapshot_retractions
                  qualify row_number() over (partition by sha256 order by recorded_at desc) = 1 and action = 'retract'
              )
            group by all
        ),
        touched as (select distinct source, subject from layouts where list_contains($shas, sha256))
        select l.source, l.subject, l.dataset, l.sha256, l.fingerprint, l.layout, l.release_date, l.request_url
        from layouts l
        inner join touched t on l.source = t.source and l.subject = t.subject
        qualify row_number() over (
            partition by l.source, l.subject
            order by coalesce(l.release_date, cast(l.first_fetched as date)) desc, l.first_fetched desc, l.sha256 desc
        ) <= 2
        order by l.source, l.subject, coalesce(l.release_date, cast(l.first_fetched as date)) desc,
            l.first_fetched desc, l.sha256 desc
        """,
        {"shas": sorted(set(shas))},
    ).fetchall()
    pairs: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for row in rows:
        pairs.setdefault((row[0], row[1]), []).append(row)
    changes = []
    for (source, subject), pair in pairs.items():
        if len(pair) < 2 or pair[0][4] == pair[1][4]:
            continue
        newest, before = pair
        changes.append(
            {
                "source": source,
                "dataset": newest[2],
                "subject": subject,
                "since": release_label(before[6], before[7], before[3]),
                "release": release_label(newest[6], newest[7], newest[3]),
                "changes": layout_differences(json.loads(before[5]), json.loads(newest[5])),
            }
        )
    return changes


def release_label(release_date: Any, request_url: str, sha256: str) -> str:
    """A release as a person names it: its date, else the file or URL it came as (imports state no date)."""
    if release_date is not None:
        return f"{release_date:%Y-%m-%d} (snapshot {sha256[:12]})"
    name = request_url.rstrip("/").rsplit("/", 1)[-1].removeprefix("file:")
    return f"{name} (snapshot {sha256[:12]})"


def latest_run(settings: Settings, built: bool = False) -> dict[str, Any] | None:
    """The latest run recorded; with `built`, the latest that built something (a run that found nothing new
    builds nothing and checks nothing: the build it kept is the one before)."""
    where = "where status <> 'unchanged' " if built else ""
    rows = history_rows(
        settings,
        f"select run_id, status, failed_stage, error, summary from runs {where}"  # noqa: S608
        "order by finished_at desc limit 1",
    )
    return {**rows[0], "summary": json.loads(rows[0]["summary"])} if rows else None


def dbt_tests(settings: Settings, run_id: str) -> list[dict[str, Any]]:
    """The dbt tests a run ran (data and unit tests): name, model, severity, status, failing rows and where they
    are stored; failures first."""
    return history_rows(
        settings,
        "select name, model, severity, status, failures, stored_failures, message, unique_id from dbt_results "
        "where run_id = ? and resource_type in ('test', 'unit_test') "
        "order by case status when 'error' then 0 when 'fail' then 1 when 'warn' then 2 else 3 end, model, name",
        [run_id],
    )


def broken_rules(settings: Settings, run_id: str, unique_id: str) -> list[str]:
    """For a column_rules test (one test for a model's one-column rules): the rules its kept failing rows break,
    as 'column (rule)', sorted."""
    rows = history_rows(
        settings,
        "select distinct json_extract_string(row_json, '$.failed_column') || ' (' || "
        "json_extract_string(row_json, '$.failed_rule') || ')' as broken from dbt_failures "
        "where run_id = ? and unique_id = ? and json_extract_string(row_json, '$.failed_rule') is not null "
        "order by all",
        [run_id, unique_id],
    )
    return [str(row["broken"]) for row in rows]


def history_rows(settings: Settings, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """A query of the data-quality history, read-only, as one dict per row; [] while no run has been recorded."""
    if not history_path(settings).exists():
        return []
    with warehouse.connection(history_path(settings), read_only=True) as con:
        cursor = con.execute(sql, params or [])
        names = [str(d[0]) for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


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
