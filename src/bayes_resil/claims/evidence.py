"""What a run knows that can speak to a claim, in one object.

:class:`Evidence` holds the estimates of a run (``estimates.csv``: frequentist, comparator and
posterior rows), the Bayesian draws (sample and population level, by estimand name, plus the
cell effects ``tau`` so averages over any group of treated cells can be formed), the placebo
draws, the prior-sensitivity table and, on simulated data, the truth. Built from in-memory
results (:func:`from_run`) or from a run directory's files (:func:`from_directory`: no draws,
so no Bayesian probabilities).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ..bayes.result import BayesianFit
    from ..freq.result import FrequentistResult
    from ..study import StudyData


@dataclass
class Evidence:
    """A run's results, as the claims read them.

    ``sample`` / ``population``: estimand name -> flat posterior draws (one model: ``model``);
    ``tau`` (draws x cells) and ``cells`` (``unit``, ``time``, ``cohort``, ``region``): the
    cell effects of a robust-design model; ``truth`` / ``truth_cells``: the simulation's."""

    estimates: pd.DataFrame
    level: float = 0.95
    model: str | None = None
    sample: dict[str, np.ndarray] = field(default_factory=dict)
    population: dict[str, np.ndarray] = field(default_factory=dict)
    tau: np.ndarray | None = None
    cells: pd.DataFrame | None = None
    placebo: np.ndarray | None = None
    psense: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    truth_cells: pd.DataFrame | None = None
    seed: int = 20251130
    _groups: dict = field(default_factory=dict, repr=False)

    @property
    def simulated(self) -> bool:
        return self.truth is not None

    def rows(self, method: str, estimand: str, outcome: str = "y") -> pd.Series | None:
        """The row of (method, estimand, outcome), or None."""
        e = self.estimates
        hit = e[(e["method"] == method) & (e["estimand"] == estimand)
                & (e["outcome"].astype(str) == outcome)]
        return None if hit.empty else hit.iloc[0]

    def group_draws(self, label: str, selector: dict, population: bool) -> np.ndarray | None:
        """Draws of the average effect over the treated cells of a group (``{cohort: [...]}``
        or ``{region: [...]}``), from the cell effects; None without them."""
        if self.tau is None or self.cells is None:
            return None
        key = (label, population)
        if key not in self._groups:
            mask = np.ones(len(self.cells), bool)
            for col, values in selector.items():
                if col not in self.cells.columns:
                    return None
                mask &= self.cells[col].isin(list(values)).to_numpy()
            if not mask.any():
                return None
            w = (mask / mask.sum())[None, :]
            if population:
                from ..bayes.population import bootstrap_averages

                rng = np.random.default_rng(self.seed)
                units = pd.factorize(self.cells["unit"])[0]
                self._groups[key] = bootstrap_averages(self.tau, units, w, rng)[:, 0]
            else:
                self._groups[key] = (self.tau @ w.T)[:, 0]
        return self._groups[key]

    def true_group(self, selector: dict, outcome: str = "y") -> float | None:
        """The true average effect over a group's treated cells (simulated data)."""
        tc = self.truth_cells
        if tc is None:
            return None
        column = "tau" if outcome == "y" else f"tau_{outcome}"
        if column not in tc.columns:
            return None
        post = tc[tc["event_time"] >= 0] if "event_time" in tc.columns else tc
        mask = np.ones(len(post), bool)
        for col, values in selector.items():
            mask &= post[col].isin(list(values)).to_numpy()
        return float(post.loc[mask, column].mean()) if mask.any() else None

    def true_effect(self, estimand: str, outcome: str = "y") -> float | None:
        t = self.truth
        if t is None:
            return None
        hit = t[(t["estimand"] == estimand) & (t["outcome"].astype(str) == outcome)]
        return float(hit["true_effect"].iloc[0]) if len(hit) else None


def _flat(da) -> np.ndarray:
    return np.asarray(da.values, dtype=float).reshape(-1)


def _cells_of(fit: BayesianFit, panel: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame] | None:
    post = fit.idata["posterior"]
    if "tau" not in post.data_vars:
        return None
    tau = post["tau"]
    keys = [str(k) for k in tau["effect_cell"].values]
    lookup = panel.assign(key=panel["unit"].astype(str) + "|" + panel["time"].astype(str))
    cols = ["unit", "time", "cohort"] + (["region"] if "region" in panel.columns else [])
    cells = lookup.set_index("key").loc[keys, cols].reset_index(drop=True)
    values = tau.transpose("chain", "draw", "effect_cell").values
    return values.reshape(-1, values.shape[-1]), cells


def from_run(data: StudyData, estimates: pd.DataFrame, *, freq: FrequentistResult | None = None,
             fit: BayesianFit | None = None, level: float = 0.95) -> Evidence:
    """The evidence of a run held in memory (what ``app.run`` and the API have)."""
    ev = Evidence(estimates=estimates, level=level, truth=data.truth,
                  truth_cells=data.truth_cells)
    if freq is not None and freq.results.placebo_draws is not None:
        ev.placebo = freq.results.placebo_draws["estimate"].to_numpy(float)
    if fit is not None:
        from ..bayes.summarise import population_draws

        ev.model = fit.name
        ev.sample = {k: _flat(v) for k, v in fit.draws().items()}
        ev.population = {k: _flat(v) for k, v in population_draws(fit.idata, fit.built).items()}
        cells = _cells_of(fit, data.panel)
        if cells is not None:
            ev.tau, ev.cells = cells
        ev.psense = fit.checks.psense
    return ev


def from_directory(out: Path, level: float = 0.95) -> Evidence:
    """The evidence in a run directory's files (no posterior draws)."""
    def read(name):
        p = out / name
        return pd.read_csv(p) if p.is_file() else None

    placebo = read("placebo_draws.csv")
    return Evidence(estimates=read("estimates.csv"), level=level,
                    placebo=None if placebo is None else placebo["estimate"].to_numpy(float),
                    psense=read("psense.csv"), truth=read("truth.csv"),
                    truth_cells=read("truth_cells.csv"))
