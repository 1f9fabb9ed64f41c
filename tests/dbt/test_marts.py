"""The analysis marts (Tables 1-7, the replication audit) after an offline refresh, and the Python models' maths."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from flows.refresh import refresh
from tests.builders import worldbank_bulk_csv
from tests.conftest import query, replay_env
from unionstat.settings import PROJECT_ROOT

GDP_FACTS = (
    "select country_iso3, current_value, evidence_status from marts.mart_table6_challenges "
    "where fact_id = 't6_r1_1' order by country_iso3"
)
MARTS = PROJECT_ROOT / "dbt_project" / "models" / "marts"
AUDIT = (
    "select figure_id, status, recomputed_value, value_from_printed_inputs, explanation "
    "from marts.mart_replication_audit"
)
TABLE2_LONG = (
    "select row_id, metric_value, origin, world_rank, status from marts.mart_table2_country_values "
    "where metric_id in ('gdp_growth', 'patent_applications')"
)


def _load_model(name: str) -> ModuleType:
    """Import a dbt Python model file as a module (dbt unit tests cannot run Python models)."""
    spec = importlib.util.spec_from_file_location(name, MARTS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the Python models' statistics, on known values -------------------------------------------------------------


def test_chi_square_p_value_of_the_papers_counts_is_0_9343_not_the_printed_0_9344() -> None:
    table4 = _load_model("mart_table4_uniformity_test")
    statistics = pd.DataFrame(
        {
            "test_id": ["t"],
            "null_hypothesis": ["uniform"],
            "observed_text": ["2, 2, 2, 1"],
            "n": [7],
            "k": [4],
            "expected_frequency": [1.75],
            "statistic": [0.4286],
            "statistic_unrounded": [3 / 7],
            "df": [3],
            "min_expected": [1.75],
            "expected_below_5": [4],
            "assumption_warning": ["below 5"],
            "exact_multinomial_p_value": [1.0],
        }  # fmt: skip
    )

    row = table4.add_p_value(statistics, 0.05).iloc[0]

    assert row["p_value"] == pytest.approx(0.934279, abs=1e-6)
    assert round(row["p_value"], 4) == 0.9343
    assert row["conclusion"] == "fail to reject the null hypothesis"
    assert row["exact_conclusion"] == "fail to reject the null hypothesis"
    assert row["alpha"] == 0.05


def test_chi_square_rejects_an_extreme_distribution() -> None:
    table4 = _load_model("mart_table4_uniformity_test")
    statistics = pd.DataFrame(
        {
            "test_id": ["t"],
            "null_hypothesis": ["uniform"],
            "observed_text": ["7, 0, 0, 0"],
            "n": [7],
            "k": [4],
            "expected_frequency": [1.75],
            "statistic": [21.0],
            "statistic_unrounded": [21.0],
            "df": [3],
            "min_expected": [1.75],
            "expected_below_5": [4],
            "assumption_warning": ["below 5"],
            "exact_multinomial_p_value": [None],
        }  # fmt: skip
    )

    row = table4.add_p_value(statistics, 0.05).iloc[0]

    assert row["p_value"] == pytest.approx(0.000105, abs=1e-6)
    assert row["conclusion"] == "reject the null hypothesis"
    assert row["exact_conclusion"] is None


def test_pearson_p_value_on_a_known_example_and_its_limits() -> None:
    table5 = _load_model("mart_table5_correlation")

    # x = 1..5, y = 2, 4, 5, 4, 5: r = 6 / sqrt(60); scipy.stats.pearsonr gives p = 0.124027
    assert table5.pearson_p_value(6 / 60**0.5, 5) == pytest.approx(0.124027, abs=1e-6)
    assert table5.pearson_p_value(None, 1) is None
    assert table5.pearson_p_value(0.97, 2) is None
    assert table5.pearson_p_value(1.0, 4) == 0.0
    frame = table5.add_p_value(pd.DataFrame({"r_unrounded": [None, 6 / 60**0.5], "n": [1, 5]}))
    assert pd.isna(frame["p_value"].tolist()[0])
    assert frame["p_value"].tolist()[1] == pytest.approx(0.124027, abs=1e-6)


# --- the marts after an offline refresh from the reference snapshot ---------------------------------------------


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory, reference_build: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The session's refresh from the reference snapshot (a copy), then a later World Bank vintage imported
    (synthetic values)."""
    root = tmp_path_factory.mktemp("marts")
    shutil.copytree(reference_build["warehouse_dir"], root / "warehouse")
    with pytest.MonkeyPatch.context() as patch:
        settings = replay_env(patch, root / "warehouse")
        summary = reference_build["summary"]
        db = settings.published_db
        state: dict[str, Any] = {"summary": summary, "db": db}
        state["reference_db"] = reference_build["warehouse_dir"] / db.name  # before the import below
        state["audit"] = {r[0]: r[1:] for r in query(db, AUDIT)}
        state["relations"] = {r[0] for r in query(db, "select table_name from information_schema.tables")}
        state["gdp_facts"] = query(db, GDP_FACTS)
        state["table2_long"] = {r[0]: r[1:] for r in query(db, TABLE2_LONG)}

        # Synthetic values (not World Bank figures): a later release that differs from the printed 3.6 / 3.9.
        csv_path = root / "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv"
        csv_path.write_bytes(worldbank_bulk_csv({"RUS": {"2023": "1.25"}, "BLR": {"2023": "2.5"}}, "2025-07-01"))
        refresh(import_paths=[str(csv_path)])
        state["audit_revised"] = {r[0]: r[1:] for r in query(db, AUDIT)}
        state["gdp_facts_revised"] = query(db, GDP_FACTS)
        state["table2_long_revised"] = {r[0]: r[1:] for r in query(db, TABLE2_LONG)}
        yield state


def test_table4_mart_gives_the_chi_square_and_the_exact_multinomial_p(refreshed: dict[str, Any]) -> None:
    assert refreshed["summary"]["status"] == "published"
    rows = query(
        refreshed["db"],
        "select observed_text, n, k, expected_frequency, statistic, df, p_value, conclusion, expected_below_5, "
        "exact_multinomial_p_value, assumption_warning from marts.mart_table4_uniformity_test",
    )
    assert len(rows) == 1
    observed, n, k, expected, statistic, df, p, conclusion, below_5, exact_p, warning = rows[0]
    assert observed == "Digital/IT: 2, Medical/Health: 2, Education: 2, Culture: 1"
    assert (n, k, expected, statistic, df) == (7, 4, 1.75, 0.4286, 3)
    assert p == pytest.approx(0.934279, abs=1e-6)
    assert conclusion == "fail to reject the null hypothesis"
    assert below_5 == 4
    assert exact_p == 1.0
    assert "chi-square approximation does not hold" in warning


def test_table3_shares_and_table5_correlation_status(refreshed: dict[str, Any]) -> None:
    db = refreshed["db"]
    shares = dict(query(db, "select sector_id, share_pct from marts.mart_table3_joint_initiatives"))
    assert shares == {"digital_it": 28.5714, "medical_health": 28.5714, "education": 28.5714, "culture": 14.2857}
    correlation = query(db, "select n, r, r_squared, p_value, status, status_reason from marts.mart_table5_correlation")
    assert len(correlation) == 1
    n, r, r_squared, p, status, reason = correlation[0]
    assert (r, r_squared, p, status) == (None, None, None, "not computable")
    assert reason.startswith("r cannot be computed: it needs at least three years with both shares, found ")
    assert n < 3


def test_table1_6_7_facts_link_their_statistics(refreshed: dict[str, Any]) -> None:
    db = refreshed["db"]
    counts = {
        table: query(db, f"select count(distinct fact_id), count(*) from marts.{table}")[0]
        for table in ("mart_table1_cooperation_aspects", "mart_table6_challenges", "mart_table7_digitalization")
    }
    assert counts["mart_table1_cooperation_aspects"] == (23, 25)
    assert counts["mart_table6_challenges"] == (19, 22)
    assert counts["mart_table7_digitalization"] == (15, 15)
    # the real World Bank release of 2024-06-28 (GDP growth 2023), which the paper's 3.9 and 3.6 round
    assert refreshed["gdp_facts"] == [("BLR", 3.88624214456901, "match"), ("RUS", 3.60000000000001, "match")]
    assert refreshed["gdp_facts_revised"] == [("BLR", 2.5, "differs"), ("RUS", 1.25, "differs")]
    paper_only = query(
        db, "select evidence_status from marts.mart_table1_cooperation_aspects where evidence_row_id = 't1_r5_1'"
    )
    assert paper_only == [("paper only",)]


def test_tables_1_6_and_7_are_one_model_over_one_seed(refreshed: dict[str, Any]) -> None:
    db = refreshed["db"]
    per_table = dict(query(db, "select paper_table, count(*) from marts.mart_paper_facts group by 1"))
    assert per_table == {"Table 1": 25, "Table 6": 22, "Table 7": 15}
    # Each table's mart is its rows of mart_paper_facts under the paper's column names (Table 6, row 1, from the paper).
    table6 = query(
        db,
        "select challenge, description, potential_impact, category, statistic_id from marts.mart_table6_challenges "
        "where fact_id = 't6_r1_1' order by evidence_row_id",
    )
    assert table6 == [
        (
            "Economic Disparity",
            "GDP growth differences (Russia: 3.6%, Belarus: 3.9% in 2023)",
            "May lead to uneven investment capabilities in R&D and difficulties in talent retention",
            "Economic",
            statistic,
        )
        for statistic in ("t6_r1_1_ny_gdp_mktp_kd_zg_blr", "t6_r1_1_ny_gdp_mktp_kd_zg_rus")
    ]
    table7 = query(db, "select aspect, data_initiative from marts.mart_table7_digitalization where fact_id = 't7_r1_2'")
    printed = "132.7% increase in software development in Russia (Jan-Aug 2024)"
    assert table7 == [("Digital Economy Development", printed)]
    support = dict(
        query(db, "select paper_table, count(*) from marts.mart_news_support_by_paper_row group by 1 order by 1")
    )
    assert support == {"Table 1": 8, "Table 6": 10, "Table 7": 10}


def test_news_analysis_models_are_built_from_the_news_table(refreshed: dict[str, Any]) -> None:
    assert "mart_table4_uniformity_test" in refreshed["relations"]
    assert "mart_news_item_categories" in refreshed["relations"]
    assert "mart_news_support_by_paper_row" in refreshed["relations"]


def test_audit_covers_tables_2_to_5_and_the_abstract(refreshed: dict[str, Any]) -> None:
    audit = refreshed["audit"]
    assert len(audit) == 40
    assert {figure_id.split("_")[0] for figure_id in audit} == {"t2", "t3", "t4", "t5", "abs"}
    status, recomputed, from_inputs, explanation = audit["t3_share_culture"]
    assert (status, recomputed, from_inputs) == ("explained", 14.2857, 14.2857)
    assert "printed as 14.2%" in explanation
    assert audit["t3_share_digital_it"][:2] == ("match", 28.5714)
    status, recomputed, _, explanation = audit["t4_p_value"]
    assert (status, recomputed) == ("explained", 0.9343)
    assert "exact multinomial test gives p = 1" in explanation
    assert audit["t4_statistic"][:2] == ("match", 0.4286)
    status, recomputed, _, explanation = audit["t5_r"]
    assert (status, recomputed) == ("not reproducible", None)
    assert "at least three years" in explanation
    assert audit["t5_r_squared"][:3] == ("not reproducible", None, 0.9409)
    assert audit["abs_r"][0] == "not reproducible"
    assert audit["t2_it_rus"][3].count("growth of 32.7%") >= 1
    assert "not in the World Bank's series" in audit["t2_patents_rus"][3]
    assert "resident applications per million" in audit["t2_per_million_rus"][3]
    assert audit["t2_patents_diff"][0] == "paper only"  # WIPO 2022: only the paper's own figures are loaded
    assert "printed as 2,471%" in audit["t2_patents_diff"][3]
    assert audit["t2_gdp_rus"][:2] == ("match", 3.60000000000001)
    # the reference run's statuses, figure by figure as listed above
    statuses = [status for status, *_ in audit.values()]
    assert {s: statuses.count(s) for s in set(statuses)} == {
        "match": 17,
        "explained": 3,
        "paper only": 14,
        "not reproducible": 6,
    }


def test_table2_long_rows_one_per_metric_and_country(refreshed: dict[str, Any]) -> None:
    rows = query(refreshed["db"], "select kind, count(*) from marts.mart_table2_country_values group by 1")
    assert dict(rows) == {"value": 12, "pct_difference": 4}  # 6 metrics x 2 countries; 4 compared by the paper
    long = refreshed["table2_long"]
    # The World Bank's release of 2024-06-28 (GDP growth 2023): 3.60000000000001 and 3.88624214456901, 7.95% apart.
    assert long["gdp_growth/RUS"] == (3.60000000000001, "recorded_third_party", None, "computed")
    assert long["gdp_growth/BLR"] == (3.88624214456901, "recorded_third_party", None, "computed")
    assert long["gdp_growth/difference"] == (7.9512, "recorded_third_party", None, "computed")
    # WIPO 2022 as printed in the paper (25,188 vs 980; world ranks 14th and 49th in Tables 1 and 6)
    assert long["patent_applications/RUS"] == (25188, "compiled_from_paper", 14, "computed")
    assert long["patent_applications/BLR"] == (980, "compiled_from_paper", 49, "computed")
    assert long["patent_applications/difference"] == (2470.2041, "compiled_from_paper", None, "computed")
    wide = query(
        refreshed["db"],
        "select russia_value, belarus_value, pct_difference, russia_world_rank, belarus_world_rank "
        "from marts.mart_table2_country_comparison where metric_id = 'patent_applications'",
    )
    assert wide == [(25188, 980, 2470.2041, 14, 49)]
    revised = refreshed["table2_long_revised"]
    assert revised["gdp_growth/RUS"] == (1.25, "imported", None, "computed")
    assert revised["gdp_growth/difference"] == (100.0, "imported", None, "computed")  # 2.5 is 100% higher than 1.25


def test_gdp_growth_sets_the_union_state_beside_every_eaeu_member(refreshed: dict[str, Any]) -> None:
    """2023 GDP growth of the five members, read by eye from the real World Bank file of 2024-06-28
    (API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_2788350.csv, column 2023)."""
    rows = query(
        refreshed["reference_db"],
        "select country_iso3, value, cast(vintage as varchar), is_union_state from marts.mart_gdp_growth_eaeu "
        "where period = '2023' order by country_iso3",
    )
    assert rows == [
        ("ARM", 8.7, "2024-06-28", False),
        ("BLR", 3.88624214456901, "2024-06-28", True),
        ("KAZ", 5.09999999973641, "2024-06-28", False),
        ("KGZ", 6.15139183716032, "2024-06-28", False),
        ("RUS", 3.60000000000001, "2024-06-28", True),
    ]
    years = query(refreshed["reference_db"], "select count(distinct period) from marts.mart_gdp_growth_eaeu")
    assert years[0][0] > 60  # every year the release holds (1961-2023 for these members, with gaps)


def test_a_later_world_bank_vintage_shows_as_an_explained_revision(refreshed: dict[str, Any]) -> None:
    status, recomputed, _, explanation = refreshed["audit_revised"]["t2_gdp_rus"]
    assert (status, recomputed) == ("explained", 1.25)
    assert "The worldbank release of 2025-07-01 gives 1.25, not the printed 3.6." in explanation
    assert "revises GDP growth between releases" in explanation
    assert refreshed["audit_revised"]["t3_share_culture"] == refreshed["audit"]["t3_share_culture"]
