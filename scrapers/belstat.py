"""Belstat (National Statistical Committee of Belarus): workbooks and website tables loaded whole, cell by cell."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pandas as pd
from bs4 import BeautifulSoup, Tag

from scrapers.base import (
    WORKBOOK_ERRORS,
    Capture,
    Connector,
    ImportedFile,
    NotConfigured,
    Previous,
    SnapshotLayout,
    SnapshotMeta,
    header_shape,
    structural_text,
)
from scrapers.workbook import CELL_COLUMNS, clean_text, number_from_text, read_workbook, workbook_format
from unionstat.errors import ParseError, SourceError
from unionstat.http import HttpClient

#: The cells (scrapers.workbook.CELL_COLUMNS) and what Belstat adds: the container, the text encoding of a web page,
#: the footnotes under the table.
RAW_COLUMNS = [*CELL_COLUMNS, "file_format", "text_encoding", "table_notes"]
MAX_XLSX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
IMPORT_SUFFIXES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".html": "text/html",
    ".htm": "text/html",
}
HTML_START = (b"<!doctype html", b"<html", b"<table", b"<?xml", b"<head", b"<body")
#: Belstat's tables say whose figures they are in the title: "... Республики Беларусь", "Republic of Belarus".
BELARUS = re.compile(r"Республик\w* Беларусь|Republic of Belarus|Белстат|Belstat", re.IGNORECASE)
#: Belstat's conventional symbols in a data cell: no phenomenon, data not available, not meaningful.
SYMBOLS = {"-", "–", "—", "…", "...", "x", "х"}
#: The longest text a code column holds ('J (62-63)', '01-03'); labels are longer.
CODE_LENGTH = 12
#: Another publisher's workbook: Rosstat opens on a contents sheet.
NOT_BELSTAT_SHEETS = {"содержание", "contents"}
#: A footnote mark after a label or a header: "Россия1)", "2024 г.2)", "Всего*".
FOOTNOTE_MARK = re.compile(r"\s*(?:(?P<num>\d(?:,\d)*)\)|(?P<stars>\*+))$")
_MONTH_STEMS = (
    r"январ[ьяюе]",
    r"феврал[ьяюе]",
    r"март[аеу]?",
    r"апрел[ьяюе]",
    r"ма[йяюе]",
    r"июн[ьяюе]",
    r"июл[ьяюе]",
    r"август[аеу]?",
    r"сентябр[ьяюе]",
    r"октябр[ьяюе]",
    r"ноябр[ьяюе]",
    r"декабр[ьяюе]",
)
_MONTH = "|".join(f"(?:{stem})" for stem in _MONTH_STEMS)
_YEAR = r"(?P<year>(?:19|20)\d{2})(?!\d)(?:\s*(?:г\.|года|год|г(?!\w)))?"
#: "декабрь 2024 г.", "январь – декабрь 2024 г.", "Январь / January 2025 г.", "за январь 2024 г."
MONTHS_AND_YEAR = re.compile(
    rf"(?<!\w)(?P<first>{_MONTH})(?!\w)(?:\s*[-–—]\s*(?P<last>{_MONTH})(?!\w))?"
    rf"(?:\s*/\s*[A-Za-z]+(?:\s*[-–—]\s*[A-Za-z]+)?)?\s+{_YEAR}",
    re.IGNORECASE,
)
YEAR_ONLY = re.compile(rf"(?<!\d){_YEAR}")
#: A header that says the source states no period (the reference snapshot's compiled investment table).
NOT_STATED = re.compile(r"(?:год|период) не указан", re.IGNORECASE)
#: The unit or basis of a column, from its header or the title: "рублей", "в процентах к итогу", "%".
UNIT = re.compile(
    r"(?:в\s+процентах|в\s*%|процентов)(?:\s+к\s+[^/|(),;]+)?"
    r"|(?:(?:тыс|млн|млрд)\.?\s+)?(?:рублей|руб\.|долларов\s+США|евро|тонн|человек)"
    r"|%|BYN",
    re.IGNORECASE,
)


@dataclass
class Grid:
    """One table as stored: cells by (row, column) from 0 (A1), merged areas as covered cell -> top-left cell."""

    name: str
    cells: dict[tuple[int, int], Any]
    anchors: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    title: str | None = None  # HTML: the caption or heading; workbooks: read from the rows above the header
    notes: str | None = None  # HTML: the paragraphs after the table
    _rows: dict[int, dict[int, Any]] | None = None

    def row(self, row: int) -> dict[int, Any]:
        """The stored cells of one row, by column."""
        if self._rows is None:
            self._rows = {}
            for (r, c), value in sorted(self.cells.items()):
                self._rows.setdefault(r, {})[c] = value
        return self._rows.get(row, {})

    def text(self, row: int, column: int, within: int = 0) -> str | None:
        """The clean text shown at (row, column): the merged area's top-left cell if it starts at row `within` or
        below (a title merged over the header columns does not head them)."""
        top, left = self.anchors.get((row, column), (row, column))
        if top < within:
            return None
        return clean_text(_as_text(self.cells.get((top, left))))


class Belstat(Connector):
    raw_ddl = """
    create table if not exists raw.belstat_cells (
        snapshot_sha256 varchar not null,
        row_number integer not null,
        sheet_name varchar not null,
        table_title varchar,
        unit varchar,
        row_index integer not null,
        column_index integer not null,
        cell_ref varchar not null,
        row_label varchar,
        row_code varchar,
        column_header varchar,
        period varchar,
        period_text varchar,
        notes varchar,
        value double,
        value_text varchar not null,
        release_date date,
        file_format varchar not null,
        text_encoding varchar,
        table_notes varchar
    )
    """

    # -- fetch: copy the answer or the file as sent ------------------------------------------------
    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        query = self.config.api.get("indicators", {}).get(dataset)
        if query is not None:
            return self.fetch_indicator(http, dataset, query)
        if f"{dataset}.landing_page" in self.config.options:
            return self.fetch_from_landing_page(http, dataset, previous)
        if not self.fetchable_path(http, dataset) and dataset in self.config.api.get("not_configured", {}):
            raise NotConfigured(
                self.name,
                dataset,
                "api.not_configured",
                "an OSIDS indicator (api.indicators) or a landing page to fetch",
                self.config.api["not_configured"][dataset],
            )
        fetched = self.get_if_changed(http, self.url(dataset), previous)
        if fetched is None:
            return []
        return [Capture(dataset, fetched, release_date_of(fetched.headers.get("Last-Modified")))]

    def fetch_indicator(self, http: HttpClient, dataset: str, query: Mapping[str, Any]) -> list[Capture]:
        """The OSIDS data API: one POST per span of at most `years_per_request` years, each answer stored as sent
        under a URL naming the indicator and the span (the POST body is the rest of the request's identity)."""
        api = self.config.api
        base = self.settings.base_url(f"{self.name}_api", api["base_url"])  # UNIONSTAT_BELSTAT_API_BASE_URL
        endpoint = f"{base}/{api['values_path'].lstrip('/')}"
        captures = []
        for years in year_spans(query["years"], int(api.get("years_per_request", 10))):
            body = values_request(query, years)
            fetched = http.post_json(self.name, endpoint, body)
            identity = f"{endpoint}?indicatorCode={query['indicatorCode']}&years={years[0]}-{years[-1]}"
            captures.append(Capture(dataset, dataclasses.replace(fetched, url=identity), None))
        return captures

    def fetch_from_landing_page(
        self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]
    ) -> list[Capture]:
        """Newer Belstat files have hashed names (/upload/iblock/<3 hex>/<32 hex>.xlsx): found by their link text on
        the section's landing page, never by a file name kept here."""
        page_url = f"{self.base_url}{self.config.options[f'{dataset}.landing_page']}"
        page = http.get(self.name, page_url)
        pattern = re.compile(self.config.options[f"{dataset}.link_text"], re.IGNORECASE)
        links = landing_page_links(self.name, page.url, page.body)
        matching = [url for url, text in links if pattern.search(text)]
        if not matching:
            raise SourceError(
                self.name,
                page.url,
                f"a link under /upload/iblock/ whose text matches {pattern.pattern!r}",
                f"none among {[text for _, text in links][:10]} (the section moved or was renamed?)",
            )
        captures = []
        for url in matching[:1]:  # the newest release is listed first
            fetched = self.get_if_changed(http, url, previous)
            if fetched is not None:
                captures.append(Capture(dataset, fetched, release_date_of(fetched.headers.get("Last-Modified"))))
        return captures

    def fetchable_path(self, http: HttpClient, dataset: str) -> bool:
        """A file path to GET: a publisher path, or a `reference_path` (a file compiled from the paper that only the
        reference snapshot serves, see Connector.serves_reference; against belstat.gov.by itself such a dataset is
        not configured, never a 404)."""
        opts = self.config.options
        if f"{dataset}.path" in opts:
            return True
        return f"{dataset}.reference_path" in opts and self.serves_reference(http)

    def url(self, dataset: str) -> str:
        if dataset not in self.config.datasets:
            raise KeyError(f"belstat has no dataset {dataset!r}; known: {sorted(self.config.datasets)}")
        for key in (f"{dataset}.path", f"{dataset}.reference_path"):
            if key in self.config.options:
                return f"{self.base_url}{self.config.options[key]}"
        raise KeyError(f"scrapers/sources.json: belstat options lack {dataset}.path")

    # -- parse: stored bytes to raw rows, every cell ----------------------------------------------
    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):  # the data API's JSON; files are never JSON
            records = api_records(self.name, meta.request_url, body)
        else:
            records = read_cells(self.name, meta.request_url, body)
        for record in records:
            record["release_date"] = meta.release_date
        return pd.DataFrame.from_records(records, columns=RAW_COLUMNS).astype({"value": "float64"})

    # -- layout: what the parser reads, without values -------------------------------------------
    def layout(self, path: Path, meta: SnapshotMeta) -> SnapshotLayout:
        """The data API's answer: its keys and dimension ids; a workbook or page: its sheets (tables) in order, and
        for each table its title, header and data start rows, label and code columns and header cells."""
        body = path.read_bytes()
        if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
            return SnapshotLayout(meta.dataset, api_layout(body))
        return SnapshotLayout(meta.dataset, table_layout(self.name, meta.request_url, body))

    # -- import: a workbook or saved page downloaded by hand -------------------------------------
    import_formats = "a Belstat XLSX/XLS workbook or web table whose title names Belarus"

    def recognise_import(self, path: Path) -> ImportedFile | None:
        """A Belstat table: a workbook or page whose title names Belarus (Rosstat's contents sheet, a World Bank
        file are not). The dataset is the registry's whose file has this name (or matches its `file_pattern`), else
        the file's stem. Release date: none (the file states none; the vintage falls back to the import date)."""
        suffix = path.suffix.lower()
        if suffix not in IMPORT_SUFFIXES:
            return None
        try:
            grids, _, _ = read_grids(self.name, str(path), path.read_bytes())
        except ParseError:
            return None
        if any(grid.name.strip().casefold() in NOT_BELSTAT_SHEETS for grid in grids):
            return None
        titles = []
        for grid in grids:
            try:
                layout = find_layout(self.name, str(path), grid)
            except ParseError:
                continue
            if layout is not None:
                titles.append(layout.title or "")
        if not any(BELARUS.search(title) for title in titles):
            return None
        return ImportedFile(self.dataset_of(path.name), None, IMPORT_SUFFIXES[suffix])

    def dataset_of(self, file_name: str) -> str:
        """The registry dataset a file downloaded by hand is a release of."""
        name = file_name.casefold()
        for dataset in self.config.datasets:
            path = self.config.options.get(f"{dataset}.path", "")
            pattern = self.config.options.get(f"{dataset}.file_pattern")
            if path.rsplit("/", 1)[-1].casefold() == name or (pattern and re.fullmatch(pattern, name)):
                return dataset
        return Path(file_name).stem


CONNECTOR = Belstat


# -- the data API (OSIDS): request bodies, answers -> cell records ---------------------------------
HASHED_FILE = re.compile(r"/upload/iblock/[0-9a-f]{3}/[0-9a-z]{32}\.(?:xlsx|xls)$", re.IGNORECASE)


def year_spans(years: str, per_request: int) -> list[list[int]]:
    """'2010-2024' in spans of at most `per_request` years: [[2010..2019], [2020..2024]] (the API's limit)."""
    first, _, last = years.partition("-")
    every = list(range(int(first), int(last or first) + 1))
    return [every[i : i + per_request] for i in range(0, len(every), per_request)]


def values_request(query: Mapping[str, Any], years: list[int]) -> dict[str, Any]:
    """The body of indicator/indicatorValuesSearch as public clients send it: every classification of the
    indicator in `dimensionOrder`, the unused ones as EMPTY arrays (a 'total' node there returns no rows)."""
    order = list(query["dimensionOrder"])
    params = dict(query.get("dimensionParams", {}))
    unknown = sorted(set(params) - set(order))
    if unknown:
        raise ValueError(f"sources.json belstat api: dimensionParams {unknown} are not in dimensionOrder {order}")
    return {
        "indicatorCode": str(query["indicatorCode"]),
        "valuesFilter": {
            "years": years,
            "periodicities": list(query.get("periodicities", [])),
            "units": [str(unit) for unit in query.get("units", [])],
            "dimensionOrder": order,
            "dimensionParams": {name: [str(code) for code in params.get(name, [])] for name in order},
            "simbolsAfterComma": int(query.get("simbolsAfterComma", 1)),
        },
    }


def api_records(source: str, location: str, body: bytes) -> list[dict[str, Any]]:
    """An SDMX-JSON answer: one record per observation, keyed by position ('0:0:3': the value of each
    dimension by index), with the dimension labels as the row label and the time label as the column header."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(source, location, "a JSON answer of the data API", f"not JSON ({exc})") from exc
    root = document.get("data", document) if isinstance(document, dict) else None
    if not isinstance(root, dict) or "dataSets" not in root or "structure" not in root:
        keys = sorted(root) if isinstance(root, dict) else type(document).__name__
        raise ParseError(source, location, "an SDMX-JSON answer (dataSets, structure)", f"keys {keys}")
    dimensions = root["structure"].get("dimensions", {})
    series_dims = dimensions.get("series", [])
    observation_dims = dimensions.get("observation", [])
    name = root["structure"].get("name") or "indicator"
    records: list[dict[str, Any]] = []
    for data_set in root["dataSets"]:
        flat = [(key, obs) for key, obs in (data_set.get("observations") or {}).items()]
        nested = [
            (f"{series_key}:{obs_key}", obs)
            for series_key, series in (data_set.get("series") or {}).items()
            for obs_key, obs in (series.get("observations") or {}).items()
        ]
        for row, (key, observation) in enumerate(flat + nested):
            records.append(
                _observation_record(source, location, name, key, observation, [*series_dims, *observation_dims], row)
            )
    if not records:
        raise ParseError(
            source,
            location,
            "observations for the requested indicator and years",
            "none: an empty answer (the known trap: a 'total' node in dimensionParams returns 0 rows; send unused "
            "classifications as empty arrays) or no data for these years",
        )
    return records


def _observation_record(
    source: str, location: str, name: str, key: str, observation: Any, dims: list[Mapping[str, Any]], row: int
) -> dict[str, Any]:
    positions = [int(part) for part in key.split(":")]
    if len(positions) != len(dims):
        raise ParseError(source, location, f"observation keys with {len(dims)} positions", f"{key!r}")
    picked = []
    for dim, index in zip(dims, positions, strict=True):
        values = dim.get("values", [])
        if index >= len(values):
            raise ParseError(
                source, location, f"a value {index} of dimension {dim.get('id')!r}", f"{len(values)} values"
            )
        picked.append((dim, values[index]))
    time = [(d, v) for d, v in picked if str(d.get("id", "")).upper() in ("TIME_PERIOD", "TIME", "YEAR")]
    other = [(d, v) for d, v in picked if (d, v) not in time]
    value = observation[0] if isinstance(observation, list) and observation else observation
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else cell_number(value)
    period = str(time[0][1].get("id")) if time else None
    return {
        "sheet_name": name,
        "table_title": name,
        "unit": None,
        "row_index": row + 1,
        "column_index": positions[-1] + 1,
        "cell_ref": key,
        "row_label": " | ".join(str(v.get("name") or v.get("id")) for _, v in other) or None,
        "row_code": " | ".join(f"{d.get('id')}={v.get('id')}" for d, v in other) or None,
        "column_header": str(time[0][1].get("name") or period) if time else None,
        "period": period,
        "period_text": period,
        "notes": None,
        "value": number,
        "value_text": "" if value is None else str(value),
        "file_format": "sdmx-json",
        "text_encoding": "utf-8",
        "table_notes": None,
    }


def api_layout(body: bytes) -> dict[str, Any]:
    """An SDMX-JSON answer's keys (root, structure, data sets) and its series and observation dimension ids."""
    document = json.loads(body.decode("utf-8-sig"))
    root = document.get("data", document) if isinstance(document, dict) else {}
    structure = root.get("structure", {}) if isinstance(root, dict) else {}
    dimensions = structure.get("dimensions", {}) if isinstance(structure, dict) else {}
    data_sets = root.get("dataSets", []) if isinstance(root, dict) else []
    return {
        "format": "sdmx-json",
        "wrapped_in_data": isinstance(document, dict) and "data" in document,
        "keys": sorted(root) if isinstance(root, dict) else [],
        "structure_keys": sorted(structure) if isinstance(structure, dict) else [],
        "dataset_keys": sorted({key for item in data_sets if isinstance(item, dict) for key in item}),
        "series_dimensions": [str(d.get("id")) for d in dimensions.get("series", [])],
        "observation_dimensions": [str(d.get("id")) for d in dimensions.get("observation", [])],
    }


def table_layout(source: str, location: str, body: bytes) -> dict[str, Any]:
    """Every sheet or HTML table in order; for a table with numbers, where find_layout finds its parts."""
    grids, file_format, _ = read_grids(source, location, body)
    tables: list[dict[str, Any]] = []
    for grid in grids:
        layout = find_layout(source, location, grid)
        if layout is None:
            tables.append({"sheet": grid.name, "role": "notes"})
            continue
        width = max((c for _, c in grid.cells), default=-1) + 1
        tables.append(
            {
                "sheet": grid.name,
                "role": "table",
                "title": structural_text(layout.title),
                "header_rows": [layout.header_start + 1, layout.data_start],
                "label_column": _letter(layout.label_column),
                "code_column": None if layout.code_column is None else _letter(layout.code_column),
                "headers": header_shape(" | ".join(_header_path(grid, layout, c)[0]) or None for c in range(width)),
            }
        )
    return {"format": file_format, "tables": tables}


def landing_page_links(source: str, page_url: str, body: bytes) -> list[tuple[str, str]]:
    """Every (absolute URL, link text) of a hashed workbook (/upload/iblock/<3 hex>/<32 hex>.xlsx) on a page."""
    soup = BeautifulSoup(body, "lxml")
    links = []
    for anchor in soup.find_all("a", href=True):
        url = urljoin(page_url, str(anchor["href"]))
        if HASHED_FILE.search(urlsplit(url).path):
            links.append((url, clean_text(anchor.get_text(" ")) or ""))
    if not links:
        raise SourceError(source, page_url, "links to workbooks under /upload/iblock/", "none (the section moved?)")
    return links


# -- the entry: bytes -> cell records ------------------------------------------------------------
def read_cells(source: str, location: str, body: bytes) -> list[dict[str, Any]]:
    """Load (sniff and read the file) / Process (find each table's layout) / Save (one record per stored cell)."""
    grids, file_format, encoding = read_grids(source, location, body)
    records: list[dict[str, Any]] = []
    for grid in grids:
        layout = find_layout(source, location, grid)
        if layout is not None:
            records.extend(cell_records(grid, layout, file_format, encoding))
    if not records:
        names = [grid.name for grid in grids]
        raise ParseError(
            source, location, f"numbers beside a row label on a sheet or table ({names})", "no number on any of them"
        )
    return records


def read_grids(source: str, location: str, body: bytes) -> tuple[list[Grid], str, str | None]:
    """Sniff the bytes, not the URL or the Content-Type: an XLSX or XLS workbook, or an HTML page."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    expects_workbook = location.lower().split("?")[0].endswith((".xlsx", ".xls"))
    if not body:
        raise ParseError(source, location, "an XLSX or XLS workbook or an HTML table", "an empty body")
    kind = workbook_format(body)
    if kind is not None:
        if kind == "xlsx":
            _check_zip(source, location, body)
        sheets = read_workbook(source, location, body)
        return [_sheet_grid(sheet.name, sheet.rows, sheet.merged) for sheet in sheets], kind, None
    if body[:2] == b"PK":
        _check_zip(source, location, body)
        raise ParseError(source, location, "an XLSX workbook", "a zip without xl/workbook.xml (not a workbook)")
    if head.startswith(HTML_START):
        if expects_workbook:
            raise ParseError(
                source,
                location,
                "an XLSX or XLS workbook (the URL names a workbook)",
                f"an HTML page ({_html_title(body)!r}): an error or moved-file page served in its place",
            )
        text, encoding = decode_text(source, location, body)
        return html_grids(source, location, text), "html", encoding
    raise ParseError(source, location, "an XLSX or XLS workbook or an HTML page", f"bytes starting {body[:16]!r}")


def _check_zip(source: str, location: str, body: bytes) -> None:
    """A damaged zip or one that unpacks huge (a zip bomb) stops here, before the reader is asked."""
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


def _sheet_grid(name: str, rows: Iterable[Iterable[Any]], merged: Iterable[Any]) -> Grid:
    cells = {
        (r, c): value
        for r, row in enumerate(rows)
        for c, value in enumerate(row)
        if value is not None and not (isinstance(value, str) and not value.strip())
    }
    anchors = {}
    for (top, left), (bottom, right) in merged:
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                if (r, c) != (top, left):
                    anchors[(r, c)] = (top, left)
    return Grid(name, cells, anchors)


def html_grids(source: str, location: str, text: str) -> list[Grid]:
    """Every <table> of a page as a grid (rowspan/colspan as merged areas), its caption or heading as the title."""
    soup = BeautifulSoup(text, "lxml")
    tables = [t for t in soup.find_all("table") if isinstance(t, Tag)]
    if not tables:
        title = soup.title.get_text(" ") if soup.title else ""
        raise ParseError(source, location, "an HTML <table>", f"a page without tables ({clean_text(title) or ''!r})")
    grids = []
    for number, element in enumerate(tables, start=1):
        grid = _html_grid(f"table {number}", element)
        caption = element.find("caption")
        heading = element.find_previous(["h1", "h2", "h3", "h4"])
        around = caption if isinstance(caption, Tag) else heading if isinstance(heading, Tag) else None
        grid.title = clean_text(around.get_text(" ")) if around else None
        notes = [clean_text(p.get_text(" ")) for p in element.find_next_siblings("p", limit=5) if isinstance(p, Tag)]
        grid.notes = " ".join(n for n in notes if n) or None
        grids.append(grid)
    return grids


def _html_grid(name: str, table: Tag) -> Grid:
    placed: set[tuple[int, int]] = set()
    grid = Grid(name, {})
    for r, tr in enumerate(table.find_all("tr")):
        c = 0
        for td in tr.find_all(["td", "th"], recursive=False):
            while (r, c) in placed:
                c += 1
            rowspan, colspan = _span(td.get("rowspan")), _span(td.get("colspan"))
            text = td.get_text(" ")
            if text.strip():
                grid.cells[(r, c)] = text
            for dr in range(rowspan):
                for dc in range(colspan):
                    placed.add((r + dr, c + dc))
                    if (dr, dc) != (0, 0):
                        grid.anchors[(r + dr, c + dc)] = (r, c)
            c += colspan
    return grid


def decode_text(source: str, location: str, body: bytes) -> tuple[str, str]:
    """UTF-8 if the bytes are valid UTF-8 (windows-1251 Cyrillic never is), else windows-1251."""
    if body.startswith(b"\xef\xbb\xbf"):
        try:
            return body[3:].decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            raise ParseError(
                source, location, "UTF-8 text after a UTF-8 byte-order mark", f"undecodable bytes at {exc.start + 3}"
            ) from exc
    if b"\x00" in body[:4096]:
        raise ParseError(source, location, "text in UTF-8 or windows-1251", "NUL bytes (UTF-16 or UTF-32 text?)")
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


# -- the layout of one table --------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """Where a table's parts sit (rows and columns from 0): title rows, header rows, data rows, label columns."""

    header_start: int
    data_start: int
    data_end: int  # inclusive
    label_column: int
    code_column: int | None
    title: str | None
    notes: str | None


def find_layout(source: str, location: str, grid: Grid) -> Layout | None:
    """The house layout: a title, a header of one to three (merged) rows, then rows with a label and numbers.
    None for a table without numbers (a layout table, a notes sheet); a ParseError when numbers sit where no
    label or header explains them."""
    numeric_rows = sorted({r for (r, _), value in grid.cells.items() if cell_number(value) is not None})
    if not numeric_rows:
        return None
    label_column = _label_column(source, location, grid, numeric_rows)
    data_start = next((r for r in numeric_rows if _is_data_row(grid, r, label_column)), None)
    if data_start is None and all(_year_like(v) for v in grid.cells.values() if cell_number(v) is not None):
        return None  # only years (a notes or methodology sheet's dates): no table here
    if data_start is None:
        raise ParseError(
            source,
            location,
            f"sheet {grid.name!r}: a data row (a label in column {_letter(label_column)} and numbers beside it)",
            f"numbers only in rows {[r + 1 for r in numeric_rows[:8]]}, none with a label",
        )
    while data_start > 0 and _is_symbol_row(grid, data_start - 1, label_column):
        data_start -= 1
    header_start = data_start
    while header_start > 0 and _is_header_row(grid, header_start - 1, label_column):
        header_start -= 1
    if header_start == data_start:
        raise ParseError(
            source,
            location,
            f"sheet {grid.name!r}: header rows (column headings) above the first data row {data_start + 1}",
            "none: the numbers start right under the title or at the top",
        )
    data_end = max(r for (r, c) in grid.cells if c != label_column and r >= data_start)
    code_column = _code_column(grid, data_start, data_end, label_column)
    title_rows = [_row_text(grid, r) for r in range(header_start)]
    title = " ".join(t for t in [grid.title, *title_rows] if t) or None
    max_row = max(r for r, _ in grid.cells)
    notes_rows = [_row_text(grid, r) for r in range(data_end + 1, max_row + 1)]
    notes = " ".join(t for t in [*notes_rows, grid.notes] if t) or None
    return Layout(header_start, data_start, data_end, label_column, code_column, title, notes)


def _label_column(source: str, location: str, grid: Grid, numeric_rows: list[int]) -> int:
    """The column that most rows with numbers start with a text in (column B in the house layout)."""
    starts: Counter[int] = Counter()
    for r in numeric_rows:
        first = min(grid.row(r))
        if cell_number(grid.row(r)[first]) is None:
            starts[first] += 1
    if not starts:
        raise ParseError(
            source,
            location,
            f"sheet {grid.name!r}: row labels (text) left of the numbers",
            f"rows {[r + 1 for r in numeric_rows[:8]]} start with a number",
        )
    return starts.most_common(1)[0][0]


def _is_data_row(grid: Grid, row: int, label_column: int) -> bool:
    """A text label of its own and numbers right of it that are not a row of year headings ('2020', '2021 г.')."""
    cells = grid.row(row)
    if label_column not in cells or cell_number(cells[label_column]) is not None:
        return False
    right = [value for c, value in cells.items() if c > label_column]
    if not any(cell_number(value) is not None for value in right):
        return False
    return not all(_year_like(value) for value in right)


def _year_like(value: Any) -> bool:
    return bool(YEAR_ONLY.fullmatch(clean_text(_as_text(value)) or ""))


def _is_symbol_row(grid: Grid, row: int, label_column: int) -> bool:
    """A data row of Belstat's symbols only ('-', '…', 'x'), above the first row with a number."""
    cells = grid.row(row)
    if label_column not in cells or cell_number(cells[label_column]) is not None:
        return False
    right = [clean_text(_as_text(value)) for c, value in cells.items() if c > label_column]
    return bool(right) and all(text in SYMBOLS for text in right)


def _is_header_row(grid: Grid, row: int, label_column: int) -> bool:
    """A row with headings over the value columns: a stored cell there, or a heading merged down from above."""
    if any(c > label_column for c in grid.row(row)):
        return True
    return any(r == row and c > label_column and top < row for (r, c), (top, _) in grid.anchors.items())


def _code_column(grid: Grid, start: int, end: int, label_column: int) -> int | None:
    """A column of short codes beside the labels (an OKED section 'A', '01-03'), holding no number, with numbers
    further right."""
    columns: dict[int, list[Any]] = {}
    for r in range(start, end + 1):
        for c, value in grid.row(r).items():
            if c != label_column:
                columns.setdefault(c, []).append(value)
    numeric = sorted(c for c, values in columns.items() if any(cell_number(v) is not None for v in values))
    for column, values in sorted(columns.items()):
        short = all(len(clean_text(_as_text(v)) or "") <= CODE_LENGTH for v in values)
        if numeric and column < numeric[-1] and column not in numeric and short:
            return column
    return None


def _row_text(grid: Grid, row: int) -> str | None:
    seen: list[str] = []
    for value in grid.row(row).values():
        text = clean_text(_as_text(value))
        if text and text not in seen:
            seen.append(text)
    return " ".join(seen) or None


# -- the cells ------------------------------------------------------------------------------------
def cell_records(grid: Grid, layout: Layout, file_format: str, encoding: str | None) -> list[dict[str, Any]]:
    """One record per stored cell of the data rows (labels and codes are the row's, not cells of their own)."""
    headers: dict[int, tuple[list[str], list[str]]] = {}
    stub, _ = _header_path(grid, layout, layout.label_column)
    records = []
    for (r, c), stored in sorted(grid.cells.items()):
        if not layout.data_start <= r <= layout.data_end or c in (layout.label_column, layout.code_column):
            continue
        if c not in headers:
            headers[c] = _header_path(grid, layout, c)
        path, header_marks = headers[c]
        label, label_marks = split_mark(grid.text(r, layout.label_column, layout.data_start))
        code = grid.text(r, layout.code_column, layout.data_start) if layout.code_column is not None else None
        period, period_text = period_of(path, layout.title)
        value = cell_number(stored)
        marks = [*label_marks, *header_marks]
        text = repr(stored) if isinstance(stored, float) else _as_text(stored)
        if value is None:
            text_value, cell_marks = split_mark(clean_text(text))
            value = number_from_text(text_value) if text_value else None
            marks += cell_marks if value is not None else []
        records.append(
            {
                "sheet_name": grid.name,
                "table_title": layout.title,
                "unit": unit_of(path, stub, layout.title),
                "row_index": r + 1,
                "column_index": c + 1,
                "cell_ref": f"{_letter(c)}{r + 1}",
                "row_label": label,
                "row_code": code,
                "column_header": " | ".join(path) or None,
                "period": period,
                "period_text": period_text,
                "notes": ",".join(dict.fromkeys(marks)) or None,
                "value": value,
                "value_text": text,
                "file_format": file_format,
                "text_encoding": encoding,
                "table_notes": layout.notes,
            }
        )
    return records


def _header_path(grid: Grid, layout: Layout, column: int) -> tuple[list[str], list[str]]:
    """The header cells over a column, top to bottom (a merged heading once), footnote marks split off."""
    path: list[str] = []
    marks: list[str] = []
    seen: set[tuple[int, int]] = set()
    for r in range(layout.header_start, layout.data_start):
        anchor = grid.anchors.get((r, column), (r, column))
        if anchor in seen:
            continue
        seen.add(anchor)
        text, found = split_mark(grid.text(r, column, layout.header_start))
        if text:
            path.append(text)
            marks += found
    return path, marks


def cell_number(value: Any) -> float | None:
    """A number as stored (not a bool, not a date), or a number written as text ('1 991,2')."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if pd.notna(value) and abs(value) != float("inf") else None
    if isinstance(value, str):
        return number_from_text(value)
    return None


def parse_value(value: Any) -> tuple[float | None, str]:
    """A cell's number (stored, or written with NBSP thousands and a decimal comma) and its text as written;
    anything else ('-', '…', 'x', a word) has no number and keeps its text."""
    text = _as_text(value)
    number = cell_number(value)
    if number is None:
        bare, _ = split_mark(clean_text(text))
        number = number_from_text(bare) if bare else None
    return number, text


def split_mark(text: str | None) -> tuple[str | None, list[str]]:
    """'Россия1)' -> ('Россия', ['1']); '2024 г.1,2)' -> ('2024 г.', ['1', '2']); 'Всего*' -> ('Всего', ['*'])."""
    if not text:
        return text, []
    match = FOOTNOTE_MARK.search(text)
    if not match or match.start() == 0:
        return text, []
    marks = match.group("num").split(",") if match.group("num") else [match.group("stars")]
    return text[: match.start()].strip(), marks


def period_of(header: list[str], title: str | None) -> tuple[str | None, str | None]:
    """The period a column's header states, else the title's: ('2024-12', 'декабрь 2024 г.'),
    ('2024-01/2024-12', 'январь – декабрь 2024 г.'), ('2024', '2024 г.'); (None, None) where neither says."""
    stated = next((part for part in header if NOT_STATED.search(part)), None)
    if stated:
        return None, stated
    joined = " ".join(header)
    match = MONTHS_AND_YEAR.search(joined)
    if match:
        return _months_period(match), match.group(0)
    for part in reversed(header):
        year = YEAR_ONLY.search(part)
        if year:
            return year.group("year"), year.group(0)
    if title:
        match = MONTHS_AND_YEAR.search(title)
        if match:
            return _months_period(match), match.group(0)
        year = YEAR_ONLY.search(title)
        if year:
            return year.group("year"), year.group(0)
    return None, None


def _months_period(match: re.Match[str]) -> str:
    year = match.group("year")
    first = _month_number(match.group("first"))
    last = _month_number(match.group("last")) if match.group("last") else None
    if last is None or last == first:
        return f"{year}-{first:02d}"
    return f"{year}-{first:02d}/{year}-{last:02d}"


def _month_number(word: str) -> int:
    lowered = word.casefold()
    return next(n for n, stem in enumerate(_MONTH_STEMS, start=1) if re.fullmatch(stem, lowered))


def unit_of(header: list[str], stub: list[str], title: str | None) -> str | None:
    """The unit or basis: from the column's header (top first), else the stub's, else the title's."""
    for text in [*header, *stub, title or ""]:
        match = UNIT.search(text)
        if match:
            return match.group(0).strip()
    return None


def release_date_of(last_modified: str | None) -> date | None:
    """The file's Last-Modified header: when Belstat put this version up (the files state no release date)."""
    if not last_modified:
        return None
    try:
        return parsedate_to_datetime(last_modified).date()
    except (TypeError, ValueError):
        return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _span(value: Any) -> int:
    text = str(value or "1").strip()
    return max(1, min(int(text), 100)) if text.isdigit() else 1


def _letter(index: int) -> str:
    """Column index from 0 as Excel letters: 0 -> A, 27 -> AB."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _html_title(body: bytes) -> str:
    match = re.search(rb"<title[^>]*>(.*?)</title>", body[:4096], re.IGNORECASE | re.DOTALL)
    raw = match.group(1) if match else body[:60]
    for encoding in ("utf-8", "windows-1251"):
        try:
            return (clean_text(raw.decode(encoding)) or "")[:80]
        except UnicodeDecodeError:
            continue
    return repr(raw[:60])
