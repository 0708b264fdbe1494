"""The tidy estimate contract shared by every estimator, frequentist or Bayesian.

One row per estimate in ``estimates.csv``. Required columns: ``estimand``, ``method``,
``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``n_obs``; the others say how the number
was made (outcome, interval level, covariance convention, clusters, fit) and on what data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from .ols import FEOLSResult

REQUIRED = ("estimand", "method", "estimate", "std_error", "ci_lower", "ci_upper", "n_obs")


@dataclass(frozen=True)
class Estimate:
    """One row of ``estimates.csv``."""

    estimand: str
    method: str
    estimate: float
    std_error: float
    ci_lower: float
    ci_upper: float
    n_obs: int
    outcome: str = "y"
    term: str = ""
    p_value: float = np.nan
    ci_level: float = 0.95
    vcov: str = ""
    n_clusters: float = np.nan
    r2: float = np.nan
    r2_within: float = np.nan
    data_source: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict, compare=False)


COLUMNS = [f.name for f in fields(Estimate) if f.name != "extra"]


def from_fe_ols(res: FEOLSResult, term: str, *, estimand: str, method: str, outcome: str = "y",
                level: float = 0.95, data_source: str = "", note: str = "") -> Estimate:
    """The row for coefficient ``term`` of a fixed-effects regression."""
    tidy = res.tidy(level).set_index("term").loc[term]
    return Estimate(
        estimand=estimand, method=method, estimate=float(tidy["estimate"]),
        std_error=float(tidy["std_error"]), ci_lower=float(tidy["ci_lower"]),
        ci_upper=float(tidy["ci_upper"]), n_obs=res.n_obs, outcome=outcome, term=term,
        p_value=float(tidy["p_value"]), ci_level=level, vcov=res.vcov_type,
        n_clusters=float(res.n_clusters) if res.n_clusters else np.nan, r2=res.r2,
        r2_within=res.r2_within, data_source=data_source, note=note,
    )


def to_frame(rows: list[Estimate]) -> pd.DataFrame:
    """Estimates as a DataFrame: the contract's columns, then each row's ``extra`` columns."""
    records, extra_cols = [], []
    for r in rows:
        rec = {name: getattr(r, name) for name in COLUMNS}
        for key, value in r.extra.items():
            if key in rec:
                raise ValueError(f"extra column {key!r} shadows a contract column")
            rec[key] = value
            if key not in extra_cols:
                extra_cols.append(key)
        records.append(rec)
    return pd.DataFrame(records, columns=COLUMNS + extra_cols)


def with_extra(row: Estimate, **extra) -> Estimate:
    """A copy of ``row`` with more extra columns."""
    return replace(row, extra={**row.extra, **extra})
