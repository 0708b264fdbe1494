"""Sun & Abraham (2021) interaction-weighted event study (``method=sun_abraham``).

1. Saturated regression: ``y ~ sum_{g, e != ref} 1[cohort = g] 1[t - g = e] | unit + time``
   (+ controls), every treated cohort interacted with every relative period it is observed in
   except the reference period; the never-treated units (or, without them, the last-treated
   cohort, whose treated periods are then dropped) are the comparison group. This is
   ``fixest::sunab`` / pyfixest's saturated event study.
2. Aggregation: ``event[e] = sum_g w_ge delta_ge`` with ``w_ge`` the share of cohort ``g``
   among the estimation sample's observations at relative period ``e``; standard errors by the
   delta method from the cluster-robust covariance of the cohort-specific coefficients.
3. ``att``: the post-period cohort-period coefficients averaged with weights equal to their
   treated-observation counts.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..estimates import Estimate
from ..ols import fe_ols
from ..schema import SunAbrahamBlock, typed
from ..study import StudyData


def saturated_design(p: pd.DataFrame, reference: int = -1) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                     list[str]]:
    """(sample, cohort x relative-period dummies, notes). Without never-treated units the last
    cohort becomes the comparison group and its treated periods are dropped."""
    notes = []
    p = p.copy()
    if not p["cohort"].isna().any():
        last = int(p["cohort"].max())
        p = p[p["time"] < last]
        p.loc[p["cohort"] == last, "cohort"] = pd.NA
        notes.append(f"no never-treated units: cohort {last} serves as the comparison group "
                     f"(periods from {last} on dropped)")
    e = (p["time"] - p["cohort"].astype("Float64")).astype("Int64")
    cells = pd.DataFrame({"g": p["cohort"], "e": e}).dropna()
    pairs = [(int(g), int(k)) for (g, k), _ in cells.groupby(["g", "e"]) if int(k) != reference]
    # each row's (cohort, event time) position among the pairs (-1: none), then one-hot
    pos = pd.MultiIndex.from_tuples(pairs, names=["g", "e"]).get_indexer(
        pd.MultiIndex.from_arrays([p["cohort"].astype("Int64"), e], names=["g", "e"])
    ) if pairs else np.full(len(p), -1)
    onehot = np.zeros((len(p), len(pairs)), dtype=np.int64)
    rows = np.flatnonzero(pos >= 0)
    onehot[rows, pos[rows]] = 1
    dummies = pd.DataFrame(onehot, index=p.index,
                           columns=[f"sa_{g}_{k}" for g, k in pairs])
    return p, dummies, notes


def sun_abraham(data: StudyData, cfg: Mapping, controls: list[str], *, level: float, vcov: str,
                cluster: str, drop_singletons: bool, tag: str
                ) -> tuple[list[Estimate], list[str]]:
    cfg = typed(SunAbrahamBlock, cfg)
    reference = int(cfg.reference)
    lo, hi = (int(v) for v in cfg.window)
    p = data.panel.dropna(subset=["y", *controls])
    p, dummies, notes = saturated_design(p, reference)
    frame = pd.concat([p, dummies], axis=1)
    terms = list(dummies.columns)
    res = fe_ols(frame, "y", [*terms, *controls], ["unit", "time"], cluster=cluster, vcov=vcov,
                 drop_singleton_fe=drop_singletons, drop_collinear=True)
    if res.extra["dropped"]:
        notes.append(f"sun_abraham: {len(res.extra['dropped'])} cohort x period term(s) "
                     f"collinear with the fixed effects dropped: {res.extra['dropped'][:6]}")
    terms = [t for t in terms if t in res.names]
    idx = {t: i for i, t in enumerate(res.names)}
    meta = pd.DataFrame([(t, int(t.split("_")[1]), int(t.split("_")[2])) for t in terms],
                        columns=["term", "g", "e"])
    complete = frame[["y", *controls]].notna().all(axis=1).to_numpy()
    meta["n"] = frame.loc[complete, terms].sum().astype(int).to_numpy() if terms else []
    q = stats.t.ppf(0.5 + level / 2, res.df_t)
    rows = []

    def combo(estimand: str, sub: pd.DataFrame, note: str) -> None:
        w = np.zeros(len(res.names))
        w[[idx[t] for t in sub["term"]]] = sub["n"] / sub["n"].sum()
        est = float(w @ res.coef)
        se = float(np.sqrt(max(w @ res.vcov @ w, 0.0)))  # rounding below 0 on a perfect fit
        rows.append(Estimate(
            estimand=estimand, method="sun_abraham", estimate=est, std_error=se,
            ci_lower=est - q * se, ci_upper=est + q * se, n_obs=res.n_obs,
            p_value=float(2 * stats.t.sf(abs(est / se), res.df_t)) if se > 0 else np.nan,
            ci_level=level,
            vcov=vcov, n_clusters=float(res.n_clusters or np.nan), r2=res.r2,
            r2_within=res.r2_within, data_source=tag, note=note,
            extra={"cohorts": int(len(sub))}))

    for k in range(lo, hi + 1):
        if k == reference:
            rows.append(Estimate(
                estimand=f"event[{k}]", method="sun_abraham", estimate=0.0, std_error=np.nan,
                ci_lower=np.nan, ci_upper=np.nan, n_obs=res.n_obs, ci_level=level, vcov=vcov,
                data_source=tag, note="reference period (normalised to 0)"))
            continue
        sub = meta[meta["e"] == k]
        if len(sub):
            combo(f"event[{k}]", sub, "cohort-share weighted average of cohort effects")
    post = meta[meta["e"] >= 0]
    if len(post):
        combo("att", post, "post-period cohort x period effects weighted by treated "
                           "observations")
    return rows, notes
