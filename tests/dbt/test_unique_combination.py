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
