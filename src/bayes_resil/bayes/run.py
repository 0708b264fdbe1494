"""The Bayesian step of a run: build, check priors, sample, diagnose, summarise, compare.

Writes into the run directory: ``posterior.nc`` (DataTree NetCDF with posterior, posterior
predictive, log-likelihood, log-prior), ``diagnostics.csv``, ``psense.csv``,
``comparison.csv`` and the figures under ``figures/``; returns the estimate rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..estimates import Estimate, to_frame
from ..freq.event_study import event_study
from ..freq.heterogeneity import cohort_effects, heterogeneity
from ..freq.imputation import imputation
from ..freq.instrumental import instrumental
from ..freq.mediation import mediation
from ..outputs import write_atomic, write_csv
from ..study import StudyData
from .diagnostics import Diagnostics, diagnose
from .fit import prepare
from .models import BuiltModel, design_of
from .models.robust import FAMILIES as ROBUST_MODELS
from .sampling import prior_predictive, sample
from .summarise import comparison, estimand_draws, population_draws, posterior_rows

log = logging.getLogger("bayes_resil")


@dataclass
class BayesResult:
    built: BuiltModel
    idata: xr.DataTree
    diagnostics: Diagnostics
    rows: list[Estimate]
    ols_rows: list[Estimate]
    comparison: pd.DataFrame
    timings: dict = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


def _needed_ols(name: str, data: StudyData, est: pd.DataFrame, model_cfg: Mapping,
                freq_cfg: Mapping, controls: list[str], kw: dict) -> list[Estimate]:
    """OLS analogues the comparison needs that the frequentist step did not produce."""
    have = set(est["method"]) if len(est) else set()
    rows: list[Estimate] = []
    twfe_design = name not in ROBUST_MODELS or design_of(model_cfg) == "twfe"
    if not twfe_design and "imputation" not in have:
        rows += imputation(data, {"pretrend_leads": 0}, controls, **kw)[0]
    if twfe_design and name == "hetero_region" and "twfe_interaction" not in have:
        rows += heterogeneity(data, {"region": "region"}, controls, **kw)[0]
    if (twfe_design and name in ("hetero_batch", "staggered")
            and "twfe_interaction_cohort" not in have):
        rows += cohort_effects(data, controls, **kw)
    if name in ("event_study", "staggered"):
        window = list(model_cfg.get("window", [-5, 5]))
        ref = int(model_cfg.get("reference", -1))
        fcfg = freq_cfg.get("event_study") or {}
        same = (list(fcfg.get("window", [])) == window and int(fcfg.get("reference", -1)) == ref
                and "event_study" in have)
        if not same:
            rows += event_study(data, {"window": window, "reference": ref}, controls, **kw)
    if name == "iv" and "iv_2sls" not in have:
        rows += instrumental(data, dict(model_cfg), controls, **kw)[0]
    if name == "mediation" and "mediation_indirect" not in have:
        rows += mediation(data, {"mediators": [model_cfg.get("mediator")], "bootstrap": 199,
                                 "seed": 1}, controls, **kw)[0]
    return rows


def run_bayes(data: StudyData, cfg: Mapping, est: pd.DataFrame, out: Path, *,
              level: float = 0.95) -> BayesResult:
    """Fit ``cfg.model`` with ``cfg.prior`` and ``cfg.sampler``; write the Bayesian outputs."""
    from ..plots import save_figure
    from ..plots.bayes import (
        plot_densities,
        plot_event_overlay,
        plot_forest,
        plot_prior_predictive,
        plot_shrinkage,
    )

    mcfg, scfg = cfg["model"], cfg["sampler"]
    name = str(mcfg["name"])
    tag = "simulated" if data.simulated else data.source
    t0 = time.perf_counter()
    md, _, built = prepare(data, cfg)
    controls = md.controls
    timings = {"build": time.perf_counter() - t0}
    files: list[str] = []
    fig_dir = out / "figures"

    seed = int(scfg.get("seed", 20250929))
    prior = prior_predictive(built, int(scfg.get("prior_draws", 300)), seed)
    effect_var = next((v for v in built.effect_vars if v in prior["prior"]), None)
    y_prior = np.asarray(prior["prior_predictive"]["y"])
    rows_y = slice(None) if built.observed_rows is None else built.observed_rows
    save_figure(plot_prior_predictive(
        y_prior, md.y[rows_y], None if effect_var is None else np.asarray(
            prior["prior"][effect_var]), simulated=data.simulated, note=built.effect_prior_note),
        fig_dir / "prior_predictive")
    files.append("figures/prior_predictive.png|svg")

    log.info("sampling model=%s with %s (%s chains x %s draws, %s tune)", name,
             scfg.get("backend"), scfg.get("chains"), scfg.get("draws"), scfg.get("tune"))
    idata, t = sample(built, scfg)
    timings |= t
    diag = diagnose(idata, built, scfg.get("checks"))
    write_csv(diag.table.assign(model=name), out / "diagnostics.csv")
    files.append("diagnostics.csv")
    if diag.psense is not None and len(diag.psense):
        write_csv(diag.psense, out / "psense.csv")
        files.append("psense.csv")
    files += _diagnostic_figures(idata, built, fig_dir)

    draws = estimand_draws(idata, built)
    rows = posterior_rows(draws, built, level=level, tag=tag,
                          population=population_draws(idata, built))
    kw = dict(level=level, vcov=cfg["freq"].get("vcov", "cluster"),
              cluster=cfg["freq"].get("cluster", "unit"),
              drop_singletons=bool(cfg["freq"].get("drop_singletons", True)), tag=tag)
    ols_rows = _needed_ols(name, data, est, mcfg, cfg["freq"], controls, kw)
    all_est = pd.concat([est, to_frame(ols_rows + rows)], ignore_index=True)
    pooled = None
    if built.pooled_mean_var:
        pooled = float(idata["posterior"][built.pooled_mean_var].mean())
    comp = comparison(built, all_est, data.truth, pooled_mean=pooled)
    if len(comp):
        if "unpooled_estimate" in comp.columns:
            comp["n_units"] = _units_per_group(built, comp["estimand"])
        write_csv(comp.assign(data_source=tag), out / "comparison.csv")
        files.append("comparison.csv")
        save_figure(plot_forest(comp, title=f"Posterior ({name}) vs OLS",
                                simulated=data.simulated), fig_dir / "forest")
        save_figure(plot_densities({k: np.asarray(v) for k, v in draws.items()}, comp,
                                   simulated=data.simulated), fig_dir / "densities")
        files += ["figures/forest.png|svg", "figures/densities.png|svg"]
        if "unpooled_estimate" in comp.columns:
            save_figure(plot_shrinkage(comp, simulated=data.simulated), fig_dir / "shrinkage")
            files.append("figures/shrinkage.png|svg")
    if name in ("event_study", "staggered"):
        save_figure(plot_event_overlay(all_est, bayes_method=f"bayes_{built.name}",
                                       truth=data.truth, simulated=data.simulated),
                    fig_dir / "event_overlay")
        files.append("figures/event_overlay.png|svg")
    idata.attrs["data_source"] = tag
    idata.attrs["model"] = name
    # which city-year each observation is (PSIS-LOO names its influential observations)
    frame = md.frame.iloc[rows_y]
    observed = idata["observed_data"].to_dataset().assign_coords(
        obs_unit=("obs", frame["unit"].astype(str).to_numpy()),
        obs_time=("obs", frame["time"].to_numpy()))
    idata["observed_data"] = xr.DataTree(observed)
    write_atomic(out / "posterior.nc", lambda p: netcdf_ready(idata).to_netcdf(
        p, engine="h5netcdf"))
    files.append("posterior.nc")
    return BayesResult(built, idata, diag, rows, ols_rows, comp, timings, files)


def netcdf_ready(idata: xr.DataTree) -> xr.DataTree:
    """A copy without object-dtype variables (nutpie's divergence messages), which NetCDF
    cannot store; they are kept as strings."""
    out = idata.copy()
    stats = out["sample_stats"].to_dataset()
    for name, var in stats.data_vars.items():
        if var.dtype == object:
            stats[name] = var.astype(str)
    out["sample_stats"] = xr.DataTree(stats)
    return out


def _units_per_group(built: BuiltModel, estimands: pd.Series) -> list[float]:
    f = built.md.frame.drop_duplicates("unit")
    out = []
    for e in estimands:
        inner = e[4:-1]
        if inner.startswith("cohort="):
            out.append(float((f["cohort"] == int(inner[7:])).sum()))
        elif "region" in f.columns and inner in set(f["region"].astype(str)):
            out.append(float(((f["region"] == inner) & f["cohort"].notna()).sum()))
        else:
            out.append(np.nan)
    return out


def _diagnostic_figures(idata: xr.DataTree, built: BuiltModel, fig_dir: Path) -> list[str]:
    """Trace, rank and energy plots (arviz_plots, matplotlib backend)."""
    import arviz_plots as azp

    fig_dir.mkdir(parents=True, exist_ok=True)
    post = idata["posterior"]
    names = [v for v in [*built.effect_vars[:1], *built.hyper_vars] if v in post]
    files = []
    for kind, fn in (("trace", azp.plot_trace_dist), ("rank", azp.plot_rank)):
        pc = fn(idata, var_names=names, backend="matplotlib")
        write_atomic(fig_dir / f"{kind}.png", lambda p, pc=pc: pc.savefig(p, format="png"))
        files.append(f"figures/{kind}.png")
    pc = azp.plot_energy(idata, backend="matplotlib")
    write_atomic(fig_dir / "energy.png", lambda p: pc.savefig(p, format="png"))
    files.append("figures/energy.png")
    import matplotlib.pyplot as plt

    plt.close("all")
    return files
