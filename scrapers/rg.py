"""Rossiyskaya Gazeta (rg.ru): RSS with full text, daily sitemaps and article pages, in one module.

rg.ru may answer 403/406 to clients without browser-like headers. The HTTP layer sends the project's own
User-Agent (with a contact address) and nothing that pretends to be a browser: a refusal is a SourceError naming
the status, and the source is marked failed rather than worked around.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
from bs4 import BeautifulSoup, Tag

from scrapers import news
from scrapers.base import Capture, Previous
from unionstat.errors import ParseError
from unionstat.http import HttpClient

ARTICLE_PATH = re.compile(r"^https?://[^/]+/\d{4}/\d{2}/\d{2}/[^/?#]+\.html$")


class Rg(news.NewsConnector):
    raw_ddl = news.news_ddl("raw.rg_articles")

    # -- fetch: copy the feed, or the in-scope article pages the daily sitemaps list ----------------
    def sitemap_url(self, day: datetime) -> str:
        start = datetime.combine(day.date(), time.min, tzinfo=UTC)
        end = start + timedelta(days=1) - timedelta(seconds=1)
        return (
            f"{self.base_url}{self.config.options['sitemap_path']}"
            f"?date_start={int(start.timestamp())}&date_end={int(end.timestamp())}"
        )

    def fetch_articles(
        self, http: HttpClient, previous: Mapping[str, Previous], now: datetime | None = None
    ) -> list[Capture]:
        now = now or datetime.now(UTC)
        opts = self.config.options
        days, max_articles = news.options_int(opts, "sitemap_days"), news.options_int(opts, "max_articles")
        max_candidates = news.options_int(opts, "max_candidates")
        candidates: list[str] = []
        for offset in range(days):
            candidates.extend(self.sitemap_articles(http, self.sitemap_url(now - timedelta(days=offset))))
        scope = news.Scope.from_option(opts["scope_keywords"])
        captures: list[Capture] = []
        for link in candidates[:max_candidates]:
            if len(captures) >= max_articles:
                break
            fetched = self.get_if_changed(http, link, previous)
            if fetched is None:
                continue
            # Union State news only: the page is kept when its text names the scope.
            text = news.element_text(news.soup_of(self.name, link, fetched.body))
            if scope.matches(text):
                captures.append(Capture("articles", fetched, None))
        return captures

    def sitemap_articles(self, http: HttpClient, url: str) -> list[str]:
        """Article URLs /YYYY/MM/DD/slug.html of a day's sitemap (following one level of sitemap index)."""
        kind, locs = news.sitemap_locations(self.name, url, http.get(self.name, url).body)
        if kind == "sitemapindex":
            nested = []
            for loc in locs[: news.options_int(self.config.options, "max_sitemaps")]:
                nested.extend(news.sitemap_locations(self.name, loc, http.get(self.name, loc).body)[1])
            locs = nested
        return [loc for loc in locs if ARTICLE_PATH.match(loc)]

    def article_hooks(self, soup: BeautifulSoup) -> dict[str, bool]:
        opts = self.config.options
        prefixes = ("title_class_prefix", "date_class_prefix", "body_class_prefix", "tags_class_prefix")
        return {
            **{f"{opts[key]}*": bool(news.by_class_prefix(soup, opts[key])) for key in prefixes},
            "h1": soup.find("h1") is not None,
            "meta article:published_time": news.meta_content(soup, "article:published_time") is not None,
        }

    # -- parse: the article page (the feed is parsed by NewsConnector) ----------------------------
    def parse_article(self, body: bytes, url: str) -> pd.DataFrame:
        """Hashed class names matched by their stable prefix; meta and <h1> as fallbacks; Moscow time to UTC."""
        opts = self.config.options
        soup = news.soup_of(self.name, url, body)
        title = _first_text(news.by_class_prefix(soup, opts["title_class_prefix"])) or _first_text(soup.find_all("h1"))
        if not title:
            raise ParseError(self.name, url, f"a title ({opts['title_class_prefix']}* or <h1>)", "none")
        published_at, published_text = self.published(soup, url)
        bodies = news.by_class_prefix(soup, opts["body_class_prefix"])
        if not bodies:
            raise ParseError(
                self.name, url, f"the article text in {opts['body_class_prefix']}*", "none: layout changed?"
            )
        text = " ".join(news.element_text(b) for b in bodies).strip()
        if not text:
            raise ParseError(self.name, url, f"article text in {opts['body_class_prefix']}*", "empty elements")
        links: list[str] = []
        image: str | None = None
        for element in bodies:
            found, first_image = news.resolved_links(self.name, url, url, element)
            links.extend(found)
            image = image or first_image
        tags = [
            news.element_text(a)
            for element in news.by_class_prefix(soup, opts["tags_class_prefix"])
            for a in element.find_all("a")
            if news.element_text(a)
        ]
        record = {
            "item_kind": "article",
            "url": news.canonical_link(soup, self.name, url),
            "title": title,
            "summary": news.meta_content(soup, "og:description"),
            "body_text": text,
            "published_at": published_at,
            "published_at_text": published_text,
            "language": news.html_language(soup, self.name, url, opts["language"]),
            "tags_json": json.dumps(tags, ensure_ascii=False),
            "links_json": json.dumps(links, ensure_ascii=False),
            "image_url": image,
            "in_scope": news.Scope.from_option(opts["scope_keywords"]).matches(title, text, *tags),
        }
        return news.frame([record])

    def published(self, soup: BeautifulSoup, url: str) -> tuple[datetime, str]:
        """The page's 'DD.MM.YYYY HH:MM' (Moscow) under the date class prefix, else meta article:published_time."""
        shown = _first_text(news.by_class_prefix(soup, self.config.options["date_class_prefix"]))
        if shown:
            return news.moscow_to_utc(self.name, url, shown), shown
        meta = news.meta_content(soup, "article:published_time")
        if meta:
            return news.iso_to_utc(self.name, url, meta), meta
        raise ParseError(
            self.name,
            url,
            f"a date ({self.config.options['date_class_prefix']}* or meta article:published_time)",
            "none",
        )


CONNECTOR = Rg


def _first_text(elements: Iterable[Any]) -> str | None:
    for element in elements:
        if isinstance(element, Tag):
            text = news.element_text(element)
            if text:
                return text
    return None
