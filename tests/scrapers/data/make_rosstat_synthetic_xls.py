"""Write rosstat-synthetic.xls: a SYNTHETIC legacy XLS (BIFF8) in Rosstat's workbook layout, values invented.

Not a Rosstat file. xlwt (PyPI, 1.3.0) is not a project dependency, so the bytes are committed beside this script:
    python -m venv /tmp/xlwt && /tmp/xlwt/bin/pip install xlwt==1.3.0
    /tmp/xlwt/bin/python tests/scrapers/data/make_rosstat_synthetic_xls.py
"""

from __future__ import annotations

from pathlib import Path

import xlwt  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parent / "rosstat-synthetic.xls"


def main() -> None:
    book = xlwt.Workbook(encoding="utf-8")
    contents = book.add_sheet("Содержание")
    contents.write(0, 0, "Содержание:")
    contents.write(2, 0, "1.")
    contents.write(2, 1, "Индексы (synthetic test workbook, values invented)")
    contents.write(5, 1, "Обновлено: 06.02.2026 г.")
    sheet = book.add_sheet("1")
    sheet.write(0, 1, "К содержанию")
    title = "Индексы (synthetic test workbook, values invented)1)"
    sheet.write(1, 1, f"{title}\n(в % к соответствующему периоду предыдущего года)")
    sheet.write(2, 1, "коды")
    sheet.write(2, 3, 2023.0)
    sheet.write(2, 4, "20241,2")
    sheet.write(2, 5, "январь-август 2024 г.")
    sheet.write(3, 1, "J 62.01")
    sheet.write(3, 2, "Разработка компьютерного программного обеспечения")
    sheet.write(3, 3, 110.5)
    sheet.write(3, 4, "…")
    sheet.write(3, 5, 132.7)
    sheet.write(4, 1, "M 72")
    sheet.write(4, 2, "Научные исследования и разработки 3)")
    sheet.write(4, 3, "101,2")
    sheet.write(4, 4, 107.3)
    sheet.write(6, 1, "1) synthetic footnote")
    book.save(str(OUT))


if __name__ == "__main__":
    main()
