"""TWFE event study (the paper's Figure 1): leads and lags around adoption, endpoints binned.

``y ~ sum_{k != ref} 1[event_time = k] | unit + time`` (+ controls), with ``event_time`` binned
at the window's ends (``k <= lo`` into ``lo``, ``k >= hi`` into ``hi``) when ``bin_endpoints``;
never-treated units have every dummy 0. The reference period (default -1) is omitted and
reported as a row with estimate 0. A joint Wald test of the leads (every k < 0 but the
reference) is the pre-trend test. Under staggered adoption with heterogeneous effects these
coefficients are contaminated by other periods' effects (Sun & Abraham 2021).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..estimand import parse
from ..estimates import Estimate, from_fe_ols, with_extra
from ..ols import FEOLSResult, fe_ols
from ..schema import EventStudyBlock, typed
from ..study import StudyData


def event_name(k: int) -> str:
    return f"event[{k}]"


def event_dummies(panel: pd.DataFrame, window: tuple[int, int], reference: int,
                  bin_endpoints: bool = True) -> pd.DataFrame:
    """Event-time dummies (one column per k in the window except ``reference``)."""
    lo, hi = window
    if not lo <= reference <= hi:
        raise InputError(f"event-study reference period {reference} is outside {window}")
    e = (panel["time"] - panel["cohort"]).astype("Float64")
    if bin_endpoints:
        e = e.clip(lower=lo, upper=hi)
    dummies = {}
    for k in range(lo, hi + 1):
        if k == reference:
            continue
        dummies[event_name(k)] = (e == k).fillna(False).astype(int).to_numpy()
    return pd.DataFrame(dummies, index=panel.index)


def fit_event_study(data: StudyData, cfg: Mapping, controls: list[str], *,
                    vcov: str = "cluster", cluster: str = "unit",
                    drop_singletons: bool = True) -> tuple[FEOLSResult, list[str]]:
    cfg = typed(EventStudyBlock, cfg)
    window = tuple(int(v) for v in cfg.window)
    reference = int(cfg.reference)
    dummies = event_dummies(data.panel, window, reference, bool(cfg.bin_endpoints))
    empty = [c for c in dummies if dummies[c].sum() == 0]
    dummies = dummies.drop(columns=empty)
    frame = pd.concat([data.panel, dummies], axis=1)
    terms = list(dummies.columns)
    res = fe_ols(frame, "y", terms + controls, ["unit", "time"], cluster=cluster, vcov=vcov,
                 drop_singleton_fe=drop_singletons)
    return res, terms


def event_study(data: StudyData, cfg: Mapping, controls: list[str], *, level: float,
                vcov: str, cluster: str, drop_singletons: bool, tag: str) -> list[Estimate]:
    """Rows ``event[k]`` (``method=event_study``), the reference row and the pre-trend test."""
    cfg = typed(EventStudyBlock, cfg)
    window = tuple(int(v) for v in cfg.window)
    reference = int(cfg.reference)
    bins = bool(cfg.bin_endpoints)
    res, terms = fit_event_study(data, cfg, controls, vcov=vcov, cluster=cluster,
                                 drop_singletons=drop_singletons)
    rows = []
    for k in range(window[0], window[1] + 1):
        name = event_name(k)
        note = ""
        if bins and k == window[0]:
            note = f"binned: event time <= {k}"
        elif bins and k == window[1]:
            note = f"binned: event time >= {k}"
        if k == reference:
            rows.append(Estimate(estimand=name, method="event_study", estimate=0.0,
                                 std_error=np.nan, ci_lower=np.nan, ci_upper=np.nan,
                                 n_obs=res.n_obs, term=name, ci_level=level, vcov=vcov,
                                 data_source=tag, note="reference period (normalised to 0)",
                                 extra={"event_time": k, "reference": True}))
        elif name in terms:
            row = from_fe_ols(res, name, estimand=name, method="event_study", level=level,
                              data_source=tag, note=note)
            rows.append(with_extra(row, event_time=k, reference=False))
    leads = [t for t in terms if parse(t).event < 0]
    if leads:
        w = res.wald(leads)
        rows.append(Estimate(
            estimand="pretrend_wald", method="event_study", estimate=w["statistic"],
            std_error=np.nan, ci_lower=np.nan, ci_upper=np.nan, n_obs=res.n_obs,
            p_value=w["p_value"], ci_level=level, vcov=vcov, data_source=tag,
            note=f"joint Wald F test that the {len(leads)} leads are zero, F({w['df1']}, "
                 f"{w['df2']})",
            extra={"statistic": w["statistic"], "df1": w["df1"], "df2": w["df2"]}))
    return rows

