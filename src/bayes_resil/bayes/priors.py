"""Priors as configuration (config group ``prior``).

Each prior is a mapping ``{dist: <PyMC distribution name>, <param>: <value>, ...}``. When
``scale_by_outcome_sd`` is true, location and scale parameters are in units of the outcome's
standard deviation and are multiplied by it (rates divided by it), so one prior file fits any
outcome; unitless priors (``noise_df``, the Student-t degrees of freedom) are never scaled.
Users change any prior from the command line (``prior.effect.sigma=0.02``,
``prior.effect.dist=StudentT +prior.effect.nu=3``) or add a file to ``conf/prior/``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pymc as pm

from ..errors import InputError

#: how each distribution parameter scales with the outcome: loc/scale multiply, rate divides
PARAM_SCALE = {"mu": "loc", "sigma": "scale", "beta": "scale", "alpha": None, "nu": None,
               "lam": "rate", "lower": "loc", "upper": "loc"}

#: the prior names the models use, and what they govern
PRIOR_NAMES = {
    "intercept": "grand mean of the unit levels",
    "unit_sd": "spread of the unit effects (robust design: of the integrated city levels)",
    "time_effect": "time effects (zero-sum; a fixed wide scale makes them fixed effects)",
    "beta": "coefficients of the (standardised) controls",
    "mundlak": "unit-level coefficients on the unit means of treatment and controls (robust "
               "design: on the city characteristics in the means of the city levels and trends)",
    "effect": "treatment effect, or the mean of the group effects",
    "effect_spread": "spread of group effects / step size of the event-time random walk",
    "noise_sd": "residual standard deviation (the scale, for Student-t errors); in the robust "
                "design the sd of the transitory within-city noise",
    "trend_sd": "robust design: sd of the city-specific linear trends (over the whole panel)",
    "walk_sd": "robust design: sd of the yearly steps of the within-city random walk",
    "covariate_year": "robust design: how the year effects depend on each city characteristic "
                      "(model.covariate_years), per sd of the characteristic",
    "scale_sd": "robust design: sd of the log city error scales (unitless, never scaled)",
    "noise_df": "degrees of freedom of Student-t errors (model.likelihood=student_t); unscaled",
    "first_stage": "instrument coefficient in the IV first stage",
    "mediator_path": "effect of treatment on the mediator (a-path)",
    "outcome_path": "effect of the mediator on the outcome (b-path)",
}


#: priors on quantities without the outcome's units (never scaled by its sd)
UNSCALED = {"noise_df", "scale_sd"}


class PriorSet:
    """Builds PyMC random variables from the ``prior`` config, scaled to the outcome sd."""

    def __init__(self, cfg: Mapping, outcome_sd: float, outcome_mean: float = 0.0):
        self.cfg = cfg
        self.scaled = bool(cfg.get("scale_by_outcome_sd", True))
        self.sd = float(outcome_sd) if self.scaled else 1.0
        self.mean = float(outcome_mean)

    def spec(self, name: str) -> dict:
        if name not in self.cfg:
            raise InputError(f"prior '{name}' is not set in the prior config; known: "
                             f"{sorted(k for k in self.cfg if k in PRIOR_NAMES)}")
        spec = dict(self.cfg[name])
        if "dist" not in spec:
            raise InputError(f"prior.{name} needs a 'dist' (e.g. Normal, HalfNormal, StudentT)")
        return spec

    def params(self, name: str) -> tuple[str, dict]:
        """Distribution name and its scaled parameters."""
        spec = self.spec(name)
        dist = spec.pop("dist")
        out = {}
        for key, value in spec.items():
            kind = None if name in UNSCALED else PARAM_SCALE.get(key)
            v = float(value)
            if kind in ("loc", "scale"):
                v *= self.sd
            elif kind == "rate":
                v /= self.sd
            out[key] = v
        if name == "intercept":
            out["mu"] = out.get("mu", 0.0) + self.mean
        return dist, out

    def __call__(self, name: str, rv_name: str | None = None, **kwargs):
        """Create the random variable for prior ``name`` inside the current PyMC model."""
        dist, params = self.params(name)
        try:
            cls = getattr(pm, dist)
        except AttributeError:
            raise InputError(f"prior.{name}.dist={dist!r} is not a PyMC distribution") from None
        try:
            return cls(rv_name or name, **params, **kwargs)
        except TypeError as exc:
            raise InputError(f"prior.{name}: {dist} does not take {sorted(params)} ({exc})"
                             ) from None

    def describe(self) -> dict[str, str]:
        """Human-readable scaled priors, for the report."""
        out = {}
        for name in PRIOR_NAMES:
            if name in self.cfg:
                dist, params = self.params(name)
                out[name] = f"{dist}(" + ", ".join(f"{k}={v:.4g}" for k, v in params.items()) + ")"
        return out
