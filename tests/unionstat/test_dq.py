"""The publish gate and the data-quality report, with bad values planted in a copy of the reference snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.refresh import refresh
from tests.builders import worldbank_page, worldbank_row
from tests.conftest import Routes, file_digest, plant_recording, query
from unionstat import dq
from unionstat.cli import main
from unionstat.errors import StageFailed
from unionstat.settings import Settings

WB = "https://api.worldbank.org/v2/country/RUS;BLR/indicator/{code}?format=json&date=2010:2024&per_page=1000&page=1"


def plant(reference: Path, code: str, rows: list[dict]) -> None:  # type: ignore[type-arg]
    """Add a recording of a World Bank page (synthetic rows) to a copy of the reference snapshot."""
    body = worldbank_page(rows, lastupdated="2025-07-01")
    plant_recording(reference, "worldbank", WB.format(code=code), body, f"{code}.planted.json")


def last_run(history: Path) -> str:
    return str(query(history, "select run_id from runs order by finished_at desc limit 1")[0][0])


@pytest.mark.parametrize(
    ("code", "rows", "named"),
    [
        (
            "IP.PAT.RESD",
            [worldbank_row("RU", "RUS", "2021", -5, "IP.PAT.RESD")],
            r"expect_column_values_to_be_between on column 'value' failed for 1 of 1 rows; e\.g\. \[-5\.0\]",
        ),
        (
            "GB.XPD.RSDV.GD.ZS",
            [worldbank_row("RU", "RUS", "2021", 150.0, "GB.XPD.RSDV.GD.ZS")],
            r"expect_column_values_to_be_between on column 'value' failed for 1 of 1 rows; e\.g\. \[150\.0\]",
        ),
        (
            "SP.POP.TOTL",
            [
                worldbank_row("RU", "RUS", "2021", 1.0, "SP.POP.TOTL"),
                worldbank_row("RU", "RUS", "2021", 2.0, "SP.POP.TOTL"),
            ],
            r"expect_compound_columns_to_be_unique failed for 2 of 2 rows",
        ),
        (
            "TX.VAL.TECH.MF.ZS",
            [worldbank_row("RU", "RUS", "1850", 1.0, "TX.VAL.TECH.MF.ZS")],
            r"expect_column_values_to_match_regex on column 'date' failed for 1 of 1 rows; e\.g\. \['1850'\]",
        ),
    ],
    ids=["negative-count", "share-over-100", "duplicated-key", "implausible-year"],
)
def test_a_planted_bad_value_fails_the_gate_and_is_quarantined(
    published_reference: Settings,
    reference_copy: Path,
    code: str,
    rows: list[dict],
    named: str,  # type: ignore[type-arg]
) -> None:
    warehouse_env = published_reference
    before = file_digest(warehouse_env.published_db)
    plant(reference_copy, code, rows)

    # The gate quarantines the release and fails the World Bank alone; the only source of the run, it stops it.
    with pytest.raises(StageFailed, match=rf"stage 'validate'.*raw\.worldbank_observations: {named}"):
        refresh(sources=["worldbank"])

    assert file_digest(warehouse_env.published_db) == before
    history = dq.history_path(warehouse_env)
    assert query(history, "select count(*) from quarantine where table_name = 'raw.worldbank_observations'") == [
        (len(rows),)
    ]
    assert main(["dq"]) == 1  # a critical check failed in the latest run


def test_a_failing_error_dbt_test_stops_the_publish_and_keeps_its_failing_rows(
    published_reference: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The marts are checked by dbt tests: one at severity error (a mart suite's critical expectation before)
    stops the publish as the raw gate does, and its failing rows outlive the discarded build in the history."""
    warehouse_env = published_reference
    db = warehouse_env.published_db
    # Synthetic: Belarus's 2021 trade share with Russia at 150% (no share exceeds 100), written into the published
    # raw table as if an earlier release had loaded it. The raw gate sees only new snapshots, so the mart's dbt test
    # (trade_share between 0 and 100) is all that stands between the value and the publish.
    con = duckdb.connect(str(db))
    try:
        planted = con.execute(
            "update raw.belstat_cells as cell set value = 150, value_text = '150' "
            "from staging.stg_belstat__observations as obs "
            "where cell.snapshot_sha256 = obs.snapshot_sha256 and cell.row_number = obs.snapshot_row "
            "and obs.indicator_code = 'russia_share_foreign_trade_turnover' and obs.period = '2021'"
        ).fetchall()
    finally:
        con.close()
    assert planted == [(1,)]
    before = file_digest(db)

    with pytest.raises(StageFailed, match=r"stage 'transform'.*column_rules_mart_table5_shares_by_year"):
        refresh(as_of="2030-01-01")  # a new as-of date: everything is rebuilt from the raw tables

    assert file_digest(db) == before
    history = dq.history_path(warehouse_env)
    run = last_run(history)
    assert query(history, "select status, failed_stage from runs where run_id = ?", [run]) == [("failed", "transform")]
    failed = query(
        history,
        "select model, severity, status, failures, stored_failures from dbt_results "
        "where run_id = ? and status not in ('pass', 'success', 'warn', 'skipped')",
        [run],
    )
    assert len(failed) == 1
    model, severity, status, failures, relation = failed[0]
    assert (model, severity, status, failures) == ("mart_table5_shares_by_year", "error", "fail", 1)
    assert relation == "dbt_test__audit.column_rules_mart_table5_shares_by_year"
    rows = query(history, "select row_json from dbt_failures where run_id = ? and relation = ?", [run, relation])
    assert len(rows) == 1
    row = json.loads(rows[0][0])  # the row, and the column and the rule it breaks
    assert (row["failed_column"], row["failed_rule"], row["period"], row["trade_share"]) == (
        "trade_share",
        "accepted_range",
        "2021",
        150.0,
    )
    assert main(["dq"]) == 1  # the check that failed stopped the run
    out = capsys.readouterr().out
    assert "failed: dbt tests: mart_table5_shares_by_year: column_rules_mart_table5_shares_by_year" in out
    assert f"(error): 1 failing row breaking trade_share (accepted_range), kept in {relation}" in out


def test_the_report_shows_dbt_tests_beside_the_expectations(
    published_reference: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reference build publishes with dbt warnings (severity warn): counted from the marts, reported, their
    failing rows stored in the warehouse and copied into the history."""
    warehouse_env = published_reference
    history = dq.history_path(warehouse_env)
    run = last_run(history)
    no_units = query(warehouse_env.published_db, "select count(*) from marts.mart_variables where units is null")[0][0]
    assert no_units > 0  # the reference's WIPO and Rosstat figures compiled from the paper state no unit
    warned = query(
        history,
        "select severity, status, failures, stored_failures from dbt_results where run_id = ? and model = ? "
        "and name = 'not_null_mart_variables_units'",
        [run, "mart_variables"],
    )
    assert warned == [("warn", "warn", no_units, "dbt_test__audit.not_null_mart_variables_units")]
    stored = query(warehouse_env.published_db, "select count(*) from dbt_test__audit.not_null_mart_variables_units")
    assert stored == [(no_units,)]
    copied = query(history, "select count(*) from dbt_failures where run_id = ? and relation = ?", [run, warned[0][3]])
    assert copied == [(no_units,)]
    passed = query(history, "select count(*) from dbt_results where run_id = ? and status = 'pass'", [run])[0][0]
    assert passed > 100

    assert main(["dq"]) == 0
    out = capsys.readouterr().out
    assert f"dbt tests: {passed} pass, " in out
    units = query(
        warehouse_env.published_db,
        "select string_agg(indicator_code, ', ' order by indicator_code) from marts.mart_variables where units is null",
    )[0][0]
    assert f"warning: dbt tests: the variables catalog: no unit recorded for {units}" in out
    # a documented condition of the reference run is a note, worded from the mart's own reason
    assert "note: dbt tests: Table 2: Share of Women Inventors: no data — the paper states no period" in out
    report = (warehouse_env.reports_dir / "index.html").read_text()
    assert "Great Expectations: the raw rows loaded" in report and "dbt tests: what the build wrote" in report
    assert "<td>not_null_mart_variables_units</td><td>warn</td>" in report
    assert "<code>dbt_test__audit.not_null_mart_variables_units</code>" in report


def test_a_missing_year_stops_the_source_with_a_named_error(
    published_reference: Settings, reference_copy: Path
) -> None:
    warehouse_env = published_reference
    row = worldbank_row("RU", "RUS", "", 1.0, "SP.POP.TOTL")
    plant(reference_copy, "SP.POP.TOTL", [row])

    summary = refresh()

    assert summary["status"] == "partial"
    assert "indicator.id, countryiso3code and date in every row" in summary["failed_sources"]["worldbank"]
    assert query(warehouse_env.published_db, "select count(*) from raw.worldbank_observations") == [(0,)]


def test_a_planted_warning_publishes_and_is_reported(published_reference: Settings, reference_copy: Path) -> None:
    warehouse_env = published_reference
    plant(reference_copy, "SP.POP.TOTL", [{**worldbank_row("RU", "RUS", "2021", 1.0, "SP.POP.TOTL")}])
    body = reference_copy / "responses" / "worldbank" / "SP.POP.TOTL.planted.json"
    body.write_text(body.read_text().replace('"lastupdated": "2025-07-01"', '"lastupdated": ""'))

    summary = refresh()

    assert summary["status"] == "published"
    assert any("lastupdated" in w for w in summary["expectation_warnings"])
    report = (warehouse_env.reports_dir / "index.html").read_text()
    assert "lastupdated" in report
    assert query(warehouse_env.published_db, "select count(*) from raw.worldbank_observations") == [(1,)]


def test_the_report_keeps_every_run(published_reference: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    warehouse_env = published_reference  # the session's refresh of the reference snapshot, recorded as published
    refresh()
    runs = query(dq.history_path(warehouse_env), "select status from runs order by finished_at")
    assert runs == [("published",), ("unchanged",)]
    report = (warehouse_env.reports_dir / "index.html").read_text()
    assert report.count('<td class="ok">published</td>') == 1
    assert report.count('<td class="ok">unchanged</td>') == 1
    assert main(["dq"]) == 0
    out = capsys.readouterr().out
    assert "worldbank" in out and "2026-07-13" in out  # the newest real release in the reference snapshot
    assert "paper only" in out  # WIPO: only figures compiled from the paper, no publisher release to age
    # the no-op run is the latest; the build it kept, and that build's checks, stay in view
    first, second = (
        r[0] for r in query(dq.history_path(warehouse_env), "select run_id from runs order by finished_at")
    )
    lines = out.splitlines()
    assert lines[0] == f"latest run {second}: unchanged (nothing new: the published build stays)"
    assert lines[1] == f"latest build {first}: published; dbt built everything (nothing published yet)"
    assert lines[2].startswith(
        "  checks: 83 expectations passed, 1 expectation failed, 75 rows quarantined; dbt tests: "
    )
    assert "0 passed, 0 failed" not in out


def test_freshness_tells_broken_from_late(published_reference: Settings, reference_copy: Path) -> None:
    from datetime import UTC, datetime

    warehouse_env = published_reference  # the newest real World Bank release it holds: 2026-07-13 (90-day cadence)
    fresh = {r["source"]: r["state"] for r in dq.freshness(warehouse_env, today=datetime(2026, 8, 1, tzinfo=UTC))}
    late = {r["source"]: r["state"] for r in dq.freshness(warehouse_env, today=datetime(2026, 11, 1, tzinfo=UTC))}
    stale = {r["source"]: r["state"] for r in dq.freshness(warehouse_env, today=datetime(2027, 6, 1, tzinfo=UTC))}
    assert (fresh["worldbank"], late["worldbank"], stale["worldbank"]) == ("fresh", "no new release yet", "overdue")
    plant_recording(
        reference_copy,
        "worldbank",
        WB.format(code="NY.GDP.MKTP.KD.ZG"),
        b"<html>maintenance</html>",
        "maintenance.html",
        {"Content-Type": "text/html"},
    )
    with pytest.raises(StageFailed, match="every source failed.*an HTML page"):
        refresh(sources=["worldbank"])
    broken = {r["source"]: r for r in dq.freshness(warehouse_env)}
    assert broken["worldbank"]["state"] == "fetch broken"
    assert "an HTML page" in broken["worldbank"]["last_error"]


def test_a_failed_refresh_notifies_the_configured_webhook(
    warehouse_env: Settings, monkeypatch: pytest.MonkeyPatch, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    received: list[bytes] = []

    def do_post(req):  # type: ignore[no-untyped-def]
        received.append(req.rfile.read(int(req.headers["Content-Length"])))
        req.send_response(204)
        req.end_headers()

    routes.post_handlers["/hook"] = do_post
    monkeypatch.setenv("UNIONSTAT_WEBHOOK_URL", f"{base}/hook")
    monkeypatch.setenv("UNIONSTAT_REFERENCE_DIR", str(warehouse_env.warehouse_dir / "no-such-reference"))
    with pytest.raises(StageFailed, match="stage 'prepare'.*reference snapshot manifest not found"):
        refresh()
    assert len(received) == 1
    payload = json.loads(received[0])
    assert "failed in stage prepare" in payload["text"]
    assert payload["run"]["status"] == "failed"


def test_a_reader_of_the_history_and_a_run_being_recorded_never_block_each_other(warehouse_env: Settings) -> None:
    """DuckDB's file lock: a data engineer reading dq_history in another process while a refresh records a run."""
    first = {"run_id": "run-1", "started_at": "2026-01-01T00:00:00+00:00", "mode": "replay", "status": "published"}
    dq.record_run(warehouse_env, first)
    history = dq.history_path(warehouse_env)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb\n"
            f"con = duckdb.connect({str(history)!r}, read_only=True)\n"
            "print(con.execute('select count(*) from runs').fetchone()[0], flush=True)\n"
            "sys.stdin.readline()\n"
            "print(con.execute('select count(*) from runs').fetchone()[0], flush=True)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    try:
        assert reader.stdout.readline().strip() == "1"  # the reader holds the file open (a shared lock)
        dq.record_run(warehouse_env, first | {"run_id": "run-2", "status": "failed"})
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # it keeps reading the file it opened, undisturbed
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert reader.returncode == 0
    assert query(history, "select run_id, status from runs order by run_id") == [
        ("run-1", "published"),
        ("run-2", "failed"),
    ]
    assert [p.name for p in history.parent.iterdir() if p.name.startswith(".dq_history")] == []
