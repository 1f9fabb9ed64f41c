"""Rossiyskaya Gazeta: full-text feed, hashed class names, Moscow time, sitemaps, bounds; synthetic inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import scrapers
from scrapers.base import SnapshotMeta
from scrapers.rg import Rg
from tests.conftest import Routes
from tests.news_builders import rg_article, rss_feed, rss_item, sitemap
from unionstat.errors import ParseError, SourceError
from unionstat.http import HttpClient
from unionstat.settings import Settings

PAGE = "https://rg.example.test/2030/01/07/sinteticheskaya-novost.html"
NOW = datetime(2030, 1, 7, 15, 0, tzinfo=UTC)


def rg(tmp_path: Path, base_url: str = "https://rg.example.test", mode: str = "replay") -> Rg:
    env = {"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "w"), "UNIONSTAT_MODE": mode, "UNIONSTAT_RG_BASE_URL": base_url}
    connector = scrapers.connector("rg", Settings.from_env(env))
    assert isinstance(connector, Rg)
    return connector


def meta(dataset: str, url: str = PAGE) -> SnapshotMeta:
    return SnapshotMeta("0" * 64, "rg", dataset, url, "text/html", None)


def test_the_feed_keeps_full_text_categories_enclosure_and_converts_rfc822_to_utc(tmp_path: Path) -> None:
    feed = rss_feed(
        [
            rss_item(
                "Синтетический заголовок",
                "https://rg.example.test/2030/01/07/a.html",
                pub_date="Mon, 07 Jan 2030 12:30:00 +0300",
                description="Краткое описание",
                categories=("Союзное государство",),
                enclosure="/uploads/a.jpg",
                full_text="Полный синтетический текст о Союзном государстве.",
            )
        ],
        language="ru",
    )
    row = rg(tmp_path).parse(feed, meta("rss", "https://rg.example.test/xml/index.xml")).iloc[0]
    assert row["body_text"] == "Полный синтетический текст о Союзном государстве."
    assert row["summary"] == "Краткое описание"
    assert row["published_at"].to_pydatetime() == datetime(2030, 1, 7, 9, 30, tzinfo=UTC)
    assert row["image_url"] == "https://rg.example.test/uploads/a.jpg"
    assert row["tags_json"] == '["Союзное государство"]'
    assert bool(row["in_scope"]) is True


@pytest.mark.parametrize("build_hash", ["a1B2c", "Zx_90"])
def test_an_article_parses_whatever_the_build_hash_with_moscow_time_in_utc(tmp_path: Path, build_hash: str) -> None:
    row = rg(tmp_path).parse(rg_article(build_hash=build_hash), meta("articles")).iloc[0]
    assert row["title"] == "Синтетическая новость о Союзном государстве"
    assert row["published_at"].to_pydatetime() == datetime(2030, 1, 7, 6, 15, tzinfo=UTC)
    assert row["published_at_text"] == "07.01.2030 09:15"
    assert row["body_text"] == "Синтетический текст. ссылка"
    assert row["links_json"] == '["https://rg.example.test/2030/01/07/other.html"]'
    assert row["image_url"] == "https://rg.example.test/img/x.jpg"
    assert row["tags_json"] == '["Союзное государство"]'
    assert row["language"] == "ru"
    assert bool(row["in_scope"]) is True


def test_without_the_hashed_title_and_date_it_falls_back_to_h1_and_meta(tmp_path: Path) -> None:
    page = rg_article(
        title=None, h1_only="Запасной заголовок", date_text=None, meta_published="2030-01-07T09:15:00+03:00"
    )
    row = rg(tmp_path).parse(page, meta("articles")).iloc[0]
    assert row["title"] == "Запасной заголовок"
    assert row["published_at"].to_pydatetime() == datetime(2030, 1, 7, 6, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (rg_article(title=None), r"a title \(PageArticleCommonTitle_title__\* or <h1>\); found none"),
        (rg_article(date_text=None), r"a date \(PageArticleContent_date__\* or meta article:published_time\)"),
        (rg_article(date_text="вчера"), r"'DD.MM.YYYY HH:MM' \(Moscow time\)"),
        (rg_article().replace(b"PageArticleContent_articleBody__", b"ArticleBody_v2__"), "layout changed"),
        (rg_article().replace("Синтетический".encode(), b"\xcf\xf0\xe8"), "UTF-8 HTML"),
    ],
    ids=["no-title", "no-date", "bad-date", "renamed-body-class", "not-utf8"],
)
def test_a_changed_layout_fails_loudly(tmp_path: Path, page: bytes, expected: str) -> None:
    with pytest.raises(ParseError, match=expected) as caught:
        rg(tmp_path).parse(page, meta("articles"))
    assert caught.value.location == PAGE


def test_the_sitemap_url_covers_one_utc_day_in_unix_seconds(tmp_path: Path) -> None:
    url = rg(tmp_path).sitemap_url(NOW)
    assert url == "https://rg.example.test/sitemaps/index.xml?date_start=1893974400&date_end=1894060799"


def test_sitemaps_lead_to_in_scope_article_pages_only(
    tmp_path: Path, publisher_server: tuple[str, Routes], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, routes = publisher_server
    connector = rg(tmp_path, base, mode="live")
    monkeypatch.setitem(connector.config.options, "sitemap_days", "1")  # type: ignore[arg-type]
    union = "/2030/01/07/soyuznoe.html"
    other = "/2030/01/07/pogoda.html"
    day = connector.sitemap_url(NOW).removeprefix(base)
    routes.add(day, body=sitemap([base + "/sitemaps/part1.xml"], index=True))
    routes.add("/sitemaps/part1.xml", body=sitemap([base + union, base + other, base + "/tag/x"]))
    routes.add(union, body=rg_article())
    routes.add(other, body=rg_article(title="Погода", body_html="<p>Синтетический прогноз.</p>", tags=()))

    captures = connector.fetch_articles(HttpClient(connector.settings), {}, NOW)

    assert [c.fetched.url for c in captures] == [base + union]
    requested = [path for path, _ in routes.requests if path != "/robots.txt"]
    assert requested == [day, "/sitemaps/part1.xml", union, other]
    assert all(headers["User-Agent"].startswith("unionstat/") for _, headers in routes.requests)


def test_a_403_for_a_non_browser_client_is_a_source_error(tmp_path: Path, publisher_server: tuple[str, Routes]) -> None:
    base, routes = publisher_server
    routes.add("/xml/index.xml", status=403, body=b"Forbidden")
    connector = rg(tmp_path, base, mode="live")
    with pytest.raises(SourceError, match=r"\[rg\] .*/xml/index.xml: expected HTTP 200; found HTTP 403"):
        connector.fetch(HttpClient(connector.settings), "rss", {})


def test_an_unknown_dataset_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="dataset 'rss' or 'articles'"):
        rg(tmp_path).parse(b"<html></html>", meta("sitemap"))


@pytest.mark.network
def test_live_feed_parses(tmp_path: Path) -> None:
    connector = rg(tmp_path, "https://rg.ru", mode="live")
    captures = connector.fetch(HttpClient(connector.settings), "rss", {})
    assert captures
    rows = connector.parse(captures[0].fetched.body, meta("rss", captures[0].fetched.url))
    assert len(rows) >= 1
