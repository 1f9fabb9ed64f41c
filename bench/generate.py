"""Synthetic, publisher-shaped benchmark inputs: World Bank bulk CSVs (a release and its revision) and a news feed.

Every value here is random and every code says so: indicators are BENCH.IND.0001..., countries XAA... (ISO 3166
user-assigned codes) named "Synthetic country 001", news items link to https://bench.unionstat.invalid/ (a reserved,
unresolvable domain).
The files follow the publishers' formats exactly, so the project's own importers and parsers read them:

- World Bank bulk CSV (the layout of scrapers/worldbank.py `parse_bulk_csv`): UTF-8 BOM, a preamble
  `"Data Source","World Development Indicators",` / blank / `"Last Updated Date","YYYY-MM-DD",` / blank, the header
  `"Country Name","Country Code","Indicator Name","Indicator Code","1960",...,"2024",` with a trailing empty column,
  every cell quoted, missing values as `""`. Observations = indicators x countries x 65 years (empty cells count:
  the parser keeps them as null values).
- The revision: the same file with a later Last Updated Date and 1% of the non-empty values of every indicator
  changed (at least one per indicator), nothing else.
- News: an RSS 2.0 feed in the shape of the OSW feed (scrapers/osw.py: title, link, guid, description, pubDate,
  category), about half of the items in the connector's scope.

Deterministic: the same seed and sizes give the same bytes.

    python -m bench.generate --rows 1000000 --news-items 100000 --out warehouse/bench/data
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape

import numpy as np

LOG = logging.getLogger(__name__)

YEARS = tuple(str(year) for year in range(1960, 2025))
COUNTRIES = 266  # rows per indicator in the World Development Indicators bulk CSV
BULK_FILE = "API_BENCH_DS2_en_csv_v2_1.csv"  # matches scrapers.worldbank.BULK_CSV_MEMBER
RELEASE_DATE = "2025-07-01"
REVISION_DATE = "2025-10-15"
REVISED_SHARE = 0.01
DEFAULT_SEED = 20241001
NEWS_HOST = "https://bench.unionstat.invalid"
OSW_RSS_URL = "https://www.osw.waw.pl/en/rss.xml"  # what scrapers/osw.py requests (base_url + rss_path)
NEWS_START = datetime(2024, 10, 1, 12, 0, tzinfo=UTC)
HEADER = ["Country Name", "Country Code", "Indicator Name", "Indicator Code", *YEARS]
IN_SCOPE_WORDS = ("Belarus", "Russia", "Minsk", "Moscow", "Union State", "Kremlin")
OUT_OF_SCOPE_WORDS = ("Ukraine", "Lithuania", "Poland", "Germany", "Kazakhstan", "Georgia")
FILLER = (  # fmt: skip
    "synthetic",
    "benchmark",
    "text",
    "about",
    "trade",
    "energy",
    "science",
    "policy",
    "investment",
    "industry",
    "research",
    "universities",
    "digital",
    "platforms",
    "sanctions",
    "logistics",
    "agriculture",
    "transport",
    "finance",
    "payments",
    "agreements",
    "programmes",
)


@dataclass(frozen=True)
class WorldBankFiles:
    """The two releases written and what they hold."""

    release: str
    revision: str
    indicators: int
    countries: int
    years: int
    observations: int
    non_empty: int
    revised: int
    release_bytes: int
    revision_bytes: int


@dataclass(frozen=True)
class NewsFile:
    """The feed written and what it holds."""

    path: str
    items: int
    in_scope: int
    bytes: int


def main(argv: list[str] | None = None) -> int:
    """Write the World Bank releases and the news feed under --out, and a generated.json describing them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000, help="observations wanted (rounded up to indicators)")
    parser.add_argument("--news-items", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path("warehouse/bench/data"))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    worldbank = generate_worldbank(args.out, indicators_for(args.rows), COUNTRIES, args.seed)
    news = generate_news(args.out / "news" / "osw-rss.xml", args.news_items, args.seed)
    write_news_reference(args.out / "news", Path(news.path).name)
    (args.out / "generated.json").write_text(
        json.dumps({"worldbank": asdict(worldbank), "news": asdict(news), "seed": args.seed}, indent=2) + "\n"
    )
    return 0


def indicators_for(rows: int, countries: int = COUNTRIES) -> int:
    """How many indicators give at least `rows` observations (indicators x countries x 65 years)."""
    return max(1, math.ceil(rows / (countries * len(YEARS))))


def generate_worldbank(out_dir: Path, indicators: int, countries: int, seed: int = DEFAULT_SEED) -> WorldBankFiles:
    """Write release1/ and release2/ (the revision) bulk CSVs; indicator blocks are generated one at a time."""
    release = out_dir / "release1" / BULK_FILE
    revision = out_dir / "release2" / BULK_FILE
    for path in (release, revision):
        path.parent.mkdir(parents=True, exist_ok=True)
    non_empty = revised = 0
    with (
        release.open("w", encoding="utf-8", newline="") as first,
        revision.open("w", encoding="utf-8", newline="") as second,
    ):
        first.write(_preamble(RELEASE_DATE))
        second.write(_preamble(REVISION_DATE))
        for indicator in range(1, indicators + 1):
            values, empty, changed = indicator_block(seed, indicator, countries)
            non_empty += int((~empty).sum())
            revised += int(changed.sum())
            code = f"BENCH.IND.{indicator:04d}"
            name = f"Synthetic benchmark indicator {indicator:04d} (not a World Bank series)"
            _write_block(first, code, name, values, empty, countries)
            _write_block(second, code, name, np.where(changed, revised_values(values), values), empty, countries)
    LOG.info("world bank: %d x %d x %d observations, %d revised", indicators, countries, len(YEARS), revised)
    return WorldBankFiles(
        release=str(release),
        revision=str(revision),
        indicators=indicators,
        countries=countries,
        years=len(YEARS),
        observations=indicators * countries * len(YEARS),
        non_empty=non_empty,
        revised=revised,
        release_bytes=release.stat().st_size,
        revision_bytes=revision.stat().st_size,
    )


def indicator_block(seed: int, indicator: int, countries: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values rounded to 2 decimals, empty cells, cells the revision changes) of one indicator, countries x years.

    Series start in a random year before 2000 (earlier cells empty, as in the real file), 5% random gaps, and
    2024 is missing for half the countries; the revision changes 1% of the non-empty cells (at least one).
    """
    rng = np.random.default_rng([seed, indicator])
    shape = (countries, len(YEARS))
    scale = 10.0 ** rng.uniform(-1, 7)
    signed = rng.random() < 0.3  # growth-rate-like series have negative values
    level = rng.lognormal(mean=0.0, sigma=1.0, size=(countries, 1)) * scale
    noise = rng.normal(0.0, 0.05, size=shape).cumsum(axis=1)
    values = level * np.exp(noise)
    if signed:
        values = values - level
    values = np.round(values, 2)
    start = rng.integers(0, 40, size=(countries, 1))
    empty = (np.arange(len(YEARS))[None, :] < start) | (rng.random(shape) < 0.05)
    empty[:, -1] |= rng.random(countries) < 0.5
    candidates = np.flatnonzero(~empty)
    changed = np.zeros(shape, dtype=bool)
    if candidates.size:
        count = max(1, round(candidates.size * REVISED_SHARE))
        changed.flat[rng.choice(candidates, size=count, replace=False)] = True
    return values, empty, changed


def revised_values(values: np.ndarray) -> np.ndarray:
    """A revised figure: at least 0.01 (one printed unit) higher, so the printed value always differs."""
    return np.round(values + np.maximum(np.round(np.abs(values) * 0.01, 2), 0.01), 2)


def _preamble(release_date: str) -> str:
    header = ",".join(f'"{cell}"' for cell in HEADER) + ","
    lines = ['"Data Source","World Development Indicators",', "", f'"Last Updated Date","{release_date}",', "", header]
    return "\ufeff" + "\n".join(lines) + "\n"


def _write_block(out: IO[str], code: str, name: str, values: np.ndarray, empty: np.ndarray, countries: int) -> None:
    """One line per country: ~70 quoted cells joined once (no Python work per cell beyond formatting)."""
    lines = []
    for row in range(countries):
        pairs = zip(values[row].tolist(), empty[row].tolist(), strict=True)
        cells = ['""' if gap else f'"{value:.2f}"' for value, gap in pairs]
        iso3 = f"X{chr(65 + row // 26 % 26)}{chr(65 + row % 26)}"  # XAA-XZZ: ISO 3166 user-assigned codes
        prefix = f'"Synthetic country {row + 1:03d}","{iso3}","{name}","{code}",'
        lines.append(prefix + ",".join(cells) + ",\n")
    out.write("".join(lines))


def generate_news(path: Path, items: int, seed: int = DEFAULT_SEED) -> NewsFile:
    """An RSS 2.0 feed in the OSW feed's shape, newest item first, one item every 7 minutes."""
    rng = np.random.default_rng([seed, 0])
    path.parent.mkdir(parents=True, exist_ok=True)
    in_scope = 0
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n',
        "<title>unionstat benchmark feed: synthetic items in the shape of the OSW feed (not an OSW feed)</title>\n",
        f"<link>{NEWS_HOST}/osw</link>\n",
        "<description>Generated by bench/generate.py for performance measurement only. Every item is random "
        "text.</description>\n",
        "<language>en</language>\n",
        f"<lastBuildDate>{format_datetime(NEWS_START)}</lastBuildDate>\n",
    ]
    words = np.array(FILLER)
    for index in range(1, items + 1):
        scoped = bool(rng.random() < 0.5)
        in_scope += scoped
        place = (IN_SCOPE_WORDS if scoped else OUT_OF_SCOPE_WORDS)[int(rng.integers(0, 6))]
        text = " ".join(words[rng.integers(0, len(FILLER), size=int(rng.integers(20, 60)))].tolist())
        published = NEWS_START - timedelta(minutes=7 * (index - 1))
        link = f"{NEWS_HOST}/osw/en/publikacje/analyses/{published:%Y-%m-%d}/synthetic-item-{index:06d}"
        parts.append(
            "<item>\n"
            f"<title>Synthetic item {index:06d}: {place} {escape(text[:60])}</title>\n"
            f"<link>{link}</link>\n"
            f'<guid isPermaLink="false">{link}</guid>\n'
            f"<description>{escape(place + ': ' + text)}</description>\n"
            f"<pubDate>{format_datetime(published)}</pubDate>\n"
            f"<category>{'Analyses' if index % 2 else 'OSW Commentary'}</category>\n"
            f"<category>{place}</category>\n"
            "</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    path.write_text("".join(parts), encoding="utf-8")
    LOG.info("news: %d items (%d in scope) in %s", items, in_scope, path)
    return NewsFile(str(path), items, in_scope, path.stat().st_size)


def write_news_reference(root: Path, body: str) -> Path:
    """A replay manifest (unionstat/http.py `Reference`) that answers OSW's RSS URL with the synthetic feed."""
    manifest = {
        "name": "unionstat benchmark reference (synthetic)",
        "version": 1,
        "origin": "synthetic",
        "statement": "Generated by bench/generate.py for performance measurement; nothing here was fetched or "
        "compiled from a publication, and it is never used outside the benchmark's private warehouse.",
        "recordings": [
            {
                "id": "bench-osw-rss-synthetic",
                "source": "osw",
                "origin": "synthetic",
                "dataset": "rss",
                "method": "GET",
                "url": OSW_RSS_URL,
                "status": 200,
                "headers": {"Content-Type": "application/rss+xml; charset=utf-8"},
                "body": body,
                "compiled_from": "synthetic random text (bench/generate.py), in the shape of the OSW feed",
            }
        ],
    }
    path = root / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    raise SystemExit(main())
