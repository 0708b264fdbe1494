"""What the TWFE DID coefficient is made of under staggered adoption.

* Goodman-Bacon (2021): on a balanced panel without controls, the TWFE coefficient is a
  weighted average of every 2x2 DID - treated vs never treated, earlier vs later treated
  (before the later group adopts), and later vs *already treated* earlier groups (the
  "forbidden" comparisons); weights sum to one and depend only on group sizes and timing.
* de Chaisemartin & D'Haultfoeuille (2020): the TWFE coefficient is ``sum w_gt ATT(g, t)`` over
  treated cohort x period cells with ``w_gt`` proportional to the residual of ``d`` on the unit
  and time effects; some weights can be negative, so TWFE can even have the wrong sign when
  effects vary.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..estimates import Estimate
from ..fe import codes, demean
from ..study import StudyData


def balanced_sample(panel: pd.DataFrame, y: str = "y") -> tuple[pd.DataFrame, list[str]]:
    """Units observed with ``y`` in every period, without units treated from the first period
    (always-treated units have no untreated period to compare); notes on what was dropped."""
    p = panel.dropna(subset=[y])
    periods = np.sort(p["time"].unique())
    complete = p.groupby("unit")["time"].nunique() == len(periods)
    notes = []
    if (~complete).any():
        notes.append(f"{int((~complete).sum())} unit(s) without every period dropped "
                     "(the decomposition needs a balanced panel)")
    p = p[p["unit"].isin(complete[complete].index)]
    always = p["cohort"].notna() & (p["cohort"] <= periods[0])
    if always.any():
        notes.append(f"{p.loc[always, 'unit'].nunique()} always-treated unit(s) dropped")
        p = p[~p["unit"].isin(p.loc[always, "unit"])]
    return p.sort_values(["unit", "time"]).reset_index(drop=True), notes


def bacon_decomposition(panel: pd.DataFrame, y: str = "y") -> pd.DataFrame:
    """Every 2x2 comparison of the TWFE DID on a balanced panel, with its estimate and weight.

    Columns: ``treated`` and ``control`` (cohort or ``never``), ``type`` (``treated vs never``,
    ``earlier vs later``, ``later vs earlier`` - the forbidden one), ``estimate``, ``weight``.
    Formulas: Goodman-Bacon (2021, J. Econometrics), eqs. (10a)-(10c).
    """
    periods = np.sort(panel["time"].unique())
    n_t = len(periods)
    wide = panel.pivot(index="unit", columns="time", values=y).reindex(columns=periods)
    cohort = panel.drop_duplicates("unit").set_index("unit")["cohort"].reindex(wide.index)
    if wide.isna().any().any():
        raise InputError("the Bacon decomposition needs a balanced panel")
    n = len(wide)
    groups = sorted(int(c) for c in cohort.dropna().unique())
    never = cohort.isna()
    if not groups:
        raise InputError("no treated cohort: nothing to decompose")
    share = {g: float((cohort == g).sum()) / n for g in groups}
    dbar = {g: float((periods >= g).mean()) for g in groups}
    mean_path = {g: wide[cohort == g].mean().to_numpy() for g in groups}
    u_path = wide[never].mean().to_numpy() if never.any() else None
    n_u = float(never.sum()) / n
    # variance of the two-way demeaned treatment (balanced panel), the common denominator
    d = panel["d"].to_numpy(float)
    dd = demean(d, [codes(panel["unit"]), codes(panel["time"])])
    var_d = float(dd @ dd) / len(dd)

    def did(treat, ctrl, post, pre):
        return (treat[post].mean() - treat[pre].mean()) - (ctrl[post].mean() - ctrl[pre].mean())

    rows = []
    for k in groups:
        post_k, pre_k = periods >= k, periods < k
        if u_path is not None:
            nk, nku = share[k], share[k] / (share[k] + n_u)
            w = (share[k] + n_u) ** 2 * nku * (1 - nku) * dbar[k] * (1 - dbar[k]) / var_d
            rows.append(dict(treated=str(k), control="never", type="treated vs never",
                             estimate=did(mean_path[k], u_path, post_k, pre_k), weight=w,
                             n_units_treated=round(nk * n), n_units_control=round(n_u * n)))
        for m in groups:
            if m <= k:
                continue
            nkl = share[k] / (share[k] + share[m])
            mid = (periods >= k) & (periods < m)
            pre, post_m = periods < k, periods >= m
            # earlier k treated, later m not yet treated: window before m
            w1 = (((share[k] + share[m]) * (1 - dbar[m])) ** 2 * nkl * (1 - nkl)
                  * (dbar[k] - dbar[m]) / (1 - dbar[m]) * (1 - dbar[k]) / (1 - dbar[m])
                  / var_d)
            rows.append(dict(treated=str(k), control=str(m), type="earlier vs later",
                             estimate=did(mean_path[k], mean_path[m], mid, pre), weight=w1,
                             n_units_treated=round(share[k] * n),
                             n_units_control=round(share[m] * n)))
            # later m treated, earlier k already treated as control: window after k
            w2 = (((share[k] + share[m]) * dbar[k]) ** 2 * nkl * (1 - nkl)
                  * dbar[m] / dbar[k] * (dbar[k] - dbar[m]) / dbar[k] / var_d)
            rows.append(dict(treated=str(m), control=str(k), type="later vs earlier",
                             estimate=did(mean_path[m], mean_path[k], post_m, mid), weight=w2,
                             n_units_treated=round(share[m] * n),
                             n_units_control=round(share[k] * n)))
    out = pd.DataFrame(rows)
    if n_t < 2 or out.empty:
        raise InputError("nothing to decompose")
    return out


def twfe_cell_weights(panel: pd.DataFrame) -> pd.DataFrame:
    """de Chaisemartin-D'Haultfoeuille weights of each treated cohort x period cell.

    ``beta_TWFE = sum_cells weight * ATT(cell)`` when the untreated outcomes follow the unit
    and time effects; ``weight`` = share of treated observations x residual of ``d`` on the
    fixed effects, normalised to sum to one.
    """
    d = panel["d"].to_numpy(float)
    eps = demean(d, [codes(panel["unit"]), codes(panel["time"])])
    treated = d > 0
    cells = pd.DataFrame({"cohort": panel.loc[treated, "cohort"].astype(int).to_numpy(),
                          "time": panel.loc[treated, "time"].astype(int).to_numpy(),
                          "eps": eps[treated]})
    agg = cells.groupby(["cohort", "time"]).agg(n=("eps", "size"), eps_sum=("eps", "sum"))
    agg["weight"] = agg["eps_sum"] / agg["eps_sum"].sum()
    agg = agg.reset_index()
    agg["event_time"] = agg["time"] - agg["cohort"]
    return agg[["cohort", "time", "event_time", "n", "weight"]]


def decomposition(data: StudyData, cfg: Mapping, *, level: float, tag: str
                  ) -> tuple[list[Estimate], pd.DataFrame, pd.DataFrame, list[str]]:
    """Rows summarising both decompositions, the Bacon table, the cell weights, notes."""
    sample, notes = balanced_sample(data.panel)
    bacon = bacon_decomposition(sample)
    weights = twfe_cell_weights(data.panel.dropna(subset=["y"]))
    n = len(sample)
    rows = []
    total = float((bacon["weight"] * bacon["estimate"]).sum())
    for kind, g in bacon.groupby("type", sort=False):
        w = float(g["weight"].sum())
        rows.append(Estimate(
            estimand=f"bacon[{kind}]", method="bacon", estimate=float(
                (g["weight"] * g["estimate"]).sum() / w), std_error=np.nan, ci_lower=np.nan,
            ci_upper=np.nan, n_obs=n, ci_level=level, vcov="", data_source=tag,
            note=f"weighted average of {len(g)} 2x2 DIDs of this type; total weight {w:.3f}",
            extra={"weight": w}))
    rows.append(Estimate(
        estimand="att", method="bacon", estimate=total, std_error=np.nan, ci_lower=np.nan,
        ci_upper=np.nan, n_obs=n, ci_level=level, vcov="", data_source=tag,
        note="sum of weight x 2x2 estimate = TWFE DID on the balanced panel (no controls)",
        extra={"weight": float(bacon["weight"].sum())}))
    neg = weights["weight"] < 0
    rows.append(Estimate(
        estimand="negative_weight_share", method="twfe_weights",
        estimate=float(weights.loc[neg, "n"].sum() / weights["n"].sum()), std_error=np.nan,
        ci_lower=np.nan, ci_upper=np.nan, n_obs=int(weights["n"].sum()), ci_level=level,
        vcov="", data_source=tag,
        note=(f"share of treated observations whose cohort x period cell has a negative TWFE "
              f"weight ({int(neg.sum())} of {len(weights)} cells; sum of negative weights "
              f"{weights.loc[neg, 'weight'].sum():.3f}); de Chaisemartin & D'Haultfoeuille"),
        extra={"negative_cells": int(neg.sum()),
               "negative_weight_sum": float(weights.loc[neg, "weight"].sum())}))
    return rows, bacon, weights, notes
