"""A new bulk-CSV release is validated by what changed: raw.worldbank_bulk_changed_rows compares whole lines and
finds exactly the cells the anti-join over every unnested cell finds (new figures, revised values, new years)."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pytest

from scrapers.worldbank import WorldBank
from unionstat import validate
from unionstat.errors import ValidationFailed

TABLE = "raw.worldbank_bulk"
COMPARE = ["indicator_id", "countryiso3code", "date", "value"]
COLUMNS = ["snapshot_sha256", "row_number", *COMPARE]
A, B, C = "a" * 64, "b" * 64, "c" * 64

FILES = f"""insert into raw.worldbank_bulk_files values
    ('{A}', ['2000', '2001', '2002'], date '2024-01-01'),
    ('{B}', ['2000', '2001', '2002'], date '2024-06-01'),
    ('{C}', ['2000', '2001', '2002', '2003'], date '2025-01-01')"""
# B revises XAA's 2001 (2 -> 3) and drops XAC; C puts XAA's 2001 back at A's value, adds the year 2003 (empty for
# XAA), revises XAB's 2002 (7 -> 8), adds a country (XAD) and another indicator for XAC.
LINES = f"""insert into raw.worldbank_bulk values
    ('{A}', 1, 'Aland', 'XAA', 'Ind 1', 'I1', [1, 2, null]),
    ('{A}', 2, 'Bland', 'XAB', 'Ind 1', 'I1', [5, 6, 7]),
    ('{A}', 3, 'Cland', 'XAC', 'Ind 1', 'I1', [9, 9, 9]),
    ('{B}', 1, 'Aland', 'XAA', 'Ind 1', 'I1', [1, 3, null]),
    ('{B}', 2, 'Bland', 'XAB', 'Ind 1', 'I1', [5, 6, 7]),
    ('{C}', 1, 'Aland', 'XAA', 'Ind 1', 'I1', [1, 2, null, null]),
    ('{C}', 2, 'Bland', 'XAB', 'Ind 1', 'I1', [5, 6, 8, 9]),
    ('{C}', 3, 'Dland', 'XAD', 'Ind 1', 'I1', [1, null, null, null]),
    ('{C}', 4, 'Cland', 'XAC', 'Ind 2', 'I2', [9, 9, 9, 9])"""


@pytest.fixture(scope="module")
def con() -> Any:
    connection = duckdb.connect()
    connection.execute("create schema raw")
    connection.execute(WorldBank.raw_ddl)
    connection.execute(FILES)
    connection.execute(LINES)
    yield connection
    connection.close()


def _rows(con: Any, sql: str, shas: list[str]) -> list[tuple[Any, ...]]:
    return sorted(con.execute(sql, {"shas": shas}).fetchall(), key=repr)


def _changed(con: Any, shas: list[str], *, lines_first: bool, part: tuple[list[str], int, int] | None = None) -> Any:
    macro = "raw.worldbank_bulk_changed_rows" if lines_first else None
    rows = validate.RawRows(TABLE, "raw.worldbank_bulk_rows", macro)
    return _rows(con, validate._batch_sql(rows, COMPARE, COLUMNS, part), shas)


def test_the_cells_a_release_changed_read_by_hand(con: Any) -> None:
    """C against A and B: XAA's 2001 is back at A's value (held), its empty 2003 is a year no earlier file has
    (new); XAB's 2002 and 2003; every cell of XAD and of XAC's second indicator. Row numbers count cells line by
    line (4 years a line)."""
    assert _changed(con, [C], lines_first=True) == sorted(
        [
            (C, 4, "I1", "XAA", "2003", None),
            (C, 7, "I1", "XAB", "2002", 8.0),
            (C, 8, "I1", "XAB", "2003", 9.0),
            (C, 9, "I1", "XAD", "2000", 1.0),
            (C, 10, "I1", "XAD", "2001", None),
            (C, 11, "I1", "XAD", "2002", None),
            (C, 12, "I1", "XAD", "2003", None),
            (C, 13, "I2", "XAC", "2000", 9.0),
            (C, 14, "I2", "XAC", "2001", 9.0),
            (C, 15, "I2", "XAC", "2002", 9.0),
            (C, 16, "I2", "XAC", "2003", 9.0),
        ],
        key=repr,
    )
    assert _changed(con, [B], lines_first=True) == [(B, 2, "I1", "XAA", "2001", 3.0)]  # A and C both hold 2001 = 2


@pytest.mark.parametrize("shas", [[A], [B], [C], [B, C], [A, B, C]], ids=["A", "B", "C", "B+C", "all"])
def test_comparing_lines_finds_what_the_anti_join_of_every_cell_finds(con: Any, shas: list[str]) -> None:
    expected = _changed(con, shas, lines_first=False)
    assert _changed(con, shas, lines_first=True) == expected
    in_parts = [_changed(con, shas, lines_first=True, part=(COMPARE[:2], 3, n)) for n in range(3)]
    assert sorted((row for part in in_parts for row in part), key=repr) == expected


@pytest.mark.parametrize("key", ["rows_macro", "changed_rows.macro"])
def test_a_suite_naming_something_else_than_a_table_macro_is_refused_by_its_key(tmp_path: Any, key: str) -> None:
    meta: dict[str, Any] = {"changed_rows": {"compare_columns": COMPARE}}
    if key == "rows_macro":
        meta["rows_macro"] = "raw.rows; drop table raw.snapshots"
    else:
        meta["changed_rows"]["macro"] = "raw.rows; drop table raw.snapshots"
    (tmp_path / f"{TABLE}.json").write_text(json.dumps({"name": TABLE, "meta": meta, "expectations": []}))
    with pytest.raises(ValidationFailed, match=rf"^{TABLE}: meta\.{key} must be a schema\.name of a table macro"):
        validate.Suite.read(tmp_path, TABLE)
