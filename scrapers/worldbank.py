"""World Bank Indicators API (JSON, paginated) and its bulk-CSV download: every quirk in one module."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from scrapers.base import (
    Capture,
    Connector,
    ImportedFile,
    NativeLoad,
    Previous,
    SnapshotLayout,
    SnapshotMeta,
    header_shape,
    structural_text,
)
from unionstat.errors import ParseError, SourceError
from unionstat.http import HttpClient

RAW_COLUMNS = [
    "indicator_id",
    "indicator_name",
    "country_iso2",
    "countryiso3code",
    "country_name",
    "date",
    "value",
    "unit",
    "obs_status",
    "decimal",
    "lastupdated",
]
BULK_CSV_MEMBER = re.compile(r"^API_[A-Za-z0-9.]+_DS2_[a-z]{2}_csv_v2(_\d+)?\.csv$")
BULK_HEADER_START = ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]
MAX_ARCHIVE_MEMBER_BYTES = 512 * 1024 * 1024
BULK_HEAD_BYTES = 16 * 1024
COPY_CHUNK_BYTES = 1024 * 1024
BULK_VALUE_ERROR = "bulk-csv: not a number:"
T = TypeVar("T")
NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")
BULK_TABLE = "raw.worldbank_bulk"
COUNTRY_TABLE = "raw.worldbank_countries"
COUNTRY_DATASET = "country_metadata"
#: The bulk zip's country dimension: Metadata_Country_API_<code>_DS2_<lang>_csv_v2_<n>.csv, this header exactly.
COUNTRY_MEMBER = re.compile(r"^Metadata_Country_API_[A-Za-z0-9.]+_DS2_[a-z]{2}_csv_v2(_\d+)?\.csv$")
COUNTRY_HEADER = ["Country Code", "Region", "IncomeGroup", "SpecialNotes", "TableName"]
#: DuckDB's CSV reader on a cell it cannot type: line, column and cell (the message's wording in DuckDB 2.0).
BULK_CONVERSION = re.compile(
    r'CSV Error on Line: (?P<line>\d+).*Error when converting column "(?P<column>[^"]*)"\. '
    r'Could not convert string "(?P<cell>.*?)" to \'DOUBLE\''
)


#: A bulk cell in the long shape of raw.worldbank_observations, from a line (raw.worldbank_bulk), its file's year
#: count and release date, and the cell's position, year (`date`) and value: the select list of both table macros.
BULK_LONG_COLUMNS = """
            snapshot_sha256,
            cast((line_number - 1) * year_count + position as integer) as row_number,
            indicator_code as indicator_id,
            indicator_name,
            cast(null as varchar) as country_iso2,
            country_code as countryiso3code,
            country_name,
            date,
            value,
            cast(null as varchar) as unit,
            cast(null as varchar) as obs_status,
            cast(null as integer) as decimal,
            release_date as lastupdated"""


class WorldBank(Connector):
    #: API pages parse into raw.worldbank_observations, one row per observation. A bulk CSV is loaded as published
    #: (ELT): raw.worldbank_bulk holds one row per data line with the year cells as a DOUBLE list typed by DuckDB's
    #: CSV reader, raw.worldbank_bulk_files the years and release date of each file once. The table macro
    #: raw.worldbank_bulk_rows(shas, loaded) gives the lines of the snapshots in `shas` (or, with loaded = false,
    #: of every other snapshot) in the long shape of raw.worldbank_observations: the one place the year cells are
    #: unnested. Validation reads it for the new snapshots; the view raw.worldbank_bulk_observations (every
    #: snapshot) is the dbt source staging reads; parse_bulk_csv reads it for one file.
    #: raw.worldbank_bulk_changed_rows(shas) gives, in the same shape, only the cells of `shas` that no other
    #: snapshot holds with the same indicator, country, year and value: each line is compared with the other
    #: snapshots' lines of its indicator and country, year by year, and only the differing cells are unnested.
    #: Validation checks a new release by them (the anti-join of every unnested cell finds the same rows: tested).
    #: raw.worldbank_bulk_predecessors(shas) names, for each snapshot in `shas` and indicator, its predecessor: the
    #: one bulk snapshot released last before it holding the indicator (none when two were released that day, or
    #: either has two lines of a country); raw.worldbank_bulk_revised_rows(shas) gives the cells of those indicators'
    #: lines that differ from the predecessor's line (every cell of a line it lacks or names otherwise), with the
    #: predecessor's hash. int_observations__vintaged compares only those with the figures it holds when the
    #: predecessor is the release it took in last: every other cell repeats that release's value. A caller that
    #: knows the predecessors (int_observations__taken_in records them) names them, predecessor_shas := [...]: no
    #: other release's lines are read (at 10M observations 0.5 s instead of 0.8 s); a predecessor left out of that
    #: list has no lines to compare with, so every cell of its indicators counts as revised (more rows, none lost).
    raw_ddl = """
    create table if not exists raw.worldbank_observations (
        snapshot_sha256 varchar not null,
        row_number integer not null,
        indicator_id varchar not null,
        indicator_name varchar,
        country_iso2 varchar,
        countryiso3code varchar not null,
        country_name varchar,
        date varchar not null,
        value double,
        unit varchar,
        obs_status varchar,
        decimal integer,
        lastupdated date
    );
    create table if not exists raw.worldbank_bulk (
        snapshot_sha256 varchar not null,
        line_number integer not null,
        country_name varchar,
        country_code varchar not null,
        indicator_name varchar,
        indicator_code varchar not null,
        year_values double[] not null
    );
    create table if not exists raw.worldbank_countries (
        snapshot_sha256 varchar not null,
        row_number integer not null,
        country_code varchar not null,
        region varchar,
        income_group varchar,
        special_notes varchar,
        table_name varchar
    );
    create table if not exists raw.worldbank_bulk_files (
        snapshot_sha256 varchar not null,
        years varchar[] not null,
        release_date date not null
    );
    create or replace macro raw.worldbank_bulk_rows(shas, loaded) as table
        select {long_columns}
        from (
            select
                line.*,
                len(file.years) as year_count,
                file.release_date,
                unnest(line.year_values) as value,
                unnest(file.years) as date,
                unnest(range(1, len(line.year_values) + 1)) as position
            from raw.worldbank_bulk as line
            inner join raw.worldbank_bulk_files as file on line.snapshot_sha256 = file.snapshot_sha256
            where list_contains(shas, line.snapshot_sha256) = loaded
        );
    create or replace macro raw.worldbank_bulk_changed_rows(shas) as table
        with file_pair as (
            -- a loaded file beside each earlier one: where each year of the loaded file is in the earlier
            select
                new.snapshot_sha256 as new_sha256,
                old.snapshot_sha256 as old_sha256,
                list_transform(new.years, lambda year: list_position(old.years, year)) as old_position
            from raw.worldbank_bulk_files as new
            cross join raw.worldbank_bulk_files as old
            where list_contains(shas, new.snapshot_sha256) and not list_contains(shas, old.snapshot_sha256)
        ),
        held as (
            -- a loaded line beside every earlier line of its indicator and country: the positions where each of
            -- them lacks the year or has another value (their intersection: cells no earlier line holds)
            select
                new.snapshot_sha256,
                new.line_number,
                list_reduce(
                    list(list_filter(range(1, len(new.year_values) + 1), lambda i:
                        pair.old_position[i] is null
                        or new.year_values[i] is distinct from old.year_values[pair.old_position[i]])),
                    lambda a, b: list_intersect(a, b)
                ) as positions
            from raw.worldbank_bulk as new
            inner join file_pair as pair on new.snapshot_sha256 = pair.new_sha256
            inner join raw.worldbank_bulk as old
                on
                    pair.old_sha256 = old.snapshot_sha256
                    and new.indicator_code = old.indicator_code
                    and new.country_code = old.country_code
            group by new.snapshot_sha256, new.line_number
        ),
        cell as (
            -- lines no earlier line matches: every position
            select line.*, unnest(coalesce(held.positions, range(1, len(line.year_values) + 1))) as position
            from raw.worldbank_bulk as line
            left join held on line.snapshot_sha256 = held.snapshot_sha256 and line.line_number = held.line_number
            where list_contains(shas, line.snapshot_sha256)
        )
        select {long_columns}
        from (
            select
                cell.*,
                len(file.years) as year_count,
                file.release_date,
                cell.year_values[cell.position] as value,
                file.years[cell.position] as date
            from cell
            inner join raw.worldbank_bulk_files as file on cell.snapshot_sha256 = file.snapshot_sha256
        );
    create or replace macro raw.worldbank_bulk_predecessors(shas) as table
        with indicator_file as (
            -- each bulk snapshot's indicators, its release, and whether it has one line per country of each
            select
                line.snapshot_sha256,
                line.indicator_code,
                file.release_date,
                count(*) = count(distinct line.country_code) as one_line_per_country
            from raw.worldbank_bulk as line
            inner join raw.worldbank_bulk_files as file on line.snapshot_sha256 = file.snapshot_sha256
            group by line.snapshot_sha256, line.indicator_code, file.release_date
        ),
        candidate as (
            select
                later.snapshot_sha256,
                later.indicator_code,
                earlier.snapshot_sha256 as predecessor_sha256,
                later.one_line_per_country and earlier.one_line_per_country as comparable,
                count(*) over (
                    partition by later.snapshot_sha256, later.indicator_code, earlier.release_date
                ) as released_that_day,
                rank() over (
                    partition by later.snapshot_sha256, later.indicator_code order by earlier.release_date desc
                ) as recency
            from indicator_file as later
            inner join indicator_file as earlier
                on later.indicator_code = earlier.indicator_code and earlier.release_date < later.release_date
            where list_contains(shas, later.snapshot_sha256)
        )
        select snapshot_sha256, indicator_code, predecessor_sha256
        from candidate
        where recency = 1 and released_that_day = 1 and comparable;
    create or replace macro raw.worldbank_bulk_revised_rows(shas, predecessor_shas := null) as table
        with pair as (
            -- a snapshot's indicator beside its predecessor: where each year of the snapshot is in the predecessor
            select
                predecessor.*,
                list_transform(file.years, lambda year: list_position(earlier.years, year)) as earlier_position
            from raw.worldbank_bulk_predecessors(shas) as predecessor
            inner join raw.worldbank_bulk_files as file on predecessor.snapshot_sha256 = file.snapshot_sha256
            inner join raw.worldbank_bulk_files as earlier on predecessor.predecessor_sha256 = earlier.snapshot_sha256
        ),
        compared as (
            -- the positions where a line differs from its predecessor's line of the same indicator and country:
            -- every position when that line is missing or names the country or the indicator otherwise
            select
                line.snapshot_sha256,
                line.line_number,
                line.country_name,
                line.country_code,
                line.indicator_name,
                line.indicator_code,
                line.year_values,
                pair.predecessor_sha256,
                case
                    when
                        earlier.line_number is null
                        or line.country_name is distinct from earlier.country_name
                        or line.indicator_name is distinct from earlier.indicator_name
                        then range(1, len(line.year_values) + 1)
                    else list_filter(range(1, len(line.year_values) + 1), lambda i:
                        pair.earlier_position[i] is null
                        or line.year_values[i] is distinct from earlier.year_values[pair.earlier_position[i]])
                end as positions
            -- each side filtered by a list as it is read: the join never carries the other releases' lines
            from (select * from raw.worldbank_bulk where list_contains(shas, snapshot_sha256)) as line
            inner join pair
                on line.snapshot_sha256 = pair.snapshot_sha256 and line.indicator_code = pair.indicator_code
            left join (
                select * from raw.worldbank_bulk
                where predecessor_shas is null or list_contains(predecessor_shas, snapshot_sha256)
            ) as earlier
                on
                    pair.predecessor_sha256 = earlier.snapshot_sha256
                    and line.indicator_code = earlier.indicator_code
                    and line.country_code = earlier.country_code
        )
        select {long_columns}, predecessor_sha256
        from (
            select
                cell.*,
                len(file.years) as year_count,
                file.release_date,
                file.years[cell.position] as date
            from (
                select
                    compared.* exclude (year_values, positions),
                    unnest(compared.positions) as position,
                    unnest(list_transform(compared.positions, lambda i: compared.year_values[i])) as value
                from compared
                where len(compared.positions) > 0
            ) as cell
            inner join raw.worldbank_bulk_files as file on cell.snapshot_sha256 = file.snapshot_sha256
        );
    create or replace view raw.worldbank_bulk_observations as
        select * from raw.worldbank_bulk_rows(cast([] as varchar[]), false);
    """.replace("{long_columns}", BULK_LONG_COLUMNS)

    # -- fetch: copy pages as sent -------------------------------------------------------------
    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        captures: list[Capture] = []
        page, pages = 1, 1
        while page <= pages:
            fetched = self.get_if_changed(http, self.page_url(dataset, page), previous)
            if fetched is None:
                if page == 1:
                    return []  # the first page unchanged: the release is unchanged
                page += 1
                continue
            header = self.page_header(fetched.body, fetched.url)
            pages = int(header.get("pages") or 0)
            captures.append(Capture(dataset, fetched, _release_date(header.get("lastupdated"))))
            page += 1
        return captures

    def page_url(self, dataset: str, page: int) -> str:
        opts = self.config.options
        return (
            f"{self.base_url}/v2/country/{opts['countries']}/indicator/{dataset}"
            f"?format=json&date={opts['date']}&per_page={opts['per_page']}&page={page}"
        )

    def page_header(self, body: bytes, url: str) -> dict[str, Any]:
        """The page envelope: [header, rows]. Errors come back as HTTP 200 with a message body."""
        payload = _json(self.name, url, body)
        if isinstance(payload, list) and payload and isinstance(payload[0], dict) and "message" in payload[0]:
            messages = "; ".join(
                f"{m.get('id')} {m.get('key')}: {m.get('value')}" for m in payload[0]["message"] if isinstance(m, dict)
            )
            raise SourceError(self.name, url, "an indicator page [header, rows]", f"API error body: {messages}")
        if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], dict)):
            raise ParseError(self.name, url, "a JSON array [header, rows]", _describe(payload))
        header = payload[0]
        for key in ("page", "pages", "lastupdated"):
            if key not in header:
                raise ParseError(self.name, url, f"page header field {key!r}", f"fields {sorted(header)}")
        return header

    # -- parse: stored bytes to raw rows ---------------------------------------------------------
    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        if meta.request_url.startswith("file:") or body[:2] == b"PK" or body.lstrip(b"\xef\xbb\xbf")[:1] == b'"':
            return parse_bulk_csv(self.name, meta.request_url, body)
        return self.parse_api_page(body, meta.request_url)

    def parse_api_page(self, body: bytes, url: str) -> pd.DataFrame:
        header = self.page_header(body, url)
        rows = json.loads(body)[1]
        if not rows:
            raise ParseError(self.name, url, "at least one observation row", "an empty page (rows: null or [])")
        lastupdated = _release_date(header.get("lastupdated"))
        records = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ParseError(self.name, url, "an object per observation", f"row {index}: {_describe(row)}")
            for field in ("indicator", "countryiso3code", "date", "value"):
                if field not in row:
                    raise ParseError(self.name, url, f"field {field!r} in every row", f"row {index} lacks it")
            indicator: dict[str, Any] = row["indicator"] if isinstance(row["indicator"], dict) else {}
            country: dict[str, Any] = row["country"] if isinstance(row.get("country"), dict) else {}
            if not indicator.get("id") or not row["countryiso3code"] or not str(row["date"]).strip():
                raise ParseError(
                    self.name,
                    url,
                    "indicator.id, countryiso3code and date in every row",
                    f"row {index}: {row}",
                )
            records.append(
                {
                    "indicator_id": indicator["id"],
                    "indicator_name": indicator.get("value"),
                    "country_iso2": country.get("id"),
                    "countryiso3code": row["countryiso3code"],
                    "country_name": country.get("value"),
                    "date": str(row["date"]),
                    "value": _number(self.name, url, row["value"], index),
                    "unit": row.get("unit") or None,
                    "obs_status": row.get("obs_status") or None,
                    "decimal": row.get("decimal"),
                    "lastupdated": lastupdated,
                }
            )
        return _frame(records)

    # -- import: bulk CSV files downloaded by hand ---------------------------------------------
    import_formats = (
        "a World Bank bulk CSV (API_<code>_DS2_en_csv_v2*.csv), the zip that holds it, or its Metadata_Country CSV"
    )

    def recognise_import(self, path: Path) -> ImportedFile | None:
        with open(path, "rb") as handle:
            head = handle.read(BULK_HEAD_BYTES)
        if head[:2] != b"PK" and _country_header(head):
            return ImportedFile(COUNTRY_DATASET, None, "text/csv")
        with tempfile.TemporaryDirectory(prefix="unionstat-bulk-") as scratch:
            try:
                bulk = BulkCsv.open(self.name, str(path), path, Path(scratch))
            except ParseError:
                return None
            con = duckdb.connect(config=self.settings.duckdb_config())
            try:
                codes = bulk.run(lambda sql: con.sql(sql).fetchall(), bulk.indicator_codes_sql())
            finally:
                con.close()
        content_type = "application/zip" if head[:2] == b"PK" else "text/csv"
        return ImportedFile(";".join(code for (code,) in codes), bulk.release_date, content_type)

    # -- load: DuckDB reads a stored bulk CSV itself ----------------------------------------------
    def load_native(self, con: duckdb.DuckDBPyConnection, path: Path, meta: SnapshotMeta) -> NativeLoad | None:
        """Bulk CSVs (and their zips) go straight from the stored file into raw.worldbank_bulk, wide as published;
        API pages parse. The row count recorded is the observations (lines x years), as staging returns them."""
        with open(path, "rb") as handle:
            head = handle.read(BULK_HEAD_BYTES)
        if meta.dataset == COUNTRY_DATASET or (head[:2] != b"PK" and _country_header(head)):
            return NativeLoad(COUNTRY_TABLE, insert_countries(con, self.name, meta.request_url, path, meta.sha256))
        if not (meta.request_url.startswith("file:") or head[:2] == b"PK" or head.lstrip(b"\xef\xbb\xbf")[:1] == b'"'):
            return None
        with tempfile.TemporaryDirectory(prefix="unionstat-bulk-") as scratch:
            bulk = BulkCsv.open(self.name, meta.request_url, path, Path(scratch))
            lines = bulk.insert(con, meta.sha256)
            countries = (
                _zip_member(self.name, meta.request_url, path, Path(scratch), COUNTRY_MEMBER, required=False)
                if head[:2] == b"PK"
                else None
            )
            if countries is not None:  # the zip's country dimension travels with its data
                insert_countries(con, self.name, meta.request_url, countries, meta.sha256)
        return NativeLoad(BULK_TABLE, lines * len(bulk.years))

    # -- layout: what the parser reads, without values -------------------------------------------
    def layout(self, path: Path, meta: SnapshotMeta) -> SnapshotLayout:
        """A bulk CSV: its preamble keys and header row (the year columns as one run); a zip: its members' names
        (release numbers as 9) and its data CSV's layout; the country metadata: its header; an API page: the
        envelope's keys and every row's keys (nested ones as indicator.id). The subject is the dataset, with
        "(zip)" or "(api)" for those forms: a zip and a CSV of one table are two forms, not a layout change."""
        with open(path, "rb") as handle:
            head = handle.read(BULK_HEAD_BYTES)
        if meta.dataset == COUNTRY_DATASET or (head[:2] != b"PK" and _country_header(head)):
            return SnapshotLayout(meta.dataset, {"format": "country metadata csv", "header": _csv_rows(head)[0]})
        if head[:2] == b"PK":
            with zipfile.ZipFile(path) as archive:
                names = [Path(info.filename).name for info in archive.infolist()]
                member = next((n for n in archive.namelist() if BULK_CSV_MEMBER.match(Path(n).name)), None)
                data = archive.open(member).read(BULK_HEAD_BYTES) if member else b""
            described = {"format": "bulk zip", "members": sorted({str(structural_text(name)) for name in names})}
            return SnapshotLayout(f"{meta.dataset} (zip)", {**described, "data": bulk_csv_layout(data)})
        if meta.request_url.startswith("file:") or head.lstrip(b"\xef\xbb\xbf")[:1] == b'"':
            return SnapshotLayout(meta.dataset, bulk_csv_layout(head))
        return SnapshotLayout(f"{meta.dataset} (api)", api_page_layout(path.read_bytes()))

    def unload(self, con: duckdb.DuckDBPyConnection, table: str, sha256: str) -> None:
        super().unload(con, table, sha256)
        if table == BULK_TABLE:
            con.execute("delete from raw.worldbank_bulk_files where snapshot_sha256 = ?", [sha256])
            con.execute(f"delete from {COUNTRY_TABLE} where snapshot_sha256 = ?", [sha256])  # noqa: S608


CONNECTOR = WorldBank


def parse_bulk_csv(source: str, location: str, body: bytes) -> pd.DataFrame:
    """The bulk CSV (or the zip holding it) as long raw rows, loaded as the warehouse loads it and unnested by
    raw.worldbank_bulk_rows; for small files and tests."""
    sha = "parse_bulk_csv"
    with tempfile.TemporaryDirectory(prefix="unionstat-bulk-") as scratch:
        given = Path(scratch) / "given"
        given.write_bytes(body)
        bulk = BulkCsv.open(source, location, given, Path(scratch))
        con = duckdb.connect()
        try:
            con.execute("create schema raw")
            con.execute(WorldBank.raw_ddl)
            bulk.insert(con, sha)
            columns = ", ".join(RAW_COLUMNS)
            rows = f"select {columns} from raw.worldbank_bulk_rows(['{sha}'], true) order by row_number"  # noqa: S608
            records = _records(con.sql(rows))
        finally:
            con.close()
    return _frame(records)


def bulk_csv_layout(head: bytes) -> dict[str, Any]:
    """The preamble's keys (its lines' first cells) and the header row as `header_shape` keeps it."""
    if len(head) == BULK_HEAD_BYTES:
        head = head[: head.rfind(b"\n") + 1]
    rows = _csv_rows(head)
    index = next((i for i, cells in enumerate(rows) if cells[:4] == BULK_HEADER_START), len(rows))
    preamble = [cells[0] for cells in rows[:index] if cells and cells[0]]
    header = rows[index] if index < len(rows) else []
    return {"format": "bulk csv", "preamble_keys": preamble, "header": header_shape(header)}


def api_page_layout(body: bytes) -> dict[str, Any]:
    """An API page's envelope keys and the keys of its rows (a nested object's as parent.child), every row's."""
    payload = json.loads(body)
    envelope = sorted(payload[0]) if isinstance(payload, list) and payload and isinstance(payload[0], dict) else []
    rows = payload[1] if isinstance(payload, list) and len(payload) > 1 and isinstance(payload[1], list) else []
    keys: set[str] = set()
    for row in rows:
        for key, value in row.items() if isinstance(row, dict) else ():
            keys.update([key, *(f"{key}.{inner}" for inner in value)] if isinstance(value, dict) else [key])
    return {"format": "api page", "envelope": envelope, "row_keys": sorted(keys)}


def _csv_rows(head: bytes) -> list[list[str]]:
    """The first lines of a CSV as cells (BOM dropped, line endings alike), trailing empty cells dropped."""
    text = head.decode("utf-8-sig", errors="replace")
    rows = []
    for cells in csv.reader(io.StringIO(text, newline="")):
        while cells and cells[-1] == "":
            cells = cells[:-1]
        rows.append(cells)
    return rows or [[]]


@dataclass(frozen=True)
class BulkCsv:
    """A bulk CSV on disk (a zip's data member extracted beside it), its preamble checked, ready for DuckDB."""

    source: str
    location: str
    path: Path
    skip_lines: int
    columns: tuple[str, ...]
    years: tuple[str, ...]
    release_date: date

    @classmethod
    def open(cls, source: str, location: str, path: Path, scratch: Path) -> BulkCsv:
        csv_path = _bulk_member(source, location, path, scratch)
        with open(csv_path, "rb") as handle:
            head = handle.read(BULK_HEAD_BYTES)
        if len(head) == BULK_HEAD_BYTES:
            head = head[: head.rfind(b"\n") + 1]  # whole lines only: never a cut multi-byte character
        try:
            text = head.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ParseError(source, location, "UTF-8 text", f"undecodable bytes at {exc.start}") from exc
        if not text.startswith('"Data Source"'):
            raise ParseError(source, location, 'a bulk CSV starting with "Data Source"', repr(text[:40]))
        preamble = _bulk_preamble(source, location, text)
        raw_header = next(csv.reader(io.StringIO(text.splitlines()[preamble["header_line"]])))
        header = list(raw_header)
        while header and header[-1] == "":
            header = header[:-1]
        years = header[4:]
        if not years or not all(y.isdigit() and len(y) == 4 for y in years):
            raise ParseError(source, location, "year columns (YYYY) after 'Indicator Code'", f"{years[:5]}")
        if len(set(years)) != len(years):
            raise ParseError(source, location, "each year column once", f"{years}")
        names = ["country_name", "country_code", "indicator_name", "indicator_code", *years]
        names += [f"trailing_{i}" for i in range(len(raw_header) - len(header))]
        return cls(
            source,
            location,
            csv_path,
            preamble["header_line"] + 1,
            tuple(names),
            tuple(years),
            preamble["release_date"],
        )

    def insert(self, con: duckdb.DuckDBPyConnection, sha256: str) -> int:
        """Insert this file's data lines into raw.worldbank_bulk and its years into raw.worldbank_bulk_files;
        the number of lines. DuckDB's reader types the year cells (DOUBLE): a cell that is not a number is its
        conversion error, and a NaN or infinity is refused here; both become a ParseError naming the file."""
        years = ", ".join(f'"{y}"' for y in self.years)
        message = f"{BULK_VALUE_ERROR} ".replace("'", "''")
        # Only validated parts are spliced in: an escaped path, four-digit years. Each cell times 0 sums to 0 (or
        # null) unless a cell is NaN or infinite.
        sql = f"""
        insert into raw.worldbank_bulk
        select
            $sha as snapshot_sha256,
            line_number,
            country_name,
            country_code,
            indicator_name,
            indicator_code,
            case
                when isnan(list_sum(list_transform(year_values, lambda cell: cell * 0)))
                    then error('{message}' || 'NaN or infinity (file line ' || (line_number + {self.skip_lines}) || ')')
                else year_values
            end as year_values
        from (
            select row_number() over () as line_number, *, [{years}] as year_values
            from {self.read_csv_sql(typed=True)}
        )
        where coalesce(country_name, country_code, indicator_name, indicator_code) is not null
        """  # noqa: S608
        row = self.run(lambda text: con.execute(text, {"sha": sha256}).fetchone(), sql)
        lines = int(row[0]) if row else 0
        if lines == 0:
            raise ParseError(self.source, self.location, "at least one data row after the header", "none")
        con.execute(
            "insert into raw.worldbank_bulk_files values (?, ?, ?)", [sha256, list(self.years), self.release_date]
        )
        return lines

    def read_csv_sql(self, typed: bool = False) -> str:
        """DuckDB's reader over the data lines, the exact column count enforced: every column text, or (typed)
        the year columns DOUBLE."""
        path = str(self.path).replace("'", "''")
        numbers = set(self.years) if typed else set()
        columns = ", ".join(f"'{name}': '{'DOUBLE' if name in numbers else 'VARCHAR'}'" for name in self.columns)
        return f"""read_csv('{path}', skip = {self.skip_lines}, header = false, auto_detect = false,
            delim = ',', quote = '"', escape = '"', strict_mode = true, null_padding = false,
            columns = {{{columns}}})"""

    def indicator_codes_sql(self) -> str:
        return f"select distinct indicator_code from {self.read_csv_sql()} where indicator_code is not null order by 1"  # noqa: S608

    def run(self, execute: Callable[[str], T], sql: str) -> T:
        """Run SQL over this file; DuckDB's own errors become ParseErrors naming the file and what was expected."""
        try:
            return execute(sql)
        except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException):
            raise  # the query is wrong, not the file
        except duckdb.Error as exc:
            raise self.parse_error(exc) from exc

    def parse_error(self, exc: duckdb.Error) -> ParseError:
        message = " ".join(str(exc).split())
        expected_value = "a number or an empty cell as value"
        if BULK_VALUE_ERROR in message:
            found = message.split(BULK_VALUE_ERROR, 1)[1].strip()
            return ParseError(self.source, self.location, expected_value, found[:200])
        cell = BULK_CONVERSION.search(message)
        if cell:
            found = f"{cell['cell']!r} in column {cell['column']} (file line {cell['line']})"
            return ParseError(self.source, self.location, expected_value, found[:200])
        lowered = message.lower()
        if "columns" in lowered:
            return ParseError(
                self.source,
                self.location,
                f"{len(self.columns)} cells per row",
                f"another count (truncated?): {message[:300]}",
            )
        if "unicode" in lowered or "utf-8" in lowered or "utf8" in lowered:
            return ParseError(self.source, self.location, "UTF-8 text", message[:300])
        return ParseError(self.source, self.location, "a well-formed bulk CSV", message[:300])


def insert_countries(con: duckdb.DuckDBPyConnection, source: str, location: str, path: Path, sha256: str) -> int:
    """A Metadata_Country CSV into raw.worldbank_countries, every row as published (text; notes may span lines)."""
    with open(path, "rb") as handle:
        head = handle.read(BULK_HEAD_BYTES)
    if not _country_header(head):
        raise ParseError(source, location, f"a country metadata CSV with the header {COUNTRY_HEADER}", repr(head[:80]))
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(COUNTRY_HEADER) + 1))
    quoted = str(path).replace("'", "''")
    sql = f"""
    insert into {COUNTRY_TABLE}
    select $sha, cast(row_number() over () as integer), c0, nullif(c1, ''), nullif(c2, ''), nullif(c3, ''), c4
    from read_csv('{quoted}', skip = 1, header = false, auto_detect = false, delim = ',', quote = '"', escape = '"',
                  strict_mode = true, null_padding = false, columns = {{{columns}}})
    where c0 is not null
    """  # noqa: S608
    try:
        row = con.execute(sql, {"sha": sha256}).fetchone()
    except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException):
        raise
    except duckdb.Error as exc:
        message = " ".join(str(exc).split())[:300]
        raise ParseError(
            source, location, f"{len(COUNTRY_HEADER)} cells and a trailing comma per row", message
        ) from exc
    rows = int(row[0]) if row else 0
    if rows == 0:
        raise ParseError(source, location, "at least one country row after the header", "none")
    return rows


def _country_header(head: bytes) -> bool:
    """Whether these first bytes open a Metadata_Country CSV (its header row, BOM or not)."""
    first = head.decode("utf-8-sig", errors="replace").split("\n", 1)[0].rstrip("\r")
    try:
        cells = next(csv.reader(io.StringIO(first, newline="")), [])
    except csv.Error:  # not a CSV line at all
        return False
    return cells[: len(COUNTRY_HEADER)] == COUNTRY_HEADER


def _records(relation: duckdb.DuckDBPyRelation) -> list[dict[str, Any]]:
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def _bulk_member(source: str, location: str, path: Path, scratch: Path) -> Path:
    """The CSV itself, or the zip's one data member streamed (size-capped) to a fixed name in `scratch`."""
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic != b"PK":
        return path
    member = _zip_member(source, location, path, scratch, BULK_CSV_MEMBER, required=True)
    assert member is not None  # required=True raises instead
    return member


def _zip_member(
    source: str, location: str, path: Path, scratch: Path, pattern: re.Pattern[str], required: bool
) -> Path | None:
    """The zip's one member named like `pattern`, streamed (size-capped) to a fixed name in `scratch`; None when
    there is none and it is not required."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ParseError(source, location, "a readable zip archive", str(exc)) from exc
    with archive:
        members = [i for i in archive.infolist() if pattern.match(Path(i.filename).name)]
        if not members and not required:
            return None
        if len(members) != 1:
            names = [i.filename for i in archive.infolist()]
            what = "API_<code>_DS2_en_csv_v2*.csv" if pattern is BULK_CSV_MEMBER else "Metadata_Country_API_*.csv"
            raise ParseError(source, location, f"exactly one {what} member", f"{names}")
        member = members[0]
        cap = f"a member of at most {MAX_ARCHIVE_MEMBER_BYTES} bytes"
        if member.file_size > MAX_ARCHIVE_MEMBER_BYTES:
            raise ParseError(source, location, cap, f"{member.file_size}")
        # never the member's own name: it cannot point outside `scratch`
        target = scratch / ("bulk-member.csv" if pattern is BULK_CSV_MEMBER else "zip-member.csv")
        written = 0
        try:
            with archive.open(member) as data, open(target, "wb") as out:
                while chunk := data.read(COPY_CHUNK_BYTES):
                    written += len(chunk)
                    if written > MAX_ARCHIVE_MEMBER_BYTES:
                        raise ParseError(source, location, cap, "more once decompressed")
                    out.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise ParseError(source, location, "a readable zip member", str(exc)) from exc
    return target


def _bulk_preamble(source: str, location: str, text: str) -> dict[str, Any]:
    lines = list(csv.reader(io.StringIO(text[:BULK_HEAD_BYTES])))
    release: date | None = None
    for index, cells in enumerate(lines):
        if cells[:1] == ["Last Updated Date"] and len(cells) > 1:
            release = _release_date(cells[1])
        if cells[:4] == BULK_HEADER_START:
            if release is None:
                raise ParseError(source, location, '"Last Updated Date" in the preamble', "none")
            return {"header_line": index, "release_date": release}
    raise ParseError(source, location, f"a header row starting {BULK_HEADER_START}", "none in the first lines")


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=RAW_COLUMNS)
    frame["value"] = frame["value"].astype("float64")
    frame["decimal"] = frame["decimal"].astype("Int64")
    return frame


def _number(source: str, location: str, value: Any, index: int) -> float | None:
    """Values are numbers, null, or (in older answers) numeric strings."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError(source, location, "a number or null as value", f"{value!r} at row {index}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and NUMBER.match(value.strip()):
        return float(value)
    raise ParseError(source, location, "a number or null as value", f"{value!r} at row {index}")


def _release_date(text: Any) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError as exc:
        raise ParseError("worldbank", "lastupdated", "a date YYYY-MM-DD", repr(text)) from exc


def _json(source: str, url: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(source, url, "a JSON body", f"{_sniff(body)} ({exc})") from exc


def _sniff(body: bytes) -> str:
    head = body[:200].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if head.startswith(b"<?xml") or head.startswith(b"<wb:"):
        return "XML (was format=json dropped?)"
    if not head:
        return "an empty body"
    return repr(body[:60])


def _describe(value: Any) -> str:
    text = json.dumps(value)[:120] if not isinstance(value, bytes) else repr(value[:120])
    return f"{type(value).__name__} {text}"
