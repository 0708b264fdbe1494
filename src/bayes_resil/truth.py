"""True treatment effects of a simulated panel, from its two potential outcomes.

For every treated city-year, ``tau = y(observed) - y(untreated)``, both scored with the index
fitted on the observed panel (weights, bounds and ideal points held fixed). Averages over the
treated cells give the estimands the estimators target, named as in ``estimates.csv``:

* ``att`` (all treated cells), ``att[<region>]``, ``att[cohort=g]``, ``event[e]``,
  ``att[g,t]`` (cohort x calendar period), for the outcome ``y`` and each simulated mediator.
"""

from __future__ import annotations

import pandas as pd


def truth_cells(panel: pd.DataFrame, y_untreated: pd.Series,
                mediators_untreated: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per treated unit-period: observed and untreated outcome and their difference."""
    treated = panel["d"] == 1
    cols = ["unit", "time", "cohort", "event_time"] + [
        c for c in ("region", "batch") if c in panel.columns
    ]
    cells = panel.loc[treated, cols].copy()
    cells["y_observed"] = panel.loc[treated, "y"]
    cells["y_untreated"] = y_untreated.loc[treated]
    cells["tau"] = cells["y_observed"] - cells["y_untreated"]
    if mediators_untreated is not None:
        for m in mediators_untreated.columns:
            cells[f"tau_{m}"] = panel.loc[treated, m] - mediators_untreated.loc[treated, m]
    return cells.reset_index(drop=True)


def _aggregate(cells: pd.DataFrame, col: str, outcome: str) -> list[dict]:
    c = cells.dropna(subset=[col])
    rows = [dict(estimand="att", aggregation="overall", outcome=outcome,
                 true_effect=c[col].mean(), n_cells=len(c))]
    if "region" in c.columns:
        for r, g in c.groupby("region", sort=True):
            rows.append(dict(estimand=f"att[{r}]", aggregation="region", region=r,
                             outcome=outcome, true_effect=g[col].mean(), n_cells=len(g)))
    for k, g in c.groupby("cohort", sort=True):
        rows.append(dict(estimand=f"att[cohort={int(k)}]", aggregation="cohort", cohort=int(k),
                         outcome=outcome, true_effect=g[col].mean(), n_cells=len(g)))
    for e, g in c.groupby("event_time", sort=True):
        rows.append(dict(estimand=f"event[{int(e)}]", aggregation="event_time",
                         event_time=int(e), outcome=outcome, true_effect=g[col].mean(),
                         n_cells=len(g)))
    for (k, t), g in c.groupby(["cohort", "time"], sort=True):
        rows.append(dict(estimand=f"att[{int(k)},{int(t)}]", aggregation="cohort_time",
                         cohort=int(k), time=int(t), outcome=outcome,
                         true_effect=g[col].mean(), n_cells=len(g)))
    return rows


def truth_table(cells: pd.DataFrame) -> pd.DataFrame:
    """Tidy table of true effects: overall, by region, cohort, event time, cohort x period."""
    rows = _aggregate(cells, "tau", "y")
    for col in cells.columns:
        if col.startswith("tau_"):
            rows += _aggregate(cells, col, col.removeprefix("tau_"))
    out = pd.DataFrame(rows)
    for c in ("cohort", "time", "event_time"):
        if c in out.columns:
            out[c] = out[c].astype("Int64")
    order = ["estimand", "outcome", "aggregation", "true_effect", "n_cells", "region", "cohort",
             "time", "event_time"]
    return out[[c for c in order if c in out.columns]]

