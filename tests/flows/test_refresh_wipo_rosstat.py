"""The offline refresh with the WIPO and Rosstat connectors: their reference recordings reach Table 2 and the audit."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.refresh import refresh
from tests.builders import wipo_table_export
from tests.conftest import REFERENCE_DIR, query
from unionstat.settings import Settings

TABLE2 = (
    "select metric_id, publisher, russia_value, belarus_value, pct_difference, higher_in, russia_vintage, status, "
    "status_reason from marts.mart_table2_country_comparison"
)
TOTAL = "patent_applications_total_by_origin"
AUDIT = "select figure_id, status, recomputed_value, publisher, explanation from marts.mart_replication_audit"


def test_refresh_loads_wipo_and_rosstat_and_table2_is_computed_from_them(
    reference_build: dict[str, Any], published_reference: Settings
) -> None:
    summary, warehouse_env = reference_build["summary"], published_reference  # the session's `refresh()`

    assert summary["status"] == "published"
    assert summary["new_snapshots"]["wipo"] == 3  # the table export and two country profiles
    # two section pages and the workbook each links (compiled from the paper), and the real VDS_god_OKVED2.xlsx
    assert summary["new_snapshots"]["rosstat"] == 5
    assert summary["not_recorded"]["wipo"] == ["pct_women_inventors_share"]  # the paper states no year
    assert summary["rows_loaded"]["raw.wipo_observations"] == 6
    # two file links and one index cell per compiled workbook, and the real workbook's 7,417 number cells
    assert summary["rows_loaded"]["raw.rosstat_cells"] == 4 + 7417
    db = warehouse_env.published_db
    rows = {r[0]: r[1:] for r in query(db, TABLE2)}

    assert rows["patent_applications"][:6] == ("wipo", 25188.0, 980.0, 2470.2041, "Russia", date(2024, 10, 1))
    assert rows["patent_applications"][6] == "computed"
    assert rows["patent_applications_per_million"][:5] == ("wipo", 135.0, 38.4, 251.5625, "Russia")
    assert rows["patent_applications_per_million"][6] == "computed"
    assert rows["it_services_index"][:3] == ("rosstat", 132.7, None)
    assert rows["it_services_index"][6] == "computed"
    assert rows["rnd_index"][:3] == ("rosstat", 107.3, None)
    assert rows["rnd_index"][6] == "computed"
    women = rows["women_inventors_share"]
    assert (women[1], women[2], women[6], women[7]) == (
        None,
        None,
        "no data",
        "the paper states no period for this figure",
    )

    audit = {r[0]: r[1:] for r in query(db, AUDIT)}
    for figure, value in {
        "t2_patents_rus": 25188.0,
        "t2_patents_blr": 980.0,
        "t2_per_million_rus": 135.0,
        "t2_per_million_blr": 38.4,
        "t2_per_million_diff": 251.5625,
        "t2_it_rus": 132.7,
        "t2_rnd_rus": 107.3,
    }.items():
        status, recomputed, publisher, _ = audit[figure]
        # the paper's own figures: equal to the printed ones by construction, so they check nothing
        assert (status, publisher) == ("paper only", "wipo" if figure.startswith("t2_p") else "rosstat"), figure
        assert recomputed == pytest.approx(value, abs=1e-4), figure
    status, recomputed, _, explanation = audit["t2_patents_diff"]
    assert status == "paper only"  # 2470.2 against the printed 2,471 (rounding), but from the paper's own inputs
    assert recomputed == pytest.approx(2470.2041, abs=1e-4)
    assert audit["t2_women_rus"][0] == "not reproducible"


def test_indices_are_stored_as_indices_with_their_periods_and_ranks_beside_them(published_reference: Settings) -> None:
    db = published_reference.published_db

    observations = query(
        db,
        "select publisher, indicator_code, country_iso3, period, value, unit "
        "from intermediate.int_observations__vintaged where publisher in ('wipo', 'rosstat') "
        "and indicator_code not like 'gva_volume_index.%' order by publisher, indicator_code, country_iso3",
    )
    assert observations == [
        ("rosstat", "rnd_index", "RUS", "2024", 107.3, "index (same period a year earlier = 100)"),
        (
            "rosstat",
            "software_development_index",
            "RUS",
            "2024-01/2024-08",
            132.7,
            "index (same period a year earlier = 100)",
        ),
        ("wipo", "patent_applications_total_by_origin", "BLR", "2022", 980.0, "applications"),
        ("wipo", "patent_applications_total_by_origin", "RUS", "2022", 25188.0, "applications"),
        ("wipo", "patent_applications_world_rank", "BLR", "2022", 49.0, "rank (1 = most)"),
        ("wipo", "patent_applications_world_rank", "RUS", "2022", 14.0, "rank (1 = most)"),
        (
            "wipo",
            "resident_applications_per_million_population",
            "BLR",
            "2022",
            38.4,
            "applications per million population",
        ),
        (
            "wipo",
            "resident_applications_per_million_population",
            "RUS",
            "2022",
            135.0,
            "applications per million population",
        ),
    ]
    discovered = query(
        db,
        "select link.file_url, workbook.snapshot_sha256 is not null "
        "from raw.rosstat_cells link left join raw.rosstat_cells workbook "
        "on workbook.document_kind = 'workbook' and workbook.file_url = link.file_url "
        "where link.document_kind = 'section_page' order by 1",
    )
    assert discovered == [
        ("https://rosstat.gov.ru/storage/mediabank/unionstat-reference-compiled-from-paper-rnd.xlsx", True),
        ("https://rosstat.gov.ru/storage/mediabank/unionstat-reference-compiled-from-paper-software.xlsx", True),
    ]


def test_a_rosstat_file_served_as_html_fails_only_rosstat(warehouse_env: Settings, reference_copy: Path) -> None:
    workbook = reference_copy / "responses" / "rosstat" / "unionstat-reference-compiled-from-paper-rnd.xlsx"
    workbook.write_bytes(b"<!DOCTYPE html><html><body>Service temporarily unavailable</body></html>")

    summary = refresh()

    assert summary["status"] == "partial"
    assert (
        "expected an XLSX or XLS workbook (PK or OLE2 magic bytes); found an HTML page"
        in (summary["failed_sources"]["rosstat"])
    )
    assert "raw.rosstat_cells" not in summary["rows_loaded"]
    rows = {r[0]: r[1:] for r in query(warehouse_env.published_db, TABLE2)}
    assert rows["patent_applications"][6] == "computed"  # WIPO is unaffected
    assert rows["rnd_index"][6] == "pending"


def test_unionstat_import_takes_a_wipo_export_whole(warehouse_env: Settings, tmp_path: Path) -> None:
    """A (synthetic, real-layout) table export downloaded by hand: every data cell loads, historical origins too;
    the paper's indicator reaches the observations with the release month as its vintage."""
    path = tmp_path / "downloads" / "patent_1.csv"
    path.parent.mkdir()
    rows = [
        ("Russian Federation", "RU", {"2021": "30001", "2022": "29002"}),
        ("Belarus", "BY", {"2022": "903"}),
        ("Soviet Union", "SU", {"2021": "5"}),
    ]
    path.write_bytes(wipo_table_export(rows, last_updated="May 2026"))

    summary = refresh(import_paths=[str(path)])

    assert summary["status"] == "published"
    assert [(i["source"], i["dataset"]) for i in summary["imported"]] == [("wipo", TOTAL)]
    assert summary["rows_loaded"] == {"raw.wipo_observations": 4}
    db = warehouse_env.published_db
    raw = query(db, "select origin_code, year, cell_text, last_updated, release_stamp from raw.wipo_observations")
    assert raw == [
        ("RU", "2021", "30001", date(2026, 5, 1), "May 2026"),
        ("RU", "2022", "29002", date(2026, 5, 1), "May 2026"),
        ("BY", "2022", "903", date(2026, 5, 1), "May 2026"),
        ("SU", "2021", "5", date(2026, 5, 1), "May 2026"),
    ]
    published = query(
        db,
        "select indicator_code, country_iso3, period, value, vintage, origin "
        "from intermediate.int_observations__published where publisher = 'wipo' order by all",
    )
    assert published == [
        (TOTAL, "BLR", "2022", 903.0, date(2026, 5, 1), "imported"),
        (TOTAL, "RUS", "2021", 30001.0, date(2026, 5, 1), "imported"),
        (TOTAL, "RUS", "2022", 29002.0, date(2026, 5, 1), "imported"),
    ]


def test_bytes_stored_under_two_datasets_give_each_observation_once(
    published_reference: Settings, tmp_path: Path
) -> None:
    """The load takes such a snapshot once; the published observations join its first fetch only."""
    warehouse_env = published_reference
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse_env.published_db, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            "insert into raw.snapshots select sha256, source, 'table:again', request_url || '&again', 'imported', "
            "fetched_at + interval 1 hour, http_status, etag, last_modified, content_type, size_bytes, null, run_id, "
            "null "
            "from raw.snapshots where source = 'wipo' and dataset = 'patent_applications_total_by_origin'"
        )
        rows = con.execute(
            "select country_iso3, value, origin from intermediate.int_observations__published "
            "where indicator_code = 'patent_applications_total_by_origin' order by all"
        ).fetchall()
    finally:
        con.close()
    assert rows == [("BLR", 980.0, "compiled_from_paper"), ("RUS", 25188.0, "compiled_from_paper")]


# Read by eye from the real VDS_god_OKVED2.xlsx (sheet 4, the 2024 column '20242)'; the stamp "Обновлено").
GVA_2024 = [
    ("gva_volume_index.J62-63", "2024", 117.55247137652276, "index (previous year = 100)", date(2026, 2, 6)),
    ("gva_volume_index.M72", "2024", 102.69134511157387, "index (previous year = 100)", date(2026, 2, 6)),
]
ROSSTAT_2024 = (
    "select indicator_code, period, value, unit, vintage, origin from intermediate.int_observations__published "
    "where publisher = 'rosstat' and period in ('2024', '2024-01/2024-08') order by 1"
)


def test_an_imported_rosstat_workbook_loads_every_cell_and_its_gva_indices(warehouse_env: Settings) -> None:
    """The real VDS_god_OKVED2.xlsx downloaded by hand and imported: every number cell loads, and the registry's
    selections choose sheet 4's rows 'J (62-63)' and 'M 72' as their own indicators."""
    summary = refresh(import_paths=[str(REFERENCE_DIR / "files" / "rosstat" / "VDS_god_OKVED2.xlsx")])

    assert summary["status"] == "published"
    assert summary["rows_loaded"] == {"raw.rosstat_cells": 7417}
    chosen = query(warehouse_env.published_db, ROSSTAT_2024)
    assert chosen == [(*row, "imported") for row in GVA_2024]


def test_the_reference_run_holds_the_real_gva_indices_beside_the_papers(published_reference: Settings) -> None:
    """Offline, the real workbook (recorded by a third party) and the paper's two indices (compiled from it) sit
    side by side as different indicators; Table 2 keeps the paper's, which measure something else."""
    chosen = query(published_reference.published_db, ROSSTAT_2024)
    assert chosen == [
        *[(*row, "recorded_third_party") for row in GVA_2024],
        (
            "rnd_index",
            "2024",
            107.3,
            "index (same period a year earlier = 100)",
            date(2024, 10, 1),
            "compiled_from_paper",
        ),
        (
            "software_development_index",
            "2024-01/2024-08",
            132.7,
            "index (same period a year earlier = 100)",
            date(2024, 10, 1),
            "compiled_from_paper",
        ),
    ]
    rows = {r[0]: r[1:] for r in query(published_reference.published_db, TABLE2)}
    assert rows["it_services_index"][:3] == ("rosstat", 132.7, None)
    assert rows["rnd_index"][:3] == ("rosstat", 107.3, None)
