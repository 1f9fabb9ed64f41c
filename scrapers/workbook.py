"""Spreadsheets as published (XLSX and legacy XLS): every sheet's cells as stored, for the publishers' loaders."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from unionstat.errors import ParseError

#: The first bytes of the two workbook containers: XLSX is a zip, XLS (BIFF) an OLE2 compound file.
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: A number written as text: optional sign, digits grouped by spaces (NBSP, narrow NBSP), a decimal comma or point.
#: The columns of a table loaded whole, one row per cell (raw.rosstat_cells and raw.belstat_cells share them, so
#: staging picks indicators out of both alike): where the cell is, what its row and column say, the period and unit
#: read from the headers and title, the value and the text as written, and the release stamp.
CELL_COLUMNS = [
    "sheet_name",
    "table_title",
    "unit",
    "row_index",
    "column_index",
    "cell_ref",
    "row_label",
    "row_code",
    "column_header",
    "period",
    "period_text",
    "notes",
    "value",
    "value_text",
    "release_date",
]
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_NUMBER_TEXT = re.compile(r"^[-\u2212\u2013]?\d+([.,]\d+)?$")


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its cells as stored (row 0 / column 0 is A1), and its merged ranges (inclusive)."""

    name: str
    rows: tuple[tuple[Any, ...], ...]
    merged: tuple[tuple[tuple[int, int], tuple[int, int]], ...]

    def cell(self, row: int, column: int) -> Any:
        """The stored value at (row, column), None where the sheet has nothing."""
        if row < len(self.rows) and column < len(self.rows[row]):
            value = self.rows[row][column]
            return None if value == "" else value
        return None

    def merged_anchor(self, row: int, column: int) -> tuple[int, int]:
        """The top-left cell of the merged range that covers (row, column), or the cell itself."""
        for (top, left), (bottom, right) in self.merged:
            if top <= row <= bottom and left <= column <= right:
                return top, left
        return row, column


def workbook_format(body: bytes | Path) -> str | None:
    """'xlsx' or 'xls' from the magic bytes, None for anything else (an HTML error page, a DOCX is a zip too). Given
    a path, only the magic bytes and a zip's member list are read from the file."""
    if isinstance(body, Path):
        with open(body, "rb") as handle:
            head = handle.read(len(XLS_MAGIC))
    else:
        head = body
    if head.startswith(XLS_MAGIC):
        return "xls"
    if head.startswith(XLSX_MAGIC):
        try:
            with zipfile.ZipFile(body if isinstance(body, Path) else io.BytesIO(body)) as archive:
                return "xlsx" if "xl/workbook.xml" in archive.namelist() else None
        except zipfile.BadZipFile:
            return None
    return None


def read_workbook(source: str, location: str, body: bytes) -> list[Sheet]:
    """Every worksheet of an XLSX or XLS body, cells as stored; a ParseError naming the file otherwise."""
    kind = workbook_format(body)
    if kind is None:
        raise ParseError(source, location, "an XLSX or XLS workbook (PK or OLE2 magic bytes)", _sniff(body))
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(body))
        sheets = []
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            grid = sheet.to_python(skip_empty_area=False)  # from A1, not from the first used cell
            rows = tuple(tuple(_plain(value) for value in row) for row in grid)
            merged = tuple(
                ((top, left), (bottom, right)) for (top, left), (bottom, right) in (sheet.merged_cell_ranges or [])
            )
            sheets.append(Sheet(name, rows, merged))
    except (CalamineError, ValueError, TypeError, OSError) as exc:
        raise ParseError(
            source, location, f"a readable {kind.upper()} workbook", f"{type(exc).__name__}: {exc}"
        ) from exc
    return sheets


def number_from_text(text: str) -> float | None:
    """A number a publisher wrote as text: '1 991,2' (NBSP thousands, decimal comma), '−3,4', '105.3'.
    None when the text is not a number (a dash, '…', 'x', a footnote): the caller keeps the text."""
    compact = _SPACES.sub("", text.strip())
    if not _NUMBER_TEXT.match(compact):
        return None
    return float(compact.replace("\u2212", "-").replace("\u2013", "-").replace(",", "."))


def clean_text(value: Any) -> str | None:
    """A label as a person reads it: line breaks, NBSP and runs of spaces as one space; None when empty."""
    if value is None:
        return None
    text = _SPACES.sub(" ", str(value)).strip()
    return text or None


def _plain(value: Any) -> Any:
    """Cells as plain Python values: numbers, text, dates (times and datetimes as ISO text), None for empty."""
    if value == "":
        return None
    if isinstance(value, datetime):
        return value.date() if value.time() == time(0) else value.isoformat()
    if isinstance(value, time | timedelta):
        return str(value)
    if isinstance(value, date | bool | int | float | str):
        return value
    return str(value)


def _sniff(body: bytes) -> str:
    head = body[:200].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if body.startswith(XLSX_MAGIC):
        return "a zip that is not a workbook (a DOCX?)"
    if not head:
        return "an empty body"
    return f"bytes {body[:16]!r}"
