"""What every model returns: the PyMC model and how to read its estimands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import xarray as xr

from ..data import ModelData


@dataclass
class BuiltModel:
    """A PyMC model plus the information to summarise and compare it."""

    name: str
    model: pm.Model
    md: ModelData
    effect_vars: list[str]  # posterior variables holding reported treatment effects
    hyper_vars: list[str]  # hyperparameters that govern them
    estimands: Callable[[xr.Dataset], dict[str, xr.DataArray]]
    comparators: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    # estimand -> (ols method, ols estimand, outcome); filled by the model
    unpooled: dict[str, tuple[str, str]] = field(default_factory=dict)
    # estimand -> (ols method, ols estimand) of the unpooled subsample estimate
    pooled_mean_var: str | None = None  # posterior variable of the pooling mean, if any
    observed: list[str] = field(default_factory=lambda: ["y"])
    notes: list[str] = field(default_factory=list)
    complete: Callable[[xr.DataTree, int], None] | None = None
    # adds derived draws to the posterior after sampling (seeded), e.g. exact effect draws
    observed_rows: np.ndarray | None = None
    # rows of ``md`` the observed variable covers, in its order (None: all rows)
    effect_prior_note: str = ""  # why the effects have no prior draws, if they have none
    population: Callable[[xr.Dataset], dict[str, xr.DataArray]] | None = None
    # population-level estimands (:mod:`..population`), when the model has them
    marginal: Callable[[], object] | None = None
    # builds the hyperparameters' model of the exact-marginal engine (:mod:`..marginal`),
    # for the models it covers (the robust design)


def weighted_mean_matrix(groups: np.ndarray, n_groups: int, weights: np.ndarray
                         ) -> np.ndarray:
    """(n_groups,) weights normalised to sum to one (for an overall average of group effects)."""
    w = np.bincount(groups, weights=weights, minlength=n_groups).astype(float)
    return w / w.sum()


def ols_twfe_method(md: ModelData) -> str:
    return "twfe_controls" if md.controls else "twfe"
