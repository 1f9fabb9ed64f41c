"""OSW: feed and article parsing, listing pagination and bounds, guards; synthetic inputs only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import scrapers
from scrapers.base import Connector, SnapshotMeta
from tests.conftest import Routes
from tests.news_builders import osw_article, osw_listing, rss_feed, rss_item
from unionstat.errors import ParseError
from unionstat.http import HttpClient
from unionstat.settings import Settings

ARTICLE = "/en/publikacje/analyses/2030-01-07/synthetic-belarus"


def osw(tmp_path: Path, base_url: str = "https://www.osw.example.test", mode: str = "replay") -> Connector:
    env = {"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "w"), "UNIONSTAT_MODE": mode, "UNIONSTAT_OSW_BASE_URL": base_url}
    return scrapers.connector("osw", Settings.from_env(env))


def meta(dataset: str, url: str) -> SnapshotMeta:
    return SnapshotMeta("0" * 64, "osw", dataset, url, "text/html", None)


def test_the_base_url_is_overridable_and_the_registry_bounds_the_fetch(tmp_path: Path) -> None:
    connector = osw(tmp_path, "http://127.0.0.1:9/")
    assert connector.base_url == "http://127.0.0.1:9"
    assert connector.config.raw_table == "raw.osw_articles"
    assert int(connector.config.options["max_pages"]) >= 1
    assert int(connector.config.options["max_articles"]) >= 1


def test_an_article_page_parses_with_utc_date_tags_and_resolved_links(tmp_path: Path) -> None:
    url = "https://www.osw.example.test" + ARTICLE
    rows = osw(tmp_path).parse(osw_article(), meta("articles", url))

    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["item_kind"] == "article"
    assert row["url"] == url
    assert row["title"] == "Synthetic analysis of Belarus"
    assert row["published_at"].to_pydatetime() == datetime(2030, 1, 7, 13, 0, tzinfo=UTC)
    assert row["tags_json"] == '["Belarus", "Russia"]'
    assert row["links_json"] == '["https://www.osw.example.test/en/publikacje/x"]'
    assert row["image_url"] == "https://www.osw.example.test/files/a.png"
    assert row["body_text"] == "Synthetic text about Belarus. more"
    assert row["language"] == "en"
    assert bool(row["in_scope"]) is True


def test_a_canonical_link_replaces_the_request_url(tmp_path: Path) -> None:
    url = "https://www.osw.example.test" + ARTICLE + "?utm_source=x"
    rows = osw(tmp_path).parse(osw_article(canonical=ARTICLE), meta("articles", url))
    assert rows.iloc[0]["url"] == "https://www.osw.example.test" + ARTICLE


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (osw_article(article_role=False), r'article\[role="article"\].*layout changed'),
        (osw_article(published=None), r'meta\[property="article:published_time"\]; found none'),
        (osw_article(published="07.01.2030"), "an ISO 8601 date-time"),
        (rss_feed([rss_item("t", "/a")]), "expected an HTML page; found XML"),
    ],
    ids=["no-article-element", "no-date-meta", "bad-date", "xml-instead-of-html"],
)
def test_a_changed_article_layout_fails_loudly(tmp_path: Path, page: bytes, expected: str) -> None:
    with pytest.raises(ParseError, match=expected) as caught:
        osw(tmp_path).parse(page, meta("articles", "https://www.osw.example.test" + ARTICLE))
    assert caught.value.source == "osw"


def test_the_feed_parses_titles_and_summaries_with_relative_links_resolved(tmp_path: Path) -> None:
    feed = rss_feed(
        [rss_item("Synthetic: Minsk and Moscow", ARTICLE, pub_date="Tue, 08 Jan 2030 10:00:00 +0100")],
        language="en",
    )
    rows = osw(tmp_path).parse(feed, meta("rss", "https://www.osw.example.test/en/rss.xml"))
    assert rows.iloc[0]["url"] == "https://www.osw.example.test" + ARTICLE
    assert rows.iloc[0]["published_at"].to_pydatetime() == datetime(2030, 1, 8, 9, 0, tzinfo=UTC)
    assert rows.iloc[0]["item_kind"] == "rss_item"


def test_html_served_for_the_feed_is_not_stored(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.add("/en/rss.xml", body=b"<!DOCTYPE html><html><body>Maintenance</body></html>")
    connector = osw(tmp_path, base, mode="live")
    http = HttpClient(connector.settings)
    with pytest.raises(ParseError, match=r"\[osw\] .*/en/rss.xml: expected an RSS feed; found an HTML page"):
        connector.fetch(http, "rss", {})


def _listing_routes(routes: Routes, pages: list[bytes]) -> None:
    for number, body in enumerate(pages):
        routes.add(f"/en/publikacje?page={number}", body=body)


def test_listings_paginate_from_zero_keep_in_scope_items_and_stop_at_an_empty_page(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    second = "/en/publikacje/osw-commentary/2030-01-06/synthetic-russia"
    _listing_routes(
        routes,
        [
            osw_listing(
                [
                    (ARTICLE, "2030-01-07T12:00:00+01:00", "Synthetic: Belarus"),
                    ("/en/publikacje/analyses/2030-01-07/synthetic-chile", "2030-01-07T11:00:00+01:00", "Chile"),
                ]
            ),
            osw_listing([(second, "2030-01-06T12:00:00+01:00", "Synthetic: Russia")]),
            b"<!DOCTYPE html><html><body><div class='view-content'></div></body></html>",
        ],
    )
    routes.add(ARTICLE, body=osw_article())
    routes.add(second, body=osw_article(title="Synthetic Russia"))
    connector = osw(tmp_path, base, mode="live")

    captures = connector.fetch(HttpClient(connector.settings), "articles", {})

    assert [c.fetched.url for c in captures] == [base + ARTICLE, base + second]
    requested = [path for path, _ in routes.requests if path != "/robots.txt"]
    assert requested[:3] == ["/en/publikacje?page=0", "/en/publikacje?page=1", "/en/publikacje?page=2"]
    assert "/en/publikacje/analyses/2030-01-07/synthetic-chile" not in requested
    assert all(headers["User-Agent"].startswith("unionstat/") for _, headers in routes.requests)


def test_an_empty_first_listing_page_is_an_error(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    _listing_routes(routes, [b"<!DOCTYPE html><html><body><p>No results</p></body></html>"])
    connector = osw(tmp_path, base, mode="live")
    with pytest.raises(ParseError, match=r"expected listing items div.views-row; found none"):
        connector.fetch(HttpClient(connector.settings), "articles", {})


def test_a_listing_item_without_an_article_link_is_an_error(
    tmp_path: Path, publisher_server: tuple[str, Routes]
) -> None:
    base, routes = publisher_server
    _listing_routes(routes, [osw_listing([("/en/about", "2030-01-07T12:00:00+01:00", "Belarus")])])
    connector = osw(tmp_path, base, mode="live")
    with pytest.raises(ParseError, match=r"an article link /en/publikacje/<type>/YYYY-MM-DD/slug"):
        connector.fetch(HttpClient(connector.settings), "articles", {})


def test_the_number_of_article_pages_is_bounded(
    tmp_path: Path, publisher_server: tuple[str, Routes], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, routes = publisher_server
    links = [f"/en/publikacje/analyses/2030-01-0{i}/belarus-{i}" for i in range(1, 6)]
    _listing_routes(routes, [osw_listing([(link, "2030-01-01T00:00:00+00:00", "Belarus") for link in links])])
    for link in links:
        routes.add(link, body=osw_article())
    connector = osw(tmp_path, base, mode="live")
    monkeypatch.setitem(connector.config.options, "max_articles", "2")  # type: ignore[arg-type]

    captures = connector.fetch(HttpClient(connector.settings), "articles", {})

    assert len(captures) == 2
    assert sum(1 for path, _ in routes.requests if path.startswith("/en/publikacje/analyses/")) == 2


@pytest.mark.network
def test_live_feed_parses(tmp_path: Path) -> None:
    connector = osw(tmp_path, "https://www.osw.waw.pl", mode="live")
    captures = connector.fetch(HttpClient(connector.settings), "rss", {})
    assert captures
    rows = connector.parse(captures[0].fetched.body, meta("rss", captures[0].fetched.url))
    assert len(rows) >= 1
