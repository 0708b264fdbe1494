"""The Bayesian files of a run directory, written from a fit (:mod:`.result`).

``posterior.nc`` (DataTree NetCDF with posterior, posterior predictive, log-likelihood,
log-prior), ``diagnostics.csv``, ``psense.csv``, ``comparison.csv`` and the figures under
``figures/`` (prior predictive, trace, rank, energy, forest, densities, shrinkage, event
overlay).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from ..estimates import Estimate
from ..outputs import write_atomic, write_csv
from ..study import StudyData
from .result import BayesianFit, fit_model

if TYPE_CHECKING:
    from ..freq.result import FrequentistResult

log = logging.getLogger("bayes_resil")


@dataclass
class BayesFiles:
    """What :func:`write_bayes` wrote: the file names and the frequentist rows estimated for
    the comparison (they go into ``estimates.csv``)."""

    files: list[str]
    ols_rows: list[Estimate]


def run_bayes(data: StudyData, cfg: Mapping, est: pd.DataFrame, out: Path, *,
              level: float = 0.95) -> BayesianFit:
    """Fit ``cfg.model`` (:func:`.result.fit_model`) and write its files beside the
    frequentist estimates ``est`` (:func:`write_bayes`)."""
    fit = fit_model(data, cfg, level=level)
    write_bayes(fit, out, est)
    return fit


def write_bayes(fit: BayesianFit, out: Path, freq: FrequentistResult | pd.DataFrame | None
                ) -> BayesFiles:
    """The Bayesian files of a run directory (see the module docstring)."""
    from ..plots import save_figure

    files: list[str] = []
    fig_dir = out / "figures"
    save_figure(fit.plot_prior_predictive(), fig_dir / "prior_predictive")
    files.append("figures/prior_predictive.png|svg")
    write_csv(fit.diagnostics(), out / "diagnostics.csv")
    files.append("diagnostics.csv")
    if fit.checks.psense is not None and len(fit.checks.psense):
        write_csv(fit.checks.psense, out / "psense.csv")
        files.append("psense.csv")
    files += _diagnostic_figures(fit, fig_dir)
    comp = fit.comparison(freq)
    if len(comp.table):
        write_csv(comp.table, out / "comparison.csv")
        files.append("comparison.csv")
        save_figure(fit.plot_forest(freq), fig_dir / "forest")
        save_figure(fit.plot_densities(freq), fig_dir / "densities")
        files += ["figures/forest.png|svg", "figures/densities.png|svg"]
        if "unpooled_estimate" in comp.table.columns:
            save_figure(fit.plot_shrinkage(freq), fig_dir / "shrinkage")
            files.append("figures/shrinkage.png|svg")
    if fit.has_event_times:
        save_figure(fit.plot_event(freq), fig_dir / "event_overlay")
        files.append("figures/event_overlay.png|svg")
    write_atomic(out / "posterior.nc", lambda p: netcdf_ready(fit.idata).to_netcdf(
        p, engine="h5netcdf"))
    files.append("posterior.nc")
    import matplotlib.pyplot as plt

    plt.close("all")
    return BayesFiles(files, comp.ols_rows)


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


def _diagnostic_figures(fit: BayesianFit, fig_dir: Path) -> list[str]:
    """Trace, rank and energy plots (arviz_plots, matplotlib backend)."""
    fig_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for kind in ("trace", "rank", "energy"):
        fig = fit._diagnostic_plot(kind)
        write_atomic(fig_dir / f"{kind}.png", lambda p, fig=fig: fig.savefig(p, format="png"))
        files.append(f"figures/{kind}.png")
    return files
