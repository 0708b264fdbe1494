"""Within-city error structure of the robust design, and its exact Gaussian likelihood.

Each city's vector of untreated outcomes over the ``T`` periods is multivariate normal around
the mean of the design with covariance ``s_i^2 Sigma`` (``model.errors``):

* ``within_city`` (default): ``Sigma = sigma_a^2 11' + sigma_b^2 tt' + sigma_w^2 min(s, t)
  + sigma_e^2 I`` -- the city level (integrated out, so it is a random effect whose mean
  depends on the cohort and the control means: correlated random effects), a city-specific
  linear trend, a random walk (persistent shocks) and transitory noise. It nests the two
  failures measured in issue 11: iid errors (intervals 3-5x too narrow when shocks persist)
  and AR(1) errors alone (the autocorrelation ran to the unit root). With
  ``model.trend_groups`` (default) the trend sd ``sigma_b`` differs between never-treated and
  treated cities (:func:`trend_groups`);
* ``iid``: ``sigma_a^2 11' + sigma_e^2 I`` (a random city level and independent errors).

``s_i`` are city scales (``model.city_scales=true``): ``log s_i = scale_sd * z_i`` with
zero-sum standard-normal ``z``, so megacities may have larger shocks than county-level cities
(measured: treated cities' residual sd 0.0015 vs 0.0009 for never-treated ones).

The likelihood is exact and written per observation so that the outcome stays an observed
variable (pointwise log-likelihood for PSIS-LOO, posterior predictive draws): with ``L`` the
Cholesky factor of ``Sigma`` and ``z = L^-1 (y_i - mu_i) / s_i``, the outcome of period ``t``
given the city's earlier periods is ``Normal(mu_it + s_i sum_{r<t} L_tr z_r, s_i L_tt)`` and
the product of these conditionals is the joint density (computed by a Kalman filter). So the
posterior predictive of ``y`` is one step ahead within each city (given the city's observed
earlier periods), and its pointwise log-likelihood is that of the sequential conditionals.
The likelihood covers the untreated city-years only (:func:`filtered_likelihood`); treated
cells and cells outside the estimation sample are marginalised exactly.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..errors import InputError
from ..schema import Errors, values
from .kalman import kalman_filter
from .priors import PriorSet

#: values of ``model.errors`` in the robust design
ERRORS = values(Errors)


def conditional_draws(y: np.ndarray, mean: np.ndarray, cov: np.ndarray, scale: np.ndarray,
                      fit: np.ndarray, target: np.ndarray, rng: np.random.Generator
                      ) -> np.ndarray:
    """Exact draws of one city's untreated outcomes on the ``target`` periods given its
    fitted ones, for every posterior draw: ``y (T,)`` observed outcomes; ``mean (D, T)``,
    ``cov (D, T, T)``, ``scale (D,)`` per draw; ``fit`` / ``target`` boolean masks (T,).
    Returns (D, n_target)."""
    mu_t = mean[:, target]
    c_tt = cov[:, target][:, :, target]
    if fit.any():
        c_ff = cov[:, fit][:, :, fit]
        c_tf = cov[:, target][:, :, fit]
        gain = np.linalg.solve(c_ff, np.swapaxes(c_tf, 1, 2))  # (D, nf, nt)
        resid = y[fit][None, :] - mean[:, fit]
        mu_t = mu_t + np.einsum("dft,df->dt", gain, resid)
        c_tt = c_tt - np.einsum("dtf,dfs->dts", c_tf, gain)
    c_tt = 0.5 * (c_tt + np.swapaxes(c_tt, 1, 2))
    jitter = 1e-12 * np.trace(c_tt, axis1=1, axis2=2)[:, None, None] * np.eye(c_tt.shape[1])
    chol = np.linalg.cholesky(c_tt + jitter)
    noise = np.einsum("dts,ds->dt", chol, rng.standard_normal(mu_t.shape))
    return mu_t + scale[:, None] * noise


def error_names(cfg: Mapping) -> list[str]:
    """The error-structure parameters a robust model creates (for diagnostics)."""
    names = ["unit_sd", "sigma"]
    if _errors(cfg) == "within_city":
        names += ["trend_sd", "walk_sd"]
    if bool(cfg.get("city_scales", True)):
        names.append("scale_sd")
    return names


def _errors(cfg: Mapping) -> str:
    errors = str(cfg.get("errors", "within_city"))
    if errors not in ERRORS:
        raise InputError(f"model.errors={errors!r}: choose one of {list(ERRORS)} (the robust "
                         "design); model.design=twfe has iid errors")
    return errors


#: names of the trend groups (``model.trend_groups``)
TREND_GROUPS = ("never_treated", "treated")


def trend_groups(cfg: Mapping, cohort: np.ndarray) -> np.ndarray | None:
    """Each unit's trend group (0 never treated, 1 treated) when the city trends' spread differs
    between the two (``model.trend_groups``, within-city errors, both groups present), else
    None. Measured on the default design (an OLS trend per city, 4 panels, by region): the
    treated cities' trends spread 1.1-15x more than the never-treated ones' (large cities, a
    convex index); one spread for all shrank the treated cities' trends too much."""
    if not bool(cfg.get("trend_groups", True)) or _errors(cfg) != "within_city":
        return None
    group = (~np.isnan(cohort)).astype(int)
    return group if 0 < group.sum() < group.size else None


def error_sds(priors: PriorSet, cfg: Mapping, n_times: int, groups: bool = False) -> dict:
    """The error structure's standard deviations (level, trend, walk, noise; 0 where the
    structure has no such part; ``groups``: the trend sd per trend group) and ``error_cov``,
    the implied ``Sigma`` (T x T, per trend group)."""
    errors = _errors(cfg)
    if errors == "within_city" and n_times < 4:
        raise InputError(f"model.errors=within_city needs at least 4 periods (the panel has "
                         f"{n_times}); set model.errors=iid")
    # the noise and walk sds on the real line (PriorSet.folded): under persistent shocks the
    # noise sd sits near 0, where its log-scale draws mixed slowly (bulk ESS 196-403 of 1,600)
    sds = {"level": priors("unit_sd", "unit_sd"), "noise": priors.folded("noise_sd", "sigma"),
           "trend": pt.constant(0.0), "walk": pt.constant(0.0)}
    if errors == "within_city":
        sds["trend"] = priors("trend_sd", "trend_sd", **({"dims": "trend_group"} if groups
                                                          else {}))
        sds["walk"] = priors.folded("walk_sd", "walk_sd")
    steps = np.arange(n_times)
    trend = city_trend(n_times)
    trend_var = pt.atleast_1d(sds["trend"] ** 2)[:, None, None]
    cov = (sds["level"] ** 2 * np.ones((n_times, n_times)) + sds["noise"] ** 2 * np.eye(n_times)
           + trend_var * np.outer(trend, trend)
           + sds["walk"] ** 2 * np.minimum.outer(steps, steps))
    if groups:
        pm.Deterministic("error_cov", cov, dims=("trend_group", "time", "time_"))
    else:
        pm.Deterministic("error_cov", cov[0], dims=("time", "time_"))
    return sds


def city_trend(n_times: int) -> np.ndarray:
    """The city trend's regressor: centred, one unit over the whole panel."""
    return (np.arange(n_times) - (n_times - 1) / 2) / max(n_times - 1, 1)


def city_log_scale(priors: PriorSet, cfg: Mapping):
    """``log s_i`` (zero-sum across cities), or None without city scales."""
    if not bool(cfg.get("city_scales", True)):
        return None
    # centred: each city has several untreated years, which pin its scale down (non-centred
    # scales gave the spread an ESS of ~25% of the draws)
    return pm.ZeroSumNormal("log_city_scale", priors("scale_sd", "scale_sd"), dims="unit")


def filtered_likelihood(mu, log_scale, sds: dict, fit: np.ndarray, y_data,
                        group: np.ndarray | None = None) -> None:
    """The exact likelihood of the cells ``fit`` (U x T mask): observed variable ``y`` over
    those cells in row-major order (``y_data``, dims ``obs``). ``group`` (U,): each unit's
    trend group, an index into ``sds["trend"]`` (None: one trend sd for all).

    The city errors are a state-space model (state: the local level = city level + random walk,
    which starts at the level and steps once per period, and the trend slope), so a Kalman
    filter (:mod:`.kalman`, one Op, each city with its trend group's variances) run over
    the periods for all cities at once gives each fitted cell's mean and variance given the
    city's earlier fitted cells: the sequential conditionals of the module docstring, without a
    matrix decomposition. Cells outside ``fit`` are skipped (no update), which removes them
    from the likelihood exactly."""
    n_u, n_t = fit.shape
    trend = city_trend(n_t)
    cells = pm.Data("fit_cells", np.flatnonzero(fit))  # row-major, as the obs order
    mask = pm.Data("fit_mask", fit.astype(float))
    y_grid = pt.set_subtensor(pt.zeros(fit.size)[cells], y_data).reshape(fit.shape)
    scale = pt.ones(n_u) if log_scale is None else pt.exp(log_scale)
    resid = (y_grid - mu) / scale[:, None]
    group = np.zeros(n_u, int) if group is None else np.asarray(group, int)
    trend_var = pt.atleast_1d(sds["trend"] ** 2)[pm.Data("trend_group_of_unit", group)]
    ones = pt.ones(n_u)
    v = pt.stack([ones * sds["level"] ** 2, trend_var, ones * sds["walk"] ** 2,
                  ones * sds["noise"] ** 2], axis=1)
    pred_mean, pred_var = kalman_filter(resid, mask, trend, v)
    cond_mean = (mu + scale[:, None] * pred_mean).reshape((-1,))[cells]
    cond_sd = (scale[:, None] * pt.sqrt(pred_var)).reshape((-1,))[cells]
    pm.Normal("y", cond_mean, cond_sd, observed=y_data, dims="obs")
