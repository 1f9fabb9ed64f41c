"""WIPO IP Statistics Data Center: table exports and country-profile exports (CSV), every quirk in one module."""

from __future__ import annotations

import csv
import email.utils
import io
import json
import logging
import re
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from scrapers.base import (
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
from unionstat.errors import NotRecorded, ParseError
from unionstat.http import HttpClient

LOG = logging.getLogger(__name__)
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
    "release_stamp",
    "source_line",
]
PROFILE_PREFIX = "profile."
#: Datasets of table exports loaded whole from a hand-downloaded file whose indicator is none of the registry's.
IMPORTED_TABLE_PREFIX = "table:"
#: The registry's table-export datasets: text the preamble's indicator carries (lower case) and the unit of its
#: values. Any table export's cells get the code whose text its indicator carries (none: null, loaded all the same).
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
#: Preamble keys (lower case) naming the IP right: the real exports write `Intellectual property right :Patent`.
RIGHT_KEYS = ("intellectual property right", "ip right")
#: Origins the marts need: these must map, and a table export must carry them.
ISO2_TO_ISO3 = {"RU": "RUS", "BY": "BLR"}
#: Codes of states that no longer exist; kept as they are in raw, with no ISO3 (CS was reused: ambiguous).
HISTORICAL_ORIGINS = {"SU": "Soviet Union", "DD": "German Democratic Republic", "YU": "Yugoslavia", "CS": "CS"}
#: `Key :Value`, `Key: Value`, `Key:Value` (and the older two-cell `Key:,Value`): the key stops at the first colon.
PREAMBLE_ITEM = re.compile(r"^(?P<key>[^:]+?)\s*:\s*(?P<value>.*)$")
LAST_UPDATED = re.compile(r"Last updated\s*:\s*(?P<stamp>.*?)\s*$")
#: A Source line naming WIPO's database: its release stamp must be a date. Other Source lines (unionstat's
#: recordings compiled from the paper) may carry a stamp that is no WIPO release: their release date stays null.
WIPO_SOURCE = "wipo statistics database"
#: Where recognise_import looks for the Source line before reading a file whole (the preamble is a few lines).
PREAMBLE_BYTES = 4096
YEAR = re.compile(r"^(?:18|19|20)\d{2}$")
ISO2 = re.compile(r"^[A-Z]{2}$")
PLAIN_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
#: Stamps with a day, then month precision ("May 2026": the first of the month; the day is not published).
DAY_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%B %d, %Y", "%d %b %Y", "%b %d, %Y")
MONTH_FORMATS = ("%B %Y", "%b %Y")


class Wipo(Connector):
    #: The ALTERs bring a table made by an earlier release of this module up to date (nothing else migrates raw).
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
        last_updated date,
        release_stamp varchar,
        source_line varchar
    );
    alter table raw.wipo_observations add column if not exists release_stamp varchar;
    alter table raw.wipo_observations add column if not exists source_line varchar;
    alter table raw.wipo_observations alter column last_updated drop not null;
    """

    # -- fetch: copy the export as sent ----------------------------------------------------------
    def fetch(self, http: HttpClient, dataset: str, previous: Mapping[str, Previous]) -> list[Capture]:
        """The export as sent. Its release date: the Data Center backend's `last-updated` stamp (each stamp a
        vintage) for an export whose Source line names WIPO's database, else the preamble's "Last updated"; where
        neither is a date (a recording compiled from the paper), the response's Last-Modified. A country profile's
        URL is reference-only (no public client was seen calling a profile export): against WIPO itself it is not
        configured and nothing is requested."""
        if dataset.startswith(PROFILE_PREFIX):
            self.refuse_unless_served(
                http, dataset, "profile.reference_url", "a country-profile export", "profile.not_configured"
            )
        url = self.export_url(dataset)
        backend = url.startswith(self.backend_url)
        stamp = self.release_stamp(http) if backend else None
        fetched = self.get_if_changed(http, url, previous, headers=self.backend_headers if backend else None)
        if fetched is None:
            return []
        _, preamble = _rows_and_preamble(self.name, fetched.url, fetched.body, _header_test(dataset))
        exported, _, source_line = _release(self.name, fetched.url, preamble)
        if stamp is not None and WIPO_SOURCE in source_line.lower():
            if exported is not None and exported != stamp:
                LOG.warning(
                    "%s: last-updated says %s, the export says %s: the backend's stamp is kept", url, stamp, exported
                )
            exported = stamp
        return [Capture(dataset, fetched, exported or _http_date(fetched.headers.get("Last-Modified")))]

    @property
    def backend_url(self) -> str:
        """The Data Center's backend (the Angular app's API); UNIONSTAT_WIPO_BACKEND_BASE_URL overrides it."""
        return self.settings.base_url(f"{self.name}_backend", self.config.options["backend_url"])

    @property
    def backend_headers(self) -> dict[str, str]:
        """What the backend needs on every request (public clients send it): the language as a header too."""
        return {"Accept-Language": self.config.options["backend_language"]}

    def release_stamp(self, http: HttpClient) -> date | None:
        """The backend's release stamp (`ips-search/en/last-updated`), as a date; None where the reference snapshot
        holds no recording of it (a replay of figures compiled from the paper has no WIPO release)."""
        url = f"{self.backend_url}/{self.config.options['last_updated_path']}"
        try:
            fetched = http.get(self.name, url, headers=self.backend_headers)
        except NotRecorded:
            return None
        return stamp_date(self.name, url, fetched.body)

    def export_url(self, dataset: str) -> str:
        """A table export's backend URL; a country profile's reference-only URL (`profile.reference_url`)."""
        opts = self.config.options
        if dataset.startswith(PROFILE_PREFIX):
            origin = dataset[len(PROFILE_PREFIX) :]
            return opts["profile.reference_url"].format(base_url=self.base_url, origin=origin)
        if dataset not in TABLE_INDICATORS:
            raise KeyError(
                f"wipo: unknown dataset {dataset!r}; expected one of {sorted(TABLE_INDICATORS)} or profile.XX"
            )
        if f"{dataset}.indicator" not in opts:
            raise NotConfigured(
                self.name,
                dataset,
                "options",
                f"{dataset}.indicator and .report_type (the backend's ids)",
                opts.get(f"{dataset}.not_configured", "no indicator id"),
            )
        first, _, last = opts["years"].partition("-")
        return opts["table_export_url"].format(
            backend_url=self.backend_url,
            indicator=opts[f"{dataset}.indicator"],
            report_type=opts[f"{dataset}.report_type"],
            from_year=first,
            to_year=last or first,
            origins=opts["origins"],
            lang=opts["backend_language"],
        )

    # -- parse: stored bytes to raw rows ---------------------------------------------------------
    def parse(self, body: bytes, meta: SnapshotMeta) -> pd.DataFrame:
        if meta.dataset.startswith(PROFILE_PREFIX):
            return parse_profile(self.name, meta.request_url, body, meta.dataset[len(PROFILE_PREFIX) :])
        return parse_table_export(self.name, meta.request_url, body, meta.dataset, self.origins)

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.config.options["origins"].split(",")]

    # -- layout: what the parser reads, without values -------------------------------------------
    def layout(self, path: Path, meta: SnapshotMeta) -> SnapshotLayout:
        """An export's preamble keys (in order) and its header row (the year columns as one run); a profile's
        row labels too, which are its layout (each row is an indicator)."""
        profile = meta.dataset.startswith(PROFILE_PREFIX)
        rows, preamble = _rows_and_preamble(
            self.name, meta.request_url, path.read_bytes(), _is_profile_header if profile else _is_table_header
        )
        keys = [match.group("key").strip() for s in _preamble_segments(preamble) if (match := PREAMBLE_ITEM.match(s))]
        described: dict[str, Any] = {
            "format": "country profile csv" if profile else "table export csv",
            "preamble_keys": keys,
            "header": header_shape(_strip_trailing(rows[0][1])),
        }
        if profile:
            labels = [cells[0] for _, cells in rows[1:] if cells and cells[0].strip()]
            described["row_labels"] = [structural_text(_normalise(label)) for label in labels]
        return SnapshotLayout(meta.dataset, described)

    # -- import: an export saved from the Data Center by hand ------------------------------------
    import_formats = "a WIPO IP Statistics Data Center CSV export (table or country profile)"

    def recognise_import(self, path: Path) -> ImportedFile | None:
        """A table or country-profile export: UTF-8, a preamble whose Source line names the WIPO statistics
        database with a "Last updated" stamp, then the header of one of the two layouts. A table export whose
        indicator is a registry dataset's (with RU and BY rows) is that dataset; any other is loaded whole as
        `table:<indicator>`; a profile is `profile.<origin code>`."""
        with open(path, "rb") as handle:
            if WIPO_SOURCE.encode() not in handle.read(PREAMBLE_BYTES).lower():
                return None
        body = path.read_bytes()
        for is_header in (_is_table_header, _is_profile_header):
            try:
                rows, preamble = _rows_and_preamble(self.name, str(path), body, is_header)
                release, stamp, source_line = _release(self.name, str(path), preamble)
            except ParseError:
                continue
            if WIPO_SOURCE not in (source_line or "").lower():
                return None
            items = read_preamble(preamble)
            if is_header is _is_profile_header:
                code = items.get("origin (code)", "")
                if not ISO2.match(code):
                    return None
                return ImportedFile(f"{PROFILE_PREFIX}{code}", release, "text/csv")
            label = items.get("indicator")
            if not label:
                return None
            codes = {cells[1].strip() for _, cells in rows[1:] if len(cells) > 1}
            dataset = _table_indicator(label)[0]
            if dataset is None or not set(self.origins) <= codes:
                dataset = f"{IMPORTED_TABLE_PREFIX}{label}"
            return ImportedFile(dataset, release, "text/csv")
        return None


CONNECTOR = Wipo


def parse_table_export(source: str, location: str, body: bytes, dataset: str, origins: list[str]) -> pd.DataFrame:
    """A Data Center table export, every non-empty cell with its labels: BOM, preamble (right, indicator, Source
    with "Last updated"), `Origin, Origin (Code), <dims>, <years>` and rows with a trailing empty column. A registry
    dataset must be the indicator it names and carry the origins we need; an imported table (`table:...`) is taken
    as it is."""
    if dataset not in TABLE_INDICATORS and not dataset.startswith(IMPORTED_TABLE_PREFIX):
        raise ParseError(
            source, location, f"a table-export dataset {sorted(TABLE_INDICATORS)} or table:<indicator>", repr(dataset)
        )
    rows, preamble = _rows_and_preamble(source, location, body, _is_table_header)
    items = read_preamble(preamble)
    indicator_label = items.get("indicator")
    if dataset in TABLE_INDICATORS:
        expected_text = TABLE_INDICATORS[dataset][0]
        if indicator_label is None or expected_text not in indicator_label.lower():
            raise ParseError(
                source, location, f"an 'Indicator' preamble line mentioning {expected_text!r}", repr(indicator_label)
            )
    indicator_code, unit = _table_indicator(indicator_label or "")
    last_updated, stamp, source_line = _release(source, location, preamble)
    header, data = _strip_trailing(rows[0][1]), rows[1:]
    first_year = next((i for i, h in enumerate(header) if YEAR.match(h)), None)
    if first_year is None or not all(YEAR.match(h) for h in header[first_year:]):
        raise ParseError(source, location, "year columns (YYYY) after the dimension columns", f"header {header}")
    dims = header[2:first_year]
    unknown = [d for d in dims if d not in TABLE_DIMENSIONS]
    if unknown:
        raise ParseError(source, location, f"dimension columns among {sorted(TABLE_DIMENSIONS)}", f"{unknown}")
    labels = {
        "ip_right": next((items[k] for k in RIGHT_KEYS if k in items), None),
        "indicator_label": indicator_label,
        "row_label": None,
        "indicator_code": indicator_code,
        "unit": unit,
        "last_updated": last_updated,
        "release_stamp": stamp,
        "source_line": source_line,
    }
    records: list[dict[str, Any]] = []
    seen_codes: set[str] = set()
    for line_no, cells in data:
        if not any(c.strip() for c in cells):
            continue
        _check_width(source, location, header, cells, line_no)
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
                    **labels,
                    "export_kind": "table",
                    "origin_name": name,
                    "origin_code": code,
                    "country_iso3": country_iso3,
                    "office": dim_values.get("office"),
                    "field_of_technology": dim_values.get("field_of_technology"),
                    "year": year,
                    "cell_text": cell,
                    "value": numbers[0] if len(numbers) == 1 else None,
                    "value_count": len(numbers),
                }
            )
    if not records:
        raise ParseError(source, location, "at least one value after the header", "no data rows (zero rows)")
    missing = [o for o in origins if o not in seen_codes] if dataset in TABLE_INDICATORS else []
    if missing:
        raise ParseError(
            source, location, f"rows for the origins {origins}", f"no row for {missing}; codes {sorted(seen_codes)}"
        )
    return _frame(records)


def parse_profile(source: str, location: str, body: bytes, origin: str) -> pd.DataFrame:
    """A country-profile export: preamble naming the origin, then `Indicator, <years>` (line 7 in the real exports)
    and one row per indicator, each with a trailing empty column."""
    rows, preamble = _rows_and_preamble(source, location, body, _is_profile_header)
    items = read_preamble(preamble)
    last_updated, stamp, source_line = _release(source, location, preamble)
    code = items.get("origin (code)", "")
    if code != origin:
        raise ParseError(source, location, f"a country profile of origin {origin!r}", f"'Origin (Code)' {code!r}")
    country_iso3 = _iso3(source, location, code, 0)
    header, data = _strip_trailing(rows[0][1]), rows[1:]
    years = header[1:]
    if not years or not all(YEAR.match(y) for y in years):
        raise ParseError(source, location, "year columns (YYYY) after 'Indicator'", f"header {header}")
    records: list[dict[str, Any]] = []
    labels: list[str] = []
    for line_no, cells in data:
        if not any(c.strip() for c in cells):
            continue
        _check_width(source, location, header, cells, line_no)
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
                    "ip_right": next((items[k] for k in RIGHT_KEYS if k in items), None),
                    "indicator_label": None,
                    "row_label": label,
                    "indicator_code": code_unit[0] if code_unit else None,
                    "origin_name": items.get("country profile"),
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
                    "release_stamp": stamp,
                    "source_line": source_line,
                }
            )
    missing = [r for r in PROFILE_REQUIRED if r not in labels]
    if missing:
        raise ParseError(source, location, f"profile rows {missing}", f"rows {labels}")
    if not records:
        raise ParseError(source, location, "at least one value after the header", "no data rows (zero rows)")
    return _frame(records)


def read_preamble(preamble: list[list[str]]) -> dict[str, str]:
    """The preamble's items, key (lower case, spaces collapsed) -> value: `Key :Value`, `Key: Value`, `Key:Value`
    and the older two-cell `Key:,Value` alike; a line packing several items with tabs (older exports) gives each.
    The first item of a key wins; lines without a colon are not items."""
    items: dict[str, str] = {}
    for segment in _preamble_segments(preamble):
        match = PREAMBLE_ITEM.match(segment)
        if match is None:
            continue
        key = _normalise(match.group("key"))
        items.setdefault(key, match.group("value").lstrip(",").strip())
    return items


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


def _preamble_segments(preamble: list[list[str]]) -> list[str]:
    """Each preamble line as written (its cells joined back: a line is one cell in the real exports, but a comma in
    its text splits it when read as CSV), trailing empty cells dropped, split at tabs."""
    segments: list[str] = []
    for cells in preamble:
        line = ",".join(cells).rstrip(", ")
        segments.extend(part.strip() for part in line.split("\t") if part.strip())
    return segments


def _release(source: str, location: str, preamble: list[list[str]]) -> tuple[date | None, str, str]:
    """(release date, stamp as written, Source line) from `Source: <database>. Last updated: <stamp>`. A stamp
    naming a month ("May 2026") gives its first day (WIPO does not publish the day). A WIPO Source line whose stamp
    is no date fails; another Source line's (a recording compiled from the paper) leaves the date null."""
    found = [(s, m) for s in _preamble_segments(preamble) if (m := LAST_UPDATED.search(s))]
    if not found:
        raise ParseError(source, location, "'Source: WIPO statistics database. Last updated: <date>'", "no such line")
    line, match = found[0]
    stamp = match.group("stamp").rstrip(".").strip()
    for formats, precision in ((DAY_FORMATS, "day"), (MONTH_FORMATS, "month")):
        for fmt in formats:
            try:
                parsed = datetime.strptime(stamp, fmt).date()
            except ValueError:
                continue
            return (parsed if precision == "day" else parsed.replace(day=1)), stamp, line
    if WIPO_SOURCE in line.lower():
        raise ParseError(
            source, location, f"a 'Last updated' date in one of {DAY_FORMATS + MONTH_FORMATS}", repr(stamp)
        )
    return None, stamp, line


def stamp_date(source: str, location: str, body: bytes) -> date:
    """The release stamp `last-updated` answers: its text (a JSON string, or an object's first string value, or
    plain text) read as a day or month date ("May 2026" is its first day). Its exact layout was not seen in public
    code: anything else fails naming the URL."""
    text = body.decode("utf-8-sig", errors="replace").strip()
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = text
    if isinstance(document, dict):
        document = next((v for v in document.values() if isinstance(v, str)), "")
    stamp = str(document).strip().rstrip(".")
    for fmt in (*DAY_FORMATS, *MONTH_FORMATS):
        try:
            return datetime.strptime(stamp, fmt).date()
        except ValueError:
            continue
    raise ParseError(source, location, "a release stamp (a date, or 'May 2026')", repr(text[:60]))


def _http_date(value: str | None) -> date | None:
    """The date of an HTTP date header (Last-Modified), or None."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return None


def _table_indicator(label: str) -> tuple[str | None, str | None]:
    """The registry's code and unit for the indicator a table export names, or (None, None)."""
    for code, (text, unit) in TABLE_INDICATORS.items():
        if text in label.lower():
            return code, unit
    return None, None


def _check_width(source: str, location: str, header: list[str], cells: list[str], line_no: int) -> None:
    """A data row has the header's cells and at most empty ones after them (WIPO's trailing empty column)."""
    if len(cells) < len(header):
        raise ParseError(
            source, location, f"{len(header)} cells per row", f"{len(cells)} cells on line {line_no}: truncated?"
        )
    extra = [c for c in cells[len(header) :] if c.strip()]
    if extra:
        raise ParseError(
            source, location, f"{len(header)} cells and a trailing empty one", f"{extra} beyond on line {line_no}"
        )


def _iso3(source: str, location: str, code: str, line_no: int) -> str | None:
    """RU/BY map to ISO3; historical codes (SU, DD, YU, CS) and other origins keep no ISO3."""
    if not ISO2.match(code):
        raise ParseError(source, location, "a two-letter origin code (ISO2)", f"{code!r} on line {line_no}")
    return ISO2_TO_ISO3.get(code)


def _cell_numbers(source: str, location: str, cell: str, line_no: int) -> list[float] | None:
    """An empty cell is missing; a cell holds one number, or several separated by commas (resident, non-resident,
    total, in no fixed order): those keep their text and get no value. WIPO writes no thousands separators."""
    text = cell.replace("\u00a0", " ").strip()
    if not text:
        return None
    parts = [p.strip() for p in text.split(",")]
    if all(PLAIN_NUMBER.match(p) for p in parts):
        return [float(p) for p in parts]
    raise ParseError(
        source, location, "a number, numbers separated by commas, or an empty cell", f"{cell!r} on line {line_no}"
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
