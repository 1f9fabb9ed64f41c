"""A release whose rows fail a critical expectation is quarantined at the publish gate: its source fails alone.

An imported World Bank-shaped bulk CSV with an R&D expenditure of 250 % of GDP (the suite's critical ceiling is
100 %) is taken in beside a good WIPO export. The refresh is `partial`: the World Bank snapshot goes to
raw.snapshot_quarantine with a reason naming the expectation, the table and the value, none of its rows reaches
the warehouse, and the WIPO rows are published. The next refresh neither fails nor loads it again. Once the check
is fixed, `unionstat unretract SHA --reason ...` lifts the quarantine (recorded in the store's journal) and the next
refresh loads and checks the snapshot again. Both files are synthetic.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from flows.refresh import GATE_REASON, blame, refresh
from tests.builders import wipo_table_export, worldbank_bulk_csv, worldbank_page, worldbank_row
from tests.conftest import PROJECT_ROOT, plant_recording, query
from tests.reliability.conftest import FIGURES, WB_GDP_PAGE
from tests.reliability.test_retraction import GDP_2023_RUS, GDP_2023_RUS_REFERENCE, cli
from unionstat import dq
from unionstat.settings import Settings
from unionstat.snapshots import os_user, retraction_journal, sha256_of

RD = "GB.XPD.RSDV.GD.ZS"  # research and development expenditure (% of GDP): critical between 0 and 100
RD_NAME = f"API_{RD}_DS2_en_csv_v2_9.csv"
RD_CEILING = '"max_value": 100'
RD_ROWS = "select count(*) from intermediate.int_observations__published where snapshot_sha256 = ?"
RAW_ROWS = "select count(*) from raw.worldbank_bulk where snapshot_sha256 = ?"
WIPO_ROWS = "select count(*) from raw.wipo_observations where snapshot_sha256 = ?"


def test_a_release_failing_a_critical_check_is_quarantined_and_its_source_fails_alone(
    published_reference: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, db = published_reference, published_reference.published_db
    loads_before = query(db, "select count(*) from raw.loads")[0][0]
    bad = tmp_path / RD_NAME
    bad.write_bytes(worldbank_bulk_csv({"RUS": {"2023": "250"}, "BLR": {"2023": "0.5"}}, "2025-07-01", RD))
    good = tmp_path / "patent_1.csv"
    good.write_bytes(
        wipo_table_export(
            [("Russian Federation", "RU", {"2021": "1234", "2022": "56"}), ("Belarus", "BY", {"2022": "7"})]
        )
    )
    bad_sha, good_sha = sha256_of(bad.read_bytes()), sha256_of(good.read_bytes())

    # 1. The refresh goes on without the bad release: partial, the World Bank failed with the reason, WIPO published.
    summary = refresh(import_paths=[str(bad), str(good)])
    assert summary["status"] == "partial"
    assert set(summary["failed_sources"]) == {"worldbank"}
    assert summary["quarantined"] == {"worldbank": [bad_sha]}
    expected = f"{GATE_REASON}raw.worldbank_bulk: expect_column_values_to_be_between on column 'value' failed for 1 of"
    reason = summary["failed_sources"]["worldbank"]
    assert reason.startswith(f"snapshot {bad_sha[:12]} quarantined: {expected}") and "e.g. [250.0]" in reason
    assert summary["build_selection"] == "source:wipo+"
    [(sha, source, run_id, stored)] = query(db, "select sha256, source, run_id, reason from raw.snapshot_quarantine")
    assert (sha, source, run_id) == (bad_sha, "worldbank", summary["run_id"])
    assert stored.startswith(expected) and "e.g. [250.0]" in stored
    # None of its rows is in the warehouse; its bytes stay in the store.
    assert query(db, RAW_ROWS, [bad_sha]) == [(0,)]
    assert query(db, "select count(*) from raw.loads where sha256 = ?", [bad_sha]) == [(0,)]
    assert query(db, RD_ROWS, [bad_sha]) == [(0,)]
    assert (settings.snapshot_dir / bad_sha[:2] / bad_sha).is_file()
    # The good file of the same run is published (2021 and 2022 for Russia, 2022 for Belarus, as written above).
    assert query(db, WIPO_ROWS, [good_sha]) == [(3,)]
    assert query(db, RD_ROWS, [good_sha])[0][0] > 0
    assert query(db, GDP_2023_RUS) == [(GDP_2023_RUS_REFERENCE,)]
    # `snapshots` names it with its reason; the World Bank's fetch is not called broken.
    code, out, _ = cli(capsys, "snapshots")
    assert code == 0
    assert re.search(rf"{bad_sha[:12]} imported +quarantined \({re.escape(expected)}", out), out
    states = {row["source"]: row for row in dq.freshness(settings)}
    assert states["worldbank"]["state"] != "fetch broken" and states["worldbank"]["last_error"] is None
    code, out, _ = cli(capsys, "dq")
    assert code == 1 and "failed: Great Expectations: raw.worldbank_bulk, column value: 1 of" in out

    # 2. The next refresh is not blocked: nothing failed, nothing loaded again, nothing to rebuild.
    later = refresh()
    assert (later["status"], later["failed_sources"], later["rows_loaded"]) == ("unchanged", {}, {})
    assert query(db, "select count(*) from raw.loads")[0][0] == loads_before + 1  # the WIPO export
    assert query(db, "select count(*) from raw.snapshot_quarantine") == [(1,)]
    assert cli(capsys, "dq")[0] == 0

    # 3. The check was wrong (say the ceiling is 300 %): fixed, then the quarantine is lifted, with a reason.
    code, _, err = cli(capsys, "unretract", bad_sha[:12])
    assert code == 2 and "lifting a quarantine needs --reason (why the check was wrong)" in err
    code, out, _ = cli(capsys, "unretract", bad_sha[:12], "--reason", "the R&D ceiling was wrong")
    assert code == 0 and f"lifted the quarantine of snapshot {bad_sha[:12]} (worldbank {RD}, imported)" in out
    [entry] = retraction_journal(settings.snapshot_dir)
    assert (entry.sha256, entry.action, entry.reason, entry.recorded_by) == (
        bad_sha,
        "release",
        "the R&D ceiling was wrong",
        os_user(),
    )
    code, out, _ = cli(capsys, "snapshots")
    assert re.search(rf"{bad_sha[:12]} imported +released \(from quarantine by {os_user()} at .*: the R&D", out)
    suites = tmp_path / "expectations"
    shutil.copytree(PROJECT_ROOT / "expectations", suites)
    suite = suites / "raw.worldbank_bulk.json"
    assert suite.read_text(encoding="utf-8").count(RD_CEILING) == 1
    suite.write_text(suite.read_text(encoding="utf-8").replace(RD_CEILING, '"max_value": 300'), encoding="utf-8")
    json.loads(suite.read_text(encoding="utf-8"))
    monkeypatch.setattr(Settings, "expectations_dir", property(lambda self: suites))

    released = refresh()
    assert (released["status"], released["failed_sources"], released["quarantined"]) == ("published", {}, {})
    assert released["rows_loaded"] == {"raw.worldbank_bulk": 2 * 65}  # two lines of 1960-2024
    assert query(db, RD_ROWS, [bad_sha])[0][0] > 0
    code, out, _ = cli(capsys, "snapshots")
    assert re.search(rf"{bad_sha[:12]} imported +loaded\n", out), out
    FIGURES.end_to_end.append(
        "a release failing a critical check: quarantined at the gate, its source failed alone (partial), the next "
        "refresh unchanged; its quarantine lifted after the check was fixed, it loads"
    )


def test_a_fetched_release_failing_a_critical_check_does_not_block_later_refreshes(
    published_reference: Settings, reference_copy: Path
) -> None:
    """The issue's case: a fetched page (replayed from a copy of the reference) with a country code that is not
    ISO3. Every refresh used to fail on it until it was retracted by hand; now the first is `partial`, the next
    `unchanged`."""
    db = published_reference.published_db
    page = worldbank_page([worldbank_row("BY", "BELARUS", "2023", 3.9), worldbank_row("RU", "RUS", "2023", 3.6)])
    plant_recording(reference_copy, "worldbank", WB_GDP_PAGE, page, "gdp.planted.json")
    sha = sha256_of(page)

    summary = refresh()
    assert (summary["status"], summary["quarantined"]) == ("partial", {"worldbank": [sha]})
    assert set(summary["failed_sources"]) == {"worldbank"}
    assert (
        "raw.worldbank_observations: expect_column_values_to_match_regex on column 'countryiso3code'"
        in (summary["failed_sources"]["worldbank"])
    )
    assert query(db, "select count(*) from raw.worldbank_observations where snapshot_sha256 = ?", [sha]) == [(0,)]
    assert query(db, "select sha256, source from raw.snapshot_quarantine") == [(sha, "worldbank")]
    later = refresh()
    assert (later["status"], later["failed_sources"], later["rows_loaded"]) == ("unchanged", {}, {})


def outcome(table: str, kind: str, severity: str, snapshots: list[str], column: str | None = "value") -> Any:
    from unionstat.validate import ExpectationOutcome

    return ExpectationOutcome("suite", table, kind, column, severity, False, 4, 1, [250.0], snapshots)


def failing_row(table: str, kind: str, severity: str, sha: str | None) -> dict[str, Any]:
    return {"table": table, "expectation_type": kind, "column": "value", "severity": severity, "snapshot_sha256": sha}


def test_blame_names_the_snapshots_of_failing_rows_else_every_snapshot_of_the_table() -> None:
    from unionstat.validate import ValidationReport

    a, b, c = "a" * 64, "b" * 64, "c" * 64
    between, unique = "expect_column_values_to_be_between", "expect_table_row_count_to_be_between"
    report = ValidationReport(
        outcomes=[
            outcome("raw.t", between, "critical", [a, b]),  # a row of b fails: b alone
            outcome("raw.u", unique, "critical", [c], column=None),  # the whole table: every snapshot loaded into it
            outcome("raw.t", "expect_column_values_to_not_be_null", "warning", [a, b]),  # a warning blames nobody
        ],
        quarantined=[
            failing_row("raw.t", between, "critical", b),
            failing_row("raw.t", "expect_column_values_to_not_be_null", "warning", a),
        ],
    )
    reasons = blame(report)
    assert sorted(reasons) == [b, c]
    assert reasons[b] == (
        f"{GATE_REASON}raw.t: expect_column_values_to_be_between on column 'value' failed for 1 of 4 rows; e.g. [250.0]"
    )
    assert reasons[c].startswith(f"{GATE_REASON}raw.u: expect_table_row_count_to_be_between failed")
    # A failing row without its snapshot cannot be pinned down: every snapshot of the table is blamed.
    report.quarantined = [failing_row("raw.t", between, "critical", None)]
    assert sorted(blame(report)) == [a, b, c]
