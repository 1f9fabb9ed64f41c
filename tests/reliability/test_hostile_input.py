"""Hostile input: XML entities, archive paths and bombs, oversized responses, SQL that tries to write, and markup
in error messages. Each is refused (a typed error naming what was expected) or made harmless, never obeyed.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from pathlib import Path

import duckdb
import pytest

import scrapers
from flows.refresh import refresh
from scrapers import news, worldbank
from tests.builders import GDP, worldbank_bulk_csv
from tests.conftest import Routes, file_digest, query
from tests.news_builders import rss_feed, rss_item, sitemap, xml_bomb, xxe
from tests.reliability.conftest import FIGURES, Dispatcher, respond
from unionstat import imports, warehouse
from unionstat.cli import main
from unionstat.errors import ParseError, SourceError, StageFailed, UnionstatError
from unionstat.fetch import fetch_source
from unionstat.http import HttpClient
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

MEMBER = f"API_{GDP}_DS2_en_csv_v2_1.csv"
BULK = worldbank_bulk_csv({"RUS": {"2023": "3.6"}, "BLR": {"2023": "3.9"}}, last_updated="2024-10-01")
SCRIPT = "<script>alert('unionstat')</script>"


def live(tmp_path: Path, **extra: str) -> Settings:
    return Settings.from_env(
        {
            "UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
            "UNIONSTAT_MODE": "live",
            "UNIONSTAT_HTTP_RETRIES": "0",
            "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0",
            **extra,
        }
    )


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


# -- XML: entities and DTDs --------------------------------------------------------------------
def xxe_reading(path: Path) -> bytes:
    return xxe().replace(b"file:///etc/passwd", path.as_uri().encode())


@pytest.mark.parametrize("kind", ["xxe", "billion-laughs", "external-dtd"])
def test_feeds_with_entities_are_refused_at_fetch_and_nothing_is_stored(
    kind: str, server: tuple[str, Routes], tmp_path: Path
) -> None:
    base, routes = server
    secret = tmp_path / "secret.txt"
    secret.write_text("UNIONSTAT-SECRET-MARKER")
    body = {
        "xxe": xxe_reading(secret),
        "billion-laughs": xml_bomb(),
        "external-dtd": b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd"><rss/>',
    }[kind]
    Dispatcher(base, routes).add(f"{base}/en/rss.xml", respond(200, body, {"Content-Type": "application/rss+xml"}))
    settings = live(tmp_path, UNIONSTAT_OSW_BASE_URL=base)
    connector = scrapers.connector("osw", settings)
    con = warehouse.connect(tmp_path / "b.duckdb")
    try:
        warehouse.ensure_schema(con, [connector.raw_ddl])
        result = fetch_source(con, SnapshotStore(settings.snapshot_dir), HttpClient(settings), connector, "t", ["rss"])
        assert result.error is not None
        assert result.error.startswith(
            f"[osw] {base}/en/rss.xml: expected an RSS feed without DTD or entity declarations"
        )
        assert "refused: DTDForbidden" in result.error
        assert query_count(con, "select count(*) from raw.snapshots") == 0
    finally:
        con.close()
    assert not any(b"UNIONSTAT-SECRET-MARKER" in p.read_bytes() for p in files_under(settings.snapshot_dir))
    FIGURES.hostile.append(f"feed {kind}")


def query_count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else -1


@pytest.mark.parametrize(
    "body",
    [
        xxe(),
        xml_bomb(),
        sitemap(["https://rg.ru/2030/01/07/a.html"]).replace(b"<urlset", b'<!DOCTYPE x [<!ENTITY e "e">]><urlset', 1),
    ],
    ids=["xxe", "billion-laughs", "entity-in-sitemap"],
)
def test_every_xml_reader_refuses_entities(body: bytes) -> None:
    with pytest.raises(
        ParseError, match=r"\[rg\] https://rg\.ru/x\.xml: expected .* without DTD or entity declarations"
    ):
        news.parse_xml("rg", "https://rg.ru/x.xml", body, "an RSS feed")
    FIGURES.hostile.append("xml reader")


# -- archives: member paths and bombs ----------------------------------------------------------
@pytest.mark.parametrize("name", ["../../escaped/" + MEMBER, "/tmp/unionstat-absolute/" + MEMBER, "..\\..\\" + MEMBER])
def test_an_archive_member_path_cannot_write_outside(name: str, tmp_path: Path, warehouse_env: Settings) -> None:
    archive = tmp_path / "in" / "download.zip"
    archive.parent.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo(name), BULK)
    archive.write_bytes(buffer.getvalue())
    before = files_under(Path("/tmp/unionstat-absolute")) | files_under(tmp_path)
    store = SnapshotStore(warehouse_env.snapshot_dir)
    con = warehouse.connect(warehouse_env.build_db)
    try:
        connectors = scrapers.all_connectors(warehouse_env)
        warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
        if "\\" in name:  # refused: a Windows-style path is not the bulk CSV's file name on POSIX
            with pytest.raises(UnionstatError, match="is in no format a connector recognises"):
                imports.import_file(con, store, connectors, archive, "t")
        else:  # accepted: the member's content is used, never its path
            result = imports.import_file(con, store, connectors, archive, "t")
            assert (result.source, result.dataset) == ("worldbank", GDP)
    finally:
        con.close()
    created = (files_under(Path("/tmp/unionstat-absolute")) | files_under(tmp_path)) - before
    # Only the build file and the content-addressed snapshot: nothing named after the member, nothing outside.
    assert all(p == warehouse_env.build_db or p.parent.parent == warehouse_env.snapshot_dir for p in created), created
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/unionstat-absolute").exists()
    FIGURES.hostile.append("archive member path")


def test_snapshot_paths_come_from_checksums_never_from_urls(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snapshots")
    for hostile in ("../../etc/passwd", "/etc/passwd", "ab/../../x" + "0" * 54, "A" * 64):
        with pytest.raises(UnionstatError, match="expected a lower-case hex sha256"):
            store.path_for(hostile)
    sha = store.put(b"body")
    assert store.path_for(sha).resolve().is_relative_to((tmp_path / "snapshots").resolve())
    FIGURES.hostile.append("snapshot path")


def zip_bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(MEMBER, BULK + b"0" * size)
    return buffer.getvalue()


def understated(body: bytes, declared: int) -> bytes:
    """The same zip whose headers declare a small uncompressed size: a bomb that lies about itself."""
    data = bytearray(body)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        struct.pack_into("<I", data, at + offset, declared)
    return bytes(data)


def test_zip_bombs_are_refused_declared_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worldbank, "MAX_ARCHIVE_MEMBER_BYTES", 1024 * 1024)
    bomb = zip_bomb(8 * 1024 * 1024)
    assert len(bomb) < 64 * 1024  # 8 MB of zeros in a few kilobytes
    with pytest.raises(ParseError, match=r"\[worldbank\] download\.zip: expected a member of at most 1048576 bytes"):
        worldbank.parse_bulk_csv("worldbank", "download.zip", bomb)
    with pytest.raises(
        ParseError, match=r"\[worldbank\] download\.zip: expected a (member of at most 1048576|readable zip)"
    ):
        worldbank.parse_bulk_csv("worldbank", "download.zip", understated(bomb, 1000))
    FIGURES.hostile.append("zip bomb")


def test_a_compressed_response_over_the_cap_is_refused(server: tuple[str, Routes], tmp_path: Path) -> None:
    """A small gzip body that inflates past UNIONSTAT_MAX_RESPONSE_BYTES: the cap counts what is decoded."""
    base, routes = server
    body = gzip.compress(b"[" + b" " * 2_000_000 + b"]")
    Dispatcher(base, routes).add(f"{base}/bomb", respond(200, body, {"Content-Encoding": "gzip"}))
    client = HttpClient(live(tmp_path, UNIONSTAT_MAX_RESPONSE_BYTES="100000"))
    with pytest.raises(SourceError, match=rf"\[demo\] {base}/bomb: expected a response of at most 100000 bytes"):
        client.get("demo", f"{base}/bomb")
    FIGURES.hostile.append("compressed response over the cap")


# -- the analysts' SQL interface -------------------------------------------------------------
WRITES = [
    "insert into marts.t values (2)",
    "update marts.t set x = 3",
    "delete from marts.t",
    "create table marts.u as select 1",
    "drop table marts.t",
    "attach '{tmp}/other.duckdb' as other",
    "copy marts.t to '{tmp}/out.csv'",
    "export database '{tmp}/export'",
    "install httpfs",
    "load httpfs",
    "pragma enable_profiling",
    "set enable_external_access = true",
    "select * from read_csv('{tmp}/../../etc/passwd')",
    "create temp table big as select * from range(100000000)",
]


@pytest.fixture
def tiny_warehouse(warehouse_env: Settings) -> Path:
    """A published file with one table: what is refused is the connection's, not the content's."""
    db = warehouse_env.published_db
    db.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db))
    con.execute("create schema marts; create table marts.t as select 1 as x")
    con.close()
    return db


@pytest.mark.parametrize("statement", WRITES)
def test_sql_cannot_write_anything(
    statement: str, tiny_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = file_digest(tiny_warehouse)
    before = files_under(tmp_path)
    assert main(["sql", statement.format(tmp=tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unionstat: query failed:" in err and "(the warehouse is read-only for analysts)" in err, err
    assert file_digest(tiny_warehouse) == digest
    assert files_under(tmp_path) == before
    FIGURES.hostile.append("sql write")


def test_sql_runs_one_statement_per_call(
    tiny_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = file_digest(tiny_warehouse)
    assert main(["sql", "checkpoint; insert into marts.t values (9)"]) == 2
    assert "unionstat: one statement per call; found 2" in capsys.readouterr().err
    assert file_digest(tiny_warehouse) == digest
    FIGURES.hostile.append("sql write")


def test_sql_still_reads_and_writes_the_parquet_file_asked_for(
    tiny_warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "select x from marts.t", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["x", "1"]
    target = tmp_path / "out.parquet"
    assert main(["sql", "select x from marts.t", "--format", "parquet", "-o", str(target)]) == 0
    assert duckdb.sql(f"select x from read_parquet('{target}')").fetchall() == [(1,)]


# -- markup arriving in errors is shown as text ------------------------------------------------
def test_a_script_in_a_publisher_error_stays_text_in_the_report(
    warehouse_env: Settings, server: tuple[str, Routes], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, routes = server
    error = f'[{{"message":[{{"id":"120","key":"Invalid value","value":"{SCRIPT}"}}]}}]'.encode()
    connector = scrapers.connector("worldbank", warehouse_env)
    dispatcher = Dispatcher(base, routes)
    for dataset in connector.config.datasets:
        url = connector.page_url(dataset, 1).replace(connector.config.base_url, base)
        dispatcher.add(url, respond(200, error, {"Content-Type": "application/json"}))
    monkeypatch.setenv("UNIONSTAT_WORLDBANK_BASE_URL", base)
    monkeypatch.setenv("UNIONSTAT_MIN_REQUEST_INTERVAL_S", "0")
    with pytest.raises(StageFailed, match="every source failed"):
        refresh(sources=["worldbank"], live=True)
    html = (warehouse_env.reports_dir / "index.html").read_text(encoding="utf-8")
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(&#39;unionstat&#39;)&lt;/script&gt;" in html
    history = warehouse_env.warehouse_dir / "dq_history.duckdb"
    assert SCRIPT in query(history, "select error from runs")[0][0]  # kept verbatim, escaped only when shown
    FIGURES.hostile.append("script in an error message")


def test_a_script_in_a_feed_title_is_stored_as_text_not_markup() -> None:
    feed = rss_feed([rss_item(f"Union State {SCRIPT}", "https://example.test/a", description=f"<p>{SCRIPT} text</p>")])
    connector = scrapers.connector("rg", Settings.from_env({}))
    frame = news.parse_rss("rg", "https://rg.ru/xml/index.xml", feed, connector.base_url, "ru", news.Scope(("union",)))
    assert frame.loc[0, "title"] == f"Union State {SCRIPT}"  # the title is text: escaping is the renderer's job
    assert "<script>" not in str(frame.loc[0, "summary"])  # descriptions are HTML: only their text is kept
