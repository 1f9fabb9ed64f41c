"""Write the Rosstat reference workbooks, compiled from the paper's figures, byte for byte the same on every run.

Run from the project root:  .venv/bin/python warehouse/reference/tools/make_rosstat_reference.py

The workbooks are NOT Rosstat files: they hold only the two indices the paper printed (Table 2; Tables 1 and 7 for
the software figure's January-August 2024 period) in the layout scrapers/rosstat.py reads, and say so in cell A1.
Byte-stability: fixed document properties and a fixed timestamp on every zip member.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

OUT = Path(__file__).resolve().parents[1] / "responses" / "rosstat"
FIXED = datetime(2024, 10, 1, 0, 0, 0)
ZIP_TIME = (2024, 10, 1, 0, 0, 0)
TITLE = (
    "unionstat reference, compiled from the paper (Theoretical Economy No. 10, 2024, {tables}); "
    "NOT a Rosstat file: only the figure the paper printed, in the layout the connector reads"
)
WORKBOOKS = {
    "unionstat-reference-compiled-from-paper-software.xlsx": {
        "tables": "Table 2 'Growth in IT Services (2024) 132.7%'; Tables 1 and 7: software development, Jan-Aug 2024",
        "column": "январь-август 2024 г.\nв % к январю-августу 2023 г.",
        "row": "Разработка компьютерного\nпрограммного обеспечения",
        "value": 132.7,
    },
    "unionstat-reference-compiled-from-paper-rnd.xlsx": {
        "tables": "Table 2 'R&D Growth (2024) 107.3%'",
        "column": "2024 г.\nв % к 2023 г.",
        "row": "Научные исследования и разработки",
        "value": 107.3,
    },
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, spec in WORKBOOKS.items():
        (OUT / name).write_bytes(workbook_bytes(spec))


def workbook_bytes(spec: dict[str, object]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "1"
    sheet["A1"] = TITLE.format(tables=spec["tables"])
    sheet.merge_cells("A1:B1")
    sheet["A3"] = "Вид экономической\u00a0деятельности"
    sheet["B3"] = spec["column"]
    sheet["A4"] = spec["row"]
    sheet["B4"] = spec["value"]
    workbook.properties.creator = "unionstat (compiled from the paper)"
    workbook.properties.created = FIXED
    workbook.properties.modified = FIXED
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _stable_zip(buffer.getvalue())


def _stable_zip(body: bytes) -> bytes:
    """Rewrite the archive with fixed member timestamps (and a fixed modified date openpyxl sets on save)."""
    source = zipfile.ZipFile(io.BytesIO(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp = FIXED.strftime("%Y-%m-%dT%H:%M:%SZ")
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            target.writestr(member, data)
    return out.getvalue()


if __name__ == "__main__":
    main()
