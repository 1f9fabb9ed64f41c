"""Writes the Belstat recordings of the reference snapshot from the paper's printed figures, byte for byte the same.

Run from the project root:  .venv/bin/python warehouse/reference/tools/make_belstat_reference.py

Nothing here comes from belstat.gov.by. The files copy Belstat's layouts (an XLSX workbook: data from column B,
merged title rows, a header of three merged rows, labels with line breaks and non-breaking spaces, numbers stored
as numbers; a website table in windows-1251 with a decimal comma) and hold only these figures of the paper
(Theoretical Economy, No. 10, 2024):
  - Russia's share in Belarus's foreign trade: 49.0% in 2021 (Tables 1 and 5) and 47.9% in 2020, DERIVED as
    49.0 - 1.1 from Table 5's "year-over-year change in trade share +1.1 percentage points";
  - Russia's share in Belarus's foreign investments: 42.6% (Tables 5 and 6), no year and no definition stated.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

OUT = Path(__file__).resolve().parents[1] / "responses" / "belstat"
FIXED_TIME = (2024, 10, 1, 0, 0, 0)
FIXED_ISO = "2024-10-01T00:00:00Z"
NBSP = "\u00a0"
PAPER = "Theoretical Economy, № 10, 2024"


def main() -> None:
    """Load (the paper's figures, above) / Process (lay them out) / Save (both files)."""
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "russia-share-foreign-trade.xlsx").write_bytes(trade_xlsx())
    (OUT / "russia-share-foreign-investment.html").write_bytes(investment_html())


def trade_xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Лист1"
    bold = Font(bold=True)
    titles = [
        f"Удельный вес России во{NBSP}внешней торговле Республики Беларусь",
        "(в процентах к итогу)",
        f"Составлено unionstat по статье ({PAPER}), не загружено с belstat.gov.by",
    ]
    for row, text in enumerate(titles, start=1):
        sheet.cell(row=row, column=2, value=text).font = bold
        sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=4)
    header = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for row, column, text in [
        (5, 2, "Страна"),
        (5, 3, "Внешнеторговый\r\nоборот"),
        (6, 3, f"в{NBSP}процентах\r\nк итогу"),
        (7, 3, "2020 г."),
        (7, 4, "2021 г."),
    ]:
        cell = sheet.cell(row=row, column=column, value=text)
        cell.font, cell.alignment = bold, header
    sheet.merge_cells("B5:B7")
    sheet.merge_cells("C5:D5")
    sheet.merge_cells("C6:D6")
    sheet.cell(row=8, column=2, value="Россия").alignment = Alignment(indent=1)
    for column, value in [(3, 47.9), (4, 49.0)]:
        sheet.cell(row=8, column=column, value=value).number_format = "#,##0.0"
    sheet.cell(
        row=10,
        column=2,
        value=(
            "Примечание. 2021 г.: 49,0 (статья, таблицы 1 и 5). 2020 г.: 47,9 рассчитано как 49,0 − 1,1 "
            "(статья, таблица 5: «+1,1 процентного пункта» к предыдущему году); сама статья 2020 г. не печатает."
        ),
    )
    sheet.column_dimensions["B"].width = 40
    workbook.properties.creator = "unionstat"
    workbook.properties.created = datetime(2024, 10, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _stable_zip(buffer.getvalue())


def investment_html() -> bytes:
    caption = "Удельный вес России в иностранных инвестициях, полученных Республикой Беларусь (в процентах к итогу)"
    page = f"""<!DOCTYPE html>
<html lang="ru">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">
<title>Иностранные инвестиции: составлено unionstat по статье</title>
</head>
<body>
<h2>Иностранные инвестиции</h2>
<table class="table">
<caption>{caption}</caption>
<tr><th rowspan="3">Страна</th><th>Иностранные{NBSP}инвестиции</th></tr>
<tr><th>в процентах к{NBSP}итогу</th></tr>
<tr><th>год не указан</th></tr>
<tr><td>Россия</td><td>42,6</td></tr>
</table>
<p>Составлено unionstat по статье ({PAPER}, таблицы 5 и 6: «Russia's share in Belarus's foreign investments:
42.6%»), не загружено с belstat.gov.by. В статье не указаны год, вид инвестиций (все иностранные или только
прямые) и показатель (поступление за период или накопленный объём).</p>
</body>
</html>
"""
    return page.replace("\n", "\r\n").encode("windows-1251")


def _stable_zip(body: bytes) -> bytes:
    """openpyxl stamps the save time into docProps/core.xml and the zip entries: pin both."""
    source = zipfile.ZipFile(io.BytesIO(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*", rf"\g<1>{FIXED_ISO}", text)
                text = re.sub(r"(<dcterms:created[^>]*>)[^<]*", rf"\g<1>{FIXED_ISO}", text)
                data = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, data)
    return out.getvalue()


if __name__ == "__main__":
    main()
