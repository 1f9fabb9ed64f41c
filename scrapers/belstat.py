"""Belstat (National Statistical Committee of Belarus): XLSX workbooks and HTML tables, every quirk in one module."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pandas as pd
from bs4 import BeautifulSoup, Tag

from scrapers.base import WORKBOOK_ERRORS, Capture, Connector, ImportedFile, Previous, SnapshotMeta
from unionstat.errors import ParseError
from unionstat.http import HttpClient

RAW_COLUMNS = [
    "dataset",
    "reporter_iso3",
    "partner_iso3",
    "period",
    "value",
    "value_text",
    "value_symbol",
    "unit",
    "investment_scope",
    "investment_measure",
    "row_label",
    "column_label",
    "cell_ref",
    "table_title",
    "table_notes",
    "file_format",
    "text_encoding",
    "release_date",
]
KINDS = ("trade", "investment")
#: A year column header: "2021", "2021 г.", "2021г" (numbers stored as numbers arrive as 2021).
YEAR = re.compile(r"^((?:19|20)\d{2})(?:\.0)?\s*(?:г\.?|год)?$")
#: The header a compiled table uses where its source states no year (the reference snapshot only).
PERIOD_NOT_STATED = "год не указан"
#: Numbers as Belstat prints them: spaces or NBSP as thousands separators, a comma as the decimal mark.
NUMBER = re.compile(r"^[-−]?\d{1,3}(?:[ \u00a0\u202f]?\d{3})*(?:[.,]\d+)?$|^[-−]?\d+(?:[.,]\d+)?$")
#: Belstat's conventional symbols in a data cell: no phenomenon, data not available, not meaningful.
SYMBOLS = {"-": "-", "–": "-", "—": "-", "…": "...", "...": "...", "х": "x", "x": "x"}
FOOTNOTE_MARK = re.compile(r"\s*(?:\d\)|\*+)$")
MAX_XLSX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
IMPORT_SUFFIXES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".html": "text/html",
    ".htm": "text/html",
}
HTML_START = (b"<!doctype html", b"<html", b"<table", b"<?xml", b"<head", b"<body")


@dataclass(frozen=True)
class Cell:
    """One cell of the table grid: its text or number, and where it sits in the file."""

    value: str | float | None
    ref: str


@dataclass(frozen=True)
class Table:
    """A publisher table as a grid (merged cells filled), with the text around it."""

    grid: list[list[Cell]]
    title: str
    notes: str | None
    file_format: str
    text_encoding: str | None


@dataclass(frozen=True)
class Target:
    """What one dataset reads from its table, from the registry."""

    path: str
    row_label: str
    column_label: str
    kind: str


class Belstat(Connector):
    raw_ddl = """
    create table if not exists raw.belstat_observations (
        snapshot_sha256 varchar not null,
        row_number integer not null,
        dataset varchar not null,
        reporter_iso3 varchar not null,
        partner_iso3 varchar not null,
        period varchar,
        value double,
        value_text varchar not null,
        value_symbol varchar,
        unit varchar not null,
        investment_scope varchar,
        investment_measure varchar,
        row_label varchar not null,
        column_label varchar not null,
        cell_ref varchar not null,
        table_title varchar,
        table_notes varchar,
        file_format varchar not null,
        text_encoding varchar,
        release_date date
    )
    """

    # -- fetch: copy the file as sent -------------------------------------------------------------
    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        url = self.url(dataset)
        prev = previous.get(url)
        fetched = http.get(
            self.name,
            url,
            etag=prev.etag if prev else None,
            last_modified=prev.last_modified if prev else None,
        )
        if fetched.not_modified:
            return []
        return [Capture(dataset, fetched, release_date_of(fetched.headers.get("Last-Modified")))]

    def url(self, dataset: str) -> str:
        return f"{self.base_url}{self.target(dataset).path}"

    def target(self, dataset: str) -> Target:
        """The registry's facts for one dataset: file path, the row and column to read, the kind."""
        opts = self.config.options
        if dataset not in self.config.datasets:
            raise KeyError(f"belstat has no dataset {dataset!r}; known: {sorted(self.config.datasets)}")
        keys = {name: f"{dataset}.{name}" for name in ("path", "column_label", "kind")}
        missing = [key for key in keys.values() if key not in opts]
        if missing:
            raise KeyError(f"scrapers/sources.json: belstat options lack {missing}")
        kind = opts[keys["kind"]]
        if kind not in KINDS:
            raise KeyError(f"scrapers/sources.json: {keys['kind']} must be one of {KINDS}; found {kind!r}")
        return Target(
            opts[keys["path"]], opts.get(f"{dataset}.row_label", opts["row_label"]), opts[keys["column_label"]], kind
        )

    # -- parse: stored bytes to raw rows ---------------------------------------------------------
    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        location = meta.request_url
        target = self.target(meta.dataset)
        table = read_table(self.name, location, body)
        records = extract(self.name, location, table, target)
        for record in records:
            record.update(
                dataset=meta.dataset,
                reporter_iso3=self.config.options["reporter_iso3"],
                partner_iso3=self.config.options["partner_iso3"],
                release_date=meta.release_date,
            )
        return pd.DataFrame.from_records(records, columns=RAW_COLUMNS).astype({"value": "float64"})

    # -- import: a workbook or saved page downloaded by hand -------------------------------------
    def recognise_import(self, path: Path, body: bytes) -> ImportedFile | None:
        """A Belstat table in which exactly one dataset's row and column group are found. Release date: none
        (the file states none; the vintage falls back to the import date)."""
        if path.suffix.lower() not in IMPORT_SUFFIXES:
            return None
        try:
            table = read_table(self.name, str(path), body)
        except ParseError:
            return None
        found = []
        for dataset in self.config.datasets:
            try:
                extract(self.name, str(path), table, self.target(dataset))
            except ParseError:
                continue
            found.append(dataset)
        if len(found) != 1:
            return None
        return ImportedFile(found[0], None, IMPORT_SUFFIXES[path.suffix.lower()], body)


CONNECTOR = Belstat


# -- reading files into a grid ---------------------------------------------------------------------
def read_table(source: str, location: str, body: bytes) -> Table:
    """Sniff the bytes, not the URL or the Content-Type: XLSX (a zip) or an HTML page."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    expects_xlsx = location.lower().split("?")[0].endswith((".xlsx", ".xls"))
    if not body:
        raise ParseError(source, location, "an XLSX workbook or an HTML table", "an empty body")
    if body[:2] == b"PK":
        return read_xlsx(source, location, body)
    if body[:4] == b"\xd0\xcf\x11\xe0":
        raise ParseError(source, location, "an XLSX workbook", "a legacy .xls (OLE2) workbook: save it as .xlsx")
    if head.startswith(HTML_START):
        if expects_xlsx:
            raise ParseError(
                source,
                location,
                "an XLSX workbook (the URL names an .xlsx file)",
                f"an HTML page ({_html_title(body)!r}): an error or moved-file page served in its place",
            )
        return read_html(source, location, body)
    raise ParseError(source, location, "an XLSX workbook (zip) or an HTML page", f"bytes starting {body[:16]!r}")


def read_xlsx(source: str, location: str, body: bytes) -> Table:
    """The house layout: data from column B, merged titles and headers; merged cells are filled."""
    import openpyxl  # heavy import, only when there is a workbook to read

    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        size = sum(info.file_size for info in archive.infolist())
        damaged = archive.testzip()
    except WORKBOOK_ERRORS as exc:
        raise ParseError(source, location, "a readable XLSX (zip) file", f"a damaged or truncated zip: {exc}") from exc
    if damaged is not None:
        raise ParseError(source, location, "a readable XLSX (zip) file", f"member {damaged!r} fails its CRC check")
    if size > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise ParseError(source, location, f"at most {MAX_XLSX_UNCOMPRESSED_BYTES} bytes unpacked", f"{size} bytes")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(body), data_only=True)
    except WORKBOOK_ERRORS as exc:
        raise ParseError(source, location, "an XLSX workbook", f"{type(exc).__name__}: {exc}") from exc
    sheet = workbook.worksheets[0]
    values: dict[tuple[int, int], str | float | None] = {}
    for row in sheet.iter_rows():
        for cell in row:
            values[(cell.row, cell.column)] = _xlsx_value(cell.value)
    for merged in sheet.merged_cells.ranges:
        top_left = values.get((merged.min_row, merged.min_col))
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                values[(r, c)] = top_left
    max_row, max_col = sheet.max_row, sheet.max_column
    grid = [
        [Cell(values.get((r, c)), f"{sheet.title}!{_column_letter(c)}{r}") for c in range(1, max_col + 1)]
        for r in range(1, max_row + 1)
    ]
    grid = _drop_empty_columns(grid)
    header_start, year_row = _header_rows(source, location, grid)
    title = " ".join(_row_text(row) for row in grid[:header_start] if _row_text(row))
    return Table(grid, title, _notes_below(grid[year_row + 1 :]), "xlsx", None)


def read_html(source: str, location: str, body: bytes) -> Table:
    """A website table: the encoding is detected from the bytes (UTF-8 or windows-1251), never from headers."""
    text, encoding = decode_text(source, location, body)
    soup = BeautifulSoup(text, "lxml")
    tables = [t for t in soup.find_all("table") if isinstance(t, Tag)]
    if not tables:
        raise ParseError(source, location, "an HTML <table>", f"a page without tables ({_html_title(body)!r})")
    # The data table is the one with a year row in its header; layout tables hold none.
    for element in tables:
        grid = _html_grid(element)
        if any(_is_period(_text(cell.value)) for row in grid for cell in row):
            break
    else:
        raise ParseError(source, location, "a table with year columns (e.g. '2021 г.')", f"{len(tables)} table(s)")
    caption = element.find("caption")
    heading = element.find_previous(["h1", "h2", "h3", "h4"])
    around = caption if isinstance(caption, Tag) else heading if isinstance(heading, Tag) else None
    title = clean_label(around.get_text(" ")) if around else ""
    notes = [clean_label(p.get_text(" ")) for p in element.find_next_siblings("p", limit=5) if isinstance(p, Tag)]
    return Table(grid, title, " ".join(n for n in notes if n) or None, "html", encoding)


def decode_text(source: str, location: str, body: bytes) -> tuple[str, str]:
    """UTF-8 if the bytes are valid UTF-8 (windows-1251 Cyrillic never is), else windows-1251."""
    if body.startswith(b"\xef\xbb\xbf"):
        try:
            return body[3:].decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            raise ParseError(
                source, location, "UTF-8 text after a UTF-8 byte-order mark", f"undecodable bytes at {exc.start + 3}"
            ) from exc
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("windows-1251"), "windows-1251"
    except UnicodeDecodeError as exc:
        raise ParseError(
            source, location, "text in UTF-8 or windows-1251", f"undecodable byte {body[exc.start]:#x} at {exc.start}"
        ) from exc


# -- reading the grid --------------------------------------------------------------------------------
def extract(source: str, location: str, table: Table, target: Target) -> list[dict[str, Any]]:
    """The target row's values under the target column group, one record per year column."""
    grid = table.grid
    header_start, year_row = _header_rows(source, location, grid)
    header = grid[header_start : year_row + 1]
    data = _data_rows(source, location, grid[year_row + 1 :])
    labels = [clean_label(_text(row[0].value)) for row in data]
    wanted = _fold(target.row_label)
    matches = [row for row, label in zip(data, labels, strict=True) if _fold(label) == wanted]
    if len(matches) != 1:
        raise ParseError(
            source,
            location,
            f"exactly one row labelled {target.row_label!r} (layout changed?)",
            f"{len(matches)} among row labels {labels[:12]}",
        )
    row = matches[0]
    paths = [[clean_label(_text(h[c].value)) for h in header] for c in range(len(grid[0]))]
    columns = [c for c in range(1, len(paths)) if _fold(target.column_label) in {_fold(p) for p in paths[c]}]
    if not columns:
        groups = sorted({p[0] for p in paths[1:] if p[0]})
        raise ParseError(
            source,
            location,
            f"a column group headed {target.column_label!r} (layout changed?)",
            f"column groups {groups}",
        )
    records = []
    for c in columns:
        path = _dedupe(paths[c])
        column_label = " | ".join(path)
        unit_text = f"{column_label} {table.title}".lower()
        if "процент" not in unit_text and "%" not in unit_text:
            raise ParseError(source, location, f"a share in percent under {column_label!r}", f"title {table.title!r}")
        year_text = clean_label(_text(grid[year_row][c].value))
        if not _is_period(year_text):
            raise ParseError(source, location, f"a year header above {grid[year_row][c].ref}", repr(year_text))
        year = YEAR.match(year_text)
        value, symbol, printed = parse_value(source, location, row[c])
        scope, measure = classify_investment(table.title) if target.kind == "investment" else (None, None)
        records.append(
            {
                "period": year.group(1) if year else None,
                "value": value,
                "value_text": printed,
                "value_symbol": symbol,
                "unit": "percent",
                "investment_scope": scope,
                "investment_measure": measure,
                "row_label": clean_label(_text(row[0].value)),
                "column_label": column_label,
                "cell_ref": row[c].ref,
                "table_title": table.title or None,
                "table_notes": table.notes,
                "file_format": table.file_format,
                "text_encoding": table.text_encoding,
            }
        )
    return records


def parse_value(source: str, location: str, cell: Cell) -> tuple[float | None, str | None, str]:
    """A number (stored, or printed with NBSP thousands and a decimal comma), or one of Belstat's symbols."""
    if isinstance(cell.value, float):
        return cell.value, None, repr(cell.value)
    printed = (cell.value or "").strip()
    if printed == "":
        raise ParseError(source, location, f"a number or a Belstat symbol (-, ..., x) in {cell.ref}", "an empty cell")
    if printed in SYMBOLS:
        return None, SYMBOLS[printed], printed
    if NUMBER.match(printed):
        digits = re.sub(r"[ \u00a0\u202f]", "", printed).replace(",", ".").replace("−", "-")
        return float(digits), None, printed
    raise ParseError(source, location, f"a number or a Belstat symbol (-, ..., x) in {cell.ref}", repr(printed))


def classify_investment(title: str) -> tuple[str, str]:
    """What the table's own title says: all foreign investment or direct, a flow (received) or a stock."""
    text = title.lower()
    if "прям" in text:
        scope = "direct"
    elif "поступлен" in text:
        scope = "all"  # Belstat's "поступление иностранных инвестиций": direct, portfolio and other
    else:
        scope = "not stated"
    if "накоплен" in text or "на конец" in text or "остат" in text:
        measure = "stock"
    elif "поступлен" in text or "на чистой основе" in text:
        measure = "flow"
    else:
        measure = "not stated"
    return scope, measure


def clean_label(text: str) -> str:
    """Labels carry CR/LF, NBSP and footnote marks: one line, single spaces, no trailing mark."""
    flat = re.sub(r"[\s\u00a0\u202f]+", " ", text.replace("\r", " ").replace("\n", " ")).strip()
    return FOOTNOTE_MARK.sub("", flat).strip()


def release_date_of(last_modified: str | None) -> date | None:
    """The file's Last-Modified header: when Belstat put this version up (the files state no release date)."""
    if not last_modified:
        return None
    try:
        return parsedate_to_datetime(last_modified).date()
    except (TypeError, ValueError):
        return None


def _header_rows(source: str, location: str, grid: list[list[Cell]]) -> tuple[int, int]:
    """(first header row, year row): the year row is the first with a year in a data column; the header is
    the block of non-empty rows directly above it (three merged rows in the house layout)."""
    for r, row in enumerate(grid):
        if any(_is_period(clean_label(_text(cell.value))) for cell in row[1:]):
            start = r
            while start > 0 and _row_text(grid[start - 1]) and start > r - 2:
                start -= 1
            return start, r
    raise ParseError(source, location, "a header row of years (e.g. '2021 г.')", "no year in any header cell")


def _data_rows(source: str, location: str, rows: list[list[Cell]]) -> list[list[Cell]]:
    """Rows below the header up to the first empty row (footnotes follow it)."""
    data: list[list[Cell]] = []
    for row in rows:
        if not _row_text(row):
            break
        if _text(row[0].value):
            data.append(row)
    if not data:
        raise ParseError(source, location, "at least one labelled data row below the header", "zero rows")
    return data


def _notes_below(rows: list[list[Cell]]) -> str | None:
    """Footnotes: the text rows after the empty row that ends the data block."""
    blank = next((i for i, row in enumerate(rows) if not _row_text(row)), len(rows))
    notes = [_row_text(row) for row in rows[blank:] if _row_text(row)]
    return " ".join(notes) or None


def _html_grid(table: Tag) -> list[list[Cell]]:
    """Rows of an HTML table with rowspan/colspan expanded, so it reads like a filled XLSX grid."""
    placed: dict[tuple[int, int], Cell] = {}
    for r, tr in enumerate(table.find_all("tr")):
        c = 0
        for td in tr.find_all(["td", "th"], recursive=False):
            while (r, c) in placed:
                c += 1
            text = td.get_text(" ")
            rowspan, colspan = _span(td.get("rowspan")), _span(td.get("colspan"))
            for dr in range(rowspan):
                for dc in range(colspan):
                    placed[(r + dr, c + dc)] = Cell(text if text.strip() else None, f"table r{r + 1}c{c + 1}")
            c += colspan
    if not placed:
        return []
    rows = max(r for r, _ in placed) + 1
    cols = max(c for _, c in placed) + 1
    grid = [[placed.get((r, c), Cell(None, f"table r{r + 1}c{c + 1}")) for c in range(cols)] for r in range(rows)]
    return _drop_empty_columns(grid)


def _span(value: Any) -> int:
    text = str(value or "1").strip()
    return max(1, min(int(text), 100)) if text.isdigit() else 1


def _drop_empty_columns(grid: list[list[Cell]]) -> list[list[Cell]]:
    """Leading empty columns go (the house layout starts in column B)."""
    if not grid:
        return grid
    width = max(len(row) for row in grid)
    first = next((c for c in range(width) if any(c < len(row) and _text(row[c].value) for row in grid)), 0)
    return [row[first:] for row in grid]


def _xlsx_value(value: Any) -> str | float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def _text(value: str | float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value.strip()


def _row_text(row: list[Cell]) -> str:
    seen: list[str] = []
    for cell in row:
        text = clean_label(_text(cell.value))
        if text and text not in seen:
            seen.append(text)
    return " ".join(seen)


def _is_period(text: str) -> bool:
    return bool(YEAR.match(text)) or _fold(text) == PERIOD_NOT_STATED


def _fold(text: str) -> str:
    return clean_label(text).casefold().replace("ё", "е")


def _dedupe(path: list[str]) -> list[str]:
    out: list[str] = []
    for part in path:
        if part and (not out or out[-1] != part):
            out.append(part)
    return out


def _column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _html_title(body: bytes) -> str:
    match = re.search(rb"<title[^>]*>(.*?)</title>", body[:4096], re.IGNORECASE | re.DOTALL)
    raw = match.group(1) if match else body[:60]
    for encoding in ("utf-8", "windows-1251"):
        try:
            return clean_label(raw.decode(encoding))[:80]
        except UnicodeDecodeError:
            continue
    return repr(raw[:60])
