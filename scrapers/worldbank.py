"""World Bank Indicators API (JSON, paginated) and its bulk-CSV download: every quirk in one module."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from scrapers.base import Capture, Connector, ImportedFile, Previous, SnapshotMeta
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
NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


class WorldBank(Connector):
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
        lastupdated date,
        primary key (snapshot_sha256, row_number)
    )
    """

    # -- fetch: copy pages as sent -------------------------------------------------------------
    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        captures: list[Capture] = []
        page, pages = 1, 1
        while page <= pages:
            url = self.page_url(dataset, page)
            prev = previous.get(url)
            fetched = http.get(
                self.name,
                url,
                etag=prev.etag if prev else None,
                last_modified=prev.last_modified if prev else None,
            )
            if fetched.not_modified:
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
    def recognise_import(self, path: Path, body: bytes) -> ImportedFile | None:
        try:
            text, member = _bulk_csv_text(self.name, str(path), body)
        except ParseError:
            return None
        preamble = _bulk_preamble(self.name, str(path), text)
        frame = parse_bulk_csv(self.name, str(path), body)
        codes = sorted(frame["indicator_id"].unique())
        content_type = "application/zip" if member else "text/csv"
        return ImportedFile(";".join(codes), preamble["release_date"], content_type, body)


CONNECTOR = WorldBank


def parse_bulk_csv(source: str, location: str, body: bytes) -> pd.DataFrame:
    """The bulk CSV: BOM, four preamble lines, a wide header of years, a trailing empty column."""
    text, _ = _bulk_csv_text(source, location, body)
    preamble = _bulk_preamble(source, location, text)
    reader = csv.reader(io.StringIO(text))
    lines = list(reader)
    header = lines[preamble["header_line"]]
    while header and header[-1] == "":
        header = header[:-1]
    years = header[4:]
    if not years or not all(y.isdigit() and len(y) == 4 for y in years):
        raise ParseError(source, location, "year columns (YYYY) after 'Indicator Code'", f"{years[:5]}")
    records = []
    for line_no, cells in enumerate(lines[preamble["header_line"] + 1 :], start=preamble["header_line"] + 2):
        if not cells or all(c == "" for c in cells):
            continue
        if len(cells) < len(header):
            raise ParseError(
                source,
                location,
                f"{len(header)} cells per row",
                f"{len(cells)} cells on line {line_no}: truncated?",
            )
        name, code, ind_name, ind_code = cells[:4]
        for year, cell in zip(years, cells[4 : len(header)], strict=True):
            records.append(
                {
                    "indicator_id": ind_code,
                    "indicator_name": ind_name,
                    "country_iso2": None,
                    "countryiso3code": code,
                    "country_name": name,
                    "date": year,
                    "value": _number(source, location, cell if cell != "" else None, line_no),
                    "unit": None,
                    "obs_status": None,
                    "decimal": None,
                    "lastupdated": preamble["release_date"],
                }
            )
    if not records:
        raise ParseError(source, location, "at least one data row after the header", "none")
    return _frame(records)


def _bulk_csv_text(source: str, location: str, body: bytes) -> tuple[str, str | None]:
    member_name: str | None = None
    if body[:2] == b"PK":
        try:
            archive = zipfile.ZipFile(io.BytesIO(body))
        except zipfile.BadZipFile as exc:
            raise ParseError(source, location, "a readable zip archive", str(exc)) from exc
        members = [i for i in archive.infolist() if BULK_CSV_MEMBER.match(Path(i.filename).name)]
        if len(members) != 1:
            names = [i.filename for i in archive.infolist()]
            raise ParseError(source, location, "exactly one API_<code>_DS2_en_csv_v2*.csv member", f"{names}")
        member = members[0]
        if member.file_size > MAX_ARCHIVE_MEMBER_BYTES:
            raise ParseError(
                source,
                location,
                f"a member of at most {MAX_ARCHIVE_MEMBER_BYTES} bytes",
                f"{member.file_size}",
            )
        body = archive.read(member)
        member_name = member.filename
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(source, location, "UTF-8 text", f"undecodable bytes at {exc.start}") from exc
    if not text.startswith('"Data Source"'):
        raise ParseError(source, location, 'a bulk CSV starting with "Data Source"', repr(text[:40]))
    return text, member_name


def _bulk_preamble(source: str, location: str, text: str) -> dict[str, Any]:
    lines = list(csv.reader(io.StringIO(text[:4096])))
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
