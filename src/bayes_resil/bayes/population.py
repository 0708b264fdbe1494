"""Population-level effects: the treated units as draws from a population of such units.

The robust design's estimands (``att``, ``att[East]``, ...) are averages of the effects on the
treated unit-periods **of this panel** (the sample average treatment effect on the treated,
what the simulator's ``truth.csv`` holds). Their posterior is narrow: the effects of these
cities are nearly observed, only their untreated outcomes are imputed. A reader who wants to
generalise to cities like these -- what a standard error clustered by city aims at -- needs
the effect in the population the treated cities are drawn from, whose uncertainty also
carries the heterogeneity of the effect across cities.

Here that population is left unspecified (no parametric model for how effects vary across
cities): each posterior draw of the cell effects is reweighted by a Bayesian bootstrap over
the treated units (Rubin 1981: unit weights ``g_u ~ Exponential(1)``, i.e. Dirichlet(1, ...,
1) after normalising), and every estimand is the weighted average of its cells with weight
``w_c g_u(c)`` (so a unit counts with its number of cells, as in the sample estimand). For a
fixed set of effects the variance of such a draw is that of the cluster bootstrap of the
ratio estimator, ``n / (n + 1)`` times its linearised (CR0) variance: the Bayesian
counterpart of the imputation estimator's clustered standard error. Rows carry the method
``bayes_<model>_population`` (see :func:`.summarise.posterior_rows`).
"""

from __future__ import annotations

import numpy as np

#: suffix of the method of population-level rows
POPULATION = "_population"


def bootstrap_averages(tau: np.ndarray, cell_unit: np.ndarray, weights: np.ndarray,
                       rng: np.random.Generator, chunk: int = 500) -> np.ndarray:
    """Population-level draws of the estimands ``weights`` (E, C) average over cells.

    ``tau`` (D, C): posterior draws of the cell effects; ``cell_unit`` (C,): each cell's unit
    (any integer labels). One Bayesian-bootstrap weight vector over the units per draw;
    draws are processed in chunks so memory stays ``chunk x C`` whatever ``D``.
    Returns (D, E)."""
    units, unit_of = np.unique(cell_unit, return_inverse=True)
    out = np.empty((tau.shape[0], weights.shape[0]))
    for start in range(0, tau.shape[0], chunk):
        t = tau[start:start + chunk]
        g = rng.exponential(size=(len(t), len(units)))[:, unit_of]  # (d, C)
        out[start:start + chunk] = ((t * g) @ weights.T) / (g @ weights.T)
    return out
