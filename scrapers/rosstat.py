"""Rosstat: discover this release's file on a section page, copy it, and load every cell of its tables (XLSX, XLS)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pandas as pd
from bs4 import BeautifulSoup

from scrapers.base import (
    Capture,
    Connector,
    ImportedFile,
    Previous,
    SnapshotLayout,
    SnapshotMeta,
    header_shape,
    structural_text,
)
from scrapers.tls import pinned_bundle
from scrapers.workbook import CELL_COLUMNS, Sheet, clean_text, number_from_text, read_workbook, workbook_format
from unionstat.errors import ParseError, SourceError
from unionstat.http import Fetched, HttpClient

LOG = logging.getLogger(__name__)
RAW_COLUMNS = ["document_kind", "file_url", "link_text", *CELL_COLUMNS]  # section-page links sit beside cells
MEDIABANK = "/storage/mediabank/"
#: Registry options naming a dataset's catalogue page: one public clients call, or one only the reference serves.
SECTION_PAGE, REFERENCE_PAGE = "section_page.", "reference_section_page."
#: The first bytes of a workbook: XLSX is a zip ("PK"), XLS an OLE2 compound file (BIFF inside).
WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
#: Answers that mean "not from here, not by a script": a person downloads the file and imports it.
BLOCKED_STATUSES = ("HTTP 403", "HTTP 429")
#: Workbook formats in order of preference: a table linked as XLSX and XLS is fetched once, as XLSX.
SPREADSHEET_SUFFIXES = (".xlsx", ".xls")
#: The contents sheet ("Содержание") and the link back to it that opens every numbered sheet ("К содержанию").
CONTENTS_SHEET = re.compile(r"^\s*содержание\s*:?\s*$", re.IGNORECASE)
CONTENTS_LINK = re.compile(r"^\s*к\s+содержанию\s*$", re.IGNORECASE)
#: "Обновлено 06.02.2026г." or "Обновлено: 06.02.2026 г." (contents sheet of VDS_god_OKVED2.xlsx).
UPDATE_STAMP = re.compile(r"обновлено\s*:?\s*(\d{1,2})\.(\d{1,2})\.(\d{4})", re.IGNORECASE)
#: Footnote marks: "1)" "2)3)" after a title or label; in a year header also "20221" and "20241,2" (see _period).
LABEL_NOTES = re.compile(r"\s*((?:\d{1,2}\)\s*)+)$")
#: The unit or basis the title states last in parentheses: "(в процентах к предыдущему году)".
TITLE_UNIT = re.compile(r"\(([^()]+)\)\s*$")
#: OKVED2 codes as the code column writes them: "Раздел A", " А 01", "J (62-63)", "M 72", "С (10-12)", "S.11".
OKVED_CODE = re.compile(r"^(?:раздел\s+\S{1,2}|[a-zа-яё]\s*(?:\d[\d.\-]*|\([\d\s,\-]+\))|[a-z]\.\d+)$", re.IGNORECASE)
CODE_HEADER = re.compile(r"^коды?$", re.IGNORECASE)
MONTHS = ["январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр"]
#: A period header: "2024", "2024 г.", "август 2024 г.", "январь-август 2024 г.", optionally "... в % к ...";
#: footnote marks after the year ("20242)", "2024 1)", "20241,2" and "20221" are handled in _period).
PERIOD_TEXT = re.compile(
    r"^(?:(?P<m1>[а-яё]+)(?:\s*[-–—]\s*(?P<m2>[а-яё]+))?\s+)?(?P<year>(?:19|20)\d{2})"
    r"(?P<marks>(?:\s*\d{1,2}\))+|\d(?:,\d)*\)?)?"
    r"\s*(?:гг?\.?|год)?\s*(?P<basis>в\s*%\s*к\s.*)?$",
    re.IGNORECASE,
)
FIRST_YEAR, LAST_YEAR = 1990, 2100
#: The rows above the header that may hold the title; a header further down is a layout this loader does not read.
MAX_HEADER_ROW = 15


class Rosstat(Connector):
    raw_ddl = """
    create table if not exists raw.rosstat_cells (
        snapshot_sha256 varchar not null,
        row_number integer not null,
        document_kind varchar not null,
        file_url varchar not null,
        link_text varchar,
        sheet_name varchar,
        table_title varchar,
        unit varchar,
        row_index integer,
        column_index integer,
        cell_ref varchar,
        row_label varchar,
        row_code varchar,
        column_header varchar,
        period varchar,
        period_text varchar,
        notes varchar,
        value double,
        value_text varchar,
        release_date date
    )
    """

    # -- fetch: the section page, then the file(s) it links to, as sent --------------------------
    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        """The section page, then this release's file(s) it links. A `reference_section_page` (a page no public
        client was seen calling) is served only by the reference snapshot: against Rosstat itself the dataset is not
        configured (`<dataset>.not_configured` says why) and nothing is requested."""
        if f"{REFERENCE_PAGE}{dataset}" in self.config.options:
            self.refuse_unless_served(
                http, dataset, f"{REFERENCE_PAGE}{dataset}", "a catalogue page", f"{dataset}.not_configured"
            )
        if http.live:
            self.trust_national_ca(http)
        page = self._get(http, self.section_url(dataset), previous)
        if page is None:
            return []  # the section page unchanged: no new file was published
        captures = [Capture(dataset, page, None)]
        for link in self.file_links(page.url, page.body, dataset):
            fetched = self._get(http, link, previous)
            if fetched is not None:
                check_workbook_magic(self.name, fetched)
                captures.append(Capture(dataset, fetched, _last_modified(fetched.headers.get("Last-Modified"))))
        return captures

    def trust_national_ca(self, http: HttpClient) -> None:
        """Trust the registry's pinned CA files (the Russian Trusted Root CA) for Rosstat's hosts only."""
        tls = self.config.tls
        if not tls:
            return
        bundle = pinned_bundle(
            self.name, tls["ca_certificates"], self.settings.warehouse_dir / "tls" / "rosstat-ca.pem"
        )
        if bundle is not None:
            http.trust_for_hosts(tls["hosts"], str(bundle))

    def _get(self, http: HttpClient, url: str, previous: Mapping[str, Previous]) -> Fetched | None:
        """A conditional GET; a lasting 403/429 (Rosstat refuses scripts from abroad) says what a person can do."""
        try:
            return self.get_if_changed(http, url, previous)
        except SourceError as exc:
            if exc.found.startswith(BLOCKED_STATUSES):
                raise SourceError(
                    self.name,
                    exc.location,
                    exc.expected,
                    f"{exc.found}: Rosstat refuses scripted downloads from here; open the page in a browser, "
                    "download the file by hand and run `unionstat import FILE`",
                ) from exc
            if "CERTIFICATE_VERIFY_FAILED" in exc.found:
                raise SourceError(
                    self.name,
                    exc.location,
                    "a certificate chain to the pinned Russian Trusted Root CA",
                    f"{exc.found}; add the Sub CA as sources.json rosstat.tls says, or set UNIONSTAT_CA_BUNDLE",
                ) from exc
            raise

    def section_url(self, dataset: str) -> str:
        """The dataset's catalogue page: `section_page.<dataset>` (verified), else its reference-only page."""
        for key in (f"{SECTION_PAGE}{dataset}", f"{REFERENCE_PAGE}{dataset}"):
            if key in self.config.options:
                return self.base_url + self.config.options[key]
        raise KeyError(f"rosstat: no '{SECTION_PAGE}{dataset}' in sources.json options for dataset {dataset!r}")

    def file_links(self, page_url: str, body: bytes, dataset: str) -> list[str]:
        """This release's file(s) for the dataset: mediabank links whose text matches; XLSX, then XLS preferred."""
        pattern = re.compile(self.config.options[f"link_text.{dataset}"], re.IGNORECASE)
        file_rule = self.config.options.get(f"file_pattern.{dataset}")
        file_pattern = re.compile(file_rule, re.IGNORECASE) if file_rule else None
        links = section_links(self.name, page_url, body)
        matching = [
            url
            for url, text in links
            if pattern.search(text)
            or pattern.search(urlsplit(url).path)
            or (file_pattern is not None and file_pattern.search(file_key(url)))
        ]
        if not matching:
            wanted = f"text matches {pattern.pattern!r}" + (f" or file key matches {file_rule!r}" if file_rule else "")
            raise SourceError(
                self.name,
                page_url,
                f"a {MEDIABANK} link whose {wanted}",
                f"none among {[text for _, text in links][:10]} (layout or wording changed?)",
            )
        for suffix in SPREADSHEET_SUFFIXES:
            spreadsheets = [url for url in matching if urlsplit(url).path.lower().endswith(suffix)]
            if spreadsheets:
                return spreadsheets
        return matching

    # -- import: a workbook downloaded by hand ----------------------------------------------------
    import_formats = "a Rosstat XLSX/XLS workbook (with its contents sheet)"

    def recognise_import(self, path: Path) -> ImportedFile | None:
        """A Rosstat workbook: XLSX or XLS with a contents sheet or the 'К содержанию' link. The dataset is the
        file's stem (the whole workbook); the release date is the contents sheet's update stamp, if any."""
        kind = workbook_format(path)
        if kind is None:
            return None
        try:
            sheets = read_workbook(self.name, str(path), path.read_bytes())
        except ParseError:
            return None
        if not any(_is_contents(sheet) or _links_to_contents(sheet) for sheet in sheets):
            return None
        content_type = (
            "application/vnd.ms-excel"
            if kind == "xls"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        return ImportedFile(path.stem, update_stamp(sheets), content_type)

    # -- parse: stored bytes to raw rows ---------------------------------------------------------
    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        location = meta.request_url
        if urlsplit(location).scheme in ("http", "https") and MEDIABANK not in urlsplit(location).path:
            return parse_section_page(self.name, location, body)
        return parse_workbook(self.name, location, body)

    # -- layout: what the parser reads, without values -------------------------------------------
    def layout(self, path: Path, meta: SnapshotMeta) -> SnapshotLayout:
        """A section page: the file types it links; a workbook: its sheets in order, and for each table sheet the
        title, unit, header rows, label and code columns, first value column and header cells its parser matched.
        The subject is the file's identity across renames (file_key), so Kadry_VO.xls and Kadry-VO.xlsx compare."""
        location = meta.request_url
        body = path.read_bytes()
        if urlsplit(location).scheme in ("http", "https") and MEDIABANK not in urlsplit(location).path:
            links = section_links(self.name, location, body)
            suffixes = sorted({Path(urlsplit(url).path).suffix.lower() for url, _ in links})
            return SnapshotLayout(f"{meta.dataset}/section page", {"format": "section page", "file_types": suffixes})
        return SnapshotLayout(f"{meta.dataset}/{file_key(location)}", workbook_layout(self.name, location, body))


CONNECTOR = Rosstat


def workbook_layout(source: str, location: str, body: bytes) -> dict[str, Any]:
    """Every sheet's name and role (contents, notes, table) in order; a table's parts as read_table finds them."""
    sheets: list[dict[str, Any]] = []
    for sheet in read_workbook(source, location, body):
        if _is_contents(sheet):
            sheets.append({"sheet": sheet.name, "role": "contents"})
            continue
        if not any(_number(value) is not None for row in sheet.rows for value in row):
            sheets.append({"sheet": sheet.name, "role": "notes"})
            continue
        table = read_table(source, location, sheet)
        width = max((len(row) for row in sheet.rows), default=0)
        sheets.append(
            {
                "sheet": sheet.name,
                "role": "table",
                "title": structural_text(table.title),
                "unit": structural_text(_unit(table.title)),
                "header_rows": [table.header_rows.start + 1, table.header_rows.stop],
                "label_column": None if table.label_column is None else _column_letters(table.label_column),
                "code_column": None if table.code_column is None else _column_letters(table.code_column),
                "first_value_column": _column_letters(table.value_columns[0]),
                "headers": header_shape(_column_header(sheet, table.header_rows, c) for c in range(width)),
            }
        )
    return {"format": "workbook", "sheets": sheets}


def file_key(url: str) -> str:
    """A file's identity across renames: 'Kadry_VO.xls' and 'Kadry-VO.xlsx' are both 'kadry_vo'."""
    name = Path(urlsplit(url).path).name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return re.sub(r"[-_\s]+", "_", stem.lower())


def check_workbook_magic(source: str, fetched: Fetched) -> None:
    """A linked file must start as a workbook does (PK for XLSX, OLE2/BIFF for XLS): an HTML error page or an
    empty answer served with status 200 is an error naming the URL, never a stored 'workbook'."""
    if not fetched.body.startswith(WORKBOOK_MAGIC):
        found = "an HTML page" if _looks_like_html(fetched.body) else _sniff(fetched.body)
        raise SourceError(source, fetched.url, "an XLSX or XLS workbook (PK or OLE2 magic bytes)", found)


def section_links(source: str, page_url: str, body: bytes) -> list[tuple[str, str]]:
    """Every (absolute URL, link text) under /storage/mediabank/ on a section page."""
    if not _looks_like_html(body):
        raise ParseError(source, page_url, "an HTML section page", _sniff(body))
    soup = BeautifulSoup(body, "lxml")
    links = []
    for anchor in soup.find_all("a", href=True):
        url = urljoin(page_url, str(anchor["href"]))
        if MEDIABANK in urlsplit(url).path:
            links.append((url, clean_text(anchor.get_text(" ")) or ""))
    if not links:
        raise SourceError(source, page_url, f"links to files under {MEDIABANK}", "none (layout changed?)")
    return links


def parse_section_page(source: str, page_url: str, body: bytes) -> pd.DataFrame:
    """The section page as raw rows: one per file it links to (the discovery, kept for provenance)."""
    try:
        links = section_links(source, page_url, body)
    except SourceError as exc:
        raise ParseError(exc.source, exc.location, exc.expected, exc.found) from exc
    records = [{"document_kind": "section_page", "file_url": url, "link_text": text} for url, text in links]
    return _frame(records)


def parse_workbook(source: str, location: str, body: bytes) -> pd.DataFrame:
    """Every non-empty cell below the period header of every table sheet, with its row and column labels.

    Skipped: the contents sheet and sheets without a single number (notes, a publication schedule).
    """
    sheets = read_workbook(source, location, body)
    released = update_stamp(sheets)
    records: list[dict[str, Any]] = []
    for sheet in sheets:
        if _is_contents(sheet):
            continue
        if not any(_number(value) is not None for row in sheet.rows for value in row):
            LOG.info("%s: sheet %r holds no numbers (notes or a schedule): not a table, skipped", location, sheet.name)
            continue
        table = read_table(source, location, sheet)
        records.extend(table_records(table, location, released))
    if not records:
        raise ParseError(source, location, "a sheet with a table of values", f"none among {[s.name for s in sheets]}")
    return _frame(records)


@dataclass(frozen=True)
class Table:
    """Where one sheet's table sits: its title, header rows, label and code columns and value columns (0-based)."""

    sheet: Sheet
    title: str | None
    header_rows: range
    label_column: int | None
    code_column: int | None
    value_columns: tuple[int, ...]


def read_table(source: str, location: str, sheet: Sheet) -> Table:
    """Find the header row (the first with year or period cells), the title above it and the label columns."""
    header_row = next(
        (r for r in range(min(len(sheet.rows), MAX_HEADER_ROW)) if _is_period_header_row(sheet, r)),
        None,
    )
    if header_row is None:
        raise ParseError(
            source,
            location,
            f"sheet {sheet.name!r}: a header row with year or period columns (2024, '20242)', 'январь-август "
            f"2024 г.') in the first {MAX_HEADER_ROW} rows",
            "none",
        )
    width = max((len(row) for row in sheet.rows), default=0)
    first_data = next(
        (r for r in range(header_row + 1, len(sheet.rows)) if any(_number(v) is not None for v in sheet.rows[r])),
        len(sheet.rows),
    )
    header_rows = range(header_row, first_data)
    periods = {c for c in range(width) if _column_period(sheet, header_rows, c)[0] is not None}
    first_value = min(periods)
    value_columns = tuple(c for c in range(first_value, width))
    label_columns = [
        c for c in range(first_value) if any(clean_text(sheet.cell(r, c)) for r in range(first_data, len(sheet.rows)))
    ]
    code_column = next((c for c in label_columns if _is_code_column(sheet, header_rows, first_data, c)), None)
    others = [c for c in label_columns if c != code_column]
    title_cells = [
        clean_text(sheet.cell(r, c))
        for r in range(header_row)
        for c in range(width)
        if sheet.merged_anchor(r, c) == (r, c) and clean_text(sheet.cell(r, c))
    ]
    title = " ".join(t for t in title_cells if t and not CONTENTS_LINK.match(t)) or None
    return Table(sheet, title, header_rows, others[-1] if others else None, code_column, value_columns)


def table_records(table: Table, location: str, released: date | None) -> list[dict[str, Any]]:
    """One record per non-empty cell of the value columns below the header."""
    sheet = table.sheet
    unit = _unit(table.title)
    columns = {
        c: (_column_header(sheet, table.header_rows, c), *_column_period(sheet, table.header_rows, c))
        for c in table.value_columns
    }
    records = []
    for r in range(table.header_rows.stop, len(sheet.rows)):
        label, label_notes = _strip_notes(_label(sheet, r, table.label_column))
        code = _label(sheet, r, table.code_column)
        for c in table.value_columns:
            raw = sheet.cell(r, c)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            header, period, period_text, period_notes = columns[c]
            records.append(
                {
                    "document_kind": "workbook",
                    "file_url": location,
                    "sheet_name": sheet.name,
                    "table_title": table.title,
                    "unit": unit,
                    "row_index": r + 1,
                    "column_index": c + 1,
                    "cell_ref": f"{_column_letters(c)}{r + 1}",
                    "row_label": label,
                    "row_code": code,
                    "column_header": header,
                    "period": period,
                    "period_text": period_text,
                    "notes": _join_notes(label_notes, period_notes),
                    "value": _number(raw),
                    "value_text": _as_written(raw),
                    "release_date": released,
                }
            )
    return records


def update_stamp(sheets: list[Sheet]) -> date | None:
    """The release date the workbook states ("Обновлено 06.02.2026г."), None when it states none."""
    for sheet in sheets:
        for row in sheet.rows:
            for value in row:
                match = UPDATE_STAMP.search(value) if isinstance(value, str) else None
                if match:
                    day, month, year = (int(part) for part in match.groups())
                    return date(year, month, day)
    return None


def _period(value: Any) -> tuple[str, str | None] | None:
    """A header cell as (period, footnote marks): 2024.0 -> ('2024', None); '20242)' -> ('2024', '2');
    '20221' -> ('2022', '1'); '20241,2' -> ('2024', '1,2'); 'январь-август 2024 г.' -> ('2024-01/2024-08', None)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        year = int(value)
        return (str(year), None) if value == year and FIRST_YEAR <= year <= LAST_YEAR else None
    text = clean_text(value) if isinstance(value, str) else None
    if text is None:
        return None
    match = PERIOD_TEXT.match(text)
    if match is None:
        return None
    year = int(match["year"])
    marks = re.findall(r"\d+", match["marks"] or "")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    notes = ",".join(marks) or None
    if match["m1"] is None:
        return str(year), notes
    first, last = _month(match["m1"]), _month(match["m2"] or match["m1"])
    if first is None or last is None or last < first:
        return None
    if match["m2"] is None:
        return f"{year}-{first:02d}", notes
    return f"{year}-{first:02d}/{year}-{last:02d}", notes


def _month(word: str) -> int | None:
    word = word.lower()
    # longest stem first: 'ма' (май) must not swallow 'март'
    for number, stem in sorted(enumerate(MONTHS, start=1), key=lambda item: -len(item[1])):
        if word.startswith(stem):
            return number
    return None


def _is_period_header_row(sheet: Sheet, row: int) -> bool:
    """A row with at least one period cell, whose numbers are all years (a data row has other numbers)."""
    values = [v for v in (sheet.rows[row] if row < len(sheet.rows) else ()) if v is not None]
    periods = [v for v in values if _period(v) is not None]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return bool(periods) and all(_period(v) is not None for v in numbers)


def _column_period(sheet: Sheet, header_rows: range, column: int) -> tuple[str | None, str | None, str | None]:
    """(period, period as written, footnote marks) of a column: the first header cell above it that is a period."""
    for r in header_rows:
        value = sheet.cell(*sheet.merged_anchor(r, column))
        found = _period(value)
        if found is not None:
            return found[0], _header_text(value), found[1]
    return None, None, None


def _column_header(sheet: Sheet, header_rows: range, column: int) -> str | None:
    """The header cells above a column, top to bottom (merged cells read at their anchor), ' | '-joined."""
    parts: list[str] = []
    for r in header_rows:
        text = _header_text(sheet.cell(*sheet.merged_anchor(r, column)))
        if text and (not parts or parts[-1] != text):
            parts.append(text)
    return " | ".join(parts) or None


def _is_code_column(sheet: Sheet, header_rows: range, first_data: int, column: int) -> bool:
    """Headed 'коды', or most of its cells are OKVED2 codes."""
    if any(CODE_HEADER.match(clean_text(sheet.cell(r, column)) or "") for r in header_rows):
        return True
    texts = [t for r in range(first_data, len(sheet.rows)) if (t := clean_text(sheet.cell(r, column)))]
    return bool(texts) and sum(bool(OKVED_CODE.match(t)) for t in texts) * 2 > len(texts)


def _label(sheet: Sheet, row: int, column: int | None) -> str | None:
    """A row's label or code as shown: a merged cell (a code spanning two rows) read at its anchor."""
    return None if column is None else clean_text(sheet.cell(*sheet.merged_anchor(row, column)))


def _strip_notes(text: str | None) -> tuple[str | None, str | None]:
    """'Научные исследования 1)2)' -> ('Научные исследования', '1,2')."""
    if text is None:
        return None, None
    match = LABEL_NOTES.search(text)
    if match is None or match.start() == 0:
        return text, None
    return text[: match.start()].rstrip(), ",".join(re.findall(r"\d+", match[1]))


def _join_notes(*groups: str | None) -> str | None:
    marks: list[str] = []
    for group in groups:
        for mark in (group or "").split(","):
            if mark and mark not in marks:
                marks.append(mark)
    return ",".join(marks) or None


def _unit(title: str | None) -> str | None:
    match = TITLE_UNIT.search(title or "")
    return clean_text(match[1]) if match else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return number_from_text(value) if isinstance(value, str) else None


def _as_written(value: Any) -> str | None:
    """The cell as stored: numbers in their shortest round-trip form (102.69134511157387, 2012.0), text as is."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


def _header_text(value: Any) -> str | None:
    """A header cell as shown: a year stored as a number (2012.0) reads '2012'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_text(_as_written(value))


def _column_letters(column: int) -> str:
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _is_contents(sheet: Sheet) -> bool:
    first = next((clean_text(v) for row in sheet.rows[:3] for v in row if clean_text(v)), None)
    return bool(CONTENTS_SHEET.match(sheet.name) or (first and CONTENTS_SHEET.match(first)))


def _links_to_contents(sheet: Sheet) -> bool:
    return any(CONTENTS_LINK.match(clean_text(v) or "") for row in sheet.rows[:3] for v in row)


def _looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _sniff(body: bytes) -> str:
    if not body:
        return "an empty body"
    return repr(body[:40])


def _last_modified(header: str | None) -> date | None:
    """Rosstat files state no release date in HTTP; the file's Last-Modified is the nearest the server gives."""
    if not header:
        return None
    try:
        return parsedate_to_datetime(header).date()
    except (TypeError, ValueError):
        return None


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Every column present in every record (None, never NaN, where a document kind has no such field)."""
    blank = dict.fromkeys(RAW_COLUMNS)
    frame = pd.DataFrame.from_records([blank | record for record in records], columns=RAW_COLUMNS)
    frame["value"] = frame["value"].astype("float64")
    frame["row_index"] = frame["row_index"].astype("Int64")
    frame["column_index"] = frame["column_index"].astype("Int64")
    return frame
