"""What every connector provides: fetch (copy bytes only), parse (bytes to rows) and its raw table."""

from __future__ import annotations

import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

import duckdb
import pandas as pd
from openpyxl.utils.exceptions import InvalidFileException

from unionstat.errors import NotRecorded, SourceError
from unionstat.http import Fetched, HttpClient
from unionstat.settings import Settings

#: What zipfile and openpyxl raise on a damaged workbook (XLSX publishers catch these and raise a ParseError).
WORKBOOK_ERRORS = (
    zipfile.BadZipFile,
    InvalidFileException,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    IndexError,
    OSError,
    EOFError,
    SyntaxError,  # lxml's XMLSyntaxError and ElementTree's ParseError
    ExpatError,
    zlib.error,
    NotImplementedError,  # zipfile: a member packed with a compression method it does not support
)


@dataclass(frozen=True)
class SourceConfig:
    """One entry of sources.json."""

    name: str
    publisher: str
    module: str
    base_url: str
    raw_table: str
    licence: str
    release_cadence_days: int
    release_cadence: str
    datasets: Mapping[str, str]
    options: Mapping[str, str] = field(default_factory=dict)
    #: Raw tables beside `raw_table` that some of this source's snapshots load into (e.g. World Bank bulk CSVs).
    more_raw_tables: tuple[str, ...] = ()
    #: How dbt picks the paper's indicators out of tables loaded whole: one entry per indicator, each a set of
    #: regular expressions over the loaded cells' sheet, title, row label, row code and column header (a missing
    #: key matches anything). Written to ops.source_selections for staging.
    selections: tuple[Mapping[str, str], ...] = ()
    #: TLS facts of a publisher whose certificates chain to a root that default trust stores lack: `hosts` and
    #: `ca_certificates` (files under scrapers/, each pinned by its SHA-256 fingerprint; see scrapers/tls.py).
    tls: Mapping[str, Any] = field(default_factory=dict)
    #: A publisher's data API, where it has one (Belstat's OSIDS): endpoints and, per dataset, the query to send.
    api: Mapping[str, Any] = field(default_factory=dict)

    @property
    def raw_tables(self) -> tuple[str, ...]:
        """Every raw table this source loads into; raw.loads names the one each snapshot went to."""
        return (self.raw_table, *self.more_raw_tables)

    @classmethod
    def from_dict(cls, name: str, entry: Mapping[str, Any]) -> SourceConfig:
        return cls(
            name=name,
            publisher=entry["publisher"],
            module=entry["module"],
            base_url=entry["base_url"],
            raw_table=entry["raw_table"],
            licence=entry["licence"],
            release_cadence_days=int(entry["release_cadence_days"]),
            release_cadence=entry["release_cadence"],
            datasets=dict(entry["datasets"]),
            options=dict(entry.get("options", {})),
            more_raw_tables=tuple(entry.get("more_raw_tables", ())),
            selections=tuple(_selection(name, item) for item in entry.get("selections", ())),
            tls=dict(entry.get("tls", {})),
            api=dict(entry.get("api", {})),
        )


SELECTION_KEYS = ("indicator_code", "country_iso3", "sheet", "title", "row_label", "row_code", "column_header", "note")


def _selection(source: str, item: Mapping[str, Any]) -> dict[str, str]:
    """One selection of sources.json, its keys checked (a typo would silently match everything)."""
    unknown = sorted(set(item) - set(SELECTION_KEYS))
    if unknown or "indicator_code" not in item:
        raise ValueError(
            f"sources.json {source}.selections: expected keys {list(SELECTION_KEYS)} with indicator_code; "
            f"found {sorted(item)}"
        )
    return {key: str(value) for key, value in item.items()}


@dataclass(frozen=True)
class Previous:
    """What the warehouse already holds for one request URL: for conditional requests and dedup."""

    etag: str | None
    last_modified: str | None
    sha256s: frozenset[str]


@dataclass(frozen=True)
class Capture:
    """One response a connector wants stored, with the publisher's release date where it states one."""

    dataset: str
    fetched: Fetched
    release_date: date | None


@dataclass(frozen=True)
class SnapshotMeta:
    """What the parse step knows about a stored snapshot."""

    sha256: str
    source: str
    dataset: str
    request_url: str
    content_type: str | None
    release_date: date | None


@dataclass(frozen=True)
class NativeLoad:
    """What `load_native` inserted: the raw table it went to and the row count raw.loads records."""

    table: str
    rows: int


@dataclass(frozen=True)
class ImportedFile:
    """A file a user downloaded by hand, recognised as one of this source's formats."""

    dataset: str
    release_date: date | None
    content_type: str
    body: bytes


class NotConfigured(NotRecorded):
    """A dataset the registry names but cannot fetch yet (sources.json says why: no indicator code, endpoint or
    landing page is known from public information). The run lists it beside the datasets with nothing recorded and
    the source goes on: not a 404, not a failure, and no request is made."""

    def __init__(self, source: str, dataset: str, where: str, expected: str, reason: str) -> None:
        SourceError.__init__(
            self, source, f"sources.json {source}.{where}.{dataset}", expected, f"not configured: {reason}"
        )


class Connector(ABC):
    """A publisher's quirks in one place. Fetch only copies; parse turns stored bytes into raw rows."""

    #: DDL of the raw table; its first two columns are snapshot_sha256 and row_number. No primary key: raw.loads
    #: admits each snapshot once and the loader numbers its rows, a staging test checks the pair is unique, and
    #: the index is costly (a probe: 10M raw rows inserted in 5.2 s with it, 1.3 s without).
    raw_ddl: str = ""
    #: What `recognise_import` takes, for a person whose file no connector claimed ('' = no import).
    import_formats: str = ""

    def __init__(self, config: SourceConfig, settings: Settings) -> None:
        self.config = config
        self.settings = settings

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def base_url(self) -> str:
        return self.settings.base_url(self.name, self.config.base_url)

    @abstractmethod
    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        """Request one dataset; return what to store. An empty list means nothing changed upstream."""

    @abstractmethod
    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        """Rows of the raw table (without snapshot_sha256 and row_number), or a ParseError."""

    def get_if_changed(
        self,
        http: HttpClient,
        url: str,
        previous: Mapping[str, Previous],
        headers: Mapping[str, str] | None = None,
    ) -> Fetched | None:
        """A conditional GET of `url`: the warehouse's ETag / Last-Modified of it go as If-None-Match /
        If-Modified-Since; None when the publisher answers 304 (nothing changed), else the response as sent."""
        prev = previous.get(url)
        fetched = http.get(
            self.name,
            url,
            etag=prev.etag if prev else None,
            last_modified=prev.last_modified if prev else None,
            headers=headers,
        )
        return None if fetched.not_modified else fetched

    def recognise_import(self, path: Path, body: bytes) -> ImportedFile | None:
        """If `body` is one of this publisher's download formats, describe it; else None."""
        return None

    def load_native(self, con: duckdb.DuckDBPyConnection, path: Path, meta: SnapshotMeta) -> NativeLoad | None:
        """Insert this snapshot's raw rows with DuckDB reading the stored file itself (the fast path for big
        files), returning the table and row count; None sends the snapshot through `parse` instead."""
        return None

    def unload(self, con: duckdb.DuckDBPyConnection, table: str, sha256: str) -> None:
        """Take back a snapshot's rows from `table` (a source whose load stopped keeps none of this run's rows)."""
        con.execute(f"delete from {table} where snapshot_sha256 = ?", [sha256])  # noqa: S608
