"""Publisher-shaped test inputs built in code, so no invented figure is shipped as data.

Values made here are synthetic and only exercise mechanisms (vintages, parsing, guards).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from unionstat.settings import Settings

GDP = "NY.GDP.MKTP.KD.ZG"


def live_settings(tmp_path: Path, source: str, base_url: str, **endpoints: str) -> Settings:
    """Live-mode settings against a local stand-in of `source` (no pacing): `base_url` is its site, each of
    `endpoints` another of its base URLs (api=... sets UNIONSTAT_<SOURCE>_API_BASE_URL)."""
    env = {
        "UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "UNIONSTAT_MODE": "live",
        "UNIONSTAT_MIN_REQUEST_INTERVAL_S": "0",
        f"UNIONSTAT_{source.upper()}_BASE_URL": base_url,
    }
    env.update({f"UNIONSTAT_{source.upper()}_{kind.upper()}_BASE_URL": url for kind, url in endpoints.items()})
    return Settings.from_env(env)


class NoRequests:
    """A live HTTP client that must not be asked (a dataset that is not configured makes no request): any request
    is recorded in `asked` and fails the test."""

    live = True

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get(self, source: str, url: str, *args: Any, **kwargs: Any) -> Any:
        self.asked.append(url)
        raise AssertionError(f"{source}: requested {url}")

    post_json = get

    def trust_for_hosts(self, *args: Any) -> None:
        """Trusting a CA is no request."""


def written(path: Path, body: bytes) -> Path:
    """`body` saved at `path`: a file as a user downloaded it, for a connector's `recognise_import`."""
    path.write_bytes(body)
    return path


def worldbank_page(rows: list[dict[str, Any]], page: int = 1, pages: int = 1, lastupdated: str = "2025-07-01") -> bytes:
    """An Indicators API JSON page: [header, rows]."""
    header = {
        "page": page,
        "pages": pages,
        "per_page": 1000,
        "total": len(rows),
        "sourceid": "2",
        "lastupdated": lastupdated,
    }
    return json.dumps([header, rows]).encode()


def worldbank_row(country: str, iso3: str, year: str, value: Any, indicator: str = GDP) -> dict[str, Any]:
    return {
        "indicator": {"id": indicator, "value": "GDP growth (annual %)"},
        "country": {"id": country, "value": iso3},
        "countryiso3code": iso3,
        "date": year,
        "value": value,
        "unit": "",
        "obs_status": "",
        "decimal": 1,
    }


def worldbank_bulk_csv(values: dict[str, dict[str, str]], last_updated: str, indicator: str = GDP) -> bytes:
    """The bulk CSV layout: BOM, 4 preamble lines, quoted wide header, trailing empty column."""
    years = [str(y) for y in range(1960, 2025)]
    lines = [
        '"Data Source","World Development Indicators",',
        "",
        f'"Last Updated Date","{last_updated}",',
        "",
        ",".join(f'"{h}"' for h in ["Country Name", "Country Code", "Indicator Name", "Indicator Code", *years]) + ",",
    ]
    for iso3, by_year in values.items():
        cells = [iso3.title(), iso3, "GDP growth (annual %)", indicator, *(by_year.get(y, "") for y in years)]
        lines.append(",".join(f'"{c}"' for c in cells) + ",")
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def zipped(name: str, body: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, body)
        for other, content in (extra or {}).items():
            archive.writestr(other, content)
    return buffer.getvalue()


# -- Belstat: the house XLSX layout and website tables (synthetic values) -----------------------------
BELSTAT_TRADE = "Внешнеторговый оборот"


def belstat_xlsx(
    rows: list[tuple[str, int, list[Any]]],
    years: tuple[str, ...] = ("2020 г.", "2021 г."),
    group: str = "Внешнеторговый\r\nоборот",
    unit: str = "в\u00a0процентах\nк итогу",
    title: str = "Удельный вес стран во\u00a0внешней торговле Республики Беларусь",
    notes: tuple[str, ...] = (),
) -> bytes:
    """Belstat's XLSX layout: column A empty, merged title rows, a blank row, a header of three merged rows
    (stub B5:B7, the group merged across the years, the unit row, the years), data rows whose hierarchy is only
    the label's indentation, numbers stored as numbers, footnotes after a blank row. rows: (label, indent, cells)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    last = 2 + len(years)
    for r, text in enumerate([title, "(synthetic test table)"], start=1):
        sheet.cell(row=r, column=2, value=text)
        sheet.merge_cells(start_row=r, start_column=2, end_row=r, end_column=last)
    sheet.cell(row=5, column=2, value="Страна")
    sheet.merge_cells(start_row=5, start_column=2, end_row=7, end_column=2)
    sheet.cell(row=5, column=3, value=group)
    sheet.cell(row=6, column=3, value=unit)
    if len(years) > 1:
        sheet.merge_cells(start_row=5, start_column=3, end_row=5, end_column=last)
        sheet.merge_cells(start_row=6, start_column=3, end_row=6, end_column=last)
    for c, year in enumerate(years, start=3):
        sheet.cell(row=7, column=c, value=year)
    for r, (label, indent, cells) in enumerate(rows, start=8):
        sheet.cell(row=r, column=2, value=label).alignment = Alignment(indent=indent)
        for c, value in enumerate(cells, start=3):
            sheet.cell(row=r, column=c, value=value)
    for r, note in enumerate(notes, start=9 + len(rows)):
        sheet.cell(row=r, column=2, value=note)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def belstat_sheet(
    cells: dict[str, Any], merged: tuple[str, ...] = (), sheets: dict[str, dict[str, Any]] | None = None
) -> bytes:
    """Any Belstat-like sheet 'Лист1', cell by cell ({'B8': 'Всего / Total', 'C8': '1\u00a0991,2'}), with merged
    ranges ('C5:D5'), after the extra sheets of `sheets` (a contents sheet, a notes sheet: name -> cells)."""
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    assert first is not None
    for position, (name, extra_cells) in enumerate((sheets or {}).items()):
        extra = workbook.create_sheet(name, position)
        for ref, value in extra_cells.items():
            extra[ref] = value
    first.title = "Лист1"
    for ref, value in cells.items():
        first[ref] = value
    for area in merged:
        first.merge_cells(area)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def belstat_html(
    rows: list[tuple[str, list[str]]],
    years: tuple[str, ...] = ("2020 г.", "2021 г."),
    group: str = "Внешнеторговый\u00a0оборот",
    caption: str = "Удельный вес стран во внешней торговле (в процентах к итогу)",
    encoding: str = "utf-8",
    declared_charset: str = "utf-8",
) -> bytes:
    """A Belstat website table: rowspan/colspan header, text cells with NBSP thousands and a decimal comma.
    `declared_charset` goes into the page's meta tag, which need not match the real `encoding`."""
    head = (
        f'<tr><th rowspan="3">Страна</th><th colspan="{len(years)}">{group}</th></tr>\n'
        f'<tr><th colspan="{len(years)}">в процентах к\u00a0итогу</th></tr>\n'
        "<tr>" + "".join(f"<th>{y}</th>" for y in years) + "</tr>\n"
    )
    body = "".join(
        "<tr><td>" + label + "</td>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>\n" for label, cells in rows
    )
    page = (
        f'<!DOCTYPE html>\n<html><head><meta charset="{declared_charset}"><title>Белстат</title></head><body>\n'
        f'<table class="layout"><tr><td>menu</td></tr></table>\n'
        f"<table><caption>{caption}</caption>\n{head}{body}</table>\n<p>Примечание: synthetic.</p></body></html>\n"
    )
    return page.encode(encoding)


# -- WIPO: IP Statistics Data Center CSV exports (synthetic values) -----------------------------------
WIPO_TOTAL = "1 - Total patent applications (direct and PCT national phase entries)"
WIPO_SOURCE = "Source: WIPO statistics database. Last updated: {stamp}"


def wipo_table_export(
    rows: list[tuple[Any, ...]],
    years: tuple[str, ...] = ("2021", "2022"),
    last_updated: str = "May 2026",
    indicator: str = WIPO_TOTAL,
    header_start: tuple[str, ...] = ("Origin", "Origin (Code)", "Office", "Field of technology"),
    right: str = "Patent",
    source_line: str = WIPO_SOURCE,
    newline: str = "\r\n",
) -> bytes:
    """A synthetic table export in the Data Center's real layout (shared/SOURCES.md, "The real CSV export, line by
    line"): UTF-8 with BOM; `Intellectual property right :<right>`, blank, `Indicator :<indicator>`, blank,
    `Source: WIPO statistics database. Last updated: <stamp>`, blank, each line one cell written as is; then the
    header `Origin,Origin (Code),Office,Field of technology,<years>` (no trailing column) and the data rows, each
    with one trailing empty column. rows: (origin name, origin code, {year: cell text}[, field of technology]);
    a year left out is an empty cell (missing). Values are made up."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow([*header_start, *years])
    dims = len(header_start) - 2
    for name, code, cells, *field in rows:
        extra = (["Total", *field] if field else ["Total"] * dims)[:dims]
        writer.writerow([name, code, *extra, *(cells.get(y, "") for y in years), ""])
    preamble = [
        f"Intellectual property right :{right}",
        "",
        f"Indicator :{indicator}",
        "",
        source_line.format(stamp=last_updated),
        "",
    ]
    return ("\ufeff" + newline.join(preamble) + newline + out.getvalue()).encode("utf-8")


def wipo_profile(
    code: str,
    name: str,
    rows: dict[str, dict[str, str]],
    years: tuple[str, ...] = ("2021", "2022"),
    last_updated: str = "May 2026",
) -> bytes:
    """A synthetic country-profile export: its header `Indicator,<years>` on line 7 as in the real exports, below a
    preamble written like the table export's (`Key :Value` lines between blanks; the keys `Country profile` and
    `Origin (Code)` are unionstat's assumption, no real profile export was seen); a row per label, each with one
    trailing empty column. Values are made up."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Indicator", *years])
    for label, cells in rows.items():
        writer.writerow([label, *(cells.get(y, "") for y in years), ""])
    preamble = [
        f"Country profile :{name}",
        "",
        f"Origin (Code) :{code}",
        "",
        WIPO_SOURCE.format(stamp=last_updated),
        "",
    ]
    return ("\ufeff" + "\r\n".join(preamble) + "\r\n" + out.getvalue()).encode("utf-8")


# -- Rosstat: a section page and a workbook in Rosstat's layout (synthetic values) ---------------------
def rosstat_section_page(links: list[tuple[str, str]]) -> bytes:
    """A section page listing this release's files: (href, link text); hrefs may be relative."""
    items = "".join(f'<li><a href="{href}">{text}</a></li>\n' for href, text in links)
    return (
        '<!DOCTYPE html>\n<html lang="ru"><head><meta charset="utf-8"><title>Раздел (synthetic)</title></head>'
        f'<body><nav><a href="/statistics">Статистика</a></nav><ul class="document-list">\n{items}</ul></body></html>\n'
    ).encode()


ROSSTAT_INDEX_UNIT = "(в % к соответствующему периоду предыдущего года)"


def rosstat_workbook(
    periods: list[Any],
    rows: list[list[Any]],
    title: str = "Индексы (synthetic test workbook)",
    unit: str = ROSSTAT_INDEX_UNIT,
    stamp: str | None = None,
    footnotes: tuple[str, ...] = (),
) -> bytes:
    """Rosstat's layout (as in VDS_god_OKVED2.xlsx): a contents sheet ("Содержание", with an update stamp if
    given), then sheet "1": "К содержанию" in B1, the title with the unit in parentheses in B2, "коды" in B3 and the
    period headers from D3, then one row per [code, label, *values] from B4, footnote paragraphs below."""
    from openpyxl import Workbook

    workbook = Workbook()
    contents = workbook.active
    assert contents is not None
    contents.title = "Содержание"
    contents["A1"] = "Содержание:"
    contents["A3"] = "1."
    contents["B3"] = f"{title} {unit}"
    if stamp:
        contents["B10"] = stamp
    sheet = workbook.create_sheet("1")
    sheet["B1"] = "К содержанию"
    sheet.merge_cells("B1:C1")
    sheet["B2"] = f"{title}\n{unit}" if unit else title
    sheet.merge_cells("B2:C2")
    sheet["B3"] = "коды"
    for c, value in enumerate(periods, start=4):
        sheet.cell(row=3, column=c, value=value)
    for r, cells in enumerate(rows, start=4):
        for c, value in enumerate(cells, start=2):
            sheet.cell(row=r, column=c, value=value)
    for r, text in enumerate(footnotes, start=len(rows) + 5):
        sheet.cell(row=r, column=2, value=text)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
