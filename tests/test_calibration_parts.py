"""Calibration study, part by part: the performance measures against closed forms, the truth
behind each estimate row, estimand names, SBC on a tiny model, and every simulation knob."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from bayes_resil.app import compose
from bayes_resil.bayes.fit import prepare
from bayes_resil.calibration.metrics import calibration_table, flag, performance
from bayes_resil.calibration.sbc import fit_ranks, simulate_prior, uniformity
from bayes_resil.calibration.truth import attach_truth, unit_time_keys
from bayes_resil.estimand import parse, sort_key
from bayes_resil.simulate import SimulationSpec
from bayes_resil.simulate_linear import LinearSpec
from bayes_resil.study import StudyData, load_study
from conftest import make_user_panel

# --- performance measures ----------------------------------------------------------------


def rows_for(est, truth, se, level=0.95, method="m"):
    z = 1.959963984540054
    return pd.DataFrame({"method": method, "estimand": "att", "outcome": "y",
                         "estimate": est, "true_effect": truth, "true_effect_panel": truth,
                         "std_error": se, "ci_lower": est - z * se, "ci_upper": est + z * se,
                         "ci_level": level})


def test_performance_measures_equal_their_closed_forms():
    """Morris, White & Crowther (2019), Table 6, computed here term by term."""
    rng = np.random.default_rng(3)
    n = 400
    truth = rng.normal(1.0, 0.1, n)
    est = truth + 0.02 + rng.normal(0, 0.1, n)
    se = np.full(n, 0.05)  # half the true error sd: under-covers
    got = performance(rows_for(est, truth, se))
    e = est - truth
    assert got["replications"] == n
    assert got["bias"] == pytest.approx(e.sum() / n, rel=1e-12)
    assert got["bias_mcse"] == pytest.approx(math.sqrt(((e - e.mean()) ** 2).sum()
                                                       / (n * (n - 1))), rel=1e-12)
    assert got["rmse"] == pytest.approx(math.sqrt((e**2).sum() / n), rel=1e-12)
    assert got["emp_sd"] == pytest.approx(math.sqrt(((e - e.mean()) ** 2).sum() / (n - 1)))
    assert got["se_ratio"] == pytest.approx(0.05 / got["emp_sd"], rel=1e-12)
    inside = np.abs(e) <= 1.959963984540054 * 0.05
    c = inside.mean()
    assert got["coverage"] == pytest.approx(c)
    assert got["coverage_mcse"] == pytest.approx(math.sqrt(c * (1 - c) / n))
    assert got["coverage_flag"] == "under-covers"
    # intervals of width 2 z se; reject_zero: none of them reaches 0 here
    assert got["mean_width"] == pytest.approx(2 * 1.959963984540054 * 0.05)
    assert got["reject_zero"] == 1.0
    # the population truth is the mean of the per-replication truths
    pop = truth.mean()
    assert got["coverage_population"] == pytest.approx(
        (np.abs(est - pop) <= 1.959963984540054 * 0.05).mean())


def _binom_two_sided(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial p-value: the probability of outcomes no likelier than k."""
    probs = [math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(n + 1)]
    return min(1.0, sum(q for q in probs if q <= probs[k] * (1 + 1e-7)))


@pytest.mark.parametrize(("k", "n"), [(95, 100), (89, 100), (88, 100), (86, 100), (100, 100),
                                      (200, 200), (180, 200), (9, 9)])
def test_coverage_flag_is_an_exact_binomial_test(k, n):
    expected = ("too few" if n < 10 else "ok" if _binom_two_sided(k, n, 0.95) >= 0.01
                else "under-covers" if k / n < 0.95 else "over-covers")
    assert flag(k, n, 0.95, 0.01) == expected


def test_calibration_table_counts_failed_fits_and_errors():
    rng = np.random.default_rng(0)
    rows = rows_for(rng.normal(0, 1, 20), np.zeros(20), np.ones(20), method="bayes_twfe")
    rows["diagnostics_ok"] = [False] * 3 + [True] * 17
    errors = pd.DataFrame({"method": ["bayes_twfe", "bayes_twfe"], "replication": [4, 4]})
    t = calibration_table(rows, errors=errors)
    assert t.loc[0, "failed"] == 3 and t.loc[0, "errors"] == 1
    assert t.loc[0, "replications"] == 20  # failed fits are counted, not dropped


# --- estimand names ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind"), [
    ("att", "att"), ("att[East]", "region"), ("att[cohort=2016]", "cohort"),
    ("att[time=2019]", "time"), ("event[-3]", "event"), ("event[4]", "event"),
    ("att[2016,2018]", "cell"), ("coef[lngdp]", "path"), ("indirect[ln_patents]", "path"),
    ("a_path[ln_patents]", "path"), ("pretrend_wald", "other"),
    ("att[batches=1-2]", "other"), ("bacon[earlier vs later]", "other")])
def test_estimand_names_parse_and_format_back(name, kind):
    e = parse(name)
    assert e.kind == kind and e.name() == name


def test_estimands_sort_in_reading_order():
    names = ["event[2]", "att[2016,2018]", "event[-1]", "att[cohort=2018]", "att",
             "att[West]", "event[10]", "att[cohort=2015]"]
    assert sorted(names, key=sort_key) == ["att", "att[West]", "att[cohort=2015]",
                                           "att[cohort=2018]", "event[-1]", "event[2]",
                                           "event[10]", "att[2016,2018]"]


# --- the truth behind each row ----------------------------------------------------------------


@pytest.fixture
def tiny_truth():
    """Three treated units (cohorts 2, 2, 3) over periods 1-5, tau known per cell."""
    cells = pd.DataFrame({
        "unit": ["a"] * 4 + ["b"] * 4 + ["c"] * 3, "time": [2, 3, 4, 5] * 2 + [3, 4, 5],
        "cohort": [2] * 8 + [3] * 3, "region": ["East"] * 4 + ["West"] * 7,
        "tau": [1.0, 2, 3, 4, 10, 20, 30, 40, 100, 200, 300],
        "tau_m": np.arange(11, dtype=float)})
    cells["event_time"] = cells["time"] - cells["cohort"]
    data = StudyData(panel=pd.DataFrame(), source="t", simulated=True, study=None, controls=[],
                     outcome_label="", truth_cells=cells)
    every = unit_time_keys(cells)
    # b's period-5 row dropped (a missing control) from the second sample
    fewer = unit_time_keys(cells[~((cells["unit"] == "b") & (cells["time"] == 5))])
    return data, {"all": every, "fewer": fewer}


def test_truth_is_the_mean_over_the_selected_treated_cells(tiny_truth):
    data, samples = tiny_truth
    est = pd.DataFrame({
        "method": ["x"] * 9 + ["placebo", "event_study", "y"],
        "estimand": ["att", "att[West]", "att[cohort=3]", "event[1]", "event[2]", "event[-2]",
                     "att[2,4]", "att[time=5]", "att", "att", "event[-1]", "a_path[m]"],
        "outcome": ["y"] * 8 + ["m", "y", "y", "y"],
        "note": ["", "", "", "", "binned: event time >= 2", "", "", "", "", "", "reference "
                 "period (normalised to 0)", ""],
        "estimate": 0.0, "std_error": 1.0, "ci_lower": -1.0, "ci_upper": 1.0})
    t = attach_truth(est, data, samples, pd.Series("all", index=est.index))
    got = dict(zip(t["method"] + " " + t["estimand"] + " " + t["outcome"], t["true_effect"],
                   strict=True))
    tau = data.truth_cells["tau"]
    assert got["x att y"] == pytest.approx(tau.mean())
    assert got["x att[West] y"] == pytest.approx(tau[4:].mean())
    assert got["x att[cohort=3] y"] == pytest.approx((100 + 200 + 300) / 3)
    assert got["x event[1] y"] == pytest.approx((2 + 20 + 200) / 3)
    assert got["x event[2] y"] == pytest.approx((3 + 4 + 30 + 40 + 300) / 5)  # binned >= 2
    assert got["x event[-2] y"] == 0.0  # before adoption: no effect in the simulators
    assert got["x att[2,4] y"] == pytest.approx((3 + 30) / 2)
    assert got["x att[time=5] y"] == pytest.approx((4 + 40 + 300) / 3)
    assert got["x att m"] == pytest.approx(np.arange(11).mean())
    assert got["y a_path[m] y"] == pytest.approx(np.arange(11).mean())  # effect of d on m
    assert "placebo att y" not in got and "event_study event[-1] y" not in got
    # estimation sample without (b, 5): the sample truth moves, the panel truth does not
    t2 = attach_truth(est.iloc[:1], data, samples, pd.Series("fewer", index=[0]))
    assert t2["true_effect"].iloc[0] == pytest.approx((tau.sum() - 40) / 10)
    assert t2["true_effect_panel"].iloc[0] == pytest.approx(tau.mean())
    assert t2["truth_cells"].iloc[0] == 10


# --- simulation knobs -------------------------------------------------------------------------


@pytest.mark.parametrize(("option", "spec"), [("simulated", SimulationSpec),
                                              ("linear", LinearSpec)])
def test_every_simulation_knob_is_in_the_config_with_its_default(option, spec):
    cfg = compose([f"data={option}"]).data.simulation
    fields = {f.name: f for f in dataclasses.fields(spec) if f.name != "roster"}
    assert set(cfg) == set(fields)
    default = spec()
    for name in fields:
        value = OmegaConf.to_container(cfg)[name]
        if isinstance(value, dict):
            value = {(int(k) if name == "batch_mult" else k): v for k, v in value.items()}
        assert value == getattr(default, name), name


def test_a_knob_is_set_without_plus_and_changes_the_panel():
    cfg = compose(["data.simulation.noise_rho=0.9", "data.simulation.seed=5"])
    assert cfg.data.simulation.noise_rho == 0.9
    a = load_study(cfg.data, cfg.index).panel["y"]
    b = load_study(compose(["data.simulation.seed=5"]).data, cfg.index).panel["y"]
    assert a.notna().sum() == b.notna().sum() and not np.allclose(a.fillna(0), b.fillna(0))


def test_linear_panel_has_its_textbook_properties():
    cfg = compose(["data=linear", "data.simulation.noise_rho=0.7", "data.simulation.noise_sd=1",
                   "data.simulation.unit_sd=0", "data.simulation.time_sd=0",
                   "data.simulation.effect_growth=0.01"])
    data = load_study(cfg.data, None)
    p = data.panel
    # y = effect + growth x event time on treated rows, AR(1) noise otherwise
    truth = data.truth.set_index("estimand")["true_effect"]
    assert truth["event[0]"] == pytest.approx(0.03) and truth["event[3]"] == pytest.approx(0.06)
    resid = (p["y"] - p["d"] * (0.03 + 0.01 * p["event_time"].fillna(0))).to_numpy()
    wide = resid.reshape(p["unit"].nunique(), -1)
    lag1 = np.corrcoef(wide[:, 1:].ravel(), wide[:, :-1].ravel())[0, 1]
    assert lag1 == pytest.approx(0.7, abs=0.03)
    assert wide.std() == pytest.approx(1.0, rel=0.03)


# --- simulation-based calibration -------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_design(tmp_path_factory):
    path = tmp_path_factory.mktemp("sbc") / "panel.csv"
    make_user_panel(seed=3, n_units=40, years=(2001, 2008), unbalanced=False).to_csv(
        path, index=False)
    return load_study(OmegaConf.create({
        "source": "file", "path": str(path), "never_treated": [0],
        "columns": {"unit": "firm", "time": "year", "cohort": "first_treat",
                    "outcome": "sales"}}), None)


def sbc_pvalues(data, gen_overrides, fit_overrides, sims=40):
    base = ["model=twfe", "model.design=twfe", "model.controls=false", "sampler.chains=2",
            "sampler.draws=200",
            "sampler.tune=300"]
    _, _, gen = prepare(data, compose([*base, *gen_overrides]))
    cfg = compose([*base, *fit_overrides])
    _, _, fit = prepare(data, cfg)
    draws = simulate_prior(gen, sims, seed=11)
    ranks = fit_ranks(fit, draws, list(range(sims)), cfg.sampler, rank_draws=99, seed=5)
    return {p: uniformity(g["pit"].to_numpy()) for p, g in ranks.groupby("parameter")}


def test_sbc_ranks_are_uniform_for_a_tiny_model_and_not_with_a_misscaled_prior(tiny_design):
    ok = sbc_pvalues(tiny_design, [], [])
    assert set(ok) == {"att", "unit_sd", "sigma"}
    assert min(ok.values()) > 0.01 / 3, ok  # the Bonferroni bound the study uses
    # the same data, fitted with an effect prior 50 times too narrow: the effect's ranks pile
    # up at the ends (the posterior is pulled to 0, away from the drawn effect)
    bad = sbc_pvalues(tiny_design, [], ["prior.effect.sigma=0.02"])
    assert bad["att"] < 1e-4, bad


def test_uniformity_test_accepts_uniform_and_rejects_peaked_values():
    rng = np.random.default_rng(1)
    assert uniformity(rng.uniform(size=200)) > 0.05
    assert uniformity(rng.beta(4, 4, size=200)) < 1e-3


def test_workers_and_the_sampler_use_their_share_of_blas_threads(monkeypatch):
    """A calibration worker's BLAS gets the cores over the workers (at least one thread), and
    sampling always runs with one BLAS thread whatever the process has, so a seed draws the same
    in a single run and in a worker (measured: 4 replications, 2 workers vs one process, equal
    to the last bit; README "Development")."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from bayes_resil.bayes import sampling
    from bayes_resil.calibration.runner import _with_blas_threads
    from bayes_resil.parallel import BLAS_THREAD_VARIABLES, blas_share

    assert [blas_share(j, available=a) for j, a in ((2, 2), (1, 8), (3, 2), (2, 8))] == [
        1, 8, 1, 4]
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert blas, "no BLAS library loaded: the check below would say nothing"
    for var in BLAS_THREAD_VARIABLES:
        monkeypatch.setenv(var, os.environ.get(var, "1"))  # restored after the test
    with threadpool_limits(2):
        seen = _with_blas_threads(1, lambda: [lib["num_threads"] for lib in threadpool_info()
                                              if lib["user_api"] == "blas"])
        assert seen and set(seen) == {1}

        class Seen(Exception):
            pass

        def fake_sample(**_):
            raise Seen([lib["num_threads"] for lib in threadpool_info()
                        if lib["user_api"] == "blas"])

        monkeypatch.setattr(sampling.pm, "sample", fake_sample)
        cfg = compose(["data=file", "sampler=smoke"])
        built = type("Built", (), {"model": sampling.pm.Model(), "marginal": None})()
        with pytest.raises(Seen) as got:
            sampling.sample(built, cfg.sampler)
        assert set(got.value.args[0]) == {1}
        assert {lib["num_threads"] for lib in threadpool_info()
                if lib["user_api"] == "blas"} == {2}  # restored after the sampler
