"""Fetch stage: ask each connector for its datasets and keep every new response as a snapshot."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from scrapers.base import Capture, Connector, Previous
from unionstat import warehouse
from unionstat.errors import NotRecorded, SourceError, UnionstatError
from unionstat.http import HttpClient, TransientError
from unionstat.snapshots import SnapshotStore, sha256_of

LOG = logging.getLogger(__name__)


@dataclass
class FetchResult:
    """What one source's fetch did: new snapshots, unchanged answers, gaps and the error if it failed (and whether
    that error may pass when the fetch runs again: unionstat.http says which do)."""

    source: str
    new: list[str] = field(default_factory=list)
    unchanged: int = 0
    not_recorded: list[str] = field(default_factory=list)
    error: str | None = None
    transient: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None


class FetchFailed(UnionstatError):
    """A source's fetch failed; `transient` when running it again may succeed (the orchestrator retries those)."""

    def __init__(self, result: FetchResult) -> None:
        self.transient = result.transient
        super().__init__(result.error)


def fetch_source(
    con: duckdb.DuckDBPyConnection,
    store: SnapshotStore,
    http: HttpClient,
    connector: Connector,
    run_id: str,
    datasets: list[str] | None = None,
) -> FetchResult:
    """Fetch every dataset of one source. A failure stops this source only; nothing of it is recorded."""
    result = FetchResult(connector.name)
    accepted: list[Capture] = []
    log_rows: list[list[object]] = []
    for dataset in datasets or list(connector.config.datasets):
        previous = previous_fetches(con, connector.name, dataset)
        try:
            captures = connector.fetch(http, dataset, previous)
        except NotRecorded as exc:
            result.not_recorded.append(dataset)
            log_rows.append(_log(run_id, connector.name, dataset, exc.location, "not_recorded", None, None, str(exc)))
            continue
        except SourceError as exc:
            result.error, result.transient = str(exc), isinstance(exc, TransientError)
            _write_log(
                con,
                [
                    *log_rows,
                    _log(run_id, connector.name, dataset, exc.location, "error", None, None, str(exc)),
                ],
            )
            LOG.error("fetch failed: %s", exc)
            return result
        if not captures:
            result.unchanged += 1
            log_rows.append(_log(run_id, connector.name, dataset, None, "not_modified", 304, None, None))
        for capture in captures:
            sha = store.put(capture.fetched.body)
            prev = previous.get(capture.fetched.url)
            if prev and sha in prev.sha256s:
                result.unchanged += 1
                outcome = "unchanged"
            else:
                accepted.append(capture)
                result.new.append(sha)
                outcome = "new"
            log_rows.append(
                _log(
                    run_id,
                    connector.name,
                    dataset,
                    capture.fetched.url,
                    outcome,
                    capture.fetched.status,
                    sha,
                    None,
                )
            )
    _record_snapshots(con, accepted, run_id)
    _write_log(con, log_rows)
    return result


def previous_fetches(con: duckdb.DuckDBPyConnection, source: str, dataset: str) -> dict[str, Previous]:
    """Per request URL: the validators of the latest snapshot and every checksum seen."""
    rows = con.execute(
        """
        select request_url,
               arg_max(etag, fetched_at) as etag,
               arg_max(last_modified, fetched_at) as last_modified,
               list(sha256) as shas
        from raw.snapshots
        where source = ? and dataset = ?
        group by request_url
        """,
        [source, dataset],
    ).fetchall()
    return {url: Previous(etag, modified, frozenset(shas)) for url, etag, modified, shas in rows}


def _record_snapshots(con: duckdb.DuckDBPyConnection, captures: list[Capture], run_id: str) -> None:
    now = datetime.now(UTC)
    rows = []
    for capture in captures:
        fetched = capture.fetched
        rows.append(
            [
                sha256_of(fetched.body),
                fetched.source,
                capture.dataset,
                fetched.url,
                fetched.origin,
                now,
                fetched.status,
                fetched.headers.get("ETag"),
                fetched.headers.get("Last-Modified"),
                fetched.headers.get("Content-Type"),
                len(fetched.body),
                capture.release_date,
                run_id,
                fetched.recording,
            ]
        )
    warehouse.insert_rows(con, "raw.snapshots", rows, conflict="or ignore")


def _log(
    run_id: str,
    source: str,
    dataset: str,
    url: str | None,
    outcome: str,
    status: int | None,
    sha: str | None,
    message: str | None,
) -> list[object]:
    return [run_id, datetime.now(UTC), source, dataset, url, outcome, status, sha, message]


def _write_log(con: duckdb.DuckDBPyConnection, rows: list[list[object]]) -> None:
    warehouse.insert_rows(con, "raw.fetch_log", rows)
