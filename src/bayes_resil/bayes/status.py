"""A finished run's MCMC diagnostic status, read from its ``diagnostics.csv`` (pandas only, so
the run report, the sweep comparison and reused runs need not import the Bayesian stack)."""

from __future__ import annotations

import pandas as pd


def saved_status(table: pd.DataFrame) -> tuple[bool, list[str]]:
    """(passed, failures) of a run from its ``diagnostics.csv`` table (as written above)."""
    passed = bool(table["passed"].all())
    text = table["failures"].fillna("").astype(str).iloc[0] if "failures" in table else ""
    return passed, [f for f in text.split("; ") if f]
