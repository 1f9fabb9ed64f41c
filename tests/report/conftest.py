"""One published warehouse for the report tests: the reference snapshot, a planted news item and a second vintage."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import scrapers
from flows.refresh import refresh
from tests.builders import worldbank_bulk_csv
from tests.conftest import REFERENCE_DIR, built_once, session_folder
from tests.news_builders import rss_item
from unionstat.settings import Settings

# A synthetic OSW item (not an OSW article) whose title is markup: the report must show it as text.
SCRIPT_TITLE = "<script>alert(1)</script>"
SCRIPT_ITEM_URL = "https://www.osw.waw.pl/en/publikacje/analyses/2030-01-07/synthetic-escaping"
# Synthetic World Bank values (not World Bank figures), released later than the reference: a second vintage.
LATER_VINTAGE = "2025-07-01"
LATER_GDP = {"RUS": {"2022": "-1.5", "2023": "1.25"}, "BLR": {"2022": "-4.5", "2023": "2.5"}}


def _build(root: Path) -> dict[str, Any]:
    """Replay + the planted item + an imported bulk CSV, refreshed into `root` (about a minute)."""
    reference = root / "reference"
    shutil.copytree(REFERENCE_DIR, reference)
    feed = reference / "responses" / "osw" / "en-rss.xml"
    planted = rss_item(
        SCRIPT_TITLE,
        "/en/publikacje/analyses/2030-01-07/synthetic-escaping",
        pub_date="Mon, 07 Jan 2030 12:00:00 +0100",
        description="Synthetic text about Belarus and Russia.",
    )
    feed.write_text(feed.read_text(encoding="utf-8").replace("</channel>", planted + "</channel>"), encoding="utf-8")
    csv_path = root / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv"
    csv_path.write_bytes(worldbank_bulk_csv(LATER_GDP, LATER_VINTAGE))
    with _environment(root):
        summary = refresh(sources=list(scrapers.registry()), import_paths=[str(csv_path)])
    assert summary["status"] == "published", summary
    return {"status": summary["status"]}


@contextlib.contextmanager
def _environment(root: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UNIONSTAT_WAREHOUSE_DIR", str(root / "warehouse"))
        mp.setenv("UNIONSTAT_MODE", "replay")
        mp.setenv("UNIONSTAT_FETCH_RETRY_DELAYS_S", "0")
        mp.setenv("UNIONSTAT_REFERENCE_DIR", str(root / "reference"))
        for key in list(os.environ):
            if key.startswith("UNIONSTAT_") and key.endswith("_BASE_URL"):
                mp.delenv(key)
        yield


@pytest.fixture(scope="package")
def report_warehouse(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Iterator[Settings]:
    """The report tests' published warehouse, refreshed once per test session (by the first pytest-xdist worker
    that needs it) and copied for each worker's package: the tests rewrite the report in it."""
    built_once(tmp_path_factory, "report-warehouse", _build)
    root = tmp_path_factory.mktemp("report-warehouse")
    shutil.copytree(session_folder(tmp_path_factory) / "report-warehouse", root, dirs_exist_ok=True)
    with _environment(root):
        yield Settings.from_env()


def analysis_page(settings: Settings) -> Path:
    return settings.reports_dir / "analysis" / "index.html"
