"""Prior families and the role of each of their parameters.

A prior is a PyMC family plus parameters, and what scaling it to the outcome's standard
deviation ``c`` means depends on each parameter's role, not on its name: if ``Y`` has the
prior in outcome-sd units, the prior in outcome units is the law of ``X = c Y``. For a
location-scale family that multiplies locations and scales by ``c``; a rate (Exponential
``lam``, Gamma ``beta``) is divided by ``c``, a precision (``tau``, StudentT ``lam``) by
``c**2``; shapes (degrees of freedom, Gamma / Weibull ``alpha``) are unchanged; the
log-location of a LogNormal moves by ``log c`` and its log-scale is unchanged. Families whose
support is bounded or fixed (Beta, Kumaraswamy, LogitNormal, VonMises, ChiSquared) cannot be
rescaled: as priors of quantities in outcome units they are refused with what to use instead;
as priors of unitless quantities (the city-scale spread, degrees of freedom, correlations)
every family here is allowed.

``tests/test_priors.py`` checks every family against the change-of-variables identity
``log p_X(c y) = log p_Y(y) - log c`` and against closed-form moments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import InputError

LOCATION, SCALE, RATE, PRECISION, SHAPE, LOG_LOCATION = (
    "location", "scale", "rate", "precision", "shape", "log_location")

#: family -> {parameter: role}
FAMILIES: dict[str, dict[str, str]] = {
    "Normal": {"mu": LOCATION, "sigma": SCALE, "tau": PRECISION},
    "StudentT": {"nu": SHAPE, "mu": LOCATION, "sigma": SCALE, "lam": PRECISION},
    "Cauchy": {"alpha": LOCATION, "beta": SCALE},
    "Laplace": {"mu": LOCATION, "b": SCALE},
    # PyMC's AsymmetricLaplace b multiplies x in the density: a rate
    "AsymmetricLaplace": {"mu": LOCATION, "b": RATE, "kappa": SHAPE, "q": SHAPE},
    "Logistic": {"mu": LOCATION, "s": SCALE},
    "Gumbel": {"mu": LOCATION, "beta": SCALE},
    "Moyal": {"mu": LOCATION, "sigma": SCALE},
    "SkewNormal": {"mu": LOCATION, "sigma": SCALE, "tau": PRECISION, "alpha": SHAPE},
    "ExGaussian": {"mu": LOCATION, "sigma": SCALE, "nu": SCALE},
    "TruncatedNormal": {"mu": LOCATION, "sigma": SCALE, "tau": PRECISION, "lower": LOCATION,
                        "upper": LOCATION},
    "Uniform": {"lower": LOCATION, "upper": LOCATION},
    "Triangular": {"lower": LOCATION, "upper": LOCATION, "c": LOCATION},
    "Flat": {},
    "ZeroSumNormal": {"sigma": SCALE},
    "LogNormal": {"mu": LOG_LOCATION, "sigma": SHAPE, "tau": SHAPE},
    "HalfNormal": {"sigma": SCALE, "tau": PRECISION},
    "HalfStudentT": {"nu": SHAPE, "sigma": SCALE, "lam": PRECISION},
    "HalfCauchy": {"beta": SCALE},
    "HalfFlat": {},
    "Exponential": {"lam": RATE, "scale": SCALE},
    "Gamma": {"alpha": SHAPE, "beta": RATE, "mu": SCALE, "sigma": SCALE},
    "InverseGamma": {"alpha": SHAPE, "beta": SCALE, "mu": SCALE, "sigma": SCALE},
    "Weibull": {"alpha": SHAPE, "beta": SCALE},
    "Pareto": {"alpha": SHAPE, "m": SCALE},
    "Wald": {"mu": SCALE, "lam": SCALE, "phi": SHAPE, "alpha": LOCATION},
    "Rice": {"nu": SCALE, "sigma": SCALE, "b": SHAPE},
    # fixed or bounded support: unitless quantities only
    "Beta": {"alpha": SHAPE, "beta": SHAPE, "mu": SHAPE, "sigma": SHAPE, "nu": SHAPE},
    "Kumaraswamy": {"a": SHAPE, "b": SHAPE},
    "LogitNormal": {"mu": SHAPE, "sigma": SHAPE, "tau": SHAPE},
    "VonMises": {"mu": SHAPE, "kappa": SHAPE},
    "ChiSquared": {"nu": SHAPE},
}

#: families that cannot be rescaled (bounded or fixed support)
UNSCALABLE = {"Beta", "Kumaraswamy", "LogitNormal", "VonMises", "ChiSquared"}

#: the parameters a hierarchical layer's parent location and scale are passed as
LOC_SCALE = {f: (next((p for p, r in roles.items() if r == LOCATION), None),
                 next((p for p, r in roles.items() if r == SCALE), None))
             for f, roles in FAMILIES.items()}


def family(name: str, dist: str) -> dict[str, str]:
    """The parameter roles of family ``dist`` (prior ``name`` for the message)."""
    if dist not in FAMILIES:
        raise InputError(f"prior.{name}.dist={dist!r} is not a supported family; use one of "
                         f"{sorted(FAMILIES)} (each parameter's role decides how the prior is "
                         "scaled to the outcome: bayes_resil/bayes/prior_families.py)")
    return FAMILIES[dist]


def check_params(name: str, dist: str, params: Mapping[str, float]) -> None:
    roles = family(name, dist)
    unknown = sorted(set(params) - set(roles))
    if unknown:
        raise InputError(f"prior.{name}: {dist} does not take {unknown}; its parameters are "
                         f"{sorted(roles)}")


def scaled(name: str, dist: str, params: Mapping[str, float], c: float) -> dict[str, float]:
    """``params`` of family ``dist`` for ``X = c Y`` when ``Y`` has ``params``."""
    check_params(name, dist, params)
    if dist in UNSCALABLE and c != 1.0:
        raise InputError(f"prior.{name}: {dist} has a fixed support and cannot be put in the "
                         "outcome's units; use a location-scale family (Normal, StudentT, "
                         "HalfNormal, Exponential, ...) or set prior.scale_by_outcome_sd=false")
    return _by_role(dist, params, c, math.log(c))


def scaled_tensors(dist: str, params: Mapping[str, float], c, shift=0.0) -> dict:
    """:func:`scaled` (parameters checked there) with the factor ``c`` and a ``shift`` of every
    location as tensors: the same values, computed in the model's graph from data containers,
    so that models of panels that differ only in their data have the same graph (a compiled
    model can then be reused; :mod:`.compile_cache`)."""
    import pytensor.tensor as pt

    return _by_role(dist, params, c, pt.log(c), shift)


def _by_role(dist: str, params: Mapping[str, float], c, log_c, shift=0.0) -> dict:
    """Each parameter moved by its role: locations and scales times ``c`` (locations then
    plus ``shift``), rates over ``c``, precisions over ``c**2``, log-locations plus
    ``log_c``, shapes kept."""
    roles = FAMILIES[dist]
    factor = {LOCATION: c, SCALE: c, RATE: 1.0 / c, PRECISION: 1.0 / c ** 2, SHAPE: 1.0}
    out = {}
    for key, value in params.items():
        role = roles[key]
        if role == LOG_LOCATION:
            out[key] = float(value) + log_c
        else:
            out[key] = float(value) * factor[role] + (shift if role == LOCATION else 0.0)
    return out


def with_location_shift(dist: str, params: Mapping, shift) -> dict:
    """An intercept's parameters centred on ``shift`` (the outcome mean): every location
    parameter moves (a Uniform's lower and upper, a TruncatedNormal's bounds), the first one
    is set to 0 first when it is not given."""
    loc = LOC_SCALE[dist][0]
    out = {loc: 0.0, **params}
    return {k: v + shift if FAMILIES[dist][k] == LOCATION else v for k, v in out.items()}


def layer_params(name: str, dist: str, extra: Mapping[str, float], loc, scale) -> dict:
    """The parameters of a hierarchical layer of family ``dist`` with parent ``loc`` and
    ``scale`` (tensors) and the layer's own fixed ``extra`` parameters (shapes: a StudentT's
    ``nu``)."""
    check_params(name, dist, extra)
    loc_name, scale_name = LOC_SCALE[dist]
    if loc_name is None or scale_name is None:
        raise InputError(f"prior.{name}.dist={dist}: a hierarchical layer needs a location-scale "
                         "family (Normal, StudentT, Laplace, Logistic, Cauchy, Gumbel, ...)")
    fixed = sorted(k for k in extra if FAMILIES[dist][k] != SHAPE)
    if fixed:
        raise InputError(f"prior.{name}: the layer's location and scale come from the model; "
                         f"set only its shape parameters (not {fixed})")
    return {**{k: float(v) for k, v in extra.items()}, loc_name: loc, scale_name: scale}
