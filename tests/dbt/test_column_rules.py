"""The column_rules test (dbt_project/tests/generic/column_rules.sql): one test for a model's one-column rules."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import query
from tests.dbt.test_news_categories import dbt
from unionstat.settings import Settings

TEST = "column_rules_mart_news_items"  # not_null, accepted_values (source, language), accepted_range (duplicate_count)


def test_each_row_that_breaks_a_rule_is_named_with_the_column_and_the_rule(
    published_reference: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = published_reference.published_db
    assert list(dbt(db, tmp_path / "clean", ["test", "--select", TEST], monkeypatch).values()) == ["pass"]
    con = duckdb.connect(str(db))
    try:
        first = con.execute("select canonical_url from marts.mart_news_items order by 1 limit 3").fetchall()
        urls = [url for (url,) in first]
        # Synthetic breaks, one per kind of rule. A null language breaks not_null only: accepted_values lets nulls by.
        con.execute("update marts.mart_news_items set language = 'de' where canonical_url = ?", [urls[0]])
        con.execute("update marts.mart_news_items set language = null where canonical_url = ?", [urls[1]])
        con.execute("update marts.mart_news_items set duplicate_count = -1 where canonical_url = ?", [urls[2]])
    finally:
        con.close()

    assert list(dbt(db, tmp_path / "broken", ["test", "--select", TEST], monkeypatch).values()) == ["fail"]

    kept = query(db, f"select failed_column, failed_rule, canonical_url from dbt_test__audit.{TEST} order by all")
    assert kept == sorted(
        [
            ("language", "accepted_values", urls[0]),
            ("language", "not_null", urls[1]),
            ("duplicate_count", "accepted_range", urls[2]),
        ]
    )
    # The row itself follows the column and the rule: what the data-quality history keeps of it.
    assert query(db, f"select language from dbt_test__audit.{TEST} where failed_rule = 'accepted_values'") == [("de",)]
