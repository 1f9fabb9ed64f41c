"""News-shaped test inputs (RSS, sitemaps, OSW and RG pages) built in code.

Everything here is synthetic: headlines, texts, slugs and dates only exercise parsing, guards and dedup.
Hosts are example.test-style or the test server's; nothing pretends to be a real article.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

YANDEX_NS = "http://news.yandex.ru"


def rss_item(
    title: str,
    link: str,
    pub_date: str = "Mon, 07 Jan 2030 12:30:00 +0300",
    description: str | None = "Synthetic summary.",
    categories: tuple[str, ...] = (),
    enclosure: str | None = None,
    full_text: str | None = None,
) -> str:
    parts = ["<item>", f"<title>{escape(title)}</title>", f"<link>{escape(link)}</link>"]
    if description is not None:
        parts.append(f"<description><![CDATA[{description}]]></description>")
    if pub_date:
        parts.append(f"<pubDate>{pub_date}</pubDate>")
    parts.extend(f"<category>{escape(c)}</category>" for c in categories)
    if enclosure:
        parts.append(f'<enclosure url={quoteattr(enclosure)} type="image/jpeg" length="1"/>')
    if full_text is not None:
        parts.append(f"<yandex:full-text>{escape(full_text)}</yandex:full-text>")
    parts.append("</item>")
    return "".join(parts)


def rss_feed(items: list[str], language: str | None = "ru", link: str = "https://example.test/") -> bytes:
    """An RSS 2.0 document with the Yandex namespace RG's feed declares."""
    lang = f"<language>{language}</language>" if language else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<rss version="2.0" xmlns:yandex="{YANDEX_NS}"><channel><title>Synthetic feed</title>'
        f"<link>{link}</link><description>test</description>{lang}{''.join(items)}</channel></rss>"
    ).encode()


def xml_bomb() -> bytes:
    """Billion laughs: nested entity expansion."""
    return (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        b"<rss><channel><item><title>&lol3;</title></item></channel></rss>"
    )


def xxe() -> bytes:
    """An external entity that would read a local file."""
    return (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>&xxe;</title><link>/a</link></item></channel></rss>"
    )


def sitemap(locations: list[str], index: bool = False) -> bytes:
    root, entry = ("sitemapindex", "sitemap") if index else ("urlset", "url")
    body = "".join(f"<{entry}><loc>{escape(loc)}</loc></{entry}>" for loc in locations)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{body}</{root}>"
    ).encode()


def osw_listing(rows: list[tuple[str, str, str]]) -> bytes:
    """A listing page: div.views-row items, each with a relative link, a title and <time datetime>."""
    items = "".join(
        f'<div class="views-row"><h2><a href="{href}">{escape(title)}</a></h2>'
        f'<time datetime="{stamp}">{stamp[:10]}</time></div>'
        for href, stamp, title in rows
    )
    return f'<!DOCTYPE html><html lang="en"><body><div class="view-content">{items}</div></body></html>'.encode()


def osw_article(
    title: str = "Synthetic analysis of Belarus",
    published: str | None = "2030-01-07T14:00:00+01:00",
    body_html: str = '<p>Synthetic text about Belarus. <a href="/en/publikacje/x">more</a></p><img src="/files/a.png">',
    tags: tuple[str, ...] = ("Belarus", "Russia"),
    article_role: bool = True,
    canonical: str | None = None,
    lang: str = "en",
) -> bytes:
    meta = f'<meta property="article:published_time" content="{published}">' if published else ""
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    tag_links = "".join(f'<a href="/en/tags/{t.lower()}">{escape(t)}</a>' for t in tags)
    role = ' role="article"' if article_role else ""
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{meta}{link}</head><body>'
        f"<article{role}><h1>{escape(title)}</h1>"
        f'<div class="field field--name-body field--type-text-with-summary">{body_html}</div>'
        f'<div class="field field--name-field-tags field--type-entity-reference-taxonomy">{tag_links}</div>'
        "</article></body></html>"
    ).encode()


def rg_article(
    title: str | None = "Синтетическая новость о Союзном государстве",
    date_text: str | None = "07.01.2030 09:15",
    body_html: str = '<p>Синтетический текст. <a href="/2030/01/07/other.html">ссылка</a></p><img src="/img/x.jpg">',
    build_hash: str = "a1B2c",
    meta_published: str | None = None,
    h1_only: str | None = None,
    tags: tuple[str, ...] = ("Союзное государство",),
) -> bytes:
    """An rg.ru-like page: CSS module class names with a build hash after the stable prefix."""
    meta = f'<meta property="article:published_time" content="{meta_published}">' if meta_published else ""
    heading = f'<h1 class="PageArticleCommonTitle_title__{build_hash}">{escape(title)}</h1>' if title else ""
    if h1_only:
        heading = f"<h1>{escape(h1_only)}</h1>"
    date = f'<div class="PageArticleContent_date__{build_hash}">{date_text}</div>' if date_text else ""
    tag_html = "".join(f'<a href="/tag/{i}">{escape(t)}</a>' for i, t in enumerate(tags))
    return (
        f'<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8">{meta}</head><body>'
        f"{heading}{date}"
        f'<div class="PageArticleContent_articleBody__{build_hash} other">{body_html}</div>'
        f'<div class="PageArticleContent_tags__{build_hash}">{tag_html}</div>'
        "</body></html>"
    ).encode()
