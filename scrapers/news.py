"""Shared news parsing for OSW and RG: RSS through defusedxml, article HTML helpers, dates to UTC."""

from __future__ import annotations

import json
import re
from abc import abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XmlSyntaxError
from zoneinfo import ZoneInfo

import pandas as pd
from bs4 import BeautifulSoup, Tag
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from scrapers.base import Capture, Connector, Previous, SnapshotLayout, SnapshotMeta
from unionstat.errors import ParseError, SourceError
from unionstat.http import HttpClient

RAW_COLUMNS = [
    "item_kind",
    "url",
    "title",
    "summary",
    "body_text",
    "published_at",
    "published_at_text",
    "language",
    "tags_json",
    "links_json",
    "image_url",
    "in_scope",
]
ITEM_KINDS = ("rss_item", "article")
#: Items the reference snapshot compiled from the paper carry identifiers in this namespace, never a real URL.
COMPILED_URN_PREFIX = "urn:unionstat:paper:"
MOSCOW = ZoneInfo("Europe/Moscow")
MOSCOW_DATETIME = re.compile(r"(\d{2})\.(\d{2})\.(\d{4})\s+(\d{1,2}):(\d{2})")
WHITESPACE = re.compile(r"\s+")
LANGUAGES = ("en", "ru", "pl")


def news_ddl(table: str) -> str:
    """The raw table both news connectors load: one row per feed item or article page of a snapshot."""
    return f"""
    create table if not exists {table} (
        snapshot_sha256 varchar not null,
        row_number integer not null,
        item_kind varchar not null,
        url varchar not null,
        title varchar not null,
        summary varchar,
        body_text varchar,
        published_at timestamp with time zone not null,
        published_at_text varchar not null,
        language varchar not null,
        tags_json varchar not null,
        links_json varchar not null,
        image_url varchar,
        in_scope boolean not null
    )
    """


@dataclass(frozen=True)
class Scope:
    """Keywords that put an item in scope (case-insensitive substring match on title, summary, tags, body)."""

    keywords: tuple[str, ...]

    @classmethod
    def from_option(cls, text: str) -> Scope:
        keywords = tuple(k.strip().lower() for k in text.split(",") if k.strip())
        if not keywords:
            raise ValueError("scope_keywords option is empty: every item would be out of scope")
        return cls(keywords)

    def matches(self, *texts: str | None) -> bool:
        haystack = " ".join(t for t in texts if t).lower()
        return any(k in haystack for k in self.keywords)


# -- XML ------------------------------------------------------------------------------------------
def parse_xml(source: str, location: str, body: bytes, expected: str) -> Element:
    """Well-formed XML without DTDs, entity expansion or external entities; HTML is named as such."""
    kind = sniff(body)
    if kind in ("an HTML page", "an empty body"):
        raise ParseError(source, location, expected, kind)
    try:
        root: Element = defused_fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ParseError(
            source, location, f"{expected} without DTD or entity declarations", f"refused: {exc!r}"
        ) from exc
    except XmlSyntaxError as exc:
        raise ParseError(source, location, f"well-formed XML ({expected})", f"malformed XML: {exc}") from exc
    return root


def local_name(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""


def child(element: Element, name: str) -> Element | None:
    """The first child with this local name, in any namespace (RG's full text is yandex:full-text)."""
    return next((c for c in element if local_name(c) == name), None)


def child_text(element: Element, name: str) -> str | None:
    found = child(element, name)
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def rss_items(source: str, location: str, root: Element) -> tuple[Element, list[Element]]:
    """The channel and its items of an RSS 2.0 document; zero items is an error."""
    if local_name(root) != "rss":
        raise ParseError(source, location, "an RSS document (<rss><channel>)", f"root element <{local_name(root)}>")
    channel = child(root, "channel")
    if channel is None:
        raise ParseError(source, location, "<channel> inside <rss>", "none")
    items = [c for c in channel if local_name(c) == "item"]
    if not items:
        raise ParseError(source, location, "at least one <item> in the feed", "zero items")
    return channel, items


def parse_rss(
    source: str, location: str, body: bytes, base_url: str, default_language: str, scope: Scope
) -> pd.DataFrame:
    """RSS 2.0 items as raw rows: links resolved, RFC 822 dates in UTC, HTML stripped from descriptions."""
    root = parse_xml(source, location, body, "an RSS feed")
    channel, items = rss_items(source, location, root)
    language = normalise_language(source, location, child_text(channel, "language") or default_language)
    records = []
    for index, item in enumerate(items):
        title = child_text(item, "title")
        link = child_text(item, "link") or child_text(item, "guid")
        pub_date = child_text(item, "pubDate")
        if not title or not link or not pub_date:
            raise ParseError(source, location, "title, link and pubDate in every <item>", f"item {index} lacks one")
        url = resolve_url(source, location, base_url, link)
        summary = html_text(child_text(item, "description"))
        full_text = html_text(child_text(item, "full-text"))
        tags = [c.text.strip() for c in item if local_name(c) == "category" and c.text and c.text.strip()]
        enclosure = child(item, "enclosure")
        image = enclosure.get("url") if enclosure is not None else None
        body_text = full_text or summary
        records.append(
            {
                "item_kind": "rss_item",
                "url": url,
                "title": collapse(title),
                "summary": summary,
                "body_text": body_text,
                "published_at": rfc822_to_utc(source, location, pub_date),
                "published_at_text": pub_date,
                "language": language,
                "tags_json": json.dumps(tags, ensure_ascii=False),
                "links_json": json.dumps([], ensure_ascii=False),
                "image_url": resolve_url(source, location, base_url, image) if image else None,
                "in_scope": scope.matches(title, summary, body_text, *tags),
            }
        )
    return frame(records)


#: The item elements parse_rss reads that every feed item of these publishers carries (category and enclosure come
#: and go with the items, so they are no layout).
FEED_FIELDS = ("title", "link", "guid", "pubDate", "description", "full-text")


def rss_layout(source: str, location: str, body: bytes) -> dict[str, Any]:
    """A feed's root and channel element names and which of the item fields parse_rss reads it carries."""
    root = parse_xml(source, location, body, "an RSS feed")
    channel, items = rss_items(source, location, root)
    names = {local_name(c) for item in items for c in item}
    return {
        "format": "rss",
        "root": local_name(root),
        "channel_language": child(channel, "language") is not None,
        "item_fields": [name for name in FEED_FIELDS if name in names],
    }


def sitemap_locations(source: str, location: str, body: bytes) -> tuple[str, list[str]]:
    """('urlset' | 'sitemapindex', the <loc> values) of a sitemap; zero locations is an error."""
    root = parse_xml(source, location, body, "a sitemap (<urlset> or <sitemapindex>)")
    kind = local_name(root)
    if kind not in ("urlset", "sitemapindex"):
        raise ParseError(source, location, "a sitemap (<urlset> or <sitemapindex>)", f"root element <{kind}>")
    locs = [
        loc.text.strip()
        for entry in root
        for loc in entry
        if local_name(loc) == "loc" and loc.text and loc.text.strip()
    ]
    if not locs:
        raise ParseError(source, location, "at least one <loc> in the sitemap", "zero")
    return kind, locs


# -- HTML -----------------------------------------------------------------------------------------
def soup_of(source: str, location: str, body: bytes) -> BeautifulSoup:
    kind = sniff(body)
    if kind != "an HTML page":
        raise ParseError(source, location, "an HTML page", kind)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(source, location, "UTF-8 HTML", f"undecodable bytes at {exc.start}") from exc
    return BeautifulSoup(text, "lxml")


def by_class_prefix(scope: BeautifulSoup | Tag, prefix: str) -> list[Tag]:
    """Elements with a class starting with `prefix`: build hashes after the prefix change between deploys."""
    return [
        el
        for el in scope.find_all(True)
        if isinstance(el, Tag) and any(str(c).startswith(prefix) for c in (el.get_attribute_list("class") or []))
    ]


def meta_content(soup: BeautifulSoup, prop: str) -> str | None:
    tag = soup.find("meta", attrs={"property": prop})
    if not isinstance(tag, Tag):
        return None
    value = tag.get("content")
    return str(value).strip() if value else None


def canonical_link(soup: BeautifulSoup, source: str, location: str) -> str:
    """The page's <link rel=canonical> made absolute, else the request URL."""
    canonical = soup.find("link", attrs={"rel": "canonical", "href": True})
    if isinstance(canonical, Tag):
        return resolve_url(source, location, location, str(canonical["href"]))
    return location


def element_text(element: Tag) -> str:
    return collapse(element.get_text(" ", strip=True))


def resolved_links(source: str, location: str, base: str, element: Tag) -> tuple[list[str], str | None]:
    """Every link and the first image inside `element`, made absolute against the page URL."""
    links = []
    for anchor in element.find_all("a", href=True):
        href = str(anchor["href"]).strip()
        if href and not href.startswith(("#", "mailto:", "javascript:")):
            links.append(resolve_url(source, location, base, href))
    image = element.find("img", src=True)
    image_url = resolve_url(source, location, base, str(image["src"])) if isinstance(image, Tag) else None
    return links, image_url


def html_language(soup: BeautifulSoup, source: str, location: str, default: str) -> str:
    html = soup.find("html")
    lang = html.get("lang") if isinstance(html, Tag) else None
    return normalise_language(source, location, str(lang) if lang else default)


# -- values ---------------------------------------------------------------------------------------
def resolve_url(source: str, location: str, base: str, href: str) -> str:
    """An absolute http(s) URL (relative links resolved), or a compiled reference identifier."""
    href = href.strip()
    if href.startswith(COMPILED_URN_PREFIX):
        return href
    url = urljoin(base if base.endswith("/") else base + "/", href) if not urlsplit(href).scheme else href
    if url.startswith("//"):
        url = "https:" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ParseError(source, location, f"an http(s) link or a {COMPILED_URN_PREFIX} identifier", repr(href))
    return url


def rfc822_to_utc(source: str, location: str, text: str) -> datetime:
    """'Tue, 01 Oct 2024 12:30:00 +0300' to UTC; a date without a zone is refused, not guessed."""
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError) as exc:
        raise ParseError(source, location, "an RFC 822 date (pubDate)", repr(text)) from exc
    if parsed.tzinfo is None:
        raise ParseError(source, location, "an RFC 822 date with a time zone", repr(text))
    return parsed.astimezone(UTC)


def iso_to_utc(source: str, location: str, text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ParseError(source, location, "an ISO 8601 date-time", repr(text)) from exc
    if parsed.tzinfo is None:
        raise ParseError(source, location, "an ISO 8601 date-time with a UTC offset", repr(text))
    return parsed.astimezone(UTC)


def moscow_to_utc(source: str, location: str, text: str) -> datetime:
    """'28.11.2026 14:05' as printed on rg.ru (Moscow time) to UTC."""
    match = MOSCOW_DATETIME.search(text)
    if not match:
        raise ParseError(source, location, "a date 'DD.MM.YYYY HH:MM' (Moscow time)", repr(text))
    day, month, year, hour, minute = (int(g) for g in match.groups())
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=MOSCOW)
    except ValueError as exc:
        raise ParseError(source, location, "a valid calendar date 'DD.MM.YYYY HH:MM'", repr(text)) from exc
    return local.astimezone(UTC)


def normalise_language(source: str, location: str, text: str) -> str:
    """'ru-RU' -> 'ru'; only the languages the news table holds."""
    code = text.strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGUAGES:
        raise ParseError(source, location, f"a language among {LANGUAGES}", repr(text))
    return code


def html_text(text: str | None) -> str | None:
    """Descriptions carry HTML (escaped or in CDATA): keep the text."""
    if not text:
        return None
    if "<" not in text:
        return collapse(text) or None
    return collapse(BeautifulSoup(text, "lxml").get_text(" ", strip=True)) or None


def collapse(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


def newest_date(values: Iterable[datetime]) -> date | None:
    dates = [v.date() for v in values]
    return max(dates) if dates else None


def sniff(body: bytes) -> str:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head:
        return "an empty body"
    if head.startswith((b"<!doctype html", b"<html")) or (b"<html" in head and not head.startswith(b"<?xml")):
        return "an HTML page"
    if head.startswith((b"<?xml", b"<rss", b"<urlset", b"<sitemapindex", b"<!doctype")):
        return "XML"
    if head.startswith((b"{", b"[")):
        return "JSON"
    return repr(body[:60])


def frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    result = pd.DataFrame.from_records(records, columns=RAW_COLUMNS)
    result["published_at"] = pd.to_datetime(result["published_at"], utc=True)
    result["in_scope"] = result["in_scope"].astype(bool)
    return result


def options_int(options: Mapping[str, str], key: str) -> int:
    value = int(options[key])
    if value < 1:
        raise ValueError(f"option {key} must be a positive bound; found {value}")
    return value


class NewsConnector(Connector):
    """What OSW and RG share: two datasets, `rss` (the feed) and `articles` (pages found by each site's own way)."""

    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        if dataset == "rss":
            return self.fetch_feed(http, previous)
        if dataset == "articles":
            return self.fetch_articles(http, previous)
        raise SourceError(self.name, dataset, f"a dataset of {sorted(self.config.datasets)}", repr(dataset))

    def fetch_feed(self, http: HttpClient, previous: Mapping[str, Previous]) -> list[Capture]:
        fetched = self.get_if_changed(http, self.base_url + self.config.options["rss_path"], previous)
        if fetched is None:
            return []
        rows = self.parse_feed(fetched.body, fetched.url)  # a feed that does not parse is not stored
        return [Capture("rss", fetched, newest_date(rows["published_at"].dt.to_pydatetime()))]

    @abstractmethod
    def fetch_articles(self, http: HttpClient, previous: Mapping[str, Previous]) -> list[Capture]:
        """Each site finds its article pages its own way (OSW: listing pages; RG: daily sitemaps)."""

    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        if meta.dataset == "rss":
            return self.parse_feed(body, meta.request_url)
        if meta.dataset == "articles":
            return self.parse_article(body, meta.request_url)
        raise ParseError(self.name, meta.request_url, "dataset 'rss' or 'articles'", repr(meta.dataset))

    def layout(self, path: Path, meta: SnapshotMeta) -> SnapshotLayout:
        """A feed: its element names (rss_layout); an article: which of the page's hooks the parser reads are there."""
        body = path.read_bytes()
        if meta.dataset == "rss":
            return SnapshotLayout(meta.dataset, rss_layout(self.name, meta.request_url, body))
        soup = soup_of(self.name, meta.request_url, body)
        hooks = {
            "html lang": bool(soup.html and soup.html.get("lang")),
            "link rel=canonical": soup.find("link", attrs={"rel": "canonical", "href": True}) is not None,
            "meta og:description": meta_content(soup, "og:description") is not None,
            **self.article_hooks(soup),
        }
        return SnapshotLayout(meta.dataset, {"format": "html article", "hooks": hooks})

    @abstractmethod
    def article_hooks(self, soup: BeautifulSoup) -> dict[str, bool]:
        """The selectors this site's parse_article reads, each with whether the page has it."""

    def parse_feed(self, body: bytes, url: str) -> pd.DataFrame:
        opts = self.config.options
        return parse_rss(
            self.name, url, body, self.base_url, opts["language"], Scope.from_option(opts["scope_keywords"])
        )

    @abstractmethod
    def parse_article(self, body: bytes, url: str) -> pd.DataFrame:
        """Each site's article layout differs."""
