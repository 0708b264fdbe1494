"""Mediation (the paper's Table 6, and beyond it).

* a-paths (as the paper): the TWFE DID effect of ``d`` on each mediator, with the controls
  (``method=mediation_a``, estimand ``att``, ``outcome`` = the mediator);
* b-path and direct effect: ``y ~ d + m + controls | unit + time`` (``method=mediation_b``,
  estimands ``coef[m]`` and ``direct[m]``);
* indirect effect ``a * b`` (``method=mediation_indirect``, estimand ``indirect[m]``) with a
  cluster bootstrap over units (units drawn with replacement; a unit drawn twice enters as two
  units), percentile interval.

The indirect effect is causal only under sequential ignorability (no unobserved confounding of
the mediator-outcome relation given treatment, controls and fixed effects); the paper's one-step
("Jiang Ting") design estimates only the a-path.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..estimates import Estimate, from_fe_ols
from ..fe import codes, demean
from ..ols import fe_ols
from ..schema import MediationBlock, typed
from ..study import StudyData

CAVEAT = ("indirect effect a*b: causal only under sequential ignorability (no unobserved "
          "mediator-outcome confounding)")


def _paths(m: np.ndarray, n_med: int, n_ctrl: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """a, b, direct for each mediator from a demeaned matrix ``[y, d, controls, mediators]``."""
    y, d = m[:, 0], m[:, 1]
    x = m[:, 2:2 + n_ctrl]
    meds = m[:, 2 + n_ctrl:]
    a = np.empty(n_med)
    b = np.empty(n_med)
    direct = np.empty(n_med)
    base = np.column_stack([d, x])
    for j in range(n_med):
        a[j] = np.linalg.lstsq(base, meds[:, j], rcond=None)[0][0]
        coef = np.linalg.lstsq(np.column_stack([base, meds[:, j]]), y, rcond=None)[0]
        b[j], direct[j] = coef[-1], coef[0]
    return a, b, direct


def bootstrap_paths(frame: pd.DataFrame, controls: list[str], mediators: list[str], draws: int,
                    seed: int) -> np.ndarray:
    """(draws, n_mediators, 3) array of (a, b, direct) over unit-bootstrap samples."""
    cols = ["y", "d", *controls, *mediators]
    values = frame[cols].to_numpy(float)
    unit = codes(frame["unit"])
    time = codes(frame["time"])
    order = np.argsort(unit, kind="stable")
    starts = np.searchsorted(unit[order], np.arange(unit.max() + 1))
    sizes = np.bincount(unit)
    rng = np.random.default_rng(seed)
    out = np.empty((draws, len(mediators), 3))
    n_units = unit.max() + 1
    for r in range(draws):
        pick = rng.integers(0, n_units, n_units)
        rows = np.concatenate([order[starts[u]:starts[u] + sizes[u]] for u in pick])
        new_unit = np.repeat(np.arange(n_units), sizes[pick])
        m = demean(values[rows], [new_unit, time[rows]])
        out[r] = np.column_stack(_paths(m, len(mediators), len(controls)))
    return out


def mediation(data: StudyData, cfg: Mapping, controls: list[str], *, level: float, vcov: str,
              cluster: str, drop_singletons: bool, tag: str) -> tuple[list[Estimate], list[str]]:
    rows, skipped = [], []
    p = data.panel
    cfg = typed(MediationBlock, cfg)
    wanted = list(cfg.mediators or [])
    mediators = [m for m in wanted if m in p.columns]
    if len(mediators) < len(wanted):
        skipped.append(f"mediation: mediator column(s) {sorted(set(wanted) - set(mediators))} "
                       "not in the panel")
    if not mediators:
        return rows, skipped
    kw = dict(cluster=cluster, vcov=vcov, drop_singleton_fe=drop_singletons)
    for m in mediators:
        res_a = fe_ols(p, m, ["d", *controls], ["unit", "time"], **kw)
        rows.append(from_fe_ols(res_a, "d", estimand="att", method="mediation_a", outcome=m,
                                level=level, data_source=tag,
                                note="a-path: DID effect on the mediator"))
        res_b = fe_ols(p, "y", ["d", m, *controls], ["unit", "time"], **kw)
        rows.append(from_fe_ols(res_b, m, estimand=f"coef[{m}]", method="mediation_b",
                                level=level, data_source=tag, note="b-path"))
        rows.append(from_fe_ols(res_b, "d", estimand=f"direct[{m}]", method="mediation_b",
                                level=level, data_source=tag, note="direct effect of d given m"))
    common = p.dropna(subset=["y", "d", *controls, *mediators])
    full = demean(common[["y", "d", *controls, *mediators]].to_numpy(float),
                  [codes(common["unit"]), codes(common["time"])])
    a, b, _ = _paths(full, len(mediators), len(controls))
    draws, seed = int(cfg.bootstrap), int(cfg.seed)
    boot = bootstrap_paths(common, controls, mediators, draws, seed)
    ind = boot[:, :, 0] * boot[:, :, 1]
    alpha = 1 - level
    for j, m in enumerate(mediators):
        rows.append(Estimate(
            estimand=f"indirect[{m}]", method="mediation_indirect", estimate=float(a[j] * b[j]),
            std_error=float(ind[:, j].std(ddof=1)),
            ci_lower=float(np.quantile(ind[:, j], alpha / 2)),
            ci_upper=float(np.quantile(ind[:, j], 1 - alpha / 2)), n_obs=len(common),
            ci_level=level, vcov=f"cluster bootstrap ({draws} draws of units, seed {seed})",
            n_clusters=float(common["unit"].nunique()), data_source=tag, note=CAVEAT,
            extra={"a_path": float(a[j]), "b_path": float(b[j])}))
    return rows, skipped
