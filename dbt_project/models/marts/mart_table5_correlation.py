"""The paper's Table 5 correlation with its two-sided p-value (scipy: Student t with n - 2 degrees of freedom)."""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats


def model(dbt, session):  # type: ignore[no-untyped-def]
    """Load the SQL correlation statistics and add the p-value where r was computed."""
    dbt.config(materialized="table")
    statistics = dbt.ref("mart_table5_correlation_statistics").df()
    return add_p_value(statistics)


def add_p_value(statistics: pd.DataFrame) -> pd.DataFrame:
    """The two-sided p-value of H0: rho = 0, from t = r sqrt((n - 2) / (1 - r^2)); null where r is null."""
    frame = statistics.copy()
    p_values = [pearson_p_value(r, n) for r, n in zip(frame["r_unrounded"], frame["n"], strict=True)]
    # Typed columns: an all-null object column would reach DuckDB as type NULL.
    frame["p_value"] = pd.Series(p_values, index=frame.index, dtype="Float64")
    for column in frame.columns:
        if pd.api.types.is_object_dtype(frame[column]):
            frame[column] = frame[column].astype("string")
    return frame


def pearson_p_value(r: float | None, n: int) -> float | None:
    """Two-sided p-value for a sample correlation r over n pairs (6 decimals); None when r is missing or n < 3."""
    if r is None or pd.isna(r) or n < 3:
        return None
    if abs(r) >= 1:
        return 0.0
    t = r * math.sqrt((n - 2) / (1 - r * r))
    return round(float(2 * stats.t.sf(abs(t), n - 2)), 6)
