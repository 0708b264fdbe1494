"""The index's curvature, from its indicators: an offset for the robust design's ``y(0)``.

The package's outcome is usually an entropy-TOPSIS index of yearbook indicators (levels such as
patents or GDP per head, shares and ratios) that grow roughly multiplicatively. The index is a
nonlinear function of them, so a city's untreated index path bends with the city's level (and a
common shock such as 2020's moves large cities' index more) even where each indicator's log
follows a city level, a city trend and common year effects. The robust design's untreated
mean is linear in a city level, a city trend and year effects on the index scale, so without
help it extrapolates those bends as straight lines (measured for issue 11 on null panels: the
2020 average of the treated cells' y(0) predicted 0.0038 too high, the regions' and cohorts'
averages off by up to 2x their spread; ``bench/untreated_indicators.py``).

:func:`curvature_offset` computes, on the model's grid (the cells it fits: the untreated
city-years of the estimation sample):

1. each indicator's log (its level where it is not positive) fitted by least squares with a
   level and a linear trend per city and a year effect per period (the imputation design of
   Borusyak, Jaravel & Spiess, per indicator) and predicted on every cell;
2. ``h``: the index of those predicted indicators, scored with the panel's fitted bounds,
   weights and ideal points (:meth:`bayes_resil.index.IndexFit.score`), as the index itself;
3. the offset ``c = h - P h``, with ``P h`` the same least-squares fit of ``h`` itself (city
   level, city trend, year effects on the fitted cells, predicted everywhere).

``c`` is the part of the indicators' predicted index path that a city level, a city trend and
year effects cannot carry: zero for a linear index of log-linear indicators, and orthogonal to
that design on the fitted cells, so the robust model fitted to ``y - c`` still sees every
city's level and trend (its error structure and their uncertainty stay the model's) and only
the bend is moved out. Its imputation of a treated cell is then ``c + y~(0)``: on a least-
squares version of the model, the index of the imputed indicators plus the linear
extrapolation of the city's index residual (``h + P(y - h)``). ``c`` is a fixed offset (the
uncertainty of its own coefficients is second order: a curvature times an estimation error);
the calibration study measures what that leaves.

The fit concentrates out each city's level and trend (a 2 x 2 system per city) and solves a
``T x T`` system for the year effects, so it costs ``O(U T^2 K)`` for ``U`` cities, ``T``
periods and ``K`` indicators: no dense ``U``-column design.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..index import IndexFit
from .grid import CityGrid
from .untreated_mean import trend_free_basis
from .within_city import city_trend


def level_trend_year_fit(values: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """Least squares of each column of ``values (U, T, K)`` on a level and a trend per unit and
    a year effect per period, on the cells where ``fit (U, T)`` is true; the fitted values on
    every cell (U, T, K). Cells outside ``fit`` may hold anything (NaN included).

    The unit parameters are concentrated out and the year effects solved on the profiles
    orthogonal to a constant and a linear trend: they carry neither (the units' levels and
    trends do; where every unit has two fitted periods the fitted values do not depend on that
    choice), and a unit with one fitted period gets a level, no trend, and follows the year
    effects."""
    values = np.asarray(values, float)
    squeeze = values.ndim == 2
    v = values[..., None] if squeeze else values
    m = np.asarray(fit, float)
    n_t = m.shape[1]
    z = np.stack([np.ones(n_t), city_trend(n_t)], axis=1)  # (T, 2)
    vf = np.where(fit[..., None], v, 0.0)
    mz = m[:, :, None] * z[None]  # (U, T, 2)
    mz[m.sum(axis=1) < 2, :, 1] = 0.0  # one fitted period: a level, no trend
    a_inv = np.linalg.pinv(np.einsum("utp,tq->upq", mz, z), hermitian=True)  # (U, 2, 2)
    proj = np.einsum("utp,upq,usq->uts", mz, a_inv, mz)  # (U, T, T): the unit's hat matrix
    gram = np.diag(m.sum(axis=0)) - proj.sum(axis=0)
    rhs = vf.sum(axis=0) - np.einsum("uts,usk->tk", proj, vf)
    # the gram's null space is the constant and the trend: solved on the basis orthogonal to
    # them (a pseudo-inverse's cutoff kept a null direction on some panels: normal equations
    # off by 0.01)
    basis = trend_free_basis(z[:, 1])  # (T - 2, T)
    year = basis.T @ np.linalg.lstsq(basis @ gram @ basis.T, basis @ rhs, rcond=None)[0]
    unit = np.einsum("upq,utq,utk->upk", a_inv, mz, vf - m[:, :, None] * year[None])
    out = np.einsum("tp,upk->utk", z, unit) + year[None]  # unit[:, 1] = 0 without a trend
    return out[..., 0] if squeeze else out


def indicator_logs(x: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the indicators on their imputation scale, which columns are logged): the log of each
    indicator positive on every observed cell, the indicator itself otherwise."""
    logged = (x[observed] > 0).all(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(logged, np.log(np.where(x > 0, x, 1.0)), x)
    return out, logged


def curvature_offset(g: CityGrid, frame: pd.DataFrame, index: IndexFit) -> np.ndarray:
    """The offset ``c (U, T)`` of the module docstring on the grid ``g`` (zero outside the
    estimation sample); ``frame`` holds the estimation sample's rows (``g.row_of``) with the
    index's indicator columns."""
    observed, fit = g.observed, g.untreated
    x_rows = frame[index.names].to_numpy(float)
    x = np.full((*observed.shape, len(index.names)), np.nan)
    x[observed] = x_rows[g.row_of[observed]]
    complete = observed & np.isfinite(x).all(axis=-1)
    scaled, logged = indicator_logs(x, complete)
    predicted = level_trend_year_fit(scaled, fit & complete)
    predicted = np.where(logged, np.exp(predicted), predicted)
    h = np.zeros(observed.shape)
    cols = pd.DataFrame(predicted[observed], columns=index.names)
    h[observed] = index.score(cols).to_numpy()
    c = h - level_trend_year_fit(h, fit)
    return np.where(observed, c, 0.0)
