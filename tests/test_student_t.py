"""Student-t errors (model.likelihood=student_t): on a panel with known heavy-tailed errors
(t with 3 degrees of freedom) and a known effect, the t model recovers the degrees of freedom
and the effect, is more precise than the Normal model, and PSIS-LOO prefers it."""

from __future__ import annotations

import dataclasses
import warnings

import arviz_stats as azs
import numpy as np
import pytest

from bayes_resil.app import compose
from bayes_resil.bayes.data import model_data
from bayes_resil.bayes.models import BUILDERS
from bayes_resil.bayes.priors import PriorSet
from bayes_resil.bayes.sampling import sample
from bayes_resil.errors import InputError

TAU, NU, SCALE = 0.05, 3.0, 0.02


@pytest.fixture(scope="module")
def heavy_tailed(study):
    """The default design (units, years, treatment timing) with y = a_i + g_t + TAU d + e,
    e ~ SCALE * t(NU): the truth is known exactly."""
    rng = np.random.default_rng(11)
    panel = study.panel.copy()
    units = panel["unit"].unique()
    a = dict(zip(units, rng.normal(0, 0.08, units.size), strict=True))
    g = {t: 0.004 * (t - 2010) for t in panel["time"].unique()}
    panel["y"] = (panel["unit"].map(a) + panel["time"].map(g) + TAU * panel["d"]
                  + SCALE * rng.standard_t(NU, len(panel)))
    return dataclasses.replace(study, panel=panel, truth=None, truth_cells=None)


def fit(data, likelihood):
    cfg = compose(["model=twfe", "model.design=twfe", "model.controls=false",
                   f"model.likelihood={likelihood}", "sampler.chains=2", "sampler.tune=400",
                   "sampler.draws=400",
                   "sampler.progress=false"])
    md = model_data(data, [])
    built = BUILDERS["twfe"](md, PriorSet(cfg.prior, md.y_sd, md.y.mean()), cfg.model)
    idata, _ = sample(built, {**cfg.sampler, "posterior_predictive": False})
    return idata


@pytest.mark.slow
def test_student_t_recovers_the_tails_and_the_effect(heavy_tailed):
    t_fit, n_fit = fit(heavy_tailed, "student_t"), fit(heavy_tailed, "normal")
    nu = np.asarray(t_fit["posterior"]["nu"]).ravel()
    assert np.quantile(nu, 0.025) < NU < np.quantile(nu, 0.975), np.quantile(nu, [0.025, 0.975])
    sigma = np.asarray(t_fit["posterior"]["sigma"]).ravel()
    assert sigma.mean() == pytest.approx(SCALE, rel=0.15)  # the t scale, not the sd
    att_t = np.asarray(t_fit["posterior"]["att"]).ravel()
    att_n = np.asarray(n_fit["posterior"]["att"]).ravel()
    for draws in (att_t, att_n):
        assert np.quantile(draws, 0.005) < TAU < np.quantile(draws, 0.995)
    assert att_t.std() < 0.9 * att_n.std()  # heavy tails: the t model is more precise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        comp = azs.compare({"student_t": t_fit, "normal": n_fit}, round_to="none")
    assert comp.index[0] == "student_t"
    assert comp.loc["normal", "elpd_diff"] < -4 * comp.loc["normal", "dse"]


def test_student_t_prior_is_unscaled_and_joint_models_refuse_it(study):
    cfg = compose(["model=twfe", "model.design=twfe"])
    p = PriorSet(cfg.prior, outcome_sd=0.5)
    assert p.params("noise_df") == ("Gamma", {"alpha": 2.0, "beta": 0.1})
    md = model_data(study, [])
    twfe = ["model=twfe", "model.design=twfe"]
    built = BUILDERS["twfe"](md, p, compose([*twfe, "model.likelihood=student_t"]).model)
    assert type(built.model["y"].owner.op).__name__.startswith("StudentT")
    assert "nu" in built.hyper_vars
    with pytest.raises(InputError, match=r"Invalid value 'cauchy', expected one of \[normal, "
                                          r"student_t\]"):  # refused when composed
        compose([*twfe, "model.likelihood=cauchy"])
    with pytest.raises(InputError, match="needs model.design=twfe"):
        BUILDERS["twfe"](md, p, compose(["model=twfe", "model.likelihood=student_t"]).model)
    iv = compose(["model=iv", "model.likelihood=student_t"])
    with pytest.raises(InputError, match="model=iv has Normal errors only"):
        BUILDERS["iv"](md, p, iv.model)
