"""Reusing a compiled model (``bayes/compile_cache.py``): a second panel of the same design
samples exactly what a fresh compilation samples, and anything that changes the computation
(a prior's constant, a family, the structure) compiles afresh."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_resil.app import compose
from bayes_resil.bayes import compile_cache
from bayes_resil.bayes.fit import prepare
from bayes_resil.bayes.sampling import sample
from bayes_resil.study import load_study

USER = ["data=file", "data.columns.unit=firm", "data.columns.time=year",
        "data.columns.cohort=first_treat", "data.columns.outcome=sales",
        "data.columns.controls=[x1,x2]", "model=staggered", "sampler=smoke"]


def _panels(tmp_path):
    """Panel A and panel B of the same design: B has other outcomes (another sd and mean, so
    other prior scales), other rows missing (another number of fitted cells) and other
    missing controls; same units and cohorts."""
    from conftest import make_user_panel

    a = make_user_panel()
    rng = np.random.default_rng(3)
    b = a.assign(sales=1.7 * a["sales"] + rng.normal(0, 0.5, len(a)) + 2.0)
    never = b.index[b["first_treat"] == 0]
    b = b.drop(index=rng.choice(never, size=7, replace=False))
    b.loc[b.sample(frac=0.03, random_state=4).index, "x1"] = np.nan
    paths = []
    for name, df in (("a", a), ("b", b)):
        paths.append(tmp_path / f"{name}.csv")
        df.to_csv(paths[-1], index=False)
    return paths


def _fit(path, *over):
    cfg = compose([*USER, f"data.path={path}", *over])
    _, _, built = prepare(load_study(cfg.data, cfg.index), cfg, priors_as_data=True)
    idata, _ = sample(built, cfg.sampler, extras=False, reuse_compiled=True)
    return built, idata["posterior"].to_dataset()


@pytest.fixture
def compiles(monkeypatch):
    """Counts nutpie's compilations (the cache calls the function it finds on entry)."""
    import nutpie

    count = [0]
    base = nutpie.compile_pymc_model

    def counted(model, **kwargs):
        count[0] += 1
        return base(model, **kwargs)

    monkeypatch.setattr(nutpie, "compile_pymc_model", counted)
    compile_cache.clear()
    yield count
    compile_cache.clear()


def test_a_reused_model_samples_what_a_fresh_one_does(tmp_path, compiles):
    path_a, path_b = _panels(tmp_path)
    built_a, _ = _fit(path_a)
    y_a = built_a.model["y_observed"].get_value().copy()
    built_b, reused = _fit(path_b)
    assert compiles[0] == 1  # panel B reused panel A's compiled model
    assert built_b.model["y_observed"].get_value().size < y_a.size  # other cells were fitted
    # the first model keeps its own data
    np.testing.assert_array_equal(built_a.model["y_observed"].get_value(), y_a)
    compile_cache.clear()
    _, fresh = _fit(path_b)
    assert compiles[0] == 2
    assert set(reused.data_vars) == set(fresh.data_vars)
    for name in fresh.data_vars:  # the same draws, to the last bit
        np.testing.assert_array_equal(reused[name].to_numpy(), fresh[name].to_numpy(),
                                      err_msg=name)
    # a prior's constant is part of the computation, and so is the model's structure
    cache = compile_cache._Graph
    base = cache(built_b.model)
    assert compile_cache.same_computation(base, cache(_build(path_a)))
    # with the priors' outcome scale as constants (a single run) two panels differ
    assert not compile_cache.same_computation(cache(_build(path_a, as_data=False)),
                                              cache(_build(path_b, as_data=False)))
    for over in (["prior.unit_sd.sigma=2.0"], ["prior.beta.dist=StudentT", "prior.beta.nu=5"],
                 ["model.trend_mean=false"], ["model.errors=iid"]):
        assert not compile_cache.same_computation(base, cache(_build(path_b, *over))), over


def _build(path, *over, as_data=True):
    cfg = compose([*USER, f"data.path={path}", *over])
    return prepare(load_study(cfg.data, cfg.index), cfg, priors_as_data=as_data)[2].model


@pytest.mark.parametrize(("name", "spec"), [
    ("intercept", {"dist": "Normal", "mu": 0.5, "sigma": 2.0}),
    ("intercept", {"dist": "StudentT", "nu": 4.0, "mu": 0.0, "sigma": 1.5}),
    ("intercept", {"dist": "Uniform", "lower": -3.0, "upper": 3.0}),
    ("unit_sd", {"dist": "HalfNormal", "tau": 2.0}),
    ("unit_sd", {"dist": "Gamma", "alpha": 2.0, "beta": 3.0}),
    ("unit_sd", {"dist": "Exponential", "lam": 2.0}),
    ("unit_sd", {"dist": "LogNormal", "mu": -1.0, "sigma": 0.5}),
    ("beta", {"dist": "Laplace", "mu": 0.1, "b": 0.5}),
    ("beta", {"dist": "AsymmetricLaplace", "mu": 0.0, "b": 2.0, "kappa": 1.5}),
    ("scale_sd", {"dist": "HalfCauchy", "beta": 0.5}),
])
def test_priors_as_data_have_the_densities_of_the_constant_priors(name, spec):
    """``PriorSet(as_data=True)`` (calibration replications) gives every prior the density of
    the constant-parameter prior a single run builds (scaled by role, the intercept centred on
    the outcome mean), at points across its support."""
    import pymc as pm

    from bayes_resil.bayes.priors import PriorSet

    cfg = {"scale_by_outcome_sd": True, name: spec}
    logps = []
    for as_data in (False, True):
        with pm.Model() as model:
            PriorSet(cfg, 0.07, 1.3, as_data=as_data)(name, shape=3)
        logps.append(model.compile_logp())
    value = model.value_vars[0].name
    for x in (-1.2, 0.3, 2.0):
        point = {value: np.full(3, x)}
        assert logps[1](point) == pytest.approx(logps[0](point), rel=1e-12, abs=1e-12)
