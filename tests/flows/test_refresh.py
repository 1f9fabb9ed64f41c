"""The whole pipeline, offline: reference replay -> DuckDB -> Great Expectations -> dbt -> publish."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flows.refresh import refresh
from tests.builders import worldbank_bulk_csv, worldbank_page, worldbank_row
from tests.conftest import file_digest, plant_recording, query
from tests.flows.vintages import GDP_2023_BLR, GDP_2023_RUS, GDP_RELEASE, TABLE2
from unionstat import load, transform, warehouse
from unionstat.errors import StageFailed
from unionstat.settings import Settings

GDP_PAGE = (
    "https://api.worldbank.org/v2/country/RUS;BLR/indicator/NY.GDP.MKTP.KD.ZG"
    "?format=json&date=2010:2024&per_page=1000&page=1"
)


def test_offline_refresh_builds_table2_from_the_real_files_and_the_paper(
    reference_build: dict[str, Any], published_reference: Settings
) -> None:
    summary, warehouse_env = reference_build["summary"], published_reference  # the session's `refresh()`

    assert summary["status"] == "published"
    # The ten real World Bank files of the reference snapshot (nine CSVs and the bulk zip, one of them the
    # country metadata), taken in as recorded by third parties; the API has no recording.
    assert summary["new_snapshots"]["worldbank"] == 10
    assert set(summary["not_recorded"]["worldbank"]) == {
        "NY.GDP.MKTP.KD.ZG",
        "SP.POP.TOTL",
        "IP.PAT.RESD",
        "IP.PAT.NRES",
        "GB.XPD.RSDV.GD.ZS",
        "SP.POP.SCIE.RD.P6",
        "TX.VAL.TECH.MF.ZS",
    }
    assert summary["rows_loaded"]["raw.worldbank_countries"] == 265
    # Only warnings may fail.
    assert summary["expectations_failed"] == len(summary["expectation_warnings"])
    assert summary["expectations_passed"] >= 10
    db = warehouse_env.published_db
    rows = {r[0]: r[1:] for r in query(db, TABLE2)}
    ru, by, pct, higher, vintage, status = rows["gdp_growth"]
    assert (ru, by, higher, status) == (GDP_2023_RUS, GDP_2023_BLR, "Belarus", "computed")
    assert pct == pytest.approx((GDP_2023_BLR - GDP_2023_RUS) / GDP_2023_RUS * 100, abs=1e-4)  # 7.95, not 8.3
    assert vintage == GDP_RELEASE
    for computed in ("patent_applications", "patent_applications_per_million", "it_services_index"):
        assert rows[computed][-1] == "computed"  # WIPO and Rosstat: figures compiled from the paper
    labels = query(
        db,
        "select metric_id, russia_origin, russia_vintage_label, is_compiled_from_paper "
        "from marts.mart_table2_country_comparison where metric_id in ('gdp_growth', 'patent_applications') order by 1",
    )
    assert labels == [
        ("gdp_growth", "recorded_third_party", "release 2024-06-28", False),
        ("patent_applications", "compiled_from_paper", "as printed in the paper (2024-10)", True),
    ]
    origins = query(
        db,
        "select origin, count(*), count(recording_id), min(release_date) from raw.snapshots "
        "where source = 'worldbank' group by origin",
    )
    assert origins == [("recorded_third_party", 10, 10, date(2024, 5, 30))]
    assert (warehouse_env.reports_dir / "data_docs" / "index.html").is_file()
    assert (warehouse_env.reports_dir / "dbt_docs" / "index.html").is_file()


def test_replication_audit_flags_printed_rounding_and_pending_figures(published_reference: Settings) -> None:
    warehouse_env = published_reference
    audit = {
        r[0]: r[1:]
        for r in query(
            warehouse_env.published_db,
            "select figure_id, status, recomputed_value, value_from_printed_inputs, explanation "
            "from marts.mart_replication_audit",
        )
    }
    assert audit["t2_gdp_rus"][:2] == ("match", GDP_2023_RUS)
    assert audit["t2_gdp_blr"][:2] == ("match", GDP_2023_BLR)
    # The printed 8.3% gap comes from the rounded values (3.9 vs 3.6); the real release's values give 7.95%.
    status, recomputed, from_inputs, explanation = audit["t2_gdp_diff"]
    assert (status, recomputed, from_inputs) == ("explained", 7.9512, 8.3333)
    assert "release of 2024-06-28 gives 7.951, not the printed 8.3" in explanation
    # 25,188 vs 980 gives 2470.2%, printed 2,471%: but only the paper's own figures are loaded, so nothing is checked.
    status, recomputed, from_inputs, explanation = audit["t2_patents_diff"]
    assert status == "paper only"
    assert recomputed == pytest.approx(2470.2041, abs=1e-4)
    assert "compiled from the paper" in explanation
    assert audit["t2_per_million_diff"][:2] == ("paper only", pytest.approx(251.5625))
    compared = dict(
        query(
            warehouse_env.published_db,
            "select figure_id, compared_with || ' | ' || coalesce(reproduced_by, '-') "
            "from marts.mart_replication_audit",
        )
    )
    assert compared["t2_gdp_rus"] == (
        "worldbank release 2024-06-28 (a real file, recorded by a third party) | worldbank release 2024-06-28"
    )
    assert compared["t2_gdp_diff"].endswith(" | -")  # no release gives 8.3 unrounded


def test_second_refresh_adds_no_snapshot_and_leaves_marts_identical(published_reference: Settings) -> None:
    warehouse_env = published_reference  # a copy of the session's first refresh
    db = warehouse_env.published_db
    first = query(db, TABLE2), query(db, "select * from marts.mart_replication_audit order by figure_id")
    snapshots = query(db, "select count(*) from raw.snapshots")

    published = file_digest(db)
    summary = refresh()

    assert summary["status"] == "unchanged"  # same snapshots, same code: nothing to rebuild or publish
    assert summary["new_snapshots"]["worldbank"] == 0
    assert summary["rows_loaded"] == {}
    assert file_digest(db) == published

    # A rebuild (a new as-of date changes the inputs) still finds every upstream answer unchanged.
    assert refresh(as_of="2030-01-01")["status"] == "published"
    assert query(db, "select count(*) from raw.snapshots") == snapshots
    assert (query(db, TABLE2), query(db, "select * from marts.mart_replication_audit order by figure_id")) == first
    outcomes = query(db, "select outcome, http_status from raw.fetch_log where source = 'osw' and dataset = 'rss'")
    assert ("not_modified", 304) in outcomes
    assert query(db, "select count(*) from ops.runs") == [(2,)]


def last_run(history: Path) -> str:
    return str(query(history, "select run_id from runs order by finished_at desc limit 1")[0][0])


def test_import_rejects_a_file_no_connector_recognises(warehouse_env: Settings, tmp_path: Path) -> None:
    stray = tmp_path / "notes.csv"
    stray.write_text("a,b\n1,2\n")
    with pytest.raises(StageFailed, match=r"stage 'import'.*notes\.csv is in no format a connector recognises") as err:
        refresh(import_paths=[str(stray)])
    # what each connector takes, so the person knows what to download instead
    assert "a World Bank bulk CSV" in str(err.value) and "a Rosstat XLSX/XLS workbook" in str(err.value)
    assert "a WIPO IP Statistics Data Center CSV export" in str(err.value) and "a Belstat" in str(err.value)


def _fail(message: str):  # type: ignore[no-untyped-def]
    def boom(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError(message)

    return boom


@pytest.mark.parametrize(
    ("stage", "target", "attribute"),
    [
        ("fetch", "unionstat.http.HttpClient", "get"),
        ("load", load, "load_pending"),
        ("transform", transform, "dbt_build"),
        ("publish", warehouse, "publish"),
    ],
)
def test_a_refresh_failing_in_any_stage_leaves_the_published_warehouse_unchanged(
    published_reference: Settings, monkeypatch: pytest.MonkeyPatch, stage: str, target: object, attribute: str
) -> None:
    warehouse_env = published_reference
    before = file_digest(warehouse_env.published_db)
    runs_before = query(warehouse_env.published_db, "select count(*) from ops.runs")
    if isinstance(target, str):
        import importlib

        module_name, cls_name = target.rsplit(".", 1)
        target = getattr(importlib.import_module(module_name), cls_name)
    monkeypatch.setattr(target, attribute, _fail(f"planted failure in {stage}"))

    with pytest.raises(StageFailed, match=rf"stage '{stage}'.*planted failure in {stage}"):
        refresh(as_of="2030-01-01")  # a new as-of date: the run must rebuild, so every stage runs

    assert file_digest(warehouse_env.published_db) == before
    assert query(warehouse_env.published_db, "select count(*) from ops.runs") == runs_before
    assert not warehouse_env.build_db.exists()
    history = warehouse_env.warehouse_dir / "dq_history.duckdb"
    last = query(history, "select status, failed_stage from runs order by finished_at desc limit 1")
    assert last == [("failed", stage)]


def test_a_critical_expectation_failure_that_leaves_no_source_stops_the_publish(
    published_reference: Settings, reference_copy: Path
) -> None:
    """The publish gate quarantines the release and fails its source (tests/reliability/test_gate_quarantine.py);
    when that source was the only one of the run, nothing is left to publish: the run fails, the warehouse stays."""
    warehouse_env = published_reference
    before = file_digest(warehouse_env.published_db)
    # Plant a bad row in a new release (synthetic): a country code that is not ISO3.
    page = worldbank_page([worldbank_row("BY", "BELARUS", "2023", 3.9), worldbank_row("RU", "RUS", "2023", 3.6)])
    plant_recording(reference_copy, "worldbank", GDP_PAGE, page, "gdp.planted.json")

    with pytest.raises(StageFailed, match=r"stage 'validate'.*every source failed.*countryiso3code.*BELARUS"):
        refresh(sources=["worldbank"])

    assert file_digest(warehouse_env.published_db) == before
    stored = query(
        warehouse_env.published_db,
        "select count(*) from dq.validation_results where not success and severity = 'critical'",
    )
    assert stored == [(0,)]  # the failed run's results never reached the published warehouse...
    history = warehouse_env.warehouse_dir / "dq_history.duckdb"
    # ...but the data-quality history keeps them, and the failing row is quarantined, not dropped.
    assert query(history, "select status, failed_stage from runs order by finished_at desc limit 1") == [
        ("failed", "validate")
    ]
    quarantined = query(  # this run's: the reference run quarantined its own warnings (GDP growth beyond +-30%)
        history, "select table_name, column_name, row_json from quarantine where run_id = ?", [last_run(history)]
    )
    assert len(quarantined) == 1
    assert quarantined[0][:2] == ("raw.worldbank_observations", "countryiso3code")
    assert '"countryiso3code": "BELARUS"' in quarantined[0][2]
    report = (warehouse_env.reports_dir / "index.html").read_text()
    assert "in stage <strong>validate</strong>" in report and "BELARUS" in report


def test_a_second_refresh_waits_for_the_lock_and_says_so(warehouse_env: Settings) -> None:
    from filelock import FileLock

    warehouse_env.warehouse_dir.mkdir(parents=True)
    busy = r"another refresh \(unknown holder\) holds"
    with FileLock(str(warehouse_env.lock_path)), pytest.raises(StageFailed, match=busy):
        refresh()


def test_a_new_release_is_validated_by_what_changed(warehouse_env: Settings, tmp_path: Path) -> None:
    # Synthetic values (not World Bank figures). The second release repeats every figure but revises one.
    first = tmp_path / "a" / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv"
    second = tmp_path / "b" / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2.csv"
    first.parent.mkdir()
    second.parent.mkdir()
    values = {"RUS": {"2022": "1.5", "2023": "1.25"}, "BLR": {"2023": "2.5"}}
    first.write_bytes(worldbank_bulk_csv(values, "2025-07-01"))
    values["RUS"]["2023"] = "1.75"
    second.write_bytes(worldbank_bulk_csv(values, "2025-10-01"))

    refresh(import_paths=[str(first)])
    summary = refresh(import_paths=[str(second)])

    assert summary["rows_loaded"] == {"raw.worldbank_bulk": 130}  # the whole release is kept (2 lines x 65 years)
    db = warehouse_env.published_db
    checked = query(
        db,
        "select run_id, element_count, unexpected_examples from dq.validation_results "
        "where expectation_type = 'changed_rows_validated' order by validated_at",
    )
    assert [(r[1], json.loads(r[2])) for r in checked] == [
        (130, ["130 of 130 loaded rows new or revised (compared on indicator_id, countryiso3code, date, value)"]),
        (130, ["1 of 130 loaded rows new or revised (compared on indicator_id, countryiso3code, date, value)"]),
    ]
    # The suite itself ran on that one row only.
    counts = query(
        db,
        "select distinct element_count from dq.validation_results where run_id = ? and suite = "
        "'raw.worldbank_bulk' and expectation_type = 'expect_column_values_to_not_be_null'",
        [summary["run_id"]],
    )
    assert counts == [(1,)]
    # Raw keeps each release as published, one row per data line; staging unnests one row per line and year.
    assert query(db, "select count(*), count(distinct snapshot_sha256) from raw.worldbank_bulk") == [(4, 2)]
    second_sha = query(db, "select sha256 from raw.loads where run_id = ?", [summary["run_id"]])[0][0]
    staged = query(
        db,
        "select snapshot_row, indicator_code, country_iso3, country_name, period, value, unit, release_date "
        "from staging.stg_worldbank__observations where snapshot_sha256 = ? order by snapshot_row",
        [second_sha],
    )
    assert len(staged) == 130 and [r[0] for r in staged] == list(range(1, 131))
    assert staged[62:65] == [
        (63, "NY.GDP.MKTP.KD.ZG", "RUS", "Rus", "2022", 1.5, None, date(2025, 10, 1)),
        (64, "NY.GDP.MKTP.KD.ZG", "RUS", "Rus", "2023", 1.75, None, date(2025, 10, 1)),
        (65, "NY.GDP.MKTP.KD.ZG", "RUS", "Rus", "2024", None, None, date(2025, 10, 1)),
    ]
    assert staged[129] == (130, "NY.GDP.MKTP.KD.ZG", "BLR", "Blr", "2024", None, None, date(2025, 10, 1))
    # The staging view and the rows validation read (raw.worldbank_bulk_rows) are the same rows.
    validated = query(
        db,
        "select row_number, indicator_id, countryiso3code, country_name, date, value, unit, lastupdated "
        "from raw.worldbank_bulk_rows([?], true) order by row_number",
        [second_sha],
    )
    assert validated == staged


def test_a_bad_value_in_a_bulk_csv_is_quarantined_as_its_long_row(
    published_reference: Settings, tmp_path: Path
) -> None:
    warehouse_env = published_reference
    # Synthetic values: a population cannot be negative (a critical expectation).
    path = tmp_path / "API_SP.POP.TOTL_DS2_en_csv_v2_1.csv"
    values = {"RUS": {"2022": "143000000", "2023": "-5"}, "BLR": {"2023": "9200000"}}
    path.write_bytes(worldbank_bulk_csv(values, "2025-07-01", indicator="SP.POP.TOTL"))

    summary = refresh(import_paths=[str(path)])  # the release is quarantined at the gate, the import fails alone

    assert summary["status"] == "partial"
    assert "raw.worldbank_bulk: expect_column_values_to_be_between" in summary["failed_sources"]["worldbank"]
    history = warehouse_env.warehouse_dir / "dq_history.duckdb"
    quarantined = query(
        history, "select table_name, column_name, row_json from quarantine where run_id = ?", [summary["run_id"]]
    )
    assert len(quarantined) == 1
    assert quarantined[0][:2] == ("raw.worldbank_bulk", "value")
    row = json.loads(quarantined[0][2])
    assert (row["row_number"], row["countryiso3code"], row["date"], row["value"]) == (64, "RUS", "2023", -5.0)


def test_revisions_between_real_releases_are_told_from_representation(published_reference: Settings) -> None:
    """The two real R&D releases (2025-04-15, 2026-07-13) write figures at different precisions: Belarus 2018 is
    0.604430019855499 in one and 0.60443 in the other (the same value), Russia 2021 moved 0.95857 -> 0.96602."""
    revisions = dict(
        ((country, period), (str(previous), str(vintage), old, new))
        for country, period, previous, vintage, old, new in query(
            published_reference.published_db,
            "select country_iso3, period, previous_vintage, vintage, previous_value, value from marts.mart_revisions "
            "where indicator_code = 'GB.XPD.RSDV.GD.ZS' and country_iso3 in ('RUS', 'BLR')",
        )
    )
    assert revisions[("RUS", "2021")] == ("2025-04-15", "2026-07-13", 0.958570003509521, 0.96602)
    assert ("BLR", "2018") not in revisions  # 0.604430019855499 -> 0.60443: representation, not a revision
    # 0.990019977092743 (a single-precision float for 0.99002) -> 0.99001: the last printed digit moved
    assert revisions[("RUS", "2018")] == ("2025-04-15", "2026-07-13", 0.990019977092743, 0.99001)
    current = query(
        published_reference.published_db,
        "select value, vintage from intermediate.int_observations__vintaged where indicator_code = "
        "'GB.XPD.RSDV.GD.ZS' and country_iso3 = 'BLR' and period = '2018'",
    )
    assert current == [(0.604430019855499, date(2025, 4, 15))]  # one row: the later release repeated it


def test_a_reference_file_its_connector_cannot_take_in_fails_that_source_only(
    warehouse_env: Settings, reference_copy: Path
) -> None:
    """A real file listed for Belstat that is no Belstat table (here the tests' own synthetic CSV, checksum recorded):
    Belstat fails with the import's reason, every other source publishes."""
    stray = reference_copy / "files" / "belstat" / "not-a-workbook.csv"
    stray.write_bytes(b"a,b\n1,2\n")
    manifest = json.loads((reference_copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"].append(
        {
            "id": "synthetic-stray",
            "source": "belstat",
            "path": "files/belstat/not-a-workbook.csv",
            "sha256": file_digest(stray),
            "origin": "recorded_third_party",
        }  # fmt: skip
    )
    (reference_copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    summary = refresh()

    assert summary["status"] == "partial"
    assert "not-a-workbook.csv is in no format a connector recognises" in summary["failed_sources"]["belstat"]
    assert set(summary["failed_sources"]) == {"belstat"}
    db = warehouse_env.published_db
    assert query(db, "select count(*) from raw.snapshots where source = 'belstat'") == [(0,)]
    assert query(db, "select count(*) from raw.snapshots where source = 'worldbank'") == [(10,)]


def test_the_country_dimension_comes_from_the_real_metadata(published_reference: Settings) -> None:
    # Read by eye from the real Metadata_Country CSVs (the rows "RUS" and "BLR"; "ECS" is an aggregate).
    rows = query(
        published_reference.published_db,
        "select country_iso3, country_name, region, income_group, is_aggregate, origin from marts.mart_countries "
        "where country_iso3 in ('BLR', 'ECS', 'RUS') order by 1",
    )
    assert rows == [
        ("BLR", "Belarus", "Europe & Central Asia", "Upper middle income", False, "recorded_third_party"),
        ("ECS", "Europe & Central Asia", None, None, True, "recorded_third_party"),
        ("RUS", "Russian Federation", "Europe & Central Asia", "High income", False, "recorded_third_party"),
    ]
