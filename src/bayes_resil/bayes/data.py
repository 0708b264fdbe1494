"""Arrays and coordinates a Bayesian model needs, built once from the analysis panel.

Dimension names are fixed (ARCHITECTURE.md): ``obs``, ``unit``, ``time``, ``control``,
``region``, ``cohort``, ``event_time``, ``cell``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..index import IndexFit
from ..study import StudyData


@dataclass
class ModelData:
    """The estimation sample as NumPy arrays, with integer codes and coordinate labels."""

    frame: pd.DataFrame  # the rows used (listwise deletion over y, d and controls)
    y: np.ndarray
    d: np.ndarray
    unit: np.ndarray  # codes 0..U-1
    time: np.ndarray  # codes 0..T-1 (sorted periods)
    x: np.ndarray  # controls, standardised (n, K); K may be 0
    coords: dict[str, list] = field(default_factory=dict)
    controls: list[str] = field(default_factory=list)
    x_mean: np.ndarray | None = None
    x_sd: np.ndarray | None = None
    index: IndexFit | None = None  # the fitted index when ``y`` is the package's index

    @property
    def n(self) -> int:
        return int(self.y.size)

    @property
    def y_sd(self) -> float:
        return float(self.y.std())

    def unit_split(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(per-unit means (U, k), within-unit deviations (n, k)) of the columns of ``a``."""
        a = np.asarray(a, dtype=float)
        a2 = a[:, None] if a.ndim == 1 else a
        n_units = len(self.coords["unit"])
        sums = np.zeros((n_units, a2.shape[1]))
        np.add.at(sums, self.unit, a2)
        means = sums / np.bincount(self.unit, minlength=n_units)[:, None]
        return means, a2 - means[self.unit]

    def unit_attr(self, column: str) -> pd.Series:
        """A unit-level column (first value per unit), in unit-code order."""
        return self.frame.groupby("unit", sort=False)[column].first().reindex(
            self.coords["unit"])


def model_data(data: StudyData, controls: list[str], extra: list[str] | None = None
               ) -> ModelData:
    """Listwise deletion over ``y``, ``d``, ``controls`` (and ``extra`` columns); codes, coords."""
    need = ["y", "d", *controls, *(extra or [])]
    frame = data.panel.dropna(subset=need).reset_index(drop=True)
    if len(frame) < 10:
        raise InputError(f"only {len(frame)} complete rows for the Bayesian model")
    unit, units = pd.factorize(frame["unit"], sort=False)
    time, times = pd.factorize(frame["time"], sort=True)
    if controls:
        x = frame[controls].to_numpy(float)
        x_mean, x_sd = x.mean(axis=0), x.std(axis=0)
        x_sd = np.where(x_sd > 0, x_sd, 1.0)
        x = (x - x_mean) / x_sd
    else:
        x, x_mean, x_sd = np.zeros((len(frame), 0)), None, None
    coords = {"obs": np.arange(len(frame)).tolist(), "unit": [str(u) for u in units],
              "time": [int(t) for t in times], "control": list(controls)}
    return ModelData(frame=frame, y=frame["y"].to_numpy(float), d=frame["d"].to_numpy(float),
                     unit=unit.astype(np.int64), time=time.astype(np.int64), x=x, coords=coords,
                     controls=list(controls), x_mean=x_mean, x_sd=x_sd,
                     index=data.index_fit)
