"""Load stage: each stored body loads once, and one source's failure leaves the others loaded."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from scrapers.base import Capture, Connector, Previous, SnapshotMeta, SourceConfig
from unionstat import warehouse
from unionstat.errors import ParseError
from unionstat.http import HttpClient
from unionstat.load import load_pending
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore


class Lines(Connector):
    """A stand-in publisher: one raw row per line of a stored text body."""

    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        raise AssertionError("the load stage never fetches")

    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        text = body.decode()
        if text.startswith("parse error"):
            raise ParseError(self.name, meta.request_url, "lines of text", repr(text))
        if text.startswith("bug"):
            raise RuntimeError("planted bug in the parser")
        return pd.DataFrame({"parsed_as": meta.dataset, "line": text.splitlines()})


def _connector(name: str, settings: Settings) -> Lines:
    config = SourceConfig(
        name=name,
        publisher=f"{name} (test)",
        module="tests.unionstat.test_load",
        base_url="https://example.test",
        raw_table=f"raw.{name}_lines",
        licence="test",
        release_cadence_days=365,
        release_cadence="yearly",
        datasets={"a": "dataset a", "b": "dataset b"},
    )
    connector = Lines(config, settings)
    connector.raw_ddl = (
        f"create table if not exists raw.{name}_lines "
        "(snapshot_sha256 varchar not null, row_number integer not null, parsed_as varchar, line varchar)"
    )
    return connector


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, SnapshotStore, Settings]]:
    settings = Settings.from_env({"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse")})
    con = warehouse.connect(tmp_path / "build.duckdb", settings=settings)
    try:
        yield con, SnapshotStore(tmp_path / "snapshots"), settings
    finally:
        con.close()


def _store(
    con: duckdb.DuckDBPyConnection, store: SnapshotStore, source: str, dataset: str, body: bytes, minute: int
) -> str:
    sha = store.put(body)
    con.execute(
        "insert into raw.snapshots values "
        "(?, ?, ?, ?, 'fetched', ?, 200, null, null, 'text/plain', ?, null, 'run-0', null)",
        [
            sha,
            source,
            dataset,
            f"https://example.test/{dataset}",
            datetime(2025, 1, 1, 0, minute, tzinfo=UTC),
            len(body),
        ],
    )
    return sha


def test_identical_bytes_under_two_datasets_load_once_and_join_both(
    setup: tuple[duckdb.DuckDBPyConnection, SnapshotStore, Settings],
) -> None:
    con, store, settings = setup
    connector = _connector("lines", settings)
    warehouse.ensure_schema(con, [connector.raw_ddl])
    body = b"first line\nsecond line\n"
    sha = _store(con, store, "lines", "b", body, minute=1)
    assert _store(con, store, "lines", "a", body, minute=2) == sha

    result = load_pending(con, store, [connector], "run-1")

    assert result.errors == {}
    assert result.rows == {"raw.lines_lines": 2}
    assert result.snapshots == {"raw.lines_lines": [sha]}
    assert con.execute("select sha256, raw_table, row_count from raw.loads").fetchall() == [(sha, "raw.lines_lines", 2)]
    # parsed once, as the dataset of the first fetch ('b', stored a minute before 'a')
    assert con.execute("select parsed_as, line from raw.lines_lines order by row_number").fetchall() == [
        ("b", "first line"),
        ("b", "second line"),
    ]
    # the rows reach both datasets through raw.snapshots, once each
    attributed = con.execute(
        "select s.dataset, count(*) from raw.lines_lines r join raw.snapshots s on s.sha256 = r.snapshot_sha256 "
        "group by s.dataset order by s.dataset"
    ).fetchall()
    assert attributed == [("a", 2), ("b", 2)]
    assert load_pending(con, store, [connector], "run-2").rows == {}  # loading twice changes nothing


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"parse error here", r"^\[broken\] https://example.test/a: expected lines of text"),
        (b"bug", r"^\[broken\] load failed \(snapshot [0-9a-f]{12}, dataset a\): RuntimeError: planted bug"),
    ],
)
def test_a_source_whose_load_raises_leaves_the_others_loaded(
    setup: tuple[duckdb.DuckDBPyConnection, SnapshotStore, Settings], body: bytes, message: str
) -> None:
    con, store, settings = setup
    before, broken, after = (_connector(name, settings) for name in ("before", "broken", "after"))
    warehouse.ensure_schema(con, [c.raw_ddl for c in (before, broken, after)])
    _store(con, store, "before", "a", b"kept 1\n", minute=1)
    _store(con, store, "broken", "a", b"fine line\n", minute=2)  # loads, then is taken back
    _store(con, store, "broken", "a", body, minute=3)
    _store(con, store, "after", "a", b"kept 2\n", minute=4)

    result = load_pending(con, store, [before, broken, after], "run-1")

    assert list(result.errors) == ["broken"]
    assert re.search(message, result.errors["broken"]), result.errors["broken"]
    assert result.rows == {"raw.before_lines": 1, "raw.after_lines": 1}
    assert con.execute("select count(*) from raw.broken_lines").fetchone() == (0,)
    assert con.execute("select raw_table from raw.loads order by raw_table").fetchall() == [
        ("raw.after_lines",),
        ("raw.before_lines",),
    ]


def test_a_failure_after_rows_were_inserted_takes_them_back(
    setup: tuple[duckdb.DuckDBPyConnection, SnapshotStore, Settings],
) -> None:
    """A constraint failing on raw.loads (the rows already inserted) is that source's error, with no rows left."""
    con, store, settings = setup
    broken, other = _connector("broken", settings), _connector("other", settings)
    warehouse.ensure_schema(con, [broken.raw_ddl, other.raw_ddl])
    sha = _store(con, store, "broken", "a", b"a line\n", minute=1)
    _store(con, store, "other", "a", b"other line\n", minute=2)
    con.execute("create unique index loads_sha on raw.loads (sha256)")
    con.execute("insert into raw.loads values (?, 'raw.elsewhere', 1, now(), 'run-0')", [sha])

    result = load_pending(con, store, [broken, other], "run-1")

    assert list(result.errors) == ["broken"]
    assert "ConstraintException" in result.errors["broken"]
    assert con.execute("select count(*) from raw.broken_lines").fetchone() == (0,)
    assert result.rows == {"raw.other_lines": 1}


def test_origins_written_before_they_were_named_are_migrated_once() -> None:
    """A warehouse of an earlier version said 'live' and 'reference:<id>': the schema step renames them, keeping
    the recording's id, so no model has to know the old words."""
    import duckdb as db

    from unionstat import warehouse

    con = db.connect()
    warehouse.ensure_schema(con, [])
    con.execute(
        "insert into raw.snapshots values ('a', 'wipo', 'd', 'u1', 'reference:wipo-x', now(), 200, null, null, null, "
        "1, null, 'r', null), ('b', 'wipo', 'd', 'u2', 'live', now(), 200, null, null, null, 1, null, 'r', null)"
    )
    warehouse.ensure_schema(con, [])
    assert con.sql("select sha256, origin, recording_id from raw.snapshots order by 1").fetchall() == [
        ("a", "compiled_from_paper", "wipo-x"),
        ("b", "fetched", None),
    ]
