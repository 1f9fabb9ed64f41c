"""The paper's Table 4: chi-square goodness of fit against uniform, with its p-value and conclusion (scipy)."""

from __future__ import annotations

import pandas as pd
from scipy import stats

ALPHA = 0.05
COLUMNS = [
    "test_id",
    "null_hypothesis",
    "observed_text",
    "n",
    "k",
    "expected_frequency",
    "statistic",
    "df",
    "p_value",
    "alpha",
    "conclusion",
    "min_expected",
    "expected_below_5",
    "assumption_warning",
    "exact_multinomial_p_value",
    "exact_conclusion",
]


def model(dbt, session):  # type: ignore[no-untyped-def]
    """Load the SQL statistics, add the chi-square p-value and the conclusions at ALPHA."""
    dbt.config(materialized="table")
    statistics = dbt.ref("mart_table4_uniformity_statistics").df()
    return add_p_value(statistics, ALPHA)


def add_p_value(statistics: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """The upper-tail chi-square probability of `statistic_unrounded` with `df` degrees of freedom (6 decimals)."""
    frame = statistics.copy()
    frame["p_value"] = [
        round(float(stats.chi2.sf(statistic, df)), 6)
        for statistic, df in zip(frame["statistic_unrounded"], frame["df"], strict=True)
    ]
    frame["alpha"] = alpha
    frame["conclusion"] = [conclusion(p, alpha) for p in frame["p_value"]]
    frame["exact_conclusion"] = [
        None if pd.isna(p) else conclusion(float(p), alpha) for p in frame["exact_multinomial_p_value"]
    ]
    return frame[COLUMNS]


def conclusion(p_value: float, alpha: float) -> str:
    """The decision at level alpha, in the paper's words."""
    return "reject the null hypothesis" if p_value < alpha else "fail to reject the null hypothesis"
