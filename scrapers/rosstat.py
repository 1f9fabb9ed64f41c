"""Rosstat: discover this release's file on a section page, copy it, and read its index table (XLSX)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import pandas as pd
from bs4 import BeautifulSoup
from openpyxl import load_workbook

from scrapers.base import WORKBOOK_ERRORS, Capture, Connector, Previous, SnapshotMeta
from unionstat.errors import ParseError, SourceError
from unionstat.http import HttpClient

RAW_COLUMNS = [
    "document_kind",
    "file_url",
    "link_text",
    "sheet_name",
    "row_label",
    "column_label",
    "indicator_code",
    "period",
    "base_period",
    "cell_text",
    "value",
    "unit",
]
MEDIABANK = "/storage/mediabank/"
INDEX_UNIT = "index (same period a year earlier = 100)"
#: Row labels (normalised) of the activities whose indices the marts use.
ROW_LABELS: dict[str, str] = {
    "разработка компьютерного программного обеспечения": "software_development_index",
    "научные исследования и разработки": "rnd_index",
}
MONTHS = ["январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр"]
MONTH = r"[а-яё]+"
#: "январь-август 2024 г. в % к январю-августу 2023 г." or "2024 г. в % к 2023 г."
PERIOD_LABEL = re.compile(
    rf"^(?:(?P<m1>{MONTH})(?:\s*[-–—]\s*(?P<m2>{MONTH}))?\s+)?(?P<year>\d{{4}})\s*г\.?\s*в\s*%\s*к\s+"
    rf"(?:(?P<b1>{MONTH})(?:\s*[-–—]\s*(?P<b2>{MONTH}))?\s+)?(?P<base>\d{{4}})\s*г\.?$"
)
NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
NO_VALUE_MARKERS = {"", "-", "–", "…", "...", "x", "х"}
FOOTNOTE = re.compile(r"\s*\d\)$")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SPREADSHEET_SUFFIXES = (".xlsx",)


class Rosstat(Connector):
    raw_ddl = """
    create table if not exists raw.rosstat_observations (
        snapshot_sha256 varchar not null,
        row_number integer not null,
        document_kind varchar not null,
        file_url varchar not null,
        link_text varchar,
        sheet_name varchar,
        row_label varchar,
        column_label varchar,
        indicator_code varchar,
        period varchar,
        base_period varchar,
        cell_text varchar,
        value double,
        unit varchar
    )
    """

    # -- fetch: the section page, then the file(s) it links to, as sent --------------------------
    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        page_url = self.section_url(dataset)
        prev = previous.get(page_url)
        page = http.get(
            self.name, page_url, etag=prev.etag if prev else None, last_modified=prev.last_modified if prev else None
        )
        if page.not_modified:
            return []  # the section page unchanged: no new file was published
        captures = [Capture(dataset, page, None)]
        for link in self.file_links(page.url, page.body, dataset):
            prev = previous.get(link)
            fetched = http.get(
                self.name, link, etag=prev.etag if prev else None, last_modified=prev.last_modified if prev else None
            )
            if not fetched.not_modified:
                captures.append(Capture(dataset, fetched, _last_modified(fetched.headers.get("Last-Modified"))))
        return captures

    def section_url(self, dataset: str) -> str:
        key = f"section_page.{dataset}"
        if key not in self.config.options:
            raise KeyError(f"rosstat: no {key!r} in sources.json options for dataset {dataset!r}")
        return self.base_url + self.config.options[key]

    def file_links(self, page_url: str, body: bytes, dataset: str) -> list[str]:
        """This release's file(s) for the dataset: mediabank links whose text matches; XLSX preferred."""
        pattern = re.compile(self.config.options[f"link_text.{dataset}"], re.IGNORECASE)
        links = section_links(self.name, page_url, body)
        matching = [url for url, text in links if pattern.search(text) or pattern.search(urlsplit(url).path)]
        if not matching:
            raise SourceError(
                self.name,
                page_url,
                f"a {MEDIABANK} link whose text matches {pattern.pattern!r}",
                f"none among {[text for _, text in links][:10]} (layout or wording changed?)",
            )
        spreadsheets = [url for url in matching if urlsplit(url).path.lower().endswith(SPREADSHEET_SUFFIXES)]
        return spreadsheets or matching

    # -- parse: stored bytes to raw rows ---------------------------------------------------------
    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        if MEDIABANK not in urlsplit(meta.request_url).path:
            return parse_section_page(self.name, meta.request_url, body)
        expected = meta.dataset if meta.dataset in ROW_LABELS.values() else None
        return parse_workbook(self.name, meta.request_url, body, expected)


CONNECTOR = Rosstat


def section_links(source: str, page_url: str, body: bytes) -> list[tuple[str, str]]:
    """Every (absolute URL, link text) under /storage/mediabank/ on a section page."""
    if not _looks_like_html(body):
        raise ParseError(source, page_url, "an HTML section page", _sniff(body))
    soup = BeautifulSoup(body, "lxml")
    links = []
    for anchor in soup.find_all("a", href=True):
        url = urljoin(page_url, str(anchor["href"]))
        if MEDIABANK in urlsplit(url).path:
            links.append((url, _normalise(anchor.get_text(" "), lower=False)))
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


def parse_workbook(source: str, file_url: str, body: bytes, expected_indicator: str | None) -> pd.DataFrame:
    """An XLSX table of indices: a header row of period labels ('... в % к ...'), one row per activity."""
    _check_is_xlsx(source, file_url, body)
    try:
        workbook = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except WORKBOOK_ERRORS as exc:
        raise ParseError(
            source, file_url, "a readable XLSX workbook", f"{type(exc).__name__}: {exc} (truncated?)"
        ) from exc
    records: list[dict[str, Any]] = []
    headers_found = False
    try:
        for sheet in workbook.worksheets:
            try:  # read-only mode parses each sheet's XML only now
                rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            except WORKBOOK_ERRORS as exc:
                raise ParseError(
                    source, file_url, f"a readable sheet {sheet.title!r}", f"{type(exc).__name__}: {exc}"
                ) from exc
            sheet_records = _sheet_records(source, file_url, sheet.title, rows)
            headers_found = headers_found or sheet_records is not None
            records.extend(sheet_records or [])
    finally:
        workbook.close()
    if not headers_found:
        raise ParseError(
            source,
            file_url,
            "a header row with period columns like 'январь-август 2024 г. в % к январю-августу 2023 г.'",
            "none in any sheet (missing column or layout changed?)",
        )
    if not records:
        raise ParseError(source, file_url, "at least one value below the header", "no data rows (zero rows)")
    if expected_indicator is not None:
        found = {r["indicator_code"] for r in records}
        if expected_indicator not in found:
            wanted = [label for label, code in ROW_LABELS.items() if code == expected_indicator]
            labels = sorted({str(r["row_label"]) for r in records})
            raise ParseError(source, file_url, f"a row labelled {wanted} with a value", f"rows {labels[:15]}")
    return _frame(records)


def _sheet_records(source: str, file_url: str, sheet: str, rows: list[list[Any]]) -> list[dict[str, Any]] | None:
    """The values of one sheet, or None when it has no header row of period labels."""
    for index, cells in enumerate(rows):
        periods = {col: _period(_text(cell)) for col, cell in enumerate(cells) if _text(cell)}
        if not any(p is not None for p in periods.values()):
            continue
        others = [col for col, p in periods.items() if p is None]
        if len(others) != 1 or others[0] > min(col for col, p in periods.items() if p is not None):
            found = [_text(cells[col]) for col in others]
            raise ParseError(
                source, file_url, f"sheet {sheet!r}: one label column left of the period columns", f"{found}"
            )
        label_col = others[0]
        return _data_records(source, file_url, sheet, rows, index, label_col, periods)
    return None


def _data_records(
    source: str,
    file_url: str,
    sheet: str,
    rows: list[list[Any]],
    header_index: int,
    label_col: int,
    periods: dict[int, tuple[str, str] | None],
) -> list[dict[str, Any]]:
    header = rows[header_index]
    records = []
    for row_index, cells in enumerate(rows[header_index + 1 :], start=header_index + 2):
        label = _text(cells[label_col]) if label_col < len(cells) else ""
        if not label:
            continue
        for col, period in periods.items():
            if period is None:
                continue
            cell = cells[col] if col < len(cells) else None
            value = _value(source, file_url, cell, f"{sheet}!row {row_index}")
            if value is None:
                continue
            records.append(
                {
                    "document_kind": "workbook",
                    "file_url": file_url,
                    "link_text": None,
                    "sheet_name": sheet,
                    "row_label": label,
                    "column_label": _text(header[col]),
                    "indicator_code": ROW_LABELS.get(_normalise(FOOTNOTE.sub("", label))),
                    "period": period[0],
                    "base_period": period[1],
                    "cell_text": _text(cell),
                    "value": value,
                    "unit": INDEX_UNIT,
                }
            )
    return records


def _period(label: str) -> tuple[str, str] | None:
    """'январь-август 2024 г. в % к январю-августу 2023 г.' -> ('2024-01/2024-08', '2023-01/2023-08')."""
    match = PERIOD_LABEL.match(_normalise(label))
    if match is None:
        return None
    year, base = int(match["year"]), int(match["base"])
    if base != year - 1:
        return None
    first, last = _month(match["m1"]), _month(match["m2"] or match["m1"])
    base_first, base_last = _month(match["b1"]), _month(match["b2"] or match["b1"])
    if match["m1"] is None:
        return (str(year), str(base)) if match["b1"] is None else None
    if first is None or last is None or (first, last) != (base_first, base_last):
        return None
    return f"{year}-{first:02d}/{year}-{last:02d}", f"{base}-{first:02d}/{base}-{last:02d}"


def _month(word: str | None) -> int | None:
    if word is None:
        return None
    # longest stem first: 'ма' (май) must not swallow 'март'
    for number, stem in sorted(enumerate(MONTHS, start=1), key=lambda item: -len(item[1])):
        if word.startswith(stem):
            return number
    return None


def _value(source: str, file_url: str, cell: Any, where: str) -> float | None:
    if cell is None or isinstance(cell, bool):
        return None if cell is None else _bad(source, file_url, cell, where)
    if isinstance(cell, int | float):
        return float(cell)
    text = _text(cell)
    if text in NO_VALUE_MARKERS:
        return None
    if NUMBER.match(text.replace(" ", "")):
        return float(text.replace(" ", "").replace(",", "."))
    return _bad(source, file_url, cell, where)


def _bad(source: str, file_url: str, cell: Any, where: str) -> float:
    raise ParseError(source, file_url, "an index value (number, '-' or '…') or an empty cell", f"{cell!r} at {where}")


def _check_is_xlsx(source: str, file_url: str, body: bytes) -> None:
    """Only XLSX is read; every other format Rosstat uses fails with a message that names it."""
    if body[:8] == OLE2_MAGIC:
        raise ParseError(source, file_url, "an XLSX workbook", "a legacy OLE2 file (XLS or DOC): not supported")
    if _looks_like_html(body):
        raise ParseError(source, file_url, "an XLSX workbook", "an HTML page (an error page, or an HTML table)")
    if body[:2] != b"PK":
        raise ParseError(source, file_url, "an XLSX workbook (a zip)", _sniff(body))
    try:
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    except zipfile.BadZipFile as exc:
        raise ParseError(source, file_url, "a complete XLSX zip", f"{exc} (truncated?)") from exc
    if "word/document.xml" in names:
        raise ParseError(source, file_url, "an XLSX workbook", "a DOCX document: not supported")
    if "xl/workbook.xml" not in names:
        raise ParseError(source, file_url, "an XLSX workbook (xl/workbook.xml)", f"a zip of {names[:5]}")


def _looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _sniff(body: bytes) -> str:
    if not body:
        return "an empty body"
    return repr(body[:40])


def _text(cell: Any) -> str:
    return "" if cell is None else _normalise(str(cell), lower=False)


def _normalise(text: str, lower: bool = True) -> str:
    """Labels carry CR/LF and NBSP: collapse whitespace (and lower-case for matching)."""
    text = " ".join(text.replace("\u00a0", " ").split())
    return text.lower() if lower else text


def _last_modified(header: str | None) -> date | None:
    """Rosstat files state no release date; the file's Last-Modified is the nearest the server gives."""
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
    return frame
