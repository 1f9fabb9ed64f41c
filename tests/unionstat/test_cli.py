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
    assert main(["audit", "--format", "csv"]) == 0
    gdp = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("t2_gdp_rus,"))
    assert "release 2024-06-28" in gdp  # what the figure was compared with


def test_sources_lists_the_last_snapshot(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["sources", "--format", "json"]) == 0
    rows = {r["source"]: r for r in json.loads(capsys.readouterr().out)}
    # the ten real World Bank files; the newest release among them is the R&D file of 2026-07-13
    assert (rows["worldbank"]["snapshots"], rows["worldbank"]["last_release"]) == (10, "2026-07-13")
    # Belstat's real workbooks state no release date: unknown, with the reason, never the fetch time
    assert rows["belstat"]["last_release"] is None and rows["belstat"]["state"] == "release unknown"
    assert "states its release date" in rows["belstat"]["detail"]
    # OSW's items are compiled from the paper (dated 2024-10-01 as printed): no publisher release
    assert rows["osw"]["last_release"] is None and rows["osw"]["state"] == "paper only"
    assert main(["sources"]) == 0
    table = capsys.readouterr().out
    assert "worldbank" in table and "2026-07-13" in table and "release unknown" in table


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
    assert [line.strip() for line in captured.out.splitlines()[1:4]] == ["n", "──", "24"]  # the 24 snapshots


def test_tables_lists_marts_with_grain_and_rows(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tables"]) == 0
    out = capsys.readouterr().out
    assert "marts.mart_table2_country_comparison" in out
    assert "One row per metric" in out or "one row per metric" in out
    header = out.splitlines()[0].split()
    assert header == ["relation", "rows", "grain"]
    countries = next(line for line in out.splitlines() if line.startswith("marts.mart_countries "))
    assert countries.split()[1] == "265"  # the economies of the World Bank's country metadata


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


def test_every_command_has_a_description_and_an_example() -> None:
    from unionstat.cli import _parser

    parser = _parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices  # noqa: SLF001
    assert {"refresh", "import", "sources", "dq", "audit", "sql", "tables", "export", "report", "help"} <= set(commands)
    for name, command in commands.items():
        assert command.description, name
        assert "examples:" in (command.epilog or "") and f"unionstat {name}" in command.epilog, name
    assert "internal" not in (parser.description or "") and "Russia–Belarus" in (parser.description or "")
    refresh_help = commands["refresh"].format_help()
    assert "worldbank, belstat, osw, rg, wipo, rosstat" in " ".join(refresh_help.split())  # from the registry
    assert (
        "FILE" in commands["import"].format_help() and "downloaded publisher file" in commands["import"].format_help()
    )


@pytest.mark.parametrize("topic", ["refresh", "import", "as-of", "audit", "export"])
def test_help_topics_have_a_page(topic: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help", topic]) == 0
    page = capsys.readouterr().out
    assert page.startswith(f"unionstat {topic.replace('as-of', 'refresh --as-of')}")
    assert len(page.splitlines()) > 5


def test_audit_fits_a_100_column_terminal_and_shows_missing_values_as_a_dash(
    published: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["audit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 100
    text = "\n".join(lines)
    assert "NaN" not in text and "NaT" not in text and "None" not in text
    # abs_r (r = 0.97) cannot be recomputed: no value, shown as a dash
    row = next(line for line in lines if line.startswith("abs_r "))
    assert "r = 0.97" in row and "—" in row


def test_audit_csv_and_json_keep_every_column(published: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["audit", "--format", "json"]) == 0
    rows = {r["figure_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["abs_r"]["recomputed_value"] is None and rows["abs_r"]["status"] == "not reproducible"
    assert main(["audit", "--format", "csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header == (
        "figure_id,printed_text,recomputed_value,value_from_printed_inputs,status,compared_with,reproduced_by,explanation"
    )


@pytest.mark.parametrize("command", [["audit"], ["sql", "select * from range(90000)"], ["tables"]])
def test_a_closed_pipe_ends_quietly(published: Settings, tmp_path, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    """`unionstat audit | head -1`: the reader goes away after one line; no BrokenPipeError traceback."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    binary = Path(sys.executable).parent / "unionstat"
    env = {**os.environ, "UNIONSTAT_WAREHOUSE_DIR": str(published.warehouse_dir), "COLUMNS": "40"}
    result = subprocess.run(  # noqa: S602 - a fixed pipeline, as a person types it
        f"'{binary}' {' '.join(repr(c) for c in command)} | head -1; echo \"status ${{PIPESTATUS[0]}}\"",
        shell=True,
        executable="/bin/bash",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stderr == ""  # no BrokenPipeError traceback, no message
    first, status = result.stdout.splitlines()
    assert first.strip()
    assert status in ("status 0", "status 141")  # 141: ended by the closed pipe, as `yes | head -1` reports


def test_the_closing_block_of_the_reference_run_is_the_readmes(
    published: Settings,
    reference_build,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    from unionstat.cli import _report

    summary = reference_build["summary"]
    monkeypatch.chdir(published.warehouse_dir.parent)
    assert _report(summary) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"refresh {summary['run_id']}: published — offline, from the reference snapshot")
    assert lines[1].split() == ["belstat", "4", "new", "snapshots,", "545", "rows", "loaded"]
    labels = [line.split(":")[0] for line in lines if line.startswith(("warehouse", "analysis", "data", "Data", "dbt"))]
    assert labels == ["warehouse", "analysis report", "data quality", "Data Docs", "dbt docs"]
    assert "warehouse:        warehouse/unionstat.duckdb" in lines
    text = "\n".join(lines)
    assert "{" not in text and "1 datasets" not in text and "1 requests" not in text
    # documented conditions of the reference run are notes, worded for a person, not failures
    notes = lines.index(next(line for line in lines if "(expected in the reference run" in line))
    warnings = lines.index(
        next(line for line in lines if line.endswith(("warning", "warnings", "warnings:", "warning:")))
    )
    noted = "\n".join(lines[notes:warnings])
    assert "Table 2: Share of Women Inventors: no data — the paper states no period for this figure" in noted
    assert "raw.worldbank_bulk, column value: 75 of 17,024 rows — annual GDP growth beyond +-30%" in noted
    assert "13 requests not in the reference snapshot" in noted
    assert "belstat average_wages_by_activity: layout changed since release nach_sr_zarplata-2412.xlsx" in noted


def test_the_closing_block_says_as_of_and_why_everything_was_rebuilt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from flows.refresh import RunSummary, rebuild_reason
    from unionstat import render

    summary = RunSummary(run_id="r2", mode="replay", as_of=None, started_at="2026-12-02T10:00:00+00:00")
    summary.code_fingerprint = "code"
    previous = {"code_fingerprint": "code", "as_of": "2024-12-31"}
    assert rebuild_reason(previous, summary) == "the as-of date changed: 2024-12-31 -> newest releases"
    assert rebuild_reason({}, summary) == "nothing published yet"
    as_of = {
        "run_id": "r1",
        "status": "published",
        "mode": "replay",
        "as_of": "2024-12-31",
        "started_at": "2026-12-02T10:00:00+00:00",
        "finished_at": "2026-12-02T10:02:15+00:00",
        "new_snapshots": {"worldbank": 1},
        "unchanged": {"worldbank": 9},
        "rows_loaded": {"raw.worldbank_bulk": 1},
        "expectations_passed": 1,
        "build_selection": "everything",
        "rebuild_reason": "the as-of date changed: newest releases -> 2024-12-31",
        "dbt_models": 1,
        "dbt_tests": 2,
    }
    lines = render.closing_block(as_of, {"warehouse": tmp_path / "absent.duckdb"}, [])
    assert lines[0] == "refresh r1: published — offline, from the reference snapshot, as of 2024-12-31, 2 min 15 s"
    assert lines[1] == "  worldbank  1 new snapshot, 9 snapshots unchanged, 1 row loaded"
    assert lines[2] == (
        "  checks     1 expectation passed, 0 warnings; dbt built everything (the as-of date changed: newest releases "
        "-> 2024-12-31): 1 model, 2 tests"
    )
    assert lines[3] == "warehouse:        — (not built)"
    assert lines[4] == "0 warnings"


def test_a_refresh_prints_its_own_progress_and_no_third_party_bars(
    warehouse_env: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    """What `make run` shows: one line per stage and per source, then the closing block; no GX progress bar."""
    assert main(["refresh", "--source", "wipo"]) == 0
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err and "Finished in state" not in out + err
    progress = err.splitlines()
    fetched = "fetch      wipo       3 new snapshots, 0 unchanged, 1 request not in the reference snapshot ("
    assert any(line.startswith(fetched) and line.endswith(" s)") for line in progress), progress
    assert any(line.startswith("load       wipo       6 rows loaded") for line in progress), progress
    assert any(line.startswith("validate   ") and "expectations passed" in line for line in progress), progress
    assert any(line.startswith("transform  dbt build: everything (nothing published yet)") for line in progress)
    lines = out.splitlines()
    assert lines[0].startswith("refresh ") and " published — offline, from the reference snapshot, " in lines[0]
    assert lines[1] == "  wipo       3 new snapshots, 6 rows loaded"


def test_the_closing_block_groups_failures_warnings_and_notes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from unionstat import render
    from unionstat.findings import Finding

    summary = {"run_id": "r3", "status": "partial", "mode": "live", "started_at": None}
    found = [
        Finding("dbt tests", "Table 2: a row with no data", "dbt:x", expected=True),
        Finding("Great Expectations", "raw.t, column v: 2 of 10 rows — out of range", "gx:critical:raw.t", failed=True),
        Finding("dbt tests", "the variables catalog: no unit recorded for X", "dbt:y"),
        Finding("dbt tests", "the variables catalog: no unit recorded for Y", "dbt:z"),
    ]
    lines = render.closing_block(summary, {}, found)
    assert lines[0] == "refresh r3: partial (some sources failed; the others are published) — live, from the publishers"
    assert lines[2:] == [
        "1 note (expected in the reference run; README, 'What the reference run reports'):",
        "  dbt tests",
        "    - Table 2: a row with no data",
        "1 failure:",
        "  Great Expectations",
        "    - raw.t, column v: 2 of 10 rows — out of range",
        "2 warnings:",
        "  dbt tests",
        "    - the variables catalog: no unit recorded for X",
        "    - the variables catalog: no unit recorded for Y",
    ]
