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

from ..estimates import Estimate
from ..freq.baseline import baseline_twfe
from ..freq.callaway_santanna import callaway_santanna
from ..freq.event_study import event_study
from ..freq.heterogeneity import cohort_effects, heterogeneity
from ..freq.imputation import imputation
from ..freq.instrumental import instrumental
from ..freq.mediation import mediation
from ..freq.suite import block_kwargs, freq_controls
from ..schema import FreqConfig, typed
from ..study import StudyData
from .models import BuiltModel

#: suffix of a comparator method re-estimated with the model's specification
MODEL_SPEC = "_model_spec"


def _event_spec(model_cfg: Mapping) -> tuple[list[int], int]:
    return [int(k) for k in model_cfg["window"]], int(model_cfg["reference"])


def _same_spec(method: str, model_cfg: Mapping, freq_cfg: Mapping, controls: list[str],
               data: StudyData) -> tuple[bool, str]:
    """Whether the frequentist step's ``method`` rows have the model's specification, and
    what differs when not."""
    differs = []
    theirs = freq_controls(data, freq_cfg)
    if theirs != controls:
        differs.append(f"controls {controls or 'none'} (the frequentist step: "
                       f"{theirs or 'none'})")
    if method == "event_study":
        window, ref = _event_spec(model_cfg)
        fwin, fref = _event_spec(typed(FreqConfig, freq_cfg).event_study)
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
    if method in ("twfe", "twfe_controls"):  # the baseline block, controls in the name
        cfg = {k: kw[k] for k in ("vcov", "cluster", "drop_singletons")}
        rows = baseline_twfe(data, {**cfg, "with_controls": bool(controls)}, level=kw["level"])
        return [r for r in rows if r.method == method and r.estimand == "att"]
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
    kw = block_kwargs(data, freq_cfg, level)
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
