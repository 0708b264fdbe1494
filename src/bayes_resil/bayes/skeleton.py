"""The shared two-way panel skeleton of every model: unit levels, time effects, controls.

``y_it = a_i + g_t + x_it' b + D_it' theta + e_it`` with

* unit levels ``a_i ~ Normal(alpha, sigma_u)`` partially pooled (hierarchical normal);
* time effects ``g_t`` zero-sum normal with a fixed wide scale (prior ``time_effect``): in
  effect fixed time effects. A learned scale shrank them by ~1% toward zero, and since
  treatment is more common in later (higher) years that shrinkage leaked into the effect;
* treatment design ``D`` (one column per effect parameter ``theta``, built by each model).

Correlated random effects (Mundlak 1978): the unit levels may depend on the units' means of the
treatment design and of the controls, ``a_i ~ Normal(alpha + Dbar_i' eta_D + xbar_i' eta_x,
sigma_u)`` with free coefficients ``eta``. Without these terms the hierarchical unit effects are
"random effects" assumed independent of treatment, and the between-unit contrast (treated
cities are larger) leaks into ``theta``: on the default panel the TWFE effect moved from the OLS
0.0281 to 0.0312 (2 posterior sd). With them, ``theta`` and ``b`` are identified from
within-unit variation only, as in the fixed-effects DID, while the unit effects stay partially
pooled.

Parametrisation (recorded in ARCHITECTURE.md): the unit levels are *centred* (each city has 13
observations, so the likelihood pins them down and the centred form mixes best), and the
likelihood uses the within-unit deviations ``x - xbar_i``, ``D - Dbar_i`` (the unit means are
absorbed by the Mundlak terms). This removes the ridge between ``theta``/``b`` and the unit
levels; on the default panel it raised the bulk ESS of the region effects from ~600 to ~6000
and of ``unit_sd`` from ~50-200 to ~4000, with no divergences.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..errors import InputError
from ..schema import Likelihood, values
from .data import ModelData
from .priors import PriorSet


def panel_mean(md: ModelData, priors: PriorSet, theta, design: np.ndarray, *,
               prefix: str = "") -> pt.TensorVariable:
    """Linear predictor of the skeleton (inside a ``pm.Model`` with coords from ``md``)."""
    alpha = priors("intercept", f"{prefix}intercept")
    sigma_u = priors("unit_sd", f"{prefix}unit_sd")
    time_effect = priors("time_effect", f"{prefix}time_effect", dims="time")
    d_bar, d_within = md.unit_split(design)
    # unit means of the treatment design and, for unbalanced panels, of the period dummies
    # (Wooldridge 2021: with them the two-way Mundlak model reproduces the FE estimator)
    t_bar, _ = md.unit_split(np.eye(len(md.coords["time"]))[md.time][:, 1:])
    means = np.column_stack([d_bar, t_bar])
    means = means[:, means.std(axis=0) > 1e-12]
    eta_d = priors("mundlak", f"{prefix}mundlak_d", shape=means.shape[1])
    level_mean = alpha + pt.dot(_scaled(means), eta_d)
    mu = time_effect[md.time] + pt.dot(d_within, theta)
    if md.x.shape[1]:
        beta = priors("beta", f"{prefix}beta", dims="control")
        x_bar, x_within = md.unit_split(md.x)
        eta_x = priors("mundlak", f"{prefix}mundlak_x", dims="control")
        level_mean = level_mean + pt.dot(_scaled(x_bar), eta_x)
        mu = mu + pt.dot(x_within, beta)
    unit_level = priors.layer("unit_level", f"{prefix}unit_level", level_mean, sigma_u,
                              dims="unit")
    return mu + unit_level[md.unit]


#: error distributions of ``model.likelihood``
LIKELIHOODS = values(Likelihood)
#: noise parameters a likelihood may create (models list them; diagnostics report those present)
NOISE_VARS = ["sigma", "nu"]


def likelihood(md: ModelData, priors: PriorSet, mu, cfg, *, name: str = "y",
               observed: np.ndarray | None = None, prefix: str = "") -> None:
    """Likelihood of the TWFE design: errors independent given the effects (``model.errors``
    applies to the robust design only, :mod:`.within_city`).

    ``model.likelihood=normal`` (default): Normal(mu, sigma). ``model.likelihood=student_t``:
    StudentT(nu, mu, sigma) with ``nu`` from prior ``noise_df`` (default Gamma(2, 0.1), not
    scaled): heavy tails, so a few extreme observations do not dominate; ``sigma`` is then the
    scale, not the sd, of the errors. Caution (measured, README): on the default panel the t
    likelihood reads the megacities' large treatment effects as outliers (nu -> 0.8) and the
    effect falls from 0.034 to 0.015, far below the true 0.048.

    Serial correlation within units is not modelled: posterior intervals are then narrower
    than cluster-robust CIs. We tried AR(1) errors within units: with unit effects the
    autocorrelation ran to 0.99 on the default panel (a first-difference estimator) and the
    staggered model had 575 divergences, so it is not offered.
    """
    y = md.y if observed is None else observed
    # the observed values as a data container (``<name>_observed``), so one compiled model
    # can be refitted to new outcomes (simulation-based calibration) without recompiling
    y = pm.Data(f"{name}_observed", y, dims="obs")
    family = str(cfg.get("likelihood", "normal"))
    sigma = priors("noise_sd", f"{prefix}sigma")
    if family == "normal":
        pm.Normal(name, mu, sigma, observed=y, dims="obs")
    elif family == "student_t":
        nu = priors("noise_df", f"{prefix}nu")
        pm.StudentT(name, nu=nu, mu=mu, sigma=sigma, observed=y, dims="obs")
    else:
        raise InputError(f"model.likelihood={family!r}: choose one of {list(LIKELIHOODS)}")


def require_normal(cfg, model: str) -> None:
    """The joint models (correlated or chained equations) have Normal errors only."""
    family = str(cfg.get("likelihood", "normal"))
    if family != "normal":
        raise InputError(f"model={model} has Normal errors only (model.likelihood={family!r} "
                         "is available for twfe, hetero_region, hetero_batch, event_study and "
                         "staggered)")


def _scaled(a: np.ndarray) -> np.ndarray:
    """Columns centred and scaled to unit sd (constant columns left at 0): keeps the Mundlak
    coefficients on the outcome-sd scale of their prior."""
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
