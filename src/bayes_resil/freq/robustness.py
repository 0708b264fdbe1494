"""Robustness checks of the paper's Table 3, each a TWFE DID with the controls:

* ``robust_drop_capitals``: units flagged in ``drop_flag`` (provincial capitals and
  municipalities) removed;
* ``robust_winsorize``: outcome and controls winsorised at ``winsorize`` and ``1 - winsorize``
  quantiles of the pooled estimation sample;
* ``robust_policies``: concurrent policy dummies added (their coefficients as rows).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..estimates import Estimate, from_fe_ols
from ..ols import fe_ols
from ..schema import RobustnessBlock, typed
from ..study import StudyData


def winsorize(frame: pd.DataFrame, columns: list[str], level: float) -> pd.DataFrame:
    """Clip each column at its ``level`` and ``1 - level`` quantiles (linear interpolation,
    as Stata's ``winsor2``/``_pctile`` differ only in ties; pooled over the rows given)."""
    out = frame.copy()
    for c in columns:
        lo, hi = np.nanquantile(out[c].to_numpy(float), [level, 1 - level])
        out[c] = out[c].clip(lo, hi)
    return out


def robustness(data: StudyData, cfg: Mapping, controls: list[str], *, level: float, vcov: str,
               cluster: str, drop_singletons: bool, tag: str
               ) -> tuple[list[Estimate], list[str]]:
    """Rows for each check that the panel supports, and one-line reasons for those skipped."""
    rows, skipped = [], []
    p = data.panel
    kw = dict(cluster=cluster, vcov=vcov, drop_singleton_fe=drop_singletons)

    def add(frame: pd.DataFrame, method: str, extra_terms: list[str], note: str) -> None:
        res = fe_ols(frame, "y", ["d", *controls, *extra_terms], ["unit", "time"], **kw)
        rows.append(from_fe_ols(res, "d", estimand="att", method=method, level=level,
                                data_source=tag, note=note))
        for term in [*controls, *extra_terms]:
            rows.append(from_fe_ols(res, term, estimand=f"coef[{term}]", method=method,
                                    level=level, data_source=tag))

    cfg = typed(RobustnessBlock, cfg)
    flag = cfg.drop_flag
    if flag and flag in p.columns:
        keep = p[flag].fillna(0).astype(int) == 0
        n_drop = int(p.loc[~keep, "unit"].nunique())
        add(p.loc[keep], "robust_drop_capitals", [], f"{n_drop} units with {flag}=1 dropped")
    else:
        skipped.append(f"robust_drop_capitals: no column {flag!r} in the panel")

    w = cfg.winsorize
    if w:
        sample = p.dropna(subset=["y", *controls])
        wins = winsorize(sample, ["y", *controls], float(w))
        add(wins, "robust_winsorize", [],
            f"y and controls winsorised at {float(w):.0%} / {1 - float(w):.0%}")
    policies = list(cfg.policies or [])
    absent = [c for c in policies if c not in p.columns]
    if policies and not absent:
        add(p, "robust_policies", policies, f"concurrent policy dummies {policies} added")
    elif policies:
        skipped.append(f"robust_policies: policy column(s) {absent} not in the panel")
    return rows, skipped
