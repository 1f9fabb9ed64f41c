"""The shared news parsing: XML safety, RSS guards, dates to UTC, links resolved, hashed class names."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from scrapers import news
from tests.news_builders import rss_feed, rss_item, sitemap, xml_bomb, xxe
from unionstat.errors import ParseError

URL = "https://feeds.example.test/xml/index.xml"
SCOPE = news.Scope.from_option("belarus,союзное государство")


def parse(body: bytes):  # type: ignore[no-untyped-def]
    return news.parse_rss("rg", URL, body, "https://feeds.example.test", "ru", SCOPE)


def test_rss_items_become_rows_with_utc_dates_resolved_links_and_tags() -> None:
    body = rss_feed(
        [
            rss_item(
                "Synthetic Belarus headline",
                "/2030/01/07/synthetic.html",
                pub_date="Mon, 07 Jan 2030 12:30:00 +0300",
                description="<p>Synthetic <b>summary</b></p>",
                categories=("Экономика", "Союзное государство"),
                enclosure="/img/synthetic.jpg",
                full_text="Synthetic full text.",
            ),
            rss_item("Unrelated synthetic item", "https://other.example.test/x", description=None),
        ]
    )

    rows = parse(body)

    assert len(rows) == 2
    first = rows.iloc[0]
    assert first["url"] == "https://feeds.example.test/2030/01/07/synthetic.html"
    assert first["published_at"].to_pydatetime() == datetime(2030, 1, 7, 9, 30, tzinfo=UTC)
    assert first["published_at_text"] == "Mon, 07 Jan 2030 12:30:00 +0300"
    assert first["summary"] == "Synthetic summary"
    assert first["body_text"] == "Synthetic full text."
    assert first["tags_json"] == '["Экономика", "Союзное государство"]'
    assert first["image_url"] == "https://feeds.example.test/img/synthetic.jpg"
    assert first["language"] == "ru"
    assert list(rows["in_scope"]) == [True, False]
    assert pd.isna(rows.iloc[1]["body_text"])  # no description, no full text: NULL, not an empty string


def test_the_channel_language_is_normalised_and_unknown_languages_are_refused() -> None:
    assert parse(rss_feed([rss_item("t", "/a")], language="ru-RU")).iloc[0]["language"] == "ru"
    with pytest.raises(ParseError, match=r"a language among .*'de'"):
        parse(rss_feed([rss_item("t", "/a")], language="de"))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<rss><channel><item><title>unclosed</channel></rss>", "malformed XML"),
        (xml_bomb(), "refused: DTDForbidden"),
        (xxe(), "refused: DTDForbidden"),
        (b"<!DOCTYPE html><html><body>Access denied</body></html>", "found an HTML page"),
        (b"", "found an empty body"),
        (rss_feed([]), "at least one <item> in the feed; found zero items"),
        (sitemap(["https://example.test/a"]), r"an RSS document .*root element <urlset>"),
    ],
    ids=["malformed", "billion-laughs", "xxe", "html-instead-of-rss", "empty-body", "zero-items", "not-rss"],
)
def test_bad_feeds_raise_a_parse_error_naming_source_url_and_what_was_found(body: bytes, expected: str) -> None:
    with pytest.raises(ParseError, match=expected) as caught:
        parse(body)
    assert caught.value.source == "rg"
    assert caught.value.location == URL


def test_entity_declarations_are_refused_even_without_a_doctype_keyword_in_the_sniffed_head() -> None:
    body = b"<?xml version='1.0'?>\n" + b" " * 600 + xxe()[len(b'<?xml version="1.0"?>') :]
    with pytest.raises(ParseError, match="refused"):
        parse(body)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (rss_item("t", "/a", pub_date=""), "title, link and pubDate in every <item>"),
        (rss_item("t", "/a", pub_date="yesterday"), "an RFC 822 date"),
        (rss_item("t", "/a", pub_date="Mon, 07 Jan 2030 12:30:00 -0000"), "an RFC 822 date with a time zone"),
        (rss_item("t", "javascript:alert(1)"), "an http\\(s\\) link or a urn:unionstat:paper: identifier"),
    ],
    ids=["no-pubdate", "bad-date", "zoneless-date", "javascript-link"],
)
def test_bad_items_are_refused(item: str, expected: str) -> None:
    with pytest.raises(ParseError, match=expected):
        parse(rss_feed([item]))


def test_compiled_reference_identifiers_pass_through_unchanged() -> None:
    rows = parse(rss_feed([rss_item("Belarus", "urn:unionstat:paper:table6:example:1")]))
    assert rows.iloc[0]["url"] == "urn:unionstat:paper:table6:example:1"


def test_moscow_page_times_convert_to_utc() -> None:
    assert news.moscow_to_utc("rg", URL, "07.01.2030 09:15") == datetime(2030, 1, 7, 6, 15, tzinfo=UTC)
    # Moscow kept UTC+4 from 2011 to October 2014: the time zone database knows, a fixed +3 would not.
    assert news.moscow_to_utc("rg", URL, "01.07.2013 12:00") == datetime(2013, 7, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(ParseError, match=r"'DD.MM.YYYY HH:MM' \(Moscow time\)"):
        news.moscow_to_utc("rg", URL, "7 января")
    with pytest.raises(ParseError, match="a valid calendar date"):
        news.moscow_to_utc("rg", URL, "31.02.2030 10:00")


def test_iso_dates_without_an_offset_are_refused_not_guessed() -> None:
    assert news.iso_to_utc("osw", URL, "2030-01-07T14:00:00+01:00") == datetime(2030, 1, 7, 13, 0, tzinfo=UTC)
    with pytest.raises(ParseError, match="with a UTC offset"):
        news.iso_to_utc("osw", URL, "2030-01-07T14:00:00")


def test_relative_links_resolve_against_the_page() -> None:
    page = "https://www.example.test/en/publikacje/analyses/2030-01-07/slug"
    assert news.resolve_url("osw", page, page, "/files/a.png") == "https://www.example.test/files/a.png"
    assert news.resolve_url("osw", page, page, "//cdn.example.test/b.png") == "https://cdn.example.test/b.png"
    assert news.resolve_url("osw", page, page, "c") == page + "/c"


def test_hashed_class_names_are_matched_by_their_stable_prefix() -> None:
    soup = BeautifulSoup(
        '<h1 class="x PageArticleCommonTitle_title__Zz9">A</h1><p class="PageArticleCommonTitle_subtitle__Q">B</p>',
        "lxml",
    )
    found = news.by_class_prefix(soup, "PageArticleCommonTitle_title__")
    assert [el.get_text() for el in found] == ["A"]


def test_sitemaps_and_sitemap_indexes_list_their_locations() -> None:
    assert news.sitemap_locations("rg", URL, sitemap(["https://e.test/a", "https://e.test/b"])) == (
        "urlset",
        ["https://e.test/a", "https://e.test/b"],
    )
    assert news.sitemap_locations("rg", URL, sitemap(["https://e.test/s1.xml"], index=True))[0] == "sitemapindex"
    with pytest.raises(ParseError, match="at least one <loc> in the sitemap; found zero"):
        news.sitemap_locations("rg", URL, sitemap([]))
