"""The year effects' increments transform: the same density, other sampler coordinates."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from bayes_resil.bayes.year_increments import (
    IncrementsTransform,
    increments_matrix,
    increments_transform,
)

T = 7


def _logp_and_values(dist: str, transform: dict, points: np.ndarray):
    """Log density (with Jacobian) and constrained values of a one-variable model at the
    unconstrained ``points``."""
    with pm.Model() as model:
        kwargs = {"sigma": 2.0} | ({"mu": 0.3} if dist == "Normal" else {})
        getattr(pm, dist)("x", shape=T, **kwargs, **transform)
    logp = model.compile_logp()
    value = model.rvs_to_values[model["x"]].name
    to_x = model.compile_fn(model.replace_rvs_by_values([model["x"]])[0],
                            inputs=model.value_vars, on_unused_input="ignore")
    return (np.array([logp({value: p}) for p in points]),
            np.array([to_x({value: p}) for p in points]))


@pytest.mark.parametrize("dist", ["ZeroSumNormal", "Normal"])
def test_the_increments_transform_keeps_the_density_and_moves_on_the_increments(dist):
    """Against PyMC's own parametrisation: with ``u = A z`` (``z`` the family's default
    unconstrained coordinates) the density in ``u`` is ``p_z(A^-1 u) / |det A|`` (change of
    variables), the constrained values are the same, and ``u`` are the year effects'
    increments (``ZeroSumNormal``: all ``T - 1``; ``Normal``: the first value, then ``T - 1``)."""
    rng = np.random.default_rng(3)
    zero_sum = dist == "ZeroSumNormal"
    a = increments_matrix(T, zero_sum)
    u = rng.normal(size=(5, a.shape[0]))
    z = u @ np.linalg.inv(a).T
    lp_new, x_new = _logp_and_values(dist, increments_transform(dist, T), u)
    lp_old, x_old = _logp_and_values(dist, {}, z)
    np.testing.assert_allclose(x_new, x_old, atol=1e-12)
    np.testing.assert_allclose(lp_new, lp_old - np.log(abs(np.linalg.det(a))), atol=1e-9)
    increments = np.diff(x_new, axis=1)
    np.testing.assert_allclose(u, increments if zero_sum else
                               np.column_stack([x_new[:, 0], increments]), atol=1e-12)
    if zero_sum:
        np.testing.assert_allclose(x_new.sum(axis=1), 0.0, atol=1e-12)


def test_the_transform_is_skipped_where_it_does_not_apply():
    assert increments_transform("HalfNormal", T) == {}  # not a family on the real line
    assert increments_transform("ZeroSumNormal", 3) == {}  # too few periods
    assert isinstance(increments_transform("StudentT", T)["transform"], IncrementsTransform)


def test_the_robust_design_samples_the_year_effects_on_their_increments():
    """Built, not sampled: the robust design's year effects carry the transform (chained
    after the zero-sum one), the twfe design's do not, and the prior draws of the year effects
    are the zero-sum normal's (sum 0, sd sigma sqrt(1 - 1/T) in outcome units)."""
    from bayes_resil.app import compose
    from bayes_resil.bayes.fit import prepare
    from bayes_resil.study import load_study

    cfg = compose(["model=twfe"])
    data = load_study(cfg.data, cfg.index)
    md, priors, built = prepare(data, cfg)
    assert _has_increments(built.model)
    _, _, twfe = prepare(data, compose(["model=twfe", "model.design=twfe"]))
    assert "time_effect" in twfe.model.named_vars and not _has_increments(twfe.model)
    with built.model:
        draws = pm.draw(built.model["time_effect"], draws=4000, random_seed=1)
    sigma = priors.params("time_effect")[1]["sigma"]
    n_t = draws.shape[1]
    np.testing.assert_allclose(draws.sum(axis=1), 0.0, atol=1e-9)
    np.testing.assert_allclose(draws.std(axis=0), sigma * np.sqrt(1 - 1 / n_t), rtol=0.06)


def _has_increments(model: pm.Model) -> bool:
    transform = model.rvs_to_transforms[model["time_effect"]]
    return any(isinstance(t, IncrementsTransform)
               for t in getattr(transform, "transform_list", [transform]))
