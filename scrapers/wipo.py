"""WIPO IP Statistics Data Center: table exports and country-profile exports (CSV), every quirk in one module."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pandas as pd

from scrapers.base import Capture, Connector, Previous, SnapshotMeta
from unionstat.errors import ParseError
from unionstat.http import HttpClient

RAW_COLUMNS = [
    "export_kind",
    "ip_right",
    "indicator_label",
    "row_label",
    "indicator_code",
    "origin_name",
    "origin_code",
    "country_iso3",
    "office",
    "field_of_technology",
    "year",
    "cell_text",
    "value",
    "value_count",
    "unit",
    "last_updated",
]
PROFILE_PREFIX = "profile."
#: Table-export datasets: the indicator text the preamble must carry (lower case) and the unit of its values.
TABLE_INDICATORS: dict[str, tuple[str, str]] = {
    "patent_applications_total_by_origin": ("total patent applications", "applications"),
    "pct_women_inventors_share": ("women", "percent"),
}
#: Country-profile rows we recognise (normalised label -> indicator code, unit). Others stay unmapped in raw.
PROFILE_ROWS: dict[str, tuple[str, str]] = {
    "resident applications per million inhabitants": (
        "resident_applications_per_million_population",
        "applications per million population",
    ),
    "total patent applications by origin: world rank": ("patent_applications_world_rank", "rank (1 = most)"),
}
PROFILE_REQUIRED = ("resident applications per million inhabitants",)
TABLE_HEADER_START = ["Origin", "Origin (Code)"]
TABLE_DIMENSIONS = {"Office": "office", "Office (Code)": None, "Field of technology": "field_of_technology"}
PROFILE_HEADER_FIRST = "Indicator"
#: Origins the marts need: these must map, and a table export must carry them.
ISO2_TO_ISO3 = {"RU": "RUS", "BY": "BLR"}
#: Codes of states that no longer exist; kept as they are in raw, with no ISO3 (CS was reused: ambiguous).
HISTORICAL_ORIGINS = {"SU": "Soviet Union", "DD": "German Democratic Republic", "YU": "Yugoslavia", "CS": "CS"}
LAST_UPDATED = re.compile(r"Last updated:\s*(?P<date>.+?)[,\s]*$", re.MULTILINE)
YEAR = re.compile(r"^(?:18|19|20)\d{2}$")
ISO2 = re.compile(r"^[A-Z]{2}$")
PLAIN_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
THOUSANDS_NUMBER = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
MISSING_MARKERS = {"", "-", "n.a.", "..", "…"}
DATE_FORMATS = ("%Y-%m-%d", "%B %Y", "%d %B %Y", "%B %d, %Y", "%b %Y", "%d %b %Y")


class Wipo(Connector):
    raw_ddl = """
    create table if not exists raw.wipo_observations (
        snapshot_sha256 varchar not null,
        row_number integer not null,
        export_kind varchar not null,
        ip_right varchar,
        indicator_label varchar,
        row_label varchar,
        indicator_code varchar,
        origin_name varchar,
        origin_code varchar not null,
        country_iso3 varchar,
        office varchar,
        field_of_technology varchar,
        year varchar not null,
        cell_text varchar not null,
        value double,
        value_count integer not null,
        unit varchar,
        last_updated date not null
    )
    """

    # -- fetch: copy the export as sent ----------------------------------------------------------
    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        url = self.export_url(dataset)
        prev = previous.get(url)
        fetched = http.get(
            self.name, url, etag=prev.etag if prev else None, last_modified=prev.last_modified if prev else None
        )
        if fetched.not_modified:
            return []
        _, preamble = _rows_and_preamble(self.name, fetched.url, fetched.body, _header_test(dataset))
        return [Capture(dataset, fetched, _last_updated(self.name, fetched.url, preamble))]

    def export_url(self, dataset: str) -> str:
        opts = self.config.options
        if dataset.startswith(PROFILE_PREFIX):
            origin = dataset[len(PROFILE_PREFIX) :]
            return opts["profile_export_url"].format(base_url=self.base_url, origin=origin)
        if dataset not in TABLE_INDICATORS:
            raise KeyError(
                f"wipo: unknown dataset {dataset!r}; expected one of {sorted(TABLE_INDICATORS)} or profile.XX"
            )
        return opts["table_export_url"].format(
            base_url=self.base_url, dataset=dataset, origins=opts["origins"], years=opts["years"]
        )

    # -- parse: stored bytes to raw rows ---------------------------------------------------------
    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        if meta.dataset.startswith(PROFILE_PREFIX):
            return parse_profile(self.name, meta.request_url, body, meta.dataset[len(PROFILE_PREFIX) :])
        origins = [o.strip() for o in self.config.options["origins"].split(",")]
        return parse_table_export(self.name, meta.request_url, body, meta.dataset, origins)


CONNECTOR = Wipo


def parse_table_export(source: str, location: str, body: bytes, dataset: str, origins: list[str]) -> pd.DataFrame:
    """The Data Center table export: BOM, preamble, `Origin, Origin (Code), <dims>, <years>,` (trailing empty)."""
    if dataset not in TABLE_INDICATORS:
        raise ParseError(source, location, f"a table-export dataset {sorted(TABLE_INDICATORS)}", repr(dataset))
    rows, preamble = _rows_and_preamble(source, location, body, _is_table_header)
    expected_text, unit = TABLE_INDICATORS[dataset]
    indicator_label = _preamble_value(preamble, "Indicator")
    if indicator_label is None or expected_text not in indicator_label.lower():
        raise ParseError(
            source, location, f"an 'Indicator' preamble line mentioning {expected_text!r}", repr(indicator_label)
        )
    last_updated = _last_updated(source, location, preamble)
    header, data = _strip_trailing(rows[0][1]), rows[1:]
    first_year = next((i for i, h in enumerate(header) if YEAR.match(h)), None)
    if first_year is None or not all(YEAR.match(h) for h in header[first_year:]):
        raise ParseError(source, location, "year columns (YYYY) after the dimension columns", f"header {header}")
    dims = header[2:first_year]
    unknown = [d for d in dims if d not in TABLE_DIMENSIONS]
    if unknown:
        raise ParseError(source, location, f"dimension columns among {sorted(TABLE_DIMENSIONS)}", f"{unknown}")
    records: list[dict[str, Any]] = []
    seen_codes: set[str] = set()
    for line_no, cells in data:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            raise ParseError(
                source, location, f"{len(header)} cells per row", f"{len(cells)} cells on line {line_no}: truncated?"
            )
        name, code = cells[0].strip(), cells[1].strip()
        country_iso3 = _iso3(source, location, code, line_no)
        seen_codes.add(code)
        dim_values = {TABLE_DIMENSIONS[d]: cells[2 + i].strip() or None for i, d in enumerate(dims)}
        for year, cell in zip(header[first_year:], cells[first_year : len(header)], strict=True):
            numbers = _cell_numbers(source, location, cell, line_no)
            if numbers is None:
                continue
            records.append(
                {
                    "export_kind": "table",
                    "ip_right": _preamble_value(preamble, "IP right"),
                    "indicator_label": indicator_label,
                    "row_label": None,
                    "indicator_code": dataset,
                    "origin_name": name,
                    "origin_code": code,
                    "country_iso3": country_iso3,
                    "office": dim_values.get("office"),
                    "field_of_technology": dim_values.get("field_of_technology"),
                    "year": year,
                    "cell_text": cell,
                    "value": numbers[0] if len(numbers) == 1 else None,
                    "value_count": len(numbers),
                    "unit": unit,
                    "last_updated": last_updated,
                }
            )
    if not records:
        raise ParseError(source, location, "at least one value after the header", "no data rows (zero rows)")
    missing = [o for o in origins if o not in seen_codes]
    if missing:
        raise ParseError(
            source, location, f"rows for the origins {origins}", f"no row for {missing}; codes {sorted(seen_codes)}"
        )
    return _frame(records)


def parse_profile(source: str, location: str, body: bytes, origin: str) -> pd.DataFrame:
    """A country-profile export: preamble naming the origin, then `Indicator, <years>,` and one row per indicator."""
    rows, preamble = _rows_and_preamble(source, location, body, _is_profile_header)
    last_updated = _last_updated(source, location, preamble)
    code = (_preamble_value(preamble, "Origin (Code)") or "").strip()
    if code != origin:
        raise ParseError(source, location, f"a country profile of origin {origin!r}", f"'Origin (Code)' {code!r}")
    country_iso3 = _iso3(source, location, code, 0)
    origin_name = _preamble_value(preamble, "Country profile")
    header, data = _strip_trailing(rows[0][1]), rows[1:]
    years = header[1:]
    if not years or not all(YEAR.match(y) for y in years):
        raise ParseError(source, location, "year columns (YYYY) after 'Indicator'", f"header {header}")
    records: list[dict[str, Any]] = []
    labels: list[str] = []
    for line_no, cells in data:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            raise ParseError(
                source, location, f"{len(header)} cells per row", f"{len(cells)} cells on line {line_no}: truncated?"
            )
        label = cells[0]
        labels.append(_normalise(label))
        code_unit = PROFILE_ROWS.get(_normalise(label))
        for year, cell in zip(years, cells[1 : len(header)], strict=True):
            numbers = _cell_numbers(source, location, cell, line_no)
            if numbers is None:
                continue
            records.append(
                {
                    "export_kind": "country_profile",
                    "ip_right": None,
                    "indicator_label": None,
                    "row_label": label,
                    "indicator_code": code_unit[0] if code_unit else None,
                    "origin_name": origin_name,
                    "origin_code": code,
                    "country_iso3": country_iso3,
                    "office": None,
                    "field_of_technology": None,
                    "year": year,
                    "cell_text": cell,
                    "value": numbers[0] if len(numbers) == 1 else None,
                    "value_count": len(numbers),
                    "unit": code_unit[1] if code_unit else None,
                    "last_updated": last_updated,
                }
            )
    missing = [r for r in PROFILE_REQUIRED if r not in labels]
    if missing:
        raise ParseError(source, location, f"profile rows {missing}", f"rows {labels}")
    if not records:
        raise ParseError(source, location, "at least one value after the header", "no data rows (zero rows)")
    return _frame(records)


# -- helpers ---------------------------------------------------------------------------------------
def _header_test(dataset: str) -> Any:
    return _is_profile_header if dataset.startswith(PROFILE_PREFIX) else _is_table_header


def _is_table_header(cells: list[str]) -> bool:
    return [c.strip() for c in cells[:2]] == TABLE_HEADER_START


def _is_profile_header(cells: list[str]) -> bool:
    return bool(cells) and cells[0].strip() == PROFILE_HEADER_FIRST


def _rows_and_preamble(
    source: str, location: str, body: bytes, is_header: Any
) -> tuple[list[tuple[int, list[str]]], list[list[str]]]:
    """Decode, split off the preamble, and return (header and data rows with line numbers, preamble rows)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(source, location, "UTF-8 CSV text", f"undecodable bytes at {exc.start}") from exc
    head = text.lstrip()[:200].lower()
    if head.startswith(("<!doctype html", "<html", "<?xml", "<")):
        raise ParseError(source, location, "a WIPO CSV export", "an HTML/XML page (an error page or the web app?)")
    if not text.strip():
        raise ParseError(source, location, "a WIPO CSV export", "an empty body")
    try:
        lines = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as exc:
        raise ParseError(source, location, "well-formed CSV", f"{exc}: truncated?") from exc
    for index, cells in enumerate(lines):
        if is_header(cells):
            data = [(line_no, cells) for line_no, cells in enumerate(lines[index:], start=index + 1)]
            return data, lines[:index]
    raise ParseError(
        source,
        location,
        "a header row ('Origin, Origin (Code), ...' or 'Indicator, <years>')",
        "none (missing column?)",
    )


def _preamble_value(preamble: list[list[str]], key: str) -> str | None:
    """The value of a `Key:,value` (or `Key: value`) preamble line."""
    for cells in preamble:
        if not cells:
            continue
        first = cells[0].strip()
        if first.rstrip(":").strip() == key and len(cells) > 1:
            return cells[1].strip()
        if first.startswith(f"{key}:") and len(first) > len(key) + 1:
            return first[len(key) + 1 :].strip()
    return None


def _last_updated(source: str, location: str, preamble: list[list[str]]) -> date:
    text = "\n".join(",".join(cells) for cells in preamble)
    match = LAST_UPDATED.search(text)
    if match is None:
        raise ParseError(source, location, "'Source: WIPO statistics database. Last updated: <date>'", "no such line")
    raw = match.group("date").strip().rstrip(".")
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ParseError(source, location, f"a 'Last updated' date in one of {DATE_FORMATS}", repr(raw))


def _iso3(source: str, location: str, code: str, line_no: int) -> str | None:
    """RU/BY map to ISO3; historical codes (SU, DD, YU, CS) and other origins keep no ISO3."""
    if not ISO2.match(code):
        raise ParseError(source, location, "a two-letter origin code (ISO2)", f"{code!r} on line {line_no}")
    return ISO2_TO_ISO3.get(code)


def _cell_numbers(source: str, location: str, cell: str, line_no: int) -> list[float] | None:
    """A cell holds one number (maybe with thousands separators), several separated by ', ', or nothing."""
    text = cell.replace("\u00a0", " ").strip()
    if text in MISSING_MARKERS:
        return None
    if PLAIN_NUMBER.match(text):
        return [float(text)]
    if THOUSANDS_NUMBER.match(text):
        return [float(text.replace(",", ""))]
    parts = [p.strip() for p in re.split(r"[;,]\s+", text)]
    if len(parts) > 1 and all(PLAIN_NUMBER.match(p) or THOUSANDS_NUMBER.match(p) for p in parts):
        return [float(p.replace(",", "")) for p in parts]
    raise ParseError(
        source, location, "a number, numbers separated by ', ', or an empty cell", f"{cell!r} on line {line_no}"
    )


def _strip_trailing(cells: list[str]) -> list[str]:
    cells = [c.strip() for c in cells]
    while cells and cells[-1] == "":
        cells = cells[:-1]
    return cells


def _normalise(label: str) -> str:
    return " ".join(label.replace("\u00a0", " ").split()).lower()


def _frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=RAW_COLUMNS)
    frame["value"] = frame["value"].astype("float64")
    frame["value_count"] = frame["value_count"].astype("int64")
    return frame
