"""The analysts' HTML report: the paper's tables from the published warehouse, charts, provenance, escaping."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from flows.refresh import refresh
from tests.conftest import file_digest, query
from tests.report.conftest import LATER_VINTAGE, SCRIPT_ITEM_URL, SCRIPT_TITLE, analysis_page
from unionstat import analysis_report
from unionstat.analysis_report import write_analysis_report
from unionstat.cli import main
from unionstat.errors import UnionstatError
from unionstat.settings import Settings

PAPER_TABLES = {
    "1": "marts.mart_table1_cooperation_aspects",
    "2": "marts.mart_table2_country_comparison",
    "3": "marts.mart_table3_joint_initiatives",
    "5": "marts.mart_table5_trade_investment",
    "6": "marts.mart_table6_challenges",
    "7": "marts.mart_table7_digitalization",
}


@pytest.fixture(scope="module")
def page(report_warehouse: Settings) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(analysis_page(report_warehouse).read_text(encoding="utf-8"))


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _fields(section: lxml.html.HtmlElement) -> dict[str, str]:
    return {_text(dt): _text(dt.getnext()) for dt in section.xpath(".//dt")}


def test_the_refresh_writes_the_report_and_the_two_reports_link_each_other(report_warehouse: Settings) -> None:
    target = analysis_page(report_warehouse)
    assert target.is_file()
    assert 'href="analysis/index.html"' in (report_warehouse.reports_dir / "index.html").read_text(encoding="utf-8")
    html = target.read_text(encoding="utf-8")
    assert 'href="../index.html"' in html
    assert 'href="../data_docs/index.html"' in html
    assert "cdn" not in html.lower() and "<script" not in html.lower()  # self-contained, no JavaScript at all


def test_chi_square_result_and_its_warning(page: lxml.html.HtmlElement) -> None:
    result = _text(page.get_element_by_id("chi-square-result"))
    assert "χ² = 0.4286, df = 3, p = 0.9343" in result
    assert "fail to reject the null hypothesis" in result
    assert "exact multinomial p = 1" in result
    warning = _text(page.get_element_by_id("chi-square-warning"))
    assert warning.startswith("4 of 4 expected counts are below 5 (expected 1.75)")
    table4 = page.xpath("//table[@data-table='4']")[0]
    rows = {_text(tr[0]): [_text(td) for td in tr[1:]] for tr in table4.xpath(".//tr[td]")}
    assert rows["χ² statistic"] == ["0.4286", "0.429", "match"]  # equal at the printed precision
    assert rows["degrees of freedom"] == ["3", "3", "match"]
    assert rows["p-value (χ², upper tail)"] == ["0.9343", "0.9344", "explained"]


def test_each_paper_table_has_every_mart_row_and_the_audit_statuses(
    report_warehouse: Settings, page: lxml.html.HtmlElement
) -> None:
    db = report_warehouse.published_db
    for number, mart in PAPER_TABLES.items():
        rendered = page.xpath(f"//table[@data-table='{number}']//tr[td]")
        assert len(rendered) == query(db, f"select count(*) from {mart}")[0][0], f"Table {number}"
    audit = dict(query(db, "select figure_id, status from marts.mart_replication_audit"))
    for figure_id, status in audit.items():
        row = page.get_element_by_id(f"figure-{figure_id}")
        assert status in [_text(s) for s in row.xpath(".//span[contains(@class, 'st-')]")], figure_id
    table2 = {
        _text(tr[0]).split(" (")[0]: [_text(td) for td in tr[1:]]
        for tr in page.xpath("//table[@data-table='2']//tr[td]")
    }
    # GDP: the imported later vintage (synthetic 1.25 / 2.5) beside the printed 3.6% / 3.9%, with the audit's status.
    gdp = table2["GDP Growth Rate"]
    assert gdp[:2] == ["2023", "1.25"] and gdp[2] == "3.6%" and gdp[4:6] == ["2.5", "3.9%"]
    assert gdp[3] == audit["t2_gdp_rus"] and gdp[6] == audit["t2_gdp_blr"]
    patents = table2["Patent Applications"]
    # WIPO 2022: only the paper's own figures are loaded, so the audit checks nothing ('paper only')
    assert patents[1:4] == ["25,188", "25.188", "paper only"]
    assert patents[7:10] == ["2,470.2041", "2,471% higher in Russia", "paper only"]
    assert patents[11:13] == ["14", "49"]  # world ranks
    # each rank links to the snapshot that holds it (WIPO's 2022 ranks)
    ranks = dict(
        query(
            db,
            "select country_iso3, snapshot_sha256 from intermediate.int_observations__vintaged "
            "where indicator_code = 'patent_applications_world_rank' and period = '2022'",
        )
    )
    rank_links = page.xpath(
        "//table[@data-table='2']//tr[td[1][starts-with(normalize-space(), 'Patent Applications (')]]"
        "/td[position() = 13 or position() = 14]/a/@href"
    )
    assert rank_links == [f"#snap-{ranks['RUS']}", f"#snap-{ranks['BLR']}"]
    assert patents[13].startswith("compiled from the paper")  # what the values are
    assert "real publisher file" not in gdp[13] and "imported" in gdp[13]
    banner = _text(page.get_element_by_id("compiled-banner"))
    assert banner.startswith("Some figures on this page are compiled from the paper") and "Table 2" in banner
    table5 = [_text(tr) for tr in page.xpath("//table[@data-table='5']//tr[td]")]
    assert any("not computable" in row and "0.97" in row for row in table5)
    statuses = {_text(s) for s in page.xpath("//span[contains(@class, 'st-')]")}
    assert {"match", "explained", "not reproducible", "paper only", "computed"} <= statuses


def test_every_number_links_to_provenance_that_exists_in_the_page(
    report_warehouse: Settings, page: lxml.html.HtmlElement
) -> None:
    ids = set(page.xpath("//@id"))
    cells = page.xpath("//td[contains(concat(' ', @class, ' '), ' num ')]")
    linked = [td for td in cells if _text(td) != "—"]
    assert len(linked) > 150
    for td in linked:
        links = td.xpath("./a[@class='prov']/@href")
        assert links, f"number {_text(td)!r} has no provenance link"
        assert all(href.startswith("#") and href[1:] in ids for href in links), links
    for href in page.xpath("//a[starts-with(@href, '#')]/@href"):
        assert href[1:] in ids, href
    # Each snapshot's section: sha256, origin, where it is stored, publisher, vintage, when it was taken in. A figure
    # compiled from the paper is never shown as fetched, nor with a publisher release as its vintage.
    snapshots = query(
        report_warehouse.published_db,
        "select sha256, request_url, cast(fetched_at as varchar) from raw.snapshots where source = 'wipo'",
    )
    assert len(snapshots) == 3
    for sha, url, fetched_at in snapshots:
        fields = _fields(page.get_element_by_id(f"snap-{sha}"))
        assert fields["snapshot sha256"] == sha and fields["stored as"].startswith(url)
        assert "source URL" not in fields and "fetched at" not in fields
        assert fields["origin"].startswith("compiled from the paper's printed figures")
        assert fields["publisher"].startswith("WIPO IP Statistics Data Center")
        assert fields["vintage"] == "as printed in the paper" and fields["taken in at"].startswith(fetched_at[:19])
    # A real file recorded by a third party says so, with its manifest entry.
    gdp_real = query(
        report_warehouse.published_db,
        "select sha256 from raw.snapshots where request_url like '%API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2788350.csv'",
    )[0][0]
    fields = _fields(page.get_element_by_id(f"snap-{gdp_real}"))
    assert fields["origin"].startswith("a real publisher file, recorded by a third party")
    assert "worldbank-API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2788350.csv" in fields["origin"]
    assert fields["vintage"] == "2024-06-28"
    # The imported Russian GDP figure (1.25) links to the imported bulk CSV's snapshot, vintage 2025-07-01.
    gdp_cell = page.xpath("//table[@data-table='2']//tr[td[1][starts-with(normalize-space(), 'GDP')]]/td[3]")[0]
    fields = _fields(page.get_element_by_id(gdp_cell.xpath("./a/@href")[0][1:]))
    assert fields["vintage"] == LATER_VINTAGE and fields["origin"].startswith("a publisher file downloaded by hand")
    assert fields["imported at"]
    # Figures from the paper's own counts (Tables 3 and 4) link to the paper.
    table3_counts = page.xpath("//table[@data-table='3']//tr[td]/td[2]/a/@href")
    assert table3_counts == ["#prov-paper"] * 4


def test_charts_are_inline_svg_with_title_and_description(page: lxml.html.HtmlElement) -> None:
    charts = {svg.get("data-chart"): svg for svg in page.xpath("//svg[@data-chart]")}
    assert sorted(charts) == ["gdp-eaeu", "gdp-vintages", "patents", "sectors", "shares"]
    for name, svg in charts.items():
        assert svg.xpath("./title") and svg.xpath("./desc"), name
        assert svg.xpath(".//path"), name
    # GDP growth: one line per country and vintage, the reference's and the imported one.
    gdp_ids = set(charts["gdp-vintages"].xpath(".//g/@id"))
    for country in ("russia", "belarus"):
        for vintage in ("2024-06-28", LATER_VINTAGE):
            assert f"gdp-vintages-series-{country}-vintage-{vintage}" in gdp_ids
    # Russia and Belarus beside the other members of the Eurasian Economic Union, a line each.
    eaeu_ids = set(charts["gdp-eaeu"].xpath(".//g/@id"))
    for member in ("armenia", "belarus", "kazakhstan", "kyrgyz-republic", "russian-federation"):
        assert f"gdp-eaeu-series-{member}" in eaeu_ids
    # Kazakhstan's 2023 growth in the real World Bank release of 2024-06-28: 5.09999999973641 (to 4 decimals)
    assert "Kazakhstan: " in _text(charts["gdp-eaeu"].xpath("./desc")[0])
    assert "2023 5.1." in _text(charts["gdp-eaeu"].xpath("./desc")[0]).split("Kazakhstan: ")[1]
    shares = _text(charts["shares"].xpath("./desc")[0])
    assert "trade turnover: 2020 47.9, 2021 49." in shares
    patents = _text(charts["patents"].xpath("./desc")[0])
    assert "Russia (wipo patent_applications_total_by_origin): 2022 25,188." in patents


def test_scraped_titles_are_escaped_never_html(report_warehouse: Settings, page: lxml.html.HtmlElement) -> None:
    html = analysis_page(report_warehouse).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    titles = [td.text_content() for td in page.xpath("//td[@class='news-title']")]
    assert SCRIPT_TITLE in titles
    link = page.xpath(f"//a[@href='{SCRIPT_ITEM_URL}']")
    assert len(link) == 1 and link[0].get("rel") == "noopener noreferrer"


def test_news_counts_by_sector_and_month(report_warehouse: Settings, page: lxml.html.HtmlElement) -> None:
    expected = query(
        report_warehouse.published_db,
        "select strftime(published_month, '%Y-%m-%d'), sector_id, news_items "
        "from marts.mart_news_counts_by_sector_month",
    )
    table = page.xpath("//table[@data-table='news-counts']//tr[td]")
    rows = {(_text(tr[0]), _text(tr[1])): _text(tr[2].xpath("./a")[0]) for tr in table}
    assert len(rows) == len(expected) > 0
    for month, sector, items in expected:
        assert rows[(month, sector)] == str(items)


def test_the_report_reads_the_warehouse_read_only_and_names_a_missing_one(
    report_warehouse: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = file_digest(report_warehouse.published_db)
    write_analysis_report(report_warehouse)
    assert file_digest(report_warehouse.published_db) == before
    monkeypatch.setenv("UNIONSTAT_WAREHOUSE_DIR", str(tmp_path / "empty"))
    with pytest.raises(UnionstatError, match=r"no published warehouse at .*empty.*unionstat\.duckdb"):
        write_analysis_report(Settings.from_env())


def test_the_report_command_rewrites_the_page(report_warehouse: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    target = analysis_page(report_warehouse)
    target.unlink()
    assert main(["report"]) == 0
    assert capsys.readouterr().out.strip() == f"analysis report: {target}"
    assert "Table 2 — Russia and Belarus compared" in target.read_text(encoding="utf-8")


def test_a_report_that_cannot_be_written_does_not_fail_the_refresh(warehouse_env: Settings) -> None:
    warehouse_env.reports_dir.mkdir(parents=True)
    (warehouse_env.reports_dir / "analysis").write_text("a file where the report's folder should be")

    summary = refresh(sources=["worldbank"])

    assert summary["status"] == "published"
    assert query(warehouse_env.published_db, "select count(*) from raw.snapshots")[0][0] == 10  # the real files
    assert (warehouse_env.reports_dir / "analysis").is_file()


def test_charts_take_series_with_missing_values_as_gaps() -> None:
    """Real files have empty cells (null values): a chart draws the others and never compares None with a number."""
    from unionstat.analysis_report import gdp_vintage_chart, patents_chart

    patents = patents_chart(
        [
            {
                "publisher": "worldbank",
                "indicator_code": "IP.PAT.RESD",
                "country_iso3": "RUS",
                "period": "2020",
                "value": None,
            },
            {
                "publisher": "worldbank",
                "indicator_code": "IP.PAT.RESD",
                "country_iso3": "RUS",
                "period": "2021",
                "value": 19569.0,
            },
        ]
    )
    assert "2021 19,569" in patents and "2020" not in patents.split("<desc")[1].split("</desc>")[0]
    gdp = gdp_vintage_chart(
        [
            {"country_iso3": "BLR", "period": "2022", "vintage": "2024-06-28", "value": None},
            {"country_iso3": "BLR", "period": "2023", "vintage": "2024-06-28", "value": 3.88624214456901},
        ]
    )
    assert "2023 3.8862" in gdp


def test_the_report_reads_marts_only_and_keeps_its_html_in_template_files() -> None:
    """Business SQL lives in dbt marts (with their tests), the page in Jinja2 files: the module loads and renders."""
    queries = {**analysis_report.REQUIRED_QUERIES, **analysis_report.OPTIONAL_QUERIES}
    relations = {relation for sql in queries.values() for relation in analysis_report._relations(sql)}
    assert {r for r in relations if not r.startswith("marts.")} == {"ops.runs"}  # the run being shown, not data
    assert {"marts.mart_gdp_growth_vintages", "marts.mart_patent_applications_by_year"} <= relations
    assert "marts.mart_snapshot_provenance" in relations
    source = Path(analysis_report.__file__).read_text(encoding="utf-8")
    assert "<table" not in source and "<html" not in source and "<dl" not in source
    templates = sorted(p.name for p in analysis_report.TEMPLATES.glob("*.j2"))
    assert templates == ["_macros.html.j2", "index.html.j2"]
    assert '<table class="paper-table" data-table="2">' in (analysis_report.TEMPLATES / "index.html.j2").read_text()


def test_the_gdp_chart_draws_a_later_vintage_only_where_it_revised_or_added_a_value() -> None:
    """One line per vintage where values were revised: a release repeating a value (or writing it at another
    precision, the README's rule) draws nothing. Synthetic values, not World Bank figures."""
    from unionstat.analysis_report import gdp_vintage_chart, revised

    def row(vintage: str, period: str, value: float) -> dict[str, object]:
        return {"country_iso3": "RUS", "period": period, "vintage": vintage, "value": value}

    svg = gdp_vintage_chart(
        [
            row("2024-06-28", "2021", 1.0),
            row("2024-06-28", "2022", 0.604430019855499),
            row("2025-04-15", "2021", 1.0),  # repeated
            row("2025-04-15", "2022", 0.60443),  # the same value, fewer decimals
            row("2025-04-15", "2023", 2.5),  # added
            row("2026-01-28", "2021", 1.5),  # revised
        ]
    )
    desc = svg.split("<desc")[1].split("</desc>")[0]
    assert "Russia, vintage 2024-06-28: 2021 1, 2022 0.6044." in desc
    assert "Russia, vintage 2025-04-15: 2023 2.5." in desc
    assert "Russia, vintage 2026-01-28: 2021 1.5." in desc
    assert (revised(0.604430019855499, 0.60443), revised(0.95857, 0.96602), revised(4.0, 4.04)) == (False, True, True)
