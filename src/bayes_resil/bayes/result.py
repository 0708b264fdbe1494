"""A fitted Bayesian model as an object (what :func:`bayes_resil.fit` returns).

:func:`fit_model` builds the configured model on a panel, draws the prior predictive, samples
and diagnoses; nothing is written. :class:`BayesianFit` returns tables and figures
(``estimates()``, ``diagnostics()``, ``compare(freq)``, ``plot_*``) and writes the run's files
with ``save(dir)``; the command line writes through the same methods (:mod:`.run`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from omegaconf import DictConfig

from ..estimand import kinds, parse
from ..estimates import Estimate, to_frame
from ..schema import SamplerConfig, typed
from ..study import StudyData
from .comparators import comparator_rows
from .diagnostics import Diagnostics, diagnose
from .fit import model_controls, prepare
from .models import BuiltModel
from .sampling import prior_predictive, sample
from .summarise import comparison, estimand_draws, population_draws, posterior_rows

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..freq.result import FrequentistResult

log = logging.getLogger("bayes_resil")


@dataclass
class Comparison:
    """The posterior-vs-frequentist table, the frequentist rows computed for it, and every
    estimate together (the frequentist ones, those rows, the posterior's)."""

    table: pd.DataFrame
    ols_rows: list[Estimate]
    estimates: pd.DataFrame


@dataclass
class BayesianFit:
    """A Bayesian model fitted to one panel.

    Attributes
    ----------
    data : StudyData
        The panel.
    config : DictConfig
        The full config of the fit (``config.model``, ``config.prior``, ``config.sampler``).
    built : BuiltModel
        The PyMC model and what the package knows about it (estimands, comparators).
    idata : xarray.DataTree
        Posterior, sample stats, observed data, log-likelihood, posterior predictive and
        log-prior groups (``posterior.nc``).
    prior : xarray.DataTree
        Prior and prior predictive draws (the prior check).
    checks : Diagnostics
        R-hat, ESS, divergences and E-BFMI against ``sampler.checks``; prior sensitivity.
    rows : list of Estimate
        The posterior summaries in the ``estimates.csv`` contract.
    level : float
        Level of the credible intervals.
    timings : dict
        Seconds spent building, compiling and sampling.
    """

    data: StudyData
    config: DictConfig
    built: BuiltModel
    idata: xr.DataTree
    prior: xr.DataTree
    checks: Diagnostics
    rows: list[Estimate]
    level: float = 0.95
    timings: dict = field(default_factory=dict)
    _compared: dict = field(default_factory=dict, repr=False)  # id(freq) -> (freq, Comparison)

    @property
    def name(self) -> str:
        """The model's name (``bayes_<name>`` is its method in the estimates)."""
        return self.built.name

    @property
    def posterior(self) -> xr.DataTree:
        """The posterior and its companion groups (an ArviZ 1.x DataTree)."""
        return self.idata

    @property
    def passed(self) -> bool:
        """Whether every convergence check passed."""
        return self.checks.passed

    def estimates(self) -> pd.DataFrame:
        """The posterior summaries, one row per estimand (the ``estimates.csv`` columns plus
        ``prob_positive``, ``r_hat``, ``ess_bulk``, ``target``)."""
        return to_frame(self.rows)

    def diagnostics(self) -> pd.DataFrame:
        """One row per parameter checked (``diagnostics.csv``)."""
        return self.checks.table.assign(model=self.name)

    def draws(self) -> dict[str, xr.DataArray]:
        """Posterior draws of every estimand, by name (``chain`` x ``draw``)."""
        return estimand_draws(self.idata, self.built)

    def comparison(self, freq: FrequentistResult | pd.DataFrame | None = None) -> Comparison:
        """The comparison table and the frequentist rows estimated for it (see
        :mod:`.comparators`); ``freq`` as in :meth:`compare`. Computed once per ``freq``
        (the table and every figure built on it share the comparator estimates)."""
        cached = self._compared.get(id(freq))
        if cached is not None and cached[0] is freq:
            return cached[1]
        result = self._comparison(freq)
        self._compared[id(freq)] = (freq, result)
        return result

    def _comparison(self, freq: FrequentistResult | pd.DataFrame | None) -> Comparison:
        cfg = self.config
        if freq is None:
            est, freq_cfg, have_spec = pd.DataFrame(), cfg["freq"], True
        elif isinstance(freq, pd.DataFrame):
            est, freq_cfg, have_spec = freq, cfg["freq"], False
        else:
            est, freq_cfg, have_spec = freq.estimates(), freq.config["freq"], True
        controls = model_controls(self.data, cfg["model"])
        ols_rows, methods = comparator_rows(self.built, self.data, est, cfg["model"], freq_cfg,
                                            controls, have_spec=have_spec, level=self.level)
        all_est = pd.concat([est, to_frame(ols_rows + self.rows)], ignore_index=True)
        pooled = None
        if self.built.pooled_mean_var:
            pooled = float(self.idata["posterior"][self.built.pooled_mean_var].mean())
        table = comparison(self.built, all_est, self.data.truth, pooled_mean=pooled,
                           methods=methods)
        if len(table) and "unpooled_estimate" in table.columns:
            table["n_units"] = _units_per_group(self.built, table["estimand"])
        if len(table):
            table["data_source"] = "simulated" if self.data.simulated else self.data.source
        return Comparison(table, ols_rows, all_est)

    def compare(self, freq: FrequentistResult | pd.DataFrame | None = None) -> pd.DataFrame:
        """Posterior beside the frequentist estimate of the same estimand and specification
        (``comparison.csv``): ``freq`` is a :class:`FrequentistResult` (its rows are used
        where their specification is the model's, the others are estimated), a DataFrame of
        estimates (only the methods that name their specification are reused) or None (every
        comparator is estimated)."""
        return self.comparison(freq).table.copy()

    # --- figures (each returns a matplotlib Figure) ------------------------------------------

    def plot_prior_predictive(self) -> Figure:
        """Prior predictive draws of the outcome (and of the effect) against the data."""
        from ..plots.bayes import plot_prior_predictive

        built, md = self.built, self.built.md
        effect_var = next((v for v in built.effect_vars if v in self.prior["prior"]), None)
        rows = slice(None) if built.observed_rows is None else built.observed_rows
        # the observed variable's data (the robust design's may be y minus the index's
        # curvature, :mod:`.index_curvature`), as sampling.complete_marginal reads it
        observed = (built.model["y_observed"].get_value() if "y_observed" in built.model
                    else md.y[rows])
        return plot_prior_predictive(
            np.asarray(self.prior["prior_predictive"]["y"]), observed,
            None if effect_var is None else np.asarray(self.prior["prior"][effect_var]),
            simulated=self.data.simulated, note=built.effect_prior_note)

    def plot_forest(self, freq: FrequentistResult | pd.DataFrame | None = None) -> Figure:
        """Posterior intervals beside the frequentist ones, per estimand."""
        from ..plots.bayes import plot_forest

        return plot_forest(self.compare(freq), title=f"Posterior ({self.name}) vs OLS",
                           simulated=self.data.simulated)

    def plot_densities(self, freq: FrequentistResult | pd.DataFrame | None = None) -> Figure:
        """Posterior densities of the estimands with the frequentist estimates marked."""
        from ..plots.bayes import plot_densities

        return plot_densities({k: np.asarray(v) for k, v in self.draws().items()},
                              self.compare(freq), simulated=self.data.simulated)

    def plot_shrinkage(self, freq: FrequentistResult | pd.DataFrame | None = None) -> Figure:
        """Partially pooled group effects against their unpooled estimates (models with
        pooled groups)."""
        from ..plots.bayes import plot_shrinkage

        table = self.compare(freq)
        if "unpooled_estimate" not in table.columns:
            raise ValueError(f"model={self.name} has no partially pooled group effects")
        return plot_shrinkage(table, simulated=self.data.simulated)

    @property
    def has_event_times(self) -> bool:
        """Whether the model reports effects by event time (``event[e]``)."""
        return bool((kinds([r.estimand for r in self.rows]) == "event").any())

    def plot_event(self, freq: FrequentistResult | pd.DataFrame | None = None) -> Figure:
        """Event-time effects: the posterior over the frequentist estimators."""
        from ..plots.bayes import plot_event_overlay

        return plot_event_overlay(self.all_estimates(freq), bayes_method=f"bayes_{self.name}",
                                  truth=self.data.truth, simulated=self.data.simulated)

    def plot_trace(self) -> Figure:
        """Trace and marginal density of the first effect and the hyperparameters."""
        return self._diagnostic_plot("trace")

    def plot_rank(self) -> Figure:
        """Rank plots (chains mixing) of the first effect and the hyperparameters."""
        return self._diagnostic_plot("rank")

    def plot_energy(self) -> Figure:
        """Marginal and transition energy (E-BFMI)."""
        return self._diagnostic_plot("energy")

    def _diagnostic_plot(self, kind: str) -> Figure:
        import arviz_plots as azp

        if kind == "energy":
            pc = azp.plot_energy(self.idata, backend="matplotlib")
        else:
            post = self.idata["posterior"]
            names = [v for v in [*self.built.effect_vars[:1], *self.built.hyper_vars]
                     if v in post]
            fn = azp.plot_trace_dist if kind == "trace" else azp.plot_rank
            pc = fn(self.idata, var_names=names, backend="matplotlib")
        return pc.get_viz("figure")

    def all_estimates(self, freq: FrequentistResult | pd.DataFrame | None = None
                      ) -> pd.DataFrame:
        """The frequentist estimates, the comparators estimated for the comparison and the
        posterior rows in one table (what ``estimates.csv`` holds)."""
        return self.comparison(freq).estimates.copy()

    def save(self, directory: str | Path, freq: FrequentistResult | None = None) -> Path:
        """Write the run directory: the Bayesian files (``posterior.nc``,
        ``diagnostics.csv``, ``comparison.csv``, figures), ``estimates.csv`` with ``freq``'s
        rows, ``summary.txt`` and the report (the same files as the command line). Returns
        the directory."""
        from ..run_files import save_run

        return save_run(directory, self.data, self.config, freq=freq, fit=self)


def fit_model(data: StudyData, cfg: DictConfig, *, level: float = 0.95) -> BayesianFit:
    """Build ``cfg.model`` with ``cfg.prior`` on ``data``, draw the prior predictive, sample
    with ``cfg.sampler`` and diagnose; nothing is written."""
    scfg = cfg["sampler"]
    t0 = time.perf_counter()
    _, _, built = prepare(data, cfg)
    timings = {"build": time.perf_counter() - t0}
    scfg = typed(SamplerConfig, scfg)
    prior = prior_predictive(built, int(scfg.prior_draws), int(scfg.seed))
    log.info("sampling model=%s with %s (%s chains x %s draws, %s tune)", built.name,
             scfg.get("backend"), scfg.get("chains"), scfg.get("draws"), scfg.get("tune"))
    idata, t = sample(built, scfg)
    timings |= t
    checks = diagnose(idata, built, scfg.get("checks"))
    tag = "simulated" if data.simulated else data.source
    rows = posterior_rows(estimand_draws(idata, built), built, level=level, tag=tag,
                          population=population_draws(idata, built))
    _label_observations(idata, built)
    idata.attrs["data_source"] = tag
    idata.attrs["model"] = built.name
    return BayesianFit(data, cfg, built, idata, prior, checks, rows, level, timings)


def _label_observations(idata: xr.DataTree, built: BuiltModel) -> None:
    """Which city-year each observation is (PSIS-LOO names its influential observations)."""
    rows = slice(None) if built.observed_rows is None else built.observed_rows
    frame = built.md.frame.iloc[rows]
    observed = idata["observed_data"].to_dataset().assign_coords(
        obs_unit=("obs", frame["unit"].astype(str).to_numpy()),
        obs_time=("obs", frame["time"].to_numpy()))
    idata["observed_data"] = xr.DataTree(observed)


def _units_per_group(built: BuiltModel, estimands: pd.Series) -> list[float]:
    f = built.md.frame.drop_duplicates("unit")
    out = []
    for e in map(parse, estimands):
        if e.kind == "cohort":
            out.append(float((f["cohort"] == e.cohort).sum()))
        elif e.kind == "region" and "region" in f.columns:
            out.append(float(((f["region"].astype(str) == e.region) & f["cohort"].notna()).sum()))
        else:
            out.append(np.nan)
    return out
