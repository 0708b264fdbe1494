"""The frequentist step's results as an object (what :func:`bayes_resil.frequentist` returns).

Methods return, never print or write: :meth:`FrequentistResult.estimates` is the
``estimates.csv`` table, the ``plot_*`` methods return matplotlib figures, and
:meth:`FrequentistResult.save` writes the run directory (the same files as the command line).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import DictConfig

from ..estimates import to_frame
from ..steps import steps_table
from ..study import StudyData
from .suite import FreqResults

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..bayes.result import BayesianFit


@dataclass
class FrequentistResult:
    """The frequentist estimates of one panel under one ``freq`` config.

    Attributes
    ----------
    data : StudyData
        The panel the estimates are of.
    config : DictConfig
        The full config of the call (``config.freq`` is the frequentist part).
    results : FreqResults
        Rows, placebo draws, decompositions, skip reasons and step statuses.
    level : float
        Level of every confidence interval.
    """

    data: StudyData
    config: DictConfig
    results: FreqResults
    level: float = 0.95

    def estimates(self) -> pd.DataFrame:
        """One row per estimate, the columns of ``estimates.csv``."""
        return to_frame(self.results.rows)

    def steps(self) -> pd.DataFrame:
        """Each block's status (ok / failed / error), time and reason (``steps.csv``)."""
        return steps_table(self.results.steps)

    @property
    def placebo_draws(self) -> pd.DataFrame | None:
        """The permutation placebo's draws (``placebo_draws.csv``), if the block ran."""
        return self.results.placebo_draws

    def _need(self, what, block: str):
        if what is None or (isinstance(what, pd.DataFrame) and what.empty):
            raise ValueError(f"no {block} results: add {block!r} to freq.blocks")
        return what

    def plot_event_study(self) -> Figure:
        """The event-study coefficients (Figure 1), with the truth on simulated data."""
        from ..plots import plot_event_study

        est = self.estimates()
        self._need(est[est["method"] == "event_study"], "event_study")
        return plot_event_study(est, truth=self.data.truth, simulated=self.data.simulated)

    def plot_placebo(self) -> Figure:
        """The permutation distribution beside the actual estimate (Figure 2)."""
        from ..plots import plot_placebo

        est = self.estimates()
        row = self._need(est[est["method"] == "placebo"], "placebo").iloc[0]
        return plot_placebo(self.results.placebo_draws["estimate"].to_numpy(),
                            float(row["actual_estimate"]), p_value=float(row["p_value"]),
                            simulated=self.data.simulated)

    def plot_bacon(self) -> Figure:
        """The Goodman-Bacon decomposition's 2x2 estimates and weights."""
        from ..plots.bacon import plot_bacon

        bacon = self._need(self.results.bacon, "decomposition")
        est = self.estimates()
        att = est.query("method == 'bacon' and estimand == 'att'")["estimate"].iloc[0]
        return plot_bacon(bacon, twfe=float(att), simulated=self.data.simulated)

    def plot_sensitivity(self) -> Figure:
        """HonestDiD-style robust intervals against the allowed violation."""
        from ..plots.sensitivity import plot_sensitivity

        table = self._need(self.results.sensitivity, "honest_did")
        est = self.estimates()
        return plot_sensitivity(table, est[est["method"] == "honest_did"],
                                simulated=self.data.simulated)

    def plot_event_estimators(self) -> Figure:
        """Event-time effects of every staggered estimator (imputation, Sun-Abraham,
        Callaway-Sant'Anna) side by side."""
        from ..plots.bayes import plot_event_overlay

        est = self.estimates()
        self._need(est[est["method"].isin(["imputation", "sun_abraham",
                                           "callaway_santanna"])], "imputation")
        return plot_event_overlay(est, truth=self.data.truth, simulated=self.data.simulated)

    def save(self, directory: str | Path, fit: BayesianFit | None = None) -> Path:
        """Write the run directory (``estimates.csv``, tables, figures, ``steps.csv``,
        ``summary.txt``, ``report.html`` / ``.md``; with ``fit``, the Bayesian files too):
        the same files as a command-line run. Returns the directory."""
        from ..run_files import save_run

        return save_run(directory, self.data, self.config, freq=self, fit=fit)
