"""What every connector provides: fetch (copy bytes only), parse (bytes to rows) and its raw table."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
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
    #: Datasets the publisher stopped publishing: dataset -> {"since": "YYYY-MM-DD", "evidence": where that is
    #: stated (a URL or a citation)}. A person records it; `unionstat dq` then shows them "withdrawn", never
    #: "overdue" (a 404 or 410 alone is no evidence: a moved page answers so too).
    withdrawn: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def base_urls(self) -> dict[str, str]:
        """Every host this source asks, by the key of its UNIONSTAT_<KEY>_BASE_URL setting: the main one (the
        source's name), WIPO's Data Center backend (`<name>_backend`), a data API (`<name>_api`)."""
        found = {self.name: self.base_url}
        if "backend_url" in self.options:
            found[f"{self.name}_backend"] = self.options["backend_url"]
        if "base_url" in self.api:
            found[f"{self.name}_api"] = str(self.api["base_url"])
        return found

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
            withdrawn={key: _withdrawal(name, key, entry) for key in entry.get("withdrawn", {})},
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


def _withdrawal(source: str, dataset: str, entry: Mapping[str, Any]) -> dict[str, str]:
    """One `withdrawn` entry of sources.json, checked: a dataset of the source, a date and its evidence."""
    item = entry["withdrawn"][dataset]
    if dataset not in entry["datasets"] or not isinstance(item, dict) or set(item) != {"since", "evidence"}:
        raise ValueError(
            f"sources.json {source}.withdrawn.{dataset}: expected a dataset of {sorted(entry['datasets'])} with "
            f'{{"since": "YYYY-MM-DD", "evidence": "<URL or citation>"}}; found {item!r}'
        )
    date.fromisoformat(str(item["since"]))  # a ValueError naming the bad date
    return {"since": str(item["since"]), "evidence": str(item["evidence"])}


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
    """A file a user downloaded by hand, recognised as one of this source's formats (stored as it is, byte for
    byte)."""

    dataset: str
    release_date: date | None
    content_type: str


#: What a layout keeps of a header or title: digit runs and month names stand for any number or month (a new
#: release's years and months are values, not layout); whitespace is collapsed.
DIGIT_RUN = re.compile(r"\d+")
MONTH_WORD = re.compile(
    r"\b(?:январ|феврал|март|апрел|ма[йя]|июн|июл|август|сентябр|октябр|ноябр|декабр)[а-яё]*"
    r"|\b(?:january|february|march|april|may|june|july|august|september|october|november|december)\b",
    re.IGNORECASE,
)
MONTH_RANGE = re.compile(r"<month>(?:\s*[-–—]\s*<month>)+")
#: Footnote marks after a year or label ("20242)", "экономики1)2)"): which cell carries a note is no layout.
NOTE_MARKS = re.compile(r"(?:\s*\d{1,2}\))+")


@dataclass(frozen=True)
class SnapshotLayout:
    """A parsed file's or answer's structure, never its values: what raw.snapshot_layouts stores.

    `subject` is what successive releases of one table share (a dataset, or a file's identity across renames);
    `description` the publisher module's canonical JSON of it (sheet names, the header cells its parser matched,
    label and code columns, units, preamble keys, JSON keys, element names) and `fingerprint` that JSON's sha256."""

    subject: str
    description: Mapping[str, Any]

    @property
    def text(self) -> str:
        return canonical_json(self.description)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """One spelling per structure: sorted keys, no spaces, UTF-8 text (what the fingerprint hashes)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def structural_text(value: Any) -> str | None:
    """A header cell or title as a layout keeps it: 'за январь-август 2024 г.' and 'за январь 2025 г.' are both
    'за <month> 9 г.' (numbers, months and month ranges are values; words and their order are layout)."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    if not text:
        return None
    text = MONTH_RANGE.sub("<month>", MONTH_WORD.sub("<month>", NOTE_MARKS.sub("", text)))
    return DIGIT_RUN.sub("9", text)


def header_shape(cells: Iterable[Any]) -> list[str | None]:
    """A header row as a layout keeps it: each cell's structural text, a run of equal ones (the year columns
    1960..2025) once, so a new year's column leaves it alike while a new, moved or renamed column changes it."""
    shape: list[str | None] = []
    for cell in cells:
        text = structural_text(cell)
        if not shape or shape[-1] != text:
            shape.append(text)
    return shape


def layout_differences(old: Any, new: Any, where: str = "") -> list[str]:
    """What changed between two layout descriptions, in words: "sheet '1' renamed '1a'", "header: added 'Unit'",
    "sheet '4'.header_rows: [3, 3] -> [4, 4]". Sheets and tables are matched by position, so a renamed one reads
    as renamed, not as one removed and one added."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in sorted(set(old) | set(new)):
            at = f"{where}.{key}" if where else str(key)
            if key not in old:
                found.append(f"{at} added: {_short(new[key])}")
            elif key not in new:
                found.append(f"{at} removed (was {_short(old[key])})")
            else:
                found.extend(layout_differences(old[key], new[key], at))
        return found
    if isinstance(old, list) and isinstance(new, list):
        if all(isinstance(item, dict) and "sheet" in item for item in [*old, *new]):
            return _sheet_differences(old, new)
        if all(item is None or isinstance(item, str) for item in [*old, *new]):
            removed = [item for item in old if item not in new]
            added = [item for item in new if item not in old]
            if not removed and not added:
                return [f"{where}: reordered {_short(old)} -> {_short(new)}"]
            words = [f"removed {_short(item)}" for item in removed] + [f"added {_short(item)}" for item in added]
            return [f"{where}: {', '.join(words)}"]
    return [f"{where}: {_short(old)} -> {_short(new)}"]


def _sheet_differences(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for before, after in zip(old, new, strict=False):
        name = after["sheet"]
        if before["sheet"] != name:
            found.append(f"sheet {before['sheet']!r} renamed {name!r}")
        rest_before = {k: v for k, v in before.items() if k != "sheet"}
        rest_after = {k: v for k, v in after.items() if k != "sheet"}
        found.extend(layout_differences(rest_before, rest_after, f"sheet {name!r}"))
    found.extend(f"sheet {item['sheet']!r} removed" for item in old[len(new) :])
    found.extend(f"sheet {item['sheet']!r} added" for item in new[len(old) :])
    return found


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if isinstance(value, str) else canonical_json(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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

    def serves_reference(self, http: HttpClient) -> bool:
        """Whether a reference-only URL is answered here: a path under `base_url` that only the reference snapshot
        serves (a file compiled from the paper, or an endpoint no public client was seen calling; the registry names
        such options `reference_...`). It is in a replay (`not http.live`) and from a stand-in serving the snapshot's
        recordings (UNIONSTAT_<SOURCE>_BASE_URL is set); against the publisher itself it is not, and the connector
        raises NotConfigured with the registry's reason instead of requesting it (never a 404)."""
        return not http.live or self.name in self.settings.base_urls

    def refuse_unless_served(self, http: HttpClient, dataset: str, option: str, what: str, reason: str) -> None:
        """Raise NotConfigured for a dataset at a reference-only address (`option`) unless it is served here
        (`serves_reference`): nothing is requested from the publisher, and the registry's option `reason` says why."""
        if self.serves_reference(http):
            return
        raise NotConfigured(
            self.name,
            dataset,
            "options",
            f"{what} that public clients call ({option} is served only by the reference snapshot)",
            self.config.options[reason],
        )

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

    def layout(self, path: Path, meta: SnapshotMeta) -> SnapshotLayout | None:
        """The structure of a stored snapshot this connector loads (`path` is its stored file): what its parser
        reads, described without values (see SnapshotLayout). Computed at load time and stored with the snapshot in
        raw.snapshot_layouts; `unionstat dq` compares a subject's newest fingerprint with the one before. None: the
        connector describes no layout (a test checks every registered connector describes its recordings)."""
        return None

    def recognise_import(self, path: Path) -> ImportedFile | None:
        """If the file at `path` is one of this publisher's download formats, describe it; else None. Read only
        what deciding needs (the import stores the file itself, in chunks: a large file is never held whole)."""
        return None

    def load_native(self, con: duckdb.DuckDBPyConnection, path: Path, meta: SnapshotMeta) -> NativeLoad | None:
        """Insert this snapshot's raw rows with DuckDB reading the stored file itself (the fast path for big
        files), returning the table and row count; None sends the snapshot through `parse` instead."""
        return None

    def unload(self, con: duckdb.DuckDBPyConnection, table: str, sha256: str) -> None:
        """Take back a snapshot's rows from `table` (a source whose load stopped keeps none of this run's rows)."""
        con.execute(f"delete from {table} where snapshot_sha256 = ?", [sha256])  # noqa: S608
