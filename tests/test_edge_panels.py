"""Users' panels at the edges of the design, each through the CLI (``freq=full``): every block
either gives results that match an independent reference or is reported as not computed,
and one failing block never sinks the run (issue 12).

References: pyfixest ``feols`` (TWFE, event study), a dense-dummy least-squares imputation
and a dense-dummy lead regression with statsmodels' classical F test (the BJS pre-trend test,
which pyfixest 0.60's ``did2s`` cannot run on the second-period panel: it drops those units'
single untreated observation as a singleton and then fails)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm
from omegaconf import OmegaConf

from bayes_resil.freq.imputation import imputation
from bayes_resil.freq.suite import BLOCKS
from bayes_resil.study import load_study
from conftest import cli

FULL = list(BLOCKS)  # freq=full runs every block


def edge_panel(kind: str, seed: int = 3, n: int = 60) -> pd.DataFrame:
    """A staggered panel (units ``u0..``, periods 2001-2010, cohorts 2004 / 2006 / never coded
    0, effects growing with exposure, a control ``x1``) bent into the edge case ``kind``."""
    rng = np.random.default_rng(seed)
    years = list(range(2001, 2011))
    cohorts = {"second_period": [2002, 2005, 0], "first_period": [2001, 2005, 0],
               "no_never": [2004, 2006, 2009], "single_cohort": [2005, 0]}.get(
        kind, [2004, 2006, 0])
    coh = rng.choice(cohorts, size=n)
    if kind == "one_unit_cohort":
        coh[0] = 2008
    if kind == "gaps_time":
        years = [2001, 2003, 2005, 2007, 2009, 2011, 2013]
        coh = rng.choice([2004, 2009, 0], size=n)  # 2004: first seen treated in 2005
    a, g = rng.normal(size=n), rng.normal(size=len(years))
    rows = []
    for i in range(n):
        for j, t in enumerate(years):
            treated = coh[i] > 0 and t >= coh[i]
            x1 = rng.normal()
            y = (a[i] + g[j] + 0.3 * x1 + (0.5 + 0.1 * (t - coh[i]) if treated else 0.0)
                 + rng.normal(0, 0.5))
            rows.append((i + 100 if kind == "numeric_id" else f"u{i}", t, coh[i], y, x1))
    df = pd.DataFrame(rows, columns=["unit", "time", "cohort", "y", "x1"])
    if kind == "gaps_unbalanced":
        df = df.drop(index=rng.choice(len(df), len(df) // 8, replace=False))
    return df.reset_index(drop=True)


def run_panel(tmp_path, kind: str, *extra: str, df: pd.DataFrame | None = None):
    path = tmp_path / f"{kind}.csv"
    (edge_panel(kind) if df is None else df).to_csv(path, index=False)
    out = tmp_path / f"run_{kind}_{len(list(tmp_path.glob('run_*')))}"
    proc = cli(f"hydra.run.dir={out}", "data=file", f"data.path={path}",
               "data.columns.outcome=y", "data.columns.controls=[x1]", "freq=full", "model=none",
               *extra)
    return proc, out


def load(tmp_path, kind: str):
    path = tmp_path / f"{kind}.csv"
    edge_panel(kind).to_csv(path, index=False)
    return load_study(OmegaConf.create({
        "source": "file", "path": str(path), "never_treated": [0],
        "columns": {"unit": "unit", "time": "time", "cohort": "cohort", "outcome": "y",
                    "controls": ["x1"]}}), None)


def steps(out) -> pd.DataFrame:
    return pd.read_csv(out / "steps.csv")


def assert_every_block_ran(proc, out):
    assert proc.returncode == 0, proc.stderr[-2000:]
    s = steps(out)
    assert s["step"].tolist() == FULL
    assert (s["status"] == "ok").all(), s[s["status"] != "ok"].to_string()
    assert pd.read_csv(out / "skipped.csv").empty
    assert "Traceback" not in proc.stderr + proc.stdout


def twfe_reference(panel: pd.DataFrame) -> float:
    fit = pf.feols("y ~ d + x1 | unit + time", data=panel, vcov={"CRV1": "unit"})
    return float(fit.coef()["d"])


def dense_imputation(p: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Untreated outcome of every treated row from unit + period dummies and x1 fitted by
    least squares on the untreated rows; (tau, treated mask)."""
    X = np.column_stack([pd.get_dummies(p["unit"]).to_numpy(float),
                         pd.get_dummies(p["time"]).to_numpy(float)[:, 1:], p["x1"]])
    treated = p["d"].to_numpy() > 0
    b, *_ = np.linalg.lstsq(X[~treated], p["y"].to_numpy()[~treated], rcond=None)
    return (p["y"].to_numpy() - X @ b)[treated], treated


def test_cohort_treated_in_the_second_period_gives_every_estimator(tmp_path):
    """The issue's first bullet: the BJS pre-trend test used to end the run (exit 2) after
    every other block had succeeded. Now every block runs and the collinear lead is dropped."""
    proc, out = run_panel(tmp_path, "second_period")
    assert_every_block_ran(proc, out)
    est = pd.read_csv(out / "estimates.csv")
    methods = set(est["method"])
    assert {"twfe", "event_study", "placebo", "imputation", "sun_abraham",
            "callaway_santanna", "bacon", "honest_did"} <= methods
    assert "without ['lead_4']" in proc.stdout  # the note says which lead went
    wald = est[(est["estimand"] == "pretrend_wald") & (est["method"] == "imputation")].iloc[0]
    assert "dropped (collinear)" in wald["note"]


def test_bjs_pretrend_test_on_the_second_period_panel_matches_a_dense_regression(tmp_path):
    data = load(tmp_path, "second_period")
    kw = dict(level=0.95, vcov="iid", cluster="unit", drop_singletons=True, tag="t")
    rows, notes = imputation(data, {"pretrend_leads": 4}, ["x1"], **kw)
    got = {r.estimand: r for r in rows}
    p = data.panel.dropna(subset=["y", "x1"])
    tau, _ = dense_imputation(p)
    assert got["att"].estimate == pytest.approx(tau.mean(), rel=1e-9)
    # the lead regression: untreated rows, singleton units dropped, leads 1-3 (lead 4 spans the
    # 2005 cohort's untreated years with 1-3: collinear with its unit dummies)
    u = p[p["d"] == 0].copy()
    u = u[u.groupby("unit")["unit"].transform("size") > 1]
    e = u["time"] - u["cohort"].astype(float)
    leads = np.column_stack([(e == -k).fillna(False).to_numpy(float) for k in (1, 2, 3)])
    X = np.column_stack([leads, u["x1"], pd.get_dummies(u["unit"]).to_numpy(float),
                         pd.get_dummies(u["time"]).to_numpy(float)[:, 1:]])
    ref = sm.OLS(u["y"].to_numpy(), X).fit()
    f = ref.f_test(np.eye(X.shape[1])[:3])
    assert got["pretrend_wald"].extra["df1"] == 3
    assert got["pretrend_wald"].estimate == pytest.approx(float(f.fvalue), rel=1e-8)
    assert got["pretrend_wald"].p_value == pytest.approx(float(f.pvalue), rel=1e-6)
    assert any("lead_4" in n for n in notes)


def test_units_treated_from_the_first_period_are_excluded_with_a_note(tmp_path):
    proc, out = run_panel(tmp_path, "first_period")
    assert_every_block_ran(proc, out)
    assert "treated from the first period (2001) are excluded" in proc.stdout
    raw = edge_panel("first_period")
    kept = raw[raw["cohort"] != 2001].assign(d=lambda f: ((f["cohort"] > 0)
                                                          & (f["time"] >= f["cohort"])).astype(int))
    panel = pd.read_csv(out / "panel.csv")
    assert set(panel["unit"]) == set(kept["unit"])
    est = pd.read_csv(out / "estimates.csv").set_index(["method", "estimand"])
    assert est.loc[("twfe_controls", "att"), "estimate"] == pytest.approx(
        twfe_reference(kept), rel=1e-8)


def test_no_never_treated_units(tmp_path):
    proc, out = run_panel(tmp_path, "no_never")
    assert proc.returncode == 0, proc.stderr[-2000:]
    s = steps(out).set_index("step")
    # comparisons with never-treated units cannot be made: reported, with what to set
    assert s.loc["callaway_santanna", "status"] == "failed"
    assert "control=not_yet" in s.loc["callaway_santanna", "reason"]
    assert "NOT COMPUTED" in proc.stdout and "callaway_santanna" in proc.stdout
    assert (s.drop(["callaway_santanna", "honest_did"])["status"] == "ok").all()
    est = pd.read_csv(out / "estimates.csv")
    assert {"twfe", "imputation", "sun_abraham"} <= set(est["method"])  # the rest is written
    # with the not-yet-treated comparison every block runs
    proc, out = run_panel(tmp_path, "no_never", "freq.callaway_santanna.control=not_yet",
                          "freq.honest_did.control=not_yet")
    assert_every_block_ran(proc, out)
    # strict=true: the same failure exits 4, after writing everything
    proc, out = run_panel(tmp_path, "no_never", "strict=true", "freq.blocks=[baseline,"
                          "callaway_santanna]")
    assert proc.returncode == 4, proc.stderr[-2000:]
    assert (out / "estimates.csv").exists() and (out / "report.html").exists()
    assert "strict=true" in proc.stderr


@pytest.mark.parametrize("kind", ["single_cohort", "one_unit_cohort", "gaps_unbalanced"])
def test_single_cohort_one_unit_cohort_and_gaps(tmp_path, kind):
    proc, out = run_panel(tmp_path, kind)
    assert_every_block_ran(proc, out)
    raw = edge_panel(kind)
    raw["d"] = ((raw["cohort"] > 0) & (raw["time"] >= raw["cohort"])).astype(int)
    est = pd.read_csv(out / "estimates.csv").set_index(["method", "estimand"])
    assert est.loc[("twfe_controls", "att"), "estimate"] == pytest.approx(
        twfe_reference(raw), rel=1e-8)
    tau, treated = dense_imputation(raw)
    assert est.loc[("imputation", "att"), "estimate"] == pytest.approx(tau.mean(), rel=1e-8)
    if kind == "one_unit_cohort":
        cohort = raw.loc[treated, "cohort"].to_numpy()
        assert est.loc[("imputation", "att[cohort=2008]"), "estimate"] == pytest.approx(
            tau[cohort == 2008].mean(), rel=1e-8)


def test_non_consecutive_periods_are_renumbered(tmp_path):
    """Every other year (2001, 2003, ...): periods count, not years (R did#75); the event
    study equals pyfixest's on the renumbered periods."""
    proc, out = run_panel(tmp_path, "gaps_time")
    assert_every_block_ran(proc, out)
    assert "periods renumbered 1..7" in proc.stdout
    panel = pd.read_csv(out / "panel.csv")
    assert sorted(panel["time"].unique()) == list(range(1, 8))
    assert (panel["time_code"] == 2 * panel["time"] + 1999).all()
    # cohort 2004 (between observations) is first seen treated in 2005 = period 3
    raw = edge_panel("gaps_time")
    first = raw.drop_duplicates("unit").set_index("unit")["cohort"]
    got = panel.drop_duplicates("unit").set_index("unit")["cohort"]
    assert (got[first == 2004] == 3).all() and (got[first == 2009] == 5).all()
    ref = panel.assign(rel=(panel["time"] - panel["cohort"]).fillna(-1000).astype(int))
    fit = pf.feols("y ~ i(rel, ref=-1) + x1 | unit + time",
                   data=ref[(ref["rel"] >= -4) | (ref["rel"] == -1000)], vcov={"CRV1": "unit"})
    est = pd.read_csv(out / "estimates.csv")
    es = est[est["method"] == "event_study"].set_index("estimand")["estimate"]
    coef = fit.coef()
    for k in (0, 1, 2):
        name = next(c for c in coef.index if c.endswith(f"::{k}]") or f"rel::{k}" in c)
        assert es[f"event[{k}]"] == pytest.approx(float(coef[name]), rel=1e-6)


def test_numeric_unit_ids_give_the_same_estimates_as_string_ids(tmp_path):
    proc_n, out_n = run_panel(tmp_path, "numeric_id")
    assert_every_block_ran(proc_n, out_n)
    df = edge_panel("numeric_id")
    df["unit"] = "u" + (df["unit"] - 100).astype(str)
    proc_s, out_s = run_panel(tmp_path, "string_id", df=df)
    assert_every_block_ran(proc_s, out_s)
    a = pd.read_csv(out_n / "estimates.csv").set_index(["method", "estimand", "outcome"])
    b = pd.read_csv(out_s / "estimates.csv").set_index(["method", "estimand", "outcome"])
    # the placebo permutes units: its draws depend on their order, not on their names
    common = a.index.intersection(b.index).drop("placebo", level="method", errors="ignore")
    assert len(common) > 50
    np.testing.assert_allclose(a.loc[common, "estimate"], b.loc[common, "estimate"],
                               rtol=1e-9)


def test_cohort_that_changes_within_a_unit_is_refused_naming_it(tmp_path):
    df = edge_panel("default")
    df.loc[(df["unit"] == "u7") & (df["time"] == 2009), "cohort"] = 2008
    proc, _ = run_panel(tmp_path, "changing", df=df)
    assert proc.returncode == 2
    assert "unit 'u7'" in proc.stderr and "changes within 1 unit" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_quarter_codes_are_periods_and_give_the_same_estimates_as_whole_numbers(tmp_path):
    """``2001Q1``-style time and cohort codes (also dates, months): renumbered in time order;
    every estimate equals the same panel coded 2001, 2002, ... (consecutive whole numbers)."""
    df = edge_panel("default")
    quarter = {2001 + i: f"{2001 + i // 4}Q{i % 4 + 1}" for i in range(10)}
    q = df.assign(time=df["time"].map(quarter), cohort=df["cohort"].map(
        lambda c: quarter.get(c, 0)))
    proc_q, out_q = run_panel(tmp_path, "quarters", df=q)
    assert_every_block_ran(proc_q, out_q)
    assert "time codes are dates (2001Q1, 2001Q2" in proc_q.stdout
    proc_y, out_y = run_panel(tmp_path, "years", df=df)
    assert_every_block_ran(proc_y, out_y)
    a = pd.read_csv(out_q / "estimates.csv")
    b = pd.read_csv(out_y / "estimates.csv")
    key = ["method", "outcome"]
    # estimand names carry period numbers in one and years in the other: compare in order
    for (m, o), ga in a.groupby(key, sort=True):
        gb = b[(b["method"] == m) & (b["outcome"] == o)]
        np.testing.assert_allclose(ga["estimate"], gb["estimate"], rtol=1e-9, err_msg=m)
    panel = pd.read_csv(out_q / "panel.csv")
    assert panel.loc[panel["time"] == 5, "time_code"].unique().tolist() == ["2002Q1"]


def test_cluster_and_vcov_reach_callaway_santanna_and_the_sensitivity_through_the_cli(
        tmp_path):
    df = edge_panel("default")
    df["grp"] = "g" + (df["unit"].str[1:].astype(int) % 7).astype(str)  # whole units
    proc, out = run_panel(tmp_path, "clustered", "freq=staggered", "freq.cluster=grp",
                          df=df)
    assert proc.returncode == 0, proc.stderr[-2000:]
    est = pd.read_csv(out / "estimates.csv")
    cs = est[est["method"] == "callaway_santanna"]
    assert (cs["vcov"] == "influence function, clustered by grp").all()
    assert (cs["n_clusters"] == 7).all()
    proc, out = run_panel(tmp_path, "hc1", "freq=staggered", "freq.vcov=hc1", df=df)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "callaway_santanna: freq.vcov=hc1 does not apply" in proc.stdout
    assert "honest_did: freq.vcov=hc1 does not apply" in proc.stdout
