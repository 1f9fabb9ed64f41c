"""A World Bank bulk release that follows the one taken in last is compared with it line by line: only the cells
that differ reach int_observations__vintaged's comparison with the figures it holds, and the result is what a
full build computes from every release."""

from __future__ import annotations

from pathlib import Path

from flows.refresh import refresh
from tests.builders import worldbank_bulk_csv
from tests.conftest import query
from tests.flows.vintages import assert_equals_a_full_build
from unionstat.settings import Settings

NAME = "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv"
GDP_2023 = (
    "select country_iso3, cast(vintage as varchar), value, is_current from intermediate.int_observations__vintaged "
    "where indicator_code = 'NY.GDP.MKTP.KD.ZG' and period = '2023' and vintage >= date '2025-01-01' "
    "and country_iso3 in ('ARM', 'BLR', 'KAZ', 'RUS') order by 1, 2"
)


def test_a_release_compared_line_by_line_with_the_one_before_builds_what_a_full_build_builds(
    published_reference: Settings, tmp_path: Path
) -> None:
    db = published_reference.published_db
    # Synthetic values (not World Bank figures), after the reference's real release of 2024-06-28.
    first = tmp_path / "first" / NAME
    first.parent.mkdir()
    first.write_bytes(
        worldbank_bulk_csv(
            {"RUS": {"2022": "-1.25", "2023": "1.25"}, "BLR": {"2023": "2.5"}, "KAZ": {"2023": "5.55"}}, "2025-07-01"
        )
    )
    first_run = refresh(import_paths=[str(first)])
    # The next release repeats Russia's line, revises Belarus's 2023, drops Kazakhstan and adds Armenia.
    second = tmp_path / "second" / NAME
    second.parent.mkdir()
    second.write_bytes(
        worldbank_bulk_csv(
            {"RUS": {"2022": "-1.25", "2023": "1.25"}, "BLR": {"2023": "2.7"}, "ARM": {"2023": "8.25"}}, "2025-10-01"
        )
    )
    summary = refresh(import_paths=[str(second)])
    assert summary["build_selection"] == "source:worldbank+"
    first_sha, sha = (run["imported"][0]["sha256"] for run in (first_run, summary))

    # The build compared the new release's lines with the first one's (the release taken in last): Belarus's 2023
    # and Armenia's 65 years (one of them filled) differ; Russia's line does not.
    predecessor = (
        "select predecessor_sha256 from intermediate.int_observations__taken_in "
        "where snapshot_sha256 = ? and indicator_code = 'NY.GDP.MKTP.KD.ZG'"
    )
    assert query(db, predecessor, [sha]) == [(first_sha,)]
    revised = "select country_iso3, period, value, predecessor_sha256 from intermediate.int_observations__revised"
    cells = query(db, revised)
    assert len(cells) == 1 + 65
    assert {c[3] for c in cells} == {first_sha}
    assert sorted(c[:3] for c in cells if c[2] is not None) == [("ARM", "2023", 8.25), ("BLR", "2023", 2.7)]
    assert query(db, GDP_2023) == [
        ("ARM", "2025-10-01", 8.25, True),
        ("BLR", "2025-07-01", 2.5, False),
        ("BLR", "2025-10-01", 2.7, True),
        ("KAZ", "2025-07-01", 5.55, True),  # not in the second release: its figure stands
        ("RUS", "2025-07-01", 1.25, True),  # repeated by the second release: no row
    ]
    assert_equals_a_full_build(published_reference, db, tmp_path / "full-build")
