"""The exact-marginal engine (``sampler.engine=marginal``): its likelihood against a dense
multivariate normal built from the full model's own mean, its gradient against finite
differences, its exact conditional draws against the closed-form posterior and the full
model's NUTS posterior, and its refusals."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytest
import scipy.linalg as sl
from scipy import stats

from bayes_resil.app import compose
from bayes_resil.bayes.fit import prepare
from bayes_resil.bayes.grid import city_grid
from bayes_resil.bayes.priors import PriorSet
from bayes_resil.bayes.sampling import marginal_of, sample
from bayes_resil.bayes.untreated_mean import untreated_mean
from bayes_resil.bayes.within_city import city_trend, trend_groups
from bayes_resil.errors import InputError
from bayes_resil.study import load_study

USER = ["data=file", "data.columns.unit=firm", "data.columns.time=year",
        "data.columns.cohort=first_treat", "data.columns.outcome=sales",
        "data.columns.controls=[x1,x2]"]
#: the full model's prior name of each linear coefficient
PRIOR_OF = {"intercept": "intercept", "time_effect": "time_effect", "beta": "beta",
            "covariate_year_raw": "covariate_year"}


@pytest.fixture(scope="module")
def user_fit(tmp_path_factory):
    """The unbalanced user panel (controls missing in places: many observation patterns),
    model=staggered, and its marginal model."""
    from conftest import make_user_panel

    path = tmp_path_factory.mktemp("marginal") / "panel.csv"
    make_user_panel().to_csv(path, index=False)
    cfg = compose([*USER, f"data.path={path}", "model=staggered", "sampler=smoke",
                   "sampler.engine=marginal"])
    data = load_study(cfg.data, cfg.index)
    _, priors, built = prepare(data, cfg)
    return cfg, data, built, marginal_of(built)


def _shape(var) -> tuple[int, ...]:
    return tuple(int(n) for n in pytensor.function([], var.shape, mode="FAST_COMPILE")())


def _hyper_point(mm, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    point = {}
    for v in mm.model.free_RVs:
        x = rng.normal(0.0, 0.3, _shape(v))
        point[v.name] = x - x.mean() if v.name == "log_city_scale" else np.abs(x) + 0.3
    return point


def _dense_reference(cfg, built, mm, point):
    """The untreated cells' joint normal with every linear coefficient integrated out, built
    from the full model's mean function (its Jacobian in the linear variables, evaluated by
    PyMC) and a dense block-diagonal error covariance; and the closed-form posterior mean of
    the linear variables."""
    g = city_grid(built.md)
    priors = PriorSet(cfg.prior, float(np.std(built.md.y)), float(np.mean(built.md.y)))
    with pm.Model(coords=built.model.coords) as m:
        mu = untreated_mean(priors, cfg.model, g, city_trend(g.shape[1]))
    f_mu = m.compile_fn(inputs=m.free_RVs, outs=[mu], point_fn=False, on_unused_input="ignore")
    shapes = [_shape(v) for v in m.free_RVs]
    zero = [np.zeros(s) for s in shapes]
    base = f_mu(*zero)[0].ravel()
    cols, m0, prior_cov, names = [], [], [], []
    for j, (v, s) in enumerate(zip(m.free_RVs, shapes, strict=True)):
        n = int(np.prod(s))
        for k in range(n):
            e = [z.copy() for z in zero]
            e[j] = np.eye(n)[k].reshape(s)
            cols.append(f_mu(*e)[0].ravel() - base)
        dist, par = priors.params(PRIOR_OF.get(v.name, "mundlak"))
        m0 += [par.get("mu", 0.0)] * n
        zero_sum = dist == "ZeroSumNormal"
        prior_cov.append(par["sigma"] ** 2 * (np.eye(n) - zero_sum * np.ones((n, n)) / n))
        names.append((v.name, s))
    x, p, m0 = np.column_stack(cols), sl.block_diag(*prior_cov), np.asarray(m0)
    cov = mm.model.compile_fn(inputs=mm.model.free_RVs, outs=[mm.model["error_cov"]],
                              point_fn=False, on_unused_input="ignore")(
        *[point[v.name] for v in mm.model.free_RVs])[0]
    cov = cov[None] if cov.ndim == 2 else cov
    group = trend_groups(cfg.model, g.cohort)
    group = np.zeros(g.shape[0], int) if group is None else group
    scale = np.exp(point.get("log_city_scale", np.zeros(g.shape[0])))
    v = sl.block_diag(*[scale[i] ** 2 * cov[group[i]] for i in range(g.shape[0])])
    fit = g.untreated.ravel()
    xf, vf, y = x[fit], v[np.ix_(fit, fit)], g.y.ravel()[fit]
    marg = xf @ p @ xf.T + vf
    loglik = stats.multivariate_normal(xf @ m0 + base[fit], marg).logpdf(y)
    post_mean = m0 + p @ xf.T @ np.linalg.solve(marg, y - xf @ m0 - base[fit])
    out, start = {}, 0
    for name, s in names:
        n = int(np.prod(s))
        out[name] = post_mean[start:start + n].reshape(s)
        start += n
    return loglik, out


def test_marginal_likelihood_and_conditional_mean_equal_the_dense_gaussian(user_fit):
    """On a panel with 60 units, controls, missing cells and two trend groups, at random
    hyperparameters (city scales included): the engine's log-likelihood equals the dense
    multivariate-normal log-density to 1e-8, and the mean of its exact conditional draws of the
    linear coefficients (one draw per hyperparameter draw, 4000 draws at one point) the
    closed-form GLS posterior mean, variable by variable."""
    cfg, _, built, mm = user_fit
    assert len({tuple(r) for r in city_grid(built.md).untreated.astype(int)}) > 10
    for seed in (1, 2):
        point = _hyper_point(mm, seed)
        fn = mm.model.compile_fn(inputs=mm.model.free_RVs, outs=[mm.model["y_marginal"]],
                                 point_fn=False, on_unused_input="ignore")
        got = float(fn(*[point[v.name] for v in mm.model.free_RVs])[0])
        want, post_mean = _dense_reference(cfg, built, mm, point)
        assert got == pytest.approx(want, abs=1e-8, rel=1e-10)
    import xarray as xr

    n = 4000
    post = xr.Dataset({k: xr.DataArray(np.broadcast_to(v, (1, n, *v.shape)),
                                       dims=("chain", "draw", *[f"{k}_{i}" for i in
                                                                range(v.ndim)]))
                       for k, v in point.items()})
    draws = mm.draw_linear(post, np.random.default_rng(0))
    for name, mean in post_mean.items():
        d = draws[name].reshape(n, -1)
        se = d.std(axis=0) / np.sqrt(n)
        assert np.all(np.abs(d.mean(axis=0) - mean.ravel()) < 4.5 * se + 1e-12), name


def test_the_marginal_gradient_matches_finite_differences(user_fit):
    """d log p / d (every hyperparameter, city scales included) against central differences
    (the restricted-inverse Op's hand-written reverse pass)."""
    _, _, _, mm = user_fit
    model = mm.model
    logp = model.compile_logp(jacobian=False, sum=True)
    dlogp = model.compile_dlogp(jacobian=False)
    point = model.initial_point()
    rng = np.random.default_rng(3)
    point = {k: v + rng.normal(0, 0.2, v.shape) for k, v in point.items()}
    grad = dlogp(point)
    flat = np.concatenate([point[v.name].ravel() for v in model.value_vars])
    sizes = [point[v.name].size for v in model.value_vars]

    def at(x):
        out, i = {}, 0
        for v, n in zip(model.value_vars, sizes, strict=True):
            out[v.name] = x[i:i + n].reshape(point[v.name].shape)
            i += n
        return logp(out)

    for j in rng.choice(flat.size, size=12, replace=False):
        h = 1e-5
        e = np.zeros_like(flat)
        e[j] = h
        fd = (at(flat + e) - at(flat - e)) / (2 * h)
        assert grad[j] == pytest.approx(fd, rel=1e-5, abs=1e-6), j


def test_a_marginal_run_writes_the_full_models_posterior(user_fit, tmp_path):
    """The command line with sampler.engine=marginal, then NUTS on the full model, same panel
    and model. The run exits 0 and its posterior NetCDF holds every variable of the full model,
    the pointwise log-likelihood of every fitted cell, the posterior predictive and the
    log-prior; estimates, diagnostics and comparison files are written. Every reported effect's
    posterior mean and sd agree with the full model's within 3.5 Monte-Carlo SEs (of the mean,
    of the sd; the two runs' SEs combined)."""
    import arviz_stats as azs
    import pandas as pd
    import xarray as xr

    from conftest import cli

    cfg, data, _, _ = user_fit
    over = [*USER, f"data.path={cfg.data.path}", "model=hetero_batch", "sampler=smoke",
            "sampler.draws=300", "sampler.tune=200"]
    out = tmp_path / "run"
    proc = cli(*over, "freq=baseline", "sampler.engine=marginal", f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    tree = xr.open_datatree(out / "posterior.nc")
    marg = tree["posterior"].to_dataset()
    names = {"intercept", "time_effect", "beta", "trend_mean", "unit_sd", "sigma",
             "log_city_scale", "att", "effect", "tau"}
    assert names <= set(marg.data_vars)
    cfg = compose(over)
    _, _, built = prepare(data, cfg)
    assert tree["log_likelihood"]["y"].sizes["obs"] == city_grid(built.md).untreated.sum()
    assert np.isfinite(tree["log_likelihood"]["y"].to_numpy()).all()
    assert {"posterior_predictive", "log_prior", "observed_data"} <= set(tree.children)
    est = pd.read_csv(out / "estimates.csv")
    assert {"att", "att[cohort=2004]", "att[cohort=2006]"} <= set(
        est.loc[est["method"] == "bayes_hetero_batch", "estimand"])
    assert (out / "diagnostics.csv").exists() and (out / "comparison.csv").exists()

    idata, _ = sample(built, {**cfg.sampler, "posterior_predictive": False}, extras=False)
    full = idata["posterior"].to_dataset()
    assert {v.name for v in built.model.free_RVs} <= set(marg.data_vars)
    for var in ("att", "effect"):
        a, b = full[var], marg[var]
        se = np.hypot(azs.mcse(full[[var]])[var], azs.mcse(marg[[var]])[var])
        diff = np.abs(a.mean(("chain", "draw")) - b.mean(("chain", "draw")))
        assert bool((diff < 3.5 * se).all()), (var, float((diff / se).max()))
        se_sd = np.hypot(azs.mcse(full[[var]], method="sd")[var],
                         azs.mcse(marg[[var]], method="sd")[var])
        diff_sd = np.abs(a.std(("chain", "draw")) - b.std(("chain", "draw")))
        assert bool((diff_sd < 3.5 * se_sd).all()), (var, float((diff_sd / se_sd).max()))


def test_models_the_engine_does_not_cover_are_refused(study):
    """Refusals name the setting: the twfe design, a joint model, a non-Gaussian prior on a
    linear coefficient; the command line stops in its preflight (exit 2, before any
    estimation)."""
    from conftest import cli

    cases = {("model=hetero_region", "model.design=twfe"): "model.design=twfe",
             ("model=iv",): "IV",
             ("model=hetero_region", "prior.beta.dist=StudentT", "+prior.beta.nu=4"):
                 "prior.beta.dist=StudentT"}
    for over, words in cases.items():
        cfg = compose(["sampler=smoke", "sampler.engine=marginal", *over])
        _, _, built = prepare(study, cfg)
        with pytest.raises(InputError, match=words.replace(".", r"\.")):
            marginal_of(built)
    proc = cli("sampler=marginal", "model=hetero_region", "model.design=twfe", "freq=baseline")
    assert proc.returncode == 2, proc.stderr
    assert "sampler.engine=marginal" in proc.stderr + proc.stdout
