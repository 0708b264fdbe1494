"""Priors as configuration (config group ``prior``): a family plus parameters with known roles.

Each prior is ``{dist: <family>, <param>: <value>, ...}`` (schema:
:class:`bayes_resil.schema.PriorSpec`). When ``scale_by_outcome_sd`` is true, the prior is
given in units of the outcome's standard deviation and put in the outcome's units by the role
of each parameter (:mod:`.prior_families`: locations and scales multiplied, rates divided,
shapes kept, a LogNormal's log-location shifted), so one prior file fits any outcome and any
family a user picks scales correctly; families that cannot be rescaled are refused with what
to use instead. Priors of unitless quantities (:data:`UNSCALED`) are never scaled.

The hierarchical layers' families are priors too (:data:`LAYERS`): their location and scale
come from the model (a group mean and spread, a random walk's step size), the prior names the
family and its shape (``prior.group_effect.dist=StudentT prior.group_effect.nu=4``).
Users change any prior from the command line (``prior.effect.sigma=0.02``,
``prior.effect.dist=StudentT prior.effect.nu=3``), from Python
(``br.fit(..., effect={"dist": "Laplace", "mu": 0, "b": 0.5})``) or with a file in
``conf/prior/``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pymc as pm

from ..errors import InputError
from .prior_families import (
    LOC_SCALE,
    layer_params,
    scaled,
    scaled_tensors,
    with_location_shift,
)
from .prior_names import LAYERS, PRIOR_NAMES, UNSCALED

__all__ = ["FOLDED_PARENTS", "LAYERS", "PRIOR_NAMES", "UNSCALED", "PriorSet"]

#: half-symmetric families and their symmetric parent (family, its location parameter), for
#: :meth:`PriorSet.folded`
FOLDED_PARENTS = {"HalfNormal": ("Normal", "mu"), "HalfStudentT": ("StudentT", "mu"),
                  "HalfCauchy": ("Cauchy", "alpha")}


class PriorSet:
    """Builds PyMC random variables from the ``prior`` config, scaled to the outcome sd."""

    def __init__(self, cfg: Mapping, outcome_sd: float, outcome_mean: float = 0.0, *,
                 as_data: bool = False):
        self.cfg = cfg
        self.scaled = bool(cfg.get("scale_by_outcome_sd", True))
        self.sd = float(outcome_sd) if self.scaled else 1.0
        self.mean = float(outcome_mean)
        self.as_data = as_data

    def spec(self, name: str) -> tuple[str, dict[str, float]]:
        """Family and parameters of prior ``name`` as configured (unscaled; unset parameters
        of the typed config, None, left out)."""
        node = self.cfg.get(name)
        if node is None:
            known = sorted(k for k in self.cfg if k in PRIOR_NAMES or k in LAYERS)
            raise InputError(f"prior '{name}' is not set in the prior config; known: {known}")
        spec = {k: v for k, v in dict(node).items() if v is not None}
        dist = spec.pop("dist", None)
        if not dist:
            raise InputError(f"prior.{name} needs a 'dist' (e.g. Normal, HalfNormal, StudentT)")
        return str(dist), {k: float(v) for k, v in spec.items()}

    def params(self, name: str) -> tuple[str, dict]:
        """Family and its parameters in the outcome's units."""
        dist, params = self.spec(name)
        out = scaled(name, dist, params, 1.0 if name in UNSCALED else self.sd)
        if name == "intercept":  # the grand mean is centred on the outcome's mean
            loc = LOC_SCALE[dist][0]
            if loc is None:
                raise InputError(f"prior.intercept.dist={dist}: the intercept needs a family "
                                 "with a location (Normal, StudentT, Laplace, ...)")
            out = with_location_shift(dist, out, self.mean)
        return dist, out

    def __call__(self, name: str, rv_name: str | None = None, **kwargs):
        """Create the random variable for prior ``name`` inside the current PyMC model. With
        ``as_data`` the outcome's sd and mean enter as data containers (``prior_scale``,
        ``prior_location``), not constants: the same values as :meth:`params`, and two panels
        of one design then build the same graph (a calibration study: :mod:`.compile_cache`).
        Not the default: the graph with constants compiled in ~24 s and sampled in ~20 s on
        the default design, with data containers in ~30 s and ~22-25 s."""
        dist, params = self._resolved(name)
        return _create(name, dist, rv_name or name, params, kwargs)

    def folded(self, name: str, rv_name: str, **kwargs):
        """A scale with a half-symmetric prior (HalfNormal, HalfStudentT, HalfCauchy) as the
        absolute value of its symmetric parent (``<rv_name>_signed``: Normal, StudentT, Cauchy
        centred at 0), a deterministic ``rv_name``: the same prior (``|X|`` of the parent has
        the half family's law), sampled on the real line instead of on the log scale. Where
        the data allow a scale near 0 (a variance component the data cannot separate from
        another), its log has a long left tail that NUTS crosses slowly; the signed parent
        passes through 0 smoothly. Other families: the usual variable (:meth:`__call__`)."""
        dist, params = self._resolved(name)
        parent = FOLDED_PARENTS.get(dist)
        if parent is None:
            return _create(name, dist, rv_name, params, kwargs)
        family, location = parent
        signed = _create(name, family, f"{rv_name}_signed", {**params, location: 0.0}, kwargs)
        return pm.Deterministic(rv_name, abs(signed), dims=kwargs.get("dims"))

    def _resolved(self, name: str) -> tuple[str, dict]:
        """Family and parameters of prior ``name`` as the model uses them (constants, or
        tensors of the data containers with ``as_data``)."""
        dist, params = self.params(name)  # checks the family and its parameters
        if not self.as_data:
            return dist, params
        if self.scaled and name not in UNSCALED:
            scale, location = self._data()
            _, raw = self.spec(name)
            if name == "intercept":  # centred on the outcome mean, as params() does
                raw = with_location_shift(dist, raw, 0.0)
            params = scaled_tensors(dist, raw, scale, location if name == "intercept" else 0.0)
        elif name == "intercept":  # unscaled: params() added the mean; the data's instead
            params = with_location_shift(dist, params, self._data()[1] - self.mean)
        return dist, params

    def _data(self):
        """The outcome's sd and mean as data containers of the current model (created once)."""
        model = pm.modelcontext(None)
        if "prior_scale" not in model.named_vars:
            pm.Data("prior_scale", self.sd)
            pm.Data("prior_location", self.mean)
        return model["prior_scale"], model["prior_location"]

    def layer(self, name: str, rv_name: str, loc, scale, *, centred: bool = True, **kwargs):
        """Values of hierarchical layer ``name`` (:data:`LAYERS`) around ``loc`` with scale
        ``scale``: drawn directly (centred) or as ``loc + scale * z`` with ``z`` from the
        standard member of the family (non-centred; ``rv_name + "_z"``)."""
        dist, extra = self.spec(name)
        if centred:
            return _create(name, dist, rv_name, layer_params(name, dist, extra, loc, scale),
                           kwargs)
        z = _create(name, dist, f"{rv_name}_z", layer_params(name, dist, extra, 0.0, 1.0),
                    kwargs)
        return loc + scale * z

    def describe(self) -> dict[str, str]:
        """Human-readable scaled priors, for the report."""
        out = {}
        for name in [*PRIOR_NAMES, *LAYERS]:
            if self.cfg.get(name) is not None:
                dist, params = self.spec(name) if name in LAYERS else self.params(name)
                out[name] = f"{dist}(" + ", ".join(f"{k}={v:.4g}" for k, v in params.items()) + ")"
        return out


def _create(name: str, dist: str, rv_name: str, params: dict, kwargs: dict):
    """The random variable; ``dist`` and ``params`` were checked by :func:`.scaled` /
    :func:`.layer_params`."""
    try:
        return getattr(pm, dist)(rv_name, **params, **kwargs)
    except TypeError as exc:
        raise InputError(f"prior.{name}: {dist} does not take {sorted(params)} ({exc})"
                         ) from None
