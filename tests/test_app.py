"""The command-line app end to end: outputs contract, user file, errors, help, packaging."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from bayes_resil.estimates import REQUIRED
from conftest import cli, make_user_panel

REPO = Path(__file__).resolve().parents[1]


def test_default_run_assesses_the_papers_claims_with_the_posterior(default_run):
    """claims.csv of the default run: the eight CBEC claims, the posterior lenses equal to
    probabilities computed from posterior.nc, every verdict the stated rule's."""
    import xarray as xr
    from test_claims import CBEC_IDS, rule_of

    out, proc = default_run
    table = pd.read_csv(out / "claims.csv")
    verdict = table[table["lens"] == "verdict"]
    assert verdict["claim"].tolist() == CBEC_IDS
    assert set(verdict["verdict"]) <= {"supported", "fragile", "not_supported",
                                       "contradicted", "not_assessed"}
    for cid, rows in table.groupby("claim"):
        assert rows["verdict"].iloc[-1] == rule_of(rows), cid
    post = xr.open_datatree(out / "posterior.nc", engine="h5netcdf")["posterior"]
    eff = post["effect"]
    east, west, central = (eff.sel(estimand=k).values.ravel()
                           for k in ("att[East]", "att[West]", "att[Central]"))
    p = table.query("claim == 'region_order' and lens == 'bayes:hetero_region'")["value"]
    assert p.iloc[0] == pytest.approx(np.mean((east > west) & (west > central)))
    p = table.query("claim == 'baseline_positive' and lens == 'bayes:hetero_region'")["value"]
    assert p.iloc[0] == pytest.approx(np.mean(post["att"].values > 0))
    # batch groups from the cell effects: cohorts 2015-16 vs 2018-19, equal weight per cell
    tau = post["tau"]
    cells = pd.DataFrame([k.split("|") for k in tau["effect_cell"].values],
                         columns=["unit", "time"])
    panel = pd.read_csv(out / "panel.csv")
    cohort = cells.merge(panel.astype({"unit": str, "time": str})[["unit", "time", "cohort"]],
                         on=["unit", "time"], how="left")["cohort"].to_numpy()
    t = tau.transpose("chain", "draw", "effect_cell").values.reshape(-1, len(cells))
    early = t[:, np.isin(cohort, [2015, 2016])].mean(1)
    late = t[:, np.isin(cohort, [2018, 2019])].mean(1)
    p = table.query("claim == 'batch_order' and lens == 'bayes:hetero_region'")["value"]
    assert p.iloc[0] == pytest.approx(np.mean(early > late))
    # the simulated truth is a column; summary.txt lists every verdict
    assert table["simulated_truth"].notna().any()
    summary = (out / "summary.txt").read_text()
    assert all(c in summary for c in CBEC_IDS)


def test_default_run_writes_the_contract(default_run):
    out, proc = default_run
    for name in ("panel.csv", "truth.csv", "index_weights.csv", "estimates.csv", "summary.txt",
                 ".hydra/config.yaml", "placebo_draws.csv", "tables/tables.md",
                 "tables/table4_iv.tex", "figures/event_study.png", "figures/placebo.svg",
                 "posterior.nc", "diagnostics.csv", "comparison.csv", "psense.csv",
                 "figures/forest.png"):
        assert (out / name).is_file(), name
    # every step ran, with its time; sampling progress went to app.log (no terminal)
    steps = pd.read_csv(out / "steps.csv")
    assert (steps["status"] == "ok").all()
    assert steps["step"].tolist()[-2:] == ["model=hetero_region", "claims"]
    assert pd.read_csv(out / "skipped.csv").empty
    app_log = (out / "app.log").read_text()
    assert "draws (" in app_log and "divergences" in app_log and "sampling finished" in app_log
    # the default model is the robust design, compared with the imputation estimator
    comp = pd.read_csv(out / "comparison.csv")
    assert (comp["ols_method"] == "imputation").all()
    assert set(comp["estimand"]) == {"att", "att[East]", "att[Central]", "att[West]"}
    est = pd.read_csv(out / "estimates.csv")
    assert set(REQUIRED) <= set(est.columns)
    panel = pd.read_csv(out / "panel.csv")
    assert list(panel.columns[:5]) == ["unit", "time", "cohort", "d", "y"]
    # the written TWFE row agrees with pyfixest run on the written panel (independent check)
    ref = pf.feols("y ~ d | unit + time", data=panel, vcov={"CRV1": "unit"})
    row = est.query("method == 'twfe' and estimand == 'att'").iloc[0]
    assert row["estimate"] == pytest.approx(float(ref.coef()["d"]), rel=1e-8)
    assert row["std_error"] == pytest.approx(float(ref.se()["d"]), rel=1e-6)
    assert row["n_obs"] == ref._N == 3677
    # simulated data say so everywhere a person looks
    summary = (out / "summary.txt").read_text()
    assert "SIMULATED" in summary and "SIMULATED" in proc.stdout
    assert (panel["data_source"] == "simulated").all()
    assert (est["data_source"] == "simulated").all()
    assert {"bayes_hetero_region", "twfe_interaction", "imputation"} <= set(est["method"])
    # the smoke sampler cannot pass the thresholds: the summary says so where nobody misses it
    assert summary.splitlines()[3].startswith("!!! WARNING: MCMC diagnostics FAILED")
    for name in ("truth.csv", "index_weights.csv"):
        assert (pd.read_csv(out / name)["data_source"] == "simulated").all()
    assert not list(out.glob(".*.tmp"))  # no temp files left behind


def run_user_panel(tmp_path, name: str, *overrides: str):
    """Write the non-study user panel to ``name`` and run the CLI on it with the column map."""
    df = make_user_panel()
    path = tmp_path / name
    df.to_csv(path, index=False)
    out = tmp_path / "run"
    proc = cli(f"hydra.run.dir={out}", "data=file", f"data.path='{path}'",
               "data.columns.unit=firm", "data.columns.time=year",
               "data.columns.cohort=first_treat", "data.columns.outcome=sales",
               "data.columns.controls=[x1,x2]", *overrides)
    return df, out, proc


def test_user_csv_run_with_column_map(tmp_path):
    df, out, proc = run_user_panel(tmp_path, "my panel.csv", "freq=baseline",
                                   "model=hetero_batch", "sampler=smoke")
    assert proc.returncode == 0, proc.stderr
    assert "SIMULATED" not in proc.stdout
    est = pd.read_csv(out / "estimates.csv").set_index(["method", "estimand"])
    df["d"] = ((df["first_treat"] > 0) & (df["year"] >= df["first_treat"])).astype(int)
    ref = pf.feols("sales ~ d + x1 + x2 | firm + year", data=df, vcov={"CRV1": "firm"})
    assert est.loc[("twfe_controls", "att"), "estimate"] == pytest.approx(
        float(ref.coef()["d"]), rel=1e-8)
    assert est.loc[("twfe_controls", "att"), "n_obs"] == ref._N
    assert not (out / "truth.csv").exists()
    # the Bayesian cohort model ran on the user's cohorts (2004, 2006)
    assert {"att[cohort=2004]", "att[cohort=2006]"} <= set(
        est.loc["bayes_hetero_batch"].index)


def test_paper_suite_on_a_user_panel_skips_what_is_missing(tmp_path):
    _, out, proc = run_user_panel(tmp_path, "p.csv", "freq=paper",
                                  "freq.placebo.permutations=50",
                                  "freq.event_study.window=[-3,3]", "model=none")
    assert proc.returncode == 0, proc.stderr
    est = pd.read_csv(out / "estimates.csv")
    assert {"twfe", "twfe_controls", "event_study", "placebo", "robust_winsorize"} <= set(
        est["method"])
    summary = (out / "summary.txt").read_text()
    for reason in ("robust_drop_capitals: no column", "iv: no instrument column",
                   "heterogeneity by region: no column", "mediation: mediator column(s)"):
        assert reason in summary, reason
    assert (out / "figures" / "event_study.png").is_file()
    assert (out / "tables" / "table2_baseline.md").is_file()
    assert "[published]" not in (out / "tables" / "table2_baseline.md").read_text()
    # the user panel's report: not simulated, no published numbers, the skipped blocks said
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "SIMULATED" not in report and "[published]" not in report
    assert "Skipped: iv: no instrument column" in report and "Index weights" not in report


def test_staggered_suite_on_a_user_panel(tmp_path):
    _, out, proc = run_user_panel(tmp_path, "p.csv", "freq=staggered", "model=none")
    assert proc.returncode == 0, proc.stderr
    est = pd.read_csv(out / "estimates.csv")
    assert {"bacon", "twfe_weights", "imputation", "sun_abraham", "callaway_santanna",
            "honest_did"} <= set(est["method"])
    for name in ("bacon.csv", "twfe_weights.csv", "honest_did.csv", "figures/bacon.png",
                 "figures/event_estimators.png", "figures/honest_did.png",
                 "tables/event_time_estimators.md"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "tables" / "event_time_estimators.csv")
    cs = est[(est["method"] == "callaway_santanna") & (est["estimand"] == "event[0]")]
    row = table[table["event_time"] == 0].iloc[0]
    assert row["callaway_santanna_estimate"] == pytest.approx(cs["estimate"].iloc[0])


def test_bad_input_exits_2_with_a_message_not_a_traceback(tmp_path):
    df = make_user_panel()
    path = tmp_path / "p.csv"
    df.to_csv(path, index=False)
    proc = cli(f"hydra.run.dir={tmp_path / 'r'}", "data=file", f"data.path={path}",
               "data.columns.unit=city", "model=none")
    assert proc.returncode == 2
    assert "data.columns.unit = 'city'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_strict_sampler_exits_non_zero_after_writing_everything(tmp_path):
    out = tmp_path / "run"
    proc = cli(f"hydra.run.dir={out}", "model=twfe", "model.design=twfe", "freq=baseline",
               "sampler=smoke", "sampler.tune=5", "sampler.draws=30", "sampler.strict=true")
    assert proc.returncode == 3, proc.stderr
    assert "diagnostics failed" in proc.stderr
    assert (out / "posterior.nc").is_file() and (out / "summary.txt").is_file()


def test_runs_never_share_a_directory_and_never_overwrite(tmp_path):
    a = cli("model=none", "freq=baseline", cwd=tmp_path)
    b = cli("model=none", "freq=baseline", cwd=tmp_path)
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    runs = sorted(p.parent for p in tmp_path.glob("outputs/*/*/estimates.csv"))
    assert len(runs) == 2 and runs[0] != runs[1]
    # the same config into a finished run's directory is that run; another config is refused
    same = cli(f"hydra.run.dir={runs[0]}", "model=none", "freq=baseline", cwd=tmp_path)
    assert same.returncode == 0 and "already holds this run" in same.stdout + same.stderr
    other = cli(f"hydra.run.dir={runs[0]}", "model=none", "freq=baseline", "ci_level=0.9",
                cwd=tmp_path)
    assert other.returncode == 2 and "refusing to overwrite" in other.stderr


def test_help_lists_the_config_groups():
    proc = cli("--help")
    assert proc.returncode == 0
    for group in ("data:", "index:", "model:", "prior:", "sampler:", "freq:"):
        assert group in proc.stdout, group
    assert "file, linear, simulated" in proc.stdout


def test_wheel_ships_configs_and_design_data(tmp_path):
    """Build the wheel from a clean copy of the tree and run the app from it."""
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    clean = tmp_path / "tree"
    for rel in tracked:  # no stale build/ directory can leak files into the wheel
        if (REPO / rel).is_file():
            (clean / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, clean / rel)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(tmp_path / "dist"), str(clean)], capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("bayes_resil-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("bayes_resil/conf/config.yaml", "bayes_resil/conf/data/simulated.yaml",
                   "bayes_resil/design_data/prefecture_units_2010_2022.csv",
                   "bayes_resil/design_data/published_tables.yaml",
                   "bayes_resil/design_data/claims_cbec.yaml",
                   "bayes_resil/conf/hydra/launcher/joblib.yaml",
                   "bayes_resil/conf/hydra/launcher/submitit_slurm.yaml"):
        assert needed in names, needed
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {"PYTHONPATH": str(site)}
    # every module must come from the wheel, not from the source tree
    code = ("import importlib, pkgutil, bayes_resil\n"
            "for m in pkgutil.walk_packages(bayes_resil.__path__, 'bayes_resil.'):\n"
            "    print(m.name, importlib.import_module(m.name).__file__)")
    where = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                           text=True, env={**os.environ, **env})
    assert where.returncode == 0, where.stderr
    found = dict(line.split() for line in where.stdout.splitlines())
    src = REPO / "src"
    expected = {".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
                for p in (src / "bayes_resil").rglob("*.py")}
    expected = expected - {"bayes_resil"} | {"bayes_resil.conf"}
    assert set(found) == expected
    assert all(f.startswith(str(site)) for f in found.values()), found
    # (every module, the Bayesian ones included, was imported from the wheel above)
    proc = cli(f"hydra.run.dir={tmp_path / 'run'}", "model=none", "freq=baseline", cwd=tmp_path,
               env=env)
    assert proc.returncode == 0, proc.stderr
    assert np.isfinite(pd.read_csv(tmp_path / "run" / "estimates.csv")["estimate"]).all()
