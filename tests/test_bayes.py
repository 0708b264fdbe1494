"""Bayesian models: priors from config, the panel skeleton, parity with OLS, every model
sampling end to end, diagnostics that catch a bad run, reproducibility, outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_resil.app import compose
from bayes_resil.bayes.data import model_data
from bayes_resil.bayes.diagnostics import diagnose
from bayes_resil.bayes.models import BUILDERS
from bayes_resil.bayes.priors import PriorSet
from bayes_resil.bayes.run import run_bayes
from bayes_resil.bayes.sampling import prior_predictive, sample
from bayes_resil.errors import InputError
from bayes_resil.estimates import to_frame
from bayes_resil.freq.baseline import baseline_twfe
from bayes_resil.ols import fe_ols

MODELS = ["twfe", "hetero_region", "hetero_batch", "event_study", "staggered", "iv",
          "mediation"]


def cfg_for(*overrides):
    return compose(["sampler=smoke", *overrides])


# --- priors ----------------------------------------------------------------------------------


def test_priors_scale_with_the_outcome_sd():
    cfg = compose(["prior.effect.sigma=0.02"]).prior
    p = PriorSet(cfg, outcome_sd=0.5, outcome_mean=3.0)
    assert p.params("effect") == ("Normal", {"mu": 0.0, "sigma": 0.01})
    assert p.params("intercept")[1]["mu"] == pytest.approx(3.0)
    assert p.params("intercept")[1]["sigma"] == pytest.approx(1.0)
    ex = PriorSet({"noise_sd": {"dist": "Exponential", "lam": 2.0}}, outcome_sd=0.5)
    assert ex.params("noise_sd")[1]["lam"] == pytest.approx(4.0)


def test_prior_override_reaches_the_model_prior_predictive(study):
    """The prior predictive sd of the effect equals prior.effect.sigma x sd(y)."""
    cfg = compose(["model=twfe", "model.design=twfe", "prior.effect.sigma=0.3"])
    md = model_data(study, list(study.controls))
    built = BUILDERS["twfe"](md, PriorSet(cfg.prior, md.y_sd, md.y.mean()), cfg.model)
    draws = np.asarray(prior_predictive(built, 2000, 1)["prior"]["att"]).reshape(-1)
    assert draws.std() == pytest.approx(0.3 * md.y_sd, rel=0.08)
    assert abs(draws.mean()) < 0.1 * md.y_sd


def test_robust_design_priors_reach_the_model(study):
    """Robust design: prior.walk_sd scales with sd(y) (HalfNormal sd x sqrt(1 - 2/pi)), and
    scale_sd is never scaled (unitless)."""
    cfg = compose(["model=twfe", "prior.walk_sd.sigma=0.3", "prior.scale_sd.sigma=0.2"])
    md = model_data(study, list(study.controls))
    built = BUILDERS["twfe"](md, PriorSet(cfg.prior, md.y_sd, md.y.mean()), cfg.model)
    prior = prior_predictive(built, 4000, 1)["prior"]
    half = np.sqrt(1 - 2 / np.pi)
    assert np.asarray(prior["walk_sd"]).std() == pytest.approx(0.3 * md.y_sd * half, rel=0.08)
    assert np.asarray(prior["scale_sd"]).std() == pytest.approx(0.2 * half, rel=0.08)


def test_prior_family_can_change_and_bad_family_is_a_clear_error(study):
    cfg = compose(["model=twfe", "model.design=twfe", "prior.effect.dist=StudentT",
                   "prior.effect.nu=3"])
    md = model_data(study, [])
    built = BUILDERS["twfe"](md, PriorSet(cfg.prior, md.y_sd), cfg.model)
    assert type(built.model["att"].owner.op).__name__.startswith("StudentT")
    bad = compose(["model=twfe", "model.design=twfe", "prior.effect.dist=Normel"])
    with pytest.raises(InputError, match="Normel"):
        BUILDERS["twfe"](md, PriorSet(bad.prior, md.y_sd), bad.model)


def test_every_prior_set_defines_every_prior():
    from bayes_resil.bayes.priors import PRIOR_NAMES

    for name in ("weakly_informative", "skeptical", "diffuse"):
        cfg = compose([f"prior={name}"]).prior
        assert set(PRIOR_NAMES) <= set(cfg), name
    assert compose(["prior=skeptical"]).prior.effect.sigma == 0.1


# --- skeleton --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parity_run(study):
    cfg = compose(["model=twfe", "model.design=twfe", "prior=diffuse", "model.controls=false",
                   "sampler.draws=600",
                   "sampler.tune=600", "sampler.chains=2", "sampler.progress=false"])
    md = model_data(study, [])
    built = BUILDERS["twfe"](md, PriorSet(cfg.prior, md.y_sd, md.y.mean()), cfg.model)
    idata, _ = sample(built, cfg.sampler)
    return idata


def test_diffuse_twfe_posterior_agrees_with_ols(study, parity_run):
    """Issue #4: posterior mean within 0.1 posterior sd of the OLS TWFE estimate."""
    att = np.asarray(parity_run["posterior"]["att"]).reshape(-1)
    ols = fe_ols(study.panel, "y", ["d"], ["unit", "time"])["d"][0]
    assert abs(att.mean() - ols) < 0.1 * att.std()


# same seed, same draws (whatever sampler.cores): tests/test_resume.py


# --- every model, end to end (smoke sampler) --------------------------------------------------


@pytest.fixture(scope="module")
def freq_rows(study):
    return to_frame(baseline_twfe(study, compose([]).freq))


# robust design end to end: event_study (leads) and staggered (every aggregation); the
# default run (hetero_region) in tests/test_app.py; twfe and hetero_batch are built below
@pytest.mark.parametrize(("model", "design"), [
    ("event_study", "robust"), ("staggered", "robust"), ("hetero_region", "twfe"),
    ("staggered", "twfe"), *[(m, "twfe") for m in MODELS[5:]]])
def test_model_samples_and_writes_its_outputs(model, design, study, freq_rows, tmp_path):
    # the smoke sampler's 200 warm-up steps: with 100 the twfe design's centred group effects
    # left a chain stuck (all draws equal, PSIS-LOO undefined) for some seeds
    cfg = cfg_for(f"model={model}", *([f"model.design={design}"] if model in MODELS[:5]
                                      else []))
    res = run_bayes(study, cfg, freq_rows, tmp_path)
    for name in ("posterior.nc", "diagnostics.csv", "comparison.csv",
                 "figures/prior_predictive.png", "figures/trace.png", "figures/rank.png",
                 "figures/energy.png", "figures/forest.png", "figures/densities.png"):
        assert (tmp_path / name).is_file(), name
    rows = to_frame(res.rows)
    if design == "robust":  # the sample estimands and the same for the population
        sample, pop = rows[rows["method"] == f"bayes_{model}"], rows[
            rows["method"] == f"bayes_{model}_population"]
        assert len(sample) + len(pop) == len(rows) and len(pop) == len(sample)
        assert (pop["estimand"].to_numpy() == sample["estimand"].to_numpy()).all()
        assert rows["target"].str.startswith(("sample", "population")).all()
        # same centre, wider: the population adds the effect's spread across cities (not
        # where one city makes the estimand: event[7] is Hangzhou alone; and hardly where the
        # cities' effects are alike, as at event[0] here, so the bound allows the Monte Carlo
        # error of an sd from the smoke sampler's few draws: 0.5% narrower was seen there)
        both = sample.set_index("estimand").join(pop.set_index("estimand"),
                                                  suffixes=("", "_p"))
        assert (both["std_error_p"] >= 0.95 * both["std_error"]).all()
        assert both.loc["att", "std_error_p"] > 2 * both.loc["att", "std_error"]
        assert ((both["estimate_p"] - both["estimate"]).abs() < both["std_error_p"]).all()
    else:
        assert (rows["method"] == f"bayes_{model}").all()
    assert {"prob_positive", "r_hat", "ess_bulk"} <= set(rows.columns)
    assert (rows["ci_lower"] <= rows["estimate"]).all() and (
        rows["estimate"] <= rows["ci_upper"]).all()
    diag = pd.read_csv(tmp_path / "diagnostics.csv")
    assert {"parameter", "is_effect", "r_hat", "ess_bulk", "ess_tail", "mcse_mean",
            "divergences", "bfmi_min"} <= set(diag.columns)
    assert diag["is_effect"].any()
    comp = pd.read_csv(tmp_path / "comparison.csv")
    assert {"ols_estimate", "posterior_mean", "diff_in_ols_se", "width_ratio"} <= set(
        comp.columns)
    assert comp["ols_estimate"].notna().all()
    tree = xr.open_datatree(tmp_path / "posterior.nc", engine="h5netcdf")
    assert {"posterior", "log_likelihood", "posterior_predictive", "log_prior"} <= {
        g.strip("/") for g in tree.groups}
    if model in ("event_study", "staggered", "hetero_region"):  # PSIS-LOO runs on the file
        import arviz_stats as azs

        loo = azs.loo(tree)
        assert np.isfinite(loo.elpd) and loo.elpd > 0
    dims = set(tree["posterior"].dims)
    assert {"chain", "draw"} <= dims
    expected_dim = {"hetero_region": "region", "hetero_batch": "cohort",
                    "event_study": "event_time", "staggered": "cell"}.get(model)
    if design == "robust":  # free effects per treated city-year, averaged into estimands
        assert "effect_cell" in dims and (model == "twfe" or "estimand" in dims)
        assert comp["ols_method"].isin(["imputation", "event_study"]).all()
        assert comp["population_mean"].notna().all()
    elif expected_dim:
        assert expected_dim in dims
    if model in ("hetero_region", "hetero_batch") and design == "twfe":
        assert "shrinkage_factor" in comp.columns and (tmp_path / "figures/shrinkage.png").is_file()
    if model in ("event_study", "staggered"):
        assert (tmp_path / "figures/event_overlay.png").is_file()
    # simulated data: the truth stands in the comparison
    assert "true_effect" in comp.columns


def test_robust_models_report_the_estimands_of_their_name(study):
    """Built, not sampled: each robust model's estimands, their comparators (imputation) and
    weights that average treated city-years exactly as the simulator's truth does."""
    from bayes_resil.bayes.grid import city_grid
    from bayes_resil.bayes.models import robust
    from bayes_resil.bayes.models.robust import estimand_names, weights

    md = model_data(study, list(study.controls))
    priors = PriorSet(compose([]).prior, md.y_sd, md.y.mean())
    expect = {"twfe": set(), "hetero_region": {"att[East]", "att[Central]", "att[West]"},
              "hetero_batch": {f"att[cohort={g}]" for g in (2015, 2016, 2018, 2019, 2020)}}
    for model, names in expect.items():
        built = BUILDERS[model](md, priors, compose([f"model={model}"]).model)
        assert set(built.comparators) == {"att", *names}
        assert {m for m, _, _ in built.comparators.values()} == {"imputation"}
    cells = city_grid(md).cells
    w = weights(cells, estimand_names(cells, ("region",)))
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    truth = study.truth_cells.set_index(["unit", "time"])["tau"]
    tau = truth.reindex(list(zip(cells["unit"], cells["time"], strict=True))).to_numpy()
    east = cells["region"].to_numpy() == "East"
    assert w[estimand_names(cells, ("region",)).index("att[East]")] @ tau == pytest.approx(
        tau[east].mean())
    # staggered reports the regions whatever their number; hetero_region needs two
    one = cells[east]
    staggered = estimand_names(one, robust.FAMILIES["staggered"])
    assert "att[East]" in staggered and not any(n in staggered for n in ("att[West]",
                                                                         "att[Central]"))
    with pytest.raises(InputError, match="at least two regions"):
        estimand_names(one, ("region",))


def test_diagnostics_flag_a_deliberately_bad_run(study):
    cfg = compose(["model=hetero_region", "model.design=twfe", "sampler=smoke",
                   "sampler.tune=5", "sampler.draws=40"])
    md = model_data(study, list(study.controls))
    built = BUILDERS["hetero_region"](md, PriorSet(cfg.prior, md.y_sd, md.y.mean()), cfg.model)
    idata, _ = sample(built, {**cfg.sampler, "posterior_predictive": False})
    diag = diagnose(idata, built, cfg.sampler.checks)
    assert not diag.passed
    assert any("R-hat" in f or "ESS" in f for f in diag.failures)
    assert not diag.table["passed"].any()
