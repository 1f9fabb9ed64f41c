"""The column_rules test (dbt_project/tests/generic/column_rules.sql): one test for a model's one-column rules."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import query
from tests.dbt.test_news_categories import dbt
from unionstat.settings import Settings

# not_null, accepted_values (source, language), accepted_range (duplicate_count), unique (canonical_url, content_sha256)
TEST = "column_rules_mart_news_items"


def test_each_row_that_breaks_a_rule_is_named_with_the_column_and_the_rule(
    published_reference: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = published_reference.published_db
    assert list(dbt(db, tmp_path / "clean", ["test", "--select", TEST], monkeypatch).values()) == ["pass"]
    con = duckdb.connect(str(db))
    try:
        first = con.execute("select canonical_url from marts.mart_news_items order by 1 limit 6").fetchall()
        urls = [url for (url,) in first]
        # Synthetic breaks, one per kind of rule. A null language breaks not_null only: accepted_values lets nulls by;
        # two null hashes break not_null only: unique lets nulls by, as dbt's unique does.
        con.execute("update marts.mart_news_items set language = 'de' where canonical_url = ?", [urls[0]])
        con.execute("update marts.mart_news_items set language = null where canonical_url = ?", [urls[1]])
        con.execute("update marts.mart_news_items set duplicate_count = -1 where canonical_url = ?", [urls[2]])
        con.execute(
            "update marts.mart_news_items set content_sha256 = (select content_sha256 from marts.mart_news_items "
            "where canonical_url = ?) where canonical_url = ?",
            [urls[3], urls[4]],
        )
        con.execute("update marts.mart_news_items set content_sha256 = null where canonical_url in (?, ?)", urls[:2])
    finally:
        con.close()

    assert list(dbt(db, tmp_path / "broken", ["test", "--select", TEST], monkeypatch).values()) == ["fail"]

    kept = query(db, f"select failed_column, failed_rule, canonical_url from dbt_test__audit.{TEST} order by all")
    assert kept == sorted(
        [
            ("language", "accepted_values", urls[0]),
            ("language", "not_null", urls[1]),
            ("duplicate_count", "accepted_range", urls[2]),
            ("content_sha256", "unique", urls[3]),
            ("content_sha256", "unique", urls[4]),
            ("content_sha256", "not_null", urls[0]),
            ("content_sha256", "not_null", urls[1]),
        ]
    )
    # The row itself follows the column and the rule: what the data-quality history keeps of it.
    assert query(db, f"select language from dbt_test__audit.{TEST} where failed_rule = 'accepted_values'") == [("de",)]


BULK_TEST = "column_rules_worldbank_worldbank_bulk"  # new_snapshots_only: not_null on the raw World Bank lines


def test_new_snapshots_only_checks_the_lines_of_snapshots_not_taken_in_and_lines_of_no_snapshot(
    published_reference: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh checks the rows it brings, not every release again: a snapshot int_observations__taken_in holds was
    checked by the build that took it in. A line of a snapshot not taken in yet, or of no snapshot, is checked."""
    db = published_reference.published_db
    assert list(dbt(db, tmp_path / "clean", ["test", "--select", BULK_TEST], monkeypatch).values()) == ["pass"]
    con = duckdb.connect(str(db))
    try:
        (held,) = con.execute("select min(snapshot_sha256) from raw.worldbank_bulk").fetchone()
        taken = con.execute(
            "select count(*) from intermediate.int_observations__taken_in where snapshot_sha256 = ?", [held]
        ).fetchone()
        assert taken and taken[0] > 0, "the reference build took in every bulk snapshot"
        # the raw table refuses such lines itself: let it hold them, as a loader's mistake could
        for column in ("snapshot_sha256", "indicator_code"):
            con.execute(f"alter table raw.worldbank_bulk alter column {column} drop not null")
        # a line of a snapshot taken in, broken afterwards: not checked again
        con.execute(
            "update raw.worldbank_bulk set indicator_code = null where snapshot_sha256 = ? and line_number = 1", [held]
        )
    finally:
        con.close()
    assert list(dbt(db, tmp_path / "held", ["test", "--select", BULK_TEST], monkeypatch).values()) == ["pass"]

    con = duckdb.connect(str(db))
    try:
        # the same broken line in a snapshot no build took in, and a line of no snapshot at all
        line = "select * replace ({} as snapshot_sha256) from raw.worldbank_bulk where snapshot_sha256 = ? "
        line += "and line_number = 1"
        con.execute("insert into raw.worldbank_bulk " + line.format("'0' || snapshot_sha256[2:]"), [held])
        con.execute("insert into raw.worldbank_bulk " + line.format("null"), [held])
    finally:
        con.close()
    assert list(dbt(db, tmp_path / "new", ["test", "--select", BULK_TEST], monkeypatch).values()) == ["fail"]

    failures = f"select failed_column, failed_rule, snapshot_sha256 from dbt_test__audit.{BULK_TEST} order by all"
    kept = query(db, failures)
    assert kept == [
        ("indicator_code", "not_null", "0" + held[1:]),
        ("indicator_code", "not_null", None),
        ("snapshot_sha256", "not_null", None),
    ]
