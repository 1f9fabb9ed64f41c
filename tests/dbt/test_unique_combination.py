"""The unique_combination_of_columns test (dbt_project/tests/generic/unique_combination_of_columns.sql): repeated
key hashes first, then the repeated combinations among their rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import query
from tests.dbt.test_news_categories import dbt
from unionstat.settings import Settings

TEST = "unique_combination_of_columns_mart_gdp_growth_eaeu_country_iso3__period"
SELECT = ["--select", TEST]


def test_a_repeated_combination_fails_once_with_its_count_and_nothing_else(
    published_reference: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = published_reference.published_db
    assert list(dbt(db, tmp_path / "clean", ["test", *SELECT], monkeypatch).values()) == ["pass"]
    con = duckdb.connect(str(db))
    try:
        # Belarus 2021 twice, and a row whose key differs from every other only by its period
        con.execute(
            "insert into marts.mart_gdp_growth_eaeu select * from marts.mart_gdp_growth_eaeu "
            "where country_iso3 = 'BLR' and period = '2021'"
        )
        con.execute(
            "insert into marts.mart_gdp_growth_eaeu select * replace ('1959' as period) "
            "from marts.mart_gdp_growth_eaeu where country_iso3 = 'RUS' and period = '2021'"
        )
    finally:
        con.close()

    assert list(dbt(db, tmp_path / "broken", ["test", *SELECT], monkeypatch).values()) == ["fail"]
    # what the test found: its own compiled SQL, run again
    (compiled,) = (tmp_path / "broken" / "dbt_target" / "compiled").rglob("mart_gdp_growth_eaeu.yml/unique_*.sql")
    assert query(db, compiled.read_text(encoding="utf-8")) == [("BLR", "2021", 2)]


STAGED = "stg_worldbank__observations,test_name:unique_combination_of_columns"  # its uniqueness test
IN_ONE_TABLE = "worldbank_snapshot_in_one_raw_table"


def test_a_full_build_only_check_reads_rows_in_a_full_build_and_the_raw_tables_checks_stand_for_it(
    published_reference: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The World Bank staging rows' uniqueness follows from the raw tables' (tested on each refresh's new rows) and
    from the staging code: it is read in a full build only. An API row planted under a bulk snapshot's hash, with a
    cell's row number, repeats a staging row: the full build's check finds it, and so does the raw tables' test
    that a snapshot is in one of them, which every build runs."""
    db = published_reference.published_db
    con = duckdb.connect(str(db))
    try:
        sha, row = con.execute(
            "select snapshot_sha256, min(row_number) from raw.worldbank_bulk_rows(cast([] as varchar[]), false) "
            "group by 1 order by 1 limit 1"
        ).fetchone()
        con.execute(
            "insert into raw.worldbank_observations (snapshot_sha256, row_number, indicator_id, countryiso3code, date) "
            "values (?, ?, 'NY.GDP.MKTP.KD.ZG', 'RUS', '2023')",
            [sha, row],
        )
    finally:
        con.close()

    outcome = dbt(db, tmp_path / "refresh", ["test", "--select", STAGED, IN_ONE_TABLE], monkeypatch)
    named = {
        ("staging rows" if "stg_worldbank" in name else name.split(".")[2]): status for name, status in outcome.items()
    }
    assert named == {"staging rows": "pass", IN_ONE_TABLE: "fail"}  # staging: not a full build, no row read
    (compiled,) = (tmp_path / "refresh" / "dbt_target" / "compiled").rglob("stg_worldbank__observations.yml/unique_*")
    assert "and false" in compiled.read_text(encoding="utf-8")

    full = dbt(db, tmp_path / "full", ["build", "--full-refresh", "--select", STAGED], monkeypatch)
    assert list(full.values()) == ["fail"]
    (compiled,) = (tmp_path / "full" / "dbt_target" / "compiled").rglob("stg_worldbank__observations.yml/unique_*")
    assert query(db, compiled.read_text(encoding="utf-8")) == [(sha, row, 2)]
