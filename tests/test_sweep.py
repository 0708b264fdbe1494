"""Sweeps: a 4-job joblib multirun with the smoke sampler (every job in its own directory, the
sweep comparison, PSIS-LOO and the sweep report written at the end), a failed job that does not
end the sweep, the comparison rebuilt from the directory, and the launcher presets."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.special import logsumexp
from selenium.webdriver.common.by import By

from bayes_resil.compare import main as compare_main
from bayes_resil.compare import sweep_table

# the twfe design: its effect priors act (the robust design's effects have flat priors)
SWEEP = ["model=twfe,hetero_region", "model.design=twfe", "prior=weakly_informative,skeptical",
         "sampler=smoke", "sampler.cores=1", "freq=baseline"]


def multirun(root, *args, timeout=900):
    return subprocess.run([sys.executable, "-m", "bayes_resil", "-m", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=root)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    proc = multirun(root, "hydra/launcher=joblib", *SWEEP, f"hydra.sweep.dir={root / 'multi'}")
    assert proc.returncode == 0, proc.stderr
    return root / "multi", proc


def test_joblib_sweep_runs_jobs_in_parallel_within_the_cores(sweep):
    multi, proc = sweep
    log = proc.stdout + proc.stderr
    # sampler.cores=1: one core per job, so as many jobs at once as cores (2 here, or more)
    assert "Joblib.Parallel(n_jobs=" in log and "is launching 4 jobs" in log
    from bayes_resil.parallel import available_cores
    assert f"Joblib.Parallel(n_jobs={available_cores()}," in log
    assert sorted(p.name for p in multi.iterdir() if p.is_dir() and p.name.isdigit()) == [
        "0", "1", "2", "3"]


def test_sweep_comparison_holds_every_job(sweep):
    multi, _ = sweep
    table = pd.read_csv(multi / "sweep_comparison.csv")
    assert (table.drop_duplicates("job")["status"] == "finished").all()
    bayes = table[table["method"].str.startswith("bayes_") & (table["estimand"] == "att")]
    assert len(bayes) == 4 and bayes["diagnostics_ok"].notna().all()
    for r in bayes.itertuples():
        est = pd.read_csv(multi / str(r.job) / "estimates.csv")
        own = est.query("method == @r.method and estimand == 'att'")["estimate"].iloc[0]
        assert r.estimate == pytest.approx(own, rel=1e-12)
    # the skeptical prior pulls the TWFE effect toward zero relative to the weakly informative
    twfe = bayes[bayes["method"] == "bayes_twfe"]
    by_prior = twfe.set_index(twfe["overrides"].str.extract(r"prior=(\w+)")[0])["estimate"]
    assert by_prior["skeptical"] < by_prior["weakly_informative"]
    assert (multi / "sweep_comparison.png").is_file()


def test_loo_comparison_matches_an_independent_computation(sweep):
    multi, _ = sweep
    loo = pd.read_csv(multi / "loo_comparison.csv", dtype={"job": str})
    assert len(loo) == 4 and loo["group"].nunique() == 1  # same observations in every job
    assert sorted(loo["rank"]) == [0, 1, 2, 3] and loo["weight"].sum() == pytest.approx(1)
    best = loo.loc[loo["rank"] == 0, "elpd_loo"].iloc[0]
    assert np.allclose(loo["elpd_diff"], loo["elpd_loo"] - best)
    for r in loo.itertuples():
        tree = xr.open_datatree(multi / r.job / "posterior.nc", engine="h5netcdf")
        ll = tree["log_likelihood"]["y"].to_numpy()
        tree.close()
        ll = ll.reshape(-1, ll.shape[-1])
        s = ll.shape[0]
        lppd = (logsumexp(ll, axis=0) - np.log(s)).sum()
        # p_loo = lppd - elpd_loo (definition); plain importance sampling (harmonic mean) is
        # close to PSIS when the tails are light
        assert r.p_loo == pytest.approx(lppd - r.elpd_loo, rel=1e-9)
        elpd_is = -(logsumexp(-ll, axis=0) - np.log(s)).sum()
        assert abs(elpd_is - r.elpd_loo) < 0.01 * abs(r.elpd_loo)
        assert r.n_obs == ll.shape[1] and r.n_draws == s
        assert (r.n_k_bad > 0) == isinstance(r.warning, str)
    influential = pd.read_csv(multi / "loo_influential.csv", dtype={"job": str})
    assert influential.groupby("job").size().reindex(loo["job"], fill_value=0).tolist() == \
        loo["n_k_bad"].tolist()
    panel = pd.read_csv(multi / "0" / "panel.csv")
    known = set(zip(panel["unit"].astype(str), panel["time"], strict=True))
    assert set(zip(influential["unit"].astype(str), influential["time"], strict=True)) <= known


def test_sweep_report_opens_and_links_every_job(sweep, browser):
    multi, _ = sweep
    browser.get((multi / "sweep_report.html").resolve().as_uri())
    assert browser.title.startswith("bayes_resil sweep report")
    images = browser.execute_script(
        "return Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert images == [True]
    links = [a.get_attribute("href") for a in
             browser.find_elements(By.CSS_SELECTOR, "table[data-table=jobs] a")]
    assert len(links) == 4 and all(h.endswith("/report.html") for h in links)
    assert all((multi / h.split("/")[-2] / "report.html").is_file() for h in links)
    table = pd.read_csv(multi / "sweep_comparison.csv")
    for cell in browser.find_elements(By.CSS_SELECTOR, "td[data-field=estimate]"):
        mine = ((table["job"] == int(cell.get_attribute("data-job")))
                & (table["method"] == cell.get_attribute("data-method"))
                & (table["estimand"] == "att"))
        value = table[mine]
        assert float(cell.get_attribute("data-value")) == value["estimate"].iloc[0]
    assert browser.find_elements(By.CSS_SELECTOR, "table[data-table=loo]")


def test_sweep_report_shows_every_jobs_verdicts(sweep, browser):
    """sweep_claims.csv and the report's claims-by-job table are the jobs' own verdicts; a
    claim is marked as changing exactly when its verdicts differ across jobs."""
    multi, _ = sweep
    table = pd.read_csv(multi / "sweep_claims.csv", dtype={"job": str})
    assert sorted(table["job"].unique()) == ["0", "1", "2", "3"]
    for job, rows in table.groupby("job"):
        own = pd.read_csv(multi / job / "claims.csv")
        own = own[own["lens"] == "verdict"]
        assert rows["verdict"].tolist() == own["verdict"].tolist()
    browser.get((multi / "sweep_report.html").resolve().as_uri())
    for cell in browser.find_elements(By.CSS_SELECTOR,
                                      "table[data-table=sweep_claims] td[data-job]"):
        mine = table[(table["job"] == cell.get_attribute("data-job"))
                     & (table["claim"] == cell.get_attribute("data-claim"))]
        assert cell.text == mine["verdict"].iloc[0]
    rows = browser.find_elements(By.CSS_SELECTOR, "table[data-table=sweep_claims] tbody tr")
    changes = {r.find_elements(By.TAG_NAME, "td")[0].text:
               r.find_elements(By.TAG_NAME, "td")[1].text for r in rows}
    expected = table.groupby("claim")["verdict"].nunique().gt(1).map({True: "yes",
                                                                      False: "no"})
    assert changes == expected.to_dict()


def test_a_failed_job_does_not_end_the_sweep(tmp_path):
    # a job that fails on the data (a cluster column the panel does not have), not on its
    # config's values (those are refused when the sweep is composed)
    proc = multirun(tmp_path, "model=none", "freq=baseline", "freq.cluster=unit,nonesuch",
                    f"hydra.sweep.dir={tmp_path / 'multi'}")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "multi" / "sweep_comparison.csv")
    status = table.drop_duplicates("job").set_index("job")["status"]
    assert status.loc[0] == "finished"
    assert status.loc[1].startswith("failed: the config asks for something the data")
    assert "freq.cluster='nonesuch'" in (tmp_path / "multi" / "1" / "error.txt").read_text()
    html = (tmp_path / "multi" / "sweep_report.html").read_text(encoding="utf-8")
    assert 'class="alert alert-error"' in html and "1 job(s) failed" in html


def test_comparison_can_be_rebuilt_and_sees_unfinished_jobs(sweep, tmp_path):
    multi, _ = sweep
    before = pd.read_csv(multi / "sweep_comparison.csv")
    (multi / "sweep_comparison.csv").unlink()
    assert compare_main([str(multi)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(multi / "sweep_comparison.csv"), before)
    (multi / "2" / "summary.txt").rename(multi / "2" / "summary.bak")
    try:
        status = sweep_table(multi).drop_duplicates("job").set_index("job")["status"]
        assert status.loc["2"] == "incomplete"
    finally:
        (multi / "2" / "summary.bak").rename(multi / "2" / "summary.txt")
    assert compare_main([str(tmp_path)]) == 2


def _fake_posterior(path, y, loc, seed, *, planted: int | None = None):
    """A posterior.nc with a Gaussian log-likelihood of ``y`` around ``loc`` (known closed form);
    ``planted``: one observation whose likelihood varies wildly across draws (a heavy-tailed
    importance ratio, which PSIS must flag)."""
    rng = np.random.default_rng(seed)
    mu = loc + rng.normal(0, 0.05, size=(2, 250, 1))
    ll = -0.5 * np.log(2 * np.pi) - 0.5 * (y[None, None, :] - mu) ** 2
    if planted is not None:
        ll[:, :, planted] = -0.5 * (8.0 - rng.normal(0, 2.5, size=(2, 250))) ** 2
    observed = xr.Dataset({"y": ("obs", y)}).assign_coords(
        obs_unit=("obs", np.array([f"city{i}" for i in range(y.size)])),
        obs_time=("obs", 2010 + np.arange(y.size) % 13))
    tree = xr.DataTree.from_dict({
        "posterior": xr.Dataset({"mu": (("chain", "draw"), mu[..., 0])}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), ll)}),
        "observed_data": observed,
    })
    tree.to_netcdf(path, engine="h5netcdf")
    return path


def test_loo_compares_only_jobs_fitted_to_the_same_observations(tmp_path):
    from bayes_resil.loo import loo_table

    rng = np.random.default_rng(3)
    y = rng.normal(0, 1, 200)
    other = y[:150]  # e.g. a model with controls: fewer complete rows
    jobs = [("a", "good", _fake_posterior(tmp_path / "a.nc", y, 0.0, 1)),
            ("b", "shifted", _fake_posterior(tmp_path / "b.nc", y, 1.0, 2)),
            ("c", "subset", _fake_posterior(tmp_path / "c.nc", other, 0.0, 3, planted=17))]
    table, influential = loo_table(jobs)
    table = table.set_index("job")
    # the planted observation is the one flagged, by its city-year
    assert influential["job"].tolist() == ["c"] and influential["obs"].tolist() == [17]
    assert influential[["unit", "time"]].iloc[0].tolist() == ["city17", 2010 + 17 % 13]
    assert table.loc["c", "n_k_bad"] == 1 and "worst city17 2014" in table.loc["c", "warning"]
    assert table.loc["a", "warning"] == table.loc["b", "warning"] == ""
    assert table.loc["a", "group"] == table.loc["b", "group"] != table.loc["c", "group"]
    # the model centred on the data's mean wins; closed form of the elpd difference for a
    # (nearly) fixed mean: sum of -0.5 * ((y - 1)^2 - y^2)
    assert table.loc["a", "rank"] == 0 and table.loc["b", "rank"] == 1
    expected = -0.5 * ((y - 1.0) ** 2 - y**2).sum()
    assert table.loc["b", "elpd_diff"] == pytest.approx(expected, rel=0.02)
    assert table.loc["a", "weight"] + table.loc["b", "weight"] == pytest.approx(1)
    assert table.loc["c", "rank"] == 0 and table.loc["c", "weight"] == 1
    assert table.loc["c", "n_obs"] == 150 and (table["n_draws"] == 500).all()
