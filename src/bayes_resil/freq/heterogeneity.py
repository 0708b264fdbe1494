"""Heterogeneity (the paper's Table 5): subsample TWFE DIDs and the pooled interaction model.

* by region: each region's units (treated and controls of that region), ``att[<region>]``,
  ``method=twfe_subsample``;
* by cohort group: the units of the listed cohorts plus the never-treated, e.g.
  ``att[batches=1-2]``, ``method=twfe_subsample``;
* pooled interaction: one regression with ``d x 1[region = r]`` for every region,
  ``method=twfe_interaction``: the OLS analogue of the hierarchical region model.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..estimates import Estimate, from_fe_ols
from ..ols import fe_ols
from ..schema import HeterogeneityBlock, typed
from ..study import StudyData


def pooled_interaction(p: pd.DataFrame, group: pd.Series, levels: list, estimand: str,
                       controls: list[str], *, method: str, note: str, level: float, tag: str,
                       kw: dict) -> list[Estimate]:
    """One regression of ``y`` on ``d x 1[group = v]`` for every level ``v`` with treated
    observations (plus controls, unit and time effects): the no-pooling OLS analogue of a
    partially pooled group model. ``estimand`` is a format string for the level."""
    inter = pd.DataFrame({f"d:{v}": (p["d"] * (group == v).fillna(False)).astype(int)
                          for v in levels}, index=p.index)
    inter = inter.loc[:, inter.sum() > 0]
    res = fe_ols(pd.concat([p, inter], axis=1), "y", [*inter.columns, *controls],
                 ["unit", "time"], **kw)
    return [from_fe_ols(res, term, estimand=estimand.format(term[2:]), method=method,
                        level=level, data_source=tag, note=note) for term in inter.columns]


def cohort_effects(data: StudyData, controls: list[str], *, level: float, vcov: str,
                   cluster: str, drop_singletons: bool, tag: str) -> list[Estimate]:
    """OLS analogues of the cohort (batch) model: the pooled ``d x 1[cohort = g]`` regression
    (``method=twfe_interaction_cohort``) and each cohort with the never-treated units
    (``method=twfe_subsample_cohort``), estimands ``att[cohort=g]``."""
    p = data.panel
    kw = dict(cluster=cluster, vcov=vcov, drop_singleton_fe=drop_singletons)
    cohorts = sorted(int(c) for c in p["cohort"].dropna().unique())
    rows = pooled_interaction(p, p["cohort"], cohorts, "att[cohort={}]", controls,
                              method="twfe_interaction_cohort",
                              note="pooled regression with cohort x d terms", level=level,
                              tag=tag, kw=kw)
    for g in cohorts:
        sub = p[p["cohort"].isna() | (p["cohort"] == g)]
        if sub["cohort"].isna().all() or not sub["cohort"].isna().any():
            continue
        res = fe_ols(sub, "y", ["d", *controls], ["unit", "time"], **kw)
        rows.append(from_fe_ols(res, "d", estimand=f"att[cohort={g}]",
                                method="twfe_subsample_cohort", level=level, data_source=tag,
                                note=f"cohort {g} and the never-treated units"))
    return rows


def heterogeneity(data: StudyData, cfg: Mapping, controls: list[str], *, level: float,
                  vcov: str, cluster: str, drop_singletons: bool, tag: str
                  ) -> tuple[list[Estimate], list[str]]:
    rows, skipped = [], []
    p = data.panel
    kw = dict(cluster=cluster, vcov=vcov, drop_singleton_fe=drop_singletons)
    x = ["d", *controls]
    cfg = typed(HeterogeneityBlock, cfg)
    region = cfg.region
    if region and region in p.columns:
        levels = sorted(p[region].dropna().unique(), key=str)
        for r in levels:
            sub = p[p[region] == r]
            if sub.loc[sub["d"] == 1].empty or sub["cohort"].notna().all():
                skipped.append(f"att[{r}]: no treated or no never-treated units in {r}")
                continue
            res = fe_ols(sub, "y", x, ["unit", "time"], **kw)
            rows.append(from_fe_ols(res, "d", estimand=f"att[{r}]", method="twfe_subsample",
                                    level=level, data_source=tag,
                                    note=f"units with {region} = {r}"))
        rows += pooled_interaction(p, p[region], levels, "att[{}]", controls,
                                   method="twfe_interaction",
                                   note="pooled regression with region x d terms",
                                   level=level, tag=tag, kw=kw)
    else:
        skipped.append(f"heterogeneity by region: no column {region!r} in the panel")
    groups = dict(cfg.cohort_groups or {})
    have = set(p["cohort"].dropna().astype(int))
    for label, cohorts in groups.items():
        cohorts = [int(c) for c in cohorts]
        if not set(cohorts) & have:
            skipped.append(f"att[{label}]: none of the cohorts {cohorts} is in the panel")
            continue
        sub = p[p["cohort"].isna() | p["cohort"].isin(cohorts)]
        res = fe_ols(sub, "y", x, ["unit", "time"], **kw)
        rows.append(from_fe_ols(res, "d", estimand=f"att[{label}]", method="twfe_subsample",
                                level=level, data_source=tag,
                                note=f"cohorts {cohorts} and the never-treated units"))
    return rows, skipped
