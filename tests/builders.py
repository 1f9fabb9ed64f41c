"""Publisher-shaped test inputs built in code, so no invented figure is shipped as data.

Values made here are synthetic and only exercise mechanisms (vintages, parsing, guards).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

GDP = "NY.GDP.MKTP.KD.ZG"


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
