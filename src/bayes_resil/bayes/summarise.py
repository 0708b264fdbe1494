"""Posterior estimates in the shared row contract, and the posterior-vs-OLS comparison."""

from __future__ import annotations

from collections.abc import Mapping

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr

from ..estimand import parse
from ..estimates import Estimate
from .models import BuiltModel
from .population import POPULATION


def estimand_draws(idata: xr.DataTree, built: BuiltModel) -> dict[str, xr.DataArray]:
    return built.estimands(idata["posterior"].to_dataset())


def population_draws(idata: xr.DataTree, built: BuiltModel) -> dict[str, xr.DataArray]:
    """Population-level draws of the estimands (:mod:`.population`); empty when the model has
    none."""
    if built.population is None:
        return {}
    return built.population(idata["posterior"].to_dataset())


#: what each Bayesian row's number is about (column ``target`` of estimates.csv)
TARGETS = {"": "sample: the treated unit-periods of this panel",
           POPULATION: "population: units like the treated ones (Bayesian bootstrap over units)"}


def posterior_rows(draws: dict[str, xr.DataArray], built: BuiltModel, *, level: float,
                   tag: str, population: dict[str, xr.DataArray] | None = None
                   ) -> list[Estimate]:
    """``method=bayes_<model>`` rows: posterior mean, sd, equal-tailed interval, P(> 0); with
    ``population``, the same estimands for the population (``bayes_<model>_population``)."""
    rows = []
    alpha = 1 - level
    outcome_of = {k: v[2] for k, v in built.comparators.items()}
    sets = [("", draws)] + ([(POPULATION, population)] if population else [])
    for suffix, named in sets:
        for name, da in named.items():
            v = np.asarray(da).reshape(-1)
            lo, hi = np.quantile(v, [alpha / 2, 1 - alpha / 2])
            arr = np.asarray(da)
            rhat = float(azs.rhat(arr, chain_axis=0, draw_axis=1)) if arr.ndim == 2 else np.nan
            ess = float(azs.ess(arr, chain_axis=0, draw_axis=1)) if arr.ndim == 2 else np.nan
            const = bool(np.ptp(v) == 0)
            extra = {"prob_positive": float((v > 0).mean()),
                     "r_hat": np.nan if const else rhat, "ess_bulk": np.nan if const else ess}
            if population:
                extra["target"] = TARGETS[suffix]
            rows.append(Estimate(
                estimand=name, method=f"bayes_{built.name}{suffix}", estimate=float(v.mean()),
                std_error=float(v.std(ddof=1)), ci_lower=float(lo), ci_upper=float(hi),
                n_obs=built.md.n, outcome=outcome_of.get(name, "y"), ci_level=level,
                vcov="posterior", data_source=tag,
                note="fixed at 0 (reference period)" if const else "", extra=extra,
            ))
    return rows


def comparison(built: BuiltModel, est: pd.DataFrame, truth: pd.DataFrame | None,
               pooled_mean: float | None = None,
               methods: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per estimand of the model with an OLS counterpart: OLS estimate and CI beside
    the posterior (and the population-level posterior, ``population_*``, when the model has
    one), the difference in OLS-SE units, the interval-width ratio, the shrinkage
    factor of partially pooled effects (share of the way from the unpooled subsample OLS to
    the pooled mean), and the truth when the data are simulated. ``methods``: the method each
    comparator's rows are found under (:func:`.comparators.comparator_rows`; rows re-estimated
    with the model's specification are ``<method>_model_spec``)."""
    methods = dict(methods or {})
    bayes = est[est["method"] == f"bayes_{built.name}"].set_index("estimand")
    records = []
    for name, (method, ols_estimand, outcome) in built.comparators.items():
        if name not in bayes.index:
            continue
        method = methods.get(method, method)
        ols = est[(est["method"] == method) & (est["estimand"] == ols_estimand)
                  & (est["outcome"] == outcome)]
        if ols.empty:  # only estimands present in both
            continue
        b = bayes.loc[name]
        rec = {"estimand": name, "outcome": outcome, "bayes_method": f"bayes_{built.name}",
               "posterior_mean": b["estimate"], "posterior_sd": b["std_error"],
               "posterior_lower": b["ci_lower"], "posterior_upper": b["ci_upper"],
               "prob_positive": b["prob_positive"], "ols_method": method}
        pop = est[(est["method"] == f"bayes_{built.name}{POPULATION}")
                  & (est["estimand"] == name)]
        if len(pop):
            p = pop.iloc[0]
            rec |= {"population_mean": p["estimate"], "population_sd": p["std_error"],
                    "population_lower": p["ci_lower"], "population_upper": p["ci_upper"]}
        o = ols.iloc[0]
        rec |= {"ols_estimate": o["estimate"], "ols_se": o["std_error"],
                "ols_lower": o["ci_lower"], "ols_upper": o["ci_upper"]}
        se = o["std_error"]
        rec["diff_in_ols_se"] = (b["estimate"] - o["estimate"]) / se if se > 0 else np.nan
        width = o["ci_upper"] - o["ci_lower"]
        rec["width_ratio"] = ((b["ci_upper"] - b["ci_lower"]) / width if width > 0
                              else np.nan)
        if "population_mean" in rec:
            rec["population_width_ratio"] = ((rec["population_upper"]
                                              - rec["population_lower"]) / width
                                             if width > 0 else np.nan)
        if name in built.unpooled:
            m, e = built.unpooled[name]
            m = methods.get(m, m)
            un = est[(est["method"] == m) & (est["estimand"] == e)]
            if len(un):
                rec["unpooled_method"] = m
                rec["unpooled_estimate"] = un["estimate"].iloc[0]
                rec["unpooled_se"] = un["std_error"].iloc[0]
        records.append(rec)
    table = pd.DataFrame.from_records(records)
    if table.empty:
        return table
    if pooled_mean is not None and "unpooled_estimate" in table.columns:
        # share of the way from an unpooled estimate to the pooled mean that the posterior
        # moved: against the no-pooling OLS of the same specification (the interaction
        # regression, ``shrinkage_factor``) and against the subsample OLS (which also lets
        # year effects and control slopes differ by group, ``shrinkage_vs_subsample``)
        table["pooled_mean"] = pooled_mean
        grouped = table["unpooled_estimate"].notna()
        with np.errstate(divide="ignore", invalid="ignore"):
            for col, ref in (("shrinkage_factor", "ols_estimate"),
                             ("shrinkage_vs_subsample", "unpooled_estimate")):
                gap = table[ref] - pooled_mean
                table[col] = np.where(grouped & (gap.abs() > 0),
                                      (table[ref] - table["posterior_mean"]) / gap, np.nan)
    if truth is not None:
        keys = [_truth_key(e, o) for e, o in zip(table["estimand"], table["outcome"],
                                                 strict=True)]
        lookup = truth.set_index(["estimand", "outcome"])["true_effect"]
        table["true_effect"] = [lookup.get(k, np.nan) for k in keys]
        if "true_effect" in table.columns:
            table["posterior_covers_truth"] = ((table["posterior_lower"] <= table["true_effect"])
                                               & (table["true_effect"]
                                                  <= table["posterior_upper"]))
            if "ols_lower" in table.columns:
                table["ols_covers_truth"] = ((table["ols_lower"] <= table["true_effect"])
                                             & (table["true_effect"] <= table["ols_upper"]))
    return table


def _truth_key(estimand: str, outcome: str) -> tuple[str, str]:
    """(estimand, outcome) of the truth table that an estimand targets."""
    e = parse(estimand)
    if e.kind == "path" and e.path == "a_path":
        return "att", e.term
    return estimand, outcome
