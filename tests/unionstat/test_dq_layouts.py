"""Layout drift in the warehouse and the data-quality report: raw.snapshot_layouts written with the rows, "layout
changed since release X" said with what changed, the critical checks still the gate, withdrawn datasets shown as
withdrawn."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

import scrapers
from flows.refresh import refresh
from scrapers import REGISTRY_PATH, load_registry
from scrapers.base import SourceConfig
from tests.builders import worldbank_bulk_csv
from tests.conftest import query
from unionstat import dq, report, warehouse
from unionstat.cli import main
from unionstat.settings import Settings

#: The two real Belstat wage workbooks of the reference snapshot (PROVENANCE.md: sha256 first 16 4f7ae662d41cd023
#: and 59c0cca361408852); January 2025's is the first with bilingual labels.
DECEMBER, JANUARY = (
    "nach_sr_zarplata-2412.xlsx (snapshot 4f7ae662d41c)",
    "nach_sr_zarplata-2501.xlsx (snapshot 59c0cca36140)",
)


def test_every_loaded_snapshot_has_its_layout_stored_with_its_fingerprint(published_reference: Settings) -> None:
    db = published_reference.published_db
    loaded = query(db, "select count(distinct sha256) from raw.loads")[0][0]
    stored = query(db, "select sha256, fingerprint, layout, run_id from raw.snapshot_layouts")
    assert loaded > 20 and len(stored) == loaded
    assert {sha for sha, *_ in stored} == {sha for (sha,) in query(db, "select distinct sha256 from raw.loads")}
    for _, fingerprint, text, _ in stored:
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == fingerprint
    # the real Rosstat workbook, as openpyxl lists its sheets: a contents sheet, then 1..9
    (text,) = query(
        db,
        "select l.layout from raw.snapshot_layouts l join raw.snapshots s using (sha256) "
        "where s.request_url like '%VDS_god_OKVED2.xlsx' limit 1",
    )[0]
    assert [s["sheet"] for s in json.loads(text)["sheets"]] == ["Содержание", *map(str, range(1, 10))]
    # the load that wrote the rows wrote the layouts (one run: the session's reference refresh)
    assert len({run for *_, run in stored}) == 1


def test_the_reference_run_reports_belstats_bilingual_workbook_as_a_layout_change(
    reference_build: dict[str, Any], published_reference: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    changes = reference_build["summary"]["layout_changes"]
    # the only subject whose two real releases differ in layout: every World Bank pair is alike
    assert [(c["source"], c["subject"], c["since"], c["release"]) for c in changes] == [
        ("belstat", "average_wages_by_activity", DECEMBER, JANUARY)
    ]
    assert [c.split(":")[0] for c in changes[0]["changes"]] == ["sheet 'Лист1'.headers", "sheet 'Лист1'.title"]

    assert main(["dq"]) == 0
    out = capsys.readouterr().out
    expected = (
        f"note: layouts: belstat average_wages_by_activity: layout changed since release {DECEMBER}, in {JANUARY}: "
    )
    assert expected in out  # documented in the README's reference run: a note there, a warning in a live run
    html = report.render(published_reference).read_text(encoding="utf-8")
    assert f'<td class="warn">{DECEMBER}</td>' in html and "Nominal gross" in html


def test_a_changed_layout_with_bad_rows_is_quarantined_not_published(
    published_reference: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = published_reference
    # synthetic release of SP.POP.TOTL: a new "Data Note" preamble line (a layout change) and a negative population
    body = worldbank_bulk_csv({"RUS": {"2023": "-5"}, "BLR": {"2023": "9200000"}}, "2026-08-01", "SP.POP.TOTL")
    text = body.decode("utf-8-sig").replace('"Last Updated Date"', '"Data Note","synthetic",\n\n"Last Updated Date"')
    path = tmp_path / "API_SP.POP.TOTL_DS2_en_csv_v2_1.csv"
    path.write_text(text, encoding="utf-8-sig")

    result = refresh(import_paths=[str(path)])

    # the critical check is still the gate: the release is quarantined and none of its rows is published
    assert result["status"] == "partial"
    assert "raw.worldbank_bulk: expect_column_values_to_be_between" in result["failed_sources"]["worldbank"]
    [(sha, reason)] = query(settings.published_db, "select sha256, reason from raw.snapshot_quarantine")
    assert "expect_column_values_to_be_between on column 'value'" in reason
    assert query(settings.published_db, "select count(*) from raw.worldbank_bulk where snapshot_sha256 = ?", [sha]) == [
        (0,)
    ]
    (summary,) = query(dq.history_path(settings), "select summary from runs order by finished_at desc limit 1")[0]
    (change,) = json.loads(summary)["layout_changes"]
    # the reference's real SP.POP.TOTL CSV (Last Updated 2024-05-30, sha256 6c0fdd286849...) is the one before
    assert (change["source"], change["subject"]) == ("worldbank", "SP.POP.TOTL")
    assert change["since"] == "2024-05-30 (snapshot 6c0fdd286849)"
    assert change["changes"] == ["preamble_keys: added 'Data Note'"]
    assert main(["dq"]) == 1
    out = capsys.readouterr().out
    assert (
        "warning: layouts: worldbank SP.POP.TOTL: layout changed since release 2024-05-30 (snapshot 6c0fdd286849)"
        in out
    )
    assert "failed: Great Expectations: raw.worldbank_bulk" in out


def _prepared(layouts: list[tuple[str, str, Any, dict[str, Any]]]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the core schema and one loaded snapshot per (sha256, subject, release date,
    layout): synthetic rows, fetched in list order."""
    con = duckdb.connect()
    warehouse.ensure_schema(con, [])
    for minute, (sha, subject, release, described) in enumerate(layouts):
        fetched = datetime(2030, 1, 1, 0, minute, tzinfo=UTC)
        con.execute(
            "insert into raw.snapshots (sha256, source, dataset, request_url, origin, fetched_at, size_bytes, "
            "release_date, run_id) values (?, 'rosstat', 'rnd_index', ?, 'imported', ?, 1, ?, 'r')",
            [sha, f"file:{sha[:4]}.xlsx", fetched, release],
        )
        con.execute("insert into raw.loads values (?, 'raw.rosstat_cells', 1, ?, 'r')", [sha, fetched])
        text = json.dumps(described, sort_keys=True)
        fingerprint = hashlib.sha256(text.encode()).hexdigest()
        con.execute(
            "insert into raw.snapshot_layouts values (?, 'rosstat', 'rnd_index', ?, ?, ?, ?, ?, 'r')",
            [sha, subject, fingerprint, text, release, fetched],
        )
    return con


def test_layout_changes_compare_the_newest_release_with_the_one_before() -> None:
    old = {"sheets": [{"sheet": "1", "role": "table"}]}
    new = {"sheets": [{"sheet": "1a", "role": "table"}]}
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    # fetched in the order a, c, b; released in the order a, b, c: c is the newest, b the one before it
    con = _prepared([(a, "s", date(2024, 1, 1), old), (c, "s", date(2026, 1, 1), new), (b, "s", date(2025, 1, 1), old)])
    (change,) = dq.layout_changes(con, [c])
    assert change["since"] == f"2025-01-01 (snapshot {b[:12]})"
    assert change["release"] == f"2026-01-01 (snapshot {c[:12]})"
    assert change["changes"] == ["sheet '1' renamed '1a'"]
    # a subject none of the given snapshots belongs to is not compared; the same layout is no change
    assert dq.layout_changes(con, ["d" * 64]) == []
    con.execute("update raw.snapshot_layouts set fingerprint = 'x', layout = ? where sha256 = ?", [json.dumps(new), b])
    con.execute("update raw.snapshot_layouts set fingerprint = 'x' where sha256 = ?", [c])
    assert dq.layout_changes(con, [c]) == []


def test_a_retracted_release_is_not_the_one_before() -> None:
    old, new = {"header": ["Origin"]}, {"header": ["Origin", "Unit"]}
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    con = _prepared([(a, "s", date(2024, 1, 1), new), (b, "s", date(2025, 1, 1), old), (c, "s", date(2026, 1, 1), new)])
    assert [x["changes"] for x in dq.layout_changes(con, [c])] == [["header: added 'Unit'"]]
    con.execute("insert into raw.snapshot_retractions values (?, 'retract', 'synthetic', 'test', now())", [b])
    assert dq.layout_changes(con, [c]) == []  # against a, whose layout it shares


def _registry(tmp_path: Path, withdrawn: dict[str, dict[str, Any]]) -> dict[str, SourceConfig]:
    """The real registry with `withdrawn` entries added: synthetic, no publisher said so."""
    entries = json.loads(REGISTRY_PATH.read_text(encoding="utf-8"))
    for source, items in withdrawn.items():
        entries[source]["withdrawn"] = items
    path = tmp_path / "sources.json"
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return load_registry(path)


SYNTHETIC = {"since": "2024-05-01", "evidence": "synthetic: a test's entry, no publisher said so"}


def test_a_withdrawn_dataset_is_shown_withdrawn_not_overdue(
    published_reference: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    later = datetime(2030, 1, 1, tzinfo=UTC)
    plain = {r["source"]: r for r in dq.freshness(published_reference, today=later)}
    assert (plain["rosstat"]["state"], plain["worldbank"]["state"]) == ("overdue", "overdue")
    assert plain["worldbank"]["last_release"].isoformat() == "2026-07-13"  # R&D and researchers, read in the files

    registry = _registry(
        tmp_path,
        {
            "rosstat": {"software_development_index": SYNTHETIC, "rnd_index": SYNTHETIC},
            "worldbank": {"GB.XPD.RSDV.GD.ZS": SYNTHETIC, "SP.POP.SCIE.RD.P6": SYNTHETIC},
        },
    )
    rows = {r["source"]: r for r in dq.freshness(published_reference, today=later, registry=registry)}
    assert rows["rosstat"]["state"] == "withdrawn"
    assert rows["rosstat"]["reason"].startswith(
        "the publisher stopped publishing every dataset: software_development_index (since 2024-05-01: synthetic"
    )
    # World Bank's other datasets are still published: overdue by them alone, its newest release now 2026-01-28
    assert rows["worldbank"]["state"] == "overdue"
    assert rows["worldbank"]["last_release"].isoformat() == "2026-01-28"
    assert "withdrawn by the publisher: GB.XPD.RSDV.GD.ZS (since 2024-05-01: synthetic" in rows["worldbank"]["reason"]

    monkeypatch.setattr(scrapers, "registry", lambda: registry)
    assert main(["dq"]) == 0
    rosstat_line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("rosstat"))
    assert "withdrawn" in rosstat_line and "overdue" not in rosstat_line
    html = report.render(published_reference).read_text(encoding="utf-8")
    assert '<td class="">\nwithdrawn</td>' in html


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"since": "2024-05-01"}, r"rosstat\.withdrawn\.rnd_index: expected a dataset of .* with"),
        ({"since": "May 2024", "evidence": "x"}, r"Invalid isoformat string: 'May 2024'"),
    ],
)
def test_a_withdrawn_entry_needs_a_date_and_its_evidence(tmp_path: Path, item: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _registry(tmp_path, {"rosstat": {"rnd_index": item}})


def test_a_gone_page_is_fetch_broken_with_a_hint_not_withdrawn(published_reference: Settings) -> None:
    # a synthetic failed run: Rosstat's catalogue page answered 410 (SOURCES.md: old /folder/NNNN pages answer 404)
    error = "[rosstat] https://rosstat.gov.ru/statistics/science: expected HTTP 200; found HTTP 410 Gone"
    started = datetime(2030, 1, 1, tzinfo=UTC).isoformat()
    dq.record_run(
        published_reference,
        {"run_id": "synthetic-410", "started_at": started, "mode": "live", "status": "partial"}
        | {"failed_sources": {"rosstat": error}, "new_snapshots": {"rosstat": 0}},
    )
    rosstat = next(r for r in dq.freshness(published_reference) if r["source"] == "rosstat")
    assert rosstat["state"] == "fetch broken"
    assert rosstat["reason"].endswith(
        "answered 404/410: moved, or withdrawn? If the publisher withdrew it, record it in sources.json"
    )
    assert rosstat["last_error"] == error
