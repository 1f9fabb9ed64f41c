"""The command line, as a person uses it, on a warehouse built from the reference snapshot."""

from __future__ import annotations

import pytest

from unionstat.cli import main
from unionstat.settings import Settings

# Read by hand from the real World Bank release of 2024-06-28 (warehouse/reference/files/worldbank/
# API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2788350.csv): GDP growth 2023 of Belarus and Russia.
GDP_2023 = (
    "select country_iso3, value from intermediate.int_observations__as_of "
    "where indicator_code = 'NY.GDP.MKTP.KD.ZG' and period = '2023' and country_iso3 in ('BLR', 'RUS') order by 1"
)


@pytest.fixture
def published(published_reference: Settings) -> Settings:
    return published_reference


def test_sql_answers_from_the_published_warehouse(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sql", GDP_2023])
    out = capsys.readouterr().out
    assert code == 0
    assert "BLR" in out and "3.886242" in out and "RUS" in out and "3.600000" in out  # full precision: csv, json


def test_sql_cannot_write(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sql", "delete from raw.snapshots"])
    err = capsys.readouterr().err
    assert code == 2
    assert "read-only" in err


def test_audit_prints_every_table2_figure(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit"]) == 0
    out = capsys.readouterr().out
    assert "t2_gdp_rus" in out and "match" in out and "not reproducible" in out and "paper only" in out
    assert "release 2024-06-28" in out  # what the figure was compared with


def test_sources_lists_the_last_snapshot(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    # the ten real World Bank files; the newest release among them is the R&D file of 2026-07-13
    assert "worldbank" in out and "10 snapshots" in out and "last release 2026-07-13" in out


def test_without_a_warehouse_the_user_is_told_to_run_make_run(
    warehouse_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "select 1"]) == 2
    assert "run `make run` first" in capsys.readouterr().err


def test_a_bad_date_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["refresh", "--as-of", "2024-13-01"])
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err


def test_sql_writes_csv_json_and_parquet(published: Settings, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    import json

    import duckdb

    query = GDP_2023
    assert main(["sql", query, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        "country_iso3,value",
        "BLR,3.88624214456901",
        "RUS,3.60000000000001",
    ]
    assert main(["sql", query, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"country_iso3": "BLR", "value": 3.88624214456901},
        {"country_iso3": "RUS", "value": 3.60000000000001},
    ]
    target = tmp_path / "out.parquet"
    assert main(["sql", query, "--format", "parquet", "-o", str(target)]) == 0
    assert duckdb.sql(f"select value from read_parquet('{target}')").fetchall() == [
        (3.88624214456901,),
        (3.60000000000001,),
    ]


def test_sql_prompt_reads_queries_until_end_of_input(
    published: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = iter(["select count(*) as n", "from raw.snapshots;", "drop table raw.snapshots;"])

    def fake_input(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    assert main(["sql"]) == 0
    captured = capsys.readouterr()
    assert "read-only for analysts" in captured.err
    assert " n" in captured.out


def test_tables_lists_marts_with_grain_and_rows(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tables"]) == 0
    out = capsys.readouterr().out
    assert "marts.mart_table2_country_comparison" in out
    assert "One row per metric" in out or "one row per metric" in out
    assert "rows)" in out


def test_export_writes_every_mart_with_a_manifest(published: Settings, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import hashlib
    import json

    target = tmp_path / "export"
    assert main(["export", "--to", str(target)]) == 0
    manifest = json.loads((target / "manifest.json").read_text())
    files = {f["file"]: f for f in manifest["files"]}
    assert "mart_table2_country_comparison.parquet" in files
    assert "mart_table2_country_comparison.csv" in files
    for name, entry in files.items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == entry["sha256"]
    used = {(v["publisher"], v["indicator_code"], v["vintage_label"], v["origin"]) for v in manifest["vintages_used"]}
    assert ("worldbank", "NY.GDP.MKTP.KD.ZG", "release 2024-06-28", "recorded_third_party") in used
    assert (
        "wipo",
        "patent_applications_total_by_origin",
        "as printed in the paper (2024-10)",
        "compiled_from_paper",
    ) in used
    assert "wipo patent_applications_total_by_origin" in manifest["compiled_from_paper"]
    assert not any(name.startswith("worldbank") for name in manifest["compiled_from_paper"])


def test_variables_catalog_gives_unit_licence_and_citation(published: Settings) -> None:
    from tests.conftest import query

    rows = query(
        published.published_db,
        "select units, licence, citation from marts.mart_variables where indicator_code = 'NY.GDP.MKTP.KD.ZG'",
    )
    assert len(rows) == 1
    units, licence, citation = rows[0]
    assert (units, licence) == ("annual %", "CC BY 4.0")
    assert "release of 2024-06-28" in citation and "recorded by a third party" in citation
    assert "Retrieved" not in citation  # unionstat retrieved nothing here
    assert "raw.snapshots" in citation
    compiled = query(
        published.published_db,
        "select citation from marts.mart_variables where indicator_code = 'patent_applications_total_by_origin'",
    )
    assert compiled[0][0].startswith("Compiled from the paper")


def test_snapshots_lists_every_snapshot_with_its_origin_and_state(
    published: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["snapshots"]) == 0
    out = capsys.readouterr().out
    # the reference snapshot: 13 real files recorded by third parties and 11 recordings compiled from the paper
    assert out.splitlines()[-1] == "24 snapshots: 24 loaded"
    assert out.count(" recorded_third_party ") == 13 and out.count(" compiled_from_paper ") == 11


def test_retract_refuses_a_snapshot_it_does_not_know_and_records_nothing(
    published: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import file_digest

    before = file_digest(published.published_db)
    assert main(["retract", "0123456789ab", "--reason", "a typo"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "unionstat: no snapshot 0123456789ab in the published warehouse (`unionstat snapshots` lists them)\n"
    )
    assert main(["unretract", "ffffffff"]) == 2
    assert "no snapshot ffffffff" in capsys.readouterr().err
    assert file_digest(published.published_db) == before
    assert not (published.snapshot_dir / "retractions.duckdb").exists()
