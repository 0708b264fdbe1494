"""``python -m bayes_resil.calibrate`` through the real CLI: coverage of a textbook case,
a deliberately halved SE caught, failed fits and failed blocks counted, several models on one
set of panels, a killed study resumed, and bad input refused before any work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from conftest import calibrate

Z = norm.ppf(0.975)


@pytest.fixture(scope="module")
def textbook(tmp_path_factory):
    """TWFE with classical SEs on panels drawn from its own model (constant effect, iid normal
    errors): the SE is exact by construction, so the intervals must cover 95%. Its SE halved
    (``calibration.se_scale``) must be flagged."""
    out = tmp_path_factory.mktemp("cal") / "textbook"
    proc = calibrate(f"hydra.run.dir={out}", "data=linear", "model=none", "freq=baseline",
                     "freq.vcov=iid", "calibration.replications=150",
                     "calibration.se_scale={twfe:0.5}", "calibration.progress_every=0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_textbook_estimator_covers_and_halved_se_is_flagged(textbook):
    out, _ = textbook
    t = pd.read_csv(out / "calibration.csv").set_index("method")
    n, level = 150, 0.95
    right = t.loc["twfe"]
    assert right["estimand"] == "att" and right["replications"] == n
    # within 3 Monte-Carlo SEs of the nominal level (MCSE at the nominal level)
    assert abs(right["coverage"] - level) <= 3 * np.sqrt(level * (1 - level) / n)
    assert right["coverage_flag"] == "ok"
    assert abs(right["bias"]) <= 3 * right["bias_mcse"]
    assert abs(right["se_ratio"] - 1) <= 3 * right["se_ratio_mcse"]
    halved = t.loc["twfe (se x0.5)"]
    expected = 2 * norm.cdf(Z * 0.5) - 1  # 0.67 for an unbiased normal estimator
    assert halved["coverage_flag"] == "under-covers"
    assert abs(halved["coverage"] - expected) <= 3 * np.sqrt(expected * (1 - expected) / n)
    assert halved["se_ratio"] == pytest.approx(0.5 * right["se_ratio"])


def test_rows_carry_the_truth_seed_and_interval(textbook):
    out, proc = textbook
    rows = pd.read_csv(out / "calibration_rows.csv")
    need = {"replication", "seed", "method", "estimand", "estimate", "std_error", "ci_lower",
            "ci_upper", "true_effect", "covers"}
    assert need <= set(rows.columns)
    twfe = rows[rows["method"] == "twfe"]
    assert sorted(twfe["seed"]) == list(range(1000, 1150))  # calibration.seed + r
    # the constant effect of data=linear (y - y(0) of each treated cell, averaged)
    assert np.allclose(twfe["true_effect"], 0.03, rtol=0, atol=1e-12)
    covers = (twfe["ci_lower"] <= 0.03) & (0.03 <= twfe["ci_upper"])
    assert (covers == twfe["covers"].astype(bool)).all()
    log = proc.stdout + proc.stderr
    assert "150/150 replications" in log and "ETA" in log
    assert (out / "calibration_report.html").is_file()
    assert (out / "figures" / "coverage.png").is_file()
    assert "SIMULATED DATA" in (out / "summary.txt").read_text()


def test_report_numbers_are_those_of_calibration_csv(textbook, browser):
    from selenium.webdriver.common.by import By

    out, _ = textbook
    table = pd.read_csv(out / "calibration.csv")
    browser.get((out / "calibration_report.html").as_uri())
    cells = browser.find_elements(By.CSS_SELECTOR, "table[data-table=calibration] td[data-value]")
    assert cells
    for c in cells:
        row = table[(table["method"] == c.get_attribute("data-method"))
                    & (table["estimand"] == c.get_attribute("data-estimand"))].iloc[0]
        assert float(c.get_attribute("data-value")) == pytest.approx(
            row[c.get_attribute("data-field")], rel=1e-12, abs=1e-15)
    alert = browser.find_element(By.CSS_SELECTOR, ".alert-error")
    assert "under-cover" in alert.text and "twfe (se x0.5)" in alert.text
    images = browser.find_elements(By.TAG_NAME, "img")
    assert images and all(browser.execute_script(
        "return arguments[0].complete && arguments[0].naturalWidth > 100", i) for i in images)


def test_failed_fits_are_counted_models_share_the_panels_and_sbc_runs(tmp_path):
    """The smoke sampler fails the diagnostics by design: the study counts every such fit,
    keeps its rows, fits both models to the same simulated panels, and runs SBC of both; run
    again, nothing is refitted."""
    args = ["data=linear", "freq=baseline", "sampler=smoke",
            "calibration.models=[twfe,hetero_region]", "calibration.replications=1",
            "calibration.sbc.simulations=5", "model.design=twfe"]
    out = tmp_path / "calibration" / "study"
    proc = calibrate(f"hydra.run.dir={out}", *args, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    log = proc.stdout + proc.stderr
    assert "1 replication(s) x 3 unit(s) (freq, bayes_twfe, bayes_hetero_region)" in log
    rows = pd.read_csv(out / "calibration_rows.csv")
    bayes = rows[rows["method"].str.startswith("bayes_")]
    assert set(bayes["method"]) == {"bayes_twfe", "bayes_hetero_region"}
    assert set(bayes["estimand"]) >= {"att", "att[East]", "att[Central]", "att[West]"}
    assert (~bayes["diagnostics_ok"].astype(bool)).all()
    # one panel per replication: every model saw the same seed as the frequentist rows
    for m in ("bayes_twfe", "bayes_hetero_region", "twfe"):
        assert rows.loc[rows["method"] == m, "seed"].unique().tolist() == [1000]
    t = pd.read_csv(out / "calibration.csv").set_index(["method", "estimand"])
    assert t.loc[("bayes_twfe", "att"), "failed"] == 1
    assert t.loc[("bayes_twfe", "att"), "replications"] == 1
    report = (out / "calibration_report.md").read_text()
    assert "MCMC diagnostics failed" in report and "Simulation-based calibration" in report
    # SBC: every prior draw ranked for every effect and hyper parameter of both models
    ranks = pd.read_csv(out / "sbc_ranks.csv")
    sbc = pd.read_csv(out / "sbc.csv")
    assert set(sbc["model"]) == {"twfe", "hetero_region"}
    assert set(sbc.loc[sbc["model"] == "twfe", "parameter"]) == {"att", "unit_sd", "sigma"}
    assert {"effect[East]", "effect_sd"} <= set(sbc.loc[sbc["model"] == "hetero_region",
                                                        "parameter"])
    assert (sbc["simulations"] == 5).all() and sbc["p_value"].between(0, 1).all()
    assert ranks["rank"].between(0, 99).all() and len(ranks) == 5 * len(sbc)
    assert (out / "figures" / "sbc_twfe.png").is_file()
    # the same study again: replications and SBC fits are found by key, nothing is refitted
    again_out = tmp_path / "calibration" / "again"
    again = calibrate(f"hydra.run.dir={again_out}", *args, cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    log = again.stdout + again.stderr
    assert "3 unit(s) reused from earlier studies, 0 replication(s) to compute" in log
    assert "SBC twfe: 5 simulation(s), 0 to fit" in log
    pd.testing.assert_frame_equal(pd.read_csv(again_out / "sbc_ranks.csv"), ranks)


def test_a_failing_block_is_recorded_and_the_study_goes_on(tmp_path):
    out = tmp_path / "study"
    proc = calibrate(f"hydra.run.dir={out}", "data=linear", "model=none", "freq=staggered",
                     "freq.blocks=[baseline,callaway_santanna]",
                     "freq.callaway_santanna.covariates=[bogus]", "calibration.replications=3")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = pd.read_csv(out / "calibration_rows.csv")
    errors = rows[rows["error"].notna()]
    assert len(errors) == 3 and set(errors["method"]) == {"callaway_santanna"}
    assert errors["error"].str.contains("bogus").all()
    assert (rows["method"] == "twfe").sum() == 3
    assert "unit(s) of work failed" in (out / "calibration_report.md").read_text()
    # a config / data failure of a block is reported with its reason, not as a bug
    log = proc.stdout + proc.stderr
    assert "Traceback" not in log and "freq step callaway_santanna FAILED on the data" in log


def test_a_killed_study_resumes_without_recomputing(tmp_path):
    n = 40
    args = ["data=linear", "model=none", "freq=baseline", f"calibration.replications={n}",
            "calibration.jobs=1", "calibration.progress_every=0"]
    first = tmp_path / "calibration" / "first"
    proc = subprocess.Popen([sys.executable, "-m", "bayes_resil.calibrate",
                             f"hydra.run.dir={first}", *args], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    reps = first / "replications"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(reps.glob("r*.csv"))) < 10:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {p.name: p.stat().st_ino for p in reps.glob("r*.csv")}
    assert 10 <= len(done_before) < n, len(done_before)
    assert not (first / "calibration.csv").exists()
    second = tmp_path / "calibration" / "second"
    again = calibrate(f"hydra.run.dir={second}", *args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (f"{len(done_before)} unit(s) reused from earlier studies, "
            f"{n - len(done_before)} replication(s) to compute") in again.stdout
    # the finished replications are the killed study's own files (hard links), not recomputed
    for name, inode in done_before.items():
        assert (second / "replications" / name).stat().st_ino == inode
    rows = pd.read_csv(second / "calibration_rows.csv")
    assert sorted(rows["replication"]) == list(range(n))
    # force=true recomputes everything, with the same numbers
    forced = tmp_path / "calibration" / "forced"
    f = calibrate(f"hydra.run.dir={forced}", *args, "force=true", cwd=tmp_path)
    assert "0 unit(s) reused" in f.stdout
    pd.testing.assert_frame_equal(
        rows.drop(columns="seconds"),
        pd.read_csv(forced / "calibration_rows.csv").drop(columns="seconds"))


def compose_calibrate(overrides):
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    with initialize_config_module(config_module="bayes_resil.conf", version_base="1.3"):
        cfg = compose(config_name="calibrate", overrides=overrides)
    OmegaConf.resolve(cfg)
    return cfg


@pytest.mark.parametrize(("args", "message"), [
    (["calibration.replications=-3"], "at least one replication"),
    (["+data.simulation.bogus=1"], "unknown config key(s), not used by anything: "
                                   "data.simulation.bogus"),
    (["data=linear", "model=iv"], "model iv cannot run on this design"),
    (["data=file", "data.path=x.csv"], "needs simulated data"),
    (["model=none", "calibration.sbc.simulations=5"], "has no Bayesian model"),
    (["model=mediation", "calibration.sbc.simulations=5"], "single-equation models"),
    (["model=twfe", "calibration.sbc.simulations=5"], "add model.design=twfe for SBC"),
    (["model=none", "freq.blocks=[]"], "nothing to calibrate"),
])
def test_bad_input_stops_before_any_work(tmp_path, args, message):
    from bayes_resil.calibration.runner import run_calibration
    from bayes_resil.errors import InputError

    out = tmp_path / "study"
    with pytest.raises(InputError) as err:
        run_calibration(compose_calibrate(["freq=baseline", *args]), out)
    assert message in str(err.value)
    assert not (out / "replications").exists()


def test_bad_input_through_the_cli_exits_2_without_a_traceback(tmp_path):
    out = tmp_path / "study"
    proc = calibrate(f"hydra.run.dir={out}", "calibration.replications=0")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "at least one replication" in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / "replications").exists()
    # a knob that does not exist is refused by Hydra itself, by name
    proc = calibrate(f"hydra.run.dir={tmp_path / 's'}", "data.simulation.bogus=1")
    assert proc.returncode != 0 and "bogus" in proc.stderr
    assert not (tmp_path / "s" / "replications").exists()
