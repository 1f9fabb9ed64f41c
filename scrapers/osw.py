"""Centre for Eastern Studies (OSW): RSS feed, paginated listings and article pages, in one module."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import pandas as pd
from bs4 import BeautifulSoup, Tag

from scrapers import news
from scrapers.base import Capture, Previous
from unionstat.errors import ParseError
from unionstat.http import HttpClient

ARTICLE_PATH = re.compile(r"^/en/publikacje/(analyses|osw-commentary)/\d{4}-\d{2}-\d{2}/[^/?#]+/?$")


class Osw(news.NewsConnector):
    raw_ddl = news.news_ddl("raw.osw_articles")

    # -- fetch: copy the feed, or the article pages the listings lead to ----------------------------
    def fetch_articles(self, http: HttpClient, previous: Mapping[str, Previous]) -> list[Capture]:
        opts = self.config.options
        max_pages, max_articles = news.options_int(opts, "max_pages"), news.options_int(opts, "max_articles")
        links: list[str] = []
        for page in range(max_pages):
            url = f"{self.base_url}{opts['listing_path']}?page={page}"
            listed = self.listing_links(http.get(self.name, url).body, url, first_page=page == 0)
            if not listed:
                break
            links.extend(link for link in listed if link not in links)
            if len(links) >= max_articles:
                break
        captures = []
        for link in links[:max_articles]:
            fetched = self.get_if_changed(http, link, previous)
            if fetched is not None:
                captures.append(Capture("articles", fetched, None))
        return captures

    def listing_links(self, body: bytes, url: str, first_page: bool) -> list[str]:
        """In-scope article links of one listing page (div.views-row with an <a> and a <time datetime>)."""
        soup = news.soup_of(self.name, url, body)
        rows = soup.select(self.config.options["listing_item_selector"])
        if not rows:
            if first_page:
                raise ParseError(
                    self.name, url, f"listing items {self.config.options['listing_item_selector']}", "none"
                )
            return []
        scope = news.Scope.from_option(self.config.options["scope_keywords"])
        links = []
        for index, row in enumerate(rows):
            anchor = next((a for a in row.find_all("a", href=True) if ARTICLE_PATH.match(_path(a))), None)
            stamp = row.find("time", attrs={"datetime": True})
            if anchor is None or not isinstance(stamp, Tag):
                raise ParseError(
                    self.name,
                    url,
                    "an article link /en/publikacje/<type>/YYYY-MM-DD/slug and <time datetime>",
                    f"listing item {index}: {news.element_text(row)[:80]!r}",
                )
            news.iso_to_utc(self.name, url, str(stamp["datetime"]))
            if scope.matches(news.element_text(row)):
                links.append(news.resolve_url(self.name, url, url, str(anchor["href"])))
        return links

    def article_hooks(self, soup: BeautifulSoup) -> dict[str, bool]:
        opts = self.config.options
        article = soup.select_one('article[role="article"]')
        return {
            'article[role="article"]': article is not None,
            "meta article:published_time": news.meta_content(soup, "article:published_time") is not None,
            "h1": soup.find("h1") is not None,
            opts["tag_selector"]: bool(article and article.select(opts["tag_selector"])),
            opts["body_selector"]: bool(article and article.select_one(opts["body_selector"])),
        }

    # -- parse: the article page (the feed is parsed by NewsConnector) ----------------------------
    def parse_article(self, body: bytes, url: str) -> pd.DataFrame:
        """article[role=article] holds the body; the date is in meta article:published_time."""
        opts = self.config.options
        soup = news.soup_of(self.name, url, body)
        article = soup.select_one('article[role="article"]')
        if article is None:
            raise ParseError(self.name, url, 'the body in article[role="article"]', "no such element: layout changed?")
        published = news.meta_content(soup, "article:published_time")
        if not published:
            raise ParseError(self.name, url, 'meta[property="article:published_time"]', "none")
        heading = article.find("h1") or soup.find("h1")
        if not isinstance(heading, Tag) or not news.element_text(heading):
            raise ParseError(self.name, url, "a title in <h1>", "none")
        tags = [news.element_text(a) for a in article.select(opts["tag_selector"]) if news.element_text(a)]
        body_element = article.select_one(opts["body_selector"]) or article
        links, image = news.resolved_links(self.name, url, url, body_element)
        text = news.element_text(body_element)
        if not text:
            raise ParseError(self.name, url, "article text", "an empty article element")
        title = news.element_text(heading)
        record = {
            "item_kind": "article",
            "url": news.canonical_link(soup, self.name, url),
            "title": title,
            "summary": news.meta_content(soup, "og:description"),
            "body_text": text,
            "published_at": news.iso_to_utc(self.name, url, published),
            "published_at_text": published,
            "language": news.html_language(soup, self.name, url, opts["language"]),
            "tags_json": json.dumps(tags, ensure_ascii=False),
            "links_json": json.dumps(links, ensure_ascii=False),
            "image_url": image,
            "in_scope": news.Scope.from_option(opts["scope_keywords"]).matches(title, text, *tags),
        }
        return news.frame([record])


CONNECTOR = Osw


def _path(anchor: Tag) -> str:
    return urlsplit(str(anchor["href"])).path
