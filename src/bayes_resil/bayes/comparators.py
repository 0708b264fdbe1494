"""The frequentist rows a posterior is compared with, always of the model's own specification.

Each model names, per estimand, the frequentist method of the same estimand
(``BuiltModel.comparators``: BJS imputation, the OLS event study, Callaway-Sant'Anna, a TWFE
regression for the twfe design). The rows of the frequentist step are used when they were
estimated with the same specification as the model: the same controls (``model.controls``
against ``freq.with_controls``) and, for the event study, the same window and reference period.
Otherwise the method is estimated again with the model's specification; when the frequentist
step has rows of that method already (of another specification), the new rows are named
``<method>_model_spec`` so that ``(method, estimand, outcome)`` stays a key of
``estimates.csv``, and their ``note`` says what differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from ..estimates import Estimate, from_fe_ols
from ..freq.callaway_santanna import callaway_santanna
from ..freq.event_study import event_study
from ..freq.heterogeneity import cohort_effects, heterogeneity
from ..freq.imputation import imputation
from ..freq.instrumental import instrumental
from ..freq.mediation import mediation
from ..ols import fe_ols
from ..study import StudyData
from .models import BuiltModel

#: suffix of a comparator method re-estimated with the model's specification
MODEL_SPEC = "_model_spec"


def freq_controls(data: StudyData, freq_cfg: Mapping) -> list[str]:
    """The controls of the frequentist step (``freq.with_controls``)."""
    if not freq_cfg.get("with_controls", True):
        return []
    return [c for c in data.controls if c in data.panel.columns]


def _event_spec(model_cfg: Mapping) -> tuple[list[int], int]:
    return [int(k) for k in model_cfg.get("window", [-5, 5])], int(model_cfg.get("reference",
                                                                                 -1))


def _same_spec(method: str, model_cfg: Mapping, freq_cfg: Mapping, controls: list[str],
               data: StudyData) -> tuple[bool, str]:
    """Whether the frequentist step's ``method`` rows have the model's specification, and
    what differs when not."""
    differs = []
    if freq_controls(data, freq_cfg) != controls:
        differs.append(f"controls {controls or 'none'} (the frequentist step: "
                       f"{freq_controls(data, freq_cfg) or 'none'})")
    if method == "event_study":
        window, ref = _event_spec(model_cfg)
        fcfg = freq_cfg.get("event_study") or {}
        fwin = [int(k) for k in fcfg.get("window", [-5, 5])]
        fref = int(fcfg.get("reference", -1))
        if (fwin, fref) != (window, ref):
            differs.append(f"window {window} reference {ref} (freq.event_study: {fwin}, "
                           f"{fref})")
    return not differs, "; ".join(differs)


def _estimate(method: str, data: StudyData, model_cfg: Mapping, freq_cfg: Mapping,
              controls: list[str], kw: dict) -> list[Estimate]:
    """The rows of ``method`` with the model's specification (every row the estimator
    gives, e.g. the subsample regressions beside the interaction one)."""
    if method == "imputation":
        return imputation(data, {"pretrend_leads": 0}, controls, **kw)[0]
    if method == "event_study":
        window, ref = _event_spec(model_cfg)
        return event_study(data, {"window": window, "reference": ref}, controls, **kw)
    if method == "twfe_interaction":  # the region regressions only
        return heterogeneity(data, {"region": "region", "cohort_groups": {}}, controls, **kw)[0]
    if method == "twfe_interaction_cohort":
        return cohort_effects(data, controls, **kw)
    if method == "callaway_santanna":
        return callaway_santanna(data, freq_cfg.get("callaway_santanna", {}) or {}, controls,
                                 **kw)[0]
    if method == "iv_2sls":
        iv = {k: model_cfg.get(k) for k in ("instrument", "post", "common_year")}
        return instrumental(data, iv, controls, **kw)[0]
    if method == "mediation_indirect":
        return mediation(data, {"mediators": [model_cfg.get("mediator")], "bootstrap": 199,
                                "seed": 1}, controls, **kw)[0]
    if method in ("twfe", "twfe_controls"):  # the baseline regression, controls in the name
        res = fe_ols(data.panel, "y", ["d", *controls], ["unit", "time"],
                     cluster=kw["cluster"], vcov=kw["vcov"],
                     drop_singleton_fe=kw["drop_singletons"])
        return [from_fe_ols(res, "d", estimand="att", method=method, level=kw["level"],
                            data_source=kw["tag"])]
    return []


def comparator_rows(built: BuiltModel, data: StudyData, est: pd.DataFrame, model_cfg: Mapping,
                    freq_cfg: Mapping, controls: list[str], *, have_spec: bool, level: float
                    ) -> tuple[list[Estimate], dict[str, str]]:
    """The rows the comparison needs that ``est`` (the frequentist step's estimates) does not
    have with the model's specification, and the method each comparator is found under
    (``{method: method or method_model_spec}``, also for the other methods of a
    re-estimated set, such as the subsample regressions of the shrinkage comparison).
    ``have_spec``: whether ``freq_cfg`` is the specification ``est`` was estimated with
    (False: ``est`` is of unknown specification and only used for the methods whose name
    states it, ``twfe`` / ``twfe_controls``)."""
    tag = "simulated" if data.simulated else data.source
    kw = dict(level=level, vcov=freq_cfg.get("vcov", "cluster"),
              cluster=freq_cfg.get("cluster", "unit"),
              drop_singletons=bool(freq_cfg.get("drop_singletons", True)), tag=tag)
    have = set(est["method"]) if len(est) else set()
    methods = list(dict.fromkeys(m for m, _, _ in built.comparators.values()))
    rows: list[Estimate] = []
    found: dict[str, str] = {}
    for method in methods:
        named_spec = method in ("twfe", "twfe_controls")
        same, differs = (True, "") if named_spec else _same_spec(
            method, model_cfg, freq_cfg, controls, data)
        if method in have and (named_spec or (have_spec and same)):
            found[method] = method
            continue
        if method == "callaway_santanna" and method not in have:
            continue  # the bootstrap is the frequentist step's to run (freq.blocks)
        new = _estimate(method, data, model_cfg, freq_cfg, controls, kw)
        found[method] = method
        if method in have:
            note = f"re-estimated with the specification of model={built.name}: " + (
                differs or "the frequentist step's specification is not known")
            # every method of the set (e.g. the subsample regressions beside the interaction)
            found |= {r.method: r.method + MODEL_SPEC for r in new}
            new = [replace(r, method=r.method + MODEL_SPEC,
                           note="; ".join(filter(None, [r.note, note]))) for r in new]
        rows += new
    return rows, found
