"""The estimation sample on the full unit x period grid (the robust design's data layout).

The robust design models each unit's vector of outcomes over all periods jointly (a within-unit
error covariance), so it needs the panel as a rectangle: :class:`CityGrid` holds the outcome,
the controls and the masks on the ``(unit, time)`` grid of :class:`~.data.ModelData`. Cells
outside the estimation sample (missing outcome or controls, periods a unit is not observed) are
left out of the likelihood exactly (:func:`..within_city.filtered_likelihood`).

The *effect cells* are the unit-periods with their own free effect ``tau_it``: every treated
cell of the estimation sample and, for an event study, the pre-adoption cells whose leads it
reports. Their frame (:attr:`CityGrid.cells`) has the columns the simulator's truth uses
(``unit``, ``time``, ``cohort``, ``event_time``, ``region``), so estimands select cells with
:func:`bayes_resil.estimand.estimand_cells` exactly as the calibration study selects the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import ModelData


@dataclass
class CityGrid:
    observed: np.ndarray  # (U, T) bool: the cell is in the estimation sample
    row_of: np.ndarray  # (U, T) the cell's row in ModelData (-1 outside the sample)
    y: np.ndarray  # (U, T) the outcome where observed, else 0
    x: np.ndarray  # (U, T, K) standardised controls (0 outside the sample)
    x_bar: np.ndarray  # (U, K') unit means of the controls, centred and scaled
    cohort: np.ndarray  # (U,) first treated period (nan: never treated)
    region: np.ndarray | None  # (U,) region labels, None without a region column
    cells: pd.DataFrame  # effect cells: row, col, unit, time, cohort, event_time, region, lead
    offset: np.ndarray | None = None  # (U, T) taken out of ``y`` (the index's curvature), if any

    @property
    def shape(self) -> tuple[int, int]:
        return self.observed.shape

    @property
    def effect(self) -> np.ndarray:
        """(U, T) mask of the effect cells."""
        mask = np.zeros(self.shape, bool)
        mask[self.cells["row"], self.cells["col"]] = True
        return mask

    @property
    def untreated(self) -> np.ndarray:
        """(U, T) mask of the cells the untreated-outcome model is fitted to."""
        return self.observed & ~self.effect


def city_grid(md: ModelData, leads: tuple[int, int] | None = None) -> CityGrid:
    """The grid of ``md``; ``leads=(lo, hi)``: pre-adoption event times ``lo..hi`` (hi < 0)
    also get free effects (the leads of an event study)."""
    n_u, n_t = len(md.coords["unit"]), len(md.coords["time"])
    observed = np.zeros((n_u, n_t), bool)
    observed[md.unit, md.time] = True
    y = np.zeros((n_u, n_t))
    y[md.unit, md.time] = md.y
    row_of = np.full((n_u, n_t), -1)
    row_of[md.unit, md.time] = np.arange(md.n)
    k = md.x.shape[1]
    x = np.zeros((n_u, n_t, k))
    x[md.unit, md.time] = md.x
    x_bar = x.sum(axis=1) / observed.sum(axis=1)[:, None]
    sd = x_bar.std(axis=0)
    x_bar = (x_bar[:, sd > 1e-12] - x_bar[:, sd > 1e-12].mean(axis=0)) / sd[sd > 1e-12]
    cohort = md.unit_attr("cohort").astype(float).to_numpy()
    region = (md.unit_attr("region").astype(str).to_numpy()
              if "region" in md.frame.columns else None)
    treated = np.zeros((n_u, n_t), bool)
    treated[md.unit, md.time] = md.d > 0
    times = np.asarray(md.coords["time"], dtype=float)
    event = times[None, :] - cohort[:, None]  # nan for never-treated units
    effect = treated.copy()
    lead = np.zeros_like(effect)
    if leads is not None:
        lo, hi = leads
        with np.errstate(invalid="ignore"):
            lead = observed & ~treated & (event >= lo) & (event <= hi)
        effect |= lead
    row, col = np.nonzero(effect)
    cells = pd.DataFrame({
        "row": row, "col": col, "unit": np.asarray(md.coords["unit"], dtype=object)[row],
        "time": np.asarray(md.coords["time"])[col], "cohort": cohort[row],
        "event_time": event[row, col], "lead": lead[row, col]})
    if region is not None:
        cells["region"] = region[row]
    return CityGrid(observed=observed, row_of=row_of, y=y, x=x, x_bar=x_bar, cohort=cohort,
                    region=region, cells=cells)
