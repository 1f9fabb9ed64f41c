"""The benchmark's generator writes files the project's own parsers read, with the counts it reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench import generate
from scrapers.base import SnapshotMeta
from scrapers.worldbank import BULK_CSV_MEMBER, parse_bulk_csv
from tests.builders import worldbank_bulk_csv


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> generate.WorldBankFiles:
    """2 indicators x 3 countries x 65 years."""
    return generate.generate_worldbank(tmp_path_factory.mktemp("bench"), indicators=2, countries=3, seed=7)


def test_bulk_csv_is_read_by_the_worldbank_parser_with_every_observation(tiny: generate.WorldBankFiles) -> None:
    body = Path(tiny.release).read_bytes()
    frame = parse_bulk_csv("worldbank", Path(tiny.release).as_uri(), body)
    assert tiny.observations == 2 * 3 * 65 == len(frame)
    assert frame["value"].notna().sum() == tiny.non_empty
    assert 0 < tiny.non_empty < tiny.observations  # some cells empty, as in the real file
    assert sorted(frame["indicator_id"].unique()) == ["BENCH.IND.0001", "BENCH.IND.0002"]
    assert sorted(frame["countryiso3code"].unique()) == ["XAA", "XAB", "XAC"]
    assert sorted(frame["date"].unique())[:2] == ["1960", "1961"] and frame["date"].max() == "2024"
    assert str(frame["lastupdated"].iloc[0]) == generate.RELEASE_DATE
    assert BULK_CSV_MEMBER.match(Path(tiny.release).name)


def test_bulk_csv_has_the_publishers_preamble_and_layout(tiny: generate.WorldBankFiles) -> None:
    """Byte for byte the layout tests/builders.py documents for the real file: BOM, preamble, trailing column."""
    ours = Path(tiny.release).read_bytes().split(b"\n")
    theirs = worldbank_bulk_csv({"RUS": {}}, generate.RELEASE_DATE).split(b"\n")
    assert ours[:5] == theirs[:5]
    assert ours[5].startswith(b'"Synthetic country 001","XAA","Synthetic benchmark indicator 0001')
    assert ours[5].endswith(b'",') and ours[5].count(b",") == 4 + 65


def test_revision_changes_exactly_the_reported_values_and_the_release_date(tiny: generate.WorldBankFiles) -> None:
    before = parse_bulk_csv("worldbank", "file:///release1.csv", Path(tiny.release).read_bytes())
    after = parse_bulk_csv("worldbank", "file:///release2.csv", Path(tiny.revision).read_bytes())
    assert len(before) == len(after)
    keys = ["indicator_id", "countryiso3code", "date"]
    assert (before[keys] == after[keys]).all().all()
    assert (before["value"].isna() == after["value"].isna()).all()  # no cell emptied or filled
    changed = before["value"].notna() & (before["value"] != after["value"])
    # 1% of each indicator's non-empty cells, at least one: here 1 + 1
    assert tiny.revised == 2 == int(changed.sum())
    assert (after["value"][changed] >= before["value"][changed] + 0.01 - 1e-9).all()
    assert str(after["lastupdated"].iloc[0]) == generate.REVISION_DATE


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path, tiny: generate.WorldBankFiles) -> None:
    again = generate.generate_worldbank(tmp_path, indicators=2, countries=3, seed=7)
    assert Path(again.release).read_bytes() == Path(tiny.release).read_bytes()
    assert Path(again.revision).read_bytes() == Path(tiny.revision).read_bytes()


def test_revision_share_is_one_percent_at_scale() -> None:
    values, empty, changed = generate.indicator_block(generate.DEFAULT_SEED, 1, generate.COUNTRIES)
    assert changed.sum() == round((~empty).sum() * 0.01)
    assert not (changed & empty).any()
    assert np.isfinite(values).all()


def test_news_feed_is_parsed_by_the_osw_connector_and_replayed_from_its_manifest(tmp_path: Path) -> None:
    import scrapers
    from unionstat.http import Reference, normalize_url
    from unionstat.settings import Settings

    feed = generate.generate_news(tmp_path / "news" / "osw-rss.xml", items=50, seed=3)
    generate.write_news_reference(tmp_path / "news", "osw-rss.xml")
    connector = scrapers.connector("osw", Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "wh")}))
    body = Path(feed.path).read_bytes()
    frame = connector.parse(body, SnapshotMeta("0" * 64, "osw", "rss", generate.OSW_RSS_URL, None, None))
    assert len(frame) == feed.items == 50
    assert int(frame["in_scope"].sum()) == feed.in_scope and 0 < feed.in_scope < 50
    assert frame["url"].str.startswith("https://bench.unionstat.invalid/").all()
    assert frame["url"].is_unique
    reference = Reference.load(tmp_path / "news")
    recording = reference.recordings[normalize_url(connector.base_url + connector.config.options["rss_path"])]
    assert recording.body() == body
    assert json.loads((tmp_path / "news" / "manifest.json").read_text())["origin"] == "synthetic"
