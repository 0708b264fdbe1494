"""``twfe`` (one effect) and the group models ``hetero_region`` / ``hetero_batch``.

Group models: ``theta_g ~ Normal(mu, sigma)`` partially pooled around a common mean with a
learned spread, centred by default (each region / cohort has several treated city-years, so the
likelihood informs every theta_g; centred mixed best in our trials) or non-centred
(``model.parametrization=non_centred``). The overall ``att`` is the average of ``theta_g``
weighted by treated city-years.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from ...errors import InputError
from ..data import ModelData
from ..priors import PriorSet
from ..skeleton import NOISE_VARS, likelihood, panel_mean
from .base import BuiltModel, ols_twfe_method


def build_twfe(md: ModelData, priors: PriorSet, cfg: Mapping) -> BuiltModel:
    with pm.Model(coords=md.coords) as model:
        effect = priors("effect", "att")
        mu = panel_mean(md, priors, pt.stack([effect]), md.d[:, None])
        likelihood(md, priors, mu, cfg)

    def estimands(post):
        return {"att": post["att"]}

    return BuiltModel("twfe", model, md, ["att"], ["unit_sd", *NOISE_VARS], estimands,
                      comparators={"att": (ols_twfe_method(md), "att", "y")})


def group_codes(md: ModelData, kind: str) -> tuple[np.ndarray, list[str], list[str]]:
    """Per-observation group code (-1 for none), group labels and estimand names."""
    if kind == "region":
        if "region" not in md.frame.columns:
            raise InputError("model=hetero_region needs a region column (data.columns.region)")
        values = md.unit_attr("region")
        labels = sorted(str(v) for v in values.dropna().unique())
        keys = [str(v) if pd.notna(v) else None for v in values]
        names = [f"att[{r}]" for r in labels]
    else:
        values = md.unit_attr("cohort")
        labels = sorted(int(c) for c in values.dropna().unique())
        keys = [int(v) if pd.notna(v) else None for v in values]
        names = [f"att[cohort={g}]" for g in labels]
    lookup = {lab: i for i, lab in enumerate(labels)}
    code_of_unit = np.array([lookup.get(k, -1) for k in keys], dtype=np.int64)
    return code_of_unit[md.unit], [str(x) for x in labels], names


def build_group(md: ModelData, priors: PriorSet, cfg: Mapping, kind: str) -> BuiltModel:
    code, labels, names = group_codes(md, kind)
    dim = "region" if kind == "region" else "cohort"
    treated = md.d > 0
    used = sorted(set(code[treated & (code >= 0)]))
    if len(used) < 2:
        raise InputError(f"model=hetero_{'region' if kind == 'region' else 'batch'} needs "
                         f"treated units in at least two {dim}s")
    design = np.column_stack([md.d * (code == g) for g in range(len(labels))])
    n_treated = np.array([(treated & (code == g)).sum() for g in range(len(labels))], float)
    weights = n_treated / n_treated.sum()
    centred = str(cfg.get("parametrization", "centred")) == "centred"
    with pm.Model(coords={**md.coords, dim: labels}) as model:
        mean = priors("effect", "effect_mean")
        spread = priors("effect_spread", "effect_sd")
        theta = priors.layer("group_effect", "effect", mean, spread, centred=centred, dims=dim)
        if not centred:
            theta = pm.Deterministic("effect", theta, dims=dim)
        pm.Deterministic("att", pt.dot(weights, theta))
        mu = panel_mean(md, priors, theta, design)
        likelihood(md, priors, mu, cfg)

    def estimands(post):
        out = {"att": post["att"]}
        for label, name in zip(labels, names, strict=True):
            out[name] = post["effect"].sel({dim: label})
        return out

    twfe = ols_twfe_method(md)
    if kind == "region":
        comp = {n: ("twfe_interaction", n, "y") for n in names}
        unpooled = {n: ("twfe_subsample", n) for n in names}
    else:
        comp = {n: ("twfe_interaction_cohort", n, "y") for n in names}
        unpooled = {n: ("twfe_subsample_cohort", n) for n in names}
    comp["att"] = (twfe, "att", "y")
    return BuiltModel(f"hetero_{'region' if kind == 'region' else 'batch'}", model, md,
                      ["effect", "att"],
                      ["effect_mean", "effect_sd", "unit_sd", *NOISE_VARS],
                      estimands, comparators=comp, unpooled=unpooled,
                      pooled_mean_var="effect_mean",
                      notes=[f"{dim} effects {'centred' if centred else 'non-centred'}"])

