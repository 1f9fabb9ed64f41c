"""Vintages hold changes only, and a release that arrives after a newer one is recomputed.

(Apart from tests/flows/test_refresh.py so that pytest-xdist's `loadfile` can run it beside the other slow files.)"""

from __future__ import annotations

from pathlib import Path

from flows.refresh import refresh
from tests.builders import worldbank_bulk_csv
from tests.conftest import query
from tests.flows.vintages import (
    GDP_2023,
    GDP_2023_BLR,
    GDP_2023_RUS,
    assert_equals_a_full_build,
)
from unionstat.settings import Settings


def test_vintages_hold_changes_only_and_a_late_release_is_recomputed(
    published_reference: Settings, tmp_path: Path
) -> None:
    """A release that repeats a value adds no row; one that arrives after a newer release is recomputed."""
    warehouse_env = published_reference  # the reference: the real World Bank release of 2024-06-28
    db = warehouse_env.published_db
    rows = GDP_2023
    # Synthetic values (not World Bank figures), only to differ from the reference or repeat it.
    newer = tmp_path / "newer" / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv"
    newer.parent.mkdir()
    newer.write_bytes(worldbank_bulk_csv({"RUS": {"2023": "3.6"}, "BLR": {"2023": "4.0"}}, "2025-07-01"))
    assert refresh(import_paths=[str(newer)])["build_selection"] == "source:worldbank+"
    assert query(db, rows) == [
        ("BLR", "2024-06-28", GDP_2023_BLR, False),
        ("BLR", "2025-07-01", 4.0, True),
        ("RUS", "2024-06-28", GDP_2023_RUS, True),  # repeated in 2025-07-01 (as 3.6, the same value): no row
    ]
    releases = (
        "select count(*) from intermediate.int_observations__published "
        "where indicator_code = 'NY.GDP.MKTP.KD.ZG' and period = '2023' and country_iso3 = 'RUS'"
    )
    assert query(db, releases) == [(2,)]  # both releases, whole
    assert_equals_a_full_build(warehouse_env, db, tmp_path / "full-build")

    # A release dated between the two arrives last: Russia's repeat becomes a change back, Belarus's a repeat.
    older = tmp_path / "older" / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv"
    older.parent.mkdir()
    older.write_bytes(worldbank_bulk_csv({"RUS": {"2023": "5.0"}, "BLR": {"2023": "4.0"}}, "2025-01-15"))
    assert refresh(import_paths=[str(older)])["build_selection"] == "source:worldbank+"
    assert query(db, rows) == [
        ("BLR", "2024-06-28", GDP_2023_BLR, False),
        ("BLR", "2025-01-15", 4.0, True),
        ("RUS", "2024-06-28", GDP_2023_RUS, False),
        ("RUS", "2025-01-15", 5.0, False),
        ("RUS", "2025-07-01", 3.6, True),
    ]
    revisions = (
        "select country_iso3, cast(previous_vintage as varchar), cast(vintage as varchar), previous_value, value "
        "from marts.mart_revisions where period = '2023' and indicator_code = 'NY.GDP.MKTP.KD.ZG' "
        "and country_iso3 in ('RUS', 'BLR') order by 1, 3"
    )
    assert query(db, revisions) == [
        ("BLR", "2024-06-28", "2025-01-15", GDP_2023_BLR, 4.0),
        ("RUS", "2024-06-28", "2025-01-15", GDP_2023_RUS, 5.0),
        ("RUS", "2025-01-15", "2025-07-01", 5.0, 3.6),
    ]
    assert_equals_a_full_build(warehouse_env, db, tmp_path / "full-build-2")
