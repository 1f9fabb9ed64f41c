"""mart_news_item_categories matches keywords word by word: the same pairs as the regular expression that defines a
keyword match, on edge cases (word starts, case, Cyrillic, Polish, stems, gaps, hyphens) and on random texts."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pytest

from tests.conftest import query
from unionstat.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The definition the model had as a per-pair regex (kept here as the oracle): a keyword is a stem at the start of
# a word; a space in it matches the rest of the word and the non-letters after it.
ORACLE = r"""
with texts as (
    select canonical_url, lower(coalesce(title, '') || ' ' || coalesce(body_text, '')) as search_text
    from marts.mart_news_items
),
keywords as (select distinct keyword from paper.news_keyword_taxonomy),
candidates as materialized (  -- the regex is compiled per pair: only on texts that contain the first stem
    select texts.canonical_url, texts.search_text, keywords.keyword
    from texts inner join keywords on strpos(texts.search_text, split_part(keywords.keyword, ' ', 1)) > 0
)
select canonical_url, keyword
from candidates
where regexp_matches(search_text, '(^|[^\pL])' || replace(keyword, ' ', '[\pL]*[^\pL]+'))
"""
# (id, title, body, keywords it must match, keywords it must not match)
EDGE_CASES: list[tuple[str, str | None, str | None, set[str], set[str]]] = [
    ("stem-at-word-start", "Digitalization of trade", None, {"digital", "trade"}, set()),
    ("not-inside-a-word", "predigital nontrade", "", set(), {"digital", "trade"}),
    ("upper-case", None, "DIGITAL SOFTWARE", {"digital", "software"}, set()),
    ("digit-is-not-a-letter", "2024digital x1software", None, {"digital", "software"}, set()),
    ("cyrillic-stem", "Цифровой рубль", None, {"цифров"}, set()),
    ("cyrillic-not-inside", "нецифровой", None, set(), {"цифров"}),
    ("cyrillic-upper-case", "ЦИФРОВАЯ ЭКОНОМИКА", None, {"цифров"}, set()),
    ("two-words", None, "Information technologies", {"information technolog"}, set()),
    ("two-words-rest-of-word", None, "informational technology", {"information technolog"}, set()),
    ("two-words-any-gap", None, "information, 42 \n technology", {"information technolog"}, set()),
    ("two-words-second-not-at-start", None, "information biotechnology", set(), {"information technolog"}),
    ("two-words-apart", None, "information and technology", set(), {"information technolog"}),
    ("two-words-reversed", None, "technology information", set(), {"information technolog"}),
    ("second-stem-too-short", None, "information tech", set(), {"information technolog"}),
    ("hyphen-literal", "ИТ-компании растут", None, {"ит-компани"}, set()),
    ("hyphen-spaced", "ит - компании", None, set(), {"ит-компани"}),
    ("hyphen-doubled", "ит--компании", None, set(), {"ит-компани"}),
    ("hyphen-word-longer", "ити-компании", None, set(), {"ит-компани"}),
    ("hyphen-after-a-word-end", "бит-компании", None, set(), {"ит-компани"}),
    ("polish-two-words", None, "Wspólne przedsięwzięcie w Mińsku", {"wspólne przedsięwzię"}, set()),
    ("polish-diacritics", None, "współpracy międzynarodowej", {"współprac międzynarodow"}, set()),
    ("combining-mark-is-not-a-letter", None, "\u0301energy", {"energ", "energy"}, set()),
    ("combining-mark-splits-a-word", None, "e\u0301nergy", set(), {"energ", "energy"}),
    ("title-and-body-joined", "information", "technology", {"information technolog"}, set()),
    ("no-text", None, None, set(), {"digital"}),
    ("two-keywords-one-category", "patent", None, {"patent"}, set()),
]
FILLERS = ["the", "и", "w", "Belarus", "Россия", "2024", "it", "ит", "компании", "союзн", "x"]
GAPS = [" ", " ", " ", "-", "--", " - ", ", ", "\n", "1", "’", "'", "", ".", "  ", "\u0301", "_", "«"]
AFFIXES = ["", "", "", "ов", "ami", "s", "ing", "ия", "ё", "ł", "pre", "не", "e"]
RANDOM_TEXTS = 300
# the columns of marts.mart_news_items the model reads (DuckDB and PostgreSQL)
NEWS_ITEMS_DDL = (
    "create table marts.mart_news_items (source varchar, canonical_url varchar, published_at timestamp, "
    "language varchar, title varchar, body_text varchar)"
)
INSERT_NEWS_ITEM = "insert into marts.mart_news_items values ('osw', ?, timestamp '2024-10-01 12:00', 'en', ?, ?)"


def random_items(keywords: list[str], count: int, seed: int = 9) -> list[tuple[str, str | None, str | None]]:
    """Texts of keywords cut, glued, affixed and upper-cased among fillers: near misses and hits."""
    rng = random.Random(seed)

    def token() -> str:
        if rng.random() >= 0.6:
            return rng.choice(FILLERS)
        parts = rng.choice(keywords).split(" ")
        out = []
        for part in parts if rng.random() < 0.7 else parts[:1]:
            part = (rng.choice(AFFIXES) if rng.random() < 0.15 else "") + part
            part += rng.choice(AFFIXES) if rng.random() < 0.5 else ""
            part = part.upper() if rng.random() < 0.1 else part[1:] if rng.random() < 0.05 else part
            out.append(part)
        return (rng.choice(GAPS) if rng.random() < 0.5 else " ").join(out)

    def text(most: int) -> str:
        return "".join(token() + rng.choice(GAPS) for _ in range(rng.randint(0, most)))

    return [
        (f"urn:test:random:{index}", text(4) if rng.random() < 0.95 else None, text(25) if rng.random() < 0.9 else None)
        for index in range(count)
    ]


def sample_items() -> list[tuple[str, str | None, str | None]]:
    """The edge cases, then random texts made of the seed's keywords: (canonical_url, title, body_text)."""
    with (DBT_PROJECT_DIR / "seeds" / "news_keyword_taxonomy.csv").open(encoding="utf-8") as seed:
        keywords = sorted({line.rstrip("\n").rsplit(",", 1)[1] for line in list(seed)[1:]})
    items = [(case_id, title, body) for case_id, title, body, _, _ in EDGE_CASES]
    return items + random_items(keywords, RANDOM_TEXTS)


def dbt(db_path: Path, target: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """dbt through dbtRunner on `db_path`; the status of each node."""
    from dbt.cli.main import dbtRunner

    from unionstat.transform import _close_dbt_connections

    monkeypatch.setenv("UNIONSTAT_DBT_DB_PATH", str(db_path))
    monkeypatch.setenv("UNIONSTAT_PROJECT_ROOT", str(PROJECT_ROOT))
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    common += ["--target-path", str(target / "dbt_target"), "--log-path", str(target / "dbt_logs")]
    try:
        outcome = dbtRunner().invoke(["--quiet", args[0], *common, *args[1:]])
    finally:
        _close_dbt_connections()
    results = getattr(outcome.result, "results", None) or []
    return {item.node.unique_id: str(getattr(item.status, "value", item.status)) for item in results}


@pytest.fixture(scope="module")
def news_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """marts.mart_news_items with the edge cases and random texts, then the seed and the categories model built."""
    root = tmp_path_factory.mktemp("news-categories")
    db_path = root / "news.duckdb"
    con = duckdb.connect(str(db_path))
    try:
        con.execute("create schema marts")
        con.execute(NEWS_ITEMS_DDL)
        con.executemany(INSERT_NEWS_ITEM, sample_items())
    finally:
        con.close()
    with pytest.MonkeyPatch.context() as monkeypatch:
        selection = ["news_keyword_taxonomy", "mart_news_item_categories", "news_keyword_shape"]
        statuses = dbt(db_path, root, ["build", "--select", *selection], monkeypatch)
    assert statuses and set(statuses.values()) <= {"success", "pass"}, statuses
    assert "test.unionstat.news_keyword_shape" in statuses
    return db_path


def matched(db_path: Path) -> dict[str, set[str]]:
    rows = query(db_path, "select canonical_url, matched_keywords from marts.mart_news_item_categories")
    pairs: dict[str, set[str]] = {}
    for url, keywords in rows:
        pairs.setdefault(url, set()).update(keywords)
    return pairs


def test_word_by_word_match_equals_the_regular_expression_on_every_item_and_keyword(news_db: Path) -> None:
    model = {(url, keyword) for url, keywords in matched(news_db).items() for keyword in keywords}
    oracle = set(query(news_db, ORACLE))
    assert model == oracle
    assert len(oracle) > 1000  # the random texts hit many keywords, and miss many near misses
    hyphen_candidates = query(
        news_db, "select count(*) from marts.mart_news_items where strpos(lower(title || ' ' || body_text), 'ит-') > 0"
    )[0][0]
    assert 0 < sum(keyword == "ит-компани" for _, keyword in oracle) < hyphen_candidates


@pytest.mark.parametrize(("case_id", "must", "must_not"), [(c[0], c[3], c[4]) for c in EDGE_CASES])
def test_edge_case(news_db: Path, case_id: str, must: set[str], must_not: set[str]) -> None:
    found = matched(news_db).get(case_id, set())
    assert must <= found, (case_id, found)
    assert not must_not & found, (case_id, found)


def test_rows_count_taxonomy_rows_and_carry_the_category(news_db: Path) -> None:
    rows = query(
        news_db,
        "select canonical_url, category_key, category_type, category_id, keyword_hits, matched_keywords, news_source, "
        "news_language, title from marts.mart_news_item_categories "
        "where canonical_url in ('two-keywords-one-category', 'two-words') order by canonical_url, category_key",
    )
    assert rows == [
        # 'patent' is an English and a Polish keyword of one category: two taxonomy rows, one keyword listed
        ("two-keywords-one-category", "challenge:innovation_patents", "challenge", "innovation_patents", 2,
         ["patent"], "osw", "en", "patent"),
        ("two-words", "sector:digital_it", "sector", "digital_it", 1, ["information technolog"], "osw", "en", None),
    ]  # fmt: skip


def test_the_keyword_shape_test_fails_on_a_keyword_the_word_match_cannot_stand_for(
    news_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "news.duckdb"
    copy.write_bytes(news_db.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        columns = "taxonomy_version, category_key, category_type, category_id, category_label, language"
        for keyword in ("it.sector", "digital ", "ai  research"):
            con.execute(
                f"insert into paper.news_keyword_taxonomy select {columns}, ? "  # noqa: S608 (fixed column list)
                "from paper.news_keyword_taxonomy limit 1",
                [keyword],
            )
    finally:
        con.close()
    statuses = dbt(copy, tmp_path, ["test", "--select", "news_keyword_shape"], monkeypatch)
    assert statuses == {"test.unionstat.news_keyword_shape": "fail"}
    results = json.loads((tmp_path / "dbt_target" / "run_results.json").read_text(encoding="utf-8"))
    assert [result["failures"] for result in results["results"]] == [3]
