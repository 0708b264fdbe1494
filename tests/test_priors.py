"""Priors as objects: every family scales to the outcome's units by its parameters' roles
(checked against the change-of-variables identity and closed-form moments), unscalable ones
are refused, hierarchical layers take any location-scale family, and a bad prior config is a
clear error at compose time."""

from __future__ import annotations

import math

import numpy as np
import pymc as pm
import pytest
from scipy import stats

from bayes_resil.app import compose
from bayes_resil.bayes.fit import prepare
from bayes_resil.bayes.prior_families import FAMILIES, UNSCALABLE, layer_params, scaled
from bayes_resil.bayes.priors import PriorSet
from bayes_resil.bayes.sampling import prior_predictive
from bayes_resil.errors import InputError

C = 0.37  # the outcome's sd: X = C * Y

#: (family, parameters in outcome-sd units, points of Y's support)
REAL = (-1.3, 0.2, 1.7)
POSITIVE = (0.3, 1.1, 2.5)
CASES = [
    ("Normal", {"mu": 0.3, "sigma": 1.2}, REAL),
    ("Normal", {"mu": 0.3, "tau": 2.0}, REAL),
    ("StudentT", {"nu": 4.0, "mu": 0.2, "sigma": 0.8}, REAL),
    ("StudentT", {"nu": 4.0, "mu": 0.0, "lam": 2.0}, REAL),
    ("Cauchy", {"alpha": 0.1, "beta": 0.7}, REAL),
    ("Laplace", {"mu": -0.2, "b": 0.5}, REAL),
    ("AsymmetricLaplace", {"mu": 0.1, "b": 0.6, "kappa": 1.5}, REAL),
    ("Logistic", {"mu": 0.2, "s": 0.4}, REAL),
    ("Gumbel", {"mu": 0.1, "beta": 0.9}, REAL),
    ("Moyal", {"mu": 0.0, "sigma": 0.7}, REAL),
    ("SkewNormal", {"mu": 0.0, "sigma": 1.0, "alpha": 2.0}, REAL),
    ("ExGaussian", {"mu": 0.0, "sigma": 0.5, "nu": 0.3}, REAL),
    ("TruncatedNormal", {"mu": 0.0, "sigma": 1.0, "lower": -0.5, "upper": 2.0}, (0.0, 0.7, 1.5)),
    ("Uniform", {"lower": -1.0, "upper": 2.0}, (0.0, 0.7, 1.5)),
    ("Triangular", {"lower": -1.0, "upper": 2.0, "c": 0.5}, (0.0, 0.7, 1.5)),
    ("LogNormal", {"mu": 0.2, "sigma": 0.6}, POSITIVE),
    ("HalfNormal", {"sigma": 1.0}, POSITIVE),
    ("HalfNormal", {"tau": 4.0}, POSITIVE),
    ("HalfStudentT", {"nu": 3.0, "sigma": 1.0}, POSITIVE),
    ("HalfCauchy", {"beta": 0.5}, POSITIVE),
    ("Exponential", {"lam": 2.0}, POSITIVE),
    ("Exponential", {"scale": 0.5}, POSITIVE),
    ("Gamma", {"alpha": 2.0, "beta": 3.0}, POSITIVE),
    ("Gamma", {"mu": 1.0, "sigma": 0.5}, POSITIVE),
    ("InverseGamma", {"alpha": 3.0, "beta": 2.0}, POSITIVE),
    ("InverseGamma", {"mu": 1.0, "sigma": 0.5}, POSITIVE),
    ("Weibull", {"alpha": 1.5, "beta": 2.0}, POSITIVE),
    ("Pareto", {"alpha": 3.0, "m": 0.2}, POSITIVE),
    ("Wald", {"mu": 1.0, "lam": 2.0}, POSITIVE),
    ("Wald", {"mu": 1.0, "phi": 2.0, "alpha": 0.1}, POSITIVE),
    ("Rice", {"nu": 1.0, "sigma": 0.5}, POSITIVE),
    ("Rice", {"b": 2.0, "sigma": 0.5}, POSITIVE),
]


def _logp(dist: str, params: dict, values) -> np.ndarray:
    rv = getattr(pm, dist).dist(**params)
    return np.array([pm.logp(rv, v).eval() for v in values], float)


def test_every_family_is_covered():
    tested = {f for f, _, _ in CASES} | UNSCALABLE | {"Flat", "HalfFlat", "ZeroSumNormal"}
    assert tested == set(FAMILIES)


@pytest.mark.parametrize(("dist", "params", "points"), CASES,
                         ids=[f"{d}-{'-'.join(p)}" for d, p, _ in CASES])
def test_scaled_prior_is_the_law_of_c_times_the_prior(dist, params, points):
    """Change of variables: X = C Y has log p_X(C y) = log p_Y(y) - log C."""
    y = np.array(points)
    out = scaled("p", dist, params, C)
    assert np.allclose(_logp(dist, out, C * y), _logp(dist, params, y) - math.log(C),
                       atol=1e-6, rtol=1e-6)


def test_zero_sum_normal_scales_its_sigma():
    y = np.array([0.4, -1.0, 0.6])  # sums to zero: n - 1 = 2 free dimensions
    rv = pm.ZeroSumNormal.dist(sigma=0.8, shape=3)
    out = scaled("p", "ZeroSumNormal", {"sigma": 0.8}, C)
    rv_c = pm.ZeroSumNormal.dist(**out, shape=3)
    assert np.isclose(pm.logp(rv_c, C * y).eval(), pm.logp(rv, y).eval() - 2 * math.log(C))


def _moments(dist: str, p: dict) -> tuple[float, float]:
    """Closed-form mean and variance (textbook formulas, not PyMC)."""
    g = math.gamma
    if dist == "Normal":
        return p["mu"], p["sigma"] ** 2
    if dist == "StudentT":
        return p["mu"], p["sigma"] ** 2 * p["nu"] / (p["nu"] - 2)
    if dist == "Laplace":
        return p["mu"], 2 * p["b"] ** 2
    if dist == "Logistic":
        return p["mu"], (p["s"] * math.pi) ** 2 / 3
    if dist == "Gumbel":
        return p["mu"] + 0.5772156649015329 * p["beta"], (math.pi * p["beta"]) ** 2 / 6
    if dist == "LogNormal":
        m, s2 = p["mu"], p["sigma"] ** 2
        return math.exp(m + s2 / 2), (math.exp(s2) - 1) * math.exp(2 * m + s2)
    if dist == "HalfNormal":
        return p["sigma"] * math.sqrt(2 / math.pi), p["sigma"] ** 2 * (1 - 2 / math.pi)
    if dist == "Exponential":
        return 1 / p["lam"], 1 / p["lam"] ** 2
    if dist == "Gamma":
        return p["alpha"] / p["beta"], p["alpha"] / p["beta"] ** 2
    if dist == "InverseGamma":
        a, b = p["alpha"], p["beta"]
        return b / (a - 1), b ** 2 / ((a - 1) ** 2 * (a - 2))
    if dist == "Weibull":
        a, b = p["alpha"], p["beta"]
        return b * g(1 + 1 / a), b ** 2 * (g(1 + 2 / a) - g(1 + 1 / a) ** 2)
    raise KeyError(dist)


@pytest.mark.parametrize(("dist", "params"), [
    ("Normal", {"mu": 0.3, "sigma": 1.2}), ("StudentT", {"nu": 5.0, "mu": 0.2, "sigma": 0.8}),
    ("Laplace", {"mu": -0.2, "b": 0.5}), ("Logistic", {"mu": 0.2, "s": 0.4}),
    ("Gumbel", {"mu": 0.1, "beta": 0.9}), ("LogNormal", {"mu": 0.2, "sigma": 0.6}),
    ("HalfNormal", {"sigma": 1.0}), ("Exponential", {"lam": 2.0}),
    ("Gamma", {"alpha": 2.0, "beta": 3.0}), ("InverseGamma", {"alpha": 3.5, "beta": 2.0}),
    ("Weibull", {"alpha": 1.5, "beta": 2.0})])
def test_scaled_prior_has_the_scaled_closed_form_moments(dist, params):
    mean, var = _moments(dist, params)
    mean_c, var_c = _moments(dist, scaled("p", dist, params, C))
    assert np.isclose(mean_c, C * mean) and np.isclose(var_c, C ** 2 * var)


def test_unscalable_and_unknown_families_and_parameters_are_refused():
    for dist in UNSCALABLE:
        with pytest.raises(InputError, match="fixed support"):
            scaled("effect", dist, {}, C)
        assert scaled("correlation", dist, {}, 1.0) == {}  # unitless: allowed
    with pytest.raises(InputError, match="not a supported family.*Normal"):
        scaled("effect", "Normall", {}, C)
    with pytest.raises(InputError, match=r"Laplace does not take \['sigma'\].*\['b', 'mu'\]"):
        scaled("effect", "Laplace", {"sigma": 1.0}, C)
    with pytest.raises(InputError, match="location-scale family"):
        layer_params("group_effect", "HalfNormal", {}, 0.0, 1.0)
    with pytest.raises(InputError, match="only its shape"):
        layer_params("group_effect", "StudentT", {"mu": 1.0}, 0.0, 1.0)
    assert layer_params("group_effect", "Laplace", {}, 0.5, 2.0) == {"mu": 0.5, "b": 2.0}


def test_a_prior_config_with_a_typo_is_refused_at_compose_time():
    with pytest.raises(InputError, match="efect"):
        compose(["prior.efect.sigma=1"])
    with pytest.raises(InputError, match="sigmaa"):
        compose(["+prior.effect.sigmaa=1"])
    cfg = compose(["prior.effect.dist=StudentT", "prior.effect.nu=3"])  # no + needed
    assert cfg.prior.effect.nu == 3 and cfg.prior.effect.sigma == 1.0


def test_any_family_and_layer_runs_through_a_model(study):
    """A Laplace effect prior and Student-t group effects: the model builds, the prior is in
    the outcome's units, and the prior predictive (the prior check) runs."""
    cfg = compose(["model=hetero_region", "model.design=twfe", "prior.effect.dist=Laplace",
                   "prior.effect.mu=0", "prior.effect.sigma=null", "prior.effect.b=0.5",
                   "prior.group_effect.dist=StudentT", "prior.group_effect.nu=4"])
    md, priors, built = prepare(study, cfg)
    names = {v.name: type(v.owner.op).__name__ for v in built.model.free_RVs}
    assert "Laplace" in names["effect_mean"] and "StudentT" in names["effect"]
    draws = pm.draw(built.model["effect_mean"], 4000, random_seed=1)
    # Laplace(0, b) has sd b * sqrt(2); in outcome units b * sd(y)
    assert np.isclose(draws.std(), 0.5 * math.sqrt(2) * md.y_sd, rtol=0.08)
    tree = prior_predictive(built, 20, 1)
    assert np.isfinite(np.asarray(tree["prior_predictive"]["y"])).all()
    assert PriorSet(cfg.prior, md.y_sd).describe()["group_effect"] == "StudentT(nu=4)"


@pytest.mark.parametrize(("dist", "params", "reference"), [
    ("HalfNormal", {"sigma": 0.7}, lambda c: stats.halfnorm(scale=0.7 * c)),
    ("HalfStudentT", {"nu": 3.0, "sigma": 0.5},
     lambda c: stats.t(df=3.0, scale=0.5 * c)),  # |T| compared through its survival function
    ("HalfCauchy", {"beta": 0.3}, lambda c: stats.halfcauchy(scale=0.3 * c)),
])
@pytest.mark.parametrize("as_data", [False, True])
def test_a_folded_scale_has_its_half_familys_law(dist, params, reference, as_data):
    """PriorSet.folded draws |X| of the symmetric parent: the law of the configured half
    family (scaled to the outcome sd), checked against scipy by a Kolmogorov-Smirnov test;
    a family without a symmetric parent stays the usual (log-transformed) variable."""
    c = 2.5
    priors = PriorSet({"noise_sd": {"dist": dist, **params}, "walk_sd": {
        "dist": "Exponential", "lam": 1.0}}, c, as_data=as_data)
    with pm.Model() as model:
        priors.folded("noise_sd", "sigma")
        priors.folded("walk_sd", "walk_sd")
    assert {v.name for v in model.free_RVs} == {"sigma_signed", "walk_sd"}
    draws = pm.draw(model["sigma"], draws=4000, random_seed=7)
    ref = reference(c)
    if dist == "HalfStudentT":  # P(|T| <= x) = 1 - 2 P(T > x)
        cdf = lambda x: 1.0 - 2.0 * ref.sf(x)  # noqa: E731
    else:
        cdf = ref.cdf
    assert (draws > 0).all()
    assert stats.kstest(draws, cdf).pvalue > 0.01
