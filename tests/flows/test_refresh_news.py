"""The news table after an offline refresh: the items compiled from the paper, with snapshots and languages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flows.refresh import refresh
from tests.conftest import query
from tests.news_builders import rss_feed, rss_item
from unionstat.settings import Settings

NEWS = (
    "select source, canonical_url, language, published_at, date_is_publication_proxy, duplicate_count, "
    "duplicate_urls, body_text, tags, snapshot_sha256 from marts.mart_news_items order by canonical_url"
)
URN = "urn:unionstat:paper:"


def test_refresh_publishes_the_news_items_compiled_from_the_paper(
    reference_build: dict[str, Any], published_reference: Settings
) -> None:
    summary, warehouse_env = reference_build["summary"], published_reference  # the session's `refresh()`

    assert summary["status"] == "published"
    assert summary["new_snapshots"]["osw"] == 1
    assert summary["new_snapshots"]["rg"] == 1
    assert summary["not_recorded"]["osw"] == ["articles"]
    assert summary["not_recorded"]["rg"] == ["articles"]
    assert summary["rows_loaded"]["raw.osw_articles"] == 5
    assert summary["rows_loaded"]["raw.rg_articles"] == 7
    db = warehouse_env.published_db
    snapshots = dict(query(db, "select source, sha256 from raw.snapshots where source in ('osw', 'rg')"))
    origins = {
        source: (origin, recording)
        for source, origin, recording in query(
            db, "select source, origin, recording_id from raw.snapshots where source in ('osw', 'rg')"
        )
    }
    assert origins == {
        "osw": ("compiled_from_paper", "osw-rss-compiled-from-paper-tables-6-7"),
        "rg": ("compiled_from_paper", "rg-rss-compiled-from-paper-tables-1-7"),
    }

    rows = query(db, NEWS)

    # 5 OSW + 7 RG items; the paper repeats two statements in two tables: one item each, counted.
    assert len(rows) == 10
    by_url = {r[1]: r for r in rows}
    assert {r[0] for r in rows} == {"osw", "rg"}
    assert sum(1 for r in rows if r[0] == "osw") == 4
    assert all(r[1].startswith(URN) for r in rows)
    assert {r[2] for r in rows} == {"en"}
    assert {r[3] for r in rows} == {datetime(2024, 10, 1, 0, 0)}
    assert all(r[4] is True for r in rows)
    assert all(r[9] == snapshots[r[0]] for r in rows)

    brain_drain = by_url[URN + "table6:cultural-brain-drain:1"]
    assert brain_drain[7] == "Up to 60,000 IT specialists may leave Belarus"
    assert brain_drain[8][1] == "Cultural / Brain Drain"
    currencies = by_url[URN + "table1:economic-integration:2"]
    assert currencies[7] == "92% of transactions in national currencies"
    assert (currencies[5], currencies[6]) == (1, [URN + "table7:digital-market-integration:1"])
    assert URN + "table7:digital-market-integration:1" not in by_url
    it_crisis = by_url[URN + "table6:technological-uneven-digital-development:2"]
    assert (it_crisis[5], it_crisis[6]) == (1, [URN + "table7:it-sector-growth:2"])
    universities = by_url[URN + "table1:education-and-research:1"]
    assert universities[7] == "Over 1,300 cooperation agreements between universities"

    second = refresh()
    assert (second["new_snapshots"]["osw"], second["new_snapshots"]["rg"]) == (0, 0)
    assert query(db, NEWS) == rows


def test_a_feed_that_turns_into_html_fails_only_its_source(warehouse_env: Settings, reference_copy: Path) -> None:
    (reference_copy / "responses" / "rg" / "xml-index.xml").write_bytes(
        "<!DOCTYPE html><html><body>Доступ запрещён</body></html>".encode()
    )

    summary = refresh()

    assert summary["status"] == "partial"
    assert "expected an RSS feed; found an HTML page" in summary["failed_sources"]["rg"]
    news = query(warehouse_env.published_db, "select distinct source from marts.mart_news_items")
    assert news == [("osw",)]


def test_a_new_feed_item_with_a_known_text_under_a_new_url_is_counted_not_added(
    published_reference: Settings, reference_copy: Path
) -> None:
    warehouse_env = published_reference
    # A synthetic later feed: the same text as an existing item under another (synthetic) link, one new item and one
    # out of scope. (Three items: the core's row_count_vs_previous_vintage check fails a feed below half its last size.)
    feed = rss_feed(
        [
            rss_item(
                "Synthetic copy",
                "https://www.example.test/en/publikacje/analyses/2030-01-07/copy/?utm_source=x#top",
                pub_date="Mon, 07 Jan 2030 12:00:00 +0100",
                description="Up to 60,000   IT specialists may leave BELARUS",
            ),
            rss_item(
                "Synthetic new item about Belarus",
                "/en/publikacje/osw-commentary/2030-01-07/synthetic",
                pub_date="Mon, 07 Jan 2030 12:00:00 +0100",
                description="Synthetic text about Belarus.",
            ),
            rss_item(
                "Synthetic item out of scope",
                "/en/publikacje/analyses/2030-01-07/synthetic-chile",
                pub_date="Mon, 07 Jan 2030 12:00:00 +0100",
                description="Synthetic text about Chile.",
            ),
        ],
        language="en",
    )
    (reference_copy / "responses" / "osw" / "en-rss.xml").write_bytes(feed)

    refresh()

    rows = dict(
        query(
            warehouse_env.published_db,
            "select canonical_url, duplicate_urls from marts.mart_news_items where source = 'osw'",
        )
    )
    assert len(rows) == 5
    assert rows[URN + "table6:cultural-brain-drain:1"] == [
        "https://www.example.test/en/publikacje/analyses/2030-01-07/copy"
    ]
    assert rows["https://www.osw.waw.pl/en/publikacje/osw-commentary/2030-01-07/synthetic"] == []
    assert "https://www.osw.waw.pl/en/publikacje/analyses/2030-01-07/synthetic-chile" not in rows
