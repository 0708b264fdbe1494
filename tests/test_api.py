"""The Python API (``import bayes_resil as br``): same numbers as the command line, options
under the CLI's names, results that return rather than print, comparisons of the model's own
specification, and an ``estimates.csv`` keyed by (method, estimand, outcome)."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import bayes_resil as br
from bayes_resil.app import compose, run
from bayes_resil.bayes.comparators import MODEL_SPEC, comparator_rows
from bayes_resil.bayes.summarise import comparison
from bayes_resil.errors import InputError
from bayes_resil.estimates import Estimate, to_frame
from bayes_resil.freq.event_study import event_study
from bayes_resil.freq.imputation import imputation
from bayes_resil.run_files import estimates_frame
from bayes_resil.study import load_study

USER_COLUMNS = dict(unit="firm", time="year", cohort="first_treat", outcome="sales",
                    controls=["x1", "x2"])
NUMBERS = ["estimate", "std_error", "ci_lower", "ci_upper", "n_obs"]
KW = dict(level=0.95, vcov="cluster", cluster="unit", drop_singletons=True, tag="simulated")


def test_import_is_light_and_exports_what_it_lists():
    code = ("import sys, bayes_resil as br; assert 'pymc' not in sys.modules; "
            "assert callable(br.fit) and callable(br.load_panel); "
            "assert 'pymc' not in sys.modules; print(sorted(br.__all__))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in br.__all__:
        assert getattr(br, name) is not None


def test_cli_and_api_give_identical_numbers(user_panel, tmp_path):
    """One code path: the command line's run and the API's calls write the same numbers."""
    path = tmp_path / "panel.csv"
    user_panel.to_csv(path, index=False)
    cli_out = run(compose([
        "data=file", f"data.path={path}", "data.columns.unit=firm", "data.columns.time=year",
        "data.columns.cohort=first_treat", "data.columns.outcome=sales",
        "data.columns.controls=[x1,x2]", "freq=baseline",
        "freq.blocks=[baseline,event_study,imputation]", "model=twfe", "model.design=twfe",
        "sampler=smoke", "sampler.backend=pymc"]), tmp_path / "cli")

    panel = br.load_panel(user_panel, **USER_COLUMNS)
    freq = br.frequentist(panel, "baseline", blocks=["baseline", "event_study", "imputation"])
    fit = br.fit(panel, model={"name": "twfe", "design": "twfe"},
                 sampler={"name": "smoke", "backend": "pymc"})
    api_out = fit.save(tmp_path / "api", freq=freq)

    key = ["method", "estimand", "outcome"]
    cli_est = pd.read_csv(cli_out / "estimates.csv").set_index(key).sort_index()
    api_est = pd.read_csv(api_out / "estimates.csv").set_index(key).sort_index()
    assert list(cli_est.index) == list(api_est.index)
    assert {"bayes_twfe", "twfe", "imputation", "event_study"} <= set(
        cli_est.index.get_level_values("method"))
    pd.testing.assert_frame_equal(cli_est[NUMBERS], api_est[NUMBERS])
    # the returned objects hold the same numbers as the files
    mine = pd.concat([freq.estimates(), fit.estimates()]).set_index(key).sort_index()
    pd.testing.assert_frame_equal(mine[NUMBERS], api_est[NUMBERS], check_dtype=False)
    comp = pd.read_csv(cli_out / "comparison.csv")
    assert np.allclose(comp["posterior_mean"], fit.compare(freq)["posterior_mean"])
    for name in ("posterior.nc", "diagnostics.csv", "report.html", "summary.txt",
                 "figures/forest.png", "tables/tables.md"):
        assert (api_out / name).is_file(), name
    # nothing is overwritten
    with pytest.raises(InputError, match="not empty"):
        fit.save(api_out, freq=freq)
    # results return figures and tables, they do not print or write
    assert fit.plot_forest(freq).axes and freq.plot_event_study().axes
    assert {"parameter", "r_hat", "ess_bulk"} <= set(fit.diagnostics().columns)
    assert "posterior" in fit.posterior.children
    assert set(freq.steps()["status"]) == {"ok"}


def test_a_dataframe_and_its_file_load_the_same_panel(user_panel, tmp_path):
    path = tmp_path / "panel.csv"
    user_panel.to_csv(path, index=False)
    from_frame = br.load_panel(user_panel, **USER_COLUMNS)
    from_file = br.load_panel(path, **USER_COLUMNS)
    pd.testing.assert_frame_equal(from_frame.panel, from_file.panel, check_dtype=False)
    assert from_frame.source.startswith("DataFrame") and from_file.source.startswith("file")
    assert "first_treat" in user_panel.columns  # the caller's frame is not modified
    with pytest.raises(InputError, match="sales2"):
        br.load_panel(user_panel, **{**USER_COLUMNS, "outcome": "sales2"})


def test_simulate_panel_is_the_cli_panel(study):
    assert study.source.endswith("not the paper's EPS data")
    panel = br.simulate_panel()  # the default seed: the command line's default panel
    pd.testing.assert_frame_equal(panel.panel, study.panel)
    pd.testing.assert_frame_equal(panel.truth, study.truth)
    null = br.simulate_panel(seed=3, kind="linear", effect=0.0, effect_growth=0.0)
    cfg = compose(["data=linear", "data.simulation.seed=3", "data.simulation.effect=0",
                   "data.simulation.effect_growth=0"])
    pd.testing.assert_frame_equal(null.panel, load_study(cfg.data, cfg.index).panel)
    assert (null.truth["true_effect"] == 0).all()
    with pytest.raises(InputError, match="noise_rh"):
        br.simulate_panel(noise_rh=0.9)


def test_options_take_the_cli_names_and_refuse_unknown_ones():
    from bayes_resil.options import build_config

    scope = ("model", "prior", "sampler")
    cfg = build_config({"model": "staggered", "sampler": {"name": "thin", "tune": 200}},
                       options={"draws": 300, "errors": "iid", "effect": {"sigma": 0.5}},
                       overrides=["model.trend_mean=false"], scope=scope)
    assert cfg.model.name == "staggered" and cfg.sampler.name == "thin"
    assert (cfg.sampler.draws, cfg.sampler.tune, cfg.model.errors) == (300, 200, "iid")
    assert cfg.prior.effect.sigma == 0.5 and cfg.prior.effect.dist == "Normal"
    assert cfg.model.trend_mean is False
    with pytest.raises(InputError, match="unknown option 'drawz'.*sampler: .*draws"):
        build_config({}, options={"drawz": 300}, scope=scope)
    with pytest.raises(InputError, match="'name' is in 3 places"):
        build_config({}, options={"name": "x"}, scope=scope)
    with pytest.raises(InputError, match=r"model='hetero_regio' is not an option.*hetero_region"):
        build_config({"model": "hetero_regio"}, options={}, scope=scope)
    with pytest.raises(InputError, match=r"unknown option 'sampler.drawz'"):
        build_config({"sampler": {"drawz": 1}}, options={}, scope=scope)


def _fake_model(comparators: dict, name: str = "event_study"):
    return SimpleNamespace(name=name, comparators=comparators, unpooled={},
                           pooled_mean_var=None)


def test_a_different_event_window_is_reestimated_under_its_own_name(study):
    """The model's window [-3, 3] is not the frequentist step's [-5, 5]: the comparator rows
    are the event study with the model's window, never the frequentist step's rows."""
    freq_cfg = compose([]).freq
    controls = list(study.controls)
    freq_rows = event_study(study, freq_cfg.event_study, controls, **KW)
    est = to_frame(freq_rows)
    built = _fake_model({"event[-2]": ("event_study", "event[-2]", "y")})
    model_cfg = {"window": [-3, 3], "reference": -1, "controls": True}
    rows, methods = comparator_rows(built, study, est, model_cfg, freq_cfg, controls,
                                    have_spec=True, level=0.95)
    assert methods == {"event_study": "event_study" + MODEL_SPEC}
    mine = to_frame(rows).set_index("estimand")
    direct = to_frame(event_study(study, {"window": [-3, 3], "reference": -1}, controls,
                                  **KW)).set_index("estimand")
    assert np.allclose(mine.loc["event[-2]", "estimate"], direct.loc["event[-2]", "estimate"])
    assert "window [-3, 3]" in mine.loc["event[-2]", "note"]
    # the two windows' event[-2] differ, and the comparison takes the model's
    freq_est = est.set_index("estimand").loc["event[-2]", "estimate"]
    assert abs(freq_est - direct.loc["event[-2]", "estimate"]) > 1e-6
    bayes = Estimate("event[-2]", "bayes_event_study", 0.0, 1.0, -2.0, 2.0, 1,
                     extra={"prob_positive": 0.5})
    table = comparison(built, pd.concat([est, to_frame([*rows, bayes])]), None,
                       methods=methods)
    assert table["ols_method"].item() == "event_study" + MODEL_SPEC
    assert np.isclose(table["ols_estimate"].item(), direct.loc["event[-2]", "estimate"])
    # every key once: the frequentist step's rows and the model's sit side by side
    estimates_frame([*freq_rows, *rows, bayes])
    # the same window: the frequentist step's rows are used, nothing is re-estimated
    same = {"window": list(freq_cfg.event_study.window), "reference": -1, "controls": True}
    rows, methods = comparator_rows(built, study, est, same, freq_cfg, controls,
                                    have_spec=True, level=0.95)
    assert rows == [] and methods == {"event_study": "event_study"}


def test_a_model_without_controls_is_compared_with_an_estimator_without_them(study):
    freq_cfg = compose([]).freq  # with_controls=true
    est = to_frame(imputation(study, {"pretrend_leads": 0}, list(study.controls), **KW)[0])
    built = _fake_model({"att": ("imputation", "att", "y")}, name="twfe")
    rows, methods = comparator_rows(built, study, est, {"controls": False}, freq_cfg, [],
                                    have_spec=True, level=0.95)
    assert methods["imputation"] == "imputation" + MODEL_SPEC
    att = to_frame(rows).set_index("estimand").loc["att"]
    direct = to_frame(imputation(study, {"pretrend_leads": 0}, [], **KW)[0]).set_index(
        "estimand").loc["att"]
    assert np.isclose(att["estimate"], direct["estimate"])
    assert not np.isclose(att["estimate"], est.set_index("estimand").loc["att", "estimate"])
    assert "controls none" in att["note"]


def test_estimates_never_repeat_a_key():
    row = Estimate("att", "twfe", 1.0, 0.1, 0.8, 1.2, 10)
    with pytest.raises(RuntimeError, match="repeat"):
        estimates_frame([row, row])
