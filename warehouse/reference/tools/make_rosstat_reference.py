"""Write the Rosstat reference workbooks, compiled from the paper's figures, byte for byte the same on every run.

Run from the project root:  .venv/bin/python warehouse/reference/tools/make_rosstat_reference.py

The workbooks are NOT Rosstat files: they hold only the two indices the paper printed (Table 2; Tables 1 and 7 for
the software figure's January-August 2024 period), in the layout of real Rosstat workbooks (VDS_god_OKVED2.xlsx in
warehouse/reference/files/rosstat/): a contents sheet ("Содержание"), then a numbered sheet with "К содержанию" in
B1, the title in B2 with the unit in parentheses, a header row with "коды" in B3 and the period from D3, the OKVED2
code in column B and the label in column C. The title and the contents sheet say that the file is compiled from
the paper. No update stamp ("Обновлено ..."): the paper states no Rosstat release date, and none is invented.
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
COMPILED = (
    "unionstat reference, compiled from the paper (Theoretical Economy No. 10, 2024, {tables}); "
    "NOT a Rosstat file: only the figure the paper printed, in the layout of Rosstat's workbooks"
)
UNIT = "(в % к соответствующему периоду предыдущего года)"
WORKBOOKS = {
    "unionstat-reference-compiled-from-paper-software.xlsx": {
        "tables": "Table 2 'Growth in IT Services (2024) 132.7%'; Tables 1 and 7: software development, Jan-Aug 2024",
        "title": "Индекс по виду экономической деятельности «Разработка компьютерного программного обеспечения»",
        "period": "январь-август 2024 г.",
        "code": "J 62.01",
        "row": "Разработка компьютерного\nпрограммного обеспечения",
        "value": 132.7,
    },
    "unionstat-reference-compiled-from-paper-rnd.xlsx": {
        "tables": "Table 2 'R&D Growth (2024) 107.3%'",
        "title": "Индекс по виду экономической деятельности «Научные исследования и разработки»",
        "period": "2024 г.",
        "code": "M 72",
        "row": "Научные исследования и\u00a0разработки",
        "value": 107.3,
    },
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, spec in WORKBOOKS.items():
        (OUT / name).write_bytes(workbook_bytes(spec))


def workbook_bytes(spec: dict[str, object]) -> bytes:
    compiled = COMPILED.format(tables=spec["tables"])
    workbook = Workbook()
    contents = workbook.active
    assert contents is not None
    contents.title = "Содержание"
    contents["A1"] = "Содержание:"
    contents["A3"] = "1."
    contents["B3"] = f"{spec['title']} {UNIT}"
    contents["B5"] = compiled
    sheet = workbook.create_sheet("1")
    sheet["B1"] = "К содержанию"
    sheet.merge_cells("B1:C1")
    sheet["B2"] = f"{compiled}.\n{spec['title']}\n{UNIT}"
    sheet.merge_cells("B2:D2")
    sheet["B3"] = "коды"
    sheet["D3"] = spec["period"]
    sheet["B4"] = spec["code"]
    sheet["C4"] = spec["row"]
    sheet["D4"] = spec["value"]
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
