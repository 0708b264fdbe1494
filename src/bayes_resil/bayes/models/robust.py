"""The robust design (``model.design=robust``, the default of every single-equation model).

Bayesian imputation: the untreated outcome ``y(0)`` comes from a model fitted to the untreated
city-years only, and every treated city-year has its own effect ``tau_it``::

    y_it = mu_it + tau_it D_it + u_it

with ``mu`` the untreated mean of :mod:`..untreated_mean` (year effects, controls, the means of
the city levels and trends given the city's cohort, region and control means, year effects
that vary with the control means) and ``u_i`` the city error vector of :mod:`..within_city`
(city level, trend, random walk and noise, integrated out exactly). Where ``y`` is the
package's index of indicators, the model is fitted to ``y - c`` with ``c`` the index's
curvature from its indicators (:mod:`..index_curvature`, ``model.impute_on``) and each
``y(0)`` is ``c + y~(0)``. Each ``tau_it`` is free
(a flat prior): the treated cells then say nothing about the untreated-outcome model, as in
the imputation estimator of Borusyak, Jaravel & Spiess (2024); there are no forbidden
comparisons (already-treated cities never serve as controls).

Estimands are averages of ``tau_it`` over treated city-years with the definitions and weights
of the simulator's truth (:func:`bayes_resil.estimand.estimand_cells`): ``att``,
``att[<region>]`` (``hetero_region``), ``att[cohort=g]`` (``hetero_batch``), ``event[e]``
(``event_study``; leads ``event[lo..-2]`` are the averages of free effects on pre-adoption
cells, which then leave the untreated-outcome fit, so their truth is 0), and for ``staggered``
the regions (when the panel has them), cohorts, post-adoption event times, ``att[time=t]``
and ``att[g,t]``. They are effects on the treated city-years of the estimation sample (the
sample average treatment effect on the treated, method ``bayes_<model>``); the same estimands
for the population the treated cities are drawn from (method ``bayes_<model>_population``)
come from :mod:`..population`. The models differ only in the estimands they report: the cell
effects are not pooled (measured for issue 11: pooling them towards group means while the city
errors have a random walk let the walk absorb the effect ramp, and ``att`` fell from 0.047 to
0.014).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from ...errors import InputError
from ...estimand import estimand_cells, parse, sort_key
from ..data import ModelData
from ..grid import CityGrid, city_grid
from ..index_curvature import curvature_offset
from ..population import POPULATION, bootstrap_averages
from ..priors import PriorSet
from ..untreated_mean import untreated_mean
from ..within_city import (
    TREND_GROUPS,
    city_log_scale,
    city_trend,
    conditional_draws,
    error_names,
    error_sds,
    filtered_likelihood,
    trend_groups,
)
from .base import BuiltModel

#: estimand families each model reports (besides ``att``)
FAMILIES = {"twfe": (), "hetero_region": ("region",), "hetero_batch": ("cohort",),
            "event_study": ("event",),
            "staggered": ("cohort", "event", "time", "cell")}


def estimand_names(cells: pd.DataFrame, families: tuple[str, ...]) -> list[str]:
    """Estimand names of the effect cells for the families a model reports."""
    post = cells[~cells["lead"]]
    names = []
    if "region" in families:
        if "region" not in cells.columns:
            raise InputError("model=hetero_region needs a region column (data.columns.region)")
        if post["region"].nunique() < 2:
            raise InputError("model=hetero_region needs treated units in at least two regions")
    if "region" in families or ("cell" in families and "region" in cells.columns):
        # staggered reports the regions when the panel has them, however many
        names += [f"att[{r}]" for r in sorted(set(post["region"].astype(str)))]
    if "cohort" in families:
        names += [f"att[cohort={g}]" for g in sorted(int(c) for c in set(post["cohort"]))]
    if "event" in families:
        names += [f"event[{int(e)}]" for e in sorted(set(cells["event_time"]))]
    if "time" in families:
        names += [f"att[time={int(t)}]" for t in sorted(set(post["time"]))]
    if "cell" in families:
        pairs = sorted(set(zip(post["cohort"].astype(int), post["time"].astype(int),
                               strict=True)))
        names += [f"att[{g},{t}]" for g, t in pairs]
    return sorted(names, key=sort_key)


def weights(cells: pd.DataFrame, names: list[str]) -> np.ndarray:
    """(estimand x cell) averaging weights: equal weight on each selected city-year."""
    w = np.zeros((len(names), len(cells)))
    post = ~cells["lead"].to_numpy()
    for i, name in enumerate(names):
        mask, lead = estimand_cells(cells, name)
        mask = mask & (~post if lead else post)
        w[i, mask] = 1.0 / mask.sum()
    return w


def build_robust(md: ModelData, priors: PriorSet, cfg: Mapping, name: str) -> BuiltModel:
    if str(cfg.get("likelihood", "normal")) != "normal":
        raise InputError(f"model.likelihood={cfg.get('likelihood')!r} needs model.design=twfe:"
                         " the robust design's within-city errors are Gaussian")
    leads = None
    if name == "event_study":
        lo = int(cfg.get("window", (-5, 5))[0])
        if int(cfg.get("reference", -1)) != -1:
            raise InputError("model.design=robust: the event study's reference period is the "
                             "last untreated one (model.reference=-1)")
        leads = (lo, -2) if lo <= -2 else None
    g = city_grid(md, leads)
    take_out_curvature(md, g, cfg)
    cells = g.cells
    if not (~cells["lead"]).any():
        raise InputError(f"model={name}: no treated observations in the estimation sample")
    names = estimand_names(cells, FAMILIES[name])
    if name == "hetero_batch" and len(set(cells["cohort"])) < 2:
        raise InputError("model=hetero_batch needs treated units in at least two cohorts")
    fit = g.untreated
    rows, cols = np.nonzero(fit)
    obs_rows = g.row_of[rows, cols]
    # every ever-treated unit, not only those with effect cells in this sample: the stored
    # shapes then depend on the design only, so panels of one design share a compiled model
    effect_units = np.union1d(np.flatnonzero(~np.isnan(g.cohort)), np.unique(cells["row"]))
    coords = {**md.coords, "obs": obs_rows.tolist(), "time_": md.coords["time"],
              "effect_unit": [md.coords["unit"][i] for i in effect_units]}
    group = trend_groups(cfg, g.cohort)
    if group is not None:
        coords["trend_group"] = list(TREND_GROUPS)
    with pm.Model(coords=coords) as model:
        mu = untreated_mean(priors, cfg, g, city_trend(g.shape[1]))
        pm.Deterministic(Y0_MEAN, mu[pm.Data("effect_units", effect_units)],
                         dims=("effect_unit", "time"))
        y_data = pm.Data("y_observed", g.y[rows, cols], dims="obs")
        sds = error_sds(priors, cfg, g.shape[1], groups=group is not None)
        log_scale = city_log_scale(priors, cfg)
        filtered_likelihood(mu, log_scale, sds, fit, y_data, group)

    def complete(idata, seed: int) -> None:
        add_effects(idata, g, effect_units, names, seed)

    def estimands(post, suffix: str = ""):
        out = {"att": post["att" + suffix]}
        out |= {n: post["effect" + suffix].sel(estimand=n) for n in names}
        return out

    def marginal():
        from ..marginal import marginal_model
        return marginal_model(priors, cfg, g, fit, coords, group)

    comparators = {n: comparator(n, leads) for n in ["att", *names]}
    comparators = {k: v for k, v in comparators.items() if v is not None}
    n_lead = int(cells["lead"].sum())
    notes = [f"design=robust (Bayesian imputation): {len(cells) - n_lead} treated city-years, "
             f"untreated outcomes from {fit.sum()} untreated ones; errors "
             + str(cfg.get("errors", "within_city"))
             + (", city scales" if cfg.get("city_scales", True) else "")]
    if g.offset is not None:
        notes.append("y(0) imputed with the index's curvature from its indicators "
                     "(model.impute_on; an offset of sd "
                     f"{g.offset[g.observed].std():.2g} on the outcome's scale)")
    if n_lead:
        notes.append(f"{n_lead} pre-adoption city-years (event times {leads[0]}..-2) have free "
                     "effects (the leads) and leave the untreated-outcome fit")
    return BuiltModel(name, model, md, ["att", *(["effect"] if names else [])],
                      error_names(cfg), estimands, comparators=comparators, notes=notes,
                      complete=complete, observed_rows=obs_rows,
                      population=lambda post: estimands(post, POPULATION),
                      marginal=marginal,
                      effect_prior_note="flat prior on every treated city-year's effect "
                                        "(imputation: the effects do not inform y(0))")


def take_out_curvature(md: ModelData, g: CityGrid, cfg: Mapping) -> None:
    """The index's curvature ``c`` (:mod:`..index_curvature`) taken out of ``g.y`` and kept
    as ``g.offset`` (so the model, its marginal engine and its effect draws see ``y - c``:
    ``tau = y - (c + y~(0))``), where ``model.impute_on`` and the panel call for it."""
    impute_on = str(cfg.get("impute_on", "auto"))
    if impute_on == "outcome" or (md.index is None and impute_on == "auto"):
        return
    if md.index is None:
        raise InputError("model.impute_on=indicators needs an outcome built by the package "
                         "from index indicators (index.indicators), but this panel's outcome "
                         "came with the data; use model.impute_on=outcome (or auto)")
    g.offset = curvature_offset(g, md.frame, md.index)
    g.y = np.where(g.observed, g.y - g.offset, 0.0)


#: posterior variable of the untreated-outcome mean of the effect units (dropped after use)
Y0_MEAN = "y0_mean"


def add_effects(idata, g: CityGrid, effect_units: np.ndarray, names: list[str],
                seed: int) -> None:
    """Add the effect draws to the posterior: ``tau`` (every effect cell: observed outcome
    minus an exact draw of its untreated outcome given the city's untreated years and the
    parameters of that posterior draw), ``att`` and ``effect`` (dims ``estimand``)."""
    post = idata["posterior"].to_dataset()
    n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]
    mean = post[Y0_MEAN].to_numpy().reshape(n_chain * n_draw, len(effect_units), -1)
    cov = post["error_cov"]
    if "trend_group" in cov.dims:  # every effect unit is treated
        cov = cov.sel(trend_group="treated")
    cov = cov.transpose("chain", "draw", ...).to_numpy().reshape(
        n_chain * n_draw, *mean.shape[2:] * 2)
    scale = (np.exp(post["log_city_scale"].to_numpy().reshape(n_chain * n_draw, -1))
             if "log_city_scale" in post else None)
    fit, cells = g.untreated, g.cells
    rng = np.random.default_rng(seed)
    tau = np.zeros((n_chain * n_draw, len(cells)))
    cell_row, cell_col = cells["row"].to_numpy(), cells["col"].to_numpy()
    for k, unit in enumerate(effect_units):
        sel = np.flatnonzero(cell_row == unit)
        if not sel.size:  # a treated unit without effect cells in the sample
            continue
        target = np.zeros(g.shape[1], bool)
        target[cell_col[sel]] = True
        s = scale[:, unit] if scale is not None else np.ones(len(tau))
        y0 = conditional_draws(g.y[unit], mean[:, k], cov, s, fit[unit], target, rng)
        order = np.argsort(cell_col[sel])  # conditional_draws returns periods in order
        tau[:, sel[order]] = g.y[unit][target][None, :] - y0
    dims = ("chain", "draw")
    w = weights(cells, ["att", *names])
    sample = tau @ w.T
    population = bootstrap_averages(tau, cell_row, w, rng)
    new = {"tau": xr.DataArray(tau.reshape(n_chain, n_draw, -1), dims=(*dims, "effect_cell"),
                               coords={"effect_cell": [f"{u}|{t}" for u, t in zip(
                                   cells["unit"], cells["time"], strict=True)]})}
    for suffix, values in (("", sample), (POPULATION, population)):
        new["att" + suffix] = xr.DataArray(values[:, 0].reshape(n_chain, n_draw), dims=dims)
        if names:
            new["effect" + suffix] = xr.DataArray(
                values[:, 1:].reshape(n_chain, n_draw, -1), dims=(*dims, "estimand"),
                coords={"estimand": names})
    post = post.drop_vars(Y0_MEAN).assign(new)
    idata["posterior"] = xr.DataTree(post)


def comparator(name: str, leads: tuple[int, int] | None) -> tuple[str, str, str] | None:
    """The frequentist estimator of the same estimand: BJS imputation for averages of
    post-adoption effects, the OLS event study for leads strictly inside its window (its
    endpoint is binned), Callaway-Sant'Anna for cohort x period cells."""
    e = parse(name)
    if e.kind == "event" and e.event < 0:
        return ("event_study", name, "y") if leads and e.event > leads[0] else None
    if e.kind in ("att", "region", "cohort", "event"):
        return ("imputation", name, "y")
    if e.kind == "cell":
        return ("callaway_santanna", name, "y")
    return None
