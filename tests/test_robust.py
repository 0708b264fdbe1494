"""The robust design (model.design=robust): exact likelihood, exact effect draws, recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from omegaconf import OmegaConf
from scipy import stats

from bayes_resil.bayes.within_city import city_trend, conditional_draws, filtered_likelihood


def _dense_cov(sds: dict, n_t: int) -> np.ndarray:
    steps = np.arange(n_t)
    tr = city_trend(n_t)
    return (sds["level"] ** 2 + sds["noise"] ** 2 * np.eye(n_t)
            + sds["trend"] ** 2 * np.outer(tr, tr)
            + sds["walk"] ** 2 * np.minimum.outer(steps, steps))


@pytest.mark.parametrize("grouped", [False, True])
def test_filtered_likelihood_equals_the_dense_multivariate_normal(grouped):
    """Kalman-filter likelihood over the fitted cells = scipy's multivariate normal of each
    city's fitted cells under s_i^2 Sigma (missing cells in the middle, a city with one cell);
    ``grouped``: the trend sd differs between two trend groups of cities."""
    rng = np.random.default_rng(3)
    n_u, n_t = 7, 9
    sds = {"level": 0.7, "trend": 0.4, "walk": 0.25, "noise": 0.3}
    group = np.array([1, 0, 0, 1, 1, 0, 1]) if grouped else None
    trend_sds = np.array([0.4, 0.9]) if grouped else None
    fit = rng.random((n_u, n_t)) > 0.3
    fit[0] = False
    fit[0, 4] = True
    fit[1] = True
    y = rng.normal(size=(n_u, n_t))
    mu = rng.normal(size=(n_u, n_t))
    log_s = rng.normal(scale=0.3, size=n_u)
    rows, cols = np.nonzero(fit)
    tensors = {k: pt.constant(v) for k, v in sds.items()}
    if grouped:
        tensors["trend"] = pt.constant(trend_sds)
    with pm.Model(coords={"obs": np.arange(len(rows))}) as model:
        filtered_likelihood(pt.as_tensor(mu), pt.as_tensor(log_s), tensors, fit,
                            y[rows, cols], group)
    got = float(model.compile_logp(sum=True)({}))
    want = 0.0
    for i in range(n_u):
        cov = _dense_cov({**sds, "trend": trend_sds[group[i]]} if grouped else sds, n_t)
        want += stats.multivariate_normal(mu[i, fit[i]], np.exp(2 * log_s[i])
                                          * cov[np.ix_(fit[i], fit[i])]).logpdf(y[i, fit[i]])
    assert got == pytest.approx(want, rel=1e-10, abs=1e-9)


def test_kalman_filter_gradient_matches_finite_differences():
    """The hand-written reverse pass of the filter Op against PyTensor's numerical gradient
    (residuals and each unit's four variances, with masked cells)."""
    from pytensor.gradient import verify_grad

    from bayes_resil.bayes.kalman import kalman_filter

    rng = np.random.default_rng(5)
    n_u, n_t = 4, 7
    f = (rng.random((n_u, n_t)) > 0.3).astype(float)
    h = city_trend(n_t)
    w_mean, w_var = rng.normal(size=(n_u, n_t)), rng.normal(size=(n_u, n_t))

    def loss(r, v):
        mean, var = kalman_filter(r, f, h, v)
        return pt.sum(w_mean * mean) + pt.sum(w_var * pt.log(var))

    for v in (np.tile([0.6, 0.3, 0.2, 0.15], (n_u, 1)),  # the same for all units, and each
              rng.uniform(0.1, 0.7, size=(n_u, 4))):  # unit's own
        verify_grad(loss, [rng.normal(size=(n_u, n_t)), v], rng=np.random.default_rng(6),
                    abs_tol=1e-6, rel_tol=1e-6)


def test_conditional_draws_match_the_gaussian_conditional():
    """Exact untreated-outcome draws: mean and covariance of 200,000 draws against the closed
    form of a Gaussian conditional."""
    rng = np.random.default_rng(4)
    n_t = 6
    cov = _dense_cov({"level": 0.5, "trend": 0.3, "walk": 0.2, "noise": 0.1}, n_t)
    fit = np.array([True, True, False, True, False, False])
    target = ~fit
    y, mean, scale = rng.normal(size=n_t), rng.normal(size=n_t), 1.7
    d = 200_000
    draws = conditional_draws(y, np.tile(mean, (d, 1)), np.tile(cov, (d, 1, 1)),
                              np.full(d, scale), fit, target, rng)
    s2 = scale ** 2 * cov
    gain = s2[np.ix_(target, fit)] @ np.linalg.inv(s2[np.ix_(fit, fit)])
    m = mean[target] + gain @ (y[fit] - mean[fit])
    c = s2[np.ix_(target, target)] - gain @ s2[np.ix_(fit, target)]
    se = np.sqrt(np.diag(c) / d)
    assert np.all(np.abs(draws.mean(axis=0) - m) < 5 * se)
    assert np.allclose(np.cov(draws.T), c, atol=0.02 * np.abs(c).max())


# --- the model on panels with a known truth ---------------------------------------------------

from bayes_resil.app import compose  # noqa: E402
from bayes_resil.bayes.fit import prepare  # noqa: E402
from bayes_resil.bayes.sampling import sample  # noqa: E402
from bayes_resil.study import load_study  # noqa: E402

TRUE_SDS = {"level": 0.5, "trend": 0.4, "walk": 0.15, "noise": 0.1}
TREATED_TREND_SD = 1.0  # the treated cities' trends spread more (model.trend_groups)


def _panel_from_the_error_model(path, seed=11, n_units=160, years=(2001, 2010)):
    """Untreated outcomes drawn from the robust design's own error model (level + trend +
    random walk + noise, city scales 1, trends spreading more in the treated cities), year
    effects, cohorts 2005 / 2008 / never, and a constant effect 0.3 on the treated: the model
    is right, so its parameters must come back."""
    rng = np.random.default_rng(seed)
    t = np.arange(years[0], years[1] + 1)
    cohort = rng.choice([2005, 2008, 0], size=n_units, p=[0.3, 0.3, 0.4])
    treated_sds = {**TRUE_SDS, "trend": TREATED_TREND_SD}
    u = np.stack([rng.multivariate_normal(np.zeros(t.size), _dense_cov(
        treated_sds if c else TRUE_SDS, t.size)) for c in cohort])
    year_effect = rng.normal(0, 0.3, t.size)
    d = (cohort[:, None] > 0) & (t[None, :] >= cohort[:, None])
    y = 1.0 + year_effect[None, :] + u + 0.3 * d
    pd.DataFrame({"unit": np.repeat(np.arange(n_units), t.size), "year": np.tile(t, n_units),
                  "first": np.repeat(cohort, t.size), "y": y.ravel()}).to_csv(path, index=False)
    return load_study(OmegaConf.create({
        "source": "file", "path": str(path), "never_treated": [0],
        "columns": {"unit": "unit", "time": "year", "cohort": "first", "outcome": "y"}}), None)


def _fit(data, *overrides):
    cfg = compose(["model=twfe", "model.controls=false", "sampler.chains=2",
                   "sampler.draws=300", "sampler.tune=300", "sampler.progress=false",
                   *overrides])
    _, _, built = prepare(data, cfg)
    idata, _ = sample(built, {**cfg.sampler, "posterior_predictive": False}, extras=False)
    return idata["posterior"]


def test_the_error_structure_reproduces_a_known_within_city_covariance(tmp_path):
    """Panel drawn from the model: every error sd (the trend sd per trend group) and the
    implied within-city correlations of both groups (first vs last year, neighbouring years)
    fall in their 99% posterior intervals, and the effect (0.3 on every treated city-year) in
    its 95% interval."""
    post = _fit(_panel_from_the_error_model(tmp_path / "p.csv"), "model.city_scales=false")
    assert list(post["trend_sd"].coords["trend_group"].values) == ["never_treated", "treated"]
    for var, key in (("unit_sd", "level"), ("walk_sd", "walk"), ("sigma", "noise")):
        lo, hi = np.quantile(post[var].to_numpy(), [0.005, 0.995])
        assert lo < TRUE_SDS[key] < hi, (var, lo, hi)
    for group, true_sd in (("never_treated", TRUE_SDS["trend"]),
                           ("treated", TREATED_TREND_SD)):
        lo, hi = np.quantile(post["trend_sd"].sel(trend_group=group).to_numpy(),
                             [0.005, 0.995])
        assert lo < true_sd < hi, (group, lo, hi)
        cov = post["error_cov"].sel(trend_group=group).to_numpy().reshape(-1, 10, 10)
        corr = cov / np.sqrt(np.einsum("dii->di", cov)[:, :, None]
                             * np.einsum("dii->di", cov)[:, None, :])
        true = _dense_cov({**TRUE_SDS, "trend": true_sd}, 10)
        true_corr = true / np.sqrt(np.outer(np.diag(true), np.diag(true)))
        for i, j in ((0, 9), (4, 5), (0, 1)):
            lo, hi = np.quantile(corr[:, i, j], [0.005, 0.995])
            assert lo < true_corr[i, j] < hi, (group, i, j, lo, hi, true_corr[i, j])
    lo, hi = np.quantile(post["att"].to_numpy(), [0.025, 0.975])
    assert lo < 0.3 < hi, (lo, hi)


def test_the_robust_design_removes_the_twfe_bias_of_growing_effects():
    """Staggered adoption with effects that grow by 0.04 a year of exposure: the two-way
    regression's forbidden comparisons pull it far below the average effect on the treated;
    the robust design's 95% interval covers the truth and sits on the BJS imputation estimate
    (an independent, closed-form estimator of the same estimand)."""
    from bayes_resil.estimates import to_frame
    from bayes_resil.freq.imputation import imputation
    from bayes_resil.ols import fe_ols

    cfg = compose(["data=linear", "data.simulation.effect=0.01",
                   "data.simulation.effect_growth=0.04", "data.simulation.seed=5"])
    data = load_study(cfg.data, cfg.index)
    truth = float(data.truth.set_index("estimand").loc["att", "true_effect"])
    ols = fe_ols(data.panel, "y", ["d"], ["unit", "time"])["d"][0]
    imp = to_frame(imputation(data, {"pretrend_leads": 0}, [], level=0.95, vcov="cluster",
                              cluster="unit", drop_singletons=True, tag="t")[0])
    imp_att = imp.set_index("estimand").loc["att"]
    assert truth - ols > 3 * imp_att["std_error"]  # the TWFE bias is large by construction
    post = _fit(data, "data=linear", "data.simulation.effect=0.01",
                "data.simulation.effect_growth=0.04", "data.simulation.seed=5")
    att = post["att"].to_numpy().ravel()
    lo, hi = np.quantile(att, [0.025, 0.975])
    assert lo < truth < hi, (lo, hi, truth)
    assert not lo < ols < hi
    # two estimators of one estimand: the posterior mean sits 0.18-0.22 of the imputation
    # estimate's SE below it over sampler seeds 3-8 and 20250929 (the within-city GLS weights
    # the cities differently; one full-suite run gave 0.28), the TWFE estimate more than 3 SEs
    assert abs(att.mean() - imp_att["estimate"]) < 0.5 * imp_att["std_error"]


# --- the untreated mean and the population level ----------------------------------------------

def test_covariate_year_basis_is_orthonormal_and_free_of_level_and_trend():
    """The basis of ``model.covariate_years`` spans exactly the period profiles orthogonal to
    the constant and the city trend (those are the level and trend means)."""
    from bayes_resil.bayes.untreated_mean import trend_free_basis

    h = city_trend(13)
    b = trend_free_basis(h)
    assert b.shape == (11, 13)
    assert np.allclose(b @ b.T, np.eye(11), atol=1e-12)
    assert np.allclose(b @ np.ones(13), 0, atol=1e-12)
    assert np.allclose(b @ h, 0, atol=1e-12)
    # with [1, h] it spans every profile
    full = np.vstack([b, np.ones(13), h])
    assert np.linalg.matrix_rank(full) == 13


def test_city_design_dummies_and_baselines():
    """Cohort dummies with the never-treated as baseline (the first cohort without them),
    region dummies only with two regions or more; the
    control means whitened: same span, uncorrelated columns of sd 1."""
    from bayes_resil.bayes.grid import CityGrid
    from bayes_resil.bayes.untreated_mean import city_design

    def grid(cohort, region):
        n = len(cohort)
        return CityGrid(observed=np.ones((n, 3), bool), row_of=np.zeros((n, 3), int),
                        y=np.zeros((n, 3)), x=np.zeros((n, 3, 0)), x_bar=np.zeros((n, 0)),
                        cohort=np.array(cohort, float), region=region, cells=pd.DataFrame())

    d = city_design(grid([np.nan, 2016, 2018, 2016, np.nan], np.array(list("EEWCW"))))
    assert d["cohort"].tolist() == [[0, 0], [1, 0], [0, 1], [1, 0], [0, 0]]
    assert d["region"].tolist() == [[1, 0], [1, 0], [0, 1], [0, 0], [0, 1]]  # C baseline
    d = city_design(grid([2016, 2018, 2018], np.array(list("EEE"))))
    assert d["cohort"].tolist() == [[0], [1], [1]] and "region" not in d

    from bayes_resil.bayes.untreated_mean import whitened

    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 3)) @ np.array([[1, 0.9, 0], [0, 0.1, 0], [0, 0, 2.0]])
    x = np.column_stack([x, x[:, 0] + x[:, 2]])  # an exactly collinear column is dropped
    z = whitened(x)
    assert z.shape == (50, 3)
    assert np.allclose(z.T @ z / 50, np.eye(3), atol=1e-10)
    xc = x - x.mean(axis=0)
    assert np.allclose(z @ np.linalg.lstsq(z, xc, rcond=None)[0], xc, atol=1e-10)


def test_population_bootstrap_matches_the_cluster_linearisation():
    """With the cell effects known (every draw the same), the Bayesian bootstrap's spread of an
    average over cells is the clustered (CR0) linearised sd of the ratio estimator times
    sqrt(n / (n + 1)) (Rubin 1981), and its mean the sample average; estimands that select
    some cells only use their units."""
    from bayes_resil.bayes.population import bootstrap_averages

    rng = np.random.default_rng(8)
    n_units = 40
    cells_per_unit = rng.integers(1, 6, n_units)
    unit = np.repeat(np.arange(n_units), cells_per_unit)
    tau = rng.normal(1.0, 0.5, n_units)[unit] + rng.normal(0, 0.2, unit.size)
    first = unit < 20
    w = np.vstack([np.full(unit.size, 1 / unit.size), first / first.sum()])
    d = 40_000
    draws = bootstrap_averages(np.tile(tau, (d, 1)), unit * 7 + 3, w, rng, chunk=3000)
    for k, sel in enumerate([np.ones(unit.size, bool), first]):
        est = tau[sel].mean()
        units = np.unique(unit[sel])
        resid = np.array([(tau[sel & (unit == u)] - est).sum() for u in units])
        n = len(units)
        sd = np.sqrt((resid ** 2).sum()) / sel.sum() * np.sqrt(n / (n + 1))
        assert abs(draws[:, k].mean() - est) < 5 * sd / np.sqrt(d) + 0.01 * sd
        assert draws[:, k].std() == pytest.approx(sd, rel=0.05)


def test_untreated_mean_switches_build_what_they_say():
    """Built, not sampled: each switch of the robust design adds or removes its parameters, and
    every switched-off variant still builds. On the simulated panel (an index of indicators)
    the city trends have no means by default (``model.trend_mean=null``: off where ``y(0)`` is
    imputed with the index's curvature), and have them when the outcome is imputed itself."""
    from bayes_resil.app import compose as comp

    cfg0 = comp(["model=hetero_region"])
    data = load_study(cfg0.data, cfg0.index)
    cases = {(): {"covariate_year_raw"},
             ("model.impute_on=outcome",): {"trend_mean", "covariate_year_raw"},
             ("model.trend_mean=true",): {"trend_mean", "covariate_year_raw"},
             ("model.trend_mean=false", "model.impute_on=outcome"): {"covariate_year_raw"},
             ("model.covariate_years=false", "model.impute_on=outcome"): {"trend_mean"},
             ("model.trend_groups=false", "model.errors=iid", "model.impute_on=outcome"):
                 {"trend_mean", "covariate_year_raw"}}
    for over, present in cases.items():
        _, _, built = prepare(data, comp(["model=hetero_region", *over]))
        names = {v.name for v in built.model.free_RVs}
        for var in ("trend_mean", "covariate_year_raw"):
            assert (var in names) == (var in present), (over, var)
        assert {"mundlak_x", "region_level", "cohort_level"} <= names
        trend_sd = [v for v in built.model.free_RVs if v.name == "trend_sd"]
        if "model.errors=iid" in over:
            assert not trend_sd
        else:  # one sd per trend group by default
            assert built.model.named_vars_to_dims["trend_sd"] == ("trend_group",)
