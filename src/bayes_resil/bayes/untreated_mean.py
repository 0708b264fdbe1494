"""The mean of the untreated outcome ``y(0)`` in the robust design (a ``(U, T)`` tensor).

::

    mu_it = alpha + lambda_t + x_it' b                         year effects, controls
            + z_i' c                                           mean of the city level
            + (z_i' m) h_t                                     mean of the city trend
            + xbar_i' delta_t                                  covariate-specific years

``z_i`` are city-level characteristics (:func:`city_design`): cohort dummies, region dummies
(when the panel has a region column) and the principal components of the city means of the
controls (:func:`whitened`). The city level and the city trend of :mod:`.within_city` are
random effects around these means (correlated random effects, Mundlak 1978; prior
``mundlak``), so cities are shrunk towards cities like them rather than towards the average
city (``model.trend_mean``; the level means are always on). A cohort's mean trend is learned
from its untreated years and extrapolated over its treated ones, which widens the intervals
when the post-periods are long (pyfixest's ``df_het``, 20 post-years: posterior sd of ``att``
0.064 with, 0.020 without; README). By default (``model.trend_mean=null``) the trend means are
on for an outcome imputed as it is and off where the index's curvature has been taken out of
it (:mod:`.index_curvature`: the grid's ``offset``): there the cohort trends over-corrected
(100 panels: ``att`` bias -0.0010, coverage 0.83, against -0.0001 without them).

``delta_t`` (``model.covariate_years``) lets the year effects differ with the cities'
characteristics: parallel trends conditional on the control means (as in Callaway &
Sant'Anna's covariate-adjusted estimators). Each component has ``T - 2`` coefficients on an
orthonormal basis of the period profiles orthogonal to the constant and the linear trend
(those are the level and trend means above), with the wide fixed prior ``covariate_year``.
On the default design the 2020 shock moves the index of large cities more than that of small
ones, which year effects common to all cities cannot absorb: without these terms the
intervals of ``att[cohort=2019]`` / ``att[cohort=2020]`` covered 0.68 / 0.55 (100 panels).

Everything here is estimated from the untreated cells only (the likelihood of
:func:`.within_city.filtered_likelihood`); the terms are functions of the city and the
period, never of treatment, so they add no forbidden comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .grid import CityGrid
from .priors import PriorSet
from .year_increments import increments_transform


def _dummies(values: np.ndarray) -> np.ndarray:
    """Dummies of every value but the first (sorted) one, the baseline."""
    levels = sorted(set(values.tolist()))[1:]
    if not levels:
        return np.zeros((len(values), 0))
    return np.column_stack([values == v for v in levels]).astype(float)


def city_design(g: CityGrid) -> dict[str, np.ndarray]:
    """City-level regressors ``z`` by kind: ``cohort`` (dummies; never-treated units are the
    baseline, without never-treated units the first cohort is), ``region`` (dummies, first
    region the baseline; only with two regions or more) and ``x_bar`` (:func:`whitened`)."""
    never = np.isnan(g.cohort)
    # never-treated units as -inf sort first and are the dropped baseline
    out = {"cohort": _dummies(np.where(never, -np.inf, g.cohort))}
    if g.region is not None and len(set(g.region.tolist())) > 1:
        out["region"] = _dummies(g.region)
    if g.x_bar.shape[1]:
        out["x_bar"] = whitened(g.x_bar)
    return {k: v for k, v in out.items() if v.shape[1]}


def whitened(x: np.ndarray) -> np.ndarray:
    """The principal components of the centred columns ``x``, each scaled to sd 1 (the same
    span). The control means are nearly collinear (GDP, income, consumption); as coefficients
    of correlated columns the level, trend and year terms were long posterior ridges (bulk ESS
    of 4-36 of 600 draws), as coefficients of orthogonal ones they are not."""
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    keep = s > 1e-8 * s[0] if s.size else np.zeros(0, bool)
    return u[:, keep] * np.sqrt(len(x))


def trend_free_basis(trend: np.ndarray) -> np.ndarray:
    """(T - 2, T): an orthonormal basis of the period profiles orthogonal to the constant and
    the linear trend."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(trend.size), trend]), mode="complete")
    return q[:, 2:].T


def _two_way_demeaned(g: CityGrid) -> np.ndarray:
    """The controls minus their city mean and their period mean (over the sample's cells): the
    same model, as the city means are in the city design and the period means in the year
    effects, but the slopes are no longer confounded with the levels (the within-between
    parametrisation of Bell & Jones 2015; on the default panel the slopes' bulk ESS rose from
    63 to 432 of 600 draws)."""
    obs, x = g.observed[:, :, None], g.x  # x is 0 outside the sample
    n_u = np.maximum(g.observed.sum(axis=1), 1)[:, None]
    within = np.where(obs, x - (x.sum(axis=1) / n_u)[:, None, :], 0.0)
    n_t = np.maximum(g.observed.sum(axis=0), 1)[:, None]
    return np.where(obs, within - (within.sum(axis=0) / n_t)[None], 0.0)


@dataclass(frozen=True)
class MeanTerm:
    """One linear term of ``mu``, with a Gaussian-family prior on its coefficients.

    A *city x period* term adds ``sum_ab F_ia C_ab V_tb`` (``features`` F (U, q), ``basis`` V
    (T, m), coefficients C (q, m)); a *cell* term adds ``x_it' C`` (``cells`` x (U, T, k),
    coefficients (k,)). ``shape`` is the random variable's shape (its values reshape to C),
    ``kwargs`` the dims / shape it is created with. The full model (:func:`untreated_mean`) and
    the exact-marginal engine (:mod:`.marginal`) read the same terms."""

    rv: str
    prior: str
    shape: tuple[int, ...]
    kwargs: dict = field(default_factory=dict)
    features: np.ndarray | None = None
    basis: np.ndarray | None = None
    cells: np.ndarray | None = None
    data: str = ""  # name of the data container(s) of the term's arrays


def trend_mean(cfg: Mapping, g: CityGrid) -> bool:
    """Whether the city trends have means (``model.trend_mean``; null: unless the grid's
    outcome has the index's curvature taken out, :mod:`.index_curvature`)."""
    value = cfg.get("trend_mean")
    return g.offset is None if value is None else bool(value)


def mean_terms(cfg: Mapping, g: CityGrid, trend: np.ndarray) -> list[MeanTerm]:
    """The linear terms of the untreated mean (module docstring), in model order."""
    n_u, n_t = g.shape
    ones_u, ones_t = np.ones((n_u, 1)), np.ones((n_t, 1))
    terms = [MeanTerm("intercept", "intercept", (), features=ones_u, basis=ones_t),
             MeanTerm("time_effect", "time_effect", (n_t,), {"dims": "time"},
                      features=ones_u, basis=np.eye(n_t))]
    if g.x.shape[2]:
        terms.append(MeanTerm("beta", "beta", (g.x.shape[2],), {"dims": "control"},
                              cells=_two_way_demeaned(g), data="x_grid"))
    design = city_design(g)
    level_names = {"cohort": "cohort_level", "region": "region_level", "x_bar": "mundlak_x"}
    for kind, z in design.items():
        terms.append(MeanTerm(level_names[kind], "mundlak", (z.shape[1],),
                              {"shape": z.shape[1]}, features=z, basis=ones_t,
                              data=f"city_{kind}"))
    if trend_mean(cfg, g) and design:
        z = np.hstack(list(design.values()))
        terms.append(MeanTerm("trend_mean", "mundlak", (z.shape[1],), {"shape": z.shape[1]},
                              features=z, basis=trend[:, None], data="city_design"))
    if bool(cfg.get("covariate_years", True)) and "x_bar" in design and n_t > 2:
        k = design["x_bar"].shape[1]
        terms.append(MeanTerm("covariate_year_raw", "covariate_year", (k, n_t - 2),
                              {"shape": (k, n_t - 2)}, features=design["x_bar"],
                              basis=trend_free_basis(trend).T, data="covariate_year"))
    return terms


def untreated_mean(priors: PriorSet, cfg: Mapping, g: CityGrid, trend: np.ndarray):
    """``mu`` (U, T) for the robust design; see the module docstring. ``trend`` is the city
    trend's regressor ``h``. Arrays enter as data containers, not constants: numba compiles
    constants into the code, and with them the model took minutes to compile."""
    mu = 0.0
    for term in mean_terms(cfg, g, trend):
        kwargs = dict(term.kwargs)
        if term.rv == "time_effect":  # NUTS moves on their increments (:mod:`.year_increments`)
            kwargs |= increments_transform(priors.spec(term.prior)[0], g.shape[1])
        coef = priors(term.prior, term.rv, **kwargs)
        if term.cells is not None:
            mu = mu + pt.tensordot(pm.Data(term.data, term.cells), coef, axes=[[2], [0]])
        elif term.rv == "intercept":
            mu = mu + coef
        elif term.rv == "time_effect":
            mu = mu + coef[None, :]
        elif term.basis.shape[1] == 1:  # a city-level coefficient per feature, one profile
            basis = term.basis[:, 0]
            values = pt.dot(pm.Data(term.data, term.features), coef)[:, None]
            mu = mu + (values if np.all(basis == 1.0) else values * basis[None, :])
        else:  # year effects by city characteristics
            delta = pt.dot(coef, pm.Data("trend_free", term.basis.T))
            pm.Deterministic("covariate_year", delta)
            mu = mu + pt.dot(pm.Data("x_unit_mean", term.features), delta)
    return mu
