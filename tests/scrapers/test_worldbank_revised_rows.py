"""A bulk CSV's new release beside the one before it: raw.worldbank_bulk_predecessors names, for each indicator, the
one bulk snapshot released last before it, and raw.worldbank_bulk_revised_rows gives the cells of its lines that
differ from that snapshot's line of the same country. int_observations__vintaged compares only those cells with the
figures it holds (tests/flows/test_refresh_revised_rows.py: the same result as a full build)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from scrapers.worldbank import WorldBank

A, B, C, D, E = (letter * 64 for letter in "abcde")
FILES = f"""insert into raw.worldbank_bulk_files values
    ('{A}', ['2000', '2001', '2002'], date '2024-01-01'),
    ('{B}', ['2000', '2001', '2002'], date '2024-06-01'),
    ('{C}', ['2000', '2001', '2002', '2003'], date '2025-01-01'),
    ('{D}', ['2000', '2001', '2002'], date '2025-01-01'),
    ('{E}', ['2000', '2001', '2002', '2003'], date '2025-06-01')"""
# B revises XAA's 2001 (2 -> 3) and drops XAC. C (a year more) puts XAA's 2001 back at A's value, revises XAB's 2002
# (7 -> 8), adds a country (XAD) and another indicator (I2). D, released the same day as C, holds I2 too and I3 with
# two lines of one country. E renames XAA in I1 and repeats I2 and I3.
LINES = f"""insert into raw.worldbank_bulk values
    ('{A}', 1, 'Aland', 'XAA', 'Ind 1', 'I1', [1, 2, null]),
    ('{A}', 2, 'Bland', 'XAB', 'Ind 1', 'I1', [5, 6, 7]),
    ('{A}', 3, 'Cland', 'XAC', 'Ind 1', 'I1', [9, 9, 9]),
    ('{B}', 1, 'Aland', 'XAA', 'Ind 1', 'I1', [1, 3, null]),
    ('{B}', 2, 'Bland', 'XAB', 'Ind 1', 'I1', [5, 6, 7]),
    ('{C}', 1, 'Aland', 'XAA', 'Ind 1', 'I1', [1, 2, null, null]),
    ('{C}', 2, 'Bland', 'XAB', 'Ind 1', 'I1', [5, 6, 8, 9]),
    ('{C}', 3, 'Dland', 'XAD', 'Ind 1', 'I1', [1, null, null, null]),
    ('{C}', 4, 'Cland', 'XAC', 'Ind 2', 'I2', [9, 9, 9, 9]),
    ('{D}', 1, 'Cland', 'XAC', 'Ind 2', 'I2', [9, 9, 9]),
    ('{D}', 2, 'Aland', 'XAA', 'Ind 3', 'I3', [4, 4, 4]),
    ('{D}', 3, 'Aland', 'XAA', 'Ind 3', 'I3', [4, 4, 5]),
    ('{E}', 1, 'Aland (renamed)', 'XAA', 'Ind 1', 'I1', [1, 2, null, null]),
    ('{E}', 2, 'Cland', 'XAC', 'Ind 2', 'I2', [9, 9, 9, 9]),
    ('{E}', 3, 'Aland', 'XAA', 'Ind 3', 'I3', [4, 4, 4, 4])"""
REVISED = "select countryiso3code, date, value, predecessor_sha256 from raw.worldbank_bulk_revised_rows($shas)"


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


def test_the_predecessor_is_the_one_bulk_release_before_that_holds_the_indicator(con: Any) -> None:
    predecessors = "select * from raw.worldbank_bulk_predecessors($shas)"
    assert _rows(con, predecessors, [A, B, C, D, E]) == sorted(
        [
            (B, "I1", A),
            (C, "I1", B),  # not A: B came later
            # C's I2 and D's: no earlier release holds I2 (C and D came out the same day)
            (E, "I1", C),  # D came out the same day as C but does not hold I1
            # E's I2: two releases of 2025-01-01 hold it, C and D: none of them
            # E's I3: D holds it with two lines of one country: no line to compare with
        ],
        key=repr,
    )
    assert _rows(con, predecessors, [C]) == [(C, "I1", B)]  # only the snapshots asked for


def test_the_revised_cells_are_those_that_differ_from_the_predecessors_line(con: Any) -> None:
    # C against B, read from LINES: XAA's 2001 (3 -> 2) and its new year 2003 (empty), XAB's 2002 (7 -> 8) and 2003,
    # and every cell of XAD (no line in B). Not XAA's 2000 or 2002, nor XAB's 2000 and 2001 (as in B); not I2 (no
    # predecessor: int_observations__vintaged compares all its cells).
    assert _rows(con, REVISED, [C]) == sorted(
        [
            ("XAA", "2001", 2.0, B),
            ("XAA", "2003", None, B),
            ("XAB", "2002", 8.0, B),
            ("XAB", "2003", 9.0, B),
            ("XAD", "2000", 1.0, B),
            ("XAD", "2001", None, B),
            ("XAD", "2002", None, B),
            ("XAD", "2003", None, B),
        ],
        key=repr,
    )
    # E's XAA names the country otherwise: every cell, though each value is C's. XAB and XAD, absent: nothing.
    assert _rows(con, REVISED, [E]) == sorted(
        [("XAA", year, value, C) for year, value in [("2000", 1.0), ("2001", 2.0), ("2002", None), ("2003", None)]],
        key=repr,
    )


def test_a_revised_cell_is_the_releases_own_row_as_the_raw_layer_unnests_it(con: Any) -> None:
    columns = "snapshot_sha256, row_number, indicator_id, indicator_name, countryiso3code, country_name, date, value"
    revised = _rows(con, f"select {columns} from raw.worldbank_bulk_revised_rows($shas)", [C, E])
    every = _rows(con, f"select {columns} from raw.worldbank_bulk_rows($shas, true)", [C, E])
    assert len(revised) == 12
    assert set(revised) <= set(every)


def test_named_predecessors_give_the_same_cells_and_one_left_out_gives_every_cell(con: Any) -> None:
    """int_observations__revised names the predecessors int_observations__taken_in recorded, so that no other
    release's lines are read: the same cells. A predecessor left out has no lines to compare with: every cell of its
    indicators counts as revised, none is lost."""
    named = "select countryiso3code, date, value, predecessor_sha256 from raw.worldbank_bulk_revised_rows($shas, "
    named += "predecessor_shas := $earlier)"
    for shas, earlier in [([C], [B]), ([E], [C]), ([C, E], [B, C]), ([C, E], [A, B, C, D])]:
        found = sorted(con.execute(named, {"shas": shas, "earlier": earlier}).fetchall(), key=repr)
        assert found == _rows(con, REVISED, shas), (shas, earlier)
    # C's I1 without B's lines: XAA and XAB (4 years each) and XAD, every cell, as C publishes them
    without = sorted(con.execute(named, {"shas": [C], "earlier": [A]}).fetchall(), key=repr)
    assert without == sorted(
        [("XAA", year, value, B) for year, value in [("2000", 1.0), ("2001", 2.0), ("2002", None), ("2003", None)]]
        + [("XAB", year, value, B) for year, value in [("2000", 5.0), ("2001", 6.0), ("2002", 8.0), ("2003", 9.0)]]
        + [("XAD", year, value, B) for year, value in [("2000", 1.0), ("2001", None), ("2002", None), ("2003", None)]],
        key=repr,
    )
