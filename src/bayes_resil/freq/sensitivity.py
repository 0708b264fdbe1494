"""Sensitivity of post-adoption effects to violations of parallel trends, in the spirit of
Rambachan & Roth (2023, "HonestDiD"), on the Callaway-Sant'Anna event-time estimates.

With CS's varying base, the pre-period estimates ``event[s]`` (s < 0) are one-period changes of
the differential trend; a post estimate ``event[k]`` (base period -1) is biased by the
cumulative differential trend from -1 to k.

* Relative magnitudes ``Delta^RM(Mbar)``: every post-period change of the differential trend is
  at most ``Mbar`` times the largest pre-period change ``m = max_s |event[s]|``, so
  ``|bias_k| <= (k + 1) Mbar m``.
* Smoothness ``Delta^SD(M)``: the slope of the differential trend changes by at most ``M`` per
  period, starting from the last pre-period slope ``event[-1]``: ``bias_k`` lies within
  ``(k + 1) event[-1] +- M (k + 1)(k + 2) / 2``.

Robust interval: the identified set widened by ``z`` standard errors (of ``event[k]``, or of
``event[k] - (k + 1) event[-1]`` for SD, from the influence functions). Simplification against
the R package: ``m`` is plugged in as estimated and the interval is the conservative union
rather than HonestDiD's conditional / FLCI construction. The breakdown value is the smallest
``Mbar`` (``M``) at which the robust interval includes zero.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..estimates import Estimate
from ..schema import HonestDidBlock, typed
from ..study import StudyData
from .callaway_santanna import aggregate, clustered_se, clusters_of_units, group_time, wide_outcomes
from .decomposition import balanced_sample


def rm_interval(beta: float, se: float, k: int, m: float, mbar: float, z: float
                ) -> tuple[float, float]:
    half = (k + 1) * mbar * m
    return beta - half - z * se, beta + half + z * se


def sd_interval(beta: float, slope: float, se_diff: float, k: int, big_m: float, z: float
                ) -> tuple[float, float]:
    centre = beta - (k + 1) * slope
    half = big_m * (k + 1) * (k + 2) / 2
    return centre - half - z * se_diff, centre + half + z * se_diff


def breakdown(lower_at_zero: float, upper_at_zero: float, rate: float) -> float:
    """Smallest restriction size at which [lower - rate x, upper + rate x] covers zero."""
    if lower_at_zero <= 0 <= upper_at_zero:
        return 0.0
    gap = lower_at_zero if lower_at_zero > 0 else -upper_at_zero
    return gap / rate


def honest_did(data: StudyData, cfg: Mapping, controls: list[str], *, level: float,
               vcov: str, cluster: str, drop_singletons: bool, tag: str
               ) -> tuple[list[Estimate], pd.DataFrame, list[str]]:
    cfg = typed(HonestDidBlock, cfg)
    sample, notes = balanced_sample(data.panel)
    periods, wide, cohort = wide_outcomes(sample)
    table, psi = group_time(wide.to_numpy(), cohort, periods, str(cfg.control))
    codes, _, vcov_notes = clusters_of_units(sample, wide.index, vcov, cluster, "honest_did")
    notes = [*notes, *(n_.removeprefix("honest_did: ") for n_ in vcov_notes)]

    def if_se(inf: np.ndarray) -> float:
        return float(clustered_se(inf[:, None], codes)[0])
    ev = table["event_time"].to_numpy()

    def event(e: int) -> tuple[float, np.ndarray]:
        return aggregate(table, psi, ev == e, cohort)

    pre = sorted(e for e in set(ev) if e < 0)
    pre_est = np.array([event(e)[0] for e in pre])
    m = float(np.abs(pre_est).max())
    slope, slope_if = event(-1)
    z = stats.norm.ppf(0.5 + level / 2)
    targets = []
    for k in [int(v) for v in cfg.targets]:
        if k not in set(ev):
            continue
        beta, inf = event(k)
        se = if_se(inf)
        se_diff = if_se(inf - (k + 1) * slope_if)
        b_rm = breakdown(*rm_interval(beta, se, k, m, 0.0, z), (k + 1) * m)
        b_sd = breakdown(*sd_interval(beta, slope, se_diff, k, 0.0, z), (k + 1) * (k + 2) / 2)
        targets.append((k, beta, se, se_diff, b_rm, b_sd))
    if not targets:
        return [], pd.DataFrame(), [f"honest_did: none of the targets {cfg.get('targets')} "
                                    "is a post-adoption event time in the panel"]

    def grid(key: str, top: float) -> list[float]:
        if cfg.get(key) is not None:
            return [float(v) for v in cfg[key]]
        return list(np.linspace(0.0, 1.25 * top if top > 0 else 1.0, 11))

    mbar_grid = grid("mbar_grid", max(t[4] for t in targets))
    m_grid = grid("m_grid", max(t[5] for t in targets))
    records, rows = [], []
    for k, beta, se, se_diff, b_rm, b_sd in targets:
        for mbar in mbar_grid:
            lo, hi = rm_interval(beta, se, k, m, mbar, z)
            records.append(dict(target=f"event[{k}]", restriction="relative_magnitudes",
                                size=mbar, ci_lower=lo, ci_upper=hi))
        for big_m in m_grid:
            lo, hi = sd_interval(beta, slope, se_diff, k, big_m, z)
            records.append(dict(target=f"event[{k}]", restriction="smoothness", size=big_m,
                                ci_lower=lo, ci_upper=hi))
        for name, value, note in (
            ("relative_magnitudes", b_rm,
             f"smallest Mbar (post trend change / largest pre change, m = {m:.4g}) at which "
             "the robust interval includes 0"),
            ("smoothness", b_sd,
             f"smallest M (per-period change of the trend slope; pre slope {slope:.4g}) at "
             "which the robust interval includes 0"),
        ):
            rows.append(Estimate(
                estimand=f"breakdown[{name},event[{k}]]", method="honest_did", estimate=value,
                std_error=np.nan, ci_lower=np.nan, ci_upper=np.nan, n_obs=len(sample),
                ci_level=level, vcov="", data_source=tag, note=note,
                extra={"target_estimate": beta, "target_se": se}))
    notes = [f"honest_did: {n_}" for n_ in notes]
    return rows, pd.DataFrame(records), notes
